/* BMP: our own reader (BMP is simple, and no BMP library is on the dependency list) and a
 * writer of plain BMPs.
 *
 * Read: the OS/2 1.x core header (12 bytes), BITMAPINFOHEADER (40) and its V2/V3/V4/V5
 * extensions (52/56/108/124), OS/2 2.x (64, uncompressed or RLE only); 1/4/8 bits with a
 * palette (uncompressed, RLE8, RLE4), 16/32 bits (5-5-5 or bit fields, with or without
 * alpha), 24 bits; bottom-up and top-down. Other compressions (embedded JPEG/PNG, Huffman,
 * RLE24) are not on the allow-list: unknown-type.
 * Write: palette images keep their bit depth (RLE is written uncompressed; pixels an RLE
 * stream skips get index 0), 16/24-bit and opaque 32-bit images become 24-bit, images with
 * alpha become 32-bit with a V4 header declaring sRGB; always bottom-up, no colour profile.
 * 32-bit images without an alpha mask are read the way browsers do: the fourth byte is
 * alpha unless it is 0 everywhere.
 * Dropped and reported: an embedded or linked ICC profile (icc-profile; an sRGB one kept
 * silently: a BMP without a profile is sRGB), calibrated colour-space values
 * (ancillary-data), bytes between the headers and the pixels that hold nothing
 * (ancillary-data), non-zero reserved header fields (ancillary-data) and bytes after the
 * pixels (trailing-data). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_int.h"

#define CS_SRGB 0x73524742u  /* 'sRGB' */
#define CS_WIN 0x57696e20u   /* 'Win ' */
#define CS_LINK 0x4c494e4bu  /* 'LINK' */
#define CS_MBED 0x4d424544u  /* 'MBED' */

struct bmp {
	uint32_t off, hsize, comp;
	uint64_t w, h;
	bool topdown;
	int bpp;
	uint32_t mask[4]; /* R G B A */
	int32_t xppm, yppm;
	uint8_t pal[256][3]; /* B G R */
	size_t pal_n;
	/* decoded: indexed (bpp <= 8) or BGRA */
	uint8_t *px;
	bool alpha;
};

static int bmp_bad(img_job *j, const char *what)
{
	return sk_img_malformed(j, "bmp: %s", what);
}

static bool mask_ok(uint32_t m, int bpp)
{
	if (m == 0)
		return true;
	if (bpp < 32 && (m >> bpp))
		return false;
	while (!(m & 1))
		m >>= 1;
	return (m & (m + 1)) == 0; /* contiguous */
}

/* A bit-field channel: where its bits are and how many (up to 32). */
struct chan {
	uint32_t mask;
	int shift, bits;
};

static struct chan chan_of(uint32_t mask)
{
	struct chan c = {mask, 0, 0};
	if (!mask)
		return c;
	while (c.shift < 31 && !((mask >> c.shift) & 1))
		c.shift++;
	while (c.shift + c.bits < 32 && ((mask >> (c.shift + c.bits)) & 1))
		c.bits++;
	return c;
}

static uint8_t channel(uint32_t px, const struct chan *c, uint8_t none)
{
	if (!c->mask)
		return none;
	uint32_t v = (px & c->mask) >> c->shift;
	if (c->bits >= 8)
		return (uint8_t)(v >> (c->bits - 8));
	uint32_t max = (1u << c->bits) - 1;
	return (uint8_t)((v * 255 + max / 2) / max);
}

