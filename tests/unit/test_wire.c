/* The job protocol between gate and worker (src/worker/wire.c): round trips, and the
 * strict decoders against every truncation and every single-byte change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "wire.h"

static void answer_of(sk_engine_result *r)
{
	memset(r, 0, sizeof(*r));
	sk_report_init(&r->report);
	r->type = *sk_type_find("docx");
	sk_report_add(&r->report, SK_ACTION_REMOVED, "macro", "word/vbaProject.bin", NULL, 1);
	sk_report_add(&r->report, SK_ACTION_NOTED, "name-mismatch", "", "docx", 2);
	sk_report_finish(&r->report);
	memcpy(r->report.out_ext, "docx", 5);
	r->out_size = 1234;
}

static void round_trip(void **state)
{
	(void)state;
	sk_engine_result a, b;
	answer_of(&a);
	uint8_t *p;
	size_t n;
	assert_int_equal(sk_wire_answer_encode(&a, true, NULL, &p, &n), 0);
	bool retire = false;
	const uint8_t *inl = NULL;
	assert_int_equal(sk_wire_answer_decode(p, n, &b, &retire, &inl), 0);
	assert_true(retire);
	assert_ptr_equal(b.type.code, a.type.code);
	assert_int_equal(b.report.verdict, SK_VERDICT_SANITIZED);
	assert_int_equal(b.report.n, 2);
	assert_string_equal(b.report.v[0].where, "word/vbaProject.bin");
	assert_null(b.report.v[0].detail);
	assert_string_equal(b.report.v[1].detail, "docx");
	assert_int_equal(b.report.v[1].count, 2);
	assert_string_equal(b.report.out_ext, "docx");
	assert_int_equal(b.out_size, 1234);
	sk_engine_result_free(&b);
	free(p);
	/* blocked, with where and detail */
	sk_engine_result_free(&a);
	memset(&a, 0, sizeof(a));
	sk_report_init(&a.report);
	a.type = *sk_type_find("zip");
	sk_report_block(&a.report, SK_REASON_LIMIT_RATIO, "a/b.zip", "ratio");
	assert_int_equal(sk_wire_answer_encode(&a, false, NULL, &p, &n), 0);
	assert_int_equal(sk_wire_answer_decode(p, n, &b, &retire, &inl), 0);
	assert_false(retire);
	assert_int_equal(b.report.reason, SK_REASON_LIMIT_RATIO);
	assert_string_equal(b.report.reason_where, "a/b.zip");
	assert_string_equal(b.report.reason_detail, "ratio");
	sk_engine_result_free(&b);
	sk_engine_result_free(&a);
	free(p);
	/* a job */
	sk_engine_job j = {.name = "名前.csv", .profile = sk_profile_find("strict")};
	sk_budget_default(&j.budget);
	j.budget.deadline_ns = 77;
	assert_int_equal(sk_wire_job_encode(&j, 999, NULL, 0, &p, &n), 0);
	sk_wire_job d;
	assert_int_equal(sk_wire_job_decode(p, n, &d), 0);
	assert_string_equal(d.name, "名前.csv");
	assert_string_equal(d.profile.name, "strict");
	assert_true(d.profile.block_name_mismatch);
	assert_false(d.profile.keep_comments);
	assert_int_equal(d.budget.max_nodes, j.budget.max_nodes);
	assert_int_equal(d.budget.deadline_ns, 77);
	assert_int_equal(d.out_max, 999);
	assert_false(d.convert);
	for (int i = 0; i < SK_LEGACY__COUNT; i++)
		assert_int_equal(d.profile.legacy[i], SK_LEGACY_CONVERT);
	free(p);
	/* the profile's legacy actions and whether the job may convert travel too */
	sk_profile pr = *sk_profile_default();
	pr.legacy[SK_LEGACY_RTF] = SK_LEGACY_BLOCK;
	pr.legacy[SK_LEGACY_XML2003] = SK_LEGACY_IMAGE;
	j.profile = &pr;
	j.convert = (sk_convert_fn)1; /* only its presence is sent */
	assert_int_equal(sk_wire_job_encode(&j, 999, NULL, 0, &p, &n), 0);
	assert_int_equal(sk_wire_job_decode(p, n, &d), 0);
	assert_true(d.convert);
	assert_int_equal(d.profile.legacy[SK_LEGACY_RTF], SK_LEGACY_BLOCK);
	assert_int_equal(d.profile.legacy[SK_LEGACY_XML2003], SK_LEGACY_IMAGE);
	assert_int_equal(d.profile.legacy[SK_LEGACY_DOC], SK_LEGACY_CONVERT);
	assert_false(d.profile.pdf_image);
	assert_true(d.profile.damaged_pdf_image);
	free(p);
	/* and its 画像化 options */
	pr = *sk_profile_find("image");
	pr.image_dpi = 300;
	pr.image_max_pages = 12;
	j.profile = &pr;
	assert_int_equal(sk_wire_job_encode(&j, 999, NULL, 0, &p, &n), 0);
	assert_int_equal(sk_wire_job_decode(p, n, &d), 0);
	assert_true(d.profile.pdf_image && d.profile.ooxml_image && d.profile.damaged_pdf_image);
	assert_int_equal(d.profile.image_dpi, 300);
	assert_int_equal(d.profile.image_max_pages, 12);
	assert_int_equal(d.profile.legacy[SK_LEGACY_ODF], SK_LEGACY_IMAGE);
	free(p);
	pr.image_dpi = SK_WIRE_DPI_MAX + 1; /* past what render takes: refused by the decoder */
	assert_int_equal(sk_wire_job_encode(&j, 999, NULL, 0, &p, &n), 0);
	assert_int_equal(sk_wire_job_decode(p, n, &d), SK_EFORMAT);
	free(p);
}

