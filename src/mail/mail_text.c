/* Mail text: charset decoding (CP50220 for ISO-2022-JP, guessing), HTML to readable text
 * (libxml2's HTML parser), neutralised links. */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include <glib.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "sekisho/charset.h"
#include "sekisho/mail.h"
#include "sekisho/name.h"
#include "sekisho/xml.h"

#include "mail_phish.h"

/* ---- charsets (detection and conversion: sekisho/charset.h) ---------------------- */

/* `from` to UTF-8; invalid bytes become U+FFFD (counted in *bad). Returns SK_EINVAL when
 * the charset is unknown. */
static int conv(const char *from, const uint8_t *p, size_t n, sk_buf *out, size_t *bad)
{
	*bad = 0;
	return sk_charset_to_utf8(from, p, n, out, bad, NULL);
}

static bool has8bit(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] & 0x80)
			return true;
	return false;
}

/* The charset sk_charset_detect sees, read with the iconv name that reads it best. */
static int guess(const uint8_t *p, size_t n, sk_buf *out)
{
	sk_charset_guess g;
	sk_charset_detect(p, n, false, &g);
	if (g.cs == SK_CHARSET_ASCII ||
	    (g.cs == SK_CHARSET_UTF8 && sk_utf8_valid((const char *)p, n)))
		return sk_buf_add(out, p, n); /* unchanged */
	size_t bad;
	size_t mark = sk_buf_len(out);
	int rc = conv(sk_charset_iconv_name(&g), p, n, out, &bad);
	if (rc == SK_EINVAL) {
		sk_buf_truncate(out, mark);
		rc = conv("CP932", p, n, out, &bad); /* the most common 8-bit Japanese mail */
	}
	return rc;
}

/* A character of the Private Use Area (U+E000-U+F8FF: UTF-8 EE 80 80 to EF A3 BF) in
 * the UTF-8 text: the user-defined rows of CP932 and EUC-JP-MS read almost any pair of
 * high bytes into it, so a reading that needs them proves nothing. */
static bool has_private_use(const uint8_t *u, size_t n)
{
	for (size_t i = 0; i + 2 < n; i++)
		if (u[i] == 0xEE || (u[i] == 0xEF && u[i + 1] <= 0xA3))
			return true;
	return false;
}

/* A reading that is surely better than a declared charset that met invalid bytes: a
 * detected multi-byte charset (not a single-byte guess, which reads any bytes) in which
 * every byte is valid. Appends it and returns true; false (out unchanged) when none. */
static bool strict_guess(const uint8_t *p, size_t n, sk_buf *out, int *rc)
{
	sk_charset_guess g;
	sk_charset_detect(p, n, false, &g);
	if (g.cs == SK_CHARSET_8BIT || g.cs == SK_CHARSET_ASCII)
		return false;
	if (g.cs == SK_CHARSET_UTF8 && !sk_utf8_valid((const char *)p, n))
		return false;
	if (g.cs == SK_CHARSET_ISO2022JP && has8bit(p, n))
		return false; /* its reader would turn them into '?' */
	const char *name = sk_charset_iconv_name(&g);
	if (g.cs != SK_CHARSET_ISO2022JP && !sk_charset_decodes(name, p, n, false))
		return false;
	size_t mark = sk_buf_len(out), bad = 0;
	*rc = conv(name, p, n, out, &bad);
	if (*rc == 0 && (bad || has_private_use(sk_buf_data(out) + mark, sk_buf_len(out) - mark))) {
		sk_buf_truncate(out, mark);
		return false;
	}
	return true;
}

