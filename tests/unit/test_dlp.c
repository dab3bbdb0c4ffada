/* DLP: check digits, formats, context, boundaries, encodings, streaming, limits, and a
 * generated corpus for the false-match rate. */
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sekisho/dlp.h"
#include "testutil.h"

/* number of matches of kind k in text */
static size_t count(const sk_dlp *d, const char *text, sk_dlp_kind k)
{
	sk_dlp_result r;
	sk_dlp_result_init(&r);
	sk_error err;
	assert_int_equal(sk_dlp_scan_text(d, text, strlen(text), &r, &err), 0);
	size_t n = 0;
	for (size_t i = 0; i < r.n; i++)
		n += r.v[i].kind == k;
	sk_dlp_result_free(&r);
	return n;
}

/* a valid 個人番号 from an 11-digit body */
static void mynum(const char *body, char out[13])
{
	memcpy(out, body, 11);
	out[11] = (char)('0' + sk_dlp_mynumber_check(body));
	out[12] = 0;
}


/* the id of the only asset marking in text, "" when none (and the count in *n) */
static const char *asset_id(const sk_dlp *d, const char *text, size_t *n)
{
	static char id[128];
	sk_dlp_result r;
	sk_dlp_result_init(&r);
	sk_error err;
	assert_int_equal(sk_dlp_scan_text(d, text, strlen(text), &r, &err), 0);
	id[0] = 0;
	*n = 0;
	for (size_t i = 0; i < r.n; i++)
		if (r.v[i].kind == SK_DLP_ASSET) {
			snprintf(id, sizeof(id), "%s", r.v[i].masked);
			(*n)++;
		}
	sk_dlp_result_free(&r);
	return id;
}

/* asset markings (資産番号: AS-0012): the forms read, the ones that are not markings, the
 * gap limit, the id's digit limit, a configured word, off, and the detectors carried to a
 * worker */
static void asset_markings(void **state)
{
	(void)state;
	sk_dlp *d = tu_dlp();
	size_t n;
	assert_string_equal(asset_id(d, "資料\n資産番号: AS-0012\n以上\n", &n), "AS-0012");
	assert_int_equal(n, 1);
	assert_string_equal(asset_id(d, "情報資産番号 AS-0012", &n), "AS-0012");
	assert_string_equal(asset_id(d, "情報資産番号：ＡＳ－００１２。", &n), "AS-0012");
	assert_string_equal(asset_id(d, "資産番号＝AS-7", &n), "AS-7");
	assert_string_equal(asset_id(d, "Asset ID: AS-0003", &n), "AS-0003");
	assert_string_equal(asset_id(d, "ASSET NO #AS-0004)", &n), "AS-0004");
	assert_string_equal(asset_id(d, "資産番号:AS-12345678", &n), "AS-12345678");
	/* not markings: no word, a line break, other letters, a longer id, letters after it,
	 * no digits, too many separators */
	assert_string_equal(asset_id(d, "AS-0012 を参照", &n), "");
	assert_string_equal(asset_id(d, "資産番号:\nAS-0012", &n), "");
	assert_string_equal(asset_id(d, "資産番号: AB-0012", &n), "");
	assert_string_equal(asset_id(d, "資産番号: AS-123456789", &n), "");
	assert_string_equal(asset_id(d, "資産番号: AS-0012X", &n), "");
	assert_string_equal(asset_id(d, "資産番号: AS-", &n), "");
	char gap[64];
	snprintf(gap, sizeof(gap), "資産番号%*sAS-1", SK_DLP_ASSET_GAP, "");
	assert_string_equal(asset_id(d, gap, &n), "AS-1");
	snprintf(gap, sizeof(gap), "資産番号%*sAS-1", SK_DLP_ASSET_GAP + 1, "");
	assert_string_equal(asset_id(d, gap, &n), "");
	/* two markings, and the report entry: what asset-marking, the id in clear */
	assert_int_equal(count(d, "資産番号 AS-1、資産番号 AS-2", SK_DLP_ASSET), 2);
	sk_report rep;
	sk_report_init(&rep);
	sk_input in;
	const char *t = "件名\n資産番号: AS-0012\n";
	sk_input_mem(&in, t, strlen(t));
	sk_error err;
	assert_int_equal(sk_dlp_report(d, 1u << SK_DLP_ASSET, &in, "body", &rep, &err), 0);
	assert_int_equal(rep.n, 1);
	assert_string_equal(rep.v[0].what, "asset-marking");
	assert_string_equal(rep.v[0].what, sk_dlp_what(SK_DLP_ASSET));
	assert_string_equal(rep.v[0].detail, "AS-0012");
	assert_string_equal(rep.v[0].where, "body line 2:1");
	sk_report_free(&rep);
	/* not in the kinds mask: no entry */
	sk_report_init(&rep);
	assert_int_equal(sk_dlp_report(d, 1u << SK_DLP_MYNUMBER, &in, "", &rep, &err), 0);
	assert_int_equal(rep.n, 0);
	sk_report_free(&rep);
	sk_dlp_free(d);

	/* a configured word; the detector off */
	sk_dlp_config c;
	sk_dlp_config_default(&c);
	const char *words[] = {"管理番号"};
	c.asset_words = words;
	c.nasset_words = 1;
	assert_int_equal(sk_dlp_new(&c, &d, &err), 0);
	assert_string_equal(asset_id(d, "管理番号: AS-0099", &n), "AS-0099");
	/* carried to a worker: the word and the switch survive */
	sk_buf b;
	sk_buf_init(&b, 0);
	assert_int_equal(sk_dlp_encode(d, &b), 0);
	sk_dlp *d2 = NULL;
	assert_int_equal(sk_dlp_decode(sk_buf_data(&b), sk_buf_len(&b), &d2, &err), 0);
	assert_string_equal(asset_id(d2, "管理番号: AS-0099", &n), "AS-0099");
	sk_dlp_free(d2);
	sk_buf_free(&b);
	sk_dlp_free(d);
	c.asset = false;
	assert_int_equal(sk_dlp_new(&c, &d, &err), 0);
	assert_string_equal(asset_id(d, "資産番号: AS-0012", &n), "");
	sk_buf_init(&b, 0);
	assert_int_equal(sk_dlp_encode(d, &b), 0);
	assert_int_equal(sk_dlp_decode(sk_buf_data(&b), sk_buf_len(&b), &d2, &err), 0);
	assert_string_equal(asset_id(d2, "資産番号: AS-0012", &n), "");
	sk_dlp_free(d2);
	sk_buf_free(&b);
	sk_dlp_free(d);
}

