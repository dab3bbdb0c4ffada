/* Mail: phishing tells (src/mail/mail_phish.c) — links whose text shows another domain,
 * look-alikes of the internal domains, Authentication-Results; each rule alone, then
 * through sk_mail_sanitize (the notice, the text, the report's counts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "../../src/mail/mail_phish.h"
#include "sekisho/mail.h"
#include "testutil.h"

static const char *const INTERNAL[] = {"city.example.lg.jp", "example-kosha.or.jp", NULL};

/* ---- links ---- */

static void test_link_mismatch(void **state)
{
	(void)state;
	static const struct {
		const char *text, *href;
		bool mismatch;
	} C[] = {
		/* differences */
		{"https://www.city.example.lg.jp/login", "https://evil.example/x", true},
		{"city.example.lg.jp", "https://city-example.lg.jp.evil.com/", true},
		{"www.city.example.lg.jp", "http://example.com/", true},
		{"info@city.example.lg.jp", "mailto:phish@evil.example", true},
		{"https://city.example.lg.jp/", "https://city.example.lg.jp@evil.example/", true},
		{"https://example.co.jp/", "https://other.co.jp/", true},
		{"ＥＸＡＭＰＬＥ.com", "https://evil.example/", true},
		{"https://example.com", "https://", true}, /* a domain shown, no host to go to */
		/* the same registrable domain */
		{"https://city.example.lg.jp/", "http://city.example.lg.jp/", false},
		{"city.example.lg.jp", "https://www.city.example.lg.jp/kurashi/", false},
		{"https://www.example.com/a", "https://example.com/b", false},
		{"WWW.Example.COM", "https://example.com.", false},
		{"https://example.com:8443/", "https://example.com/", false},
		{"mail.example.co.jp", "https://www.example.co.jp/", false},
		{"例え.jp", "https://xn--r8jz45g.jp/", false},
		{"https://xn--r8jz45g.jp/", "https://例え.jp/", false},
		{"info@city.example.lg.jp", "mailto:info@city.example.lg.jp?subject=x", false},
		/* text that is no URL or domain */
		{"こちら", "https://evil.example/", false},
		{"click here", "https://evil.example/", false},
		{"report.pdf", "https://evil.example/report.pdf", false},
		{"1.5", "https://evil.example/", false},
		{"see example.com now", "https://evil.example/", false},
		{"", "https://evil.example/", false},
	};
	for (size_t i = 0; i < sizeof(C) / sizeof(C[0]); i++) {
		bool m = sk_mail_link_mismatch(C[i].text, strlen(C[i].text), C[i].href);
		if (m != C[i].mismatch)
			fail_msg("\"%s\" → %s: mismatch %d, expected %d", C[i].text, C[i].href, m,
				 C[i].mismatch);
	}
}

/* ---- look-alikes ---- */

