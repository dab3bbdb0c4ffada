/* The clamd reply parser: whatever clamd (or something pretending to be it) answers,
 * only a reply made of "stream: OK" lines is clean, a failure is never clean, and the
 * reason detail is printable ASCII that fits. */
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "sekisho/scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_scan_result res;
	memset(&res, 0x5a, sizeof(res));
	int rc = sk_scan_parse_reply((const char *)data, size, &res);
	if (rc != 0 && res.reason != SK_REASON_SCAN_UNAVAILABLE)
		abort();
	if (rc == 0 && res.reason != SK_REASON_NONE && res.reason != SK_REASON_MALWARE &&
	    res.reason != SK_REASON_LIMIT_SIZE)
		abort();
	size_t n = strnlen(res.detail, sizeof(res.detail));
	if (res.reason != SK_REASON_NONE || rc != 0) {
		if (n == sizeof(res.detail) || n == 0)
			abort(); /* unterminated, or a block without a detail */
		for (size_t i = 0; i < n; i++)
			if (res.detail[i] < 0x20 || res.detail[i] > 0x7e)
				abort();
	}
	if (res.reason == SK_REASON_NONE) {
		/* clean: every non-empty line is exactly "stream: OK" */
		size_t i = 0, lines = 0;
		while (i < size) {
			size_t j = i;
			while (j < size && data[j] != 0 && data[j] != '\n')
				j++;
			size_t len = j - i;
			if (len && data[i + len - 1] == '\r')
				len--;
			if (len) {
				if (len != 10 || memcmp(data + i, "stream: OK", 10))
					abort();
				lines++;
			}
			i = j + 1;
		}
		if (!lines)
			abort();
	}
	return 0;
}
