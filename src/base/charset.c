/* sekisho — charset: detection of text encodings and conversion to UTF-8 (see charset.h). */
#include "sekisho/charset.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uchardet.h>

#include "sekisho/name.h"

/* ---- detection ------------------------------------------------------------------- */

/* An ISO-2022-JP G0 designation: ESC ( B/J/H/I, ESC $ @/B/A, ESC $ ( C/D/O/P/Q. */
static bool is_jis_designation(const uint8_t *p, size_t n)
{
	if (n >= 3 && p[1] == '(' && (p[2] == 'B' || p[2] == 'J' || p[2] == 'H' || p[2] == 'I'))
		return true;
	if (n >= 3 && p[1] == '$' && (p[2] == '@' || p[2] == 'B' || p[2] == 'A'))
		return true;
	if (n >= 4 && p[1] == '$' && p[2] == '(' &&
	    (p[3] == 'C' || p[3] == 'D' || p[3] == 'O' || p[3] == 'P' || p[3] == 'Q'))
		return true;
	return false;
}

/* Valid UTF-8, allowing a sequence cut by the end of the sample when `cut`. */
static bool utf8_sample_ok(const uint8_t *p, size_t n, bool cut)
{
	if (cut) {
		size_t k = 0;
		while (k < 3 && k < n && (p[n - 1 - k] & 0xC0) == 0x80)
			k++;
		if (k < n && p[n - 1 - k] >= 0xC0) {
			uint8_t l = p[n - 1 - k];
			size_t need = l >= 0xF0 ? 4 : l >= 0xE0 ? 3 : 2;
			if (k + 1 < need)
				n -= k + 1;
		}
	}
	return sk_utf8_valid((const char *)p, n);
}

bool sk_charset_decodes(const char *from, const uint8_t *p, size_t n, bool cut)
{
	iconv_t cd = iconv_open("UTF-8", from);
	if (cd == (iconv_t)-1)
		return false;
	char tmp[4096];
	char *ip = (char *)(uintptr_t)p;
	size_t il = n;
	bool ok = true;
	while (il > 0) {
		char *op = tmp;
		size_t ol = sizeof(tmp);
		if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1) {
			if (errno == E2BIG)
				continue;
			/* EINVAL: a character cut at the end of the sample */
			ok = cut && errno == EINVAL && il < 4;
			break;
		}
	}
	iconv_close(cd);
	return ok;
}

/* UTF-16 without a BOM: 1 LE, 2 BE, 0 neither. */
static int utf16_pattern(const uint8_t *p, size_t n, bool cut)
{
	if (n < 8)
		return 0;
	size_t units = n / 2, z_even = 0, z_odd = 0;
	for (size_t i = 0; i + 1 < n; i += 2) {
		z_even += p[i] == 0;
		z_odd += p[i + 1] == 0;
	}
	int which = 0;
	if (z_odd * 4 >= units && z_even * 32 <= z_odd)
		which = 1;
	else if (z_even * 4 >= units && z_odd * 32 <= z_even)
		which = 2;
	if (!which || !sk_charset_decodes(which == 1 ? "UTF-16LE" : "UTF-16BE", p, n & ~(size_t)1,
					  cut))
		return 0;
	return which;
}

static bool name_in(const char *cs, const char *const *names)
{
	for (; *names; names++)
		if (!strcasecmp(cs, *names))
			return true;
	return false;
}

static const char *const U_SJIS[] = {"SHIFT_JIS", "CP932", "WINDOWS-31J", "SJIS", NULL};
static const char *const U_DBCS[] = {"BIG5", "GB18030", "GBK", "UHC", "CP949", "EUC-TW",
				     "EUC-KR", NULL};

