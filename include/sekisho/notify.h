/* sekisho — notices by mail through the local MTA (approvers, requesters, PPAP holds).
 *
 * sk_notify_send() writes one UTF-8 text message (Subject RFC 2047 encoded, body base64,
 * Date in JST with +0900, a Message-ID, Auto-Submitted: auto-generated) and pipes it to
 * `SENDMAIL -oi -- RECIPIENT…` (the recipients are arguments, never read from the
 * headers). Every address must be one plain addr-spec (sk_mail_addr_valid) and the
 * subject one line: a CR or LF anywhere outside the body is refused, so no header can be
 * injected. The body may hold any UTF-8 text (it is base64-encoded). */
#ifndef SEKISHO_NOTIFY_H
#define SEKISHO_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "sekisho/buf.h"
#include "sekisho/error.h"

#define SK_NOTIFY_TO_MAX 64                 /* recipients of one notice */
#define SK_NOTIFY_SUBJECT_MAX 512           /* bytes of the subject */
#define SK_NOTIFY_BODY_MAX ((size_t)1 << 20) /* bytes of the body */
#define SK_NOTIFY_TIMEOUT_S 30              /* for sendmail to take the message and exit */
#define SK_NOTIFY_ADDR_MAX 256              /* bytes of an address (with its NUL) */
#define SK_NOTIFY_DELIVER_TO_MAX 1000       /* recipients of one delivered message */

/* The message as it is piped (for tests and logs); date_us: the Date (µs since the
 * epoch), message_id_domain: the right side of the Message-ID (the sender's domain when
 * NULL). out is reset first. SK_EINVAL for an invalid address, subject or body (err says
 * which), SK_ELIMIT beyond the limits above. */
int sk_notify_format(const char *from, const char *const *to, size_t nto, const char *subject,
		     const char *body, int64_t date_us, sk_buf *out, sk_error *err);

/* Formats the message (now) and runs sendmail (an absolute path) with it on its
 * standard input; SK_EIO when it cannot be started, exits with a non-zero status, or has
 * not taken the message and exited within SK_NOTIFY_TIMEOUT_S seconds (it is killed: a
 * hung MTA never holds the caller, e.g. a console request, for longer). */
int sk_notify_send(const char *sendmail, const char *from, const char *const *to, size_t nto,
		   const char *subject, const char *body, sk_error *err);
/* The same with another time limit (seconds, > 0). */
int sk_notify_send_within(const char *sendmail, const char *from, const char *const *to,
			  size_t nto, const char *subject, const char *body, int timeout_s,
			  sk_error *err);

/* Hands a whole message (read from fd, offset 0 to its end, as is) to the local MTA:
 * `SENDMAIL -oi -f ENV_FROM -- RECIPIENT…` — the way a held mail message leaves after
 * its release was approved (sk_release_send). env_from "" is the null sender (passed as
 * "<>"); it and every recipient must be one plain addr-spec (sk_mail_addr_valid), 1 to
 * SK_NOTIFY_DELIVER_TO_MAX recipients. Errors and the time limit as sk_notify_send_within. */
int sk_notify_deliver(const char *sendmail, const char *env_from, const char *const *to,
		      size_t nto, int fd, int timeout_s, sk_error *err);

/* The sender address of sekisho's notices: sekisho@HOSTNAME (sekisho@localhost when the
 * host name makes no valid address). */
void sk_notify_from_default(char out[SK_NOTIFY_ADDR_MAX]);

#endif
