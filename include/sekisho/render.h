/* sekisho — 画像化: a document made into pixels only.
 *
 * A PDF's pages are rendered (poppler + cairo) at the options' dpi with Japanese fonts;
 * a new PDF is built from the page images only, each page carrying an invisible text
 * layer from OCR (tesseract, the Japanese models, vertical text in reading order) so that
 * its text can still be searched and copied. Nothing of the original's structure
 * survives: no fonts, no annotations, no actions, no metadata, no outlines.
 *
 * Hostile input: runs only inside a sandboxed worker (the office worker, office.h), under
 * the budget: pages (max_pages), pixels (the budget's max_pixels, charged per page), the
 * wall clock (checked per page and inside OCR). A page that cannot be rendered blocks the
 * whole item (malformed); nothing partial is returned as whole. */
#ifndef SEKISHO_RENDER_H
#define SEKISHO_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/budget.h"
#include "sekisho/buf.h"
#include "sekisho/error.h"
#include "sekisho/report.h"

typedef struct sk_render_options {
	unsigned dpi;       /* 0: 150 */
	unsigned max_pages; /* 0: 500 */
	const char *ocr_lang; /* tesseract languages; NULL: "jpn+jpn_vert+eng"; "" : no OCR */
	bool gray;          /* render in grey (smaller output) */
} sk_render_options;

void sk_render_options_default(sk_render_options *o);

/* Loads what rendering needs before a sandbox closes the file system (fontconfig's
 * cache, the OCR models). Idempotent. */
int sk_render_init(const sk_render_options *o, sk_error *err);

/* p[0..n) (a PDF) → out: a new PDF of pages [first, last) (0, 0: all) as images with the
 * invisible OCR text. *pages (may be NULL) gets the document's page count. On failure
 * *reason: SK_REASON_MALFORMED (poppler cannot open or render a page), SK_REASON_ENCRYPTED
 * (a password is needed), a SK_REASON_LIMIT_* of the budget or max_pages. */
int sk_render_image_pdf(const uint8_t *p, size_t n, const sk_render_options *o, unsigned first,
			unsigned last, sk_budget *b, sk_buf *out, unsigned *pages,
			sk_reason *reason, sk_error *err);

/* Joins PDFs made by sk_render_image_pdf (page ranges of one document, in order) into
 * one. */
int sk_render_join(const sk_buf *parts, size_t n, sk_buf *out, sk_error *err);

#endif
