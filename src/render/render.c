/* 画像化: a PDF's pages rendered to pixels, a new PDF made of the pixels with an invisible
 * OCR text layer (render.h).
 *
 * Each page is rendered by poppler-glib into a cairo image surface at the options' dpi
 * (white background, the page's own rotation), after its pixels were charged to the
 * budget. Tesseract (C API, one handle per process, the models loaded by sk_render_init)
 * reads an 8-bit grey copy of the pixels; its words, with their boxes, become text of a
 * glyph-less Type 3 font (a cairo user font whose every glyph is a plain box) drawn under
 * the page image. cairo's PDF surface writes page image and text; qpdf then rewrites the
 * result: every text object gets text render mode 3 (invisible: cairo has no way to set
 * it, and drops text it sees as transparent), /Info goes (cairo writes a producer and a
 * date), and the whole document is checked against what it may hold (check_output): page
 * images, the box fonts, nothing else. So a viewer that ignored render mode 3 for Type 3
 * fonts would still show nothing: the boxes are under the opaque page image.
 *
 * Vertical text: a line tesseract reads top to bottom (jpn_vert) is written with a font
 * matrix turned 90° so that its glyphs advance downwards, one column a line; text
 * extraction (pdftotext) then reads each column as a line, columns right to left.
 *
 * Time: the budget's clock is checked before each page, between rendering and OCR, and
 * inside OCR (tesseract's cancel callback). poppler's rendering of one page cannot be
 * interrupted: a page that takes longer is left to the worker's wall-clock kill.
 *
 * Not thread-safe across calls that change the OCR language; calls are serialised by a
 * mutex (one tesseract handle). */
#include <cairo-pdf.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <poppler.h>
#include <pthread.h>
#include <qpdf/qpdf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tesseract/capi.h>
#include <time.h>

#include "sekisho/render.h"

#define RENDER_DPI_DEFAULT 150
#define RENDER_DPI_MAX 1200
#define RENDER_PAGES_DEFAULT 500
#define RENDER_DIM_MAX 32767 /* cairo's largest image surface side */
/* the box glyphs: ascent and descent in em */
#define BOX_ASCENT 0.88
#define BOX_DESCENT 0.12

static pthread_mutex_t render_lock = PTHREAD_MUTEX_INITIALIZER;
static bool base_ready;
/* kept open for the life of the process: poppler-glib frees its global parameters (the
 * CMap and Unicode tables, the font substitutes found) when its last document goes */
static PopplerDocument *warm_doc;
static cairo_font_face_t *box_face;
/* one tesseract handle per choice of models (render.h: sk_render_ocr); the LIST one holds
 * the options' own language list */
static struct {
	TessBaseAPI *api;
	char lang[64];
} tess[SK_RENDER_OCR__COUNT];
static const char *const ocr_codes[SK_RENDER_OCR__COUNT] = {"jpn", "jpn_vert", "jpn+jpn_vert",
							   "list"};

const char *sk_render_ocr_code(sk_render_ocr m)
{
	return (unsigned)m < SK_RENDER_OCR__COUNT ? ocr_codes[m] : "?";
}

void sk_render_ocr_note(const sk_render_info *info, char *buf, size_t n)
{
	if (!n)
		return;
	buf[0] = 0;
	size_t k = 0;
	for (int m = 0; m < SK_RENDER_OCR__COUNT; m++) {
		if (!info->ocr[m])
			continue;
		int w = snprintf(buf + k, n - k, "%s%s %u", k ? ", " : "OCR ", ocr_codes[m],
				 info->ocr[m]);
		if (w < 0 || (size_t)w >= n - k) {
			buf[k] = 0; /* what fits */
			return;
		}
		k += (size_t)w;
	}
}

void sk_render_options_default(sk_render_options *o)
{
	memset(o, 0, sizeof(*o));
	o->dpi = RENDER_DPI_DEFAULT;
	o->max_pages = RENDER_PAGES_DEFAULT;
	o->ocr_lang = NULL;
	o->gray = false;
}

static void opts_fill(const sk_render_options *in, sk_render_options *o)
{
	if (in)
		*o = *in;
	else
		sk_render_options_default(o);
	if (!o->dpi)
		o->dpi = RENDER_DPI_DEFAULT;
	if (!o->max_pages)
		o->max_pages = RENDER_PAGES_DEFAULT;
}

/* tesseract language lists: "jpn", "jpn+jpn_vert+eng" (model file names, no paths) */
static bool lang_ok(const char *s)
{
	size_t n = strlen(s);
	if (n >= sizeof(tess[0].lang))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '+'))
			return false;
	return n > 0 && s[0] != '+' && s[n - 1] != '+' && !strstr(s, "++");
}

/* ---- the box font: every glyph (index = Unicode code point) is a 1 em box ---- */

static cairo_status_t box_init(cairo_scaled_font_t *sf, cairo_t *cr, cairo_font_extents_t *e)
{
	(void)sf;
	(void)cr;
	e->ascent = BOX_ASCENT;
	e->descent = BOX_DESCENT;
	e->height = 1;
	e->max_x_advance = 1;
	e->max_y_advance = 0;
	return CAIRO_STATUS_SUCCESS;
}

static cairo_status_t box_glyph(cairo_scaled_font_t *sf, unsigned long glyph, cairo_t *cr,
				cairo_text_extents_t *e)
{
	(void)sf;
	(void)glyph;
	/* a glyph with no ink is dropped by cairo before it reaches the PDF */
	cairo_rectangle(cr, 0, -BOX_ASCENT, 1, 1);
	cairo_fill(cr);
	e->x_bearing = 0;
	e->y_bearing = -BOX_ASCENT;
	e->width = 1;
	e->height = 1;
	e->x_advance = 1;
	e->y_advance = 0;
	return CAIRO_STATUS_SUCCESS;
}

static cairo_status_t box_unicode(cairo_scaled_font_t *sf, unsigned long uc, unsigned long *glyph)
{
	(void)sf;
	*glyph = uc;
	return CAIRO_STATUS_SUCCESS;
}

