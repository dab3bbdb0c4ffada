/* The body of an Outlook message kept only as compressed RTF: decompression ([MS-OXRTFCP])
 * and the reduction of RTF to its text, or to the HTML it encapsulates ([MS-OXRTFEX]).
 * See msg_int.h. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "msg_int.h"
#include "sekisho/charset.h"
#include "sekisho/name.h"

/* ---- compressed RTF ---------------------------------------------------------------- */

/* The dictionary's initial content ([MS-OXRTFCP] 3.1.3.1): 207 bytes. */
static const char LZFU_PREFIX[] =
	"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern "
	"\\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0"
	"\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx";

#define LZFU_MAGIC 0x75465A4Cu /* "LZFu" */
#define MELA_MAGIC 0x414C454Du /* "MELA": not compressed */

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int bad(sk_reason *why, sk_error *err, sk_reason r, const char *what)
{
	*why = r;
	return sk_error_set(err, SK_EBLOCKED, "compressed RTF: %s", what);
}

int sk_msg_lzfu(const uint8_t *p, size_t n, sk_budget *b, sk_buf *out, sk_reason *why,
		sk_error *err)
{
	*why = SK_REASON_NONE;
	if (n < 16)
		return bad(why, err, SK_REASON_MALFORMED, "header cut short");
	uint32_t comp = rd32(p), raw = rd32(p + 4), magic = rd32(p + 8), crc = rd32(p + 12);
	if (comp < 12 || (uint64_t)comp + 4 > n)
		return bad(why, err, SK_REASON_MALFORMED, "compressed size");
	const uint8_t *d = p + 16;
	size_t dn = comp - 12;
	if (magic != LZFU_MAGIC && magic != MELA_MAGIC)
		return bad(why, err, SK_REASON_MALFORMED, "unknown compression");
	sk_reason r = sk_budget_ratio(b, dn, raw);
	if (r == SK_REASON_NONE)
		r = sk_budget_expand(b, raw);
	if (r != SK_REASON_NONE)
		return bad(why, err, r, "size");
	size_t mark = sk_buf_len(out);
	int rc = 0;
	if (magic == MELA_MAGIC) {
		if (raw > dn)
			return bad(why, err, SK_REASON_MALFORMED, "stored data cut short");
		return sk_buf_add(out, d, raw);
	}
	uLong z = crc32(0xFFFFFFFFul, d, (uInt)dn) ^ 0xFFFFFFFFul;
	if ((uint32_t)z != crc)
		return bad(why, err, SK_REASON_MALFORMED, "CRC");
	uint8_t dict[4096];
	size_t pl = sizeof(LZFU_PREFIX) - 1;
	memcpy(dict, LZFU_PREFIX, pl);
	memset(dict + pl, 0, sizeof(dict) - pl);
	uint32_t wp = (uint32_t)pl;
	size_t i = 0, made = 0;
	bool end = false;
	uint8_t run[18];
	while (!end && rc == 0) {
		if (i >= dn)
			break;
		uint8_t ctl = d[i++];
		for (int bit = 0; bit < 8 && !end && rc == 0; bit++) {
			if (i >= dn)
				break;
			if (!(ctl >> bit & 1)) {
				if (made + 1 > raw) {
					rc = bad(why, err, SK_REASON_MALFORMED, "more than the declared size");
					break;
				}
				dict[wp] = d[i++];
				rc = sk_buf_addc(out, dict[wp]);
				wp = (wp + 1) & 4095;
				made++;
				continue;
			}
			if (i + 2 > dn) {
				i = dn;
				break;
			}
			uint32_t v = (uint32_t)d[i] << 8 | d[i + 1];
			i += 2;
			uint32_t off = v >> 4, len = (v & 15) + 2;
			if (off == wp) {
				end = true;
				break;
			}
			if (made + len > raw) {
				rc = bad(why, err, SK_REASON_MALFORMED, "more than the declared size");
				break;
			}
			for (uint32_t k = 0; k < len; k++) {
				run[k] = dict[(off + k) & 4095];
				dict[wp] = run[k];
				wp = (wp + 1) & 4095;
			}
			rc = sk_buf_add(out, run, len);
			made += len;
		}
	}
	if (rc == 0 && !end)
		rc = bad(why, err, SK_REASON_MALFORMED, "no end marker (truncated)");
	if (rc == 0 && made != raw)
		rc = bad(why, err, SK_REASON_MALFORMED, "less than the declared size");
	if (rc)
		sk_buf_truncate(out, mark);
	return rc;
}

