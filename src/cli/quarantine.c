/* sekisho quarantine — originals kept aside, and their two-person release. */
#include <errno.h>
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
#include "sekisho/release.h"

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
		      "  show ID                              one item and its requests\n"
		      "  request ID [--by USER] --reason TEXT [--kind release|original] [--policy FILE]\n"
		      "                                       ask for the release (held item: the\n"
		      "                                       sanitised result) or the original\n"
		      "  approve ID [--by USER] --policy FILE [--kind K] [--comment TEXT]\n"
		      "                                       approve (a holder of the approving role\n"
		      "                                       in the policy, not the requester)\n"
		      "  refuse ID [--by USER] --policy FILE [--kind K] [--comment TEXT]\n"
		      "  release ID -o FILE [--by USER] --policy FILE\n"
		      "                                       write the released result, or the\n"
		      "                                       original to its approved requester\n"
		      "  purge [--older-than DAYS] [--by USER] remove old originals (default 90 days)\n"
		      "  unlock ID [--by USER] -o FILE [--password-file F] [--policy FILE]\n"
		      "                                       open a held password ZIP\n"
		      "USER is a console user (sekisho user add; lower-case login name), by default the\n"
		      "operating-system user; an unknown or disabled user is refused (exit 1). The rights\n"
		      "come from the roles of the policy (--policy): its users: entries included.\n",
		      stderr);
	else
		fputs("使い方: sekisho quarantine [--state フォルダ] [--lang ja|en] [--json] コマンド\n"
		      "  list                                 一覧 (新しい順)\n"
		      "  show ID                              1 件の詳細と申請\n"
		      "  request ID [--by 利用者] --reason 理由 [--kind release|original] [--policy ファイル]\n"
		      "                                       取り出しを申請 (保留項目は無害化した結果、\n"
		      "                                       original は原本)\n"
		      "  approve ID [--by 利用者] --policy ファイル [--kind 種類] [--comment 意見]\n"
		      "                                       申請を承認 (ポリシーで承認の役割を持つ、\n"
		      "                                       申請者以外の利用者)\n"
		      "  refuse ID [--by 利用者] --policy ファイル [--kind 種類] [--comment 意見]  申請を却下\n"
		      "  release ID -o ファイル [--by 利用者] --policy ファイル\n"
		      "                                       承認された結果 (原本は申請者本人へ) を書き出す\n"
		      "  purge [--older-than 日数] [--by 利用者] 保存期間を過ぎた原本を削除 (既定 90 日)\n"
		      "  unlock ID [--by 利用者] -o ファイル [--password-file F] [--policy ファイル]\n"
		      "                                       パスワード付き ZIP を解除\n"
		      "利用者は画面の利用者 (sekisho user add で追加、英小文字の利用者名) で、既定は OS の\n"
		      "利用者名です。登録のない利用者・停止中の利用者は拒否します (終了コード 1)。権限は\n"
		      "ポリシー (--policy) の役割 (users: の記載を含む) から決まります。\n",
		      stderr);
}

