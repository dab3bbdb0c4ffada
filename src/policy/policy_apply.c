/* The flow policy and DLP as the first step of the one path (sk_process). */
#include <stdio.h>
#include <string.h>

#include "policy_int.h"
#include "sekisho/core.h"
#include "sekisho/detect.h"

static bool text_kind(sk_kind k)
{
	return k == SK_KIND_TEXT || k == SK_KIND_CSV || k == SK_KIND_HTML || k == SK_KIND_XML ||
	       k == SK_KIND_SVG;
}

static const char *dlp_what(sk_dlp_kind k)
{
	return k == SK_DLP_MYNUMBER ? "mynumber" : k == SK_DLP_CORPORATE ? "corporate-number" : "dlp-pattern";
}

static int block(sk_result *res, sk_reason r, const char *detail)
{
	sk_report_block(&res->report, r, NULL, detail);
	return SK_EBLOCKED;
}

/* Runs the detectors; returns the strictest action a finding asks for (or -1: none),
 * the cause in cause. Errors block (fail closed). */
static int run_dlp(const sk_policy *p, const sk_item *item, const sk_policy_decision *d,
		   sk_result *res, sk_dlp_action *worst, char *cause, size_t csz)
{
	*worst = SK_DLP_ACTION_RECORD;
	cause[0] = 0;
	bool any = false;
	for (int k = 0; k < SK_DLP__COUNT; k++)
		any = any || d->dlp[k] != SK_DLP_ACTION_OFF;
	if (!any)
		return 0;
	sk_input in = item->input;
	sk_type t;
	sk_error err;
	sk_error_clear(&err);
	int rc = sk_detect(&in, item->name, &t, &err);
	if (rc == 0 && !text_kind(t.kind)) {
		if (in.loaded != item->input.loaded)
			sk_input_release(&in);
		sk_dlp_action a = d->dlp_unscannable;
		if (sk_report_add(&res->report, SK_ACTION_NOTED, "dlp-unscanned", "", t.code, 1))
			return block(res, SK_REASON_INTERNAL, "report");
		if (a == SK_DLP_ACTION_HOLD || a == SK_DLP_ACTION_BLOCK) {
			*worst = a;
			snprintf(cause, csz, "dlp-unscanned:%s", t.code);
		}
		return 0;
	}
	sk_dlp_result r;
	sk_dlp_result_init(&r);
	if (rc == 0)
		rc = sk_dlp_scan_input(p->dlp, &in, &r, &err);
	if (in.loaded != item->input.loaded)
		sk_input_release(&in);
	if (rc) {
		sk_dlp_result_free(&r);
		return block(res, rc == SK_ELIMIT ? SK_REASON_LIMIT_SIZE : SK_REASON_INTERNAL,
			     rc == SK_ELIMIT ? "dlp" : err.msg);
	}
	for (size_t i = 0; i < r.n; i++) {
		const sk_dlp_match *m = &r.v[i];
		sk_dlp_action a = d->dlp[m->kind];
		if (a == SK_DLP_ACTION_OFF)
			continue;
		char where[48];
		snprintf(where, sizeof(where), "line %u:%u", m->line, m->column);
		char detail[192];
		snprintf(detail, sizeof(detail), "%s%s%s", m->kind == SK_DLP_PATTERN ? m->rule : "",
			 m->kind == SK_DLP_PATTERN ? " " : "", m->masked);
		if (sk_report_add(&res->report, SK_ACTION_NOTED, dlp_what(m->kind), where, detail, 1)) {
			sk_dlp_result_free(&r);
			return block(res, SK_REASON_INTERNAL, "report");
		}
		if ((a == SK_DLP_ACTION_BLOCK && *worst != SK_DLP_ACTION_BLOCK) ||
		    (a == SK_DLP_ACTION_HOLD && *worst == SK_DLP_ACTION_RECORD)) {
			*worst = a;
			snprintf(cause, csz, "%s", m->rule);
		}
	}
	if (r.truncated) {
		/* findings past the limit were not looked at: assume the strictest action */
		for (int k = 0; k < SK_DLP__COUNT; k++) {
			sk_dlp_action a = d->dlp[k];
			if ((a == SK_DLP_ACTION_BLOCK && *worst != SK_DLP_ACTION_BLOCK) ||
			    (a == SK_DLP_ACTION_HOLD && *worst == SK_DLP_ACTION_RECORD)) {
				*worst = a;
				snprintf(cause, csz, "too-many-findings");
			}
		}
	}
	sk_dlp_result_free(&r);
	return 0;
}

int sk_policy_apply(const sk_policy *p, const sk_item *item, int32_t today,
		    const sk_profile **profile, sk_result *res)
{
	if (!item->src_zone || !item->dst_zone) {
		res->decision = "deny";
		snprintf(res->rule, sizeof(res->rule), "no-zones");
		return block(res, SK_REASON_POLICY_DENY, "the item has no source or destination zone");
	}
	const char *channel = item->channel ? item->channel : "file";
	sk_policy_decision d;
	sk_error err;
	sk_error_clear(&err);
	if (sk_policy_decide(p, item->src_zone, item->dst_zone, channel, item->class_level, today, &d,
			     &err)) {
		res->decision = "deny";
		snprintf(res->rule, sizeof(res->rule), "invalid-request");
		return block(res, SK_REASON_POLICY_DENY, err.msg);
	}
	res->decision = sk_flow_action_code(d.action);
	snprintf(res->rule, sizeof(res->rule), "%s", d.rule);
	if (d.action == SK_FLOW_DENY)
		return block(res, SK_REASON_POLICY_DENY, d.note[0] ? d.note : d.rule);

	sk_dlp_action worst;
	char cause[96];
	if (run_dlp(p, item, &d, res, &worst, cause, sizeof(cause)))
		return SK_EBLOCKED;
	char detail[320];
	if (worst == SK_DLP_ACTION_BLOCK) {
		snprintf(detail, sizeof(detail), "%s", cause);
		return block(res, SK_REASON_DLP, detail);
	}
	if (d.action == SK_FLOW_HOLD || worst == SK_DLP_ACTION_HOLD) {
		const char *role = d.action == SK_FLOW_HOLD ? d.role : d.dlp_role;
		res->decision = "hold";
		snprintf(res->hold_role, sizeof(res->hold_role), "%s", role ? role : "");
		if (d.action != SK_FLOW_HOLD) {
			char rule[300];
			snprintf(rule, sizeof(rule), "dlp %s (%s)", cause, d.rule);
			snprintf(res->rule, sizeof(res->rule), "%.*s", (int)sizeof(res->rule) - 1, rule);
		}
		snprintf(detail, sizeof(detail), "%s: %s", role ? role : "", d.action == SK_FLOW_HOLD ? d.rule : cause);
		return block(res, SK_REASON_HELD, detail);
	}
	const char *pname = d.action == SK_FLOW_SANITIZE && d.profile ? d.profile : "default";
	const sk_profile *pr = sk_policy_profile(p, pname);
	if (!pr)
		return block(res, SK_REASON_INTERNAL, "profile");
	snprintf(res->profile, sizeof(res->profile), "%s", pname);
	*profile = pr;
	return 0;
}
