/* sekishod's http role: the route table (docs/api.md, one row per route) and the
 * handlers. The dispatcher (http.c) has already checked the listener, the session, the
 * CSRF token and the route's permissions when a handler runs; a handler checks what
 * depends on the object (owner, section, destination zone). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "sekisho/audit.h"
#include "sekisho/ledger.h"
#include "sekisho/quarantine.h"

#define SKH_PER_PAGE_MAX 200
#define SKH_AUDIT_WINDOW 10000 /* records of one audit page window (page × per_page) */

static const char *cookie_attrs = "HttpOnly; Secure; SameSite=Strict; Path=/";

/* ---- helpers ---- */

static long arg_long(skh_req *r, const char *key, long def, long min, long max, bool *bad)
{
	const char *s = skh_arg(r, key);
	if (!s)
		return def;
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < min || v > max) {
		*bad = true;
		return def;
	}
	return v;
}

static json_t *rights_json(const sk_auth_rights *rt, json_t **perms)
{
	json_t *roles = json_array();
	for (size_t i = 0; i < rt->nroles; i++)
		json_array_append_new(roles, json_string(rt->roles[i]));
	*perms = json_array();
	for (uint32_t b = 1; b && b <= rt->perms; b <<= 1)
		if (rt->perms & b) {
			const char *c = sk_auth_perm_code(b);
			if (c)
				json_array_append_new(*perms, json_string(c));
		}
	return roles;
}

/* The names of a section for people: {"section_name","section_name_en"} set on o (the
 * policy's name, else the id; nothing for no section). */
static void section_names(skh_req *r, json_t *o, const char *id)
{
	if (!o || !id || !*id)
		return;
	const sk_policy *p = r->l->s->d->policy;
	const char *ja = sk_policy_section_name(p, id, SK_LANG_JA);
	const char *en = sk_policy_section_name(p, id, SK_LANG_EN);
	json_object_set_new(o, "section_name", json_string(ja && *ja ? ja : id));
	json_object_set_new(o, "section_name_en", json_string(en && *en ? en : ja && *ja ? ja : id));
}

/* The answer of POST and GET /api/session. */
static json_t *session_json(skh_req *r)
{
	json_t *perms;
	json_t *roles = rights_json(&r->rights, &perms);
	json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:o,s:s,s:b,s:s,s:o}", "user", r->user.name, "name",
			      r->user.name, "section", r->rights.section, "roles", roles, "perms",
			      perms, "zone", r->l->zone, "console", r->l->console, "csrf",
			      r->sess.csrf, "expires", skh_time_json(r->sess.expires_us));
	section_names(r, o, r->rights.section);
	return o;
}

static void busy(skh_req *r, const sk_error *e)
{
	SKD_EVENT(SKD_ERR, "http-error", "要求を処理できませんでした", "could not handle a request",
		  SKD_S("route", r->route ? r->route->pattern : r->url), SKD_S("error", e->msg));
	skh_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
		  "処理できませんでした。しばらくしてからやり直してください",
		  "Could not do this now; try again later", NULL);
}

static void bad_request(skh_req *r, const char *ja, const char *en)
{
	skh_error(r, MHD_HTTP_BAD_REQUEST, "bad-request", ja, en, NULL);
}

/* ---- session ---- */

