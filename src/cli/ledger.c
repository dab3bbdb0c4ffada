/* sekisho ledger — the ledgers (台帳) from the command line: list, show, add, update,
 * fields, export (xlsx), import (the CSV Excel writes). Records live in the state folder's
 * ledger.db (the ledger service); every change is an audit record. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "sekisho/audit.h"
#include "sekisho/auth.h"
#include "sekisho/io.h"
#include "sekisho/ledger.h"
#include "sekisho/policy.h"

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_TROUBLE = 2 };

#define FIELDS_MAX 64

static void usage(FILE *f, sk_lang lang)
{
	if (lang == SK_LANG_EN)
		fputs("usage: sekisho ledger COMMAND NAME ... --policy FILE [--state DIR] [--by USER] [--lang ja|en]\n"
		      "  list NAME [--json]                 the records (--json: one JSON object a line)\n"
		      "  show NAME ID                       one record and its history of changes\n"
		      "  add NAME --field KEY=VALUE ...     a new record (prints its ID)\n"
		      "  update NAME ID --field KEY=VALUE ...  change fields (VALUE empty: clear)\n"
		      "  fields NAME                        the fields: key, header, type, required\n"
		      "  export NAME -o FILE.xlsx           an Excel workbook, one sheet per table\n"
		      "  import NAME FILE.csv               the CSV Excel writes (CP932 or UTF-8); nothing\n"
		      "                                     is imported when any row is bad\n"
		      "  checklist --period P [--kind self|audit] [--section S]\n"
		      "                                     the self-inspection (or audit) checklist of the\n"
		      "                                     policy's requirements for each section (or S);\n"
		      "                                     running it again adds nothing\n"
		      "  missing [--json]                   who has not taken a required course (the console's\n"
		      "                                     users and the policy's users)\n"
		      "  charts --json [--period P]         the console's charts as JSON\n"
		      "  remind [--days N] [--dry-run]      the reminders due (exceptions expiring within N\n"
		      "                                     days, default 14, or expired; overdue findings;\n"
		      "                                     assets past review), each once (--dry-run: shown\n"
		      "                                     and not marked sent)\n"
		      "NAME: assets, incidents, exceptions, training (training/plans, training/sessions,\n"
		      "training/attendance), entries, contractors, inspections (inspections/checklists,\n"
		      "inspections/answers, inspections/findings), laws. KEY: a field's key or its header.\n"
		      "--by defaults to the operating-system user.\n",
		      f);
	else
		fputs("使い方: sekisho ledger コマンド 台帳 ... --policy ファイル [--state フォルダ] [--by 実行者] [--lang ja|en]\n"
		      "  list 台帳 [--json]                 記録の一覧 (--json: 1 行に 1 件の JSON)\n"
		      "  show 台帳 ID                       1 件の記録と変更の履歴\n"
		      "  add 台帳 --field 項目=値 ...       記録を追加 (ID を表示)\n"
		      "  update 台帳 ID --field 項目=値 ... 項目を変更 (値が空なら消去)\n"
		      "  fields 台帳                        項目の一覧 (キー・見出し・型・必須)\n"
		      "  export 台帳 -o ファイル.xlsx       Excel ファイル (表ごとに 1 シート)\n"
		      "  import 台帳 ファイル.csv           Excel が書く CSV (CP932 か UTF-8)。\n"
		      "                                     1 行でも誤りがあれば何も取り込みません\n"
		      "  checklist --period 期間 [--kind self|audit] [--section 所属]\n"
		      "                                     ポリシーの要求事項から自己点検 (監査) の点検項目を\n"
		      "                                     所属ごとに作成 (もう一度実行しても重複しません)\n"
		      "  missing [--json]                   必修研修の未受講者 (コンソールの利用者とポリシーの users)\n"
		      "  charts --json [--period 期間]      コンソールのグラフの数値 (JSON)\n"
		      "  remind [--days 日数] [--dry-run]   期限が近い (既定 14 日以内)・切れた例外措置、期限を\n"
		      "                                     過ぎた指摘事項、見直し日を過ぎた情報資産の通知を\n"
		      "                                     1 回ずつ表示 (--dry-run: 送信済みにしません)\n"
		      "台帳: assets (情報資産)・incidents (事故)・exceptions (例外措置)・training (研修: training/plans・\n"
		      "training/sessions・training/attendance)・entries (入退室)・contractors (外部委託)・\n"
		      "inspections (点検: inspections/checklists・inspections/answers・inspections/findings)・\n"
		      "laws (法規制等)。項目: キーか見出し (例 name または 資産名)。\n"
		      "--by の既定は OS の利用者名です。\n",
		      f);
}

struct lcli {
	sk_lang lang;
	bool en, json;
	sk_ledger *l;
	const sk_policy *p;
};

static const char *type_name(sk_ledger_type t, bool en)
{
	static const char *const ja[] = {"文字", "文章", "日付", "日時", "選択", "分類", "ゾーン",
					 "所属", "はい/いいえ", "参照", "参照 (複数)", "自動",
					 "ファイル (ゲート経由で添付)"};
	static const char *const enx[] = {"text", "note", "date", "date-time", "choice", "level",
					  "zone", "section", "yes/no", "reference", "references",
					  "computed", "files (attached through the gate)"};
	return (unsigned)t <= SK_LF_FILES ? (en ? enx[t] : ja[t]) : "?";
}

static void print_problems(struct lcli *c, const sk_ledger_problems *pr)
{
	sk_buf b;
	sk_buf_init(&b, 0);
	if (sk_ledger_problems_format(pr, c->lang, &b) == 0)
		fputs(sk_buf_str(&b), stderr);
	sk_buf_free(&b);
}

/* one line of a value: line breaks shown as ⏎ in the table output */
static void put_cell(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			fputs("⏎", stdout);
		else if (*s == '\t')
			putchar(' ');
		else
			putchar(*s);
	}
}

