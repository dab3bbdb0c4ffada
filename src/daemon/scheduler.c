/* sekishod — the scheduler role: audit checkpoints (at most SKD_CHECKPOINT_LAG seconds
 * after new records; a heartbeat otherwise), the retention purge of the quarantine, and
 * the ledgers' reminders by mail (at start and once a day). */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "daemon.h"
#include "sekisho/audit.h"
#include "sekisho/auth.h"
#include "sekisho/ledger.h"
#include "sekisho/name.h"
#include "sekisho/notify.h"
#include "sekisho/quarantine.h"

#define SKD_CHECKPOINT_LAG 2          /* seconds between a new record and its checkpoint */
#define SKD_PURGE_EVERY (3600 * 1000) /* ms between retention purges */
#define SKD_HEARTBEAT 300             /* seconds: a checkpoint at least this often */
#define SKD_REMIND_EVERY ((int64_t)24 * 3600 * 1000000) /* µs between reminder rounds */
#define SKD_REMIND_DAYS 14            /* an exception is reminded of this many days ahead */

struct sched {
	skd *d;
	sk_audit *audit;
	sk_ledger *ledger; /* opened at the first reminder round */
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

/* ---- the ledgers' reminders ---- */

/* Who gets the reminders: the policy's users whose roles carry ledger-all and who have a
 * mail address (each address once); for an exception, also its requester when they are a
 * user with a mail address (the policy's users by id or name, the console's by login). */
struct remind {
	struct sched *s;
	const char *to[SK_NOTIFY_TO_MAX];
	size_t nto;
	sk_auth *auth; /* NULL when auth.db cannot be opened (requesters from the policy only) */
	size_t sent, failed;
};

static void to_add(const char **to, size_t *n, const char *mail)
{
	if (!mail || !*mail || !sk_mail_addr_valid(mail))
		return;
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(to[i], mail))
			return;
	if (*n < SK_NOTIFY_TO_MAX)
		to[(*n)++] = mail;
}

static void ledger_all_mails(struct remind *x)
{
	const sk_policy *p = x->s->d->policy;
	for (size_t i = 0; i < sk_policy_user_count(p); i++) {
		const char *const *roles = NULL, *mail = NULL;
		size_t nr = 0;
		if (sk_policy_user_find(p, sk_policy_user_id(p, i), &roles, &nr, NULL, &mail) != 0)
			continue;
		uint32_t perms = 0;
		for (size_t j = 0; j < nr; j++)
			perms |= sk_policy_role_perms(p, roles[j]);
		if (perms & SK_PERM_LEDGER_ALL)
			to_add(x->to, &x->nto, mail);
	}
}

/* The mail of the user named who (NULL: none); a console user's goes into buf. */
static const char *user_mail(struct remind *x, const char *who, char *buf, size_t n)
{
	const sk_policy *p = x->s->d->policy;
	if (!who || !*who)
		return NULL;
	for (size_t i = 0; i < sk_policy_user_count(p); i++) {
		const char *mail = NULL;
		if ((strcmp(sk_policy_user_id(p, i), who) && strcmp(sk_policy_user_name(p, i), who)) ||
		    sk_policy_user_find(p, sk_policy_user_id(p, i), NULL, NULL, NULL, &mail) != 0)
			continue;
		if (mail)
			return mail;
	}
	sk_auth_user u;
	sk_error e;
	sk_error_clear(&e);
	if (x->auth && sk_auth_user_get(x->auth, who, &u, &e) == 0 && !u.disabled && u.mail[0]) {
		snprintf(buf, n, "%s", u.mail);
		return buf;
	}
	return NULL;
}

static const char *const remind_subject[][2] = {
	{"例外措置の期限が近づいています", "an exception expires soon"},
	{"例外措置の期限が切れました", "an exception has expired"},
	{"指摘事項が期限を過ぎています", "a finding is overdue"},
	{"情報資産の見直し日を過ぎています", "an asset is past its review date"},
};