/* ---- cairo's PDF stream into an sk_buf ---- */

static cairo_status_t buf_write(void *closure, const unsigned char *data, unsigned int len)
{
	return sk_buf_add(closure, data, len) ? CAIRO_STATUS_WRITE_ERROR : CAIRO_STATUS_SUCCESS;
}

/* A one-page PDF: Japanese text in a font the document does not embed (so that poppler
 * finds its substitute through fontconfig and loads the CMaps of poppler-data). */
static const char warm_pdf[] =
	"%PDF-1.4\n"
	"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
	"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
	"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R "
	"/Resources << /Font << /F1 5 0 R >> >> >> endobj\n"
	"4 0 obj << /Length 44 >> stream\n"
	"BT /F1 20 Tf 10 40 Td <30423044304630483048> Tj ET\n"
	"endstream endobj\n"
	"5 0 obj << /Type /Font /Subtype /Type0 /BaseFont /MS-Mincho /Encoding /UniJIS-UCS2-H "
	"/DescendantFonts [6 0 R] >> endobj\n"
	"6 0 obj << /Type /Font /Subtype /CIDFontType0 /BaseFont /MS-Mincho "
	"/CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1) /Supplement 6 >> "
	"/FontDescriptor 7 0 R >> endobj\n"
	"7 0 obj << /Type /FontDescriptor /FontName /MS-Mincho /Flags 6 "
	"/FontBBox [0 -141 1000 859] /ItalicAngle 0 /Ascent 859 /Descent -141 /CapHeight 700 "
	"/StemV 80 >> endobj\n"
	"trailer << /Root 1 0 R >>\n%%EOF\n";

/* poppler (its global parameters, the font substitute, the CMaps), cairo's PDF surface
 * with the box font. */
static int base_init(sk_error *err)
{
	if (base_ready)
		return 0;
	if (!FcInit())
		return sk_error_set(err, SK_EINTERNAL, "render: fontconfig cannot load its configuration");
	if (!box_face) {
		cairo_font_face_t *f = cairo_user_font_face_create();
		cairo_user_font_face_set_init_func(f, box_init);
		cairo_user_font_face_set_render_glyph_func(f, box_glyph);
		cairo_user_font_face_set_unicode_to_glyph_func(f, box_unicode);
		if (cairo_font_face_status(f)) {
			cairo_font_face_destroy(f);
			return sk_error_set(err, SK_ENOMEM, "render: box font");
		}
		box_face = f;
	}
	GBytes *bytes = g_bytes_new_static(warm_pdf, sizeof(warm_pdf) - 1);
	GError *gerr = NULL;
	PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
	int rc = 0;
	if (!doc) {
		rc = sk_error_set(err, SK_EINTERNAL, "render: poppler cannot open its warm-up page: %s",
				  gerr ? gerr->message : "?");
		goto out;
	}
	PopplerPage *page = poppler_document_get_page(doc, 0);
	cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 200, 100);
	cairo_t *cr = cairo_create(img);
	if (page)
		poppler_page_render(page, cr);
	cairo_destroy(cr);
	cairo_surface_destroy(img);
	if (page)
		g_object_unref(page);
	if (warm_doc)
		g_object_unref(doc);
	else
		warm_doc = doc; /* (its bytes are static) */

	sk_buf b;
	sk_buf_init(&b, 1 << 20);
	cairo_surface_t *s = cairo_pdf_surface_create_for_stream(buf_write, &b, 100, 100);
	cr = cairo_create(s);
	cairo_set_font_face(cr, box_face);
	cairo_set_font_size(cr, 10);
	cairo_move_to(cr, 10, 50);
	cairo_show_text(cr, "漢字");
	cairo_show_page(cr);
	cairo_destroy(cr);
	cairo_surface_finish(s);
	if (cairo_surface_status(s) || !sk_buf_len(&b))
		rc = sk_error_set(err, SK_EINTERNAL, "render: cairo's PDF surface: %s",
				  cairo_status_to_string(cairo_surface_status(s)));
	cairo_surface_destroy(s);
	sk_buf_free(&b);
	if (!rc)
		base_ready = true;
out:
	if (gerr)
		g_error_free(gerr);
	g_bytes_unref(bytes);
	return rc;
}

/* The handle of slot m with the models lang, loaded unless it is already. */
static int ocr_load(sk_render_ocr m, const char *lang, sk_error *err)
{
	if (tess[m].api && !strcmp(tess[m].lang, lang))
		return 0;
	if (!lang_ok(lang))
		return sk_error_set(err, SK_EINVAL, "render: bad OCR language list");
	if (tess[m].api) {
		TessBaseAPIEnd(tess[m].api);
		TessBaseAPIDelete(tess[m].api);
		tess[m].api = NULL;
		tess[m].lang[0] = 0;
	}
	TessBaseAPI *t = TessBaseAPICreate();
	if (!t)
		return sk_error_set(err, SK_ENOMEM, "render: tesseract");
	/* NULL datapath: TESSDATA_PREFIX or the package's tessdata folder */
	if (TessBaseAPIInit3(t, NULL, lang)) {
		TessBaseAPIDelete(t);
		return sk_error_set(err, SK_EINTERNAL, "render: tesseract cannot load the models %s",
				    lang);
	}
	/* automatic layout (horizontal and vertical blocks); words keep their spaces */
	TessBaseAPISetPageSegMode(t, PSM_AUTO);
	TessBaseAPISetVariable(t, "preserve_interword_spaces", "1");
	tess[m].api = t;
	snprintf(tess[m].lang, sizeof(tess[m].lang), "%s", lang);
	return 0;
}

/* The handles lang needs: NULL the three of the per-page choice, "" none, else its own. */
static int ocr_init(const char *lang, sk_error *err)
{
	if (lang)
		return *lang ? ocr_load(SK_RENDER_OCR_LIST, lang, err) : 0;
	int rc = 0;
	for (int m = SK_RENDER_OCR_JPN; m <= SK_RENDER_OCR_BOTH && !rc; m++)
		rc = ocr_load((sk_render_ocr)m, ocr_codes[m], err);
	return rc;
}

