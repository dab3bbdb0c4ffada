/* sekishod — structured events: one line per decision and per role event, for the
 * security cloud / SIEM.
 *
 *   JSON lines ("json:/path", "stderr"):
 *     {"time":"…Z","host":"gw1","app":"sekishod","pid":123,"process":"spool",
 *      "event":"decision","severity":"info","msg":"日本語","msg_en":"English", FIELDS…}
 *   RFC 5424 ("syslog", "syslog:unix:/path", "syslog:udp:HOST:PORT"), facility daemon:
 *     <30>1 TIME HOST sekishod PID EVENT [sekisho@32473 process="spool" FIELD="…" …] BOM msg
 *   ("process" is the role that wrote the event, "master" for the master; events about
 *   a role, written by the master, name it in "role".)
 *   (32473 is the enterprise number reserved for examples, RFC 5612, as in the audit
 *   log's syslog anchor.)
 *
 * Each event is written with one write()/send(): lines of several processes appending to
 * one file (O_APPEND) do not interleave. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "sekisho/rfc5424.h"
#include "sekisho/audit.h"
#include "sekisho/buf.h"

enum { EV_STDERR, EV_JSON, EV_SYSLOG };

static struct {
	int mode;
	int fd;
	char host[256];
	const char *role;
	struct sockaddr_storage sa; /* syslog */
	socklen_t salen;
} ev = {EV_STDERR, 2, "-", "master", {0}, 0};

void skd_events_role(const char *role)
{
	ev.role = role;
}

static int syslog_open(const char *target, sk_error *err)
{
	if (!strcmp(target, "") || !strncmp(target, "unix:", 5)) {
		const char *path = *target ? target + 5 : "/dev/log";
		struct sockaddr_un *un = (struct sockaddr_un *)&ev.sa;
		if (strlen(path) >= sizeof(un->sun_path))
			return sk_error_set(err, SK_EINVAL, "syslog socket path too long");
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, path, strlen(path) + 1);
		ev.salen = sizeof(*un);
		ev.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	} else if (!strncmp(target, "udp:", 4)) {
		char hp[512];
		snprintf(hp, sizeof(hp), "%s", target + 4);
		char *colon = strrchr(hp, ':');
		if (!colon)
			return sk_error_set(err, SK_EINVAL, "syslog:udp:HOST:PORT");
		*colon = 0;
		char *h = hp;
		if (*h == '[' && colon[-1] == ']') {
			h++;
			colon[-1] = 0;
		}
		struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST}, *ai;
		int g = getaddrinfo(h, colon + 1, &hints, &ai);
		if (g)
			return sk_error_set(err, SK_EINVAL, "syslog %s: %s", target, gai_strerror(g));
		memcpy(&ev.sa, ai->ai_addr, ai->ai_addrlen);
		ev.salen = ai->ai_addrlen;
		ev.fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		freeaddrinfo(ai);
	} else {
		return sk_error_set(err, SK_EINVAL, "events: unknown syslog target %s", target);
	}
	if (ev.fd < 0)
		return sk_error_sys(err, SK_EIO, "syslog socket");
	ev.mode = EV_SYSLOG;
	return 0;
}

