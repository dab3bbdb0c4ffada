/* sekisho milter — every message through sk_mail_sanitize(); the body and the headers are
 * replaced (SMFIR_REPLBODY, SMFIR_CHGHEADER, SMFIR_ADDHEADER).
 *   sekisho milter --socket unix:PATH|inet:PORT@127.0.0.1 [--state DIR] [--profile P]
 *                  [--on-error tempfail|accept|reject] [--internal DOMAIN]... [--lang ja|en] */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "cli.h"
#include "sekisho/audit.h"
#include "sekisho/mail.h"
#include "sekisho/policy.h"
#include "sekisho/quarantine.h"

typedef struct hname {
	char *name;
} hname;

typedef struct mctx {
	sk_buf msg;       /* the message as received (headers, blank line, body) */
	hname *h;
	size_t nh, cap;
	bool over;        /* the message went over the size limit */
} mctx;

static sk_mail_options g_opt;
static sk_options g_fopt;
static sfsistat g_onerr = SMFIS_TEMPFAIL;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER; /* one quarantine handle */

static const char *const KEEP[] = {"From", "To", "Cc", "Date", "Subject", "Message-ID",
				   "In-Reply-To", "References", "Reply-To", "Sender",
				   "Return-Path", "Received", NULL};

static bool kept(const char *n)
{
	for (int i = 0; KEEP[i]; i++)
		if (!strcasecmp(n, KEEP[i]))
			return true;
	return false;
}

static void mfree(mctx *c)
{
	if (!c)
		return;
	sk_buf_free(&c->msg);
	for (size_t i = 0; i < c->nh; i++)
		free(c->h[i].name);
	free(c->h);
	free(c);
}

static mctx *get(SMFICTX *ctx)
{
	return (mctx *)smfi_getpriv(ctx);
}

static sfsistat m_envfrom(SMFICTX *ctx, char **argv)
{
	mfree(get(ctx));
	mctx *c = calloc(1, sizeof(*c));
	if (!c)
		return g_onerr;
	sk_buf_init(&c->msg, (size_t)g_opt.max_size + 1);
	smfi_setpriv(ctx, c);
	return SMFIS_CONTINUE;
}

static void add(mctx *c, const void *p, size_t n)
{
	if (c->over)
		return;
	if (sk_buf_add(&c->msg, p, n) != 0) {
		/* fill to exactly the buffer's maximum (max_size + 1): the size check holds it */
		size_t room = c->msg.max > c->msg.len ? c->msg.max - c->msg.len : 0;
		if (room && room < n)
			sk_buf_add(&c->msg, p, room);
		c->over = true;
	}
}

static sfsistat m_header(SMFICTX *ctx, char *name, char *value)
{
	mctx *c = get(ctx);
	if (!c)
		return g_onerr;
	if (c->nh == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 32;
		hname *v = realloc(c->h, nc * sizeof(*v));
		if (!v)
			return g_onerr;
		c->h = v;
		c->cap = nc;
	}
	if (!(c->h[c->nh].name = strdup(name)))
		return g_onerr;
	c->nh++;
	add(c, name, strlen(name));
	add(c, ": ", 2);
	add(c, value, strlen(value));
	add(c, "\r\n", 2);
	return SMFIS_CONTINUE;
}

static sfsistat m_eoh(SMFICTX *ctx)
{
	mctx *c = get(ctx);
	if (!c)
		return g_onerr;
	add(c, "\r\n", 2);
	return SMFIS_CONTINUE;
}

static sfsistat m_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	mctx *c = get(ctx);
	if (!c)
		return g_onerr;
	add(c, p, n);
	return SMFIS_CONTINUE;
}

