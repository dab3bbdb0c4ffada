/* Audit log benchmark: appends per second with per-record durability (one caller, so
 * every record is its own transaction and fsync) and with group commit (many callers
 * sharing transactions), then verify speed in records per second.
 *
 *   audit_bench [--dir DIR] [--single N] [--threads T] [--records N] [--batch B]
 *
 * Group commit is measured twice: T callers appending one record a call, and T/4
 * callers appending B records a call (sk_audit_append_many).
 *
 * DIR defaults to a new folder under /tmp (removed at the end unless --dir is given).
 * Every figure is for records that were durable (COMMIT with synchronous=FULL) when
 * sk_audit_append() returned. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sekisho/audit.h"

/* CPU seconds (user + system, all threads) used by this process so far. */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* The machine's load when a figure is taken: with 2 shared cores it changes them. */
static double load1(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct worker {
	sk_audit *a;
	long id, n, batch;
	int failed;
};

/* n records in calls of batch records each */
static void *work(void *p)
{
	struct worker *w = p;
	char obj[64][64];
	sk_audit_entry e[64];
	for (long i = 0; i < w->n; i += w->batch) {
		long k = w->n - i < w->batch ? w->n - i : w->batch;
		for (long j = 0; j < k; j++) {
			snprintf(obj[j], sizeof(obj[j]), "item:%ld-%ld sha256:0123456789abcdef", w->id, i + j);
			e[j] = (sk_audit_entry){"mail:taro@example.jp", "sanitize", obj[j], "sanitized",
						"{\"actions\":[{\"action\":\"removed\",\"what\":\"macro\"}]}"};
		}
		sk_error err;
		if (sk_audit_append_many(w->a, e, (size_t)k, NULL, &err) != 0) {
			fprintf(stderr, "append: %s\n", err.msg);
			w->failed = 1;
			return NULL;
		}
	}
	return NULL;
}

/* callers threads appending records in total, batch records a call */
static int group(sk_audit *a, long callers, long records, long batch)
{
	uint64_t c0, r0, c1, r1;
	sk_audit_stats(a, &c0, &r0);
	pthread_t *th = calloc((size_t)callers, sizeof(*th));
	struct worker *ws = calloc((size_t)callers, sizeof(*ws));
	double t0 = now_s();
	for (long t = 0; t < callers; t++) {
		ws[t] = (struct worker){.a = a, .id = t + 1, .n = records / callers, .batch = batch};
		pthread_create(&th[t], NULL, work, &ws[t]);
	}
	int failed = 0;
	for (long t = 0; t < callers; t++) {
		pthread_join(th[t], NULL);
		failed |= ws[t].failed;
	}
	double t1 = now_s();
	sk_audit_stats(a, &c1, &r1);
	long done = (long)(r1 - r0);
	printf("group commit (%ld callers, %ld record%s a call): %ld appends in %.2f s = %.0f appends/s"
	       " (%llu transactions, %.1f records each)\n",
	       callers, batch, batch > 1 ? "s" : "", done, t1 - t0, (double)done / (t1 - t0),
	       (unsigned long long)(c1 - c0), (double)done / (double)(c1 - c0));
	free(th);
	free(ws);
	return failed;
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	long single = 2000, threads = 256, records = 200000, batch = 16;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--dir"))
			dir = argv[i + 1];
		else if (!strcmp(argv[i], "--single"))
			single = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--threads"))
			threads = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--records"))
			records = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--batch"))
			batch = atol(argv[i + 1]) > 0 && atol(argv[i + 1]) <= 64 ? atol(argv[i + 1]) : 16;
	}
	char tmpl[] = "/tmp/sk-bench-XXXXXX";
	bool own = !dir;
	if (own && !(dir = mkdtemp(tmpl)))
		return 2;
	sk_audit *a;
	sk_error err;
	if (sk_audit_open(dir, NULL, &a, &err) != 0) {
		fprintf(stderr, "open: %s\n", err.msg);
		return 2;
	}
	/* 1. per-record durability: one caller, one transaction + fsync per record */
	struct worker w = {.a = a, .id = 0, .n = single, .batch = 1};
	double t0 = now_s();
	work(&w);
	double t1 = now_s();
	if (w.failed)
		return 1;
	printf("per-record durability: %ld appends in %.2f s = %.0f appends/s\n", single, t1 - t0,
	       (double)single / (t1 - t0));
	/* 2. group commit: many concurrent callers, one record a call, then a few a call */
	if (group(a, threads, records, 1) || group(a, threads / 4 ? threads / 4 : 1, records, batch))
		return 1;
	/* 3. verify everything */
	sk_audit_verify_result vr;
	double c0 = cpu_s();
	t0 = now_s();
	if (sk_audit_verify(a, NULL, NULL, 0, &vr, &err) != 0) {
		fprintf(stderr, "verify: %s\n", err.msg);
		return 1;
	}
	t1 = now_s();
	double c1 = cpu_s();
	printf("verify: %llu records, %llu checkpoints in %.2f s = %.0f records/s;"
	       " %.2f CPU s = %.0f records per CPU second (%s)\n",
	       (unsigned long long)vr.records, (unsigned long long)vr.checkpoints, t1 - t0,
	       (double)vr.records / (t1 - t0), c1 - c0, (double)vr.records / (c1 - c0),
	       vr.ok ? "ok" : vr.message);
	printf("load average at the end: %.2f (2 cores)\n", load1());
	sk_audit_close(a);
	if (own) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return vr.ok ? 0 : 1;
}
