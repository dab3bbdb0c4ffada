/* The worker pool and the sandbox, against the real sekisho-worker ($SK_WORKER) and the
 * test-only hostile worker ($SK_WORKER_HOSTILE, worker_hostile.c): the sandbox as the
 * kernel reports it, results equal to the in-process engine, forbidden system calls,
 * time limits, malformed answers, crashes, replacement after max jobs, threads. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <zip.h>

#include "sekisho/core.h"
#include "sekisho/engine.h"
#include "sekisho/pool.h"
#include "wire.h"

static const char *real_worker, *hostile_worker;

#define CSV "id,name,note\n1,a,=cmd|' /C calc'!A0\n2,b,plain\n"

static sk_pool *open_pool(const char *worker, unsigned n, unsigned max_jobs)
{
	sk_pool_config c;
	sk_pool_config_default(&c);
	c.worker = worker;
	c.workers = n;
	c.max_jobs = max_jobs;
	sk_pool *p = NULL;
	sk_error err;
	sk_error_clear(&err);
	int rc = sk_pool_open(&c, &p, &err);
	if (rc)
		fprintf(stderr, "sk_pool_open: %s\n", err.msg);
	assert_int_equal(rc, 0);
	return p;
}

typedef struct run {
	sk_engine_result res;
	sk_buf out;
	int rc;
} run;

/* One job through the pool (p NULL: in process), input from memory. */
static void job(sk_pool *p, const char *name, const void *data, size_t n, uint32_t seconds,
		run *r)
{
	sk_engine_job j = {.name = name};
	sk_budget_default(&j.budget);
	j.budget.max_seconds = seconds;
	sk_budget_start(&j.budget);
	sk_input in;
	sk_input_mem(&in, data, n);
	sk_buf_init(&r->out, 1 << 20);
	sk_output out;
	sk_output_buf(&out, &r->out);
	sk_error err;
	sk_error_clear(&err);
	r->rc = p ? sk_pool_run(p, &j, &in, &out, &r->res, &err)
		  : sk_engine_run(&j, &in, &out, &r->res, &err);
	sk_input_release(&in);
}

/* The same with a convert hook (engine.h) for legacy formats. */
static void job_conv(sk_pool *p, const char *name, const void *data, size_t n, sk_convert_fn fn,
		     void *ctx, run *r)
{
	sk_engine_job j = {.name = name, .convert = fn, .convert_ctx = ctx};
	sk_budget_default(&j.budget);
	j.budget.max_seconds = 60;
	sk_budget_start(&j.budget);
	sk_input in;
	sk_input_mem(&in, data, n);
	sk_buf_init(&r->out, 1 << 20);
	sk_output out;
	sk_output_buf(&out, &r->out);
	sk_error err;
	sk_error_clear(&err);
	r->rc = p ? sk_pool_run(p, &j, &in, &out, &r->res, &err)
		  : sk_engine_run(&j, &in, &out, &r->res, &err);
	sk_input_release(&in);
}

static void run_free(run *r)
{
	sk_engine_result_free(&r->res);
	sk_buf_free(&r->out);
}

static void assert_blocked(const run *r, sk_reason why, const char *detail_part)
{
	assert_int_equal(r->rc, 0);
	assert_string_equal(sk_verdict_code(r->res.report.verdict), "blocked");
	assert_string_equal(sk_reason_code(r->res.report.reason), sk_reason_code(why));
	if (detail_part) {
		assert_non_null(r->res.report.reason_detail);
		if (!strstr(r->res.report.reason_detail, detail_part))
			fail_msg("detail \"%s\" lacks \"%s\"", r->res.report.reason_detail,
				 detail_part);
	}
	assert_int_equal(r->out.len, 0); /* nothing delivered */
}

static pid_t one_pid(sk_pool *p)
{
	pid_t pid = 0;
	assert_int_equal(sk_pool_pids(p, &pid, 1), 1);
	return pid;
}

/* "Key:\tvalue" of /proc/PID/status (static buffer) */
static const char *status_field(pid_t pid, const char *key)
{
	static char val[256];
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	val[0] = 0;
	size_t kl = strlen(key);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			snprintf(val, sizeof(val), "%s", line + kl + 1);
			val[strcspn(val, "\n")] = 0;
			break;
		}
	fclose(f);
	return val;
}