/* Output headers: "Name: value" lines up to the blank line; value unfolded as is. */
static sfsistat apply(SMFICTX *ctx, mctx *c, const sk_buf *out, bool held)
{
	/* 1. remove every header not on the allow-list (last occurrence first) */
	for (size_t i = c->nh; i-- > 0;) {
		if (kept(c->h[i].name))
			continue;
		int idx = 0;
		for (size_t j = 0; j <= i; j++)
			if (!strcasecmp(c->h[j].name, c->h[i].name))
				idx++;
		if (smfi_chgheader(ctx, c->h[i].name, idx, NULL) != MI_SUCCESS)
			return g_onerr;
	}
	/* 2. the new headers (MIME, X-Mail-Sanitized; Subject of a held notice) */
	const char *s = (const char *)out->data, *end = s + out->len;
	const char *body = NULL;
	while (s < end) {
		const char *eol = memchr(s, '\n', (size_t)(end - s));
		if (!eol)
			break;
		if (eol == s || (eol == s + 1 && *s == '\r')) {
			body = eol + 1;
			break;
		}
		/* a header with its continuation lines */
		const char *hend = eol + 1;
		while (hend < end && (*hend == ' ' || *hend == '\t')) {
			const char *e2 = memchr(hend, '\n', (size_t)(end - hend));
			hend = e2 ? e2 + 1 : end;
		}
		const char *colon = memchr(s, ':', (size_t)(eol - s));
		if (colon) {
			char *name = strndup(s, (size_t)(colon - s));
			const char *v = colon + 1;
			while (v < hend && (*v == ' ' || *v == '\t'))
				v++;
			size_t vl = (size_t)(hend - v);
			while (vl && (v[vl - 1] == '\n' || v[vl - 1] == '\r'))
				vl--;
			char *val = strndup(v, vl);
			int rc = MI_SUCCESS;
			if (!name || !val)
				rc = MI_FAILURE;
			else if (!kept(name))
				rc = smfi_addheader(ctx, name, val);
			else if (held && !strcasecmp(name, "Subject"))
				rc = smfi_chgheader(ctx, name, 1, val);
			free(name);
			free(val);
			if (rc != MI_SUCCESS)
				return g_onerr;
		}
		s = hend;
	}
	if (!body)
		return g_onerr;
	/* 3. the body, with CRLF line ends */
	sk_buf b;
	sk_buf_init(&b, SK_BUF_MAX_DEFAULT);
	for (const char *p = body; p < end; p++) {
		if (*p == '\n' && (p == body || p[-1] != '\r'))
			sk_buf_addc(&b, '\r');
		sk_buf_addc(&b, (uint8_t)*p);
	}
	int rc = smfi_replacebody(ctx, b.data ? b.data : (unsigned char *)"", (int)b.len);
	sk_buf_free(&b);
	return rc == MI_SUCCESS ? SMFIS_CONTINUE : g_onerr;
}

static sfsistat m_eom(SMFICTX *ctx)
{
	mctx *c = get(ctx);
	if (!c)
		return g_onerr;
	sk_buf out;
	sk_buf_init(&out, SK_BUF_MAX_DEFAULT);
	sk_mail_result res;
	sk_error err;
	sk_error_clear(&err);
	pthread_mutex_lock(&g_lock);
	/* over the limit the buffer holds max_size + 1 bytes: the size check holds it */
	int rc = sk_mail_sanitize(&g_opt, c->msg.data, c->msg.len, &out, &res, &err);
	pthread_mutex_unlock(&g_lock);
	sfsistat st;
	if (rc) {
		fprintf(stderr, "sekisho milter: %s\n", err.msg);
		st = g_onerr;
	} else {
		st = apply(ctx, c, &out, res.held);
		fprintf(stderr, "sekisho milter: %s %s id=%s\n", res.held ? "held" : "delivered",
			res.actions, res.quarantine_id);
	}
	sk_buf_free(&out);
	mfree(c);
	smfi_setpriv(ctx, NULL);
	return st;
}

