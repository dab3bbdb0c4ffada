/* sekisho milter: libmilter callbacks around sk_gate_mail() (see milter.h).
 *
 * Concurrency: libmilter gives every SMTP connection its own thread; each message is
 * buffered in its session and taken through the gate in that thread, with no lock of ours
 * around it. What the sessions share is the configuration (read-only), the counters
 * below (atomics), and the gate's quarantine, audit log and worker pool (all thread-safe:
 * the quarantine serialises its short index statements on its connection's mutex, the
 * audit log group-commits concurrent appends, the pool hands each job an idle worker). */
#include "milter.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>
#include "sekisho/xml.h"
#include <sodium.h>

#include "sekisho/buf.h"
#include "sekisho/hash.h"
#include "sekisho/name.h"
#include "sekisho/quarantine.h"
#include "sekisho/release.h"

#ifdef SK_MILTER_TEST_HOOK
void (*sk_milter_test_hook)(const uint8_t *msg, size_t n);
#endif

/* A session whose message buffered at least this much gives memory back when done. */
#define TRIM_AT ((uint64_t)1 << 20)
/* smfi_replacebody() is fed in pieces of this size (the CRLF copy is never whole) */
#define BODY_CHUNK 65536

static const char REPLY_SESSIONS[] = "sekisho: too many concurrent sessions, try again later";
static const char REPLY_BUFFERED[] = "sekisho: too much mail in progress, try again later";
static const char REPLY_RCPTS[] = "sekisho: too many recipients in one message, send the rest later";
static const char REPLY_ADDR[] = "sekisho: address too long or not text";
static const char REPLY_KEEP_EN[] = "sekisho: this message is held by the policy and cannot be kept";
static const char REPLY_KEEP_JA[] = "sekisho: このメールはポリシーにより保留されますが、保管できません";

typedef struct hdr {
	char *name;
	uint32_t idx;    /* occurrence of this name among the headers (1-based) */
} hdr;

typedef struct session {
	sk_buf msg;      /* the message as received (headers, blank line, body) */
	hdr *h;
	size_t nh, cap;
	uint64_t counted; /* bytes of msg counted in g.buffered */
	uint64_t peak;   /* largest message of this session */
	bool over;       /* the message went over max_message */
	char sender[256];  /* envelope sender (for the decision event) */
	char msgid[256];   /* Message-ID as received (for the decision event) */
	bool started;    /* a message is being received */
	const char *from, *to; /* the direction of this connection's mail */
	bool refused;    /* the client is in no zone of the directions */
	/* the envelope, without angle brackets: MAIL FROM, RCPT TO … */
	char *env_from;
	char **rcpt;
	size_t nrcpt, rcap;
} session;

static struct {
	sk_mail_options mail;
	sk_options gate;
	const char *from, *to;
	uint64_t max_message, max_buffered;
	unsigned max_sessions;
	sfsistat onerr;
	bool quiet;
	void (*on_decision)(void *arg, const sk_milter_decision *d);
	void *on_decision_arg;
	uint8_t hkey[crypto_shorthash_KEYBYTES];
	atomic_uint sessions;
	atomic_uint_fast64_t buffered;
	atomic_uint_fast64_t messages, tf_sessions, tf_buffered, errors, refused, outbound;
	const sk_policy_milter_dir *dirs;
	size_t ndirs;
	int (*on_outbound)(void *arg, const sk_milter_outbound *o, const sk_options *opt,
			   sk_error *err);
	void (*on_refused)(void *arg, const char *addr);
	/* the outbound step: serialised, with a quarantine handle of its own (the shared one
	 * is for stores and decisions only) */
	pthread_mutex_t out_mu;
	sk_quarantine *oq;
} g;

static const char *const KEEP[] = {"From", "To", "Cc", "Date", "Subject", "Message-ID",
				   "In-Reply-To", "References", "Reply-To", "Sender",
				   "Return-Path", "Received", NULL};

/* Kept headers the engine writes anew for the reader (encoded words joined and decoded,
 * raw 8-bit read in its charset, 7-bit encoded words written): the milter replaces them
 * with the engine's version, occurrence by occurrence. */
