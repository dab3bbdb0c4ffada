/* Core pieces: buffer, budget, report, names, verdicts. */
#include <stdlib.h>
#include <string.h>

#include "sekisho/name.h"
#include "testutil.h"

static void buf_limit(void **state)
{
	(void)state;
	sk_buf b;
	sk_buf_init(&b, 8);
	assert_int_equal(sk_buf_add(&b, "12345678", 8), 0);
	assert_int_equal(sk_buf_addc(&b, 'x'), SK_ELIMIT);
	assert_int_equal(b.len, 8);
	assert_string_equal(sk_buf_str(&b), "12345678");
	sk_buf_reset(&b);
	assert_int_equal(sk_buf_printf(&b, "%d-%s", 42, "ab"), 0);
	assert_string_equal(sk_buf_str(&b), "42-ab");
	assert_int_equal(sk_buf_printf(&b, "%s", "toolong"), SK_ELIMIT);
	size_t n;
	uint8_t *p = sk_buf_take(&b, &n);
	assert_int_equal(n, 5);
	assert_null(b.data);
	free(p);
	sk_buf_free(&b);
}

static void budget_limits(void **state)
{
	(void)state;
	sk_budget b;
	sk_budget_default(&b);
	b.max_expanded = 100;
	assert_int_equal(sk_budget_expand(&b, 60), SK_REASON_NONE);
	assert_int_equal(sk_budget_expand(&b, 41), SK_REASON_LIMIT_SIZE);
	assert_int_equal(sk_budget_expand(&b, 40), SK_REASON_NONE);
	b.max_entries = 2;
	assert_int_equal(sk_budget_entry(&b), SK_REASON_NONE);
	assert_int_equal(sk_budget_entry(&b), SK_REASON_NONE);
	assert_int_equal(sk_budget_entry(&b), SK_REASON_LIMIT_ENTRIES);
	b.max_pixels = 1000;
	assert_int_equal(sk_budget_pixels(&b, 10, 50), SK_REASON_NONE);
	assert_int_equal(sk_budget_pixels(&b, 10, 51), SK_REASON_LIMIT_PIXELS);
	assert_int_equal(sk_budget_pixels(&b, UINT64_MAX, 3), SK_REASON_LIMIT_PIXELS);
	b.max_depth = 2;
	assert_int_equal(sk_budget_depth(&b, 2), SK_REASON_NONE);
	assert_int_equal(sk_budget_depth(&b, 3), SK_REASON_LIMIT_DEPTH);
	b.max_ratio = 100;
	assert_int_equal(sk_budget_ratio(&b, 1000, 1000 * 99), SK_REASON_NONE);
	assert_int_equal(sk_budget_ratio(&b, 1000, 1000 * 100), SK_REASON_LIMIT_RATIO);
	assert_int_equal(sk_budget_ratio(&b, 0, 1 << 20), SK_REASON_LIMIT_RATIO);
	b.max_input = 10;
	assert_int_equal(sk_budget_input(&b, 11), SK_REASON_LIMIT_SIZE);
}

static void report_verdicts(void **state)
{
	(void)state;
	sk_report r;
	sk_report_init(&r);
	assert_int_equal(sk_report_add(&r, SK_ACTION_NOTED, "name-mismatch", "", NULL, 1), 0);
	sk_report_finish(&r);
	assert_int_equal(r.verdict, SK_VERDICT_CLEAN);
	assert_int_equal(sk_report_add(&r, SK_ACTION_REMOVED, "exif", "a.jpg", NULL, 1), 0);
	sk_report_finish(&r);
	assert_int_equal(r.verdict, SK_VERDICT_SANITIZED);
	sk_report_truncate(&r, 1);
	assert_int_equal(r.n, 1);
	sk_report_block(&r, SK_REASON_ENCRYPTED, "x.zip", "a.txt");
	sk_report_block(&r, SK_REASON_MALFORMED, NULL, NULL); /* first reason wins */
	sk_report_finish(&r);
	assert_int_equal(r.verdict, SK_VERDICT_BLOCKED);
	assert_string_equal(sk_reason_code(r.reason), "encrypted");
	assert_string_equal(r.reason_detail, "a.txt");
	sk_report_free(&r);
	/* every reason has a code and both texts */
	for (int i = 1; i < SK_REASON__COUNT; i++) {
		assert_true(strlen(sk_reason_code((sk_reason)i)) > 0);
		assert_true(strlen(sk_reason_text((sk_reason)i, SK_LANG_JA)) > 0);
		assert_true(strlen(sk_reason_text((sk_reason)i, SK_LANG_EN)) > 0);
	}
	assert_string_equal(sk_verdict_text(SK_VERDICT_BLOCKED, SK_LANG_JA), "遮断");
	assert_int_equal(sk_reason_from_code("limit-ratio"), SK_REASON_LIMIT_RATIO);
	assert_int_equal(sk_reason_from_code("no-such"), SK_REASON_NONE);
	assert_int_equal(sk_lang_from_string("C"), SK_LANG_EN);
	assert_int_equal(sk_lang_from_string("ja_JP.UTF-8"), SK_LANG_JA);
	assert_int_equal(sk_lang_from_string("en_US.UTF-8"), SK_LANG_EN);
}

