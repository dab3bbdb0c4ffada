/* The whole path: detection, then whichever module the content selects. */
#include <stdlib.h>

#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_options o;
	fz_options(&o);
	sk_buf out;
	sk_buf_init(&out, 64u << 20);
	sk_output so;
	sk_output_buf(&so, &out);
	sk_item item = {.name = "fuzz.bin"};
	sk_input_mem(&item.input, data, size);
	sk_result res;
	sk_error err;
	if (sk_process(&item, &o, &so, &res, &err) != 0)
		abort(); /* memory output never fails with an I/O error */
	if (res.report.verdict == SK_VERDICT_BLOCKED && res.report.reason == SK_REASON_NONE)
		abort();
	sk_result_free(&res);
	sk_buf_free(&out);
	return 0;
}