static const char *const REWRITTEN[] = {"Subject", "From", "To", "Cc", "Reply-To", "Sender", NULL};

static bool kept(const char *n)
{
	for (int i = 0; KEEP[i]; i++)
		if (!strcasecmp(n, KEEP[i]))
			return true;
	return false;
}

/* ---- sessions and the buffered-bytes account ---- */

static void envelope_free(session *s)
{
	free(s->env_from);
	s->env_from = NULL;
	for (size_t i = 0; i < s->nrcpt; i++)
		free(s->rcpt[i]);
	free(s->rcpt);
	s->rcpt = NULL;
	s->nrcpt = s->rcap = 0;
}

/* An envelope address as the MTA gives it ("<a@b>", "<>", "a@b") without the angle
 * brackets, malloc'd; NULL when it is too long for the index or holds control bytes. */
static char *env_addr(const char *a)
{
	if (!a)
		a = "";
	size_t n = strlen(a);
	if (n >= 2 && a[0] == '<' && a[n - 1] == '>') {
		a++;
		n -= 2;
	}
	if (n >= SK_QUARANTINE_ADDR_MAX)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)a[i] < 0x20 || a[i] == 0x7f)
			return NULL;
	return strndup(a, n);
}

static void msg_release(session *s)
{
	if (!s)
		return;
	if (s->counted)
		atomic_fetch_sub(&g.buffered, s->counted);
	if (s->msg.len > s->peak)
		s->peak = s->msg.len;
	s->counted = 0;
	sk_buf_free(&s->msg);
	for (size_t i = 0; i < s->nh; i++)
		free(s->h[i].name);
	free(s->h);
	s->h = NULL;
	s->nh = s->cap = 0;
	s->over = false;
	s->started = false;
	envelope_free(s);
}

/* After a large message: give the freed memory back to the system (glibc keeps it in
 * its arenas otherwise, one per thread). */
static void trim_if_large(session *s)
{
	if (s->peak >= TRIM_AT) {
		malloc_trim(0);
		s->peak = 0;
	}
}

static session *get(SMFICTX *ctx)
{
	return (session *)smfi_getpriv(ctx);
}

static sfsistat refuse(SMFICTX *ctx, const char *text)
{
	smfi_setreply(ctx, "451", "4.3.2", (char *)text);
	return SMFIS_TEMPFAIL;
}

/* The client's address as text ("" when the MTA gave none or it is no IP address). */
static void addr_text(const _SOCK_ADDR *addr, char out[INET6_ADDRSTRLEN])
{
	out[0] = 0;
	if (!addr)
		return;
	if (addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, out, INET6_ADDRSTRLEN);
	else if (addr->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, out,
			  INET6_ADDRSTRLEN);
}

static sfsistat m_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	if (atomic_fetch_add(&g.sessions, 1) >= g.max_sessions) {
		atomic_fetch_sub(&g.sessions, 1);
		atomic_fetch_add(&g.tf_sessions, 1);
		if (!g.quiet)
			fprintf(stderr, "sekisho milter: tempfail: over %u concurrent sessions\n",
				g.max_sessions);
		return refuse(ctx, REPLY_SESSIONS);
	}
	session *s = calloc(1, sizeof(*s));
	if (!s || smfi_setpriv(ctx, s) != MI_SUCCESS) {
		free(s);
		atomic_fetch_sub(&g.sessions, 1);
		atomic_fetch_add(&g.errors, 1);
		return g.onerr;
	}
	s->from = g.from;
	s->to = g.to;
	if (g.ndirs > 1) {
		/* the client's zone picks the direction; no zone: refused */
		char a[INET6_ADDRSTRLEN];
		addr_text(addr, a);
		const char *zone = a[0] ? sk_policy_zone_of(g.gate.policy, a) : NULL;
		s->from = s->to = NULL;
		for (size_t i = 0; zone && i < g.ndirs; i++)
			if (!strcmp(g.dirs[i].from, zone)) {
				s->from = g.dirs[i].from;
				s->to = g.dirs[i].to;
			}
		if (!s->from) {
			s->refused = true;
			atomic_fetch_add(&g.refused, 1);
			if (g.on_refused)
				g.on_refused(g.on_decision_arg, a);
			if (!g.quiet)
				fprintf(stderr, "sekisho milter: refused %s: in no zone\n", a[0] ? a : "-");
			/* refused at MAIL FROM, with the reply text: an MTA answers a refusal at
			 * connect with its own greeting (Postfix: "554 … not accepting
			 * connections"), which would not say why */
		}
	}
	return SMFIS_CONTINUE;
}

