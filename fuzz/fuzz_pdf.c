/* The PDF module alone (qpdf parse, object walk, rewrite). */
#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_run_module(data, size, SK_KIND_PDF, "pdf", "fuzz.pdf");
	return 0;
}
