/* The OOXML module: Word, Excel and PowerPoint packages (docx/xlsx/pptx, their templates
 * and macro-enabled variants), rebuilt from an allow-list of parts.
 *
 * How a package is rebuilt:
 *  1. the ZIP is opened and every entry checked through sekisho/zipio.h before anything is
 *     decompressed (libzip and our walk of the central directory agree, local headers
 *     inside the input and not overlapping; budget: entries, encryption, declared ratio
 *     and sizes), then part names (raw, UTF-8, safe; case-insensitive duplicates); parts
 *     are read with sk_zipio_read_cb under the item's budget, an XML part refused as
 *     soon as its markup starts pass the node limit;
 *  2. [Content_Types].xml is read; when it is missing or malformed the content types are
 *     inferred from the part names (repair);
 *  3. the relationship graph is walked from _rels/.rels: a part is kept only when a kept
 *     relationship reaches it and its content type is on the allow-list. Relationships to
 *     macros, ActiveX, OLE, custom UI, templates, external links, data connections, macro
 *     sheets, every external target but http/https/mailto hyperlinks, and dangling ones
 *     are removed; images go through the image module (sk_cdr_child);
 *  4. XML parts are parsed with libxml2 (no network, no DTD, no entities) and cleaned:
 *     references to removed relationships, OLE/ActiveX elements, DDE and include fields,
 *     DDE and external-link formulas, program-launching actions; metadata, comments and
 *     tracked changes as the profile says. A part that did not change is copied with its
 *     compressed bytes as they are (when zipio said they are exactly the stream of what
 *     was read); a changed one is re-serialised;
 *  5. [Content_Types].xml is written anew from the parts kept, macro-enabled main types
 *     becoming their macro-free type (docm → docx …). */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <zip.h>

#include "cdr_modules.h"
#include "sekisho/hash.h"
#include "sekisho/name.h"
#include "sekisho/xml.h"
#include "sekisho/zipio.h"

/* ---- namespaces and tables ----------------------------------------------------- */

#define NS_CT "http://schemas.openxmlformats.org/package/2006/content-types"
#define NS_PR "http://schemas.openxmlformats.org/package/2006/relationships"
#define NS_R_T "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define NS_R_S "http://purl.oclc.org/ooxml/officeDocument/relationships"
#define NS_O "urn:schemas-microsoft-com:office:office"
#define NS_W_T "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#define NS_W_S "http://purl.oclc.org/ooxml/wordprocessingml/main"
#define NS_X_T "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
#define NS_X_S "http://purl.oclc.org/ooxml/spreadsheetml/main"
#define NS_DC "http://purl.org/dc/elements/1.1/"

#define CT_RELS "application/vnd.openxmlformats-package.relationships+xml"
#define CT_CORE "application/vnd.openxmlformats-package.core-properties+xml"
#define CT_APP "application/vnd.openxmlformats-officedocument.extended-properties+xml"
#define OD "application/vnd.openxmlformats-officedocument."
#define WML OD "wordprocessingml."
#define SML OD "spreadsheetml."
#define PML OD "presentationml."

/* Main document content types: what each becomes and the extension of the result. */
struct main_type {
	const char *ct, *clean, *ext, *from;
};
static const struct main_type main_types[] = {
	{WML "document.main+xml", WML "document.main+xml", "docx", NULL},
	{"application/vnd.ms-word.document.macroEnabled.main+xml", WML "document.main+xml", "docx", "docm"},
	{WML "template.main+xml", WML "template.main+xml", "dotx", NULL},
	{"application/vnd.ms-word.template.macroEnabledTemplate.main+xml", WML "template.main+xml", "dotx", "dotm"},
	{SML "sheet.main+xml", SML "sheet.main+xml", "xlsx", NULL},
	{"application/vnd.ms-excel.sheet.macroEnabled.main+xml", SML "sheet.main+xml", "xlsx", "xlsm"},
	{SML "template.main+xml", SML "template.main+xml", "xltx", NULL},
	{"application/vnd.ms-excel.template.macroEnabled.main+xml", SML "template.main+xml", "xltx", "xltm"},
	{PML "presentation.main+xml", PML "presentation.main+xml", "pptx", NULL},
	{"application/vnd.ms-powerpoint.presentation.macroEnabled.main+xml", PML "presentation.main+xml", "pptx", "pptm"},
	{PML "slideshow.main+xml", PML "slideshow.main+xml", "ppsx", NULL},
	{"application/vnd.ms-powerpoint.slideshow.macroEnabled.main+xml", PML "slideshow.main+xml", "ppsx", "ppsm"},
	{PML "template.main+xml", PML "template.main+xml", "potx", NULL},
	{"application/vnd.ms-powerpoint.template.macroEnabled.main+xml", PML "template.main+xml", "potx", "potm"},
};

/* XML parts we parse, clean and keep (besides the main part). */
static const char *const xml_types[] = {
	CT_CORE,
	CT_APP,
	OD "custom-properties+xml",
	OD "customXmlProperties+xml",
	"application/xml",
	"text/xml",
	OD "theme+xml",
	OD "themeOverride+xml",
	OD "drawing+xml",
	OD "drawingml.chart+xml",
	OD "drawingml.chartshapes+xml",
	OD "drawingml.diagramColors+xml",
	OD "drawingml.diagramData+xml",
	OD "drawingml.diagramLayout+xml",
	OD "drawingml.diagramStyle+xml",
	"application/vnd.ms-office.drawingml.diagramDrawing+xml",
	"application/vnd.ms-office.chartstyle+xml",
	"application/vnd.ms-office.chartcolorstyle+xml",
	"application/vnd.ms-office.chartex+xml",
	OD "vmlDrawing",
	WML "document.main+xml",
	WML "template.main+xml",
	WML "styles+xml",
	WML "settings+xml",
	WML "webSettings+xml",
	WML "fontTable+xml",
	WML "numbering+xml",
	WML "footnotes+xml",
	WML "endnotes+xml",
	WML "comments+xml",
	WML "header+xml",
	WML "footer+xml",
	WML "document.glossary+xml",
	WML "commentsExtended+xml",
	WML "commentsIds+xml",
	WML "commentsExtensible+xml",
	WML "people+xml",
	"application/vnd.ms-word.stylesWithEffects+xml",
	SML "sheet.main+xml",
	SML "template.main+xml",
	SML "worksheet+xml",
	SML "chartsheet+xml",
	SML "sharedStrings+xml",
	SML "styles+xml",
	SML "calcChain+xml",
	SML "table+xml",
	SML "pivotTable+xml",
	SML "pivotCacheDefinition+xml",
	SML "pivotCacheRecords+xml",
	SML "comments+xml",
	SML "tableSingleCells+xml",
	SML "sheetMetadata+xml",
	SML "revisionHeaders+xml",
	SML "revisionLog+xml",
	SML "userNames+xml",
	"application/vnd.ms-excel.threadedcomments+xml",
	"application/vnd.ms-excel.person+xml",
	"application/vnd.ms-excel.slicer+xml",
	"application/vnd.ms-excel.slicerCache+xml",
	"application/vnd.ms-excel.timeline+xml",
	"application/vnd.ms-excel.timelineCache+xml",
	PML "presentation.main+xml",
	PML "slideshow.main+xml",
	PML "template.main+xml",
	PML "slide+xml",
	PML "slideLayout+xml",
	PML "slideMaster+xml",
	PML "notesSlide+xml",
	PML "notesMaster+xml",
	PML "handoutMaster+xml",
	PML "presProps+xml",
	PML "viewProps+xml",
	PML "tableStyles+xml",
	PML "commentAuthors+xml",
	PML "comments+xml",
	PML "tags+xml",
	"application/vnd.ms-powerpoint.comments+xml",
	"application/vnd.ms-powerpoint.authors+xml",
};

/* Content types that are active content, whatever refers to them. */
struct danger {
	const char *ct, *what;
};
static const struct danger danger_types[] = {
	{"application/vnd.ms-office.vbaProject", "macro"},
	{"application/vnd.ms-office.vbaProjectSignature", "macro"},
	{"application/vnd.ms-office.vbaProjectSignatureAgile", "macro"},
	{"application/vnd.ms-office.vbaProjectSignatureV3", "macro"},
	{"application/vnd.ms-word.vbaData+xml", "macro"},
	{"application/vnd.ms-word.keyMapCustomizations+xml", "macro"},
	{"application/vnd.ms-word.attachedToolbars", "macro"},
	{"application/vnd.ms-office.activeX+xml", "activex"},
	{"application/vnd.ms-office.activeX", "activex"},
	{"application/vnd.ms-excel.controlproperties+xml", "activex"},
	{OD "oleObject", "ole-object"},
	{SML "externalLink+xml", "external-link"},
	{SML "connections+xml", "data-connection"},
	{SML "queryTable+xml", "data-connection"},
	{SML "dialogsheet+xml", "macro-sheet"},
	{"application/vnd.ms-excel.macrosheet+xml", "macro-sheet"},
	{"application/vnd.ms-excel.intlmacrosheet+xml", "macro-sheet"},
	{"application/vnd.ms-excel.macrosheet", "macro-sheet"},
	{"application/vnd.ms-excel.intlmacrosheet", "macro-sheet"},
};

/* Relationship types (the last segment of the Type URI, so that transitional, strict
 * and Microsoft namespaces match alike) removed with what they point at. */
enum { R_ALWAYS, R_META, R_COMMENTS, R_REVISIONS };
struct rel_rule {
	const char *suffix, *what;
	int when;
};
static const struct rel_rule rel_rules[] = {
	{"vbaProject", "macro", R_ALWAYS},
	{"vbaProjectSignature", "macro", R_ALWAYS},
	{"vbaProjectSignatureAgile", "macro", R_ALWAYS},
	{"vbaProjectSignatureV3", "macro", R_ALWAYS},
	{"wordVbaData", "macro", R_ALWAYS},
	{"keyMapCustomizations", "macro", R_ALWAYS},
	{"attachedToolbars", "macro", R_ALWAYS},
	{"control", "activex", R_ALWAYS},
	{"activeXControlBinary", "activex", R_ALWAYS},
	{"ctrlProp", "activex", R_ALWAYS},
	{"oleObject", "ole-object", R_ALWAYS},
	{"package", "ole-object", R_ALWAYS},
	{"aFChunk", "embedded-file", R_ALWAYS},
	{"extensibility", "custom-ui", R_ALWAYS},
	{"userCustomization", "custom-ui", R_ALWAYS},
	{"webextension", "custom-ui", R_ALWAYS},
	{"webextensiontaskpanes", "custom-ui", R_ALWAYS},
	{"attachedTemplate", "attached-template", R_ALWAYS},
	{"externalLink", "external-link", R_ALWAYS},
	{"externalLinkPath", "external-link", R_ALWAYS},
	{"xlExternalLinkPath", "external-link", R_ALWAYS},
	{"xlPathMissing", "external-link", R_ALWAYS},
	{"xlStartup", "external-link", R_ALWAYS},
	{"xlAlternateStartup", "external-link", R_ALWAYS},
	{"xlLibrary", "external-link", R_ALWAYS},
	{"subDocument", "external-link", R_ALWAYS},
	{"slideUpdateInfo", "external-link", R_ALWAYS},
	{"slideUpdateUrl", "external-link", R_ALWAYS},
	{"connections", "data-connection", R_ALWAYS},
	{"queryTable", "data-connection", R_ALWAYS},
	{"mailMergeSource", "data-connection", R_ALWAYS},
	{"mailMergeHeaderSource", "data-connection", R_ALWAYS},
	{"recipientData", "data-connection", R_ALWAYS},
	{"xlMacrosheet", "macro-sheet", R_ALWAYS},
	{"xlIntlMacrosheet", "macro-sheet", R_ALWAYS},
	{"dialogsheet", "macro-sheet", R_ALWAYS},
	{"extended-properties", "document-properties", R_META},
	{"custom-properties", "document-properties", R_META},
	{"thumbnail", "document-properties", R_META},
	{"comments", "comment", R_COMMENTS},
	{"commentsExtended", "comment", R_COMMENTS},
	{"commentsIds", "comment", R_COMMENTS},
	{"commentsExtensible", "comment", R_COMMENTS},
	{"people", "comment", R_COMMENTS},
	{"threadedComment", "comment", R_COMMENTS},
	{"person", "comment", R_COMMENTS},
	{"commentAuthors", "comment", R_COMMENTS},
	{"authors", "comment", R_COMMENTS},
	{"revisionHeaders", "revision", R_REVISIONS},
	{"revisionLog", "revision", R_REVISIONS},
	{"usernames", "revision", R_REVISIONS},
};

