/* The ledgers' tables: fields, types, choices (see ledger.h). */
#include "ledger_int.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define CH(a) a, N(a)

const char *const sk_ledger_ledger_names[8] = {
	"assets", "incidents", "exceptions", "training", "entries", "contractors", "inspections", "laws",
};

const char *const sk_ledger_meta_headers[LMETA_COUNT][2] = {
	{"ID", "ID"},         {"版", "Version"},          {"登録日時", "Created"},
	{"登録者", "Created by"}, {"更新日時", "Updated"}, {"更新者", "Updated by"},
};

static const sk_ledger_choice asset_kinds[] = {
	{"information", "情報", "information"}, {"system", "システム", "system"},
	{"device", "機器", "device"},           {"media", "記録媒体", "media"},
	{"document", "文書", "document"},
};
static const sk_ledger_choice severities[] = {
	{"high", "高", "high"}, {"medium", "中", "medium"}, {"low", "低", "low"},
};
static const sk_ledger_choice open_closed[] = {
	{"open", "対応中", "open"}, {"closed", "完了", "closed"},
};
static const sk_ledger_choice courses[] = {
	{"new-employee", "新規採用職員研修", "new-employee"},
	{"awareness", "情報セキュリティ研修 (全職員)", "awareness"},
	{"system-operation", "システム運用研修", "system-operation"},
	{"internal-auditor", "内部監査員研修", "internal-auditor"},
	{"ad-hoc", "随時研修", "ad-hoc"},
};
static const sk_ledger_choice measures[] = {
	{"survey", "アンケート", "survey"}, {"test", "テスト", "test"}, {"interview", "面談", "interview"},
};
static const sk_ledger_choice person_kinds[] = {
	{"staff", "職員", "staff"}, {"contractor", "委託事業者", "contractor"},
};
static const sk_ledger_choice inspection_kinds[] = {
	{"self", "自己点検", "self-inspection"}, {"audit", "監査", "audit"},
};
static const sk_ledger_choice answers[] = {
	{"done", "実施", "done"}, {"partial", "一部", "partly done"},
	{"not-done", "未実施", "not done"}, {"na", "該当なし", "not applicable"},
};
static const sk_ledger_choice yes_no[] = {
	{"yes", "はい", "yes"}, {"no", "いいえ", "no"},
};
static const sk_ledger_choice exception_states[] = {
	{"valid", "有効", "valid"}, {"expiring", "期限間近", "expiring"},
	{"expired", "期限切れ", "expired"}, {"pending", "開始前", "not yet valid"},
};

#define F(k, j, e, t, r, w) {k, j, e, t, r, NULL, NULL, 0, w}
#define FA(k, j, e, t, r, a, w) {k, j, e, t, r, a, NULL, 0, w}
#define FC(k, j, e, r, c, w) {k, j, e, SK_LF_CHOICE, r, NULL, CH(c), w}

static const sk_ledger_field assets[] = {
	F("name", "資産名", "Name", SK_LF_TEXT, true, 28),
	FC("kind", "種別", "Kind", true, asset_kinds, 10),
	F("section", "所管課", "Owner section", SK_LF_SECTION, true, 14),
	F("manager", "管理者", "Manager", SK_LF_TEXT, true, 14),
	F("location", "保管場所", "Location", SK_LF_TEXT, false, 20),
	FA("confidentiality", "機密性", "Confidentiality", SK_LF_LEVEL, true, "機密性", 8),
	FA("integrity", "完全性", "Integrity", SK_LF_LEVEL, true, "完全性", 8),
	FA("availability", "可用性", "Availability", SK_LF_LEVEL, true, "可用性", 8),
	F("zone", "ゾーン", "Zone", SK_LF_ZONE, true, 10),
	F("review", "見直し日", "Review date", SK_LF_DATE, false, 12),
	F("note", "備考", "Note", SK_LF_NOTE, false, 24),
	F("handling", "取扱い (分類から)", "Handling (from the class)", SK_LF_COMPUTED, false, 40),
};