static int remind_one(void *ctx, sk_ledger_reminder_kind kind, const sk_ledger_table *t,
		      const sk_ledger_record *r)
{
	struct remind *x = ctx;
	const char *to[SK_NOTIFY_TO_MAX];
	size_t nto = x->nto;
	memcpy(to, x->to, nto * sizeof(to[0]));
	char rmail[256];
	if (!strcmp(t->name, "exceptions")) {
		int i = sk_ledger_field_index(t, "requested_by");
		to_add(to, &nto, user_mail(x, i >= 0 ? r->values[i] : NULL, rmail, sizeof(rmail)));
	}
	char obj[96];
	snprintf(obj, sizeof(obj), "%s/%s", t->name, r->id);
	if (!nto) {
		SKD_EVENT(SKD_NOTICE, "remind-none",
			  "台帳の通知先 (ledger-all の役割でメールアドレスのある利用者) がいません",
			  "nobody to remind (no user with ledger-all and a mail address)",
			  SKD_S("record", obj));
		x->failed++;
		return 1; /* not marked: sent once somebody can receive it */
	}
	const sk_policy *p = x->s->d->policy;
	sk_policy_gateway g;
	sk_policy_gateway_get(p, &g);
	const char *sendmail = g.sendmail ? g.sendmail : "/usr/sbin/sendmail";
	char subject[SK_NOTIFY_SUBJECT_MAX], from[SK_NOTIFY_ADDR_MAX];
	sk_notify_from_default(from);
	snprintf(subject, sizeof(subject), "[sekisho] 台帳: %s (%s) / Ledger: %s", remind_subject[kind][0],
		 r->id, remind_subject[kind][1]);
	sk_buf b;
	sk_buf_init(&b, SK_NOTIFY_BODY_MAX);
	sk_buf_printf(&b, "%s (%s) からのお知らせです。\n\n",
		      sk_policy_organization(p) ? sk_policy_organization(p) : "sekisho", t->ja);
	sk_ledger_reminder_text(x->s->ledger, kind, t, r, SK_LANG_JA, &b);
	if (g.console_url)
		sk_buf_printf(&b, "\n画面: %s#/ledgers/%s/%s\n", g.console_url, t->name, r->id);
	sk_buf_printf(&b, "\n-- \nこのメールは sekisho が台帳から自動で送っています (同じ内容は一度だけ)。\n\n"
			  "---------------------------------------- English\n\n"
			  "A reminder from the ledger (%s).\n\n",
		      t->en);
	sk_ledger_reminder_text(x->s->ledger, kind, t, r, SK_LANG_EN, &b);
	if (g.console_url)
		sk_buf_printf(&b, "\nConsole: %s#/ledgers/%s/%s\n", g.console_url, t->name, r->id);
	sk_buf_adds(&b, "\n-- \nThis message was sent by sekisho from the ledgers (once for each).\n");
	sk_error e;
	sk_error_clear(&e);
	int rc = sk_notify_send(sendmail, from, to, nto, subject, sk_buf_str(&b), &e);
	sk_buf_free(&b);
	if (rc) {
		SKD_EVENT(SKD_WARNING, "remind-error", "台帳の通知メールを送れませんでした (明日また送ります)",
			  "the ledger reminder could not be sent (tried again tomorrow)",
			  SKD_S("record", obj), SKD_S("error", e.msg));
		sk_error e2;
		sk_audit_append(x->s->audit, "sekisho", "notify", obj, "failed", e.msg, NULL, &e2);
		x->failed++;
		return rc;
	}
	SKD_EVENT(SKD_INFO, "remind", "台帳の通知メールを送りました", "ledger reminder sent",
		  SKD_S("record", obj), SKD_S("kind", remind_subject[kind][1]), SKD_N("recipients", nto));
	x->sent++;
	return 0;
}

static void remind(struct sched *s)
{
	sk_error e;
	sk_error_clear(&e);
	if (!s->ledger) {
		sk_ledger_options lo = {.lang = s->d->cfg.lang};
		if (sk_ledger_open(s->d->cfg.state, s->audit, s->d->policy, &lo, &s->ledger, &e) != 0) {
			SKD_EVENT(SKD_ERR, "remind-error", "台帳を開けません (通知を送れません)",
				  "cannot open the ledgers (no reminders sent)", SKD_S("error", e.msg));
			return;
		}
	}
	struct remind x = {.s = s};
	ledger_all_mails(&x);
	sk_auth_settings as;
	sk_auth_settings_from_policy(s->d->policy, &as);
	if (sk_auth_open(s->d->cfg.state, s->audit, &as, NULL, &x.auth, &e) != 0)
		x.auth = NULL; /* requesters from the policy's users only */
	int rc = sk_ledger_reminders(s->ledger, SKD_REMIND_DAYS, remind_one, &x, &e);
	sk_auth_close(x.auth);
	if (rc < 0 && !x.failed)
		SKD_EVENT(SKD_ERR, "remind-error", "台帳の通知を求められません",
			  "cannot work out the ledger reminders", SKD_S("error", e.msg));
	else /* every round, also when nothing was due */
		SKD_EVENT(x.failed ? SKD_WARNING : SKD_INFO, "reminders", "台帳の通知の確認を終えました",
			  "ledger reminders done", SKD_N("sent", x.sent), SKD_N("failed", x.failed));
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
	int64_t next_purge = skd_now_us(), next_remind = skd_now_us();
	for (;;) {
		if (checkpoint_if_due(&s, &e) != 0)
			SKD_EVENT(SKD_ERR, "checkpoint-error", "チェックポイントを作れません",
				  "checkpoint failed", SKD_S("error", e.msg));
		if (skd_now_us() >= next_purge) {
			purge(&s);
			next_purge = skd_now_us() + (int64_t)SKD_PURGE_EVERY * 1000;
		}
		if (skd_now_us() >= next_remind) {
			remind(&s);
			next_remind = skd_now_us() + SKD_REMIND_EVERY;
		}
		struct pollfd p = {.fd = sfd, .events = POLLIN};
		if (poll(&p, 1, 1000 * SKD_CHECKPOINT_LAG / 2) > 0)
			break; /* stop: the master signs the final checkpoint after every role */
	}
	sk_ledger_close(s.ledger);
	sk_audit_close(s.audit);
	return SKD_EXIT_OK;
}
