/* sekisho — error codes and the error detail a caller passes in. */
#ifndef SEKISHO_ERROR_H
#define SEKISHO_ERROR_H

#include <stddef.h>

/* Every library function returns 0 or one of these (negative). */
enum {
	SK_OK = 0,
	SK_EINVAL = -1,    /* bad argument */
	SK_ENOMEM = -2,    /* allocation failed */
	SK_EIO = -3,       /* read/write/open failed (errno in sk_error.sys) */
	SK_ELIMIT = -4,    /* a budget or buffer limit was reached */
	SK_EFORMAT = -5,   /* input is not what it claims / malformed */
	SK_EBLOCKED = -6,  /* the item is blocked; the reason is in the report */
	SK_EINTERNAL = -7, /* a bug or an unexpected library failure */
	SK_ENOTFOUND = -8, /* no such object */
	SK_ELOCKED = -9,   /* refused: too many failed attempts (HTTP 429) */
	SK_ECONFLICT = -10, /* the object changed meanwhile (HTTP 409) */
};

typedef struct sk_error {
	int code;       /* one of SK_E* (0 when unset) */
	int sys;        /* errno when code is SK_EIO, else 0 */
	char msg[256];  /* English, for logs and developers */
} sk_error;

/* Records code and a printf-style message in err (err may be NULL) and returns code,
 * so that callers can write `return sk_error_set(err, SK_EIO, "open %s", path);`. */
int sk_error_set(sk_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Same, also recording errno (captured on entry). */
int sk_error_sys(sk_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

void sk_error_clear(sk_error *err);

/* Static English name of a code, e.g. "EIO". */
const char *sk_strerror(int code);

#endif
