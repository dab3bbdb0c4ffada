/* The Internet message module: an .eml file (type "eml": text that is a message, or a text
 * named .eml — detect.h) rebuilt the way the mail channel rebuilds a message whose
 * attachments are sanitised (mail.h: sk_mail_sanitize, SK_MAIL_SANITIZE_ATTACH), so that
 * a message carried as a file is never delivered byte for byte to the mail reader that
 * opens it:
 *  - the body made text (HTML and alternatives converted, links neutralised), the
 *    sanitisation notice on top (the mail channel's, in Japanese), headers kept from the
 *    mail channel's allow-list and written anew;
 *  - every attachment through the registry (sk_cdr_child) under the item's one budget,
 *    at this item's depth + 1, with the item's profile and convert hook: delivered
 *    sanitised, or left out and listed with its reason (an executable, a script …); a
 *    password ZIP held (its action "encrypted-attachment": unlocked from the stored
 *    original, as for mail); a limit of the budget blocks the whole item;
 *  - the message must be whole (sk_mail_options.whole): a message GMime cannot read, or
 *    finds cut short, without parts or readable two ways, is blocked malformed; a limit
 *    (size, header, parts, nesting, time) blocks it with that limit.
 * The external-sender warning is left out (a file's flow knows no internal domains); DLP
 * reads the delivered message afterwards (sk_cdr_dlp, type "eml"). The mail engine's
 * report entries are this item's, placed under its path. out_ext "eml". */
#include <stdio.h>
#include <string.h>

#include "cdr_modules.h"
#include "sekisho/mail.h"

static bool eml_accepts(const sk_type *t)
{
	return t->kind == SK_KIND_MESSAGE;
}

/* The mail run's entries (placed relative to the message) as this item's. */
static int take_entries(sk_cdr_ctx *ctx, const sk_report *r)
{
	const char *w = ctx->where ? ctx->where : "";
	char buf[1024];
	for (size_t i = 0; i < r->n; i++) {
		const sk_report_entry *e = &r->v[i];
		const char *ew = e->where ? e->where : "";
		snprintf(buf, sizeof(buf), "%s%s%s", w, *w && *ew ? "/" : "", ew);
		int rc = sk_report_add(ctx->report, e->action, e->what, buf, e->detail, e->count);
		if (rc)
			return rc;
	}
	return 0;
}

static int eml_sanitize(sk_cdr_ctx *ctx, sk_input *in, sk_output *out, sk_error *err)
{
	const uint8_t *p = NULL;
	size_t n = 0;
	int rc = sk_input_load(in, &p, &n, err);
	if (rc)
		return rc;
	sk_mail_options o;
	sk_mail_options_default(&o);
	o.attach = SK_MAIL_SANITIZE_ATTACH;
	o.warn_external = false;
	o.file_profile = ctx->profile;
	o.convert = ctx->convert;
	o.convert_ctx = ctx->convert_ctx;
	o.depth = ctx->depth;
	o.whole = true;
	sk_report local;
	sk_report_init(&local);
	sk_mail_result res;
	sk_buf b;
	sk_buf_init(&b, out->max && out->max < SK_BUF_MAX_DEFAULT ? (size_t)out->max
								   : SK_BUF_MAX_DEFAULT);
	rc = sk_mail_sanitize(&o, ctx->budget, n ? p : (const uint8_t *)"", n, &b, &res, &local, err);
	if (rc == 0 && res.held)
		rc = sk_cdr_block(ctx, res.reason, res.detail);
	if (rc == 0)
		rc = take_entries(ctx, &local);
	if (rc == 0)
		rc = sk_output_write(out, sk_buf_data(&b), sk_buf_len(&b), err);
	if (rc == 0)
		snprintf(ctx->out_ext, sizeof(ctx->out_ext), "eml");
	sk_buf_free(&b);
	sk_report_free(&local);
	return rc;
}

const sk_cdr_module sk_cdr_module_eml = {
	.name = "eml",
	.accepts = eml_accepts,
	.sanitize = eml_sanitize,
};