/* Content types inferred from part names when [Content_Types].xml does not say
 * ('*' any characters, '#' any digits; case-insensitive). */
struct infer {
	const char *pat, *ct;
};
static const struct infer infer_table[] = {
	{"word/document.xml", WML "document.main+xml"},
	{"word/styles.xml", WML "styles+xml"},
	{"word/stylesWithEffects.xml", "application/vnd.ms-word.stylesWithEffects+xml"},
	{"word/settings.xml", WML "settings+xml"},
	{"word/webSettings.xml", WML "webSettings+xml"},
	{"word/fontTable.xml", WML "fontTable+xml"},
	{"word/numbering.xml", WML "numbering+xml"},
	{"word/footnotes.xml", WML "footnotes+xml"},
	{"word/endnotes.xml", WML "endnotes+xml"},
	{"word/comments.xml", WML "comments+xml"},
	{"word/commentsExtended.xml", WML "commentsExtended+xml"},
	{"word/commentsIds.xml", WML "commentsIds+xml"},
	{"word/commentsExtensible.xml", WML "commentsExtensible+xml"},
	{"word/people.xml", WML "people+xml"},
	{"word/header#.xml", WML "header+xml"},
	{"word/footer#.xml", WML "footer+xml"},
	{"word/glossary/document.xml", WML "document.glossary+xml"},
	{"xl/workbook.xml", SML "sheet.main+xml"},
	{"xl/worksheets/sheet#.xml", SML "worksheet+xml"},
	{"xl/chartsheets/sheet#.xml", SML "chartsheet+xml"},
	{"xl/styles.xml", SML "styles+xml"},
	{"xl/sharedStrings.xml", SML "sharedStrings+xml"},
	{"xl/calcChain.xml", SML "calcChain+xml"},
	{"xl/comments#.xml", SML "comments+xml"},
	{"xl/tables/table#.xml", SML "table+xml"},
	{"xl/drawings/drawing#.xml", OD "drawing+xml"},
	{"*/vmlDrawing#.vml", OD "vmlDrawing"},
	{"ppt/presentation.xml", PML "presentation.main+xml"},
	{"ppt/slides/slide#.xml", PML "slide+xml"},
	{"ppt/slideLayouts/slideLayout#.xml", PML "slideLayout+xml"},
	{"ppt/slideMasters/slideMaster#.xml", PML "slideMaster+xml"},
	{"ppt/notesSlides/notesSlide#.xml", PML "notesSlide+xml"},
	{"ppt/notesMasters/notesMaster#.xml", PML "notesMaster+xml"},
	{"ppt/handoutMasters/handoutMaster#.xml", PML "handoutMaster+xml"},
	{"ppt/presProps.xml", PML "presProps+xml"},
	{"ppt/viewProps.xml", PML "viewProps+xml"},
	{"ppt/tableStyles.xml", PML "tableStyles+xml"},
	{"ppt/commentAuthors.xml", PML "commentAuthors+xml"},
	{"*/theme/theme#.xml", OD "theme+xml"},
	{"*/charts/chart#.xml", OD "drawingml.chart+xml"},
	{"docProps/core.xml", CT_CORE},
	{"docProps/app.xml", CT_APP},
	{"docProps/custom.xml", OD "custom-properties+xml"},
	{"customXml/item#.xml", "application/xml"},
	{"customXml/itemProps#.xml", OD "customXmlProperties+xml"},
	{"*.png", "image/png"},
	{"*.jpeg", "image/jpeg"},
	{"*.jpg", "image/jpeg"},
	{"*.gif", "image/gif"},
	{"*.bmp", "image/bmp"},
	{"*.tif", "image/tiff"},
	{"*.tiff", "image/tiff"},
	{"*.emf", "image/x-emf"},
	{"*.wmf", "image/x-wmf"},
};

/* ---- small helpers ----------------------------------------------------------------- */

static bool glob_ci(const char *p, const char *s)
{
	for (;; p++, s++) {
		if (*p == '*') {
			for (const char *t = s;; t++) {
				if (glob_ci(p + 1, t))
					return true;
				if (!*t)
					return false;
			}
		}
		if (*p == '#') {
			while (isdigit((unsigned char)*s))
				s++;
			s--;
			continue;
		}
		if (!*p)
			return !*s;
		if (tolower((unsigned char)*p) != tolower((unsigned char)*s))
			return false;
	}
}

static const char *base_name(const char *s)
{
	const char *b = strrchr(s, '/');
	return b ? b + 1 : s;
}

/* true when a folder component of name equals seg (case-insensitive) */
static bool has_dir(const char *name, const char *seg)
{
	size_t sl = strlen(seg);
	for (const char *p = name; p && *p;) {
		const char *slash = strchr(p, '/');
		if (!slash)
			return false;
		if ((size_t)(slash - p) == sl && !strncasecmp(p, seg, sl))
			return true;
		p = slash + 1;
	}
	return false;
}

/* "dir/_rels/name.rels" or "_rels/name.rels" */
static bool is_rels_name(const char *name)
{
	const char *b = base_name(name);
	size_t bl = strlen(b), dl = (size_t)(b - name);
	if (bl < 5 || strcasecmp(b + bl - 5, ".rels"))
		return false;
	if (dl == 6)
		return !strncasecmp(name, "_rels/", 6);
	return dl > 6 && !strncasecmp(b - 7, "/_rels/", 7);
}

static bool xstreq(const xmlChar *a, const char *b)
{
	return a && !strcmp((const char *)a, b);
}

static bool ns_is(const xmlNode *n, const char *a, const char *b)
{
	return n->ns && n->ns->href && (xstreq(n->ns->href, a) || (b && xstreq(n->ns->href, b)));
}

static bool is_w(const xmlNode *n)
{
	return ns_is(n, NS_W_T, NS_W_S);
}

static bool is_x(const xmlNode *n)
{
	return ns_is(n, NS_X_T, NS_X_S);
}

static bool named(const xmlNode *n, const char *local)
{
	return n->type == XML_ELEMENT_NODE && xstreq(n->name, local);
}

/* value of the attribute with this local name, whatever its namespace (xmlFree it) */
static xmlChar *attr_any(xmlNode *n, const char *local)
{
	for (xmlAttr *a = n->properties; a; a = a->next)
		if (xstreq(a->name, local))
			return xmlNodeListGetString(n->doc, a->children, 1);
	return NULL;
}

/* ---- report aggregation ------------------------------------------------------------ */

#define AGG_MAX 24
typedef struct agg {
	struct {
		const char *what;
		sk_action action;
		uint64_t n;
		char detail[160];
	} v[AGG_MAX];
	size_t n;
} agg;

static void agg_add(agg *g, sk_action a, const char *what, const char *detail)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->v[i].action == a && !strcmp(g->v[i].what, what)) {
			g->v[i].n++;
			return;
		}
	if (g->n == AGG_MAX) { /* cannot happen with the fixed set of codes; count it anyway */
		g->v[g->n - 1].n++;
		return;
	}
	g->v[g->n].what = what;
	g->v[g->n].action = a;
	g->v[g->n].n = 1;
	snprintf(g->v[g->n].detail, sizeof(g->v[g->n].detail), "%s", detail ? detail : "");
	g->n++;
}

static int agg_flush(sk_cdr_ctx *ctx, agg *g, const char *sub)
{
	int rc = 0;
	for (size_t i = 0; i < g->n && !rc; i++)
		rc = sk_cdr_action(ctx, g->v[i].action, g->v[i].what, sub,
				   g->v[i].detail[0] ? g->v[i].detail : NULL, g->v[i].n);
	g->n = 0;
	return rc;
}

/* ---- the package model ------------------------------------------------------------- */

enum fate { F_UNSEEN = 0, F_KEEP, F_DROP };
enum pkind { K_OTHER = 0, K_XML, K_IMAGE, K_RELS, K_CT };

typedef struct rel {
	xmlNode *node;
	char *id, *type, *target, *mode; /* xmlGetNoNsProp results */
	const char *suffix;
	bool external, removed;
	int part; /* target part, -1 */
} rel;

typedef struct relset {
	rel *v;
	size_t n;
	char **gone; /* ids of removed relationships, sorted */
	size_t ngone;
	int rels_part; /* the part holding them, -1 */
} relset;

typedef struct part {
	char *name;
	uint64_t idx, size, csize;
	uint16_t method;
	time_t mtime;
	bool exact; /* read by sk_zipio_read, which said its compressed bytes may be copied */
	char *ct;
	bool ct_inferred;
	enum pkind kind;
	enum fate fate;
	bool reported, queued;
	int src; /* rels part: index of its source, -1 the package, -2 none */
	xmlDoc *doc;
	relset rs;
	uint8_t *out;
	size_t outlen;
	bool out_xml; /* out was allocated by libxml2 */
	bool changed;
} part;

struct ctent {
	char *key, *ct;
	size_t pos; /* order of declaration */
};

typedef struct pkg {
	sk_cdr_ctx *ctx;
	sk_error *err;
	sk_zipio *zio; /* the input */
	part *p;
	size_t n;
	struct pname {
		const char *name;
		size_t i;
	} *byname; /* parts sorted by name, case-insensitive */
	int ctpart;
	struct ctent *defs, *ovrs;
	size_t ndefs, novrs;
	const char *ct_problem; /* NULL when [Content_Types].xml was valid */
	relset root;
	int main;
	const struct main_type *mt;
	uint64_t xml_fail0; /* sk_xml_failures() when the package was opened */
	int *queue;
	size_t qh, qt;
} pkg;

static int oom(pkg *k)
{
	return sk_error_set(k->err, SK_ENOMEM, "ooxml: out of memory");
}

static void relset_free(relset *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		xmlFree(rs->v[i].id);
		xmlFree(rs->v[i].type);
		xmlFree(rs->v[i].target);
		xmlFree(rs->v[i].mode);
	}
	free(rs->v);
	free(rs->gone);
	memset(rs, 0, sizeof(*rs));
}

static void pkg_free(pkg *k)
{
	for (size_t i = 0; i < k->n; i++) {
		part *p = &k->p[i];
		free(p->name);
		free(p->ct);
		if (p->doc)
			xmlFreeDoc(p->doc);
		relset_free(&p->rs);
		if (p->out_xml)
			xmlFree(p->out);
		else
			free(p->out);
	}
	free(k->p);
	free(k->byname);
	for (size_t i = 0; i < k->ndefs; i++) {
		free(k->defs[i].key);
		free(k->defs[i].ct);
	}
	for (size_t i = 0; i < k->novrs; i++) {
		free(k->ovrs[i].key);
		free(k->ovrs[i].ct);
	}
	free(k->defs);
	free(k->ovrs);
	relset_free(&k->root);
	free(k->queue);
	sk_zipio_close(k->zio);
}

static int byname_cmp(const void *a, const void *b)
{
	const struct pname *x = a, *y = b;
	int c = strcasecmp(x->name, y->name);
	return c ? c : (x->i < y->i ? -1 : x->i > y->i);
}

/* Index of the part called name (case-insensitive, as OPC compares names), or
 * SK_ENOTFOUND. */
static int find_part(const pkg *k, const char *name)
{
	size_t lo = 0, hi = k->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcasecmp(name, k->byname[mid].name);
		if (c == 0)
			return (int)k->byname[mid].i;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return SK_ENOTFOUND;
}

