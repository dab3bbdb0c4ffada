/* The policy file: each checker rule with its line and column, decisions, the nftables
 * ruleset, and the policy step of sk_process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sekisho/policy.h"
#include "testutil.h"

/* 14 lines; flows start on line 15 */
static const char BASE[] =
	"version: 1\n"                                                  /* 1 */
	"zones:\n"                                                      /* 2 */
	"  mynumber:\n"                                                 /* 3 */
	"    networks: [192.0.2.0/25]\n"                                /* 4 */
	"    gateway: { interface: sk-myn, address: 192.0.2.1 }\n"      /* 5 */
	"  lgwan:\n"                                                    /* 6 */
	"    networks: [198.51.100.0/24]\n"                             /* 7 */
	"    gateway: { interface: sk-lgwan, address: 198.51.100.1 }\n" /* 8 */
	"  internet:\n"                                                 /* 9 */
	"    networks: [203.0.113.0/24]\n"                              /* 10 */
	"    gateway: { interface: sk-inet, address: 203.0.113.1 }\n"   /* 11 */
	"users:\n"                                                      /* 12 */
	"  - { id: kanri, roles: [security-manager, ciso] }\n"          /* 13 */
	"flows:\n";                                                     /* 14 */

static int parse(const char *extra, const char *today, sk_policy **p, sk_policy_diags *d)
{
	sk_buf b;
	sk_buf_init(&b, 0);
	sk_buf_adds(&b, BASE);
	sk_buf_adds(&b, extra);
	sk_policy_diags_init(d);
	sk_error err;
	int rc = sk_policy_parse((const char *)b.data, b.len, sk_policy_date_parse(today), p, d, &err);
	sk_buf_free(&b);
	return rc;
}

static void dump(const sk_policy_diags *d)
{
	sk_buf out;
	sk_buf_init(&out, 0);
	sk_policy_diags_format(d, "t.yaml", SK_LANG_EN, &out);
	for (char *line = strtok((char *)out.data, "\n"); line; line = strtok(NULL, "\n"))
		printf("# %s\n", line);
	sk_buf_free(&out);
}

static bool has(const sk_policy_diags *d, const char *code, uint32_t line, uint32_t col)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].code, code) && d->v[i].line == line && d->v[i].col == col)
			return true;
	dump(d);
	return false;
}

/* parse, expect exactly the given error/warning counts, and one diagnostic code@line:col */
static void expect(const char *extra, const char *today, size_t errors, size_t warnings,
		   const char *code, uint32_t line, uint32_t col)
{
	sk_policy *p = NULL;
	sk_policy_diags d;
	int rc = parse(extra, today, &p, &d);
	if (d.errors != errors || d.warnings != warnings)
		dump(&d);
	assert_int_equal(d.errors, errors);
	assert_int_equal(d.warnings, warnings);
	assert_int_equal(rc, errors ? SK_EFORMAT : 0);
	assert_true(errors ? p == NULL : p != NULL);
	if (code)
		assert_true(has(&d, code, line, col));
	sk_policy_free(p);
	sk_policy_diags_free(&d);
}

static const char *const FLOW_MYN =
	"  - id: myn-lgwan\n"                /* 15 */
	"    from: mynumber\n"               /* 16 */
	"    to: lgwan\n"                    /* 17 */
	"    action: { sanitize: default }\n"; /* 18 */

static const char *const EXC =
	"    exception:\n"                   /* 19 */
	"      id: EX-1\n"                   /* 20 */
	"      reason: 税務システム連携\n"   /* 21 */
	"      approver: ciso\n"             /* 22 */
	"      expires: 2025-12-31\n";       /* 23 */

