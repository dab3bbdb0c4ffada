/* The compound file reader (cfb.h): opened strictly under a small budget, every stream
 * read; then leniently without a budget (as detection does) and every entry walked. */
#include <stdlib.h>

#include "fuzzutil.h"
#include "sekisho/cfb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_options o;
	fz_options(&o);
	sk_input in;
	sk_input_mem(&in, data, size);
	sk_error err;
	sk_reason why;
	sk_cfb *c = NULL;
	sk_buf out;
	sk_buf_init(&out, 8u << 20);
	int rc = sk_cfb_open(&c, &in, &o.budget, 0, &why, &err);
	if (rc == SK_EBLOCKED && why == SK_REASON_NONE)
		abort(); /* blocked without a reason */
	if (rc == 0) {
		for (uint32_t i = 0; i < sk_cfb_count(c); i++) {
			const sk_cfb_entry *e = sk_cfb_entry_at(c, i);
			if (e->type != SK_CFB_STREAM)
				continue;
			sk_buf_reset(&out);
			rc = sk_cfb_read(c, i, &o.budget, 4u << 20, &out, &why, &err);
			if (rc == 0 && sk_buf_len(&out) != e->size)
				abort(); /* a stream is read whole or not at all */
			if (rc == SK_EBLOCKED && why == SK_REASON_NONE)
				abort();
		}
		sk_cfb_close(c);
	}
	if (sk_cfb_open(&c, &in, NULL, SK_CFB_LENIENT, &why, &err) == 0) {
		for (uint32_t i = 0; i < sk_cfb_count(c); i++) {
			uint32_t it = 0, n = 0;
			while (sk_cfb_next_child(c, i, &it) != SK_CFB_NONE)
				if (++n > sk_cfb_count(c))
					abort(); /* a child list never loops */
		}
		sk_cfb_find(c, SK_CFB_ROOT_ID, "WordDocument");
		sk_cfb_close(c);
	}
	sk_buf_free(&out);
	return 0;
}
