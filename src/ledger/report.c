/* The yearly report for the 情報セキュリティ委員会 (see ledger.h): the figures of one fiscal
 * year gathered from the quarantine of the state folder and the ledgers (collect), written
 * as one workbook (libxlsxwriter, the formats and page set-up of the ledger export), and
 * made into a PDF by LibreOffice headless when asked. The workbook is our own output: the
 * conversion needs no worker sandbox, and nothing else is ever given to soffice here. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ledger_int.h"
#include "report_int.h"
#include "sekisho/io.h"
#include "sekisho/quarantine.h"
#include "xlsx_int.h"

extern char **environ;

#define JST (9 * 3600)
#define PDF_MAX ((size_t)256 << 20)  /* bytes of the PDF LibreOffice makes */
#define XLSX_MAX ((size_t)256 << 20) /* bytes of the workbook given to it */

static unsigned pdf_limit_s = 180; /* LibreOffice's time limit (tests shorten it) */

void sk_ledger_report_pdf_limit(unsigned seconds)
{
	pdf_limit_s = seconds ? seconds : 180;
}

/* ---- the fiscal year ---- */

static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void sk_ledger_fy_range(int fy, int64_t *since_us, int64_t *until_us)
{
	*since_us = (days_from_civil(fy, 4, 1) * 86400 - JST) * 1000000;
	*until_us = (days_from_civil(fy + 1, 4, 1) * 86400 - JST) * 1000000;
}

static bool month_of(int fy, int y, int m, int *month)
{
	int k = (y - fy) * 12 + (m - 4); /* months since April of fy */
	if (m < 1 || m > 12 || k < 0 || k >= SK_FY_MONTHS)
		return false;
	*month = k;
	return true;
}

bool sk_ledger_fy_month_us(int fy, int64_t us, int *month)
{
	int64_t s = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
	time_t t = (time_t)(s + JST);
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		return false;
	return month_of(fy, tm.tm_year + 1900, tm.tm_mon + 1, month);
}

bool sk_ledger_fy_month(int fy, const char *date, int *month)
{
	if (!date || strlen(date) < 10)
		return false;
	char d[11];
	memcpy(d, date, 10);
	d[10] = 0;
	int32_t ymd = sk_policy_date_parse(d);
	if (ymd < 0)
		return false;
	return month_of(fy, ymd / 10000, ymd / 100 % 100, month);
}

bool sk_ledger_fy_period(int fy, const char *period)
{
	if (!period)
		return false;
	char a[32], b[32], c[32];
	snprintf(a, sizeof(a), "%d年度", fy);
	snprintf(b, sizeof(b), "FY%d", fy);
	snprintf(c, sizeof(c), "%d", fy);
	return !strcmp(period, a) || !strcasecmp(period, b) || !strcmp(period, c);
}

/* ---- gathering ---- */

typedef struct coll {
	sk_ledger *l;
	sk_yearly *y;
	int64_t since, until;
	int rc;
	/* training: the sessions of the year (id, index of the plan or -1) */
	struct csess {
		char *id;
		long plan; /* index in y->plans, -1: none */
	} *ss;
	size_t nsess, csess;
	/* inspections: the checklist items of the year and the latest answers */
	struct citem {
		char *id, *chapter, *section, *kind;
	} *ci;
	size_t nci, cci;
	struct cans {
		char *id;
		long item; /* index in ci, -1: not of the year */
		char *section;
		int answer; /* SK_YR_DONE … SK_YR_NA, -1 unknown */
		bool latest;
	} *ca;
	size_t nca, cca;
} coll;

static bool grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return true;
	size_t nc = *cap ? *cap * 2 : 16;
	void *p = realloc(*v, nc * size);
	if (!p)
		return false;
	*v = p;
	*cap = nc;
	return true;
}

#define PUSH(c, arr, n, cap) (grow((void **)&(arr), &(cap), (n), sizeof(*(arr))) ? &(arr)[(n)++] : NULL)

static char *sdup(coll *c, const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d && c->rc == 0)
		c->rc = SK_ENOMEM;
	return d;
}

static const char *val(const sk_ledger_table *t, const sk_ledger_record *r, const char *key)
{
	int i = sk_ledger_field_index(t, key);
	return i >= 0 && (size_t)i < r->n ? r->values[i] : NULL;
}

static int verdict_index(const char *v)
{
	static const char *const codes[] = {"clean", "sanitized", "held", "blocked"};
	for (int i = 0; i < 4; i++)
		if (v && !strcmp(v, codes[i]))
			return i;
	return SK_YR_UNDECIDED;
}

static int on_item(void *ctx, const sk_qitem *it)
{
	coll *c = ctx;
	sk_yearly *y = c->y;
	int m;
	if (!sk_ledger_fy_month_us(y->fy, it->received_us, &m))
		return 0;
	int v = verdict_index(sk_qitem_verdict(it));
	y->items[m][v]++;
	if (v != SK_YR_BLOCKED && v != SK_YR_HELD)
		return 0;
	const char *code = it->reason && *it->reason ? it->reason : v == SK_YR_HELD ? "held" : "";
	for (size_t i = 0; i < y->nreasons; i++)
		if (!strcmp(y->reasons[i].code, code)) {
			y->reasons[i].n++;
			return 0;
		}
	/* the array grows one at a time: reasons are few */
	sk_yr_reason *p = realloc(y->reasons, (y->nreasons + 1) * sizeof(*p));
	if (!p)
		return c->rc = SK_ENOMEM;
	y->reasons = p;
	p[y->nreasons] = (sk_yr_reason){sdup(c, code), 1};
	y->nreasons++;
	return c->rc;
}

static int on_request(void *ctx, const sk_qrequest *rq)
{
	coll *c = ctx;
	sk_yearly *y = c->y;
	int m;
	if (sk_ledger_fy_month_us(y->fy, rq->created_us, &m)) {
		y->requests[m][SK_YR_REQUESTED]++;
		if (rq->state == SK_QREQ_PENDING)
			y->pending++;
	}
	if (rq->decided_us && sk_ledger_fy_month_us(y->fy, rq->decided_us, &m)) {
		if (rq->state == SK_QREQ_APPROVED)
			y->requests[m][SK_YR_APPROVED]++;
		else if (rq->state == SK_QREQ_REFUSED)
			y->requests[m][SK_YR_REFUSED]++;
	}
	return 0;
}

static int reason_cmp(const void *a, const void *b)
{
	const sk_yr_reason *x = a, *y = b;
	return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->code, y->code);
}

