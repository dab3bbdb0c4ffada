/* sekisho — the little-endian field codec of the messages between processes (the worker
 * job protocol, the DLP detectors it carries).
 *
 * Integers are little-endian; a string is a u32 length that counts its terminating NUL,
 * then the bytes (no other NUL inside), or 0xFFFFFFFF for NULL. A reader never reads past
 * its message: any short or malformed field sets bad, and every later get returns 0/NULL. */
#ifndef SEKISHO_CODEC_H
#define SEKISHO_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/buf.h"

int sk_codec_put_u32(sk_buf *b, uint32_t v);
int sk_codec_put_u64(sk_buf *b, uint64_t v);
/* SK_ELIMIT when the string with its NUL is longer than max */
int sk_codec_put_str(sk_buf *b, const char *s, size_t max);

typedef struct sk_codec_rd {
	const uint8_t *p;
	size_t n, off;
	bool bad;
} sk_codec_rd;

uint32_t sk_codec_get_u32(sk_codec_rd *r);
uint64_t sk_codec_get_u64(sk_codec_rd *r);
uint8_t sk_codec_get_u8(sk_codec_rd *r);
/* A string pointing into the message; NULL for a NULL string (allowed only when nullable)
 * and on error (check r->bad). At most max bytes with the NUL. */
const char *sk_codec_get_str(sk_codec_rd *r, bool nullable, size_t max);

#endif
