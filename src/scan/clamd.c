/* Malware scan with clamd: zINSTREAM over a unix or TCP socket, with timeouts.
 * See include/sekisho/scan.h for the verdicts. Protocol (clamd(8)): the command
 * "zINSTREAM\0", then chunks of <uint32 big-endian length><bytes>, a zero length to end;
 * clamd answers "stream: OK\0", "stream: NAME FOUND\0" or "… ERROR\0" and closes. */
#include "sekisho/scan.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_MAX ((size_t)64 << 20)
#define SIZE_LIMIT_REPLY "INSTREAM size limit exceeded. ERROR"
#define LIMITS_SIG "Heuristics.Limits.Exceeded"

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* Copies n bytes of s into dst as printable ASCII ('?' for anything else). */
static void set_detail(sk_scan_result *res, const char *s, size_t n)
{
	if (n > sizeof(res->detail) - 1)
		n = sizeof(res->detail) - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		res->detail[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	res->detail[n] = 0;
}

static bool has_prefix(const char *s, size_t n, const char *p)
{
	size_t pl = strlen(p);
	return n >= pl && memcmp(s, p, pl) == 0;
}

static bool has_suffix(const char *s, size_t n, const char *suf)
{
	size_t sl = strlen(suf);
	return n >= sl && memcmp(s + n - sl, suf, sl) == 0;
}

/* ---- reply parsing ---- */

enum line_kind { L_OK, L_FOUND, L_LIMIT, L_ERROR, L_UNKNOWN };

static enum line_kind classify(const char *s, size_t n, const char **name, size_t *name_len)
{
	static const char pre[] = "stream: ";
	static const char found[] = " FOUND";
	if (n == strlen("stream: OK") && memcmp(s, "stream: OK", n) == 0)
		return L_OK;
	if (n == strlen(SIZE_LIMIT_REPLY) && memcmp(s, SIZE_LIMIT_REPLY, n) == 0)
		return L_LIMIT;
	if (has_prefix(s, n, pre) && has_suffix(s, n, found) &&
	    n > strlen(pre) + strlen(found)) {
		*name = s + strlen(pre);
		*name_len = n - strlen(pre) - strlen(found);
		for (size_t i = 0; i < *name_len; i++)
			if ((*name)[i] == ' ' || (*name)[i] == '\n')
				return L_UNKNOWN; /* signature names have no spaces */
		return L_FOUND;
	}
	if (n > strlen(" ERROR") && has_suffix(s, n, " ERROR"))
		return L_ERROR;
	return L_UNKNOWN;
}

int sk_scan_parse_reply(const char *reply, size_t n, sk_scan_result *res)
{
	const char *found = NULL, *err_line = NULL, *unknown = NULL, *limits = NULL;
	size_t found_len = 0, err_len = 0, unknown_len = 0, limits_len = 0;
	bool limit = false, ok = false;
	size_t lines = 0;

	res->reason = SK_REASON_SCAN_UNAVAILABLE;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && reply[j] != 0 && reply[j] != '\n')
			j++;
		size_t len = j - i;
		if (len && reply[i + len - 1] == '\r')
			len--;
		if (len) {
			const char *name = NULL;
			size_t name_len = 0;
			lines++;
			switch (classify(reply + i, len, &name, &name_len)) {
			case L_OK: ok = true; break;
			case L_FOUND:
				if (has_prefix(name, name_len, LIMITS_SIG)) {
					if (!limits) {
						limits = name;
						limits_len = name_len;
					}
				} else if (!found) {
					found = name;
					found_len = name_len;
				}
				break;
			case L_LIMIT: limit = true; break;
			case L_ERROR:
				if (!err_line) {
					err_line = reply + i;
					err_len = len;
				}
				break;
			case L_UNKNOWN:
				if (!unknown) {
					unknown = reply + i;
					unknown_len = len;
				}
				break;
			}
		}
		i = j + 1;
	}

	/* A signature decides, whatever else came with it: the item is blocked anyway. */
	if (found) {
		res->reason = SK_REASON_MALWARE;
		set_detail(res, found, found_len);
		return 0;
	}
	if (lines == 0 || unknown) {
		char msg[96];
		int m = snprintf(msg, sizeof(msg), "clamd: unparsable reply: %.*s",
				 unknown ? (int)(unknown_len > 60 ? 60 : unknown_len) : 0,
				 unknown ? unknown : "");
		if (lines == 0)
			m = snprintf(msg, sizeof(msg), "clamd: empty reply");
		set_detail(res, msg, m > 0 ? (size_t)m : 0);
		return SK_EFORMAT;
	}
	if (limit) {
		res->reason = SK_REASON_LIMIT_SIZE;
		set_detail(res, "clamd StreamMaxLength", strlen("clamd StreamMaxLength"));
		return 0;
	}
	if (limits) {
		res->reason = SK_REASON_LIMIT_SIZE;
		set_detail(res, limits, limits_len);
		return 0;
	}
	if (err_line) {
		char msg[128];
		int m = snprintf(msg, sizeof(msg), "clamd: %.*s", (int)(err_len > 100 ? 100 : err_len),
				 err_line);
		set_detail(res, msg, m > 0 ? (size_t)m : 0);
		return SK_EIO;
	}
	if (ok) {
		res->reason = SK_REASON_NONE;
		res->detail[0] = 0;
		return 0;
	}
	return SK_EFORMAT; /* not reached: every line is one of the kinds above */
}

