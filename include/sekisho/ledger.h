/* sekisho — the ledgers (台帳): the registers the policies require, kept in the state folder.
 *
 * Eight ledgers (DESIGN §7), some made of several tables:
 *   assets                 電子情報資産管理台帳 (機密性・完全性・可用性 on the policy's scales)
 *   incidents              情報セキュリティ事故管理台帳 (the policy's escalation chain)
 *   exceptions             例外措置 (from, until: an expired one no longer applies)
 *   training               研修: training/plans, training/sessions, training/attendance
 *   entries                セキュリティ区画の入退室 (contractors must be pre-registered)
 *   contractors            外部委託事業者
 *   inspections            自己点検・監査: inspections/checklists, inspections/answers,
 *                          inspections/findings
 *   laws                   情報セキュリティ法規制等登録簿
 * A ledger's name alone names its first table ("training" is "training/plans").
 *
 * One generic store (ledger.db in the state folder: SQLite, WAL, synchronous=FULL, 0600):
 * a record is an id ("AS-0001") and text values, one per field of its table. Each table is
 * described by a table of typed fields (sk_ledger_field) with the rules of its ledger
 * (required fields, dates, the policy's scales, zones and sections, references to other
 * tables, and per-ledger rules such as the order of the escalation chain); every add and
 * update is checked against the whole record. Each change is one audit record (actor,
 * "ledger.add" / "ledger.update" / "ledger.import", object "assets/AS-0001", detail: the
 * changed fields with their old and new values) committed with the change, and a history
 * row in ledger.db: nothing is overwritten silently.
 *
 * Values are UTF-8 text. Dates are stored as "YYYY-MM-DD", times as "YYYY-MM-DD HH:MM"
 * (local time); choices as their code ("information"), booleans as "yes"/"no", references
 * as the id of the other record. Input accepts more: "2025/4/1", "2025年4月1日", a choice's
 * Japanese or English label, はい/いいえ, a section's name, a referenced record's name. */
#ifndef SEKISHO_LEDGER_H
#define SEKISHO_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/audit.h"
#include "sekisho/auth.h"
#include "sekisho/buf.h"
#include "sekisho/error.h"
#include "sekisho/policy.h"
#include "sekisho/report.h"

#define SK_LEDGER_ID_MAX 24          /* bytes of a record id, with the NUL ("AS-0001") */
#define SK_LEDGER_VALUE_MAX 2000     /* bytes of one value */
#define SK_LEDGER_RECORD_MAX 6000    /* bytes of all the values of a record */
#define SK_LEDGER_FIELDS_MAX 48      /* fields of a table (with the escalation steps) */
#define SK_LEDGER_IMPORT_ROWS_MAX 100000  /* rows of one CSV import */
#define SK_LEDGER_IMPORT_BYTES_MAX ((size_t)64 << 20) /* bytes of one CSV import */
#define SK_LEDGER_PROBLEMS_MAX 1000  /* problems kept (the count goes on) */

typedef enum sk_ledger_type {
	SK_LF_TEXT = 0, /* one line */
	SK_LF_NOTE,     /* several lines */
	SK_LF_DATE,     /* YYYY-MM-DD */
	SK_LF_DATETIME, /* YYYY-MM-DD HH:MM */
	SK_LF_CHOICE,   /* one of choices (code stored) */
	SK_LF_LEVEL,    /* a level of the policy's classification dimension `arg` */
	SK_LF_ZONE,     /* a zone of the policy */
	SK_LF_SECTION,  /* a section of the policy (any text when the policy has none) */
	SK_LF_BOOL,     /* "yes" / "no" */
	SK_LF_REF,      /* the id of a record of table `arg` */
	SK_LF_REFS,     /* ids of records of table `arg`, separated by ", " */
	SK_LF_COMPUTED, /* read-only, worked out when read (handling rules, expiry, overdue) */
	SK_LF_FILES,    /* files attached through the gate, one a line: "NAME (QUARANTINE-ID)";
			   changed only by sk_ledger_attach / sk_ledger_detach */
} sk_ledger_type;

typedef struct sk_ledger_choice {
	const char *code, *ja, *en;
} sk_ledger_choice;

