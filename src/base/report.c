#include "sekisho/report.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sekisho/error.h"

struct text3 {
	const char *code, *ja, *en;
};

static const struct text3 verdicts[] = {
	[SK_VERDICT_CLEAN] = {"clean", "問題なし", "clean"},
	[SK_VERDICT_SANITIZED] = {"sanitized", "無害化済み", "sanitized"},
	[SK_VERDICT_BLOCKED] = {"blocked", "遮断", "blocked"},
};

static const struct text3 reasons[SK_REASON__COUNT] = {
	[SK_REASON_NONE] = {"", "", ""},
	[SK_REASON_ENCRYPTED] = {"encrypted", "暗号化されていて中身を検査できません",
				 "encrypted; the content cannot be inspected"},
	[SK_REASON_EXECUTABLE] = {"executable", "実行形式・スクリプト・ショートカット等は受け付けません",
				  "executable, script, shortcut or disk image"},
	[SK_REASON_UNKNOWN_TYPE] = {"unknown-type", "許可されていない形式です",
				    "type not on the allow-list"},
	[SK_REASON_MALFORMED] = {"malformed", "ファイルが壊れているか形式が不正です",
				 "malformed or damaged file"},
	[SK_REASON_LIMIT_DEPTH] = {"limit-depth", "入れ子が深すぎます", "nesting too deep"},
	[SK_REASON_LIMIT_SIZE] = {"limit-size", "サイズの上限を超えました", "size limit exceeded"},
	[SK_REASON_LIMIT_ENTRIES] = {"limit-entries", "アーカイブ内のファイル数が上限を超えました",
				     "too many entries"},
	[SK_REASON_LIMIT_RATIO] = {"limit-ratio", "圧縮率が異常です (圧縮爆弾の疑い)",
				   "compression ratio too high (possible bomb)"},
	[SK_REASON_LIMIT_PIXELS] = {"limit-pixels", "画像の画素数が上限を超えました",
				    "image pixel limit exceeded"},
	[SK_REASON_UNSAFE_NAME] = {"unsafe-name", "ファイル名が不正です", "unsafe file name"},
	[SK_REASON_MALWARE] = {"malware", "マルウェアを検出しました", "malware found"},
	[SK_REASON_SCAN_UNAVAILABLE] = {"scan-unavailable", "ウイルス検査を実行できませんでした",
					"malware scanner unavailable"},
	[SK_REASON_UNSUPPORTED_LEGACY_OFFICE] = {"unsupported-legacy-office",
						 "旧形式の Office 文書 (doc/xls/ppt) は未対応です",
						 "legacy Office format (doc/xls/ppt) not supported yet"},
	[SK_REASON_UNSUPPORTED_RTF] = {"unsupported-rtf", "RTF 文書は未対応です",
				       "RTF not supported yet"},
	[SK_REASON_UNSUPPORTED_ODF] = {"unsupported-odf", "ODF 文書 (odt/ods/odp) は未対応です",
				       "ODF not supported yet"},
	[SK_REASON_INTERNAL] = {"internal-error", "内部エラーのため遮断しました",
				"blocked after an internal error"},
	[SK_REASON_POLICY_DENY] = {"policy-deny", "ポリシーでこの通信経路は許可されていません",
				   "the policy does not allow this route"},
	[SK_REASON_HELD] = {"held", "承認待ちのため保留しました (承認されるまで配送しません)",
			    "held for approval (not delivered until approved)"},
	[SK_REASON_DLP] = {"dlp", "個人番号などの情報が含まれているため遮断しました",
			   "blocked: the content holds protected numbers or patterns"},
	[SK_REASON_LIMIT_TIME] = {"limit-time", "処理時間の上限を超えました",
				  "processing time limit exceeded"},
	[SK_REASON_LIMIT_NODES] = {"limit-nodes", "文書の要素数 (XML/HTML) が上限を超えました",
				   "too many XML/HTML nodes"},
	[SK_REASON_WORKER_CRASH] = {"worker-crash", "検査プロセスが異常終了したため遮断しました",
				    "blocked: the sandboxed worker failed"},
	[SK_REASON_INTERRUPTED] = {"interrupted", "処理が中断されたため遮断しました (原本は隔離済み)",
				   "blocked: processing was interrupted (original kept)"},
	[SK_REASON_LIMIT_PAGES] = {"limit-pages", "ページ数が画像化の上限を超えました",
				   "too many pages to render (画像化)"},
};

static const struct text3 actions[SK_ACTION__COUNT] = {
	[SK_ACTION_REMOVED] = {"removed", "削除", "removed"},
	[SK_ACTION_CONVERTED] = {"converted", "変換", "converted"},
	[SK_ACTION_NEUTRALIZED] = {"neutralized", "無効化", "neutralized"},
	[SK_ACTION_RENAMED] = {"renamed", "名前を変更", "renamed"},
	[SK_ACTION_REPAIRED] = {"repaired", "修復", "repaired"},
	[SK_ACTION_NOTED] = {"noted", "注意", "noted"},
};

