/* The Outlook .msg module: messages written here (cfbw.c for the compound file, the MAPI
 * property streams below), read back from the .eml with GMime: headers, body from text,
 * 8-bit code pages, HTML and compressed RTF, attachments through the registry, embedded
 * messages, S/MIME, every limit, malformed files; compressed RTF and the RTF reader on
 * their own; Apache POI's .msg files. DLP on the delivered message (sk_cdr_dlp reading a
 * rebuilt .eml, and an .eml file, as a mail reader shows it) with its limits. */
#include <dirent.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>
#include <zlib.h>

#include <gmime/gmime.h>

#include "../../src/cdr/msg_int.h"
#include "cfbw.h"
#include "sekisho/cfb.h"
#include "sekisho/charset.h"
#include "sekisho/dlp.h"
#include "sekisho/mail.h"
#include "sekisho/policy.h"
#include "testutil.h"

/* ---- writing messages ---------------------------------------------------------------- */

/* UTF-8 s in the charset `to` (an iconv name), appended to out */
static void recode(const char *to, const char *s, sk_buf *out)
{
	iconv_t cd = iconv_open(to, "UTF-8");
	assert_true(cd != (iconv_t)-1);
	size_t in = strlen(s), cap = in * 4 + 16, left = cap;
	char *buf = malloc(cap), *o = buf, *i = (char *)s;
	assert_true(iconv(cd, &i, &in, &o, &left) != (size_t)-1);
	assert_true(iconv(cd, NULL, NULL, &o, &left) != (size_t)-1); /* back to ASCII */
	iconv_close(cd);
	sk_buf_add(out, buf, cap - left);
	free(buf);
}

static void utf16(const char *s, sk_buf *out)
{
	recode("UTF-16LE", s, out);
	sk_buf_add(out, "\0\0", 2);
}

static void put_prop(sk_buf *p, uint16_t id, uint16_t type, uint64_t v)
{
	uint8_t r[16] = {0};
	cfbw_put32(r, (uint32_t)id << 16 | type);
	cfbw_put32(r + 4, 6);
	cfbw_put32(r + 8, (uint32_t)v);
	cfbw_put32(r + 12, (uint32_t)(v >> 32));
	sk_buf_add(p, r, 16);
}

static void add_sub(cfbw *w, uint32_t st, uint16_t id, uint16_t type, const void *d, size_t n)
{
	char name[40];
	snprintf(name, sizeof(name), "__substg1.0_%04X%04X", id, type);
	cfbw_add(w, st, name, d, n);
}

static void add_str(cfbw *w, uint32_t st, uint16_t id, const char *utf8)
{
	if (!utf8)
		return;
	sk_buf b;
	sk_buf_init(&b, 0);
	utf16(utf8, &b);
	add_sub(w, st, id, 0x001F, sk_buf_data(&b), sk_buf_len(&b));
	sk_buf_free(&b);
}

static void add_str8(cfbw *w, uint32_t st, uint16_t id, const char *bytes)
{
	if (bytes)
		add_sub(w, st, id, 0x001E, bytes, strlen(bytes) + 1);
}

typedef struct rspec {
	const char *name, *smtp;
	uint32_t type; /* 1 To, 2 Cc, 3 Bcc */
} rspec;

struct mspec;
typedef struct aspec {
	const char *name;       /* PR_ATTACH_LONG_FILENAME */
	const void *data;
	size_t len;             /* 0: strlen */
	uint32_t method;        /* 0: none written (by value) */
	const struct mspec *msg;/* an attached message */
	bool ole;               /* an OLE storage as its data */
} aspec;

typedef struct mspec {
	const char *cls;
	const char *subject, *subject8;
	uint32_t codepage, cpid;
	const char *body, *body8;
	const char *html;       /* binary PR_HTML (bytes as they are) */
	const uint8_t *rtf;     /* compressed RTF */
	size_t rtf_len;
	const char *from_name, *from_smtp;
	const rspec *rcpt;
	size_t nrcpt;
	const aspec *att;
	size_t natt;
	uint64_t submit;        /* FILETIME */
	const char *msgid;
} mspec;

static void write_msg(cfbw *w, uint32_t st, const mspec *m, size_t hdr)
{
	sk_buf p;
	sk_buf_init(&p, 0);
	uint8_t h[32] = {0};
	cfbw_put32(h + 16, (uint32_t)m->nrcpt);
	cfbw_put32(h + 20, (uint32_t)m->natt);
	sk_buf_add(&p, h, hdr);
	if (m->codepage)
		put_prop(&p, 0x3FFD, 0x0003, m->codepage);
	if (m->cpid)
		put_prop(&p, 0x3FDE, 0x0003, m->cpid);
	if (m->submit)
		put_prop(&p, 0x0039, 0x0040, m->submit);
	add_str(w, st, 0x001A, m->cls ? m->cls : "IPM.Note");
	add_str(w, st, 0x0037, m->subject);
	add_str8(w, st, 0x0037, m->subject8);
	add_str(w, st, 0x1000, m->body);
	add_str8(w, st, 0x1000, m->body8);
	if (m->html)
		add_sub(w, st, 0x1013, 0x0102, m->html, strlen(m->html));
	if (m->rtf)
		add_sub(w, st, 0x1009, 0x0102, m->rtf, m->rtf_len);
	add_str(w, st, 0x0C1A, m->from_name);
	add_str(w, st, 0x5D01, m->from_smtp);
	add_str(w, st, 0x1035, m->msgid);
	for (size_t i = 0; i < m->nrcpt; i++) {
		char name[40];
		snprintf(name, sizeof(name), "__recip_version1.0_#%08zX", i);
		uint32_t r = cfbw_add(w, st, name, NULL, 0);
		sk_buf rp;
		sk_buf_init(&rp, 0);
		sk_buf_add(&rp, h, 8);
		put_prop(&rp, 0x0C15, 0x0003, m->rcpt[i].type);
		cfbw_add(w, r, "__properties_version1.0", sk_buf_data(&rp), sk_buf_len(&rp));
		sk_buf_free(&rp);
		add_str(w, r, 0x3001, m->rcpt[i].name);
		add_str(w, r, 0x39FE, m->rcpt[i].smtp);
	}
	for (size_t i = 0; i < m->natt; i++) {
		const aspec *a = &m->att[i];
		char name[40];
		snprintf(name, sizeof(name), "__attach_version1.0_#%08zX", i);
		uint32_t r = cfbw_add(w, st, name, NULL, 0);
		sk_buf ap;
		sk_buf_init(&ap, 0);
		sk_buf_add(&ap, h, 8);
		if (a->method)
			put_prop(&ap, 0x3705, 0x0003, a->method);
		cfbw_add(w, r, "__properties_version1.0", sk_buf_data(&ap), sk_buf_len(&ap));
		sk_buf_free(&ap);
		add_str(w, r, 0x3707, a->name);
		if (a->msg) {
			uint32_t o = cfbw_add(w, r, "__substg1.0_3701000D", NULL, 0);
			write_msg(w, o, a->msg, 24);
		} else if (a->ole) {
			uint32_t o = cfbw_add(w, r, "__substg1.0_3701000D", NULL, 0);
			cfbw_add(w, o, "CONTENTS", "ole", 3);
		} else if (a->data) {
			add_sub(w, r, 0x3701, 0x0102, a->data, a->len ? a->len : strlen(a->data));
		}
	}
	cfbw_add(w, st, "__properties_version1.0", sk_buf_data(&p), sk_buf_len(&p));
	sk_buf_free(&p);
}

static void make_msg(const mspec *m, sk_buf *out)
{
	cfbw *w = cfbw_new(9);
	write_msg(w, 0, m, 32);
	uint8_t *f;
	size_t n;
	cfbw_build(w, &f, &n);
	sk_buf_init(out, 0);
	sk_buf_add(out, f, n);
	free(f);
	cfbw_free(w);
}

/* 2025-04-01 01:00:00 UTC as a FILETIME */
#define FT_2025 ((uint64_t)(1743469200LL + 11644473600LL) * 10000000u)

/* ---- reading the .eml back ------------------------------------------------------------ */

typedef struct eml {
	GMimeMessage *m;
	char *text;          /* the text/plain body, decoded */
	char *from, *to, *cc, *subject, *date, *xms;
	int natt;
	char *att_name[16], *att_type[16];
	GByteArray *att_data[16];
	GMimeMessage *att_msg[16];
} eml;

static char *addr_str(InternetAddressList *l)
{
	return l && internet_address_list_length(l) ? internet_address_list_to_string(l, NULL, FALSE)
						     : NULL;
}

static void walk(eml *e, GMimeObject *o)
{
	if (GMIME_IS_MULTIPART(o)) {
		for (int i = 0; i < g_mime_multipart_get_count(GMIME_MULTIPART(o)); i++)
			walk(e, g_mime_multipart_get_part(GMIME_MULTIPART(o), i));
		return;
	}
	GMimeContentType *ct = g_mime_object_get_content_type(o);
	GMimeContentDisposition *cd = g_mime_object_get_content_disposition(o);
	if (!cd && g_mime_content_type_is_type(ct, "text", "plain") && !e->text) {
		GMimeDataWrapper *dw = g_mime_part_get_content(GMIME_PART(o));
		GMimeStream *ms = g_mime_stream_mem_new();
		g_mime_data_wrapper_write_to_stream(dw, ms);
		GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
		e->text = g_strndup((const char *)ba->data, ba->len);
		g_object_unref(ms);
		return;
	}
	assert_true(e->natt < 16);
	int k = e->natt++;
	const char *fn = GMIME_IS_PART(o) ? g_mime_part_get_filename(GMIME_PART(o))
		       : g_mime_object_get_content_disposition_parameter(o, "filename");
	e->att_name[k] = g_strdup(fn ? fn : "");
	e->att_type[k] = g_mime_content_type_get_mime_type(ct);
	if (GMIME_IS_MESSAGE_PART(o)) {
		e->att_msg[k] = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
		g_object_ref(e->att_msg[k]);
		return;
	}
	GMimeDataWrapper *dw = g_mime_part_get_content(GMIME_PART(o));
	GMimeStream *ms = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(dw, ms);
	e->att_data[k] = g_byte_array_new();
	GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
	g_byte_array_append(e->att_data[k], ba->data, ba->len);
	g_object_unref(ms);
}

