/* sekisho — data loss prevention: finding 個人番号, 法人番号 and custom patterns in text.
 *
 * The detectors work on UTF-8 text (sk_dlp_scan_input converts Shift_JIS, EUC-JP,
 * ISO-2022-JP and UTF-16 first). A number is reported only when its check digit is valid,
 * it stands alone (not inside a longer digit run, not an amount, date, phone number or
 * decimal), it is not on the deny-list (all one digit, 123456789012 …, configured numbers)
 * and, for 個人番号, it has a context word (個人番号, マイナンバー …) within `window`
 * characters on either side; for 法人番号, a context word (法人番号,
 * 登録番号 …) or the invoice prefix T. In CSV/TSV text a context word in the same column
 * of the first line (the header) counts too. Receipt numbers such as 2024-0401-0001 are
 * written 4-4-4 too, so grouping alone counts only when grouping_is_context is set. ASCII and full-width digits (０-９) are both read.
 *
 * Matches never carry the number in clear: `masked` and `context` have every digit
 * replaced by '*'.
 *
 * An asset marking (SK_DLP_ASSET) names an entry of the asset ledger (電子情報資産管理台帳)
 * in the text: a marking word (資産番号 — so also 情報資産番号 —, "Asset ID", "Asset No",
 * ASCII case ignored, or a configured word), then within the same line at most
 * SK_DLP_ASSET_GAP separators (spaces, full-width spaces, ':' '：' '=' '＝' '#' '＃'), then the
 * id: "AS" (or full-width ＡＳ), a hyphen (any of the hyphens 4-4-4 grouping accepts), 1 to 8
 * digits (ASCII or full-width), not followed by a digit or a Latin letter. The id is not
 * secret: `masked` holds it normalised to ASCII ("AS-0012"); the gate looks it up in the
 * ledger and the item takes that asset's class. */
#ifndef SEKISHO_DLP_H
#define SEKISHO_DLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/buf.h"
#include "sekisho/error.h"
#include "sekisho/io.h"
#include "sekisho/report.h"

typedef enum sk_dlp_kind {
	SK_DLP_MYNUMBER = 0, /* "mynumber": 個人番号 (12 digits) */
	SK_DLP_CORPORATE,    /* "corporate": 法人番号 (13 digits) */
	SK_DLP_PATTERN,      /* a custom regular expression (POSIX ERE) */
	SK_DLP_ASSET,        /* "asset": an information asset's marking (資産番号: AS-0012) */
	SK_DLP__COUNT
} sk_dlp_kind;

typedef struct sk_dlp_pattern {
	const char *id;    /* stable name, reported as the match's rule */
	const char *regex; /* POSIX extended regular expression, matched line by line */
} sk_dlp_pattern;

typedef struct sk_dlp_config {
	bool mynumber;          /* default true */
	bool corporate;         /* default true */
	bool require_context;   /* default true: a number needs a context word (see above) */
	bool grouping_is_context; /* default false: 4-4-4 grouping alone is enough for 個人番号 */
	uint32_t window;        /* characters searched for context words on each side (20; max 100) */
	uint64_t max_input;     /* bytes of text scanned; SK_ELIMIT beyond (default 256 MiB) */
	uint32_t max_matches;   /* matches kept; more set `truncated` (default 10,000) */
	const char *const *deny; /* extra numbers never reported (digits only), may be NULL */
	size_t ndeny;
	const char *const *mynumber_words;  /* extra context words, may be NULL */
	size_t nmynumber_words;
	const char *const *corporate_words; /* extra context words, may be NULL */
	size_t ncorporate_words;
	const sk_dlp_pattern *patterns;
	size_t npatterns;
	bool asset;             /* default true: asset markings (資産番号: AS-0012) */
	const char *const *asset_words; /* extra marking words, may be NULL */
	size_t nasset_words;
} sk_dlp_config;

#define SK_DLP_ASSET_GAP 8     /* separators between a marking word and the id */
#define SK_DLP_ASSET_DIGITS 8  /* digits of an asset id at most */

