/* Unlocking password ZIPs (PPAP): the engine's unlock job in process (ZipCrypto made by
 * `zip -P`, WinZip AES made here with libzip), the unlock job on the wire, and
 * sk_gate_unlock through the sandboxed worker pool ($SK_WORKER) with a state folder:
 * right and wrong passwords, the count of wrong tries and its limit, too many
 * passwords, a zip bomb inside the encrypted archive, a PPAP attachment of a mail, and
 * the passwords nowhere in the state folder. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <zip.h>

#include "sekisho/audit.h"
#include "sekisho/engine.h"
#include "sekisho/pool.h"
#include "sekisho/quarantine.h"
#include "sekisho/zipio.h"
#include "testutil.h"
#include "wire.h"

#define PW "Kaigi-2026!sekisho"
#define PW2 "another-secret-77"

/* ---- making archives ------------------------------------------------------------- */

typedef struct ent {
	const char *name;
	const void *data;
	size_t len;
} ent;

/* A ZIP in memory (deflated); em (ZIP_EM_NONE: none) encrypts every entry with pw. */
static void mkzip(sk_buf *out, const ent *e, size_t n, zip_uint16_t em, const char *pw)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *dst = zip_source_buffer_create(NULL, 0, 0, &ze);
	assert_non_null(dst);
	zip_source_keep(dst);
	zip_t *za = zip_open_from_source(dst, ZIP_TRUNCATE, &ze);
	assert_non_null(za);
	for (size_t i = 0; i < n; i++) {
		zip_source_t *s = zip_source_buffer(za, e[i].data, e[i].len, 0);
		assert_non_null(s);
		zip_int64_t idx = zip_file_add(za, e[i].name, s, ZIP_FL_ENC_UTF_8);
		assert_true(idx >= 0);
		zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 9);
		if (em != ZIP_EM_NONE)
			assert_int_equal(zip_file_set_encryption(za, (zip_uint64_t)idx, em, pw), 0);
	}
	assert_int_equal(zip_close(za), 0);
	assert_int_equal(zip_source_open(dst), 0);
	sk_buf_init(out, 0);
	uint8_t buf[8192];
	zip_int64_t got;
	while ((got = zip_source_read(dst, buf, sizeof(buf))) > 0)
		assert_int_equal(sk_buf_add(out, buf, (size_t)got), 0);
	zip_source_close(dst);
	zip_source_free(dst);
	zip_error_fini(&ze);
}

#define XMLDECL "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
#define RELS_HEAD XMLDECL "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"

/* A small macro document (its vbaProject.bin is what the OOXML module removes). */
static void docm(sk_buf *out)
{
	static const char ct[] =
		XMLDECL "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
		"<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
		"<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
		"<Default Extension=\"bin\" ContentType=\"application/vnd.ms-office.vbaProject\"/>"
		"<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.ms-word.document.macroEnabled.main+xml\"/>"
		"</Types>";
	static const char rels[] =
		RELS_HEAD "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/></Relationships>";
	static const char doc[] =
		XMLDECL "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
		"<w:body><w:p><w:r><w:t>会議資料</w:t></w:r></w:p></w:body></w:document>";
	static const char drels[] =
		RELS_HEAD "<Relationship Id=\"rId9\" Type=\"http://schemas.microsoft.com/office/2006/relationships/vbaProject\" Target=\"vbaProject.bin\"/></Relationships>";
	static const char ole[] = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 fake VBA project: Sub AutoOpen()";
	ent e[] = {
		{"[Content_Types].xml", ct, sizeof(ct) - 1},
		{"_rels/.rels", rels, sizeof(rels) - 1},
		{"word/document.xml", doc, sizeof(doc) - 1},
		{"word/_rels/document.xml.rels", drels, sizeof(drels) - 1},
		{"word/vbaProject.bin", ole, sizeof(ole) - 1},
	};
	mkzip(out, e, 5, ZIP_EM_NONE, NULL);
}

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sk-unlock.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	sk_error err;
	assert_int_equal(sk_engine_init(&err), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* ZipCrypto, as Japanese senders make them: `zip -P` (Info-ZIP) around the files. */
static void zipcrypto(sk_buf *out, const char *pw, const ent *e, size_t n)
{
	char dir[128], path[256], cmd[1024];
	snprintf(dir, sizeof(dir), "%s/zp", tmpdir);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir -p '%s'", dir, dir);
	assert_int_equal(system(cmd), 0);
	sk_buf names;
	sk_buf_init(&names, 0);
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, e[i].name);
		write_file(path, e[i].data, e[i].len);
		sk_buf_printf(&names, " '%s'", e[i].name);
	}
	snprintf(cmd, sizeof(cmd), "cd '%s' && zip -q -P '%s' out.zip%s", dir, pw, sk_buf_str(&names));
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/out.zip", dir);
	sk_buf_init(out, 0);
	tu_read(path, out);
	sk_buf_free(&names);
}