int skd_events_open(const char *spec, sk_error *err)
{
	if (gethostname(ev.host, sizeof(ev.host)) != 0 || !ev.host[0])
		snprintf(ev.host, sizeof(ev.host), "-");
	ev.host[sizeof(ev.host) - 1] = 0;
	if (!strcmp(spec, "stderr")) {
		ev.mode = EV_STDERR;
		ev.fd = 2;
		return 0;
	}
	if (!strncmp(spec, "json:", 5)) {
		int fd = open(spec + 5, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (fd < 0)
			return sk_error_sys(err, SK_EIO, "events file %s", spec + 5);
		ev.mode = EV_JSON;
		ev.fd = fd;
		return 0;
	}
	if (!strcmp(spec, "syslog"))
		return syslog_open("", err);
	if (!strncmp(spec, "syslog:", 7))
		return syslog_open(spec + 7, err);
	return sk_error_set(err, SK_EINVAL, "events: %s (syslog, json:/path or stderr)", spec);
}

/* SD-NAME: printable ASCII but '=', ' ', ']', '"', at most 32 */
static void sd_name(sk_buf *b, const char *k)
{
	size_t n = 0;
	for (; *k && n < 32; k++)
		if (*k > 32 && *k < 127 && *k != '=' && *k != ']' && *k != '"') {
			sk_buf_addc(b, (uint8_t)*k);
			n++;
		}
}


static void emit_syslog(skd_sev sev, const char *event, const char *ts, const char *ja,
			const char *en, const skd_kv *kv, size_t n)
{
	sk_buf b;
	sk_buf_init(&b, 65536);
	char msgid[33];
	sk_rfc5424_header_field(msgid, sizeof(msgid), event, 32);
	sk_buf_printf(&b, "<%d>1 %s %s sekishod %ld %s [sekisho@32473 process=\"", 3 * 8 + (int)sev, ts,
		      ev.host, (long)getpid(), msgid);
	sk_rfc5424_sd_value(&b, ev.role);
	sk_buf_adds(&b, "\"");
	for (size_t i = 0; i < n; i++) {
		sk_buf_addc(&b, ' ');
		sd_name(&b, kv[i].k);
		sk_buf_adds(&b, "=\"");
		if (kv[i].s) {
			sk_rfc5424_sd_value(&b, kv[i].s);
		} else {
			char num[32];
			snprintf(num, sizeof(num), "%lld", kv[i].n);
			sk_buf_adds(&b, num);
		}
		sk_buf_adds(&b, "\"");
	}
	sk_buf_printf(&b, "] \xef\xbb\xbf%s / %s", ja, en);
	const char *m = sk_buf_str(&b);
	ssize_t w = sendto(ev.fd, m, strlen(m), MSG_NOSIGNAL, (struct sockaddr *)&ev.sa, ev.salen);
	(void)w;
	sk_buf_free(&b);
}

void skd_event(skd_sev sev, const char *event, const char *ja, const char *en, const skd_kv *kv,
	       size_t n)
{
	int saved = errno;
	char ts[40];
	sk_time_format_us(sk_time_now_us(), ts, sizeof(ts));
	if (ev.mode == EV_SYSLOG) {
		emit_syslog(sev, event, ts, ja, en, kv, n);
		errno = saved;
		return;
	}
	static const char *const sevs[] = {[SKD_ERR] = "error", [SKD_WARNING] = "warning",
					   [SKD_NOTICE] = "notice", [SKD_INFO] = "info"};
	json_t *o = json_object();
	if (!o)
		return;
	json_object_set_new(o, "time", json_string(ts));
	json_object_set_new(o, "host", json_string(ev.host));
	json_object_set_new(o, "app", json_string("sekishod"));
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "process", json_string(ev.role));
	json_object_set_new(o, "event", json_string(event));
	json_object_set_new(o, "severity", json_string(sevs[sev]));
	json_object_set_new(o, "msg", json_string(ja));
	json_object_set_new(o, "msg_en", json_string(en));
	for (size_t i = 0; i < n; i++) {
		/* a field that is not UTF-8 (a file name) is written with its bad bytes replaced */
		json_t *v = kv[i].s ? json_string(kv[i].s) : json_integer(kv[i].n);
		if (!v && kv[i].s) {
			char *c = strdup(kv[i].s);
			for (char *p = c; p && *p; p++)
				if ((unsigned char)*p >= 0x80)
					*p = '?';
			v = c ? json_string(c) : NULL;
			free(c);
		}
		json_object_set_new(o, kv[i].k, v ? v : json_null());
	}
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s) {
		size_t l = strlen(s);
		s[l] = '\n';
		ssize_t w = write(ev.fd, s, l + 1);
		(void)w;
		free(s);
	}
	errno = saved;
}
