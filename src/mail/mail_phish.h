/* sekisho — mail: phishing tells (src/mail/mail_phish.c). Internal to src/mail (and its
 * tests and fuzz harness).
 *
 *  - a link whose visible text is a URL or a domain that is not its target's (registrable
 *    domains compared) is shown with a warning after "text <target>" and counted;
 *  - look-alikes of the municipality's own domains (sk_mail_options.internal_domains) in
 *    From, Reply-To and link targets: IDN homographs (punycode decoded, confusable
 *    characters mapped to their Latin skeleton), one-character edits, lg.jp imitations;
 *  - SPF/DKIM/DMARC failures from the receiving MTA's Authentication-Results (RFC 8601).
 * The notice names them (Japanese, or English); the report gets "noted" entries
 * (link-mismatch, lookalike-domain, auth-fail) that the audit record carries.
 * docs/mail.md: "Phishing tells / フィッシングの兆候". */
#ifndef SEKISHO_MAIL_PHISH_H
#define SEKISHO_MAIL_PHISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/mail.h"

/* ---- links whose text and target differ ---- */

/* true when the visible text t[0..tl) of a link is a URL, an e-mail address or a bare
 * domain whose registrable domain (or, for an address, domain) is not the one of href
 * (an http, https, ftp or mailto target). Scheme, "www.", letter case, a trailing dot,
 * and IDN Unicode against its punycode are no difference. Text that is no URL or domain
 * ("こちら", "click here") is never a mismatch. */
bool sk_mail_link_mismatch(const char *t, size_t tl, const char *href);
/* The warning written after such a link's "text <target>". */
const char *sk_mail_link_warning(bool en);

/* In plain text (a text/plain alternative, or what the HTML walk wrote) every
 * "word <target>" — as mailers write a link in a text alternative, "text <https://…>" —
 * whose word is a URL, address or domain not the target's (sk_mail_link_mismatch): the
 * warning written after it (unless there already) and counted in ph->mismatch. Returns 0
 * or SK_ENOMEM/SK_ELIMIT (text unchanged). */
struct sk_mail_phish;
int sk_mail_phish_mark(struct sk_mail_phish *ph, bool en, sk_buf *text);

/* sk_mail_html_text with the link warnings in the notice's language, counted in
 * *mismatched (may be NULL). */
int sk_mail_html_links(const char *html, size_t n, const sk_budget *b, bool en,
		       uint32_t *mismatched, sk_buf *out, sk_reason *why, sk_error *err);

/* ---- look-alike domains ---- */

typedef enum sk_mail_lookalike {
	SK_MAIL_LOOK_NONE = 0,
	SK_MAIL_LOOK_HOMOGRAPH, /* IDN: confusable letters spell an internal domain */
	SK_MAIL_LOOK_EDIT,      /* one character inserted, deleted, replaced or swapped */
	SK_MAIL_LOOK_SUFFIX,    /* the internal name with its suffix imitated (lg-jp.com …) */
} sk_mail_lookalike;

#define SK_MAIL_DOMAIN_MAX 512 /* bytes of a domain looked at (longer: not checked) */

/* Whether domain d[0..n) (ASCII, punycode or UTF-8; letter case free) imitates one of
 * internal (NULL-terminated, may be NULL): *real gets that internal domain. An internal
 * domain itself or one of its sub-domains is none. */
sk_mail_lookalike sk_mail_domain_lookalike(const char *d, size_t n, const char *const *internal,
					   const char **real);
/* The Latin skeleton of UTF-8 domain d[0..n) (punycode labels decoded, lower case,
 * confusable letters mapped: docs/mail.md) into out (NUL-terminated). false when d is
 * not valid UTF-8 or too long. */
bool sk_mail_domain_skeleton(const char *d, size_t n, char *out, size_t osz);

/* ---- Authentication-Results (RFC 8601) ---- */

typedef enum sk_mail_auth_method {
	SK_MAIL_AUTH_SPF = 0,
	SK_MAIL_AUTH_DKIM,
	SK_MAIL_AUTH_DMARC,
	SK_MAIL_AUTH__COUNT
} sk_mail_auth_method;

/* results in the order of their weight (the worst of a method is shown) */
typedef enum sk_mail_auth_result {
	SK_MAIL_AR_ABSENT = 0, /* not reported */
	SK_MAIL_AR_PASS,
	SK_MAIL_AR_NONE,
	SK_MAIL_AR_NEUTRAL,
	SK_MAIL_AR_POLICY,
	SK_MAIL_AR_TEMPERROR,
	SK_MAIL_AR_SOFTFAIL,
	SK_MAIL_AR_PERMERROR,
	SK_MAIL_AR_FAIL,
} sk_mail_auth_result;

#define SK_MAIL_AR_VALUE_MAX 8192  /* bytes of one header value parsed (longer: ignored) */
#define SK_MAIL_AR_RESULTS_MAX 32  /* results read from one header */
#define SK_MAIL_AR_HEADERS_MAX 16  /* headers read from one message */
#define SK_MAIL_AR_COMMENT_DEPTH 8 /* nesting of comments */

typedef struct sk_mail_authres {
	char id[128];            /* authserv-id (lower case) */
	uint32_t n;              /* results of spf, dkim, dmarc read (others skipped) */
	struct {
		sk_mail_auth_method method;
		sk_mail_auth_result result;
	} r[SK_MAIL_AR_RESULTS_MAX];
} sk_mail_authres;

/* Parses one Authentication-Results value v[0..n) (folded, comments, quoted strings).
 * Returns 0; SK_EFORMAT when it is malformed or over a limit above (a header nothing is
 * taken from). */
int sk_mail_authres_parse(const char *v, size_t n, sk_mail_authres *a);

/* ---- a message's tells ---- */

#define SK_MAIL_LOOK_SHOWN 8 /* distinct look-alikes named in the notice */

typedef struct sk_mail_look {
	char domain[256];        /* as found (UTF-8, shortened) */
	const char *real;        /* the internal domain it imitates */
	sk_mail_lookalike kind;
	unsigned where;          /* 1: From, 2: Reply-To, 4: a link */
} sk_mail_look;

typedef struct sk_mail_phish {
	uint32_t mismatch;       /* links whose text and target differ (the HTML walk) */
	sk_mail_look look[SK_MAIL_LOOK_SHOWN];
	uint32_t nlook;          /* distinct look-alikes named (at most SK_MAIL_LOOK_SHOWN) */
	uint32_t looks;          /* every look-alike seen (with repeats and those not named) */
	sk_mail_auth_result auth[SK_MAIL_AUTH__COUNT]; /* failures shown (ABSENT: none) */
	bool auth_seen;          /* an Authentication-Results header was taken */
} sk_mail_phish;

/* Marks the links of the text body (before neutralising) whose text shows another domain
 * (sk_mail_phish_mark, in the notice's language: en), looks at the message's headers
 * (From, Reply-To, Authentication-Results) and the hosts of body's links for o's internal
 * domains, and adds the "noted" entries to report (where: "" for the message, else its
 * locator). Returns 0 or SK_ENOMEM/SK_ELIMIT. msg is a GMimeMessage. */
int sk_mail_phish_check(sk_mail_phish *ph, const sk_mail_options *o, bool en, void *msg,
			sk_buf *body, const char *where, sk_report *report);
/* The notice's lines of ph (nothing when there is no tell). */
int sk_mail_phish_notice(const sk_mail_phish *ph, bool en, sk_buf *out);

#endif