int sk_render_init(const sk_render_options *o, sk_error *err)
{
	sk_render_options opt;
	opts_fill(o, &opt);
	pthread_mutex_lock(&render_lock);
	int rc = base_init(err);
	if (!rc)
		rc = ocr_init(opt.ocr_lang, err);
	pthread_mutex_unlock(&render_lock);
	return rc;
}

/* ---- one page ---- */

typedef struct render_job {
	const sk_render_options *o;
	sk_budget *b;
	cairo_t *cr; /* on the PDF surface; user space in points */
	sk_reason reason;
	sk_error *err;
	sk_render_info info; /* so far */
	sk_render_ocr ocr;   /* the models of the last page read */
} render_job;

static bool ocr_cancel(void *arg, int words)
{
	(void)words;
	return sk_budget_time(arg) != SK_REASON_NONE;
}

/* Decodes one UTF-8 sequence; 0 at the end or on a bad sequence. */
static uint32_t utf8_next(const char **s)
{
	const unsigned char *p = (const unsigned char *)*s;
	uint32_t c = p[0];
	int n = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
	if (!c || n < 0)
		return 0;
	if (n)
		c &= 0x3f >> n;
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	*s += n + 1;
	return c;
}

/* Draws one OCR word, in points: horizontal text on a baseline, or a vertical column
 * whose glyphs advance downwards. Characters are spread evenly from the word's start to
 * end (its box's end, or the next word's start when the two are joined). */
static int draw_word(render_job *j, const char *word, double x0, double y0, double x1, double y1,
		     bool vertical, double size, double end)
{
	cairo_glyph_t g[256];
	cairo_text_cluster_t cl[256];
	int n = 0;
	const char *s = word, *start = word;
	uint32_t c;
	while (n < 256 && (c = utf8_next(&s))) {
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || (c >= 0xd800 && c < 0xe000))
			return 0; /* tesseract does not produce these: leave the word out */
		g[n].index = c;
		cl[n].num_bytes = (int)(s - start);
		cl[n].num_glyphs = 1;
		start = s;
		n++;
	}
	if (!n || *s)
		return 0;
	/* The font size is the line's thickness (so that a line's words share one size), in
	 * whole points as each size is one Type 3 font of the output. The glyphs are as wide
	 * as the characters' pitch (in steps of 1/8 of the size, from 1/8 to 4 times), so
	 * that no gap inside a word reads as a space and a word does not cover the space
	 * after it. */
	double pitch = (end - (vertical ? y0 : x0)) / n;
	double q = floor(size + 0.5);
	if (q < 1)
		q = 1;
	double sx = floor(pitch / q * 8 + 0.5) / 8;
	sx = sx < 0.125 ? 0.125 : sx > 4 ? 4 : sx;
	cairo_matrix_t m;
	if (vertical) {
		/* glyphs advance downwards; the glyph's top faces left (a mirror image: text
		 * extraction reads a column whose glyph tops face right from the bottom up) */
		cairo_matrix_init(&m, 0, q * sx, q, 0, 0, 0);
		for (int i = 0; i < n; i++) {
			g[i].x = x1 - BOX_DESCENT * (x1 - x0);
			g[i].y = y0 + i * pitch;
		}
	} else {
		cairo_matrix_init(&m, q * sx, 0, 0, q, 0, 0);
		for (int i = 0; i < n; i++) {
			g[i].x = x0 + i * pitch;
			g[i].y = y1 - BOX_DESCENT * (y1 - y0);
		}
	}
	cairo_set_font_matrix(j->cr, &m);
	cairo_show_text_glyphs(j->cr, word, (int)(s - word), g, n, cl, n, 0);
	return 0;
}

typedef struct ocr_word {
	char *text; /* tesseract's */
	int x0, y0, x1, y1;
} ocr_word;

/* CJK (and full-width) characters: text in which tesseract's word breaks are not spaces */
static bool wide_char(uint32_t c)
{
	return (c >= 0x2e80 && c < 0xa000) || (c >= 0xf900 && c < 0xfb00) ||
	       (c >= 0xff00 && c < 0xfff0) || (c >= 0x20000 && c < 0x30000);
}

static uint32_t first_char(const char *s)
{
	return utf8_next(&s);
}

static uint32_t last_char(const char *s)
{
	uint32_t c, last = 0;
	while ((c = utf8_next(&s)))
		last = c;
	return last;
}

/* One line's words. Two words next to each other of which either side is a wide
 * character are joined (Japanese has no spaces: tesseract's word breaks there are not
 * spaces of the text), else the gap between them stays (and reads as a space). */
static int draw_line(render_job *j, ocr_word *w, size_t n, bool vertical, int lx0, int ly0,
		     int lx1, int ly1, double scale)
{
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		double end = vertical ? w[i].y1 : w[i].x1;
		if (i + 1 < n && (wide_char(last_char(w[i].text)) || wide_char(first_char(w[i + 1].text)))) {
			double next = vertical ? w[i + 1].y0 : w[i + 1].x0;
			if (next > end)
				end = next;
		}
		if (vertical)
			rc = draw_word(j, w[i].text, lx0 * scale, w[i].y0 * scale, lx1 * scale,
				       w[i].y1 * scale, true, (lx1 - lx0) * scale, end * scale);
		else
			rc = draw_word(j, w[i].text, w[i].x0 * scale, ly0 * scale, w[i].x1 * scale,
				       ly1 * scale, false, (ly1 - ly0) * scale, end * scale);
	}
	for (size_t i = 0; i < n; i++)
		TessDeleteText(w[i].text);
	return rc;
}

static bool text_block(TessPolyBlockType t)
{
	switch (t) {
	case PT_FLOWING_TEXT:
	case PT_HEADING_TEXT:
	case PT_PULLOUT_TEXT:
	case PT_TABLE:
	case PT_VERTICAL_TEXT:
	case PT_CAPTION_TEXT:
		return true;
	default:
		return false;
	}
}

/* The models for the page set on api (the "jpn" handle): its layout analysed, its text
 * blocks counted by writing direction (render.h: sk_render_ocr). The layout stays with
 * api, whose Recognize then uses it when "jpn" is the choice. */