static int list_one(void *ctx, const sk_ledger_table *t, const sk_ledger_record *r)
{
	struct lcli *c = ctx;
	if (c->json) {
		json_t *o = json_object();
		json_object_set_new(o, "id", json_string(r->id));
		for (size_t i = 0; i < t->nfields; i++)
			if (r->values[i])
				json_object_set_new(o, t->fields[i].key, json_string(r->values[i]));
		json_object_set_new(o, "version", json_integer((json_int_t)r->version));
		char ts[40];
		sk_time_iso_jst(r->created_us, ts, sizeof(ts));
		json_object_set_new(o, "created", json_string(ts));
		json_object_set_new(o, "created_by", json_string(r->created_by));
		sk_time_iso_jst(r->updated_us, ts, sizeof(ts));
		json_object_set_new(o, "updated", json_string(ts));
		json_object_set_new(o, "updated_by", json_string(r->updated_by));
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (s)
			puts(s);
		free(s);
		json_decref(o);
		return 0;
	}
	fputs(r->id, stdout);
	for (size_t i = 0; i < t->nfields; i++) {
		putchar('\t');
		put_cell(sk_ledger_value_text(c->l, &t->fields[i], r->values[i], c->lang));
	}
	putchar('\n');
	return 0;
}

static int hist_one(void *ctx, int64_t version, int64_t at, const char *by, const char *action,
		    const char *changes, uint64_t seq)
{
	(void)ctx;
	char ts[40];
	cli_time_format(at, ts, sizeof(ts));
	printf("  v%lld\t%s\t%s\t%s\taudit#%llu\t%s\n", (long long)version, ts, by, action,
	       (unsigned long long)seq, changes);
	return 0;
}

