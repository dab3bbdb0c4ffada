/* sekishod — mail notices of release requests, for the http role (a request made or
 * decided in the console) and the milter role (the request the gate opens for held mail).
 *
 * Through the local MTA (sk_notify_send, gateway.sendmail): when a request is made, to
 * every user with a mail address who may decide it (their rights under the policy,
 * sk_release_may_decide), never the requester; when it is decided, to the requester.
 * Japanese first, the English below, in one message. A notice that cannot be sent is an
 * event and an audit record; the request stands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "sekisho/auth.h"
#include "sekisho/notify.h"
#include "sekisho/quarantine.h"
#include "sekisho/release.h"

/* One line of text for a header: control characters become spaces. */
static void one_line(const char *s, char *out, size_t n)
{
	size_t k = 0;
	for (; s && *s && k + 1 < n; s++)
		out[k++] = (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s;
	out[k] = 0;
}

struct approvers_ctx {
	const sk_policy *p;
	const sk_qitem *it;
	const sk_qrequest *q;
	const char *requester_mail;
	char to[SK_NOTIFY_TO_MAX][SK_NOTIFY_ADDR_MAX];
	size_t n;
	bool more; /* more than SK_NOTIFY_TO_MAX */
};

static int approver_one(void *ctx, const sk_auth_user *u)
{
	struct approvers_ctx *c = ctx;
	if (u->disabled || !u->mail[0] || u->id == c->q->requester_uid ||
	    !strcmp(u->mail, c->requester_mail))
		return 0;
	sk_auth_rights rt;
	memset(&rt, 0, sizeof(rt));
	if (sk_auth_effective(u, c->p, &rt) != 0)
		return 0;
	sk_qactor who = {u->id, u->name, rt.section[0] ? rt.section : NULL, u->mail};
	if (sk_release_may_decide(c->p, c->it, c->q, &who, &rt, NULL) != 0)
		return 0;
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->to[i], u->mail))
			return 0;
	if (c->n == SK_NOTIFY_TO_MAX) {
		c->more = true;
		return 1;
	}
	snprintf(c->to[c->n++], SK_NOTIFY_ADDR_MAX, "%s", u->mail);
	return 0;
}

/* The lines common to both notices: item, file, requester, kind, reason. */
static void notice_facts(sk_buf *b, const sk_qitem *it, const sk_qrequest *q, bool en)
{
	const char *name = it->name && *it->name ? it->name : "-";
	bool orig = q->kind == SK_QKIND_ORIGINAL;
	if (!en)
		sk_buf_printf(b,
			      "  申請番号:   %lld\n  項目 ID:    %s\n  ファイル名: %s\n"
			      "  送り先:     %s → %s\n  申請者:     %s%s%s%s\n  種類:       %s\n"
			      "  理由:       %s\n",
			      (long long)q->id, it->id, name, it->src_zone ? it->src_zone : "-",
			      it->dst_zone ? it->dst_zone : "-", q->requester ? q->requester : "-",
			      it->submitter_section ? " (" : "",
			      it->submitter_section ? it->submitter_section : "",
			      it->submitter_section ? ")" : "",
			      orig ? "原本の取り出し" : "取り出し (無害化した結果)",
			      q->reason ? q->reason : "");
	else
		sk_buf_printf(b,
			      "  Request:      %lld\n  Item ID:      %s\n  File:         %s\n"
			      "  Zones:        %s -> %s\n  Requested by: %s%s%s%s\n  Kind:         %s\n"
			      "  Reason:       %s\n",
			      (long long)q->id, it->id, name, it->src_zone ? it->src_zone : "-",
			      it->dst_zone ? it->dst_zone : "-", q->requester ? q->requester : "-",
			      it->submitter_section ? " (" : "",
			      it->submitter_section ? it->submitter_section : "",
			      it->submitter_section ? ")" : "",
			      orig ? "the original" : "release (the sanitised result)",
			      q->reason ? q->reason : "");
	/* held mail: its envelope (the approver sees who sends it to whom) */
	if (it->env_from) {
		sk_buf_printf(b, en ? "  Mail from:    <%s>\n" : "  差出人:     <%s>\n", it->env_from);
		for (size_t i = 0; i < it->env_nrcpt && i < 10; i++)
			sk_buf_printf(b, "  %s<%s>\n",
				      i ? "              " : en ? "Mail to:      " : "宛先:       ",
				      it->env_rcpt[i]);
		if (it->env_nrcpt > 10)
			sk_buf_printf(b, en ? "                … %zu recipients in all\n"
					    : "              … 全 %zu 件\n",
				      it->env_nrcpt);
	}
}