/* `what` codes used by the modules. Add a line when a module adds a code. */
static const struct text3 whats[] = {
	{"control-characters", "制御文字", "control characters"},
	{"formula", "数式・DDE で始まるセル", "formula or DDE cells"},
	{"exif", "EXIF 情報", "EXIF metadata"},
	{"xmp", "XMP メタデータ", "XMP metadata"},
	{"icc-profile", "ICC プロファイル", "ICC profile"},
	{"comment", "コメント", "comments"},
	{"metadata", "メタデータ", "metadata"},
	{"text-chunk", "テキスト情報", "text chunks"},
	{"trailing-data", "末尾の余分なデータ", "data after the end of the image"},
	{"ancillary-data", "付加情報", "ancillary data"},
	{"entry", "アーカイブ内のファイル", "archive entry"},
	{"entry-name", "ファイル名", "entry name"},
	{"name-mismatch", "拡張子と内容の不一致", "name does not match content"},
	{"encoding", "文字コード", "character encoding"},
	{"macro", "マクロ (VBA)", "macros (VBA)"},
	{"activex", "ActiveX コントロール", "ActiveX controls"},
	{"ole-object", "埋め込みオブジェクト (OLE)", "embedded OLE objects"},
	{"custom-ui", "カスタム UI", "custom UI"},
	{"external-relationship", "外部参照", "external references"},
	{"attached-template", "添付テンプレート", "attached template"},
	{"dde", "DDE フィールド", "DDE fields"},
	{"external-link", "外部リンク", "external links"},
	{"data-connection", "データ接続", "data connections"},
	{"macro-sheet", "マクロシート (Excel 4)", "Excel 4 macro sheets"},
	{"document-properties", "文書プロパティ (作成者など)", "document properties (author …)"},
	{"content-types", "コンテンツタイプ", "content types"},
	{"relationship", "不正な関連付け", "dangling relationships"},
	{"javascript", "JavaScript", "JavaScript"},
	{"open-action", "開いた時の動作", "open action"},
	{"additional-action", "自動実行の動作", "additional actions"},
	{"launch", "外部プログラムの起動", "launch actions"},
	{"remote-goto", "外部文書へのジャンプ", "remote go-to actions"},
	{"submit-form", "フォーム送信", "form submission"},
	{"import-data", "データ取り込み", "data import"},
	{"rich-media", "リッチメディア", "rich media"},
	{"embedded-file", "添付ファイル", "embedded files"},
	{"file-attachment", "添付ファイル注釈", "file attachment annotations"},
	{"xfa", "XFA フォーム", "XFA forms"},
	{"uri", "リンク", "links"},
	{"link-mismatch", "表示と異なるリンク先", "links going elsewhere than their text shows"},
	{"lookalike-domain", "自組織のドメインに似せたドメイン", "look-alikes of the organisation's domains"},
	{"auth-fail", "送信ドメイン認証の失敗 (SPF・DKIM・DMARC)", "sender authentication failed (SPF, DKIM, DMARC)"},
	{"encryption", "暗号化 (所有者パスワード)", "encryption (owner password)"},
	{"file-type", "ファイル形式", "file type"},
	{"image", "画像化 (ページを画像と OCR の文字に)", "画像化 (pages made into images and OCR text)"},
	{"mynumber", "個人番号 (マイナンバー)", "My Number (individual number)"},
	{"corporate-number", "法人番号", "corporate number"},
	{"dlp-pattern", "独自の検出パターン", "custom DLP pattern"},
	{"dlp-unscanned", "DLP で検査できない内容", "content DLP cannot read"},
	{"asset-marking", "情報資産の表示 (資産番号)", "information asset marking (asset ID)"},
	{"asset", "情報資産の分類 (台帳)", "information asset's class (ledger)"},
	{"structure", "ファイル構造 (相互参照表など)", "file structure (cross-reference table …)"},
	{"action", "その他の動作 (未知・外部の操作)", "other actions (unknown or viewer commands)"},
	{"part", "文書内の部品 (許可されていない・壊れている・参照されていない)",
	 "document part (not allowed, damaged or unreferenced)"},
	{"revision", "変更履歴", "tracked changes"},
	{"attachment", "添付ファイル", "attachment"},
	{"body-format", "本文の書式 (HTML・RTF)", "body formatting (HTML, RTF)"},
	{"body", "本文", "body"},
};

