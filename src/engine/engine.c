/* The engine entry: detection, then the registry (see include/sekisho/engine.h). */
#include "sekisho/engine.h"
#include "sekisho/hash.h"

#include <iconv.h>
#include <sodium.h>
#include "sekisho/xml.h"
#include "sekisho/zipio.h"
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
/* Charsets mail arrives in (GMime and the mail engine decode any label): loaded before
 * the sandbox too, each only when this system has it. A label outside both lists cannot
 * be loaded in a worker: the message is then held (worker-crash), never delivered raw. */
static const char *const mail_charsets[] = {
	"ISO-8859-2", "ISO-8859-3", "ISO-8859-4", "ISO-8859-5", "ISO-8859-6", "ISO-8859-7",
	"ISO-8859-8", "ISO-8859-9", "ISO-8859-10", "ISO-8859-13", "ISO-8859-14", "ISO-8859-15",
	"ISO-8859-16", "WINDOWS-1250", "WINDOWS-1251", "WINDOWS-1253", "WINDOWS-1254",
	"WINDOWS-1255", "WINDOWS-1256", "WINDOWS-1257", "WINDOWS-1258", "KOI8-R", "KOI8-U",
	"CP866", "CP850", "CP852", "BIG5", "BIG5-HKSCS", "GB2312", "GBK", "GB18030", "EUC-KR",
	"EUC-TW", "ISO-2022-KR", "ISO-2022-CN", "ISO-2022-JP-2", "TIS-620", "UTF-7",
	"MACINTOSH", "US-ASCII", "UCS-2", "UCS-4", "CP949", "SJIS", "EUCJP-MS", "CP51932",
	"CP50220", "CP50221", "CP50222",
};
static iconv_t kept_mail[sizeof(mail_charsets) / sizeof(mail_charsets[0])];
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
	for (size_t i = 0; i < sizeof(mail_charsets) / sizeof(mail_charsets[0]); i++)
		kept_mail[i] = iconv_open("UTF-8", mail_charsets[i]); /* (iconv_t)-1: not here */
	/* qpdf: its C++ run-time state and crypto provider come up with the first object */
	qpdf_data q = qpdf_init();
	if (!q)
		return sk_error_set(err, SK_ENOMEM, "qpdf_init");
	qpdf_cleanup(&q);
	sk_mail_init(); /* GMime: its charset tables and type registry */
	/* OpenSSL reads its configuration file at the first digest (the mail engine hashes
	 * attachments), libsodium its random source */
	int rc = sk_crypto_init(err);
	if (rc)
		return rc;
	uint8_t h[SK_SHA256_LEN];
	sk_sha256("", 0, h);
	initialised = true;
	return 0;
}

void sk_engine_result_free(sk_engine_result *res)
{
	sk_report_free(&res->report);
}

/* DLP on the rebuilt output of a file (sk_cdr_dlp: text, an OOXML document's text, a
 * message; anything else noted unscanned). */
static int dlp_output(const sk_engine_job *job, sk_cdr_ctx *ctx, sk_output *out, sk_error *err)
{
	sk_input in;
	if (out->buf)
		sk_input_mem(&in, sk_buf_len(out->buf) ? sk_buf_data(out->buf) : (const uint8_t *)"",
			     sk_buf_len(out->buf));
	else if (out->fd >= 0)
		sk_input_fd(&in, out->fd, out->written);
	else
		return sk_error_set(err, SK_EINVAL, "dlp: output cannot be read back");
	sk_type t = sk_cdr_out_type(ctx); /* what is delivered: a converted docx, an image PDF */
	int rc = sk_cdr_dlp(job->dlp, job->dlp_kinds, &t, &in, "", ctx->budget, ctx->report, err);
	sk_input_release(&in);
	return rc;
}

