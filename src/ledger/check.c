/* The ledgers' rules: each value by its type, then the rules of each ledger (see ledger.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ledger_int.h"
#include "sekisho/name.h"
#include "sekisho/quarantine.h"

#define P(...) sk_ledger_problem_add(pr, line, __VA_ARGS__)

/* ---- values ---- */

/* Leading and trailing spaces (ASCII and the ideographic space U+3000) removed, in place. */
static void trim(char *s)
{
	size_t n = strlen(s), a = 0;
	for (;;) {
		if (a < n && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r' || s[a] == '\n'))
			a++;
		else if (n - a >= 3 && !memcmp(s + a, "\xe3\x80\x80", 3))
			a += 3;
		else
			break;
	}
	for (;;) {
		if (n > a && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
			n--;
		else if (n - a >= 3 && !memcmp(s + n - 3, "\xe3\x80\x80", 3))
			n -= 3;
		else
			break;
	}
	memmove(s, s + a, n - a);
	s[n - a] = 0;
}

/* CRLF and CR become LF, in place */
static void lf(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (*r == '\r') {
			*w++ = '\n';
			if (r[1] == '\n')
				r++;
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
}

static int digits(const char **p, int min, int max)
{
	int v = 0, n = 0;
	while (isdigit((unsigned char)**p) && n < max) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n >= min ? v : SK_EINVAL;
}

static bool lit(const char **p, const char *s)
{
	size_t n = strlen(s);
	if (strncmp(*p, s, n))
		return false;
	*p += n;
	return true;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static bool set(char **v, const char *s)
{
	char *x = dup_or_null(s);
	if (!x)
		return false;
	free(*v);
	*v = x;
	return true;
}

/* "2025-04-01", "2025/4/1", "2025年4月1日"; *rest after the date. */
static int32_t parse_date(const char *s, const char **rest)
{
	const char *p = s;
	int y = digits(&p, 4, 4), m, d;
	if (y < 0)
		return SK_EINVAL;
	if (lit(&p, "年")) {
		if ((m = digits(&p, 1, 2)) < 0 || !lit(&p, "月") || (d = digits(&p, 1, 2)) < 0 ||
		    !lit(&p, "日"))
			return SK_EINVAL;
	} else {
		char sep = *p;
		if (sep != '-' && sep != '/')
			return SK_EINVAL;
		p++;
		if ((m = digits(&p, 1, 2)) < 0 || *p != sep)
			return SK_EINVAL;
		p++;
		if ((d = digits(&p, 1, 2)) < 0)
			return SK_EINVAL;
	}
	char b[32];
	snprintf(b, sizeof(b), "%04d-%02d-%02d", y % 10000, m % 100, d % 100);
	int32_t ymd = sk_policy_date_parse(b);
	if (ymd < 0)
		return SK_EINVAL;
	*rest = p;
	return ymd;
}

static bool norm_date(char **v)
{
	const char *rest;
	int32_t ymd = parse_date(*v, &rest);
	if (ymd < 0)
		return false;
	/* Excel may write a date cell with a time of 0:00 */
	if (*rest && strcmp(rest, " 0:00") && strcmp(rest, " 00:00") && strcmp(rest, " 0:00:00") &&
	    strcmp(rest, " 00:00:00"))
		return false;
	char b[32];
	snprintf(b, sizeof(b), "%04d-%02d-%02d", ymd / 10000 % 10000, ymd / 100 % 100, ymd % 100);
	return set(v, b);
}

static bool norm_datetime(char **v)
{
	const char *p;
	int32_t ymd = parse_date(*v, &p);
	if (ymd < 0 || (*p != ' ' && *p != 'T'))
		return false;
	p++;
	int h = digits(&p, 1, 2), mi = -1, sec = 0;
	if (h < 0 || !lit(&p, ":") || (mi = digits(&p, 2, 2)) < 0)
		return false;
	if (lit(&p, ":") && (sec = digits(&p, 2, 2)) < 0)
		return false;
	if (*p || h > 23 || mi > 59 || sec > 59)
		return false;
	char b[48];
	snprintf(b, sizeof(b), "%04d-%02d-%02d %02d:%02d", ymd / 10000 % 10000, ymd / 100 % 100,
		 ymd % 100, h % 100, mi % 100);
	return set(v, b);
}

static bool norm_bool(char **v)
{
	static const char *const yes[] = {"yes", "y", "true", "1", "はい", "有", "あり", "○", "〇"};
	static const char *const no[] = {"no", "n", "false", "0", "いいえ", "無", "なし", "×", "-"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!strcasecmp(*v, yes[i]))
			return set(v, "yes");
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (!strcasecmp(*v, no[i]))
			return set(v, "no");
	return false;
}

static bool norm_choice(const sk_ledger_field *f, char **v)
{
	for (size_t i = 0; i < f->nchoices; i++)
		if (!strcasecmp(*v, f->choices[i].code) || !strcmp(*v, f->choices[i].ja) ||
		    !strcasecmp(*v, f->choices[i].en))
			return set(v, f->choices[i].code);
	return false;
}

static void choices_text(const sk_ledger_field *f, char *ja, size_t jn, char *en, size_t en_n)
{
	ja[0] = en[0] = 0;
	for (size_t i = 0; i < f->nchoices; i++) {
		size_t a = strlen(ja), b = strlen(en);
		snprintf(ja + a, jn - a, "%s%s", i ? "・" : "", f->choices[i].ja);
		snprintf(en + b, en_n - b, "%s%s", i ? ", " : "", f->choices[i].code);
	}
}

static bool norm_level(const sk_ledger *l, const sk_ledger_field *f, char **v)
{
	const char *const *lv = NULL;
	size_t n = sk_policy_class_levels(l->p, f->arg, &lv);
	const char *s = *v;
	size_t dl = strlen(f->arg);
	if (!strncmp(s, f->arg, dl)) /* "機密性3A" or "機密性:3A" */
		s += dl + (s[dl] == ':');
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(s, lv[i]))
			return set(v, lv[i]);
	return false;
}

static void levels_text(const sk_ledger *l, const char *dim, char *b, size_t n)
{
	const char *const *lv = NULL;
	size_t k = sk_policy_class_levels(l->p, dim, &lv);
	b[0] = 0;
	for (size_t i = 0; i < k; i++) {
		size_t a = strlen(b);
		snprintf(b + a, n - a, "%s%s", i ? " · " : "", lv[i]);
	}
}

static bool norm_zone(const sk_ledger *l, char **v)
{
	for (size_t i = 0; i < sk_policy_zone_count(l->p); i++)
		if (!strcmp(*v, sk_policy_zone_id(l->p, i)))
			return true;
	return false;
}

static bool norm_section(const sk_ledger *l, char **v)
{
	size_t n = sk_policy_section_count(l->p);
	if (n == 0)
		return true; /* the policy names no sections: any name */
	for (size_t i = 0; i < n; i++) {
		const char *id = sk_policy_section_id(l->p, i);
		if (!strcmp(*v, id) || !strcmp(*v, sk_policy_section_name(l->p, id, SK_LANG_JA)) ||
		    !strcasecmp(*v, sk_policy_section_name(l->p, id, SK_LANG_EN)))
			return set(v, id);
	}
	return false;
}

/* The id of a record of table tn named by v: its id, or the value of the table's first
 * field when exactly one record has it. 0 found (*id set, malloc'd), SK_ENOTFOUND,
 * SK_EINVAL (several have that name), SK_EIO. */
static int find_ref(sk_ledger *l, const char *tn, const char *v, char **id, sk_error *err)
{
	const sk_ledger_table *t = sk_ledger_table_find(l, tn);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(l->db,
			       "SELECT id FROM records WHERE tbl=?1 AND id=?2 UNION ALL"
			       " SELECT id FROM records WHERE tbl=?1 AND json_extract(data, ?3)=?2"
			       " LIMIT 3",
			       -1, &st, NULL) != SQLITE_OK)
		return sk_error_set(err, SK_EIO, "ledger db: %s", sqlite3_errmsg(l->db));
	char path[80];
	snprintf(path, sizeof(path), "$.\"%s\"", t->fields[0].key);
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, path, -1, SQLITE_TRANSIENT);
	int n = 0, rc = 0;
	*id = NULL;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *x = (const char *)sqlite3_column_text(st, 0);
		if (n == 0 || !*id || strcmp(*id, x))
			n++;
		if (!*id && !(*id = strdup(x)))
			rc = SK_ENOMEM;
		if (n == 1 && !strcmp(x, v))
			break; /* the id itself */
	}
	sqlite3_finalize(st);
	if (rc)
		return sk_error_set(err, rc, "ledger ref");
	if (n == 0)
		return SK_ENOTFOUND;
	if (n > 1) {
		free(*id);
		*id = NULL;
		return SK_EINVAL;
	}
	return 0;
}

