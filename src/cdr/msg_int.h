/* The Outlook .msg module's inner parts (internal to libsekisho; tests call them). */
#ifndef SK_MSG_INT_H
#define SK_MSG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/budget.h"
#include "sekisho/buf.h"
#include "sekisho/error.h"
#include "sekisho/report.h"

/* Compressed RTF (PR_RTF_COMPRESSED, [MS-OXRTFCP]): "LZFu" (its CRC checked) or "MELA"
 * (stored) in p[0..n), appended to out. The declared size is charged to b's expansion
 * (and its ratio to the compressed size checked) before anything is produced, and the
 * output must come to exactly that size: more, less, a reference before the start of the
 * output, input that ends before the end marker or a bad CRC are malformed. Returns 0,
 * SK_EBLOCKED with *why, SK_ELIMIT (out's max), SK_ENOMEM. */
int sk_msg_lzfu(const uint8_t *p, size_t n, sk_budget *b, sk_buf *out, sk_reason *why,
		sk_error *err);

/* The text of an RTF document p[0..n), as UTF-8 appended to out. An RTF body Outlook made
 * from HTML (\fromhtml1) gives back that HTML (*html set: the caller makes it text); one
 * made from text (\fromtext) its text; any other RTF its readable text (paragraphs,
 * tabs, \'hh in the document's or font's code page, \uN; fonts, colours, styles,
 * pictures, objects, fields' instructions and other destinations left out). Control words
 * and groups are counted against b's node limit (SK_REASON_LIMIT_NODES), groups nested
 * deeper than 1000 are SK_REASON_LIMIT_DEPTH, b's clock is looked at as it goes. */
int sk_msg_rtf_text(const uint8_t *p, size_t n, const sk_budget *b, sk_buf *out, bool *html,
		    sk_reason *why, sk_error *err);

/* The iconv name of a Windows code page (932 → "CP932", 65001 → "UTF-8", 50220 →
 * "ISO-2022-JP" read as CP50220, 1251 → "WINDOWS-1251" …), or NULL for a code page
 * without a conversion a sandboxed worker has loaded (the caller guesses then). */
const char *sk_msg_codepage(uint32_t cp, char *buf, size_t n);

#endif
