/* nftables ruleset for the gateway host, generated from the policy.
 *
 * table inet sekisho: input, forward and output all drop by default. Each zone reaches
 * only the gateway listeners its flows need, on the gateway's own address in that zone
 * and through that zone's interface; the gateway delivers mail/web onward to the
 * destination zone on the egress ports; nothing is forwarded between zones except the
 * α′ direct routes from lgwan to declared cloud destinations. Flows that are denied, or
 * whose exception has expired, open nothing (so mynumber gets nothing without one). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policy_int.h"

#define W(call)                    \
	do {                       \
		if ((call) != 0)   \
			bad = true; \
	} while (0)

/* Free text (names) for a comment line: no line breaks or other controls. */
static const char *cmt(const char *s, char *buf, size_t n)
{
	size_t o = 0;
	for (; s && *s && o + 1 < n; s++)
		buf[o++] = (unsigned char)*s < 0x20 || *s == 0x7F ? ' ' : *s;
	buf[o] = 0;
	return buf;
}

struct need {
	int in_ch;  /* channels whose listener this zone must reach */
	int out_ch; /* channels the gateway delivers into this zone */
	char why_in[256], why_out[256];
};

static void note(char *s, size_t n, const char *label)
{
	size_t l = strlen(s);
	if (strstr(s, label))
		return;
	if (l + strlen(label) + 3 < n)
		snprintf(s + l, n - l, "%s%s", l ? ", " : "", label);
}

static bool flow_active(const struct pflow *f, int32_t today)
{
	if (f->act == SK_FLOW_DENY)
		return false;
	if (f->has_exc && sk_pdate_expired(f->exc.expires, today))
		return false;
	return true;
}

static int ports_str(char *b, size_t n, const int *ports, size_t np)
{
	size_t o = 0;
	b[0] = 0;
	for (size_t i = 0; i < np; i++) {
		bool dup = false;
		for (size_t j = 0; j < i; j++)
			dup = dup || ports[j] == ports[i];
		if (dup)
			continue;
		int w = snprintf(b + o, n - o, "%s%d", o ? ", " : "", ports[i]);
		if (w < 0 || (size_t)w >= n - o)
			return SK_ELIMIT;
		o += (size_t)w;
	}
	return 0;
}

/* "{ a, b }" of the networks of one family; false when there is none */
static bool list_str(sk_buf *out, const struct pnet *v, size_t n, int af, bool *badp)
{
	bool bad = false;
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		if (v[i].af != af)
			continue;
		W(sk_buf_adds(out, any ? ", " : "{ "));
		W(sk_buf_adds(out, v[i].text));
		any = true;
	}
	if (any)
		W(sk_buf_adds(out, " }"));
	if (bad)
		*badp = true;
	return any;
}

/* the zone's networks of one family */
static bool nets_str(sk_buf *out, const struct pzone *z, int af, bool *badp)
{
	return list_str(out, z->nets, z->nn, af, badp);
}

static const char *fam_kw(int af)
{
	return af == AF_INET6 ? "ip6" : "ip";
}

/* The address a gateway.http listener is reached on: its own, or for one on every address
 * (0.0.0.0, ::) the gateway's address in its zone, so that a zone never reaches the
 * gateway's addresses in other zones through it. NULL when the zone has none of that
 * family (nothing is opened). */
static const char *listen_addr(const sk_policy *p, const sk_policy_http *h, int *af)
{
	bool any = !strcmp(h->addr, "0.0.0.0") || !strcmp(h->addr, "::");
	if (!any) {
		*af = sk_paddr_family(h->addr);
		return h->addr;
	}
	const struct pzone *zn = sk_pzone_find(p, h->zone);
	*af = strchr(h->addr, ':') ? AF_INET6 : AF_INET;
	return zn && zn->gw_text && zn->gw_af == *af ? zn->gw_text : NULL;
}

/* Is the zone's gateway listener rule already opening addr:port? */
static bool zone_opens(const sk_policy *p, const struct pzone *zn, int in_ch, const char *addr,
		       int port)
{
	if (!zn->gw_text || !zn->iface || strcmp(zn->gw_text, addr))
		return false;
	for (int c = 0; c < 3; c++)
		if ((in_ch & (1 << c)) && p->lis[c].port == port)
			return true;
	return false;
}