static void minimal_and_default_files(void **state)
{
	(void)state;
	expect("  - { from: internet, to: lgwan, channel: mail, action: { sanitize: default } }\n",
	       "2025-01-01", 0, 0, NULL, 0, 0);
	sk_policy *p = NULL;
	sk_policy_diags d;
	sk_policy_diags_init(&d);
	sk_error err;
	int rc = sk_policy_load(tu_src("examples/policy/default.yaml"), sk_policy_date_parse("2025-01-01"),
				&p, &d, &err);
	if (rc || d.n)
		dump(&d);
	assert_int_equal(rc, 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(sk_policy_retention_days(p, "quarantine"), 90);
	assert_int_equal(sk_policy_retention_days(p, "audit"), 5 * 365);
	assert_string_equal(sk_policy_role_name(p, "security-manager", SK_LANG_JA), "情報セキュリティ管理者");
	sk_policy_free(p);
	sk_policy_diags_free(&d);
}

static void rule_mynumber_exception(void **state)
{
	(void)state;
	/* no exception: error at the action value (line 18, column 13) */
	expect(FLOW_MYN, "2025-06-01", 1, 0, "E-FLOW-MYNUMBER-NO-EXCEPTION", 18, 13);
	/* into mynumber, and `from: any`, need one too */
	expect("  - id: in\n    from: lgwan\n    to: mynumber\n    action: allow\n", "2025-06-01", 1, 0,
	       "E-FLOW-MYNUMBER-NO-EXCEPTION", 18, 13);
	expect("  - id: any\n    from: any\n    to: lgwan\n    action: { sanitize: default }\n",
	       "2025-06-01", 1, 0, "E-FLOW-MYNUMBER-NO-EXCEPTION", 18, 13);
	expect("  - id: all\n    from: any\n    to: any\n    action: { sanitize: default }\n",
	       "2025-06-01", 1, 0, "E-FLOW-MYNUMBER-NO-EXCEPTION", 18, 13);
	/* inside the zone is no crossing */
	expect("  - { from: mynumber, to: mynumber, action: { sanitize: default } }\n", "2025-06-01", 0, 0,
	       NULL, 0, 0);
	/* deny needs none */
	expect("  - { from: mynumber, to: any, action: deny }\n", "2025-06-01", 0, 0, NULL, 0, 0);
	char t[1024];
	snprintf(t, sizeof(t), "%s%s", FLOW_MYN, EXC);
	/* valid exception */
	expect(t, "2025-06-01", 0, 0, NULL, 0, 0);
	/* expiring within 30 days: warning at the expires value (line 23, column 16) */
	expect(t, "2025-12-15", 0, 1, "W-EXCEPTION-EXPIRING", 23, 16);
	/* the last day is still valid; the day after is expired */
	expect(t, "2025-12-31", 0, 1, "W-EXCEPTION-EXPIRING", 23, 16);
	expect(t, "2026-01-01", 1, 0, "E-EXCEPTION-EXPIRED", 23, 16);
	/* incomplete exception: missing key at the exception mapping (line 20, column 7) */
	snprintf(t, sizeof(t), "%s    exception:\n      id: EX-1\n      reason: r\n      expires: 2025-12-31\n",
		 FLOW_MYN);
	expect(t, "2025-06-01", 1, 0, "E-KEY-MISSING", 20, 7);
	/* not a real date */
	snprintf(t, sizeof(t), "%s    exception:\n      id: EX-1\n      reason: r\n      approver: ciso\n"
		 "      expires: 2025-02-30\n", FLOW_MYN);
	expect(t, "2025-01-01", 1, 0, "E-DATE-INVALID", 23, 16);
	/* the date parser itself: an SK_E* code, never a bare -1 (DESIGN §5) */
	assert_int_equal(sk_policy_date_parse("2025-02-30"), SK_EINVAL);
	assert_int_equal(sk_policy_date_parse("2025-1-01"), SK_EINVAL);
	assert_int_equal(sk_policy_date_parse(NULL), SK_EINVAL);
	assert_int_equal(sk_policy_date_parse("2024-02-29"), 20240229);
	/* an unknown approver */
	snprintf(t, sizeof(t), "%s    exception:\n      id: EX-1\n      reason: r\n      approver: mayor\n"
		 "      expires: 2025-12-31\n", FLOW_MYN);
	expect(t, "2025-01-01", 1, 0, "E-ROLE-UNKNOWN", 22, 17);
	/* an exception where none is needed */
	expect("  - id: x\n    from: internet\n    to: lgwan\n    action: deny\n"
	       "    exception: { id: E, reason: r, approver: ciso, expires: 2025-12-31 }\n",
	       "2025-01-01", 0, 1, "W-EXCEPTION-UNNEEDED", 19, 16);
}

static void rule_internet_lgwan(void **state)
{
	(void)state;
#define F_IL "  - id: x\n    from: internet\n    to: lgwan\n    action: %s\n"
	char t[256];
	snprintf(t, sizeof(t), F_IL, "{ hold: security-manager }");
	expect(t, "2025-01-01", 1, 0, "E-FLOW-INTERNET-LGWAN-ACTION", 18, 13);
	snprintf(t, sizeof(t), F_IL, "allow");
	expect(t, "2025-01-01", 1, 0, "E-FLOW-INTERNET-LGWAN-ACTION", 18, 13);
	snprintf(t, sizeof(t), F_IL, "{ sanitize: strict }");
	expect(t, "2025-01-01", 0, 0, NULL, 0, 0);
	snprintf(t, sizeof(t), F_IL, "deny");
	expect(t, "2025-01-01", 0, 0, NULL, 0, 0);
}

static void rule_allow_cross(void **state)
{
	(void)state;
	expect("  - id: x\n    from: lgwan\n    to: internet\n    action: allow\n", "2025-01-01", 1, 0,
	       "E-FLOW-ALLOW-CROSS", 18, 13);
	const char *cloud = "clouds:\n  groupware:\n    networks: [192.0.2.128/25]\n";
	char t[512];
	snprintf(t, sizeof(t), "  - id: x\n    from: lgwan\n    to: groupware\n    action: allow\n%s", cloud);
	expect(t, "2025-01-01", 0, 0, NULL, 0, 0);
	snprintf(t, sizeof(t), "  - id: x\n    from: internet\n    to: groupware\n    action: allow\n%s", cloud);
	expect(t, "2025-01-01", 1, 0, "E-FLOW-ALLOW-CROSS", 18, 13);
	/* a cloud is a destination only */
	snprintf(t, sizeof(t), "  - id: x\n    from: groupware\n    to: lgwan\n    action: deny\n%s", cloud);
	expect(t, "2025-01-01", 1, 0, "E-CLOUD-AS-SOURCE", 16, 11);
}

static void names_and_keys(void **state)
{
	(void)state;
	/* unknown zone at the `to` value, unknown channel */
	expect("  - id: x\n    from: lgwan\n    to: lgwn\n    action: deny\n", "2025-01-01", 1, 0,
	       "E-ZONE-UNKNOWN", 17, 9);
	expect("  - id: x\n    from: lgwan\n    to: internet\n    channel: fax\n    action: deny\n",
	       "2025-01-01", 1, 0, "E-CHANNEL-UNKNOWN", 18, 14);
	/* a typo: the unknown key, and the missing action at the flow (line 15, column 5) */
	sk_policy *p = NULL;
	sk_policy_diags d;
	assert_int_equal(parse("  - id: x\n    from: lgwan\n    to: internet\n    acton: deny\n", "2025-01-01",
			       &p, &d), SK_EFORMAT);
	assert_true(has(&d, "E-KEY-UNKNOWN", 18, 5));
	assert_true(has(&d, "E-KEY-MISSING", 15, 5));
	sk_policy_diags_free(&d);
	/* unknown profile and role at their values; a role nobody has */
	expect("  - id: x\n    from: lgwan\n    to: internet\n    action: { sanitize: nosuch }\n",
	       "2025-01-01", 1, 0, "E-PROFILE-UNKNOWN", 18, 25);
	expect("  - id: x\n    from: lgwan\n    to: internet\n    action: { hold: nobody }\n",
	       "2025-01-01", 1, 0, "E-ROLE-UNKNOWN", 18, 21);
	expect("  - id: x\n    from: lgwan\n    to: internet\n    action: { hold: auditor }\n",
	       "2025-01-01", 0, 1, "W-ROLE-NO-USER", 18, 21);
	/* an invalid action */
	expect("  - id: x\n    from: lgwan\n    to: internet\n    action: maybe\n", "2025-01-01", 1, 0,
	       "E-ACTION-INVALID", 18, 13);
	/* a shadowed flow */
	expect("  - { from: any, to: any, action: deny }\n  - { from: lgwan, to: internet, channel: mail, action: deny }\n",
	       "2025-01-01", 0, 1, "W-FLOW-SHADOWED", 16, 5);
	/* a duplicate flow id */
	expect("  - { id: a, from: lgwan, to: internet, channel: mail, action: deny }\n"
	       "  - { id: a, from: lgwan, to: internet, channel: file, action: deny }\n",
	       "2025-01-01", 1, 0, "E-ID-DUPLICATE", 16, 11);
}

static void check_text(const char *text, size_t errors, const char *code, uint32_t line, uint32_t col)
{
	sk_policy *p = NULL;
	sk_policy_diags d;
	sk_policy_diags_init(&d);
	sk_error err;
	int rc = sk_policy_parse(text, strlen(text), sk_policy_date_parse("2025-01-01"), &p, &d, &err);
	if (d.errors != errors)
		dump(&d);
	assert_int_equal(d.errors, errors);
	assert_int_equal(rc, errors ? SK_EFORMAT : 0);
	if (code)
		assert_true(has(&d, code, line, col));
	sk_policy_free(p);
	sk_policy_diags_free(&d);
}

/* BASE with one piece replaced */
static void check_variant(const char *from, const char *to, const char *code, uint32_t line,
			  uint32_t col)
{
	char t[2048];
	const char *at = strstr(BASE, from);
	assert_non_null(at);
	snprintf(t, sizeof(t), "%.*s%s%s  - { from: any, to: any, action: deny }\n", (int)(at - BASE),
		 BASE, to, at + strlen(from));
	check_text(t, 1, code, line, col);
}

static void zones_and_networks(void **state)
{
	(void)state;
	check_variant("[198.51.100.0/24]", "[198.51.100.0/33]", "E-CIDR-INVALID", 7, 16);
	check_variant("[198.51.100.0/24]", "[198.51.100.7/24]", "E-CIDR-INVALID", 7, 16);
	check_variant("[198.51.100.0/24]", "[198.51.100.0/24, 192.0.2.0/24]", "E-CIDR-OVERLAP", 7, 33);
	check_variant("address: 198.51.100.1", "address: 198.51.101.1", "E-GATEWAY-NOT-IN-ZONE", 8, 46);
	check_variant("interface: sk-lgwan", "interface: sk-inet", "E-INTERFACE-DUPLICATE", 9, 3);
	check_variant("interface: sk-lgwan", "interface: this-name-is-too-long", "E-INTERFACE-INVALID", 8, 27);
	check_variant("  lgwan:\n", "  lgwan2:\n", "E-ZONE-MISSING", 3, 3);
	check_variant("version: 1", "version: 2", "E-VERSION", 1, 10);
	/* YAML problems */
	check_text("version: 1\nversion: 1\n", 2, "E-KEY-DUPLICATE", 2, 1);
	check_text("version: 1\nzones: [\n", 1, "E-YAML-SYNTAX", 3, 1);
	char t[2048];
	snprintf(t, sizeof(t), "%s  - &f { from: lgwan, to: internet, action: deny }\n  - *f\n", BASE);
	check_text(t, 1, "E-YAML-ALIAS", 16, 5);
	check_text("", 1, "E-TYPE", 1, 1);
	/* nesting limit */
	sk_buf b;
	sk_buf_init(&b, 0);
	for (int i = 0; i < 40; i++)
		sk_buf_adds(&b, "[");
	check_text((const char *)b.data, 1, "E-YAML-LIMIT", 1, 33);
	sk_buf_free(&b);
	/* size limit */
	size_t big = SK_POLICY_MAX_BYTES + 1;
	char *x = malloc(big);
	assert_non_null(x);
	memset(x, '#', big);
	sk_policy *p = NULL;
	sk_error err;
	assert_int_equal(sk_policy_parse(x, big, 0, &p, NULL, &err), SK_ELIMIT);
	free(x);
}

static void sections(void **state)
{
	(void)state;
	char t[2048];
	const char *deny = "  - { from: any, to: any, action: deny }\n";
	snprintf(t, sizeof(t), "%sdlp:\n  patterns:\n    - { id: x, regex: \"([0-9]\" }\n", deny);
	expect(t, "2025-01-01", 1, 0, "E-DLP-REGEX", 18, 23);
	snprintf(t, sizeof(t), "%sdlp:\n  default: { mynumber: shred }\n", deny);
	expect(t, "2025-01-01", 1, 0, "E-DLP-ACTION", 17, 24);
	snprintf(t, sizeof(t), "%sretention:\n  audit: 5 years\n", deny);
	expect(t, "2025-01-01", 1, 0, "E-RETENTION-INVALID", 17, 10);
	snprintf(t, sizeof(t),
		 "%sclassification:\n  dimensions:\n    機密性:\n      levels: [\"3\", \"2\", \"1\"]\n"
		 "      default: \"4\"\n",
		 deny);
	expect(t, "2025-01-01", 1, 0, "E-CLASS-LEVEL-UNKNOWN", 20, 16);
	snprintf(t, sizeof(t),
		 "%sclassification:\n  dimensions:\n    機密性:\n      levels: [\"3\", \"2\", \"1\"]\n"
		 "      handling:\n        - { at_least: \"2\", to: internet, action: { sanitize: default } }\n",
		 deny);
	expect(t, "2025-01-01", 1, 0, "E-ACTION-INVALID", 21, 50);
	snprintf(t, sizeof(t), "%sprofiles:\n  p1: { base: strict, keep_comments: yes }\n", deny);
	expect(t, "2025-01-01", 1, 0, "E-TYPE", 17, 38);
	/* legacy formats per family: convert | image | block */
	snprintf(t, sizeof(t), "%sprofiles:\n  p1: { legacy: { doc: keep } }\n", deny);
	expect(t, "2025-01-01", 1, 0, "E-VALUE-INVALID", 17, 24);
	snprintf(t, sizeof(t), "%sprofiles:\n  p1: { legacy: { docx: block } }\n", deny);
	expect(t, "2025-01-01", 1, 0, "E-KEY-UNKNOWN", 17, 19);
	snprintf(t, sizeof(t), "%sprofiles:\n  p1: { legacy: [doc] }\n", deny);
	expect(t, "2025-01-01", 1, 0, "E-TYPE", 17, 17);
	{
		snprintf(t, sizeof(t),
			 "%sprofiles:\n  p1: { base: strict, legacy: { rtf: block, odf: image } }\n",
			 deny);
		sk_policy *lp = NULL;
		sk_policy_diags ld;
		assert_int_equal(parse(t, "2025-01-01", &lp, &ld), 0);
		const sk_profile *pr = sk_policy_profile(lp, "p1");
		assert_non_null(pr);
		assert_int_equal(pr->legacy[SK_LEGACY_RTF], SK_LEGACY_BLOCK);
		assert_int_equal(pr->legacy[SK_LEGACY_ODF], SK_LEGACY_IMAGE);
		assert_int_equal(pr->legacy[SK_LEGACY_DOC], SK_LEGACY_CONVERT);
		assert_false(pr->keep_comments); /* the rest from its base */
		assert_false(pr->pdf_image);
		assert_true(pr->damaged_pdf_image);
		sk_policy_diags_free(&ld);
		sk_policy_free(lp);
	}
	/* 画像化: pdf and ooxml rebuild|image, damaged_pdf image|block, image options; the
	 * built-in image profile as a base and in a flow */
	snprintf(t, sizeof(t), "%sprofiles:\n  p1: { pdf: pixels }\n", deny);
	expect(t, "2025-01-01", 1, 0, "E-VALUE-INVALID", 17, 14);
	snprintf(t, sizeof(t), "%sprofiles:\n  p1: { image: { dpi: 5000 } }\n", deny);
	expect(t, "2025-01-01", 1, 0, "E-TYPE", 17, 23);
	snprintf(t, sizeof(t), "%sprofiles:\n  p1: { image: { pages: 3 } }\n", deny);
	expect(t, "2025-01-01", 1, 0, "E-KEY-UNKNOWN", 17, 18);
	{
		snprintf(t, sizeof(t),
			 "%sprofiles:\n  p1: { pdf: image, ooxml: image, damaged_pdf: block,"
			 " image: { dpi: 200, max_pages: 30 } }\n  p2: { base: image, ooxml: rebuild }\n",
			 deny);
		sk_policy *lp = NULL;
		sk_policy_diags ld;
		assert_int_equal(parse(t, "2025-01-01", &lp, &ld), 0);
		const sk_profile *pr = sk_policy_profile(lp, "p1");
		assert_true(pr->pdf_image && pr->ooxml_image && !pr->damaged_pdf_image);
		assert_int_equal(pr->image_dpi, 200);
		assert_int_equal(pr->image_max_pages, 30);
		assert_int_equal(pr->legacy[SK_LEGACY_DOC], SK_LEGACY_CONVERT);
		pr = sk_policy_profile(lp, "p2");
		assert_true(pr->pdf_image && !pr->ooxml_image && pr->damaged_pdf_image);
		assert_int_equal(pr->legacy[SK_LEGACY_XLS], SK_LEGACY_IMAGE);
		pr = sk_policy_profile(lp, "image"); /* the built-in one, for flows */
		assert_non_null(pr);
		assert_string_equal(pr->name, "image");
		sk_policy_diags_free(&ld);
		sk_policy_free(lp);
	}
	snprintf(t, sizeof(t), "%sroles:\n  staff: { name: 職員 }\n", deny);
	/* custom roles without security-manager: the default class rules cannot name it */
	sk_policy *p = NULL;
	sk_policy_diags d;
	assert_int_equal(parse(t, "2025-01-01", &p, &d), SK_EFORMAT);
	assert_true(has(&d, "E-ROLE-UNKNOWN", 13, 26));
	assert_true(has(&d, "E-ROLE-UNKNOWN", 1, 1)); /* users[0] names security-manager */
	sk_policy_diags_free(&d);
}

static void format_languages(void **state)
{
	(void)state;
	sk_policy *p = NULL;
	sk_policy_diags d;
	assert_int_equal(parse(FLOW_MYN, "2025-01-01", &p, &d), SK_EFORMAT);
	sk_buf ja, en;
	sk_buf_init(&ja, 0);
	sk_buf_init(&en, 0);
	assert_int_equal(sk_policy_diags_format(&d, "p.yaml", SK_LANG_JA, &ja), 0);
	assert_int_equal(sk_policy_diags_format(&d, "p.yaml", SK_LANG_EN, &en), 0);
	assert_non_null(strstr(sk_buf_str(&ja), "p.yaml:18:13: E-FLOW-MYNUMBER-NO-EXCEPTION: "));
	assert_non_null(strstr(sk_buf_str(&ja), "例外措置"));
	assert_non_null(strstr(sk_buf_str(&ja), "エラー 1 件、警告 0 件"));
	assert_non_null(strstr(sk_buf_str(&en), "p.yaml:18:13: E-FLOW-MYNUMBER-NO-EXCEPTION: a flow involving mynumber"));
	assert_non_null(strstr(sk_buf_str(&en), "1 error, 0 warnings"));
	sk_buf_free(&ja);
	sk_buf_free(&en);
	sk_policy_diags_free(&d);
}

static sk_policy *load_default(void)
{
	sk_policy *p = NULL;
	sk_error err;
	assert_int_equal(sk_policy_load(tu_src("examples/policy/default.yaml"),
					sk_policy_date_parse("2025-01-01"), &p, NULL, &err), 0);
	return p;
}

static void decisions(void **state)
{
	(void)state;
	sk_policy *p = load_default();
	sk_policy_decision d;
	sk_error err;
	int32_t today = sk_policy_date_parse("2025-01-01");
	assert_int_equal(sk_policy_decide(p, "internet", "lgwan", "mail", NULL, today, &d, &err), 0);
	assert_int_equal(d.action, SK_FLOW_SANITIZE);
	assert_string_equal(d.profile, "mail-standard");
	assert_string_equal(d.rule, "flows[2] internet-lgwan-mail");
	assert_true(d.line > 0);
	assert_int_equal(sk_policy_decide(p, "internet", "lgwan", "web", NULL, today, &d, &err), 0);
	assert_int_equal(d.action, SK_FLOW_DENY);
	/* 機密性 default 2: outbound to internet is held by the class rule */
	assert_int_equal(sk_policy_decide(p, "lgwan", "internet", "mail", NULL, today, &d, &err), 0);
	assert_int_equal(d.action, SK_FLOW_HOLD);
	assert_string_equal(d.role, "security-manager");
	assert_string_equal(d.rule, "classification 機密性 >= 2");
	assert_string_equal(d.flow_rule, "flows[5] lgwan-internet-mail");
	assert_int_equal(d.dlp[SK_DLP_MYNUMBER], SK_DLP_ACTION_BLOCK);
	/* 機密性1: the flow's own sanitize */
	assert_int_equal(sk_policy_decide(p, "lgwan", "internet", "mail", "機密性1", today, &d, &err), 0);
	assert_int_equal(d.action, SK_FLOW_SANITIZE);
	assert_string_equal(d.profile, "file-strict");
	assert_int_equal(sk_policy_decide(p, "lgwan", "internet", "mail", "1", today, &d, &err), 0);
	assert_int_equal(d.action, SK_FLOW_SANITIZE);
	/* 3A never leaves its zone */
	assert_int_equal(sk_policy_decide(p, "lgwan", "internet", "mail", "機密性:3A", today, &d, &err), 0);
	assert_int_equal(d.action, SK_FLOW_DENY);
	assert_string_equal(d.rule, "classification 機密性 >= 3A");
	assert_int_equal(sk_policy_decide(p, "internet", "lgwan", "file", "3A", today, &d, &err), 0);
	assert_int_equal(d.action, SK_FLOW_DENY);
	/* mynumber, and a route no flow names */
	assert_int_equal(sk_policy_decide(p, "mynumber", "lgwan", "file", NULL, today, &d, &err), 0);
	assert_int_equal(d.action, SK_FLOW_DENY);
	assert_string_equal(d.rule, "flows[0] mynumber-out");
	assert_int_equal(sk_policy_decide(p, "lgwan", "mynumber", "file", NULL, today, &d, &err), 0);
	assert_int_equal(d.action, SK_FLOW_DENY);
	assert_int_equal(sk_policy_decide(p, "lgwan", "internet", "web", "1", today, &d, &err), 0);
	assert_int_equal(d.action, SK_FLOW_DENY);
	assert_string_equal(d.rule, "default-deny");
	assert_int_equal(d.line, 0);
	/* bad requests */
	assert_int_equal(sk_policy_decide(p, "dmz", "lgwan", "file", NULL, today, &d, &err), SK_EINVAL);
	assert_int_equal(sk_policy_decide(p, "lgwan", "internet", "fax", NULL, today, &d, &err), SK_EINVAL);
	assert_int_equal(sk_policy_decide(p, "lgwan", "internet", "file", "機密性9", today, &d, &err), SK_EINVAL);
	sk_policy_free(p);

	/* an exception that expires after loading: the flow is denied from the next day */
	char t[1024];
	snprintf(t, sizeof(t), "%s%s", FLOW_MYN, EXC);
	sk_policy_diags dg;
	assert_int_equal(parse(t, "2025-06-01", &p, &dg), 0);
	sk_policy_diags_free(&dg);
	assert_int_equal(sk_policy_decide(p, "mynumber", "lgwan", "file", "1", sk_policy_date_parse("2025-12-31"), &d, &err), 0);
	assert_int_equal(d.action, SK_FLOW_SANITIZE);
	assert_non_null(strstr(d.note, "EX-1"));
	assert_int_equal(sk_policy_decide(p, "mynumber", "lgwan", "file", "1", sk_policy_date_parse("2026-01-01"), &d, &err), 0);
	assert_int_equal(d.action, SK_FLOW_DENY);
	assert_non_null(strstr(d.note, "expired"));
	sk_policy_free(p);
}

static int nft_check(const char *text)
{
	if (geteuid() != 0 || access("/usr/sbin/nft", X_OK) != 0)
		return -1;
	char path[] = "/tmp/sekisho-nft-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "/usr/sbin/nft -c -f %s >/dev/null 2>&1", path);
	int rc = system(cmd);
	unlink(path);
	return rc;
}

static void nftables(void **state)
{
	(void)state;
	sk_policy *p = load_default();
	sk_buf out;
	sk_buf_init(&out, 0);
	sk_error err;
	assert_int_equal(sk_policy_nft(p, sk_policy_date_parse("2025-01-01"), &out, &err), 0);
	const char *s = sk_buf_str(&out);
	assert_non_null(strstr(s, "table inet sekisho {"));
	assert_non_null(strstr(s, "type filter hook input priority filter; policy drop;"));
	assert_non_null(strstr(s, "type filter hook forward priority filter; policy drop;"));
	assert_non_null(strstr(s, "type filter hook output priority filter; policy drop;"));
	assert_non_null(strstr(s, "iifname \"sk-inet\" ip saddr { 203.0.113.0/24 } ip daddr 203.0.113.1 tcp dport { 25, 443 } accept"));
	assert_non_null(strstr(s, "iifname \"sk-lgwan\" ip saddr { 198.51.100.0/24 } ip daddr 198.51.100.1 tcp dport { 25, 443 } accept"));
	assert_null(strstr(s, "iifname \"sk-myn\""));
	assert_null(strstr(s, "oifname \"sk-myn\""));
	assert_null(strstr(s, "3128")); /* no flow needs the web listener */
	const char *fw = strstr(s, "chain forward");
	assert_non_null(fw);
	const char *fw_end = strstr(fw, "\t}\n");
	assert_null(memmem(fw, (size_t)(fw_end - fw), "accept", 6));
	int rc = nft_check(s);
	if (rc >= 0)
		assert_int_equal(rc, 0);
	else
		printf("# nft -c skipped (not root or no nft)\n");
	sk_buf_free(&out);
	sk_policy_free(p);

	/* an exception opens the mynumber zone's file listener until it expires */
	char t[1024];
	snprintf(t, sizeof(t), "%s%s    channel: file\n", FLOW_MYN, EXC);
	sk_policy_diags dg;
	assert_int_equal(parse(t, "2025-06-01", &p, &dg), 0);
	sk_policy_diags_free(&dg);
	sk_buf_init(&out, 0);
	assert_int_equal(sk_policy_nft(p, sk_policy_date_parse("2025-06-01"), &out, &err), 0);
	assert_non_null(strstr(sk_buf_str(&out), "iifname \"sk-myn\" ip saddr { 192.0.2.0/25 } ip daddr 192.0.2.1 tcp dport { 443 } accept"));
	rc = nft_check(sk_buf_str(&out));
	if (rc >= 0)
		assert_int_equal(rc, 0);
	sk_buf_reset(&out);
	assert_int_equal(sk_policy_nft(p, sk_policy_date_parse("2026-01-01"), &out, &err), 0);
	assert_null(strstr(sk_buf_str(&out), "iifname \"sk-myn\""));
	sk_buf_free(&out);
	sk_policy_free(p);

	/* names are free text: a line break in one cannot add a rule; a full buffer fails */
	char inj[2048];
	const char *at = strstr(BASE, "  lgwan:\n");
	snprintf(inj, sizeof(inj), "%.*s  lgwan:\n    name: \"x\\n\\t\\tip saddr 0.0.0.0/0 accept\"\n%s"
		 "  - { from: internet, to: lgwan, channel: file, action: { sanitize: default } }\n",
		 (int)(at - BASE), BASE, at + strlen("  lgwan:\n"));
	assert_int_equal(sk_policy_parse(inj, strlen(inj), sk_policy_date_parse("2025-06-01"), &p, NULL, &err), 0);
	sk_buf_init(&out, 0);
	assert_int_equal(sk_policy_nft(p, sk_policy_date_parse("2025-06-01"), &out, &err), 0);
	assert_null(strstr(sk_buf_str(&out), "\n\t\tip saddr 0.0.0.0/0 accept"));
	assert_non_null(strstr(sk_buf_str(&out), "# zone lgwan (x   ip saddr 0.0.0.0/0 accept)"));
	sk_buf_free(&out);
	sk_buf_init(&out, 200);
	assert_int_not_equal(sk_policy_nft(p, sk_policy_date_parse("2025-06-01"), &out, &err), 0);
	sk_buf_free(&out);
	sk_policy_free(p);

	/* IPv6 zones */
	const char *v6 =
		"version: 1\nzones:\n"
		"  mynumber: { networks: [\"2001:db8:1::/64\"], gateway: { interface: m0, address: \"2001:db8:1::1\" } }\n"
		"  lgwan: { networks: [\"2001:db8:2::/64\"], gateway: { interface: l0, address: \"2001:db8:2::1\" } }\n"
		"  internet: { networks: [\"2001:db8:3::/64\", 203.0.113.0/24], gateway: { interface: i0, address: \"2001:db8:3::1\" } }\n"
		"flows:\n  - { from: internet, to: lgwan, channel: mail, action: { sanitize: default } }\n";
	assert_int_equal(sk_policy_parse(v6, strlen(v6), sk_policy_date_parse("2025-06-01"), &p, NULL, &err), 0);
	sk_buf_init(&out, 0);
	assert_int_equal(sk_policy_nft(p, sk_policy_date_parse("2025-06-01"), &out, &err), 0);
	assert_non_null(strstr(sk_buf_str(&out), "iifname \"i0\" ip6 saddr { 2001:db8:3::/64 } ip6 daddr 2001:db8:3::1 tcp dport { 25 } accept"));
	assert_non_null(strstr(sk_buf_str(&out), "oifname \"l0\" ip6 daddr { 2001:db8:2::/64 } tcp dport { 25 } accept"));
	rc = nft_check(sk_buf_str(&out));
	if (rc >= 0)
		assert_int_equal(rc, 0);
	sk_buf_free(&out);
	sk_policy_free(p);
	/* host bits, and a v6 gateway outside its network */
	check_text("version: 1\nzones:\n  lgwan: { networks: [\"2001:db8:2::1/64\"], gateway: { interface: l0, address: \"2001:db8:9::1\" } }\n",
		   3, "E-CIDR-INVALID", 3, 23);

	/* an alpha' cloud route is the only thing forwarded */
	const char *cl = "  - id: m365\n    from: lgwan\n    to: groupware\n    channel: web\n    action: allow\n"
			 "clouds:\n  groupware:\n    networks: [192.0.2.128/25]\n    ports: [443]\n";
	assert_int_equal(parse(cl, "2025-06-01", &p, &dg), 0);
	sk_policy_diags_free(&dg);
	sk_buf_init(&out, 0);
	assert_int_equal(sk_policy_nft(p, sk_policy_date_parse("2025-06-01"), &out, &err), 0);
	assert_non_null(strstr(sk_buf_str(&out), "iifname \"sk-lgwan\" oifname \"sk-inet\" ip saddr { 198.51.100.0/24 } ip daddr { 192.0.2.128/25 } tcp dport { 443 } accept"));
	rc = nft_check(sk_buf_str(&out));
	if (rc >= 0)
		assert_int_equal(rc, 0);
	sk_buf_free(&out);
	sk_policy_free(p);
}


/* management: the checker's rules with their places, and the rules nft opens for them */
static void management(void **state)
{
	(void)state;
	/* lines: 15 flow, 16 management: … */
	const char *F = "  - { from: internet, to: lgwan, channel: file, action: { sanitize: default } }\n";
	char t[2048];
#define MG(body) (snprintf(t, sizeof(t), "%smanagement:\n%s", F, body), t)
	expect(MG("  admins: [198.51.100.16/29]\n"), "2025-06-01", 0, 0, NULL, 0, 0);
	expect(MG("  admins: [0.0.0.0/0]\n"), "2025-06-01", 1, 0, "E-MANAGEMENT-ANY", 17, 12);
	expect(MG("  admins: [198.51.100.300]\n"), "2025-06-01", 1, 0, "E-CIDR-INVALID", 17, 12);
	expect(MG("  admins: [203.0.113.7]\n"), "2025-06-01", 0, 1, "W-MANAGEMENT-ZONE", 17, 12);
	expect(MG("  admins: [192.0.2.0/24]\n"), "2025-06-01", 0, 1, "W-MANAGEMENT-ZONE", 17, 12);
	expect(MG("  ssh: [22]\n"), "2025-06-01", 0, 1, "W-MANAGEMENT-NO-ADMIN", 17, 3);
	expect(MG("  admins: []\n"), "2025-06-01", 0, 1, "W-MANAGEMENT-NO-ADMIN", 17, 11);
	expect(MG("  admins: [10.0.0.0/8]\n  ssh: [0]\n"), "2025-06-01", 1, 0, "E-TYPE", 18, 9);
	expect(MG("  admins: [10.0.0.0/8]\n  ssh: no\n"), "2025-06-01", 1, 0, "E-TYPE", 18, 8);
	expect(MG("  admins: [10.0.0.0/8]\n  console: yes\n"), "2025-06-01", 1, 0, "E-TYPE", 18, 12);
	expect(MG("  admins: [10.0.0.0/8]\n  interface: \"eth 0\"\n"), "2025-06-01", 1, 0,
	       "E-INTERFACE-INVALID", 18, 14);
	expect(MG("  admins: [10.0.0.0/8]\n  sevices: {}\n"), "2025-06-01", 1, 0, "E-KEY-UNKNOWN", 18, 3);
	/* services */
	expect(MG("  admins: [10.0.0.0/8]\n  services:\n    dns: { to: [198.51.100.53] }\n"
		  "    backup: { to: [198.51.100.40] }\n"),
	       "2025-06-01", 1, 0, "E-MANAGEMENT-SERVICE", 20, 5);
	expect(MG("  admins: [10.0.0.0/8]\n  services:\n    dns: { to: [] }\n"), "2025-06-01", 1, 0,
	       "E-MANAGEMENT-SERVICE", 19, 16);
	expect(MG("  admins: [10.0.0.0/8]\n  services:\n    dns: { ports: [53] }\n"), "2025-06-01", 1, 0,
	       "E-KEY-MISSING", 19, 10);
	expect(MG("  admins: [10.0.0.0/8]\n  services:\n    x: { to: [10.1.1.1], ports: [9], protocol: sctp }\n"),
	       "2025-06-01", 1, 0, "E-MANAGEMENT-SERVICE", 19, 48);
	expect(MG("  admins: [10.0.0.0/8]\n  services:\n    x: { to: [10.1.1.1], ports: [] }\n"),
	       "2025-06-01", 1, 0, "E-MANAGEMENT-SERVICE", 19, 33);
	expect(MG("  admins: [10.0.0.0/8]\n  services:\n    https: { to: [0.0.0.0/0] }\n"), "2025-06-01", 0, 1,
	       "W-MANAGEMENT-WIDE", 19, 19);
	expect(MG("  admins: [10.0.0.0/8]\n  services:\n    ntp: { to: [10.1.1.1] }\n    ntp: { to: [10.1.1.2] }\n"),
	       "2025-06-01", 1, 0, "E-ID-DUPLICATE", 20, 5);
	/* both languages */
	sk_policy *p = NULL;
	sk_policy_diags d;
	assert_int_equal(parse(MG("  admins: [0.0.0.0/0]\n"), "2025-06-01", &p, &d), SK_EFORMAT);
	sk_buf out;
	sk_buf_init(&out, 0);
	sk_policy_diags_format(&d, "t.yaml", SK_LANG_JA, &out);
	assert_non_null(strstr(sk_buf_str(&out), "t.yaml:17:12: E-MANAGEMENT-ANY: management.admins の 0.0.0.0/0 はすべてのアドレスです"));
	sk_buf_reset(&out);
	sk_policy_diags_format(&d, "t.yaml", SK_LANG_EN, &out);
	assert_non_null(strstr(sk_buf_str(&out), "t.yaml:17:12: E-MANAGEMENT-ANY: management.admins: 0.0.0.0/0 is every address"));
	sk_buf_free(&out);
	sk_policy_diags_free(&d);

	/* the rules: sshd and the console from the admins, the services out, nothing else */
	const char *full =
		"  admins: [198.51.100.16/29, \"2001:db8:9::/64\"]\n"
		"  ssh: [22, 2222]\n"
		"  services:\n"
		"    dns: { to: [198.51.100.53] }\n"
		"    ntp: { to: [198.51.100.123, \"2001:db8:9::123\"] }\n"
		"    proxy: { to: [203.0.113.8], ports: 8080 }\n"
		"    backup: { to: [198.51.100.40], ports: [873, 874], protocol: both }\n"
		"gateway:\n"
		"  http:\n"
		"    - { zone: lgwan, listen: 198.51.100.1:8443 }\n"
		"    - { zone: internet, listen: 203.0.113.1:443 }\n"
		"  clamd: tcp:198.51.100.9:3310\n"
		"  events: syslog:udp:198.51.100.30:514\n";
	assert_int_equal(parse(MG(full), "2025-06-01", &p, &d), 0);
	sk_policy_diags_free(&d);
	sk_buf_init(&out, 0);
	sk_error err;
	assert_int_equal(sk_policy_nft(p, sk_policy_date_parse("2025-06-01"), &out, &err), 0);
	const char *s = sk_buf_str(&out);
	const char *want[] = {
		"\t\tip saddr { 198.51.100.16/29 } tcp dport { 22, 2222 } accept\n",
		"\t\tip6 saddr { 2001:db8:9::/64 } tcp dport { 22, 2222 } accept\n",
		"\t\tip saddr { 198.51.100.16/29 } ip daddr 198.51.100.1 tcp dport 8443 accept\n",
		"\t\tip saddr { 198.51.100.16/29 } icmp type echo-request accept\n",
		"\t\tip6 saddr { 2001:db8:9::/64 } icmpv6 type echo-request accept\n",
		/* the console and the upload portal, each from its zone */
		"\t\tiifname \"sk-lgwan\" ip saddr { 198.51.100.0/24 } ip daddr 198.51.100.1 tcp dport 8443 accept\n",
		"\t\tip daddr { 198.51.100.53 } udp dport { 53 } accept\n",
		"\t\tip daddr { 198.51.100.53 } tcp dport { 53 } accept\n",
		"\t\tip daddr { 198.51.100.123 } udp dport { 123 } accept\n",
		"\t\tip6 daddr { 2001:db8:9::123 } udp dport { 123 } accept\n",
		"\t\tip daddr { 203.0.113.8 } tcp dport { 8080 } accept\n",
		"\t\tip daddr { 198.51.100.40 } udp dport { 873, 874 } accept\n",
		"\t\tip daddr { 198.51.100.40 } tcp dport { 873, 874 } accept\n",
		"\t\tip daddr { 198.51.100.9 } tcp dport { 3310 } accept\n",
		"\t\tip daddr { 198.51.100.30 } udp dport { 514 } accept\n",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!strstr(s, want[i]))
			printf("# missing: %s", want[i]);
		assert_non_null(strstr(s, want[i]));
	}
	/* input rules are in the input chain, output rules in the output chain */
	const char *outc = strstr(s, "chain output");
	assert_true(strstr(s, "tcp dport { 22, 2222 }") < strstr(s, "chain forward"));
	assert_true(strstr(s, "udp dport { 53 }") > outc);
	/* the internet portal on 443 is already the file listener's: no second rule */
	assert_null(strstr(s, "203.0.113.1 tcp dport 443 accept"));
	/* the upload portal is not the console: the admins do not get it */
	assert_null(strstr(s, "198.51.100.16/29 } ip daddr 203.0.113.1"));
	int rc = nft_check(s);
	if (rc >= 0)
		assert_int_equal(rc, 0);
	sk_buf_free(&out);
	sk_policy_free(p);

	/* only through the management interface; no ssh; no console; a syslog host by name */
	/* a listener on every address is reached on its zone's gateway address only */
	assert_int_equal(parse(MG("  admins: [10.9.0.0/24]\n"
				  "gateway:\n  http: [{ zone: lgwan, listen: \"0.0.0.0:8443\" }, { zone: internet, listen: \"[::]:8444\" }]\n"),
			 "2025-06-01", &p, &d), 0);
	sk_policy_diags_free(&d);
	sk_buf_init(&out, 0);
	assert_int_equal(sk_policy_nft(p, sk_policy_date_parse("2025-06-01"), &out, &err), 0);
	s = sk_buf_str(&out);
	assert_non_null(strstr(s, "\t\tiifname \"sk-lgwan\" ip saddr { 198.51.100.0/24 } ip daddr 198.51.100.1 tcp dport 8443 accept\n"));
	assert_non_null(strstr(s, "\t\tip saddr { 10.9.0.0/24 } ip daddr 198.51.100.1 tcp dport 8443 accept\n"));
	assert_null(strstr(s, "8444")); /* the internet zone has no IPv6 gateway address */
	assert_null(strstr(s, "daddr 0.0.0.0"));
	rc = nft_check(s);
	if (rc >= 0)
		assert_int_equal(rc, 0);
	sk_buf_free(&out);
	sk_policy_free(p);

	assert_int_equal(parse(MG("  admins: [10.9.0.0/24]\n  interface: sk-mgmt\n  ssh: []\n  console: false\n"
				  "gateway:\n  http: [{ zone: lgwan, listen: 198.51.100.1:443 }]\n"
				  "  events: syslog:udp:siem.example.lg.jp:514\n"),
			 "2025-06-01", &p, &d), 0);
	sk_policy_diags_free(&d);
	sk_buf_init(&out, 0);
	assert_int_equal(sk_policy_nft(p, sk_policy_date_parse("2025-06-01"), &out, &err), 0);
	s = sk_buf_str(&out);
	assert_non_null(strstr(s, "\t\tiifname \"sk-mgmt\" ip saddr { 10.9.0.0/24 } icmp type echo-request accept\n"));
	assert_null(strstr(s, "dport { 22 }"));
	assert_null(strstr(s, "10.9.0.0/24 } ip daddr"));
	assert_non_null(strstr(s, "# gateway.events names a host (siem.example.lg.jp:514)"));
	rc = nft_check(s);
	if (rc >= 0)
		assert_int_equal(rc, 0);
	sk_buf_free(&out);
	sk_policy_free(p);

	/* without the section: nothing for SSH, and the ruleset says so */
	assert_int_equal(parse(F, "2025-06-01", &p, &d), 0);
	sk_policy_diags_free(&d);
	sk_buf_init(&out, 0);
	assert_int_equal(sk_policy_nft(p, sk_policy_date_parse("2025-06-01"), &out, &err), 0);
	assert_non_null(strstr(sk_buf_str(&out), "# no management section: nothing opened for SSH"));
	assert_null(strstr(sk_buf_str(&out), "dport { 22 }"));
	sk_buf_free(&out);
	sk_policy_free(p);
#undef MG
}

