/* The registry of format modules and the recursion every container goes through. */
#include "sekisho/cdr.h"

#include <stdio.h>
#include <string.h>

#include "cdr_modules.h"

static const sk_profile profiles[] = {
	{
		.name = "default",
		.csv_neutralize = true,
		.keep_srgb_icc = true,
		.block_name_mismatch = false,
		.keep_comments = true,
		.keep_revisions = true,
		.strip_metadata = true,
		.neutralize_links = false,
		.damaged_pdf_image = true,
	},
	{
		.name = "strict",
		.csv_neutralize = true,
		.keep_srgb_icc = false,
		.block_name_mismatch = true,
		.keep_comments = false,
		.keep_revisions = false,
		.strip_metadata = true,
		.neutralize_links = true,
		.damaged_pdf_image = true,
	},
	{
		/* 画像化 of every document: PDF, OOXML, legacy Office, RTF, ODF, xlsb, Office
		 * 2003 XML become PDFs of page images; the rest as in default */
		.name = "image",
		.csv_neutralize = true,
		.keep_srgb_icc = true,
		.block_name_mismatch = false,
		.keep_comments = true,
		.keep_revisions = true,
		.strip_metadata = true,
		.neutralize_links = false,
		.legacy = {SK_LEGACY_IMAGE, SK_LEGACY_IMAGE, SK_LEGACY_IMAGE, SK_LEGACY_IMAGE,
			   SK_LEGACY_IMAGE, SK_LEGACY_IMAGE, SK_LEGACY_IMAGE},
		.pdf_image = true,
		.ooxml_image = true,
		.damaged_pdf_image = true,
	},
};
_Static_assert(SK_LEGACY__COUNT == 7, "the image profile names every legacy family");

const sk_profile *sk_profile_find(const char *name)
{
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (strcmp(profiles[i].name, name) == 0)
			return &profiles[i];
	return NULL;
}

const sk_profile *sk_profile_default(void)
{
	return &profiles[0];
}

static const sk_cdr_module *const modules[] = {
	&sk_cdr_module_legacy, /* first: xlsb is an OOXML ZIP, Office 2003 XML is XML */
	&sk_cdr_module_msg,
	&sk_cdr_module_eml,
	&sk_cdr_module_text,
	&sk_cdr_module_image,
	&sk_cdr_module_ooxml, /* before zip: an OOXML package is a ZIP too */
	&sk_cdr_module_zip,
	&sk_cdr_module_pdf,
};

const sk_cdr_module *sk_cdr_find(const sk_type *t)
{
	for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
		if (modules[i]->accepts(t))
			return modules[i];
	return NULL;
}

int sk_cdr_action(sk_cdr_ctx *ctx, sk_action a, const char *what, const char *sub,
		  const char *detail, uint64_t count)
{
	const char *w = ctx->where ? ctx->where : "";
	if (!sub || !*sub)
		return sk_report_add(ctx->report, a, what, w, detail, count);
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s%s%s", w, *w ? ":" : "", sub);
	return sk_report_add(ctx->report, a, what, buf, detail, count);
}

int sk_cdr_block(sk_cdr_ctx *ctx, sk_reason reason, const char *detail)
{
	if (ctx->reason == SK_REASON_NONE) {
		ctx->reason = reason ? reason : SK_REASON_INTERNAL;
		snprintf(ctx->reason_detail, sizeof(ctx->reason_detail), "%s", detail ? detail : "");
	}
	return SK_EBLOCKED;
}

sk_type sk_cdr_out_type(const sk_cdr_ctx *ctx)
{
	const sk_type *t = ctx->out_ext[0] ? sk_type_find(ctx->out_ext) : NULL;
	return t ? *t : ctx->type;
}

bool sk_cdr_images(const sk_cdr_ctx *ctx)
{
	const sk_type *t = &ctx->type;
	if (ctx->imaged || !t->code)
		return false;
	if (t->kind == SK_KIND_PDF)
		return ctx->profile->pdf_image;
	if (t->kind == SK_KIND_OOXML)
		return ctx->profile->ooxml_image &&
		       (!strcmp(t->code, "docx") || !strcmp(t->code, "xlsx") || !strcmp(t->code, "pptx"));
	return false;
}

/* Types we recognise but do not rebuild, with the reason they are refused. */
sk_reason sk_cdr_unsupported_reason(sk_kind k)
{
	switch (k) {
	case SK_KIND_OLE2: return SK_REASON_UNSUPPORTED_LEGACY_OFFICE;
	case SK_KIND_RTF: return SK_REASON_UNSUPPORTED_RTF;
	case SK_KIND_ODF: return SK_REASON_UNSUPPORTED_ODF;
	default: return SK_REASON_UNKNOWN_TYPE;
	}
}

