/* Mail headers (see include/sekisho/mail.h): RFC 2047 encoded words and RFC 2231 parameters
 * decoded the way senders really write them, and clean 7-bit headers written back. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>
#include <gmime/gmime.h>

#include "sekisho/hash.h"
#include "sekisho/charset.h"
#include "sekisho/mail.h"
#include "sekisho/name.h"

/* ---- reading ---------------------------------------------------------------------- */

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* The value with its folds undone: CR/LF before whitespace removed, any other CR or LF a
 * space (into u, reset first). */
static int unfold(const char *raw, size_t n, sk_buf *u)
{
	sk_buf_reset(u);
	int rc = sk_buf_reserve(u, n + 1);
	for (size_t i = 0; i < n && !rc; i++) {
		char c = raw[i];
		if (c == '\r' || c == '\n') {
			size_t j = i;
			while (j < n && (raw[j] == '\r' || raw[j] == '\n'))
				j++;
			if (j < n && is_ws(raw[j])) {
				i = j - 1; /* a fold: the whitespace stays */
				continue;
			}
			rc = sk_buf_addc(u, ' ');
			i = j - 1;
			continue;
		}
		rc = sk_buf_addc(u, (uint8_t)c);
	}
	if (!rc)
		rc = sk_buf_addc(u, 0); /* NUL-terminated, not counted */
	if (!rc)
		u->len--;
	return rc;
}

/* Control characters (C0, DEL and C1) of the UTF-8 text out[from..) become spaces:
 * nothing decoded may break a header line or hide in it. */
static void controls_to_spaces(sk_buf *out, size_t from)
{
	size_t w = from;
	for (size_t i = from; i < out->len; i++) {
		uint8_t c = out->data[i];
		if (c == 0xC2 && i + 1 < out->len && out->data[i + 1] >= 0x80 && out->data[i + 1] <= 0x9F) {
			out->data[w++] = ' '; /* U+0080-U+009F */
			i++;
		} else {
			out->data[w++] = c < 0x20 || c == 0x7f ? ' ' : c;
		}
	}
	out->len = w;
	if (out->data)
		out->data[w] = 0;
}

/* An RFC 2047 encoded word at s[0..n): "=?charset[*lang]?B|Q?text?=" (no whitespace in
 * it). Returns its length, 0 when it is not one; cs gets the charset, *b the encoding. */
static size_t eword(const char *s, size_t n, char *cs, size_t csz, bool *b, const char **text,
		    size_t *tl)
{
	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	size_t i = 2;
	while (i < n && s[i] != '?' && !is_ws(s[i]) && (unsigned char)s[i] > 0x20 &&
	       (unsigned char)s[i] < 0x7f)
		i++;
	size_t cl = i - 2;
	if (i + 2 >= n || s[i] != '?' || cl == 0 || cl >= csz)
		return 0;
	char e = s[i + 1];
	if (!strchr("BbQq", e) || s[i + 2] != '?')
		return 0;
	size_t t0 = i + 3, j = t0;
	while (j < n && s[j] != '?' && !is_ws(s[j]))
		j++;
	if (j + 1 >= n || s[j] != '?' || s[j + 1] != '=')
		return 0;
	memcpy(cs, s + 2, cl);
	cs[cl] = 0;
	char *star = strchr(cs, '*'); /* RFC 2231 language: charset*lang */
	if (star)
		*star = 0;
	*b = e == 'B' || e == 'b';
	*text = s + t0;
	*tl = j - t0;
	return j + 2;
}

