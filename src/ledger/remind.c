/* The reminders the scheduler sends (see ledger.h): each one once, remembered in
 * ledger.db's reminders table by kind, table, record and the date it is about. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_int.h"

static const char *const kind_code[] = {"expiring", "expired", "overdue", "review"};

typedef struct due {
	sk_ledger_reminder_kind kind;
	const char *table;
	char id[SK_LEDGER_ID_MAX];
	char about[16];
} due;

typedef struct dues {
	due *v;
	size_t n, cap;
} dues;

static int push(dues *d, sk_ledger_reminder_kind kind, const char *table, const char *id,
		const char *about)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 32;
		due *v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			return SK_ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	due *x = &d->v[d->n++];
	x->kind = kind;
	x->table = table;
	snprintf(x->id, sizeof(x->id), "%s", id);
	snprintf(x->about, sizeof(x->about), "%.10s", about);
	return 0;
}

/* The records of one kind whose date (the JSON path) makes them due and that were not
 * reminded of for that date. lo, hi: the dates (inclusive; NULL: open) that are due. */
static int collect(sk_ledger *l, dues *d, sk_ledger_reminder_kind kind, const char *table,
		   const char *path, const char *extra, const char *lo, const char *hi,
		   sk_error *err)
{
	char sql[768];
	snprintf(sql, sizeof(sql),
		 "SELECT r.id, json_extract(r.data, '%s') dt FROM records r WHERE r.tbl=?1"
		 " AND dt IS NOT NULL AND (?2 IS NULL OR dt>=?2) AND (?3 IS NULL OR dt<=?3) %s"
		 " AND NOT EXISTS (SELECT 1 FROM reminders m WHERE m.kind=?4 AND m.tbl=?1"
		 "  AND m.id=r.id AND m.about=dt) ORDER BY r.n",
		 path, extra);
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK)
		return sk_ledger_db_err(l, err, "reminders");
	sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	if (lo)
		sqlite3_bind_text(st, 2, lo, -1, SQLITE_TRANSIENT);
	if (hi)
		sqlite3_bind_text(st, 3, hi, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, kind_code[kind], -1, SQLITE_STATIC);
	int s, rc = 0;
	while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW)
		if (push(d, kind, table, (const char *)sqlite3_column_text(st, 0),
			 (const char *)sqlite3_column_text(st, 1)))
			rc = sk_error_set(err, SK_ENOMEM, "reminders");
	if (rc == 0 && s != SQLITE_DONE)
		rc = sk_ledger_db_err(l, err, "reminders");
	sqlite3_finalize(st);
	return rc;
}

static int mark_sent(sk_ledger *l, const due *x, sk_error *err)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(l->db,
			       "INSERT OR IGNORE INTO reminders(kind, tbl, id, about, sent)"
			       " VALUES (?, ?, ?, ?, ?)",
			       -1, &st, NULL) != SQLITE_OK)
		return sk_ledger_db_err(l, err, "reminders");
	sqlite3_bind_text(st, 1, kind_code[x->kind], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, x->table, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, x->id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, x->about, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, sk_ledger_now(l));
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sk_ledger_db_err(l, err, "reminders");
	sqlite3_finalize(st);
	return rc;
}

int sk_ledger_reminders(sk_ledger *l, int days_ahead, sk_ledger_reminder_fn fn, void *ctx,
			sk_error *err)
{
	if (!fn)
		return sk_error_set(err, SK_EINVAL, "reminders: no function");
	if (days_ahead < 0 || days_ahead > 3660)
		return sk_error_set(err, SK_EINVAL, "reminders: days ahead %d out of range (0-3660)",
				    days_ahead);
	int32_t today = sk_ledger_today(l);
	char t0[11], yesterday[11], ahead[11];
	sk_ledger_date_text(today, t0);
	sk_ledger_date_text(sk_ledger_ymd_of_days(sk_ledger_days(today) - 1), yesterday);
	sk_ledger_date_text(sk_ledger_ymd_of_days(sk_ledger_days(today) + days_ahead), ahead);
	dues d = {0};
	pthread_mutex_lock(&l->mu);
	int rc = collect(l, &d, SK_LEDGER_REMIND_EXPIRING, "exceptions", "$.until", "", t0, ahead, err);
	if (rc == 0)
		rc = collect(l, &d, SK_LEDGER_REMIND_EXPIRED, "exceptions", "$.until", "", NULL,
			     yesterday, err);
	if (rc == 0)
		rc = collect(l, &d, SK_LEDGER_REMIND_OVERDUE, "inspections/findings", "$.due",
			     "AND coalesce(json_extract(r.data, '$.state'), 'open')='open'", NULL,
			     yesterday, err);
	if (rc == 0)
		rc = collect(l, &d, SK_LEDGER_REMIND_REVIEW, "assets", "$.review", "", NULL, yesterday,
			     err);
	pthread_mutex_unlock(&l->mu);
	/* fn runs without the lock (it sends mail); each one it sent is marked at once */
	int first = 0;
	for (size_t i = 0; i < d.n && rc == 0; i++) {
		sk_ledger_record r;
		const sk_ledger_table *t = sk_ledger_table_find(l, d.v[i].table);
		int x = sk_ledger_get(l, d.v[i].table, d.v[i].id, &r, err);
		if (x == SK_ENOTFOUND)
			continue;
		if (x) {
			rc = x;
			break;
		}
		x = fn(ctx, d.v[i].kind, t, &r);
		sk_ledger_record_free(&r);
		if (x) {
			if (!first)
				first = x;
			continue;
		}
		pthread_mutex_lock(&l->mu);
		rc = mark_sent(l, &d.v[i], err);
		pthread_mutex_unlock(&l->mu);
	}
	free(d.v);
	return rc ? rc : first;
}

