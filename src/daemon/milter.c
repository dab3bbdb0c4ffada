/* sekishod's milter role: sk_milter_run() (src/milter) under the gate options of
 * skd_gate_open() — the state folder's quarantine and audit log, the policy, clamd and
 * this role's own pool of sandboxed workers. The mail's zones are the policy's
 * gateway.milter from/to; each message takes the one path (sk_gate_mail). libmilter
 * stops on SIGTERM (the master's stop), which it waits for in its own thread. */
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "milter.h"

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
	};
	SKD_EVENT(SKD_INFO, "milter-listen", "milter が待ち受けます", "the milter listens",
		  SKD_S("socket", d->cfg.milter), SKD_S("from", d->cfg.milter_from),
		  SKD_S("to", d->cfg.milter_to));
	/* stray library prints (libytnef) never reach the MTA: they go to stderr */
	fflush(stdout);
	int rc = sk_milter_run(&mc, &err);
	if (rc)
		SKD_EVENT(SKD_ERR, "role-error", "milter が停止しました", "the milter stopped",
			  SKD_S("error", err.msg));
	skd_gate_close(&g);
	return rc ? SKD_EXIT_FAIL : SKD_EXIT_OK;
}
