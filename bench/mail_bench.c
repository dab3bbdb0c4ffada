/* Messages per second of the mail sanitiser alone (no quarantine, no audit, one thread):
 *   mail_bench [--profile P] [--rounds N] FILE|DIR...
 * Every file is read into memory first; then all are sanitised N times. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sekisho/mail.h"

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
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--profile") && i + 1 < argc)
			profile = argv[++i];
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else
			load(argv[i]);
	}
	if (!n) {
		fprintf(stderr, "usage: mail_bench [--profile P] [--rounds N] FILE|DIR...\n");
		return 2;
	}
	sk_mail_options o;
	sk_mail_options_default(&o);
	if (sk_mail_options_profile(&o, profile) != 0)
		return 2;
	sk_buf out;
	sk_buf_init(&out, SK_BUF_MAX_DEFAULT);
	uint64_t bytes = 0, held = 0, errors = 0;
	struct timespec t0, t1;
	/* one warm-up pass (GMime and iconv initialisation) */
	for (size_t i = 0; i < n; i++) {
		sk_mail_result r;
		sk_mail_sanitize(&o, v[i].b.data, v[i].b.len, &out, &r, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int k = 0; k < rounds; k++)
		for (size_t i = 0; i < n; i++) {
			sk_mail_result r;
			if (sk_mail_sanitize(&o, v[i].b.data, v[i].b.len, &out, &r, NULL) != 0)
				errors++;
			else if (r.held)
				held++;
			bytes += v[i].b.len;
		}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	double msgs = (double)n * rounds;
	printf("profile %s: %zu messages x %d rounds in %.3f s: %.0f messages/s, %.1f MB/s "
	       "(held %llu, errors %llu)\n",
	       profile, n, rounds, s, msgs / s, (double)bytes / 1e6 / s,
	       (unsigned long long)(held / (uint64_t)rounds), (unsigned long long)errors);
	sk_buf_free(&out);
	for (size_t i = 0; i < n; i++)
		sk_buf_free(&v[i].b);
	free(v);
	return errors ? 1 : 0;
}
