/* The ledgers: every ledger's rules (the policy's scales, zones and sections, required
 * fields, the escalation chain's order, exception expiry, pre-registered contractors,
 * answers, findings, attendance), history and audit records, the Excel CSV import (CP932
 * made here with iconv, UTF-8 with a BOM, CRLF, quoted line breaks; a bad row names its
 * line and imports nothing) and the limits. */
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sekisho/audit.h"
#include "sekisho/core.h"
#include "sekisho/ledger.h"
#include "sekisho/policy.h"
#include "testutil.h"

#define ZONES                                                                                      \
	"zones:\n"                                                                                 \
	"  mynumber: { networks: [192.0.2.0/25], gateway: { interface: sk-myn, address: 192.0.2.1 } }\n" \
	"  lgwan: { networks: [198.51.100.0/24], gateway: { interface: sk-lgwan, address: 198.51.100.1 } }\n" \
	"  internet: { networks: [203.0.113.0/24], gateway: { interface: sk-inet, address: 203.0.113.1 } }\n"

static const char POLICY[] = "version: 1\n" ZONES
			     "sections:\n"
			     "  johoseisaku: { name: 情報政策課, name_en: Information Policy }\n"
			     "  somu: { name: 総務課 }\n"
			     "classification:\n"
			     "  dimensions:\n"
			     "    機密性:\n"
			     "      levels: [\"3A\", \"3B\", \"3C\", \"2\", \"1\"]\n"
			     "      default: \"2\"\n"
			     "      handling:\n"
			     "        - { at_least: \"3A\", to: other-zones, action: deny, description: 所属ゾーンから出さない }\n"
			     "        - { at_least: \"2\", to: internet, action: { hold: security-manager } }\n"
			     "    完全性: { levels: [\"2\", \"1\"] }\n"
			     "    可用性: { levels: [\"2\", \"1\"] }\n";

/* older scale (3/2/1) and its own chain */
static const char POLICY_LEGACY[] = "version: 1\n" ZONES
				    "classification: { scheme: guideline-legacy }\n"
				    "incidents: { chain: [sysadmin, ciso] }\n";

#define TODAY 20260401

struct env {
	char dir[64];
	int64_t now;
	sk_audit *audit;
	sk_policy *p;
	sk_ledger *l;
	sk_ledger_problems pr;
	sk_error err;
};

static int64_t fake_now(void *ctx)
{
	return ((struct env *)ctx)->now += 1000000;
}

static sk_policy *load(const char *text)
{
	sk_policy *p = NULL;
	sk_error err;
	sk_policy_diags d;
	sk_policy_diags_init(&d);
	int rc = sk_policy_parse(text, strlen(text), TODAY, &p, &d, &err);
	for (size_t i = 0; rc && i < d.n; i++)
		fprintf(stderr, "# %u: %s %s\n", d.v[i].line, d.v[i].code, d.v[i].msg_en);
	sk_policy_diags_free(&d);
	assert_int_equal(rc, 0);
	return p;
}

