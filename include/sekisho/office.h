/* sekisho — legacy office formats converted by LibreOffice in sandboxed workers.
 *
 * .doc/.dot, .xls/.xlt, .ppt/.pot/.pps, RTF, ODF (odt/ods/odp), xlsb and Word/Excel 2003
 * XML are not rebuilt by a module of their own: LibreOffice converts them to the matching
 * OOXML format, which the OOXML module then rebuilds like any docx/xlsx/pptx (so VBA, OLE,
 * DDE and external links go by the same allow-list). LibreOffice runs only inside
 * `sekisho-office` workers: exec'd processes, each holding one warm LibreOffice
 * (LibreOfficeKit, loaded once) in its own sandbox — an empty network namespace, a
 * private tmp, the unprivileged user, rlimits, PR_SET_NO_NEW_PRIVS — with macros, links
 * and Java disabled by the profile's configuration, never by trust in the file. A worker
 * is restarted after max_jobs conversions and after any error; one that passes the
 * item's time limit is killed.
 *
 * The gate owns the office pool; an engine job reaches it through sk_engine_job.convert
 * (engine.h), so that a legacy file nested in a ZIP or attached to a mail is converted
 * too. */
#ifndef SEKISHO_OFFICE_H
#define SEKISHO_OFFICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sekisho/budget.h"
#include "sekisho/buf.h"
#include "sekisho/error.h"
#include "sekisho/render.h"
#include "sekisho/report.h"

typedef struct sk_office sk_office;

typedef struct sk_office_config {
	const char *worker;        /* the sekisho-office executable; NULL: sk_office_worker_path() */
	unsigned workers;          /* 0: 1 */
	unsigned max_jobs;         /* conversions before a worker is restarted; 0: 200 */
	uint64_t max_as;           /* address-space limit of a worker (bytes); 0: 3 GiB */
	uint64_t max_output;       /* largest converted file, and largest input (the worker's
				      RLIMIT_FSIZE), bytes; 0: 256 MiB */
	const char *user;          /* run as this user when started as root; NULL: "sekisho" */
	unsigned start_timeout_ms; /* for a new worker to be ready; 0: 120 s */
	bool background;           /* return before the workers are ready (as sk_pool) */
} sk_office_config;

void sk_office_config_default(sk_office_config *cfg);
/* `sekisho-office` next to the running program, else in the install's libexecdir. */
int sk_office_worker_path(char *buf, size_t n, sk_error *err);

int sk_office_open(const sk_office_config *cfg, sk_office **out, sk_error *err);
void sk_office_close(sk_office *o);

/* The OOXML type a legacy type code converts to: "doc" "dot" "rtf" "odt" "wordml" →
 * "docx"; "xls" "xlt" "xlsb" "ods" "spreadsheetml" → "xlsx"; "ppt" "pot" "pps" "odp" →
 * "pptx"; NULL for anything else. */
const char *sk_office_target(const char *from);

/* Converts p[0..n) of type `from` (a code of sk_office_target) to its target in one
 * worker, within what is left of b's wall clock (and cfg.max_output). The converted bytes
 * in out (reset first). On failure *reason (never NULL then) says what to block with:
 * SK_REASON_LIMIT_TIME (the worker was killed), SK_REASON_ENCRYPTED (a password-protected
 * document), SK_REASON_MALFORMED (LibreOffice could not load or save it),
 * SK_REASON_WORKER_CRASH (the worker died or answered badly), SK_REASON_LIMIT_SIZE; the
 * return is then SK_EFORMAT. Thread-safe: threads share the pool and wait for an idle
 * worker. Not hostile-input code itself: only bytes and codes go to the worker. */
int sk_office_convert(sk_office *o, const char *from, const uint8_t *p, size_t n,
		      const sk_budget *b, sk_buf *out, sk_reason *reason, sk_error *err);

/* 画像化 in one worker: p (a PDF, or a code of sk_office_target, converted to PDF by
 * LibreOffice first) rendered to a PDF of page images with an invisible OCR text layer
 * (render.h, sk_render_image_pdf) — pages [first, last) only (0, 0: all), so that the
 * gate can spread a long document's pages across workers and join them. Failure as
 * sk_office_convert. */
int sk_office_image(sk_office *o, const char *from, const uint8_t *p, size_t n,
		    const sk_render_options *opt, unsigned first, unsigned last,
		    const sk_budget *b, sk_buf *out, sk_reason *reason, sk_error *err);

typedef struct sk_office_stats {
	uint64_t jobs, failures, restarts, timeouts;
} sk_office_stats;
void sk_office_stats_get(sk_office *o, sk_office_stats *st);
/* The process ids of the workers that are ready (at most n; not one still starting);
 * returns how many (for tests and monitoring: the sandbox is checked from outside). */
size_t sk_office_pids(sk_office *o, pid_t *pids, size_t n);

#endif