static void check_digits(void **state)
{
	(void)state;
	/* left-to-right weights 6 5 4 3 2 7 6 5 4 3 2: 12345678901 → sum 212, 212 % 11 = 3 → 8 */
	assert_int_equal(sk_dlp_mynumber_check("12345678901"), 8);
	assert_true(sk_dlp_mynumber_valid("123456789018"));
	assert_false(sk_dlp_mynumber_valid("123456789017"));
	assert_false(sk_dlp_mynumber_valid("12345678901")); /* too short */
	/* remainder 0 or 1 gives 0: 00000000000 → 0; 10000000000 → 6 % 11 = 6 → 5 */
	assert_int_equal(sk_dlp_mynumber_check("00000000000"), 0);
	assert_int_equal(sk_dlp_mynumber_check("10000000000"), 5);
	/* remainder 1: 00000000050 → 5*3 = 15 % 11 = 4 → 7; 00000000100 → 4 → 4%11=4 → 7;
	 * 01000000000 → 5 → 6; find one with remainder 1: 00000010000: 6 → 5; 00002000000: 2*2=4
	 * … 00000000030 → 9 → 2; 00000000003 → 6 → 5; 00000000040 → 12 % 11 = 1 → 0 */
	assert_int_equal(sk_dlp_mynumber_check("00000000040"), 0);
	/* 法人番号: 国税庁 7000012050002 */
	assert_int_equal(sk_dlp_corporate_check("000012050002"), 7);
	assert_true(sk_dlp_corporate_valid("7000012050002"));
	assert_false(sk_dlp_corporate_valid("6000012050002"));
	assert_false(sk_dlp_mynumber_valid("12345678901a"));
	/* not digits: an SK_E* code, never a bare -1 (DESIGN §5) */
	assert_int_equal(sk_dlp_mynumber_check("1234567890a"), SK_EINVAL);
	assert_int_equal(sk_dlp_corporate_check("00001205000x"), SK_EINVAL);
}

