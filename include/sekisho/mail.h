/* sekisho — mail 無害化: a message from the Internet made text-only for the LGWAN side.
 *
 * sk_mail_sanitize() parses one RFC 5322 message (GMime) and writes a new one:
 *  - CHG_TEXT: text/html and multipart/alternative become one text/plain body (HTML is
 *    converted to readable text with libxml2's HTML parser; scripts, styles and hidden
 *    elements dropped); every text is decoded to UTF-8 (ISO-2022-JP as CP50220, wrong
 *    or missing charset labels guessed) and the body is written as UTF-8.
 *  - REP_LINK: every URL in the text is shown neutralised (hxxps://example[.]jp/…); an
 *    HTML link whose visible text differs from its target shows both.
 *  - DEL_ATTACH (default): attachments removed and listed (name, size, sha256); or
 *    SANITIZE_ATTACH: each attachment through sk_process() and re-attached when delivered.
 *    Password ZIPs (PPAP) are held in quarantine (HOLD_ATTACH). TNEF (winmail.dat) is
 *    opened and its files treated as attachments.
 *  - a notice at the top of the body (Japanese, or English), an external-sender warning,
 *    the header X-Mail-Sanitized, headers kept from an allow-list only.
 * The original is stored in quarantine before anything parses it, and the decision is
 * audited. A message over a limit or that cannot be parsed is held: a short notice is
 * written instead (res->held). */
#ifndef SEKISHO_MAIL_H
#define SEKISHO_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/budget.h"
#include "sekisho/buf.h"
#include "sekisho/core.h"
#include "sekisho/error.h"
#include "sekisho/quarantine.h"
#include "sekisho/report.h"

typedef enum sk_mail_attach {
	SK_MAIL_DEL_ATTACH = 0,   /* remove attachments, list them in the notice */
	SK_MAIL_SANITIZE_ATTACH,  /* disarm each with sk_process(), re-attach when delivered */
} sk_mail_attach;

typedef struct sk_mail_options {
	const char *profile;      /* name reported in the audit ("default") */
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
	/* wall clock of one message (max_seconds, default 60 s: reason limit-time) and nodes
	 * of one HTML body (max_nodes, default 4,000,000: limit-nodes); sk_budget_default().
	 * The message is held when one is passed. The clock starts when the message arrives,
	 * unless the caller started it (deadline_ns set): then that deadline holds. */
	sk_budget budget;
	/* Quarantine and audit (may be NULL); also used for attachments in SANITIZE_ATTACH. */
	sk_quarantine *quarantine;
	sk_audit *audit;
	const sk_options *file_opt; /* options of sk_process() for attachments (NULL: default
				       with the quarantine and audit above) */
	const char *submitter;    /* audit actor ("mail") */
	/* When set (the flow policy denies or holds the route): every message is stored and
	 * held with this reason without being parsed; hold_detail says why (may be NULL). */
	sk_reason hold_reason;
	const char *hold_detail;
} sk_mail_options;

/* Built-in profiles: "default" (DEL_ATTACH, Japanese), "sanitize" (SANITIZE_ATTACH),
 * "en" (DEL_ATTACH, English). Returns SK_EINVAL for an unknown name. */
int sk_mail_options_profile(sk_mail_options *o, const char *name);
void sk_mail_options_default(sk_mail_options *o);

typedef struct sk_mail_result {
	bool held;                /* the message was not delivered: out holds a notice */
	sk_reason reason;         /* when held */
	char detail[160];
	char quarantine_id[24];   /* the stored original ("" without a quarantine) */
	char actions[160];        /* value of X-Mail-Sanitized ("CHG_TEXT DEL_ATTACH …") */
	uint32_t parts;           /* MIME parts seen */
	uint32_t attachments;     /* attachments seen (TNEF contents included) */
	uint32_t removed;         /* removed or blocked */
	uint32_t reattached;      /* delivered after sk_process() */
	uint32_t held_attachments;/* PPAP held in quarantine */
	uint32_t links;           /* links neutralised */
} sk_mail_result;

/* Sanitises msg[0..n) into out (reset first). Returns 0 when out holds a message to
 * deliver: the sanitised one, or a notice when res->held. A negative code (nothing to
 * deliver; out must be discarded) only for failures of the machinery (memory, the
 * quarantine or the audit log): the caller answers with its configured default. */
int sk_mail_sanitize(const sk_mail_options *o, const uint8_t *msg, size_t n, sk_buf *out,
		     sk_mail_result *res, sk_error *err);

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

#endif
