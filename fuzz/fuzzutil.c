#include "fuzzutil.h"

#include <stdlib.h>
#include <string.h>

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

void fz_process(const uint8_t *data, size_t size, const char *name)
{
	sk_options o;
	fz_options(&o);
	sk_buf out;
	sk_buf_init(&out, 64u << 20);
	sk_output so;
	sk_output_buf(&so, &out);
	sk_item item = {.name = name};
	sk_input_mem(&item.input, data, size);
	sk_result res;
	sk_error err;
	if (sk_process(&item, &o, &so, &res, &err) != 0)
		abort(); /* memory output never fails with an I/O error */
	if (res.report.verdict == SK_VERDICT_BLOCKED && res.report.reason == SK_REASON_NONE)
		abort();
	if (res.report.verdict != SK_VERDICT_BLOCKED && res.type.code &&
	    !strcmp(res.type.code, "eml") && strcmp(res.report.out_ext, "eml") != 0)
		abort(); /* a message is always delivered rebuilt, as .eml */
	sk_result_free(&res);
	sk_buf_free(&out);
}