static int do_show(struct lcli *c, const char *name, const char *id)
{
	sk_error err;
	sk_error_clear(&err);
	sk_ledger_record r;
	int rc = sk_ledger_get(c->l, name, id, &r, &err);
	if (rc == SK_ENOTFOUND) {
		cli_err(c->lang, "その記録はありません", "no such record", id);
		return EXIT_REFUSED;
	}
	if (rc) {
		cli_fail(c->lang, "記録を読めません", "cannot read the record", NULL, &err);
		return EXIT_TROUBLE;
	}
	const sk_ledger_table *t = sk_ledger_table_find(c->l, name);
	printf("ID\t%s\n", r.id);
	for (size_t i = 0; i < t->nfields; i++) {
		printf("%s\t", c->en ? t->fields[i].en : t->fields[i].ja);
		put_cell(sk_ledger_value_text(c->l, &t->fields[i], r.values[i], c->lang));
		putchar('\n');
	}
	char ts[40];
	cli_time_format(r.updated_us, ts, sizeof(ts));
	printf(c->en ? "version\t%lld (%s, %s)\n" : "版\t%lld (%s、%s)\n", (long long)r.version, ts,
	       r.updated_by);
	sk_ledger_record_free(&r);
	printf(c->en ? "history:\n" : "変更履歴:\n");
	if (sk_ledger_history(c->l, name, id, hist_one, c, &err) != 0) {
		cli_fail(c->lang, "履歴を読めません", "cannot read the history", NULL, &err);
		return EXIT_TROUBLE;
	}
	return EXIT_OK;
}

static int do_fields(struct lcli *c, const char *name)
{
	const sk_ledger_table *t = sk_ledger_table_find(c->l, name);
	printf(c->en ? "# %s (%s): key\theader\ttype\trequired\tchoices\n"
		     : "# %s (%s): キー\t見出し\t型\t必須\t選択肢\n",
	       t->name, c->en ? t->en : t->ja);
	for (size_t i = 0; i < t->nfields; i++) {
		const sk_ledger_field *f = &t->fields[i];
		printf("%s\t%s\t%s%s%s\t%s\t", f->key, c->en ? f->en : f->ja, type_name(f->type, c->en),
		       f->arg ? ":" : "", f->arg ? f->arg : "",
		       f->required ? (c->en ? "required" : "必須") : "-");
		for (size_t j = 0; j < f->nchoices; j++)
			printf("%s%s", j ? ", " : "", c->en ? f->choices[j].code : f->choices[j].ja);
		putchar('\n');
	}
	return EXIT_OK;
}

static int parse_fields(struct lcli *c, char **raw, size_t n, sk_ledger_kv *kv)
{
	for (size_t i = 0; i < n; i++) {
		char *eq = strchr(raw[i], '=');
		if (!eq || eq == raw[i]) {
			cli_err(c->lang, "--field は 項目=値 の形で書いてください", "--field takes KEY=VALUE", raw[i]);
			return EXIT_TROUBLE;
		}
		*eq = 0;
		kv[i] = (sk_ledger_kv){raw[i], eq + 1};
	}
	return EXIT_OK;
}

static int do_change(struct lcli *c, const char *name, const char *id, char **raw, size_t n,
		     const char *by)
{
	sk_ledger_kv kv[FIELDS_MAX];
	int st = parse_fields(c, raw, n, kv);
	if (st)
		return st;
	if (!n) {
		cli_err(c->lang, "--field で項目を指定してください", "give fields with --field", NULL);
		return EXIT_TROUBLE;
	}
	sk_error err;
	sk_error_clear(&err);
	sk_ledger_problems pr;
	sk_ledger_problems_init(&pr);
	char nid[SK_LEDGER_ID_MAX] = "";
	bool changed = true;
	int rc = id ? sk_ledger_update(c->l, name, id, 0, kv, n, by, &changed, &pr, &err)
		    : sk_ledger_add(c->l, name, kv, n, by, nid, &pr, &err);
	if (rc == SK_EINVAL && pr.count) {
		print_problems(c, &pr);
		cli_err(c->lang, "受け付けられません (何も変更していません)", "refused (nothing changed)", NULL);
		st = EXIT_REFUSED;
	} else if (rc == SK_ENOTFOUND) {
		cli_err(c->lang, "その記録はありません", "no such record", id);
		st = EXIT_REFUSED;
	} else if (rc) {
		cli_fail(c->lang, "記録できません", "cannot record the change", NULL, &err);
		st = rc == SK_EINVAL ? EXIT_REFUSED : EXIT_TROUBLE;
	} else if (!id) {
		puts(nid);
		fprintf(stderr, c->en ? "sekisho: %s %s added\n" : "sekisho: %s に %s を追加しました\n", name, nid);
	} else {
		fprintf(stderr, changed ? (c->en ? "sekisho: %s %s changed\n" : "sekisho: %s の %s を変更しました\n")
					: (c->en ? "sekisho: %s %s: nothing changed\n"
						 : "sekisho: %s の %s: 変更はありません\n"),
			name, id);
	}
	sk_ledger_problems_free(&pr);
	return st;
}

