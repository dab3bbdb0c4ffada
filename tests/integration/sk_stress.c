/* Load generator for the crash tests: runs until killed, printing a line for every
 * operation only after the library call that makes it durable has returned.
 *   sk_stress audit DIR THREADS   "ack SEQ OBJECT" per appended record
 *   sk_stress store DIR           "ack ID SHA256" per stored original (64 KiB – 4 MiB) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sekisho/audit.h"
#include "sekisho/quarantine.h"

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static sk_audit *log_;

static void *appender(void *p)
{
	long t = (long)p;
	for (long i = 0;; i++) {
		char obj[64];
		snprintf(obj, sizeof(obj), "p%ld-t%ld-%ld", (long)getpid(), t, i);
		uint64_t seq;
		sk_error err;
		if (sk_audit_append(log_, "stress", "append", obj, "ok", "crash test", &seq, &err) != 0) {
			fprintf(stderr, "append: %s\n", err.msg);
			exit(2);
		}
		pthread_mutex_lock(&out_mu);
		printf("ack %llu %s\n", (unsigned long long)seq, obj);
		fflush(stdout);
		pthread_mutex_unlock(&out_mu);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	sk_error err;
	if (!strcmp(argv[1], "audit") && argc == 4) {
		if (sk_audit_open(argv[2], NULL, &log_, &err) != 0) {
			fprintf(stderr, "open: %s\n", err.msg);
			return 2;
		}
		long n = atol(argv[3]);
		pthread_t th;
		for (long t = 1; t < n; t++)
			pthread_create(&th, NULL, appender, (void *)t);
		appender((void *)0);
	} else if (!strcmp(argv[1], "store")) {
		sk_quarantine *q;
		if (sk_quarantine_open(argv[2], NULL, NULL, &q, &err) != 0) {
			fprintf(stderr, "open: %s\n", err.msg);
			return 2;
		}
		uint64_t x = (uint64_t)getpid() * 2654435761u;
		size_t cap = 4 << 20;
		uint8_t *buf = malloc(cap);
		for (;;) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			size_t n = 65536 + (size_t)(x >> 40) % (cap - 65536);
			for (size_t i = 0; i < n; i += 8) {
				x = x * 6364136223846793005ULL + 1442695040888963407ULL;
				memcpy(buf + i, &x, n - i < 8 ? n - i : 8);
			}
			uint8_t h[32];
			char hex[65], id[SK_QUARANTINE_ID_LEN];
			sk_sha256(buf, n, h);
			sk_hex(h, 32, hex);
			sk_input in;
			sk_input_mem(&in, buf, n);
			if (sk_quarantine_store(q, &in, h, NULL, id, &err) != 0) {
				fprintf(stderr, "store: %s\n", err.msg);
				return 2;
			}
			printf("ack %s %s\n", id, hex);
		}
	}
	return 2;
}