static void print_time(const char *label, int64_t us)
{
	if (!us)
		return;
	char t[40];
	cli_time_format(us, t, sizeof(t));
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

/* a time in JSON: UTC ISO (as the audit log) and the JST form */
static void jtime(json_t *o, const char *key, int64_t us)
{
	char t[40], k[64];
	snprintf(k, sizeof(k), "%s_jst", key);
	if (!us) {
		json_object_set_new(o, key, json_null());
		json_object_set_new(o, k, json_null());
		return;
	}
	sk_time_format_us(us, t, sizeof(t));
	json_object_set_new(o, key, json_string(t));
	sk_time_iso_jst(us, t, sizeof(t));
	json_object_set_new(o, k, json_string(t));
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
	json_object_set_new(o, "section", jstr(it->submitter_section));
	json_object_set_new(o, "verdict", jstr(sk_qitem_verdict(it)));
	json_object_set_new(o, "reason", jstr(it->reason));
	json_object_set_new(o, "hold_role", jstr(it->hold_role));
	json_object_set_new(o, "has_content", json_boolean(it->result_sha256[0] != 0));
	json_object_set_new(o, "released_by", jstr(it->released_by));
	jtime(o, "received", it->received_us);
	jtime(o, "released", it->released_us);
	return o;
}

static json_t *request_json(const sk_qrequest *r)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_integer((json_int_t)r->id));
	json_object_set_new(o, "item", json_string(r->item));
	json_object_set_new(o, "kind", json_string(sk_qkind_code(r->kind)));
	json_object_set_new(o, "state", json_string(sk_qrstate_code(r->state)));
	json_object_set_new(o, "by", jstr(r->requester));
	json_object_set_new(o, "reason", jstr(r->reason));
	jtime(o, "at", r->created_us);
	json_object_set_new(o, "needed", json_integer(r->needed));
	json_t *a = json_array();
	for (size_t i = 0; i < r->napprovals; i++) {
		json_t *x = json_object();
		json_object_set_new(x, "by", jstr(r->approvals[i].name));
		jtime(x, "at", r->approvals[i].at_us);
		json_object_set_new(x, "comment", jstr(r->approvals[i].comment));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "approvals", a);
	json_object_set_new(o, "refused_by", jstr(r->refused_by));
	json_object_set_new(o, "comment", jstr(r->comment));
	json_object_set_new(o, "outcome", jstr(r->outcome));
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

/* A verdict code of the quarantine ("held" too) for people; English keeps the code. */
static const char *verdict_text(const char *v, sk_lang lang)
{
	if (!v)
		return "-";
	if (lang == SK_LANG_EN)
		return v;
	if (!strcmp(v, "held"))
		return "承認待ち";
	for (int i = SK_VERDICT_CLEAN; i <= SK_VERDICT_BLOCKED; i++)
		if (!strcmp(v, sk_verdict_code((sk_verdict)i)))
			return sk_verdict_text((sk_verdict)i, lang);
	return v;
}

/* A reason code for people; English keeps the code. */
static const char *reason_text(const char *r, sk_lang lang)
{
	if (!r)
		return "-";
	sk_reason x = sk_reason_from_code(r);
	return lang == SK_LANG_EN || x == SK_REASON_NONE ? r : sk_reason_text(x, lang);
}

static int list_one(void *ctx, const sk_qitem *it)
{
	struct qcli *c = ctx;
	if (c->json) {
		emit_json(item_json(it));
		return 0;
	}
	char t[40];
	cli_time_format(it->received_us, t, sizeof(t));
	const char *v = sk_qitem_verdict(it);
	printf("%s\t%s\t%s\t%s\t%s\t%s\n", it->id, t, sk_qstate_text(it->state, c->en),
	       verdict_text(v, c->lang), reason_text(it->reason, c->lang), it->name ? it->name : "-");
	return 0;
}

