/* Malware scan: the clamd client against a fake clamd (a forked child listening on a
 * socket in a mkdtemp folder) that answers OK / FOUND / garbage / errors, closes early,
 * stops reading or never answers; the reply parser; and the hook in sk_process().
 * The real clamd is exercised by tests/integration/clamd.sh. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sekisho/scan.h"
#include "testutil.h"

#define MARKER "FAKE-CLAMD-MARKER"

typedef enum fake_mode {
	FK_SCAN,     /* read the stream; FOUND Fake.Marker when MARKER is in it, else OK */
	FK_LEN,      /* read the stream; answer "stream: Len-<bytes received> FOUND" */
	FK_OK,       /* read the stream; OK */
	FK_FOUND,    /* read the stream; FOUND Win.Test.Fake-1 */
	FK_GARBAGE,  /* read the stream; a line that means nothing */
	FK_ERROR,    /* read the stream; "stream: Can't allocate memory ERROR" */
	FK_LONG,     /* read the stream; a reply longer than SK_SCAN_REPLY_MAX */
	FK_CLOSE,    /* close right after accept */
	FK_EARLY_OK, /* read the command only, answer OK and close: must not pass */
	FK_SILENT,   /* read the stream, never answer */
	FK_NOREAD,   /* accept, never read */
	FK_LIMIT,    /* like clamd's StreamMaxLength: past `limit` bytes answer the error */
	FK_SLOWOK,   /* read the stream, wait 300 ms, answer OK (within a 2 s timeout) */
} fake_mode;

typedef struct fake {
	char dir[64];
	char spec[160];
	pid_t pid;
} fake;

static fake g_fake;

