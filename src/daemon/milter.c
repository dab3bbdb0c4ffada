/* sekishod's milter role: sk_milter_run() (src/milter) under the gate options of
 * skd_gate_open() — the state folder's quarantine and audit log, the policy, clamd and
 * this role's own pool of sandboxed workers. The mail's zones are the policy's
 * gateway.milter from/to; each message takes the one path (sk_gate_mail). libmilter
 * stops on SIGTERM (the master's stop), which it waits for in its own thread. */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "milter.h"

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
		  held ? "保留 (通知を配信)" : blocked ? "遮断" : "配信",
		  held ? "held (a notice is delivered)" : blocked ? "blocked" : "delivered",
		  SKD_S("channel", "mail"), SKD_S("from", d->cfg.milter_from),
		  SKD_S("to", d->cfg.milter_to), SKD_S("queue_id", m->queue_id),
		  SKD_S("message_id", m->message_id), SKD_S("sender", m->sender),
		  SKD_S("verdict", sk_verdict_code(r->verdict)),
		  SKD_S("reason", blocked ? sk_reason_code(r->reason) : ""),
		  SKD_S("reason_detail", r->reason_detail), SKD_S("sha256", hex),
		  SKD_N("size", m->size), SKD_S("quarantine_id", res->quarantine_id),
		  SKD_S("actions", m->mail ? m->mail->actions : ""), SKD_S("rule", res->rule),
		  SKD_N("ms", m->us / 1000));
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
	sk_mail_options mo;
	sk_mail_options_default(&mo);
	mo.lang = d->cfg.lang;
	sk_milter_config mc = {
		.socket = d->cfg.milter,
		.mail = &mo,
		.gate = &g.opt,
		.from_zone = d->cfg.milter_from,
		.to_zone = d->cfg.milter_to,
		.quiet = true,
		.on_decision = decided,
		.on_decision_arg = d,
	};
	SKD_EVENT(SKD_INFO, "milter-listen", "milter が待ち受けます", "the milter listens",
		  SKD_S("socket", d->cfg.milter), SKD_S("from", d->cfg.milter_from),
		  SKD_S("to", d->cfg.milter_to));
	/* stray library prints never reach the MTA: they go to stderr */
	fflush(stdout);
	int rc = sk_milter_run(&mc, &err);
	if (rc)
		SKD_EVENT(SKD_ERR, "role-error", "milter が停止しました", "the milter stopped",
			  SKD_S("error", err.msg));
	skd_gate_close(&g);
	return rc ? SKD_EXIT_FAIL : SKD_EXIT_OK;
}
