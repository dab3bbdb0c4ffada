/* sekisho user — console users: add (password + TOTP secret), list, disable, enable,
 * reset-totp, passwd. Users live in the state folder's auth.db (the auth service). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "cli.h"
#include "sekisho/audit.h"
#include "sekisho/auth.h"
#include "sekisho/name.h"
#include "sekisho/policy.h"

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_TROUBLE = 2 };

static void usage(FILE *f, sk_lang lang)
{
	if (lang == SK_LANG_EN)
		fputs("usage: sekisho user [--state DIR] [--policy FILE] [--lang ja|en] [--by USER] COMMAND\n"
		      "  add NAME --role ROLE [--role ROLE…] [--section S] [--mail ADDR] [--password-file F]\n"
		      "        add a console user (password from stdin, one line, unless --password-file);\n"
		      "        prints the TOTP secret (base32) and its otpauth:// URI; needs --policy\n"
		      "  list [--json]             users (with --policy: the roles in force)\n"
		      "  disable NAME | enable NAME  stop or allow logins (disabling ends the sessions)\n"
		      "  reset-totp NAME           a new TOTP secret (the old codes stop working)\n"
		      "  passwd NAME [--password-file F]  a new password (needs --policy)\n"
		      "--by defaults to the operating-system user. Roles and sections must be defined in the policy.\n",
		      f);
	else
		fputs("使い方: sekisho user [--state フォルダ] [--policy ファイル] [--lang ja|en] [--by 実行者] コマンド\n"
		      "  add 名前 --role 役割 [--role 役割…] [--section 所属] [--mail アドレス] [--password-file F]\n"
		      "        画面の利用者を追加 (パスワードは標準入力の 1 行、または --password-file)。\n"
		      "        TOTP の秘密鍵 (base32) と otpauth:// URI を表示します。--policy が必要です\n"
		      "  list [--json]             利用者の一覧 (--policy があれば有効な役割)\n"
		      "  disable 名前 | enable 名前  ログインの停止・再開 (停止するとセッションも終わります)\n"
		      "  reset-totp 名前           TOTP の秘密鍵を作り直す (古い確認コードは使えなくなります)\n"
		      "  passwd 名前 [--password-file F]  パスワードの変更 (--policy が必要です)\n"
		      "--by の既定は OS の利用者名です。役割と所属はポリシーに定義されたものに限ります。\n",
		      f);
}

struct ucli {
	sk_lang lang;
	bool en, json;
	sk_policy *p;
	sk_audit *audit;
	sk_auth *a;
};

/* One line of at most SK_AUTH_PASSWORD_MAX bytes (+1 so that a longer one is seen as
 * too long) from path, or from stdin (echo off on a terminal). */
static int read_password(struct ucli *c, const char *path, char *pw, size_t cap)
{
	FILE *f = stdin;
	if (path && !(f = fopen(path, "re"))) {
		cli_err(c->lang, "パスワードのファイルを開けません", "cannot open the password file", path);
		return EXIT_TROUBLE;
	}
	struct termios old;
	bool tty = !path && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		struct termios t = old;
		t.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
		fputs(c->en ? "password: " : "パスワード: ", stderr);
	}
	char *got = fgets(pw, (int)cap, f);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (path)
		fclose(f);
	if (!got) {
		cli_err(c->lang, "パスワードがありません", "no password given", NULL);
		return EXIT_REFUSED;
	}
	size_t n = strlen(pw);
	if (n && pw[n - 1] == '\n')
		pw[--n] = 0;
	else if (n == cap - 1) {
		sodium_memzero(pw, cap);
		cli_err(c->lang, sk_auth_weak_text(SK_AUTH_WEAK_TOO_LONG, SK_LANG_JA),
			sk_auth_weak_text(SK_AUTH_WEAK_TOO_LONG, SK_LANG_EN), NULL);
		return EXIT_REFUSED;
	}
	if (n && pw[n - 1] == '\r')
		pw[--n] = 0;
	return EXIT_OK;
}

static int need_policy(struct ucli *c)
{
	if (c->p)
		return EXIT_OK;
	cli_err(c->lang, "--policy でポリシーファイルを指定してください (役割・所属・パスワードの規則)",
		"give the policy file with --policy (roles, sections, password rules)", NULL);
	return EXIT_TROUBLE;
}