static void sandbox_as_the_kernel_sees_it(void **state)
{
	(void)state;
	sk_pool *p = open_pool(real_worker, 2, 0);
	pid_t pids[4];
	assert_int_equal(sk_pool_pids(p, pids, 4), 2);
	for (int i = 0; i < 2; i++) {
		assert_string_equal(status_field(pids[i], "Seccomp"), "\t2");
		assert_string_equal(status_field(pids[i], "NoNewPrivs"), "\t1");
		unsigned ruid = 99, euid = 99, suid = 99, fsuid = 99;
		assert_int_equal(sscanf(status_field(pids[i], "Uid"), "%u %u %u %u", &ruid, &euid,
					&suid, &fsuid), 4);
		if (geteuid() == 0) { /* started as root: dropped, for good */
			assert_int_not_equal(ruid, 0);
			assert_int_not_equal(euid, 0);
			assert_int_not_equal(suid, 0);
			assert_string_equal(status_field(pids[i], "CapEff"), "\t0000000000000000");
			assert_string_equal(status_field(pids[i], "CapPrm"), "\t0000000000000000");
		}
		/* descriptors: stdin, stdout (/dev/null), stderr and the socket, nothing else */
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/fd", (int)pids[i]);
		DIR *d = opendir(path);
		assert_non_null(d);
		int nfd = 0;
		struct dirent *e;
		while ((e = readdir(d)))
			if (e->d_name[0] != '.') {
				assert_true(atoi(e->d_name) <= 3);
				nfd++;
			}
		closedir(d);
		assert_int_equal(nfd, 4);
		/* limits: 1 GiB of address space, no core files */
		snprintf(path, sizeof(path), "/proc/%d/limits", (int)pids[i]);
		FILE *f = fopen(path, "r");
		assert_non_null(f);
		char line[256];
		bool as = false, core = false;
		while (fgets(line, sizeof(line), f)) {
			if (!strncmp(line, "Max address space", 17))
				as = strstr(line, " 1073741824 ") != NULL;
			if (!strncmp(line, "Max core file size", 18))
				core = strstr(line, " 0 ") != NULL;
		}
		fclose(f);
		assert_true(as);
		assert_true(core);
	}
	sk_pool_close(p);
}

/* The same bytes and the same report as the engine in this process. */
static void same_as_in_process(void **state)
{
	(void)state;
	sk_pool *p = open_pool(real_worker, 1, 0);
	run a, b;
	job(p, "list.csv", CSV, sizeof(CSV) - 1, 60, &a);
	job(NULL, "list.csv", CSV, sizeof(CSV) - 1, 60, &b);
	assert_int_equal(a.rc, 0);
	assert_string_equal(sk_verdict_code(a.res.report.verdict), "sanitized");
	assert_string_equal(a.res.type.code, "csv");
	assert_ptr_equal(a.res.type.code, b.res.type.code); /* the static type */
	assert_int_equal(a.out.len, b.out.len);
	assert_memory_equal(a.out.data, b.out.data, a.out.len);
	assert_int_equal(a.res.out_size, a.out.len);
	assert_int_equal(a.res.report.n, b.res.report.n);
	for (size_t i = 0; i < a.res.report.n; i++) {
		assert_int_equal(a.res.report.v[i].action, b.res.report.v[i].action);
		assert_string_equal(a.res.report.v[i].what, b.res.report.v[i].what);
		assert_string_equal(a.res.report.v[i].where, b.res.report.v[i].where);
		assert_int_equal(a.res.report.v[i].count, b.res.report.v[i].count);
	}
	assert_non_null(strstr((const char *)a.out.data, "'=cmd"));
	run_free(&a);
	run_free(&b);
	/* input and output larger than a message carries (SK_WIRE_INLINE_MAX): both go by
	 * memfd; one just above and the other just below on each side */
	for (int k = 0; k < 2; k++) {
		size_t rows = k ? 2 * SK_WIRE_INLINE_MAX / 20 : SK_WIRE_INLINE_MAX / 40;
		sk_buf big;
		sk_buf_init(&big, 0);
		for (size_t i = 0; i < rows; i++)
			assert_int_equal(sk_buf_printf(&big, "%zu,=1+%zu,note\n", i, i), 0);
		job(p, "big.csv", big.data, big.len, 60, &a);
		job(NULL, "big.csv", big.data, big.len, 60, &b);
		assert_string_equal(sk_verdict_code(a.res.report.verdict), "sanitized");
		assert_int_equal(a.out.len, b.out.len);
		assert_true(k ? a.out.len > SK_WIRE_INLINE_MAX : a.out.len <= SK_WIRE_INLINE_MAX);
		assert_memory_equal(a.out.data, b.out.data, a.out.len);
		run_free(&a);
		run_free(&b);
		sk_buf_free(&big);
	}
	/* a blocked item: the reason crosses too */
	job(p, "setup.txt", "MZ\x90\0\3\0\0\0\4\0\0\0\xff\xff", 16, 60, &a);
	assert_blocked(&a, SK_REASON_EXECUTABLE, "pe");
	assert_string_equal(a.res.type.code, "pe");
	run_free(&a);
	/* detection only (after a malware hit): the type, nothing written */
	sk_engine_job j = {.name = "x.csv", .detect_only = true};
	sk_budget_default(&j.budget);
	sk_input in;
	sk_input_mem(&in, CSV, sizeof(CSV) - 1);
	sk_buf_init(&a.out, 1 << 20);
	sk_output out;
	sk_output_buf(&out, &a.out);
	assert_int_equal(sk_pool_run(p, &j, &in, &out, &a.res, NULL), 0);
	assert_string_equal(a.res.type.code, "csv");
	assert_int_equal(a.out.len, 0);
	run_free(&a);
	sk_pool_close(p);
}