/* Input from the administrators (management.admins): sshd, the console's listeners, ping. */
static void mgmt_input(const sk_policy *p, sk_buf *out, bool *badp)
{
	bool bad = false;
	const struct pmgmt *g = &p->mgmt;
	char ps[128], ifs[40] = "";
	if (!g->present) {
		W(sk_buf_adds(out, "\t\t# no management section: nothing opened for SSH or administrators\n"));
		goto done;
	}
	if (!g->nadmins) {
		W(sk_buf_adds(out, "\t\t# management.admins is empty: nobody reaches SSH\n"));
		goto done;
	}
	if (g->iface)
		snprintf(ifs, sizeof(ifs), "iifname \"%s\" ", g->iface);
	ports_str(ps, sizeof(ps), g->ssh, g->nssh);
	W(sk_buf_printf(out, "\t\t# management.admins: %s%s%s%sping\n", g->nssh ? "ssh (" : "",
		      g->nssh ? ps : "", g->nssh ? "), " : "",
		      g->console && p->nhttp ? "console, " : ""));
	for (int af = 0; af < 2; af++) {
		int fam = af ? AF_INET6 : AF_INET;
		sk_buf set;
		sk_buf_init(&set, 65536);
		if (!list_str(&set, g->admins, g->nadmins, fam, &bad)) {
			sk_buf_free(&set);
			continue;
		}
		const char *fs = fam_kw(fam), *from = sk_buf_str(&set);
		if (g->nssh)
			W(sk_buf_printf(out, "\t\t%s%s saddr %s tcp dport { %s } accept\n", ifs, fs, from, ps));
		/* the console: the HTTPS listeners of the console's zone */
		for (size_t i = 0; g->console && i < p->nhttp; i++) {
			const sk_policy_http *h = &p->http[i];
			int haf;
			const char *da = listen_addr(p, h, &haf);
			if (strcmp(h->zone, p->gw.console_zone ? p->gw.console_zone : "lgwan") || !da ||
			    haf != fam)
				continue;
			W(sk_buf_printf(out, "\t\t%s%s saddr %s %s daddr %s tcp dport %u accept\n", ifs, fs,
				      from, fs, da, (unsigned)h->port));
		}
		W(sk_buf_printf(out, "\t\t%s%s saddr %s %s type echo-request accept\n", ifs, fs, from,
			      af ? "icmpv6" : "icmp"));
		sk_buf_free(&set);
	}
done:
	if (bad)
		*badp = true;
}

/* One rule per family and protocol: output to the addresses to on ports. */
static void out_rules(sk_buf *out, const struct pnet *to, size_t nto, const int *ports, size_t np,
		      int proto, bool *badp)
{
	bool bad = false;
	char ps[128];
	ports_str(ps, sizeof(ps), ports, np);
	for (int af = 0; af < 2; af++) {
		int fam = af ? AF_INET6 : AF_INET;
		sk_buf set;
		sk_buf_init(&set, 65536);
		if (list_str(&set, to, nto, fam, &bad))
			for (int pr = PROTO_UDP; pr >= PROTO_TCP; pr >>= 1)
				if (proto & pr)
					W(sk_buf_printf(out, "\t\t%s daddr %s %s dport { %s } accept\n", fam_kw(fam),
						      sk_buf_str(&set), pr == PROTO_UDP ? "udp" : "tcp", ps));
		sk_buf_free(&set);
	}
	if (bad)
		*badp = true;
}

/* The host's own connections: management.services, and the clamd and syslog servers the
 * gateway section names by address. */