/* sk_process with the policy */
static const char *run_name = "a.txt"; /* the item's name in run() */

static void run(const sk_policy *p, const char *from, const char *to, const char *channel,
		const char *klass, const void *data, size_t n, tu_run *r)
{
	sk_options o;
	sk_options_default(&o);
	o.policy = p;
	o.today = sk_policy_date_parse("2025-01-01");
	sk_buf_init(&r->out, 0);
	sk_item item = {.name = run_name, .src_zone = from, .dst_zone = to, .channel = channel,
			.class_level = klass};
	sk_input_mem(&item.input, data, n);
	sk_output out;
	sk_output_buf(&out, &r->out);
	sk_error err;
	assert_int_equal(sk_process(&item, &o, &out, &r->res, &err), 0);
}

static void process_with_policy(void **state)
{
	(void)state;
	sk_policy *p = load_default();
	const char *plain = "お知らせ\n会議は10時からです。\n";
	const char *secret = "申請者 山田\n個人番号: 3847-5629-1044\n";
	tu_run r;
	/* deny */
	run(p, "internet", "lgwan", "web", NULL, plain, strlen(plain), &r);
	assert_verdict(&r, SK_VERDICT_BLOCKED);
	assert_reason(&r, SK_REASON_POLICY_DENY);
	assert_string_equal(r.res.decision, "deny");
	assert_int_equal(r.out.len, 0);
	char *j = sk_result_json(&r.res, "a.txt", NULL);
	assert_non_null(strstr(j, "\"policy\":{\"decision\":\"deny\",\"rule\":\"flows[4] internet-lgwan-web\""));
	free(j);
	tu_free(&r);
	/* hold (class default 機密性2 to internet) */
	run(p, "lgwan", "internet", "mail", NULL, plain, strlen(plain), &r);
	assert_reason(&r, SK_REASON_HELD);
	assert_string_equal(r.res.decision, "hold");
	assert_string_equal(r.res.hold_role, "security-manager");
	tu_free(&r);
	/* DLP block: 個人番号 going out */
	run(p, "lgwan", "internet", "mail", "1", secret, strlen(secret), &r);
	assert_reason(&r, SK_REASON_DLP);
	assert_string_equal(r.res.report.reason_detail, "mynumber");
	assert_int_equal(tu_count(&r.res.report, SK_ACTION_NOTED, "mynumber"), 1);
	assert_non_null(tu_find_where(&r.res.report, "line 2:7"));
	assert_null(strpbrk(tu_find_where(&r.res.report, "line 2:7")->detail, "0123456789"));
	tu_free(&r);
	/* inbound: recorded only, then on to sanitisation with the flow's profile */
	run(p, "internet", "lgwan", "mail", NULL, secret, strlen(secret), &r);
	assert_string_equal(r.res.decision, "sanitize");
	assert_string_equal(r.res.profile, "mail-standard");
	assert_int_equal(tu_count(&r.res.report, SK_ACTION_NOTED, "mynumber"), 1);
	assert_int_not_equal(r.res.report.reason, SK_REASON_DLP);
	assert_int_not_equal(r.res.report.reason, SK_REASON_POLICY_DENY);
	tu_free(&r);
	/* unscannable content outbound is held (default.yaml: unscannable: hold): DLP runs on
	 * the rebuilt output, a picture is noted unscanned */
	sk_buf png;
	sk_buf_init(&png, 1 << 24);
	tu_read(tu_src("examples/inbox/図.png"), &png);
	run_name = "a.png";
	run(p, "lgwan", "internet", "mail", "1", sk_buf_data(&png), sk_buf_len(&png), &r);
	run_name = "a.txt";
	assert_reason(&r, SK_REASON_HELD);
	assert_int_equal(tu_count(&r.res.report, SK_ACTION_NOTED, "dlp-unscanned"), 1);
	tu_free(&r);
	sk_buf_free(&png);
	/* content the engine blocks stays blocked with its reason (stronger than a hold) */
	static const unsigned char bad_png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
						'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0};
	run(p, "lgwan", "internet", "mail", "1", bad_png, sizeof(bad_png), &r);
	assert_int_equal(r.res.report.verdict, SK_VERDICT_BLOCKED);
	assert_int_not_equal(r.res.report.reason, SK_REASON_HELD);
	tu_free(&r);
	/* no zones, unknown zones: denied (fail closed) */
	run(p, NULL, "lgwan", NULL, NULL, plain, strlen(plain), &r);
	assert_reason(&r, SK_REASON_POLICY_DENY);
	tu_free(&r);
	run(p, "internet", "nowhere", NULL, NULL, plain, strlen(plain), &r);
	assert_reason(&r, SK_REASON_POLICY_DENY);
	tu_free(&r);
	sk_policy_free(p);
	/* DLP size budget: over max_input is blocked, not let through unscanned */
	sk_policy_diags dg;
	assert_int_equal(parse("  - { from: lgwan, to: internet, action: { sanitize: default } }\n"
			       "dlp:\n  max_input: 16B\n  default: hold\n",
			       "2025-01-01", &p, &dg), 0);
	sk_policy_diags_free(&dg);
	run(p, "lgwan", "internet", "file", "1", plain, strlen(plain), &r);
	assert_reason(&r, SK_REASON_LIMIT_SIZE);
	assert_string_equal(r.res.report.reason_detail, "dlp");
	tu_free(&r);
	sk_policy_free(p);
}