static int do_import(struct lcli *c, const char *name, const char *file, const char *by)
{
	sk_buf b;
	sk_buf_init(&b, SK_LEDGER_IMPORT_BYTES_MAX + 1);
	sk_error err;
	sk_error_clear(&err);
	int rc = sk_read_file(file, SK_LEDGER_IMPORT_BYTES_MAX, &b, &err);
	if (rc) {
		sk_buf_free(&b);
		cli_fail(c->lang, "ファイルを読めません", "cannot read the file", file, &err);
		return rc == SK_ELIMIT ? EXIT_REFUSED : EXIT_TROUBLE;
	}
	sk_ledger_problems pr;
	sk_ledger_problems_init(&pr);
	size_t added = 0, updated = 0;
	rc = sk_ledger_import_csv(c->l, name, sk_buf_data(&b), sk_buf_len(&b), by, &added, &updated,
				  &pr, &err);
	sk_buf_free(&b);
	int st = EXIT_OK;
	if (rc && pr.count) {
		print_problems(c, &pr);
		fprintf(stderr,
			c->en ? "sekisho: %s: %zu problem(s); nothing was imported\n"
			      : "sekisho: %s: 誤り %zu 件。何も取り込んでいません\n",
			file, pr.count);
		st = EXIT_REFUSED;
	} else if (rc) {
		cli_fail(c->lang, "取り込めません (何も取り込んでいません)", "cannot import (nothing was imported)",
			NULL, &err);
		st = EXIT_TROUBLE;
	} else {
		fprintf(stderr,
			c->en ? "sekisho: %s: %zu added, %zu changed\n"
			      : "sekisho: %s: 追加 %zu 件、変更 %zu 件\n",
			file, added, updated);
	}
	sk_ledger_problems_free(&pr);
	return st;
}

/* ---- the compliance cycle ---- */

static int do_checklist(struct lcli *c, const char *period, const char *kind, const char *section,
			const char *by)
{
	if (!period || !*period) {
		cli_err(c->lang, "--period で対象期間を指定してください (例 2026年度)",
			"give the period with --period (e.g. 2026年度)", NULL);
		return EXIT_TROUBLE;
	}
	sk_error err;
	sk_error_clear(&err);
	size_t added = 0, skipped = 0;
	int rc = sk_ledger_checklist_generate(c->l, period, kind, section, by, &added, &skipped, &err);
	if (rc == SK_EINVAL) {
		cli_fail(c->lang, "点検項目を作れません (何も追加していません)",
			"cannot make the checklist (nothing was added)", NULL, &err);
		return EXIT_REFUSED;
	}
	if (rc) {
		cli_fail(c->lang, "点検項目を作れません", "cannot make the checklist", NULL, &err);
		return EXIT_TROUBLE;
	}
	printf(c->en ? "%s: %zu item(s) added, %zu already there\n"
		     : "%s: 点検項目 %zu 件を追加しました (既にあった %zu 件はそのまま)\n",
	       period, added, skipped);
	return EXIT_OK;
}

static int roster_load(struct lcli *c, const char *dir, sk_audit *audit, const sk_policy *p,
		       sk_ledger_roster *ro)
{
	memset(ro, 0, sizeof(*ro));
	sk_error err;
	sk_error_clear(&err);
	sk_auth_settings s;
	sk_auth_settings_from_policy(p, &s);
	sk_auth *a = NULL;
	int rc = sk_auth_open(dir, audit, &s, NULL, &a, &err);
	if (rc == 0)
		rc = sk_ledger_roster_load(a, p, ro, &err);
	sk_auth_close(a);
	if (rc) {
		cli_fail(c->lang, "利用者の一覧を読めません", "cannot read the users", NULL, &err);
		sk_ledger_roster_free(ro);
		return EXIT_TROUBLE;
	}
	return EXIT_OK;
}