int sk_mail_decode_text(const uint8_t *p, size_t n, const char *label, sk_buf *out,
			sk_error *err)
{
	int rc;
	size_t mark = out->len, bad = 0;
	if (!p)
		p = (const uint8_t *)"";
	sk_charset lab = label && *label ? sk_charset_from_label(label) : SK_CHARSET_ASCII;
	if (lab == SK_CHARSET_ASCII || lab == SK_CHARSET_UTF8)
		rc = guess(p, n, out); /* valid UTF-8 and plain ASCII come through unchanged */
	else if (lab == SK_CHARSET_ISO2022JP && has8bit(p, n))
		rc = guess(p, n, out); /* 8-bit bytes are no ISO-2022-JP */
	else {
		/* the declared charset is honoured (read as its usual superset), whatever the
		 * transfer encoding said; only when it meets invalid bytes may a detected
		 * multi-byte charset that reads every byte replace it (mislabelled text) */
		rc = conv(sk_charset_label_iconv(label, NULL), p, n, out, &bad);
		if (rc == SK_EINVAL) {
			out->len = mark;
			rc = guess(p, n, out);
		} else if (rc == 0 && bad) {
			sk_buf alt;
			sk_buf_init(&alt, SK_BUF_MAX_DEFAULT);
			int arc = 0;
			if (strict_guess(p, n, &alt, &arc) && arc == 0) {
				out->len = mark;
				rc = sk_buf_add(out, alt.data ? alt.data : (const uint8_t *)"", alt.len);
			}
			sk_buf_free(&alt);
		}
	}
	if (out->data)
		out->data[out->len] = 0;
	return rc ? sk_error_set(err, rc, "charset decoding") : 0;
}

int sk_mail_decode_undeclared(const uint8_t *p, size_t n, const char *hint, sk_buf *out,
			      sk_error *err)
{
	if (!p)
		p = (const uint8_t *)"";
	size_t mark = out->len, bad = 0;
	int rc = 0;
	bool mb = false;
	const char *h = sk_charset_label_iconv(hint, &mb);
	if (!has8bit(p, n)) {
		/* ASCII, or raw ISO-2022-JP (escape sequences in a header, no encoded word) */
		bool iso = false;
		sk_charset_ascii_prefix(p, n, &iso);
		rc = iso ? conv("CP50220", p, n, out, &bad) : sk_buf_add(out, p, n);
		goto done;
	}
	if (sk_utf8_valid((const char *)p, n)) {
		rc = sk_buf_add(out, p, n);
		goto done;
	}
	/* 1. the body's declared charset, when it is multi-byte and reads every byte */
	if (h && mb && sk_charset_decodes(h, p, n, false)) {
		rc = conv(h, p, n, out, &bad);
		if (rc != SK_EINVAL)
			goto done;
		out->len = mark;
	}
	/* 2. a detected multi-byte charset that reads every byte */
	if (strict_guess(p, n, out, &rc))
		goto done;
	/* 3. a single-byte declared charset */
	if (h && !mb && sk_charset_decodes(h, p, n, false)) {
		rc = conv(h, p, n, out, &bad);
		if (rc != SK_EINVAL)
			goto done;
		out->len = mark;
	}
	/* 4. what detection says (a single-byte charset uchardet named, never a Latin-1
	 * default), then the declared charset, then CP932, with U+FFFD for what they cannot
	 * read */
	sk_charset_guess g;
	sk_charset_detect(p, n, false, &g);
	if (g.cs == SK_CHARSET_8BIT && g.detected[0] &&
	    sk_charset_decodes(g.detected, p, n, false)) {
		rc = conv(g.detected, p, n, out, &bad);
		if (rc != SK_EINVAL)
			goto done;
		out->len = mark;
	}
	/* (ISO-2022-JP would turn 8-bit bytes into '?': CP932 reads them better) */
	rc = h && strcmp(h, "CP50220") ? conv(h, p, n, out, &bad) : SK_EINVAL;
	if (rc == SK_EINVAL) {
		out->len = mark;
		rc = conv("CP932", p, n, out, &bad);
	}
done:
	if (out->data)
		out->data[out->len] = 0;
	return rc ? sk_error_set(err, rc, "charset decoding") : 0;
}

/* ---- links ---------------------------------------------------------------------- */

static bool url_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f && !strchr("<>\"'`{}|\\^", c);
}