/* A mail job: the message's bytes through sk_mail_sanitize into out. */
static int run_mail(const sk_engine_job *job, sk_input *in, sk_output *out,
		    sk_engine_result *res, sk_error *err)
{
	res->type = *sk_type_find("eml");
	sk_mail_options mo = *job->mail;
	mo.file_profile = job->profile;
	mo.dlp = job->dlp;
	mo.dlp_kinds = job->dlp_kinds;
	mo.convert = job->convert;
	mo.convert_ctx = job->convert_ctx;
	sk_budget budget = job->budget;
	const uint8_t *p = NULL;
	size_t n = 0;
	sk_error lerr;
	sk_error_clear(&lerr);
	int rc = sk_input_load(in, &p, &n, &lerr);
	if (rc) {
		sk_report_block(&res->report, rc == SK_ELIMIT ? SK_REASON_LIMIT_SIZE : SK_REASON_INTERNAL,
				NULL, lerr.msg);
		return 0;
	}
	sk_buf b;
	sk_buf_init(&b, out->max && out->max < SK_BUF_MAX_DEFAULT ? (size_t)out->max : SK_BUF_MAX_DEFAULT);
	rc = sk_mail_sanitize(&mo, &budget, p, n, &b, &res->mail, &res->report, &lerr);
	if (rc) {
		/* the machinery failed: blocked (fail closed) */
		sk_report_block(&res->report, rc == SK_ELIMIT ? SK_REASON_LIMIT_SIZE : SK_REASON_INTERNAL,
				NULL, lerr.msg[0] ? lerr.msg : "mail");
	} else if (!res->mail.held && sk_buf_len(&b)) {
		rc = sk_output_write(out, sk_buf_data(&b), sk_buf_len(&b), &lerr);
		if (rc) {
			sk_report_block(&res->report, rc == SK_ELIMIT ? SK_REASON_LIMIT_SIZE : SK_REASON_INTERNAL,
					NULL, lerr.msg);
			if (lerr.code == SK_EIO && out->buf == NULL && out->fd >= 0) {
				sk_buf_free(&b);
				if (err)
					*err = lerr;
				res->out_size = out->written;
				return SK_EIO;
			}
		}
	}
	sk_buf_free(&b);
	res->out_size = out->written;
	return 0;
}

/* ---- unlocking a password ZIP (PPAP) ---------------------------------------------- */

#define UNLOCK_WHAT "unlock"
#define UNLOCK_WRONG "wrong-password"

bool sk_engine_wrong_password(const sk_report *r)
{
	if (r->verdict != SK_VERDICT_BLOCKED || r->reason != SK_REASON_ENCRYPTED)
		return false;
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].action == SK_ACTION_NOTED && r->v[i].what && r->v[i].where &&
		    !strcmp(r->v[i].what, UNLOCK_WHAT) && !r->v[i].where[0] && r->v[i].detail &&
		    !strcmp(r->v[i].detail, UNLOCK_WRONG))
			return true;
	return false;
}

/* Reads every encrypted entry of z with its password set, under a copy of the budget:
 * *wrong when a check value, CRC or AES code says the password is not the one; else 0
 * (proven), or SK_EBLOCKED with *why (a limit, malformed: the archive's own verdict,
 * also with the right password). */
static int unlock_prove(sk_zipio *z, const sk_budget *budget, bool *wrong, sk_reason *why,
			sk_error *err)
{
	sk_budget b = *budget;
	*wrong = false;
	int rc = sk_zipio_check(z, &b, why, err);
	sk_buf data;
	sk_buf_init(&data, 0);
	for (uint64_t i = 0; rc == 0 && i < sk_zipio_count(z); i++) {
		sk_zipio_entry e;
		if ((rc = sk_zipio_entry_get(z, i, &e, err)) != 0 || !e.encrypted)
			continue;
		sk_buf_reset(&data);
		rc = sk_zipio_read(z, i, &b, &data, NULL, why, err);
	}
	/* the decrypted bytes are the sender's: not left in freed memory either */
	if (data.cap)
		sodium_memzero(data.data, data.cap);
	sk_buf_free(&data);
	if (rc == SK_EBLOCKED && *why == SK_REASON_ENCRYPTED && err &&
	    !strcmp(err->msg, SK_ZIPIO_WRONG_PASSWORD)) {
		*wrong = true;
		return 0;
	}
	return rc;
}

