/* The pool of sandboxed workers (see include/sekisho/pool.h). */
#include "sekisho/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../worker/wire.h"
#include "spawn.h"

/* After the item's deadline, a worker gets this long to answer limit-time by itself
 * (then it is kept) before it is killed. */
#define GRACE_NS (250ull * 1000 * 1000)

struct worker {
	pid_t pid; /* 0: empty slot */
	int sock;
	unsigned jobs;
	bool busy;     /* held by a thread (running a job, or being started) */
	bool starting; /* exec'd, its READY not read yet (finish() reads it) */
	int cpu;       /* colocate: the CPU it was moved to; -1: none yet */
};

struct sk_pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct worker *w; /* cap slots: the first n the pool's own */
	unsigned n, cap;
	/* workers whose job waits on a conversion at the gate (convert_for): each lends its
	 * slot, so that messages behind a slow LibreOffice still get a worker (at most n
	 * more, [n, cap)); a lent slot's worker ends once it is idle again */
	unsigned converting;
	char *path;
	bool drop, colocate;
	uid_t uid;
	gid_t gid;
	unsigned max_jobs, start_ms;
	uint64_t max_as, max_fsize;
	uint32_t max_cpu;
	char **envp;
	int devnull;
	bool closing;
	/* The next worker, started in the background once a worker has done three quarters
	 * of its jobs, so that replacing it costs no wait: it takes the first slot that
	 * empties. */
	struct worker spare;
	bool spare_busy; /* a thread is starting it */
	sk_pool_stats st;
};

