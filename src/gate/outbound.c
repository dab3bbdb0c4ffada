/* Held mail and its envelope (release.h "held mail"): the release request the gate opens
 * for a held message, the notices to its sender, and sending the released result to the
 * stored envelope through the local MTA. */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sekisho/audit.h"
#include "sekisho/name.h"
#include "sekisho/notify.h"
#include "sekisho/policy.h"
#include "sekisho/release.h"

#define FINDINGS_MAX 20 /* DLP findings listed in a notice (the rest counted) */

static sk_audit *audit_of(const sk_options *opt)
{
	return opt->audit ? opt->audit : sk_quarantine_audit(opt->quarantine);
}

static const char *sendmail_of(const sk_options *opt)
{
	if (!opt->policy)
		return "/usr/sbin/sendmail";
	sk_policy_gateway g;
	sk_policy_gateway_get(opt->policy, &g);
	return g.sendmail ? g.sendmail : "/usr/sbin/sendmail";
}

static bool is_held(const sk_qitem *it)
{
	return it->verdict && !strcmp(it->verdict, "blocked") && it->reason &&
	       !strcmp(it->reason, "held");
}

/* The rule that held or blocked the item: its result's policy rule, else the reason's
 * detail, else the reason; one line, at most n - 1 bytes (cut between characters). */
static void rule_of(const sk_qitem *it, json_t *res, char *out, size_t n)
{
	const char *rule = json_string_value(json_object_get(json_object_get(res, "policy"), "rule"));
	bool held_or_dlp = it->reason && (!strcmp(it->reason, "held") || !strcmp(it->reason, "dlp") ||
					  !strcmp(it->reason, "policy-deny"));
	const char *s = held_or_dlp && rule && *rule ? rule
			: it->reason_detail && *it->reason_detail ? it->reason_detail
			: it->reason ? it->reason : "-";
	size_t k = 0;
	for (; s[k] && k + 1 < n; k++)
		out[k] = (unsigned char)s[k] < 0x20 ? ' ' : s[k];
	while (k && s[k] && ((unsigned char)s[k] & 0xc0) == 0x80)
		k--;
	out[k] = 0;
}

/* The kind a DLP report entry names ("mynumber" …), SK_DLP__COUNT when none. */
static int dlp_kind(const char *what)
{
	for (int k = 0; what && k < SK_DLP__COUNT; k++)
		if (!strcmp(what, sk_dlp_what((sk_dlp_kind)k)))
			return k;
	return SK_DLP__COUNT;
}

/* The DLP findings of a result, one line each: the detector, where, the masked match
 * (the engine masked every digit: the number itself is never there). */
static size_t findings(sk_buf *b, json_t *res, bool en)
{
	json_t *acts = json_object_get(res, "actions"), *a;
	size_t i, n = 0, more = 0;
	json_array_foreach(acts, i, a)
	{
		const char *what = json_string_value(json_object_get(a, "what"));
		int k = dlp_kind(what);
		bool unscanned = what && !strcmp(what, "dlp-unscanned");
		if (k == SK_DLP__COUNT && !unscanned)
			continue;
		if (n >= FINDINGS_MAX) {
			more++;
			continue;
		}
		const char *where = json_string_value(json_object_get(a, "where"));
		const char *detail = json_string_value(json_object_get(a, "detail"));
		const char *kind = unscanned ? (en ? "not scannable" : "検査できない内容")
					     : sk_dlp_kind_text((sk_dlp_kind)k, en);
		sk_buf_printf(b, "    - %s%s%s%s%s\n", kind, where && *where ? " / " : "",
			      where ? where : "", detail && *detail ? " / " : "", detail ? detail : "");
		n++;
	}
	if (more)
		sk_buf_printf(b, en ? "    - … and %zu more\n" : "    - ほか %zu 件\n", more);
	return n + more;
}