/* An input handed over read-write is reopened read-only for the worker. */
static void input_read_only(void **state)
{
	(void)state;
	char path[] = "/tmp/sk-worker-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	/* larger than a job message carries: the worker gets a descriptor */
	size_t copies = SK_WIRE_INLINE_MAX / (sizeof(CSV) - 1) + 1;
	for (size_t i = 0; i < copies; i++)
		assert_int_equal(write(fd, CSV, sizeof(CSV) - 1), (ssize_t)(sizeof(CSV) - 1));
	sk_pool *p = open_pool(hostile_worker, 1, 0);
	sk_engine_job j = {.name = "write-input.txt"};
	sk_budget_default(&j.budget);
	sk_budget_start(&j.budget);
	sk_input in;
	sk_input_fd(&in, fd, copies * (sizeof(CSV) - 1));
	run a;
	sk_buf_init(&a.out, 1 << 20);
	sk_output out;
	sk_output_buf(&out, &a.out);
	assert_int_equal(sk_pool_run(p, &j, &in, &out, &a.res, NULL), 0);
	assert_string_equal(sk_verdict_code(a.res.report.verdict), "sanitized");
	char back[sizeof(CSV)] = {0};
	assert_int_equal(pread(fd, back, sizeof(back) - 1, 0), (ssize_t)(sizeof(CSV) - 1));
	assert_string_equal(back, CSV);
	run_free(&a);
	sk_pool_close(p);
	close(fd);
	unlink(path);
}

static void forbidden_system_calls(void **state)
{
	(void)state;
	static const char *const names[] = {
		"forbidden-open.txt", "forbidden-socket.txt", "forbidden-fork.txt",
		"forbidden-exec.txt", "forbidden-kill.txt", "forbidden-exec-memory.txt",
	};
	sk_pool *p = open_pool(hostile_worker, 1, 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		pid_t before = one_pid(p);
		run r;
		job(p, names[i], CSV, sizeof(CSV) - 1, 60, &r);
		/* killed by the filter (SIGSYS), the item blocked, nothing delivered */
		assert_blocked(&r, SK_REASON_WORKER_CRASH, "signal SYS");
		assert_string_equal(r.res.type.code, "unknown");
		run_free(&r);
		/* replaced: the next job runs in a new process */
		job(p, "ok.csv", CSV, sizeof(CSV) - 1, 60, &r);
		assert_string_equal(sk_verdict_code(r.res.report.verdict), "sanitized");
		assert_int_not_equal(one_pid(p), before);
		run_free(&r);
	}
	sk_pool_stats st;
	sk_pool_stats_get(p, &st);
	assert_int_equal(st.crashes, 6);
	assert_int_equal(st.started, 7);
	sk_pool_close(p);
}

static void time_limit(void **state)
{
	(void)state;
	sk_pool *p = open_pool(hostile_worker, 1, 0);
	pid_t before = one_pid(p);
	run r;
	job(p, "spin.txt", CSV, sizeof(CSV) - 1, 1, &r);
	assert_blocked(&r, SK_REASON_LIMIT_TIME, NULL);
	run_free(&r);
	sk_pool_stats st;
	sk_pool_stats_get(p, &st);
	assert_int_equal(st.timeouts, 1);
	/* the spinning worker is gone (reaped), a new one serves */
	assert_int_equal(kill(before, 0), -1);
	job(p, "ok.csv", CSV, sizeof(CSV) - 1, 60, &r);
	assert_string_equal(sk_verdict_code(r.res.report.verdict), "sanitized");
	assert_int_not_equal(one_pid(p), before);
	run_free(&r);
	sk_pool_close(p);
}