/* ---- socket spec ---- */

typedef struct addr {
	struct sockaddr_storage sa;
	socklen_t len;
	int family;
} addr;

static int parse_spec(const char *spec, addr *a, sk_error *err)
{
	memset(a, 0, sizeof(*a));
	if (!spec)
		return sk_error_set(err, SK_EINVAL, "no clamd socket given");
	if (!strncmp(spec, "unix:", 5)) {
		const char *path = spec + 5;
		struct sockaddr_un *un = (struct sockaddr_un *)&a->sa;
		size_t pl = strlen(path);
		if (pl == 0 || pl >= sizeof(un->sun_path))
			return sk_error_set(err, SK_EINVAL, "clamd socket path empty or too long: %s",
					    spec);
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, path, pl + 1);
		a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + pl + 1);
		a->family = AF_UNIX;
		return 0;
	}
	if (!strncmp(spec, "tcp:", 4)) {
		const char *hp = spec + 4;
		const char *colon = strrchr(hp, ':');
		char host[64];
		size_t hl;
		if (!colon)
			return sk_error_set(err, SK_EINVAL, "clamd tcp socket needs HOST:PORT: %s", spec);
		const char *port = colon + 1;
		hl = (size_t)(colon - hp);
		if (hl >= 2 && hp[0] == '[' && hp[hl - 1] == ']') {
			hp++;
			hl -= 2;
		}
		size_t portlen = strlen(port);
		bool digits = portlen > 0 && portlen <= 5;
		for (size_t i = 0; i < portlen; i++)
			digits = digits && port[i] >= '0' && port[i] <= '9';
		if (hl == 0 || hl >= sizeof(host) || !digits || atoi(port) < 1 || atoi(port) > 65535)
			return sk_error_set(err, SK_EINVAL, "bad clamd tcp address: %s", spec);
		memcpy(host, hp, hl);
		host[hl] = 0;
		struct addrinfo hints = {
			.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
			.ai_family = AF_UNSPEC,
			.ai_socktype = SOCK_STREAM,
		};
		struct addrinfo *ai = NULL;
		int g = getaddrinfo(host, port, &hints, &ai);
		if (g != 0 || !ai)
			return sk_error_set(err, SK_EINVAL,
					    "clamd tcp address must be a numeric IP address: %s", spec);
		if (ai->ai_addrlen > sizeof(a->sa)) {
			freeaddrinfo(ai);
			return sk_error_set(err, SK_EINVAL, "bad clamd tcp address: %s", spec);
		}
		memcpy(&a->sa, ai->ai_addr, ai->ai_addrlen);
		a->len = ai->ai_addrlen;
		a->family = ai->ai_family;
		freeaddrinfo(ai);
		return 0;
	}
	return sk_error_set(err, SK_EINVAL, "clamd socket must be unix:PATH or tcp:HOST:PORT: %s",
			    spec);
}

int sk_scan_spec_check(const char *socket_spec, sk_error *err)
{
	addr a;
	return parse_spec(socket_spec, &a, err);
}

