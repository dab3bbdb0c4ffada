/* The format modules the registry knows (internal to libsekisho). */
#ifndef SK_CDR_MODULES_H
#define SK_CDR_MODULES_H

#include "sekisho/cdr.h"

extern const sk_cdr_module sk_cdr_module_text;  /* text.c: text, CSV/TSV */
extern const sk_cdr_module sk_cdr_module_image; /* image.c: PNG, JPEG, GIF, BMP */
extern const sk_cdr_module sk_cdr_module_ooxml; /* ooxml.c: docx/xlsx/pptx and variants */
extern const sk_cdr_module sk_cdr_module_zip;   /* zip.c: ZIP archives */
extern const sk_cdr_module sk_cdr_module_pdf;   /* pdf.c: PDF (qpdf) */
/* legacy.c: legacy Office, RTF, ODF, xlsb, Office 2003 XML: converted (sk_cdr_ctx.convert)
 * to OOXML, then rebuilt by the OOXML module */
extern const sk_cdr_module sk_cdr_module_legacy;
/* msg.c: Outlook .msg rebuilt as a text-only .eml, attachments through the registry */
extern const sk_cdr_module sk_cdr_module_msg;
/* eml.c: an Internet message (an .eml file) rebuilt as the mail channel rebuilds one,
 * attachments through the registry */
extern const sk_cdr_module sk_cdr_module_eml;
/* legacy.c: 画像化 of what the profile makes into images (sk_cdr_images): the convert hook
 * renders it (SK_CONVERT_IMAGE), the PDF module rebuilds the result */
extern const sk_cdr_module sk_cdr_module_render;

/* registry.c: true when ctx's profile makes an item of ctx->type into images (a PDF with
 * pdf_image, a docx/xlsx/pptx with ooxml_image; legacy families are the legacy module's
 * to decide) */
bool sk_cdr_images(const sk_cdr_ctx *ctx);

/* legacy.c: 画像化 of p[0..n) (ctx->type) into out by the convert hook, then rebuilt by
 * the PDF module; out_ext "pdf"; the report gets "converted image FROM→pdf …".
 * damaged: NULL, or why the PDF module refused this PDF (qpdf's message): then any
 * failure blocks the item as malformed with that message (the 画像化 was a second
 * chance), else with the hook's reason. */
int sk_cdr_render(sk_cdr_ctx *ctx, const uint8_t *p, size_t n, sk_output *out,
		  const char *damaged, sk_error *err);

/* registry.c: the reason a recognised type no module rebuilds is blocked with
 * (unsupported-legacy-office, -rtf, -odf; unknown-type) */
sk_reason sk_cdr_unsupported_reason(sk_kind k);

/* text.c: read chunk size in bytes, 0 = default (1 MiB). Tests set it small to put
 * chunk boundaries everywhere. */
extern size_t sk_cdr_text_chunk;

#endif