static void test_lookalike(void **state)
{
	(void)state;
	static const struct {
		const char *d;
		sk_mail_lookalike k;
		const char *real;
	} C[] = {
		/* IDN homographs: Cyrillic 'с' and 'а', punycode, Greek, full-width, accents */
		{"сity.example.lg.jp", SK_MAIL_LOOK_HOMOGRAPH, "city.example.lg.jp"},
		{"city.exаmple.lg.jp", SK_MAIL_LOOK_HOMOGRAPH, "city.example.lg.jp"},
		{"xn--ity-3ed.example.lg.jp", SK_MAIL_LOOK_HOMOGRAPH, "city.example.lg.jp"},
		{"XN--ITY-3ED.EXAMPLE.LG.JP", SK_MAIL_LOOK_HOMOGRAPH, "city.example.lg.jp"},
		{"www.сity.example.lg.jp", SK_MAIL_LOOK_HOMOGRAPH, "city.example.lg.jp"},
		{"city.examplе.lg.jp", SK_MAIL_LOOK_HOMOGRAPH, "city.example.lg.jp"},
		{"city.exαmple.lg.jp", SK_MAIL_LOOK_HOMOGRAPH, "city.example.lg.jp"},
		{"ｃｉｔｙ.example.lg.jp", SK_MAIL_LOOK_HOMOGRAPH, "city.example.lg.jp"},
		{"city.exämple.lg.jp", SK_MAIL_LOOK_HOMOGRAPH, "city.example.lg.jp"},
		{"cit\xe2\x80\x8by.example.lg.jp", SK_MAIL_LOOK_HOMOGRAPH, "city.example.lg.jp"},
		/* one-character edits */
		{"city.examp1e.lg.jp", SK_MAIL_LOOK_EDIT, "city.example.lg.jp"},
		{"city.exampe.lg.jp", SK_MAIL_LOOK_EDIT, "city.example.lg.jp"},
		{"city.exxample.lg.jp", SK_MAIL_LOOK_EDIT, "city.example.lg.jp"},
		{"city.exmaple.lg.jp", SK_MAIL_LOOK_EDIT, "city.example.lg.jp"},
		{"cityexample.lg.jp", SK_MAIL_LOOK_EDIT, "city.example.lg.jp"},
		{"clty.example.lg.jp", SK_MAIL_LOOK_EDIT, "city.example.lg.jp"},
		{"mail.city.exampie.lg.jp", SK_MAIL_LOOK_EDIT, "city.example.lg.jp"},
		{"example-kosya.or.jp", SK_MAIL_LOOK_EDIT, "example-kosha.or.jp"},
		{"сity.examp1e.lg.jp", SK_MAIL_LOOK_EDIT, "city.example.lg.jp"},
		/* lg.jp imitated */
		{"city.example.lg-jp.com", SK_MAIL_LOOK_SUFFIX, "city.example.lg.jp"},
		{"city-example.lg.jp.evil.com", SK_MAIL_LOOK_SUFFIX, "city.example.lg.jp"},
		{"city.example.lg.jp.evil.com", SK_MAIL_LOOK_SUFFIX, "city.example.lg.jp"},
		{"city.example.lgjp.net", SK_MAIL_LOOK_SUFFIX, "city.example.lg.jp"},
		{"city.example.1g.jp", SK_MAIL_LOOK_EDIT, "city.example.lg.jp"},
		{"city.example.1g-jp.net", SK_MAIL_LOOK_SUFFIX, "city.example.lg.jp"},
		{"example-lg-jp.com", SK_MAIL_LOOK_SUFFIX, "city.example.lg.jp"},
		{"www.example.lg.jp.example.net", SK_MAIL_LOOK_SUFFIX, "city.example.lg.jp"},
		{"example-kosha-or-jp.com", SK_MAIL_LOOK_SUFFIX, "example-kosha.or.jp"},
		/* none: the domain itself, its sub-domains, unrelated ones */
		{"city.example.lg.jp", SK_MAIL_LOOK_NONE, NULL},
		{"CITY.EXAMPLE.LG.JP.", SK_MAIL_LOOK_NONE, NULL},
		{"www.city.example.lg.jp", SK_MAIL_LOOK_NONE, NULL},
		{"mail.kurashi.city.example.lg.jp", SK_MAIL_LOOK_NONE, NULL},
		{"example-kosha.or.jp", SK_MAIL_LOOK_NONE, NULL},
		{"pref.example.lg.jp", SK_MAIL_LOOK_NONE, NULL}, /* the prefecture of that name */
		{"city.other.lg.jp", SK_MAIL_LOOK_NONE, NULL},
		{"example.com", SK_MAIL_LOOK_NONE, NULL},
		{"evil.example", SK_MAIL_LOOK_NONE, NULL},
		{"google.com", SK_MAIL_LOOK_NONE, NULL},
		{"例え.jp", SK_MAIL_LOOK_NONE, NULL},
		{"xn--zz-invalid.example", SK_MAIL_LOOK_NONE, NULL},
		{"", SK_MAIL_LOOK_NONE, NULL},
	};
	for (size_t i = 0; i < sizeof(C) / sizeof(C[0]); i++) {
		const char *real = "unset";
		sk_mail_lookalike k = sk_mail_domain_lookalike(C[i].d, strlen(C[i].d), INTERNAL, &real);
		if (k != C[i].k || (C[i].real ? !real || strcmp(real, C[i].real) : real != NULL))
			fail_msg("%s: kind %d (%s), expected %d (%s)", C[i].d, k, real ? real : "-",
				 C[i].k, C[i].real ? C[i].real : "-");
	}
	/* no internal domains: nothing is a look-alike */
	assert_int_equal(sk_mail_domain_lookalike("сity.example.lg.jp", 19, NULL, NULL),
			 SK_MAIL_LOOK_NONE);
	/* internal domains in upper case */
	static const char *const UPPER[] = {"City.Example.LG.JP", NULL};
	assert_int_equal(sk_mail_domain_lookalike("city.examp1e.lg.jp", 18, UPPER, NULL),
			 SK_MAIL_LOOK_EDIT);
	assert_int_equal(sk_mail_domain_lookalike("city.example.lg-jp.com", 22, UPPER, NULL),
			 SK_MAIL_LOOK_SUFFIX);
	assert_int_equal(sk_mail_domain_lookalike("www.city.example.lg.jp", 22, UPPER, NULL),
			 SK_MAIL_LOOK_NONE);
	/* a short internal name: one-character edits are not looked for (a.jp, b.jp) */
	static const char *const SHORT[] = {"ab.jp", NULL};
	assert_int_equal(sk_mail_domain_lookalike("ac.jp", 5, SHORT, NULL), SK_MAIL_LOOK_NONE);
	/* over SK_MAIL_DOMAIN_MAX: not looked at; invalid UTF-8: none */
	char big[SK_MAIL_DOMAIN_MAX + 2];
	const char *tail = ".city.example.lg.jp.x.com";
	memset(big, 'a', sizeof(big));
	strcpy(big + SK_MAIL_DOMAIN_MAX - strlen(tail), tail);
	assert_int_equal(sk_mail_domain_lookalike(big, SK_MAIL_DOMAIN_MAX, INTERNAL, NULL),
			 SK_MAIL_LOOK_SUFFIX);
	memmove(big + 1, big, SK_MAIL_DOMAIN_MAX + 1);
	assert_int_equal(sk_mail_domain_lookalike(big, SK_MAIL_DOMAIN_MAX + 1, INTERNAL, NULL),
			 SK_MAIL_LOOK_NONE);
	assert_int_equal(sk_mail_domain_lookalike("c\xffity.example.lg.jp", 19, INTERNAL, NULL),
			 SK_MAIL_LOOK_NONE);
}