int sk_mail_neutralize_text(const char *s, size_t n, sk_buf *out, uint32_t *count)
{
	static const struct {
		const char *pre, *rep;
	} schemes[] = {
		{"https://", "hxxps://"}, {"http://", "hxxp://"}, {"ftp://", "fxp://"},
		{"www.", "www[.]"},
	};
	uint32_t k = 0;
	int rc = 0;
	size_t i = 0;
	while (i < n && rc == 0) {
		size_t which = SIZE_MAX;
		if (i == 0 || !isalnum((unsigned char)s[i - 1])) {
			for (size_t j = 0; j < sizeof(schemes) / sizeof(schemes[0]); j++) {
				size_t pl = strlen(schemes[j].pre);
				if (n - i >= pl && !strncasecmp(s + i, schemes[j].pre, pl) &&
				    n - i > pl && url_char((uint8_t)s[i + pl])) {
					which = j;
					break;
				}
			}
		}
		if (which == SIZE_MAX) {
			rc = sk_buf_addc(out, (uint8_t)s[i++]);
			continue;
		}
		size_t pl = strlen(schemes[which].pre);
		size_t e = i + pl;
		while (e < n && url_char((uint8_t)s[e]))
			e++;
		while (e > i + pl && strchr(".,;:!?)]", s[e - 1]))
			e--;
		rc = sk_buf_adds(out, schemes[which].rep);
		bool host = true;
		for (size_t j = i + pl; j < e && rc == 0; j++) {
			char c = s[j];
			if (c == '/' || c == '?' || c == '#')
				host = false;
			if (host && c == '.')
				rc = sk_buf_adds(out, "[.]");
			else if (host && c == '@')
				rc = sk_buf_adds(out, "[@]");
			else
				rc = sk_buf_addc(out, (uint8_t)c);
		}
		k++;
		i = e;
	}
	if (count)
		*count += k;
	return rc;
}

/* ---- HTML to text ----------------------------------------------------------------- */

typedef struct hw {
	sk_buf *out;
	int nl;          /* newlines at the end of out (a large number at the start) */
	bool space;      /* whitespace seen since the last character */
	int pre;         /* inside <pre> */
	int list_depth;
	int ol_count[32];
	bool ol[32];
	int cell;        /* cell index in the current table row */
	bool en;             /* link warnings in English */
	uint32_t *mismatched; /* links whose text and target differ (may be NULL) */
	int rc;
	unsigned depth;
} hw;

static void w_raw(hw *w, const char *s, size_t n)
{
	if (w->rc || !n)
		return;
	w->rc = sk_buf_add(w->out, s, n);
	for (size_t i = 0; i < n; i++)
		w->nl = s[i] == '\n' ? w->nl + 1 : 0;
}

static void w_text(hw *w, const char *s)
{
	for (const char *p = s; *p && !w->rc; p++) {
		unsigned char c = (unsigned char)*p;
		if (w->pre) {
			if (c != '\r')
				w_raw(w, p, 1);
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
			w->space = true;
			continue;
		}
		if (w->space && w->nl == 0)
			w_raw(w, " ", 1);
		w->space = false;
		w_raw(w, p, 1);
	}
}

static void w_block(hw *w, int n)
{
	w->space = false;
	while (w->nl < n && !w->rc)
		w_raw(w, "\n", 1);
}

static bool name_in(const xmlChar *name, const char *const *set)
{
	for (; *set; set++)
		if (!xmlStrcasecmp(name, (const xmlChar *)*set))
			return true;
	return false;
}

static const char *const SKIP[] = {"script", "style", "head", "title", "noscript", "template",
				   "iframe", "object", "embed", "applet", "frameset", "frame",
				   "svg", "math", "select", "input", "button", "meta", "link",
				   NULL};
static const char *const BLOCK2[] = {"p", "blockquote", "pre", "table", "ul", "ol", "dl",
				     "address", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
				     NULL};
static const char *const BLOCK1[] = {"div", "section", "article", "header", "footer", "nav",
				     "aside", "main", "li", "tr", "dt", "dd", "caption", "form",
				     "fieldset", "center", "details", "summary", "body", NULL};

