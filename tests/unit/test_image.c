/* The image module: PNG, JPEG, GIF and BMP are rebuilt from their pixels (JPEG from its DCT
 * coefficients); metadata and trailing bytes are removed and reported; pictures stay the
 * same; bombs, truncation and corruption are blocked.
 *
 * The inputs are made here with libpng, libjpeg and giflib's writing APIs (BMP by hand);
 * outputs are read back with the same libraries' reading APIs (and, for BMP, a reader in
 * this file), never with the module's code. */
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gif_lib.h>
#include <jpeglib.h>
#include <png.h>

#include "testutil.h"

#if defined(__SANITIZE_ADDRESS__)
#define TU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TU_ASAN 1
#endif
#endif

/* ------------------------------------------------------------------ common */

static uint32_t rnd_state = 12345;
static uint8_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (uint8_t)(rnd_state >> 16);
}

static void run(const sk_buf *in, const char *name, const sk_profile *prof, uint64_t max_pixels,
		tu_run *r)
{
	sk_options o;
	sk_options_default(&o);
	if (prof)
		o.profile = prof;
	if (max_pixels)
		o.budget.max_pixels = max_pixels;
	tu_process(in->data, in->len, name, &o, r);
}

static void assert_clean(tu_run *r)
{
	assert_verdict(r, SK_VERDICT_CLEAN);
	assert_int_equal(r->res.report.n, 0);
}

static void assert_removed(tu_run *r, const char *what)
{
	if (tu_count(&r->res.report, SK_ACTION_REMOVED, what) != 1)
		fail_msg("expected one 'removed %s' action", what);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A TIFF block for EXIF: Orientation o plus a Make tag ("Cam"), big-endian. */
static size_t exif_tiff(uint8_t *t, int o)
{
	static const uint8_t tmpl[] = {
		'M', 'M', 0, 42, 0, 0, 0, 8, 0, 2,
		0x01, 0x0f, 0, 2, 0, 0, 0, 4, 'C', 'a', 'm', 0, /* Make, ASCII, "Cam" */
		0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 1, 0, 0,       /* Orientation */
		0, 0, 0, 0,
	};
	memcpy(t, tmpl, sizeof(tmpl));
	t[31] = (uint8_t)o;
	return sizeof(tmpl);
}

/* Orientation of a TIFF block (big- or little-endian), 0 when none. */
static int tiff_orientation(const uint8_t *t, size_t n, size_t *entries)
{
	bool le = t[0] == 'I';
	uint32_t off = le ? (uint32_t)(t[4] | t[5] << 8 | t[6] << 16 | (uint32_t)t[7] << 24) : get_be32(t + 4);
	if (off + 2 > n)
		return 0;
	size_t cnt = le ? (size_t)(t[off] | t[off + 1] << 8) : (size_t)(t[off] << 8 | t[off + 1]);
	*entries = cnt;
	for (size_t i = 0; i < cnt && off + 2 + 12 * i + 12 <= n; i++) {
		const uint8_t *e = t + off + 2 + 12 * i;
		unsigned tag = le ? (unsigned)(e[0] | e[1] << 8) : (unsigned)(e[0] << 8 | e[1]);
		if (tag == 0x0112)
			return le ? e[8] : e[9];
	}
	return 0;
}

/* An RGB display profile: sRGB (parametric curve, D50 white) or Adobe RGB (gamma 2.2). */
static size_t icc_make(uint8_t *p, bool srgb)
{
	memset(p, 0, 512);
	static const char *sigs[] = {"wtpt", "rXYZ", "gXYZ", "bXYZ", "rTRC", "gTRC", "bTRC"};
	const double s[4][3] = {{0.9642, 1.0, 0.8249}, {0.4361, 0.2225, 0.0139},
				{0.3851, 0.7169, 0.0971}, {0.1431, 0.0606, 0.7141}};
	const double a[4][3] = {{0.9642, 1.0, 0.8249}, {0.6097, 0.3111, 0.0195},
				{0.2053, 0.6257, 0.0609}, {0.1492, 0.0632, 0.7446}};
	size_t pos = 128 + 4 + 7 * 12;
	put_be32(p + 128, 7);
	for (int i = 0; i < 4; i++) {
		memcpy(p + 132 + 12 * i, sigs[i], 4);
		put_be32(p + 132 + 12 * i + 4, (uint32_t)pos);
		put_be32(p + 132 + 12 * i + 8, 20);
		memcpy(p + pos, "XYZ ", 4);
		for (int k = 0; k < 3; k++)
			put_be32(p + pos + 8 + 4 * k,
				 (uint32_t)(int32_t)((srgb ? s : a)[i][k] * 65536.0 + 0.5));
		pos += 20;
	}
	size_t trc = pos, trclen;
	if (srgb) {
		memcpy(p + pos, "para", 4);
		p[pos + 9] = 3; /* function type 3 */
		const double v[5] = {2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045};
		for (int k = 0; k < 5; k++)
			put_be32(p + pos + 12 + 4 * k, (uint32_t)(int32_t)(v[k] * 65536.0 + 0.5));
		trclen = 32;
	} else {
		memcpy(p + pos, "curv", 4);
		put_be32(p + pos + 8, 1);
		p[pos + 12] = 2, p[pos + 13] = 0x33; /* gamma 2.2 */
		trclen = 14;
	}
	for (int i = 4; i < 7; i++) {
		memcpy(p + 132 + 12 * i, sigs[i], 4);
		put_be32(p + 132 + 12 * i + 4, (uint32_t)trc);
		put_be32(p + 132 + 12 * i + 8, (uint32_t)trclen);
	}
	size_t total = (trc + trclen + 3) & ~(size_t)3;
	put_be32(p, (uint32_t)total);
	put_be32(p + 8, 0x04300000);
	memcpy(p + 12, "mntr", 4);
	memcpy(p + 16, "RGB ", 4);
	memcpy(p + 20, "XYZ ", 4);
	memcpy(p + 36, "acsp", 4);
	put_be32(p + 68, 0x0000f6d6);
	put_be32(p + 72, 0x00010000);
	put_be32(p + 76, 0x0000d32d);
	return total;
}

static bool read_srgb_lcms(sk_buf *b)
{
	FILE *f = fopen(tu_src("tests/data/image/srgb-lcms.icc"), "rb");
	if (!f)
		return false;
	fclose(f);
	tu_read(tu_src("tests/data/image/srgb-lcms.icc"), b);
	return true;
}

/* Runs fn in a child whose address space may grow by at most 256 MiB: a decoder that
 * allocated for a claimed size before checking the budget would fail there. Under ASan
 * (which reserves terabytes of shadow memory) the limit cannot be set: fn runs as is. */
static void in_small_address_space(void (*fn)(void))
{
#ifdef TU_ASAN
	fn();
#else
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		long pages = 0;
		FILE *f = fopen("/proc/self/statm", "r");
		if (!f || fscanf(f, "%ld", &pages) != 1)
			_exit(3);
		fclose(f);
		rlim_t cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE);
		struct rlimit rl = {cur + (256u << 20), cur + (256u << 20)};
		if (setrlimit(RLIMIT_AS, &rl) != 0)
			_exit(4);
		fn(); /* fails by exiting the child (cmocka asserts cannot run here) */
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
#endif
}

/* The reason data is blocked with (limit-pixels expected by the bomb tests). */
static sk_reason process_reason(const void *data, size_t n, const char *name)
{
	sk_options o;
	sk_options_default(&o);
	sk_buf out;
	sk_buf_init(&out, 0);
	sk_item item = {.name = name};
	sk_input_mem(&item.input, data, n);
	sk_output so;
	sk_output_buf(&so, &out);
	sk_result res;
	sk_error err;
	sk_error_clear(&err);
	sk_process(&item, &o, &so, &res, &err);
	sk_reason r = res.report.verdict == SK_VERDICT_BLOCKED ? res.report.reason : SK_REASON_NONE;
	sk_result_free(&res);
	sk_buf_free(&out);
	return r;
}

/* ------------------------------------------------------------------ PNG */

typedef struct pngspec {
	int w, h, depth, ctype, interlace;
	int npal;
	png_color pal[256];
	int ntrns;
	png_byte trns[256];
	bool tcolor;
	png_color_16 tcol;
	bool text, xmp, time, priv, phys, gama, bkgd, srgb_chunk;
	int exif; /* orientation of an eXIf chunk, 0: none */
	const uint8_t *icc;
	size_t icclen;
	const char *trail;
} pngspec;

static void t_png_error(png_structp p, png_const_charp m)
{
	(void)p;
	fail_msg("libpng (test writer/reader): %s", m);
}

static void t_png_warn(png_structp p, png_const_charp m)
{
	(void)p;
	(void)m;
}

static void t_png_write(png_structp p, png_bytep d, size_t n)
{
	assert_int_equal(sk_buf_add(png_get_io_ptr(p), d, n), 0);
}

static void t_png_flush(png_structp p)
{
	(void)p;
}

static size_t png_rowbytes(const pngspec *s)
{
	int ch = s->ctype == 2 ? 3 : s->ctype == 4 ? 2 : s->ctype == 6 ? 4 : 1;
	return ((size_t)s->w * (size_t)ch * (size_t)s->depth + 7) / 8;
}

/* Random pixels (palette indices stay below npal). */
static uint8_t *png_pixels(const pngspec *s)
{
	size_t rb = png_rowbytes(s), n = rb * (size_t)s->h;
	uint8_t *px = malloc(n);
	assert_non_null(px);
	for (size_t i = 0; i < n; i++)
		px[i] = rnd();
	if (s->ctype == 3 && s->depth == 8)
		for (size_t i = 0; i < n; i++)
			px[i] = (uint8_t)(px[i] % s->npal);
	/* bits after the last pixel of a row are not part of the picture: zero them */
	size_t used = ((size_t)s->w * (size_t)(s->ctype == 2 ? 3 : s->ctype == 4 ? 2 : s->ctype == 6 ? 4 : 1) *
		       (size_t)s->depth) % 8;
	if (used)
		for (int y = 0; y < s->h; y++)
			px[(size_t)y * rb + rb - 1] &= (uint8_t)(0xff00 >> used);
	return px;
}

static void png_make(const pngspec *s, const uint8_t *px, sk_buf *out)
{
	sk_buf_init(out, 0);
	png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, t_png_error, t_png_warn);
	png_infop info = png_create_info_struct(p);
	png_set_write_fn(p, out, t_png_write, t_png_flush);
	png_set_IHDR(p, info, (png_uint_32)s->w, (png_uint_32)s->h, s->depth, s->ctype, s->interlace,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	if (s->npal)
		png_set_PLTE(p, info, s->pal, s->npal);
	if (s->ntrns || s->tcolor)
		png_set_tRNS(p, info, s->ntrns ? s->trns : NULL, s->ntrns,
			     s->tcolor ? (png_color_16p)&s->tcol : NULL);
	if (s->phys)
		png_set_pHYs(p, info, 3780, 3780, PNG_RESOLUTION_METER);
	if (s->gama)
		png_set_gAMA_fixed(p, info, 45455);
	if (s->srgb_chunk)
		png_set_sRGB(p, info, 0);
	if (s->bkgd) {
		png_color_16 bg = {.index = 1, .red = 10, .green = 20, .blue = 30, .gray = 1};
		png_set_bKGD(p, info, &bg);
	}
	if (s->text) {
		png_text t[3] = {
			{.compression = PNG_TEXT_COMPRESSION_NONE, .key = "Author", .text = "Secret Person"},
			{.compression = PNG_TEXT_COMPRESSION_zTXt, .key = "Description", .text = "a long description"},
			{.compression = PNG_TEXT_COMPRESSION_NONE, .key = "Comment", .text = "hello"},
		};
		png_set_text(p, info, t, 3);
	}
	if (s->xmp) {
		png_text t = {.compression = PNG_ITXT_COMPRESSION_NONE, .key = "XML:com.adobe.xmp",
			      .text = "<x:xmpmeta>secret</x:xmpmeta>", .lang = "", .lang_key = ""};
		png_set_text(p, info, &t, 1);
	}
	if (s->time) {
		png_time tm = {2020, 1, 2, 3, 4, 5};
		png_set_tIME(p, info, &tm);
	}
	if (s->exif) {
		uint8_t ex[64];
		size_t n = exif_tiff(ex, s->exif);
		png_set_eXIf_1(p, info, (png_uint_32)n, ex);
	}
	if (s->icc)
		png_set_iCCP(p, info, "icc", 0, s->icc, (png_uint_32)s->icclen);
	if (s->priv) {
		png_unknown_chunk u = {.name = "prVt", .data = (png_byte *)"private data", .size = 12,
				       .location = PNG_HAVE_IHDR};
		png_set_unknown_chunks(p, info, &u, 1);
	}
	png_write_info(p, info);
	size_t rb = png_rowbytes(s);
	png_bytep *rows = malloc(sizeof(png_bytep) * (size_t)s->h);
	for (int y = 0; y < s->h; y++)
		rows[y] = (png_bytep)px + (size_t)y * rb;
	png_write_image(p, rows);
	png_write_end(p, info);
	free(rows);
	png_destroy_write_struct(&p, &info);
	if (s->trail)
		sk_buf_adds(out, s->trail);
}

