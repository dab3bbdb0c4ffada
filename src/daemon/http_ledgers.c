/* sekishod's http role: the ledgers (台帳) through the API (docs/api.md "Ledgers").
 *
 * The role's one ledger handle (skd_gate.ledger, shared with the gate's incidents) serves
 * every thread; its lock serialises them. The route's permission mask has been checked by
 * the dispatcher; the rights that depend on the table and the record are checked here:
 * ledger-section only on tables with a section field and records of the user's own
 * section (stored and as changed), incident-report only on incidents the user created or
 * signed a step of. A change made here is audited by the ledger service with the
 * logged-in user as actor. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http.h"
#include "sekisho/audit.h"
#include "sekisho/ledger.h"
#include "sekisho/name.h"

#define LG_PER_PAGE_MAX 500
#define LG_PER_PAGE_DEFAULT 100
#define LG_FILTERS_MAX 16
#define LG_KV_MAX 96 /* values of one add or update (keys, or headers) */
#define LG_TOKEN_MAX 64

/* An import and a checklist generation are made one at a time in this role. (An update
 * and an incident's step pass the version they read to the ledger service, which checks
 * it in the change's transaction: SK_ECONFLICT, 409.) */
static pthread_mutex_t change_mu = PTHREAD_MUTEX_INITIALIZER;

static const struct {
	const char *name, *ja, *en;
} ledger_titles[] = {
	{"assets", "情報資産管理台帳", "Information assets"},
	{"incidents", "情報セキュリティ事故管理台帳", "Security incidents"},
	{"exceptions", "例外措置", "Exceptions"},
	{"training", "研修管理台帳", "Training"},
	{"entries", "入退室管理台帳", "Security-area entries"},
	{"contractors", "外部委託事業者", "Contractors"},
	{"inspections", "自己点検・監査", "Self-inspections and audits"},
	{"laws", "法規制等登録簿", "Laws and rules"},
};

static sk_ledger *ledger_of(skh_req *r)
{
	return r->l->s->gate.ledger;
}

static const sk_policy *policy_of(skh_req *r)
{
	return r->l->s->d->policy;
}

/* ---- answers ---- */

static void lg_busy(skh_req *r, const sk_error *e)
{
	SKD_EVENT(SKD_ERR, "http-error", "台帳の要求を処理できませんでした",
		  "could not handle a ledger request", SKD_S("route", r->route->pattern),
		  SKD_S("error", e->msg));
	skh_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
		  "処理できませんでした。しばらくしてからやり直してください",
		  "Could not do this now; try again later", NULL);
}

static void lg_not_found(skh_req *r)
{
	skh_error(r, MHD_HTTP_NOT_FOUND, "not-found", "見つかりません", "Not found", NULL);
}

static void lg_bad(skh_req *r, const char *ja, const char *en)
{
	skh_error(r, MHD_HTTP_BAD_REQUEST, "bad-request", ja, en, NULL);
}

static void lg_forbidden(skh_req *r)
{
	skh_forbidden(r, "権限がありません", "You do not have the right to do this", NULL);
}

/* 400 invalid with the problems of the ledger service. */
static void lg_invalid(skh_req *r, const sk_ledger_problems *pr)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < pr->n; i++)
		json_array_append_new(arr, json_pack("{s:I,s:s,s:s,s:s}", "line",
						     (json_int_t)pr->v[i].line, "field",
						     pr->v[i].field, "message", pr->v[i].ja,
						     "message_en", pr->v[i].en));
	skh_error(r, MHD_HTTP_BAD_REQUEST, "invalid", "入力に誤りがあります (何も記録していません)",
		  "Some values are not valid (nothing was recorded)",
		  json_pack("{s:o,s:I}", "problems", arr, "count", (json_int_t)pr->count));
}

static json_t *jstr(const char *s)
{
	json_t *o = s ? json_string(s) : NULL;
	return o ? o : json_null();
}

/* "2026-12-07 08:28" (JST) of now; today "2026-12-07". */
static void now_local(char out[20])
{
	char iso[32];
	skh_time_jst(sk_time_now_us(), iso);
	memcpy(out, iso, 16);
	out[10] = ' ';
	out[16] = 0;
}

/* ---- tables and tokens ---- */

static void token_of(const char *name, char out[LG_TOKEN_MAX])
{
	snprintf(out, LG_TOKEN_MAX, "%s", name);
	for (char *p = out; *p; p++)
		if (*p == '/')
			*p = '-';
}

/* The table of a token ("training-plans", or a ledger's name: its first table). */
static const sk_ledger_table *table_of(skh_req *r, const char *token)
{
	char name[LG_TOKEN_MAX];
	if (strlen(token) >= sizeof(name))
		return NULL;
	snprintf(name, sizeof(name), "%s", token);
	for (char *p = name; *p; p++)
		if (*p == '-')
			*p = '/';
	return sk_ledger_table_find(ledger_of(r), name);
}

static bool is_incidents(const sk_ledger_table *t)
{
	return !strcmp(t->name, "incidents");
}

/* The index of the table's section field (SK_LF_SECTION); SK_ENOTFOUND (negative) when it
 * has none. */
static int section_field(const sk_ledger_table *t)
{
	for (size_t i = 0; i < t->nfields; i++)
		if (t->fields[i].type == SK_LF_SECTION)
			return (int)i;
	return SK_ENOTFOUND;
}

/* ---- rights ---- */

static uint32_t perms(skh_req *r)
{
	return r->rights.perms;
}

static bool reads_table(skh_req *r, const sk_ledger_table *t)
{
	return (perms(r) & SK_PERM_LEDGERS) || (is_incidents(t) && (perms(r) & SK_PERM_INCIDENT_REPORT));
}

/* Did the user sign a step of this incident? */
static bool signed_step(skh_req *r, const sk_ledger_table *t, const sk_ledger_record *rec)
{
	const char *const *roles = NULL;
	size_t nr = sk_policy_incident_chain(policy_of(r), &roles);
	for (size_t i = 0; i < nr; i++) {
		char key[96];
		snprintf(key, sizeof(key), "chain.%s.by", roles[i]);
		int fi = sk_ledger_field_index(t, key);
		if (fi >= 0 && (size_t)fi < rec->n && rec->values[fi] &&
		    !strcmp(rec->values[fi], r->user.name))
			return true;
	}
	return false;
}

/* May the user see this record? (incident-report without ledgers: the incidents they
 * created or signed a step of) */
static bool sees(skh_req *r, const sk_ledger_table *t, const sk_ledger_record *rec)
{
	if (perms(r) & SK_PERM_LEDGERS)
		return true;
	if (!is_incidents(t) || !(perms(r) & SK_PERM_INCIDENT_REPORT))
		return false;
	return !strcmp(rec->created_by, r->user.name) || signed_step(r, t, rec);
}

static bool may_add(skh_req *r, const sk_ledger_table *t)
{
	return (perms(r) & SK_PERM_LEDGER_ALL) ||
	       ((perms(r) & SK_PERM_LEDGER_SECTION) && section_field(t) >= 0 && *r->rights.section) ||
	       (is_incidents(t) && (perms(r) & SK_PERM_INCIDENT_REPORT));
}

