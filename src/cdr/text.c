/* sekisho — the text and CSV/TSV module (kinds SK_KIND_TEXT and SK_KIND_CSV).
 *
 * What it changes (and nothing else: every other byte is copied as it is):
 *  - Control characters are removed: C0 (0x00–0x1F) except TAB, LF and CR — so NUL, VT,
 *    FF, SUB and ESC go too (nobody opening a file in Excel or Notepad needs VT/FF, and a
 *    stray ESC can drive a terminal) — plus DEL, and in UTF-8 (and UTF-16/32) text the C1
 *    controls U+0080–U+009F. ESC is kept only inside ISO-2022-JP text, as part of an escape
 *    sequence (ESC, intermediates 0x20–0x2F, final 0x30–0x7E). One aggregated action:
 *    removed "control-characters" at "line N" of the first one, count = characters removed.
 *  - CSV/TSV (kind CSV and profile->csv_neutralize): a cell whose content, after CSV
 *    unquoting and after leading white space (space, TAB, and CR/LF inside quotes) and
 *    removed controls, begins with '=' or '@', or with '+' or '-' and is not a plain number
 *    (sign, digits with ',' '.' grouping, optional exponent and '%', optional '$' or '\'
 *    currency sign), nor a lone sign, nor after a '+' a telephone number (digit groups
 *    joined by '-', '.' or spaces, one group in parentheses at most, 7 to 16 digits:
 *    "+81-3-1234-5678", "+1 (555) 010-9999"), gets a single quote ' put before its content (OWASP
 *    CSV injection guidance): right after the opening quote of a quoted field, else at the
 *    start of the field. The quote changes no field boundary, so no re-quoting is needed.
 *    One aggregated action: neutralized "formula" at "line L, column C" of the first one.
 *    TAB and CR at the start of a cell (OWASP lists them) are treated as the white space
 *    they are: a cell "\t=1+1" is neutralised, a cell "\tabc" is not.
 *
 * Separators. Excel takes the list separator of the reader's locale for .csv (',' in
 * Japan, ';' in much of Europe), TAB for "Unicode text" and the import wizard, and honours
 * a first line "sep=X"; a file may say one thing in its first lines and another later.
 * So the module parses the file as comma-, TAB- and semicolon-separated at once (an
 * independent field/quote state machine per reading, plus one for "sep=X"):
 *  - the primary reading, the one Excel uses for this file (X from "sep=X"; TAB for
 *    .tsv/.tab and UTF-16/32; comma for a .csv whose first line has a comma; else the
 *    separator the first line uses most), gets the full rule above;
 *  - the other readings neutralise only cells that could run something: a trigger and
 *    then '|' (DDE), or '(' with a name (a letter, '_', '\' or non-ASCII) in the cell (a
 *    function call), before the cell ends. Arithmetic, parentheses among digits and text
 *    such as "-one" in a line of a multi-line quoted cell are left alone there.
 *  The quote character ' never changes a field boundary in any reading, but in a file
 *  that mixes separators it may show inside a field of the primary reading (a cell
 *  "x\t=HYPERLINK(...)" of a comma file becomes "x\t'=HYPERLINK(...)"). The report's
 *  column is that of the reading that neutralised the first cell.
 *
 * Encodings (detected on a 64 KiB sample: BOM, then ISO-2022-JP escape sequences, then
 * UTF-8 validity, then uchardet, then whether iconv decodes the sample as CP932 or EUC-JP —
 * sk_charset_detect, sekisho/charset.h; also UTF-16 without a BOM by its NUL pattern):
 *  - UTF-8 (BOM kept), Shift_JIS/CP932, EUC-JP and other ASCII-compatible encodings are
 *    processed as bytes and never converted: CP932 stays CP932, CRLF stays CRLF. No byte of
 *    a multibyte character in them is below 0x40, and everything this module looks for
 *    (controls, TAB CR LF , ; " = + - and the space) is below 0x40, so a trail byte is never
 *    taken for one of them. '@' is only looked for as the first character of a cell, which
 *    a trail byte cannot be. A "sep=X" separator may be 0x40 or above, so in Shift_JIS and
 *    the other double-byte encodings (Big5, GBK, UHC) lead bytes are tracked and a lead with
 *    its trail byte is skipped as one character.
 *  - Invalid UTF-8 (and bytes undecodable in any encoding) is kept byte for byte: the module
 *    never decodes UTF-8, it only recognises the exact two-byte form of a C1 control
 *    (C2 80–C2 9F). A file whose sample is not valid UTF-8 is not treated as UTF-8, so no
 *    C1 rule applies to it.
 *  - ISO-2022-JP (7-bit, stateful) is processed as bytes too, following the escape
 *    sequences: separators, quotes and triggers count only in ASCII/JIS-Roman mode, so the
 *    two-byte characters (0x21–0x7E, which include = + , ") are never split or mistaken.
 *    This keeps every unchanged byte, including the NEC row-13 characters (①, ㈱) that
 *    Windows writes as ESC $ B 0x2D21 and glibc's iconv cannot decode. A ' inserted where
 *    the mode is not ASCII is written as ESC ( B ' followed by the current designation
 *    again. (The brief suggested an iconv round trip; that loses the original escape
 *    sequences and cannot represent those characters, hence this choice.)
 *    Excel opens a .csv in the ANSI code page (CP932), where the two-byte JIS text is
 *    plain ASCII, so an ISO-2022-JP CSV is also read "as bytes" (separators and quotes in
 *    every mode, with the rule of the secondary readings). A formula cell that only this
 *    byte reading sees, inside two-byte text, cannot take a quote without breaking the
 *    JIS text: the item is blocked as malformed (a payload hidden after ESC $ B).
 *  - UTF-16LE/BE and UTF-32LE/BE with a BOM (Excel's "Unicode text" is UTF-16LE TSV) are
 *    decoded to UTF-8 with iconv in chunks, processed, and encoded back with the same
 *    encoding; the round trip is lossless for valid input, so an unchanged file comes out
 *    byte-identical. Input iconv cannot decode (a lone surrogate, an odd byte count) is
 *    blocked as malformed rather than garbled.
 *
 * Streaming: the input is read with sk_input_pread in chunks (1 MiB; sk_cdr_text_chunk
 * overrides it for tests) into a buffer that keeps the last TX_LOOK bytes of the previous
 * chunk, so every decision can look TX_LOOK bytes ahead; the state machines carry quotes,
 * columns, lines and the ISO-2022-JP mode across chunks. Output is batched into a local
 * buffer. A decision that would need more look-ahead than TX_LOOK (a cell that starts
 * with a sign and 4 KiB of white space) neutralises: fail closed.
 *
 * Budget: the bytes the module adds (the ' quotes) are charged to ctx->budget with
 * sk_budget_expand(); going over blocks the item as limit-size. Memory use is fixed
 * (about 1.4 MiB) whatever the input size.
 */
