/* Detection alone (sk_detect): the magic numbers, the OLE2 directory walk, and the ZIP
 * family through sekisho/zipio.h (entry names, the "mimetype" entry). Every answer must be
 * a type of the table, and the same input must get the same answer twice. */
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "sekisho/detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_input in;
	sk_input_mem(&in, data, size);
	sk_type t, t2;
	sk_error err;
	if (sk_detect(&in, "fuzz.bin", &t, &err) != 0)
		abort(); /* a memory input never fails to read */
	const sk_type *f = sk_type_find(t.code);
	if (!f || f->kind != t.kind)
		abort();
	if (sk_detect(&in, "fuzz.bin", &t2, &err) != 0 || strcmp(t.code, t2.code) != 0)
		abort();
	sk_input_release(&in);
	return 0;
}