/* CONVERT and CONVERTED: round trips and strict decoders. */
static void convert_messages(void **state)
{
	(void)state;
	uint8_t *p;
	size_t n;
	const char *detail;
	uint64_t len;
	sk_reason why;
	sk_convert c = {.target = SK_CONVERT_OOXML, .from = "xlsb"}, d;
	assert_int_equal(sk_wire_convert_encode(&c, 12345, &p, &n), 0);
	assert_int_equal(sk_wire_convert_decode(p, n, &d, &len), 0);
	assert_string_equal(d.from, "xlsb");
	assert_int_equal(d.target, SK_CONVERT_OOXML);
	assert_int_equal(len, 12345);
	for (size_t k = 0; k < n; k++)
		assert_int_not_equal(sk_wire_convert_decode(p, k, &d, &len), 0);
	free(p);
	/* 画像化: its options travel; it takes PDF and OOXML too */
	sk_convert img = {.target = SK_CONVERT_IMAGE, .from = "pdf", .dpi = 200, .max_pages = 9};
	assert_int_equal(sk_wire_convert_encode(&img, 1, &p, &n), 0);
	assert_int_equal(sk_wire_convert_decode(p, n, &d, &len), 0);
	assert_int_equal(d.target, SK_CONVERT_IMAGE);
	assert_string_equal(d.from, "pdf");
	assert_int_equal(d.dpi, 200);
	assert_int_equal(d.max_pages, 9);
	p[0] = SK_CONVERT_TARGET__COUNT; /* a target out of range */
	assert_int_not_equal(sk_wire_convert_decode(p, n, &d, &len), 0);
	free(p);
	img.from = "docx";
	assert_int_equal(sk_wire_convert_encode(&img, 1, &p, &n), 0);
	free(p);
	img.from = "png"; /* not a document */
	assert_int_not_equal(sk_wire_convert_encode(&img, 1, &p, &n), 0);
	img.from = "pdf";
	img.dpi = SK_WIRE_DPI_MAX + 1;
	assert_int_not_equal(sk_wire_convert_encode(&img, 1, &p, &n), 0);
	/* only codes a converter takes, only sizes under the limit */
	c.from = "pdf";
	assert_int_not_equal(sk_wire_convert_encode(&c, 1, &p, &n), 0);
	c.from = "doc";
	assert_int_not_equal(sk_wire_convert_encode(&c, SK_WIRE_CONVERT_MAX + 1, &p, &n), 0);
	/* target OOXML with "pdf"; a size past the limit */
	static const uint8_t pdf[] = {0, 0, 0, 0, 4, 0, 0, 0, 'p', 'd', 'f', 0, 0, 0, 0, 0,
				      0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
	assert_int_not_equal(sk_wire_convert_decode(pdf, sizeof(pdf), &d, &len), 0);
	static const uint8_t big[] = {0, 0, 0, 0, 4, 0, 0, 0, 'd', 'o', 'c', 0, 0, 0, 0, 0,
				      0, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0};
	assert_int_not_equal(sk_wire_convert_decode(big, sizeof(big), &d, &len), 0);
	static const uint8_t ok[] = {0, 0, 0, 0, 4, 0, 0, 0, 'd', 'o', 'c', 0, 0, 0, 0, 0,
				     0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
	assert_int_equal(sk_wire_convert_decode(ok, sizeof(ok), &d, &len), 0); /* the control */

	sk_convert res = {.pages = 3};
	snprintf(res.note, sizeof(res.note), "OCR jpn 2, jpn_vert 1");
	assert_int_equal(sk_wire_converted_encode(SK_REASON_NONE, "", 999, &res, &p, &n), 0);
	memset(&d, 0, sizeof(d));
	assert_int_equal(sk_wire_converted_decode(p, n, &why, &detail, &len, &d), 0);
	assert_int_equal(why, SK_REASON_NONE);
	assert_int_equal(len, 999);
	assert_int_equal(d.pages, 3);
	assert_string_equal(d.note, "OCR jpn 2, jpn_vert 1");
	for (size_t k = 0; k < n; k++)
		assert_int_not_equal(sk_wire_converted_decode(p, k, &why, &detail, &len, &d), 0);
	free(p);
	assert_int_equal(sk_wire_converted_encode(SK_REASON_LIMIT_TIME, "killed", 0, &res, &p, &n), 0);
	assert_int_equal(sk_wire_converted_decode(p, n, &why, &detail, &len, &d), 0);
	assert_int_equal(why, SK_REASON_LIMIT_TIME);
	assert_string_equal(detail, "killed");
	assert_int_equal(d.pages, 0); /* a failure carries no pages, no note */
	assert_string_equal(d.note, "");
	p[0] = SK_REASON__COUNT; /* a reason out of range */
	assert_int_not_equal(sk_wire_converted_decode(p, n, &why, &detail, &len, &d), 0);
	free(p);
	/* a failure carries no bytes */
	assert_int_not_equal(sk_wire_converted_encode(SK_REASON_MALFORMED, "x", 5, NULL, &p, &n), 0);

	/* the descriptors: sealed memfds of exactly the size said */
	int fd;
	assert_int_equal(sk_wire_memfd((const uint8_t *)"abc", 3, &fd), 0);
	assert_int_equal(sk_wire_sealed(fd, 3), 0);
	assert_int_not_equal(sk_wire_sealed(fd, 4), 0);
	sk_buf b;
	sk_buf_init(&b, 0);
	assert_int_equal(sk_wire_memfd_read(fd, 3, &b), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "abc", 3);
	close(fd);
	fd = memfd_create("x", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_int_equal(write(fd, "abc", 3), 3);
	assert_int_not_equal(sk_wire_sealed(fd, 3), 0); /* not sealed */
	close(fd);
	/* an answer bigger than the buffer may grow */
	assert_int_equal(sk_wire_memfd((const uint8_t *)"abcdef", 6, &fd), 0);
	sk_buf small;
	sk_buf_init(&small, 4);
	assert_int_not_equal(sk_wire_memfd_read(fd, 6, &small), 0);
	sk_buf_free(&small);
	close(fd);
	sk_buf_free(&b);
}

/* Every prefix is rejected; every single-byte change is rejected or decodes to a result
 * that passes the same checks (never a crash, never a leak: run under ASan). */
static void strict_decoders(void **state)
{
	(void)state;
	sk_engine_result a, b;
	answer_of(&a);
	uint8_t *p;
	size_t n;
	assert_int_equal(sk_wire_answer_encode(&a, false, NULL, &p, &n), 0);
	bool retire;
	const uint8_t *inl = NULL;
	for (size_t k = 0; k < n; k++) {
		assert_int_not_equal(sk_wire_answer_decode(p, k, &b, &retire, &inl), 0);
		sk_engine_result_free(&b);
	}
	/* one byte more is malformed too */
	uint8_t *q = malloc(n + 1);
	memcpy(q, p, n);
	q[n] = 0;
	assert_int_not_equal(sk_wire_answer_decode(q, n + 1, &b, &retire, &inl), 0);
	sk_engine_result_free(&b);
	size_t accepted = 0;
	for (size_t k = 0; k < n; k++)
		for (int bit = 0; bit < 8; bit++) {
			memcpy(q, p, n);
			q[k] ^= (uint8_t)(1 << bit);
			if (sk_wire_answer_decode(q, n, &b, &retire, &inl) == 0) {
				accepted++;
				assert_non_null(sk_type_find(b.type.code));
				assert_true(b.report.verdict <= SK_VERDICT_BLOCKED);
			}
			sk_engine_result_free(&b);
		}
	/* flips inside strings and counts may still make a well-formed answer, but most
	 * change a length, a code or a terminator */
	assert_true(accepted < n * 8 / 2);
	free(q);
	free(p);
	sk_engine_result_free(&a);

	sk_engine_job j = {.name = "x"};
	sk_budget_default(&j.budget);
	assert_int_equal(sk_wire_job_encode(&j, 1, NULL, 0, &p, &n), 0);
	sk_wire_job d;
	for (size_t k = 0; k < n; k++)
		assert_int_not_equal(sk_wire_job_decode(p, k, &d), 0);
	p[n - 5] = 9; /* the kind byte (before the u32 of the input's bytes): 0 file, 1 mail */
	assert_int_not_equal(sk_wire_job_decode(p, n, &d), 0);
	free(p);
}

/* Small inputs and outputs in the messages: round trips, and every way the answer's bytes
 * can disagree with the rest of it. */
static void inline_bytes(void **state)
{
	(void)state;
	sk_engine_job j = {.name = "a.txt"};
	sk_budget_default(&j.budget);
	uint8_t *p;
	size_t n;
	assert_int_equal(sk_wire_job_encode(&j, 10, (const uint8_t *)"hello", 5, &p, &n), 0);
	sk_wire_job d;
	assert_int_equal(sk_wire_job_decode(p, n, &d), 0);
	assert_non_null(d.input);
	assert_int_equal(d.input_len, 5);
	assert_memory_equal(d.input, "hello", 5);
	for (size_t k = 0; k < n; k++)
		assert_int_not_equal(sk_wire_job_decode(p, k, &d), 0);
	free(p);
	/* an empty input is still an input in the message */
	assert_int_equal(sk_wire_job_encode(&j, 10, (const uint8_t *)"", 0, &p, &n), 0);
	assert_int_equal(sk_wire_job_decode(p, n, &d), 0);
	assert_non_null(d.input);
	assert_int_equal(d.input_len, 0);
	free(p);
	/* none: the input is a descriptor */
	assert_int_equal(sk_wire_job_encode(&j, 10, NULL, 0, &p, &n), 0);
	assert_int_equal(sk_wire_job_decode(p, n, &d), 0);
	assert_null(d.input);
	free(p);
	/* past the limit: not encoded */
	uint8_t *big = calloc(1, SK_WIRE_INLINE_MAX + 1);
	assert_int_equal(sk_wire_job_encode(&j, 10, big, SK_WIRE_INLINE_MAX + 1, &p, &n), SK_ELIMIT);

	sk_engine_result a, b;
	memset(&a, 0, sizeof(a));
	sk_report_init(&a.report);
	a.type = *sk_type_find("text");
	sk_report_finish(&a.report);
	a.out_size = 3;
	assert_int_equal(sk_wire_answer_encode(&a, false, (const uint8_t *)"abc", &p, &n), 0);
	bool retire;
	const uint8_t *inl = NULL;
	assert_int_equal(sk_wire_answer_decode(p, n, &b, &retire, &inl), 0);
	assert_non_null(inl);
	assert_memory_equal(inl, "abc", 3);
	assert_int_equal(b.out_size, 3);
	sk_engine_result_free(&b);
	for (size_t k = 0; k < n; k++) {
		assert_int_not_equal(sk_wire_answer_decode(p, k, &b, &retire, &inl), 0);
		sk_engine_result_free(&b);
	}
	/* the bytes must be out_size long: the u32 before them says 2 (the last 7 bytes are
	 * the length and "abc") */
	p[n - 7] = 2;
	assert_int_not_equal(sk_wire_answer_decode(p, n, &b, &retire, &inl), 0);
	sk_engine_result_free(&b);
	free(p);
	/* more than the limit: not encoded, and not decoded either */
	a.out_size = SK_WIRE_INLINE_MAX + 1;
	assert_int_equal(sk_wire_answer_encode(&a, false, big, &p, &n), SK_EINVAL);
	a.out_size = 0;
	sk_report_free(&a.report);
	sk_report_init(&a.report);
	sk_report_finish(&a.report);
	assert_int_equal(sk_wire_answer_encode(&a, false, (const uint8_t *)"", &p, &n), 0);
	uint8_t *q = malloc(n + SK_WIRE_INLINE_MAX + 1);
	memcpy(q, p, n - 4);
	const uint8_t len[4] = {0x01, 0x00, 0x02, 0x00}; /* SK_WIRE_INLINE_MAX + 1 */
	memcpy(q + n - 4, len, 4);
	memset(q + n, 'x', SK_WIRE_INLINE_MAX + 1);
	assert_int_not_equal(sk_wire_answer_decode(q, n + SK_WIRE_INLINE_MAX + 1, &b, &retire, &inl), 0);
	sk_engine_result_free(&b);
	free(q);
	free(p);
	/* a blocked item has no output to carry */
	sk_report_block(&a.report, SK_REASON_INTERNAL, NULL, "x");
	assert_int_equal(sk_wire_answer_encode(&a, false, (const uint8_t *)"", &p, &n), SK_EINVAL);
	sk_engine_result_free(&a);
	free(big);
}

/* A mail job with DLP detectors: the mail options and the detectors survive the trip, and
 * the decoded detectors find what the originals find; a mail answer's counters too. */
static void mail_and_dlp(void **state)
{
	(void)state;
	static const sk_dlp_pattern pats[] = {{"secret-word", "TOP[[:space:]]*SECRET"}};
	static const char *const words[] = {"住民番号"};
	static const char *const deny[] = {"384756291044"};
	sk_dlp_config c;
	sk_dlp_config_default(&c);
	c.patterns = pats;
	c.npatterns = 1;
	c.mynumber_words = words;
	c.nmynumber_words = 1;
	c.window = 30;
	c.deny = deny;
	c.ndeny = 1;
	sk_dlp *d = NULL;
	sk_error err;
	assert_int_equal(sk_dlp_new(&c, &d, &err), 0);
	static const char *const doms[] = {"lg.example", "city.example", NULL};
	sk_mail_options mo;
	sk_mail_options_default(&mo);
	mo.attach = SK_MAIL_SANITIZE_ATTACH;
	mo.lang = SK_LANG_EN;
	mo.internal_domains = doms;
	mo.original_id = "20261207-abcdef01";
	mo.max_parts = 7;
	sk_engine_job j = {.name = "message.eml", .dlp = d, .dlp_kinds = 5, .mail = &mo};
	sk_budget_default(&j.budget);
	uint8_t *p;
	size_t n;
	assert_int_equal(sk_wire_job_encode(&j, 99, NULL, 0, &p, &n), 0);
	sk_wire_job w;
	assert_int_equal(sk_wire_job_decode(p, n, &w), 0);
	assert_true(w.is_mail);
	assert_int_equal(w.dlp_kinds, 5);
	assert_int_equal(w.mail.attach, SK_MAIL_SANITIZE_ATTACH);
	assert_int_equal(w.mail.lang, SK_LANG_EN);
	assert_int_equal(w.mail.max_parts, 7);
	assert_string_equal(w.mail.original_id, "20261207-abcdef01");
	assert_string_equal(w.mail.internal_domains[1], "city.example");
	assert_null(w.mail.internal_domains[2]);
	sk_dlp *d2 = NULL;
	assert_int_equal(sk_dlp_decode(w.dlp, w.dlp_len, &d2, &err), 0);
	const char text[] = "住民番号 3847-5629-1044 と TOP SECRET\n個人番号: 1234-5678-9018\n";
	sk_dlp_result a, b;
	sk_dlp_result_init(&a);
	sk_dlp_result_init(&b);
	assert_int_equal(sk_dlp_scan_text(d, text, sizeof(text) - 1, &a, &err), 0);
	assert_int_equal(sk_dlp_scan_text(d2, text, sizeof(text) - 1, &b, &err), 0);
	assert_int_equal(a.n, b.n);
	assert_true(a.n >= 1); /* the pattern at least; 3847… is on the deny-list */
	bool pattern = false, denied = false;
	for (size_t i = 0; i < b.n; i++) {
		pattern |= !strcmp(b.v[i].rule, "secret-word");
		denied |= b.v[i].offset < 20 && b.v[i].kind == SK_DLP_MYNUMBER;
	}
	assert_true(pattern);
	assert_false(denied);
	for (size_t i = 0; i < a.n; i++) {
		assert_string_equal(a.v[i].rule, b.v[i].rule);
		assert_int_equal(a.v[i].offset, b.v[i].offset);
	}
	sk_dlp_result_free(&a);
	sk_dlp_result_free(&b);
	/* a changed byte in the detectors is refused or decodes to working detectors */
	for (size_t k = 0; k < w.dlp_len; k++) {
		uint8_t *q = malloc(w.dlp_len);
		memcpy(q, w.dlp, w.dlp_len);
		q[k] ^= 0x41;
		sk_dlp *d3 = NULL;
		if (sk_dlp_decode(q, w.dlp_len, &d3, &err) == 0)
			sk_dlp_free(d3);
		free(q);
	}
	/* every truncation of the detectors is refused */
	for (size_t k = 0; k < w.dlp_len; k++) {
		sk_dlp *d3 = NULL;
		assert_int_not_equal(sk_dlp_decode(w.dlp, k, &d3, &err), 0);
	}
	sk_dlp_free(d2);
	free(p);
	sk_dlp_free(d);
	/* a mail answer */
	sk_engine_result r, r2;
	memset(&r, 0, sizeof(r));
	sk_report_init(&r.report);
	r.type = *sk_type_find("eml");
	sk_report_add(&r.report, SK_ACTION_CONVERTED, "mail", "", "CHG_TEXT TEXT_ONLY", 1);
	sk_report_finish(&r.report);
	snprintf(r.mail.actions, sizeof(r.mail.actions), "CHG_TEXT TEXT_ONLY");
	r.mail.parts = 3;
	r.mail.links = 2;
	bool retire;
	const uint8_t *inl = NULL;
	assert_int_equal(sk_wire_answer_encode(&r, false, NULL, &p, &n), 0);
	assert_int_equal(sk_wire_answer_decode(p, n, &r2, &retire, &inl), 0);
	assert_string_equal(r2.mail.actions, "CHG_TEXT TEXT_ONLY");
	assert_int_equal(r2.mail.parts, 3);
	assert_int_equal(r2.mail.links, 2);
	assert_false(r2.mail.held);
	sk_engine_result_free(&r2);
	free(p);
	/* held must say why */
	r.mail.held = true;
	assert_int_equal(sk_wire_answer_encode(&r, false, NULL, &p, &n), 0);
	assert_int_not_equal(sk_wire_answer_decode(p, n, &r2, &retire, &inl), 0);
	sk_engine_result_free(&r2);
	free(p);
	sk_engine_result_free(&r);
}

/* Framing on a socketpair: a message with descriptors, a header over the limit, a
 * message with descriptors where none are expected, EOF. */
static void framing(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	int fds[2] = {STDIN_FILENO, STDERR_FILENO};
	assert_int_equal(sk_wire_send(sv[0], SK_WIRE_JOB, "abc", 3, fds, 2), 0);
	uint32_t type;
	uint8_t *p;
	size_t n;
	int got[2] = {-1, -1};
	assert_int_equal(sk_wire_recv(sv[1], &type, &p, &n, got, 2, 0), 0);
	assert_int_equal(type, SK_WIRE_JOB);
	assert_int_equal(n, 3);
	assert_memory_equal(p, "abc", 3);
	assert_true(got[0] > 2 && got[1] > 2);
	close(got[0]);
	close(got[1]);
	free(p);
	/* descriptors where none are expected */
	assert_int_equal(sk_wire_send(sv[0], SK_WIRE_ANSWER, "x", 1, fds, 1), 0);
	assert_int_equal(sk_wire_recv(sv[1], &type, &p, &n, NULL, 0, 0), SK_EFORMAT);
	/* a length past the limit, an unknown type */
	const uint8_t big[8] = {SK_WIRE_ANSWER, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f};
	assert_int_equal(write(sv[0], big, 8), 8);
	assert_int_equal(sk_wire_recv(sv[1], &type, &p, &n, NULL, 0, 0), SK_EFORMAT);
	const uint8_t odd[8] = {9, 0, 0, 0, 0, 0, 0, 0};
	assert_int_equal(write(sv[0], odd, 8), 8);
	assert_int_equal(sk_wire_recv(sv[1], &type, &p, &n, NULL, 0, 0), SK_EFORMAT);
	/* a job with one descriptor (its input in the message) where up to two may come */
	assert_int_equal(sk_wire_send(sv[0], SK_WIRE_JOB, "abc", 3, fds, 1), 0);
	int nfd = -1;
	assert_int_equal(sk_wire_recv_fds(sv[1], &type, &p, &n, got, 2, &nfd, 0), 0);
	assert_int_equal(nfd, 1);
	assert_true(got[0] > 2);
	close(got[0]);
	free(p);
	/* two messages back to back: the peers take turns, so the second is an error */
	assert_int_equal(sk_wire_send(sv[0], SK_WIRE_ANSWER, "x", 1, NULL, 0), 0);
	assert_int_equal(sk_wire_send(sv[0], SK_WIRE_ANSWER, "y", 1, NULL, 0), 0);
	assert_int_equal(sk_wire_recv(sv[1], &type, &p, &n, NULL, 0, 0), SK_EFORMAT);
	/* a message larger than the first read, sent by a thread-less writer in pieces */
	size_t bign = (size_t)1 << 20;
	uint8_t *bigp = malloc(bign);
	for (size_t i = 0; i < bign; i++)
		bigp[i] = (uint8_t)(i * 7);
	pid_t pid = fork();
	if (pid == 0)
		_exit(sk_wire_send(sv[0], SK_WIRE_ANSWER, bigp, bign, NULL, 0) == 0 ? 0 : 1);
	assert_int_equal(sk_wire_recv(sv[1], &type, &p, &n, NULL, 0, 0), 0);
	assert_int_equal(n, bign);
	assert_memory_equal(p, bigp, bign);
	free(p);
	free(bigp);
	int st = -1;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(st, 0);
	/* a deadline already past */
	assert_int_equal(sk_wire_recv(sv[1], &type, &p, &n, NULL, 0, 1), SK_ELIMIT);
	close(sv[0]);
	assert_int_equal(sk_wire_recv(sv[1], &type, &p, &n, NULL, 0, 0), SK_EIO);
	close(sv[1]);
}

/* The office worker's messages: round trips; every truncation refused; an answer's reason
 * and output must agree; only the reasons a conversion fails with; sent and received on
 * the same framing. */
static void office_messages(void **state)
{
	(void)state;
	uint8_t *p = NULL;
	size_t n = 0;
	const char *sandbox = NULL;
	sk_wire_office_job j = {.mode = SK_OFFICE_CONVERT, .from = "xls", .out_max = 1u << 20};
	static sk_wire_office_job d;
	sk_wire_office_answer a, b;

	assert_int_equal(sk_wire_office_job_encode(&j, &p, &n), 0);
	assert_int_equal(sk_wire_office_job_decode(p, n, &d), 0);
	assert_int_equal(d.mode, SK_OFFICE_CONVERT);
	assert_string_equal(d.from, "xls");
	assert_int_equal(d.out_max, 1u << 20);
	assert_null(d.ocr_lang);
	for (size_t k = 0; k < n; k++)
		assert_int_equal(sk_wire_office_job_decode(p, k, &d), SK_EFORMAT);
	p[0] = 9; /* no such mode */
	assert_int_equal(sk_wire_office_job_decode(p, n, &d), SK_EFORMAT);
	free(p);
	/* an image job: its options; a join: its parts */
	sk_wire_office_job im = {.mode = SK_OFFICE_IMAGE, .from = "docx", .dpi = 300, .max_pages = 8,
				 .first = 4, .last = 8, .gray = true, .ocr_lang = "jpn+eng",
				 .max_pixels = 12345, .deadline_ns = 777};
	assert_int_equal(sk_wire_office_job_encode(&im, &p, &n), 0);
	assert_int_equal(sk_wire_office_job_decode(p, n, &d), 0);
	assert_true(d.mode == SK_OFFICE_IMAGE && d.dpi == 300 && d.max_pages == 8 && d.first == 4 &&
		    d.last == 8 && d.gray && d.max_pixels == 12345 && d.deadline_ns == 777);
	assert_string_equal(d.ocr_lang, "jpn+eng");
	free(p);
	sk_wire_office_job bad = im;
	bad.first = 9; /* a range backwards */
	assert_int_equal(sk_wire_office_job_encode(&bad, &p, &n), SK_EINVAL);
	bad = im;
	bad.ocr_lang = "../jpn"; /* not a language list */
	assert_int_equal(sk_wire_office_job_encode(&bad, &p, &n), SK_EINVAL);
	bad = im;
	bad.from = "png";
	assert_int_equal(sk_wire_office_job_encode(&bad, &p, &n), SK_EINVAL);
	bad = im;
	bad.mode = SK_OFFICE_CONVERT; /* converting a docx is not a conversion */
	assert_int_equal(sk_wire_office_job_encode(&bad, &p, &n), SK_EINVAL);
	bad = im;
	bad.nparts = 1; /* parts only for a join */
	assert_int_equal(sk_wire_office_job_encode(&bad, &p, &n), SK_EINVAL);
	sk_wire_office_job *jn = calloc(1, sizeof(*jn));
	jn->mode = SK_OFFICE_JOIN;
	jn->from = "pdf";
	jn->nparts = 3;
	jn->parts[0] = 10;
	jn->parts[1] = 20;
	jn->parts[2] = 30;
	assert_int_equal(sk_wire_office_job_encode(jn, &p, &n), 0);
	assert_int_equal(sk_wire_office_job_decode(p, n, &d), 0);
	assert_int_equal(d.nparts, 3);
	assert_int_equal(d.parts[2], 30);
	for (size_t k = 0; k < n; k++)
		assert_int_equal(sk_wire_office_job_decode(p, k, &d), SK_EFORMAT);
	free(p);
	jn->nparts = 0; /* a join of nothing */
	assert_int_equal(sk_wire_office_job_encode(jn, &p, &n), SK_EINVAL);
	free(jn);

	a = (sk_wire_office_answer){.reason = SK_REASON_NONE, .out_size = 4321,
				    .info = {.pages = 9, .rendered = 4, .pixels = 99,
					     .ocr = {[SK_RENDER_OCR_JPN] = 3, [SK_RENDER_OCR_VERT] = 1}}};
	assert_int_equal(sk_wire_office_answer_encode(&a, &p, &n), 0);
	assert_int_equal(sk_wire_office_answer_decode(p, n, &b), 0);
	assert_int_equal(b.reason, SK_REASON_NONE);
	assert_null(b.detail);
	assert_int_equal(b.out_size, 4321);
	assert_memory_equal(&b.info, &a.info, sizeof(a.info));
	for (size_t k = 0; k < n; k++)
		assert_int_equal(sk_wire_office_answer_decode(p, k, &b), SK_EFORMAT);
	free(p);
	a = (sk_wire_office_answer){.reason = SK_REASON_ENCRYPTED, .detail = "password"};
	assert_int_equal(sk_wire_office_answer_encode(&a, &p, &n), 0);
	assert_int_equal(sk_wire_office_answer_decode(p, n, &b), 0);
	assert_int_equal(b.reason, SK_REASON_ENCRYPTED);
	assert_string_equal(b.detail, "password");
	free(p);
	/* a count without an output (a PDF's page count) is an answer */
	a = (sk_wire_office_answer){.info = {.pages = 3}};
	assert_int_equal(sk_wire_office_answer_encode(&a, &p, &n), 0);
	assert_int_equal(sk_wire_office_answer_decode(p, n, &b), 0);
	free(p);
	/* done without output or count; failed with output or counts; more read than
	 * rendered, more rendered than there are; a reason no office job gives */
	sk_wire_office_answer refused[] = {
		{.reason = SK_REASON_NONE},
		{.reason = SK_REASON_MALFORMED, .out_size = 10},
		{.reason = SK_REASON_LIMIT_PAGES, .info = {.pages = 2}},
		{.reason = SK_REASON_NONE, .out_size = 1, .info = {.pages = 2, .rendered = 1, .ocr = {2}}},
		{.reason = SK_REASON_NONE, .out_size = 1, .info = {.pages = 2, .rendered = 3}},
		{.reason = SK_REASON_MALWARE},
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		assert_int_equal(sk_wire_office_answer_encode(&refused[i], &p, &n), 0);
		assert_int_equal(sk_wire_office_answer_decode(p, n, &b), SK_EFORMAT);
		free(p);
	}
	/* the reasons 画像化 fails with */
	a = (sk_wire_office_answer){.reason = SK_REASON_LIMIT_PIXELS};
	assert_int_equal(sk_wire_office_answer_encode(&a, &p, &n), 0);
	assert_int_equal(sk_wire_office_answer_decode(p, n, &b), 0);
	free(p);

	assert_int_equal(sk_wire_office_ready_encode("netns=yes", &p, &n), 0);
	assert_int_equal(sk_wire_office_ready_decode(p, n, &sandbox), 0);
	assert_string_equal(sandbox, "netns=yes");
	p[0] ^= 0x7f; /* another version */
	assert_int_equal(sk_wire_office_ready_decode(p, n, &sandbox), SK_EFORMAT);
	free(p);

	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	j.from = "doc";
	assert_int_equal(sk_wire_office_job_encode(&j, &p, &n), 0);
	assert_int_equal(sk_wire_send(sv[0], SK_WIRE_OFFICE_JOB, p, n, NULL, 0), 0);
	free(p);
	uint32_t type = 0;
	assert_int_equal(sk_wire_recv(sv[1], &type, &p, &n, NULL, 0, 0), 0);
	assert_int_equal(type, SK_WIRE_OFFICE_JOB);
	assert_int_equal(sk_wire_office_job_decode(p, n, &d), 0);
	assert_string_equal(d.from, "doc");
	free(p);
	/* a type between the two protocols' is not one */
	assert_int_equal(sk_wire_send(sv[0], 9, "", 0, NULL, 0), 0);
	assert_int_equal(sk_wire_recv(sv[1], &type, &p, &n, NULL, 0, 0), SK_EFORMAT);
	close(sv[0]);
	close(sv[1]);
}

/* Which failed office jobs end the worker: those LibreOffice had a part in */
static void office_retires(void **state)
{
	(void)state;
	assert_true(sk_wire_office_retires(SK_OFFICE_CONVERT, "doc"));
	assert_true(sk_wire_office_retires(SK_OFFICE_CONVERT, "pdf"));
	assert_true(sk_wire_office_retires(SK_OFFICE_PDF, "docx"));
	assert_true(sk_wire_office_retires(SK_OFFICE_IMAGE, "xls"));
	assert_true(sk_wire_office_retires(SK_OFFICE_IMAGE, NULL));
	assert_false(sk_wire_office_retires(SK_OFFICE_PDF, "pdf"));
	assert_false(sk_wire_office_retires(SK_OFFICE_IMAGE, "pdf"));
	assert_false(sk_wire_office_retires(SK_OFFICE_JOIN, "pdf"));
	assert_false(sk_wire_office_retires(SK_OFFICE_JOIN, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(convert_messages),
		cmocka_unit_test(mail_and_dlp),
		cmocka_unit_test(strict_decoders),
		cmocka_unit_test(framing),
		cmocka_unit_test(inline_bytes),
		cmocka_unit_test(office_messages),
		cmocka_unit_test(office_retires),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