/* the gateway section (sekishod): line 15 is a flow, the section starts on line 16 */
static const char *const GW_FLOW =
	"  - { from: internet, to: lgwan, channel: file, action: { sanitize: default } }\n" /* 15 */
	"gateway:\n";                                                                      /* 16 */

static void gw(const char *body, size_t errors, size_t warnings, const char *code, uint32_t line,
	       uint32_t col)
{
	char t[8192];
	snprintf(t, sizeof(t), "%s%s", GW_FLOW, body);
	expect(t, "2025-06-01", errors, warnings, code, line, col);
}

static void gateway_section(void **state)
{
	(void)state;
	char t[8192];
	snprintf(t, sizeof(t), "%s%s", GW_FLOW,
		 "  user: sekisho\n"                                   /* 17 */
		 "  state: /var/lib/sekisho\n"                         /* 18 */
		 "  workers: 4\n"                                      /* 19 */
		 "  milter: inet:8891@127.0.0.1\n"                     /* 20 */
		 "  metrics: 127.0.0.1:9464\n"                         /* 21 */
		 "  events: json:/var/log/sekisho/events.jsonl\n"      /* 22 */
		 "  clamd: unix:/run/clamav/clamd.ctl\n"               /* 23 */
		 "  milter_from: internet\n  milter_to: lgwan\n"       /* 24, 25 */
		 "  spool:\n"                                          /* 26 */
		 "    - { from: internet, to: lgwan, drop: /srv/in/drop, deliver: /srv/in/out }\n" /* 27 */
		 "    - id: second\n"                                  /* 28 */
		 "      from: internet\n"
		 "      to: lgwan\n"
		 "      class: 機密性2\n"
		 "      drop: /srv/in2/drop\n"
		 "      deliver: /srv/in/out\n" /* two flows may share a delivery folder */
		 "internal_domains: [city.example.lg.jp]\n");
	sk_policy *p = NULL;
	sk_policy_diags d;
	int rc = parse(t, "2025-06-01", &p, &d);
	if (rc || d.n)
		dump(&d);
	assert_int_equal(rc, 0);
	assert_int_equal(d.n, 0);
	sk_policy_gateway g;
	sk_policy_gateway_get(p, &g);
	assert_string_equal(g.user, "sekisho");
	assert_string_equal(g.state, "/var/lib/sekisho");
	assert_int_equal(g.workers, 4);
	assert_string_equal(g.milter, "inet:8891@127.0.0.1");
	assert_string_equal(g.milter_from, "internet");
	assert_string_equal(g.milter_to, "lgwan");
	assert_int_equal(g.milter_line, 20);
	assert_string_equal(g.metrics, "127.0.0.1:9464");
	assert_string_equal(g.events, "json:/var/log/sekisho/events.jsonl");
	assert_string_equal(g.clamd, "unix:/run/clamav/clamd.ctl");
	assert_int_equal(g.nspool, 2);
	assert_string_equal(g.spool[0].id, "internet-lgwan"); /* FROM-TO when no id */
	assert_string_equal(g.spool[0].drop, "/srv/in/drop");
	assert_int_equal(g.spool[0].line, 27);
	assert_null(g.spool[0].class_level);
	assert_string_equal(g.spool[1].id, "second");
	assert_string_equal(g.spool[1].class_level, "機密性2");
	assert_int_equal(g.spool[1].line, 28);
	sk_policy_free(p);
	sk_policy_diags_free(&d);

	/* no section: nothing set */
	expect("  - { from: internet, to: lgwan, action: { sanitize: default } }\n", "2025-06-01", 0, 0,
	       NULL, 0, 0);
	rc = parse("  - { from: internet, to: lgwan, action: { sanitize: default } }\n", "2025-06-01", &p,
		   &d);
	assert_int_equal(rc, 0);
	sk_policy_gateway_get(p, &g);
	assert_null(g.user);
	assert_null(g.state);
	assert_int_equal(g.workers, -1);
	assert_int_equal(g.nspool, 0);
	sk_policy_free(p);
	sk_policy_diags_free(&d);

	/* the default policy's section */
	sk_policy_diags_init(&d);
	sk_error err;
	rc = sk_policy_load(tu_src("examples/policy/default.yaml"), sk_policy_date_parse("2025-01-01"), &p,
			    &d, &err);
	assert_int_equal(rc, 0);
	sk_policy_gateway_get(p, &g);
	assert_string_equal(g.user, "sekisho");
	assert_int_equal(g.nspool, 2);
	assert_string_equal(g.spool[0].from, "internet");
	assert_string_equal(g.spool[1].to, "internet");
	sk_policy_free(p);
	sk_policy_diags_free(&d);
}