static int read_full(int fd, void *p, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = read(fd, (char *)p + done, n - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

static void reply(int c, const char *s)
{
	(void)!send(c, s, strlen(s) + 1, MSG_NOSIGNAL);
}

/* One connection, child side. */
static void serve(int c, fake_mode mode, size_t limit)
{
	char cmd[10];
	if (mode == FK_CLOSE)
		return;
	if (mode == FK_NOREAD) {
		pause();
		return;
	}
	if (read_full(c, cmd, sizeof(cmd)) || memcmp(cmd, "zINSTREAM", 10)) {
		reply(c, "UNKNOWN COMMAND");
		return;
	}
	if (mode == FK_EARLY_OK) {
		reply(c, "stream: OK");
		return;
	}
	size_t cap = 1 << 20, len = 0, total = 0;
	char *data = malloc(cap);
	for (;;) {
		uint8_t h[4];
		if (read_full(c, h, 4)) {
			free(data);
			return;
		}
		size_t n = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
		if (n == 0)
			break;
		if (mode == FK_LIMIT && total + n > limit) {
			reply(c, "INSTREAM size limit exceeded. ERROR");
			free(data);
			return;
		}
		if (len + n > cap) {
			while (len + n > cap)
				cap *= 2;
			data = realloc(data, cap);
		}
		if (read_full(c, data + len, n)) {
			free(data);
			return;
		}
		len += n;
		total += n;
	}
	char msg[64];
	switch (mode) {
	case FK_SCAN:
		reply(c, memmem(data, len, MARKER, strlen(MARKER)) ? "stream: Fake.Marker FOUND"
								    : "stream: OK");
		break;
	case FK_LEN:
		snprintf(msg, sizeof(msg), "stream: Len-%zu FOUND", total);
		reply(c, msg);
		break;
	case FK_OK: case FK_LIMIT: reply(c, "stream: OK"); break;
	case FK_FOUND: reply(c, "stream: Win.Test.Fake-1 FOUND"); break;
	case FK_GARBAGE: reply(c, "hello there"); break;
	case FK_ERROR: reply(c, "stream: Can't allocate memory ERROR"); break;
	case FK_LONG: {
		char big[SK_SCAN_REPLY_MAX + 100];
		memset(big, 'A', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		reply(c, big);
		break;
	}
	case FK_SLOWOK: {
		struct timespec ts = {0, 300 * 1000000L};
		nanosleep(&ts, NULL);
		reply(c, "stream: OK");
		break;
	}
	case FK_SILENT: pause(); break;
	default: break;
	}
	free(data);
}

/* Starts a fake clamd (unix socket, or TCP on 127.0.0.1 when tcp). */
static void fake_start(fake_mode mode, size_t limit, bool tcp)
{
	fake *f = &g_fake;
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/sk-scan-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	int l;
	if (tcp) {
		l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
		socklen_t al = sizeof(a);
		assert_int_equal(getsockname(l, (struct sockaddr *)&a, &al), 0);
		snprintf(f->spec, sizeof(f->spec), "tcp:127.0.0.1:%u", ntohs(a.sin_port));
	} else {
		l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		snprintf(a.sun_path, sizeof(a.sun_path), "%.64s/clamd.sock", f->dir);
		assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
		snprintf(f->spec, sizeof(f->spec), "unix:%s", a.sun_path);
	}
	assert_int_equal(listen(l, 8), 0);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		alarm(30); /* never outlive a broken test run */
		signal(SIGPIPE, SIG_IGN);
		for (;;) {
			int c = accept(l, NULL, NULL);
			if (c < 0)
				_exit(1);
			serve(c, mode, limit);
			close(c);
		}
	}
	close(l);
}

static int fake_teardown(void **state)
{
	(void)state;
	fake *f = &g_fake;
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
		f->pid = 0;
	}
	if (f->dir[0]) {
		char p[128];
		snprintf(p, sizeof(p), "%.64s/clamd.sock", f->dir);
		unlink(p);
		rmdir(f->dir);
		f->dir[0] = 0;
	}
	return 0;
}

/* Scans data with the fake clamd at g_fake.spec. */
static int scan_mem(const void *data, size_t n, int timeout_ms, size_t chunk, sk_scan_result *res)
{
	sk_input in;
	sk_input_mem(&in, data, n);
	sk_scan_config cfg = {.socket_spec = g_fake.spec, .timeout_ms = timeout_ms, .chunk = chunk};
	sk_error err;
	sk_error_clear(&err);
	int rc = sk_scan_clamd_cfg(&cfg, &in, res, &err);
	if (rc)
		assert_true(err.code < 0 && err.msg[0]); /* a failure always says why */
	return rc;
}

#define assert_scan_reason(res, r) \
	assert_string_equal(sk_reason_code((res)->reason), sk_reason_code(r))

/* ---- the reply parser ---- */

static void parse_replies(void **state)
{
	(void)state;
#define Z(s) s, sizeof(s)     /* with clamd's NUL terminator */
#define N(s) s, sizeof(s) - 1 /* without it */
	static const struct {
		const char *reply;
		size_t len; /* bytes of reply given to the parser */
		int rc;
		sk_reason reason;
		const char *detail;
	} cases[] = {
		{Z("stream: OK"), 0, SK_REASON_NONE, ""},
		{N("stream: OK"), 0, SK_REASON_NONE, ""},     /* no terminator */
		{N("stream: OK\n"), 0, SK_REASON_NONE, ""},   /* newline form */
		{N("stream: OK\r\n"), 0, SK_REASON_NONE, ""},
		{Z("stream: Eicar-Signature FOUND"), 0, SK_REASON_MALWARE, "Eicar-Signature"},
		{Z("stream: Sekisho.Test.Marker.UNOFFICIAL FOUND"), 0, SK_REASON_MALWARE,
		 "Sekisho.Test.Marker.UNOFFICIAL"},
		{Z("stream: Eicar(44d88612fea8a8f36de82e1278abb02f:68) FOUND"), 0, SK_REASON_MALWARE,
		 "Eicar(44d88612fea8a8f36de82e1278abb02f:68)"},
		{Z("stream: Heuristics.Limits.Exceeded.MaxFileSize FOUND"), 0, SK_REASON_LIMIT_SIZE,
		 "Heuristics.Limits.Exceeded.MaxFileSize"},
		{Z("INSTREAM size limit exceeded. ERROR"), 0, SK_REASON_LIMIT_SIZE,
		 "clamd StreamMaxLength"},
		{Z("stream: Can't allocate memory ERROR"), SK_EIO, SK_REASON_SCAN_UNAVAILABLE,
		 "clamd: stream: Can't allocate memory ERROR"},
		/* several answers (AllMatchScanning): a signature wins over OK */
		{N("stream: OK\0stream: Evil FOUND"), 0, SK_REASON_MALWARE, "Evil"},
		/* a signature wins over an error, an error over OK */
		{N("stream: X ERROR\0stream: Evil FOUND"), 0, SK_REASON_MALWARE, "Evil"},
		{N("stream: OK\0stream: X ERROR"), SK_EIO, SK_REASON_SCAN_UNAVAILABLE,
		 "clamd: stream: X ERROR"},
		/* everything else is not understood and never clean */
		{Z(""), SK_EFORMAT, SK_REASON_SCAN_UNAVAILABLE, "clamd: empty reply"},
		{N("\0\0\n"), SK_EFORMAT, SK_REASON_SCAN_UNAVAILABLE, "clamd: empty reply"},
		{Z("stream: ok"), SK_EFORMAT, SK_REASON_SCAN_UNAVAILABLE, NULL},
		{Z("stream: OKAY"), SK_EFORMAT, SK_REASON_SCAN_UNAVAILABLE, NULL},
		{Z("OK"), SK_EFORMAT, SK_REASON_SCAN_UNAVAILABLE, NULL},
		{Z(" stream: OK"), SK_EFORMAT, SK_REASON_SCAN_UNAVAILABLE, NULL},
		{Z("stream:  FOUND"), SK_EFORMAT, SK_REASON_SCAN_UNAVAILABLE, NULL},
		{Z("stream: FOUND"), SK_EFORMAT, SK_REASON_SCAN_UNAVAILABLE, NULL},
		{Z("stream: two words FOUND"), SK_EFORMAT, SK_REASON_SCAN_UNAVAILABLE, NULL},
		{Z("UNKNOWN COMMAND"), SK_EFORMAT, SK_REASON_SCAN_UNAVAILABLE,
		 "clamd: unparsable reply: UNKNOWN COMMAND"},
		{N("stream: OK\0garbage"), SK_EFORMAT, SK_REASON_SCAN_UNAVAILABLE, NULL},
		{Z("ERROR"), SK_EFORMAT, SK_REASON_SCAN_UNAVAILABLE, NULL},
		/* control bytes in a signature name reach the report as '?' */
		{Z("stream: Bad\x1b[31mName FOUND"), 0, SK_REASON_MALWARE, "Bad?[31mName"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sk_scan_result res;
		memset(&res, 0xAA, sizeof(res));
		res.detail[0] = 0;
		int rc = sk_scan_parse_reply(cases[i].reply, cases[i].len, &res);
		print_message("# reply %zu: %s\n", i, cases[i].reply);
		assert_int_equal(rc, cases[i].rc);
		assert_scan_reason(&res, cases[i].reason);
		if (cases[i].detail)
			assert_string_equal(res.detail, cases[i].detail);
	}
#undef Z
#undef N
	/* a 200-byte signature name is cut to fit, still NUL-terminated */
	char longname[260];
	int m = snprintf(longname, sizeof(longname), "stream: %0200d FOUND", 7);
	sk_scan_result res;
	assert_int_equal(sk_scan_parse_reply(longname, (size_t)m, &res), 0);
	assert_scan_reason(&res, SK_REASON_MALWARE);
	assert_int_equal(strlen(res.detail), sizeof(res.detail) - 1);
}

static void spec_syntax(void **state)
{
	(void)state;
	static const char *good[] = {"unix:/run/clamav/clamd.ctl", "tcp:127.0.0.1:3310",
				     "tcp:[::1]:3310", "tcp:10.0.0.5:1"};
	static const char *bad[] = {"", "unix:", "/run/clamd.sock", "tcp:127.0.0.1",
				    "tcp:localhost:3310", "tcp:127.0.0.1:0", "tcp:127.0.0.1:65536",
				    "tcp:127.0.0.1:33x0", "tcp::3310", "udp:127.0.0.1:3310", NULL};
	sk_error err;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(sk_scan_spec_check(good[i], &err), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sk_error_clear(&err);
		assert_int_equal(sk_scan_spec_check(bad[i], &err), SK_EINVAL);
		assert_true(err.msg[0]);
	}
	char path[200];
	memset(path, 'a', sizeof(path));
	memcpy(path, "unix:/", 6);
	path[sizeof(path) - 1] = 0; /* longer than sun_path */
	assert_int_equal(sk_scan_spec_check(path, &err), SK_EINVAL);

	/* a bad spec fails closed, without a connection */
	sk_scan_result res;
	sk_input in;
	sk_input_mem(&in, "x", 1);
	assert_int_equal(sk_scan_clamd("bogus", &in, &res, NULL), SK_EINVAL);
	assert_scan_reason(&res, SK_REASON_SCAN_UNAVAILABLE);
}

/* ---- the client against the fake clamd ---- */

static void verdict_ok(void **state)
{
	(void)state;
	fake_start(FK_OK, 0, false);
	sk_scan_result res;
	assert_int_equal(scan_mem("hello", 5, 2000, 0, &res), 0);
	assert_scan_reason(&res, SK_REASON_NONE);
	assert_string_equal(res.detail, "");
	/* the empty item is scanned too (just the terminating chunk) */
	assert_int_equal(scan_mem("", 0, 2000, 0, &res), 0);
	assert_scan_reason(&res, SK_REASON_NONE);
}

static void verdict_found(void **state)
{
	(void)state;
	fake_start(FK_FOUND, 0, false);
	sk_scan_result res;
	assert_int_equal(scan_mem("hello", 5, 2000, 0, &res), 0);
	assert_scan_reason(&res, SK_REASON_MALWARE);
	assert_string_equal(res.detail, "Win.Test.Fake-1");
}

static void verdict_tcp(void **state)
{
	(void)state;
	fake_start(FK_SCAN, 0, true);
	sk_scan_result res;
	assert_int_equal(scan_mem("a " MARKER " b", strlen(MARKER) + 4, 2000, 0, &res), 0);
	assert_scan_reason(&res, SK_REASON_MALWARE);
	assert_string_equal(res.detail, "Fake.Marker");
	assert_int_equal(scan_mem("nothing here", 12, 2000, 0, &res), 0);
	assert_scan_reason(&res, SK_REASON_NONE);
}

static void verdict_garbage(void **state)
{
	(void)state;
	fake_start(FK_GARBAGE, 0, false);
	sk_scan_result res;
	assert_int_equal(scan_mem("hello", 5, 2000, 0, &res), SK_EFORMAT);
	assert_scan_reason(&res, SK_REASON_SCAN_UNAVAILABLE);
	assert_string_equal(res.detail, "clamd: unparsable reply: hello there");
}

static void verdict_error(void **state)
{
	(void)state;
	fake_start(FK_ERROR, 0, false);
	sk_scan_result res;
	assert_int_equal(scan_mem("hello", 5, 2000, 0, &res), SK_EIO);
	assert_scan_reason(&res, SK_REASON_SCAN_UNAVAILABLE);
	assert_string_equal(res.detail, "clamd: stream: Can't allocate memory ERROR");
}

static void verdict_long_reply(void **state)
{
	(void)state;
	fake_start(FK_LONG, 0, false);
	sk_scan_result res;
	assert_int_equal(scan_mem("hello", 5, 2000, 0, &res), SK_EFORMAT);
	assert_scan_reason(&res, SK_REASON_SCAN_UNAVAILABLE);
}

static void verdict_closed(void **state)
{
	(void)state;
	fake_start(FK_CLOSE, 0, false);
	sk_scan_result res;
	assert_true(scan_mem("hello", 5, 2000, 0, &res) < 0);
	assert_scan_reason(&res, SK_REASON_SCAN_UNAVAILABLE);
	assert_true(strncmp(res.detail, "clamd: ", 7) == 0);
}

static void verdict_early_ok(void **state)
{
	(void)state;
	/* "stream: OK" for a stream that was not sent whole must not pass the item */
	fake_start(FK_EARLY_OK, 0, false);
	size_t n = 8u << 20; /* more than the socket buffers hold */
	char *big = calloc(1, n);
	assert_non_null(big);
	sk_scan_result res;
	int rc = scan_mem(big, n, 2000, 0, &res);
	free(big);
	assert_int_equal(rc, SK_EIO);
	assert_scan_reason(&res, SK_REASON_SCAN_UNAVAILABLE);
	assert_string_equal(res.detail, "clamd: clamd answered before the item was sent");
}

static void verdict_refused(void **state)
{
	(void)state;
	sk_scan_result res;
	sk_input in;
	sk_input_mem(&in, "x", 1);
	sk_error err;
	/* no such socket */
	assert_int_equal(sk_scan_clamd("unix:/nonexistent/sekisho/clamd.sock", &in, &res, &err),
			 SK_EIO);
	assert_scan_reason(&res, SK_REASON_SCAN_UNAVAILABLE);
	assert_non_null(strstr(res.detail, "connect"));
	/* a stale socket file nobody listens on */
	char dir[] = "/tmp/sk-scan-stale.XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	snprintf(un.sun_path, sizeof(un.sun_path), "%s/clamd.sock", dir);
	int u = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(u, (struct sockaddr *)&un, sizeof(un)), 0);
	close(u);
	char uspec[128];
	snprintf(uspec, sizeof(uspec), "unix:%s", un.sun_path);
	assert_int_equal(sk_scan_clamd(uspec, &in, &res, &err), SK_EIO);
	assert_scan_reason(&res, SK_REASON_SCAN_UNAVAILABLE);
	assert_non_null(strstr(res.detail, "refused"));
	unlink(un.sun_path);
	rmdir(dir);
	/* nothing listens on the TCP port */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
	close(s);
	char spec[64];
	snprintf(spec, sizeof(spec), "tcp:127.0.0.1:%u", ntohs(a.sin_port));
	assert_int_equal(sk_scan_clamd(spec, &in, &res, &err), SK_EIO);
	assert_scan_reason(&res, SK_REASON_SCAN_UNAVAILABLE);
}

static uint64_t ms_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void timeout_read(void **state)
{
	(void)state;
	fake_start(FK_SILENT, 0, false);
	sk_scan_result res;
	uint64_t t0 = ms_now();
	assert_int_equal(scan_mem("hello", 5, 200, 0, &res), SK_EIO);
	uint64_t took = ms_now() - t0;
	assert_scan_reason(&res, SK_REASON_SCAN_UNAVAILABLE);
	assert_string_equal(res.detail, "clamd: no reply from clamd within 200 ms");
	assert_true(took >= 190 && took < 3000);
}

static void timeout_write(void **state)
{
	(void)state;
	fake_start(FK_NOREAD, 0, false);
	size_t n = 16u << 20; /* fills the socket buffers */
	char *big = calloc(1, n);
	assert_non_null(big);
	sk_scan_result res;
	uint64_t t0 = ms_now();
	int rc = scan_mem(big, n, 200, 0, &res);
	uint64_t took = ms_now() - t0;
	free(big);
	assert_int_equal(rc, SK_EIO);
	assert_scan_reason(&res, SK_REASON_SCAN_UNAVAILABLE);
	assert_string_equal(res.detail, "clamd: clamd took no data for 200 ms");
	assert_true(took < 3000);
}

static void timeout_connect(void **state)
{
	(void)state;
	/* a clamd whose listen queue is full (it accepts nothing): connect waits for the
	 * timeout, then the item is blocked */
	fake *f = &g_fake;
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/sk-scan-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%.64s/clamd.sock", f->dir);
	snprintf(f->spec, sizeof(f->spec), "unix:%s", a.sun_path);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 0), 0);
	int filler[8], nf = 0;
	for (; nf < 8; nf++) {
		filler[nf] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (connect(filler[nf], (struct sockaddr *)&a, sizeof(a)) != 0) {
			assert_int_equal(errno, EAGAIN);
			break;
		}
	}
	assert_true(nf < 8); /* the queue is full now */
	sk_scan_result res;
	uint64_t t0 = ms_now();
	int rc = scan_mem("hello", 5, 200, 0, &res);
	uint64_t took = ms_now() - t0;
	for (int i = 0; i <= nf && i < 8; i++)
		close(filler[i]);
	close(l);
	assert_int_equal(rc, SK_EIO);
	assert_scan_reason(&res, SK_REASON_SCAN_UNAVAILABLE);
	assert_string_equal(res.detail, "clamd: connect: clamd busy for 200 ms");
	assert_true(took >= 190 && took < 3000);
}