static sfsistat m_envfrom(SMFICTX *ctx, char **argv)
{
	session *s = get(ctx);
	if (!s) {
		atomic_fetch_add(&g.errors, 1);
		return g.onerr;
	}
	msg_release(s);
	if (s->refused) {
		/* a client in no zone of the directions: every message refused */
		smfi_setmlreply(ctx, "550", "5.7.1", (char *)SK_MILTER_NOZONE_EN,
				(char *)SK_MILTER_NOZONE_JA, NULL);
		return SMFIS_REJECT;
	}
	sk_buf_init(&s->msg, (size_t)g.max_message + 1);
	s->started = true;
	snprintf(s->sender, sizeof(s->sender), "%s", argv && argv[0] ? argv[0] : "");
	s->msgid[0] = 0;
	if (!(s->env_from = env_addr(argv ? argv[0] : NULL))) {
		smfi_setreply(ctx, "553", "5.1.7", (char *)REPLY_ADDR);
		return SMFIS_REJECT;
	}
	return SMFIS_CONTINUE;
}

static sfsistat m_envrcpt(SMFICTX *ctx, char **argv)
{
	session *s = get(ctx);
	if (!s || !s->started) {
		atomic_fetch_add(&g.errors, 1);
		return g.onerr;
	}
	if (s->nrcpt >= SK_QUARANTINE_RCPT_MAX) {
		/* RFC 5321 4.5.3.1.10: the client sends the rest in another transaction */
		smfi_setreply(ctx, "452", "4.5.3", (char *)REPLY_RCPTS);
		return SMFIS_TEMPFAIL;
	}
	char *a = env_addr(argv ? argv[0] : NULL);
	if (!a || !*a) {
		free(a);
		smfi_setreply(ctx, "553", "5.1.3", (char *)REPLY_ADDR);
		return SMFIS_REJECT;
	}
	if (s->nrcpt == s->rcap) {
		size_t nc = s->rcap ? s->rcap * 2 : 8;
		char **v = realloc(s->rcpt, nc * sizeof(*v));
		if (!v) {
			free(a);
			atomic_fetch_add(&g.errors, 1);
			return g.onerr;
		}
		s->rcpt = v;
		s->rcap = nc;
	}
	s->rcpt[s->nrcpt++] = a;
	return SMFIS_CONTINUE;
}

/* Appends to the message: 0, or 1 when the bytes buffered over all sessions would pass
 * max_buffered (the message is then refused), or a negative SK_E* (memory). Past
 * max_message the buffer is filled to exactly max_message + 1 bytes and the rest
 * dropped: sk_mail_sanitize() then holds the message as too large. */
static int add(session *s, const void *p, size_t n)
{
	if (s->over || n == 0)
		return 0;
	size_t room = s->msg.max - s->msg.len;
	if (n > room) {
		n = room;
		s->over = true;
		if (n == 0)
			return 0;
	}
	uint64_t now = atomic_fetch_add(&g.buffered, n) + n;
	if (now > g.max_buffered) {
		atomic_fetch_sub(&g.buffered, n);
		return 1;
	}
	s->counted += n;
	return sk_buf_add(&s->msg, p, n);
}

/* The answer to an add() that did not succeed. */
static sfsistat add_failed(SMFICTX *ctx, session *s, int rc)
{
	msg_release(s);
	if (rc == 1) {
		atomic_fetch_add(&g.tf_buffered, 1);
		if (!g.quiet)
			fprintf(stderr, "sekisho milter: tempfail: over %llu bytes buffered\n",
				(unsigned long long)g.max_buffered);
		return refuse(ctx, REPLY_BUFFERED);
	}
	atomic_fetch_add(&g.errors, 1);
	return g.onerr;
}

