/* The mail engine: the first byte picks the profile (DEL_ATTACH / SANITIZE_ATTACH),
 * the language and small limits, and whether the rest is the message or (bit 8) the bytes
 * of a TNEF attachment (winmail.dat, base64) in a fixed message, so that the TNEF reader's
 * parser is reached by every mutation; or (bit 16) a header value for the header readers
 * and writer alone (bit 32: an address header, bit 64: a Big5 hint); bit 128: internal
 * domains set (the look-alike checks of mail_phish.c run). Invariants: a delivered message
 * is written and carries X-Mail-Sanitized; a held one writes nothing, has a reason and a
 * blocked report. Headers: what the readers give is valid UTF-8 without control
 * characters; what the writer gives is 7-bit, its lines folded (none over 998 octets, each
 * continuation starting with whitespace), and a Subject reads back as the text written. */
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "fuzzutil.h"
#include "sekisho/mail.h"
#include "sekisho/name.h"

static void clean_utf8(const sk_buf *b)
{
	if (!sk_utf8_valid((const char *)sk_buf_data(b), sk_buf_len(b)))
		abort();
	const uint8_t *p = sk_buf_data(b);
	for (size_t i = 0; i < sk_buf_len(b); i++)
		if (p[i] < 0x20 || p[i] == 0x7f || (p[i] == 0xC2 && p[i + 1] <= 0x9F))
			abort(); /* C0, DEL, C1 */
}

static void folded_7bit(const sk_buf *b)
{
	const uint8_t *p = sk_buf_data(b);
	size_t n = sk_buf_len(b), col = 0;
	if (!n || p[n - 1] != '\n')
		abort();
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x80 || !p[i] || p[i] == '\r')
			abort();
		if (p[i] == '\n' && i + 1 < n && p[i + 1] != ' ' && p[i + 1] != '\t')
			abort(); /* a line that is not a continuation: a header injected */
		col = p[i] == '\n' ? 0 : col + 1;
		if (col > 998)
			abort();
	}
}

static const char *trimmed(const sk_buf *b, size_t *len)
{
	const char *t = sk_buf_str(b);
	size_t tl = sk_buf_len(b);
	while (tl && *t == ' ')
		t++, tl--;
	while (tl && t[tl - 1] == ' ')
		tl--;
	*len = tl;
	return t;
}

static void headers(uint8_t sel, const uint8_t *data, size_t size)
{
	char *v = malloc(size + 1);
	if (!v)
		return;
	memcpy(v, data, size);
	v[size] = 0;
	const char *hint = sel & 64 ? "big5" : NULL;
	sk_buf d, p, w, r;
	sk_buf_init(&d, SK_BUF_MAX_DEFAULT);
	sk_buf_init(&p, SK_BUF_MAX_DEFAULT);
	sk_buf_init(&w, SK_BUF_MAX_DEFAULT);
	sk_buf_init(&r, SK_BUF_MAX_DEFAULT);
	if (sk_mail_header_decode(v, strlen(v), hint, sel & 32, &d))
		abort();
	clean_utf8(&d);
	int rc = sk_mail_param_decode(v, "filename", hint, &p);
	if (rc && rc != SK_ENOTFOUND)
		abort();
	clean_utf8(&p);
	if (sk_mail_header_write(&w, sel & 32 ? "From" : "Subject", sk_buf_str(&d)))
		abort();
	folded_7bit(&w);
	if (!(sel & 32)) {
		/* read back: the text written, its ends trimmed */
		const char *x = sk_buf_str(&w) + strlen("Subject:");
		if (sk_mail_header_decode(x, strlen(x), NULL, false, &r))
			abort();
		size_t tl, ul;
		const char *t = trimmed(&d, &tl), *u = trimmed(&r, &ul);
		if (ul != tl || memcmp(u, t, tl))
			abort();
	}
	sk_buf_reset(&w);
	if (sk_mail_filename_param(&w, sk_buf_str(&p), sel & 32))
		abort();
	sk_buf_free(&d);
	sk_buf_free(&p);
	sk_buf_free(&w);
	sk_buf_free(&r);
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t sel = data[0];
	data++;
	size--;
	if (sel & 16) {
		headers(sel, data, size);
		return 0;
	}
	sk_mail_options o;
	sk_mail_options_default(&o);
	if (sel & 1)
		sk_mail_options_profile(&o, "sanitize");
	if (sel & 2)
		o.lang = SK_LANG_EN;
	static const char *const internal[] = {"city.example.lg.jp", NULL};
	if (sel & 128)
		o.internal_domains = internal;
	if (sel & 4) {
		o.max_parts = 8;
		o.max_depth = 3;
		o.max_text = 4096;
	}
	sk_options fo;
	fz_options(&fo);
	o.file_profile = fo.profile;
	sk_budget b = fo.budget;
	sk_budget_start(&b);
	sk_buf out;
	sk_buf_init(&out, SK_BUF_MAX_DEFAULT);
	sk_mail_result res;
	sk_report rep;
	sk_report_init(&rep);
	sk_error err;
	sk_error_clear(&err);
	sk_buf msg;
	sk_buf_init(&msg, SK_BUF_MAX_DEFAULT);
	if (sel & 8) {
		gchar *b64 = g_base64_encode(data, size);
		if (sk_buf_printf(&msg, "From: a@example.com\nSubject: tnef\nMIME-Version: 1.0\n"
					"Content-Type: multipart/mixed; boundary=B\n\n--B\n"
					"Content-Type: text/plain\n\nsee\n--B\n"
					"Content-Type: application/ms-tnef; name=winmail.dat\n"
					"Content-Transfer-Encoding: base64\n\n%s\n--B--\n",
				  b64))
			abort();
		g_free(b64);
		data = sk_buf_data(&msg);
		size = sk_buf_len(&msg);
	}
	int rc = sk_mail_sanitize(&o, &b, data, size, &out, &res, &rep, &err);
	if (rc == 0) {
		if (!res.held && (!sk_buf_len(&out) || !strstr(sk_buf_str(&out), "X-Mail-Sanitized: ")))
			abort();
		if (res.held && (res.reason == SK_REASON_NONE || sk_buf_len(&out) ||
				 rep.verdict != SK_VERDICT_BLOCKED))
			abort();
		if (!res.held && o.attach == SK_MAIL_DEL_ATTACH && res.reattached)
			abort();
	} else if (rc != SK_ENOMEM) {
		abort(); /* without a quarantine or audit nothing else may fail */
	}
	sk_report_free(&rep);
	sk_buf_free(&out);
	sk_buf_free(&msg);
	return 0;
}