static int check_ref(sk_ledger *l, const sk_ledger_field *f, char **v, size_t line,
		     sk_ledger_problems *pr, sk_error *err)
{
	const sk_ledger_table *t = sk_ledger_table_find(l, f->arg);
	sk_buf out;
	sk_buf_init(&out, SK_LEDGER_VALUE_MAX);
	int bad = 0, rc = 0;
	char *s = *v, *save = NULL;
	/* REFS: separated by commas (also the Japanese 、 and ，) */
	for (char *q = s; *q; q++)
		if (f->type == SK_LF_REFS && (!strncmp(q, "、", 3) || !strncmp(q, "，", 3))) {
			q[0] = ',';
			memmove(q + 1, q + 3, strlen(q + 3) + 1);
		}
	for (char *tok = f->type == SK_LF_REFS ? strtok_r(s, ",", &save) : s; tok && !rc;
	     tok = f->type == SK_LF_REFS ? strtok_r(NULL, ",", &save) : NULL) {
		trim(tok);
		if (!*tok)
			continue;
		char *id = NULL;
		int x = find_ref(l, f->arg, tok, &id, err);
		if (x == SK_ENOTFOUND) {
			P(f->key, "%s に「%s」はありません (ID か%sで書いてください)%.0s%.0s%.0s",
			  "%.0s%.0s%.0s%s has no record '%s' (give its ID or %s)", t->ja, tok,
			  t->fields[0].ja, t->en, tok, t->fields[0].en);
			bad++;
		} else if (x == SK_EINVAL) {
			P(f->key, "%s に「%s」が複数あります (ID で書いてください)%.0s",
			  "%.0s%s has several records named '%s' (give the ID)", t->ja, tok, t->en);
			bad++;
		} else if (x) {
			rc = x;
		} else if (sk_buf_len(&out) && sk_buf_adds(&out, ", ")) {
			rc = sk_error_set(err, SK_ELIMIT, "references");
		} else if (sk_buf_adds(&out, id)) {
			rc = sk_error_set(err, SK_ELIMIT, "references");
		}
		free(id);
		if (f->type != SK_LF_REFS)
			break;
	}
	if (rc == 0 && bad == 0) {
		free(*v);
		*v = sk_buf_len(&out) ? (char *)sk_buf_take(&out, NULL) : NULL;
	}
	sk_buf_free(&out);
	return rc ? rc : bad;
}