void sk_charset_detect_8bit(const uint8_t *p, size_t n, bool cut, sk_charset_guess *g)
{
	memset(g, 0, sizeof(*g));
	if (utf8_sample_ok(p, n, cut)) {
		g->cs = SK_CHARSET_UTF8;
		return;
	}
	bool ask_iconv = true;
	uchardet_t ud = uchardet_new();
	if (ud) {
		if (uchardet_handle_data(ud, (const char *)p, n) == 0) {
			uchardet_data_end(ud);
			const char *cs = uchardet_get_charset(ud);
			snprintf(g->detected, sizeof(g->detected), "%s", cs ? cs : "");
		}
		uchardet_delete(ud);
	}
	const char *cs = g->detected;
	g->cs = SK_CHARSET_8BIT;
	if (name_in(cs, U_SJIS))
		g->cs = SK_CHARSET_CP932;
	else if (!strcasecmp(cs, "EUC-JP"))
		g->cs = SK_CHARSET_EUCJP;
	else if (name_in(cs, U_DBCS))
		g->cs = SK_CHARSET_DBCS;
	else if (!strcasecmp(cs, "ISO-2022-JP"))
		g->cs = SK_CHARSET_ISO2022JP;
	else if (!strcasecmp(cs, "UTF-16LE"))
		g->cs = SK_CHARSET_UTF16LE;
	else if (!strcasecmp(cs, "UTF-16BE"))
		g->cs = SK_CHARSET_UTF16BE;
	else if (!strcasecmp(cs, "UTF-8"))
		g->cs = SK_CHARSET_UTF8;
	if (g->cs != SK_CHARSET_8BIT)
		ask_iconv = false;
	if (ask_iconv) {
		/* uchardet does not know CP932 with NEC/IBM extensions (①, ㈱) */
		if (sk_charset_decodes("CP932", p, n, cut))
			g->cs = SK_CHARSET_CP932;
		else if (sk_charset_decodes("EUC-JP-MS", p, n, cut))
			g->cs = SK_CHARSET_EUCJP;
	}
}

void sk_charset_detect(const uint8_t *p, size_t n, bool cut, sk_charset_guess *g)
{
	memset(g, 0, sizeof(*g));
	g->cs = SK_CHARSET_ASCII;
	if (!p)
		n = 0;
	if (n >= 4 && !memcmp(p, "\xFF\xFE\0\0", 4)) {
		g->cs = SK_CHARSET_UTF32LE;
		g->bom = 4;
	} else if (n >= 4 && !memcmp(p, "\0\0\xFE\xFF", 4)) {
		g->cs = SK_CHARSET_UTF32BE;
		g->bom = 4;
	} else if (n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) {
		g->cs = SK_CHARSET_UTF8;
		g->bom = 3;
	} else if (n >= 2 && !memcmp(p, "\xFF\xFE", 2)) {
		g->cs = SK_CHARSET_UTF16LE;
		g->bom = 2;
	} else if (n >= 2 && !memcmp(p, "\xFE\xFF", 2)) {
		g->cs = SK_CHARSET_UTF16BE;
		g->bom = 2;
	} else {
		int u16 = utf16_pattern(p, n, cut);
		if (u16) {
			g->cs = u16 == 1 ? SK_CHARSET_UTF16LE : SK_CHARSET_UTF16BE;
			return;
		}
		bool iso = false;
		if (sk_charset_ascii_prefix(p, n, &iso) < n && !iso)
			sk_charset_detect_8bit(p, n, cut, g);
		else if (iso)
			g->cs = SK_CHARSET_ISO2022JP;
	}
}

size_t sk_charset_ascii_prefix(const uint8_t *p, size_t n, bool *iso2022jp)
{
	*iso2022jp = false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x80)
			return i;
		if (p[i] == 0x1B && !*iso2022jp && is_jis_designation(p + i, n - i))
			*iso2022jp = true;
	}
	return n;
}

const char *sk_charset_iconv_name(const sk_charset_guess *g)
{
	switch (g->cs) {
	case SK_CHARSET_ASCII:
	case SK_CHARSET_UTF8:
		return "UTF-8";
	case SK_CHARSET_UTF16LE:
		return "UTF-16LE";
	case SK_CHARSET_UTF16BE:
		return "UTF-16BE";
	case SK_CHARSET_UTF32LE:
		return "UTF-32LE";
	case SK_CHARSET_UTF32BE:
		return "UTF-32BE";
	case SK_CHARSET_ISO2022JP:
		return "CP50220";
	case SK_CHARSET_CP932:
		return "CP932";
	case SK_CHARSET_EUCJP:
		return "EUC-JP-MS";
	case SK_CHARSET_DBCS:
	case SK_CHARSET_8BIT:
		break;
	}
	return g->detected[0] ? g->detected : "CP932";
}

