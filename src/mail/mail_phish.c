/* Mail: phishing tells (src/mail/mail_phish.h; docs/mail.md "Phishing tells"). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <glib.h>
#include <gmime/gmime.h>

#include "mail_phish.h"

/* ---- domains ---------------------------------------------------------------------- */

/* Second-level labels under a two-letter country code that are public suffixes
 * (co.jp, lg.jp, co.uk, com.au …): a small heuristic in place of the public suffix list,
 * enough to tell registrable domains apart (docs/mail.md). */
static const char *const SLD[] = {"ac", "ad", "co", "com", "ed", "edu", "go", "gob", "gov",
				  "govt", "gr", "lg", "ltd", "mil", "ne", "net", "nic", "or",
				  "org", "plc", "sch", NULL};

/* labels of the public suffix of the lower-case ASCII host h[0..n) */
static int suffix_labels(const char *h, size_t n)
{
	const char *d1 = memrchr(h, '.', n);
	if (!d1)
		return 1;
	size_t tl = n - (size_t)(d1 - h) - 1;
	if (tl != 2 || !isalpha((unsigned char)d1[1]) || !isalpha((unsigned char)d1[2]))
		return 1;
	const char *d2 = memrchr(h, '.', (size_t)(d1 - h));
	const char *s = d2 ? d2 + 1 : h;
	size_t sl = (size_t)(d1 - s);
	for (const char *const *p = SLD; *p; p++)
		if (strlen(*p) == sl && !memcmp(*p, s, sl))
			return 2;
	return 1;
}

/* where the registrable domain of host h[0..n) starts (an IPv4 address: 0, whole) */
static size_t reg_start(const char *h, size_t n)
{
	if (n && isdigit((unsigned char)h[n - 1]))
		return 0;
	int k = suffix_labels(h, n) + 1, dots = 0;
	for (size_t i = n; i > 0; i--)
		if (h[i - 1] == '.' && ++dots == k)
			return i;
	return 0;
}

/* h equal to d or one of its sub-domains (ASCII letter case ignored) */
static bool under(const char *h, const char *d)
{
	size_t hl = strlen(h), dl = strlen(d);
	if (!dl || hl < dl || strcasecmp(h + hl - dl, d))
		return false;
	return hl == dl || h[hl - dl - 1] == '.';
}

static bool has_xn(const char *s)
{
	for (const char *p = s; *p; p++)
		if ((p == s || p[-1] == '.') && !strncasecmp(p, "xn--", 4))
			return true;
	return false;
}

/* Confusable characters (after lower-casing) and the Latin letter they pass for; '.'
 * for the dots IDNA maps to a full stop; 0 (below) drops a character IDNA removes. */
static const struct {
	uint32_t c;
	char a;
} CONF[] = {
	/* Cyrillic */
	{0x0430, 'a'}, {0x0435, 'e'}, {0x043A, 'k'}, {0x043E, 'o'}, {0x0440, 'p'}, {0x0441, 'c'},
	{0x0443, 'y'}, {0x0445, 'x'}, {0x0451, 'e'}, {0x0455, 's'}, {0x0456, 'i'}, {0x0457, 'i'},
	{0x0458, 'j'}, {0x04AF, 'y'}, {0x04BB, 'h'}, {0x04CF, 'l'}, {0x0501, 'd'}, {0x051B, 'q'},
	{0x051D, 'w'},
	/* Greek */
	{0x03B1, 'a'}, {0x03B5, 'e'}, {0x03B9, 'i'}, {0x03BA, 'k'}, {0x03BD, 'v'}, {0x03BF, 'o'},
	{0x03C1, 'p'}, {0x03C4, 't'}, {0x03C5, 'u'}, {0x03C7, 'x'}, {0x03F2, 'c'}, {0x03F3, 'j'},
	/* Latin and Armenian look-alikes */
	{0x0131, 'i'}, {0x0251, 'a'}, {0x0261, 'g'}, {0x0269, 'i'}, {0x0570, 'h'}, {0x0578, 'n'},
	{0x0585, 'o'},
	/* dots */
	{0x3002, '.'}, {0xFF61, '.'},
	/* invisible: dropped */
	{0x00AD, 0}, {0x200B, 0}, {0x200C, 0}, {0x200D, 0}, {0x2060, 0}, {0xFEFF, 0},
};

/* the skeleton letter of c: 1 when c has none (kept as it is), 0 to drop it */
static int skel_char(gunichar c)
{
	if (c >= 0xFF01 && c <= 0xFF5E) /* full-width ASCII */
		return (int)g_unichar_tolower(c - 0xFEE0);
	for (size_t i = 0; i < sizeof(CONF) / sizeof(CONF[0]); i++)
		if (CONF[i].c == c)
			return CONF[i].a;
	/* a Latin letter with accents: its base letter */
	gunichar dec[8];
	gsize k = g_unichar_fully_decompose(c, FALSE, dec, 8);
	if (k >= 2 && dec[0] < 0x80 && isalpha((int)dec[0])) {
		for (gsize i = 1; i < k && i < 8; i++)
			if (dec[i] < 0x300 || dec[i] > 0x36F)
				return 1;
		return (int)g_ascii_tolower((gchar)dec[0]);
	}
	return 1;
}