typedef struct pngimg {
	png_uint_32 w, h;
	int depth, ctype, interlace, npal, ntrns;
	png_color pal[256];
	png_byte trns[256];
	png_color_16 tcol;
	size_t rowbytes;
	uint8_t *px;
} pngimg;

struct t_rd {
	const uint8_t *d;
	size_t n, pos;
};

static void t_png_read(png_structp p, png_bytep out, size_t n)
{
	struct t_rd *r = png_get_io_ptr(p);
	if (n > r->n - r->pos)
		png_error(p, "truncated");
	memcpy(out, r->d + r->pos, n);
	r->pos += n;
}

/* Raw rows (no transformation) and the chunks that define how they look. */
static void png_read_raw(const uint8_t *d, size_t n, pngimg *im)
{
	memset(im, 0, sizeof(*im));
	struct t_rd r = {d, n, 0};
	png_structp p = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, t_png_error, t_png_warn);
	png_infop info = png_create_info_struct(p);
	png_set_read_fn(p, &r, t_png_read);
	png_read_info(p, info);
	png_get_IHDR(p, info, &im->w, &im->h, &im->depth, &im->ctype, &im->interlace, NULL, NULL);
	png_set_interlace_handling(p);
	png_read_update_info(p, info);
	im->rowbytes = png_get_rowbytes(p, info);
	im->px = calloc(im->h, im->rowbytes); /* libpng leaves a row's padding bits alone */
	png_bytep *rows = malloc(sizeof(png_bytep) * im->h);
	for (png_uint_32 y = 0; y < im->h; y++)
		rows[y] = im->px + y * im->rowbytes;
	png_read_image(p, rows);
	png_read_end(p, NULL);
	png_colorp pal;
	if (png_get_PLTE(p, info, &pal, &im->npal))
		memcpy(im->pal, pal, sizeof(png_color) * (size_t)im->npal);
	png_bytep t;
	png_color_16p tc;
	if (png_get_tRNS(p, info, &t, &im->ntrns, &tc)) {
		if (t && im->ntrns)
			memcpy(im->trns, t, (size_t)im->ntrns);
		if (tc)
			im->tcol = *tc;
		if (!im->ntrns)
			im->ntrns = -1; /* colour key */
	}
	free(rows);
	png_destroy_read_struct(&p, &info, NULL);
}

static void png_assert_same(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	pngimg x, y;
	png_read_raw(a, an, &x);
	png_read_raw(b, bn, &y);
	assert_int_equal(x.w, y.w);
	assert_int_equal(x.h, y.h);
	assert_int_equal(x.depth, y.depth);
	assert_int_equal(x.ctype, y.ctype);
	assert_int_equal(x.interlace, y.interlace);
	assert_int_equal(x.rowbytes, y.rowbytes);
	assert_memory_equal(x.px, y.px, x.rowbytes * x.h);
	assert_int_equal(x.npal, y.npal);
	assert_memory_equal(x.pal, y.pal, sizeof(x.pal));
	assert_int_equal(x.ntrns, y.ntrns);
	assert_memory_equal(x.trns, y.trns, sizeof(x.trns));
	assert_int_equal(x.tcol.red, y.tcol.red);
	assert_int_equal(x.tcol.gray, y.tcol.gray);
	free(x.px);
	free(y.px);
}

/* Offset of the first chunk of this type (0: none); *end gets the offset after IEND. */
static size_t png_chunk(const uint8_t *d, size_t n, const char *type, size_t *end)
{
	size_t found = 0;
	for (size_t pos = 8; pos + 12 <= n;) {
		uint32_t len = get_be32(d + pos);
		if (!found && !memcmp(d + pos + 4, type, 4))
			found = pos;
		if (!memcmp(d + pos + 4, "IEND", 4)) {
			if (end)
				*end = pos + 12 + len;
			break;
		}
		pos += 12 + (size_t)len;
	}
	return found;
}

