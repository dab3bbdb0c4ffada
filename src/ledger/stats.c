/* The compliance figures: who has not taken a required course, and the console's charts
 * (see ledger.h). JSON made with jansson, as everywhere in the ledgers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_int.h"

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* Adds to o[key] (an object made when missing) the member sub = true. */
static int mark(json_t *o, const char *key, const char *sub)
{
	json_t *x = json_object_get(o, key);
	if (!x) {
		if (!(x = json_object()) || json_object_set_new(o, key, x))
			return SK_ENOMEM;
	}
	return json_object_set_new(x, sub, json_true()) ? SK_ENOMEM : 0;
}

/* The required plans up to today ([[id, course], …]) and who attended each
 * ({plan: {person: true}}). With l->mu held. */
static int training_load(sk_ledger *l, json_t **plans, json_t **attended, sk_error *err)
{
	char today[11];
	sk_ledger_date_text(sk_ledger_today(l), today);
	*plans = json_array();
	*attended = json_object();
	if (!*plans || !*attended)
		return sk_error_set(err, SK_ENOMEM, "training");
	sqlite3_stmt *st = NULL;
	int rc = 0, s;
	if (sqlite3_prepare_v2(l->db,
			       "SELECT id, json_extract(data, '$.course') FROM records"
			       " WHERE tbl='training/plans' AND json_extract(data, '$.required')='yes'"
			       " AND json_extract(data, '$.date')<=?1 ORDER BY n",
			       -1, &st, NULL) != SQLITE_OK)
		return sk_ledger_db_err(l, err, "plans");
	sqlite3_bind_text(st, 1, today, -1, SQLITE_TRANSIENT);
	while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *p = json_pack("[ss?]", (const char *)sqlite3_column_text(st, 0),
				      (const char *)sqlite3_column_text(st, 1));
		if (!p || json_array_append_new(*plans, p))
			rc = sk_error_set(err, SK_ENOMEM, "training");
	}
	if (rc == 0 && s != SQLITE_DONE)
		rc = sk_ledger_db_err(l, err, "plans");
	sqlite3_finalize(st);
	if (rc)
		return rc;
	if (sqlite3_prepare_v2(l->db,
			       "SELECT json_extract(s.data, '$.plan'), json_extract(a.data, '$.person')"
			       " FROM records a JOIN records s ON s.tbl='training/sessions'"
			       " AND s.id=json_extract(a.data, '$.session')"
			       " WHERE a.tbl='training/attendance' AND json_extract(a.data, '$.attended')='yes'",
			       -1, &st, NULL) != SQLITE_OK)
		return sk_ledger_db_err(l, err, "attendance");
	while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *plan = (const char *)sqlite3_column_text(st, 0),
			   *person = (const char *)sqlite3_column_text(st, 1);
		if (plan && person && mark(*attended, plan, person))
			rc = sk_error_set(err, SK_ENOMEM, "training");
	}
	if (rc == 0 && s != SQLITE_DONE)
		rc = sk_ledger_db_err(l, err, "attendance");
	sqlite3_finalize(st);
	return rc;
}

