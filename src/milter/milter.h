/* sekisho milter — libmilter front end (internal header; used by `sekisho milter` and by
 * sekishod's milter role).
 *
 * Every message is buffered (headers, blank line, body), taken through the gate with
 * sk_gate_mail() (the original stored, the flow of its zones decided, the MIME walk in a
 * sandboxed worker of the gate's pool, one audit record) and replaced: headers off the allow-list removed (SMFIR_CHGHEADER), the new ones added
 * (SMFIR_ADDHEADER), the body replaced (SMFIR_REPLBODY). libmilter runs one thread per SMTP
 * connection; messages are sanitised concurrently, with no lock around the sanitiser (the
 * quarantine and the audit log are thread-safe).
 *
 * Limits: concurrent sessions (max_sessions) and bytes buffered over all sessions
 * (max_buffered); over either the MTA gets a temporary failure with the reply
 * "451 4.3.2 …" and retries later. A message over max_message is not buffered past the
 * limit: it is held (stored, a short notice delivered), as the mail engine holds it. */
#ifndef SK_MILTER_H
#define SK_MILTER_H

#include <stdbool.h>
#include <stdint.h>

#include "sekisho/core.h"
#include "sekisho/error.h"
#include "sekisho/mail.h"

typedef enum sk_milter_onerr {
	SK_MILTER_TEMPFAIL = 0, /* default: the MTA answers 4xx and retries (fail closed) */
	SK_MILTER_REJECT,       /* 5xx */
	SK_MILTER_ACCEPT,       /* delivered unchanged: fail OPEN, for tests of the MTA only */
} sk_milter_onerr;

#define SK_MILTER_MAX_SESSIONS_DEFAULT 64u
#define SK_MILTER_MAX_BUFFERED_DEFAULT ((uint64_t)512 << 20)
#define SK_MILTER_SOCKET_MODE_DEFAULT 0660

/* What the milter decided for one message, for the caller's events and counters (the
 * daemon writes one structured line per message so that an operator can match the MTA's
 * log by queue ID, Message-ID and sender). */
typedef struct sk_milter_decision {
	const char *queue_id;     /* the MTA's queue ID (macro "i"), "" when not given */
	const char *sender;       /* envelope sender as given by the MTA, "" when none */
	const char *message_id;   /* Message-ID header as received, "" when none */
	const sk_result *result;  /* the gate's result (verdict, reason, quarantine id, sha256);
				     NULL after a machinery failure */
	const sk_mail_result *mail; /* NULL after a machinery failure */
	const char *error;        /* machinery failure (answered with on_error), else NULL */
	uint64_t size;            /* bytes received */
	int64_t us;               /* time in the gate */
} sk_milter_decision;

typedef struct sk_milter_config {
	const char *socket;        /* "unix:PATH" (or "local:PATH") or "inet:PORT@ADDR" */
	int socket_mode;           /* mode of a unix socket; 0: 0660 */
	const char *socket_group;  /* group of a unix socket (name or number); NULL: the process's */
	unsigned max_sessions;     /* concurrent SMTP sessions; 0: 64 */
	uint64_t max_buffered;     /* bytes buffered over all sessions; 0: 512 MiB */
	uint64_t max_message;      /* bytes of one message; 0: mail->max_size */
	const sk_mail_options *mail; /* the mail options (notice language, limits, profile) */
	const sk_options *gate;    /* the gate's: quarantine, audit, policy, pool; NULL: defaults */
	const char *from_zone, *to_zone; /* the zones of the mail (the flow policy decides) */
	sk_milter_onerr on_error;  /* answer when the machinery fails (not for the caps) */
	int timeout;               /* seconds libmilter waits for the MTA; 0: libmilter's 7210 */
	bool quiet;                /* no line per message on stderr */
	/* called in the message's thread after each decision (may be NULL); must be
	 * thread-safe */
	void (*on_decision)(void *arg, const sk_milter_decision *d);
	void *on_decision_arg;
} sk_milter_config;

/* Opens the socket (created with socket_mode, owned by the running user), then serves
 * the MTA until sk_milter_stop() or SIGTERM/SIGINT/SIGHUP. Once per process (libmilter
 * keeps global state). Returns 0, or a negative SK_E* with err set. */
int sk_milter_run(const sk_milter_config *cfg, sk_error *err);
/* Asks a running sk_milter_run() to return (async-signal-safe enough: libmilter's smfi_stop). */
void sk_milter_stop(void);

/* Counters since sk_milter_run() started (for tests and metrics). */
typedef struct sk_milter_stats {
	uint64_t messages;        /* messages sanitised (delivered or held) */
	uint64_t tempfail_sessions; /* connections refused: max_sessions */
	uint64_t tempfail_buffered; /* messages refused: max_buffered */
	uint64_t errors;          /* answered with on_error */
	unsigned sessions;        /* open now */
	uint64_t buffered;        /* bytes buffered now */
} sk_milter_stats;
void sk_milter_stats_get(sk_milter_stats *s);

#ifdef SK_MILTER_TEST_HOOK
/* Test builds only: called in the message's thread just before it is sanitised. */
extern void (*sk_milter_test_hook)(const uint8_t *msg, size_t n);
#endif

#endif
