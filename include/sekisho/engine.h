/* sekisho — the engine entry: what a sandboxed worker runs for one item.
 *
 * A file: true-type detection → disarm/rebuild (sk_cdr_run) → DLP on the rebuilt text →
 * result. A mail message (job->mail): the MIME walk (sk_mail_sanitize), every part
 * through the registry under the job's one budget, DLP on the delivered text. Bytes, a profile and a
 * budget in; rebuilt bytes and a report out. No SQLite, no sockets, no files other than
 * the input and output it is handed: the gate runs it in a worker (pool.h) or, for
 * debugging and for the library's own tests, in process. */
#ifndef SEKISHO_ENGINE_H
#define SEKISHO_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "sekisho/budget.h"
#include "sekisho/cdr.h"
#include "sekisho/detect.h"
#include "sekisho/error.h"
#include "sekisho/dlp.h"
#include "sekisho/io.h"
#include "sekisho/mail.h"
#include "sekisho/report.h"

typedef struct sk_engine_job {
	const char *name;          /* file name as submitted (may be NULL) */
	const sk_profile *profile; /* NULL: default */
	sk_budget budget;          /* limits; the clock as the gate started it (sk_budget_start) */
	bool detect_only;          /* only the true type: res->type, nothing written, no verdict */
	/* DLP on what will be delivered (NULL: none): findings of the kinds in the mask
	 * dlp_kinds (bit 1 << sk_dlp_kind) become "noted" report entries (sk_dlp_report);
	 * what sk_cdr_dlp cannot read (not text, an OOXML document or a message) gets a
	 * "dlp-unscanned" entry instead. The gate
	 * decides block/hold/record from them. */
	const sk_dlp *dlp;
	unsigned dlp_kinds;
	/* A mail message instead of a file (NULL: a file): these options (their profile is
	 * `profile` above for the attachments, their DLP the job's), res->mail filled. */
	const sk_mail_options *mail;
	/* Unlocking a password ZIP (PPAP) held as `encrypted` (NULL: not an unlock job): the
	 * candidate passwords, 1 to SK_UNLOCK_PASSWORDS_MAX of 1 to SK_UNLOCK_PASSWORD_MAX
	 * bytes (no NUL). The input is the stored original: the password ZIP itself, or a
	 * mail message whose first password-ZIP attachment is unlocked. The passwords are
	 * tried in order; the first that opens every encrypted entry (its check value, then
	 * every entry read and its CRC or AES code checked, under a copy of the budget)
	 * decrypts the archive, which is then rebuilt by the ZIP module like an unencrypted
	 * one under the job's budget (every entry through the registry; what is blocked is
	 * blocked as it would be unencrypted), into a new archive without encryption. The
	 * report says "converted encryption" then. When none opens it the item stays
	 * blocked `encrypted` with a "noted unlock wrong-password" entry
	 * (sk_engine_wrong_password). The passwords appear in no report, answer or log;
	 * the engine keeps no copy of them. The mail and passwords fields exclude each
	 * other (mail must be NULL). */
	const char *const *passwords;
	size_t n_passwords;
	/* Converting legacy office formats to OOXML and 画像化 (cdr.h: sk_convert_fn; the
	 * profile says which, office.h does them) for this job, at any depth (a .doc in a
	 * ZIP, an .xls attached to a mail): NULL leaves legacy formats blocked unsupported-*
	 * and what the profile makes into images blocked. In a worker the engine asks the
	 * gate over its socket (a typed request in the middle of the job, its bytes in a
	 * sealed memfd) and the gate calls its own hook; in process it is called directly. */
	sk_convert_fn convert;
	void *convert_ctx;
} sk_engine_job;

#define SK_UNLOCK_PASSWORDS_MAX 5
#define SK_UNLOCK_PASSWORD_MAX 1024 /* bytes of one password */

typedef struct sk_engine_result {
	sk_type type;     /* a static type (sk_type_find); "unknown" when detection failed */
	sk_report report; /* final: blocked with its reason, or clean/sanitized; out_ext set */
	uint64_t out_size;
	sk_mail_result mail; /* a mail job's counters and X-Mail-Sanitized value */
} sk_engine_result;

/* Initialises what the engine's libraries would otherwise set up on first use, opening
 * files (iconv conversions, the time zone, libxml2, qpdf): a worker calls it before its
 * seccomp filter forbids opening anything. Idempotent; not thread-safe. */
int sk_engine_init(sk_error *err);

/* Runs one job: detects in's type and rebuilds in into out. Returns 0 when a verdict was
 * reached (res->report; a blocked item may have written partial bytes to out, which the
 * caller discards). Returns SK_EIO (details in err) when out is a file descriptor that
 * could not be written; res is then blocked too. res is always initialised: free it with
 * sk_engine_result_free(). in may be given an owned copy (sk_input_load): the caller
 * releases it. */
int sk_engine_run(const sk_engine_job *job, sk_input *in, sk_output *out,
		  sk_engine_result *res, sk_error *err);
void sk_engine_result_free(sk_engine_result *res);

/* true when an unlock job's report says none of the passwords opened the archive (the
 * "noted unlock wrong-password" entry of a blocked report). */
bool sk_engine_wrong_password(const sk_report *r);

#endif