static int ctent_cmp(const void *a, const void *b)
{
	const struct ctent *x = a, *y = b;
	int c = strcasecmp(x->key, y->key);
	return c ? c : (x->pos < y->pos ? -1 : x->pos > y->pos);
}

/* Sorts by key; of repeated keys the first one declared is kept. */
static void ct_sort(struct ctent *v, size_t *n)
{
	if (*n < 2)
		return;
	qsort(v, *n, sizeof(*v), ctent_cmp);
	size_t o = 1;
	for (size_t i = 1; i < *n; i++) {
		if (!strcasecmp(v[i].key, v[o - 1].key)) {
			free(v[i].key);
			free(v[i].ct);
			continue;
		}
		v[o++] = v[i];
	}
	*n = o;
}

static const char *ct_lookup(const struct ctent *v, size_t n, const char *key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcasecmp(key, v[mid].key);
		if (c == 0)
			return v[mid].ct;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---- reading entries ----------------------------------------------------------------- */

/* Turns a zipio result into the module's: SK_EBLOCKED blocks the item (the detail: where,
 * else zipio's), SK_ENOMEM fails it, anything else is passed on. */
static int zio_rc(pkg *k, int rc, sk_reason why, const sk_error *e, const char *where)
{
	if (rc == SK_EBLOCKED)
		return sk_cdr_block(k->ctx, why, where ? where : e->msg);
	if (rc == SK_ENOMEM)
		return oom(k);
	if (rc == SK_ELIMIT)
		return sk_cdr_block(k->ctx, SK_REASON_LIMIT_SIZE, where ? where : e->msg);
	return rc ? sk_error_set(k->err, rc, "ooxml: %s", e->msg) : 0;
}

/* The markup starts of an XML part as it is read, against the node limit. */
struct markup {
	const sk_budget *b;
	uint64_t starts;
	bool lt_at_end; /* the last piece ended with '<' (counted as a start) */
};

static sk_reason count_markup(void *ud, const uint8_t *p, size_t n)
{
	struct markup *m = ud;
	if (n == 0)
		return SK_REASON_NONE;
	/* a '<' that ended the previous piece was counted; it was an end tag after all */
	if (m->lt_at_end && p[0] == '/' && m->starts)
		m->starts--;
	m->lt_at_end = p[n - 1] == '<';
	m->starts += sk_xml_markup_count(p, n, m->b->max_nodes + 1);
	return sk_budget_nodes(m->b, m->starts);
}

/* Decompresses part p (sk_zipio_read: every byte charged to the budget, the clock looked
 * at per piece, size and CRC checked) into a malloc'd, NUL-terminated buffer, and sets
 * p->exact. An XML part (markup) is refused as soon as its markup starts pass the node
 * limit: a part that may not be parsed is not even read to its end. */
static int load_part(pkg *k, part *p, bool markup, uint8_t **data, size_t *len)
{
	*data = NULL;
	*len = 0;
	p->exact = false;
	sk_budget *b = k->ctx->budget;
	sk_reason r = sk_budget_time(b);
	if (r != SK_REASON_NONE)
		return sk_cdr_block(k->ctx, r, p->name);
	if (p->size >= SIZE_MAX || p->size >= INT_MAX) /* more than libxml2 takes */
		return sk_cdr_block(k->ctx, SK_REASON_LIMIT_SIZE, p->name);
	/* room for the declared size at once (zipio never reads more): pages that are never
	 * written (a part refused early) are never touched, and nothing is copied to grow */
	sk_buf buf;
	sk_buf_init(&buf, p->size ? (size_t)p->size : 1);
	if (sk_buf_reserve(&buf, (size_t)p->size))
		return oom(k);
	struct markup m = {.b = b};
	sk_error e = {0};
	sk_reason why = SK_REASON_NONE;
	bool exact = false;
	int rc = sk_zipio_read_cb(k->zio, p->idx, b, &buf, &exact,
				  markup && b->max_nodes ? count_markup : NULL, &m, &why, &e);
	if (rc) {
		sk_buf_free(&buf);
		return zio_rc(k, rc, why, &e, p->name);
	}
	/* an empty part: sk_buf_take gives NULL; the parser still wants a string */
	*data = sk_buf_take(&buf, len);
	if (!*data && !(*data = calloc(1, 1)))
		return oom(k);
	p->exact = exact;
	return 0;
}

/* ---- XML ----------------------------------------------------------------------------- */

/* Parses a part (sk_xml_read: no network, no DTD, no entities, no recovery, the node
 * limit and the clock). 0 with *d; SK_EFORMAT (*d NULL) when it is not well-formed XML,
 * for the caller to decide; a limit blocks the item, a failed allocation fails it. */
static int xml_parse(pkg *k, const uint8_t *data, size_t len, const char *name, xmlDoc **d)
{
	sk_reason why;
	int rc = sk_xml_read(data, len, name, k->ctx->budget, d, &why);
	if (rc == 0 || rc == SK_EFORMAT)
		return rc;
	if (rc == SK_EBLOCKED)
		return sk_cdr_block(k->ctx, why, name);
	if (rc == SK_ELIMIT)
		return sk_cdr_block(k->ctx, SK_REASON_LIMIT_SIZE, name);
	return oom(k);
}

static int xml_serialize(pkg *k, part *p)
{
	xmlChar *mem = NULL;
	int n = 0;
	xmlDocDumpMemoryEnc(p->doc, &mem, &n, "UTF-8");
	if (!mem || n <= 0) {
		xmlFree(mem);
		return oom(k);
	}
	if (p->out_xml)
		xmlFree(p->out);
	else
		free(p->out);
	p->out = mem;
	p->outlen = (size_t)n;
	p->out_xml = true;
	p->changed = true;
	return 0;
}

/* ---- content types ------------------------------------------------------------------- */

static int ct_add(struct ctent **v, size_t *n, const char *key, const char *ct)
{
	struct ctent *nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return SK_ENOMEM;
	*v = nv;
	nv[*n].key = strdup(key);
	nv[*n].ct = strdup(ct);
	nv[*n].pos = *n;
	if (!nv[*n].key || !nv[*n].ct) {
		free(nv[*n].key);
		free(nv[*n].ct);
		return SK_ENOMEM;
	}
	(*n)++;
	return 0;
}

/* Reads [Content_Types].xml; sets ct_problem when it is missing or not valid. */
static int ct_read(pkg *k)
{
	if (k->ctpart < 0) {
		k->ct_problem = "missing";
		return 0;
	}
	part *cp = &k->p[k->ctpart];
	uint8_t *data;
	size_t len;
	int rc = load_part(k, cp, true, &data, &len);
	if (rc)
		return rc;
	xmlDoc *d = NULL;
	rc = xml_parse(k, data, len, cp->name, &d);
	free(data);
	if (rc && rc != SK_EFORMAT)
		return rc;
	rc = 0;
	xmlNode *root = d ? xmlDocGetRootElement(d) : NULL;
	bool ok = root && named(root, "Types") && ns_is(root, NS_CT, NULL);
	for (xmlNode *c = ok ? root->children : NULL; c && ok && rc == 0; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_COMMENT_NODE)
			continue;
		if (c->type != XML_ELEMENT_NODE || !ns_is(c, NS_CT, NULL)) {
			ok = false;
			break;
		}
		bool def = named(c, "Default");
		if (!def && !named(c, "Override")) {
			ok = false;
			break;
		}
		xmlChar *key = xmlGetNoNsProp(c, BAD_CAST(def ? "Extension" : "PartName"));
		xmlChar *ct = xmlGetNoNsProp(c, BAD_CAST "ContentType");
		if (!key || !ct || !*ct || (!def && key[0] != '/') || (def && !*key))
			ok = false;
		else if (def)
			rc = ct_add(&k->defs, &k->ndefs, (const char *)key, (const char *)ct);
		else
			rc = ct_add(&k->ovrs, &k->novrs, (const char *)key + 1, (const char *)ct);
		xmlFree(key);
		xmlFree(ct);
	}
	if (d)
		xmlFreeDoc(d);
	if (rc)
		return oom(k);
	if (!ok) {
		k->ct_problem = "malformed";
		return 0;
	}
	ct_sort(k->defs, &k->ndefs);
	ct_sort(k->ovrs, &k->novrs);
	return 0;
}

static const char *ct_infer(const char *name)
{
	for (size_t i = 0; i < sizeof(infer_table) / sizeof(infer_table[0]); i++)
		if (glob_ci(infer_table[i].pat, name))
			return infer_table[i].ct;
	return NULL;
}

static int ct_assign(pkg *k, part *p)
{
	const char *ct = NULL;
	if (!k->ct_problem) {
		ct = ct_lookup(k->ovrs, k->novrs, p->name);
		if (!ct) {
			const char *dot = strrchr(base_name(p->name), '.');
			if (dot)
				ct = ct_lookup(k->defs, k->ndefs, dot + 1);
		}
	}
	if (!ct) {
		ct = ct_infer(p->name);
		p->ct_inferred = ct != NULL;
	}
	if (ct && !(p->ct = strdup(ct)))
		return oom(k);
	return 0;
}

/* ---- classification -------------------------------------------------------------- */

static const char *danger_by_ct(const char *ct)
{
	for (size_t i = 0; ct && i < sizeof(danger_types) / sizeof(danger_types[0]); i++)
		if (!strcasecmp(ct, danger_types[i].ct))
			return danger_types[i].what;
	return NULL;
}

static const char *danger_by_name(const char *name)
{
	const char *b = base_name(name);
	if (!strcasecmp(b, "vbaProject.bin") || !strcasecmp(b, "vbaData.xml") ||
	    !strncasecmp(b, "vbaProjectSignature", 19))
		return "macro";
	if (has_dir(name, "activeX"))
		return "activex";
	if (has_dir(name, "embeddings"))
		return "ole-object";
	if (has_dir(name, "customUI") || has_dir(name, "customUI14"))
		return "custom-ui";
	if (has_dir(name, "externalLinks"))
		return "external-link";
	if (!strcasecmp(b, "connections.xml") || has_dir(name, "queryTables"))
		return "data-connection";
	if (has_dir(name, "macrosheets") || has_dir(name, "dialogsheets"))
		return "macro-sheet";
	return NULL;
}

static bool xml_type_ok(const char *ct)
{
	for (size_t i = 0; ct && i < sizeof(xml_types) / sizeof(xml_types[0]); i++)
		if (!strcasecmp(ct, xml_types[i]))
			return true;
	return false;
}

static const struct main_type *main_type_of(const char *ct)
{
	for (size_t i = 0; ct && i < sizeof(main_types) / sizeof(main_types[0]); i++)
		if (!strcasecmp(ct, main_types[i].ct))
			return &main_types[i];
	return NULL;
}

static int drop_part(pkg *k, part *p, const char *what, const char *detail)
{
	p->fate = F_DROP;
	if (p->reported)
		return 0;
	p->reported = true;
	return sk_cdr_action(k->ctx, SK_ACTION_REMOVED, what, p->name, detail, 1);
}

static const char *image_ct(sk_kind kind)
{
	switch (kind) {
	case SK_KIND_PNG: return "image/png";
	case SK_KIND_JPEG: return "image/jpeg";
	case SK_KIND_GIF: return "image/gif";
	case SK_KIND_BMP: return "image/bmp";
	case SK_KIND_TIFF: return "image/tiff";
	default: return NULL;
	}
}