void skd_notify_request(const sk_policy *p, sk_quarantine *q, sk_auth *auth, sk_audit *audit,
			const char *actor, const char *what, const sk_qrequest *rq)
{
	char rid[32];
	snprintf(rid, sizeof(rid), "%lld", (long long)rq->id);
	sk_policy_gateway g;
	sk_policy_gateway_get(p, &g);
	const char *sendmail = g.sendmail ? g.sendmail : "/usr/sbin/sendmail";
	sk_error e;
	sk_error_clear(&e);
	sk_qitem it;
	memset(&it, 0, sizeof(it));
	if (sk_quarantine_get(q, rq->item, &it, &e) != 0) {
		SKD_EVENT(SKD_WARNING, "notify-error", "通知を作れません", "cannot make a notice",
			  SKD_S("request", rid), SKD_S("error", e.msg));
		return;
	}
	sk_auth_user req;
	memset(&req, 0, sizeof(req));
	if (sk_auth_user_get_id(auth, rq->requester_uid, &req, &e) != 0)
		memset(&req, 0, sizeof(req));
	bool requested = !strcmp(what, "requested");
	struct approvers_ctx *ac = calloc(1, sizeof(*ac));
	const char *to[SK_NOTIFY_TO_MAX];
	size_t nto = 0;
	if (!ac) {
		sk_qitem_free(&it);
		return;
	}
	if (requested) {
		ac->p = p;
		ac->it = &it;
		ac->q = rq;
		ac->requester_mail = req.mail;
		if (sk_auth_user_list(auth, approver_one, ac, &e) < 0)
			SKD_EVENT(SKD_WARNING, "notify-error", "承認者の一覧を読めません",
				  "cannot list the approvers", SKD_S("error", e.msg));
		for (size_t i = 0; i < ac->n; i++)
			to[nto++] = ac->to[i];
		if (ac->more)
			SKD_EVENT(SKD_WARNING, "notify-limit", "通知先が多すぎるため一部にだけ送ります",
				  "too many approvers: the notice goes to the first ones",
				  SKD_S("request", rid), SKD_N("max", SK_NOTIFY_TO_MAX));
	} else if (req.mail[0] && !req.disabled) {
		to[nto++] = req.mail;
	}
	if (!nto) {
		SKD_EVENT(SKD_NOTICE, "notify-none", "通知先 (メールアドレスのある利用者) がいません",
			  "nobody to notify (no user with a mail address)", SKD_S("request", rid),
			  SKD_S("what", what));
		free(ac);
		sk_qitem_free(&it);
		return;
	}
	char name[256], subject[SK_NOTIFY_SUBJECT_MAX], from[SK_NOTIFY_ADDR_MAX];
	one_line(it.name && *it.name ? it.name : it.id, name, sizeof(name));
	sk_notify_from_default(from);
	bool approved = !strcmp(what, "approved");
	const char *by = rq->state == SK_QREQ_REFUSED ? rq->refused_by
			 : rq->napprovals			 ? rq->approvals[rq->napprovals - 1].name
							 : NULL;
	const char *url = g.console_url;
	sk_buf b;
	sk_buf_init(&b, SK_NOTIFY_BODY_MAX);
	if (requested) {
		snprintf(subject, sizeof(subject), "[sekisho] 取り出し申請の承認依頼 / Release request: %s",
			 name);
		sk_buf_adds(&b, "取り出しの申請がありました。内容を確認し、承認または却下してください。\n\n");
	} else {
		snprintf(subject, sizeof(subject), "[sekisho] 取り出し申請が%s / Release request %s: %s",
			 approved ? "承認されました" : "却下されました", approved ? "approved" : "refused",
			 name);
		sk_buf_printf(&b, "取り出しの申請が%s。\n\n",
			      approved ? "承認されました" : "却下されました");
	}
	notice_facts(&b, &it, rq, false);
	if (!requested) {
		sk_buf_printf(&b, "  判断:       %s (%s)\n", approved ? "承認" : "却下", by ? by : "-");
		if (rq->comment && *rq->comment)
			sk_buf_printf(&b, "  コメント:   %s\n", rq->comment);
		if (rq->outcome && *rq->outcome)
			sk_buf_printf(&b, "  結果:       %s\n", rq->outcome);
	}
	if (url)
		sk_buf_printf(&b, "\n画面: %s#/%s\n", url, requested ? "approve" : "items");
	sk_buf_adds(&b, "\n-- \nこのメールは sekisho (無害化ゲートウェイ) が自動で送っています。\n\n"
			"---------------------------------------- English\n\n");
	if (requested)
		sk_buf_adds(&b, "A release was requested. Please check it and approve or refuse it.\n\n");
	else
		sk_buf_printf(&b, "The release request was %s.\n\n", approved ? "approved" : "refused");
	notice_facts(&b, &it, rq, true);
	if (!requested) {
		sk_buf_printf(&b, "  Decision:     %s (%s)\n", approved ? "approved" : "refused",
			      by ? by : "-");
		if (rq->comment && *rq->comment)
			sk_buf_printf(&b, "  Comment:      %s\n", rq->comment);
		if (rq->outcome && *rq->outcome)
			sk_buf_printf(&b, "  Outcome:      %s\n", rq->outcome);
	}
	if (url)
		sk_buf_printf(&b, "\nConsole: %s#/%s\n", url, requested ? "approve" : "items");
	sk_buf_adds(&b, "\n-- \nThis message was sent by sekisho (the sanitising gateway).\n");
	int rc = sk_notify_send(sendmail, from, to, nto, subject, sk_buf_str(&b), &e);
	sk_buf_free(&b);
	char obj[128];
	snprintf(obj, sizeof(obj), "item:%s request:%s", rq->item, rid);
	if (rc) {
		SKD_EVENT(SKD_WARNING, "notify-error", "通知メールを送れませんでした (申請はそのままです)",
			  "the mail notice could not be sent (the request stands)",
			  SKD_S("request", rid), SKD_S("what", what), SKD_S("error", e.msg));
		char detail[300];
		snprintf(detail, sizeof(detail), "%s: %s", what, e.msg);
		sk_error ae;
		if (audit && sk_audit_append(audit, actor && *actor ? actor : "sekisho", "notify", obj,
					     "failed", detail, NULL, &ae) != 0)
			SKD_EVENT(SKD_ERR, "audit-error", "監査ログに記録できません",
				  "cannot write the audit log", SKD_S("action", "notify"),
				  SKD_S("error", ae.msg));
	} else {
		SKD_EVENT(SKD_INFO, "notify", "通知メールを送りました", "mail notice sent",
			  SKD_S("request", rid), SKD_S("what", what), SKD_N("recipients", nto));
	}
	free(ac);
	sk_qitem_free(&it);
}

