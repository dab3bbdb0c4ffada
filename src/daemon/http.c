/* sekishod's http role: one HTTPS listener per zone (libmicrohttpd with GnuTLS), the
 * dispatcher (zone → session → CSRF → permission → body → handler), the answers and
 * their security headers. The sockets, the certificate and the key come from the master
 * (opened and read as root before it dropped privileges). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "sekisho/audit.h"
#include "sekisho/quarantine.h"

#define SKH_THREADS 8          /* threads per listener */
#define SKH_CONNECTIONS 256    /* connections per listener */
#define SKH_PER_IP 64          /* connections from one address */
#define SKH_TIMEOUT 120        /* s of inactivity before a connection is closed */

static skh_server server;

/* ---- per-thread handles ---- */

static pthread_mutex_t ctx_mu = PTHREAD_MUTEX_INITIALIZER;
static skh_tctx *ctx_all[SKH_THREADS * SKD_HTTP_MAX + 8];
static size_t ctx_n;
static _Thread_local skh_tctx *ctx_mine;

skh_tctx *skh_ctx(skh_req *r)
{
	(void)r;
	if (ctx_mine)
		return ctx_mine;
	skh_tctx *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	sk_error e;
	sk_error_clear(&e);
	const char *state = server.d->cfg.state;
	if (sk_audit_open(state, NULL, &t->audit, &e) != 0 ||
	    sk_auth_open(state, server.gate.audit, &server.auth_settings, NULL, &t->auth, &e) != 0 ||
	    sk_quarantine_open(state, server.gate.audit, NULL, &t->q, &e) != 0) {
		SKD_EVENT(SKD_ERR, "http-error", "状態フォルダを開けません", "cannot open the state folder",
			  SKD_S("error", e.msg));
		sk_auth_close(t->auth);
		sk_audit_close(t->audit);
		free(t);
		return NULL;
	}
	pthread_mutex_lock(&ctx_mu);
	if (ctx_n < sizeof(ctx_all) / sizeof(ctx_all[0]))
		ctx_all[ctx_n++] = t;
	pthread_mutex_unlock(&ctx_mu);
	ctx_mine = t;
	return t;
}

static void ctx_close_all(void)
{
	for (size_t i = 0; i < ctx_n; i++) {
		sk_quarantine_close(ctx_all[i]->q);
		sk_auth_close(ctx_all[i]->auth);
		sk_audit_close(ctx_all[i]->audit);
		free(ctx_all[i]);
	}
	ctx_n = 0;
}

/* ---- answers ---- */

static void set_resp(skh_req *r, unsigned status, struct MHD_Response *resp)
{
	if (r->resp)
		MHD_destroy_response(r->resp);
	r->status = status;
	r->resp = resp;
}

void skh_json(skh_req *r, unsigned status, json_t *o)
{
	char *raw = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(o);
	/* '<', '>' and '&' only occur inside strings: written as \u escapes, the answer
	 * holds no markup even if a client mistook it for HTML */
	size_t n = raw ? strlen(raw) : 0, extra = 0;
	for (size_t i = 0; i < n; i++)
		extra += strchr("<>&", raw[i]) ? 5 : 0;
	char *s = raw ? malloc(n + extra + 1) : NULL;
	if (s) {
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			if (strchr("<>&", raw[i]) && raw[i]) {
				k += (size_t)sprintf(s + k, "\\u%04x", (unsigned)(unsigned char)raw[i]);
				continue;
			}
			s[k++] = raw[i];
		}
		s[k] = 0;
	}
	free(raw);
	if (!s) {
		set_resp(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(s);
		set_resp(r, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
		return;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json; charset=utf-8");
	set_resp(r, status, resp);
}

void skh_error(skh_req *r, unsigned status, const char *code, const char *ja, const char *en,
	       json_t *more)
{
	json_t *e = json_pack("{s:s,s:s,s:s}", "code", code, "message", ja, "message_en", en);
	if (e && more)
		json_object_update(e, more);
	json_decref(more);
	skh_json(r, status, json_pack("{s:o}", "error", e));
}

/* RFC 5987 value: UTF-8, every byte outside attr-char percent-encoded. */
static void disposition(sk_buf *b, const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	sk_buf_adds(b, "attachment; filename*=UTF-8''");
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    strchr("!#$&+-.^_`|~", *p))
			sk_buf_addc(b, *p);
		else {
			sk_buf_addc(b, '%');
			sk_buf_addc(b, (uint8_t)hex[*p >> 4]);
			sk_buf_addc(b, (uint8_t)hex[*p & 15]);
		}
	}
}