/* The plans a person has not attended: [{"plan","course"}] (NULL: out of memory). */
static json_t *missing_of(const sk_ledger_person *p, json_t *plans, json_t *attended)
{
	json_t *out = json_array(), *plan;
	size_t i;
	if (!out)
		return NULL;
	json_array_foreach(plans, i, plan) {
		const char *id = json_string_value(json_array_get(plan, 0));
		json_t *who = json_object_get(attended, id);
		if ((p->user && json_object_get(who, p->user)) || (p->name && json_object_get(who, p->name)))
			continue;
		json_t *m = json_pack("{sssO}", "plan", id, "course", json_array_get(plan, 1));
		if (!m || json_array_append_new(out, m)) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

static int dump_to(json_t *o, sk_buf *out, sk_error *err)
{
	sk_buf_reset(out);
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!s)
		return sk_error_set(err, SK_ENOMEM, "json");
	int rc = sk_buf_adds(out, s);
	free(s);
	return rc ? sk_error_set(err, rc, "json output") : 0;
}

int sk_ledger_training_missing(sk_ledger *l, const sk_ledger_person *people, size_t n,
			       sk_buf *out, sk_error *err)
{
	json_t *plans = NULL, *attended = NULL, *list = json_array();
	pthread_mutex_lock(&l->mu);
	int rc = training_load(l, &plans, &attended, err);
	pthread_mutex_unlock(&l->mu);
	if (rc == 0 && !list)
		rc = sk_error_set(err, SK_ENOMEM, "training");
	for (size_t i = 0; i < n && rc == 0; i++) {
		json_t *m = missing_of(&people[i], plans, attended);
		if (!m) {
			rc = sk_error_set(err, SK_ENOMEM, "training");
			break;
		}
		if (json_array_size(m) == 0) {
			json_decref(m);
			continue;
		}
		json_t *p = json_pack("{s:o,s:o,s:o,s:o}", "user", jstr(people[i].user), "name",
				      jstr(people[i].name), "section", jstr(people[i].section), "missing", m);
		if (!p || json_array_append_new(list, p))
			rc = sk_error_set(err, SK_ENOMEM, "training");
	}
	json_t *o = rc ? NULL : json_pack("{sO}", "people", list);
	if (rc == 0 && !o)
		rc = sk_error_set(err, SK_ENOMEM, "training");
	if (rc == 0)
		rc = dump_to(o, out, err);
	json_decref(o);
	json_decref(list);
	json_decref(plans);
	json_decref(attended);
	return rc;
}

/* ---- charts ---- */

static int incidents_by_month(sk_ledger *l, json_t *o, sk_error *err)
{
	int32_t today = sk_ledger_today(l);
	int y = today / 10000, m = today / 100 % 100;
	json_t *months = json_array(), *index = json_object();
	int rc = months && index ? 0 : SK_ENOMEM;
	/* the twelve months that end with this one, oldest first */
	for (int k = 11; k >= 0 && !rc; k--) {
		int mm = m - k, yy = y;
		while (mm <= 0) {
			mm += 12;
			yy--;
		}
		char key[16];
		snprintf(key, sizeof(key), "%04d-%02d", yy % 10000, mm % 100);
		json_t *e = json_pack("{sssisisi}", "month", key, "high", 0, "medium", 0, "low", 0);
		if (!e || json_object_set(index, key, e) || json_array_append_new(months, e))
			rc = SK_ENOMEM;
	}
	sqlite3_stmt *st = NULL;
	if (!rc && sqlite3_prepare_v2(l->db,
				      "SELECT substr(json_extract(data, '$.found_at'), 1, 7),"
				      " json_extract(data, '$.severity'), count(*) FROM records"
				      " WHERE tbl='incidents' GROUP BY 1, 2",
				      -1, &st, NULL) != SQLITE_OK) {
		json_decref(months);
		json_decref(index);
		return sk_ledger_db_err(l, err, "incidents");
	}
	int s = SQLITE_DONE;
	while (!rc && (s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *mon = (const char *)sqlite3_column_text(st, 0),
			   *sev = (const char *)sqlite3_column_text(st, 1);
		json_t *e = mon ? json_object_get(index, mon) : NULL;
		json_t *c = e && sev ? json_object_get(e, sev) : NULL;
		if (c && json_integer_set(c, json_integer_value(c) + sqlite3_column_int64(st, 2)))
			rc = SK_ENOMEM;
	}
	bool dberr = !rc && s != SQLITE_DONE;
	sqlite3_finalize(st);
	json_decref(index);
	if (!rc && !dberr && json_object_set_new(o, "incidents_by_month", months))
		return sk_error_set(err, SK_ENOMEM, "charts");
	if (rc || dberr)
		json_decref(months);
	if (dberr)
		return sk_ledger_db_err(l, err, "incidents");
	return rc ? sk_error_set(err, rc, "charts") : 0;
}

/* A section's row (made when missing) in rows (array) and index (object by id, "" for no
 * section); make fills a new row. */
static json_t *section_row(sk_ledger *l, json_t *rows, json_t *index, const char *sec,
			   sk_lang lang, json_t *(*make)(void))
{
	json_t *r = json_object_get(index, sec ? sec : "");
	if (r)
		return r;
	const char *name = !sec ? (lang == SK_LANG_EN ? "No section" : "所属なし")
		: sk_policy_has_section(l->p, sec) ? sk_policy_section_name(l->p, sec, lang)
						    : sec;
	r = make();
	if (!r || json_object_set_new(r, "section", jstr(sec)) ||
	    json_object_set_new(r, "name", json_string(name)) ||
	    json_object_set(index, sec ? sec : "", r) || json_array_append_new(rows, r))
		return NULL;
	return r;
}

static json_t *new_training_row(void)
{
	return json_pack("{sisi}", "people", 0, "completed", 0);
}

static int add_int(json_t *o, const char *key, json_int_t d)
{
	json_t *c = json_object_get(o, key);
	if (!c)
		return json_object_set_new(o, key, json_integer(d)) ? SK_ENOMEM : 0;
	return json_integer_set(c, json_integer_value(c) + d) ? SK_ENOMEM : 0;
}

/* key order in the JSON: section, name, then the counts */
static json_t *reorder(json_t *r)
{
	json_t *o = json_object();
	const char *k;
	json_t *v;
	if (!o)
		return NULL;
	json_object_set(o, "section", json_object_get(r, "section"));
	json_object_set(o, "name", json_object_get(r, "name"));
	json_object_foreach(r, k, v) {
		if (strcmp(k, "section") && strcmp(k, "name") && json_object_set(o, k, v)) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static int reorder_rows(json_t *rows)
{
	size_t i;
	json_t *r;
	json_array_foreach(rows, i, r) {
		json_t *x = reorder(r);
		if (!x || json_array_set_new(rows, i, x))
			return SK_ENOMEM;
	}
	return 0;
}

static int training_by_section(sk_ledger *l, const sk_ledger_person *people, size_t n,
			       sk_lang lang, json_t *o, sk_error *err)
{
	json_t *plans = NULL, *attended = NULL, *rows = json_array(), *index = json_object();
	int rc = training_load(l, &plans, &attended, err);
	if (!rc && (!rows || !index))
		rc = sk_error_set(err, SK_ENOMEM, "charts");
	for (size_t i = 0; !rc && i < sk_policy_section_count(l->p); i++)
		if (!section_row(l, rows, index, sk_policy_section_id(l->p, i), lang, new_training_row))
			rc = sk_error_set(err, SK_ENOMEM, "charts");
	for (size_t i = 0; !rc && i < n; i++) {
		const char *sec = people[i].section && *people[i].section ? people[i].section : NULL;
		json_t *r = section_row(l, rows, index, sec, lang, new_training_row);
		json_t *m = r ? missing_of(&people[i], plans, attended) : NULL;
		if (!m || add_int(r, "people", 1) ||
		    (json_array_size(m) == 0 && add_int(r, "completed", 1)))
			rc = sk_error_set(err, SK_ENOMEM, "charts");
		json_decref(m);
	}
	if (!rc && (reorder_rows(rows) || json_object_set(o, "training_by_section", rows)))
		rc = sk_error_set(err, SK_ENOMEM, "charts");
	json_decref(rows);
	json_decref(index);
	json_decref(plans);
	json_decref(attended);
	return rc;
}

static json_t *new_answer_row(void)
{
	return json_pack("{sisisisisi}", "done", 0, "partial", 0, "not_done", 0, "na", 0,
			 "unanswered", 0);
}

static const char *answer_key(const char *a)
{
	if (!a)
		return "unanswered";
	if (!strcmp(a, "done"))
		return "done";
	if (!strcmp(a, "partial"))
		return "partial";
	if (!strcmp(a, "not-done"))
		return "not_done";
	if (!strcmp(a, "na"))
		return "na";
	return "unanswered";
}

static int inspections(sk_ledger *l, const char *period, sk_lang lang, json_t *o, sk_error *err)
{
	json_t *periods = json_array(), *by_sec = json_array(), *sec_index = json_object(),
	       *by_ch = json_array(), *ch_index = json_object();
	int rc = periods && by_sec && sec_index && by_ch && ch_index ? 0 : SK_ENOMEM;
	sqlite3_stmt *st = NULL;
	int s = SQLITE_DONE;
	bool dberr = false;
	if (!rc && sqlite3_prepare_v2(l->db,
				      "SELECT DISTINCT json_extract(data, '$.period') p FROM records"
				      " WHERE tbl='inspections/checklists' AND p IS NOT NULL ORDER BY p DESC",
				      -1, &st, NULL) != SQLITE_OK)
		dberr = true;
	while (!rc && !dberr && (s = sqlite3_step(st)) == SQLITE_ROW)
		if (json_array_append_new(periods, json_string((const char *)sqlite3_column_text(st, 0))))
			rc = SK_ENOMEM;
	if (!rc && !dberr && s != SQLITE_DONE)
		dberr = true;
	sqlite3_finalize(st);
	st = NULL;
	if (!period || !*period)
		period = json_string_value(json_array_get(periods, 0));
	/* the chapters in the order of the requirements */
	const sk_ledger_requirement *reqs;
	size_t nreq = sk_ledger_requirements(&reqs);
	for (size_t i = 0; !rc && !dberr && period && i < nreq; i++) {
		if (json_object_get(ch_index, reqs[i].chapter_ja))
			continue;
		json_t *r = new_answer_row();
		if (!r || json_object_set_new(r, "chapter", json_string(reqs[i].chapter_ja)) ||
		    json_object_set(ch_index, reqs[i].chapter_ja, r) ||
		    json_array_append_new(by_ch, r))
			rc = SK_ENOMEM;
	}
	/* each item of the period and its newest answer (by the item's section when it has one) */
	if (!rc && !dberr && period &&
	    sqlite3_prepare_v2(l->db,
			       "WITH c AS (SELECT id, n, json_extract(data, '$.chapter') ch,"
			       "  json_extract(data, '$.section') sec FROM records"
			       "  WHERE tbl='inspections/checklists' AND json_extract(data, '$.period')=?1),"
			       " a AS (SELECT n, json_extract(data, '$.item') item,"
			       "  json_extract(data, '$.section') sec, json_extract(data, '$.answer') ans"
			       "  FROM records WHERE tbl='inspections/answers')"
			       " SELECT c.ch, c.sec,"
			       "  (SELECT a.ans FROM a WHERE a.item=c.id AND (c.sec IS NULL OR a.sec=c.sec)"
			       "   ORDER BY a.n DESC LIMIT 1),"
			       "  (SELECT a.sec FROM a WHERE a.item=c.id AND (c.sec IS NULL OR a.sec=c.sec)"
			       "   ORDER BY a.n DESC LIMIT 1)"
			       " FROM c ORDER BY c.n",
			       -1, &st, NULL) != SQLITE_OK)
		dberr = true;
	if (st)
		sqlite3_bind_text(st, 1, period, -1, SQLITE_TRANSIENT);
	s = SQLITE_DONE;
	while (!rc && !dberr && st && (s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *ch = (const char *)sqlite3_column_text(st, 0),
			   *sec = (const char *)sqlite3_column_text(st, 1),
			   *ans = (const char *)sqlite3_column_text(st, 2),
			   *asec = (const char *)sqlite3_column_text(st, 3);
		const char *key = answer_key(ans);
		if (!sec)
			sec = asec;
		json_t *r = section_row(l, by_sec, sec_index, sec, lang, new_answer_row);
		if (!r || add_int(r, key, 1))
			rc = SK_ENOMEM;
		json_t *c = json_object_get(ch_index, ch ? ch : "");
		if (!rc && !c) {
			c = new_answer_row();
			if (!c || json_object_set_new(c, "chapter", json_string(ch ? ch : "")) ||
			    json_object_set(ch_index, ch ? ch : "", c) || json_array_append_new(by_ch, c))
				rc = SK_ENOMEM;
		}
		if (!rc && add_int(c, key, 1))
			rc = SK_ENOMEM;
	}
	if (!rc && !dberr && st && s != SQLITE_DONE)
		dberr = true;
	sqlite3_finalize(st);
	/* by_chapter: chapter first, in lang; chapters without items left out */
	json_t *chapters = json_array();
	if (!chapters)
		rc = SK_ENOMEM;
	for (size_t i = 0; !rc && i < json_array_size(by_ch); i++) {
		json_t *r = json_array_get(by_ch, i), *v;
		const char *k;
		json_int_t total = 0;
		json_object_foreach(r, k, v)
			total += json_is_integer(v) ? json_integer_value(v) : 0;
		if (!total)
			continue;
		json_t *x = json_pack("{s:s}", "chapter",
				      sk_ledger_chapter_text(json_string_value(json_object_get(r, "chapter")), lang));
		json_object_foreach(r, k, v) {
			if (x && strcmp(k, "chapter") && json_object_set(x, k, v)) {
				json_decref(x);
				x = NULL;
			}
		}
		if (!x || json_array_append_new(chapters, x))
			rc = SK_ENOMEM;
	}
	/* by_section: the policy's order, then the others as met */
	json_t *secs = json_array();
	if (!secs)
		rc = SK_ENOMEM;
	for (size_t i = 0; !rc && i < sk_policy_section_count(l->p); i++) {
		json_t *r = json_object_get(sec_index, sk_policy_section_id(l->p, i));
		if (r && json_array_append(secs, r))
			rc = SK_ENOMEM;
	}
	for (size_t i = 0; !rc && i < json_array_size(by_sec); i++) {
		json_t *r = json_array_get(by_sec, i);
		const char *id = json_string_value(json_object_get(r, "section"));
		if ((!id || !sk_policy_has_section(l->p, id)) && json_array_append(secs, r))
			rc = SK_ENOMEM;
	}
	if (!rc && reorder_rows(secs))
		rc = SK_ENOMEM;
	json_t *x = NULL;
	if (!rc && !dberr &&
	    (!(x = json_pack("{s:o,s:O,s:O,s:O}", "period", jstr(period), "periods", periods,
			     "by_section", secs, "by_chapter", chapters)) ||
	     json_object_set_new(o, "inspections", x)))
		rc = SK_ENOMEM;
	json_decref(secs);
	json_decref(chapters);
	json_decref(periods);
	json_decref(by_sec);
	json_decref(sec_index);
	json_decref(by_ch);
	json_decref(ch_index);
	if (dberr)
		return sk_ledger_db_err(l, err, "inspections");
	return rc ? sk_error_set(err, rc, "charts") : 0;
}

static int findings_by_age(sk_ledger *l, json_t *o, sk_error *err)
{
	static const char *const names[] = {"0-30", "31-90", "91-180", "181-"};
	json_int_t counts[4] = {0};
	int today = sk_ledger_days(sk_ledger_today(l));
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(l->db,
			       "SELECT created FROM records WHERE tbl='inspections/findings'"
			       " AND coalesce(json_extract(data, '$.state'), 'open')='open'",
			       -1, &st, NULL) != SQLITE_OK)
		return sk_ledger_db_err(l, err, "findings");
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		char at[40];
		sk_time_iso_jst(sqlite3_column_int64(st, 0), at, sizeof(at));
		int32_t d = sk_ledger_ymd(at);
		int age = d > 0 ? today - sk_ledger_days(d) : 0;
		counts[age <= 30 ? 0 : age <= 90 ? 1 : age <= 180 ? 2 : 3]++;
	}
	sqlite3_finalize(st);
	if (s != SQLITE_DONE)
		return sk_ledger_db_err(l, err, "findings");
	json_t *a = json_array();
	for (size_t i = 0; a && i < 4; i++)
		if (json_array_append_new(a, json_pack("{sssI}", "bucket", names[i], "open", counts[i]))) {
			json_decref(a);
			a = NULL;
		}
	if (!a || json_object_set_new(o, "findings_by_age", a))
		return sk_error_set(err, SK_ENOMEM, "charts");
	return 0;
}

int sk_ledger_charts(sk_ledger *l, const char *period, const sk_ledger_person *people,
		     size_t n, sk_lang lang, sk_buf *out, sk_error *err)
{
	json_t *o = json_object();
	if (!o)
		return sk_error_set(err, SK_ENOMEM, "charts");
	char today[11];
	sk_ledger_date_text(sk_ledger_today(l), today);
	pthread_mutex_lock(&l->mu);
	int rc = incidents_by_month(l, o, err);
	if (rc == 0)
		rc = training_by_section(l, people, n, lang, o, err);
	if (rc == 0)
		rc = inspections(l, period, lang, o, err);
	if (rc == 0)
		rc = findings_by_age(l, o, err);
	pthread_mutex_unlock(&l->mu);
	if (rc == 0 && json_object_set_new(o, "today", json_string(today)))
		rc = sk_error_set(err, SK_ENOMEM, "charts");
	if (rc == 0)
		rc = dump_to(o, out, err);
	json_decref(o);
	return rc;
}

/* ---- the roster (ledger.h) ---- */

static char *roster_own(sk_ledger_roster *ro, const char *s)
{
	if (!s || !*s)
		return NULL;
	char *d = strdup(s);
	char **v = d ? realloc(ro->own_, (ro->nown_ + 1) * sizeof(*v)) : NULL;
	if (!v) {
		free(d);
		return NULL;
	}
	ro->own_ = v;
	return ro->own_[ro->nown_++] = d;
}

static int roster_add(sk_ledger_roster *ro, const char *user, const char *name, const char *section)
{
	for (size_t i = 0; i < ro->n; i++)
		if (!strcmp(ro->v[i].user, user))
			return 0;
	if (ro->n == ro->cap_) {
		size_t cap = ro->cap_ ? ro->cap_ * 2 : 32;
		sk_ledger_person *v = realloc(ro->v, cap * sizeof(*v));
		if (!v)
			return SK_ENOMEM;
		ro->v = v;
		ro->cap_ = cap;
	}
	char *u = roster_own(ro, user);
	if (!u)
		return SK_ENOMEM;
	ro->v[ro->n] = (sk_ledger_person){u, NULL, NULL};
	if ((name && *name && !(ro->v[ro->n].name = roster_own(ro, name))) ||
	    (section && *section && !(ro->v[ro->n].section = roster_own(ro, section))))
		return SK_ENOMEM;
	ro->n++;
	return 0;
}

/* The policy's display name of a user it lists (NULL when none or the same as the id). */
static const char *roster_policy_name(const sk_policy *p, const char *id)
{
	for (size_t i = 0; i < sk_policy_user_count(p); i++)
		if (!strcmp(sk_policy_user_id(p, i), id)) {
			const char *nm = sk_policy_user_name(p, i);
			return nm && strcmp(nm, id) ? nm : NULL;
		}
	return NULL;
}

static int roster_user(void *ctx, const sk_auth_user *u)
{
	sk_ledger_roster *ro = ctx;
	if (u->disabled)
		return 0;
	sk_auth_rights r;
	memset(&r, 0, sizeof(r));
	sk_auth_effective(u, ro->p_, &r); /* the policy's section for a user it lists */
	return roster_add(ro, u->name, roster_policy_name(ro->p_, u->name), r.section);
}

int sk_ledger_roster_load(sk_auth *a, const sk_policy *p, sk_ledger_roster *ro, sk_error *err)
{
	memset(ro, 0, sizeof(*ro));
	ro->p_ = p;
	int rc = a ? sk_auth_user_list(a, roster_user, ro, err) : 0;
	for (size_t i = 0; rc == 0 && i < sk_policy_user_count(p); i++) {
		const char *sec = NULL, *id = sk_policy_user_id(p, i);
		sk_policy_user_find(p, id, NULL, NULL, &sec, NULL);
		rc = roster_add(ro, id, roster_policy_name(p, id), sec);
	}
	if (rc == SK_ENOMEM)
		return sk_error_set(err, SK_ENOMEM, "roster: out of memory");
	return rc;
}

void sk_ledger_roster_free(sk_ledger_roster *ro)
{
	for (size_t i = 0; i < ro->nown_; i++)
		free(ro->own_[i]);
	free(ro->own_);
	free(ro->v);
	memset(ro, 0, sizeof(*ro));
}
