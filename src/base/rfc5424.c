#include "sekisho/rfc5424.h"

#include <stdint.h>

int sk_rfc5424_sd_value(sk_buf *b, const char *s)
{
	int rc = 0;
	for (; rc == 0 && s && *s; s++) {
		if ((unsigned char)*s < 32 || *s == 127)
			continue;
		if (*s == '"' || *s == '\\' || *s == ']')
			rc = sk_buf_addc(b, '\\');
		if (rc == 0)
			rc = sk_buf_addc(b, (uint8_t)*s);
	}
	return rc;
}

void sk_rfc5424_header_field(char *out, size_t outsz, const char *s, size_t max)
{
	size_t j = 0;
	for (; s && *s && j + 1 < outsz && j < max; s++)
		if (*s > 32 && *s < 127)
			out[j++] = *s;
	if (j == 0)
		out[j++] = '-';
	out[j] = 0;
}
