/* Internal to the ledger module: the figures of the yearly report (report.c), gathered
 * before they are written, and the fiscal-year bucketing they use (tests call both). */
#ifndef SK_LEDGER_REPORT_INT_H
#define SK_LEDGER_REPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/ledger.h"

#define SK_FY_MONTHS 12

/* The fiscal year fy (April fy to March fy+1) in JST: [*since_us, *until_us). */
void sk_ledger_fy_range(int fy, int64_t *since_us, int64_t *until_us);
/* The month of fiscal year fy (0 April … 11 March) a time falls in (JST), false when it
 * is outside the year. */
bool sk_ledger_fy_month_us(int fy, int64_t us, int *month);
/* The same for a stored date or time ("YYYY-MM-DD", "YYYY-MM-DD HH:MM", local time);
 * false for anything else. */
bool sk_ledger_fy_month(int fy, const char *date, int *month);
/* Whether a checklist's period names fiscal year fy: "2026年度", "FY2026", "2026". */
bool sk_ledger_fy_period(int fy, const char *period);

/* Item verdicts counted per month: clean, sanitized, held, blocked, undecided. */
enum { SK_YR_CLEAN = 0, SK_YR_SANITIZED, SK_YR_HELD, SK_YR_BLOCKED, SK_YR_UNDECIDED, SK_YR_VERDICTS };
/* Release requests per month: made, approved, refused (by the month they were decided). */
enum { SK_YR_REQUESTED = 0, SK_YR_APPROVED, SK_YR_REFUSED, SK_YR_REQ };
/* Incident severities. */
enum { SK_YR_HIGH = 0, SK_YR_MEDIUM, SK_YR_LOW, SK_YR_SEV };
/* Answers: done, partial, not done, not applicable, unanswered. */
enum { SK_YR_DONE = 0, SK_YR_PARTIAL, SK_YR_NOT_DONE, SK_YR_NA, SK_YR_UNANSWERED, SK_YR_ANS };

typedef struct sk_yr_reason {
	char *code;
	uint64_t n;
} sk_yr_reason;

typedef struct sk_yr_incident {
	char *id, *found_at, *severity, *state, *what, *found_by, *item;
} sk_yr_incident;

typedef struct sk_yr_plan {
	char *id, *course, *kind, *date, *required;
	bool in_year;       /* the plan's date is in the year (else: a session of it is) */
	uint64_t sessions;  /* sessions in the year */
	uint64_t attended, absent;
} sk_yr_plan;

typedef struct sk_yr_section {
	char *section;      /* id ("" when none) */
	uint64_t people;    /* distinct persons who attended */
	uint64_t attended, absent;
	char **persons;     /* the distinct names (for people) */
	size_t npersons;
} sk_yr_section;

typedef struct sk_yr_answers {
	char *kind;         /* "self" / "audit" ("" when not set) */
	char *key;          /* the section id or the chapter */
	uint64_t n[SK_YR_ANS];
} sk_yr_answers;

typedef struct sk_yr_finding {
	char *id, *finding, *owner, *due, *state, *closed_on, *overdue;
} sk_yr_finding;

/* Everything the report shows. */
typedef struct sk_yearly {
	int fy;
	int32_t today;
	bool gateway; /* the state folder has a quarantine */
	uint64_t items[SK_FY_MONTHS][SK_YR_VERDICTS];
	sk_yr_reason *reasons; /* blocked and held items by reason, most first */
	size_t nreasons;
	uint64_t requests[SK_FY_MONTHS][SK_YR_REQ];
	uint64_t pending; /* requests made in the year still pending */
	uint64_t incidents[SK_FY_MONTHS][SK_YR_SEV];
	sk_yr_incident *inc;
	size_t ninc;
	sk_yr_plan *plans;
	size_t nplans;
	uint64_t sessions; /* sessions in the year */
	sk_yr_section *sections;
	size_t nsections;
	sk_yr_answers *by_section, *by_chapter;
	size_t nby_section, nby_chapter;
	sk_yr_finding *findings;
	size_t nfindings;
	uint64_t findings_open, findings_closed, findings_overdue;
} sk_yearly;

/* Gathers the figures of fiscal year fy from l and the quarantine in state_dir (NULL or a
 * folder without quarantine.db: no gateway figures). Free with sk_ledger_yearly_free. */
int sk_ledger_yearly_collect(sk_ledger *l, const char *state_dir, int fy, sk_yearly *y,
			     sk_error *err);
void sk_ledger_yearly_free(sk_yearly *y);
/* LibreOffice's time limit for the PDF, in seconds (0: the default, 180); for tests. */
void sk_ledger_report_pdf_limit(unsigned seconds);

#endif
