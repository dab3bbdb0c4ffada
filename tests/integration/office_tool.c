/* Drives the office pool (office.h) for tests/integration/office.sh and bench/office.sh.
 *
 *   office_tool [--worker PATH] [--workers N] [--max-jobs N] [--max-output BYTES]
 *               [--pages-per-job N] -o OUTDIR
 *               [--ms N | --code CODE | --image | --dpi N | --max-pages N | FILE]...
 *     converts each FILE (type code: --code, else the file's extension) in one pool and
 *     prints a line per file: name TAB result (converted / a reason code) TAB worker pid
 *     before TAB after TAB milliseconds TAB output path or detail; --ms N gives the files
 *     after it N ms of wall clock (0: the default); --image makes the files after it into
 *     image PDFs (sk_office_image_document, 画像化; --dpi and --max-pages its options)
 *     instead, their lines ending TAB "pages=N rendered=N OCR …"; then a line
 *     "stats jobs=… failures=… restarts=… timeouts=… busy_max=…".
 *   office_tool [--worker PATH] --sandbox
 *     opens the pool, prints "pid N" of its ready worker and waits until stdin closes.
 * On stderr (with the workers' startup events) "office_tool: open ms=N": the time
 * sk_office_open took (the workers ready). Exit status 0 unless the pool could not be
 * opened. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sekisho/budget.h"
#include "sekisho/buf.h"
#include "sekisho/io.h"
#include "sekisho/office.h"

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static pid_t worker_pid(sk_office *o)
{
	pid_t p = 0;
	return sk_office_pids(o, &p, 1) ? p : 0;
}

static int slurp(const char *path, sk_buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	uint8_t chunk[65536];
	size_t r;
	int rc = 0;
	while (!rc && (r = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = sk_buf_add(b, chunk, r);
	fclose(f);
	return rc ? -1 : 0;
}

int main(int argc, char **argv)
{
	sk_office_config cfg;
	sk_office_config_default(&cfg);
	const char *outdir = NULL;
	bool sandbox = false;
	int i = 1;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--worker") && i + 1 < argc)
			cfg.worker = argv[++i];
		else if (!strcmp(argv[i], "--workers") && i + 1 < argc)
			cfg.workers = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--max-jobs") && i + 1 < argc)
			cfg.max_jobs = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--max-output") && i + 1 < argc)
			cfg.max_output = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--pages-per-job") && i + 1 < argc)
			cfg.pages_per_job = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "-o") && i + 1 < argc)
			outdir = argv[++i];
		else if (!strcmp(argv[i], "--sandbox"))
			sandbox = true;
		else
			break;
	}
	if (!sandbox && !outdir) {
		fprintf(stderr, "usage: office_tool [options] -o OUTDIR FILE... | --sandbox\n");
		return 2;
	}
	sk_office *o = NULL;
	sk_error err;
	sk_error_clear(&err);
	uint64_t t_open = now_ns();
	if (sk_office_open(&cfg, &o, &err) != 0) {
		fprintf(stderr, "office_tool: sk_office_open: %s\n", err.msg);
		return 1;
	}
	fprintf(stderr, "office_tool: open ms=%llu\n",
		(unsigned long long)((now_ns() - t_open) / 1000000ull));
	if (sandbox) {
		printf("pid %d\n", (int)worker_pid(o));
		fflush(stdout);
		char line[64];
		while (fgets(line, sizeof(line), stdin))
			;
		sk_office_close(o);
		return 0;
	}
	unsigned ms = 0;
	const char *code = NULL;
	bool image = false;
	sk_render_options ro;
	sk_render_options_default(&ro);
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--ms") && i + 1 < argc) {
			ms = (unsigned)atoi(argv[++i]);
			continue;
		}
		if (!strcmp(argv[i], "--image")) {
			image = true;
			continue;
		}
		if (!strcmp(argv[i], "--dpi") && i + 1 < argc) {
			ro.dpi = (unsigned)atoi(argv[++i]);
			continue;
		}
		if (!strcmp(argv[i], "--max-pages") && i + 1 < argc) {
			ro.max_pages = (unsigned)atoi(argv[++i]);
			continue;
		}
		if (!strcmp(argv[i], "--code") && i + 1 < argc) {
			code = argv[++i];
			continue;
		}
		const char *path = argv[i];
		const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		const char *dot = strrchr(base, '.');
		char from[32];
		snprintf(from, sizeof(from), "%s", code ? code : dot ? dot + 1 : "");
		for (char *c = from; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		code = NULL;
		sk_buf in, out;
		sk_buf_init(&in, (size_t)1 << 30);
		sk_buf_init(&out, (size_t)1 << 30);
		if (slurp(path, &in) != 0) {
			printf("%s\tunreadable\t0\t0\t0\t%s\n", base, strerror(errno));
			continue;
		}
		sk_budget b;
		sk_budget_default(&b);
		sk_budget_start(&b);
		if (ms)
			b.deadline_ns = now_ns() + (uint64_t)ms * 1000000ull;
		pid_t before = worker_pid(o);
		sk_reason why = SK_REASON_NONE;
		sk_error_clear(&err);
		uint64_t t0 = now_ns();
		sk_render_info info = {0};
		const uint8_t *data = sk_buf_len(&in) ? sk_buf_data(&in) : (const uint8_t *)"";
		int rc = image ? sk_office_image_document(o, from, data, sk_buf_len(&in), &ro, &b, &out,
							  &info, &why, &err)
			       : sk_office_convert(o, from, data, sk_buf_len(&in), &b, &out, &why, &err);
		uint64_t took = (now_ns() - t0) / 1000000ull;
		pid_t after = worker_pid(o);
		char note[128] = "";
		if (image && rc == 0) {
			char ocr[96];
			sk_render_ocr_note(&info, ocr, sizeof(ocr));
			snprintf(note, sizeof(note), "\tpages=%u rendered=%u %s", info.pages,
				 info.rendered, ocr);
		}
		if (rc == 0) {
			char dst[4096];
			snprintf(dst, sizeof(dst), "%s/%s.%s", outdir, base,
				 image ? "pdf" : sk_office_target(from));
			FILE *f = fopen(dst, "wb");
			bool ok = f && fwrite(sk_buf_data(&out), 1, sk_buf_len(&out), f) == sk_buf_len(&out);
			if (f && fclose(f) != 0)
				ok = false;
			printf("%s\t%s\t%d\t%d\t%llu\t%s%s\n", base, ok ? "converted" : "unwritable",
			       (int)before, (int)after, (unsigned long long)took, dst, note);
		} else {
			printf("%s\t%s\t%d\t%d\t%llu\t%s\n", base, sk_reason_code(why), (int)before,
			       (int)after, (unsigned long long)took, err.msg);
		}
		fflush(stdout);
		sk_buf_free(&in);
		sk_buf_free(&out);
	}
	sk_office_stats st;
	sk_office_stats_get(o, &st);
	printf("stats jobs=%llu failures=%llu restarts=%llu timeouts=%llu busy_max=%llu\n",
	       (unsigned long long)st.jobs, (unsigned long long)st.failures,
	       (unsigned long long)st.restarts, (unsigned long long)st.timeouts,
	       (unsigned long long)st.busy_max);
	sk_office_close(o);
	return 0;
}
