#include "sekisho/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 4, 0)))
static int error_vset(sk_error *err, int code, int sys, const char *fmt, va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	err->sys = sys;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (sys) {
		size_t n = strlen(err->msg);
		if (n < sizeof(err->msg))
			snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(sys));
	}
	return code;
}

int sk_error_set(sk_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_vset(err, code, 0, fmt, ap);
	va_end(ap);
	return code;
}

int sk_error_sys(sk_error *err, int code, const char *fmt, ...)
{
	int sys = errno;
	va_list ap;
	va_start(ap, fmt);
	error_vset(err, code, sys, fmt, ap);
	va_end(ap);
	return code;
}

void sk_error_clear(sk_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

const char *sk_strerror(int code)
{
	switch (code) {
	case SK_OK: return "OK";
	case SK_EINVAL: return "EINVAL";
	case SK_ENOMEM: return "ENOMEM";
	case SK_EIO: return "EIO";
	case SK_ELIMIT: return "ELIMIT";
	case SK_EFORMAT: return "EFORMAT";
	case SK_EBLOCKED: return "EBLOCKED";
	case SK_EINTERNAL: return "EINTERNAL";
	case SK_ENOTFOUND: return "ENOTFOUND";
	case SK_ELOCKED: return "ELOCKED";
	case SK_ECONFLICT: return "ECONFLICT";
	}
	return "E?";
}