/* s[0..n) (valid UTF-8) mapped to its skeleton, appended at out[*k] */
static bool skel_map(const char *s, size_t n, char *out, size_t osz, size_t *k)
{
	for (const char *p = s; p < s + n; p = g_utf8_next_char(p)) {
		gunichar c = g_unichar_tolower(g_utf8_get_char(p));
		int m = c < 0x80 ? (int)c : skel_char(c);
		char buf[8];
		int bl = 0;
		if (m == 1)
			bl = g_unichar_to_utf8(c, buf);
		else if (m)
			buf[bl++] = (char)m;
		if (*k + (size_t)bl + 1 > osz)
			return false;
		memcpy(out + *k, buf, (size_t)bl);
		*k += (size_t)bl;
	}
	return true;
}

bool sk_mail_domain_skeleton(const char *d, size_t n, char *out, size_t osz)
{
	if (!osz)
		return false;
	out[0] = 0;
	if (!d || n > SK_MAIL_DOMAIN_MAX || !g_utf8_validate(d, (gssize)n, NULL))
		return false;
	/* the characters mapped (full-width dots become dots), then each punycode label
	 * decoded and mapped */
	char s1[SK_MAIL_DOMAIN_MAX * 2 + 8];
	size_t k1 = 0, k = 0;
	if (!skel_map(d, n, s1, sizeof(s1), &k1))
		return false;
	s1[k1] = 0;
	for (char *l = s1; l;) {
		char *dot = strchr(l, '.');
		if (dot)
			*dot = 0;
		char *u = !strncmp(l, "xn--", 4) ? g_hostname_to_unicode(l) : NULL;
		bool ok = u && g_utf8_validate(u, -1, NULL) ? skel_map(u, strlen(u), out, osz, &k)
							   : skel_map(l, strlen(l), out, osz, &k);
		g_free(u);
		if (!ok || (dot && k + 2 > osz)) {
			out[0] = 0;
			return false;
		}
		if (dot)
			out[k++] = '.';
		l = dot ? dot + 1 : NULL;
	}
	out[k] = 0;
	return true;
}

/* true when a and b (bytes) are one edit apart: one inserted, deleted or replaced, or two
 * neighbours swapped (Damerau-Levenshtein distance 1) */
static bool one_edit(const char *a, size_t al, const char *b, size_t bl)
{
	if (al > bl + 1 || bl > al + 1)
		return false;
	size_t i = 0;
	while (i < al && i < bl && a[i] == b[i])
		i++;
	if (al == bl) {
		if (i == al)
			return false; /* equal */
		if (!memcmp(a + i + 1, b + i + 1, al - i - 1))
			return true;
		return i + 1 < al && a[i] == b[i + 1] && a[i + 1] == b[i] &&
		       !memcmp(a + i + 2, b + i + 2, al - i - 2);
	}
	if (al == bl + 1)
		return !memcmp(a + i + 1, b + i, bl - i);
	return !memcmp(a + i, b + i + 1, al - i);
}

/* the last k labels of s (all of it when it has fewer) */
static const char *last_labels(const char *s, int k)
{
	int dots = 0;
	for (size_t i = strlen(s); i > 0; i--)
		if (s[i - 1] == '.' && ++dots == k)
			return s + i;
	return s;
}

static int count_labels(const char *s)
{
	int k = 1;
	for (; *s; s++)
		k += *s == '.';
	return k;
}

/* s without dots, hyphens and underscores, with the ASCII look-alikes 1/i → l and 0 → o
 * (city-example-1g-jp → cltyexamplelgjp) */
static void squash(const char *s, size_t n, char *out, size_t osz)
{
	size_t k = 0;
	for (size_t i = 0; i < n && s[i] && k + 1 < osz; i++) {
		char c = (char)tolower((unsigned char)s[i]);
		if (c == '.' || c == '-' || c == '_')
			continue;
		out[k++] = c == '1' || c == 'i' ? 'l' : c == '0' ? 'o' : c;
	}
	out[k] = 0;
}

/* the internal domain d's name written with its suffix imitated in sk (the skeleton of a
 * domain not under that suffix): city.example.lg-jp.com, city-example.lg.jp.evil.com,
 * city.example.1g.jp for city.example.lg.jp */
static bool suffix_imitated(const char *sk, const char *d)
{
	size_t dl = strlen(d);
	int sl = suffix_labels(d, dl);
	const char *suf = last_labels(d, sl);
	if (suf == d)
		return false; /* d is a suffix itself */
	size_t stem = (size_t)(suf - d) - 1;
	/* a domain really under the suffix (city-example.lg.jp) cannot be registered by just
	 * anyone for lg.jp, go.jp …; for others it is a name of its own, for the edit rule */
	if (count_labels(sk) > sl && !strcasecmp(last_labels(sk, sl), suf))
		return false;
	char hay[SK_MAIL_DOMAIN_MAX * 2 + 8], needle[SK_MAIL_DOMAIN_MAX + 8], s2[32];
	squash(sk, strlen(sk), hay, sizeof(hay));
	squash(suf, strlen(suf), s2, sizeof(s2));
	for (int pass = 0; pass < 2; pass++) {
		const char *st = d;
		size_t stl = stem;
		if (pass == 1) {
			/* lg.jp: the name without its kind (city., pref., town. …) */
			const char *dot = memchr(d, '.', stem);
			if (strcasecmp(suf, "lg.jp") || !dot)
				break;
			st = dot + 1;
			stl = stem - (size_t)(st - d);
		}
		squash(st, stl, needle, sizeof(needle) - sizeof(s2));
		if (strlen(needle) < 3)
			continue;
		strcat(needle, s2);
		if (strstr(hay, needle))
			return true;
	}
	return false;
}

