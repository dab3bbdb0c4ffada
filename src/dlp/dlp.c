/* DLP detectors: 個人番号, 法人番号 and custom patterns, on UTF-8 text, in chunks.
 *
 * The scanner looks at a window of the stream: bytes [0, len) of buf hold stream bytes
 * [base, base + len). A region [rs, re) is scanned for numbers that *start* in it; up to
 * KEEP bytes before and after a region stay in the buffer so that boundaries and context
 * words can be seen across chunk edges. */
#include "sekisho/dlp.h"
#include "sekisho/codec.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "sekisho/buf.h"
#include "sekisho/charset.h"

#define KEEP 1024              /* look-back/look-ahead kept around a region (bytes) */
#define CHUNK ((size_t)1 << 20) /* region size when streaming */
#define MAX_WINDOW 100          /* characters; 4 bytes each at most: 400 < KEEP */
#define MAX_GROUPS 6

struct word {
	char *s;
	size_t n;
	bool ci; /* ASCII case-insensitive */
};

struct pattern {
	char *id;
	char *src; /* the expression as configured (sk_dlp_encode) */
	regex_t re;
};

struct sk_dlp {
	sk_dlp_config c;
	struct word *myw, *corpw, *phonew, *assetw;
	size_t nmyw, ncorpw, nphonew, nassetw;
	char **deny;
	size_t ndeny;
	struct pattern *pat;
	size_t npat;
};

static const char *const default_mynumber_words[] = {
	"個人番号", "マイナンバー", "ﾏｲﾅﾝﾊﾞｰ", "my number", "mynumber", "通知カード",
};
static const char *const default_corporate_words[] = {
	"法人番号", "登録番号", "corporate number",
};
/* Words an asset marking starts with (情報資産番号 ends with the first). */
static const char *const default_asset_words[] = {
	"資産番号", "asset id", "asset no",
};
/* Words before a number that say it is a telephone number. */
static const char *const phone_words[] = {
	"電話", "tel", "fax", "携帯", "℡", "☎", "phone", "ＴＥＬ", "ＦＡＸ",
};

const char *sk_dlp_kind_code(sk_dlp_kind k)
{
	switch (k) {
	case SK_DLP_MYNUMBER: return "mynumber";
	case SK_DLP_CORPORATE: return "corporate";
	case SK_DLP_PATTERN: return "pattern";
	case SK_DLP_ASSET: return "asset";
	default: return "?";
	}
}

const char *sk_dlp_kind_text(sk_dlp_kind k, int en)
{
	switch (k) {
	case SK_DLP_MYNUMBER: return en ? "My Number (individual number)" : "個人番号";
	case SK_DLP_CORPORATE: return en ? "corporate number" : "法人番号";
	case SK_DLP_PATTERN: return en ? "custom pattern" : "独自パターン";
	case SK_DLP_ASSET: return en ? "information asset marking" : "情報資産の表示";
	default: return "?";
	}
}

/* ---- check digits ---------------------------------------------------------------- */

int sk_dlp_mynumber_check(const char *body)
{
	/* left to right the weights are 6 5 4 3 2 7 6 5 4 3 2 */
	static const int w[11] = {6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2};
	int sum = 0;
	for (int i = 0; i < 11; i++) {
		if (body[i] < '0' || body[i] > '9')
			return SK_EINVAL;
		sum += (body[i] - '0') * w[i];
	}
	int r = sum % 11;
	return r <= 1 ? 0 : 11 - r;
}

int sk_dlp_corporate_check(const char *base)
{
	/* Pn counted from the right of the 12-digit base: weight 1 for odd n, 2 for even n */
	int sum = 0;
	for (int i = 0; i < 12; i++) {
		if (base[i] < '0' || base[i] > '9')
			return SK_EINVAL;
		int n = 12 - i;
		sum += (base[i] - '0') * ((n & 1) ? 1 : 2);
	}
	return 9 - sum % 9;
}

bool sk_dlp_mynumber_valid(const char *d)
{
	if (strlen(d) != 12)
		return false;
	int c = sk_dlp_mynumber_check(d);
	return c >= 0 && d[11] == '0' + c;
}

bool sk_dlp_corporate_valid(const char *d)
{
	if (strlen(d) != 13)
		return false;
	int c = sk_dlp_corporate_check(d + 1);
	return c >= 0 && d[0] == '0' + c;
}

/* ---- configuration ---------------------------------------------------------------- */

void sk_dlp_config_default(sk_dlp_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mynumber = true;
	c->corporate = true;
	c->require_context = true;
	c->window = 20;
	c->max_input = (uint64_t)256 << 20;
	c->max_matches = 10000;
	c->asset = true;
}

static bool has_upper_ascii(const char *s)
{
	bool latin = false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p >= 0x80)
			return false;
		else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
			latin = true;
	return latin;
}

static int add_words(struct word **v, size_t *n, const char *const *w, size_t nw)
{
	if (!nw)
		return 0;
	struct word *nv = realloc(*v, (*n + nw) * sizeof(**v));
	if (!nv)
		return SK_ENOMEM;
	*v = nv;
	for (size_t i = 0; i < nw; i++) {
		if (!w[i] || !*w[i])
			continue;
		struct word *x = &nv[*n];
		if (!(x->s = strdup(w[i])))
			return SK_ENOMEM;
		x->n = strlen(x->s);
		x->ci = has_upper_ascii(x->s);
		(*n)++;
	}
	return 0;
}

void sk_dlp_free(sk_dlp *d)
{
	if (!d)
		return;
	struct word *lists[] = {d->myw, d->corpw, d->phonew, d->assetw};
	size_t counts[] = {d->nmyw, d->ncorpw, d->nphonew, d->nassetw};
	for (int l = 0; l < 4; l++) {
		for (size_t i = 0; i < counts[l]; i++)
			free(lists[l][i].s);
		free(lists[l]);
	}
	for (size_t i = 0; i < d->ndeny; i++)
		free(d->deny[i]);
	free(d->deny);
	for (size_t i = 0; i < d->npat; i++) {
		free(d->pat[i].id);
		free(d->pat[i].src);
		regfree(&d->pat[i].re);
	}
	free(d->pat);
	free(d);
}