/* ---- code pages ------------------------------------------------------------------------- */

/* Only the conversions a sandboxed worker has loaded before its filter (engine.c: it
 * cannot open a gconv module later): any other code page is guessed by the caller. */
const char *sk_msg_codepage(uint32_t cp, char *buf, size_t n)
{
	switch (cp) {
	case 65001: return "UTF-8";
	case 1200: return "UTF-16LE";
	case 1201: return "UTF-16BE";
	case 20127: return "US-ASCII";
	case 932: return "CP932";
	case 50220: case 50221: case 50222: return "ISO-2022-JP"; /* read as CP50220 */
	case 51932: return "EUC-JP-MS";
	case 20932: return "EUC-JP";
	case 936: return "GBK";
	case 54936: return "GB18030";
	case 950: return "BIG5";
	case 949: return "CP949";
	case 51949: return "EUC-KR";
	case 20866: return "KOI8-R";
	case 21866: return "KOI8-U";
	case 10000: return "MACINTOSH";
	case 437: return "CP437";
	case 850: return "CP850";
	case 852: return "CP852";
	case 866: return "CP866";
	case 28591: case 28592: case 28593: case 28594: case 28595: case 28596: case 28597:
	case 28598: case 28599: case 28603: case 28605:
		snprintf(buf, n, "ISO-8859-%u", cp - 28590);
		return buf;
	case 1250: case 1251: case 1252: case 1253: case 1254: case 1255: case 1256: case 1257:
	case 1258:
		snprintf(buf, n, "WINDOWS-%u", cp);
		return buf;
	default: return NULL;
	}
}

/* An RTF font's \fcharset as a code page (0: the document's). */
static uint32_t charset_cp(int cs)
{
	switch (cs) {
	case 77: return 10000;
	case 128: return 932;
	case 129: return 949;
	case 134: return 936;
	case 136: return 950;
	case 161: return 1253;
	case 162: return 1254;
	case 163: return 1258;
	case 177: return 1255;
	case 178: return 1256;
	case 186: return 1257;
	case 204: return 1251;
	case 222: return 874;
	case 238: return 1250;
	default: return 0;
	}
}

/* ---- RTF to text ---------------------------------------------------------------------- */

#define RTF_DEPTH_MAX 1000
#define FONTS_MAX 1024
#define PEND_MAX 256

typedef struct gstate {
	bool skip;      /* an ignored destination */
	bool htmlrtf;   /* RTF-only content of an encapsulated body */
	bool htmltag;   /* an HTML tag of an encapsulated body */
	bool fonttbl;
	int uc;         /* characters that stand for a \uN */
	int font;
} gstate;

typedef struct rtf {
	sk_buf *out;
	const sk_budget *b;
	sk_reason *why;
	sk_error *err;
	int mode;       /* 0 plain, 1 \fromtext, 2 \fromhtml */
	uint32_t doc_cp;
	int fonts[FONTS_MAX][2]; /* font number, its \fcharset */
	int nfonts, def_font;
	uint8_t pend[PEND_MAX];  /* text bytes in the current code page, not yet converted */
	size_t npend;
	uint32_t pend_cp;
	int ucskip;
	uint32_t hi;    /* a high surrogate waiting for its low half */
	uint64_t nodes;
	int rc;
} rtf;