/* gateway.milter with directions: the client's address picks its zone; internal_domains */
static void milter_directions(void **state)
{
	(void)state;
	char t[8192];
	snprintf(t, sizeof(t), "%s%s", GW_FLOW,
		 "  milter:\n"                                      /* 17 */
		 "    socket: unix:/run/m.sock\n"
		 "    group: postfix\n"
		 "    directions:\n"                               /* 20 */
		 "      - {from: internet, to: lgwan}\n"           /* 21 */
		 "      - {from: lgwan, to: internet}\n"           /* 22 */
		 "internal_domains: [city.example.lg.jp, lg.example]\n");
	sk_policy *p = NULL;
	sk_policy_diags d;
	int rc = parse(t, "2025-06-01", &p, &d);
	if (rc || d.n)
		dump(&d);
	assert_int_equal(rc, 0);
	assert_int_equal(d.n, 0);
	sk_policy_gateway g;
	sk_policy_gateway_get(p, &g);
	assert_string_equal(g.milter, "unix:/run/m.sock");
	assert_int_equal(g.nmilter_dirs, 2);
	assert_string_equal(g.milter_dirs[0].from, "internet");
	assert_string_equal(g.milter_dirs[0].to, "lgwan");
	assert_int_equal(g.milter_dirs[0].line, 21);
	assert_string_equal(g.milter_dirs[1].from, "lgwan");
	assert_string_equal(g.milter_dirs[1].to, "internet");
	/* the first direction is also milter_from / milter_to */
	assert_string_equal(g.milter_from, "internet");
	assert_string_equal(g.milter_to, "lgwan");
	assert_string_equal(g.milter_group, "postfix");
	/* the zone of an address: its networks (IPv4, IPv4-mapped IPv6); none; clouds never */
	assert_string_equal(sk_policy_zone_of(p, "198.51.100.25"), "lgwan");
	assert_string_equal(sk_policy_zone_of(p, "203.0.113.7"), "internet");
	assert_string_equal(sk_policy_zone_of(p, "::ffff:198.51.100.9"), "lgwan");
	assert_string_equal(sk_policy_zone_of(p, "192.0.2.126"), "mynumber");
	assert_null(sk_policy_zone_of(p, "192.0.2.128")); /* outside the /25 */
	assert_null(sk_policy_zone_of(p, "127.0.0.1"));
	assert_null(sk_policy_zone_of(p, "2001:db8::1"));
	assert_null(sk_policy_zone_of(p, "not an address"));
	assert_null(sk_policy_zone_of(p, NULL));
	const char *const *dom = sk_policy_internal_domains(p);
	assert_string_equal(dom[0], "city.example.lg.jp");
	assert_string_equal(dom[1], "lg.example");
	assert_null(dom[2]);
	sk_policy_free(p);
	sk_policy_diags_free(&d);
	/* without internal_domains: an empty list, never NULL */
	rc = parse("  - { from: internet, to: lgwan, action: { sanitize: default } }\n", "2025-06-01",
		   &p, &d);
	assert_int_equal(rc, 0);
	assert_non_null(sk_policy_internal_domains(p));
	assert_null(sk_policy_internal_domains(p)[0]);
	sk_policy_free(p);
	sk_policy_diags_free(&d);
}

