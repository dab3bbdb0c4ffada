/* sekisho — command entry: parses the sub-command and calls the library. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* --lang anywhere on the command line (found before the options are parsed, so that help
 * and usage errors met first are in that language too) */
static const char *lang_arg;

static bool lang_ok(const char *opt)
{
	return opt && (!strncmp(opt, "ja", 2) || !strncmp(opt, "en", 2));
}

sk_lang cli_lang(const char *opt)
{
	/* --lang ja|en; anything else is refused by the commands, in the environment's
	 * language */
	if (lang_ok(opt))
		return sk_lang_from_string(opt);
	if (!opt && lang_ok(lang_arg))
		return sk_lang_from_string(lang_arg);
	const char *vars[] = {"LC_ALL", "LC_MESSAGES", "LANG"};
	for (size_t i = 0; i < 3; i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return sk_lang_from_string(v);
	}
	return SK_LANG_JA;
}

void cli_err(sk_lang lang, const char *ja, const char *en, const char *arg)
{
	fprintf(stderr, "sekisho: %s%s%s\n", lang == SK_LANG_EN ? en : ja, arg ? ": " : "",
		arg ? arg : "");
}

/* The kind of a library failure in Japanese: from its errno when it has one, else from
 * its code. */
static const char *why_ja(const sk_error *e)
{
	switch (e->sys) {
	case 0: break;
	case ENOENT: return "ファイルまたはフォルダがありません";
	case EACCES:
	case EPERM: return "権限がありません";
	case ENOSPC: return "ディスクの空きがありません";
	case EDQUOT: return "ディスクの割り当て量を超えました";
	case EROFS: return "読み取り専用のファイルシステムです";
	case EEXIST: return "既にあります";
	case ENOTDIR: return "フォルダではありません";
	case EISDIR: return "フォルダです";
	case ENAMETOOLONG: return "名前が長すぎます";
	case EMFILE:
	case ENFILE: return "開いているファイルが多すぎます";
	case ENOMEM: return "メモリが足りません";
	case ECONNREFUSED: return "接続を拒否されました";
	case ETIMEDOUT: return "時間切れです";
	case EBUSY: return "使用中です";
	case ELOOP: return "シンボリックリンクの階層が深すぎます";
	default: return "システムのエラーです";
	}
	switch (e->code) {
	case SK_EINVAL: return "受け付けられません";
	case SK_ENOMEM: return "メモリが足りません";
	case SK_EIO: return "読み書きに失敗しました";
	case SK_ELIMIT: return "上限を超えました";
	case SK_EFORMAT: return "形式が正しくありません";
	case SK_EBLOCKED: return "遮断されました";
	case SK_ENOTFOUND: return "見つかりません";
	case SK_ELOCKED: return "失敗が続いたため一時的に止めています";
	case SK_ECONFLICT: return "他の操作と重なりました。もう一度実行してください";
	default: return "内部のエラーです";
	}
}

/* Some library messages are written for people in Japanese (or in both languages, "… /
 * …"): those are shown as they are. A Japanese sentence ends in one of these. */
static bool says_japanese(const char *msg)
{
	static const char *const ends[] = {"ません", "です", "ます", "ください", "ない"};
	for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++)
		if (strstr(msg, ends[i]))
			return true;
	return false;
}

void cli_fail(sk_lang lang, const char *ja, const char *en, const char *arg, const sk_error *e)
{
	bool detail = e && (e->code || e->msg[0]);
	if (detail && lang != SK_LANG_EN && says_japanese(e->msg)) {
		fprintf(stderr, "sekisho: %s%s%s: %s\n", ja, arg ? ": " : "", arg ? arg : "", e->msg);
		return;
	}
	if (lang == SK_LANG_EN)
		fprintf(stderr, "sekisho: %s%s%s%s%s\n", en, arg ? ": " : "", arg ? arg : "",
			detail && e->msg[0] ? ": " : "", detail ? e->msg : "");
	else
		fprintf(stderr, "sekisho: %s%s%s%s%s%s\n", ja, arg ? ": " : "", arg ? arg : "",
			detail ? ": " : "", detail ? why_ja(e) : "",
			detail && e->msg[0] ? " (詳細は --lang en で表示します)" : "");
}

