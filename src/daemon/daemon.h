/* sekishod — the daemon: a master and small single-purpose role processes.
 *
 * The master (master.c) starts as root: it reads and checks the policy, opens the state
 * folder, the spool folders, the events target and the metrics socket, drops to the
 * unprivileged user, and forks one process per role (the table in master.c). A role that
 * dies is restarted with back-off; SIGHUP reloads the policy; SIGTERM stops every role and
 * signs a final audit checkpoint. The roles share counters with the master through one
 * shared anonymous mapping (skd_metrics), and write their own events. */
#ifndef SKD_DAEMON_H
#define SKD_DAEMON_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sekisho/core.h"
#include "sekisho/policy.h"
#include "sekisho/report.h"

/* exit statuses of sekishod and its roles */
enum {
	SKD_EXIT_OK = 0,
	SKD_EXIT_FAIL = 1,   /* a runtime failure */
	SKD_EXIT_CONFIG = 2, /* usage, policy or set-up error: nothing was started */
};

/* ---- settings: command line over the policy's gateway section (config.c) ---- */

typedef struct skd_spool {
	char *id, *from, *to, *drop, *deliver, *class_level;
} skd_spool;

/* One HTTPS listener of the http role: the zone it serves and its ADDR:PORT. */
#define SKD_HTTP_MAX 8
typedef struct skd_http {
	char *zone, *addr;
} skd_http;

typedef struct skd_config {
	char *policy_path;
	char *state;
	char *user;      /* default "sekisho" */
	int workers;     /* 0: one per core */
	char *milter;    /* NULL: no milter role */
	char *milter_from, *milter_to; /* the zones of the milter's mail (gateway.milter) */
	char *milter_group; /* the MTA's group: the socket's folder is given to it */
	char *metrics;   /* "ADDR:PORT"; NULL: no metrics role */
	char *events;    /* default "stderr" */
	char *clamd;     /* NULL: no malware scan */
	skd_spool *spool;
	size_t nspool;
	skd_http http[SKD_HTTP_MAX]; /* the http role's listeners (none: no http role) */
	size_t nhttp;
	char *tls_cert, *tls_key; /* PEM files of the listeners (read by the master as root) */
	char *web;                /* the console's static files */
	char *console_zone;       /* the zone whose listener serves the console (lgwan) */
	sk_lang lang;
} skd_config;

/* What the command line gave (NULL / -1: not given). */
typedef struct skd_args {
	const char *policy, *state, *user, *milter, *events, *metrics, *clamd;
	const char *http[SKD_HTTP_MAX]; /* --http ZONE=ADDR:PORT (repeatable) */
	size_t nhttp;
	const char *tls_cert, *tls_key, *web;
	int workers;
	sk_lang lang;
} skd_args;

/* Fills cfg from a (checked) policy and the command line (which wins). 0 or SK_E*. */
int skd_config_build(skd_config *cfg, const skd_args *a, const sk_policy *pol, sk_error *err);
void skd_config_free(skd_config *cfg);

/* ---- shared counters (metrics.c) ---- */

#define SKD_ROLES_MAX 8
#define SKD_LAT_BUCKETS 10 /* + the +Inf bucket */
extern const double skd_lat_bounds[SKD_LAT_BUCKETS]; /* seconds */

typedef struct skd_metrics {
	atomic_uint_least64_t items[3][SK_REASON__COUNT]; /* [verdict][reason] */
	atomic_uint_least64_t role_starts[SKD_ROLES_MAX];
	atomic_uint_least64_t role_restarts[SKD_ROLES_MAX];
	atomic_int role_up[SKD_ROLES_MAX];
	atomic_uint_least64_t reloads, reloads_refused;
	atomic_uint_least64_t checkpoints, purged, spool_errors;
	atomic_uint_least64_t lat_bucket[SKD_LAT_BUCKETS + 1];
	atomic_uint_least64_t lat_sum_us, lat_count;
	/* spool queue depth per flow (names set by the spool role) */
	char flow[SK_POLICY_SPOOL_MAX][136];
	atomic_int flow_used[SK_POLICY_SPOOL_MAX];
	atomic_uint_least64_t queue[SK_POLICY_SPOOL_MAX];
} skd_metrics;

/* One decision: its verdict, reason and processing time. */
void skd_metrics_item(skd_metrics *m, const sk_report *r, int64_t us);

/* ---- events (events.c) ---- */

/* One structured field of an event: a string, or a number when s is NULL. */
typedef struct skd_kv {
	const char *k;
	const char *s;
	long long n;
} skd_kv;
static inline skd_kv skd_kv_s(const char *k, const char *v)
{
	return (skd_kv){k, v ? v : "", 0};
}
#define SKD_S(key, val) skd_kv_s((key), (val))
#define SKD_N(key, val) ((skd_kv){(key), NULL, (long long)(val)})

