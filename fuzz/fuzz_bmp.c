/* The image module on BMP input (src/cdr/image_bmp.c and the shared parts of image.c). */
#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_run_module(data, size, SK_KIND_BMP, "bmp", "fuzz.bmp");
	return 0;
}
