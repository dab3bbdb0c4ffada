/* sekisho — quarantine of originals, delivered results, and release requests.
 *
 * A state folder holds a content-addressed store of every original (objects/ab/<sha256>,
 * written to a temporary name, fsync'ed, renamed, the folder fsync'ed), the delivered
 * result of each item that has one (clean or sanitised, or produced after an approved
 * release; the same store) and a SQLite index (quarantine.db, WAL, synchronous=FULL) with
 * one row per item: id, sha256, size, name, type, zones, channel, class, submitter (user
 * id, name, section), verdict, reason, actions, the hold role, times and state:
 *   held → release-requested → released,   any but release-requested → purged.
 * ("held" is the state of the stored original: every item starts there, delivered ones
 * too; whether it was held for approval is its verdict/reason.)
 *
 * Release goes through requests (kind release: the flow's profile applied to the original
 * again; kind original: the original itself): one person asks, others approve, as many as
 * the caller says is needed (二人制); the requester never approves (compared by user id),
 * nobody approves twice. Who may approve is decided above (sk_release_may_decide in the
 * gate, from the policy's roles); the quarantine enforces the rest. Every step is recorded
 * in the audit log when one is attached (refused steps too). */
#ifndef SEKISHO_QUARANTINE_H
#define SEKISHO_QUARANTINE_H

#include <stdbool.h>
#include <stdint.h>

#include "sekisho/audit.h"
#include "sekisho/error.h"
#include "sekisho/hash.h"
#include "sekisho/io.h"

#define SK_QUARANTINE_ID_LEN 18            /* "20261124-3fa9c2d1" + NUL */
#define SK_QUARANTINE_RETENTION_DAYS 90    /* default of purge */
#define SK_QUARANTINE_USER_MAX 256         /* bytes of a user name */
#define SK_QUARANTINE_REASON_MAX 4096      /* bytes of a request reason */

typedef struct sk_quarantine sk_quarantine;

typedef enum sk_qstate {
	SK_QSTATE_HELD = 0,
	SK_QSTATE_RELEASE_REQUESTED,
	SK_QSTATE_RELEASED,
	SK_QSTATE_PURGED,
} sk_qstate;

const char *sk_qstate_code(sk_qstate s);              /* "held", "release-requested" … */
const char *sk_qstate_text(sk_qstate s, bool en);
/* The state from its code; SK_EINVAL for an unknown code. */
int sk_qstate_from_code(const char *code, sk_qstate *s);

/* Why a step was refused (the request steps return SK_EINVAL with *deny set). */
typedef enum sk_qdeny {
	SK_QDENY_NONE = 0,
	SK_QDENY_STATE,          /* the item or request is not in the state the step needs */
	SK_QDENY_SELF_APPROVAL,  /* the requester cannot approve their own request */
	SK_QDENY_NOT_APPROVER,   /* the user does not hold the approving role */
	SK_QDENY_NOT_APPROVED,   /* release before an approval */
	SK_QDENY_BAD_USER,       /* empty or invalid user name / reason */
	SK_QDENY_TWICE,          /* the approver already approved this request */
	SK_QDENY_PENDING,        /* a request of that kind is already pending for the item */
	SK_QDENY_NO_RIGHT,       /* kind original: the release-original permission is missing */
} sk_qdeny;

const char *sk_qdeny_code(sk_qdeny d);  /* "self-approval", "not-approver" … ("ok") */
const char *sk_qdeny_text(sk_qdeny d, bool en);

/* Who does a step: a user of the auth service (auth.h; the console's session or the
 * CLI's --by, looked up there), uid its id (> 0; the gate's own requester of held mail
 * is -1, release.h). section and mail may be NULL. */
typedef struct sk_qactor {
	int64_t uid;
	const char *name;
	const char *section;
	const char *mail;  /* the user's mail address when known (NULL: not known) */
} sk_qactor;

