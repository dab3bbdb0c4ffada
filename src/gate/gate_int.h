/* The gate's steps shared between its files (internal to src/gate). */
#ifndef SK_GATE_INT_H
#define SK_GATE_INT_H

#include <stdbool.h>

#include "sekisho/core.h"
#include "sekisho/policy.h"

/* The flow decision of one item (flow.c). */
typedef struct sk_gate_flow {
	bool decided;             /* a policy decided (the fields below are set) */
	sk_policy_decision d;
	const sk_profile *profile; /* the file profile the engine uses */
	const char *pname;         /* its name ("default" for a held flow) */
	const sk_dlp *dlp;         /* the policy's detectors when the flow runs DLP, else NULL */
	unsigned dlp_kinds;        /* kinds whose action is not off (bit 1 << sk_dlp_kind) */
	/* the class the decision was made with: the item's class_level and its asset's
	 * class ("" when neither); an asset marking found by DLP that is not in the ledger
	 * ("" when none): the item is then held (sk_gate_flow_finish) */
	char class_spec[512];
	char asset_unknown[32];
} sk_gate_flow;

struct sk_ledger;

/* admit: the flow decision for item (src → dst on its channel, "file" when unset, with
 * its class). Fills res->decision/rule/profile. Returns 0 to go on (f->profile set), or
 * SK_EBLOCKED with res->report blocked policy-deny (deny, unknown or missing zones). A
 * held flow goes on: the hold is applied by sk_gate_flow_finish(). */
int sk_gate_flow_decide(const sk_policy *p, struct sk_ledger *ledger, const sk_item *item,
			int32_t today, sk_gate_flow *f, sk_result *res);

/* after the engine, before sk_gate_flow_finish: the asset markings DLP found in what will
 * be delivered ("noted asset-marking" entries, their detail the id). Each distinct id is
 * looked up in ledger; the item takes the asset's class with its own (the higher level of
 * each dimension) and the flow is decided again: a stricter decision (hold, deny) replaces
 * f->d and res->decision/rule, its rule naming the asset ("classification 機密性 >= 3A
 * (asset AS-0012: 機密性:3A,…)"); a less strict one changes nothing. Each asset found adds a
 * "noted asset" entry (detail "AS-0012 機密性:3A,完全性:2,可用性:1"). An id the ledger does
 * not have (or no ledger) is kept in f->asset_unknown. */
void sk_gate_flow_assets(sk_gate_flow *f, const sk_policy *p, struct sk_ledger *ledger,
			 const sk_item *item, int32_t today, sk_result *res);

/* after the engine (approved: an approved release, whose approval lifts the flow's hold
 * and a DLP hold; a DLP block still blocks): the flow's DLP actions on the findings the
 * engine reported on what will be delivered ("noted" mynumber / corporate-number / dlp-pattern / dlp-truncated /
 * dlp-unscanned entries), and the flow's hold. Blocks res with dlp (a DLP block) or held
 * (the flow's hold or a DLP hold); a verdict the engine or the scan blocked stands. */
void sk_gate_flow_finish(const sk_gate_flow *f, bool approved, sk_result *res);

/* A release rerun (release.c): item through the whole path like sk_process, without
 * storing a new original or recording (opt's quarantine and audit are not used), and
 * with the hold lifted: approved (sk_gate_flow_finish). */
int sk_gate_rerun(const sk_item *item, const sk_options *opt, sk_output *out, sk_result *res,
		  sk_error *err);

#endif