static void mgmt_output(const sk_policy *p, sk_buf *out, bool *badp)
{
	bool bad = false;
	char cb[160];
	const struct pmgmt *g = &p->mgmt;
	for (size_t i = 0; i < g->nsvc; i++) {
		const struct psvc *s = &g->svc[i];
		W(sk_buf_printf(out, "\t\t# management.services.%s\n", s->id));
		out_rules(out, s->to, s->nto, s->ports, s->nports, s->proto, &bad);
	}
	/* gateway.clamd tcp:ADDR:PORT and gateway.events syslog:udp:ADDR:PORT */
	const char *spec[2] = {p->gw.clamd && !strncmp(p->gw.clamd, "tcp:", 4) ? p->gw.clamd + 4 : NULL,
			       p->gw.events && !strncmp(p->gw.events, "syslog:udp:", 11) ? p->gw.events + 11
										       : NULL};
	for (int k = 0; k < 2; k++) {
		char addr[64];
		long port;
		if (!spec[k])
			continue;
		const char *what = k ? "gateway.events" : "gateway.clamd";
		if (!sk_paddr_port(spec[k], addr, sizeof(addr), &port)) {
			W(sk_buf_printf(out, "\t\t# %s names a host (%s): give its address in management.services\n",
				      what, cmt(spec[k], cb, sizeof(cb))));
			continue;
		}
		int af = sk_paddr_family(addr);
		if ((af == AF_INET && !strncmp(addr, "127.", 4)) || !strcmp(addr, "::1"))
			continue; /* loopback: oif lo */
		struct pnet n = {.af = af, .text = addr};
		int pt = (int)port;
		W(sk_buf_printf(out, "\t\t# %s\n", what));
		out_rules(out, &n, 1, &pt, 1, k ? PROTO_UDP : PROTO_TCP, &bad);
	}
	if (bad)
		*badp = true;
}