/* ---- connection ---- */

/* poll() on fd until deadline (ms, now_ms() clock). Returns revents, 0 on timeout, or
 * SK_EIO with errno. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	for (;;) {
		uint64_t now = now_ms();
		int left = now >= deadline ? 0 : (int)(deadline - now);
		int r = poll(&p, 1, left);
		if (r > 0)
			return p.revents ? p.revents : POLLERR;
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return SK_EIO;
	}
}

static int do_connect(const addr *a, int timeout_ms, int *out, sk_error *err)
{
	int fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return sk_error_sys(err, SK_EIO, "socket");
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		if (connect(fd, (const struct sockaddr *)&a->sa, a->len) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN && a->family == AF_UNIX) {
			/* clamd's listen queue is full: try again until the deadline */
			if (now_ms() >= deadline) {
				close(fd);
				return sk_error_set(err, SK_EIO, "connect: clamd busy for %d ms",
						    timeout_ms);
			}
			struct timespec ts = {0, 20 * 1000000L};
			nanosleep(&ts, NULL);
			continue;
		}
		if (errno != EINPROGRESS) {
			int rc = sk_error_sys(err, SK_EIO, "connect");
			close(fd);
			return rc;
		}
		int r = wait_fd(fd, POLLOUT, deadline);
		if (r <= 0) {
			int rc = r == 0 ? sk_error_set(err, SK_EIO, "connect: no answer within %d ms",
						       timeout_ms)
					: sk_error_sys(err, SK_EIO, "connect");
			close(fd);
			return rc;
		}
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
			errno = soerr ? soerr : errno;
			int rc = sk_error_sys(err, SK_EIO, "connect");
			close(fd);
			return rc;
		}
		break;
	}
	*out = fd;
	return 0;
}

/* Sends all n bytes. Sets *early (and returns 0) when clamd answered or closed before
 * everything was sent: the caller then reads what clamd said. */
static int send_all(int fd, const uint8_t *p, size_t n, int timeout_ms, bool *early,
		    sk_error *err)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = wait_fd(fd, POLLOUT | POLLIN, now_ms() + (uint64_t)timeout_ms);
			if (r == 0)
				return sk_error_set(err, SK_EIO, "clamd took no data for %d ms",
						    timeout_ms);
			if (r < 0)
				return sk_error_sys(err, SK_EIO, "poll");
			if (r & POLLIN || !(r & POLLOUT)) {
				*early = true;
				return 0;
			}
			continue;
		}
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) {
			*early = true;
			return 0;
		}
		return sk_error_sys(err, SK_EIO, "send to clamd");
	}
	return 0;
}

