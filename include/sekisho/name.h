/* sekisho — making entry and file names safe to write out. */
#ifndef SEKISHO_NAME_H
#define SEKISHO_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/buf.h"

enum {
	SK_NAME_CHANGED_CONTROL = 1 << 0, /* C0/C1 control characters removed */
	SK_NAME_CHANGED_BIDI = 1 << 1,    /* RTLO and other bidi/format controls removed */
	SK_NAME_CHANGED_PATH = 1 << 2,    /* "..", absolute path, drive letter, backslash */
	SK_NAME_CHANGED_INVALID = 1 << 3, /* invalid UTF-8 replaced */
};

/* Cleans a UTF-8 relative path (archive entry name or a path below an input folder):
 * drops control and bidi characters, turns '\' into '/', removes leading '/', drive
 * letters, empty and "." components and every ".." component. Writes the result to out
 * (reset first) and returns a mask of SK_NAME_CHANGED_* (0 = unchanged; negative SK_E*
 * on allocation failure). An empty result
 * is replaced by "_". */
int sk_name_clean(const char *name, sk_buf *out);

/* true when s is one plain mail address LOCAL@DOMAIN (RFC 5322 dot-atom on both sides,
 * ASCII, at most 254 bytes): no display name, no comments, no quoting, no spaces, CR or
 * LF, so that it is safe in a header field and on a command line (never starts with -). */
bool sk_mail_addr_valid(const char *s);

/* true when s is a host name for mail: labels of ASCII letters, digits and '-' (not at
 * a label's start or end, 1-63 bytes) separated by single dots, at least two labels, at
 * most 253 bytes ("city.example.lg.jp"). */
bool sk_mail_domain_valid(const char *s);

/* true when the domain of addr (the part after its last '@'; addr itself when it has
 * none) is one of domains (a NULL-terminated list; NULL: none) or a sub-domain of one,
 * compared without regard to ASCII case: "kikaku@mail.city.example.lg.jp" is in
 * "city.example.lg.jp"; "x@evilcity.example.lg.jp" is not. */
bool sk_mail_domain_internal(const char *addr, const char *const *domains);

/* true when s is valid UTF-8 (n bytes). */
bool sk_utf8_valid(const char *s, size_t n);
/* The UTF-8 of code point cp into out (a surrogate or a value past U+10FFFF as U+FFFD);
 * returns its length (1 to 4). */
size_t sk_utf8_put(uint32_t cp, char out[4]);

#endif
