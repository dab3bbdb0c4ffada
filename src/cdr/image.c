/* The image module: PNG, JPEG, GIF and BMP are decoded and rebuilt from their pixels (JPEG
 * from its DCT coefficients). What is not part of the picture is dropped and reported:
 * EXIF, XMP, ICC profiles (an sRGB-equivalent profile is kept as its meaning, see
 * sk_img_icc_is_srgb), comments, text chunks, application extensions, thumbnails and any bytes
 * after the image's end.
 *
 * This file holds the dispatch and what the codecs share: the removal report, the pixel
 * budget, EXIF orientation and the sRGB check of ICC profiles. The codecs are
 * image_png.c, image_jpeg.c, image_gif.c and image_bmp.c. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cdr_modules.h"
#include "image_int.h"

/* ---- the removal report ---- */

static img_removed *removed_slot(img_job *j, const char *what)
{
	for (size_t i = 0; i < j->nrm; i++)
		if (strcmp(j->rm[i].what, what) == 0)
			return &j->rm[i];
	if (j->nrm == IMG_REMOVED_MAX)
		return &j->rm[IMG_REMOVED_MAX - 1]; /* cannot happen: fewer codes than slots */
	img_removed *r = &j->rm[j->nrm++];
	memset(r, 0, sizeof(*r));
	r->what = what;
	return r;
}

/* true when name is one of the comma-separated items of list */
static bool list_has(const char *list, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == nl && memcmp(p, name, nl) == 0)
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

void sk_img_note(img_job *j, const char *what, const char *name)
{
	img_removed *r = removed_slot(j, what);
	r->count++;
	if (!name || !*name || list_has(r->detail, name))
		return;
	size_t have = strlen(r->detail), nl = strlen(name);
	if (have + (have ? 1 : 0) + nl + 4 >= sizeof(r->detail)) {
		/* full: mark once that more names were left out */
		if (have < 4 || strcmp(r->detail + have - 4, ",...") != 0) {
			if (have + 4 < sizeof(r->detail))
				memcpy(r->detail + have, ",...", 5);
		}
		return;
	}
	snprintf(r->detail + have, sizeof(r->detail) - have, "%s%s", have ? "," : "", name);
}

void sk_img_note_bytes(img_job *j, const char *what, uint64_t n)
{
	img_removed *r = removed_slot(j, what);
	r->count++;
	r->bytes += n;
}