static bool emitting(const rtf *r, const gstate *g)
{
	if (g->fonttbl)
		return false;
	if (r->mode == 2 && g->htmltag)
		return true;
	if (g->skip)
		return false;
	return r->mode == 0 || !g->htmlrtf;
}

static uint32_t font_cp(const rtf *r, int font)
{
	for (int i = 0; i < r->nfonts; i++)
		if (r->fonts[i][0] == font)
			return charset_cp(r->fonts[i][1]);
	return 0;
}

static void flush(rtf *r)
{
	if (!r->npend || r->rc)
		return;
	char nb[24];
	const char *name = sk_msg_codepage(r->pend_cp ? r->pend_cp : 1252, nb, sizeof(nb));
	int rc = name ? sk_charset_to_utf8(name, r->pend, r->npend, r->out, NULL, r->err) : SK_EINVAL;
	if (rc == SK_EINVAL) /* no conversion for it: read as Windows Latin 1 */
		rc = sk_charset_to_utf8("WINDOWS-1252", r->pend, r->npend, r->out, NULL, r->err);
	r->npend = 0;
	r->rc = rc;
}

/* A high surrogate not followed by its low half: U+FFFD. */
static void lone(rtf *r)
{
	if (!r->hi || r->rc)
		return;
	r->hi = 0;
	r->rc = sk_buf_adds(r->out, "\xEF\xBF\xBD");
}

static void put_byte(rtf *r, const gstate *g, uint8_t c)
{
	if (r->ucskip > 0) {
		r->ucskip--;
		return;
	}
	if (!emitting(r, g))
		return;
	lone(r);
	uint32_t cp = font_cp(r, g->font);
	if (!cp)
		cp = r->doc_cp;
	if (r->npend && (cp != r->pend_cp || r->npend == PEND_MAX)) {
		/* keep a double-byte character whole across the flush */
		flush(r);
	}
	r->pend_cp = cp;
	r->pend[r->npend++] = c;
}

static void put_utf8(rtf *r, const gstate *g, const char *s)
{
	if (!emitting(r, g))
		return;
	flush(r);
	lone(r);
	if (!r->rc)
		r->rc = sk_buf_adds(r->out, s);
}

static void put_cp(rtf *r, const gstate *g, long v)
{
	if (!emitting(r, g))
		return;
	if (v < 0)
		v += 65536;
	uint32_t cp = (uint32_t)v;
	char u[5] = {0};
	if (cp >= 0xD800 && cp <= 0xDBFF) { /* the first half of a pair: \u-10179?\u-8704? */
		flush(r);
		lone(r);
		r->hi = cp;
		return;
	}
	if (cp >= 0xDC00 && cp <= 0xDFFF && r->hi) {
		cp = 0x10000 + ((r->hi - 0xD800) << 10) + (cp - 0xDC00);
		r->hi = 0;
	}
	if (cp == 0)
		cp = 0xFFFD;
	sk_utf8_put(cp, u);
	put_utf8(r, g, u);
}

/* Destinations whose content is not text. */
static bool skipped_destination(const char *w)
{
	static const char *const d[] = {
		"fonttbl", "colortbl", "stylesheet", "info", "pict", "object", "objdata", "header",
		"headerl", "headerr", "headerf", "footer", "footerl", "footerr", "footerf", "fldinst",
		"xe", "tc", "bkmkstart", "bkmkend", "listtable", "listoverridetable", "rsidtbl",
		"generator", "themedata", "colorschememapping", "datastore", "latentstyles",
		"pgdsctbl", "revtbl", "xmlnstbl", "filetbl", "fchars", "lchars", "shpinst",
		"nonshppict", "mhtmltag", "userprops", "docvar", "template", "atnid", "atnauthor",
		"annotation", "pntext", "pntxta", "pntxtb", "listtext", "falt", "panose", "blipuid",
		"mmathPr", "wgrffmtfilter", "ftnsep", "ftnsepc", "aftnsep", "aftnsepc", NULL};
	for (int i = 0; d[i]; i++)
		if (!strcmp(w, d[i]))
			return true;
	return false;
}

