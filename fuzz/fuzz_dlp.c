/* The DLP detectors on arbitrary bytes, in one buffer and streamed (with encoding
 * detection). Invariants: matches lie inside the text, are in offset order and never
 * show a digit. */
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "sekisho/dlp.h"

static void check(const sk_dlp_result *r, uint64_t n)
{
	for (size_t i = 0; i < r->n; i++) {
		const sk_dlp_match *m = &r->v[i];
		if (n && m->offset + m->length > n)
			abort();
		if (i && m->offset < r->v[i - 1].offset)
			abort();
		if (strpbrk(m->masked, "0123456789") || strpbrk(m->context_text, "0123456789"))
			abort();
		if (!m->line || !m->column)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_dlp_config c;
	sk_dlp_config_default(&c);
	c.max_input = 4u << 20;
	c.max_matches = 1000;
	if (size && (data[0] & 1))
		c.grouping_is_context = true;
	if (size && (data[0] & 2))
		c.require_context = false;
	sk_dlp_pattern pat[] = {{"id", "(ID|番号)[: ]?[0-9]{4,8}"}};
	c.patterns = pat;
	c.npatterns = size && (data[0] & 4) ? 1 : 0;
	c.window = size > 1 ? 1 + data[1] % 100 : 20;
	sk_dlp *d = NULL;
	sk_error err;
	if (sk_dlp_new(&c, &d, &err))
		abort();
	sk_dlp_result r;
	sk_dlp_result_init(&r);
	if (sk_dlp_scan_text(d, (const char *)data, size, &r, &err) == 0)
		check(&r, size);
	sk_dlp_result_free(&r);
	sk_dlp_result_init(&r);
	sk_input in;
	sk_input_mem(&in, data, size);
	if (sk_dlp_scan_input(d, &in, &r, &err) == 0)
		check(&r, 0); /* offsets are in the converted text */
	sk_dlp_result_free(&r);
	sk_dlp_free(d);
	return 0;
}