/* The value of field key of r, NULL when empty or no such field. */
static const char *rv(const sk_ledger_table *t, const sk_ledger_record *r, const char *key)
{
	int i = sk_ledger_field_index(t, key);
	return i >= 0 && (size_t)i < r->n ? r->values[i] : NULL;
}

/* The first line of s, at most max bytes (cut on a character boundary, "…" when cut). */
static void clip(const char *s, char *out, size_t max)
{
	size_t n = 0;
	if (!s)
		s = "";
	while (s[n] && s[n] != '\n' && s[n] != '\r')
		n++;
	bool cut = n >= max - 4;
	if (cut) {
		n = max - 4;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	if (cut)
		memcpy(out + n, "…", 4); /* 3 bytes and the NUL */
	else
		out[n] = 0;
}

int sk_ledger_reminder_text(const sk_ledger *l, sk_ledger_reminder_kind kind,
			    const sk_ledger_table *t, const sk_ledger_record *r, sk_lang lang,
			    sk_buf *out)
{
	bool en = lang == SK_LANG_EN;
	char what[160], a[160], b[160];
	int32_t today = sk_ledger_today(l);
	switch (kind) {
	case SK_LEDGER_REMIND_EXPIRING:
	case SK_LEDGER_REMIND_EXPIRED: {
		const char *until = rv(t, r, "until");
		clip(rv(t, r, "what"), what, sizeof(what));
		clip(rv(t, r, "requested_by"), a, sizeof(a));
		clip(rv(t, r, "approved_by"), b, sizeof(b));
		int32_t u = sk_ledger_ymd(until);
		int left = u > 0 ? sk_ledger_days(u) - sk_ledger_days(today) : 0;
		if (kind == SK_LEDGER_REMIND_EXPIRING)
			return sk_buf_printf(
				out,
				en ? "Exception %s \"%s\" expires on %s (in %d day(s)). Requested by %s, approved by %s: extend it (a new approval) or end it.\n"
				   : "例外措置 %s「%s」の期限 %s が近づいています (あと %d 日)。申請者 %s、承認者 %s: 延長する (改めて承認を受ける) か終了してください。\n",
				r->id, what, until ? until : "-", left, a, b);
		return sk_buf_printf(
			out,
			en ? "Exception %s \"%s\" expired on %s and no longer applies. Requested by %s, approved by %s: end the measure or request it again.\n"
			   : "例外措置 %s「%s」は期限 %s を過ぎ、もう適用されません。申請者 %s、承認者 %s: 措置を終えるか、改めて申請してください。\n",
			r->id, what, until ? until : "-", a, b);
	}
	case SK_LEDGER_REMIND_OVERDUE: {
		const char *dd = rv(t, r, "due");
		clip(rv(t, r, "finding"), what, sizeof(what));
		clip(rv(t, r, "owner"), a, sizeof(a));
		return sk_buf_printf(
			out,
			en ? "Finding %s \"%s\" is still open past its due date %s. Owner: %s.\n"
			   : "指摘事項 %s「%s」は期限 %s を過ぎても対応中です。担当者: %s。\n",
			r->id, what, dd ? dd : "-", a);
	}
	case SK_LEDGER_REMIND_REVIEW: {
		const char *rev = rv(t, r, "review"), *sec = rv(t, r, "section");
		clip(rv(t, r, "name"), what, sizeof(what));
		clip(rv(t, r, "manager"), a, sizeof(a));
		const char *sn = sec && sk_policy_has_section(l->p, sec)
					 ? sk_policy_section_name(l->p, sec, lang)
					 : sec;
		return sk_buf_printf(
			out,
			en ? "Asset %s \"%s\" is past its review date %s. Section: %s, manager: %s: review its class and record the next date.\n"
			   : "情報資産 %s「%s」は見直し日 %s を過ぎています。所管課 %s、管理者 %s: 分類を見直し、次の見直し日を記録してください。\n",
			r->id, what, rev ? rev : "-", sn ? sn : "-", a);
	}
	}
	return SK_EINVAL;
}
