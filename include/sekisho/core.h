/* sekisho — the one path every item takes.
 *
 * sk_process(): admit (hash, flow decision, original kept in quarantine) → malware scan →
 * engine (true type, disarm/rebuild, DLP on what will be delivered; in a sandboxed worker
 * when options.pool is set) → finish (the flow's DLP actions and hold, verdict, index
 * row, audit record). A mail message takes the same path through sk_gate_mail(). No
 * ingress has a private shortcut around it. */
#ifndef SEKISHO_CORE_H
#define SEKISHO_CORE_H

#include <stdbool.h>

#include "sekisho/budget.h"
#include "sekisho/cdr.h"
#include "sekisho/detect.h"
#include "sekisho/hash.h"
#include "sekisho/io.h"
#include "sekisho/mail.h"
#include "sekisho/office.h"
#include "sekisho/report.h"

typedef struct sk_item {
	sk_input input;
	const char *name;          /* file name as submitted (may be NULL) */
	const char *declared_type; /* MIME type the sender declared (may be NULL) */
	const char *src_zone;      /* "internet", "lgwan", "mynumber" (may be NULL) */
	const char *dst_zone;
	const char *submitter;
	const char *channel;       /* "mail", "file", "web" for the flow policy (NULL: file) */
	const char *class_level;   /* classification, e.g. "機密性2" (NULL: the policy's default) */
	int64_t submitter_uid;     /* a console user's id (auth.h); 0: none */
	const char *submitter_section; /* the user's section; NULL: none */
	/* An information asset the submitter marked the item with (the id of a record of the
	 * asset ledger, "AS-0001"; NULL: none). At admit the gate looks it up in opt->ledger
	 * (sk_ledger_asset_class) and the item takes that asset's class, with class_level the
	 * higher level of each dimension; an unknown asset, or no ledger, blocks the item
	 * (policy-deny, rule "unknown-asset"). A front end checks the id first with
	 * sk_ledger_asset_class and refuses the request (HTTP 400, a CLI error). An asset
	 * marking that DLP finds in the delivered text (dlp.h: SK_DLP_ASSET) is looked up the
	 * same way after the engine, and can only make the decision stricter. */
	const char *asset;
	/* A mail message's SMTP envelope (the milter's MAIL FROM and RCPT TO, without angle
	 * brackets; env_from "" for the null sender, NULL when there is none), stored with the
	 * original (sk_qmeta) so that a held message can be sent to it after approval
	 * (sk_release_send). */
	const char *env_from;
	const char *const *env_rcpt;
	size_t env_nrcpt;
} sk_item;

struct sk_policy;

typedef struct sk_options {
	const sk_profile *profile; /* NULL: default */
	sk_budget budget;          /* limits (usage fields are reset by sk_process) */
	const char *clamd;         /* clamd socket ("unix:/path", "tcp:IP:PORT"); NULL: no scan */
	int clamd_timeout_ms;      /* per connect/write/read; 0: 30 s (see scan.h) */
	/* When set (see quarantine.h / audit.h): the original is stored durably right after
	 * hashing, before anything parses it (the item is blocked when that fails), and after
	 * the verdict the index row is updated and an audit record appended. */
	struct sk_quarantine *quarantine;
	struct sk_audit *audit;
	const struct sk_policy *policy; /* flow policy applied first (NULL: none) */
	/* The sandboxed workers that run the engine (pool.h); NULL: in this process, which
	 * only tests and debugging should do: the item's bytes are then parsed here. */
	struct sk_pool *pool;
	int32_t today;             /* yyyymmdd for exception expiry (0: the local date) */
	/* The incident ledger (ledger.h; NULL: none): after the decision is on record, an
	 * item blocked for malware or by a DLP rule, or whose worker crashed on it a second
	 * time, opens an incident linked to the item (sk_ledger_gate_event). */
	struct sk_ledger *ledger;
	/* Converting legacy formats (legacy Office, RTF, ODF, xlsb, Office 2003 XML) and
	 * 画像化 for the engine (engine.h: sk_engine_job.convert; cdr.h: sk_convert_fn), at
	 * any depth of the item: usually sk_gate_office_convert with an sk_gate_office.
	 * NULL: legacy formats are blocked unsupported-* (a profile may block them anyway),
	 * what the profile makes into images is blocked, a damaged PDF stays malformed. With
	 * a pool the worker asks the gate, which calls this hook in the thread that runs the
	 * item. */
	sk_convert_fn convert;
	void *convert_ctx;
} sk_options;