typedef enum skd_sev { SKD_INFO = 6, SKD_NOTICE = 5, SKD_WARNING = 4, SKD_ERR = 3 } skd_sev;

/* Opens the events target: "stderr", "json:/path" (JSON lines, appended), "syslog"
 * (/dev/log), "syslog:unix:/path" or "syslog:udp:HOST:PORT" (RFC 5424 with structured
 * data). Called by the master before it drops privileges; the roles inherit it. */
int skd_events_open(const char *spec, sk_error *err);
/* The process name ("master", or the role) written with every event of this process. */
void skd_events_role(const char *role);
/* One event: a name ("decision", "role-start" …), a severity, a message in Japanese and
 * English, and n fields. Never fails (a lost event is counted nowhere). */
void skd_event(skd_sev sev, const char *event, const char *ja, const char *en, const skd_kv *kv,
	       size_t n);
#define SKD_EVENT(sev, ev, ja, en, ...)                                                          \
	do {                                                                                     \
		const skd_kv kv_[] = {SKD_S("_", NULL), ##__VA_ARGS__};                          \
		skd_event((sev), (ev), (ja), (en), kv_ + 1, sizeof(kv_) / sizeof(kv_[0]) - 1);  \
	} while (0)

/* ---- the daemon and its roles ---- */

typedef struct skd {
	skd_config cfg;
	sk_policy *policy;
	skd_metrics *metrics;  /* shared mapping */
	int metrics_fd;        /* listening socket of the metrics role, -1 when none */
	int http_fd[SKD_HTTP_MAX]; /* listening sockets of cfg.http (-1 when not open) */
	char *tls_cert_pem, *tls_key_pem; /* read by the master as root (NUL-terminated) */
	int role_index;        /* in a role: its index in the table */
	const char *role_name;
	mode_t umask;          /* outputs are created with this umask */
} skd;

/* The roles: each runs in its own process, forked by the master with signals SIGTERM,
 * SIGINT and SIGHUP blocked (read them with skd_role_signalfd()); returns an exit status. */
int skd_spool_run(skd *d);
int skd_scheduler_run(skd *d);
int skd_metrics_run(skd *d);
int skd_milter_run(skd *d); /* milter.c (sk_milter_run under skd_gate_open's options) */
int skd_http_run(skd *d);   /* http.c: the console, the JSON API and the upload portal */

/* The role table (roles.c): the master starts every role whose `wanted` says yes (NULL:
 * always). Adding a role (the milter) is one entry there. */
typedef struct skd_role {
	const char *name; /* in events and metrics */
	const char *comm; /* process name (ps), at most 15 bytes */
	int (*run)(skd *d);
	bool (*wanted)(const skd *d);
} skd_role;
extern const skd_role skd_roles[];
extern const size_t skd_nroles;

/* A signalfd for SIGTERM and SIGINT (the master's stop request). */
int skd_role_signalfd(void);

/* The one place where the roles set up the options of sk_process(): the policy, the
 * quarantine, audit log and incident ledger of the state folder, clamd, and the worker
 * pool of cfg.workers, the office pool (sk_gate_office: LibreOffice for legacy formats).
 * Opens what it needs into *g; skd_gate_close() closes it (a role
 * ends on stop and on reload, so the handles never outlive the policy they were opened
 * with). */
typedef struct skd_gate {
	struct sk_audit *audit;
	struct sk_quarantine *quarantine;
	struct sk_ledger *ledger; /* one per role process: its threads share it (serialised) */
	struct sk_pool *pool; /* the role's sandboxed workers */
	/* the role's office pool (legacy formats converted by LibreOffice), started in the
	 * background with the role */
	struct sk_gate_office *office;
	sk_options opt;
} skd_gate;
int skd_gate_open(const skd *d, skd_gate *g, sk_error *err);
void skd_gate_close(skd_gate *g);


/* Mail notices of a release request rq (notices.c): what "requested" → every user with
 * a mail address who may decide it (never the requester); "approved" / "refused" → the
 * requester. A notice that cannot be sent is an event and an audit record (actor) in
 * audit; the request stands. q and auth are the caller's handles (one thread). */
struct sk_quarantine;
struct sk_auth;
struct sk_audit;
struct sk_qrequest;
void skd_notify_request(const sk_policy *p, struct sk_quarantine *q, struct sk_auth *auth,
			struct sk_audit *audit, const char *actor, const char *what,
			const struct sk_qrequest *rq);

/* Microseconds of CLOCK_MONOTONIC. */
int64_t skd_now_us(void);

#endif