/* The section id a value names, as the ledger service will store it: trimmed, then the
 * first section of the policy whose id, name or English name (any case) it is; the
 * trimmed text itself when the policy has no sections. NULL when no section matches
 * (*empty: the trimmed value is empty, the field is cleared; otherwise the service
 * refuses the value). */
static const char *section_norm(skh_req *r, const char *v, char *buf, size_t n, bool *empty)
{
	const char *a = v;
	for (;;) {
		if (*a == ' ' || *a == '\t' || *a == '\r' || *a == '\n')
			a++;
		else if (!strncmp(a, "\xe3\x80\x80", 3))
			a += 3;
		else
			break;
	}
	size_t len = strlen(a);
	for (;;) {
		if (len && (a[len - 1] == ' ' || a[len - 1] == '\t' || a[len - 1] == '\r' ||
			    a[len - 1] == '\n'))
			len--;
		else if (len >= 3 && !memcmp(a + len - 3, "\xe3\x80\x80", 3))
			len -= 3;
		else
			break;
	}
	*empty = len == 0;
	if (len >= n)
		return NULL; /* too long: refused by the service */
	memcpy(buf, a, len);
	buf[len] = 0;
	const sk_policy *p = policy_of(r);
	size_t ns = sk_policy_section_count(p);
	if (!ns)
		return buf;
	for (size_t i = 0; i < ns && len; i++) {
		const char *id = sk_policy_section_id(p, i);
		if (!strcmp(buf, id) || !strcmp(buf, sk_policy_section_name(p, id, SK_LANG_JA)) ||
		    !strcasecmp(buf, sk_policy_section_name(p, id, SK_LANG_EN)))
			return id;
	}
	return NULL;
}

/* The table of the route's {id} when the user may (may: reads_table, may_add); NULL when
 * not, an answer (404 unknown, 403) given. */
static const sk_ledger_table *table_for(skh_req *r,
					bool (*may)(skh_req *, const sk_ledger_table *))
{
	const sk_ledger_table *t = table_of(r, r->id);
	if (!t) {
		lg_not_found(r);
		return NULL;
	}
	if (!may(r, t)) {
		lg_forbidden(r);
		return NULL;
	}
	return t;
}

/* ledger-section: is the stored record the user's section? */
static bool own_section(skh_req *r, const sk_ledger_table *t, const sk_ledger_record *rec)
{
	int fi = section_field(t);
	return fi >= 0 && *r->rights.section && (size_t)fi < rec->n && rec->values[fi] &&
	       !strcmp(rec->values[fi], r->rights.section);
}

static bool may_edit(skh_req *r, const sk_ledger_table *t, const sk_ledger_record *rec)
{
	if (perms(r) & SK_PERM_LEDGER_ALL)
		return true;
	return (perms(r) & SK_PERM_LEDGER_SECTION) && own_section(r, t, rec);
}

/* ledger-section: would the record's section after the change (kv over the stored
 * value, stored NULL for a new record) be the user's own? A value no section matches is
 * left to the service (which refuses it). */
static bool change_in_section(skh_req *r, const sk_ledger_table *t, const sk_ledger_kv *kv,
			      size_t n, const char *stored)
{
	int fi = section_field(t);
	if (fi < 0 || !*r->rights.section)
		return false;
	const char *v = stored;
	bool given = false;
	for (size_t i = 0; i < n; i++)
		if (sk_ledger_field_index(t, kv[i].key) == fi) {
			v = kv[i].value;
			given = true;
		}
	if (!v)
		return false;
	if (!given)
		return !strcmp(v, r->rights.section);
	char buf[SK_LEDGER_VALUE_MAX + 1];
	bool empty;
	const char *id = section_norm(r, v, buf, sizeof(buf), &empty);
	if (!id) /* cleared: no section, not the user's; else the service refuses the value */
		return !empty;
	return !strcmp(id, r->rights.section);
}

/* ---- records as JSON ---- */

static json_t *record_json(skh_req *r, const sk_ledger_table *t, const sk_ledger_record *rec)
{
	sk_ledger *l = ledger_of(r);
	json_t *vals = json_object(), *text = json_object();
	for (size_t i = 0; i < t->nfields && i < rec->n; i++) {
		const char *v = rec->values[i];
		if (!v || !*v)
			continue;
		json_object_set_new(vals, t->fields[i].key, jstr(v));
		json_object_set_new(text, t->fields[i].key,
				    jstr(sk_ledger_value_text(l, &t->fields[i], v, r->lang)));
	}
	return json_pack("{s:s,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:b}", "id", rec->id, "version",
			 (json_int_t)rec->version, "created", skh_time_json(rec->created_us),
			 "created_by", jstr(rec->created_by), "updated",
			 skh_time_json(rec->updated_us), "updated_by", jstr(rec->updated_by),
			 "values", vals, "text", text, "can_edit", may_edit(r, t, rec));
}

/* The values of a request ({"values":{KEY:value}}): strings, null for "". 0, or an answer
 * (400) is set. The kv point into r->json. */
static int values_of(skh_req *r, sk_ledger_kv *kv, size_t *n)
{
	json_t *vals = json_object_get(r->json, "values");
	*n = 0;
	if (!json_is_object(vals)) {
		lg_bad(r, "values (項目と値のオブジェクト) を送ってください",
		       "Send values (an object of fields and values)");
		return SK_EINVAL;
	}
	const char *key;
	json_t *v;
	json_object_foreach(vals, key, v) {
		if (*n == LG_KV_MAX) {
			lg_bad(r, "項目が多すぎます", "Too many fields");
			return SK_EINVAL;
		}
		if (!json_is_string(v) && !json_is_null(v)) {
			lg_bad(r, "値は文字列で送ってください (null は空)",
			       "Send each value as a string (null: empty)");
			return SK_EINVAL;
		}
		kv[*n].key = key;
		kv[*n].value = json_is_string(v) ? json_string_value(v) : "";
		(*n)++;
	}
	return 0;
}

/* ---- GET /api/ledgers: the schema ---- */

static const char *type_word(sk_ledger_type t)
{
	static const char *const w[] = {"text",    "note",    "date", "datetime", "choice",
					"level",   "zone",    "section", "bool",   "ref",
					"refs",    "computed", "files"};
	return (unsigned)t <= SK_LF_FILES ? w[t] : "text";
}

static json_t *field_json(skh_req *r, const sk_ledger_field *f)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:b,s:i}", "key", f->key, "ja", f->ja, "en", f->en,
			      "type", type_word(f->type), "required", f->required, "width",
			      (int)f->width);
	if (!o)
		return NULL;
	if (f->nchoices) {
		json_t *ch = json_array();
		for (size_t i = 0; i < f->nchoices; i++)
			json_array_append_new(ch, json_pack("{s:s,s:s,s:s}", "code", f->choices[i].code,
							    "ja", f->choices[i].ja, "en",
							    f->choices[i].en));
		json_object_set_new(o, "choices", ch);
	}
	if (f->type == SK_LF_LEVEL && f->arg) {
		const char *const *lv = NULL;
		size_t n = sk_policy_class_levels(policy_of(r), f->arg, &lv);
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, jstr(lv[i]));
		json_object_set_new(o, "levels", a);
	}
	if ((f->type == SK_LF_REF || f->type == SK_LF_REFS) && f->arg) {
		char tok[LG_TOKEN_MAX];
		token_of(f->arg, tok);
		json_object_set_new(o, "ref", jstr(tok));
	}
	return o;
}