static int gateway(coll *c, const char *state_dir, sk_error *err)
{
	if (!state_dir)
		return 0;
	char *db = NULL;
	if (asprintf(&db, "%s/quarantine.db", state_dir) < 0)
		return sk_error_set(err, SK_ENOMEM, "report: path");
	bool present = access(db, F_OK) == 0;
	free(db);
	if (!present) /* no quarantine: none is made by reading */
		return 0;
	sk_quarantine *q = NULL;
	int rc = sk_quarantine_open(state_dir, NULL, NULL, &q, err);
	if (rc)
		return rc;
	c->y->gateway = true;
	rc = sk_quarantine_list(q, on_item, c, err);
	if (rc == 0)
		rc = sk_quarantine_requests(q, NULL, on_request, c, err);
	sk_quarantine_close(q);
	if (rc == SK_ENOMEM || c->rc)
		return sk_error_set(err, SK_ENOMEM, "report: out of memory");
	if (c->y->nreasons)
		qsort(c->y->reasons, c->y->nreasons, sizeof(*c->y->reasons), reason_cmp);
	return rc;
}

static int on_incident(void *ctx, const sk_ledger_table *t, const sk_ledger_record *r)
{
	coll *c = ctx;
	sk_yearly *y = c->y;
	int m;
	const char *at = val(t, r, "found_at");
	if (!sk_ledger_fy_month(y->fy, at, &m))
		return 0;
	const char *sev = val(t, r, "severity");
	int s = !sev ? -1 : !strcmp(sev, "high") ? SK_YR_HIGH : !strcmp(sev, "medium") ? SK_YR_MEDIUM
							  : !strcmp(sev, "low") ? SK_YR_LOW : -1;
	if (s >= 0)
		y->incidents[m][s]++;
	size_t cap = y->ninc; /* grown one at a time below when full */
	sk_yr_incident *p = realloc(y->inc, (cap + 1) * sizeof(*p));
	if (!p)
		return c->rc = SK_ENOMEM;
	y->inc = p;
	p[y->ninc++] = (sk_yr_incident){sdup(c, r->id),		 sdup(c, at),
					sdup(c, sev),		 sdup(c, val(t, r, "state")),
					sdup(c, val(t, r, "what")), sdup(c, val(t, r, "found_by")),
					sdup(c, val(t, r, "item"))};
	return c->rc;
}

static int on_plan(void *ctx, const sk_ledger_table *t, const sk_ledger_record *r)
{
	coll *c = ctx;
	sk_yearly *y = c->y;
	int m;
	sk_yr_plan *p = realloc(y->plans, (y->nplans + 1) * sizeof(*p));
	if (!p)
		return c->rc = SK_ENOMEM;
	y->plans = p;
	const char *date = val(t, r, "date");
	p[y->nplans++] = (sk_yr_plan){.id = sdup(c, r->id),
				      .course = sdup(c, val(t, r, "course")),
				      .kind = sdup(c, val(t, r, "kind")),
				      .date = sdup(c, date),
				      .required = sdup(c, val(t, r, "required")),
				      .in_year = sk_ledger_fy_month(y->fy, date, &m)};
	return c->rc;
}

/* the index of plan id, SK_ENOTFOUND (negative) when none */
static long plan_index(const sk_yearly *y, const char *id)
{
	for (size_t i = 0; id && i < y->nplans; i++)
		if (!strcmp(y->plans[i].id, id))
			return (long)i;
	return SK_ENOTFOUND;
}

static int on_session(void *ctx, const sk_ledger_table *t, const sk_ledger_record *r)
{
	coll *c = ctx;
	int m;
	if (!sk_ledger_fy_month(c->y->fy, val(t, r, "date"), &m))
		return 0;
	long pi = plan_index(c->y, val(t, r, "plan"));
	struct csess *p = PUSH(c, c->ss, c->nsess, c->csess);
	if (!p)
		return c->rc = SK_ENOMEM;
	*p = (struct csess){sdup(c, r->id), pi};
	c->y->sessions++;
	if (pi >= 0)
		c->y->plans[pi].sessions++;
	return c->rc;
}

static sk_yr_section *section_get(coll *c, const char *id)
{
	sk_yearly *y = c->y;
	if (!id)
		id = "";
	for (size_t i = 0; i < y->nsections; i++)
		if (!strcmp(y->sections[i].section, id))
			return &y->sections[i];
	sk_yr_section *p = realloc(y->sections, (y->nsections + 1) * sizeof(*p));
	if (!p) {
		c->rc = SK_ENOMEM;
		return NULL;
	}
	y->sections = p;
	p[y->nsections] = (sk_yr_section){.section = sdup(c, id)};
	return c->rc ? NULL : &p[y->nsections++];
}

static int on_attendance(void *ctx, const sk_ledger_table *t, const sk_ledger_record *r)
{
	coll *c = ctx;
	const char *sid = val(t, r, "session");
	size_t i = 0;
	while (i < c->nsess && (!sid || strcmp(c->ss[i].id, sid)))
		i++;
	if (i == c->nsess) /* a session of another year */
		return 0;
	const char *att = val(t, r, "attended");
	bool yes = att && !strcmp(att, "yes");
	long pi = c->ss[i].plan;
	if (pi >= 0) {
		if (yes)
			c->y->plans[pi].attended++;
		else
			c->y->plans[pi].absent++;
	}
	sk_yr_section *s = section_get(c, val(t, r, "section"));
	if (!s)
		return c->rc;
	if (!yes) {
		s->absent++;
		return 0;
	}
	s->attended++;
	const char *who = val(t, r, "person");
	for (size_t k = 0; who && k < s->npersons; k++)
		if (!strcmp(s->persons[k], who))
			return 0;
	char **pp = realloc(s->persons, (s->npersons + 1) * sizeof(*pp));
	if (!pp)
		return c->rc = SK_ENOMEM;
	s->persons = pp;
	pp[s->npersons++] = sdup(c, who);
	s->people++;
	return c->rc;
}

static int on_checklist(void *ctx, const sk_ledger_table *t, const sk_ledger_record *r)
{
	coll *c = ctx;
	if (!sk_ledger_fy_period(c->y->fy, val(t, r, "period")))
		return 0;
	struct citem *p = PUSH(c, c->ci, c->nci, c->cci);
	if (!p)
		return c->rc = SK_ENOMEM;
	*p = (struct citem){sdup(c, r->id), sdup(c, val(t, r, "chapter")), sdup(c, val(t, r, "section")),
			    sdup(c, val(t, r, "kind"))};
	return c->rc;
}

static int answer_index(const char *a)
{
	static const char *const codes[] = {"done", "partial", "not-done", "na"};
	for (int i = 0; i < 4; i++)
		if (a && !strcmp(a, codes[i]))
			return i;
	return SK_EINVAL;
}