/* One side of a notice (Japanese or English). */
static void notice_text(sk_buf *b, const sk_qitem *it, json_t *res, sk_release_notice kind,
			const char *by, const char *comment, bool en)
{
	char when[40], rule[200];
	sk_time_format_jst(it->received_us, when, sizeof(when));
	rule_of(it, res, rule, sizeof(rule));
	const char *reason = sk_reason_text(sk_reason_from_code(it->reason), en ? SK_LANG_EN : SK_LANG_JA);
	if (kind == SK_RELEASE_NOTICE_HELD)
		sk_buf_adds(b, en ? "The mail you sent is held for approval before it leaves. It "
				    "reaches its recipients only after an approver releases it.\n\n"
				  : "あなたが送信したメールを、送信前の確認のため保留しました。承認されるまで"
				    "宛先には届きません。\n\n");
	else if (kind == SK_RELEASE_NOTICE_BLOCKED)
		sk_buf_adds(b, en ? "The mail you sent was stopped and has NOT been sent.\n\n"
				  : "あなたが送信したメールは送信されませんでした (遮断)。\n\n");
	else
		sk_buf_adds(b, en ? "The release of the mail you sent was refused. It has NOT been "
				    "sent.\n\n"
				  : "あなたが送信したメールの送信 (取り出し) は却下されました。宛先には"
				    "送られていません。\n\n");
	sk_buf_printf(b, en ? "  Received:     %s\n" : "  受付日時:     %s\n", when);
	for (size_t i = 0; i < it->env_nrcpt; i++)
		sk_buf_printf(b, "  %s%s\n", i ? "              " : en ? "Recipients:   " : "宛先:         ",
			      it->env_rcpt[i]);
	sk_buf_printf(b, en ? "  Reason:       %s\n  Rule:         %s\n" : "  理由:         %s\n  規則:         %s\n",
		      reason, rule);
	sk_buf tmp;
	sk_buf_init(&tmp, 65536);
	if (findings(&tmp, res, en))
		sk_buf_printf(b, "%s\n%s", en ? "  Found (masked):" : "  検出 (伏せ字):", sk_buf_str(&tmp));
	sk_buf_free(&tmp);
	if (kind == SK_RELEASE_NOTICE_REFUSED) {
		sk_buf_printf(b, en ? "  Refused by:   %s\n" : "  却下した人:   %s\n", by ? by : "-");
		if (comment && *comment)
			sk_buf_printf(b, en ? "  Comment:      %s\n" : "  コメント:     %s\n", comment);
	}
	sk_buf_printf(b, en ? "  Item ID:      %s\n\n" : "  項目 ID:      %s\n\n", it->id);
	if (kind == SK_RELEASE_NOTICE_HELD)
		sk_buf_adds(b, en ? "Once approved it is sent to the recipients above, sanitised by the "
				    "policy. You will be told if it is refused.\n"
				  : "承認されると、ポリシーの無害化を行ったうえで上の宛先へ送られます。"
				    "却下されたときはお知らせします。\n");
	else if (kind == SK_RELEASE_NOTICE_REFUSED)
		sk_buf_adds(b, en ? "If it must still be sent, remove what the rule found and send it "
				    "again, or ask the approver.\n"
				  : "送る必要がある場合は、規則が検出した内容を取り除いて送り直すか、承認者に"
				    "ご相談ください。\n");
	sk_buf_adds(b, en ? "Quote the item ID when you ask about it.\n"
			  : "問い合わせの際は項目 ID をお伝えください。\n");
}

static const char *notice_code(sk_release_notice k)
{
	return k == SK_RELEASE_NOTICE_HELD ? "held" : k == SK_RELEASE_NOTICE_BLOCKED ? "blocked"
										: "refused";
}

int sk_release_mail_notice(const sk_options *opt, const char *id, sk_release_notice kind,
			   const char *by, const char *comment, bool *sent, sk_error *err)
{
	if (sent)
		*sent = false;
	if (!opt->quarantine)
		return sk_error_set(err, SK_EINVAL, "mail notice needs the quarantine");
	sk_qitem it;
	int rc = sk_quarantine_get(opt->quarantine, id, &it, err);
	if (rc)
		return rc;
	/* only an internal sender is told: nothing of the gate goes outside */
	if (!opt->policy || !it.env_from || !sk_mail_addr_valid(it.env_from) ||
	    !sk_mail_domain_internal(it.env_from, sk_policy_internal_domains(opt->policy))) {
		sk_qitem_free(&it);
		return 0;
	}
	json_error_t je;
	json_t *res = it.actions ? json_loads(it.actions, 0, &je) : NULL;
	char subject[SK_NOTIFY_SUBJECT_MAX];
	snprintf(subject, sizeof(subject), "[sekisho] %s / %s (%s)",
		 kind == SK_RELEASE_NOTICE_HELD	    ? "送信メールを保留しました (承認待ち)"
		 : kind == SK_RELEASE_NOTICE_BLOCKED ? "送信メールを遮断しました"
						     : "送信メールの送信は却下されました",
		 kind == SK_RELEASE_NOTICE_HELD	    ? "Your mail is held for approval"
		 : kind == SK_RELEASE_NOTICE_BLOCKED ? "Your mail was not sent"
						     : "The release of your mail was refused",
		 it.id);
	sk_buf b;
	sk_buf_init(&b, SK_NOTIFY_BODY_MAX);
	notice_text(&b, &it, res, kind, by, comment, false);
	sk_buf_adds(&b, "\n-- \nこのメールは sekisho (無害化ゲートウェイ) が自動で送っています。\n\n"
			"---------------------------------------- English\n\n");
	notice_text(&b, &it, res, kind, by, comment, true);
	sk_buf_adds(&b, "\n-- \nThis message was sent by sekisho (the sanitising gateway).\n");
	json_decref(res);
	char from[SK_NOTIFY_ADDR_MAX];
	sk_notify_from_default(from);
	const char *to[1] = {it.env_from};
	sk_error e;
	sk_error_clear(&e);
	int src = sk_notify_send(sendmail_of(opt), from, to, 1, subject, sk_buf_str(&b), &e);
	sk_buf_free(&b);
	char obj[160], result[48], detail[SK_QUARANTINE_ADDR_MAX + 300];
	snprintf(obj, sizeof(obj), "mail:%s sha256:%s", it.id, it.sha256);
	snprintf(result, sizeof(result), "%s %s", src ? "failed" : "sent", notice_code(kind));
	snprintf(detail, sizeof(detail), "to=%s%s%.250s", it.env_from, src ? " error=" : "",
		 src ? e.msg : "");
	sk_audit *a = audit_of(opt);
	sk_error ae;
	int arc = a ? sk_audit_append(a, by && *by ? by : "sekisho", "mail-notice", obj, result,
				      detail, NULL, &ae)
		    : 0;
	if (src) {
		char why[300];
		snprintf(why, sizeof(why), "notice %s: %.250s", notice_code(kind), e.msg);
		sk_error e2;
		sk_quarantine_mail_done(opt->quarantine, it.id, false, why, &e2);
		rc = sk_error_set(err, SK_EIO, "%s", e.msg);
	} else if (arc) {
		rc = sk_error_set(err, arc, "%s", ae.msg);
	} else if (sent) {
		*sent = true;
	}
	sk_qitem_free(&it);
	return rc;
}