static const char *const L_2022[] = {"iso-2022-jp", "csiso2022jp", "iso-2022-jp-1",
				      "iso-2022-jp-2", "iso-2022-jp-3", "iso-2022-jp-ms",
				      "cp50220", "cp50221", "cp50222", NULL};
static const char *const L_SJIS[] = {"shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji",
				      "windows-31j", "cp932", "csshiftjis", "ms932", NULL};
static const char *const L_EUC[] = {"euc-jp", "x-euc-jp", "eucjp", "cseucpkdfmtjapanese",
				     "euc-jp-ms", NULL};
static const char *const L_UTF8[] = {"utf-8", "utf8", NULL};
static const char *const L_ASCII[] = {"us-ascii", "ascii", "ansi_x3.4-1968", NULL};

sk_charset sk_charset_from_label(const char *label)
{
	if (!label)
		return SK_CHARSET_8BIT;
	if (name_in(label, L_ASCII))
		return SK_CHARSET_ASCII;
	if (name_in(label, L_UTF8))
		return SK_CHARSET_UTF8;
	if (name_in(label, L_2022))
		return SK_CHARSET_ISO2022JP;
	if (name_in(label, L_SJIS))
		return SK_CHARSET_CP932;
	if (name_in(label, L_EUC))
		return SK_CHARSET_EUCJP;
	if (!strcasecmp(label, "utf-16le"))
		return SK_CHARSET_UTF16LE;
	if (!strcasecmp(label, "utf-16be"))
		return SK_CHARSET_UTF16BE;
	return SK_CHARSET_8BIT;
}

/* Labels of other charsets, read as the superset a sender's program most likely wrote
 * (the WHATWG encoding standard's choices: GB2312/GBK as GB18030, EUC-KR as CP949 (UHC),
 * ISO-8859-1 and US-ASCII-with-8-bit as WINDOWS-1252, TIS-620 as CP874). */
static const struct {
	const char *label, *iconv;
	bool multibyte;
} LABELS[] = {
	{"big5", "BIG5", true},           {"x-big5", "BIG5", true},
	{"cn-big5", "BIG5", true},        {"cp950", "BIG5", true},
	{"big5-hkscs", "BIG5-HKSCS", true},
	{"gb2312", "GB18030", true},      {"gbk", "GB18030", true},
	{"x-gbk", "GB18030", true},       {"cp936", "GB18030", true},
	{"gb18030", "GB18030", true},     {"euc-cn", "GB18030", true},
	{"csgb2312", "GB18030", true},    {"hz-gb-2312", "HZ-GB-2312", true},
	{"euc-kr", "CP949", true},        {"ks_c_5601-1987", "CP949", true},
	{"ks_c_5601", "CP949", true},     {"ksc5601", "CP949", true},
	{"cp949", "CP949", true},         {"windows-949", "CP949", true},
	{"iso-2022-kr", "ISO-2022-KR", true},
	{"euc-tw", "EUC-TW", true},
	{"utf-16", "UTF-16", true},       {"utf-32", "UTF-32", true},
	{"utf-32le", "UTF-32LE", true},   {"utf-32be", "UTF-32BE", true},
	{"utf-7", "UTF-7", true},
	{"iso-8859-1", "WINDOWS-1252", false}, {"iso8859-1", "WINDOWS-1252", false},
	{"latin1", "WINDOWS-1252", false},     {"l1", "WINDOWS-1252", false},
	{"tis-620", "CP874", false},      {"iso-8859-11", "CP874", false},
	{"windows-874", "CP874", false},
};