/* ---- reading results ---------------------------------------------------------------- */

static zip_t *zopen(const sk_buf *b)
{
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *s = zip_source_buffer_create(b->data, b->len, 0, &ze);
	assert_non_null(s);
	zip_t *za = zip_open_from_source(s, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
	assert_non_null(za);
	zip_error_fini(&ze);
	return za;
}

/* The entry's bytes (NULL when missing); also checks that nothing is encrypted. */
static sk_buf *zget(const sk_buf *zipb, const char *name, sk_buf *out)
{
	zip_t *za = zopen(zipb);
	for (zip_int64_t i = 0; i < zip_get_num_entries(za, 0); i++) {
		zip_stat_t st;
		assert_int_equal(zip_stat_index(za, (zip_uint64_t)i, 0, &st), 0);
		assert_int_equal(st.encryption_method, ZIP_EM_NONE);
	}
	zip_file_t *zf = zip_fopen(za, name, 0);
	sk_buf *r = NULL;
	if (zf) {
		sk_buf_init(out, 0);
		char buf[8192];
		zip_int64_t got;
		while ((got = zip_fread(zf, buf, sizeof(buf))) > 0)
			sk_buf_add(out, buf, (size_t)got);
		zip_fclose(zf);
		r = out;
	}
	zip_discard(za);
	return r;
}

static bool reported(const sk_report *r, sk_action a, const char *what, const char *where_has)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].action == a && !strcmp(r->v[i].what, what) &&
		    (!where_has || strstr(r->v[i].where, where_has)))
			return true;
	return false;
}

/* The engine in process on one archive with these passwords. */
static void engine_unlock(const sk_buf *zipb, const char *const *pw, size_t n, sk_budget *b,
			  sk_engine_result *res, sk_buf *out)
{
	sk_engine_job job = {.name = "資料.zip", .passwords = pw, .n_passwords = n};
	if (b)
		job.budget = *b;
	else
		sk_budget_default(&job.budget);
	sk_budget_start(&job.budget);
	sk_input in;
	sk_input_mem(&in, zipb->data, zipb->len);
	sk_output o;
	sk_buf_init(out, 0);
	sk_output_buf(&o, out);
	sk_error err;
	sk_error_clear(&err);
	assert_int_equal(sk_engine_run(&job, &in, &o, res, &err), 0);
	sk_input_release(&in);
}

/* ---- the engine ------------------------------------------------------------------------ */

static void check_docm_unlocked(const sk_engine_result *res, const sk_buf *out)
{
	assert_int_not_equal(res->report.verdict, SK_VERDICT_BLOCKED);
	assert_true(reported(&res->report, SK_ACTION_CONVERTED, "encryption", NULL));
	assert_true(reported(&res->report, SK_ACTION_REMOVED, "macro", "vbaProject.bin"));
	assert_false(sk_engine_wrong_password(&res->report));
	assert_string_equal(res->report.out_ext, "zip");
	sk_buf docx, part;
	assert_non_null(zget(out, "会議.docx", &docx));
	assert_null(zget(&docx, "word/vbaProject.bin", &part));
	assert_non_null(zget(&docx, "word/document.xml", &part));
	assert_non_null(strstr(sk_buf_str(&part), "会議資料"));
	sk_buf_free(&part);
	sk_buf_free(&docx);
	/* no password anywhere in what comes out */
	assert_null(memmem(out->data, out->len, PW, strlen(PW)));
	for (size_t i = 0; i < res->report.n; i++) {
		const sk_report_entry *e = &res->report.v[i];
		assert_null(strstr(e->what, PW));
		assert_null(strstr(e->where, PW));
		assert_true(!e->detail || !strstr(e->detail, PW));
	}
}