static void session_post(skh_req *r)
{
	skh_tctx *t = skh_ctx(r);
	const char *user = json_string_value(json_object_get(r->json, "user"));
	const char *pw = json_string_value(json_object_get(r->json, "password"));
	const char *totp = json_string_value(json_object_get(r->json, "totp"));
	if (!t) {
		skh_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", "混み合っています",
			  "The gateway is busy", NULL);
		return;
	}
	if (!user || !pw || !totp) {
		bad_request(r, "user・password・totp を送ってください",
			    "Send user, password and totp");
		return;
	}
	/* a session cookie sent before the login is never adopted: it is ended */
	const char *old = MHD_lookup_connection_value(r->c, MHD_COOKIE_KIND, "sk_session");
	sk_error e;
	sk_error_clear(&e);
	if (old && strlen(old) == SK_AUTH_TOKEN_LEN) {
		sk_auth_session os;
		if (sk_auth_session_get(t->auth, old, r->l->zone, &os, &e) == 0)
			sk_auth_logout(t->auth, old, &e);
		sk_error_clear(&e);
	}
	sk_auth_fail fail = SK_AUTH_FAIL_NONE;
	int rc = sk_auth_login(t->auth, user, pw, totp, r->l->zone, r->peer, &r->sess, &fail, &e);
	if (rc) {
		if (fail == SK_AUTH_FAIL_LOCKED)
			skh_error(r, MHD_HTTP_UNAUTHORIZED, "locked",
				  "ログインの失敗が続いたため、しばらくログインできません",
				  "Too many failed logins: the account is locked for a while", NULL);
		else if (fail != SK_AUTH_FAIL_NONE)
			skh_error(r, MHD_HTTP_UNAUTHORIZED, "login-failed",
				  "利用者名・パスワード・確認コードのいずれかが違います",
				  "The user name, password or code is wrong", NULL);
		else
			busy(r, &e);
		return;
	}
	if (sk_auth_user_get_id(t->auth, r->sess.user_id, &r->user, &e) != 0) {
		busy(r, &e);
		return;
	}
	sk_auth_effective(&r->user, r->l->s->d->policy, &r->rights);
	r->authed = true;
	snprintf(r->cookie, sizeof(r->cookie), "sk_session=%s; %s", r->sess.token, cookie_attrs);
	explicit_bzero(r->sess.token, sizeof(r->sess.token));
	skh_json(r, MHD_HTTP_OK, session_json(r));
}

static void session_get(skh_req *r)
{
	skh_json(r, MHD_HTTP_OK, session_json(r));
}

static void session_delete(skh_req *r)
{
	skh_tctx *t = skh_ctx(r);
	const char *tok = MHD_lookup_connection_value(r->c, MHD_COOKIE_KIND, "sk_session");
	sk_error e;
	sk_error_clear(&e);
	if (!t || !tok || sk_auth_logout(t->auth, tok, &e) != 0) {
		busy(r, &e);
		return;
	}
	snprintf(r->cookie, sizeof(r->cookie), "sk_session=; %s; Max-Age=0", cookie_attrs);
	r->status = MHD_HTTP_NO_CONTENT;
	r->resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
}

/* ---- audit ---- */

/* The ids of the user's items (sorted), for the records a staff member may see. */
typedef struct skh_idset {
	char (*v)[SK_QUARANTINE_ID_LEN];
	size_t n, cap;
	bool failed;
} skh_idset;

static int idset_add(void *ctx, const sk_qitem *it)
{
	skh_idset *s = ctx;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		void *v = realloc(s->v, cap * sizeof(*s->v));
		if (!v) {
			s->failed = true;
			return 1;
		}
		s->v = v;
		s->cap = cap;
	}
	snprintf(s->v[s->n++], SK_QUARANTINE_ID_LEN, "%s", it->id);
	return 0;
}

static int idcmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Every item the user sent, page by page. */
static int own_items(skh_req *r, skh_tctx *t, skh_idset *s, sk_error *e)
{
	sk_qquery q;
	memset(&q, 0, sizeof(q));
	q.submitter_uid = r->user.id;
	q.limit = SK_QUARANTINE_QUERY_MAX;
	for (;;) {
		size_t before = s->n;
		uint64_t total = 0;
		int rc = sk_quarantine_query(t->q, &q, idset_add, s, &total, e);
		if (rc)
			return rc;
		if (s->failed)
			return sk_error_set(e, SK_ENOMEM, "the user's items");
		if (s->n - before < SK_QUARANTINE_QUERY_MAX || q.offset + SK_QUARANTINE_QUERY_MAX >= total)
			break;
		q.offset += SK_QUARANTINE_QUERY_MAX;
	}
	if (s->n)
		qsort(s->v, s->n, sizeof(*s->v), idcmp);
	return 0;
}

