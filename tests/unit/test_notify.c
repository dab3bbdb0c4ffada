/* Notices by mail: the message through a fake sendmail (a script that keeps its
 * arguments and standard input), parsed back by python3's email module (an independent
 * parser); header injection refused; a failing MTA is an error; the limits. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sekisho/name.h"
#include "sekisho/notify.h"
#include "testutil.h"

struct env {
	char dir[64], sendmail[128], fail[128], msg[128], args[128];
};

static struct env *env_new(void)
{
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	snprintf(e->dir, sizeof(e->dir), "/tmp/sk-notify-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->sendmail, sizeof(e->sendmail), "%s/sendmail", e->dir);
	snprintf(e->fail, sizeof(e->fail), "%s/sendmail-fail", e->dir);
	snprintf(e->msg, sizeof(e->msg), "%s/msg", e->dir);
	snprintf(e->args, sizeof(e->args), "%s/args", e->dir);
	FILE *f = fopen(e->sendmail, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\nprintf '%%s\\n' \"$@\" > '%s'\ncat > '%s'\n", e->args, e->msg);
	fclose(f);
	f = fopen(e->fail, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\ncat > /dev/null\necho 'queue full' >&2\nexit 75\n");
	fclose(f);
	assert_int_equal(chmod(e->sendmail, 0700), 0);
	assert_int_equal(chmod(e->fail, 0700), 0);
	return e;
}

static void env_free(struct env *e)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	assert_int_equal(system(cmd), 0);
	free(e);
}

static void slurp(const char *path, sk_buf *b)
{
	sk_buf_free(b);
	tu_read(path, b);
}

/* python3's email module: subject, body, To, Date, Message-ID, each on its own file */
static void parse_back(struct env *e)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c '"
		 "import email, email.policy, sys\n"
		 "d = sys.argv[1]\n"
		 "m = email.message_from_binary_file(open(d + \"/msg\", \"rb\"), policy=email.policy.default)\n"
		 "open(d + \"/subject\", \"w\", encoding=\"utf-8\").write(str(m[\"subject\"]))\n"
		 "open(d + \"/body\", \"w\", encoding=\"utf-8\", newline=\"\").write(m.get_content())\n"
		 "open(d + \"/to\", \"w\").write(\",\".join(a.addr_spec for a in m[\"to\"].addresses))\n"
		 "open(d + \"/date\", \"w\").write(str(m[\"date\"].datetime.utcoffset().total_seconds()))\n"
		 "open(d + \"/mid\", \"w\").write(str(m[\"message-id\"]))\n"
		 "open(d + \"/ct\", \"w\").write(m.get_content_type() + \" \" + m.get_content_charset())\n"
		 "' '%s'",
		 e->dir);
	assert_int_equal(system(cmd), 0);
}

static void round_trip(void **state)
{
	(void)state;
	struct env *e = env_new();
	sk_error err;
	const char *to[] = {"joho-kacho@city.example.lg.jp", "ciso01@city.example.lg.jp"};
	const char *subject = "【sekisho】取り出しの承認依頼: 通知文.doc (ID 1a2b3c4d) — 情報政策課 田中さんからの申請です";
	sk_buf body;
	sk_buf_init(&body, 0);
	sk_buf_adds(&body, "情報政策課長 様\n\n次のファイルの取り出しが申請されました。\n"
			   "ファイル名: 通知文.doc\n理由: 取引先への確認\n\n"
			   "承認は https://sekisho.example.lg.jp/#/requests/17 から。\n"
			   "From: a line that looks like a header\n.\n");
	for (int i = 0; i < 40; i++)
		sk_buf_adds(&body, "長い行の続き。");
	sk_buf_adds(&body, "\n");
	assert_int_equal(sk_notify_send(e->sendmail, "sekisho@city.example.lg.jp", to, 2, subject,
					sk_buf_str(&body), &err), 0);
	parse_back(e);
	sk_buf b;
	sk_buf_init(&b, 0);
	slurp(e->args, &b);
	assert_string_equal(sk_buf_str(&b),
			    "-oi\n--\njoho-kacho@city.example.lg.jp\nciso01@city.example.lg.jp\n");
	char p[160];
	snprintf(p, sizeof(p), "%s/subject", e->dir);
	slurp(p, &b);
	assert_string_equal(sk_buf_str(&b), subject);
	snprintf(p, sizeof(p), "%s/body", e->dir);
	slurp(p, &b);
	assert_string_equal(sk_buf_str(&b), sk_buf_str(&body));
	snprintf(p, sizeof(p), "%s/to", e->dir);
	slurp(p, &b);
	assert_string_equal(sk_buf_str(&b), "joho-kacho@city.example.lg.jp,ciso01@city.example.lg.jp");
	snprintf(p, sizeof(p), "%s/date", e->dir);
	slurp(p, &b);
	assert_string_equal(sk_buf_str(&b), "32400.0"); /* +0900 */
	snprintf(p, sizeof(p), "%s/mid", e->dir);
	slurp(p, &b);
	assert_true(b.len > 20 && b.data[0] == '<' && strstr(sk_buf_str(&b), "@city.example.lg.jp>"));
	snprintf(p, sizeof(p), "%s/ct", e->dir);
	slurp(p, &b);
	assert_string_equal(sk_buf_str(&b), "text/plain utf-8");
	/* the raw message: 7-bit, no line over 78 characters, no Bcc */
	slurp(e->msg, &b);
	size_t col = 0;
	for (size_t i = 0; i < b.len; i++) {
		assert_true(b.data[i] < 0x80);
		col = b.data[i] == '\n' ? 0 : col + 1;
		assert_true(col <= 78);
	}
	assert_null(strstr(sk_buf_str(&b), "Bcc"));
	assert_non_null(strstr(sk_buf_str(&b), "\nAuto-Submitted: auto-generated\n"));
	sk_buf_free(&b);
	sk_buf_free(&body);
	env_free(e);
}

