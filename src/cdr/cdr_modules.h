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

/* registry.c: the reason a recognised type no module rebuilds is blocked with
 * (unsupported-legacy-office, -rtf, -odf; unknown-type) */
sk_reason sk_cdr_unsupported_reason(sk_kind k);

/* text.c: read chunk size in bytes, 0 = default (1 MiB). Tests set it small to put
 * chunk boundaries everywhere. */
extern size_t sk_cdr_text_chunk;

#endif
