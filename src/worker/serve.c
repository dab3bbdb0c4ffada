/* The worker's serve loop and its main (see worker.h). */
#include "worker.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t cpu_seconds(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return UINT64_MAX;
	return (uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec;
}

/* The detectors of the last job that had any: a job with the same bytes (the same
 * policy) reuses them instead of compiling its patterns again. */
static struct {
	uint8_t *bytes;
	size_t n;
	sk_dlp *dlp;
} cache;

static const sk_dlp *job_dlp(const sk_wire_job *job, sk_error *err, int *rc)
{
	*rc = 0;
	if (!job->dlp)
		return NULL;
	if (cache.dlp && cache.n == job->dlp_len && !memcmp(cache.bytes, job->dlp, job->dlp_len))
		return cache.dlp;
	sk_dlp_free(cache.dlp);
	free(cache.bytes);
	memset(&cache, 0, sizeof(cache));
	sk_dlp *d = NULL;
	if ((*rc = sk_dlp_decode(job->dlp, job->dlp_len, &d, err)) != 0)
		return NULL;
	uint8_t *b = malloc(job->dlp_len ? job->dlp_len : 1);
	if (!b) {
		sk_dlp_free(d);
		*rc = sk_error_set(err, SK_ENOMEM, "dlp");
		return NULL;
	}
	memcpy(b, job->dlp, job->dlp_len);
	cache.bytes = b;
	cache.n = job->dlp_len;
	cache.dlp = d;
	return d;
}

/* ---- converting legacy formats and 画像化: asked of the gate in the middle of a job ------- */

struct convert_ctx {
	int sock;
	unsigned asked; /* CONVERT requests of this job */
};

/* The job's convert hook in a worker (engine.h): the bytes go to the gate in a sealed
 * memfd with a CONVERT message, and the worker waits for CONVERTED (the gate kills it
 * at the item's deadline). The converted package comes back in a sealed memfd. A gate
 * that answers otherwise ends the conversion as worker-crash: the item is blocked. */
static int worker_convert(void *ctx, sk_convert *req, const uint8_t *p, size_t n,
			  const sk_budget *b, sk_buf *out, sk_reason *reason, sk_error *err)
{
	(void)b; /* the gate converts under the job's budget, which it holds itself */
	struct convert_ctx *c = ctx;
	*reason = SK_REASON_WORKER_CRASH;
	if (c->asked >= SK_WIRE_CONVERTS_MAX) {
		*reason = SK_REASON_LIMIT_ENTRIES;
		return sk_error_set(err, SK_ELIMIT, "conversions: more than %u in one item",
				    SK_WIRE_CONVERTS_MAX);
	}
	if (n > SK_WIRE_CONVERT_MAX) {
		*reason = SK_REASON_LIMIT_SIZE;
		return sk_error_set(err, SK_ELIMIT, "convert: input too large");
	}
	c->asked++;
	uint8_t *msg = NULL;
	size_t mn = 0;
	int fd = -1;
	int rc = sk_wire_memfd(p, n, &fd);
	if (rc) {
		*reason = SK_REASON_INTERNAL;
		return sk_error_set(err, rc, "convert: memfd");
	}
	rc = sk_wire_convert_encode(req, n, &msg, &mn);
	if (!rc)
		rc = sk_wire_send(c->sock, SK_WIRE_CONVERT, msg, mn, &fd, 1);
	free(msg);
	close(fd);
	if (rc)
		return sk_error_set(err, SK_EIO, "convert: request not sent");
	uint32_t type = 0;
	int fds[1] = {-1}, nfd = 0;
	rc = sk_wire_recv_fds(c->sock, &type, &msg, &mn, fds, 1, &nfd, 0);
	if (rc)
		return sk_error_set(err, SK_EIO, "convert: no answer");
	sk_reason why = SK_REASON_NONE;
	const char *detail = "";
	uint64_t len = 0;
	if (type != SK_WIRE_CONVERTED ||
	    sk_wire_converted_decode(msg, mn, &why, &detail, &len, req) ||
	    nfd != (why == SK_REASON_NONE ? 1 : 0) || (nfd && sk_wire_sealed(fds[0], len))) {
		rc = sk_error_set(err, SK_EFORMAT, "convert: malformed answer");
	} else if (why != SK_REASON_NONE) {
		*reason = why;
		rc = sk_error_set(err, SK_EFORMAT, "%s", detail[0] ? detail : sk_reason_code(why));
	} else {
		rc = sk_wire_memfd_read(fds[0], len, out);
		if (rc) {
			*reason = rc == SK_ENOMEM || rc == SK_ELIMIT ? SK_REASON_LIMIT_SIZE
								      : SK_REASON_INTERNAL;
			rc = sk_error_set(err, rc, "convert: read the answer");
		}
	}
	if (nfd)
		close(fds[0]);
	free(msg);
	return rc;
}

