/* sekisho-office: LibreOffice (LibreOfficeKit, loaded once and kept warm) converting
 * legacy office formats to OOXML for the gate, and 画像化 (render.h), inside its sandbox
 * (office_worker.h). Started by the gate's office pool (office.h), never by hand.
 *
 * A job (wire.h: OFFICE_JOB) is a mode, a type code and the input in a sealed memfd.
 * CONVERT: the input is written into the private tmp with its extension, loaded (no
 * macros, no dialogs), checked to be the kind of document its code says, saved as the
 * OOXML target, checked to be a ZIP with the target's main part, and copied into the
 * job's output memfd. PDF: the same load, saved as PDF (a PDF input is taken as it is),
 * its pages counted by poppler. IMAGE: that PDF's pages [first, last) rendered to page
 * images with the OCR text (sk_render_image_pdf, under the job's deadline and pixels).
 * JOIN: image PDFs of one document's page ranges joined (sk_render_join). The OCR models
 * and fontconfig are loaded at start (sk_render_init), before READY. Any failure is
 * answered (encrypted, malformed, a limit); after one LibreOffice had a part in
 * (sk_wire_office_retires) the worker exits and the pool starts a fresh one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdbool.h> /* LibreOfficeKit.h uses bool without including it */

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wshadow"
#include <LibreOfficeKit/LibreOfficeKitInit.h>
#pragma GCC diagnostic pop

#include "office_worker.h"
#include "sekisho/buf.h"
#include "sekisho/office.h"
#include "sekisho/render.h"
#include "sekisho/zipio.h"
#include "wire.h"

#ifndef SK_LO_PROGRAM
#define SK_LO_PROGRAM "/usr/lib/libreoffice/program"
#endif

/* LibreOfficeKitEnums.h (stable values); the header itself cannot be compiled as C. */
enum {
	LOK_CB_DOCUMENT_PASSWORD = 20,
	LOK_CB_DOCUMENT_PASSWORD_TO_MODIFY = 21,
	LOK_DOCTYPE_TEXT_ = 0,
	LOK_DOCTYPE_SPREADSHEET_ = 1,
	LOK_DOCTYPE_PRESENTATION_ = 2,
};
#define LOK_FEATURE_PASSWORD 1ull            /* LOK_FEATURE_DOCUMENT_PASSWORD */
#define LOK_FEATURE_PASSWORD_TO_MODIFY 2ull  /* LOK_FEATURE_DOCUMENT_PASSWORD_TO_MODIFY */

/* Loading: Batch (no dialog; a question gets its default answer), macros never run
 * (MacroExecutionMode NEVER_EXECUTE, LibreOfficeKit's default made explicit) at security
 * level "very high"; links are not updated (the profile: never). */
#define LOAD_OPTIONS "Batch=true,EnableMacrosExecution=false,MacroSecurityLevel=3"

static LibreOfficeKit *kit;
static char load_url[160];
static bool password_asked;
/* sk_render_init's result at start: 画像化 jobs fail (internal-error) without it */
static bool render_ready;
static char render_why[160];

/* A password prompt: the document is encrypted. No password is given (NULL cancels the
 * load); a password to modify only opens it read-only, which converts as well. */
static void on_event(int type, const char *payload, void *data)
{
	(void)payload;
	(void)data;
	if (type == LOK_CB_DOCUMENT_PASSWORD) {
		password_asked = true;
		kit->pClass->setDocumentPassword(kit, load_url, NULL);
	} else if (type == LOK_CB_DOCUMENT_PASSWORD_TO_MODIFY) {
		kit->pClass->setDocumentPassword(kit, load_url, NULL);
	}
}

/* The input's extension (LibreOffice's type detection looks at the content, and at the
 * extension for a first guess) */
static const char *extension(const char *from)
{
	if (!strcmp(from, "wordml") || !strcmp(from, "spreadsheetml"))
		return "xml";
	return from;
}