typedef struct sk_qitem {
	char id[SK_QUARANTINE_ID_LEN];
	char sha256[SK_SHA256_HEX];
	uint64_t size;
	sk_qstate state;
	char *name, *type, *src_zone, *dst_zone, *submitter;
	int64_t submitter_uid;            /* 0: not a console user (mail, spool, CLI) */
	char *submitter_section;          /* NULL when none */
	char *channel, *class_level;      /* as submitted (NULL: file / the default) */
	char *verdict, *reason, *reason_detail, *actions; /* NULL until decided; actions JSON */
	char *hold_role;                  /* the approver role of a held item (NULL: none) */
	int64_t received_us, decided_us;
	/* the deliverable result ("" when none): clean/sanitised at submit, or the flow's
	 * profile applied after an approved release */
	char result_sha256[SK_SHA256_HEX];
	uint64_t result_size;
	char *result_ext;                 /* the result's extension when it changed ("docx") */
	char *released_by;                /* who completed the release (last approver) */
	int64_t released_us, purged_us;
	/* a mail message's SMTP envelope (sk_qmeta): env_from NULL when none was stored, ""
	 * for the null sender; env_rcpt the recipients in order */
	char *env_from;
	char **env_rcpt;
	size_t env_nrcpt;
	int64_t mail_sent_us;             /* the result was sent to the envelope (0: not) */
	char *mail_error;                 /* the last mail step that failed, NULL when none */
} sk_qitem;

void sk_qitem_free(sk_qitem *it);
/* The verdict people see: "clean", "sanitized", "held" (blocked for approval),
 * "blocked", or NULL while undecided. */
const char *sk_qitem_verdict(const sk_qitem *it);

typedef struct sk_quarantine_options {
	int64_t (*clock)(void *ctx); /* µs since the epoch; NULL: sk_time_now_us */
	void *clock_ctx;
} sk_quarantine_options;

/* A handle is for one thread at a time (open one per thread or process; SQLite and the
 * file system serialise them). */
/* Opens (creating) the quarantine in dir; audit (may be NULL) receives the records of
 * every administrative step. Left-over temporary files of an interrupted store are
 * removed. dir and dir/objects (and its folders) are made 0700, quarantine.db (with its
 * -wal and -shm files) 0600, whatever they were before; stored originals are 0600.
 * An index of an earlier version gains the new columns and tables. opt may be NULL. */
int sk_quarantine_open(const char *dir, sk_audit *audit, const sk_quarantine_options *opt,
		       sk_quarantine **out, sk_error *err);
void sk_quarantine_close(sk_quarantine *q);
sk_audit *sk_quarantine_audit(const sk_quarantine *q);
const char *sk_quarantine_dir(const sk_quarantine *q);

#define SK_QUARANTINE_ADDR_MAX 512    /* bytes of one envelope address */
#define SK_QUARANTINE_RCPT_MAX 1000   /* envelope recipients of one item */

/* What the index records about an item when it is stored (every field may be 0/NULL). */
typedef struct sk_qmeta {
	const char *name, *type, *src_zone, *dst_zone, *submitter;
	int64_t submitter_uid;
	const char *submitter_section;
	const char *channel, *class_level;
	/* mail: the SMTP envelope as the MTA gave it, without the angle brackets (MAIL FROM,
	 * "" for the null sender; RCPT TO in order), kept with the original so that a held
	 * message can be sent later (sk_release_send). env_from NULL: none. Each address at
	 * most SK_QUARANTINE_ADDR_MAX bytes without control characters, at most
	 * SK_QUARANTINE_RCPT_MAX recipients, at least one when env_from is set (SK_EINVAL
	 * otherwise: nothing is stored). */
	const char *env_from;
	const char *const *env_rcpt;
	size_t env_nrcpt;
} sk_qmeta;

/* Stores the original durably (object first, then the index row, state held) and gives
 * its new id. sha256 is the hash the caller computed; the bytes are hashed again while
 * copied and a difference fails the store (the input changed). */