/* the chain fields (chain.ROLE.at, chain.ROLE.by) go between "severity" and "actions" */
static const sk_ledger_field incidents[] = {
	F("found_by", "発見者", "Found by", SK_LF_TEXT, true, 14),
	F("found_at", "発見日時", "Found at", SK_LF_DATETIME, true, 17),
	F("what", "事象", "What happened", SK_LF_NOTE, true, 36),
	FA("assets", "関係する情報資産", "Affected assets", SK_LF_REFS, false, "assets", 16),
	FC("severity", "重大度", "Severity", true, severities, 8),
	F("actions", "対応", "Actions taken", SK_LF_NOTE, false, 30),
	F("result", "結果", "Result", SK_LF_NOTE, false, 24),
	F("lessons", "再発防止策・教訓", "Lessons", SK_LF_NOTE, false, 24),
	FC("state", "状況", "State", false, open_closed, 8),
	F("item", "関連項目 (隔離)", "Linked item", SK_LF_TEXT, false, 18),
};

static const sk_ledger_field exceptions[] = {
	F("what", "例外措置の内容", "What", SK_LF_NOTE, true, 30),
	F("why", "理由", "Why", SK_LF_NOTE, true, 24),
	F("requested_by", "申請者", "Requested by", SK_LF_TEXT, true, 14),
	F("approved_by", "承認者", "Approved by", SK_LF_TEXT, true, 14),
	F("from", "開始日", "From", SK_LF_DATE, true, 12),
	F("until", "期限", "Until", SK_LF_DATE, true, 12),
	F("note", "備考", "Note", SK_LF_NOTE, false, 20),
	{"status", "状態", "Status", SK_LF_COMPUTED, false, NULL, CH(exception_states), 10},
};

static const sk_ledger_field plans[] = {
	F("course", "研修名", "Course", SK_LF_TEXT, true, 26),
	FC("kind", "研修の種類", "Kind", false, courses, 18),
	F("date", "実施予定日", "Date", SK_LF_DATE, true, 12),
	F("trainer", "講師", "Trainer", SK_LF_TEXT, true, 14),
	F("audience", "対象者", "Audience", SK_LF_TEXT, true, 18),
	F("content", "内容", "Content", SK_LF_NOTE, false, 30),
	FC("measure", "効果測定の方法", "How effect is measured", true, measures, 12),
	F("required", "必修", "Required", SK_LF_BOOL, false, 6),
	F("report", "実施報告", "Report", SK_LF_NOTE, false, 30),
};

static const sk_ledger_field sessions[] = {
	FA("plan", "研修計画", "Plan", SK_LF_REF, true, "training/plans", 12),
	F("date", "実施日", "Date", SK_LF_DATE, true, 12),
	F("place", "会場", "Place", SK_LF_TEXT, false, 16),
	F("trainer", "講師", "Trainer", SK_LF_TEXT, false, 14),
	F("effect", "効果測定の結果", "Effect measured", SK_LF_NOTE, false, 30),
	F("note", "備考", "Note", SK_LF_NOTE, false, 20),
};

static const sk_ledger_field attendance[] = {
	FA("session", "研修 (実施)", "Session", SK_LF_REF, true, "training/sessions", 12),
	F("person", "氏名", "Person", SK_LF_TEXT, true, 14),
	F("section", "所属", "Section", SK_LF_SECTION, true, 14),
	F("attended", "受講", "Attended", SK_LF_BOOL, true, 6),
	F("score", "効果測定 (点数・評価)", "Effect (score)", SK_LF_TEXT, false, 12),
	F("note", "備考", "Note", SK_LF_NOTE, false, 20),
};

static const sk_ledger_field entries[] = {
	F("area", "区画", "Area", SK_LF_TEXT, true, 14),
	F("person", "氏名", "Person", SK_LF_TEXT, true, 14),
	FC("person_kind", "区分", "Staff or contractor", true, person_kinds, 10),
	FA("contractor", "委託事業者", "Contractor", SK_LF_REF, false, "contractors", 16),
	F("in", "入室", "In", SK_LF_DATETIME, true, 17),
	F("out", "退室", "Out", SK_LF_DATETIME, false, 17),
	F("escort", "立会者", "Escort", SK_LF_TEXT, false, 14),
	F("purpose", "目的", "Purpose", SK_LF_TEXT, true, 24),
};

static const sk_ledger_field contractors[] = {
	F("company", "事業者名", "Company", SK_LF_TEXT, true, 24),
	F("service", "委託業務", "Service", SK_LF_TEXT, true, 24),
	F("agreement", "機密保持契約日", "Confidentiality agreement", SK_LF_DATE, false, 12),
	F("pledges", "誓約書の提出日", "Personal pledges", SK_LF_DATE, false, 12),
	F("data_location", "データの保管場所", "Data location", SK_LF_TEXT, false, 20),
	F("resubcontract", "再委託", "Re-subcontracting", SK_LF_BOOL, false, 6),
	F("resubcontractor", "再委託先", "Re-subcontractor", SK_LF_TEXT, false, 20),
	F("checks", "確認の内容", "Checks done", SK_LF_NOTE, false, 30),
	F("checked", "確認日", "Checked on", SK_LF_DATE, false, 12),
};

