/* sekisho — mail 無害化: a message from the Internet made text-only for the LGWAN side.
 *
 * The engine part of mail (no quarantine, no audit, no SQLite, no sockets: it runs in a
 * sandboxed worker). sk_mail_sanitize() parses one RFC 5322 message (GMime) and writes a
 * new one:
 *  - CHG_TEXT: text/html and multipart/alternative become one text/plain body (HTML is
 *    converted to readable text with libxml2's HTML parser; scripts, styles and hidden
 *    elements dropped); every text is decoded to UTF-8 (ISO-2022-JP as CP50220, wrong
 *    or missing charset labels guessed) and the body is written as UTF-8.
 *  - REP_LINK: every URL in the text is shown neutralised (hxxps://example[.]jp/…); an
 *    HTML link whose visible text differs from its target shows both.
 *  - DEL_ATTACH (default): attachments removed and listed (name, size, sha256); or
 *    SANITIZE_ATTACH: each attachment through the registry (sk_cdr_child) under the
 *    message's one budget, re-attached when delivered. Password ZIPs (PPAP) are not
 *    delivered (HOLD_ATTACH): the notice names them with the id of the message's stored
 *    original, from which an operator releases them. TNEF (winmail.dat) is opened and its
 *    files treated as attachments.
 *  - DLP (when o->dlp is set): the delivered text (the body and every delivered text
 *    attachment) is scanned; findings are "noted" report entries for the gate to decide on.
 *  - a notice at the top of the body (Japanese, or English), an external-sender warning,
 *    the header X-Mail-Sanitized, headers kept from an allow-list only.
 * A message over a limit or that cannot be parsed is held: res->held, the report blocked
 * with the reason, nothing in out. The gate (core.h: sk_gate_mail) stores the original
 * first, decides the flow, runs this (in a worker), records one audit record, and writes
 * the notice of a held message with sk_mail_notice_held(). */
#ifndef SEKISHO_MAIL_H
#define SEKISHO_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/budget.h"
#include "sekisho/buf.h"
#include "sekisho/cdr.h"
#include "sekisho/dlp.h"
#include "sekisho/error.h"
#include "sekisho/report.h"

typedef enum sk_mail_attach {
	SK_MAIL_DEL_ATTACH = 0,   /* remove attachments, list them in the notice */
	SK_MAIL_SANITIZE_ATTACH,  /* disarm each through the registry, re-attach when delivered */
} sk_mail_attach;

typedef struct sk_mail_options {
	const char *profile;      /* name of the mail profile ("default") */
	sk_lang lang;             /* language of the notice */
	sk_mail_attach attach;
	bool rep_link;            /* neutralise links (default on) */
	/* The external-sender warning is shown unless the From domain is one of these
	 * (or a sub-domain); NULL-terminated, may be NULL (then always shown). */
	const char *const *internal_domains;
	bool warn_external;       /* default on */
	/* limits */
	uint64_t max_size;        /* bytes of the message (default 64 MiB) */
	uint32_t max_parts;       /* MIME parts (default 500) */
	uint32_t max_depth;       /* nesting of multiparts and messages (default 10) */
	uint64_t max_header;      /* bytes of the top-level header block (default 256 KiB) */
	uint64_t max_text;        /* bytes of the text body produced (default 16 MiB) */
	/* SANITIZE_ATTACH: the file profile attachments are rebuilt with (NULL: default) */
	const sk_profile *file_profile;
	/* the id of the message's stored original, quoted in the notice (NULL/"": none) */
	const char *original_id;
	/* DLP detectors run on the delivered text (NULL: none), reporting the kinds in the
	 * mask dlp_kinds (bit 1 << sk_dlp_kind) */
	const sk_dlp *dlp;
	unsigned dlp_kinds;
	/* SANITIZE_ATTACH: legacy formats among the attachments converted by this hook
	 * (cdr.h, engine.h: sk_engine_job.convert); NULL: blocked unsupported-* */
	sk_convert_fn convert;
	void *convert_ctx;
} sk_mail_options;

#define SK_MAIL_IDS_MAX 33 /* internal domains carried to a worker */

/* Built-in profiles: "default" (DEL_ATTACH, Japanese), "sanitize" (SANITIZE_ATTACH),
 * "en" (DEL_ATTACH, English). Returns SK_EINVAL for an unknown name. */
int sk_mail_options_profile(sk_mail_options *o, const char *name);
void sk_mail_options_default(sk_mail_options *o);