int sk_policy_nft(const sk_policy *p, int32_t today, sk_buf *out, sk_error *err)
{
	if (!today)
		today = sk_policy_today();
	bool bad = false;
	char cb[128];
	struct need *nd = calloc(p->nz ? p->nz : 1, sizeof(*nd));
	if (!nd)
		return sk_error_set(err, SK_ENOMEM, "nft");
	for (size_t i = 0; i < p->nf; i++) {
		const struct pflow *f = &p->f[i];
		if (!flow_active(f, today))
			continue;
		for (size_t z = 0; z < p->nz; z++) {
			const struct pzone *zn = &p->z[z];
			if (zn->cloud)
				continue;
			bool from = !strcmp(f->from, "any") ? strcmp(f->to, zn->id) != 0 : !strcmp(f->from, zn->id);
			const struct pzone *tz = sk_pzone_find(p, f->to);
			const char *to_zone = tz && tz->cloud ? tz->in_zone : f->to;
			bool to = !strcmp(f->to, "any") ? strcmp(f->from, zn->id) != 0 : !strcmp(to_zone, zn->id);
			if (tz && tz->cloud && f->act == SK_FLOW_ALLOW)
				continue; /* a direct route: forward chain */
			if (from) {
				nd[z].in_ch |= f->ch;
				note(nd[z].why_in, sizeof(nd[z].why_in), f->label);
			}
			if (to) {
				/* files are fetched from the download page in the destination zone;
				 * mail and web are delivered by the gateway */
				if (f->ch & CH_FILE) {
					nd[z].in_ch |= CH_FILE;
					note(nd[z].why_in, sizeof(nd[z].why_in), f->label);
				}
				if (f->ch & (CH_MAIL | CH_WEB)) {
					nd[z].out_ch |= f->ch & (CH_MAIL | CH_WEB);
					note(nd[z].why_out, sizeof(nd[z].why_out), f->label);
				}
			}
		}
	}
	char ds[16];
	snprintf(ds, sizeof(ds), "%04d-%02d-%02d", today / 10000, today / 100 % 100, today % 100);
	W(sk_buf_printf(out,
		      "#!/usr/sbin/nft -f\n"
		      "# Generated by `sekisho policy nft` from the policy \"%s\" as of %s.\n"
		      "# Do not edit: change the policy file and generate again.\n"
		      "# Zones talk only to the gateway's listeners; nothing is forwarded between zones.\n"
		      "table inet sekisho\n"
		      "delete table inet sekisho\n"
		      "table inet sekisho {\n",
		      cmt(p->name, cb, sizeof(cb)), ds));
	/* input */
	W(sk_buf_adds(out, "\tchain input {\n"
			 "\t\ttype filter hook input priority filter; policy drop;\n"
			 "\t\tct state established,related accept\n"
			 "\t\tct state invalid drop\n"
			 "\t\tiif \"lo\" accept\n"
			 "\t\t# IPv6 neighbour discovery (the IPv4 counterpart, ARP, is not filtered here)\n"
			 "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept\n"));
	for (size_t z = 0; z < p->nz; z++) {
		const struct pzone *zn = &p->z[z];
		if (zn->cloud)
			continue;
		int ports[3];
		size_t np = 0;
		for (int c = 0; c < 3; c++)
			if (nd[z].in_ch & (1 << c))
				ports[np++] = p->lis[c].port;
		char ps[64];
		ports_str(ps, sizeof(ps), ports, np);
		if (!np || !zn->iface || !zn->gw_text) {
			W(sk_buf_printf(out, "\t\t# zone %s (%s): no listener%s\n", zn->id, cmt(zn->name, cb, sizeof(cb)),
				      !strcmp(zn->id, "mynumber") ? " (no flow with a valid exception)" : ""));
			continue;
		}
		W(sk_buf_printf(out, "\t\t# zone %s (%s): %s%s%s%s%s%s — %s\n", zn->id, cmt(zn->name, cb, sizeof(cb)),
			      nd[z].in_ch & CH_MAIL ? "mail " : "", nd[z].in_ch & CH_FILE ? "file " : "",
			      nd[z].in_ch & CH_WEB ? "web " : "", "(", ps, ")", nd[z].why_in));
		const char *fam = zn->gw_af == AF_INET ? "ip" : "ip6";
		W(sk_buf_printf(out, "\t\tiifname \"%s\" %s saddr ", zn->iface, fam));
		if (!nets_str(out, zn, zn->gw_af, &bad))
			W(sk_buf_adds(out, "{ }")); /* cannot happen: the gateway is inside its networks */
		W(sk_buf_printf(out, " %s daddr %s tcp dport { %s } accept\n", fam, zn->gw_text, ps));
	}
	/* the HTTPS listeners of gateway.http (console, upload portal), each from its zone */
	for (size_t i = 0; i < p->nhttp; i++) {
		const sk_policy_http *h = &p->http[i];
		const struct pzone *zn = sk_pzone_find(p, h->zone);
		if (!zn || zn->cloud || !zn->iface)
			continue;
		size_t zi = (size_t)(zn - p->z);
		int af;
		const char *da = listen_addr(p, h, &af);
		if (!da || zone_opens(p, zn, nd[zi].in_ch, da, h->port))
			continue;
		sk_buf tmp;
		sk_buf_init(&tmp, 65536);
		if (nets_str(&tmp, zn, af, &bad)) {
			W(sk_buf_printf(out, "\t\t# gateway.http: %s listener (%s%s%s:%u)\n",
				      !strcmp(zn->id, p->gw.console_zone ? p->gw.console_zone : "lgwan")
					      ? "console"
					      : "upload",
				      af == AF_INET6 ? "[" : "", h->addr, af == AF_INET6 ? "]" : "",
				      (unsigned)h->port));
			W(sk_buf_printf(out, "\t\tiifname \"%s\" %s saddr %s %s daddr %s tcp dport %u accept\n",
				      zn->iface, fam_kw(af), sk_buf_str(&tmp), fam_kw(af), da,
				      (unsigned)h->port));
		}
		sk_buf_free(&tmp);
	}
	mgmt_input(p, out, &bad);
	W(sk_buf_adds(out, "\t}\n"));
	/* forward */
	W(sk_buf_adds(out, "\tchain forward {\n"
			 "\t\ttype filter hook forward priority filter; policy drop;\n"
			 "\t\t# nothing is forwarded between zones\n"));
	for (size_t i = 0; i < p->nf; i++) {
		const struct pflow *f = &p->f[i];
		const struct pzone *tz = sk_pzone_find(p, f->to);
		if (!flow_active(f, today) || f->act != SK_FLOW_ALLOW || !tz || !tz->cloud)
			continue;
		const struct pzone *fz = sk_pzone_find(p, f->from), *via = sk_pzone_find(p, tz->in_zone);
		if (!fz || !via || !fz->iface || !via->iface)
			continue;
		char ps[128];
		ports_str(ps, sizeof(ps), tz->ports, tz->nports);
		W(sk_buf_printf(out, "\t\t# alpha' direct route %s -> cloud %s (%s)\n", fz->id, tz->id, f->label));
		for (int af = 0; af < 2; af++) {
			int fam = af ? AF_INET6 : AF_INET;
			sk_buf tmp;
			sk_buf_init(&tmp, 4096);
			bool a = nets_str(&tmp, fz, fam, &bad);
			size_t mid = tmp.len;
			bool b = nets_str(&tmp, tz, fam, &bad);
			if (a && b) {
				const char *fs = af ? "ip6" : "ip";
				W(sk_buf_printf(out, "\t\tiifname \"%s\" oifname \"%s\" %s saddr %.*s %s daddr %s tcp dport { %s } accept\n",
					      fz->iface, via->iface, fs, (int)mid, (const char *)tmp.data, fs,
					      (const char *)tmp.data + mid, ps));
				W(sk_buf_printf(out, "\t\tiifname \"%s\" oifname \"%s\" ct state established,related accept\n",
					      via->iface, fz->iface));
			}
			sk_buf_free(&tmp);
		}
	}
	W(sk_buf_adds(out, "\t}\n"));
	/* output */
	W(sk_buf_adds(out, "\tchain output {\n"
			 "\t\ttype filter hook output priority filter; policy drop;\n"
			 "\t\tct state established,related accept\n"
			 "\t\toif \"lo\" accept\n"
			 "\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept\n"));
	for (size_t z = 0; z < p->nz; z++) {
		const struct pzone *zn = &p->z[z];
		if (zn->cloud || !nd[z].out_ch || !zn->iface)
			continue;
		int ports[16];
		size_t np = 0;
		for (int c = 0; c < 3; c++)
			if (nd[z].out_ch & (1 << c))
				for (size_t e = 0; e < p->lis[c].ne && np < 16; e++)
					ports[np++] = p->lis[c].egress[e];
		if (!np)
			continue;
		char ps[128];
		ports_str(ps, sizeof(ps), ports, np);
		W(sk_buf_printf(out, "\t\t# delivery into zone %s — %s\n", zn->id, nd[z].why_out));
		for (int af = 0; af < 2; af++) {
			sk_buf tmp;
			sk_buf_init(&tmp, 4096);
			if (nets_str(&tmp, zn, af ? AF_INET6 : AF_INET, &bad))
				W(sk_buf_printf(out, "\t\toifname \"%s\" %s daddr %s tcp dport { %s } accept\n",
					      zn->iface, af ? "ip6" : "ip", (const char *)tmp.data, ps));
			sk_buf_free(&tmp);
		}
	}
	/* sanitised items to a cloud destination leave through its zone */
	for (size_t i = 0; i < p->nf; i++) {
		const struct pflow *f = &p->f[i];
		const struct pzone *tz = sk_pzone_find(p, f->to);
		if (!flow_active(f, today) || f->act == SK_FLOW_ALLOW || !tz || !tz->cloud)
			continue;
		const struct pzone *via = sk_pzone_find(p, tz->in_zone);
		if (!via || !via->iface)
			continue;
		char ps[128];
		ports_str(ps, sizeof(ps), tz->ports, tz->nports);
		for (int af = 0; af < 2; af++) {
			sk_buf tmp;
			sk_buf_init(&tmp, 4096);
			if (nets_str(&tmp, tz, af ? AF_INET6 : AF_INET, &bad))
				W(sk_buf_printf(out, "\t\t# delivery to cloud %s (%s)\n\t\toifname \"%s\" %s daddr %s tcp dport { %s } accept\n",
					      tz->id, f->label, via->iface, af ? "ip6" : "ip",
					      (const char *)tmp.data, ps));
			sk_buf_free(&tmp);
		}
	}
	mgmt_output(p, out, &bad);
	W(sk_buf_adds(out, "\t}\n}\n"));
	int rc = bad ? SK_ENOMEM : 0;
	free(nd);
	if (rc)
		return sk_error_set(err, rc, "nft output");
	return 0;
}