#include "cdr_modules.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sekisho/charset.h"
#include "sekisho/name.h"

size_t sk_cdr_text_chunk = 0;

#define TX_CHUNK ((size_t)1 << 20)
#define TX_LOOK 4096
#define TX_HEAD 65536
#define TX_OBUF ((size_t)256 << 10)
#define TX_RAW ((size_t)64 << 10)
#define TX_NUM_MAX 64 /* a "number" longer than this is not a plain number */

enum tx_enc {
	ENC_UTF8,   /* also ASCII */
	ENC_SJIS,   /* Shift_JIS / CP932 */
	ENC_EUCJP,
	ENC_DBCS,   /* Big5, GBK/GB18030, UHC: lead 0x81–0xFE, trail 0x40–0xFE */
	ENC_8BIT,   /* single-byte or unknown: bytes as they are */
	ENC_ISO2022JP,
	ENC_UTF16LE,
	ENC_UTF16BE,
	ENC_UTF32LE,
	ENC_UTF32BE,
};

static const char *const enc_names[] = {
	"UTF-8", "CP932", "EUC-JP", "DBCS", "8BIT", "ISO-2022-JP",
	"UTF-16LE", "UTF-16BE", "UTF-32LE", "UTF-32BE",
};

/* classes of bytes in the main loop (0 = ordinary) */
enum {
	C_ORD = 0,
	C_CTRL,  /* C0 or DEL: removed unless TAB/CR/LF/ESC-in-ISO */
	C_LF,
	C_CR,
	C_TAB,
	C_STRUCT, /* '"' or a separator */
	C_C2,     /* UTF-8: maybe a C1 control */
	C_LEAD,   /* DBCS lead byte */
};

enum { ST_START, ST_UNQ, ST_QUO, ST_QQ };

struct mach {
	uint8_t sep;
	uint8_t st;
	bool primary;
	bool iso; /* ISO-2022-JP reading: structure only in ASCII/JIS-Roman mode */
	uint64_t col;
};

enum { MODE_ASCII, MODE_ROMAN, MODE_OTHER1, MODE_DBCS };

struct tx {
	sk_cdr_ctx *ctx;
	sk_input *in;
	sk_output *out;
	sk_error *err;
	enum tx_enc enc;
	bool csv;
	bool c1;      /* strip UTF-8 C1 */
	bool iso;     /* ISO-2022-JP */
	bool leads;   /* track DBCS lead bytes */
	uint8_t lead_lo, lead_hi; /* DBCS lead range (SJIS also has a gap 0xA0–0xDF) */
	uint8_t cls_a[256]; /* ASCII-like mode (all non-ISO encodings) */
	uint8_t cls_o[256]; /* ISO-2022-JP non-ASCII modes */
	const uint8_t *cls;
	uint8_t vis_skip[256]; /* first-byte check: bytes that need the full cell check */
	struct mach m[8];
	int nm;
	bool need_ord;
	/* ISO-2022-JP */
	int mode;
	uint8_t desig[8];
	size_t desig_len;
	/* counters */
	uint64_t line;
	uint64_t nctrl, ctrl_line;
	uint64_t nform, form_line, form_col;
	uint64_t grown, charged;
	uint64_t last_ins; /* absolute position of the last insertion (+1; 0 = none) */
	/* staging buffer */
	uint8_t *b;
	size_t len, cap, chunk;
	bool eof;
	uint64_t base; /* absolute position of b[0] in the (decoded) stream */
	size_t emit_from;
	size_t pending; /* insertion after a quote (SIZE_MAX = none) */
	uint64_t pending_col;
	/* output batch */
	uint8_t *ob;
	size_t on;
	/* input */
	uint64_t off;
	/* iconv (UTF-16/32) */
	iconv_t dec, encd;
	uint8_t *raw;
	size_t rawlen;
	bool raw_eof;
	uint8_t *eb;
	unsigned unit;
	bool failed_format;
};

/* ESC sequence at p (n bytes available): its length, or 0 when p is no complete one. */
static size_t esc_len(const uint8_t *p, size_t n)
{
	size_t i = 1;
	while (i < n && i < 4 && p[i] >= 0x20 && p[i] <= 0x2F)
		i++;
	if (i == 1 || i >= n || i >= 4)
		return 0;
	return p[i] >= 0x30 && p[i] <= 0x7E ? i + 1 : 0;
}

/* ---- encoding detection (sekisho/charset.h) --------------------------------------- */