static void timeout_slow_but_in_time(void **state)
{
	(void)state;
	fake_start(FK_SLOWOK, 0, false);
	sk_scan_result res;
	assert_int_equal(scan_mem("hello", 5, 2000, 0, &res), 0);
	assert_scan_reason(&res, SK_REASON_NONE);
	assert_true(res.elapsed_ms >= 250);
}

static void stream_limit(void **state)
{
	(void)state;
	/* clamd's StreamMaxLength: the error reply blocks the item as limit-size, both when
	 * it comes between small chunks and when it cuts a big write short (EPIPE) */
	fake_start(FK_LIMIT, 1000, false);
	char small[5000];
	memset(small, 'x', sizeof(small));
	sk_scan_result res;
	assert_int_equal(scan_mem(small, sizeof(small), 2000, 512, &res), 0);
	assert_scan_reason(&res, SK_REASON_LIMIT_SIZE);
	assert_string_equal(res.detail, "clamd StreamMaxLength");
	/* under the limit it passes */
	assert_int_equal(scan_mem(small, 900, 2000, 512, &res), 0);
	assert_scan_reason(&res, SK_REASON_NONE);
	size_t n = 8u << 20;
	char *big = calloc(1, n);
	assert_non_null(big);
	int rc = scan_mem(big, n, 2000, 0, &res);
	free(big);
	assert_int_equal(rc, 0);
	assert_scan_reason(&res, SK_REASON_LIMIT_SIZE);
}

