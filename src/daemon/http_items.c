/* sekishod's http role: items (upload, listing, detail, content), release requests and
 * the dashboard — the quarantine's queries and the gate's submit and release functions
 * (release.h) behind the routes of docs/api.md. The dispatcher has checked the listener,
 * the session, CSRF and the route's permissions; here the object's own rules apply:
 * owner, section, destination zone, who may decide. An item a user may not see answers
 * 404, as one that does not exist. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "sekisho/ledger.h"
#include "sekisho/engine.h"
#include "sekisho/name.h"
#include "sekisho/notify.h"
#include "sekisho/pool.h"
#include "sekisho/release.h"

#define SKH_PER_PAGE_MAX 200
#define SKH_NAME_MAX 255      /* bytes of an uploaded file's name */
#define SKH_TEXT_MAX 2000     /* bytes of a request reason or comment */
#define SKH_REQUESTS_MAX 500  /* requests in one listing */

/* ---- helpers ---- */

static void busy(skh_req *r, const sk_error *e)
{
	SKD_EVENT(SKD_ERR, "http-error", "要求を処理できませんでした", "could not handle a request",
		  SKD_S("route", r->route ? r->route->pattern : r->url), SKD_S("error", e->msg));
	skh_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
		  "処理できませんでした。しばらくしてからやり直してください",
		  "Could not do this now; try again later", NULL);
}

static void not_found(skh_req *r)
{
	skh_error(r, MHD_HTTP_NOT_FOUND, "not-found", "見つかりません", "Not found", NULL);
}

static void bad_request(skh_req *r, const char *ja, const char *en)
{
	skh_error(r, MHD_HTTP_BAD_REQUEST, "bad-request", ja, en, NULL);
}

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

static sk_qactor actor_of(skh_req *r)
{
	return (sk_qactor){r->user.id, r->user.name, r->rights.section[0] ? r->rights.section : NULL,
			   r->user.mail[0] ? r->user.mail : NULL};
}

/* The gate's options with this thread's quarantine handle (its result and request steps
 * are for one thread at a time). */
static sk_options gate_opt(skh_req *r, skh_tctx *t)
{
	sk_options o = r->l->s->gate.opt;
	o.quarantine = t->q;
	return o;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static const char *reason_text(const char *code, sk_lang lang)
{
	if (!code || !*code)
		return "";
	return sk_reason_text(sk_reason_from_code(code), lang);
}

static json_t *request_json(const sk_qrequest *q)
{
	json_t *ap = json_array();
	for (size_t i = 0; i < q->napprovals; i++)
		json_array_append_new(ap, json_pack("{s:s,s:o,s:o}", "by", q->approvals[i].name,
						    "at", skh_time_json(q->approvals[i].at_us),
						    "comment", str_or_null(q->approvals[i].comment)));
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:o,s:s,s:i,s:o,s:o,s:o,s:o,s:o}", "id",
			 (json_int_t)q->id, "item", q->item, "kind", sk_qkind_code(q->kind), "reason",
			 q->reason ? q->reason : "", "by", q->requester ? q->requester : "", "at",
			 skh_time_json(q->created_us), "state", sk_qrstate_code(q->state), "needed",
			 (int)q->needed, "approvals", ap, "refused_by", str_or_null(q->refused_by),
			 "refused_at",
			 q->state == SK_QREQ_REFUSED ? skh_time_json(q->decided_us) : json_null(),
			 "comment", str_or_null(q->comment), "outcome", str_or_null(q->outcome));
}

static int add_request(void *ctx, const sk_qrequest *q)
{
	json_array_append_new(ctx, request_json(q));
	return 0;
}

void skh_download_name(const sk_qitem *it, char *out, size_t n)
{
	const char *name = it->name && *it->name ? it->name : "download";
	if (!it->result_ext || !*it->result_ext) {
		snprintf(out, n, "%s", name);
		return;
	}
	const char *dot = strrchr(name, '.');
	int stem = dot && dot != name ? (int)(dot - name) : (int)strlen(name);
	snprintf(out, n, "%.*s.%s", stem, name, it->result_ext);
}

static json_t *item_json(skh_req *r, skh_tctx *t, const sk_qitem *it, bool with_requests)
{
	const char *v = sk_qitem_verdict(it);
	json_error_t je;
	json_t *actions = it->actions ? json_loads(it->actions, 0, &je) : NULL;
	char dl[SKH_NAME_MAX + 40];
	skh_download_name(it, dl, sizeof(dl));
	json_t *o = json_pack(
		"{s:s,s:s,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:o,s:s,s:s,s:b,s:s}", "id",
		it->id, "name", it->name ? it->name : "", "size", (json_int_t)it->size, "type",
		str_or_null(it->type), "from", str_or_null(it->src_zone), "to",
		str_or_null(it->dst_zone), "submitter", str_or_null(it->submitter), "section",
		str_or_null(it->submitter_section), "received", skh_time_json(it->received_us),
		"decided", skh_time_json(it->decided_us), "verdict", str_or_null(v), "reason",
		str_or_null(it->reason && *it->reason ? it->reason : NULL), "reason_text",
		reason_text(it->reason, r->lang), "actions", actions ? actions : json_array(),
		"state", sk_qstate_code(it->state), "state_text",
		sk_qstate_text(it->state, r->lang == SK_LANG_EN), "has_content",
		it->result_sha256[0] != 0, "download_name", dl);
	if (o && it->reason_detail && *it->reason_detail)
		json_object_set_new(o, "reason_detail", json_string(it->reason_detail));
	if (o && it->env_from) {
		/* a mail message's envelope, and whether its released result was sent */
		json_t *to = json_array();
		for (size_t i = 0; i < it->env_nrcpt; i++)
			json_array_append_new(to, json_string(it->env_rcpt[i]));
		json_object_set_new(o, "envelope",
				    json_pack("{s:s,s:o,s:o,s:o}", "from", it->env_from, "to", to,
					      "sent", it->mail_sent_us ? skh_time_json(it->mail_sent_us)
								       : json_null(),
					      "error", str_or_null(it->mail_error)));
	}
	if (o && with_requests) {
		json_t *rq = json_array();
		sk_qrfilter f = {.item = it->id};
		sk_error e;
		if (sk_quarantine_requests(t->q, &f, add_request, rq, &e) != 0)
			json_array_clear(rq);
		json_object_set_new(o, "requests", rq);
	}
	return o;
}