int sk_release_mail_request(const sk_options *opt, const char *id, const sk_qactor *requester,
			    int64_t *rid, sk_error *err)
{
	if (!opt->quarantine)
		return sk_error_set(err, SK_EINVAL, "mail request needs the quarantine");
	sk_qitem it;
	int rc = sk_quarantine_get(opt->quarantine, id, &it, err);
	if (rc)
		return rc;
	if (!it.env_from || !is_held(&it)) {
		sk_qitem_free(&it);
		return sk_error_set(err, SK_EINVAL, "%s is no held mail with an envelope", id);
	}
	json_error_t je;
	json_t *res = it.actions ? json_loads(it.actions, 0, &je) : NULL;
	char rule[200], reason[600];
	rule_of(&it, res, rule, sizeof(rule));
	json_decref(res);
	snprintf(reason, sizeof(reason), "送信メールの保留 (規則: %s) / outbound mail held (rule: %s)",
		 rule, rule);
	sk_qactor sys = {SK_RELEASE_SYSTEM_UID, SK_RELEASE_SYSTEM_NAME, NULL, NULL};
	sk_qdeny deny = SK_QDENY_NONE;
	rc = sk_quarantine_request_create(opt->quarantine, id, SK_QKIND_RELEASE,
					  requester ? requester : &sys, reason,
					  sk_release_needed(opt->policy, SK_QKIND_RELEASE), rid, &deny,
					  err);
	sk_qitem_free(&it);
	return rc;
}

int sk_release_send(const sk_options *opt, const char *id, const char *by, sk_error *err)
{
	if (!opt->quarantine)
		return sk_error_set(err, SK_EINVAL, "send needs the quarantine");
	sk_quarantine *q = opt->quarantine;
	sk_qitem it;
	int rc = sk_quarantine_get(q, id, &it, err);
	if (rc)
		return rc;
	if (!it.env_from || !it.env_nrcpt || it.state != SK_QSTATE_RELEASED ||
	    !it.result_sha256[0] || it.mail_sent_us) {
		rc = sk_error_set(err, SK_EINVAL, "%s: %s", id,
				  it.mail_sent_us ? "already sent" : "no released mail with an envelope");
		sk_qitem_free(&it);
		return rc;
	}
	int fd = -1;
	uint64_t size = 0;
	sk_error e;
	sk_error_clear(&e);
	int src = sk_quarantine_result_open(q, id, &fd, &size, &e);
	if (src == 0)
		src = sk_notify_deliver(sendmail_of(opt), it.env_from,
					(const char *const *)it.env_rcpt, it.env_nrcpt, fd,
					SK_RELEASE_SEND_TIMEOUT_S, &e);
	if (fd >= 0)
		close(fd);
	/* on record: the audit first (the outcome on the item after it) */
	char obj[160], detail[600];
	snprintf(obj, sizeof(obj), "mail:%s sha256:%s", it.id, it.result_sha256);
	int k = snprintf(detail, sizeof(detail), "from=<%s> rcpt=%zu first=<%s> size=%llu%s%.200s",
			 it.env_from, it.env_nrcpt, it.env_rcpt[0], (unsigned long long)size,
			 src ? " error=" : "", src ? e.msg : "");
	(void)k;
	sk_audit *a = audit_of(opt);
	sk_error ae;
	int arc = a ? sk_audit_append(a, by && *by ? by : "sekisho", "mail-send", obj,
				      src ? "failed" : "sent", detail, NULL, &ae)
		    : 0;
	sk_error de;
	int drc = sk_quarantine_mail_done(q, it.id, src == 0, src ? e.msg : NULL, &de);
	if (src)
		rc = sk_error_set(err, SK_EIO, "%s", e.msg);
	else if (arc)
		rc = sk_error_set(err, arc, "sent, but not recorded: %s", ae.msg);
	else if (drc)
		rc = sk_error_set(err, drc, "sent, but not recorded on the item: %s", de.msg);
	sk_qitem_free(&it);
	return rc;
}