/* d in lower case into low (SK_MAIL_DOMAIN_MAX + 1 bytes): its length, 0 when empty or
 * longer */
static size_t lower(const char *d, char *low)
{
	size_t dl = strlen(d);
	if (dl > SK_MAIL_DOMAIN_MAX)
		return 0;
	for (size_t i = 0; i <= dl; i++)
		low[i] = (char)tolower((unsigned char)d[i]);
	return dl;
}

sk_mail_lookalike sk_mail_domain_lookalike(const char *d, size_t n, const char *const *internal,
					   const char **real)
{
	if (real)
		*real = NULL;
	if (!internal || !internal[0] || !d || !n || n > SK_MAIL_DOMAIN_MAX || memchr(d, 0, n))
		return SK_MAIL_LOOK_NONE;
	char raw[SK_MAIL_DOMAIN_MAX + 1];
	bool ascii = true;
	for (size_t i = 0; i < n; i++) {
		raw[i] = (char)tolower((unsigned char)d[i]);
		ascii &= (unsigned char)d[i] < 0x80;
	}
	while (n && raw[n - 1] == '.')
		n--;
	raw[n] = 0;
	if (!n)
		return SK_MAIL_LOOK_NONE;
	if (ascii)
		for (const char *const *p = internal; *p; p++)
			if (under(raw, *p))
				return SK_MAIL_LOOK_NONE; /* the domain itself, or one of its own */
	char sk[SK_MAIL_DOMAIN_MAX * 2 + 8];
	if (!sk_mail_domain_skeleton(raw, n, sk, sizeof(sk)))
		return SK_MAIL_LOOK_NONE;
	sk_mail_lookalike kind = SK_MAIL_LOOK_NONE;
	const char *hit = NULL;
	if (strcmp(sk, raw))
		for (const char *const *p = internal; *p && !hit; p++)
			if (under(sk, *p)) {
				kind = SK_MAIL_LOOK_HOMOGRAPH;
				hit = *p;
			}
	char low[SK_MAIL_DOMAIN_MAX + 1]; /* an internal domain in lower case */
	for (const char *const *p = internal; *p && !hit; p++) {
		size_t dl = lower(*p, low);
		if (!dl)
			continue;
		/* the internal name in front of its suffix: at least 4 characters (a.jp and
		 * b.jp are not look-alikes) */
		size_t rs = reg_start(low, dl);
		const char *suf = last_labels(low, suffix_labels(low, dl));
		if ((size_t)(suf - low) < rs + 5)
			continue;
		int kd = count_labels(low);
		for (int k = kd - 1; k <= kd + 1 && !hit; k++) {
			const char *t = last_labels(sk, k);
			if (one_edit(t, strlen(t), low, dl)) {
				kind = SK_MAIL_LOOK_EDIT;
				hit = *p;
			}
		}
	}
	for (const char *const *p = internal; *p && !hit; p++) {
		if (lower(*p, low) && suffix_imitated(sk, low)) {
			kind = SK_MAIL_LOOK_SUFFIX;
			hit = *p;
		}
	}
	if (real)
		*real = hit;
	return kind;
}

/* ---- links ------------------------------------------------------------------------ */

static const char *const WEB[] = {"http://", "https://", "ftp://", NULL};

/* file names that look like domains (report.pdf) are no domain */
static const char *const NOT_TLD[] = {"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx",
				      "txt", "csv", "htm", "html", "jpg", "jpeg", "png", "gif",
				      "exe", "php", "asp", "aspx", "jsp", "cgi", "js", NULL};

/* h[0..n) a domain: two labels or more of letters, digits, hyphens or non-ASCII, the
 * last one of letters (or punycode, or non-ASCII) */
static bool domain_like(const char *h, size_t n)
{
	if (!n || h[0] == '.' || h[n - 1] == '.')
		return false;
	size_t last = 0;
	int labels = 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];
		if (c == '.') {
			if (h[i + 1] == '.')
				return false;
			labels++;
			last = i + 1;
		} else if (!isalnum(c) && c != '-' && c != '_' && c < 0x80) {
			return false;
		}
	}
	if (labels < 2)
		return false;
	const char *t = h + last;
	size_t tl = n - last;
	if (tl >= 4 && !strncasecmp(t, "xn--", 4))
		return true;
	bool alpha = tl >= 2, high = false;
	for (size_t i = 0; i < tl; i++) {
		high |= (unsigned char)t[i] >= 0x80;
		alpha &= isalpha((unsigned char)t[i]) || (unsigned char)t[i] >= 0x80;
	}
	if (!alpha)
		return false;
	if (!high)
		for (const char *const *p = NOT_TLD; *p; p++)
			if (strlen(*p) == tl && !strncasecmp(*p, t, tl))
				return false;
	return true;
}

/* The host of the URL, address or domain s[0..n) (scheme, user, port and path left out)
 * lower-cased and in ASCII (IDNA; the raw bytes lower-cased when that fails) into out.
 * `text`: s is a link's visible text, which must be nothing but a URL, an address or a
 * domain (else false). */
