/* The text/CSV module. The first byte picks CSV or plain text (and .csv/.tsv/.txt as the
 * name) and a read chunk size; the rest is the content. Besides the usual run, the module
 * is run twice more directly, with the default chunk and with a tiny one: the outputs and
 * the reports must be the same (state carried across chunk boundaries). */
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"

extern size_t sk_cdr_text_chunk;

struct res {
	int rc;
	sk_buf out;
	sk_report rep;
};

static void run(const uint8_t *data, size_t size, sk_kind kind, const char *name, size_t chunk,
		struct res *r)
{
	sk_options o;
	fz_options(&o);
	sk_report_init(&r->rep);
	sk_buf_init(&r->out, 64u << 20);
	sk_cdr_ctx ctx = {
		.budget = &o.budget,
		.report = &r->rep,
		.profile = sk_profile_default(),
		.where = "",
		.name = name,
		.type = {.kind = kind, .code = kind == SK_KIND_CSV ? "csv" : "text"},
	};
	sk_input in;
	sk_input_mem(&in, data, size);
	sk_output so;
	sk_output_buf(&so, &r->out);
	sk_error err;
	sk_error_clear(&err);
	sk_cdr_text_chunk = chunk;
	r->rc = sk_cdr_find(&ctx.type)->sanitize(&ctx, &in, &so, &err);
	sk_cdr_text_chunk = 0;
	if (r->rc == SK_EBLOCKED && ctx.reason == SK_REASON_NONE)
		abort();
	sk_input_release(&in);
}

static void res_free(struct res *r)
{
	sk_buf_free(&r->out);
	sk_report_free(&r->rep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t sel = data[0];
	data++;
	size--;
	sk_kind kind = (sel & 1) ? SK_KIND_CSV : SK_KIND_TEXT;
	const char *name = (sel & 1) ? ((sel & 2) ? "f.tsv" : "f.csv") : "f.txt";
	fz_run_module(data, size, kind, kind == SK_KIND_CSV ? "csv" : "text", name);

	struct res a, b;
	run(data, size, kind, name, 0, &a);
	run(data, size, kind, name, 1 + (sel >> 2), &b);
	if (a.rc != b.rc)
		abort();
	if (a.rc == 0) {
		if (a.out.len != b.out.len || (a.out.len && memcmp(a.out.data, b.out.data, a.out.len)))
			abort();
		if (a.rep.n != b.rep.n)
			abort();
		for (size_t i = 0; i < a.rep.n; i++)
			if (a.rep.v[i].count != b.rep.v[i].count ||
			    strcmp(a.rep.v[i].where, b.rep.v[i].where))
				abort();
	}
	res_free(&a);
	res_free(&b);
	return 0;
}
