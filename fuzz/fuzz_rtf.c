/* The .msg module's compressed RTF (LZFu) and its RTF reader, on the input as it is. */
#include <stdlib.h>

#include "../src/cdr/msg_int.h"
#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_options o;
	fz_options(&o);
	o.budget.max_nodes = 100000;
	sk_buf out;
	sk_buf_init(&out, 16u << 20);
	sk_reason why = SK_REASON_NONE;
	sk_error err;
	int rc = sk_msg_lzfu(data, size, &o.budget, &out, &why, &err);
	if (rc == SK_EBLOCKED && why == SK_REASON_NONE)
		abort();
	sk_buf_reset(&out);
	bool html;
	rc = sk_msg_rtf_text(data, size, &o.budget, &out, &html, &why, &err);
	if (rc == SK_EBLOCKED && why == SK_REASON_NONE)
		abort();
	sk_buf_free(&out);
	return 0;
}