static void engine_zipcrypto(void **state)
{
	(void)state;
	sk_buf d, z, out;
	docm(&d);
	ent e[] = {{"会議.docm", d.data, d.len}, {"memo.csv", "=cmd|' /C calc'!A0\n", 19}};
	zipcrypto(&z, PW, e, 2);
	assert_true(sk_zipio_encrypted(z.data, z.len));
	/* the right password among wrong ones, in third place */
	const char *pw[] = {"wrong1", PW2, PW, "x"};
	sk_engine_result res;
	engine_unlock(&z, pw, 4, NULL, &res, &out);
	check_docm_unlocked(&res, &out);
	sk_buf memo;
	assert_non_null(zget(&out, "memo.csv", &memo));
	assert_int_equal(memo.data[0], '\''); /* the CSV/DDE rule applied inside too */
	sk_buf_free(&memo);
	sk_engine_result_free(&res);
	sk_buf_free(&out);

	/* only wrong passwords: blocked encrypted, said so, nothing written */
	const char *bad[] = {"wrong1", PW2};
	engine_unlock(&z, bad, 2, NULL, &res, &out);
	assert_int_equal(res.report.verdict, SK_VERDICT_BLOCKED);
	assert_int_equal(res.report.reason, SK_REASON_ENCRYPTED);
	assert_true(sk_engine_wrong_password(&res.report));
	assert_int_equal(out.len, 0);
	sk_engine_result_free(&res);
	sk_buf_free(&out);
	sk_buf_free(&z);
	sk_buf_free(&d);
}

static void engine_aes(void **state)
{
	(void)state;
	sk_buf d, z, out;
	docm(&d);
	ent e[] = {{"会議.docm", d.data, d.len}};
	zip_uint16_t ems[] = {ZIP_EM_AES_128, ZIP_EM_AES_256};
	for (size_t k = 0; k < 2; k++) {
		mkzip(&z, e, 1, ems[k], PW);
		assert_true(sk_zipio_encrypted(z.data, z.len));
		const char *pw[] = {PW};
		sk_engine_result res;
		engine_unlock(&z, pw, 1, NULL, &res, &out);
		check_docm_unlocked(&res, &out);
		sk_engine_result_free(&res);
		sk_buf_free(&out);
		const char *bad[] = {PW2, "Kaigi-2026!sekishO"};
		engine_unlock(&z, bad, 2, NULL, &res, &out);
		assert_true(sk_engine_wrong_password(&res.report));
		assert_int_equal(out.len, 0);
		sk_engine_result_free(&res);
		sk_buf_free(&out);
		sk_buf_free(&z);
	}
	sk_buf_free(&d);
}

/* A zip bomb inside the encrypted archive meets the budget, as it would unencrypted. */
static void engine_bomb(void **state)
{
	(void)state;
	size_t big = 64u << 20;
	char *zeros = calloc(1, big);
	assert_non_null(zeros);
	sk_buf z, out;
	ent e[] = {{"zeros.txt", zeros, big}};
	mkzip(&z, e, 1, ZIP_EM_AES_256, PW);
	free(zeros);
	const char *pw[] = {PW};
	sk_engine_result res;
	engine_unlock(&z, pw, 1, NULL, &res, &out);
	assert_int_equal(res.report.verdict, SK_VERDICT_BLOCKED);
	assert_int_equal(res.report.reason, SK_REASON_LIMIT_RATIO);
	assert_false(sk_engine_wrong_password(&res.report));
	sk_engine_result_free(&res);
	sk_buf_free(&out);
	/* expansion: a smaller budget than what the entries hold */
	sk_budget b;
	sk_budget_default(&b);
	b.max_ratio = 1u << 30;
	b.max_expanded = 1u << 20;
	engine_unlock(&z, pw, 1, &b, &res, &out);
	assert_int_equal(res.report.verdict, SK_VERDICT_BLOCKED);
	assert_int_equal(res.report.reason, SK_REASON_LIMIT_SIZE);
	sk_engine_result_free(&res);
	sk_buf_free(&out);
	sk_buf_free(&z);
}

/* Not a password ZIP, and a password ZIP in a mail message. */
static void engine_inputs(void **state)
{
	(void)state;
	sk_buf z, out;
	ent e[] = {{"a.txt", "hello\n", 6}};
	mkzip(&z, e, 1, ZIP_EM_NONE, NULL);
	const char *pw[] = {PW};
	sk_engine_result res;
	engine_unlock(&z, pw, 1, NULL, &res, &out);
	assert_int_equal(res.report.verdict, SK_VERDICT_BLOCKED);
	assert_int_equal(res.report.reason, SK_REASON_UNKNOWN_TYPE);
	sk_engine_result_free(&res);
	sk_buf_free(&out);
	sk_buf_free(&z);
}

