/* The one path: every ingress calls sk_process(). */
#include "sekisho/core.h"
#include "sekisho/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sekisho/scan.h"
#include "sekisho/audit.h"
#include "sekisho/quarantine.h"

void sk_options_default(sk_options *o)
{
	memset(o, 0, sizeof(*o));
	o->profile = sk_profile_default();
	sk_budget_default(&o->budget);
	o->quarantine = NULL;
	o->audit = NULL;
}

void sk_result_free(sk_result *res)
{
	sk_report_free(&res->report);
}

/* Stores the original in the quarantine (fail closed: blocks the item when it cannot). */
static bool store_original(const sk_item *item, const sk_options *opt, const sk_input *in,
			   sk_result *res)
{
	if (!opt->quarantine)
		return true;
	sk_qmeta meta = {.name = item->name, .type = item->declared_type,
			 .src_zone = item->src_zone, .dst_zone = item->dst_zone,
			 .submitter = item->submitter};
	sk_error e;
	sk_error_clear(&e);
	char id[SK_QUARANTINE_ID_LEN];
	if (sk_quarantine_store(opt->quarantine, in, res->sha256, &meta, id, &e) != 0) {
		char d[160];
		snprintf(d, sizeof(d), "quarantine: %.140s", e.msg);
		sk_report_block(&res->report, SK_REASON_INTERNAL, NULL, d);
		return false;
	}
	snprintf(res->quarantine_id, sizeof(res->quarantine_id), "%s", id);
	return true;
}

/* After the verdict: the index row and the audit record. Either failing blocks the item
 * (every decision must be on record). */
static void record_decision(const sk_item *item, const sk_options *opt, sk_result *res)
{
	if (!opt->quarantine && !opt->audit)
		return;
	sk_report *r = &res->report;
	char hex[SK_SHA256_HEX], obj[128];
	sk_hex(res->sha256, SK_SHA256_LEN, hex);
	snprintf(obj, sizeof(obj), "item:%s sha256:%s", res->quarantine_id[0] ? res->quarantine_id : "-",
		 hex);
	for (int pass = 0; pass < 2; pass++) {
		sk_error e;
		sk_error_clear(&e);
		char result[96];
		bool blocked = r->verdict == SK_VERDICT_BLOCKED;
		snprintf(result, sizeof(result), "%s%s%s", sk_verdict_code(r->verdict),
			 blocked ? " " : "", blocked ? sk_reason_code(r->reason) : "");
		char *json = sk_result_json(res, item->name, NULL);
		int rc = 0;
		if (opt->audit) {
			/* the result JSON as detail, cut (at a character boundary) to the limit */
			size_t jl = json ? strlen(json) : 0;
			char *detail = json;
			char *cut = NULL;
			if (jl > SK_AUDIT_DETAIL_MAX && (cut = malloc(SK_AUDIT_DETAIL_MAX + 1))) {
				size_t k = SK_AUDIT_DETAIL_MAX - 16;
				while (k && ((unsigned char)json[k] & 0xc0) == 0x80)
					k--;
				memcpy(cut, json, k);
				memcpy(cut + k, " …(truncated)", sizeof(" …(truncated)"));
				detail = cut;
			}
			rc = sk_audit_append(opt->audit, item->submitter ? item->submitter : "cli",
					     "sanitize", obj, result, detail ? detail : "", NULL, &e);
			free(cut);
		}
		if (rc == 0 && opt->quarantine && res->quarantine_id[0]) {
			/* actions only: the JSON of the whole result minus what the row has */
			rc = sk_quarantine_decide(opt->quarantine, res->quarantine_id, res->type.code,
						  sk_verdict_code(r->verdict),
						  blocked ? sk_reason_code(r->reason) : NULL,
						  blocked ? r->reason_detail : NULL, json, &e);
		}
		free(json);
		if (rc && (pass == 1 || blocked)) /* the caller must say so: not on record */
			snprintf(res->unrecorded, sizeof(res->unrecorded), "%.150s", e.msg[0] ? e.msg : "?");
		if (rc == 0 || pass == 1 || blocked)
			return;
		/* not on record: blocked from now on; try to record that (second pass) */
		char d[160];
		snprintf(d, sizeof(d), "record: %.140s", e.msg);
		sk_report_block(r, SK_REASON_INTERNAL, NULL, d);
	}
}

static int process(const sk_item *item, const sk_options *opt, sk_output *out, sk_result *res,
		   sk_error *err);

int sk_process(const sk_item *item, const sk_options *opt, sk_output *out, sk_result *res,
	       sk_error *err)
{
	int rc = process(item, opt, out, res, err);
	record_decision(item, opt, res);
	return rc;
}

static int process(const sk_item *item, const sk_options *opt, sk_output *out, sk_result *res,
		   sk_error *err)
{
	memset(res, 0, sizeof(*res));
	sk_report_init(&res->report);
	res->type.code = "unknown";
	res->type.mime = "application/octet-stream";
	res->type.ext = "";

	sk_input in = item->input;
	sk_budget budget = opt->budget;
	sk_budget_start(&budget);

	int rc = sk_crypto_init(err);
	if (rc == 0)
		rc = sk_sha256_input(&in, res->sha256, err);
	if (rc) {
		sk_report_block(&res->report, SK_REASON_INTERNAL, NULL, err ? err->msg : NULL);
		return 0;
	}
	/* the flow policy and DLP decide first (DESIGN: flow lookup, then quarantine) */
	const sk_profile *profile = opt->profile;
	bool policy_blocked =
		opt->policy && sk_policy_apply(opt->policy, item, opt->today, &profile, res) != 0;
	/* the original is kept whatever the decision: a held item waits there for approval */
	if (!store_original(item, opt, &in, res) || policy_blocked)
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
	/* 1. true type, so that every verdict (a malware hit too) names it */
	rc = sk_detect(&in, item->name, &ctx.type, &lerr);
	if (rc) {
		ctx.type.code = NULL;
		sk_cdr_block(&ctx, rc == SK_ELIMIT ? SK_REASON_LIMIT_SIZE : SK_REASON_INTERNAL,
			     lerr.msg);
	}
	/* 2. malware scan of the whole item before any module parses it */
	if (rc == 0 && opt->clamd) {
		sk_scan_config sc = {.socket_spec = opt->clamd, .timeout_ms = opt->clamd_timeout_ms};
		sk_scan_result sr;
		sk_scan_clamd_cfg(&sc, &in, &sr, NULL);
		if (sr.reason != SK_REASON_NONE)
			rc = sk_cdr_block(&ctx, sr.reason, sr.detail);
	}
	/* 3. disarm and rebuild (sk_cdr_run uses the type detected above) */
	if (rc == 0)
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
	memcpy(res->report.out_ext, ctx.out_ext, sizeof(res->report.out_ext));
	sk_report_finish(&res->report);
	return 0;
}