typedef struct sk_ledger_field {
	const char *key;      /* "name", "confidentiality", "chain.sysadmin.at" */
	const char *ja, *en;  /* column headers */
	sk_ledger_type type;
	bool required;
	const char *arg;      /* LEVEL: the dimension ("機密性"); REF(S): the table */
	const sk_ledger_choice *choices; /* CHOICE */
	size_t nchoices;
	unsigned width;       /* column width in Excel (in characters of a Latin digit) */
} sk_ledger_field;

typedef struct sk_ledger_table {
	const char *name;     /* "assets", "training/sessions" */
	const char *ledger;   /* "assets", "training" */
	const char *ja, *en;  /* title (the sheet's name in Japanese) */
	const char *prefix;   /* of the ids: "AS" gives AS-0001 */
	const sk_ledger_field *fields;
	size_t nfields;
} sk_ledger_table;

/* The eight ledger names, in order. */
size_t sk_ledger_names(const char *const **names);

typedef struct sk_ledger sk_ledger;

typedef struct sk_ledger_options {
	int32_t today;              /* yyyymmdd for expiry and overdue flags (0: local today) */
	sk_lang lang;               /* of the computed values (handling rules): SK_LANG_JA default */
	int64_t (*clock)(void *ctx);/* µs since the epoch for the records' times (NULL: now) */
	void *clock_ctx;
} sk_ledger_options;

/* Opens (creating when missing) dir/ledger.db. The policy gives the scales, zones,
 * sections and the escalation chain; it must outlive l. Changes are audited in audit
 * (required). */
int sk_ledger_open(const char *dir, sk_audit *audit, const sk_policy *p,
		   const sk_ledger_options *opt, sk_ledger **out, sk_error *err);
void sk_ledger_close(sk_ledger *l);

/* A table by name ("assets", "training", "training/sessions"); NULL when unknown. The
 * incidents table has two fields per step of the policy's chain (chain.ROLE.at,
 * chain.ROLE.by) and lives as long as l. */
const sk_ledger_table *sk_ledger_table_find(const sk_ledger *l, const char *name);
/* The tables of a ledger ("training": plans, sessions, attendance); 0 when unknown. */
size_t sk_ledger_tables(const sk_ledger *l, const char *ledger, const sk_ledger_table **v,
			size_t max);
/* Index of a field by key, or by its Japanese or English header; SK_ENOTFOUND (negative)
 * when none. */
int sk_ledger_field_index(const sk_ledger_table *t, const char *key_or_header);
/* The text of a stored value for people: a choice's label (computed ones too), はい/いいえ (or yes/no), a
 * section's name; other values as they are. */
const char *sk_ledger_value_text(const sk_ledger *l, const sk_ledger_field *f, const char *v,
				 sk_lang lang);

/* What is wrong with an input, for people: line (CSV import: the line the row starts on;
 * 0 otherwise), the field's key ("" when the whole row) and the message in both
 * languages. */
typedef struct sk_ledger_problem {
	size_t line;
	char field[64];
	char ja[320], en[320];
} sk_ledger_problem;

typedef struct sk_ledger_problems {
	sk_ledger_problem *v;
	size_t n, cap;
	size_t count; /* all problems, also those past SK_LEDGER_PROBLEMS_MAX */
} sk_ledger_problems;

void sk_ledger_problems_init(sk_ledger_problems *pr);
void sk_ledger_problems_free(sk_ledger_problems *pr);
/* "行 N: 項目 X: message" lines (lang) into out. */
int sk_ledger_problems_format(const sk_ledger_problems *pr, sk_lang lang, sk_buf *out);

typedef struct sk_ledger_kv {
	const char *key; /* a field's key, Japanese or English header */
	const char *value;
} sk_ledger_kv;

/* Adds a record: the values are checked (SK_EINVAL with every problem in pr, nothing
 * stored), then stored with the next id of the table (id_out, may be NULL) and audited
 * as "ledger.add" by `by` (the authenticated user). */
int sk_ledger_add(sk_ledger *l, const char *table, const sk_ledger_kv *kv, size_t n,
		  const char *by, char id_out[SK_LEDGER_ID_MAX], sk_ledger_problems *pr,
		  sk_error *err);