typedef struct sk_mail_result {
	bool held;                /* the message is not delivered (the report says why) */
	sk_reason reason;         /* when held */
	char detail[160];
	char quarantine_id[24];   /* the stored original ("" without a quarantine; the gate) */
	char actions[160];        /* value of X-Mail-Sanitized ("CHG_TEXT DEL_ATTACH …") */
	uint32_t parts;           /* MIME parts seen */
	uint32_t attachments;     /* attachments seen (TNEF contents included) */
	uint32_t removed;         /* removed or blocked */
	uint32_t reattached;      /* delivered after the registry rebuilt them */
	uint32_t held_attachments;/* PPAP: not delivered, released from the original */
	uint32_t links;           /* links neutralised */
} sk_mail_result;

/* Sanitises msg[0..n) into out (reset first) under budget (shared by every part and
 * attachment; NULL: a default one started here; the caller starts the clock). report
 * (initialised by the caller) gets the actions of the attachments, the DLP findings, and
 * its verdict: sanitized, or blocked with the reason of a held message. Returns 0 when
 * a verdict was reached: out holds the sanitised message, or nothing when res->held.
 * A negative code (out reset) only for failures of the machinery (memory). */
int sk_mail_sanitize(const sk_mail_options *o, sk_budget *budget, const uint8_t *msg, size_t n,
		     sk_buf *out, sk_mail_result *res, sk_report *report, sk_error *err);

/* The first password-ZIP (PPAP) attachment of msg[0..n) — the one the notice of a
 * sanitised message lists as held —, copied into zip (reset first), found by the same
 * walk as sk_mail_sanitize under budget (TNEF and attached messages opened). Returns 0
 * with zip filled; 0 with *why set (zip empty) when the message is over a limit or
 * cannot be parsed; SK_ENOTFOUND when it has no password ZIP; other negative codes for
 * failures of the machinery. For unlocking in a worker (engine.h). */
int sk_mail_ppap_find(const uint8_t *msg, size_t n, sk_budget *budget, sk_buf *zip,
		      sk_reason *why, sk_error *err);

/* GMime's global set-up; idempotent, thread-safe (sk_engine_init calls it). */
void sk_mail_init(void);

/* The short message delivered instead of a held one (out reset first): the reason, and
 * the id of the stored original when qid is set. */
int sk_mail_notice_held(const sk_mail_options *o, sk_reason reason, const char *qid,
			sk_buf *out);

/* Neutralises the URLs in UTF-8 text (http, https, ftp, www.): "hxxps://example[.]jp/…".
 * Appends to out; *count gets the number of URLs (may be NULL). */
int sk_mail_neutralize_text(const char *s, size_t n, sk_buf *out, uint32_t *count);
/* Readable text of an HTML document (UTF-8 in, UTF-8 out), parsed under b's node limit
 * and clock (b may be NULL: none). Returns 0; SK_EBLOCKED with *why set
 * (SK_REASON_LIMIT_NODES, SK_REASON_LIMIT_TIME); SK_ENOMEM when anything of the document
 * may be missing (an allocation failed); SK_ELIMIT over 2 GiB. */
int sk_mail_html_text(const char *html, size_t n, const sk_budget *b, sk_buf *out,
		      sk_reason *why, sk_error *err);
/* Decodes text in the charset label (may be NULL) to UTF-8, guessing when the label is
 * missing or wrong; ISO-2022-JP is read as CP50220. Appends to out. */
int sk_mail_decode_text(const uint8_t *p, size_t n, const char *label, sk_buf *out,
			sk_error *err);

/* ---- writing a new message: the one MIME writer (sk_mail_sanitize's, and the Outlook .msg
 * module's, src/cdr/msg.c) ---- */

/* "Name: value" with value (UTF-8; CR, LF and TAB read as spaces) as RFC 2047 encoded
 * words where it is not ASCII; From, To, Cc, Reply-To and Sender parsed as address lists
 * (display names encoded, addresses kept); folded before a space past 76 columns. */
int sk_mail_put_header(sk_buf *o, const char *name, const char *value);
/* A text/plain part: its header (charset) and the text p[0..n) in base64 lines. */
int sk_mail_put_text(sk_buf *o, const char *charset, const uint8_t *p, size_t n);
/* An attachment part: Content-Type ctype, Content-Disposition attachment with the UTF-8
 * file name in RFC 2231 form, the bytes in base64 lines (a 7-bit message/rfc822 as it is). */
int sk_mail_put_file(sk_buf *o, const char *name, const char *ctype, const uint8_t *p, size_t n);

#endif
