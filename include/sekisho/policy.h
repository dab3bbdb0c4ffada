/* sekisho — the policy file: zones, flows, profiles, classes, roles, DLP, retention.
 *
 * One YAML file (docs/policy.md) is the single source of truth for the gateway's
 * decisions and for the gateway host's firewall. sk_policy_parse() validates it like a
 * compiler: every problem is a diagnostic with the 1-based line and column of the node,
 * a stable code (E-… error, W-… warning) and a message in Japanese and English. A policy
 * with any error is not returned. */
#ifndef SEKISHO_POLICY_H
#define SEKISHO_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/buf.h"
#include "sekisho/cdr.h"
#include "sekisho/dlp.h"
#include "sekisho/error.h"
#include "sekisho/report.h"

typedef struct sk_policy sk_policy;

typedef enum sk_diag_level { SK_DIAG_ERROR = 0, SK_DIAG_WARNING } sk_diag_level;

typedef struct sk_policy_diag {
	sk_diag_level level;
	const char *code;   /* stable: "E-FLOW-MYNUMBER-NO-EXCEPTION" … (static string) */
	uint32_t line, col; /* 1-based; 0 when the problem has no place (missing section) */
	char *msg_ja, *msg_en;
} sk_policy_diag;

typedef struct sk_policy_diags {
	sk_policy_diag *v;
	size_t n, cap;
	size_t errors, warnings;
} sk_policy_diags;

void sk_policy_diags_init(sk_policy_diags *d);
void sk_policy_diags_free(sk_policy_diags *d);
/* "file:line:column: CODE: message" lines (sorted by place) and a summary line. */
int sk_policy_diags_format(const sk_policy_diags *d, const char *file, sk_lang lang, sk_buf *out);

/* A date as yyyymmdd (20250331). sk_policy_today() is the local date. */
int32_t sk_policy_today(void);
/* Parses "YYYY-MM-DD" (a real calendar date) into yyyymmdd; SK_EINVAL (negative) when
 * invalid. */
int32_t sk_policy_date_parse(const char *s);

#define SK_POLICY_MAX_BYTES ((size_t)1 << 20) /* larger policy files are refused */
#define SK_POLICY_EXPIRING_DAYS 30            /* W-EXCEPTION-EXPIRING this close to expiry */

/* Parses and checks a policy. today (yyyymmdd) decides which exceptions are expired or
 * expiring (0: sk_policy_today()). Diagnostics go to diags (may be NULL). Returns 0 and
 * *out when there is no error; SK_EFORMAT when the file has errors (*out NULL);
 * SK_ENOMEM/SK_ELIMIT otherwise. name is used in messages only. */
int sk_policy_parse(const char *text, size_t n, int32_t today, sk_policy **out,
		    sk_policy_diags *diags, sk_error *err);
/* Reads path (at most SK_POLICY_MAX_BYTES) and parses it. */
int sk_policy_load(const char *path, int32_t today, sk_policy **out, sk_policy_diags *diags,
		   sk_error *err);
void sk_policy_free(sk_policy *p);

typedef enum sk_flow_action {
	SK_FLOW_DENY = 0,  /* "deny" */
	SK_FLOW_ALLOW,     /* "allow" (only the firewall route; items are still sanitised) */
	SK_FLOW_SANITIZE,  /* "sanitize" with a profile */
	SK_FLOW_HOLD,      /* "hold" for approval by a role */
} sk_flow_action;

const char *sk_flow_action_code(sk_flow_action a);
const char *sk_flow_action_text(sk_flow_action a, sk_lang lang);

/* What a DLP match does on a flow. */
typedef enum sk_dlp_action {
	SK_DLP_ACTION_RECORD = 0, /* "record": noted in the report, delivered */
	SK_DLP_ACTION_HOLD,       /* "hold": held for approval */
	SK_DLP_ACTION_BLOCK,      /* "block": blocked */
	SK_DLP_ACTION_OFF,        /* "off": detector not run on this flow */
} sk_dlp_action;

const char *sk_dlp_action_code(sk_dlp_action a);

