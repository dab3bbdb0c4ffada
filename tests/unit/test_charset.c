/* charset: detection of each encoding on short samples, the CP932 extensions, invalid input,
 * labels, and the streaming conversion (cuts inside characters and escape sequences). */
#include "testutil.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>

#include "sekisho/charset.h"
#include "sekisho/name.h"

/* UTF-8 text in another encoding (the test's own iconv, independent of the module). */
static void enc(const char *cs, const char *utf8, sk_buf *out)
{
	sk_buf_init(out, 0);
	iconv_t cd = iconv_open(cs, "UTF-8");
	assert_true(cd != (iconv_t)-1);
	char *ip = (char *)(uintptr_t)utf8;
	size_t il = strlen(utf8);
	char tmp[4096];
	char *op = tmp;
	size_t ol = sizeof(tmp);
	assert_true(iconv(cd, &ip, &il, &op, &ol) != (size_t)-1);
	iconv_close(cd);
	assert_int_equal(sk_buf_add(out, tmp, (size_t)(op - tmp)), 0);
}

static sk_charset_guess det(const void *p, size_t n, bool cut)
{
	sk_charset_guess g;
	sk_charset_detect(p, n, cut, &g);
	printf("# %zu bytes: cs %d bom %zu uchardet \"%s\" iconv %s\n", n, (int)g.cs, g.bom,
	       g.detected, sk_charset_iconv_name(&g));
	return g;
}

/* Detects, converts with the iconv name the module picks, and compares with want. */
static void roundtrip(const sk_buf *b, sk_charset want_cs, const char *want_utf8)
{
	sk_charset_guess g = det(sk_buf_data(b), sk_buf_len(b), false);
	assert_int_equal(g.cs, want_cs);
	sk_buf u;
	sk_buf_init(&u, 0);
	size_t bad = 99;
	assert_int_equal(sk_charset_to_utf8(sk_charset_iconv_name(&g), sk_buf_data(b) + g.bom,
					    sk_buf_len(b) - g.bom, &u, &bad, NULL), 0);
	assert_int_equal(bad, 0);
	assert_string_equal(sk_buf_str(&u), want_utf8);
	sk_buf_free(&u);
}

static void ascii_and_utf8(void **state)
{
	(void)state;
	assert_int_equal(det("", 0, false).cs, SK_CHARSET_ASCII);
	assert_int_equal(det("hello, world\n", 13, false).cs, SK_CHARSET_ASCII);
	assert_string_equal(sk_charset_iconv_name(&(sk_charset_guess){.cs = SK_CHARSET_ASCII}),
			    "UTF-8");
	const char *j = "日本語";
	assert_int_equal(det(j, strlen(j), false).cs, SK_CHARSET_UTF8);
	/* cut inside the last character: UTF-8 only when the sample is said to be cut */
	assert_int_equal(det(j, strlen(j) - 1, true).cs, SK_CHARSET_UTF8);
	/* not cut: the validity check fails and uchardet is asked */
	assert_string_not_equal(det(j, strlen(j) - 1, false).detected, "");
	assert_string_equal(det(j, strlen(j) - 1, true).detected, "");
	sk_charset_guess g = det("\xEF\xBB\xBFok", 5, false);
	assert_int_equal(g.cs, SK_CHARSET_UTF8);
	assert_int_equal(g.bom, 3);
}