static void injection_refused(void **state)
{
	(void)state;
	struct env *e = env_new();
	sk_error err;
	const char *to[] = {"a@example.jp"};
	const char *bad_to[] = {"a@example.jp\nBcc: eve@evil.example"};
	const char *bad_to2[] = {"-oQ/tmp/x@example.jp"};
	const char *named[] = {"Eve <eve@evil.example>"};
	const char *from = "sekisho@example.jp";
	assert_int_equal(sk_notify_send(e->sendmail, from, to, 1, "件名\r\nBcc: eve@evil.example", "本文", &err),
			 SK_EINVAL);
	assert_int_equal(sk_notify_send(e->sendmail, from, to, 1, "件名\n", "本文", &err), SK_EINVAL);
	assert_int_equal(sk_notify_send(e->sendmail, from, bad_to, 1, "件名", "本文", &err), SK_EINVAL);
	assert_int_equal(sk_notify_send(e->sendmail, from, bad_to2, 1, "件名", "本文", &err), SK_EINVAL);
	assert_int_equal(sk_notify_send(e->sendmail, from, named, 1, "件名", "本文", &err), SK_EINVAL);
	assert_int_equal(sk_notify_send(e->sendmail, "x\r\nBcc: y@z.jp", to, 1, "件名", "本文", &err),
			 SK_EINVAL);
	assert_int_equal(sk_notify_send(e->sendmail, from, to, 0, "件名", "本文", &err), SK_EINVAL);
	assert_int_equal(sk_notify_send(e->sendmail, from, to, 1, "\xff\xfe", "本文", &err), SK_EINVAL);
	assert_int_equal(sk_notify_send(e->sendmail, from, to, 1, "件名", "\xe3\x81", &err), SK_EINVAL);
	assert_int_equal(sk_notify_send("sendmail", from, to, 1, "件名", "本文", &err), SK_EINVAL);
	/* nothing was run */
	assert_int_not_equal(access(e->msg, F_OK), 0);
	/* a body with header-looking lines stays in the body (base64) */
	assert_int_equal(sk_notify_send(e->sendmail, from, to, 1, "件名", "\nBcc: eve@evil.example\n", &err), 0);
	sk_buf b;
	sk_buf_init(&b, 0);
	slurp(e->msg, &b);
	assert_null(strstr(sk_buf_str(&b), "Bcc"));
	sk_buf_free(&b);
	env_free(e);
}