typedef struct sk_dlp_match {
	sk_dlp_kind kind;
	char rule[64];         /* "mynumber", "corporate" or the pattern id */
	uint64_t offset;       /* byte offset in the UTF-8 text */
	uint32_t length;       /* bytes */
	uint32_t line, column; /* 1-based; the column counts characters */
	bool grouped;          /* written with separators (4-4-4) */
	bool context;          /* a context word (or the T prefix) was near */
	char masked[128];      /* the match, digits replaced by '*' */
	char context_text[256]; /* UTF-8 around the match, digits masked, line breaks as spaces */
} sk_dlp_match;

typedef struct sk_dlp_result {
	sk_dlp_match *v;
	size_t n, cap;
	bool truncated;       /* more than max_matches */
	uint64_t scanned;     /* bytes of UTF-8 text scanned */
	char encoding[32];    /* encoding the input was read as ("UTF-8", "CP932" …) */
} sk_dlp_result;

typedef struct sk_dlp sk_dlp;

void sk_dlp_config_default(sk_dlp_config *c);
/* Compiles the configuration (patterns, words). SK_EFORMAT when a pattern does not compile
 * (err names it). The config's strings are copied. */
int sk_dlp_new(const sk_dlp_config *c, sk_dlp **out, sk_error *err);
void sk_dlp_free(sk_dlp *d);

void sk_dlp_result_init(sk_dlp_result *r);
void sk_dlp_result_free(sk_dlp_result *r);

/* Scans UTF-8 text (n bytes, NUL not needed). Matches are appended to r in offset order.
 * SK_ELIMIT when n is over max_input. */
int sk_dlp_scan_text(const sk_dlp *d, const char *text, size_t n, sk_dlp_result *r,
		     sk_error *err);

/* Scans an input in chunks (constant memory for UTF-8; converting other encodings on the
 * way). SK_ELIMIT when the text is over max_input; SK_EFORMAT when the encoding cannot be
 * converted. */
int sk_dlp_scan_input(const sk_dlp *d, const sk_input *in, sk_dlp_result *r, sk_error *err);

/* Check digits. digits are ASCII '0'-'9' (12 resp. 13 of them). */
bool sk_dlp_mynumber_valid(const char *digits);
bool sk_dlp_corporate_valid(const char *digits);
/* The check digit (0-9) for an 11-digit 個人番号 body / a 12-digit 法人番号 base;
 * SK_EINVAL when one of the characters is not a digit. */
int sk_dlp_mynumber_check(const char *body11);
int sk_dlp_corporate_check(const char *base12);

#define SK_DLP_REPORT_EACH 20 /* findings of a kind listed one by one in a report */

/* Scans in (as sk_dlp_scan_input) and adds to report one "noted" entry per match of a
 * kind in the mask kinds (bit 1 << sk_dlp_kind): what sk_dlp_what(kind), where
 * "WHERE line L:C", detail the masked match (a pattern's id first; an asset marking's
 * id, e.g. "AS-0012") — for the first SK_DLP_REPORT_EACH matches of a kind; the others of
 * that kind (never asset markings: each is listed) are one entry with where WHERE, detail
 * "(more)" and their number as its count; and an entry
 * "dlp-truncated" when more matches were found than max_matches keeps. The engine calls
 * it on the text it delivers; the gate decides from the entries. */
int sk_dlp_report(const sk_dlp *d, unsigned kinds, const sk_input *in, const char *where,
		  sk_report *report, sk_error *err);
/* "mynumber", "corporate-number", "dlp-pattern", "asset-marking": the report entry of a
 * match. */
const char *sk_dlp_what(sk_dlp_kind k);

/* The compiled detectors as bytes (appended to out) and back, for a sandboxed worker.
 * Decoding is strict (SK_EFORMAT for anything malformed) and compiles anew. */
int sk_dlp_encode(const sk_dlp *d, sk_buf *out);
int sk_dlp_decode(const uint8_t *p, size_t n, sk_dlp **out, sk_error *err);

const char *sk_dlp_kind_code(sk_dlp_kind k); /* "mynumber", "corporate", "pattern", "asset" */
const char *sk_dlp_kind_text(sk_dlp_kind k, int lang_en); /* 個人番号 / My Number … */

#endif