/* ---- the wire ---------------------------------------------------------------------------- */

static void wire_unlock(void **state)
{
	(void)state;
	const char *pw[] = {PW, PW2};
	sk_engine_job job = {.name = "a.zip", .passwords = pw, .n_passwords = 2};
	sk_budget_default(&job.budget);
	uint8_t *p = NULL;
	size_t n = 0;
	assert_int_equal(sk_wire_job_encode(&job, 1000, NULL, 0, &p, &n), 0);
	sk_wire_job dj;
	assert_int_equal(sk_wire_job_decode(p, n, &dj), 0);
	assert_int_equal(dj.n_passwords, 2);
	assert_string_equal(dj.passwords[0], PW);
	assert_string_equal(dj.passwords[1], PW2);
	assert_false(dj.is_mail);
	assert_null(dj.input);
	/* the input carried in the message follows the passwords */
	uint8_t *pi = NULL;
	size_t ni = 0;
	assert_int_equal(sk_wire_job_encode(&job, 1000, (const uint8_t *)"PK\3\4", 4, &pi, &ni), 0);
	assert_int_equal(sk_wire_job_decode(pi, ni, &dj), 0);
	assert_int_equal(dj.n_passwords, 2);
	assert_int_equal(dj.input_len, 4);
	assert_memory_equal(dj.input, "PK\3\4", 4);
	free(pi);
	/* a cut message, and one password too many, are malformed */
	for (size_t k = 0; k < n; k++)
		assert_int_not_equal(sk_wire_job_decode(p, k, &dj), 0);
	free(p);
	const char *six[] = {"1", "2", "3", "4", "5", "6"};
	job.passwords = six;
	job.n_passwords = 6;
	assert_int_not_equal(sk_wire_job_encode(&job, 1000, NULL, 0, &p, &n), 0);
	const char *empty[] = {""};
	job.passwords = empty;
	job.n_passwords = 1;
	assert_int_not_equal(sk_wire_job_encode(&job, 1000, NULL, 0, &p, &n), 0);
}

/* ---- the gate, through the sandboxed workers -------------------------------------------- */

typedef struct gate {
	char dir[128];
	sk_audit *audit;
	sk_quarantine *q;
	sk_pool *pool;
	sk_options opt;
} gate;

static void gate_open(gate *g, const char *name)
{
	snprintf(g->dir, sizeof(g->dir), "%s/%s", tmpdir, name);
	sk_error err;
	sk_error_clear(&err);
	assert_int_equal(sk_audit_open(g->dir, NULL, &g->audit, &err), 0);
	assert_int_equal(sk_quarantine_open(g->dir, g->audit, NULL, &g->q, &err), 0);
	sk_pool_config pc;
	sk_pool_config_default(&pc);
	pc.worker = getenv("SK_WORKER");
	pc.workers = 1;
	assert_non_null(pc.worker);
	if (sk_pool_open(&pc, &g->pool, &err) != 0)
		fail_msg("pool: %s", err.msg);
	/* the worker that will see the passwords is sandboxed: seccomp filter mode */
	pid_t pid;
	assert_int_equal(sk_pool_pids(g->pool, &pid, 1), 1);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	sk_buf status;
	sk_buf_init(&status, 0);
	tu_read(path, &status);
	assert_non_null(strstr(sk_buf_str(&status), "Seccomp:\t2"));
	sk_buf_free(&status);
	sk_options_default(&g->opt);
	g->opt.quarantine = g->q;
	g->opt.audit = g->audit;
	g->opt.pool = g->pool;
}

static void gate_close(gate *g)
{
	sk_pool_close(g->pool);
	sk_quarantine_close(g->q);
	sk_audit_close(g->audit);
}

/* A file through the one path: held as encrypted; its id. */
static void admit(gate *g, const sk_buf *z, char id[24])
{
	tu_run r;
	tu_process(z->data, z->len, "資料.zip", &g->opt, &r);
	assert_verdict(&r, SK_VERDICT_BLOCKED);
	assert_reason(&r, SK_REASON_ENCRYPTED);
	assert_true(r.res.quarantine_id[0]);
	memcpy(id, r.res.quarantine_id, 24);
	tu_free(&r);
}

