/* sekisho quarantine — originals kept aside, and their two-person release. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "sekisho/audit.h"
#include "sekisho/quarantine.h"

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_TROUBLE = 2 };

struct qcli {
	sk_lang lang;
	bool en, json;
	sk_quarantine *q;
	sk_audit *a;
};

static void usage(sk_lang lang)
{
	if (lang == SK_LANG_EN)
		fputs("usage: sekisho quarantine [--state DIR] [--lang ja|en] [--json] COMMAND\n"
		      "  list                                 items, newest first\n"
		      "  show ID                              one item\n"
		      "  request ID --by USER --reason TEXT   ask for the original\n"
		      "  approve ID --by USER                 approve (another approver)\n"
		      "  release ID -o FILE [--by USER]       write the original after approval\n"
		      "  purge [--older-than DAYS] [--by USER] remove old originals (default 90 days)\n"
		      "  approvers list | add USER --by USER | remove USER --by USER\n"
		      "  unlock ID --by USER -o FILE [--password-file F]  open a held password ZIP\n",
		      stderr);
	else
		fputs("使い方: sekisho quarantine [--state フォルダ] [--lang ja|en] [--json] コマンド\n"
		      "  list                                 一覧 (新しい順)\n"
		      "  show ID                              1 件の詳細\n"
		      "  request ID --by 利用者 --reason 理由  原本の取り出しを申請\n"
		      "  approve ID --by 利用者               申請を承認 (申請者以外の承認者)\n"
		      "  release ID -o ファイル [--by 利用者]  承認後に原本を書き出す\n"
		      "  purge [--older-than 日数] [--by 利用者] 保存期間を過ぎた原本を削除 (既定 90 日)\n"
		      "  approvers list | add 利用者 --by 利用者 | remove 利用者 --by 利用者\n"
		      "  unlock ID --by 利用者 -o ファイル [--password-file F]  パスワード付き ZIP を解除\n",
		      stderr);
}

static void print_time(const char *label, int64_t us)
{
	if (!us)
		return;
	char t[40];
	sk_time_format_us(us, t, sizeof(t));
	printf("%s\t%s\n", label, t);
}

static void print_str(const char *label, const char *v)
{
	if (v)
		printf("%s\t%s\n", label, v);
}

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *item_json(const sk_qitem *it)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(it->id));
	json_object_set_new(o, "sha256", json_string(it->sha256));
	json_object_set_new(o, "size", json_integer((json_int_t)it->size));
	json_object_set_new(o, "state", json_string(sk_qstate_code(it->state)));
	json_object_set_new(o, "name", jstr(it->name));
	json_object_set_new(o, "type", jstr(it->type));
	json_object_set_new(o, "src_zone", jstr(it->src_zone));
	json_object_set_new(o, "dst_zone", jstr(it->dst_zone));
	json_object_set_new(o, "submitter", jstr(it->submitter));
	json_object_set_new(o, "verdict", jstr(it->verdict));
	json_object_set_new(o, "reason", jstr(it->reason));
	json_object_set_new(o, "requested_by", jstr(it->requested_by));
	json_object_set_new(o, "request_reason", jstr(it->request_reason));
	json_object_set_new(o, "approved_by", jstr(it->approved_by));
	json_object_set_new(o, "released_by", jstr(it->released_by));
	char t[40];
	sk_time_format_us(it->received_us, t, sizeof(t));
	json_object_set_new(o, "received", json_string(t));
	return o;
}

static void emit_json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s)
		puts(s);
	free(s);
	json_decref(o);
}

static int list_one(void *ctx, const sk_qitem *it)
{
	struct qcli *c = ctx;
	if (c->json) {
		emit_json(item_json(it));
		return 0;
	}
	char t[40];
	sk_time_format_us(it->received_us, t, sizeof(t));
	t[19] = 0; /* seconds are enough in the list */
	printf("%s\t%s\t%s\t%s\t%s\t%s\n", it->id, t, sk_qstate_text(it->state, c->en),
	       it->verdict ? it->verdict : "-", it->reason ? it->reason : "-",
	       it->name ? it->name : "-");
	return 0;
}