static enum tx_enc enc_of(const sk_charset_guess *g)
{
	switch (g->cs) {
	case SK_CHARSET_ASCII:
	case SK_CHARSET_UTF8:
		return ENC_UTF8;
	case SK_CHARSET_UTF16LE:
		return ENC_UTF16LE;
	case SK_CHARSET_UTF16BE:
		return ENC_UTF16BE;
	case SK_CHARSET_UTF32LE:
		return ENC_UTF32LE;
	case SK_CHARSET_UTF32BE:
		return ENC_UTF32BE;
	case SK_CHARSET_ISO2022JP:
		return ENC_ISO2022JP;
	case SK_CHARSET_CP932:
		return ENC_SJIS;
	case SK_CHARSET_EUCJP:
		return ENC_EUCJP;
	case SK_CHARSET_DBCS:
		return ENC_DBCS;
	case SK_CHARSET_8BIT:
		break;
	}
	return ENC_8BIT;
}

static int detect_encoding(struct tx *t, enum tx_enc *enc)
{
	uint8_t *h = malloc(TX_HEAD);
	if (!h)
		return sk_error_set(t->err, SK_ENOMEM, "text sample");
	size_t n;
	int rc = sk_input_pread(t->in, 0, h, TX_HEAD, &n, t->err);
	if (rc)
		goto out;
	sk_charset_guess g;
	sk_charset_detect(h, n, n < t->in->size, &g);
	*enc = enc_of(&g);
	if (g.cs == SK_CHARSET_ASCII) {
		/* 7-bit so far: look on for the first escape sequence or high byte, so that a
		 * long ASCII header does not hide what follows */
		uint64_t off = n;
		while (off < t->in->size) {
			size_t got;
			if ((rc = sk_input_pread(t->in, off, h, TX_HEAD, &got, t->err)))
				goto out;
			if (got == 0)
				break;
			bool iso;
			size_t hi = sk_charset_ascii_prefix(h, got, &iso);
			if (iso) {
				*enc = ENC_ISO2022JP;
				break;
			}
			if (hi < got) {
				size_t m;
				if ((rc = sk_input_pread(t->in, off + hi, h, TX_HEAD, &m, t->err)))
					goto out;
				sk_charset_detect_8bit(h, m, off + hi + m < t->in->size, &g);
				*enc = enc_of(&g);
				break;
			}
			/* overlap 3 bytes so that an escape sequence cut here is seen */
			off += got > 3 && off + got < t->in->size ? got - 3 : got;
		}
	}
out:
	free(h);
	return rc;
}

/* ---- output ---------------------------------------------------------------------- */

static int ob_flush(struct tx *t, bool final)
{
	if (!t->encd) {
		int rc = t->on ? sk_output_write(t->out, t->ob, t->on, t->err) : 0;
		t->on = 0;
		return rc;
	}
	/* UTF-16/32: encode back; a character cut at the end waits for the next flush */
	char *ip = (char *)t->ob;
	size_t il = t->on;
	while (il > 0) {
		char *op = (char *)t->eb;
		size_t ol = TX_OBUF * 2;
		size_t r = iconv(t->encd, &ip, &il, &op, &ol);
		int e = r == (size_t)-1 ? errno : 0;
		size_t made = (size_t)(op - (char *)t->eb);
		if (made) {
			int rc = sk_output_write(t->out, t->eb, made, t->err);
			if (rc)
				return rc;
		}
		if (e == E2BIG)
			continue;
		if (e == EINVAL && !final)
			break;
		if (e) {
			t->failed_format = true;
			return sk_error_set(t->err, SK_EFORMAT, "cannot encode back to %s",
					    enc_names[t->enc]);
		}
	}
	memmove(t->ob, ip, il);
	t->on = il;
	return 0;
}

static int emit(struct tx *t, const uint8_t *p, size_t n)
{
	if (n > TX_OBUF - t->on) {
		int rc = ob_flush(t, false);
		if (rc)
			return rc;
		if (n >= TX_OBUF - t->on && !t->encd)
			return sk_output_write(t->out, p, n, t->err);
		while (n > TX_OBUF - t->on) {
			size_t k = TX_OBUF - t->on;
			memcpy(t->ob + t->on, p, k);
			t->on += k;
			p += k;
			n -= k;
			if ((rc = ob_flush(t, false)))
				return rc;
		}
	}
	memcpy(t->ob + t->on, p, n);
	t->on += n;
	return 0;
}

static int flush_to(struct tx *t, size_t pos)
{
	if (pos <= t->emit_from)
		return 0;
	int rc = emit(t, t->b + t->emit_from, pos - t->emit_from);
	t->emit_from = pos;
	return rc;
}

static int strip(struct tx *t, size_t i, size_t n)
{
	int rc = flush_to(t, i);
	t->emit_from = i + n;
	if (t->nctrl++ == 0)
		t->ctrl_line = t->line;
	return rc;
}

static bool ascii_like(int mode)
{
	return mode == MODE_ASCII || mode == MODE_ROMAN;
}

/* Does reading m see byte structure in this mode? (Raw readings always do.) */
static bool sees(const struct mach *m, int mode)
{
	return !m->iso || ascii_like(mode);
}

/* Puts the quote at x (mode: the ISO-2022-JP mode there). */
static int insert(struct tx *t, size_t x, int mode, uint64_t col)
{
	uint64_t abs = t->base + x + 1;
	if (abs == t->last_ins)
		return 0; /* another reading already neutralised this cell */
	t->last_ins = abs;
	int rc = flush_to(t, x);
	if (rc)
		return rc;
	if (ascii_like(mode)) {
		rc = emit(t, (const uint8_t *)"'", 1);
		t->grown += 1;
	} else {
		rc = emit(t, (const uint8_t *)"\x1b(B'", 4);
		if (!rc)
			rc = emit(t, t->desig, t->desig_len);
		t->grown += 4 + t->desig_len;
	}
	if (t->nform++ == 0) {
		t->form_line = t->line;
		t->form_col = col;
	}
	return rc;
}