int sk_cdr_run(sk_cdr_ctx *ctx, sk_input *in, sk_output *out, sk_error *err)
{
	int rc = 0;
	if (!ctx->type.code) /* the top level detects before its malware scan */
		rc = sk_detect(in, ctx->name, &ctx->type, err);
	if (rc == SK_ELIMIT)
		return sk_cdr_block(ctx, SK_REASON_LIMIT_SIZE, "detect");
	if (rc)
		return sk_cdr_block(ctx, SK_REASON_INTERNAL, err ? err->msg : "detect");
	if (ctx->type.kind == SK_KIND_EXECUTABLE)
		return sk_cdr_block(ctx, SK_REASON_EXECUTABLE, ctx->type.code);
	/* a password-protected Office file (OOXML in an OLE2 container): checked before the
	 * name, whose .docx would otherwise count as a mismatch */
	if (ctx->type.kind == SK_KIND_OLE2 && !strcmp(ctx->type.code, "encrypted-office"))
		return sk_cdr_block(ctx, SK_REASON_ENCRYPTED, ctx->type.code);
	if (ctx->name) {
		char ext[32];
		sk_name_ext(ctx->name, ext, sizeof(ext));
		if (sk_name_ext_is_executable(ext))
			return sk_cdr_block(ctx, SK_REASON_EXECUTABLE, ext);
		if (sk_name_mismatch(ctx->name, &ctx->type)) {
			if (ctx->profile->block_name_mismatch)
				return sk_cdr_block(ctx, SK_REASON_UNSAFE_NAME, ext);
			rc = sk_cdr_action(ctx, SK_ACTION_NOTED, "name-mismatch", NULL,
					   ctx->type.code, 1);
			if (rc)
				return sk_cdr_block(ctx, SK_REASON_INTERNAL, "report");
		}
	}
	const sk_cdr_module *m = sk_cdr_images(ctx) ? &sk_cdr_module_render : sk_cdr_find(&ctx->type);
	if (!m)
		return sk_cdr_block(ctx, sk_cdr_unsupported_reason(ctx->type.kind), ctx->type.code);
	rc = m->sanitize(ctx, in, out, err);
	if (rc == 0)
		return 0;
	if (rc == SK_EBLOCKED && ctx->reason != SK_REASON_NONE)
		return rc;
	if (rc == SK_ELIMIT)
		return sk_cdr_block(ctx, SK_REASON_LIMIT_SIZE, err ? err->msg : m->name);
	return sk_cdr_block(ctx, SK_REASON_INTERNAL, err && err->msg[0] ? err->msg : m->name);
}

int sk_cdr_child(sk_cdr_ctx *parent, const char *name, const void *data, size_t len,
		 sk_buf *out, sk_reason *reason, sk_error *err)
{
	*reason = SK_REASON_NONE;
	if (sk_budget_depth(parent->budget, parent->depth + 1) != SK_REASON_NONE) {
		*reason = SK_REASON_LIMIT_DEPTH;
		return SK_EBLOCKED;
	}
	char where[1024];
	const char *pw = parent->where ? parent->where : "";
	snprintf(where, sizeof(where), "%s%s%s", pw, *pw ? "/" : "", name);

	sk_cdr_ctx child = {
		.budget = parent->budget,
		.report = parent->report,
		.profile = parent->profile,
		.depth = parent->depth + 1,
		.where = where,
		.name = name,
		.convert = parent->convert,
		.convert_ctx = parent->convert_ctx,
	};
	size_t mark = parent->report->n;
	sk_input in;
	sk_input_mem(&in, data, len);
	sk_output o;
	sk_output_buf(&o, out);
	int rc = sk_cdr_run(&child, &in, &o, err);
	sk_input_release(&in);
	memcpy(parent->child_ext, rc == 0 ? child.out_ext : "", rc == 0 ? sizeof(child.out_ext) : 1);
	parent->child_type = rc == 0 ? sk_cdr_out_type(&child) : child.type;
	if (rc == 0)
		return 0;
	sk_report_truncate(parent->report, mark);
	sk_buf_reset(out);
	*reason = child.reason != SK_REASON_NONE ? child.reason : SK_REASON_INTERNAL;
	return SK_EBLOCKED;
}
