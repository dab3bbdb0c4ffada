/* The legacy module: formats no module rebuilds structurally — Word/Excel/PowerPoint
 * 97-2003 (doc, xls, ppt), RTF, OpenDocument (odt, ods, odp), Excel binary workbooks
 * (xlsb) and Word/Excel 2003 XML — are converted to the matching OOXML format by the
 * job's convert hook (LibreOffice in a sandboxed office worker, office.h; in a sekisho
 * worker the hook asks the gate), then rebuilt by the OOXML module at the same level,
 * under the same budget and depth, so that macros, OLE objects, DDE and external links go
 * by the same allow-list as in any docx/xlsx/pptx. The profile chooses per family:
 * convert, image or block. Without a hook, or when the conversion fails, the item is
 * blocked; the original bytes are never delivered.
 *
 * And 画像化 (the render module, for what sk_cdr_images() picks, and legacy families the
 * profile makes into images): the same hook, asked for SK_CONVERT_IMAGE, returns a PDF of
 * page images with an invisible OCR text layer (made in office workers: render.h); the
 * PDF module then rebuilds that PDF at the same level, as it rebuilds any PDF, so that
 * what comes back from a worker is never delivered unread. */
#include <stdio.h>
#include <string.h>

#include "cdr_modules.h"
#include "sekisho/office.h"

/* The family of each code sk_office_target() (src/office/target.c) converts */
static const struct {
	const char *from;
	sk_legacy_family family;
} targets[] = {
	{"doc", SK_LEGACY_DOC},	       {"dot", SK_LEGACY_DOC},
	{"rtf", SK_LEGACY_RTF},	       {"odt", SK_LEGACY_ODF},
	{"wordml", SK_LEGACY_XML2003}, {"xls", SK_LEGACY_XLS},
	{"xlt", SK_LEGACY_XLS},	       {"xlsb", SK_LEGACY_XLSB},
	{"ods", SK_LEGACY_ODF},	       {"spreadsheetml", SK_LEGACY_XML2003},
	{"ppt", SK_LEGACY_PPT},	       {"pot", SK_LEGACY_PPT},
	{"pps", SK_LEGACY_PPT},	       {"odp", SK_LEGACY_ODF},
};

static const char *const family_codes[SK_LEGACY__COUNT] = {
	"doc", "xls", "ppt", "rtf", "odf", "xlsb", "xml2003",
};
static const char *const action_codes[SK_LEGACY_ACTION__COUNT] = {"convert", "image", "block"};

sk_legacy_family sk_legacy_family_of(const char *code)
{
	for (size_t i = 0; code && i < sizeof(targets) / sizeof(targets[0]); i++)
		if (!strcmp(targets[i].from, code))
			return targets[i].family;
	return SK_LEGACY__COUNT;
}

const char *sk_legacy_family_code(sk_legacy_family f)
{
	return (unsigned)f < SK_LEGACY__COUNT ? family_codes[f] : "";
}

const char *sk_legacy_action_code(sk_legacy_action a)
{
	return (unsigned)a < SK_LEGACY_ACTION__COUNT ? action_codes[a] : "";
}

int sk_legacy_family_parse(const char *s)
{
	for (int i = 0; s && i < SK_LEGACY__COUNT; i++)
		if (!strcmp(s, family_codes[i]))
			return i;
	return SK_ENOTFOUND;
}

int sk_legacy_action_parse(const char *s)
{
	for (int i = 0; s && i < SK_LEGACY_ACTION__COUNT; i++)
		if (!strcmp(s, action_codes[i]))
			return i;
	return SK_ENOTFOUND;
}

/* What the hook gave back (b): charged to the item's budget (*why a limit), an input over
 * it in *in (release it), and its detected type in *got. */
static int take_result(sk_cdr_ctx *ctx, const sk_buf *b, sk_input *in, sk_type *got,
		       sk_reason *why, sk_error *err)
{
	*why = sk_budget_expand(ctx->budget, sk_buf_len(b));
	sk_input_mem(in, sk_buf_len(b) ? sk_buf_data(b) : (const uint8_t *)"", sk_buf_len(b));
	return *why == SK_REASON_NONE ? sk_detect(in, NULL, got, err) : 0;
}

static bool legacy_accepts(const sk_type *t)
{
	return sk_office_target(t->code) != NULL;
}

