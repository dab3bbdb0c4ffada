/* DLP reading a delivered message (sk_cdr_dlp: the bytes as an "eml" — a .msg rebuilt —
 * and as text, which is read as a message too when sk_mail_is_message says it is one):
 * GMime's parse, the decoded header, each part's transfer encoding and charset, the true
 * type of each attachment and the readings handed on (OOXML, messages attached as text)
 * under small limits. Invariants: the answer is 0 or a negative code; no finding shows a
 * digit; every entry has a place. */
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "sekisho/cdr.h"
#include "sekisho/dlp.h"
#include "sekisho/mail.h"

static sk_dlp *detectors(void)
{
	static sk_dlp *d;
	if (!d) {
		sk_dlp_config c;
		sk_dlp_config_default(&c);
		c.max_input = 4u << 20;
		c.max_matches = 1000;
		sk_error err;
		if (sk_dlp_new(&c, &d, &err))
			abort();
		sk_mail_init();
	}
	return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_options o;
	fz_options(&o);
	o.budget.max_seconds = 10;
	static const char *const codes[] = {"eml", "text"};
	for (size_t k = 0; k < sizeof(codes) / sizeof(codes[0]); k++) {
		sk_budget b = o.budget;
		sk_budget_start(&b);
		sk_report rep;
		sk_report_init(&rep);
		sk_input in;
		sk_input_mem(&in, data, size);
		sk_error err;
		sk_error_clear(&err);
		int rc = sk_cdr_dlp(detectors(), (1u << SK_DLP__COUNT) - 1, sk_type_find(codes[k]), &in,
				    "", &b, &rep, &err);
		if (rc > 0)
			abort();
		for (size_t i = 0; i < rep.n; i++) {
			const sk_report_entry *e = &rep.v[i];
			if (!e->what || !e->where)
				abort();
			bool number = !strcmp(e->what, sk_dlp_what(SK_DLP_MYNUMBER)) ||
				      !strcmp(e->what, sk_dlp_what(SK_DLP_CORPORATE));
			if (number && e->detail && strpbrk(e->detail, "0123456789"))
				abort();
		}
		sk_report_free(&rep);
	}
	return 0;
}