int sk_dlp_new(const sk_dlp_config *c, sk_dlp **out, sk_error *err)
{
	*out = NULL;
	sk_dlp *d = calloc(1, sizeof(*d));
	if (!d)
		return sk_error_set(err, SK_ENOMEM, "dlp");
	d->c = *c;
	d->c.deny = NULL;
	d->c.mynumber_words = d->c.corporate_words = d->c.asset_words = NULL;
	d->c.patterns = NULL;
	if (d->c.window > MAX_WINDOW)
		d->c.window = MAX_WINDOW;
	int rc = add_words(&d->myw, &d->nmyw, default_mynumber_words,
			   sizeof(default_mynumber_words) / sizeof(default_mynumber_words[0]));
	if (!rc)
		rc = add_words(&d->myw, &d->nmyw, c->mynumber_words, c->nmynumber_words);
	if (!rc)
		rc = add_words(&d->corpw, &d->ncorpw, default_corporate_words,
			       sizeof(default_corporate_words) / sizeof(default_corporate_words[0]));
	if (!rc)
		rc = add_words(&d->corpw, &d->ncorpw, c->corporate_words, c->ncorporate_words);
	if (!rc)
		rc = add_words(&d->phonew, &d->nphonew, phone_words,
			       sizeof(phone_words) / sizeof(phone_words[0]));
	if (!rc)
		rc = add_words(&d->assetw, &d->nassetw, default_asset_words,
			       sizeof(default_asset_words) / sizeof(default_asset_words[0]));
	if (!rc)
		rc = add_words(&d->assetw, &d->nassetw, c->asset_words, c->nasset_words);
	if (rc) {
		sk_dlp_free(d);
		return sk_error_set(err, SK_ENOMEM, "dlp words");
	}
	if (c->ndeny) {
		if (!(d->deny = calloc(c->ndeny, sizeof(*d->deny)))) {
			sk_dlp_free(d);
			return sk_error_set(err, SK_ENOMEM, "dlp deny");
		}
		for (size_t i = 0; i < c->ndeny; i++) {
			if (!(d->deny[i] = strdup(c->deny[i] ? c->deny[i] : ""))) {
				sk_dlp_free(d);
				return sk_error_set(err, SK_ENOMEM, "dlp deny");
			}
			d->ndeny++;
		}
	}
	if (c->npatterns) {
		if (!(d->pat = calloc(c->npatterns, sizeof(*d->pat)))) {
			sk_dlp_free(d);
			return sk_error_set(err, SK_ENOMEM, "dlp patterns");
		}
		for (size_t i = 0; i < c->npatterns; i++) {
			const sk_dlp_pattern *p = &c->patterns[i];
			int e = regcomp(&d->pat[i].re, p->regex ? p->regex : "", REG_EXTENDED | REG_NEWLINE);
			if (e) {
				char m[128];
				regerror(e, &d->pat[i].re, m, sizeof(m));
				sk_error_set(err, SK_EFORMAT, "pattern %s: %s", p->id ? p->id : "?", m);
				sk_dlp_free(d);
				return SK_EFORMAT;
			}
			d->npat++;
			if (!(d->pat[i].id = strdup(p->id ? p->id : "pattern")) ||
			    !(d->pat[i].src = strdup(p->regex ? p->regex : ""))) {
				sk_dlp_free(d);
				return sk_error_set(err, SK_ENOMEM, "dlp patterns");
			}
		}
	}
	*out = d;
	return 0;
}

void sk_dlp_result_init(sk_dlp_result *r)
{
	memset(r, 0, sizeof(*r));
}

void sk_dlp_result_free(sk_dlp_result *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* ---- character helpers (UTF-8) ------------------------------------------------------ */

/* A digit at p: its length in bytes (1 ASCII, 3 full-width ０-９) and value, or 0. */
static inline int digit_at(const uint8_t *p, const uint8_t *end, int *v)
{
	if (p < end && *p >= '0' && *p <= '9') {
		*v = *p - '0';
		return 1;
	}
	if (end - p >= 3 && p[0] == 0xEF && p[1] == 0xBC && p[2] >= 0x90 && p[2] <= 0x99) {
		*v = p[2] - 0x90;
		return 3;
	}
	return 0;
}

/* Decodes the code point at p (lenient: an invalid byte is returned as itself). */
static uint32_t cp_at(const uint8_t *p, const uint8_t *end, int *len)
{
	if (p >= end) {
		*len = 0;
		return 0;
	}
	uint8_t b = p[0];
	int n = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
	if (end - p < n)
		n = 1;
	uint32_t c = n == 1 ? b : n == 2 ? (b & 0x1Fu) : n == 3 ? (b & 0x0Fu) : (b & 0x07u);
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			*len = 1;
			return b;
		}
		c = (c << 6) | (p[i] & 0x3Fu);
	}
	*len = n;
	return c;
}

/* Start of the character that ends just before p (never before lo). */
static const uint8_t *prev_char(const uint8_t *p, const uint8_t *lo)
{
	if (p <= lo)
		return NULL;
	const uint8_t *q = p - 1;
	for (int i = 0; i < 3 && q > lo && (*q & 0xC0) == 0x80; i++)
		q--;
	return q;
}

static uint32_t cp_before(const uint8_t *p, const uint8_t *lo, const uint8_t **start)
{
	const uint8_t *q = prev_char(p, lo);
	*start = q;
	if (!q)
		return 0;
	int l;
	return cp_at(q, p, &l);
}

static bool is_hyphen(uint32_t c)
{
	return c == '-' || (c >= 0x2010 && c <= 0x2013) || c == 0x2212 || c == 0xFF0D || c == 0x30FC;
}

static bool is_space_sep(uint32_t c)
{
	return c == ' ' || c == 0x3000;
}

static bool is_digit_cp(uint32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 0xFF10 && c <= 0xFF19);
}

static bool is_latin(uint32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= 0xFF21 && c <= 0xFF3A) ||
	       (c >= 0xFF41 && c <= 0xFF5A) || c == '_';
}

/* Byte index window characters before p (not before lo). */
static const uint8_t *back_chars(const uint8_t *p, const uint8_t *lo, uint32_t n)
{
	while (n-- && p > lo) {
		const uint8_t *q = prev_char(p, lo);
		p = q ? q : lo;
	}
	return p;
}

static const uint8_t *fwd_chars(const uint8_t *p, const uint8_t *hi, uint32_t n)
{
	while (n-- && p < hi) {
		int l;
		cp_at(p, hi, &l);
		p += l ? l : 1;
	}
	return p;
}