struct target {
	const char *ext;   /* saveAs format: LibreOfficeKit maps it to the export filter */
	const char *main;  /* the part an OOXML document of this kind must have */
	int doctype;       /* what LibreOffice must have loaded */
};

/* docx: "MS Word 2007 XML", xlsx: "Calc MS Excel 2007 XML", pptx: "Impress MS PowerPoint
 * 2007 XML" (the filters LibreOfficeKit's saveAs picks for these formats) */
static const struct target *target_of(const char *t)
{
	static const struct target ts[] = {
		{"docx", "word/document.xml", LOK_DOCTYPE_TEXT_},
		{"xlsx", "xl/workbook.xml", LOK_DOCTYPE_SPREADSHEET_},
		{"pptx", "ppt/presentation.xml", LOK_DOCTYPE_PRESENTATION_},
	};
	for (size_t i = 0; t && i < sizeof(ts) / sizeof(ts[0]); i++)
		if (!strcmp(t, ts[i].ext))
			return &ts[i];
	return NULL;
}

static int copy_fd(int to, int from, uint64_t n)
{
	off_t off = 0;
	while ((uint64_t)off < n) {
		ssize_t r = sendfile(to, from, &off, (size_t)(n - (uint64_t)off));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 && errno == EFBIG ? SK_ELIMIT : SK_EIO;
	}
	return 0;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 && errno == EFBIG ? SK_ELIMIT : SK_EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Is out a ZIP with the target's main part? */
static bool is_ooxml(const sk_buf *out, const struct target *t)
{
	const uint8_t *p = sk_buf_data(out);
	size_t n = sk_buf_len(out);
	if (n < 4 || memcmp(p, "PK\3\4", 4) != 0)
		return false;
	sk_zipio *z = NULL;
	sk_reason why;
	sk_error err;
	if (sk_zipio_open(&z, p, n, &why, &err) != 0)
		return false;
	bool found = false;
	uint64_t count = sk_zipio_count(z);
	size_t ml = strlen(t->main);
	for (uint64_t i = 0; i < count && !found; i++) {
		sk_zipio_entry e;
		if (sk_zipio_entry_get(z, i, &e, &err) == 0 && e.raw_name_len == ml &&
		    !memcmp(e.raw_name, t->main, ml))
			found = true;
	}
	sk_zipio_close(z);
	return found;
}

static void set_detail(char *d, size_t dn, const char *what, char *lo_error)
{
	snprintf(d, dn, "%s%s%.200s", what, lo_error && lo_error[0] ? ": " : "",
		 lo_error ? lo_error : "");
	if (lo_error)
		kit->pClass->freeError(lo_error);
}

/* LibreOffice loads the input (in_fd, type `from`) and saves it as fmt ("docx", "pdf"
 * …) into out (at most out_max bytes): *reason SK_REASON_NONE, or the reason and a
 * detail. The document must be of doctype (-1: any). Returns nonzero only for a failure
 * of the worker itself. */
static int lo_save(const char *tmp, const char *from, int doctype, const char *fmt,
		   uint64_t out_max, int in_fd, sk_buf *out, sk_reason *reason, char *detail,
		   size_t dn)
{
	*reason = SK_REASON_MALFORMED;
	detail[0] = 0;
	struct stat st;
	if (fstat(in_fd, &st) != 0 || !S_ISREG(st.st_mode))
		return SK_EIO;
	if ((uint64_t)st.st_size > out_max) {
		*reason = SK_REASON_LIMIT_SIZE;
		snprintf(detail, dn, "input larger than the limit of the office worker");
		return 0;
	}
	char in_path[128], out_path[128], out_url[160];
	snprintf(in_path, sizeof(in_path), "%s/job/in.%s", tmp, extension(from));
	snprintf(out_path, sizeof(out_path), "%s/job/out.%s", tmp, fmt);
	snprintf(load_url, sizeof(load_url), "file://%s", in_path);
	snprintf(out_url, sizeof(out_url), "file://%s", out_path);
	int fd = open(in_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return SK_EIO;
	int rc = copy_fd(fd, in_fd, (uint64_t)st.st_size);
	if (close(fd) != 0 && !rc)
		rc = SK_EIO;
	if (rc == SK_ELIMIT) {
		*reason = SK_REASON_LIMIT_SIZE;
		snprintf(detail, dn, "input larger than the file size limit");
		unlink(in_path);
		return 0;
	}
	if (rc)
		return rc;

	password_asked = false;
	LibreOfficeKitDocument *doc =
		kit->pClass->documentLoadWithOptions(kit, load_url, LOAD_OPTIONS);
	unlink(in_path);
	if (!doc) {
		char *e = kit->pClass->getError(kit);
		bool pw = password_asked || (e && strcasestr(e, "password"));
		*reason = pw ? SK_REASON_ENCRYPTED : SK_REASON_MALFORMED;
		set_detail(detail, dn,
			   pw ? "LibreOffice: the document needs a password"
			      : "LibreOffice could not load it",
			   e);
		return 0;
	}
	int type = doc->pClass->getDocumentType(doc);
	if (doctype >= 0 && type != doctype) {
		doc->pClass->destroy(doc);
		snprintf(detail, dn, "LibreOffice loaded it as another kind of document (%d)", type);
		return 0;
	}
	int saved = doc->pClass->saveAs(doc, out_url, fmt, "");
	doc->pClass->destroy(doc);
	if (!saved) {
		unlink(out_path);
		set_detail(detail, dn, "LibreOffice could not save it", kit->pClass->getError(kit));
		return 0;
	}
	fd = open(out_path, O_RDONLY | O_CLOEXEC);
	unlink(out_path);
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		snprintf(detail, dn, "LibreOffice wrote no output");
		return 0;
	}
	if ((uint64_t)st.st_size > out_max) {
		close(fd);
		*reason = SK_REASON_LIMIT_SIZE;
		snprintf(detail, dn, "converted file larger than the limit");
		return 0;
	}
	sk_buf_reset(out);
	rc = sk_buf_reserve(out, (size_t)st.st_size + 1);
	while (!rc) {
		uint8_t chunk[65536];
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = SK_EIO;
		if (r <= 0)
			break;
		rc = sk_buf_add(out, chunk, (size_t)r);
	}
	close(fd);
	if (rc == SK_ELIMIT) {
		*reason = SK_REASON_LIMIT_SIZE;
		snprintf(detail, dn, "converted file larger than the limit");
		return 0;
	}
	if (!rc)
		*reason = SK_REASON_NONE;
	return rc;
}

/* out into the job's output memfd: *reason stays, or limit-size past RLIMIT_FSIZE */
static int put_output(int out_fd, const sk_buf *out, sk_reason *reason, char *detail,
		      size_t dn, uint64_t *out_size)
{
	int rc = write_all(out_fd, sk_buf_data(out), sk_buf_len(out));
	if (rc == SK_ELIMIT) {
		*reason = SK_REASON_LIMIT_SIZE;
		snprintf(detail, dn, "output larger than the file size limit");
		return 0;
	}
	if (!rc)
		*out_size = sk_buf_len(out);
	return rc;
}

/* One conversion to OOXML (CONVERT) */
static int convert(const char *tmp, const char *from, uint64_t out_max, int in_fd, int out_fd,
		   sk_reason *reason, char *detail, size_t dn, uint64_t *out_size)
{
	*reason = SK_REASON_MALFORMED;
	*out_size = 0;
	detail[0] = 0;
	const struct target *t = target_of(sk_office_target(from));
	if (!t) {
		snprintf(detail, dn, "no conversion for %.40s", from);
		return 0;
	}
	sk_buf out;
	sk_buf_init(&out, (size_t)out_max);
	int rc = lo_save(tmp, from, t->doctype, t->ext, out_max, in_fd, &out, reason, detail, dn);
	if (!rc && *reason == SK_REASON_NONE) {
		if (!is_ooxml(&out, t)) {
			*reason = SK_REASON_MALFORMED;
			snprintf(detail, dn, "LibreOffice's output is not a %s package", t->ext);
		} else {
			rc = put_output(out_fd, &out, reason, detail, dn, out_size);
		}
	}
	sk_buf_free(&out);
	return rc;
}

/* The job's input as a PDF in pdf: a PDF's own bytes, else LibreOffice's export of it
 * (the kind of document its code says) */
static int as_pdf(const char *tmp, const sk_wire_office_job *j, int in_fd, sk_buf *pdf,
		  sk_reason *reason, char *detail, size_t dn)
{
	*reason = SK_REASON_MALFORMED;
	if (!strcmp(j->from, "pdf")) {
		struct stat st;
		if (fstat(in_fd, &st) != 0 || !S_ISREG(st.st_mode))
			return SK_EIO;
		if ((uint64_t)st.st_size > j->out_max) {
			*reason = SK_REASON_LIMIT_SIZE;
			snprintf(detail, dn, "input larger than the limit of the office worker");
			return 0;
		}
		int rc = sk_wire_memfd_read(in_fd, (uint64_t)st.st_size, pdf);
		if (rc == SK_ELIMIT || rc == SK_ENOMEM) {
			*reason = SK_REASON_LIMIT_SIZE;
			snprintf(detail, dn, "input too large to read");
			return 0;
		}
		if (!rc)
			*reason = SK_REASON_NONE;
		return rc;
	}
	const char *to = sk_office_target(j->from);
	const struct target *t = target_of(to ? to : j->from);
	if (!t) {
		snprintf(detail, dn, "no PDF export for %.40s", j->from);
		return 0;
	}
	int rc = lo_save(tmp, j->from, t->doctype, "pdf", j->out_max, in_fd, pdf, reason, detail,
			 dn);
	if (!rc && *reason == SK_REASON_NONE &&
	    (sk_buf_len(pdf) < 5 || memcmp(sk_buf_data(pdf), "%PDF-", 5) != 0)) {
		*reason = SK_REASON_MALFORMED;
		snprintf(detail, dn, "LibreOffice's output is not a PDF");
	}
	return rc;
}

static bool render_check(sk_reason *reason, char *detail, size_t dn)
{
	if (render_ready)
		return true;
	*reason = SK_REASON_INTERNAL;
	snprintf(detail, dn, "画像化 unavailable in this worker: %.150s", render_why);
	return false;
}

/* PDF: the page count, and LibreOffice's PDF of anything but a PDF */
static int job_pdf(const char *tmp, const sk_wire_office_job *j, int in_fd, int out_fd,
		   sk_wire_office_answer *a, char *detail, size_t dn)
{
	if (!render_check(&a->reason, detail, dn))
		return 0;
	sk_buf pdf;
	sk_buf_init(&pdf, (size_t)j->out_max);
	int rc = as_pdf(tmp, j, in_fd, &pdf, &a->reason, detail, dn);
	if (!rc && a->reason == SK_REASON_NONE) {
		sk_error err;
		sk_error_clear(&err);
		unsigned pages = 0;
		if (sk_render_pages(sk_buf_data(&pdf), sk_buf_len(&pdf), &pages, &a->reason, &err)) {
			snprintf(detail, dn, "%s", err.msg);
		} else if (strcmp(j->from, "pdf")) {
			rc = put_output(out_fd, &pdf, &a->reason, detail, dn, &a->out_size);
			if (!rc && a->reason == SK_REASON_NONE)
				a->info.pages = pages;
		} else {
			a->info.pages = pages;
		}
	}
	sk_buf_free(&pdf);
	return rc;
}

/* IMAGE: 画像化 of pages [first, last) */
static int job_image(const char *tmp, const sk_wire_office_job *j, int in_fd, int out_fd,
		     sk_wire_office_answer *a, char *detail, size_t dn)
{
	if (!render_check(&a->reason, detail, dn))
		return 0;
	sk_buf pdf, out;
	sk_buf_init(&pdf, (size_t)j->out_max);
	sk_buf_init(&out, (size_t)j->out_max);
	int rc = as_pdf(tmp, j, in_fd, &pdf, &a->reason, detail, dn);
	if (!rc && a->reason == SK_REASON_NONE) {
		sk_render_options o;
		sk_render_options_default(&o);
		o.dpi = j->dpi ? j->dpi : o.dpi;
		o.max_pages = j->max_pages ? j->max_pages : o.max_pages;
		o.gray = j->gray;
		o.ocr_lang = j->ocr_lang; /* NULL: the models chosen per page */
		sk_budget b;
		sk_budget_default(&b);
		b.max_seconds = 0;
		sk_budget_start(&b);
		if (j->max_pixels)
			b.max_pixels = j->max_pixels;
		b.deadline_ns = j->deadline_ns;
		sk_error err;
		sk_error_clear(&err);
		sk_render_info info;
		if (sk_render_image_pdf(sk_buf_data(&pdf), sk_buf_len(&pdf), &o, j->first, j->last,
					&b, &out, &info, &a->reason, &err)) {
			if (a->reason == SK_REASON_NONE)
				a->reason = SK_REASON_INTERNAL;
			snprintf(detail, dn, "%s", err.msg);
		} else {
			rc = put_output(out_fd, &out, &a->reason, detail, dn, &a->out_size);
			if (!rc && a->reason == SK_REASON_NONE)
				a->info = info;
		}
	}
	sk_buf_free(&pdf);
	sk_buf_free(&out);
	return rc;
}

/* JOIN: the parts (one after the other in the input) joined */
static int job_join(const sk_wire_office_job *j, int in_fd, int out_fd,
		    sk_wire_office_answer *a, char *detail, size_t dn)
{
	if (!render_check(&a->reason, detail, dn))
		return 0;
	a->reason = SK_REASON_MALFORMED;
	struct stat st;
	if (fstat(in_fd, &st) != 0 || !S_ISREG(st.st_mode))
		return SK_EIO;
	uint64_t sum = 0;
	for (uint32_t i = 0; i < j->nparts; i++)
		sum += j->parts[i];
	if ((uint64_t)st.st_size != sum) {
		snprintf(detail, dn, "parts of %llu bytes in an input of %llu",
			 (unsigned long long)sum, (unsigned long long)st.st_size);
		return 0;
	}
	if (sum > j->out_max) {
		a->reason = SK_REASON_LIMIT_SIZE;
		snprintf(detail, dn, "parts larger than the limit");
		return 0;
	}
	sk_buf all, out;
	sk_buf_init(&all, (size_t)j->out_max);
	sk_buf_init(&out, (size_t)j->out_max);
	sk_buf *parts = calloc(j->nparts, sizeof(*parts));
	int rc = parts ? sk_wire_memfd_read(in_fd, sum, &all) : SK_ENOMEM;
	size_t off = 0;
	for (uint32_t i = 0; !rc && i < j->nparts; off += (size_t)j->parts[i], i++) {
		sk_buf_init(&parts[i], (size_t)j->parts[i] + 1);
		rc = sk_buf_add(&parts[i], sk_buf_data(&all) + off, (size_t)j->parts[i]);
	}
	if (!rc) {
		sk_error err;
		sk_error_clear(&err);
		if (sk_render_join(parts, j->nparts, &out, &err)) {
			a->reason = err.code == SK_ELIMIT ? SK_REASON_LIMIT_SIZE : SK_REASON_MALFORMED;
			snprintf(detail, dn, "%s", err.msg);
		} else {
			a->reason = SK_REASON_NONE;
			rc = put_output(out_fd, &out, &a->reason, detail, dn, &a->out_size);
		}
	} else if (rc == SK_ENOMEM || rc == SK_ELIMIT) {
		a->reason = SK_REASON_LIMIT_SIZE;
		snprintf(detail, dn, "parts too large to read");
		rc = 0;
	}
	for (uint32_t i = 0; parts && i < j->nparts; i++)
		sk_buf_free(&parts[i]);
	free(parts);
	sk_buf_free(&all);
	sk_buf_free(&out);
	return rc;
}

/* Serves jobs until the gate closes the socket or a job fails. */
static int serve(const char *tmp, int sock)
{
	for (;;) {
		uint32_t type;
		uint8_t *p = NULL;
		size_t n;
		int fds[2] = {-1, -1};
		int rc = sk_wire_recv(sock, &type, &p, &n, fds, 2, 0);
		if (rc == SK_EIO)
			return 0; /* the gate closed the socket */
		if (rc)
			return rc;
		static sk_wire_office_job j; /* (8 KiB of part sizes) */
		sk_wire_office_answer ans = {.reason = SK_REASON_MALFORMED};
		char detail[300] = "";
		bool retire = true; /* after a failure (j.from points into p) */
		if (type != SK_WIRE_OFFICE_JOB || sk_wire_office_job_decode(p, n, &j) != 0)
			rc = SK_EFORMAT;
		else if ((retire = sk_wire_office_retires(j.mode, j.from)), j.mode == SK_OFFICE_CONVERT)
			rc = convert(tmp, j.from, j.out_max, fds[0], fds[1], &ans.reason, detail,
				     sizeof(detail), &ans.out_size);
		else if (j.mode == SK_OFFICE_PDF)
			rc = job_pdf(tmp, &j, fds[0], fds[1], &ans, detail, sizeof(detail));
		else if (j.mode == SK_OFFICE_IMAGE)
			rc = job_image(tmp, &j, fds[0], fds[1], &ans, detail, sizeof(detail));
		else
			rc = job_join(&j, fds[0], fds[1], &ans, detail, sizeof(detail));
		close(fds[0]);
		close(fds[1]);
		free(p);
		if (rc)
			return rc; /* no answer: the gate sees the worker die (worker-crash) */
		if (ans.reason != SK_REASON_NONE) { /* nothing of a failed job is reported */
			ans.out_size = 0;
			memset(&ans.info, 0, sizeof(ans.info));
		}
		ans.detail = detail[0] ? detail : NULL;
		uint8_t *a = NULL;
		size_t an = 0;
		rc = sk_wire_office_answer_encode(&ans, &a, &an);
		if (!rc)
			rc = sk_wire_send(sock, SK_WIRE_OFFICE_ANSWER, a, an, NULL, 0);
		free(a);
		if (rc)
			return rc;
		if (ans.reason != SK_REASON_NONE && retire)
			return 0; /* after a failure LibreOffice had a part in, a fresh one */
	}
}

static bool num(const char *s, uint64_t max, uint64_t *v)
{
	char *end = NULL;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || x > max)
		return false;
	*v = x;
	return true;
}

