/* Notices by mail: one UTF-8 text message piped to the local MTA's sendmail. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "sekisho/audit.h"
#include "sekisho/hash.h"
#include "sekisho/name.h"
#include "sekisho/notify.h"

extern char **environ;

/* base64 of n bytes appended to out */
static int b64(sk_buf *out, const void *p, size_t n)
{
	size_t len = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
	int rc = sk_buf_reserve(out, len);
	if (rc)
		return rc;
	sodium_bin2base64((char *)out->data + out->len, len, p, n, sodium_base64_VARIANT_ORIGINAL);
	out->len += len - 1; /* without the NUL */
	return 0;
}

/* Subject: =?UTF-8?B?…?= words of at most 39 input bytes (52 base64 characters, a
 * 66-character word; the first line is 75 characters), split between UTF-8 characters,
 * folded with LF SP. */
static int subject_words(sk_buf *out, const char *s)
{
	size_t n = strlen(s), i = 0;
	int rc = sk_buf_adds(out, "Subject:");
	if (!n)
		return rc ? rc : sk_buf_adds(out, " \n");
	while (!rc && i < n) {
		size_t take = n - i > 39 ? 39 : n - i;
		while (take && i + take < n && ((unsigned char)s[i + take] & 0xC0) == 0x80)
			take--; /* never cut a character */
		rc = sk_buf_adds(out, i ? "\n =?UTF-8?B?" : " =?UTF-8?B?");
		if (!rc)
			rc = b64(out, s + i, take);
		if (!rc)
			rc = sk_buf_adds(out, "?=");
		i += take;
	}
	return rc ? rc : sk_buf_adds(out, "\n");
}

