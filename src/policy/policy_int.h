/* Internal to the policy module: the YAML tree with positions, diagnostics, the model. */
#ifndef SK_POLICY_INT_H
#define SK_POLICY_INT_H

#include <stdarg.h>

#include "sekisho/policy.h"

/* ---- YAML tree (policy_yaml.c) ---- */
enum { PN_SCALAR, PN_SEQ, PN_MAP };

typedef struct pnode {
	int t;
	char *s;           /* scalar value (NUL-terminated) */
	size_t sl;
	uint32_t line, col; /* 1-based */
	bool plain;        /* unquoted scalar */
	struct pnode **k;  /* SEQ: items; MAP: key, value, key, value … */
	size_t n, cap;
} pnode;

#define PN_MAX_NODES 200000
#define PN_MAX_DEPTH 32

/* Builds the tree of the first document; syntax problems become E-YAML-* diagnostics.
 * Returns 0 (root may be NULL for an empty file), SK_EFORMAT after a syntax error,
 * SK_ENOMEM. */
int sk_pyaml_load(const char *text, size_t n, pnode **root, sk_policy_diags *d);
void sk_pyaml_free(pnode *n);

/* ---- diagnostics ---- */
/* ja and en are printf formats taking the same arguments. */
void sk_pdiag(sk_policy_diags *d, sk_diag_level lv, const char *code, const pnode *at,
	      const char *ja, const char *en, ...) __attribute__((format(printf, 5, 7)));
void sk_pdiag_at_v(sk_policy_diags *d, sk_diag_level lv, const char *code, uint32_t line,
		   uint32_t col, const char *ja, const char *en, ...)
	__attribute__((format(printf, 6, 8)));

/* ---- the model (policy.c) ---- */
enum { CH_MAIL = 1, CH_FILE = 2, CH_WEB = 4, CH_ANY = 7 };

struct pnet {
	int af; /* AF_INET / AF_INET6 */
	uint8_t a[16];
	int plen;
	const char *text;
	const pnode *n;
};

struct pzone {
	const char *id, *name, *name_en, *iface, *gw_text;
	int gw_af;
	uint8_t gw[16];
	struct pnet *nets;
	size_t nn;
	bool cloud;
	const char *in_zone;  /* cloud: the zone it is reached through (internet) */
	int ports[16];        /* cloud: TCP ports */
	size_t nports;
	const pnode *n;
};

struct pexc {
	const char *id, *reason, *approver;
	int32_t expires;
	const pnode *n, *exp_node;
};

struct pflow {
	const char *id;
	char label[96];
	const char *from, *to; /* zone/cloud id or "any" */
	int ch;
	sk_flow_action act;
	const char *profile, *role;
	bool has_exc;
	struct pexc exc;
	sk_dlp_action dlp[SK_DLP__COUNT];
	sk_dlp_action unscannable;
	bool dlp_set[SK_DLP__COUNT + 1];
	const pnode *n, *act_node;
};

struct phandling {
	size_t dim;
	size_t level; /* index in the dimension's levels (0 = highest) */
	const char *to; /* zone, cloud, "any" or "other-zones" */
	int ch;
	sk_flow_action act;
	const char *role;
	const char *desc; /* `description`, NULL when none */
	const pnode *n;
};

struct pdim {
	const char *name;
	const char **levels;
	size_t nl;
	size_t def;
};

struct prole {
	const char *id, *name, *name_en;
	uint32_t perms; /* SK_PERM_* */
};

struct psection {
	const char *id, *name, *name_en;
};

struct puser {
	const char *id, *name;
	const char **roles;
	size_t nr;
	const char *section, *mail; /* NULL when not given */
};

struct pprofile {
	sk_profile p;
	const char *mail_html, *mail_attachments;
};

struct plistener {
	int port;
	int egress[8];
	size_t ne;
};

/* management: who administers the gateway host, and what the host itself reaches */
enum { PROTO_TCP = 1, PROTO_UDP = 2 };
#define PMGMT_PORTS 16

struct psvc {
	const char *id;      /* dns, ntp, syslog, smtp, proxy, http, https or the policy's own */
	struct pnet *to;     /* addresses / networks the host may reach */
	size_t nto;
	int ports[PMGMT_PORTS];
	size_t nports;
	int proto;           /* PROTO_TCP | PROTO_UDP */
	const pnode *n;
};

struct pmgmt {
	bool present;
	struct pnet *admins; /* addresses / networks allowed to administer */
	size_t nadmins;
	const char *iface;   /* only through this interface; NULL: any */
	int ssh[8];          /* sshd ports (default 22) */
	size_t nssh;
	bool console;        /* admins also reach the console's HTTPS listeners (default true) */
	struct psvc *svc;
	size_t nsvc;
};

struct sk_policy {
	pnode *root;
	const char *name;
	struct pzone *z;
	size_t nz;
	struct pflow *f;
	size_t nf;
	struct pprofile *prof;
	size_t nprof;
	struct pdim *dims;
	size_t ndims;
	struct phandling *h;
	size_t nh;
	struct prole *roles;
	size_t nroles;
	struct puser *users;
	size_t nusers;
	const char *organization;
	struct psection *sections;
	size_t nsections;
	sk_policy_auth auth;
	uint32_t approvals, approvals_original;
	sk_policy_http *http;
	size_t nhttp;
	struct plistener lis[3]; /* mail, file, web */
	struct pmgmt mgmt;
	/* dlp */
	sk_dlp_config dlpc;
	const char **deny, **myw, **corpw, **assetw;
	size_t ndeny, nmyw, ncorpw, nassetw;
	sk_dlp_pattern *pats;
	size_t npats;
	sk_dlp_action dlp_default[SK_DLP__COUNT];
	sk_dlp_action dlp_unscannable;
	const char *dlp_role;
	uint32_t ret_quarantine, ret_audit;
	const char **chain; /* incidents.chain: role ids, in escalation order */
	size_t nchain;
	/* gateway (how sekishod runs) */
	sk_policy_gateway gw;
	sk_policy_milter_dir milter_dirs[SK_POLICY_MILTER_MAX];
	const char **internal; /* internal_domains, NULL-terminated (NULL: none given) */
	size_t ninternal;
	sk_policy_spool *spools;
	char (*spool_ids)[136]; /* generated "FROM-TO" ids */
	size_t nspools;
	sk_dlp *dlp; /* compiled once at load, used by the gate (sk_policy_detectors) */
	/* allocations owned by the policy */
	void **owned;
	size_t nowned, capowned;
};

int sk_pchannel_mask(const char *s); /* 0 when unknown */
const char *sk_pchannel_name(int bit);
const struct pzone *sk_pzone_find(const sk_policy *p, const char *id);
bool sk_pdate_expired(int32_t expires, int32_t today);
/* "ADDR:PORT" or "[ADDR6]:PORT" with an IP literal: the address (without brackets) into
 * addr, the port into *port */
bool sk_paddr_port(const char *s, char *addr, size_t asz, long *port);
/* an IP literal: its family (AF_INET / AF_INET6); 0 when s is not one */
int sk_paddr_family(const char *s);
int32_t sk_pdate_add_days(int32_t ymd, int days);

#endif
