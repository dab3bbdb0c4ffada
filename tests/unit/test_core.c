/* Core pieces: buffer, budget, report, names, verdicts. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sekisho/io.h"
#include "sekisho/name.h"
#include "testutil.h"

static void buf_limit(void **state)
{
	(void)state;
	sk_buf b;
	sk_buf_init(&b, 8);
	assert_int_equal(sk_buf_add(&b, "12345678", 8), 0);
	assert_int_equal(sk_buf_addc(&b, 'x'), SK_ELIMIT);
	assert_int_equal(b.len, 8);
	assert_string_equal(sk_buf_str(&b), "12345678");
	sk_buf_reset(&b);
	assert_int_equal(sk_buf_printf(&b, "%d-%s", 42, "ab"), 0);
	assert_string_equal(sk_buf_str(&b), "42-ab");
	assert_int_equal(sk_buf_printf(&b, "%s", "toolong"), SK_ELIMIT);
	size_t n;
	uint8_t *p = sk_buf_take(&b, &n);
	assert_int_equal(n, 5);
	assert_null(b.data);
	free(p);
	sk_buf_free(&b);
}

static void budget_limits(void **state)
{
	(void)state;
	sk_budget b;
	sk_budget_default(&b);
	b.max_expanded = 100;
	assert_int_equal(sk_budget_expand(&b, 60), SK_REASON_NONE);
	assert_int_equal(sk_budget_expand(&b, 41), SK_REASON_LIMIT_SIZE);
	assert_int_equal(sk_budget_expand(&b, 40), SK_REASON_NONE);
	b.max_entries = 2;
	assert_int_equal(sk_budget_entry(&b), SK_REASON_NONE);
	assert_int_equal(sk_budget_entry(&b), SK_REASON_NONE);
	assert_int_equal(sk_budget_entry(&b), SK_REASON_LIMIT_ENTRIES);
	b.max_pixels = 1000;
	assert_int_equal(sk_budget_pixels(&b, 10, 50), SK_REASON_NONE);
	assert_int_equal(sk_budget_pixels(&b, 10, 51), SK_REASON_LIMIT_PIXELS);
	assert_int_equal(sk_budget_pixels(&b, UINT64_MAX, 3), SK_REASON_LIMIT_PIXELS);
	b.max_depth = 2;
	assert_int_equal(sk_budget_depth(&b, 2), SK_REASON_NONE);
	assert_int_equal(sk_budget_depth(&b, 3), SK_REASON_LIMIT_DEPTH);
	b.max_ratio = 100;
	assert_int_equal(sk_budget_ratio(&b, 1000, 1000 * 99), SK_REASON_NONE);
	assert_int_equal(sk_budget_ratio(&b, 1000, 1000 * 100), SK_REASON_LIMIT_RATIO);
	assert_int_equal(sk_budget_ratio(&b, 0, 1 << 20), SK_REASON_LIMIT_RATIO);
	b.max_input = 10;
	assert_int_equal(sk_budget_input(&b, 11), SK_REASON_LIMIT_SIZE);
}

static void report_verdicts(void **state)
{
	(void)state;
	sk_report r;
	sk_report_init(&r);
	assert_int_equal(sk_report_add(&r, SK_ACTION_NOTED, "name-mismatch", "", NULL, 1), 0);
	sk_report_finish(&r);
	assert_int_equal(r.verdict, SK_VERDICT_CLEAN);
	assert_int_equal(sk_report_add(&r, SK_ACTION_REMOVED, "exif", "a.jpg", NULL, 1), 0);
	sk_report_finish(&r);
	assert_int_equal(r.verdict, SK_VERDICT_SANITIZED);
	sk_report_truncate(&r, 1);
	assert_int_equal(r.n, 1);
	sk_report_block(&r, SK_REASON_ENCRYPTED, "x.zip", "a.txt");
	sk_report_block(&r, SK_REASON_MALFORMED, NULL, NULL); /* first reason wins */
	sk_report_finish(&r);
	assert_int_equal(r.verdict, SK_VERDICT_BLOCKED);
	assert_string_equal(sk_reason_code(r.reason), "encrypted");
	assert_string_equal(r.reason_detail, "a.txt");
	sk_report_free(&r);
	/* every reason has a code and both texts */
	for (int i = 1; i < SK_REASON__COUNT; i++) {
		assert_true(strlen(sk_reason_code((sk_reason)i)) > 0);
		assert_true(strlen(sk_reason_text((sk_reason)i, SK_LANG_JA)) > 0);
		assert_true(strlen(sk_reason_text((sk_reason)i, SK_LANG_EN)) > 0);
	}
	assert_string_equal(sk_verdict_text(SK_VERDICT_BLOCKED, SK_LANG_JA), "遮断");
	assert_int_equal(sk_reason_from_code("limit-ratio"), SK_REASON_LIMIT_RATIO);
	assert_int_equal(sk_reason_from_code("no-such"), SK_REASON_NONE);
	assert_int_equal(sk_lang_from_string("C"), SK_LANG_EN);
	assert_int_equal(sk_lang_from_string("ja_JP.UTF-8"), SK_LANG_JA);
	assert_int_equal(sk_lang_from_string("en_US.UTF-8"), SK_LANG_EN);
}