static json_t *table_json(skh_req *r, const sk_ledger_table *t)
{
	char tok[LG_TOKEN_MAX];
	token_of(t->name, tok);
	json_t *fields = json_array();
	for (size_t i = 0; i < t->nfields; i++)
		json_array_append_new(fields, field_json(r, &t->fields[i]));
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:o}", "token", tok, "name", t->name, "ja", t->ja,
			 "en", t->en, "prefix", t->prefix, "can_add", may_add(r, t), "fields",
			 fields);
}

void skh_ledgers_schema(skh_req *r)
{
	sk_ledger *l = ledger_of(r);
	const sk_policy *p = policy_of(r);
	json_t *ledgers = json_array();
	for (size_t i = 0; i < sizeof(ledger_titles) / sizeof(ledger_titles[0]); i++) {
		const sk_ledger_table *tv[8];
		size_t nt = sk_ledger_tables(l, ledger_titles[i].name, tv, 8);
		json_t *tables = json_array();
		for (size_t k = 0; k < nt && k < 8; k++)
			if (reads_table(r, tv[k]))
				json_array_append_new(tables, table_json(r, tv[k]));
		if (!json_array_size(tables)) {
			json_decref(tables);
			continue;
		}
		json_array_append_new(ledgers, json_pack("{s:s,s:s,s:s,s:o}", "name",
							 ledger_titles[i].name, "ja",
							 ledger_titles[i].ja, "en",
							 ledger_titles[i].en, "tables", tables));
	}
	json_t *sections = json_array();
	for (size_t i = 0; i < sk_policy_section_count(p); i++) {
		const char *id = sk_policy_section_id(p, i);
		json_array_append_new(sections,
				      json_pack("{s:s,s:o,s:o}", "id", id, "name",
						jstr(sk_policy_section_name(p, id, SK_LANG_JA)),
						"name_en", jstr(sk_policy_section_name(p, id, SK_LANG_EN))));
	}
	json_t *zones = json_array();
	for (size_t i = 0; i < sk_policy_zone_count(p); i++)
		json_array_append_new(zones, jstr(sk_policy_zone_id(p, i)));
	json_t *chain = json_array();
	const char *const *roles = NULL;
	size_t nr = sk_policy_incident_chain(p, &roles);
	for (size_t i = 0; i < nr; i++)
		json_array_append_new(chain,
				      json_pack("{s:s,s:o,s:o}", "role", roles[i], "name",
						jstr(sk_policy_role_name(p, roles[i], SK_LANG_JA)),
						"name_en", jstr(sk_policy_role_name(p, roles[i], SK_LANG_EN))));
	json_t *myroles = json_array();
	for (size_t i = 0; i < r->rights.nroles; i++)
		json_array_append_new(myroles, jstr(r->rights.roles[i]));
	char now[20];
	now_local(now);
	now[10] = 0;
	skh_json(r, MHD_HTTP_OK,
		 json_pack("{s:o,s:o,s:o,s:o,s:{s:s,s:s,s:s,s:o},s:s,s:s}", "ledgers", ledgers,
			   "sections", sections, "zones", zones, "chain", chain, "me", "user",
			   r->user.name, "name", r->user.name, "section", r->rights.section, "roles",
			   myroles, "today", now, "zone", "JST"));
}

/* ---- GET /api/ledgers/TABLE: the list ---- */

/* A matching record: what sorting needs (the page's records are read again for the
 * answer, so that a long list keeps only this much in memory). */
typedef struct lrow {
	char id[SK_LEDGER_ID_MAX];
	char *key;   /* sort key: the stored value (malloc'd), NULL when empty */
	int64_t num; /* updated */
	size_t idx;  /* place in the table's order */
} lrow;

typedef struct lfilter {
	int fi;
	const char *value;
} lfilter;

enum { SORT_ID = 0, SORT_UPDATED, SORT_FIELD };

typedef struct lwalk {
	skh_req *r;
	const char *q;
	lfilter f[LG_FILTERS_MAX];
	size_t nf;
	int sort, sort_fi;
	bool bad_filter;
	lrow *v;
	size_t n, cap, seen;
	bool failed;
} lwalk;

static bool matches_q(lwalk *w, const sk_ledger_table *t, const sk_ledger_record *rec)
{
	if (!w->q || !*w->q || strcasestr(rec->id, w->q))
		return true;
	for (size_t i = 0; i < t->nfields && i < rec->n; i++) {
		const char *v = rec->values[i];
		if (!v)
			continue;
		if (strcasestr(v, w->q) ||
		    strcasestr(sk_ledger_value_text(ledger_of(w->r), &t->fields[i], v, w->r->lang),
			       w->q))
			return true;
	}
	return false;
}

static int list_one(void *ctx, const sk_ledger_table *t, const sk_ledger_record *rec)
{
	lwalk *w = ctx;
	size_t idx = w->seen++;
	if (!sees(w->r, t, rec))
		return 0;
	for (size_t i = 0; i < w->nf; i++) {
		const char *v = rec->values[w->f[i].fi];
		if (strcmp(v ? v : "", w->f[i].value))
			return 0;
	}
	if (!matches_q(w, t, rec))
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		lrow *v = realloc(w->v, cap * sizeof(*v));
		if (!v) {
			w->failed = true;
			return SK_ENOMEM;
		}
		w->v = v;
		w->cap = cap;
	}
	lrow *row = &w->v[w->n];
	snprintf(row->id, sizeof(row->id), "%s", rec->id);
	row->idx = idx;
	row->num = rec->updated_us;
	row->key = NULL;
	const char *k = w->sort == SORT_FIELD ? rec->values[w->sort_fi] : NULL;
	if (k && *k && !(row->key = strdup(k))) {
		w->failed = true;
		return SK_ENOMEM;
	}
	w->n++;
	return 0;
}

static int row_cmp(const void *a, const void *b, void *ctx)
{
	const lrow *x = a, *y = b;
	int sort = *(const int *)ctx & 0xff;
	bool desc = *(const int *)ctx >> 8;
	int c = 0;
	if (sort == SORT_FIELD && !x->key != !y->key)
		return x->key ? -1 : 1; /* empty values last, either way */
	if (sort == SORT_UPDATED)
		c = x->num < y->num ? -1 : x->num > y->num;
	else if (sort == SORT_FIELD && x->key)
		c = strcmp(x->key, y->key);
	if (desc)
		c = -c;
	if (!c) /* ties, and SORT_ID: the table's order */
		c = x->idx < y->idx ? -1 : x->idx > y->idx;
	if (!c)
		return 0;
	return sort == SORT_ID && desc ? -c : c;
}