static void malformed_answers(void **state)
{
	(void)state;
	static const char *const names[] = {
		"garbage.txt", "huge-length.txt", "wrong-message.txt", "bad-type.txt",
		"verdict-mismatch.txt", "bad-size.txt", "fds-in-answer.txt", "unsealed-output.txt",
		"mapped-output.txt", "output-size.txt", "fd-when-blocked.txt",
	};
	sk_pool *p = open_pool(hostile_worker, 1, 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		run r;
		job(p, names[i], CSV, sizeof(CSV) - 1, 60, &r);
		assert_blocked(&r, SK_REASON_WORKER_CRASH, "malformed answer");
		assert_string_equal(r.res.type.code, "unknown");
		run_free(&r);
	}
	/* a worker that exits mid-job */
	run r;
	job(p, "exit.txt", CSV, sizeof(CSV) - 1, 60, &r);
	assert_blocked(&r, SK_REASON_WORKER_CRASH, "exit 3");
	run_free(&r);
	sk_pool_stats st;
	sk_pool_stats_get(p, &st);
	assert_int_equal(st.crashes, 12);
	assert_int_equal(st.jobs, 0);
	sk_pool_close(p);
}

static void replaced_after_max_jobs(void **state)
{
	(void)state;
	sk_pool *p = open_pool(real_worker, 1, 4);
	pid_t first = one_pid(p);
	run r;
	sk_pool_stats st;
	for (int i = 0; i < 3; i++) {
		job(p, "a.csv", CSV, sizeof(CSV) - 1, 60, &r);
		assert_string_equal(sk_verdict_code(r.res.report.verdict), "sanitized");
		run_free(&r);
		assert_int_equal(one_pid(p), first);
		/* three quarters through its jobs (4 - 4/4 = 3: after its third), its
		 * replacement is started in the background */
		sk_pool_stats_get(p, &st);
		assert_int_equal(st.running, i < 2 ? 1 : 2);
		assert_int_equal(st.started, 1); /* the spare's READY is read when it takes over */
	}
	job(p, "a.csv", CSV, sizeof(CSV) - 1, 60, &r); /* the fourth: its last */
	assert_string_equal(sk_verdict_code(r.res.report.verdict), "sanitized");
	run_free(&r);
	sk_pool_stats_get(p, &st);
	assert_int_equal(st.running, 1);
	/* the spare has taken its place */
	pid_t now = 0;
	assert_true(sk_pool_pids(p, &now, 1) <= 1);
	assert_int_not_equal(now, first);
	assert_int_equal(kill(first, 0), -1); /* reaped */
	job(p, "a.csv", CSV, sizeof(CSV) - 1, 60, &r);
	assert_string_equal(sk_verdict_code(r.res.report.verdict), "sanitized");
	run_free(&r);
	assert_int_not_equal(one_pid(p), first);
	sk_pool_stats_get(p, &st);
	assert_int_equal(st.started, 2);
	assert_int_equal(st.jobs, 5);
	assert_int_equal(st.crashes, 0);
	sk_pool_close(p);
}

/* threads share a pool; each gets its own answer */
struct thr {
	sk_pool *p;
	int id;
	int ok;
};

static void *worker_thread(void *arg)
{
	struct thr *t = arg;
	for (int i = 0; i < 20; i++) {
		char csv[64], name[32];
		int n = snprintf(csv, sizeof(csv), "a,b\n%d,=%d+%d\n", t->id, t->id, i);
		snprintf(name, sizeof(name), "t%d-%d.csv", t->id, i);
		run r;
		job(t->p, name, csv, (size_t)n, 60, &r);
		char want[64];
		snprintf(want, sizeof(want), "a,b\n%d,'=%d+%d\n", t->id, t->id, i);
		if (r.rc == 0 && r.res.report.verdict == SK_VERDICT_SANITIZED &&
		    r.out.len == strlen(want) && !memcmp(r.out.data, want, r.out.len))
			t->ok++;
		run_free(&r);
	}
	return NULL;
}

static void threads_share_a_pool(void **state)
{
	(void)state;
	sk_pool *p = open_pool(real_worker, 2, 7);
	pthread_t th[4];
	struct thr t[4];
	for (int i = 0; i < 4; i++) {
		t[i] = (struct thr){.p = p, .id = i};
		assert_int_equal(pthread_create(&th[i], NULL, worker_thread, &t[i]), 0);
	}
	for (int i = 0; i < 4; i++) /* every thread ends before a check can leave the test */
		pthread_join(th[i], NULL);
	for (int i = 0; i < 4; i++)
		assert_int_equal(t[i].ok, 20);
	sk_pool_stats st;
	sk_pool_stats_get(p, &st);
	assert_int_equal(st.jobs, 80);
	assert_int_equal(st.crashes, 0);
	assert_true(st.started >= 80 / 7);
	sk_pool_close(p);
}

