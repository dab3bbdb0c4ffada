#include "sekisho/codec.h"

#include <string.h>

#include "sekisho/error.h"

int sk_codec_put_u32(sk_buf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	return sk_buf_add(b, x, 4);
}

int sk_codec_put_u64(sk_buf *b, uint64_t v)
{
	int rc = sk_codec_put_u32(b, (uint32_t)v);
	return rc ? rc : sk_codec_put_u32(b, (uint32_t)(v >> 32));
}

int sk_codec_put_str(sk_buf *b, const char *s, size_t max)
{
	if (!s)
		return sk_codec_put_u32(b, UINT32_MAX);
	size_t l = strlen(s) + 1;
	if (l > max || l >= UINT32_MAX)
		return SK_ELIMIT;
	int rc = sk_codec_put_u32(b, (uint32_t)l);
	return rc ? rc : sk_buf_add(b, s, l);
}

uint32_t sk_codec_get_u32(sk_codec_rd *r)
{
	if (r->bad || r->n - r->off < 4) {
		r->bad = true;
		return 0;
	}
	const uint8_t *x = r->p + r->off;
	r->off += 4;
	return (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
}

uint64_t sk_codec_get_u64(sk_codec_rd *r)
{
	uint64_t lo = sk_codec_get_u32(r);
	return lo | (uint64_t)sk_codec_get_u32(r) << 32;
}

uint8_t sk_codec_get_u8(sk_codec_rd *r)
{
	if (r->bad || r->n - r->off < 1) {
		r->bad = true;
		return 0;
	}
	return r->p[r->off++];
}

const char *sk_codec_get_str(sk_codec_rd *r, bool nullable, size_t max)
{
	uint32_t l = sk_codec_get_u32(r);
	if (r->bad)
		return NULL;
	if (l == UINT32_MAX) {
		if (!nullable)
			r->bad = true;
		return NULL;
	}
	if (l == 0 || l > max || l > r->n - r->off) {
		r->bad = true;
		return NULL;
	}
	const char *s = (const char *)r->p + r->off;
	/* exactly one NUL, at the end */
	if (s[l - 1] != 0 || memchr(s, 0, l - 1)) {
		r->bad = true;
		return NULL;
	}
	r->off += l;
	return s;
}
