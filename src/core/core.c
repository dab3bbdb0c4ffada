/* The one path: every ingress calls sk_process(). */
#include "sekisho/core.h"
#include "sekisho/policy.h"

#include <string.h>

void sk_options_default(sk_options *o)
{
	memset(o, 0, sizeof(*o));
	o->profile = sk_profile_default();
	sk_budget_default(&o->budget);
}

void sk_result_free(sk_result *res)
{
	sk_report_free(&res->report);
}

int sk_process(const sk_item *item, const sk_options *opt, sk_output *out, sk_result *res,
	       sk_error *err)
{
	memset(res, 0, sizeof(*res));
	sk_report_init(&res->report);
	res->type.code = "unknown";
	res->type.mime = "application/octet-stream";
	res->type.ext = "";

	sk_input in = item->input;
	sk_budget budget = opt->budget;
	budget.expanded = budget.entries = budget.pixels = 0;

	int rc = sk_crypto_init(err);
	if (rc == 0)
		rc = sk_sha256_input(&in, res->sha256, err);
	if (rc) {
		sk_report_block(&res->report, SK_REASON_INTERNAL, NULL, err ? err->msg : NULL);
		return 0;
	}
	/* the flow policy and DLP decide before anything parses the content */
	const sk_profile *profile = opt->profile;
	if (opt->policy && sk_policy_apply(opt->policy, item, opt->today, &profile, res) != 0)
		return 0;
	if (sk_budget_input(&budget, in.size) != SK_REASON_NONE) {
		sk_report_block(&res->report, SK_REASON_LIMIT_SIZE, NULL, "input");
		return 0;
	}

	sk_cdr_ctx ctx = {
		.budget = &budget,
		.report = &res->report,
		.profile = profile ? profile : sk_profile_default(),
		.depth = 0,
		.where = "",
		.name = item->name,
	};
	sk_error lerr;
	sk_error_clear(&lerr);
	rc = sk_cdr_run(&ctx, &in, out, &lerr);
	if (in.loaded != item->input.loaded)
		sk_input_release(&in);
	if (ctx.type.code)
		res->type = ctx.type;
	res->out_size = out->written;
	if (rc) {
		sk_report_block(&res->report, ctx.reason, NULL, ctx.reason_detail);
		/* An output that could not be written is the caller's I/O error. */
		if (lerr.code == SK_EIO && out->buf == NULL) {
			if (err)
				*err = lerr;
			return SK_EIO;
		}
		return 0;
	}
	sk_report_finish(&res->report);
	return 0;
}