/* Reads until clamd closes the connection (at most SK_SCAN_REPLY_MAX bytes). */
static int read_reply(int fd, int timeout_ms, char *buf, size_t *n, sk_error *err)
{
	*n = 0;
	for (;;) {
		ssize_t r = recv(fd, buf + *n, SK_SCAN_REPLY_MAX + 1 - *n, 0);
		if (r > 0) {
			*n += (size_t)r;
			if (*n > SK_SCAN_REPLY_MAX)
				return sk_error_set(err, SK_EFORMAT, "clamd reply longer than %d bytes",
						    SK_SCAN_REPLY_MAX);
			continue;
		}
		if (r == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int w = wait_fd(fd, POLLIN, now_ms() + (uint64_t)timeout_ms);
			if (w == 0)
				return sk_error_set(err, SK_EIO, "no reply from clamd within %d ms",
						    timeout_ms);
			if (w < 0)
				return sk_error_sys(err, SK_EIO, "poll");
			continue; /* readable, or an error that recv() reports */
		}
		if (errno == ECONNRESET && *n > 0)
			return 0; /* clamd closed with our data unread: keep what it said */
		return sk_error_sys(err, SK_EIO, "read from clamd");
	}
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Streams the item; *early as in send_all. */
static int send_stream(int fd, sk_input *in, size_t chunk, int timeout_ms, bool *early,
		       sk_error *err)
{
	static const char cmd[] = "zINSTREAM"; /* sent with its NUL */
	int rc = send_all(fd, (const uint8_t *)cmd, sizeof(cmd), timeout_ms, early, err);
	if (rc || *early)
		return rc;
	uint8_t *buf = malloc(4 + chunk);
	if (!buf)
		return sk_error_set(err, SK_ENOMEM, "scan buffer");
	for (uint64_t off = 0; off < in->size;) {
		size_t want = in->size - off < chunk ? (size_t)(in->size - off) : chunk;
		size_t got = 0;
		rc = sk_input_pread(in, off, buf + 4, want, &got, err);
		if (rc)
			break;
		if (got != want) {
			rc = sk_error_set(err, SK_EIO, "the item changed while it was scanned");
			break;
		}
		put_be32(buf, (uint32_t)got);
		rc = send_all(fd, buf, 4 + got, timeout_ms, early, err);
		if (rc || *early)
			break;
		off += got;
	}
	if (rc == 0 && !*early) {
		put_be32(buf, 0);
		rc = send_all(fd, buf, 4, timeout_ms, early, err);
	}
	free(buf);
	return rc;
}

static int unavailable(sk_scan_result *res, int rc, const sk_error *lerr, sk_error *err)
{
	char msg[160];
	int m = snprintf(msg, sizeof(msg), "clamd: %s", lerr->msg);
	res->reason = SK_REASON_SCAN_UNAVAILABLE;
	set_detail(res, msg, m > 0 ? (size_t)m : 0);
	if (err)
		*err = *lerr;
	return rc;
}

int sk_scan_clamd_cfg(const sk_scan_config *cfg, sk_input *in, sk_scan_result *res,
		      sk_error *err)
{
	memset(res, 0, sizeof(*res));
	res->reason = SK_REASON_SCAN_UNAVAILABLE; /* until clamd says otherwise */
	sk_error lerr;
	sk_error_clear(&lerr);
	if (!cfg || !in) {
		sk_error_set(&lerr, SK_EINVAL, "no scan configuration or input");
		return unavailable(res, SK_EINVAL, &lerr, err);
	}
	int timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : SK_SCAN_TIMEOUT_MS_DEFAULT;
	size_t chunk = cfg->chunk ? cfg->chunk : SK_SCAN_CHUNK_DEFAULT;
	if (chunk > CHUNK_MAX)
		chunk = CHUNK_MAX;

	addr a;
	int rc = parse_spec(cfg->socket_spec, &a, &lerr);
	if (rc)
		return unavailable(res, rc, &lerr, err);
	uint64_t t0 = now_ms();
	int fd = -1;
	rc = do_connect(&a, timeout_ms, &fd, &lerr);
	if (rc)
		return unavailable(res, rc, &lerr, err);

	bool early = false;
	rc = send_stream(fd, in, chunk, timeout_ms, &early, &lerr);
	char *reply = NULL;
	size_t n = 0;
	if (rc == 0) {
		reply = malloc(SK_SCAN_REPLY_MAX + 1);
		rc = reply ? read_reply(fd, timeout_ms, reply, &n, &lerr)
			   : sk_error_set(&lerr, SK_ENOMEM, "reply buffer");
	}
	close(fd);
	res->elapsed_ms = now_ms() - t0;
	if (rc == 0 && early && n == 0)
		rc = sk_error_set(&lerr, SK_EIO, "connection closed before the item was sent");
	if (rc) {
		free(reply);
		return unavailable(res, rc, &lerr, err);
	}
	rc = sk_scan_parse_reply(reply, n, res);
	free(reply);
	if (rc) {
		sk_error_set(&lerr, rc, "%s", res->detail);
		if (err)
			*err = lerr;
		res->reason = SK_REASON_SCAN_UNAVAILABLE;
		return rc;
	}
	if (early && res->reason == SK_REASON_NONE) {
		/* "OK" for a stream clamd did not receive whole proves nothing */
		sk_error_set(&lerr, SK_EIO, "clamd answered before the item was sent");
		return unavailable(res, SK_EIO, &lerr, err);
	}
	return 0;
}

int sk_scan_clamd(const char *socket_spec, sk_input *in, sk_scan_result *res, sk_error *err)
{
	sk_scan_config cfg = {.socket_spec = socket_spec};
	return sk_scan_clamd_cfg(&cfg, in, res, err);
}