int sk_quarantine_store(sk_quarantine *q, const sk_input *in, const uint8_t sha256[SK_SHA256_LEN],
			const sk_qmeta *meta, char id[SK_QUARANTINE_ID_LEN], sk_error *err);
/* Records the verdict of a stored item (type, verdict, reason, detail, actions JSON, and
 * the approver role when it was held: the gate's res->hold_role; NULL or "" none).
 * sk_quarantine_store() and sk_quarantine_decide() may be called by several threads at once
 * on one handle (the milter's sessions); the other functions are for one thread at a time. */
int sk_quarantine_decide(sk_quarantine *q, const char *id, const char *type, const char *verdict,
			 const char *reason, const char *reason_detail, const char *actions_json,
			 const char *hold_role, sk_error *err);

/* Finishes the items whose decision was never recorded because the process handling
 * them ended first (kill -9, a crash, a full disk that refused the audit record): each
 * is decided blocked, reason "interrupted", and an audit record (actor "sekisho", action
 * "recover", result "blocked interrupted") is appended to a (NULL: the handle's log; one
 * of them is needed). The original stays in quarantine.
 * An item is left alone while the process that stored it may still be handling it: every
 * row records its owner (boot id, pid and the pid's start time, from /proc), and a row is
 * recovered only when that process is gone (another boot, no such pid, or the pid now
 * belongs to a process started at another time); this process's own items are never
 * touched. Several recoverers may run at once: each item is finished once (the row and
 * the record in one transaction). *count (may be NULL) gets the number finished. Stops
 * at the first error (the rest stay recoverable). */
int sk_quarantine_recover(sk_quarantine *q, sk_audit *a, unsigned *count, sk_error *err);

int sk_quarantine_get(sk_quarantine *q, const char *id, sk_qitem *it, sk_error *err);
/* Calls fn for every item, newest first; a non-zero return stops the walk. */
typedef int (*sk_quarantine_list_fn)(void *ctx, const sk_qitem *it);
int sk_quarantine_list(sk_quarantine *q, sk_quarantine_list_fn fn, void *ctx, sk_error *err);

/* ---- query (the console's listings and dashboard) ---- */

#define SK_QUARANTINE_QUERY_MAX 1000 /* items in one page (a larger limit is cut to it) */

typedef struct sk_qquery {
	int64_t submitter_uid;     /* 0: any. With section: the items of either (a section head) */
	const char *section;       /* the submitter's section; NULL: any */
	int64_t since_us, until_us; /* received in [since, until); 0: open */
	const char *verdict;       /* "clean" | "sanitized" | "held" | "blocked"; NULL: any */
	const char *name;          /* a substring of the name (bytes, case as given); NULL: any */
	const char *state;         /* a state code; NULL: any */
	uint64_t offset, limit;    /* limit 0: SK_QUARANTINE_QUERY_MAX */
} sk_qquery;

/* The items matching qq (NULL: all), newest first, from offset, at most limit; *total
 * (may be NULL) gets the number of matches without offset/limit. SK_EINVAL for an unknown
 * verdict or state. */
int sk_quarantine_query(sk_quarantine *q, const sk_qquery *qq, sk_quarantine_list_fn fn,
			void *ctx, uint64_t *total, sk_error *err);

#define SK_QSTATS_DAYS_MAX 366
#define SK_QSTATS_TOP 10

typedef struct sk_qday {
	char date[11];           /* "2026-12-07" (JST) */
	uint64_t clean, sanitized, held, blocked;
} sk_qday;

typedef struct sk_qreason_count {
	char reason[64];         /* a reason code ("executable", "dlp" …) */
	uint64_t count;
} sk_qreason_count;

typedef struct sk_qstats {
	sk_qday day[SK_QSTATS_DAYS_MAX]; /* oldest first, ending with today (JST) */
	size_t ndays;
	sk_qreason_count top[SK_QSTATS_TOP]; /* blocked and held items by reason, most first */
	size_t ntop;
	uint64_t pending_requests;       /* pending requests about items in scope */
} sk_qstats;