static void utf16_utf32(void **state)
{
	(void)state;
	sk_charset_guess g = det("\xFF\xFE" "a\0", 4, false);
	assert_int_equal(g.cs, SK_CHARSET_UTF16LE);
	assert_int_equal(g.bom, 2);
	g = det("\xFE\xFF\0a", 4, false);
	assert_int_equal(g.cs, SK_CHARSET_UTF16BE);
	/* FF FE 00 00 is UTF-32LE, not UTF-16LE with a NUL */
	g = det("\xFF\xFE\0\0a\0\0\0", 8, false);
	assert_int_equal(g.cs, SK_CHARSET_UTF32LE);
	assert_int_equal(g.bom, 4);
	assert_int_equal(det("\0\0\xFE\xFF\0\0\0a", 8, false).cs, SK_CHARSET_UTF32BE);
	/* no BOM: the NUL pattern, with Japanese mixed in */
	sk_buf b;
	enc("UTF-16LE", "ID,氏名\r\n1,山田\r\n", &b);
	roundtrip(&b, SK_CHARSET_UTF16LE, "ID,氏名\r\n1,山田\r\n");
	sk_buf_free(&b);
	enc("UTF-16BE", "Total: 42 items\n", &b);
	roundtrip(&b, SK_CHARSET_UTF16BE, "Total: 42 items\n");
	sk_buf_free(&b);
	/* too short, or NULs on both sides: not UTF-16 */
	assert_int_equal(det("a\0b\0", 4, false).cs, SK_CHARSET_ASCII);
	assert_int_equal(det("ab\ncd\0e\0\0,\0=1\n", 14, false).cs, SK_CHARSET_ASCII);
}

static void iso2022jp(void **state)
{
	(void)state;
	sk_buf b;
	sk_buf_init(&b, 0);
	sk_buf_adds(&b, "\x1b$B$3$s$K$A$O\x1b(B");
	roundtrip(&b, SK_CHARSET_ISO2022JP, "こんにちは");
	sk_charset_guess g = det(sk_buf_data(&b), sk_buf_len(&b), false);
	assert_string_equal(sk_charset_iconv_name(&g), "CP50220");
	sk_buf_free(&b);
	/* NEC row 13 (① ㈱, as Windows writes them) and half-width katakana by ESC ( I */
	sk_buf_init(&b, 0);
	sk_buf_adds(&b, "x\x1b$B-!-j\x1b(I1\x1b(By");
	roundtrip(&b, SK_CHARSET_ISO2022JP, "x①㈱ｱy");
	sk_buf_free(&b);
	/* a designation after a high byte is no ISO-2022-JP */
	assert_int_not_equal(det("\xe3\x81\x82\x1b$B", 6, false).cs, SK_CHARSET_ISO2022JP);
}

static void cp932_and_extensions(void **state)
{
	(void)state;
	sk_buf b;
	enc("CP932", "テスト", &b); /* six bytes */
	roundtrip(&b, SK_CHARSET_CP932, "テスト");
	sk_buf_free(&b);
	/* NEC/IBM extensions that uchardet does not know */
	enc("CP932", "①②③㈱髙", &b);
	roundtrip(&b, SK_CHARSET_CP932, "①②③㈱髙");
	sk_buf_free(&b);
	enc("CP932", "お問い合わせは①総務課㈱まで。", &b);
	roundtrip(&b, SK_CHARSET_CP932, "お問い合わせは①総務課㈱まで。");
	sk_buf_free(&b);
}

static void eucjp(void **state)
{
	(void)state;
	sk_buf b;
	const char *t = "これは日本語の文章です。住所は東京都千代田区霞が関一丁目です。";
	enc("EUC-JP", t, &b);
	roundtrip(&b, SK_CHARSET_EUCJP, t);
	sk_charset_guess g = det(sk_buf_data(&b), sk_buf_len(&b), false);
	assert_string_equal(sk_charset_iconv_name(&g), "EUC-JP-MS");
	sk_buf_free(&b);
}

