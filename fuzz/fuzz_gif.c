/* The image module on GIF input (src/cdr/image_gif.c and the shared parts of image.c). */
#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_run_module(data, size, SK_KIND_GIF, "gif", "fuzz.gif");
	return 0;
}