void skh_file(skh_req *r, int fd, uint64_t size, const char *name, const char *type)
{
	struct MHD_Response *resp = MHD_create_response_from_fd64(size, fd);
	if (!resp) {
		close(fd);
		skh_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", "混み合っています",
			  "The gateway is busy", NULL);
		return;
	}
	sk_buf b;
	sk_buf_init(&b, 8192);
	disposition(&b, name && *name ? name : "download");
	MHD_add_response_header(resp, "Content-Disposition", sk_buf_str(&b));
	sk_buf_free(&b);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				type && *type ? type : "application/octet-stream");
	set_resp(r, MHD_HTTP_OK, resp);
}

const char *skh_arg(skh_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->c, MHD_GET_ARGUMENT_KIND, key);
}

void skh_audit(skh_req *r, const char *action, const char *object, const char *result,
	       const char *detail)
{
	sk_error e;
	sk_error_clear(&e);
	const char *actor = r->authed ? r->user.name : "-";
	if (sk_audit_append(server.gate.audit, actor, action, object, result, detail ? detail : "",
			    NULL, &e) != 0)
		SKD_EVENT(SKD_ERR, "audit-error", "監査ログに記録できません", "cannot write the audit log",
			  SKD_S("action", action), SKD_S("error", e.msg));
}

void skh_time_jst(int64_t us, char out[32])
{
	if (!us) {
		out[0] = 0;
		return;
	}
	time_t t = (time_t)(us / 1000000) + 9 * 3600;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S+09:00", &tm);
}

json_t *skh_time_json(int64_t us)
{
	char s[32];
	skh_time_jst(us, s);
	return *s ? json_string(s) : json_null();
}

/* The headers of docs/api.md "Common rules", on every answer. */
static void security_headers(skh_req *r, struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'self'; object-src 'none'; base-uri 'none'; "
				"frame-ancestors 'none'");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				r->is_static ? "no-cache" : "no-store");
	if (*r->cookie)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, r->cookie);
}