static int bmp_header(img_job *j, struct bmp *b, size_t *pal_end)
{
	const uint8_t *p = j->data;
	size_t n = j->size;
	if (n < 26 || p[0] != 'B' || p[1] != 'M')
		return bmp_bad(j, "no header");
	b->off = img_le32(p + 10);
	b->hsize = img_le32(p + 14);
	uint32_t hs = b->hsize;
	if (hs != 12 && hs != 40 && hs != 52 && hs != 56 && hs != 64 && hs != 108 && hs != 124)
		return sk_cdr_block(j->ctx, SK_REASON_UNKNOWN_TYPE, "bmp: unknown header");
	if (14 + (size_t)hs > n)
		return bmp_bad(j, "truncated header");
	const uint8_t *h = p + 14;
	unsigned planes;
	int64_t sw, sh;
	uint32_t clrused = 0;
	if (hs == 12) {
		sw = img_le16(h + 4);
		sh = img_le16(h + 6);
		planes = img_le16(h + 8);
		b->bpp = img_le16(h + 10);
		b->comp = 0;
	} else {
		sw = (int32_t)img_le32(h + 4);
		sh = (int32_t)img_le32(h + 8);
		planes = img_le16(h + 12);
		b->bpp = img_le16(h + 14);
		b->comp = img_le32(h + 16);
		b->xppm = (int32_t)img_le32(h + 24);
		b->yppm = (int32_t)img_le32(h + 28);
		clrused = img_le32(h + 32);
	}
	if (planes != 1)
		return bmp_bad(j, "planes is not 1");
	if (sw <= 0 || sh == 0)
		return bmp_bad(j, "empty image");
	b->topdown = sh < 0;
	b->w = (uint64_t)sw;
	b->h = (uint64_t)(sh < 0 ? -sh : sh);

	int bpp = b->bpp;
	uint32_t c = b->comp;
	bool ok;
	if (c == 0)
		ok = bpp == 1 || bpp == 4 || bpp == 8 || bpp == 16 || bpp == 24 || bpp == 32;
	else if (c == 1)
		ok = bpp == 8;
	else if (c == 2)
		ok = bpp == 4;
	else if ((c == 3 || c == 6) && hs != 64)
		ok = bpp == 16 || bpp == 32;
	else
		ok = false;
	if (!ok) {
		char d[64];
		snprintf(d, sizeof(d), "bmp: compression %u with %d bits", c, bpp);
		return sk_cdr_block(j->ctx, SK_REASON_UNKNOWN_TYPE, d);
	}
	if ((c == 1 || c == 2) && b->topdown)
		return bmp_bad(j, "top-down RLE");
	int rc = sk_img_pixels(j, b->w, b->h);
	if (rc)
		return rc;

	size_t pos = 14 + hs;
	if (c == 3 || c == 6) {
		if (hs == 40) {
			size_t nm = c == 6 ? 4 : 3;
			if (pos + 4 * nm > n)
				return bmp_bad(j, "truncated masks");
			for (size_t i = 0; i < nm; i++)
				b->mask[i] = img_le32(p + pos + 4 * i);
			pos += 4 * nm;
		} else {
			for (size_t i = 0; i < 3; i++)
				b->mask[i] = img_le32(h + 40 + 4 * i);
			if (hs >= 56)
				b->mask[3] = img_le32(h + 52);
		}
		for (int i = 0; i < 4; i++) {
			if (!mask_ok(b->mask[i], bpp))
				return bmp_bad(j, "bad bit-field mask");
			for (int k = i + 1; k < 4; k++)
				if (b->mask[i] & b->mask[k])
					return bmp_bad(j, "overlapping bit-field masks");
		}
		if (!(b->mask[0] | b->mask[1] | b->mask[2]))
			return bmp_bad(j, "empty bit-field masks");
	} else if (bpp == 16) {
		b->mask[0] = 0x7c00, b->mask[1] = 0x03e0, b->mask[2] = 0x001f;
	} else if (bpp == 32) {
		b->mask[0] = 0xff0000, b->mask[1] = 0xff00, b->mask[2] = 0xff, b->mask[3] = 0xff000000;
	}

	/* colour table: 3-byte entries after a core header, else 4 */
	size_t entry = hs == 12 ? 3 : 4;
	uint64_t declared = clrused ? clrused : bpp <= 8 ? 1u << bpp : 0;
	if (b->off < pos || b->off > n)
		return bmp_bad(j, "bad pixel data offset");
	uint64_t avail = (b->off - pos) / entry;
	uint64_t in_file = declared < avail ? declared : avail;
	if (bpp <= 8) {
		b->pal_n = in_file < (1u << bpp) ? (size_t)in_file : (size_t)1 << bpp;
		for (size_t i = 0; i < b->pal_n; i++)
			memcpy(b->pal[i], p + pos + entry * i, 3);
	}
	*pal_end = pos + (size_t)in_file * entry;
	return 0;
}