static void formats_and_context(void **state)
{
	(void)state;
	sk_dlp *d = tu_dlp();
	char n[13], t[256];
	mynum("38475629104", n); /* 384756291044 */
	assert_string_equal(n, "384756291044");
	/* bare with a context word before and after */
	assert_int_equal(count(d, "個人番号 384756291044", SK_DLP_MYNUMBER), 1);
	assert_int_equal(count(d, "384756291044 (マイナンバー)", SK_DLP_MYNUMBER), 1);
	assert_int_equal(count(d, "My Number: 384756291044", SK_DLP_MYNUMBER), 1);
	/* formatted 4-4-4 with various separators and full-width digits */
	assert_int_equal(count(d, "個人番号: 3847-5629-1044", SK_DLP_MYNUMBER), 1);
	assert_int_equal(count(d, "個人番号: 3847 5629 1044", SK_DLP_MYNUMBER), 1);
	assert_int_equal(count(d, "個人番号：３８４７－５６２９－１０４４", SK_DLP_MYNUMBER), 1);
	assert_int_equal(count(d, "マイナンバー ３８４７５６２９１０４４ です", SK_DLP_MYNUMBER), 1);
	/* no context: not reported (grouping alone is not enough by default) */
	assert_int_equal(count(d, "受付 384756291044 番", SK_DLP_MYNUMBER), 0);
	assert_int_equal(count(d, "受付番号 3847-5629-1044", SK_DLP_MYNUMBER), 0);
	/* wrong check digit */
	assert_int_equal(count(d, "個人番号 384756291045", SK_DLP_MYNUMBER), 0);
	assert_int_equal(count(d, "個人番号 3847-5629-1045", SK_DLP_MYNUMBER), 0);
	/* the context word too far away (window 20 characters) */
	snprintf(t, sizeof(t), "個人番号の記入欄はこちらです。以下は別の話題で、参考の値として %s を示します", n);
	assert_int_equal(count(d, t, SK_DLP_MYNUMBER), 0);
	/* mixed separators are not 4-4-4 */
	assert_int_equal(count(d, "個人番号 3847-5629 1044", SK_DLP_MYNUMBER), 0);
	/* 法人番号: context word or the invoice T prefix */
	assert_int_equal(count(d, "法人番号 7000012050002", SK_DLP_CORPORATE), 1);
	assert_int_equal(count(d, "登録番号 T7000012050002", SK_DLP_CORPORATE), 1);
	assert_int_equal(count(d, "請求書 T7000012050002", SK_DLP_CORPORATE), 1);
	assert_int_equal(count(d, "番号 7000012050002", SK_DLP_CORPORATE), 0);
	assert_int_equal(count(d, "法人番号 7000012050003", SK_DLP_CORPORATE), 0);
	assert_int_equal(count(d, "法人番号 AT7000012050002", SK_DLP_CORPORATE), 0);
	/* a 個人番号 word does not make a 13-digit number a 個人番号 */
	assert_int_equal(count(d, "個人番号 7000012050002", SK_DLP_MYNUMBER), 0);

	/* grouping_is_context: 4-4-4 alone is enough */
	sk_dlp_config c;
	sk_dlp_config_default(&c);
	c.grouping_is_context = true;
	sk_dlp *g = NULL;
	sk_error err;
	assert_int_equal(sk_dlp_new(&c, &g, &err), 0);
	assert_int_equal(count(g, "受付 3847-5629-1044", SK_DLP_MYNUMBER), 1);
	assert_int_equal(count(g, "受付 384756291044", SK_DLP_MYNUMBER), 0);
	sk_dlp_free(g);
	sk_dlp_free(d);
}

static void boundaries(void **state)
{
	(void)state;
	sk_dlp *d = tu_dlp();
	/* inside a longer digit run */
	assert_int_equal(count(d, "個人番号 3847562910441", SK_DLP_MYNUMBER), 0);
	assert_int_equal(count(d, "個人番号 9384756291044", SK_DLP_MYNUMBER), 0);
	assert_int_equal(count(d, "個人番号 1-3847-5629-1044", SK_DLP_MYNUMBER), 0);
	assert_int_equal(count(d, "個人番号 3847-5629-1044-0001", SK_DLP_MYNUMBER), 0);
	assert_int_equal(count(d, "個人番号 3847 5629 1044 5678", SK_DLP_MYNUMBER), 0);
	/* letters attached */
	assert_int_equal(count(d, "個人番号 ID384756291044", SK_DLP_MYNUMBER), 0);
	assert_int_equal(count(d, "個人番号 384756291044abc", SK_DLP_MYNUMBER), 0);
	/* amounts */
	assert_int_equal(count(d, "個人番号 ¥384756291044", SK_DLP_MYNUMBER), 0);
	assert_int_equal(count(d, "個人番号 ￥384756291044", SK_DLP_MYNUMBER), 0);
	assert_int_equal(count(d, "個人番号 384756291044円", SK_DLP_MYNUMBER), 0);
	assert_int_equal(count(d, "個人番号 384,756,291,044", SK_DLP_MYNUMBER), 0);
	assert_int_equal(count(d, "個人番号 384756291044.5", SK_DLP_MYNUMBER), 0);
	assert_int_equal(count(d, "個人番号 0.384756291044", SK_DLP_MYNUMBER), 0);
	/* dates and times */
	assert_int_equal(count(d, "個人番号 2024/384756291044", SK_DLP_MYNUMBER), 0);
	assert_int_equal(count(d, "個人番号 384756291044年", SK_DLP_MYNUMBER), 0);
	assert_int_equal(count(d, "個人番号 12:384756291044", SK_DLP_MYNUMBER), 0);
	/* phone numbers: 0X-XXXX-XXXX never has 12 digits; 81 with + is international */
	assert_int_equal(count(d, "個人番号 03-1234-5678", SK_DLP_MYNUMBER), 0);
	assert_int_equal(count(d, "個人番号 +384756291044", SK_DLP_MYNUMBER), 0);
	/* a phone word and no 個人番号 word: not reported even with grouping_is_context */
	sk_dlp_config c;
	sk_dlp_config_default(&c);
	c.grouping_is_context = true;
	sk_dlp *g = NULL;
	sk_error err;
	assert_int_equal(sk_dlp_new(&c, &g, &err), 0);
	assert_int_equal(count(g, "TEL 3847-5629-1044", SK_DLP_MYNUMBER), 0);
	assert_int_equal(count(g, "電話 3847 5629 1044", SK_DLP_MYNUMBER), 0);
	/* a time stamp yyyymmddhhmm without grouping: not reported */
	char ts[13];
	mynum("20240401123", ts); /* whatever its check digit, a time-like run */
	char t[64];
	snprintf(t, sizeof(t), "更新 %s", ts);
	assert_int_equal(count(g, t, SK_DLP_MYNUMBER), 0);
	sk_dlp_free(g);
	/* still found: separated by ordinary punctuation */
	assert_int_equal(count(d, "個人番号:384756291044。", SK_DLP_MYNUMBER), 1);
	assert_int_equal(count(d, "（個人番号）「384756291044」", SK_DLP_MYNUMBER), 1);
	assert_int_equal(count(d, "個人番号\t384756291044\n", SK_DLP_MYNUMBER), 1);
	assert_int_equal(count(d, "個人番号,384756291044,山田", SK_DLP_MYNUMBER), 1);
	/* deny-list: all one digit, counting up/down bodies */
	assert_int_equal(count(d, "個人番号 000000000000", SK_DLP_MYNUMBER), 0);
	assert_int_equal(count(d, "個人番号 0000-0000-0000", SK_DLP_MYNUMBER), 0);
	assert_int_equal(count(d, "個人番号 123456789018", SK_DLP_MYNUMBER), 0);
	assert_int_equal(count(d, "法人番号 1111111111111", SK_DLP_CORPORATE), 0);
	sk_dlp_free(d);
	/* configured deny-list */
	sk_dlp_config_default(&c);
	const char *deny[] = {"384756291044"};
	c.deny = deny;
	c.ndeny = 1;
	assert_int_equal(sk_dlp_new(&c, &g, &err), 0);
	assert_int_equal(count(g, "個人番号 384756291044", SK_DLP_MYNUMBER), 0);
	sk_dlp_free(g);
}