static int show_request(void *ctx, const sk_qrequest *r)
{
	struct qcli *c = ctx;
	bool en = c->en;
	if (c->json) {
		emit_json(request_json(r));
		return 0;
	}
	char t[40];
	cli_time_format(r->created_us, t, sizeof(t));
	printf("%s %lld\t%s\t%s\t%s %s\t%s %zu/%u\n", en ? "request" : "申請", (long long)r->id,
	       en ? sk_qkind_code(r->kind) : r->kind == SK_QKIND_ORIGINAL ? "原本" : "取り出し",
	       sk_qrstate_text(r->state, en), r->requester, t,
	       en ? "approvals" : "承認", r->napprovals, r->needed);
	print_str(en ? "  reason" : "  申請理由", r->reason);
	for (size_t i = 0; i < r->napprovals; i++) {
		cli_time_format(r->approvals[i].at_us, t, sizeof(t));
		printf("  %s\t%s %s%s%s\n", en ? "approved by" : "承認者", r->approvals[i].name, t,
		       r->approvals[i].comment ? " " : "",
		       r->approvals[i].comment ? r->approvals[i].comment : "");
	}
	if (r->refused_by) {
		cli_time_format(r->decided_us, t, sizeof(t));
		printf("  %s\t%s %s%s%s\n", en ? "refused by" : "却下者", r->refused_by, t,
		       r->comment ? " " : "", r->comment ? r->comment : "");
	}
	print_str(en ? "  outcome" : "  結果", r->outcome);
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
	sk_qrfilter f = {.item = it.id};
	if (c->json) {
		json_t *o = item_json(&it);
		json_t *acts = it.actions ? json_loads(it.actions, 0, NULL) : NULL;
		json_object_set_new(o, "result", acts ? acts : json_null());
		emit_json(o);
		sk_quarantine_requests(c->q, &f, show_request, c, &err);
		sk_qitem_free(&it);
		return EXIT_OK;
	}
	bool en = c->en;
	const char *v = sk_qitem_verdict(&it);
	print_str("id", it.id);
	printf("%s\t%s\n", en ? "state" : "状態", sk_qstate_text(it.state, en));
	print_str("sha256", it.sha256);
	printf("%s\t%llu\n", en ? "size" : "サイズ", (unsigned long long)it.size);
	print_str(en ? "name" : "名前", it.name);
	print_str(en ? "type" : "形式", it.type);
	print_str(en ? "from zone" : "送信元", it.src_zone);
	print_str(en ? "to zone" : "送信先", it.dst_zone);
	print_str(en ? "submitter" : "提出者", it.submitter);
	print_str(en ? "section" : "所属", it.submitter_section);
	if (v)
		printf("%s\t%s%s%s%s\n", en ? "verdict" : "判定", verdict_text(v, c->lang), en ? "" : " [",
		       en ? "" : v, en ? "" : "]");
	if (it.reason)
		printf("%s\t%s%s%s%s\n", en ? "reason" : "理由", reason_text(it.reason, c->lang),
		       en ? "" : " [", en ? "" : it.reason, en ? "" : "]");
	print_str(en ? "reason detail" : "理由の詳細", it.reason_detail);
	print_str(en ? "approver role" : "承認者の役割", it.hold_role);
	print_time(en ? "received" : "受付", it.received_us);
	print_time(en ? "decided" : "判定日時", it.decided_us);
	if (it.result_sha256[0])
		printf("%s\t%s (%llu %s)\n", en ? "result" : "取り出せる結果", it.result_sha256,
		       (unsigned long long)it.result_size, en ? "bytes" : "バイト");
	print_str(en ? "released by" : "取り出し承認者", it.released_by);
	print_time(en ? "released" : "取り出し承認日時", it.released_us);
	print_time(en ? "purged" : "削除日時", it.purged_us);
	if (sk_quarantine_requests(c->q, &f, show_request, c, &err) != 0)
		cli_fail(c->lang, "申請を読めません", "cannot read the requests", NULL, &err);
	sk_qitem_free(&it);
	return EXIT_OK;
}

/* Prints why a step failed; refusals exit 1, other errors 2. */
static int step_fail(struct qcli *c, int rc, sk_qdeny deny, const sk_error *err, const char *id)
{
	if (deny != SK_QDENY_NONE) {
		cli_err(c->lang, sk_qdeny_text(deny, false), sk_qdeny_text(deny, true), id);
		return EXIT_REFUSED;
	}
	if (rc == SK_ENOTFOUND) {
		cli_err(c->lang, "見つかりません", "not found", id);
		return EXIT_TROUBLE;
	}
	cli_fail(c->lang, "実行できませんでした", "failed", NULL, err);
	return rc == SK_EINVAL ? EXIT_REFUSED : EXIT_TROUBLE;
}

/* A refusal the CLI decides itself (a permission the policy does not give), audited like
 * the quarantine's own refusals. */
static int refuse_right(struct qcli *c, const cli_who *w, const char *action, const char *id,
			const char *why, const char *ja, const char *en)
{
	sk_error err;
	sk_error_clear(&err);
	sk_qitem it;
	char obj[160];
	if (sk_quarantine_get(c->q, id, &it, &err) == 0) {
		snprintf(obj, sizeof(obj), "item:%s sha256:%s", it.id, it.sha256);
		sk_qitem_free(&it);
	} else {
		snprintf(obj, sizeof(obj), "item:%.100s", id);
	}
	char result[64], detail[400];
	snprintf(result, sizeof(result), "refused: %s", why);
	cli_who_detail(w, detail, sizeof(detail));
	if (c->a && sk_audit_append(c->a, w->user.name, action, obj, result, detail, NULL, &err) != 0) {
		cli_fail(c->lang, "監査ログに記録できませんでした", "cannot write the audit log", NULL, &err);
		return EXIT_TROUBLE;
	}
	cli_err(c->lang, ja, en, w->user.name);
	return EXIT_REFUSED;
}

