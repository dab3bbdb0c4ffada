/* An .eml file (a message given as a file): detected as "eml", rebuilt by the eml module
 * through the mail engine, attachments through the registry under the item's budget. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>
#include <gmime/gmime.h>

#include "sekisho/cdr.h"
#include "sekisho/detect.h"
#include "sekisho/mail.h"
#include "testutil.h"

/* ---- making inputs ----------------------------------------------------------------------- */

/* A Word document with a VBA project (a docm). */
static void make_docm(sk_buf *out)
{
	static const char *const names[] = {"[Content_Types].xml", "_rels/.rels", "word/document.xml",
					    "word/_rels/document.xml.rels", "word/vbaProject.bin"};
	static const char *const data[] = {
		"<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
		"<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
		"<Default Extension=\"bin\" ContentType=\"application/vnd.ms-office.vbaProject\"/>"
		"<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.ms-word.document."
		"macroEnabled.main+xml\"/></Types>",
		"<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
		"<Relationship Id=\"r1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/"
		"relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>",
		"<?xml version=\"1.0\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/"
		"wordprocessingml/2006/main\"><w:body><w:p><w:r><w:t>見積書</w:t></w:r></w:p></w:body>"
		"</w:document>",
		"<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
		"<Relationship Id=\"rId9\" Type=\"http://schemas.microsoft.com/office/2006/relationships/"
		"vbaProject\" Target=\"vbaProject.bin\"/></Relationships>",
		"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 not really a VBA project, but named one",
	};
	tu_zip(names, data, 5, out);
}

static char *b64(const void *p, size_t n)
{
	return g_base64_encode(p, n);
}

/* A multipart/mixed message: a text/plain ISO-2022-JP body (base64), then one attachment
 * name = data (base64); nl the line end. */
static void make_eml(const char *nl, const char *name, const void *data, size_t n, sk_buf *out)
{
	static const char body[] = "請求書を添付します。\n";
	gsize w = 0;
	gchar *jis = g_convert(body, -1, "ISO-2022-JP", "UTF-8", NULL, &w, NULL);
	assert_non_null(jis);
	char *bb = b64(jis, w), *ab = b64(data, n);
	sk_buf_init(out, 0);
	sk_buf_printf(out,
		      "From: sender@example.com%sTo: staff@city.example.lg.jp%s"
		      "Subject: =?ISO-2022-JP?B?GyRCQEE1YT1xGyhC?=%sMIME-Version: 1.0%s"
		      "Content-Type: multipart/mixed; boundary=\"BB\"%s%s"
		      "--BB%sContent-Type: text/plain; charset=ISO-2022-JP%s"
		      "Content-Transfer-Encoding: base64%s%s%s%s"
		      "--BB%sContent-Type: application/octet-stream; name=\"%s\"%s"
		      "Content-Disposition: attachment; filename=\"%s\"%s"
		      "Content-Transfer-Encoding: base64%s%s%s%s--BB--%s",
		      nl, nl, nl, nl, nl, nl, nl, nl, nl, nl, bb, nl, nl, name, nl, name, nl, nl, nl, ab,
		      nl, nl);
	g_free(jis);
	g_free(bb);
	g_free(ab);
}

static const char EXE[] = "MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF\0\0This program cannot be run in DOS mode";

/* The message out parses, its text bodies (UTF-8, those of attached messages too) into
 * text; the attachments' names and content types joined by '|' into names. */
