/* The yearly report (sk_ledger_yearly_report, src/ledger/report.c): the fiscal-year and
 * month bucketing at its edges (JST), the figures gathered from a quarantine whose items
 * and requests are dated by a test clock on both sides of the year's edges and from the
 * ledgers, no quarantine made by reading, and the PDF step with stand-ins for soffice:
 * missing, failing, writing nothing or no PDF, past its time limit (killed with what it
 * started), and a good one (its arguments: the private profile, HOME in the temporary
 * folder, which is removed afterwards). */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../src/ledger/report_int.h"
#include "sekisho/audit.h"
#include "sekisho/hash.h"
#include "sekisho/ledger.h"
#include "sekisho/policy.h"
#include "sekisho/quarantine.h"
#include "testutil.h"

#define TODAY 20261207

static const char POLICY[] =
	"version: 1\n"
	"organization: 例示市\n"
	"zones:\n"
	"  mynumber: { networks: [192.0.2.0/25], gateway: { interface: sk-myn, address: 192.0.2.1 } }\n"
	"  lgwan: { networks: [198.51.100.0/24], gateway: { interface: sk-lgwan, address: 198.51.100.1 } }\n"
	"  internet: { networks: [203.0.113.0/24], gateway: { interface: sk-inet, address: 203.0.113.1 } }\n"
	"sections:\n"
	"  johoseisaku: { name: 情報政策課, name_en: Information Policy }\n"
	"  somu: { name: 総務課 }\n";

static int64_t at(const char *iso)
{
	int64_t us = 0;
	sk_error err;
	if (sk_time_parse(iso, &us, &err))
		fail_msg("time %s: %s", iso, err.msg);
	return us;
}

static void fy_month_text(void **state)
{
	(void)state;
	int m = -1;
	assert_true(sk_ledger_fy_month(2026, "2026-04-01", &m));
	assert_int_equal(m, 0);
	assert_true(sk_ledger_fy_month(2026, "2026-04-30 23:59", &m));
	assert_int_equal(m, 0);
	assert_true(sk_ledger_fy_month(2026, "2026-12-15 10:00", &m));
	assert_int_equal(m, 8);
	assert_true(sk_ledger_fy_month(2026, "2027-01-01", &m));
	assert_int_equal(m, 9);
	assert_true(sk_ledger_fy_month(2026, "2027-03-31 23:59", &m));
	assert_int_equal(m, 11);
	m = 99;
	assert_false(sk_ledger_fy_month(2026, "2026-03-31 23:59", &m));
	assert_false(sk_ledger_fy_month(2026, "2027-04-01", &m));
	assert_false(sk_ledger_fy_month(2025, "2026-04-01", &m));
	assert_false(sk_ledger_fy_month(2026, "2026-02-30", &m)); /* no such day */
	assert_false(sk_ledger_fy_month(2026, "2026-13-01", &m));
	assert_false(sk_ledger_fy_month(2026, "2026/04/01", &m));
	assert_false(sk_ledger_fy_month(2026, "2026-04", &m));
	assert_false(sk_ledger_fy_month(2026, "", &m));
	assert_false(sk_ledger_fy_month(2026, NULL, &m));
	assert_int_equal(m, 99); /* untouched when outside */
}

