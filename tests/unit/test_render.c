/* 画像化 (render.h): the options, each failure reason (malformed, encrypted, each limit),
 * the structure of the output read back with qpdf, its OCR text read back with poppler,
 * page ranges and their join. The PDFs are written here; the Japanese documents and the
 * recall figures are in tests/integration/render.sh. */
#include <poppler.h>
#include <qpdf/qpdf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sekisho/render.h"
#include "testutil.h"

/* A PDF of npages pages of w x h points, each showing text (Helvetica 28 pt). */
static void make_pdf(sk_buf *b, unsigned npages, unsigned w, unsigned h, const char *text)
{
	size_t off[64];
	unsigned nobj = 2 + 2 * npages;
	assert_true(nobj < 64);
	sk_buf_init(b, 0);
	assert_int_equal(sk_buf_adds(b, "%PDF-1.4\n"), 0);
	off[1] = sk_buf_len(b);
	assert_int_equal(sk_buf_adds(b, "1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"), 0);
	off[2] = sk_buf_len(b);
	assert_int_equal(sk_buf_printf(b, "2 0 obj << /Type /Pages /Count %u /Kids [", npages), 0);
	for (unsigned i = 0; i < npages; i++)
		assert_int_equal(sk_buf_printf(b, " %u 0 R", 3 + 2 * i), 0);
	assert_int_equal(sk_buf_adds(b, " ] >> endobj\n"), 0);
	for (unsigned i = 0; i < npages; i++) {
		char content[256];
		snprintf(content, sizeof(content), "BT /F1 28 Tf 30 %u Td (%s %u) Tj ET", h / 2, text, i + 1);
		off[3 + 2 * i] = sk_buf_len(b);
		assert_int_equal(sk_buf_printf(b,
					       "%u 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 %u %u] "
					       "/Contents %u 0 R /Resources << /Font << /F1 << /Type /Font "
					       "/Subtype /Type1 /BaseFont /Helvetica >> >> >> >> endobj\n",
					       3 + 2 * i, w, h, 4 + 2 * i),
				 0);
		off[4 + 2 * i] = sk_buf_len(b);
		assert_int_equal(sk_buf_printf(b, "%u 0 obj << /Length %zu >> stream\n%s\nendstream endobj\n",
					       4 + 2 * i, strlen(content), content),
				 0);
	}
	size_t xref = sk_buf_len(b);
	assert_int_equal(sk_buf_printf(b, "xref\n0 %u\n0000000000 65535 f \n", nobj + 1), 0);
	for (unsigned i = 1; i <= nobj; i++)
		assert_int_equal(sk_buf_printf(b, "%010zu 00000 n \n", off[i]), 0);
	assert_int_equal(sk_buf_printf(b, "trailer << /Size %u /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
				       nobj + 1, xref),
			 0);
}

static void budget(sk_budget *b)
{
	sk_budget_default(b);
	sk_budget_start(b);
}

/* Renders; returns the reason (SK_REASON_NONE on success, with rc 0). */
static sk_reason run(const sk_buf *in, const sk_render_options *o, unsigned first, unsigned last,
		     sk_budget *b, sk_buf *out, unsigned *pages)
{
	sk_error err = {0};
	sk_reason why = SK_REASON__COUNT;
	sk_render_info info;
	memset(&info, 0x5a, sizeof(info));
	int rc = sk_render_image_pdf(sk_buf_data(in), sk_buf_len(in), o, first, last, b, out,
				     &info, &why, &err);
	if (rc == 0 && pages)
		*pages = info.pages;
	if (rc)
		assert_int_not_equal(why, SK_REASON_NONE);
	else
		assert_int_equal(why, SK_REASON_NONE);
	assert_int_not_equal(why, SK_REASON__COUNT);
	return why;
}

static void no_ocr(sk_render_options *o)
{
	sk_render_options_default(o);
	o->ocr_lang = "";
	o->dpi = 72;
}

static void test_defaults(void **state)
{
	(void)state;
	sk_render_options o;
	memset(&o, 0xff, sizeof(o));
	sk_render_options_default(&o);
	assert_int_equal(o.dpi, 150);
	assert_int_equal(o.max_pages, 500);
	assert_null(o.ocr_lang);
	assert_false(o.gray);
	sk_error err = {0};
	assert_int_equal(sk_render_init(&o, &err), 0);
	assert_int_equal(sk_render_init(&o, &err), 0); /* idempotent */
	sk_render_options bad = o;
	bad.ocr_lang = "../../etc/passwd";
	assert_int_equal(sk_render_init(&bad, &err), SK_EINVAL);
	assert_string_equal(sk_reason_code(SK_REASON_LIMIT_PAGES), "limit-pages");
	assert_true(sk_reason_is_fatal(SK_REASON_LIMIT_PAGES));
	assert_int_equal(sk_reason_from_code("limit-pages"), SK_REASON_LIMIT_PAGES);
	assert_non_null(strstr(sk_reason_text(SK_REASON_LIMIT_PAGES, SK_LANG_JA), "ページ"));
}