static void gateway_errors(void **state)
{
	(void)state;
	gw("  user: root\n", 1, 0, "E-GATEWAY-ROOT", 17, 9);
	gw("  user: Bad User\n", 1, 0, "E-GATEWAY-USER", 17, 9);
	gw("  workers: 1025\n", 1, 0, "E-TYPE", 17, 12);
	gw("  workers: -1\n", 1, 0, "E-TYPE", 17, 12);
	gw("  workers: 1024\n", 0, 0, NULL, 0, 0);
	gw("  state: var/lib/sekisho\n", 1, 0, "E-GATEWAY-PATH", 17, 10);
	gw("  state: /var/../etc\n", 1, 0, "E-GATEWAY-PATH", 17, 10);
	gw("  milter: tcp:8891\n", 1, 0, "E-GATEWAY-MILTER", 17, 11);
	gw("  milter: inet:99999@127.0.0.1\n", 1, 0, "E-GATEWAY-MILTER", 17, 11);
	/* a milter without internal_domains: every recipient counts as outside (a warning) */
	gw("  milter: unix:/run/m.sock\n  milter_from: internet\n  milter_to: lgwan\n", 0, 1,
	   "W-GATEWAY-MILTER-INTERNAL", 17, 0);
	/* the milter's zones: required, known, different; the mapping form */
	gw("  milter: unix:/run/m.sock\n", 1, 0, "E-GATEWAY-MILTER-ZONES", 17, 11);
	gw("  milter: unix:/run/m.sock\n  milter_from: internet\n  milter_to: moon\n", 1, 0,
	   "E-ZONE-UNKNOWN", 19, 14);
	gw("  milter: {socket: unix:/run/m.sock, from: internet, to: internet}\n", 1, 0,
	   "E-GATEWAY-MILTER-ZONES", 17, 58);
	gw("  milter: {socket: unix:/run/m.sock, from: internet}\n", 1, 0, "E-GATEWAY-MILTER-ZONES",
	   17, 11);
	gw("  milter: {socket: unix:/run/m.sock, from: internet, to: lgwan, group: postfix}\n"
	   "internal_domains: [lg.example]\n", 0, 0, NULL, 0, 0);
	/* directions: each from once, zones known and different, not with from/to */
	gw("  milter:\n    socket: unix:/run/m.sock\n    directions:\n" /* 17-19 */
	   "      - {from: internet, to: lgwan}\n"                          /* 20 */
	   "      - {from: internet, to: mynumber}\n"                       /* 21 */
	   "internal_domains: [lg.example]\n",
	   1, 0, "E-GATEWAY-MILTER-DUPLICATE", 21, 16);
	gw("  milter:\n    socket: unix:/run/m.sock\n    directions:\n"
	   "      - {from: internet, to: moon}\n", 1, 0, "E-ZONE-UNKNOWN", 20, 30);
	gw("  milter:\n    socket: unix:/run/m.sock\n    directions:\n"
	   "      - {from: lgwan, to: lgwan}\n", 1, 0, "E-GATEWAY-MILTER-ZONES", 20, 27);
	gw("  milter:\n    socket: unix:/run/m.sock\n    directions:\n"
	   "      - {from: lgwan}\n", 1, 0, "E-KEY-MISSING", 20, 9);
	gw("  milter:\n    socket: unix:/run/m.sock\n    directions: []\n", 1, 0,
	   "E-GATEWAY-MILTER-ZONES", 19, 17);
	gw("  milter:\n    socket: unix:/run/m.sock\n    from: lgwan\n    to: internet\n"
	   "    directions:\n      - {from: internet, to: lgwan}\n", 1, 0,
	   "E-GATEWAY-MILTER-ZONES", 22, 7);
	/* internal_domains: mail domains only */
	gw("  workers: 1\ninternal_domains: [city.example.lg.jp, -bad.example, x]\n", 2, 0,
	   "E-INTERNAL-DOMAIN", 18, 40);
	gw("  workers: 1\ninternal_domains: city.example.lg.jp\n", 1, 0, "E-TYPE", 18, 19);
	gw("  milter_to: lgwan\n", 1, 0, "E-GATEWAY-MILTER", 17, 14);
	gw("  metrics: localhost:9464\n", 1, 0, "E-GATEWAY-METRICS", 17, 12);
	gw("  metrics: 127.0.0.1:0\n", 1, 0, "E-GATEWAY-METRICS", 17, 12);
	gw("  metrics: 0.0.0.0:9464\n", 0, 1, "W-GATEWAY-METRICS-PUBLIC", 17, 12);
	gw("  metrics: '[::1]:9464'\n", 0, 0, NULL, 0, 0);
	gw("  events: file\n", 1, 0, "E-GATEWAY-EVENTS", 17, 11);
	gw("  events: json:relative.jsonl\n", 1, 0, "E-GATEWAY-EVENTS", 17, 11);
	gw("  events: syslog:udp:127.0.0.1:514\n", 0, 0, NULL, 0, 0);
	gw("  clamd: clamd.sock\n", 1, 0, "E-GATEWAY-CLAMD", 17, 10);
	gw("  colour: blue\n", 1, 0, "E-KEY-UNKNOWN", 17, 3);
	gw("  spool: {}\n", 1, 0, "E-TYPE", 17, 10);
	/* spool flows */
	gw("  spool:\n    - { from: internet, to: nowhere, drop: /a, deliver: /b }\n", 1, 0,
	   "E-ZONE-UNKNOWN", 18, 29);
	gw("  spool:\n    - { from: lgwan, to: lgwan, drop: /a, deliver: /b }\n", 1, 0,
	   "E-GATEWAY-SPOOL-SAME-ZONE", 18, 26);
	gw("  spool:\n    - { from: internet, to: lgwan, drop: a, deliver: /b }\n", 1, 0,
	   "E-GATEWAY-PATH", 18, 42);
	gw("  spool:\n    - { from: internet, to: lgwan, drop: /a }\n", 1, 0, "E-KEY-MISSING", 18, 7);
	/* a delivery folder inside its drop folder would loop */
	gw("  spool:\n    - { from: internet, to: lgwan, drop: /s/in, deliver: /s/in/out }\n", 1, 0,
	   "E-GATEWAY-SPOOL-OVERLAP", 18, 42);
	/* two flows cannot share a drop folder */
	gw("  spool:\n    - { from: internet, to: lgwan, drop: /s/a, deliver: /s/b }\n"
	   "    - { id: two, from: internet, to: lgwan, drop: /s/a/, deliver: /s/c }\n",
	   1, 0, "E-GATEWAY-SPOOL-OVERLAP", 19, 51);
	/* a name prefix is no overlap */
	gw("  spool:\n    - { from: internet, to: lgwan, drop: /s/in, deliver: /s/in2 }\n", 0, 0, NULL,
	   0, 0);
	gw("  spool:\n    - { from: internet, to: lgwan, drop: /s/a, deliver: /s/b }\n"
	   "    - { from: internet, to: lgwan, drop: /s/c, deliver: /s/d }\n",
	   1, 0, "E-ID-DUPLICATE", 19, 0);
	/* a route the flows deny: every file would be blocked */
	gw("  spool:\n    - { from: lgwan, to: internet, drop: /s/a, deliver: /s/b }\n", 0, 1,
	   "W-GATEWAY-SPOOL-DENIED", 18, 0);
	/* the limit: SK_POLICY_SPOOL_MAX flows, one more is an error */
	sk_buf b;
	sk_buf_init(&b, 0);
	sk_buf_adds(&b, "  spool:\n");
	for (int i = 0; i <= SK_POLICY_SPOOL_MAX; i++)
		sk_buf_printf(&b, "    - { id: f%d, from: internet, to: lgwan, drop: /d/%d, deliver: /o/%d }\n",
			      i, i, i);
	gw(sk_buf_str(&b), 1, 0, "E-GATEWAY-LIMIT", (uint32_t)(18 + SK_POLICY_SPOOL_MAX), 7);
	sk_buf_free(&b);
}

