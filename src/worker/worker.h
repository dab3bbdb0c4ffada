/* sekisho-worker: the sandbox and the serve loop (internal).
 *
 * The real worker (main.c) and the test-only hostile worker (tests/integration) are both
 * sk_worker_main(); only the test one passes a hook. */
#ifndef SK_WORKER_H
#define SK_WORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sekisho/error.h"
#include "wire.h"

typedef struct sk_worker_limits {
	bool drop;          /* change to uid/gid (required when started as root) */
	uid_t uid;
	gid_t gid;
	uint64_t max_as;    /* RLIMIT_AS, bytes */
	uint32_t max_cpu;   /* RLIMIT_CPU, seconds over the process's life */
	uint64_t max_fsize; /* RLIMIT_FSIZE, bytes (the output memfd) */
} sk_worker_limits;

/* The pieces of the sandbox that the office worker (src/office) shares. Changes to the
 * user (all of uid, gid, no supplementary groups; fails when root could be regained);
 * nothing when not started as root, an error when started as root without a user. */
int sk_worker_drop(const sk_worker_limits *lim, sk_error *err);
/* Lowers resource limit res (RLIMIT_*) to soft/hard, never raises one the parent already
 * set lower. */
int sk_worker_rlimit(int res, uint64_t soft, uint64_t hard, const char *what, sk_error *err);

/* Drops to the user, sets the rlimits, no core dumps, PR_SET_NO_NEW_PRIVS and the
 * default-kill seccomp filter that lets the process only compute on its descriptors and
 * talk on sock. Call after sk_engine_init(). */
int sk_worker_sandbox(const sk_worker_limits *lim, int sock, sk_error *err);

/* Called with each decoded job and its input's descriptor (-1: the input is in the job)
 * before it runs (test workers only). Returns 0 to run the job, anything else when the
 * hook has dealt with it (the loop sends no answer). */
typedef int (*sk_worker_hook)(const sk_wire_job *job, int sock, int in_fd);

/* Serves jobs on sock until the gate closes it, a malformed job arrives, or the worker
 * retires (its CPU time past retire_cpu_s seconds). 0 on a clean end. */
int sk_worker_serve(int sock, sk_worker_hook hook, uint32_t retire_cpu_s);

/* The whole worker: arguments (--fd N [--uid N --gid N] [--as BYTES] [--cpu SECONDS]
 * [--fsize BYTES]), library initialisation, sandbox, READY, serve. Exit status. */
int sk_worker_main(int argc, char **argv, sk_worker_hook hook);

#endif