static int on_answer(void *ctx, const sk_ledger_table *t, const sk_ledger_record *r)
{
	coll *c = ctx;
	const char *item = val(t, r, "item");
	long ii = -1;
	for (size_t i = 0; item && i < c->nci; i++)
		if (!strcmp(c->ci[i].id, item)) {
			ii = (long)i;
			break;
		}
	/* the section answered for: the item's own when it names one */
	const char *sec = ii >= 0 && *c->ci[ii].section ? c->ci[ii].section : val(t, r, "section");
	if (!sec)
		sec = "";
	/* a later answer for the same item and section replaces the earlier (records by id) */
	for (size_t i = 0; ii >= 0 && i < c->nca; i++)
		if (c->ca[i].item == ii && c->ca[i].latest && !strcmp(c->ca[i].section, sec))
			c->ca[i].latest = false;
	struct cans *p = PUSH(c, c->ca, c->nca, c->cca);
	if (!p)
		return c->rc = SK_ENOMEM;
	int a = answer_index(val(t, r, "answer"));
	*p = (struct cans){sdup(c, r->id), ii, sdup(c, sec), a >= 0 ? a : -1, ii >= 0};
	return c->rc;
}

static sk_yr_answers *answers_get(coll *c, sk_yr_answers **v, size_t *n, const char *kind,
				  const char *key)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i].kind, kind) && !strcmp((*v)[i].key, key))
			return &(*v)[i];
	sk_yr_answers *p = realloc(*v, (*n + 1) * sizeof(*p));
	if (!p) {
		c->rc = SK_ENOMEM;
		return NULL;
	}
	*v = p;
	p[*n] = (sk_yr_answers){.kind = sdup(c, kind), .key = sdup(c, key)};
	return c->rc ? NULL : &p[(*n)++];
}

static void count_answer(coll *c, const struct citem *it, const char *section, int a)
{
	sk_yearly *y = c->y;
	sk_yr_answers *s = answers_get(c, &y->by_section, &y->nby_section, it->kind, section);
	sk_yr_answers *h = answers_get(c, &y->by_chapter, &y->nby_chapter, it->kind, it->chapter);
	if (s)
		s->n[a]++;
	if (h)
		h->n[a]++;
}

static int answers_count(coll *c)
{
	/* rows in the order the checklist items come (by id) */
	for (size_t i = 0; i < c->nci; i++) {
		bool any = false;
		for (size_t k = 0; k < c->nca; k++) {
			const struct cans *a = &c->ca[k];
			if (a->item != (long)i || !a->latest || a->answer < 0)
				continue;
			any = true;
			count_answer(c, &c->ci[i], a->section, a->answer);
		}
		if (!any)
			count_answer(c, &c->ci[i], c->ci[i].section, SK_YR_UNANSWERED);
	}
	return c->rc;
}

static int on_finding(void *ctx, const sk_ledger_table *t, const sk_ledger_record *r)
{
	coll *c = ctx;
	sk_yearly *y = c->y;
	int m;
	const char *ans = val(t, r, "answer"), *due = val(t, r, "due");
	bool of_year = (r->created_us >= c->since && r->created_us < c->until) ||
		       sk_ledger_fy_month(y->fy, due, &m);
	for (size_t i = 0; !of_year && ans && i < c->nca; i++)
		of_year = c->ca[i].item >= 0 && !strcmp(c->ca[i].id, ans);
	if (!of_year)
		return 0;
	const char *state = val(t, r, "state"), *overdue = val(t, r, "overdue");
	if (state && !strcmp(state, "closed"))
		y->findings_closed++;
	else
		y->findings_open++;
	if (overdue && !strcmp(overdue, "yes"))
		y->findings_overdue++;
	sk_yr_finding *p = realloc(y->findings, (y->nfindings + 1) * sizeof(*p));
	if (!p)
		return c->rc = SK_ENOMEM;
	y->findings = p;
	p[y->nfindings++] = (sk_yr_finding){sdup(c, r->id),	  sdup(c, val(t, r, "finding")),
					    sdup(c, val(t, r, "owner")), sdup(c, due),
					    sdup(c, state),		  sdup(c, val(t, r, "closed_on")),
					    sdup(c, overdue)};
	return c->rc;
}

static void coll_free(coll *c)
{
	for (size_t i = 0; i < c->nsess; i++)
		free(c->ss[i].id);
	free(c->ss);
	for (size_t i = 0; i < c->nci; i++) {
		free(c->ci[i].id);
		free(c->ci[i].chapter);
		free(c->ci[i].section);
		free(c->ci[i].kind);
	}
	free(c->ci);
	for (size_t i = 0; i < c->nca; i++) {
		free(c->ca[i].id);
		free(c->ca[i].section);
	}
	free(c->ca);
}

void sk_ledger_yearly_free(sk_yearly *y)
{
	if (!y)
		return;
	for (size_t i = 0; i < y->nreasons; i++)
		free(y->reasons[i].code);
	free(y->reasons);
	for (size_t i = 0; i < y->ninc; i++) {
		sk_yr_incident *p = &y->inc[i];
		free(p->id), free(p->found_at), free(p->severity), free(p->state), free(p->what);
		free(p->found_by), free(p->item);
	}
	free(y->inc);
	for (size_t i = 0; i < y->nplans; i++) {
		sk_yr_plan *p = &y->plans[i];
		free(p->id), free(p->course), free(p->kind), free(p->date), free(p->required);
	}
	free(y->plans);
	for (size_t i = 0; i < y->nsections; i++) {
		for (size_t k = 0; k < y->sections[i].npersons; k++)
			free(y->sections[i].persons[k]);
		free(y->sections[i].persons);
		free(y->sections[i].section);
	}
	free(y->sections);
	for (size_t i = 0; i < y->nby_section; i++)
		free(y->by_section[i].kind), free(y->by_section[i].key);
	free(y->by_section);
	for (size_t i = 0; i < y->nby_chapter; i++)
		free(y->by_chapter[i].kind), free(y->by_chapter[i].key);
	free(y->by_chapter);
	for (size_t i = 0; i < y->nfindings; i++) {
		sk_yr_finding *p = &y->findings[i];
		free(p->id), free(p->finding), free(p->owner), free(p->due), free(p->state);
		free(p->closed_on), free(p->overdue);
	}
	free(y->findings);
	memset(y, 0, sizeof(*y));
}

