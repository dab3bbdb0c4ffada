/* The image module on PNG input (src/cdr/image_png.c and the shared parts of image.c). */
#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_run_module(data, size, SK_KIND_PNG, "png", "fuzz.png");
	return 0;
}
