#include "sekisho/name.h"

#include <string.h>
#include <strings.h>

#include "sekisho/error.h"

/* Decodes one UTF-8 sequence at s[0..n); returns its length and the code point in *cp,
 * or 0 when invalid (overlong, surrogate, > U+10FFFF, truncated). */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	size_t len;
	unsigned min;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2, min = 0x80, c &= 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3, min = 0x800, c &= 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4, min = 0x10000, c &= 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return len;
}

bool sk_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		unsigned cp;
		size_t l = utf8_decode(p + i, n - i, &cp);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

size_t sk_utf8_put(uint32_t cp, char out[4])
{
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static bool is_bidi_or_format(unsigned cp)
{
	return (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2060 && cp <= 0x2069) || cp == 0x061C || cp == 0xFEFF ||
	       cp == 0x180E || cp == 0x00AD;
}

/* Appends one path component, dropping "", ".", ".." and trailing dots and spaces
 * (Windows drops them, so "a.exe." would run as a.exe). */
static int add_component(sk_buf *out, const char *c, size_t n, int *changed)
{
	size_t m = n;
	while (m > 0 && (c[m - 1] == '.' || c[m - 1] == ' '))
		m--;
	if (m != n && !(n == 1 && c[0] == '.') && !(n == 2 && c[0] == '.' && c[1] == '.'))
		*changed |= SK_NAME_CHANGED_PATH;
	if (m == 0) {
		if (n > 0)
			*changed |= SK_NAME_CHANGED_PATH;
		return 0;
	}
	if (out->len > 0) {
		int rc = sk_buf_addc(out, '/');
		if (rc)
			return rc;
	}
	return sk_buf_add(out, c, m);
}

int sk_name_clean(const char *name, sk_buf *out)
{
	int changed = 0;
	sk_buf tmp;
	sk_buf_init(&tmp, 0);
	sk_buf_reset(out);
	const unsigned char *p = (const unsigned char *)name;
	size_t n = strlen(name);
	int rc = 0;

	/* 1. characters */
	for (size_t i = 0; i < n && rc == 0;) {
		unsigned cp;
		size_t l = utf8_decode(p + i, n - i, &cp);
		if (!l) {
			changed |= SK_NAME_CHANGED_INVALID;
			rc = sk_buf_addc(&tmp, '_');
			i++;
			continue;
		}
		if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
			changed |= SK_NAME_CHANGED_CONTROL;
		} else if (is_bidi_or_format(cp)) {
			changed |= SK_NAME_CHANGED_BIDI;
		} else if (cp == '\\' || cp == ':') {
			/* a Windows separator, a drive letter or an alternate data stream */
			changed |= SK_NAME_CHANGED_PATH;
			rc = sk_buf_addc(&tmp, cp == '\\' ? '/' : '_');
		} else {
			rc = sk_buf_add(&tmp, p + i, l);
		}
		i += l;
	}
	/* 2. components */
	if (rc == 0) {
		const char *s = sk_buf_str(&tmp);
		if (s[0] == '/')
			changed |= SK_NAME_CHANGED_PATH;
		while (*s && rc == 0) {
			const char *e = strchr(s, '/');
			size_t cl = e ? (size_t)(e - s) : strlen(s);
			if ((cl == 2 && s[0] == '.' && s[1] == '.'))
				changed |= SK_NAME_CHANGED_PATH;
			rc = add_component(out, s, cl, &changed);
			s += cl;
			while (*s == '/')
				s++;
		}
	}
	if (rc == 0 && out->len == 0) {
		rc = sk_buf_addc(out, '_');
		changed |= SK_NAME_CHANGED_PATH;
	}
	sk_buf_free(&tmp);
	return rc ? rc : changed;
}

/* atext of RFC 5322 3.2.3 (letters, digits and these) */
static bool atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+/=?^_`{|}~-", c));
}

/* a dot-atom: atoms of atext separated by single dots */
static bool dot_atom(const char *s, size_t n)
{
	if (!n || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '.' ? s[i + 1] == '.' : !atext((unsigned char)s[i]))
			return false;
	return true;
}

bool sk_mail_addr_valid(const char *s)
{
	if (!s)
		return false;
	size_t n = strlen(s);
	const char *at = strchr(s, '@');
	if (n > 254 || !at || s[0] == '-' || strchr(at + 1, '@'))
		return false;
	size_t ln = (size_t)(at - s);
	return ln <= 64 && dot_atom(s, ln) && dot_atom(at + 1, n - ln - 1);
}

bool sk_mail_domain_valid(const char *s)
{
	if (!s)
		return false;
	size_t n = strlen(s), label = 0, labels = 1;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (!label || s[i - 1] == '-')
				return false;
			label = 0;
			labels++;
			continue;
		}
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  (c == '-' && label > 0);
		if (!ok || ++label > 63)
			return false;
	}
	return label > 0 && s[n - 1] != '-' && labels >= 2;
}

bool sk_mail_domain_internal(const char *addr, const char *const *domains)
{
	if (!addr || !domains)
		return false;
	const char *at = strrchr(addr, '@');
	const char *dom = at ? at + 1 : addr;
	size_t dl = strlen(dom);
	/* a trailing dot (a fully qualified name) is the same domain */
	if (dl && dom[dl - 1] == '.')
		dl--;
	if (!dl)
		return false;
	for (const char *const *d = domains; *d; d++) {
		size_t l2 = strlen(*d);
		if (!l2 || l2 > dl)
			continue;
		if (!strncasecmp(dom + dl - l2, *d, l2) && (dl == l2 || dom[dl - l2 - 1] == '.'))
			return true;
	}
	return false;
}
