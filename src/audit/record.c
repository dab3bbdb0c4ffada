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

void sk_time_format_us(int64_t us, char *out, size_t outsz)
{
	int64_t s = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
	long frac = (long)(us - s * 1000000);
	time_t tt = (time_t)s;
	struct tm tm;
	if (!gmtime_r(&tt, &tm)) {
		snprintf(out, outsz, "?");
		return;
	}
	snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
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
	int rc = sk_buf_reserve(o, n + 16);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c == '\\')
			rc = sk_buf_add(o, "\\\\", 2);
		else if (c == '\n')
			rc = sk_buf_add(o, "\\n", 2);
		else if (c < 0x20 || c == 0x7f)
			rc = sk_buf_printf(o, "\\x%02x", c);
		else
			rc = sk_buf_addc(o, c);
	}
	return rc ? sk_error_set(err, rc, "audit record") : 0;
}

int sk_audit_record_encode(const sk_audit_record *r, sk_buf *out, sk_error *err)
{
	char ts[40];
	sk_time_format_us(r->time_us, ts, sizeof(ts));
	sk_buf_reset(out);
	int rc = sk_buf_printf(out, "%sseq %llu\ntime %s\n", magic, (unsigned long long)r->seq, ts);
	const char *vals[5] = {r->actor, r->action, r->object, r->result, r->detail};
	for (int i = 0; rc == 0 && i < 5; i++) {
		const char *v = vals[i] ? vals[i] : "";
		if (i < 3 && !*v)
			return sk_error_set(err, SK_EINVAL, "audit %s is empty", keys[i]);
		if ((rc = sk_buf_printf(out, "%s ", keys[i])))
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
			if (*q < '0' || *q > '9' || v > (UINT64_MAX - 9) / 10)
				goto bad;
			v = v * 10 + (uint64_t)(*q - '0');
		}
		r->seq = v;
		s = nl + 1;
	}
	/* time: fixed 27 characters */
	if (e - s < 33 || memcmp(s, "time ", 5) != 0 || s[32] != '\n')
		goto bad;
	{
		char ts[28], again[40];
		memcpy(ts, s + 5, 27);
		ts[27] = 0;
		int64_t us;
		if (ts[4] != '-' || ts[10] != 'T' || ts[19] != '.' || ts[26] != 'Z' ||
		    sk_time_parse(ts, &us, NULL) != 0)
			goto bad;
		sk_time_format_us(us, again, sizeof(again));
		if (strcmp(again, ts) != 0)
			goto bad;
		r->time_us = us;
		s += 33;
	}
	/* the five text fields; offsets into scratch first (it may move while growing) */
	size_t offs[5];
	if (sk_buf_reserve(scratch, (size_t)(e - s) + 5))
		return sk_error_set(err, SK_ENOMEM, "audit record");
	for (int i = 0; i < 5; i++) {
		size_t kl = strlen(keys[i]);
		if ((size_t)(e - s) < kl + 2 || memcmp(s, keys[i], kl) != 0 || s[kl] != ' ')
			goto bad;
		s += kl + 1;
		offs[i] = scratch->len;
		size_t start = scratch->len;
		for (;;) {
			if (s >= e)
				goto bad;
			unsigned char c = (unsigned char)*s;
			if (c == '\n') {
				s++;
				break;
			}
			if (c < 0x20 || c == 0x7f)
				goto bad;
			if (c == '\\') {
				if (e - s < 2)
					goto bad;
				if (s[1] == '\\') {
					scratch->data[scratch->len++] = '\\';
					s += 2;
				} else if (s[1] == 'n') {
					scratch->data[scratch->len++] = '\n';
					s += 2;
				} else if (s[1] == 'x' && e - s >= 4) {
					int a = hexv((unsigned char)s[2]), b = hexv((unsigned char)s[3]);
					if (a < 0 || b < 0)
						goto bad;
					unsigned char v = (unsigned char)(a * 16 + b);
					if ((v >= 0x20 && v != 0x7f) || v == '\n' || v == 0)
						goto bad; /* not the canonical escape */
					scratch->data[scratch->len++] = v;
					s += 4;
				} else {
					goto bad;
				}
			} else {
				scratch->data[scratch->len++] = c;
				s++;
			}
		}
		size_t vl = scratch->len - start;
		if (vl > (i == 4 ? SK_AUDIT_DETAIL_MAX : SK_AUDIT_FIELD_MAX) ||
		    (i < 3 && vl == 0) || !sk_utf8_valid((const char *)scratch->data + start, vl))
			goto bad;
		scratch->data[scratch->len++] = 0;
	}
	if (s != e)
		goto bad;
	const char **dst[5] = {&r->actor, &r->action, &r->object, &r->result, &r->detail};
	for (int i = 0; i < 5; i++)
		*dst[i] = (const char *)scratch->data + offs[i];
	return 0;
bad:
	return sk_error_set(err, SK_EFORMAT, "audit record is not canonical");
}