/* Does an audit record's object ("item:ID …", "mail:ID …") name one of the ids? */
static bool about_item_of(const skh_idset *s, const char *object)
{
	if (!s->n || (strncmp(object, "item:", 5) && strncmp(object, "mail:", 5)))
		return false;
	char id[SK_QUARANTINE_ID_LEN];
	size_t n = 0;
	for (const char *p = object + 5; *p && *p != ' ' && n + 1 < sizeof(id); p++)
		id[n++] = *p;
	id[n] = 0;
	return bsearch(id, s->v, s->n, sizeof(*s->v), idcmp) != NULL;
}

struct audit_walk {
	skh_req *r;
	int64_t until;
	const char *actor, *action, *object;
	bool own_only;
	const skh_idset *own_items; /* own_only: the user's items */
	uint64_t total;
	size_t window; /* page × per_page: the newest `window` matches are kept */
	json_t **ring;
};

static int audit_one(void *ctx, const sk_audit_record *rec)
{
	struct audit_walk *w = ctx;
	if (w->until && rec->time_us > w->until)
		return 0;
	if (w->actor && strcmp(rec->actor, w->actor))
		return 0;
	if (w->action && strcmp(rec->action, w->action))
		return 0;
	if (w->object && !strstr(rec->object, w->object))
		return 0;
	/* staff: the records they made, and those about their items (an approval by
	 * another user, an unlock, a download) */
	if (w->own_only && strcmp(rec->actor, w->r->user.name) &&
	    !about_item_of(w->own_items, rec->object))
		return 0;
	size_t slot = (size_t)(w->total % w->window);
	json_decref(w->ring[slot]);
	w->ring[slot] = json_pack("{s:I,s:o,s:s,s:s,s:s,s:s,s:s}", "seq", (json_int_t)rec->seq,
				  "time", skh_time_json(rec->time_us), "actor", rec->actor, "action",
				  rec->action, "object", rec->object, "result", rec->result,
				  "detail", rec->detail ? rec->detail : "");
	w->total++;
	return 0;
}

static void audit_list(skh_req *r)
{
	skh_tctx *t = skh_ctx(r);
	bool bad = false;
	long page = arg_long(r, "page", 1, 1, 1000000, &bad);
	long per = arg_long(r, "per_page", 50, 1, SKH_PER_PAGE_MAX, &bad);
	int64_t since = 0, until = 0;
	sk_error e;
	sk_error_clear(&e);
	const char *s = skh_arg(r, "since"), *u = skh_arg(r, "until");
	if ((s && sk_time_parse(s, &since, &e) != 0) || (u && sk_time_parse(u, &until, &e) != 0))
		bad = true;
	if (bad || page * per > SKH_AUDIT_WINDOW) {
		bad_request(r, "page・per_page・since・until の値が不正です",
			    "page, per_page, since or until is invalid");
		return;
	}
	if (!t) {
		busy(r, &e);
		return;
	}
	struct audit_walk w = {
		.r = r,
		.until = until,
		.actor = skh_arg(r, "actor"),
		.action = skh_arg(r, "action"),
		.object = skh_arg(r, "object"),
		/* staff without `audit`: their own records and those about their items */
		.own_only = !(r->rights.perms & SK_PERM_AUDIT),
		.window = (size_t)(page * per),
	};
	skh_idset ids = {0};
	w.own_items = &ids;
	if (w.own_only && own_items(r, t, &ids, &e) != 0) {
		free(ids.v);
		busy(r, &e);
		return;
	}
	w.ring = calloc(w.window, sizeof(*w.ring));
	if (!w.ring) {
		free(ids.v);
		busy(r, &e);
		return;
	}
	int rc = sk_audit_list(t->audit, since, audit_one, &w, &e);
	free(ids.v);
	json_t *arr = json_array();
	/* newest first: matches total-1-(page-1)*per down to total-page*per */
	for (long k = 0; rc == 0 && k < per; k++) {
		long long idx = (long long)w.total - 1 - (long long)(page - 1) * per - k;
		if (idx < 0)
			break;
		json_t *o = w.ring[(size_t)((uint64_t)idx % w.window)];
		json_array_append(arr, o);
	}
	for (size_t i = 0; i < w.window; i++)
		json_decref(w.ring[i]);
	free(w.ring);
	if (rc) {
		json_decref(arr);
		busy(r, &e);
		return;
	}
	skh_json(r, MHD_HTTP_OK,
		 json_pack("{s:o,s:I,s:i,s:i}", "records", arr, "total", (json_int_t)w.total, "page",
			   (int)page, "per_page", (int)per));
}