static void test_malformed(void **state)
{
	(void)state;
	sk_render_options o;
	no_ocr(&o);
	sk_budget b;
	budget(&b);
	sk_buf in, out;
	sk_buf_init(&in, 0);
	sk_buf_init(&out, 0);
	assert_int_equal(sk_buf_adds(&in, "this is not a PDF at all, only words"), 0);
	unsigned pages = 77;
	assert_int_equal(run(&in, &o, 0, 0, &b, &out, &pages), SK_REASON_MALFORMED);
	assert_int_equal(sk_buf_len(&out), 0); /* nothing returned */
	assert_int_equal(pages, 77);           /* untouched on failure */
	sk_buf_reset(&in);
	assert_int_equal(sk_buf_adds(&in, "%PDF-1.7\n%%EOF\n"), 0);
	assert_int_equal(run(&in, &o, 0, 0, &b, &out, NULL), SK_REASON_MALFORMED);
	sk_buf_free(&in);
	sk_buf_free(&out);
}

static void test_encrypted(void **state)
{
	(void)state;
	sk_buf plain, enc, out;
	make_pdf(&plain, 1, 300, 200, "secret");
	qpdf_data q = qpdf_init();
	qpdf_silence_errors(q);
	assert_false(qpdf_read_memory(q, "p.pdf", (const char *)sk_buf_data(&plain), sk_buf_len(&plain), "") &
		     QPDF_ERRORS);
	assert_false(qpdf_init_write_memory(q) & QPDF_ERRORS);
	qpdf_set_r6_encryption_parameters2(q, "user", "owner", QPDF_TRUE, QPDF_TRUE, QPDF_TRUE, QPDF_TRUE,
					   QPDF_TRUE, QPDF_TRUE, qpdf_r3p_full, QPDF_TRUE);
	assert_false(qpdf_write(q) & QPDF_ERRORS);
	sk_buf_init(&enc, 0);
	assert_int_equal(sk_buf_add(&enc, qpdf_get_buffer(q), qpdf_get_buffer_length(q)), 0);
	qpdf_cleanup(&q);
	sk_render_options o;
	no_ocr(&o);
	sk_budget b;
	budget(&b);
	sk_buf_init(&out, 0);
	assert_int_equal(run(&enc, &o, 0, 0, &b, &out, NULL), SK_REASON_ENCRYPTED);
	assert_int_equal(sk_buf_len(&out), 0);
	assert_int_equal(run(&plain, &o, 0, 0, &b, &out, NULL), SK_REASON_NONE); /* the control */
	sk_buf_free(&plain);
	sk_buf_free(&enc);
	sk_buf_free(&out);
}

static void test_limits(void **state)
{
	(void)state;
	sk_render_options o;
	no_ocr(&o);
	sk_budget b;
	sk_buf in, out;
	make_pdf(&in, 3, 300, 200, "page");
	sk_buf_init(&out, 0);

	/* pages: the document's count against max_pages */
	o.max_pages = 2;
	budget(&b);
	assert_int_equal(run(&in, &o, 0, 1, &b, &out, NULL), SK_REASON_LIMIT_PAGES);
	o.max_pages = 3;
	assert_int_equal(run(&in, &o, 0, 1, &b, &out, NULL), SK_REASON_NONE);

	/* pixels: at 72 dpi a page is 300 x 200; three of them are 180,000 */
	sk_buf_reset(&out);
	budget(&b);
	b.max_pixels = 179999;
	assert_int_equal(run(&in, &o, 0, 0, &b, &out, NULL), SK_REASON_LIMIT_PIXELS);
	assert_int_equal(sk_buf_len(&out), 0);
	budget(&b);
	b.max_pixels = 180000;
	assert_int_equal(run(&in, &o, 0, 0, &b, &out, NULL), SK_REASON_NONE);
	assert_int_equal(b.pixels, 180000);
	/* a page wider than cairo draws: limit-pixels whatever the budget */
	sk_buf wide;
	make_pdf(&wide, 1, 14400, 100, "wide");
	budget(&b);
	b.max_pixels = UINT64_MAX;
	o.dpi = 200;
	assert_int_equal(run(&wide, &o, 0, 0, &b, &out, NULL), SK_REASON_LIMIT_PIXELS);
	o.dpi = 72;

	/* time: a budget past its deadline */
	budget(&b);
	b.deadline_ns = 1;
	assert_int_equal(run(&in, &o, 0, 0, &b, &out, NULL), SK_REASON_LIMIT_TIME);

	/* a range past the end is the caller's error */
	budget(&b);
	sk_error err = {0};
	sk_reason why;
	assert_int_equal(sk_render_image_pdf(sk_buf_data(&in), sk_buf_len(&in), &o, 2, 4, &b, &out,
					     NULL, &why, &err),
			 SK_EINVAL);
	sk_buf_free(&wide);
	sk_buf_free(&in);
	sk_buf_free(&out);
}