static int unlock(gate *g, const char *id, const char *const *pw, size_t n, sk_result *res,
		  sk_unlock_status *st, sk_buf *out)
{
	sk_output o;
	sk_buf_init(out, 0);
	sk_output_buf(&o, out);
	sk_error err;
	sk_error_clear(&err);
	int rc = sk_gate_unlock(&g->opt, id, pw, n, "tanaka", &o, res, st, &err);
	assert_null(strstr(err.msg, PW));
	return rc;
}

/* true when needle is in any file below dir */
static bool in_files(const char *dir, const char *needle)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *de;
	bool found = false;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char p[512];
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		struct stat st;
		if (lstat(p, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			found = in_files(p, needle);
			continue;
		}
		sk_buf b;
		sk_buf_init(&b, 0);
		tu_read(p, &b);
		found = b.len && memmem(b.data, b.len, needle, strlen(needle)) != NULL;
		sk_buf_free(&b);
	}
	closedir(d);
	return found;
}

typedef struct acount {
	const char *result;
	unsigned n;
} acount;

static int count_fn(void *ctx, const sk_audit_record *r)
{
	acount *c = ctx;
	assert_null(strstr(r->detail, PW));
	if (!strcmp(r->action, "unlock") && !strcmp(r->actor, "tanaka") && !strcmp(r->result, c->result))
		c->n++;
	return 0;
}

/* The number of unlock records by tanaka with this result. */
static unsigned count_audit(gate *g, const char *result)
{
	acount c = {.result = result};
	sk_error err;
	assert_int_equal(sk_audit_list(g->audit, 0, count_fn, &c, &err), 0);
	return c.n;
}

