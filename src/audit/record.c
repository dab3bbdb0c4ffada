/* Canonical bytes of an audit record, and time helpers.
 *
 *   sekisho-audit/1\n
 *   seq <decimal, no leading zeros>\n
 *   time <YYYY-MM-DDTHH:MM:SS.ffffffZ>\n
 *   actor <value>\n  action <value>\n  object <value>\n  result <value>\n  detail <value>\n
 *
 * Values are UTF-8; '\\' is written "\\\\", newline "\\n", every other byte below 0x20
 * and 0x7f as "\\xHH" (lower-case hex). Nothing else is escaped, so each record has
 * exactly one encoding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sekisho/audit.h"
#include "sekisho/name.h"

static const char magic[] = "sekisho-audit/1\n";
static const char *const keys[5] = {"actor", "action", "object", "result", "detail"};

int64_t sk_time_now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back (the usual era/day-of-era
 * arithmetic: 400-year eras of 146097 days, years starting in March). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put_digits(char *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* The canonical 27 characters for 0000-01-01 .. 9999-12-31; false outside. */
static bool format_time27(int64_t us, char out[28])
{
	int64_t s = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
	int64_t frac = us - s * 1000000;
	int64_t days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
	int64_t sod = s - days * 86400;
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		return false;
	memcpy(out, "0000-00-00T00:00:00.000000Z", 28);
	put_digits(out, (uint64_t)y, 4);
	put_digits(out + 5, m, 2);
	put_digits(out + 8, d, 2);
	put_digits(out + 11, (uint64_t)(sod / 3600), 2);
	put_digits(out + 14, (uint64_t)(sod / 60 % 60), 2);
	put_digits(out + 17, (uint64_t)(sod % 60), 2);
	put_digits(out + 20, (uint64_t)frac, 6);
	return true;
}

void sk_time_format_us(int64_t us, char *out, size_t outsz)
{
	char t[28];
	if (!format_time27(us, t))
		memcpy(t, "?", 2);
	snprintf(out, outsz, "%s", t);
}

#define JST_OFFSET_US (9LL * 3600 * 1000000)

void sk_time_format_jst(int64_t us, char *out, size_t outsz)
{
	char t[28];
	if (us > INT64_MAX - JST_OFFSET_US || !format_time27(us + JST_OFFSET_US, t)) {
		snprintf(out, outsz, "?");
		return;
	}
	t[10] = ' ';
	snprintf(out, outsz, "%.19s JST", t);
}

void sk_time_iso_jst(int64_t us, char *out, size_t outsz)
{
	char t[28];
	if (us > INT64_MAX - JST_OFFSET_US || !format_time27(us + JST_OFFSET_US, t)) {
		snprintf(out, outsz, "?");
		return;
	}
	snprintf(out, outsz, "%.19s+09:00", t);
}

static bool digits(const char *p, int n, unsigned *v)
{
	unsigned x = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		x = x * 10 + (unsigned)(p[i] - '0');
	}
	*v = x;
	return true;
}

/* Exactly the 27 characters format_time27() writes (so each time has one spelling). */
static bool parse_time27(const char *p, int64_t *us)
{
	static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h, mi, sec, f;
	if (p[4] != '-' || p[7] != '-' || p[10] != 'T' || p[13] != ':' || p[16] != ':' ||
	    p[19] != '.' || p[26] != 'Z' || !digits(p, 4, &y) || !digits(p + 5, 2, &mo) ||
	    !digits(p + 8, 2, &d) || !digits(p + 11, 2, &h) || !digits(p + 14, 2, &mi) ||
	    !digits(p + 17, 2, &sec) || !digits(p + 20, 6, &f))
		return false;
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 ||
	    mi > 59 || sec > 59)
		return false;
	int64_t days = days_from_civil((int64_t)y, mo, d);
	*us = ((days * 86400 + h * 3600 + mi * 60 + sec) * 1000000) + f;
	return true;
}

