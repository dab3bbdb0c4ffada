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
	memset(cfg, 0, sizeof(*cfg));
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
	if (rc) {
		skd_config_free(cfg);
		return sk_error_set(err, rc, "settings");
	}
	return 0;
}