static bool host_of(const char *s, size_t n, bool text, char *out, size_t osz)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (text && n >= 2 && s[0] == '<' && s[n - 1] == '>')
		s++, n -= 2;
	bool scheme = false, mail = false;
	for (const char *const *p = WEB; *p && !scheme; p++) {
		size_t pl = strlen(*p);
		if (n >= pl && !strncasecmp(s, *p, pl)) {
			s += pl, n -= pl;
			scheme = true;
		}
	}
	if (!scheme && n >= 7 && !strncasecmp(s, "mailto:", 7)) {
		s += 7, n -= 7;
		mail = true;
	}
	if (text)
		for (size_t i = 0; i < n; i++)
			if (isspace((unsigned char)s[i]))
				return false;
	size_t e = 0;
	while (e < n && !strchr(mail ? "?,;" : "/?#\\", s[e]))
		e++;
	const char *at = memrchr(s, '@', e);
	if (at) {
		mail = true;
		e -= (size_t)(at + 1 - s);
		s = at + 1;
	}
	if (!mail) { /* a port */
		size_t c = e;
		while (c && isdigit((unsigned char)s[c - 1]))
			c--;
		if (c && c < e && s[c - 1] == ':')
			e = c - 1;
	}
	while (e && s[e - 1] == '.')
		e--;
	if (!e || e >= osz || e > SK_MAIL_DOMAIN_MAX || memchr(s, 0, e))
		return false;
	if (text && !scheme && !domain_like(s, e))
		return false;
	char tmp[SK_MAIL_DOMAIN_MAX + 1];
	memcpy(tmp, s, e);
	tmp[e] = 0;
	bool ascii = true;
	for (size_t i = 0; i < e; i++)
		ascii &= (unsigned char)tmp[i] < 0x80;
	char *a = !ascii && g_utf8_validate(tmp, -1, NULL) ? g_hostname_to_ascii(tmp) : NULL;
	snprintf(out, osz, "%s", a ? a : tmp);
	g_free(a);
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	size_t ol = strlen(out);
	while (ol && out[ol - 1] == '.')
		out[--ol] = 0;
	return ol > 0;
}

bool sk_mail_link_mismatch(const char *t, size_t tl, const char *href)
{
	char th[SK_MAIL_DOMAIN_MAX + 1], hh[SK_MAIL_DOMAIN_MAX + 1];
	if (!t || !href || !host_of(t, tl, true, th, sizeof(th)))
		return false; /* the text is no URL or domain */
	if (!host_of(href, strlen(href), false, hh, sizeof(hh)))
		return true; /* a domain shown, a target without a readable host */
	size_t a = reg_start(th, strlen(th)), b = reg_start(hh, strlen(hh));
	return strcmp(th + a, hh + b) != 0;
}

const char *sk_mail_link_warning(bool en)
{
	return en ? " [WARNING: the link goes elsewhere than its text shows]"
		  : " 【注意: 表示と異なるリンク先】";
}

#define MARKS_MAX 1024    /* warnings written into one text (more are counted) */
#define MARK_URL_MAX 2048 /* bytes of a "<target>" looked at */

int sk_mail_phish_mark(sk_mail_phish *ph, bool en, sk_buf *text)
{
	const char *s = sk_buf_str(text);
	size_t n = sk_buf_len(text);
	const char *warn = sk_mail_link_warning(en);
	size_t wl = strlen(warn), from = 0, marks = 0;
	sk_buf out;
	sk_buf_init(&out, SK_BUF_MAX_DEFAULT);
	int rc = 0;
	char url[MARK_URL_MAX + 1];
	for (size_t j = 1; j < n && !rc; j++) {
		if (s[j] != '<')
			continue;
		bool web = false;
		for (const char *const *p = WEB; *p && !web; p++)
			web = !strncasecmp(s + j + 1, *p, strlen(*p));
		if (!web && strncasecmp(s + j + 1, "mailto:", 7))
			continue;
		/* the target up to '>' on the line */
		size_t e = j + 1;
		while (e < n && e - j <= MARK_URL_MAX && s[e] != '>' && s[e] != '\n' && s[e] != '<')
			e++;
		if (e >= n || s[e] != '>' || e - j - 1 > MARK_URL_MAX)
			continue;
		/* the word in front of it (spaces between) */
		size_t t1 = j;
		while (t1 > 0 && (s[t1 - 1] == ' ' || s[t1 - 1] == '\t'))
			t1--;
		size_t t0 = t1;
		while (t0 > 0 && !isspace((unsigned char)s[t0 - 1]))
			t0--;
		if (t0 == t1 || (n - e - 1 >= wl && !memcmp(s + e + 1, warn, wl)))
			continue; /* no word, or marked already (the HTML walk) */
		memcpy(url, s + j + 1, e - j - 1);
		url[e - j - 1] = 0;
		if (!sk_mail_link_mismatch(s + t0, t1 - t0, url))
			continue;
		ph->mismatch++;
		if (marks++ >= MARKS_MAX)
			continue;
		rc = sk_buf_add(&out, s + from, e + 1 - from);
		if (!rc)
			rc = sk_buf_add(&out, warn, wl);
		from = e + 1;
	}
	if (!rc && from) { /* something marked: the text replaced */
		rc = sk_buf_add(&out, s + from, n - from);
		if (!rc) {
			sk_buf_reset(text);
			rc = sk_buf_add(text, sk_buf_data(&out), sk_buf_len(&out));
		}
	}
	sk_buf_free(&out);
	return rc;
}

/* ---- Authentication-Results ---------------------------------------------------------- */

typedef struct arp {
	const char *p, *e;
	bool bad;
} arp;

