/* sekisho — libxml2 used one way by every module that parses XML or HTML.
 *
 * libxml2 can hand back a tree that stops where memory ran out and still call it
 * well-formed; a module that cleaned that tree would then copy the part it believed
 * unchanged, with what came after the cut. So:
 *  - every allocation libxml2 makes goes through sekisho's hooks, which count the
 *    failures per thread: sk_xml_failures() before and after a piece of tree work tells
 *    whether anything in it may be missing;
 *  - sk_xml_read()/sk_xml_read_html() refuse to build a tree of a part with more markup
 *    starts than the budget's node limit (counted before parsing), stop the parse when the
 *    nodes made pass it or the item's time is up, and return a document only when the
 *    parse was whole: no allocation failure, no error (XML), no stop. */
#ifndef SEKISHO_XML_H
#define SEKISHO_XML_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "sekisho/budget.h"
#include "sekisho/report.h"

/* Installs the allocation hooks and initialises libxml2, once per process (thread-safe).
 * sk_xml_read*() call it; a module that builds trees itself calls it first. */
void sk_xml_init(void);

/* Allocation failures inside libxml2 on the calling thread so far. */
uint64_t sk_xml_failures(void);

/* Markup starts in p[0..n): '<' not followed by '/', counted up to stop (the count
 * returned is then stop). An upper bound of the element, comment, processing-instruction
 * and CDATA nodes a parser can make of these bytes; counting a part in pieces counts a
 * '<' at the end of a piece as a start (still an upper bound). */
uint64_t sk_xml_markup_count(const void *p, size_t n, uint64_t stop);

/* Parses XML without network, DTD (a DOCTYPE is refused), entity expansion or recovery.
 * name is for messages (may be NULL), b may be NULL (no limits).
 * Returns 0 with *doc (free with xmlFreeDoc), or, with *doc NULL:
 *   SK_EFORMAT   not well-formed, namespace error, or a DOCTYPE;
 *   SK_ENOMEM    an allocation failed while the tree was built;
 *   SK_EBLOCKED  a limit: *why is SK_REASON_LIMIT_NODES or SK_REASON_LIMIT_TIME;
 *   SK_ELIMIT    the part is larger than libxml2 takes (2 GiB). */
int sk_xml_read(const void *data, size_t len, const char *name, const sk_budget *b,
		xmlDoc **doc, sk_reason *why);

/* Parses HTML as browsers do (errors recovered), in the given encoding (NULL: guessed),
 * without network. Same returns, except that syntax errors are not SK_EFORMAT, and that
 * 0 may come with *doc NULL: nothing readable (an empty document). */
int sk_xml_read_html(const void *data, size_t len, const char *encoding, const sk_budget *b,
		     xmlDoc **doc, sk_reason *why);

/* Test hook: when set to N > 0, the Nth libxml2 allocation from now on this thread fails
 * (then it is 0 again). */
extern _Thread_local uint64_t sk_xml_fail_at;

#endif