static sfsistat m_header(SMFICTX *ctx, char *name, char *value)
{
	session *s = get(ctx);
	if (!s || !s->started) {
		atomic_fetch_add(&g.errors, 1);
		return g.onerr;
	}
	if (s->nh == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 32;
		hdr *v = realloc(s->h, nc * sizeof(*v));
		if (!v)
			return add_failed(ctx, s, SK_ENOMEM);
		s->h = v;
		s->cap = nc;
	}
	if (!(s->h[s->nh].name = strdup(name)))
		return add_failed(ctx, s, SK_ENOMEM);
	if (!s->msgid[0] && !strcasecmp(name, "Message-ID")) {
		const char *v = value;
		while (*v == ' ' || *v == '\t')
			v++;
		snprintf(s->msgid, sizeof(s->msgid), "%s", v);
	}
	s->h[s->nh++].idx = 0;
	int rc = add(s, name, strlen(name));
	if (!rc)
		rc = add(s, ": ", 2);
	if (!rc)
		rc = add(s, value, strlen(value));
	if (!rc)
		rc = add(s, "\r\n", 2);
	return rc ? add_failed(ctx, s, rc) : SMFIS_CONTINUE;
}

static sfsistat m_eoh(SMFICTX *ctx)
{
	session *s = get(ctx);
	if (!s || !s->started) {
		atomic_fetch_add(&g.errors, 1);
		return g.onerr;
	}
	int rc = add(s, "\r\n", 2);
	return rc ? add_failed(ctx, s, rc) : SMFIS_CONTINUE;
}

static sfsistat m_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	session *s = get(ctx);
	if (!s || !s->started) {
		atomic_fetch_add(&g.errors, 1);
		return g.onerr;
	}
	int rc = add(s, p, n);
	return rc ? add_failed(ctx, s, rc) : SMFIS_CONTINUE;
}

/* ---- applying the sanitised message ---- */

/* Sets h[i].idx, the occurrence of each removable header's name among the headers
 * (case-insensitive), in one pass over a hash table keyed with a per-run secret
 * (header names come from the sender). */
static int number_headers(session *s)
{
	size_t cap = 64;
	while (cap < s->nh * 2)
		cap <<= 1;
	struct slot {
		const char *name;
		uint64_t hash;
		uint32_t count;
	} *t = calloc(cap, sizeof(*t));
	if (!t)
		return SK_ENOMEM;
	char small[128];
	for (size_t i = 0; i < s->nh; i++) {
		const char *name = s->h[i].name;
		if (kept(name))
			continue;
		size_t len = strlen(name);
		char *low = len < sizeof(small) ? small : malloc(len + 1);
		if (!low) {
			free(t);
			return SK_ENOMEM;
		}
		for (size_t k = 0; k < len; k++)
			low[k] = (char)((name[k] >= 'A' && name[k] <= 'Z') ? name[k] + 32 : name[k]);
		uint8_t hb[crypto_shorthash_BYTES];
		crypto_shorthash(hb, (const uint8_t *)low, len, g.hkey);
		if (low != small)
			free(low);
		uint64_t h;
		memcpy(&h, hb, sizeof(h));
		size_t j = (size_t)h & (cap - 1);
		while (t[j].name && (t[j].hash != h || strcasecmp(t[j].name, name)))
			j = (j + 1) & (cap - 1);
		if (!t[j].name) {
			t[j].name = name;
			t[j].hash = h;
		}
		s->h[i].idx = ++t[j].count;
	}
	free(t);
	return 0;
}