static int do_missing(struct lcli *c, const sk_ledger_roster *ro)
{
	sk_buf b;
	sk_buf_init(&b, 0);
	sk_error err;
	sk_error_clear(&err);
	int st = EXIT_OK;
	if (sk_ledger_training_missing(c->l, ro->v, ro->n, &b, &err) != 0) {
		cli_fail(c->lang, "未受講者を求められません", "cannot work out who is missing training", NULL, &err);
		sk_buf_free(&b);
		return EXIT_TROUBLE;
	}
	if (c->json) {
		puts(sk_buf_str(&b));
		sk_buf_free(&b);
		return EXIT_OK;
	}
	json_error_t je;
	json_t *o = json_loads(sk_buf_str(&b), 0, &je), *people = json_object_get(o, "people"), *x;
	size_t i;
	if (!json_array_size(people))
		puts(c->en ? "everyone has taken the required courses" : "必修研修の未受講者はいません");
	else
		printf(c->en ? "# user\tsection\tcourses not taken\n" : "# 利用者\t所属\t未受講の研修\n");
	json_array_foreach(people, i, x) {
		const char *sec = json_string_value(json_object_get(x, "section"));
		const char *sn = sec && sk_policy_has_section(c->p, sec) ? sk_policy_section_name(c->p, sec, c->lang)
									: sec;
		printf("%s\t%s\t", json_string_value(json_object_get(x, "user")), sn ? sn : "-");
		json_t *m, *miss = json_object_get(x, "missing");
		size_t j;
		json_array_foreach(miss, j, m) {
			printf(c->en ? "%s%s (%s)" : "%s%s (%s)", j ? (c->en ? ", " : "、") : "",
			       json_string_value(json_object_get(m, "course")),
			       json_string_value(json_object_get(m, "plan")));
		}
		putchar('\n');
	}
	json_decref(o);
	if (!o)
		st = EXIT_TROUBLE;
	sk_buf_free(&b);
	return st;
}

static int do_charts(struct lcli *c, const sk_ledger_roster *ro, const char *period)
{
	sk_buf b;
	sk_buf_init(&b, 0);
	sk_error err;
	sk_error_clear(&err);
	int st = EXIT_OK;
	if (sk_ledger_charts(c->l, period, ro->v, ro->n, c->lang, &b, &err) != 0) {
		cli_fail(c->lang, "グラフの数値を求められません", "cannot work out the charts", NULL, &err);
		st = EXIT_TROUBLE;
	} else {
		puts(sk_buf_str(&b));
	}
	sk_buf_free(&b);
	return st;
}

struct remind_ctx {
	struct lcli *c;
	bool dry;
	size_t n;
};

static int remind_one(void *ctx, sk_ledger_reminder_kind kind, const sk_ledger_table *t,
		      const sk_ledger_record *r)
{
	struct remind_ctx *x = ctx;
	sk_buf b;
	sk_buf_init(&b, 0);
	int rc = sk_ledger_reminder_text(x->c->l, kind, t, r, x->c->lang, &b);
	if (rc == 0) {
		fputs(sk_buf_str(&b), stdout);
		x->n++;
	}
	sk_buf_free(&b);
	return rc ? rc : x->dry ? 1 : 0; /* a dry run marks nothing */
}