static enum MHD_Result send_answer(skh_req *r)
{
	if (!r->resp) {
		/* a handler that produced nothing, or an allocation failure */
		r->resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		if (!r->resp)
			return MHD_NO;
		if (!r->status || r->status == MHD_HTTP_OK)
			r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
	security_headers(r, r->resp);
	enum MHD_Result rc = MHD_queue_response(r->c, r->status, r->resp);
	MHD_destroy_response(r->resp);
	r->resp = NULL;
	return rc;
}

/* ---- routing ---- */

/* Matches path against a pattern. A parameter, {id} or {rid}, is the longest run of
 * letters, digits, '-' and '_' (1 to 64 bytes) at its place, and the pattern's text after
 * it must follow ("/api/ledgers/{id}.xlsx" takes "assets.xlsx"); the values go to id and
 * rid. *params gets the number of parameters. */
static bool match(const char *pattern, const char *path, char id[72], char rid[72], int *params)
{
	const char *p = pattern, *u = path;
	*params = 0;
	while (*p) {
		bool is_id = !strncmp(p, "{id}", 4), is_rid = !strncmp(p, "{rid}", 5);
		if (is_id || is_rid) {
			size_t n = 0;
			for (;; n++) {
				char ch = u[n];
				if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
					break;
			}
			if (!n || n > 64)
				return false;
			char *out = is_id ? id : rid;
			memcpy(out, u, n);
			out[n] = 0;
			u += n;
			p += is_id ? 4 : 5;
			(*params)++;
			continue;
		}
		if (*p != *u)
			return false;
		p++;
		u++;
	}
	return *u == 0;
}

/* The route of method + path; *path_known tells whether the path exists for another
 * method (405 rather than 404). Where several routes match, the one with the fewest
 * parameters wins (static text over a parameter: "/api/ledgers/{id}/import" over
 * "/api/ledgers/{id}/{rid}"), then the first in the table. */
static const skh_route *route_find(const char *method, const char *path, char id[72],
				   char rid[72], bool *path_known)
{
	*path_known = false;
	const skh_route *best = NULL;
	int best_params = 0;
	for (size_t i = 0; i < skh_nroutes; i++) {
		char tid[72] = "", trid[72] = "";
		int params;
		if (!match(skh_routes[i].pattern, path, tid, trid, &params))
			continue;
		*path_known = true;
		if (strcmp(skh_routes[i].method, method) || (best && params >= best_params))
			continue;
		best = &skh_routes[i];
		best_params = params;
		memcpy(id, tid, sizeof(tid));
		memcpy(rid, trid, sizeof(trid));
	}
	return best;
}

void skh_routes_print(FILE *f)
{
	for (size_t i = 0; i < skh_nroutes; i++) {
		const skh_route *rt = &skh_routes[i];
		fprintf(f, "%s\t%s\t%s\t%s\t", rt->method, rt->pattern,
			rt->where == SKH_CONSOLE_ZONE ? "console" : "any",
			rt->session ? "session" : "none");
		if (!rt->perms)
			fputc('-', f);
		for (uint32_t b = 1, first = 1; b && b <= rt->perms; b <<= 1)
			if (rt->perms & b) {
				fprintf(f, "%s%s", first ? "" : ",", sk_auth_perm_code(b));
				first = 0;
			}
		fprintf(f, "\t%s\n", rt->csrf ? "yes" : "no");
	}
}

static sk_lang req_lang(struct MHD_Connection *c)
{
	const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "lang");
	if (q)
		return sk_lang_from_string(q);
	const char *al = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_ACCEPT_LANGUAGE);
	return al && !strncasecmp(al, "en", 2) ? SK_LANG_EN : SK_LANG_JA;
}

static void peer_of(struct MHD_Connection *c, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, n, "-");
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)n);
}

/* A refused change by a logged-in user is on record too. */
static void refused(skh_req *r, unsigned status, const char *code, const char *ja,
		    const char *en)
{
	if (r->authed && r->route && r->route->csrf) {
		char obj[1100];
		snprintf(obj, sizeof(obj), "%s %s", r->method, r->url);
		skh_audit(r, "console-refused", obj, code, "");
	}
	skh_error(r, status, code, ja, en, NULL);
}

void skh_forbidden(skh_req *r, const char *ja, const char *en, json_t *more)
{
	if (r->authed && r->route && r->route->csrf) {
		char obj[1100];
		snprintf(obj, sizeof(obj), "%s %s", r->method, r->url);
		skh_audit(r, "console-refused", obj, "forbidden", "");
	}
	skh_error(r, MHD_HTTP_FORBIDDEN, "forbidden", ja, en, more);
}

/* The most bytes of a route's request body. */
static uint64_t body_cap(const skh_route *rt)
{
	if (rt->body == SKH_BODY_FILE)
		return rt->body_max ? rt->body_max : server.max_upload;
	return rt->body == SKH_BODY_JSON ? SKH_JSON_MAX : 0;
}