/* The body of out with CRLF line ends, handed to the MTA in pieces. */
static int replace_body(SMFICTX *ctx, const char *body, const char *end)
{
	unsigned char chunk[BODY_CHUNK + 1];
	size_t n = 0;
	bool any = false;
	for (const char *p = body; p < end; p++) {
		if (*p == '\n' && (p == body || p[-1] != '\r'))
			chunk[n++] = '\r';
		chunk[n++] = (unsigned char)*p;
		if (n >= BODY_CHUNK) {
			if (smfi_replacebody(ctx, chunk, (int)n) != MI_SUCCESS)
				return SK_EIO;
			n = 0;
			any = true;
		}
	}
	if (n || !any)
		if (smfi_replacebody(ctx, n ? chunk : (unsigned char *)"", (int)n) != MI_SUCCESS)
			return SK_EIO;
	return 0;
}

/* Output headers: "Name: value" lines up to the blank line; value unfolded as is. */
static int apply(SMFICTX *ctx, session *s, const sk_buf *out)
{
	/* 1. remove every header not on the allow-list, last first: an index counted from
	 * the top stays valid while the headers after it go */
	int rc = number_headers(s);
	if (rc)
		return rc;
	for (size_t i = s->nh; i-- > 0;) {
		if (!s->h[i].idx)
			continue;
		if (smfi_chgheader(ctx, s->h[i].name, (int)s->h[i].idx, NULL) != MI_SUCCESS)
			return SK_EIO;
	}
	/* 2. the new headers (MIME, X-Mail-Sanitized) and the kept ones the engine wrote anew
	 * (Subject, the address headers; the Subject of a held notice) */
	const char *p = (const char *)out->data, *end = p + out->len;
	const char *body = NULL;
	uint32_t seen[sizeof(REWRITTEN) / sizeof(REWRITTEN[0])] = {0};
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			break;
		if (eol == p || (eol == p + 1 && *p == '\r')) {
			body = eol + 1;
			break;
		}
		/* a header with its continuation lines */
		const char *hend = eol + 1;
		while (hend < end && (*hend == ' ' || *hend == '\t')) {
			const char *e2 = memchr(hend, '\n', (size_t)(end - hend));
			hend = e2 ? e2 + 1 : end;
		}
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (colon) {
			char *name = strndup(p, (size_t)(colon - p));
			const char *v = colon + 1;
			while (v < hend && (*v == ' ' || *v == '\t'))
				v++;
			size_t vl = (size_t)(hend - v);
			while (vl && (v[vl - 1] == '\n' || v[vl - 1] == '\r'))
				vl--;
			char *val = strndup(v, vl);
			int mrc = MI_SUCCESS;
			if (!name || !val)
				mrc = MI_FAILURE;
			else if (!kept(name))
				mrc = smfi_addheader(ctx, name, val);
			else
				for (int k = 0; REWRITTEN[k]; k++)
					if (!strcasecmp(name, REWRITTEN[k])) {
						/* the k-th occurrence replaces the k-th as received */
						mrc = smfi_chgheader(ctx, name, (int)++seen[k], val);
						break;
					}
			free(name);
			free(val);
			if (mrc != MI_SUCCESS)
				return SK_EIO;
		}
		p = hend;
	}
	if (!body)
		return SK_EFORMAT;
	/* 3. the body, with CRLF line ends */
	return replace_body(ctx, body, end);
}

/* true when a recipient of the message is outside the internal domains (and they are
 * given) */
static bool goes_outside(const session *s)
{
	if (!g.mail.internal_domains)
		return false;
	for (size_t i = 0; i < s->nrcpt; i++)
		if (!sk_mail_domain_internal(s->rcpt[i], g.mail.internal_domains))
			return true;
	return false;
}

/* The outbound step of a stored message (serialised): on_outbound, or the release
 * request for the system requester. 0: the MTA drops the message. */