static void control(rtf *r, gstate *g, const char *w, bool has, long v, bool star)
{
	if (star) {
		if (r->mode == 2 && !strcmp(w, "htmltag")) {
			g->htmltag = true;
			g->skip = false;
			r->ucskip = 0;
			return;
		}
		g->skip = true;
		return;
	}
	if (!strcmp(w, "fonttbl")) {
		g->fonttbl = true;
		return;
	}
	if (skipped_destination(w)) {
		g->skip = true;
		return;
	}
	if (g->fonttbl) {
		if (!strcmp(w, "f") && has && r->nfonts < FONTS_MAX) {
			r->fonts[r->nfonts][0] = (int)v;
			r->fonts[r->nfonts][1] = 0;
			r->nfonts++;
		} else if (!strcmp(w, "fcharset") && has && r->nfonts) {
			r->fonts[r->nfonts - 1][1] = (int)v;
		}
		return;
	}
	if (!strcmp(w, "fromhtml"))
		r->mode = 2;
	else if (!strcmp(w, "fromtext"))
		r->mode = r->mode ? r->mode : 1;
	else if (!strcmp(w, "htmlrtf"))
		g->htmlrtf = !has || v != 0;
	else if (!strcmp(w, "ansicpg") && has && v > 0)
		r->doc_cp = (uint32_t)v;
	else if (!strcmp(w, "deff") && has)
		g->font = r->def_font = (int)v;
	else if (!strcmp(w, "f") && has)
		g->font = (int)v;
	else if (!strcmp(w, "uc") && has && v >= 0 && v < 16)
		g->uc = (int)v;
	else if (!strcmp(w, "u") && has) {
		put_cp(r, g, v);
		r->ucskip = emitting(r, g) ? g->uc : 0;
	} else if (!strcmp(w, "par") || !strcmp(w, "line") || !strcmp(w, "row") ||
		   !strcmp(w, "sect") || !strcmp(w, "page"))
		put_utf8(r, g, r->mode == 2 && g->htmltag ? "\r\n" : "\n");
	else if (!strcmp(w, "tab") || !strcmp(w, "cell"))
		put_utf8(r, g, "\t");
	else if (!strcmp(w, "emdash"))
		put_utf8(r, g, "\xE2\x80\x94");
	else if (!strcmp(w, "endash"))
		put_utf8(r, g, "\xE2\x80\x93");
	else if (!strcmp(w, "bullet"))
		put_utf8(r, g, "\xE2\x80\xA2");
	else if (!strcmp(w, "lquote"))
		put_utf8(r, g, "\xE2\x80\x98");
	else if (!strcmp(w, "rquote"))
		put_utf8(r, g, "\xE2\x80\x99");
	else if (!strcmp(w, "ldblquote"))
		put_utf8(r, g, "\xE2\x80\x9C");
	else if (!strcmp(w, "rdblquote"))
		put_utf8(r, g, "\xE2\x80\x9D");
	else if (!strcmp(w, "emspace") || !strcmp(w, "enspace") || !strcmp(w, "qmspace"))
		put_utf8(r, g, " ");
}

/* a hex digit's value, 16 for anything else */
static unsigned hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10u;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10u;
	return 16;
}

