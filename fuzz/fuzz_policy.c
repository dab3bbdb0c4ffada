/* The policy file parser and checker, then every decision and the nftables output of
 * whatever parsed. Invariant: a policy that loads has no error diagnostics, every
 * decision names a rule, and sk_policy_check_request refuses exactly what
 * sk_policy_decide refuses (with a message). */
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "sekisho/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_policy *p = NULL;
	sk_policy_diags d;
	sk_policy_diags_init(&d);
	sk_error err;
	int32_t today = 20250601;
	int rc = sk_policy_parse((const char *)data, size, today, &p, &d, &err);
	if (rc == 0 && d.errors)
		abort();
	if (rc == SK_EFORMAT && (!d.errors || p))
		abort();
	sk_buf out;
	sk_buf_init(&out, 1u << 20);
	sk_policy_diags_format(&d, "f", SK_LANG_JA, &out);
	sk_buf_free(&out);
	if (p) {
		static const char *const ch[] = {"mail", "file", "web"};
		static const char *const cls[] = {NULL, "1", "2", "3A", "機密性:3", "x,,機密性="};
		for (size_t a = 0; a < sk_policy_zone_count(p); a++)
			for (size_t b = 0; b < sk_policy_zone_count(p); b++)
				for (int c = 0; c < 3; c++)
					for (int k = 0; k < 6; k++) {
						sk_policy_decision dec;
						char msg[256];
						int drc = sk_policy_decide(p, sk_policy_zone_id(p, a),
									   sk_policy_zone_id(p, b), ch[c], cls[k],
									   today, &dec, &err);
						int crc = sk_policy_check_request(p, sk_policy_zone_id(p, a),
										  sk_policy_zone_id(p, b), ch[c],
										  cls[k], SK_LANG_JA, msg, sizeof(msg));
						if ((drc == 0 && !dec.rule[0]) || (drc != 0) != (crc != 0) ||
						    (crc && !msg[0]))
							abort();
					}
		sk_buf_init(&out, 8u << 20);
		sk_policy_nft(p, today, &out, &err);
		sk_buf_free(&out);
		sk_dlp *dl = NULL;
		if (sk_policy_dlp(p, &dl, &err) == 0)
			sk_dlp_free(dl);
	}
	sk_policy_free(p);
	sk_policy_diags_free(&d);
	return 0;
}