bool sk_reason_is_fatal(sk_reason r)
{
	switch (r) {
	case SK_REASON_ENCRYPTED:
	case SK_REASON_LIMIT_DEPTH:
	case SK_REASON_LIMIT_SIZE:
	case SK_REASON_LIMIT_ENTRIES:
	case SK_REASON_LIMIT_RATIO:
	case SK_REASON_LIMIT_PIXELS:
	case SK_REASON_LIMIT_TIME:
	case SK_REASON_LIMIT_NODES:
	case SK_REASON_LIMIT_PAGES:
	case SK_REASON_WORKER_CRASH:
	case SK_REASON_INTERRUPTED:
	case SK_REASON_MALWARE:
	case SK_REASON_SCAN_UNAVAILABLE:
	case SK_REASON_INTERNAL:
		return true;
	default:
		return false;
	}
}

static const char *pick(const struct text3 *t, sk_lang lang)
{
	return lang == SK_LANG_EN ? t->en : t->ja;
}

const char *sk_verdict_code(sk_verdict v)
{
	return (unsigned)v <= SK_VERDICT_BLOCKED ? verdicts[v].code : "?";
}

const char *sk_verdict_text(sk_verdict v, sk_lang lang)
{
	return (unsigned)v <= SK_VERDICT_BLOCKED ? pick(&verdicts[v], lang) : "?";
}

const char *sk_reason_code(sk_reason r)
{
	return (unsigned)r < SK_REASON__COUNT ? reasons[r].code : "?";
}

const char *sk_reason_text(sk_reason r, sk_lang lang)
{
	return (unsigned)r < SK_REASON__COUNT ? pick(&reasons[r], lang) : "?";
}

sk_reason sk_reason_from_code(const char *s)
{
	for (int i = 1; s && i < SK_REASON__COUNT; i++)
		if (!strcmp(reasons[i].code, s))
			return (sk_reason)i;
	return SK_REASON_NONE;
}

const char *sk_action_code(sk_action a)
{
	return (unsigned)a < SK_ACTION__COUNT ? actions[a].code : "?";
}

const char *sk_action_text(sk_action a, sk_lang lang)
{
	return (unsigned)a < SK_ACTION__COUNT ? pick(&actions[a], lang) : "?";
}

const char *sk_what_text(const char *what, sk_lang lang)
{
	for (size_t i = 0; i < sizeof(whats) / sizeof(whats[0]); i++)
		if (strcmp(whats[i].code, what) == 0)
			return pick(&whats[i], lang);
	return what;
}

sk_lang sk_lang_from_string(const char *s)
{
	if (!s || !*s)
		return SK_LANG_JA;
	if (strncasecmp(s, "ja", 2) == 0)
		return SK_LANG_JA;
	if (strcmp(s, "C") == 0 || strcmp(s, "POSIX") == 0 || strncasecmp(s, "en", 2) == 0 ||
	    strncasecmp(s, "C.", 2) == 0)
		return SK_LANG_EN;
	return SK_LANG_JA;
}

void sk_report_init(sk_report *r)
{
	memset(r, 0, sizeof(*r));
}

static void entry_free(sk_report_entry *e)
{
	free(e->what);
	free(e->where);
	free(e->detail);
}

void sk_report_free(sk_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		entry_free(&r->v[i]);
	free(r->v);
	free(r->reason_where);
	free(r->reason_detail);
	memset(r, 0, sizeof(*r));
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int sk_report_add(sk_report *r, sk_action a, const char *what, const char *where,
		  const char *detail, uint64_t count)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		sk_report_entry *v = realloc(r->v, cap * sizeof(*v));
		if (!v)
			return SK_ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	sk_report_entry *e = &r->v[r->n];
	e->action = a;
	e->what = strdup(what ? what : "");
	e->where = strdup(where ? where : "");
	e->detail = dup_or_null(detail);
	e->count = count ? count : 1;
	if (!e->what || !e->where || (detail && !e->detail)) {
		entry_free(e);
		return SK_ENOMEM;
	}
	r->n++;
	return 0;
}

void sk_report_truncate(sk_report *r, size_t n)
{
	while (r->n > n)
		entry_free(&r->v[--r->n]);
}

int sk_report_block(sk_report *r, sk_reason reason, const char *where, const char *detail)
{
	if (r->verdict == SK_VERDICT_BLOCKED)
		return 0;
	r->verdict = SK_VERDICT_BLOCKED;
	r->reason = reason ? reason : SK_REASON_INTERNAL;
	r->reason_where = dup_or_null(where && *where ? where : NULL);
	r->reason_detail = dup_or_null(detail && *detail ? detail : NULL);
	return 0;
}

bool sk_report_modified(const sk_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].action != SK_ACTION_NOTED)
			return true;
	return false;
}

void sk_report_finish(sk_report *r)
{
	if (r->verdict == SK_VERDICT_BLOCKED)
		return;
	r->verdict = sk_report_modified(r) ? SK_VERDICT_SANITIZED : SK_VERDICT_CLEAN;
}