static void open_errors(void **state)
{
	(void)state;
	sk_pool_config c;
	sk_pool_config_default(&c);
	c.worker = "/nonexistent/sekisho-worker";
	sk_pool *p = NULL;
	sk_error err;
	assert_int_equal(sk_pool_open(&c, &p, &err), SK_ENOTFOUND);
	assert_null(p);
	/* an executable that never says READY */
	c.worker = "/bin/true";
	c.workers = 1;
	assert_int_not_equal(sk_pool_open(&c, &p, &err), 0);
	assert_non_null(strstr(err.msg, "did not start"));
	assert_null(p);
	if (geteuid() == 0) {
		c.worker = real_worker;
		c.user = "no-such-user-sekisho";
		assert_int_equal(sk_pool_open(&c, &p, &err), SK_ENOTFOUND);
		c.user = "root";
		assert_int_equal(sk_pool_open(&c, &p, &err), SK_EINVAL);
	}
}

/* ---- legacy formats: the worker asks the gate (CONVERT / CONVERTED) ------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A compound file whose root holds one stream, "WordDocument" (a .doc to detection), padded
 * to size bytes (so that a large one takes the descriptor path of a job). */
static uint8_t *mkdoc(size_t size)
{
	uint8_t *f = calloc(1, size);
	assert_non_null(f);
	memcpy(f, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
	put16(f + 0x1E, 9);
	put32(f + 0x30, 0);
	for (int i = 0; i < 109; i++)
		put32(f + 0x4C + 4 * i, 0xFFFFFFFF);
	put32(f + 0x4C, 1); /* FAT at sector 1 */
	uint8_t *fat = f + 1024;
	for (int i = 0; i < 128; i++)
		put32(fat + 4 * i, 0xFFFFFFFF);
	put32(fat, 0xFFFFFFFE);
	put32(fat + 4, 0xFFFFFFFD);
	const char *names[2] = {"Root Entry", "WordDocument"};
	for (int i = 0; i < 2; i++) {
		uint8_t *d = f + 512 + 128 * i;
		size_t l = strlen(names[i]);
		for (size_t j = 0; j < l; j++)
			d[2 * j] = (uint8_t)names[i][j];
		put16(d + 0x40, (uint16_t)((l + 1) * 2));
		d[0x42] = i ? 2 : 5;
		put32(d + 0x44, 0xFFFFFFFF);
		put32(d + 0x48, 0xFFFFFFFF);
		put32(d + 0x4C, i ? 0xFFFFFFFF : 1);
	}
	for (size_t i = 2048; i < size; i++)
		f[i] = (uint8_t)(i * 7);
	return f;
}

/* A docx that carries a VBA project, as a converter might give back. */
static void mkdocx(sk_buf *out)
{
	static const char *const e[][2] = {
		{"[Content_Types].xml",
		 "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
		 "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
		 "<Default Extension=\"bin\" ContentType=\"application/vnd.ms-office.vbaProject\"/>"
		 "<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.ms-word.document.macroEnabled.main+xml\"/></Types>"},
		{"_rels/.rels",
		 "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
		 "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>"},
		{"word/document.xml",
		 "<?xml version=\"1.0\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
		 "<w:body><w:p><w:r><w:t>変換された文書</w:t></w:r></w:p></w:body></w:document>"},
		{"word/_rels/document.xml.rels",
		 "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
		 "<Relationship Id=\"rId9\" Type=\"http://schemas.microsoft.com/office/2006/relationships/vbaProject\" Target=\"vbaProject.bin\"/></Relationships>"},
		{"word/vbaProject.bin", "\xD0\xCF\x11\xE0 Sub AutoOpen()"},
	};
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *dst = zip_source_buffer_create(NULL, 0, 0, &ze);
	zip_source_keep(dst);
	zip_t *za = zip_open_from_source(dst, ZIP_TRUNCATE, &ze);
	assert_non_null(za);
	for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		zip_source_t *src = zip_source_buffer(za, e[i][1], strlen(e[i][1]), 0);
		assert_true(zip_file_add(za, e[i][0], src, ZIP_FL_ENC_UTF_8) >= 0);
	}
	assert_int_equal(zip_close(za), 0);
	assert_int_equal(zip_source_open(dst), 0);
	sk_buf_init(out, 0);
	uint8_t b[8192];
	zip_int64_t got;
	while ((got = zip_source_read(dst, b, sizeof(b))) > 0)
		assert_int_equal(sk_buf_add(out, b, (size_t)got), 0);
	zip_source_close(dst);
	zip_source_free(dst);
	zip_error_fini(&ze);
}

typedef struct gate_office {
	const uint8_t *want;
	size_t want_n;
	const sk_buf *reply; /* NULL: fail with `fail` */
	sk_reason fail;
	int calls;
	sk_convert_target target; /* what must be asked */
	const char *from;         /* NULL: "doc" */
} gate_office;