struct pick {
	sk_qkind kind;
	bool any_kind;
	int64_t rid;
	int n;
};

static int pick_one(void *ctx, const sk_qrequest *r)
{
	struct pick *p = ctx;
	if (!p->any_kind && r->kind != p->kind)
		return 0;
	p->rid = r->id;
	p->n++;
	return 0;
}

/* The pending request of item id (of kind, when given). */
static int pending_of(struct qcli *c, const char *id, const char *kind, int64_t *rid)
{
	struct pick p = {.any_kind = kind == NULL};
	if (kind && sk_qkind_from_code(kind, &p.kind)) {
		cli_err(c->lang, "--kind は release か original です", "--kind is release or original",
			kind);
		return EXIT_TROUBLE;
	}
	sk_qrfilter f = {.item = id, .state = "pending"};
	sk_error err;
	sk_error_clear(&err);
	if (sk_quarantine_requests(c->q, &f, pick_one, &p, &err) != 0) {
		cli_fail(c->lang, "申請を読めません", "cannot read the requests", NULL, &err);
		return EXIT_TROUBLE;
	}
	if (p.n == 0) {
		cli_err(c->lang, sk_qdeny_text(SK_QDENY_STATE, false), sk_qdeny_text(SK_QDENY_STATE, true),
			id);
		return EXIT_REFUSED;
	}
	if (p.n > 1) {
		cli_err(c->lang, "申請が複数あります (--kind で選んでください)",
			"several requests are pending (choose one with --kind)", id);
		return EXIT_TROUBLE;
	}
	*rid = p.rid;
	return 0;
}

/* Copies fd (from its start) to path atomically (0600). */
static int write_out(int fd, const char *path, sk_error *err)
{
	sk_tmpfile tf = {.fd = -1};
	int rc = sk_tmpfile_open(&tf, path, err);
	if (rc)
		return rc;
	sk_output o;
	sk_output_fd(&o, tf.fd, 0);
	uint8_t buf[65536];
	for (off_t off = 0;;) {
		ssize_t r = pread(fd, buf, sizeof(buf), off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = sk_error_sys(err, SK_EIO, "read");
			break;
		}
		if (r == 0)
			break;
		if ((rc = sk_output_write(&o, buf, (size_t)r, err)))
			break;
		off += r;
	}
	if (rc == 0)
		return sk_tmpfile_commit(&tf, path, 0600, true, err);
	sk_tmpfile_discard(&tf);
	return rc;
}

static int do_request(struct qcli *c, const char *id, const cli_who *w, const char *kind,
		      const char *reason, const struct sk_policy *pol)
{
	/* with a policy, its roles must give the right to request */
	if (w->policy && !(w->rights.perms & SK_PERM_REQUEST))
		return refuse_right(c, w, "quarantine-request", id, "no-right",
				    "この利用者には取り出しを申請する権限がありません (ポリシーの役割)",
				    "this user may not request a release (the policy's roles)");
	sk_error err;
	sk_error_clear(&err);
	sk_qitem it;
	if (sk_quarantine_get(c->q, id, &it, &err) != 0) {
		cli_err(c->lang, "見つかりません", "not found", id);
		return EXIT_TROUBLE;
	}
	sk_qkind k = sk_qitem_verdict(&it) && !strcmp(sk_qitem_verdict(&it), "held")
			     ? SK_QKIND_RELEASE
			     : SK_QKIND_ORIGINAL;
	sk_qitem_free(&it);
	if (kind && sk_qkind_from_code(kind, &k)) {
		cli_err(c->lang, "--kind は release か original です", "--kind is release or original",
			kind);
		return EXIT_TROUBLE;
	}
	sk_qdeny deny = SK_QDENY_NONE;
	int64_t rid = 0;
	int rc = sk_quarantine_request_create(c->q, id, k, &w->actor, reason, sk_release_needed(pol, k),
					      &rid, &deny, &err);
	if (rc)
		return step_fail(c, rc, deny, &err, id);
	if (c->json) {
		sk_qrequest r;
		if (sk_quarantine_request_get(c->q, rid, &r, &err) == 0) {
			emit_json(request_json(&r));
			sk_qrequest_free(&r);
		}
	} else {
		printf(c->en ? "%s requested: %s (request %lld, %u approval(s) needed)\n"
			     : "%s を申請しました: %s (申請 %lld、承認 %u 人が必要)\n",
		       k == SK_QKIND_RELEASE ? (c->en ? "release" : "取り出し")
					     : (c->en ? "the original" : "原本の取り出し"),
		       id, (long long)rid, sk_release_needed(pol, k));
	}
	return EXIT_OK;
}

