/* sekisho — the tamper-evident audit log.
 *
 * Every decision and every administrative act is one record (who, when, what, object,
 * result, detail). A record's canonical bytes (sk_audit_record_encode(), defined in
 * docs/audit.md) are a leaf of an RFC 9162 Merkle tree (SHA-256; leaf hash =
 * H(0x00‖leaf), node = H(0x01‖left‖right)). The log is a SQLite database (WAL,
 * synchronous=FULL) in the state folder; besides the records it keeps the hash of every
 * complete subtree, so inclusion and consistency proofs need O(log n) stored hashes.
 * Signed checkpoints (C2SP tlog-checkpoint in a C2SP signed note, Ed25519) are made
 * every N records or T seconds, and on request (heartbeat); each can also be anchored
 * outside the log: written to a file, or sent to syslog (RFC 5424).
 *
 * Appends from concurrent threads are group-committed: one transaction, one fsync of
 * the WAL for all the records waiting; sk_audit_append() returns only when its record
 * is durable. Several processes may append to one log (SQLite serialises them). */
#ifndef SEKISHO_AUDIT_H
#define SEKISHO_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/buf.h"
#include "sekisho/error.h"
#include "sekisho/hash.h"

/* ---- time ---- */

/* Microseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t sk_time_now_us(void);
/* "2026-11-24T09:10:26.123456Z" into out (at least 32 bytes). */
void sk_time_format_us(int64_t us, char *out, size_t outsz);
/* For people: Japan Standard Time (UTC+9, no daylight saving) with the zone written,
 * seconds only. "2026-12-07 08:28:00 JST" (at least 24 bytes) and
 * "2026-12-07T08:28:00+09:00" (at least 26 bytes; ISO 8601 with the offset). */
void sk_time_format_jst(int64_t us, char *out, size_t outsz);
void sk_time_iso_jst(int64_t us, char *out, size_t outsz);
/* Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.ffffff]]Z" (UTC; a "+09:00" style offset
 * is accepted too) or a number of seconds since the epoch into *us. */
int sk_time_parse(const char *s, int64_t *us, sk_error *err);

/* ---- Merkle tree (RFC 9162 section 2.1) ---- */

#define SK_MERKLE_PROOF_MAX 130 /* hashes in any proof of a tree of < 2^64 leaves */

void sk_merkle_leaf_hash(const void *leaf, size_t n, uint8_t out[SK_SHA256_LEN]);
void sk_merkle_node_hash(const uint8_t left[SK_SHA256_LEN], const uint8_t right[SK_SHA256_LEN],
			 uint8_t out[SK_SHA256_LEN]);
void sk_merkle_empty_root(uint8_t out[SK_SHA256_LEN]);

/* The compact range [0, size): one subtree hash per set bit of size (h[level] is valid
 * when bit `level` of size is set). Enough to append and to compute the root. */
typedef struct sk_merkle_frontier {
	uint64_t size;
	uint8_t h[64][SK_SHA256_LEN];
} sk_merkle_frontier;

/* Called for every complete subtree an append creates: level 0 is the leaf itself,
 * index is the subtree's position on its level. A non-zero return stops and is
 * returned by sk_merkle_frontier_push(). */
typedef int (*sk_merkle_node_cb)(void *ctx, unsigned level, uint64_t index,
				 const uint8_t hash[SK_SHA256_LEN]);

void sk_merkle_frontier_init(sk_merkle_frontier *f);
int sk_merkle_frontier_push(sk_merkle_frontier *f, const uint8_t leaf_hash[SK_SHA256_LEN],
			    sk_merkle_node_cb cb, void *ctx);
void sk_merkle_frontier_root(const sk_merkle_frontier *f, uint8_t out[SK_SHA256_LEN]);

/* Source of stored complete-subtree hashes: the subtree of 2^level leaves starting at
 * leaf index << level. Returns 0, or a negative SK_E* (SK_ENOTFOUND when missing). */
typedef int (*sk_merkle_node_fn)(void *ctx, unsigned level, uint64_t index,
				 uint8_t out[SK_SHA256_LEN], sk_error *err);

/* MTH(D[begin:end]) from stored subtrees (begin < end). */
int sk_merkle_range_hash(sk_merkle_node_fn fn, void *ctx, uint64_t begin, uint64_t end,
			 uint8_t out[SK_SHA256_LEN], sk_error *err);
/* PATH(index, D[0:size]) (RFC 9162 2.1.3.1), leaf side first. */
int sk_merkle_inclusion_proof(sk_merkle_node_fn fn, void *ctx, uint64_t index, uint64_t size,
			      uint8_t proof[][SK_SHA256_LEN], size_t *len, sk_error *err);