static void print_secret(const char *name, int64_t id, const char *b32, const char *uri)
{
	printf("user\t%s\n", name);
	if (id)
		printf("id\t%lld\n", (long long)id);
	printf("totp-secret\t%s\n", b32);
	printf("otpauth-uri\t%s\n", uri);
}

static int refuse_weak(struct ucli *c, sk_auth_weak w, const sk_error *err)
{
	if (w)
		cli_err(c->lang, sk_auth_weak_text(w, SK_LANG_JA), sk_auth_weak_text(w, SK_LANG_EN), NULL);
	else
		cli_fail(c->lang, "受け付けられません", "refused", NULL, err);
	return EXIT_REFUSED;
}

static int do_add(struct ucli *c, const char *name, const char **roles, size_t nroles,
		  const char *section, const char *mail, const char *pwfile, const char *by)
{
	int st = need_policy(c);
	if (st)
		return st;
	if (!sk_auth_name_valid(name)) {
		cli_err(c->lang, "利用者名が不正です (英小文字・数字・. _ -、64 文字以内、先頭は英小文字か数字)",
			"invalid login name (lower-case letters, digits, . _ -, at most 64, starting with a letter or digit)",
			name);
		return EXIT_REFUSED;
	}
	if (!nroles) {
		cli_err(c->lang, "--role で役割を指定してください", "give a role with --role", NULL);
		return EXIT_REFUSED;
	}
	for (size_t i = 0; i < nroles; i++)
		if (!sk_policy_has_role(c->p, roles[i])) {
			cli_err(c->lang, "役割がポリシーに定義されていません", "role not defined in the policy",
				roles[i]);
			return EXIT_REFUSED;
		}
	if (section && *section && !sk_policy_has_section(c->p, section)) {
		cli_err(c->lang, "所属がポリシーに定義されていません", "section not defined in the policy",
			section);
		return EXIT_REFUSED;
	}
	if (mail && *mail && !sk_mail_addr_valid(mail)) {
		cli_err(c->lang, "メールアドレスが不正です", "invalid mail address", mail);
		return EXIT_REFUSED;
	}
	sk_error err;
	sk_error_clear(&err);
	sk_auth_user u;
	if (sk_auth_user_get(c->a, name, &u, &err) == 0) {
		cli_err(c->lang, "その利用者は既にあります", "that user exists already", name);
		return EXIT_REFUSED;
	}
	char pw[SK_AUTH_PASSWORD_MAX + 2];
	if ((st = read_password(c, pwfile, pw, sizeof(pw))))
		return st;
	char b32[33];
	char *uri = NULL;
	int64_t id = 0;
	sk_auth_weak w = SK_AUTH_WEAK_NONE;
	int rc = sk_auth_user_add(c->a, c->p, name, roles, nroles, section, pw, by, &id, b32, &uri,
				  &w, &err);
	sodium_memzero(pw, sizeof(pw));
	if (rc == SK_EINVAL)
		return refuse_weak(c, w, &err);
	if (rc == 0 && mail && *mail)
		rc = sk_auth_user_set_mail(c->a, name, mail, by, &err);
	if (rc) {
		free(uri);
		cli_fail(c->lang, "利用者を追加できません", "cannot add the user", NULL, &err);
		return EXIT_TROUBLE;
	}
	print_secret(name, id, b32, uri);
	fprintf(stderr, c->en ? "sekisho: user %s added; register the TOTP secret in the authenticator app\n"
			      : "sekisho: 利用者 %s を追加しました。TOTP の秘密鍵を確認コードのアプリに登録してください\n",
		name);
	sodium_memzero(b32, sizeof(b32));
	free(uri);
	return EXIT_OK;
}

