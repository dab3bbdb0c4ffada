/* sekisho — true-type detection by content (magic bytes and structure), never by name.
 *
 * The file name is used only to *report* a mismatch and to *block* names that Windows
 * would run (an executable or script extension); it never selects how content is parsed,
 * except that a text file's name tells whether Excel will open it as CSV. */
#ifndef SEKISHO_DETECT_H
#define SEKISHO_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/error.h"
#include "sekisho/io.h"

typedef enum sk_kind {
	SK_KIND_UNKNOWN = 0,
	SK_KIND_TEXT,   /* plain text in some encoding */
	SK_KIND_CSV,    /* text that is (or is named) comma/tab/semicolon separated */
	SK_KIND_PNG,
	SK_KIND_JPEG,
	SK_KIND_GIF,
	SK_KIND_BMP,
	SK_KIND_ZIP,
	SK_KIND_OOXML,  /* ZIP with [Content_Types].xml, or _rels/.rels and word/, xl/ or ppt/ */
	SK_KIND_ODF,    /* ZIP whose first entry is mimetype application/vnd.oasis… */
	SK_KIND_PDF,
	SK_KIND_OLE2,   /* compound file: legacy Office, or encrypted OOXML */
	SK_KIND_RTF,
	SK_KIND_TIFF,
	SK_KIND_HTML,
	SK_KIND_SVG,
	SK_KIND_XML,
	SK_KIND_ARCHIVE,    /* 7z, rar, gzip, tar, cab, lzh, … (not ZIP) */
	SK_KIND_EXECUTABLE, /* PE, ELF, Mach-O, MSI, LNK, HTA, scripts, disk images, JAR, APK … */
	SK_KIND_MESSAGE,    /* an Internet message (RFC 5322/MIME, an .eml file): "eml" */
	SK_KIND__COUNT
} sk_kind;

typedef struct sk_type {
	sk_kind kind;
	const char *code;  /* stable short name: "png", "csv", "pe", "msi", "iso", "docx" … */
	const char *mime;  /* "image/png" … ("application/octet-stream" when unknown) */
	const char *ext;   /* canonical extension without dot: "png", "txt", "exe"; "" if none */
} sk_type;

/* Detects the type of in. name may be NULL. Needs the whole input only for ZIP
 * (the central directory); follows an OLE2 file's directory with the compound file
 * reader (cfb.h, lenient: at most 4096 entries and the FAT sectors on their chain);
 * reads at most 64 KiB otherwise — up to SK_MAIL_SNIFF (mail.h) when those 64 KiB are
 * all header fields of a message still going on.
 * Text that is an Internet message is "eml" (kind SK_KIND_MESSAGE): it opens with a header
 * block that names MIME or holds an encoded word (mail.h: sk_mail_is_message), or it is
 * named .eml (the name a mail reader opens it by; a text named .eml is read as a message
 * whatever its header says). A text whose lines merely look like "Name: value" without
 * MIME (a note starting "From: ") stays text. */
int sk_detect(sk_input *in, const char *name, sk_type *out, sk_error *err);

/* The static type whose code is code (every type sk_detect() answers has one), or NULL.
 * The gate maps a worker's answer back to a type with it. */
const sk_type *sk_type_find(const char *code);

/* true for the kinds whose content DLP reads as text (text, CSV, HTML, XML, SVG). */
bool sk_kind_is_text(sk_kind k);

/* Name checks. ext is the final extension after removing bidi/control characters,
 * lower-cased, without the dot ("" when none). */
void sk_name_ext(const char *name, char *ext, size_t extsz);
/* true for extensions Windows runs or mounts (exe, js, vbs, lnk, iso, hta, ps1, …). */
bool sk_name_ext_is_executable(const char *ext);
/* true when the name's extension belongs to another type than t (e.g. a PNG named .pdf).
 * Names without an extension, or whose extension is an alias of t ("jpg"/"jpeg"), match;
 * so do text and CSV, and text and a message (a mail saved as .txt). */
bool sk_name_mismatch(const char *name, const sk_type *t);

#endif