/* PROOF(old, D[0:size]) (RFC 9162 2.1.4.1); 0 < old <= size. */
int sk_merkle_consistency_proof(sk_merkle_node_fn fn, void *ctx, uint64_t old, uint64_t size,
				uint8_t proof[][SK_SHA256_LEN], size_t *len, sk_error *err);
/* The verification algorithms of RFC 9162 2.1.3.2 and 2.1.4.2. */
bool sk_merkle_verify_inclusion(const uint8_t leaf_hash[SK_SHA256_LEN], uint64_t index,
				uint64_t size, const uint8_t proof[][SK_SHA256_LEN], size_t len,
				const uint8_t root[SK_SHA256_LEN]);
bool sk_merkle_verify_consistency(uint64_t old, uint64_t size,
				  const uint8_t proof[][SK_SHA256_LEN], size_t len,
				  const uint8_t old_root[SK_SHA256_LEN],
				  const uint8_t root[SK_SHA256_LEN]);

/* ---- C2SP signed notes and checkpoints ---- */

#define SK_NOTE_MAX 65536        /* bytes of a note we parse */
#define SK_NOTE_SIGS_MAX 100     /* signature lines of a note */
#define SK_NOTE_NAME_MAX 256     /* bytes of a key name / checkpoint origin */

typedef struct sk_note_signer {
	char name[SK_NOTE_NAME_MAX];
	uint8_t id[4];
	uint8_t pk[32];
	uint8_t sk[64];
} sk_note_signer;

typedef struct sk_note_verifier {
	char name[SK_NOTE_NAME_MAX];
	uint8_t id[4];
	uint8_t pk[32];
} sk_note_verifier;

/* Key id = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pubkey)[:4] (Ed25519). */
void sk_note_key_id(const char *name, const uint8_t pk[32], uint8_t id[4]);
/* A new Ed25519 key: *skey "PRIVATE+KEY+name+hexid+base64(0x01‖seed)" and *vkey
 * "name+hexid+base64(0x01‖pubkey)" (the Go sumdb/note formats), malloc'd. */
int sk_note_key_generate(const char *name, char **skey, char **vkey, sk_error *err);
int sk_note_signer_parse(const char *skey, sk_note_signer *s, sk_error *err);
int sk_note_verifier_parse(const char *vkey, sk_note_verifier *v, sk_error *err);
/* The vkey text of a signer into out (reset first). */
int sk_note_signer_vkey(const sk_note_signer *s, sk_buf *out);
/* text (ending with a newline, no blank line, no control characters) + "\n" +
 * "— name base64(id‖sig)\n" into out (reset first). */
int sk_note_sign(const sk_note_signer *s, const char *text, size_t n, sk_buf *out,
		 sk_error *err);

typedef enum sk_note_status {
	SK_NOTE_OK = 0,        /* a signature by the verifier's key is valid */
	SK_NOTE_MALFORMED,     /* not a well-formed signed note */
	SK_NOTE_UNSIGNED,      /* no signature line of this key */
	SK_NOTE_BAD_SIGNATURE, /* a signature line of this key does not verify */
} sk_note_status;

/* Checks a note; *text_len gets the length of its signed text (including the final
 * newline) when the note is well-formed. */
sk_note_status sk_note_open(const sk_note_verifier *v, const char *note, size_t n,
			    size_t *text_len);

typedef struct sk_checkpoint {
	char origin[SK_NOTE_NAME_MAX];
	uint64_t size;
	uint8_t root[SK_SHA256_LEN];
	int64_t time_us; /* from the "time <µs>" extension line; -1 when absent */
} sk_checkpoint;

/* "origin\nsize\nbase64(root)\n[time N\n]" into out (reset first). */
int sk_checkpoint_format(const sk_checkpoint *cp, sk_buf *out);
/* Parses the text of a checkpoint (the signed part of the note). */
int sk_checkpoint_parse(const char *text, size_t n, sk_checkpoint *cp, sk_error *err);

/* ---- records ---- */

#define SK_AUDIT_FIELD_MAX 1024   /* bytes of actor, action, object, result */
#define SK_AUDIT_DETAIL_MAX 16384 /* bytes of detail */
/* bytes of a record's canonical form (every byte escaped as \xHH, with the labels) */
#define SK_AUDIT_RECORD_MAX (4 * (SK_AUDIT_DETAIL_MAX + 4 * SK_AUDIT_FIELD_MAX) + 4096)

