/* sekisho — mail: what the files of src/mail share (the MIME walk of mail.c, the DLP
 * reading of a delivered message in mail_dlp.c). Internal to src/mail and its tests. */
#ifndef SEKISHO_MAIL_INT_H
#define SEKISHO_MAIL_INT_H

#include <stddef.h>
#include <stdint.h>

#include <gmime/gmime.h>

#include "sekisho/buf.h"

/* msg[0..n) parsed by GMime the one way sekisho reads mail (loose RFC 2047 and parameter
 * rules, fallback charsets UTF-8, CP932, EUC-JP, ISO-8859-1); NULL when GMime makes no
 * message of it. broken (may be NULL) gets what GMime reported that makes the message not
 * whole (cut short, a part dropped or readable two ways: mail.h sk_mail_options.whole),
 * NULL when nothing. The caller unrefs the message. */
GMimeMessage *sk_mail_parse(const uint8_t *msg, size_t n, const char **broken);

/* A message as a file holds it made what GMime reads whole: an mbox "From " line first
 * skipped; mixed line ends (CRLF and bare LF) made LF — GMime 3.2.13 takes two bytes off a
 * base64 part whose last line ends in a bare LF before a boundary line ending in CRLF, so
 * its last characters would be lost. *p, *n are moved to the result (in one, reset first,
 * when it was rewritten). Returns 0 or SK_ENOMEM/SK_ELIMIT (one's limit). */
int sk_mail_as_read(const uint8_t **p, size_t *n, sk_buf *one);

/* A whole part's decoded content (transfer encoding undone), or NULL when GMime could not
 * write it out (a part cut short is never taken as whole). Freed with
 * g_byte_array_free(ba, TRUE). */
GByteArray *sk_mail_part_content(GMimePart *p);

/* The charset the first text part under obj declares (not US-ASCII or UTF-8, which say
 * nothing about other 8-bit bytes) into out (n bytes), "" when none: the hint for
 * undeclared 8-bit bytes in headers and names. At most max parts are looked at. */
void sk_mail_first_charset(GMimeObject *obj, uint32_t max, char *out, size_t n);

/* The file name of a part decoded to UTF-8 into nb (reset first): Content-Disposition's
 * filename, else Content-Type's name, as sk_mail_param_decode reads them (raw 8-bit by
 * hint); GMime's reading fn when the raw headers give none (control characters as
 * spaces); empty when the part has no name (or only names longer than nb holds).
 * Returns 0 or SK_ENOMEM (nb empty). */
int sk_mail_part_name(GMimeObject *obj, const char *fn, const char *hint, sk_buf *nb);

#endif