/* A CSV/TSV header gives its column context, however far down the row is. */
static void column_context(void **state)
{
	(void)state;
	sk_dlp *d = tu_dlp();
	sk_buf t;
	sk_buf_init(&t, 0);
	sk_buf_adds(&t, "No,氏名,\"個人番号\",電話,備考\r\n");
	for (int i = 0; i < 200; i++)
		sk_buf_printf(&t, "%d,住民%d,,03-1234-%04d,\r\n", i, i, i);
	sk_buf_adds(&t, "201,山田,384756291044,,\r\n");      /* in the 個人番号 column */
	sk_buf_adds(&t, "202,佐藤,,,384756291044\r\n");      /* in 備考: no context */
	sk_buf_adds(&t, "203,\"鈴木, 一郎\",384756291044,,\r\n"); /* a quoted comma */
	sk_dlp_result r;
	sk_dlp_result_init(&r);
	sk_error err;
	assert_int_equal(sk_dlp_scan_text(d, (const char *)t.data, t.len, &r, &err), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.v[0].line, 202);
	assert_int_equal(r.v[0].column, 8);
	assert_int_equal(r.v[1].line, 204);
	sk_dlp_result_free(&r);
	/* the same streamed, and as TSV */
	sk_input in;
	sk_input_mem(&in, t.data, t.len);
	sk_dlp_result_init(&r);
	assert_int_equal(sk_dlp_scan_input(d, &in, &r, &err), 0);
	assert_int_equal(r.n, 2);
	sk_dlp_result_free(&r);
	const char *tsv = "氏名\tマイナンバー\n山田\t384756291044\n佐藤\t\n";
	assert_int_equal(count(d, tsv, SK_DLP_MYNUMBER), 1);
	/* no header context: a plain line of text is not a table */
	assert_int_equal(count(d, "個人番号について\n本日のお知らせです。詳細は以下のとおりです。\nお知らせ 384756291044 です\n", SK_DLP_MYNUMBER), 0);
	sk_buf_free(&t);
	sk_dlp_free(d);
}

static void positions_and_masking(void **state)
{
	(void)state;
	sk_dlp *d = tu_dlp();
	const char *t = "一行目\n二行目 個人番号 3847-5629-1044 です\n";
	sk_dlp_result r;
	sk_dlp_result_init(&r);
	sk_error err;
	assert_int_equal(sk_dlp_scan_text(d, t, strlen(t), &r, &err), 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.v[0].line, 2);
	assert_int_equal(r.v[0].column, 10); /* 二行目 + space + 個人番号 + space = 9 characters */
	assert_int_equal(r.v[0].offset, (uint64_t)(strstr(t, "3847") - t));
	assert_int_equal(r.v[0].length, 14);
	assert_true(r.v[0].grouped);
	assert_true(r.v[0].context);
	assert_string_equal(r.v[0].masked, "****-****-****");
	assert_null(strpbrk(r.v[0].context_text, "0123456789"));
	assert_non_null(strstr(r.v[0].context_text, "個人番号"));
	sk_dlp_result_free(&r);
	sk_dlp_free(d);
}

