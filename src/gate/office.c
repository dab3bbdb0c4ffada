/* The office pool: sekisho-office workers converting legacy office formats and making
 * documents into page images (画像化) (see include/sekisho/office.h). Processes are
 * started and ended as the engine's pool does (spawn.h); the jobs are the office worker's
 * messages (wire.h). The gate parses nothing of what a worker returns beyond its size and
 * signature (a ZIP, a PDF): the OOXML or PDF module rebuilds it in the engine's worker
 * afterwards, and even the join of a document's page ranges is done by a worker. */
#include "sekisho/office.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../worker/wire.h"
#include "spawn.h"

/* No deadline in the budget: a conversion still ends (LibreOffice can loop for ever on a
 * hostile file) */
#define DEFAULT_SECONDS 300u
#define PAGES_PER_JOB 4u

struct oworker {
	pid_t pid; /* 0: empty slot */
	int sock;
	unsigned jobs;
	bool busy;             /* held by a thread */
	bool starting;         /* its READY not read yet */
	uint64_t start_by_ns;  /* when a starting worker must be ready */
};

struct sk_office {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct oworker *w;
	unsigned n;
	char *path;
	bool drop;
	uid_t uid;
	gid_t gid;
	unsigned max_jobs, start_ms, pages_per_job;
	bool quiet;
	uint64_t max_as, max_output;
	char **envp;
	int devnull;
	bool closing;
	uint64_t started; /* workers started, the first ones included */
	unsigned busy;    /* workers held by a thread now */
	sk_office_stats st;
};