static void mta_failure_and_limits(void **state)
{
	(void)state;
	struct env *e = env_new();
	sk_error err;
	const char *to[] = {"a@example.jp"};
	const char *from = "sekisho@example.jp";
	assert_int_equal(sk_notify_send(e->fail, from, to, 1, "件名", "本文", &err), SK_EIO);
	assert_non_null(strstr(err.msg, "status 75"));
	char missing[160];
	snprintf(missing, sizeof(missing), "%s/no-such-sendmail", e->dir);
	assert_int_equal(sk_notify_send(missing, from, to, 1, "件名", "本文", &err), SK_EIO);
	/* recipients: SK_NOTIFY_TO_MAX pass, one more is refused */
	const char *many[SK_NOTIFY_TO_MAX + 1];
	for (int i = 0; i <= SK_NOTIFY_TO_MAX; i++)
		many[i] = "a@example.jp";
	sk_buf out;
	sk_buf_init(&out, 0);
	assert_int_equal(sk_notify_format(from, many, SK_NOTIFY_TO_MAX, "s", "b", 0, &out, &err), 0);
	assert_int_equal(sk_notify_format(from, many, SK_NOTIFY_TO_MAX + 1, "s", "b", 0, &out, &err),
			 SK_ELIMIT);
	/* subject and body at and over their limits */
	char *subj = malloc(SK_NOTIFY_SUBJECT_MAX + 2);
	memset(subj, 'x', SK_NOTIFY_SUBJECT_MAX + 1);
	subj[SK_NOTIFY_SUBJECT_MAX] = 0;
	assert_int_equal(sk_notify_format(from, to, 1, subj, "b", 0, &out, &err), 0);
	subj[SK_NOTIFY_SUBJECT_MAX] = 'x';
	subj[SK_NOTIFY_SUBJECT_MAX + 1] = 0;
	assert_int_equal(sk_notify_format(from, to, 1, subj, "b", 0, &out, &err), SK_ELIMIT);
	free(subj);
	char *body = malloc(SK_NOTIFY_BODY_MAX + 2);
	memset(body, 'y', SK_NOTIFY_BODY_MAX + 1);
	body[SK_NOTIFY_BODY_MAX] = 0;
	assert_int_equal(sk_notify_send(e->sendmail, from, to, 1, "大きい本文", body, &err), 0);
	parse_back(e);
	char p[160];
	snprintf(p, sizeof(p), "%s/body", e->dir);
	sk_buf b;
	sk_buf_init(&b, 0);
	slurp(p, &b);
	assert_int_equal(b.len, SK_NOTIFY_BODY_MAX);
	sk_buf_free(&b);
	body[SK_NOTIFY_BODY_MAX] = 'y';
	body[SK_NOTIFY_BODY_MAX + 1] = 0;
	assert_int_equal(sk_notify_format(from, to, 1, "s", body, 0, &out, &err), SK_ELIMIT);
	free(body);
	/* the Date of a known time: 2026-12-06 23:28:00 UTC is Monday 08:28 in JST */
	assert_int_equal(sk_notify_format(from, to, 1, "s", "b", (int64_t)1796599680 * 1000000, &out,
					  &err), 0);
	assert_non_null(strstr(sk_buf_str(&out), "\nDate: Mon, 07 Dec 2026 08:28:00 +0900\n"));
	sk_buf_free(&out);
	env_free(e);
}

/* An MTA that hangs is killed at the time limit: one that takes the message and never
 * exits, and one that never reads it (a body larger than a pipe's buffer). */
/* A whole message handed on with its envelope: -f SENDER -- RCPT…, the bytes as they are;
 * the null sender as <>; addresses checked; the MTA's failure is an error. */
static void deliver_envelope(void **state)
{
	(void)state;
	struct env *e = env_new();
	sk_error err;
	char path[160];
	snprintf(path, sizeof(path), "%s/result.eml", e->dir);
	/* over one pipe's worth, with a line that is a lone dot */
	sk_buf m;
	sk_buf_init(&m, 0);
	sk_buf_adds(&m, "From: kikaku@city.example.lg.jp\r\nTo: partner@example.com\r\n"
			"Subject: =?UTF-8?B?6LOH5paZ?=\r\n\r\n.\r\n");
	for (int i = 0; i < 5000; i++)
		sk_buf_printf(&m, "line %d of the released message\r\n", i);
	assert_int_equal(sk_write_file_atomic(path, m.data, m.len, 0600, &err), 0);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	const char *to[] = {"partner@example.com", "other@example.org"};
	assert_int_equal(sk_notify_deliver(e->sendmail, "kikaku@city.example.lg.jp", to, 2, fd, 30,
					   &err), 0);
	sk_buf b;
	sk_buf_init(&b, 0);
	slurp(e->args, &b);
	assert_string_equal(sk_buf_str(&b), "-oi\n-f\nkikaku@city.example.lg.jp\n--\n"
					    "partner@example.com\nother@example.org\n");
	slurp(e->msg, &b);
	assert_int_equal(b.len, m.len);
	assert_memory_equal(b.data, m.data, m.len);
	/* the null sender */
	assert_int_equal(sk_notify_deliver(e->sendmail, "", to, 1, fd, 30, &err), 0);
	slurp(e->args, &b);
	assert_string_equal(sk_buf_str(&b), "-oi\n-f\n<>\n--\npartner@example.com\n");
	/* refused before anything runs: an option as sender or recipient, no recipient */
	const char *bad[] = {"-oQ/tmp"};
	assert_int_equal(sk_notify_deliver(e->sendmail, "-bad@example.com", to, 1, fd, 30, &err),
			 SK_EINVAL);
	assert_int_equal(sk_notify_deliver(e->sendmail, "a@example.com", bad, 1, fd, 30, &err),
			 SK_EINVAL);
	assert_int_equal(sk_notify_deliver(e->sendmail, "a@example.com", to, 0, fd, 30, &err),
			 SK_EINVAL);
	assert_int_equal(sk_notify_deliver(e->sendmail, NULL, to, 1, fd, 30, &err), SK_EINVAL);
	/* the MTA refuses: an error naming its status */
	assert_int_equal(sk_notify_deliver(e->fail, "a@example.com", to, 1, fd, 30, &err), SK_EIO);
	assert_non_null(strstr(err.msg, "status 75"));
	close(fd);
	sk_buf_free(&b);
	sk_buf_free(&m);
	env_free(e);
}

