/* sekisho milter — libmilter front end (internal header; used by `sekisho milter` and by
 * sekishod's milter role).
 *
 * The mail's direction: one (from_zone → to_zone) for every SMTP client, or with several
 * directions (gateway.milter directions) the one whose `from` zone's networks hold the
 * client's address (sk_policy_zone_of); a client in none is refused: every MAIL FROM
 * answered "550 5.7.1" with an English and a Japanese line (at connect an MTA would
 * answer with its own greeting, which does not say why).
 *
 * The envelope (MAIL FROM, every RCPT TO) is kept with the stored original. A message
 * that is not delivered (held or blocked) one of whose envelope recipients is outside
 * mail->internal_domains (when that list is given) is NEVER replaced by a notice to its
 * recipients: once the gate has stored it and its envelope (else tempfail, as for any
 * machinery failure), on_outbound runs (the release request, the notices) and the MTA
 * drops the message (SMFIS_DISCARD); without a quarantine there is nowhere to keep it and
 * the message is rejected (550 5.7.1). Inbound mail (every recipient internal) gets the
 * notice as before.
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
#include "sekisho/policy.h"

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
	const char *from_zone, *to_zone; /* the message's direction */
	size_t nrcpt;             /* envelope recipients */
	/* not delivered with a recipient outside internal_domains: dropped after on_outbound
	 * (no notice to the recipients) */
	bool outbound;
	const char *message_id;   /* Message-ID header as received, "" when none */
	const sk_result *result;  /* the gate's result (verdict, reason, quarantine id, sha256);
				     NULL after a machinery failure */
	const sk_mail_result *mail; /* NULL after a machinery failure */
	const char *error;        /* machinery failure (answered with on_error), else NULL */
	uint64_t size;            /* bytes received */
	int64_t us;               /* time in the gate */
} sk_milter_decision;

/* A message that is not delivered and has a recipient outside internal_domains (see
 * above), stored with its envelope; for on_outbound. */
typedef struct sk_milter_outbound {
	const char *queue_id;        /* "" when the MTA gave none */
	const char *env_from;        /* the envelope sender without <> ("" the null sender) */
	const char *const *rcpt;     /* the envelope recipients without <> */
	size_t nrcpt;
	const char *from_zone, *to_zone;
	const sk_result *result;     /* the gate's (quarantine id, verdict, reason, rule) */
	bool held;                   /* held for approval (reason held): a release request is due */
} sk_milter_outbound;

/* The refusal's two lines: English, then Japanese. SMTP replies are meant to be ASCII;
 * Postfix passes the Japanese line on as UTF-8 (tests/integration/daemon_outbound.sh), and
 * a client that cannot show it still has the English one. */
#define SK_MILTER_NOZONE_EN "sekisho: your address is in no zone of the gateway's policy"
#define SK_MILTER_NOZONE_JA "sekisho: 送信元のアドレスはゲートウェイのポリシーのどのゾーンにもありません"

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
	/* several directions (gateway.milter directions; at least two): the client's address
	 * picks one by gate->policy's zones; NULL / 0: from_zone → to_zone for every client */
	const sk_policy_milter_dir *dirs;
	size_t ndirs;
	sk_milter_onerr on_error;  /* answer when the machinery fails (not for the caps) */
	int timeout;               /* seconds libmilter waits for the MTA; 0: libmilter's 7210 */
	bool quiet;                /* no line per message on stderr */
	/* called in the message's thread after each decision (may be NULL); must be
	 * thread-safe */
	void (*on_decision)(void *arg, const sk_milter_decision *d);
	void *on_decision_arg;
	/* called (with on_decision_arg) for a message that is not delivered and has a
	 * recipient outside mail->internal_domains, after the gate stored it with its
	 * envelope. opt is the gate's options with a quarantine handle of its own; the calls
	 * are serialised (one at a time). Returns 0: the MTA drops the message; non-zero (err
	 * set): tempfail (the MTA retries; the stored item stays). NULL: the milter opens the
	 * release request of a held one for the system requester (sk_release_mail_request)
	 * and tells nobody. */
	int (*on_outbound)(void *arg, const sk_milter_outbound *o, const sk_options *opt,
			   sk_error *err);
	/* called when a client in no zone of the directions is refused (addr: its address,
	 * "" when the MTA gave none); may be NULL */
	void (*on_refused)(void *arg, const char *addr);
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
	uint64_t refused_clients; /* connections refused: the client is in no zone */
	uint64_t outbound;        /* messages dropped after on_outbound (held or blocked) */
	unsigned sessions;        /* open now */
	uint64_t buffered;        /* bytes buffered now */
} sk_milter_stats;
void sk_milter_stats_get(sk_milter_stats *s);

#ifdef SK_MILTER_TEST_HOOK
/* Test builds only: called in the message's thread just before it is sanitised. */
extern void (*sk_milter_test_hook)(const uint8_t *msg, size_t n);
#endif

#endif