static void test_skeleton(void **state)
{
	(void)state;
	char s[64];
	assert_true(sk_mail_domain_skeleton("сіту.ехаmрle.lg.jp", strlen("сіту.ехаmрle.lg.jp"), s,
					    sizeof(s)));
	assert_string_equal(s, "ciтy.example.lg.jp"); /* Cyrillic т has no Latin look-alike */
	assert_true(sk_mail_domain_skeleton("xn--ity-3ed.EXAMPLE。lg．jp", strlen("xn--ity-3ed.EXAMPLE。lg．jp"),
					    s, sizeof(s)));
	assert_string_equal(s, "city.example.lg.jp");
	assert_false(sk_mail_domain_skeleton("city.example.lg.jp", 18, s, 10)); /* too small */
}

/* ---- Authentication-Results ---- */

static sk_mail_auth_result ar_of(const sk_mail_authres *a, sk_mail_auth_method m)
{
	sk_mail_auth_result r = SK_MAIL_AR_ABSENT;
	for (uint32_t i = 0; i < a->n; i++)
		if (a->r[i].method == m && a->r[i].result > r)
			r = a->r[i].result;
	return r;
}

static int parse(const char *v, sk_mail_authres *a)
{
	return sk_mail_authres_parse(v, strlen(v), a);
}