static sk_render_ocr choose_models(TessBaseAPI *api)
{
	TessPageIterator *pi = TessBaseAPIAnalyseLayout(api);
	if (!pi)
		return SK_RENDER_OCR_JPN; /* nothing on the page */
	unsigned hb = 0, vb = 0;
	do {
		TessPolyBlockType bt = TessPageIteratorBlockType(pi);
		if (!text_block(bt))
			continue;
		TessOrientation or;
		TessWritingDirection wd;
		TessTextlineOrder order;
		float deskew;
		TessPageIteratorOrientation(pi, &or, &wd, &order, &deskew);
		if (bt == PT_VERTICAL_TEXT || wd == WRITING_DIRECTION_TOP_TO_BOTTOM)
			vb++;
		else
			hb++;
	} while (TessPageIteratorNext(pi, RIL_BLOCK));
	TessPageIteratorDelete(pi);
	return !vb ? SK_RENDER_OCR_JPN : !hb ? SK_RENDER_OCR_VERT : SK_RENDER_OCR_BOTH;
}

/* OCR of the grey pixels; the words drawn on j->cr (scale: points per pixel), a line at a
 * time, each word placed in its line: the line's height (horizontal) or width (vertical)
 * is the font size, so that a line's words share a baseline. */
static int ocr_page(render_job *j, const uint8_t *grey, int w, int h, double scale)
{
	sk_render_ocr m = j->o->ocr_lang ? SK_RENDER_OCR_LIST : SK_RENDER_OCR_JPN;
	TessBaseAPI *tess_api = tess[m].api;
	TessBaseAPISetImage(tess_api, grey, w, h, 1, w);
	TessBaseAPISetSourceResolution(tess_api, (int)j->o->dpi);
	if (m == SK_RENDER_OCR_JPN) {
		m = choose_models(tess_api);
		if (m != SK_RENDER_OCR_JPN) {
			TessBaseAPIClear(tess_api);
			tess_api = tess[m].api;
			TessBaseAPISetImage(tess_api, grey, w, h, 1, w);
			TessBaseAPISetSourceResolution(tess_api, (int)j->o->dpi);
		}
	}
	j->ocr = m;
	ETEXT_DESC *mon = TessMonitorCreate();
	if (!mon)
		return sk_error_set(j->err, SK_ENOMEM, "render: tesseract monitor");
	TessMonitorSetCancelFunc(mon, ocr_cancel);
	TessMonitorSetCancelThis(mon, j->b);
	int trc = TessBaseAPIRecognize(tess_api, mon);
	TessMonitorDelete(mon);
	if ((j->reason = sk_budget_time(j->b)) != SK_REASON_NONE) {
		TessBaseAPIClear(tess_api);
		return SK_EFORMAT;
	}
	if (trc) {
		TessBaseAPIClear(tess_api);
		return sk_error_set(j->err, SK_EINTERNAL, "render: tesseract could not read a page");
	}
	TessResultIterator *ri = TessBaseAPIGetIterator(tess_api);
	int rc = 0;
	ocr_word *words = NULL;
	size_t nw = 0, cw = 0;
	if (ri) {
		TessPageIterator *pi = TessResultIteratorGetPageIterator(ri);
		int lx0 = 0, ly0 = 0, lx1 = 0, ly1 = 0;
		bool vertical = false;
		do {
			if (TessPageIteratorIsAtBeginningOf(pi, RIL_TEXTLINE)) {
				rc = draw_line(j, words, nw, vertical, lx0, ly0, lx1, ly1, scale);
				nw = 0;
				TessOrientation or;
				TessWritingDirection wd;
				TessTextlineOrder order;
				float deskew;
				if (!TessPageIteratorBoundingBox(pi, RIL_TEXTLINE, &lx0, &ly0, &lx1, &ly1))
					continue;
				TessPageIteratorOrientation(pi, &or, &wd, &order, &deskew);
				vertical = wd == WRITING_DIRECTION_TOP_TO_BOTTOM;
			}
			ocr_word wd = {0};
			if (!TessPageIteratorBoundingBox(pi, RIL_WORD, &wd.x0, &wd.y0, &wd.x1, &wd.y1))
				continue;
			if (!(wd.text = TessResultIteratorGetUTF8Text(ri, RIL_WORD)))
				continue;
			if (nw == cw) {
				size_t c = cw ? cw * 2 : 64;
				ocr_word *nv = realloc(words, c * sizeof(*nv));
				if (!nv) {
					TessDeleteText(wd.text);
					rc = sk_error_set(j->err, SK_ENOMEM, "render: OCR words");
					break;
				}
				words = nv;
				cw = c;
			}
			words[nw++] = wd;
		} while (!rc && TessPageIteratorNext(pi, RIL_WORD));
		if (!rc)
			rc = draw_line(j, words, nw, vertical, lx0, ly0, lx1, ly1, scale);
		else
			for (size_t i = 0; i < nw; i++)
				TessDeleteText(words[i].text);
		TessResultIteratorDelete(ri);
	}
	free(words);
	TessBaseAPIClear(tess_api);
	return rc;
}