struct decide_ctx {
	skh_req *r;
	const sk_qitem *it;
	bool may;
};

static int may_decide_one(void *ctx, const sk_qrequest *q)
{
	struct decide_ctx *c = ctx;
	sk_qactor who = actor_of(c->r);
	/* a pending request; or any of held mail (its sending is followed and retried) */
	if ((q->state == SK_QREQ_PENDING || c->it->env_from) &&
	    sk_release_may_decide(c->r->l->s->d->policy, c->it, q, &who, &c->r->rights, NULL) == 0) {
		c->may = true;
		return 1;
	}
	return 0;
}

/* May the user see the item? Owner, section head of its section, all-items, or someone
 * who may decide one of its pending requests (of held mail: one of its requests). */
static bool may_see(skh_req *r, skh_tctx *t, const sk_qitem *it)
{
	uint32_t p = r->rights.perms;
	if (p & SK_PERM_ALL_ITEMS)
		return true;
	if (it->submitter_uid == r->user.id && (p & SK_PERM_DOWNLOAD))
		return true;
	if ((p & SK_PERM_SECTION_ITEMS) && r->rights.section[0] && it->submitter_section &&
	    !strcmp(it->submitter_section, r->rights.section))
		return true;
	if (p & (SK_PERM_APPROVE | SK_PERM_RELEASE_ORIGINAL)) {
		struct decide_ctx c = {r, it, false};
		sk_qrfilter f = {.item = it->id, .state = it->env_from ? NULL : "pending"};
		sk_error e;
		sk_quarantine_requests(t->q, &f, may_decide_one, &c, &e);
		return c.may;
	}
	return false;
}

/* The item of the {id}, when the user may see it: 0, else an answer is set. */
static int load_item(skh_req *r, skh_tctx *t, sk_qitem *it)
{
	sk_error e;
	sk_error_clear(&e);
	memset(it, 0, sizeof(*it));
	int rc = sk_quarantine_get(t->q, r->id, it, &e);
	if (rc == SK_ENOTFOUND || (rc == 0 && !may_see(r, t, it))) {
		if (rc == 0)
			sk_qitem_free(it);
		not_found(r);
		return SK_EINVAL;
	}
	if (rc) {
		busy(r, &e);
		return SK_EINVAL;
	}
	return 0;
}

/* A file name as given by the sender: one path component, valid UTF-8, no control
 * characters, not "." or "..", at most SKH_NAME_MAX bytes. */
bool skh_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (!n || n > SKH_NAME_MAX || !sk_utf8_valid(s, n) || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
			return false;
	return true;
}

/* The destination of an upload from zone `from`: to when given, else the only zone a
 * `file` flow from `from` does not deny. NULL when there is none or several. */
static const char *upload_to(const sk_policy *p, const char *from, const char *to)
{
	if (to)
		return sk_policy_has_zone(p, to) && strcmp(to, from) ? to : NULL;
	const char *found = NULL;
	for (size_t i = 0; i < sk_policy_zone_count(p); i++) {
		const char *z = sk_policy_zone_id(p, i);
		sk_policy_decision d;
		sk_error e;
		if (!strcmp(z, from) ||
		    sk_policy_decide(p, from, z, "file", NULL, 0, &d, &e) != 0 ||
		    d.action == SK_FLOW_DENY)
			continue;
		if (found)
			return NULL;
		found = z;
	}
	return found;
}

/* ---- items ---- */

void skh_items_post(skh_req *r)
{
	skh_tctx *t = skh_ctx(r);
	const skd *d = r->l->s->d;
	if (!t) {
		sk_error e = {0};
		busy(r, &e);
		return;
	}
	const char *name = skh_arg(r, "name");
	if (!skh_name_ok(name)) {
		bad_request(r, "ファイル名が不正です (フォルダ名・制御文字・「..」は使えません)",
			    "Invalid file name (no folders, control characters or \"..\")");
		return;
	}
	const char *to = upload_to(d->policy, r->l->zone, skh_arg(r, "to"));
	if (!to) {
		bad_request(r, "送り先のゾーン (to) を指定してください",
			    "Give the destination zone (to)");
		return;
	}
	/* asset=AS-0001: the file is that asset of the ledger and takes its class; an
	 * unknown asset is refused, never ignored */
	const char *asset = skh_arg(r, "asset");
	if (asset) {
		char cls[256];
		sk_error ae;
		sk_error_clear(&ae);
		struct sk_ledger *lg = r->l->s->gate.opt.ledger;
		int arc = lg ? sk_ledger_asset_class(lg, asset, cls, sizeof(cls), &ae) : SK_ENOTFOUND;
		if (arc == SK_ENOTFOUND || arc == SK_EINVAL) {
			bad_request(r, "資産番号 (asset) が情報資産管理台帳にありません",
				    "The asset ledger has no such asset (asset)");
			return;
		}
		if (arc) {
			busy(r, &ae);
			return;
		}
	}
	sk_item item;
	memset(&item, 0, sizeof(item));
	item.asset = asset;
	item.name = name;
	item.dst_zone = to;
	item.channel = "file";
	sk_qitem it;
	bool denied;
	if (skh_gate_body(r, &item, true, &it, &denied) != 0)
		return;
	json_t *o2 = item_json(r, t, &it, false);
	sk_qitem_free(&it);
	if (denied) {
		skh_error(r, MHD_HTTP_FORBIDDEN, "forbidden",
			  "この送り先へのファイルの受け渡しはポリシーで禁止されています",
			  "The policy does not allow files to this zone", json_pack("{s:o}", "item", o2));
		return;
	}
	skh_json(r, MHD_HTTP_CREATED, o2);
}

