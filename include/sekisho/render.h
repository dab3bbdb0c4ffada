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
	/* tesseract languages for every page ("jpn+eng"); "": no OCR; NULL: chosen per page
	 * (below) */
	const char *ocr_lang;
	bool gray;          /* render in grey (smaller output) */
} sk_render_options;

/* OCR models chosen per page when ocr_lang is NULL: tesseract's layout analysis (cheap,
 * the same for any model) finds the page's text blocks and their writing direction
 * first; a page of horizontal blocks only (or none) is read with "jpn" alone, one of
 * vertical blocks only with "jpn_vert", one with both with "jpn+jpn_vert" (tesseract then
 * tries both models on every word, which costs about twice as much). So a horizontal page
 * costs what "jpn" costs, and vertical text is still read by its own model, in order. */
typedef enum sk_render_ocr {
	SK_RENDER_OCR_JPN = 0,    /* "jpn": horizontal text */
	SK_RENDER_OCR_VERT,       /* "jpn_vert": vertical text */
	SK_RENDER_OCR_BOTH,       /* "jpn+jpn_vert": both on one page */
	SK_RENDER_OCR_LIST,       /* the options' own ocr_lang */
	SK_RENDER_OCR__COUNT
} sk_render_ocr;
/* "jpn", "jpn_vert", "jpn+jpn_vert", "list" */
const char *sk_render_ocr_code(sk_render_ocr m);

/* What a call rendered. */
typedef struct sk_render_info {
	unsigned pages;    /* the document's page count */
	unsigned rendered; /* pages rendered by this call */
	uint64_t pixels;   /* pixels rendered (what was charged to the budget) */
	unsigned ocr[SK_RENDER_OCR__COUNT]; /* pages read with each choice of models */
} sk_render_info;

/* "OCR jpn 3, jpn_vert 1" (the models used, with their page counts; "" without OCR) */
void sk_render_ocr_note(const sk_render_info *info, char *buf, size_t n);

void sk_render_options_default(sk_render_options *o);

/* Loads what rendering needs before a sandbox closes the file system (fontconfig's
 * cache, the OCR models). Idempotent. */
int sk_render_init(const sk_render_options *o, sk_error *err);

/* p[0..n) (a PDF) → out: a new PDF of pages [first, last) (0, 0: all) as images with the
 * invisible OCR text. *info (may be NULL; untouched on failure) says what was rendered.
 * On failure *reason: SK_REASON_MALFORMED (poppler cannot open or render a page),
 * SK_REASON_ENCRYPTED (a password is needed), a SK_REASON_LIMIT_* of the budget or
 * max_pages. */
int sk_render_image_pdf(const uint8_t *p, size_t n, const sk_render_options *o, unsigned first,
			unsigned last, sk_budget *b, sk_buf *out, sk_render_info *info,
			sk_reason *reason, sk_error *err);

/* The page count of p[0..n) as poppler reads it (what sk_render_image_pdf would render),
 * without rendering anything: 0, or SK_EFORMAT with *reason SK_REASON_MALFORMED (no
 * pages, cannot be opened) or SK_REASON_ENCRYPTED. */
int sk_render_pages(const uint8_t *p, size_t n, unsigned *pages, sk_reason *reason,
		    sk_error *err);

/* Joins PDFs made by sk_render_image_pdf (page ranges of one document, in order) into
 * one. */
int sk_render_join(const sk_buf *parts, size_t n, sk_buf *out, sk_error *err);

#endif