static int outbound_step(session *s, const char *qid, const sk_result *res, sk_error *err)
{
	pthread_mutex_lock(&g.out_mu);
	int rc = 0;
	if (!g.oq)
		rc = sk_quarantine_open(sk_quarantine_dir(g.gate.quarantine),
					sk_quarantine_audit(g.gate.quarantine), NULL, &g.oq, err);
	if (rc == 0) {
		sk_options o = g.gate;
		o.quarantine = g.oq;
		bool held = res->report.reason == SK_REASON_HELD;
		sk_milter_outbound ob = {.queue_id = qid ? qid : "", .env_from = s->env_from,
					 .rcpt = (const char *const *)s->rcpt, .nrcpt = s->nrcpt,
					 .from_zone = s->from, .to_zone = s->to, .result = res,
					 .held = held};
		if (g.on_outbound)
			rc = g.on_outbound(g.on_decision_arg, &ob, &o, err);
		else if (held)
			rc = sk_release_mail_request(&o, res->quarantine_id, NULL, NULL, err);
	}
	pthread_mutex_unlock(&g.out_mu);
	return rc;
}

static sfsistat m_eom(SMFICTX *ctx)
{
	session *s = get(ctx);
	if (!s || !s->started) {
		atomic_fetch_add(&g.errors, 1);
		return g.onerr;
	}
	const char *qid = smfi_getsymval(ctx, "i");
#ifdef SK_MILTER_TEST_HOOK
	if (sk_milter_test_hook)
		sk_milter_test_hook(s->msg.data, s->msg.len);
#endif
	sk_buf out;
	sk_buf_init(&out, SK_BUF_MAX_DEFAULT);
	sk_mail_result res;
	sk_result gres;
	sk_error err;
	sk_error_clear(&err);
	/* over the limit the buffer holds max_message + 1 bytes: the size check holds it */
	sk_item item = {.src_zone = s->from, .dst_zone = s->to, .submitter = "milter",
			.channel = "mail", .env_from = s->env_from,
			.env_rcpt = (const char *const *)s->rcpt, .env_nrcpt = s->nrcpt};
	if (!s->nrcpt) /* no recipient (a test MTA): nothing to keep for sending */
		item.env_from = NULL;
	sk_input_mem(&item.input, s->msg.data ? s->msg.data : (const uint8_t *)"", s->msg.len);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = sk_gate_mail(&item, &g.mail, &g.gate, &out, &gres, &res, &err);
	if (rc == 0 && gres.unrecorded[0]) /* not on record: the MTA retries (fail closed) */
		rc = sk_error_set(&err, SK_EIO, "not recorded: %s", gres.unrecorded);
	/* not delivered, a recipient outside: never a notice to them; kept, then dropped */
	bool outside = rc == 0 && res.held && goes_outside(s);
	bool keep_failed = false;
	if (outside && !gres.quarantine_id[0])
		keep_failed = true; /* no quarantine: nowhere to keep it (rejected below) */
	else if (outside && outbound_step(s, qid, &gres, &err) != 0)
		rc = err.code ? err.code : SK_EIO;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (g.on_decision) {
		sk_milter_decision d = {
			.queue_id = qid ? qid : "", .sender = s->sender, .message_id = s->msgid,
			.from_zone = s->from, .to_zone = s->to, .nrcpt = s->nrcpt,
			.outbound = outside && rc == 0,
			.result = rc ? NULL : &gres, .mail = rc ? NULL : &res,
			.error = rc ? err.msg : NULL, .size = s->msg.len,
			.us = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000 +
			      (t1.tv_nsec - t0.tv_nsec) / 1000,
		};
		g.on_decision(g.on_decision_arg, &d);
	}
	sk_result_free(&gres);
	/* the input is no longer needed: its bytes leave the account before the reply */
	uint64_t size = s->msg.len;
	if (s->counted)
		atomic_fetch_sub(&g.buffered, s->counted);
	s->counted = 0;
	if (size > s->peak)
		s->peak = size;
	sk_buf_free(&s->msg);
	sfsistat st = SMFIS_CONTINUE;
	if (rc) {
		fprintf(stderr, "sekisho milter: error qid=%s: %s\n", qid ? qid : "-", err.msg);
		atomic_fetch_add(&g.errors, 1);
		st = g.onerr;
	} else if (keep_failed) {
		atomic_fetch_add(&g.messages, 1);
		smfi_setmlreply(ctx, "550", "5.7.1", (char *)REPLY_KEEP_EN, (char *)REPLY_KEEP_JA, NULL);
		st = SMFIS_REJECT;
	} else if (outside) {
		atomic_fetch_add(&g.messages, 1);
		atomic_fetch_add(&g.outbound, 1);
		if (!g.quiet)
			fprintf(stderr, "sekisho milter: held (dropped, kept) qid=%s size=%llu id=%s\n",
				qid ? qid : "-", (unsigned long long)size, res.quarantine_id);
		st = SMFIS_DISCARD;
	} else if ((rc = apply(ctx, s, &out)) != 0) {
		/* the MTA refused a change (or memory ran out): nothing half-changed is delivered */
		fprintf(stderr, "sekisho milter: error qid=%s: cannot change the message (%s)\n",
			qid ? qid : "-", sk_strerror(rc));
		atomic_fetch_add(&g.errors, 1);
		st = g.onerr;
	} else {
		atomic_fetch_add(&g.messages, 1);
		if (!g.quiet)
			fprintf(stderr, "sekisho milter: %s qid=%s size=%llu %s id=%s\n",
				res.held ? "held" : "delivered", qid ? qid : "-",
				(unsigned long long)size, res.actions, res.quarantine_id);
	}
	sk_buf_free(&out);
	msg_release(s);
	trim_if_large(s);
	return st;
}