static void patterns(void **state)
{
	(void)state;
	sk_dlp_config c;
	sk_dlp_config_default(&c);
	sk_dlp_pattern p[] = {{"staff-id", "職員番号(:|：)?[[:space:]]*[0-9]{6}"}};
	c.patterns = p;
	c.npatterns = 1;
	sk_dlp *d = NULL;
	sk_error err;
	assert_int_equal(sk_dlp_new(&c, &d, &err), 0);
	const char *t = "a\n職員番号: 123456 と 職員番号：654321\n";
	sk_dlp_result r;
	sk_dlp_result_init(&r);
	assert_int_equal(sk_dlp_scan_text(d, t, strlen(t), &r, &err), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.v[0].rule, "staff-id");
	assert_int_equal(r.v[0].kind, SK_DLP_PATTERN);
	assert_int_equal(r.v[0].line, 2);
	assert_int_equal(r.v[0].column, 1);
	assert_string_equal(r.v[0].masked, "職員番号: ******");
	sk_dlp_result_free(&r);
	sk_dlp_free(d);
	/* a pattern that does not compile */
	sk_dlp_pattern bad[] = {{"bad", "([0-9]"}};
	c.patterns = bad;
	assert_int_equal(sk_dlp_new(&c, &d, &err), SK_EFORMAT);
	assert_non_null(strstr(err.msg, "bad"));
}

static void limits(void **state)
{
	(void)state;
	sk_dlp_config c;
	sk_dlp_config_default(&c);
	c.max_input = 100;
	sk_dlp *d = NULL;
	sk_error err;
	assert_int_equal(sk_dlp_new(&c, &d, &err), 0);
	char big[101];
	memset(big, 'a', sizeof(big));
	sk_dlp_result r;
	sk_dlp_result_init(&r);
	assert_int_equal(sk_dlp_scan_text(d, big, 101, &r, &err), SK_ELIMIT);
	assert_int_equal(sk_dlp_scan_text(d, big, 100, &r, &err), 0);
	sk_input in;
	sk_input_mem(&in, big, 101);
	assert_int_equal(sk_dlp_scan_input(d, &in, &r, &err), SK_ELIMIT);
	sk_dlp_result_free(&r);
	sk_dlp_free(d);
	/* max_matches: the rest is flagged, not listed */
	sk_dlp_config_default(&c);
	c.max_matches = 3;
	assert_int_equal(sk_dlp_new(&c, &d, &err), 0);
	sk_buf t;
	sk_buf_init(&t, 0);
	for (int i = 0; i < 10; i++)
		sk_buf_adds(&t, "個人番号 384756291044\n");
	sk_dlp_result_init(&r);
	assert_int_equal(sk_dlp_scan_text(d, (const char *)t.data, t.len, &r, &err), 0);
	assert_int_equal(r.n, 3);
	assert_true(r.truncated);
	sk_dlp_result_free(&r);
	sk_buf_free(&t);
	sk_dlp_free(d);
}

/* Scans text whole and streamed (sk_dlp_scan_input): both find `planted` matches, the same
 * (kind, offset, masked text, line, column). */
static void same_whole_and_streamed(const sk_dlp *d, const sk_buf *t, size_t planted)
{
	sk_dlp_result a, b;
	sk_dlp_result_init(&a);
	sk_dlp_result_init(&b);
	sk_error err;
	assert_int_equal(sk_dlp_scan_text(d, (const char *)t->data, t->len, &a, &err), 0);
	sk_input in;
	sk_input_mem(&in, t->data, t->len);
	assert_int_equal(sk_dlp_scan_input(d, &in, &b, &err), 0);
	assert_int_equal(a.n, planted);
	assert_int_equal(b.n, planted);
	for (size_t i = 0; i < a.n; i++) {
		assert_int_equal(a.v[i].kind, b.v[i].kind);
		assert_int_equal(a.v[i].offset, b.v[i].offset);
		assert_string_equal(a.v[i].masked, b.v[i].masked);
		assert_int_equal(a.v[i].line, b.v[i].line);
		assert_int_equal(a.v[i].column, b.v[i].column);
	}
	assert_int_equal(b.scanned, t->len);
	sk_dlp_result_free(&a);
	sk_dlp_result_free(&b);
}