static int bmp_rle(img_job *j, struct bmp *b, size_t *end)
{
	const uint8_t *p = j->data;
	size_t n = j->size, i = b->off;
	uint64_t w = b->w, h = b->h, x = 0, r = 0;
	bool four = b->comp == 2;
#define PUT(v)                                                     \
	do {                                                       \
		if (r >= h)                                        \
			return bmp_bad(j, "RLE data past the image"); \
		b->px[(h - 1 - r) * w + x++] = (uint8_t)(v);       \
	} while (0)
	for (;;) {
		if (n - i < 2)
			return bmp_bad(j, "truncated RLE data");
		unsigned a = p[i], v = p[i + 1];
		i += 2;
		if (a > 0) {
			if (x + a > w)
				return bmp_bad(j, "RLE run past the row");
			for (unsigned k = 0; k < a; k++)
				PUT(four ? (k & 1 ? v & 15 : v >> 4) : v);
		} else if (v == 0) {
			r++;
			x = 0;
			int rc = sk_img_time(j, r);
			if (rc)
				return rc;
		} else if (v == 1) {
			break;
		} else if (v == 2) {
			if (n - i < 2)
				return bmp_bad(j, "truncated RLE delta");
			x += p[i];
			r += p[i + 1];
			i += 2;
			if (x > w || r > h)
				return bmp_bad(j, "RLE delta past the image");
		} else {
			size_t bytes = four ? (v + 1) / 2 : v;
			size_t padded = bytes + (bytes & 1);
			if (x + v > w)
				return bmp_bad(j, "RLE run past the row");
			if (n - i < padded)
				return bmp_bad(j, "truncated RLE data");
			for (unsigned k = 0; k < v; k++)
				PUT(four ? (k & 1 ? p[i + k / 2] & 15 : p[i + k / 2] >> 4) : p[i + k]);
			i += padded;
		}
	}
#undef PUT
	*end = i;
	return 0;
}