int skh_gate_body(skh_req *r, sk_item *item, bool flow_policy, sk_qitem *it, bool *denied)
{
	skh_tctx *t = skh_ctx(r);
	const skd *d = r->l->s->d;
	*denied = false;
	if (!t) {
		sk_error e = {0};
		busy(r, &e);
		return SK_EIO;
	}
	sk_input_fd(&item->input, r->body_fd, r->body_len);
	item->src_zone = r->l->zone;
	item->submitter = r->user.name;
	item->submitter_uid = r->user.id;
	item->submitter_section = r->rights.section[0] ? r->rights.section : NULL;
	sk_options o = gate_opt(r, t);
	if (!flow_policy)
		o.policy = NULL; /* stays in its zone: the default profile, no flow */
	sk_result res;
	memset(&res, 0, sizeof(res));
	sk_error e;
	sk_error_clear(&e);
	int64_t t0 = skd_now_us();
	int rc = sk_gate_submit(item, &o, &res, &e);
	int64_t us = skd_now_us() - t0;
	sk_input_release(&item->input);
	if (rc != 0 || !res.quarantine_id[0]) {
		if (!e.msg[0])
			snprintf(e.msg, sizeof(e.msg), "not on record: %.120s (%s %.80s)",
				 res.unrecorded[0] ? res.unrecorded : "-",
				 sk_reason_code(res.report.reason),
				 res.report.reason_detail ? res.report.reason_detail : "");
		sk_result_free(&res);
		busy(r, &e);
		return rc ? rc : SK_EIO;
	}
	skd_metrics_item(d->metrics, &res.report, us);
	const sk_report *rp = &res.report;
	bool blocked = rp->verdict == SK_VERDICT_BLOCKED;
	const char *channel = item->channel ? item->channel : "file";
	SKD_EVENT(blocked ? SKD_NOTICE : SKD_INFO, "decision", blocked ? "遮断" : "配信",
		  blocked ? "blocked" : "delivered", SKD_S("channel", channel),
		  SKD_S("from", r->l->zone), SKD_S("to", item->dst_zone), SKD_S("user", r->user.name),
		  SKD_S("name", item->name), SKD_S("verdict", sk_verdict_code(rp->verdict)),
		  SKD_S("reason", blocked ? sk_reason_code(rp->reason) : ""),
		  SKD_S("quarantine_id", res.quarantine_id), SKD_N("size", r->body_len),
		  SKD_N("ms", us / 1000));
	memset(it, 0, sizeof(*it));
	rc = sk_quarantine_get(t->q, res.quarantine_id, it, &e);
	*denied = blocked && rp->reason == SK_REASON_POLICY_DENY;
	sk_result_free(&res);
	if (rc) {
		busy(r, &e);
		return rc;
	}
	return 0;
}

json_t *skh_item_json(skh_req *r, const sk_qitem *it)
{
	skh_tctx *t = skh_ctx(r);
	return t ? item_json(r, t, it, false) : NULL;
}

struct list_ctx {
	skh_req *r;
	skh_tctx *t;
	json_t *arr;
};

static int add_item(void *ctx, const sk_qitem *it)
{
	struct list_ctx *c = ctx;
	json_array_append_new(c->arr, item_json(c->r, c->t, it, false));
	return 0;
}

/* The scope of a listing: "own", "section" or "all", checked against the rights (and
 * own only on a listener other than the console's). 0, or an answer is set. */
static int scope_of(skh_req *r, sk_qquery *q)
{
	uint32_t p = r->rights.perms;
	const char *s = skh_arg(r, "scope");
	if (!s)
		s = !r->l->console                  ? "own"
		    : (p & SK_PERM_ALL_ITEMS)       ? "all"
		    : (p & SK_PERM_SECTION_ITEMS)   ? "section"
						    : "own";
	bool ok = false;
	if (!strcmp(s, "own")) {
		ok = p & SK_PERM_DOWNLOAD;
		q->submitter_uid = r->user.id;
	} else if (!strcmp(s, "section")) {
		ok = r->l->console && (p & SK_PERM_SECTION_ITEMS) && r->rights.section[0];
		q->submitter_uid = r->user.id;
		q->section = r->rights.section;
	} else if (!strcmp(s, "all")) {
		ok = r->l->console && (p & SK_PERM_ALL_ITEMS);
	} else {
		bad_request(r, "scope は own・section・all です", "scope is own, section or all");
		return SK_EINVAL;
	}
	if (!ok) {
		skh_error(r, MHD_HTTP_FORBIDDEN, "forbidden", "権限がありません",
			  "You do not have the right to do this", NULL);
		return SK_EINVAL;
	}
	return 0;
}

