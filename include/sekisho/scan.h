/* sekisho — malware scan with clamd over its socket (zINSTREAM).
 *
 * The item's bytes are streamed to clamd in chunks (4-byte big-endian length, then the
 * bytes; a zero length ends the stream) and clamd's one-line reply decides:
 *   "stream: OK"                       → clean (reason SK_REASON_NONE)
 *   "stream: NAME FOUND"               → SK_REASON_MALWARE, signature NAME
 *   "stream: Heuristics.Limits.Exceeded.X FOUND"
 *                                      → SK_REASON_LIMIT_SIZE (clamd could not scan it
 *                                        all; reported when clamd has AlertExceedsMax yes)
 *   "INSTREAM size limit exceeded. ERROR"
 *                                      → SK_REASON_LIMIT_SIZE: the item is larger than
 *                                        clamd's StreamMaxLength. Chosen over
 *                                        scan-unavailable because it is a property of the
 *                                        item under the configured limit, not an outage:
 *                                        a retry gives the same answer.
 *   any other "… ERROR", an unparsable or missing reply, a refused connection, a timeout
 *                                      → SK_REASON_SCAN_UNAVAILABLE.
 * Nothing but "stream: OK" ever yields SK_REASON_NONE: the scan fails closed.
 *
 * clamd unpacks archives and documents itself (it must run with ScanArchive yes); the
 * caller scans the top-level item only. */
#ifndef SEKISHO_SCAN_H
#define SEKISHO_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "sekisho/error.h"
#include "sekisho/io.h"
#include "sekisho/report.h"

#define SK_SCAN_TIMEOUT_MS_DEFAULT 30000
#define SK_SCAN_CHUNK_DEFAULT (256u * 1024u)
#define SK_SCAN_REPLY_MAX 4096 /* longer replies are unparsable */

typedef struct sk_scan_config {
	/* "unix:/path/to/clamd.sock" or "tcp:HOST:PORT" with a numeric address
	 * ("tcp:127.0.0.1:3310", "tcp:[::1]:3310"); no name lookups. */
	const char *socket_spec;
	/* Longest wait, in milliseconds, for each connect, each write becoming possible and
	 * each read of the reply (after the whole stream was sent, this is the time clamd
	 * may take to scan). 0: SK_SCAN_TIMEOUT_MS_DEFAULT. */
	int timeout_ms;
	/* Bytes per INSTREAM chunk (must not exceed clamd's StreamMaxLength).
	 * 0: SK_SCAN_CHUNK_DEFAULT. */
	size_t chunk;
} sk_scan_config;

typedef struct sk_scan_result {
	/* SK_REASON_NONE (clean), SK_REASON_MALWARE, SK_REASON_LIMIT_SIZE or
	 * SK_REASON_SCAN_UNAVAILABLE. */
	sk_reason reason;
	/* Reason detail for the report: the signature name for malware, clamd's error or
	 * what failed (in English) otherwise; "" when clean. Printable ASCII only. */
	char detail[128];
	/* Milliseconds from connect to the reply. */
	uint64_t elapsed_ms;
} sk_scan_result;

/* Scans in with the clamd at socket_spec and default timeouts. Returns 0 when clamd
 * gave a verdict on the item (res->reason is NONE, MALWARE or LIMIT_SIZE) and a negative
 * SK_E* when it did not (res->reason is then SCAN_UNAVAILABLE, err says why). Whatever
 * it returns, the item may only pass when res->reason == SK_REASON_NONE. */
int sk_scan_clamd(const char *socket_spec, sk_input *in, sk_scan_result *res, sk_error *err);
/* The same with explicit timeout and chunk size. */
int sk_scan_clamd_cfg(const sk_scan_config *cfg, sk_input *in, sk_scan_result *res,
		      sk_error *err);

/* Checks the syntax of a socket spec (no connection is made). 0 or SK_EINVAL. */
int sk_scan_spec_check(const char *socket_spec, sk_error *err);

/* Parses clamd's reply to zINSTREAM (n bytes, NUL- or newline-separated lines; a
 * trailing NUL/newline is optional) into res->reason and res->detail. Returns 0 when
 * the reply was understood, SK_EFORMAT when not (res->reason is then
 * SCAN_UNAVAILABLE). Exposed for the tests and the fuzz harness. */
int sk_scan_parse_reply(const char *reply, size_t n, sk_scan_result *res);

#endif
