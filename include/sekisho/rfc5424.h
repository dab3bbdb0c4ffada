/* sekisho — the pieces of an RFC 5424 syslog line that need escaping or filtering
 * (the audit log's checkpoint anchor and sekishod's events both write such lines). */
#ifndef SEKISHO_RFC5424_H
#define SEKISHO_RFC5424_H

#include <stddef.h>

#include "sekisho/buf.h"

/* An SD-PARAM value: '"', '\' and ']' escaped with a backslash (RFC 5424 6.3.3),
 * control characters dropped. */
int sk_rfc5424_sd_value(sk_buf *b, const char *s);
/* A header field (HOSTNAME, MSGID …): printable US-ASCII without spaces, at most max
 * characters (and what fits in outsz); "-" when nothing is left. */
void sk_rfc5424_header_field(char *out, size_t outsz, const char *s, size_t max);

#endif
