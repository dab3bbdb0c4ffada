/* sekisho — the disarm engine (CDR): format modules behind one interface, one registry.
 *
 * A module turns the input bytes of one type into rebuilt output bytes, recording what it
 * removed, converted or neutralised in the shared report, or blocks the item. Containers
 * hand their entries back to the registry with sk_cdr_child(), which detects the entry's
 * type, checks the shared budget and depth, and calls the right module. */
#ifndef SEKISHO_CDR_H
#define SEKISHO_CDR_H

#include <stdbool.h>

#include "sekisho/budget.h"
#include "sekisho/buf.h"
#include "sekisho/detect.h"
#include "sekisho/error.h"
#include "sekisho/io.h"
#include "sekisho/report.h"

/* Formats no module rebuilds structurally, by family: LibreOffice converts them to OOXML
 * (office.h) unless the profile says otherwise. */
typedef enum sk_legacy_family {
	SK_LEGACY_DOC = 0,     /* "doc": Word 97-2003 (.doc, .dot) */
	SK_LEGACY_XLS,         /* "xls": Excel 97-2003 (.xls, .xlt) */
	SK_LEGACY_PPT,         /* "ppt": PowerPoint 97-2003 (.ppt, .pot, .pps) */
	SK_LEGACY_RTF,         /* "rtf" */
	SK_LEGACY_ODF,         /* "odf": OpenDocument text, spreadsheet, presentation */
	SK_LEGACY_XLSB,        /* "xlsb": Excel binary workbook */
	SK_LEGACY_XML2003,     /* "xml2003": Word and Excel 2003 XML */
	SK_LEGACY__COUNT
} sk_legacy_family;

typedef enum sk_legacy_action {
	SK_LEGACY_CONVERT = 0, /* "convert": to OOXML, then rebuilt by the OOXML module */
	SK_LEGACY_IMAGE,       /* "image": 画像化, a PDF of page images (sk_convert, below) */
	SK_LEGACY_BLOCK,       /* "block": blocked unsupported-* */
	SK_LEGACY_ACTION__COUNT
} sk_legacy_action;

/* The family of a detected type code ("doc", "xlsb", "wordml" …; the codes
 * sk_office_target() of office.h knows), or SK_LEGACY__COUNT for any other type. */
sk_legacy_family sk_legacy_family_of(const char *code);
/* Stable names ("doc", "xml2003"; "convert", "image", "block") and back (SK_ENOTFOUND:
 * unknown). */
const char *sk_legacy_family_code(sk_legacy_family f);
const char *sk_legacy_action_code(sk_legacy_action a);
int sk_legacy_family_parse(const char *s);
int sk_legacy_action_parse(const char *s);

/* What the convert hook makes of an item. */
typedef enum sk_convert_target {
	/* a legacy type (a code of office.h's sk_office_target) → its OOXML type, which the
	 * OOXML module then rebuilds (sk_office_convert) */
	SK_CONVERT_OOXML = 0,
	/* 画像化: a PDF, an OOXML document (docx, xlsx, pptx) or a legacy type (office.h:
	 * sk_office_image_from) → a PDF of page images with an invisible OCR text layer
	 * (render.h), which the PDF module then rebuilds (sk_office_image_document) */
	SK_CONVERT_IMAGE,
	SK_CONVERT_TARGET__COUNT
} sk_convert_target;

/* One conversion asked of the hook. */
typedef struct sk_convert {
	sk_convert_target target;
	const char *from;   /* the item's detected type code */
	unsigned dpi;       /* IMAGE: 0: render.h's default (150) */
	unsigned max_pages; /* IMAGE: the page budget; 0: render.h's default (500) */
	/* IMAGE, set by the hook when it succeeds: */
	unsigned pages;     /* pages rendered */
	char note[96];      /* the OCR models used per page, e.g. "OCR jpn 3, jpn_vert 1" */
} sk_convert;

/* The convert hook (engine.h: sk_engine_job.convert): p[0..n) of type c->from made into
 * c->target in out, within what is left of b (its clock, and for IMAGE its pixels); on
 * failure *reason says what to block with. */
typedef int (*sk_convert_fn)(void *ctx, sk_convert *c, const uint8_t *p, size_t n,
			     const sk_budget *b, sk_buf *out, sk_reason *reason, sk_error *err);

/* Options of a sanitisation profile. Profiles are named; sk_profile_find() knows the
 * built-in ones ("default", "strict", "image"); the policy file adds its own. */
typedef struct sk_profile {
	const char *name;
	bool csv_neutralize;       /* neutralise formula/DDE cells in CSV/TSV (default on) */
	bool keep_srgb_icc;        /* keep an ICC profile that is sRGB-equivalent (default on) */
	bool block_name_mismatch;  /* block when name and content disagree (strict) */
	bool keep_comments;        /* office: keep comments (default on) */
	bool keep_revisions;       /* office: keep tracked changes (default on) */
	bool strip_metadata;       /* office/pdf: remove author, company … (default on) */
	bool neutralize_links;     /* pdf: neutralise /URI links (default off) */
	/* what is done with each legacy family (sk_legacy_action; zero: convert) */
	uint8_t legacy[SK_LEGACY__COUNT];
	/* 画像化 (SK_CONVERT_IMAGE) instead of the module's rebuild */
	bool pdf_image;            /* every PDF (default off) */
	bool ooxml_image;          /* every docx, xlsx, pptx and their macro and template
				      variants (default off) */
	bool damaged_pdf_image;    /* a PDF the PDF module (qpdf) refuses as malformed, when
				      poppler can render it (default on; strict too) */
	uint16_t image_dpi;        /* 0: 150 */
	uint32_t image_max_pages;  /* the page budget of one item; 0: 500 */
} sk_profile;