static bool one_line(const char *s)
{
	for (const char *p = s; *p; p++)
		if (*p == '\r' || *p == '\n' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return true;
}

static int check(const char *from, const char *const *to, size_t nto, const char *subject,
		 const char *body, sk_error *err)
{
	if (!sk_mail_addr_valid(from))
		return sk_error_set(err, SK_EINVAL, "notice: invalid sender address");
	if (!nto || !to)
		return sk_error_set(err, SK_EINVAL, "notice: no recipient");
	if (nto > SK_NOTIFY_TO_MAX)
		return sk_error_set(err, SK_ELIMIT, "notice: more than %d recipients", SK_NOTIFY_TO_MAX);
	for (size_t i = 0; i < nto; i++)
		if (!sk_mail_addr_valid(to[i]))
			return sk_error_set(err, SK_EINVAL, "notice: invalid recipient address");
	if (!subject || !body)
		return sk_error_set(err, SK_EINVAL, "notice: no subject or body");
	size_t sl = strlen(subject), bl = strlen(body);
	if (sl > SK_NOTIFY_SUBJECT_MAX)
		return sk_error_set(err, SK_ELIMIT, "notice: subject over %d bytes", SK_NOTIFY_SUBJECT_MAX);
	if (bl > SK_NOTIFY_BODY_MAX)
		return sk_error_set(err, SK_ELIMIT, "notice: body over %zu bytes", SK_NOTIFY_BODY_MAX);
	if (!sk_utf8_valid(subject, sl) || !one_line(subject))
		return sk_error_set(err, SK_EINVAL, "notice: the subject must be one line of UTF-8 text");
	if (!sk_utf8_valid(body, bl))
		return sk_error_set(err, SK_EINVAL, "notice: the body is not UTF-8");
	return 0;
}

int sk_notify_format(const char *from, const char *const *to, size_t nto, const char *subject,
		     const char *body, int64_t date_us, sk_buf *out, sk_error *err)
{
	int rc = check(from, to, nto, subject, body, err);
	if (rc)
		return rc;
	if ((rc = sk_crypto_init(err)))
		return rc;
	sk_buf_reset(out);
	/* Date in JST (+0900, no summer time) */
	static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)(date_us / 1000000) + 9 * 3600;
	struct tm tm;
	gmtime_r(&t, &tm);
	uint8_t rnd[16];
	randombytes_buf(rnd, sizeof(rnd));
	char id[33];
	sk_hex(rnd, sizeof(rnd), id);
	rc = sk_buf_printf(out, "From: %s\nTo: ", from);
	for (size_t i = 0; !rc && i < nto; i++)
		rc = sk_buf_printf(out, "%s%s", i ? ",\n " : "", to[i]);
	if (!rc)
		rc = sk_buf_adds(out, "\n");
	if (!rc)
		rc = subject_words(out, subject);
	if (!rc)
		rc = sk_buf_printf(out,
				   "Date: %s, %02d %s %04d %02d:%02d:%02d +0900\n"
				   "Message-ID: <%s.%lld@%s>\n"
				   "MIME-Version: 1.0\n"
				   "Content-Type: text/plain; charset=UTF-8\n"
				   "Content-Transfer-Encoding: base64\n"
				   "Auto-Submitted: auto-generated\n\n",
				   wd[tm.tm_wday], tm.tm_mday, mo[tm.tm_mon], tm.tm_year + 1900,
				   tm.tm_hour, tm.tm_min, tm.tm_sec, id, (long long)(date_us / 1000000),
				   strchr(from, '@') + 1);
	/* body: base64 in lines of 76 characters (57 input bytes) */
	size_t bl = strlen(body);
	for (size_t i = 0; !rc && i < bl; i += 57) {
		rc = b64(out, body + i, bl - i > 57 ? 57 : bl - i);
		if (!rc)
			rc = sk_buf_adds(out, "\n");
	}
	if (rc)
		return sk_error_set(err, rc, "notice: out of memory");
	return 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes all of p to the non-blocking fd before the deadline (monotonic ms) with SIGPIPE
 * blocked (a consumed pending SIGPIPE is discarded): an MTA that exits early gives EPIPE,
 * not a dead process; one that stops reading gives ETIMEDOUT. */
static int write_all(int fd, const uint8_t *p, size_t n, int64_t deadline, int *sys)
{
	sigset_t pipe_set, old;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	int rc = 0;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			int64_t left = deadline - mono_ms();
			struct pollfd pf = {.fd = fd, .events = POLLOUT};
			if (left <= 0 || poll(&pf, 1, (int)(left > 1000 ? 1000 : left)) < 0) {
				if (left > 0 && errno == EINTR)
					continue;
				*sys = left <= 0 ? ETIMEDOUT : errno;
				rc = SK_EIO;
				break;
			}
			continue;
		}
		if (w <= 0) {
			*sys = errno;
			rc = SK_EIO;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	if (rc) {
		struct timespec zero = {0, 0};
		sigset_t pend;
		sigpending(&pend);
		if (sigismember(&pend, SIGPIPE))
			sigtimedwait(&pipe_set, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* Waits for pid until the deadline; then kills it. *timed_out says so. */
static int wait_child(pid_t pid, int64_t deadline, bool *timed_out)
{
	int status = 0;
	*timed_out = false;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return status;
		if (r == 0 && mono_ms() >= deadline) {
			*timed_out = true;
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return status;
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

int sk_notify_send(const char *sendmail, const char *from, const char *const *to, size_t nto,
		   const char *subject, const char *body, sk_error *err)
{
	return sk_notify_send_within(sendmail, from, to, nto, subject, body, SK_NOTIFY_TIMEOUT_S,
				     err);
}

/* Runs `SENDMAIL -oi [-f FROM] -- TO…` and writes the message to it: the bytes p/n, or
 * (p NULL) what fd holds from offset 0 to its end. */
static int run_sendmail(const char *sendmail, const char *env_from, const char *const *to,
			size_t nto, const uint8_t *p, size_t n, int fd, int timeout_s,
			sk_error *err)
{
	/* the errors name what was being handed on */
	const char *what = p ? "notice" : "deliver";
	if (timeout_s <= 0)
		return sk_error_set(err, SK_EINVAL, "%s: time limit must be positive", what);
	if (!sendmail || sendmail[0] != '/')
		return sk_error_set(err, SK_EINVAL, "%s: sendmail must be an absolute path", what);
	char **argv = calloc(nto + 6, sizeof(*argv));
	int fds[2] = {-1, -1};
	if (!argv || pipe2(fds, O_CLOEXEC) != 0) {
		free(argv);
		return sk_error_set(err, SK_EIO, "%s: pipe", what);
	}
	size_t k = 0;
	argv[k++] = (char *)sendmail;
	argv[k++] = "-oi";
	if (env_from) {
		argv[k++] = "-f";
		argv[k++] = (char *)(*env_from ? env_from : "<>");
	}
	argv[k++] = "--";
	for (size_t i = 0; i < nto; i++)
		argv[k++] = (char *)to[i];
	argv[k] = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
	pid_t pid;
	int e = posix_spawn(&pid, sendmail, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	free(argv);
	close(fds[0]);
	if (e) {
		close(fds[1]);
		int rc = sk_error_set(err, SK_EIO, "%s: cannot run %s: %s", what, sendmail, strerror(e));
		err->sys = e;
		return rc;
	}
	int sys = 0;
	int64_t deadline = mono_ms() + (int64_t)timeout_s * 1000;
	int wrc = fcntl(fds[1], F_SETFL, O_NONBLOCK) == 0 ? 0 : SK_EIO;
	if (wrc)
		sys = errno;
	else if (p)
		wrc = write_all(fds[1], p, n, deadline, &sys);
	else {
		uint8_t chunk[65536];
		off_t off = 0;
		for (;;) {
			ssize_t r = pread(fd, chunk, sizeof(chunk), off);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				sys = errno;
				wrc = SK_EIO;
				break;
			}
			if (r == 0)
				break;
			off += r;
			if ((wrc = write_all(fds[1], chunk, (size_t)r, deadline, &sys)) != 0)
				break;
		}
	}
	close(fds[1]);
	bool timed_out;
	int status = wait_child(pid, deadline, &timed_out);
	if (timed_out)
		return sk_error_set(err, SK_EIO, "%s: %s did not finish within %d s (killed)",
				    what, sendmail, timeout_s);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status))
			return sk_error_set(err, SK_EIO, "%s: %s exited with status %d", what, sendmail,
					    WEXITSTATUS(status));
		return sk_error_set(err, SK_EIO, "%s: %s ended by signal %d", what, sendmail,
				    WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	}
	if (wrc) {
		int rc = sk_error_set(err, SK_EIO, "%s: writing to %s: %s", what, sendmail, strerror(sys));
		err->sys = sys;
		return rc;
	}
	return 0;
}

int sk_notify_send_within(const char *sendmail, const char *from, const char *const *to,
			  size_t nto, const char *subject, const char *body, int timeout_s,
			  sk_error *err)
{
	if (timeout_s <= 0)
		return sk_error_set(err, SK_EINVAL, "notice: time limit must be positive");
	if (!sendmail || sendmail[0] != '/')
		return sk_error_set(err, SK_EINVAL, "notice: sendmail must be an absolute path");
	sk_buf msg;
	sk_buf_init(&msg, SK_NOTIFY_BODY_MAX * 2 + 65536);
	int rc = sk_notify_format(from, to, nto, subject, body, sk_time_now_us(), &msg, err);
	if (rc == 0)
		rc = run_sendmail(sendmail, NULL, to, nto, msg.data, msg.len, -1, timeout_s, err);
	sk_buf_free(&msg);
	return rc;
}

int sk_notify_deliver(const char *sendmail, const char *env_from, const char *const *to,
		      size_t nto, int fd, int timeout_s, sk_error *err)
{
	if (!env_from || (*env_from && !sk_mail_addr_valid(env_from)))
		return sk_error_set(err, SK_EINVAL, "deliver: invalid sender address");
	if (!nto || !to)
		return sk_error_set(err, SK_EINVAL, "deliver: no recipient");
	if (nto > SK_NOTIFY_DELIVER_TO_MAX)
		return sk_error_set(err, SK_ELIMIT, "deliver: more than %d recipients",
				    SK_NOTIFY_DELIVER_TO_MAX);
	for (size_t i = 0; i < nto; i++)
		if (!sk_mail_addr_valid(to[i]))
			return sk_error_set(err, SK_EINVAL, "deliver: invalid recipient address");
	if (fd < 0)
		return sk_error_set(err, SK_EINVAL, "deliver: no message");
	return run_sendmail(sendmail, env_from, to, nto, NULL, 0, fd, timeout_s, err);
}

void sk_notify_from_default(char out[SK_NOTIFY_ADDR_MAX])
{
	char host[200] = "";
	if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = 0;
	snprintf(out, SK_NOTIFY_ADDR_MAX, "sekisho@%s", host);
	if (!sk_mail_addr_valid(out))
		snprintf(out, SK_NOTIFY_ADDR_MAX, "sekisho@localhost");
}