const char *sk_charset_label_iconv(const char *label, bool *multibyte)
{
	bool mb = false;
	const char *name = label;
	if (!label || !*label) {
		name = NULL;
	} else {
		switch (sk_charset_from_label(label)) {
		case SK_CHARSET_ASCII:
			name = "WINDOWS-1252"; /* 8-bit bytes under a 7-bit label */
			break;
		case SK_CHARSET_UTF8:
			name = "UTF-8";
			mb = true;
			break;
		case SK_CHARSET_ISO2022JP:
			name = "CP50220";
			mb = true;
			break;
		case SK_CHARSET_CP932:
			name = "CP932";
			mb = true;
			break;
		case SK_CHARSET_EUCJP:
			name = "EUC-JP-MS";
			mb = true;
			break;
		case SK_CHARSET_UTF16LE:
			name = "UTF-16LE";
			mb = true;
			break;
		case SK_CHARSET_UTF16BE:
			name = "UTF-16BE";
			mb = true;
			break;
		default:
			for (size_t i = 0; i < sizeof(LABELS) / sizeof(LABELS[0]); i++)
				if (!strcasecmp(label, LABELS[i].label)) {
					name = LABELS[i].iconv;
					mb = LABELS[i].multibyte;
					break;
				}
			break;
		}
	}
	if (multibyte)
		*multibyte = mb;
	return name;
}

/* ---- conversion ------------------------------------------------------------------ */

enum { J_ASCII, J_KANJI, J_KANA, J_OTHER2 };

struct sk_charset_conv {
	iconv_t cd;
	bool iso;         /* ISO-2022-JP read as CP50220: rewritten to CP932 first */
	bool utf8;        /* UTF-8 checked by us: glibc's iconv lets code points past
			   * U+10FFFF through, which is no UTF-8 */
	int mode;         /* ISO-2022-JP: the current G0 set */
	bool so;          /* ISO-2022-JP: shifted out (half-width katakana) */
	uint8_t carry[8]; /* bytes of a character cut at the end of the last call */
	size_t ncarry;
	sk_buf sj;        /* ISO-2022-JP: the CP932 bytes of this call */
};