/* The bytes of an encoded word's text appended to bytes. */
static int word_bytes(const char *t, size_t tl, bool b64, sk_buf *bytes)
{
	if (b64) {
		int rc = sk_buf_reserve(bytes, tl / 4 * 3 + 4);
		if (rc)
			return rc;
		gint state = 0;
		guint save = 0;
		/* GLib's decoder skips what is no base64 and needs no padding */
		gsize k = g_base64_decode_step(t, tl, bytes->data + bytes->len, &state, &save);
		bytes->len += k;
		return 0;
	}
	int rc = 0;
	for (size_t i = 0; i < tl && !rc; i++) {
		int h1, h2;
		if (t[i] == '_')
			rc = sk_buf_addc(bytes, ' ');
		else if (t[i] == '=' && i + 2 < tl && (h1 = sk_hex_digit((unsigned char)t[i + 1])) >= 0 &&
			 (h2 = sk_hex_digit((unsigned char)t[i + 2])) >= 0) {
			rc = sk_buf_addc(bytes, (uint8_t)(h1 << 4 | h2));
			i += 2;
		} else
			rc = sk_buf_addc(bytes, (uint8_t)t[i]);
	}
	return rc;
}

static bool has_special(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strchr("()<>[]:;@\\,.\"", p[i]) && p[i])
			return true;
	return false;
}

typedef struct hdec {
	sk_buf *out;
	const char *hint;
	bool phrase;
	bool inquote;     /* inside a quoted-string of the raw text (phrase mode) */
	sk_buf raw;       /* raw text not yet written (decoded when 8-bit) */
	sk_buf bytes;     /* bytes of the pending encoded words */
	char cs[64];      /* their charset ("" when none pending) */
	sk_buf tmp;
	int rc;
} hdec;

static void flush_raw(hdec *d)
{
	if (d->rc || !d->raw.len)
		return;
	size_t mark = d->out->len;
	d->rc = sk_mail_decode_undeclared(d->raw.data, d->raw.len, d->hint, d->out, NULL);
	if (!d->rc)
		controls_to_spaces(d->out, mark);
	sk_buf_reset(&d->raw);
}

static void flush_words(hdec *d)
{
	if (d->rc || !d->cs[0])
		return;
	sk_buf_reset(&d->tmp);
	d->rc = sk_mail_decode_text(d->bytes.data ? d->bytes.data : (const uint8_t *)"", d->bytes.len,
				    d->cs, &d->tmp, NULL);
	d->cs[0] = 0;
	sk_buf_reset(&d->bytes);
	if (d->rc)
		return;
	controls_to_spaces(&d->tmp, 0);
	const uint8_t *t = d->tmp.data ? d->tmp.data : (const uint8_t *)"";
	size_t tl = d->tmp.len;
	if (!d->phrase || (!d->inquote && !has_special(t, tl))) {
		d->rc = sk_buf_add(d->out, t, tl);
		return;
	}
	/* in a quoted-string, or to become one: '"' and '\' escaped */
	if (!d->inquote)
		d->rc = sk_buf_addc(d->out, '"');
	for (size_t i = 0; i < tl && !d->rc; i++) {
		if (t[i] == '"' || t[i] == '\\')
			d->rc = sk_buf_addc(d->out, '\\');
		if (!d->rc)
			d->rc = sk_buf_addc(d->out, t[i]);
	}
	if (!d->inquote && !d->rc)
		d->rc = sk_buf_addc(d->out, '"');
}