/* Streaming over chunk edges gives the same matches as one buffer. */
static void streaming_same_as_whole(void **state)
{
	(void)state;
	sk_dlp *d = tu_dlp();
	sk_buf t;
	sk_buf_init(&t, 0);
	char n[13];
	mynum("38475629104", n);
	size_t planted = 0;
	/* ~5 MiB: lines of filler with numbers at varying places, some lines very long */
	for (int i = 0; t.len < (5u << 20); i++) {
		for (int k = 0; k < (i % 7) * 13; k++)
			sk_buf_adds(&t, "本日は晴天なり。");
		if (i % 5 == 0) {
			sk_buf_printf(&t, "個人番号 %s", n);
			planted++;
		}
		if (i % 97 == 0) {
			sk_buf_addc(&t, ' ');
			for (int k = 0; k < 40000; k++) /* a 40 KB line without a newline */
				sk_buf_addc(&t, 'x');
		}
		sk_buf_addc(&t, '\n');
	}
	same_whole_and_streamed(d, &t, planted);
	sk_buf_free(&t);
	sk_dlp_free(d);
}

/* A line longer than a streaming region, dense with asset markings: the region ends in
 * the middle of the line (no line break near it), so a marking's word lies before the end
 * and its digits after; it is found once, at the same offset, line and column as in one
 * piece. */
static void asset_markings_streamed(void **state)
{
	(void)state;
	sk_dlp *d = tu_dlp();
	/* the line shifted by 0 to 22 bytes: the region's end falls in every part of a marking */
	for (int shift = 0; shift < 23; shift++) {
		sk_buf t;
		sk_buf_init(&t, 0);
		while (t.len < 1000000)
			sk_buf_adds(&t, "本日は晴天なり。\n");
		for (int k = 0; k < shift; k++)
			sk_buf_addc(&t, ' ');
		size_t planted = 0;
		while (t.len < 1200000) /* a 200 KB line over the first region's end (~1.06 MB) */
			sk_buf_printf(&t, "資産番号：AS-%zu。", planted++);
		sk_buf_adds(&t, "\n以上\n");
		same_whole_and_streamed(d, &t, planted);
		sk_buf_free(&t);
	}
	sk_dlp_free(d);
}

/* A list of numbers in a report: the first SK_DLP_REPORT_EACH of a kind one by one, the
 * rest one entry with their count; asset markings every one. */
static void report_lists(void **state)
{
	(void)state;
	sk_dlp *d = tu_dlp();
	sk_buf t;
	sk_buf_init(&t, 0);
	char n[13];
	mynum("38475629104", n);
	for (int i = 0; i < SK_DLP_REPORT_EACH + 10; i++)
		sk_buf_printf(&t, "個人番号 %s\n資産番号: AS-%d\n", n, i);
	sk_input in;
	sk_input_mem(&in, t.data, t.len);
	sk_report rep;
	sk_report_init(&rep);
	sk_error err;
	assert_int_equal(sk_dlp_report(d, (1u << SK_DLP_MYNUMBER) | (1u << SK_DLP_ASSET), &in, "body",
				       &rep, &err),
			 0);
	size_t one = 0, assets = 0;
	uint64_t rest = 0;
	for (size_t i = 0; i < rep.n; i++) {
		if (!strcmp(rep.v[i].what, "asset-marking"))
			assets++;
		else if (rep.v[i].detail && !strcmp(rep.v[i].detail, "(more)"))
			rest += rep.v[i].count;
		else if (!strcmp(rep.v[i].what, "mynumber"))
			one++;
	}
	assert_int_equal(one, SK_DLP_REPORT_EACH);
	assert_int_equal(rest, 10);
	assert_int_equal(assets, SK_DLP_REPORT_EACH + 10);
	sk_report_free(&rep);
	sk_buf_free(&t);
	sk_dlp_free(d);
}

static void convert(const char *to, const char *text, sk_buf *out)
{
	iconv_t cd = iconv_open(to, "UTF-8");
	assert_true(cd != (iconv_t)-1);
	char *ip = (char *)text;
	size_t il = strlen(text);
	sk_buf_init(out, 0);
	sk_buf_reserve(out, il * 4 + 4);
	char *op = (char *)out->data;
	size_t ol = il * 4;
	assert_true(iconv(cd, &ip, &il, &op, &ol) != (size_t)-1);
	out->len = (size_t)(op - (char *)out->data);
	iconv_close(cd);
}

static void encodings(void **state)
{
	(void)state;
	sk_dlp *d = tu_dlp();
	const char *t = "申請書\r\n氏名 山田太郎\r\n個人番号 3847-5629-1044\r\n法人番号 7000012050002\r\n"
			"住所 東京都千代田区霞が関一丁目 以上の内容で申請します。よろしくお願いいたします。\r\n";
	const char *encs[] = {"CP932", "EUC-JP", "ISO-2022-JP", "UTF-16LE"};
	const char *want[] = {"CP932", "EUC-JP-MS", "ISO-2022-JP", "UTF-16LE"};
	for (int i = 0; i < 4; i++) {
		sk_buf b;
		convert(encs[i], t, &b);
		if (i == 3) { /* with a BOM */
			sk_buf x;
			sk_buf_init(&x, 0);
			sk_buf_add(&x, "\xFF\xFE", 2);
			sk_buf_add(&x, b.data, b.len);
			sk_buf_free(&b);
			b = x;
		}
		sk_input in;
		sk_input_mem(&in, b.data, b.len);
		sk_dlp_result r;
		sk_dlp_result_init(&r);
		sk_error err;
		assert_int_equal(sk_dlp_scan_input(d, &in, &r, &err), 0);
		printf("# %s: %zu matches, read as %s\n", encs[i], r.n, r.encoding);
		assert_string_equal(r.encoding, want[i]);
		assert_int_equal(r.n, 2);
		assert_int_equal(r.v[0].kind, SK_DLP_MYNUMBER);
		assert_int_equal(r.v[0].line, 3);
		assert_int_equal(r.v[1].kind, SK_DLP_CORPORATE);
		sk_dlp_result_free(&r);
		sk_buf_free(&b);
	}
	sk_dlp_free(d);
}