/* ---- the cell check ------------------------------------------------------------- */

/* Next visible byte at or after *i (skipping what the main loop removes and, in
 * ISO-2022-JP, escape sequences, updating *mode). -1 at the end of the data, -2 when the
 * look-ahead window ends before the data does. */
static int next_vis(const struct tx *t, size_t *i, int *mode)
{
	const uint8_t *b = t->b;
	size_t n = t->len;
	while (*i < n) {
		uint8_t c = b[*i];
		if (c == 0x1B && t->iso) {
			size_t l = esc_len(b + *i, n - *i);
			if (l) {
				if (b[*i + 1] == '(' && l == 3)
					*mode = b[*i + 2] == 'B' ? MODE_ASCII
						: (b[*i + 2] == 'J' || b[*i + 2] == 'H') ? MODE_ROMAN
						: MODE_OTHER1;
				else if (b[*i + 1] == '$')
					*mode = MODE_DBCS;
				*i += l;
				continue;
			}
			if (*i + 4 >= n && !t->eof)
				return -2;
		}
		if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7F) {
			(*i)++;
			continue;
		}
		if (c == 0xC2 && t->c1) {
			if (*i + 1 >= n)
				return t->eof ? c : -2;
			if (b[*i + 1] >= 0x80 && b[*i + 1] <= 0x9F) {
				*i += 2;
				continue;
			}
		}
		return c;
	}
	return t->eof ? -1 : -2;
}

enum { CELL_END = -1, CELL_UNSURE = -3 };

/* The next character of the cell that reading m reads at *i (quoted: inside quotes),
 * moving past it: CELL_END at the end of the cell, CELL_UNSURE when it cannot be told (the
 * look-ahead window ends, a byte this reading does not see, or a doubled quote, which no
 * number or telephone number holds). */
static int cell_next(const struct tx *t, const struct mach *m, size_t *i, int *mode, bool quoted)
{
	int c = next_vis(t, i, mode);
	if (c == -2)
		return CELL_UNSURE;
	if (c == -1)
		return CELL_END;
	if (!sees(m, *mode))
		return CELL_UNSURE;
	if (quoted && c == '"') {
		size_t j = *i + 1;
		int md = *mode;
		int d = next_vis(t, &j, &md);
		if (d == -2 || d == '"')
			return CELL_UNSURE;
		if (d != -1 && d != m->sep && d != '\r' && d != '\n')
			return CELL_UNSURE;
		return CELL_END;
	}
	if (!quoted && (c == m->sep || c == '\r' || c == '\n'))
		return CELL_END;
	(*i)++;
	return c;
}

/* Is the cell content at i (after its first sign character) a plain number, so that a
 * leading + or - is data? Reads up to the end of the cell. */
static bool plain_number(const struct tx *t, const struct mach *m, size_t i, int mode,
			 bool quoted)
{
	size_t digits = 0, edigits = 0, count = 0;
	bool exp = false, pct = false, trail = false, cur = false;
	for (;;) {
		int c = cell_next(t, m, &i, &mode, quoted);
		if (c == CELL_UNSURE)
			return false;
		if (c == CELL_END)
			return exp ? edigits > 0 : (digits > 0 || (count == 0 && !cur));
		if (++count > TX_NUM_MAX)
			return false;
		if (c == ' ' || c == '\t' || (quoted && (c == '\r' || c == '\n'))) {
			if (count == 1)
				return false; /* "- 5" */
			trail = true;
			continue;
		}
		if (trail || pct)
			return false;
		if (c >= '0' && c <= '9') {
			if (exp)
				edigits++;
			else
				digits++;
		} else if ((c == '.' || c == ',') && !exp) {
			/* grouping or decimal mark */
		} else if ((c == 'e' || c == 'E') && !exp && digits) {
			exp = true;
			size_t j = i;
			int md = mode;
			int d = cell_next(t, m, &j, &md, quoted);
			if (d == '+' || d == '-') {
				i = j;
				mode = md;
			}
		} else if (c == '%' && digits) {
			pct = true;
		} else if ((c == '$' || c == '\\') && count == 1) {
			cur = true;
		} else {
			return false;
		}
	}
}

/* Is the cell content at i (after its leading '+') a telephone number as people write
 * them: "+81-3-1234-5678", "+81 3 1234 5678", "+1 (555) 010-9999", "+44 (0)20 7946 0958"?
 * Digit groups joined by one '-', '.' or space, at most one group of digits in
 * parentheses, 7 to 16 digits, trailing spaces allowed. Nothing in such a cell can name a
 * function, a cell or a DDE server: a spreadsheet could at most subtract the groups, so it
 * is data and keeps its bytes. Anything else is not one (and so is neutralised). */
static bool phone_number(const struct tx *t, const struct mach *m, size_t i, int mode,
			 bool quoted)
{
	size_t digits = 0, count = 0;
	int prev = 0, last_sep = 0; /* prev: 0 start, 'd' digit, 's' separator, '(' or ')' */
	bool paren = false, in_paren = false;
	for (;;) {
		int c = cell_next(t, m, &i, &mode, quoted);
		if (c == CELL_UNSURE)
			return false;
		if (c == CELL_END)
			return !in_paren && digits >= 7 && digits <= 16 &&
			       (prev == 'd' || prev == ')' || (prev == 's' && last_sep == ' '));
		if (++count > TX_NUM_MAX)
			return false;
		if (prev == 's' && last_sep == ' ' && c == ' ')
			continue; /* a run of spaces (or trailing ones) */
		if (c >= '0' && c <= '9') {
			digits++;
			prev = 'd';
		} else if (c == '-' || c == '.' || c == ' ') {
			if (prev != 'd' && prev != ')')
				return false;
			prev = 's';
			last_sep = c;
		} else if (c == '(') {
			if (paren || (prev != 0 && prev != 'd' && prev != 's'))
				return false;
			paren = in_paren = true;
			prev = '(';
		} else if (c == ')') {
			if (!in_paren || prev != 'd')
				return false;
			in_paren = false;
			prev = ')';
		} else {
			return false;
		}
	}
}