/* whitespace (folds included) and comments, nested at most SK_MAIL_AR_COMMENT_DEPTH */
static void ar_cfws(arp *a)
{
	for (;;) {
		while (a->p < a->e && strchr(" \t\r\n", *a->p) && *a->p)
			a->p++;
		if (a->p >= a->e || *a->p != '(')
			return;
		int depth = 0;
		while (a->p < a->e) {
			char c = *a->p++;
			if (c == '\\') {
				if (a->p < a->e)
					a->p++;
			} else if (c == '(') {
				if (++depth > SK_MAIL_AR_COMMENT_DEPTH) {
					a->bad = true;
					return;
				}
			} else if (c == ')' && --depth == 0) {
				break;
			}
		}
		if (depth) {
			a->bad = true; /* unterminated */
			return;
		}
	}
}

static void ar_put(char *out, size_t osz, size_t *k, char c)
{
	if (*k + 1 < osz)
		out[(*k)++] = (char)tolower((unsigned char)c);
	else if (osz)
		*k = osz; /* too long: marked, emptied below */
}

static size_t ar_done(char *out, size_t osz, size_t k)
{
	if (!osz)
		return k;
	if (k >= osz)
		k = 0; /* longer than any name we know */
	out[k] = 0;
	return k;
}

/* a token (RFC 2045; bytes of UTF-8 too) or a quoted string, lower-cased into out; its
 * length (0: none, or longer than out) */
static size_t ar_value(arp *a, char *out, size_t osz)
{
	size_t k = 0, len = 0;
	if (a->p < a->e && *a->p == '"') {
		a->p++;
		while (a->p < a->e && *a->p != '"') {
			if (*a->p == '\\' && a->p + 1 < a->e)
				a->p++;
			ar_put(out, osz, &k, *a->p++);
			len++;
		}
		if (a->p >= a->e) {
			a->bad = true;
			return ar_done(out, osz, 0);
		}
		a->p++;
		return len ? ar_done(out, osz, k) : ar_done(out, osz, 0);
	}
	while (a->p < a->e) {
		unsigned char c = (unsigned char)*a->p;
		if (c <= 0x20 || c == 0x7f || strchr("()<>@,;:\\\"/[]?=", c))
			break;
		ar_put(out, osz, &k, *a->p++);
		len++;
	}
	return len ? ar_done(out, osz, k) : ar_done(out, osz, 0);
}

/* a keyword (method, result): letters, digits, '-', '_', '.' */
static size_t ar_keyword(arp *a, char *out, size_t osz)
{
	size_t k = 0, len = 0;
	while (a->p < a->e && (isalnum((unsigned char)*a->p) || strchr("-_.", *a->p)) && *a->p) {
		ar_put(out, osz, &k, *a->p++);
		len++;
	}
	return len ? ar_done(out, osz, k) : (ar_done(out, osz, 0), 0);
}

/* the rest of a result (reason, properties) up to the next ';' */
static void ar_skip(arp *a)
{
	while (a->p < a->e && !a->bad && *a->p != ';') {
		if (*a->p == '(')
			ar_cfws(a);
		else if (*a->p == '"')
			ar_value(a, NULL, 0);
		else
			a->p++;
	}
}

static const struct {
	const char *name;
	sk_mail_auth_result r;
} AR_RESULTS[] = {
	{"pass", SK_MAIL_AR_PASS},           {"fail", SK_MAIL_AR_FAIL},
	{"hardfail", SK_MAIL_AR_FAIL},       {"softfail", SK_MAIL_AR_SOFTFAIL},
	{"neutral", SK_MAIL_AR_NEUTRAL},     {"none", SK_MAIL_AR_NONE},
	{"temperror", SK_MAIL_AR_TEMPERROR}, {"permerror", SK_MAIL_AR_PERMERROR},
	{"policy", SK_MAIL_AR_POLICY},
};
static const char *const AR_METHODS[SK_MAIL_AUTH__COUNT] = {"spf", "dkim", "dmarc"};

int sk_mail_authres_parse(const char *v, size_t n, sk_mail_authres *r)
{
	memset(r, 0, sizeof(*r));
	if (!v || n > SK_MAIL_AR_VALUE_MAX || memchr(v, 0, n))
		return SK_EFORMAT;
	arp a = {v, v + n, false};
	ar_cfws(&a);
	if (!ar_value(&a, r->id, sizeof(r->id)) || a.bad)
		return SK_EFORMAT;
	ar_cfws(&a);
	if (a.p < a.e && isdigit((unsigned char)*a.p)) { /* authres-version */
		while (a.p < a.e && isdigit((unsigned char)*a.p))
			a.p++;
		ar_cfws(&a);
	}
	uint32_t seen = 0;
	while (!a.bad && a.p < a.e) {
		if (*a.p != ';')
			return SK_EFORMAT;
		a.p++;
		ar_cfws(&a);
		if (a.bad)
			break;
		if (a.p >= a.e)
			break; /* a ';' at the end */
		char method[16], result[16];
		if (!ar_keyword(&a, method, sizeof(method)) && a.p < a.e && *a.p != ';')
			return SK_EFORMAT;
		ar_cfws(&a);
		if (a.p < a.e && *a.p == '/') { /* method-version */
			a.p++;
			ar_cfws(&a);
			if (a.p >= a.e || !isdigit((unsigned char)*a.p))
				return SK_EFORMAT;
			while (a.p < a.e && isdigit((unsigned char)*a.p))
				a.p++;
			ar_cfws(&a);
		}
		if (a.p >= a.e || *a.p != '=') {
			if (strcmp(method, "none")) /* "; none": no result */
				return SK_EFORMAT;
			continue;
		}
		a.p++;
		ar_cfws(&a);
		if (!ar_keyword(&a, result, sizeof(result)) || a.bad)
			return SK_EFORMAT;
		if (++seen > SK_MAIL_AR_RESULTS_MAX)
			return SK_EFORMAT;
		for (int m = 0; m < SK_MAIL_AUTH__COUNT; m++) {
			if (strcmp(method, AR_METHODS[m]))
				continue;
			for (size_t j = 0; j < sizeof(AR_RESULTS) / sizeof(AR_RESULTS[0]); j++)
				if (!strcmp(result, AR_RESULTS[j].name)) {
					r->r[r->n].method = (sk_mail_auth_method)m;
					r->r[r->n].result = AR_RESULTS[j].r;
					r->n++;
				}
		}
		ar_skip(&a);
	}
	return a.bad ? SK_EFORMAT : 0;
}