struct args_walk {
	lwalk *w;
	const sk_ledger_table *t;
};

static enum MHD_Result filter_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	(void)kind;
	struct args_walk *aw = cls;
	if (strncmp(key, "f.", 2))
		return MHD_YES;
	int fi = sk_ledger_field_index(aw->t, key + 2);
	if (fi < 0 || aw->w->nf == LG_FILTERS_MAX) {
		aw->w->bad_filter = true;
		return MHD_NO;
	}
	aw->w->f[aw->w->nf++] = (lfilter){fi, value ? value : ""};
	return MHD_YES;
}

static long arg_num(skh_req *r, const char *key, long def, long min, long max, bool *bad)
{
	const char *s = skh_arg(r, key);
	if (!s)
		return def;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max) {
		*bad = true;
		return def;
	}
	return v;
}

void skh_ledger_list(skh_req *r)
{
	const sk_ledger_table *t = table_for(r, reads_table);
	if (!t)
		return;
	bool bad = false;
	long page = arg_num(r, "page", 1, 1, 1000000, &bad);
	long per = arg_num(r, "per_page", LG_PER_PAGE_DEFAULT, 1, LG_PER_PAGE_MAX, &bad);
	lwalk w = {.r = r, .q = skh_arg(r, "q")};
	const char *sort = skh_arg(r, "sort"), *desc = skh_arg(r, "desc");
	if (!sort || !strcmp(sort, "id"))
		w.sort = SORT_ID;
	else if (!strcmp(sort, "updated"))
		w.sort = SORT_UPDATED;
	else if ((w.sort_fi = sk_ledger_field_index(t, sort)) >= 0)
		w.sort = SORT_FIELD;
	else
		bad = true;
	struct args_walk aw = {&w, t};
	MHD_get_connection_values(r->c, MHD_GET_ARGUMENT_KIND, filter_arg, &aw);
	if (bad || w.bad_filter) {
		lg_bad(r, "page・per_page (500 まで)・sort・f.項目 の値が不正です",
		       "page, per_page (at most 500), sort or f.KEY is invalid");
		return;
	}
	sk_error e;
	sk_error_clear(&e);
	int rc = sk_ledger_list(ledger_of(r), t->name, list_one, &w, &e);
	if (rc == 0 && w.failed)
		rc = sk_error_set(&e, SK_ENOMEM, "ledger list");
	json_t *arr = rc == 0 ? json_array() : NULL;
	if (rc == 0 && w.n) {
		int how = w.sort | ((desc && strcmp(desc, "0") && *desc) ? 1 << 8 : 0);
		qsort_r(w.v, w.n, sizeof(*w.v), row_cmp, &how);
	}
	size_t lo = (size_t)(page - 1) * (size_t)per;
	for (size_t i = lo; rc == 0 && i < w.n && i < lo + (size_t)per; i++) {
		sk_ledger_record rec;
		int g = sk_ledger_get(ledger_of(r), t->name, w.v[i].id, &rec, &e);
		if (g == SK_ENOTFOUND)
			continue;
		if (g) {
			rc = g;
			break;
		}
		json_t *o = record_json(r, t, &rec);
		sk_ledger_record_free(&rec);
		if (!o || json_array_append_new(arr, o) != 0)
			rc = sk_error_set(&e, SK_ENOMEM, "ledger list");
	}
	for (size_t i = 0; i < w.n; i++)
		free(w.v[i].key);
	free(w.v);
	if (rc)
		json_decref(arr);
	if (rc) {
		lg_busy(r, &e);
		return;
	}
	char tok[LG_TOKEN_MAX];
	token_of(t->name, tok);
	skh_json(r, MHD_HTTP_OK,
		 json_pack("{s:s,s:o,s:I,s:i,s:i}", "table", tok, "records", arr, "total",
			   (json_int_t)w.n, "page", (int)page, "per_page", (int)per));
}

/* ---- one record ---- */

/* Loads the record r->rid of t that the user may see: 0, or an answer is set (404, 503). */
static int load_visible(skh_req *r, const sk_ledger_table *t, sk_ledger_record *rec)
{
	sk_error e;
	sk_error_clear(&e);
	int rc = sk_ledger_get(ledger_of(r), t->name, r->rid, rec, &e);
	if (rc == SK_ENOTFOUND || (rc == 0 && !sees(r, t, rec))) {
		if (rc == 0)
			sk_ledger_record_free(rec);
		lg_not_found(r);
		return SK_ENOTFOUND;
	}
	if (rc) {
		lg_busy(r, &e);
		return rc;
	}
	return 0;
}

static int history_one(void *ctx, int64_t version, int64_t at_us, const char *by,
		       const char *action, const char *changes, uint64_t audit_seq)
{
	json_t *arr = ctx;
	json_t *ch = changes ? json_loads(changes, 0, NULL) : NULL;
	json_t *c = json_object_get(ch, "changes");
	json_array_append_new(arr, json_pack("{s:I,s:o,s:o,s:o,s:o,s:I}", "version",
					     (json_int_t)version, "time", skh_time_json(at_us),
					     "by", jstr(by), "action", jstr(action), "changes",
					     c ? json_incref(c) : json_object(), "audit_seq",
					     (json_int_t)audit_seq));
	json_decref(ch);
	return 0;
}

/* The record with its history (200). */
static void answer_record_with(skh_req *r, const sk_ledger_table *t, const char *id,
			       unsigned status, json_t *extra);

static void answer_record(skh_req *r, const sk_ledger_table *t, const char *id, unsigned status)
{
	answer_record_with(r, t, id, status, NULL);
}

/* The record with its history (and the members of extra, stolen, may be NULL). */
static void answer_record_with(skh_req *r, const sk_ledger_table *t, const char *id,
			       unsigned status, json_t *extra)
{
	sk_error e;
	sk_error_clear(&e);
	sk_ledger_record rec;
	int rc = sk_ledger_get(ledger_of(r), t->name, id, &rec, &e);
	if (rc) {
		json_decref(extra);
		lg_busy(r, &e);
		return;
	}
	json_t *o = record_json(r, t, &rec);
	sk_ledger_record_free(&rec);
	json_t *hist = json_array();
	rc = sk_ledger_history(ledger_of(r), t->name, id, history_one, hist, &e);
	if (rc || !o) {
		json_decref(hist);
		json_decref(o);
		json_decref(extra);
		lg_busy(r, &e);
		return;
	}
	json_object_set_new(o, "history", hist);
	if (extra)
		json_object_update(o, extra);
	json_decref(extra);
	skh_json(r, status, o);
}

void skh_ledger_get(skh_req *r)
{
	const sk_ledger_table *t = table_for(r, reads_table);
	if (!t)
		return;
	sk_ledger_record rec;
	if (load_visible(r, t, &rec) != 0)
		return;
	sk_ledger_record_free(&rec);
	answer_record(r, t, r->rid, MHD_HTTP_OK);
}

/* ---- changes ---- */