static void other_and_invalid(void **state)
{
	(void)state;
	/* bytes no encoding reads: 8BIT, converted with U+FFFD, never an error */
	static const uint8_t junk[] = {0xFF, 0xFF, 0x80, 0xFF, 'a', 0xFF};
	sk_charset_guess g = det(junk, sizeof(junk), false);
	assert_int_equal(g.cs, SK_CHARSET_8BIT);
	sk_buf u;
	sk_buf_init(&u, 0);
	size_t bad = 0;
	assert_int_equal(sk_charset_to_utf8("UTF-8", junk, sizeof(junk), &u, &bad, NULL), 0);
	assert_int_equal(bad, 5);
	assert_true(sk_utf8_valid(sk_buf_str(&u), sk_buf_len(&u)));
	sk_buf_free(&u);
	/* UTF-8 under any name iconv takes for it is read by our own decoder: glibc's UTF-8 to
	 * UTF-8 passes F4 9F 98 80 (past U+10FFFF) through (found by fuzz_mail in an encoded
	 * word "=?U=TF-8?B?9J+YgA==?=") */
	static const uint8_t past[] = {0xF4, 0x9F, 0x98, 0x80};
	static const char *const names[] = {"UTF-8", "utf8", "U=TF-8", "UTF-8//", "ISO-10646/UTF8/", "ISO-10646/UTF-8/"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		sk_buf_init(&u, 0);
		assert_int_equal(sk_charset_to_utf8(names[i], past, sizeof(past), &u, &bad, NULL), 0);
		assert_true(sk_utf8_valid(sk_buf_str(&u), sk_buf_len(&u)));
		assert_true(bad > 0);
		sk_buf_free(&u);
	}
	/* a charset iconv does not know */
	sk_charset_conv *c = NULL;
	sk_error err;
	assert_int_equal(sk_charset_conv_open(&c, "NO-SUCH-CHARSET", &err), SK_EINVAL);
	assert_null(c);
	/* a character cut at the very end */
	sk_buf_init(&u, 0);
	assert_int_equal(sk_charset_to_utf8("CP932", (const uint8_t *)"a\x82", 2, &u, &bad, NULL), 0);
	assert_int_equal(bad, 1);
	assert_string_equal(sk_buf_str(&u), "a\xEF\xBF\xBD");
	/* the output buffer's cap is an error, not a truncation that passes */
	sk_buf small;
	sk_buf_init(&small, 4);
	assert_int_equal(sk_charset_to_utf8("CP932", (const uint8_t *)"\x83\x65\x83\x58", 4,
					    &small, &bad, NULL), SK_ELIMIT);
	sk_buf_free(&small);
	sk_buf_free(&u);
}

/* UTF-8 in, valid UTF-8 out: what glibc's iconv lets through (past U+10FFFF, surrogates,
 * overlong forms) becomes U+FFFD, one a byte; a sequence cut between two feeds is kept. */
