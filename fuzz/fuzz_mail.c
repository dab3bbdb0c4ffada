/* The mail engine: the first byte picks the profile (DEL_ATTACH / SANITIZE_ATTACH),
 * the language and small limits; the rest is the message. Invariants: a delivered message
 * is written and carries X-Mail-Sanitized; a held one writes nothing, has a reason and a
 * blocked report. */
#include <stdlib.h>
#include <string.h>

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
	return 0;
}
