/* sekisho quarantine unlock — a held password ZIP (PPAP) opened with its password in a
 * sandboxed worker, every entry sanitised, the result written to -o FILE (core.h:
 * sk_gate_unlock). The passwords are read from --password-file or stdin, one per line,
 * and zeroed once used; they are never printed. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "sekisho/audit.h"
#include "sekisho/core.h"
#include "sekisho/policy.h"
#include "sekisho/pool.h"
#include "sekisho/quarantine.h"

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_TROUBLE = 2 };

/* One line more than allowed is read, to tell "too many" from "just enough". */
#define PW_BUF ((SK_UNLOCK_PASSWORD_MAX + 2) * (SK_UNLOCK_PASSWORDS_MAX + 1))

static void usage(sk_lang lang)
{
	if (lang == SK_LANG_EN)
		fputs("usage: sekisho quarantine unlock ID [--by USER] -o FILE [--password-file F]\n"
		      "                  [--policy FILE] [--state DIR] [--clamd SPEC] [--lang ja|en] [--json]\n"
		      "  Opens a held password-protected ZIP (PPAP) with its password in a sandboxed\n"
		      "  worker, sanitises every entry and writes the new ZIP (without a password) to\n"
		      "  FILE. Passwords: one per line (at most 5), from F or standard input.\n"
		      "  After 10 wrong tries the item can no longer be unlocked.\n"
		      "  USER: a console user (sekisho user add), by default the operating-system user;\n"
		      "  unknown or disabled: refused. With --policy the user's roles must give upload,\n"
		      "  and the item's flow (its zones) decides the profile.\n",
		      stderr);
	else
		fputs("使い方: sekisho quarantine unlock ID [--by 利用者] -o ファイル [--password-file F]\n"
		      "                  [--policy ファイル] [--state フォルダ] [--clamd SPEC] [--lang ja|en] [--json]\n"
		      "  保留中のパスワード付き ZIP (PPAP) をサンドボックス内のワーカーでパスワードを使って\n"
		      "  開き、中のファイルをすべて無害化して、パスワードなしの ZIP をファイルに書き出します。\n"
		      "  パスワードは 1 行に 1 つ (5 つまで)、F または標準入力から読みます。\n"
		      "  10 回誤ると、その項目は解除できなくなります。\n"
		      "  利用者は画面の利用者 (sekisho user add) で、既定は OS の利用者名です。登録のない\n"
		      "  利用者・停止中の利用者は拒否します。--policy があれば、役割に upload の権限が必要で、\n"
		      "  項目の経路 (ゾーン) の規則のプロファイルで処理します。\n",
		      stderr);
}

/* Reads the passwords (one per line, empty lines skipped, CR LF accepted) from fd into
 * buf, pointing pw[] into it. Returns the count, -1 on a read error, -2 when there are
 * more than SK_UNLOCK_PASSWORDS_MAX or one is too long. */
static int read_passwords(int fd, char *buf, size_t cap, const char *pw[SK_UNLOCK_PASSWORDS_MAX])
{
	size_t len = 0;
	for (;;) {
		if (len == cap - 1)
			return -2;
		ssize_t r = read(fd, buf + len, cap - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		len += (size_t)r;
	}
	buf[len] = 0;
	int n = 0;
	for (char *s = buf; *s;) {
		char *e = strchr(s, '\n');
		char *next = e ? e + 1 : s + strlen(s);
		if (e)
			*e = 0;
		size_t l = strlen(s);
		if (l && s[l - 1] == '\r')
			s[--l] = 0;
		if (l) {
			if (n == SK_UNLOCK_PASSWORDS_MAX || l > SK_UNLOCK_PASSWORD_MAX)
				return -2;
			pw[n++] = s;
		}
		s = next;
	}
	return n;
}

static void print_json(const char *id, const char *status, const sk_result *res,
		       const char *out, unsigned tries)
{
	const sk_report *r = &res->report;
	bool blocked = r->verdict == SK_VERDICT_BLOCKED;
	bool done = !strcmp(status, "unlocked");
	json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:I}", "id", id, "status", status,
			      "verdict", done ? json_string(sk_verdict_code(r->verdict)) : json_null(),
			      "reason", done && blocked ? json_string(sk_reason_code(r->reason)) : json_null(),
			      "output", done && !blocked && out ? json_string(out) : json_null(),
			      "wrong_tries", (json_int_t)tries);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	if (s)
		puts(s);
	free(s);
	json_decref(o);
}