/* The checks before the body: 0 to go on, or an answer is set. */
static int admit(skh_req *r)
{
	const skh_route *rt = r->route;
	if (rt->where == SKH_CONSOLE_ZONE && !r->l->console) {
		skh_error(r, MHD_HTTP_NOT_FOUND, "not-found", "この受付では扱っていません",
			  "Not served on this listener", NULL);
		return SK_EINVAL;
	}
	if (rt->session) {
		skh_tctx *t = skh_ctx(r);
		if (!t) {
			skh_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", "混み合っています",
				  "The gateway is busy", NULL);
			return SK_EINVAL;
		}
		const char *tok = MHD_lookup_connection_value(r->c, MHD_COOKIE_KIND, "sk_session");
		sk_error e;
		sk_error_clear(&e);
		if (!tok || strlen(tok) != SK_AUTH_TOKEN_LEN ||
		    sk_auth_session_get(t->auth, tok, r->l->zone, &r->sess, &e) != 0 ||
		    sk_auth_user_get_id(t->auth, r->sess.user_id, &r->user, &e) != 0 ||
		    r->user.disabled) {
			skh_error(r, MHD_HTTP_UNAUTHORIZED, "unauthenticated",
				  "ログインしてください", "Please log in", NULL);
			return SK_EINVAL;
		}
		sk_auth_effective(&r->user, server.d->policy, &r->rights);
		r->authed = true;
	}
	if (rt->csrf) {
		const char *h = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, "X-CSRF-Token");
		if (!h || !sk_auth_csrf_ok(&r->sess, h)) {
			refused(r, MHD_HTTP_FORBIDDEN, "csrf",
				"画面を開き直してください (CSRF トークンがありません)",
				"Reload the page (missing or wrong CSRF token)");
			return SK_EINVAL;
		}
	}
	if (rt->perms && !(r->rights.perms & rt->perms)) {
		refused(r, MHD_HTTP_FORBIDDEN, "forbidden", "権限がありません",
			"You do not have the right to do this");
		return SK_EINVAL;
	}
	/* the body */
	const char *cl = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;
	uint64_t cap = body_cap(rt);
	if (cl && len > cap) {
		skh_error(r, MHD_HTTP_CONTENT_TOO_LARGE, "too-large", "大きすぎます",
			  "The request is too large", json_pack("{s:I}", "max", (json_int_t)cap));
		return SK_EINVAL;
	}
	if (rt->body == SKH_BODY_JSON) {
		const char *ct = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_TYPE);
		if (!ct || strncasecmp(ct, "application/json", 16)) {
			skh_error(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported-media",
				  "JSON で送ってください", "Send JSON (application/json)", NULL);
			return SK_EINVAL;
		}
		/* the whole cap at once: growing would leave copies (passwords) behind */
		sk_buf_init(&r->json_text, SKH_JSON_MAX);
		if (sk_buf_reserve(&r->json_text, SKH_JSON_MAX) != 0) {
			skh_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", "混み合っています",
				  "The gateway is busy", NULL);
			return SK_EINVAL;
		}
	} else if (rt->body == SKH_BODY_FILE) {
		/* private and unnamed, beside the quarantine (same file system) */
		r->body_fd = open(server.d->cfg.state, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (r->body_fd < 0) {
			SKD_EVENT(SKD_ERR, "http-error", "受け取り用の一時ファイルを作れません",
				  "cannot create an upload's temporary file",
				  SKD_S("error", strerror(errno)));
			skh_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "busy", "混み合っています",
				  "The gateway is busy", NULL);
			return SK_EINVAL;
		}
	}
	return 0;
}