static int do_remind(struct lcli *c, const char *days_opt, bool dry)
{
	long days = 14;
	if (days_opt) {
		char *end;
		days = strtol(days_opt, &end, 10);
		if (!*days_opt || *end || days < 0 || days > 3660) {
			cli_err(c->lang, "--days は 0 から 3660 までの日数です", "--days takes 0 to 3660 days", days_opt);
			return EXIT_TROUBLE;
		}
	}
	struct remind_ctx x = {c, dry, 0};
	sk_error err;
	sk_error_clear(&err);
	int rc = sk_ledger_reminders(c->l, (int)days, remind_one, &x, &err);
	if (rc < 0 && !(dry && rc == 1)) {
		cli_fail(c->lang, "通知を求められません", "cannot work out the reminders", NULL, &err);
		return EXIT_TROUBLE;
	}
	if (!x.n)
		fputs(c->en ? "sekisho: no reminders due\n" : "sekisho: 通知することはありません\n", stderr);
	else
		fprintf(stderr,
			dry ? (c->en ? "sekisho: %zu reminder(s) (dry run: not marked sent)\n"
				     : "sekisho: 通知 %zu 件 (試行: 送信済みにしていません)\n")
			    : (c->en ? "sekisho: %zu reminder(s), marked sent\n"
				     : "sekisho: 通知 %zu 件 (送信済みにしました)\n"),
			x.n);
	return EXIT_OK;
}