static int fail(const char *what, const sk_error *err)
{
	fprintf(stderr, "sekisho-office: 起動できません / cannot start: %s%s%s\n", what,
		err && err->msg[0] ? ": " : "", err ? err->msg : "");
	return 1;
}

int main(int argc, char **argv)
{
	uint64_t fd = UINT64_MAX, uid = 0, gid = 0, as = 3ull << 30, fsize = 256ull << 20;
	bool have_uid = false, have_gid = false;
	const char *program = SK_LO_PROGRAM;
	bool started_line = true; /* --log off: no startup line (a one-shot command) */
	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool ok = v != NULL;
		if (!strcmp(a, "--fd"))
			ok = ok && num(v, 1024, &fd);
		else if (!strcmp(a, "--uid"))
			ok = ok && (have_uid = num(v, UINT32_MAX - 1, &uid));
		else if (!strcmp(a, "--gid"))
			ok = ok && (have_gid = num(v, UINT32_MAX - 1, &gid));
		else if (!strcmp(a, "--as"))
			ok = ok && num(v, UINT64_MAX / 2, &as) && as >= (256u << 20);
		else if (!strcmp(a, "--fsize"))
			ok = ok && num(v, UINT64_MAX / 2, &fsize) && fsize >= (1u << 20);
		else if (!strcmp(a, "--program"))
			ok = ok && v[0] == '/';
		else if (!strcmp(a, "--log"))
			ok = ok && (!strcmp(v, "off") || !strcmp(v, "stderr")) &&
			     ((started_line = !strcmp(v, "stderr")), true);
		else
			ok = false;
		if (ok && !strcmp(a, "--program"))
			program = v;
		if (!ok)
			return fail("usage: sekisho-office --fd N [--uid N --gid N] [--as BYTES] "
				    "[--fsize BYTES] [--program DIR] [--log stderr|off] (started by the "
				    "gate)",
				    NULL);
	}
	if (fd == UINT64_MAX || have_uid != have_gid)
		return fail("--fd (and --uid with --gid)", NULL);
	sk_error err;
	sk_error_clear(&err);
	sk_office_sandbox sb = {.sock = (int)fd,
				.lim = {.drop = have_uid, .uid = (uid_t)uid, .gid = (gid_t)gid,
					.max_as = as, .max_fsize = fsize}};
	if (sk_office_sandbox_enter(&sb, &err) != 0) {
		sk_office_sandbox_leave(&sb);
		return fail("sandbox", &err);
	}
	/* LibreOffice talks on stderr: the gate's log gets only the startup event */
	int logfd = fcntl(2, F_DUPFD_CLOEXEC, 3);
	dup2(1, 2);
	char profile[96];
	snprintf(profile, sizeof(profile), "file://%s/profile", sb.tmp);
	kit = lok_init_2(program, profile);
	if (!kit) {
		sk_office_sandbox_leave(&sb);
		if (logfd >= 0)
			dup2(logfd, 2);
		return fail("LibreOfficeKit (lok_init)", NULL);
	}
	kit->pClass->setOptionalFeatures(kit, LOK_FEATURE_PASSWORD | LOK_FEATURE_PASSWORD_TO_MODIFY);
	kit->pClass->registerCallback(kit, on_event, NULL);
	/* 画像化: fontconfig, poppler's tables and the OCR models of the per-page choice,
	 * loaded now; without them conversions still work and 画像化 jobs fail */
	sk_error_clear(&err);
	render_ready = sk_render_init(NULL, &err) == 0;
	if (!render_ready)
		snprintf(render_why, sizeof(render_why), "%.150s", err.msg);
	size_t wl = strlen(sb.what);
	snprintf(sb.what + wl, sizeof(sb.what) - wl, " render=%s", render_ready ? "yes" : "no");
	if (logfd >= 0) {
		if (started_line)
			dprintf(logfd, "sekisho-office[%d]: 起動 / started: %s\n", (int)getpid(),
				sb.what);
		if (!render_ready)
			dprintf(logfd, "sekisho-office[%d]: 画像化は使えません / 画像化 unavailable: %s\n",
				(int)getpid(), render_why);
		close(logfd);
	}
	uint8_t *p = NULL;
	size_t n = 0;
	int rc = sk_wire_office_ready_encode(sb.what, &p, &n);
	if (!rc)
		rc = sk_wire_send(sb.sock, SK_WIRE_READY, p, n, NULL, 0);
	free(p);
	if (!rc)
		rc = serve(sb.tmp, sb.sock);
	sk_office_sandbox_leave(&sb);
	/* LibreOfficeKit's destroy() and the atexit handlers of its libraries can abort at
	 * exit: nothing is left to flush */
	_exit(rc ? 1 : 0);
}