int sk_ledger_yearly_collect(sk_ledger *l, const char *state_dir, int fy, sk_yearly *y,
			     sk_error *err)
{
	memset(y, 0, sizeof(*y));
	if (!l || fy < 1900 || fy > 9998)
		return sk_error_set(err, SK_EINVAL, "report: no such fiscal year %d", fy);
	y->fy = fy;
	y->today = sk_ledger_today(l);
	coll c = {.l = l, .y = y};
	sk_ledger_fy_range(fy, &c.since, &c.until);
	int rc = gateway(&c, state_dir, err);
	/* the policy's sections first, so that a section without training shows as 0 */
	for (size_t i = 0; rc == 0 && i < sk_policy_section_count(l->p); i++)
		if (!section_get(&c, sk_policy_section_id(l->p, i)))
			rc = SK_ENOMEM;
	static const struct {
		const char *table;
		sk_ledger_list_fn fn;
	} walks[] = {
		{"incidents", on_incident},
		{"training/plans", on_plan},
		{"training/sessions", on_session},
		{"training/attendance", on_attendance},
		{"inspections/checklists", on_checklist},
		{"inspections/answers", on_answer},
		{"inspections/findings", on_finding},
	};
	for (size_t i = 0; rc == 0 && i < sizeof(walks) / sizeof(walks[0]); i++) {
		rc = sk_ledger_list(l, walks[i].table, walks[i].fn, &c, err);
		if (rc == 0 && c.rc)
			rc = c.rc;
		if (rc == 0 && !strcmp(walks[i].table, "inspections/answers"))
			rc = answers_count(&c);
	}
	/* plans neither dated in the year nor held in it are not the year's */
	size_t k = 0;
	for (size_t i = 0; rc == 0 && i < y->nplans; i++) {
		if (y->plans[i].in_year || y->plans[i].sessions) {
			y->plans[k++] = y->plans[i];
			continue;
		}
		sk_yr_plan *p = &y->plans[i];
		free(p->id), free(p->course), free(p->kind), free(p->date), free(p->required);
	}
	if (rc == 0)
		y->nplans = k;
	coll_free(&c);
	if (rc) {
		if (rc == SK_ENOMEM)
			sk_error_set(err, SK_ENOMEM, "report: out of memory");
		sk_ledger_yearly_free(y);
	}
	return rc;
}

/* ---- the workbook ---- */

typedef struct wctx {
	sk_ledger *l;
	const sk_yearly *y;
	bool en;
	lxw_workbook *wb;
	lxw_worksheet *ws;
	sk_ledger_xlsx_formats f;
	lxw_format *title, *month, *total, *total_num, *note;
	lxw_row_t row;
	int rc;
} wctx;

#define T(x, j, e) ((x)->en ? (e) : (j))

static void chk(wctx *x, lxw_error e)
{
	if (e != LXW_NO_ERROR && x->rc == 0)
		x->rc = SK_EIO;
}

static void str(wctx *x, lxw_row_t r, lxw_col_t c, const char *s, lxw_format *f)
{
	chk(x, s && *s ? worksheet_write_string(x->ws, r, c, s, f ? f : x->f.text)
		       : worksheet_write_blank(x->ws, r, c, f ? f : x->f.text));
}

static void num(wctx *x, lxw_row_t r, lxw_col_t c, uint64_t n, lxw_format *f)
{
	chk(x, worksheet_write_number(x->ws, r, c, (double)n, f ? f : x->f.num));
}

static void date(wctx *x, lxw_row_t r, lxw_col_t c, const char *v)
{
	if (!v || strlen(v) < 10) {
		str(x, r, c, v, NULL);
		return;
	}
	lxw_datetime d = sk_ledger_xlsx_dt_text(v);
	chk(x, worksheet_write_datetime(x->ws, r, c, &d, strlen(v) > 10 ? x->f.datetime : x->f.date));
}

static void month(wctx *x, lxw_row_t r, lxw_col_t c, int m)
{
	int y = x->y->fy + (m + 3) / 12, mo = (m + 3) % 12 + 1;
	lxw_datetime d = {y, mo, 1, 0, 0, 0};
	chk(x, worksheet_write_datetime(x->ws, r, c, &d, x->month));
}

static void head(wctx *x, lxw_row_t r, const char *const *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		str(x, r, (lxw_col_t)i, h[i], x->f.head);
	chk(x, worksheet_set_row(x->ws, r, 28, NULL));
}

static lxw_worksheet *sheet(wctx *x, const char *name, const char *title, const unsigned *w,
			    size_t nw)
{
	x->ws = workbook_add_worksheet(x->wb, name);
	if (!x->ws) {
		x->rc = SK_EIO;
		return NULL;
	}
	for (size_t i = 0; i < nw; i++)
		chk(x, worksheet_set_column(x->ws, (lxw_col_t)i, (lxw_col_t)i, w[i], NULL));
	char t[256];
	snprintf(t, sizeof(t), x->en ? "%s%s%s (fiscal year %d)" : "%s%s%s (%d年度)",
		 sk_policy_organization(x->l->p) ? sk_policy_organization(x->l->p) : "",
		 sk_policy_organization(x->l->p) ? (x->en ? ": " : " ") : "", title, x->y->fy);
	str(x, 0, 0, t, x->title);
	chk(x, worksheet_set_row(x->ws, 0, 22, NULL));
	/* the title and the first table's header on every printed page */
	sk_ledger_xlsx_page(x->ws, 0, 1, name);
	worksheet_freeze_panes(x->ws, 2, 0);
	x->row = 1;
	return x->ws;
}

/* a table's caption after a blank row; the next row is its header */
static void caption(wctx *x, const char *s)
{
	x->row += 2;
	str(x, x->row, 0, s, x->title);
	x->row++;
}

static const char *section_name(wctx *x, const char *id)
{
	if (!id || !*id)
		return T(x, "(所属なし)", "(no section)");
	const char *n = sk_policy_section_name(x->l->p, id, x->en ? SK_LANG_EN : SK_LANG_JA);
	return n ? n : id;
}

static const char *choice(wctx *x, const char *table, const char *key, const char *v)
{
	const sk_ledger_table *t = sk_ledger_table_find(x->l, table);
	int i = t ? sk_ledger_field_index(t, key) : SK_ENOTFOUND;
	return i >= 0 ? sk_ledger_value_text(x->l, &t->fields[i], v, x->en ? SK_LANG_EN : SK_LANG_JA)
		      : v;
}

static uint64_t sum_items(const sk_yearly *y, int v)
{
	uint64_t n = 0;
	for (int m = 0; m < SK_FY_MONTHS; m++)
		n += v < 0 ? y->items[m][0] + y->items[m][1] + y->items[m][2] + y->items[m][3] +
				     y->items[m][4]
			   : y->items[m][v];
	return n;
}

static uint64_t sum_req(const sk_yearly *y, int k)
{
	uint64_t n = 0;
	for (int m = 0; m < SK_FY_MONTHS; m++)
		n += y->requests[m][k];
	return n;
}