static void audit_verify(skh_req *r)
{
	skh_tctx *t = skh_ctx(r);
	sk_error e;
	sk_error_clear(&e);
	sk_audit_verify_result vr;
	memset(&vr, 0, sizeof(vr));
	if (!t || sk_audit_verify(t->audit, NULL, NULL, 0, &vr, &e) != 0) {
		busy(r, &e);
		return;
	}
	const char *ja = vr.ok ? (vr.covered == vr.records
					  ? "すべての記録が署名済みのチェックポイントで検証されました"
					  : "署名済みのチェックポイントまで検証されました (以降の記録は署名待ち)")
			       : sk_audit_problem_text(vr.problem, false);
	const char *en = vr.ok ? (vr.covered == vr.records
					  ? "every record is covered by a verified signed checkpoint"
					  : "verified up to the last signed checkpoint (newer records await "
					    "signing)")
			       : sk_audit_problem_text(vr.problem, true);
	json_t *o = json_pack("{s:b,s:I,s:I,s:I,s:s,s:s,s:s}", "ok", vr.ok, "records",
			      (json_int_t)vr.records, "checkpoints", (json_int_t)vr.checkpoints,
			      "signed_through", (json_int_t)vr.covered, "problem",
			      sk_audit_problem_code(vr.problem), "message", ja, "message_en", en);
	if (o && !vr.ok) {
		json_object_set_new(o, "bad_seq", json_integer((json_int_t)vr.bad_seq));
		json_object_set_new(o, "detail", json_string(vr.message));
	}
	skh_json(r, MHD_HTTP_OK, o);
}

static json_t *hex_json(const uint8_t h[SK_SHA256_LEN])
{
	char hex[SK_SHA256_HEX];
	sk_hex(h, SK_SHA256_LEN, hex);
	return json_string(hex);
}

static int newest_note(void *ctx, uint64_t size, int64_t time_us, const char *note)
{
	(void)size;
	(void)time_us;
	*(json_t **)ctx = json_string(note);
	return 1;
}

static void audit_proof(skh_req *r)
{
	skh_tctx *t = skh_ctx(r);
	bool bad = false;
	long seq = arg_long(r, "seq", -1, 0, 0x7fffffffL, &bad);
	if (bad || seq < 0) {
		bad_request(r, "seq (記録の番号) を指定してください", "Give seq (a record number)");
		return;
	}
	sk_error e;
	sk_error_clear(&e);
	uint64_t size = 0;
	uint8_t leaf[SK_SHA256_LEN], root[SK_SHA256_LEN], proof[SK_MERKLE_PROOF_MAX][SK_SHA256_LEN];
	size_t len = 0;
	if (!t) {
		busy(r, &e);
		return;
	}
	int rc = sk_audit_inclusion_proof(t->audit, (uint64_t)seq, 0, &size, leaf, root, proof, &len,
					  &e);
	if (rc) {
		skh_error(r, MHD_HTTP_NOT_FOUND, "not-found",
			  "その記録は署名済みのチェックポイントに含まれていません",
			  "That record is not covered by a signed checkpoint", NULL);
		return;
	}
	json_t *arr = json_array();
	for (size_t i = 0; i < len; i++)
		json_array_append_new(arr, hex_json(proof[i]));
	json_t *note = NULL;
	sk_audit_checkpoints(t->audit, 1, newest_note, &note, &e);
	skh_json(r, MHD_HTTP_OK,
		 json_pack("{s:I,s:I,s:o,s:o,s:o,s:o}", "seq", (json_int_t)seq, "size",
			   (json_int_t)size, "leaf_hash", hex_json(leaf), "root", hex_json(root),
			   "proof", arr, "checkpoint", note ? note : json_null()));
}