/* Chooses the password that opens the archive in zp[0..zn): *pw (NULL when none did:
 * res blocked encrypted with the wrong-password entry), or res blocked with the
 * archive's verdict (SK_EBLOCKED). */
static int unlock_choose(const sk_engine_job *job, const uint8_t *zp, size_t zn,
			 const char **pw, sk_engine_result *res, sk_error *err)
{
	*pw = NULL;
	sk_zipio *z = NULL;
	sk_reason why = SK_REASON_NONE;
	sk_error e;
	sk_error_clear(&e);
	int rc = sk_zipio_open(&z, zp, zn, &why, &e);
	bool any_enc = false;
	for (size_t i = 0; rc == 0 && i < job->n_passwords && !*pw; i++) {
		bool ok = false, enc = false, wrong = false;
		rc = sk_zipio_password_test(z, job->passwords[i], &ok, &enc, &e);
		any_enc = any_enc || enc;
		if (rc || !enc)
			break;
		if (!ok)
			continue;
		sk_zipio_set_password(z, job->passwords[i]);
		rc = unlock_prove(z, &job->budget, &wrong, &why, &e);
		sk_zipio_set_password(z, NULL);
		if (rc == 0 && !wrong)
			*pw = job->passwords[i];
	}
	sk_zipio_close(z);
	if (rc == SK_EBLOCKED)
		return sk_report_block(&res->report, why, NULL, e.msg) ? SK_ENOMEM : SK_EBLOCKED;
	if (rc) {
		if (err)
			*err = e;
		sk_report_block(&res->report, SK_REASON_INTERNAL, NULL, e.msg);
		return SK_EBLOCKED;
	}
	if (!any_enc) {
		sk_report_block(&res->report, SK_REASON_UNKNOWN_TYPE, NULL, "not a password ZIP");
		return SK_EBLOCKED;
	}
	if (!*pw) {
		if (sk_report_add(&res->report, SK_ACTION_NOTED, UNLOCK_WHAT, "", UNLOCK_WRONG, 1))
			return SK_ENOMEM;
		sk_report_block(&res->report, SK_REASON_ENCRYPTED, NULL, "wrong password");
		return SK_EBLOCKED;
	}
	return 0;
}

/* An unlock job: the password ZIP (the input, or the first PPAP attachment of a mail
 * message) decrypted with the chosen password and rebuilt by the ZIP module. */