static uint64_t sum_inc(const sk_yearly *y, int s)
{
	uint64_t n = 0;
	for (int m = 0; m < SK_FY_MONTHS; m++)
		n += s < 0 ? y->incidents[m][0] + y->incidents[m][1] + y->incidents[m][2]
			   : y->incidents[m][s];
	return n;
}

static void summary(wctx *x)
{
	const sk_yearly *y = x->y;
	static const unsigned w[] = {22, 34, 14};
	if (!sheet(x, T(x, "概要", "Summary"), T(x, "情報セキュリティ年次報告", "Information security yearly report"), w, 3))
		return;
	worksheet_fit_to_pages(x->ws, 1, 1); /* a fixed set of rows: one page */
	static const char *const hj[] = {"区分", "項目", "値"}, *const he[] = {"Area", "Item", "Value"};
	head(x, 1, x->en ? he : hj, 3);
	lxw_row_t r = 2;
	const char *org = sk_policy_organization(x->l->p);
#define ROW_S(a, b, s) (str(x, r, 0, a, NULL), str(x, r, 1, b, NULL), str(x, r, 2, s, NULL), r++)
#define ROW_N(a, b, n) (str(x, r, 0, a, NULL), str(x, r, 1, b, NULL), num(x, r, 2, n, NULL), r++)
#define ROW_D(a, b, d) (str(x, r, 0, a, NULL), str(x, r, 1, b, NULL), date(x, r, 2, d), r++)
	const char *gen = T(x, "報告", "Report");
	ROW_S(gen, T(x, "団体名", "Organization"), org ? org : "");
	char fy[32], from[24], to[24], today[24];
	snprintf(fy, sizeof(fy), x->en ? "FY%d" : "%d年度", y->fy);
	snprintf(from, sizeof(from), "%04d-04-01", y->fy);
	snprintf(to, sizeof(to), "%04d-03-31", y->fy + 1);
	snprintf(today, sizeof(today), "%04d-%02d-%02d", y->today / 10000, y->today / 100 % 100,
		 y->today % 100);
	ROW_S(gen, T(x, "対象年度", "Fiscal year"), fy);
	ROW_D(gen, T(x, "期間の初日", "From"), from);
	ROW_D(gen, T(x, "期間の末日", "To"), to);
	ROW_D(gen, T(x, "作成日", "Made on"), today);
	const char *g = T(x, "ゲートウェイ", "Gateway");
	if (!y->gateway)
		ROW_S(g, T(x, "隔離の記録", "Quarantine records"),
		      T(x, "状態フォルダに隔離の記録がありません", "the state folder has no quarantine"));
	ROW_N(g, T(x, "受け付けた項目", "Items received"), sum_items(y, -1));
	ROW_N(g, T(x, "無害化なしで通過", "Clean"), sum_items(y, SK_YR_CLEAN));
	ROW_N(g, T(x, "無害化して通過", "Sanitized"), sum_items(y, SK_YR_SANITIZED));
	ROW_N(g, T(x, "承認待ちで保留", "Held for approval"), sum_items(y, SK_YR_HELD));
	ROW_N(g, T(x, "遮断", "Blocked"), sum_items(y, SK_YR_BLOCKED));
	ROW_N(g, T(x, "取り出し申請", "Release requests"), sum_req(y, SK_YR_REQUESTED));
	ROW_N(g, T(x, "取り出し承認", "Releases approved"), sum_req(y, SK_YR_APPROVED));
	ROW_N(g, T(x, "取り出し却下", "Releases refused"), sum_req(y, SK_YR_REFUSED));
	ROW_N(g, T(x, "審査中の申請", "Requests pending"), y->pending);
	const char *i = T(x, "事故", "Incidents");
	uint64_t open = 0;
	for (size_t k = 0; k < y->ninc; k++)
		open += !y->inc[k].state[0] || !strcmp(y->inc[k].state, "open");
	ROW_N(i, T(x, "事故の件数", "Incidents"), (uint64_t)y->ninc);
	ROW_N(i, T(x, "重大度 高", "Severity high"), sum_inc(y, SK_YR_HIGH));
	ROW_N(i, T(x, "重大度 中", "Severity medium"), sum_inc(y, SK_YR_MEDIUM));
	ROW_N(i, T(x, "重大度 低", "Severity low"), sum_inc(y, SK_YR_LOW));
	ROW_N(i, T(x, "対応中", "Open"), open);
	const char *t = T(x, "研修", "Training");
	uint64_t att = 0, people = 0;
	for (size_t k = 0; k < y->nsections; k++)
		att += y->sections[k].attended, people += y->sections[k].people;
	ROW_N(t, T(x, "研修計画", "Plans"), (uint64_t)y->nplans);
	ROW_N(t, T(x, "実施回数", "Sessions held"), y->sessions);
	ROW_N(t, T(x, "受講 (延べ)", "Attendances"), att);
	ROW_N(t, T(x, "受講者 (所属ごとの実人数の計)", "People who attended (per section, summed)"), people);
	const char *s = T(x, "自己点検・監査", "Inspections and audits");
	static const char *const aj[] = {"実施", "一部", "未実施", "該当なし", "未回答"};
	static const char *const ae[] = {"Done", "Partly done", "Not done", "Not applicable", "Unanswered"};
	for (int a = 0; a < SK_YR_ANS; a++) {
		uint64_t n = 0;
		for (size_t k = 0; k < y->nby_section; k++)
			n += y->by_section[k].n[a];
		char label[64];
		snprintf(label, sizeof(label), x->en ? "Answers: %s" : "回答 %s", x->en ? ae[a] : aj[a]);
		ROW_N(s, label, n);
	}
	ROW_N(s, T(x, "指摘事項", "Findings"), (uint64_t)y->nfindings);
	ROW_N(s, T(x, "指摘事項 対応中", "Findings open"), y->findings_open);
	ROW_N(s, T(x, "指摘事項 完了", "Findings closed"), y->findings_closed);
	ROW_N(s, T(x, "指摘事項 期限超過", "Findings overdue"), y->findings_overdue);
#undef ROW_S
#undef ROW_N
#undef ROW_D
	x->row = r;
}