void sk_options_default(sk_options *o);

/* The gate's hold on an office pool (office.h), for sk_options.convert: the callers of the
 * gate own it (`sekisho sanitize`, each role of sekishod that runs items). lazy: the pool
 * is opened by the first item that needs a conversion (in the background: that item waits
 * for the first worker), so that a run without legacy files never starts LibreOffice;
 * else it is opened now, in the background. A pool that cannot be opened (no
 * sekisho-office, no LibreOffice) blocks the items that need it — unsupported-legacy-
 * office, -rtf or -odf, the reason in the detail — and is tried again after a minute.
 * cfg is copied (NULL: defaults). */
typedef struct sk_gate_office sk_gate_office;
int sk_gate_office_new(const sk_office_config *cfg, bool lazy, sk_gate_office **out,
		       sk_error *err);
void sk_gate_office_free(sk_gate_office *g);
/* The hook (cdr.h: sk_convert_fn) with ctx an sk_gate_office: sk_office_convert for
 * SK_CONVERT_OOXML, sk_office_image_document for SK_CONVERT_IMAGE (c->dpi and
 * c->max_pages its options, the OCR models chosen per page). */
int sk_gate_office_convert(void *ctx, sk_convert *c, const uint8_t *p, size_t n,
			   const sk_budget *b, sk_buf *out, sk_reason *reason, sk_error *err);
/* The open pool's counters; false (st zeroed) while none is open. */
bool sk_gate_office_stats(sk_gate_office *g, sk_office_stats *st);

typedef struct sk_result {
	sk_type type;
	uint8_t sha256[SK_SHA256_LEN];
	sk_report report; /* verdict, reason and actions; free with sk_result_free() */
	uint64_t out_size;
	char quarantine_id[24]; /* id of the stored original, "" when none */
	/* the flow policy's decision (when opt->policy was set) */
	const char *decision;      /* "deny", "allow", "sanitize", "hold"; NULL without a policy */
	char rule[160];            /* the rule that decided */
	char profile[64];          /* sanitize: the profile used */
	char hold_role[64];        /* hold: the approver role */
	/* "" when the decision is on record (or nothing was to record it); else why the audit
	 * record or the index row could not be written: the item is blocked and, when its
	 * original was stored, left for sk_quarantine_recover() to finish as "interrupted" */
	char unrecorded[160];
	/* the incident the gate opened (opt->ledger), "" when none; incident_error says why
	 * one could not be opened ("" when nothing failed) */
	char incident[24];
	char incident_error[96];
} sk_result;

/* Process one item, writing the rebuilt bytes to out. Returns 0 when a verdict was
 * reached (read it in res->report.verdict; a blocked item may have written partial
 * bytes to out, which the caller must discard). Returns a negative code only when the
 * output could not be written (then the item counts as blocked too). */
int sk_process(const sk_item *item, const sk_options *opt, sk_output *out, sk_result *res,
	       sk_error *err);
void sk_result_free(sk_result *res);

/* One mail message through the one path: admit (hash; the flow decision for the item's
 * src_zone → dst_zone on channel "mail" (the channel is always "mail"); the original
 * stored durably), scan, the engine (the MIME walk: every part through the registry
 * under opt->budget, one budget for the message; DLP on the rebuilt body and on the
 * delivered text attachments; in a worker when opt->pool is set), finish (the flow's DLP
 * actions and hold, ONE audit record "mail" and the index row for the message).
 * mail gives the notice's language, the limits and the attachment mode; a sanitize flow's
 * profile replaces its attachment mode and file profile (sk_gate_mail_profile). out (reset
 * first) gets the sanitised message, or — when the message is not delivered (res->report
 * blocked: a limit, malformed, policy-deny, held, dlp, malware …) — the short notice of
 * sk_mail_notice_held() naming the stored original. mres gets the mail counters, held and
 * reason (always set). Returns 0 when out holds what to deliver; a negative code (out
 * reset) when the machinery failed — among them a quarantine that could not store the
 * original (SK_EIO; the decision is audited as blocked): the caller answers with its
 * configured default (the milter: tempfail, and the MTA retries). */
int sk_gate_mail(const sk_item *item, const sk_mail_options *mail, const sk_options *opt,
		 sk_buf *out, sk_result *res, sk_mail_result *mres, sk_error *err);