void skh_items_list(skh_req *r)
{
	skh_tctx *t = skh_ctx(r);
	bool bad = false;
	long page = arg_long(r, "page", 1, 1, 1000000, &bad);
	long per = arg_long(r, "per_page", 50, 1, SKH_PER_PAGE_MAX, &bad);
	sk_error e;
	sk_error_clear(&e);
	sk_qquery q;
	memset(&q, 0, sizeof(q));
	const char *s = skh_arg(r, "since"), *u = skh_arg(r, "until");
	if ((s && sk_time_parse(s, &q.since_us, &e) != 0) ||
	    (u && sk_time_parse(u, &q.until_us, &e) != 0))
		bad = true;
	q.verdict = skh_arg(r, "verdict");
	if (q.verdict && strcmp(q.verdict, "clean") && strcmp(q.verdict, "sanitized") &&
	    strcmp(q.verdict, "held") && strcmp(q.verdict, "blocked"))
		bad = true;
	q.name = skh_arg(r, "name");
	if (bad) {
		bad_request(r, "page・per_page・since・until・verdict の値が不正です",
			    "page, per_page, since, until or verdict is invalid");
		return;
	}
	if (scope_of(r, &q) != 0)
		return;
	if (!t) {
		busy(r, &e);
		return;
	}
	q.offset = (uint64_t)(page - 1) * (uint64_t)per;
	q.limit = (uint64_t)per;
	struct list_ctx c = {r, t, json_array()};
	uint64_t total = 0;
	if (sk_quarantine_query(t->q, &q, add_item, &c, &total, &e) != 0) {
		json_decref(c.arr);
		busy(r, &e);
		return;
	}
	skh_json(r, MHD_HTTP_OK,
		 json_pack("{s:o,s:I,s:i,s:i}", "items", c.arr, "total", (json_int_t)total, "page",
			   (int)page, "per_page", (int)per));
}

void skh_item_get(skh_req *r)
{
	skh_tctx *t = skh_ctx(r);
	sk_qitem it;
	if (!t) {
		sk_error e = {0};
		busy(r, &e);
		return;
	}
	if (load_item(r, t, &it) != 0)
		return;
	skh_json(r, MHD_HTTP_OK, item_json(r, t, &it, true));
	sk_qitem_free(&it);
}

/* Did the user approve a request of the item? */
struct approved_ctx {
	int64_t uid;
	bool yes;
};
static int approved_one(void *ctx, const sk_qrequest *q)
{
	struct approved_ctx *c = ctx;
	for (size_t i = 0; i < q->napprovals; i++)
		if (q->approvals[i].uid == c->uid)
			c->yes = true;
	return c->yes;
}

void skh_item_content(skh_req *r)
{
	skh_tctx *t = skh_ctx(r);
	sk_error e;
	sk_error_clear(&e);
	if (!t) {
		busy(r, &e);
		return;
	}
	sk_qitem it;
	memset(&it, 0, sizeof(it));
	int rc = sk_quarantine_get(t->q, r->id, &it, &e);
	if (rc) {
		if (rc == SK_ENOTFOUND)
			not_found(r);
		else
			busy(r, &e);
		return;
	}
	bool owner = it.submitter_uid == r->user.id && (r->rights.perms & SK_PERM_DOWNLOAD);
	struct approved_ctx ac = {r->user.id, false};
	if (!owner && (r->rights.perms & SK_PERM_APPROVE)) {
		sk_qrfilter f = {.item = it.id, .state = "approved"};
		sk_quarantine_requests(t->q, &f, approved_one, &ac, &e);
	}
	/* only the owner (or an approver of its release), only on the destination's listener */
	if ((!owner && !ac.yes) || !it.dst_zone || strcmp(it.dst_zone, r->l->zone)) {
		sk_qitem_free(&it);
		not_found(r);
		return;
	}
	char dl[SKH_NAME_MAX + 40];
	int fd = -1;
	uint64_t size = 0;
	const char *orig = skh_arg(r, "original");
	if (orig && !strcmp(orig, "1")) {
		/* the original, after an approved `original` request by this user */
		sk_qactor who = actor_of(r);
		sk_qdeny deny = SK_QDENY_NONE;
		rc = sk_quarantine_original_open(t->q, it.id, &who, &fd, &size, &deny, &e);
		snprintf(dl, sizeof(dl), "%s", it.name && *it.name ? it.name : "original");
	} else {
		rc = sk_quarantine_result_open(t->q, it.id, &fd, &size, &e);
		skh_download_name(&it, dl, sizeof(dl));
	}
	if (rc == SK_ENOTFOUND || rc == SK_EINVAL) {
		const char *reason = it.reason && *it.reason ? it.reason : sk_qitem_verdict(&it);
		skh_error(r, MHD_HTTP_NOT_FOUND, "no-content",
			  "受け渡せる内容がありません (遮断または承認待ち)",
			  "There is nothing to deliver (blocked or awaiting approval)",
			  json_pack("{s:o,s:s}", "reason", str_or_null(reason), "reason_text",
				    reason_text(it.reason, r->lang)));
		sk_qitem_free(&it);
		return;
	}
	if (rc) {
		sk_qitem_free(&it);
		busy(r, &e);
		return;
	}
	char obj[128];
	snprintf(obj, sizeof(obj), "item:%s", it.id);
	skh_audit(r, "console-download", obj, orig ? "original" : "result", r->l->zone);
	sk_qitem_free(&it);
	skh_file(r, fd, size, dl, NULL);
}

/* ---- PPAP unlock ---- */

/* Zeroes the password strings of the request (jansson's copies) once they are used. */
static void passwords_zero(json_t *arr)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (json_is_string(v))
			explicit_bzero((char *)json_string_value(v), json_string_length(v));
	}
}