static void gateway_sheet(wctx *x)
{
	const sk_yearly *y = x->y;
	static const unsigned w[] = {12, 20, 30, 14, 12, 12, 12};
	if (!sheet(x, T(x, "ゲートウェイ", "Gateway"), T(x, "ゲートウェイの判定", "Gateway verdicts"), w, 7))
		return;
	worksheet_fit_to_pages(x->ws, 1, 1); /* months and the reason codes: one page */
	static const char *const hj[] = {"月", "無害化なし", "無害化", "承認待ち", "遮断", "処理中", "計"};
	static const char *const he[] = {"Month", "Clean", "Sanitized", "Held", "Blocked", "Undecided", "Total"};
	head(x, 1, x->en ? he : hj, 7);
	lxw_row_t r = 2;
	for (int m = 0; m < SK_FY_MONTHS; m++, r++) {
		month(x, r, 0, m);
		uint64_t tot = 0;
		for (int v = 0; v < SK_YR_VERDICTS; v++) {
			num(x, r, (lxw_col_t)(v + 1), y->items[m][v], NULL);
			tot += y->items[m][v];
		}
		num(x, r, 6, tot, NULL);
	}
	str(x, r, 0, T(x, "計", "Total"), x->total);
	for (int v = 0; v < SK_YR_VERDICTS; v++)
		num(x, r, (lxw_col_t)(v + 1), sum_items(y, v), x->total_num);
	num(x, r, 6, sum_items(y, -1), x->total_num);
	x->row = r;
	if (!y->gateway) {
		x->row += 2;
		str(x, x->row, 0, T(x, "状態フォルダに隔離の記録がありません", "the state folder has no quarantine"), x->note);
	}

	caption(x, T(x, "遮断・保留の理由", "Why items were blocked or held"));
	static const char *const rj[] = {"順位", "理由コード", "理由", "件数"};
	static const char *const re[] = {"Rank", "Reason code", "Reason", "Items"};
	head(x, x->row, x->en ? re : rj, 4);
	for (size_t i = 0; i < y->nreasons; i++) {
		r = ++x->row;
		num(x, r, 0, (uint64_t)(i + 1), NULL);
		str(x, r, 1, y->reasons[i].code, NULL);
		sk_reason rs = sk_reason_from_code(y->reasons[i].code);
		str(x, r, 2, rs != SK_REASON_NONE ? sk_reason_text(rs, x->en ? SK_LANG_EN : SK_LANG_JA)
						  : y->reasons[i].code, x->f.wrap);
		num(x, r, 3, y->reasons[i].n, NULL);
	}

	caption(x, T(x, "取り出し申請 (承認・却下は決定した月)", "Release requests (approved and refused: the month decided)"));
	static const char *const qj[] = {"月", "申請", "承認", "却下"};
	static const char *const qe[] = {"Month", "Requested", "Approved", "Refused"};
	head(x, x->row, x->en ? qe : qj, 4);
	for (int m = 0; m < SK_FY_MONTHS; m++) {
		r = ++x->row;
		month(x, r, 0, m);
		for (int k = 0; k < SK_YR_REQ; k++)
			num(x, r, (lxw_col_t)(k + 1), y->requests[m][k], NULL);
	}
	r = ++x->row;
	str(x, r, 0, T(x, "計", "Total"), x->total);
	for (int k = 0; k < SK_YR_REQ; k++)
		num(x, r, (lxw_col_t)(k + 1), sum_req(y, k), x->total_num);
}

static void incidents_sheet(wctx *x)
{
	const sk_yearly *y = x->y;
	static const unsigned w[] = {12, 17, 10, 10, 44, 14, 20};
	if (!sheet(x, T(x, "事故", "Incidents"), T(x, "情報セキュリティ事故", "Security incidents"), w, 7))
		return;
	static const char *const hj[] = {"ID", "発見日時", "重大度", "状況", "事象", "発見者", "関連項目 (隔離)"};
	static const char *const he[] = {"ID", "Found at", "Severity", "State", "What happened", "Found by", "Linked item"};
	head(x, 1, x->en ? he : hj, 7);
	lxw_row_t r = 1;
	for (size_t i = 0; i < y->ninc; i++) {
		const sk_yr_incident *p = &y->inc[i];
		r++;
		str(x, r, 0, p->id, NULL);
		date(x, r, 1, p->found_at);
		str(x, r, 2, choice(x, "incidents", "severity", p->severity), NULL);
		str(x, r, 3, *p->state ? choice(x, "incidents", "state", p->state) : T(x, "対応中", "open"), NULL);
		str(x, r, 4, p->what, x->f.wrap);
		str(x, r, 5, p->found_by, NULL);
		str(x, r, 6, p->item, NULL);
	}
	if (y->ninc)
		worksheet_autofilter(x->ws, 1, 0, r, 6);
	x->row = r;
	caption(x, T(x, "月別・重大度別の件数 (発見日時の月)", "Per month and severity (the month found)"));
	static const char *const mj[] = {"月", "高", "中", "低", "計"};
	static const char *const me[] = {"Month", "High", "Medium", "Low", "Total"};
	head(x, x->row, x->en ? me : mj, 5);
	for (int m = 0; m < SK_FY_MONTHS; m++) {
		r = ++x->row;
		month(x, r, 0, m);
		uint64_t tot = 0;
		for (int s = 0; s < SK_YR_SEV; s++) {
			num(x, r, (lxw_col_t)(s + 1), y->incidents[m][s], NULL);
			tot += y->incidents[m][s];
		}
		num(x, r, 4, tot, NULL);
	}
	r = ++x->row;
	str(x, r, 0, T(x, "計", "Total"), x->total);
	for (int s = 0; s < SK_YR_SEV; s++)
		num(x, r, (lxw_col_t)(s + 1), sum_inc(y, s), x->total_num);
	num(x, r, 4, sum_inc(y, -1), x->total_num);
}

static void training_sheet(wctx *x)
{
	const sk_yearly *y = x->y;
	static const unsigned w[] = {18, 30, 24, 12, 8, 10, 10, 10};
	if (!sheet(x, T(x, "研修", "Training"), T(x, "研修の計画と実施", "Training plans and sessions"), w, 8))
		return;
	static const char *const hj[] = {"ID", "研修名", "研修の種類", "実施予定日", "必修", "実施回数", "受講", "欠席"};
	static const char *const he[] = {"ID", "Course", "Kind", "Date", "Required", "Sessions", "Attended", "Absent"};
	head(x, 1, x->en ? he : hj, 8);
	lxw_row_t r = 1;
	for (size_t i = 0; i < y->nplans; i++) {
		const sk_yr_plan *p = &y->plans[i];
		r++;
		str(x, r, 0, p->id, NULL);
		str(x, r, 1, p->course, x->f.wrap);
		str(x, r, 2, choice(x, "training/plans", "kind", p->kind), x->f.wrap);
		date(x, r, 3, p->date);
		str(x, r, 4, *p->required ? choice(x, "training/plans", "required", p->required) : "", NULL);
		num(x, r, 5, p->sessions, NULL);
		num(x, r, 6, p->attended, NULL);
		num(x, r, 7, p->absent, NULL);
	}
	x->row = r;
	caption(x, T(x, "所属ごとの受講 (年度内の実施分)", "Attendance per section (sessions of the year)"));
	static const char *const sj[] = {"所属", "受講者数", "受講 (延べ)", "欠席"};
	static const char *const se[] = {"Section", "People", "Attendances", "Absent"};
	head(x, x->row, x->en ? se : sj, 4);
	for (size_t i = 0; i < y->nsections; i++) {
		const sk_yr_section *s = &y->sections[i];
		r = ++x->row;
		str(x, r, 0, section_name(x, s->section), NULL);
		num(x, r, 1, s->people, NULL);
		num(x, r, 2, s->attended, NULL);
		num(x, r, 3, s->absent, NULL);
	}
}

