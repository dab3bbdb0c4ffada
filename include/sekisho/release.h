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
	/* kind release, complete, of a mail item with an envelope (sk_release_send): mail
	 * set; mail_sent when the result went to the MTA, else mail_error says why not (the
	 * send may be tried again; a rerun that blocked sends nothing and tells the sender) */
	bool mail, mail_sent;
	char mail_error[256];
} sk_release_outcome;

/* Approves request rid as who (rights r): sk_release_may_decide, then
 * sk_quarantine_request_approve with sk_release_needed(opt->policy, kind); when that
 * completes a release request, sk_release_run, and for a mail item with an envelope
 * sk_release_send (or, when the rerun blocked it, the sender's notice). opt gives the quarantine (required), the
 * audit log, the policy, the pool and the limits the rerun uses. A refusal is audited and
 * returns SK_EINVAL with *deny. out (may be NULL) says what happened. */
int sk_release_approve(const sk_options *opt, int64_t rid, const sk_qactor *who,
		       const sk_auth_rights *r, const char *comment, sk_release_outcome *out,
		       sk_qdeny *deny, sk_error *err);
/* Refuses request rid as who (the same rights as approving). A release request of a mail
 * item with an envelope: the sender is told (sk_release_mail_notice REFUSED, with the
 * comment); a notice that cannot be sent is kept on the item (mail_error) and audited, the
 * refusal stands. */
int sk_release_refuse(const sk_options *opt, int64_t rid, const sk_qactor *who,
		      const sk_auth_rights *r, const char *comment, sk_qdeny *deny, sk_error *err);
/* The rerun of an approved release request whose outcome is not recorded yet (also to
 * finish one a crash interrupted): the stored original (its hash checked) through the
 * gate with the flow's profile and without the hold, in a scratch file of the state
 * folder; delivered: stored as the item's result, the item released; blocked: nothing
 * deliverable, the reason recorded on the request (sk_quarantine_release_done). */
int sk_release_run(const sk_options *opt, int64_t rid, sk_release_outcome *out, sk_error *err);

/* ---- held mail and its envelope ---------------------------------------------------------
 *
 * A message the milter does not deliver (held for approval, or blocked) one of whose
 * envelope recipients is outside the policy's internal_domains is never replaced by a
 * notice to its recipients (no internal detail leaves): its original and envelope are
 * stored (sk_gate_mail, sk_item.env_*), the MTA drops it, and then the functions below
 * open its release request, tell its sender, and after approval send the released
 * result to the stored envelope (docs/mail.md "Outbound"). */

/* The requester of the release request the gate opens for held mail whose sender is no
 * console user: uid -1 (console users have ids > 0, so nobody is its requester and the
 * self-approval rule never names a person), name "milter". */
#define SK_RELEASE_SYSTEM_UID ((int64_t)-1)
#define SK_RELEASE_SYSTEM_NAME "milter"
/* Time allowed to the MTA to take a released message (sk_notify_deliver). */
#define SK_RELEASE_SEND_TIMEOUT_S 120

/* Opens the release request of mail item id, held for approval and stored with its
 * envelope, on behalf of its sender: requester is the console user whose mail address is
 * the envelope sender, or NULL for the system requester (SK_RELEASE_SYSTEM_UID, "milter");
 * the reason names the rule that held it; sk_release_needed(opt->policy) approvals.
 * *rid (may be NULL) gets the request's id. SK_EINVAL with err when the item is no held
 * mail with an envelope or already has a pending request. */
int sk_release_mail_request(const sk_options *opt, const char *id, const sk_qactor *requester,
			    int64_t *rid, sk_error *err);

typedef enum sk_release_notice {
	SK_RELEASE_NOTICE_HELD = 0, /* held for approval (the rule, the findings, the item id) */
	SK_RELEASE_NOTICE_BLOCKED,  /* not sent: blocked (by a rule, a limit, malware …) */
	SK_RELEASE_NOTICE_REFUSED,  /* its release was refused: not sent (the bounce) */
} sk_release_notice;

/* Tells the sender of mail item id (its envelope sender) what happened to the message,
 * in Japanese then English, through the policy's gateway.sendmail (sk_notify_send): the
 * recipients, the reason, WHICH rule held or blocked it and the DLP findings as recorded
 * (masked: never the number itself), the item id to quote; REFUSED: who refused and the
 * comment. Only a sender inside the policy's internal_domains is told (no internal detail
 * leaves): *sent (may be NULL) false and 0 when there is nobody to tell (no envelope, the
 * null sender, a sender outside, no policy). Audited: actor by, action "mail-notice",
 * result "sent KIND" or "failed KIND"; a failure is also kept on the item (mail_error)
 * and returned (SK_EIO). */
int sk_release_mail_notice(const sk_options *opt, const char *id, sk_release_notice kind,
			   const char *by, const char *comment, bool *sent, sk_error *err);

/* Sends mail item id's released result to its stored envelope: `SENDMAIL -oi -f SENDER --
 * RCPT…` (sk_notify_deliver with the policy's gateway.sendmail, /usr/sbin/sendmail without
 * one). The MTA's own submission path (pickup) takes it: Postfix's smtpd_milters do not
 * see it again. The item must be released with a result, have an envelope and not be
 * sent yet (SK_EINVAL otherwise: nothing is sent twice). The result's hash is checked
 * first. Audited: actor by, action "mail-send", result "sent" or "failed", detail the
 * envelope; the outcome is kept on the item (sk_quarantine_mail_done). SK_EIO when the MTA
 * did not take it (err says why; it may be tried again). */
int sk_release_send(const sk_options *opt, const char *id, const char *by, sk_error *err);

/* The console's upload: item through sk_process (opt->quarantine required; audit, pool,
 * policy as given) with the output in a private scratch file inside the state folder,
 * stored as the item's result when it is delivered (clean or sanitized; never when held
 * or blocked). res as sk_process; returns 0 when a verdict was reached and, when
 * delivered, the result stored. */
int sk_gate_submit(const sk_item *item, const sk_options *opt, sk_result *res, sk_error *err);

#endif