static void usage(FILE *f, sk_lang lang)
{
	if (lang == SK_LANG_EN)
		fputs("usage: sekisho COMMAND [OPTIONS]\n"
		      "commands:\n"
		      "  sanitize [-o OUTDIR] [--json] [--profile NAME] [--lang ja|en] PATH...\n"
		      "      disarm and rebuild files (folders recursively)\n"
		      "      --state DIR: keep originals in quarantine and audit each decision\n"
		      "      --clamd SOCKET: scan every item with clamd first\n"
		      "      --policy FILE --from ZONE --to ZONE [--channel file] [--class LEVEL]: apply a flow\n"
		      "  quarantine list|show|request|approve|refuse|release|purge|unlock [--state DIR]\n"
		      "      originals kept aside; release needs the approval of other users\n"
		      "      (--by USER: a console user; rights from the roles of --policy FILE)\n"
		      "  audit append|list|verify|proof|checkpoint|key [--state DIR]\n"
		      "      the tamper-evident audit log\n"
		      "  policy check|explain|nft FILE ...   validate, explain a decision, firewall rules\n"
		      "  dlp scan [--policy FILE] FILE...     find My Numbers, corporate numbers, patterns\n"
		      "  mail [--profile P] [--state DIR] < in.eml > out.eml   make a mail text-only\n"
		      "  milter --socket unix:PATH|inet:PORT@127.0.0.1 [--state DIR]   the same for Postfix\n"
		      "  user add|list|disable|enable|reset-totp|passwd --state DIR [--policy FILE]\n"
		      "      console users (password + TOTP)\n"
		      "  ledger list|show|add|update|fields|export|import NAME --policy FILE [--state DIR]\n"
		      "      the ledgers: assets, incidents, exceptions, training, entries, contractors,\n"
		      "      inspections, laws (Excel export, Excel CSV import)\n"
		      "  report --year FY --policy FILE [--state DIR] -o FILE.xlsx [--pdf FILE.pdf]\n"
		      "      the yearly report for the information security committee (Excel, PDF)\n",
		      f);
	else
		fputs("使い方: sekisho コマンド [オプション]\n"
		      "コマンド:\n"
		      "  sanitize [-o 出力先] [--json] [--profile 名前] [--lang ja|en] パス...\n"
		      "      ファイルを無害化して再構成します (フォルダは再帰的に処理)\n"
		      "      --state フォルダ: 原本を隔離保管し、判定を監査ログに記録\n"
		      "      --clamd ソケット: 各ファイルを先に clamd で検査\n"
		      "      --policy ファイル --from ゾーン --to ゾーン [--channel file] [--class レベル]: 通信規則を適用\n"
		      "  quarantine list|show|request|approve|refuse|release|purge|unlock [--state フォルダ]\n"
		      "      隔離した原本 (取り出しには申請者以外の承認が必要。--by 利用者は画面の利用者、\n"
		      "      権限は --policy ファイルの役割から)\n"
		      "  audit append|list|verify|proof|checkpoint|key [--state フォルダ]\n"
		      "      改ざん検知付きの監査ログ\n"
		      "  policy check|explain|nft ファイル ...  ポリシーの検証・判定の説明・ファイアウォール規則\n"
		      "  dlp scan [--policy ファイル] ファイル...  個人番号・法人番号・独自パターンの検出\n"
		      "  mail [--profile P] [--state フォルダ] < 入力.eml > 出力.eml   メールをテキスト化して無害化\n"
		      "  milter --socket unix:パス|inet:ポート@127.0.0.1 [--state フォルダ]   Postfix 用 milter\n"
		      "  user add|list|disable|enable|reset-totp|passwd --state フォルダ [--policy ファイル]\n"
		      "      画面の利用者 (パスワード + TOTP)\n"
		      "  ledger list|show|add|update|fields|export|import 台帳 --policy ファイル [--state フォルダ]\n"
		      "      台帳: 情報資産・事故・例外措置・研修・入退室・外部委託・点検・法規制等\n"
		      "      (Excel への書き出し、Excel の CSV の取り込み)\n"
		      "  report --year 年度 --policy ファイル [--state フォルダ] -o ファイル.xlsx [--pdf ファイル.pdf]\n"
		      "      情報セキュリティ委員会への年次報告 (Excel・PDF)\n",
		      f);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--lang") && i + 1 < argc)
			lang_arg = argv[i + 1];
		else if (!strncmp(argv[i], "--lang=", 7))
			lang_arg = argv[i] + 7;
	}
	sk_lang lang = cli_lang(NULL);
	if (argc < 2) {
		usage(stderr, lang);
		return 2;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "sanitize"))
		return cmd_sanitize(argc - 1, argv + 1);
	if (!strcmp(cmd, "quarantine"))
		return cmd_quarantine(argc - 1, argv + 1);
	if (!strcmp(cmd, "audit"))
		return cmd_audit(argc - 1, argv + 1);
	if (!strcmp(cmd, "policy"))
		return cmd_policy(argc - 1, argv + 1);
	if (!strcmp(cmd, "dlp"))
		return cmd_dlp(argc - 1, argv + 1);
	if (!strcmp(cmd, "mail"))
		return cmd_mail(argc - 1, argv + 1);
	if (!strcmp(cmd, "milter"))
		return cmd_milter(argc - 1, argv + 1);
	if (!strcmp(cmd, "user"))
		return cmd_user(argc - 1, argv + 1);
	if (!strcmp(cmd, "ledger"))
		return cmd_ledger(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout, lang);
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		puts("sekisho 0.1.0");
		return 0;
	}
	cli_err(lang, "不明なコマンドです", "unknown command", cmd);
	usage(stderr, lang);
	return 2;
}