/* The mail options of a profile name (the one place the CLI, the milter and sekishod
 * turn a profile into mail options): a profile of the policy p (may be NULL) — its `mail`
 * section's attachments (remove | sanitize) and its file profile for the attachments —
 * or a built-in mail profile ("default", "sanitize", "en"). name NULL: "default".
 * SK_EINVAL (err set) for an unknown name. */
int sk_gate_mail_profile(const struct sk_policy *p, const char *name, sk_mail_options *o,
			 sk_error *err);

/* ---- unlocking a password ZIP (PPAP) --------------------------------------------------
 *
 * An item held because it is a password ZIP — a file blocked `encrypted`, or a mail
 * message whose attachment was held as a password ZIP ("encrypted-attachment") — is
 * unlocked by its recipient with up to SK_UNLOCK_PASSWORDS_MAX candidate passwords
 * (engine.h). sk_gate_unlock():
 *  1. refuses (SK_EINVAL, *st BAD_REQUEST) no user, 0 or more than 5 passwords, an empty
 *     one, one over SK_UNLOCK_PASSWORD_MAX bytes or with control characters, and
 *     opt->pool NULL: the password is used inside a sandboxed worker only;
 *  2. refuses (SK_EINVAL, *st NOT_ENCRYPTED) an item that is not held as such (also one
 *     already unlocked, purged, or released), SK_ENOTFOUND an unknown id;
 *  3. refuses (SK_ELOCKED, *st TOO_MANY; HTTP 429) once SK_UNLOCK_TRIES_MAX wrong tries
 *     were counted on the item (the index's unlock_tries: one try per call, whatever
 *     the number of passwords; reserved before the job runs, so that concurrent calls
 *     cannot pass the limit, and given back unless the passwords were wrong);
 *  4. runs the unlock job in a worker of opt->pool on the stored original (its hash
 *     checked) under opt->budget and the flow's profile and DLP (opt->policy: the flow
 *     from the item's source to its destination zone, channel "file"); the clamd scan
 *     (opt->clamd) sees the decrypted, sanitised archive before anything is delivered;
 *     the flow's hold and DLP actions apply as in sk_process;
 *  5. wrong passwords (*st WRONG_PASSWORD, return 0, res blocked `encrypted`): the try
 *     is counted; else (*st DONE, return 0) the new verdict is recorded on the item
 *     (sk_quarantine_decide: type zip, verdict, reason, actions) and, when delivered,
 *     the sanitised archive stored as the item's result (sk_quarantine_result_put) and
 *     written to out (out may be NULL; nothing is written otherwise);
 *  6. appends an audit record: actor by, action "unlock", object "item:ID sha256:HEX",
 *     result the verdict ("sanitized", "blocked limit-size" …) or "refused
 *     wrong-password" / "refused too-many-attempts" / "refused not-encrypted", detail
 *     the result JSON or "tries=N/10". The passwords appear in no record, row, log or
 *     message: the caller zeroes its copies, the gate and the worker zero theirs.
 * Needs opt->quarantine (and records in opt->audit, else the quarantine's log).
 * A failure to record blocks the result (nothing written, res->unrecorded says why). */
#define SK_UNLOCK_TRIES_MAX 10

typedef enum sk_unlock_status {
	SK_UNLOCK_DONE = 0,       /* a password opened the archive: res has the new verdict */
	SK_UNLOCK_WRONG_PASSWORD, /* none did (the try was counted) */
	SK_UNLOCK_TOO_MANY,       /* SK_ELOCKED: SK_UNLOCK_TRIES_MAX wrong tries already */
	SK_UNLOCK_NOT_ENCRYPTED,  /* SK_EINVAL: not an item held as a password ZIP */
	SK_UNLOCK_BAD_REQUEST,    /* SK_EINVAL: the passwords or the user are not acceptable */
} sk_unlock_status;

/* Text of a status for people (Japanese, or English with en). */
const char *sk_unlock_status_text(sk_unlock_status st, bool en);

int sk_gate_unlock(const sk_options *opt, const char *item_id, const char *const *passwords,
		   size_t n, const char *by, sk_output *out, sk_result *res,
		   sk_unlock_status *st, sk_error *err);

/* One JSON object (a line of JSON Lines, no newline) describing a processed input:
 * input, sha256, type, verdict, reason, reason_detail, actions [{action, what, where,
 * detail, count}], output (null when not delivered), policy (null, or {decision, rule,
 * profile, hold_role}), quarantine_id (null when the original was not stored). Returns a malloc'd string. */
char *sk_result_json(const sk_result *res, const char *input, const char *output);

#endif