int sk_mail_header_decode(const char *raw, size_t n, const char *hint, bool phrase,
			  sk_buf *out)
{
	hdec d = {.out = out, .hint = hint, .phrase = phrase};
	sk_buf u;
	sk_buf_init(&u, SK_BUF_MAX_DEFAULT);
	sk_buf_init(&d.raw, SK_BUF_MAX_DEFAULT);
	sk_buf_init(&d.bytes, SK_BUF_MAX_DEFAULT);
	sk_buf_init(&d.tmp, SK_BUF_MAX_DEFAULT);
	d.rc = unfold(raw ? raw : "", raw ? n : 0, &u);
	const char *s = (const char *)sk_buf_data(&u);
	size_t len = sk_buf_len(&u), i = 0, ws0 = 0, wsl = 0;
	bool escaped = false;
	while (i < len && !d.rc) {
		char cs[64];
		bool b64;
		const char *t;
		size_t tl;
		size_t wl = s[i] == '=' ? eword(s + i, len - i, cs, sizeof(cs), &b64, &t, &tl) : 0;
		if (wl) {
			/* whitespace between two encoded words is not text */
			if (!d.cs[0] && wsl)
				d.rc = sk_buf_add(&d.raw, s + ws0, wsl);
			wsl = 0;
			if (d.cs[0] && strcasecmp(d.cs, cs))
				flush_words(&d); /* another charset: decoded on its own */
			flush_raw(&d);
			if (!d.cs[0])
				snprintf(d.cs, sizeof(d.cs), "%s", cs);
			if (!d.rc)
				d.rc = word_bytes(t, tl, b64, &d.bytes);
			i += wl;
			escaped = false;
			continue;
		}
		if (is_ws(s[i])) { /* also in a quoted-string: words there are joined too */
			if (!wsl)
				ws0 = i;
			wsl++;
			i++;
			continue;
		}
		/* other text: the pending words end here */
		flush_words(&d);
		if (wsl && !d.rc)
			d.rc = sk_buf_add(&d.raw, s + ws0, wsl);
		wsl = 0;
		if (phrase) {
			if (escaped)
				escaped = false;
			else if (d.inquote && s[i] == '\\')
				escaped = true;
			else if (s[i] == '"')
				d.inquote = !d.inquote;
		}
		if (!d.rc)
			d.rc = sk_buf_addc(&d.raw, (uint8_t)s[i]);
		i++;
	}
	flush_words(&d);
	if (wsl && !d.rc)
		d.rc = sk_buf_add(&d.raw, s + ws0, wsl);
	flush_raw(&d);
	if (out->data)
		out->data[out->len] = 0;
	int rc = d.rc;
	sk_buf_free(&u);
	sk_buf_free(&d.raw);
	sk_buf_free(&d.bytes);
	sk_buf_free(&d.tmp);
	return rc;
}

/* ---- parameters (RFC 2231) ---- */

#define SECTIONS_MAX 256

typedef struct pval {
	bool have, ext;
	size_t off, len; /* the value (unquoted) in the values buffer */
} pval;

/* One parameter value at s[i..): a quoted-string (unescaped) or a token up to ';' (its
 * trailing whitespace dropped), appended to vals; *v its place there. Returns the index
 * after it. */
static size_t param_value(const char *s, size_t n, size_t i, sk_buf *vals, pval *v, int *rc)
{
	v->off = vals->len;
	if (i < n && s[i] == '"') {
		for (i++; i < n && s[i] != '"' && !*rc; i++) {
			if (s[i] == '\\' && i + 1 < n)
				i++;
			*rc = sk_buf_addc(vals, (uint8_t)s[i]);
		}
		if (i < n)
			i++;
		/* whatever follows a closing quote up to ';' is dropped */
		while (i < n && s[i] != ';')
			i++;
	} else {
		size_t e = i;
		while (e < n && s[e] != ';')
			e++;
		size_t end = e;
		while (end > i && is_ws(s[end - 1]))
			end--;
		*rc = sk_buf_add(vals, s + i, end - i);
		i = e;
	}
	v->len = vals->len - v->off;
	v->have = true;
	return i;
}

/* %XX → byte (a lone % stays) appended to b. */
static int pct_bytes(const char *v, size_t vl, sk_buf *b)
{
	int rc = 0;
	for (size_t i = 0; i < vl && !rc; i++) {
		int h1, h2;
		if (v[i] == '%' && i + 2 < vl && (h1 = sk_hex_digit((unsigned char)v[i + 1])) >= 0 &&
		    (h2 = sk_hex_digit((unsigned char)v[i + 2])) >= 0) {
			rc = sk_buf_addc(b, (uint8_t)(h1 << 4 | h2));
			i += 2;
		} else {
			rc = sk_buf_addc(b, (uint8_t)v[i]);
		}
	}
	return rc;
}

/* "charset'lang'" at the start of an extended value: the charset into cs ("" when none)
 * and the rest of the value. */