static inline uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool has_word(const uint8_t *h, size_t n, const struct word *w)
{
	if (w->n > n)
		return false;
	if (!w->ci)
		return memmem(h, n, w->s, w->n) != NULL;
	for (size_t i = 0; i + w->n <= n; i++) {
		size_t j = 0;
		while (j < w->n && lower(h[i + j]) == lower((uint8_t)w->s[j]))
			j++;
		if (j == w->n)
			return true;
	}
	return false;
}

static bool any_word(const uint8_t *h, size_t n, const struct word *v, size_t nv)
{
	for (size_t i = 0; i < nv; i++)
		if (has_word(h, n, &v[i]))
			return true;
	return false;
}

/* ---- the scanner -------------------------------------------------------------------- */

struct scanner {
	const sk_dlp *d;
	sk_dlp_result *r;
	const uint8_t *buf; /* stream bytes [base, base + len) */
	uint8_t *own;       /* buf when the scanner owns it (streaming) */
	size_t len, cap;
	uint64_t base;
	size_t pos;         /* next region start (index in buf) */
	uint64_t total;     /* bytes fed */
	/* line/column of stream offset cnt */
	uint64_t cnt;
	uint32_t line, col;
	int err;
	/* the first line of the text: a CSV/TSV header gives its columns context */
	uint8_t header[4096];
	size_t hlen;
	bool hdone;
};

static void capture_header(struct scanner *s, const uint8_t *p, size_t n)
{
	if (s->hdone)
		return;
	const uint8_t *nl = memchr(p, '\n', n);
	size_t l = nl ? (size_t)(nl - p) : n;
	if (l > sizeof(s->header) - s->hlen)
		l = sizeof(s->header) - s->hlen;
	memcpy(s->header + s->hlen, p, l);
	s->hlen += l;
	if (nl || s->hlen == sizeof(s->header))
		s->hdone = true;
	while (s->hdone && s->hlen && s->header[s->hlen - 1] == '\r')
		s->hlen--;
}

/* A number in field k of a delimited line below a header whose field k holds a context
 * word (氏名,個人番号 / 山田,384756291044): the column is the context. */
static bool column_context(const struct scanner *s, const uint8_t *ts, const struct word *wv,
			   size_t nw)
{
	const uint8_t *h = s->header, *he = s->header + s->hlen;
	if (!s->hlen)
		return false;
	uint8_t dl = memchr(h, '\t', s->hlen) ? '\t' : ',';
	if (!memchr(h, dl, s->hlen))
		return false;
	const uint8_t *ls = ts;
	while (ls > s->buf && ls[-1] != '\n')
		ls--;
	if (ls == s->buf && s->base != 0)
		return false; /* the line starts before what is still in the buffer */
	if (ls == s->buf)
		return false; /* the header line itself */
	size_t k = 0;
	bool q = false;
	for (const uint8_t *p = ls; p < ts; p++) {
		if (*p == '"')
			q = !q;
		else if (*p == dl && !q)
			k++;
	}
	size_t f = 0;
	const uint8_t *fs = h, *p = h;
	q = false;
	for (; p < he; p++) {
		if (*p == '"') {
			q = !q;
		} else if (*p == dl && !q) {
			if (f == k)
				break;
			f++;
			fs = p + 1;
		}
	}
	return f == k && any_word(fs, (size_t)(p - fs), wv, nw);
}

/* Numbers of one repeated digit, or whose body (without the check digit) counts up or
 * down (123456789018), are examples, not real numbers; so is anything on the deny-list. */
static bool denied(const sk_dlp *d, const char *digits, size_t n, const char *body, size_t bn)
{
	bool same = true, up = true, down = true;
	for (size_t i = 1; i < n; i++)
		if (digits[i] != digits[0])
			same = false;
	for (size_t i = 1; i < bn; i++) {
		if ((body[i] - '0') != (body[i - 1] - '0' + 1) % 10)
			up = false;
		if ((body[i] - '0' + 1) % 10 != (body[i - 1] - '0'))
			down = false;
	}
	if (same || up || down)
		return true;
	for (size_t i = 0; i < d->ndeny; i++)
		if (strlen(d->deny[i]) == n && !memcmp(d->deny[i], digits, n))
			return true;
	return false;
}

/* yyyymmddhhmm (12) or yyyymmddhhmmX (13): a time stamp rather than a number */
static bool date_like(const char *s)
{
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int mo = (s[4] - '0') * 10 + (s[5] - '0');
	int da = (s[6] - '0') * 10 + (s[7] - '0');
	int h = (s[8] - '0') * 10 + (s[9] - '0');
	int mi = (s[10] - '0') * 10 + (s[11] - '0');
	return y >= 1900 && y <= 2099 && mo >= 1 && mo <= 12 && da >= 1 && da <= 31 && h <= 23 &&
	       mi <= 59;
}

static void mask_copy(char *dst, size_t dsz, const uint8_t *p, const uint8_t *end, bool spaces)
{
	size_t o = 0;
	while (p < end && o + 1 < dsz) {
		int v, l = digit_at(p, end, &v);
		if (l) {
			dst[o++] = '*';
			p += l;
			continue;
		}
		uint32_t c = cp_at(p, end, &l);
		if (l <= 0)
			break;
		if (spaces && (c < 0x20 || c == 0x7F)) {
			dst[o++] = ' ';
			p += l;
			continue;
		}
		if (c >= 0x80 && l == 1) { /* invalid byte */
			dst[o++] = '?';
			p += 1;
			continue;
		}
		if (o + (size_t)l >= dsz)
			break;
		memcpy(dst + o, p, (size_t)l);
		o += (size_t)l;
		p += l;
	}
	dst[o] = 0;
}

static sk_dlp_match *new_match(struct scanner *s)
{
	sk_dlp_result *r = s->r;
	if (r->n >= s->d->c.max_matches) {
		r->truncated = true;
		return NULL;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		sk_dlp_match *v = realloc(r->v, cap * sizeof(*v));
		if (!v) {
			s->err = SK_ENOMEM;
			return NULL;
		}
		r->v = v;
		r->cap = cap;
	}
	sk_dlp_match *m = &r->v[r->n++];
	memset(m, 0, sizeof(*m));
	return m;
}

static void fill_context(struct scanner *s, sk_dlp_match *m, const uint8_t *ts, const uint8_t *te)
{
	const uint8_t *lo = s->buf, *hi = s->buf + s->len;
	const uint8_t *ws = back_chars(ts, lo, 12), *we = fwd_chars(te, hi, 12);
	mask_copy(m->context_text, sizeof(m->context_text), ws, we, true);
}

