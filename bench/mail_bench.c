/* Messages per second of mail through the gate (no quarantine, no audit, one thread),
 * the MIME walk in one sandboxed worker (default) or in this process:
 *   mail_bench [--profile P] [--rounds N] [--in-process [--init]] FILE|DIR...
 *   mail_bench --dlp [--rounds N] [--in-process [--init]] FILE|DIR...
 * --dlp: the outbound flow (lgwan → internet, channel mail, attachments sanitised) with
 * DLP on every kind (`dlp: record`: the body and every delivered attachment scanned, the
 * findings recorded) against the same flow with `dlp: off`, in the same run: the rounds
 * take turns (on, off, off, on …) so that a change of load hits both; prints both rates
 * and what DLP costs (on/off - 1, in time). Nothing is held for DLP (record): both hold the
 * same messages (the corpus's malformed ones), which the figures show.
 * --init: sk_engine_init() first, as a worker does at its start (the iconv conversions
 * kept loaded: without it, glibc loads and unloads a conversion module per use). Not
 * used by the CLI's --in-process; it makes the in-process figure the fairer baseline.
 * Every file is read into memory first; then all are sanitised N times. Also prints the
 * CPU seconds of this process and of its (exited and waited-for) workers. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sekisho/core.h"
#include "sekisho/engine.h"
#include "sekisho/policy.h"
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

/* The outbound mail flow with DLP `dlp` ("record" or "off"). */
static sk_policy *dlp_policy(const char *dlp)
{
	char text[2048];
	snprintf(text, sizeof(text),
		 "version: 1\n"
		 "zones:\n"
		 "  mynumber: { networks: [192.0.2.0/25], gateway: { interface: a, address: 192.0.2.1 } }\n"
		 "  lgwan: { networks: [198.51.100.0/24], gateway: { interface: b, address: 198.51.100.1 } }\n"
		 "  internet: { networks: [203.0.113.0/24], gateway: { interface: c, address: 203.0.113.1 } }\n"
		 "internal_domains: [city.example.lg.jp]\n"
		 "classification:\n  dimensions:\n    機密性: { levels: [\"2\", \"1\"], default: \"1\" }\n"
		 "profiles:\n  out: { base: default, mail: { attachments: sanitize } }\n"
		 "flows:\n"
		 "  - { from: lgwan, to: internet, channel: mail, action: { sanitize: out }, dlp: %s }\n",
		 dlp);
	sk_policy *p = NULL;
	sk_policy_diags d;
	sk_policy_diags_init(&d);
	sk_error err;
	if (sk_policy_parse(text, strlen(text), 0, &p, &d, &err) != 0) {
		fprintf(stderr, "mail_bench: policy (dlp %s): %s\n", dlp, err.msg);
		exit(2);
	}
	sk_policy_diags_free(&d);
	return p;
}

/* One pass over the messages under opt: seconds; the DLP findings (numbers and patterns;
 * content DLP could not read) and the messages held are added up. */
static double pass(const sk_mail_options *o, const sk_options *opt, sk_buf *out, uint64_t *found,
		   uint64_t *unscanned, uint64_t *held, uint64_t *errors)
{
	sk_item item = {.submitter = "bench", .src_zone = "lgwan", .dst_zone = "internet"};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < n; i++) {
		sk_mail_result r;
		sk_result g;
		sk_input_mem(&item.input, v[i].b.data, v[i].b.len);
		if (sk_gate_mail(&item, o, opt, out, &g, &r, NULL) != 0)
			(*errors)++;
		else if (r.held)
			(*held)++;
		for (size_t k = 0; k < g.report.n; k++) {
			const char *w = g.report.v[k].what;
			if (g.report.v[k].action != SK_ACTION_NOTED || !w)
				continue;
			if (!strcmp(w, "mynumber") || !strcmp(w, "corporate-number") ||
			    !strcmp(w, "dlp-pattern"))
				(*found)++;
			else if (!strcmp(w, "dlp-unscanned"))
				(*unscanned)++;
		}
		sk_result_free(&g);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

/* --dlp: DLP on against off in the same run (see the top). */
static int dlp_compare(int rounds, sk_pool *pool)
{
	sk_policy *on = dlp_policy("record"), *off = dlp_policy("off");
	sk_mail_options o;
	sk_mail_options_default(&o);
	sk_options opt_on, opt_off;
	sk_options_default(&opt_on);
	opt_on.pool = pool;
	opt_on.policy = on;
	opt_off = opt_on;
	opt_off.policy = off;
	sk_buf out;
	sk_buf_init(&out, SK_BUF_MAX_DEFAULT);
	uint64_t found[2] = {0}, unsc[2] = {0}, held[2] = {0}, errors = 0, x = 0;
	/* warm-up: both */
	pass(&o, &opt_on, &out, &x, &x, &x, &errors);
	pass(&o, &opt_off, &out, &x, &x, &x, &errors);
	double s_on = 0, s_off = 0;
	for (int k = 0; k < rounds; k++) {
		for (int j = 0; j < 2; j++) {
			bool first_on = k % 2 == 0;
			if ((j == 0) == first_on)
				s_on += pass(&o, &opt_on, &out, &found[1], &unsc[1], &held[1], &errors);
			else
				s_off += pass(&o, &opt_off, &out, &found[0], &unsc[0], &held[0], &errors);
		}
	}
	double msgs = (double)n * rounds;
	uint64_t r = (uint64_t)rounds;
	printf("dlp, %s, outbound flow (attachments sanitised): %zu messages x %d rounds each\n"
	       "  DLP off: %.3f s, %.0f messages/s (held %llu)\n"
	       "  DLP on:  %.3f s, %.0f messages/s (held %llu; per round %llu findings, %llu parts "
	       "DLP cannot read)\n"
	       "  DLP costs %.1f %% of the time (on/off = %.3f)%s\n",
	       pool ? "worker" : "in-process", n, rounds, s_off, msgs / s_off,
	       (unsigned long long)(held[0] / r), s_on, msgs / s_on, (unsigned long long)(held[1] / r),
	       (unsigned long long)(found[1] / r), (unsigned long long)(unsc[1] / r),
	       (s_on / s_off - 1.0) * 100.0, s_on / s_off,
	       errors ? " — some messages failed (machinery)" : "");
	sk_buf_free(&out);
	sk_policy_free(on);
	sk_policy_free(off);
	return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *profile = "default";
	int rounds = 20;
	int in_process = 0, init = 0, dlp = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--profile") && i + 1 < argc)
			profile = argv[++i];
		else if (!strcmp(argv[i], "--in-process"))
			in_process = 1;
		else if (!strcmp(argv[i], "--init"))
			init = 1;
		else if (!strcmp(argv[i], "--dlp"))
			dlp = 1;
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else
			load(argv[i]);
	}
	if (!n) {
		fprintf(stderr, "usage: mail_bench [--profile P | --dlp] [--rounds N] [--in-process] FILE|DIR...\n");
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
		pc.colocate = true; /* one thread, one item at a time (as `sekisho mail`) */
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
	if (dlp) {
		int rc = dlp_compare(rounds, pool);
		sk_pool_close(pool);
		for (size_t i = 0; i < n; i++)
			sk_buf_free(&v[i].b);
		free(v);
		return rc;
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