static const sk_ledger_field checklists[] = {
	F("chapter", "章・区分", "Chapter", SK_LF_TEXT, true, 18),
	F("requirement", "点検項目", "Requirement", SK_LF_NOTE, true, 40),
	F("section", "対象所属", "Section", SK_LF_SECTION, false, 14),
	F("period", "対象期間", "Period", SK_LF_TEXT, true, 12),
	FC("kind", "種類", "Kind", false, inspection_kinds, 10),
};

static const sk_ledger_field answer_fields[] = {
	FA("item", "点検項目", "Checklist item", SK_LF_REF, true, "inspections/checklists", 12),
	F("section", "所属", "Section", SK_LF_SECTION, true, 14),
	FC("answer", "結果", "Answer", true, answers, 10),
	F("comment", "コメント", "Comment", SK_LF_NOTE, false, 30),
	F("evidence", "証跡", "Evidence", SK_LF_TEXT, false, 18),
	F("evidence_files", "証跡ファイル", "Evidence files", SK_LF_FILES, false, 24),
	F("answered_by", "回答者", "Answered by", SK_LF_TEXT, false, 14),
	F("date", "回答日", "Date", SK_LF_DATE, false, 12),
};

static const sk_ledger_field findings[] = {
	FA("answer", "点検結果", "Answer", SK_LF_REF, false, "inspections/answers", 12),
	F("finding", "指摘事項", "Finding", SK_LF_NOTE, true, 36),
	F("owner", "担当者", "Owner", SK_LF_TEXT, true, 14),
	F("due", "期限", "Due", SK_LF_DATE, true, 12),
	FC("state", "状況", "State", true, open_closed, 8),
	F("closed_on", "完了日", "Closed on", SK_LF_DATE, false, 12),
	F("followup", "フォローアップ", "Follow-up", SK_LF_NOTE, false, 30),
	F("followup_files", "改善の証跡ファイル", "Follow-up evidence files", SK_LF_FILES, false, 24),
	{"overdue", "期限超過", "Overdue", SK_LF_COMPUTED, false, NULL, CH(yes_no), 8},
};

static const sk_ledger_field laws[] = {
	F("name", "法令・規程名", "Law or rule", SK_LF_TEXT, true, 30),
	F("article", "条項", "Article", SK_LF_TEXT, false, 12),
	F("applies", "適用内容", "How it applies", SK_LF_NOTE, true, 40),
	F("section", "所管課", "Section", SK_LF_SECTION, false, 14),
	F("reviewed", "確認日", "Reviewed on", SK_LF_DATE, false, 12),
};

#define T(n, l, j, e, p, f) {n, l, j, e, p, f, N(f)}
const sk_ledger_table sk_ledger_static_tables[LT_COUNT] = {
	T("assets", "assets", "情報資産管理台帳", "Information assets", "AS", assets),
	T("incidents", "incidents", "情報セキュリティ事故管理台帳", "Security incidents", "IN", incidents),
	T("exceptions", "exceptions", "例外措置", "Exceptions", "EX", exceptions),
	T("training/plans", "training", "研修計画", "Training plans", "TP", plans),
	T("training/sessions", "training", "研修実施", "Training sessions", "TS", sessions),
	T("training/attendance", "training", "受講記録", "Attendance", "TA", attendance),
	T("entries", "entries", "入退室管理台帳", "Security-area entries", "EN", entries),
	T("contractors", "contractors", "外部委託事業者", "Contractors", "CO", contractors),
	T("inspections/checklists", "inspections", "点検項目", "Checklists", "IC", checklists),
	T("inspections/answers", "inspections", "点検結果", "Answers", "IA", answer_fields),
	T("inspections/findings", "inspections", "指摘事項", "Findings", "IF", findings),
	T("laws", "laws", "法規制等登録簿", "Laws and rules", "LA", laws),
};

size_t sk_ledger_names(const char *const **names)
{
	if (names)
		*names = sk_ledger_ledger_names;
	return 8;
}