static int render_page(render_job *j, PopplerDocument *doc, int index, cairo_surface_t *pdf)
{
	PopplerPage *page = poppler_document_get_page(doc, index);
	if (!page) {
		j->reason = SK_REASON_MALFORMED;
		return sk_error_set(j->err, SK_EFORMAT, "render: page %d cannot be read", index + 1);
	}
	double wpt = 0, hpt = 0;
	poppler_page_get_size(page, &wpt, &hpt);
	int rc = 0;
	cairo_surface_t *img = NULL;
	uint8_t *grey = NULL;
	if (!(wpt > 0 && hpt > 0 && wpt < 1e6 && hpt < 1e6)) {
		j->reason = SK_REASON_MALFORMED;
		rc = sk_error_set(j->err, SK_EFORMAT, "render: page %d has no usable size", index + 1);
		goto out;
	}
	double px = (double)j->o->dpi / 72.0;
	double wpx = ceil(wpt * px), hpx = ceil(hpt * px);
	if (wpx > RENDER_DIM_MAX || hpx > RENDER_DIM_MAX) {
		j->reason = SK_REASON_LIMIT_PIXELS;
		rc = sk_error_set(j->err, SK_EFORMAT, "render: page %d is too large", index + 1);
		goto out;
	}
	int w = (int)wpx, h = (int)hpx;
	if ((j->reason = sk_budget_pixels(j->b, (uint64_t)w, (uint64_t)h)) != SK_REASON_NONE) {
		rc = sk_error_set(j->err, SK_EFORMAT, "render: page %d: %s", index + 1,
				  sk_reason_code(j->reason));
		goto out;
	}
	j->info.pixels += (uint64_t)w * (uint64_t)h;
	img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
	if (cairo_surface_status(img)) {
		rc = sk_error_set(j->err, SK_ENOMEM, "render: %d x %d pixels", w, h);
		goto out;
	}
	cairo_t *cr = cairo_create(img);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_scale(cr, px, px);
	poppler_page_render(page, cr);
	cairo_status_t cst = cairo_status(cr);
	cairo_destroy(cr);
	cairo_surface_flush(img);
	if (cst) {
		j->reason = SK_REASON_MALFORMED;
		rc = sk_error_set(j->err, SK_EFORMAT, "render: page %d: %s", index + 1,
				  cairo_status_to_string(cst));
		goto out;
	}
	if ((j->reason = sk_budget_time(j->b)) != SK_REASON_NONE) {
		rc = SK_EFORMAT;
		goto out;
	}

	/* grey copy for OCR (and for grey output: equal channels, which cairo's PDF writer
	 * stores as DeviceGray) */
	uint8_t *data = cairo_image_surface_get_data(img);
	int stride = cairo_image_surface_get_stride(img);
	bool ocr = !j->o->ocr_lang || *j->o->ocr_lang;
	if (ocr || j->o->gray) {
		if (ocr && !(grey = malloc((size_t)w * (size_t)h))) {
			rc = sk_error_set(j->err, SK_ENOMEM, "render: grey copy");
			goto out;
		}
		for (int y = 0; y < h; y++) {
			uint32_t *row = (uint32_t *)(void *)(data + (size_t)y * (size_t)stride);
			for (int x = 0; x < w; x++) {
				uint32_t v = row[x];
				uint32_t r = v >> 16 & 0xff, g = v >> 8 & 0xff, bl = v & 0xff;
				uint8_t l = (uint8_t)((r * 77 + g * 150 + bl * 29) >> 8);
				if (grey)
					grey[(size_t)y * (size_t)w + (size_t)x] = l;
				if (j->o->gray)
					row[x] = 0xff000000u | (uint32_t)l << 16 | (uint32_t)l << 8 | l;
			}
		}
		cairo_surface_mark_dirty(img);
	}

	cairo_pdf_surface_set_size(pdf, wpt, hpt);
	cairo_save(j->cr);
	cairo_set_source_rgb(j->cr, 0, 0, 0);
	cairo_set_font_face(j->cr, box_face);
	if (ocr)
		rc = ocr_page(j, grey, w, h, 1.0 / px);
	cairo_restore(j->cr);
	if (rc)
		goto out;
	/* the page image over the text */
	cairo_save(j->cr);
	cairo_scale(j->cr, 1.0 / px, 1.0 / px);
	cairo_set_source_surface(j->cr, img, 0, 0);
	cairo_paint(j->cr);
	cairo_restore(j->cr);
	cairo_show_page(j->cr);
	if (cairo_status(j->cr))
		rc = sk_error_set(j->err, SK_EINTERNAL, "render: cairo: %s",
				  cairo_status_to_string(cairo_status(j->cr)));
	j->info.rendered++;
	if (ocr)
		j->info.ocr[j->ocr]++;
out:
	free(grey);
	if (img)
		cairo_surface_destroy(img);
	g_object_unref(page);
	return rc;
}

/* ---- qpdf: render mode 3, no /Info, and the check of what the output holds ---- */

static bool is_ws(uint8_t c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0;
}

static bool is_delim(uint8_t c)
{
	return is_ws(c) || c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' ||
	       c == '{' || c == '}' || c == '/' || c == '%';
}

/* p[0..n) (a content stream cairo wrote) with "3 Tr" after every BT into out. Strings,
 * names and comments are skipped as such; an inline image (which cairo does not write)
 * is refused. *bt gets the number of text objects. */
static int invisible_text(const uint8_t *p, size_t n, sk_buf *out, size_t *bt)
{
	size_t i = 0;
	*bt = 0;
	while (i < n) {
		uint8_t c = p[i];
		size_t s = i;
		if (c == '(') { /* literal string, nested parentheses, escapes */
			int depth = 0;
			for (; i < n; i++) {
				if (p[i] == '\\') {
					i++;
					continue;
				}
				if (p[i] == '(')
					depth++;
				else if (p[i] == ')' && --depth == 0)
					break;
			}
			if (i >= n)
				return SK_EFORMAT;
			i++;
		} else if (c == '<' && i + 1 < n && p[i + 1] != '<') { /* hex string */
			while (i < n && p[i] != '>')
				i++;
			if (i >= n)
				return SK_EFORMAT;
			i++;
		} else if (c == '%') {
			while (i < n && p[i] != '\n' && p[i] != '\r')
				i++;
		} else if (is_delim(c)) {
			i++;
			if (c == '/') /* a name: its characters up to the next delimiter */
				while (i < n && !is_delim(p[i]))
					i++;
			else if ((c == '<' || c == '>') && i < n && p[i] == c)
				i++;
		} else {
			while (i < n && !is_delim(p[i]))
				i++;
			size_t len = i - s;
			if (len == 2 && !memcmp(p + s, "ID", 2))
				return SK_EFORMAT;
			if (len == 2 && !memcmp(p + s, "Tr", 2))
				return SK_EFORMAT; /* cairo sets no render mode: nothing to overrule */
			if (len == 2 && !memcmp(p + s, "BT", 2)) {
				if (sk_buf_add(out, p + s, len) || sk_buf_adds(out, " 3 Tr"))
					return SK_ENOMEM;
				(*bt)++;
				continue;
			}
		}
		if (sk_buf_add(out, p + s, i - s))
			return SK_ENOMEM;
	}
	return 0;
}

