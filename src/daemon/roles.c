/* sekishod — the role table and what the roles share. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "sekisho/pool.h"
#include "sekisho/audit.h"
#include "sekisho/ledger.h"
#include "sekisho/name.h"
#include "sekisho/quarantine.h"

static bool spool_wanted(const skd *d)
{
	return d->cfg.nspool > 0;
}

static bool metrics_wanted(const skd *d)
{
	return d->metrics_fd >= 0;
}

static bool milter_wanted(const skd *d)
{
	return d->cfg.milter != NULL;
}

static bool http_wanted(const skd *d)
{
	return d->cfg.nhttp > 0;
}

/* The roles, in start order (stopped in reverse). */
const skd_role skd_roles[] = {
	{"scheduler", "sk-scheduler", skd_scheduler_run, NULL},
	{"spool", "sk-spool", skd_spool_run, spool_wanted},
	{"metrics", "sk-metrics", skd_metrics_run, metrics_wanted},
	{"milter", "sk-milter", skd_milter_run, milter_wanted},
	{"http", "sk-http", skd_http_run, http_wanted},
};
const size_t skd_nroles = sizeof(skd_roles) / sizeof(skd_roles[0]);
_Static_assert(sizeof(skd_roles) / sizeof(skd_roles[0]) <= SKD_ROLES_MAX, "SKD_ROLES_MAX");

int skd_role_signalfd(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGINT);
	return signalfd(-1, &s, SFD_CLOEXEC | SFD_NONBLOCK);
}

int64_t skd_now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int skd_gate_open(const skd *d, skd_gate *g, sk_error *err)
{
	memset(g, 0, sizeof(*g));
	sk_options_default(&g->opt);
	int rc = sk_audit_open(d->cfg.state, NULL, &g->audit, err);
	if (rc == 0)
		rc = sk_quarantine_open(d->cfg.state, g->audit, NULL, &g->quarantine, err);
	/* the incident ledger: malware, DLP blocks and repeated worker crashes open incidents
	 * (sk_ledger_gate_event serialises the role's threads on the one handle) */
	sk_ledger_options lo = {.lang = d->cfg.lang};
	if (rc == 0)
		rc = sk_ledger_open(d->cfg.state, g->audit, d->policy, &lo, &g->ledger, err);
	if (rc == 0) {
		g->opt.audit = g->audit;
		g->opt.quarantine = g->quarantine;
		g->opt.ledger = g->ledger;
		g->opt.policy = d->policy;
		g->opt.clamd = d->cfg.clamd;
		/* the engine runs in sandboxed workers of this role (never in the role itself) */
		sk_pool_config pc;
		sk_pool_config_default(&pc);
		pc.workers = d->cfg.workers > 0 ? (unsigned)d->cfg.workers : 0;
		pc.user = d->cfg.user;
		rc = sk_pool_open(&pc, &g->pool, err);
	}
	if (rc == 0) {
		/* legacy formats: one office pool for the role, started in the background now;
		 * when it cannot start, the items that need it are blocked (never the role) */
		sk_office_config oc;
		sk_office_config_default(&oc);
		oc.user = d->cfg.user;
		rc = sk_gate_office_new(&oc, false, &g->office, err);
	}
	if (rc) {
		skd_gate_close(g);
		return rc;
	}
	g->opt.pool = g->pool;
	g->opt.convert = sk_gate_office_convert;
	g->opt.convert_ctx = g->office;
	return 0;
}

void skd_gate_close(skd_gate *g)
{
	sk_pool_close(g->pool);
	sk_gate_office_free(g->office);
	sk_ledger_close(g->ledger);
	sk_quarantine_close(g->quarantine);
	sk_audit_close(g->audit);
	memset(g, 0, sizeof(*g));
}