typedef struct sk_policy_decision {
	sk_flow_action action;
	const char *profile;    /* sanitize: profile name; else NULL */
	const char *role;       /* hold: role id; else NULL */
	const char *role_name;  /* hold: the role's display name (Japanese) */
	char rule[160];         /* which rule decided: "flows[2] (id lgwan-internet-mail)",
	                           "classification 機密性 >= 2", "default-deny" … */
	uint32_t line, col;     /* of that rule in the file; 0 for the built-in default */
	char flow_rule[160];    /* the flow that matched ("" when none) */
	char note[160];         /* why, in English, e.g. "exception EX-1 expired on 2024-03-31" */
	char note_ja[192];      /* the same in Japanese */
	/* DLP on this flow (index by sk_dlp_kind; patterns share SK_DLP_PATTERN's entry
	 * unless the flow names them) */
	sk_dlp_action dlp[SK_DLP__COUNT];
	sk_dlp_action dlp_unscannable; /* for content the detectors cannot read */
	const char *dlp_role;   /* who approves a DLP hold */
} sk_policy_decision;

/* Checks what a decision is asked about before sk_policy_decide: the zones, the channel
 * (NULL: file) and the class (NULL: none). On a problem, SK_EINVAL with a message in lang
 * in msg ("送信先のゾーン「intenet」はポリシーにありません"); else 0 and msg "". */
int sk_policy_check_request(const sk_policy *p, const char *from, const char *to,
			    const char *channel, const char *class_spec, sk_lang lang, char *msg,
			    size_t n);

/* The decision for an item going from zone `from` to zone or cloud `to` on channel
 * ("mail", "file", "web"). class_spec is NULL (the classification's defaults apply) or
 * "LEVEL", "DIMENSION:LEVEL" or "DIMENSIONLEVEL" ("2", "機密性:3A", "機密性2"), several
 * separated by commas. Unknown zones, channels or levels give SK_EINVAL with err set.
 * The first flow that matches decides; no flow: deny. Class handling rules can only make
 * the decision stricter; an expired exception makes its flow deny. */
int sk_policy_decide(const sk_policy *p, const char *from, const char *to, const char *channel,
		     const char *class_spec, int32_t today, sk_policy_decision *d, sk_error *err);

/* The sanitisation profile a decision names: the policy's own profiles, then the
 * built-in ones; NULL when unknown (the checker prevents that). */
const sk_profile *sk_policy_profile(const sk_policy *p, const char *name);

/* The `mail` options of a profile: *html "text" | "sanitize", *attachments "sanitize" |
 * "remove" (a policy profile's values, defaults text/sanitize); both NULL for a built-in
 * or unknown profile. */
void sk_policy_profile_mail(const sk_policy *p, const char *name, const char **html,
			    const char **attachments);

/* The DLP detectors configured in the policy's `dlp` section (caller frees). */
int sk_policy_dlp(const sk_policy *p, sk_dlp **out, sk_error *err);

/* An nftables ruleset (table inet sekisho) for the gateway host, as of `today`. */
int sk_policy_nft(const sk_policy *p, int32_t today, sk_buf *out, sk_error *err);

/* The policy's DLP detectors, compiled at load (lives as long as p). */
const sk_dlp *sk_policy_detectors(const sk_policy *p);

/* Facts for the CLI and the console. */
size_t sk_policy_zone_count(const sk_policy *p);
const char *sk_policy_zone_id(const sk_policy *p, size_t i);
bool sk_policy_has_zone(const sk_policy *p, const char *id); /* zones and clouds */
const char *sk_policy_role_name(const sk_policy *p, const char *id, sk_lang lang);
/* ---- people: organization, sections, roles and their permissions, users ---- */

/* Permissions a role carries (`roles.ID.permissions`, docs/policy.md "roles"); the
 * console's rights (docs/api.md). Codes: "upload", "download", "request", "approve",
 * "section-items", "all-items", "release-original", "audit", "admin", "ledgers",
 * "ledger-section", "ledger-all", "incident-report". */