int sk_msg_rtf_text(const uint8_t *p, size_t n, const sk_budget *b, sk_buf *out, bool *html,
		    sk_reason *why, sk_error *err)
{
	*why = SK_REASON_NONE;
	*html = false;
	gstate *st = malloc((RTF_DEPTH_MAX + 1) * sizeof(gstate));
	rtf *r = calloc(1, sizeof(*r));
	if (!st || !r) {
		free(st);
		free(r);
		return SK_ENOMEM;
	}
	r->out = out;
	r->b = b;
	r->why = why;
	r->err = err;
	r->doc_cp = 1252;
	size_t mark = sk_buf_len(out);
	int depth = 0;
	st[0] = (gstate){.uc = 1};
	bool star = false;
	size_t i = 0;
	while (i < n && !r->rc) {
		if ((i & 0xFFFF) == 0 && b && sk_budget_time(b) != SK_REASON_NONE) {
			r->rc = bad(why, err, SK_REASON_LIMIT_TIME, "time");
			break;
		}
		gstate *g = &st[depth];
		uint8_t c = p[i];
		if (c == '{' || c == '}') {
			i++;
			r->ucskip = 0;
			if (++r->nodes % 4096 == 0 && b && sk_budget_nodes(b, r->nodes) != SK_REASON_NONE) {
				r->rc = bad(why, err, SK_REASON_LIMIT_NODES, "control words");
				break;
			}
			flush(r);
			lone(r);
			if (c == '{') {
				if (depth >= RTF_DEPTH_MAX) {
					r->rc = bad(why, err, SK_REASON_LIMIT_DEPTH, "groups nested too deep");
					break;
				}
				st[depth + 1] = st[depth];
				st[depth + 1].htmltag = false;
				depth++;
			} else if (depth > 0) {
				depth--;
			}
			star = false;
			continue;
		}
		if (c == '\r' || c == '\n') {
			i++;
			continue;
		}
		if (c != '\\') {
			i++;
			if (c == '\t')
				put_utf8(r, g, "\t");
			else
				put_byte(r, g, c);
			continue;
		}
		/* a control word or symbol */
		if (++r->nodes % 4096 == 0 && b && sk_budget_nodes(b, r->nodes) != SK_REASON_NONE) {
			r->rc = bad(why, err, SK_REASON_LIMIT_NODES, "control words");
			break;
		}
		i++;
		if (i >= n)
			break;
		c = p[i];
		if (isalpha(c)) {
			char w[33];
			size_t wl = 0;
			while (i < n && isalpha(p[i])) {
				if (wl < sizeof(w) - 1)
					w[wl++] = (char)p[i];
				i++;
			}
			w[wl] = 0;
			bool has = false, neg = false;
			long v = 0;
			if (i < n && p[i] == '-') {
				neg = true;
				i++;
			}
			int digits = 0;
			while (i < n && isdigit(p[i])) {
				if (digits < 10)
					v = v * 10 + (p[i] - '0');
				digits++;
				has = true;
				i++;
			}
			if (neg)
				v = -v;
			if (i < n && p[i] == ' ')
				i++;
			control(r, g, w, has, v, star);
			star = false;
			continue;
		}
		i++;
		switch (c) {
		case '\'': {
			unsigned hi = i < n ? hexval(p[i]) : 16, lo = i + 1 < n ? hexval(p[i + 1]) : 16;
			if (hi < 16 && lo < 16) {
				i += 2;
				put_byte(r, g, (uint8_t)(hi << 4 | lo));
			}
			break;
		}
		case '*':
			star = true;
			break;
		case '\\': case '{': case '}':
			put_byte(r, g, c);
			break;
		case '~':
			put_utf8(r, g, "\xC2\xA0");
			break;
		case '_':
			put_utf8(r, g, "-");
			break;
		case '\r': case '\n':
			put_utf8(r, g, r->mode == 2 && g->htmltag ? "\r\n" : "\n");
			break;
		case '\t':
			put_utf8(r, g, "\t");
			break;
		default: /* \- (optional hyphen), \: and others: nothing to show */
			break;
		}
	}
	flush(r);
	lone(r);
	int rc = r->rc;
	if (rc == 0 && b && sk_budget_nodes(b, r->nodes) != SK_REASON_NONE)
		rc = bad(why, err, SK_REASON_LIMIT_NODES, "control words");
	if (rc)
		sk_buf_truncate(out, mark);
	else
		*html = r->mode == 2;
	free(st);
	free(r);
	return rc;
}
