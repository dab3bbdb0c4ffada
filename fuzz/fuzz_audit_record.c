/* Canonical audit records read back from the database (list, verify). Checks: what
 * decodes encodes back to the very same bytes (one encoding per record), and checking
 * without a scratch buffer agrees with a full decode. */
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "sekisho/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_buf scratch, out;
	sk_buf_init(&scratch, 1 << 20);
	sk_buf_init(&out, 1 << 20);
	sk_audit_record r, c;
	int rc = sk_audit_record_decode(data, size, &r, &scratch, NULL);
	int rc2 = sk_audit_record_decode(data, size, &c, NULL, NULL);
	if ((rc == 0) != (rc2 == 0))
		abort();
	if (rc == 0) {
		if (c.seq != r.seq || c.time_us != r.time_us)
			abort();
		if (sk_audit_record_encode(&r, &out, NULL) != 0)
			abort();
		if (out.len != size || memcmp(out.data, data, size) != 0)
			abort();
	}
	sk_buf_free(&scratch);
	sk_buf_free(&out);
	return 0;
}