static void clean(const char *in, const char *want, int want_mask)
{
	sk_buf b;
	sk_buf_init(&b, 0);
	int m = sk_name_clean(in, &b);
	assert_true(m >= 0);
	assert_string_equal(sk_buf_str(&b), want);
	if (want_mask >= 0)
		assert_int_equal(m, want_mask);
	sk_buf_free(&b);
}

static void names(void **state)
{
	(void)state;
	clean("dir/a.txt", "dir/a.txt", 0);
	clean("../../etc/passwd", "etc/passwd", SK_NAME_CHANGED_PATH);
	clean("/etc/passwd", "etc/passwd", SK_NAME_CHANGED_PATH);
	clean("a/./b//c", "a/b/c", -1);
	clean("C:\\Windows\\x.dll", "C_/Windows/x.dll", SK_NAME_CHANGED_PATH);
	clean("invoice\xE2\x80\xAEgpj.exe", "invoicegpj.exe", SK_NAME_CHANGED_BIDI);
	clean("a\x01\x1b" "b.txt", "ab.txt", SK_NAME_CHANGED_CONTROL);
	clean("evil.exe. . ", "evil.exe", SK_NAME_CHANGED_PATH);
	clean("\xff\xfe.txt", "__.txt", SK_NAME_CHANGED_INVALID);
	clean("..", "_", SK_NAME_CHANGED_PATH);
	clean("日本語/資料.csv", "日本語/資料.csv", 0);
	assert_true(sk_utf8_valid("日本", 6));
	assert_false(sk_utf8_valid("\xC0\xAF", 2)); /* overlong '/' */
	assert_false(sk_utf8_valid("\xED\xA0\x80", 3)); /* surrogate */
}

static void name_ext(void **state)
{
	(void)state;
	char e[32];
	sk_name_ext("a/b/Report.PDF", e, sizeof(e));
	assert_string_equal(e, "pdf");
	sk_name_ext("photo\xE2\x80\xAEgpj.exe", e, sizeof(e));
	assert_string_equal(e, "exe");
	sk_name_ext("run.exe.", e, sizeof(e));
	assert_string_equal(e, "exe");
	sk_name_ext(".bashrc", e, sizeof(e));
	assert_string_equal(e, "");
	assert_true(sk_name_ext_is_executable("js"));
	assert_true(sk_name_ext_is_executable("lnk"));
	assert_false(sk_name_ext_is_executable("csv"));
}

/* A CP932 file name or a cut locator must not lose the report line. */
static void json_invalid_utf8(void **state)
{
	(void)state;
	sk_result res;
	memset(&res, 0, sizeof(res));
	sk_report_init(&res.report);
	res.type.code = "text";
	assert_int_equal(sk_report_add(&res.report, SK_ACTION_REMOVED, "entry", "a/\x8e\x91\x97\xbf.txt",
				       "unknown-type", 1), 0);
	sk_report_finish(&res.report);
	char *j = sk_result_json(&res, "in/\x8e\x91\x97\xbf.csv", "out/\xe8\xb3");
	assert_non_null(j);
	assert_true(sk_utf8_valid(j, strlen(j)));
	assert_non_null(strstr(j, "\"in/\xef\xbf\xbd"));
	assert_non_null(strstr(j, "\"action\":\"removed\""));
	free(j);
	sk_result_free(&res);
}