static void test_authres_parse(void **state)
{
	(void)state;
	sk_mail_authres a;
	assert_int_equal(parse(" mx.example.org; spf=fail smtp.mailfrom=a@b.example; "
			       "dkim=pass header.d=b.example; dmarc=fail (p=reject) header.from=b.example",
			       &a),
			 0);
	assert_string_equal(a.id, "mx.example.org");
	assert_int_equal(a.n, 3);
	assert_int_equal(ar_of(&a, SK_MAIL_AUTH_SPF), SK_MAIL_AR_FAIL);
	assert_int_equal(ar_of(&a, SK_MAIL_AUTH_DKIM), SK_MAIL_AR_PASS);
	assert_int_equal(ar_of(&a, SK_MAIL_AUTH_DMARC), SK_MAIL_AR_FAIL);
	/* version, comments (nested, with ';' and '='), quoted strings, folding, case */
	assert_int_equal(parse("\"MX.Example.Org\" 1 (the (receiving; =) MTA)\r\n\t; SPF (x;y) "
			       "= SoftFail reason=\"a; b=c\" smtp.mailfrom=\"x;y\"@b.example ;"
			       " dkim/1=none; arc=pass; iprev=fail policy.iprev=1.2.3.4",
			       &a),
			 0);
	assert_string_equal(a.id, "mx.example.org");
	assert_int_equal(a.n, 2); /* arc and iprev are not read */
	assert_int_equal(ar_of(&a, SK_MAIL_AUTH_SPF), SK_MAIL_AR_SOFTFAIL);
	assert_int_equal(ar_of(&a, SK_MAIL_AUTH_DKIM), SK_MAIL_AR_NONE);
	/* no result; a trailing ';'; results not known */
	assert_int_equal(parse("mx.example.org 1; none", &a), 0);
	assert_int_equal(a.n, 0);
	assert_int_equal(parse("mx.example.org; spf=pass;", &a), 0);
	assert_int_equal(ar_of(&a, SK_MAIL_AUTH_SPF), SK_MAIL_AR_PASS);
	assert_int_equal(parse("mx.example.org; spf=hardfail; dkim=weird; dmarc=temperror", &a), 0);
	assert_int_equal(ar_of(&a, SK_MAIL_AUTH_SPF), SK_MAIL_AR_FAIL);
	assert_int_equal(ar_of(&a, SK_MAIL_AUTH_DKIM), SK_MAIL_AR_ABSENT);
	assert_int_equal(ar_of(&a, SK_MAIL_AUTH_DMARC), SK_MAIL_AR_TEMPERROR);
	assert_int_equal(parse("mx; spf=permerror; dkim=neutral; dkim=policy", &a), 0);
	assert_int_equal(ar_of(&a, SK_MAIL_AUTH_SPF), SK_MAIL_AR_PERMERROR);
	/* malformed: nothing taken */
	static const char *const BAD[] = {
		"", "   ", "; spf=fail", "mx spf=fail", "mx; spf", "mx; spf=", "mx; =fail",
		"mx; spf=fail (unterminated", "mx; spf=\"fail\"", "\"mx; spf=fail",
		"mx; spf/=fail", "mx (a)) ; spf=fail", "mx; spf=fail (a (b)",
	};
	for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++)
		if (parse(BAD[i], &a) != SK_EFORMAT)
			fail_msg("\"%s\" taken as valid", BAD[i]);
	/* limits: the value's length, results per header, comment nesting */
	char *v = malloc(SK_MAIL_AR_VALUE_MAX + 2);
	assert_non_null(v);
	memset(v, ' ', SK_MAIL_AR_VALUE_MAX + 1);
	memcpy(v, "mx; spf=fail", 12);
	assert_int_equal(sk_mail_authres_parse(v, SK_MAIL_AR_VALUE_MAX, &a), 0);
	assert_int_equal(sk_mail_authres_parse(v, SK_MAIL_AR_VALUE_MAX + 1, &a), SK_EFORMAT);
	free(v);
	sk_buf b;
	sk_buf_init(&b, 1 << 20);
	sk_buf_adds(&b, "mx");
	for (int i = 0; i < SK_MAIL_AR_RESULTS_MAX; i++)
		sk_buf_adds(&b, "; dkim=pass");
	assert_int_equal(sk_mail_authres_parse(sk_buf_str(&b), b.len, &a), 0);
	assert_int_equal(a.n, SK_MAIL_AR_RESULTS_MAX);
	sk_buf_adds(&b, "; dkim=pass");
	assert_int_equal(sk_mail_authres_parse(sk_buf_str(&b), b.len, &a), SK_EFORMAT);
	sk_buf_reset(&b);
	sk_buf_adds(&b, "mx ");
	for (int i = 0; i < SK_MAIL_AR_COMMENT_DEPTH; i++)
		sk_buf_adds(&b, "(");
	for (int i = 0; i < SK_MAIL_AR_COMMENT_DEPTH; i++)
		sk_buf_adds(&b, ")");
	sk_buf_adds(&b, "; spf=fail");
	assert_int_equal(sk_mail_authres_parse(sk_buf_str(&b), b.len, &a), 0);
	sk_buf_reset(&b);
	sk_buf_adds(&b, "mx ");
	for (int i = 0; i <= SK_MAIL_AR_COMMENT_DEPTH; i++)
		sk_buf_adds(&b, "(");
	for (int i = 0; i <= SK_MAIL_AR_COMMENT_DEPTH; i++)
		sk_buf_adds(&b, ")");
	sk_buf_adds(&b, "; spf=fail");
	assert_int_equal(sk_mail_authres_parse(sk_buf_str(&b), b.len, &a), SK_EFORMAT);
	/* an embedded NUL ends nothing early: it is no token character */
	assert_int_equal(sk_mail_authres_parse("mx; spf=fail\0; dkim=fail", 24, &a), SK_EFORMAT);
	sk_buf_free(&b);
}