static int gate_convert(void *ctx, sk_convert *c, const uint8_t *p, size_t n,
			const sk_budget *b, sk_buf *out, sk_reason *reason, sk_error *err)
{
	gate_office *g = ctx;
	g->calls++;
	assert_non_null(b);
	assert_true(b->deadline_ns > 0); /* the job's budget, its clock running */
	assert_string_equal(c->from, g->from ? g->from : "doc");
	assert_int_equal(c->target, g->target);
	if (c->target == SK_CONVERT_IMAGE && g->reply) {
		assert_int_equal(c->dpi, 120); /* the profile's, through the JOB and CONVERT */
		c->pages = 2;
		snprintf(c->note, sizeof(c->note), "OCR jpn 1, jpn_vert 1");
	}
	if (g->want) {
		assert_int_equal(n, g->want_n);
		assert_memory_equal(p, g->want, n);
	}
	if (!g->reply) {
		*reason = g->fail;
		return sk_error_set(err, SK_EFORMAT, "LibreOffice: password required");
	}
	sk_buf_reset(out);
	return sk_buf_add(out, g->reply->data, g->reply->len);
}

/* colocate (a one-shot command's pool): the worker that ran a job runs on the CPU of the
 * thread that sent it; without it the kernel places the worker */
static void colocate_follows_the_caller(void **state)
{
	(void)state;
	cpu_set_t all;
	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	sk_pool_config c;
	sk_pool_config_default(&c);
	c.worker = real_worker;
	c.workers = 1;
	c.colocate = true;
	sk_pool *p = NULL;
	assert_int_equal(sk_pool_open(&c, &p, NULL), 0);
	run r;
	job(p, "a.csv", CSV, sizeof(CSV) - 1, 60, &r);
	assert_string_equal(sk_verdict_code(r.res.report.verdict), "sanitized");
	run_free(&r);
	pid_t pid = 0;
	assert_int_equal(sk_pool_pids(p, &pid, 1), 1);
	cpu_set_t set;
	assert_int_equal(sched_getaffinity(pid, sizeof(set), &set), 0);
	assert_int_equal(CPU_COUNT(&set), 1);
	sk_pool_close(p);
	/* the default: the worker may run anywhere this process may */
	p = open_pool(real_worker, 1, 0);
	job(p, "a.csv", CSV, sizeof(CSV) - 1, 60, &r);
	run_free(&r);
	assert_int_equal(sk_pool_pids(p, &pid, 1), 1);
	assert_int_equal(sched_getaffinity(pid, sizeof(set), &set), 0);
	assert_int_equal(CPU_COUNT(&set), CPU_COUNT(&all));
	sk_pool_close(p);
}

/* A conversion that takes until the test says so: entered is posted when it starts; it
 * then waits for go (30 s at most: a test that never posts it fails, not hangs) */
typedef struct slow_office {
	gate_office g;
	sem_t entered, go;
	bool waited;
} slow_office;

static int slow_convert(void *ctx, sk_convert *c, const uint8_t *p, size_t n,
			const sk_budget *b, sk_buf *out, sk_reason *reason, sk_error *err)
{
	slow_office *s = ctx;
	sem_post(&s->entered);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 30;
	s->waited = sem_timedwait(&s->go, &ts) == 0;
	return gate_convert(&s->g, c, p, n, b, out, reason, err);
}

typedef struct slow_job {
	sk_pool *p;
	const uint8_t *doc;
	slow_office *s;
	run r;
} slow_job;

static void *slow_job_run(void *arg)
{
	slow_job *j = arg;
	job_conv(j->p, "遅い.doc", j->doc, 4096, slow_convert, j->s, &j->r);
	return NULL;
}

/* A job whose worker waits on a conversion lends its slot: in a pool of one worker, a
 * file behind a slow LibreOffice is sanitised meanwhile (in a worker of its own, which
 * ends when the conversion is done) */