static int one_checkpoint(void *ctx, uint64_t size, int64_t time_us, const char *note)
{
	json_t *arr = ctx;
	sk_checkpoint cp;
	sk_error e;
	char root[SK_SHA256_HEX] = "";
	/* the signed text is the note up to its blank line */
	const char *blank = strstr(note, "\n\n");
	if (blank && sk_checkpoint_parse(note, (size_t)(blank - note) + 1, &cp, &e) == 0)
		sk_hex(cp.root, SK_SHA256_LEN, root);
	json_array_append_new(arr, json_pack("{s:I,s:s,s:o,s:s}", "size", (json_int_t)size, "root",
					     root, "time", skh_time_json(time_us), "note", note));
	return 0;
}

static void audit_checkpoints(skh_req *r)
{
	skh_tctx *t = skh_ctx(r);
	bool bad = false;
	long n = arg_long(r, "limit", 50, 1, 1000, &bad);
	sk_error e;
	sk_error_clear(&e);
	if (bad) {
		bad_request(r, "limit の値が不正です", "limit is invalid");
		return;
	}
	json_t *arr = json_array();
	if (!t || sk_audit_checkpoints(t->audit, (size_t)n, one_checkpoint, arr, &e) != 0) {
		json_decref(arr);
		busy(r, &e);
		return;
	}
	skh_json(r, MHD_HTTP_OK, json_pack("{s:o}", "checkpoints", arr));
}

/* ---- users and health ---- */

struct users_ctx {
	skh_req *r;
	json_t *arr;
};

static int one_user(void *ctx, const sk_auth_user *u)
{
	struct users_ctx *c = ctx;
	const sk_policy *p = c->r->l->s->d->policy;
	json_t *roles = json_array(), *names = json_array();
	for (size_t i = 0; i < u->nroles; i++) {
		const char *ja = sk_policy_role_name(p, u->roles[i], SK_LANG_JA);
		const char *en = sk_policy_role_name(p, u->roles[i], SK_LANG_EN);
		json_array_append_new(roles, json_string(u->roles[i]));
		json_array_append_new(names, json_pack("{s:s,s:s,s:s}", "id", u->roles[i], "name",
						       ja ? ja : u->roles[i], "name_en",
						       en ? en : ja ? ja : u->roles[i]));
	}
	json_t *o = json_pack("{s:I,s:s,s:s,s:o,s:b,s:o}", "id", (json_int_t)u->id, "name", u->name,
			      "section", u->section, "roles", roles, "disabled", u->disabled,
			      "locked_until", skh_time_json(u->locked_until_us));
	section_names(c->r, o, u->section);
	if (o)
		json_object_set_new(o, "role_names", names);
	else
		json_decref(names);
	json_array_append_new(c->arr, o);
	return 0;
}

static void users_list(skh_req *r)
{
	skh_tctx *t = skh_ctx(r);
	sk_error e;
	sk_error_clear(&e);
	json_t *arr = json_array();
	struct users_ctx c = {r, arr};
	if (!t || sk_auth_user_list(t->auth, one_user, &c, &e) != 0) {
		json_decref(arr);
		busy(r, &e);
		return;
	}
	skh_json(r, MHD_HTTP_OK, json_pack("{s:o}", "users", arr));
}

static void health(skh_req *r)
{
	skd *d = r->l->s->d;
	json_t *roles = json_object();
	for (size_t i = 0; i < skd_nroles; i++)
		json_object_set_new(roles, skd_roles[i].name,
				    json_boolean(atomic_load(&d->metrics->role_up[i])));
	unsigned long long q = 0;
	for (size_t i = 0; i < SK_POLICY_SPOOL_MAX; i++)
		if (atomic_load(&d->metrics->flow_used[i]))
			q += atomic_load(&d->metrics->queue[i]);
	skh_json(r, MHD_HTTP_OK,
		 json_pack("{s:{s:s},s:{s:i},s:o,s:I,s:s}", "policy", "path", d->cfg.policy_path,
			   "workers", "configured", d->cfg.workers, "roles", roles, "queue",
			   (json_int_t)q, "version", "0.1.0"));
}