/* The output's first SK_WIRE_INLINE_MAX bytes: kept for the next job (its memory too) */
static sk_buf inline_out;

/* sk_output_spill's opener: the memfd an output larger than the answer can carry goes
 * to, made when the first byte past that arrives (most outputs never need one) */
static int open_out(void *ctx, sk_error *err)
{
	int *fd = ctx;
	if (sk_wire_memfd_open("sekisho-out", fd) != 0)
		return sk_error_sys(err, SK_EIO, "memfd");
	return *fd;
}

/* Runs one decoded job (its input in the message or in_fd) and answers. */
static int run_job(int sock, const sk_wire_job *job, int in_fd, uint32_t retire_cpu_s)
{
	int out_fd = -1;
	sk_engine_result res;
	struct stat st;
	sk_input in;
	sk_output out;
	sk_engine_job ej = {.name = job->name, .profile = &job->profile, .budget = job->budget,
			    .detect_only = job->detect_only, .dlp_kinds = job->dlp_kinds,
			    .mail = job->is_mail ? &job->mail : NULL,
			    .passwords = job->n_passwords ? job->passwords : NULL,
			    .n_passwords = job->n_passwords};
	struct convert_ctx conv = {.sock = sock};
	if (job->convert) {
		ej.convert = worker_convert;
		ej.convert_ctx = &conv;
	}
	sk_error err;
	sk_error_clear(&err);
	int drc;
	ej.dlp = job_dlp(job, &err, &drc);
	if (drc) {
		memset(&res, 0, sizeof(res));
		sk_report_init(&res.report);
		res.type = *sk_type_find("unknown");
		sk_report_block(&res.report, SK_REASON_INTERNAL, NULL, "worker: dlp");
	} else if (!job->input && (fstat(in_fd, &st) != 0 || !S_ISREG(st.st_mode))) {
		memset(&res, 0, sizeof(res));
		sk_report_init(&res.report);
		res.type = *sk_type_find("unknown");
		sk_report_block(&res.report, SK_REASON_INTERNAL, NULL, "worker: input");
	} else {
		if (job->input)
			sk_input_mem(&in, job->input, job->input_len);
		else
			sk_input_fd(&in, in_fd, (uint64_t)st.st_size);
		/* a small output goes back in the answer; past that, into a memfd */
		sk_buf_reset(&inline_out);
		sk_output_spill(&out, &inline_out, open_out, &out_fd, job->out_max);
		/* SK_EIO (the memfd could not be written) leaves res blocked: nothing more */
		sk_engine_run(&ej, &in, &out, &res, &err);
		sk_input_release(&in);
	}
	bool retire = cpu_seconds() >= retire_cpu_s;
	uint8_t *p = NULL;
	size_t n = 0;
	const uint8_t *inl = NULL;
	bool delivered = res.report.verdict != SK_VERDICT_BLOCKED && !job->detect_only;
	if (delivered && out_fd < 0 && res.out_size == sk_buf_len(&inline_out))
		inl = sk_buf_len(&inline_out) ? sk_buf_data(&inline_out) : (const uint8_t *)"";
	else if (delivered && (out_fd < 0 || sk_wire_seal(out_fd) != 0)) {
		/* an output that is neither in the answer nor in a sealed memfd: blocked */
		sk_report_free(&res.report);
		sk_report_init(&res.report);
		res.out_size = 0;
		sk_report_block(&res.report, SK_REASON_INTERNAL, NULL, "worker: output");
		delivered = false;
	}
	int rc = sk_wire_answer_encode(&res, retire, inl, &p, &n);
	if (rc) {
		/* too big to answer (a million entries): say blocked instead */
		sk_engine_result small;
		memset(&small, 0, sizeof(small));
		sk_report_init(&small.report);
		small.type = res.type;
		sk_report_block(&small.report, SK_REASON_INTERNAL, NULL, "worker: answer too large");
		rc = sk_wire_answer_encode(&small, retire, NULL, &p, &n);
		sk_engine_result_free(&small);
	}
	/* the memfd goes with the answer when the output is in it (the gate checks its
	 * seals and its size) */
	bool with_fd = !rc && delivered && !inl;
	sk_engine_result_free(&res);
	if (!rc)
		rc = sk_wire_send(sock, SK_WIRE_ANSWER, p, n, with_fd ? &out_fd : NULL,
				  with_fd ? 1 : 0);
	free(p);
	if (out_fd >= 0)
		close(out_fd);
	return rc ? rc : retire ? 1 : 0;
}