/* An image part goes through the registry (the image module). */
static int do_image(pkg *k, part *p)
{
	uint8_t *data;
	size_t len;
	int rc = load_part(k, p, false, &data, &len);
	if (rc)
		return rc;
	sk_buf out;
	sk_buf_init(&out, SK_BUF_MAX_DEFAULT);
	sk_reason reason;
	rc = sk_cdr_child(k->ctx, p->name, data, len, &out, &reason, k->err);
	free(data);
	if (rc == SK_EBLOCKED) {
		sk_buf_free(&out);
		if (sk_reason_is_fatal(reason))
			return sk_cdr_block(k->ctx, reason, p->name);
		return drop_part(k, p, "part", sk_reason_code(reason));
	}
	if (rc) {
		sk_buf_free(&out);
		return rc;
	}
	/* the rebuilt bytes must be an image; their type sets the content type */
	sk_input in;
	sk_input_mem(&in, out.data, out.len);
	sk_type t;
	const char *ct = NULL;
	if (sk_detect(&in, NULL, &t, NULL) == 0)
		ct = image_ct(t.kind);
	sk_input_release(&in);
	if (!ct) {
		sk_buf_free(&out);
		return drop_part(k, p, "part", "not-an-image");
	}
	char *nct = strdup(ct);
	if (!nct) {
		sk_buf_free(&out);
		return oom(k);
	}
	free(p->ct);
	p->ct = nct;
	p->out = sk_buf_take(&out, &p->outlen);
	if (!p->out) { /* empty output */
		sk_buf_free(&out);
		return drop_part(k, p, "part", "empty");
	}
	p->out_xml = false;
	p->changed = true;
	p->kind = K_IMAGE;
	p->fate = F_KEEP;
	return 0;
}

static int clean_content(pkg *k, part *p);

static int do_xml(pkg *k, part *p)
{
	uint8_t *data;
	size_t len;
	int rc = load_part(k, p, true, &data, &len);
	if (rc)
		return rc;
	rc = xml_parse(k, data, len, p->name, &p->doc);
	free(data);
	if (rc && rc != SK_EFORMAT)
		return rc;
	if (!p->doc) {
		if ((int)(p - k->p) == k->main)
			return sk_cdr_block(k->ctx, SK_REASON_MALFORMED, p->name);
		return drop_part(k, p, "part", "malformed");
	}
	p->kind = K_XML;
	p->fate = F_KEEP;
	return clean_content(k, p);
}

/* Decides, once, whether a part reached by a relationship is kept. */
static int decide(pkg *k, int i)
{
	part *p = &k->p[i];
	if (p->fate != F_UNSEEN)
		return 0;
	sk_reason late = sk_budget_time(k->ctx->budget);
	if (late != SK_REASON_NONE)
		return sk_cdr_block(k->ctx, late, p->name);
	const char *what = danger_by_ct(p->ct);
	if (!what)
		what = danger_by_name(p->name);
	if (what)
		return drop_part(k, p, what, p->ct);
	if (i == k->main)
		return do_xml(k, p);
	if (!p->ct)
		return drop_part(k, p, "part", "no-content-type");
	if (xml_type_ok(p->ct))
		return do_xml(k, p);
	if (!strncasecmp(p->ct, "image/", 6))
		return do_image(k, p);
	return drop_part(k, p, "part", p->ct);
}

/* ---- relationships ------------------------------------------------------------------- */

static bool scheme_ok(const char *t)
{
	static const char *const ok[] = {"http://", "https://", "mailto:"};
	while (*t == ' ' || *t == '\t')
		t++;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (!strncasecmp(t, ok[i], strlen(ok[i])))
			return true;
	return false;
}

static const struct rel_rule *rel_rule_of(pkg *k, const rel *r)
{
	const sk_profile *pf = k->ctx->profile;
	for (size_t i = 0; i < sizeof(rel_rules) / sizeof(rel_rules[0]); i++) {
		const struct rel_rule *u = &rel_rules[i];
		if (strcmp(r->suffix, u->suffix))
			continue;
		if (u->when == R_ALWAYS || (u->when == R_META && pf->strip_metadata) ||
		    (u->when == R_COMMENTS && !pf->keep_comments) ||
		    (u->when == R_REVISIONS && !pf->keep_revisions))
			return u;
	}
	return NULL;
}

/* Resolves an internal target against the folder of its source part into out.
 * SK_EFORMAT when the target is not a valid part name inside the package, SK_ENOMEM or
 * SK_ELIMIT when out cannot hold it. */
static int resolve(const char *src, const char *target, sk_buf *out)
{
	sk_buf_reset(out);
	if (!*target || strchr(target, '\\'))
		return SK_EFORMAT;
	size_t tl = strcspn(target, "#?");
	if (tl == 0)
		return SK_EFORMAT;
	if (target[0] != '/' && src) {
		const char *slash = strrchr(src, '/');
		int rc = slash ? sk_buf_add(out, src, (size_t)(slash - src) + 1) : 0;
		if (rc)
			return rc;
	}
	const char *p = target, *end = target + tl;
	while (p < end) {
		const char *q = memchr(p, '/', (size_t)(end - p));
		if (!q)
			q = end;
		size_t sl = (size_t)(q - p);
		if (sl == 0 || (sl == 1 && p[0] == '.')) {
			/* empty or "." component */
		} else if (sl == 2 && p[0] == '.' && p[1] == '.') {
			size_t l = sk_buf_len(out);
			if (l == 0)
				return SK_EFORMAT; /* above the package root */
			const uint8_t *o = sk_buf_data(out);
			l--; /* drop "dir/" */
			while (l > 0 && o[l - 1] != '/')
				l--;
			sk_buf_truncate(out, l);
		} else {
			int rc = sk_buf_add(out, p, sl);
			if (rc == 0 && q < end)
				rc = sk_buf_addc(out, '/');
			if (rc)
				return rc;
		}
		p = q < end ? q + 1 : end;
	}
	if (sk_buf_len(out) == 0 || sk_buf_data(out)[sk_buf_len(out) - 1] == '/')
		return SK_EFORMAT;
	return 0;
}

/* Finds the part a resolved name denotes, also in its percent-decoded form: its index,
 * SK_ENOTFOUND or SK_ENOMEM. */
static int find_target(pkg *k, const char *name)
{
	int i = find_part(k, name);
	if (i >= 0 || !strchr(name, '%'))
		return i;
	size_t l = strlen(name);
	char *d = malloc(l + 1);
	if (!d)
		return SK_ENOMEM;
	size_t o = 0;
	for (size_t j = 0; j < l; j++) {
		int h1, h2;
		if (name[j] == '%' && j + 2 < l &&
		    (h1 = sk_hex_digit((unsigned char)name[j + 1])) >= 0 &&
		    (h2 = sk_hex_digit((unsigned char)name[j + 2])) >= 0) {
			d[o++] = (char)(h1 * 16 + h2);
			j += 2;
		} else {
			d[o++] = name[j];
		}
	}
	d[o] = 0;
	i = strlen(d) == o ? find_part(k, d) : SK_ENOTFOUND;
	free(d);
	return i;
}

static int rels_name(const char *src, sk_buf *out)
{
	sk_buf_reset(out);
	if (!src)
		return sk_buf_adds(out, "_rels/.rels");
	const char *b = base_name(src);
	int rc = sk_buf_add(out, src, (size_t)(b - src));
	if (!rc)
		rc = sk_buf_printf(out, "_rels/%s.rels", b);
	return rc;
}

static void remove_node(xmlNode *n)
{
	xmlUnlinkNode(n);
	xmlFreeNode(n);
}