void skh_item_unlock(skh_req *r)
{
	skh_tctx *t = skh_ctx(r);
	sk_error e;
	sk_error_clear(&e);
	json_t *arr = json_object_get(r->json, "passwords");
	const char *pw[SK_UNLOCK_PASSWORDS_MAX];
	size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
	bool ok = n >= 1 && n <= SK_UNLOCK_PASSWORDS_MAX;
	for (size_t i = 0; ok && i < n; i++) {
		json_t *v = json_array_get(arr, i);
		pw[i] = json_string_value(v);
		ok = pw[i] && json_string_length(v) > 0 && strlen(pw[i]) == json_string_length(v);
	}
	if (!t) {
		passwords_zero(arr);
		busy(r, &e);
		return;
	}
	/* the owner only, and only on the listener of the zone the item came from (where
	 * its sender, who knows the password, is); another item answers 404 */
	sk_qitem it;
	memset(&it, 0, sizeof(it));
	int rc = sk_quarantine_get(t->q, r->id, &it, &e);
	if (rc == 0 && (it.submitter_uid != r->user.id || !it.src_zone ||
			strcmp(it.src_zone, r->l->zone)))
		rc = SK_ENOTFOUND;
	sk_qitem_free(&it);
	if (rc) {
		passwords_zero(arr);
		if (rc == SK_ENOTFOUND)
			not_found(r);
		else
			busy(r, &e);
		return;
	}
	if (!ok) {
		passwords_zero(arr);
		bad_request(r, "パスワードを 1〜5 個、passwords として送ってください",
			    "Send 1 to 5 passwords as passwords");
		return;
	}
	sk_options o = gate_opt(r, t);
	sk_result res;
	sk_unlock_status st = SK_UNLOCK_BAD_REQUEST;
	int64_t t0 = skd_now_us();
	rc = sk_gate_unlock(&o, r->id, pw, n, r->user.name, NULL, &res, &st, &e);
	int64_t us = skd_now_us() - t0;
	passwords_zero(arr);
	explicit_bzero(pw, sizeof(pw));
	const char *verdict = sk_verdict_code(res.report.verdict);
	SKD_EVENT(rc == 0 && st == SK_UNLOCK_DONE ? SKD_INFO : SKD_NOTICE, "unlock",
		  "パスワード付き ZIP の解除", "password ZIP unlock", SKD_S("item", r->id),
		  SKD_S("user", r->user.name),
		  SKD_S("status", st == SK_UNLOCK_DONE	       ? "done"
				  : st == SK_UNLOCK_WRONG_PASSWORD ? "wrong-password"
				  : st == SK_UNLOCK_TOO_MANY       ? "too-many-attempts"
				  : st == SK_UNLOCK_NOT_ENCRYPTED  ? "not-encrypted"
								   : "bad-request"),
		  SKD_S("verdict", rc == 0 ? verdict : ""), SKD_N("ms", us / 1000));
	if (rc == SK_ELOCKED || (rc && st == SK_UNLOCK_TOO_MANY)) {
		sk_result_free(&res);
		skh_error(r, MHD_HTTP_TOO_MANY_REQUESTS, "too-many-attempts",
			  sk_unlock_status_text(SK_UNLOCK_TOO_MANY, false),
			  sk_unlock_status_text(SK_UNLOCK_TOO_MANY, true),
			  json_pack("{s:i}", "tries_left", 0));
		return;
	}
	if (rc == SK_EINVAL && st == SK_UNLOCK_NOT_ENCRYPTED) {
		sk_result_free(&res);
		skh_error(r, MHD_HTTP_CONFLICT, "conflict",
			  sk_unlock_status_text(st, false), sk_unlock_status_text(st, true), NULL);
		return;
	}
	if (rc == SK_EINVAL && st == SK_UNLOCK_BAD_REQUEST) {
		sk_result_free(&res);
		bad_request(r, "パスワードは 1〜5 個、それぞれ制御文字を含まず 1024 バイトまでです",
			    "1 to 5 passwords, each without control characters and at most 1024 bytes");
		return;
	}
	if (rc == SK_ENOTFOUND) {
		sk_result_free(&res);
		not_found(r);
		return;
	}
	if (rc) {
		sk_result_free(&res);
		busy(r, &e);
		return;
	}
	bool wrong = st == SK_UNLOCK_WRONG_PASSWORD;
	unsigned tries = 0;
	if (wrong && sk_quarantine_unlock_tries(t->q, r->id, 0, &tries, &e) != 0)
		tries = SK_UNLOCK_TRIES_MAX;
	sk_reason reason = res.report.verdict == SK_VERDICT_BLOCKED ? res.report.reason
								     : SK_REASON_NONE;
	json_t *o2 = json_pack("{s:s,s:o,s:s,s:b}", "verdict", verdict, "reason",
			       reason != SK_REASON_NONE ? json_string(sk_reason_code(reason))
							: json_null(),
			       "reason_text",
			       reason != SK_REASON_NONE ? sk_reason_text(reason, r->lang) : "",
			       "wrong_password", wrong);
	sk_result_free(&res);
	if (wrong && o2)
		json_object_set_new(o2, "tries_left",
				    json_integer(tries < SK_UNLOCK_TRIES_MAX
							 ? (json_int_t)(SK_UNLOCK_TRIES_MAX - tries)
							 : 0));
	memset(&it, 0, sizeof(it));
	if (o2 && sk_quarantine_get(t->q, r->id, &it, &e) == 0) {
		json_object_set_new(o2, "item", item_json(r, t, &it, false));
		sk_qitem_free(&it);
	}
	skh_json(r, MHD_HTTP_OK, o2);
}

/* ---- release requests ---- */