enum {
	SK_PERM_UPLOAD = 1u << 0,           /* send files across (upload), unlock PPAP */
	SK_PERM_DOWNLOAD = 1u << 1,         /* download own results, see own items */
	SK_PERM_REQUEST = 1u << 2,          /* request release */
	SK_PERM_APPROVE = 1u << 3,          /* approve/refuse requests (of the held role) */
	SK_PERM_SECTION_ITEMS = 1u << 4,    /* see the items of their section */
	SK_PERM_ALL_ITEMS = 1u << 5,        /* see every item */
	SK_PERM_RELEASE_ORIGINAL = 1u << 6, /* approve handing out an original */
	SK_PERM_AUDIT = 1u << 7,            /* read the audit log, verify, proofs */
	SK_PERM_ADMIN = 1u << 8,            /* users, policy in force, health */
	SK_PERM_LEDGERS = 1u << 9,          /* read every ledger (台帳の閲覧) */
	SK_PERM_LEDGER_SECTION = 1u << 10,  /* add/edit ledger records of their own section */
	SK_PERM_LEDGER_ALL = 1u << 11,      /* add/edit any ledger record */
	SK_PERM_INCIDENT_REPORT = 1u << 12, /* report an incident, see the ones they reported */
};
#define SK_PERM__COUNT 13
/* The code of one SK_PERM_* bit ("release-original"), NULL for anything else; and the
 * bit of a code (0 when unknown). */
const char *sk_policy_perm_code(uint32_t one_perm);
uint32_t sk_policy_perm_parse(const char *code);

/* ---- classification (the scales of the asset ledger) and incidents ---- */

/* The classification's dimensions ("機密性", "完全性", "可用性" by default), in file order. */
size_t sk_policy_class_dim_count(const sk_policy *p);
const char *sk_policy_class_dim_name(const sk_policy *p, size_t i); /* NULL past the end */
/* The levels of dimension dim, highest first (*levels lives as long as p); 0 and NULL when
 * the policy has no such dimension. levels may be NULL. */
size_t sk_policy_class_levels(const sk_policy *p, const char *dim, const char *const **levels);
/* The handling rules that apply to an item of `level` in `dim` (the rules whose at_least
 * it reaches), as one line of text appended to out (their descriptions, else "機密性2 以上 →
 * internet: 承認待ち (保留) (情報セキュリティ管理者)"); nothing when no rule applies.
 * SK_EINVAL for an unknown dimension or level; SK_ELIMIT/SK_ENOMEM from out. */
int sk_policy_class_handling(const sk_policy *p, const char *dim, const char *level,
			     sk_lang lang, sk_buf *out);

#define SK_POLICY_CHAIN_MAX 8 /* steps of incidents.chain */
/* The escalation chain of an incident (`incidents.chain`, role ids in order; default
 * staff → sysadmin → security-director → ciso, those the policy defines). *roles lives as
 * long as p (may be NULL). */
size_t sk_policy_incident_chain(const sk_policy *p, const char *const **roles);

/* `organization` (the municipality's name), NULL when not set. */
const char *sk_policy_organization(const sk_policy *p);
bool sk_policy_has_role(const sk_policy *p, const char *id);
/* The permissions of a role (its `permissions`, else the defaults of its well-known id);
 * 0 for an undefined role. */
uint32_t sk_policy_role_perms(const sk_policy *p, const char *id);
/* `sections` (ids in file order). name: the section's name (lang: name_en), the id when
 * it has none, NULL for an undefined section. */
size_t sk_policy_section_count(const sk_policy *p);
const char *sk_policy_section_id(const sk_policy *p, size_t i);
bool sk_policy_has_section(const sk_policy *p, const char *id);
const char *sk_policy_section_name(const sk_policy *p, const char *id, sk_lang lang);
/* The `users:` entry with id name (exact): its roles, section and mail (NULL when not
 * given); each output may be NULL. SK_ENOTFOUND when the policy does not list name. */
int sk_policy_user_find(const sk_policy *p, const char *name, const char *const **roles,
			size_t *nroles, const char **section, const char **mail);
/* The `users:` entries, for listing them: their ids in file order and their display
 * names (`name`, the id when it has none); NULL past the end. */
size_t sk_policy_user_count(const sk_policy *p);
const char *sk_policy_user_id(const sk_policy *p, size_t i);
const char *sk_policy_user_name(const sk_policy *p, size_t i);
/* `release`: distinct approvers a release needs (of the sanitised result: default 1; of
 * the original: default 2). Either output may be NULL. */
void sk_policy_approvals(const sk_policy *p, uint32_t *release, uint32_t *original);

/* `auth` as written (-1: not set; minutes and hours already in seconds). */
typedef struct sk_policy_auth {
	int64_t password_min, history, lockout_after, lockout_seconds, session_idle_seconds,
		session_max_seconds, totp_window;
} sk_policy_auth;
void sk_policy_auth_get(const sk_policy *p, sk_policy_auth *a);