/* ---- the table (docs/api.md; the security tests iterate it through `sekishod --routes`) ---- */

#define ITEMS_SEE (SK_PERM_DOWNLOAD | SK_PERM_SECTION_ITEMS | SK_PERM_ALL_ITEMS)
#define LEDGER_READ (SK_PERM_LEDGERS | SK_PERM_INCIDENT_REPORT)
#define LEDGER_EDIT (SK_PERM_LEDGER_ALL | SK_PERM_LEDGER_SECTION)

const skh_route skh_routes[] = {
	/* method, pattern, where, session, perms, csrf, body, handler, body_max */
	{"POST", "/api/session", SKH_ANY_ZONE, false, 0, false, SKH_BODY_JSON, session_post, 0},
	{"GET", "/api/session", SKH_ANY_ZONE, true, 0, false, SKH_BODY_NONE, session_get, 0},
	{"DELETE", "/api/session", SKH_ANY_ZONE, true, 0, true, SKH_BODY_NONE, session_delete, 0},
	{"POST", "/api/items", SKH_ANY_ZONE, true, SK_PERM_UPLOAD, true, SKH_BODY_FILE, skh_items_post, 0},
	{"GET", "/api/items", SKH_ANY_ZONE, true, ITEMS_SEE, false, SKH_BODY_NONE, skh_items_list, 0},
	{"GET", "/api/items/{id}", SKH_CONSOLE_ZONE, true, ITEMS_SEE | SK_PERM_APPROVE, false,
	 SKH_BODY_NONE, skh_item_get, 0},
	{"GET", "/api/items/{id}/content", SKH_ANY_ZONE, true, SK_PERM_DOWNLOAD | SK_PERM_APPROVE,
	 false, SKH_BODY_NONE, skh_item_content, 0},
	{"POST", "/api/items/{id}/unlock", SKH_ANY_ZONE, true, SK_PERM_UPLOAD, true, SKH_BODY_JSON,
	 skh_item_unlock, 0},
	{"POST", "/api/items/{id}/requests", SKH_CONSOLE_ZONE, true, SK_PERM_REQUEST, true,
	 SKH_BODY_JSON, skh_request_create, 0},
	{"GET", "/api/requests", SKH_CONSOLE_ZONE, true, SK_PERM_REQUEST | SK_PERM_APPROVE, false,
	 SKH_BODY_NONE, skh_requests_list, 0},
	{"POST", "/api/requests/{id}/approve", SKH_CONSOLE_ZONE, true, SK_PERM_APPROVE, true,
	 SKH_BODY_JSON, skh_request_approve, 0},
	{"POST", "/api/requests/{id}/refuse", SKH_CONSOLE_ZONE, true, SK_PERM_APPROVE, true,
	 SKH_BODY_JSON, skh_request_refuse, 0},
	{"POST", "/api/requests/{id}/send", SKH_CONSOLE_ZONE, true, SK_PERM_APPROVE, true,
	 SKH_BODY_JSON, skh_request_send, 0},
	{"GET", "/api/audit", SKH_CONSOLE_ZONE, true, SK_PERM_AUDIT | SK_PERM_DOWNLOAD, false,
	 SKH_BODY_NONE, audit_list, 0},
	{"GET", "/api/audit/verify", SKH_CONSOLE_ZONE, true, SK_PERM_AUDIT, false, SKH_BODY_NONE,
	 audit_verify, 0},
	{"GET", "/api/audit/proof", SKH_CONSOLE_ZONE, true, SK_PERM_AUDIT, false, SKH_BODY_NONE,
	 audit_proof, 0},
	{"GET", "/api/audit/checkpoints", SKH_CONSOLE_ZONE, true, SK_PERM_AUDIT, false,
	 SKH_BODY_NONE, audit_checkpoints, 0},
	{"GET", "/api/dashboard", SKH_CONSOLE_ZONE, true, 0, false, SKH_BODY_NONE, skh_dashboard, 0},
	{"GET", "/api/users", SKH_CONSOLE_ZONE, true, SK_PERM_ADMIN, false, SKH_BODY_NONE,
	 users_list, 0},
	{"GET", "/api/health", SKH_CONSOLE_ZONE, true, SK_PERM_ADMIN, false, SKH_BODY_NONE, health, 0},
	/* the ledgers (http_ledgers.c): the table and record rights are checked there */
	{"GET", "/api/ledgers", SKH_CONSOLE_ZONE, true, LEDGER_READ, false, SKH_BODY_NONE,
	 skh_ledgers_schema, 0},
	{"GET", "/api/ledgers/{id}", SKH_CONSOLE_ZONE, true, LEDGER_READ, false, SKH_BODY_NONE,
	 skh_ledger_list, 0},
	{"POST", "/api/ledgers/{id}", SKH_CONSOLE_ZONE, true, LEDGER_EDIT | SK_PERM_INCIDENT_REPORT,
	 true, SKH_BODY_JSON, skh_ledger_add, 0},
	{"GET", "/api/ledgers/{id}/{rid}", SKH_CONSOLE_ZONE, true, LEDGER_READ, false, SKH_BODY_NONE,
	 skh_ledger_get, 0},
	{"POST", "/api/ledgers/{id}/{rid}", SKH_CONSOLE_ZONE, true, LEDGER_EDIT, true, SKH_BODY_JSON,
	 skh_ledger_update, 0},
	{"POST", "/api/ledgers/incidents/{rid}/step", SKH_CONSOLE_ZONE, true, LEDGER_READ, true,
	 SKH_BODY_JSON, skh_ledger_step, 0},
	{"POST", "/api/ledgers/{id}/{rid}/files", SKH_CONSOLE_ZONE, true, LEDGER_EDIT, true,
	 SKH_BODY_FILE, skh_ledger_file_post, 0},
	{"GET", "/api/ledgers/{id}/{rid}/files", SKH_CONSOLE_ZONE, true, LEDGER_READ, false,
	 SKH_BODY_NONE, skh_ledger_file_get, 0},
	{"DELETE", "/api/ledgers/{id}/{rid}/files", SKH_CONSOLE_ZONE, true, LEDGER_EDIT, true,
	 SKH_BODY_NONE, skh_ledger_file_delete, 0},
	{"POST", "/api/ledgers/{id}/import", SKH_CONSOLE_ZONE, true, SK_PERM_LEDGER_ALL, true,
	 SKH_BODY_FILE, skh_ledger_import, SK_LEDGER_IMPORT_BYTES_MAX},
	{"GET", "/api/ledgers/{id}.xlsx", SKH_CONSOLE_ZONE, true, SK_PERM_LEDGERS, false,
	 SKH_BODY_NONE, skh_ledger_xlsx, 0},
	{"GET", "/api/ledger-charts", SKH_CONSOLE_ZONE, true, SK_PERM_LEDGERS, false, SKH_BODY_NONE,
	 skh_ledger_charts, 0},
	{"GET", "/api/training-missing", SKH_CONSOLE_ZONE, true, SK_PERM_LEDGERS, false,
	 SKH_BODY_NONE, skh_training_missing, 0},
	{"POST", "/api/checklists", SKH_CONSOLE_ZONE, true, SK_PERM_LEDGER_ALL, true, SKH_BODY_JSON,
	 skh_checklists_generate, 0},
	{"GET", "/api/report/{id}.xlsx", SKH_CONSOLE_ZONE, true, SK_PERM_LEDGERS, false,
	 SKH_BODY_NONE, skh_report_xlsx, 0},
	{"GET", "/api/report/{id}.pdf", SKH_CONSOLE_ZONE, true, SK_PERM_LEDGERS, false,
	 SKH_BODY_NONE, skh_report_pdf, 0},
};
const size_t skh_nroutes = sizeof(skh_routes) / sizeof(skh_routes[0]);