/* The result of sk_ledger_add / update / import as an answer (problems → 400). 0 when it
 * went through. */
/* 409: the record changed since the client read it (version: the stored one, 0 unknown). */
static void lg_conflict(skh_req *r, int64_t version)
{
	skh_error(r, MHD_HTTP_CONFLICT, "conflict",
		  "ほかの人が先に変更しました。開き直してからやり直してください",
		  "Someone else changed this record meanwhile; reload it and try again",
		  version ? json_pack("{s:I}", "version", (json_int_t)version) : NULL);
}

static int change_result(skh_req *r, int rc, const sk_ledger_problems *pr, const sk_error *e)
{
	if (rc == 0)
		return 0;
	if (rc == SK_ECONFLICT)
		lg_conflict(r, 0);
	else if ((rc == SK_EINVAL || rc == SK_EFORMAT || rc == SK_ELIMIT) && pr->count)
		lg_invalid(r, pr);
	else if (rc == SK_ENOTFOUND)
		lg_not_found(r);
	else if (rc == SK_EINVAL || rc == SK_EFORMAT || rc == SK_ELIMIT)
		lg_bad(r, "受け付けられません (何も記録していません)", "Refused (nothing was recorded)");
	else
		lg_busy(r, e);
	return rc;
}

void skh_ledger_add(skh_req *r)
{
	const sk_ledger_table *t = table_for(r, may_add);
	if (!t)
		return;
	sk_ledger_kv kv[LG_KV_MAX + 3];
	size_t n;
	if (values_of(r, kv, &n) != 0)
		return;
	bool all = perms(r) & SK_PERM_LEDGER_ALL;
	bool by_section = !all && (perms(r) & SK_PERM_LEDGER_SECTION) && section_field(t) >= 0;
	char now[20];
	now_local(now);
	if (is_incidents(t)) {
		bool found_by = false, found_at = false;
		for (size_t i = 0; i < n; i++) {
			int fi = sk_ledger_field_index(t, kv[i].key);
			if (fi < 0)
				continue;
			const char *key = t->fields[fi].key;
			found_by = found_by || !strcmp(key, "found_by");
			found_at = found_at || !strcmp(key, "found_at");
			/* the steps are signed one by one through the step route */
			if (!all && !strncmp(key, "chain.", 6)) {
				skh_forbidden(r, "報告経路の各段は順に確認の操作で記録します",
					      "The steps of the chain are signed one by one (the step route)",
					      json_pack("{s:s}", "field", key));
				return;
			}
		}
		if (!found_by)
			kv[n++] = (sk_ledger_kv){"found_by", r->user.name};
		if (!found_at)
			kv[n++] = (sk_ledger_kv){"found_at", now};
	} else if (by_section) {
		/* the user's own section unless another is named */
		int sf = section_field(t);
		bool given = false;
		for (size_t i = 0; i < n; i++) {
			char buf[8];
			bool empty;
			if (sk_ledger_field_index(t, kv[i].key) != sf)
				continue;
			section_norm(r, kv[i].value, buf, sizeof(buf), &empty);
			if (empty)
				kv[i].value = r->rights.section;
			given = true;
		}
		if (!given)
			kv[n++] = (sk_ledger_kv){t->fields[sf].key, r->rights.section};
		if (!change_in_section(r, t, kv, n, NULL)) {
			lg_forbidden(r);
			return;
		}
	}
	sk_error e;
	sk_error_clear(&e);
	sk_ledger_problems pr;
	sk_ledger_problems_init(&pr);
	char id[SK_LEDGER_ID_MAX] = "";
	int rc = sk_ledger_add(ledger_of(r), t->name, kv, n, r->user.name, id, &pr, &e);
	if (change_result(r, rc, &pr, &e) == 0)
		answer_record(r, t, id, MHD_HTTP_CREATED);
	sk_ledger_problems_free(&pr);
}

void skh_ledger_update(skh_req *r)
{
	const sk_ledger_table *t = table_for(r, reads_table);
	if (!t)
		return;
	sk_ledger_record rec;
	if (load_visible(r, t, &rec) != 0) {
		return;
	}
	sk_ledger_kv kv[LG_KV_MAX];
	size_t n = 0;
	json_t *ver = json_object_get(r->json, "version");
	int sf = section_field(t);
	if (!may_edit(r, t, &rec)) {
		lg_forbidden(r);
	} else if (!json_is_integer(ver)) {
		lg_bad(r, "version (読んだときの版) を送ってください",
		       "Send version (the version you read)");
	} else if (values_of(r, kv, &n) != 0) {
		/* answered */
	} else if (json_integer_value(ver) != rec.version) {
		lg_conflict(r, rec.version);
	} else if (!(perms(r) & SK_PERM_LEDGER_ALL) &&
		   !change_in_section(r, t, kv, n, sf >= 0 ? rec.values[sf] : NULL)) {
		lg_forbidden(r);
	} else {
		sk_error e;
		sk_error_clear(&e);
		sk_ledger_problems pr;
		sk_ledger_problems_init(&pr);
		int rc = sk_ledger_update(ledger_of(r), t->name, rec.id, rec.version, kv, n,
					  r->user.name, NULL, &pr, &e);
		if (change_result(r, rc, &pr, &e) == 0)
			answer_record(r, t, rec.id, MHD_HTTP_OK);
		sk_ledger_problems_free(&pr);
	}
	sk_ledger_record_free(&rec);
}

/* POST /api/ledgers/incidents/ID/step: the first step of the chain not signed yet, by a
 * holder of its role. */
