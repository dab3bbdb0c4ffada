/* The worker's sandbox: user, rlimits, no new privileges, a default-kill seccomp filter. */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SK_ASAN 1
#endif
#endif

int sk_worker_drop(const sk_worker_limits *lim, sk_error *err)
{
	if (geteuid() != 0 && getuid() != 0)
		return 0; /* nothing to drop; the filter still applies */
	if (!lim->drop || lim->uid == 0)
		return sk_error_set(err, SK_EINVAL, "started as root without a user to run as");
	if (setgroups(0, NULL) != 0 || setresgid(lim->gid, lim->gid, lim->gid) != 0 ||
	    setresuid(lim->uid, lim->uid, lim->uid) != 0)
		return sk_error_sys(err, SK_EINTERNAL, "drop to uid %u", (unsigned)lim->uid);
	if (setuid(0) == 0 || geteuid() == 0)
		return sk_error_set(err, SK_EINTERNAL, "root could be regained");
	return 0;
}

/* Lowers a limit, never raises one: a limit the parent already set lower (a
 * `prlimit --fsize` around the command, a systemd LimitAS=) stays in force. */
int sk_worker_rlimit(int res, uint64_t soft, uint64_t hard, const char *what, sk_error *err)
{
	struct rlimit cur;
	if (getrlimit(res, &cur) != 0)
		return sk_error_sys(err, SK_EINTERNAL, "getrlimit %s", what);
	rlim_t h = hard >= RLIM_INFINITY ? RLIM_INFINITY : (rlim_t)hard, s = (rlim_t)soft;
	if (cur.rlim_max != RLIM_INFINITY && h > cur.rlim_max)
		h = cur.rlim_max;
	if (s > h)
		s = h;
	struct rlimit r = {s, h};
	if (setrlimit(res, &r) != 0)
		return sk_error_sys(err, SK_EINTERNAL, "setrlimit %s", what);
	return 0;
}

/* The system calls a job needs: compute, memory, its descriptors, the clock, and the
 * socket to the gate. Everything else (open, socket, connect, fork, exec, kill, ptrace,
 * …) kills the whole process. */
static int filter(int sock, sk_error *err)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!f)
		return sk_error_set(err, SK_ENOMEM, "seccomp_init");
	int rc = seccomp_attr_set(f, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	/* the set the test suites and the corpus need (strace of a worker), plus the clock
	 * calls that are system calls where the vDSO cannot serve them */
	static const int plain[] = {
		SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(pread64), SCMP_SYS(close),
		SCMP_SYS(fstat), SCMP_SYS(brk), SCMP_SYS(munmap), SCMP_SYS(mremap),
		SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(futex), SCMP_SYS(getrusage),
		SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(time),
		SCMP_SYS(getrandom), /* qpdf's crypto provider (encrypted PDFs) */
		SCMP_SYS(lseek), /* stdio asks a descriptor its position (messages on stderr) */
	};
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]) && rc == 0; i++)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, plain[i], 0);
	/* fstat() is newfstatat(fd, "", st, AT_EMPTY_PATH) in glibc */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
				      SCMP_A3(SCMP_CMP_EQ, AT_EMPTY_PATH, 0));
	/* memory, never executable */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				      SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	/* stdio asks whether a descriptor is a terminal (ioctl TCGETS) before its first
	 * write (a library that prints: stdout is /dev/null in a worker): every ioctl fails ENOTTY,
	 * none ever runs */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOTTY), SCMP_SYS(ioctl), 0);
	/* an output larger than an answer carries, and converting a legacy format (CONVERT,
	 * wire.h): bytes into a new memfd, sealed; CONVERTED's memfd checked for its seals.
	 * No other memfd flags (no executable memfd, no huge pages), no other fcntl. */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(memfd_create), 1,
				      SCMP_A1(SCMP_CMP_EQ, MFD_CLOEXEC | MFD_ALLOW_SEALING, 0));
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				      SCMP_A1(SCMP_CMP_EQ, F_ADD_SEALS, 0));
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(fcntl), 1,
				      SCMP_A1(SCMP_CMP_EQ, F_GET_SEALS, 0));
	/* messages on the gate's socket only */
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(recvmsg), 1,
				      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sock, 0));
	if (rc == 0)
		rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(sendmsg), 1,
				      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)sock, 0));
	if (rc == 0)
		rc = seccomp_load(f);
	seccomp_release(f);
	if (rc)
		return sk_error_set(err, SK_EINTERNAL, "seccomp: %d", rc);
	return 0;
}

int sk_worker_sandbox(const sk_worker_limits *lim, int sock, sk_error *err)
{
	int rc = sk_worker_drop(lim, err);
	if (rc)
		return rc;
	rc = sk_worker_rlimit(RLIMIT_CORE, 0, 0, "core", err);
#ifndef SK_ASAN /* ASan reserves terabytes of shadow address space */
	if (!rc)
		rc = sk_worker_rlimit(RLIMIT_AS, lim->max_as, lim->max_as, "as", err);
#endif
	/* SIGXCPU at the soft limit, SIGKILL at the hard one: the gate sees a crash */
	if (!rc)
		rc = sk_worker_rlimit(RLIMIT_CPU, lim->max_cpu, (uint64_t)lim->max_cpu + 1, "cpu", err);
	if (!rc)
		rc = sk_worker_rlimit(RLIMIT_FSIZE, lim->max_fsize, lim->max_fsize, "fsize", err);
	/* stdin, stdout, stderr, the socket, a job's two descriptors, and room to spare */
	if (!rc)
		rc = sk_worker_rlimit(RLIMIT_NOFILE, 16, 16, "nofile", err);
	if (rc)
		return rc;
	/* past RLIMIT_FSIZE a write fails (EFBIG: the item is blocked) instead of killing */
	signal(SIGXFSZ, SIG_IGN);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return sk_error_sys(err, SK_EINTERNAL, "prctl");
	return filter(sock, err);
}