static void answers_table(wctx *x, const sk_yr_answers *v, size_t n, bool sections)
{
	static const char *const hj[] = {"種類", "所属", "実施", "一部", "未実施", "該当なし", "未回答", "計"};
	static const char *const he[] = {"Kind", "Section", "Done", "Partly done", "Not done", "Not applicable", "Unanswered", "Total"};
	const char *h[8];
	memcpy(h, x->en ? he : hj, sizeof(h));
	if (!sections)
		h[1] = T(x, "章・区分", "Chapter");
	head(x, x->row, h, 8);
	for (size_t i = 0; i < n; i++) {
		lxw_row_t r = ++x->row;
		str(x, r, 0, *v[i].kind ? choice(x, "inspections/checklists", "kind", v[i].kind) : "", NULL);
		str(x, r, 1, sections ? section_name(x, v[i].key) : v[i].key, x->f.wrap);
		uint64_t tot = 0;
		for (int a = 0; a < SK_YR_ANS; a++) {
			num(x, r, (lxw_col_t)(a + 2), v[i].n[a], NULL);
			tot += v[i].n[a];
		}
		num(x, r, 7, tot, NULL);
	}
}

static void inspections_sheet(wctx *x)
{
	const sk_yearly *y = x->y;
	static const unsigned w[] = {12, 36, 14, 12, 12, 12, 12, 10};
	if (!sheet(x, T(x, "自己点検・監査", "Inspections"), T(x, "自己点検・監査の結果", "Self-inspections and audits"), w, 8))
		return;
	x->row = 1;
	answers_table(x, y->by_section, y->nby_section, true);
	caption(x, T(x, "章・区分ごとの結果", "Results per chapter"));
	answers_table(x, y->by_chapter, y->nby_chapter, false);
	caption(x, T(x, "指摘事項 (年度内に登録・期限、または年度の点検から)",
		     "Findings (added or due in the year, or from the year's checklists)"));
	static const char *const fj[] = {"ID", "指摘事項", "担当者", "期限", "状況", "完了日", "期限超過"};
	static const char *const fe[] = {"ID", "Finding", "Owner", "Due", "State", "Closed on", "Overdue"};
	head(x, x->row, x->en ? fe : fj, 7);
	for (size_t i = 0; i < y->nfindings; i++) {
		const sk_yr_finding *p = &y->findings[i];
		lxw_row_t r = ++x->row;
		str(x, r, 0, p->id, NULL);
		str(x, r, 1, p->finding, x->f.wrap);
		str(x, r, 2, p->owner, NULL);
		date(x, r, 3, p->due);
		str(x, r, 4, choice(x, "inspections/findings", "state", p->state), NULL);
		date(x, r, 5, *p->closed_on ? p->closed_on : NULL);
		str(x, r, 6, *p->overdue ? choice(x, "inspections/findings", "overdue", p->overdue) : "", NULL);
	}
}

static int write_xlsx(sk_ledger *l, const sk_yearly *y, const char *path, sk_lang lang,
		      sk_error *err)
{
	sk_tmpfile tf;
	int rc = sk_tmpfile_open(&tf, path, err);
	if (rc)
		return rc;
	lxw_workbook *wb = workbook_new(tf.tmp);
	if (!wb) {
		sk_tmpfile_discard(&tf);
		return sk_error_set(err, SK_EIO, "xlsx: cannot start the workbook");
	}
	wctx x = {.l = l, .y = y, .en = lang == SK_LANG_EN, .wb = wb};
	char title[160];
	snprintf(title, sizeof(title), x.en ? "Information security yearly report, FY%d" : "%d年度 情報セキュリティ年次報告", y->fy);
	lxw_doc_properties props = {.title = title, .author = (char *)"sekisho",
				    .company = (char *)(sk_policy_organization(l->p) ? sk_policy_organization(l->p) : ""),
				    .comments = (char *)"sekisho yearly report"};
	workbook_set_properties(wb, &props);
	if (sk_ledger_xlsx_formats_add(wb, &x.f) != 0 ||
	    !(x.title = workbook_add_format(wb)) || !(x.month = sk_ledger_xlsx_format(wb, false, "yyyy-mm")) ||
	    !(x.total = sk_ledger_xlsx_format(wb, false, NULL)) ||
	    !(x.total_num = sk_ledger_xlsx_format(wb, false, "0")) || !(x.note = workbook_add_format(wb))) {
		rc = sk_error_set(err, SK_ENOMEM, "xlsx formats");
	} else {
		format_set_font_name(x.title, "游ゴシック");
		format_set_font_size(x.title, 12);
		format_set_bold(x.title);
		format_set_font_name(x.note, "游ゴシック");
		format_set_font_size(x.note, 10);
		format_set_italic(x.note);
		format_set_bold(x.total);
		format_set_bold(x.total_num);
		format_set_bg_color(x.total, 0xF2F2F2);
		format_set_bg_color(x.total_num, 0xF2F2F2);
		summary(&x);
		gateway_sheet(&x);
		incidents_sheet(&x);
		training_sheet(&x);
		inspections_sheet(&x);
		if (x.rc)
			rc = sk_error_set(err, x.rc, "xlsx: cannot write the report");
	}
	lxw_error e = workbook_close(wb); /* frees wb whatever happened */
	if (rc == 0 && e != LXW_NO_ERROR)
		rc = sk_error_set(err, SK_EIO, "xlsx: %s", lxw_strerror(e));
	if (rc) {
		sk_tmpfile_discard(&tf);
		return rc;
	}
	return sk_tmpfile_commit(&tf, path, -1, true, err);
}

/* ---- the PDF, by LibreOffice headless ---- */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	remove(p);
	return 0;
}

/* "file://" URL of an absolute path, other bytes than [A-Za-z0-9/._-] %-escaped */
static int file_url(const char *path, char *out, size_t n)
{
	size_t k = (size_t)snprintf(out, n, "file://");
	for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
		if (k + 4 >= n)
			return SK_ELIMIT;
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		    strchr("/._-", *s))
			out[k++] = (char)*s;
		else
			k += (size_t)snprintf(out + k, n - k, "%%%02X", *s);
	}
	out[k] = 0;
	return 0;
}

/* The environment of soffice: ours with HOME in the temporary folder (nothing of the
 * user's profile is read or written). */