/* One candidate number [ts, te) with its digits. */
static void candidate(struct scanner *s, sk_dlp_kind kind, const uint8_t *ts, const uint8_t *te,
		      const char *digits, size_t nd, bool grouped, bool eof)
{
	const sk_dlp *d = s->d;
	const uint8_t *lo = s->buf, *hi = s->buf + s->len;
	bool tprefix = false;

	/* what stands before */
	const uint8_t *pb;
	uint32_t b = cp_before(ts, lo, &pb);
	if (pb) {
		if (is_latin(b)) {
			const uint8_t *pbb;
			uint32_t bb = cp_before(pb, lo, &pbb);
			if (kind == SK_DLP_CORPORATE && (b == 'T' || b == 0xFF34) &&
			    !(pbb && (is_latin(bb) || is_digit_cp(bb))))
				tprefix = true;
			else
				return;
		}
		if (b == '+' || b == 0xA5 || b == 0xFFE5 || b == '$' || b == 0xFF04 || b == '\\' ||
		    b == '@')
			return;
		if (b == '/' || b == ':' || b == ',' || b == 0xFF0C || b == '.' || b == 0xFF0E ||
		    is_hyphen(b)) {
			const uint8_t *pbb;
			uint32_t bb = cp_before(pb, lo, &pbb);
			if (pbb && is_digit_cp(bb))
				return;
		}
	}
	/* what follows */
	int l;
	uint32_t a = cp_at(te, hi, &l);
	if (l == 0 && !eof)
		return; /* cannot see the end (only for absurdly long tokens) */
	if (l) {
		if (is_latin(a))
			return;
		static const uint32_t units[] = {0x5186 /*円*/, 0x4E07 /*万*/, 0x5104 /*億*/, 0x5146 /*兆*/,
						 0x5343 /*千*/, '%', 0xFF05, 0x5E74 /*年*/, 0x6708 /*月*/,
						 0x65E5 /*日*/, 0x6642 /*時*/, 0x5206 /*分*/, 0x79D2 /*秒*/,
						 0x6B73 /*歳*/};
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (a == units[i])
				return;
		if (a == '.' || a == 0xFF0E || a == ',' || a == 0xFF0C || a == '/' || a == ':' ||
		    is_hyphen(a)) {
			int v;
			if (digit_at(te + l, hi, &v))
				return;
		}
	}
	/* check digit, deny-list */
	if (kind == SK_DLP_MYNUMBER ? !sk_dlp_mynumber_valid(digits) : !sk_dlp_corporate_valid(digits))
		return;
	if (kind == SK_DLP_MYNUMBER ? denied(d, digits, nd, digits, 11)
				    : denied(d, digits, nd, digits + 1, 12))
		return;
	/* context */
	const uint8_t *ws = back_chars(ts, lo, d->c.window), *we = fwd_chars(te, hi, d->c.window);
	const struct word *wv = kind == SK_DLP_MYNUMBER ? d->myw : d->corpw;
	size_t nw = kind == SK_DLP_MYNUMBER ? d->nmyw : d->ncorpw;
	bool ctx = any_word(ws, (size_t)(ts - ws), wv, nw) || any_word(te, (size_t)(we - te), wv, nw) ||
		   column_context(s, ts, wv, nw);
	if (!ctx) {
		if (any_word(ws, (size_t)(ts - ws), d->phonew, d->nphonew))
			return;
		if (date_like(kind == SK_DLP_CORPORATE ? digits + 1 : digits) && !grouped)
			return;
	}
	bool ok = kind == SK_DLP_MYNUMBER
			  ? (ctx || (grouped && d->c.grouping_is_context) || !d->c.require_context)
			  : (ctx || tprefix || !d->c.require_context);
	if (!ok)
		return;
	sk_dlp_match *m = new_match(s);
	if (!m)
		return;
	m->kind = kind;
	snprintf(m->rule, sizeof(m->rule), "%s", sk_dlp_kind_code(kind));
	m->offset = s->base + (uint64_t)(ts - lo);
	m->length = (uint32_t)(te - ts);
	m->grouped = grouped;
	m->context = ctx || tprefix;
	mask_copy(m->masked, sizeof(m->masked), ts, te, true);
	fill_context(s, m, ts, te);
}

struct group {
	const uint8_t *s, *e;
	size_t nd;      /* digits */
	size_t di;      /* index of its first digit in the token's digits */
};

/* The next ASCII digit or 0xEF (the lead byte of full-width digits) at or after p, or stop.
 * 16 bytes at a time with SSE2 where the compiler has it; plain C elsewhere. */
static const uint8_t *next_interesting(const uint8_t *p, const uint8_t *stop)
{
#if defined(__SSE2__)
	const __m128i c0 = _mm_set1_epi8((char)('0' ^ 0x80)), lim = _mm_set1_epi8((char)(('0' + 10) ^ 0x80));
	const __m128i ef = _mm_set1_epi8((char)0xEF), flip = _mm_set1_epi8((char)0x80);
	while (stop - p >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i xs = _mm_xor_si128(x, flip); /* signed compare of unsigned bytes */
		__m128i dg = _mm_and_si128(_mm_cmpgt_epi8(xs, _mm_sub_epi8(c0, _mm_set1_epi8(1))),
					   _mm_cmplt_epi8(xs, lim));
		int m = _mm_movemask_epi8(_mm_or_si128(dg, _mm_cmpeq_epi8(x, ef)));
		if (m)
			return p + __builtin_ctz((unsigned)m);
		p += 16;
	}
#endif
	while (p < stop && !((*p >= '0' && *p <= '9') || *p == 0xEF))
		p++;
	return p;
}

static void asset_at(struct scanner *s, const uint8_t *digits);

