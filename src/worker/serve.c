/* The worker's serve loop and its main (see worker.h). */
#include "worker.h"

#include <errno.h>
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

/* Runs one decoded job on its two descriptors and answers. */
static int run_job(int sock, const sk_wire_job *job, int in_fd, int out_fd,
		   uint32_t retire_cpu_s)
{
	sk_engine_result res;
	struct stat st;
	sk_input in;
	sk_output out;
	sk_engine_job ej = {.name = job->name, .profile = &job->profile, .budget = job->budget,
			    .detect_only = job->detect_only, .dlp_kinds = job->dlp_kinds,
			    .mail = job->is_mail ? &job->mail : NULL,
			    .passwords = job->n_passwords ? job->passwords : NULL,
			    .n_passwords = job->n_passwords};
	sk_error err;
	sk_error_clear(&err);
	int drc;
	ej.dlp = job_dlp(job, &err, &drc);
	if (drc) {
		memset(&res, 0, sizeof(res));
		sk_report_init(&res.report);
		res.type = *sk_type_find("unknown");
		sk_report_block(&res.report, SK_REASON_INTERNAL, NULL, "worker: dlp");
	} else if (fstat(in_fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		memset(&res, 0, sizeof(res));
		sk_report_init(&res.report);
		res.type = *sk_type_find("unknown");
		sk_report_block(&res.report, SK_REASON_INTERNAL, NULL, "worker: input");
	} else {
		sk_input_fd(&in, in_fd, (uint64_t)st.st_size);
		sk_output_fd(&out, out_fd, job->out_max);
		/* SK_EIO (the memfd could not be written) leaves res blocked: nothing more */
		sk_engine_run(&ej, &in, &out, &res, &err);
		sk_input_release(&in);
	}
	bool retire = cpu_seconds() >= retire_cpu_s;
	uint8_t *p = NULL;
	size_t n = 0;
	int rc = sk_wire_answer_encode(&res, retire, &p, &n);
	if (rc) {
		/* too big to answer (a million entries): say blocked instead */
		sk_engine_result small;
		memset(&small, 0, sizeof(small));
		sk_report_init(&small.report);
		small.type = res.type;
		sk_report_block(&small.report, SK_REASON_INTERNAL, NULL, "worker: answer too large");
		rc = sk_wire_answer_encode(&small, retire, &p, &n);
		sk_engine_result_free(&small);
	}
	sk_engine_result_free(&res);
	if (!rc)
		rc = sk_wire_send(sock, SK_WIRE_ANSWER, p, n, NULL, 0);
	free(p);
	return rc ? rc : retire ? 1 : 0;
}

int sk_worker_serve(int sock, sk_worker_hook hook, uint32_t retire_cpu_s)
{
	for (;;) {
		uint32_t type;
		uint8_t *p = NULL;
		size_t n;
		int fds[2];
		int rc = sk_wire_recv(sock, &type, &p, &n, fds, 2, 0);
		if (rc == SK_EIO)
			return 0; /* the gate closed the socket */
		if (rc)
			return rc;
		sk_wire_job job;
		if (type != SK_WIRE_JOB || sk_wire_job_decode(p, n, &job) != 0)
			rc = SK_EFORMAT;
		else if (!hook || hook(&job, sock, fds[0], fds[1]) == 0)
			rc = run_job(sock, &job, fds[0], fds[1], retire_cpu_s);
		close(fds[0]);
		close(fds[1]);
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
