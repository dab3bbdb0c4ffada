/* DLP on what will be delivered, by its type (see cdr.h: sk_cdr_dlp): the one place the
 * engine (a file) and the MIME walk (a mail attachment) decide what DLP reads.
 *
 * Text is scanned as it is. An Office Open XML document (docx, xlsx, pptx and their
 * macro-free siblings, as rebuilt) is scanned as the text a reader sees: for each XML part
 * under word/, xl/ or ppt/ (no relationships), the text of its `t` elements (w:t, a:t, the
 * shared strings' t), a line break after each paragraph (`p`), shared string (`si`) and
 * break (`br`, `cr`), a tab for `tab` and after a table cell (`tc`). Each part is one
 * scan; its findings are placed "WHERE PART line L:C". A message (an .eml file rebuilt, a
 * .msg rebuilt as .eml: type "eml") is read by the mail module as a mail reader shows it
 * (mail.h: sk_mail_dlp), which hands each attachment back here.
 * Anything else is noted "dlp-unscanned". The rebuilt document is read again under a
 * fresh copy of the item's limits (its clock shared): a limit hit while reading it is
 * SK_ELIMIT, like text over the DLP size limit. */
#include <string.h>

#include <libxml/tree.h>

#include "sekisho/buf.h"
#include "sekisho/cdr.h"
#include "sekisho/dlp.h"
#include "sekisho/mail.h"
#include "sekisho/xml.h"
#include "sekisho/zipio.h"

#define TEXT_MAX ((size_t)256 << 20) /* text of one part (DLP's own limit applies too) */

static bool wanted_part(const char *name, size_t n)
{
	if (n < 5 || strcmp(name + n - 4, ".xml") != 0 || strstr(name, "_rels/"))
		return false;
	return !strncmp(name, "word/", 5) || !strncmp(name, "xl/", 3) || !strncmp(name, "ppt/", 4);
}

static bool is(const xmlNode *x, const char *local)
{
	return x->type == XML_ELEMENT_NODE && x->name && !strcmp((const char *)x->name, local);
}

/* The reader's text of the tree under x into out (no recursion: documents nest deep). */
static int tree_text(xmlNode *root, sk_buf *out)
{
	int rc = 0;
	xmlNode *x = root;
	while (x && !rc) {
		if (is(x, "t")) {
			for (xmlNode *c = x->children; c && !rc; c = c->next)
				if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content)
					rc = sk_buf_adds(out, (const char *)c->content);
		} else if (is(x, "tab")) {
			rc = sk_buf_adds(out, "\t");
		} else if (is(x, "br") || is(x, "cr")) {
			rc = sk_buf_adds(out, "\n");
		}
		/* down (not into t, whose text is taken), else on, else up and on */
		if (x->children && !is(x, "t") && x->type == XML_ELEMENT_NODE) {
			x = x->children;
			continue;
		}
		while (x && !rc) {
			if (x->type == XML_ELEMENT_NODE) {
				if (is(x, "p") || is(x, "si"))
					rc = sk_buf_adds(out, "\n");
				else if (is(x, "tc"))
					rc = sk_buf_adds(out, "\t");
			}
			if (x == root) {
				x = NULL;
				break;
			}
			if (x->next) {
				x = x->next;
				break;
			}
			x = x->parent;
		}
	}
	return rc;
}