/* Changes some fields of a record (a value "" clears a field); the whole record is
 * checked again. SK_ENOTFOUND when there is no such record; SK_ECONFLICT when version is
 * not 0 and the stored record's version is not version (someone changed it meanwhile:
 * the check and the change are one transaction, so two writers of the same version
 * cannot both succeed, whatever process they are in). *changed (may be NULL) tells
 * whether anything changed (no change: no audit record). Audited as "ledger.update" with
 * the old and new value of each changed field. A files field (SK_LF_FILES) cannot be
 * given: a problem. */
int sk_ledger_update(sk_ledger *l, const char *table, const char *id, int64_t version,
		     const sk_ledger_kv *kv, size_t n, const char *by, bool *changed,
		     sk_ledger_problems *pr, sk_error *err);

/* Files attached to a record (evidence of a self-inspection answer, of a finding's
 * follow-up): the caller has put the file through the gate (sk_gate_submit) and attaches
 * only a delivered item, by its quarantine id (SK_QUARANTINE_ID_LEN form
 * "20261207-3fa9c2d1") and the name people download it under. sk_ledger_attach appends
 * the line "NAME (QID)" to the files field `field` (its key; SK_EINVAL when the table has
 * no such files field, when the name is empty or holds a control character or the id is
 * not a quarantine id; SK_ELIMIT when the field would pass SK_LEDGER_VALUE_MAX; attaching
 * the same id twice changes nothing). sk_ledger_detach removes the line of qid
 * (SK_ENOTFOUND when the record has no such file; the item stays in the quarantine).
 * version as sk_ledger_update; audited as "ledger.attach" / "ledger.detach" like an
 * update (old and new value of the field). */
int sk_ledger_attach(sk_ledger *l, const char *table, const char *id, int64_t version,
		     const char *field, const char *qid, const char *name, const char *by,
		     sk_error *err);
int sk_ledger_detach(sk_ledger *l, const char *table, const char *id, int64_t version,
		     const char *field, const char *qid, const char *by, sk_error *err);
/* Is qid one of the files of the files field value v? */
bool sk_ledger_files_has(const char *v, const char *qid);

typedef struct sk_ledger_record {
	char id[SK_LEDGER_ID_MAX];
	int64_t version;        /* 1 when added, +1 at each change */
	int64_t created_us, updated_us;
	char *created_by, *updated_by;
	char **values;          /* one per field of the table (computed ones filled in);
				   NULL when empty */
	size_t n;
} sk_ledger_record;

void sk_ledger_record_free(sk_ledger_record *r);
/* One record (SK_ENOTFOUND when none). */
int sk_ledger_get(sk_ledger *l, const char *table, const char *id, sk_ledger_record *r,
		  sk_error *err);
/* Every record of a table, by id. fn's record is freed after it returns; a non-zero
 * return stops and is returned. */
typedef int (*sk_ledger_list_fn)(void *ctx, const sk_ledger_table *t, const sk_ledger_record *r);
int sk_ledger_list(sk_ledger *l, const char *table, sk_ledger_list_fn fn, void *ctx,
		   sk_error *err);
/* The changes of one record, oldest first: version, time, who, action and the detail of
 * its audit record (JSON: {"version":N,"changes":{"key":[old,new]}}). */
typedef int (*sk_ledger_history_fn)(void *ctx, int64_t version, int64_t at_us, const char *by,
				    const char *action, const char *changes, uint64_t audit_seq);
int sk_ledger_history(sk_ledger *l, const char *table, const char *id, sk_ledger_history_fn fn,
		      void *ctx, sk_error *err);

/* Imports the CSV that Excel writes (UTF-8 with or without a BOM, or CP932; CRLF or LF;
 * fields quoted with "" and embedded newlines). The first row names the columns (field
 * keys or the Japanese/English headers; the export's read-only columns are ignored); a
 * row with an ID column that is not empty updates that record, else it adds one. Every
 * row is checked; when any row is bad, nothing is imported (SK_EINVAL, each problem with
 * the line its row starts on in pr). Otherwise all rows go in one transaction, one audit
 * record each ("ledger.import"). *added, *updated may be NULL. */
int sk_ledger_import_csv(sk_ledger *l, const char *table, const uint8_t *p, size_t n,
			 const char *by, size_t *added, size_t *updated, sk_ledger_problems *pr,
			 sk_error *err);

