#include "fuzzutil.h"

#include <stdlib.h>

void fz_options(sk_options *o)
{
	sk_options_default(o);
	o->budget.max_input = 4u << 20;
	o->budget.max_expanded = 16u << 20;
	o->budget.max_entries = 256;
	o->budget.max_pixels = 4u << 20;
	o->budget.max_depth = 4;
}

void fz_run_module(const uint8_t *data, size_t size, sk_kind kind, const char *code,
		   const char *name)
{
	sk_options o;
	fz_options(&o);
	sk_report rep;
	sk_report_init(&rep);
	sk_cdr_ctx ctx = {
		.budget = &o.budget,
		.report = &rep,
		.profile = sk_profile_default(),
		.where = "",
		.name = name,
		.type = {.kind = kind, .code = code, .mime = "", .ext = ""},
	};
	const sk_cdr_module *m = sk_cdr_find(&ctx.type);
	if (!m)
		abort(); /* the harness names a type its module must accept */
	sk_buf out;
	sk_buf_init(&out, 64u << 20);
	sk_output so;
	sk_output_buf(&so, &out);
	sk_input in;
	sk_input_mem(&in, data, size);
	sk_error err;
	sk_error_clear(&err);
	int rc = m->sanitize(&ctx, &in, &so, &err);
	if (rc == SK_EBLOCKED && ctx.reason == SK_REASON_NONE)
		abort(); /* blocked without a reason */
	sk_input_release(&in);
	sk_buf_free(&out);
	sk_report_free(&rep);
}
