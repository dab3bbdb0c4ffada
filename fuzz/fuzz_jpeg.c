/* The image module on JPEG input (src/cdr/image_jpeg.c and the shared parts of image.c). */
#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_run_module(data, size, SK_KIND_JPEG, "jpeg", "fuzz.jpg");
	return 0;
}