static int body_add(skh_req *r, const char *data, size_t n)
{
	const skh_route *rt = r->route;
	uint64_t cap = body_cap(rt);
	if (r->body_len + n > cap) {
		r->too_large = true;
		return SK_ELIMIT;
	}
	r->body_len += n;
	if (rt->body == SKH_BODY_JSON) {
		int rc = sk_buf_add(&r->json_text, data, n);
		/* a JSON body may hold passwords: the connection's read buffer, where
		 * libmicrohttpd put the bytes, is zeroed once they are copied */
		explicit_bzero((void *)data, n);
		return rc == 0 ? 0 : SK_ENOMEM;
	}
	while (n) {
		ssize_t w = write(r->body_fd, data, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return SK_EIO;
		data += w;
		n -= (size_t)w;
	}
	return 0;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	(void)version;
	skh_listener *l = cls;
	skh_req *r = *con_cls;
	if (!r) {
		if (!(r = calloc(1, sizeof(*r))))
			return MHD_NO;
		*con_cls = r;
		r->c = c;
		r->l = l;
		r->body_fd = -1;
		snprintf(r->method, sizeof(r->method), "%s", method);
		snprintf(r->url, sizeof(r->url), "%s", url);
		r->lang = req_lang(c);
		peer_of(c, r->peer, sizeof(r->peer));
		if (strlen(url) >= sizeof(r->url)) {
			skh_error(r, MHD_HTTP_URI_TOO_LONG, "bad-request", "URL が長すぎます",
				  "The URL is too long", NULL);
			return send_answer(r);
		}
		if (strncmp(url, "/api/", 5) && strcmp(url, "/api")) {
			r->is_static = true;
			if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
				skh_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "bad-request",
					  "この方法では使えません", "Method not allowed", NULL);
				return send_answer(r);
			}
			return MHD_YES;
		}
		bool known;
		r->route = route_find(method, url, r->id, r->rid, &known);
		if (!r->route) {
			if (known)
				skh_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "bad-request",
					  "この方法では使えません", "Method not allowed", NULL);
			else
				skh_error(r, MHD_HTTP_NOT_FOUND, "not-found", "見つかりません",
					  "Not found", NULL);
			return send_answer(r);
		}
		if (admit(r) != 0)
			return send_answer(r);
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->route || !r->route->body || body_add(r, upload, *upload_size) != 0) {
			/* over the cap without a Content-Length, or an unexpected body: the
			 * connection is closed (an answer cannot be queued mid-body) */
			if (r->too_large)
				SKD_EVENT(SKD_NOTICE, "http-too-large",
					  "上限を超える送信を打ち切りました", "an oversized body was cut off",
					  SKD_S("peer", r->peer), SKD_S("zone", l->zone));
			return MHD_NO;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->is_static)
		skh_static(r);
	else {
		if (r->route->body == SKH_BODY_JSON) {
			json_error_t je;
			r->json = json_loadb(sk_buf_str(&r->json_text), r->json_text.len,
					     JSON_REJECT_DUPLICATES, &je);
			if (!r->json || !json_is_object(r->json)) {
				skh_error(r, MHD_HTTP_BAD_REQUEST, "bad-request",
					  "JSON のオブジェクトを送ってください",
					  "Send a JSON object", NULL);
				return send_answer(r);
			}
		}
		r->route->handler(r);
	}
	return send_answer(r);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	skh_req *r = *con_cls;
	if (!r)
		return;
	if (r->resp)
		MHD_destroy_response(r->resp);
	if (r->body_fd >= 0)
		close(r->body_fd);
	json_decref(r->json);
	if (r->json_text.data)
		explicit_bzero(r->json_text.data, r->json_text.cap); /* passwords */
	sk_buf_free(&r->json_text);
	explicit_bzero(r, sizeof(*r));
	free(r);
	*con_cls = NULL;
}

/* ---- the role ---- */

/* jansson's memory is zeroed when freed: parsed request bodies (passwords of a login or
 * an unlock) leave no copy behind in freed memory, the lexer's buffers included. */
static void *json_alloc(size_t n)
{
	return malloc(n);
}

static void json_free(void *p)
{
	if (p)
		explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt,
							  va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = 0;
	SKD_EVENT(SKD_WARNING, "http-library", "HTTP ライブラリの通知", "HTTP library message",
		  SKD_S("detail", msg));
}