/* ---- a message ------------------------------------------------------------------------ */

static void note_look(sk_mail_phish *ph, const char *d, size_t n, sk_mail_lookalike k,
		      const char *real, unsigned where)
{
	ph->looks++;
	for (uint32_t i = 0; i < ph->nlook; i++)
		if (strlen(ph->look[i].domain) == n && !strncasecmp(ph->look[i].domain, d, n)) {
			ph->look[i].where |= where;
			return;
		}
	if (ph->nlook == SK_MAIL_LOOK_SHOWN || n >= sizeof(ph->look[0].domain))
		return;
	sk_mail_look *l = &ph->look[ph->nlook++];
	memcpy(l->domain, d, n);
	l->domain[n] = 0;
	l->real = real;
	l->kind = k;
	l->where = where;
}

static void check_domain(sk_mail_phish *ph, const sk_mail_options *o, const char *d, size_t n,
			 unsigned where)
{
	const char *real = NULL;
	sk_mail_lookalike k = sk_mail_domain_lookalike(d, n, o->internal_domains, &real);
	if (k != SK_MAIL_LOOK_NONE)
		note_look(ph, d, n, k, real, where);
}

#define ADDRS_MAX 16 /* addresses of From or Reply-To looked at */

static void check_addrs(sk_mail_phish *ph, const sk_mail_options *o, InternetAddressList *l,
			unsigned where)
{
	int k = l ? internet_address_list_length(l) : 0;
	for (int i = 0; i < k && i < ADDRS_MAX; i++) {
		InternetAddress *a = internet_address_list_get_address(l, i);
		if (!INTERNET_ADDRESS_IS_MAILBOX(a))
			continue;
		const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
		const char *at = addr ? strrchr(addr, '@') : NULL;
		if (at)
			check_domain(ph, o, at + 1, strlen(at + 1), where);
	}
}

#define LINK_HOSTS_MAX 1024 /* distinct link hosts checked in one message */

/* a character of a host in running text: ASCII letters, digits, '-', '.', '_', and
 * letters of other scripts but Japanese ones (a URL followed by Japanese text) */
static size_t host_char(const char *s, size_t n)
{
	unsigned char c = (unsigned char)*s;
	if (c < 0x80)
		return isalnum(c) || c == '-' || c == '.' || c == '_' ? 1 : 0;
	const char *e = s;
	gunichar u = g_utf8_get_char_validated(s, (gssize)(n > 6 ? 6 : n));
	if (u == (gunichar)-1 || u == (gunichar)-2 || !g_unichar_isalnum(u))
		return 0;
	GUnicodeScript sc = g_unichar_get_script(u);
	if (sc == G_UNICODE_SCRIPT_HAN || sc == G_UNICODE_SCRIPT_HIRAGANA ||
	    sc == G_UNICODE_SCRIPT_KATAKANA || (u >= 0xFF01 && u <= 0xFF5E))
		return 0;
	e = g_utf8_next_char(s);
	return (size_t)(e - s);
}

/* The hosts of the URLs in the text (http, https, ftp, www.; user and port left out),
 * each distinct one checked once. */
static void check_links(sk_mail_phish *ph, const sk_mail_options *o, const char *s, size_t n)
{
	uint64_t seen[2 * LINK_HOSTS_MAX];
	memset(seen, 0, sizeof(seen));
	unsigned hosts = 0;
	for (size_t i = 0; i < n && hosts < LINK_HOSTS_MAX; i++) {
		if (i && isalnum((unsigned char)s[i - 1]))
			continue;
		size_t h = SIZE_MAX;
		for (const char *const *p = WEB; *p && h == SIZE_MAX; p++)
			if (n - i > strlen(*p) && !strncasecmp(s + i, *p, strlen(*p)))
				h = i + strlen(*p);
		if (h == SIZE_MAX && n - i > 4 && !strncasecmp(s + i, "www.", 4))
			h = i;
		if (h == SIZE_MAX)
			continue;
		/* the authority: user@host:port */
		size_t e = h, hs = h, k;
		while (e < n && (k = host_char(s + e, n - e)) > 0)
			e += k;
		if (e < n && s[e] == '@') { /* a user in front of the host */
			hs = ++e;
			while (e < n && (k = host_char(s + e, n - e)) > 0)
				e += k;
		}
		i = e - 1;
		while (e > hs && s[e - 1] == '.')
			e--;
		if (e == hs || e - hs > SK_MAIL_DOMAIN_MAX)
			continue;
		uint64_t hv = 1469598103934665603ULL; /* FNV-1a of the lower-case host */
		for (size_t j = hs; j < e; j++)
			hv = (hv ^ (uint8_t)tolower((unsigned char)s[j])) * 1099511628211ULL;
		hv |= 1;
		size_t slot = hv % (2 * LINK_HOSTS_MAX);
		while (seen[slot] && seen[slot] != hv)
			slot = (slot + 1) % (2 * LINK_HOSTS_MAX);
		if (seen[slot])
			continue;
		seen[slot] = hv;
		hosts++;
		check_domain(ph, o, s + hs, e - hs, 4);
	}
}