static bool hidden(xmlNode *n)
{
	if (xmlHasProp(n, (const xmlChar *)"hidden"))
		return true;
	xmlChar *st = xmlGetProp(n, (const xmlChar *)"style");
	bool h = false;
	if (st) {
		char buf[512];
		size_t k = 0;
		for (const xmlChar *p = st; *p && k + 1 < sizeof(buf); p++)
			if (!isspace(*p))
				buf[k++] = (char)tolower(*p);
		buf[k] = 0;
		h = strstr(buf, "display:none") || strstr(buf, "visibility:hidden") ||
		    strstr(buf, "font-size:0") || strstr(buf, "max-height:0") ||
		    strstr(buf, "opacity:0;") || (k >= 9 && !strcmp(buf + k - 9, "opacity:0"));
		xmlFree(st);
	}
	return h;
}

static void walk(hw *w, xmlNode *n);

static void children(hw *w, xmlNode *n)
{
	for (xmlNode *c = n->children; c && !w->rc; c = c->next)
		walk(w, c);
}

static void walk(hw *w, xmlNode *n)
{
	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
		if (n->content)
			w_text(w, (const char *)n->content);
		return;
	}
	if (n->type != XML_ELEMENT_NODE) {
		if (n->type == XML_DOCUMENT_NODE || n->type == XML_HTML_DOCUMENT_NODE)
			children(w, n);
		return;
	}
	if (w->depth > 256) /* the parser limits depth too; this bounds our recursion */
		return;
	const xmlChar *nm = n->name;
	if (name_in(nm, SKIP) || hidden(n))
		return;
	w->depth++;
	if (!xmlStrcasecmp(nm, (const xmlChar *)"br")) {
		w_raw(w, "\n", 1);
		w->space = false;
	} else if (!xmlStrcasecmp(nm, (const xmlChar *)"hr")) {
		w_block(w, 1);
		w_raw(w, "----------------------------------------", 40);
		w_block(w, 1);
	} else if (!xmlStrcasecmp(nm, (const xmlChar *)"img")) {
		xmlChar *alt = xmlGetProp(n, (const xmlChar *)"alt");
		if (alt && *alt) {
			w_text(w, "[");
			w_text(w, (const char *)alt);
			w_text(w, "]");
		}
		xmlFree(alt);
	} else if (!xmlStrcasecmp(nm, (const xmlChar *)"a")) {
		xmlChar *href = xmlGetProp(n, (const xmlChar *)"href");
		size_t mark = sk_buf_len(w->out);
		children(w, n);
		if (href && !w->rc) {
			const char *h = (const char *)href;
			while (isspace((unsigned char)*h))
				h++;
			bool web = !strncasecmp(h, "http://", 7) || !strncasecmp(h, "https://", 8) ||
				   !strncasecmp(h, "ftp://", 6);
			bool mail = !strncasecmp(h, "mailto:", 7);
			if (web || mail) {
				/* the visible text, trimmed (sk_buf_data: never NULL, also when
				 * nothing was written yet) */
				const char *t = (const char *)sk_buf_data(w->out) + mark;
				size_t tl = sk_buf_len(w->out) - mark;
				while (tl && isspace((unsigned char)*t))
					t++, tl--;
				while (tl && isspace((unsigned char)t[tl - 1]))
					tl--;
				const char *cmp = mail ? h + 7 : h;
				size_t hl = strlen(cmp);
				while (hl && (isspace((unsigned char)cmp[hl - 1]) || cmp[hl - 1] == '/'))
					hl--;
				while (tl && t[tl - 1] == '/')
					tl--;
				if (tl != hl || strncasecmp(t, cmp, hl)) {
					bool bad = sk_mail_link_mismatch(t, tl, h); /* t moves below */
					w_text(w, " <");
					w->space = false;
					w_text(w, mail ? h + 7 : h);
					w_raw(w, ">", 1);
					if (bad) {
						const char *warn = sk_mail_link_warning(w->en);
						w_raw(w, warn, strlen(warn));
						if (w->mismatched)
							(*w->mismatched)++;
					}
				}
			}
		}
		xmlFree(href);
	} else if (!xmlStrcasecmp(nm, (const xmlChar *)"li")) {
		w_block(w, 1);
		int d = w->list_depth > 0 ? w->list_depth : 1;
		for (int i = 1; i < d && i < 16; i++)
			w_raw(w, "  ", 2);
		if (w->list_depth > 0 && w->list_depth <= 32 && w->ol[w->list_depth - 1]) {
			char num[24];
			int k = snprintf(num, sizeof(num), "%d. ", ++w->ol_count[w->list_depth - 1]);
			w_raw(w, num, (size_t)k);
		} else {
			w_raw(w, "・", strlen("・"));
		}
		children(w, n);
		w_block(w, 1);
	} else if (!xmlStrcasecmp(nm, (const xmlChar *)"ul") ||
		   !xmlStrcasecmp(nm, (const xmlChar *)"ol")) {
		w_block(w, w->list_depth ? 1 : 2);
		if (w->list_depth < 32) {
			w->ol[w->list_depth] = !xmlStrcasecmp(nm, (const xmlChar *)"ol");
			w->ol_count[w->list_depth] = 0;
		}
		w->list_depth++;
		children(w, n);
		w->list_depth--;
		w_block(w, w->list_depth ? 1 : 2);
	} else if (!xmlStrcasecmp(nm, (const xmlChar *)"td") ||
		   !xmlStrcasecmp(nm, (const xmlChar *)"th")) {
		if (w->cell++ > 0) {
			w_raw(w, " | ", 3);
			w->space = false;
		}
		children(w, n);
	} else if (!xmlStrcasecmp(nm, (const xmlChar *)"tr")) {
		w_block(w, 1);
		int saved = w->cell;
		w->cell = 0;
		children(w, n);
		w->cell = saved;
		w_block(w, 1);
	} else if (!xmlStrcasecmp(nm, (const xmlChar *)"pre")) {
		w_block(w, 2);
		w->pre++;
		children(w, n);
		w->pre--;
		w_block(w, 2);
	} else {
		int b = name_in(nm, BLOCK2) ? 2 : name_in(nm, BLOCK1) ? 1 : 0;
		bool head = nm[0] && (nm[0] == 'h' || nm[0] == 'H') && nm[1] >= '1' && nm[1] <= '3' && !nm[2];
		if (b)
			w_block(w, b);
		if (head)
			w_raw(w, "■ ", strlen("■ "));
		children(w, n);
		if (b)
			w_block(w, b);
	}
	w->depth--;
}