static int list_one(void *ctx, const sk_auth_user *u)
{
	struct ucli *c = ctx;
	sk_auth_rights r;
	char roles[SK_AUTH_ROLES_MAX * (SK_AUTH_ROLE_MAX + 1) + 1] = "";
	const char *section = u->section;
	size_t nr = u->nroles;
	const char(*rv)[SK_AUTH_ROLE_MAX + 1] = u->roles;
	if (c->p && sk_auth_effective(u, c->p, &r) == 0 && !u->disabled) {
		nr = r.nroles;
		rv = (const char(*)[SK_AUTH_ROLE_MAX + 1])r.roles;
		section = r.section;
	}
	const char *state = u->disabled ? (c->en ? "disabled" : "停止")
			    : u->locked_until_us > sk_time_now_us() ? (c->en ? "locked" : "ロック中")
								     : (c->en ? "active" : "有効");
	if (c->json) {
		json_t *o = json_object(), *ja = json_array();
		for (size_t i = 0; i < nr; i++)
			json_array_append_new(ja, json_string(rv[i]));
		json_object_set_new(o, "id", json_integer((json_int_t)u->id));
		json_object_set_new(o, "name", json_string(u->name));
		json_object_set_new(o, "roles", ja);
		json_object_set_new(o, "section", json_string(section));
		json_object_set_new(o, "mail", json_string(u->mail));
		json_object_set_new(o, "disabled", json_boolean(u->disabled));
		json_object_set_new(o, "locked", json_boolean(u->locked_until_us > sk_time_now_us()));
		json_object_set_new(o, "failures", json_integer(u->failures));
		char t[40];
		sk_time_format_us(u->created_us, t, sizeof(t));
		json_object_set_new(o, "created", json_string(t));
		sk_time_format_us(u->password_us, t, sizeof(t));
		json_object_set_new(o, "password_set", json_string(t));
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (s)
			puts(s);
		free(s);
		json_decref(o);
		return 0;
	}
	for (size_t i = 0; i < nr; i++) {
		if (i)
			strcat(roles, ",");
		strcat(roles, rv[i]);
	}
	printf("%s\t%lld\t%s\t%s\t%s\t%s\n", u->name, (long long)u->id, nr ? roles : "-",
	       *section ? section : "-", *u->mail ? u->mail : "-", state);
	return 0;
}

static int do_simple(struct ucli *c, const char *sub, const char *name, const char *pwfile,
		     const char *by)
{
	sk_error err;
	sk_error_clear(&err);
	sk_auth_user u;
	if (sk_auth_user_get(c->a, name, &u, &err) != 0) {
		cli_err(c->lang, "その利用者はいません", "no such user", name);
		return EXIT_REFUSED;
	}
	int rc;
	if (!strcmp(sub, "disable") || !strcmp(sub, "enable")) {
		bool off = !strcmp(sub, "disable");
		rc = sk_auth_user_disable(c->a, name, off, by, &err);
		if (rc == 0)
			fprintf(stderr, c->en ? "sekisho: user %s %s\n" : "sekisho: 利用者 %s を%sしました\n",
				name, c->en ? (off ? "disabled" : "enabled") : (off ? "停止" : "再開"));
	} else if (!strcmp(sub, "reset-totp")) {
		char b32[33];
		char *uri = NULL;
		rc = sk_auth_totp_reset(c->a, name, by, b32, &uri, &err);
		if (rc == 0)
			print_secret(name, 0, b32, uri);
		sodium_memzero(b32, sizeof(b32));
		free(uri);
	} else { /* passwd */
		int st = need_policy(c);
		if (st)
			return st;
		char pw[SK_AUTH_PASSWORD_MAX + 2];
		if ((st = read_password(c, pwfile, pw, sizeof(pw))))
			return st;
		sk_auth_weak w = SK_AUTH_WEAK_NONE;
		rc = sk_auth_password_set(c->a, name, pw, by, &w, &err);
		sodium_memzero(pw, sizeof(pw));
		if (rc == SK_EINVAL)
			return refuse_weak(c, w, &err);
		if (rc == 0)
			fprintf(stderr, c->en ? "sekisho: password of %s changed\n"
					      : "sekisho: %s のパスワードを変更しました\n",
				name);
	}
	if (rc) {
		cli_fail(c->lang, "変更できません", "cannot change the user", NULL, &err);
		return EXIT_TROUBLE;
	}
	return EXIT_OK;
}

