/* The gate's hold on an office pool for the convert hook (see sk_gate_office_new in
 * include/sekisho/core.h). */
#include "sekisho/core.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RETRY_NS (60ull * 1000000000ull) /* a pool that could not be opened: again after */

struct sk_gate_office {
	pthread_mutex_t mu;
	sk_office_config cfg;
	char *worker, *user; /* the copies cfg points at */
	sk_office *o;
	uint64_t failed_ns; /* when opening last failed (0: never) */
	char why[160];      /* … and why */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Opens the pool (in the background) unless it is open or failed less than a minute ago.
 * Called with g->mu held. */
static sk_office *hold(sk_gate_office *g)
{
	if (g->o)
		return g->o;
	if (g->failed_ns && now_ns() - g->failed_ns < RETRY_NS)
		return NULL;
	sk_error e;
	sk_error_clear(&e);
	if (sk_office_open(&g->cfg, &g->o, &e) != 0) {
		g->o = NULL;
		g->failed_ns = now_ns();
		if (!g->failed_ns)
			g->failed_ns = 1;
		snprintf(g->why, sizeof(g->why), "%.150s", e.msg[0] ? e.msg : "office pool");
	}
	return g->o;
}

int sk_gate_office_new(const sk_office_config *cfg, bool lazy, sk_gate_office **out,
		       sk_error *err)
{
	sk_gate_office *g = calloc(1, sizeof(*g));
	if (!g)
		return sk_error_set(err, SK_ENOMEM, "office");
	if (cfg)
		g->cfg = *cfg;
	else
		sk_office_config_default(&g->cfg);
	g->cfg.background = true;
	if ((cfg && cfg->worker && !(g->worker = strdup(cfg->worker))) ||
	    (cfg && cfg->user && !(g->user = strdup(cfg->user)))) {
		free(g->worker);
		free(g);
		return sk_error_set(err, SK_ENOMEM, "office");
	}
	g->cfg.worker = g->worker;
	g->cfg.user = g->user;
	pthread_mutex_init(&g->mu, NULL);
	if (!lazy) {
		pthread_mutex_lock(&g->mu);
		hold(g);
		pthread_mutex_unlock(&g->mu);
	}
	*out = g;
	return 0;
}

void sk_gate_office_free(sk_gate_office *g)
{
	if (!g)
		return;
	sk_office_close(g->o);
	pthread_mutex_destroy(&g->mu);
	free(g->worker);
	free(g->user);
	free(g);
}

int sk_gate_office_convert(void *ctx, sk_convert *c, const uint8_t *p, size_t n,
			   const sk_budget *b, sk_buf *out, sk_reason *reason, sk_error *err)
{
	sk_gate_office *g = ctx;
	const char *from = c->from;
	pthread_mutex_lock(&g->mu);
	sk_office *o = hold(g);
	char why[160];
	snprintf(why, sizeof(why), "%s", g->why);
	pthread_mutex_unlock(&g->mu);
	if (!o) {
		/* nothing can convert here: refused as if no conversion were configured (画像化
		 * of a type that has no unsupported-* reason: internal-error) */
		const char *t = sk_office_target(from);
		*reason = !t ? (c->target == SK_CONVERT_IMAGE && sk_office_image_from(from)
					? SK_REASON_INTERNAL
					: SK_REASON_UNKNOWN_TYPE)
			  : !strcmp(from, "rtf") ? SK_REASON_UNSUPPORTED_RTF
			  : (!strcmp(from, "odt") || !strcmp(from, "ods") || !strcmp(from, "odp"))
				  ? SK_REASON_UNSUPPORTED_ODF
				  : SK_REASON_UNSUPPORTED_LEGACY_OFFICE;
		return sk_error_set(err, SK_EFORMAT, "office pool unavailable: %.120s", why);
	}
	/* the pool lives as long as g: sk_office_convert is thread-safe */
	if (c->target == SK_CONVERT_OOXML)
		return sk_office_convert(o, from, p, n, b, out, reason, err);
	if (c->target != SK_CONVERT_IMAGE) {
		*reason = SK_REASON_INTERNAL;
		return sk_error_set(err, SK_EINVAL, "convert: no such target");
	}
	sk_render_options ro;
	sk_render_options_default(&ro);
	if (c->dpi)
		ro.dpi = c->dpi;
	if (c->max_pages)
		ro.max_pages = c->max_pages;
	sk_render_info info;
	int rc = sk_office_image_document(o, from, p, n, &ro, b, out, &info, reason, err);
	if (rc == 0) {
		c->pages = info.rendered;
		sk_render_ocr_note(&info, c->note, sizeof(c->note));
	}
	return rc;
}

bool sk_gate_office_stats(sk_gate_office *g, sk_office_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (!g)
		return false;
	pthread_mutex_lock(&g->mu);
	sk_office *o = g->o;
	pthread_mutex_unlock(&g->mu);
	if (!o)
		return false;
	sk_office_stats_get(o, st);
	return true;
}
