/* Anchoring checkpoints in syslog: one RFC 5424 message per checkpoint, sent as a
 * datagram to a unix socket ("unix:/path") or over UDP ("udp:HOST:PORT").
 *
 *   <109>1 TIMESTAMP HOSTNAME sekisho PID checkpoint
 *     [checkpoint@32473 origin="…" size="N" root="base64"] BOM note-text
 *
 * PRI 109 = facility 13 (log audit) × 8 + severity 5 (notice). 32473 is the private
 * enterprise number reserved for examples (RFC 5612); the structured data carries the
 * checked values, the message the whole signed note (newlines kept) so that a receiver
 * can store it as an anchor file for `sekisho audit verify --anchor`. */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sekisho/audit.h"
#include "sekisho/rfc5424.h"

int sk_audit_syslog_send(const char *target, const char *hostname, const char *note,
			 size_t n, sk_error *err)
{
	if (!target)
		return sk_error_set(err, SK_EINVAL, "no syslog target");
	size_t tl;
	sk_checkpoint cp;
	/* the values for the structured data come from the note text itself */
	const char *sep = NULL;
	for (size_t i = 1; i < n; i++)
		if (note[i] == '\n' && note[i - 1] == '\n')
			sep = note + i;
	tl = sep ? (size_t)(sep - note) : n;
	if (sk_checkpoint_parse(note, tl, &cp, err) != 0)
		return SK_EINVAL;
	char host[256], hn[256], ts[40], root[64];
	if (!hostname) {
		if (gethostname(hn, sizeof(hn)) != 0)
			hn[0] = 0;
		hn[sizeof(hn) - 1] = 0;
		hostname = hn;
	}
	sk_rfc5424_header_field(host, sizeof(host), hostname, 255);
	sk_time_format_us(sk_time_now_us(), ts, sizeof(ts));
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	/* base64 of the 32-byte root (44 characters with one '=') */
	size_t j = 0;
	for (size_t i = 0; i < 32; i += 3) {
		uint32_t v = (uint32_t)cp.root[i] << 16;
		if (i + 1 < 32)
			v |= (uint32_t)cp.root[i + 1] << 8;
		if (i + 2 < 32)
			v |= cp.root[i + 2];
		root[j++] = b64[(v >> 18) & 63];
		root[j++] = b64[(v >> 12) & 63];
		root[j++] = i + 1 < 32 ? b64[(v >> 6) & 63] : '=';
		root[j++] = i + 2 < 32 ? b64[v & 63] : '=';
	}
	root[j] = 0;
	sk_buf m;
	sk_buf_init(&m, SK_NOTE_MAX + 4096);
	int rc = sk_buf_printf(&m, "<109>1 %s %s sekisho %ld checkpoint [checkpoint@32473 origin=\"",
			       ts, host, (long)getpid());
	if (rc == 0)
		rc = sk_rfc5424_sd_value(&m, cp.origin);
	if (rc == 0)
		rc = sk_buf_printf(&m, "\" size=\"%llu\" root=\"%s\"] \xef\xbb\xbf",
				   (unsigned long long)cp.size, root);
	if (rc == 0)
		rc = sk_buf_add(&m, note, n);
	if (rc) {
		sk_buf_free(&m);
		return sk_error_set(err, rc, "syslog message");
	}
	int fd = -1;
	if (strncmp(target, "unix:", 5) == 0) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		if (strlen(target + 5) >= sizeof(sa.sun_path)) {
			sk_buf_free(&m);
			return sk_error_set(err, SK_EINVAL, "syslog socket path too long");
		}
		memcpy(sa.sun_path, target + 5, strlen(target + 5) + 1);
		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    send(fd, m.data, m.len, 0) != (ssize_t)m.len)
			rc = sk_error_sys(err, SK_EIO, "syslog %s", target);
	} else if (strncmp(target, "udp:", 4) == 0) {
		char hostport[512];
		snprintf(hostport, sizeof(hostport), "%s", target + 4);
		char *colon = strrchr(hostport, ':');
		if (!colon) {
			sk_buf_free(&m);
			return sk_error_set(err, SK_EINVAL, "syslog target needs udp:HOST:PORT");
		}
		*colon = 0;
		char *h = hostport;
		if (*h == '[' && colon[-1] == ']') {
			h++;
			colon[-1] = 0;
		}
		struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai = NULL;
		int g = getaddrinfo(h, colon + 1, &hints, &ai);
		if (g != 0) {
			sk_buf_free(&m);
			return sk_error_set(err, SK_EIO, "syslog %s: %s", target, gai_strerror(g));
		}
		fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || sendto(fd, m.data, m.len, 0, ai->ai_addr, ai->ai_addrlen) != (ssize_t)m.len)
			rc = sk_error_sys(err, SK_EIO, "syslog %s", target);
		freeaddrinfo(ai);
	} else {
		rc = sk_error_set(err, SK_EINVAL, "syslog target must be unix:PATH or udp:HOST:PORT");
	}
	if (fd >= 0)
		close(fd);
	sk_buf_free(&m);
	return rc;
}