int skd_http_run(skd *d)
{
	int sfd = skd_role_signalfd();
	if (sfd < 0)
		return SKD_EXIT_FAIL;
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		SKD_EVENT(SKD_ERR, "role-error", "libmicrohttpd が TLS に対応していません",
			  "libmicrohttpd has no TLS support");
		return SKD_EXIT_CONFIG;
	}
	server.d = d;
	json_set_alloc_funcs(json_alloc, json_free);
	sk_error err;
	sk_error_clear(&err);
	if (skd_gate_open(d, &server.gate, &err) != 0) {
		SKD_EVENT(SKD_ERR, "role-error", "http を開始できません (状態フォルダ・ワーカー)",
			  "cannot start the http role (state folder, workers)", SKD_S("error", err.msg));
		return SKD_EXIT_FAIL;
	}
	skh_ledgers_cleanup(d->cfg.state);
	sk_auth_settings_from_policy(d->policy, &server.auth_settings);
	server.max_upload = server.gate.opt.budget.max_input;
	server.web_fd = open(d->cfg.web, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (server.web_fd < 0)
		SKD_EVENT(SKD_WARNING, "http-web-missing",
			  "画面のファイルのフォルダがありません (API だけを提供します)",
			  "the console's web folder is missing (serving the API only)",
			  SKD_S("web", d->cfg.web));
	skh_listener ls[SKD_HTTP_MAX];
	memset(ls, 0, sizeof(ls));
	int rc = SKD_EXIT_OK;
	for (size_t i = 0; i < d->cfg.nhttp; i++) {
		skh_listener *l = &ls[i];
		l->s = &server;
		l->zone = d->cfg.http[i].zone;
		l->addr = d->cfg.http[i].addr;
		l->console = !strcmp(l->zone, d->cfg.console_zone);
		l->mhd = MHD_start_daemon(
			MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS | MHD_USE_EPOLL |
				MHD_USE_ERROR_LOG,
			0, NULL, NULL, answer, l, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
			MHD_OPTION_LISTEN_SOCKET, d->http_fd[i],
			MHD_OPTION_HTTPS_MEM_CERT, d->tls_cert_pem, MHD_OPTION_HTTPS_MEM_KEY,
			d->tls_key_pem, MHD_OPTION_HTTPS_PRIORITIES,
			"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
			MHD_OPTION_THREAD_POOL_SIZE, (unsigned)SKH_THREADS,
			MHD_OPTION_CONNECTION_LIMIT, (unsigned)SKH_CONNECTIONS,
			MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)SKH_PER_IP,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SKH_TIMEOUT,
			MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024),
			MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
		if (!l->mhd) {
			SKD_EVENT(SKD_ERR, "role-error", "HTTPS の待ち受けを開始できません",
				  "cannot serve HTTPS", SKD_S("zone", l->zone), SKD_S("address", l->addr));
			rc = SKD_EXIT_FAIL;
			break;
		}
		SKD_EVENT(SKD_INFO, "http-listen", "HTTPS で待ち受けます", "serving HTTPS",
			  SKD_S("zone", l->zone), SKD_S("address", l->addr),
			  SKD_S("serves", l->console ? "console" : "upload"));
	}
	/* the key stays only inside the TLS library */
	if (d->tls_key_pem)
		explicit_bzero(d->tls_key_pem, strlen(d->tls_key_pem));
	if (rc == SKD_EXIT_OK) {
		struct pollfd p = {.fd = sfd, .events = POLLIN};
		while (poll(&p, 1, -1) < 0 && errno == EINTR)
			;
	}
	for (size_t i = 0; i < d->cfg.nhttp; i++)
		if (ls[i].mhd)
			MHD_stop_daemon(ls[i].mhd);
	ctx_close_all();
	if (server.web_fd >= 0)
		close(server.web_fd);
	skd_gate_close(&server.gate);
	close(sfd);
	return rc;
}