static void fy_month_time(void **state)
{
	(void)state;
	int64_t since, until;
	sk_ledger_fy_range(2026, &since, &until);
	/* midnight in JST is 15:00 UTC the day before */
	assert_true(since == at("2026-03-31T15:00:00Z"));
	assert_true(until == at("2027-03-31T15:00:00Z"));
	int m = -1;
	assert_true(sk_ledger_fy_month_us(2026, since, &m));
	assert_int_equal(m, 0);
	assert_false(sk_ledger_fy_month_us(2026, since - 1, &m));
	assert_true(sk_ledger_fy_month_us(2025, since - 1, &m));
	assert_int_equal(m, 11);
	assert_true(sk_ledger_fy_month_us(2026, until - 1, &m));
	assert_int_equal(m, 11);
	assert_false(sk_ledger_fy_month_us(2026, until, &m));
	/* 2026-04-30 15:00 UTC is already May in JST */
	assert_true(sk_ledger_fy_month_us(2026, at("2026-04-30T14:59:59Z"), &m));
	assert_int_equal(m, 0);
	assert_true(sk_ledger_fy_month_us(2026, at("2026-04-30T15:00:00Z"), &m));
	assert_int_equal(m, 1);
	/* a leap year's February */
	sk_ledger_fy_range(2027, &since, &until);
	assert_true(sk_ledger_fy_month_us(2027, at("2028-02-29T12:00:00Z"), &m));
	assert_int_equal(m, 10);
	assert_true(until == at("2028-03-31T15:00:00Z"));
	assert_true(sk_ledger_fy_period(2026, "2026年度"));
	assert_true(sk_ledger_fy_period(2026, "FY2026"));
	assert_true(sk_ledger_fy_period(2026, "2026"));
	assert_false(sk_ledger_fy_period(2026, "2025年度"));
	assert_false(sk_ledger_fy_period(2026, "2026年度上期"));
	assert_false(sk_ledger_fy_period(2026, NULL));
}

struct env {
	char dir[64];
	int64_t now;
	sk_policy *p;
	sk_audit *audit;
	sk_ledger *l;
	sk_error err;
};

static int64_t fake_now(void *ctx)
{
	return ((struct env *)ctx)->now;
}

