/* libxml2 used one way (see include/sekisho/xml.h). */
#include "sekisho/xml.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlmemory.h>

#include "sekisho/error.h"

/* ---- allocation hooks ---------------------------------------------------------- */

_Thread_local uint64_t sk_xml_fail_at;
static _Thread_local uint64_t failures;

static bool injected(void)
{
	if (sk_xml_fail_at == 0)
		return false;
	return --sk_xml_fail_at == 0;
}

static void *xm_malloc(size_t n)
{
	void *p = injected() ? NULL : malloc(n);
	if (!p)
		failures++;
	return p;
}

static void *xm_realloc(void *p, size_t n)
{
	void *q = injected() ? NULL : realloc(p, n);
	if (!q && n)
		failures++;
	return q;
}

static char *xm_strdup(const char *s)
{
	char *d = injected() ? NULL : strdup(s);
	if (!d)
		failures++;
	return d;
}

static void xm_free(void *p)
{
	free(p);
}

/* libxml2 prints some errors (encoding conversion, memory) through its generic handler
 * whatever the parser options say; nothing of an input goes to stderr. */
static void silent(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_once(void)
{
	/* same allocator underneath: memory libxml2 took before the hooks frees alike */
	xmlMemSetup(xm_free, xm_malloc, xm_realloc, xm_strdup);
	xmlInitParser();
}

void sk_xml_init(void)
{
	pthread_once(&once, init_once);
	/* per thread (libxml2 keeps the handler in thread-local globals) */
	xmlSetGenericErrorFunc(NULL, silent);
}

uint64_t sk_xml_failures(void)
{
	return failures;
}

uint64_t sk_xml_markup_count(const void *p, size_t n, uint64_t stop)
{
	const uint8_t *s = p, *e = s + n;
	uint64_t c = 0;
	while (s < e && c < stop) {
		const uint8_t *lt = memchr(s, '<', (size_t)(e - s));
		if (!lt)
			break;
		if (lt + 1 == e || lt[1] != '/')
			c++;
		s = lt + 1;
	}
	return c;
}

/* ---- the guarded parse --------------------------------------------------------- */

#define TIME_EVERY 4096 /* nodes between two looks at the clock */

typedef struct guard {
	const sk_budget *b;
	uint64_t nodes;
	sk_reason stop;   /* a limit stopped the parse */
	bool doctype;
	startElementNsSAX2Func start_ns;
	startElementSAXFunc start;
	commentSAXFunc comment;
	processingInstructionSAXFunc pi;
} guard;

/* One more node: false (and the parser stopped) when a limit is passed. */
static bool count_node(xmlParserCtxt *c)
{
	guard *g = c->_private;
	if (g->stop != SK_REASON_NONE)
		return false;
	g->nodes++;
	sk_reason r = SK_REASON_NONE;
	if (g->b) {
		r = sk_budget_nodes(g->b, g->nodes);
		if (r == SK_REASON_NONE && g->nodes % TIME_EVERY == 0)
			r = sk_budget_time(g->b);
	}
	if (r == SK_REASON_NONE)
		return true;
	g->stop = r;
	xmlStopParser(c);
	return false;
}

static void h_start_ns(void *ctx, const xmlChar *localname, const xmlChar *prefix,
		       const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
		       int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	xmlParserCtxt *c = ctx;
	if (count_node(c))
		((guard *)c->_private)
			->start_ns(ctx, localname, prefix, uri, nb_namespaces, namespaces,
				   nb_attributes, nb_defaulted, attributes);
}

static void h_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
	xmlParserCtxt *c = ctx;
	if (count_node(c))
		((guard *)c->_private)->start(ctx, name, atts);
}

static void h_comment(void *ctx, const xmlChar *value)
{
	xmlParserCtxt *c = ctx;
	guard *g = c->_private;
	if (count_node(c) && g->comment)
		g->comment(ctx, value);
}

static void h_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
	xmlParserCtxt *c = ctx;
	guard *g = c->_private;
	if (count_node(c) && g->pi)
		g->pi(ctx, target, data);
}

/* A DOCTYPE is never legitimate in the XML we read: stop before its declarations
 * (entities, external subsets) are read. */