void sk_img_safe_name(char *dst, size_t dstsz, const uint8_t *src, size_t n)
{
	if (!dstsz)
		return;
	size_t o = 0;
	for (size_t i = 0; i < n && src[i] && o + 1 < dstsz; i++) {
		uint8_t c = src[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '-' || c == '_' || c == ':' || c == ' ' || c == '/';
		dst[o++] = ok ? (char)c : '?';
	}
	dst[o] = 0;
}

static int report_removed(img_job *j)
{
	for (size_t i = 0; i < j->nrm; i++) {
		const img_removed *r = &j->rm[i];
		char detail[sizeof(r->detail) + 40];
		if (r->bytes)
			snprintf(detail, sizeof(detail), "%s%s%llu bytes", r->detail,
				 r->detail[0] ? "; " : "", (unsigned long long)r->bytes);
		else
			snprintf(detail, sizeof(detail), "%s", r->detail);
		int rc = sk_cdr_action(j->ctx, SK_ACTION_REMOVED, r->what, NULL,
				       detail[0] ? detail : NULL, r->count);
		if (rc)
			return sk_error_set(j->err, rc, "report");
	}
	return 0;
}

/* ---- blocking and budget ---- */

int sk_img_malformed(img_job *j, const char *fmt, ...)
{
	char d[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d, sizeof(d), fmt, ap);
	va_end(ap);
	return sk_cdr_block(j->ctx, SK_REASON_MALFORMED, d);
}

int sk_img_pixels(img_job *j, uint64_t w, uint64_t h)
{
	if (sk_budget_pixels(j->ctx->budget, w, h) == SK_REASON_NONE)
		return 0;
	char d[64];
	snprintf(d, sizeof(d), "%llux%llu", (unsigned long long)w, (unsigned long long)h);
	return sk_cdr_block(j->ctx, SK_REASON_LIMIT_PIXELS, d);
}

int sk_img_expand(img_job *j, uint64_t bytes)
{
	if (bytes > (uint64_t)(SIZE_MAX / 4))
		return sk_cdr_block(j->ctx, SK_REASON_LIMIT_PIXELS, "decoded size");
	if (sk_budget_expand(j->ctx->budget, bytes) == SK_REASON_NONE)
		return 0;
	char d[64];
	snprintf(d, sizeof(d), "decoded image of %llu bytes", (unsigned long long)bytes);
	return sk_cdr_block(j->ctx, SK_REASON_LIMIT_SIZE, d);
}

int sk_img_time(img_job *j, uint64_t row)
{
	if (row % IMG_TIME_ROWS)
		return 0;
	sk_reason r = sk_budget_time(j->ctx->budget);
	return r == SK_REASON_NONE ? 0 : sk_cdr_block(j->ctx, r, "image");
}

/* ---- EXIF orientation ---- */

int sk_img_exif_orientation(const uint8_t *t, size_t n)
{
	if (n < 8)
		return 0;
	bool le;
	if (t[0] == 'I' && t[1] == 'I' && t[2] == 42 && t[3] == 0)
		le = true;
	else if (t[0] == 'M' && t[1] == 'M' && t[2] == 0 && t[3] == 42)
		le = false;
	else
		return 0;
#define RD16(p) (le ? img_le16(p) : img_be16(p))
#define RD32(p) (le ? img_le32(p) : img_be32(p))
	uint32_t off = RD32(t + 4);
	if (off < 8 || off > n - 2)
		return 0;
	size_t cnt = RD16(t + off);
	for (size_t i = 0; i < cnt; i++) {
		size_t e = (size_t)off + 2 + 12 * i;
		if (e > n || n - e < 12)
			break;
		if (RD16(t + e) != 0x0112)
			continue;
		if (RD16(t + e + 2) != 3 /* SHORT */ || RD32(t + e + 4) != 1)
			return 0;
		unsigned v = RD16(t + e + 8);
		return v >= 1 && v <= 8 ? (int)v : 0;
	}
	return 0;
#undef RD16
#undef RD32
}

size_t sk_img_exif_build(uint8_t out[IMG_EXIF_MIN_LEN], int o)
{
	static const uint8_t tmpl[IMG_EXIF_MIN_LEN] = {
		'M', 'M', 0, 42, 0, 0, 0, 8,          /* big-endian TIFF, IFD0 at 8 */
		0, 1,                                 /* one entry */
		0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 1, 0, 0, /* Orientation, SHORT, 1 value */
		0, 0, 0, 0,                           /* no next IFD */
	};
	memcpy(out, tmpl, sizeof(tmpl));
	out[19] = (uint8_t)(o >= 1 && o <= 8 ? o : 1);
	return sizeof(tmpl);
}

/* ---- ICC: is this profile sRGB? ---- */

#define SIG(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static const uint8_t *icc_tag(const uint8_t *p, size_t n, uint32_t sig, size_t *len)
{
	uint32_t count = img_be32(p + 128);
	if (count > (n - 132) / 12)
		return NULL;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = p + 132 + 12 * (size_t)i;
		if (img_be32(e) != sig)
			continue;
		uint32_t off = img_be32(e + 4), sz = img_be32(e + 8);
		if (off > n || sz > n - off || sz < 8)
			return NULL;
		*len = sz;
		return p + off;
	}
	return NULL;
}

static double s15f16(const uint8_t *p)
{
	return (double)(int32_t)img_be32(p) / 65536.0;
}

