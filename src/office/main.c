/* sekisho-office: LibreOffice (LibreOfficeKit, loaded once and kept warm) converting
 * legacy office formats to OOXML for the gate, inside its sandbox (office_worker.h).
 * Started by the gate's office pool (office.h), never by hand.
 *
 * A job (wire.h: OFFICE_JOB) is a type code and the input in a sealed memfd; the input is
 * written into the private tmp with its extension, loaded (no macros, no dialogs),
 * checked to be the kind of document its code says, saved as the OOXML target, checked
 * to be a ZIP with the target's main part, and copied into the job's output memfd. Any
 * failure is answered (encrypted, malformed, limit-size) and the worker exits: the pool
 * starts a fresh one. */
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

/* One conversion: *reason SK_REASON_NONE and the output in out_fd (*out_size bytes), or
 * the reason and a detail. Returns nonzero only for a failure of the worker itself. */
static int convert(const char *tmp, const char *from, uint64_t out_max, int in_fd, int out_fd,
		   sk_reason *reason, char *detail, size_t dn, uint64_t *out_size)
{
	*reason = SK_REASON_MALFORMED;
	*out_size = 0;
	detail[0] = 0;
	const struct target *t = target_of(sk_office_target(from));
	struct stat st;
	if (!t) {
		snprintf(detail, dn, "no conversion for %.40s", from);
		return 0;
	}
	if (fstat(in_fd, &st) != 0 || !S_ISREG(st.st_mode))
		return SK_EIO;
	if ((uint64_t)st.st_size > out_max) {
		*reason = SK_REASON_LIMIT_SIZE;
		snprintf(detail, dn, "input larger than the limit of the office worker");
		return 0;
	}
	char in_path[128], out_path[128], out_url[160];
	snprintf(in_path, sizeof(in_path), "%s/job/in.%s", tmp, extension(from));
	snprintf(out_path, sizeof(out_path), "%s/job/out.%s", tmp, t->ext);
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
	if (type != t->doctype) {
		doc->pClass->destroy(doc);
		snprintf(detail, dn, "LibreOffice loaded it as another kind of document (%d)", type);
		return 0;
	}
	int saved = doc->pClass->saveAs(doc, out_url, t->ext, "");
	doc->pClass->destroy(doc);
	if (!saved) {
		unlink(out_path);
		set_detail(detail, dn, "LibreOffice could not save it", kit->pClass->getError(kit));
		return 0;
	}
	sk_buf out;
	sk_buf_init(&out, (size_t)out_max);
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
	rc = sk_buf_reserve(&out, (size_t)st.st_size + 1);
	while (!rc) {
		uint8_t chunk[65536];
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = SK_EIO;
		if (r <= 0)
			break;
		rc = sk_buf_add(&out, chunk, (size_t)r);
	}
	close(fd);
	if (rc == SK_ELIMIT) {
		*reason = SK_REASON_LIMIT_SIZE;
		snprintf(detail, dn, "converted file larger than the limit");
		rc = 0;
	} else if (!rc && !is_ooxml(&out, t)) {
		snprintf(detail, dn, "LibreOffice's output is not a %s package", t->ext);
	} else if (!rc) {
		rc = write_all(out_fd, sk_buf_data(&out), sk_buf_len(&out));
		if (rc == SK_ELIMIT) {
			*reason = SK_REASON_LIMIT_SIZE;
			snprintf(detail, dn, "converted file larger than the file size limit");
			rc = 0;
		} else if (!rc) {
			*reason = SK_REASON_NONE;
			*out_size = sk_buf_len(&out);
		}
	}
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
		const char *from;
		uint64_t out_max;
		sk_reason reason = SK_REASON_MALFORMED;
		char detail[300];
		uint64_t out_size = 0;
		if (type != SK_WIRE_OFFICE_JOB || sk_wire_office_job_decode(p, n, &from, &out_max) != 0)
			rc = SK_EFORMAT;
		else
			rc = convert(tmp, from, out_max, fds[0], fds[1], &reason, detail,
				     sizeof(detail), &out_size);
		close(fds[0]);
		close(fds[1]);
		free(p);
		if (rc)
			return rc; /* no answer: the gate sees the worker die (worker-crash) */
		uint8_t *a = NULL;
		size_t an = 0;
		rc = sk_wire_office_answer_encode(reason, detail[0] ? detail : NULL, out_size, &a, &an);
		if (!rc)
			rc = sk_wire_send(sock, SK_WIRE_OFFICE_ANSWER, a, an, NULL, 0);
		free(a);
		if (rc)
			return rc;
		if (reason != SK_REASON_NONE)
			return 0; /* after any failure a fresh LibreOffice */
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
		else
			ok = false;
		if (ok && !strcmp(a, "--program"))
			program = v;
		if (!ok)
			return fail("usage: sekisho-office --fd N [--uid N --gid N] [--as BYTES] "
				    "[--fsize BYTES] [--program DIR] (started by the gate)", NULL);
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
	if (logfd >= 0) {
		dprintf(logfd, "sekisho-office[%d]: 起動 / started: %s\n", (int)getpid(), sb.what);
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
