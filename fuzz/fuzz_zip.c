/* The zip module on its own: the input is taken as a ZIP archive whatever it holds. */
#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_run_module(data, size, SK_KIND_ZIP, "zip", "fuzz.zip");
	return 0;
}
