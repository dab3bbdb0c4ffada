/* sekisho — the pool of sandboxed workers that run the engine for the gate.
 *
 * Pre-forked, exec'd `sekisho-worker` processes (each: libraries initialised, then the
 * unprivileged user when started as root, rlimits, PR_SET_NO_NEW_PRIVS, a default-kill
 * seccomp filter). A job hands a worker a read-only descriptor of the input and a memfd
 * for the output over a socketpair; the answer is a typed, size-checked message.
 * The pool kills a worker that passes the item's wall-clock limit (the item is blocked
 * `limit-time`); a crash, a kill, a closed socket or a malformed answer blocks the item
 * `worker-crash`; in both cases the worker is replaced and no output is delivered. A
 * worker is also replaced after max_jobs jobs: its replacement (a spare, one per pool) is
 * started in the background once a worker has done three quarters of its jobs, and takes
 * its place without a wait. Thread-safe: threads share one pool and wait for an idle worker. */
#ifndef SEKISHO_POOL_H
#define SEKISHO_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sekisho/engine.h"
#include "sekisho/error.h"
#include "sekisho/io.h"

typedef struct sk_pool sk_pool;

typedef struct sk_pool_config {
	const char *worker;     /* the worker executable; NULL: sk_pool_worker_path() */
	unsigned workers;       /* 0: one per online core */
	unsigned max_jobs;      /* jobs before a worker is replaced; 0: 500 */
	uint64_t max_as;        /* address-space limit of a worker (bytes); 0: 1 GiB */
	uint32_t max_cpu;       /* CPU seconds over a worker's life; 0: 1200 (it retires at half) */
	uint64_t max_fsize;     /* largest output (RLIMIT_FSIZE, bytes); 0: 4 GiB */
	const char *user;       /* run as this user when started as root; NULL: "sekisho" */
	unsigned start_timeout_ms; /* for a new worker to be ready; 0: 30 s */
	/* sk_pool_open() returns once the workers are started, without waiting for them to be
	 * ready (they initialise while the caller does other work): sk_pool_ready() waits,
	 * or each worker's first job does. */
	bool background;
	/* The caller hands over one item at a time and waits (a one-shot command): the worker
	 * that runs a job is moved to the CPU of the thread that sent it. The two take turns,
	 * and waking a process on another, idle CPU costs more than a small job itself (on a
	 * virtual machine most of all); a pool used by several threads at once leaves the
	 * placement to the kernel. */
	bool colocate;
} sk_pool_config;

void sk_pool_config_default(sk_pool_config *cfg);

/* The default worker executable: `sekisho-worker` next to the running program, else in
 * the install's libexecdir. Returns 0 with the path in buf, or SK_ENOTFOUND. */
int sk_pool_worker_path(char *buf, size_t n, sk_error *err);

/* Starts the workers (cfg NULL: defaults) and waits until each is ready. Fails when the
 * executable or the user is missing or a worker does not come up. */
int sk_pool_open(const sk_pool_config *cfg, sk_pool **out, sk_error *err);
/* Waits until every worker started by sk_pool_open() (background) is ready; fails (the
 * worker killed) as sk_pool_open() would when one does not come up. */
int sk_pool_ready(sk_pool *p, sk_error *err);
/* Stops the workers (closes their sockets, kills and reaps them) and frees the pool. */
void sk_pool_close(sk_pool *p);

/* sk_engine_run() in a worker: same contract. Failures of the worker block the item
 * (res->report: limit-time or worker-crash); SK_EIO only when out could not be written. */
int sk_pool_run(sk_pool *p, const sk_engine_job *job, sk_input *in, sk_output *out,
		sk_engine_result *res, sk_error *err);

typedef struct sk_pool_stats {
	unsigned workers;   /* configured */
	unsigned running;   /* started and not yet replaced */
	uint64_t jobs;      /* answered cleanly */
	uint64_t crashes;   /* worker-crash */
	uint64_t timeouts;  /* limit-time kills */
	uint64_t started;   /* workers started, the first ones included */
	uint64_t conversions;         /* CONVERT requests answered (legacy formats, wire.h) */
	uint64_t conversion_failures; /* … of them answered with a failure */
} sk_pool_stats;

void sk_pool_stats_get(sk_pool *p, sk_pool_stats *st);
/* The process ids of the running workers that are ready (at most n; not the spare, not
 * one still starting); returns how many. */
size_t sk_pool_pids(sk_pool *p, pid_t *pids, size_t n);

#endif
