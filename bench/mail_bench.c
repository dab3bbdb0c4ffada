/* Messages per second of mail through the gate (no quarantine, no audit, one thread),
 * the MIME walk in one sandboxed worker (default) or in this process:
 *   mail_bench [--profile P] [--rounds N] [--in-process [--init]] FILE|DIR...
 * --init: sk_engine_init() first, as a worker does at its start (the iconv conversions
 * kept loaded: without it, glibc loads and unloads a conversion module per use). Not
 * used by the CLI's --in-process; it makes the in-process figure the fairer baseline.
 * Every file is read into memory first; then all are sanitised N times. Also prints the
 * CPU seconds of this process and of its (exited and waited-for) workers. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sekisho/core.h"
#include "sekisho/engine.h"
#include "sekisho/pool.h"

typedef struct msg {
	sk_buf b;
} msg;

static msg *v;
static size_t n, cap;

static void load(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char *p = NULL;
			if (asprintf(&p, "%s/%s", path, e->d_name) >= 0)
				load(p);
			free(p);
		}
		if (d)
			closedir(d);
		return;
	}
	if (n == cap) {
		cap = cap ? cap * 2 : 256;
		v = realloc(v, cap * sizeof(*v));
		if (!v)
			exit(2);
	}
	sk_buf_init(&v[n].b, SK_BUF_MAX_DEFAULT);
	if (sk_read_file(path, 64u << 20, &v[n].b, NULL) == 0)
		n++;
	else
		sk_buf_free(&v[n].b);
}

int main(int argc, char **argv)
{
	const char *profile = "default";
	int rounds = 20;
	int in_process = 0, init = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--profile") && i + 1 < argc)
			profile = argv[++i];
		else if (!strcmp(argv[i], "--in-process"))
			in_process = 1;
		else if (!strcmp(argv[i], "--init"))
			init = 1;
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else
			load(argv[i]);
	}
	if (!n) {
		fprintf(stderr, "usage: mail_bench [--profile P] [--rounds N] [--in-process] FILE|DIR...\n");
		return 2;
	}
	sk_mail_options o;
	sk_mail_options_default(&o);
	if (sk_mail_options_profile(&o, profile) != 0)
		return 2;
	sk_options opt;
	sk_options_default(&opt);
	sk_pool *pool = NULL;
	sk_error err;
	sk_error_clear(&err);
	if (in_process && init && sk_engine_init(&err) != 0) {
		fprintf(stderr, "mail_bench: init: %s\n", err.msg);
		return 2;
	}
	if (!in_process) {
		sk_pool_config pc;
		sk_pool_config_default(&pc);
		pc.workers = 1;
		/* the worker of this build: bench/../sekisho-worker */
		static char wpath[4096];
		ssize_t l = readlink("/proc/self/exe", wpath, sizeof(wpath) - 32);
		if (l > 0) {
			wpath[l] = 0;
			char *sl = strrchr(wpath, '/');
			if (sl) {
				strcpy(sl, "/../sekisho-worker");
				pc.worker = wpath;
			}
		}
		pc.max_jobs = 1000000; /* the steady state: no replacement during the run */
		pc.max_cpu = 1u << 20;
		if (sk_pool_open(&pc, &pool, &err) != 0) {
			fprintf(stderr, "mail_bench: workers: %s\n", err.msg);
			return 2;
		}
		opt.pool = pool;
	}
	sk_buf out;
	sk_buf_init(&out, SK_BUF_MAX_DEFAULT);
	uint64_t bytes = 0, held = 0, errors = 0;
	struct timespec t0, t1;
	sk_item item = {.submitter = "bench"};
	/* one warm-up pass (GMime and iconv initialisation) */
	for (size_t i = 0; i < n; i++) {
		sk_mail_result r;
		sk_result g;
		sk_input_mem(&item.input, v[i].b.data, v[i].b.len);
		sk_gate_mail(&item, &o, &opt, &out, &g, &r, NULL);
		sk_result_free(&g);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int k = 0; k < rounds; k++)
		for (size_t i = 0; i < n; i++) {
			sk_mail_result r;
			sk_result g;
			sk_input_mem(&item.input, v[i].b.data, v[i].b.len);
			if (sk_gate_mail(&item, &o, &opt, &out, &g, &r, NULL) != 0)
				errors++;
			else if (r.held)
				held++;
			sk_result_free(&g);
			bytes += v[i].b.len;
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	sk_pool_close(pool); /* reaps the worker: its CPU time counts in RUSAGE_CHILDREN */
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	double msgs = (double)n * rounds;
	struct rusage self, kids;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	double cs = (double)self.ru_utime.tv_sec + (double)self.ru_stime.tv_sec +
		    ((double)self.ru_utime.tv_usec + (double)self.ru_stime.tv_usec) / 1e6;
	double ck = (double)kids.ru_utime.tv_sec + (double)kids.ru_stime.tv_sec +
		    ((double)kids.ru_utime.tv_usec + (double)kids.ru_stime.tv_usec) / 1e6;
	printf("%s, profile %s: %zu messages x %d rounds in %.3f s: %.0f messages/s, %.1f MB/s "
	       "(held %llu, errors %llu); CPU s: gate %.2f, workers %.2f\n",
	       in_process ? (init ? "in-process+init" : "in-process") : "worker", profile, n, rounds, s, msgs / s,
	       (double)bytes / 1e6 / s, (unsigned long long)(held / (uint64_t)rounds),
	       (unsigned long long)errors, cs, ck);
	sk_buf_free(&out);
	for (size_t i = 0; i < n; i++)
		sk_buf_free(&v[i].b);
	free(v);
	return errors ? 1 : 0;
}
