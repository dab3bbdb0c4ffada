/* The whole path: detection, then whichever module the content selects. */
#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_process(data, size, "fuzz.bin");
	return 0;
}