void sk_office_config_default(sk_office_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

int sk_office_worker_path(char *buf, size_t n, sk_error *err)
{
	return sk_spawn_path("sekisho-office", buf, n, err);
}

/* ---- workers --------------------------------------------------------------------------- */

/* Starts a worker in slot w (held by the caller) without waiting for it. */
static int start(sk_office *o, struct oworker *w, sk_error *err)
{
	char a_uid[24], a_gid[24], a_as[24], a_fsize[24];
	snprintf(a_uid, sizeof(a_uid), "%u", (unsigned)o->uid);
	snprintf(a_gid, sizeof(a_gid), "%u", (unsigned)o->gid);
	snprintf(a_as, sizeof(a_as), "%llu", (unsigned long long)o->max_as);
	snprintf(a_fsize, sizeof(a_fsize), "%llu", (unsigned long long)o->max_output);
	char *argv[16];
	int k = 0;
	argv[k++] = o->path;
	argv[k++] = (char *)"--fd";
	argv[k++] = (char *)"3";
	if (o->drop) {
		argv[k++] = (char *)"--uid";
		argv[k++] = a_uid;
		argv[k++] = (char *)"--gid";
		argv[k++] = a_gid;
	}
	argv[k++] = (char *)"--as";
	argv[k++] = a_as;
	argv[k++] = (char *)"--fsize";
	argv[k++] = a_fsize;
	if (o->quiet) {
		argv[k++] = (char *)"--log";
		argv[k++] = (char *)"off";
	}
	argv[k] = NULL;
	pid_t pid;
	int sock;
	int rc = sk_spawn_start(argv, o->envp, o->devnull, &pid, &sock, err);
	if (rc)
		return rc;
	pthread_mutex_lock(&o->mu);
	w->pid = pid;
	w->sock = sock;
	w->jobs = 0;
	w->starting = true;
	w->start_by_ns = sk_spawn_now_ns() + (uint64_t)o->start_ms * 1000000ull;
	o->started++;
	if (o->started > o->n)
		o->st.restarts++;
	pthread_mutex_unlock(&o->mu);
	return 0;
}

/* Ends the worker in slot w (held by the caller); detail says how it ended. */
static void reap(sk_office *o, struct oworker *w, char *detail, size_t dn)
{
	sk_spawn_reap(w->pid, w->sock, detail, dn);
	pthread_mutex_lock(&o->mu);
	w->pid = 0;
	w->sock = -1;
	w->jobs = 0;
	w->starting = false;
	pthread_mutex_unlock(&o->mu);
}

/* Ends the worker in slot w and starts its replacement in the background (LibreOffice
 * takes seconds to load: the next job that needs the slot waits for it then). */
static void replace(sk_office *o, struct oworker *w)
{
	reap(o, w, NULL, 0);
	pthread_mutex_lock(&o->mu);
	bool closing = o->closing;
	pthread_mutex_unlock(&o->mu);
	sk_error err;
	if (!closing)
		(void)start(o, w, &err); /* failed: the slot stays empty, a job starts one */
}

/* Waits for the READY of a starting worker (held by the caller) until its start deadline
 * or the job's deadline, whichever comes first. 0: ready; SK_ELIMIT: the job's deadline
 * passed first (the worker goes on starting); else it did not come up and was ended. */
static int ready(sk_office *o, struct oworker *w, uint64_t deadline_ns, sk_error *err)
{
	bool job_first = deadline_ns && deadline_ns < w->start_by_ns;
	uint32_t type = 0;
	uint8_t *msg = NULL;
	size_t n = 0;
	int rc = sk_wire_recv(w->sock, &type, &msg, &n, NULL, 0,
			      job_first ? deadline_ns : w->start_by_ns);
	if (rc == SK_ELIMIT && job_first)
		return SK_ELIMIT;
	const char *sandbox = NULL;
	bool ok = rc == 0 && type == SK_WIRE_READY &&
		  sk_wire_office_ready_decode(msg, n, &sandbox) == 0;
	free(msg);
	if (!ok) {
		char how[64] = "";
		reap(o, w, how, sizeof(how));
		return sk_error_set(err, SK_EINTERNAL, "%s did not start (%s%s%s)", o->path,
				    rc == SK_ELIMIT ? "no answer in time" : "not ready",
				    how[0] ? ", " : "", how);
	}
	pthread_mutex_lock(&o->mu);
	w->starting = false;
	pthread_mutex_unlock(&o->mu);
	return 0;
}

/* Marks w held (o->mu held by the caller). */
static void hold(sk_office *o, struct oworker *w)
{
	w->busy = true;
	if (++o->busy > o->st.busy_max)
		o->st.busy_max = o->busy;
}

static void release(sk_office *o, struct oworker *w)
{
	pthread_mutex_lock(&o->mu);
	w->busy = false;
	o->busy--;
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
}

/* A ready worker for a job that must end by deadline_ns, started here when its slot is
 * empty. NULL with *reason: SK_REASON_LIMIT_TIME (the deadline passed while waiting) or
 * SK_REASON_WORKER_CRASH (none could be started; err says why). */
static struct oworker *acquire(sk_office *o, uint64_t deadline_ns, sk_reason *reason,
			       sk_error *err)
{
	pthread_mutex_lock(&o->mu);
	for (;;) {
		if (o->closing) {
			pthread_mutex_unlock(&o->mu);
			*reason = SK_REASON_INTERNAL;
			sk_error_set(err, SK_EINVAL, "office pool closed");
			return NULL;
		}
		struct oworker *idle = NULL, *starting = NULL, *empty = NULL;
		for (unsigned i = 0; i < o->n; i++) {
			struct oworker *w = &o->w[i];
			if (w->busy)
				continue;
			if (w->pid > 0 && !w->starting && !idle)
				idle = w;
			else if (w->pid > 0 && w->starting && !starting)
				starting = w;
			else if (w->pid == 0 && !empty)
				empty = w;
		}
		struct oworker *w = idle ? idle : starting ? starting : empty;
		if (w) {
			hold(o, w);
			pthread_mutex_unlock(&o->mu);
			if (idle)
				return w;
			/* a starting worker, or an empty slot: started and waited for (once
			 * more when one does not come up) */
			for (int tries = 0; tries < 2; tries++) {
				int rc = w->pid > 0 ? 0 : start(o, w, err);
				rc = rc ? rc : ready(o, w, deadline_ns, err);
				if (rc == 0)
					return w;
				if (rc == SK_ELIMIT) {
					release(o, w);
					*reason = SK_REASON_LIMIT_TIME;
					sk_error_set(err, SK_ELIMIT,
						     "time limit passed while LibreOffice was starting");
					return NULL;
				}
			}
			release(o, w);
			*reason = SK_REASON_WORKER_CRASH;
			return NULL;
		}
		if (!deadline_ns) {
			pthread_cond_wait(&o->cv, &o->mu);
			continue;
		}
		/* every worker busy: wait for one, until the job's deadline (the condition
		 * variable counts on CLOCK_REALTIME: the monotonic time left is added to it) */
		uint64_t now = sk_spawn_now_ns();
		if (now >= deadline_ns) {
			pthread_mutex_unlock(&o->mu);
			*reason = SK_REASON_LIMIT_TIME;
			sk_error_set(err, SK_ELIMIT, "time limit passed waiting for an office worker");
			return NULL;
		}
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t left = deadline_ns - now;
		uint64_t until = (uint64_t)ts.tv_nsec + left % 1000000000ull;
		ts.tv_sec += (time_t)(left / 1000000000ull + until / 1000000000ull);
		ts.tv_nsec = (long)(until % 1000000000ull);
		pthread_cond_timedwait(&o->cv, &o->mu, &ts);
	}
}

/* ---- open and close ----------------------------------------------------------------- */

/* The workers' environment: the engine workers' (sk_spawn_env) and OMP_THREAD_LIMIT=1, so
 * that tesseract reads a page on one thread (the workers are the parallelism; libgomp
 * reads it when it is loaded, before main) */
static char **office_env(void)
{
	char **env = sk_spawn_env();
	size_t k = 0;
	while (env && env[k])
		k++;
	char **more = env ? realloc(env, (k + 2) * sizeof(*env)) : NULL;
	char *omp = more ? strdup("OMP_THREAD_LIMIT=1") : NULL;
	if (!omp) {
		sk_spawn_env_free(more ? more : env);
		return NULL;
	}
	more[k] = omp;
	more[k + 1] = NULL;
	return more;
}

void sk_office_close(sk_office *o)
{
	if (!o)
		return;
	pthread_mutex_lock(&o->mu);
	o->closing = true;
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
	for (unsigned i = 0; o->w && i < o->n; i++)
		reap(o, &o->w[i], NULL, 0);
	if (o->devnull >= 0)
		close(o->devnull);
	sk_spawn_env_free(o->envp);
	free(o->path);
	free(o->w);
	pthread_cond_destroy(&o->cv);
	pthread_mutex_destroy(&o->mu);
	free(o);
}

int sk_office_open(const sk_office_config *cfg, sk_office **out, sk_error *err)
{
	sk_office_config def;
	if (!cfg) {
		sk_office_config_default(&def);
		cfg = &def;
	}
	char path[PATH_MAX];
	if (cfg->worker) {
		if (snprintf(path, sizeof(path), "%s", cfg->worker) >= (int)sizeof(path))
			return sk_error_set(err, SK_EINVAL, "office worker path too long");
		if (access(path, X_OK) != 0)
			return sk_error_sys(err, SK_ENOTFOUND, "office worker %s", path);
	} else {
		int rc = sk_office_worker_path(path, sizeof(path), err);
		if (rc)
			return rc;
	}
	if (cfg->max_as && cfg->max_as < (256u << 20))
		return sk_error_set(err, SK_EINVAL, "office worker address space below 256 MiB");
	if (cfg->max_output && cfg->max_output < (1u << 20))
		return sk_error_set(err, SK_EINVAL, "office output limit below 1 MiB");
	sk_office *o = calloc(1, sizeof(*o));
	if (!o)
		return sk_error_set(err, SK_ENOMEM, "office pool");
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->cv, NULL);
	o->devnull = -1;
	o->n = cfg->workers ? cfg->workers : 1;
	o->max_jobs = cfg->max_jobs ? cfg->max_jobs : 200;
	o->quiet = cfg->quiet;
	o->max_as = cfg->max_as ? cfg->max_as : 3ull << 30;
	o->max_output = cfg->max_output ? cfg->max_output : 256ull << 20;
	o->start_ms = cfg->start_timeout_ms ? cfg->start_timeout_ms : 120000;
	o->pages_per_job = cfg->pages_per_job ? cfg->pages_per_job : PAGES_PER_JOB;
	int rc = sk_spawn_user(cfg->user, &o->drop, &o->uid, &o->gid, err);
	if (rc)
		goto fail;
	o->path = strdup(path);
	o->w = calloc(o->n, sizeof(*o->w));
	o->envp = office_env();
	o->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (!o->path || !o->w || !o->envp) {
		rc = sk_error_set(err, SK_ENOMEM, "office pool");
		goto fail;
	}
	if (o->devnull < 0) {
		rc = sk_error_sys(err, SK_EIO, "/dev/null");
		goto fail;
	}
	for (unsigned i = 0; i < o->n; i++)
		o->w[i].sock = -1;
	/* all start at once (each loads LibreOffice: seconds), then each READY unless in the
	 * background, where a worker's first job waits for it */
	for (unsigned i = 0; i < o->n && !rc; i++)
		rc = start(o, &o->w[i], err);
	for (unsigned i = 0; i < o->n && !rc && !cfg->background; i++)
		rc = ready(o, &o->w[i], 0, err);
	if (rc)
		goto fail;
	*out = o;
	return 0;
fail:
	sk_office_close(o);
	return rc;
}