void sk_pool_config_default(sk_pool_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

int sk_pool_worker_path(char *buf, size_t n, sk_error *err)
{
	return sk_spawn_path("sekisho-worker", buf, n, err);
}

/* The slots a job may take now: the pool's own and one lent by each conversion waited on */
static unsigned slots(const sk_pool *p)
{
	return p->n + (p->converting < p->cap - p->n ? p->converting : p->cap - p->n);
}

/* ---- starting and stopping workers ----------------------------------------------- */

/* Kills (if still running) and reaps w; describes how it ended in detail. */
static void reap(sk_pool *p, struct worker *w, char *detail, size_t dn)
{
	sk_spawn_reap(w->pid, w->sock, detail, dn);
	w->sock = -1;
	pthread_mutex_lock(&p->mu);
	w->pid = 0;
	w->jobs = 0;
	w->starting = false;
	pthread_mutex_unlock(&p->mu);
}

/* Ends a worker (after its last job, or a failure) and updates the count. */
static void retire(sk_pool *p, struct worker *w, char *detail, size_t dn)
{
	bool was = w->pid > 0;
	reap(p, w, detail, dn);
	if (was) {
		pthread_mutex_lock(&p->mu);
		p->st.running--;
		pthread_mutex_unlock(&p->mu);
	}
}

/* Starts a worker process (socketpair, fork, exec) without waiting for it: it
 * initialises its libraries and its sandbox while the caller goes on. */
static int spawn_start(sk_pool *p, struct worker *w, sk_error *err)
{
	char a_uid[24], a_gid[24], a_as[24], a_cpu[24], a_fsize[24];
	snprintf(a_uid, sizeof(a_uid), "%u", (unsigned)p->uid);
	snprintf(a_gid, sizeof(a_gid), "%u", (unsigned)p->gid);
	snprintf(a_as, sizeof(a_as), "%llu", (unsigned long long)p->max_as);
	snprintf(a_cpu, sizeof(a_cpu), "%u", (unsigned)p->max_cpu);
	snprintf(a_fsize, sizeof(a_fsize), "%llu", (unsigned long long)p->max_fsize);
	char *argv[16];
	int k = 0;
	argv[k++] = p->path;
	argv[k++] = (char *)"--fd";
	argv[k++] = (char *)"3";
	if (p->drop) {
		argv[k++] = (char *)"--uid";
		argv[k++] = a_uid;
		argv[k++] = (char *)"--gid";
		argv[k++] = a_gid;
	}
	argv[k++] = (char *)"--as";
	argv[k++] = a_as;
	argv[k++] = (char *)"--cpu";
	argv[k++] = a_cpu;
	argv[k++] = (char *)"--fsize";
	argv[k++] = a_fsize;
	argv[k] = NULL;

	pid_t pid;
	int sock;
	int rc = sk_spawn_start(argv, p->envp, p->devnull, &pid, &sock, err);
	if (rc)
		return rc;
	pthread_mutex_lock(&p->mu);
	w->pid = pid;
	w->starting = true;
	p->st.running++;
	pthread_mutex_unlock(&p->mu);
	w->sock = sock;
	w->jobs = 0;
	w->cpu = -1;
	return 0;
}

/* Waits for a started worker's READY; a worker that does not say it in time is killed. */
static int finish(sk_pool *p, struct worker *w, sk_error *err)
{
	uint32_t type = 0;
	uint8_t *msg = NULL;
	size_t n = 0;
	int rc = sk_wire_recv(w->sock, &type, &msg, &n, NULL, 0,
			      sk_spawn_now_ns() + (uint64_t)p->start_ms * 1000000ull);
	bool ok = rc == 0 && type == SK_WIRE_READY && n == 4 && msg[0] == SK_WIRE_VERSION &&
		  !msg[1] && !msg[2] && !msg[3];
	free(msg);
	if (!ok) {
		char how[64] = "";
		retire(p, w, how, sizeof(how));
		return sk_error_set(err, SK_EINTERNAL, "%s did not start (%s%s%s)", p->path,
				    rc == SK_ELIMIT ? "no answer in time" : "not ready",
				    how[0] ? ", " : "", how);
	}
	pthread_mutex_lock(&p->mu);
	w->starting = false;
	p->st.started++;
	pthread_mutex_unlock(&p->mu);
	return 0;
}

static int spawn(sk_pool *p, struct worker *w, sk_error *err)
{
	int rc = spawn_start(p, w, err);
	return rc ? rc : finish(p, w, err);
}



/* ---- open and close ----------------------------------------------------------------- */

void sk_pool_close(sk_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->closing = true;
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->cap; i++)
		reap(p, &p->w[i], NULL, 0);
	reap(p, &p->spare, NULL, 0);
	if (p->devnull >= 0)
		close(p->devnull);
	sk_spawn_env_free(p->envp);
	free(p->path);
	free(p->w);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

int sk_pool_open(const sk_pool_config *cfg, sk_pool **out, sk_error *err)
{
	sk_pool_config def;
	if (!cfg) {
		sk_pool_config_default(&def);
		cfg = &def;
	}
	char path[PATH_MAX];
	if (cfg->worker) {
		if (snprintf(path, sizeof(path), "%s", cfg->worker) >= (int)sizeof(path))
			return sk_error_set(err, SK_EINVAL, "worker path too long");
		if (access(path, X_OK) != 0)
			return sk_error_sys(err, SK_ENOTFOUND, "worker %s", path);
	} else {
		int rc = sk_pool_worker_path(path, sizeof(path), err);
		if (rc)
			return rc;
	}
	if (cfg->max_as && cfg->max_as < (64u << 20))
		return sk_error_set(err, SK_EINVAL, "worker address space below 64 MiB");
	if (cfg->max_cpu == 1)
		return sk_error_set(err, SK_EINVAL, "worker CPU limit below 2 s");
	sk_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return sk_error_set(err, SK_ENOMEM, "pool");
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->devnull = -1;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	p->n = cfg->workers ? cfg->workers : cores > 0 ? (unsigned)cores : 1;
	p->cap = p->n * 2;
	p->colocate = cfg->colocate;
	p->max_jobs = cfg->max_jobs ? cfg->max_jobs : 500;
	p->max_as = cfg->max_as ? cfg->max_as : 1ull << 30;
	p->max_cpu = cfg->max_cpu ? cfg->max_cpu : 1200;
	p->max_fsize = cfg->max_fsize ? cfg->max_fsize : 4ull << 30;
	p->start_ms = cfg->start_timeout_ms ? cfg->start_timeout_ms : 30000;
	p->st.workers = p->n;
	int rc = 0;
	if ((rc = sk_spawn_user(cfg->user, &p->drop, &p->uid, &p->gid, err)) != 0)
		goto fail;
	p->path = strdup(path);
	p->w = calloc(p->cap, sizeof(*p->w));
	p->envp = sk_spawn_env();
	p->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (!p->path || !p->w || !p->envp) {
		rc = sk_error_set(err, SK_ENOMEM, "pool");
		goto fail;
	}
	if (p->devnull < 0) {
		rc = sk_error_sys(err, SK_EIO, "/dev/null");
		goto fail;
	}
	for (unsigned i = 0; i < p->cap; i++)
		p->w[i].sock = -1;
	p->spare.sock = -1;
	/* all start at once; then each READY (or, in the background, at its first job) */
	for (unsigned i = 0; i < p->n && !rc; i++)
		rc = spawn_start(p, &p->w[i], err);
	if (!rc && !cfg->background)
		rc = sk_pool_ready(p, err);
	if (rc)
		goto fail;
	*out = p;
	return 0;
fail:
	if (p->w)
		sk_pool_close(p);
	else {
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		free(p->path);
		sk_spawn_env_free(p->envp);
		if (p->devnull >= 0)
			close(p->devnull);
		free(p);
	}
	return rc;
}

int sk_pool_ready(sk_pool *p, sk_error *err)
{
	for (unsigned i = 0; i < p->n; i++) {
		struct worker *w = &p->w[i];
		pthread_mutex_lock(&p->mu);
		bool mine = w->pid > 0 && w->starting && !w->busy;
		if (mine)
			w->busy = true;
		pthread_mutex_unlock(&p->mu);
		if (!mine)
			continue;
		int rc = finish(p, w, err);
		pthread_mutex_lock(&p->mu);
		w->busy = false;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- jobs ------------------------------------------------------------------------------ */

/* Starts the spare in the background unless there is one (or the pool is closing). */
static void spare_start(sk_pool *p)
{
	pthread_mutex_lock(&p->mu);
	bool go = !p->closing && !p->spare_busy && p->spare.pid == 0;
	if (go)
		p->spare_busy = true;
	pthread_mutex_unlock(&p->mu);
	if (!go)
		return;
	sk_error err;
	if (spawn_start(p, &p->spare, &err) != 0)
		p->spare.sock = -1; /* none this time: a slot that empties starts one itself */
	pthread_mutex_lock(&p->mu);
	p->spare_busy = false;
	pthread_mutex_unlock(&p->mu);
}

/* w (held by the caller) has just been emptied: the spare, if any, takes its place. */
static void spare_take(sk_pool *p, struct worker *w)
{
	pthread_mutex_lock(&p->mu);
	if (w->pid == 0 && p->spare.pid > 0 && !p->spare_busy) {
		w->pid = p->spare.pid;
		w->sock = p->spare.sock;
		w->jobs = 0;
		w->starting = p->spare.starting;
		w->cpu = -1;
		p->spare.pid = 0;
		p->spare.sock = -1;
		p->spare.starting = false;
	}
	pthread_mutex_unlock(&p->mu);
}

static void release(sk_pool *p, struct worker *w)
{
	pthread_mutex_lock(&p->mu);
	/* a lent slot given back: its worker ends */
	bool lent = (unsigned)(w - p->w) >= slots(p) && w->pid > 0;
	pthread_mutex_unlock(&p->mu);
	if (lent)
		retire(p, w, NULL, 0);
	pthread_mutex_lock(&p->mu);
	w->busy = false;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* An idle worker, started here when its slot is empty; NULL (err set) when the pool is
 * closing or a worker could not be started. */
static struct worker *acquire(sk_pool *p, sk_error *err)
{
	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (p->closing) {
			pthread_mutex_unlock(&p->mu);
			sk_error_set(err, SK_EINVAL, "pool closed");
			return NULL;
		}
		struct worker *empty = NULL;
		for (unsigned i = 0, m = slots(p); i < m; i++) {
			struct worker *w = &p->w[i];
			if (w->busy)
				continue;
			if (w->pid > 0) {
				w->busy = true;
				bool st = w->starting;
				pthread_mutex_unlock(&p->mu);
				if (!st || finish(p, w, err) == 0)
					return w;
				/* it did not come up (finish says why): a new one, as for an empty slot */
				if (spawn(p, w, err) == 0)
					return w;
				release(p, w);
				return NULL;
			}
			if (!empty)
				empty = w;
		}
		if (empty) {
			empty->busy = true;
			pthread_mutex_unlock(&p->mu);
			spare_take(p, empty);
			if (empty->pid > 0 && (!empty->starting || finish(p, empty, err) == 0))
				return empty;
			if (spawn(p, empty, err) == 0)
				return empty;
			pthread_mutex_lock(&p->mu);
			empty->busy = false;
			pthread_cond_signal(&p->cv);
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		pthread_cond_wait(&p->cv, &p->mu);
	}
}


static void count(sk_pool *p, uint64_t *field)
{
	pthread_mutex_lock(&p->mu);
	(*field)++;
	pthread_mutex_unlock(&p->mu);
}

/* The input as a descriptor the worker may only read: a sealed memfd for memory input, the
 * caller's descriptor when it is read-only, else a read-only one opened anew. *own tells
 * whether the caller of this function closes it. (Memory input up to SK_WIRE_INLINE_MAX
 * bytes goes in the job message instead: see sk_pool_run.) */
static int input_fd(const sk_input *in, bool *own, sk_error *err)
{
	*own = false;
	if (in->mem) {
		int fd = memfd_create("sekisho-in", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (fd < 0)
			return sk_error_sys(err, SK_EIO, "memfd");
		size_t done = 0;
		while (done < in->size) {
			ssize_t w = write(fd, in->mem + done, (size_t)(in->size - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				close(fd);
				return sk_error_sys(err, SK_EIO, "memfd write");
			}
			done += (size_t)w;
		}
		if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL)) {
			close(fd);
			return sk_error_sys(err, SK_EIO, "memfd seal");
		}
		*own = true;
		return fd;
	}
	int fl = fcntl(in->fd, F_GETFL);
	if (fl < 0)
		return sk_error_sys(err, SK_EIO, "input");
	if ((fl & O_ACCMODE) == O_RDONLY)
		return in->fd;
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", in->fd);
	int fd = open(proc, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sk_error_sys(err, SK_EIO, "reopen input read-only");
	*own = true;
	return fd;
}

/* Ends the idle workers of slots no longer lent (see converting) */
static void shrink(sk_pool *p)
{
	for (;;) {
		struct worker *idle = NULL;
		pthread_mutex_lock(&p->mu);
		for (unsigned i = slots(p); i < p->cap && !idle; i++)
			if (!p->w[i].busy && p->w[i].pid > 0)
				idle = &p->w[i];
		if (idle)
			idle->busy = true;
		pthread_mutex_unlock(&p->mu);
		if (!idle)
			return;
		retire(p, idle, NULL, 0);
		pthread_mutex_lock(&p->mu);
		idle->busy = false;
		pthread_mutex_unlock(&p->mu);
	}
}

/* A CONVERT request of the worker in the middle of job (wire.h): its bytes converted by
 * the job's hook, in this thread, under the job's budget, and the CONVERTED answer sent.
 * Returns NULL when the worker got its answer, else what was wrong: a malformed request
 * (the worker is then treated as crashed) or a worker that went away. */
static const char *convert_for(sk_pool *p, struct worker *w, const sk_engine_job *job,
			       const uint8_t *msg, size_t mn, const int *fds, int nfd,
			       unsigned *asked)
{
	sk_convert req;
	uint64_t len = 0;
	if (!job->convert || nfd != 1 || ++*asked > SK_WIRE_CONVERTS_MAX ||
	    sk_wire_convert_decode(msg, mn, &req, &len) != 0 || sk_wire_sealed(fds[0], len) != 0)
		return "malformed convert request";
	sk_buf in, out;
	sk_buf_init(&in, SK_WIRE_CONVERT_MAX);
	sk_buf_init(&out, SK_WIRE_CONVERT_MAX);
	sk_error e;
	sk_error_clear(&e);
	sk_reason why = SK_REASON_NONE;
	int rc = sk_wire_memfd_read(fds[0], len, &in);
	if (rc) {
		why = SK_REASON_INTERNAL;
		sk_error_set(&e, rc, "convert: read the request");
	} else {
		/* w waits: its slot is lent to the jobs behind it meanwhile */
		pthread_mutex_lock(&p->mu);
		p->converting++;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		rc = job->convert(job->convert_ctx, &req,
				  sk_buf_len(&in) ? sk_buf_data(&in) : (const uint8_t *)"",
				  sk_buf_len(&in), &job->budget, &out, &why, &e);
		pthread_mutex_lock(&p->mu);
		p->converting--;
		pthread_mutex_unlock(&p->mu);
		shrink(p);
	}
	sk_buf_free(&in);
	int ofd = -1;
	if (rc == 0 &&
	    (rc = sk_wire_memfd(sk_buf_len(&out) ? sk_buf_data(&out) : (const uint8_t *)"",
				sk_buf_len(&out), &ofd)) != 0) {
		why = SK_REASON_INTERNAL;
		sk_error_set(&e, rc, "convert: memfd");
	}
	if (rc && why == SK_REASON_NONE)
		why = SK_REASON_INTERNAL; /* a hook that failed without a reason */
	uint8_t *a = NULL;
	size_t an = 0;
	const char *gone = NULL;
	if (sk_wire_converted_encode(rc ? why : SK_REASON_NONE, rc ? e.msg : "",
				     rc ? 0 : sk_buf_len(&out), &req, &a, &an) != 0 ||
	    sk_wire_send(w->sock, SK_WIRE_CONVERTED, a, an, &ofd, rc ? 0 : 1) != 0)
		gone = "worker died (convert)";
	free(a);
	if (ofd >= 0)
		close(ofd);
	sk_buf_free(&out);
	pthread_mutex_lock(&p->mu);
	p->st.conversions++;
	if (rc)
		p->st.conversion_failures++;
	pthread_mutex_unlock(&p->mu);
	return gone;
}

/* colocate: w onto this thread's CPU (a speed setting only: a failure changes nothing) */
static void colocate(struct worker *w)
{
	int cpu = sched_getcpu();
	if (cpu < 0 || cpu == w->cpu || cpu >= CPU_SETSIZE)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(w->pid, sizeof(set), &set) == 0)
		w->cpu = cpu;
}

static void crash(sk_engine_result *res, sk_reason why, const char *detail)
{
	sk_report_free(&res->report);
	sk_report_init(&res->report);
	res->type = *sk_type_find("unknown");
	res->out_size = 0;
	sk_report_block(&res->report, why, NULL, detail);
}

/* One attempt on worker w. Returns 0 with res filled (maybe blocked), 1 when the job
 * never reached the worker (it had died while idle: try another), <0 on a local error.
 * in_fd -1: the input is in the message. When the answer carries the output, *ans is the
 * answer (the caller frees it) and *inl points at the output's bytes in it; when the
 * output is in the worker's sealed memfd, *out_fd is it (the caller closes it). */
static int attempt(sk_pool *p, struct worker *w, const uint8_t *msg, size_t mn, int in_fd,
		   const sk_engine_job *job, sk_engine_result *res, bool *keep,
		   uint8_t **ans_out, const uint8_t **inl, int *out_fd)
{
	*keep = false;
	*ans_out = NULL;
	*inl = NULL;
	*out_fd = -1;
	char how[64] = "";
	char detail[128];
	if (p->colocate)
		colocate(w);
	bool sent = sk_wire_send(w->sock, SK_WIRE_JOB, msg, mn, &in_fd, in_fd >= 0 ? 1 : 0) == 0;
	if (!sent) {
		retire(p, w, how, sizeof(how));
		return 1;
	}
	uint64_t deadline = job->budget.deadline_ns ? job->budget.deadline_ns + GRACE_NS : 0;
	uint32_t type = 0;
	uint8_t *ans = NULL;
	size_t an = 0;
	const char *bad = NULL;
	unsigned asked = 0;
	int rc, afd = -1;
	/* the answer, after any number of CONVERT requests answered in between */
	for (;;) {
		int cfd[2] = {-1, -1}, nfd = 0;
		rc = sk_wire_recv_fds(w->sock, &type, &ans, &an, cfd, 2, &nfd, deadline);
		if (rc == 0 && type == SK_WIRE_CONVERT) {
			bad = convert_for(p, w, job, ans, an, cfd, nfd, &asked);
			for (int i = 0; i < nfd; i++)
				close(cfd[i]);
			free(ans);
			ans = NULL;
			if (bad)
				break;
			continue;
		}
		if (rc == 0 && nfd > 1) { /* an answer carries one descriptor at most */
			for (int i = 0; i < nfd; i++)
				close(cfd[i]);
			free(ans);
			ans = NULL;
			rc = SK_EFORMAT;
		} else if (rc == 0 && nfd)
			afd = cfd[0];
		break;
	}
	if (!bad && rc == SK_ELIMIT) {
		if (afd >= 0)
			close(afd);
		retire(p, w, how, sizeof(how));
		count(p, &p->st.timeouts);
		crash(res, SK_REASON_LIMIT_TIME, "worker killed at the time limit");
		return 0;
	}
	bool retiring = false;
	if (!bad && rc == SK_EIO)
		bad = "worker died";
	else if (!bad && rc == SK_ENOMEM)
		bad = "no memory for the answer";
	else if (!bad && (rc || type != SK_WIRE_ANSWER))
		bad = "malformed answer";
	else if (!bad) {
		sk_engine_result_free(res);
		if (sk_wire_answer_decode(ans, an, res, &retiring, inl) != 0)
			bad = "malformed answer";
		else if (*inl && job->detect_only)
			bad = "malformed answer (output)";
	}
	if (!bad && *inl)
		*ans_out = ans; /* the output is in it */
	else {
		free(ans);
		*inl = NULL;
	}
	if (!bad && !*inl && !job->detect_only && res->report.verdict != SK_VERDICT_BLOCKED) {
		/* the output is in the answer's memfd: exactly what the worker said, and sealed
		 * (nobody can change it now) */
		if (afd < 0 || sk_wire_sealed(afd, res->out_size) != 0)
			bad = "malformed answer (output)";
	} else if (!bad && afd >= 0)
		bad = "malformed answer (descriptor)";
	if (bad && afd >= 0) {
		close(afd);
		afd = -1;
	}
	if (bad) {
		free(*ans_out);
		*ans_out = NULL;
		*inl = NULL;
		retire(p, w, how, sizeof(how));
		count(p, &p->st.crashes);
		snprintf(detail, sizeof(detail), "%s%s%s", bad, how[0] ? ": " : "", how);
		crash(res, SK_REASON_WORKER_CRASH, detail);
		return 0;
	}
	*out_fd = afd;
	count(p, &p->st.jobs);
	*keep = !retiring && ++w->jobs < p->max_jobs;
	if (!*keep) {
		retire(p, w, NULL, 0);
		spare_take(p, w);
	} else if (w->jobs >= p->max_jobs - p->max_jobs / 4) {
		/* its replacement, ready before it is needed: a quarter of its jobs ahead (125
		 * jobs of the default 500) is time enough for a start (~50 ms), and a one-shot
		 * command that ends sooner seldom pays for a spare it never uses */
		spare_start(p);
	}
	return 0;
}

/* Copies the output to out: bytes that came in the answer (inl), or the sealed memfd,
 * read in chunks (no mapping: unmapping one costs every CPU a TLB flush). */
static int deliver(int out_fd, const uint8_t *inl, uint64_t size, sk_output *out,
		   sk_engine_result *res, sk_error *err)
{
	if (size == 0)
		return 0;
	sk_error werr;
	sk_error_clear(&werr);
	int rc = 0;
	if (inl) {
		rc = sk_output_write(out, inl, (size_t)size, &werr);
	} else if (!out->buf && out->fd >= 0 && size <= out->max - out->written) {
		/* file to file in the kernel, one copy (the sealed memfd cannot change) */
		off_t off = 0;
		while (!rc && (uint64_t)off < size) {
			size_t want = size - (uint64_t)off < ((size_t)1 << 30) ? (size_t)(size - (uint64_t)off)
									 : (size_t)1 << 30;
			ssize_t r = sendfile(out->fd, out_fd, &off, want);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				rc = sk_error_sys(&werr, SK_EIO, "write");
		}
		if (!rc)
			out->written += size;
	} else {
		size_t chunk = size < ((size_t)256 << 10) ? (size_t)size : (size_t)256 << 10;
		uint8_t *b = malloc(chunk);
		if (!b) {
			crash(res, SK_REASON_INTERNAL, "no memory for the output");
			return 0;
		}
		for (uint64_t off = 0; off < size && !rc;) {
			size_t want = size - off < chunk ? (size_t)(size - off) : chunk;
			ssize_t r = pread(out_fd, b, want, (off_t)off);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				free(b);
				crash(res, SK_REASON_INTERNAL, "read the output");
				return 0;
			}
			rc = sk_output_write(out, b, (size_t)r, &werr);
			off += (uint64_t)r;
		}
		free(b);
	}
	if (rc == 0)
		return 0;
	crash(res, rc == SK_ELIMIT ? SK_REASON_LIMIT_SIZE : SK_REASON_INTERNAL, werr.msg);
	if (rc == SK_EIO && out->buf == NULL && out->fd >= 0) {
		if (err)
			*err = werr;
		return SK_EIO;
	}
	return 0;
}

int sk_pool_run(sk_pool *p, const sk_engine_job *job, sk_input *in, sk_output *out,
		sk_engine_result *res, sk_error *err)
{
	memset(res, 0, sizeof(*res));
	sk_report_init(&res->report);
	res->type = *sk_type_find("unknown");
	sk_error lerr;
	sk_error_clear(&lerr);
	bool own_in = false;
	/* a small input travels in the job message: memory as it is, a file read here (one
	 * copy instead of a descriptor the worker reads) */
	sk_input small = *in;
	small.loaded = NULL;
	const uint8_t *in_bytes = NULL;
	size_t in_n = 0;
	bool inline_in = in->size <= SK_WIRE_INLINE_MAX;
	if (inline_in && sk_input_load(&small, &in_bytes, &in_n, &lerr) != 0) {
		inline_in = false; /* unreadable here: the worker gets the descriptor (and says) */
		sk_error_clear(&lerr);
	}
	int in_fd = inline_in ? -1 : input_fd(in, &own_in, &lerr);
	int out_fd = -1;
	uint8_t *msg = NULL, *ans = NULL;
	const uint8_t *inl = NULL;
	size_t mn = 0;
	if ((in_fd < 0 && !inline_in) ||
	    sk_wire_job_encode(job, out->max, inline_in ? (in_n ? in_bytes : (const uint8_t *)"")
							: NULL,
			       inline_in ? in_n : 0, &msg, &mn) != 0) {
		char d[160];
		snprintf(d, sizeof(d), "worker job: %.140s", lerr.msg[0] ? lerr.msg : "encode");
		crash(res, SK_REASON_INTERNAL, d);
		goto done;
	}
	for (int tries = 0;; tries++) {
		struct worker *w = acquire(p, &lerr);
		if (!w) {
			char d[160];
			snprintf(d, sizeof(d), "worker start: %.140s", lerr.msg);
			count(p, &p->st.crashes);
			crash(res, SK_REASON_WORKER_CRASH, d);
			goto done;
		}
		bool keep;
		int rc = attempt(p, w, msg, mn, in_fd, job, res, &keep, &ans, &inl, &out_fd);
		release(p, w);
		if (rc == 0)
			break;
		if (tries == 1) {
			count(p, &p->st.crashes);
			crash(res, SK_REASON_WORKER_CRASH, "worker died before the job");
			goto done;
		}
	}
	if (!job->detect_only && res->report.verdict != SK_VERDICT_BLOCKED) {
		int rc = deliver(out_fd, inl, res->out_size, out, res, err);
		if (rc) {
			if (msg && job->passwords) /* an unlock job's passwords */
				explicit_bzero(msg, mn);
			free(ans);
			free(msg);
			close(out_fd);
			if (own_in)
				close(in_fd);
			sk_input_release(&small);
			return rc;
		}
	}
done:
	if (msg && job->passwords) /* an unlock job's passwords */
		explicit_bzero(msg, mn);
	free(ans);
	free(msg);
	if (out_fd >= 0)
		close(out_fd);
	if (own_in)
		close(in_fd);
	sk_input_release(&small);
	return 0;
}

void sk_pool_stats_get(sk_pool *p, sk_pool_stats *st)
{
	pthread_mutex_lock(&p->mu);
	*st = p->st;
	pthread_mutex_unlock(&p->mu);
}

size_t sk_pool_pids(sk_pool *p, pid_t *pids, size_t n)
{
	size_t k = 0;
	pthread_mutex_lock(&p->mu);
	for (unsigned i = 0; i < p->cap && k < n; i++)
		if (p->w[i].pid > 0 && !p->w[i].starting)
			pids[k++] = p->w[i].pid;
	pthread_mutex_unlock(&p->mu);
	return k;
}
