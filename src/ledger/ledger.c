/* The ledgers: the store in ledger.db, add, update, get, list, history (see ledger.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_int.h"
#include "sekisho/io.h"
#include "sekisho/name.h"
#include "sekisho/quarantine.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS records("
	" tbl TEXT NOT NULL, id TEXT NOT NULL, n INTEGER NOT NULL, data TEXT NOT NULL,"
	" version INTEGER NOT NULL, created INTEGER NOT NULL, created_by TEXT NOT NULL,"
	" updated INTEGER NOT NULL, updated_by TEXT NOT NULL, PRIMARY KEY (tbl, id));"
	"CREATE UNIQUE INDEX IF NOT EXISTS records_n ON records(tbl, n);"
	"CREATE TABLE IF NOT EXISTS history("
	" tbl TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, at INTEGER NOT NULL,"
	" by TEXT NOT NULL, action TEXT NOT NULL, changes TEXT NOT NULL, audit_seq INTEGER,"
	" PRIMARY KEY (tbl, id, version));"
	"CREATE TABLE IF NOT EXISTS crashes(sha256 TEXT NOT NULL, at INTEGER NOT NULL, item TEXT);"
	"CREATE INDEX IF NOT EXISTS crashes_sha256 ON crashes(sha256);"
	/* added with the reminders (remind.c): IF NOT EXISTS is the migration of an older
	 * ledger.db */
	"CREATE TABLE IF NOT EXISTS reminders(kind TEXT NOT NULL, tbl TEXT NOT NULL,"
	" id TEXT NOT NULL, about TEXT NOT NULL, sent INTEGER NOT NULL,"
	" PRIMARY KEY (kind, tbl, id, about));";

int64_t sk_ledger_now(const sk_ledger *l)
{
	return l->opt.clock ? l->opt.clock(l->opt.clock_ctx) : sk_time_now_us();
}

int32_t sk_ledger_today(const sk_ledger *l)
{
	return l->opt.today ? l->opt.today : sk_policy_today();
}

void sk_ledger_vals_free(char **vals, size_t n)
{
	for (size_t i = 0; vals && i < n; i++) {
		free(vals[i]);
		vals[i] = NULL;
	}
}

int sk_ledger_db_err(sk_ledger *l, sk_error *err, const char *what)
{
	return sk_error_set(err, SK_EIO, "ledger db: %s: %s", what, sqlite3_errmsg(l->db));
}