static int bmp_pixels(img_job *j, struct bmp *b, size_t *end)
{
	uint64_t w = b->w, h = b->h;
	bool indexed = b->bpp <= 8;
	if (w > UINT64_MAX / 4 / h)
		return sk_cdr_block(j->ctx, SK_REASON_LIMIT_PIXELS, "bmp: size");
	int rc = sk_img_expand(j, w * h * (indexed ? 1 : 4));
	if (rc)
		return rc;
	b->px = calloc((size_t)(w * h), indexed ? 1 : 4);
	if (!b->px)
		return sk_error_set(j->err, SK_ENOMEM, "bmp: %llux%llu", (unsigned long long)w,
				    (unsigned long long)h);
	if (b->comp == 1 || b->comp == 2)
		return bmp_rle(j, b, end);

	uint64_t stride = (w * (uint64_t)b->bpp + 31) / 32 * 4;
	if (stride > (j->size - b->off) / h)
		return bmp_bad(j, "truncated pixel data");
	*end = b->off + (size_t)(stride * h);
	bool any_alpha = false;
	struct chan ch[4];
	for (int i = 0; i < 4; i++)
		ch[i] = chan_of(b->mask[i]);
	for (uint64_t r = 0; r < h; r++) {
		if ((rc = sk_img_time(j, r)))
			return rc;
		const uint8_t *s = j->data + b->off + r * stride;
		uint64_t y = b->topdown ? r : h - 1 - r;
		uint8_t *d = b->px + y * w * (indexed ? 1 : 4);
		for (uint64_t x = 0; x < w; x++) {
			switch (b->bpp) {
			case 1: d[x] = (s[x / 8] >> (7 - x % 8)) & 1; break;
			case 4: d[x] = x & 1 ? s[x / 2] & 15 : s[x / 2] >> 4; break;
			case 8: d[x] = s[x]; break;
			case 24:
				memcpy(d + 4 * x, s + 3 * x, 3);
				d[4 * x + 3] = 255;
				break;
			default: {
				uint32_t v = b->bpp == 16 ? img_le16(s + 2 * x) : img_le32(s + 4 * x);
				d[4 * x + 0] = channel(v, &ch[2], 0);
				d[4 * x + 1] = channel(v, &ch[1], 0);
				d[4 * x + 2] = channel(v, &ch[0], 0);
				d[4 * x + 3] = channel(v, &ch[3], 255);
				if (b->mask[3] && d[4 * x + 3])
					any_alpha = true;
			}
			}
		}
	}
	/* an alpha channel that is 0 everywhere means "no alpha" (as browsers read it) */
	if (!indexed && b->mask[3] && !any_alpha)
		for (uint64_t k = 0; k < w * h; k++)
			b->px[4 * k + 3] = 255;
	b->alpha = any_alpha;
	return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static int bmp_write(img_job *j, const struct bmp *b)
{
	bool indexed = b->bpp <= 8;
	int obpp = indexed ? b->bpp : b->alpha ? 32 : 24;
	uint32_t hsz = b->alpha ? 108 : 40;
	uint32_t npal = indexed ? 1u << b->bpp : 0;
	uint64_t w = b->w, h = b->h;
	uint64_t stride = (w * (uint64_t)obpp + 31) / 32 * 4;
	uint64_t head = 14 + (uint64_t)hsz + 4 * (uint64_t)npal;
	if (stride > (UINT32_MAX - head) / h)
		return sk_cdr_block(j->ctx, SK_REASON_LIMIT_SIZE, "bmp: larger than 4 GiB");
	uint64_t total = head + stride * h;
	if (total > UINT32_MAX)
		return sk_cdr_block(j->ctx, SK_REASON_LIMIT_SIZE, "bmp: larger than 4 GiB");
	int rc = sk_buf_reserve(&j->out, (size_t)total);
	if (rc)
		return sk_error_set(j->err, rc, "bmp: output of %llu bytes", (unsigned long long)total);
	uint8_t *o = j->out.data;
	memset(o, 0, (size_t)total);
	o[0] = 'B', o[1] = 'M';
	put32(o + 2, (uint32_t)total);
	put32(o + 10, (uint32_t)head);
	uint8_t *ih = o + 14;
	put32(ih, hsz);
	put32(ih + 4, (uint32_t)w);
	put32(ih + 8, (uint32_t)h); /* positive: bottom-up */
	ih[12] = 1;
	ih[14] = (uint8_t)obpp;
	put32(ih + 16, b->alpha ? 3 : 0);
	put32(ih + 20, (uint32_t)(stride * h));
	put32(ih + 24, (uint32_t)b->xppm);
	put32(ih + 28, (uint32_t)b->yppm);
	put32(ih + 32, npal);
	if (b->alpha) {
		put32(ih + 40, 0x00ff0000);
		put32(ih + 44, 0x0000ff00);
		put32(ih + 48, 0x000000ff);
		put32(ih + 52, 0xff000000);
		put32(ih + 56, CS_SRGB);
	}
	uint8_t *pal = o + 14 + hsz;
	for (size_t i = 0; i < b->pal_n && i < npal; i++)
		memcpy(pal + 4 * i, b->pal[i], 3);
	uint8_t *pix = o + head;
	for (uint64_t y = 0; y < h; y++) {
		if ((rc = sk_img_time(j, y)))
			return rc;
		uint8_t *d = pix + (h - 1 - y) * stride;
		const uint8_t *s = b->px + y * w * (indexed ? 1 : 4);
		for (uint64_t x = 0; x < w; x++) {
			switch (obpp) {
			case 1: d[x / 8] |= (uint8_t)((s[x] & 1) << (7 - x % 8)); break;
			case 4: d[x / 2] |= (uint8_t)(x & 1 ? s[x] & 15 : (s[x] & 15) << 4); break;
			case 8: d[x] = s[x]; break;
			case 24: memcpy(d + 3 * x, s + 4 * x, 3); break;
			default: memcpy(d + 4 * x, s + 4 * x, 4); break;
			}
		}
	}
	j->out.len = (size_t)total;
	return 0;
}

/* What the headers carry beyond the picture. */
static int bmp_extras(img_job *j, const struct bmp *b, size_t pal_end, size_t pix_end)
{
	const uint8_t *p = j->data;
	size_t n = j->size;
	const uint8_t *h = p + 14;
	uint64_t prof_off = 0, prof_len = 0;
	if (img_le16(p + 6) || img_le16(p + 8))
		sk_img_note(j, "ancillary-data", "header reserved fields");
	if (b->hsize >= 108) {
		uint32_t cs = img_le32(h + 56);
		if (b->hsize == 124 && (cs == CS_MBED || cs == CS_LINK)) {
			prof_off = 14 + (uint64_t)img_le32(h + 112);
			prof_len = img_le32(h + 116);
			if (prof_off > n || prof_len > n - prof_off)
				return bmp_bad(j, "colour profile outside the file");
			int intent;
			if (cs == CS_LINK)
				sk_img_note(j, "icc-profile", "linked profile");
			else if (!j->ctx->profile->keep_srgb_icc ||
				 !sk_img_icc_is_srgb(p + prof_off, (size_t)prof_len, &intent))
				sk_img_note(j, "icc-profile", "embedded profile");
		} else if (cs == 0) {
			bool any = false;
			for (size_t i = 60; i < 108; i++)
				any = any || h[i];
			if (any)
				sk_img_note(j, "ancillary-data", "calibrated colour space");
		}
	}
	/* The file is headers+colour table, pixels and perhaps a profile; bytes outside them
	 * are ancillary-data before the last of them and trailing-data after. */
	uint64_t iv[3][2] = {{0, pal_end}, {b->off, pix_end}, {prof_off, prof_off + prof_len}};
	int niv = prof_len ? 3 : 2;
	if (niv == 3 && iv[2][0] < iv[1][0]) { /* sort by start (only the profile may move) */
		uint64_t t0 = iv[2][0], t1 = iv[2][1];
		iv[2][0] = iv[1][0], iv[2][1] = iv[1][1];
		iv[1][0] = t0, iv[1][1] = t1;
	}
	if (niv == 3 && iv[1][0] < iv[0][0]) {
		uint64_t t0 = iv[1][0], t1 = iv[1][1];
		iv[1][0] = iv[0][0], iv[1][1] = iv[0][1];
		iv[0][0] = t0, iv[0][1] = t1;
	}
	uint64_t covered_to = 0, holes = 0;
	for (int i = 0; i < niv; i++) {
		if (iv[i][0] > covered_to)
			holes += iv[i][0] - covered_to;
		if (iv[i][1] > covered_to)
			covered_to = iv[i][1];
	}
	if (holes)
		sk_img_note_bytes(j, "ancillary-data", holes);
	if (n > covered_to)
		sk_img_note_bytes(j, "trailing-data", n - covered_to);
	return 0;
}

int sk_img_bmp(img_job *j)
{
	struct bmp b;
	memset(&b, 0, sizeof(b));
	size_t pal_end = 0, pix_end = 0;
	int rc = bmp_header(j, &b, &pal_end);
	if (rc == 0)
		rc = bmp_pixels(j, &b, &pix_end);
	if (rc == 0)
		rc = bmp_extras(j, &b, pal_end, pix_end);
	if (rc == 0)
		rc = bmp_write(j, &b);
	free(b.px);
	return rc;
}