/* A file input larger than one chunk arrives whole and in order: the marker spans a
 * chunk boundary, and the fake counts every byte. */
static void stream_fd_chunks(void **state)
{
	(void)state;
	char path[] = "/tmp/sk-scan-input.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	const size_t chunk = 4096;
	const uint64_t size = 3u << 20;
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	assert_int_equal(pwrite(fd, MARKER, strlen(MARKER), (off_t)(7 * chunk - 5)),
			 (ssize_t)strlen(MARKER));
	sk_input in;
	sk_input_fd(&in, fd, size);
	sk_scan_config cfg = {.timeout_ms = 5000, .chunk = chunk};
	sk_scan_result res;

	fake_start(FK_SCAN, 0, false);
	cfg.socket_spec = g_fake.spec;
	assert_int_equal(sk_scan_clamd_cfg(&cfg, &in, &res, NULL), 0);
	assert_scan_reason(&res, SK_REASON_MALWARE);
	assert_string_equal(res.detail, "Fake.Marker");
	fake_teardown(NULL);

	fake_start(FK_LEN, 0, false);
	cfg.socket_spec = g_fake.spec;
	cfg.chunk = 0; /* default chunk size */
	assert_int_equal(sk_scan_clamd_cfg(&cfg, &in, &res, NULL), 0);
	assert_string_equal(res.detail, "Len-3145728");

	/* the file shrinks after its size was taken: never clean */
	assert_int_equal(ftruncate(fd, 1000), 0);
	assert_int_equal(sk_scan_clamd_cfg(&cfg, &in, &res, NULL), SK_EIO);
	assert_scan_reason(&res, SK_REASON_SCAN_UNAVAILABLE);
	assert_string_equal(res.detail, "clamd: the item changed while it was scanned");
	assert_null(in.loaded); /* streamed with pread, never loaded whole */
	close(fd);
}