static sfsistat m_abort(SMFICTX *ctx)
{
	session *s = get(ctx);
	msg_release(s);
	if (s)
		trim_if_large(s);
	return SMFIS_CONTINUE;
}

static sfsistat m_close(SMFICTX *ctx)
{
	session *s = get(ctx);
	if (s) {
		msg_release(s);
		trim_if_large(s);
		free(s);
		smfi_setpriv(ctx, NULL);
		atomic_fetch_sub(&g.sessions, 1);
	}
	return SMFIS_CONTINUE;
}

/* ---- running ---- */

static int socket_path(const char *spec, const char **path)
{
	*path = NULL;
	if (!strncmp(spec, "unix:", 5))
		*path = spec + 5;
	else if (!strncmp(spec, "local:", 6))
		*path = spec + 6;
	return 0;
}

static int group_id(const char *name, gid_t *gid, sk_error *err)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(name, &end, 10);
	if (*name && !*end && !errno) {
		*gid = (gid_t)v;
		return 0;
	}
	struct group gr, *res = NULL;
	char buf[4096];
	if (getgrnam_r(name, &gr, buf, sizeof(buf), &res) != 0 || !res)
		return sk_error_set(err, SK_EINVAL, "no group %s", name);
	*gid = res->gr_gid;
	return 0;
}

