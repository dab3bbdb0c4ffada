/* sekisho — growable byte buffer with a hard maximum (modelled on curl's dynbuf).
 *
 * Ownership: the buffer owns data; sk_buf_free() releases it, sk_buf_take() hands it
 * to the caller (who frees it with free()). data is always NUL-terminated after len
 * bytes once anything was added, so text can be used as a C string. */
#ifndef SEKISHO_BUF_H
#define SEKISHO_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sk_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max; /* len may never exceed this; adding past it returns SK_ELIMIT */
} sk_buf;

#define SK_BUF_MAX_DEFAULT ((size_t)1 << 30)

void sk_buf_init(sk_buf *b, size_t max);
int sk_buf_add(sk_buf *b, const void *p, size_t n);
int sk_buf_addc(sk_buf *b, uint8_t c);
int sk_buf_adds(sk_buf *b, const char *s);
int sk_buf_printf(sk_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sk_buf_vprintf(sk_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Make room for n more bytes without changing len. */
int sk_buf_reserve(sk_buf *b, size_t n);
/* "" when empty; never NULL. */
const char *sk_buf_str(const sk_buf *b);
void sk_buf_reset(sk_buf *b); /* len = 0, memory kept */
void sk_buf_free(sk_buf *b);
uint8_t *sk_buf_take(sk_buf *b, size_t *len);

#endif