static int legacy_sanitize(sk_cdr_ctx *ctx, sk_input *in, sk_output *out, sk_error *err)
{
	const char *from = ctx->type.code, *to = sk_office_target(from);
	sk_legacy_family fam = sk_legacy_family_of(from);
	/* the reason of a refusal: what it was blocked with before conversion existed (xlsb
	 * and Office 2003 XML are legacy Office formats) */
	sk_reason unsupported = sk_cdr_unsupported_reason(ctx->type.kind);
	if (unsupported == SK_REASON_UNKNOWN_TYPE)
		unsupported = SK_REASON_UNSUPPORTED_LEGACY_OFFICE;
	char d[128];
	unsigned act = fam < SK_LEGACY__COUNT ? ctx->profile->legacy[fam] : SK_LEGACY_BLOCK;
	if (act == SK_LEGACY_BLOCK) {
		snprintf(d, sizeof(d), "%s: profile %.40s blocks %s", from,
			 ctx->profile->name ? ctx->profile->name : "", sk_legacy_family_code(fam));
		return sk_cdr_block(ctx, unsupported, d);
	}
	if (act == SK_LEGACY_IMAGE) {
		if (!ctx->convert)
			return sk_cdr_block(ctx, unsupported, "画像化: no office workers");
		const uint8_t *p = NULL;
		size_t n = 0;
		int rc = sk_input_load(in, &p, &n, err);
		return rc ? rc : sk_cdr_render(ctx, n ? p : (const uint8_t *)"", n, out, NULL, err);
	}
	if (act != SK_LEGACY_CONVERT)
		return sk_cdr_block(ctx, SK_REASON_INTERNAL, "legacy: profile");
	if (!ctx->convert)
		return sk_cdr_block(ctx, unsupported, from);
	sk_reason why = sk_budget_time(ctx->budget);
	if (why != SK_REASON_NONE)
		return sk_cdr_block(ctx, why, "convert");
	const uint8_t *p = NULL;
	size_t n = 0;
	int rc = sk_input_load(in, &p, &n, err);
	if (rc)
		return rc;
	sk_buf conv;
	sk_buf_init(&conv, SK_BUF_MAX_DEFAULT);
	sk_error cerr;
	sk_error_clear(&cerr);
	why = SK_REASON_NONE;
	sk_convert req = {.target = SK_CONVERT_OOXML, .from = from};
	rc = ctx->convert(ctx->convert_ctx, &req, n ? p : (const uint8_t *)"", n, ctx->budget,
			  &conv, &why, &cerr);
	if (rc) {
		sk_buf_free(&conv);
		snprintf(d, sizeof(d), "convert %s: %.100s", from,
			 cerr.msg[0] ? cerr.msg : sk_reason_code(why));
		/* a hook that failed without a reason failed closed all the same */
		return sk_cdr_block(ctx, why != SK_REASON_NONE ? why : SK_REASON_INTERNAL, d);
	}
	/* what came back counts against the item's budget, and must be what was asked for */
	sk_input cin;
	sk_type got;
	rc = take_result(ctx, &conv, &cin, &got, &why, err);
	if (!rc && why == SK_REASON_NONE && (got.kind != SK_KIND_OOXML || strcmp(got.code, to))) {
		snprintf(d, sizeof(d), "convert %s: the result is %s, not %s", from, got.code, to);
		why = SK_REASON_MALFORMED;
	}
	if (why != SK_REASON_NONE || rc) {
		sk_input_release(&cin);
		sk_buf_free(&conv);
		if (rc)
			return rc;
		return sk_cdr_block(ctx, why, why == SK_REASON_MALFORMED ? d : "convert");
	}
	snprintf(d, sizeof(d), "%s→%s", from, to);
	rc = sk_cdr_action(ctx, SK_ACTION_CONVERTED, "file-type", NULL, d, 1);
	if (rc == 0) {
		/* the OOXML module at this level: the item keeps its detected type */
		sk_type was = ctx->type;
		ctx->type = got;
		rc = sk_cdr_module_ooxml.sanitize(ctx, &cin, out, err);
		ctx->type = was;
		if (rc == 0 && !ctx->out_ext[0])
			snprintf(ctx->out_ext, sizeof(ctx->out_ext), "%s", got.ext);
	}
	sk_input_release(&cin);
	sk_buf_free(&conv);
	return rc;
}

const sk_cdr_module sk_cdr_module_legacy = {
	.name = "legacy",
	.accepts = legacy_accepts,
	.sanitize = legacy_sanitize,
};

/* ---- 画像化 ---------------------------------------------------------------------------- */

/* Blocks a failed 画像化: with its own reason, or, for a damaged PDF's second chance, as
 * malformed with the PDF module's message (and what 画像化 said) */