/* by Id, then by position (pointers into one array) */
static int rel_id_cmp(const void *a, const void *b)
{
	const rel *x = *(rel *const *)a, *y = *(rel *const *)b;
	int c = strcmp(x->id, y->id);
	return c ? c : (x < y ? -1 : x > y);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool gone(const relset *rs, const char *id)
{
	if (!rs || !rs->ngone)
		return false;
	return bsearch(&id, rs->gone, rs->ngone, sizeof(char *), str_cmp) != NULL;
}

static void enqueue(pkg *k, int i)
{
	if (k->p[i].queued)
		return;
	k->p[i].queued = true;
	k->queue[k->qt++] = i;
}

/* Parses the relationships of src (-1: the package) and decides each one. */
static int do_rels(pkg *k, int src)
{
	const char *srcname = src >= 0 ? k->p[src].name : NULL;
	relset *rs = src >= 0 ? &k->p[src].rs : &k->root;
	rs->rels_part = -1;
	sk_buf nb, tb;
	sk_buf_init(&nb, 8192);
	sk_buf_init(&tb, 8192);
	int rc = rels_name(srcname, &nb);
	if (rc) {
		sk_buf_free(&nb);
		sk_buf_free(&tb);
		return oom(k);
	}
	int ri = find_part(k, sk_buf_str(&nb));
	sk_buf_free(&nb);
	if (ri < 0 || k->p[ri].kind != K_RELS) {
		sk_buf_free(&tb);
		return src < 0 ? sk_cdr_block(k->ctx, SK_REASON_MALFORMED, "_rels/.rels") : 0;
	}
	part *rp = &k->p[ri];
	rp->src = src;
	rs->rels_part = ri;
	uint8_t *data;
	size_t len;
	rc = load_part(k, rp, true, &data, &len);
	if (rc) {
		sk_buf_free(&tb);
		return rc;
	}
	rc = xml_parse(k, data, len, rp->name, &rp->doc);
	free(data);
	if (rc && rc != SK_EFORMAT) {
		sk_buf_free(&tb);
		return rc;
	}
	rc = 0;
	xmlNode *root = rp->doc ? xmlDocGetRootElement(rp->doc) : NULL;
	if (!root || !named(root, "Relationships") || !ns_is(root, NS_PR, NULL)) {
		/* the references of a part cannot be checked without its relationships */
		sk_buf_free(&tb);
		return sk_cdr_block(k->ctx, SK_REASON_MALFORMED, rp->name);
	}
	rp->fate = F_KEEP;
	agg g = {.n = 0};
	size_t cap = 0;
	for (xmlNode *c = root->children, *nx; c; c = nx) {
		nx = c->next;
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (!named(c, "Relationship") || !ns_is(c, NS_PR, NULL)) {
			agg_add(&g, SK_ACTION_REPAIRED, "relationship", (const char *)c->name);
			remove_node(c); /* not a relationship: it goes */
			rp->changed = true;
			continue;
		}
		if (rs->n == cap) {
			cap = cap ? cap * 2 : 16;
			rel *nv = realloc(rs->v, cap * sizeof(*nv));
			if (!nv) {
				sk_buf_free(&tb);
				return oom(k);
			}
			rs->v = nv;
		}
		rel *r = &rs->v[rs->n++];
		memset(r, 0, sizeof(*r));
		r->node = c;
		r->part = -1;
		r->id = (char *)xmlGetNoNsProp(c, BAD_CAST "Id");
		r->type = (char *)xmlGetNoNsProp(c, BAD_CAST "Type");
		r->target = (char *)xmlGetNoNsProp(c, BAD_CAST "Target");
		r->mode = (char *)xmlGetNoNsProp(c, BAD_CAST "TargetMode");
		const char *sl = r->type ? strrchr(r->type, '/') : NULL;
		r->suffix = sl ? sl + 1 : r->type ? r->type : "";
		if (!r->id || !r->type || !r->target || !*r->id ||
		    (r->mode && strcmp(r->mode, "External") && strcmp(r->mode, "Internal"))) {
			r->removed = true;
			agg_add(&g, SK_ACTION_REPAIRED, "relationship", "incomplete");
			continue;
		}
		r->external = r->mode && !strcmp(r->mode, "External");
	}
	/* a repeated Id: the later ones go */
	if (rs->n > 1) {
		rel **by = malloc(rs->n * sizeof(*by));
		if (!by) {
			sk_buf_free(&tb);
			return oom(k);
		}
		size_t m = 0;
		for (size_t j = 0; j < rs->n; j++)
			if (!rs->v[j].removed)
				by[m++] = &rs->v[j];
		qsort(by, m, sizeof(*by), rel_id_cmp);
		for (size_t j = 1; j < m; j++)
			if (!strcmp(by[j - 1]->id, by[j]->id)) {
				by[j]->removed = true;
				agg_add(&g, SK_ACTION_REPAIRED, "relationship", by[j]->id);
			}
		free(by);
	}

	/* comments of a worksheet live in a VML drawing too: it goes with them */
	bool sheet_comments = false;
	if (!k->ctx->profile->keep_comments)
		for (size_t j = 0; j < rs->n; j++)
			if (!rs->v[j].removed && !strcmp(rs->v[j].suffix, "comments"))
				sheet_comments = src >= 0 && k->p[src].ct &&
						 !strcasecmp(k->p[src].ct, SML "worksheet+xml");

	for (size_t j = 0; j < rs->n && rc == 0; j++) {
		rel *r = &rs->v[j];
		if (r->removed)
			continue;
		const struct rel_rule *u = rel_rule_of(k, r);
		const char *what = u ? u->what : NULL;
		if (!what && sheet_comments && !strcmp(r->suffix, "vmlDrawing"))
			what = "comment";
		if (r->external) {
			if (!what && !strcmp(r->suffix, "hyperlink") && scheme_ok(r->target))
				continue;
			r->removed = true;
			agg_add(&g, SK_ACTION_REMOVED, what ? what : "external-relationship", r->target);
			continue;
		}
		int e = resolve(srcname, r->target, &tb);
		if (e == SK_EFORMAT || e == SK_ELIMIT) { /* not a part name (or longer than any) */
			r->removed = true;
			agg_add(&g, SK_ACTION_REPAIRED, "relationship", r->target);
			continue;
		}
		r->part = e ? e : find_target(k, sk_buf_str(&tb));
		if (r->part == SK_ENOMEM) {
			rc = oom(k);
			break;
		}
		if (r->part < 0 || k->p[r->part].kind == K_RELS || k->p[r->part].kind == K_CT) {
			r->removed = true;
			agg_add(&g, SK_ACTION_REPAIRED, "relationship", r->target);
			continue;
		}
		part *t = &k->p[r->part];
		if (what) {
			r->removed = true;
			if (!t->reported) {
				t->reported = true;
				rc = sk_cdr_action(k->ctx, SK_ACTION_REMOVED, what, t->name, NULL, 1);
			}
			continue;
		}
		rc = decide(k, r->part);
		if (rc)
			break;
		if (t->fate != F_KEEP) {
			r->removed = true;
			continue;
		}
		if (t->kind == K_XML)
			enqueue(k, r->part);
	}
	sk_buf_free(&tb);
	if (rc)
		return rc;
	rc = agg_flush(k->ctx, &g, rp->name);
	if (rc)
		return rc;

	/* the removed ids, sorted, for the references in the source part */
	for (size_t j = 0; j < rs->n; j++)
		if (rs->v[j].removed && rs->v[j].id)
			rs->ngone++;
	if (rs->ngone) {
		rs->gone = malloc(rs->ngone * sizeof(char *));
		if (!rs->gone)
			return oom(k);
		size_t o = 0;
		for (size_t j = 0; j < rs->n; j++)
			if (rs->v[j].removed && rs->v[j].id)
				rs->gone[o++] = rs->v[j].id;
		qsort(rs->gone, rs->ngone, sizeof(char *), str_cmp);
	}
	return 0;
}

/* Removes the removed relationships from the rels part; drops it when none is left. */
static int rewrite_rels(pkg *k, relset *rs)
{
	if (rs->rels_part < 0)
		return 0;
	part *rp = &k->p[rs->rels_part];
	size_t kept = 0;
	bool any = rp->changed;
	for (size_t j = 0; j < rs->n; j++) {
		if (!rs->v[j].removed) {
			kept++;
			continue;
		}
		any = true;
		xmlUnlinkNode(rs->v[j].node);
		xmlFreeNode(rs->v[j].node);
		rs->v[j].node = NULL;
	}
	if (kept == 0) {
		rp->fate = F_DROP;
		return 0;
	}
	return any ? xml_serialize(k, rp) : 0;
}

/* ---- cleaning XML parts -------------------------------------------------------------- */

typedef struct xw {
	pkg *k;
	part *p;
	const relset *rs;
	agg g;
	bool changed;
	xmlNode *root;
	bool refs_only; /* second pass: only references to removed relationships */
	bool drop;      /* a rule removes the root element: the part goes */
} xw;

static xmlNode *next_node(xmlNode *n, bool descend, xmlNode *root)
{
	if (descend && n->children)
		return n->children;
	while (n && n != root) {
		if (n->next)
			return n->next;
		n = n->parent;
	}
	return NULL;
}

static void link_before(xmlNode *n, xmlNode *c)
{
	c->parent = n->parent;
	c->doc = n->doc;
	c->prev = n->prev;
	c->next = n;
	if (n->prev)
		n->prev->next = c;
	else
		n->parent->children = c;
	n->prev = c;
}

/* Puts the children of n in its place (without merging text nodes) and frees n;
 * *first is the first node now in its place (NULL when n had no children). When n
 * declares namespaces its children may use, they are copied (the copies declare what
 * they need) instead of moved. SK_ENOMEM when a copy fails. */
static int unwrap(xmlNode *n, xmlNode **first)
{
	*first = NULL;
	if (n->nsDef) {
		for (xmlNode *c = n->children; c; c = c->next) {
			xmlNode *cp = xmlDocCopyNode(c, n->doc, 1);
			if (!cp)
				return SK_ENOMEM;
			link_before(n, cp);
			if (!*first)
				*first = cp;
		}
	} else {
		xmlNode *c = n->children;
		*first = c;
		while (c) {
			xmlNode *nx = c->next;
			xmlUnlinkNode(c);
			link_before(n, c);
			c = nx;
		}
	}
	remove_node(n);
	return 0;
}

/* Field instructions that run or fetch something. NULL when harmless. */
static const char *field_danger(const char *instr, bool name_from_field)
{
	while (*instr == ' ' || *instr == '\t' || *instr == '\r' || *instr == '\n' || *instr == '"')
		instr++;
	char word[24];
	size_t l = 0;
	while (isalpha((unsigned char)instr[l]) && l + 1 < sizeof(word)) {
		word[l] = (char)toupper((unsigned char)instr[l]);
		l++;
	}
	word[l] = 0;
	if (!strcmp(word, "DDE") || !strcmp(word, "DDEAUTO"))
		return "dde";
	if (!strcmp(word, "INCLUDETEXT") || !strcmp(word, "INCLUDEPICTURE") ||
	    !strcmp(word, "INCLUDE") || !strcmp(word, "LINK") || !strcmp(word, "IMPORT"))
		return "external-link";
	if (!strcmp(word, "MACROBUTTON"))
		return "macro";
	if (!strcmp(word, "DATABASE"))
		return "data-connection";
	if (name_from_field)
		return "dde"; /* the field name is computed by a nested field: obfuscation */
	return NULL;
}

/* Fields nest a few levels in real documents; deeper is an attack on the walk below. */
#define FIELD_DEPTH_MAX 64
/* Only the start of an instruction names the field. */
#define FIELD_INSTR_MAX 256

struct fld {
	xmlNode **nodes;
	size_t n, cap;
	sk_buf instr;
	bool result, name_from_field;
};

static int fld_push_node(struct fld *f, xmlNode *n)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;
		xmlNode **nv = realloc(f->nodes, cap * sizeof(*nv));
		if (!nv)
			return SK_ENOMEM;
		f->nodes = nv;
		f->cap = cap;
	}
	f->nodes[f->n++] = n;
	return 0;
}

static void fld_free(struct fld *f)
{
	free(f->nodes);
	sk_buf_free(&f->instr);
	memset(f, 0, sizeof(*f));
}

/* Removes dangerous complex fields (w:fldChar begin … separate … end with w:instrText):
 * the field characters and instructions go, the last result stays as plain text.
 * The removal list is built first and applied at the end: nodes are never freed while
 * the tree is walked. */
static int clean_fields(xw *w, xmlNode *root)
{
	struct fld *st = NULL;
	size_t depth = 0, cap = 0;
	xmlNode **del = NULL;
	size_t ndel = 0, delcap = 0;
	int rc = 0;
#define DEL(node)                                                                          \
	do {                                                                               \
		if (ndel == delcap) {                                                      \
			size_t c2 = delcap ? delcap * 2 : 16;                              \
			xmlNode **nv = realloc(del, c2 * sizeof(*nv));                     \
			if (!nv) {                                                         \
				rc = SK_ENOMEM;                                            \
				goto out;                                                  \
			}                                                                  \
			del = nv;                                                          \
			delcap = c2;                                                       \
		}                                                                          \
		del[ndel++] = (node);                                                      \
	} while (0)

	for (xmlNode *n = root; n; n = next_node(n, true, root)) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		bool fc = xstreq(n->name, "fldChar");
		bool it = xstreq(n->name, "instrText") || xstreq(n->name, "delInstrText");
		if (!fc && !it)
			continue;
		if (it) {
			xmlChar *t = xmlNodeGetContent(n);
			if (depth == 0) { /* an instruction outside any field */
				if (t && field_danger((const char *)t, false)) {
					agg_add(&w->g, SK_ACTION_REMOVED, field_danger((const char *)t, false), NULL);
					xmlFree(t);
					DEL(n);
				} else {
					xmlFree(t);
				}
				continue;
			}
			struct fld *f = &st[depth - 1];
			int e = 0;
			if (t && f->instr.len < FIELD_INSTR_MAX) {
				size_t tl = strlen((const char *)t);
				e = sk_buf_add(&f->instr, t, tl < FIELD_INSTR_MAX ? tl : FIELD_INSTR_MAX);
			}
			xmlFree(t);
			if (e || fld_push_node(f, n)) {
				rc = SK_ENOMEM;
				goto out;
			}
			continue;
		}
		xmlChar *ty = attr_any(n, "fldCharType");
		const char *type = ty ? (const char *)ty : "";
		if (!strcmp(type, "begin")) {
			if (depth == FIELD_DEPTH_MAX) {
				xmlFree(ty);
				w->drop = true; /* the part goes (or the document is blocked) */
				goto out;
			}
			if (depth == cap) {
				size_t c2 = cap ? cap * 2 : 4;
				struct fld *nv = realloc(st, c2 * sizeof(*nv));
				if (!nv) {
					xmlFree(ty);
					rc = SK_ENOMEM;
					goto out;
				}
				st = nv;
				cap = c2;
			}
			struct fld *f = &st[depth];
			memset(f, 0, sizeof(*f));
			sk_buf_init(&f->instr, 2 * FIELD_INSTR_MAX);
			if (depth > 0 && !st[depth - 1].result) {
				const char *s = sk_buf_str(&st[depth - 1].instr);
				while (*s == ' ' || *s == '\t' || *s == '"')
					s++;
				if (!*s)
					st[depth - 1].name_from_field = true;
			}
			depth++;
			if (fld_push_node(f, n)) {
				xmlFree(ty);
				rc = SK_ENOMEM;
				goto out;
			}
		} else if (depth > 0 && !strcmp(type, "separate")) {
			st[depth - 1].result = true;
			if (fld_push_node(&st[depth - 1], n)) {
				xmlFree(ty);
				rc = SK_ENOMEM;
				goto out;
			}
		} else if (depth > 0 && !strcmp(type, "end")) {
			if (fld_push_node(&st[depth - 1], n)) {
				xmlFree(ty);
				rc = SK_ENOMEM;
				goto out;
			}
			/* the field closes: decide, or hand its nodes to the enclosing field */
			struct fld *f = &st[--depth];
			const char *what = field_danger(sk_buf_str(&f->instr), f->name_from_field);
			if (what) {
				agg_add(&w->g, SK_ACTION_REMOVED, what, NULL);
				for (size_t j = 0; j < f->n; j++)
					DEL(f->nodes[j]);
			} else if (depth > 0 && !st[depth - 1].result) {
				for (size_t j = 0; j < f->n; j++)
					if (fld_push_node(&st[depth - 1], f->nodes[j])) {
						fld_free(f);
						xmlFree(ty);
						rc = SK_ENOMEM;
						goto out;
					}
			}
			fld_free(f);
		}
		xmlFree(ty);
	}
	/* fields never closed: the same decision */
	while (depth > 0) {
		struct fld *f = &st[--depth];
		const char *what = field_danger(sk_buf_str(&f->instr), f->name_from_field);
		if (what) {
			agg_add(&w->g, SK_ACTION_REMOVED, what, NULL);
			for (size_t j = 0; j < f->n; j++)
				DEL(f->nodes[j]);
		}
		fld_free(f);
	}
	for (size_t j = 0; j < ndel; j++)
		remove_node(del[j]);
	if (ndel)
		w->changed = true;
