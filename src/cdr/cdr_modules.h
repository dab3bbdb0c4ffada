/* The format modules the registry knows (internal to libsekisho). */
#ifndef SK_CDR_MODULES_H
#define SK_CDR_MODULES_H

#include "sekisho/cdr.h"

extern const sk_cdr_module sk_cdr_module_text;  /* text.c: text, CSV/TSV */
extern const sk_cdr_module sk_cdr_module_image; /* image.c: PNG, JPEG, GIF, BMP */
extern const sk_cdr_module sk_cdr_module_ooxml; /* ooxml.c: docx/xlsx/pptx and variants */
extern const sk_cdr_module sk_cdr_module_zip;   /* zip.c: ZIP archives */
extern const sk_cdr_module sk_cdr_module_pdf;   /* pdf.c: PDF (qpdf) */

/* text.c: read chunk size in bytes, 0 = default (1 MiB). Tests set it small to put
 * chunk boundaries everywhere. */
extern size_t sk_cdr_text_chunk;

#endif
