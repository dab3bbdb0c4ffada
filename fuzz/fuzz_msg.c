/* The Outlook .msg module on its own: the input is taken as a .msg whatever it holds (the
 * compound file reader, the MAPI properties, the bodies, the attachments through the
 * registry, embedded messages). */
#include "fuzzutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_run_module(data, size, SK_KIND_OLE2, "msg", "fuzz.msg");
	return 0;
}