/* A files value: lines "NAME (QUARANTINE-ID)", a name not empty. */
static int check_files(const sk_ledger_field *f, const char *v, size_t line,
		       sk_ledger_problems *pr)
{
	for (const char *s = v; *s;) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		char qid[SK_QUARANTINE_ID_LEN];
		bool ok = n > SK_QUARANTINE_ID_LEN + 2 && s[n - 1] == ')' &&
			  !memcmp(s + n - SK_QUARANTINE_ID_LEN - 2, " (", 2);
		if (ok) {
			memcpy(qid, s + n - SK_QUARANTINE_ID_LEN, SK_QUARANTINE_ID_LEN - 1);
			qid[SK_QUARANTINE_ID_LEN - 1] = 0;
			ok = sk_ledger_qid_ok(qid);
		}
		if (!ok) {
			P(f->key, "%s%.0s の行「%.*s」は「ファイル名 (受付番号)」の形ではありません",
			  "%.0s%s: the line '%.*s' is not 'NAME (ITEM-ID)'", f->ja, f->en, (int)(n > 80 ? 80 : n), s);
			return 1;
		}
		s += n + (nl ? 1 : 0);
	}
	return 0;
}

/* One value: trimmed, checked by type and put in its stored form. 0, problems (> 0), or a
 * negative SK_E*. */