static void notify(skh_req *r, const char *what, const sk_qrequest *q);

void skh_request_create(skh_req *r)
{
	skh_tctx *t = skh_ctx(r);
	sk_error e;
	sk_error_clear(&e);
	const char *kind_s = json_string_value(json_object_get(r->json, "kind"));
	const char *reason = json_string_value(json_object_get(r->json, "reason"));
	sk_qkind kind = SK_QKIND_RELEASE;
	if ((kind_s && sk_qkind_from_code(kind_s, &kind) != 0) || !reason || !*reason ||
	    strlen(reason) > SKH_TEXT_MAX || !sk_utf8_valid(reason, strlen(reason))) {
		bad_request(r, "kind (release・original) と理由 (reason) を送ってください",
			    "Send kind (release or original) and a reason");
		return;
	}
	if (!t) {
		busy(r, &e);
		return;
	}
	sk_qitem it;
	if (load_item(r, t, &it) != 0)
		return;
	bool owner = it.submitter_uid == r->user.id;
	sk_qitem_free(&it);
	if (!owner) {
		skh_error(r, MHD_HTTP_FORBIDDEN, "forbidden",
			  "自分が送ったファイルだけ取り出しを申請できます",
			  "Only the sender of a file can ask for its release", NULL);
		return;
	}
	sk_qactor who = actor_of(r);
	sk_qdeny deny = SK_QDENY_NONE;
	int64_t rid = 0;
	int rc = sk_quarantine_request_create(t->q, r->id, kind, &who, reason,
					      sk_release_needed(r->l->s->d->policy, kind), &rid,
					      &deny, &e);
	if (rc == SK_EINVAL && (deny == SK_QDENY_STATE || deny == SK_QDENY_PENDING)) {
		skh_error(r, MHD_HTTP_CONFLICT, "conflict", sk_qdeny_text(deny, false),
			  sk_qdeny_text(deny, true), NULL);
		return;
	}
	if (rc == SK_EINVAL) {
		bad_request(r, sk_qdeny_text(deny, false), sk_qdeny_text(deny, true));
		return;
	}
	sk_qrequest q;
	memset(&q, 0, sizeof(q));
	if (rc || (rc = sk_quarantine_request_get(t->q, rid, &q, &e)) != 0) {
		busy(r, &e);
		return;
	}
	notify(r, "requested", &q);
	skh_json(r, MHD_HTTP_CREATED, request_json(&q));
	sk_qrequest_free(&q);
}

struct rlist_ctx {
	skh_req *r;
	skh_tctx *t;
	json_t *arr;
};

static int add_visible_request(void *ctx, const sk_qrequest *q)
{
	struct rlist_ctx *c = ctx;
	skh_req *r = c->r;
	bool show = q->requester_uid == r->user.id && (r->rights.perms & SK_PERM_REQUEST);
	if (!show && (r->rights.perms & (SK_PERM_APPROVE | SK_PERM_RELEASE_ORIGINAL))) {
		sk_qitem it;
		sk_error e;
		memset(&it, 0, sizeof(it));
		if (sk_quarantine_get(c->t->q, q->item, &it, &e) == 0) {
			sk_qactor who = actor_of(r);
			show = sk_release_may_decide(r->l->s->d->policy, &it, q, &who, &r->rights,
						     NULL) == 0;
			sk_qitem_free(&it);
		}
	}
	if (show)
		json_array_append_new(c->arr, request_json(q));
	return json_array_size(c->arr) >= SKH_REQUESTS_MAX;
}

void skh_requests_list(skh_req *r)
{
	skh_tctx *t = skh_ctx(r);
	sk_error e;
	sk_error_clear(&e);
	const char *state = skh_arg(r, "state");
	sk_qrstate st;
	if (state && sk_qrstate_from_code(state, &st) != 0) {
		bad_request(r, "state は pending・approved・refused です",
			    "state is pending, approved or refused");
		return;
	}
	if (!t) {
		busy(r, &e);
		return;
	}
	struct rlist_ctx c = {r, t, json_array()};
	sk_qrfilter f = {.state = state};
	int rc = sk_quarantine_requests(t->q, &f, add_visible_request, &c, &e);
	if (rc < 0) {
		json_decref(c.arr);
		busy(r, &e);
		return;
	}
	skh_json(r, MHD_HTTP_OK, json_pack("{s:o}", "requests", c.arr));
}

/* After the decision of a held mail's request: what happened to the mail (an event, and
 * "mail" in the answer: sent, or the error; a refusal's notice to the sender). */
static void mail_outcome(skh_req *r, const sk_qrequest *q, const sk_qitem *it,
			 const sk_release_outcome *out, json_t *o)
{
	char rid[32];
	snprintf(rid, sizeof(rid), "%lld", (long long)q->id);
	if (out && out->mail) {
		/* retry: the result is there but the MTA did not take it (a rerun that blocked
		 * left nothing to send: the sender was told instead) */
		bool retry = out->released && !out->mail_sent;
		json_object_set_new(o, "mail",
				    json_pack("{s:b,s:b,s:o}", "sent", out->mail_sent, "retry", retry,
					      "error",
					      str_or_null(out->mail_error[0] ? out->mail_error : NULL)));
		if (!out->released)
			SKD_EVENT(SKD_NOTICE, "mail-blocked",
				  "承認後の再処理で遮断されたため、メールは送信しません (送信者に通知)",
				  "blocked again after approval: the mail is not sent (the sender is told)",
				  SKD_S("request", rid), SKD_S("item", it->id),
				  SKD_S("error", out->mail_error));
		else if (out->mail_sent)
			SKD_EVENT(SKD_INFO, "mail-send", "承認されたメールを送信しました",
				  "the approved mail was sent", SKD_S("request", rid),
				  SKD_S("item", it->id), SKD_S("sender", it->env_from),
				  SKD_N("recipients", it->env_nrcpt), SKD_S("user", r->user.name));
		else
			SKD_EVENT(SKD_ERR, "mail-send-error",
				  "承認されたメールを送信できませんでした (再送できます)",
				  "the approved mail could not be sent (it can be sent again)",
				  SKD_S("request", rid), SKD_S("item", it->id),
				  SKD_S("error", out->mail_error), SKD_S("user", r->user.name));
		return;
	}
	if (!out && it->mail_error)
		SKD_EVENT(SKD_WARNING, "notify-error", "送信者への通知を送れませんでした (却下はそのままです)",
			  "the sender's notice could not be sent (the refusal stands)",
			  SKD_S("request", rid), SKD_S("item", it->id), SKD_S("error", it->mail_error));
}