static int do_show(struct qcli *c, const char *id)
{
	sk_qitem it;
	sk_error err;
	sk_error_clear(&err);
	if (sk_quarantine_get(c->q, id, &it, &err) != 0) {
		cli_err(c->lang, "見つかりません", "not found", id);
		return EXIT_TROUBLE;
	}
	if (c->json) {
		json_t *o = item_json(&it);
		json_t *acts = it.actions ? json_loads(it.actions, 0, NULL) : NULL;
		json_object_set_new(o, "result", acts ? acts : json_null());
		emit_json(o);
		sk_qitem_free(&it);
		return EXIT_OK;
	}
	bool en = c->en;
	print_str("id", it.id);
	printf("%s\t%s\n", en ? "state" : "状態", sk_qstate_text(it.state, en));
	print_str("sha256", it.sha256);
	printf("%s\t%llu\n", en ? "size" : "サイズ", (unsigned long long)it.size);
	print_str(en ? "name" : "名前", it.name);
	print_str(en ? "type" : "形式", it.type);
	print_str(en ? "from zone" : "送信元", it.src_zone);
	print_str(en ? "to zone" : "送信先", it.dst_zone);
	print_str(en ? "submitter" : "提出者", it.submitter);
	print_str(en ? "verdict" : "判定", it.verdict);
	print_str(en ? "reason" : "理由", it.reason);
	print_str(en ? "reason detail" : "理由の詳細", it.reason_detail);
	print_time(en ? "received" : "受付", it.received_us);
	print_time(en ? "decided" : "判定日時", it.decided_us);
	print_str(en ? "requested by" : "申請者", it.requested_by);
	print_str(en ? "request reason" : "申請理由", it.request_reason);
	print_time(en ? "requested" : "申請日時", it.requested_us);
	print_str(en ? "approved by" : "承認者", it.approved_by);
	print_time(en ? "approved" : "承認日時", it.approved_us);
	print_str(en ? "released by" : "取り出し実行者", it.released_by);
	print_time(en ? "released" : "取り出し日時", it.released_us);
	print_time(en ? "purged" : "削除日時", it.purged_us);
	sk_qitem_free(&it);
	return EXIT_OK;
}

/* Prints why a step failed; refusals exit 1, other errors 2. */
static int step_result(struct qcli *c, int rc, sk_qdeny deny, const sk_error *err,
		       const char *ok_ja, const char *ok_en, const char *id)
{
	if (rc == 0) {
		printf("%s: %s\n", c->en ? ok_en : ok_ja, id);
		return EXIT_OK;
	}
	if (deny != SK_QDENY_NONE) {
		cli_err(c->lang, sk_qdeny_text(deny, false), sk_qdeny_text(deny, true), id);
		return EXIT_REFUSED;
	}
	if (rc == SK_ENOTFOUND) {
		cli_err(c->lang, "見つかりません", "not found", id);
		return EXIT_TROUBLE;
	}
	cli_err(c->lang, "実行できませんでした", "failed", err->msg);
	return rc == SK_EINVAL ? EXIT_REFUSED : EXIT_TROUBLE;
}

static int approver_one(void *ctx, const char *user, const char *by, int64_t us)
{
	struct qcli *c = ctx;
	char t[40];
	sk_time_format_us(us, t, sizeof(t));
	t[19] = 0;
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "user", user, "added_by", by, "added", t);
		emit_json(o);
	} else {
		printf("%s\t%s %s\t%s\n", user, c->en ? "added by" : "追加者", by, t);
	}
	return 0;
}