out:
	while (depth > 0)
		fld_free(&st[--depth]);
	free(st);
	free(del);
	return rc;
#undef DEL
}

/* true when an Excel formula uses DDE (app|topic!item) outside string literals */
static bool formula_dde(const char *f)
{
	bool dq = false, sq = false;
	for (; *f; f++) {
		if (*f == '"' && !sq)
			dq = !dq;
		else if (*f == '\'' && !dq)
			sq = !sq;
		else if (*f == '|' && !dq && !sq)
			return true;
	}
	return false;
}

/* true when a formula refers to an external workbook: [1]Sheet1!A1, '[1]My sheet'!A1,
 * [1]!Name. External links are always removed, so such a formula cannot stay. A table
 * column named by digits (Table1[2019]) is not followed by a sheet name or '!'. */
static bool formula_extref(const char *f)
{
	bool dq = false;
	for (; *f; f++) {
		if (*f == '"')
			dq = !dq;
		else if (*f == '[' && !dq && isdigit((unsigned char)f[1])) {
			const char *e = f + 1;
			while (isdigit((unsigned char)*e))
				e++;
			unsigned char c = (unsigned char)e[1];
			if (*e == ']' && (c == '!' || c == '_' || c == '\'' || isalnum(c) || c >= 0x80))
				return true;
		}
	}
	return false;
}

/* Worksheet functions that run or fetch something: XLM calls, real-time data servers,
 * web requests, LibreOffice's DDE() (which LibreOffice writes into the xlsx it converts
 * and runs when it opens one), and links that open a web address built from the cells (a
 * click sends the sheet's data out: HYPERLINK("http://x/?"&A1)). The cell keeps its
 * value. */
static const struct {
	const char *name, *what;
} formula_funcs[] = {
	{"EXEC", "macro-sheet"},      {"CALL", "macro-sheet"}, {"REGISTER", "macro-sheet"},
	{"REGISTER.ID", "macro-sheet"}, {"RTD", "dde"},        {"WEBSERVICE", "external-link"},
	{"HYPERLINK", "external-link"}, {"DDE", "dde"},
};

static bool ident_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '.';
}

/* What a formula must be removed for, or NULL. */
static const char *formula_danger(const char *f)
{
	if (formula_dde(f))
		return "dde";
	if (formula_extref(f))
		return "external-link";
	bool dq = false;
	for (size_t i = 0; f[i]; i++) {
		if (f[i] == '"') {
			dq = !dq;
			continue;
		}
		if (dq || (!isalpha((unsigned char)f[i]) && f[i] != '_'))
			continue;
		if (i > 0 && ident_char((unsigned char)f[i - 1]))
			continue;
		size_t j = i;
		char id[32];
		size_t l = 0;
		while (ident_char((unsigned char)f[j])) {
			if (l + 1 < sizeof(id))
				id[l++] = (char)toupper((unsigned char)f[j]);
			j++;
		}
		id[l] = 0;
		if (f[j] == '(') {
			const char *name = id;
			if (!strncmp(name, "_XLFN.", 6) || !strncmp(name, "_XLWS.", 6))
				name += 6;
			for (size_t k = 0; k < sizeof(formula_funcs) / sizeof(formula_funcs[0]); k++)
				if (!strcmp(name, formula_funcs[k].name))
					return formula_funcs[k].what;
		}
		i = j - 1;
	}
	return NULL;
}

/* Elements that only exist to refer to a relationship: when that relationship is gone
 * the whole element goes (else only the attribute does). */
static const char *const ref_elements[] = {
	"OLEObject", "oleObject", "oleObj", "control", "attachedTemplate", "subDoc",
	"altChunk", "externalReference", "sheet", "legacyDrawing", "legacyDrawingHF",
	"headerReference", "footerReference", "sldId", "sldMasterId", "notesMasterId",
	"handoutMasterId", "sldLayoutId", "drawing", "picture", "chart", "relIds",
	"tablePart", "pivotCache", "saveThroughXslt", "objectEmbed", "objectLink",
	"dataSource", "mailMerge", "webExtension", "customXmlPr", "embedRegular", "embedBold",
	"embedItalic", "embedBoldItalic",
};

static bool is_ref_element(const xmlNode *n)
{
	for (size_t i = 0; i < sizeof(ref_elements) / sizeof(ref_elements[0]); i++)
		if (xstreq(n->name, ref_elements[i]))
			return true;
	return false;
}

static xmlNode *ancestor(xmlNode *n, const char *local)
{
	for (xmlNode *a = n->parent; a && a->type == XML_ELEMENT_NODE; a = a->parent)
		if (xstreq(a->name, local))
			return a;
	return NULL;
}

enum act { A_KEEP, A_REMOVE, A_UNWRAP };

static bool rel_attr(const xmlAttr *a)
{
	if (!a->ns || !a->ns->href)
		return false;
	if (xstreq(a->ns->href, NS_R_T) || xstreq(a->ns->href, NS_R_S))
		return true;
	return xstreq(a->ns->href, NS_O) && xstreq(a->name, "relid");
}

/* References to removed relationships: the element or the attribute goes (only the
 * attribute for the root element). */
static enum act clean_refs(xw *w, xmlNode *n, xmlNode **target)
{
	if (!w->rs || !w->rs->ngone)
		return A_KEEP;
	for (xmlAttr *a = n->properties, *na; a; a = na) {
		na = a->next;
		if (!rel_attr(a))
			continue;
		xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
		bool g = v && gone(w->rs, (const char *)v);
		xmlFree(v);
		if (!g)
			continue;
		if (n != w->root && (is_ref_element(n) || (xstreq(n->name, "hyperlink") && !n->children))) {
			xmlNode *t = xstreq(n->name, "oleObj") ? ancestor(n, "graphicFrame") : NULL;
			if (t != w->root) {
				*target = t;
				return A_REMOVE;
			}
		}
		xmlRemoveProp(a);
		w->changed = true;
	}
	return A_KEEP;
}

static bool ppaction(xmlNode *n, const char **what)
{
	xmlChar *act = attr_any(n, "action");
	*what = NULL;
	if (act) {
		const char *s = (const char *)act;
		if (!strncasecmp(s, "ppaction://program", 18))
			*what = "launch";
		else if (!strncasecmp(s, "ppaction://macro", 16))
			*what = "macro";
		else if (!strncasecmp(s, "ppaction://ole", 14))
			*what = "ole-object";
	}
	xmlFree(act);
	return *what != NULL;
}

static enum act revision_rule(xw *w, xmlNode *n, xmlNode **target)
{
	static const char *const markers[] = {
		"moveFromRangeStart", "moveFromRangeEnd", "moveToRangeStart", "moveToRangeEnd",
		"customXmlInsRangeStart", "customXmlInsRangeEnd", "customXmlDelRangeStart",
		"customXmlDelRangeEnd", "customXmlMoveFromRangeStart", "customXmlMoveFromRangeEnd",
		"customXmlMoveToRangeStart", "customXmlMoveToRangeEnd", "rPrChange", "pPrChange",
		"sectPrChange", "tblPrChange", "trPrChange", "tcPrChange", "tblGridChange",
		"tblPrExChange", "numberingChange", "cellIns", "cellDel", "cellMerge",
		"trackRevisions",
	};
	const char *nm = (const char *)n->name;
	bool in_props = n->parent && (xstreq(n->parent->name, "rPr") || xstreq(n->parent->name, "trPr"));
	if (!strcmp(nm, "del") || !strcmp(nm, "moveFrom")) {
		agg_add(&w->g, SK_ACTION_REMOVED, "revision", NULL);
		if (n->parent && xstreq(n->parent->name, "trPr") && n->parent->parent &&
		    xstreq(n->parent->parent->name, "tr"))
			*target = n->parent->parent; /* a deleted table row */
		return A_REMOVE;
	}
	if (!strcmp(nm, "ins") || !strcmp(nm, "moveTo")) {
		agg_add(&w->g, SK_ACTION_REMOVED, "revision", NULL);
		return in_props ? A_REMOVE : A_UNWRAP;
	}
	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
		if (!strcmp(nm, markers[i])) {
			agg_add(&w->g, SK_ACTION_REMOVED, "revision", NULL);
			return A_REMOVE;
		}
	return A_KEEP;
}

static enum act element_rule(xw *w, xmlNode *n, xmlNode **target)
{
	*target = NULL;
	if (w->refs_only)
		return clean_refs(w, n, target);
	const char *nm = (const char *)n->name;
	const sk_profile *pf = w->k->ctx->profile;
	const char *what = NULL;

	if (!strcmp(nm, "OLEObject") || !strcmp(nm, "oleObjects") || !strcmp(nm, "objectEmbed") ||
	    !strcmp(nm, "objectLink"))
		what = "ole-object";
	else if (!strcmp(nm, "oleObj")) {
		*target = ancestor(n, "graphicFrame");
		what = "ole-object";
	} else if (!strcmp(nm, "control") || !strcmp(nm, "controls"))
		what = "activex";
	else if (!strcmp(nm, "attachedTemplate"))
		what = "attached-template";
	else if (!strcmp(nm, "mailMerge"))
		what = "data-connection";
	else if (!strcmp(nm, "externalReferences"))
		what = "external-link";
	else if (!strcmp(nm, "FmlaMacro") || !strcmp(nm, "entryMacro") || !strcmp(nm, "exitMacro"))
		what = "macro";
	else if (!strcmp(nm, "HyperlinkBase"))
		what = "external-relationship";
	else if (!strcmp(nm, "hlinkClick") || !strcmp(nm, "hlinkHover") ||
		 !strcmp(nm, "hlinkMouseOver")) {
		if (!ppaction(n, &what))
			return A_KEEP;
	} else if (!strcmp(nm, "fldSimple")) {
		xmlChar *in = attr_any(n, "instr");
		what = in ? field_danger((const char *)in, false) : NULL;
		xmlFree(in);
		if (!what)
			return A_KEEP;
		agg_add(&w->g, SK_ACTION_REMOVED, what, NULL);
		return A_UNWRAP;
	} else if (!strcmp(nm, "f") && is_x(n)) {
		xmlChar *f = xmlNodeGetContent(n);
		what = f ? formula_danger((const char *)f) : NULL;
		xmlFree(f);
	} else if (!strcmp(nm, "definedName") && is_x(n)) {
		xmlChar *name = attr_any(n, "name");
		xmlChar *f = xmlNodeGetContent(n);
		const char *s = name ? (const char *)name : "";
		if (!strncasecmp(s, "_xlnm.", 6))
			s += 6;
		if (!strncasecmp(s, "Auto_Open", 9) || !strncasecmp(s, "Auto_Close", 10) ||
		    !strncasecmp(s, "Auto_Activate", 13) || !strncasecmp(s, "Auto_Deactivate", 15))
			what = "macro-sheet";
		else if (f)
			what = formula_danger((const char *)f);
		xmlFree(name);
		xmlFree(f);
	} else if (is_w(n)) {
		if (!pf->keep_comments && (!strcmp(nm, "commentRangeStart") ||
					   !strcmp(nm, "commentRangeEnd") ||
					   !strcmp(nm, "commentReference"))) {
			agg_add(&w->g, SK_ACTION_REMOVED, "comment", NULL);
			return A_REMOVE;
		}
		if (!pf->keep_revisions) {
			enum act a = revision_rule(w, n, target);
			if (a != A_KEEP)
				return a;
		}
	}
	if (!what)
		return A_KEEP;
	agg_add(&w->g, SK_ACTION_REMOVED, what, NULL);
	return A_REMOVE;
}