/* ---- through sk_mail_sanitize ---- */

typedef struct prun {
	sk_report rep;
	sk_mail_result res;
	char *text; /* the delivered text, decoded */
} prun;

static void run(const char *msg, bool en, const char *const *internal, prun *p)
{
	sk_mail_options o;
	sk_mail_options_default(&o);
	o.internal_domains = internal;
	o.lang = en ? SK_LANG_EN : SK_LANG_JA;
	sk_buf out;
	sk_buf_init(&out, SK_BUF_MAX_DEFAULT);
	sk_report_init(&p->rep);
	sk_error err;
	sk_error_clear(&err);
	assert_int_equal(sk_mail_sanitize(&o, NULL, (const uint8_t *)msg, strlen(msg), &out, &p->res,
					  &p->rep, &err),
			 0);
	assert_false(p->res.held);
	GMimeStream *st = g_mime_stream_mem_new_with_buffer((const char *)out.data, out.len);
	GMimeParser *gp = g_mime_parser_new_with_stream(st);
	GMimeMessage *m = g_mime_parser_construct_message(gp, NULL);
	assert_non_null(m);
	GMimeObject *body = g_mime_message_get_mime_part(m);
	assert_true(GMIME_IS_TEXT_PART(body));
	p->text = g_mime_text_part_get_text(GMIME_TEXT_PART(body));
	assert_non_null(p->text);
	g_object_unref(m);
	g_object_unref(gp);
	g_object_unref(st);
	sk_buf_free(&out);
}

static void pfree(prun *p)
{
	sk_report_free(&p->rep);
	g_free(p->text);
}

#define has tu_has
#define hasnt tu_hasnt

static const sk_report_entry *entry(const sk_report *r, const char *what, size_t nth)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].action == SK_ACTION_NOTED && !strcmp(r->v[i].what, what) && nth-- == 0)
			return &r->v[i];
	return NULL;
}

static const char PHISH[] =
	"From: =?UTF-8?B?5biC5b255omA?= <info@xn--ity-3ed.example.lg.jp>\n"
	"Reply-To: help@city.examp1e.lg.jp\n"
	"To: staff@city.example.lg.jp\n"
	"Subject: login\n"
	"Authentication-Results: mx.city.example.lg.jp;\n"
	"  spf=softfail (domain does not designate 192.0.2.1) smtp.mailfrom=evil.example;\n"
	"  dkim=none; dmarc=fail (p=none) header.from=xn--ity-3ed.example.lg.jp\n"
	"Received: from evil.example by mx.city.example.lg.jp\n"
	"Authentication-Results: mx.city.example.lg.jp; dkim=fail header.d=evil.example\n"
	"Authentication-Results: evil.example; spf=pass; dkim=pass; dmarc=pass\n"
	"Content-Type: text/html; charset=UTF-8\n\n"
	"<p>Log in: <a href=\"https://evil.example/x\">https://www.city.example.lg.jp/login</a>\n"
	"or <a href=\"http://city.example.lg.jp/\">https://www.city.example.lg.jp/</a>\n"
	"or <a href=\"https://evil2.example/\">city.example.lg.jp</a>\n"
	"<a href=\"https://city.example.lg-jp.com/a\">こちら</a>\n"
	"see https://city-example.lg.jp.evil.com/x and https://www.city.example.lg.jp/ok</p>\n";

