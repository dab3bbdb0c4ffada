/* Helpers shared by the unit tests. */
#ifndef SK_TESTUTIL_H
#define SK_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sekisho/core.h"

typedef struct tu_run {
	sk_result res;
	sk_buf out;
} tu_run;

/* Runs data through sk_process() (opt NULL: defaults); the output lands in r->out. */
void tu_process(const void *data, size_t n, const char *name, const sk_options *opt, tu_run *r);
void tu_free(tu_run *r);

/* Runs data through the registry (sk_cdr_run) with a budget the test owns, which the
 * test may have started, or put past its deadline (deadline_ns = 1). Returns the reason
 * the item was blocked with, SK_REASON_NONE when delivered (out, when given, then holds
 * the output). */
sk_reason tu_direct(const void *data, size_t n, const char *name, sk_budget *b, sk_buf *out);
/* A default budget, started (late: its deadline already passed). */
void tu_budget(sk_budget *b, bool late);

/* The number of report entries with this action and what (what NULL: any). */
size_t tu_count(const sk_report *rep, sk_action a, const char *what);
/* The entry whose where ends with where_suffix (or NULL). */
const sk_report_entry *tu_find_where(const sk_report *rep, const char *where_suffix);

/* Fail the test unless hay holds needle (tu_has), or when it does (tu_hasnt). */
void tu_has(const char *hay, const char *needle);
void tu_hasnt(const char *hay, const char *needle);

/* Path below the source tree ("tests/data/x", "../shared/corpus/…"). Static buffer. */
const char *tu_src(const char *rel);
/* The DLP detectors with the default configuration (fails the test when they cannot be
 * made); freed with sk_dlp_free. */
struct sk_dlp;
struct sk_dlp *tu_dlp(void);
/* A ZIP of the n entries names[i] = data[i] (NUL-terminated) into out (initialised
 * here; fails the test when libzip cannot make it). */
void tu_zip(const char *const *names, const char *const *data, int n, sk_buf *out);
/* Reads a whole file into b (fails the test when it cannot). */
void tu_read(const char *path, sk_buf *b);

#define assert_verdict(r, v) assert_string_equal(sk_verdict_code((r)->res.report.verdict), sk_verdict_code(v))
#define assert_reason(r, rs) assert_string_equal(sk_reason_code((r)->res.report.reason), sk_reason_code(rs))

#endif