static bool oh_name_is(qpdf_data q, qpdf_oh h, const char *name)
{
	return qpdf_oh_is_name(q, h) && !strcmp(qpdf_oh_get_name(q, h), name);
}

/* true when every key of dictionary d is in allowed (NULL-terminated) */
static bool keys_only(qpdf_data q, qpdf_oh d, const char *const *allowed)
{
	if (!qpdf_oh_is_dictionary(q, d))
		return false;
	bool ok = true;
	qpdf_oh_begin_dict_key_iter(q, d);
	while (qpdf_oh_dict_more_keys(q)) {
		const char *k = qpdf_oh_dict_next_key(q);
		bool found = false;
		for (size_t i = 0; allowed[i] && !found; i++)
			found = !strcmp(k, allowed[i]);
		ok = ok && found;
	}
	return ok;
}

/* Every entry of resource dictionary res/key passes f. */
static bool each_resource(qpdf_data q, qpdf_oh res, const char *key,
			  bool (*f)(qpdf_data, qpdf_oh))
{
	if (!qpdf_oh_has_key(q, res, key))
		return true;
	qpdf_oh d = qpdf_oh_get_key(q, res, key);
	if (!qpdf_oh_is_dictionary(q, d))
		return false;
	/* the keys first: checking may not disturb the iteration */
	size_t nk = 0;
	char *keys[512];
	qpdf_oh_begin_dict_key_iter(q, d);
	while (qpdf_oh_dict_more_keys(q)) {
		const char *k = qpdf_oh_dict_next_key(q);
		if (nk == 512 || !(keys[nk] = strdup(k))) {
			for (size_t i = 0; i < nk; i++)
				free(keys[i]);
			return false;
		}
		nk++;
	}
	bool ok = true;
	for (size_t i = 0; i < nk; i++) {
		if (ok)
			ok = f(q, qpdf_oh_get_key(q, d, keys[i]));
		free(keys[i]);
	}
	return ok;
}

static bool is_image(qpdf_data q, qpdf_oh x)
{
	if (!qpdf_oh_is_stream(q, x))
		return false;
	qpdf_oh d = qpdf_oh_get_dict(q, x);
	static const char *const allowed[] = {"/Type", "/Subtype", "/Width", "/Height",
					      "/ColorSpace", "/BitsPerComponent", "/Interpolate",
					      "/Filter", "/DecodeParms", "/Length", "/SMask",
					      "/Decode", NULL};
	if (!keys_only(q, d, allowed) || !oh_name_is(q, qpdf_oh_get_key(q, d, "/Subtype"), "/Image"))
		return false;
	return !qpdf_oh_has_key(q, d, "/SMask") || is_image(q, qpdf_oh_get_key(q, d, "/SMask"));
}

/* a box font: Type 3, its glyphs plain fills, no resources of its own beyond these */
static bool is_box_font(qpdf_data q, qpdf_oh f)
{
	static const char *const allowed[] = {"/Type", "/Subtype", "/FontBBox", "/FontMatrix",
					      "/CharProcs", "/Encoding", "/FirstChar", "/LastChar",
					      "/Widths", "/ToUnicode", "/Resources", NULL};
	if (!keys_only(q, f, allowed) || !oh_name_is(q, qpdf_oh_get_key(q, f, "/Subtype"), "/Type3"))
		return false;
	if (qpdf_oh_has_key(q, f, "/Resources")) {
		static const char *const res[] = {"/ProcSet", NULL};
		qpdf_oh r = qpdf_oh_get_key(q, f, "/Resources");
		if (!keys_only(q, r, res))
			return false;
	}
	return true;
}

static bool is_gstate(qpdf_data q, qpdf_oh g)
{
	static const char *const allowed[] = {"/Type", "/CA", "/ca", "/BM", "/SMask", "/AIS", NULL};
	if (!keys_only(q, g, allowed))
		return false;
	return !qpdf_oh_has_key(q, g, "/SMask") || oh_name_is(q, qpdf_oh_get_key(q, g, "/SMask"), "/None");
}

/* The document holds pages of images and box-font text, nothing else: a catalog with
 * pages only, no /Info, no annotations, actions, outlines or forms. */
static bool check_output(qpdf_data q)
{
	qpdf_oh trailer = qpdf_get_trailer(q);
	static const char *const tkeys[] = {"/Root", "/Size", "/ID", "/Prev", "/XRefStm", "/Type",
					    "/Index", "/W", "/Filter", "/DecodeParms", "/Length",
					    NULL};
	if (!keys_only(q, trailer, tkeys))
		return false;
	qpdf_oh root = qpdf_get_root(q);
	static const char *const ckeys[] = {"/Type", "/Pages", NULL};
	if (!keys_only(q, root, ckeys))
		return false;
	int np = qpdf_get_num_pages(q);
	if (np <= 0)
		return false;
	for (int i = 0; i < np; i++) {
		qpdf_oh pg = qpdf_get_page_n(q, (size_t)i);
		static const char *const pkeys[] = {"/Type", "/Parent", "/MediaBox", "/Contents",
						    "/Resources", "/Group", NULL};
		if (!keys_only(q, pg, pkeys))
			return false;
		qpdf_oh res = qpdf_oh_get_key(q, pg, "/Resources");
		static const char *const rkeys[] = {"/XObject", "/Font", "/ExtGState", "/ProcSet",
						    NULL};
		if (!keys_only(q, res, rkeys) || !each_resource(q, res, "/XObject", is_image) ||
		    !each_resource(q, res, "/Font", is_box_font) ||
		    !each_resource(q, res, "/ExtGState", is_gstate))
			return false;
	}
	return !qpdf_has_error(q);
}

static void qpdf_quiet(qpdf_data q)
{
	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
}

