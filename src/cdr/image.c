/* Placeholder until the image module lands: accepts nothing, so the registry blocks these
 * types as unknown-type (fail closed). */
#include "cdr_modules.h"

static bool image_accepts(const sk_type *t)
{
	(void)t;
	return false;
}

static int image_sanitize(sk_cdr_ctx *ctx, sk_input *in, sk_output *out, sk_error *err)
{
	(void)in;
	(void)out;
	(void)err;
	return sk_cdr_block(ctx, SK_REASON_UNKNOWN_TYPE, "image");
}

const sk_cdr_module sk_cdr_module_image = {
	.name = "image",
	.accepts = image_accepts,
	.sanitize = image_sanitize,
};
