/* The fixed costs of the sandbox, apart from the work itself:
 *   pool_bench start N          N worker starts (sk_pool_open + sk_pool_close of 1 worker):
 *                               wall and CPU (the workers' included) per start
 *   pool_bench jobs N [--in-process] [--fd] [--init] [--size BYTES]
 *                               N items of a small text file (BYTES, default 200) through
 *                               sk_process(): in one worker (default) or in this process;
 *                               from memory (default) or from a file (--fd, as `sanitize`
 *                               reads them); --init: sk_engine_init() first in this process
 *                               (the libraries' set-up a worker does at its start). Wall and
 *                               CPU (this process and its workers) per item.
 * One worker is started before the clock starts and never replaced during the run. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sekisho/core.h"
#include "sekisho/engine.h"
#include "sekisho/pool.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu(int who)
{
	struct rusage r;
	getrusage(who, &r);
	return (double)r.ru_utime.tv_sec + (double)r.ru_stime.tv_sec +
	       ((double)r.ru_utime.tv_usec + (double)r.ru_stime.tv_usec) / 1e6;
}

static double cpu_all(void)
{
	return cpu(RUSAGE_SELF) + cpu(RUSAGE_CHILDREN);
}

static void config(sk_pool_config *pc)
{
	sk_pool_config_default(pc);
	pc->workers = 1;
	pc->colocate = true; /* one thread, one item at a time (as `sekisho sanitize`) */
	pc->max_jobs = 1u << 30; /* the steady state: no replacement during the run */
	pc->max_cpu = 1u << 20;
	/* the worker of this build: bench/../sekisho-worker */
	static char wpath[4096];
	ssize_t l = readlink("/proc/self/exe", wpath, sizeof(wpath) - 32);
	if (l > 0) {
		wpath[l] = 0;
		char *sl = strrchr(wpath, '/');
		if (sl) {
			strcpy(sl, "/../sekisho-worker");
			pc->worker = wpath;
		}
	}
}

static int starts(int n)
{
	sk_pool_config pc;
	config(&pc);
	double t0 = now(), c0 = cpu_all();
	for (int i = 0; i < n; i++) {
		sk_pool *p = NULL;
		sk_error err;
		if (sk_pool_open(&pc, &p, &err) != 0) {
			fprintf(stderr, "pool_bench: %s\n", err.msg);
			return 1;
		}
		sk_pool_close(p);
	}
	double t1 = now(), c1 = cpu_all();
	printf("worker start: %d starts, %.2f ms wall, %.2f ms CPU each\n", n,
	       (t1 - t0) * 1e3 / n, (c1 - c0) * 1e3 / n);
	return 0;
}

static int jobs(int n, bool in_process, bool use_fd, bool init, size_t size)
{
	uint8_t *text = malloc(size);
	if (!text)
		return 1;
	for (size_t i = 0; i < size; i++)
		text[i] = (uint8_t)(i % 64 == 63 ? '\n' : 'a' + i % 26);
	char path[] = "/dev/shm/sekisho-pool-bench.XXXXXX";
	int fd = -1;
	if (use_fd) {
		fd = mkstemp(path);
		if (fd < 0 || write(fd, text, size) != (ssize_t)size)
			return 1;
		unlink(path);
		close(fd);
		fd = -1;
	}
	sk_error err;
	sk_error_clear(&err);
	if (init && sk_engine_init(&err) != 0)
		return 1;
	sk_options opt;
	sk_options_default(&opt);
	sk_pool *p = NULL;
	if (!in_process) {
		sk_pool_config pc;
		config(&pc);
		if (sk_pool_open(&pc, &p, &err) != 0) {
			fprintf(stderr, "pool_bench: %s\n", err.msg);
			return 1;
		}
		opt.pool = p;
	}
	/* the file again, by name each time, as `sanitize` opens it */
	char fpath[] = "/dev/shm/sekisho-pool-bench-in.XXXXXX";
	if (use_fd) {
		fd = mkstemp(fpath);
		if (fd < 0 || write(fd, text, size) != (ssize_t)size)
			return 1;
		close(fd);
	}
	sk_buf out;
	sk_buf_init(&out, SK_BUF_MAX_DEFAULT);
	int bad = 0;
	double t0 = 0, c0 = 0;
	for (int i = -20; i < n; i++) { /* 20 to warm up */
		if (i == 0) {
			t0 = now();
			c0 = cpu(RUSAGE_SELF);
		}
		sk_item item = {.name = "a.txt"};
		if (use_fd) {
			fd = open(fpath, O_RDONLY | O_CLOEXEC);
			sk_input_fd(&item.input, fd, size);
		} else {
			sk_input_mem(&item.input, text, size);
		}
		sk_output o;
		sk_buf_reset(&out);
		sk_output_buf(&o, &out);
		sk_result res;
		if (sk_process(&item, &opt, &o, &res, &err) != 0 ||
		    res.report.verdict == SK_VERDICT_BLOCKED)
			bad++;
		sk_result_free(&res);
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	double t1 = now(), c1 = cpu(RUSAGE_SELF);
	sk_pool_close(p); /* the worker's CPU: in RUSAGE_CHILDREN once reaped */
	double ck = cpu(RUSAGE_CHILDREN);
	if (use_fd)
		unlink(fpath);
	/* the worker's CPU includes its start (measured by `start`): reported apart */
	printf("%s%s%s, %zu bytes: %d items, %.1f us wall, %.1f us CPU here each; worker CPU "
	       "%.3f s in all (its start included)%s\n",
	       in_process ? "in-process" : "worker", use_fd ? ", file" : ", memory",
	       init ? ", init" : "", size, n, (t1 - t0) * 1e6 / n, (c1 - c0) * 1e6 / n, ck,
	       bad ? " SOME BLOCKED" : "");
	sk_buf_free(&out);
	free(text);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "start"))
		return starts(atoi(argv[2]));
	if (argc >= 3 && !strcmp(argv[1], "jobs")) {
		bool ip = false, fd = false, init = false;
		size_t size = 200;
		for (int i = 3; i < argc; i++) {
			if (!strcmp(argv[i], "--in-process"))
				ip = true;
			else if (!strcmp(argv[i], "--fd"))
				fd = true;
			else if (!strcmp(argv[i], "--init"))
				init = true;
			else if (!strcmp(argv[i], "--size") && i + 1 < argc)
				size = (size_t)atol(argv[++i]);
		}
		return jobs(atoi(argv[2]), ip, fd, init, size);
	}
	fprintf(stderr, "usage: pool_bench start N | pool_bench jobs N [--in-process] [--fd] "
			"[--init] [--size BYTES]\n");
	return 2;
}
