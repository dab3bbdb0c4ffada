/* sekisho — quarantine of originals.
 *
 * A state folder holds a content-addressed store of every original (objects/ab/<sha256>,
 * written to a temporary name, fsync'ed, renamed, the folder fsync'ed) and a SQLite index
 * (quarantine.db, WAL, synchronous=FULL) with one row per item: id, sha256, size, name,
 * type, zones, submitter, verdict, reason, actions, times and state:
 *   held → release-requested → released,   any but release-requested → purged.
 * Release needs a request by one person and an approval by a DIFFERENT person who holds
 * the approving role (二人制); until the policy file lands, the approvers are a list kept
 * in the index (sk_quarantine_approver_add). Every step is recorded in the audit log when
 * one is attached (and refused steps too). */
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

/* Why a step was refused (sk_quarantine_request/approve/release return SK_EINVAL). */
typedef enum sk_qdeny {
	SK_QDENY_NONE = 0,
	SK_QDENY_STATE,          /* the item is not in the state the step needs */
	SK_QDENY_SELF_APPROVAL,  /* the requester cannot approve their own request */
	SK_QDENY_NOT_APPROVER,   /* the user does not hold the approving role */
	SK_QDENY_NOT_APPROVED,   /* release before an approval */
	SK_QDENY_BAD_USER,       /* empty or invalid user name / reason */
} sk_qdeny;

const char *sk_qdeny_text(sk_qdeny d, bool en);

typedef struct sk_qitem {
	char id[SK_QUARANTINE_ID_LEN];
	char sha256[SK_SHA256_HEX];
	uint64_t size;
	sk_qstate state;
	char *name, *type, *src_zone, *dst_zone, *submitter;
	char *verdict, *reason, *reason_detail, *actions; /* NULL until decided; actions JSON */
	int64_t received_us, decided_us;
	char *requested_by, *request_reason, *approved_by, *released_by;
	int64_t requested_us, approved_us, released_us, purged_us;
} sk_qitem;

void sk_qitem_free(sk_qitem *it);

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
 * opt may be NULL. */
int sk_quarantine_open(const char *dir, sk_audit *audit, const sk_quarantine_options *opt,
		       sk_quarantine **out, sk_error *err);
void sk_quarantine_close(sk_quarantine *q);
sk_audit *sk_quarantine_audit(const sk_quarantine *q);

/* What the index records about an item when it is stored. */
typedef struct sk_qmeta {
	const char *name, *type, *src_zone, *dst_zone, *submitter; /* each may be NULL */
} sk_qmeta;

/* Stores the original durably (object first, then the index row, state held) and gives
 * its new id. sha256 is the hash the caller computed; the bytes are hashed again while
 * copied and a difference fails the store (the input changed). */
int sk_quarantine_store(sk_quarantine *q, const sk_input *in, const uint8_t sha256[SK_SHA256_LEN],
			const sk_qmeta *meta, char id[SK_QUARANTINE_ID_LEN], sk_error *err);
/* Records the verdict of a stored item (type, verdict, reason, detail, actions JSON).
 * sk_quarantine_store() and sk_quarantine_decide() may be called by several threads at once
 * on one handle (the milter's sessions); the other functions are for one thread at a time. */
int sk_quarantine_decide(sk_quarantine *q, const char *id, const char *type, const char *verdict,
			 const char *reason, const char *reason_detail, const char *actions_json,
			 sk_error *err);

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

/* The two-person release. Refusals return SK_EINVAL with *deny set (deny may be NULL). */
int sk_quarantine_request(sk_quarantine *q, const char *id, const char *by, const char *reason,
			  sk_qdeny *deny, sk_error *err);
int sk_quarantine_approve(sk_quarantine *q, const char *id, const char *by, sk_qdeny *deny,
			  sk_error *err);
/* Writes the original to path (atomically, mode 0600) after an approval; state released. */
int sk_quarantine_release(sk_quarantine *q, const char *id, const char *by, const char *path,
			  sk_qdeny *deny, sk_error *err);
/* Removes the originals of items received more than days ago (0: the default retention)
 * that are held or released; their rows stay, state purged, with the hash. An object
 * shared with an item still kept is not removed. *purged counts items (may be NULL). */
int sk_quarantine_purge(sk_quarantine *q, int64_t days, const char *by, uint64_t *purged,
			sk_error *err);

/* The approver list (the approving role until the policy file provides roles). */
int sk_quarantine_approver_add(sk_quarantine *q, const char *user, const char *by, sk_error *err);
int sk_quarantine_approver_remove(sk_quarantine *q, const char *user, const char *by,
				  sk_error *err);
int sk_quarantine_is_approver(sk_quarantine *q, const char *user, bool *yes, sk_error *err);
typedef int (*sk_quarantine_user_fn)(void *ctx, const char *user, const char *added_by,
				     int64_t added_us);
int sk_quarantine_approvers(sk_quarantine *q, sk_quarantine_user_fn fn, void *ctx, sk_error *err);

/* The count of wrong password tries on a PPAP item (sk_gate_unlock): adds delta (may be
 * 0 or negative; the count never goes below 0) and gives the new count in *count, in
 * one statement. SK_ENOTFOUND for an unknown id. */
int sk_quarantine_unlock_tries(sk_quarantine *q, const char *id, int delta, unsigned *count,
			       sk_error *err);

/* Path of an item's stored object (malloc'd), for checks and tools. */
char *sk_quarantine_object_path(const sk_quarantine *q, const char *sha256_hex);

#endif