static void ext_charset(const char **v, size_t *vl, char *cs, size_t csz)
{
	cs[0] = 0;
	const char *a1 = memchr(*v, '\'', *vl);
	const char *a2 = a1 ? memchr(a1 + 1, '\'', *vl - (size_t)(a1 + 1 - *v)) : NULL;
	if (!a2)
		return;
	size_t cl = (size_t)(a1 - *v);
	if (cl < csz) {
		memcpy(cs, *v, cl);
		cs[cl] = 0;
	}
	*vl -= (size_t)(a2 + 1 - *v);
	*v = a2 + 1;
}

int sk_mail_param_decode(const char *raw, const char *param, const char *hint, sk_buf *out)
{
	sk_buf u, vals, bytes;
	sk_buf_init(&u, SK_BUF_MAX_DEFAULT);
	sk_buf_init(&vals, SK_BUF_MAX_DEFAULT);
	sk_buf_init(&bytes, SK_BUF_MAX_DEFAULT);
	pval *sec = calloc(SECTIONS_MAX, sizeof(*sec));
	pval plain = {0}, ext = {0};
	int rc = sec ? unfold(raw ? raw : "", raw ? strlen(raw) : 0, &u) : SK_ENOMEM;
	const char *s = (const char *)sk_buf_data(&u);
	size_t n = sk_buf_len(&u), pl = strlen(param), mark = out->len;
	/* the value before the first ';' (the type or the disposition) is skipped */
	size_t i = 0;
	bool inq = false;
	while (i < n && (inq || s[i] != ';')) {
		if (s[i] == '"')
			inq = !inq;
		else if (inq && s[i] == '\\')
			i++;
		i++;
	}
	while (i < n && !rc) {
		while (i < n && (s[i] == ';' || is_ws(s[i])))
			i++;
		size_t a0 = i;
		while (i < n && s[i] != '=' && s[i] != ';')
			i++;
		if (i >= n || s[i] != '=')
			continue;
		size_t al = i - a0;
		while (al && is_ws(s[a0 + al - 1]))
			al--;
		for (i++; i < n && is_ws(s[i]); i++)
			;
		pval v = {0};
		i = param_value(s, n, i, &vals, &v, &rc);
		if (al < pl || strncasecmp(s + a0, param, pl))
			continue;
		const char *rest = s + a0 + pl;
		size_t rl = al - pl, k = 1, idx = 0;
		if (rl == 0) {
			plain = v;
		} else if (rl == 1 && rest[0] == '*') {
			ext = v;
			ext.ext = true;
		} else if (rest[0] == '*') {
			/* name*N or name*N*: section N, no leading zero */
			while (k < rl && rest[k] >= '0' && rest[k] <= '9' && idx < SECTIONS_MAX)
				idx = idx * 10 + (size_t)(rest[k++] - '0');
			bool star = k < rl && rest[k] == '*';
			if (k > 1 && idx < SECTIONS_MAX && k + (star ? 1u : 0u) == rl &&
			    !(rest[1] == '0' && k > 2)) {
				sec[idx] = v;
				sec[idx].ext = star;
			}
		}
	}
	const char *vb = (const char *)sk_buf_data(&vals);
	char cs[64] = "";
	if (rc) {
		/* nothing more */
	} else if (sec[0].have) {
		/* continuations: joined in order up to the first gap, then decoded as one */
		for (size_t k = 0; k < SECTIONS_MAX && sec[k].have && !rc; k++) {
			const char *v = vb + sec[k].off;
			size_t vl = sec[k].len;
			if (k == 0 && sec[k].ext)
				ext_charset(&v, &vl, cs, sizeof(cs));
			rc = sec[k].ext ? pct_bytes(v, vl, &bytes) : sk_buf_add(&bytes, v, vl);
		}
		const uint8_t *b = bytes.data ? bytes.data : (const uint8_t *)"";
		if (!rc && cs[0])
			rc = sk_mail_decode_text(b, bytes.len, cs, out, NULL);
		else if (!rc) /* no charset: encoded words or raw 8-bit, as in a plain value */
			rc = sk_mail_header_decode((const char *)b, bytes.len, hint, false, out);
	} else if (ext.have) {
		const char *v = vb + ext.off;
		size_t vl = ext.len;
		ext_charset(&v, &vl, cs, sizeof(cs));
		rc = pct_bytes(v, vl, &bytes);
		const uint8_t *b = bytes.data ? bytes.data : (const uint8_t *)"";
		if (!rc && cs[0])
			rc = sk_mail_decode_text(b, bytes.len, cs, out, NULL);
		else if (!rc)
			rc = sk_mail_decode_undeclared(b, bytes.len, hint, out, NULL);
	} else if (plain.have) {
		rc = sk_mail_header_decode(vb + plain.off, plain.len, hint, false, out);
	} else {
		rc = SK_ENOTFOUND;
	}
	if (!rc)
		controls_to_spaces(out, mark);
	free(sec);
	sk_buf_free(&u);
	sk_buf_free(&vals);
	sk_buf_free(&bytes);
	return rc;
}