/* Could the formula cell at i run something (the readings other than the primary one):
 * DDE ('|'), or a function call: '(' with a name in the cell (an ASCII letter, '_', '\'
 * or a non-ASCII byte). Parentheses among digits alone ("+1 (555) 010-9999") call nothing. */
static bool dangerous(const struct tx *t, const struct mach *m, size_t i, int mode,
		      bool quoted)
{
	uint8_t sep = m->sep;
	bool paren = false, name = false;
	for (;;) {
		int c = next_vis(t, &i, &mode);
		if (c == -2)
			return true; /* cannot tell: fail closed */
		if (c == -1)
			return paren && name;
		i++;
		if (!sees(m, mode)) {
			name = true; /* two-byte text */
			continue;
		}
		if (c == '|')
			return true;
		if (c == '(')
			paren = true;
		else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '\\' ||
			 c >= 0x80)
			name = true;
		if (quoted && c == '"') {
			int d = next_vis(t, &i, &mode);
			if (d != '"')
				quoted = false; /* closed: the rest is read literally up to the end */
			else
				i++;
			continue;
		}
		if (!quoted && (c == sep || c == '\r' || c == '\n'))
			return paren && name;
	}
}

/* Machine m enters a new cell whose content starts at x: neutralise it if it would be a
 * formula. */
static int check_cell(struct tx *t, const struct mach *m, size_t x)
{
	if (x < t->len && !t->vis_skip[t->b[x]])
		return 0; /* fast path: an ordinary first byte */
	size_t i = x;
	int mode = t->mode;
	bool quoted = false, lit_quote = false;
	size_t qpos = 0;
	int c = next_vis(t, &i, &mode);
	if (c == '"' && sees(m, mode)) {
		quoted = true;
		qpos = i;
		i++;
	}
	for (;;) {
		c = next_vis(t, &i, &mode);
		if (c == -1)
			return 0; /* empty cell at the end */
		if (c == -2)
			break; /* window ends: neutralise */
		if (!sees(m, mode))
			return 0;
		if (!quoted && (c == m->sep || c == '\r' || c == '\n'))
			return 0; /* empty cell */
		if (c == ' ' || c == '\t' || (quoted && (c == '\r' || c == '\n'))) {
			i++;
			continue;
		}
		if (c == '"' && !quoted && !lit_quote) {
			/* ` "=1"`: Excel reads the quote literally, but readers that trim
			 * spaces see a quoted formula: look inside too */
			lit_quote = true;
			i++;
			continue;
		}
		if (quoted && c == '"')
			return 0; /* "" or the closing quote: not a trigger */
		if (c != '=' && c != '@' && c != '+' && c != '-')
			return 0;
		if (!m->primary) {
			if (!dangerous(t, m, i + 1, mode, quoted || lit_quote))
				return 0;
		} else if ((c == '+' || c == '-') &&
			   (plain_number(t, m, i + 1, mode, quoted || lit_quote) ||
			    (c == '+' && phone_number(t, m, i + 1, mode, quoted || lit_quote)))) {
			return 0;
		}
		break;
	}
	if (!m->iso && t->iso && (!ascii_like(mode) || !ascii_like(t->mode)))
		/* ISO-2022-JP read as bytes (as Excel does, in CP932) has a formula cell inside
		 * two-byte text: no quote can go there without breaking that text */
		return sk_cdr_block(t->ctx, SK_REASON_MALFORMED,
				    "ISO-2022-JP text that reads as a formula in CP932");
	if (quoted) {
		/* right after the opening quote, when the main loop has passed it (and removed
		 * any control characters before it) */
		t->pending = qpos + 1;
		t->pending_col = m->col;
		return 0;
	}
	return insert(t, x, t->mode, m->col);
}

/* ---- the state machines ----------------------------------------------------------- */

static void ordinary(struct tx *t)
{
	if (!t->need_ord)
		return;
	for (int k = 0; k < t->nm; k++)
		if (t->m[k].st == ST_START || t->m[k].st == ST_QQ)
			t->m[k].st = ST_UNQ;
	t->need_ord = false;
}

static void recompute_need(struct tx *t)
{
	bool need = false;
	for (int k = 0; k < t->nm; k++)
		need |= t->m[k].st == ST_START || t->m[k].st == ST_QQ;
	t->need_ord = need;
}

/* A visible structural byte c at i (separator, quote, TAB, CR, LF). */
static int machines(struct tx *t, size_t i, uint8_t c)
{
	bool nl = c == '\r' || c == '\n';
	/* in ISO-2022-JP two-byte text, printable bytes are no structure to ISO readings */
	bool hide = t->iso && !ascii_like(t->mode) && c >= 0x20;
	if (!nl && c != '"' && !t->need_ord) {
		/* common case: every reading is inside a field (unquoted or quoted), so only
		 * the readings that have c as separator, outside quotes, start a cell */
		for (int k = 0; k < t->nm; k++) {
			struct mach *m = &t->m[k];
			if (m->sep != c || m->st != ST_UNQ || (hide && m->iso))
				continue;
			m->st = ST_START;
			m->col++;
			t->need_ord = true;
			int rc = check_cell(t, m, i + 1);
			if (rc)
				return rc;
		}
		return 0;
	}
	for (int k = 0; k < t->nm; k++) {
		struct mach *m = &t->m[k];
		if (hide && m->iso) {
			if (m->st == ST_START || m->st == ST_QQ)
				m->st = ST_UNQ; /* an ordinary byte to it */
			continue;
		}
		switch (m->st) {
		case ST_QUO:
			if (c == '"')
				m->st = ST_QQ;
			continue;
		case ST_QQ:
			if (c == '"') {
				m->st = ST_QUO;
				continue;
			}
			m->st = ST_UNQ;
			break;
		case ST_START:
			if (c == '"') {
				m->st = ST_QUO;
				continue;
			}
			break;
		default:
			break;
		}
		/* ST_START or ST_UNQ, c is not an opening quote */
		if (nl) {
			m->st = ST_START;
			m->col = 1;
		} else if (c == m->sep) {
			m->st = ST_START;
			m->col++;
		} else {
			m->st = ST_UNQ;
			continue;
		}
		int rc = check_cell(t, m, i + 1);
		if (rc)
			return rc;
	}
	recompute_need(t);
	return 0;
}