/* Scans the numbers that start in [rs, re), and the asset markings whose id's digits do. */
static void scan_numbers(struct scanner *s, size_t rs, size_t re, bool eof)
{
	const sk_dlp *d = s->d;
	bool assets = d->c.asset && d->nassetw;
	if (!d->c.mynumber && !d->c.corporate && !assets)
		return;
	const uint8_t *lo = s->buf, *hi = s->buf + s->len;
	const uint8_t *p = lo + rs, *stop = lo + re;
	while (p < stop) {
		p = next_interesting(p, stop);
		if (p >= stop)
			break;
		int v, dl = digit_at(p, hi, &v);
		if (!dl) {
			p++;
			continue;
		}
		/* a digit that continues a number started before is not a start */
		const uint8_t *pb;
		uint32_t b;
		if (p > lo && p[-1] < 0x80) { /* the common case, without decoding */
			pb = p - 1;
			b = p[-1];
		} else {
			b = cp_before(p, lo, &pb);
		}
		bool cont = pb && is_digit_cp(b);
		if (!cont && pb && is_hyphen(b)) {
			const uint8_t *pbb;
			uint32_t bb = cp_before(pb, lo, &pbb);
			cont = pbb && is_digit_cp(bb);
		}
		if (cont) {
			while ((dl = digit_at(p, hi, &v)))
				p += dl;
			continue;
		}
		if (assets) {
			asset_at(s, p);
			if (s->err)
				return;
		}
		/* collect the token: digit groups joined by one kind of separator */
		struct group g[MAX_GROUPS];
		char digits[40];
		size_t ng = 0, nd = 0;
		uint32_t sep = 0;
		bool toolong = false;
		const uint8_t *q = p;
		for (;;) {
			const uint8_t *gs = q;
			size_t gn = 0;
			while ((dl = digit_at(q, hi, &v))) {
				if (nd < sizeof(digits) - 1)
					digits[nd++] = (char)('0' + v);
				else
					toolong = true;
				gn++;
				q += dl;
			}
			if (q >= hi && !eof)
				toolong = true;
			if (ng < MAX_GROUPS)
				g[ng] = (struct group){gs, q, gn, nd - (gn <= nd ? gn : nd)};
			else
				toolong = true;
			ng++;
			if (q < hi && *q < 0x80 && *q != '-' && *q != ' ')
				break; /* ASCII that is no separator ends the token */
			int l;
			uint32_t c = cp_at(q, hi, &l);
			if (l && (is_hyphen(c) || is_space_sep(c)) && digit_at(q + l, hi, &v)) {
				if (ng == 1)
					sep = c;
				else if (c != sep)
					break;
				q += l;
				continue;
			}
			break;
		}
		digits[nd] = 0;
		const uint8_t *te = q;
		if (!toolong) {
			if (ng == 1) {
				if (nd == 12 && d->c.mynumber)
					candidate(s, SK_DLP_MYNUMBER, p, te, digits, nd, false, eof);
				else if (nd == 13 && d->c.corporate)
					candidate(s, SK_DLP_CORPORATE, p, te, digits, nd, false, eof);
			} else if (ng == 3 && g[0].nd == 4 && g[1].nd == 4 && g[2].nd == 4) {
				if (d->c.mynumber)
					candidate(s, SK_DLP_MYNUMBER, p, te, digits, nd, true, eof);
			} else if (ng == 4 && g[0].nd == 1 && g[1].nd == 4 && g[2].nd == 4 &&
				   g[3].nd == 4) {
				if (d->c.corporate)
					candidate(s, SK_DLP_CORPORATE, p, te, digits, nd, true, eof);
			} else if (is_space_sep(sep)) {
				/* numbers merely written next to each other: each on its own */
				for (size_t i = 0; i < ng && i < MAX_GROUPS; i++) {
					char one[16];
					if (g[i].nd != 12 && g[i].nd != 13)
						continue;
					memcpy(one, digits + g[i].di, g[i].nd);
					one[g[i].nd] = 0;
					sk_dlp_kind k = g[i].nd == 12 ? SK_DLP_MYNUMBER : SK_DLP_CORPORATE;
					if ((k == SK_DLP_MYNUMBER && d->c.mynumber) ||
					    (k == SK_DLP_CORPORATE && d->c.corporate))
						candidate(s, k, g[i].s, g[i].e, one, g[i].nd, false, eof);
				}
			}
		}
		if (s->err)
			return;
		p = te > p ? te : p + 1;
	}
}

static void scan_patterns(struct scanner *s, size_t rs, size_t re)
{
	const sk_dlp *d = s->d;
	for (size_t i = 0; i < d->npat && !s->err; i++) {
		size_t off = rs;
		while (off < re) {
			regmatch_t m[1];
			m[0].rm_so = (regoff_t)off;
			m[0].rm_eo = (regoff_t)re;
			int fl = REG_STARTEND | (s->base > 0 && off == 0 ? REG_NOTBOL : 0);
			if (regexec(&d->pat[i].re, (const char *)s->buf, 1, m, fl) != 0)
				break;
			size_t ms = (size_t)m[0].rm_so, me = (size_t)m[0].rm_eo;
			if (me > ms) {
				sk_dlp_match *x = new_match(s);
				if (!x)
					return;
				x->kind = SK_DLP_PATTERN;
				snprintf(x->rule, sizeof(x->rule), "%s", d->pat[i].id);
				x->offset = s->base + ms;
				x->length = (uint32_t)(me - ms);
				x->context = true;
				mask_copy(x->masked, sizeof(x->masked), s->buf + ms, s->buf + me, true);
				fill_context(s, x, s->buf + ms, s->buf + me);
				off = me;
			} else {
				off = ms + 1;
			}
		}
	}
}

/* w at x (ASCII case ignored for a Latin word); x + w->n <= the end is the caller's */
static bool word_at(const uint8_t *x, const struct word *w)
{
	if (!w->ci)
		return !memcmp(x, w->s, w->n);
	for (size_t j = 0; j < w->n; j++)
		if (lower(x[j]) != lower((uint8_t)w->s[j]))
			return false;
	return true;
}

static bool asset_sep(uint32_t c)
{
	return c == ' ' || c == '\t' || c == 0x3000 || c == ':' || c == 0xFF1A || c == '=' ||
	       c == 0xFF1D || c == '#' || c == 0xFF03;
}

/* The rest of an asset id after its "AS" at p (a hyphen, 1 to SK_DLP_ASSET_DIGITS digits,
 * no digit or Latin letter after them): its end, and the id normalised to ASCII into id;
 * NULL when it is not one. */
static const uint8_t *asset_id_rest(const uint8_t *p, const uint8_t *hi, char id[24])
{
	int l;
	uint32_t c = cp_at(p, hi, &l);
	if (l <= 0 || !(c == '-' || is_hyphen(c)))
		return NULL;
	p += l;
	memcpy(id, "AS-", 3);
	size_t k = 3;
	int v, dl;
	while ((dl = digit_at(p, hi, &v)) > 0) {
		if (k - 3 == SK_DLP_ASSET_DIGITS)
			return NULL; /* a longer number is not an id */
		id[k++] = (char)('0' + v);
		p += dl;
	}
	if (k == 3)
		return NULL;
	id[k] = 0;
	c = cp_at(p, hi, &l);
	if (l > 0 && is_latin(c))
		return NULL;
	return p;
}