static int run_unlock(const sk_engine_job *job, sk_input *in, sk_output *out,
		      sk_engine_result *res, sk_error *err)
{
	res->type = *sk_type_find("zip");
	const uint8_t *p = NULL;
	size_t n = 0;
	sk_error lerr;
	sk_error_clear(&lerr);
	if (job->n_passwords < 1 || job->n_passwords > SK_UNLOCK_PASSWORDS_MAX || job->mail) {
		sk_report_block(&res->report, SK_REASON_INTERNAL, NULL, "unlock: passwords");
		return 0;
	}
	int rc = sk_input_load(in, &p, &n, &lerr);
	if (rc) {
		sk_report_block(&res->report, rc == SK_ELIMIT ? SK_REASON_LIMIT_SIZE : SK_REASON_INTERNAL,
				NULL, lerr.msg);
		return 0;
	}
	sk_budget budget = job->budget;
	sk_buf att;
	sk_buf_init(&att, SK_BUF_MAX_DEFAULT);
	if (!sk_zipio_encrypted(p, n) && n >= 4 && !memcmp(p, "PK", 2)) {
		sk_report_block(&res->report, SK_REASON_UNKNOWN_TYPE, NULL, "not a password ZIP");
		sk_buf_free(&att);
		return 0;
	}
	if (!sk_zipio_encrypted(p, n)) {
		/* a mail message: its first password ZIP attachment */
		sk_reason why = SK_REASON_NONE;
		rc = sk_mail_ppap_find(p, n, &budget, &att, &why, &lerr);
		if (rc == SK_ENOTFOUND)
			sk_report_block(&res->report, SK_REASON_UNKNOWN_TYPE, NULL, "not a password ZIP");
		else if (rc)
			sk_report_block(&res->report, SK_REASON_INTERNAL, NULL, lerr.msg);
		else if (why != SK_REASON_NONE)
			sk_report_block(&res->report, why, NULL, "mail");
		if (rc || why != SK_REASON_NONE) {
			sk_buf_free(&att);
			return 0;
		}
		p = att.len ? att.data : (const uint8_t *)"";
		n = att.len;
	}
	const char *pw = NULL;
	rc = unlock_choose(job, p, n, &pw, res, &lerr);
	if (rc == SK_ENOMEM)
		sk_report_block(&res->report, SK_REASON_INTERNAL, NULL, "unlock: memory");
	if (rc) {
		sk_buf_free(&att);
		return 0;
	}
	sk_cdr_ctx ctx = {
		.budget = &budget,
		.report = &res->report,
		.profile = job->profile ? job->profile : sk_profile_default(),
		.where = "",
		.name = job->name,
		.type = *sk_type_find("zip"),
		.password = pw,
		.convert = job->convert,
		.convert_ctx = job->convert_ctx,
	};
	sk_input zin;
	sk_input_mem(&zin, p, n);
	rc = sk_cdr_action(&ctx, SK_ACTION_CONVERTED, "encryption", NULL,
			   "password ZIP decrypted; rebuilt without encryption", 1);
	if (rc == 0)
		rc = sk_cdr_run(&ctx, &zin, out, &lerr);
	if (rc == 0 && job->dlp && (rc = dlp_output(job, &ctx, out, &lerr)) != 0)
		sk_cdr_block(&ctx, rc == SK_ELIMIT ? SK_REASON_LIMIT_SIZE : SK_REASON_INTERNAL, "dlp");
	sk_input_release(&zin);
	sk_buf_free(&att);
	res->out_size = out->written;
	if (rc) {
		sk_report_block(&res->report, ctx.reason != SK_REASON_NONE ? ctx.reason : SK_REASON_INTERNAL,
				NULL, ctx.reason_detail);
		if (lerr.code == SK_EIO && out->buf == NULL && out->fd >= 0) {
			if (err)
				*err = lerr;
			return SK_EIO;
		}
		return 0;
	}
	snprintf(res->report.out_ext, sizeof(res->report.out_ext), "%s",
		 ctx.out_ext[0] ? ctx.out_ext : "zip");
	sk_report_finish(&res->report);
	return 0;
}

int sk_engine_run(const sk_engine_job *job, sk_input *in, sk_output *out,
		  sk_engine_result *res, sk_error *err)
{
	memset(res, 0, sizeof(*res));
	sk_report_init(&res->report);
	res->type = *sk_type_find("unknown");
	if (job->passwords && !job->detect_only)
		return run_unlock(job, in, out, res, err);
	if (job->mail && !job->detect_only)
		return run_mail(job, in, out, res, err);
	if (job->mail) {
		res->type = *sk_type_find("eml");
		return 0;
	}

	sk_budget budget = job->budget;
	sk_cdr_ctx ctx = {
		.budget = &budget,
		.report = &res->report,
		.profile = job->profile ? job->profile : sk_profile_default(),
		.depth = 0,
		.where = "",
		.name = job->name,
		.convert = job->convert,
		.convert_ctx = job->convert_ctx,
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
		/* DLP on what will be delivered */
		if (rc == 0 && job->dlp && (rc = dlp_output(job, &ctx, out, &lerr)) != 0)
			sk_cdr_block(&ctx, rc == SK_ELIMIT ? SK_REASON_LIMIT_SIZE : SK_REASON_INTERNAL,
				     "dlp");
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