/* ---- the main loop ---------------------------------------------------------------- */

static void set_designation(struct tx *t, const uint8_t *p, size_t l)
{
	if (p[1] == '(' && l == 3)
		t->mode = p[2] == 'B' ? MODE_ASCII : (p[2] == 'J' || p[2] == 'H') ? MODE_ROMAN
										  : MODE_OTHER1;
	else if (p[1] == '$')
		t->mode = MODE_DBCS;
	else
		return; /* G1–G3 designations and the like do not change G0 */
	memcpy(t->desig, p, l);
	t->desig_len = l;
	t->cls = ascii_like(t->mode) ? t->cls_a : t->cls_o;
}

/* Processes b[start, stop); may consume a few bytes past stop (returned in *endp). */
static int run(struct tx *t, size_t start, size_t stop, size_t *endp)
{
	const uint8_t *b = t->b;
	size_t i = start;
	int rc = 0;
	while (i < stop) {
		const uint8_t *cls = t->cls;
		size_t j = i;
		while (j + 4 <= stop && !(cls[b[j]] | cls[b[j + 1]] | cls[b[j + 2]] | cls[b[j + 3]]))
			j += 4;
		while (j < stop && !cls[b[j]])
			j++;
		if (j > i)
			ordinary(t);
		if (j >= stop) {
			i = j;
			break;
		}
		i = j;
		uint8_t c = b[i];
		if (cls[c] == C_STRUCT && c != '"') {
			/* the most frequent case, a separator: no jump table */
			if ((rc = machines(t, i, c)))
				return rc;
			i++;
			continue;
		}
		switch (cls[c]) {
		case C_LF:
			t->line++;
			rc = machines(t, i, c);
			i++;
			break;
		case C_CR:
			if (i + 1 >= t->len || b[i + 1] != '\n')
				t->line++;
			rc = machines(t, i, c);
			i++;
			break;
		case C_TAB:
		case C_STRUCT:
			rc = machines(t, i, c);
			i++;
			if (c == '"' && t->pending == i) {
				t->pending = SIZE_MAX;
				rc = rc ? rc : insert(t, i, t->mode, t->pending_col);
			}
			break;
		case C_CTRL:
			if (c == 0x1B && t->iso) {
				size_t l = esc_len(b + i, t->len - i);
				if (l) {
					set_designation(t, b + i, l);
					i += l;
					break;
				}
			}
			rc = strip(t, i, 1);
			i++;
			break;
		case C_C2:
			if (i + 1 < t->len && b[i + 1] >= 0x80 && b[i + 1] <= 0x9F) {
				rc = strip(t, i, 2);
				i += 2;
			} else {
				ordinary(t);
				i++;
			}
			break;
		case C_LEAD:
			ordinary(t);
			if (i + 1 < t->len && b[i + 1] >= 0x40 && b[i + 1] != 0x7F && b[i + 1] != 0xFF)
				i += 2;
			else
				i++;
			break;
		default:
			ordinary(t);
			i++;
			break;
		}
		if (rc)
			return rc;
	}
	*endp = i;
	return 0;
}

/* ---- input ------------------------------------------------------------------------ */

static int fill_raw(struct tx *t)
{
	size_t got;
	int rc = sk_input_pread(t->in, t->off, t->raw + t->rawlen, TX_RAW - t->rawlen, &got,
				t->err);
	if (rc)
		return rc;
	t->off += got;
	t->rawlen += got;
	if (got == 0 || t->off >= t->in->size)
		t->raw_eof = true;
	return 0;
}

/* Fills b up to cap (decoding for UTF-16/32); sets t->eof at the end of the input. */
static int fill(struct tx *t)
{
	if (!t->dec) {
		size_t want = t->cap - t->len;
		if (t->chunk < want)
			want = t->chunk;
		size_t got;
		int rc = sk_input_pread(t->in, t->off, t->b + t->len, want, &got, t->err);
		if (rc)
			return rc;
		t->off += got;
		t->len += got;
		if (got < want || t->off >= t->in->size)
			t->eof = true;
		return 0;
	}
	size_t target = t->len + t->chunk < t->cap ? t->len + t->chunk : t->cap;
	while (t->len < target && !t->eof) {
		if (t->rawlen < 8 && !t->raw_eof) {
			int rc = fill_raw(t);
			if (rc)
				return rc;
		}
		char *ip = (char *)t->raw;
		size_t il = t->rawlen;
		char *op = (char *)t->b + t->len;
		size_t ol = target - t->len;
		size_t r = iconv(t->dec, &ip, &il, &op, &ol);
		int e = r == (size_t)-1 ? errno : 0;
		t->len = (size_t)((uint8_t *)op - t->b);
		memmove(t->raw, ip, il);
		t->rawlen = il;
		if (e == EILSEQ || (e == EINVAL && t->raw_eof)) {
			t->failed_format = true;
			return sk_error_set(t->err, SK_EFORMAT, "invalid %s", enc_names[t->enc]);
		}
		if (e == E2BIG)
			break;
		if (e == EINVAL || t->rawlen == 0) {
			if (t->raw_eof && t->rawlen == 0)
				t->eof = true;
			else if (!t->raw_eof) {
				int rc = fill_raw(t);
				if (rc)
					return rc;
			}
		}
	}
	return 0;
}