/* ---- people: organization, sections, roles' permissions, users; auth; release; http ---- */

/* the first 11 lines of BASE (the three zones) followed by body (from line 12) */
static sk_policy *people(const char *body, size_t errors, size_t warnings, const char *code,
			 uint32_t line, uint32_t col)
{
	char t[8192];
	const char *z = strstr(BASE, "users:\n");
	snprintf(t, sizeof(t), "%.*s%s", (int)(z - BASE), BASE, body);
	sk_policy *p = NULL;
	sk_policy_diags d;
	sk_policy_diags_init(&d);
	sk_error err;
	int rc = sk_policy_parse(t, strlen(t), sk_policy_date_parse("2025-06-01"), &p, &d, &err);
	if (d.errors != errors || d.warnings != warnings)
		dump(&d);
	assert_int_equal(d.errors, errors);
	assert_int_equal(d.warnings, warnings);
	assert_int_equal(rc, errors ? SK_EFORMAT : 0);
	if (code)
		assert_true(has(&d, code, line, col));
	sk_policy_diags_free(&d);
	return p;
}

static void people_section(void **state)
{
	(void)state;
	sk_policy *p = people(
		"organization: 相模原市\n"                                           /* 12 */
		"sections:\n"                                                        /* 13 */
		"  joho: { name: 情報政策課, name_en: Information Policy Division }\n" /* 14 */
		"  somu: { name: 総務課 }\n"                                          /* 15 */
		"roles:\n"                                                           /* 16 */
		"  staff: { name: 職員 }\n"                                           /* 17 */
		"  security-manager: { name: 管理者 }\n"                              /* 18 */
		"  ciso: { name: CISO }\n"
		"  sysadmin: { name: システム管理者 }\n"
		"  auditor: { name: 監査員 }\n"
		"  reader: { name: 閲覧, permissions: [download, audit] }\n"
		"  nothing: { name: なし, permissions: [] }\n"
		"  custom: { name: 独自 }\n"
		"users:\n"
		"  - { id: joho-kacho, roles: [security-manager, staff], section: joho, mail: kacho@city.example.lg.jp }\n"
		"  - { id: old, roles: [staff], email: old@example.jp }\n"
		"  - { id: bare, roles: [auditor] }\n",
		0, 0, NULL, 0, 0);
	assert_non_null(p);
	assert_string_equal(sk_policy_organization(p), "相模原市");
	assert_int_equal(sk_policy_section_count(p), 2);
	assert_string_equal(sk_policy_section_id(p, 0), "joho");
	assert_string_equal(sk_policy_section_id(p, 1), "somu");
	assert_null(sk_policy_section_id(p, 2));
	assert_true(sk_policy_has_section(p, "somu"));
	assert_false(sk_policy_has_section(p, "Somu"));
	assert_string_equal(sk_policy_section_name(p, "joho", SK_LANG_JA), "情報政策課");
	assert_string_equal(sk_policy_section_name(p, "joho", SK_LANG_EN), "Information Policy Division");
	assert_string_equal(sk_policy_section_name(p, "somu", SK_LANG_EN), "総務課");
	assert_null(sk_policy_section_name(p, "none", SK_LANG_JA));
	const uint32_t base =
		SK_PERM_UPLOAD | SK_PERM_DOWNLOAD | SK_PERM_REQUEST | SK_PERM_INCIDENT_REPORT;
	assert_true(sk_policy_has_role(p, "custom"));
	assert_false(sk_policy_has_role(p, "security-director")); /* not written: not defined */
	assert_int_equal(sk_policy_role_perms(p, "staff"), base);
	assert_int_equal(sk_policy_role_perms(p, "security-manager"),
			 base | SK_PERM_APPROVE | SK_PERM_SECTION_ITEMS | SK_PERM_LEDGERS |
				 SK_PERM_LEDGER_SECTION);
	assert_int_equal(sk_policy_role_perms(p, "ciso"),
			 base | SK_PERM_APPROVE | SK_PERM_ALL_ITEMS | SK_PERM_RELEASE_ORIGINAL |
				 SK_PERM_AUDIT | SK_PERM_LEDGERS | SK_PERM_LEDGER_ALL);
	assert_int_equal(sk_policy_role_perms(p, "sysadmin"), base | SK_PERM_ADMIN | SK_PERM_ALL_ITEMS |
								      SK_PERM_LEDGERS | SK_PERM_LEDGER_SECTION);
	assert_int_equal(sk_policy_role_perms(p, "auditor"), SK_PERM_AUDIT | SK_PERM_LEDGERS);
	assert_int_equal(sk_policy_role_perms(p, "reader"), SK_PERM_DOWNLOAD | SK_PERM_AUDIT);
	assert_int_equal(sk_policy_role_perms(p, "nothing"), 0);
	assert_int_equal(sk_policy_role_perms(p, "custom"), base);
	assert_int_equal(sk_policy_role_perms(p, "security-director"), 0);
	const char *const *roles = NULL;
	size_t nr = 0;
	const char *sec = "x", *mail = "x";
	assert_int_equal(sk_policy_user_find(p, "joho-kacho", &roles, &nr, &sec, &mail), 0);
	assert_int_equal(nr, 2);
	assert_string_equal(roles[0], "security-manager");
	assert_string_equal(roles[1], "staff");
	assert_string_equal(sec, "joho");
	assert_string_equal(mail, "kacho@city.example.lg.jp");
	assert_int_equal(sk_policy_user_find(p, "old", NULL, NULL, &sec, &mail), 0);
	assert_null(sec);
	assert_string_equal(mail, "old@example.jp"); /* the older spelling email */
	assert_int_equal(sk_policy_user_find(p, "bare", NULL, NULL, NULL, &mail), 0);
	assert_null(mail);
	assert_int_equal(sk_policy_user_find(p, "Joho-kacho", NULL, NULL, NULL, NULL), SK_ENOTFOUND);
	/* the entries in file order (the console's roster) */
	assert_int_equal(sk_policy_user_count(p), 3);
	assert_string_equal(sk_policy_user_id(p, 0), "joho-kacho");
	assert_string_equal(sk_policy_user_name(p, 0), "joho-kacho"); /* no name: the id */
	assert_string_equal(sk_policy_user_id(p, 2), "bare");
	assert_null(sk_policy_user_id(p, 3));
	assert_null(sk_policy_user_name(p, 3));
	/* defaults of the parts not written */
	uint32_t r1 = 0, r2 = 0;
	sk_policy_approvals(p, &r1, &r2);
	assert_int_equal(r1, 1);
	assert_int_equal(r2, 2);
	sk_policy_auth a;
	sk_policy_auth_get(p, &a);
	assert_int_equal(a.password_min, -1);
	assert_int_equal(a.totp_window, -1);
	sk_policy_gateway g;
	sk_policy_gateway_get(p, &g);
	assert_int_equal(g.nhttp, 0);
	assert_string_equal(g.console_zone, "lgwan");
	assert_string_equal(g.sendmail, "/usr/sbin/sendmail");
	assert_null(g.console_url);
	assert_null(g.tls_cert);
	sk_policy_free(p);
	/* no roles section: the six built-in roles with their default permissions */
	p = people("organization: x\n", 0, 0, NULL, 0, 0);
	assert_int_equal(sk_policy_role_perms(p, "security-director"),
			 base | SK_PERM_APPROVE | SK_PERM_ALL_ITEMS | SK_PERM_RELEASE_ORIGINAL |
				 SK_PERM_AUDIT | SK_PERM_LEDGERS | SK_PERM_LEDGER_ALL);
	assert_int_equal(sk_policy_role_perms(p, "auditor"), SK_PERM_AUDIT | SK_PERM_LEDGERS);
	assert_null(sk_policy_organization(p) ? NULL : "x");
	assert_int_equal(sk_policy_section_count(p), 0);
	sk_policy_free(p);
	/* codes round trip */
	for (unsigned i = 0; i < SK_PERM__COUNT; i++)
		assert_int_equal(sk_policy_perm_parse(sk_policy_perm_code(1u << i)), 1u << i);
	assert_null(sk_policy_perm_code(3));
	assert_int_equal(sk_policy_perm_parse("root"), 0);
}