/* ---- writing ---------------------------------------------------------------------- */

#define FOLD_AT 78
#define WORD_MAX 64 /* characters of an encoded or long ASCII word: with "Reply-To: " a line of 74 */
#define EW_BYTES 39 /* UTF-8 bytes in one B word: 52 base64 characters, 64 in all */

typedef struct fold {
	sk_buf *o;
	size_t col;
	bool first; /* nothing written after the name yet */
	int rc;
} fold;

static void f_start(fold *f, sk_buf *o, const char *name)
{
	f->o = o;
	f->rc = sk_buf_printf(o, "%s:", name);
	f->col = strlen(name) + 1;
	f->first = true;
}

/* A word after whitespace ws (" " when wsl is 0 and space is set): folded before the
 * whitespace when the line would pass FOLD_AT. */
static void f_word(fold *f, const char *ws, size_t wsl, bool space, const char *w, size_t wl)
{
	if (f->rc)
		return;
	if (!wsl && (space || f->first)) {
		ws = " ";
		wsl = 1;
	}
	if (!f->first && wsl && f->col + wsl + wl > FOLD_AT) {
		f->rc = sk_buf_addc(f->o, '\n');
		f->col = 0;
	}
	if (!f->rc)
		f->rc = sk_buf_add(f->o, ws, wsl);
	if (!f->rc)
		f->rc = sk_buf_add(f->o, w, wl);
	f->col += wsl + wl;
	f->first = false;
}

static void f_end(fold *f)
{
	if (!f->rc)
		f->rc = sk_buf_addc(f->o, '\n');
}

/* The length of the UTF-8 character at p (1 for a stray byte). */
static size_t u8len(const uint8_t *p, size_t n)
{
	size_t l = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC0 ? 2 : 1;
	return l <= n ? l : n;
}

/* The bytes of one encoded word taken from t[0..n): whole characters, at most EW_BYTES,
 * and a multiple of 3 when it is not the last (no base64 padding inside a run: GMime, for
 * one, joins the words of a run before decoding them and loses what follows a '='). 0
 * when no such cut exists (the word is then Q-encoded). */
static size_t b_cut(const uint8_t *t, size_t n)
{
	size_t e = 0, best = 0;
	while (e < n) {
		size_t l = u8len(t + e, n - e);
		if (e + l > EW_BYTES)
			break;
		e += l;
		if (e % 3 == 0)
			best = e;
	}
	return e == n ? e : best;
}

/* The bytes of one Q-encoded word taken from t[0..n): whole characters, at most
 * WORD_MAX characters in the word. */
static size_t q_cut(const uint8_t *t, size_t n)
{
	size_t e = 0, w = 12; /* =?UTF-8?Q? and ?= */
	while (e < n) {
		size_t l = u8len(t + e, n - e), k = 0;
		for (size_t j = 0; j < l; j++)
			k += (t[e + j] >= 0x80 || !isalnum(t[e + j])) && t[e + j] != ' ' ? 3 : 1;
		if (w + k > WORD_MAX && e)
			break;
		w += k;
		e += l;
	}
	return e;
}