/* Approves or refuses the pending request of item id as w, with w's rights under the
 * policy (opt->policy, required): sk_release_approve / sk_release_refuse decide. */
static int do_decide(struct qcli *c, bool approve, const char *id, const cli_who *w,
		     const char *kind, const char *comment, const sk_options *opt)
{
	int64_t rid = 0;
	int st = pending_of(c, id, kind, &rid);
	if (st)
		return st;
	sk_error err;
	sk_error_clear(&err);
	sk_qdeny deny = SK_QDENY_NONE;
	int rc;
	if (!approve) {
		rc = sk_release_refuse(opt, rid, &w->actor, &w->rights, comment, &deny, &err);
		if (rc)
			return step_fail(c, rc, deny, &err, id);
		printf(c->en ? "refused: %s (request %lld)\n" : "却下しました: %s (申請 %lld)\n", id,
		       (long long)rid);
		return EXIT_OK;
	}
	sk_release_outcome out;
	rc = sk_release_approve(opt, rid, &w->actor, &w->rights, comment, &out, &deny, &err);
	if (rc)
		return step_fail(c, rc, deny, &err, id);
	sk_qrequest rq;
	if (sk_quarantine_request_get(c->q, rid, &rq, &err) != 0) {
		cli_fail(c->lang, "申請を読めません", "cannot read the request", NULL, &err);
		return EXIT_TROUBLE;
	}
	if (c->json) {
		emit_json(request_json(&rq));
	} else if (!out.complete) {
		printf(c->en ? "approved: %s (request %lld, %zu of %u approvals)\n"
			     : "承認しました: %s (申請 %lld、承認 %zu/%u)\n",
		       id, (long long)rid, rq.napprovals, rq.needed);
	} else if (rq.kind == SK_QKIND_ORIGINAL) {
		printf(c->en ? "approved: %s (the original is available to %s: release -o FILE)\n"
			     : "承認しました: %s (原本は %s が release -o で取り出せます)\n",
		       id, rq.requester);
	} else if (out.released) {
		printf(c->en ? "approved: %s (processed again with the flow's profile; the result can be released)\n"
			     : "承認しました: %s (方針のプロファイルで再処理しました。結果を取り出せます)\n",
		       id);
	} else {
		printf(c->en ? "approved: %s, but processing it again blocked it: %s [%s%s%s]\n"
			     : "承認しましたが、再処理で遮断されました: %s: %s [%s%s%s]\n",
		       id, sk_reason_text(out.reason, c->lang), sk_reason_code(out.reason),
		       out.detail[0] ? ": " : "", out.detail);
	}
	bool blocked = out.complete && rq.kind == SK_QKIND_RELEASE && !out.released;
	sk_qrequest_free(&rq);
	return blocked ? EXIT_REFUSED : EXIT_OK;
}

/* May w receive the released result of item it? As the console's download: the sender
 * (download), the requester of its approved release (download), or one of the approvers
 * of its requests (approve). */
struct recipient {
	int64_t uid;
	uint32_t perms;
	bool yes;
};

