/* The engine entry: detection, then the registry (see include/sekisho/engine.h). */
#include "sekisho/engine.h"

#include <iconv.h>
#include "sekisho/xml.h"
#include <qpdf/qpdf-c.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Conversions the modules open (text: the Japanese encodings and UTF-16/32; zip: CP932
 * and CP437 names; libxml2: a document's declared encoding). glibc loads each from a
 * gconv module file on first use and unloads it when the last user closes it, so the
 * descriptors are kept open for the life of the process: later iconv_open() calls then
 * find the module loaded and open no file. */
static const char *const charsets[] = {
	"CP932", "SHIFT_JIS", "EUC-JP", "EUC-JP-MS", "ISO-2022-JP", "UTF-16", "UTF-16LE",
	"UTF-16BE", "UTF-32", "UTF-32LE", "UTF-32BE", "CP437", "ISO-8859-1", "WINDOWS-1252",
};
static iconv_t kept[2 * sizeof(charsets) / sizeof(charsets[0])];
static bool initialised;

int sk_engine_init(sk_error *err)
{
	if (initialised)
		return 0;
	tzset(); /* libzip converts entry times with localtime_r */
	sk_xml_init(); /* libxml2 with our allocator hooks, before any other use */
	for (size_t i = 0; i < sizeof(charsets) / sizeof(charsets[0]); i++) {
		kept[2 * i] = iconv_open("UTF-8", charsets[i]);
		kept[2 * i + 1] = iconv_open(charsets[i], "UTF-8");
		if (kept[2 * i] == (iconv_t)-1 || kept[2 * i + 1] == (iconv_t)-1)
			return sk_error_sys(err, SK_EINTERNAL, "iconv %s", charsets[i]);
	}
	/* qpdf: its C++ run-time state and crypto provider come up with the first object */
	qpdf_data q = qpdf_init();
	if (!q)
		return sk_error_set(err, SK_ENOMEM, "qpdf_init");
	qpdf_cleanup(&q);
	initialised = true;
	return 0;
}

void sk_engine_result_free(sk_engine_result *res)
{
	sk_report_free(&res->report);
}

int sk_engine_run(const sk_engine_job *job, sk_input *in, sk_output *out,
		  sk_engine_result *res, sk_error *err)
{
	memset(res, 0, sizeof(*res));
	sk_report_init(&res->report);
	res->type = *sk_type_find("unknown");

	sk_budget budget = job->budget;
	sk_cdr_ctx ctx = {
		.budget = &budget,
		.report = &res->report,
		.profile = job->profile ? job->profile : sk_profile_default(),
		.depth = 0,
		.where = "",
		.name = job->name,
	};
	sk_error lerr;
	sk_error_clear(&lerr);
	/* the type first: sk_cdr_run() uses it, and a verdict names it even when blocked */
	int rc = sk_detect(in, job->name, &ctx.type, &lerr);
	if (rc) {
		ctx.type.code = NULL;
		sk_cdr_block(&ctx, rc == SK_ELIMIT ? SK_REASON_LIMIT_SIZE : SK_REASON_INTERNAL,
			     lerr.msg);
	} else {
		res->type = ctx.type;
		if (job->detect_only)
			return 0;
		rc = sk_cdr_run(&ctx, in, out, &lerr);
	}
	res->out_size = out->written;
	if (rc) {
		sk_report_block(&res->report, ctx.reason, NULL, ctx.reason_detail);
		/* an output file that could not be written is the caller's I/O error */
		if (lerr.code == SK_EIO && out->buf == NULL && out->fd >= 0) {
			if (err)
				*err = lerr;
			return SK_EIO;
		}
		return 0;
	}
	memcpy(res->report.out_ext, ctx.out_ext, sizeof(res->report.out_ext));
	sk_report_finish(&res->report);
	return 0;
}