/* ---- the hook in sk_process() ---- */

static const char exe[] = "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00";

static void process_malware_first(void **state)
{
	(void)state;
	/* the scan runs before the disarm engine: an executable clamd names is blocked as
	 * malware with the signature, not as executable */
	fake_start(FK_FOUND, 0, false);
	sk_options o;
	sk_options_default(&o);
	o.clamd = g_fake.spec;
	o.clamd_timeout_ms = 2000;
	tu_run r;
	tu_process(exe, sizeof(exe) - 1, "a.exe", &o, &r);
	assert_verdict(&r, SK_VERDICT_BLOCKED);
	assert_reason(&r, SK_REASON_MALWARE);
	assert_string_equal(r.res.report.reason_detail, "Win.Test.Fake-1");
	assert_int_equal(r.out.len, 0); /* nothing was written */
	/* the hash of the original is still reported */
	uint8_t zero[SK_SHA256_LEN] = {0};
	assert_memory_not_equal(r.res.sha256, zero, SK_SHA256_LEN);
	tu_free(&r);
}

static void process_clean_unchanged(void **state)
{
	(void)state;
	/* with clamd answering OK the item gets exactly the verdict it gets without a
	 * scan, for an item the engine blocks and for one it may deliver */
	fake_start(FK_OK, 0, false);
	static const struct {
		const char *data;
		size_t n;
		const char *name;
	} items[] = {
		{exe, sizeof(exe) - 1, "a.exe"},
		{"hello, world\n", 13, "a.txt"},
		{"a,b\n1,2\n", 8, "a.csv"},
	};
	for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		sk_options o;
		sk_options_default(&o);
		tu_run plain, scanned;
		tu_process(items[i].data, items[i].n, items[i].name, &o, &plain);
		o.clamd = g_fake.spec;
		tu_process(items[i].data, items[i].n, items[i].name, &o, &scanned);
		assert_int_equal(scanned.res.report.verdict, plain.res.report.verdict);
		assert_int_equal(scanned.res.report.reason, plain.res.report.reason);
		assert_int_not_equal(scanned.res.report.reason, SK_REASON_SCAN_UNAVAILABLE);
		assert_int_equal(scanned.out.len, plain.out.len);
		if (plain.out.len)
			assert_memory_equal(scanned.out.data, plain.out.data, plain.out.len);
		tu_free(&plain);
		tu_free(&scanned);
	}
}

