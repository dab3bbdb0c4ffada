/* sekishod — settings: the command line over the policy's `gateway` section. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

static int dup_to(char **dst, const char *a, const char *b, const char *def)
{
	const char *v = a ? a : b ? b : def;
	*dst = NULL;
	if (!v)
		return 0;
	return (*dst = strdup(v)) ? 0 : SK_ENOMEM;
}

void skd_config_free(skd_config *cfg)
{
	free(cfg->policy_path);
	free(cfg->state);
	free(cfg->user);
	free(cfg->milter);
	free(cfg->milter_from);
	free(cfg->milter_to);
	free(cfg->milter_group);
	free(cfg->metrics);
	free(cfg->events);
	free(cfg->clamd);
	for (size_t i = 0; i < cfg->nspool; i++) {
		skd_spool *s = &cfg->spool[i];
		free(s->id);
		free(s->from);
		free(s->to);
		free(s->drop);
		free(s->deliver);
		free(s->class_level);
	}
	free(cfg->spool);
	for (size_t i = 0; i < cfg->nhttp; i++) {
		free(cfg->http[i].zone);
		free(cfg->http[i].addr);
	}
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->web);
	free(cfg->console_zone);
	memset(cfg, 0, sizeof(*cfg));
}

#ifndef SKD_WEBDIR
#define SKD_WEBDIR "/usr/local/share/sekisho/web"
#endif

/* One listener "ZONE=ADDR:PORT": the zone must be one the policy defines, and never
 * mynumber (the policy names no console exception for it). */
static int http_add(skd_config *cfg, const sk_policy *pol, const char *spec, sk_error *err)
{
	const char *eq = strchr(spec, '=');
	if (!eq || eq == spec || !eq[1] || !strchr(eq + 1, ':'))
		return sk_error_set(err, SK_EINVAL, "--http %s: ZONE=ADDR:PORT", spec);
	if (cfg->nhttp >= SKD_HTTP_MAX)
		return sk_error_set(err, SK_ELIMIT, "--http: at most %d listeners", SKD_HTTP_MAX);
	skd_http *h = &cfg->http[cfg->nhttp];
	if (!(h->zone = strndup(spec, (size_t)(eq - spec))) || !(h->addr = strdup(eq + 1))) {
		free(h->zone);
		h->zone = NULL;
		return SK_ENOMEM;
	}
	cfg->nhttp++;
	if (!sk_policy_has_zone(pol, h->zone))
		return sk_error_set(err, SK_EINVAL, "--http %s: the policy has no zone %s", spec,
				    h->zone);
	if (!strcmp(h->zone, "mynumber"))
		return sk_error_set(err, SK_EINVAL,
				    "--http %s: the mynumber zone gets no listener (三層の対策)", spec);
	return 0;
}

int skd_config_build(skd_config *cfg, const skd_args *a, const sk_policy *pol, sk_error *err)
{
	memset(cfg, 0, sizeof(*cfg));
	sk_policy_gateway g;
	sk_policy_gateway_get(pol, &g);
	cfg->lang = a->lang;
	cfg->workers = a->workers >= 0 ? a->workers : g.workers >= 0 ? g.workers : 0;
	/* --metrics PORT means 127.0.0.1:PORT */
	char metrics[80] = "";
	if (a->metrics && !strchr(a->metrics, ':'))
		snprintf(metrics, sizeof(metrics), "127.0.0.1:%s", a->metrics);
	int rc = 0;
	rc = rc ? rc : dup_to(&cfg->policy_path, a->policy, NULL, NULL);
	rc = rc ? rc : dup_to(&cfg->state, a->state, g.state, NULL);
	rc = rc ? rc : dup_to(&cfg->user, a->user, g.user, "sekisho");
	rc = rc ? rc : dup_to(&cfg->milter, a->milter, g.milter, NULL);
	rc = rc ? rc : dup_to(&cfg->milter_from, g.milter_from, NULL, NULL);
	rc = rc ? rc : dup_to(&cfg->milter_to, g.milter_to, NULL, NULL);
	rc = rc ? rc : dup_to(&cfg->milter_group, g.milter_group, NULL, NULL);
	/* --milter SOCKET uses the zones of the policy's gateway.milter: without them the
	 * milter's mail would have no flow (the checker demands them with the socket) */
	if (!rc && cfg->milter && (!cfg->milter_from || !cfg->milter_to)) {
		skd_config_free(cfg);
		return sk_error_set(err, SK_EINVAL,
				    "--milter: the policy's gateway.milter names no zones (from, to)");
	}
	rc = rc ? rc : dup_to(&cfg->metrics, *metrics ? metrics : a->metrics, g.metrics, NULL);
	rc = rc ? rc : dup_to(&cfg->events, a->events, g.events, "stderr");
	rc = rc ? rc : dup_to(&cfg->clamd, a->clamd, g.clamd, NULL);
	if (!rc && g.nspool && !(cfg->spool = calloc(g.nspool, sizeof(*cfg->spool))))
		rc = SK_ENOMEM;
	for (size_t i = 0; !rc && i < g.nspool; i++) {
		const sk_policy_spool *p = &g.spool[i];
		skd_spool *s = &cfg->spool[i];
		cfg->nspool++;
		rc = rc ? rc : dup_to(&s->id, p->id, NULL, NULL);
		rc = rc ? rc : dup_to(&s->from, p->from, NULL, NULL);
		rc = rc ? rc : dup_to(&s->to, p->to, NULL, NULL);
		rc = rc ? rc : dup_to(&s->drop, p->drop, NULL, NULL);
		rc = rc ? rc : dup_to(&s->deliver, p->deliver, NULL, NULL);
		rc = rc ? rc : dup_to(&s->class_level, p->class_level, NULL, NULL);
	}
	/* the http role: --http listeners (they replace the policy's gateway.http) */
	for (size_t i = 0; !rc && i < a->nhttp; i++)
		if ((rc = http_add(cfg, pol, a->http[i], err)) != 0) {
			skd_config_free(cfg);
			return rc;
		}
	for (size_t i = 0; !rc && !a->nhttp && i < g.nhttp; i++) {
		char spec[128];
		const sk_policy_http *h = &g.http[i];
		snprintf(spec, sizeof(spec), strchr(h->addr, ':') ? "%s=[%s]:%u" : "%s=%s:%u",
			 h->zone, h->addr, (unsigned)h->port);
		if ((rc = http_add(cfg, pol, spec, err)) != 0) {
			skd_config_free(cfg);
			return rc;
		}
	}
	rc = rc ? rc : dup_to(&cfg->tls_cert, a->tls_cert, g.tls_cert, NULL);
	rc = rc ? rc : dup_to(&cfg->tls_key, a->tls_key, g.tls_key, NULL);
	rc = rc ? rc : dup_to(&cfg->web, a->web, NULL, SKD_WEBDIR);
	rc = rc ? rc : dup_to(&cfg->console_zone, g.console_zone, NULL, "lgwan");
	if (!rc && cfg->nhttp && (!cfg->tls_cert || !cfg->tls_key)) {
		skd_config_free(cfg);
		return sk_error_set(err, SK_EINVAL,
				    "--http needs --tls-cert and --tls-key (HTTPS only)");
	}
	if (rc) {
		skd_config_free(cfg);
		return sk_error_set(err, rc, "settings");
	}
	return 0;
}
