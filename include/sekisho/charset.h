/* sekisho — charset: the one detector of text encodings and the one converter to UTF-8
 * (base layer; uchardet + iconv). Used by the text module, DLP and mail text.
 *
 * Detection, on a sample of the text (the caller chooses its size; 64 KiB is plenty):
 *  1. a BOM: UTF-32LE/BE, UTF-8, UTF-16LE/BE (bom = its length);
 *  2. UTF-16LE/BE without a BOM, by the NUL pattern: NUL in at least a quarter of the
 *     high bytes of the 16-bit units and (almost) never in the low bytes, and the sample
 *     decodes as that encoding;
 *  3. ISO-2022-JP: a G0 designation (ESC ( B/J/H/I, ESC $ @/B/A, ESC $ ( C/D/O/P/Q) before
 *     the first byte with the high bit set;
 *  4. ASCII (no high byte, no such escape) and UTF-8 (valid; a character cut by the end of
 *     the sample is allowed when `cut` says the sample is not the whole text);
 *  5. uchardet: Shift_JIS/CP932 → CP932, EUC-JP → EUC-JP, Big5/GBK/GB18030/UHC/EUC-TW →
 *     DBCS, ISO-2022-JP, UTF-16, UTF-8; any other name → 8BIT;
 *  6. when uchardet says nothing or a single-byte charset: CP932 if the sample decodes as
 *     CP932 (uchardet does not know the NEC/IBM extensions such as ① and ㈱), else EUC-JP
 *     if it decodes as EUC-JP-MS, else 8BIT.
 *
 * iconv names that read each best (sk_charset_iconv_name): UTF-8, UTF-16LE/BE, UTF-32LE/BE,
 * CP932 (Shift_JIS with the NEC/IBM extensions), EUC-JP-MS, and for ISO-2022-JP the CP50220
 * reading (NEC row 13, NEC-selected IBM rows, half-width katakana by ESC ( I or SO/SI),
 * which glibc lacks: sk_charset_conv rewrites it to CP932 bytes and reads those. */
#ifndef SEKISHO_CHARSET_H
#define SEKISHO_CHARSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/buf.h"
#include "sekisho/error.h"

typedef enum sk_charset {
	SK_CHARSET_ASCII = 0,  /* 7-bit, no ISO-2022-JP escape */
	SK_CHARSET_UTF8,
	SK_CHARSET_UTF16LE,
	SK_CHARSET_UTF16BE,
	SK_CHARSET_UTF32LE,
	SK_CHARSET_UTF32BE,
	SK_CHARSET_ISO2022JP,
	SK_CHARSET_CP932,      /* Shift_JIS, Windows-31J */
	SK_CHARSET_EUCJP,
	SK_CHARSET_DBCS,       /* Big5, GBK/GB18030, UHC, EUC-TW: name in `detected` */
	SK_CHARSET_8BIT,       /* another or an unknown 8-bit encoding: name (if any) in `detected` */
} sk_charset;

typedef struct sk_charset_guess {
	sk_charset cs;
	size_t bom;          /* bytes of the byte-order mark at the start (0 when none) */
	char detected[32];   /* what uchardet said, when it was asked ("" otherwise) */
} sk_charset_guess;

/* Detects the encoding of the sample p[0..n). `cut`: the sample is a prefix of a longer
 * text (a character cut at its end is not held against UTF-8/CP932/EUC-JP). Always
 * succeeds (n == 0 is ASCII); g is filled in. */
void sk_charset_detect(const uint8_t *p, size_t n, bool cut, sk_charset_guess *g);

/* For a caller that looks past the sample of a long 7-bit text: the length of the 7-bit
 * prefix of p[0..n) (the index of the first byte with the high bit set, n when none), and
 * *iso2022jp set when an ISO-2022-JP designation stands in that prefix (rule 3). */
size_t sk_charset_ascii_prefix(const uint8_t *p, size_t n, bool *iso2022jp);

/* Rules 4 to 6 alone (no BOM, no UTF-16 pattern, no escape): the sample holds a byte with
 * the high bit set. */
void sk_charset_detect_8bit(const uint8_t *p, size_t n, bool cut, sk_charset_guess *g);

/* The iconv name that reads the charset best ("UTF-8", "CP932", "EUC-JP-MS", "CP50220"
 * for ISO-2022-JP, "UTF-16LE", …). For DBCS and 8BIT: g->detected when uchardet named
 * one, else "CP932" (in Japanese offices the likeliest legacy encoding). */
const char *sk_charset_iconv_name(const sk_charset_guess *g);

/* Maps a MIME/IANA label ("Shift_JIS", "x-sjis", "iso-2022-jp", "euc-jp", "utf-8",
 * "us-ascii", …) to the charset it names; SK_CHARSET_8BIT (name not recognised) when it is
 * none of the Japanese, UTF or ASCII labels. */
sk_charset sk_charset_from_label(const char *label);

/* The iconv name that reads text declared with the MIME label best: the Japanese labels
 * as sk_charset_iconv_name reads them (Shift_JIS → CP932, EUC-JP → EUC-JP-MS, ISO-2022-JP →
 * CP50220), and the superset a sender's program most likely wrote for the others (GB2312/
 * GBK → GB18030, EUC-KR/KS_C_5601-1987 → CP949, ISO-8859-1/US-ASCII → WINDOWS-1252,
 * TIS-620 → CP874); any other label as it is (iconv may not know it). NULL for a NULL or
 * empty label. *multibyte (may be NULL): the charset is a CJK or UTF encoding, whose
 * multi-byte sequences a text in another charset seldom forms (single-byte charsets read
 * any bytes, so reading cleanly says nothing for them; unknown labels count as single-byte). */
const char *sk_charset_label_iconv(const char *label, bool *multibyte);

/* A streaming conversion to UTF-8. `from` is an iconv name or "CP50220"/"ISO-2022-JP"
 * (read with the CP50220 extensions); "UTF-8" is checked by us (RFC 3629: no overlong
 * forms, surrogates or code points past U+10FFFF, which glibc's iconv lets through), so
 * that the output is always valid UTF-8. Invalid bytes become U+FFFD (counted in *bad of
 * sk_charset_conv_feed). */
typedef struct sk_charset_conv sk_charset_conv;

/* SK_EINVAL when iconv does not know `from`; SK_ENOMEM. */
int sk_charset_conv_open(sk_charset_conv **c, const char *from, sk_error *err);
/* Converts p[0..n) and appends the UTF-8 to out. A character cut at the end of p is kept
 * for the next call unless `final`; `final` also flushes the converter's state. *bad (may be
 * NULL) gets the number of bytes replaced by U+FFFD in this call. SK_ELIMIT/SK_ENOMEM from
 * out (out is then as it was before the call's last append). */
int sk_charset_conv_feed(sk_charset_conv *c, const uint8_t *p, size_t n, bool final, sk_buf *out,
			 size_t *bad, sk_error *err);
void sk_charset_conv_close(sk_charset_conv *c);

/* One-shot: the whole of p[0..n) from `from` to UTF-8, appended to out. */
int sk_charset_to_utf8(const char *from, const uint8_t *p, size_t n, sk_buf *out, size_t *bad,
		       sk_error *err);

/* Does iconv read p[0..n) as `from` without an invalid byte (a character cut by the end is
 * allowed when `cut`)? */
bool sk_charset_decodes(const char *from, const uint8_t *p, size_t n, bool cut);

#endif