static void utf8_checked(void **state)
{
	(void)state;
	sk_buf u;
	sk_buf_init(&u, 1 << 20);
	size_t bad = 0;
	assert_int_equal(sk_charset_to_utf8("UTF-8", (const uint8_t *)"a\xf5\xa5\xb9\xb4" "b\xed\xa0\x80" "c\xc0\xaf" "d\xe3\x81\x82",
					    16, &u, &bad, NULL), 0);
	assert_string_equal(sk_buf_str(&u), "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
					    "b\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD" "dあ");
	assert_int_equal(bad, 9);
	assert_true(sk_utf8_valid((const char *)sk_buf_data(&u), sk_buf_len(&u)));
	sk_buf_reset(&u);
	sk_charset_conv *c;
	assert_int_equal(sk_charset_conv_open(&c, "utf-8", NULL), 0);
	assert_int_equal(sk_charset_conv_feed(c, (const uint8_t *)"x\xe3\x81", 3, false, &u, &bad, NULL), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(sk_charset_conv_feed(c, (const uint8_t *)"\x82\xe3", 2, false, &u, &bad, NULL), 0);
	assert_int_equal(sk_charset_conv_feed(c, NULL, 0, true, &u, &bad, NULL), 0);
	assert_int_equal(bad, 1); /* the last byte, cut by the end */
	assert_string_equal(sk_buf_str(&u), "xあ\xEF\xBF\xBD");
	sk_charset_conv_close(c);
	sk_buf_free(&u);
}

static void label_supersets(void **state)
{
	(void)state;
	bool mb;
	assert_string_equal(sk_charset_label_iconv("gb2312", &mb), "GB18030");
	assert_true(mb);
	assert_string_equal(sk_charset_label_iconv("KS_C_5601-1987", &mb), "CP949");
	assert_string_equal(sk_charset_label_iconv("Big5", &mb), "BIG5");
	assert_true(mb);
	assert_string_equal(sk_charset_label_iconv("iso-8859-1", &mb), "WINDOWS-1252");
	assert_false(mb);
	assert_string_equal(sk_charset_label_iconv("Shift_JIS", &mb), "CP932");
	assert_string_equal(sk_charset_label_iconv("ISO-2022-JP", &mb), "CP50220");
	assert_string_equal(sk_charset_label_iconv("euc-jp", &mb), "EUC-JP-MS");
	assert_true(mb);
	assert_string_equal(sk_charset_label_iconv("koi8-r", &mb), "koi8-r"); /* as it is */
	assert_false(mb);
	assert_null(sk_charset_label_iconv("", &mb));
	assert_null(sk_charset_label_iconv(NULL, NULL));
}

static void labels(void **state)
{
	(void)state;
	assert_int_equal(sk_charset_from_label("Shift_JIS"), SK_CHARSET_CP932);
	assert_int_equal(sk_charset_from_label("x-sjis"), SK_CHARSET_CP932);
	assert_int_equal(sk_charset_from_label("Windows-31J"), SK_CHARSET_CP932);
	assert_int_equal(sk_charset_from_label("ISO-2022-JP"), SK_CHARSET_ISO2022JP);
	assert_int_equal(sk_charset_from_label("euc-jp"), SK_CHARSET_EUCJP);
	assert_int_equal(sk_charset_from_label("UTF-8"), SK_CHARSET_UTF8);
	assert_int_equal(sk_charset_from_label("us-ascii"), SK_CHARSET_ASCII);
	assert_int_equal(sk_charset_from_label("iso-8859-1"), SK_CHARSET_8BIT);
	assert_int_equal(sk_charset_from_label(NULL), SK_CHARSET_8BIT);
}

/* Fed one byte at a time, the converter gives what one call gives. */
static void streaming(void **state)
{
	(void)state;
	static const struct {
		const char *from, *in, *want;
	} cases[] = {
		{"CP50220", "a\x1b$B$\"-!\x1b(Bz\x1b$(Q$\"\x1b(B", "aあ①zあ"},
		{"CP932", "\x83\x65\x83\x58\x83\x67\x87\x40", "テスト①"},
		{"EUC-JP-MS", "\xa4\xa2\xa4\xa4", "あい"},
		{"UTF-16LE", "B0D0", "あい"},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		sk_charset_conv *c;
		assert_int_equal(sk_charset_conv_open(&c, cases[k].from, NULL), 0);
		sk_buf u;
		sk_buf_init(&u, 0);
		const uint8_t *p = (const uint8_t *)cases[k].in;
		size_t n = strlen(cases[k].in), total = 0, bad;
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(sk_charset_conv_feed(c, p + i, 1, false, &u, &bad, NULL), 0);
			total += bad;
		}
		assert_int_equal(sk_charset_conv_feed(c, NULL, 0, true, &u, &bad, NULL), 0);
		total += bad;
		printf("# %s: %s\n", cases[k].from, sk_buf_str(&u));
		assert_int_equal(total, 0);
		assert_string_equal(sk_buf_str(&u), cases[k].want);
		sk_buf_free(&u);
		sk_charset_conv_close(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ascii_and_utf8),
		cmocka_unit_test(utf16_utf32),
		cmocka_unit_test(iso2022jp),
		cmocka_unit_test(cp932_and_extensions),
		cmocka_unit_test(eucjp),
		cmocka_unit_test(other_and_invalid),
		cmocka_unit_test(labels),
		cmocka_unit_test(utf8_checked),
		cmocka_unit_test(label_supersets),
		cmocka_unit_test(streaming),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