/* Authentication-Results: the first (topmost: added last, by the receiving MTA) names
 * the authserv-id taken; headers of other ids (added before, by anyone) are left out. */
static void check_auth(sk_mail_phish *ph, GMimeMessage *m)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(m));
	int hc = hl ? g_mime_header_list_get_count(hl) : 0;
	char id[sizeof(((sk_mail_authres *)0)->id)] = "";
	bool pass[SK_MAIL_AUTH__COUNT] = {false};
	sk_mail_auth_result worst[SK_MAIL_AUTH__COUNT] = {SK_MAIL_AR_ABSENT};
	int taken = 0;
	for (int i = 0; i < hc && taken < SK_MAIL_AR_HEADERS_MAX; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);
		if (!name || strcasecmp(name, "Authentication-Results"))
			continue;
		const char *v = g_mime_header_get_raw_value(h);
		sk_mail_authres ar;
		if (!v || sk_mail_authres_parse(v, strlen(v), &ar) != 0)
			continue;
		if (!id[0])
			memcpy(id, ar.id, sizeof(id));
		else if (strcmp(id, ar.id))
			continue;
		taken++;
		ph->auth_seen = true;
		for (uint32_t j = 0; j < ar.n; j++) {
			sk_mail_auth_method me = ar.r[j].method;
			if (ar.r[j].result == SK_MAIL_AR_PASS)
				pass[me] = true;
			else if (ar.r[j].result > worst[me])
				worst[me] = ar.r[j].result;
		}
	}
	/* a method that passed once (one good DKIM signature among broken ones) is no failure;
	 * none, neutral and policy are no verdict */
	for (int me = 0; me < SK_MAIL_AUTH__COUNT; me++)
		ph->auth[me] = !pass[me] && worst[me] >= SK_MAIL_AR_TEMPERROR ? worst[me]
									    : SK_MAIL_AR_ABSENT;
}

static const char *result_code(sk_mail_auth_result r)
{
	for (size_t j = 0; j < sizeof(AR_RESULTS) / sizeof(AR_RESULTS[0]); j++)
		if (AR_RESULTS[j].r == r)
			return AR_RESULTS[j].name;
	return "?";
}

static const char *kind_code(sk_mail_lookalike k)
{
	return k == SK_MAIL_LOOK_HOMOGRAPH ? "homograph" : k == SK_MAIL_LOOK_EDIT ? "edit" : "suffix";
}

int sk_mail_phish_check(sk_mail_phish *ph, const sk_mail_options *o, bool en, void *msg,
			sk_buf *body, const char *where, sk_report *report)
{
	GMimeMessage *m = msg;
	int rc = sk_mail_phish_mark(ph, en, body);
	if (rc)
		return rc;
	if (o->internal_domains && o->internal_domains[0]) {
		check_addrs(ph, o, g_mime_message_get_from(m), 1);
		check_addrs(ph, o, g_mime_message_get_reply_to(m), 2);
		check_links(ph, o, sk_buf_str(body), sk_buf_len(body));
	}
	check_auth(ph, m);
	if (ph->mismatch)
		rc = sk_report_add(report, SK_ACTION_NOTED, "link-mismatch", where, NULL, ph->mismatch);
	uint32_t named = 0;
	for (uint32_t i = 0; i < ph->nlook && !rc; i++) {
		const sk_mail_look *l = &ph->look[i];
		/* the record names an IDN by its punycode (never mistaken for the real one) */
		char detail[400];
		char *ace = NULL;
		for (const char *p = l->domain; *p && !ace; p++)
			if ((unsigned char)*p >= 0x80 && g_utf8_validate(l->domain, -1, NULL))
				ace = g_hostname_to_ascii(l->domain);
		snprintf(detail, sizeof(detail), "%s ~ %s %s%s%s%s", ace ? ace : l->domain, l->real,
			 kind_code(l->kind), l->where & 1 ? " from" : "", l->where & 2 ? " reply-to" : "",
			 l->where & 4 ? " link" : "");
		g_free(ace);
		for (char *p = detail; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		rc = sk_report_add(report, SK_ACTION_NOTED, "lookalike-domain", where, detail, 1);
		named++;
	}
	if (!rc && ph->looks > named)
		rc = sk_report_add(report, SK_ACTION_NOTED, "lookalike-domain", where, NULL,
				   ph->looks - named);
	char detail[96] = "";
	for (int me = 0; me < SK_MAIL_AUTH__COUNT; me++)
		if (ph->auth[me] != SK_MAIL_AR_ABSENT)
			snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), "%s%s=%s",
				 detail[0] ? " " : "", AR_METHODS[me], result_code(ph->auth[me]));
	if (!rc && detail[0])
		rc = sk_report_add(report, SK_ACTION_NOTED, "auth-fail", where, detail, 1);
	return rc;
}