int sk_time_parse(const char *s, int64_t *us, sk_error *err)
{
	int Y, M, D, h = 0, m = 0, n = 0;
	double sec = 0;
	char *end;
	long long secs = strtoll(s, &end, 10);
	if (*s && *end == 0 && strlen(s) < 18 && !strchr(s, '-')) {
		*us = (int64_t)secs * 1000000;
		return 0;
	}
	if (sscanf(s, "%4d-%2d-%2d%n", &Y, &M, &D, &n) != 3)
		return sk_error_set(err, SK_EINVAL, "bad time %s", s);
	const char *p = s + n;
	long off = 0;
	if (*p == 'T' || *p == ' ') {
		int k = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &h, &m, &k) != 2)
			return sk_error_set(err, SK_EINVAL, "bad time %s", s);
		p += 1 + k;
		if (*p == ':') {
			char *e2;
			sec = strtod(p + 1, &e2);
			if (e2 == p + 1)
				return sk_error_set(err, SK_EINVAL, "bad time %s", s);
			p = e2;
		}
		if (*p == 'Z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int oh, om, k2 = 0;
			if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k2) != 2)
				return sk_error_set(err, SK_EINVAL, "bad time %s", s);
			off = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
			p += 1 + k2;
		}
	}
	if (*p || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec < 0 || sec >= 61)
		return sk_error_set(err, SK_EINVAL, "bad time %s", s);
	struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h,
			.tm_min = m};
	time_t t = timegm(&tm);
	*us = ((int64_t)t - off) * 1000000 + (int64_t)(sec * 1e6 + 0.5);
	return 0;
}

static int add_escaped(sk_buf *o, const char *v, size_t lim, sk_error *err)
{
	size_t n = strlen(v);
	if (n > lim)
		return sk_error_set(err, SK_ELIMIT, "audit field longer than %zu bytes", lim);
	if (!sk_utf8_valid(v, n))
		return sk_error_set(err, SK_EINVAL, "audit field is not UTF-8");
	/* at most 4 bytes for each byte of the value; copy runs that need no escape */
	int rc = sk_buf_reserve(o, 4 * n + 2);
	if (rc)
		return sk_error_set(err, rc, "audit record");
	static const char hx[] = "0123456789abcdef";
	uint8_t *d = o->data + o->len;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '\\') {
			*d++ = '\\';
			*d++ = '\\';
		} else if (c == '\n') {
			*d++ = '\\';
			*d++ = 'n';
		} else if (c < 0x20 || c == 0x7f) {
			*d++ = '\\';
			*d++ = 'x';
			*d++ = (uint8_t)hx[c >> 4];
			*d++ = (uint8_t)hx[c & 15];
		} else {
			*d++ = c;
		}
	}
	o->len = (size_t)(d - o->data);
	o->data[o->len] = 0;
	return 0;
}

int sk_audit_record_encode(const sk_audit_record *r, sk_buf *out, sk_error *err)
{
	char head[96];
	size_t hl = sizeof(magic) - 1;
	memcpy(head, magic, hl);
	memcpy(head + hl, "seq ", 4);
	hl += 4;
	char num[24];
	int nl = 0;
	uint64_t sq = r->seq;
	do {
		num[nl++] = (char)('0' + sq % 10);
		sq /= 10;
	} while (sq);
	while (nl)
		head[hl++] = num[--nl];
	memcpy(head + hl, "\ntime ", 6);
	hl += 6;
	if (!format_time27(r->time_us, head + hl))
		return sk_error_set(err, SK_EINVAL, "audit time out of range");
	hl += 27;
	head[hl++] = '\n';
	sk_buf_reset(out);
	int rc = sk_buf_add(out, head, hl);
	const char *vals[5] = {r->actor, r->action, r->object, r->result, r->detail};
	for (int i = 0; rc == 0 && i < 5; i++) {
		const char *v = vals[i] ? vals[i] : "";
		if (i < 3 && !*v)
			return sk_error_set(err, SK_EINVAL, "audit %s is empty", keys[i]);
		if ((rc = sk_buf_adds(out, keys[i])) || (rc = sk_buf_addc(out, ' ')))
			break;
		if ((rc = add_escaped(out, v, i == 4 ? SK_AUDIT_DETAIL_MAX : SK_AUDIT_FIELD_MAX, err)))
			return rc;
		rc = sk_buf_addc(out, '\n');
	}
	return rc ? sk_error_set(err, rc, "audit record") : 0;
}