int sk_milter_run(const sk_milter_config *cfg, sk_error *err)
{
	if (!cfg || !cfg->socket || !cfg->mail)
		return sk_error_set(err, SK_EINVAL, "milter: socket and mail options are required");
	int rc = sk_crypto_init(err);
	if (rc)
		return rc;
	int mode = cfg->socket_mode ? cfg->socket_mode : SK_MILTER_SOCKET_MODE_DEFAULT;
	if (mode & ~0777)
		return sk_error_set(err, SK_EINVAL, "milter: socket mode %o", (unsigned)mode);
	gid_t gid = (gid_t)-1;
	if (cfg->socket_group && (rc = group_id(cfg->socket_group, &gid, err)))
		return rc;
	g.mail = *cfg->mail;
	if (cfg->gate)
		g.gate = *cfg->gate;
	else
		sk_options_default(&g.gate);
	g.from = cfg->from_zone;
	g.to = cfg->to_zone;
	g.dirs = cfg->dirs;
	g.ndirs = cfg->dirs ? cfg->ndirs : 0;
	if (g.ndirs > 1 && !g.gate.policy)
		return sk_error_set(err, SK_EINVAL, "milter: several directions need the policy's zones");
	if (g.ndirs == 1) {
		g.from = g.dirs[0].from;
		g.to = g.dirs[0].to;
	}
	g.on_outbound = cfg->on_outbound;
	g.on_refused = cfg->on_refused;
	g.oq = NULL;
	pthread_mutex_init(&g.out_mu, NULL);
	g.on_decision = cfg->on_decision;
	g.on_decision_arg = cfg->on_decision_arg;
	g.max_message = cfg->max_message ? cfg->max_message : cfg->mail->max_size;
	/* the sanitiser must hold what the milter cut at max_message */
	g.mail.max_size = g.max_message;
	g.max_buffered = cfg->max_buffered ? cfg->max_buffered : SK_MILTER_MAX_BUFFERED_DEFAULT;
	g.max_sessions = cfg->max_sessions ? cfg->max_sessions : SK_MILTER_MAX_SESSIONS_DEFAULT;
	g.onerr = cfg->on_error == SK_MILTER_REJECT   ? SMFIS_REJECT
		  : cfg->on_error == SK_MILTER_ACCEPT ? SMFIS_ACCEPT
						      : SMFIS_TEMPFAIL;
	g.quiet = cfg->quiet;
	randombytes_buf(g.hkey, sizeof(g.hkey));
	atomic_store(&g.sessions, 0);
	atomic_store(&g.buffered, 0);
	atomic_store(&g.messages, 0);
	atomic_store(&g.tf_sessions, 0);
	atomic_store(&g.tf_buffered, 0);
	atomic_store(&g.errors, 0);
	atomic_store(&g.refused, 0);
	atomic_store(&g.outbound, 0);
	/* libraries whose first use is not thread-safe are set up before the threads */
	sk_xml_init(); /* libxml2 with our allocator hooks, before any other use */

	static struct smfiDesc desc = {
		.xxfi_name = "sekisho",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_CHGBODY | SMFIF_CHGHDRS | SMFIF_ADDHDRS,
		.xxfi_connect = m_connect,
		.xxfi_envfrom = m_envfrom,
		.xxfi_envrcpt = m_envrcpt,
		.xxfi_header = m_header,
		.xxfi_eoh = m_eoh,
		.xxfi_body = m_body,
		.xxfi_eom = m_eom,
		.xxfi_abort = m_abort,
		.xxfi_close = m_close,
	};
	const char *path;
	socket_path(cfg->socket, &path);
	if (smfi_setconn((char *)cfg->socket) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS)
		return sk_error_set(err, SK_EINVAL, "milter: cannot register on %s", cfg->socket);
	if (cfg->timeout > 0)
		smfi_settimeout(cfg->timeout);
	smfi_setbacklog(128);
	/* the socket is created with the mode asked for: no moment at a wider one */
	mode_t old = umask((mode_t)(~mode & 0777));
	int orc = smfi_opensocket(true);
	umask(old);
	if (orc != MI_SUCCESS)
		return sk_error_set(err, SK_EIO, "milter: cannot open the socket %s", cfg->socket);
	if (path) {
		if (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) != 0)
			return sk_error_sys(err, SK_EIO, "milter: chown %s", path);
		if (chmod(path, (mode_t)mode) != 0)
			return sk_error_sys(err, SK_EIO, "milter: chmod %s", path);
	}
	if (!g.quiet)
		fprintf(stderr, "sekisho milter: listening on %s (sessions %u, buffered %llu bytes)\n",
			cfg->socket, g.max_sessions, (unsigned long long)g.max_buffered);
	rc = smfi_main() != MI_SUCCESS
		     ? sk_error_set(err, SK_EIO, "milter: libmilter stopped with an error")
		     : 0;
	pthread_mutex_lock(&g.out_mu);
	sk_quarantine_close(g.oq);
	g.oq = NULL;
	pthread_mutex_unlock(&g.out_mu);
	return rc;
}

void sk_milter_stop(void)
{
	smfi_stop();
}

void sk_milter_stats_get(sk_milter_stats *s)
{
	s->messages = atomic_load(&g.messages);
	s->tempfail_sessions = atomic_load(&g.tf_sessions);
	s->tempfail_buffered = atomic_load(&g.tf_buffered);
	s->errors = atomic_load(&g.errors);
	s->refused_clients = atomic_load(&g.refused);
	s->outbound = atomic_load(&g.outbound);
	s->sessions = atomic_load(&g.sessions);
	s->buffered = atomic_load(&g.buffered);
}
