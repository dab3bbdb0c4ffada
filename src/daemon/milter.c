/* sekishod's milter role: sk_milter_run() (src/milter) under the gate options of
 * skd_gate_open() — the state folder's quarantine and audit log, the policy, clamd and
 * this role's own pool of sandboxed workers. The mail's directions are the policy's
 * gateway.milter (one, or several picked by the SMTP client's zone); the recipients
 * outside the policy's internal_domains make a message outbound; each message takes the
 * one path (sk_gate_mail). libmilter stops on SIGTERM (the master's stop), which it waits
 * for in its own thread. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon.h"
#include "milter.h"
#include "sekisho/auth.h"
#include "sekisho/quarantine.h"
#include "sekisho/release.h"

/* The role: the daemon, and the auth handle the outbound step opens on first use (the
 * steps are serialised by the milter: one thread at a time uses it). */
static struct {
	skd *d;
	sk_auth *auth;
	bool auth_tried;
} role;

/* One decision event per message (queue ID, Message-ID and sender to match the MTA's log)
 * and the counters; called in the message's thread. */
static void decided(void *arg, const sk_milter_decision *m)
{
	skd *d = arg;
	if (!m->result) {
		atomic_fetch_add(&d->metrics->spool_errors, 1);
		SKD_EVENT(SKD_ERR, "milter-error", "メールを処理できませんでした (MTA は再送します)",
			  "could not handle a message (the MTA retries)", SKD_S("queue_id", m->queue_id),
			  SKD_S("message_id", m->message_id), SKD_S("sender", m->sender),
			  SKD_S("error", m->error));
		return;
	}
	const sk_result *res = m->result;
	const sk_report *r = &res->report;
	bool blocked = r->verdict == SK_VERDICT_BLOCKED;
	bool held = m->mail && m->mail->held;
	skd_metrics_item(d->metrics, r, m->us);
	char hex[SK_SHA256_HEX];
	sk_hex(res->sha256, SK_SHA256_LEN, hex);
	SKD_EVENT(blocked || held ? SKD_NOTICE : SKD_INFO, "decision",
		  m->outbound ? "保留 (外部宛て: 破棄して保管、送信者に通知)"
		  : held      ? "保留 (通知を配信)"
		  : blocked   ? "遮断"
			      : "配信",
		  m->outbound ? "held (outside recipients: dropped and kept, the sender told)"
		  : held      ? "held (a notice is delivered)"
		  : blocked   ? "blocked"
			      : "delivered",
		  SKD_S("channel", "mail"), SKD_S("from", m->from_zone), SKD_S("to", m->to_zone),
		  SKD_S("queue_id", m->queue_id), SKD_S("message_id", m->message_id),
		  SKD_S("sender", m->sender), SKD_N("recipients", m->nrcpt),
		  SKD_S("outbound", m->outbound ? "yes" : "no"),
		  SKD_S("verdict", sk_verdict_code(r->verdict)),
		  SKD_S("reason", blocked ? sk_reason_code(r->reason) : ""),
		  SKD_S("reason_detail", r->reason_detail), SKD_S("sha256", hex),
		  SKD_N("size", m->size), SKD_S("quarantine_id", res->quarantine_id),
		  SKD_S("actions", m->mail ? m->mail->actions : ""), SKD_S("rule", res->rule),
		  SKD_N("ms", m->us / 1000));
}

static void refused(void *arg, const char *addr)
{
	(void)arg;
	SKD_EVENT(SKD_WARNING, "milter-refused",
		  "送信元のアドレスがどのゾーンにもないため接続を拒否しました (550 5.7.1)",
		  "refused a client whose address is in no zone (550 5.7.1)",
		  SKD_S("client", addr[0] ? addr : "-"));
}

struct by_mail {
	const char *mail;
	sk_auth_user u;
	int n;
};

static int match_mail(void *ctx, const sk_auth_user *u)
{
	struct by_mail *c = ctx;
	if (!u->disabled && u->mail[0] && !strcasecmp(u->mail, c->mail)) {
		if (!c->n)
			c->u = *u;
		c->n++;
	}
	return 0;
}

/* The console user whose mail address is the sender (exactly one, enabled): 0 and *u;
 * SK_ENOTFOUND otherwise (the gate's system requester then). */
static int sender_user(const sk_options *opt, const char *sender, sk_auth_user *u,
		       sk_auth_rights *rt)
{
	if (!sender || !*sender)
		return SK_ENOTFOUND;
	sk_error e;
	sk_error_clear(&e);
	if (!role.auth && !role.auth_tried) {
		role.auth_tried = true;
		sk_auth_settings st;
		sk_auth_settings_from_policy(role.d->policy, &st);
		if (sk_auth_open(role.d->cfg.state, opt->audit, &st, NULL, &role.auth, &e) != 0) {
			role.auth = NULL;
			SKD_EVENT(SKD_WARNING, "milter-auth", "利用者の一覧を開けません (申請者は milter になります)",
				  "cannot open the users (the requester is milter)", SKD_S("error", e.msg));
		}
	}
	if (!role.auth)
		return SK_ENOTFOUND;
	struct by_mail c = {.mail = sender};
	if (sk_auth_user_list(role.auth, match_mail, &c, &e) < 0 || c.n != 1)
		return SK_ENOTFOUND;
	*u = c.u;
	memset(rt, 0, sizeof(*rt));
	sk_auth_effective(u, role.d->policy, rt);
	return 0;
}