static void people_errors(void **state)
{
	(void)state;
	sk_policy_free(people("sections:\n  joho: { name: 情報政策課 }\n"                       /* 12, 13 */
	       "users:\n  - { id: a, roles: [staff], section: somu }\n",          /* 14, 15 */
	       1, 0, "E-SECTION-UNKNOWN", 15, 39));
	sk_policy_free(people("users:\n  - { id: a, roles: [staff], mail: \"a b@example.jp\" }\n", 1, 0,
	       "E-USER-MAIL", 13, 36));
	sk_policy_free(people("users:\n  - { id: a, roles: [staff], mail: \"a@b.jp\\r\\nBcc: x@y.jp\" }\n", 1, 0,
	       "E-USER-MAIL", 13, 36));
	sk_policy_free(people("users:\n  - { id: a, roles: [staff], mail: a@b.jp, email: a@b.jp }\n", 1, 0,
	       "E-KEY-DUPLICATE", 13, 51));
	sk_policy_free(people("roles:\n  x: { name: X, permissions: [upload, root] }\n  security-manager: { name: M }\n", 1, 0, "E-ROLE-PERMISSION",
	       13, 39));
	sk_policy_free(people("roles:\n  x: { name: X, permissions: [upload, upload] }\n  security-manager: { name: M }\n", 0, 1,
	       "W-ROLE-PERMISSION-REPEATED", 13, 39));
	sk_policy_free(people("organization: \"a\\nb\"\n", 1, 0, "E-ORGANIZATION", 12, 15));
	sk_policy_free(people("sections:\n  joho: { name: a }\n  joho: { name: b }\n", 1, 0, "E-ID-DUPLICATE", 14, 3));
	sk_policy_free(people("sections:\n  joho: { title: a }\n", 2, 0, "E-KEY-UNKNOWN", 13, 11));
	sk_policy_free(people("sections:\n  \"a b\": { name: a }\n", 1, 0, "E-ID-INVALID", 13, 3));
}

static void auth_and_release(void **state)
{
	(void)state;
	sk_policy *p = people("auth:\n"                         /* 12 */
			      "  password_min: 14\n"            /* 13 */
			      "  history: 3\n"
			      "  lockout_after: 4\n"
			      "  lockout_minutes: 10\n"
			      "  session_idle_minutes: 20\n"
			      "  session_max_hours: 9\n"
			      "  totp_window: 0\n"
			      "release:\n"
			      "  approvers: 2\n"
			      "  original: { approvers: 3 }\n",
			      0, 0, NULL, 0, 0);
	sk_policy_auth a;
	sk_policy_auth_get(p, &a);
	assert_int_equal(a.password_min, 14);
	assert_int_equal(a.history, 3);
	assert_int_equal(a.lockout_after, 4);
	assert_int_equal(a.lockout_seconds, 600);
	assert_int_equal(a.session_idle_seconds, 1200);
	assert_int_equal(a.session_max_seconds, 9 * 3600);
	assert_int_equal(a.totp_window, 0);
	uint32_t r1 = 0, r2 = 0;
	sk_policy_approvals(p, &r1, &r2);
	assert_int_equal(r1, 2);
	assert_int_equal(r2, 3);
	sk_policy_free(p);
	/* each range, just outside */
	sk_policy_free(people("auth: { password_min: 7 }\n", 1, 0, "E-TYPE", 12, 23));
	sk_policy_free(people("auth: { password_min: 257 }\n", 1, 0, "E-TYPE", 12, 23));
	sk_policy_free(people("auth: { history: 25 }\n", 1, 0, "E-TYPE", 12, 18));
	sk_policy_free(people("auth: { lockout_after: 0 }\n", 1, 0, "E-TYPE", 12, 24));
	sk_policy_free(people("auth: { lockout_minutes: 1441 }\n", 1, 0, "E-TYPE", 12, 26));
	sk_policy_free(people("auth: { session_idle_minutes: 0 }\n", 1, 0, "E-TYPE", 12, 31));
	sk_policy_free(people("auth: { session_max_hours: 169 }\n", 1, 0, "E-TYPE", 12, 28));
	sk_policy_free(people("auth: { totp_window: 11 }\n", 1, 0, "E-TYPE", 12, 22));
	sk_policy_free(people("auth: { totp_window: -1 }\n", 1, 0, "E-TYPE", 12, 22));
	sk_policy_free(people("auth: { pin: 4 }\n", 1, 0, "E-KEY-UNKNOWN", 12, 9));
	sk_policy_free(people("auth: { session_idle_minutes: 600, session_max_hours: 8 }\n", 0, 1,
	       "W-AUTH-IDLE-OVER-MAX", 12, 31));
	sk_policy_free(people("release: { approvers: 0 }\n", 1, 0, "E-TYPE", 12, 23));
	sk_policy_free(people("release: { approvers: 6 }\n", 1, 0, "E-TYPE", 12, 23));
	sk_policy_free(people("release: { original: { approvers: 1 } }\n", 0, 1, "W-RELEASE-ORIGINAL-ONE", 12, 35));
	sk_policy_free(people("release: { original: 2 }\n", 1, 0, "E-TYPE", 12, 22));
}

static void gateway_http(void **state)
{
	(void)state;
	sk_policy *p = people("gateway:\n"                                   /* 12 */
			      "  http:\n"                                      /* 13 */
			      "    - { zone: internet, listen: 203.0.113.1:443 }\n" /* 14 */
			      "    - { zone: lgwan, listen: \"[2001:db8::1]:8443\" }\n" /* 15 */
			      "  tls: { cert: /etc/sekisho/tls.crt, key: /etc/sekisho/tls.key }\n"
			      "  console_zone: lgwan\n"
			      "  sendmail: /usr/lib/sendmail\n"
			      "  console_url: https://sekisho.example.lg.jp/\n",
			      0, 0, NULL, 0, 0);
	sk_policy_gateway g;
	sk_policy_gateway_get(p, &g);
	assert_int_equal(g.nhttp, 2);
	assert_string_equal(g.http[0].zone, "internet");
	assert_string_equal(g.http[0].addr, "203.0.113.1");
	assert_int_equal(g.http[0].port, 443);
	assert_int_equal(g.http[0].line, 14);
	assert_string_equal(g.http[1].addr, "2001:db8::1");
	assert_int_equal(g.http[1].port, 8443);
	assert_string_equal(g.tls_cert, "/etc/sekisho/tls.crt");
	assert_string_equal(g.tls_key, "/etc/sekisho/tls.key");
	assert_string_equal(g.console_zone, "lgwan");
	assert_string_equal(g.sendmail, "/usr/lib/sendmail");
	assert_string_equal(g.console_url, "https://sekisho.example.lg.jp/");
	sk_policy_free(p);
	sk_policy_free(people("gateway:\n  http:\n    - { zone: mynumber, listen: 192.0.2.1:443 }\n", 1, 0,
	       "E-GATEWAY-HTTP-MYNUMBER", 14, 15));
	sk_policy_free(people("gateway:\n  http:\n    - { zone: kyoto, listen: 192.0.2.1:443 }\n", 1, 0,
	       "E-ZONE-UNKNOWN", 14, 15));
	sk_policy_free(people("gateway:\n  http:\n    - { zone: lgwan, listen: 192.0.2.1 }\n", 1, 0,
	       "E-GATEWAY-HTTP", 14, 30));
	sk_policy_free(people("gateway:\n  http:\n    - { zone: lgwan, listen: \"192.0.2.1:70000\" }\n", 1, 0,
	       "E-GATEWAY-HTTP", 14, 30));
	sk_policy_free(people("gateway:\n  http:\n    - { zone: lgwan, listen: 192.0.2.1:443 }\n"
	       "    - { zone: internet, listen: 192.0.2.1:443 }\n",
	       1, 0, "E-GATEWAY-HTTP-DUPLICATE", 15, 33));
	sk_policy_free(people("gateway:\n  http:\n    - { zone: lgwan }\n", 1, 0, "E-KEY-MISSING", 14, 7));
	sk_policy_free(people("gateway:\n  http:\n    - { zone: internet, listen: 192.0.2.1:443 }\n", 0, 1,
	       "W-GATEWAY-CONSOLE-NO-LISTENER", 14, 0));
	sk_policy_free(people("gateway:\n  console_zone: mynumber\n", 1, 0, "E-GATEWAY-HTTP-MYNUMBER", 13, 17));
	sk_policy_free(people("gateway:\n  console_zone: nowhere\n", 1, 0, "E-ZONE-UNKNOWN", 13, 17));
	sk_policy_free(people("gateway:\n  tls: { cert: tls.crt, key: /k }\n", 1, 0, "E-GATEWAY-PATH", 13, 16));
	sk_policy_free(people("gateway:\n  tls: { cert: /c }\n", 1, 0, "E-KEY-MISSING", 13, 8));
	sk_policy_free(people("gateway:\n  sendmail: sendmail\n", 1, 0, "E-GATEWAY-PATH", 13, 13));
	sk_policy_free(people("gateway:\n  console_url: \"javascript:alert(1)\"\n", 1, 0, "E-GATEWAY-CONSOLE-URL",
	       13, 16));
	sk_policy_free(people("gateway:\n  console_url: \"https://a b/\"\n", 1, 0, "E-GATEWAY-CONSOLE-URL", 13, 16));
	/* the limit: SK_POLICY_HTTP_MAX listeners, one more is an error */
	sk_buf b;
	sk_buf_init(&b, 0);
	sk_buf_adds(&b, "gateway:\n  http:\n");
	for (int i = 0; i <= SK_POLICY_HTTP_MAX; i++)
		sk_buf_printf(&b, "    - { zone: lgwan, listen: 127.0.0.1:%d }\n", 8000 + i);
	sk_policy_free(people(sk_buf_str(&b), 1, 0, "E-GATEWAY-HTTP", (uint32_t)(14 + SK_POLICY_HTTP_MAX), 7));
	sk_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(minimal_and_default_files),
		cmocka_unit_test(gateway_section),
		cmocka_unit_test(gateway_errors),
		cmocka_unit_test(rule_mynumber_exception),
		cmocka_unit_test(rule_internet_lgwan),
		cmocka_unit_test(rule_allow_cross),
		cmocka_unit_test(names_and_keys),
		cmocka_unit_test(zones_and_networks),
		cmocka_unit_test(sections),
		cmocka_unit_test(format_languages),
		cmocka_unit_test(decisions),
		cmocka_unit_test(nftables),
		cmocka_unit_test(management),
		cmocka_unit_test(process_with_policy),
		cmocka_unit_test(people_section),
		cmocka_unit_test(people_errors),
		cmocka_unit_test(auth_and_release),
		cmocka_unit_test(gateway_http),
		cmocka_unit_test(milter_directions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