int cmd_ledger(int argc, char **argv)
{
	const char *state = NULL, *lang_opt = NULL, *by = NULL, *policy = NULL, *out = NULL;
	const char *period = NULL, *kind = NULL, *section = NULL, *days = NULL;
	bool dry = false;
	char *fields[FIELDS_MAX];
	size_t nfields = 0;
	bool json = false;
	static const struct option longs[] = {
		{"state", required_argument, NULL, 's'},  {"lang", required_argument, NULL, 'l'},
		{"json", no_argument, NULL, 'j'},         {"by", required_argument, NULL, 'b'},
		{"policy", required_argument, NULL, 'p'}, {"field", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'},
		{"period", required_argument, NULL, 'P'}, {"kind", required_argument, NULL, 'k'},
		{"section", required_argument, NULL, 'S'}, {"days", required_argument, NULL, 'd'},
		{"dry-run", no_argument, NULL, 'n'},
		{NULL, 0, NULL, 0},
	};
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "ho:", longs, NULL)) != -1) {
		switch (ch) {
		case 's': state = optarg; break;
		case 'l': lang_opt = optarg; break;
		case 'j': json = true; break;
		case 'b': by = optarg; break;
		case 'p': policy = optarg; break;
		case 'o': out = optarg; break;
		case 'P': period = optarg; break;
		case 'k': kind = optarg; break;
		case 'S': section = optarg; break;
		case 'd': days = optarg; break;
		case 'n': dry = true; break;
		case 'f':
			if (nfields == FIELDS_MAX) {
				cli_err(cli_lang(lang_opt), "--field が多すぎます", "too many --field", optarg);
				return EXIT_TROUBLE;
			}
			fields[nfields++] = optarg;
			break;
		case 'h': usage(stdout, cli_lang(lang_opt)); return EXIT_OK;
		default: usage(stderr, cli_lang(lang_opt)); return EXIT_TROUBLE;
		}
	}
	struct lcli c = {.lang = cli_lang(lang_opt), .json = json};
	bool cycle = false; /* a command of the compliance cycle (no ledger NAME) */
	c.en = c.lang == SK_LANG_EN;
	if (lang_opt && strcmp(lang_opt, "ja") && strcmp(lang_opt, "en")) {
		cli_err(c.lang, "--lang は ja か en です", "--lang takes ja or en", lang_opt);
		return EXIT_TROUBLE;
	}
	int nargs = argc - optind;
	char **args = argv + optind;
	const char *sub = nargs ? args[0] : "";
	int want = !strcmp(sub, "list") || !strcmp(sub, "fields") || !strcmp(sub, "add") ||
				   !strcmp(sub, "export")
			   ? 2
		   : !strcmp(sub, "show") || !strcmp(sub, "update") || !strcmp(sub, "import") ? 3
		   : !strcmp(sub, "checklist") || !strcmp(sub, "missing") || !strcmp(sub, "charts") ||
				   !strcmp(sub, "remind")
			   ? 1
			   : 0;
	if (!want || nargs != want) {
		usage(stderr, c.lang);
		return EXIT_TROUBLE;
	}
	cycle = want == 1;
	if (!strcmp(sub, "export") && !out) {
		cli_err(c.lang, "-o で出力先の .xlsx を指定してください", "give the .xlsx to write with -o", NULL);
		return EXIT_TROUBLE;
	}
	if (!policy) {
		cli_err(c.lang, "--policy でポリシーファイルを指定してください (分類の段階・ゾーン・所属・報告経路)",
			"give the policy file with --policy (scales, zones, sections, escalation chain)", NULL);
		return EXIT_TROUBLE;
	}
	if (!by)
		by = cli_os_user();
	sk_policy *p = NULL;
	int st = cli_policy_load(c.lang, policy, &p);
	if (st)
		return st;
	c.p = p;
	char *dir = cli_state_dir(state);
	if (!dir) {
		sk_policy_free(p);
		cli_err(c.lang, "状態フォルダが決まりません (--state を指定してください)",
			"no state folder (give --state)", NULL);
		return EXIT_TROUBLE;
	}
	sk_error err;
	sk_error_clear(&err);
	sk_audit *audit = NULL;
	sk_ledger_options lo = {.lang = c.lang};
	if (sk_audit_open(dir, NULL, &audit, &err) != 0 ||
	    sk_ledger_open(dir, audit, p, &lo, &c.l, &err) != 0) {
		cli_fail(c.lang, "状態フォルダを開けません", "cannot open the state folder", dir, &err);
		sk_audit_close(audit);
		sk_policy_free(p);
		free(dir);
		return EXIT_TROUBLE;
	}
	const char *name = cycle ? NULL : args[1];
	if (cycle) {
		sk_ledger_roster ro = {0};
		if (!strcmp(sub, "checklist")) {
			st = do_checklist(&c, period, kind, section, by);
		} else if (!strcmp(sub, "remind")) {
			st = do_remind(&c, days, dry);
		} else if ((st = roster_load(&c, dir, audit, p, &ro)) == EXIT_OK) {
			st = !strcmp(sub, "missing") ? do_missing(&c, &ro) : do_charts(&c, &ro, period);
			sk_ledger_roster_free(&ro);
		}
	} else if (!sk_ledger_table_find(c.l, name)) {
		cli_err(c.lang, "その台帳はありません", "no such ledger", name);
		usage(stderr, c.lang);
		st = EXIT_TROUBLE;
	} else if (!strcmp(sub, "list")) {
		const sk_ledger_table *t = sk_ledger_table_find(c.l, name);
		if (!json) {
			fputs("# ID", stdout);
			for (size_t i = 0; i < t->nfields; i++)
				printf("\t%s", c.en ? t->fields[i].en : t->fields[i].ja);
			putchar('\n');
		}
		if (sk_ledger_list(c.l, name, list_one, &c, &err) != 0) {
			cli_fail(c.lang, "一覧を読めません", "cannot list", NULL, &err);
			st = EXIT_TROUBLE;
		}
	} else if (!strcmp(sub, "show")) {
		st = do_show(&c, name, args[2]);
	} else if (!strcmp(sub, "fields")) {
		st = do_fields(&c, name);
	} else if (!strcmp(sub, "add")) {
		st = do_change(&c, name, NULL, fields, nfields, by);
	} else if (!strcmp(sub, "update")) {
		st = do_change(&c, name, args[2], fields, nfields, by);
	} else if (!strcmp(sub, "import")) {
		st = do_import(&c, name, args[2], by);
	} else { /* export */
		if (sk_ledger_export_xlsx(c.l, name, out, c.lang, &err) != 0) {
			cli_fail(c.lang, "Excel ファイルを書けません", "cannot write the Excel file", NULL, &err);
			st = EXIT_TROUBLE;
		} else {
			fprintf(stderr, c.en ? "sekisho: %s written\n" : "sekisho: %s を書きました\n", out);
		}
	}
	free(dir);
	sk_ledger_close(c.l);
	int seal = cli_audit_seal(c.lang, audit);
	sk_audit_close(audit);
	sk_policy_free(p);
	return st ? st : seal;
}