int sk_ledger_exec(sk_ledger *l, const char *sql, sk_error *err)
{
	if (sqlite3_exec(l->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sk_ledger_db_err(l, err, sql);
	return 0;
}

/* ---- problems ---- */

void sk_ledger_problems_init(sk_ledger_problems *pr)
{
	memset(pr, 0, sizeof(*pr));
}

void sk_ledger_problems_free(sk_ledger_problems *pr)
{
	if (!pr)
		return;
	free(pr->v);
	memset(pr, 0, sizeof(*pr));
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
void sk_ledger_problem_add(sk_ledger_problems *pr, size_t line, const char *field,
			   const char *ja, const char *en, ...)
{
	if (!pr)
		return;
	pr->count++;
	if (pr->n >= SK_LEDGER_PROBLEMS_MAX)
		return;
	if (pr->n == pr->cap) {
		size_t cap = pr->cap ? pr->cap * 2 : 8;
		sk_ledger_problem *v = realloc(pr->v, cap * sizeof(*v));
		if (!v)
			return; /* counted: the operation still fails */
		pr->v = v;
		pr->cap = cap;
	}
	sk_ledger_problem *x = &pr->v[pr->n++];
	x->line = line;
	snprintf(x->field, sizeof(x->field), "%s", field ? field : "");
	va_list ap, ap2;
	va_start(ap, en);
	va_copy(ap2, ap);
	vsnprintf(x->ja, sizeof(x->ja), ja, ap);
	vsnprintf(x->en, sizeof(x->en), en, ap2);
	va_end(ap2);
	va_end(ap);
}
#pragma GCC diagnostic pop

int sk_ledger_problems_format(const sk_ledger_problems *pr, sk_lang lang, sk_buf *out)
{
	bool en = lang == SK_LANG_EN;
	int rc = 0;
	for (size_t i = 0; i < pr->n && !rc; i++) {
		const sk_ledger_problem *x = &pr->v[i];
		if (x->line)
			rc = sk_buf_printf(out, en ? "line %zu: " : "%zu 行目: ", x->line);
		if (!rc && x->field[0])
			rc = sk_buf_printf(out, en ? "%s: " : "%s: ", x->field);
		if (!rc)
			rc = sk_buf_printf(out, "%s\n", en ? x->en : x->ja);
	}
	if (!rc && pr->count > pr->n)
		rc = sk_buf_printf(out, en ? "… and %zu more problem(s)\n" : "… ほか %zu 件\n",
				   pr->count - pr->n);
	return rc;
}

/* ---- open ---- */

static int private_files(const char *dir, sk_error *err)
{
	static const char *const names[] = {"ledger.db", "ledger.db-wal", "ledger.db-shm"};
	for (size_t i = 0; i < 3; i++) {
		char *p = NULL;
		if (asprintf(&p, "%s/%s", dir, names[i]) < 0)
			return sk_error_set(err, SK_ENOMEM, "path");
		int rc = sk_file_private(p, true, err);
		free(p);
		if (rc)
			return rc;
	}
	return 0;
}

static char *own(sk_ledger *l, char *s)
{
	if (!s || l->nowned >= sizeof(l->owned) / sizeof(l->owned[0])) {
		free(s);
		return NULL;
	}
	return l->owned[l->nowned++] = s;
}

/* The incidents table of this policy: the static fields up to "severity", two fields per
 * step of the chain, then the rest. */
static int build_incidents(sk_ledger *l, sk_error *err)
{
	sk_ledger_table *t = &l->tables[1];
	const char *const *roles = NULL;
	size_t nr = sk_policy_incident_chain(l->p, &roles);
	if (t->nfields + 2 * nr > SK_LEDGER_FIELDS_MAX)
		return sk_error_set(err, SK_ELIMIT, "too many incident fields");
	size_t k = 0;
	for (size_t i = 0; i < t->nfields; i++) {
		l->inc_fields[k++] = t->fields[i];
		if (strcmp(t->fields[i].key, "severity"))
			continue;
		for (size_t j = 0; j < nr; j++) {
			const char *ja = sk_policy_role_name(l->p, roles[j], SK_LANG_JA);
			const char *en = sk_policy_role_name(l->p, roles[j], SK_LANG_EN);
			char *s;
			sk_ledger_field at = {.type = SK_LF_DATETIME, .width = 17};
			sk_ledger_field by = {.type = SK_LF_TEXT, .width = 14};
			if (asprintf(&s, "chain.%s.at", roles[j]) < 0 || !(at.key = own(l, s)) ||
			    asprintf(&s, "%s 報告日時", ja) < 0 || !(at.ja = own(l, s)) ||
			    asprintf(&s, "%s: reported at", en) < 0 || !(at.en = own(l, s)) ||
			    asprintf(&s, "chain.%s.by", roles[j]) < 0 || !(by.key = own(l, s)) ||
			    asprintf(&s, "%s 氏名", ja) < 0 || !(by.ja = own(l, s)) ||
			    asprintf(&s, "%s: who", en) < 0 || !(by.en = own(l, s)))
				return sk_error_set(err, SK_ENOMEM, "incident fields");
			l->inc_fields[k++] = at;
			l->inc_fields[k++] = by;
		}
	}
	t->fields = l->inc_fields;
	t->nfields = k;
	return 0;
}

int sk_ledger_open(const char *dir, sk_audit *audit, const sk_policy *p,
		   const sk_ledger_options *opt, sk_ledger **out, sk_error *err)
{
	*out = NULL;
	if (!dir || !audit || !p)
		return sk_error_set(err, SK_EINVAL, "ledger: folder, audit log and policy are needed");
	sk_ledger *l = calloc(1, sizeof(*l));
	if (!l)
		return sk_error_set(err, SK_ENOMEM, "ledger");
	pthread_mutex_init(&l->mu, NULL);
	l->audit = audit;
	l->p = p;
	if (opt)
		l->opt = *opt;
	memcpy(l->tables, sk_ledger_static_tables, sizeof(l->tables));
	int rc = build_incidents(l, err);
	char *path = NULL;
	if (rc == 0 && (rc = sk_dir_private(dir, err)) == 0 &&
	    asprintf(&path, "%s/ledger.db", dir) < 0) {
		path = NULL;
		rc = sk_error_set(err, SK_ENOMEM, "ledger");
	}
	if (rc == 0 && sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
					       SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK)
		rc = sk_error_set(err, SK_EIO, "open %s: %s", path,
				  l->db ? sqlite3_errmsg(l->db) : "out of memory");
	free(path);
	if (rc == 0 && (rc = private_files(dir, err)) == 0) {
		sqlite3_busy_timeout(l->db, 60000);
		if ((rc = sk_ledger_exec(l, "PRAGMA journal_mode=WAL", err)) == 0 &&
		    (rc = sk_ledger_exec(l, "PRAGMA synchronous=FULL", err)) == 0 &&
		    (rc = sk_ledger_exec(l, "BEGIN IMMEDIATE", err)) == 0) {
			if ((rc = sk_ledger_exec(l, schema, err)) == 0)
				rc = sk_ledger_exec(l, "COMMIT", err);
			else
				sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
		}
		if (rc == 0)
			rc = private_files(dir, err);
	}
	if (rc) {
		sk_ledger_close(l);
		return rc;
	}
	*out = l;
	return 0;
}

void sk_ledger_close(sk_ledger *l)
{
	if (!l)
		return;
	if (l->db)
		sqlite3_close(l->db);
	for (size_t i = 0; i < l->nowned; i++)
		free(l->owned[i]);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

/* ---- tables and fields ---- */

const sk_ledger_table *sk_ledger_table_find(const sk_ledger *l, const char *name)
{
	for (size_t i = 0; name && i < LT_COUNT; i++)
		if (!strcmp(l->tables[i].name, name))
			return &l->tables[i];
	for (size_t i = 0; name && i < LT_COUNT; i++) /* a ledger's name: its first table */
		if (!strcmp(l->tables[i].ledger, name))
			return &l->tables[i];
	return NULL;
}

size_t sk_ledger_tables(const sk_ledger *l, const char *ledger, const sk_ledger_table **v,
			size_t max)
{
	size_t n = 0;
	for (size_t i = 0; ledger && i < LT_COUNT; i++)
		if (!strcmp(l->tables[i].ledger, ledger)) {
			if (n < max)
				v[n] = &l->tables[i];
			n++;
		}
	return n;
}

int sk_ledger_field_index(const sk_ledger_table *t, const char *k)
{
	for (size_t i = 0; k && i < t->nfields; i++)
		if (!strcmp(t->fields[i].key, k))
			return (int)i;
	for (size_t i = 0; k && i < t->nfields; i++)
		if (!strcmp(t->fields[i].ja, k) || !strcasecmp(t->fields[i].en, k))
			return (int)i;
	return SK_ENOTFOUND;
}

const char *sk_ledger_value_text(const sk_ledger *l, const sk_ledger_field *f, const char *v,
				 sk_lang lang)
{
	if (!v)
		return "";
	bool en = lang == SK_LANG_EN;
	for (size_t i = 0; i < f->nchoices; i++)
		if (!strcmp(f->choices[i].code, v))
			return en ? f->choices[i].en : f->choices[i].ja;
	if (f->type == SK_LF_BOOL)
		return !strcmp(v, "yes") ? (en ? "yes" : "はい") : (en ? "no" : "いいえ");
	if (f->type == SK_LF_SECTION && sk_policy_has_section(l->p, v))
		return sk_policy_section_name(l->p, v, lang);
	return v;
}

/* ---- the store ---- */

int sk_ledger_days(int32_t ymd)
{
	int y = ymd / 10000, m = ymd / 100 % 100, d = ymd % 100;
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int32_t sk_ledger_ymd_of_days(int z)
{
	z += 719468;
	int era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int y = (int)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	return (y + (m <= 2)) * 10000 + (int32_t)m * 100 + (int32_t)d;
}

void sk_ledger_date_text(int32_t ymd, char out[11])
{
	unsigned u = (unsigned)ymd;
	snprintf(out, 11, "%04u-%02u-%02u", u / 10000 % 10000, u / 100 % 100, u % 100);
}

int32_t sk_ledger_ymd(const char *v)
{
	return v && strlen(v) >= 10 ? sk_policy_date_parse((char[11]){v[0], v[1], v[2], v[3], v[4],
								     v[5], v[6], v[7], v[8], v[9], 0})
				    : SK_EINVAL;
}

void sk_ledger_compute(sk_ledger *l, const sk_ledger_table *t, char **vals)
{
	int32_t today = sk_ledger_today(l);
	for (size_t i = 0; i < t->nfields; i++) {
		const sk_ledger_field *f = &t->fields[i];
		if (f->type != SK_LF_COMPUTED)
			continue;
		free(vals[i]);
		vals[i] = NULL;
		if (!strcmp(f->key, "handling")) { /* assets: the handling rules of each dimension */
			sk_buf b;
			sk_buf_init(&b, 4096);
			for (size_t j = 0; j < t->nfields; j++) {
				if (t->fields[j].type != SK_LF_LEVEL || !vals[j])
					continue;
				size_t before = sk_buf_len(&b);
				if (before)
					sk_buf_adds(&b, l->opt.lang == SK_LANG_EN ? "; " : "。");
				size_t mid = sk_buf_len(&b);
				sk_policy_class_handling(l->p, t->fields[j].arg, vals[j], l->opt.lang, &b);
				if (sk_buf_len(&b) == mid)
					sk_buf_truncate(&b, before);
			}
			vals[i] = sk_buf_len(&b) ? (char *)sk_buf_take(&b, NULL) : NULL;
			sk_buf_free(&b);
		} else if (!strcmp(f->key, "status")) { /* exceptions: valid, expiring, expired */
			int fi = sk_ledger_field_index(t, "from"), ui = sk_ledger_field_index(t, "until");
			int32_t from = fi >= 0 ? sk_ledger_ymd(vals[fi]) : -1, until = ui >= 0 ? sk_ledger_ymd(vals[ui]) : -1;
			if (from < 0 || until < 0)
				continue;
			const char *s = today < from			     ? "pending"
					: today > until			     ? "expired"
					: sk_ledger_days(until) - sk_ledger_days(today) <=
						  SK_POLICY_EXPIRING_DAYS ? "expiring"
									  : "valid";
			vals[i] = strdup(s);
		} else if (!strcmp(f->key, "overdue")) { /* findings: open past the due date */
			int si = sk_ledger_field_index(t, "state"), di = sk_ledger_field_index(t, "due");
			int32_t due = di >= 0 ? sk_ledger_ymd(vals[di]) : -1;
			if (due < 0 || si < 0)
				continue;
			bool open = !vals[si] || !strcmp(vals[si], "open");
			vals[i] = strdup(open && due < today ? "yes" : "no");
		}
	}
}

static int record_from_row(sk_ledger *l, const sk_ledger_table *t, sqlite3_stmt *st, char **vals,
			   sk_ledger_record *meta, sk_error *err)
{
	const char *data = (const char *)sqlite3_column_text(st, 1);
	json_error_t je;
	json_t *o = json_loads(data ? data : "{}", 0, &je);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return sk_error_set(err, SK_EFORMAT, "ledger record %s: bad data", sqlite3_column_text(st, 0));
	}
	for (size_t i = 0; i < t->nfields; i++) {
		json_t *v = json_object_get(o, t->fields[i].key);
		vals[i] = NULL;
		if (json_is_string(v) && t->fields[i].type != SK_LF_COMPUTED &&
		    !(vals[i] = strdup(json_string_value(v)))) {
			json_decref(o);
			sk_ledger_vals_free(vals, i);
			return sk_error_set(err, SK_ENOMEM, "ledger record");
		}
	}
	json_decref(o);
	if (meta) {
		snprintf(meta->id, sizeof(meta->id), "%s", sqlite3_column_text(st, 0));
		meta->version = sqlite3_column_int64(st, 2);
		meta->created_us = sqlite3_column_int64(st, 3);
		meta->updated_us = sqlite3_column_int64(st, 5);
		meta->created_by = strdup((const char *)sqlite3_column_text(st, 4));
		meta->updated_by = strdup((const char *)sqlite3_column_text(st, 6));
	}
	return 0;
}

#define ROW_COLS "id, data, version, created, created_by, updated, updated_by"

int sk_ledger_load(sk_ledger *l, const sk_ledger_table *t, const char *id, char **vals,
		   sk_ledger_record *meta, sk_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(l->db, "SELECT " ROW_COLS " FROM records WHERE tbl=? AND id=?", -1,
			       &st, NULL) != SQLITE_OK)
		return sk_ledger_db_err(l, err, "select");
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
	int s = sqlite3_step(st), rc;
	if (s == SQLITE_ROW)
		rc = record_from_row(l, t, st, vals, meta, err);
	else if (s == SQLITE_DONE)
		rc = sk_error_set(err, SK_ENOTFOUND, "%s: no record %s", t->name, id);
	else
		rc = sk_ledger_db_err(l, err, "select");
	sqlite3_finalize(st);
	return rc;
}

int sk_ledger_next_id(sk_ledger *l, const sk_ledger_table *t, char id[SK_LEDGER_ID_MAX],
		      sk_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(l->db, "SELECT coalesce(max(n), 0) + 1 FROM records WHERE tbl=?", -1,
			       &st, NULL) != SQLITE_OK)
		return sk_ledger_db_err(l, err, "next id");
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	int rc = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(id, SK_LEDGER_ID_MAX, "%s-%04lld", t->prefix, (long long)sqlite3_column_int64(st, 0));
	else
		rc = sk_ledger_db_err(l, err, "next id");
	sqlite3_finalize(st);
	return rc;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

int sk_ledger_store(sk_ledger *l, const sk_ledger_table *t, const char *id, bool is_new,
		    char **old, char **vals, const char *by, const char *action, char **detail,
		    bool *changed, sk_error *err)
{
	*detail = NULL;
	*changed = false;
	json_t *data = json_object(), *changes = json_object();
	int rc = 0;
	if (!data || !changes)
		rc = SK_ENOMEM;
	for (size_t i = 0; i < t->nfields && !rc; i++) {
		if (t->fields[i].type == SK_LF_COMPUTED)
			continue;
		if (vals[i] && json_object_set_new(data, t->fields[i].key, json_string(vals[i])))
			rc = SK_ENOMEM;
		const char *o = old ? old[i] : NULL;
		if (!same(o, vals[i])) {
			*changed = true;
			json_t *pair = json_pack("[oo]", jstr(o), jstr(vals[i]));
			if (!pair || json_object_set_new(changes, t->fields[i].key, pair))
				rc = SK_ENOMEM;
		}
	}
	int64_t now = sk_ledger_now(l), version = 1;
	char *text = NULL;
	if (!rc && !(text = json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER)))
		rc = SK_ENOMEM;
	if (rc) {
		json_decref(data);
		json_decref(changes);
		free(text);
		return sk_error_set(err, rc, "ledger record");
	}
	json_decref(data);
	if (!*changed) {
		json_decref(changes);
		free(text);
		return 0;
	}
	sqlite3_stmt *st = NULL;
	if (is_new) {
		rc = sqlite3_prepare_v2(l->db,
					"INSERT INTO records(tbl, id, n, data, version, created, created_by,"
					" updated, updated_by) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?5, ?6)",
					-1, &st, NULL);
		if (rc == SQLITE_OK) {
			const char *dash = strrchr(id, '-');
			sqlite3_bind_int64(st, 3, dash ? strtoll(dash + 1, NULL, 10) : 0);
		}
	} else {
		sqlite3_stmt *v = NULL;
		if (sqlite3_prepare_v2(l->db, "SELECT version FROM records WHERE tbl=? AND id=?", -1, &v,
				       NULL) == SQLITE_OK) {
			sqlite3_bind_text(v, 1, t->name, -1, SQLITE_STATIC);
			sqlite3_bind_text(v, 2, id, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(v) == SQLITE_ROW)
				version = sqlite3_column_int64(v, 0) + 1;
		}
		sqlite3_finalize(v);
		rc = sqlite3_prepare_v2(l->db,
					"UPDATE records SET data=?4, version=version+1, updated=?5,"
					" updated_by=?6 WHERE tbl=?1 AND id=?2",
					-1, &st, NULL);
	}
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, text, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 5, now);
		sqlite3_bind_text(st, 6, by, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sk_ledger_db_err(l, err, "store");
	} else {
		rc = sk_ledger_db_err(l, err, "store");
	}
	sqlite3_finalize(st);
	free(text);
	if (rc) {
		json_decref(changes);
		return rc;
	}
	json_t *d = json_pack("{sIso}", "version", (json_int_t)version, "changes", changes);
	char *ds = d ? json_dumps(d, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(d);
	if (!ds)
		return sk_error_set(err, SK_ENOMEM, "ledger detail");
	if (strlen(ds) > SK_AUDIT_DETAIL_MAX) {
		free(ds);
		return sk_error_set(err, SK_ELIMIT, "the change is too large for one audit record");
	}
	(void)action;
	*detail = ds;
	return 0;
}

static int history_insert(sk_ledger *l, const sk_ledger_table *t, const char *id,
			  const char *by, const char *action, const char *detail, uint64_t seq,
			  sk_error *err)
{
	json_error_t je;
	json_t *d = json_loads(detail, 0, &je);
	json_int_t version = json_integer_value(json_object_get(d, "version"));
	json_decref(d);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(l->db,
			       "INSERT INTO history(tbl, id, version, at, by, action, changes, audit_seq)"
			       " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return sk_ledger_db_err(l, err, "history");
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, version);
	sqlite3_bind_int64(st, 4, sk_ledger_now(l));
	sqlite3_bind_text(st, 5, by, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, detail, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)seq);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sk_ledger_db_err(l, err, "history");
	sqlite3_finalize(st);
	return rc;
}

int sk_ledger_commit_changes(sk_ledger *l, lchange *c, size_t n, const char *by, const char *action,
			  sk_error *err)
{
	int rc = 0;
	uint64_t first = 0;
	if (n) {
		sk_audit_entry *e = calloc(n, sizeof(*e));
		if (!e)
			rc = sk_error_set(err, SK_ENOMEM, "audit entries");
		for (size_t i = 0; i < n && !rc; i++) {
			snprintf(c[i].object, sizeof(c[i].object), "%s/%s", c[i].t->name, c[i].id);
			e[i] = (sk_audit_entry){by, action, c[i].object, "ok", c[i].detail};
		}
		if (!rc)
			rc = sk_audit_append_many(l->audit, e, n, &first, err);
		free(e);
	}
	for (size_t i = 0; i < n && !rc; i++)
		rc = history_insert(l, c[i].t, c[i].id, by, action, c[i].detail, first + i, err);
	if (rc == 0 && (rc = sk_ledger_exec(l, "COMMIT", err)) != 0 && n) {
		sk_error e2;
		sk_audit_append(l->audit, by, action, c[0].t->name, "failed", "ledger commit failed",
				NULL, &e2);
	}
	if (rc)
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

bool sk_ledger_by_ok(const char *by)
{
	if (!by || !*by || strlen(by) > 256 || !sk_utf8_valid(by, strlen(by)))
		return false;
	for (const char *p = by; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* Puts kv into vals (one per field of t); unknown keys and computed fields are problems. */
static int apply_kv(const sk_ledger_table *t, char **vals, const sk_ledger_kv *kv, size_t n,
		    sk_ledger_problems *pr, sk_error *err)
{
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		int fi = sk_ledger_field_index(t, kv[i].key);
		if (fi < 0 || t->fields[fi].type == SK_LF_COMPUTED || t->fields[fi].type == SK_LF_FILES) {
			bool files = fi >= 0 && t->fields[fi].type == SK_LF_FILES;
			sk_ledger_problem_add(pr, 0, kv[i].key ? kv[i].key : "",
					      fi < 0	? "%s にこの項目はありません"
					      : files ? "%s: ファイルは「ファイルを添付」で追加し、一覧から外します"
						      : "%s のこの項目は自動で決まります (変更できません)",
					      fi < 0	? "%s has no such field"
					      : files ? "%s: files are added with \"Attach a file\" and removed from their list"
						      : "%s: this field is worked out, not set",
					      t->name);
			bad++;
			continue;
		}
		free(vals[fi]);
		if (!(vals[fi] = strdup(kv[i].value ? kv[i].value : "")))
			return sk_error_set(err, SK_ENOMEM, "ledger value");
	}
	return bad;
}

int sk_ledger_add(sk_ledger *l, const char *table, const sk_ledger_kv *kv, size_t n,
		  const char *by, char id_out[SK_LEDGER_ID_MAX], sk_ledger_problems *pr,
		  sk_error *err)
{
	const sk_ledger_table *t = sk_ledger_table_find(l, table);
	if (!t)
		return sk_error_set(err, SK_EINVAL, "no ledger %s", table ? table : "(null)");
	if (!sk_ledger_by_ok(by))
		return sk_error_set(err, SK_EINVAL, "who makes the change is missing or invalid");
	char *vals[SK_LEDGER_FIELDS_MAX] = {0};
	int rc = apply_kv(t, vals, kv, n, pr, err);
	pthread_mutex_lock(&l->mu);
	if (rc == 0 && (rc = sk_ledger_exec(l, "BEGIN IMMEDIATE", err)) == 0) {
		rc = sk_ledger_check(l, t, vals, 0, NULL, pr, err);
		lchange c = {.t = t};
		bool changed;
		if (rc == 0 && (rc = sk_ledger_next_id(l, t, c.id, err)) == 0 &&
		    (rc = sk_ledger_store(l, t, c.id, true, NULL, vals, by, "ledger.add", &c.detail,
					  &changed, err)) == 0) {
			rc = sk_ledger_commit_changes(l, &c, 1, by, "ledger.add", err);
			if (rc == 0 && id_out)
				snprintf(id_out, SK_LEDGER_ID_MAX, "%s", c.id);
		} else {
			sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
		}
		free(c.detail);
	}
	pthread_mutex_unlock(&l->mu);
	sk_ledger_vals_free(vals, t->nfields);
	if (rc > 0)
		return sk_error_set(err, SK_EINVAL, "%s: %d problem(s)", t->name, rc);
	return rc;
}

/* What a change does to a record's values: the kv of an update, or one file attached
 * to or detached from a files field. */
typedef struct lmutation {
	const sk_ledger_kv *kv;
	size_t n;
	int files;           /* index of the files field, or -1 */
	const char *qid;     /* attach / detach */
	const char *name;    /* attach; NULL: detach */
	const char *action;  /* "ledger.update", "ledger.attach", "ledger.detach" */
} lmutation;

bool sk_ledger_qid_ok(const char *q)
{
	if (strlen(q) != SK_QUARANTINE_ID_LEN - 1 || q[8] != '-')
		return false;
	for (int i = 0; i < SK_QUARANTINE_ID_LEN - 1; i++)
		if (i != 8 && !(i < 8 ? (q[i] >= '0' && q[i] <= '9')
				       : ((q[i] >= '0' && q[i] <= '9') || (q[i] >= 'a' && q[i] <= 'f'))))
			return false;
	return true;
}

/* The line of qid in a files value: its start and length (with its "\n"), or NULL. */
static const char *files_line(const char *v, const char *qid, size_t *len)
{
	size_t ql = strlen(qid);
	for (const char *line = v; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		/* "NAME (QID)" */
		if (n >= ql + 3 && line[n - 1] == ')' && !memcmp(line + n - 1 - ql, qid, ql) &&
		    !memcmp(line + n - 3 - ql, " (", 2)) {
			*len = n + (nl ? 1 : 0);
			return line;
		}
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

bool sk_ledger_files_has(const char *v, const char *qid)
{
	size_t len;
	return v && qid && sk_ledger_qid_ok(qid) && files_line(v, qid, &len);
}

/* Applies a file attach / detach to vals[m->files]: 0, or a negative SK_E*. */
static int apply_file(const lmutation *m, char **vals, sk_error *err)
{
	char *v = vals[m->files];
	size_t len;
	const char *at = v ? files_line(v, m->qid, &len) : NULL;
	if (!m->name) {
		if (!at)
			return sk_error_set(err, SK_ENOTFOUND, "no attached file %s", m->qid);
		memmove((char *)at, at + len, strlen(at + len) + 1);
		size_t vl = strlen(v);
		if (vl && v[vl - 1] == '\n')
			v[vl - 1] = 0;
		return 0;
	}
	if (at)
		return 0; /* attached already */
	size_t old = v ? strlen(v) : 0, need = old + 1 + strlen(m->name) + 2 + strlen(m->qid) + 2;
	if (need > SK_LEDGER_VALUE_MAX + 1)
		return sk_error_set(err, SK_ELIMIT, "too many files attached");
	char *nv = malloc(need);
	if (!nv)
		return sk_error_set(err, SK_ENOMEM, "ledger value");
	snprintf(nv, need, "%s%s%s (%s)", v ? v : "", old ? "\n" : "", m->name, m->qid);
	free(v);
	vals[m->files] = nv;
	return 0;
}

/* One change of a stored record (an update, an attach, a detach) in one transaction:
 * loaded, its version checked, changed, checked whole, stored and audited. */
static int change_record(sk_ledger *l, const sk_ledger_table *t, const char *id, int64_t version,
			 const lmutation *m, const char *by, bool *changed,
			 sk_ledger_problems *pr, sk_error *err)
{
	if (changed)
		*changed = false;
	if (!sk_ledger_by_ok(by))
		return sk_error_set(err, SK_EINVAL, "who makes the change is missing or invalid");
	char *old[SK_LEDGER_FIELDS_MAX] = {0}, *vals[SK_LEDGER_FIELDS_MAX] = {0};
	sk_ledger_record meta;
	memset(&meta, 0, sizeof(meta));
	pthread_mutex_lock(&l->mu);
	int rc = sk_ledger_exec(l, "BEGIN IMMEDIATE", err);
	if (rc) {
		pthread_mutex_unlock(&l->mu);
		return rc;
	}
	if ((rc = sk_ledger_load(l, t, id, old, &meta, err)) == 0) {
		if (version && meta.version != version)
			rc = sk_error_set(err, SK_ECONFLICT, "%s %s: version %lld, not %lld", t->name,
					  id, (long long)meta.version, (long long)version);
		for (size_t i = 0; i < t->nfields && !rc; i++)
			if (old[i] && !(vals[i] = strdup(old[i])))
				rc = sk_error_set(err, SK_ENOMEM, "ledger value");
		if (rc == 0)
			rc = m->files >= 0 ? apply_file(m, vals, err) : apply_kv(t, vals, m->kv, m->n, pr, err);
		if (rc == 0)
			rc = sk_ledger_check(l, t, vals, 0, id, pr, err);
	}
	free(meta.created_by);
	free(meta.updated_by);
	lchange c = {.t = t};
	bool ch = false;
	snprintf(c.id, sizeof(c.id), "%s", id);
	if (rc == 0 &&
	    (rc = sk_ledger_store(l, t, id, false, old, vals, by, m->action, &c.detail, &ch, err)) ==
		    0 &&
	    ch) {
		rc = sk_ledger_commit_changes(l, &c, 1, by, m->action, err);
	} else {
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	}
	pthread_mutex_unlock(&l->mu);
	free(c.detail);
	if (rc == 0 && changed)
		*changed = ch;
	sk_ledger_vals_free(old, t->nfields);
	sk_ledger_vals_free(vals, t->nfields);
	if (rc > 0)
		return sk_error_set(err, SK_EINVAL, "%s %s: %d problem(s)", t->name, id, rc);
	return rc;
}

int sk_ledger_update(sk_ledger *l, const char *table, const char *id, int64_t version,
		     const sk_ledger_kv *kv, size_t n, const char *by, bool *changed,
		     sk_ledger_problems *pr, sk_error *err)
{
	const sk_ledger_table *t = sk_ledger_table_find(l, table);
	if (!t) {
		if (changed)
			*changed = false;
		return sk_error_set(err, SK_EINVAL, "no ledger %s", table ? table : "(null)");
	}
	lmutation m = {.kv = kv, .n = n, .files = -1, .action = "ledger.update"};
	return change_record(l, t, id, version, &m, by, changed, pr, err);
}

static int file_change(sk_ledger *l, const char *table, const char *id, int64_t version,
		       const char *field, const char *qid, const char *name, const char *by,
		       sk_error *err)
{
	const sk_ledger_table *t = sk_ledger_table_find(l, table);
	if (!t)
		return sk_error_set(err, SK_EINVAL, "no ledger %s", table ? table : "(null)");
	int fi = field ? sk_ledger_field_index(t, field) : SK_ENOTFOUND;
	if (fi < 0 || t->fields[fi].type != SK_LF_FILES)
		return sk_error_set(err, SK_EINVAL, "%s has no files field %s", t->name,
				    field ? field : "(null)");
	if (!qid || !sk_ledger_qid_ok(qid))
		return sk_error_set(err, SK_EINVAL, "not a quarantine id");
	if (name) {
		if (!*name || strlen(name) > 255 || !sk_utf8_valid(name, strlen(name)))
			return sk_error_set(err, SK_EINVAL, "bad file name");
		for (const unsigned char *q = (const unsigned char *)name; *q; q++)
			if (*q < 0x20 || *q == 0x7f)
				return sk_error_set(err, SK_EINVAL, "bad file name");
	}
	lmutation m = {.files = fi, .qid = qid, .name = name,
		       .action = name ? "ledger.attach" : "ledger.detach"};
	sk_ledger_problems pr;
	sk_ledger_problems_init(&pr);
	int rc = change_record(l, t, id, version, &m, by, NULL, &pr, err);
	if (rc == SK_EINVAL && pr.n)
		sk_error_set(err, SK_EINVAL, "%s %s: %s", t->name, id, pr.v[0].en);
	sk_ledger_problems_free(&pr);
	return rc;
}

int sk_ledger_attach(sk_ledger *l, const char *table, const char *id, int64_t version,
		     const char *field, const char *qid, const char *name, const char *by,
		     sk_error *err)
{
	if (!name)
		return sk_error_set(err, SK_EINVAL, "bad file name");
	return file_change(l, table, id, version, field, qid, name, by, err);
}

int sk_ledger_detach(sk_ledger *l, const char *table, const char *id, int64_t version,
		     const char *field, const char *qid, const char *by, sk_error *err)
{
	return file_change(l, table, id, version, field, qid, NULL, by, err);
}

void sk_ledger_record_free(sk_ledger_record *r)
{
	if (!r)
		return;
	sk_ledger_vals_free(r->values, r->n);
	free(r->values);
	free(r->created_by);
	free(r->updated_by);
	memset(r, 0, sizeof(*r));
}

static int fill_record(sk_ledger *l, const sk_ledger_table *t, sqlite3_stmt *st,
		       sk_ledger_record *r, sk_error *err)
{
	memset(r, 0, sizeof(*r));
	if (!(r->values = calloc(t->nfields, sizeof(char *))))
		return sk_error_set(err, SK_ENOMEM, "ledger record");
	r->n = t->nfields;
	int rc = record_from_row(l, t, st, r->values, r, err);
	if (rc == 0 && (!r->created_by || !r->updated_by))
		rc = sk_error_set(err, SK_ENOMEM, "ledger record");
	if (rc) {
		sk_ledger_record_free(r);
		return rc;
	}
	sk_ledger_compute(l, t, r->values);
	return 0;
}

int sk_ledger_get(sk_ledger *l, const char *table, const char *id, sk_ledger_record *r,
		  sk_error *err)
{
	const sk_ledger_table *t = sk_ledger_table_find(l, table);
	if (!t)
		return sk_error_set(err, SK_EINVAL, "no ledger %s", table ? table : "(null)");
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&l->mu);
	int rc;
	if (sqlite3_prepare_v2(l->db, "SELECT " ROW_COLS " FROM records WHERE tbl=? AND id=?", -1,
			       &st, NULL) != SQLITE_OK) {
		rc = sk_ledger_db_err(l, err, "select");
	} else {
		sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
		int s = sqlite3_step(st);
		if (s == SQLITE_ROW)
			rc = fill_record(l, t, st, r, err);
		else if (s == SQLITE_DONE)
			rc = sk_error_set(err, SK_ENOTFOUND, "%s: no record %s", t->name, id);
		else
			rc = sk_ledger_db_err(l, err, "select");
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&l->mu);
	return rc;
}

int sk_ledger_list(sk_ledger *l, const char *table, sk_ledger_list_fn fn, void *ctx,
		   sk_error *err)
{
	const sk_ledger_table *t = sk_ledger_table_find(l, table);
	if (!t)
		return sk_error_set(err, SK_EINVAL, "no ledger %s", table ? table : "(null)");
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&l->mu);
	int rc = 0;
	if (sqlite3_prepare_v2(l->db, "SELECT " ROW_COLS " FROM records WHERE tbl=? ORDER BY n", -1,
			       &st, NULL) != SQLITE_OK)
		rc = sk_ledger_db_err(l, err, "list");
	else
		sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	int s = SQLITE_DONE;
	while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
		sk_ledger_record r;
		if ((rc = fill_record(l, t, st, &r, err)) != 0)
			break;
		rc = fn(ctx, t, &r);
		sk_ledger_record_free(&r);
	}
	if (rc == 0 && s != SQLITE_DONE)
		rc = sk_ledger_db_err(l, err, "list");
	sqlite3_finalize(st);
	pthread_mutex_unlock(&l->mu);
	return rc;
}

int sk_ledger_history(sk_ledger *l, const char *table, const char *id, sk_ledger_history_fn fn,
		      void *ctx, sk_error *err)
{
	const sk_ledger_table *t = sk_ledger_table_find(l, table);
	if (!t)
		return sk_error_set(err, SK_EINVAL, "no ledger %s", table ? table : "(null)");
	sqlite3_stmt *st = NULL;
	pthread_mutex_lock(&l->mu);
	int rc = 0;
	if (sqlite3_prepare_v2(l->db,
			       "SELECT version, at, by, action, changes, audit_seq FROM history"
			       " WHERE tbl=? AND id=? ORDER BY version",
			       -1, &st, NULL) != SQLITE_OK)
		rc = sk_ledger_db_err(l, err, "history");
	else {
		sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
	}
	int s = SQLITE_DONE;
	while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW)
		rc = fn(ctx, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
			(const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3),
			(const char *)sqlite3_column_text(st, 4), (uint64_t)sqlite3_column_int64(st, 5));
	if (rc == 0 && s != SQLITE_DONE)
		rc = sk_ledger_db_err(l, err, "history");
	sqlite3_finalize(st);
	pthread_mutex_unlock(&l->mu);
	return rc;
}

/* ---- import (the rows come from csv.c) ---- */

int sk_ledger_import_rows(sk_ledger *l, const sk_ledger_table *t, const int *cols, size_t ncols,
			  char ***rows, const size_t *lines, size_t nrows, int id_col, const char *by,
			  size_t *added, size_t *updated, sk_ledger_problems *pr, sk_error *err)
{
	if (!sk_ledger_by_ok(by))
		return sk_error_set(err, SK_EINVAL, "who makes the change is missing or invalid");
	lchange *ch = calloc(nrows ? nrows : 1, sizeof(*ch));
	if (!ch)
		return sk_error_set(err, SK_ENOMEM, "import");
	size_t nch = 0, nadd = 0, nupd = 0, bad = 0;
	pthread_mutex_lock(&l->mu);
	int rc = sk_ledger_exec(l, "BEGIN IMMEDIATE", err);
	for (size_t r = 0; r < nrows && rc == 0; r++) {
		char *old[SK_LEDGER_FIELDS_MAX] = {0}, *vals[SK_LEDGER_FIELDS_MAX] = {0};
		const char *id = id_col >= 0 && rows[r][id_col] && *rows[r][id_col] ? rows[r][id_col] : NULL;
		bool is_new = !id;
		if (id) {
			int x = sk_ledger_load(l, t, id, old, NULL, err);
			if (x == SK_ENOTFOUND) {
				sk_ledger_problem_add(pr, lines[r], "ID", "%s に ID「%s」の記録はありません",
						      "%s has no record %s", t->name, id);
				bad++;
				continue;
			}
			if ((rc = x) != 0)
				break;
			for (size_t i = 0; i < t->nfields && !rc; i++)
				if (old[i] && !(vals[i] = strdup(old[i])))
					rc = sk_error_set(err, SK_ENOMEM, "import");
		}
		for (size_t c = 0; c < ncols && !rc; c++) {
			if (cols[c] < 0)
				continue;
			free(vals[cols[c]]);
			if (!(vals[cols[c]] = strdup(rows[r][c] ? rows[r][c] : "")))
				rc = sk_error_set(err, SK_ENOMEM, "import");
		}
		int x = rc ? 0 : sk_ledger_check(l, t, vals, lines[r], id, pr, err);
		if (x < 0)
			rc = x;
		else if (x > 0)
			bad++;
		lchange *c = &ch[nch];
		c->t = t;
		bool changed = false;
		if (rc == 0 && x == 0) {
			if (is_new)
				rc = sk_ledger_next_id(l, t, c->id, err);
			else
				snprintf(c->id, sizeof(c->id), "%s", id);
			if (rc == 0)
				rc = sk_ledger_store(l, t, c->id, is_new, old, vals, by, "ledger.import",
						     &c->detail, &changed, err);
			if (rc == 0 && changed) {
				nch++;
				if (is_new)
					nadd++;
				else
					nupd++;
			}
		}
		sk_ledger_vals_free(old, t->nfields);
		sk_ledger_vals_free(vals, t->nfields);
	}
	if (rc == 0 && bad == 0)
		rc = sk_ledger_commit_changes(l, ch, nch, by, "ledger.import", err);
	else
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_unlock(&l->mu);
	for (size_t i = 0; i < nrows; i++)
		free(ch[i].detail);
	free(ch);
	if (rc)
		return rc;
	if (bad)
		return sk_error_set(err, SK_EINVAL, "%s: %zu bad row(s), nothing imported", t->name, bad);
	if (added)
		*added = nadd;
	if (updated)
		*updated = nupd;
	return 0;
}

/* ---- incidents opened by the gate ---- */

/* counts this crash of sha256 and returns how many there were (this one included) */
static int crash_count(sk_ledger *l, const char *sha, const char *item, int64_t *n, sk_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;
	if (sqlite3_prepare_v2(l->db, "INSERT INTO crashes(sha256, at, item) VALUES (?, ?, ?)", -1, &st,
			       NULL) != SQLITE_OK)
		return sk_ledger_db_err(l, err, "crashes");
	sqlite3_bind_text(st, 1, sha, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, sk_ledger_now(l));
	sqlite3_bind_text(st, 3, item, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = sk_ledger_db_err(l, err, "crashes");
	sqlite3_finalize(st);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(l->db, "SELECT count(*) FROM crashes WHERE sha256=?", -1, &st, NULL) !=
	    SQLITE_OK)
		return sk_ledger_db_err(l, err, "crashes");
	sqlite3_bind_text(st, 1, sha, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	else
		rc = sk_ledger_db_err(l, err, "crashes");
	sqlite3_finalize(st);
	return rc;
}

int sk_ledger_gate_event(sk_ledger *l, sk_ledger_event ev, const char *item_id,
			 const char *sha256_hex, const char *name, const char *detail,
			 char id_out[SK_LEDGER_ID_MAX], sk_error *err)
{
	if (id_out)
		id_out[0] = 0;
	const char *sha = sha256_hex && *sha256_hex ? sha256_hex : "-";
	char link[128];
	if (item_id && *item_id)
		snprintf(link, sizeof(link), "%s", item_id);
	else
		snprintf(link, sizeof(link), "sha256:%.100s", sha);
	if (ev == SK_LEDGER_EVENT_CRASH) {
		int64_t n = 0;
		pthread_mutex_lock(&l->mu);
		int rc = crash_count(l, sha, link, &n, err);
		pthread_mutex_unlock(&l->mu);
		if (rc || n != 2) /* the second crash opens it; later ones belong to it */
			return rc;
	}
	static const char *const what_ja[] = {
		"マルウェアを検知したため遮断しました", "DLP の規則により遮断しました",
		"無害化ワーカーが同じ内容で 2 回異常終了しました"};
	static const char *const what_en[] = {"blocked: malware found", "blocked by a DLP rule",
					      "the sanitising worker crashed twice on the same content"};
	char what[SK_LEDGER_VALUE_MAX / 2], at[32];
	snprintf(what, sizeof(what), "%s: %.300s%s%.300s%s\n(%s)", what_ja[ev], name ? name : "-",
		 detail && *detail ? " (" : "", detail && *detail ? detail : "",
		 detail && *detail ? ")" : "", what_en[ev]);
	sk_time_iso_jst(sk_ledger_now(l), at, sizeof(at)); /* "2026-12-07T08:28:00+09:00" */
	at[10] = ' ';
	at[16] = 0;
	sk_ledger_kv kv[] = {
		{"found_by", "sekisho"},
		{"found_at", at},
		{"what", what},
		{"severity", ev == SK_LEDGER_EVENT_MALWARE ? "high" : "medium"},
		{"state", "open"},
		{"item", link},
		{NULL, at}, /* the chain's first step (the finder's report): done by the gateway */
		{NULL, "sekisho"},
	};
	size_t nkv = sizeof(kv) / sizeof(kv[0]) - 2;
	const char *const *roles = NULL;
	char ka[96], kb[96];
	if (sk_policy_incident_chain(l->p, &roles) > 0) {
		snprintf(ka, sizeof(ka), "chain.%s.at", roles[0]);
		snprintf(kb, sizeof(kb), "chain.%s.by", roles[0]);
		kv[nkv].key = ka;
		kv[nkv + 1].key = kb;
		nkv += 2;
	}
	sk_ledger_problems pr;
	sk_ledger_problems_init(&pr);
	int rc = sk_ledger_add(l, "incidents", kv, nkv, "sekisho", id_out, &pr, err);
	if (rc && pr.n)
		sk_error_set(err, rc, "incident: %s: %s", pr.v[0].field, pr.v[0].en);
	sk_ledger_problems_free(&pr);
	return rc;
}

int sk_ledger_asset_class(sk_ledger *l, const char *id, char *spec, size_t n, sk_error *err)
{
	size_t il = id ? strlen(id) : 0;
	bool ok = il > 0 && il < SK_LEDGER_ID_MAX;
	for (size_t i = 0; ok && i < il; i++)
		ok = (unsigned char)id[i] > 0x20 && id[i] != 0x7f;
	if (!ok)
		return sk_error_set(err, SK_EINVAL, "not an asset id: '%.40s'", id ? id : "");
	sk_ledger_record r;
	int rc = sk_ledger_get(l, "assets", id, &r, err);
	if (rc == SK_ENOTFOUND)
		return sk_error_set(err, SK_ENOTFOUND, "no asset %s in the ledger", id);
	if (rc)
		return rc;
	const sk_ledger_table *t = sk_ledger_table_find(l, "assets");
	size_t k = 0;
	if (n)
		spec[0] = 0;
	/* in the policy's order of dimensions */
	for (size_t d = 0; !rc && d < sk_policy_class_dim_count(l->p); d++) {
		const char *dim = sk_policy_class_dim_name(l->p, d);
		for (size_t i = 0; i < t->nfields && i < r.n; i++) {
			const sk_ledger_field *f = &t->fields[i];
			if (f->type != SK_LF_LEVEL || !r.values[i] || strcmp(f->arg, dim))
				continue;
			int w = snprintf(spec + k, n > k ? n - k : 0, "%s%s:%s", k ? "," : "", dim,
					 r.values[i]);
			if (w < 0 || (size_t)w >= (n > k ? n - k : 0))
				rc = sk_error_set(err, SK_ELIMIT, "asset %s: class too long", id);
			else
				k += (size_t)w;
			break;
		}
	}
	sk_ledger_record_free(&r);
	return rc;
}
