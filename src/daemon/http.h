/* sekishod's http role, inside: the listeners (http.c), the route table and its handlers
 * (http_routes.c) and the console's static files (http_static.c).
 *
 * One libmicrohttpd daemon per listener (TLS only, a thread pool each). A request is
 * matched against the one route table (skh_routes); before its body is read the
 * dispatcher checks, in this order: the listener serves the route (else 404), a session
 * of this listener's zone (else 401), the CSRF header on a change (else 403), one of the
 * route's permissions (else 403). Only then is the body accepted (JSON into memory, an
 * upload into a private unnamed file in the state folder), up to its cap (else 413), and
 * the handler runs. Every answer carries the security headers of docs/api.md. */
#ifndef SKD_HTTP_H
#define SKD_HTTP_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "daemon.h"
#include "sekisho/auth.h"
#include "sekisho/quarantine.h"

/* where a route is served */
enum { SKH_ANY_ZONE = 0, SKH_CONSOLE_ZONE = 1 };
/* what a route's request body is */
enum { SKH_BODY_NONE = 0, SKH_BODY_JSON, SKH_BODY_FILE };

#define SKH_JSON_MAX (64 * 1024) /* bytes of a JSON request body */

typedef struct skh_req skh_req;

typedef struct skh_route {
	const char *method;
	const char *pattern; /* "/api/items/{id}/content", "/api/ledgers/{id}/{rid}",
			      * "/api/ledgers/{id}.xlsx": {id} and {rid} are parameters */
	int where;           /* SKH_ANY_ZONE, SKH_CONSOLE_ZONE */
	bool session;        /* needs a logged-in session */
	uint32_t perms;      /* SK_PERM_*: one of them is needed (0: the session is enough) */
	bool csrf;           /* a change: X-CSRF-Token needed */
	int body;            /* SKH_BODY_* */
	void (*handler)(skh_req *r);
	uint64_t body_max;   /* bytes of a SKH_BODY_FILE body; 0: the gate's size budget */
} skh_route;

extern const skh_route skh_routes[];
extern const size_t skh_nroutes;

/* The role's shared state (one per process). */
typedef struct skh_server {
	skd *d;
	skd_gate gate;          /* the gate's audit log, quarantine and worker pool */
	sk_auth_settings auth_settings;
	uint64_t max_upload;    /* bytes of an upload (the gate's size budget) */
	int web_fd;             /* the web root (O_PATH), -1 when missing */
} skh_server;

typedef struct skh_listener {
	skh_server *s;
	const char *zone;
	const char *addr;
	bool console; /* the console zone's listener */
	struct MHD_Daemon *mhd;
} skh_listener;

/* Handles of one thread (SQLite handles are for one thread at a time). */
typedef struct skh_tctx {
	sk_auth *auth;
	struct sk_quarantine *q;
	sk_audit *audit; /* for reading (list, verify, proofs) */
} skh_tctx;

struct skh_req {
	struct MHD_Connection *c;
	skh_listener *l;
	const skh_route *route;
	char method[8];
	char url[1024];
	char id[72];            /* the {id} parameter, "" when none */
	char rid[72];           /* the {rid} parameter (a record of {id}), "" when none */
	char peer[64];
	sk_lang lang;
	bool is_static;
	/* the session (when the route needs one) */
	bool authed;
	sk_auth_session sess;
	sk_auth_user user;
	sk_auth_rights rights;
	/* the body */
	sk_buf json_text;
	json_t *json;
	int body_fd;
	uint64_t body_len;
	bool too_large, started;
	/* the answer */
	unsigned status;
	struct MHD_Response *resp;
	char cookie[160];       /* Set-Cookie value, "" when none */
};

/* This thread's handles (opened on first use); NULL when they cannot be opened. */
skh_tctx *skh_ctx(skh_req *r);

/* Answers: the JSON object o (reference stolen) with status; an error in both languages
 * ({"error":{"code","message","message_en"}}, extra members of `more` merged in, stolen,
 * may be NULL). */