/* ---- the generated corpus ---- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void digits(char *out, int n)
{
	for (int i = 0; i < n; i++)
		out[i] = (char)('0' + rnd(10));
	out[n] = 0;
}

static const char *const sentences[] = {
	"本日の会議資料を送付いたします。", "ご確認のほどよろしくお願いいたします。",
	"担当は総務課の佐藤です。", "次回の打ち合わせは来週の予定です。",
	"添付のとおり見積もりを提出します。", "問い合わせは下記までお願いします。",
	"The meeting minutes are attached.", "申請の受付を開始しました。",
};

enum { CAT_BARE, CAT_BARE12, CAT_BARE13, CAT_PHONE, CAT_AMOUNT, CAT_DATE, CAT_GROUPED,
       CAT_POSTAL, CAT_DECIMAL, CAT_FULLWIDTH, CAT__N };
static const char *const cat_names[] = {"bare 1-20 digits", "bare 12 digits", "bare 13 digits",
					"phone", "amount", "date/time", "4-4-4 grouped",
					"postal code", "decimal", "full-width 12 digits"};

static void random_string(int cat, char *s, size_t n)
{
	char a[32], b[32], c[32];
	switch (cat) {
	case CAT_BARE: digits(a, 1 + (int)rnd(20)); snprintf(s, n, "%s", a); break;
	case CAT_BARE12: digits(a, 12); snprintf(s, n, "%s", a); break;
	case CAT_BARE13: digits(a, 13); snprintf(s, n, "%s", a); break;
	case CAT_PHONE:
		digits(a, 1 + (int)rnd(3));
		digits(b, 4 - (int)rnd(2));
		digits(c, 4);
		snprintf(s, n, "%s0%.3s-%.4s-%.4s", rnd(2) ? "TEL " : "", a, b, c);
		break;
	case CAT_AMOUNT:
		digits(a, 1 + (int)rnd(13));
		if (a[0] == '0')
			a[0] = '1';
		if (rnd(2))
			snprintf(s, n, "%s円", a);
		else
			snprintf(s, n, "¥%s", a);
		break;
	case CAT_DATE: {
		int k = (int)rnd(3);
		int y = 1950 + (int)rnd(100), m = 1 + (int)rnd(12), dd = 1 + (int)rnd(28);
		int h = (int)rnd(24), mi = (int)rnd(60);
		if (k == 0)
			snprintf(s, n, "%d年%d月%d日", y, m, dd);
		else if (k == 1)
			snprintf(s, n, "%d/%02d/%02d %02d:%02d", y, m, dd, h, mi);
		else
			snprintf(s, n, "%d%02d%02d%02d%02d", y, m, dd, h, mi);
		break;
	}
	case CAT_GROUPED:
		digits(a, 4);
		digits(b, 4);
		digits(c, 4);
		snprintf(s, n, "%.4s-%.4s-%.4s", a, b, c);
		break;
	case CAT_POSTAL:
		digits(a, 3);
		digits(b, 4);
		snprintf(s, n, "〒%.3s-%.4s", a, b);
		break;
	case CAT_DECIMAL:
		digits(a, 12);
		digits(b, 2);
		snprintf(s, n, "%.12s.%.2s", a, b);
		break;
	case CAT_FULLWIDTH: {
		digits(a, 12);
		size_t o = 0;
		for (int i = 0; i < 12; i++) {
			s[o++] = (char)0xEF;
			s[o++] = (char)0xBC;
			s[o++] = (char)(0x90 + (a[i] - '0'));
		}
		s[o] = 0;
		break;
	}
	}
}

static void generated_corpus(void **state)
{
	(void)state;
	sk_dlp *d = tu_dlp();
	enum { N = 10000, PLANTED = 1000 };
	size_t per_total[CAT__N] = {0}, per_false[CAT__N] = {0};
	size_t falses = 0;
	/* 10,000 random digit strings, each in a sentence of ordinary text */
	for (int i = 0; i < N; i++) {
		int cat = i % CAT__N;
		char s[128], t[512];
		random_string(cat, s, sizeof(s));
		const char *pre = sentences[rnd(8)], *post = sentences[rnd(8)];
		snprintf(t, sizeof(t), "%s 番号は %s です。%s\n", pre, s, post);
		sk_dlp_result r;
		sk_dlp_result_init(&r);
		sk_error err;
		assert_int_equal(sk_dlp_scan_text(d, t, strlen(t), &r, &err), 0);
		per_total[cat]++;
		if (r.n) {
			per_false[cat]++;
			falses++;
		}
		sk_dlp_result_free(&r);
	}
	printf("# generated corpus: %d random digit strings in ordinary text, %zu false matches (%.3f%%)\n",
	       N, falses, 100.0 * (double)falses / N);
	for (int c = 0; c < CAT__N; c++)
		printf("#   %-22s %5zu strings, %zu matched\n", cat_names[c], per_total[c], per_false[c]);
	assert_true(falses * 1000 < N); /* < 0.1 % */

	/* the same 4-4-4 strings with grouping_is_context: the price of that option */
	sk_dlp_config c;
	sk_dlp_config_default(&c);
	c.grouping_is_context = true;
	sk_dlp *g = NULL;
	sk_error err;
	assert_int_equal(sk_dlp_new(&c, &g, &err), 0);
	size_t gf = 0;
	for (int i = 0; i < 1000; i++) {
		char s[64], t[256];
		random_string(CAT_GROUPED, s, sizeof(s));
		snprintf(t, sizeof(t), "%s 受付番号 %s です。\n", sentences[rnd(8)], s);
		sk_dlp_result r;
		sk_dlp_result_init(&r);
		assert_int_equal(sk_dlp_scan_text(g, t, strlen(t), &r, &err), 0);
		gf += r.n > 0;
		sk_dlp_result_free(&r);
	}
	printf("# with grouping_is_context: %zu of 1000 random 4-4-4 strings match (%.1f%%; a valid check digit is 1 in ~11)\n",
	       gf, gf / 10.0);
	sk_dlp_free(g);

	/* planted valid numbers with context are all found, where they were planted */
	static const char *const before[] = {"個人番号: ", "マイナンバー ", "個人番号（", "本人の個人番号は "};
	static const char *const after[] = {" (個人番号)", " がマイナンバーです"};
	size_t found = 0;
	for (int i = 0; i < PLANTED; i++) {
		char body[12], n[13], s[128], t[512];
		digits(body, 11);
		mynum(body, n);
		sk_dlp_kind kind = SK_DLP_MYNUMBER;
		int form = (int)rnd(4);
		if (form == 0)
			snprintf(s, sizeof(s), "%s", n);
		else if (form == 1)
			snprintf(s, sizeof(s), "%.4s-%.4s-%.4s", n, n + 4, n + 8);
		else if (form == 2)
			snprintf(s, sizeof(s), "%.4s %.4s %.4s", n, n + 4, n + 8);
		else { /* 法人番号 */
			char base[13];
			digits(base, 12);
			snprintf(s, sizeof(s), "%d%s", sk_dlp_corporate_check(base), base);
			kind = SK_DLP_CORPORATE;
		}
		const char *pre = sentences[rnd(8)];
		size_t off;
		if (kind == SK_DLP_CORPORATE) {
			snprintf(t, sizeof(t), "%s 法人番号 ", pre);
			off = strlen(t);
			snprintf(t + off, sizeof(t) - off, "%s の会社です。\n", s);
		} else if (rnd(2)) {
			snprintf(t, sizeof(t), "%s %s", pre, before[rnd(4)]);
			off = strlen(t);
			snprintf(t + off, sizeof(t) - off, "%s\n", s);
		} else {
			snprintf(t, sizeof(t), "%s ", pre);
			off = strlen(t);
			snprintf(t + off, sizeof(t) - off, "%s%s\n", s, after[rnd(2)]);
		}
		sk_dlp_result r;
		sk_dlp_result_init(&r);
		assert_int_equal(sk_dlp_scan_text(d, t, strlen(t), &r, &err), 0);
		bool ok = false;
		for (size_t k = 0; k < r.n; k++)
			ok = ok || (r.v[k].kind == kind && r.v[k].offset == off);
		/* numbers the deny-list removes on purpose (all one digit, counting) are rare */
		if (!ok)
			printf("# not found: %s\n", t);
		found += ok;
		sk_dlp_result_free(&r);
	}
	printf("# planted valid numbers with context: %zu of %d found\n", found, PLANTED);
	assert_int_equal(found, PLANTED);
	sk_dlp_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(asset_markings),
		cmocka_unit_test(check_digits),
		cmocka_unit_test(formats_and_context),
		cmocka_unit_test(boundaries),
		cmocka_unit_test(column_context),
		cmocka_unit_test(positions_and_masking),
		cmocka_unit_test(patterns),
		cmocka_unit_test(limits),
		cmocka_unit_test(streaming_same_as_whole),
		cmocka_unit_test(asset_markings_streamed),
		cmocka_unit_test(report_lists),
		cmocka_unit_test(encodings),
		cmocka_unit_test(generated_corpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