static bool icc_xyz(const uint8_t *p, size_t n, uint32_t sig, const double want[3],
		    const double alt[3])
{
	size_t len;
	const uint8_t *t = icc_tag(p, n, sig, &len);
	if (!t || len < 20 || img_be32(t) != SIG('X', 'Y', 'Z', ' '))
		return false;
	const double tol = 0.003;
	bool ok = true, ok_alt = alt != NULL;
	for (int i = 0; i < 3; i++) {
		double v = s15f16(t + 8 + 4 * i);
		ok = ok && fabs(v - want[i]) <= tol;
		ok_alt = ok_alt && fabs(v - alt[i]) <= tol;
	}
	return ok || ok_alt;
}

static double srgb_to_linear(double x)
{
	return x <= 0.04045 ? x / 12.92 : pow((x + 0.055) / 1.055, 2.4);
}

static double powpos(double b, double g)
{
	return b <= 0 ? 0 : pow(b, g);
}

/* A tone curve: 'curv' (gamma or table) or 'para' (ICC parametric functions 0..4). */
static bool icc_trc_is_srgb(const uint8_t *p, size_t n, uint32_t sig)
{
	size_t len;
	const uint8_t *t = icc_tag(p, n, sig, &len);
	if (!t || len < 12)
		return false;
	uint32_t type = img_be32(t);
	uint32_t count = 0;
	int fn = -1;
	double g = 1, a = 1, b = 0, c = 0, d = 0, e = 0, f = 0;
	if (type == SIG('c', 'u', 'r', 'v')) {
		count = img_be32(t + 8);
		if (count == 0 || count > (len - 12) / 2)
			return false;
		if (count == 1)
			g = img_be16(t + 12) / 256.0;
	} else if (type == SIG('p', 'a', 'r', 'a')) {
		static const int nparams[] = {1, 3, 4, 5, 7};
		fn = img_be16(t + 8);
		if (fn > 4 || (size_t)nparams[fn] > (len - 12) / 4)
			return false;
		double v[7] = {0};
		for (int i = 0; i < nparams[fn]; i++)
			v[i] = s15f16(t + 12 + 4 * i);
		g = v[0];
		a = v[1], b = v[2], c = v[3], d = v[4], e = v[5], f = v[6];
		if (fn >= 1 && a == 0)
			return false;
	} else {
		return false;
	}
	for (int i = 0; i <= 64; i++) {
		double x = i / 64.0, y;
		if (fn < 0 && count == 1) {
			y = powpos(x, g);
		} else if (fn < 0) {
			double pos = x * (count - 1);
			uint32_t k = (uint32_t)pos;
			if (k >= count - 1)
				k = count - 2;
			double fr = pos - k;
			double y0 = img_be16(t + 12 + 2 * (size_t)k) / 65535.0;
			double y1 = img_be16(t + 12 + 2 * (size_t)(k + 1)) / 65535.0;
			y = y0 + (y1 - y0) * fr;
		} else {
			switch (fn) {
			case 0: y = powpos(x, g); break;
			case 1: y = x >= -b / a ? powpos(a * x + b, g) : 0; break;
			case 2: y = x >= -b / a ? powpos(a * x + b, g) + c : c; break;
			case 3: y = x >= d ? powpos(a * x + b, g) : c * x; break;
			default: y = x >= d ? powpos(a * x + b, g) + e : c * x + f; break;
			}
		}
		if (!(fabs(y - srgb_to_linear(x)) <= 0.0025)) /* also false for NaN */
			return false;
	}
	return true;
}