static void png_metadata_removed(void **state)
{
	(void)state;
	uint8_t icc[512];
	pngspec s = {.w = 37, .h = 23, .depth = 8, .ctype = PNG_COLOR_TYPE_RGB, .text = true,
		     .xmp = true, .time = true, .priv = true, .exif = 1, .phys = true,
		     .trail = "HIDDEN PAYLOAD AFTER IEND"};
	s.icclen = icc_make(icc, false);
	s.icc = icc;
	uint8_t *px = png_pixels(&s);
	sk_buf in;
	png_make(&s, px, &in);
	for (const char *c = "tEXtzTXtiTXteXIfiCCPtIMEprVt"; *c; c += 4) {
		char t[5] = {c[0], c[1], c[2], c[3], 0};
		if (!png_chunk(in.data, in.len, t, NULL))
			fail_msg("test input lacks %s", t);
	}
	tu_run r;
	run(&in, "a.png", NULL, 0, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	const sk_report *rep = &r.res.report;
	assert_removed(&r, "text-chunk");   /* tEXt Author, zTXt Description */
	assert_removed(&r, "comment");      /* tEXt Comment */
	assert_removed(&r, "xmp");          /* iTXt XML:com.adobe.xmp */
	assert_removed(&r, "exif");
	assert_removed(&r, "icc-profile");  /* Adobe RGB: not sRGB */
	assert_removed(&r, "metadata");     /* tIME */
	assert_removed(&r, "ancillary-data"); /* prVt */
	assert_removed(&r, "trailing-data");
	for (size_t i = 0; i < rep->n; i++)
		if (!strcmp(rep->v[i].what, "text-chunk"))
			assert_int_equal(rep->v[i].count, 2);
	size_t end = 0;
	for (const char *c = "tEXtzTXtiTXteXIfiCCPtIMEprVt"; *c; c += 4) {
		char t[5] = {c[0], c[1], c[2], c[3], 0};
		if (png_chunk(r.out.data, r.out.len, t, &end))
			fail_msg("output still has %s", t);
	}
	assert_true(png_chunk(r.out.data, r.out.len, "pHYs", &end) > 0); /* print size kept */
	assert_int_equal(end, r.out.len); /* nothing after IEND */
	assert_null(memmem(r.out.data, r.out.len, "Secret", 6));
	assert_null(memmem(r.out.data, r.out.len, "HIDDEN", 6));
	png_assert_same(in.data, in.len, r.out.data, r.out.len);
	tu_free(&r);
	sk_buf_free(&in);
	free(px);
}

static void png_16bit_interlaced_kept(void **state)
{
	(void)state;
	pngspec s = {.w = 33, .h = 17, .depth = 16, .ctype = PNG_COLOR_TYPE_RGB_ALPHA,
		     .interlace = PNG_INTERLACE_ADAM7, .gama = true};
	uint8_t *px = png_pixels(&s);
	sk_buf in;
	png_make(&s, px, &in);
	tu_run r;
	run(&in, "deep.png", NULL, 0, &r);
	assert_clean(&r);
	png_assert_same(in.data, in.len, r.out.data, r.out.len);
	assert_true(png_chunk(r.out.data, r.out.len, "gAMA", NULL) > 0);
	tu_free(&r);
	sk_buf_free(&in);
	free(px);
}

static void png_palette_trns_kept(void **state)
{
	(void)state;
	pngspec s = {.w = 19, .h = 11, .depth = 4, .ctype = PNG_COLOR_TYPE_PALETTE, .npal = 16,
		     .ntrns = 3, .bkgd = true, .phys = true};
	for (int i = 0; i < 16; i++)
		s.pal[i] = (png_color){(png_byte)(i * 16), (png_byte)(255 - i * 16), (png_byte)(i * 7)};
	s.trns[0] = 0, s.trns[1] = 128, s.trns[2] = 200;
	uint8_t *px = png_pixels(&s);
	sk_buf in;
	png_make(&s, px, &in);
	tu_run r;
	run(&in, "pal.png", NULL, 0, &r);
	assert_clean(&r);
	png_assert_same(in.data, in.len, r.out.data, r.out.len);
	assert_true(png_chunk(r.out.data, r.out.len, "tRNS", NULL) > 0);
	assert_true(png_chunk(r.out.data, r.out.len, "bKGD", NULL) > 0);
	tu_free(&r);
	sk_buf_free(&in);
	free(px);

	/* 1-bit grey with a colour-key transparency */
	pngspec g = {.w = 21, .h = 5, .depth = 1, .ctype = PNG_COLOR_TYPE_GRAY, .tcolor = true};
	g.tcol.gray = 1;
	px = png_pixels(&g);
	png_make(&g, px, &in);
	run(&in, "grey.png", NULL, 0, &r);
	assert_clean(&r);
	png_assert_same(in.data, in.len, r.out.data, r.out.len);
	tu_free(&r);
	sk_buf_free(&in);
	free(px);
}

static void png_srgb_icc(void **state)
{
	(void)state;
	uint8_t icc[512];
	pngspec s = {.w = 8, .h = 8, .depth = 8, .ctype = PNG_COLOR_TYPE_RGB};
	s.icclen = icc_make(icc, true);
	s.icc = icc;
	uint8_t *px = png_pixels(&s);
	sk_buf in;
	png_make(&s, px, &in);
	tu_run r;
	/* default profile: the sRGB profile is kept as its meaning (an sRGB chunk) */
	run(&in, "srgb.png", NULL, 0, &r);
	assert_clean(&r);
	assert_int_equal(png_chunk(r.out.data, r.out.len, "iCCP", NULL), 0);
	assert_true(png_chunk(r.out.data, r.out.len, "sRGB", NULL) > 0);
	png_assert_same(in.data, in.len, r.out.data, r.out.len);
	tu_free(&r);
	/* strict profile: removed */
	run(&in, "srgb.png", sk_profile_find("strict"), 0, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_removed(&r, "icc-profile");
	assert_int_equal(png_chunk(r.out.data, r.out.len, "iCCP", NULL), 0);
	assert_int_equal(png_chunk(r.out.data, r.out.len, "sRGB", NULL), 0);
	tu_free(&r);
	sk_buf_free(&in);

	/* the sRGB profile Little CMS writes (tests/data/image/srgb-lcms.icc) */
	sk_buf lcms;
	if (!read_srgb_lcms(&lcms)) {
		free(px);
		skip();
	}
	s.icc = lcms.data;
	s.icclen = lcms.len;
	png_make(&s, px, &in);
	run(&in, "lcms.png", NULL, 0, &r);
	assert_clean(&r);
	assert_true(png_chunk(r.out.data, r.out.len, "sRGB", NULL) > 0);
	tu_free(&r);
	sk_buf_free(&in);
	sk_buf_free(&lcms);
	free(px);
}

static void png_exif_orientation(void **state)
{
	(void)state;
	pngspec s = {.w = 6, .h = 4, .depth = 8, .ctype = PNG_COLOR_TYPE_GRAY, .exif = 6};
	uint8_t *px = png_pixels(&s);
	sk_buf in;
	png_make(&s, px, &in);
	tu_run r;
	run(&in, "rot.png", NULL, 0, &r);
	assert_removed(&r, "exif");
	size_t at = png_chunk(r.out.data, r.out.len, "eXIf", NULL);
	assert_true(at > 0);
	size_t len = get_be32(r.out.data + at), entries = 0;
	assert_int_equal(tiff_orientation(r.out.data + at + 8, len, &entries), 6);
	assert_int_equal(entries, 1); /* only the orientation: Make is gone */
	assert_null(memmem(r.out.data, r.out.len, "Cam", 3));
	tu_free(&r);
	sk_buf_free(&in);
	free(px);
}

static void png_clean(void **state)
{
	(void)state;
	pngspec s = {.w = 40, .h = 30, .depth = 8, .ctype = PNG_COLOR_TYPE_RGB};
	uint8_t *px = png_pixels(&s);
	sk_buf in;
	png_make(&s, px, &in);
	tu_run r;
	run(&in, "clean.png", NULL, 0, &r);
	assert_clean(&r);
	assert_string_equal(r.res.type.code, "png");
	png_assert_same(in.data, in.len, r.out.data, r.out.len);
	tu_free(&r);
	sk_buf_free(&in);
	free(px);
}

static uint32_t t_crc(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
	}
	return c ^ 0xffffffffu;
}

/* A PNG of any claimed size: IHDR, one IDAT holding a few zlib bytes, IEND. */
static void png_claim(uint32_t w, uint32_t h, sk_buf *out)
{
	sk_buf_init(out, 0);
	sk_buf_add(out, "\x89PNG\r\n\x1a\n", 8);
	uint8_t ihdr[25] = {0, 0, 0, 13, 'I', 'H', 'D', 'R'};
	put_be32(ihdr + 8, w);
	put_be32(ihdr + 12, h);
	ihdr[16] = 8, ihdr[17] = 2;
	put_be32(ihdr + 21, t_crc(ihdr + 4, 17));
	sk_buf_add(out, ihdr, 25);
	/* zlib stream of four zero bytes (a start: the bomb is refused at IHDR anyway) */
	uint8_t idat[24] = {0, 0, 0, 12, 'I', 'D', 'A', 'T', 0x78, 0x9c, 0x63, 0x60, 0x60, 0x60,
			    0x00, 0x00, 0x00, 0x04, 0x00, 0x01};
	put_be32(idat + 20, t_crc(idat + 4, 16));
	sk_buf_add(out, idat, sizeof(idat));
	uint8_t iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D'};
	put_be32(iend + 8, t_crc(iend + 4, 4));
	sk_buf_add(out, iend, 12);
}

static void png_bomb_child(void)
{
	sk_buf b;
	png_claim(100000, 100000, &b);
	sk_reason r = process_reason(b.data, b.len, "bomb.png");
	sk_buf_free(&b);
	if (r != SK_REASON_LIMIT_PIXELS)
		_exit(1);
}

static void png_pixel_bomb(void **state)
{
	(void)state;
	sk_buf b;
	png_claim(100000, 100000, &b);
	assert_true(b.len < 100);
	tu_run r;
	run(&b, "bomb.png", NULL, 0, &r);
	assert_verdict(&r, SK_VERDICT_BLOCKED);
	assert_reason(&r, SK_REASON_LIMIT_PIXELS);
	tu_free(&r);
	sk_buf_free(&b);
	in_small_address_space(png_bomb_child);

	/* the limit is exact: w*h == max passes, one pixel more is blocked */
	pngspec s = {.w = 37, .h = 23, .depth = 8, .ctype = PNG_COLOR_TYPE_RGB};
	uint8_t *px = png_pixels(&s);
	png_make(&s, px, &b);
	run(&b, "edge.png", NULL, 37 * 23, &r);
	assert_clean(&r);
	tu_free(&r);
	run(&b, "edge.png", NULL, 37 * 23 - 1, &r);
	assert_reason(&r, SK_REASON_LIMIT_PIXELS);
	tu_free(&r);
	sk_buf_free(&b);
	free(px);
}

static void png_expand_limit(void **state)
{
	(void)state;
	pngspec s = {.w = 64, .h = 64, .depth = 16, .ctype = PNG_COLOR_TYPE_RGB_ALPHA};
	uint8_t *px = png_pixels(&s);
	sk_buf in;
	png_make(&s, px, &in);
	sk_options o;
	sk_options_default(&o);
	o.budget.max_expanded = 64 * 64 * 8 - 1; /* one byte less than the decoded rows */
	tu_run r;
	tu_process(in.data, in.len, "big.png", &o, &r);
	assert_reason(&r, SK_REASON_LIMIT_SIZE);
	tu_free(&r);
	o.budget.max_expanded = 64 * 64 * 8;
	tu_process(in.data, in.len, "big.png", &o, &r);
	assert_clean(&r);
	tu_free(&r);
	sk_buf_free(&in);
	free(px);
}

static void png_output_limit(void **state)
{
	(void)state;
	pngspec s = {.w = 64, .h = 64, .depth = 8, .ctype = PNG_COLOR_TYPE_RGB};
	uint8_t *px = png_pixels(&s); /* random: the rebuilt file is > 12 KiB */
	sk_buf in;
	png_make(&s, px, &in);
	sk_options o;
	sk_options_default(&o);
	sk_buf out;
	sk_buf_init(&out, 4096);
	sk_item item = {.name = "o.png"};
	sk_input_mem(&item.input, in.data, in.len);
	sk_output so;
	sk_output_buf(&so, &out);
	sk_result res;
	sk_error err;
	assert_int_equal(sk_process(&item, &o, &so, &res, &err), 0);
	assert_int_equal(res.report.verdict, SK_VERDICT_BLOCKED);
	assert_int_equal(res.report.reason, SK_REASON_LIMIT_SIZE);
	sk_result_free(&res);
	sk_buf_free(&out);
	sk_buf_free(&in);
	free(px);
}

static void png_malformed(void **state)
{
	(void)state;
	pngspec s = {.w = 50, .h = 40, .depth = 8, .ctype = PNG_COLOR_TYPE_RGB, .text = true};
	uint8_t *px = png_pixels(&s);
	sk_buf in;
	png_make(&s, px, &in);
	tu_run r;
	/* truncated in the middle of IDAT */
	sk_buf cut = {0};
	sk_buf_init(&cut, 0);
	sk_buf_add(&cut, in.data, in.len / 2);
	run(&cut, "cut.png", NULL, 0, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	/* everything but IEND */
	sk_buf_reset(&cut);
	sk_buf_add(&cut, in.data, in.len - 12);
	run(&cut, "noend.png", NULL, 0, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	sk_buf_free(&cut);
	/* a flipped byte inside IDAT (the deflate data or its CRC fails) */
	size_t idat = png_chunk(in.data, in.len, "IDAT", NULL);
	assert_true(idat > 0);
	in.data[idat + 8 + 5] ^= 0x40;
	run(&in, "data.png", NULL, 0, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	in.data[idat + 8 + 5] ^= 0x40;
	/* a wrong CRC of a critical chunk (IDAT), the data intact */
	size_t crc_at = idat + 8 + get_be32(in.data + idat);
	in.data[crc_at] ^= 0x01;
	run(&in, "crc.png", NULL, 0, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	assert_non_null(strstr(r.res.report.reason_detail, "CRC"));
	tu_free(&r);
	in.data[crc_at] ^= 0x01;
	/* a bad CRC in an ancillary chunk (tEXt, dropped anyway) does not matter */
	size_t text = png_chunk(in.data, in.len, "tEXt", NULL);
	in.data[text + 9] ^= 0x01;
	run(&in, "anc.png", NULL, 0, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	tu_free(&r);
	/* IHDR not first */
	sk_buf bad;
	sk_buf_init(&bad, 0);
	sk_buf_add(&bad, in.data, 8);
	sk_buf_add(&bad, in.data + text, 12 + get_be32(in.data + text));
	sk_buf_add(&bad, in.data + 8, in.len - 8);
	run(&bad, "order.png", NULL, 0, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	sk_buf_free(&bad);
	sk_buf_free(&in);
	free(px);
}

/* ------------------------------------------------------------------ JPEG */

typedef struct jmarker {
	int code;
	const uint8_t *data;
	size_t len;
} jmarker;

typedef struct jpgspec {
	int w, h, comps;
	J_COLOR_SPACE cs;
	bool progressive, arith, no_jfif, optimize;
	bool flat_last; /* the last component constant (with JCS_YCbCr: Cr without detail) */
	jmarker mk[8];
	int nmk;
	const char *trail;
	const jpeg_scan_info *scans;
	int nscans;
} jpgspec;

static void t_jpg_error(j_common_ptr c)
{
	char m[JMSG_LENGTH_MAX];
	(*c->err->format_message)(c, m);
	fail_msg("libjpeg (test): %s", m);
}

static void t_jpg_silent(j_common_ptr c)
{
	(void)c;
}

static void jpg_make(const jpgspec *s, sk_buf *out)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr e;
	c.err = jpeg_std_error(&e);
	e.error_exit = t_jpg_error;
	e.output_message = t_jpg_silent;
	jpeg_create_compress(&c);
	unsigned char *buf = NULL;
	unsigned long size = 0;
	jpeg_mem_dest(&c, &buf, &size);
	c.image_width = (JDIMENSION)s->w;
	c.image_height = (JDIMENSION)s->h;
	c.input_components = s->comps;
	c.in_color_space = s->cs;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 85, TRUE);
	if (s->progressive)
		jpeg_simple_progression(&c);
	if (s->scans) {
		c.scan_info = s->scans;
		c.num_scans = s->nscans;
	}
	c.arith_code = s->arith;
	c.optimize_coding = s->optimize;
	if (s->no_jfif)
		c.write_JFIF_header = FALSE;
	jpeg_start_compress(&c, TRUE);
	for (int i = 0; i < s->nmk; i++)
		jpeg_write_marker(&c, s->mk[i].code, s->mk[i].data, (unsigned)s->mk[i].len);
	JSAMPLE *row = malloc((size_t)s->w * (size_t)s->comps);
	for (int y = 0; y < s->h; y++) {
		for (int x = 0; x < s->w; x++)
			for (int k = 0; k < s->comps; k++)
				row[x * s->comps + k] = s->flat_last && k == s->comps - 1
								? 128
								: (JSAMPLE)((x * 5 + y * 3 + k * 60) + (rnd() & 15));
		JSAMPROW rp = row;
		jpeg_write_scanlines(&c, &rp, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	free(row);
	sk_buf_init(out, 0);
	sk_buf_add(out, buf, size);
	free(buf);
	if (s->trail)
		sk_buf_adds(out, s->trail);
}

static void jpg_open(struct jpeg_decompress_struct *d, struct jpeg_error_mgr *e, const uint8_t *p,
		     size_t n)
{
	d->err = jpeg_std_error(e);
	e->error_exit = t_jpg_error;
	e->output_message = t_jpg_silent;
	jpeg_create_decompress(d);
	jpeg_mem_src(d, p, (unsigned long)n);
	assert_int_equal(jpeg_read_header(d, TRUE), JPEG_HEADER_OK);
}

/* The two streams hold the same quantisation tables and DCT coefficients. */
static void jpg_assert_same_coefficients(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	struct jpeg_decompress_struct x, y;
	struct jpeg_error_mgr ex, ey;
	jpg_open(&x, &ex, a, an);
	jpg_open(&y, &ey, b, bn);
	jvirt_barray_ptr *ca = jpeg_read_coefficients(&x), *cb = jpeg_read_coefficients(&y);
	assert_int_equal(x.image_width, y.image_width);
	assert_int_equal(x.image_height, y.image_height);
	assert_int_equal(x.num_components, y.num_components);
	assert_int_equal(x.jpeg_color_space, y.jpeg_color_space);
	for (int ci = 0; ci < x.num_components; ci++) {
		jpeg_component_info *p = &x.comp_info[ci], *q = &y.comp_info[ci];
		assert_int_equal(p->h_samp_factor, q->h_samp_factor);
		assert_int_equal(p->v_samp_factor, q->v_samp_factor);
		assert_memory_equal(p->quant_table->quantval, q->quant_table->quantval,
				    sizeof(p->quant_table->quantval));
		assert_int_equal(p->width_in_blocks, q->width_in_blocks);
		for (JDIMENSION row = 0; row < p->height_in_blocks; row++) {
			JBLOCKARRAY ra = (*x.mem->access_virt_barray)((j_common_ptr)&x, ca[ci], row, 1, FALSE);
			JBLOCKARRAY rb = (*y.mem->access_virt_barray)((j_common_ptr)&y, cb[ci], row, 1, FALSE);
			assert_memory_equal(ra[0], rb[0], sizeof(JBLOCK) * p->width_in_blocks);
		}
	}
	jpeg_destroy_decompress(&x);
	jpeg_destroy_decompress(&y);
}

static uint8_t *jpg_decode(const uint8_t *p, size_t n, size_t *len)
{
	struct jpeg_decompress_struct d;
	struct jpeg_error_mgr e;
	jpg_open(&d, &e, p, n);
	jpeg_start_decompress(&d);
	size_t stride = (size_t)d.output_width * (size_t)d.output_components;
	uint8_t *px = malloc(stride * d.output_height);
	while (d.output_scanline < d.output_height) {
		JSAMPROW row = px + stride * d.output_scanline;
		jpeg_read_scanlines(&d, &row, 1);
	}
	*len = stride * d.output_height;
	jpeg_finish_decompress(&d);
	jpeg_destroy_decompress(&d);
	return px;
}

static void jpg_assert_same(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	jpg_assert_same_coefficients(a, an, b, bn);
	size_t la, lb;
	uint8_t *pa = jpg_decode(a, an, &la), *pb = jpg_decode(b, bn, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(pa, pb, la);
	free(pa);
	free(pb);
}

/* The markers of a stream in order (segments skipped by length, entropy data scanned);
 * *end gets the offset after EOI. */
static int jpg_markers(const uint8_t *d, size_t n, int *codes, int max, size_t *end)
{
	int k = 0;
	size_t i = 2;
	codes[k++] = 0xd8;
	*end = 0;
	while (i + 1 < n && k < max) {
		if (d[i] != 0xff) {
			i++; /* entropy-coded data */
			continue;
		}
		int m = d[i + 1];
		if (m == 0 || m == 0xff || (m >= 0xd0 && m <= 0xd7)) {
			i += 2;
			continue;
		}
		codes[k++] = m;
		if (m == 0xd9) {
			*end = i + 2;
			break;
		}
		size_t len = (size_t)(d[i + 2] << 8 | d[i + 3]);
		i += 2 + len;
	}
	return k;
}

static bool jpg_has_marker(const uint8_t *d, size_t n, int code)
{
	int codes[256];
	size_t end;
	int k = jpg_markers(d, n, codes, 256, &end);
	for (int i = 0; i < k; i++)
		if (codes[i] == code)
			return true;
	return false;
}

/* Payload of the first segment with this marker and prefix. */
static const uint8_t *jpg_segment(const uint8_t *d, size_t n, int code, const char *prefix,
				  size_t *len)
{
	for (size_t i = 2; i + 4 <= n;) {
		if (d[i] != 0xff)
			return NULL;
		int m = d[i + 1];
		size_t l = (size_t)(d[i + 2] << 8 | d[i + 3]);
		if (m == 0xda)
			return NULL;
		if (m == code && l >= 2 + strlen(prefix) && !memcmp(d + i + 4, prefix, strlen(prefix))) {
			*len = l - 2;
			return d + i + 4;
		}
		i += 2 + l;
	}
	return NULL;
}

static void jpg_metadata_removed(void **state)
{
	(void)state;
	uint8_t exif[80] = "Exif\0";
	size_t exn = 6 + exif_tiff(exif + 6, 1);
	static const char xmp[] = "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>secret-xmp</x:xmpmeta>";
	static const char com[] = "secret comment";
	static const char ps[] = "Photoshop 3.0\0" "8BIM secret-iptc";
	static const char other[] = "Ducky secret-app12";
	uint8_t icc[600] = "ICC_PROFILE";
	icc[12] = 1, icc[13] = 1;
	size_t iccn = 14 + icc_make(icc + 14, false);
	jpgspec s = {.w = 64, .h = 48, .comps = 3, .cs = JCS_RGB,
		     .mk = {{JPEG_APP0 + 1, exif, exn},
			    {JPEG_APP0 + 1, (const uint8_t *)xmp, sizeof(xmp) - 1},
			    {JPEG_COM, (const uint8_t *)com, sizeof(com) - 1},
			    {JPEG_APP0 + 2, icc, iccn},
			    {JPEG_APP0 + 13, (const uint8_t *)ps, sizeof(ps) - 1},
			    {JPEG_APP0 + 12, (const uint8_t *)other, sizeof(other) - 1}},
		     .nmk = 6,
		     .trail = "secret-trailer"};
	sk_buf in;
	jpg_make(&s, &in);
	tu_run r;
	run(&in, "photo.jpg", NULL, 0, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_removed(&r, "exif");
	assert_removed(&r, "xmp");
	assert_removed(&r, "comment");
	assert_removed(&r, "icc-profile");
	assert_removed(&r, "metadata");
	assert_removed(&r, "ancillary-data");
	assert_removed(&r, "trailing-data");
	int codes[64];
	size_t end;
	int k = jpg_markers(r.out.data, r.out.len, codes, 64, &end);
	for (int i = 0; i < k; i++) {
		int m = codes[i];
		bool ok = m == 0xd8 || m == 0xe0 || m == 0xdb || m == 0xc0 || m == 0xc1 ||
			  m == 0xc4 || m == 0xda || m == 0xd9 || m == 0xee;
		if (!ok)
			fail_msg("unexpected marker 0x%02x in the output", m);
	}
	assert_int_equal(end, r.out.len);
	assert_null(memmem(r.out.data, r.out.len, "secret", 6));
	jpg_assert_same(in.data, in.len, r.out.data, r.out.len);
	tu_free(&r);
	sk_buf_free(&in);
}

static void jpg_orientation_kept(void **state)
{
	(void)state;
	uint8_t exif[80] = "Exif\0";
	size_t exn = 6 + exif_tiff(exif + 6, 6);
	jpgspec s = {.w = 40, .h = 24, .comps = 3, .cs = JCS_RGB, .mk = {{JPEG_APP0 + 1, exif, exn}},
		     .nmk = 1};
	sk_buf in;
	jpg_make(&s, &in);
	tu_run r;
	run(&in, "rot.jpg", NULL, 0, &r);
	assert_removed(&r, "exif");
	size_t len = 0, entries = 0;
	const uint8_t *seg = jpg_segment(r.out.data, r.out.len, 0xe1, "Exif", &len);
	assert_non_null(seg);
	assert_int_equal(tiff_orientation(seg + 6, len - 6, &entries), 6);
	assert_int_equal(entries, 1);
	assert_null(memmem(r.out.data, r.out.len, "Cam", 3));
	jpg_assert_same(in.data, in.len, r.out.data, r.out.len);
	tu_free(&r);
	sk_buf_free(&in);
}

static void jpg_kinds(void **state)
{
	(void)state;
	const struct {
		jpgspec s;
		int sof;
	} cases[] = {
		/* progressive input: sequential output, same coefficients */
		{{.w = 50, .h = 30, .comps = 3, .cs = JCS_RGB, .progressive = true}, 0xc0},
		{{.w = 33, .h = 21, .comps = 1, .cs = JCS_GRAYSCALE}, 0xc0},
		{{.w = 24, .h = 16, .comps = 4, .cs = JCS_CMYK}, 0xc0},
		{{.w = 30, .h = 20, .comps = 3, .cs = JCS_RGB, .arith = true}, 0xc0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		sk_buf in;
		jpg_make(&cases[i].s, &in);
		tu_run r;
		run(&in, "k.jpg", NULL, 0, &r);
		assert_clean(&r);
		assert_true(jpg_has_marker(r.out.data, r.out.len, cases[i].sof));
		assert_false(jpg_has_marker(r.out.data, r.out.len, 0xc2)); /* not progressive */
		assert_false(jpg_has_marker(r.out.data, r.out.len, 0xc9)); /* not arithmetic */
		if (cases[i].s.cs == JCS_CMYK) /* the Adobe marker tells viewers it is CMYK */
			assert_true(jpg_has_marker(r.out.data, r.out.len, 0xee));
		jpg_assert_same(in.data, in.len, r.out.data, r.out.len);
		tu_free(&r);
		sk_buf_free(&in);
	}
}

/* Three single-component scans, each with its own optimised tables: the chroma slot is
 * redefined for Cr (flat: hardly any AC symbols) after Cb used it, so the tables the
 * input ends with do not cover Cb. (Reusing them made libjpeg-turbo write a corrupt file
 * without an error.) The output must hold the same coefficients. */
static void jpg_tables_redefined(void **state)
{
	(void)state;
	static const jpeg_scan_info scans[3] = {
		{1, {0}, 0, 63, 0, 0}, {1, {1}, 0, 63, 0, 0}, {1, {2}, 0, 63, 0, 0}};
	jpgspec s = {.w = 48, .h = 32, .comps = 3, .cs = JCS_YCbCr, .optimize = true,
		     .flat_last = true, .scans = scans, .nscans = 3};
	sk_buf in;
	jpg_make(&s, &in);
	int dht = 0;
	for (size_t i = 0; i + 1 < in.len; i++)
		dht += in.data[i] == 0xff && in.data[i + 1] == 0xc4;
	assert_true(dht >= 3); /* a table definition before each scan */
	tu_run r;
	run(&in, "scans.jpg", NULL, 0, &r);
	assert_clean(&r);
	jpg_assert_same(in.data, in.len, r.out.data, r.out.len);
	tu_free(&r);
	sk_buf_free(&in);
}

static void jpg_srgb_icc(void **state)
{
	(void)state;
	/* an sRGB profile split over two APP2 segments */
	uint8_t prof[512], a[400] = "ICC_PROFILE", b[400] = "ICC_PROFILE";
	size_t pn = icc_make(prof, true), half = pn / 2;
	a[12] = 1, a[13] = 2;
	b[12] = 2, b[13] = 2;
	memcpy(a + 14, prof, half);
	memcpy(b + 14, prof + half, pn - half);
	jpgspec s = {.w = 16, .h = 16, .comps = 3, .cs = JCS_RGB,
		     .mk = {{JPEG_APP0 + 2, b, 14 + pn - half}, {JPEG_APP0 + 2, a, 14 + half}},
		     .nmk = 2};
	sk_buf in;
	jpg_make(&s, &in);
	tu_run r;
	run(&in, "srgb.jpg", NULL, 0, &r);
	assert_clean(&r); /* an untagged JPEG is sRGB: nothing the viewer sees changed */
	assert_false(jpg_has_marker(r.out.data, r.out.len, 0xe2));
	tu_free(&r);
	run(&in, "srgb.jpg", sk_profile_find("strict"), 0, &r);
	assert_removed(&r, "icc-profile");
	tu_free(&r);
	sk_buf_free(&in);
	/* one segment missing: not a whole profile */
	s.nmk = 1;
	jpg_make(&s, &in);
	run(&in, "half.jpg", NULL, 0, &r);
	assert_removed(&r, "icc-profile");
	tu_free(&r);
	sk_buf_free(&in);
}

static void jpg_clean(void **state)
{
	(void)state;
	jpgspec s = {.w = 64, .h = 64, .comps = 3, .cs = JCS_RGB};
	sk_buf in;
	jpg_make(&s, &in);
	tu_run r;
	run(&in, "clean.jpg", NULL, 0, &r);
	assert_clean(&r);
	jpg_assert_same(in.data, in.len, r.out.data, r.out.len);
	tu_free(&r);
	sk_buf_free(&in);
}

static void jpg_malformed(void **state)
{
	(void)state;
	jpgspec s = {.w = 64, .h = 64, .comps = 3, .cs = JCS_RGB};
	sk_buf in;
	jpg_make(&s, &in);
	tu_run r;
	sk_buf cut;
	sk_buf_init(&cut, 0);
	/* cut in the middle of the scan */
	sk_buf_add(&cut, in.data, in.len * 2 / 3);
	run(&cut, "cut.jpg", NULL, 0, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	/* cut in the headers */
	cut.len = 100;
	run(&cut, "head.jpg", NULL, 0, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	/* only EOI missing */
	cut.len = 0;
	sk_buf_add(&cut, in.data, in.len - 2);
	run(&cut, "noeoi.jpg", NULL, 0, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	sk_buf_free(&cut);
	/* garbage in the entropy-coded data */
	int codes[32];
	size_t end;
	jpg_markers(in.data, in.len, codes, 32, &end);
	size_t sos = 0;
	for (size_t i = 2; i + 1 < in.len; i++)
		if (in.data[i] == 0xff && in.data[i + 1] == 0xda) {
			sos = i;
			break;
		}
	assert_true(sos > 0);
	for (size_t i = sos + 20; i < sos + 60; i++)
		in.data[i] = 0xff;
	run(&in, "bad.jpg", NULL, 0, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	sk_buf_free(&in);
}

/* SOF0 claiming 65000x65000, then a tiny scan. */
static void jpg_claim(sk_buf *b)
{
	jpgspec s = {.w = 8, .h = 8, .comps = 1, .cs = JCS_GRAYSCALE};
	jpg_make(&s, b);
	for (size_t i = 2; i + 9 < b->len; i++)
		if (b->data[i] == 0xff && b->data[i + 1] == 0xc0) {
			b->data[i + 5] = 0xfd, b->data[i + 6] = 0xe8; /* height 65000 */
			b->data[i + 7] = 0xfd, b->data[i + 8] = 0xe8; /* width 65000 */
			return;
		}
	fail_msg("no SOF0");
}

static void jpg_bomb_child(void)
{
	sk_buf b;
	jpg_claim(&b);
	sk_reason r = process_reason(b.data, b.len, "bomb.jpg");
	sk_buf_free(&b);
	if (r != SK_REASON_LIMIT_PIXELS)
		_exit(1);
}

static void jpg_pixel_bomb(void **state)
{
	(void)state;
	sk_buf b;
	jpg_claim(&b);
	tu_run r;
	run(&b, "bomb.jpg", NULL, 0, &r);
	assert_reason(&r, SK_REASON_LIMIT_PIXELS);
	tu_free(&r);
	sk_buf_free(&b);
	in_small_address_space(jpg_bomb_child);
}

/* A valid progression of more than 500 scans (every coefficient in its own band, each
 * refined bit by bit) is refused: decoding cost grows with the scan count. */
static void jpg_scan_limit(void **state)
{
	(void)state;
	static jpeg_scan_info scans[1000];
	int n = 0;
	for (int al = 10; al >= 0; al--)
		scans[n++] = (jpeg_scan_info){1, {0}, 0, 0, al == 10 ? 0 : al + 1, al};
	for (int k = 1; k < 64; k++)
		for (int al = 10; al >= 0; al--)
			scans[n++] = (jpeg_scan_info){1, {0}, k, k, al == 10 ? 0 : al + 1, al};
	assert_true(n > 500);
	jpgspec s = {.w = 16, .h = 16, .comps = 1, .cs = JCS_GRAYSCALE, .scans = scans, .nscans = n};
	sk_buf in;
	jpg_make(&s, &in);
	tu_run r;
	run(&in, "scans.jpg", NULL, 0, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	assert_non_null(strstr(r.res.report.reason_detail, "scans"));
	tu_free(&r);
	sk_buf_free(&in);
	/* 100 scans are fine */
	s.nscans = 100;
	jpg_make(&s, &in);
	run(&in, "scans.jpg", NULL, 0, &r);
	assert_clean(&r);
	tu_free(&r);
	sk_buf_free(&in);
}

/* ------------------------------------------------------------------ GIF */

static int t_gif_write(GifFileType *g, const GifByteType *b, int n)
{
	return sk_buf_add(g->UserData, b, (size_t)n) == 0 ? n : 0;
}

struct t_gif_rd {
	const uint8_t *d;
	size_t n, pos;
};

static int t_gif_read(GifFileType *g, GifByteType *b, int n)
{
	struct t_gif_rd *r = g->UserData;
	size_t k = (size_t)n < r->n - r->pos ? (size_t)n : r->n - r->pos;
	memcpy(b, r->d + r->pos, k);
	r->pos += k;
	return (int)k;
}

static GifFileType *gif_slurp(const uint8_t *d, size_t n, struct t_gif_rd *rd)
{
	*rd = (struct t_gif_rd){d, n, 0};
	int e;
	GifFileType *g = DGifOpen(rd, t_gif_read, &e);
	assert_non_null(g);
	if (DGifSlurp(g) != GIF_OK)
		fail_msg("DGifSlurp: %s", GifErrorString(g->Error));
	return g;
}

static void put_app(GifFileType *g, const char *id, const void *data, int len)
{
	EGifPutExtensionLeader(g, APPLICATION_EXT_FUNC_CODE);
	EGifPutExtensionBlock(g, 11, id);
	EGifPutExtensionBlock(g, len, data);
	EGifPutExtensionTrailer(g);
}

/* An animation: 3 frames (the second with a local palette, the third interlaced and
 * smaller), delays 10/20/30, transparency, loop forever, plus a comment, XMP, an unknown
 * application extension, a plain-text extension and trailing bytes. extras=false gives
 * the same animation without anything to remove. */
static void gif_make(sk_buf *out, bool extras, int frames, int w, int h)
{
	sk_buf_init(out, 0);
	int e;
	GifFileType *g = EGifOpen(out, t_gif_write, &e);
	assert_non_null(g);
	EGifSetGifVersion(g, true);
	GifColorType gc[16], lc[4];
	for (int i = 0; i < 16; i++)
		gc[i] = (GifColorType){(GifByteType)(i * 16), (GifByteType)(i * 8), (GifByteType)(255 - i)};
	for (int i = 0; i < 4; i++)
		lc[i] = (GifColorType){(GifByteType)(i * 60), 200, 10};
	ColorMapObject *gm = GifMakeMapObject(16, gc), *lm = GifMakeMapObject(4, lc);
	assert_int_equal(EGifPutScreenDesc(g, w, h, 8, 3, gm), GIF_OK);
	uint8_t loop[3] = {1, 0, 0};
	put_app(g, "NETSCAPE2.0", loop, 3);
	if (extras) {
		EGifPutComment(g, "secret gif comment");
		put_app(g, "XMP DataXMP", "<x:xmpmeta>secret</x:xmpmeta>", 29);
		put_app(g, "MGK8BIM0000", "secret-iptc", 11);
	}
	for (int f = 0; f < frames; f++) {
		GraphicsControlBlock gcb = {.DisposalMode = f % 3, .UserInputFlag = false,
					    .DelayTime = 10 * (f % 3 + 1),
					    .TransparentColor = f == 0 ? 5 : NO_TRANSPARENT_COLOR};
		GifByteType ext[4];
		EGifGCBToExtension(&gcb, ext);
		EGifPutExtension(g, GRAPHICS_EXT_FUNC_CODE, 4, ext);
		bool local = f % 3 == 1, inter = f % 3 == 2;
		int fw = inter ? w / 2 : w, fh = inter ? h / 2 : h;
		if (!local && g->Image.ColorMap) { /* giflib 5.2 would leak it */
			GifFreeMapObject(g->Image.ColorMap);
			g->Image.ColorMap = NULL;
		}
		assert_int_equal(EGifPutImageDesc(g, inter ? 1 : 0, inter ? 2 : 0, fw, fh, inter,
						  local ? lm : NULL), GIF_OK);
		GifPixelType line[512];
		for (int y = 0; y < fh; y++) {
			for (int x = 0; x < fw; x++)
				line[x] = (GifPixelType)((x + y + f) % (local ? 4 : 16));
			assert_int_equal(EGifPutLine(g, line, fw), GIF_OK);
		}
	}
	if (extras) {
		static const uint8_t pt[12] = {0};
		EGifPutExtension(g, PLAINTEXT_EXT_FUNC_CODE, 12, pt);
	}
	assert_int_equal(EGifCloseFile(g, &e), GIF_OK);
	GifFreeMapObject(gm);
	GifFreeMapObject(lm);
	if (extras)
		sk_buf_adds(out, "secret-trailing");
}

static void gif_assert_same(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	struct t_gif_rd ra, rb;
	GifFileType *x = gif_slurp(a, an, &ra), *y = gif_slurp(b, bn, &rb);
	assert_int_equal(x->SWidth, y->SWidth);
	assert_int_equal(x->SHeight, y->SHeight);
	assert_int_equal(x->SBackGroundColor, y->SBackGroundColor);
	assert_int_equal(x->SColorMap->ColorCount, y->SColorMap->ColorCount);
	assert_memory_equal(x->SColorMap->Colors, y->SColorMap->Colors,
			    sizeof(GifColorType) * (size_t)x->SColorMap->ColorCount);
	assert_int_equal(x->ImageCount, y->ImageCount);
	for (int i = 0; i < x->ImageCount; i++) {
		SavedImage *p = &x->SavedImages[i], *q = &y->SavedImages[i];
		assert_int_equal(p->ImageDesc.Left, q->ImageDesc.Left);
		assert_int_equal(p->ImageDesc.Top, q->ImageDesc.Top);
		assert_int_equal(p->ImageDesc.Width, q->ImageDesc.Width);
		assert_int_equal(p->ImageDesc.Height, q->ImageDesc.Height);
		assert_int_equal(p->ImageDesc.Interlace, q->ImageDesc.Interlace);
		assert_int_equal(!p->ImageDesc.ColorMap, !q->ImageDesc.ColorMap);
		if (p->ImageDesc.ColorMap)
			assert_memory_equal(p->ImageDesc.ColorMap->Colors, q->ImageDesc.ColorMap->Colors,
					    sizeof(GifColorType) * (size_t)p->ImageDesc.ColorMap->ColorCount);
		assert_memory_equal(p->RasterBits, q->RasterBits,
				    (size_t)p->ImageDesc.Width * (size_t)p->ImageDesc.Height);
		GraphicsControlBlock gp = {0}, gq = {0};
		assert_int_equal(DGifSavedExtensionToGCB(x, i, &gp), DGifSavedExtensionToGCB(y, i, &gq));
		assert_int_equal(gp.DelayTime, gq.DelayTime);
		assert_int_equal(gp.DisposalMode, gq.DisposalMode);
		assert_int_equal(gp.TransparentColor, gq.TransparentColor);
	}
	int e;
	DGifCloseFile(x, &e);
	DGifCloseFile(y, &e);
}

/* Extension blocks of the output by function: comments, application ids. */
static int gif_count_ext(const uint8_t *d, size_t n, int fn, const char *app)
{
	struct t_gif_rd rd;
	GifFileType *g = gif_slurp(d, n, &rd);
	int count = 0;
	for (int i = 0; i <= g->ImageCount; i++) {
		ExtensionBlock *eb = i < g->ImageCount ? g->SavedImages[i].ExtensionBlocks : g->ExtensionBlocks;
		int ne = i < g->ImageCount ? g->SavedImages[i].ExtensionBlockCount : g->ExtensionBlockCount;
		for (int k = 0; k < ne; k++)
			if (eb[k].Function == fn &&
			    (!app || (eb[k].ByteCount == 11 && !memcmp(eb[k].Bytes, app, 11))))
				count++;
	}
	int e;
	DGifCloseFile(g, &e);
	return count;
}

static void gif_animation(void **state)
{
	(void)state;
	sk_buf in;
	gif_make(&in, true, 3, 40, 30);
	tu_run r;
	run(&in, "anim.gif", NULL, 0, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_removed(&r, "comment");
	assert_removed(&r, "xmp");
	assert_removed(&r, "ancillary-data");
	assert_removed(&r, "text-chunk");
	assert_removed(&r, "trailing-data");
	assert_null(memmem(r.out.data, r.out.len, "secret", 6));
	assert_int_equal(r.out.data[r.out.len - 1], ';');
	assert_int_equal(gif_count_ext(r.out.data, r.out.len, COMMENT_EXT_FUNC_CODE, NULL), 0);
	assert_int_equal(gif_count_ext(r.out.data, r.out.len, APPLICATION_EXT_FUNC_CODE, "NETSCAPE2.0"), 1);
	assert_int_equal(gif_count_ext(r.out.data, r.out.len, APPLICATION_EXT_FUNC_CODE, NULL), 1);
	assert_non_null(memmem(r.out.data, r.out.len, "NETSCAPE2.0\x03\x01\x00\x00", 15));
	gif_assert_same(in.data, in.len, r.out.data, r.out.len);
	tu_free(&r);
	sk_buf_free(&in);
}

static void gif_clean(void **state)
{
	(void)state;
	sk_buf in;
	gif_make(&in, false, 3, 40, 30);
	tu_run r;
	run(&in, "clean.gif", NULL, 0, &r);
	assert_clean(&r);
	gif_assert_same(in.data, in.len, r.out.data, r.out.len);
	tu_free(&r);
	sk_buf_free(&in);

	/* GIF87a, one frame, no extensions: stays 87a */
	sk_buf_init(&in, 0);
	int e;
	GifFileType *g = EGifOpen(&in, t_gif_write, &e);
	GifColorType c[2] = {{0, 0, 0}, {255, 255, 255}};
	ColorMapObject *m = GifMakeMapObject(2, c);
	EGifPutScreenDesc(g, 9, 9, 1, 0, m);
	EGifPutImageDesc(g, 0, 0, 9, 9, false, NULL);
	GifPixelType line[9] = {0, 1, 0, 1, 0, 1, 0, 1, 0};
	for (int y = 0; y < 9; y++)
		EGifPutLine(g, line, 9);
	EGifCloseFile(g, &e);
	GifFreeMapObject(m);
	assert_memory_equal(in.data, "GIF87a", 6);
	run(&in, "old.gif", NULL, 0, &r);
	assert_clean(&r);
	assert_memory_equal(r.out.data, "GIF87a", 6);
	gif_assert_same(in.data, in.len, r.out.data, r.out.len);
	tu_free(&r);
	sk_buf_free(&in);
}

/* Many frames: memory stays flat (giflib's per-frame records are released). */
static void gif_many_frames(void **state)
{
	(void)state;
	sk_buf in;
	gif_make(&in, false, 3000, 4, 4);
	tu_run r;
	run(&in, "many.gif", NULL, 0, &r);
	assert_clean(&r);
	gif_assert_same(in.data, in.len, r.out.data, r.out.len);
	tu_free(&r);
	/* the frames are charged to the pixel budget one by one: 3000 frames of 16 pixels
	 * (the interlaced third ones 4) plus the 16-pixel screen */
	run(&in, "many.gif", NULL, 2000 * 16 + 1000 * 4 + 16, &r);
	assert_clean(&r);
	tu_free(&r);
	run(&in, "many.gif", NULL, 2000 * 16 + 1000 * 4 + 15, &r);
	assert_reason(&r, SK_REASON_LIMIT_PIXELS);
	tu_free(&r);
	sk_buf_free(&in);
}

static void gif_bomb_screen_child(void)
{
	sk_buf in;
	gif_make(&in, false, 1, 8, 8);
	in.data[6] = in.data[7] = in.data[8] = in.data[9] = 0xff; /* 65535 x 65535 */
	sk_reason r = process_reason(in.data, in.len, "bomb.gif");
	sk_buf_free(&in);
	if (r != SK_REASON_LIMIT_PIXELS)
		_exit(1);
}

static void gif_bombs(void **state)
{
	(void)state;
	sk_buf in;
	gif_make(&in, false, 1, 8, 8);
	tu_run r;
	/* the logical screen */
	in.data[6] = in.data[7] = in.data[8] = in.data[9] = 0xff;
	run(&in, "screen.gif", NULL, 0, &r);
	assert_reason(&r, SK_REASON_LIMIT_PIXELS);
	tu_free(&r);
	in_small_address_space(gif_bomb_screen_child);
	in.data[6] = 8, in.data[7] = 0, in.data[8] = 8, in.data[9] = 0;
	/* a frame bigger than the budget in a small screen */
	uint8_t *desc = memchr(in.data + 13 + 48, 0x2c, in.len - 61);
	assert_non_null(desc);
	desc[5] = desc[6] = desc[7] = desc[8] = 0xff;
	run(&in, "frame.gif", NULL, 0, &r);
	assert_reason(&r, SK_REASON_LIMIT_PIXELS);
	tu_free(&r);
	sk_buf_free(&in);
}

static void gif_malformed(void **state)
{
	(void)state;
	sk_buf in;
	gif_make(&in, false, 3, 40, 30);
	tu_run r;
	size_t n = in.len;
	in.len = n / 2; /* cut in a frame */
	run(&in, "cut.gif", NULL, 0, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	in.len = n - 1; /* no trailer */
	run(&in, "notrailer.gif", NULL, 0, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	in.len = 20; /* cut in the global colour table */
	run(&in, "head.gif", NULL, 0, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	sk_buf_free(&in);
}

/* ------------------------------------------------------------------ BMP */

typedef struct bmpspec {
	uint32_t hsize; /* 12, 40, 108, 124 */
	int bpp;
	uint32_t comp;
	int32_t w, h; /* h < 0: top-down */
	uint32_t masks[4];
	int npal;
	const uint8_t (*pal)[4];
	const uint8_t *pixels; /* file-order rows, already padded, or RLE data */
	size_t npixels;
	size_t gap;         /* bytes between colour table and pixels */
	const char *trail;
	const uint8_t *icc; /* V5 embedded profile, placed after the pixels */
	size_t icclen;
} bmpspec;

static void bmp_make(const bmpspec *s, sk_buf *out)
{
	sk_buf_init(out, 0);
	size_t masks = (s->hsize == 40 && s->comp == 3) ? 12 : 0;
	size_t pal_entry = s->hsize == 12 ? 3 : 4;
	size_t off = 14 + s->hsize + masks + (size_t)s->npal * pal_entry + s->gap;
	size_t total = off + s->npixels + s->icclen;
	uint8_t *f = calloc(1, total);
	f[0] = 'B', f[1] = 'M';
	put_le32(f + 2, (uint32_t)total);
	put_le32(f + 10, (uint32_t)off);
	uint8_t *h = f + 14;
	put_le32(h, s->hsize);
	if (s->hsize == 12) {
		put_le16(h + 4, (uint16_t)s->w);
		put_le16(h + 6, (uint16_t)s->h);
		put_le16(h + 8, 1);
		put_le16(h + 10, (uint16_t)s->bpp);
	} else {
		put_le32(h + 4, (uint32_t)s->w);
		put_le32(h + 8, (uint32_t)s->h);
		put_le16(h + 12, 1);
		put_le16(h + 14, (uint16_t)s->bpp);
		put_le32(h + 16, s->comp);
		put_le32(h + 20, (uint32_t)s->npixels);
		put_le32(h + 24, 2835);
		put_le32(h + 28, 2835);
		put_le32(h + 32, (uint32_t)s->npal);
		if (s->hsize >= 108) {
			for (int i = 0; i < 4; i++)
				put_le32(h + 40 + 4 * i, s->masks[i]);
			put_le32(h + 56, s->icc ? 0x4d424544u : 0x73524742u);
		}
		if (s->hsize == 124 && s->icc) {
			put_le32(h + 112, (uint32_t)(off + s->npixels - 14));
			put_le32(h + 116, (uint32_t)s->icclen);
		}
	}
	uint8_t *p = f + 14 + s->hsize;
	for (size_t i = 0; i < masks / 4; i++, p += 4)
		put_le32(p, s->masks[i]);
	for (int i = 0; i < s->npal; i++, p += pal_entry)
		memcpy(p, s->pal[i], pal_entry);
	memset(p, 0x5a, s->gap);
	memcpy(f + off, s->pixels, s->npixels);
	if (s->icc)
		memcpy(f + off + s->npixels, s->icc, s->icclen);
	sk_buf_add(out, f, total);
	free(f);
	if (s->trail)
		sk_buf_adds(out, s->trail);
}

/* Reads an uncompressed BMP (any of the headers, 1/4/8/24/32 bits, BI_RGB or the
 * 32-bit BGRA bit fields this module writes) into BGRA, top row first. */
typedef struct bmpimg {
	uint32_t w, h, hsize, comp, off;
	int bpp;
	uint8_t *bgra;
} bmpimg;

static void bmp_read(const uint8_t *d, size_t n, bmpimg *im)
{
	assert_true(n >= 54);
	assert_memory_equal(d, "BM", 2);
	im->off = (uint32_t)(d[10] | d[11] << 8 | d[12] << 16 | (uint32_t)d[13] << 24);
	const uint8_t *h = d + 14;
	im->hsize = (uint32_t)(h[0] | h[1] << 8);
	int32_t sh = (int32_t)(h[8] | h[9] << 8 | h[10] << 16 | (uint32_t)h[11] << 24);
	im->w = (uint32_t)(h[4] | h[5] << 8 | h[6] << 16 | (uint32_t)h[7] << 24);
	im->h = (uint32_t)(sh < 0 ? -sh : sh);
	im->bpp = h[14];
	im->comp = h[16];
	assert_true(im->comp == 0 || (im->comp == 3 && im->bpp == 32));
	const uint8_t *pal = h + im->hsize;
	size_t stride = ((size_t)im->w * (size_t)im->bpp + 31) / 32 * 4;
	assert_true(im->off + stride * im->h <= n);
	im->bgra = malloc((size_t)im->w * im->h * 4);
	for (uint32_t r = 0; r < im->h; r++) {
		const uint8_t *s = d + im->off + r * stride;
		uint32_t y = sh < 0 ? r : im->h - 1 - r;
		uint8_t *o = im->bgra + (size_t)y * im->w * 4;
		for (uint32_t x = 0; x < im->w; x++) {
			int idx = -1;
			switch (im->bpp) {
			case 1: idx = (s[x / 8] >> (7 - x % 8)) & 1; break;
			case 4: idx = x & 1 ? s[x / 2] & 15 : s[x / 2] >> 4; break;
			case 8: idx = s[x]; break;
			case 24: memcpy(o + 4 * x, s + 3 * x, 3), o[4 * x + 3] = 255; break;
			default: memcpy(o + 4 * x, s + 4 * x, 4); break;
			}
			if (idx >= 0) {
				memcpy(o + 4 * x, pal + 4 * idx, 3);
				o[4 * x + 3] = 255;
			}
		}
	}
}

static const uint8_t test_pal[16][4] = {
	{0, 0, 0, 0},    {255, 0, 0, 0},  {0, 255, 0, 0},  {0, 0, 255, 0},
	{10, 20, 30, 0}, {40, 50, 60, 0}, {70, 80, 90, 0}, {1, 2, 3, 0},
	{9, 9, 9, 0},    {8, 8, 8, 0},    {7, 7, 7, 0},    {6, 6, 6, 0},
	{5, 5, 5, 0},    {4, 4, 4, 0},    {3, 3, 3, 0},    {2, 2, 2, 0},
};

/* Expected BGRA of the index picture idx (top row first) through test_pal. */
static void bmp_expect(const uint8_t *idx, uint32_t w, uint32_t h, uint8_t *bgra)
{
	for (size_t i = 0; i < (size_t)w * h; i++) {
		memcpy(bgra + 4 * i, test_pal[idx[i]], 3);
		bgra[4 * i + 3] = 255;
	}
}

/* Index picture → file rows of bpp bits (bottom-up unless topdown). */
static size_t bmp_rows(const uint8_t *idx, uint32_t w, uint32_t h, int bpp, bool topdown,
		       uint8_t *out)
{
	size_t stride = ((size_t)w * (size_t)bpp + 31) / 32 * 4;
	memset(out, 0, stride * h);
	for (uint32_t r = 0; r < h; r++) {
		uint32_t y = topdown ? r : h - 1 - r;
		uint8_t *o = out + r * stride;
		for (uint32_t x = 0; x < w; x++) {
			uint8_t v = idx[y * w + x];
			switch (bpp) {
			case 1: o[x / 8] |= (uint8_t)((v & 1) << (7 - x % 8)); break;
			case 4: o[x / 2] |= (uint8_t)(x & 1 ? v : v << 4); break;
			case 8: o[x] = v; break;
			case 24: memcpy(o + 3 * x, test_pal[v], 3); break;
			}
		}
	}
	return stride * h;
}

static void bmp_check(const sk_buf *in, const uint8_t *expect_bgra, uint32_t w, uint32_t h,
		      int out_bpp, bool clean)
{
	tu_run r;
	run(in, "t.bmp", NULL, 0, &r);
	if (clean)
		assert_clean(&r);
	else
		assert_verdict(&r, SK_VERDICT_SANITIZED);
	bmpimg im;
	bmp_read(r.out.data, r.out.len, &im);
	assert_int_equal(im.w, w);
	assert_int_equal(im.h, h);
	assert_int_equal(im.bpp, out_bpp);
	assert_int_equal(im.hsize, out_bpp == 32 ? 108 : 40);
	assert_memory_equal(im.bgra, expect_bgra, (size_t)w * h * 4);
	free(im.bgra);
	tu_free(&r);
}

static void bmp_palette_and_rgb(void **state)
{
	(void)state;
	enum { W = 13, H = 7 };
	uint8_t idx[W * H], rows[4 * W * H + 64], expect[4 * W * H];
	const int bpps[] = {1, 4, 8, 24};
	for (int b = 0; b < 4; b++) {
		int bpp = bpps[b];
		for (int topdown = 0; topdown < 2; topdown++) {
			for (int i = 0; i < W * H; i++)
				idx[i] = (uint8_t)(rnd() % (bpp == 1 ? 2 : 16));
			bmp_expect(idx, W, H, expect);
			size_t n = bmp_rows(idx, W, H, bpp, topdown, rows);
			bmpspec s = {.hsize = 40, .bpp = bpp, .w = W, .h = topdown ? -H : H,
				     .npal = bpp <= 8 ? (bpp == 1 ? 2 : 16) : 0, .pal = test_pal,
				     .pixels = rows, .npixels = n};
			sk_buf in;
			bmp_make(&s, &in);
			bmp_check(&in, expect, W, H, bpp, true);
			sk_buf_free(&in);
		}
	}
	/* OS/2 core header, 8 bits, 3-byte palette entries */
	for (int i = 0; i < W * H; i++)
		idx[i] = (uint8_t)(rnd() % 16);
	bmp_expect(idx, W, H, expect);
	size_t n = bmp_rows(idx, W, H, 8, false, rows);
	bmpspec s = {.hsize = 12, .bpp = 8, .w = W, .h = H, .npal = 16, .pal = test_pal,
		     .pixels = rows, .npixels = n};
	sk_buf in;
	bmp_make(&s, &in);
	/* bmp_make wrote 3 bytes per entry from the 4-byte table: B G R of each */
	bmp_check(&in, expect, W, H, 8, true);
	sk_buf_free(&in);
}

static void bmp_rle(void **state)
{
	(void)state;
	/* RLE8, 6x4: row0 (bottom) run 6 of 1; row1 absolute 2 3 4 5 then run 2 of 6;
	 * delta to row 3 x 2, run 2 of 7, EOB (rest index 0) */
	static const uint8_t rle8[] = {6, 1, 0, 0, 0, 4, 2, 3, 4, 5, 2, 6, 0, 0,
				       0, 2, 2, 1, 2, 7, 0, 1};
	const uint8_t expect_idx[4 * 6] = {
		0, 0, 7, 7, 0, 0, /* row 3 (top) */
		0, 0, 0, 0, 0, 0, /* row 2: skipped */
		2, 3, 4, 5, 6, 6, /* row 1 */
		1, 1, 1, 1, 1, 1, /* row 0 */
	};
	uint8_t expect[4 * 24];
	bmp_expect(expect_idx, 6, 4, expect);
	bmpspec s = {.hsize = 40, .bpp = 8, .comp = 1, .w = 6, .h = 4, .npal = 16, .pal = test_pal,
		     .pixels = rle8, .npixels = sizeof(rle8)};
	sk_buf in;
	bmp_make(&s, &in);
	bmp_check(&in, expect, 6, 4, 8, true);
	sk_buf_free(&in);

	/* RLE4, 5x2: row0 run 5 of (1,2); row1 absolute 3 pixels 4 5 6 + run 2 of (7,8) */
	static const uint8_t rle4[] = {5, 0x12, 0, 0, 0, 3, 0x45, 0x60, 2, 0x78, 0, 1};
	const uint8_t ex4[10] = {4, 5, 6, 7, 8, 1, 2, 1, 2, 1};
	uint8_t expect4[40];
	bmp_expect(ex4, 5, 2, expect4);
	bmpspec s4 = {.hsize = 40, .bpp = 4, .comp = 2, .w = 5, .h = 2, .npal = 16, .pal = test_pal,
		      .pixels = rle4, .npixels = sizeof(rle4)};
	bmp_make(&s4, &in);
	bmp_check(&in, expect4, 5, 2, 4, true);
	sk_buf_free(&in);

	/* a run past the row, and data ending without EOB */
	static const uint8_t over[] = {7, 1, 0, 1};
	s.pixels = over, s.npixels = sizeof(over);
	bmp_make(&s, &in);
	tu_run r;
	run(&in, "over.bmp", NULL, 0, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	sk_buf_free(&in);
	s.pixels = rle8, s.npixels = sizeof(rle8) - 2;
	bmp_make(&s, &in);
	run(&in, "noeob.bmp", NULL, 0, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	sk_buf_free(&in);
}

static void bmp_bitfields(void **state)
{
	(void)state;
	enum { W = 5, H = 3 };
	/* 32-bit BGRA with an alpha mask (V4 header) */
	uint8_t px[W * H * 4], expect[W * H * 4];
	for (int i = 0; i < W * H * 4; i++)
		px[i] = rnd();
	for (int y = 0; y < H; y++) /* file rows are bottom-up */
		memcpy(expect + (size_t)y * W * 4, px + (size_t)(H - 1 - y) * W * 4, W * 4);
	bmpspec s = {.hsize = 108, .bpp = 32, .comp = 3, .w = W, .h = H,
		     .masks = {0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000}, .pixels = px,
		     .npixels = sizeof(px)};
	sk_buf in;
	bmp_make(&s, &in);
	bmp_check(&in, expect, W, H, 32, true);
	sk_buf_free(&in);

	/* 32-bit BI_RGB whose fourth byte is 0 everywhere: opaque, written as 24-bit */
	for (int i = 0; i < W * H; i++)
		px[4 * i + 3] = 0;
	for (int i = 0; i < W * H; i++)
		expect[4 * i + 3] = 255;
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			memcpy(expect + ((size_t)y * W + x) * 4, px + ((size_t)(H - 1 - y) * W + x) * 4, 3);
	bmpspec x0 = {.hsize = 40, .bpp = 32, .w = W, .h = H, .pixels = px, .npixels = sizeof(px)};
	bmp_make(&x0, &in);
	bmp_check(&in, expect, W, H, 24, true);
	sk_buf_free(&in);

	/* 16-bit 5-6-5 bit fields after a 40-byte header: scaled to 8 bits, 24-bit output */
	uint8_t p16[H * 12]; /* stride 12 for W=5 */
	memset(p16, 0, sizeof(p16));
	for (int r = 0; r < H; r++)
		for (int x = 0; x < W; x++) {
			uint16_t v = (uint16_t)((x * 6) << 11 | (r * 20) << 5 | (31 - x));
			put_le16(p16 + r * 12 + 2 * x, v);
			uint8_t *e = expect + ((size_t)(H - 1 - r) * W + x) * 4;
			e[2] = (uint8_t)((x * 6 * 255 + 15) / 31);
			e[1] = (uint8_t)((r * 20 * 255 + 31) / 63);
			e[0] = (uint8_t)(((31 - x) * 255 + 15) / 31);
			e[3] = 255;
		}
	bmpspec s16 = {.hsize = 40, .bpp = 16, .comp = 3, .w = W, .h = H,
		       .masks = {0xf800, 0x07e0, 0x001f}, .pixels = p16, .npixels = sizeof(p16)};
	bmp_make(&s16, &in);
	bmp_check(&in, expect, W, H, 24, true);
	sk_buf_free(&in);

	/* a 32-bit wide mask (found by fuzzing: the bit count reached 32) */
	for (int i = 0; i < W * H; i++) {
		put_le32(px + 4 * i, 0xa1000000u + (uint32_t)i);
		uint8_t *e = expect + ((size_t)(H - 1 - i / W) * W + (size_t)(i % W)) * 4;
		e[0] = 0, e[1] = 0, e[2] = 0xa1, e[3] = 255;
	}
	bmpspec wide = {.hsize = 108, .bpp = 32, .comp = 3, .w = W, .h = H,
			.masks = {0xffffffffu, 0, 0, 0}, .pixels = px, .npixels = sizeof(px)};
	bmp_make(&wide, &in);
	bmp_check(&in, expect, W, H, 24, true);
	sk_buf_free(&in);

	/* overlapping masks are malformed */
	s16.masks[1] = 0xffe0;
	bmp_make(&s16, &in);
	tu_run r;
	run(&in, "mask.bmp", NULL, 0, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	sk_buf_free(&in);
}

static void bmp_extras_removed(void **state)
{
	(void)state;
	enum { W = 4, H = 2 };
	uint8_t idx[W * H] = {1, 2, 3, 4, 5, 6, 7, 0}, rows[64], expect[W * H * 4];
	bmp_expect(idx, W, H, expect);
	size_t n = bmp_rows(idx, W, H, 24, false, rows);
	uint8_t icc[512];
	size_t icclen = icc_make(icc, false);
	bmpspec s = {.hsize = 124, .bpp = 24, .w = W, .h = H, .pixels = rows, .npixels = n,
		     .gap = 7, .icc = icc, .icclen = icclen, .trail = "secret after"};
	sk_buf in;
	bmp_make(&s, &in);
	in.data[6] = 'X'; /* reserved field */
	tu_run r;
	run(&in, "x.bmp", NULL, 0, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_removed(&r, "icc-profile");
	assert_removed(&r, "trailing-data");
	assert_int_equal(tu_count(&r.res.report, SK_ACTION_REMOVED, "ancillary-data"), 1);
	const sk_report_entry *e = NULL;
	for (size_t i = 0; i < r.res.report.n; i++)
		if (!strcmp(r.res.report.v[i].what, "ancillary-data"))
			e = &r.res.report.v[i];
	assert_non_null(strstr(e->detail, "7 bytes")); /* the gap */
	assert_non_null(strstr(e->detail, "reserved"));
	bmpimg im;
	bmp_read(r.out.data, r.out.len, &im);
	assert_int_equal(im.hsize, 40);
	assert_int_equal(im.off, 54); /* a plain 40-byte header, no profile, no gap */
	assert_int_equal(r.out.len, 54 + 12 * H);
	assert_memory_equal(im.bgra, expect, sizeof(expect));
	assert_null(memmem(r.out.data, r.out.len, "secret", 6));
	free(im.bgra);
	tu_free(&r);
	sk_buf_free(&in);

	/* the same with an sRGB profile: kept silently (a BMP without a profile is sRGB) */
	s.icclen = icc_make(icc, true);
	s.gap = 0, s.trail = NULL;
	bmp_make(&s, &in);
	run(&in, "srgb.bmp", NULL, 0, &r);
	assert_clean(&r);
	tu_free(&r);
	sk_buf_free(&in);
}

/* The item's clock: every codec looks at it in its row loop (libjpeg: per iMCU row).
 * Past the deadline each image is blocked limit-time; with time left, delivered. */
static void time_limit(void **state)
{
	(void)state;
	sk_buf in[5];
	const char *names[5] = {"t.png", "t.jpg", "t.gif", "t.bmp", "rle.bmp"};
	pngspec ps = {.w = 40, .h = 300, .depth = 8, .ctype = PNG_COLOR_TYPE_RGB};
	uint8_t *px = png_pixels(&ps);
	png_make(&ps, px, &in[0]);
	free(px);
	jpgspec js = {.w = 40, .h = 24, .comps = 3, .cs = JCS_RGB};
	jpg_make(&js, &in[1]);
	gif_make(&in[2], false, 2, 40, 30);
	enum { W = 13, H = 7 };
	uint8_t idx[W * H], rows[4 * W * H + 64];
	for (int i = 0; i < W * H; i++)
		idx[i] = (uint8_t)(rnd() % 16);
	size_t n = bmp_rows(idx, W, H, 24, false, rows);
	bmpspec bs = {.hsize = 40, .bpp = 24, .w = W, .h = H, .pixels = rows, .npixels = n};
	bmp_make(&bs, &in[3]);
	static const uint8_t rle8[] = {6, 1, 0, 0, 6, 2, 0, 1};
	bmpspec rs = {.hsize = 40, .bpp = 8, .comp = 1, .w = 6, .h = 2, .npal = 16, .pal = test_pal,
		      .pixels = rle8, .npixels = sizeof(rle8)};
	bmp_make(&rs, &in[4]);
	for (int k = 0; k < 5; k++) {
		sk_budget b;
		tu_budget(&b, true);
		if (tu_direct(in[k].data, in[k].len, names[k], &b, NULL) != SK_REASON_LIMIT_TIME)
			fail_msg("%s: not blocked limit-time", names[k]);
		tu_budget(&b, false);
		if (tu_direct(in[k].data, in[k].len, names[k], &b, NULL) != SK_REASON_NONE)
			fail_msg("%s: not delivered", names[k]);
		sk_buf_free(&in[k]);
	}
}

static void bmp_limits_and_malformed(void **state)
{
	(void)state;
	uint8_t rows[64] = {0};
	bmpspec s = {.hsize = 40, .bpp = 24, .w = 4, .h = 2, .pixels = rows, .npixels = 24};
	sk_buf in;
	bmp_make(&s, &in);
	tu_run r;
	/* truncated pixel data */
	in.len -= 5;
	run(&in, "cut.bmp", NULL, 0, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	in.len += 5;
	/* a header claiming 100000 x 100000 */
	put_le32(in.data + 18, 100000);
	put_le32(in.data + 22, 100000);
	run(&in, "bomb.bmp", NULL, 0, &r);
	assert_reason(&r, SK_REASON_LIMIT_PIXELS);
	tu_free(&r);
	/* negative width, zero height */
	put_le32(in.data + 18, (uint32_t)-4);
	put_le32(in.data + 22, 2);
	run(&in, "neg.bmp", NULL, 0, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	put_le32(in.data + 18, 4);
	put_le32(in.data + 22, 0);
	run(&in, "zero.bmp", NULL, 0, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	/* top-down with the most negative height */
	put_le32(in.data + 22, 0x80000000u);
	run(&in, "min.bmp", NULL, 0, &r);
	assert_reason(&r, SK_REASON_LIMIT_PIXELS);
	tu_free(&r);
	/* embedded JPEG (BI_JPEG): not on the allow-list */
	put_le32(in.data + 22, 2);
	put_le32(in.data + 30, 4);
	run(&in, "jpeg.bmp", NULL, 0, &r);
	assert_reason(&r, SK_REASON_UNKNOWN_TYPE);
	tu_free(&r);
	sk_buf_free(&in);
	/* RLE8 claiming a huge size: blocked before anything is allocated */
	static const uint8_t rle[] = {0, 1};
	bmpspec b = {.hsize = 40, .bpp = 8, .comp = 1, .w = 60000, .h = 60000, .npal = 2,
		     .pal = test_pal, .pixels = rle, .npixels = 2};
	bmp_make(&b, &in);
	run(&in, "rle.bmp", NULL, 0, &r);
	assert_reason(&r, SK_REASON_LIMIT_PIXELS);
	tu_free(&r);
	sk_buf_free(&in);
}

/* ------------------------------------------------------------------ expansion budget */

static void run_expand(const sk_buf *in, const char *name, uint64_t max, tu_run *r)
{
	sk_options o;
	sk_options_default(&o);
	o.budget.max_expanded = max;
	tu_process(in->data, in->len, name, &o, r);
}

/* What each decoder allocates for pixels is charged to the expansion budget first:
 * exactly that amount passes, one byte less blocks limit-size. */
static void expand_limits(void **state)
{
	(void)state;
	struct {
		const char *name;
		uint64_t bytes;
		sk_buf in;
	} c[3];
	/* JPEG 64x64 4:2:0: 8x8 luma blocks + 2 x 4x4 chroma blocks, 128 bytes each */
	jpgspec js = {.w = 64, .h = 64, .comps = 3, .cs = JCS_RGB};
	jpg_make(&js, &c[0].in);
	c[0].name = "e.jpg", c[0].bytes = (64 + 16 + 16) * 128;
	/* GIF frames 40x30, 40x30, 20x15: one byte per pixel */
	gif_make(&c[1].in, false, 3, 40, 30);
	c[1].name = "e.gif", c[1].bytes = 1200 + 1200 + 300;
	/* BMP 24-bit 4x2: BGRA, four bytes per pixel */
	uint8_t rows[24] = {0};
	bmpspec bs = {.hsize = 40, .bpp = 24, .w = 4, .h = 2, .pixels = rows, .npixels = 24};
	bmp_make(&bs, &c[2].in);
	c[2].name = "e.bmp", c[2].bytes = 4 * 2 * 4;
	for (int i = 0; i < 3; i++) {
		tu_run r;
		run_expand(&c[i].in, c[i].name, c[i].bytes, &r);
		assert_clean(&r);
		tu_free(&r);
		run_expand(&c[i].in, c[i].name, c[i].bytes - 1, &r);
		assert_reason(&r, SK_REASON_LIMIT_SIZE);
		tu_free(&r);
		sk_buf_free(&c[i].in);
	}
}

/* ------------------------------------------------------------------ corpus */

static const char *corpus_file(const char *name)
{
	static char p[4096];
	snprintf(p, sizeof(p), "%s/../shared/corpus/office/mat2/%s", SK_SOURCE_ROOT, name);
	if (access(p, R_OK) == 0)
		return p;
	snprintf(p, sizeof(p), "/work/shared/corpus/office/mat2/%s", name);
	return access(p, R_OK) == 0 ? p : NULL;
}

/* Every image of the mat2 corpus is delivered, loses its metadata and keeps its picture
 * (same size; same rows, coefficients, frames or pixels as the original). */
static void corpus_mat2(void **state)
{
	(void)state;
	static const struct {
		const char *file, *removed;
	} files[] = {
		{"dirty.png", "comment"},  {"dirty.jpg", "comment"}, {"control_chars.jpg", "comment"},
		{"dirty.gif", "comment"},  {"dirty.bmp", NULL},
	};
	if (!corpus_file("dirty.png"))
		skip();
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *path = corpus_file(files[i].file);
		assert_non_null(path);
		sk_buf in;
		tu_read(path, &in);
		tu_run r;
		run(&in, files[i].file, NULL, 0, &r);
		if (r.res.report.verdict == SK_VERDICT_BLOCKED)
			fail_msg("%s blocked: %s", files[i].file, sk_reason_code(r.res.report.reason));
		if (files[i].removed)
			assert_removed(&r, files[i].removed);
		const char *ext = strrchr(files[i].file, '.') + 1;
		if (!strcmp(ext, "png")) {
			png_assert_same(in.data, in.len, r.out.data, r.out.len);
			assert_int_equal(png_chunk(r.out.data, r.out.len, "tEXt", NULL) +
						 png_chunk(r.out.data, r.out.len, "iTXt", NULL) +
						 png_chunk(r.out.data, r.out.len, "tIME", NULL),
					 0);
		} else if (!strcmp(ext, "jpg")) {
			jpg_assert_same(in.data, in.len, r.out.data, r.out.len);
			assert_false(jpg_has_marker(r.out.data, r.out.len, 0xfe));
		} else if (!strcmp(ext, "gif")) {
			gif_assert_same(in.data, in.len, r.out.data, r.out.len);
			assert_int_equal(gif_count_ext(r.out.data, r.out.len, COMMENT_EXT_FUNC_CODE, NULL), 0);
		} else {
			bmpimg a, b;
			bmp_read(in.data, in.len, &a);
			bmp_read(r.out.data, r.out.len, &b);
			assert_int_equal(a.w, b.w);
			assert_int_equal(a.h, b.h);
			assert_memory_equal(a.bgra, b.bgra, (size_t)a.w * a.h * 4);
			free(a.bgra);
			free(b.bgra);
		}
		tu_free(&r);
		sk_buf_free(&in);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(png_metadata_removed),
		cmocka_unit_test(png_16bit_interlaced_kept),
		cmocka_unit_test(png_palette_trns_kept),
		cmocka_unit_test(png_srgb_icc),
		cmocka_unit_test(png_exif_orientation),
		cmocka_unit_test(png_clean),
		cmocka_unit_test(png_pixel_bomb),
		cmocka_unit_test(png_expand_limit),
		cmocka_unit_test(png_output_limit),
		cmocka_unit_test(png_malformed),
		cmocka_unit_test(jpg_metadata_removed),
		cmocka_unit_test(jpg_orientation_kept),
		cmocka_unit_test(jpg_kinds),
		cmocka_unit_test(jpg_tables_redefined),
		cmocka_unit_test(jpg_srgb_icc),
		cmocka_unit_test(jpg_clean),
		cmocka_unit_test(jpg_malformed),
		cmocka_unit_test(jpg_pixel_bomb),
		cmocka_unit_test(jpg_scan_limit),
		cmocka_unit_test(gif_animation),
		cmocka_unit_test(gif_clean),
		cmocka_unit_test(gif_many_frames),
		cmocka_unit_test(gif_bombs),
		cmocka_unit_test(gif_malformed),
		cmocka_unit_test(bmp_palette_and_rgb),
		cmocka_unit_test(bmp_rle),
		cmocka_unit_test(bmp_bitfields),
		cmocka_unit_test(bmp_extras_removed),
		cmocka_unit_test(bmp_limits_and_malformed),
		cmocka_unit_test(time_limit),
		cmocka_unit_test(expand_limits),
		cmocka_unit_test(corpus_mat2),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