typedef struct sk_audit_record {
	uint64_t seq;
	int64_t time_us;
	const char *actor, *action, *object, *result, *detail; /* UTF-8; detail may be "" */
} sk_audit_record;

/* The canonical bytes of r (see docs/audit.md) into out (reset first). Fields must be
 * valid UTF-8 within the limits above (SK_EINVAL / SK_ELIMIT). */
int sk_audit_record_encode(const sk_audit_record *r, sk_buf *out, sk_error *err);
/* Parses canonical bytes. The strings point into scratch (reset first), which must
 * outlive r; with scratch NULL the record is only checked (seq and time are set, the
 * strings stay NULL). Rejects anything that sk_audit_record_encode() would not produce. */
int sk_audit_record_decode(const uint8_t *p, size_t n, sk_audit_record *r, sk_buf *scratch,
			   sk_error *err);

/* ---- the log ---- */

typedef struct sk_audit sk_audit;

typedef struct sk_audit_options {
	uint64_t checkpoint_every;  /* records between checkpoints (default 1000; 0: default) */
	int64_t checkpoint_seconds; /* seconds between checkpoints (default 300; 0: default) */
	const char *anchor_file;    /* each new checkpoint is also written here (may be NULL) */
	const char *anchor_syslog;  /* "unix:/path" or "udp:127.0.0.1:514" (may be NULL) */
	const char *syslog_hostname;/* HOSTNAME of the syslog messages (NULL: gethostname) */
	int64_t (*clock)(void *ctx);/* µs since the epoch; NULL: sk_time_now_us */
	void *clock_ctx;
} sk_audit_options;

void sk_audit_options_default(sk_audit_options *o);

/* Opens (creating when missing) the log in dir: dir/audit.db, the signing key
 * dir/audit.key (mode 0600, created on first use) and dir/audit.pub. opt may be NULL.
 * dir is made 0700 and audit.db (with its -wal and -shm files) 0600 whatever they were
 * before; a key readable by others is refused (it must be taken as leaked). */
int sk_audit_open(const char *dir, const sk_audit_options *opt, sk_audit **out, sk_error *err);
void sk_audit_close(sk_audit *a);

/* Appends one record; returns when it is durable, with its sequence number in *seq
 * (may be NULL). Thread-safe: concurrent callers share one transaction. Makes a
 * checkpoint in the same transaction when one is due. */
int sk_audit_append(sk_audit *a, const char *actor, const char *action, const char *object,
		    const char *result, const char *detail, uint64_t *seq, sk_error *err);
/* Several records of one caller, numbered consecutively from *first_seq, committed
 * together (and with other callers' records). */
typedef struct sk_audit_entry {
	const char *actor, *action, *object, *result, *detail; /* result, detail may be NULL */
} sk_audit_entry;
int sk_audit_append_many(sk_audit *a, const sk_audit_entry *v, size_t n, uint64_t *first_seq,
			 sk_error *err);
/* Makes a checkpoint now (force) or only when one is due (N records or T seconds since
 * the last, also with no new records: the heartbeat), and anchors it. The newest
 * checkpoint note goes to note (may be NULL; reset first). *made tells whether a new
 * one was made (may be NULL). */
int sk_audit_checkpoint(sk_audit *a, bool force, sk_buf *note, bool *made, sk_error *err);
/* Signs a checkpoint when records are past the newest checkpoint, or (max_age_s > 0)
 * when the newest checkpoint is older than max_age_s seconds (a heartbeat; 0: never for
 * that reason), and anchors it. For the end of every command that appended records
 * (max_age_s 0) and for the daemon's scheduler (every ~2 s, max_age_s e.g. 300): the
 * records not yet covered by a signed checkpoint are then at most those of the last
 * call's interval. *made (may be NULL) tells whether one was made. An anchoring failure
 * after the checkpoint was stored returns SK_EIO (read sk_audit_anchor_error()). */
int sk_audit_checkpoint_if_due(sk_audit *a, uint32_t max_age_s, bool *made, sk_error *err);
/* Number of records (*size) and records covered by the newest stored checkpoint
 * (*signed_size), either may be NULL; the signature is not checked here (verify does). */
int sk_audit_signed_size(sk_audit *a, uint64_t *size, uint64_t *signed_size, sk_error *err);
/* The error of the last failed anchoring (file or syslog), "" when none. */
const char *sk_audit_anchor_error(const sk_audit *a);
/* The verifier key text of the log's key. */
const char *sk_audit_vkey(const sk_audit *a);
/* The newest signed checkpoints (at most max), newest first: fn gets the tree size, the
 * time it was made (µs) and its signed note; a non-zero return stops and is returned. */