int cmd_quarantine_unlock(int argc, char **argv)
{
	const char *state = NULL, *lang_opt = NULL, *by = NULL, *outfile = NULL, *pwfile = NULL;
	const char *clamd = NULL, *policy = NULL;
	bool json = false;
	static const struct option longs[] = {
		{"state", required_argument, NULL, 's'},
		{"lang", required_argument, NULL, 'l'},
		{"json", no_argument, NULL, 'j'},
		{"by", required_argument, NULL, 'b'},
		{"output", required_argument, NULL, 'o'},
		{"password-file", required_argument, NULL, 'p'},
		{"clamd", required_argument, NULL, 'c'},
		{"policy", required_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:h", longs, NULL)) != -1) {
		switch (ch) {
		case 's': state = optarg; break;
		case 'l': lang_opt = optarg; break;
		case 'j': json = true; break;
		case 'b': by = optarg; break;
		case 'o': outfile = optarg; break;
		case 'p': pwfile = optarg; break;
		case 'c': clamd = optarg; break;
		case 'P': policy = optarg; break;
		case 'h': usage(cli_lang(lang_opt)); return EXIT_OK;
		default: usage(cli_lang(lang_opt)); return EXIT_TROUBLE;
		}
	}
	sk_lang lang = cli_lang(lang_opt);
	bool en = lang == SK_LANG_EN;
	/* quarantine unlock ID */
	if (argc - optind != 2 || strcmp(argv[optind], "unlock") != 0 || !outfile) {
		usage(lang);
		return EXIT_TROUBLE;
	}
	const char *id = argv[optind + 1];
	sk_policy *pol = NULL;
	if (policy && cli_policy_load(lang, policy, &pol) != 0)
		return EXIT_TROUBLE;

	/* the passwords, before anything else is opened */
	static char pwbuf[PW_BUF];
	const char *pw[SK_UNLOCK_PASSWORDS_MAX];
	int fd = pwfile ? open(pwfile, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	if (fd < 0) {
		cli_err(lang, "パスワードのファイルを開けません", "cannot open the password file", pwfile);
		sk_policy_free(pol);
		return EXIT_TROUBLE;
	}
	if (!pwfile && isatty(fd))
		fputs(en ? "Passwords, one per line (at most 5), then Ctrl-D:\n"
			 : "パスワードを 1 行に 1 つ (5 つまで) 入力し、最後に Ctrl-D を押してください:\n",
		      stderr);
	int n = read_passwords(fd, pwbuf, sizeof(pwbuf), pw);
	if (pwfile)
		close(fd);
	int status = EXIT_OK;
	if (n <= 0) {
		explicit_bzero(pwbuf, sizeof(pwbuf));
		if (n == -2)
			cli_err(lang, "パスワードは 5 つまで (1 つ 1024 バイトまで) です",
				"at most 5 passwords (of at most 1024 bytes each)", NULL);
		else
			cli_err(lang, "パスワードがありません", "no password given", NULL);
		sk_policy_free(pol);
		return EXIT_TROUBLE;
	}

	char *dir = cli_state_dir(state);
	sk_audit *audit = NULL;
	sk_quarantine *q = NULL;
	sk_pool *pool = NULL;
	sk_error err;
	sk_error_clear(&err);
	if (!dir) {
		cli_err(lang, "状態フォルダが決まりません (--state を指定してください)",
			"no state folder (give --state)", NULL);
		explicit_bzero(pwbuf, sizeof(pwbuf));
		sk_policy_free(pol);
		return EXIT_TROUBLE;
	}
	if (cli_state_open(lang, dir, &audit, &q) != 0) {
		free(dir);
		explicit_bzero(pwbuf, sizeof(pwbuf));
		sk_policy_free(pol);
		return EXIT_TROUBLE;
	}
	/* who: a user of the auth service; with a policy, its roles must give upload */
	cli_who who;
	int wst = cli_who_get(lang, dir, audit, pol, by, &who);
	free(dir);
	sk_qitem it;
	bool zones = false;
	if (wst == 0 && sk_quarantine_get(q, id, &it, &err) == 0) {
		zones = it.src_zone && it.dst_zone;
		char obj[160], detail[400];
		snprintf(obj, sizeof(obj), "item:%s sha256:%s", it.id, it.sha256);
		sk_qitem_free(&it);
		cli_who_detail(&who, detail, sizeof(detail));
		if (who.policy && !(who.rights.perms & SK_PERM_UPLOAD)) {
			if (sk_audit_append(audit, who.user.name, "unlock", obj, "refused no-right", detail,
					    NULL, &err) != 0) {
				cli_fail(lang, "監査ログに記録できませんでした", "cannot write the audit log",
					NULL, &err);
				wst = EXIT_TROUBLE;
			} else {
				cli_err(lang, "この利用者には PPAP を解除する権限がありません (ポリシーの役割)",
					"this user may not unlock password ZIPs (the policy's roles)",
					who.user.name);
				wst = EXIT_REFUSED;
			}
		}
	}
	if (wst) {
		explicit_bzero(pwbuf, sizeof(pwbuf));
		sk_policy_free(pol);
		cli_state_close(lang, audit, q);
		return wst;
	}
	sk_pool_config pc;
	sk_pool_config_default(&pc);
	pc.workers = 1;
	pc.colocate = true;
	if (getenv("SEKISHO_WORKER") && *getenv("SEKISHO_WORKER"))
		pc.worker = getenv("SEKISHO_WORKER");
	if (sk_pool_open(&pc, &pool, &err) != 0) {
		cli_fail(lang, "ワーカーを起動できません", "cannot start the worker", NULL, &err);
		explicit_bzero(pwbuf, sizeof(pwbuf));
		cli_state_close(lang, audit, q);
		sk_policy_free(pol);
		return EXIT_TROUBLE;
	}
	sk_options opt;
	sk_options_default(&opt);
	opt.quarantine = q;
	opt.audit = audit;
	opt.pool = pool;
	opt.clamd = clamd;
	/* the flow of the item's zones decides its profile (an item without zones: none) */
	opt.policy = zones ? pol : NULL;
	sk_buf ob;
	sk_buf_init(&ob, SK_BUF_MAX_DEFAULT);
	sk_output out;
	sk_output_buf(&out, &ob);
	sk_result res;
	sk_unlock_status st;
	int rc = sk_gate_unlock(&opt, id, pw, (size_t)n, who.user.name, &out, &res, &st, &err);
	explicit_bzero(pwbuf, sizeof(pwbuf));
	sk_pool_close(pool);
	unsigned tries = 0;
	sk_error terr;
	if (rc != SK_ENOTFOUND && rc != SK_EIO)
		sk_quarantine_unlock_tries(q, id, 0, &tries, &terr);
	const sk_report *r = &res.report;
	const char *jstatus = "error";
	if (rc == SK_ENOTFOUND) {
		cli_err(lang, "見つかりません", "not found", id);
		status = EXIT_REFUSED;
		jstatus = "not-found";
	} else if (rc == 0 && st == SK_UNLOCK_DONE && r->verdict != SK_VERDICT_BLOCKED &&
		   !res.unrecorded[0]) {
		if (sk_write_file_atomic(outfile, ob.len ? ob.data : (const uint8_t *)"", ob.len,
					 sk_umask_mode(), &err) != 0) {
			cli_fail(lang, "出力ファイルを書き込めません", "cannot write the output", outfile, &err);
			status = EXIT_TROUBLE;
		} else {
			jstatus = "unlocked";
			if (!json)
				printf(en ? "unlocked: %s -> %s (%s)\n" : "解除しました: %s → %s (%s)\n", id,
				       outfile, sk_verdict_text(r->verdict, lang));
		}
	} else if (rc == 0 && st == SK_UNLOCK_DONE) {
		/* opened, but what is inside is blocked (a limit, malware …): on record */
		jstatus = "unlocked";
		status = res.unrecorded[0] ? EXIT_TROUBLE : EXIT_REFUSED;
		if (!json)
			printf(en ? "unlocked, but blocked: %s (%s: %s)\n"
				  : "解除しましたが、中身を遮断しました: %s (%s: %s)\n",
			       id, sk_reason_code(r->reason), sk_reason_text(r->reason, lang));
		if (res.unrecorded[0])
			cli_err(lang, "判定を記録できませんでした", "the decision could not be recorded",
				res.unrecorded);
	} else if (st == SK_UNLOCK_WRONG_PASSWORD || st == SK_UNLOCK_TOO_MANY ||
		   st == SK_UNLOCK_NOT_ENCRYPTED) {
		jstatus = st == SK_UNLOCK_WRONG_PASSWORD ? "wrong-password"
			  : st == SK_UNLOCK_TOO_MANY    ? "too-many-attempts"
							: "not-encrypted";
		status = rc == 0 || rc == SK_EINVAL || rc == SK_ELOCKED ? EXIT_REFUSED : EXIT_TROUBLE;
		char t[64] = "";
		if (st == SK_UNLOCK_WRONG_PASSWORD)
			snprintf(t, sizeof(t), en ? "%u of %u wrong tries" : "誤り %u/%u 回", tries,
				 SK_UNLOCK_TRIES_MAX);
		cli_err(lang, sk_unlock_status_text(st, false), sk_unlock_status_text(st, true),
			t[0] ? t : id);
		if (status == EXIT_TROUBLE)
			cli_fail(lang, "記録できませんでした", "could not be recorded", NULL, &err);
	} else {
		cli_fail(lang, "解除できませんでした", "could not unlock", NULL, &err);
		status = EXIT_TROUBLE;
	}
	if (json)
		print_json(id, jstatus, &res, outfile, tries);
	sk_result_free(&res);
	sk_buf_free(&ob);
	int cst = cli_state_close(lang, audit, q);
	sk_policy_free(pol);
	return status ? status : cst;
}