/* ---- set-up --------------------------------------------------------------------- */

static void build_tables(struct tx *t)
{
	memset(t->cls_a, 0, sizeof(t->cls_a));
	for (int c = 0; c < 0x20; c++)
		t->cls_a[c] = C_CTRL;
	t->cls_a[0x7F] = C_CTRL;
	t->cls_a['\n'] = C_LF;
	t->cls_a['\r'] = C_CR;
	t->cls_a['\t'] = t->csv ? C_TAB : C_ORD;
	if (t->csv) {
		t->cls_a['"'] = C_STRUCT;
		for (int k = 0; k < t->nm; k++)
			if (t->m[k].sep != '\t')
				t->cls_a[t->m[k].sep] = C_STRUCT;
	}
	if (t->c1)
		t->cls_a[0xC2] = C_C2;
	if (t->leads) {
		for (int c = t->lead_lo; c <= t->lead_hi; c++)
			if (!(t->enc == ENC_SJIS && c >= 0xA0 && c <= 0xDF))
				t->cls_a[c] = C_LEAD;
	}
	/* ISO-2022-JP outside ASCII: only controls and line ends matter (TAB too in CSV) */
	memset(t->cls_o, 0, sizeof(t->cls_o));
	for (int c = 0; c < 0x20; c++)
		t->cls_o[c] = t->cls_a[c];
	t->cls_o[0x7F] = C_CTRL;
	if (t->csv)
		memcpy(t->cls_o, t->cls_a, sizeof(t->cls_o)); /* raw readings see all structure */
	t->cls = t->cls_a;

	memset(t->vis_skip, 0, sizeof(t->vis_skip));
	for (int c = 0; c < 0x20; c++)
		t->vis_skip[c] = 1;
	t->vis_skip[0x7F] = 1;
	t->vis_skip[0xC2] = t->c1;
	static const char trig[] = "\"=+-@ ";
	for (const char *p = trig; *p; p++)
		t->vis_skip[(uint8_t)*p] = 1;
}

/* The readings: a "sep=X" first line, then comma, TAB and semicolon. The primary one is
 * the one Excel uses for this file: X; TAB for .tsv/.tab and UTF-16/32 ("Unicode
 * text"); comma for .csv (the Japanese list separator); else the separator the first
 * line uses most. */
static void setup_machines(struct tx *t, size_t start)
{
	const uint8_t *b = t->b + start;
	size_t n = t->len - start;
	uint8_t extra = 0;
	if (n >= 5 && !strncasecmp((const char *)b, "sep=", 4) && b[4] >= 0x20 && b[4] < 0x7F &&
	    b[4] != '"' && (n == 5 || b[5] == '\r' || b[5] == '\n'))
		extra = b[4];
	static const uint8_t seps[3] = {',', '\t', ';'};
	size_t cnt[3] = {0, 0, 0};
	bool q = false;
	for (size_t i = 0; i < n && i < TX_HEAD; i++) {
		if (b[i] == '"')
			q = !q;
		else if (!q && (b[i] == '\n' || b[i] == '\r'))
			break;
		else if (!q)
			for (int k = 0; k < 3; k++)
				cnt[k] += b[i] == seps[k];
	}
	char ext[32];
	sk_name_ext(t->ctx->name ? t->ctx->name : "", ext, sizeof(ext));
	uint8_t primary;
	if (extra)
		primary = extra;
	else if (!strcmp(ext, "tsv") || !strcmp(ext, "tab") || t->enc >= ENC_UTF16LE)
		primary = '\t';
	else if (!strcmp(ext, "csv") && cnt[0] > 0)
		primary = ','; /* Excel in Japan reads .csv with ',' */
	else
		primary = cnt[2] > cnt[0] && cnt[2] > cnt[1] ? ';' : cnt[1] > cnt[0] ? '\t' : ',';
	t->nm = 0;
	t->m[t->nm++] = (struct mach){.sep = primary, .st = ST_START, .primary = true,
				      .iso = t->iso, .col = 1};
	for (int k = 0; k < 3; k++)
		if (seps[k] != primary)
			t->m[t->nm++] = (struct mach){.sep = seps[k], .st = ST_START, .iso = t->iso,
						      .col = 1};
	if (t->iso) {
		/* Excel opens a .csv in the ANSI code page (CP932), where ISO-2022-JP's
		 * two-byte text is plain ASCII: read the bytes that way too */
		int niso = t->nm;
		for (int k = 0; k < niso; k++) {
			t->m[t->nm] = t->m[k];
			t->m[t->nm].iso = false;
			t->m[t->nm].primary = false;
			t->nm++;
		}
	}
	if (primary >= 0x40 && (t->enc == ENC_SJIS || t->enc == ENC_DBCS))
		t->leads = true;
}