static sfsistat m_abort(SMFICTX *ctx)
{
	mfree(get(ctx));
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static sfsistat m_close(SMFICTX *ctx)
{
	mfree(get(ctx));
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

static void usage(sk_lang lang)
{
	fputs(lang == SK_LANG_EN
		      ? "usage: sekisho milter --socket unix:PATH|inet:PORT@127.0.0.1 [--state DIR]\n"
			"         [--profile default|sanitize|en] [--on-error tempfail|accept|reject] [--internal DOMAIN]...\n"
		      : "使い方: sekisho milter --socket unix:パス|inet:ポート@127.0.0.1 [--state フォルダ]\n"
			"         [--profile default|sanitize|en|ポリシーのプロファイル] [--on-error tempfail|accept|reject] [--internal ドメイン]... [--lang ja|en]\n"
			"         [--policy ファイル --from ゾーン --to ゾーン]\n",
	      stderr);
}

int cmd_milter(int argc, char **argv)
{
	const char *sock = NULL, *state = NULL, *profile = NULL, *onerr = "tempfail", *lang_opt = NULL,
		   *policy = NULL, *from = NULL, *to = NULL;
	static const char *internal[33];
	int ni = 0;
	static const struct option longs[] = {
		{"socket", required_argument, NULL, 'S'},
		{"state", required_argument, NULL, 's'},
		{"profile", required_argument, NULL, 'p'},
		{"on-error", required_argument, NULL, 'e'},
		{"internal", required_argument, NULL, 'i'},
		{"lang", required_argument, NULL, 'l'},
		{"policy", required_argument, NULL, 'P'},
		{"from", required_argument, NULL, 'F'},
		{"to", required_argument, NULL, 'U'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 'S': sock = optarg; break;
		case 's': state = optarg; break;
		case 'p': profile = optarg; break;
		case 'e': onerr = optarg; break;
		case 'l': lang_opt = optarg; break;
		case 'P': policy = optarg; break;
		case 'F': from = optarg; break;
		case 'U': to = optarg; break;
		case 'i':
			if (ni < 32)
				internal[ni++] = optarg;
			break;
		case 'h': usage(cli_lang(lang_opt)); return 0;
		default: usage(cli_lang(lang_opt)); return 2;
		}
	}
	sk_lang lang = cli_lang(lang_opt);
	if (!sock) {
		usage(lang);
		return 2;
	}
	sk_policy *pol;
	int prc = cli_mail_setup(lang, lang_opt != NULL, policy, from, to, profile, internal, ni,
				 &g_opt, &g_fopt, &pol);
	if (prc)
		return prc;
	g_opt.submitter = "milter";
	if (!strcmp(onerr, "tempfail"))
		g_onerr = SMFIS_TEMPFAIL;
	else if (!strcmp(onerr, "accept"))
		g_onerr = SMFIS_ACCEPT;
	else if (!strcmp(onerr, "reject"))
		g_onerr = SMFIS_REJECT;
	else {
		cli_err(lang, "--on-error は tempfail、accept、reject のいずれかです",
			"--on-error takes tempfail, accept or reject", onerr);
		sk_policy_free(pol);
		return 2;
	}
	sk_error err;
	sk_error_clear(&err);
	sk_audit *audit = NULL;
	sk_quarantine *quar = NULL;
	if (state) {
		if (cli_state_open(lang, state, &audit, &quar) != 0) {
			sk_policy_free(pol);
			return 2;
		}
		g_opt.quarantine = quar;
		g_opt.audit = audit;
		g_fopt.quarantine = quar;
		g_fopt.audit = audit;
	}
	static struct smfiDesc desc = {
		.xxfi_name = "sekisho",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_CHGBODY | SMFIF_CHGHDRS | SMFIF_ADDHDRS,
		.xxfi_envfrom = m_envfrom,
		.xxfi_header = m_header,
		.xxfi_eoh = m_eoh,
		.xxfi_body = m_body,
		.xxfi_eom = m_eom,
		.xxfi_abort = m_abort,
		.xxfi_close = m_close,
	};
	if (!strncmp(sock, "unix:", 5) || !strncmp(sock, "local:", 6)) {
		const char *path = strchr(sock, ':') + 1;
		unlink(path);
	}
	/* stray library prints (libytnef) go to the log, with ours */
	fflush(stdout);
	dup2(STDERR_FILENO, STDOUT_FILENO);
	int rc = 2;
	if (smfi_setconn((char *)sock) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS) {
		cli_err(lang, "milter を登録できません", "cannot register the milter", sock);
	} else if (smfi_opensocket(true) != MI_SUCCESS) {
		cli_err(lang, "ソケットを開けません", "cannot open the socket", sock);
	} else {
		if (!strncmp(sock, "unix:", 5))
			chmod(sock + 5, 0666);
		fprintf(stderr, "sekisho milter: listening on %s\n", sock);
		rc = smfi_main() == MI_SUCCESS ? 0 : 2;
	}
	sk_quarantine_close(quar);
	sk_audit_close(audit);
	sk_policy_free(pol);
	return rc;
}