static void gate_unlock(void **state)
{
	(void)state;
	gate g;
	gate_open(&g, "st");
	sk_buf d, z, out;
	docm(&d);
	ent e[] = {{"会議.docm", d.data, d.len}};
	zipcrypto(&z, PW, e, 1);
	char id[24], id2[24];
	admit(&g, &z, id);
	admit(&g, &z, id2);
	sk_result res;
	sk_unlock_status st;

	/* 6 passwords, none, an empty one: refused before anything runs (not counted) */
	const char *six[] = {"1", "2", "3", "4", "5", PW};
	assert_int_equal(unlock(&g, id, six, 6, &res, &st, &out), SK_EINVAL);
	assert_int_equal(st, SK_UNLOCK_BAD_REQUEST);
	sk_result_free(&res);
	sk_buf_free(&out);
	assert_int_equal(unlock(&g, id, six, 0, &res, &st, &out), SK_EINVAL);
	sk_result_free(&res);
	sk_buf_free(&out);
	const char *empty[] = {PW, ""};
	assert_int_equal(unlock(&g, id, empty, 2, &res, &st, &out), SK_EINVAL);
	sk_result_free(&res);
	sk_buf_free(&out);

	/* ten wrong tries, counted; the eleventh refused before the worker */
	const char *bad[] = {"wrong-a", "wrong-b", "wrong-c", "wrong-d", "wrong-e"};
	unsigned tries = 99;
	for (unsigned i = 1; i <= SK_UNLOCK_TRIES_MAX; i++) {
		assert_int_equal(unlock(&g, id, bad, 5, &res, &st, &out), 0);
		assert_int_equal(st, SK_UNLOCK_WRONG_PASSWORD);
		assert_int_equal(res.report.verdict, SK_VERDICT_BLOCKED);
		assert_int_equal(res.report.reason, SK_REASON_ENCRYPTED);
		assert_int_equal(out.len, 0);
		sk_result_free(&res);
		sk_buf_free(&out);
		sk_error err;
		assert_int_equal(sk_quarantine_unlock_tries(g.q, id, 0, &tries, &err), 0);
		assert_int_equal(tries, i);
	}
	const char *right[] = {PW};
	assert_int_equal(unlock(&g, id, right, 1, &res, &st, &out), SK_ELOCKED);
	assert_int_equal(st, SK_UNLOCK_TOO_MANY);
	assert_int_equal(out.len, 0);
	sk_result_free(&res);
	sk_buf_free(&out);
	sk_qitem it;
	sk_error err;
	assert_int_equal(sk_quarantine_get(g.q, id, &it, &err), 0);
	assert_string_equal(it.reason, "encrypted"); /* still held as it was */
	sk_qitem_free(&it);

	/* the other item: a wrong try, then the right password among wrong ones */
	assert_int_equal(unlock(&g, id2, bad, 2, &res, &st, &out), 0);
	assert_int_equal(st, SK_UNLOCK_WRONG_PASSWORD);
	sk_result_free(&res);
	sk_buf_free(&out);
	const char *mixed[] = {"wrong-a", PW};
	assert_int_equal(unlock(&g, id2, mixed, 2, &res, &st, &out), 0);
	assert_int_equal(st, SK_UNLOCK_DONE);
	assert_int_equal(res.report.verdict, SK_VERDICT_SANITIZED);
	assert_string_equal(res.quarantine_id, id2);
	sk_engine_result er = {.report = res.report};
	check_docm_unlocked(&er, &out);
	sk_result_free(&res);
	/* stored as the item's deliverable result: the same bytes */
	int rfd = -1;
	uint64_t rsize = 0;
	assert_int_equal(sk_quarantine_result_open(g.q, id2, &rfd, &rsize, &err), 0);
	assert_int_equal(rsize, out.len);
	uint8_t *rb = malloc(out.len);
	assert_int_equal(pread(rfd, rb, out.len, 0), (ssize_t)out.len);
	assert_memory_equal(rb, out.data, out.len);
	free(rb);
	close(rfd);
	assert_int_not_equal(sk_quarantine_result_open(g.q, id, &rfd, &rsize, &err), 0);
	sk_buf_free(&out);
	assert_int_equal(sk_quarantine_get(g.q, id2, &it, &err), 0);
	assert_string_equal(it.verdict, "sanitized");
	assert_string_equal(it.type, "zip");
	assert_null(it.reason);
	assert_non_null(strstr(it.actions, "\"what\":\"encryption\""));
	sk_qitem_free(&it);
	assert_int_equal(sk_quarantine_unlock_tries(g.q, id2, 0, &tries, &err), 0);
	assert_int_equal(tries, 1); /* the wrong one counted, the right one given back */
	/* unlocked once: not again */
	assert_int_equal(unlock(&g, id2, right, 1, &res, &st, &out), SK_EINVAL);
	assert_int_equal(st, SK_UNLOCK_NOT_ENCRYPTED);
	sk_result_free(&res);
	sk_buf_free(&out);
	/* an unknown id */
	assert_int_equal(unlock(&g, "20990101-00000000", right, 1, &res, &st, &out), SK_ENOTFOUND);
	sk_result_free(&res);
	sk_buf_free(&out);

	/* every step on record: wrong tries, refusals, the unlock; never a password */
	assert_int_equal(count_audit(&g, "refused wrong-password"), SK_UNLOCK_TRIES_MAX + 1);
	assert_int_equal(count_audit(&g, "refused too-many-attempts"), 1);
	assert_int_equal(count_audit(&g, "refused not-encrypted"), 1);
	assert_int_equal(count_audit(&g, "sanitized"), 1);
	gate_close(&g);
	assert_false(in_files(g.dir, PW));
	assert_false(in_files(g.dir, "wrong-a"));
	assert_false(in_files(g.dir, PW2));
	sk_buf_free(&z);
	sk_buf_free(&d);
}

/* A bomb inside an encrypted archive, through the worker: the budget, recorded. */
static void gate_bomb(void **state)
{
	(void)state;
	gate g;
	gate_open(&g, "bomb");
	size_t big = 64u << 20;
	char *zeros = calloc(1, big);
	assert_non_null(zeros);
	sk_buf z, out;
	ent e[] = {{"zeros.txt", zeros, big}};
	mkzip(&z, e, 1, ZIP_EM_AES_256, PW);
	free(zeros);
	char id[24];
	admit(&g, &z, id);
	sk_result res;
	sk_unlock_status st;
	const char *right[] = {PW};
	assert_int_equal(unlock(&g, id, right, 1, &res, &st, &out), 0);
	assert_int_equal(st, SK_UNLOCK_DONE);
	assert_int_equal(res.report.verdict, SK_VERDICT_BLOCKED);
	assert_int_equal(res.report.reason, SK_REASON_LIMIT_RATIO);
	assert_int_equal(out.len, 0);
	sk_result_free(&res);
	sk_buf_free(&out);
	sk_qitem it;
	sk_error err;
	assert_int_equal(sk_quarantine_get(g.q, id, &it, &err), 0);
	assert_string_equal(it.reason, "limit-ratio");
	sk_qitem_free(&it);
	gate_close(&g);
	sk_buf_free(&z);
}

