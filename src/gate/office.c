/* The office pool: sekisho-office workers converting legacy office formats (see
 * include/sekisho/office.h). Processes are started and ended as the engine's pool does
 * (spawn.h); the jobs are the office worker's messages (wire.h). The gate parses nothing
 * of what a worker returns beyond its size and the ZIP signature: the OOXML module
 * rebuilds it in the engine's worker afterwards. */
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
	unsigned max_jobs, start_ms;
	uint64_t max_as, max_output;
	char **envp;
	int devnull;
	bool closing;
	uint64_t started; /* workers started, the first ones included */
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

static void release(sk_office *o, struct oworker *w)
{
	pthread_mutex_lock(&o->mu);
	w->busy = false;
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
			w->busy = true;
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
	o->max_as = cfg->max_as ? cfg->max_as : 3ull << 30;
	o->max_output = cfg->max_output ? cfg->max_output : 256ull << 20;
	o->start_ms = cfg->start_timeout_ms ? cfg->start_timeout_ms : 120000;
	int rc = sk_spawn_user(cfg->user, &o->drop, &o->uid, &o->gid, err);
	if (rc)
		goto fail;
	o->path = strdup(path);
	o->w = calloc(o->n, sizeof(*o->w));
	o->envp = sk_spawn_env();
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

/* ---- conversion ------------------------------------------------------------------------ */

static void count(sk_office *o, uint64_t *field)
{
	pthread_mutex_lock(&o->mu);
	(*field)++;
	pthread_mutex_unlock(&o->mu);
}

/* p[0..n) in a sealed memfd the worker may only read */
static int input_memfd(const uint8_t *p, size_t n)
{
	int fd = memfd_create("sekisho-office-in", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return SK_EIO;
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(fd, p + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return SK_EIO;
		}
		done += (size_t)w;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)) {
		close(fd);
		return SK_EIO;
	}
	return fd;
}

/* The worker's output: exactly size bytes, sealed, a ZIP, read into out. */
static int take_output(sk_office *o, int fd, uint64_t size, sk_buf *out, sk_reason *reason,
		       sk_error *err)
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
	int rc = sk_buf_reserve(out, (size_t)size);
	for (uint64_t off = 0; !rc && off < size;) {
		uint8_t chunk[65536];
		size_t want = size - off < sizeof(chunk) ? (size_t)(size - off) : sizeof(chunk);
		ssize_t r = pread(fd, chunk, want, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*reason = SK_REASON_INTERNAL;
			return sk_error_sys(err, SK_EFORMAT, "read the converted file");
		}
		rc = sk_buf_add(out, chunk, (size_t)r);
		off += (uint64_t)r;
	}
	if (rc) {
		*reason = rc == SK_ELIMIT ? SK_REASON_LIMIT_SIZE : SK_REASON_INTERNAL;
		return sk_error_set(err, SK_EFORMAT, "converted file: %s",
				    rc == SK_ELIMIT ? "larger than the output buffer" : "no memory");
	}
	if (size < 4 || memcmp(sk_buf_data(out), "PK\3\4", 4) != 0) {
		*reason = SK_REASON_WORKER_CRASH;
		return sk_error_set(err, SK_EFORMAT, "office worker: the output is not a ZIP");
	}
	return 0;
}

/* One attempt on worker w (held). 0: converted (out filled); SK_EFORMAT with *reason;
 * 1: the job never reached the worker (it had died while idle: the caller tries another). */
static int attempt(sk_office *o, struct oworker *w, const uint8_t *msg, size_t mn, int in_fd,
		   int out_fd, uint64_t deadline_ns, sk_buf *out, sk_reason *reason,
		   sk_error *err)
{
	int fds[2] = {in_fd, out_fd};
	if (sk_wire_send(w->sock, SK_WIRE_OFFICE_JOB, msg, mn, fds, 2) != 0) {
		replace(o, w);
		return 1;
	}
	count(o, &o->st.jobs);
	uint32_t type = 0;
	uint8_t *ans = NULL;
	size_t an = 0;
	int rc = sk_wire_recv(w->sock, &type, &ans, &an, NULL, 0, deadline_ns);
	if (rc == SK_ELIMIT) {
		replace(o, w);
		count(o, &o->st.timeouts);
		count(o, &o->st.failures);
		*reason = SK_REASON_LIMIT_TIME;
		return sk_error_set(err, SK_EFORMAT, "office worker killed at the time limit");
	}
	sk_reason why = SK_REASON_NONE;
	const char *detail = NULL;
	uint64_t size = 0;
	if (rc || type != SK_WIRE_OFFICE_ANSWER ||
	    sk_wire_office_answer_decode(ans, an, &why, &detail, &size) != 0) {
		free(ans);
		char how[64] = "";
		reap(o, w, how, sizeof(how));
		replace(o, w);
		count(o, &o->st.failures);
		*reason = SK_REASON_WORKER_CRASH;
		return sk_error_set(err, SK_EFORMAT, "office worker: %s%s%s",
				    rc == SK_EIO ? "died" : "malformed answer", how[0] ? ": " : "",
				    how);
	}
	if (why != SK_REASON_NONE) {
		/* the worker exits after a failure: a fresh one takes its place */
		sk_error_set(err, SK_EFORMAT, "%s", detail ? detail : "conversion failed");
		free(ans);
		replace(o, w);
		count(o, &o->st.failures);
		*reason = why;
		return SK_EFORMAT;
	}
	free(ans);
	rc = take_output(o, out_fd, size, out, reason, err);
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

int sk_office_convert(sk_office *o, const char *from, const uint8_t *p, size_t n,
		      const sk_budget *b, sk_buf *out, sk_reason *reason, sk_error *err)
{
	sk_buf_reset(out);
	*reason = SK_REASON_NONE;
	if (!sk_office_target(from)) {
		*reason = SK_REASON_UNKNOWN_TYPE;
		return sk_error_set(err, SK_EFORMAT, "no conversion for type %s", from ? from : "(null)");
	}
	if (n > o->max_output) {
		*reason = SK_REASON_LIMIT_SIZE;
		return sk_error_set(err, SK_EFORMAT, "input larger than the office limit");
	}
	uint64_t deadline = b && b->deadline_ns ? b->deadline_ns
			    : sk_spawn_now_ns() + (uint64_t)(b && b->max_seconds ? b->max_seconds
										  : DEFAULT_SECONDS) *
							      1000000000ull;
	if (sk_spawn_now_ns() >= deadline) {
		*reason = SK_REASON_LIMIT_TIME;
		return sk_error_set(err, SK_EFORMAT, "time limit passed before the conversion");
	}
	uint8_t *msg = NULL;
	size_t mn = 0;
	int in_fd = input_memfd(p, n);
	int out_fd = memfd_create("sekisho-office-out", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int rc = 0;
	if (in_fd < 0 || out_fd < 0 || sk_wire_office_job_encode(from, o->max_output, &msg, &mn)) {
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
		rc = attempt(o, w, msg, mn, in_fd, out_fd, deadline, out, reason, err);
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
	if (in_fd >= 0)
		close(in_fd);
	if (out_fd >= 0)
		close(out_fd);
	if (rc)
		sk_buf_reset(out);
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