static struct env *env_new(void)
{
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	snprintf(e->dir, sizeof(e->dir), "/tmp/sk-report-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	e->now = at("2026-12-07T01:00:00Z");
	sk_policy_diags d;
	sk_policy_diags_init(&d);
	int rc = sk_policy_parse(POLICY, strlen(POLICY), TODAY, &e->p, &d, &e->err);
	for (size_t i = 0; rc && i < d.n; i++)
		fprintf(stderr, "# %u: %s %s\n", d.v[i].line, d.v[i].code, d.v[i].msg_en);
	sk_policy_diags_free(&d);
	assert_int_equal(rc, 0);
	sk_audit_options ao;
	sk_audit_options_default(&ao);
	ao.clock = fake_now;
	ao.clock_ctx = e;
	assert_int_equal(sk_audit_open(e->dir, &ao, &e->audit, &e->err), 0);
	sk_ledger_options o = {.today = TODAY, .clock = fake_now, .clock_ctx = e};
	assert_int_equal(sk_ledger_open(e->dir, e->audit, e->p, &o, &e->l, &e->err), 0);
	return e;
}

static void env_free(struct env *e)
{
	sk_ledger_close(e->l);
	sk_audit_close(e->audit);
	sk_policy_free(e->p);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	assert_int_equal(system(cmd), 0);
	free(e);
}

/* stores an item received at `when` and decides it */
static void item(struct env *e, sk_quarantine *q, const char *when, const char *verdict,
		 const char *reason, char id[SK_QUARANTINE_ID_LEN])
{
	static unsigned n;
	char data[64];
	snprintf(data, sizeof(data), "item %u", ++n);
	e->now = at(when);
	sk_input in;
	sk_input_mem(&in, data, strlen(data));
	uint8_t h[32];
	sk_sha256(data, strlen(data), h);
	sk_qmeta m = {.name = "a.txt", .src_zone = "lgwan", .dst_zone = "internet"};
	if (sk_quarantine_store(q, &in, h, &m, id, &e->err) ||
	    sk_quarantine_decide(q, id, "text", verdict, reason, NULL, "[]",
				 reason && !strcmp(reason, "held") ? "security-manager" : NULL, &e->err))
		fail_msg("item: %s", e->err.msg);
}

static void add(struct env *e, const char *table, const sk_ledger_kv *kv, size_t n)
{
	sk_ledger_problems pr;
	sk_ledger_problems_init(&pr);
	int rc = sk_ledger_add(e->l, table, kv, n, "tanaka", NULL, &pr, &e->err);
	for (size_t i = 0; rc && i < pr.n; i++)
		fprintf(stderr, "# %s: %s\n", pr.v[i].field, pr.v[i].en);
	sk_ledger_problems_free(&pr);
	assert_int_equal(rc, 0);
}

static uint64_t total(const sk_yearly *y, int v)
{
	uint64_t n = 0;
	for (int m = 0; m < SK_FY_MONTHS; m++)
		n += y->items[m][v];
	return n;
}

static void collect_edges(void **state)
{
	(void)state;
	struct env *e = env_new();
	sk_yearly y;
	/* no quarantine in the state folder: no gateway figures, and none is made */
	assert_int_equal(sk_ledger_yearly_collect(e->l, e->dir, 2026, &y, &e->err), 0);
	assert_false(y.gateway);
	assert_int_equal(total(&y, SK_YR_CLEAN), 0);
	sk_ledger_yearly_free(&y);
	char path[128];
	snprintf(path, sizeof(path), "%s/quarantine.db", e->dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(sk_ledger_yearly_collect(e->l, e->dir, 1800, &y, &e->err), SK_EINVAL);

	sk_quarantine *q = NULL;
	sk_quarantine_options qo = {.clock = fake_now, .clock_ctx = e};
	assert_int_equal(sk_quarantine_open(e->dir, NULL, &qo, &q, &e->err), 0);
	char id[SK_QUARANTINE_ID_LEN], hid[SK_QUARANTINE_ID_LEN], hid2[SK_QUARANTINE_ID_LEN];
	item(e, q, "2026-03-31T14:59:59Z", "clean", NULL, id);	     /* 3/31 23:59:59 JST: FY2025 */
	item(e, q, "2026-03-31T15:00:00Z", "clean", NULL, id);	     /* 4/1 00:00 JST: April */
	item(e, q, "2026-05-01T00:00:00Z", "sanitized", NULL, id);    /* May */
	item(e, q, "2026-12-01T00:00:00Z", "blocked", "executable", id);
	item(e, q, "2026-12-02T00:00:00Z", "blocked", "executable", id);
	item(e, q, "2026-12-03T00:00:00Z", "blocked", "malware", id);
	item(e, q, "2027-03-31T14:59:59Z", "blocked", "held", hid);   /* 3/31 23:59:59 JST: March */
	item(e, q, "2027-03-31T10:00:00Z", "blocked", "held", hid2);  /* March */
	item(e, q, "2027-03-31T15:00:00Z", "blocked", "malware", id); /* 4/1 JST: FY2027 */
	/* a request made in March, approved in April (the next year); one refused in March */
	sk_qactor alice = {.uid = 1, .name = "alice"}, boss = {.uid = 2, .name = "boss"};
	sk_qdeny deny;
	int64_t rid, rid2;
	bool complete = false;
	e->now = at("2027-03-31T14:59:59Z");
	assert_int_equal(sk_quarantine_request_create(q, hid, SK_QKIND_RELEASE, &alice, "送付", 1, &rid,
						      &deny, &e->err), 0);
	assert_int_equal(sk_quarantine_request_create(q, hid2, SK_QKIND_RELEASE, &alice, "送付", 1,
						      &rid2, &deny, &e->err), 0);
	assert_int_equal(sk_quarantine_request_refuse(q, rid2, &boss, "不要", &deny, &e->err), 0);
	e->now = at("2027-04-01T01:00:00Z");
	assert_int_equal(sk_quarantine_request_approve(q, rid, &boss, NULL, 1, &complete, &deny, &e->err), 0);
	assert_true(complete);
	sk_quarantine_close(q);

	/* incidents on both sides of the edges */
	static const char *const found[] = {"2026-03-31 23:59", "2026-04-01 00:00", "2027-03-31 23:59",
					    "2027-04-01 00:00"};
	static const char *const sev[] = {"high", "high", "low", "medium"};
	for (size_t i = 0; i < 4; i++) {
		sk_ledger_kv kv[] = {{"found_by", "佐藤"}, {"found_at", found[i]}, {"what", "x"},
				     {"severity", sev[i]}};
		add(e, "incidents", kv, 4);
	}
	/* a finding added in the year (the clock), one added before it and due after it */
	e->now = at("2026-06-01T00:00:00Z");
	sk_ledger_kv f1[] = {{"finding", "a"}, {"owner", "山田"}, {"due", "2026-07-01"}, {"state", "open"}};
	add(e, "inspections/findings", f1, 4);
	e->now = at("2025-06-01T00:00:00Z");
	sk_ledger_kv f2[] = {{"finding", "b"}, {"owner", "山田"}, {"due", "2027-06-01"}, {"state", "open"}};
	add(e, "inspections/findings", f2, 4);

	assert_int_equal(sk_ledger_yearly_collect(e->l, e->dir, 2026, &y, &e->err), 0);
	assert_true(y.gateway);
	assert_int_equal(y.items[0][SK_YR_CLEAN], 1);
	assert_int_equal(total(&y, SK_YR_CLEAN), 1);
	assert_int_equal(y.items[1][SK_YR_SANITIZED], 1);
	assert_int_equal(y.items[8][SK_YR_BLOCKED], 3);
	assert_int_equal(y.items[11][SK_YR_HELD], 2);
	assert_int_equal(total(&y, SK_YR_BLOCKED), 3);
	assert_int_equal(total(&y, SK_YR_UNDECIDED), 0);
	/* reasons, most first, the tie by code */
	assert_int_equal(y.nreasons, 3);
	assert_string_equal(y.reasons[0].code, "executable");
	assert_int_equal(y.reasons[0].n, 2);
	assert_string_equal(y.reasons[1].code, "held");
	assert_int_equal(y.reasons[1].n, 2);
	assert_string_equal(y.reasons[2].code, "malware");
	assert_int_equal(y.reasons[2].n, 1);
	assert_int_equal(y.requests[11][SK_YR_REQUESTED], 2);
	assert_int_equal(y.requests[11][SK_YR_REFUSED], 1);
	uint64_t approved = 0;
	for (int m = 0; m < SK_FY_MONTHS; m++)
		approved += y.requests[m][SK_YR_APPROVED];
	assert_int_equal(approved, 0); /* decided in the next year */
	assert_int_equal(y.pending, 0);
	assert_int_equal(y.ninc, 2);
	assert_int_equal(y.incidents[0][SK_YR_HIGH], 1);
	assert_int_equal(y.incidents[11][SK_YR_LOW], 1);
	assert_int_equal(y.nfindings, 1); /* a: added in the year (b: added before, due after) */
	assert_string_equal(y.findings[0].finding, "a");
	assert_int_equal(y.findings_open, 1);
	assert_int_equal(y.findings_overdue, 1); /* a: due 2026-07-01, open, today 2026-12-07 */
	/* the policy's sections are there with nothing */
	assert_int_equal(y.nsections, 2);
	assert_string_equal(y.sections[0].section, "johoseisaku");
	assert_int_equal(y.sections[0].attended, 0);
	sk_ledger_yearly_free(&y);

	assert_int_equal(sk_ledger_yearly_collect(e->l, e->dir, 2027, &y, &e->err), 0);
	assert_int_equal(y.items[0][SK_YR_BLOCKED], 1);
	assert_int_equal(y.requests[0][SK_YR_APPROVED], 1);
	assert_int_equal(y.requests[0][SK_YR_REQUESTED], 0);
	assert_int_equal(y.ninc, 1);
	assert_int_equal(y.incidents[0][SK_YR_MEDIUM], 1);
	assert_int_equal(y.nfindings, 1); /* b: due in 2027 */
	assert_string_equal(y.findings[0].finding, "b");
	sk_ledger_yearly_free(&y);

	assert_int_equal(sk_ledger_yearly_collect(e->l, e->dir, 2025, &y, &e->err), 0);
	assert_int_equal(total(&y, SK_YR_CLEAN), 1);
	assert_int_equal(y.items[11][SK_YR_CLEAN], 1);
	assert_int_equal(y.ninc, 1);
	assert_int_equal(y.nfindings, 1); /* b: added in 2025 */
	sk_ledger_yearly_free(&y);
	env_free(e);
}

/* ---- the PDF with stand-ins for soffice ---- */

static void write_script(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s", body);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

static bool empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *de;
	bool empty = true;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(d);
	return empty;
}

static void pdf_stand_ins(void **state)
{
	(void)state;
	struct env *e = env_new();
	char bin[128], tmp[128], script[160], xlsx[128], pdf[128], log[128];
	snprintf(bin, sizeof(bin), "%s/bin", e->dir);
	snprintf(tmp, sizeof(tmp), "%s/tmp", e->dir);
	snprintf(script, sizeof(script), "%s/soffice", bin);
	snprintf(xlsx, sizeof(xlsx), "%s/r.xlsx", e->dir);
	snprintf(pdf, sizeof(pdf), "%s/r.pdf", e->dir);
	snprintf(log, sizeof(log), "%s/args", e->dir);
	assert_int_equal(mkdir(bin, 0700), 0);
	assert_int_equal(mkdir(tmp, 0700), 0);
	char *old_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	char *old_tmp = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
	setenv("PATH", bin, 1);
	setenv("TMPDIR", tmp, 1);

	/* missing */
	int rc = sk_ledger_yearly_report(e->l, e->dir, 2026, xlsx, pdf, SK_LANG_EN, &e->err);
	assert_int_equal(rc, SK_EIO);
	assert_non_null(strstr(e->err.msg, "LibreOffice (soffice) is not installed"));
	assert_int_equal(access(pdf, F_OK), -1);
	assert_int_equal(access(xlsx, F_OK), 0); /* the workbook is written first */
	assert_true(empty_dir(tmp));
	rc = sk_ledger_yearly_report(e->l, e->dir, 2026, xlsx, pdf, SK_LANG_JA, &e->err);
	assert_non_null(strstr(e->err.msg, "LibreOffice (soffice) がありません"));

	/* failing */
	write_script(script, "exit 5\n");
	rc = sk_ledger_yearly_report(e->l, e->dir, 2026, xlsx, pdf, SK_LANG_EN, &e->err);
	assert_int_equal(rc, SK_EIO);
	assert_non_null(strstr(e->err.msg, "exit status 5"));
	assert_true(empty_dir(tmp));

	/* success without a PDF, and something that is not one */
	write_script(script, "exit 0\n");
	rc = sk_ledger_yearly_report(e->l, e->dir, 2026, xlsx, pdf, SK_LANG_EN, &e->err);
	assert_int_equal(rc, SK_EIO);
	assert_non_null(strstr(e->err.msg, "wrote no PDF"));
	write_script(script, "while [ $# -gt 0 ]; do [ \"$1\" = --outdir ] && o=$2; shift; done\n"
			     "echo '<html>' >\"$o/report.pdf\"\n");
	rc = sk_ledger_yearly_report(e->l, e->dir, 2026, xlsx, pdf, SK_LANG_EN, &e->err);
	assert_int_equal(rc, SK_EIO);
	if (!strstr(e->err.msg, "not a PDF"))
		fail_msg("%s", e->err.msg);
	assert_int_equal(access(pdf, F_OK), -1);
	assert_true(empty_dir(tmp));

	/* past the time limit: soffice and what it started are killed */
	char child[160], body[512];
	snprintf(child, sizeof(child), "%s/child", e->dir);
	const char *sleep_bin = access("/usr/bin/sleep", X_OK) == 0 ? "/usr/bin/sleep" : "/bin/sleep";
	snprintf(body, sizeof(body), "%s 300 &\necho $! >'%s'\nwait\n", sleep_bin, child);
	write_script(script, body);
	sk_ledger_report_pdf_limit(1);
	rc = sk_ledger_yearly_report(e->l, e->dir, 2026, xlsx, pdf, SK_LANG_EN, &e->err);
	sk_ledger_report_pdf_limit(0);
	assert_int_equal(rc, SK_EIO);
	assert_non_null(strstr(e->err.msg, "did not finish within 1 s (killed)"));
	assert_true(empty_dir(tmp));
	sk_buf b;
	tu_read(child, &b);
	pid_t cpid = (pid_t)atol((const char *)b.data);
	sk_buf_free(&b);
	assert_true(cpid > 0);
	/* the orphaned sleep is reaped by init once killed: a ceiling of 10 s, not a timing */
	bool gone = false;
	for (int i = 0; i < 1000 && !gone; i++) {
		char p[64], st[512] = "";
		snprintf(p, sizeof(p), "/proc/%d/stat", (int)cpid);
		FILE *f = fopen(p, "r");
		if (!f) {
			gone = true;
			break;
		}
		size_t n = fread(st, 1, sizeof(st) - 1, f);
		fclose(f);
		st[n] = 0;
		const char *s = strrchr(st, ')');
		gone = s && (s[2] == 'Z' || s[2] == 'X'); /* killed, not yet reaped */
		if (!gone)
			nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
	assert_true(gone);

	/* a good one: the PDF is copied out; its arguments and HOME */
	snprintf(body, sizeof(body),
		 "echo \"HOME=$HOME\" >'%s'\nfor a; do echo \"$a\"; done >>'%s'\n"
		 "while [ $# -gt 0 ]; do [ \"$1\" = --outdir ] && o=$2; shift; done\n"
		 "printf '%%%%PDF-1.4 stand-in' >\"$o/report.pdf\"\n",
		 log, log);
	write_script(script, body);
	rc = sk_ledger_yearly_report(e->l, e->dir, 2026, xlsx, pdf, SK_LANG_EN, &e->err);
	assert_int_equal(rc, 0);
	tu_read(pdf, &b);
	assert_int_equal(b.len, 17);
	assert_memory_equal(b.data, "%PDF-1.4 stand-in", 17);
	sk_buf_free(&b);
	tu_read(log, &b);
	sk_buf_add(&b, "", 1);
	const char *args = (const char *)b.data;
	char want[256];
	snprintf(want, sizeof(want), "HOME=%s/sekisho-report-", tmp);
	assert_non_null(strstr(args, want));
	snprintf(want, sizeof(want), "-env:UserInstallation=file://%s/sekisho-report-", tmp);
	assert_non_null(strstr(args, want));
	assert_non_null(strstr(args, "\n--headless\n"));
	assert_non_null(strstr(args, "\n--convert-to\npdf\n"));
	assert_non_null(strstr(args, "/report.xlsx\n"));
	sk_buf_free(&b);
	assert_true(empty_dir(tmp));

	if (old_path)
		setenv("PATH", old_path, 1);
	else
		unsetenv("PATH");
	if (old_tmp)
		setenv("TMPDIR", old_tmp, 1);
	else
		unsetenv("TMPDIR");
	free(old_path);
	free(old_tmp);
	env_free(e);
}

static void bad_arguments(void **state)
{
	(void)state;
	struct env *e = env_new();
	assert_int_equal(sk_ledger_yearly_report(e->l, e->dir, 2026, NULL, NULL, SK_LANG_JA, &e->err),
			 SK_EINVAL);
	assert_int_equal(sk_ledger_yearly_report(e->l, e->dir, 2026, "", NULL, SK_LANG_JA, &e->err),
			 SK_EINVAL);
	char x[128];
	snprintf(x, sizeof(x), "%s/r.xlsx", e->dir);
	assert_int_equal(sk_ledger_yearly_report(e->l, e->dir, 2026, x, "", SK_LANG_JA, &e->err),
			 SK_EINVAL);
	assert_int_equal(sk_ledger_yearly_report(e->l, e->dir, 99999, x, NULL, SK_LANG_JA, &e->err),
			 SK_EINVAL);
	assert_int_equal(access(x, F_OK), -1);
	/* a folder that cannot be written: SK_EIO, nothing left */
	snprintf(x, sizeof(x), "%s/no/such/r.xlsx", e->dir);
	assert_int_not_equal(sk_ledger_yearly_report(e->l, e->dir, 2026, x, NULL, SK_LANG_JA, &e->err), 0);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fy_month_text),
		cmocka_unit_test(fy_month_time),
		cmocka_unit_test(collect_edges),
		cmocka_unit_test(pdf_stand_ins),
		cmocka_unit_test(bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
