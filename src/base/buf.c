#include "sekisho/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sekisho/error.h"

void sk_buf_init(sk_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max ? max : SK_BUF_MAX_DEFAULT;
	if (b->max > SIZE_MAX - 1)
		b->max = SIZE_MAX - 1; /* max + 1 (the NUL) must be representable */
}

int sk_buf_reserve(sk_buf *b, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return SK_ELIMIT;
	size_t need = b->len + n + 1; /* room for the terminating NUL */
	if (need <= b->cap)
		return 0;
	/* double, but never past max + 1: the buffer never holds more than its cap allows */
	size_t top = b->max + 1;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > top / 2 ? top : cap * 2;
	if (cap > top)
		cap = top;
	uint8_t *p = realloc(b->data, cap);
	if (!p && cap > need) /* the doubled size failed: try what is needed */
		p = realloc(b->data, cap = need);
	if (!p)
		return SK_ENOMEM; /* b unchanged: realloc left the old block alone */
	b->data = p;
	b->cap = cap;
	return 0;
}

int sk_buf_add(sk_buf *b, const void *p, size_t n)
{
	int rc = sk_buf_reserve(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
	return 0;
}

int sk_buf_addc(sk_buf *b, uint8_t c)
{
	if (b->len + 1 < b->cap && b->len < b->max) {
		b->data[b->len++] = c;
		b->data[b->len] = 0;
		return 0;
	}
	return sk_buf_add(b, &c, 1);
}

int sk_buf_adds(sk_buf *b, const char *s)
{
	return sk_buf_add(b, s, strlen(s));
}

int sk_buf_vprintf(sk_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return SK_EINVAL;
	int rc = sk_buf_reserve(b, (size_t)n);
	if (rc)
		return rc;
	/* the same format and arguments give the same n bytes (and the NUL) */
	if (vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap) != n) {
		b->data[b->len] = 0;
		return SK_EINVAL;
	}
	b->len += (size_t)n;
	return 0;
}

int sk_buf_printf(sk_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = sk_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

size_t sk_buf_len(const sk_buf *b)
{
	return b->len;
}

const uint8_t *sk_buf_data(const sk_buf *b)
{
	return b->data ? b->data : (const uint8_t *)"";
}

const char *sk_buf_str(const sk_buf *b)
{
	return b->data ? (const char *)b->data : "";
}

void sk_buf_truncate(sk_buf *b, size_t len)
{
	if (len >= b->len)
		return;
	b->len = len;
	b->data[len] = 0;
}

void sk_buf_reset(sk_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

void sk_buf_free(sk_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

uint8_t *sk_buf_take(sk_buf *b, size_t *len)
{
	uint8_t *p = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