/* t[0..n) as encoded words, each after ws (the first) or a fold space. */
static void f_encoded(fold *f, const char *ws, size_t wsl, bool space, const uint8_t *t, size_t n)
{
	size_t i = 0;
	bool firstw = true;
	while (i < n && !f->rc) {
		char w[96];
		int wl;
		size_t e = b_cut(t + i, n - i);
		if (e) {
			gchar *b64 = g_base64_encode(t + i, e);
			wl = snprintf(w, sizeof(w), "=?UTF-8?B?%s?=", b64 ? b64 : "");
			if (!b64)
				wl = -1;
			g_free(b64);
		} else {
			e = q_cut(t + i, n - i);
			wl = snprintf(w, sizeof(w), "=?UTF-8?Q?");
			for (size_t j = i; j < i + e && wl > 0 && (size_t)wl + 4 < sizeof(w); j++) {
				uint8_t c = t[j];
				wl += c == ' ' ? snprintf(w + wl, sizeof(w) - (size_t)wl, "_")
				      : c < 0x80 && isalnum(c) ? snprintf(w + wl, sizeof(w) - (size_t)wl, "%c", c)
				      : snprintf(w + wl, sizeof(w) - (size_t)wl, "=%02X", c);
			}
			if (wl > 0 && (size_t)wl + 3 <= sizeof(w))
				wl += snprintf(w + wl, sizeof(w) - (size_t)wl, "?=");
			else
				wl = -1;
		}
		if (wl < 0 || (size_t)wl >= sizeof(w))
			f->rc = SK_ENOMEM;
		else if (firstw)
			f_word(f, ws, wsl, space, w, (size_t)wl);
		else
			f_word(f, " ", 1, true, w, (size_t)wl);
		firstw = false;
		i += e;
	}
}

static bool ascii_word(const uint8_t *w, size_t n)
{
	if (n > WORD_MAX)
		return false; /* would not fit a line: encoded words can be cut */
	for (size_t i = 0; i < n; i++)
		if (w[i] < 0x21 || w[i] > 0x7e)
			return false;
	for (size_t i = 0; i + 1 < n; i++)
		if (w[i] == '=' && w[i + 1] == '?')
			return false; /* would read as an encoded word */
	return true;
}

/* The UTF-8 value made safe: invalid bytes as U+FFFD, control characters as spaces. */
static int clean_value(const char *v, sk_buf *c)
{
	int rc = sk_charset_to_utf8("UTF-8", (const uint8_t *)(v ? v : ""), v ? strlen(v) : 0, c,
				    NULL, NULL);
	if (!rc)
		controls_to_spaces(c, 0);
	return rc;
}

/* Unstructured text: words of printable ASCII as they are (the whitespace before them
 * kept), runs of other words with the whitespace between them as encoded words. */
static void f_text(fold *f, const uint8_t *t, size_t n)
{
	size_t i = 0;
	while (i < n && t[i] == ' ')
		i++;
	while (n > i && t[n - 1] == ' ')
		n--;
	size_t ws0 = i, wsl = 0;
	while (i < n && !f->rc) {
		size_t w0 = i;
		while (i < n && t[i] != ' ')
			i++;
		if (ascii_word(t + w0, i - w0)) {
			f_word(f, (const char *)t + ws0, wsl, true, (const char *)t + w0, i - w0);
		} else {
			/* this word and the following ones that need encoding, as one text */
			size_t e = i;
			while (e < n) {
				size_t j = e;
				while (j < n && t[j] == ' ')
					j++;
				size_t k = j;
				while (k < n && t[k] != ' ')
					k++;
				if (j == k || ascii_word(t + j, k - j))
					break;
				e = k;
			}
			f_encoded(f, (const char *)t + ws0, wsl, true, t + w0, e - w0);
			i = e;
		}
		ws0 = i;
		while (i < n && t[i] == ' ')
			i++;
		wsl = i - ws0;
	}
}

static bool atom_phrase(const char *s)
{
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e ||
		    strchr("()<>[]:;@\\,.\"", *p))
			return false;
	return true;
}

static bool ascii_text(const char *s)
{
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return false;
	return !strstr(s, "=?");
}