static int ooxml_dlp(const sk_dlp *d, unsigned kinds, const uint8_t *p, size_t n,
		     const char *where, const sk_budget *limits, sk_report *report, sk_error *err)
{
	sk_budget b = *limits; /* the same limits, the reading counted afresh, the same clock */
	b.expanded = b.entries = b.pixels = 0;
	sk_zipio *z = NULL;
	sk_reason why = SK_REASON_NONE;
	int rc = sk_zipio_open(&z, p, n, &why, err);
	if (rc)
		return rc == SK_EBLOCKED ? sk_error_set(err, SK_ELIMIT, "dlp: %s", sk_reason_code(why)) : rc;
	sk_buf name, part, text;
	sk_buf_init(&name, 4096);
	sk_buf_init(&part, 0);
	sk_buf_init(&text, TEXT_MAX);
	uint64_t count = sk_zipio_count(z);
	for (uint64_t i = 0; i < count && !rc; i++) {
		if ((rc = sk_zipio_name(z, i, &name)) != 0)
			break;
		const char *nm = (const char *)sk_buf_str(&name);
		if (strlen(nm) != sk_buf_len(&name) || !wanted_part(nm, sk_buf_len(&name)))
			continue;
		sk_buf_reset(&part);
		rc = sk_zipio_read(z, i, &b, &part, NULL, &why, err);
		if (rc == SK_EBLOCKED) {
			rc = sk_error_set(err, SK_ELIMIT, "dlp: %s: %s", nm, sk_reason_code(why));
			break;
		}
		if (rc)
			break;
		xmlDoc *doc = NULL;
		rc = sk_xml_read(sk_buf_len(&part) ? sk_buf_data(&part) : (const uint8_t *)"",
				 sk_buf_len(&part), nm, &b, &doc, &why);
		if (rc) {
			/* the rebuilt part is ours: a part that does not parse again is a limit
			 * (nodes, time) or memory, never a reason to let it through unread */
			rc = rc == SK_ENOMEM ? sk_error_set(err, SK_ENOMEM, "dlp: %s", nm)
					     : sk_error_set(err, SK_ELIMIT, "dlp: %s: %s", nm,
							    why != SK_REASON_NONE ? sk_reason_code(why)
										  : "unreadable");
			break;
		}
		sk_buf_reset(&text);
		rc = tree_text(xmlDocGetRootElement(doc), &text);
		xmlFreeDoc(doc);
		if (rc) {
			rc = sk_error_set(err, rc, "dlp: %s: text", nm);
			break;
		}
		if (!sk_buf_len(&text))
			continue;
		char w[700];
		snprintf(w, sizeof(w), "%s%s%.500s", where ? where : "", where && *where ? " " : "", nm);
		sk_input in;
		sk_input_mem(&in, sk_buf_data(&text), sk_buf_len(&text));
		rc = sk_dlp_report(d, kinds, &in, w, report, err);
	}
	sk_buf_free(&name);
	sk_buf_free(&part);
	sk_buf_free(&text);
	sk_zipio_close(z);
	return rc;
}

static bool ooxml_document(const sk_type *t)
{
	static const char *const codes[] = {"docx", "xlsx", "pptx"};
	if (t->kind != SK_KIND_OOXML || !t->code)
		return false;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(t->code, codes[i]))
			return true;
	return false;
}

typedef int (*whole_fn)(const sk_dlp *d, unsigned kinds, const uint8_t *p, size_t n,
			const char *where, const sk_budget *limits, sk_report *report, sk_error *err);

/* fn on the whole of in (read into memory when it is a descriptor). */
static int read_whole(whole_fn fn, const sk_dlp *d, unsigned kinds, const sk_input *in,
		      const char *where, const sk_budget *limits, sk_report *report, sk_error *err)
{
	sk_input cp = *in;
	cp.loaded = NULL;
	const uint8_t *p = NULL;
	size_t n = 0;
	int rc = sk_input_load(&cp, &p, &n, err);
	if (rc == 0)
		rc = fn(d, kinds, n ? p : (const uint8_t *)"", n, where, limits, report, err);
	sk_input_release(&cp);
	return rc;
}

int sk_cdr_dlp(const sk_dlp *d, unsigned kinds, const sk_type *t, const sk_input *in,
	       const char *where, const sk_budget *limits, sk_report *report, sk_error *err)
{
	if (t->kind == SK_KIND_MESSAGE) /* an .eml file rebuilt, a .msg rebuilt as .eml */
		return read_whole(sk_mail_dlp, d, kinds, in, where, limits, report, err);
	if (sk_kind_is_text(t->kind))
		return sk_dlp_report(d, kinds, in, where, report, err);
	if (!ooxml_document(t))
		return sk_report_add(report, SK_ACTION_NOTED, "dlp-unscanned", where ? where : "",
				     t->code, 1);
	return read_whole(ooxml_dlp, d, kinds, in, where, limits, report, err);
}