/* retention in days (0 when not set) */
uint32_t sk_policy_retention_days(const sk_policy *p, const char *what); /* "quarantine", "audit" */

/* ---- the `gateway` section: how sekishod runs (docs/policy.md "gateway") ---- */

#define SK_POLICY_SPOOL_MAX 64 /* spool flows in one policy */

/* One spool flow: files dropped in `drop` go from zone `from` to zone `to` (channel
 * "file"); the delivered results are written to `deliver`. */
typedef struct sk_policy_spool {
	const char *id;          /* `id`, or "FROM-TO" when not given (unique) */
	const char *from, *to;   /* zone ids (checked) */
	const char *drop, *deliver; /* absolute folder paths */
	const char *class_level; /* `class` (e.g. "機密性2"), NULL: the classification default */
	uint32_t line;           /* of the flow in the file */
} sk_policy_spool;

#define SK_POLICY_HTTP_MAX 16 /* HTTPS listeners in one policy */

/* One HTTPS listener of the console (gateway.http). */
typedef struct sk_policy_http {
	const char *zone; /* zone id (checked; never mynumber) */
	const char *addr; /* IP literal (no brackets) */
	uint16_t port;
	uint32_t line;    /* of the entry in the file */
} sk_policy_http;

#define SK_POLICY_MILTER_MAX 16 /* directions of the milter's mail */

/* One direction of the milter's mail (gateway.milter): a message whose SMTP client is in
 * zone `from` (its networks) goes from `from` to `to` (channel "mail"). */
typedef struct sk_policy_milter_dir {
	const char *from, *to; /* zone ids (checked; no clouds; from != to) */
	uint32_t line;         /* of the entry in the file */
} sk_policy_milter_dir;

typedef struct sk_policy_gateway {
	const char *user;    /* unprivileged user of the roles; NULL: not set */
	const char *state;   /* state folder (absolute); NULL: not set */
	int workers;         /* sandboxed workers; -1: not set, 0: one per core */
	const char *milter;  /* "unix:/path" or "inet:PORT@ADDR"; NULL: no milter */
	const char *milter_from, *milter_to; /* the first direction's zones (set with milter) */
	/* every direction (at least one with milter; the `from` zones differ): with one,
	 * every SMTP client uses it; with several, the client's address picks the one whose
	 * `from` zone holds it (sk_policy_zone_of), and a client in none is refused */
	const sk_policy_milter_dir *milter_dirs;
	size_t nmilter_dirs;
	const char *milter_group; /* group of the milter's unix socket (the MTA's); NULL: none */
	uint32_t milter_line;     /* of `milter` in the file */
	const char *metrics; /* "ADDR:PORT" of the Prometheus endpoint; NULL: none */
	const char *events;  /* "syslog[:unix:/path|:udp:HOST:PORT]", "json:/path", "stderr" */
	const char *clamd;   /* clamd socket for every item; NULL: no scan */
	const sk_policy_spool *spool;
	size_t nspool;
	const sk_policy_http *http; /* HTTPS listeners (gateway.http) */
	size_t nhttp;
	const char *tls_cert, *tls_key; /* gateway.tls (absolute paths); NULL: not set */
	const char *console_zone; /* zone serving the console (default "lgwan") */
	const char *sendmail;     /* MTA program for notices (default "/usr/sbin/sendmail") */
	const char *console_url;  /* the console's address for notices; NULL: not set */
} sk_policy_gateway;

/* The gateway section of p (all fields NULL / -1 / 0 when the section is absent). The
 * strings live as long as p. */
void sk_policy_gateway_get(const sk_policy *p, sk_policy_gateway *g);

/* The zone (not a cloud) whose networks hold the IP address addr ("198.51.100.7",
 * "2001:db8::1"; an IPv4-mapped IPv6 address counts as its IPv4 address), NULL when none
 * does or addr is not an address. Zones never overlap (the checker), so there is one. */
const char *sk_policy_zone_of(const sk_policy *p, const char *addr);

/* `internal_domains`: the municipality's own mail domains (a sub-domain counts as its
 * domain; see sk_mail_domain_internal). A NULL-terminated list, empty (never NULL) when
 * the policy has none. Lives as long as p. */
const char *const *sk_policy_internal_domains(const sk_policy *p);

#endif
