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
 *    files treated as attachments. A forwarded message attached (message/rfc822) is shown
 *    in the text (DEL_ATTACH) or rebuilt as mail under the same budget and re-attached
 *    (SANITIZE_ATTACH).
 *  - charsets: declared ones honoured, undeclared 8-bit header bytes detected with the
 *    body's charset as a hint, encoded words and RFC 2231 names decoded (ISO-2022-JP as
 *    CP50220) and written anew as clean 7-bit UTF-8 encoded words (docs/mail.md).
 *  - DLP (when o->dlp is set): the delivered text (the body and every delivered text
 *    attachment, OOXML document or message: sk_cdr_dlp) is scanned; findings are "noted"
 *    report entries for the gate to decide on.
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
	/* the message is an item of the registry (an .eml file: the eml module) at this
	 * depth: its attachments are at depth + 1 of the item's budget (0 for mail) */
	uint32_t depth;
	/* the message must be whole (an .eml file): one GMime finds cut short or broken —
	 * a multipart without its closing boundary or without parts, a part without header
	 * or content, an invalid header name, nesting past GMime's limit — is held
	 * malformed rather than rebuilt from what could be read (false for mail: SMTP
	 * delivered it whole) */
	bool whole;
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
/* Decodes text declared in the charset label (may be NULL) to UTF-8. A declared charset is
 * honoured (read as its usual superset: sk_charset_label_iconv; ISO-2022-JP as CP50220);
 * bytes it cannot read become U+FFFD, unless a detected multi-byte charset reads every
 * byte (mislabelled text). A missing, 7-bit or UTF-8 label that does not fit the bytes, or
 * a label iconv does not know: detected (charset.h). Appends to out. */
int sk_mail_decode_text(const uint8_t *p, size_t n, const char *label, sk_buf *out,
			sk_error *err);
/* Decodes undeclared text (raw 8-bit header bytes, TNEF names) to UTF-8, appended to out:
 * ASCII and valid UTF-8 unchanged, raw ISO-2022-JP escapes read as CP50220; else, in
 * order, the first that reads every byte: `hint` (the charset the body declared, may be
 * NULL) when it is multi-byte, a detected multi-byte charset, `hint` when single-byte, a
 * single-byte charset uchardet named; else `hint` or CP932 with U+FFFD for what it cannot
 * read. Never a Latin-1 default. */
int sk_mail_decode_undeclared(const uint8_t *p, size_t n, const char *hint, sk_buf *out,
			      sk_error *err);

/* ---- DLP on a delivered message (src/mail/mail_dlp.c) ---- */

#define SK_MAIL_SNIFF ((size_t)256 << 10) /* bytes of a text sk_mail_is_message looks at */

/* true when the text p[0..n) is an Internet message that a mail reader decodes (an .eml
 * file is plain text to true-type detection): after an optional mbox "From " line it
 * opens with a header block — fields "Name: value" (a name of printable ASCII without
 * ':'), continuation lines starting with a space or a tab — that ends with an empty line
 * (or, as mail readers take it, with the first line that is no field) and names MIME
 * (MIME-Version, Content-Type or Content-Transfer-Encoding) or holds an
 * encoded word ("=?"). Only the first SK_MAIL_SNIFF bytes are looked at: a header block
 * still going on there (n > SK_MAIL_SNIFF) is taken as a message; a text of nothing but
 * fields as one when it names MIME. */
bool sk_mail_is_message(const uint8_t *p, size_t n);

/* DLP on an Internet message p[0..n) that will be delivered (a .msg rebuilt as .eml; an
 * .eml file), read the way a mail reader shows it: the header of the message (and of
 * every message attached in it) as "Name: value" lines, values decoded
 * (sk_mail_header_decode: encoded words, raw 8-bit by the first charset a text part
 * declares), scanned at "WHERE header"; each leaf part's content with its transfer
 * encoding undone, of its true type (sk_detect): text labelled text (text/plain, text/html …) decoded to UTF-8
 * from its charset (sk_mail_decode_text, as the mail channel reads a body) and scanned
 * at "WHERE part P NAME" (P the part's number as IMAP counts it: "1", "2.1"; NAME its
 * file name, when it has one) — and read as a message too when it is one
 * (sk_mail_is_message); any other content handed to sk_cdr_dlp as a file would be (text,
 * an OOXML document, else noted dlp-unscanned), at the same place. Findings are placed
 * "... line L:C" as sk_dlp_report places them.
 * Read under a fresh copy of limits (its clock kept, its counts started at zero): every
 * entity (multipart, attached message, leaf part) counts as an entry, the decoded bytes
 * (contents, texts, headers) as expanded bytes, and nesting as depth — the message's
 * parts are at depth 1, the parts of a multipart inside a part or of an attached message
 * one level deeper; a reading handed on (an attachment that is a message or an OOXML
 * document) gets what is left of the entries and bytes, and of the depth below its part.
 * SK_ELIMIT over a limit (err names the part and the reason); SK_EFORMAT when GMime makes
 * no message of it or cannot write a part out; SK_ENOMEM. The caller blocks the item on
 * any error: it is never delivered unread. */