static void convert_lends_the_slot(void **state)
{
	(void)state;
	sk_buf docx;
	mkdocx(&docx);
	sk_pool *p = open_pool(real_worker, 1, 0);
	uint8_t *doc = mkdoc(4096);
	slow_office s = {.g = {.want = doc, .want_n = 4096, .reply = &docx}};
	assert_int_equal(sem_init(&s.entered, 0, 0), 0);
	assert_int_equal(sem_init(&s.go, 0, 0), 0);
	slow_job sj = {.p = p, .doc = doc, .s = &s};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, slow_job_run, &sj), 0);
	assert_int_equal(sem_wait(&s.entered), 0);
	/* the conversion is under way: this one does not wait for it */
	run r;
	job(p, "list.csv", CSV, sizeof(CSV) - 1, 60, &r);
	assert_string_equal(sk_verdict_code(r.res.report.verdict), "sanitized");
	run_free(&r);
	pid_t pids[4];
	assert_int_equal(sk_pool_pids(p, pids, 4), 2);
	assert_int_equal(sem_post(&s.go), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(s.waited);
	assert_int_equal(sj.r.rc, 0);
	assert_string_equal(sk_verdict_code(sj.r.res.report.verdict), "sanitized");
	assert_string_equal(sj.r.res.report.out_ext, "docx");
	run_free(&sj.r);
	/* the lent slot's worker has ended: the pool is one worker again */
	assert_int_equal(sk_pool_pids(p, pids, 4), 1);
	sem_destroy(&s.entered);
	sem_destroy(&s.go);
	free(doc);
	sk_buf_free(&docx);
	sk_pool_close(p);
}

/* A .doc in a worker: the worker sends the bytes to the gate, the gate's hook converts,
 * the worker rebuilds the package; the same result as in process. */
static void convert_through_the_gate(void **state)
{
	(void)state;
	sk_buf docx;
	mkdocx(&docx);
	sk_pool *p = open_pool(real_worker, 1, 0);
	/* small (the job carries it) and large (a descriptor) */
	const size_t sizes[] = {4096, 300 * 1024};
	for (size_t k = 0; k < 2; k++) {
		uint8_t *doc = mkdoc(sizes[k]);
		gate_office g = {.want = doc, .want_n = sizes[k], .reply = &docx};
		run a, b;
		job_conv(p, "報告.doc", doc, sizes[k], gate_convert, &g, &a);
		job_conv(NULL, "報告.doc", doc, sizes[k], gate_convert, &g, &b);
		assert_int_equal(g.calls, 2);
		assert_int_equal(a.rc, 0);
		assert_string_equal(sk_verdict_code(a.res.report.verdict), "sanitized");
		assert_string_equal(a.res.type.code, "doc");
		assert_string_equal(a.res.report.out_ext, "docx");
		assert_null(memmem(a.out.data, a.out.len, "vbaProject", 10));
		assert_int_equal(a.out.len, b.out.len);
		assert_memory_equal(a.out.data, b.out.data, a.out.len);
		assert_int_equal(a.res.report.n, b.res.report.n);
		bool conv = false;
		for (size_t i = 0; i < a.res.report.n; i++) {
			assert_string_equal(a.res.report.v[i].what, b.res.report.v[i].what);
			conv = conv || (a.res.report.v[i].detail &&
					!strcmp(a.res.report.v[i].detail, "doc→docx"));
		}
		assert_true(conv);
		run_free(&a);
		run_free(&b);
		/* the converter's failure reaches the item: blocked with its reason and words */
		gate_office bad = {.fail = SK_REASON_ENCRYPTED};
		job_conv(p, "x.doc", doc, sizes[k], gate_convert, &bad, &a);
		assert_blocked(&a, SK_REASON_ENCRYPTED, "password required");
		run_free(&a);
		free(doc);
	}
	/* no hook: the worker never asks, the item is blocked as before */
	uint8_t *doc = mkdoc(4096);
	run r;
	job_conv(p, "x.doc", doc, 4096, NULL, NULL, &r);
	assert_blocked(&r, SK_REASON_UNSUPPORTED_LEGACY_OFFICE, NULL);
	run_free(&r);
	free(doc);
	sk_pool_stats st;
	sk_pool_stats_get(p, &st);
	assert_int_equal(st.conversions, 4);
	assert_int_equal(st.conversion_failures, 2);
	assert_int_equal(st.crashes, 0);
	sk_pool_close(p);
	sk_buf_free(&docx);
}

/* 画像化 asked of the gate by a worker: a PDF under a profile that makes PDFs into images;
 * the hook's image PDF comes back, is rebuilt by the PDF module, and the pages and OCR
 * note reach the report, as in process. */
