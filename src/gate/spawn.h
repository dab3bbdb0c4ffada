/* Starting and ending sandboxed worker processes (internal): what the engine's pool
 * (pool.c, sekisho-worker) and the office pool (office.c, sekisho-office) share.
 *
 * A worker is exec'd with its end of a socketpair as descriptor 3, /dev/null as 0 and 1,
 * the gate's stderr as 2, nothing else open, default signal handling and only the
 * environment sk_spawn_env() gives it. */
#ifndef SK_GATE_SPAWN_H
#define SK_GATE_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sekisho/error.h"

/* CLOCK_MONOTONIC in ns */
uint64_t sk_spawn_now_ns(void);

/* The executable `name` next to the running program, else in the install's libexecdir.
 * 0 with the path in buf, or SK_ENOTFOUND. */
int sk_spawn_path(const char *name, char *buf, size_t n, sk_error *err);

/* When the gate runs as root: the user (NULL: "sekisho") its workers run as (*drop true,
 * its uid and gid); never root. Not root: *drop false. */
int sk_spawn_user(const char *user, bool *drop, uid_t *uid, gid_t *gid, sk_error *err);

/* The environment a worker sees: nothing of the gate's but TZ and the sanitizers'
 * options. NULL when out of memory. */
char **sk_spawn_env(void);
void sk_spawn_env_free(char **env);

/* Forks and execs argv[0] with argv and envp (see above) without waiting for it. *pid
 * and *sock (the gate's end, CLOEXEC) on success. */
int sk_spawn_start(char *const argv[], char *const envp[], int devnull, pid_t *pid, int *sock,
		   sk_error *err);

/* Closes sock (if >= 0), kills pid (if > 0) and reaps it; detail (may be NULL) says how it
 * ended ("exit 1", "signal KILL (9)"). */
void sk_spawn_reap(pid_t pid, int sock, char *detail, size_t dn);

#endif