/* A PPAP attachment of a mail: the message is delivered with the attachment held; the
 * recipient unlocks the message's item. */
static void gate_mail(void **state)
{
	(void)state;
	gate g;
	gate_open(&g, "mail");
	sk_buf d, z, out;
	docm(&d);
	ent e[] = {{"会議.docm", d.data, d.len}};
	zipcrypto(&z, PW, e, 1);
	sk_buf msg;
	sk_buf_init(&msg, 0);
	sk_buf_adds(&msg, "From: a@example.jp\nTo: b@city.lg.jp\nSubject: meeting\nMIME-Version: 1.0\n"
			  "Content-Type: multipart/mixed; boundary=XX\n\n--XX\n"
			  "Content-Type: text/plain; charset=UTF-8\n\nthe file\n--XX\n"
			  "Content-Type: application/zip; name=\"a.zip\"\n"
			  "Content-Disposition: attachment; filename=\"a.zip\"\n"
			  "Content-Transfer-Encoding: base64\n\n");
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < z.len; i += 3) {
		uint32_t v = (uint32_t)z.data[i] << 16 | (i + 1 < z.len ? (uint32_t)z.data[i + 1] << 8 : 0) |
			     (i + 2 < z.len ? z.data[i + 2] : 0);
		char q[4] = {b64[v >> 18], b64[(v >> 12) & 63], i + 1 < z.len ? b64[(v >> 6) & 63] : '=',
			     i + 2 < z.len ? b64[v & 63] : '='};
		sk_buf_add(&msg, q, 4);
		if ((i / 3) % 19 == 18)
			sk_buf_addc(&msg, '\n');
	}
	sk_buf_adds(&msg, "\n--XX--\n");
	sk_item item = {.name = "message.eml", .src_zone = "internet", .dst_zone = "lgwan"};
	sk_input_mem(&item.input, msg.data, msg.len);
	sk_mail_options mo;
	sk_mail_options_default(&mo);
	sk_buf mout;
	sk_buf_init(&mout, 0);
	sk_result res;
	sk_mail_result mres;
	sk_error err;
	sk_error_clear(&err);
	assert_int_equal(sk_gate_mail(&item, &mo, &g.opt, &mout, &res, &mres, &err), 0);
	assert_int_equal(mres.held_attachments, 1);
	char id[24];
	memcpy(id, res.quarantine_id, 24);
	/* the notice names the item and where to unlock it */
	const char *b = strstr(sk_buf_str(&mout), "Content-Transfer-Encoding: base64\n\n");
	assert_non_null(b);
	b += strlen("Content-Transfer-Encoding: base64\n\n");
	const char *end = strstr(b, "\n--");
	char *enc = g_strndup(b, end ? (size_t)(end - b) : strlen(b));
	gsize dl = 0;
	guchar *dec = g_base64_decode(enc, &dl);
	char *text = g_strndup((const char *)dec, dl);
	assert_non_null(strstr(text, id));
	assert_non_null(strstr(text, "ファイル受け渡し画面の『PPAP 解除』"));
	g_free(text);
	g_free(dec);
	g_free(enc);
	sk_result_free(&res);
	sk_buf_free(&mout);
	sk_unlock_status st;
	const char *bad[] = {PW2};
	assert_int_equal(unlock(&g, id, bad, 1, &res, &st, &out), 0);
	assert_int_equal(st, SK_UNLOCK_WRONG_PASSWORD);
	sk_result_free(&res);
	sk_buf_free(&out);
	const char *right[] = {PW};
	assert_int_equal(unlock(&g, id, right, 1, &res, &st, &out), 0);
	assert_int_equal(st, SK_UNLOCK_DONE);
	sk_engine_result er = {.report = res.report};
	check_docm_unlocked(&er, &out);
	sk_result_free(&res);
	sk_buf_free(&out);
	gate_close(&g);
	assert_false(in_files(g.dir, PW));
	sk_buf_free(&msg);
	sk_buf_free(&z);
	sk_buf_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(engine_zipcrypto),
		cmocka_unit_test(engine_aes),
		cmocka_unit_test(engine_bomb),
		cmocka_unit_test(engine_inputs),
		cmocka_unit_test(wire_unlock),
		cmocka_unit_test(gate_unlock),
		cmocka_unit_test(gate_bomb),
		cmocka_unit_test(gate_mail),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
