/* The gate's flow step: the policy's decision for an item at admit, and the flow's DLP
 * actions on the engine's findings after the rebuild (what will be delivered).
 *
 * src/policy only decides (sk_policy_decide); applying the decision to an item and its
 * result is the gate's, here. */
#include <stdio.h>
#include <string.h>

#include "gate_int.h"
#include "sekisho/policy.h"

static int block(sk_result *res, sk_reason r, const char *detail)
{
	sk_report_block(&res->report, r, NULL, detail);
	return SK_EBLOCKED;
}

int sk_gate_flow_decide(const sk_policy *p, const sk_item *item, int32_t today,
			sk_gate_flow *f, sk_result *res)
{
	memset(f, 0, sizeof(*f));
	if (!item->src_zone || !item->dst_zone) {
		res->decision = "deny";
		snprintf(res->rule, sizeof(res->rule), "no-zones");
		return block(res, SK_REASON_POLICY_DENY, "the item has no source or destination zone");
	}
	const char *channel = item->channel ? item->channel : "file";
	sk_policy_decision *d = &f->d;
	sk_error err;
	sk_error_clear(&err);
	if (sk_policy_decide(p, item->src_zone, item->dst_zone, channel, item->class_level, today, d,
			     &err)) {
		res->decision = "deny";
		snprintf(res->rule, sizeof(res->rule), "invalid-request");
		return block(res, SK_REASON_POLICY_DENY, err.msg);
	}
	f->decided = true;
	res->decision = sk_flow_action_code(d->action);
	snprintf(res->rule, sizeof(res->rule), "%s", d->rule);
	if (d->action == SK_FLOW_DENY)
		return block(res, SK_REASON_POLICY_DENY, d->note[0] ? d->note : d->rule);
	for (int k = 0; k < SK_DLP__COUNT; k++)
		if (d->dlp[k] != SK_DLP_ACTION_OFF)
			f->dlp_kinds |= 1u << k;
	f->dlp = f->dlp_kinds ? sk_policy_detectors(p) : NULL;
	/* a held flow still runs the engine: a DLP block is stronger than the hold, and the
	 * verdict of a held item names its type; what it rebuilt is not delivered */
	f->pname = d->action == SK_FLOW_SANITIZE && d->profile ? d->profile : "default";
	f->profile = sk_policy_profile(p, f->pname);
	if (!f->profile)
		return block(res, SK_REASON_INTERNAL, "profile");
	if (d->action == SK_FLOW_SANITIZE)
		snprintf(res->profile, sizeof(res->profile), "%s", f->pname);
	return 0;
}

/* The kind a DLP report entry stands for, or SK_DLP__COUNT (not a match's entry). */
static int entry_kind(const sk_report_entry *e)
{
	for (int k = 0; k < SK_DLP__COUNT; k++)
		if (!strcmp(e->what, sk_dlp_what((sk_dlp_kind)k)))
			return k;
	return SK_DLP__COUNT;
}

static void stricter(sk_dlp_action a, sk_dlp_action *worst, char *cause, size_t csz,
		     const char *why)
{
	if ((a == SK_DLP_ACTION_BLOCK && *worst != SK_DLP_ACTION_BLOCK) ||
	    (a == SK_DLP_ACTION_HOLD && *worst == SK_DLP_ACTION_RECORD)) {
		*worst = a;
		snprintf(cause, csz, "%s", why);
	}
}

void sk_gate_flow_finish(const sk_gate_flow *f, bool approved, sk_result *res)
{
	if (!f->decided)
		return;
	const sk_policy_decision *d = &f->d;
	sk_report *r = &res->report;
	sk_dlp_action worst = SK_DLP_ACTION_RECORD;
	char cause[96] = "";
	if (f->dlp && r->verdict != SK_VERDICT_BLOCKED) {
		for (size_t i = 0; i < r->n; i++) {
			const sk_report_entry *e = &r->v[i];
			if (e->action != SK_ACTION_NOTED || !e->what)
				continue;
			int k = entry_kind(e);
			if (k < SK_DLP__COUNT) {
				char rule[64];
				/* a pattern's entry names its rule first */
				if (k == SK_DLP_PATTERN && e->detail)
					snprintf(rule, sizeof(rule), "%.*s", (int)strcspn(e->detail, " "),
						 e->detail);
				else
					snprintf(rule, sizeof(rule), "%s", sk_dlp_kind_code((sk_dlp_kind)k));
				stricter(d->dlp[k], &worst, cause, sizeof(cause), rule);
			} else if (!strcmp(e->what, "dlp-truncated")) {
				/* findings past the limit were not looked at: the strictest action */
				for (int j = 0; j < SK_DLP__COUNT; j++)
					if (d->dlp[j] != SK_DLP_ACTION_OFF)
						stricter(d->dlp[j], &worst, cause, sizeof(cause),
							 "too-many-findings");
			} else if (!strcmp(e->what, "dlp-unscanned")) {
				char why[96];
				snprintf(why, sizeof(why), "dlp-unscanned:%s", e->detail ? e->detail : "?");
				stricter(d->dlp_unscannable, &worst, cause, sizeof(cause), why);
			}
		}
	}
	if (r->verdict == SK_VERDICT_BLOCKED)
		return; /* the engine (or the scan) blocked it: that reason stands */
	char detail[320];
	if (worst == SK_DLP_ACTION_BLOCK) {
		snprintf(detail, sizeof(detail), "%s", cause);
		block(res, SK_REASON_DLP, detail);
		return;
	}
	if (!approved && (d->action == SK_FLOW_HOLD || worst == SK_DLP_ACTION_HOLD)) {
		const char *role = d->action == SK_FLOW_HOLD ? d->role : d->dlp_role;
		res->decision = "hold";
		res->profile[0] = 0;
		snprintf(res->hold_role, sizeof(res->hold_role), "%s", role ? role : "");
		if (d->action != SK_FLOW_HOLD) {
			char rule[300];
			snprintf(rule, sizeof(rule), "dlp %s (%s)", cause, d->rule);
			snprintf(res->rule, sizeof(res->rule), "%.*s", (int)sizeof(res->rule) - 1, rule);
		}
		snprintf(detail, sizeof(detail), "%s: %s", role ? role : "",
			 d->action == SK_FLOW_HOLD ? d->rule : cause);
		block(res, SK_REASON_HELD, detail);
	}
}