static void test_sanitize_phish(void **state)
{
	(void)state;
	prun p;
	run(PHISH, false, INTERNAL, &p);
	/* the links: two differ from their text, each marked, counted in the notice */
	has(p.text, "<hxxps://evil[.]example/x> 【注意: 表示と異なるリンク先】");
	has(p.text, "<hxxps://evil2[.]example/> 【注意: 表示と異なるリンク先】");
	hasnt(p.text, "<hxxp://city[.]example[.]lg[.]jp/> 【注意");
	hasnt(p.text, "lg-jp[.]com/a> 【注意"); /* "こちら" is no domain */
	has(p.text, "[注意] 表示と異なるリンク先が 2 件あります");
	/* the look-alikes: From (homograph, both forms), Reply-To (edit), links (lg.jp) */
	has(p.text, "[注意] 自組織のドメインに似せたドメイン: 差出人 сity[.]example[.]lg[.]jp "
		    "(xn--ity-3ed[.]example[.]lg[.]jp) は city.example.lg.jp ではありません (紛らわしい文字)。");
	has(p.text, "返信先 city[.]examp1e[.]lg[.]jp は city.example.lg.jp ではありません (1 文字違い)。");
	has(p.text, "リンク city[.]example[.]lg-jp[.]com は city.example.lg.jp ではありません (lg.jp などの偽装)。");
	has(p.text, "リンク city-example[.]lg[.]jp[.]evil[.]com は");
	hasnt(p.text, "リンク www[.]city"); /* the real domain's links are none */
	/* Authentication-Results of the receiving MTA (the topmost's authserv-id): both of
	 * its headers, not the sender's own "pass" below */
	has(p.text, "[注意] 送信ドメイン認証: SPF 失敗の疑い (softfail)、DKIM 失敗 (fail)、DMARC 失敗 (fail)。");
	/* the notice comes before the text */
	assert_true(strstr(p.text, "送信ドメイン認証") < strstr(p.text, "Log in"));
	/* the report: counts the audit record carries */
	const sk_report_entry *e = entry(&p.rep, "link-mismatch", 0);
	assert_non_null(e);
	assert_int_equal(e->count, 2);
	assert_int_equal(tu_count(&p.rep, SK_ACTION_NOTED, "lookalike-domain"), 4);
	e = entry(&p.rep, "lookalike-domain", 0);
	assert_string_equal(e->detail, "xn--ity-3ed.example.lg.jp ~ city.example.lg.jp homograph from");
	e = entry(&p.rep, "auth-fail", 0);
	assert_non_null(e);
	assert_string_equal(e->detail, "spf=softfail dkim=fail dmarc=fail");
	assert_int_equal(p.rep.verdict, SK_VERDICT_SANITIZED); /* noted: a warning, no verdict */
	pfree(&p);

	/* English */
	run(PHISH, true, INTERNAL, &p);
	has(p.text, "<hxxps://evil[.]example/x> [WARNING: the link goes elsewhere than its text shows]");
	has(p.text, "[WARNING] 2 link(s) go elsewhere than their text shows");
	has(p.text, "[WARNING] Look-alike of your own domain: From сity[.]example[.]lg[.]jp "
		    "(xn--ity-3ed[.]example[.]lg[.]jp) is not city.example.lg.jp (confusable characters).");
	has(p.text, "is not city.example.lg.jp (one character different).");
	has(p.text, "[WARNING] Sender authentication: SPF probably failed (softfail), DKIM failed (fail), "
		    "DMARC failed (fail). The sender may be forged.");
	hasnt(p.text, "注意");
	pfree(&p);

	/* without internal domains: the links and Authentication-Results still, no look-alikes */
	run(PHISH, false, NULL, &p);
	has(p.text, "表示と異なるリンク先が 2 件");
	has(p.text, "送信ドメイン認証");
	hasnt(p.text, "似せたドメイン");
	assert_int_equal(tu_count(&p.rep, SK_ACTION_NOTED, "lookalike-domain"), 0);
	pfree(&p);
}