int sk_worker_serve(int sock, sk_worker_hook hook, uint32_t retire_cpu_s)
{
	sk_buf_init(&inline_out, SK_WIRE_INLINE_MAX);
	for (;;) {
		uint32_t type;
		uint8_t *p = NULL;
		size_t n;
		int fds[2] = {-1, -1}, nfd = 0;
		int rc = sk_wire_recv_fds(sock, &type, &p, &n, fds, 2, &nfd, 0);
		if (rc == SK_EIO)
			return 0; /* the gate closed the socket */
		if (rc)
			return rc;
		sk_wire_job job;
		/* the input's descriptor, unless the job carries its bytes */
		if (type != SK_WIRE_JOB || sk_wire_job_decode(p, n, &job) != 0 ||
		    nfd != (job.input ? 0 : 1))
			rc = SK_EFORMAT;
		else {
			int in_fd = job.input ? -1 : fds[0];
			if (!hook || hook(&job, sock, in_fd) == 0)
				rc = run_job(sock, &job, in_fd, retire_cpu_s);
		}
		for (int i = 0; i < nfd; i++)
			close(fds[i]);
		/* an unlock job's passwords live in the message (and nowhere else): zeroed
		 * whatever became of the job */
		if (type == SK_WIRE_JOB)
			explicit_bzero(p, n);
		free(p);
		if (rc)
			return rc > 0 ? 0 : rc;
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
	fprintf(stderr, "sekisho-worker: 起動できません / cannot start: %s%s%s\n", what,
		err && err->msg[0] ? ": " : "", err ? err->msg : "");
	return 1;
}

int sk_worker_main(int argc, char **argv, sk_worker_hook hook)
{
	uint64_t fd = UINT64_MAX, uid = 0, gid = 0, as = 1ull << 30, cpu = 1200,
		 fsize = 4ull << 30;
	bool have_uid = false, have_gid = false;
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
			ok = ok && num(v, UINT64_MAX / 2, &as) && as >= (64u << 20);
		else if (!strcmp(a, "--cpu"))
			ok = ok && num(v, 1u << 30, &cpu) && cpu >= 2;
		else if (!strcmp(a, "--fsize"))
			ok = ok && num(v, UINT64_MAX / 2, &fsize);
		else
			ok = false;
		if (!ok)
			return fail("usage: sekisho-worker --fd N [--uid N --gid N] [--as BYTES] "
				    "[--cpu SECONDS] [--fsize BYTES] (started by the gate)", NULL);
	}
	if (fd == UINT64_MAX || have_uid != have_gid)
		return fail("--fd (and --uid with --gid)", NULL);
	int sock = (int)fd;
	/* With TZ unset glibc checks /etc/localtime again on every localtime() (libzip):
	 * set, and unchanged, it does not */
	if (!getenv("TZ") && setenv("TZ", ":/etc/localtime", 1) != 0)
		return fail("TZ", NULL);
	sk_error err;
	sk_error_clear(&err);
	/* Freed memory stays in the heap for the next job instead of going back to the kernel
	 * (trimmed, or a chunk of its own unmapped) to be faulted in again, zeroed, page by page.
	 * Bounded: what a job used stays at most until the worker is replaced (max_jobs), and
	 * the address-space limit still applies. A speed setting only: an allocator that
	 * refuses it (ASan's) is used as it is. */
	(void)mallopt(M_MMAP_THRESHOLD, 32 << 20);
	(void)mallopt(M_TRIM_THRESHOLD, 64 << 20);
	if (sk_engine_init(&err) != 0)
		return fail("init", &err);
	sk_worker_limits lim = {.drop = have_uid, .uid = (uid_t)uid, .gid = (gid_t)gid,
				.max_as = as, .max_cpu = (uint32_t)cpu, .max_fsize = fsize};
	if (sk_worker_sandbox(&lim, sock, &err) != 0)
		return fail("sandbox", &err);
	uint8_t ready[4] = {SK_WIRE_VERSION, 0, 0, 0};
	if (sk_wire_send(sock, SK_WIRE_READY, ready, sizeof(ready), NULL, 0) != 0)
		return 1;
	/* retire (the gate replaces the worker) once half the CPU allowance is used, so a
	 * job never meets the limit */
	return sk_worker_serve(sock, hook, (uint32_t)(cpu / 2)) == 0 ? 0 : 1;
}