/* ---- the notice ----------------------------------------------------------------------- */

/* a domain as the notice shows it: dots as "[.]" (never a link), control, format and
 * bidirectional characters as '?' */
static int show_domain(sk_buf *out, const char *d)
{
	int rc = 0;
	bool utf8 = g_utf8_validate(d, -1, NULL);
	for (const char *p = d; *p && !rc; p = utf8 ? g_utf8_next_char(p) : p + 1) {
		gunichar c = utf8 ? g_utf8_get_char(p) : (unsigned char)*p;
		GUnicodeType t = g_unichar_type(c);
		if (c == '.')
			rc = sk_buf_adds(out, "[.]");
		else if (c < 0x20 || c == 0x7f || (!utf8 && c >= 0x80) || t == G_UNICODE_CONTROL ||
			 t == G_UNICODE_FORMAT || t == G_UNICODE_UNASSIGNED ||
			 t == G_UNICODE_LINE_SEPARATOR || t == G_UNICODE_PARAGRAPH_SEPARATOR)
			rc = sk_buf_addc(out, '?');
		else
			rc = sk_buf_add(out, p, utf8 ? (size_t)(g_utf8_next_char(p) - p) : 1);
	}
	return rc;
}

#define ADD(x)                   \
	do {                     \
		if (!rc)         \
			rc = (x); \
	} while (0)

int sk_mail_phish_notice(const sk_mail_phish *ph, bool en, sk_buf *n)
{
	int rc = 0;
	if (ph->mismatch)
		ADD(sk_buf_printf(n, en ? "[WARNING] %u link(s) go elsewhere than their text shows "
					  "(marked in the text).\n"
					: "[注意] 表示と異なるリンク先が %u 件あります (本文に【注意】と表示)。\n",
				  ph->mismatch));
	for (uint32_t i = 0; i < ph->nlook; i++) {
		const sk_mail_look *l = &ph->look[i];
		ADD(sk_buf_adds(n, en ? "[WARNING] Look-alike of your own domain: "
				      : "[注意] 自組織のドメインに似せたドメイン: "));
		const char *sep = "";
		if (l->where & 1) {
			ADD(sk_buf_printf(n, "%s%s", sep, en ? "From" : "差出人"));
			sep = en ? ", " : "・";
		}
		if (l->where & 2) {
			ADD(sk_buf_printf(n, "%s%s", sep, en ? "Reply-To" : "返信先"));
			sep = en ? ", " : "・";
		}
		if (l->where & 4)
			ADD(sk_buf_printf(n, "%s%s", sep, en ? "link" : "リンク"));
		ADD(sk_buf_adds(n, " "));
		ADD(show_domain(n, l->domain));
		/* the other form of an IDN (punycode, or the Unicode it stands for) */
		char *other = NULL;
		bool ascii = true;
		for (const char *p = l->domain; *p; p++)
			ascii &= (unsigned char)*p < 0x80;
		if (ascii && has_xn(l->domain))
			other = g_hostname_to_unicode(l->domain);
		else if (!ascii && g_utf8_validate(l->domain, -1, NULL))
			other = g_hostname_to_ascii(l->domain);
		if (other && strcasecmp(other, l->domain)) {
			ADD(sk_buf_adds(n, " ("));
			ADD(show_domain(n, other));
			ADD(sk_buf_adds(n, ")"));
		}
		g_free(other);
		const char *why = l->kind == SK_MAIL_LOOK_HOMOGRAPH
					  ? (en ? "confusable characters" : "紛らわしい文字")
				  : l->kind == SK_MAIL_LOOK_EDIT
					  ? (en ? "one character different" : "1 文字違い")
					  : (en ? "imitated suffix such as lg.jp" : "lg.jp などの偽装");
		ADD(sk_buf_printf(n, en ? " is not %s (%s).\n" : " は %s ではありません (%s)。\n",
				  l->real, why));
	}
	if (ph->looks > ph->nlook)
		ADD(sk_buf_printf(n, en ? "[WARNING] %u more look-alike domain(s).\n"
					: "[注意] ほかにも似せたドメインが %u 件あります。\n",
				  ph->looks - ph->nlook));
	static const char *const NAME[] = {"SPF", "DKIM", "DMARC"};
	bool auth = false;
	for (int me = 0; me < SK_MAIL_AUTH__COUNT; me++) {
		sk_mail_auth_result r = ph->auth[me];
		if (r == SK_MAIL_AR_ABSENT)
			continue;
		const char *what = r == SK_MAIL_AR_FAIL        ? (en ? "failed" : "失敗")
				   : r == SK_MAIL_AR_SOFTFAIL  ? (en ? "probably failed" : "失敗の疑い")
				   : r == SK_MAIL_AR_PERMERROR ? (en ? "could not be checked" : "判定不能")
							       : (en ? "temporary error" : "一時エラー");
		const char *lead = auth ? (en ? ", " : "、")
					: (en ? "[WARNING] Sender authentication: " : "[注意] 送信ドメイン認証: ");
		ADD(sk_buf_printf(n, "%s%s %s (%s)", lead, NAME[me], what, result_code(r)));
		auth = true;
	}
	if (auth)
		ADD(sk_buf_adds(n, en ? ". The sender may be forged.\n"
				      : "。差出人が詐称されているおそれがあります。\n"));
	return rc;
}