/* Reads the output with qpdf: no /Info, a catalog with /Pages only, every XObject an
 * image, every font Type 3, no annotations. Returns the page count. */
static int check_structure(const sk_buf *pdf)
{
	qpdf_data q = qpdf_init();
	qpdf_silence_errors(q);
	assert_false(qpdf_read_memory(q, "o.pdf", (const char *)sk_buf_data(pdf), sk_buf_len(pdf), "") &
		     QPDF_ERRORS);
	assert_false(qpdf_oh_has_key(q, qpdf_get_trailer(q), "/Info"));
	qpdf_oh root = qpdf_get_root(q);
	assert_false(qpdf_oh_has_key(q, root, "/Outlines"));
	assert_false(qpdf_oh_has_key(q, root, "/Names"));
	assert_false(qpdf_oh_has_key(q, root, "/Metadata"));
	int np = qpdf_get_num_pages(q);
	for (int i = 0; i < np; i++) {
		qpdf_oh pg = qpdf_get_page_n(q, (size_t)i);
		assert_false(qpdf_oh_has_key(q, pg, "/Annots"));
		qpdf_oh res = qpdf_oh_get_key(q, pg, "/Resources");
		qpdf_oh xo = qpdf_oh_get_key(q, res, "/XObject");
		int images = 0;
		qpdf_oh_begin_dict_key_iter(q, xo);
		while (qpdf_oh_dict_more_keys(q)) {
			qpdf_oh x = qpdf_oh_get_key(q, xo, qpdf_oh_dict_next_key(q));
			qpdf_oh sub = qpdf_oh_get_key(q, qpdf_oh_get_dict(q, x), "/Subtype");
			assert_string_equal(qpdf_oh_get_name(q, sub), "/Image");
			images++;
		}
		assert_int_equal(images, 1);
		if (qpdf_oh_has_key(q, res, "/Font")) {
			qpdf_oh fonts = qpdf_oh_get_key(q, res, "/Font");
			qpdf_oh_begin_dict_key_iter(q, fonts);
			while (qpdf_oh_dict_more_keys(q)) {
				qpdf_oh f = qpdf_oh_get_key(q, fonts, qpdf_oh_dict_next_key(q));
				assert_string_equal(qpdf_oh_get_name(q, qpdf_oh_get_key(q, f, "/Subtype")), "/Type3");
			}
		}
	}
	qpdf_cleanup(&q);
	return np;
}

/* the text poppler extracts from page i of pdf */
static char *page_text(const sk_buf *pdf, int i)
{
	GBytes *bytes = g_bytes_new(sk_buf_data(pdf), sk_buf_len(pdf));
	PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, NULL);
	assert_non_null(doc);
	PopplerPage *page = poppler_document_get_page(doc, i);
	assert_non_null(page);
	char *t = poppler_page_get_text(page);
	g_object_unref(page);
	g_object_unref(doc);
	g_bytes_unref(bytes);
	return t;
}

static void test_ocr_and_join(void **state)
{
	(void)state;
	sk_render_options o;
	sk_render_options_default(&o);
	o.ocr_lang = "eng";
	sk_budget b;
	budget(&b);
	sk_buf in, all, p1, p2, joined;
	make_pdf(&in, 2, 400, 150, "Hello sekisho");
	sk_buf_init(&all, 0);
	sk_buf_init(&p1, 0);
	sk_buf_init(&p2, 0);
	sk_buf_init(&joined, 0);
	unsigned pages = 0;
	assert_int_equal(run(&in, &o, 0, 0, &b, &all, &pages), SK_REASON_NONE);
	assert_int_equal(pages, 2);
	assert_int_equal(b.pixels, 2 * 834 * 313); /* 400 x 150 pt at 150 dpi, rounded up */
	assert_int_equal(check_structure(&all), 2);
	assert_null(memmem(sk_buf_data(&all), sk_buf_len(&all), "Helvetica", 9));
	char *t = page_text(&all, 1);
	assert_non_null(strstr(t, "Hello sekisho 2"));
	g_free(t);

	budget(&b);
	assert_int_equal(run(&in, &o, 0, 1, &b, &p1, &pages), SK_REASON_NONE);
	assert_int_equal(run(&in, &o, 1, 2, &b, &p2, &pages), SK_REASON_NONE);
	assert_int_equal(pages, 2); /* the document's count, not the range's */
	assert_int_equal(check_structure(&p1), 1);
	sk_buf parts[2] = {p1, p2};
	sk_error err = {0};
	assert_int_equal(sk_render_join(parts, 2, &joined, &err), 0);
	assert_int_equal(check_structure(&joined), 2);
	t = page_text(&joined, 0);
	assert_non_null(strstr(t, "Hello sekisho 1"));
	g_free(t);
	t = page_text(&joined, 1);
	assert_non_null(strstr(t, "Hello sekisho 2"));
	g_free(t);

	/* a part that is not an image PDF is refused, nothing appended */
	sk_buf bad[2] = {p1, in};
	sk_buf_reset(&joined);
	assert_int_equal(sk_render_join(bad, 2, &joined, &err), SK_EFORMAT);
	assert_int_equal(sk_buf_len(&joined), 0);
	sk_buf_free(&in);
	sk_buf_free(&all);
	sk_buf_free(&p1);
	sk_buf_free(&p2);
	sk_buf_free(&joined);
}

