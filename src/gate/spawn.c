/* Starting and ending sandboxed worker processes (see spawn.h). */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SK_LIBEXECDIR
#define SK_LIBEXECDIR "/usr/local/libexec"
#endif

uint64_t sk_spawn_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int sk_spawn_path(const char *name, char *buf, size_t n, sk_error *err)
{
	char self[PATH_MAX];
	ssize_t l = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (l > 0) {
		self[l] = 0;
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = 0;
			int k = snprintf(buf, n, "%s/%s", self, name);
			if (k > 0 && (size_t)k < n && access(buf, X_OK) == 0)
				return 0;
		}
	}
	int k = snprintf(buf, n, "%s/%s", SK_LIBEXECDIR, name);
	if (k > 0 && (size_t)k < n && access(buf, X_OK) == 0)
		return 0;
	return sk_error_set(err, SK_ENOTFOUND,
			    "%s not found next to the program or in " SK_LIBEXECDIR, name);
}

int sk_spawn_user(const char *user, bool *drop, uid_t *uid, gid_t *gid, sk_error *err)
{
	*drop = false;
	if (geteuid() != 0)
		return 0;
	if (!user)
		user = "sekisho";
	char pwbuf[4096];
	struct passwd pw, *pr = NULL;
	if (getpwnam_r(user, &pw, pwbuf, sizeof(pwbuf), &pr) != 0 || !pr)
		return sk_error_set(err, SK_ENOTFOUND,
				    "user %s not found (dev/setup or the install creates it)", user);
	if (pw.pw_uid == 0)
		return sk_error_set(err, SK_EINVAL, "workers may not run as root (%s)", user);
	*drop = true;
	*uid = pw.pw_uid;
	*gid = pw.pw_gid;
	return 0;
}

char **sk_spawn_env(void)
{
	/* the worker sees nothing of the gate's environment but these */
	static const char *const keep[] = {"TZ", "ASAN_OPTIONS", "UBSAN_OPTIONS",
					   "LSAN_OPTIONS"};
	size_t nk = sizeof(keep) / sizeof(keep[0]);
	char **env = calloc(nk + 1, sizeof(char *));
	if (!env)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < nk; i++) {
		const char *v = getenv(keep[i]);
		if (!v)
			continue;
		if (asprintf(&env[k], "%s=%s", keep[i], v) < 0) {
			env[k] = NULL;
			continue;
		}
		k++;
	}
	return env;
}

void sk_spawn_env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

/* In the child between fork and exec: only async-signal-safe calls. */
static void child(int sock, int devnull, char *const argv[], char *const envp[])
{
	struct sigaction dfl;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &dfl, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* out of the way of 0, 1 and 3 first, whatever numbers they had */
	int s2 = fcntl(sock, F_DUPFD, 10), n2 = fcntl(devnull, F_DUPFD, 10);
	if (s2 < 0 || n2 < 0 || dup2(n2, 0) < 0 || dup2(n2, 1) < 0 || dup2(s2, 3) < 0)
		_exit(127);
	close_range(4, ~0U, 0);
	execve(argv[0], argv, envp);
	_exit(127);
}

int sk_spawn_start(char *const argv[], char *const envp[], int devnull, pid_t *pid, int *sock,
		   sk_error *err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return sk_error_sys(err, SK_EIO, "socketpair");
	/* no signal handler of ours may run in the child before it has reset them */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid_t p = fork();
	if (p == 0)
		child(sv[1], devnull, argv, envp);
	int fork_errno = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(sv[1]);
	if (p < 0) {
		close(sv[0]);
		errno = fork_errno;
		return sk_error_sys(err, SK_EIO, "fork");
	}
	*pid = p;
	*sock = sv[0];
	return 0;
}

void sk_spawn_reap(pid_t pid, int sock, char *detail, size_t dn)
{
	if (sock >= 0)
		close(sock);
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	int st = 0;
	pid_t r;
	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (detail && dn && r == pid) {
		if (WIFSIGNALED(st)) {
			const char *abbrev = sigabbrev_np(WTERMSIG(st));
			snprintf(detail, dn, "signal %s (%d)", abbrev ? abbrev : "?", WTERMSIG(st));
		} else {
			snprintf(detail, dn, "exit %d", WEXITSTATUS(st));
		}
	}
}