static void h_internal_subset(void *ctx, const xmlChar *name, const xmlChar *eid,
			      const xmlChar *sid)
{
	(void)name;
	(void)eid;
	(void)sid;
	xmlParserCtxt *c = ctx;
	((guard *)c->_private)->doctype = true;
	xmlStopParser(c);
}

/* Before the tree is built: the markup starts against the node limit, the clock. */
static sk_reason precheck(const sk_budget *b, const void *data, size_t len)
{
	if (!b)
		return SK_REASON_NONE;
	sk_reason r = sk_budget_time(b);
	if (r == SK_REASON_NONE && b->max_nodes)
		r = sk_budget_nodes(b, sk_xml_markup_count(data, len, b->max_nodes + 1));
	return r;
}

static void hook(xmlParserCtxt *c, guard *g, bool html)
{
	g->start_ns = c->sax->startElementNs;
	g->start = c->sax->startElement;
	g->comment = c->sax->comment;
	g->pi = c->sax->processingInstruction;
	if (html) {
		c->sax->startElement = h_start;
	} else {
		c->sax->startElementNs = h_start_ns;
		c->sax->startElement = NULL; /* SAX1: never with a SAX2 handler */
		c->sax->internalSubset = h_internal_subset;
		c->sax->externalSubset = NULL;
		c->sax->resolveEntity = NULL;
	}
	c->sax->comment = h_comment;
	c->sax->processingInstruction = h_pi;
	c->_private = g;
}

/* The verdict on a parse that returned d (may be NULL). */
static int settle(xmlParserCtxt *c, guard *g, uint64_t fail0, bool html, xmlDoc *d,
		  xmlDoc **doc, sk_reason *why)
{
	int rc = 0;
	if (sk_xml_failures() != fail0 || c->errNo == XML_ERR_NO_MEMORY)
		rc = SK_ENOMEM;
	else if (g->stop != SK_REASON_NONE) {
		rc = SK_EBLOCKED;
		*why = g->stop;
	} else if (!html && (!d || !xmlDocGetRootElement(d) || g->doctype || !c->wellFormed ||
			     !c->nsWellFormed || d->intSubset || d->extSubset)) {
		rc = SK_EFORMAT;
	}
	if (rc == 0)
		*doc = d;
	else if (d)
		xmlFreeDoc(d);
	return rc;
}

/* One parse, XML or HTML: the limits before, the hooks during, the checks after. */
static int read_doc(const void *data, size_t len, const char *name, const char *encoding,
		    bool html, const sk_budget *b, xmlDoc **doc, sk_reason *why)
{
	*doc = NULL;
	*why = SK_REASON_NONE;
	if (len > INT_MAX)
		return SK_ELIMIT;
	sk_reason r = precheck(b, data, len);
	if (r != SK_REASON_NONE) {
		*why = r;
		return SK_EBLOCKED;
	}
	sk_xml_init();
	uint64_t fail0 = sk_xml_failures();
	xmlParserCtxt *c = html ? htmlNewParserCtxt() : xmlNewParserCtxt();
	if (!c)
		return SK_ENOMEM;
	guard g = {.b = b};
	hook(c, &g, html);
	xmlDoc *d = html ? htmlCtxtReadMemory(c, (const char *)data, (int)len, NULL, encoding,
					      HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
						      HTML_PARSE_NOWARNING | HTML_PARSE_NONET)
			 : xmlCtxtReadMemory(c, (const char *)data, (int)len, name, NULL,
					     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	int rc = settle(c, &g, fail0, html, d, doc, why);
	if (html)
		htmlFreeParserCtxt(c);
	else
		xmlFreeParserCtxt(c);
	return rc;
}

int sk_xml_read(const void *data, size_t len, const char *name, const sk_budget *b,
		xmlDoc **doc, sk_reason *why)
{
	return read_doc(data, len, name, NULL, false, b, doc, why);
}

int sk_xml_read_html(const void *data, size_t len, const char *encoding, const sk_budget *b,
		     xmlDoc **doc, sk_reason *why)
{
	return read_doc(data, len, NULL, encoding, true, b, doc, why);
}