int sk_mail_dlp(const sk_dlp *d, unsigned kinds, const uint8_t *p, size_t n, const char *where,
		const sk_budget *limits, sk_report *report, sk_error *err);

/* ---- headers (src/mail/mail_header.c) ----
 * Reading what senders write, and writing 7-bit headers that every reader decodes the
 * same way (the .msg converter writes its headers with these too). */

/* A raw header value as received (folded; encoded words; raw 8-bit) decoded to UTF-8,
 * appended to out: folds unfolded, control characters (C0, DEL, C1) as spaces; RFC 2047 encoded words
 * in any charset (ISO-2022-JP as CP50220), adjacent words of one charset joined before
 * decoding (a character split between two words comes out whole), words glued to text or
 * inside a quoted string read too; raw 8-bit runs by sk_mail_decode_undeclared with hint.
 * `phrase`: for an address header, the decoded text of encoded words outside a quoted
 * string is written as a quoted-string when it holds a character special there (so that
 * "=?…?= <a@b>" with a comma in the name stays one address). Returns 0 or SK_ENOMEM/
 * SK_ELIMIT from out. */
int sk_mail_header_decode(const char *raw, size_t n, const char *hint, bool phrase,
			  sk_buf *out);

/* The parameter `param` ("filename", "name") of a raw Content-Disposition or Content-Type
 * value, decoded to UTF-8 (appended to out): RFC 2231 (filename*=charset'lang'%XX…, and
 * continuations filename*0*=…; filename*1=… joined before decoding), a quoted or bare value
 * with encoded words, raw 8-bit by hint. The extended form wins over the plain one.
 * Returns 0, SK_ENOTFOUND when the value has no such parameter, SK_ENOMEM/SK_ELIMIT. */
int sk_mail_param_decode(const char *raw, const char *param, const char *hint, sk_buf *out);

/* Writes the header "Name: value\n" for a UTF-8 value, 7-bit and folded (lines of at most
 * 78 columns where there is whitespace to fold at): printable ASCII words as they are, runs
 * of other words as RFC 2047 encoded words (UTF-8, base64 or Q, at most 64 characters, never
 * splitting a character). From, To, Cc, Bcc, Reply-To, Sender (and Resent-*) are address
 * lists: each display name written as an atom run, a quoted-string or encoded words; an
 * address list that cannot be parsed, or that holds an 8-bit local part (SMTPUTF8, which no
 * 7-bit header can carry), is written as text. Control characters (C0, C1) become
 * spaces. Returns 0 or SK_ENOMEM/SK_ELIMIT from o. */
int sk_mail_header_write(sk_buf *o, const char *name, const char *value);

/* The parameters of an attachment's file name for the Content-Type (`; name="…"`, encoded
 * words for old readers) or, with disposition, the Content-Disposition (`; filename*=
 * UTF-8''…` RFC 2231, with continuations on folded lines): appended to o. A printable
 * ASCII name is written as a quoted-string. */
int sk_mail_filename_param(sk_buf *o, const char *name, bool disposition);

/* ---- TNEF (src/mail/mail_tnef.c) ---- */

typedef struct sk_mail_tnef_file {
	sk_buf name;         /* UTF-8 ("attachment.bin" when the stream names none) */
	const uint8_t *data; /* into the stream */
	size_t len;
} sk_mail_tnef_file;

/* The files attached in a TNEF stream p[0..n) (winmail.dat, application/ms-tnef): each
 * attachment's data (attAttachData, or its PR_ATTACH_DATA_BIN property) and name (its MAPI
 * long file name, UTF-16 or 8-bit, else its title), 8-bit names in the stream's OEM code
 * page, or by hint when it gives none. The whole stream is read and every attribute's
 * checksum verified before anything is returned: SK_EFORMAT when it is not TNEF, is cut
 * or corrupt (nothing is taken from it); SK_ELIMIT over max_files files; SK_ENOMEM. On 0,
 * *files (*nfiles of them, attachments without data left out) is freed with
 * sk_mail_tnef_free. */
int sk_mail_tnef_read(const uint8_t *p, size_t n, const char *hint, size_t max_files,
		      sk_mail_tnef_file **files, size_t *nfiles);
void sk_mail_tnef_free(sk_mail_tnef_file *files, size_t n);

/* ---- writing a new message: the one MIME writer (sk_mail_sanitize's, and the Outlook .msg
 * module's, src/cdr/msg.c); headers with sk_mail_header_write ---- */

/* A text/plain part: its header (charset) and the text p[0..n) in base64 lines. */
int sk_mail_put_text(sk_buf *o, const char *charset, const uint8_t *p, size_t n);
/* An attachment part: Content-Type ctype and Content-Disposition attachment with the file
 * name (sk_mail_filename_param: encoded words in the type, RFC 2231 in the disposition;
 * none in a message's type), the bytes in base64 lines (a 7-bit message/rfc822 as it is). */
int sk_mail_put_file(sk_buf *o, const char *name, const char *ctype, const uint8_t *p, size_t n);

#endif
