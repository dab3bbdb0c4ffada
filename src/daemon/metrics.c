/* sekishod — counters shared by the roles, and the metrics role: a local HTTP endpoint
 * (libmicrohttpd) in the Prometheus text format (version 0.0.4).
 *
 * The master creates the counters in one shared anonymous mapping before it forks the
 * roles, so counters survive a role's restart; the roles update them with atomic
 * operations; the metrics role only reads them. The listening socket is opened by the
 * master (127.0.0.1 by default) before it drops privileges. */
#include <microhttpd.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "daemon.h"
#include "sekisho/buf.h"

const double skd_lat_bounds[SKD_LAT_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1,
						0.25,  0.5,  1,     5,    30};

void skd_metrics_item(skd_metrics *m, const sk_report *r, int64_t us)
{
	unsigned v = r->verdict <= SK_VERDICT_BLOCKED ? (unsigned)r->verdict : SK_VERDICT_BLOCKED;
	unsigned why = r->verdict == SK_VERDICT_BLOCKED && r->reason < SK_REASON__COUNT
			       ? (unsigned)r->reason
			       : 0;
	atomic_fetch_add(&m->items[v][why], 1);
	if (us < 0)
		us = 0;
	size_t b = 0;
	while (b < SKD_LAT_BUCKETS && (double)us / 1e6 > skd_lat_bounds[b])
		b++;
	atomic_fetch_add(&m->lat_bucket[b], 1);
	atomic_fetch_add(&m->lat_sum_us, (uint64_t)us);
	atomic_fetch_add(&m->lat_count, 1);
}

/* label value: '\', '"' and newline escaped */
static void label(sk_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			sk_buf_addc(b, '\\');
		if (*s == '\n')
			sk_buf_adds(b, "\\n");
		else
			sk_buf_addc(b, (uint8_t)*s);
	}
}