/* A message not delivered with a recipient outside internal_domains, stored with its
 * envelope: held → the release request (the sender's console user, else the system
 * requester) and the approvers' notice; then the sender's notice. Only the request is
 * needed for the MTA to drop the message; notices that fail are events (and kept on the
 * item). Serialised by the milter. */
static int outbound(void *arg, const sk_milter_outbound *o, const sk_options *opt, sk_error *err)
{
	skd *d = arg;
	const char *id = o->result->quarantine_id;
	if (o->held) {
		sk_auth_user u;
		sk_auth_rights rt;
		memset(&u, 0, sizeof(u));
		memset(&rt, 0, sizeof(rt));
		bool user = sender_user(opt, o->env_from, &u, &rt) == 0;
		sk_qactor req = {u.id, u.name, user && rt.section[0] ? rt.section : NULL, u.mail};
		int64_t rid = 0;
		int rc = sk_release_mail_request(opt, id, user ? &req : NULL, &rid, err);
		if (rc)
			return rc;
		char ridt[32];
		snprintf(ridt, sizeof(ridt), "%lld", (long long)rid);
		SKD_EVENT(SKD_INFO, "request", "保留したメールの取り出し申請を開きました",
			  "opened the release request of held mail", SKD_S("what", "requested"),
			  SKD_S("request", ridt), SKD_S("item", id), SKD_S("kind", "release"),
			  SKD_S("user", user ? u.name : SK_RELEASE_SYSTEM_NAME));
		sk_qrequest rq;
		sk_error e;
		if (role.auth && sk_quarantine_request_get(opt->quarantine, rid, &rq, &e) == 0) {
			skd_notify_request(d->policy, opt->quarantine, role.auth, opt->audit,
					   SK_RELEASE_SYSTEM_NAME, "requested", &rq);
			sk_qrequest_free(&rq);
		} else {
			SKD_EVENT(SKD_WARNING, "notify-error", "承認者に通知できません (利用者の一覧がありません)",
				  "cannot notify the approvers (no users)", SKD_S("request", ridt));
		}
	}
	bool sent = false;
	sk_error e;
	sk_error_clear(&e);
	if (sk_release_mail_notice(opt, id, o->held ? SK_RELEASE_NOTICE_HELD : SK_RELEASE_NOTICE_BLOCKED,
				   SK_RELEASE_SYSTEM_NAME, NULL, &sent, &e) != 0)
		SKD_EVENT(SKD_WARNING, "notify-error", "送信者に通知できませんでした",
			  "the sender's notice could not be sent", SKD_S("item", id),
			  SKD_S("error", e.msg));
	else if (!sent)
		SKD_EVENT(SKD_NOTICE, "notify-none",
			  "送信者に通知しません (内部ドメインの差出人ではありません)",
			  "the sender is not told (not an address of internal_domains)",
			  SKD_S("item", id), SKD_S("sender", o->env_from));
	return 0;
}

int skd_milter_run(skd *d)
{
	sk_error err;
	sk_error_clear(&err);
	skd_gate g;
	if (skd_gate_open(d, &g, &err) != 0) {
		SKD_EVENT(SKD_ERR, "role-error", "milter を開始できません (状態フォルダ・ワーカー)",
			  "cannot start the milter (state folder, workers)", SKD_S("error", err.msg));
		return SKD_EXIT_FAIL;
	}
	role.d = d;
	sk_mail_options mo;
	sk_mail_options_default(&mo);
	mo.lang = d->cfg.lang;
	/* the recipients outside these make a held message outbound (never an empty list:
	 * without internal_domains every recipient is outside) */
	mo.internal_domains = sk_policy_internal_domains(d->policy);
	sk_policy_gateway pg;
	sk_policy_gateway_get(d->policy, &pg);
	sk_milter_config mc = {
		.socket = d->cfg.milter,
		.mail = &mo,
		.gate = &g.opt,
		.from_zone = d->cfg.milter_from,
		.to_zone = d->cfg.milter_to,
		.dirs = pg.nmilter_dirs > 1 ? pg.milter_dirs : NULL,
		.ndirs = pg.nmilter_dirs > 1 ? pg.nmilter_dirs : 0,
		.quiet = true,
		.on_decision = decided,
		.on_decision_arg = d,
		.on_outbound = outbound,
		.on_refused = refused,
	};
	char dirs[512] = "";
	for (size_t i = 0, k = 0; i < pg.nmilter_dirs && k < sizeof(dirs); i++)
		k += (size_t)snprintf(dirs + k, sizeof(dirs) - k, "%s%s->%s", i ? "," : "",
				      pg.milter_dirs[i].from, pg.milter_dirs[i].to);
	SKD_EVENT(SKD_INFO, "milter-listen", "milter が待ち受けます", "the milter listens",
		  SKD_S("socket", d->cfg.milter), SKD_S("from", d->cfg.milter_from),
		  SKD_S("to", d->cfg.milter_to), SKD_S("directions", dirs));
	/* stray library prints never reach the MTA: they go to stderr */
	fflush(stdout);
	int rc = sk_milter_run(&mc, &err);
	if (rc)
		SKD_EVENT(SKD_ERR, "role-error", "milter が停止しました", "the milter stopped",
			  SKD_S("error", err.msg));
	sk_auth_close(role.auth);
	role.auth = NULL;
	skd_gate_close(&g);
	return rc ? SKD_EXIT_FAIL : SKD_EXIT_OK;
}
