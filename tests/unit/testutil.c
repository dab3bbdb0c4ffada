#include "testutil.h"
#include "sekisho/dlp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

void tu_process(const void *data, size_t n, const char *name, const sk_options *opt, tu_run *r)
{
	sk_options def;
	if (!opt) {
		sk_options_default(&def);
		opt = &def;
	}
	sk_buf_init(&r->out, 0);
	sk_item item = {.name = name};
	sk_input_mem(&item.input, data, n);
	sk_output o;
	sk_output_buf(&o, &r->out);
	sk_error err;
	sk_error_clear(&err);
	int rc = sk_process(&item, opt, &o, &r->res, &err);
	assert_int_equal(rc, 0);
}

void tu_free(tu_run *r)
{
	sk_result_free(&r->res);
	sk_buf_free(&r->out);
}

sk_reason tu_direct(const void *data, size_t n, const char *name, sk_budget *b, sk_buf *out)
{
	sk_report rep;
	sk_report_init(&rep);
	sk_cdr_ctx ctx = {
		.budget = b,
		.report = &rep,
		.profile = sk_profile_default(),
		.where = "",
		.name = name,
	};
	sk_buf mine;
	sk_buf_init(&mine, 0);
	sk_input in;
	sk_input_mem(&in, data, n);
	sk_output o;
	sk_output_buf(&o, out ? out : &mine);
	sk_error err;
	sk_error_clear(&err);
	int rc = sk_cdr_run(&ctx, &in, &o, &err);
	sk_input_release(&in);
	sk_buf_free(&mine);
	sk_report_free(&rep);
	if (rc == 0)
		return SK_REASON_NONE;
	assert_int_equal(rc, SK_EBLOCKED);
	return ctx.reason;
}

void tu_budget(sk_budget *b, bool late)
{
	sk_budget_default(b);
	sk_budget_start(b);
	if (late)
		b->deadline_ns = 1; /* CLOCK_MONOTONIC is past 1 ns */
}

size_t tu_count(const sk_report *rep, sk_action a, const char *what)
{
	size_t c = 0;
	for (size_t i = 0; i < rep->n; i++)
		if (rep->v[i].action == a && (!what || !strcmp(rep->v[i].what, what)))
			c++;
	return c;
}

const sk_report_entry *tu_find_where(const sk_report *rep, const char *suf)
{
	size_t sl = strlen(suf);
	for (size_t i = 0; i < rep->n; i++) {
		size_t wl = strlen(rep->v[i].where);
		if (wl >= sl && !strcmp(rep->v[i].where + wl - sl, suf))
			return &rep->v[i];
	}
	return NULL;
}

const char *tu_src(const char *rel)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s/%s", SK_SOURCE_ROOT, rel);
	return buf;
}

void tu_read(const char *path, sk_buf *b)
{
	sk_error err;
	sk_buf_init(b, 0);
	int rc = sk_read_file(path, (size_t)1 << 30, b, &err);
	if (rc)
		fail_msg("%s: %s", path, err.msg);
}

void tu_has(const char *hay, const char *needle)
{
	if (!hay || !strstr(hay, needle))
		fail_msg("\"%s\" not found in:\n%s", needle, hay ? hay : "(null)");
}

void tu_hasnt(const char *hay, const char *needle)
{
	if (hay && strstr(hay, needle))
		fail_msg("\"%s\" should not be in:\n%s", needle, hay);
}

sk_dlp *tu_dlp(void)
{
	sk_dlp_config c;
	sk_dlp_config_default(&c);
	sk_dlp *d = NULL;
	sk_error err;
	if (sk_dlp_new(&c, &d, &err))
		fail_msg("sk_dlp_new: %s", err.msg);
	return d;
}

void tu_zip(const char *const *names, const char *const *data, int n, sk_buf *out)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
	zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
	assert_non_null(za);
	zip_source_keep(src);
	for (int i = 0; i < n; i++) {
		zip_source_t *s = zip_source_buffer_create(data[i], strlen(data[i]), 0, &ze);
		assert_true(zip_file_add(za, names[i], s, ZIP_FL_ENC_UTF_8) >= 0);
	}
	assert_int_equal(zip_close(za), 0);
	zip_source_open(src);
	zip_source_seek(src, 0, SEEK_END);
	zip_int64_t zn = zip_source_tell(src);
	zip_source_seek(src, 0, SEEK_SET);
	sk_buf_init(out, 0);
	uint8_t *zb = malloc((size_t)zn);
	assert_non_null(zb);
	assert_int_equal(zip_source_read(src, zb, (zip_uint64_t)zn), zn);
	sk_buf_add(out, zb, (size_t)zn);
	free(zb);
	zip_source_close(src);
	zip_source_free(src);
}