static void eml_from_message(eml *e, GMimeMessage *m)
{
	memset(e, 0, sizeof(*e));
	e->m = m;
	e->from = addr_str(g_mime_message_get_from(m));
	e->to = addr_str(g_mime_message_get_to(m));
	e->cc = addr_str(g_mime_message_get_cc(m));
	const char *s = g_mime_message_get_subject(m);
	e->subject = g_strdup(s ? s : "");
	const char *d = g_mime_object_get_header(GMIME_OBJECT(m), "Date");
	e->date = g_strdup(d ? d : "");
	const char *x = g_mime_object_get_header(GMIME_OBJECT(m), "X-Mail-Sanitized");
	e->xms = g_strdup(x ? x : "");
	walk(e, g_mime_message_get_mime_part(m));
	assert_non_null(e->text);
}

static void eml_parse(eml *e, const sk_buf *b)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer((const char *)sk_buf_data(b), sk_buf_len(b));
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
	g_object_unref(p);
	g_object_unref(st);
	assert_non_null(m);
	eml_from_message(e, m);
}

static void eml_free(eml *e)
{
	g_free(e->text);
	g_free(e->from);
	g_free(e->to);
	g_free(e->cc);
	g_free(e->subject);
	g_free(e->date);
	g_free(e->xms);
	for (int i = 0; i < e->natt; i++) {
		g_free(e->att_name[i]);
		g_free(e->att_type[i]);
		if (e->att_data[i])
			g_byte_array_free(e->att_data[i], TRUE);
		if (e->att_msg[i])
			g_object_unref(e->att_msg[i]);
	}
	g_object_unref(e->m);
}

/* the body after the notice */
static const char *body_of(const eml *e)
{
	const char *sep = strstr(e->text, "------------------------------------------------------"
					  "----------------\n");
	assert_non_null(sep);
	return sep + 71;
}

static void run_msg(const mspec *m, const sk_options *opt, tu_run *r)
{
	sk_buf b;
	make_msg(m, &b);
	tu_process(sk_buf_data(&b), sk_buf_len(&b), "message.msg", opt, r);
	sk_buf_free(&b);
}

/* ---- the message ------------------------------------------------------------------------ */