int sk_mail_html_text(const char *html, size_t n, const sk_budget *b, sk_buf *out,
		      sk_reason *why, sk_error *err)
{
	return sk_mail_html_links(html, n, b, false, NULL, out, why, err);
}

int sk_mail_html_links(const char *html, size_t n, const sk_budget *b, bool en,
		       uint32_t *mismatched, sk_buf *out, sk_reason *why, sk_error *err)
{
	*why = SK_REASON_NONE;
	sk_xml_init();
	uint64_t fail0 = sk_xml_failures();
	xmlDoc *doc;
	int rc = sk_xml_read_html(n ? html : "<p></p>", n ? n : 7, "UTF-8", b, &doc, why);
	if (rc == SK_EBLOCKED)
		return sk_error_set(err, rc, "html: %s", sk_reason_code(*why));
	if (rc)
		return sk_error_set(err, rc, "html: %s", rc == SK_ENOMEM ? "out of memory" : "too large");
	if (!doc)
		return 0; /* nothing readable: an empty text */
	hw w = {.out = out, .nl = 100, .en = en, .mismatched = mismatched};
	walk(&w, (xmlNode *)doc);
	xmlFreeDoc(doc);
	/* an attribute that could not be read (alt, href, style) leaves the text incomplete */
	if (w.rc == 0 && sk_xml_failures() != fail0)
		w.rc = SK_ENOMEM;
	if (w.rc == 0) {
		/* trailing blank lines trimmed to one newline */
		while (out->len && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == ' '))
			out->len--;
		if (out->data)
			out->data[out->len] = 0;
		w.rc = sk_buf_addc(out, '\n');
	}
	return w.rc ? sk_error_set(err, w.rc, "html text") : 0;
}