int cmd_quarantine(int argc, char **argv)
{
	const char *state = NULL, *lang_opt = NULL, *by = NULL, *reason = NULL, *outfile = NULL;
	const char *older = NULL;
	bool json = false;
	static const struct option longs[] = {
		{"state", required_argument, NULL, 's'},
		{"lang", required_argument, NULL, 'l'},
		{"json", no_argument, NULL, 'j'},
		{"by", required_argument, NULL, 'b'},
		{"reason", required_argument, NULL, 'r'},
		{"output", required_argument, NULL, 'o'},
		{"older-than", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	/* unlock has options of its own (unlock.c): the first word that is not an option
	 * or an option's value */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *prev = argv[i - 1];
		bool value = i > 1 && (!strcmp(prev, "--state") || !strcmp(prev, "--lang") ||
				       !strcmp(prev, "--by") || !strcmp(prev, "--reason") ||
				       !strcmp(prev, "-o") || !strcmp(prev, "--output") ||
				       !strcmp(prev, "--older-than") || !strcmp(prev, "--password-file") ||
				       !strcmp(prev, "--clamd"));
		if (value || a[0] == '-')
			continue;
		if (!strcmp(a, "unlock"))
			return cmd_quarantine_unlock(argc, argv);
		break;
	}
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "o:h", longs, NULL)) != -1) {
		switch (ch) {
		case 's': state = optarg; break;
		case 'l': lang_opt = optarg; break;
		case 'j': json = true; break;
		case 'b': by = optarg; break;
		case 'r': reason = optarg; break;
		case 'o': outfile = optarg; break;
		case 'd': older = optarg; break;
		case 'h': usage(cli_lang(lang_opt)); return EXIT_OK;
		default: usage(cli_lang(lang_opt)); return EXIT_TROUBLE;
		}
	}
	struct qcli c = {.lang = cli_lang(lang_opt), .json = json};
	c.en = c.lang == SK_LANG_EN;
	int nargs = argc - optind;
	char **args = argv + optind;
	if (nargs < 1) {
		usage(c.lang);
		return EXIT_TROUBLE;
	}
	const char *sub = args[0];
	char *dir = cli_state_dir(state);
	if (!dir) {
		cli_err(c.lang, "状態フォルダが決まりません (--state を指定してください)",
			"no state folder (give --state)", NULL);
		return EXIT_TROUBLE;
	}
	sk_error err;
	sk_error_clear(&err);
	int status = EXIT_OK;
	if (cli_state_open(c.lang, dir, &c.a, &c.q) != 0) {
		free(dir);
		return EXIT_TROUBLE;
	}
	sk_qdeny deny = SK_QDENY_NONE;
	int rc;
	if (!strcmp(sub, "list") && nargs == 1) {
		if (!json)
			printf(c.en ? "# id\treceived\tstate\tverdict\treason\tname\n"
				    : "# ID\t受付\t状態\t判定\t理由\t名前\n");
		if (sk_quarantine_list(c.q, list_one, &c, &err) != 0) {
			cli_err(c.lang, "一覧を読めません", "cannot list", err.msg);
			status = EXIT_TROUBLE;
		}
	} else if (!strcmp(sub, "show") && nargs == 2) {
		status = do_show(&c, args[1]);
	} else if (!strcmp(sub, "request") && nargs == 2 && by && reason) {
		rc = sk_quarantine_request(c.q, args[1], by, reason, &deny, &err);
		status = step_result(&c, rc, deny, &err, "取り出しを申請しました", "release requested",
				     args[1]);
	} else if (!strcmp(sub, "approve") && nargs == 2 && by) {
		rc = sk_quarantine_approve(c.q, args[1], by, &deny, &err);
		status = step_result(&c, rc, deny, &err, "承認しました", "approved", args[1]);
	} else if (!strcmp(sub, "release") && nargs == 2 && outfile) {
		rc = sk_quarantine_release(c.q, args[1], by ? by : cli_os_user(), outfile, &deny, &err);
		status = step_result(&c, rc, deny, &err, "原本を書き出しました", "original written",
				     rc == 0 ? outfile : args[1]);
	} else if (!strcmp(sub, "purge") && nargs == 1) {
		long long days = 0;
		if (older) {
			char *end;
			days = strtoll(older, &end, 10);
			if (*end || days <= 0) {
				cli_err(c.lang, "--older-than は正の日数です",
					"--older-than takes a positive number of days", older);
				status = EXIT_TROUBLE;
				goto out;
			}
		}
		uint64_t n = 0;
		rc = sk_quarantine_purge(c.q, days, by ? by : cli_os_user(), &n, &err);
		if (rc) {
			cli_err(c.lang, "削除できませんでした", "purge failed", err.msg);
			status = EXIT_TROUBLE;
		} else {
			printf(c.en ? "purged %llu items\n" : "%llu 件の原本を削除しました\n",
			       (unsigned long long)n);
		}
	} else if (!strcmp(sub, "approvers") && nargs >= 2) {
		const char *op = args[1];
		if (!strcmp(op, "list") && nargs == 2) {
			if (sk_quarantine_approvers(c.q, approver_one, &c, &err) != 0) {
				cli_err(c.lang, "一覧を読めません", "cannot list", err.msg);
				status = EXIT_TROUBLE;
			}
		} else if ((!strcmp(op, "add") || !strcmp(op, "remove")) && nargs == 3 && by) {
			bool add = !strcmp(op, "add");
			rc = add ? sk_quarantine_approver_add(c.q, args[2], by, &err)
				 : sk_quarantine_approver_remove(c.q, args[2], by, &err);
			if (rc) {
				cli_err(c.lang, "承認者を変更できませんでした", "cannot change approvers",
					err.msg);
				status = rc == SK_EINVAL || rc == SK_ENOTFOUND ? EXIT_REFUSED : EXIT_TROUBLE;
			} else {
				printf("%s: %s\n",
				       add ? (c.en ? "approver added" : "承認者を追加しました")
					   : (c.en ? "approver removed" : "承認者を削除しました"),
				       args[2]);
			}
		} else {
			usage(c.lang);
			status = EXIT_TROUBLE;
		}
	} else {
		usage(c.lang);
		status = EXIT_TROUBLE;
	}
out:
	/* a checkpoint over the records this command appended */
	if (cli_state_close(c.lang, c.a, c.q) != 0 && status < EXIT_TROUBLE)
		status = EXIT_TROUBLE;
	free(dir);
	return status;
}