/* An asset marking whose id's digits start at digits (the start of a digit run the number
 * scan found: the same SSE2 search serves both): "AS" (or "ＡＳ") and a hyphen right
 * before the digits, then at most SK_DLP_ASSET_GAP separators and a marking word before
 * that, on the same line. Keyed on the digits, each marking is found once, in the region
 * its digits start in (its word may lie in the look-back before it). */
static void asset_at(struct scanner *s, const uint8_t *digits)
{
	const sk_dlp *d = s->d;
	const uint8_t *lo = s->buf, *hi = s->buf + s->len;
	const uint8_t *hb, *sb, *ab;
	uint32_t c = cp_before(digits, lo, &hb);
	if (!hb || !(c == '-' || is_hyphen(c)))
		return;
	c = cp_before(hb, lo, &sb);
	if (!sb || (c != 'S' && c != 0xFF33))
		return;
	c = cp_before(sb, lo, &ab);
	if (!ab || (c != 'A' && c != 0xFF21))
		return;
	char id[24];
	const uint8_t *te = asset_id_rest(hb, hi, id);
	if (!te)
		return;
	/* back over at most SK_DLP_ASSET_GAP separators (a line break is not one) */
	const uint8_t *q = ab;
	int gap = 0;
	for (;;) {
		const uint8_t *pb;
		c = cp_before(q, lo, &pb);
		if (!pb || !asset_sep(c) || ++gap > SK_DLP_ASSET_GAP)
			break;
		q = pb;
	}
	if (gap > SK_DLP_ASSET_GAP)
		return;
	for (size_t i = 0; i < d->nassetw; i++) {
		const struct word *w = &d->assetw[i];
		if ((size_t)(q - lo) < w->n || !word_at(q - w->n, w))
			continue;
		const uint8_t *x = q - w->n;
		sk_dlp_match *m = new_match(s);
		if (!m)
			return;
		m->kind = SK_DLP_ASSET;
		snprintf(m->rule, sizeof(m->rule), "%s", sk_dlp_kind_code(SK_DLP_ASSET));
		m->offset = s->base + (uint64_t)(x - lo);
		m->length = (uint32_t)(te - x);
		m->context = true;
		snprintf(m->masked, sizeof(m->masked), "%s", id);
		fill_context(s, m, x, te);
		return; /* one marking per id */
	}
}

static int cmp_match(const void *a, const void *b)
{
	const sk_dlp_match *x = a, *y = b;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

static size_t count_newlines(const uint8_t *p, const uint8_t *e)
{
	size_t n = 0;
#if defined(__SSE2__)
	const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
	__m128i acc = zero; /* per-byte counts, summed before they can overflow */
	int k = 0;
	while (e - p >= 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
		acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(x, nl));
		p += 16;
		if (++k == 255 || e - p < 16) {
			__m128i sad = _mm_sad_epu8(acc, zero);
			n += (size_t)_mm_cvtsi128_si32(sad) + (size_t)_mm_cvtsi128_si32(_mm_srli_si128(sad, 8));
			acc = zero;
			k = 0;
		}
	}
#endif
	for (; p < e; p++)
		n += *p == '\n';
	return n;
}

/* Moves the line/column counter to stream offset to (which must be in the buffer). */
static void count_to(struct scanner *s, uint64_t to)
{
	if (to <= s->cnt)
		return;
	const uint8_t *p = s->buf + (s->cnt - s->base), *e = s->buf + (to - s->base);
	const uint8_t *last = memrchr(p, '\n', (size_t)(e - p));
	if (last) {
		s->line += (uint32_t)count_newlines(p, last + 1);
		s->col = 1;
		p = last + 1;
	}
	uint32_t c = 0;
	for (; p < e; p++)
		c += (*p & 0xC0) != 0x80;
	s->col += c;
	s->cnt = to;
}

static void scan_region(struct scanner *s, size_t rs, size_t re, bool eof)
{
	size_t n0 = s->r->n;
	scan_numbers(s, rs, re, eof);
	if (!s->err)
		scan_patterns(s, rs, re);
	size_t n1 = s->r->n;
	if (n1 - n0 > 1)
		qsort(s->r->v + n0, n1 - n0, sizeof(s->r->v[0]), cmp_match);
	for (size_t i = n0; i < n1; i++) {
		sk_dlp_match *m = &s->r->v[i];
		if (m->offset >= s->cnt) {
			count_to(s, m->offset);
			m->line = s->line;
			m->column = s->col;
		} else {
			/* an asset marking whose word lies before the region its digits start in
			 * (a line longer than a streaming region): no line break in between */
			uint32_t back = 0;
			for (const uint8_t *q = s->buf + (m->offset - s->base), *e = s->buf + (s->cnt - s->base);
			     q < e; q++)
				back += (*q & 0xC0) != 0x80;
			m->line = s->line;
			m->column = s->col > back ? s->col - back : 1;
		}
	}
	if (s->own) /* streaming: the bytes before re may be dropped next */
		count_to(s, s->base + re);
}

static void scanner_init(struct scanner *s, const sk_dlp *d, sk_dlp_result *r)
{
	memset(s, 0, sizeof(*s));
	s->d = d;
	s->r = r;
	s->line = 1;
	s->col = 1;
}

static int feed(struct scanner *s, const uint8_t *p, size_t n, bool eof, sk_error *err);

int sk_dlp_scan_text(const sk_dlp *d, const char *text, size_t n, sk_dlp_result *r,
		     sk_error *err)
{
	if (n > d->c.max_input)
		return sk_error_set(err, SK_ELIMIT, "dlp: text over %llu bytes",
				    (unsigned long long)d->c.max_input);
	struct scanner s;
	scanner_init(&s, d, r);
	if (!r->encoding[0])
		snprintf(r->encoding, sizeof(r->encoding), "UTF-8");
	if (d->npat) {
		/* regexec wants a terminated string (REG_STARTEND aside): go through a copy */
		int rc = feed(&s, (const uint8_t *)text, n, true, err);
		free(s.own);
		r->scanned += n;
		return rc;
	}
	s.buf = (const uint8_t *)text;
	s.len = n;
	capture_header(&s, s.buf, n);
	s.hdone = true;
	scan_region(&s, 0, n, true);
	r->scanned += n;
	if (s.err)
		return sk_error_set(err, s.err, "dlp: out of memory");
	return 0;
}