static const char REPL[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Whether iconv takes name for UTF-8: glibc compares names upper-cased with everything but
 * letters and digits dropped ("U=TF-8", "utf_8", "ISO-10646/UTF8/"). Such input is read by
 * utf8_feed, which replaces invalid sequences: glibc's UTF-8 to UTF-8 passes some through
 * (F4 9F 98 80, past U+10FFFF). */
static bool names_utf8(const char *name)
{
	char k[32];
	size_t n = 0;
	for (const char *p = name; *p && n < sizeof(k) - 1; p++)
		if ((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
			k[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
	k[n] = 0;
	return !strcmp(k, "UTF8") || !strcmp(k, "ISO10646UTF8");
}

int sk_charset_conv_open(sk_charset_conv **c, const char *from, sk_error *err)
{
	bool iso = !strcasecmp(from, "CP50220") || sk_charset_from_label(from) == SK_CHARSET_ISO2022JP;
	iconv_t cd = iconv_open("UTF-8", iso ? "CP932" : from);
	if (cd == (iconv_t)-1)
		return sk_error_set(err, SK_EINVAL, "charset %s unknown", from);
	sk_charset_conv *k = calloc(1, sizeof(*k));
	if (!k) {
		iconv_close(cd);
		return sk_error_set(err, SK_ENOMEM, "charset converter");
	}
	k->cd = cd;
	k->iso = iso;
	k->utf8 = names_utf8(from);
	sk_buf_init(&k->sj, 0);
	*c = k;
	return 0;
}

void sk_charset_conv_close(sk_charset_conv *c)
{
	if (!c)
		return;
	iconv_close(c->cd);
	sk_buf_free(&c->sj);
	free(c);
}

/* ISO-2022-JP (with the CP50220/50221 extensions: NEC row 13, NEC-selected IBM rows 89-92,
 * half-width katakana by ESC ( I or SO/SI) rewritten as CP932 bytes, which iconv reads.
 * Returns how many bytes of p it used (an escape sequence or a character cut at the end
 * waits for more unless final). */
static int iso_to_cp932(sk_charset_conv *c, const uint8_t *p, size_t n, bool final, size_t *used)
{
	sk_buf *out = &c->sj;
	int rc = 0;
	size_t i = 0;
	for (; i < n && rc == 0; i++) {
		uint8_t ch = p[i];
		if (ch == 0x1b) {
			if (!final && (i + 2 >= n || (p[i + 1] == '$' && p[i + 2] == '(' && i + 3 >= n)))
				break; /* wait for the rest of the sequence */
			if (i + 2 < n) {
				uint8_t a = p[i + 1], b = p[i + 2];
				if (a == '(' && (b == 'B' || b == 'J' || b == 'H')) {
					c->mode = J_ASCII;
					i += 2;
					continue;
				}
				if (a == '(' && b == 'I') {
					c->mode = J_KANA;
					i += 2;
					continue;
				}
				if (a == '$' && (b == 'B' || b == '@')) {
					c->mode = J_KANJI;
					i += 2;
					continue;
				}
				if (a == '$' && b == '(' && i + 3 < n) {
					c->mode = p[i + 3] == 'B' || p[i + 3] == 'Q' ? J_KANJI : J_OTHER2;
					i += 3;
					continue;
				}
			}
		}
		if (ch == 0x0e) {
			c->so = true;
			continue;
		}
		if (ch == 0x0f) {
			c->so = false;
			continue;
		}
		if (ch < 0x21 || ch > 0x7e) {
			/* controls and line ends pass; 8-bit bytes do not belong here */
			rc = sk_buf_addc(out, ch >= 0x80 ? '?' : ch);
			if (ch == '\n' && c->mode != J_ASCII && c->mode != J_KANA)
				c->mode = J_ASCII; /* a missing ESC ( B at the line end */
			continue;
		}
		if (c->so || c->mode == J_KANA) {
			rc = sk_buf_addc(out, ch <= 0x5f ? (uint8_t)(ch + 0x80) : '?');
			continue;
		}
		if (c->mode == J_ASCII) {
			rc = sk_buf_addc(out, ch);
			continue;
		}
		if (i + 1 >= n && !final)
			break;
		if (i + 1 >= n || p[i + 1] < 0x21 || p[i + 1] > 0x7e) {
			rc = sk_buf_addc(out, '?');
			continue;
		}
		uint8_t c2 = p[++i];
		if (c->mode == J_OTHER2) { /* JIS X 0212: not in CP932 */
			rc = sk_buf_addc(out, '?');
			continue;
		}
		uint8_t s1 = (uint8_t)(((ch + 1) >> 1) + (ch <= 0x5e ? 0x70 : 0xb0));
		uint8_t s2 = (uint8_t)((ch & 1) ? c2 + (c2 >= 0x60 ? 0x20 : 0x1f) : c2 + 0x7e);
		uint8_t pair[2] = {s1, s2};
		rc = sk_buf_add(out, pair, 2);
	}
	*used = i;
	return rc;
}

/* iconv p[0..n) into out; returns how many bytes it left unconverted (a cut character). */
static int run_iconv(sk_charset_conv *c, const uint8_t *p, size_t n, bool final, sk_buf *out,
		     size_t *bad, size_t *left)
{
	char tmp[4096];
	char *in = (char *)(uintptr_t)p;
	size_t inl = n;
	int rc = 0;
	while (inl > 0) {
		char *o = tmp;
		size_t ol = sizeof(tmp);
		size_t r = iconv(c->cd, &in, &inl, &o, &ol);
		int e = r == (size_t)-1 ? errno : 0;
		if ((rc = sk_buf_add(out, tmp, (size_t)(o - tmp))) != 0)
			return rc;
		if (!e || e == E2BIG)
			continue;
		if (e == EINVAL && !final && inl < sizeof(c->carry))
			break; /* cut at the end: wait for the rest */
		/* EILSEQ or EINVAL (truncated at the very end): one byte replaced */
		if ((rc = sk_buf_adds(out, REPL)) != 0)
			return rc;
		(*bad)++;
		in++;
		inl--;
		iconv(c->cd, NULL, NULL, NULL, NULL);
	}
	if (final) {
		char *o = tmp;
		size_t ol = sizeof(tmp);
		iconv(c->cd, NULL, NULL, &o, &ol);
		rc = sk_buf_add(out, tmp, (size_t)(o - tmp));
	}
	*left = inl;
	return rc;
}

/* UTF-8 to UTF-8: valid sequences (RFC 3629) copied, every other byte U+FFFD; a sequence
 * cut at the end waits for more unless final. */
static int utf8_feed(const uint8_t *p, size_t n, bool final, sk_buf *out, size_t *bad,
		     size_t *left)
{
	size_t i = 0, run = 0;
	int rc = 0;
	*left = 0;
	while (i < n && !rc) {
		uint8_t ch = p[i];
		size_t l = ch < 0x80 ? 1 : ch >= 0xC2 && ch <= 0xDF ? 2 : ch >= 0xE0 && ch <= 0xEF ? 3
			 : ch >= 0xF0 && ch <= 0xF4 ? 4 : 0;
		if (l && i + l > n && !final) {
			bool cont = true;
			for (size_t j = i + 1; j < n; j++)
				cont &= (p[j] & 0xC0) == 0x80;
			if (cont) {
				*left = n - i; /* cut: the rest comes with the next call */
				break;
			}
		}
		if (l && i + l <= n && sk_utf8_valid((const char *)p + i, l)) {
			i += l;
			continue;
		}
		rc = i > run ? sk_buf_add(out, p + run, i - run) : 0;
		if (!rc)
			rc = sk_buf_adds(out, REPL);
		(*bad)++;
		run = ++i;
	}
	if (!rc && i > run)
		rc = sk_buf_add(out, p + run, i - run);
	return rc;
}

int sk_charset_conv_feed(sk_charset_conv *c, const uint8_t *p, size_t n, bool final, sk_buf *out,
			 size_t *bad, sk_error *err)
{
	size_t nbad = 0;
	if (!p)
		n = 0;
	/* the carried bytes go first */
	uint8_t *joined = NULL;
	if (c->ncarry) {
		if (!(joined = malloc(c->ncarry + n)))
			return sk_error_set(err, SK_ENOMEM, "charset conversion");
		memcpy(joined, c->carry, c->ncarry);
		if (n)
			memcpy(joined + c->ncarry, p, n);
		p = joined;
		n += c->ncarry;
		c->ncarry = 0;
	}
	int rc = 0;
	size_t left = 0;
	if (c->iso) {
		size_t used = 0;
		sk_buf_reset(&c->sj);
		rc = iso_to_cp932(c, p, n, final, &used);
		size_t l2 = 0;
		if (!rc)
			rc = run_iconv(c, sk_buf_data(&c->sj), sk_buf_len(&c->sj), final, out, &nbad, &l2);
		left = n - used; /* whole pairs only reach iconv: l2 is always 0 */
		(void)l2;
	} else if (c->utf8) {
		rc = utf8_feed(p, n, final, out, &nbad, &left);
	} else if (n) {
		rc = run_iconv(c, p, n, final, out, &nbad, &left);
	} else if (final) {
		rc = run_iconv(c, p, 0, true, out, &nbad, &left);
	}
	if (!rc && left) {
		if (left > sizeof(c->carry)) {
			rc = SK_EINTERNAL;
		} else {
			memcpy(c->carry, p + n - left, left);
			c->ncarry = left;
		}
	}
	free(joined);
	if (bad)
		*bad = nbad;
	return rc ? sk_error_set(err, rc, "charset conversion") : 0;
}

int sk_charset_to_utf8(const char *from, const uint8_t *p, size_t n, sk_buf *out, size_t *bad,
		       sk_error *err)
{
	sk_charset_conv *c;
	int rc = sk_charset_conv_open(&c, from, err);
	if (rc)
		return rc;
	rc = sk_charset_conv_feed(c, p, n, true, out, bad, err);
	sk_charset_conv_close(c);
	return rc;
}