static void read_back(const sk_buf *out, sk_buf *text, sk_buf *names)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer((const char *)sk_buf_data(out), sk_buf_len(out));
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
	assert_non_null(m);
	sk_buf_init(text, 0);
	sk_buf_init(names, 0);
	GMimePartIter *it = g_mime_part_iter_new(GMIME_OBJECT(m));
	do {
		GMimeObject *o = g_mime_part_iter_get_current(it);
		if (o && GMIME_IS_MESSAGE_PART(o)) { /* an attached message (its parts follow) */
			const char *fn = g_mime_object_get_content_disposition_parameter(o, "filename");
			sk_buf_printf(names, "%s%s message/rfc822", sk_buf_len(names) ? "|" : "",
				      fn ? fn : "?");
			continue;
		}
		if (!o || !GMIME_IS_PART(o))
			continue;
		GMimePart *part = GMIME_PART(o);
		const char *fn = g_mime_part_get_filename(part);
		GMimeContentType *ct = g_mime_object_get_content_type(o);
		if (fn) {
			char *mt = g_mime_content_type_get_mime_type(ct);
			sk_buf_printf(names, "%s%s %s", sk_buf_len(names) ? "|" : "", fn, mt);
			g_free(mt);
			continue;
		}
		GMimeStream *ms = g_mime_stream_mem_new();
		g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(part), ms);
		GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
		assert_int_equal(sk_mail_decode_text(ba->data, ba->len,
						     g_mime_content_type_get_parameter(ct, "charset"),
						     text, NULL), 0);
		g_object_unref(ms);
	} while (g_mime_part_iter_next(it));
	g_mime_part_iter_free(it);
	g_object_unref(m);
	g_object_unref(p);
	g_object_unref(st);
}

static const char *type_of(const char *s, const char *name)
{
	sk_input in;
	sk_input_mem(&in, s, strlen(s));
	static sk_type t;
	sk_error err;
	assert_int_equal(sk_detect(&in, name, &t, &err), 0);
	return t.code;
}

/* ---- tests ------------------------------------------------------------------------------- */

/* What is a message: a header block naming MIME or holding an encoded word (after an
 * mbox line), or any text named .eml; not a note that starts "From: ". */