static int render_block(sk_cdr_ctx *ctx, const char *damaged, sk_reason why, const char *what)
{
	char d[128];
	if (!damaged) {
		snprintf(d, sizeof(d), "画像化 %s: %.90s", ctx->type.code, what);
		return sk_cdr_block(ctx, why != SK_REASON_NONE ? why : SK_REASON_INTERNAL, d);
	}
	snprintf(d, sizeof(d), "%.60s; 画像化: %.40s", damaged, what);
	return sk_cdr_block(ctx, SK_REASON_MALFORMED, d);
}

int sk_cdr_render(sk_cdr_ctx *ctx, const uint8_t *p, size_t n, sk_output *out,
		  const char *damaged, sk_error *err)
{
	const char *from = ctx->type.code;
	if (!ctx->convert) /* (a damaged PDF's caller checks first) */
		return render_block(ctx, damaged, SK_REASON_INTERNAL, "no office workers");
	sk_reason why = sk_budget_time(ctx->budget);
	if (why != SK_REASON_NONE)
		return sk_cdr_block(ctx, why, "画像化");
	sk_buf img;
	sk_buf_init(&img, SK_BUF_MAX_DEFAULT);
	sk_error cerr;
	sk_error_clear(&cerr);
	sk_convert req = {.target = SK_CONVERT_IMAGE,
			  .from = from,
			  .dpi = ctx->profile->image_dpi,
			  .max_pages = ctx->profile->image_max_pages};
	int rc = ctx->convert(ctx->convert_ctx, &req, p, n, ctx->budget, &img, &why, &cerr);
	if (rc) {
		sk_buf_free(&img);
		/* a hook that failed without a reason failed closed all the same */
		return render_block(ctx, damaged, why,
				    cerr.msg[0] ? cerr.msg : sk_reason_code(why));
	}
	/* what came back counts against the item's budget, and must be a PDF */
	sk_input pin;
	sk_type got;
	rc = take_result(ctx, &img, &pin, &got, &why, err);
	if (!rc && why == SK_REASON_NONE && got.kind != SK_KIND_PDF)
		why = SK_REASON_MALFORMED;
	if (why != SK_REASON_NONE || rc) {
		sk_input_release(&pin);
		sk_buf_free(&img);
		if (rc)
			return rc;
		return why == SK_REASON_MALFORMED
			       ? render_block(ctx, damaged, SK_REASON_WORKER_CRASH, "the result is no PDF")
			       : sk_cdr_block(ctx, why, "画像化");
	}
	char d[192];
	snprintf(d, sizeof(d), "%s→pdf%s, %u page%s, %u dpi%s%s", from, damaged ? " (damaged)" : "",
		 req.pages, req.pages == 1 ? "" : "s", ctx->profile->image_dpi ? ctx->profile->image_dpi : 150,
		 req.note[0] ? ", " : "", req.note);
	rc = sk_cdr_action(ctx, SK_ACTION_CONVERTED, "image", NULL, d, 1);
	/* a damaged PDF: what qpdf refused it for */
	if (rc == 0 && damaged)
		rc = sk_cdr_action(ctx, SK_ACTION_NOTED, "structure", NULL, damaged, 1);
	if (rc == 0) {
		/* the PDF module at this level, never making it into images again */
		sk_type was = ctx->type;
		bool imaged = ctx->imaged;
		ctx->type = got;
		ctx->imaged = true;
		rc = sk_cdr_module_pdf.sanitize(ctx, &pin, out, err);
		ctx->type = was;
		ctx->imaged = imaged;
		if (rc == 0)
			snprintf(ctx->out_ext, sizeof(ctx->out_ext), "pdf");
	}
	sk_input_release(&pin);
	sk_buf_free(&img);
	return rc;
}

static bool render_accepts(const sk_type *t)
{
	(void)t;
	return false; /* chosen by sk_cdr_run through sk_cdr_images(), never by type alone */
}

static int render_sanitize(sk_cdr_ctx *ctx, sk_input *in, sk_output *out, sk_error *err)
{
	const uint8_t *p = NULL;
	size_t n = 0;
	int rc = sk_input_load(in, &p, &n, err);
	return rc ? rc : sk_cdr_render(ctx, n ? p : (const uint8_t *)"", n, out, NULL, err);
}

const sk_cdr_module sk_cdr_module_render = {
	.name = "render",
	.accepts = render_accepts,
	.sanitize = render_sanitize,
};
