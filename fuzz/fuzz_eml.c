/* An .eml given as a file: the whole path under the name "fuzz.eml", so every text input is
 * a message to detection (detect.h) and goes to the eml module (the mail engine rebuilding
 * it, its attachments through the registry at the item's depth). A delivered item is a
 * message (type eml, out_ext eml) or what detection typed otherwise; a blocked one has a
 * reason. */
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_options o;
	fz_options(&o);
	sk_buf out;
	sk_buf_init(&out, 64u << 20);
	sk_output so;
	sk_output_buf(&so, &out);
	sk_item item = {.name = "fuzz.eml"};
	sk_input_mem(&item.input, data, size);
	sk_result res;
	sk_error err;
	if (sk_process(&item, &o, &so, &res, &err) != 0)
		abort(); /* memory output never fails with an I/O error */
	if (res.report.verdict == SK_VERDICT_BLOCKED && res.report.reason == SK_REASON_NONE)
		abort();
	if (res.report.verdict != SK_VERDICT_BLOCKED && res.type.code &&
	    !strcmp(res.type.code, "eml") && strcmp(res.report.out_ext, "eml") != 0)
		abort(); /* a message is always delivered rebuilt, as .eml */
	sk_result_free(&res);
	sk_buf_free(&out);
	return 0;
}