/* Streaming: append bytes, scan whole regions, keep KEEP bytes of look-back. */
static int feed(struct scanner *s, const uint8_t *p, size_t n, bool eof, sk_error *err)
{
	s->total += n;
	if (s->total > s->d->c.max_input)
		return sk_error_set(err, SK_ELIMIT, "dlp: text over %llu bytes",
				    (unsigned long long)s->d->c.max_input);
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : CHUNK + 4 * KEEP;
		while (cap < s->len + n + 1) /* + the terminating NUL */
			cap *= 2;
		uint8_t *nb = realloc(s->own, cap);
		if (!nb)
			return sk_error_set(err, SK_ENOMEM, "dlp buffer");
		s->own = nb;
		s->cap = cap;
	}
	if (n) {
		memcpy(s->own + s->len, p, n);
		if (s->base == 0)
			capture_header(s, s->own + s->len, n);
	}
	s->len += n;
	s->own[s->len] = 0;
	s->buf = s->own;
	while (s->len - s->pos >= CHUNK + KEEP || (eof && s->pos < s->len)) {
		size_t re;
		if (eof && s->len - s->pos < CHUNK + KEEP) {
			re = s->len;
		} else {
			re = s->len - KEEP;
			size_t from = re - s->pos > 65536 ? re - 65536 : s->pos;
			const uint8_t *nl = NULL;
			for (const uint8_t *x = s->own + re; x > s->own + from; x--)
				if (x[-1] == '\n') {
					nl = x;
					break;
				}
			if (nl)
				re = (size_t)(nl - s->own);
		}
		if (eof)
			s->hdone = true;
		scan_region(s, s->pos, re, eof && re == s->len);
		if (s->err)
			return sk_error_set(err, s->err, "dlp: out of memory");
		s->pos = re;
		size_t drop = re > KEEP ? re - KEEP : 0;
		if (drop) {
			memmove(s->own, s->own + drop, s->len - drop + 1);
			s->len -= drop;
			s->pos -= drop;
			s->base += drop;
		}
	}
	return 0;
}

/* ---- reading an input as UTF-8 ---------------------------------------------------------
 * The encoding is detected on the first 64 KiB by sk_charset_detect (sekisho/charset.h) and
 * the text converted on the way with sk_charset_conv (invalid bytes become U+FFFD). */

int sk_dlp_scan_input(const sk_dlp *d, const sk_input *in, sk_dlp_result *r, sk_error *err)
{
	enum { RD = 64 * 1024 };
	uint8_t *rb = malloc(RD);
	if (!rb)
		return sk_error_set(err, SK_ENOMEM, "dlp read buffer");
	size_t got = 0;
	int rc = sk_input_pread(in, 0, rb, RD, &got, err);
	if (rc) {
		free(rb);
		return rc;
	}
	sk_charset_guess g;
	sk_charset_detect(rb, got, got < in->size, &g);
	const char *enc = sk_charset_iconv_name(&g);
	sk_charset_conv *cv = NULL;
	if (strcmp(enc, "UTF-8") != 0 && sk_charset_conv_open(&cv, enc, NULL) != 0) {
		enc = "CP932"; /* a name uchardet gave that iconv does not know */
		if ((rc = sk_charset_conv_open(&cv, enc, err))) {
			free(rb);
			return rc;
		}
	}
	/* the name reported: what the text is (ISO-2022-JP is read with CP50220's extensions) */
	snprintf(r->encoding, sizeof(r->encoding), "%s",
		 g.cs == SK_CHARSET_ISO2022JP ? "ISO-2022-JP" : enc);
	struct scanner s;
	scanner_init(&s, d, r);
	sk_buf cb;
	sk_buf_init(&cb, 0);
	uint64_t off = g.bom;
	for (;;) {
		size_t n = 0;
		rc = sk_input_pread(in, off, rb, RD, &n, err);
		if (rc)
			break;
		off += n;
		bool eof = n == 0;
		if (!cv) {
			rc = feed(&s, rb, n, eof, err);
		} else {
			sk_buf_reset(&cb);
			rc = sk_charset_conv_feed(cv, rb, n, eof, &cb, NULL, err);
			if (!rc)
				rc = feed(&s, sk_buf_data(&cb), sk_buf_len(&cb), eof, err);
		}
		if (rc || eof)
			break;
	}
	r->scanned += s.total;
	free(s.own);
	sk_buf_free(&cb);
	free(rb);
	sk_charset_conv_close(cv);
	return rc;
}

/* ---- findings as report entries, and the detectors carried to a worker ---- */

int sk_dlp_report(const sk_dlp *d, unsigned kinds, const sk_input *in, const char *where,
		  sk_report *report, sk_error *err)
{
	sk_dlp_result r;
	sk_dlp_result_init(&r);
	int rc = sk_dlp_scan_input(d, in, &r, err);
	uint64_t listed[SK_DLP__COUNT] = {0}, more[SK_DLP__COUNT] = {0};
	for (size_t i = 0; i < r.n && !rc; i++) {
		const sk_dlp_match *m = &r.v[i];
		if (!(kinds & (1u << m->kind)))
			continue;
		/* a list of numbers: the first SK_DLP_REPORT_EACH of a kind one by one, the rest
		 * counted (asset markings all: each may decide the class) */
		if (m->kind != SK_DLP_ASSET && listed[m->kind] == SK_DLP_REPORT_EACH) {
			more[m->kind]++;
			continue;
		}
		listed[m->kind]++;
		char w[1024], detail[192];
		snprintf(w, sizeof(w), "%s%sline %u:%u", where ? where : "", where && *where ? " " : "",
			 m->line, m->column);
		snprintf(detail, sizeof(detail), "%s%s%s", m->kind == SK_DLP_PATTERN ? m->rule : "",
			 m->kind == SK_DLP_PATTERN ? " " : "", m->masked);
		rc = sk_report_add(report, SK_ACTION_NOTED, sk_dlp_what(m->kind), w, detail, 1);
	}
	for (int k = 0; k < SK_DLP__COUNT && !rc; k++)
		if (more[k])
			rc = sk_report_add(report, SK_ACTION_NOTED, sk_dlp_what((sk_dlp_kind)k),
					   where ? where : "", "(more)", more[k]);
	if (!rc && r.truncated)
		rc = sk_report_add(report, SK_ACTION_NOTED, "dlp-truncated", where ? where : "", NULL, 1);
	sk_dlp_result_free(&r);
	return rc;
}

