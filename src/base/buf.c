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
}

int sk_buf_reserve(sk_buf *b, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return SK_ELIMIT;
	size_t need = b->len + n + 1; /* room for the terminating NUL */
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	uint8_t *p = realloc(b->data, cap);
	if (!p)
		return SK_ENOMEM;
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
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
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

const char *sk_buf_str(const sk_buf *b)
{
	return b->data ? (const char *)b->data : "";
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
