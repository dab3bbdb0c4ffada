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
 * The same workers do 画像化 (render.h): a PDF, or a document LibreOffice first exports
 * to PDF, rendered to page images with an invisible OCR text layer, inside the worker's
 * sandbox. A long document's pages are spread across the workers in ranges, rendered in
 * parallel and joined (sk_render_join) in a worker too: the gate only moves bytes.
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
	unsigned pages_per_job;    /* 画像化: a document of more pages is rendered in ranges
				      of this many pages, in parallel; 0: 4 */
	bool quiet;                /* no startup line from the workers on stderr (a one-shot
				      command; a service logs what sandbox each one got) */
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
/* true for the type codes 画像化 takes: "pdf", "docx", "xlsx", "pptx" and every code of
 * sk_office_target (LibreOffice exports all but "pdf" to PDF first). */
bool sk_office_image_from(const char *from);

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

/* 画像化 in one worker: p (a code of sk_office_image_from; LibreOffice exports anything
 * but a PDF to PDF first) rendered to a PDF of page images with an invisible OCR text
 * layer (render.h, sk_render_image_pdf) — pages [first, last) only (0, 0: all). The
 * render's budget in the worker: b's deadline and what is left of its pixels. *info (may
 * be NULL) as sk_render_image_pdf's. Failure as sk_office_convert, and limit-pages,
 * limit-pixels, internal-error. */
int sk_office_image(sk_office *o, const char *from, const uint8_t *p, size_t n,
		    const sk_render_options *opt, unsigned first, unsigned last,
		    const sk_budget *b, sk_buf *out, sk_render_info *info, sk_reason *reason,
		    sk_error *err);

/* In one worker: p (a code of sk_office_image_from) as a PDF — LibreOffice's export into
 * out, or for "pdf" nothing (out left empty) — and its page count as poppler reads it in
 * *pages. Failure as sk_office_convert. */
int sk_office_pdf(sk_office *o, const char *from, const uint8_t *p, size_t n,
		  const sk_budget *b, sk_buf *out, unsigned *pages, sk_reason *reason,
		  sk_error *err);

/* In one worker: parts[0..n) (each made by sk_office_image, pages of one document in
 * order) joined into out (render.h: sk_render_join, which checks every part first).
 * Failure as sk_office_convert. */
int sk_office_join(sk_office *o, const sk_buf *parts, size_t n, const sk_budget *b,
		   sk_buf *out, sk_reason *reason, sk_error *err);

/* 画像化 of a whole document across the pool: its page count first (sk_office_pdf, which
 * also has LibreOffice export anything but a PDF), checked against opt->max_pages
 * (limit-pages before any page is rendered); then ranges of cfg.pages_per_job pages
 * rendered by as many workers as are free, in parallel (sk_office_image), the pixels of
 * all summed against b's budget (limit-pixels); the parts joined in order (sk_office_join).
 * Any failure of any part fails the whole: nothing partial in out. *info (may be NULL)
 * sums what the parts rendered. */
int sk_office_image_document(sk_office *o, const char *from, const uint8_t *p, size_t n,
			     const sk_render_options *opt, const sk_budget *b, sk_buf *out,
			     sk_render_info *info, sk_reason *reason, sk_error *err);

typedef struct sk_office_stats {
	uint64_t jobs, failures, restarts, timeouts;
	uint64_t busy_max; /* the most jobs the pool's workers ran at one time */
} sk_office_stats;
void sk_office_stats_get(sk_office *o, sk_office_stats *st);
/* The process ids of the workers that are ready (at most n; not one still starting);
 * returns how many (for tests and monitoring: the sandbox is checked from outside). */
size_t sk_office_pids(sk_office *o, pid_t *pids, size_t n);

#endif