const char *sk_dlp_what(sk_dlp_kind k)
{
	switch (k) {
	case SK_DLP_MYNUMBER: return "mynumber";
	case SK_DLP_CORPORATE: return "corporate-number";
	case SK_DLP_ASSET: return "asset-marking";
	default: return "dlp-pattern";
	}
}

#define NDEF_MY (sizeof(default_mynumber_words) / sizeof(default_mynumber_words[0]))
#define NDEF_CORP (sizeof(default_corporate_words) / sizeof(default_corporate_words[0]))
#define NDEF_ASSET (sizeof(default_asset_words) / sizeof(default_asset_words[0]))



#define DLP_STR_MAX 65537 /* a word, a deny entry, a pattern (with its NUL) */

int sk_dlp_encode(const sk_dlp *d, sk_buf *out)
{
	const sk_dlp_config *c = &d->c;
	uint32_t flags = (c->mynumber ? 1u : 0) | (c->corporate ? 2u : 0) |
			 (c->require_context ? 4u : 0) | (c->grouping_is_context ? 8u : 0) |
			 (c->asset ? 16u : 0);
	int rc = sk_codec_put_u32(out, flags);
	rc = rc ? rc : sk_codec_put_u32(out, c->window);
	rc = rc ? rc : sk_codec_put_u32(out, (uint32_t)c->max_input);
	rc = rc ? rc : sk_codec_put_u32(out, (uint32_t)(c->max_input >> 32));
	rc = rc ? rc : sk_codec_put_u32(out, c->max_matches);
	size_t nmy = d->nmyw - NDEF_MY, ncorp = d->ncorpw - NDEF_CORP;
	rc = rc ? rc : sk_codec_put_u32(out, (uint32_t)nmy);
	for (size_t i = 0; i < nmy && !rc; i++)
		rc = sk_codec_put_str(out, d->myw[NDEF_MY + i].s, DLP_STR_MAX);
	rc = rc ? rc : sk_codec_put_u32(out, (uint32_t)ncorp);
	for (size_t i = 0; i < ncorp && !rc; i++)
		rc = sk_codec_put_str(out, d->corpw[NDEF_CORP + i].s, DLP_STR_MAX);
	rc = rc ? rc : sk_codec_put_u32(out, (uint32_t)d->ndeny);
	for (size_t i = 0; i < d->ndeny && !rc; i++)
		rc = sk_codec_put_str(out, d->deny[i], DLP_STR_MAX);
	rc = rc ? rc : sk_codec_put_u32(out, (uint32_t)(2 * d->npat)); /* id, regex, id, regex … */
	for (size_t i = 0; i < d->npat && !rc; i++) {
		rc = sk_codec_put_str(out, d->pat[i].id, DLP_STR_MAX);
		rc = rc ? rc : sk_codec_put_str(out, d->pat[i].src, DLP_STR_MAX);
	}
	size_t nasset = d->nassetw - NDEF_ASSET;
	rc = rc ? rc : sk_codec_put_u32(out, (uint32_t)nasset);
	for (size_t i = 0; i < nasset && !rc; i++)
		rc = sk_codec_put_str(out, d->assetw[NDEF_ASSET + i].s, DLP_STR_MAX);
	return rc;
}

typedef sk_codec_rd dec;


/* a malloc'd copy of a string field (no NUL inside), NULL when bad */
static char *dec_str(dec *r)
{
	const char *t = sk_codec_get_str(r, false, DLP_STR_MAX);
	char *s = t ? strdup(t) : NULL;
	if (!s)
		r->bad = true;
	return s;
}

/* count strings (each at least 4 bytes) into a NULL-padded array of n */
static char **dec_list(dec *r, size_t *n)
{
	uint32_t k = sk_codec_get_u32(r);
	*n = 0;
	if (r->bad || k > (r->n - r->off) / 4) {
		r->bad = true;
		return NULL;
	}
	char **v = calloc((size_t)k + 1, sizeof(*v));
	if (!v) {
		r->bad = true;
		return NULL;
	}
	for (uint32_t i = 0; i < k && !r->bad; i++)
		v[(*n)++] = dec_str(r);
	return v;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

int sk_dlp_decode(const uint8_t *p, size_t n, sk_dlp **out, sk_error *err)
{
	*out = NULL;
	dec r = {.p = p, .n = n};
	sk_dlp_config c;
	sk_dlp_config_default(&c);
	uint32_t flags = sk_codec_get_u32(&r);
	c.mynumber = flags & 1;
	c.corporate = flags & 2;
	c.require_context = flags & 4;
	c.grouping_is_context = flags & 8;
	c.asset = flags & 16;
	c.window = sk_codec_get_u32(&r);
	c.max_input = sk_codec_get_u32(&r);
	c.max_input |= (uint64_t)sk_codec_get_u32(&r) << 32;
	c.max_matches = sk_codec_get_u32(&r);
	size_t nmy = 0, ncorp = 0, ndeny = 0, npat = 0, nasset = 0;
	char **my = dec_list(&r, &nmy);
	char **corp = r.bad ? NULL : dec_list(&r, &ncorp);
	char **deny = r.bad ? NULL : dec_list(&r, &ndeny);
	char **pat = r.bad ? NULL : dec_list(&r, &npat); /* id, regex, id, regex … */
	char **asset = r.bad ? NULL : dec_list(&r, &nasset);
	sk_dlp_pattern *pv = NULL;
	int rc = 0;
	if (r.bad || r.off != r.n || (flags & ~31u) || npat % 2) {
		rc = sk_error_set(err, SK_EFORMAT, "dlp: malformed detectors");
	} else if (npat && !(pv = calloc(npat / 2, sizeof(*pv)))) {
		rc = sk_error_set(err, SK_ENOMEM, "dlp");
	} else {
		for (size_t i = 0; i < npat / 2; i++) {
			pv[i].id = pat[2 * i];
			pv[i].regex = pat[2 * i + 1];
		}
		c.mynumber_words = (const char *const *)my;
		c.nmynumber_words = nmy;
		c.corporate_words = (const char *const *)corp;
		c.ncorporate_words = ncorp;
		c.deny = (const char *const *)deny;
		c.ndeny = ndeny;
		c.patterns = pv;
		c.npatterns = npat / 2;
		c.asset_words = (const char *const *)asset;
		c.nasset_words = nasset;
		rc = sk_dlp_new(&c, out, err);
	}
	free(pv);
	free_list(my, nmy);
	free_list(corp, ncorp);
	free_list(deny, ndeny);
	free_list(pat, npat);
	free_list(asset, nasset);
	return rc;
}