/* ---- jobs ------------------------------------------------------------------------------ */

static void count(sk_office *o, uint64_t *field)
{
	pthread_mutex_lock(&o->mu);
	(*field)++;
	pthread_mutex_unlock(&o->mu);
}

/* The worker's output: exactly size bytes, sealed, of the mode's kind (a ZIP; a PDF), read
 * into out. */
static int take_output(sk_office *o, uint32_t mode, int fd, uint64_t size, sk_buf *out,
		       sk_reason *reason, sk_error *err)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != size ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
		*reason = SK_REASON_WORKER_CRASH;
		return sk_error_set(err, SK_EFORMAT, "office worker: malformed answer (output)");
	}
	if (size > o->max_output || size > SIZE_MAX / 2) {
		*reason = SK_REASON_LIMIT_SIZE;
		return sk_error_set(err, SK_EFORMAT, "converted file larger than the limit");
	}
	int rc = sk_wire_memfd_read(fd, size, out);
	if (rc) {
		*reason = rc == SK_ELIMIT || rc == SK_ENOMEM ? SK_REASON_LIMIT_SIZE : SK_REASON_INTERNAL;
		return sk_error_set(err, SK_EFORMAT, "converted file: %s",
				    rc == SK_ELIMIT ? "larger than the output buffer"
				    : rc == SK_ENOMEM ? "no memory" : "cannot be read");
	}
	const char *sig = mode == SK_OFFICE_CONVERT ? "PK\3\4" : "%PDF-";
	size_t sn = strlen(sig);
	if (size && (size < sn || memcmp(sk_buf_data(out), sig, sn) != 0)) {
		sk_buf_reset(out);
		*reason = SK_REASON_WORKER_CRASH;
		return sk_error_set(err, SK_EFORMAT, "office worker: the output is not a %s",
				    mode == SK_OFFICE_CONVERT ? "ZIP" : "PDF");
	}
	return 0;
}