/* Items per day (JST) by verdict for the last `days` days (1 … SK_QSTATS_DAYS_MAX, today
 * included), the top reasons in that window and the pending requests, over the items
 * scope selects (its submitter_uid / section / name / verdict; NULL: all; its times,
 * offset and limit are ignored). */
int sk_quarantine_stats(sk_quarantine *q, const sk_qquery *scope, unsigned days, sk_qstats *st,
			sk_error *err);

/* ---- delivered results ---- */

/* Stores the bytes of fd (read from offset 0 to its end; the fd stays the caller's) as
 * item id's deliverable result (0600, content-addressed beside the originals; fsync'ed
 * before the row names it). ext: the result's extension when the rebuild changed it
 * (report.out_ext; NULL or "": the name's own). The item must be decided and delivered
 * (clean or sanitized) or have an approved release request; SK_EINVAL otherwise. */
int sk_quarantine_result_put(sk_quarantine *q, const char *id, int fd, const char *ext,
			     sk_error *err);
/* Opens item id's result read-only: *fd (caller closes) and *size. SK_ENOTFOUND when the
 * item has none (blocked, held, purged); SK_EFORMAT when the stored bytes are damaged
 * (their hash is checked before the fd is returned). */
int sk_quarantine_result_open(sk_quarantine *q, const char *id, int *fd, uint64_t *size,
			      sk_error *err);
/* A private scratch file (0600, unlinked, inside the state folder) for the gate's output
 * before it is stored: *fd (caller closes). */
int sk_quarantine_scratch(sk_quarantine *q, int *fd, sk_error *err);

/* ---- release requests ---- */

typedef enum sk_qkind { SK_QKIND_RELEASE = 0, SK_QKIND_ORIGINAL } sk_qkind;
typedef enum sk_qrstate { SK_QREQ_PENDING = 0, SK_QREQ_APPROVED, SK_QREQ_REFUSED } sk_qrstate;

const char *sk_qkind_code(sk_qkind k);      /* "release", "original" */
int sk_qkind_from_code(const char *code, sk_qkind *k);
const char *sk_qrstate_code(sk_qrstate s);  /* "pending", "approved", "refused" */
const char *sk_qrstate_text(sk_qrstate s, bool en);
int sk_qrstate_from_code(const char *code, sk_qrstate *s);

#define SK_QREQUEST_NEEDED_MAX 8 /* approvals one request may need */

typedef struct sk_qapproval {
	int64_t uid;
	char *name;
	int64_t at_us;
	char *comment;          /* NULL when none */
} sk_qapproval;

typedef struct sk_qrequest {
	int64_t id;
	char item[SK_QUARANTINE_ID_LEN];
	sk_qkind kind;
	sk_qrstate state;
	int64_t requester_uid;
	char *requester, *requester_section, *reason;
	int64_t created_us, decided_us;  /* decided: 0 while pending */
	unsigned needed;                 /* approvals needed */
	sk_qapproval approvals[SK_QREQUEST_NEEDED_MAX];
	size_t napprovals;
	int64_t refused_uid;
	char *refused_by, *comment;      /* the refusal's (NULL when not refused) */
	char *outcome;                   /* after approval of kind release: "released", or
					    "blocked REASON: detail" when the rerun blocked */
} sk_qrequest;

void sk_qrequest_free(sk_qrequest *r);

/* Asks for the release (kind release: the item must be held for approval) or the
 * original (kind original: the item must be held or blocked with its original kept) of
 * item id. One pending request per item and kind (SK_QDENY_PENDING). needed: approvals
 * needed (1 … SK_QREQUEST_NEEDED_MAX; the policy's number, see sk_release_needed). The
 * item's state becomes release-requested. *rid (may be NULL) gets the request's id. */
