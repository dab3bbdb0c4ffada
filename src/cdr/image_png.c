/* PNG: walk the chunks (inventory, pixel budget, trailing bytes), decode with libpng and
 * write a new PNG from the rows.
 *
 * Kept (they change what is seen or printed): IHDR as it was (size, colour type, bit depth,
 * interlacing), PLTE of palette images, tRNS, gAMA, cHRM, sRGB, sBIT, bKGD, pHYs. An iCCP
 * profile that is sRGB (sk_img_icc_is_srgb) becomes an sRGB chunk when the profile keeps sRGB
 * ICC; EXIF orientation other than 1 is kept as a minimal eXIf holding only that tag.
 * Everything else is dropped and reported: tEXt/zTXt/iTXt (text-chunk; comment, xmp, exif
 * … by keyword), eXIf (exif), iCCP (icc-profile), tIME (metadata), any other chunk (APNG
 * animation, private chunks, sPLT, hIST, oFFs … as ancillary-data) and bytes after IEND
 * (trailing-data). libpng never sees the dropped chunks (they are marked "never keep"), so
 * compressed text or profiles are not even inflated. */
#include <png.h>
#include <setjmp.h>
#include <zlib.h> /* Z_RLE only: libpng does the compressing */
#include <stdlib.h>
#include <string.h>

#include "image_int.h"

/* Compression of the rebuilt IDAT. Images that compress well (screenshots, diagrams) get
 * zlib's level 6 with libpng's adaptive filters: as fast there as level 1 and up to three
 * times smaller. Photograph-like images, whose input IDAT is more than a quarter of the raw
 * rows, gain little from searching for matches: they get the Paeth filter and zlib's
 * run-length strategy, four times faster than level 6 for a file 1-7 % larger, and as
 * small as level 2 with Paeth. (Measured on the mat2 corpus photo, a 2000x1500 noisy
 * photo and a 1600x1000 screenshot: bench/image_inproc.c.) */
#define PNG_LEVEL_GOOD 6

struct png_walk {
	uint32_t w, h;
	int depth, ctype, channels;
	uint64_t idat; /* bytes of compressed image data */
	bool has_iccp;
	int orientation; /* from the first eXIf, 0 when none */
};

struct png_state {
	img_job *j;
	struct png_walk wk;
	size_t pos; /* libpng's read position in j->data */
	png_structp rd, wr;
	png_infop ri, wi;
	uint8_t *pixels;
	png_bytep *rows;
	int wrc;       /* an SK_E* raised by the write callback */
	char msg[128]; /* libpng's last error */
};