/* One attempt on worker w (held). 0: done (out filled, *ans the answer); SK_EFORMAT with
 * *reason; 1: the job never reached the worker (it had died while idle: the caller tries
 * another). */
static int attempt(sk_office *o, struct oworker *w, const sk_wire_office_job *j,
		   const uint8_t *msg, size_t mn, int in_fd, int out_fd, uint64_t deadline_ns, sk_buf *out,
		   sk_wire_office_answer *ans, sk_reason *reason, sk_error *err)
{
	int fds[2] = {in_fd, out_fd};
	if (sk_wire_send(w->sock, SK_WIRE_OFFICE_JOB, msg, mn, fds, 2) != 0) {
		replace(o, w);
		return 1;
	}
	count(o, &o->st.jobs);
	uint32_t type = 0;
	uint8_t *a = NULL;
	size_t an = 0;
	int rc = sk_wire_recv(w->sock, &type, &a, &an, NULL, 0, deadline_ns);
	if (rc == SK_ELIMIT) {
		replace(o, w);
		count(o, &o->st.timeouts);
		count(o, &o->st.failures);
		*reason = SK_REASON_LIMIT_TIME;
		return sk_error_set(err, SK_EFORMAT, "office worker killed at the time limit");
	}
	if (rc || type != SK_WIRE_OFFICE_ANSWER || sk_wire_office_answer_decode(a, an, ans) != 0) {
		free(a);
		char how[64] = "";
		reap(o, w, how, sizeof(how));
		replace(o, w);
		count(o, &o->st.failures);
		*reason = SK_REASON_WORKER_CRASH;
		return sk_error_set(err, SK_EFORMAT, "office worker: %s%s%s",
				    rc == SK_EIO ? "died" : "malformed answer", how[0] ? ": " : "",
				    how);
	}
	if (ans->reason != SK_REASON_NONE) {
		/* after a failure LibreOffice had a part in, the worker exits: a fresh one takes
		 * its place */
		sk_error_set(err, SK_EFORMAT, "%s", ans->detail ? ans->detail : "conversion failed");
		free(a);
		if (sk_wire_office_retires(j->mode, j->from))
			replace(o, w);
		count(o, &o->st.failures);
		*reason = ans->reason;
		return SK_EFORMAT;
	}
	ans->detail = NULL; /* (it pointed into a) */
	free(a);
	rc = take_output(o, j->mode, out_fd, ans->out_size, out, reason, err);
	if (rc) {
		sk_buf_reset(out);
		replace(o, w);
		count(o, &o->st.failures);
		return rc;
	}
	pthread_mutex_lock(&o->mu);
	bool retire = ++w->jobs >= o->max_jobs;
	pthread_mutex_unlock(&o->mu);
	if (retire)
		replace(o, w);
	return 0;
}