static void unicode_message(void **state)
{
	(void)state;
	sk_mail_init();
	static const rspec rc[] = {
		{"住民課 佐藤", "sato@city.example.lg.jp", 1},
		{"Exchange の人", "/O=CITY/OU=EXCHANGE/CN=RECIPIENTS/CN=X", 1},
		{"Tanaka, Ichiro \"Boss\"", "tanaka@example.jp", 2},
		{"秘密の宛先", "bcc@example.jp", 3},
	};
	mspec m = {
		.subject = "住民票の写しについて (①②)",
		.body = "各位\r\n\r\n住民票の写しの交付について、下記のとおりお知らせします。\r\n"
			"詳しくは https://www.city.example.lg.jp/koufu.html をご覧ください。\r\n",
		.from_name = "情報政策課 山田", .from_smtp = "yamada@city.example.lg.jp",
		.rcpt = rc, .nrcpt = 4, .submit = FT_2025,
		.msgid = "<abc123@city.example.lg.jp>",
	};
	tu_run r;
	run_msg(&m, NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_string_equal(r.res.type.code, "msg");
	if (getenv("SK_DUMP"))
		fwrite(sk_buf_data(&r.out), 1, sk_buf_len(&r.out), stderr);
	assert_string_equal(r.res.report.out_ext, "eml");
	assert_int_equal(tu_count(&r.res.report, SK_ACTION_CONVERTED, "file-type"), 1);
	assert_int_equal(tu_count(&r.res.report, SK_ACTION_NEUTRALIZED, "uri"), 1);
	/* 7-bit headers: every non-ASCII value as encoded words */
	const char *raw = sk_buf_str(&r.out);
	const char *hend = strstr(raw, "\n\n");
	assert_non_null(hend);
	for (const char *q = raw; q < hend; q++)
		assert_true((unsigned char)*q < 0x80);
	assert_non_null(strstr(raw, "=?UTF-8?"));
	eml e;
	eml_parse(&e, &r.out);
	assert_string_equal(e.subject, "住民票の写しについて (①②)");
	assert_non_null(strstr(e.from, "情報政策課 山田"));
	assert_non_null(strstr(e.from, "<yamada@city.example.lg.jp>"));
	assert_non_null(strstr(e.to, "住民課 佐藤 <sato@city.example.lg.jp>"));
	assert_non_null(strstr(e.to, "Exchange の人")); /* a name without an Internet address */
	assert_null(strstr(e.to, "/O=CITY"));
	assert_non_null(strstr(e.cc, "tanaka@example.jp"));
	assert_non_null(strstr(e.cc, "Boss"));
	assert_null(strstr(raw, "bcc@example.jp")); /* Bcc is not written */
	assert_string_equal(e.date, "Tue, 01 Apr 2025 10:00:00 +0900");
	assert_non_null(strstr(raw, "Message-ID: <abc123@city.example.lg.jp>\n"));
	assert_non_null(strstr(e.xms, "FROM_MSG"));
	assert_non_null(strstr(e.xms, "REP_LINK"));
	/* the notice: Japanese first, then English, then the body */
	assert_true(!strncmp(e.text, "【sekisho】", strlen("【sekisho】")));
	const char *en = strstr(e.text, "[sekisho] This Outlook message (.msg) was converted");
	assert_non_null(en);
	assert_true(en > strstr(e.text, "Outlook メッセージ"));
	const char *b = body_of(&e);
	assert_non_null(strstr(b, "住民票の写しの交付について、下記のとおりお知らせします。\n"));
	assert_null(strchr(b, '\r'));
	assert_non_null(strstr(b, "hxxps://www[.]city[.]example[.]lg[.]jp/koufu.html"));
	assert_null(strstr(b, "https://"));
	assert_int_equal(e.natt, 0);
	eml_free(&e);
	tu_free(&r);
}

/* 8-bit strings in the message's code page (CP932 with NEC and IBM characters), and
 * without a code page (guessed) */
static void codepages(void **state)
{
	(void)state;
	/* "髙橋の件 ①" and "本文です。㈱関所" in CP932 */
	static const char subj[] = "\xEE\xE0\x8B\xB4\x82\xCC\x8C\x8F \x87\x40";
	static const char body[] = "\x96\x7B\x95\xB6\x82\xC5\x82\xB7\x81\x42\x87\x8A\x8A\xD6\x8F\x8A\r\n";
	for (int k = 0; k < 2; k++) {
		mspec m = {.subject8 = subj, .body8 = body, .codepage = k ? 0 : 932};
		tu_run r;
		run_msg(&m, NULL, &r);
		assert_verdict(&r, SK_VERDICT_SANITIZED);
		eml e;
		eml_parse(&e, &r.out);
		assert_string_equal(e.subject, "髙橋の件 ①");
		assert_string_equal(body_of(&e), "本文です。㈱関所\n");
		eml_free(&e);
		tu_free(&r);
	}
	/* Windows-1251 by its code page */
	mspec c = {.subject8 = "\xCF\xF0\xE8\xE2\xE5\xF2", .codepage = 1251, .body = "x"};
	tu_run r;
	run_msg(&c, NULL, &r);
	eml e;
	eml_parse(&e, &r.out);
	assert_string_equal(e.subject, "Привет");
	eml_free(&e);
	tu_free(&r);
}

static void html_body(void **state)
{
	(void)state;
	/* Shift_JIS HTML named by its meta tag; a script that must not reach the text */
	mspec m = {
		.subject = "html",
		.html = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
			"charset=shift_jis\"><script>alert('x')</script></head><body><p>\x82\xB1\x82\xF1"
			"\x82\xC9\x82\xBF\x82\xCD</p><p><a href=\"http://evil.example/\">click</a></p>"
			"</body></html>",
	};
	tu_run r;
	run_msg(&m, NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	const sk_report_entry *x = NULL;
	for (size_t i = 0; i < r.res.report.n; i++)
		if (!strcmp(r.res.report.v[i].what, "body-format"))
			x = &r.res.report.v[i];
	assert_non_null(x);
	assert_int_equal(x->action, SK_ACTION_CONVERTED);
	assert_string_equal(x->detail, "html→text");
	eml e;
	eml_parse(&e, &r.out);
	const char *b = body_of(&e);
	assert_non_null(strstr(b, "こんにちは"));
	assert_null(strstr(b, "alert"));
	assert_null(strstr(b, "<p>"));
	assert_non_null(strstr(b, "hxxp://evil[.]example/"));
	assert_non_null(strstr(e.text, "本文は HTML からテキストに変換しました。"));
	assert_non_null(strstr(e.xms, "CHG_TEXT"));
	eml_free(&e);
	tu_free(&r);
}

/* ---- compressed RTF ------------------------------------------------------------------------ */

/* Compressed RTF of raw[0..n) with literals only, and the end marker. */
static void lzfu_literal(const char *raw, size_t n, sk_buf *out)
{
	sk_buf d;
	sk_buf_init(&d, 0);
	size_t i = 0;
	bool end = false;
	while (!end) {
		size_t ctlpos = sk_buf_len(&d);
		uint8_t ctl = 0;
		sk_buf_addc(&d, 0);
		for (int bit = 0; bit < 8; bit++) {
			if (i < n) {
				sk_buf_addc(&d, (uint8_t)raw[i++]);
			} else {
				uint32_t off = (uint32_t)((207 + n) & 4095);
				ctl |= (uint8_t)(1 << bit);
				sk_buf_addc(&d, (uint8_t)(off >> 4));
				sk_buf_addc(&d, (uint8_t)(off << 4));
				end = true;
				break;
			}
		}
		((uint8_t *)sk_buf_data(&d))[ctlpos] = ctl;
	}
	uint8_t h[16];
	cfbw_put32(h, (uint32_t)(sk_buf_len(&d) + 12));
	cfbw_put32(h + 4, (uint32_t)n);
	memcpy(h + 8, "LZFu", 4);
	cfbw_put32(h + 12, (uint32_t)(crc32(0xFFFFFFFFul, sk_buf_data(&d), (uInt)sk_buf_len(&d)) ^
				      0xFFFFFFFFul));
	sk_buf_init(out, 0);
	sk_buf_add(out, h, 16);
	sk_buf_add(out, sk_buf_data(&d), sk_buf_len(&d));
	sk_buf_free(&d);
}

static sk_reason lzfu(const uint8_t *p, size_t n, sk_budget *b, sk_buf *out)
{
	sk_reason why = SK_REASON_NONE;
	sk_error err;
	sk_error_clear(&err);
	int rc = sk_msg_lzfu(p, n, b, out, &why, &err);
	if (rc)
		printf("# lzfu: %s\n", err.msg);
	assert_true(rc == 0 || rc == SK_EBLOCKED);
	return why;
}

static void lzfu_cases(void **state)
{
	(void)state;
	sk_budget b;
	tu_budget(&b, false);
	sk_buf out;
	sk_buf_init(&out, 0);
	/* [MS-OXRTFCP] 4.1 and 4.2 */
	static const uint8_t ex1[] = {
		0x2d, 0x00, 0x00, 0x00, 0x2b, 0x00, 0x00, 0x00, 0x4c, 0x5a, 0x46, 0x75, 0xf1, 0xc5, 0xc7,
		0xa7, 0x03, 0x00, 0x0a, 0x00, 0x72, 0x63, 0x70, 0x67, 0x31, 0x32, 0x35, 0x42, 0x32, 0x0a,
		0xf3, 0x20, 0x68, 0x65, 0x6c, 0x09, 0x00, 0x20, 0x62, 0x77, 0x05, 0xb0, 0x6c, 0x64, 0x7d,
		0x0a, 0x80, 0x0f, 0xa0};
	assert_int_equal(lzfu(ex1, sizeof(ex1), &b, &out), SK_REASON_NONE);
	assert_string_equal(sk_buf_str(&out), "{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n");
	static const uint8_t ex2[] = {0x1a, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x4c, 0x5a,
				      0x46, 0x75, 0xe2, 0xd4, 0x4b, 0x51, 0x41, 0x00, 0x04, 0x20,
				      0x57, 0x58, 0x59, 0x5a, 0x0d, 0x6e, 0x7d, 0x01, 0x0e, 0xb0};
	sk_buf_reset(&out);
	assert_int_equal(lzfu(ex2, sizeof(ex2), &b, &out), SK_REASON_NONE);
	assert_string_equal(sk_buf_str(&out), "{\\rtf1 WXYZWXYZWXYZWXYZWXYZ}");
	/* our literal compressor, round trip */
	static const char txt[] = "{\\rtf1\\ansi\\ansicpg932 \\'93\\'fa\\'96\\'7b\\par}";
	sk_buf c;
	lzfu_literal(txt, strlen(txt), &c);
	sk_buf_reset(&out);
	assert_int_equal(lzfu(sk_buf_data(&c), sk_buf_len(&c), &b, &out), SK_REASON_NONE);
	assert_string_equal(sk_buf_str(&out), txt);
	uint8_t *x = malloc(sk_buf_len(&c));
	size_t xn = sk_buf_len(&c);
	/* a bad CRC; a declared size too large / too small; cut before the end marker */
	struct {
		size_t off;
		uint32_t v;
		size_t cut;
	} bad[] = {{12, 0x12345678, 0}, {4, (uint32_t)strlen(txt) + 5, 0},
		   {4, (uint32_t)strlen(txt) - 5, 0}, {0, 0, 6}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(x, sk_buf_data(&c), xn);
		size_t n = xn;
		if (bad[i].cut) {
			n -= bad[i].cut;
			cfbw_put32(x, (uint32_t)(n - 4));
			cfbw_put32(x + 12, (uint32_t)(crc32(0xFFFFFFFFul, x + 16, (uInt)(n - 16)) ^ 0xFFFFFFFFul));
		} else {
			cfbw_put32(x + bad[i].off, bad[i].v);
		}
		sk_buf_reset(&out);
		assert_int_equal(lzfu(x, n, &b, &out), SK_REASON_MALFORMED);
		assert_int_equal(sk_buf_len(&out), 0);
	}
	/* not compressed (MELA) */
	memcpy(x, sk_buf_data(&c), xn);
	uint8_t mela[64];
	cfbw_put32(mela, 12 + 5);
	cfbw_put32(mela + 4, 5);
	memcpy(mela + 8, "MELA", 4);
	cfbw_put32(mela + 12, 0);
	memcpy(mela + 16, "{\\rt}", 5);
	sk_buf_reset(&out);
	assert_int_equal(lzfu(mela, 21, &b, &out), SK_REASON_NONE);
	assert_string_equal(sk_buf_str(&out), "{\\rt}");
	/* unknown magic, a header cut short */
	memcpy(x + 8, "ABCD", 4);
	assert_int_equal(lzfu(x, xn, &b, &out), SK_REASON_MALFORMED);
	assert_int_equal(lzfu(x, 10, &b, &out), SK_REASON_MALFORMED);
	/* limits: a declared size far above the compressed one (ratio), the expansion budget */
	memcpy(x, sk_buf_data(&c), xn);
	cfbw_put32(x + 4, 100u << 20);
	assert_int_equal(lzfu(x, xn, &b, &out), SK_REASON_LIMIT_RATIO);
	tu_budget(&b, false);
	b.max_expanded = 10;
	memcpy(x, sk_buf_data(&c), xn);
	assert_int_equal(lzfu(x, xn, &b, &out), SK_REASON_LIMIT_SIZE);
	free(x);
	sk_buf_free(&c);
	sk_buf_free(&out);
}

static char *rtf_text(const char *rtf, const sk_budget *b, bool *html, sk_reason *why)
{
	sk_buf out;
	sk_buf_init(&out, 0);
	sk_error err;
	sk_error_clear(&err);
	bool h = false;
	int rc = sk_msg_rtf_text((const uint8_t *)rtf, strlen(rtf), b, &out, &h, why, &err);
	if (html)
		*html = h;
	if (rc) {
		sk_buf_free(&out);
		return NULL;
	}
	char *s = strdup(sk_buf_str(&out));
	sk_buf_free(&out);
	return s;
}

static void rtf_cases(void **state)
{
	(void)state;
	sk_reason why;
	bool html;
	/* code page 932 bytes, \u with its fallback, destinations left out, paragraphs */
	char *t = rtf_text("{\\rtf1\\ansi\\ansicpg932\\deff0{\\fonttbl{\\f0\\fnil MS Gothic;}}"
			   "{\\colortbl;\\red255\\green0\\blue0;}{\\*\\generator Riched20;}"
			   "{\\info{\\author Evil}}\\pard \\'93\\'fa\\'96\\'7b\\'8c\\'ea\\par "
			   "\\uc1\\u9312?\\u-32627?\\tab x\\line y{\\pict\\pngblip 89504e47}"
			   "{\\field{\\*\\fldinst HYPERLINK \"http://x\"}{\\fldrslt link}}\\par}",
			   NULL, &html, &why);
	assert_non_null(t);
	assert_false(html);
	assert_string_equal(t, "日本語\n①\xE8\x82\x8D\tx\nylink\n");
	free(t);
	/* a font's charset (128: Shift_JIS) over a Latin document, a DBCS trail byte written
	 * as a literal character */
	t = rtf_text("{\\rtf1\\ansi\\ansicpg1252{\\fonttbl{\\f1\\fcharset128 MS Mincho;}}"
		     "\\f1 \\'83\\'5c\\'83@\\f0  caf\\'e9}", NULL, &html, &why);
	assert_non_null(t);
	assert_string_equal(t, "ソァ café");
	free(t);
	/* an RTF body Outlook made from HTML gives the HTML back; RTF-only parts left out */
	t = rtf_text("{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 \\deff0{\\fonttbl{\\f0 Arial;}}"
		     "{\\*\\htmltag19 <html>}{\\*\\htmltag34 <body>}\\htmlrtf {\\b \\htmlrtf0 "
		     "{\\*\\htmltag64 <p>}Hello \\'e9t\\'e9\\htmlrtf \\par\\htmlrtf0 "
		     "{\\*\\htmltag72 </p>}\\htmlrtf }\\htmlrtf0 {\\*\\htmltag27 </body></html>}}",
		     NULL, &html, &why);
	assert_non_null(t);
	assert_true(html);
	assert_string_equal(t, "<html><body><p>Hello été</p></body></html>");
	free(t);
	/* a character outside the BMP as a surrogate pair; a lone half as U+FFFD */
	t = rtf_text("{\\rtf1\\uc1\\u-10179?\\u-8704?a\\u-10179?b}", NULL, &html, &why);
	assert_string_equal(t, "\xF0\x9F\x98\x80" "a\xEF\xBF\xBD" "b");
	free(t);
	/* made from text */
	t = rtf_text("{\\rtf1\\ansi\\fromtext \\htmlrtf {\\b\\htmlrtf0 plain\\par text}\\htmlrtf0 }",
		     NULL, &html, &why);
	assert_string_equal(t, "plain\ntext");
	assert_false(html);
	free(t);
	/* limits: the node count, the nesting, the clock */
	sk_budget b;
	tu_budget(&b, false);
	b.max_nodes = 5000;
	sk_buf big;
	sk_buf_init(&big, 0);
	sk_buf_adds(&big, "{\\rtf1 ");
	for (int i = 0; i < 6000; i++)
		sk_buf_adds(&big, "\\b x");
	sk_buf_adds(&big, "}");
	assert_null(rtf_text(sk_buf_str(&big), &b, &html, &why));
	assert_int_equal(why, SK_REASON_LIMIT_NODES);
	b.max_nodes = 100000;
	t = rtf_text(sk_buf_str(&big), &b, &html, &why);
	assert_non_null(t);
	free(t);
	sk_buf_reset(&big);
	for (int i = 0; i < 1100; i++)
		sk_buf_addc(&big, '{');
	assert_null(rtf_text(sk_buf_str(&big), &b, &html, &why));
	assert_int_equal(why, SK_REASON_LIMIT_DEPTH);
	tu_budget(&b, true);
	assert_null(rtf_text("{\\rtf1 late}", &b, &html, &why));
	assert_int_equal(why, SK_REASON_LIMIT_TIME);
	sk_buf_free(&big);
}

/* A message whose only body is compressed RTF: Japanese RTF, and RTF from HTML. */
static void rtf_body(void **state)
{
	(void)state;
	static const char *rtf[] = {
		"{\\rtf1\\ansi\\ansicpg932\\deff0{\\fonttbl{\\f0\\fnil\\fcharset128 MS UI Gothic;}}"
		"\\pard\\f0 \\'8a\\'d6\\'8f\\'8a\\'82\\'cc\\'95\\'f1\\'8d\\'90\\par}",
		"{\\rtf1\\ansi\\ansicpg932\\fromhtml1 {\\*\\htmltag19 <html>}{\\*\\htmltag64 <p>}"
		"\\'8a\\'d6\\'8f\\'8a\\'82\\'cc\\'95\\'f1\\'8d\\'90{\\*\\htmltag72 </p>}"
		"{\\*\\htmltag241 <script>alert(1)</script>}{\\*\\htmltag27 </html>}}",
	};
	for (int k = 0; k < 2; k++) {
		sk_buf c;
		lzfu_literal(rtf[k], strlen(rtf[k]), &c);
		mspec m = {.subject = "rtf", .rtf = sk_buf_data(&c), .rtf_len = sk_buf_len(&c)};
		tu_run r;
		run_msg(&m, NULL, &r);
		assert_verdict(&r, SK_VERDICT_SANITIZED);
		eml e;
		eml_parse(&e, &r.out);
		const char *b = body_of(&e);
		assert_non_null(strstr(b, "関所の報告"));
		assert_null(strstr(b, "alert"));
		assert_null(strstr(b, "\\par"));
		assert_non_null(strstr(e.text, "本文は RTF からテキストに変換しました。"));
		eml_free(&e);
		tu_free(&r);
		/* a broken compressed stream: the message is blocked, not delivered without it */
		((uint8_t *)sk_buf_data(&c))[20] ^= 0x55; /* the CRC no longer matches */
		mspec bad = {.subject = "rtf", .rtf = sk_buf_data(&c), .rtf_len = sk_buf_len(&c)};
		run_msg(&bad, NULL, &r);
		assert_verdict(&r, SK_VERDICT_BLOCKED);
		assert_reason(&r, SK_REASON_MALFORMED);
		assert_int_equal(sk_buf_len(&r.out), 0);
		tu_free(&r);
		sk_buf_free(&c);
	}
	/* no body at all: delivered, noted */
	mspec none = {.subject = "empty"};
	tu_run r;
	run_msg(&none, NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_int_equal(tu_count(&r.res.report, SK_ACTION_NOTED, "body"), 1);
	eml e;
	eml_parse(&e, &r.out);
	assert_non_null(strstr(e.text, "本文はありません。"));
	eml_free(&e);
	tu_free(&r);
}

/* ---- attachments ------------------------------------------------------------------------ */

static const char MZ[] = "MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
			 "This program cannot be run in DOS mode.";

static void attachments(void **state)
{
	(void)state;
	static const aspec inner_att[] = {{.name = "inner.txt", .data = "inner text\r\n"}};
	static const mspec inner = {.subject = "転送: 中の件", .body = "中のメッセージ本文",
				    .att = inner_att, .natt = 1};
	static const aspec att[] = {
		{.name = "報告書.csv", .data = "名前,値\r\n報告書,1\r\n=cmd|' /c calc'!A1,2\r\n"},
		{.name = "setup.exe", .data = MZ, .len = sizeof(MZ) - 1},
		{.name = "invoice\xE2\x80\xAE" "fdp.exe", .data = "hello"},
		{.name = "link.txt", .data = "x", .method = 2},
		{.name = "object", .method = 6, .ole = true},
		{.name = "中のメッセージ.msg", .method = 5, .msg = &inner},
		{.name = "no-data.bin", .method = 1},
	};
	mspec m = {.subject = "添付", .body = "本文", .att = att, .natt = 7};
	tu_run r;
	run_msg(&m, NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	const sk_report *rep = &r.res.report;
	assert_int_equal(tu_count(rep, SK_ACTION_REMOVED, "attachment"), 2); /* the two .exe */
	assert_int_equal(tu_count(rep, SK_ACTION_RENAMED, "entry-name"), 1);
	assert_int_equal(tu_count(rep, SK_ACTION_REMOVED, "external-link"), 1);
	assert_int_equal(tu_count(rep, SK_ACTION_REMOVED, "ole-object"), 1);
	assert_int_equal(tu_count(rep, SK_ACTION_NOTED, "attachment"), 1);
	/* the embedded message's conversion is reported where it is */
	assert_int_equal(tu_count(rep, SK_ACTION_CONVERTED, "file-type"), 2);
	assert_non_null(tu_find_where(rep, "中のメッセージ.msg"));
	/* the text attachment's formula was neutralised by the text module, at its place */
	assert_int_equal(tu_count(rep, SK_ACTION_NEUTRALIZED, "formula"), 1);
	eml e;
	eml_parse(&e, &r.out);
	assert_int_equal(e.natt, 2);
	assert_string_equal(e.att_name[0], "報告書.csv");
	assert_string_equal(e.att_type[0], "text/csv");
	assert_non_null(e.att_data[0]);
	assert_non_null(g_strstr_len((const char *)e.att_data[0]->data, (gssize)e.att_data[0]->len,
				     "'=cmd"));
	assert_string_equal(e.att_name[1], "中のメッセージ.eml");
	assert_string_equal(e.att_type[1], "message/rfc822");
	assert_non_null(e.att_msg[1]);
	/* the notice lists every attachment and what became of it */
	assert_non_null(strstr(e.text, "無害化して添付 / sanitised and attached: 報告書.csv"));
	assert_non_null(strstr(e.text, "setup.exe [executable]"));
	assert_non_null(strstr(e.text, "invoicefdp.exe [executable]"));
	assert_non_null(strstr(e.text, "外部ファイルへの参照"));
	assert_non_null(strstr(e.text, "埋め込みオブジェクト"));
	assert_null(strstr(e.text, "\xE2\x80\xAE"));
	assert_non_null(strstr(e.xms, "SANITIZE_ATTACH"));
	/* the embedded message, converted the same way with its own attachment */
	eml in;
	g_object_ref(e.att_msg[1]);
	eml_from_message(&in, e.att_msg[1]);
	assert_string_equal(in.subject, "転送: 中の件");
	assert_non_null(strstr(body_of(&in), "中のメッセージ本文"));
	assert_int_equal(in.natt, 1);
	assert_string_equal(in.att_name[0], "inner.txt");
	eml_free(&in);
	eml_free(&e);
	tu_free(&r);
}

/* A .msg inside a ZIP comes out of it as .eml; a .msg attached to a mail too. */
static void nested(void **state)
{
	(void)state;
	mspec m = {.subject = "in a zip", .body = "zip body"};
	sk_buf msg;
	make_msg(&m, &msg);
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
	zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
	zip_source_keep(src);
	zip_source_t *s = zip_source_buffer_create(sk_buf_data(&msg), sk_buf_len(&msg), 0, &ze);
	assert_true(zip_file_add(za, "mail/会議.msg", s, ZIP_FL_ENC_UTF_8) >= 0);
	assert_int_equal(zip_close(za), 0);
	zip_source_open(src);
	zip_source_seek(src, 0, SEEK_END);
	zip_int64_t zn = zip_source_tell(src);
	zip_source_seek(src, 0, SEEK_SET);
	uint8_t *zb = malloc((size_t)zn);
	assert_int_equal(zip_source_read(src, zb, (zip_uint64_t)zn), zn);
	zip_source_close(src);
	zip_source_free(src);
	tu_run r;
	tu_process(zb, (size_t)zn, "bundle.zip", NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	zip_source_t *os = zip_source_buffer_create(sk_buf_data(&r.out), sk_buf_len(&r.out), 0, &ze);
	zip_t *oz = zip_open_from_source(os, ZIP_RDONLY, &ze);
	assert_non_null(oz);
	assert_int_equal(zip_get_num_entries(oz, 0), 1);
	assert_string_equal(zip_get_name(oz, 0, 0), "mail/会議.eml");
	zip_close(oz);
	tu_free(&r);
	free(zb);

	/* attached to a mail, sanitised by the mail engine with attachments through the
	 * registry: re-attached as .eml */
	gchar *b64 = g_base64_encode(sk_buf_data(&msg), sk_buf_len(&msg));
	sk_buf mail;
	sk_buf_init(&mail, 0);
	sk_buf_printf(&mail, "From: a@example.jp\nTo: b@example.jp\nSubject: fwd\nMIME-Version: 1.0\n"
			     "Content-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain\n\n"
			     "see attached\n--XX\nContent-Type: application/vnd.ms-outlook\n"
			     "Content-Disposition: attachment; filename=\"orig.msg\"\n"
			     "Content-Transfer-Encoding: base64\n\n%s\n--XX--\n", b64);
	g_free(b64);
	sk_mail_options o;
	sk_mail_options_default(&o);
	assert_int_equal(sk_mail_options_profile(&o, "sanitize"), 0);
	sk_buf out;
	sk_buf_init(&out, 0);
	sk_mail_result res;
	sk_report rep;
	sk_report_init(&rep);
	sk_error err;
	assert_int_equal(sk_mail_sanitize(&o, NULL, sk_buf_data(&mail), sk_buf_len(&mail), &out, &res,
					  &rep, &err), 0);
	assert_false(res.held);
	assert_int_equal(res.reattached, 1);
	assert_non_null(strstr(sk_buf_str(&out), "orig.eml"));
	assert_non_null(strstr(sk_buf_str(&out), "Content-Type: message/rfc822"));
	sk_report_free(&rep);
	sk_buf_free(&out);
	sk_buf_free(&mail);
	sk_buf_free(&msg);
}

/* ---- refusals ---------------------------------------------------------------------------- */

static void smime(void **state)
{
	(void)state;
	static const char *cls[] = {"IPM.Note.SMIME", "IPM.Note.SMIME.MultipartSigned",
				    "IPM.Note.rpmsg.Microsoft.Voicemail.UM"};
	for (size_t i = 0; i < 3; i++) {
		aspec a[] = {{.name = "smime.p7m", .data = "0\x82\x01\x00"}};
		mspec m = {.cls = cls[i], .subject = "secret", .body = "x", .att = a, .natt = 1};
		tu_run r;
		run_msg(&m, NULL, &r);
		assert_verdict(&r, SK_VERDICT_BLOCKED);
		assert_reason(&r, SK_REASON_ENCRYPTED);
		assert_int_equal(sk_buf_len(&r.out), 0);
		tu_free(&r);
	}
}

/* Embedded messages nested deeper than the depth limit; an attachment's fatal reason
 * blocks the whole message (a ZIP bomb inside) */
static void depth_and_fatal(void **state)
{
	(void)state;
	mspec levels[12];
	aspec atts[12];
	memset(levels, 0, sizeof(levels));
	memset(atts, 0, sizeof(atts));
	for (int i = 11; i >= 0; i--) {
		levels[i].subject = "level";
		levels[i].body = "b";
		if (i < 11) {
			atts[i] = (aspec){.name = "next.msg", .method = 5, .msg = &levels[i + 1]};
			levels[i].att = &atts[i];
			levels[i].natt = 1;
		}
	}
	sk_options opt;
	sk_options_default(&opt);
	opt.budget.max_depth = 8;
	tu_run r;
	run_msg(&levels[0], &opt, &r);
	assert_verdict(&r, SK_VERDICT_BLOCKED);
	assert_reason(&r, SK_REASON_LIMIT_DEPTH);
	tu_free(&r);
	opt.budget.max_depth = 12;
	run_msg(&levels[0], &opt, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	tu_free(&r);
	/* the same depth through .msg files attached by value: the registry's depth */
	sk_buf cur;
	make_msg(&levels[11], &cur);
	for (int i = 0; i < 10; i++) {
		aspec a[] = {{.name = "inner.msg", .data = sk_buf_data(&cur), .len = sk_buf_len(&cur)}};
		mspec m = {.subject = "wrap", .body = "b", .att = a, .natt = 1};
		sk_buf next;
		make_msg(&m, &next);
		sk_buf_free(&cur);
		cur = next;
	}
	opt.budget.max_depth = 8;
	tu_process(sk_buf_data(&cur), sk_buf_len(&cur), "deep.msg", &opt, &r);
	assert_verdict(&r, SK_VERDICT_BLOCKED);
	assert_reason(&r, SK_REASON_LIMIT_DEPTH);
	tu_free(&r);
	sk_buf_free(&cur);
}

static void limits(void **state)
{
	(void)state;
	static const aspec a[] = {{.name = "a.txt", .data = "text"}};
	mspec m = {.subject = "limits", .body = "body text", .att = a, .natt = 1};
	sk_options opt;
	tu_run r;
	/* entries: the directory holds about 16 */
	sk_options_default(&opt);
	opt.budget.max_entries = 10;
	run_msg(&m, &opt, &r);
	assert_reason(&r, SK_REASON_LIMIT_ENTRIES);
	tu_free(&r);
	/* expanded bytes: every stream read is charged */
	sk_options_default(&opt);
	opt.budget.max_expanded = 40;
	run_msg(&m, &opt, &r);
	assert_reason(&r, SK_REASON_LIMIT_SIZE);
	assert_int_equal(sk_buf_len(&r.out), 0);
	tu_free(&r);
	/* time: a budget past its deadline */
	sk_buf b;
	make_msg(&m, &b);
	sk_budget late;
	tu_budget(&late, true);
	assert_int_equal(tu_direct(sk_buf_data(&b), sk_buf_len(&b), "x.msg", &late, NULL),
			 SK_REASON_LIMIT_TIME);
	/* nodes: the HTML body over the node limit */
	mspec h = {.subject = "h", .html = "<p>a</p><p>b</p><p>c</p><p>d</p><p>e</p><p>f</p>"};
	sk_options_default(&opt);
	opt.budget.max_nodes = 3;
	run_msg(&h, &opt, &r);
	assert_reason(&r, SK_REASON_LIMIT_NODES);
	tu_free(&r);
	sk_buf_free(&b);
}

static void malformed(void **state)
{
	(void)state;
	char big[9000];
	for (size_t i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)('a' + i % 26);
	big[sizeof(big) - 1] = 0;
	mspec m = {.subject = "broken", .body8 = big};
	cfbw *w = cfbw_new(9);
	write_msg(w, 0, &m, 32);
	uint8_t *f;
	size_t n;
	cfbw_build(w, &f, &n);
	/* the body's chain broken: blocked, never delivered without its body */
	uint32_t body = 0;
	for (uint32_t id = 1;; id++) {
		const uint8_t *d = cfbw_dirent(w, f, id);
		if (d[0x42] == 2 && cfbw_start(w, id) != 0xFFFFFFFEu && d[0x78] + (d[0x79] << 8) >= 4096) {
			body = id;
			break;
		}
	}
	uint8_t *copy = malloc(n);
	memcpy(copy, f, n);
	cfbw_fat_set(w, copy, cfbw_start(w, body) + 1, 0xFFFFFFFEu);
	tu_run r;
	tu_process(copy, n, "x.msg", NULL, &r);
	assert_verdict(&r, SK_VERDICT_BLOCKED);
	assert_reason(&r, SK_REASON_MALFORMED);
	assert_int_equal(sk_buf_len(&r.out), 0);
	tu_free(&r);
	/* the file cut short (its FAT lies at the end) */
	tu_process(f, n - 600, "x.msg", NULL, &r);
	assert_verdict(&r, SK_VERDICT_BLOCKED);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	/* whole, it is delivered */
	tu_process(f, n, "x.msg", NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	tu_free(&r);
	free(copy);
	free(f);
	cfbw_free(w);
}

/* ---- Apache POI's messages ------------------------------------------------------------ */

static bool word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* the share of the words (3+ bytes) of a found in b */
static double words_kept(const char *a, const char *b)
{
	size_t total = 0, kept = 0;
	const char *p = a;
	while (*p) {
		while (*p && !word_char((unsigned char)*p))
			p++;
		const char *s = p;
		while (*p && word_char((unsigned char)*p))
			p++;
		if (p - s >= 3) {
			char w[256];
			size_t l = (size_t)(p - s) < sizeof(w) - 1 ? (size_t)(p - s) : sizeof(w) - 1;
			memcpy(w, s, l);
			w[l] = 0;
			total++;
			kept += strstr(b, w) != NULL;
		}
	}
	return total ? (double)kept / (double)total : 1.0;
}

/* Every .msg delivered or blocked with a reason; where a message has both a text body and
 * a compressed RTF one, the RTF decompresses exactly (size and CRC) and its text keeps the
 * words of the text body. */
static void corpus(void **state)
{
	(void)state;
	const char *dir = tu_src("../shared/corpus/legacy/poi");
	if (access(dir, R_OK) != 0)
		dir = "/work/shared/corpus/legacy/poi";
	DIR *d = opendir(dir);
	if (!d)
		skip();
	struct dirent *de;
	size_t total = 0, delivered = 0, rtf_checked = 0, rtf_close = 0;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 5 || strcmp(de->d_name + l - 4, ".msg"))
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		sk_buf b;
		tu_read(path, &b);
		tu_run r;
		tu_process(sk_buf_data(&b), sk_buf_len(&b), de->d_name, NULL, &r);
		total++;
		if (r.res.report.verdict == SK_VERDICT_BLOCKED) {
			assert_int_not_equal(r.res.report.reason, SK_REASON_NONE);
			assert_int_not_equal(r.res.report.reason, SK_REASON_INTERNAL);
			assert_int_equal(sk_buf_len(&r.out), 0);
			printf("# %s: blocked %s (%s)\n", de->d_name, sk_reason_code(r.res.report.reason),
			       r.res.report.reason_detail ? r.res.report.reason_detail : "");
		} else {
			delivered++;
			eml e;
			eml_parse(&e, &r.out);
			eml_free(&e);
		}
		tu_free(&r);
		/* the RTF body against the text body */
		sk_input in;
		sk_input_mem(&in, sk_buf_data(&b), sk_buf_len(&b));
		sk_budget bud;
		tu_budget(&bud, false);
		sk_cfb *c;
		sk_reason why;
		sk_error err;
		if (sk_cfb_open(&c, &in, &bud, 0, &why, &err) == 0) {
			uint32_t rid = sk_cfb_find(c, 0, "__substg1.0_10090102");
			uint32_t tid = sk_cfb_find(c, 0, "__substg1.0_1000001F");
			bool unicode = tid != SK_CFB_NONE;
			if (!unicode)
				tid = sk_cfb_find(c, 0, "__substg1.0_1000001E");
			sk_buf comp, rtf, txt, body;
			sk_buf_init(&comp, 0);
			sk_buf_init(&rtf, 0);
			sk_buf_init(&txt, 0);
			sk_buf_init(&body, 0);
			if (rid != SK_CFB_NONE && tid != SK_CFB_NONE &&
			    sk_cfb_read(c, rid, &bud, UINT64_MAX, &comp, &why, &err) == 0 &&
			    sk_cfb_read(c, tid, &bud, UINT64_MAX, &body, &why, &err) == 0) {
				assert_int_equal(sk_msg_lzfu(sk_buf_data(&comp), sk_buf_len(&comp), &bud, &rtf,
							     &why, &err), 0);
				bool html = false;
				assert_int_equal(sk_msg_rtf_text(sk_buf_data(&rtf), sk_buf_len(&rtf), &bud,
								 &txt, &html, &why, &err), 0);
				sk_buf plain;
				sk_buf_init(&plain, 0);
				if (html)
					assert_int_equal(sk_mail_html_text(sk_buf_str(&txt), sk_buf_len(&txt),
									   &bud, &plain, &why, &err), 0);
				else
					sk_buf_add(&plain, sk_buf_data(&txt), sk_buf_len(&txt));
				sk_buf bu;
				sk_buf_init(&bu, 0);
				if (unicode)
					sk_charset_to_utf8("UTF-16LE", sk_buf_data(&body), sk_buf_len(&body) & ~1u,
							   &bu, NULL, &err);
				else
					sk_mail_decode_text(sk_buf_data(&body), sk_buf_len(&body), NULL, &bu, &err);
				double k = words_kept(sk_buf_str(&bu), sk_buf_str(&plain));
				rtf_checked++;
				rtf_close += k >= 0.9;
				printf("# %s: RTF%s keeps %.0f%% of the text body's words\n", de->d_name,
				       html ? " (from HTML)" : "", k * 100);
				sk_buf_free(&plain);
				sk_buf_free(&bu);
			}
			sk_buf_free(&comp);
			sk_buf_free(&rtf);
			sk_buf_free(&txt);
			sk_buf_free(&body);
			sk_cfb_close(c);
		}
		sk_buf_free(&b);
	}
	closedir(d);
	printf("# POI .msg: %zu files, %zu delivered; RTF bodies compared %zu, %zu keep >= 90%%\n",
	       total, delivered, rtf_checked, rtf_close);
	assert_true(total >= 30);
	assert_true(delivered * 100 >= total * 85);
	assert_true(rtf_checked >= 20);
	assert_true(rtf_close * 100 >= rtf_checked * 90);
}

/* ---- DLP on the delivered message ------------------------------------------------------- */

#define SECRET "申請者 山田\r\n個人番号: 3847-5629-1044\r\n"
#define ALL_KINDS ((1u << SK_DLP__COUNT) - 1)

/* sk_cdr_dlp on p[0..n) of type code (the engine's call on a delivered file), under b
 * (NULL: a default budget) */
static int dlp_on(const sk_dlp *d, const char *code, const void *p, size_t n, const sk_budget *b,
		  sk_report *rep, sk_error *err)
{
	sk_budget lim;
	if (!b) {
		sk_budget_default(&lim);
		sk_budget_start(&lim);
		b = &lim;
	}
	sk_input in;
	sk_input_mem(&in, p, n);
	sk_error_clear(err);
	return sk_cdr_dlp(d, ALL_KINDS, sk_type_find(code), &in, "", b, rep, err);
}

/* The where of the only entry what (fails unless there is exactly one). */
static const char *only_where(const sk_report *rep, const char *what)
{
	assert_int_equal(tu_count(rep, SK_ACTION_NOTED, what), 1);
	for (size_t i = 0; i < rep->n; i++)
		if (!strcmp(rep->v[i].what, what)) {
			assert_null(strpbrk(rep->v[i].detail, "0123456789"));
			return rep->v[i].where;
		}
	return NULL;
}

static void starts(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix)))
		fail_msg("\"%s\" does not start with \"%s\"", s, prefix);
}

/* A docx of one paragraph (enough for sk_detect and the OOXML reading). */
static void make_docx(const char *para, sk_buf *out)
{
	static const char ct[] =
		"<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
		"<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-"
		"officedocument.wordprocessingml.document.main+xml\"/></Types>";
	static const char rels[] =
		"<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
		"<Relationship Id=\"r1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
		"relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>";
	char doc[1024];
	snprintf(doc, sizeof(doc),
		 "<?xml version=\"1.0\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/"
		 "wordprocessingml/2006/main\"><w:body><w:p><w:r><w:t>%s</w:t></w:r></w:p></w:body>"
		 "</w:document>", para);
	const char *const names[] = {"[Content_Types].xml", "_rels/.rels", "word/document.xml"};
	const char *const data[] = {ct, rels, doc};
	tu_zip(names, data, 3, out);
}

/* text in charset (iconv name), base64 lines */
static char *b64_in(const char *charset, const char *utf8)
{
	sk_buf b;
	sk_buf_init(&b, 0);
	recode(charset, utf8, &b);
	char *s = g_base64_encode(sk_buf_data(&b), sk_buf_len(&b));
	sk_buf_free(&b);
	return s;
}

/* A .msg rebuilt as .eml is read as a message: the delivered type is eml (the name's
 * extension, the DLP reading), its body, its Subject, a Shift_JIS CSV and an attached
 * message are each read, every finding placed at its part. */
static void dlp_converted(void **state)
{
	(void)state;
	sk_dlp *d = tu_dlp();
	sk_error err;
	sk_report rep;
	/* the body */
	mspec m = {.subject = "申請の件", .body = SECRET};
	tu_run r;
	run_msg(&m, NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_string_equal(r.res.report.out_ext, "eml");
	sk_report_init(&rep);
	assert_int_equal(dlp_on(d, "eml", sk_buf_data(&r.out), sk_buf_len(&r.out), NULL, &rep, &err), 0);
	starts(only_where(&rep, "mynumber"), "part 1 line ");
	assert_int_equal(tu_count(&rep, SK_ACTION_NOTED, "dlp-unscanned"), 0);
	sk_report_free(&rep);
	/* the same bytes scanned as plain text find nothing: the body is base64 */
	sk_report_init(&rep);
	sk_input in;
	sk_input_mem(&in, sk_buf_data(&r.out), sk_buf_len(&r.out));
	assert_int_equal(sk_dlp_report(d, ALL_KINDS, &in, "", &rep, &err), 0);
	assert_int_equal(tu_count(&rep, SK_ACTION_NOTED, "mynumber"), 0);
	sk_report_free(&rep);
	tu_free(&r);

	/* the Subject, a CP932 CSV kept CP932 by the text module, an attached message */
	static const char csv_utf8[] = "氏名,個人番号\r\n山田,3847-5629-1044\r\n";
	sk_buf csv;
	sk_buf_init(&csv, 0);
	recode("CP932", csv_utf8, &csv);
	sk_buf_addc(&csv, 0);
	static const mspec inner = {.subject = "転送", .body = SECRET};
	aspec att[] = {{.name = "一覧.csv", .data = (const char *)sk_buf_data(&csv)},
		       {.name = "転送.msg", .method = 5, .msg = &inner}};
	mspec m2 = {.subject = "個人番号 3847-5629-1044 の件", .body = "本文", .att = att, .natt = 2};
	run_msg(&m2, NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	sk_report_init(&rep);
	assert_int_equal(dlp_on(d, "eml", sk_buf_data(&r.out), sk_buf_len(&r.out), NULL, &rep, &err), 0);
	assert_int_equal(tu_count(&rep, SK_ACTION_NOTED, "mynumber"), 3);
	assert_non_null(tu_find_where(&rep, "一覧.csv line 2:4"));
	starts(tu_find_where(&rep, "一覧.csv line 2:4")->where, "part 2 一覧.csv");
	bool header = false, inner_body = false;
	for (size_t i = 0; i < rep.n; i++) {
		header |= !strncmp(rep.v[i].where, "header line ", 12);
		inner_body |= !strncmp(rep.v[i].where, "part 3.1 line ", 14);
	}
	assert_true(header);
	assert_true(inner_body);
	sk_report_free(&rep);
	tu_free(&r);
	sk_buf_free(&csv);

	/* attached to a mail (the mail channel, attachments sanitised): the .eml it became is
	 * read as a message too */
	sk_buf msg, mail, out;
	make_msg(&m, &msg);
	gchar *b64 = g_base64_encode(sk_buf_data(&msg), sk_buf_len(&msg));
	sk_buf_init(&mail, 0);
	sk_buf_printf(&mail, "From: a@example.jp\nSubject: fwd\nMIME-Version: 1.0\n"
			     "Content-Type: multipart/mixed; boundary=XX\n\n--XX\n\nsee attached\n"
			     "--XX\nContent-Type: application/vnd.ms-outlook\n"
			     "Content-Disposition: attachment; filename=\"orig.msg\"\n"
			     "Content-Transfer-Encoding: base64\n\n%s\n--XX--\n", b64);
	g_free(b64);
	sk_mail_options o;
	sk_mail_options_default(&o);
	assert_int_equal(sk_mail_options_profile(&o, "sanitize"), 0);
	o.dlp = d;
	o.dlp_kinds = ALL_KINDS;
	sk_buf_init(&out, 0);
	sk_mail_result res;
	sk_report_init(&rep);
	assert_int_equal(sk_mail_sanitize(&o, NULL, sk_buf_data(&mail), sk_buf_len(&mail), &out, &res,
					  &rep, &err), 0);
	assert_false(res.held);
	starts(only_where(&rep, "mynumber"), "orig.eml part 1 line ");
	sk_report_free(&rep);
	sk_buf_free(&out);
	sk_buf_free(&mail);
	sk_buf_free(&msg);

	/* without the number: nothing found, nothing unscanned */
	mspec clean = {.subject = "申請の件", .body = "申請者 山田\r\n"};
	run_msg(&clean, NULL, &r);
	sk_report_init(&rep);
	assert_int_equal(dlp_on(d, "eml", sk_buf_data(&r.out), sk_buf_len(&r.out), NULL, &rep, &err), 0);
	assert_int_equal(rep.n, 0);
	sk_report_free(&rep);
	tu_free(&r);
	sk_dlp_free(d);
}

/* Through the gate with a policy (lgwan → internet, dlp mynumber: block): the .msg with
 * the number is blocked dlp, without it delivered as .eml; an .eml file with the number in
 * a base64 ISO-2022-JP part is blocked too; a limit of the reading blocks. */
static void dlp_gate(void **state)
{
	(void)state;
	static const char pol[] =
		"version: 1\n"
		"zones:\n"
		"  mynumber: { networks: [192.0.2.0/25], gateway: { interface: a0, address: 192.0.2.1 } }\n"
		"  lgwan: { networks: [198.51.100.0/24], gateway: { interface: b0, address: 198.51.100.1 } }\n"
		"  internet: { networks: [203.0.113.0/24], gateway: { interface: c0, address: 203.0.113.1 } }\n"
		"flows:\n"
		"  - { id: out, from: lgwan, to: internet, action: { sanitize: default }, dlp: { mynumber: block } }\n";
	sk_policy *p = NULL;
	sk_policy_diags dg;
	sk_policy_diags_init(&dg);
	sk_error err;
	assert_int_equal(sk_policy_parse(pol, sizeof(pol) - 1, sk_policy_date_parse("2025-01-01"), &p,
					 &dg, &err), 0);
	sk_policy_diags_free(&dg);
	sk_options o;
	sk_options_default(&o);
	o.policy = p;
	o.today = sk_policy_date_parse("2025-01-01");
	struct {
		const char *name;
		sk_buf data;
		sk_verdict verdict;
		sk_reason reason;
	} c[4];
	mspec with = {.subject = "申請", .body = SECRET}, without = {.subject = "申請", .body = "申請者 山田\r\n"};
	make_msg(&with, &c[0].data);
	make_msg(&without, &c[1].data);
	char *b64 = b64_in("ISO-2022-JP", SECRET);
	sk_buf_init(&c[2].data, 0);
	sk_buf_printf(&c[2].data, "From: a@city.example.lg.jp\nTo: b@example.com\nSubject: s\n"
				  "MIME-Version: 1.0\nContent-Type: text/plain; charset=ISO-2022-JP\n"
				  "Content-Transfer-Encoding: base64\n\n%s\n", b64);
	g_free(b64);
	/* an .eml whose rebuilt message (forwarded messages attached, rebuilt and re-attached)
	 * the DLP reading finds deeper than the depth limit */
	sk_buf_init(&c[3].data, 0);
	sk_buf_adds(&c[3].data, "Subject: a\nMIME-Version: 1.0\nContent-Type: message/rfc822\n"
				"Content-Disposition: attachment\n\n"
				"Subject: b\nContent-Type: message/rfc822\nContent-Disposition: attachment\n\n"
				"Subject: c\nContent-Type: message/rfc822\nContent-Disposition: attachment\n\n"
				"Subject: d\n\ntext\n");
	c[0].name = "a.msg", c[0].verdict = SK_VERDICT_BLOCKED, c[0].reason = SK_REASON_DLP;
	c[1].name = "b.msg", c[1].verdict = SK_VERDICT_SANITIZED, c[1].reason = SK_REASON_NONE;
	c[2].name = "c.eml", c[2].verdict = SK_VERDICT_BLOCKED, c[2].reason = SK_REASON_DLP;
	c[3].name = "d.eml", c[3].verdict = SK_VERDICT_BLOCKED, c[3].reason = SK_REASON_LIMIT_SIZE;
	for (int i = 0; i < 4; i++) {
		o.budget.max_depth = i == 3 ? 2 : 8;
		tu_run r;
		sk_buf_init(&r.out, 0);
		sk_item item = {.name = c[i].name, .src_zone = "lgwan", .dst_zone = "internet",
				.class_level = "機密性1"};
		sk_input_mem(&item.input, sk_buf_data(&c[i].data), sk_buf_len(&c[i].data));
		sk_output out;
		sk_output_buf(&out, &r.out);
		assert_int_equal(sk_process(&item, &o, &out, &r.res, &err), 0);
		assert_verdict(&r, c[i].verdict);
		if (c[i].reason != SK_REASON_NONE)
			assert_reason(&r, c[i].reason);
		if (i == 1)
			assert_string_equal(r.res.report.out_ext, "eml");
		if (i == 3)
			assert_string_equal(r.res.report.reason_detail, "dlp");
		tu_free(&r);
		sk_buf_free(&c[i].data);
	}
	sk_policy_free(p);
}

/* An .eml file (type eml) is read as a mail reader shows it: parts decoded from base64 and
 * their charsets, encoded words, a docx attached, a picture noted unscanned, an .eml
 * attached as text, message/rfc822; text that is no message is read as text only. */
static void dlp_eml_file(void **state)
{
	(void)state;
	sk_dlp *d = tu_dlp();
	sk_error err;
	sk_report rep;
	char *jis = b64_in("ISO-2022-JP", SECRET), *sjis = b64_in("CP932", SECRET);
	sk_buf docx, png, m;
	make_docx("個人番号 3847-5629-1044", &docx);
	sk_buf_init(&png, 1 << 24);
	tu_read(tu_src("examples/inbox/図.png"), &png);
	char *docx64 = g_base64_encode(sk_buf_data(&docx), sk_buf_len(&docx));
	char *png64 = g_base64_encode(sk_buf_data(&png), sk_buf_len(&png));
	char *subj = b64_in("ISO-2022-JP", "個人番号 3847-5629-1044");
	sk_buf_init(&m, 0);
	sk_buf_printf(&m,
		      "From: a@city.example.lg.jp\r\nTo: b@example.com\r\n"
		      "Subject: =?ISO-2022-JP?B?%s?=\r\nMIME-Version: 1.0\r\n"
		      "Content-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n"
		      "--BB\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n"
		      "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n"
		      "--BB\r\nContent-Type: text/plain; charset=Shift_JIS\r\n"
		      "Content-Disposition: attachment; filename=\"list.txt\"\r\n"
		      "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n"
		      "--BB\r\nContent-Type: application/octet-stream; name=\"a.docx\"\r\n"
		      "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n"
		      "--BB\r\nContent-Type: image/png; name=\"a.png\"\r\n"
		      "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n"
		      "--BB\r\nContent-Type: message/rfc822\r\n\r\n"
		      "Subject: inner\r\nContent-Type: text/plain; charset=Shift_JIS\r\n"
		      "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n"
		      "--BB--\r\n",
		      subj, jis, sjis, docx64, png64, sjis);
	sk_report_init(&rep);
	assert_int_equal(dlp_on(d, "eml", sk_buf_data(&m), sk_buf_len(&m), NULL, &rep, &err), 0);
	assert_int_equal(tu_count(&rep, SK_ACTION_NOTED, "mynumber"), 5);
	assert_non_null(tu_find_where(&rep, "header line 3:15"));
	starts(tu_find_where(&rep, "header line 3:15")->where, "header");
	assert_non_null(tu_find_where(&rep, "part 1 line 2:7"));
	assert_non_null(tu_find_where(&rep, "part 2 list.txt line 2:7"));
	assert_non_null(tu_find_where(&rep, "part 3 a.docx word/document.xml line 1:6"));
	assert_non_null(tu_find_where(&rep, "part 5.1 line 2:7"));
	const sk_report_entry *u = tu_find_where(&rep, "part 4 a.png");
	assert_non_null(u);
	assert_string_equal(u->what, "dlp-unscanned");
	assert_string_equal(u->detail, "png");
	sk_report_free(&rep);

	/* a message saved as text and attached as text/plain opens as a message too */
	sk_buf a;
	sk_buf_init(&a, 0);
	sk_buf_printf(&a, "Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=A\n\n"
			  "--A\nContent-Type: text/plain; charset=UTF-8\n\nsee attached\n"
			  "--A\nContent-Type: text/plain; charset=UTF-8; name=fwd.eml\n\n"
			  "Subject: y\nContent-Type: text/plain; charset=ISO-2022-JP\n"
			  "Content-Transfer-Encoding: base64\n\n%s\n--A--\n", jis);
	sk_report_init(&rep);
	assert_int_equal(dlp_on(d, "eml", sk_buf_data(&a), sk_buf_len(&a), NULL, &rep, &err), 0);
	assert_string_equal(only_where(&rep, "mynumber"), "part 2 fwd.eml part 1 line 2:7");
	sk_report_free(&rep);
	sk_buf_free(&a);

	/* plain text in a 7-bit body: what a mail reader shows, once (a message is not also
	 * read as text) */
	static const char seven[] = "Subject: s\nMIME-Version: 1.0\nContent-Type: text/plain; "
				    "charset=UTF-8\n\n申請者 山田\n個人番号: 3847-5629-1044\n";
	sk_report_init(&rep);
	assert_int_equal(dlp_on(d, "eml", seven, sizeof(seven) - 1, NULL, &rep, &err), 0);
	assert_string_equal(only_where(&rep, "mynumber"), "part 1 line 2:7");
	sk_report_free(&rep);

	/* mixed line ends (CRLF, the base64 line's LF): the part is read whole (GMime alone
	 * would take the last two characters of its base64 off) */
	sk_buf_init(&a, 0);
	sk_buf_printf(&a, "Subject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n"
			  "\r\n--b\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n"
			  "Content-Transfer-Encoding: base64\r\n\r\n%s\n--b--\r\n", jis);
	sk_report_init(&rep);
	assert_int_equal(dlp_on(d, "eml", sk_buf_data(&a), sk_buf_len(&a), NULL, &rep, &err), 0);
	assert_string_equal(only_where(&rep, "mynumber"), "part 1 line 2:7");
	sk_report_free(&rep);
	sk_buf_free(&a);

	/* a message saved from an mbox (its "From " line first) */
	sk_buf_init(&a, 0);
	sk_buf_printf(&a, "From yamada@example.jp Tue Apr  1 10:00:00 2025\nSubject: s\nMIME-Version: 1.0\n"
			  "Content-Type: text/plain; charset=ISO-2022-JP\nContent-Transfer-Encoding: base64\n"
			  "\n%s\n", jis);
	sk_report_init(&rep);
	assert_int_equal(dlp_on(d, "eml", sk_buf_data(&a), sk_buf_len(&a), NULL, &rep, &err), 0);
	assert_string_equal(only_where(&rep, "mynumber"), "part 1 line 2:7");
	sk_report_free(&rep);
	sk_buf_free(&a);

	/* a text that is no message is read as text only */
	static const char memo[] = "From: 山田\nTo: 佐藤\n\n個人番号: 3847-5629-1044\n";
	sk_report_init(&rep);
	assert_int_equal(dlp_on(d, "text", memo, sizeof(memo) - 1, NULL, &rep, &err), 0);
	assert_string_equal(only_where(&rep, "mynumber"), "line 4:7");
	sk_report_free(&rep);

	g_free(jis);
	g_free(sjis);
	g_free(subj);
	g_free(docx64);
	g_free(png64);
	sk_buf_free(&docx);
	sk_buf_free(&png);
	sk_buf_free(&m);
	sk_dlp_free(d);
}

/* Which texts are messages. */
static void dlp_is_message(void **state)
{
	(void)state;
#define IS(s) sk_mail_is_message((const uint8_t *)(s), sizeof(s) - 1)
	assert_true(IS("From: a@b\nSubject: s\nMIME-Version: 1.0\n\nbody\n"));
	assert_true(IS("Subject: s\r\nContent-Type: text/plain;\r\n charset=UTF-8\r\n\r\nbody"));
	assert_true(IS("Subject: =?UTF-8?B?5Y2w?=\n\nbody\n"));
	assert_true(IS("From someone@example.jp Tue Apr  1 10:00:00 2025\nContent-Type: text/plain\n\nx\n"));
	assert_true(IS("content-transfer-encoding: base64\n")); /* a header alone, naming MIME */
	assert_false(IS("From: a@b\nSubject: s\n\nbody\n"));     /* RFC 822 without MIME: text */
	/* a header block that a line not a field ends (the empty line missing) */
	assert_true(IS("Subject: s\nContent-Type: multipart/mixed;\n boundary=b\n--b\n\nx\n--b--\n"));
	assert_true(IS("Subject: s\nMIME-Version: 1.0\n \nbody\n"));
	assert_false(IS("Subject: s\nTo: t\nbody\n"));
	assert_false(IS("Content-Type text/plain\n\nx\n"));      /* no colon */
	assert_false(IS("Content Type: text/plain\n\nx\n"));     /* a space in the name */
	assert_false(IS(" Content-Type: text/plain\n\nx\n"));    /* a continuation of nothing */
	assert_false(IS("\nContent-Type: text/plain\n"));        /* an empty header block */
	assert_false(IS("Subject: s\n"));
	assert_false(IS(""));
	assert_false(IS("申請者: 山田\nContent-Type: x\n\n"));  /* 8-bit field name */
#undef IS
	/* a header block longer than the look is taken as one; plain fields alone are not */
	sk_buf b;
	sk_buf_init(&b, 0);
	while (sk_buf_len(&b) <= SK_MAIL_SNIFF)
		sk_buf_adds(&b, "Received: from a by b; Tue, 1 Apr 2025 10:00:00 +0900\n");
	assert_true(sk_mail_is_message(sk_buf_data(&b), sk_buf_len(&b)));
	assert_false(sk_mail_is_message(sk_buf_data(&b), SK_MAIL_SNIFF - 100));
	sk_buf_free(&b);
}

/* sk_cdr_dlp on text (as type code) under b: 0 when why is NULL, else SK_ELIMIT with why
 * in the error */
static void limited(const sk_dlp *d, const char *code, const char *text, const sk_budget *b,
		    const char *why)
{
	sk_report rep;
	sk_report_init(&rep);
	sk_error err;
	int rc = dlp_on(d, code, text, strlen(text), b, &rep, &err);
	if (why) {
		assert_int_equal(rc, SK_ELIMIT);
		tu_has(err.msg, why);
	} else {
		assert_int_equal(rc, 0);
	}
	sk_report_free(&rep);
}

static sk_budget started(void)
{
	sk_budget b;
	sk_budget_default(&b);
	sk_budget_start(&b);
	return b;
}

/* Every limit of the reading blocks (an error, never a clean result): parts, decoded
 * bytes, depth (of attached messages, and of a message attached as text, which gets what
 * is left), time, a message GMime cannot make. */
static void dlp_limits(void **state)
{
	(void)state;
	sk_dlp *d = tu_dlp();
	static const char three[] = "Subject: s\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=B\n\n"
				    "--B\n\none\n--B\n\ntwo\n--B\n\nthree\n--B--\n";
	/* parts: the multipart and its three parts are four entries; what the rebuild used is
	 * not the reading's */
	sk_budget b = started();
	b.entries = b.max_entries = 3;
	limited(d, "eml", three, &b, "limit-entries");
	b.max_entries = 4;
	limited(d, "eml", three, &b, NULL);
	/* decoded bytes: the header text (11), then each part */
	b = started();
	b.max_expanded = 20;
	limited(d, "eml", three, &b, "limit-size");
	b.max_expanded = 200;
	limited(d, "eml", three, &b, NULL);
	/* depth: the innermost text of three attached messages is at depth 4 */
	static const char deep[] = "Subject: a\nMIME-Version: 1.0\nContent-Type: message/rfc822\n\n"
				   "Subject: b\nContent-Type: message/rfc822\n\n"
				   "Subject: c\nContent-Type: message/rfc822\n\n"
				   "Subject: d\n\ntext\n";
	b = started();
	b.max_depth = 3;
	limited(d, "eml", deep, &b, "part 1.1.1.1: limit-depth");
	b.max_depth = 4;
	limited(d, "eml", deep, &b, NULL);
	/* a message attached as text: its part is one level below the attachment (at 1), and
	 * its reading has the entries the outer one left */
	static const char astext[] = "Subject: s\nMIME-Version: 1.0\nContent-Type: text/plain; name=x.eml\n\n"
				     "Subject: t\nMIME-Version: 1.0\nContent-Type: text/plain\n\ninner\n";
	b = started();
	b.max_depth = 1;
	limited(d, "eml", astext, &b, "limit-depth");
	b.max_depth = 2;
	limited(d, "eml", astext, &b, NULL);
	b = started();
	b.max_entries = 1;
	limited(d, "eml", astext, &b, "limit-entries");
	b.max_entries = 2;
	limited(d, "eml", astext, &b, NULL);
	/* time: a reading past its deadline */
	tu_budget(&b, true);
	limited(d, "eml", three, &b, "limit-time");
	/* nothing GMime makes a message of: an error, not a clean reading */
	sk_report rep;
	sk_report_init(&rep);
	sk_error err;
	assert_int_equal(dlp_on(d, "eml", "", 0, NULL, &rep, &err), SK_EFORMAT);
	sk_report_free(&rep);
	sk_dlp_free(d);
}

int main(void)
{
	sk_mail_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unicode_message),
		cmocka_unit_test(codepages),
		cmocka_unit_test(html_body),
		cmocka_unit_test(lzfu_cases),
		cmocka_unit_test(rtf_cases),
		cmocka_unit_test(rtf_body),
		cmocka_unit_test(attachments),
		cmocka_unit_test(nested),
		cmocka_unit_test(smime),
		cmocka_unit_test(depth_and_fatal),
		cmocka_unit_test(limits),
		cmocka_unit_test(malformed),
		cmocka_unit_test(corpus),
		cmocka_unit_test(dlp_converted),
		cmocka_unit_test(dlp_gate),
		cmocka_unit_test(dlp_eml_file),
		cmocka_unit_test(dlp_is_message),
		cmocka_unit_test(dlp_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