static void detect_message(void **state)
{
	(void)state;
	assert_string_equal(type_of("From: a@b\nSubject: s\nMIME-Version: 1.0\n\nbody\n", "a.txt"), "eml");
	assert_string_equal(type_of("Subject: =?UTF-8?B?5Y2w?=\n\nbody\n", NULL), "eml");
	assert_string_equal(type_of("From a@b Tue Apr  1 10:00:00 2025\nContent-Type: text/plain\n\nx\n", NULL), "eml");
	/* HTML or CSV inside: still the message */
	assert_string_equal(type_of("Subject: s\nContent-Type: text/html\n\n<html><script>x</script>\n", NULL), "eml");
	assert_string_equal(type_of("Subject: s\nMIME-Version: 1.0\n\na,b,c\n1,2,3\n4,5,6\n", "x.csv"), "eml");
	/* no MIME: text (a note, an RFC 822 message without MIME under another name) */
	assert_string_equal(type_of("From: 山田\nTo: 佐藤\n\n会議のメモです。\n", "memo.txt"), "text");
	assert_string_equal(type_of("From: a@b\nSubject: s\n\nbody\n", NULL), "text");
	/* named .eml: a mail reader opens it, so it is read as a message */
	assert_string_equal(type_of("From: a@b\nSubject: s\n\nbody\n", "a.eml"), "eml");
	assert_string_equal(type_of("hello\n", "A.EML"), "eml");
	/* the type's kind and a name that says text (or .eml) is no mismatch */
	const sk_type *t = sk_type_find("eml");
	assert_int_equal(t->kind, SK_KIND_MESSAGE);
	assert_false(sk_name_mismatch("a.txt", t));
	assert_false(sk_name_mismatch("a.eml", t));
	assert_true(sk_name_mismatch("a.png", t));
	sk_type text = *sk_type_find("text");
	assert_false(sk_name_mismatch("a.eml", &text));
	/* a header block padded past the 64 KiB head before it names MIME: read further */
	sk_buf b;
	sk_buf_init(&b, 0);
	while (sk_buf_len(&b) < 100000)
		sk_buf_adds(&b, "X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
	sk_buf_adds(&b, "MIME-Version: 1.0\nContent-Type: text/plain\n\nx\n");
	assert_string_equal(type_of(sk_buf_str(&b), "pad.txt"), "eml");
	/* plain fields that long, with no MIME: text */
	sk_buf_reset(&b);
	while (sk_buf_len(&b) < 100000)
		sk_buf_adds(&b, "Key: value value value value value value value value value\n");
	sk_buf_adds(&b, "\nbody\n");
	assert_string_equal(type_of(sk_buf_str(&b), "list.txt"), "text");
	sk_buf_free(&b);
}

/* An executable attachment is removed and listed; the body (ISO-2022-JP) and subject kept;
 * the result is a message (.eml). */
static void exe_removed(void **state)
{
	(void)state;
	static const char *const nls[] = {"\r\n", "\n"};
	for (int i = 0; i < 2; i++) {
		sk_buf m, text, names;
		make_eml(nls[i], "invoice.exe", EXE, sizeof(EXE) - 1, &m);
		tu_run r;
		tu_process(sk_buf_data(&m), sk_buf_len(&m), "mail.eml", NULL, &r);
		assert_string_equal(r.res.type.code, "eml");
		assert_verdict(&r, SK_VERDICT_SANITIZED);
		assert_string_equal(r.res.report.out_ext, "eml");
		const sk_report_entry *e = tu_find_where(&r.res.report, "invoice.exe");
		assert_non_null(e);
		assert_int_equal(e->action, SK_ACTION_REMOVED);
		assert_string_equal(e->detail, "executable");
		tu_hasnt(sk_buf_str(&r.out), "TVqQ"); /* "MZ\x90" in base64 */
		read_back(&r.out, &text, &names);
		assert_int_equal(sk_buf_len(&names), 0);
		tu_has(sk_buf_str(&text), "請求書を添付します。");
		tu_has(sk_buf_str(&text), "invoice.exe");
		tu_has(sk_buf_str(&text), "[executable]");
		/* the subject read back: 請求書 */
		tu_has(sk_buf_str(&r.out), "\nSubject: =?UTF-8?B?6KuL5rGC5pu4?=");
		sk_buf_free(&text);
		sk_buf_free(&names);
		tu_free(&r);
		sk_buf_free(&m);
	}
}

/* A docm attached: rebuilt as a docx without its VBA project and re-attached. */
static void docm_sanitised(void **state)
{
	(void)state;
	sk_buf d, m, text, names;
	make_docm(&d);
	make_eml("\r\n", "見積.docm", sk_buf_data(&d), sk_buf_len(&d), &m);
	tu_run r;
	tu_process(sk_buf_data(&m), sk_buf_len(&m), "見積.eml", NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_non_null(tu_find_where(&r.res.report, "見積.docm"));
	read_back(&r.out, &text, &names);
	assert_string_equal(sk_buf_str(&names),
			    "見積.docx application/vnd.openxmlformats-officedocument.wordprocessingml.document");
	/* the attachment as delivered: no VBA */
	GMimeStream *st = g_mime_stream_mem_new_with_buffer((const char *)sk_buf_data(&r.out), sk_buf_len(&r.out));
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	GMimeMessage *msg = g_mime_parser_construct_message(p, NULL);
	GMimeObject *att = g_mime_multipart_get_part(GMIME_MULTIPART(g_mime_message_get_mime_part(msg)), 1);
	GMimeStream *ms = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(GMIME_PART(att)), ms);
	GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *zs = zip_source_buffer_create(ba->data, ba->len, 0, &ze);
	zip_t *za = zip_open_from_source(zs, ZIP_RDONLY, &ze);
	assert_non_null(za);
	assert_true(zip_name_locate(za, "word/document.xml", 0) >= 0);
	assert_true(zip_name_locate(za, "word/vbaProject.bin", 0) < 0);
	zip_close(za);
	g_object_unref(ms);
	g_object_unref(msg);
	g_object_unref(p);
	g_object_unref(st);
	sk_buf_free(&text);
	sk_buf_free(&names);
	tu_free(&r);
	sk_buf_free(&m);
	sk_buf_free(&d);
}

/* HTML only: a text body, no markup or script, links neutralised. */
static void html_only(void **state)
{
	(void)state;
	static const char m[] =
		"From: a@example.com\nSubject: html\nMIME-Version: 1.0\n"
		"Content-Type: text/html; charset=UTF-8\n\n"
		"<html><body><p>お知らせ</p><script>alert('x')</script>"
		"<a href=\"https://evil.example/x\">こちら</a></body></html>\n";
	tu_run r;
	tu_process(m, sizeof(m) - 1, "n.eml", NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	sk_buf text, names;
	read_back(&r.out, &text, &names);
	tu_has(sk_buf_str(&text), "お知らせ");
	tu_has(sk_buf_str(&text), "hxxps://evil[.]example/x");
	tu_hasnt(sk_buf_str(&text), "alert");
	tu_hasnt(sk_buf_str(&r.out), "<script");
	tu_hasnt(sk_buf_str(&r.out), "text/html");
	sk_buf_free(&text);
	sk_buf_free(&names);
	tu_free(&r);
}

/* A note that starts "From: " stays text, delivered as it is. */
static void note_is_text(void **state)
{
	(void)state;
	static const char note[] = "From: 山田\nTo: 佐藤\n\n会議のメモです。\n";
	tu_run r;
	tu_process(note, sizeof(note) - 1, "memo.txt", NULL, &r);
	assert_string_equal(r.res.type.code, "text");
	assert_verdict(&r, SK_VERDICT_CLEAN);
	assert_int_equal(sk_buf_len(&r.out), sizeof(note) - 1);
	tu_free(&r);
}

/* Fail closed: a message cut short, conflicting headers, GMime making nothing of it, and
 * every limit block the item. */
static void blocked(void **state)
{
	(void)state;
	sk_buf m;
	make_eml("\r\n", "invoice.exe", EXE, sizeof(EXE) - 1, &m);
	sk_budget b;
	/* cut in the attachment: no closing boundary */
	tu_budget(&b, false);
	assert_int_equal(tu_direct(sk_buf_data(&m), sk_buf_len(&m) * 3 / 4, "cut.eml", &b, NULL),
			 SK_REASON_MALFORMED);
	/* two Content-Type headers readers may take two ways */
	static const char two[] = "Subject: s\nMIME-Version: 1.0\nContent-Type: text/plain\n"
				  "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\n";
	tu_budget(&b, false);
	assert_int_equal(tu_direct(two, sizeof(two) - 1, "two.eml", &b, NULL), SK_REASON_MALFORMED);
	/* a multipart without its boundary */
	static const char nob[] = "Subject: s\nMIME-Version: 1.0\nContent-Type: multipart/mixed\n\nx\n";
	tu_budget(&b, false);
	assert_int_equal(tu_direct(nob, sizeof(nob) - 1, "nob.eml", &b, NULL), SK_REASON_MALFORMED);
	/* limits of the item's budget: entries (the attachment), time, expanded bytes */
	tu_budget(&b, false);
	b.max_entries = 0;
	assert_int_equal(tu_direct(sk_buf_data(&m), sk_buf_len(&m), "m.eml", &b, NULL),
			 SK_REASON_LIMIT_ENTRIES);
	tu_budget(&b, true);
	assert_int_equal(tu_direct(sk_buf_data(&m), sk_buf_len(&m), "m.eml", &b, NULL),
			 SK_REASON_LIMIT_TIME);
	tu_budget(&b, false);
	b.max_expanded = 10;
	assert_int_equal(tu_direct(sk_buf_data(&m), sk_buf_len(&m), "m.eml", &b, NULL),
			 SK_REASON_LIMIT_SIZE);
	/* and under enough of each: delivered */
	tu_budget(&b, false);
	assert_int_equal(tu_direct(sk_buf_data(&m), sk_buf_len(&m), "m.eml", &b, NULL), SK_REASON_NONE);
	sk_buf_free(&m);
}

/* Nested: an .eml in a ZIP is rebuilt there (its attachment's place under the ZIP's
 * path); its attachments are one level below it in the item's depth; a message attached
 * to a message as a file is rebuilt the same way. */
static void nested(void **state)
{
	(void)state;
	sk_buf d, m, z;
	make_docm(&d);
	make_eml("\n", "a.docm", sk_buf_data(&d), sk_buf_len(&d), &m);
	const char *names[] = {"dir/m.eml"};
	const char *data[] = {sk_buf_str(&m)};
	tu_zip(names, data, 1, &z);
	tu_run r;
	tu_process(sk_buf_data(&z), sk_buf_len(&z), "z.zip", NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	const sk_report_entry *e = tu_find_where(&r.res.report, "dir/m.eml/a.docm");
	assert_non_null(e);
	tu_free(&r);
	/* the .eml in the ZIP is at depth 1, the docm attached to it at depth 2 (not 1: the
	 * message's attachments are below the item, wherever it is): a depth limit of 1
	 * blocks it, and with it the ZIP (a limit is fatal) */
	sk_budget b;
	tu_budget(&b, false);
	b.max_depth = 1;
	assert_int_equal(tu_direct(sk_buf_data(&z), sk_buf_len(&z), "z.zip", &b, NULL), SK_REASON_LIMIT_DEPTH);
	tu_budget(&b, false);
	b.max_depth = 2;
	assert_int_equal(tu_direct(sk_buf_data(&z), sk_buf_len(&z), "z.zip", &b, NULL), SK_REASON_NONE);
	/* a message attached as a file (application/octet-stream, .eml): rebuilt, attached
	 * as message/rfc822, its exe removed */
	sk_buf inner, outer, text, an;
	make_eml("\n", "invoice.exe", EXE, sizeof(EXE) - 1, &inner);
	make_eml("\n", "fwd.eml", sk_buf_data(&inner), sk_buf_len(&inner), &outer);
	tu_process(sk_buf_data(&outer), sk_buf_len(&outer), "o.eml", NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	e = tu_find_where(&r.res.report, "fwd.eml/invoice.exe");
	assert_non_null(e);
	assert_string_equal(e->detail, "executable");
	read_back(&r.out, &text, &an);
	assert_string_equal(sk_buf_str(&an), "fwd.eml message/rfc822");
	tu_hasnt(sk_buf_str(&r.out), "TVqQ");
	sk_buf_free(&text);
	sk_buf_free(&an);
	tu_free(&r);
	sk_buf_free(&inner);
	sk_buf_free(&outer);
	sk_buf_free(&z);
	sk_buf_free(&m);
	sk_buf_free(&d);
}

/* A password ZIP attached: held as in mail (the action the unlock looks for), the message
 * delivered without it. */
static void ppap_held(void **state)
{
	(void)state;
	sk_buf z, m;
	sk_buf_init(&z, 0);
	tu_read(tu_src("examples/inbox/見積書_パスワード付き.zip"), &z);
	make_eml("\r\n", "見積.zip", sk_buf_data(&z), sk_buf_len(&z), &m);
	tu_run r;
	tu_process(sk_buf_data(&m), sk_buf_len(&m), "p.eml", NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_int_equal(tu_count(&r.res.report, SK_ACTION_REMOVED, "encrypted-attachment"), 1);
	sk_buf text, names;
	read_back(&r.out, &text, &names);
	assert_int_equal(sk_buf_len(&names), 0);
	tu_has(sk_buf_str(&text), "見積.zip");
	sk_buf_free(&text);
	sk_buf_free(&names);
	tu_free(&r);
	sk_buf_free(&m);
	sk_buf_free(&z);
}

int main(void)
{
	sk_mail_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(detect_message),
		cmocka_unit_test(exe_removed),
		cmocka_unit_test(docm_sanitised),
		cmocka_unit_test(html_only),
		cmocka_unit_test(note_is_text),
		cmocka_unit_test(blocked),
		cmocka_unit_test(nested),
		cmocka_unit_test(ppap_held),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