static void decide(skh_req *r, bool approve)
{
	skh_tctx *t = skh_ctx(r);
	sk_error e;
	sk_error_clear(&e);
	char *end;
	long long rid = strtoll(r->id, &end, 10);
	json_t *cj = json_object_get(r->json, "comment");
	const char *comment = json_string_value(cj);
	if (*end || rid <= 0) {
		not_found(r);
		return;
	}
	if ((cj && !json_is_string(cj) && !json_is_null(cj)) ||
	    (comment && (strlen(comment) > SKH_TEXT_MAX || !sk_utf8_valid(comment, strlen(comment))))) {
		bad_request(r, "comment が不正です", "Invalid comment");
		return;
	}
	if (!t) {
		busy(r, &e);
		return;
	}
	sk_qrequest q;
	memset(&q, 0, sizeof(q));
	int rc = sk_quarantine_request_get(t->q, rid, &q, &e);
	if (rc == SK_ENOTFOUND) {
		not_found(r);
		return;
	}
	if (rc) {
		busy(r, &e);
		return;
	}
	sk_qrequest_free(&q);
	sk_options o = gate_opt(r, t);
	sk_qactor who = actor_of(r);
	sk_qdeny deny = SK_QDENY_NONE;
	sk_release_outcome out;
	memset(&out, 0, sizeof(out));
	rc = approve ? sk_release_approve(&o, rid, &who, &r->rights, comment, &out, &deny, &e)
		     : sk_release_refuse(&o, rid, &who, &r->rights, comment, &deny, &e);
	if (rc == SK_EINVAL) {
		bool conflict = deny == SK_QDENY_STATE || deny == SK_QDENY_TWICE;
		skh_error(r, conflict ? MHD_HTTP_CONFLICT : MHD_HTTP_FORBIDDEN,
			  conflict ? "conflict" : "forbidden", sk_qdeny_text(deny, false),
			  sk_qdeny_text(deny, true),
			  json_pack("{s:s}", "deny", sk_qdeny_code(deny)));
		return;
	}
	if (rc || (rc = sk_quarantine_request_get(t->q, rid, &q, &e)) != 0) {
		busy(r, &e);
		return;
	}
	json_t *o2 = request_json(&q);
	if (q.state != SK_QREQ_PENDING) {
		sk_qitem it;
		memset(&it, 0, sizeof(it));
		bool got = sk_quarantine_get(t->q, q.item, &it, &e) == 0;
		/* held mail: the gate told its sender (the bounce) or sent it; else the requester
		 * gets the usual notice */
		if (!got || !it.env_from)
			notify(r, approve ? "approved" : "refused", &q);
		else
			mail_outcome(r, &q, &it, approve ? &out : NULL, o2);
		if (got) {
			json_object_set_new(o2, "item", item_json(r, t, &it, false));
			sk_qitem_free(&it);
		}
	}
	sk_qrequest_free(&q);
	skh_json(r, MHD_HTTP_OK, o2);
}

void skh_request_approve(skh_req *r)
{
	decide(r, true);
}

void skh_request_refuse(skh_req *r)
{
	decide(r, false);
}

/* POST /api/requests/{id}/send: the released result of held mail sent again to its
 * envelope after the MTA did not take it (sk_release_send). Who may decide the request
 * may send it; never twice. */