static int check_value(sk_ledger *l, const sk_ledger_field *f, char **v, size_t line,
		       sk_ledger_problems *pr, sk_error *err)
{
	if (f->type == SK_LF_COMPUTED) {
		free(*v);
		*v = NULL;
		return 0;
	}
	if (*v) {
		if (f->type == SK_LF_NOTE)
			lf(*v);
		trim(*v);
		if (!**v) {
			free(*v);
			*v = NULL;
		}
	}
	if (!*v) {
		if (!f->required)
			return 0;
		P(f->key, "%s%.0s は必須です", "%.0s%s is required", f->ja, f->en);
		return 1;
	}
	size_t n = strlen(*v);
	if (n > SK_LEDGER_VALUE_MAX) {
		P(f->key, "%s が長すぎます (%zu バイト、上限 %d)", "%s is too long (%zu bytes, at most %d)",
		  f->ja, n, SK_LEDGER_VALUE_MAX);
		return 1;
	}
	if (!sk_utf8_valid(*v, n)) {
		P(f->key, "%s%.0s に UTF-8 でない文字があります", "%.0s%s is not valid UTF-8", f->ja, f->en);
		return 1;
	}
	for (const unsigned char *q = (const unsigned char *)*v; *q; q++)
		if ((*q < 0x20 && !(f->type == SK_LF_NOTE && (*q == '\n' || *q == '\t')) &&
		     !(f->type == SK_LF_FILES && *q == '\n')) ||
		    *q == 0x7f) {
			bool nl = *q == '\n';
			P(f->key, "%s%.0s に制御文字%s%.0sがあります", "%.0s%s holds a control character%.0s%s",
			  f->ja, f->en, nl ? " (改行は備考などの欄だけに書けます)" : "",
			  nl ? " (line breaks only go in notes)" : "");
			return 1;
		}
	char ja[256], en[256];
	switch (f->type) {
	case SK_LF_DATE:
		if (norm_date(v))
			return 0;
		P(f->key, "%s%.0s「%s」は日付ではありません (例 2025-04-01、2025/4/1)",
		  "%.0s%s '%s' is not a date (e.g. 2025-04-01, 2025/4/1)", f->ja, f->en, *v);
		return 1;
	case SK_LF_DATETIME:
		if (norm_datetime(v))
			return 0;
		P(f->key, "%s%.0s「%s」は日時ではありません (例 2025-04-01 09:30)",
		  "%.0s%s '%s' is not a date and time (e.g. 2025-04-01 09:30)", f->ja, f->en, *v);
		return 1;
	case SK_LF_CHOICE:
		if (norm_choice(f, v))
			return 0;
		choices_text(f, ja, sizeof(ja), en, sizeof(en));
		P(f->key, "%s%.0s「%s」は %s のいずれかです%.0s", "%.0s%s '%s' must be one of %.0s%s", f->ja, f->en, *v, ja, en);
		return 1;
	case SK_LF_LEVEL:
		if (!sk_policy_class_levels(l->p, f->arg, NULL)) {
			P(f->key, "ポリシーの分類に「%s」がありません", "the policy's classification has no '%s'",
			  f->arg);
			return 1;
		}
		if (norm_level(l, f, v))
			return 0;
		levels_text(l, f->arg, ja, sizeof(ja));
		P(f->key, "%s%.0s「%s」はポリシーの段階 (%s) にありません",
		  "%.0s%s '%s' is not on the policy's scale (%s)", f->ja, f->en, *v, ja);
		return 1;
	case SK_LF_ZONE:
		if (norm_zone(l, v))
			return 0;
		P(f->key, "ゾーン「%s」はポリシーにありません", "zone '%s' is not in the policy", *v);
		return 1;
	case SK_LF_SECTION:
		if (norm_section(l, v))
			return 0;
		P(f->key, "所属「%s」はポリシーの sections にありません",
		  "section '%s' is not in the policy's sections", *v);
		return 1;
	case SK_LF_BOOL:
		if (norm_bool(v))
			return 0;
		P(f->key, "%s%.0s「%s」は はい か いいえ です", "%.0s%s '%s' must be yes or no", f->ja, f->en, *v);
		return 1;
	case SK_LF_REF:
	case SK_LF_REFS:
		return check_ref(l, f, v, line, pr, err);
	case SK_LF_FILES:
		return check_files(f, *v, line, pr);
	default:
		return 0;
	}
}

/* ---- the rules of each ledger ---- */

static const char *val(const sk_ledger_table *t, char **vals, const char *key)
{
	int i = sk_ledger_field_index(t, key);
	return i >= 0 ? vals[i] : NULL;
}

static bool is(const char *v, const char *code)
{
	return v && !strcmp(v, code);
}

/* incidents: each step of the chain has a time and a person; the steps come in order, each
 * not before the one above it, the first not before the incident was found. */