/* Writes q (compressed, object streams, a deterministic /ID) and appends it to out. */
static int qpdf_out(qpdf_data q, sk_buf *out, sk_error *err)
{
	QPDF_ERROR_CODE qe = qpdf_init_write_memory(q);
	if (!(qe & QPDF_ERRORS)) {
		qpdf_set_object_stream_mode(q, qpdf_o_generate);
		qpdf_set_compress_streams(q, QPDF_TRUE);
		qpdf_set_stream_data_mode(q, qpdf_s_compress);
		qpdf_set_deterministic_ID(q, QPDF_TRUE);
		qe = qpdf_write(q);
	}
	if ((qe & QPDF_ERRORS) || qpdf_has_error(q) || !qpdf_get_buffer_length(q))
		return sk_error_set(err, SK_EINTERNAL, "render: qpdf cannot write the document");
	if (sk_buf_add(out, qpdf_get_buffer(q), qpdf_get_buffer_length(q)))
		return sk_error_set(err, SK_ELIMIT, "render: output too large");
	return 0;
}

/* cairo's PDF in → the final document appended to out */
static int finish_pdf(const sk_buf *in, sk_buf *out, sk_error *err)
{
	qpdf_data q = qpdf_init();
	if (!q)
		return sk_error_set(err, SK_ENOMEM, "qpdf_init");
	qpdf_quiet(q);
	int rc = 0;
	sk_buf content;
	sk_buf_init(&content, 0);
	if (qpdf_read_memory(q, "render.pdf", (const char *)sk_buf_data(in), sk_buf_len(in), "") &
	    QPDF_ERRORS) {
		rc = sk_error_set(err, SK_EINTERNAL, "render: qpdf cannot read cairo's output");
		goto out;
	}
	qpdf_oh trailer = qpdf_get_trailer(q);
	qpdf_oh_remove_key(q, trailer, "/Info");
	int np = qpdf_get_num_pages(q);
	for (int i = 0; i < np && !rc; i++) {
		qpdf_oh pg = qpdf_get_page_n(q, (size_t)i);
		qpdf_oh c = qpdf_oh_get_key(q, pg, "/Contents");
		unsigned char *data = NULL;
		size_t len = 0;
		QPDF_BOOL filtered = QPDF_FALSE;
		size_t bt = 0;
		if (!qpdf_oh_is_stream(q, c) ||
		    (qpdf_oh_get_stream_data(q, c, qpdf_dl_generalized, &filtered, &data, &len) &
		     QPDF_ERRORS) ||
		    !filtered) {
			rc = sk_error_set(err, SK_EINTERNAL, "render: page %d content", i + 1);
		} else {
			sk_buf_reset(&content);
			rc = invisible_text(data, len, &content, &bt);
			if (rc)
				sk_error_set(err, rc, "render: page %d: unexpected content", i + 1);
			else
				qpdf_oh_replace_stream_data(q, c, sk_buf_data(&content),
							    sk_buf_len(&content), qpdf_oh_new_null(q),
							    qpdf_oh_new_null(q));
		}
		free(data);
	}
	if (!rc && !check_output(q))
		rc = sk_error_set(err, SK_EINTERNAL, "render: the output holds more than images and text");
	if (!rc)
		rc = qpdf_out(q, out, err);
out:
	sk_buf_free(&content);
	if (qpdf_has_error(q))
		qpdf_get_error(q);
	qpdf_cleanup(&q);
	return rc;
}

static sk_reason gerror_reason(const GError *e)
{
	if (e && e->domain == POPPLER_ERROR && e->code == POPPLER_ERROR_ENCRYPTED)
		return SK_REASON_ENCRYPTED;
	return SK_REASON_MALFORMED;
}

/* poppler's document of p[0..n) (kept, not copied: close_pdf before p goes) with at least
 * one page, *np of them; else SK_EFORMAT with *why (malformed, encrypted) */
static int open_pdf(const uint8_t *p, size_t n, GBytes **bytes, PopplerDocument **doc,
		    unsigned *np, sk_reason *why, sk_error *err)
{
	GError *gerr = NULL;
	*bytes = g_bytes_new_static(p, n);
	*doc = poppler_document_new_from_bytes(*bytes, NULL, &gerr);
	int rc = 0;
	int npi = *doc ? poppler_document_get_n_pages(*doc) : 0;
	if (!*doc) {
		*why = gerror_reason(gerr);
		rc = sk_error_set(err, SK_EFORMAT, "render: %s", gerr ? gerr->message : "poppler");
	} else if (npi <= 0) {
		*why = SK_REASON_MALFORMED;
		rc = sk_error_set(err, SK_EFORMAT, "render: no pages");
	} else {
		*np = (unsigned)npi;
	}
	if (gerr)
		g_error_free(gerr);
	return rc;
}

static void close_pdf(GBytes *bytes, PopplerDocument *doc)
{
	if (doc)
		g_object_unref(doc);
	if (bytes)
		g_bytes_unref(bytes);
}

