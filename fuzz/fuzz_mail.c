/* The mail engine: the first byte picks the profile (DEL_ATTACH / SANITIZE_ATTACH),
 * the language and small limits, and whether the rest is the message or (bit 8) the bytes
 * of a TNEF attachment (winmail.dat, base64) in a fixed message, so that libytnef's
 * parser is reached by every mutation. Invariants: a delivered message
 * is written and carries X-Mail-Sanitized; a held one writes nothing, has a reason and a
 * blocked report. */
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "fuzzutil.h"
#include "sekisho/mail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t sel = data[0];
	data++;
	size--;
	sk_mail_options o;
	sk_mail_options_default(&o);
	if (sel & 1)
		sk_mail_options_profile(&o, "sanitize");
	if (sel & 2)
		o.lang = SK_LANG_EN;
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