typedef int (*sk_audit_checkpoint_fn)(void *ctx, uint64_t size, int64_t time_us,
				      const char *note);
int sk_audit_checkpoints(sk_audit *a, size_t max, sk_audit_checkpoint_fn fn, void *ctx,
			 sk_error *err);
/* Number of records. */
int sk_audit_size(sk_audit *a, uint64_t *size, sk_error *err);
/* Transactions committed by appends through this handle, and records in them. */
void sk_audit_stats(sk_audit *a, uint64_t *commits, uint64_t *records);

/* Calls fn for every record with time >= since_us (0: all), in order. A non-zero
 * return from fn stops the walk and is returned. */
typedef int (*sk_audit_list_fn)(void *ctx, const sk_audit_record *r);
int sk_audit_list(sk_audit *a, int64_t since_us, sk_audit_list_fn fn, void *ctx, sk_error *err);

typedef enum sk_audit_problem {
	SK_AUDIT_OK = 0,
	SK_AUDIT_MISSING,        /* a sequence number is absent (record deleted) */
	SK_AUDIT_MALFORMED,      /* record bytes are not canonical */
	SK_AUDIT_MISPLACED,      /* record's own seq differs from its position (moved/swapped) */
	SK_AUDIT_TIME,           /* time column differs from the record, or goes backwards */
	SK_AUDIT_MODIFIED,       /* record bytes do not match their stored hash */
	SK_AUDIT_NODE,           /* a stored subtree hash is wrong */
	SK_AUDIT_ROOT,           /* a signed checkpoint's root does not match the records */
	SK_AUDIT_SIGNATURE,      /* a checkpoint's signature is missing or invalid */
	SK_AUDIT_CHECKPOINT,     /* a checkpoint is malformed or out of order */
	SK_AUDIT_TRUNCATED,      /* a checkpoint (or the anchor) covers records that are gone */
} sk_audit_problem;

typedef struct sk_audit_verify_result {
	bool ok;
	uint64_t records;       /* records read */
	uint64_t checkpoints;   /* signed checkpoints checked */
	uint64_t covered;       /* records covered by the newest valid checkpoint / anchor
				   (records [0, covered) are proven; [covered, records) are not
				   signed yet: "the unsigned tail") */
	sk_audit_problem problem;
	uint64_t bad_seq;       /* the first bad record (for checkpoint problems: the first
				   record of the range the checkpoint cannot vouch for) */
	uint64_t bad_end;       /* end (exclusive) of that range; bad_seq + 1 for one record */
	int64_t bad_checkpoint; /* checkpoint row id involved, -1 when none (0: the anchor) */
	char message[256];      /* English detail */
} sk_audit_verify_result;

/* Checks every record, stored hash and checkpoint (signature with vkey, or the log's
 * own key when vkey is NULL) and, when anchor is given, the anchored checkpoint: a log
 * shorter than the anchor is reported as truncated. Returns 0 when the check ran (read
 * vr->ok); negative on I/O errors. */
int sk_audit_verify(sk_audit *a, const char *vkey, const char *anchor, size_t anchor_len,
		    sk_audit_verify_result *vr, sk_error *err);
/* Ja/en text of a problem. */
const char *sk_audit_problem_text(sk_audit_problem p, bool en);
/* Stable code of a problem for JSON: "ok", "missing", "malformed", "misplaced", "time",
 * "modified", "node", "root", "signature", "checkpoint", "truncated". */
const char *sk_audit_problem_code(sk_audit_problem p);

/* Inclusion proof of record seq in the tree of size (0: the newest checkpoint's size).
 * Fills the leaf hash, the root of that size and the proof; *size_out gets the size. */
int sk_audit_inclusion_proof(sk_audit *a, uint64_t seq, uint64_t size, uint64_t *size_out,
			     uint8_t leaf[SK_SHA256_LEN], uint8_t root[SK_SHA256_LEN],
			     uint8_t proof[][SK_SHA256_LEN], size_t *len, sk_error *err);
int sk_audit_consistency_proof(sk_audit *a, uint64_t old, uint64_t size,
			       uint8_t old_root[SK_SHA256_LEN], uint8_t root[SK_SHA256_LEN],
			       uint8_t proof[][SK_SHA256_LEN], size_t *len, sk_error *err);

/* RFC 5424 message carrying a checkpoint note, sent to "unix:/path" (datagram) or
 * "udp:HOST:PORT". */
int sk_audit_syslog_send(const char *target, const char *hostname, const char *note,
			 size_t n, sk_error *err);

#endif