static int recipient_one(void *ctx, const sk_qrequest *r)
{
	struct recipient *p = ctx;
	if (r->kind == SK_QKIND_RELEASE && r->requester_uid == p->uid &&
	    (p->perms & SK_PERM_DOWNLOAD))
		p->yes = true;
	for (size_t i = 0; i < r->napprovals && (p->perms & SK_PERM_APPROVE); i++)
		if (r->approvals[i].uid == p->uid)
			p->yes = true;
	return p->yes;
}

static int do_release(struct qcli *c, const char *id, const cli_who *w, const char *outfile)
{
	sk_error err;
	sk_error_clear(&err);
	sk_qitem it;
	if (sk_quarantine_get(c->q, id, &it, &err) != 0) {
		cli_err(c->lang, "見つかりません", "not found", id);
		return EXIT_TROUBLE;
	}
	bool released = it.state == SK_QSTATE_RELEASED && it.result_sha256[0];
	struct recipient rp = {w->user.id, w->rights.perms, false};
	if (released) {
		rp.yes = it.submitter_uid == w->user.id && (rp.perms & SK_PERM_DOWNLOAD);
		sk_qrfilter f = {.item = it.id, .state = "approved"};
		if (!rp.yes && sk_quarantine_requests(c->q, &f, recipient_one, &rp, &err) < 0) {
			sk_qitem_free(&it);
			cli_fail(c->lang, "申請を読めません", "cannot read the requests", NULL, &err);
			return EXIT_TROUBLE;
		}
	}
	char obj[160];
	snprintf(obj, sizeof(obj), "item:%s sha256:%s", it.id, it.sha256);
	sk_qitem_free(&it);
	if (released && !rp.yes)
		return refuse_right(c, w, "quarantine-result", id, "not-recipient",
				    "この結果を受け取れるのは、送った人・取り出しの申請者・承認者だけです",
				    "only the sender, the requester or an approver may receive this result");
	int fd = -1, rc;
	uint64_t size = 0;
	sk_qdeny deny = SK_QDENY_NONE;
	if (released)
		rc = sk_quarantine_result_open(c->q, id, &fd, &size, &err);
	else
		rc = sk_quarantine_original_open(c->q, id, &w->actor, &fd, &size, &deny, &err);
	if (rc)
		return step_fail(c, rc, deny, &err, id);
	rc = write_out(fd, outfile, &err);
	close(fd);
	if (rc) {
		cli_fail(c->lang, "書き出せませんでした", "cannot write", outfile, &err);
		return EXIT_TROUBLE;
	}
	/* the original's hand-out is audited by the quarantine; the result's here */
	char detail[400];
	cli_who_detail(w, detail, sizeof(detail));
	if (released && c->a &&
	    sk_audit_append(c->a, w->user.name, "quarantine-result", obj, "ok", detail, NULL, &err)) {
		cli_fail(c->lang, "監査ログに記録できませんでした", "cannot write the audit log", NULL, &err);
		unlink(outfile);
		return EXIT_TROUBLE;
	}
	printf("%s: %s\n",
	       released ? (c->en ? "released result written" : "取り出しを承認された結果を書き出しました")
			: (c->en ? "original written" : "原本を書き出しました"),
	       outfile);
	return EXIT_OK;
}