/* What the gate reports (sk_options.ledger): an item blocked for malware, one blocked by
 * a DLP rule, a worker that crashed on an item. */
typedef enum sk_ledger_event {
	SK_LEDGER_EVENT_MALWARE = 0,
	SK_LEDGER_EVENT_DLP,
	SK_LEDGER_EVENT_CRASH,
} sk_ledger_event;

/* Opens an incident by the gate (actor "sekisho"): found now, severity high for malware
 * and medium otherwise, state open, linked to the item (item_id, its quarantine ID, else
 * "sha256:HEX"), what happened in Japanese and English with name and detail; the chain's
 * first step (the finder's report) signed by "sekisho" at that time, so that the next
 * step's role (the システム管理者 by default) signs next. A crash
 * opens one only the second time the same content (sha256_hex) crashes a worker (the
 * crashes are counted in ledger.db). id_out (may be NULL) gets the incident's id, "" when
 * none was opened. Several threads may call it at once on one handle (sekishod's milter
 * sessions and console uploads share their role's handle: the handle's lock serialises
 * them); other processes open their own handle (SQLite serialises those). */
int sk_ledger_gate_event(sk_ledger *l, sk_ledger_event ev, const char *item_id,
			 const char *sha256_hex, const char *name, const char *detail,
			 char id_out[SK_LEDGER_ID_MAX], sk_error *err);

/* The class of an information asset for the flow decision (sk_policy_decide's class_spec):
 * its level in each classification dimension of the policy ("機密性:3A,完全性:2,可用性:1",
 * the dimensions the asset has a level in, in the policy's order) into spec (n bytes).
 * SK_ENOTFOUND (err says so in both languages' words: "no asset AS-0099") when the assets
 * ledger has no record id; SK_EINVAL for an id that cannot be one (empty, too long,
 * control characters); SK_ELIMIT when spec is too small. The gate uses it for an item
 * marked with an asset (sk_item.asset) and for an asset marking DLP found. */
int sk_ledger_asset_class(sk_ledger *l, const char *id, char *spec, size_t n, sk_error *err);

/* Writes an xlsx of a ledger (one sheet per table: "training" gives three) to path:
 * headers in lang (Japanese first), dates as date cells, A4 landscape fitted to the page
 * width, the header row frozen and repeated on every printed page. */
int sk_ledger_export_xlsx(sk_ledger *l, const char *ledger, const char *path, sk_lang lang,
			  sk_error *err);

/* ---- the compliance cycle: checklists, training, charts, reminders ---- */

/* One requirement of the policies (POLICY-DIGEST), grouped as the policies group them
 * (chapter: "強靭性の向上", "情報資産の分類と管理", "人的・物理的", "技術的", "運用",
 * "監査・自己点検・見直し"), as a question a section answers. */
typedef struct sk_ledger_requirement {
	const char *chapter_ja, *chapter_en;
	const char *ja, *en;
} sk_ledger_requirement;
/* The built-in requirements, in order. */
size_t sk_ledger_requirements(const sk_ledger_requirement **v);

/* Adds to inspections/checklists one record per requirement for each section (section
 * NULL or "": every section of the policy; a policy without sections: one record per
 * requirement without a section), for period ("2026年度") and kind ("self" / "audit"),
 * by `by`, in one transaction. A requirement already in the table for the same period,
 * kind and section is skipped (running twice adds nothing). *added, *skipped may be
 * NULL. The records stay editable like any other. */
int sk_ledger_checklist_generate(sk_ledger *l, const char *period, const char *kind,
				 const char *section, const char *by, size_t *added,
				 size_t *skipped, sk_error *err);

/* A person who should take the required courses (the console's users). */
typedef struct sk_ledger_person {
	const char *user;    /* login name ("tanaka") */
	const char *name;    /* display name, may be NULL */
	const char *section; /* section id, may be NULL */
} sk_ledger_person;

/* The roster of sk_ledger_training_missing and sk_ledger_charts: the console's users
 * (a's users, not disabled; their section and display name as the policy has them) and
 * the policy's `users:` without an account, each once. a may be NULL (the policy's users
 * only). Free with sk_ledger_roster_free (also after a failure). */