static int tx_main(struct tx *t)
{
	int rc;
	bool first = true;
	for (;;) {
		sk_reason late = sk_budget_time(t->ctx->budget); /* once a chunk */
		if (late != SK_REASON_NONE)
			return sk_cdr_block(t->ctx, late, "text");
		if ((rc = fill(t)))
			return rc;
		size_t stop = t->eof ? t->len : t->len > TX_LOOK ? t->len - TX_LOOK : 0;
		if (!t->eof && stop == 0)
			continue; /* not enough look-ahead yet (decoding in small steps) */
		size_t start = 0;
		if (first) {
			first = false;
			/* a BOM is no part of the first cell */
			if (t->len >= 3 && !memcmp(t->b, "\xEF\xBB\xBF", 3) &&
			    (t->enc == ENC_UTF8 || t->dec))
				start = 3;
			if (t->csv)
				setup_machines(t, start);
			build_tables(t);
			recompute_need(t);
			for (int k = 0; k < t->nm && !rc; k++)
				rc = check_cell(t, &t->m[k], start);
			if (rc)
				return rc;
		}
		size_t end;
		if ((rc = run(t, start, stop, &end)))
			return rc;
		if (end > t->len)
			end = t->len;
		if ((rc = flush_to(t, end)))
			return rc;
		if (t->grown > t->charged) {
			uint64_t add = (t->grown - t->charged) * t->unit;
			t->charged = t->grown;
			if (sk_budget_expand(t->ctx->budget, add) != SK_REASON_NONE)
				return sk_cdr_block(t->ctx, SK_REASON_LIMIT_SIZE, "text: added quotes");
		}
		if (t->eof && end >= t->len)
			break;
		/* carry the unprocessed tail (the look-ahead) to the front */
		memmove(t->b, t->b + end, t->len - end);
		t->len -= end;
		t->base += end;
		t->emit_from -= end; /* flush_to() left it at end or past it */
		if (t->pending != SIZE_MAX)
			t->pending -= end;
	}
	return ob_flush(t, true);
}

static int text_sanitize(sk_cdr_ctx *ctx, sk_input *in, sk_output *out, sk_error *err)
{
	struct tx *t = calloc(1, sizeof(*t));
	if (!t)
		return sk_error_set(err, SK_ENOMEM, "text");
	t->ctx = ctx;
	t->in = in;
	t->out = out;
	t->err = err;
	t->line = 1;
	t->pending = SIZE_MAX;
	t->dec = t->encd = NULL;
	t->unit = 1;
	t->mode = MODE_ASCII;
	memcpy(t->desig, "\x1b(B", 3);
	t->desig_len = 3;
	t->csv = ctx->type.kind == SK_KIND_CSV && ctx->profile && ctx->profile->csv_neutralize;
	t->chunk = sk_cdr_text_chunk ? sk_cdr_text_chunk : TX_CHUNK;

	int rc = detect_encoding(t, &t->enc);
	if (rc)
		goto out;
	switch (t->enc) {
	case ENC_UTF8: t->c1 = true; break;
	case ENC_SJIS: t->leads = false; t->lead_lo = 0x81; t->lead_hi = 0xFC; break;
	case ENC_DBCS: t->leads = false; t->lead_lo = 0x81; t->lead_hi = 0xFE; break;
	case ENC_ISO2022JP: t->iso = true; break;
	case ENC_UTF16LE:
	case ENC_UTF16BE:
	case ENC_UTF32LE:
	case ENC_UTF32BE:
		t->c1 = true;
		t->unit = t->enc <= ENC_UTF16BE ? 2 : 4;
		t->dec = iconv_open("UTF-8", enc_names[t->enc]);
		t->encd = iconv_open(enc_names[t->enc], "UTF-8");
		if (t->dec == (iconv_t)-1 || t->encd == (iconv_t)-1) {
			if (t->dec == (iconv_t)-1)
				t->dec = NULL;
			if (t->encd == (iconv_t)-1)
				t->encd = NULL;
			rc = sk_error_set(err, SK_EINTERNAL, "iconv %s", enc_names[t->enc]);
			goto out;
		}
		t->raw = malloc(TX_RAW);
		t->eb = malloc(TX_OBUF * 2);
		if (!t->raw || !t->eb) {
			rc = sk_error_set(err, SK_ENOMEM, "text");
			goto out;
		}
		break;
	default: break;
	}
	if (t->dec && t->chunk < 16)
		t->chunk = 16; /* room for a decoded character whatever the look-ahead */
	t->cap = t->chunk + TX_LOOK;
	t->b = malloc(t->cap);
	t->ob = malloc(TX_OBUF);
	if (!t->b || !t->ob) {
		rc = sk_error_set(err, SK_ENOMEM, "text");
		goto out;
	}
	rc = tx_main(t);
	if (rc && t->failed_format)
		rc = sk_cdr_block(ctx, SK_REASON_MALFORMED, err && err->msg[0] ? err->msg : "text");
	if (rc)
		goto out;
	char sub[96];
	if (t->nctrl) {
		snprintf(sub, sizeof(sub), "line %llu", (unsigned long long)t->ctrl_line);
		if (sk_cdr_action(ctx, SK_ACTION_REMOVED, "control-characters", sub, NULL, t->nctrl))
			rc = sk_error_set(err, SK_ENOMEM, "report");
	}
	if (!rc && t->nform) {
		snprintf(sub, sizeof(sub), "line %llu, column %llu", (unsigned long long)t->form_line,
			 (unsigned long long)t->form_col);
		if (sk_cdr_action(ctx, SK_ACTION_NEUTRALIZED, "formula", sub, NULL, t->nform))
			rc = sk_error_set(err, SK_ENOMEM, "report");
	}
out:
	if (t->dec)
		iconv_close(t->dec);
	if (t->encd)
		iconv_close(t->encd);
	free(t->raw);
	free(t->eb);
	free(t->b);
	free(t->ob);
	free(t);
	return rc;
}

static bool text_accepts(const sk_type *t)
{
	return t->kind == SK_KIND_TEXT || t->kind == SK_KIND_CSV;
}

const sk_cdr_module sk_cdr_module_text = {
	.name = "text",
	.accepts = text_accepts,
	.sanitize = text_sanitize,
};