static void touch_in(const char *dir, const char *name, char *path, size_t n)
{
	snprintf(path, n, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("partial", f);
	fclose(f);
}

static bool exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

/* Files written under NAME.sekisho-tmp.PID.RANDOM: commit (umask mode, rename), discard,
 * and the cleaner, which removes only what belongs to no live process. */
static void tmpfile_lifecycle(void **state)
{
	(void)state;
	char dir[] = "/tmp/sk-tmpf-XXXXXX";
	assert_non_null(mkdtemp(dir));
	pid_t child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0); /* a pid that is gone */
	char n[128], dead[512], live[512], locked[512], legacy[512], legacy_old[512], plain[512],
		other[512];
	snprintf(n, sizeof(n), "a.txt" SK_TMPFILE_MARK "%ld.Ab12Cd", (long)child);
	touch_in(dir, n, dead, sizeof(dead));
	snprintf(n, sizeof(n), "b.txt" SK_TMPFILE_MARK "%ld.Ab12Cd", (long)getppid());
	touch_in(dir, n, live, sizeof(live));
	snprintf(n, sizeof(n), "c.txt" SK_TMPFILE_MARK "%ld.Zz12Cd", (long)child);
	touch_in(dir, n, locked, sizeof(locked));
	touch_in(dir, "d.txt" SK_TMPFILE_MARK "Ab12Cd", legacy, sizeof(legacy));
	touch_in(dir, "e.txt" SK_TMPFILE_MARK "Qw12Er", legacy_old, sizeof(legacy_old));
	struct timeval old[2] = {{.tv_sec = time(NULL) - 2 * 86400}, {.tv_sec = time(NULL) - 2 * 86400}};
	assert_int_equal(utimes(legacy_old, old), 0);
	touch_in(dir, "f.txt", plain, sizeof(plain));
	touch_in(dir, "g" SK_TMPFILE_MARK "12.not-a-temp-name", other, sizeof(other));
	/* a writer in another pid namespace would show a pid that is dead here: its lock
	 * keeps the file */
	int lfd = open(locked, O_RDONLY);
	assert_true(lfd >= 0);
	assert_int_equal(flock(lfd, LOCK_EX), 0);
	/* this process's own temporary file, being written */
	char final[512];
	snprintf(final, sizeof(final), "%s/h.txt", dir);
	sk_tmpfile t;
	sk_error err;
	assert_int_equal(sk_tmpfile_open(&t, final, &err), 0);
	assert_non_null(strstr(t.tmp, SK_TMPFILE_MARK));
	char want[64];
	snprintf(want, sizeof(want), SK_TMPFILE_MARK "%ld.", (long)getpid());
	assert_non_null(strstr(t.tmp, want));
	struct stat st;
	assert_int_equal(fstat(t.fd, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600); /* private while partial */
	assert_int_equal(write(t.fd, "complete\n", 9), 9);
	char *mine = strdup(t.tmp);

	unsigned removed = 99;
	assert_int_equal(sk_tmpfile_clean(dir, &removed, &err), 0);
	assert_int_equal(removed, 2);
	assert_false(exists(dead));
	assert_false(exists(legacy_old));
	assert_true(exists(live));
	assert_true(exists(locked));
	assert_true(exists(legacy)); /* no pid and touched recently: maybe an old version's */
	assert_true(exists(plain));
	assert_true(exists(other));
	assert_true(exists(mine));
	assert_false(exists(final)); /* nothing under the final name before the commit */
	close(lfd); /* the lock's owner is gone now: the next clean removes it */
	assert_int_equal(sk_tmpfile_clean(dir, &removed, &err), 0);
	assert_int_equal(removed, 1);
	assert_false(exists(locked));

	/* commit: the mode from the umask, the temporary name gone */
	mode_t um = umask(027);
	assert_int_equal(sk_umask_mode(), 0640);
	assert_int_equal(sk_tmpfile_commit(&t, final, -1, true, &err), 0);
	umask(um);
	assert_int_equal(t.fd, -1);
	assert_int_equal(stat(final, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(st.st_size, 9);
	assert_false(exists(mine));
	free(mine);
	/* discard: nothing stays */
	assert_int_equal(sk_tmpfile_open(&t, final, &err), 0);
	mine = strdup(t.tmp);
	sk_tmpfile_discard(&t);
	assert_false(exists(mine));
	assert_int_equal(stat(final, &st), 0);
	assert_int_equal(st.st_size, 9); /* the earlier output is untouched */
	free(mine);
	sk_tmpfile_discard(&t); /* twice is harmless */
	assert_int_equal(sk_fsync_dir(dir, &err), 0);
	/* sk_dir_private: made 0700; a sticky shared folder (/tmp) is refused, untouched */
	char priv[600];
	snprintf(priv, sizeof(priv), "%s/p/q", dir);
	assert_int_equal(sk_dir_private(priv, &err), 0);
	assert_int_equal(stat(priv, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(chmod(priv, 0755), 0);
	assert_int_equal(sk_dir_private(priv, &err), 0);
	assert_int_equal(stat(priv, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(chmod(priv, 01777), 0);
	assert_int_equal(sk_dir_private(priv, &err), SK_EIO);
	assert_non_null(strstr(err.msg, "sticky"));
	assert_int_equal(stat(priv, &st), 0);
	assert_int_equal(st.st_mode & 07777, 01777);
	assert_int_equal(sk_dir_private(final, &err), SK_EIO); /* a file */
	/* sk_file_private: 0644 → 0600, a symbolic link refused, missing as asked */
	assert_int_equal(chmod(final, 0644), 0);
	assert_int_equal(sk_file_private(final, false, &err), 0);
	assert_int_equal(stat(final, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	char lnk[600];
	snprintf(lnk, sizeof(lnk), "%s/link", dir);
	assert_int_equal(symlink(final, lnk), 0);
	assert_int_equal(sk_file_private(lnk, true, &err), SK_EIO);
	snprintf(lnk, sizeof(lnk), "%s/none", dir);
	assert_int_equal(sk_file_private(lnk, true, &err), 0);
	assert_int_equal(sk_file_private(lnk, false, &err), SK_EIO);
	assert_int_equal(sk_fsync_dir("/nonexistent-sk-folder", &err), SK_EIO);
	/* a folder that cannot be written: the error, no file */
	char ro[600];
	snprintf(ro, sizeof(ro), "%s/missing/x.txt", dir);
	assert_int_equal(sk_tmpfile_open(&t, ro, &err), SK_EIO);
	assert_int_equal(t.fd, -1);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buf_limit),
		cmocka_unit_test(budget_limits),
		cmocka_unit_test(report_verdicts),
		cmocka_unit_test(names),
		cmocka_unit_test(name_ext),
		cmocka_unit_test(json_invalid_utf8),
		cmocka_unit_test(tmpfile_lifecycle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