int cmd_quarantine(int argc, char **argv)
{
	const char *state = NULL, *lang_opt = NULL, *by = NULL, *reason = NULL, *outfile = NULL;
	const char *older = NULL, *kind = NULL, *comment = NULL, *policy = NULL;
	bool json = false;
	static const struct option longs[] = {
		{"state", required_argument, NULL, 's'},
		{"lang", required_argument, NULL, 'l'},
		{"json", no_argument, NULL, 'j'},
		{"by", required_argument, NULL, 'b'},
		{"reason", required_argument, NULL, 'r'},
		{"output", required_argument, NULL, 'o'},
		{"older-than", required_argument, NULL, 'd'},
		{"kind", required_argument, NULL, 'k'},
		{"comment", required_argument, NULL, 'c'},
		{"policy", required_argument, NULL, 'p'},
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
				       !strcmp(prev, "--clamd") || !strcmp(prev, "--policy") ||
				       !strcmp(prev, "--kind") || !strcmp(prev, "--comment"));
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
		case 'k': kind = optarg; break;
		case 'c': comment = optarg; break;
		case 'p': policy = optarg; break;
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
	sk_policy *pol = NULL;
	if (policy && cli_policy_load(c.lang, policy, &pol) != 0)
		return EXIT_TROUBLE;
	char *dir = cli_state_dir(state);
	if (!dir) {
		cli_err(c.lang, "状態フォルダが決まりません (--state を指定してください)",
			"no state folder (give --state)", NULL);
		sk_policy_free(pol);
		return EXIT_TROUBLE;
	}
	sk_error err;
	sk_error_clear(&err);
	int status = EXIT_OK;
	if (cli_state_open(c.lang, dir, &c.a, &c.q) != 0) {
		free(dir);
		sk_policy_free(pol);
		return EXIT_TROUBLE;
	}
	sk_pool *pool = NULL;
	int rc;
	/* the steps of people: who they are comes from the auth service, their rights from
	 * the policy's roles (required where rights decide) */
	cli_who who;
	bool person = ((!strcmp(sub, "request") && reason) || !strcmp(sub, "approve") ||
		       !strcmp(sub, "refuse") || (!strcmp(sub, "release") && outfile)) &&
		      nargs == 2;
	if (person && !pol && strcmp(sub, "request") != 0) {
		cli_err(c.lang,
			"--policy でポリシーファイルを指定してください (承認・取り出しの権限はポリシーの役割から決まります)",
			"give the policy file with --policy (the rights to approve and release come from its roles)",
			NULL);
		status = EXIT_TROUBLE;
		goto out;
	}
	if (person && (status = cli_who_get(c.lang, dir, c.a, pol, by, &who)) != 0)
		goto out;
	if (!strcmp(sub, "list") && nargs == 1) {
		if (!json)
			printf(c.en ? "# id\treceived\tstate\tverdict\treason\tname\n"
				    : "# ID\t受付\t状態\t判定\t理由\t名前\n");
		if (sk_quarantine_list(c.q, list_one, &c, &err) != 0) {
			cli_fail(c.lang, "一覧を読めません", "cannot list", NULL, &err);
			status = EXIT_TROUBLE;
		}
	} else if (!strcmp(sub, "show") && nargs == 2) {
		status = do_show(&c, args[1]);
	} else if (!strcmp(sub, "request") && person) {
		status = do_request(&c, args[1], &who, kind, reason, pol);
	} else if ((!strcmp(sub, "approve") || !strcmp(sub, "refuse")) && person) {
		sk_options opt;
		sk_options_default(&opt);
		opt.quarantine = c.q;
		opt.audit = c.a;
		opt.policy = pol;
		bool approve = !strcmp(sub, "approve");
		if (approve) {
			/* a release is processed again: hostile bytes only in a sandboxed worker */
			sk_pool_config pc;
			sk_pool_config_default(&pc);
			pc.workers = 1;
			pc.colocate = true;
			if (getenv("SEKISHO_WORKER") && *getenv("SEKISHO_WORKER"))
				pc.worker = getenv("SEKISHO_WORKER");
			if (sk_pool_open(&pc, &pool, &err) != 0) {
				cli_fail(c.lang, "ワーカーを起動できません", "cannot start the workers",
					NULL, &err);
				status = EXIT_TROUBLE;
				goto out;
			}
			opt.pool = pool;
		}
		status = do_decide(&c, approve, args[1], &who, kind, comment, &opt);
	} else if (!strcmp(sub, "release") && person) {
		status = do_release(&c, args[1], &who, outfile);
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
			cli_fail(c.lang, "削除できませんでした", "purge failed", NULL, &err);
			status = EXIT_TROUBLE;
		} else {
			printf(c.en ? "purged %llu items\n" : "%llu 件の原本を削除しました\n",
			       (unsigned long long)n);
		}
	} else {
		usage(c.lang);
		status = EXIT_TROUBLE;
	}
out:
	sk_pool_close(pool);
	/* a checkpoint over the records this command appended */
	if (cli_state_close(c.lang, c.a, c.q) != 0 && status < EXIT_TROUBLE)
		status = EXIT_TROUBLE;
	sk_policy_free(pol);
	free(dir);
	return status;
}