static bool is_letter(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* The text chunk keyword (up to 79 bytes before a NUL) decides what it is reported as. */
static const char *text_what(const uint8_t *type, const uint8_t *d, size_t len)
{
	char kw[80];
	size_t k = 0;
	while (k < len && k < sizeof(kw) - 1 && d[k])
		k++;
	memcpy(kw, d, k);
	kw[k] = 0;
	if (memcmp(type, "iTXt", 4) == 0 && strcmp(kw, "XML:com.adobe.xmp") == 0)
		return "xmp";
	if (strncmp(kw, "Raw profile type ", 17) == 0) {
		const char *t = kw + 17;
		if (!strcmp(t, "exif") || !strcmp(t, "APP1"))
			return "exif";
		if (!strcmp(t, "xmp"))
			return "xmp";
		if (!strcmp(t, "icc") || !strcmp(t, "icm"))
			return "icc-profile";
		return "metadata";
	}
	if (strcmp(kw, "Comment") == 0)
		return "comment";
	return "text-chunk";
}

static int png_walk_chunks(img_job *j, struct png_walk *wk)
{
	const uint8_t *p = j->data;
	size_t n = j->size, pos = 8;
	bool first = true;
	if (n < 8 || memcmp(p, "\x89PNG\r\n\x1a\n", 8) != 0)
		return sk_img_malformed(j, "png: no signature");
	for (;;) {
		if (n - pos < 12)
			return sk_img_malformed(j, "png: truncated (no IEND)");
		uint32_t len = img_be32(p + pos);
		const uint8_t *type = p + pos + 4, *d = p + pos + 8;
		if (len > 0x7fffffffu || len > n - pos - 12)
			return sk_img_malformed(j, "png: truncated chunk");
		for (int i = 0; i < 4; i++)
			if (!is_letter(type[i]))
				return sk_img_malformed(j, "png: bad chunk type");
		char name[8];
		sk_img_safe_name(name, sizeof(name), type, 4);
		if (first != (memcmp(type, "IHDR", 4) == 0))
			return sk_img_malformed(j, "png: IHDR is not first");
		if (first) {
			first = false;
			if (len != 13)
				return sk_img_malformed(j, "png: bad IHDR");
			wk->w = img_be32(d);
			wk->h = img_be32(d + 4);
			wk->depth = d[8];
			wk->ctype = d[9];
			if (wk->w == 0 || wk->h == 0 || wk->w > 0x7fffffffu || wk->h > 0x7fffffffu)
				return sk_img_malformed(j, "png: bad size %ux%u", wk->w, wk->h);
			switch (wk->ctype) {
			case 0: wk->channels = 1; break;
			case 2: wk->channels = 3; break;
			case 3: wk->channels = 1; break;
			case 4: wk->channels = 2; break;
			case 6: wk->channels = 4; break;
			default: return sk_img_malformed(j, "png: bad colour type %d", wk->ctype);
			}
			if (wk->depth != 1 && wk->depth != 2 && wk->depth != 4 && wk->depth != 8 &&
			    wk->depth != 16)
				return sk_img_malformed(j, "png: bad bit depth %d", wk->depth);
			int rc = sk_img_pixels(j, wk->w, wk->h);
			if (rc)
				return rc;
		} else if (!memcmp(type, "IEND", 4)) {
			size_t end = pos + 12 + len;
			if (end < n)
				sk_img_note_bytes(j, "trailing-data", n - end);
			return 0;
		} else if (!memcmp(type, "IDAT", 4)) {
			wk->idat += len;
		} else if (!memcmp(type, "tRNS", 4) ||
			   !memcmp(type, "gAMA", 4) || !memcmp(type, "cHRM", 4) ||
			   !memcmp(type, "sRGB", 4) || !memcmp(type, "sBIT", 4) ||
			   !memcmp(type, "bKGD", 4) || !memcmp(type, "pHYs", 4)) {
			/* kept */
		} else if (!memcmp(type, "PLTE", 4)) {
			if (wk->ctype != 3)
				sk_img_note(j, "ancillary-data", "PLTE"); /* a suggested palette */
		} else if (!memcmp(type, "iCCP", 4)) {
			wk->has_iccp = true;
			if (!j->ctx->profile->keep_srgb_icc)
				sk_img_note(j, "icc-profile", "iCCP");
		} else if (!memcmp(type, "eXIf", 4)) {
			sk_img_note(j, "exif", "eXIf");
			if (!wk->orientation)
				wk->orientation = sk_img_exif_orientation(d, len);
		} else if (!memcmp(type, "tEXt", 4) || !memcmp(type, "zTXt", 4) ||
			   !memcmp(type, "iTXt", 4)) {
			sk_img_note(j, text_what(type, d, len), name);
		} else if (!memcmp(type, "tIME", 4)) {
			sk_img_note(j, "metadata", name);
		} else if (!memcmp(type, "acTL", 4) || !memcmp(type, "fcTL", 4) ||
			   !memcmp(type, "fdAT", 4)) {
			sk_img_note(j, "ancillary-data", "APNG animation"); /* the still image stays */
		} else if (type[0] & 0x20) {
			sk_img_note(j, "ancillary-data", name);
		} else {
			return sk_img_malformed(j, "png: unknown critical chunk %s", name);
		}
		pos += 12 + (size_t)len;
	}
}

static void png_err_cb(png_structp png, png_const_charp msg)
{
	struct png_state *st = png_get_error_ptr(png);
	strncpy(st->msg, msg ? msg : "error", sizeof(st->msg) - 1);
	st->msg[sizeof(st->msg) - 1] = 0;
	png_longjmp(png, 1);
}

static void png_warn_cb(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg; /* never printed by the library */
}

static void png_read_cb(png_structp png, png_bytep out, size_t n)
{
	struct png_state *st = png_get_io_ptr(png);
	if (n > st->j->size - st->pos)
		png_error(png, "truncated");
	memcpy(out, st->j->data + st->pos, n);
	st->pos += n;
}

static void png_write_cb(png_structp png, png_bytep data, size_t n)
{
	struct png_state *st = png_get_io_ptr(png);
	int rc = sk_buf_add(&st->j->out, data, n);
	if (rc) {
		st->wrc = rc;
		png_error(png, "output");
	}
}

static void png_flush_cb(png_structp png)
{
	(void)png;
}

/* Chunks libpng may read: everything else is skipped unread. */
static const png_byte keep_chunks[] = "gAMA\0cHRM\0sRGB\0sBIT\0bKGD\0pHYs";
static const png_byte iccp_chunk[] = "iCCP";

static int png_decode(struct png_state *st)
{
	img_job *j = st->j;
	if (setjmp(png_jmpbuf(st->rd)))
		return sk_img_malformed(j, "png: %s", st->msg);
	png_set_read_fn(st->rd, st, png_read_cb);
	png_set_user_limits(st->rd, 0x7fffffff, 0x7fffffff);
	png_set_keep_unknown_chunks(st->rd, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
	png_set_keep_unknown_chunks(st->rd, PNG_HANDLE_CHUNK_AS_DEFAULT, keep_chunks,
				    (int)(sizeof(keep_chunks) / 5));
	if (j->ctx->profile->keep_srgb_icc)
		png_set_keep_unknown_chunks(st->rd, PNG_HANDLE_CHUNK_AS_DEFAULT, iccp_chunk, 1);
	png_read_info(st->rd, st->ri);
	png_uint_32 w, h;
	int depth, ctype, interlace, comp, filter;
	png_get_IHDR(st->rd, st->ri, &w, &h, &depth, &ctype, &interlace, &comp, &filter);
	if (w != st->wk.w || h != st->wk.h || depth != st->wk.depth || ctype != st->wk.ctype)
		return sk_img_malformed(j, "png: header mismatch");
	int passes = png_set_interlace_handling(st->rd);
	png_read_update_info(st->rd, st->ri);
	size_t rowbytes = png_get_rowbytes(st->rd, st->ri);
	uint64_t want = ((uint64_t)w * (uint64_t)st->wk.channels * (uint64_t)depth + 7) / 8;
	if (rowbytes != want)
		return sk_img_malformed(j, "png: unexpected row size");
	if (want > UINT64_MAX / h)
		return sk_cdr_block(j->ctx, SK_REASON_LIMIT_PIXELS, "png: size");
	int rc = sk_img_expand(j, want * h);
	if (rc)
		return rc;
	/* zeroed: libpng does not write the unused bits at the end of a row, which would
	 * otherwise carry stale heap bytes into the output */
	st->pixels = calloc(h, (size_t)want);
	st->rows = malloc(sizeof(png_bytep) * h);
	if (!st->pixels || !st->rows)
		return sk_error_set(j->err, SK_ENOMEM, "png: %llu bytes",
				    (unsigned long long)(want * h));
	for (png_uint_32 y = 0; y < h; y++)
		st->rows[y] = st->pixels + (size_t)y * rowbytes;
	/* png_read_image() in batches of rows, the clock looked at between them */
	for (int pass = 0; pass < passes; pass++)
		for (png_uint_32 y = 0; y < h; y += IMG_TIME_ROWS) {
			if ((rc = sk_img_time(j, y)))
				return rc;
			png_uint_32 n = h - y < IMG_TIME_ROWS ? h - y : IMG_TIME_ROWS;
			png_read_rows(st->rd, st->rows + y, NULL, n);
		}
	png_read_end(st->rd, st->ri);
	return 0;
}

static int png_encode(struct png_state *st)
{
	img_job *j = st->j;
	png_structp rd = st->rd, wr = st->wr;
	png_infop ri = st->ri, wi = st->wi;
	if (setjmp(png_jmpbuf(wr))) {
		if (st->wrc == SK_ELIMIT)
			return sk_error_set(j->err, SK_ELIMIT, "png: output too large");
		if (st->wrc)
			return sk_error_set(j->err, st->wrc, "png: output");
		return sk_error_set(j->err, SK_EINTERNAL, "png write: %s", st->msg);
	}
	png_set_write_fn(wr, st, png_write_cb, png_flush_cb);
	png_set_benign_errors(wr, 1);
	png_uint_32 w, h;
	int depth, ctype, interlace, comp, filter;
	png_get_IHDR(rd, ri, &w, &h, &depth, &ctype, &interlace, &comp, &filter);
	png_set_IHDR(wr, wi, w, h, depth, ctype,
		     interlace == PNG_INTERLACE_ADAM7 ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (ctype == PNG_COLOR_TYPE_PALETTE) {
		png_colorp pal;
		int np;
		if (!png_get_PLTE(rd, ri, &pal, &np))
			return sk_img_malformed(j, "png: palette image without PLTE");
		png_set_PLTE(wr, wi, pal, np);
	}
	png_bytep trans;
	int nt;
	png_color_16p tcolor, bg;
	if (png_get_tRNS(rd, ri, &trans, &nt, &tcolor))
		png_set_tRNS(wr, wi, trans, nt, tcolor);
	if (png_get_bKGD(rd, ri, &bg))
		png_set_bKGD(wr, wi, bg);
	png_color_8p sbit;
	if (png_get_sBIT(rd, ri, &sbit))
		png_set_sBIT(wr, wi, sbit);
	png_uint_32 resx, resy;
	int unit;
	if (png_get_pHYs(rd, ri, &resx, &resy, &unit))
		png_set_pHYs(wr, wi, resx, resy, unit);
	int intent;
	bool srgb = png_get_sRGB(rd, ri, &intent) != 0;
	if (srgb)
		png_set_sRGB(wr, wi, intent);
	png_fixed_point gamma, wx, wy, rx, ry, gx, gy, bx, by;
	if (png_get_gAMA_fixed(rd, ri, &gamma))
		png_set_gAMA_fixed(wr, wi, gamma);
	if (png_get_cHRM_fixed(rd, ri, &wx, &wy, &rx, &ry, &gx, &gy, &bx, &by))
		png_set_cHRM_fixed(wr, wi, wx, wy, rx, ry, gx, gy, bx, by);
	if (st->wk.has_iccp && j->ctx->profile->keep_srgb_icc) {
		png_charp name;
		int ctype_icc;
		png_bytep prof;
		png_uint_32 plen;
		int icc_intent;
		if (png_get_iCCP(rd, ri, &name, &ctype_icc, &prof, &plen) &&
		    sk_img_icc_is_srgb(prof, plen, &icc_intent)) {
			if (!srgb)
				png_set_sRGB(wr, wi, icc_intent);
		} else {
			sk_img_note(j, "icc-profile", "iCCP");
		}
	}
	if (st->wk.orientation > 1) {
		uint8_t ex[IMG_EXIF_MIN_LEN];
		size_t exn = sk_img_exif_build(ex, st->wk.orientation);
		png_set_eXIf_1(wr, wi, (png_uint_32)exn, ex);
	}
	uint64_t raw = (((uint64_t)w * (uint64_t)st->wk.channels * (uint64_t)depth + 7) / 8 + 1) * h;
	if (st->wk.idat > raw / 4 && depth >= 8 && ctype != PNG_COLOR_TYPE_PALETTE) {
		png_set_compression_strategy(wr, Z_RLE);
		png_set_filter(wr, 0, PNG_FILTER_PAETH);
	} else {
		png_set_compression_level(wr, PNG_LEVEL_GOOD);
	}
	png_write_info(wr, wi);
	/* png_write_image() in batches of rows, the clock looked at between them */
	int passes = png_set_interlace_handling(wr);
	for (int pass = 0; pass < passes; pass++)
		for (png_uint_32 y = 0; y < h; y += IMG_TIME_ROWS) {
			int rc = sk_img_time(j, y);
			if (rc)
				return rc;
			png_uint_32 n = h - y < IMG_TIME_ROWS ? h - y : IMG_TIME_ROWS;
			png_write_rows(wr, st->rows + y, n);
		}
	png_write_end(wr, NULL);
	return 0;
}

int sk_img_png(img_job *j)
{
	struct png_state *st = calloc(1, sizeof(*st));
	if (!st)
		return sk_error_set(j->err, SK_ENOMEM, "png");
	st->j = j;
	int rc = png_walk_chunks(j, &st->wk);
	if (rc)
		goto out;
	st->rd = png_create_read_struct(PNG_LIBPNG_VER_STRING, st, png_err_cb, png_warn_cb);
	st->ri = st->rd ? png_create_info_struct(st->rd) : NULL;
	st->wr = png_create_write_struct(PNG_LIBPNG_VER_STRING, st, png_err_cb, png_warn_cb);
	st->wi = st->wr ? png_create_info_struct(st->wr) : NULL;
	if (!st->ri || !st->wi) {
		rc = sk_error_set(j->err, SK_ENOMEM, "png");
		goto out;
	}
	rc = png_decode(st);
	if (rc == 0)
		rc = png_encode(st);
out:
	if (st->rd)
		png_destroy_read_struct(&st->rd, st->ri ? &st->ri : NULL, NULL);
	if (st->wr)
		png_destroy_write_struct(&st->wr, st->wi ? &st->wi : NULL);
	free(st->rows);
	free(st->pixels);
	free(st);
	return rc;
}
