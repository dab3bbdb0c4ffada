/* sekishod — the scheduler role: audit checkpoints (at most SKD_CHECKPOINT_LAG seconds
 * after new records; a heartbeat otherwise) and the retention purge of the quarantine. */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "daemon.h"
#include "sekisho/audit.h"
#include "sekisho/quarantine.h"

#define SKD_CHECKPOINT_LAG 2          /* seconds between a new record and its checkpoint */
#define SKD_PURGE_EVERY (3600 * 1000) /* ms between retention purges */
#define SKD_HEARTBEAT 300             /* seconds: a checkpoint at least this often */

struct sched {
	skd *d;
	sk_audit *audit;
	uint64_t signed_size; /* records covered by the newest checkpoint */
};

/* Signs a checkpoint when records were appended since the newest one (checked every
 * second, so they stay unsigned for at most SKD_CHECKPOINT_LAG seconds), or a heartbeat
 * when the newest is older than the log's heartbeat interval. */
static int checkpoint_if_due(struct sched *s, sk_error *err)
{
	uint64_t before = 0, size = 0;
	bool made = false;
	int rc = sk_audit_signed_size(s->audit, &size, &before, err);
	if (rc == 0)
		rc = sk_audit_checkpoint_if_due(s->audit, SKD_HEARTBEAT, &made, err);
	if (rc == 0)
		rc = sk_audit_signed_size(s->audit, NULL, &s->signed_size, err);
	if (rc == 0 && made) {
		atomic_fetch_add(&s->d->metrics->checkpoints, 1);
		SKD_EVENT(SKD_INFO, "checkpoint", "監査ログのチェックポイントに署名しました",
			  "audit checkpoint signed", SKD_N("size", s->signed_size),
			  SKD_S("why", before < size ? "new-records" : "heartbeat"));
	}
	if (sk_audit_anchor_error(s->audit)[0])
		SKD_EVENT(SKD_WARNING, "anchor-error", "チェックポイントの外部保管に失敗しました",
			  "checkpoint anchoring failed", SKD_S("error", sk_audit_anchor_error(s->audit)));
	return rc;
}

/* Items a killed process left undecided (stored, no verdict) are finished as blocked
 * (interrupted) with an audit record; items of live processes are left alone. */
static void recover(struct sched *s)
{
	sk_quarantine *q = NULL;
	sk_error e;
	sk_error_clear(&e);
	unsigned n = 0;
	int rc = sk_quarantine_open(s->d->cfg.state, s->audit, NULL, &q, &e);
	if (rc == 0)
		rc = sk_quarantine_recover(q, s->audit, &n, &e);
	sk_quarantine_close(q);
	if (rc)
		SKD_EVENT(SKD_ERR, "recover-error", "中断された項目を記録できませんでした",
			  "interrupted items could not be recorded", SKD_S("error", e.msg));
	else if (n)
		SKD_EVENT(SKD_WARNING, "recovered", "中断された項目を遮断 (interrupted) として記録しました",
			  "interrupted items recorded as blocked (interrupted)", SKD_N("items", n));
}

static void purge(struct sched *s)
{
	uint32_t days = sk_policy_retention_days(s->d->policy, "quarantine");
	if (!days)
		days = SK_QUARANTINE_RETENTION_DAYS;
	sk_quarantine *q = NULL;
	sk_error e;
	sk_error_clear(&e);
	uint64_t n = 0;
	int rc = sk_quarantine_open(s->d->cfg.state, s->audit, NULL, &q, &e);
	if (rc == 0)
		rc = sk_quarantine_purge(q, days, "sekishod", &n, &e);
	sk_quarantine_close(q);
	if (rc) {
		SKD_EVENT(SKD_ERR, "purge-error", "保存期間を過ぎた原本を削除できませんでした",
			  "retention purge failed", SKD_S("error", e.msg));
		return;
	}
	atomic_fetch_add(&s->d->metrics->purged, n);
	if (n)
		SKD_EVENT(SKD_NOTICE, "purge", "保存期間を過ぎた原本を削除しました",
			  "originals past retention removed", SKD_N("items", n), SKD_N("days", days));
}

int skd_scheduler_run(skd *d)
{
	int sfd = skd_role_signalfd();
	sk_error e;
	sk_error_clear(&e);
	struct sched s = {.d = d};
	if (sfd < 0 || sk_audit_open(d->cfg.state, NULL, &s.audit, &e) != 0) {
		SKD_EVENT(SKD_ERR, "role-error", "監査ログを開けません", "cannot open the audit log",
			  SKD_S("error", e.msg));
		return SKD_EXIT_FAIL;
	}
	recover(&s);
	int64_t next_purge = skd_now_us();
	for (;;) {
		if (checkpoint_if_due(&s, &e) != 0)
			SKD_EVENT(SKD_ERR, "checkpoint-error", "チェックポイントを作れません",
				  "checkpoint failed", SKD_S("error", e.msg));
		if (skd_now_us() >= next_purge) {
			purge(&s);
			next_purge = skd_now_us() + (int64_t)SKD_PURGE_EVERY * 1000;
		}
		struct pollfd p = {.fd = sfd, .events = POLLIN};
		if (poll(&p, 1, 1000 * SKD_CHECKPOINT_LAG / 2) > 0)
			break; /* stop: the master signs the final checkpoint after every role */
	}
	sk_audit_close(s.audit);
	return SKD_EXIT_OK;
}
