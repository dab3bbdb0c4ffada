/* Times for people on the command line: the local zone with the zone written.
 *
 * The local zone is TZ when it is set; without TZ it is Japan Standard Time, the zone the
 * project writes everywhere (sk_time_format_jst), whatever /etc/localtime says. JSON keeps
 * its UTC and JST fields: it is for programs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "sekisho/audit.h"

static bool tz_set(void)
{
	const char *tz = getenv("TZ");
	return tz && *tz;
}

void cli_time_format(int64_t us, char *out, size_t n)
{
	if (!tz_set()) {
		sk_time_format_jst(us, out, n);
		return;
	}
	int64_t s = us >= 0 ? us / 1000000 : (us - 999999) / 1000000;
	time_t t = (time_t)s;
	struct tm tm;
	if ((int64_t)t != s || !localtime_r(&t, &tm) ||
	    strftime(out, n, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(out, n, "?");
}

/* Does the time s (valid for sk_time_parse) name its zone or an instant: "…Z", "…+09:00",
 * "…-05:00", or seconds since the epoch? *date: it is a date alone. */
static bool zoned(const char *s, bool *date)
{
	int y, m, d, k = 0;
	*date = false;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &k) != 3)
		return true; /* seconds since the epoch */
	const char *p = s + k;
	if (*p != 'T' && *p != ' ') {
		*date = true;
		return false;
	}
	return strchr(p, 'Z') || strchr(p, '+') || strchr(p + 1, '-');
}

int cli_time_parse(const char *s, bool end_of_day, int64_t *us, sk_error *err)
{
	int64_t v;
	bool date;
	int rc = sk_time_parse(s, &v, err);
	if (rc || zoned(s, &date)) {
		if (!rc)
			*us = v;
		return rc;
	}
	if (date && end_of_day)
		v += 86400LL * 1000000 - 1; /* the last microsecond of that day */
	/* v is the wall-clock time read as UTC; find the instant the local zone shows so */
	if (!tz_set()) {
		*us = v - 9LL * 3600 * 1000000;
		return 0;
	}
	int64_t sec = v >= 0 ? v / 1000000 : (v - 999999) / 1000000;
	time_t t = (time_t)sec;
	struct tm tm;
	if ((int64_t)t != sec || !gmtime_r(&t, &tm))
		return sk_error_set(err, SK_EINVAL, "bad time %s", s);
	tm.tm_isdst = -1;
	time_t local = mktime(&tm);
	if (local == (time_t)-1)
		return sk_error_set(err, SK_EINVAL, "bad time %s", s);
	*us = (int64_t)local * 1000000 + (v - sec * 1000000);
	return 0;
}