static char **child_env(const char *home, char **home_var)
{
	size_t n = 0;
	while (environ && environ[n])
		n++;
	char **e = calloc(n + 2, sizeof(*e));
	if (!e)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "HOME=", 5))
			e[k++] = environ[i];
	if (asprintf(&e[k], "HOME=%s", home) < 0) {
		free(e);
		return NULL;
	}
	*home_var = e[k];
	return e;
}

static int pdf_fail(sk_error *err, sk_lang lang, int sys, const char *ja, const char *en)
{
	int rc = sk_error_set(err, SK_EIO, "%s", lang == SK_LANG_EN ? en : ja);
	if (err)
		err->sys = sys;
	return rc;
}

static int run_soffice(const char *tmp, sk_lang lang, sk_error *err)
{
	char profile[4200], in[4200], outdir[4200], *home_var = NULL;
	if (file_url(tmp, profile, sizeof(profile) - 16) != 0)
		return sk_error_set(err, SK_ELIMIT, "report: temporary path too long");
	strcat(profile, "/profile");
	char envopt[4300];
	snprintf(envopt, sizeof(envopt), "-env:UserInstallation=%s", profile);
	snprintf(in, sizeof(in), "%s/report.xlsx", tmp);
	snprintf(outdir, sizeof(outdir), "%s/out", tmp);
	char *argv[] = {"soffice", envopt, "--headless", "--invisible", "--norestore",
			"--nolockcheck", "--convert-to", "pdf", "--outdir", outdir, in, NULL};
	char **env = child_env(tmp, &home_var);
	if (!env)
		return sk_error_set(err, SK_ENOMEM, "report: environment");
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&at);
	/* its own process group: soffice starts soffice.bin, the whole group is killed */
	posix_spawnattr_setpgroup(&at, 0);
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
					      POSIX_SPAWN_SETSIGDEF);
	pid_t pid;
	int e = posix_spawnp(&pid, "soffice", &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	free(home_var);
	free(env);
	if (e)
		return pdf_fail(err, lang, e,
				e == ENOENT ? "PDF を作れません: LibreOffice (soffice) がありません"
					    : "PDF を作れません: LibreOffice (soffice) を起動できません",
				e == ENOENT ? "cannot make the PDF: LibreOffice (soffice) is not installed"
					    : "cannot make the PDF: LibreOffice (soffice) does not start");
	int64_t deadline = mono_ms() + (int64_t)pdf_limit_s * 1000;
	int status = 0;
	bool timed_out = false;
	/* waited for without reaping (WNOWAIT) until the group is killed: while soffice is
	 * not reaped its pid, the group's id, cannot be taken by another process */
	for (;;) {
		siginfo_t si = {0};
		int r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
		if (r == 0 && si.si_pid == pid)
			break;
		if (r < 0 && errno != EINTR)
			break;
		if (mono_ms() >= deadline) {
			timed_out = true;
			break;
		}
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	kill(-pid, SIGKILL); /* past the limit, or anything of it still running (soffice.bin) */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out) {
		char ja[160], en[160];
		snprintf(ja, sizeof(ja), "PDF を作れません: LibreOffice が制限時間 (%u 秒) 内に終わりませんでした (停止しました)", pdf_limit_s);
		snprintf(en, sizeof(en), "cannot make the PDF: LibreOffice did not finish within %u s (killed)", pdf_limit_s);
		return pdf_fail(err, lang, ETIMEDOUT, ja, en);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char ja[160], en[160];
		snprintf(ja, sizeof(ja), "PDF を作れません: LibreOffice が失敗しました (%s %d)",
			 WIFEXITED(status) ? "終了コード" : "シグナル",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		snprintf(en, sizeof(en), "cannot make the PDF: LibreOffice failed (%s %d)",
			 WIFEXITED(status) ? "exit status" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return pdf_fail(err, lang, 0, ja, en);
	}
	return 0;
}

static int make_pdf(const char *xlsx, const char *pdf, sk_lang lang, sk_error *err)
{
	const char *base = getenv("TMPDIR");
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s/sekisho-report-XXXXXX", base && *base == '/' ? base : "/tmp");
	if (!mkdtemp(tmp))
		return sk_error_sys(err, SK_EIO, "report: temporary folder in %s", base ? base : "/tmp");
	sk_buf b;
	sk_buf_init(&b, PDF_MAX + 1);
	char path[4200];
	snprintf(path, sizeof(path), "%s/report.xlsx", tmp);
	int rc = sk_read_file(xlsx, XLSX_MAX, &b, err);
	if (rc == 0)
		rc = sk_write_file_atomic(path, sk_buf_data(&b), sk_buf_len(&b), 0600, err);
	sk_buf_free(&b);
	snprintf(path, sizeof(path), "%s/out", tmp);
	if (rc == 0 && mkdir(path, 0700) != 0)
		rc = sk_error_sys(err, SK_EIO, "report: mkdir %s", path);
	if (rc == 0)
		rc = run_soffice(tmp, lang, err);
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/out/report.pdf", tmp);
		sk_buf_init(&b, PDF_MAX + 1);
		rc = sk_read_file(path, PDF_MAX, &b, err);
		if (rc == SK_ENOTFOUND || rc == SK_EIO)
			rc = pdf_fail(err, lang, 0, "PDF を作れません: LibreOffice が PDF を出力しませんでした",
				      "cannot make the PDF: LibreOffice wrote no PDF");
		else if (rc == 0 && (sk_buf_len(&b) < 5 || memcmp(sk_buf_data(&b), "%PDF-", 5)))
			rc = pdf_fail(err, lang, 0, "PDF を作れません: LibreOffice の出力が PDF ではありません",
				      "cannot make the PDF: what LibreOffice wrote is not a PDF");
		if (rc == 0)
			rc = sk_write_file_atomic(pdf, sk_buf_data(&b), sk_buf_len(&b), sk_umask_mode(), err);
		sk_buf_free(&b);
	}
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}

int sk_ledger_yearly_report(sk_ledger *l, const char *state_dir, int fy, const char *xlsx_path,
			    const char *pdf_path, sk_lang lang, sk_error *err)
{
	if (!l || !xlsx_path || !*xlsx_path || (pdf_path && !*pdf_path))
		return sk_error_set(err, SK_EINVAL, "report: no output file");
	sk_yearly y;
	int rc = sk_ledger_yearly_collect(l, state_dir, fy, &y, err);
	if (rc)
		return rc;
	rc = write_xlsx(l, &y, xlsx_path, lang, err);
	sk_ledger_yearly_free(&y);
	if (rc == 0 && pdf_path)
		rc = make_pdf(xlsx_path, pdf_path, lang, err);
	return rc;
}