void skh_ledger_step(skh_req *r)
{
	const sk_ledger_table *t = sk_ledger_table_find(ledger_of(r), "incidents");
	json_t *note = json_object_get(r->json, "note");
	if (note && !json_is_string(note) && !json_is_null(note)) {
		lg_bad(r, "note は文字列で送ってください", "Send note as a string");
		return;
	}
	const char *text = json_string_value(note);
	if (!t || !reads_table(r, t)) {
		lg_forbidden(r);
		return;
	}
	sk_ledger_record rec;
	if (load_visible(r, t, &rec) != 0) {
		return;
	}
	const sk_policy *p = policy_of(r);
	const char *const *roles = NULL;
	size_t nr = sk_policy_incident_chain(p, &roles), step = nr;
	for (size_t i = 0; i < nr && step == nr; i++) {
		char key[96];
		snprintf(key, sizeof(key), "chain.%s.at", roles[i]);
		int fi = sk_ledger_field_index(t, key);
		if (fi >= 0 && (size_t)fi < rec.n && (!rec.values[fi] || !*rec.values[fi]))
			step = i;
	}
	if (step == nr) {
		skh_error(r, MHD_HTTP_CONFLICT, "conflict", "報告経路のすべての段が記録済みです",
			  "Every step of the chain has been signed", NULL);
	} else if (!sk_auth_has_role(&r->rights, roles[step])) {
		const char *ja = sk_policy_role_name(p, roles[step], SK_LANG_JA);
		const char *en = sk_policy_role_name(p, roles[step], SK_LANG_EN);
		char mja[256], men[256];
		snprintf(mja, sizeof(mja), "次の段は %s が記録します", ja ? ja : roles[step]);
		snprintf(men, sizeof(men), "The next step is signed by the role %s",
			 en ? en : roles[step]);
		skh_forbidden(r, mja, men, json_pack("{s:s}", "step", roles[step]));
	} else {
		char at_key[96], by_key[96], now[20];
		snprintf(at_key, sizeof(at_key), "chain.%s.at", roles[step]);
		snprintf(by_key, sizeof(by_key), "chain.%s.by", roles[step]);
		now_local(now);
		sk_ledger_kv kv[3] = {{at_key, now}, {by_key, r->user.name}};
		size_t n = 2;
		sk_buf actions;
		sk_buf_init(&actions, SK_LEDGER_VALUE_MAX * 2);
		bool too_long = false;
		if (text && *text) {
			/* the note: one more line of the actions taken, "[ROLE-NAME] note" */
			int fa = sk_ledger_field_index(t, "actions");
			const char *old = fa >= 0 && rec.values[fa] ? rec.values[fa] : "";
			const char *rn = sk_policy_role_name(p, roles[step], SK_LANG_JA);
			too_long = sk_buf_printf(&actions, "%s%s[%s] %s", old, *old ? "\n" : "",
						 rn ? rn : roles[step], text) != 0;
			kv[n++] = (sk_ledger_kv){"actions", sk_buf_str(&actions)};
		}
		if (too_long) {
			lg_bad(r, "対応の記録が長すぎます", "The actions taken are too long");
		} else {
			sk_error e;
			sk_error_clear(&e);
			sk_ledger_problems pr;
			sk_ledger_problems_init(&pr);
			int rc = sk_ledger_update(ledger_of(r), t->name, rec.id, rec.version, kv, n,
						  r->user.name, NULL, &pr, &e);
			if (change_result(r, rc, &pr, &e) == 0)
				answer_record(r, t, rec.id, MHD_HTTP_OK);
			sk_ledger_problems_free(&pr);
		}
		sk_buf_free(&actions);
	}
	sk_ledger_record_free(&rec);
}