static int clean_tree(xw *w, xmlNode *root)
{
	xmlNode *n = root;
	while (n) {
		if (n->type != XML_ELEMENT_NODE) {
			n = next_node(n, true, root);
			continue;
		}
		xmlNode *target = NULL;
		enum act a = element_rule(w, n, &target);
		xmlNode *t = target ? target : n;
		if (a == A_KEEP) {
			n = next_node(n, true, root);
			continue;
		}
		if (t == root) { /* the part itself is what must go */
			w->drop = true;
			return 0;
		}
		w->changed = true;
		if (a == A_REMOVE) {
			xmlNode *nx = next_node(t, false, root);
			remove_node(t);
			n = nx;
		} else { /* A_UNWRAP: go on with the children, now in its place */
			xmlNode *nx = next_node(n, false, root), *first;
			if (unwrap(n, &first))
				return SK_ENOMEM;
			n = first ? first : nx;
		}
	}
	return 0;
}

/* docProps/core.xml reduced to its title. */
static void reduce_core(xw *w, xmlNode *root)
{
	for (xmlNode *c = root->children, *nx; c; c = nx) {
		nx = c->next;
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (named(c, "title") && ns_is(c, NS_DC, NULL))
			continue;
		remove_node(c);
		agg_add(&w->g, SK_ACTION_REMOVED, "document-properties", NULL);
		w->changed = true;
	}
}

/* First pass, when the part is reached: the rules on its content. */
static int clean_content(pkg *k, part *p)
{
	xmlNode *root = xmlDocGetRootElement(p->doc);
	xw w = {.k = k, .p = p, .root = root};
	int rc = 0;
	if (p->ct && !strcasecmp(p->ct, CT_CORE) && k->ctx->profile->strip_metadata)
		reduce_core(&w, root);
	else if ((rc = clean_fields(&w, root)) == 0)
		rc = clean_tree(&w, root);
	if (rc)
		return oom(k);
	if (w.drop) {
		if ((int)(p - k->p) == k->main)
			return sk_cdr_block(k->ctx, SK_REASON_MALFORMED, p->name);
		return drop_part(k, p, "part", "active root element");
	}
	if ((rc = agg_flush(k->ctx, &w.g, p->name)))
		return rc;
	p->changed = w.changed;
	return 0;
}

/* Second pass, once every relationship is decided: references to removed ones go;
 * then the part is serialised when anything changed. */
static int clean_refs_part(pkg *k, part *p)
{
	xmlNode *root = xmlDocGetRootElement(p->doc);
	xw w = {.k = k, .p = p, .rs = &p->rs, .root = root, .refs_only = true};
	if (clean_tree(&w, root))
		return oom(k);
	/* a part in another encoding than UTF-8 is written anew in UTF-8: Office must
	 * read exactly what was checked here */
	bool recode = p->doc->encoding && strcasecmp((const char *)p->doc->encoding, "UTF-8");
	return p->changed || w.changed || recode ? xml_serialize(k, p) : 0;
}

/* ---- writing ------------------------------------------------------------------------- */

static int build_ct(pkg *k, uint8_t **out, size_t *outlen)
{
	xmlDoc *d = xmlNewDoc(BAD_CAST "1.0");
	if (!d)
		return oom(k);
	d->standalone = 1;
	xmlNode *root = xmlNewNode(NULL, BAD_CAST "Types");
	if (!root) {
		xmlFreeDoc(d);
		return oom(k);
	}
	xmlDocSetRootElement(d, root);
	xmlNs *ns = xmlNewNs(root, BAD_CAST NS_CT, NULL);
	xmlSetNs(root, ns);
	bool ok = ns != NULL;
	xmlNode *e = xmlNewChild(root, ns, BAD_CAST "Default", NULL);
	ok = ok && e && xmlNewProp(e, BAD_CAST "Extension", BAD_CAST "rels") &&
	     xmlNewProp(e, BAD_CAST "ContentType", BAD_CAST CT_RELS);
	e = xmlNewChild(root, ns, BAD_CAST "Default", NULL);
	ok = ok && e && xmlNewProp(e, BAD_CAST "Extension", BAD_CAST "xml") &&
	     xmlNewProp(e, BAD_CAST "ContentType", BAD_CAST "application/xml");
	sk_buf pn;
	sk_buf_init(&pn, 1u << 16);
	for (size_t i = 0; i < k->n && ok; i++) {
		part *p = &k->p[i];
		if (p->fate != F_KEEP || p->kind == K_RELS || p->kind == K_CT)
			continue;
		const char *ct = (int)i == k->main ? k->mt->clean : p->ct;
		const char *dot = strrchr(base_name(p->name), '.');
		if (dot && !strcasecmp(dot, ".xml") && !strcmp(ct, "application/xml"))
			continue;
		sk_buf_reset(&pn);
		if (sk_buf_printf(&pn, "/%s", p->name)) {
			ok = false;
			break;
		}
		e = xmlNewChild(root, ns, BAD_CAST "Override", NULL);
		ok = e && xmlNewProp(e, BAD_CAST "PartName", BAD_CAST sk_buf_str(&pn)) &&
		     xmlNewProp(e, BAD_CAST "ContentType", BAD_CAST ct);
	}
	sk_buf_free(&pn);
	xmlChar *mem = NULL;
	int n = 0;
	if (ok)
		xmlDocDumpMemoryEnc(d, &mem, &n, "UTF-8");
	xmlFreeDoc(d);
	if (!mem || n <= 0) {
		xmlFree(mem);
		return oom(k);
	}
	*out = malloc((size_t)n);
	if (!*out) {
		xmlFree(mem);
		return oom(k);
	}
	memcpy(*out, mem, (size_t)n);
	*outlen = (size_t)n;
	xmlFree(mem);
	return 0;
}

static int set_time(pkg *k, zip_t *zo, zip_int64_t idx, time_t mtime)
{
	if (k->ctx->profile->strip_metadata || mtime == 0) /* 1980-01-01 00:00 */
		return zip_file_set_dostime(zo, (zip_uint64_t)idx, 0, (1 << 5) | 1, 0);
	return zip_file_set_mtime(zo, (zip_uint64_t)idx, mtime, 0);
}

/* libzip asks while it writes: the item's time is up → zip_close() stops. */
static int close_cancel(zip_t *za, void *ud)
{
	(void)za;
	return sk_budget_time(ud) != SK_REASON_NONE;
}

static int write_zip(pkg *k, const uint8_t *ct, size_t ctlen, sk_output *out)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *dst = zip_source_buffer_create(NULL, 0, 0, &ze);
	if (!dst) {
		zip_error_fini(&ze);
		return oom(k);
	}
	zip_source_keep(dst);
	zip_t *zo = zip_open_from_source(dst, ZIP_TRUNCATE, &ze);
	zip_error_fini(&ze);
	if (!zo) {
		zip_source_free(dst);
		return sk_error_set(k->err, SK_EINTERNAL, "ooxml: cannot create the output zip");
	}
	int rc = 0;
	if (zip_register_cancel_callback_with_state(zo, close_cancel, NULL, k->ctx->budget))
		rc = -1;
	time_t ct_time = k->ctpart >= 0 ? k->p[k->ctpart].mtime : 0;
	zip_source_t *s = zip_source_buffer(zo, ct, ctlen, 0);
	zip_int64_t idx = s ? zip_file_add(zo, "[Content_Types].xml", s, ZIP_FL_ENC_UTF_8) : -1;
	if (idx < 0) {
		if (s)
			zip_source_free(s);
		rc = -1;
	} else if (set_time(k, zo, idx, ct_time)) {
		rc = -1;
	}
	for (size_t i = 0; i < k->n && rc == 0; i++) {
		part *p = &k->p[i];
		if (p->fate != F_KEEP || p->kind == K_CT)
			continue;
		/* copied with its compressed bytes only when sk_zipio_read said they are exactly
		 * the stream of what was read and checked */
		bool raw = !p->changed && p->exact;
		if (p->changed)
			s = zip_source_buffer(zo, p->out, p->outlen, 0);
		else
			s = zip_source_zip(zo, sk_zipio_libzip(k->zio), p->idx,
					   raw ? ZIP_FL_COMPRESSED : 0, 0, -1);
		idx = s ? zip_file_add(zo, p->name, s, ZIP_FL_ENC_UTF_8) : -1;
		if (idx < 0) {
			if (s)
				zip_source_free(s);
			rc = -1;
			break;
		}
		/* a raw copy keeps its method (a stored entry would otherwise be deflated) */
		if (zip_set_file_compression(zo, (zip_uint64_t)idx, raw ? p->method : ZIP_CM_DEFLATE, 0))
			rc = -1;
		else if (set_time(k, zo, idx, p->mtime))
			rc = -1;
	}
	if (rc == 0 && zip_close(zo) != 0)
		rc = -1;
	if (rc) {
		int zc = zip_error_code_zip(zip_get_error(zo));
		zip_discard(zo);
		zip_source_free(dst);
		if (zc == ZIP_ER_MEMORY)
			return oom(k);
		if (zc == ZIP_ER_CANCELLED || sk_budget_time(k->ctx->budget) != SK_REASON_NONE)
			return sk_cdr_block(k->ctx, SK_REASON_LIMIT_TIME, "zip");
		/* reading the input failed (e.g. a CRC error while copying) */
		return sk_cdr_block(k->ctx, SK_REASON_MALFORMED, "zip");
	}
	/* copy the archive to the output */
	if (zip_source_open(dst) < 0) {
		zip_source_free(dst);
		return sk_error_set(k->err, SK_EINTERNAL, "ooxml: output zip");
	}
	uint8_t buf[65536];
	zip_int64_t got;
	while (rc == 0 && (got = zip_source_read(dst, buf, sizeof(buf))) > 0)
		rc = sk_output_write(out, buf, (size_t)got, k->err);
	if (rc == 0 && got < 0)
		rc = sk_error_set(k->err, SK_EINTERNAL, "ooxml: output zip read");
	zip_source_close(dst);
	zip_source_free(dst);
	return rc;
}

/* ---- the module ------------------------------------------------------------------- */

static bool ooxml_accepts(const sk_type *t)
{
	return t->kind == SK_KIND_OOXML;
}

/* Enumerates the ZIP entries (sk_zipio_check has applied the budget to them). Part names
 * are the entries' raw names, which OPC says are UTF-8: a name that is not valid UTF-8,
 * holds a NUL byte or changes when cleaned is removed as unsafe. */
