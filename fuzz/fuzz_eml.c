/* An .eml given as a file: the whole path under the name "fuzz.eml", so every text input is
 * a message to detection (detect.h) and goes to the eml module (the mail engine rebuilding
 * it, its attachments through the registry at the item's depth). A blocked item has a
 * reason; a delivered message is delivered as .eml (fz_process). */
#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_process(data, size, "fuzz.eml");
	return 0;
}