static void head(sk_buf *b, const char *name, const char *type, const char *help)
{
	sk_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static unsigned long long ld(atomic_uint_least64_t *x)
{
	return (unsigned long long)atomic_load(x);
}

/* The whole exposition text into b. */
static void render(skd_metrics *m, sk_buf *b)
{
	head(b, "sekisho_items_total", "counter", "Items decided, by verdict and reason.");
	for (unsigned v = 0; v < 3; v++)
		for (unsigned r = 0; r < SK_REASON__COUNT; r++) {
			unsigned long long n = ld(&m->items[v][r]);
			if (!n && (v == SK_VERDICT_BLOCKED || r))
				continue;
			sk_buf_printf(b, "sekisho_items_total{verdict=\"%s\",reason=\"%s\"} %llu\n",
				      sk_verdict_code((sk_verdict)v),
				      r ? sk_reason_code((sk_reason)r) : "", n);
		}
	head(b, "sekisho_item_duration_seconds", "histogram",
	     "Time from picking an item up to its recorded decision.");
	unsigned long long cum = 0;
	for (size_t i = 0; i <= SKD_LAT_BUCKETS; i++) {
		cum += ld(&m->lat_bucket[i]);
		if (i < SKD_LAT_BUCKETS)
			sk_buf_printf(b, "sekisho_item_duration_seconds_bucket{le=\"%g\"} %llu\n",
				      skd_lat_bounds[i], cum);
		else
			sk_buf_printf(b, "sekisho_item_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
	}
	sk_buf_printf(b, "sekisho_item_duration_seconds_sum %.6f\n", (double)ld(&m->lat_sum_us) / 1e6);
	sk_buf_printf(b, "sekisho_item_duration_seconds_count %llu\n", ld(&m->lat_count));

	head(b, "sekisho_role_up", "gauge", "1 while the role's process runs.");
	for (size_t i = 0; i < skd_nroles; i++)
		sk_buf_printf(b, "sekisho_role_up{role=\"%s\"} %d\n", skd_roles[i].name,
			      atomic_load(&m->role_up[i]));
	head(b, "sekisho_role_starts_total", "counter", "Processes started per role.");
	for (size_t i = 0; i < skd_nroles; i++)
		sk_buf_printf(b, "sekisho_role_starts_total{role=\"%s\"} %llu\n", skd_roles[i].name,
			      ld(&m->role_starts[i]));
	head(b, "sekisho_role_restarts_total", "counter",
	     "Restarts of a role after its process died.");
	for (size_t i = 0; i < skd_nroles; i++)
		sk_buf_printf(b, "sekisho_role_restarts_total{role=\"%s\"} %llu\n", skd_roles[i].name,
			      ld(&m->role_restarts[i]));
	head(b, "sekisho_spool_queue_depth", "gauge", "Files waiting in a spool flow's drop folder.");
	for (size_t i = 0; i < SK_POLICY_SPOOL_MAX; i++) {
		if (!atomic_load(&m->flow_used[i]))
			continue;
		sk_buf_adds(b, "sekisho_spool_queue_depth{flow=\"");
		char name[sizeof(m->flow[i])];
		memcpy(name, m->flow[i], sizeof(name));
		name[sizeof(name) - 1] = 0;
		label(b, name);
		sk_buf_printf(b, "\"} %llu\n", ld(&m->queue[i]));
	}
	head(b, "sekisho_spool_errors_total", "counter",
	     "Spool files that could not be finished (retried later).");
	sk_buf_printf(b, "sekisho_spool_errors_total %llu\n", ld(&m->spool_errors));
	head(b, "sekisho_policy_reloads_total", "counter", "Policy reloads (SIGHUP), by result.");
	sk_buf_printf(b, "sekisho_policy_reloads_total{result=\"ok\"} %llu\n", ld(&m->reloads));
	sk_buf_printf(b, "sekisho_policy_reloads_total{result=\"refused\"} %llu\n",
		      ld(&m->reloads_refused));
	head(b, "sekisho_audit_checkpoints_total", "counter", "Audit checkpoints signed by the scheduler.");
	sk_buf_printf(b, "sekisho_audit_checkpoints_total %llu\n", ld(&m->checkpoints));
	head(b, "sekisho_quarantine_purged_total", "counter", "Originals removed by the retention purge.");
	sk_buf_printf(b, "sekisho_quarantine_purged_total %llu\n", ld(&m->purged));
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	skd_metrics *m = cls;
	struct MHD_Response *r;
	unsigned status = MHD_HTTP_OK;
	sk_buf b;
	sk_buf_init(&b, 1 << 20);
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		sk_buf_adds(&b, "GET /metrics\n");
	} else if (strcmp(url, "/metrics") && strcmp(url, "/")) {
		status = MHD_HTTP_NOT_FOUND;
		sk_buf_adds(&b, "not found: GET /metrics\n");
	} else {
		render(m, &b);
	}
	const char *s = sk_buf_str(&b);
	r = MHD_create_response_from_buffer(strlen(s), (void *)s, MHD_RESPMEM_MUST_COPY);
	sk_buf_free(&b);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				"text/plain; version=0.0.4; charset=utf-8");
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

int skd_metrics_run(skd *d)
{
	int sfd = skd_role_signalfd();
	if (sfd < 0 || d->metrics_fd < 0)
		return SKD_EXIT_FAIL;
	struct MHD_Daemon *h = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, answer,
		d->metrics, MHD_OPTION_LISTEN_SOCKET, d->metrics_fd, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)16, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
	if (!h) {
		SKD_EVENT(SKD_ERR, "role-error", "metrics の待ち受けを開始できません",
			  "cannot serve metrics", SKD_S("address", d->cfg.metrics));
		return SKD_EXIT_FAIL;
	}
	/* wait for the master's stop request (the signalfd is non-blocking: poll it) */
	struct pollfd p = {.fd = sfd, .events = POLLIN};
	while (poll(&p, 1, -1) < 0)
		;
	MHD_stop_daemon(h);
	return SKD_EXIT_OK;
}