/* sk_render_pages, and what sk_render_image_pdf says it did: pages rendered, pixels, and
 * the models chosen per page (horizontal Latin text: "jpn" alone) */
static void test_info_and_pages(void **state)
{
	(void)state;
	sk_buf in, out;
	make_pdf(&in, 3, 400, 150, "Hello sekisho");
	sk_buf_init(&out, 0);
	sk_error err = {0};
	sk_reason why = SK_REASON__COUNT;
	unsigned pages = 0;
	assert_int_equal(sk_render_pages(sk_buf_data(&in), sk_buf_len(&in), &pages, &why, &err), 0);
	assert_int_equal(pages, 3);
	assert_int_equal(why, SK_REASON_NONE);
	sk_buf junk;
	sk_buf_init(&junk, 0);
	assert_int_equal(sk_buf_adds(&junk, "%PDF-1.4\nnothing\n"), 0);
	pages = 9;
	assert_int_equal(sk_render_pages(sk_buf_data(&junk), sk_buf_len(&junk), &pages, &why, &err),
			 SK_EFORMAT);
	assert_int_equal(why, SK_REASON_MALFORMED);
	assert_int_equal(pages, 9);

	sk_render_options o;
	sk_render_options_default(&o); /* models chosen per page */
	sk_budget b;
	budget(&b);
	sk_render_info info;
	memset(&info, 0, sizeof(info));
	assert_int_equal(sk_render_image_pdf(sk_buf_data(&in), sk_buf_len(&in), &o, 1, 3, &b, &out,
					     &info, &why, &err),
			 0);
	assert_int_equal(info.pages, 3);
	assert_int_equal(info.rendered, 2);
	assert_int_equal(info.pixels, 2 * 834 * 313);
	assert_int_equal(info.pixels, b.pixels);
	assert_int_equal(info.ocr[SK_RENDER_OCR_JPN], 2);
	assert_int_equal(info.ocr[SK_RENDER_OCR_VERT] + info.ocr[SK_RENDER_OCR_BOTH] +
				 info.ocr[SK_RENDER_OCR_LIST],
			 0);
	char *t = page_text(&out, 1);
	assert_non_null(strstr(t, "sekisho"));
	g_free(t);
	char note[96];
	sk_render_ocr_note(&info, note, sizeof(note));
	assert_string_equal(note, "OCR jpn 2");
	info.ocr[SK_RENDER_OCR_VERT] = 1;
	sk_render_ocr_note(&info, note, sizeof(note));
	assert_string_equal(note, "OCR jpn 2, jpn_vert 1");
	sk_render_ocr_note(&info, note, 12); /* what fits: whole entries only */
	assert_string_equal(note, "OCR jpn 2");
	/* no OCR: no page counted for any model */
	o.ocr_lang = "";
	sk_buf_reset(&out);
	budget(&b);
	assert_int_equal(sk_render_image_pdf(sk_buf_data(&in), sk_buf_len(&in), &o, 0, 1, &b, &out,
					     &info, &why, &err),
			 0);
	assert_int_equal(info.rendered, 1);
	for (int m = 0; m < SK_RENDER_OCR__COUNT; m++)
		assert_int_equal(info.ocr[m], 0);
	assert_string_equal(sk_render_ocr_code(SK_RENDER_OCR_BOTH), "jpn+jpn_vert");
	sk_buf_free(&junk);
	sk_buf_free(&in);
	sk_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_encrypted),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_ocr_and_join),
		cmocka_unit_test(test_info_and_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