static int rules_incidents(sk_ledger *l, const sk_ledger_table *t, char **vals, size_t line,
			   sk_ledger_problems *pr)
{
	const char *const *roles = NULL;
	size_t nr = sk_policy_incident_chain(l->p, &roles);
	int bad = 0;
	const char *prev_at = val(t, vals, "found_at"), *prev_name = NULL, *prev_en = NULL;
	size_t first_gap = (size_t)-1;
	for (size_t i = 0; i < nr; i++) {
		char ka[96], kb[96];
		snprintf(ka, sizeof(ka), "chain.%s.at", roles[i]);
		snprintf(kb, sizeof(kb), "chain.%s.by", roles[i]);
		const char *at = val(t, vals, ka), *by = val(t, vals, kb);
		const char *rn = sk_policy_role_name(l->p, roles[i], SK_LANG_JA);
		const char *rn_en = sk_policy_role_name(l->p, roles[i], SK_LANG_EN);
		if (!at != !by) {
			P(at ? kb : ka, "%s%.0s の段には日時と氏名の両方を書いてください",
			  "the step of %.0s%s needs both a time and a person", rn, rn_en);
			bad++;
		}
		if (!at && !by) {
			if (first_gap == (size_t)-1)
				first_gap = i;
			continue;
		}
		if (first_gap != (size_t)-1) {
			const char *gn = sk_policy_role_name(l->p, roles[first_gap], SK_LANG_JA);
			const char *gn_en = sk_policy_role_name(l->p, roles[first_gap], SK_LANG_EN);
			P(ka, "段は順に進みます: %s の前に %s の段を記録してください%.0s%.0s",
			  "%.0s%.0sthe steps go in order: record the step of %s before %s", gn, rn, gn_en,
			  rn_en);
			bad++;
			continue;
		}
		if (at && prev_at && strcmp(at, prev_at) < 0) {
			if (prev_name)
				P(ka, "%s の日時 (%s) が前の段 %s (%s) より前です%.0s%.0s%.0s%.0s",
				  "%.0s%.0s%.0s%.0sthe time of %s (%s) is before the step above, %s (%s)", rn,
				  at, prev_name, prev_at, rn_en, at, prev_en, prev_at);
			else
				P(ka, "%s%.0s の日時 (%s) が発見日時 (%s) より前です",
				  "the time of %.0s%s (%s) is before the incident was found (%s)", rn, rn_en,
				  at, prev_at);
			bad++;
		}
		if (at) {
			prev_at = at;
			prev_name = rn;
			prev_en = rn_en;
		}
	}
	if (is(val(t, vals, "state"), "closed") && !val(t, vals, "result")) {
		P("result", "完了にするには結果を書いてください", "a closed incident needs its result");
		bad++;
	}
	return bad;
}

static int rules_exceptions(const sk_ledger_table *t, char **vals, size_t line,
			    sk_ledger_problems *pr)
{
	int bad = 0;
	const char *from = val(t, vals, "from"), *until = val(t, vals, "until");
	if (from && until && strcmp(until, from) < 0) {
		P("until", "期限 (%s) が開始日 (%s) より前です", "until (%s) is before from (%s)", until,
		  from);
		bad++;
	}
	const char *rq = val(t, vals, "requested_by"), *ap = val(t, vals, "approved_by");
	if (rq && ap && !strcmp(rq, ap)) {
		P("approved_by", "申請者本人は承認できません", "the requester cannot approve their own exception");
		bad++;
	}
	return bad;
}

static int rules_entries(const sk_ledger_table *t, char **vals, size_t line,
			 sk_ledger_problems *pr)
{
	int bad = 0;
	const char *kind = val(t, vals, "person_kind");
	if (is(kind, "contractor")) {
		if (!val(t, vals, "contractor")) {
			P("contractor", "委託事業者の入室には、事前に登録された委託事業者 (contractors) が必要です",
			  "a contractor's entry needs the contractor, registered in advance (contractors)");
			bad++;
		}
		if (!val(t, vals, "escort")) {
			P("escort", "委託事業者の入室には立会者が必要です", "a contractor's entry needs an escort");
			bad++;
		}
	} else if (is(kind, "staff") && val(t, vals, "contractor")) {
		P("contractor", "職員の入室に委託事業者は書きません", "a staff entry names no contractor");
		bad++;
	}
	const char *in = val(t, vals, "in"), *out = val(t, vals, "out");
	if (in && out && strcmp(out, in) < 0) {
		P("out", "退室 (%s) が入室 (%s) より前です", "out (%s) is before in (%s)", out, in);
		bad++;
	}
	return bad;
}

