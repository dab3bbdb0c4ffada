/* sekisho — release of held items and originals, and the console's upload path.
 *
 * Who may decide a request is checked here, in one place, from the policy and the
 * approver's rights (auth.h); the quarantine enforces the rest (never the requester,
 * never twice, still pending). An approved release request of a held item makes its
 * result by running the stored original through the gate again with the flow's profile
 * (the policy decides again for the same zones, channel and class; the hold itself is
 * what the approval lifts, a DLP block still blocks); an approved original request makes
 * the original available to its requester (sk_quarantine_original_open). */
#ifndef SEKISHO_RELEASE_H
#define SEKISHO_RELEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "sekisho/auth.h"
#include "sekisho/core.h"
#include "sekisho/quarantine.h"

struct sk_policy;

/* Approvals a request of kind needs under p: sk_policy_approvals (p NULL: 1 for release,
 * 2 for original — the two-person rule for originals), at most SK_QREQUEST_NEEDED_MAX. */
unsigned sk_release_needed(const struct sk_policy *p, sk_qkind kind);

/* 0 when who (with rights r under p) may approve or refuse rq about item it; SK_EINVAL
 * with *deny (may be NULL) otherwise: the requester (SELF_APPROVAL, by uid); an item held
 * for a role: who must hold that role; an item without a hold role: SK_PERM_APPROVE and,
 * when the item has a section, the same section (NOT_APPROVER); kind original also needs
 * SK_PERM_RELEASE_ORIGINAL (NO_RIGHT). */
int sk_release_may_decide(const struct sk_policy *p, const sk_qitem *it, const sk_qrequest *rq,
			  const sk_qactor *who, const sk_auth_rights *r, sk_qdeny *deny);

typedef struct sk_release_outcome {
	bool complete;      /* the request reached its approvals */
	bool released;      /* kind release: the result is stored (downloadable) */
	sk_verdict verdict; /* kind release, complete: the rerun's verdict */
	sk_reason reason;   /* blocked: why */
	char detail[256];   /* blocked: the reason's detail */
} sk_release_outcome;

/* Approves request rid as who (rights r): sk_release_may_decide, then
 * sk_quarantine_request_approve with sk_release_needed(opt->policy, kind); when that
 * completes a release request, sk_release_run. opt gives the quarantine (required), the
 * audit log, the policy, the pool and the limits the rerun uses. A refusal is audited and
 * returns SK_EINVAL with *deny. out (may be NULL) says what happened. */
int sk_release_approve(const sk_options *opt, int64_t rid, const sk_qactor *who,
		       const sk_auth_rights *r, const char *comment, sk_release_outcome *out,
		       sk_qdeny *deny, sk_error *err);
/* Refuses request rid as who (the same rights as approving). */
int sk_release_refuse(const sk_options *opt, int64_t rid, const sk_qactor *who,
		      const sk_auth_rights *r, const char *comment, sk_qdeny *deny, sk_error *err);
/* The rerun of an approved release request whose outcome is not recorded yet (also to
 * finish one a crash interrupted): the stored original (its hash checked) through the
 * gate with the flow's profile and without the hold, in a scratch file of the state
 * folder; delivered: stored as the item's result, the item released; blocked: nothing
 * deliverable, the reason recorded on the request (sk_quarantine_release_done). */
int sk_release_run(const sk_options *opt, int64_t rid, sk_release_outcome *out, sk_error *err);

/* The console's upload: item through sk_process (opt->quarantine required; audit, pool,
 * policy as given) with the output in a private scratch file inside the state folder,
 * stored as the item's result when it is delivered (clean or sanitized; never when held
 * or blocked). res as sk_process; returns 0 when a verdict was reached and, when
 * delivered, the result stored. */
int sk_gate_submit(const sk_item *item, const sk_options *opt, sk_result *res, sk_error *err);

#endif