static void test_sanitize_clean(void **state)
{
	(void)state;
	/* the municipality's own mail: passes, its own links, a sub-domain: no tell at all */
	prun p;
	run("From: staff@city.example.lg.jp\n"
	    "Reply-To: desk@www.city.example.lg.jp\n"
	    "Subject: ok\n"
	    "Authentication-Results: mx.city.example.lg.jp; spf=pass smtp.mailfrom=city.example.lg.jp;"
	    " dkim=pass header.d=city.example.lg.jp; dkim=fail header.d=list.example; dmarc=pass\n"
	    "Content-Type: text/html; charset=UTF-8\n\n"
	    "<p><a href=\"https://www.city.example.lg.jp/a\">https://city.example.lg.jp/a</a>"
	    " <a href=\"https://example.com/\">こちら</a> https://kurashi.city.example.lg.jp/</p>\n",
	    false, INTERNAL, &p);
	hasnt(p.text, "[注意]");
	hasnt(p.text, "【注意");
	assert_int_equal(tu_count(&p.rep, SK_ACTION_NOTED, NULL), 0);
	pfree(&p);
	/* Authentication-Results only below (the sender's own, no MTA's): the first one read
	 * is the sender's — a "pass" it claims hides nothing the MTA said; its "fail" shown */
	run("From: a@example.com\nSubject: x\n"
	    "Authentication-Results: example.com; spf=none; dmarc=none\n\nhi\n", false, INTERNAL, &p);
	hasnt(p.text, "送信ドメイン認証");
	pfree(&p);
}

/* links in plain text as mailers write them in a text alternative: "text <target>" */
static void test_mark_plain(void **state)
{
	(void)state;
	sk_mail_phish ph;
	memset(&ph, 0, sizeof(ph));
	sk_buf t;
	sk_buf_init(&t, SK_BUF_MAX_DEFAULT);
	sk_buf_adds(&t, "ログイン: https://www.city.example.lg.jp/login <https://evil.example/x>\n"
			"Outlook: https://www.city.example.lg.jp/a<https://evil2.example/a>\n"
			"same: https://city.example.lg.jp/ <http://www.city.example.lg.jp/>\n"
			"words: こちら <https://evil.example/>\n"
			"mail: info@city.example.lg.jp <mailto:x@evil.example>\n"
			"marked: example.com <https://evil.example/> 【注意: 表示と異なるリンク先】\n"
			"open: example.com <https://evil.example/\n");
	assert_int_equal(sk_mail_phish_mark(&ph, false, &t), 0);
	assert_int_equal(ph.mismatch, 3);
	const char *s = sk_buf_str(&t);
	tu_has(s, "<https://evil.example/x> 【注意: 表示と異なるリンク先】\n");
	tu_has(s, "<https://evil2.example/a> 【注意: 表示と異なるリンク先】\n");
	tu_has(s, "<mailto:x@evil.example> 【注意: 表示と異なるリンク先】\n");
	tu_has(s, "<http://www.city.example.lg.jp/>\n");
	tu_has(s, "こちら <https://evil.example/>\n");
	tu_hasnt(s, "【注意: 表示と異なるリンク先】 【注意");
	tu_has(s, "open: example.com <https://evil.example/\n");
	/* limits: MARKS_MAX (1024) warnings written, every one counted; a target over 2048
	 * bytes is not looked at */
	sk_buf_reset(&t);
	for (int i = 0; i < 1025; i++)
		sk_buf_printf(&t, "a%d.example.com <https://evil.example/>\n", i);
	memset(&ph, 0, sizeof(ph));
	assert_int_equal(sk_mail_phish_mark(&ph, true, &t), 0);
	assert_int_equal(ph.mismatch, 1025);
	size_t k = 0;
	const char *w = sk_mail_link_warning(true);
	for (const char *p = sk_buf_str(&t); (p = strstr(p, w)); p += strlen(w))
		k++;
	assert_int_equal(k, 1024);
	for (size_t len = 2048; len <= 2049; len++) { /* the target's length */
		sk_buf_reset(&t);
		sk_buf_adds(&t, "example.com <https://evil.example/");
		for (size_t i = strlen("https://evil.example/"); i < len; i++)
			sk_buf_addc(&t, 'x');
		sk_buf_adds(&t, ">\n");
		memset(&ph, 0, sizeof(ph));
		assert_int_equal(sk_mail_phish_mark(&ph, false, &t), 0);
		assert_int_equal(ph.mismatch, len == 2048 ? 1 : 0);
	}
	sk_buf_free(&t);
}