int sk_render_image_pdf(const uint8_t *p, size_t n, const sk_render_options *o, unsigned first,
			unsigned last, sk_budget *b, sk_buf *out, sk_render_info *info,
			sk_reason *reason, sk_error *err)
{
	sk_reason why = SK_REASON_NONE;
	sk_render_options opt;
	opts_fill(o, &opt);
	if (!p || !b || !out || n > INT32_MAX) {
		if (reason)
			*reason = SK_REASON_INTERNAL;
		return sk_error_set(err, SK_EINVAL, "render: bad arguments");
	}
	if (opt.dpi > RENDER_DPI_MAX) {
		if (reason)
			*reason = SK_REASON_INTERNAL;
		return sk_error_set(err, SK_EINVAL, "render: dpi above %d", RENDER_DPI_MAX);
	}
	if ((why = sk_budget_time(b)) != SK_REASON_NONE) {
		if (reason)
			*reason = why;
		return sk_error_set(err, SK_EFORMAT, "render: %s", sk_reason_code(why));
	}
	pthread_mutex_lock(&render_lock);
	int rc = base_init(err);
	if (!rc)
		rc = ocr_init(opt.ocr_lang, err);
	if (rc) {
		pthread_mutex_unlock(&render_lock);
		if (reason)
			*reason = SK_REASON_INTERNAL;
		return rc;
	}

	GBytes *bytes = NULL;
	PopplerDocument *doc = NULL;
	cairo_surface_t *pdf = NULL;
	cairo_t *cr = NULL;
	sk_buf raw;
	sk_buf_init(&raw, 0);
	unsigned np = 0;
	if ((rc = open_pdf(p, n, &bytes, &doc, &np, &why, err)) != 0)
		goto out;
	if (np > opt.max_pages) {
		why = SK_REASON_LIMIT_PAGES;
		rc = sk_error_set(err, SK_EFORMAT, "render: %u pages, at most %u", np, opt.max_pages);
		goto out;
	}
	if (!first && !last)
		last = np;
	if (first >= last || last > np) {
		why = SK_REASON_INTERNAL;
		rc = sk_error_set(err, SK_EINVAL, "render: pages [%u, %u) of %u", first, last, np);
		goto out;
	}
	pdf = cairo_pdf_surface_create_for_stream(buf_write, &raw, 595, 842);
	cr = cairo_create(pdf);
	if (cairo_status(cr)) {
		rc = sk_error_set(err, SK_ENOMEM, "render: cairo PDF surface");
		goto out;
	}
	render_job j = {.o = &opt, .b = b, .cr = cr, .err = err, .info = {.pages = np}};
	for (unsigned i = first; i < last && !rc; i++) {
		if ((j.reason = sk_budget_time(b)) != SK_REASON_NONE) {
			rc = sk_error_set(err, SK_EFORMAT, "render: %s", sk_reason_code(j.reason));
			break;
		}
		rc = render_page(&j, doc, (int)i, pdf);
	}
	if (rc) {
		why = j.reason != SK_REASON_NONE ? j.reason : SK_REASON_INTERNAL;
		if (rc == SK_EFORMAT && j.reason != SK_REASON_NONE && !(err && err->code))
			sk_error_set(err, SK_EFORMAT, "render: %s", sk_reason_code(j.reason));
		goto out;
	}
	cairo_destroy(cr);
	cr = NULL;
	cairo_surface_finish(pdf);
	if (cairo_surface_status(pdf)) {
		why = SK_REASON_INTERNAL;
		rc = sk_error_set(err, SK_EINTERNAL, "render: cairo: %s",
				  cairo_status_to_string(cairo_surface_status(pdf)));
		goto out;
	}
	rc = finish_pdf(&raw, out, err);
	if (rc)
		why = rc == SK_ELIMIT ? SK_REASON_LIMIT_SIZE : SK_REASON_INTERNAL;
	else if (info)
		*info = j.info;
out:
	if (cr)
		cairo_destroy(cr);
	if (pdf)
		cairo_surface_destroy(pdf);
	sk_buf_free(&raw);
	close_pdf(bytes, doc);
	pthread_mutex_unlock(&render_lock);
	if (rc) {
		if (rc == SK_EFORMAT && why == SK_REASON_NONE)
			why = SK_REASON_MALFORMED;
		if (reason)
			*reason = why;
		return rc;
	}
	if (reason)
		*reason = SK_REASON_NONE;
	return 0;
}

int sk_render_pages(const uint8_t *p, size_t n, unsigned *pages, sk_reason *reason,
		    sk_error *err)
{
	*reason = SK_REASON_INTERNAL;
	if (!p || n > INT32_MAX)
		return sk_error_set(err, SK_EINVAL, "render: bad arguments");
	pthread_mutex_lock(&render_lock);
	int rc = base_init(err);
	if (rc) {
		pthread_mutex_unlock(&render_lock);
		return rc;
	}
	GBytes *bytes = NULL;
	PopplerDocument *doc = NULL;
	unsigned np = 0;
	rc = open_pdf(p, n, &bytes, &doc, &np, reason, err);
	if (!rc) {
		*reason = SK_REASON_NONE;
		*pages = np;
	}
	close_pdf(bytes, doc);
	pthread_mutex_unlock(&render_lock);
	return rc;
}

int sk_render_join(const sk_buf *parts, size_t n, sk_buf *out, sk_error *err)
{
	if (!parts || !n || !out)
		return sk_error_set(err, SK_EINVAL, "render: nothing to join");
	qpdf_data *q = calloc(n, sizeof(*q));
	if (!q)
		return sk_error_set(err, SK_ENOMEM, "render: join");
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if (!(q[i] = qpdf_init())) {
			rc = sk_error_set(err, SK_ENOMEM, "qpdf_init");
			break;
		}
		qpdf_quiet(q[i]);
		/* parts come from workers: each must be what sk_render_image_pdf writes */
		if ((qpdf_read_memory(q[i], "part.pdf", (const char *)sk_buf_data(&parts[i]),
				      sk_buf_len(&parts[i]), "") &
		     QPDF_ERRORS) ||
		    qpdf_is_encrypted(q[i]) || !check_output(q[i]))
			rc = sk_error_set(err, SK_EFORMAT, "render: part %zu is not an image PDF", i + 1);
	}
	for (size_t i = 1; i < n && !rc; i++) {
		int np = qpdf_get_num_pages(q[i]);
		for (int k = 0; k < np && !rc; k++)
			if (qpdf_add_page(q[0], q[i], qpdf_get_page_n(q[i], (size_t)k), QPDF_FALSE) &
			    QPDF_ERRORS)
				rc = sk_error_set(err, SK_EINTERNAL, "render: join page %d of part %zu",
						  k + 1, i + 1);
	}
	if (!rc && !check_output(q[0]))
		rc = sk_error_set(err, SK_EFORMAT, "render: the joined document");
	if (!rc)
		rc = qpdf_out(q[0], out, err);
	for (size_t i = 0; i < n; i++) {
		if (!q[i])
			continue;
		if (qpdf_has_error(q[i]))
			qpdf_get_error(q[i]);
		qpdf_cleanup(&q[i]);
	}
	free(q);
	return rc;
}
