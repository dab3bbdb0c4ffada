/* The gate's flow step: the policy's decision for an item at admit, and the flow's DLP
 * actions on the engine's findings after the rebuild (what will be delivered).
 *
 * src/policy only decides (sk_policy_decide); applying the decision to an item and its
 * result is the gate's, here. */
#include <stdio.h>
#include <string.h>

#include "gate_int.h"
#include "sekisho/ledger.h"
#include "sekisho/policy.h"

static int block(sk_result *res, sk_reason r, const char *detail)
{
	sk_report_block(&res->report, r, NULL, detail);
	return SK_EBLOCKED;
}

static int strictness(sk_flow_action a)
{
	switch (a) {
	case SK_FLOW_ALLOW: return 0;
	case SK_FLOW_SANITIZE: return 1;
	case SK_FLOW_HOLD: return 2;
	case SK_FLOW_DENY: return 3;
	}
	return 3;
}

/* "CLASS,ASSETCLASS" into out ("" and NULL parts left out); false when it does not fit */
static bool join_class(char *out, size_t n, const char *a, const char *b)
{
	bool ha = a && *a, hb = b && *b;
	int w = snprintf(out, n, "%s%s%s", ha ? a : "", ha && hb ? "," : "", hb ? b : "");
	return w >= 0 && (size_t)w < n;
}

/* The asset's class as a "noted asset" entry: "AS-0012 機密性:3A,完全性:2,可用性:1". */
static int note_asset(sk_result *res, const char *id, const char *cls, const char *where)
{
	char detail[300];
	snprintf(detail, sizeof(detail), "%s %s", id, cls);
	return sk_report_add(&res->report, SK_ACTION_NOTED, "asset", where ? where : "", detail, 1);
}

/* rule "… (asset ID: CLASS)" */
static void rule_with_asset(char *rule, size_t n, const char *base, const char *id, const char *cls)
{
	char t[600];
	snprintf(t, sizeof(t), "%.160s (asset %.30s: %.255s)", base, id, cls);
	size_t k = strlen(t);
	if (k >= n) { /* cut at a character boundary */
		k = n - 1;
		while (k && ((unsigned char)t[k] & 0xc0) == 0x80)
			k--;
	}
	memcpy(rule, t, k);
	rule[k] = 0;
}

int sk_gate_flow_decide(const sk_policy *p, sk_ledger *ledger, const sk_item *item,
			int32_t today, sk_gate_flow *f, sk_result *res)
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
	char acls[256] = "";
	if (item->asset) {
		/* the submitter's marking: the asset's class, never ignored */
		int rc = ledger ? sk_ledger_asset_class(ledger, item->asset, acls, sizeof(acls), &err)
				: sk_error_set(&err, SK_EINVAL, "asset %.40s: no asset ledger", item->asset);
		if (rc) {
			res->decision = "deny";
			snprintf(res->rule, sizeof(res->rule), "unknown-asset");
			return block(res, SK_REASON_POLICY_DENY, err.msg);
		}
	}
	if (!join_class(f->class_spec, sizeof(f->class_spec), item->class_level, acls)) {
		res->decision = "deny";
		snprintf(res->rule, sizeof(res->rule), "invalid-request");
		return block(res, SK_REASON_POLICY_DENY, "class too long");
	}
	if (sk_policy_decide(p, item->src_zone, item->dst_zone, channel, f->class_spec, today, d,
			     &err)) {
		res->decision = "deny";
		snprintf(res->rule, sizeof(res->rule), "invalid-request");
		return block(res, SK_REASON_POLICY_DENY, err.msg);
	}
	f->decided = true;
	if (item->asset) {
		/* the rule names the asset when its class changed the decision */
		sk_policy_decision d0;
		if (sk_policy_decide(p, item->src_zone, item->dst_zone, channel, item->class_level,
				     today, &d0, &err) != 0 ||
		    d0.action != d->action || strcmp(d0.rule, d->rule) != 0)
			rule_with_asset(d->rule, sizeof(d->rule), d->rule, item->asset, acls);
		if (note_asset(res, item->asset, acls, "") != 0)
			return block(res, SK_REASON_INTERNAL, "report");
	}
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