static int hexv(unsigned char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int sk_audit_record_decode(const uint8_t *p, size_t n, sk_audit_record *r, sk_buf *scratch,
			   sk_error *err)
{
	memset(r, 0, sizeof(*r));
	if (scratch)
		sk_buf_reset(scratch);
	const char *s = (const char *)p, *e = s + n;
	size_t ml = sizeof(magic) - 1;
	if (n < ml || memcmp(s, magic, ml) != 0)
		goto bad;
	s += ml;
	/* seq */
	if (e - s < 6 || memcmp(s, "seq ", 4) != 0)
		goto bad;
	s += 4;
	{
		const char *nl = memchr(s, '\n', (size_t)(e - s));
		if (!nl || nl == s || nl - s > 20 || (s[0] == '0' && nl - s > 1))
			goto bad;
		uint64_t v = 0;
		for (const char *q = s; q < nl; q++) {
			if (*q < '0' || *q > '9' || v > (UINT64_MAX - (uint64_t)(*q - '0')) / 10)
				goto bad;
			v = v * 10 + (uint64_t)(*q - '0');
		}
		r->seq = v;
		s = nl + 1;
	}
	/* time: fixed 27 characters */
	if (e - s < 33 || memcmp(s, "time ", 5) != 0 || s[32] != '\n' ||
	    !parse_time27(s + 5, &r->time_us))
		goto bad;
	s += 33;
	/* The five text fields. Escapes stand for ASCII bytes only, so the escaped text is
	 * valid UTF-8 exactly when the value is. Offsets into scratch first (it may move). */
	size_t offs[5] = {0};
	if (scratch && sk_buf_reserve(scratch, (size_t)(e - s) + 5))
		return sk_error_set(err, SK_ENOMEM, "audit record");
	for (int i = 0; i < 5; i++) {
		size_t kl = strlen(keys[i]);
		if ((size_t)(e - s) < kl + 2 || memcmp(s, keys[i], kl) != 0 || s[kl] != ' ')
			goto bad;
		s += kl + 1;
		const char *nl = memchr(s, '\n', (size_t)(e - s));
		if (!nl || !sk_utf8_valid(s, (size_t)(nl - s)))
			goto bad;
		if (scratch)
			offs[i] = scratch->len;
		size_t vl = 0;
		while (s < nl) {
			unsigned char c = (unsigned char)*s, v;
			if (c < 0x20 || c == 0x7f)
				goto bad;
			if (c != '\\') {
				v = c;
				s++;
			} else if (nl - s >= 2 && s[1] == '\\') {
				v = '\\';
				s += 2;
			} else if (nl - s >= 2 && s[1] == 'n') {
				v = '\n';
				s += 2;
			} else if (nl - s >= 4 && s[1] == 'x') {
				int a = hexv((unsigned char)s[2]), b = hexv((unsigned char)s[3]);
				if (a < 0 || b < 0)
					goto bad;
				v = (unsigned char)(a * 16 + b);
				if ((v >= 0x20 && v != 0x7f) || v == '\n' || v == 0)
					goto bad; /* not the canonical escape */
				s += 4;
			} else {
				goto bad;
			}
			if (scratch)
				scratch->data[scratch->len++] = v;
			vl++;
		}
		s = nl + 1;
		if (vl > (i == 4 ? SK_AUDIT_DETAIL_MAX : SK_AUDIT_FIELD_MAX) || (i < 3 && vl == 0))
			goto bad;
		if (scratch)
			scratch->data[scratch->len++] = 0;
	}
	if (s != e)
		goto bad;
	if (scratch) {
		const char **dst[5] = {&r->actor, &r->action, &r->object, &r->result, &r->detail};
		for (int i = 0; i < 5; i++)
			*dst[i] = (const char *)scratch->data + offs[i];
	}
	return 0;
bad:
	return sk_error_set(err, SK_EFORMAT, "audit record is not canonical");
}