/* A display name: atoms as they are, printable ASCII with specials as a quoted-string
 * (when it fits a line), anything else as encoded words. */
static void f_phrase(fold *f, const char *name, bool space)
{
	if (atom_phrase(name)) {
		f_text(f, (const uint8_t *)name, strlen(name));
		return;
	}
	if (ascii_text(name) && strlen(name) + 2 <= WORD_MAX) {
		sk_buf q;
		sk_buf_init(&q, SK_BUF_MAX_DEFAULT);
		int rc = sk_buf_addc(&q, '"');
		for (const char *p = name; *p && !rc; p++) {
			if (*p == '"' || *p == '\\')
				rc = sk_buf_addc(&q, '\\');
			if (!rc)
				rc = sk_buf_addc(&q, (uint8_t)*p);
		}
		if (!rc)
			rc = sk_buf_addc(&q, '"');
		if (rc)
			f->rc = rc;
		else
			f_word(f, NULL, 0, space, sk_buf_str(&q), q.len);
		sk_buf_free(&q);
		return;
	}
	f_encoded(f, NULL, 0, space, (const uint8_t *)name, strlen(name));
}

static void f_addresses(fold *f, InternetAddressList *l);

/* Every address of the list printable ASCII (the domain in punycode) and at most 254
 * characters (RFC 5321)? An 8-bit local part (SMTPUTF8) cannot be written in a 7-bit
 * header, nor a longer address on a line: the list is then written as text. */
static bool ascii_addresses(InternetAddressList *l)
{
	int k = l ? internet_address_list_length(l) : 0;
	for (int i = 0; i < k; i++) {
		InternetAddress *a = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_GROUP(a)) {
			if (!ascii_addresses(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a))))
				return false;
			continue;
		}
		InternetAddressMailbox *mb = INTERNET_ADDRESS_MAILBOX(a);
		const char *addr = internet_address_mailbox_get_addr(mb);
		for (const char *p = addr ? addr : ""; *p; p++)
			if ((unsigned char)*p >= 0x80) {
				addr = internet_address_mailbox_get_idn_addr(mb);
				break;
			}
		for (const char *p = addr ? addr : ""; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				return false;
		if (addr && strlen(addr) > 254)
			return false;
	}
	return true;
}

static void f_address(fold *f, InternetAddress *a, bool last)
{
	const char *name = internet_address_get_name(a);
	bool named = name && *name;
	if (named)
		f_phrase(f, name, true);
	if (INTERNET_ADDRESS_IS_GROUP(a)) {
		if (!named)
			f_word(f, NULL, 0, true, "\"\"", 2);
		if (!f->rc)
			f->rc = sk_buf_addc(f->o, ':');
		f->col++;
		f_addresses(f, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)));
		if (!f->rc)
			f->rc = sk_buf_addc(f->o, ';');
		f->col++;
	} else {
		InternetAddressMailbox *mb = INTERNET_ADDRESS_MAILBOX(a);
		const char *addr = internet_address_mailbox_get_addr(mb);
		bool ascii = true;
		for (const char *p = addr ? addr : ""; *p; p++)
			ascii &= (unsigned char)*p < 0x80;
		if (!ascii) /* the domain in punycode (ascii_addresses checked the rest) */
			addr = internet_address_mailbox_get_idn_addr(mb);
		char *w = g_strdup_printf(named ? "<%s>%s" : "%s%s", addr ? addr : "", last ? "" : ",");
		if (!w)
			f->rc = SK_ENOMEM;
		else
			f_word(f, NULL, 0, true, w, strlen(w));
		g_free(w);
		return;
	}
	if (!last && !f->rc) {
		f->rc = sk_buf_addc(f->o, ',');
		f->col++;
	}
}

static void f_addresses(fold *f, InternetAddressList *l)
{
	int k = l ? internet_address_list_length(l) : 0;
	for (int i = 0; i < k && !f->rc; i++)
		f_address(f, internet_address_list_get_address(l, i), i == k - 1);
}