void skh_json(skh_req *r, unsigned status, json_t *o);
void skh_error(skh_req *r, unsigned status, const char *code, const char *ja, const char *en,
	       json_t *more);
/* 403 forbidden (as skh_error); a refused change is an audit record (console-refused),
 * as the dispatcher's refusals are. */
void skh_forbidden(skh_req *r, const char *ja, const char *en, json_t *more);
/* The bytes of fd (size bytes, fd taken) as an attachment named name (RFC 6266/5987
 * filename*, never a raw name). */
void skh_file(skh_req *r, int fd, uint64_t size, const char *name, const char *type);
/* A query parameter (NULL when absent). */
const char *skh_arg(skh_req *r, const char *key);
/* An audit record by the logged-in user (never a password, code, token or cookie). */
void skh_audit(skh_req *r, const char *action, const char *object, const char *result,
	       const char *detail);
/* "2026-12-07T08:28:00+09:00" (JST) of µs since the epoch; "" for 0. */
void skh_time_jst(int64_t us, char out[32]);
/* The JSON value of a time (null for 0). */
json_t *skh_time_json(int64_t us);

/* Puts the request's body through the gate (sk_gate_submit with this thread's
 * quarantine) as item, whose name, dst_zone, channel and asset the caller set (the rest:
 * the body, this listener's zone as the source, the user as submitter, here). flow_policy
 * false: no flow policy (a file that stays in its zone, as ledger evidence: the default
 * profile). On success *it is the item as recorded (free with sk_qitem_free) and *denied
 * tells a policy-deny; otherwise an answer (503) was given and a negative SK_E* returned.
 * The decision is counted and logged as for an upload. */
int skh_gate_body(skh_req *r, sk_item *item, bool flow_policy, sk_qitem *it, bool *denied);
/* An item as the API gives it (docs/api.md); NULL when the thread has no handles. */
json_t *skh_item_json(skh_req *r, const sk_qitem *it);
/* A file name a user may give: UTF-8, 1 to 255 bytes, no folder, no control character. */
bool skh_name_ok(const char *s);
/* The name a download carries: the item's name with the result's extension. */
void skh_download_name(const sk_qitem *it, char *out, size_t n);

/* The item, request and dashboard handlers (http_items.c). */
void skh_items_post(skh_req *r);
void skh_items_list(skh_req *r);
void skh_item_get(skh_req *r);
void skh_item_content(skh_req *r);
void skh_item_unlock(skh_req *r);
void skh_request_create(skh_req *r);
void skh_requests_list(skh_req *r);
void skh_request_approve(skh_req *r);
void skh_request_refuse(skh_req *r);
void skh_request_send(skh_req *r);
void skh_dashboard(skh_req *r);

/* The ledger handlers (http_ledgers.c, docs/api.md "Ledgers"). */
void skh_ledgers_schema(skh_req *r);
void skh_ledgers_cleanup(const char *state); /* at start: left-over export folders */
void skh_ledger_list(skh_req *r);
void skh_ledger_add(skh_req *r);
void skh_ledger_get(skh_req *r);
void skh_ledger_update(skh_req *r);
void skh_ledger_step(skh_req *r);
void skh_ledger_import(skh_req *r);
void skh_ledger_file_post(skh_req *r);
void skh_ledger_file_get(skh_req *r);
void skh_ledger_file_delete(skh_req *r);
void skh_ledger_xlsx(skh_req *r);
void skh_report_xlsx(skh_req *r);
void skh_report_pdf(skh_req *r);
void skh_ledger_charts(skh_req *r);
void skh_training_missing(skh_req *r);
void skh_checklists_generate(skh_req *r);

/* Static files of the web root (http_static.c): GET/HEAD of any path outside /api/. */
void skh_static(skh_req *r);

/* The role-independent parts (for `sekishod --routes`): prints the route table, one
 * route a line: METHOD PATTERN where(any|console) auth(none|session) perms(-|a,b)
 * csrf(yes|no), tab-separated. */
void skh_routes_print(FILE *f);

#endif