static void test_sanitize_alternative(void **state)
{
	(void)state;
	/* a text/plain alternative is delivered (the HTML dropped): its links marked */
	prun p;
	run("From: a@evil.example\nSubject: x\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/alternative; boundary=B\n\n"
	    "--B\nContent-Type: text/plain; charset=UTF-8\n\n"
	    "Log in: https://www.city.example.lg.jp/login <https://evil.example/x>\n"
	    "--B\nContent-Type: text/html; charset=UTF-8\n\n"
	    "<a href=\"https://evil.example/x\">https://www.city.example.lg.jp/login</a>\n"
	    "--B--\n",
	    false, INTERNAL, &p);
	tu_has(p.text, "hxxps://www[.]city[.]example[.]lg[.]jp/login <hxxps://evil[.]example/x> 【注意: 表示と異なるリンク先】");
	tu_has(p.text, "表示と異なるリンク先が 1 件あります");
	assert_int_equal(entry(&p.rep, "link-mismatch", 0)->count, 1);
	pfree(&p);
}

/* limits of a message: Authentication-Results headers read, link hosts looked at */
static void test_phish_limits(void **state)
{
	(void)state;
	for (int extra = 0; extra < 2; extra++) {
		sk_buf m;
		sk_buf_init(&m, 1 << 24);
		sk_buf_adds(&m, "From: a@example.com\nSubject: x\n");
		int n = SK_MAIL_AR_HEADERS_MAX - 1 + extra;
		for (int i = 0; i < n; i++)
			sk_buf_adds(&m, "Authentication-Results: mx.example.org; spf=none\n");
		sk_buf_adds(&m, "Authentication-Results: mx.example.org; dmarc=fail\n\n");
		/* distinct link hosts, then a look-alike */
		int hosts = 1024 - 1 + extra;
		for (int i = 0; i < hosts; i++)
			sk_buf_printf(&m, "https://h%d.example.com/\n", i);
		sk_buf_adds(&m, "https://city.examp1e.lg.jp/\n");
		prun p;
		run(sk_buf_str(&m), false, INTERNAL, &p);
		if (!extra) {
			has(p.text, "DMARC 失敗");
			has(p.text, "リンク city[.]examp1e[.]lg[.]jp は");
		} else {
			hasnt(p.text, "DMARC 失敗");
			hasnt(p.text, "リンク city[.]examp1e[.]lg[.]jp は");
		}
		pfree(&p);
		sk_buf_free(&m);
	}
	/* more look-alikes than are named: counted */
	sk_buf m;
	sk_buf_init(&m, 1 << 20);
	sk_buf_adds(&m, "From: a@example.com\nSubject: x\n\n");
	for (int i = 0; i < SK_MAIL_LOOK_SHOWN + 3; i++)
		sk_buf_printf(&m, "https://city.example.lg.jp.e%d.com/\n", i);
	prun p;
	run(sk_buf_str(&m), false, INTERNAL, &p);
	has(p.text, "ほかにも似せたドメインが 3 件あります");
	assert_int_equal(tu_count(&p.rep, SK_ACTION_NOTED, "lookalike-domain"), SK_MAIL_LOOK_SHOWN + 1);
	pfree(&p);
	sk_buf_free(&m);
}

int main(void)
{
	g_mime_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_mismatch),
		cmocka_unit_test(test_lookalike),
		cmocka_unit_test(test_skeleton),
		cmocka_unit_test(test_authres_parse),
		cmocka_unit_test(test_sanitize_phish),
		cmocka_unit_test(test_sanitize_clean),
		cmocka_unit_test(test_mark_plain),
		cmocka_unit_test(test_sanitize_alternative),
		cmocka_unit_test(test_phish_limits),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_mime_shutdown();
	return rc;
}