static bool address_header(const char *name)
{
	static const char *const A[] = {"From", "To", "Cc", "Bcc", "Reply-To", "Sender",
					"Resent-From", "Resent-To", "Resent-Cc", "Resent-Bcc",
					"Resent-Sender", NULL};
	for (int i = 0; A[i]; i++)
		if (!strcasecmp(name, A[i]))
			return true;
	return false;
}

int sk_mail_header_write(sk_buf *o, const char *name, const char *value)
{
	sk_buf c;
	sk_buf_init(&c, SK_BUF_MAX_DEFAULT);
	size_t mark = o->len;
	fold f;
	f_start(&f, o, name);
	int rc = clean_value(value, &c);
	if (rc)
		f.rc = rc;
	InternetAddressList *l = NULL;
	if (!f.rc && address_header(name)) {
		GMimeParserOptions *po = g_mime_parser_options_new();
		g_mime_parser_options_set_address_compliance_mode(po, GMIME_RFC_COMPLIANCE_LOOSE);
		g_mime_parser_options_set_rfc2047_compliance_mode(po, GMIME_RFC_COMPLIANCE_LOOSE);
		l = internet_address_list_parse(po, sk_buf_str(&c));
		g_mime_parser_options_free(po);
		if (l && (internet_address_list_length(l) == 0 || !ascii_addresses(l))) {
			g_object_unref(l);
			l = NULL;
		}
	}
	if (l)
		f_addresses(&f, l);
	else if (!f.rc)
		f_text(&f, sk_buf_data(&c), c.len);
	f_end(&f);
	if (l)
		g_object_unref(l);
	sk_buf_free(&c);
	if (f.rc)
		sk_buf_truncate(o, mark);
	return f.rc;
}

int sk_mail_filename_param(sk_buf *o, const char *name, bool disposition)
{
	const char *attr = disposition ? "filename" : "name";
	sk_buf c;
	sk_buf_init(&c, SK_BUF_MAX_DEFAULT);
	size_t mark = o->len;
	int rc = clean_value(name, &c);
	const uint8_t *t = sk_buf_data(&c);
	bool ascii = true;
	for (size_t i = 0; i < c.len; i++)
		ascii &= t[i] >= 0x20 && t[i] < 0x7f;
	if (!rc && ascii) {
		rc = sk_buf_printf(o, ";\n %s=\"", attr);
		for (size_t i = 0; i < c.len && !rc; i++) {
			if (t[i] == '"' || t[i] == '\\')
				rc = sk_buf_addc(o, '\\');
			if (!rc)
				rc = sk_buf_addc(o, t[i]);
		}
		if (!rc)
			rc = sk_buf_addc(o, '"');
	} else if (!rc && !disposition) {
		/* name="=?UTF-8?B?…?= …": what old readers (and Outlook) understand */
		rc = sk_buf_printf(o, ";\n %s=\"", attr);
		fold f = {.o = o, .col = strlen(attr) + 3, .first = false, .rc = rc};
		f_encoded(&f, "", 0, false, t, c.len);
		rc = f.rc ? f.rc : sk_buf_addc(o, '"');
	} else if (!rc) {
		/* RFC 2231, in sections of whole characters on lines of their own */
		size_t i = 0;
		for (unsigned k = 0; i < c.len && !rc; k++) {
			rc = sk_buf_printf(o, ";\n %s*%u*=%s", attr, k, k ? "" : "UTF-8''");
			size_t col = 0;
			while (i < c.len && !rc) {
				size_t l = u8len(t + i, c.len - i);
				if (col && col + 3 * l > 60)
					break;
				for (size_t j = 0; j < l && !rc; j++) {
					uint8_t b = t[i + j];
					if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
					    (b >= '0' && b <= '9') || strchr("-._~", b)) {
						rc = sk_buf_addc(o, b);
						col++;
					} else {
						rc = sk_buf_printf(o, "%%%02X", b);
						col += 3;
					}
				}
				i += l;
			}
		}
	}
	sk_buf_free(&c);
	if (rc)
		sk_buf_truncate(o, mark);
	return rc;
}
