/* sekisho — growable byte buffer with a hard maximum (modelled on curl's dynbuf).
 *
 * The fields are private: read them through sk_buf_len(), sk_buf_data() / sk_buf_str(),
 * change the buffer only through the functions below (DESIGN §5). They are in the header
 * only so that a buffer can live on the stack.
 *
 * Limits: len never exceeds max, and the memory the buffer holds never exceeds max + 1
 * bytes (the + 1 is the terminating NUL): growth doubles the allocation but clamps it to
 * max + 1. Adding past max returns SK_ELIMIT.
 *
 * Failure: a function that fails (SK_ELIMIT, SK_ENOMEM, SK_EINVAL) leaves the buffer
 * exactly as it was: same len, same contents, same data pointer. Nothing is half-added.
 *
 * Ownership: the buffer owns data; sk_buf_free() releases it, sk_buf_take() hands it to
 * the caller (who frees it with free()). data is always NUL-terminated after len bytes
 * once anything was added, so text can be used as a C string. */
#ifndef SEKISHO_BUF_H
#define SEKISHO_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sk_buf {
	uint8_t *data; /* private */
	size_t len;    /* private: use sk_buf_len() */
	size_t cap;    /* private: bytes allocated (at most max + 1) */
	size_t max;    /* private: len may never exceed this */
} sk_buf;

#define SK_BUF_MAX_DEFAULT ((size_t)1 << 30)

/* max 0 means SK_BUF_MAX_DEFAULT; max is at most SIZE_MAX - 1 (clamped). */
void sk_buf_init(sk_buf *b, size_t max);
int sk_buf_add(sk_buf *b, const void *p, size_t n);
int sk_buf_addc(sk_buf *b, uint8_t c);
int sk_buf_adds(sk_buf *b, const char *s);
/* Formatted text; SK_ELIMIT (buffer unchanged) when the whole of it does not fit. */
int sk_buf_printf(sk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sk_buf_vprintf(sk_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Make room for n more bytes without changing len. */
int sk_buf_reserve(sk_buf *b, size_t n);
/* The number of bytes held. */
size_t sk_buf_len(const sk_buf *b);
/* The bytes held; never NULL (points to an empty string before anything was added). */
const uint8_t *sk_buf_data(const sk_buf *b);
/* The same as a C string: "" when empty; never NULL. */
const char *sk_buf_str(const sk_buf *b);
/* Shortens the buffer to len bytes (no effect when len >= sk_buf_len(b)); memory kept. */
void sk_buf_truncate(sk_buf *b, size_t len);
void sk_buf_reset(sk_buf *b); /* len = 0, memory kept */
void sk_buf_free(sk_buf *b);
/* Hands the bytes (NUL-terminated) to the caller, who free()s them, and leaves b empty
 * (max kept). NULL, with *len 0, when the buffer holds no memory yet. len may be NULL. */
uint8_t *sk_buf_take(sk_buf *b, size_t *len);

#endif