static void clean(const char *in, const char *want, int want_mask)
{
	sk_buf b;
	sk_buf_init(&b, 0);
	int m = sk_name_clean(in, &b);
	assert_true(m >= 0);
	assert_string_equal(sk_buf_str(&b), want);
	if (want_mask >= 0)
		assert_int_equal(m, want_mask);
	sk_buf_free(&b);
}

static void names(void **state)
{
	(void)state;
	clean("dir/a.txt", "dir/a.txt", 0);
	clean("../../etc/passwd", "etc/passwd", SK_NAME_CHANGED_PATH);
	clean("/etc/passwd", "etc/passwd", SK_NAME_CHANGED_PATH);
	clean("a/./b//c", "a/b/c", -1);
	clean("C:\\Windows\\x.dll", "C_/Windows/x.dll", SK_NAME_CHANGED_PATH);
	clean("invoice\xE2\x80\xAEgpj.exe", "invoicegpj.exe", SK_NAME_CHANGED_BIDI);
	clean("a\x01\x1b" "b.txt", "ab.txt", SK_NAME_CHANGED_CONTROL);
	clean("evil.exe. . ", "evil.exe", SK_NAME_CHANGED_PATH);
	clean("\xff\xfe.txt", "__.txt", SK_NAME_CHANGED_INVALID);
	clean("..", "_", SK_NAME_CHANGED_PATH);
	clean("日本語/資料.csv", "日本語/資料.csv", 0);
	assert_true(sk_utf8_valid("日本", 6));
	assert_false(sk_utf8_valid("\xC0\xAF", 2)); /* overlong '/' */
	assert_false(sk_utf8_valid("\xED\xA0\x80", 3)); /* surrogate */
}

static void name_ext(void **state)
{
	(void)state;
	char e[32];
	sk_name_ext("a/b/Report.PDF", e, sizeof(e));
	assert_string_equal(e, "pdf");
	sk_name_ext("photo\xE2\x80\xAEgpj.exe", e, sizeof(e));
	assert_string_equal(e, "exe");
	sk_name_ext("run.exe.", e, sizeof(e));
	assert_string_equal(e, "exe");
	sk_name_ext(".bashrc", e, sizeof(e));
	assert_string_equal(e, "");
	assert_true(sk_name_ext_is_executable("js"));
	assert_true(sk_name_ext_is_executable("lnk"));
	assert_false(sk_name_ext_is_executable("csv"));
}

/* A CP932 file name or a cut locator must not lose the report line. */
static void json_invalid_utf8(void **state)
{
	(void)state;
	sk_result res;
	memset(&res, 0, sizeof(res));
	sk_report_init(&res.report);
	res.type.code = "text";
	assert_int_equal(sk_report_add(&res.report, SK_ACTION_REMOVED, "entry", "a/\x8e\x91\x97\xbf.txt",
				       "unknown-type", 1), 0);
	sk_report_finish(&res.report);
	char *j = sk_result_json(&res, "in/\x8e\x91\x97\xbf.csv", "out/\xe8\xb3");
	assert_non_null(j);
	assert_true(sk_utf8_valid(j, strlen(j)));
	assert_non_null(strstr(j, "\"in/\xef\xbf\xbd"));
	assert_non_null(strstr(j, "\"action\":\"removed\""));
	free(j);
	sk_result_free(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buf_limit),
		cmocka_unit_test(budget_limits),
		cmocka_unit_test(report_verdicts),
		cmocka_unit_test(names),
		cmocka_unit_test(name_ext),
		cmocka_unit_test(json_invalid_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