typedef struct sk_ledger_roster {
	sk_ledger_person *v;
	size_t n;
	size_t cap_, nown_; /* private */
	char **own_;
	const sk_policy *p_;
} sk_ledger_roster;
int sk_ledger_roster_load(sk_auth *a, const sk_policy *p, sk_ledger_roster *ro, sk_error *err);
void sk_ledger_roster_free(sk_ledger_roster *ro);

/* Who has not taken a required course: for each person, every training/plans record with
 * required "yes" (and a date on or before today) for which no training/attendance record
 * with attended "yes" names the person (its person equal to user or name). JSON into out
 * (reset first): {"people":[{"user","name","section","missing":[{"plan","course"}]}]},
 * people with nothing missing left out. */
int sk_ledger_training_missing(sk_ledger *l, const sk_ledger_person *people, size_t n,
			       sk_buf *out, sk_error *err);

/* The console's charts as JSON into out (reset first):
 * {"incidents_by_month":[{"month":"2026-01","high","medium","low"}],   twelve months to today
 *  "training_by_section":[{"section","name","people","completed"}],    required courses all taken
 *  "inspections":{"period","periods":[…],"by_section":[{"section","name","done","partial",
 *                 "not_done","na","unanswered"}],"by_chapter":[{"chapter","done",…}]},
 *  "findings_by_age":[{"bucket":"0-30","open"},{"bucket":"31-90",…},{"bucket":"91-180",…},
 *                     {"bucket":"181-",…}],                               open findings, days since added
 *  "today":"YYYY-MM-DD"}
 * period: the inspections period shown (NULL: the newest); people: the roster for training
 * (as sk_ledger_training_missing). Section names in lang. */
int sk_ledger_charts(sk_ledger *l, const char *period, const sk_ledger_person *people,
		     size_t n, sk_lang lang, sk_buf *out, sk_error *err);

/* Reminders the scheduler sends: an exception expiring within days_ahead days, an expired
 * one, an overdue finding, an asset past its review date. */
typedef enum sk_ledger_reminder_kind {
	SK_LEDGER_REMIND_EXPIRING = 0,
	SK_LEDGER_REMIND_EXPIRED,
	SK_LEDGER_REMIND_OVERDUE,
	SK_LEDGER_REMIND_REVIEW,
} sk_ledger_reminder_kind;
typedef int (*sk_ledger_reminder_fn)(void *ctx, sk_ledger_reminder_kind kind,
				     const sk_ledger_table *t, const sk_ledger_record *r);
/* Calls fn for each reminder due and not sent before; one that fn returns 0 for is marked
 * sent in ledger.db (kind, table, id and the date it is about: a changed date reminds
 * again), so each is sent once. A non-zero return of fn is not marked and is returned
 * after the others were tried. */
int sk_ledger_reminders(sk_ledger *l, int days_ahead, sk_ledger_reminder_fn fn, void *ctx,
			sk_error *err);
/* One reminder as a line for people (lang; ends with "\n"), appended to out: what, the
 * record's id and name (its first line, clipped), the date and what to do ("例外措置
 * EX-0001「USB メモリの使用」の期限 2026-04-10 が近づいています (あと 9 日)。…"). */
int sk_ledger_reminder_text(const sk_ledger *l, sk_ledger_reminder_kind kind,
			    const sk_ledger_table *t, const sk_ledger_record *r, sk_lang lang,
			    sk_buf *out);

/* The yearly report for the 情報セキュリティ委員会, fiscal year fy (April fy to March
 * fy+1): one xlsx (path xlsx_path) with a sheet each for the gateway's figures (items by
 * verdict and month, block reasons, releases and refusals: from the quarantine and audit
 * log in state_dir), incidents (per month and severity, open ones), training (plans,
 * sessions, completion per section), self-inspections and audits (results per section and
 * chapter, findings open and closed); headers and titles in lang, A4 landscape. When
 * pdf_path is not NULL, the same made into a PDF by LibreOffice headless (soffice found on
 * PATH; a private profile, a time limit; SK_EIO when it fails or is missing). */
int sk_ledger_yearly_report(sk_ledger *l, const char *state_dir, int fy, const char *xlsx_path,
			    const char *pdf_path, sk_lang lang, sk_error *err);

#endif
