/* Internal to the ledger module: the tables, the store, the checks. */
#ifndef SK_LEDGER_INT_H
#define SK_LEDGER_INT_H

#include <pthread.h>

#include <jansson.h>
#include <sqlite3.h>

#include "sekisho/ledger.h"

/* The static description of the tables (schema.c); the incidents table gets its chain
 * fields from the policy when a ledger is opened. */
#define LT_COUNT 12
extern const sk_ledger_table sk_ledger_static_tables[LT_COUNT];
extern const char *const sk_ledger_ledger_names[8];
/* The export's columns besides the fields: ID first, the others last (Japanese, English);
 * an import reads ID and ignores the others. */
#define LMETA_COUNT 6
extern const char *const sk_ledger_meta_headers[LMETA_COUNT][2];

struct sk_ledger {
	sqlite3 *db;
	pthread_mutex_t mu;
	sk_audit *audit;
	const sk_policy *p;
	sk_ledger_options opt;
	sk_ledger_table tables[LT_COUNT];
	sk_ledger_field inc_fields[SK_LEDGER_FIELDS_MAX]; /* incidents, with the chain */
	char *owned[2 * SK_POLICY_CHAIN_MAX * 3];         /* strings of the chain fields */
	size_t nowned;
};

/* Checks and normalises the values of a record of t (vals: one per field, malloc'd or
 * NULL; changed in place to their stored form), the table's rules included. line goes
 * into the problems. exclude_id: the record itself (for uniqueness rules). Returns the
 * number of problems added (0: fine) or a negative SK_E*. */
int sk_ledger_check(sk_ledger *l, const sk_ledger_table *t, char **vals, size_t line,
		    const char *self_id, sk_ledger_problems *pr, sk_error *err);
/* Adds a problem (printf formats, same arguments). */
void sk_ledger_problem_add(sk_ledger_problems *pr, size_t line, const char *field,
			   const char *ja, const char *en, ...) __attribute__((format(printf, 4, 6)));

/* Reads the values of one record into vals (t->nfields, malloc'd strings or NULL). */
int sk_ledger_load(sk_ledger *l, const sk_ledger_table *t, const char *id, char **vals,
		   sk_ledger_record *meta, sk_error *err);
/* Stores one record (new when is_new) and its history row, and makes its audit entry's
 * detail (caller frees *detail). In the caller's transaction. */
int sk_ledger_store(sk_ledger *l, const sk_ledger_table *t, const char *id, bool is_new,
		    char **old, char **vals, const char *by, const char *action, char **detail,
		    bool *changed, sk_error *err);
/* The next id of t ("AS-0007"), in the caller's transaction. */
int sk_ledger_next_id(sk_ledger *l, const sk_ledger_table *t, char id[SK_LEDGER_ID_MAX],
		      sk_error *err);
int sk_ledger_exec(sk_ledger *l, const char *sql, sk_error *err);
/* Fills the computed fields of a record. */
void sk_ledger_compute(sk_ledger *l, const sk_ledger_table *t, char **vals);
int64_t sk_ledger_now(const sk_ledger *l);
int32_t sk_ledger_today(const sk_ledger *l);
void sk_ledger_vals_free(char **vals, size_t n);
/* SK_EIO with what and SQLite's message. */
int sk_ledger_db_err(sk_ledger *l, sk_error *err, const char *what);
/* Days since 1970-01-01 of a yyyymmdd date; the yyyymmdd of a stored "YYYY-MM-DD…" value
 * (negative when it is none). */
int sk_ledger_days(int32_t ymd);
int32_t sk_ledger_ymd(const char *v);
/* The yyyymmdd of a day count (the inverse of sk_ledger_days); "YYYY-MM-DD" of a yyyymmdd. */
int32_t sk_ledger_ymd_of_days(int days);
void sk_ledger_date_text(int32_t ymd, char out[11]);
/* Whether q is a quarantine id ("20261207-3fa9c2d1"). */
bool sk_ledger_qid_ok(const char *q);
/* Whether `by` (who makes a change) is acceptable: not empty, UTF-8, no control characters. */
bool sk_ledger_by_ok(const char *by);

/* A chapter of the requirements in lang (the stored Japanese one when lang is Japanese
 * or the chapter is not one of the built-in ones). */
const char *sk_ledger_chapter_text(const char *chapter, sk_lang lang);

/* One pending change of a transaction: its audit entry and its history row. */
typedef struct lchange {
	const sk_ledger_table *t;
	char id[SK_LEDGER_ID_MAX];
	char object[96];
	char *detail;
} lchange;
/* The audit records of the changes (action, by `by`), their history rows, then COMMIT;
 * when the COMMIT fails after the records, one more record says so. Rolls back on
 * failure. In the caller's BEGIN IMMEDIATE, with l->mu held. */
int sk_ledger_commit_changes(sk_ledger *l, lchange *c, size_t n, const char *by,
			     const char *action, sk_error *err);

/* Checks and stores parsed CSV rows in one transaction (csv.c parses): rows[r][c] is the
 * value of column c, cols[c] its field index (-1: ignored), id_col the ID column (-1:
 * none), lines[r] the line row r starts on. */
int sk_ledger_import_rows(sk_ledger *l, const sk_ledger_table *t, const int *cols, size_t ncols,
			  char ***rows, const size_t *lines, size_t nrows, int id_col, const char *by,
			  size_t *added, size_t *updated, sk_ledger_problems *pr, sk_error *err);

#endif