static int rules_contractors(const sk_ledger_table *t, char **vals, size_t line,
			     sk_ledger_problems *pr)
{
	if (is(val(t, vals, "resubcontract"), "yes") && !val(t, vals, "resubcontractor")) {
		P("resubcontractor", "再委託があるときは再委託先を書いてください",
		  "name the re-subcontractor when there is re-subcontracting");
		return 1;
	}
	return 0;
}

static int rules_answers(const sk_ledger_table *t, char **vals, size_t line,
			 sk_ledger_problems *pr)
{
	const char *a = val(t, vals, "answer");
	if ((is(a, "partial") || is(a, "not-done")) && !val(t, vals, "comment")) {
		P("comment", "結果が「一部」「未実施」のときはコメント (理由・予定) を書いてください",
		  "an answer 'partly done' or 'not done' needs a comment (why, and what is planned)");
		return 1;
	}
	return 0;
}

static int rules_findings(const sk_ledger_table *t, char **vals, size_t line,
			  sk_ledger_problems *pr)
{
	const char *st = val(t, vals, "state"), *closed = val(t, vals, "closed_on");
	if (is(st, "closed") && !closed) {
		P("closed_on", "完了にするには完了日を書いてください", "a closed finding needs the date it was closed");
		return 1;
	}
	if (is(st, "open") && closed) {
		P("closed_on", "対応中の指摘事項に完了日は書きません", "an open finding has no closing date");
		return 1;
	}
	return 0;
}

/* one attendance per person and session */
static int rules_attendance(sk_ledger *l, const sk_ledger_table *t, char **vals, size_t line,
			    const char *self, sk_ledger_problems *pr, sk_error *err)
{
	const char *ses = val(t, vals, "session"), *person = val(t, vals, "person");
	if (!ses || !person)
		return 0;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(l->db,
			       "SELECT id FROM records WHERE tbl=?1 AND json_extract(data, '$.session')=?2"
			       " AND json_extract(data, '$.person')=?3 AND id<>?4 LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return sk_error_set(err, SK_EIO, "ledger db: %s", sqlite3_errmsg(l->db));
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ses, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, person, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, self ? self : "", -1, SQLITE_TRANSIENT);
	int bad = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		P("person", "%s さんの %s の受講記録は既にあります (%s)",
		  "%s already has an attendance record for %s (%s)", person, ses,
		  (const char *)sqlite3_column_text(st, 0));
		bad = 1;
	}
	sqlite3_finalize(st);
	return bad;
}

int sk_ledger_check(sk_ledger *l, const sk_ledger_table *t, char **vals, size_t line,
		    const char *self_id, sk_ledger_problems *pr, sk_error *err)
{
	int bad = 0;
	size_t total = 0;
	for (size_t i = 0; i < t->nfields; i++) {
		int x = check_value(l, &t->fields[i], &vals[i], line, pr, err);
		if (x < 0)
			return x;
		bad += x;
		total += vals[i] ? strlen(vals[i]) : 0;
	}
	if (total > SK_LEDGER_RECORD_MAX) {
		P("", "記録が大きすぎます (%zu バイト、上限 %d)", "the record is too large (%zu bytes, at most %d)",
		  total, SK_LEDGER_RECORD_MAX);
		bad++;
	}
	if (bad)
		return bad; /* the rules read values that are known to be well-formed */
	const char *n = t->name;
	if (!strcmp(n, "incidents"))
		return rules_incidents(l, t, vals, line, pr);
	if (!strcmp(n, "exceptions"))
		return rules_exceptions(t, vals, line, pr);
	if (!strcmp(n, "entries"))
		return rules_entries(t, vals, line, pr);
	if (!strcmp(n, "contractors"))
		return rules_contractors(t, vals, line, pr);
	if (!strcmp(n, "inspections/answers"))
		return rules_answers(t, vals, line, pr);
	if (!strcmp(n, "inspections/findings"))
		return rules_findings(t, vals, line, pr);
	if (!strcmp(n, "training/attendance"))
		return rules_attendance(l, t, vals, line, self_id, pr, err);
	return 0;
}