int cmd_user(int argc, char **argv)
{
	const char *state = NULL, *lang_opt = NULL, *by = NULL, *policy = NULL, *section = NULL;
	const char *mail = NULL, *pwfile = NULL;
	const char *roles[SK_AUTH_ROLES_MAX];
	size_t nroles = 0;
	bool json = false;
	static const struct option longs[] = {
		{"state", required_argument, NULL, 's'},
		{"lang", required_argument, NULL, 'l'},
		{"json", no_argument, NULL, 'j'},
		{"by", required_argument, NULL, 'b'},
		{"policy", required_argument, NULL, 'p'},
		{"role", required_argument, NULL, 'r'},
		{"section", required_argument, NULL, 'S'},
		{"mail", required_argument, NULL, 'm'},
		{"password-file", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (ch) {
		case 's': state = optarg; break;
		case 'l': lang_opt = optarg; break;
		case 'j': json = true; break;
		case 'b': by = optarg; break;
		case 'p': policy = optarg; break;
		case 'S': section = optarg; break;
		case 'm': mail = optarg; break;
		case 'f': pwfile = optarg; break;
		case 'r':
			if (nroles == SK_AUTH_ROLES_MAX) {
				cli_err(cli_lang(lang_opt), "役割が多すぎます", "too many roles", optarg);
				return EXIT_REFUSED;
			}
			roles[nroles++] = optarg;
			break;
		case 'h': usage(stdout, cli_lang(lang_opt)); return EXIT_OK;
		default: usage(stderr, cli_lang(lang_opt)); return EXIT_TROUBLE;
		}
	}
	struct ucli c = {.lang = cli_lang(lang_opt), .json = json};
	c.en = c.lang == SK_LANG_EN;
	int nargs = argc - optind;
	char **args = argv + optind;
	const char *sub = nargs ? args[0] : "";
	bool named = !strcmp(sub, "add") || !strcmp(sub, "disable") || !strcmp(sub, "enable") ||
		     !strcmp(sub, "reset-totp") || !strcmp(sub, "passwd");
	if (!((named && nargs == 2) || (!strcmp(sub, "list") && nargs == 1))) {
		usage(stderr, c.lang);
		return EXIT_TROUBLE;
	}
	if (!by)
		by = cli_os_user();
	sk_error err;
	sk_error_clear(&err);
	if (policy) {
		sk_policy_diags d;
		sk_policy_diags_init(&d);
		if (sk_policy_load(policy, 0, &c.p, &d, &err) != 0) {
			sk_buf out;
			sk_buf_init(&out, 0);
			if (d.n && sk_policy_diags_format(&d, policy, c.lang, &out) == 0)
				fputs(sk_buf_str(&out), stderr);
			sk_buf_free(&out);
			sk_policy_diags_free(&d);
			cli_fail(c.lang, "ポリシーを読めません", "cannot load the policy", NULL, &err);
			return EXIT_TROUBLE;
		}
		sk_policy_diags_free(&d);
	}
	char *dir = cli_state_dir(state);
	if (!dir) {
		sk_policy_free(c.p);
		cli_err(c.lang, "状態フォルダが決まりません (--state を指定してください)",
			"no state folder (give --state)", NULL);
		return EXIT_TROUBLE;
	}
	sk_auth_settings s;
	sk_auth_settings_from_policy(c.p, &s);
	if (sk_audit_open(dir, NULL, &c.audit, &err) != 0 ||
	    sk_auth_open(dir, c.audit, &s, NULL, &c.a, &err) != 0) {
		cli_fail(c.lang, "状態フォルダを開けません", "cannot open the state folder", dir, &err);
		sk_audit_close(c.audit);
		sk_policy_free(c.p);
		free(dir);
		return EXIT_TROUBLE;
	}
	free(dir);
	int status;
	if (!strcmp(sub, "add")) {
		status = do_add(&c, args[1], roles, nroles, section, mail, pwfile, by);
	} else if (!strcmp(sub, "list")) {
		if (!json)
			printf(c.en ? "# name\tid\troles\tsection\tmail\tstate\n"
				    : "# 名前\tID\t役割\t所属\tメール\t状態\n");
		status = sk_auth_user_list(c.a, list_one, &c, &err) == 0 ? EXIT_OK : EXIT_TROUBLE;
		if (status)
			cli_fail(c.lang, "一覧を読めません", "cannot list", NULL, &err);
	} else {
		status = do_simple(&c, sub, args[1], pwfile, by);
	}
	sk_auth_close(c.a);
	int seal = cli_audit_seal(c.lang, c.audit);
	sk_audit_close(c.audit);
	sk_policy_free(c.p);
	return status ? status : seal;
}