/* POST /api/ledgers/TABLE/import: the CSV Excel writes, as the raw body. */
void skh_ledger_import(skh_req *r)
{
	const sk_ledger_table *t = table_of(r, r->id);
	if (!t) {
		lg_not_found(r);
		return;
	}
	sk_error e;
	sk_error_clear(&e);
	size_t n = (size_t)r->body_len;
	uint8_t *p = malloc(n ? n : 1);
	if (!p) {
		sk_error_set(&e, SK_ENOMEM, "import body");
		lg_busy(r, &e);
		return;
	}
	size_t got = 0;
	while (got < n) {
		ssize_t k = pread(r->body_fd, p + got, n - got, (off_t)got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	if (got != n) {
		free(p);
		sk_error_set(&e, SK_EIO, "import body: %s", strerror(errno));
		lg_busy(r, &e);
		return;
	}
	sk_ledger_problems pr;
	sk_ledger_problems_init(&pr);
	size_t added = 0, updated = 0;
	pthread_mutex_lock(&change_mu);
	int rc = sk_ledger_import_csv(ledger_of(r), t->name, p, n, r->user.name, &added, &updated,
				      &pr, &e);
	pthread_mutex_unlock(&change_mu);
	free(p);
	if (change_result(r, rc, &pr, &e) == 0)
		skh_json(r, MHD_HTTP_OK, json_pack("{s:I,s:I}", "added", (json_int_t)added, "updated",
						   (json_int_t)updated));
	sk_ledger_problems_free(&pr);
}

/* ---- files made for one answer ---- */

/* A private folder of the state folder for the files of one answer (dir gets its path). */
static int export_dir(skh_req *r, char dir[4096], sk_error *e)
{
	if (snprintf(dir, 4096, "%s/.ledger-export-XXXXXX", r->l->s->d->cfg.state) >= 4096 ||
	    !mkdtemp(dir))
		return sk_error_set(e, SK_EIO, "ledger export folder: %s", strerror(errno));
	return 0;
}

/* Removes the answer folders a killed http role left in the state folder (at start, before
 * any request: none of them is in use then). */
void skh_ledgers_cleanup(const char *state)
{
	DIR *sd = opendir(state);
	if (!sd)
		return;
	unsigned n = 0;
	struct dirent *de;
	while ((de = readdir(sd)) != NULL) {
		if (strncmp(de->d_name, ".ledger-export-", 15) != 0)
			continue;
		int fd = openat(dirfd(sd), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
		if (!d) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		struct dirent *fe;
		while ((fe = readdir(d)) != NULL)
			if (strcmp(fe->d_name, ".") && strcmp(fe->d_name, ".."))
				unlinkat(dirfd(d), fe->d_name, 0);
		closedir(d);
		if (unlinkat(dirfd(sd), de->d_name, AT_REMOVEDIR) == 0)
			n++;
	}
	closedir(sd);
	if (n)
		SKD_EVENT(SKD_INFO, "http-cleanup", "中断された台帳の書き出しの一時フォルダを削除しました",
			  "removed the temporary folders of interrupted ledger exports",
			  SKD_N("folders", n));
}

static void remove_made(const char *dir, const char *const *files, size_t nfiles)
{
	for (size_t i = 0; i < nfiles; i++) {
		char p[4200];
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

/* Sends the file at path (made in dir, which is removed with everything in it) as an
 * attachment named name; rc: how making it went. */
static void send_made(skh_req *r, int rc, sk_error *e, const char *dir, const char *const *files,
		      size_t nfiles, const char *path, const char *name, const char *type)
{
	int fd = -1;
	if (rc == 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		rc = sk_error_set(e, SK_EIO, "open %s: %s", path, strerror(errno));
	remove_made(dir, files, nfiles);
	struct stat st;
	if (rc == 0 && fstat(fd, &st) != 0)
		rc = sk_error_set(e, SK_EIO, "stat: %s", strerror(errno));
	if (rc) {
		if (fd >= 0)
			close(fd);
		lg_busy(r, e);
		return;
	}
	skh_file(r, fd, (uint64_t)st.st_size, name, type);
}

#define XLSX_TYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

/* GET /api/ledgers/LEDGER.xlsx: the workbook of `sekisho ledger export`, written in a
 * private folder of the state folder, opened, removed, then sent. */
void skh_ledger_xlsx(skh_req *r)
{
	sk_ledger *l = ledger_of(r);
	const char *name = NULL, *ja = NULL;
	for (size_t i = 0; i < sizeof(ledger_titles) / sizeof(ledger_titles[0]); i++)
		if (!strcmp(r->id, ledger_titles[i].name)) {
			name = ledger_titles[i].name;
			ja = ledger_titles[i].ja;
		}
	const sk_ledger_table *t = name ? NULL : table_of(r, r->id);
	if (t) {
		name = t->name;
		ja = t->ja;
	}
	if (!name) {
		lg_not_found(r);
		return;
	}
	sk_error e;
	sk_error_clear(&e);
	char dir[4096], path[4200];
	if (export_dir(r, dir, &e) != 0) {
		lg_busy(r, &e);
		return;
	}
	snprintf(path, sizeof(path), "%s/export.xlsx", dir);
	int rc = sk_ledger_export_xlsx(l, name, path, r->lang, &e);
	char day[20], file[256];
	now_local(day);
	day[10] = 0;
	snprintf(file, sizeof(file), "%s-%s.xlsx", ja, day);
	if (rc == 0)
		skh_audit(r, "ledger.export", name, "ok", "xlsx");
	static const char *const files[] = {"export.xlsx"};
	send_made(r, rc, &e, dir, files, 1, path, file, XLSX_TYPE);
}

/* One yearly report at a time: LibreOffice is heavy. */
static pthread_mutex_t report_mu = PTHREAD_MUTEX_INITIALIZER;

/* GET /api/report/YEAR.xlsx and .pdf: the yearly report of fiscal year YEAR. */
static void report(skh_req *r, bool pdf)
{
	const char *y = r->id;
	if (strlen(y) != 4 || strspn(y, "0123456789") != 4 || atoi(y) < 1900 || atoi(y) > 9998) {
		lg_not_found(r);
		return;
	}
	int fy = atoi(y);
	if (pthread_mutex_trylock(&report_mu) != 0) {
		skh_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
			  "ほかの報告を作成中です。しばらくしてからやり直してください",
			  "Another report is being made; try again later", NULL);
		return;
	}
	sk_error e;
	sk_error_clear(&e);
	char dir[4096], xlsx[4200], pdfp[4200];
	int rc = export_dir(r, dir, &e);
	if (rc) {
		pthread_mutex_unlock(&report_mu);
		lg_busy(r, &e);
		return;
	}
	snprintf(xlsx, sizeof(xlsx), "%s/report.xlsx", dir);
	snprintf(pdfp, sizeof(pdfp), "%s/report.pdf", dir);
	rc = sk_ledger_yearly_report(ledger_of(r), r->l->s->d->cfg.state, fy, xlsx,
				     pdf ? pdfp : NULL, r->lang, &e);
	pthread_mutex_unlock(&report_mu);
	char file[256];
	snprintf(file, sizeof(file), "情報セキュリティ年次報告-%d年度.%s", fy, pdf ? "pdf" : "xlsx");
	if (rc == 0)
		skh_audit(r, "report", y, "ok", pdf ? "pdf" : "xlsx");
	static const char *const files[] = {"report.xlsx", "report.pdf"};
	if (rc && pdf && rc != SK_ENOMEM) {
		/* LibreOffice missing, failing or too slow: said in the session's language */
		SKD_EVENT(SKD_ERR, "http-error", "年次報告の PDF を作れません",
			  "cannot make the yearly report's PDF", SKD_S("error", e.msg));
		remove_made(dir, files, 2);
		skh_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", "PDF を作れませんでした",
			  "Could not make the PDF", json_pack("{s:s}", "detail", e.msg));
		return;
	}
	send_made(r, rc, &e, dir, files, 2, pdf ? pdfp : xlsx, file,
		  pdf ? "application/pdf" : XLSX_TYPE);
}

void skh_report_xlsx(skh_req *r)
{
	report(r, false);
}

void skh_report_pdf(skh_req *r)
{
	report(r, true);
}

/* ---- the compliance cycle: charts, missing training, checklists ---- */

/* The console's users as the roster of required training (sk_ledger_roster_load): 0, or
 * an answer is set. */
static int roster_make(skh_req *r, sk_ledger_roster *ro)
{
	memset(ro, 0, sizeof(*ro));
	sk_error e;
	sk_error_clear(&e);
	skh_tctx *t = skh_ctx(r);
	int rc = t ? sk_ledger_roster_load(t->auth, policy_of(r), ro, &e)
		   : sk_error_set(&e, SK_EIO, "roster: no thread context");
	if (rc)
		lg_busy(r, &e);
	return rc;
}

/* The JSON a library function wrote into b, as the answer. */
static void answer_buf(skh_req *r, int rc, sk_buf *b, sk_error *e)
{
	json_t *o = rc == 0 ? json_loadb(sk_buf_str(b), sk_buf_len(b), 0, NULL) : NULL;
	if (rc == 0 && !o)
		sk_error_set(e, SK_EIO, "the ledger service's JSON does not parse");
	if (!o) {
		lg_busy(r, e);
		return;
	}
	skh_json(r, MHD_HTTP_OK, o);
}

#define LG_JSON_OUT_MAX ((size_t)32 << 20) /* bytes of the charts' or roster's JSON */

void skh_ledger_charts(skh_req *r)
{
	const char *period = skh_arg(r, "period");
	if (period && (!*period || strlen(period) > 200)) {
		lg_bad(r, "period の値が不正です", "period is invalid");
		return;
	}
	sk_ledger_roster ro;
	if (roster_make(r, &ro) != 0) {
		sk_ledger_roster_free(&ro);
		return;
	}
	sk_error e;
	sk_error_clear(&e);
	sk_buf b;
	sk_buf_init(&b, LG_JSON_OUT_MAX);
	int rc = sk_ledger_charts(ledger_of(r), period, ro.v, ro.n, r->lang, &b, &e);
	sk_ledger_roster_free(&ro);
	answer_buf(r, rc, &b, &e);
	sk_buf_free(&b);
}

void skh_training_missing(skh_req *r)
{
	sk_ledger_roster ro;
	if (roster_make(r, &ro) != 0) {
		sk_ledger_roster_free(&ro);
		return;
	}
	sk_error e;
	sk_error_clear(&e);
	sk_buf b;
	sk_buf_init(&b, LG_JSON_OUT_MAX);
	int rc = sk_ledger_training_missing(ledger_of(r), ro.v, ro.n, &b, &e);
	sk_ledger_roster_free(&ro);
	answer_buf(r, rc, &b, &e);
	sk_buf_free(&b);
}

/* A line of text for people: 1 to max bytes of UTF-8 without control characters. */
static bool one_line_ok(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0;
	if (!n || n > max || !sk_utf8_valid(s, n))
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

void skh_checklists_generate(skh_req *r)
{
	json_t *jp = json_object_get(r->json, "period"), *jk = json_object_get(r->json, "kind"),
	       *js = json_object_get(r->json, "section");
	const char *period = json_string_value(jp), *kind = jk ? json_string_value(jk) : "self";
	const char *section = js && !json_is_null(js) ? json_string_value(js) : NULL;
	const sk_policy *p = policy_of(r);
	if (!one_line_ok(period, 200) || !kind || (strcmp(kind, "self") && strcmp(kind, "audit")) ||
	    (js && !json_is_null(js) && !json_is_string(js)) ||
	    (section && *section &&
	     (sk_policy_section_count(p) ? !sk_policy_has_section(p, section)
					 : !one_line_ok(section, 200)))) {
		lg_bad(r,
		       "period (例 2026年度)・kind (self か audit)・section (ポリシーの所属) を確かめてください",
		       "Check period (e.g. 2026年度), kind (self or audit) and section (a section of the "
		       "policy)");
		return;
	}
	sk_error e;
	sk_error_clear(&e);
	size_t added = 0, skipped = 0;
	pthread_mutex_lock(&change_mu);
	int rc = sk_ledger_checklist_generate(ledger_of(r), period, kind, section, r->user.name,
					      &added, &skipped, &e);
	pthread_mutex_unlock(&change_mu);
	if (rc == SK_EINVAL) {
		lg_bad(r, "点検項目を作れません (何も記録していません)",
		       "Cannot make the checklist (nothing was recorded)");
		return;
	}
	if (rc) {
		lg_busy(r, &e);
		return;
	}
	skh_json(r, MHD_HTTP_CREATED,
		 json_pack("{s:I,s:I}", "added", (json_int_t)added, "skipped", (json_int_t)skipped));
}

/* ---- files attached through the gate (evidence) ---- */

/* The files field of t named by ?field= (default: the table's first); SK_ENOTFOUND
 * (negative) when none, an answer (404) given. */
static int files_field(skh_req *r, const sk_ledger_table *t)
{
	const char *key = skh_arg(r, "field");
	for (size_t i = 0; i < t->nfields; i++)
		if (t->fields[i].type == SK_LF_FILES && (!key || !strcmp(t->fields[i].key, key)))
			return (int)i;
	lg_not_found(r);
	return SK_ENOTFOUND;
}

/* The table and the visible record of a files route, and its files field. 0, or an answer
 * was given. */
static int files_target(skh_req *r, const sk_ledger_table **t, sk_ledger_record *rec, int *fi)
{
	if (!(*t = table_for(r, reads_table)))
		return SK_EINVAL;
	if ((*fi = files_field(r, *t)) < 0)
		return SK_ENOTFOUND;
	return load_visible(r, *t, rec);
}

/* POST /api/ledgers/TABLE/ID/files?name=FILE[&field=KEY]: the body through the gate
 * (channel "evidence", from and to this listener's zone: no flow, the default profile);
 * a delivered item is attached to the record, a blocked one is not (422 with the item:
 * the original is in the quarantine, as any blocked upload). */
void skh_ledger_file_post(skh_req *r)
{
	const sk_ledger_table *t;
	sk_ledger_record rec;
	int fi;
	if (files_target(r, &t, &rec, &fi) != 0)
		return;
	const char *name = skh_arg(r, "name");
	if (!may_edit(r, t, &rec)) {
		lg_forbidden(r);
	} else if (!skh_name_ok(name)) {
		lg_bad(r, "ファイル名が不正です (フォルダ名・制御文字・「..」は使えません)",
		       "Invalid file name (no folders, control characters or \"..\")");
	} else {
		sk_item item;
		memset(&item, 0, sizeof(item));
		item.name = name;
		item.dst_zone = r->l->zone;
		item.channel = "evidence";
		sk_qitem it;
		bool denied;
		if (skh_gate_body(r, &item, false, &it, &denied) == 0) {
			json_t *ij = skh_item_json(r, &it);
			if (!it.result_sha256[0]) {
				skh_error(r, 422, "blocked",
					  "ファイルはゲートで遮断されたため添付していません (原本は隔離しています)",
					  "The gate blocked the file; it is not attached (the original is "
					  "kept in quarantine)",
					  json_pack("{s:o}", "item", ij ? ij : json_null()));
			} else {
				char dl[400];
				skh_download_name(&it, dl, sizeof(dl));
				sk_error e;
				sk_error_clear(&e);
				int rc = sk_ledger_attach(ledger_of(r), t->name, rec.id, 0,
							  t->fields[fi].key, it.id, dl, r->user.name, &e);
				if (rc == 0)
					answer_record_with(r, t, rec.id, MHD_HTTP_CREATED,
							   json_pack("{s:o}", "item", ij ? ij : json_null()));
				else {
					json_decref(ij);
					if (rc == SK_ELIMIT)
						lg_bad(r, "添付できるファイルの数を超えました",
						       "Too many files are attached already");
					else
						lg_busy(r, &e);
				}
			}
			sk_qitem_free(&it);
		}
	}
	sk_ledger_record_free(&rec);
}

/* GET /api/ledgers/TABLE/ID/files?item=QID: the sanitised file, to whoever may read the
 * record, when the record lists it and it is an evidence item. */
void skh_ledger_file_get(skh_req *r)
{
	const sk_ledger_table *t;
	sk_ledger_record rec;
	int fi;
	if (files_target(r, &t, &rec, &fi) != 0)
		return;
	const char *qid = skh_arg(r, "item");
	skh_tctx *tc = skh_ctx(r);
	sk_qitem it;
	memset(&it, 0, sizeof(it));
	sk_error e;
	sk_error_clear(&e);
	int rc = !qid || !sk_ledger_files_has(rec.values[fi], qid) ? SK_ENOTFOUND
		 : !tc					     ? SK_EIO
							     : sk_quarantine_get(tc->q, qid, &it, &e);
	if (rc == 0 && (!it.channel || strcmp(it.channel, "evidence")))
		rc = SK_ENOTFOUND;
	int fd = -1;
	uint64_t size = 0;
	if (rc == 0)
		rc = sk_quarantine_result_open(tc->q, it.id, &fd, &size, &e);
	if (rc == SK_ENOTFOUND || rc == SK_EINVAL) {
		lg_not_found(r);
	} else if (rc) {
		lg_busy(r, &e);
	} else {
		char obj[160], dl[400];
		snprintf(obj, sizeof(obj), "item:%s ledger:%s/%s", it.id, t->name, rec.id);
		skh_audit(r, "console-download", obj, "evidence", r->l->zone);
		skh_download_name(&it, dl, sizeof(dl));
		skh_file(r, fd, size, dl, NULL);
	}
	sk_qitem_free(&it);
	sk_ledger_record_free(&rec);
}

/* DELETE /api/ledgers/TABLE/ID/files?item=QID: the file no longer attached (the item
 * stays in the quarantine and the audit log). */
void skh_ledger_file_delete(skh_req *r)
{
	const sk_ledger_table *t;
	sk_ledger_record rec;
	int fi;
	if (files_target(r, &t, &rec, &fi) != 0)
		return;
	const char *qid = skh_arg(r, "item");
	if (!may_edit(r, t, &rec)) {
		lg_forbidden(r);
	} else if (!qid || !sk_ledger_files_has(rec.values[fi], qid)) {
		lg_not_found(r);
	} else {
		sk_error e;
		sk_error_clear(&e);
		int rc = sk_ledger_detach(ledger_of(r), t->name, rec.id, rec.version,
					  t->fields[fi].key, qid, r->user.name, &e);
		if (rc == 0)
			answer_record(r, t, rec.id, MHD_HTTP_OK);
		else if (rc == SK_ECONFLICT)
			lg_conflict(r, 0);
		else if (rc == SK_ENOTFOUND)
			lg_not_found(r);
		else
			lg_busy(r, &e);
	}
	sk_ledger_record_free(&rec);
}