#define ASSETS_MAX 16 /* distinct asset markings looked up for one item */

void sk_gate_flow_assets(sk_gate_flow *f, const sk_policy *p, sk_ledger *ledger,
			 const sk_item *item, int32_t today, sk_result *res)
{
	if (!f->decided || res->report.verdict == SK_VERDICT_BLOCKED)
		return;
	const char *what = sk_dlp_what(SK_DLP_ASSET);
	const char *seen[ASSETS_MAX];
	size_t nseen = 0;
	const char *channel = item->channel ? item->channel : "file";
	size_t n = res->report.n; /* the entries added below are not markings */
	for (size_t i = 0; i < n; i++) {
		const sk_report_entry *e = &res->report.v[i];
		if (e->action != SK_ACTION_NOTED || !e->what || strcmp(e->what, what) || !e->detail)
			continue;
		const char *id = e->detail;
		bool dup = item->asset && !strcmp(item->asset, id);
		for (size_t j = 0; j < nseen && !dup; j++)
			dup = !strcmp(seen[j], id);
		if (dup)
			continue;
		if (nseen == ASSETS_MAX) {
			/* more than are looked up: not known, so held like an unknown one */
			snprintf(f->asset_unknown, sizeof(f->asset_unknown), "more than %d", ASSETS_MAX);
			break;
		}
		seen[nseen++] = id;
		char acls[256];
		sk_error err;
		sk_error_clear(&err);
		if (!ledger || sk_ledger_asset_class(ledger, id, acls, sizeof(acls), &err) != 0) {
			if (!f->asset_unknown[0])
				snprintf(f->asset_unknown, sizeof(f->asset_unknown), "%.30s", id);
			continue;
		}
		if (note_asset(res, id, acls, e->where) != 0) {
			block(res, SK_REASON_INTERNAL, "report");
			return;
		}
		e = &res->report.v[i]; /* the entries may have moved */
		char spec[sizeof(f->class_spec)];
		sk_policy_decision nd;
		if (!join_class(spec, sizeof(spec), f->class_spec, acls) ||
		    sk_policy_decide(p, item->src_zone, item->dst_zone, channel, spec, today, &nd,
				     &err) != 0) {
			block(res, SK_REASON_POLICY_DENY, "asset class");
			return;
		}
		if (strictness(nd.action) <= strictness(f->d.action))
			continue;
		/* stricter: the asset decides (the flow's DLP settings stay the flow's) */
		f->d.action = nd.action;
		f->d.role = nd.role;
		f->d.role_name = nd.role_name;
		f->d.line = nd.line;
		f->d.col = nd.col;
		rule_with_asset(f->d.rule, sizeof(f->d.rule), nd.rule, id, acls);
		res->decision = sk_flow_action_code(nd.action);
		snprintf(res->rule, sizeof(res->rule), "%s", f->d.rule);
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
	if (f->asset_unknown[0] && r->verdict != SK_VERDICT_BLOCKED) {
		/* a marking names an asset the ledger does not have: its class is not known */
		char why[96];
		snprintf(why, sizeof(why), "asset-unknown:%s", f->asset_unknown);
		stricter(d->dlp[SK_DLP_ASSET] == SK_DLP_ACTION_BLOCK ? SK_DLP_ACTION_BLOCK
								       : SK_DLP_ACTION_HOLD,
			 &worst, cause, sizeof(cause), why);
	}
	if (r->verdict == SK_VERDICT_BLOCKED)
		return; /* the engine (or the scan) blocked it: that reason stands */
	char detail[320];
	if (worst == SK_DLP_ACTION_BLOCK) { /* a DLP block stands first (it opens an incident) */
		snprintf(detail, sizeof(detail), "%s", cause);
		block(res, SK_REASON_DLP, detail);
		return;
	}
	if (d->action == SK_FLOW_DENY) {
		/* an asset marking's class denies the flow (sk_gate_flow_assets); an approval
		 * does not lift a deny */
		res->decision = "deny";
		res->profile[0] = 0;
		block(res, SK_REASON_POLICY_DENY, d->rule);
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