static struct env *env_with(const char *policy)
{
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	snprintf(e->dir, sizeof(e->dir), "/tmp/sk-ledger-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	e->now = (int64_t)1775000000 * 1000000;
	e->p = load(policy);
	assert_int_equal(sk_audit_open(e->dir, NULL, &e->audit, &e->err), 0);
	sk_ledger_options o = {.today = TODAY, .clock = fake_now, .clock_ctx = e};
	assert_int_equal(sk_ledger_open(e->dir, e->audit, e->p, &o, &e->l, &e->err), 0);
	sk_ledger_problems_init(&e->pr);
	return e;
}

static struct env *env_new(void)
{
	return env_with(POLICY);
}

static void env_free(struct env *e)
{
	sk_ledger_close(e->l);
	sk_audit_close(e->audit);
	sk_policy_free(e->p);
	sk_ledger_problems_free(&e->pr);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", e->dir);
	assert_int_equal(system(cmd), 0);
	free(e);
}

/* add with "key=value" strings; returns the rc; the id in id (may be NULL) */
static int add(struct env *e, const char *table, char *id, const char *const *kv)
{
	sk_ledger_kv v[64];
	char *own[64];
	size_t n = 0;
	for (; kv[n]; n++) {
		own[n] = strdup(kv[n]);
		char *eq = strchr(own[n], '=');
		assert_non_null(eq);
		*eq = 0;
		v[n] = (sk_ledger_kv){own[n], eq + 1};
	}
	sk_ledger_problems_free(&e->pr);
	sk_ledger_problems_init(&e->pr);
	int rc = sk_ledger_add(e->l, table, v, n, "tanaka", id, &e->pr, &e->err);
	for (size_t i = 0; i < n; i++)
		free(own[i]);
	return rc;
}

static int update(struct env *e, const char *table, const char *id, const char *const *kv,
		  bool *changed)
{
	sk_ledger_kv v[64];
	char *own[64];
	size_t n = 0;
	for (; kv[n]; n++) {
		own[n] = strdup(kv[n]);
		char *eq = strchr(own[n], '=');
		*eq = 0;
		v[n] = (sk_ledger_kv){own[n], eq + 1};
	}
	sk_ledger_problems_free(&e->pr);
	sk_ledger_problems_init(&e->pr);
	int rc = sk_ledger_update(e->l, table, id, 0, v, n, "suzuki", changed, &e->pr, &e->err);
	for (size_t i = 0; i < n; i++)
		free(own[i]);
	return rc;
}

/* is there a problem on field (and, when given, whose English text contains what)? */
static bool problem(const struct env *e, const char *field, const char *what)
{
	for (size_t i = 0; i < e->pr.n; i++)
		if (!strcmp(e->pr.v[i].field, field) && (!what || strstr(e->pr.v[i].en, what)))
			return true;
	return false;
}

static void dump(const struct env *e)
{
	for (size_t i = 0; i < e->pr.n; i++)
		fprintf(stderr, "# line %zu %s: %s / %s\n", e->pr.v[i].line, e->pr.v[i].field,
			e->pr.v[i].ja, e->pr.v[i].en);
}

static const char *value(struct env *e, const char *table, const char *id, const char *key,
			 char *buf, size_t n)
{
	sk_ledger_record r;
	assert_int_equal(sk_ledger_get(e->l, table, id, &r, &e->err), 0);
	const sk_ledger_table *t = sk_ledger_table_find(e->l, table);
	int i = sk_ledger_field_index(t, key);
	assert_true(i >= 0);
	snprintf(buf, n, "%s", r.values[i] ? r.values[i] : "(null)");
	sk_ledger_record_free(&r);
	return buf;
}

#define ASSET_OK "name=住民基本台帳データ", "kind=情報", "section=総務課", "manager=山田", \
		 "confidentiality=3A", "integrity=2", "availability=1", "zone=mynumber"

static void assets_scales(void **state)
{
	(void)state;
	struct env *e = env_new();
	char id[SK_LEDGER_ID_MAX], b[512];
	assert_int_equal(add(e, "assets", id, (const char *[]){ASSET_OK, "review=2026/4/1", NULL}), 0);
	assert_string_equal(id, "AS-0001");
	/* stored forms: the choice's code, the section's id, the date */
	assert_string_equal(value(e, "assets", id, "kind", b, sizeof(b)), "information");
	assert_string_equal(value(e, "assets", id, "section", b, sizeof(b)), "somu");
	assert_string_equal(value(e, "assets", id, "review", b, sizeof(b)), "2026-04-01");
	/* the handling rules that follow from 機密性3A: both rules, the first by its description */
	value(e, "assets", id, "handling", b, sizeof(b));
	assert_non_null(strstr(b, "所属ゾーンから出さない"));
	assert_non_null(strstr(b, "internet"));
	/* 機密性2 reaches only the second rule */
	assert_int_equal(add(e, "assets", id, (const char *[]){"name=b", "kind=system", "section=somu",
							       "manager=m", "confidentiality=機密性2", "integrity=1",
							       "availability=1", "zone=lgwan", NULL}),
			 0);
	value(e, "assets", id, "handling", b, sizeof(b));
	assert_null(strstr(b, "所属ゾーンから出さない"));
	assert_non_null(strstr(b, "internet"));
	assert_string_equal(value(e, "assets", id, "confidentiality", b, sizeof(b)), "2");
	/* off the scale, an unknown zone and section, a bad kind: every problem is listed */
	assert_int_equal(add(e, "assets", NULL, (const char *[]){"name=c", "kind=紙", "section=税務課",
								 "manager=m", "confidentiality=3", "integrity=3",
								 "availability=2", "zone=cloud", NULL}),
			 SK_EINVAL);
	assert_true(problem(e, "confidentiality", "3A · 3B · 3C · 2 · 1"));
	assert_true(problem(e, "integrity", "scale"));
	assert_true(problem(e, "zone", NULL));
	assert_true(problem(e, "section", NULL));
	assert_true(problem(e, "kind", "information"));
	assert_false(problem(e, "availability", NULL));
	/* required fields */
	assert_int_equal(add(e, "assets", NULL, (const char *[]){"name=d", NULL}), SK_EINVAL);
	assert_true(problem(e, "kind", "required"));
	assert_true(problem(e, "manager", "required"));
	assert_true(problem(e, "zone", "required"));
	assert_false(problem(e, "location", NULL));
	/* a computed field or an unknown one cannot be set */
	assert_int_equal(add(e, "assets", NULL, (const char *[]){ASSET_OK, "handling=none", NULL}), SK_EINVAL);
	assert_true(problem(e, "handling", "worked out"));
	assert_int_equal(add(e, "assets", NULL, (const char *[]){ASSET_OK, "colour=red", NULL}), SK_EINVAL);
	/* a date that does not exist */
	assert_int_equal(add(e, "assets", NULL, (const char *[]){ASSET_OK, "review=2026-02-30", NULL}),
			 SK_EINVAL);
	assert_true(problem(e, "review", "not a date"));
	/* nothing of the refused adds was stored */
	sk_ledger_record r;
	assert_int_equal(sk_ledger_get(e->l, "assets", "AS-0003", &r, &e->err), SK_ENOTFOUND);
	env_free(e);

	/* the legacy scale 3/2/1: "3" is fine, "3A" is not */
	e = env_with(POLICY_LEGACY);
	assert_int_equal(add(e, "assets", NULL, (const char *[]){"name=x", "kind=media", "section=何でも",
								 "manager=m", "confidentiality=3", "integrity=2",
								 "availability=2", "zone=lgwan", NULL}),
			 0);
	assert_int_equal(add(e, "assets", NULL, (const char *[]){"name=x", "kind=media", "section=s",
								 "manager=m", "confidentiality=3A", "integrity=2",
								 "availability=2", "zone=lgwan", NULL}),
			 SK_EINVAL);
	assert_true(problem(e, "confidentiality", "3 · 2 · 1"));
	env_free(e);
}

static void policy_chain(void **state)
{
	(void)state;
	/* default: staff → sysadmin → security-director → ciso (the default roles) */
	sk_policy *p = load(POLICY);
	const char *const *roles;
	assert_int_equal(sk_policy_incident_chain(p, &roles), 4);
	assert_string_equal(roles[0], "staff");
	assert_string_equal(roles[3], "ciso");
	sk_policy_free(p);
	p = load(POLICY_LEGACY);
	assert_int_equal(sk_policy_incident_chain(p, &roles), 2);
	assert_string_equal(roles[1], "ciso");
	assert_int_equal(sk_policy_class_levels(p, "機密性", &roles), 3);
	assert_string_equal(roles[0], "3");
	assert_int_equal(sk_policy_class_levels(p, "秘匿性", NULL), 0);
	sk_policy_free(p);
	/* an unknown role and a repeated one are errors with their line */
	static const char bad[] = "version: 1\n" ZONES "incidents:\n  chain: [staff, kacho, staff]\n";
	sk_policy_diags d;
	sk_policy_diags_init(&d);
	sk_error err;
	assert_int_equal(sk_policy_parse(bad, strlen(bad), TODAY, &p, &d, &err), SK_EFORMAT);
	bool unknown = false, dup = false;
	for (size_t i = 0; i < d.n; i++) {
		unknown = unknown || (!strcmp(d.v[i].code, "E-ROLE-UNKNOWN") && d.v[i].line == 7 &&
				      strstr(d.v[i].msg_en, "kacho"));
		dup = dup || (!strcmp(d.v[i].code, "E-ID-DUPLICATE") && d.v[i].line == 7);
	}
	assert_true(unknown);
	assert_true(dup);
	sk_policy_diags_free(&d);
	/* SK_POLICY_CHAIN_MAX steps at most */
	char many[2048];
	int k = snprintf(many, sizeof(many), "version: 1\n" ZONES "roles:\n  security-manager: { name: m }\n");
	for (int i = 0; i <= SK_POLICY_CHAIN_MAX; i++)
		k += snprintf(many + k, sizeof(many) - k, "  r%d: { name: 役割%d }\n", i, i);
	for (int pass = 0; pass < 2; pass++) {
		int m = k + snprintf(many + k, sizeof(many) - k, "incidents:\n  chain: [");
		for (int i = 0; i < SK_POLICY_CHAIN_MAX + pass; i++)
			m += snprintf(many + m, sizeof(many) - m, "%sr%d", i ? ", " : "", i);
		snprintf(many + m, sizeof(many) - m, "]\n");
		sk_policy_diags_init(&d);
		int rc = sk_policy_parse(many, strlen(many), TODAY, &p, &d, &err);
		bool limit = false;
		for (size_t i = 0; i < d.n; i++)
			limit = limit || !strcmp(d.v[i].code, "E-INCIDENT-CHAIN");
		assert_int_equal(rc, pass ? SK_EFORMAT : 0);
		assert_int_equal(limit, pass == 1);
		if (!pass) {
			assert_int_equal(sk_policy_incident_chain(p, NULL), SK_POLICY_CHAIN_MAX);
			sk_policy_free(p);
		}
		sk_policy_diags_free(&d);
	}
}

struct audit_find {
	const char *action, *object, *needle;
	int hits;
};

static int audit_cb(void *ctx, const sk_audit_record *r)
{
	struct audit_find *f = ctx;
	if (!strcmp(r->action, f->action) && !strcmp(r->object, f->object) &&
	    (!f->needle || strstr(r->detail, f->needle)))
		f->hits++;
	return 0;
}

static int audit_hits(struct env *e, const char *action, const char *object, const char *needle)
{
	struct audit_find f = {action, object, needle, 0};
	assert_int_equal(sk_audit_list(e->audit, 0, audit_cb, &f, &e->err), 0);
	return f.hits;
}

static int hist_cb(void *ctx, int64_t version, int64_t at, const char *by, const char *action,
		   const char *changes, uint64_t seq)
{
	int *n = ctx;
	(*n)++;
	assert_int_equal(version, *n);
	assert_string_equal(by, *n == 1 ? "tanaka" : "suzuki");
	assert_non_null(strstr(changes, "\"changes\""));
	(void)at, (void)action, (void)seq;
	return 0;
}

static void incidents_chain(void **state)
{
	(void)state;
	struct env *e = env_new();
	char id[SK_LEDGER_ID_MAX], b[256];
	assert_int_equal(add(e, "assets", NULL, (const char *[]){ASSET_OK, NULL}), 0);
	const sk_ledger_table *t = sk_ledger_table_find(e->l, "incidents");
	assert_true(sk_ledger_field_index(t, "chain.sysadmin.at") >= 0);
	assert_true(sk_ledger_field_index(t, "システム管理者 報告日時") >= 0);
	assert_int_equal(add(e, "incidents", id,
			     (const char *[]){"found_by=佐藤", "found_at=2026/4/1 9:05", "what=不審なメール",
					      "severity=中", "assets=住民基本台帳データ", NULL}),
			 0);
	assert_string_equal(value(e, "incidents", id, "assets", b, sizeof(b)), "AS-0001");
	assert_string_equal(value(e, "incidents", id, "found_at", b, sizeof(b)), "2026-04-01 09:05");
	/* a step before the one above it was recorded */
	bool changed;
	assert_int_equal(update(e, "incidents", id,
				(const char *[]){"chain.sysadmin.at=2026-04-01 10:00", "chain.sysadmin.by=鈴木", NULL},
				&changed),
			 SK_EINVAL);
	assert_true(problem(e, "chain.sysadmin.at", "in order"));
	/* a time with no person */
	assert_int_equal(update(e, "incidents", id, (const char *[]){"chain.staff.at=2026-04-01 09:10", NULL},
				&changed),
			 SK_EINVAL);
	assert_true(problem(e, "chain.staff.by", "both"));
	/* before the incident was found */
	assert_int_equal(update(e, "incidents", id,
				(const char *[]){"chain.staff.at=2026-04-01 09:00", "chain.staff.by=佐藤", NULL},
				&changed),
			 SK_EINVAL);
	assert_true(problem(e, "chain.staff.at", "found"));
	/* in order: staff, then sysadmin */
	assert_int_equal(update(e, "incidents", id,
				(const char *[]){"chain.staff.at=2026-04-01 09:10", "chain.staff.by=佐藤", NULL},
				&changed),
			 0);
	assert_true(changed);
	/* the next step earlier than the one above */
	assert_int_equal(update(e, "incidents", id,
				(const char *[]){"chain.sysadmin.at=2026-04-01 09:09", "chain.sysadmin.by=鈴木", NULL},
				&changed),
			 SK_EINVAL);
	assert_true(problem(e, "chain.sysadmin.at", "before the step above"));
	assert_int_equal(update(e, "incidents", id,
				(const char *[]){"chain.sysadmin.at=2026-04-01 09:30", "chain.sysadmin.by=鈴木", NULL},
				&changed),
			 0);
	/* the same again changes nothing and writes no audit record */
	assert_int_equal(update(e, "incidents", id, (const char *[]){"chain.sysadmin.by=鈴木", NULL}, &changed), 0);
	assert_false(changed);
	/* closing needs the result */
	assert_int_equal(update(e, "incidents", id, (const char *[]){"state=完了", NULL}, &changed), SK_EINVAL);
	assert_true(problem(e, "result", NULL));
	/* audit: the add and two updates, each with the changed fields (old and new) */
	assert_int_equal(audit_hits(e, "ledger.add", "incidents/IN-0001", "不審なメール"), 1);
	assert_int_equal(audit_hits(e, "ledger.update", "incidents/IN-0001", NULL), 2);
	assert_int_equal(audit_hits(e, "ledger.update", "incidents/IN-0001",
				    "\"chain.sysadmin.by\":[null,\"鈴木\"]"),
			 1);
	int n = 0;
	assert_int_equal(sk_ledger_history(e->l, "incidents", id, hist_cb, &n, &e->err), 0);
	assert_int_equal(n, 3);
	sk_ledger_record r;
	assert_int_equal(sk_ledger_get(e->l, "incidents", id, &r, &e->err), 0);
	assert_int_equal(r.version, 3);
	assert_string_equal(r.created_by, "tanaka");
	assert_string_equal(r.updated_by, "suzuki");
	sk_ledger_record_free(&r);
	/* an update of a record that does not exist */
	assert_int_equal(update(e, "incidents", "IN-0099", (const char *[]){"what=x", NULL}, &changed),
			 SK_ENOTFOUND);
	env_free(e);

	/* the policy's own chain: sysadmin → ciso */
	e = env_with(POLICY_LEGACY);
	t = sk_ledger_table_find(e->l, "incidents");
	assert_true(sk_ledger_field_index(t, "chain.ciso.by") >= 0);
	assert_int_equal(sk_ledger_field_index(t, "chain.staff.at"), SK_ENOTFOUND);
	assert_int_equal(add(e, "incidents", id,
			     (const char *[]){"found_by=a", "found_at=2026-04-01 09:00", "what=w", "severity=high",
					      "chain.ciso.at=2026-04-01 10:00", "chain.ciso.by=副市長", NULL}),
			 SK_EINVAL);
	assert_true(problem(e, "chain.ciso.at", "in order"));
	env_free(e);
}

static void exceptions_expiry(void **state)
{
	(void)state;
	struct env *e = env_new();
	char id[SK_LEDGER_ID_MAX], b[64];
#define EXC(from, until) "what=USB メモリの使用", "why=災害対応", "requested_by=山田", "approved_by=情報政策課長", \
			 "from=" from, "until=" until
	assert_int_equal(add(e, "exceptions", id, (const char *[]){EXC("2026-01-01", "2026-03-31"), NULL}), 0);
	assert_string_equal(value(e, "exceptions", id, "status", b, sizeof(b)), "expired");
	assert_int_equal(add(e, "exceptions", id, (const char *[]){EXC("2026-01-01", "2026-04-01"), NULL}), 0);
	assert_string_equal(value(e, "exceptions", id, "status", b, sizeof(b)), "expiring");
	assert_int_equal(add(e, "exceptions", id, (const char *[]){EXC("2026-01-01", "2026-05-01"), NULL}), 0);
	assert_string_equal(value(e, "exceptions", id, "status", b, sizeof(b)), "expiring"); /* 30 days */
	assert_int_equal(add(e, "exceptions", id, (const char *[]){EXC("2026-01-01", "2026-05-02"), NULL}), 0);
	assert_string_equal(value(e, "exceptions", id, "status", b, sizeof(b)), "valid");
	assert_int_equal(add(e, "exceptions", id, (const char *[]){EXC("2026-04-02", "2026-12-31"), NULL}), 0);
	assert_string_equal(value(e, "exceptions", id, "status", b, sizeof(b)), "pending");
	const sk_ledger_table *t = sk_ledger_table_find(e->l, "exceptions");
	assert_string_equal(sk_ledger_value_text(e->l, &t->fields[sk_ledger_field_index(t, "status")],
						 "expired", SK_LANG_JA),
			    "期限切れ");
	/* until before from; approved by the requester */
	assert_int_equal(add(e, "exceptions", NULL, (const char *[]){EXC("2026-05-01", "2026-04-30"), NULL}),
			 SK_EINVAL);
	assert_true(problem(e, "until", "before"));
	assert_int_equal(add(e, "exceptions", NULL,
			     (const char *[]){"what=w", "why=y", "requested_by=山田", "approved_by=山田",
					      "from=2026-01-01", "until=2026-12-31", NULL}),
			 SK_EINVAL);
	assert_true(problem(e, "approved_by", "own"));
	env_free(e);
}

static void entries_contractors(void **state)
{
	(void)state;
	struct env *e = env_new();
	char id[SK_LEDGER_ID_MAX], b[64];
	/* nobody registered yet: a contractor's entry is refused */
	const char *entry[] = {"area=サーバ室", "person=高橋", "person_kind=委託事業者", "contractor=株式会社保守",
			       "in=2026-04-01 13:00", "out=2026-04-01 15:00", "escort=山田", "purpose=定期保守", NULL};
	assert_int_equal(add(e, "entries", NULL, entry), SK_EINVAL);
	assert_true(problem(e, "contractor", "no record"));
	/* re-subcontracting needs the re-subcontractor */
	assert_int_equal(add(e, "contractors", NULL,
			     (const char *[]){"company=株式会社保守", "service=サーバ保守", "resubcontract=はい", NULL}),
			 SK_EINVAL);
	assert_true(problem(e, "resubcontractor", NULL));
	assert_int_equal(add(e, "contractors", id,
			     (const char *[]){"company=株式会社保守", "service=サーバ保守", "agreement=2026-03-01",
					      "resubcontract=いいえ", NULL}),
			 0);
	/* registered: by name, stored as the id */
	assert_int_equal(add(e, "entries", id, entry), 0);
	assert_string_equal(value(e, "entries", id, "contractor", b, sizeof(b)), "CO-0001");
	/* a contractor with no escort, with no contractor named, leaving before coming in */
	assert_int_equal(add(e, "entries", NULL,
			     (const char *[]){"area=サーバ室", "person=高橋", "person_kind=contractor",
					      "in=2026-04-01 13:00", "out=2026-04-01 12:00", "purpose=保守", NULL}),
			 SK_EINVAL);
	assert_true(problem(e, "contractor", "registered in advance"));
	assert_true(problem(e, "escort", NULL));
	assert_true(problem(e, "out", "before"));
	/* staff name no contractor */
	assert_int_equal(add(e, "entries", NULL,
			     (const char *[]){"area=サーバ室", "person=山田", "person_kind=職員", "contractor=CO-0001",
					      "in=2026-04-01 13:00", "purpose=点検", NULL}),
			 SK_EINVAL);
	assert_true(problem(e, "contractor", "staff"));
	/* two contractors of the same name: the id is needed */
	assert_int_equal(add(e, "contractors", NULL,
			     (const char *[]){"company=株式会社保守", "service=回線保守", NULL}),
			 0);
	assert_int_equal(add(e, "entries", NULL, entry), SK_EINVAL);
	assert_true(problem(e, "contractor", "several"));
	env_free(e);
}

static void training_inspections_laws(void **state)
{
	(void)state;
	struct env *e = env_new();
	char plan[SK_LEDGER_ID_MAX], ses[SK_LEDGER_ID_MAX], item[SK_LEDGER_ID_MAX], ans[SK_LEDGER_ID_MAX];
	char id[SK_LEDGER_ID_MAX], b[64];
	/* "training" is its plans */
	assert_int_equal(add(e, "training", plan,
			     (const char *[]){"course=情報セキュリティ研修", "date=2026-05-10", "trainer=情報政策課",
					      "audience=全職員", "measure=テスト", "required=はい", NULL}),
			 0);
	assert_string_equal(plan, "TP-0001");
	assert_int_equal(add(e, "training/plans", NULL,
			     (const char *[]){"course=c", "date=2026-05-10", "trainer=t", "audience=a", "measure=quiz", NULL}),
			 SK_EINVAL);
	assert_true(problem(e, "measure", "survey"));
	assert_int_equal(add(e, "training/sessions", ses, (const char *[]){"plan=TP-0009", "date=2026-05-10", NULL}),
			 SK_EINVAL);
	assert_true(problem(e, "plan", "no record"));
	assert_int_equal(add(e, "training/sessions", ses, (const char *[]){"plan=情報セキュリティ研修", "date=2026-05-10", NULL}),
			 0);
	const char *att[] = {"session=TS-0001", "person=山田", "section=情報政策課", "attended=○", NULL};
	assert_int_equal(add(e, "training/attendance", id, att), 0);
	assert_string_equal(value(e, "training/attendance", id, "attended", b, sizeof(b)), "yes");
	assert_string_equal(value(e, "training/attendance", id, "section", b, sizeof(b)), "johoseisaku");
	/* once per person and session */
	assert_int_equal(add(e, "training/attendance", NULL, att), SK_EINVAL);
	assert_true(problem(e, "person", "already"));
	/* ... but the record itself can be changed */
	bool changed;
	assert_int_equal(update(e, "training/attendance", id, (const char *[]){"score=85", NULL}, &changed), 0);
	assert_true(changed);

	/* inspections: answers and their comment, findings and their closing */
	assert_int_equal(add(e, "inspections", item,
			     (const char *[]){"chapter=物理的セキュリティ", "requirement=サーバ室の入退室を記録している",
					      "period=2026年度", NULL}),
			 0);
	assert_int_equal(add(e, "inspections/answers", NULL,
			     (const char *[]){"item=IC-0001", "section=somu", "answer=一部", NULL}),
			 SK_EINVAL);
	assert_true(problem(e, "comment", "comment"));
	assert_int_equal(add(e, "inspections/answers", NULL,
			     (const char *[]){"item=IC-0001", "section=somu", "answer=はい", NULL}),
			 SK_EINVAL);
	assert_true(problem(e, "answer", "done, partial, not-done, na"));
	assert_int_equal(add(e, "inspections/answers", ans,
			     (const char *[]){"item=IC-0001", "section=somu", "answer=未実施",
					      "comment=記録簿を 6 月までに用意", NULL}),
			 0);
	assert_int_equal(add(e, "inspections/answers", NULL,
			     (const char *[]){"item=IC-0001", "section=johoseisaku", "answer=該当なし", NULL}),
			 0);
	assert_int_equal(add(e, "inspections/findings", id,
			     (const char *[]){"answer=IA-0001", "finding=入退室の記録がない", "owner=総務課長",
					      "due=2026-03-31", "state=対応中", NULL}),
			 0);
	assert_string_equal(value(e, "inspections/findings", id, "overdue", b, sizeof(b)), "yes");
	assert_int_equal(update(e, "inspections/findings", id, (const char *[]){"state=完了", NULL}, &changed),
			 SK_EINVAL);
	assert_true(problem(e, "closed_on", "closed"));
	assert_int_equal(update(e, "inspections/findings", id,
				(const char *[]){"state=完了", "closed_on=2026-04-01", NULL}, &changed),
			 0);
	assert_string_equal(value(e, "inspections/findings", id, "overdue", b, sizeof(b)), "no");
	assert_int_equal(update(e, "inspections/findings", id, (const char *[]){"state=open", NULL}, &changed),
			 SK_EINVAL);
	assert_true(problem(e, "closed_on", "open"));

	assert_int_equal(add(e, "laws", id,
			     (const char *[]){"name=個人情報の保護に関する法律", "article=第66条",
					      "applies=安全管理措置", NULL}),
			 0);
	assert_int_equal(add(e, "laws", NULL, (const char *[]){"name=x", NULL}), SK_EINVAL);
	assert_true(problem(e, "applies", "required"));
	/* every ledger name is known, and their tables */
	const char *const *names;
	assert_int_equal(sk_ledger_names(&names), 8);
	const sk_ledger_table *tv[4];
	for (size_t i = 0; i < 8; i++)
		assert_non_null(sk_ledger_table_find(e->l, names[i]));
	assert_int_equal(sk_ledger_tables(e->l, "training", tv, 4), 3);
	assert_int_equal(sk_ledger_tables(e->l, "inspections", tv, 4), 3);
	assert_null(sk_ledger_table_find(e->l, "payroll"));
	env_free(e);
}

static void limits(void **state)
{
	(void)state;
	struct env *e = env_new();
	char big[SK_LEDGER_VALUE_MAX + 8], kv[SK_LEDGER_VALUE_MAX + 16];
	memset(big, 'a', SK_LEDGER_VALUE_MAX + 1);
	big[SK_LEDGER_VALUE_MAX + 1] = 0;
	snprintf(kv, sizeof(kv), "note=%s", big);
	assert_int_equal(add(e, "assets", NULL, (const char *[]){ASSET_OK, kv, NULL}), SK_EINVAL);
	assert_true(problem(e, "note", "too long"));
	/* exactly the limit is fine */
	big[SK_LEDGER_VALUE_MAX] = 0;
	snprintf(kv, sizeof(kv), "note=%s", big);
	assert_int_equal(add(e, "assets", NULL, (const char *[]){ASSET_OK, kv, NULL}), 0);
	/* the record: SK_LEDGER_RECORD_MAX bytes of values in all (what + why + note + 22 bytes
	 * of names and dates) is fine, one more is not */
	char k2[sizeof(kv)], k3[sizeof(kv)], k4[sizeof(kv)];
	snprintf(k2, sizeof(k2), "what=%s", big);
	snprintf(k3, sizeof(k3), "why=%s", big);
	size_t rest = SK_LEDGER_RECORD_MAX - 2 * SK_LEDGER_VALUE_MAX - 22;
	snprintf(k4, sizeof(k4), "note=%.*s", (int)rest, big);
	assert_int_equal(add(e, "exceptions", NULL,
			     (const char *[]){k2, k3, k4, "requested_by=a", "approved_by=b", "from=2026-01-01",
					      "until=2026-01-02", NULL}),
			 0);
	snprintf(k4, sizeof(k4), "note=%.*s", (int)rest + 1, big);
	assert_int_equal(add(e, "exceptions", NULL,
			     (const char *[]){k2, k3, k4, "requested_by=a", "approved_by=b", "from=2026-01-01",
					      "until=2026-01-02", NULL}),
			 SK_EINVAL);
	assert_true(problem(e, "", "too large"));
	/* problems are kept up to SK_LEDGER_PROBLEMS_MAX and counted beyond */
	sk_buf csv;
	sk_buf_init(&csv, 0);
	sk_buf_adds(&csv, "資産名,種別\r\n");
	for (int i = 0; i < SK_LEDGER_PROBLEMS_MAX + 5; i++)
		sk_buf_adds(&csv, "x,y\r\n");
	sk_ledger_problems_free(&e->pr);
	sk_ledger_problems_init(&e->pr);
	assert_int_equal(sk_ledger_import_csv(e->l, "assets", sk_buf_data(&csv), sk_buf_len(&csv), "tanaka",
					      NULL, NULL, &e->pr, &e->err),
			 SK_EINVAL);
	assert_int_equal(e->pr.n, SK_LEDGER_PROBLEMS_MAX);
	assert_true(e->pr.count > SK_LEDGER_PROBLEMS_MAX);
	/* rows past SK_LEDGER_IMPORT_ROWS_MAX */
	sk_buf_reset(&csv);
	sk_buf_adds(&csv, "資産名\n");
	for (int i = 0; i <= SK_LEDGER_IMPORT_ROWS_MAX; i++)
		sk_buf_adds(&csv, "x\n");
	sk_ledger_problems_free(&e->pr);
	sk_ledger_problems_init(&e->pr);
	assert_int_equal(sk_ledger_import_csv(e->l, "assets", sk_buf_data(&csv), sk_buf_len(&csv), "tanaka",
					      NULL, NULL, &e->pr, &e->err),
			 SK_ELIMIT);
	assert_true(problem(e, "", "too many rows"));
	/* bytes past SK_LEDGER_IMPORT_BYTES_MAX are refused before they are read */
	assert_int_equal(sk_ledger_import_csv(e->l, "assets", sk_buf_data(&csv),
					      SK_LEDGER_IMPORT_BYTES_MAX + 1, "tanaka", NULL, NULL, &e->pr,
					      &e->err),
			 SK_ELIMIT);
	sk_buf_free(&csv);
	env_free(e);
}

/* UTF-8 → CP932 with iconv (independent of the charset module, which reads only) */
static void to_cp932(const char *s, sk_buf *out)
{
	iconv_t cd = iconv_open("CP932", "UTF-8");
	assert_true(cd != (iconv_t)-1);
	char buf[8192];
	char *in = (char *)s, *o = buf;
	size_t il = strlen(s), ol = sizeof(buf);
	assert_true(iconv(cd, &in, &il, &o, &ol) != (size_t)-1);
	iconv_close(cd);
	sk_buf_add(out, buf, sizeof(buf) - ol);
}

static int count_cb(void *ctx, const sk_ledger_table *t, const sk_ledger_record *r)
{
	(void)t, (void)r;
	(*(int *)ctx)++;
	return 0;
}

static int count(struct env *e, const char *table)
{
	int n = 0;
	assert_int_equal(sk_ledger_list(e->l, table, count_cb, &n, &e->err), 0);
	return n;
}

static int import(struct env *e, const char *table, const sk_buf *b, size_t *added, size_t *updated)
{
	sk_ledger_problems_free(&e->pr);
	sk_ledger_problems_init(&e->pr);
	return sk_ledger_import_csv(e->l, table, sk_buf_data(b), sk_buf_len(b), "importer", added, updated,
				    &e->pr, &e->err);
}

static void csv_import(void **state)
{
	(void)state;
	struct env *e = env_new();
	static const char rows[] =
		"資産名,種別,所管課,管理者,保管場所,機密性,完全性,可用性,ゾーン,見直し日,備考,取扱い (分類から)\r\n"
		"住民記録,情報,総務課,山田,\"庁舎 3 階, サーバ室\",3B,2,2,mynumber,2026/4/1,\"一行目\r\n二行目 \"\"引用\"\"\",\r\n"
		"財務会計システム,システム,情報政策課,鈴木,,2,1,1,lgwan,2027/3/31,,\r\n";
	sk_buf b;
	sk_buf_init(&b, 0);
	to_cp932(rows, &b);
	size_t added = 0, updated = 0;
	int rc = import(e, "assets", &b, &added, &updated);
	if (rc)
		dump(e);
	assert_int_equal(rc, 0);
	assert_int_equal(added, 2);
	char v[256];
	assert_string_equal(value(e, "assets", "AS-0001", "note", v, sizeof(v)), "一行目\n二行目 \"引用\"");
	assert_string_equal(value(e, "assets", "AS-0001", "location", v, sizeof(v)), "庁舎 3 階, サーバ室");
	assert_string_equal(value(e, "assets", "AS-0002", "section", v, sizeof(v)), "johoseisaku");
	assert_string_equal(value(e, "assets", "AS-0002", "review", v, sizeof(v)), "2027-03-31");
	assert_int_equal(audit_hits(e, "ledger.import", "assets/AS-0002", "財務会計システム"), 1);

	/* UTF-8 with a BOM, LF; one bad row (line 4, after a row of two lines): nothing imported */
	sk_buf_reset(&b);
	sk_buf_adds(&b, "\xef\xbb\xbf" "name,kind,section,manager,confidentiality,integrity,availability,zone,note\n"
			"a,information,somu,m,1,1,1,lgwan,\"x\ny\"\n"
			"b,information,somu,m,4,1,1,lgwan,\n"
			"c,information,somu,m,2,1,1,lgwan,\n");
	assert_int_equal(import(e, "assets", &b, NULL, NULL), SK_EINVAL);
	assert_int_equal(e->pr.n, 1);
	assert_int_equal(e->pr.v[0].line, 4);
	assert_string_equal(e->pr.v[0].field, "confidentiality");
	sk_buf msg;
	sk_buf_init(&msg, 0);
	assert_int_equal(sk_ledger_problems_format(&e->pr, SK_LANG_JA, &msg), 0);
	assert_non_null(strstr(sk_buf_str(&msg), "4 行目: confidentiality: 機密性「4」はポリシーの段階"));
	sk_buf_reset(&msg);
	assert_int_equal(sk_ledger_problems_format(&e->pr, SK_LANG_EN, &msg), 0);
	assert_non_null(strstr(sk_buf_str(&msg), "line 4: confidentiality: Confidentiality '4'"));
	sk_buf_free(&msg);
	assert_int_equal(count(e, "assets"), 2);
	/* the good version of the same file goes in; trailing empty rows (Excel's) are skipped */
	sk_buf_reset(&b);
	sk_buf_adds(&b, "\xef\xbb\xbf" "name,kind,section,manager,confidentiality,integrity,availability,zone\n"
			"a,information,somu,m,1,1,1,lgwan\n,,,,,,,\n\n");
	assert_int_equal(import(e, "assets", &b, &added, NULL), 0);
	assert_int_equal(added, 1);
	assert_int_equal(count(e, "assets"), 3);

	/* rows with an ID update their record (the export's read-only columns are ignored) */
	sk_buf_reset(&b);
	sk_buf_adds(&b, "ID,資産名,管理者,版,更新者,取扱い (分類から)\r\nAS-0002,財務会計システム,佐々木,1,x,y\r\n");
	assert_int_equal(import(e, "assets", &b, &added, &updated), 0);
	assert_int_equal(added, 0);
	assert_int_equal(updated, 1);
	assert_string_equal(value(e, "assets", "AS-0002", "manager", v, sizeof(v)), "佐々木");
	assert_int_equal(audit_hits(e, "ledger.import", "assets/AS-0002", "[\"鈴木\",\"佐々木\"]"), 1);
	/* an unknown ID, an unknown column, an unclosed quote */
	sk_buf_reset(&b);
	sk_buf_adds(&b, "ID,資産名\r\nAS-0042,x\r\n");
	assert_int_equal(import(e, "assets", &b, NULL, NULL), SK_EINVAL);
	assert_true(problem(e, "ID", "no record"));
	assert_int_equal(e->pr.v[0].line, 2);
	sk_buf_reset(&b);
	sk_buf_adds(&b, "資産名,色\r\nx,赤\r\n");
	assert_int_equal(import(e, "assets", &b, NULL, NULL), SK_EFORMAT);
	assert_true(problem(e, "色", "no such column"));
	sk_buf_reset(&b);
	sk_buf_adds(&b, "資産名\r\n\"x\r\n");
	assert_int_equal(import(e, "assets", &b, NULL, NULL), SK_EFORMAT);
	assert_true(problem(e, "", "never closed"));
	assert_int_equal(e->pr.v[0].line, 2);
	/* a row with more columns than the header */
	sk_buf_reset(&b);
	sk_buf_adds(&b, "資産名\r\nx,y\r\n");
	assert_int_equal(import(e, "assets", &b, NULL, NULL), SK_EINVAL);
	assert_true(problem(e, "", "more columns"));
	/* neither UTF-8 nor CP932 */
	sk_buf_reset(&b);
	sk_buf_adds(&b, "\x81\x7f\xff\xfe,\x80\r\n");
	assert_int_equal(import(e, "assets", &b, NULL, NULL), SK_EFORMAT);
	assert_int_equal(count(e, "assets"), 3);

	/* entries need their contractor registered: by the file of contractors first */
	sk_buf_reset(&b);
	to_cp932("区画,氏名,区分,委託事業者,入室,退室,立会者,目的\r\n"
		 "サーバ室,高橋,委託事業者,株式会社保守,2026/4/1 13:00,2026/4/1 15:00,山田,保守\r\n", &b);
	assert_int_equal(import(e, "entries", &b, NULL, NULL), SK_EINVAL);
	assert_int_equal(e->pr.v[0].line, 2);
	sk_buf c;
	sk_buf_init(&c, 0);
	to_cp932("事業者名,委託業務,機密保持契約日\r\n株式会社保守,サーバ保守,2026/3/1\r\n", &c);
	assert_int_equal(import(e, "contractors", &c, NULL, NULL), 0);
	assert_int_equal(import(e, "entries", &b, &added, NULL), 0);
	assert_int_equal(added, 1);
	sk_buf_free(&c);
	sk_buf_free(&b);

	/* the export: an xlsx (a ZIP) with one sheet per table */
	char path[128];
	snprintf(path, sizeof(path), "%s/assets.xlsx", e->dir);
	assert_int_equal(sk_ledger_export_xlsx(e->l, "assets", path, SK_LANG_JA, &e->err), 0);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char pk[2];
	assert_int_equal(fread(pk, 1, 2, f), 2);
	assert_memory_equal(pk, "PK", 2);
	fclose(f);
	snprintf(path, sizeof(path), "%s/training.xlsx", e->dir);
	assert_int_equal(sk_ledger_export_xlsx(e->l, "training", path, SK_LANG_EN, &e->err), 0);
	assert_int_equal(sk_ledger_export_xlsx(e->l, "payroll", path, SK_LANG_EN, &e->err), SK_EINVAL);
	env_free(e);
}

/* the gate's incidents: malware and DLP at once, a crash the second time the same content
 * crashes a worker */
static void gate_events(void **state)
{
	(void)state;
	struct env *e = env_new();
	char id[SK_LEDGER_ID_MAX], b[512];
	const char *sha = "ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12";
	assert_int_equal(sk_ledger_gate_event(e->l, SK_LEDGER_EVENT_MALWARE, "20260401-0a0b0c0d", sha,
					      "請求書.pdf", "Eicar-Signature", id, &e->err),
			 0);
	assert_string_equal(id, "IN-0001");
	assert_string_equal(value(e, "incidents", id, "severity", b, sizeof(b)), "high");
	assert_string_equal(value(e, "incidents", id, "item", b, sizeof(b)), "20260401-0a0b0c0d");
	assert_string_equal(value(e, "incidents", id, "state", b, sizeof(b)), "open");
	/* the first step of the chain (staff: the report) is the gateway's; sysadmin's is next */
	assert_string_equal(value(e, "incidents", id, "chain.staff.by", b, sizeof(b)), "sekisho");
	assert_int_equal(strlen(value(e, "incidents", id, "chain.staff.at", b, sizeof(b))), 16);
	assert_string_equal(value(e, "incidents", id, "chain.sysadmin.by", b, sizeof(b)), "(null)");
	value(e, "incidents", id, "what", b, sizeof(b));
	assert_non_null(strstr(b, "マルウェア"));
	assert_non_null(strstr(b, "請求書.pdf"));
	assert_non_null(strstr(b, "Eicar-Signature"));
	assert_int_equal(audit_hits(e, "ledger.add", "incidents/IN-0001", NULL), 1);
	/* a crash: nothing the first time, an incident the second, nothing after */
	assert_int_equal(sk_ledger_gate_event(e->l, SK_LEDGER_EVENT_CRASH, "i1", sha, "a.docx", NULL, id, &e->err), 0);
	assert_string_equal(id, "");
	assert_int_equal(sk_ledger_gate_event(e->l, SK_LEDGER_EVENT_CRASH, "i2", "ffff", "b.docx", NULL, id, &e->err), 0);
	assert_string_equal(id, "");
	assert_int_equal(sk_ledger_gate_event(e->l, SK_LEDGER_EVENT_CRASH, "i3", sha, "a.docx", NULL, id, &e->err), 0);
	assert_string_equal(id, "IN-0002");
	assert_string_equal(value(e, "incidents", id, "severity", b, sizeof(b)), "medium");
	assert_int_equal(sk_ledger_gate_event(e->l, SK_LEDGER_EVENT_CRASH, "i4", sha, "a.docx", NULL, id, &e->err), 0);
	assert_string_equal(id, "");
	/* no quarantine ID: linked by the content's hash */
	assert_int_equal(sk_ledger_gate_event(e->l, SK_LEDGER_EVENT_DLP, NULL, sha, "x.txt", "mynumber", id, &e->err), 0);
	assert_string_equal(value(e, "incidents", id, "item", b, sizeof(b)), "sha256:ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12");
	assert_int_equal(count(e, "incidents"), 3);
	env_free(e);
}


/* POLICY with flows: internet -> lgwan sanitised (DLP record), lgwan -> internet sanitised
 * with 個人番号 blocked (the classification holds 機密性2 and above on the way out and
 * keeps 3A in its zone) */
static const char POLICY_FLOWS[] =
	"version: 1\n" ZONES
	"sections:\n"
	"  somu: { name: 総務課 }\n"
	"roles:\n"
	"  security-manager: { name: 情報セキュリティ管理者 }\n"
	"classification:\n"
	"  dimensions:\n"
	"    機密性:\n"
	"      levels: [\"3A\", \"3B\", \"3C\", \"2\", \"1\"]\n"
	"      default: \"2\"\n"
	"      handling:\n"
	"        - { at_least: \"3A\", to: other-zones, action: deny }\n"
	"        - { at_least: \"2\", to: internet, action: { hold: security-manager } }\n"
	"    完全性: { levels: [\"2\", \"1\"], default: \"1\" }\n"
	"    可用性: { levels: [\"2\", \"1\"], default: \"1\" }\n"
	"flows:\n"
	"  - { from: internet, to: lgwan, action: { sanitize: default }, dlp: record }\n"
	"  - { from: lgwan, to: internet, action: { sanitize: default },\n"
	"      dlp: { mynumber: block, corporate: record, pattern: record, asset: record,\n"
	"             unscannable: hold } }\n";

/* text from → to through the gate (in process) with the ledger; asset may be NULL */
static void gate_run(struct env *e, const char *from, const char *to, const char *klass,
		     const char *asset, bool with_ledger, const char *text, sk_result *res)
{
	sk_options o;
	sk_options_default(&o);
	o.policy = e->p;
	o.ledger = with_ledger ? e->l : NULL;
	o.today = TODAY;
	sk_item it = {.name = "a.txt", .src_zone = from, .dst_zone = to, .class_level = klass,
		      .asset = asset};
	sk_input_mem(&it.input, text, strlen(text));
	sk_buf out;
	sk_buf_init(&out, 0);
	sk_output ob;
	sk_output_buf(&ob, &out);
	sk_error err;
	assert_int_equal(sk_process(&it, &o, &ob, res, &err), 0);
	sk_buf_free(&out);
}

static const sk_report_entry *entry(const sk_result *r, const char *what)
{
	for (size_t i = 0; i < r->report.n; i++)
		if (!strcmp(r->report.v[i].what, what))
			return &r->report.v[i];
	return NULL;
}

/* The asset ledger in the flow decision: an item marked with an asset (sk_item.asset) takes
 * its class (with class_level: the higher level of each dimension), an unknown one is
 * refused; an asset marking in the delivered text (DLP) makes the decision stricter only;
 * one the ledger does not have holds the item. */
static void gate_assets(void **state)
{
	(void)state;
	struct env *e = env_with(POLICY_FLOWS);
	char id[SK_LEDGER_ID_MAX], cls[256];
	assert_int_equal(add(e, "assets", id, (const char *[]){"name=住民記録", "kind=system",
			 "section=somu", "manager=山田", "confidentiality=3A", "integrity=2",
			 "availability=2", "zone=lgwan", NULL}), 0);
	assert_string_equal(id, "AS-0001");
	assert_int_equal(add(e, "assets", id, (const char *[]){"name=公開資料", "kind=document",
			 "section=somu", "manager=山田", "confidentiality=1", "integrity=1",
			 "availability=1", "zone=internet", NULL}), 0);
	assert_string_equal(id, "AS-0002");
	/* the class of an asset, in the policy's order of dimensions */
	assert_int_equal(sk_ledger_asset_class(e->l, "AS-0001", cls, sizeof(cls), &e->err), 0);
	assert_string_equal(cls, "機密性:3A,完全性:2,可用性:2");
	assert_int_equal(sk_ledger_asset_class(e->l, "AS-0099", cls, sizeof(cls), &e->err), SK_ENOTFOUND);
	assert_non_null(strstr(e->err.msg, "AS-0099"));
	assert_int_equal(sk_ledger_asset_class(e->l, "", cls, sizeof(cls), &e->err), SK_EINVAL);
	assert_int_equal(sk_ledger_asset_class(e->l, "AS 1", cls, sizeof(cls), &e->err), SK_EINVAL);
	assert_int_equal(sk_ledger_asset_class(e->l, "AS-0001", cls, 10, &e->err), SK_ELIMIT);

	const char *plain = "会議は10時からです。\n";
	sk_result r;
	/* unmarked internet -> lgwan: delivered */
	gate_run(e, "internet", "lgwan", NULL, NULL, true, plain, &r);
	assert_int_not_equal(r.report.verdict, SK_VERDICT_BLOCKED);
	assert_null(entry(&r, "asset"));
	sk_result_free(&r);
	/* marked with the 3A asset: denied by the classification, the rule naming the asset */
	gate_run(e, "internet", "lgwan", NULL, "AS-0001", true, plain, &r);
	assert_int_equal(r.report.verdict, SK_VERDICT_BLOCKED);
	assert_int_equal(r.report.reason, SK_REASON_POLICY_DENY);
	assert_string_equal(r.decision, "deny");
	assert_string_equal(r.rule, "classification 機密性 >= 3A (asset AS-0001: 機密性:3A,完全性:2,可用性:2)");
	assert_non_null(entry(&r, "asset"));
	assert_string_equal(entry(&r, "asset")->detail, "AS-0001 機密性:3A,完全性:2,可用性:2");
	char *j = sk_result_json(&r, "a.txt", NULL);
	assert_non_null(strstr(j, "asset AS-0001"));
	free(j);
	sk_result_free(&r);
	/* an unknown asset, or no ledger: refused, never ignored */
	gate_run(e, "internet", "lgwan", NULL, "AS-0099", true, plain, &r);
	assert_int_equal(r.report.reason, SK_REASON_POLICY_DENY);
	assert_string_equal(r.rule, "unknown-asset");
	sk_result_free(&r);
	gate_run(e, "internet", "lgwan", NULL, "AS-0001", false, plain, &r);
	assert_int_equal(r.report.reason, SK_REASON_POLICY_DENY);
	assert_string_equal(r.rule, "unknown-asset");
	sk_result_free(&r);
	/* lgwan -> internet: unmarked (機密性2 by default) held; the 機密性1 asset is the
	 * item's class (delivered); with --class 機密性2 the stricter of the two applies */
	gate_run(e, "lgwan", "internet", NULL, NULL, true, plain, &r);
	assert_int_equal(r.report.reason, SK_REASON_HELD);
	sk_result_free(&r);
	gate_run(e, "lgwan", "internet", NULL, "AS-0002", true, plain, &r);
	assert_int_not_equal(r.report.verdict, SK_VERDICT_BLOCKED);
	sk_result_free(&r);
	gate_run(e, "lgwan", "internet", "機密性2", "AS-0002", true, plain, &r);
	assert_int_equal(r.report.reason, SK_REASON_HELD);
	sk_result_free(&r);
	gate_run(e, "lgwan", "internet", "機密性1", "AS-0001", true, plain, &r);
	assert_int_equal(r.report.reason, SK_REASON_POLICY_DENY);
	sk_result_free(&r);

	/* a marking DLP finds in the delivered text: 3A internet -> lgwan denied (unmarked:
	 * delivered, above) */
	gate_run(e, "internet", "lgwan", NULL, NULL, true, "資料\n情報資産番号：ＡＳ－０００１\n", &r);
	assert_int_equal(r.report.reason, SK_REASON_POLICY_DENY);
	assert_string_equal(r.decision, "deny");
	assert_non_null(strstr(r.rule, "(asset AS-0001: 機密性:3A"));
	assert_non_null(entry(&r, "asset-marking"));
	assert_string_equal(entry(&r, "asset")->where, "line 2:3"); /* 資産番号 in 情報資産番号 */
	sk_result_free(&r);
	/* ... stricter only: a 機密性1 marking on the way out stays held (機密性2 default) */
	gate_run(e, "lgwan", "internet", NULL, NULL, true, "資産番号: AS-0002\n", &r);
	assert_int_equal(r.report.reason, SK_REASON_HELD);
	sk_result_free(&r);
	/* ... the item's own asset and the same marking: looked up once */
	gate_run(e, "internet", "lgwan", NULL, "AS-0002", true, "資産番号: AS-0002\n", &r);
	assert_int_not_equal(r.report.verdict, SK_VERDICT_BLOCKED);
	size_t na = 0;
	for (size_t i = 0; i < r.report.n; i++)
		na += !strcmp(r.report.v[i].what, "asset");
	assert_int_equal(na, 1);
	sk_result_free(&r);
	/* ... a marking the ledger does not have (or no ledger): held, never ignored */
	gate_run(e, "internet", "lgwan", NULL, NULL, true, "資産番号: AS-0099\n", &r);
	assert_int_equal(r.report.reason, SK_REASON_HELD);
	assert_non_null(strstr(r.report.reason_detail, "asset-unknown:AS-0099"));
	sk_result_free(&r);
	gate_run(e, "internet", "lgwan", NULL, NULL, false, "資産番号: AS-0001\n", &r);
	assert_int_equal(r.report.reason, SK_REASON_HELD);
	sk_result_free(&r);
	/* ... a DLP block still wins over the marking's deny (the incident's reason) */
	gate_run(e, "lgwan", "internet", NULL, NULL, true,
		 "資産番号: AS-0001\n個人番号: 3847-5629-1044\n", &r);
	assert_int_equal(r.report.reason, SK_REASON_DLP);
	sk_result_free(&r);
	env_free(e);
}

static void files_private(void **state)
{
	(void)state;
	struct env *e = env_new();
	assert_int_equal(add(e, "laws", NULL, (const char *[]){"name=n", "applies=a", NULL}), 0);
	char p[128];
	snprintf(p, sizeof(p), "%s/ledger.db", e->dir);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* who changes must be given */
	sk_ledger_kv kv = {"name", "x"};
	assert_int_equal(sk_ledger_add(e->l, "laws", &kv, 1, "", NULL, &e->pr, &e->err), SK_EINVAL);
	assert_int_equal(sk_ledger_add(e->l, "laws", &kv, 1, "a\nb", NULL, &e->pr, &e->err), SK_EINVAL);
	env_free(e);
}

/* ---- the compliance cycle ---- */

static void requirements(void **state)
{
	(void)state;
	static const char *const chapters[] = {"強靭性の向上", "情報資産の分類と管理", "組織体制",
					       "人的・物理的", "技術的", "運用", "監査・自己点検・見直し"};
	const sk_ledger_requirement *v;
	size_t n = sk_ledger_requirements(&v), seen[7] = {0}, last = 0;
	assert_true(n >= 35 && n <= 60);
	for (size_t i = 0; i < n; i++) {
		size_t c = 7;
		for (size_t k = 0; k < 7; k++)
			if (!strcmp(v[i].chapter_ja, chapters[k]))
				c = k;
		assert_true(c < 7);
		assert_true(c >= last); /* grouped, in the policies' order */
		last = c;
		seen[c]++;
		assert_true(strlen(v[i].chapter_en) > 0);
		/* a question: ends with 「か。」 and "?" */
		size_t lj = strlen(v[i].ja), le = strlen(v[i].en);
		assert_true(lj > 6 && !strcmp(v[i].ja + lj - 6, "か。"));
		assert_true(le > 1 && v[i].en[le - 1] == '?');
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(v[i].ja, v[j].ja);
	}
	for (size_t k = 0; k < 7; k++)
		assert_true(seen[k] >= 3);
}

struct gen_count {
	const char *period, *kind, *section;
	size_t n;
};

static int gen_cb(void *ctx, const sk_ledger_table *t, const sk_ledger_record *r)
{
	struct gen_count *g = ctx;
	const char *p = r->values[sk_ledger_field_index(t, "period")],
		   *k = r->values[sk_ledger_field_index(t, "kind")],
		   *s = r->values[sk_ledger_field_index(t, "section")];
	if ((!g->period || (p && !strcmp(p, g->period))) && (!g->kind || (k && !strcmp(k, g->kind))) &&
	    (!g->section || (!*g->section ? !s : s && !strcmp(s, g->section))))
		g->n++;
	return 0;
}

static size_t gen_count(struct env *e, const char *period, const char *kind, const char *section)
{
	struct gen_count g = {period, kind, section, 0};
	assert_int_equal(sk_ledger_list(e->l, "inspections/checklists", gen_cb, &g, &e->err), 0);
	return g.n;
}

static void checklist_generate(void **state)
{
	(void)state;
	struct env *e = env_new();
	const sk_ledger_requirement *v;
	size_t n = sk_ledger_requirements(&v), added = 99, skipped = 99;
	/* every section of the policy */
	assert_int_equal(sk_ledger_checklist_generate(e->l, "2026年度", NULL, NULL, "suzuki", &added,
						      &skipped, &e->err),
			 0);
	assert_int_equal(added, 2 * n);
	assert_int_equal(skipped, 0);
	assert_int_equal(gen_count(e, "2026年度", "self", "johoseisaku"), n);
	assert_int_equal(gen_count(e, "2026年度", "self", "somu"), n);
	/* the first item: chapter, the question in both languages, audited by the caller */
	char b[600];
	assert_string_equal(value(e, "inspections/checklists", "IC-0001", "chapter", b, sizeof(b)),
			    v[0].chapter_ja);
	value(e, "inspections/checklists", "IC-0001", "requirement", b, sizeof(b));
	assert_true(!strncmp(b, v[0].ja, strlen(v[0].ja)) && strstr(b, v[0].en));
	assert_int_equal(audit_hits(e, "ledger.add", "inspections/checklists/IC-0001", "2026年度"), 1);
	char obj[64];
	snprintf(obj, sizeof(obj), "inspections/checklists/IC-%04zu", 2 * n);
	assert_int_equal(audit_hits(e, "ledger.add", obj, "somu"), 1);
	sk_ledger_record r;
	assert_int_equal(sk_ledger_get(e->l, "inspections/checklists", "IC-0001", &r, &e->err), 0);
	assert_string_equal(r.created_by, "suzuki");
	sk_ledger_record_free(&r);
	/* running twice adds nothing */
	assert_int_equal(sk_ledger_checklist_generate(e->l, "2026年度", "self", "", "suzuki", &added,
						      &skipped, &e->err),
			 0);
	assert_int_equal(added, 0);
	assert_int_equal(skipped, 2 * n);
	assert_int_equal(gen_count(e, NULL, NULL, NULL), 2 * n);
	/* an item removed from one section's set (its period changed) comes back alone; an
	 * edited wording of the same question still counts as there */
	bool changed;
	assert_int_equal(update(e, "inspections/checklists", "IC-0002", (const char *[]){"period=2025年度", NULL},
				&changed),
			 0);
	char edited[1200];
	value(e, "inspections/checklists", "IC-0003", "requirement", b, sizeof(b));
	snprintf(edited, sizeof(edited), "requirement=%s", v[2].ja); /* Japanese only */
	assert_int_equal(update(e, "inspections/checklists", "IC-0003", (const char *[]){edited, NULL}, &changed), 0);
	assert_true(changed);
	assert_int_equal(sk_ledger_checklist_generate(e->l, "2026年度", "self", NULL, "suzuki", &added,
						      &skipped, &e->err),
			 0);
	assert_int_equal(added, 1);
	assert_int_equal(skipped, 2 * n - 1);
	/* one section (by its name), another kind */
	assert_int_equal(sk_ledger_checklist_generate(e->l, "2026年度", "audit", "総務課", "suzuki", &added,
						      NULL, &e->err),
			 0);
	assert_int_equal(added, n);
	assert_int_equal(gen_count(e, "2026年度", "audit", "somu"), n);
	assert_int_equal(gen_count(e, "2026年度", "audit", "johoseisaku"), 0);
	/* per section, then the rest: only the missing section is added */
	assert_int_equal(sk_ledger_checklist_generate(e->l, "2027年度", "self", "johoseisaku", "suzuki",
						      &added, &skipped, &e->err),
			 0);
	assert_int_equal(added, n);
	assert_int_equal(sk_ledger_checklist_generate(e->l, "2027年度", "self", NULL, "suzuki", &added,
						      &skipped, &e->err),
			 0);
	assert_int_equal(added, n);
	assert_int_equal(skipped, n);
	/* bad input adds nothing */
	size_t before = gen_count(e, NULL, NULL, NULL);
	assert_int_equal(sk_ledger_checklist_generate(e->l, "2026年度", "self", "経理課", "suzuki", &added,
						      &skipped, &e->err),
			 SK_EINVAL);
	assert_non_null(strstr(e->err.msg, "section"));
	assert_int_equal(sk_ledger_checklist_generate(e->l, "2026年度", "review", NULL, "suzuki", &added,
						      &skipped, &e->err),
			 SK_EINVAL);
	assert_int_equal(sk_ledger_checklist_generate(e->l, "", "self", NULL, "suzuki", &added, &skipped,
						      &e->err),
			 SK_EINVAL);
	assert_int_equal(sk_ledger_checklist_generate(e->l, "2026年度", "self", NULL, "", &added, &skipped,
						      &e->err),
			 SK_EINVAL);
	assert_int_equal(gen_count(e, NULL, NULL, NULL), before);
	env_free(e);

	/* a policy without sections: one set without a section */
	e = env_with(POLICY_LEGACY);
	assert_int_equal(sk_ledger_checklist_generate(e->l, "2026年度", "監査", NULL, "suzuki", &added,
						      &skipped, &e->err),
			 0);
	assert_int_equal(added, n);
	assert_int_equal(gen_count(e, "2026年度", "audit", ""), n);
	assert_int_equal(sk_ledger_checklist_generate(e->l, "2026年度", "audit", NULL, "suzuki", &added,
						      &skipped, &e->err),
			 0);
	assert_int_equal(added, 0);
	assert_int_equal(skipped, n);
	env_free(e);
}

static const char *buf_str(sk_buf *b)
{
	return sk_buf_str(b);
}

/* plans: TP-0001 required and past, TP-0002 required and future, TP-0003 not required,
 * TP-0004 required and past; attendance of TP-0001 for tanaka (by login), 佐藤花子 (by
 * name), suzuki (did not attend); of TP-0004 for everyone but yamada */
static void training_seed(struct env *e)
{
	assert_int_equal(add(e, "training/plans", NULL,
			     (const char *[]){"course=情報セキュリティ研修", "date=2026-03-01", "trainer=t",
					      "audience=全職員", "measure=test", "required=yes", NULL}),
			 0);
	assert_int_equal(add(e, "training/plans", NULL,
			     (const char *[]){"course=来年度の研修", "date=2026-05-01", "trainer=t",
					      "audience=全職員", "measure=test", "required=yes", NULL}),
			 0);
	assert_int_equal(add(e, "training/plans", NULL,
			     (const char *[]){"course=任意研修", "date=2026-03-01", "trainer=t", "audience=希望者",
					      "measure=survey", "required=no", NULL}),
			 0);
	assert_int_equal(add(e, "training/plans", NULL,
			     (const char *[]){"course=標的型メール訓練", "date=2026-04-01", "trainer=t",
					      "audience=全職員", "measure=test", "required=yes", NULL}),
			 0);
	assert_int_equal(add(e, "training/sessions", NULL, (const char *[]){"plan=TP-0001", "date=2026-03-01", NULL}), 0);
	assert_int_equal(add(e, "training/sessions", NULL, (const char *[]){"plan=TP-0003", "date=2026-03-01", NULL}), 0);
	assert_int_equal(add(e, "training/sessions", NULL, (const char *[]){"plan=TP-0004", "date=2026-04-01", NULL}), 0);
	assert_int_equal(add(e, "training/attendance", NULL,
			     (const char *[]){"session=TS-0001", "person=tanaka", "section=johoseisaku", "attended=yes", NULL}),
			 0);
	assert_int_equal(add(e, "training/attendance", NULL,
			     (const char *[]){"session=TS-0001", "person=佐藤花子", "section=somu", "attended=はい", NULL}),
			 0);
	assert_int_equal(add(e, "training/attendance", NULL,
			     (const char *[]){"session=TS-0001", "person=suzuki", "section=somu", "attended=いいえ", NULL}),
			 0);
	/* yamada went to the optional course only */
	assert_int_equal(add(e, "training/attendance", NULL,
			     (const char *[]){"session=TS-0002", "person=yamada", "section=somu", "attended=yes", NULL}),
			 0);
	const char *const who[] = {"tanaka", "佐藤花子", "suzuki"};
	for (size_t i = 0; i < 3; i++) {
		char p[64];
		snprintf(p, sizeof(p), "person=%s", who[i]);
		assert_int_equal(add(e, "training/attendance", NULL,
				     (const char *[]){"session=TS-0003", p, "section=somu", "attended=yes", NULL}),
				 0);
	}
}

static const sk_ledger_person roster[] = {
	{"tanaka", "田中一郎", "johoseisaku"},
	{"sato", "佐藤花子", "somu"},
	{"suzuki", "鈴木次郎", "somu"},
	{"yamada", NULL, NULL},
};

/* the roster from the policy's users alone (no auth.db): display names and sections as the
 * policy has them, a name equal to the id left out, each user once */
static void roster_from_policy(void **state)
{
	(void)state;
	char text[4096];
	snprintf(text, sizeof(text), "%s%s", POLICY,
		 "users:\n"
		 "  - { id: joho-kacho, name: 情報政策課長, roles: [staff], section: johoseisaku }\n"
		 "  - { id: yamada, name: yamada, roles: [staff] }\n");
	struct env *e = env_with(text);
	sk_ledger_roster ro;
	assert_int_equal(sk_ledger_roster_load(NULL, e->p, &ro, &e->err), 0);
	assert_int_equal(ro.n, 2);
	assert_string_equal(ro.v[0].user, "joho-kacho");
	assert_string_equal(ro.v[0].name, "情報政策課長");
	assert_string_equal(ro.v[0].section, "johoseisaku");
	assert_string_equal(ro.v[1].user, "yamada");
	assert_null(ro.v[1].name);
	assert_null(ro.v[1].section);
	sk_ledger_roster_free(&ro);
	assert_int_equal(ro.n, 0);
	env_free(e);
}

static void training_missing(void **state)
{
	(void)state;
	struct env *e = env_new();
	sk_buf out;
	sk_buf_init(&out, 0);
	/* nothing recorded: nobody misses anything */
	assert_int_equal(sk_ledger_training_missing(e->l, roster, 4, &out, &e->err), 0);
	assert_string_equal(buf_str(&out), "{\"people\":[]}");
	training_seed(e);
	assert_int_equal(sk_ledger_training_missing(e->l, roster, 4, &out, &e->err), 0);
	assert_string_equal(
		buf_str(&out),
		"{\"people\":["
		"{\"user\":\"suzuki\",\"name\":\"鈴木次郎\",\"section\":\"somu\",\"missing\":"
		"[{\"plan\":\"TP-0001\",\"course\":\"情報セキュリティ研修\"}]},"
		"{\"user\":\"yamada\",\"name\":null,\"section\":null,\"missing\":"
		"[{\"plan\":\"TP-0001\",\"course\":\"情報セキュリティ研修\"},"
		"{\"plan\":\"TP-0004\",\"course\":\"標的型メール訓練\"}]}]}");
	/* suzuki's record corrected: attended after all */
	bool changed;
	assert_int_equal(update(e, "training/attendance", "TA-0003", (const char *[]){"attended=yes", NULL}, &changed), 0);
	assert_int_equal(sk_ledger_training_missing(e->l, roster, 3, &out, &e->err), 0);
	assert_string_equal(buf_str(&out), "{\"people\":[]}");
	/* a name with a quote and a backslash is escaped */
	sk_ledger_person odd = {"o\"brien", "O\\Brien", NULL};
	assert_int_equal(sk_ledger_training_missing(e->l, &odd, 1, &out, &e->err), 0);
	assert_non_null(strstr(buf_str(&out), "\"user\":\"o\\\"brien\",\"name\":\"O\\\\Brien\""));
	sk_buf_free(&out);
	env_free(e);
}

static void set_day(struct env *e, int days_before)
{
	e->now = ((int64_t)1775000000 - (int64_t)days_before * 86400) * 1000000;
}

static void charts(void **state)
{
	(void)state;
	struct env *e = env_new();
	sk_buf out;
	sk_buf_init(&out, 0);
	/* empty ledgers */
	assert_int_equal(sk_ledger_charts(e->l, NULL, NULL, 0, SK_LANG_JA, &out, &e->err), 0);
	const char *s = buf_str(&out);
	assert_non_null(strstr(s, "\"incidents_by_month\":[{\"month\":\"2025-05\",\"high\":0,\"medium\":0,\"low\":0},"));
	assert_non_null(strstr(s, "{\"month\":\"2026-04\",\"high\":0,\"medium\":0,\"low\":0}],"));
	assert_non_null(strstr(s, "\"inspections\":{\"period\":null,\"periods\":[],\"by_section\":[],\"by_chapter\":[]}"));
	assert_non_null(strstr(s, "\"today\":\"2026-04-01\""));

	/* incidents: three inside the twelve months, one just before */
#define INC(at, sev) (const char *[]){"found_by=山田", "found_at=" at, "what=x", "severity=" sev, NULL}
	assert_int_equal(add(e, "incidents", NULL, INC("2026-03-10 09:00", "high")), 0);
	assert_int_equal(add(e, "incidents", NULL, INC("2026-03-20 09:00", "low")), 0);
	assert_int_equal(add(e, "incidents", NULL, INC("2026-03-21 09:00", "low")), 0);
	assert_int_equal(add(e, "incidents", NULL, INC("2025-05-01 00:00", "medium")), 0);
	assert_int_equal(add(e, "incidents", NULL, INC("2025-04-30 23:59", "high")), 0);
	assert_int_equal(add(e, "incidents", NULL, INC("2026-04-01 08:00", "medium")), 0);
	training_seed(e);

	/* checklists for two periods; answers for some items */
	const sk_ledger_requirement *v;
	size_t n = sk_ledger_requirements(&v), added;
	assert_int_equal(sk_ledger_checklist_generate(e->l, "2025年度", "self", "somu", "suzuki", &added, NULL, &e->err), 0);
	assert_int_equal(sk_ledger_checklist_generate(e->l, "2026年度", "self", NULL, "suzuki", &added, NULL, &e->err), 0);
	char j1[16], j2[16], s1[16], s2[16];
	snprintf(j1, sizeof(j1), "IC-%04zu", n + 1); /* 2026年度, johoseisaku: first two */
	snprintf(j2, sizeof(j2), "IC-%04zu", n + 2);
	snprintf(s1, sizeof(s1), "IC-%04zu", 2 * n + 1); /* somu: first two */
	snprintf(s2, sizeof(s2), "IC-%04zu", 3 * n); /* somu: the last item (監査) */
	size_t c0 = 0, cl = 0; /* items of the first and the last chapter */
	for (size_t i = 0; i < n; i++) {
		c0 += !strcmp(v[i].chapter_ja, v[0].chapter_ja);
		cl += !strcmp(v[i].chapter_ja, v[n - 1].chapter_ja);
	}
	assert_string_equal(v[n - 1].chapter_ja, "監査・自己点検・見直し");
	char kv[4][64];
	struct {
		const char *item, *sec, *ans;
	} ans[] = {
		{j1, "johoseisaku", "partial"}, {j1, "johoseisaku", "done"}, /* the newest counts */
		{j2, "johoseisaku", "partial"}, {s1, "somu", "not-done"}, {s2, "somu", "na"},
	};
	for (size_t i = 0; i < sizeof(ans) / sizeof(ans[0]); i++) {
		snprintf(kv[0], sizeof(kv[0]), "item=%s", ans[i].item);
		snprintf(kv[1], sizeof(kv[1]), "section=%s", ans[i].sec);
		snprintf(kv[2], sizeof(kv[2]), "answer=%s", ans[i].ans);
		assert_int_equal(add(e, "inspections/answers", NULL,
				     (const char *[]){kv[0], kv[1], kv[2], "comment=予定あり", NULL}),
				 0);
	}
	/* findings: open at 10, 45, 100 and 200 days, one closed */
	int ages[] = {10, 45, 100, 200, 200, 31};
	for (size_t i = 0; i < sizeof(ages) / sizeof(ages[0]); i++) {
		set_day(e, ages[i]);
		bool closed = i == 4;
		assert_int_equal(add(e, "inspections/findings", NULL,
				     (const char *[]){"finding=f", "owner=o", "due=2026-06-30",
						      closed ? "state=closed" : "state=open",
						      closed ? "closed_on=2026-03-01" : NULL, NULL}),
				 0);
	}

	assert_int_equal(sk_ledger_charts(e->l, NULL, roster, 4, SK_LANG_JA, &out, &e->err), 0);
	assert_int_equal(sk_ledger_charts(e->l, NULL, roster, 4, SK_LANG_JA, &out, &e->err), 0);
	s = buf_str(&out);
	assert_non_null(strstr(s, "{\"month\":\"2025-05\",\"high\":0,\"medium\":1,\"low\":0}"));
	assert_non_null(strstr(s, "{\"month\":\"2026-03\",\"high\":1,\"medium\":0,\"low\":2}"));
	assert_non_null(strstr(s, "{\"month\":\"2026-04\",\"high\":0,\"medium\":1,\"low\":0}]"));
	assert_null(strstr(s, "2025-04"));
	assert_non_null(strstr(s, "\"training_by_section\":["
				  "{\"section\":\"johoseisaku\",\"name\":\"情報政策課\",\"people\":1,\"completed\":1},"
				  "{\"section\":\"somu\",\"name\":\"総務課\",\"people\":2,\"completed\":1},"
				  "{\"section\":null,\"name\":\"所属なし\",\"people\":1,\"completed\":0}]"));
	char exp[512];
	snprintf(exp, sizeof(exp),
		 "\"inspections\":{\"period\":\"2026年度\",\"periods\":[\"2026年度\",\"2025年度\"],"
		 "\"by_section\":["
		 "{\"section\":\"johoseisaku\",\"name\":\"情報政策課\",\"done\":1,\"partial\":1,\"not_done\":0,\"na\":0,\"unanswered\":%zu},"
		 "{\"section\":\"somu\",\"name\":\"総務課\",\"done\":0,\"partial\":0,\"not_done\":1,\"na\":1,\"unanswered\":%zu}],"
		 "\"by_chapter\":[{\"chapter\":\"強靭性の向上\",\"done\":1,\"partial\":1,\"not_done\":1,\"na\":0,\"unanswered\":%zu},",
		 n - 2, n - 2, 2 * c0 - 3);
	assert_non_null(strstr(s, exp));
	snprintf(exp, sizeof(exp),
		 "{\"chapter\":\"監査・自己点検・見直し\",\"done\":0,\"partial\":0,\"not_done\":0,\"na\":1,\"unanswered\":%zu}]}",
		 2 * cl - 1);
	assert_non_null(strstr(s, exp));
	assert_non_null(strstr(s, "\"findings_by_age\":[{\"bucket\":\"0-30\",\"open\":1},{\"bucket\":\"31-90\",\"open\":2},"
				  "{\"bucket\":\"91-180\",\"open\":1},{\"bucket\":\"181-\",\"open\":1}]"));
	/* another period, in English */
	assert_int_equal(sk_ledger_charts(e->l, "2025年度", roster, 4, SK_LANG_EN, &out, &e->err), 0);
	s = buf_str(&out);
	snprintf(exp, sizeof(exp),
		 "\"by_section\":[{\"section\":\"somu\",\"name\":\"総務課\",\"done\":0,\"partial\":0,"
		 "\"not_done\":0,\"na\":0,\"unanswered\":%zu}],"
		 "\"by_chapter\":[{\"chapter\":\"%s\",",
		 n, v[0].chapter_en);
	assert_non_null(strstr(s, exp));
	assert_non_null(strstr(s, "{\"section\":\"johoseisaku\",\"name\":\"Information Policy\",\"people\":1,"));
	assert_non_null(strstr(s, "{\"section\":null,\"name\":\"No section\","));
	sk_buf_free(&out);
	env_free(e);
}

struct rem {
	char got[16][48];
	size_t n;
	const char *fail; /* id to fail */
};

static int rem_cb(void *ctx, sk_ledger_reminder_kind kind, const sk_ledger_table *t,
		  const sk_ledger_record *r)
{
	static const char *const k[] = {"expiring", "expired", "overdue", "review"};
	struct rem *x = ctx;
	assert_true(x->n < 16);
	snprintf(x->got[x->n++], sizeof(x->got[0]), "%s %s %s", k[kind], t->name, r->id);
	return x->fail && !strcmp(x->fail, r->id) ? SK_EIO : 0;
}

static struct rem *remind(struct env *e, int days, int want_rc, const char *fail)
{
	static struct rem x;
	memset(&x, 0, sizeof(x));
	x.fail = fail;
	assert_int_equal(sk_ledger_reminders(e->l, days, rem_cb, &x, &e->err), want_rc);
	return &x;
}

static void reopen(struct env *e, int32_t today)
{
	sk_ledger_close(e->l);
	sk_ledger_options o = {.today = today, .clock = fake_now, .clock_ctx = e};
	assert_int_equal(sk_ledger_open(e->dir, e->audit, e->p, &o, &e->l, &e->err), 0);
}

static void reminders(void **state)
{
	(void)state;
	struct env *e = env_new();
	assert_int_equal(add(e, "exceptions", NULL, (const char *[]){EXC("2026-01-01", "2026-04-10"), NULL}), 0);
	assert_int_equal(add(e, "exceptions", NULL, (const char *[]){EXC("2026-01-01", "2026-05-30"), NULL}), 0);
	assert_int_equal(add(e, "exceptions", NULL, (const char *[]){EXC("2026-01-01", "2026-03-15"), NULL}), 0);
	assert_int_equal(add(e, "exceptions", NULL, (const char *[]){EXC("2026-01-01", "2026-04-15"), NULL}), 0);
	assert_int_equal(add(e, "inspections/findings", NULL,
			     (const char *[]){"finding=f", "owner=o", "due=2026-03-31", "state=open", NULL}),
			 0);
	assert_int_equal(add(e, "inspections/findings", NULL,
			     (const char *[]){"finding=f", "owner=o", "due=2026-04-01", "state=open", NULL}),
			 0);
	assert_int_equal(add(e, "inspections/findings", NULL,
			     (const char *[]){"finding=f", "owner=o", "due=2026-03-01", "state=closed",
					      "closed_on=2026-03-02", NULL}),
			 0);
	assert_int_equal(add(e, "assets", NULL, (const char *[]){ASSET_OK, "review=2026-03-01", NULL}), 0);
	assert_int_equal(add(e, "assets", NULL, (const char *[]){ASSET_OK, "review=2026-06-01", NULL}), 0);
	assert_int_equal(add(e, "assets", NULL, (const char *[]){ASSET_OK, NULL}), 0);

	struct rem *x = remind(e, 14, 0, NULL);
	assert_int_equal(x->n, 5);
	assert_string_equal(x->got[0], "expiring exceptions EX-0001");
	assert_string_equal(x->got[1], "expiring exceptions EX-0004");
	assert_string_equal(x->got[2], "expired exceptions EX-0003");
	assert_string_equal(x->got[3], "overdue inspections/findings IF-0001");
	assert_string_equal(x->got[4], "review assets AS-0001");
	/* each once */
	assert_int_equal(remind(e, 14, 0, NULL)->n, 0);
	/* a wider window finds the next one only */
	x = remind(e, 60, 0, NULL);
	assert_int_equal(x->n, 1);
	assert_string_equal(x->got[0], "expiring exceptions EX-0002");
	/* a changed date reminds again */
	bool changed;
	assert_int_equal(update(e, "exceptions", "EX-0001", (const char *[]){"until=2026-04-12", NULL}, &changed), 0);
	assert_int_equal(update(e, "assets", "AS-0002", (const char *[]){"review=2026-03-31", NULL}, &changed), 0);
	x = remind(e, 14, 0, NULL);
	assert_int_equal(x->n, 2);
	assert_string_equal(x->got[0], "expiring exceptions EX-0001");
	assert_string_equal(x->got[1], "review assets AS-0002");
	/* a failed one is not marked, the others go on, and it comes again */
	assert_int_equal(add(e, "inspections/findings", NULL,
			     (const char *[]){"finding=g", "owner=o", "due=2026-03-30", "state=open", NULL}),
			 0);
	assert_int_equal(update(e, "assets", "AS-0003", (const char *[]){"review=2026-01-01", NULL}, &changed), 0);
	x = remind(e, 14, SK_EIO, "IF-0004");
	assert_int_equal(x->n, 2);
	x = remind(e, 14, 0, NULL);
	assert_int_equal(x->n, 1);
	assert_string_equal(x->got[0], "overdue inspections/findings IF-0004");
	/* the day moves on: IF-0002 is overdue now, EX-0001 and EX-0004 expire (each once) */
	reopen(e, 20260416);
	x = remind(e, 14, 0, NULL);
	assert_int_equal(x->n, 3); /* AS-0002 was reminded of for 2026-03-31 already */
	assert_string_equal(x->got[0], "expired exceptions EX-0001");
	assert_string_equal(x->got[1], "expired exceptions EX-0004");
	assert_string_equal(x->got[2], "overdue inspections/findings IF-0002");
	assert_int_equal(remind(e, 14, 0, NULL)->n, 0);
	/* limits of days_ahead */
	remind(e, -1, SK_EINVAL, NULL);
	remind(e, 3661, SK_EINVAL, NULL);
	env_free(e);
}

/* an older ledger.db without the reminders table gets it when opened */
static void reminders_migration(void **state)
{
	(void)state;
	struct env *e = env_new();
	assert_int_equal(add(e, "assets", NULL, (const char *[]){ASSET_OK, "review=2026-03-01", NULL}), 0);
	sk_ledger_close(e->l);
	e->l = NULL;
	char path[128];
	snprintf(path, sizeof(path), "%s/ledger.db", e->dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE reminders", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	reopen(e, TODAY);
	assert_int_equal(remind(e, 14, 0, NULL)->n, 1);
	assert_int_equal(remind(e, 14, 0, NULL)->n, 0);
	/* and keeps what was sent across a reopen */
	reopen(e, TODAY);
	assert_int_equal(remind(e, 14, 0, NULL)->n, 0);
	env_free(e);
}

/* Files attached through the gate (evidence): only sk_ledger_attach / sk_ledger_detach
 * change a files field, each change audited; an update, an add or an import cannot set
 * it; a version that is not the stored one is a conflict, checked in the transaction. */
static void attached_files_and_versions(void **state)
{
	(void)state;
	struct env *e = env_new();
	char item[SK_LEDGER_ID_MAX], ans[SK_LEDGER_ID_MAX], b[SK_LEDGER_VALUE_MAX + 1];
	assert_int_equal(add(e, "inspections", item,
			     (const char *[]){"chapter=運用", "requirement=バックアップを取得している",
					      "period=2026年度", NULL}),
			 0);
	assert_int_equal(add(e, "inspections/answers", ans,
			     (const char *[]){"item=IC-0001", "section=somu", "answer=実施", NULL}),
			 0);
	/* an add or an update cannot write the files field */
	assert_int_equal(add(e, "inspections/answers", NULL,
			     (const char *[]){"item=IC-0001", "section=johoseisaku", "answer=実施",
					      "evidence_files=x.pdf (20261207-0000abcd)", NULL}),
			 SK_EINVAL);
	assert_true(problem(e, "evidence_files", "Attach a file"));
	bool changed = true;
	assert_int_equal(update(e, "inspections/answers", ans,
				(const char *[]){"証跡ファイル=x.pdf (20261207-0000abcd)", NULL}, &changed),
			 SK_EINVAL);
	assert_false(changed);
	/* attach: appended as "NAME (ID)", once */
	assert_int_equal(sk_ledger_attach(e->l, "inspections/answers", ans, 0, "evidence_files",
					  "20261207-3fa9c2d1", "バックアップ記録.xlsx", "suzuki", &e->err),
			 0);
	assert_int_equal(sk_ledger_attach(e->l, "inspections/answers", ans, 0, "evidence_files",
					  "20261207-00000001", "手順書.pdf", "suzuki", &e->err),
			 0);
	assert_int_equal(sk_ledger_attach(e->l, "inspections/answers", ans, 0, "evidence_files",
					  "20261207-3fa9c2d1", "again.xlsx", "suzuki", &e->err),
			 0);
	assert_string_equal(value(e, "inspections/answers", ans, "evidence_files", b, sizeof(b)),
			    "バックアップ記録.xlsx (20261207-3fa9c2d1)\n手順書.pdf (20261207-00000001)");
	assert_true(sk_ledger_files_has(b, "20261207-00000001"));
	assert_false(sk_ledger_files_has(b, "20261207-00000002"));
	assert_false(sk_ledger_files_has(b, "3fa9c2d1"));
	/* refused: not a files field, a bad id, a bad name, no such record */
	assert_int_equal(sk_ledger_attach(e->l, "inspections/answers", ans, 0, "comment",
					  "20261207-3fa9c2d2", "a.pdf", "suzuki", &e->err),
			 SK_EINVAL);
	assert_int_equal(sk_ledger_attach(e->l, "inspections/answers", ans, 0, "evidence_files",
					  "2026127-3fa9c2d2", "a.pdf", "suzuki", &e->err),
			 SK_EINVAL);
	assert_int_equal(sk_ledger_attach(e->l, "inspections/answers", ans, 0, "evidence_files",
					  "20261207-3FA9C2D2", "a.pdf", "suzuki", &e->err),
			 SK_EINVAL);
	assert_int_equal(sk_ledger_attach(e->l, "inspections/answers", ans, 0, "evidence_files",
					  "20261207-3fa9c2d2", "a\nb.pdf", "suzuki", &e->err),
			 SK_EINVAL);
	assert_int_equal(sk_ledger_attach(e->l, "inspections/answers", "IA-0099", 0, "evidence_files",
					  "20261207-3fa9c2d2", "a.pdf", "suzuki", &e->err),
			 SK_ENOTFOUND);
	/* versions: the stored one passes, an older one is a conflict and changes nothing */
	sk_ledger_record rec;
	assert_int_equal(sk_ledger_get(e->l, "inspections/answers", ans, &rec, &e->err), 0);
	int64_t v = rec.version;
	sk_ledger_record_free(&rec);
	assert_int_equal(v, 3); /* added, two files */
	sk_ledger_kv kv[] = {{"comment", "月次で確認"}};
	assert_int_equal(sk_ledger_update(e->l, "inspections/answers", ans, v - 1, kv, 1, "suzuki",
					  &changed, &e->pr, &e->err),
			 SK_ECONFLICT);
	assert_false(changed);
	assert_int_equal(sk_ledger_update(e->l, "inspections/answers", ans, v, kv, 1, "suzuki",
					  &changed, &e->pr, &e->err),
			 0);
	assert_true(changed);
	assert_int_equal(sk_ledger_update(e->l, "inspections/answers", ans, v, kv, 1, "suzuki",
					  &changed, &e->pr, &e->err),
			 SK_ECONFLICT);
	assert_int_equal(sk_ledger_detach(e->l, "inspections/answers", ans, v, "evidence_files",
					  "20261207-3fa9c2d1", "suzuki", &e->err),
			 SK_ECONFLICT);
	/* detach: the line goes, the other stays */
	assert_int_equal(sk_ledger_detach(e->l, "inspections/answers", ans, v + 1, "evidence_files",
					  "20261207-3fa9c2d1", "suzuki", &e->err),
			 0);
	assert_string_equal(value(e, "inspections/answers", ans, "evidence_files", b, sizeof(b)),
			    "手順書.pdf (20261207-00000001)");
	assert_int_equal(sk_ledger_detach(e->l, "inspections/answers", ans, 0, "evidence_files",
					  "20261207-3fa9c2d1", "suzuki", &e->err),
			 SK_ENOTFOUND);
	/* an import ignores the column (the export's file list) and keeps the files */
	size_t added = 0, updated = 0;
	const char *csv = "ID,結果,コメント,証跡ファイル\r\nIA-0001,一部,月次,偽物.pdf (20261207-99999999)\r\n";
	sk_ledger_problems_free(&e->pr);
	sk_ledger_problems_init(&e->pr);
	assert_int_equal(sk_ledger_import_csv(e->l, "inspections/answers", (const uint8_t *)csv,
					      strlen(csv), "tanaka", &added, &updated, &e->pr, &e->err),
			 0);
	assert_int_equal(updated, 1);
	assert_string_equal(value(e, "inspections/answers", ans, "evidence_files", b, sizeof(b)),
			    "手順書.pdf (20261207-00000001)");
	/* the limit: attaching stops before the field passes SK_LEDGER_VALUE_MAX */
	int rc = 0;
	char qid[32], name[300];
	memset(name, 'n', 200);
	name[200] = 0;
	for (int i = 0; i < 40 && rc == 0; i++) {
		snprintf(qid, sizeof(qid), "20261208-%08x", (unsigned)i);
		rc = sk_ledger_attach(e->l, "inspections/answers", ans, 0, "evidence_files", qid, name,
				      "suzuki", &e->err);
	}
	assert_int_equal(rc, SK_ELIMIT);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(assets_scales),
		cmocka_unit_test(policy_chain),
		cmocka_unit_test(incidents_chain),
		cmocka_unit_test(exceptions_expiry),
		cmocka_unit_test(entries_contractors),
		cmocka_unit_test(training_inspections_laws),
		cmocka_unit_test(limits),
		cmocka_unit_test(csv_import),
		cmocka_unit_test(gate_events),
		cmocka_unit_test(gate_assets),
		cmocka_unit_test(files_private),
		cmocka_unit_test(attached_files_and_versions),
		cmocka_unit_test(requirements),
		cmocka_unit_test(checklist_generate),
		cmocka_unit_test(roster_from_policy),
		cmocka_unit_test(training_missing),
		cmocka_unit_test(charts),
		cmocka_unit_test(reminders),
		cmocka_unit_test(reminders_migration),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