static void image_through_the_gate(void **state)
{
	(void)state;
	static const char pdf[] =
		"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
		"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
		"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >> endobj\n"
		"trailer << /Root 1 0 R >>\n%%EOF\n";
	sk_buf img;
	sk_buf_init(&img, 0);
	assert_int_equal(sk_buf_add(&img, pdf, sizeof(pdf) - 1), 0);
	sk_profile pr = *sk_profile_default();
	pr.name = "scan";
	pr.pdf_image = true;
	pr.image_dpi = 120;
	sk_pool *p = open_pool(real_worker, 1, 0);
	gate_office g = {.reply = &img, .target = SK_CONVERT_IMAGE, .from = "pdf"};
	run r[2];
	for (int k = 0; k < 2; k++) {
		sk_engine_job j = {.name = "in.pdf", .profile = &pr, .convert = gate_convert,
				   .convert_ctx = &g};
		sk_budget_default(&j.budget);
		sk_budget_start(&j.budget);
		sk_input in;
		sk_input_mem(&in, pdf, sizeof(pdf) - 1);
		sk_buf_init(&r[k].out, 1 << 20);
		sk_output out;
		sk_output_buf(&out, &r[k].out);
		sk_error err;
		sk_error_clear(&err);
		r[k].rc = k ? sk_engine_run(&j, &in, &out, &r[k].res, &err)
			    : sk_pool_run(p, &j, &in, &out, &r[k].res, &err);
		sk_input_release(&in);
		assert_int_equal(r[k].rc, 0);
		assert_string_equal(sk_verdict_code(r[k].res.report.verdict), "sanitized");
		assert_string_equal(r[k].res.report.out_ext, "pdf");
		bool said = false;
		for (size_t i = 0; i < r[k].res.report.n; i++)
			said = said || (r[k].res.report.v[i].detail &&
					strstr(r[k].res.report.v[i].detail,
					       "pdf→pdf, 2 pages, 120 dpi, OCR jpn 1, jpn_vert 1"));
		assert_true(said);
	}
	assert_int_equal(g.calls, 2);
	assert_int_equal(r[0].out.len, r[1].out.len);
	assert_memory_equal(r[0].out.data, r[1].out.data, r[0].out.len);
	run_free(&r[0]);
	run_free(&r[1]);
	sk_pool_close(p);
	sk_buf_free(&img);
}

/* A worker that sends a bad CONVERT is treated as crashed: the item blocked, the worker
 * replaced, the gate's hook never called. */
static void malformed_convert(void **state)
{
	(void)state;
	static const char *const names[] = {
		"convert-no-fd.doc", "convert-unsealed.doc", "convert-size.doc",
		"convert-type.doc", "convert-garbage.doc", "convert-two-fds.doc",
		"convert-too-large.doc", "convert-target.doc",
	};
	sk_buf docx;
	mkdocx(&docx);
	gate_office g = {.reply = &docx};
	uint8_t *doc = mkdoc(4096);
	sk_pool *p = open_pool(hostile_worker, 1, 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		run r;
		job_conv(p, names[i], doc, 4096, gate_convert, &g, &r);
		if (r.res.report.reason != SK_REASON_WORKER_CRASH)
			fail_msg("%s: %s", names[i], sk_reason_code(r.res.report.reason));
		assert_blocked(&r, SK_REASON_WORKER_CRASH, "malformed convert request");
		run_free(&r);
	}
	/* CONVERT in a job that may not convert (no hook at the gate) */
	run r;
	job_conv(p, "convert-unasked.doc", doc, 4096, NULL, NULL, &r);
	assert_blocked(&r, SK_REASON_WORKER_CRASH, "malformed convert request");
	run_free(&r);
	assert_int_equal(g.calls, 0);
	/* a well-formed request from the hostile worker is answered, and the worker goes on */
	job_conv(p, "convert-ok.doc", doc, 4096, gate_convert, &g, &r);
	assert_int_equal(g.calls, 1);
	assert_blocked(&r, SK_REASON_MALFORMED, "converted");
	run_free(&r);
	sk_pool_stats st;
	sk_pool_stats_get(p, &st);
	assert_int_equal(st.crashes, sizeof(names) / sizeof(names[0]) + 1);
	sk_pool_close(p);
	free(doc);
	sk_buf_free(&docx);
}

int main(void)
{
	real_worker = getenv("SK_WORKER");
	hostile_worker = getenv("SK_WORKER_HOSTILE");
	if (!real_worker || !hostile_worker) {
		fprintf(stderr, "SK_WORKER and SK_WORKER_HOSTILE must name the workers\n");
		return 2;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sandbox_as_the_kernel_sees_it),
		cmocka_unit_test(same_as_in_process),
		cmocka_unit_test(input_read_only),
		cmocka_unit_test(forbidden_system_calls),
		cmocka_unit_test(time_limit),
		cmocka_unit_test(malformed_answers),
		cmocka_unit_test(replaced_after_max_jobs),
		cmocka_unit_test(threads_share_a_pool),
		cmocka_unit_test(open_errors),
		cmocka_unit_test(convert_through_the_gate),
		cmocka_unit_test(convert_lends_the_slot),
		cmocka_unit_test(colocate_follows_the_caller),
		cmocka_unit_test(malformed_convert),
		cmocka_unit_test(image_through_the_gate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