const sk_profile *sk_profile_find(const char *name); /* NULL when unknown */
const sk_profile *sk_profile_default(void);

typedef struct sk_cdr_ctx sk_cdr_ctx;
struct sk_cdr_ctx {
	sk_budget *budget;          /* shared with every nested item */
	sk_report *report;          /* shared: actions of every level go here */
	const sk_profile *profile;
	uint32_t depth;             /* 0 for the top-level item */
	const char *where;          /* path of this item inside the top-level one ("" at top) */
	const char *name;           /* file or entry name of this item, may be NULL */
	sk_type type;               /* detected type of this item */
	/* set by a module whose output must carry another extension ("docx" for a docm);
	 * the top level's goes to report->out_ext, an entry's to its container */
	char out_ext[16];
	/* after sk_cdr_child() delivered an entry: that entry's out_ext ("" for none) */
	char child_ext[16];
	/* after sk_cdr_child(): the type of what the entry became (sk_cdr_out_type) when it
	 * was delivered, else its detected type (its code NULL when undetected) */
	sk_type child_type;
	/* unlocking a PPAP archive (engine.h: sk_engine_job.passwords): the password the
	 * top-level ZIP is decrypted with; NULL otherwise and always for nested items
	 * (sk_cdr_child does not pass it on) */
	const char *password;
	/* converting legacy formats and 画像化 (engine.h: sk_engine_job.convert), passed on
	 * to every nested item; NULL: they are blocked */
	sk_convert_fn convert;
	void *convert_ctx;
	/* this item is 画像化's own output being rebuilt: never made into images again */
	bool imaged;
	/* set by sk_cdr_block() */
	sk_reason reason;
	char reason_detail[128];
};

typedef struct sk_cdr_module {
	const char *name;
	/* true when this module sanitises items of type t */
	bool (*accepts)(const sk_type *t);
	/* Rebuild in into out. Returns 0 when out holds the result; SK_EBLOCKED after
	 * sk_cdr_block(); any other negative code blocks the item as internal-error (or
	 * limit-size for SK_ELIMIT from the output). */
	int (*sanitize)(sk_cdr_ctx *ctx, sk_input *in, sk_output *out, sk_error *err);
} sk_cdr_module;

/* The module for t, or NULL (the item is then blocked as unknown-type). */
const sk_cdr_module *sk_cdr_find(const sk_type *t);

/* The type of what a delivered item is: ctx->type, or when a module made it into another
 * type (ctx->out_ext set: docm → docx, doc → docx, 画像化 → pdf, msg → eml) that type —
 * what DLP reads and a mail attachment is labelled with. */
sk_type sk_cdr_out_type(const sk_cdr_ctx *ctx);

/* Record an action at ctx->where (+ ":" sub when sub is given). */
int sk_cdr_action(sk_cdr_ctx *ctx, sk_action a, const char *what, const char *sub,
		  const char *detail, uint64_t count);
/* Block this item: records the reason in ctx and returns SK_EBLOCKED. */
int sk_cdr_block(sk_cdr_ctx *ctx, sk_reason reason, const char *detail);

/* Detect (unless ctx->type.code is already set) and sanitise one item at ctx's level
 * (ctx->type is filled in). Used for the
 * top level by sk_process() and for entries by sk_cdr_child(). Executables and types
 * no module accepts are blocked here. */
int sk_cdr_run(sk_cdr_ctx *ctx, sk_input *in, sk_output *out, sk_error *err);

/* Sanitise a nested entry (name is its path inside the container) into out.
 * Returns 0 when delivered; SK_EBLOCKED when the entry is blocked, with *reason set and
 * the entry's own actions rolled back. When the reason is fatal
 * (sk_reason_is_fatal()) the caller must block itself with the same reason:
 * `return sk_cdr_block(ctx, reason, name)`. Other negative codes are errors. */
int sk_cdr_child(sk_cdr_ctx *parent, const char *name, const void *data, size_t len,
		 sk_buf *out, sk_reason *reason, sk_error *err);

struct sk_dlp;
/* DLP on rebuilt content of type t that will be delivered (the engine's file, a mail
 * attachment): text is scanned as sk_dlp_report does (findings at "WHERE line L:C");
 * a message (type "eml": an .eml file or a .msg rebuilt) is read as a mail reader shows it (mail.h:
 * sk_mail_dlp — decoded header at "WHERE header line L:C", each part decoded at
 * "WHERE part P NAME line L:C", attachments through this function); an OOXML document
 * (docx, xlsx, pptx) as the text of its parts under word/, xl/, ppt/ (the text of its t
 * elements, a line per paragraph; findings at "WHERE PART line L:C", e.g.
 * "word/document.xml line 3:1"). A document or a message is read again under a fresh copy
 * of limits (its clock kept). Anything else gets a "noted dlp-unscanned" entry (detail the
 * type's code). SK_ELIMIT when the text, the document or the message is over a limit;
 * SK_EFORMAT when a message cannot be read; SK_ENOMEM; the caller blocks the item on any
 * error (never delivered unread). */
int sk_cdr_dlp(const struct sk_dlp *d, unsigned kinds, const sk_type *t, const sk_input *in,
	       const char *where, const sk_budget *limits, sk_report *report, sk_error *err);

#endif
