/* The phishing tells of mail (src/mail/mail_phish.c): the first byte picks the part.
 *  0: an Authentication-Results value — 0 or SK_EFORMAT, results within their limit and
 *     of the known methods and results, the authserv-id a C string;
 *  1: a domain — its look-alike kind names an internal domain, the internal domains and
 *     their sub-domains are none, a skeleton is valid UTF-8;
 *  2: a link's text and target (split at the first newline) — the answer is stable, a
 *     URL is never a mismatch of itself;
 *  3: HTML — its text through sk_mail_html_links, the warnings counted are written;
 *  4: plain text through sk_mail_phish_mark — it grows by the warnings written alone. */
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "../src/mail/mail_phish.h"
#include "fuzzutil.h"
#include "sekisho/name.h"

static const char *const INTERNAL[] = {"city.example.lg.jp", "example-kosha.or.jp", NULL};

static void authres(const uint8_t *d, size_t n)
{
	sk_mail_authres a;
	int rc = sk_mail_authres_parse((const char *)d, n, &a);
	if (rc != 0 && rc != SK_EFORMAT)
		abort();
	if (rc)
		return;
	if (a.n > SK_MAIL_AR_RESULTS_MAX || !memchr(a.id, 0, sizeof(a.id)) || !a.id[0])
		abort();
	for (uint32_t i = 0; i < a.n; i++)
		if (a.r[i].method >= SK_MAIL_AUTH__COUNT || a.r[i].result == SK_MAIL_AR_ABSENT ||
		    a.r[i].result > SK_MAIL_AR_FAIL)
			abort();
}

static void domain(const uint8_t *d, size_t n)
{
	const char *real = NULL;
	sk_mail_lookalike k = sk_mail_domain_lookalike((const char *)d, n, INTERNAL, &real);
	if (k != SK_MAIL_LOOK_NONE) {
		if (!real || (strcmp(real, INTERNAL[0]) && strcmp(real, INTERNAL[1])))
			abort();
		/* a sub-domain of an internal domain is its own */
		bool ascii = n > 0 && n <= 40;
		for (size_t i = 0; i < n && ascii; i++)
			ascii = d[i] > 0x20 && d[i] < 0x7f;
		if (ascii) {
			char *sub = g_strdup_printf("%.*s.%s", (int)n, (const char *)d, real);
			if (sk_mail_domain_lookalike(sub, strlen(sub), INTERNAL, NULL) != SK_MAIL_LOOK_NONE)
				abort();
			g_free(sub);
		}
	}
	char sk[SK_MAIL_DOMAIN_MAX * 2 + 8];
	if (sk_mail_domain_skeleton((const char *)d, n, sk, sizeof(sk)) &&
	    !sk_utf8_valid(sk, strlen(sk)))
		abort();
	for (int i = 0; INTERNAL[i]; i++)
		if (sk_mail_domain_lookalike(INTERNAL[i], strlen(INTERNAL[i]), INTERNAL, NULL))
			abort();
}

static void links(const uint8_t *d, size_t n)
{
	char *s = g_strndup((const char *)d, n); /* up to a NUL */
	char *nl = strchr(s, '\n');
	const char *href = nl ? nl + 1 : "https://example.com/";
	if (nl)
		*nl = 0;
	bool m = sk_mail_link_mismatch(s, strlen(s), href);
	if (m != sk_mail_link_mismatch(s, strlen(s), href))
		abort();
	bool ws = false;
	for (const char *p = s; *p; p++)
		ws |= g_ascii_isspace(*p);
	if (!strncmp(s, "https://", 8) && !ws && sk_mail_link_mismatch(s, strlen(s), s))
		abort();
	g_free(s);
}

static void html(const uint8_t *d, size_t n)
{
	sk_options fo;
	fz_options(&fo);
	sk_budget b = fo.budget;
	sk_budget_start(&b);
	sk_buf out;
	sk_buf_init(&out, SK_BUF_MAX_DEFAULT);
	uint32_t k = 0;
	sk_reason why;
	sk_error err;
	sk_error_clear(&err);
	int rc = sk_mail_html_links((const char *)d, n, &b, n & 1, &k, &out, &why, &err);
	if (rc == 0) {
		const char *w = sk_mail_link_warning(n & 1);
		uint32_t seen = 0;
		for (const char *p = sk_buf_str(&out); (p = strstr(p, w)); p += strlen(w))
			seen++;
		if (seen < k) /* the text may hold more (written by the sender) */
			abort();
	} else if (rc != SK_EBLOCKED && rc != SK_ENOMEM && rc != SK_ELIMIT) {
		abort();
	}
	sk_buf_free(&out);
}

static void mark(const uint8_t *d, size_t n)
{
	sk_buf t;
	sk_buf_init(&t, SK_BUF_MAX_DEFAULT);
	if (sk_buf_add(&t, d, n))
		abort();
	sk_mail_phish ph;
	memset(&ph, 0, sizeof(ph));
	if (sk_mail_phish_mark(&ph, n & 1, &t))
		abort();
	size_t wl = strlen(sk_mail_link_warning(n & 1));
	size_t marks = ph.mismatch > 1024 ? 1024 : ph.mismatch;
	if (sk_buf_len(&t) != n + marks * wl)
		abort();
	sk_buf_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t sel = data[0] % 5;
	data++;
	size--;
	if (sel == 0)
		authres(data, size);
	else if (sel == 1)
		domain(data, size);
	else if (sel == 2)
		links(data, size);
	else if (sel == 3)
		html(data, size);
	else
		mark(data, size);
	return 0;
}