static void process_unavailable(void **state)
{
	(void)state;
	sk_options o;
	sk_options_default(&o);
	assert_null(o.clamd); /* not configured by default */
	o.clamd = "unix:/nonexistent/sekisho/clamd.sock";
	tu_run r;
	tu_process("hello, world\n", 13, "a.txt", &o, &r);
	assert_verdict(&r, SK_VERDICT_BLOCKED);
	assert_reason(&r, SK_REASON_SCAN_UNAVAILABLE);
	assert_non_null(r.res.report.reason_detail);
	tu_free(&r);

	/* never answering within the configured timeout */
	fake_start(FK_SILENT, 0, false);
	o.clamd = g_fake.spec;
	o.clamd_timeout_ms = 150;
	tu_process("hello, world\n", 13, "a.txt", &o, &r);
	assert_reason(&r, SK_REASON_SCAN_UNAVAILABLE);
	tu_free(&r);
	fake_teardown(NULL);

	/* garbage */
	fake_start(FK_GARBAGE, 0, false);
	o.clamd = g_fake.spec;
	tu_process("hello, world\n", 13, "a.txt", &o, &r);
	assert_reason(&r, SK_REASON_SCAN_UNAVAILABLE);
	tu_free(&r);
}

static void process_input_limit_before_scan(void **state)
{
	(void)state;
	/* the input-size check comes first: an oversized item is limit-size, and clamd
	 * (here: none listening) is not even asked */
	sk_options o;
	sk_options_default(&o);
	o.budget.max_input = 4;
	o.clamd = "unix:/nonexistent/sekisho/clamd.sock";
	tu_run r;
	tu_process("hello", 5, "a.txt", &o, &r);
	assert_reason(&r, SK_REASON_LIMIT_SIZE);
	tu_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_replies),
		cmocka_unit_test(spec_syntax),
		cmocka_unit_test_teardown(verdict_ok, fake_teardown),
		cmocka_unit_test_teardown(verdict_found, fake_teardown),
		cmocka_unit_test_teardown(verdict_tcp, fake_teardown),
		cmocka_unit_test_teardown(verdict_garbage, fake_teardown),
		cmocka_unit_test_teardown(verdict_error, fake_teardown),
		cmocka_unit_test_teardown(verdict_long_reply, fake_teardown),
		cmocka_unit_test_teardown(verdict_closed, fake_teardown),
		cmocka_unit_test_teardown(verdict_early_ok, fake_teardown),
		cmocka_unit_test(verdict_refused),
		cmocka_unit_test_teardown(timeout_read, fake_teardown),
		cmocka_unit_test_teardown(timeout_write, fake_teardown),
		cmocka_unit_test_teardown(timeout_connect, fake_teardown),
		cmocka_unit_test_teardown(timeout_slow_but_in_time, fake_teardown),
		cmocka_unit_test_teardown(stream_limit, fake_teardown),
		cmocka_unit_test_teardown(stream_fd_chunks, fake_teardown),
		cmocka_unit_test_teardown(process_malware_first, fake_teardown),
		cmocka_unit_test_teardown(process_clean_unchanged, fake_teardown),
		cmocka_unit_test_teardown(process_unavailable, fake_teardown),
		cmocka_unit_test(process_input_limit_before_scan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