int sk_quarantine_request_create(sk_quarantine *q, const char *id, sk_qkind kind,
				 const sk_qactor *by, const char *reason, unsigned needed,
				 int64_t *rid, sk_qdeny *deny, sk_error *err);
/* One approval. The caller has checked the approver's rights (sk_release_may_decide) and
 * passes the number of approvals needed now. Refused: not pending (STATE), by the
 * requester (SELF_APPROVAL, by uid), a second approval by the same uid (TWICE). When the
 * approvals reach needed the request is approved (*complete true; may be NULL): kind
 * original makes the original available to the requester and the item released; kind
 * release waits for sk_quarantine_release_done (the gate produces the result). */
int sk_quarantine_request_approve(sk_quarantine *q, int64_t rid, const sk_qactor *by,
				  const char *comment, unsigned needed, bool *complete,
				  sk_qdeny *deny, sk_error *err);
/* Refuses a pending request (not by its requester); the item goes back to held. */
int sk_quarantine_request_refuse(sk_quarantine *q, int64_t rid, const sk_qactor *by,
				 const char *comment, sk_qdeny *deny, sk_error *err);
int sk_quarantine_request_get(sk_quarantine *q, int64_t rid, sk_qrequest *rq, sk_error *err);

typedef struct sk_qrfilter {
	const char *item;          /* NULL: any */
	const char *state;         /* "pending" … ; NULL: any */
	int64_t requester_uid;     /* 0: any */
} sk_qrfilter;
typedef int (*sk_quarantine_request_fn)(void *ctx, const sk_qrequest *rq);
/* The requests matching f (NULL: all), newest first. */
int sk_quarantine_requests(sk_quarantine *q, const sk_qrfilter *f, sk_quarantine_request_fn fn,
			   void *ctx, sk_error *err);

/* After an approved release request: records the outcome of the rerun. result_fd >= 0:
 * the result (stored as with sk_quarantine_result_put), the item becomes released;
 * result_fd < 0: the rerun blocked (why: "REASON: detail"), nothing is deliverable and
 * the item goes back to held. Audited ("quarantine-release"). */
int sk_quarantine_release_done(sk_quarantine *q, int64_t rid, int result_fd, const char *ext,
			       const char *why, sk_error *err);

/* Records the outcome of a mail step of item id (sending its result to its envelope,
 * sk_release_send; or a notice to its sender): sent true: the result was sent now
 * (mail_sent set, mail_error cleared); else error (one line, cut to 1000 bytes) is kept as
 * mail_error (an unsent result may be sent again). SK_ENOTFOUND for an unknown id. */
int sk_quarantine_mail_done(sk_quarantine *q, const char *id, bool sent, const char *error,
			    sk_error *err);

/* Opens the original of item id for by, who must be the requester of an approved
 * original request of that item (SK_QDENY_NOT_APPROVED otherwise); the hash is checked
 * first (SK_EFORMAT when damaged). Audited ("quarantine-original"). */
int sk_quarantine_original_open(sk_quarantine *q, const char *id, const sk_qactor *by, int *fd,
				uint64_t *size, sk_qdeny *deny, sk_error *err);

/* Removes the originals (and results) of items received more than days ago (0: the
 * default retention) that are held or released; their rows stay, state purged, with the
 * hash. An object shared with an item still kept is not removed. *purged counts items
 * (may be NULL). */
int sk_quarantine_purge(sk_quarantine *q, int64_t days, const char *by, uint64_t *purged,
			sk_error *err);

/* The count of wrong password tries on a PPAP item (sk_gate_unlock): adds delta (may be
 * 0 or negative; the count never goes below 0) and gives the new count in *count, in
 * one statement. SK_ENOTFOUND for an unknown id. */
int sk_quarantine_unlock_tries(sk_quarantine *q, const char *id, int delta, unsigned *count,
			       sk_error *err);

/* Path of a stored object (malloc'd), for checks and tools. */
char *sk_quarantine_object_path(const sk_quarantine *q, const char *sha256_hex);

#endif