/* The helpers for addresses: a mail domain, and whether an address is internal. */
static void mail_domains(void **state)
{
	(void)state;
	assert_true(sk_mail_domain_valid("city.example.lg.jp"));
	assert_true(sk_mail_domain_valid("a-b.example"));
	assert_false(sk_mail_domain_valid("localhost"));
	assert_false(sk_mail_domain_valid("-a.example"));
	assert_false(sk_mail_domain_valid("a-.example"));
	assert_false(sk_mail_domain_valid("a..example"));
	assert_false(sk_mail_domain_valid("a.example."));
	assert_false(sk_mail_domain_valid("a b.example"));
	assert_false(sk_mail_domain_valid(""));
	assert_false(sk_mail_domain_valid(NULL));
	const char *const dom[] = {"city.example.lg.jp", "lg.example", NULL};
	assert_true(sk_mail_domain_internal("kikaku@city.example.lg.jp", dom));
	assert_true(sk_mail_domain_internal("kikaku@MAIL.City.Example.LG.JP", dom));
	assert_true(sk_mail_domain_internal("u@lg.example.", dom));
	assert_true(sk_mail_domain_internal("lg.example", dom));
	assert_false(sk_mail_domain_internal("x@evilcity.example.lg.jp", dom));
	assert_false(sk_mail_domain_internal("x@city.example.lg.jp.evil.example", dom));
	assert_false(sk_mail_domain_internal("partner@example.com", dom));
	assert_false(sk_mail_domain_internal("x@", dom));
	assert_false(sk_mail_domain_internal("x@lg.example", NULL));
	const char *const none[] = {NULL};
	assert_false(sk_mail_domain_internal("x@lg.example", none));
}

static void hung_mta_killed(void **state)
{
	(void)state;
	struct env *e = env_new();
	char hang[160], deaf[160];
	snprintf(hang, sizeof(hang), "%s/sendmail-hang", e->dir);
	snprintf(deaf, sizeof(deaf), "%s/sendmail-deaf", e->dir);
	FILE *f = fopen(hang, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\ncat > /dev/null\nexec sleep 60\n");
	fclose(f);
	f = fopen(deaf, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\nexec sleep 60\n");
	fclose(f);
	assert_int_equal(chmod(hang, 0700), 0);
	assert_int_equal(chmod(deaf, 0700), 0);
	sk_error err;
	const char *to[] = {"a@example.jp"};
	assert_int_equal(sk_notify_send_within(hang, "s@example.jp", to, 1, "件名", "本文", 1, &err),
			 SK_EIO);
	assert_non_null(strstr(err.msg, "did not finish within 1 s"));
	char *body = malloc(1 << 18);
	assert_non_null(body);
	memset(body, 'z', (1 << 18) - 1);
	body[(1 << 18) - 1] = 0;
	assert_int_equal(sk_notify_send_within(deaf, "s@example.jp", to, 1, "件名", body, 1, &err),
			 SK_EIO);
	free(body);
	assert_non_null(strstr(err.msg, "did not finish within 1 s"));
	assert_int_equal(sk_notify_send_within(e->sendmail, "s@example.jp", to, 1, "s", "b", 0, &err),
			 SK_EINVAL);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(injection_refused),
		cmocka_unit_test(mta_failure_and_limits),
		cmocka_unit_test(hung_mta_killed),
		cmocka_unit_test(deliver_envelope),
		cmocka_unit_test(mail_domains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