void skh_request_send(skh_req *r)
{
	skh_tctx *t = skh_ctx(r);
	sk_error e;
	sk_error_clear(&e);
	char *end;
	long long rid = strtoll(r->id, &end, 10);
	if (*end || rid <= 0) {
		not_found(r);
		return;
	}
	if (!t) {
		busy(r, &e);
		return;
	}
	sk_qrequest q;
	sk_qitem it;
	memset(&q, 0, sizeof(q));
	memset(&it, 0, sizeof(it));
	int rc = sk_quarantine_request_get(t->q, rid, &q, &e);
	if (rc == 0)
		rc = sk_quarantine_get(t->q, q.item, &it, &e);
	sk_qactor who = actor_of(r);
	if (rc == SK_ENOTFOUND ||
	    (rc == 0 && sk_release_may_decide(r->l->s->d->policy, &it, &q, &who, &r->rights, NULL) != 0)) {
		sk_qrequest_free(&q);
		sk_qitem_free(&it);
		not_found(r);
		return;
	}
	if (rc) {
		sk_qrequest_free(&q);
		busy(r, &e);
		return;
	}
	bool ready = q.kind == SK_QKIND_RELEASE && q.state == SK_QREQ_APPROVED && it.env_from &&
		     it.state == SK_QSTATE_RELEASED && !it.mail_sent_us;
	if (!ready) {
		sk_qrequest_free(&q);
		sk_qitem_free(&it);
		skh_error(r, MHD_HTTP_CONFLICT, "conflict",
			  "送信できるメールではありません (承認済みの未送信のメールだけ送信できます)",
			  "There is no approved, unsent mail to send", NULL);
		return;
	}
	sk_options o = gate_opt(r, t);
	rc = sk_release_send(&o, it.id, r->user.name, &e);
	sk_qitem_free(&it);
	memset(&it, 0, sizeof(it));
	sk_release_outcome out;
	memset(&out, 0, sizeof(out));
	out.mail = true;
	out.released = true;
	out.mail_sent = rc == 0;
	if (rc)
		snprintf(out.mail_error, sizeof(out.mail_error), "%s", e.msg);
	json_t *o2 = request_json(&q);
	sk_error ge;
	if (sk_quarantine_get(t->q, q.item, &it, &ge) == 0) {
		mail_outcome(r, &q, &it, &out, o2);
		json_object_set_new(o2, "item", item_json(r, t, &it, false));
		sk_qitem_free(&it);
	}
	sk_qrequest_free(&q);
	if (rc == SK_EIO) {
		skh_error(r, MHD_HTTP_BAD_GATEWAY, "mail-send-failed",
			  "メールサーバがメールを受け取りませんでした。あとでもう一度送信してください",
			  "The mail server did not take the mail; send it again later",
			  json_pack("{s:o}", "request", o2));
		return;
	}
	if (rc) {
		json_decref(o2);
		busy(r, &e);
		return;
	}
	skh_json(r, MHD_HTTP_OK, o2);
}

/* ---- notices ---- */

/* The request changed: an event, and the mail notices (skd_notify_request). */
static void notify(skh_req *r, const char *what, const sk_qrequest *q)
{
	skh_tctx *t = skh_ctx(r);
	char rid[32];
	snprintf(rid, sizeof(rid), "%lld", (long long)q->id);
	SKD_EVENT(SKD_INFO, "request", "取り出し申請の状態が変わりました", "a release request changed",
		  SKD_S("what", what), SKD_S("request", rid), SKD_S("item", q->item),
		  SKD_S("kind", sk_qkind_code(q->kind)), SKD_S("user", r->user.name));
	if (t)
		skd_notify_request(r->l->s->d->policy, t->q, t->auth, r->l->s->gate.audit, r->user.name,
				   what, q);
}

/* ---- dashboard ---- */

void skh_dashboard(skh_req *r)
{
	skh_tctx *t = skh_ctx(r);
	bool bad = false;
	long days = arg_long(r, "days", 14, 1, SK_QSTATS_DAYS_MAX, &bad);
	sk_error e;
	sk_error_clear(&e);
	if (bad) {
		bad_request(r, "days は 1 から 366 です", "days is 1 to 366");
		return;
	}
	/* the widest scope the user has (as for GET /api/items) */
	sk_qquery scope;
	memset(&scope, 0, sizeof(scope));
	uint32_t p = r->rights.perms;
	if (!(p & SK_PERM_ALL_ITEMS)) {
		scope.submitter_uid = r->user.id;
		if ((p & SK_PERM_SECTION_ITEMS) && r->rights.section[0])
			scope.section = r->rights.section;
	}
	sk_qstats *st = calloc(1, sizeof(*st));
	if (!t || !st || sk_quarantine_stats(t->q, &scope, (unsigned)days, st, &e) != 0) {
		free(st);
		busy(r, &e);
		return;
	}
	json_t *per = json_array(), *top = json_array();
	for (size_t i = 0; i < st->ndays; i++)
		json_array_append_new(per, json_pack("{s:s,s:I,s:I,s:I,s:I}", "date", st->day[i].date,
						     "clean", (json_int_t)st->day[i].clean,
						     "sanitized", (json_int_t)st->day[i].sanitized,
						     "held", (json_int_t)st->day[i].held, "blocked",
						     (json_int_t)st->day[i].blocked));
	for (size_t i = 0; i < st->ntop; i++)
		json_array_append_new(top, json_pack("{s:s,s:s,s:I}", "reason", st->top[i].reason,
						     "reason_text",
						     reason_text(st->top[i].reason, r->lang), "count",
						     (json_int_t)st->top[i].count));
	sk_pool_stats ps;
	memset(&ps, 0, sizeof(ps));
	if (r->l->s->gate.pool)
		sk_pool_stats_get(r->l->s->gate.pool, &ps);
	skd_metrics *m = r->l->s->d->metrics;
	uint64_t restarts = 0;
	for (size_t i = 0; i < skd_nroles; i++)
		restarts += atomic_load(&m->role_restarts[i]);
	/* the office pool (legacy formats): running once started, its conversions */
	sk_office_stats os;
	bool office = sk_gate_office_stats(r->l->s->gate.office, &os);
	skh_json(r, MHD_HTTP_OK,
		 json_pack("{s:o,s:o,s:I,s:{s:i,s:I,s:I,s:I,s:I},s:{s:b,s:I,s:I,s:I,s:I},s:s}",
			   "per_day", per, "top_reasons", top, "pending_requests",
			   (json_int_t)st->pending_requests, "workers", "alive", (int)ps.running,
			   "jobs", (json_int_t)ps.jobs, "restarts", (json_int_t)restarts, "crashes",
			   (json_int_t)ps.crashes, "timeouts", (json_int_t)ps.timeouts, "office",
			   "running", office, "conversions", (json_int_t)os.jobs, "failures",
			   (json_int_t)os.failures, "restarts", (json_int_t)os.restarts, "timeouts",
			   (json_int_t)os.timeouts, "zone", "JST"));
	free(st);
}