static int scan_entries(pkg *k)
{
	uint64_t ne = sk_zipio_count(k->zio);
	k->p = calloc(ne ? (size_t)ne : 1, sizeof(*k->p));
	if (!k->p)
		return oom(k);
	zip_t *za = sk_zipio_libzip(k->zio);
	sk_buf raw, clean;
	sk_buf_init(&raw, 1u << 16);
	sk_buf_init(&clean, 1u << 16);
	int rc = 0;
	for (uint64_t i = 0; i < ne && rc == 0; i++) {
		sk_zipio_entry e;
		if ((rc = sk_zipio_entry_get(k->zio, i, &e, k->err)) != 0)
			break;
		zip_stat_t st;
		if (zip_stat_index(za, i, 0, &st) != 0) {
			rc = sk_cdr_block(k->ctx, SK_REASON_MALFORMED, "zip");
			break;
		}
		sk_buf_reset(&raw);
		if (sk_buf_add(&raw, e.raw_name, e.raw_name_len)) {
			rc = oom(k);
			break;
		}
		const char *name = sk_buf_str(&raw);
		size_t nl = e.raw_name_len;
		bool nul = memchr(e.raw_name, 0, nl) != NULL;
		if (nl && name[nl - 1] == '/' && !nul)
			continue; /* a folder entry: not a part */
		int ch = sk_name_clean(name, &clean);
		if (ch < 0) {
			rc = oom(k);
			break;
		}
		if (ch != 0 || nul || strcmp(sk_buf_str(&clean), name) || !sk_utf8_valid(name, nl)) {
			rc = sk_cdr_action(k->ctx, SK_ACTION_REMOVED, "part", sk_buf_str(&clean),
					   "unsafe-name", 1);
			continue;
		}
		part *p = &k->p[k->n];
		p->name = strdup(name);
		if (!p->name) {
			rc = oom(k);
			break;
		}
		k->n++;
		p->idx = i;
		p->size = e.size;
		p->csize = e.comp_size;
		p->method = e.method;
		p->mtime = (st.valid & ZIP_STAT_MTIME) ? st.mtime : 0;
		p->src = -2;
		if (!strcmp(p->name, "[Content_Types].xml")) {
			p->kind = K_CT;
			k->ctpart = (int)(k->n - 1);
		} else if (is_rels_name(p->name)) {
			p->kind = K_RELS;
		}
	}
	sk_buf_free(&raw);
	sk_buf_free(&clean);
	if (rc)
		return rc;
	k->byname = malloc((k->n ? k->n : 1) * sizeof(*k->byname));
	k->queue = malloc((k->n ? k->n : 1) * sizeof(int));
	if (!k->byname || !k->queue)
		return oom(k);
	for (size_t i = 0; i < k->n; i++) {
		k->byname[i].name = k->p[i].name;
		k->byname[i].i = i;
	}
	qsort(k->byname, k->n, sizeof(*k->byname), byname_cmp);
	for (size_t i = 1; i < k->n; i++)
		if (!strcasecmp(k->byname[i - 1].name, k->byname[i].name))
			/* two entries for one part: readers would disagree on which counts */
			return sk_cdr_block(k->ctx, SK_REASON_MALFORMED, k->byname[i].name);
	return 0;
}

static bool ext_is_office(const char *ext)
{
	static const char *const exts[] = {"docx", "docm", "dotx", "dotm", "xlsx", "xlsm",
					   "xltx", "xltm", "pptx", "pptm", "ppsx", "ppsm",
					   "potx", "potm"};
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (!strcmp(ext, exts[i]))
			return true;
	return false;
}

static int run(pkg *k, sk_input *in, sk_output *out)
{
	const uint8_t *data;
	size_t len;
	int rc = sk_input_load(in, &data, &len, k->err);
	if (rc)
		return rc;
	/* sekisho/zipio.h: libzip and our walk of the central directory agree, every local
	 * header inside the input, no overlaps; then the budget (entries, encryption, declared
	 * ratio and sizes) before anything is decompressed */
	sk_error ze = {0};
	sk_reason why = SK_REASON_NONE;
	rc = sk_zipio_open(&k->zio, data, len, &why, &ze);
	if (rc == 0)
		rc = sk_zipio_check(k->zio, k->ctx->budget, &why, &ze);
	if (rc)
		return zio_rc(k, rc, why, &ze, NULL);
	k->ctpart = -1;
	k->main = -1;
	if ((rc = scan_entries(k)) || (rc = ct_read(k)))
		return rc;
	for (size_t i = 0; i < k->n; i++)
		if (k->p[i].kind != K_CT && k->p[i].kind != K_RELS && (rc = ct_assign(k, &k->p[i])))
			return rc;

	/* The main part is found first from the package relationships, then every
	 * relationship is decided walking the graph breadth-first. do_rels() for the root
	 * decides the root relationships itself, so the main part must be known before:
	 * find it by a first look at _rels/.rels. */
	{
		int ri = find_part(k, "_rels/.rels");
		if (ri < 0)
			return sk_cdr_block(k->ctx, SK_REASON_MALFORMED, "_rels/.rels");
		uint8_t *rd;
		size_t rl;
		if ((rc = load_part(k, &k->p[ri], true, &rd, &rl)))
			return rc;
		xmlDoc *d = NULL;
		rc = xml_parse(k, rd, rl, "_rels/.rels", &d);
		free(rd);
		if (rc && rc != SK_EFORMAT)
			return rc;
		rc = 0;
		xmlNode *root = d ? xmlDocGetRootElement(d) : NULL;
		if (!root || !named(root, "Relationships") || !ns_is(root, NS_PR, NULL)) {
			if (d)
				xmlFreeDoc(d);
			return sk_cdr_block(k->ctx, SK_REASON_MALFORMED, "_rels/.rels");
		}
		int main = -1;
		bool two = false;
		sk_buf tb;
		sk_buf_init(&tb, 8192);
		for (xmlNode *c = root->children; c; c = c->next) {
			if (!named(c, "Relationship"))
				continue;
			xmlChar *ty = xmlGetNoNsProp(c, BAD_CAST "Type");
			xmlChar *tg = xmlGetNoNsProp(c, BAD_CAST "Target");
			xmlChar *md = xmlGetNoNsProp(c, BAD_CAST "TargetMode");
			const char *sl = ty ? strrchr((const char *)ty, '/') : NULL;
			if (sl && !strcmp(sl + 1, "officeDocument") && tg &&
			    !(md && !strcmp((const char *)md, "External"))) {
				int i = resolve(NULL, (const char *)tg, &tb);
				if (i == 0)
					i = find_target(k, sk_buf_str(&tb));
				if (i == SK_ENOMEM) {
					xmlFree(ty);
					xmlFree(tg);
					xmlFree(md);
					sk_buf_free(&tb);
					xmlFreeDoc(d);
					return oom(k);
				}
				if (i >= 0 && main >= 0 && i != main)
					two = true;
				if (i >= 0)
					main = i;
			}
			xmlFree(ty);
			xmlFree(tg);
			xmlFree(md);
		}
		sk_buf_free(&tb);
		xmlFreeDoc(d);
		if (two)
			return sk_cdr_block(k->ctx, SK_REASON_MALFORMED, "two main documents");
		if (main < 0)
			return sk_cdr_block(k->ctx, SK_REASON_MALFORMED, "no main document");
		k->main = main;
		k->mt = main_type_of(k->p[main].ct);
		part *mp = &k->p[main];
		if (!k->mt && (!mp->ct || !strcasecmp(mp->ct, "application/xml"))) {
			/* declared generically or not at all: the usual name tells */
			const char *ct = ct_infer(mp->name);
			if ((k->mt = main_type_of(ct))) {
				free(mp->ct);
				if (!(mp->ct = strdup(ct)))
					return oom(k);
				mp->ct_inferred = true;
			}
		}
		if (!k->mt)
			return sk_cdr_block(k->ctx,
					    k->p[main].ct ? SK_REASON_UNKNOWN_TYPE : SK_REASON_MALFORMED,
					    k->p[main].ct ? k->p[main].ct : "main document type");
	}
	if ((rc = do_rels(k, -1)))
		return rc;
	if (k->p[k->main].fate != F_KEEP)
		return sk_cdr_block(k->ctx, SK_REASON_MALFORMED, k->p[k->main].name);
	while (k->qh < k->qt)
		if ((rc = do_rels(k, k->queue[k->qh++])))
			return rc;

	/* what no kept relationship reaches goes */
	for (size_t i = 0; i < k->n; i++) {
		part *p = &k->p[i];
		if (p->kind == K_CT)
			continue;
		if (p->kind == K_RELS) {
			if (p->src == -2 && !p->reported) { /* relationships of nothing kept */
				const char *b = base_name(p->name);
				size_t bl = strlen(b);
				/* the source: "dir/_rels/x.rels" → "dir/x" */
				sk_buf s;
				sk_buf_init(&s, 1u << 16);
				int e = sk_buf_add(&s, p->name, (size_t)(b - p->name) >= 6
								 ? (size_t)(b - p->name) - 6
								 : 0);
				if (!e)
					e = sk_buf_add(&s, b, bl > 5 ? bl - 5 : 0);
				int si = e ? -1 : find_part(k, sk_buf_str(&s));
				sk_buf_free(&s);
				p->fate = F_DROP;
				if (si < 0 && (rc = sk_cdr_action(k->ctx, SK_ACTION_REMOVED, "part",
								  p->name, "unreferenced", 1)))
					return rc;
			}
			continue;
		}
		if (p->fate == F_UNSEEN) {
			const char *what = danger_by_ct(p->ct);
			if (!what)
				what = danger_by_name(p->name);
			p->fate = F_DROP;
			if (!p->reported &&
			    (rc = sk_cdr_action(k->ctx, SK_ACTION_REMOVED, what ? what : "part",
						p->name, "unreferenced", 1)))
				return rc;
		}
	}
	/* relationships of dropped parts go with them */
	for (size_t i = 0; i < k->n; i++)
		if (k->p[i].kind == K_RELS && k->p[i].src >= 0 && k->p[k->p[i].src].fate != F_KEEP)
			k->p[i].fate = F_DROP;

	/* clean the XML parts and their relationships */
	if ((rc = rewrite_rels(k, &k->root)))
		return rc;
	if (k->root.rels_part < 0 || k->p[k->root.rels_part].fate != F_KEEP)
		return sk_cdr_block(k->ctx, SK_REASON_MALFORMED, "_rels/.rels");
	for (size_t i = 0; i < k->n; i++) {
		part *p = &k->p[i];
		if (p->fate != F_KEEP || p->kind != K_XML)
			continue;
		sk_reason late = sk_budget_time(k->ctx->budget);
		if (late != SK_REASON_NONE)
			return sk_cdr_block(k->ctx, late, p->name);
		if ((rc = rewrite_rels(k, &p->rs)) || (rc = clean_refs_part(k, p)))
			return rc;
	}

	/* reports: content types, file type */
	bool inferred = false;
	for (size_t i = 0; i < k->n; i++)
		if (k->p[i].fate == F_KEEP && k->p[i].ct_inferred)
			inferred = true;
	if (k->ct_problem || inferred) {
		rc = sk_cdr_action(k->ctx, SK_ACTION_REPAIRED, "content-types", "[Content_Types].xml",
				   k->ct_problem ? k->ct_problem : "incomplete", 1);
		if (rc)
			return rc;
	}
	if (k->mt->from) {
		rc = sk_cdr_action(k->ctx, SK_ACTION_CONVERTED, "file-type", NULL, k->mt->ext, 1);
		if (rc)
			return rc;
	}
	{
		char ext[32];
		sk_name_ext(k->ctx->name, ext, sizeof(ext));
		if (k->mt->from || (ext_is_office(ext) && strcmp(ext, k->mt->ext)))
			snprintf(k->ctx->out_ext, sizeof(k->ctx->out_ext), "%s", k->mt->ext);
	}

	uint8_t *ct = NULL;
	size_t ctlen = 0;
	if ((rc = build_ct(k, &ct, &ctlen)))
		return rc;
	/* A tree missing what an allocation could not make was not cleaned whole: whatever
	 * libxml2 call it was (a parse, an attribute read, a node copy, the serialiser),
	 * nothing of this package is written. */
	if (sk_xml_failures() != k->xml_fail0) {
		free(ct);
		return oom(k);
	}
	rc = write_zip(k, ct, ctlen, out);
	free(ct);
	return rc;
}

static int ooxml_sanitize(sk_cdr_ctx *ctx, sk_input *in, sk_output *out, sk_error *err)
{
	sk_xml_init();
	pkg k;
	memset(&k, 0, sizeof(k));
	k.ctx = ctx;
	k.err = err;
	k.xml_fail0 = sk_xml_failures();
	int rc = run(&k, in, out);
	if (rc && sk_xml_failures() != k.xml_fail0) {
		/* what looked malformed or missing may be what an allocation could not make */
		ctx->reason = SK_REASON_NONE;
		rc = oom(&k);
	}
	pkg_free(&k);
	return rc;
}

const sk_cdr_module sk_cdr_module_ooxml = {
	.name = "ooxml",
	.accepts = ooxml_accepts,
	.sanitize = ooxml_sanitize,
};
