/* sekisho — verdicts, reasons and the report of what was done to an item.
 *
 * Codes (verdict, reason, action, what) are stable English identifiers used in JSON,
 * the audit log and the API; sk_*_text() gives the user-facing Japanese or English. */
#ifndef SEKISHO_REPORT_H
#define SEKISHO_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sk_lang { SK_LANG_JA = 0, SK_LANG_EN = 1 } sk_lang;

typedef enum sk_verdict {
	SK_VERDICT_CLEAN = 0,  /* nothing to remove; output rebuilt */
	SK_VERDICT_SANITIZED,  /* something removed or neutralised */
	SK_VERDICT_BLOCKED,    /* not delivered; see reason */
} sk_verdict;

/* Why an item (or a nested entry) was blocked. Keep in step with the table in report.c. */
typedef enum sk_reason {
	SK_REASON_NONE = 0,
	SK_REASON_ENCRYPTED,        /* "encrypted" */
	SK_REASON_EXECUTABLE,       /* "executable" */
	SK_REASON_UNKNOWN_TYPE,     /* "unknown-type" */
	SK_REASON_MALFORMED,        /* "malformed" */
	SK_REASON_LIMIT_DEPTH,      /* "limit-depth" */
	SK_REASON_LIMIT_SIZE,       /* "limit-size" */
	SK_REASON_LIMIT_ENTRIES,    /* "limit-entries" */
	SK_REASON_LIMIT_RATIO,      /* "limit-ratio" */
	SK_REASON_LIMIT_PIXELS,     /* "limit-pixels" */
	SK_REASON_UNSAFE_NAME,      /* "unsafe-name" */
	SK_REASON_MALWARE,          /* "malware" */
	SK_REASON_SCAN_UNAVAILABLE, /* "scan-unavailable" */
	SK_REASON_UNSUPPORTED_LEGACY_OFFICE, /* "unsupported-legacy-office" */
	SK_REASON_UNSUPPORTED_RTF,  /* "unsupported-rtf" */
	SK_REASON_UNSUPPORTED_ODF,  /* "unsupported-odf" */
	SK_REASON_INTERNAL,         /* "internal-error" */
	SK_REASON_POLICY_DENY,      /* "policy-deny": the flow policy denies this route */
	SK_REASON_HELD,             /* "held": waits for approval (flow, class or DLP hold) */
	SK_REASON_DLP,              /* "dlp": a DLP rule blocks the content */
	SK_REASON_LIMIT_TIME,       /* "limit-time": the item's wall-clock limit passed */
	SK_REASON_LIMIT_NODES,      /* "limit-nodes": too many XML/HTML nodes in one part */
	SK_REASON_WORKER_CRASH,     /* "worker-crash": the sandboxed worker died or answered badly */
	SK_REASON_INTERRUPTED,      /* "interrupted": processing was cut off (crash, restart) */
	SK_REASON_LIMIT_PAGES,      /* "limit-pages": more pages than 画像化 renders (render.h) */
	SK_REASON__COUNT
} sk_reason;

/* A nested entry blocked for a "fatal" reason blocks its whole container too
 * (limits, encryption, malware, internal errors); others only drop the entry. */
bool sk_reason_is_fatal(sk_reason r);

typedef enum sk_action {
	SK_ACTION_REMOVED = 0,  /* "removed" */
	SK_ACTION_CONVERTED,    /* "converted" */
	SK_ACTION_NEUTRALIZED,  /* "neutralized" */
	SK_ACTION_RENAMED,      /* "renamed" */
	SK_ACTION_REPAIRED,     /* "repaired" */
	SK_ACTION_NOTED,        /* "noted": reported, output unchanged by it */
	SK_ACTION__COUNT
} sk_action;

typedef struct sk_report_entry {
	sk_action action;
	char *what;     /* stable code, e.g. "exif", "formula", "entry" (see report.c table) */
	char *where;    /* locator inside the item: "dir/a.png", "a.csv:line 3", or "" */
	char *detail;   /* optional: the reason code of a dropped entry, a name …; may be NULL */
	uint64_t count; /* how many times (aggregated actions), at least 1 */
} sk_report_entry;

typedef struct sk_report {
	sk_report_entry *v;
	size_t n, cap;
	sk_verdict verdict;
	sk_reason reason;     /* when blocked */
	char *reason_where;   /* where the blocking reason was found, may be NULL */
	char *reason_detail;  /* e.g. a signature name; may be NULL */
	char out_ext[16];     /* set when the output must carry another extension ("docx") */
} sk_report;

void sk_report_init(sk_report *r);
void sk_report_free(sk_report *r);
int sk_report_add(sk_report *r, sk_action a, const char *what, const char *where,
		  const char *detail, uint64_t count);
/* Drop entries past n (roll back a nested item's actions). */
void sk_report_truncate(sk_report *r, size_t n);
/* Mark blocked (first reason wins). */
int sk_report_block(sk_report *r, sk_reason reason, const char *where, const char *detail);
/* true when any entry changed the output (anything but SK_ACTION_NOTED). */
bool sk_report_modified(const sk_report *r);
/* Sets verdict from the entries unless already blocked. */
void sk_report_finish(sk_report *r);

const char *sk_verdict_code(sk_verdict v);
const char *sk_verdict_text(sk_verdict v, sk_lang lang);
const char *sk_reason_code(sk_reason r);
const char *sk_reason_text(sk_reason r, sk_lang lang);
/* The reason whose code is s, or SK_REASON_NONE. */
sk_reason sk_reason_from_code(const char *s);
const char *sk_action_code(sk_action a);
const char *sk_action_text(sk_action a, sk_lang lang);
/* Text for a `what` code; the code itself when it has none. */
const char *sk_what_text(const char *what, sk_lang lang);
/* Parse "ja"/"en"/locale strings ("C", "en_US.UTF-8" → en; "ja_JP…" → ja). */
sk_lang sk_lang_from_string(const char *s);

#endif