bool sk_img_icc_is_srgb(const uint8_t *p, size_t n, int *intent)
{
	*intent = 0;
	if (n < 132)
		return false;
	uint32_t declared = img_be32(p);
	if (declared < 132 || declared > n)
		return false;
	n = declared;
	if (img_be32(p + 36) != SIG('a', 'c', 's', 'p') || img_be32(p + 16) != SIG('R', 'G', 'B', ' ') ||
	    img_be32(p + 20) != SIG('X', 'Y', 'Z', ' '))
		return false;
	uint32_t cls = img_be32(p + 12);
	if (cls != SIG('m', 'n', 't', 'r') && cls != SIG('s', 'p', 'a', 'c'))
		return false;
	/* LUT-based transforms take precedence over the matrix in a colour-managed viewer:
	 * such a profile is not judged by its matrix. */
	uint32_t count = img_be32(p + 128);
	if (count > (n - 132) / 12)
		return false;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *s = p + 132 + 12 * (size_t)i;
		if (!memcmp(s, "A2B", 3) || !memcmp(s, "B2A", 3) || !memcmp(s, "D2B", 3) ||
		    !memcmp(s, "B2D", 3))
			return false;
	}
	/* IEC 61966-2-1 primaries adapted to D50 (Bradford), and the white points a profile
	 * may carry (D50 as ICC v4 requires; D65 as many v2 sRGB profiles have). */
	static const double r[3] = {0.4361, 0.2225, 0.0139}, g[3] = {0.3851, 0.7169, 0.0971},
			    b[3] = {0.1431, 0.0606, 0.7141}, d50[3] = {0.9642, 1.0, 0.8249},
			    d65[3] = {0.9505, 1.0, 1.0891};
	if (!icc_xyz(p, n, SIG('r', 'X', 'Y', 'Z'), r, NULL) ||
	    !icc_xyz(p, n, SIG('g', 'X', 'Y', 'Z'), g, NULL) ||
	    !icc_xyz(p, n, SIG('b', 'X', 'Y', 'Z'), b, NULL) ||
	    !icc_xyz(p, n, SIG('w', 't', 'p', 't'), d50, d65))
		return false;
	if (!icc_trc_is_srgb(p, n, SIG('r', 'T', 'R', 'C')) ||
	    !icc_trc_is_srgb(p, n, SIG('g', 'T', 'R', 'C')) ||
	    !icc_trc_is_srgb(p, n, SIG('b', 'T', 'R', 'C')))
		return false;
	uint32_t ri = img_be32(p + 64);
	*intent = ri <= 3 ? (int)ri : 0;
	return true;
}

/* ---- the module ---- */

static bool image_accepts(const sk_type *t)
{
	switch (t->kind) {
	case SK_KIND_PNG:
	case SK_KIND_JPEG:
	case SK_KIND_GIF:
	case SK_KIND_BMP:
		return true;
	default:
		return false;
	}
}

static int image_sanitize(sk_cdr_ctx *ctx, sk_input *in, sk_output *out, sk_error *err)
{
	const uint8_t *p;
	size_t n;
	int rc = sk_input_load(in, &p, &n, err);
	if (rc)
		return rc;
	img_job j = {.ctx = ctx, .err = err, .data = p, .size = n};
	uint64_t room = out->max > out->written ? out->max - out->written : 0;
	sk_buf_init(&j.out, room == 0 ? 1 : room < SK_BUF_MAX_DEFAULT ? (size_t)room
								       : SK_BUF_MAX_DEFAULT);
	switch (ctx->type.kind) {
	case SK_KIND_PNG: rc = sk_img_png(&j); break;
	case SK_KIND_JPEG: rc = sk_img_jpeg(&j); break;
	case SK_KIND_GIF: rc = sk_img_gif(&j); break;
	case SK_KIND_BMP: rc = sk_img_bmp(&j); break;
	default: rc = sk_cdr_block(ctx, SK_REASON_UNKNOWN_TYPE, ctx->type.code); break;
	}
	if (rc == 0)
		rc = sk_output_write(out, j.out.data, j.out.len, err);
	if (rc == 0)
		rc = report_removed(&j);
	sk_buf_free(&j.out);
	return rc;
}

const sk_cdr_module sk_cdr_module_image = {
	.name = "image",
	.accepts = image_accepts,
	.sanitize = image_sanitize,
};