/* The job's deadline: b's, else DEFAULT_SECONDS (or b's max_seconds) from now */
static uint64_t job_deadline(const sk_budget *b)
{
	if (b && b->deadline_ns)
		return b->deadline_ns;
	return sk_spawn_now_ns() +
	       (uint64_t)(b && b->max_seconds ? b->max_seconds : DEFAULT_SECONDS) * 1000000000ull;
}

/* Runs job j on a worker: in_fd (a sealed memfd) its input, out its output (reset first),
 * *ans the answer. j->out_max and j->deadline_ns are set here. 0, or SK_EFORMAT with
 * *reason (never NONE then). */
static int run(sk_office *o, sk_wire_office_job *j, int in_fd, uint64_t deadline, sk_buf *out,
	       sk_wire_office_answer *ans, sk_reason *reason, sk_error *err)
{
	sk_buf_reset(out);
	memset(ans, 0, sizeof(*ans));
	*reason = SK_REASON_NONE;
	if (sk_spawn_now_ns() >= deadline) {
		*reason = SK_REASON_LIMIT_TIME;
		return sk_error_set(err, SK_EFORMAT, "time limit passed before the office job");
	}
	j->out_max = o->max_output;
	j->deadline_ns = deadline;
	uint8_t *msg = NULL;
	size_t mn = 0;
	int out_fd = memfd_create("sekisho-office-out", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int rc = 0;
	if (out_fd < 0 || sk_wire_office_job_encode(j, &msg, &mn)) {
		*reason = SK_REASON_INTERNAL;
		rc = sk_error_sys(err, SK_EFORMAT, "office job (memfd)");
		goto done;
	}
	for (int tries = 0;; tries++) {
		struct oworker *w = acquire(o, deadline, reason, err);
		if (!w) {
			if (*reason == SK_REASON_WORKER_CRASH)
				count(o, &o->st.failures);
			rc = SK_EFORMAT;
			break;
		}
		rc = attempt(o, w, j, msg, mn, in_fd, out_fd, deadline, out, ans, reason, err);
		release(o, w);
		if (rc != 1)
			break;
		if (tries == 1 || ftruncate(out_fd, 0) != 0) {
			count(o, &o->st.failures);
			*reason = SK_REASON_WORKER_CRASH;
			rc = sk_error_set(err, SK_EFORMAT, "office worker died before the job");
			break;
		}
	}
done:
	free(msg);
	if (out_fd >= 0)
		close(out_fd);
	if (rc) {
		sk_buf_reset(out);
		if (*reason == SK_REASON_NONE)
			*reason = SK_REASON_INTERNAL;
	}
	return rc;
}

/* p[0..n) in a sealed memfd the workers may only read: the descriptor, or SK_EFORMAT with
 * *reason and err set */
static int input_fd(sk_office *o, const uint8_t *p, size_t n, sk_reason *reason, sk_error *err)
{
	if (n > o->max_output) {
		*reason = SK_REASON_LIMIT_SIZE;
		return sk_error_set(err, SK_EFORMAT, "input larger than the office limit");
	}
	int fd = -1;
	if (sk_wire_memfd(n ? p : (const uint8_t *)"", n, &fd) != 0) {
		*reason = SK_REASON_INTERNAL;
		return sk_error_sys(err, SK_EFORMAT, "office job (memfd)");
	}
	return fd;
}

/* run() with p[0..n) as the input, b's deadline */
static int run_bytes(sk_office *o, sk_wire_office_job *j, const uint8_t *p, size_t n,
		     const sk_budget *b, sk_buf *out, sk_wire_office_answer *ans, sk_reason *reason,
		     sk_error *err)
{
	int in_fd = input_fd(o, p, n, reason, err);
	if (in_fd < 0)
		return SK_EFORMAT;
	int rc = run(o, j, in_fd, job_deadline(b), out, ans, reason, err);
	close(in_fd);
	return rc;
}

int sk_office_convert(sk_office *o, const char *from, const uint8_t *p, size_t n,
		      const sk_budget *b, sk_buf *out, sk_reason *reason, sk_error *err)
{
	sk_buf_reset(out);
	*reason = SK_REASON_NONE;
	if (!sk_office_target(from)) {
		*reason = SK_REASON_UNKNOWN_TYPE;
		return sk_error_set(err, SK_EFORMAT, "no conversion for type %s", from ? from : "(null)");
	}
	sk_wire_office_job j = {.mode = SK_OFFICE_CONVERT, .from = from};
	sk_wire_office_answer ans;
	return run_bytes(o, &j, p, n, b, out, &ans, reason, err);
}

/* The render budget's pixels left in b (0: no limit); *none when none are left */
static uint64_t pixels_left(const sk_budget *b, bool *none)
{
	*none = false;
	if (!b || !b->max_pixels)
		return 0;
	if (b->pixels >= b->max_pixels) {
		*none = true;
		return 0;
	}
	return b->max_pixels - b->pixels;
}

static bool image_args(const char *from, const sk_render_options *opt, sk_reason *reason,
		       sk_error *err)
{
	if (!sk_office_image_from(from)) {
		*reason = SK_REASON_UNKNOWN_TYPE;
		sk_error_set(err, SK_EFORMAT, "no 画像化 for type %s", from ? from : "(null)");
		return false;
	}
	if (opt && opt->dpi > SK_WIRE_DPI_MAX) {
		*reason = SK_REASON_INTERNAL;
		sk_error_set(err, SK_EINVAL, "画像化: dpi above %u", SK_WIRE_DPI_MAX);
		return false;
	}
	return true;
}

/* An IMAGE job on in_fd */
static int image_fd(sk_office *o, const char *from, int in_fd, const sk_render_options *opt,
		    unsigned first, unsigned last, uint64_t max_pixels, uint64_t deadline,
		    sk_buf *out, sk_render_info *info, sk_reason *reason, sk_error *err)
{
	sk_wire_office_job j = {.mode = SK_OFFICE_IMAGE, .from = from, .first = first,
				.last = last, .max_pixels = max_pixels};
	if (opt) {
		j.dpi = opt->dpi;
		j.max_pages = opt->max_pages;
		j.gray = opt->gray;
		j.ocr_lang = opt->ocr_lang;
	}
	sk_wire_office_answer ans;
	int rc = run(o, &j, in_fd, deadline, out, &ans, reason, err);
	if (rc == 0 && !ans.out_size) {
		*reason = SK_REASON_WORKER_CRASH;
		rc = sk_error_set(err, SK_EFORMAT, "office worker: 画像化 without an output");
	}
	if (rc == 0 && info)
		*info = ans.info;
	return rc;
}

int sk_office_image(sk_office *o, const char *from, const uint8_t *p, size_t n,
		    const sk_render_options *opt, unsigned first, unsigned last,
		    const sk_budget *b, sk_buf *out, sk_render_info *info, sk_reason *reason,
		    sk_error *err)
{
	sk_buf_reset(out);
	*reason = SK_REASON_NONE;
	if (!image_args(from, opt, reason, err))
		return SK_EFORMAT;
	bool none;
	uint64_t px = pixels_left(b, &none);
	if (none) {
		*reason = SK_REASON_LIMIT_PIXELS;
		return sk_error_set(err, SK_EFORMAT, "画像化: no pixels left in the budget");
	}
	int in_fd = input_fd(o, p, n, reason, err);
	if (in_fd < 0)
		return SK_EFORMAT;
	int rc = image_fd(o, from, in_fd, opt, first, last, px, job_deadline(b), out, info,
			  reason, err);
	close(in_fd);
	return rc;
}

int sk_office_pdf(sk_office *o, const char *from, const uint8_t *p, size_t n,
		  const sk_budget *b, sk_buf *out, unsigned *pages, sk_reason *reason,
		  sk_error *err)
{
	sk_buf_reset(out);
	*reason = SK_REASON_NONE;
	if (!image_args(from, NULL, reason, err))
		return SK_EFORMAT;
	sk_wire_office_job j = {.mode = SK_OFFICE_PDF, .from = from};
	sk_wire_office_answer ans;
	int rc = run_bytes(o, &j, p, n, b, out, &ans, reason, err);
	/* a count for every document; an output for all but a PDF (whose own bytes are it) */
	bool is_pdf = !strcmp(from, "pdf");
	if (rc == 0 && (!ans.info.pages || is_pdf != !ans.out_size)) {
		sk_buf_reset(out);
		*reason = SK_REASON_WORKER_CRASH;
		rc = sk_error_set(err, SK_EFORMAT, "office worker: malformed answer (PDF)");
	}
	if (rc == 0)
		*pages = ans.info.pages;
	return rc;
}

/* A JOIN job: the parts one after the other in one sealed memfd */
int sk_office_join(sk_office *o, const sk_buf *parts, size_t n, const sk_budget *b,
		   sk_buf *out, sk_reason *reason, sk_error *err)
{
	sk_buf_reset(out);
	*reason = SK_REASON_INTERNAL;
	if (!n || n > SK_WIRE_PARTS_MAX)
		return sk_error_set(err, SK_EINVAL, "join: %zu parts", n);
	sk_wire_office_job *j = calloc(1, sizeof(*j));
	sk_buf all;
	sk_buf_init(&all, (size_t)o->max_output);
	int rc = j ? 0 : SK_ENOMEM;
	for (size_t i = 0; !rc && i < n; i++) {
		j->parts[i] = sk_buf_len(&parts[i]);
		rc = sk_buf_add(&all, sk_buf_len(&parts[i]) ? sk_buf_data(&parts[i]) : (const uint8_t *)"",
				sk_buf_len(&parts[i]));
	}
	if (rc) {
		*reason = rc == SK_ELIMIT ? SK_REASON_LIMIT_SIZE : SK_REASON_INTERNAL;
		rc = sk_error_set(err, SK_EFORMAT, "join: %s", rc == SK_ELIMIT ? "too large" : "no memory");
	} else {
		j->mode = SK_OFFICE_JOIN;
		j->from = "pdf";
		j->nparts = (uint32_t)n;
		sk_wire_office_answer ans;
		rc = run_bytes(o, j, sk_buf_data(&all), sk_buf_len(&all), b, out, &ans, reason, err);
		if (rc == 0 && !ans.out_size) {
			*reason = SK_REASON_WORKER_CRASH;
			rc = sk_error_set(err, SK_EFORMAT, "office worker: a join without an output");
		}
	}
	sk_buf_free(&all);
	free(j);
	if (rc == 0)
		*reason = SK_REASON_NONE;
	return rc;
}

/* ---- 画像化 of a whole document, its pages spread across the workers ------------------ */

struct spread {
	sk_office *o;
	int in_fd;
	const sk_render_options *opt;
	uint64_t max_pixels, deadline;
	unsigned pages, per, nranges;
	sk_buf *parts;
	sk_render_info *infos;
	pthread_mutex_t mu;
	unsigned next;   /* the next range to take */
	bool failed;     /* a range failed: no more are taken */
	sk_reason reason;
	sk_error err;
};

/* Takes ranges until none are left or one failed */
static void *spread_run(void *arg)
{
	struct spread *s = arg;
	for (;;) {
		pthread_mutex_lock(&s->mu);
		unsigned k = s->failed ? s->nranges : s->next++;
		pthread_mutex_unlock(&s->mu);
		if (k >= s->nranges)
			return NULL;
		unsigned first = k * s->per;
		unsigned last = first + s->per < s->pages ? first + s->per : s->pages;
		sk_reason why = SK_REASON_NONE;
		sk_error e;
		sk_error_clear(&e);
		int rc = image_fd(s->o, "pdf", s->in_fd, s->opt, first, last, s->max_pixels,
				  s->deadline, &s->parts[k], &s->infos[k], &why, &e);
		if (rc == 0 && (s->infos[k].rendered != last - first || s->infos[k].pages != s->pages)) {
			why = SK_REASON_WORKER_CRASH;
			rc = sk_error_set(&e, SK_EFORMAT, "office worker: pages %u-%u came back as %u of %u",
					  first + 1, last, s->infos[k].rendered, s->infos[k].pages);
		}
		if (rc) {
			pthread_mutex_lock(&s->mu);
			if (!s->failed) {
				s->failed = true;
				s->reason = why;
				s->err = e;
			}
			pthread_mutex_unlock(&s->mu);
			return NULL;
		}
	}
}

int sk_office_image_document(sk_office *o, const char *from, const uint8_t *p, size_t n,
			     const sk_render_options *opt, const sk_budget *b, sk_buf *out,
			     sk_render_info *info, sk_reason *reason, sk_error *err)
{
	sk_buf_reset(out);
	*reason = SK_REASON_NONE;
	if (!image_args(from, opt, reason, err))
		return SK_EFORMAT;
	sk_render_options ro;
	if (opt)
		ro = *opt;
	else
		sk_render_options_default(&ro);
	unsigned max_pages = ro.max_pages ? ro.max_pages : 500;
	bool none;
	uint64_t px = pixels_left(b, &none);
	if (none) {
		*reason = SK_REASON_LIMIT_PIXELS;
		return sk_error_set(err, SK_EFORMAT, "画像化: no pixels left in the budget");
	}
	uint64_t deadline = job_deadline(b);
	sk_budget jb;
	if (b)
		jb = *b;
	else
		sk_budget_default(&jb);
	jb.deadline_ns = deadline; /* one deadline for every job of the document */

	/* the page count (and LibreOffice's PDF of anything but a PDF) */
	sk_buf pdf;
	sk_buf_init(&pdf, (size_t)o->max_output);
	unsigned pages = 0;
	int rc = sk_office_pdf(o, from, p, n, &jb, &pdf, &pages, reason, err);
	if (rc) {
		sk_buf_free(&pdf);
		return rc;
	}
	if (pages > max_pages) {
		sk_buf_free(&pdf);
		*reason = SK_REASON_LIMIT_PAGES;
		return sk_error_set(err, SK_EFORMAT, "画像化: %u pages, at most %u", pages, max_pages);
	}
	bool is_pdf = !strcmp(from, "pdf");
	int in_fd = is_pdf ? input_fd(o, p, n, reason, err)
			   : input_fd(o, sk_buf_data(&pdf), sk_buf_len(&pdf), reason, err);
	sk_buf_free(&pdf);
	if (in_fd < 0)
		return SK_EFORMAT;

	struct spread s = {.o = o, .in_fd = in_fd, .opt = &ro, .max_pixels = px,
			   .deadline = deadline, .pages = pages, .per = o->pages_per_job};
	s.nranges = (pages + s.per - 1) / s.per;
	s.parts = calloc(s.nranges, sizeof(*s.parts));
	s.infos = calloc(s.nranges, sizeof(*s.infos));
	pthread_mutex_init(&s.mu, NULL);
	sk_error_clear(&s.err);
	if (!s.parts || !s.infos) {
		*reason = SK_REASON_INTERNAL;
		rc = sk_error_set(err, SK_ENOMEM, "画像化: ranges");
		goto done;
	}
	for (unsigned i = 0; i < s.nranges; i++)
		sk_buf_init(&s.parts[i], (size_t)o->max_output);
	/* as many threads as ranges, at most one per worker; this one takes ranges too */
	unsigned nt = s.nranges < o->n ? s.nranges : o->n;
	pthread_t *th = nt > 1 ? calloc(nt - 1, sizeof(*th)) : NULL;
	unsigned started = 0;
	for (unsigned i = 0; th && i + 1 < nt; i++)
		if (pthread_create(&th[i], NULL, spread_run, &s) == 0)
			started++;
	spread_run(&s);
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	free(th);
	if (s.failed) {
		*reason = s.reason != SK_REASON_NONE ? s.reason : SK_REASON_INTERNAL;
		rc = sk_error_set(err, SK_EFORMAT, "%s", s.err.msg[0] ? s.err.msg : "画像化 failed");
		goto done;
	}
	sk_render_info sum = {.pages = pages};
	for (unsigned i = 0; i < s.nranges; i++) {
		sum.rendered += s.infos[i].rendered;
		sum.pixels += s.infos[i].pixels;
		for (int m = 0; m < SK_RENDER_OCR__COUNT; m++)
			sum.ocr[m] += s.infos[i].ocr[m];
	}
	/* each part was held to what was left of the budget; together too */
	if (px && sum.pixels > px) {
		*reason = SK_REASON_LIMIT_PIXELS;
		rc = sk_error_set(err, SK_EFORMAT, "画像化: %llu pixels, %llu left in the budget",
				  (unsigned long long)sum.pixels, (unsigned long long)px);
		goto done;
	}
	if (s.nranges == 1) {
		rc = sk_buf_add(out, sk_buf_data(&s.parts[0]), sk_buf_len(&s.parts[0]));
		if (rc) {
			*reason = rc == SK_ELIMIT ? SK_REASON_LIMIT_SIZE : SK_REASON_INTERNAL;
			rc = sk_error_set(err, SK_EFORMAT, "画像化: output too large");
		}
	} else {
		rc = sk_office_join(o, s.parts, s.nranges, &jb, out, reason, err);
	}
	if (rc == 0 && info)
		*info = sum;
done:
	close(in_fd);
	for (unsigned i = 0; s.parts && i < s.nranges; i++)
		sk_buf_free(&s.parts[i]);
	free(s.parts);
	free(s.infos);
	pthread_mutex_destroy(&s.mu);
	if (rc) {
		sk_buf_reset(out);
		if (*reason == SK_REASON_NONE)
			*reason = SK_REASON_INTERNAL;
	}
	return rc;
}

void sk_office_stats_get(sk_office *o, sk_office_stats *st)
{
	pthread_mutex_lock(&o->mu);
	*st = o->st;
	pthread_mutex_unlock(&o->mu);
}

size_t sk_office_pids(sk_office *o, pid_t *pids, size_t n)
{
	size_t k = 0;
	pthread_mutex_lock(&o->mu);
	for (unsigned i = 0; i < o->n && k < n; i++)
		if (o->w[i].pid > 0 && !o->w[i].starting)
			pids[k++] = o->w[i].pid;
	pthread_mutex_unlock(&o->mu);
	return k;
}
