/* Mail 無害化 (see include/sekisho/mail.h): GMime parses, we write the new message. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "sekisho/charset.h"
#include "sekisho/hash.h"
#include "sekisho/mail.h"
#include "sekisho/name.h"
#include "sekisho/zipio.h"

#include "mail_int.h"
#include "mail_phish.h"

#define SEP_LINE "----------------------------------------------------------------------\n"

void sk_mail_options_default(sk_mail_options *o)
{
	memset(o, 0, sizeof(*o));
	o->profile = "default";
	o->lang = SK_LANG_JA;
	o->attach = SK_MAIL_DEL_ATTACH;
	o->rep_link = true;
	o->warn_external = true;
	o->max_size = 64u << 20;
	o->max_parts = 500;
	o->max_depth = 10;
	o->max_header = 256u << 10;
	o->max_text = 16u << 20;
}

int sk_mail_options_profile(sk_mail_options *o, const char *name)
{
	if (!name || !strcmp(name, "default")) {
		o->profile = "default";
		o->attach = SK_MAIL_DEL_ATTACH;
	} else if (!strcmp(name, "sanitize")) {
		o->profile = "sanitize";
		o->attach = SK_MAIL_SANITIZE_ATTACH;
	} else if (!strcmp(name, "en")) {
		o->profile = "en";
		o->attach = SK_MAIL_DEL_ATTACH;
		o->lang = SK_LANG_EN;
	} else {
		return SK_EINVAL;
	}
	return 0;
}

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;
static void gmime_start(void)
{
	g_mime_init();
}

/* GMime's global set-up (a worker runs it before its sandbox, sk_engine_init). */
void sk_mail_init(void)
{
	pthread_once(&gmime_once, gmime_start);
}

/* ---- the run ---------------------------------------------------------------------- */

typedef struct reattach {
	char *name, *ctype;
	uint8_t *data; /* the bytes to deliver (base64 on output) */
	size_t len;
	const char *cte; /* unchanged: data is the content as received, in this transfer
			  * encoding (NULL: base64 written) */
	bool message;  /* a sanitised message/rfc822, written as it is (7bit or 8bit) */
} reattach;

typedef struct run {
	const sk_mail_options *o;
	sk_mail_result *res;
	sk_error *err;
	sk_budget budget;      /* the message's one budget (every part and attachment) */
	sk_report *report;     /* attachments' actions, DLP findings, the verdict */
	sk_cdr_ctx cctx;       /* the message as the registry's parent of its attachments */
	sk_buf body;   /* UTF-8 text (links neutralised at the end) */
	sk_buf list;   /* attachment lines of the notice */
	reattach *ra;
	size_t nra, cap;
	bool chg_text, del, san, hold, tnef, trunc;
	int fatal;             /* a machinery failure (negative SK_E*) */
	sk_reason held;        /* a limit or an unparseable structure: the message is held */
	char held_detail[128];
	bool en;
	char hex[SK_SHA256_HEX];
	char charset[32];      /* label of the first text part ("" when none) */
	char hint[40];         /* the first charset a text part declares: for undeclared 8-bit
				* header bytes and names ("" when none) */
	size_t text_total;     /* text produced by the message and the ones attached to it */
	size_t *text_used;     /* the top run's text_total (one max_text for all) */
	unsigned level;        /* 0, or the nesting of an attached message being rebuilt */
	sk_buf *ppap;          /* sk_mail_ppap_find: the first password ZIP goes here */
	bool ppap_found;
	sk_mail_phish ph;      /* phishing tells of this message (mail_phish.c) */
} run;

#define T(r, ja, en_) ((r)->en ? (en_) : (ja))

/* What a run holds: its re-attachments, its text and its list. */
static void run_free(run *r)
{
	for (size_t i = 0; i < r->nra; i++) {
		free(r->ra[i].name);
		free(r->ra[i].ctype);
		free(r->ra[i].data);
	}
	free(r->ra);
	sk_buf_free(&r->body);
	sk_buf_free(&r->list);
}

static void set_fatal(run *r, int rc, const char *what)
{
	if (!r->fatal) {
		r->fatal = rc ? rc : SK_EINTERNAL;
		sk_error_set(r->err, r->fatal, "mail: %s", what);
	}
}

static void hold(run *r, sk_reason why, const char *detail)
{
	if (r->held == SK_REASON_NONE) {
		r->held = why;
		snprintf(r->held_detail, sizeof(r->held_detail), "%s", detail ? detail : "");
	}
}

static void addtext(run *r, const char *s, size_t n)
{
	if (r->fatal)
		return;
	if (*r->text_used + n > r->o->max_text) {
		r->trunc = true;
		return;
	}
	*r->text_used += n;
	int rc = sk_buf_add(&r->body, s, n);
	if (rc)
		set_fatal(r, rc, "body");
}

static void addstr(run *r, const char *s)
{
	addtext(r, s, strlen(s));
}

GByteArray *sk_mail_part_content(GMimePart *p)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(p);
	GMimeStream *ms = g_mime_stream_mem_new();
	if (dw && g_mime_data_wrapper_write_to_stream(dw, ms) < 0) {
		g_object_unref(ms);
		return NULL;
	}
	/* the stream's array itself (no copy of a large part): the stream lets go of it */
	GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(ms), FALSE);
	g_object_unref(ms);
	return ba;
}

static char *object_string(GMimeObject *o)
{
	GMimeStream *ms = g_mime_stream_mem_new();
	if (g_mime_object_write_to_stream(o, NULL, ms) < 0) {
		g_object_unref(ms);
		return NULL;
	}
	GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
	char *s = malloc(ba->len + 1);
	if (s) {
		memcpy(s, ba->data, ba->len);
		s[ba->len] = 0;
	}
	g_object_unref(ms);
	return s;
}

static void show_name(sk_buf *b, const char *name)
{
	/* control characters never reach the notice */
	for (const char *p = name; *p; p++)
		sk_buf_addc(b, (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : (uint8_t)*p);
}

static void list_line(run *r, const char *what, const char *name, size_t len,
		      const char *hex, const char *qid, const char *extra)
{
	sk_buf *b = &r->list;
	sk_buf_printf(b, "  - %s: ", what);
	show_name(b, name);
	sk_buf_printf(b, T(r, " (%zu バイト, sha256 %s", " (%zu bytes, sha256 %s"), len, hex);
	if (qid && *qid)
		sk_buf_printf(b, T(r, ", 保管 ID %s", ", quarantine id %s"), qid);
	sk_buf_printf(b, ")%s%s\n", extra ? " " : "", extra ? extra : "");
}

static void add_reattach(run *r, const char *name, const char *ctype, const uint8_t *data,
			 size_t len, const char *cte, bool message)
{
	if (r->nra == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 4;
		reattach *v = realloc(r->ra, nc * sizeof(*v));
		if (!v) {
			set_fatal(r, SK_ENOMEM, "reattach");
			return;
		}
		r->ra = v;
		r->cap = nc;
	}
	reattach *a = &r->ra[r->nra];
	memset(a, 0, sizeof(*a));
	a->name = strdup(name);
	a->ctype = strdup(ctype ? ctype : "application/octet-stream");
	a->cte = cte;
	a->message = message;
	if (len) {
		a->data = malloc(len);
		if (a->data)
			memcpy(a->data, data, len);
	}
	a->len = len;
	r->nra++;
	if (!a->name || !a->ctype || (len && !a->data))
		set_fatal(r, SK_ENOMEM, "reattach");
}

/* The content of a part as received, still in its transfer encoding, and the name of that
 * encoding: an unchanged attachment is carried byte for byte. NULL when GMime cannot
 * write it out. */
static GByteArray *raw_content(GMimePart *p, const char **cte)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(p);
	GMimeStream *src = dw ? g_mime_data_wrapper_get_stream(dw) : NULL;
	GMimeStream *ms = g_mime_stream_mem_new();
	if (src && (g_mime_stream_reset(src) < 0 || g_mime_stream_write_to_stream(src, ms) < 0)) {
		g_object_unref(ms);
		return NULL;
	}
	GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(ms), FALSE);
	g_object_unref(ms);
	bool eight = false;
	for (guint i = 0; i < ba->len && !eight; i++)
		eight = ba->data[i] >= 0x80 || !ba->data[i];
	switch (dw ? g_mime_data_wrapper_get_encoding(dw) : GMIME_CONTENT_ENCODING_DEFAULT) {
	case GMIME_CONTENT_ENCODING_BASE64:
		*cte = "base64";
		break;
	case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
		*cte = "quoted-printable";
		break;
	case GMIME_CONTENT_ENCODING_UUENCODE:
		*cte = "x-uuencode";
		break;
	case GMIME_CONTENT_ENCODING_BINARY:
		*cte = "binary";
		break;
	default:
		*cte = eight ? "8bit" : "7bit";
		break;
	}
	return ba;
}

static void attachment(run *r, const char *name, const char *ctype, const uint8_t *data,
		       size_t len, GMimeObject *part, bool inner);

/* TNEF (winmail.dat): its files are attachments. Returns false when it cannot be read
 * (then it is an attachment like any other). */
static bool tnef_open(run *r, const uint8_t *data, size_t len)
{
	sk_mail_tnef_file *f;
	size_t nf;
	int rc = sk_mail_tnef_read(data, len, r->hint, r->o->max_parts, &f, &nf);
	if (rc == SK_ELIMIT) {
		hold(r, SK_REASON_LIMIT_ENTRIES, "TNEF files");
		return true;
	}
	if (rc == SK_ENOMEM) {
		set_fatal(r, rc, "tnef");
		return true;
	}
	if (rc)
		return false;
	r->tnef = true;
	for (size_t i = 0; i < nf && !r->fatal && !r->held; i++)
		attachment(r, sk_buf_str(&f[i].name), "application/octet-stream", f[i].data,
			   f[i].len, NULL, true);
	sk_mail_tnef_free(f, nf);
	return true;
}

static void attachment(run *r, const char *name, const char *ctype, const uint8_t *data,
		       size_t len, GMimeObject *part, bool inner)
{
	if (r->fatal)
		return;
	r->res->attachments++;
	uint8_t sha[SK_SHA256_LEN];
	char hex[SK_SHA256_HEX];
	sk_sha256(data ? data : (const uint8_t *)"", len, sha);
	sk_hex(sha, SK_SHA256_LEN, hex);
	bool is_tnef = !inner && ((ctype && (!strcasecmp(ctype, "application/ms-tnef") ||
					     !strcasecmp(ctype, "application/vnd.ms-tnef"))) ||
				  !strcasecmp(name, "winmail.dat"));
	if (is_tnef) {
		uint32_t before = r->res->attachments;
		if (tnef_open(r, data, len)) {
			sk_buf_printf(&r->list, T(r, "  - TNEF (winmail.dat) を展開: %u 個のファイル\n",
						"  - TNEF (winmail.dat) opened: %u files\n"),
				      r->res->attachments - before);
			return;
		}
	}
	if (sk_zipio_encrypted(data, len)) {
		/* PPAP: not delivered and not stored apart: the message's original (stored by
		 * the gate before anything parsed it) holds it, and the notice names that id */
		if (r->ppap && !r->ppap_found) {
			r->ppap_found = true;
			if (sk_buf_add(r->ppap, data ? data : (const uint8_t *)"", len)) {
				set_fatal(r, SK_ENOMEM, "ppap");
				return;
			}
		}
		r->hold = true;
		r->res->held_attachments++;
		if (sk_report_add(r->report, SK_ACTION_REMOVED, "encrypted-attachment",
					       name, "held: released from the original", 1)) {
			set_fatal(r, SK_ENOMEM, "report");
			return;
		}
		list_line(r, T(r, "保留 (パスワード付き ZIP)", "held (password-protected ZIP)"), name,
			  len, hex, r->o->original_id,
			  r->o->original_id && r->o->original_id[0]
				  ? T(r, "— パスワードで解除できます (下記)", "— can be unlocked with its password (below)")
				  : T(r, "— 管理者の承認で原本から取り出せます", "— released from the original on approval"));
		return;
	}
	if (r->o->attach == SK_MAIL_DEL_ATTACH) {
		r->del = true;
		r->res->removed++;
		list_line(r, T(r, "削除", "removed"), name, len, hex, r->o->original_id, NULL);
		return;
	}
	/* SANITIZE_ATTACH: through the registry, under the message's budget */
	r->san = true;
	sk_reason why = sk_budget_time(&r->budget);
	if (why == SK_REASON_NONE)
		why = sk_budget_entry(&r->budget);
	if (why == SK_REASON_NONE)
		why = sk_budget_expand(&r->budget, len);
	if (why != SK_REASON_NONE) {
		hold(r, why, "attachments");
		return;
	}
	sk_buf ob;
	sk_buf_init(&ob, SK_BUF_MAX_DEFAULT);
	sk_error e;
	sk_error_clear(&e);
	sk_reason reason;
	size_t mark = r->report->n;
	int rc = sk_cdr_child(&r->cctx, name, data ? data : (const uint8_t *)"", len, &ob, &reason, &e);
	if (rc == SK_EBLOCKED && sk_reason_is_fatal(reason) && reason != SK_REASON_ENCRYPTED) {
		/* a limit of the message's budget: the whole message is held */
		sk_buf_free(&ob);
		hold(r, reason, name);
		return;
	}
	if (rc == 0) {
		bool clean = r->report->n == mark; /* the registry changed nothing */
		const sk_type *t = &r->cctx.child_type;
		char *nm = NULL;
		if (r->cctx.child_ext[0]) {
			const char *dot = strrchr(name, '.');
			size_t keep = dot && dot != name ? (size_t)(dot - name) : strlen(name);
			if (asprintf(&nm, "%.*s.%s", (int)keep, name, r->cctx.child_ext) < 0)
				nm = NULL;
		}
		/* the type the content really has, never the sender's label (a converted one's:
		 * a .msg delivered as .eml is message/rfc822) */
		const sk_type *ct = r->cctx.child_ext[0] ? sk_type_find(r->cctx.child_ext) : NULL;
		const char *real = ct && ct->mime ? ct->mime
				   : t->mime ? t->mime : "application/octet-stream";
		bool same = sk_buf_len(&ob) == len && (!len || !memcmp(sk_buf_data(&ob), data, len)) &&
			    ctype && !strcasecmp(ctype, real);
		/* DLP on what is delivered (sk_cdr_dlp: text, OOXML documents and messages
		 * read, others noted unscanned) */
		if (r->o->dlp) {
			sk_input din;
			sk_input_mem(&din, sk_buf_len(&ob) ? sk_buf_data(&ob) : (const uint8_t *)"",
				     sk_buf_len(&ob));
			int drc = sk_cdr_dlp(r->o->dlp, r->o->dlp_kinds, t, &din, nm ? nm : name,
					     &r->budget, r->report, &e);
			if (drc) {
				free(nm);
				sk_buf_free(&ob);
				hold(r, drc == SK_ELIMIT ? SK_REASON_LIMIT_SIZE : SK_REASON_INTERNAL, "dlp");
				return;
			}
		}
		const char *cte = NULL;
		GByteArray *raw = same && part && GMIME_IS_PART(part)
					  ? raw_content(GMIME_PART(part), &cte) : NULL;
		if (raw)
			add_reattach(r, nm ? nm : name, real, raw->data, raw->len, cte, false);
		else
			add_reattach(r, nm ? nm : name, real, sk_buf_data(&ob), sk_buf_len(&ob), NULL,
				     false);
		if (raw)
			g_byte_array_free(raw, TRUE);
		r->res->reattached++;
		list_line(r, T(r, clean ? "無害化済み (変更なし)" : "無害化して添付",
			       clean ? "sanitised (unchanged)" : "sanitised and attached"),
			  nm ? nm : name, len, hex, r->o->original_id, NULL);
		free(nm);
	} else {
		r->del = true;
		r->res->removed++;
		char why_s[200];
		snprintf(why_s, sizeof(why_s), "[%s]",
			 rc == SK_EBLOCKED ? sk_reason_code(reason) : "internal-error");
		if (sk_report_add(r->report, SK_ACTION_REMOVED, "attachment", name,
					       rc == SK_EBLOCKED ? sk_reason_code(reason) : "internal-error", 1))
			set_fatal(r, SK_ENOMEM, "report");
		list_line(r, T(r, "削除 (無害化できません)", "removed (cannot be made safe)"), name, len,
			  hex, r->o->original_id, why_s);
	}
	sk_buf_free(&ob);
}

static bool is_text_body(GMimeContentType *ct)
{
	return g_mime_content_type_is_type(ct, "text", "plain") ||
	       g_mime_content_type_is_type(ct, "text", "html");
}

static void walk(run *r, GMimeObject *obj, unsigned depth);
static int write_message(run *r, GMimeMessage *m, sk_buf *o);

void sk_mail_first_charset(GMimeObject *obj, uint32_t max, char *out, size_t n)
{
	out[0] = 0;
	GMimePartIter *it = g_mime_part_iter_new(obj);
	uint32_t k = 0;
	do {
		GMimeObject *o = g_mime_part_iter_get_current(it);
		if (!o || !GMIME_IS_PART(o))
			continue;
		GMimeContentType *ct = g_mime_object_get_content_type(o);
		const char *cs = g_mime_content_type_is_type(ct, "text", "*")
					 ? g_mime_content_type_get_parameter(ct, "charset") : NULL;
		sk_charset c = cs && *cs ? sk_charset_from_label(cs) : SK_CHARSET_ASCII;
		if (c != SK_CHARSET_ASCII && c != SK_CHARSET_UTF8 && strlen(cs) < n) {
			snprintf(out, n, "%s", cs);
			break;
		}
	} while (++k < max && g_mime_part_iter_next(it));
	g_mime_part_iter_free(it);
}

/* Whitespace off both ends of the UTF-8 text in b. */
static void trim(sk_buf *b)
{
	size_t s = 0, e = b->len;
	while (s < e && (b->data[s] == ' ' || b->data[s] == '\t'))
		s++;
	while (e > s && (b->data[e - 1] == ' ' || b->data[e - 1] == '\t'))
		e--;
	if (s)
		memmove(b->data, b->data + s, e - s);
	b->len = e - s;
	if (b->data)
		b->data[b->len] = 0;
}

int sk_mail_part_name(GMimeObject *obj, const char *fn, const char *hint, sk_buf *nb)
{
	static const char *const where[][2] = {{"Content-Disposition", "filename"},
					       {"Content-Type", "name"}};
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	for (int i = 0; i < 2; i++) {
		GMimeHeader *h = hl ? g_mime_header_list_get_header(hl, where[i][0]) : NULL;
		const char *raw = h ? g_mime_header_get_raw_value(h) : NULL;
		if (!raw)
			continue;
		sk_buf_reset(nb);
		int rc = sk_mail_param_decode(raw, where[i][1], hint, nb);
		if (rc == 0) {
			trim(nb);
			if (nb->len)
				return 0;
		} else if (rc == SK_ENOMEM) {
			sk_buf_reset(nb);
			return rc;
		}
	}
	sk_buf_reset(nb);
	if (fn && *fn && sk_buf_adds(nb, fn) != 0) {
		sk_buf_reset(nb); /* too long */
	} else if (fn && *fn) {
		for (size_t i = 0; i < nb->len; i++)
			if (nb->data[i] < 0x20 || nb->data[i] == 0x7f)
				nb->data[i] = ' ';
		trim(nb);
	}
	return 0;
}

/* The name an attached message goes by: its subject, decoded, and ".eml" (into nm). */
static void message_name(GMimeMessage *m, const char *hint, sk_buf *nm)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(m));
	GMimeHeader *h = hl ? g_mime_header_list_get_header(hl, "Subject") : NULL;
	const char *raw = h ? g_mime_header_get_raw_value(h) : NULL;
	sk_buf_reset(nm);
	if (!raw || sk_mail_header_decode(raw, strlen(raw), hint, false, nm) != 0)
		sk_buf_reset(nm);
	trim(nm);
	/* at most 200 bytes, cut between characters; no folder separators */
	size_t k = nm->len > 200 ? 200 : nm->len;
	while (k && k < nm->len && (nm->data[k] & 0xC0) == 0x80)
		k--;
	sk_buf_truncate(nm, k);
	for (size_t i = 0; i < nm->len; i++)
		if (nm->data[i] == '/' || nm->data[i] == '\\')
			nm->data[i] = '_';
	if (!nm->len)
		sk_buf_adds(nm, "message");
	sk_buf_adds(nm, ".eml");
}

/* A message attached to this one (forwarded as an attachment) under SANITIZE_ATTACH:
 * rebuilt as mail by the same walk under the message's one budget (its parts, depth,
 * clock, text and attachments count against the same limits; a limit it passes holds the
 * whole message) and re-attached as message/rfc822: text only, its own notice, its own
 * attachments sanitised and attached inside it. */
static void attached_message(run *r, GMimeMessage *m, unsigned depth)
{
	r->res->attachments++;
	sk_reason why = sk_budget_time(&r->budget);
	if (why == SK_REASON_NONE)
		why = sk_budget_entry(&r->budget);
	if (why != SK_REASON_NONE) {
		hold(r, why, "attached message");
		return;
	}
	run s = {.o = r->o, .res = r->res, .err = r->err, .report = r->report, .en = r->en,
		 .ppap = r->ppap, .ppap_found = r->ppap_found, .text_used = r->text_used,
		 .level = r->level + 1, .budget = r->budget, .cctx = r->cctx};
	s.cctx.budget = &s.budget;
	memcpy(s.hex, r->hex, sizeof(s.hex));
	sk_mail_first_charset(GMIME_OBJECT(m), r->o->max_parts, s.hint, sizeof(s.hint));
	sk_buf_init(&s.body, SK_BUF_MAX_DEFAULT);
	sk_buf_init(&s.list, 1 << 20);
	sk_buf out, nm;
	sk_buf_init(&out, SK_BUF_MAX_DEFAULT);
	sk_buf_init(&nm, 4096);
	message_name(m, s.hint, &nm);
	char *orig = object_string(GMIME_OBJECT(m));
	if (!orig)
		set_fatal(&s, SK_ENOMEM, "attached message");
	GMimeObject *body = g_mime_message_get_mime_part(m);
	if (body && !s.fatal)
		walk(&s, body, depth + 1);
	if (!s.fatal && !s.held) {
		int rc = write_message(&s, m, &out);
		if (rc)
			set_fatal(&s, rc, "attached message");
	}
	/* what the rebuild used and did is the message's */
	r->budget = s.budget;
	r->ppap_found = s.ppap_found;
	r->del |= s.del;
	r->san |= s.san;
	r->hold |= s.hold;
	r->tnef |= s.tnef;
	r->trunc |= s.trunc;
	if (s.fatal) {
		if (!r->fatal)
			r->fatal = s.fatal;
	} else if (s.held) {
		hold(r, s.held, s.held_detail);
	} else {
		add_reattach(r, sk_buf_str(&nm), "message/rfc822", sk_buf_data(&out), sk_buf_len(&out),
			     NULL, true);
		r->res->reattached++;
		r->san = true;
		uint8_t sha[SK_SHA256_LEN];
		char hex[SK_SHA256_HEX];
		sk_sha256((const uint8_t *)orig, strlen(orig), sha);
		sk_hex(sha, SK_SHA256_LEN, hex);
		list_line(r, T(r, "無害化して添付 (転送メール)", "sanitised and attached (forwarded message)"),
			  sk_buf_str(&nm), strlen(orig), hex, r->o->original_id, NULL);
	}
	free(orig);
	run_free(&s);
	sk_buf_free(&out);
	sk_buf_free(&nm);
}

static void part_text(run *r, GMimePart *p, GMimeContentType *ct)
{
	GByteArray *ba = sk_mail_part_content(p);
	if (!ba) {
		set_fatal(r, SK_EINTERNAL, "text part content");
		return;
	}
	sk_buf t;
	sk_buf_init(&t, SK_BUF_MAX_DEFAULT);
	const char *label = g_mime_content_type_get_parameter(ct, "charset");
	if (!r->charset[0])
		snprintf(r->charset, sizeof(r->charset), "%s", label && *label ? label : "-");
	int rc = sk_mail_decode_text(ba->data, ba->len, label, &t, r->err);
	g_byte_array_free(ba, TRUE);
	if (rc == 0 && g_mime_content_type_is_type(ct, "text", "html")) {
		sk_buf h;
		sk_buf_init(&h, SK_BUF_MAX_DEFAULT);
		sk_reason why;
		rc = sk_mail_html_links((const char *)sk_buf_str(&t), t.len, &r->budget, r->en,
					&r->ph.mismatch, &h, &why, r->err);
		sk_buf_free(&t);
		t = h;
		r->chg_text = true;
		if (rc == SK_EBLOCKED || rc == SK_ELIMIT) {
			/* over a limit: the message is held, a notice delivered */
			sk_buf_free(&t);
			hold(r, rc == SK_ELIMIT ? SK_REASON_LIMIT_SIZE : why, "text/html");
			return;
		}
	}
	if (rc) {
		sk_buf_free(&t);
		set_fatal(r, rc, "text");
		return;
	}
	/* normalise line ends to \n; one part follows another after a blank line */
	if (r->body.len)
		addstr(r, "\n");
	size_t s = 0;
	for (size_t i = 0; i < t.len; i++) {
		if (t.data[i] == '\r') {
			addtext(r, (const char *)t.data + s, i - s);
			s = i + 1;
		}
	}
	addtext(r, (const char *)t.data + s, t.len - s);
	if (t.len && t.data[t.len - 1] != '\n')
		addstr(r, "\n");
	sk_buf_free(&t);
}

static int alt_score(GMimeObject *c)
{
	GMimeContentType *ct = g_mime_object_get_content_type(c);
	GMimeContentDisposition *cd = g_mime_object_get_content_disposition(c);
	if (cd && g_mime_content_disposition_is_attachment(cd))
		return 0;
	if (g_mime_content_type_is_type(ct, "text", "plain"))
		return 3;
	if (GMIME_IS_MULTIPART(c))
		return 2;
	if (g_mime_content_type_is_type(ct, "text", "html"))
		return 1;
	return 0;
}

static void walk(run *r, GMimeObject *obj, unsigned depth)
{
	if (r->fatal || r->held)
		return;
	sk_reason late = sk_budget_time(&r->budget);
	if (late != SK_REASON_NONE) {
		hold(r, late, "mail");
		return;
	}
	if (++r->res->parts > r->o->max_parts) {
		hold(r, SK_REASON_LIMIT_ENTRIES, "too many MIME parts");
		return;
	}
	if (depth > r->o->max_depth) {
		hold(r, SK_REASON_LIMIT_DEPTH, "MIME nesting too deep");
		return;
	}
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	GMimeContentDisposition *cd = g_mime_object_get_content_disposition(obj);
	bool att_disp = cd && g_mime_content_disposition_is_attachment(cd);
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);
		if (g_mime_content_type_is_type(ct, "multipart", "alternative") && n > 0) {
			int best = -1, bs = -1;
			bool other_alt = false;
			for (int i = 0; i < n; i++) {
				int s = alt_score(g_mime_multipart_get_part(mp, i));
				if (s > bs) {
					bs = s;
					best = i;
				}
			}
			for (int i = 0; i < n; i++) {
				GMimeObject *c = g_mime_multipart_get_part(mp, i);
				if (i == best) {
					walk(r, c, depth + 1);
				} else {
					/* a dropped alternative still counts against the limits */
					if (++r->res->parts > r->o->max_parts)
						hold(r, SK_REASON_LIMIT_ENTRIES, "too many MIME parts");
					other_alt = true;
				}
			}
			if (other_alt)
				r->chg_text = true;
			return;
		}
		for (int i = 0; i < n && !r->fatal && !r->held; i++)
			walk(r, g_mime_multipart_get_part(mp, i), depth + 1);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		if (!m)
			return;
		if (att_disp && r->o->attach == SK_MAIL_SANITIZE_ATTACH) {
			attached_message(r, m, depth);
			return;
		}
		/* a forwarded message (inline, or attached while attachments are removed): its
		 * text follows, its attachments are handled as the message's own */
		char hint[40];
		sk_mail_first_charset(GMIME_OBJECT(m), r->o->max_parts, hint, sizeof(hint));
		if (att_disp) {
			r->res->attachments++;
			sk_buf nm;
			sk_buf_init(&nm, 4096);
			message_name(m, hint, &nm);
			sk_buf_printf(&r->list, T(r, "  - 転送メールを本文に展開: ",
						"  - forwarded message shown in the text: "));
			show_name(&r->list, sk_buf_str(&nm));
			sk_buf_addc(&r->list, '\n');
			sk_buf_free(&nm);
		}
		addstr(r, T(r, "\n---- 転送されたメッセージ ----\n", "\n---- Forwarded message ----\n"));
		static const char *const hs[] = {"From", "Date", "Subject", "To", NULL};
		GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(m));
		for (int i = 0; hs[i]; i++) {
			GMimeHeader *h = hl ? g_mime_header_list_get_header(hl, hs[i]) : NULL;
			const char *v = h ? g_mime_header_get_raw_value(h) : NULL;
			if (!v)
				continue;
			sk_buf tv;
			sk_buf_init(&tv, 65536);
			if (sk_mail_header_decode(v, strlen(v), hint, false, &tv) != 0)
				sk_buf_reset(&tv);
			trim(&tv);
			addstr(r, hs[i]);
			addstr(r, ": ");
			addstr(r, sk_buf_str(&tv));
			addstr(r, "\n");
			sk_buf_free(&tv);
		}
		addstr(r, "\n");
		GMimeObject *body = g_mime_message_get_mime_part(m);
		if (body)
			walk(r, body, depth + 1);
		r->chg_text = true;
		return;
	}
	if (GMIME_IS_PART(obj)) {
		GMimePart *p = GMIME_PART(obj);
		const char *fn = g_mime_part_get_filename(p);
		if (is_text_body(ct) && !att_disp && !fn) {
			part_text(r, p, ct);
			return;
		}
		/* the name as the sender's program wrote it (RFC 2231, encoded words, raw 8-bit),
		 * decoded here: GMime's own reading loses characters split between words and
		 * ISO-2022-JP's CP932 extensions */
		sk_buf nb;
		sk_buf_init(&nb, 4096);
		if (sk_mail_part_name(obj, fn, r->hint, &nb) != 0)
			set_fatal(r, SK_ENOMEM, "attachment name");
		GByteArray *ba = sk_mail_part_content(p);
		if (!ba) {
			sk_buf_free(&nb);
			set_fatal(r, SK_EINTERNAL, "attachment content");
			return;
		}
		char *mt = g_mime_content_type_get_mime_type(ct);
		attachment(r, nb.len ? sk_buf_str(&nb) : "(名前なし)", mt, ba->data, ba->len, obj, false);
		sk_buf_free(&nb);
		g_free(mt);
		g_byte_array_free(ba, TRUE);
		return;
	}
}

/* ---- output ----------------------------------------------------------------------- */

static const char *const KEEP[] = {"From", "To", "Cc", "Date", "Subject", "Message-ID",
				   "In-Reply-To", "References", "Reply-To", "Sender",
				   "Return-Path", "Received", NULL};

static bool keep_header(const char *name)
{
	for (int i = 0; KEEP[i]; i++)
		if (!strcasecmp(name, KEEP[i]))
			return true;
	return false;
}

/* Headers whose values are text for the reader (decoded and written anew) */
static const char *const READ[] = {"Subject", "From", "To", "Cc", "Reply-To", "Sender", NULL};

static bool in_set(const char *name, const char *const *set)
{
	for (; *set; set++)
		if (!strcasecmp(name, *set))
			return true;
	return false;
}

/* One kept header. A value of printable 7-bit text is written as received (its folds
 * kept), unless it is one the reader reads (Subject, addresses) and holds encoded words;
 * the others are decoded (encoded words joined and read in their charsets, raw 8-bit by
 * the body's charset `hint`) and written anew, 7-bit and folded. */
static int put_header(sk_buf *o, GMimeHeader *h, const char *hint)
{
	const char *name = g_mime_header_get_name(h);
	const char *raw = g_mime_header_get_raw_value(h);
	if (!raw)
		raw = "";
	bool read = in_set(name, READ), plain = true;
	for (const unsigned char *p = (const unsigned char *)raw; *p; p++)
		if (*p >= 0x80 || (*p < 0x20 && *p != '\t' && *p != '\r' && *p != '\n') || *p == 0x7f)
			plain = false;
	if (plain && !(read && strstr(raw, "=?"))) {
		int rc = sk_buf_printf(o, "%s:", name);
		if (!rc && *raw != ' ' && *raw != '\t')
			rc = sk_buf_addc(o, ' ');
		if (!rc)
			rc = sk_buf_adds(o, raw);
		if (!rc && (!*raw || raw[strlen(raw) - 1] != '\n'))
			rc = sk_buf_addc(o, '\n');
		return rc;
	}
	sk_buf t;
	sk_buf_init(&t, 1 << 20);
	static const char *const ADDR[] = {"From", "To", "Cc", "Reply-To", "Sender", NULL};
	int rc = sk_mail_header_decode(raw, strlen(raw), hint, in_set(name, ADDR), &t);
	if (rc == 0) {
		trim(&t);
		rc = sk_mail_header_write(o, name, sk_buf_str(&t));
	}
	sk_buf_free(&t);
	return rc;
}

static int base64_lines(sk_buf *o, const uint8_t *p, size_t n)
{
	static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int rc = 0;
	size_t col = 0;
	for (size_t i = 0; i < n && rc == 0; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		char q[4] = {A[v >> 18 & 63], A[v >> 12 & 63], i + 1 < n ? A[v >> 6 & 63] : '=',
			     i + 2 < n ? A[v & 63] : '='};
		rc = sk_buf_add(o, q, 4);
		col += 4;
		if (col >= 76 && rc == 0) {
			rc = sk_buf_addc(o, '\n');
			col = 0;
		}
	}
	if (rc == 0 && col)
		rc = sk_buf_addc(o, '\n');
	return rc;
}

int sk_mail_put_text(sk_buf *o, const char *charset, const uint8_t *p, size_t n)
{
	int rc = sk_buf_printf(o, "Content-Type: text/plain; charset=%s\n"
				  "Content-Transfer-Encoding: base64\n\n", charset);
	return rc ? rc : base64_lines(o, p ? p : (const uint8_t *)"", n);
}

/* 7-bit text in lines of at most 998 octets (RFC 5322) */
static bool seven_bit(const uint8_t *p, size_t n)
{
	size_t col = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x80 || p[i] == 0 || (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n')))
			return false;
		col = p[i] == '\n' ? 0 : col + 1;
		if (col > 998)
			return false;
	}
	return true;
}

/* An attachment's Content-Type and Content-Disposition, its name written anew (encoded
 * words for old readers in the type, RFC 2231 in the disposition; none in the type of a
 * message), up to the Content-Transfer-Encoding line. */
static int put_part_head(sk_buf *o, const char *name, const char *ctype, bool message)
{
	int rc = sk_buf_printf(o, "Content-Type: %s", ctype);
	if (!rc && !message)
		rc = sk_mail_filename_param(o, name, false);
	if (!rc)
		rc = sk_buf_adds(o, "\nContent-Disposition: attachment");
	if (!rc)
		rc = sk_mail_filename_param(o, name, true);
	return rc;
}

int sk_mail_put_file(sk_buf *o, const char *name, const char *ctype, const uint8_t *p, size_t n)
{
	p = p ? p : (const uint8_t *)"";
	/* a message is written as it is (RFC 2046 allows no base64 for message/rfc822) when
	 * it is 7-bit, as the messages sekisho writes are */
	bool msg = !strcasecmp(ctype, "message/rfc822") && seven_bit(p, n);
	int rc = put_part_head(o, name, ctype, msg);
	if (!rc)
		rc = sk_buf_printf(o, "\nContent-Transfer-Encoding: %s\n\n", msg ? "7bit" : "base64");
	if (!rc && msg) {
		rc = sk_buf_add(o, p, n);
		if (!rc && n && p[n - 1] != '\n')
			rc = sk_buf_addc(o, '\n');
	} else if (!rc) {
		rc = base64_lines(o, p, n);
	}
	return rc;
}

static void make_notice(run *r, sk_buf *n, const char *from_domain)
{
	sk_buf_adds(n, T(r, "【sekisho】このメールは無害化されました。\n",
			 "[sekisho] This mail was sanitised.\n"));
	sk_buf_adds(n, T(r, "処理: ", "Done: "));
	const char *sep = "";
	if (r->chg_text) {
		sk_buf_printf(n, "%s%s", sep, T(r, "HTML・代替本文をテキストに変換", "HTML/alternatives converted to text"));
		sep = T(r, "、", ", ");
	}
	if (r->res->links) {
		sk_buf_printf(n, "%s%s (%u)", sep, T(r, "リンクを無効化", "links neutralised"), r->res->links);
		sep = T(r, "、", ", ");
	}
	if (r->del) {
		sk_buf_printf(n, "%s%s", sep, T(r, "添付ファイルを削除", "attachments removed"));
		sep = T(r, "、", ", ");
	}
	if (r->san) {
		sk_buf_printf(n, "%s%s", sep, T(r, "添付ファイルを無害化", "attachments sanitised"));
		sep = T(r, "、", ", ");
	}
	if (r->hold) {
		sk_buf_printf(n, "%s%s", sep, T(r, "暗号化された添付ファイルを保留", "encrypted attachments held"));
		sep = T(r, "、", ", ");
	}
	if (r->trunc) {
		sk_buf_printf(n, "%s%s", sep, T(r, "長すぎる本文を切り詰め", "over-long text cut"));
		sep = T(r, "、", ", ");
	}
	sk_buf_printf(n, "%s\n", *sep ? "" : T(r, "本文をテキストとして再構成", "text rebuilt"));
	if (r->o->original_id && r->o->original_id[0])
		sk_buf_printf(n, T(r, "原本が必要な場合は、保管 ID %s を添えてシステム管理者に申請してください。\n",
				   "To obtain the original, ask your administrator quoting quarantine id %s.\n"),
			      r->o->original_id);
	if (r->hold && r->o->original_id && r->o->original_id[0])
		/* PPAP: the recipient unlocks it with the password (sk_gate_unlock) */
		sk_buf_printf(n, T(r, "パスワード付き ZIP は、ファイル受け渡し画面の『PPAP 解除』で保管 ID %s と"
				      "パスワードを入力すると、中身を無害化して受け取れます。\n",
				   "To receive a password-protected ZIP, enter quarantine id %s and its password "
				   "under \"PPAP unlock\" in the file exchange console; its content is then "
				   "sanitised.\n"),
			      r->o->original_id);
	if (from_domain) {
		sk_buf_adds(n, T(r, "[注意] 外部 (", "[WARNING] External sender ("));
		show_name(n, from_domain);
		sk_buf_adds(n, T(r, ") から届いたメールです。差出人・リンク・添付に注意してください。\n",
				 "). Be careful with the sender, links and attachments.\n"));
	}
	sk_mail_phish_notice(&r->ph, r->en, n);
	if (r->list.len) {
		sk_buf_adds(n, T(r, "添付ファイル:\n", "Attachments:\n"));
		sk_buf_add(n, r->list.data, r->list.len);
	}
	sk_buf_adds(n, SEP_LINE);
}

/* The From domain when the external warning applies, else NULL (static storage in m). */
static const char *external_domain(const sk_mail_options *o, GMimeMessage *m, char *buf,
				   size_t bsz)
{
	if (!o->warn_external)
		return NULL;
	InternetAddressList *l = g_mime_message_get_from(m);
	const char *addr = NULL;
	if (l && internet_address_list_length(l) > 0) {
		InternetAddress *a = internet_address_list_get_address(l, 0);
		if (INTERNET_ADDRESS_IS_MAILBOX(a))
			addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
	}
	const char *at = addr ? strrchr(addr, '@') : NULL;
	snprintf(buf, bsz, "%s", at ? at + 1 : "?");
	if (at && sk_mail_domain_internal(addr, o->internal_domains))
		return NULL;
	return buf;
}

static void actions_value(run *r, char *out, size_t n)
{
	snprintf(out, n, "%s%s%s%s%s%s", r->chg_text ? "CHG_TEXT " : "", r->del ? "DEL_ATTACH " : "",
		 r->san ? "SANITIZE_ATTACH " : "", r->hold ? "HOLD_ATTACH " : "",
		 r->res->links ? "REP_LINK " : "", "TEXT_ONLY");
}

/* The charset to write the text in: the original's (ISO-2022-JP, Shift_JIS, EUC-JP) when
 * every character converts strictly, into out; NULL for UTF-8. */
static const char *keep_charset(const char *label, const sk_buf *text, sk_buf *out)
{
	static const struct {
		const char *label, *iconv, *name;
	} map[] = {
		{"iso-2022-jp", "ISO-2022-JP", "ISO-2022-JP"},
		{"csiso2022jp", "ISO-2022-JP", "ISO-2022-JP"},
		{"shift_jis", "SHIFT_JIS", "Shift_JIS"},
		{"shift-jis", "SHIFT_JIS", "Shift_JIS"},
		{"sjis", "SHIFT_JIS", "Shift_JIS"},
		{"euc-jp", "EUC-JP", "EUC-JP"},
	};
	const char *to = NULL, *name = NULL;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcasecmp(label, map[i].label)) {
			to = map[i].iconv;
			name = map[i].name;
		}
	if (!to || !text->len)
		return NULL;
	GError *ge = NULL;
	gsize w = 0;
	gchar *c = g_convert((const gchar *)text->data, (gssize)text->len, to, "UTF-8", NULL, &w, &ge);
	if (!c || ge) {
		g_clear_error(&ge);
		g_free(c);
		return NULL;
	}
	int rc = sk_buf_add(out, c, w);
	g_free(c);
	return rc ? NULL : name;
}

/* 7bit needs lines under 998 octets. */
static bool short_lines(const sk_buf *b)
{
	size_t col = 0;
	for (size_t i = 0; i < b->len; i++) {
		if (b->data[i] == '\n')
			col = 0;
		else if (++col > 900 || b->data[i] >= 0x80)
			return false;
	}
	return true;
}

static int write_message(run *r, GMimeMessage *m, sk_buf *o)
{
	int rc = 0;
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(m));
	int hc = hl ? g_mime_header_list_get_count(hl) : 0;
	for (int i = 0; i < hc && !rc; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		if (keep_header(g_mime_header_get_name(h)))
			rc = put_header(o, h, r->hint);
	}
	if (rc == SK_ELIMIT) {
		/* a header value of more than 1 MiB (an attached message's: the top one's
		 * header block is under max_header) */
		hold(r, SK_REASON_LIMIT_SIZE, "header too large");
		return 0;
	}
	char dom[256];
	const char *ext = external_domain(r->o, m, dom, sizeof(dom));
	if (!rc) /* look-alike domains, Authentication-Results, the report's counts */
		rc = sk_mail_phish_check(&r->ph, r->o, r->en, m, &r->body,
					 r->level ? "message/rfc822" : "", r->report);
	/* the text: notice, then the body with its links neutralised */
	sk_buf text;
	sk_buf_init(&text, SK_BUF_MAX_DEFAULT);
	sk_buf nb;
	sk_buf_init(&nb, SK_BUF_MAX_DEFAULT);
	if (r->o->rep_link)
		rc = rc ? rc : sk_mail_neutralize_text(sk_buf_str(&r->body), r->body.len, &nb, &r->res->links);
	else
		rc = rc ? rc : sk_buf_add(&nb, r->body.data ? r->body.data : (const uint8_t *)"", r->body.len);
	/* DLP on the body as delivered (the notice is ours) */
	if (!rc && r->o->dlp) {
		sk_input din;
		sk_input_mem(&din, nb.len ? nb.data : (const uint8_t *)"", nb.len);
		sk_error e;
		sk_error_clear(&e);
		int drc = sk_dlp_report(r->o->dlp, r->o->dlp_kinds, &din, "body", r->report, &e);
		if (drc == SK_ELIMIT || drc == SK_EFORMAT) {
			hold(r, drc == SK_ELIMIT ? SK_REASON_LIMIT_SIZE : SK_REASON_INTERNAL, "dlp");
			sk_buf_free(&nb);
			sk_buf_free(&text);
			return 0;
		}
		rc = drc;
	}
	if (!rc) {
		make_notice(r, &text, ext);
		rc = sk_buf_add(&text, nb.data ? nb.data : (const uint8_t *)"", nb.len);
	}
	sk_buf_free(&nb);
	actions_value(r, r->res->actions, sizeof(r->res->actions));
	if (!rc)
		rc = sk_buf_printf(o, "MIME-Version: 1.0\nX-Mail-Sanitized: %s\n", r->res->actions);
	char boundary[64];
	/* an attached message's boundary is not a prefix of its parent's, nor the reverse */
	if (r->level)
		snprintf(boundary, sizeof(boundary), "=_sekisho%u_%.24s", r->level, r->hex);
	else
		snprintf(boundary, sizeof(boundary), "=_sekisho_%.24s", r->hex);
	if (!rc && r->nra)
		rc = sk_buf_printf(o, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n"
				      "This is a MIME message.\n--%s\n", boundary, boundary);
	/* the text keeps its charset when it can be represented there, else UTF-8 */
	sk_buf kept;
	sk_buf_init(&kept, SK_BUF_MAX_DEFAULT);
	const char *cs = rc ? NULL : keep_charset(r->charset, &text, &kept);
	if (!rc && cs && !strcmp(cs, "ISO-2022-JP") && short_lines(&kept)) {
		rc = sk_buf_adds(o, "Content-Type: text/plain; charset=ISO-2022-JP\n"
				    "Content-Transfer-Encoding: 7bit\n\n");
		if (!rc)
			rc = sk_buf_add(o, kept.data, kept.len);
	} else if (!rc) {
		if (!cs || !strcmp(cs, "ISO-2022-JP"))
			cs = "UTF-8";
		const sk_buf *b = strcmp(cs, "UTF-8") ? &kept : &text;
		rc = sk_mail_put_text(o, cs, b->data, b->len);
	}
	sk_buf_free(&kept);
	sk_buf_free(&text);
	for (size_t i = 0; i < r->nra && !rc; i++) {
		reattach *a = &r->ra[i];
		rc = sk_buf_printf(o, "--%s\n", boundary);
		if (rc)
			break;
		/* the name written anew, whatever the sender's program wrote */
		const uint8_t *d = a->data ? a->data : (const uint8_t *)"";
		if (!a->message && !a->cte) { /* a rebuilt file (a .msg made .eml: a message) */
			rc = sk_mail_put_file(o, a->name, a->ctype, d, a->len);
			continue;
		}
		rc = put_part_head(o, a->name, a->ctype, a->message);
		/* a rebuilt message as it is; an unchanged part as received */
		const char *cte = a->cte;
		if (!cte) {
			cte = "7bit";
			for (size_t k = 0; k < a->len; k++)
				if (d[k] >= 0x80)
					cte = "8bit";
		}
		if (!rc)
			rc = sk_buf_printf(o, "\nContent-Transfer-Encoding: %s\n\n", cte);
		if (!rc)
			rc = sk_buf_add(o, d, a->len);
		if (!rc && (!a->len || d[a->len - 1] != '\n'))
			rc = sk_buf_addc(o, '\n');
	}
	if (!rc && r->nra)
		rc = sk_buf_printf(o, "--%s--\n", boundary);
	return rc;
}

/* The short notice delivered instead of a held message. */
int sk_mail_notice_held(const sk_mail_options *o, sk_reason reason, const char *qid, sk_buf *out)
{
	bool en = o && o->lang == SK_LANG_EN;
#define TN(ja, en_) (en ? (en_) : (ja))
	sk_buf_reset(out);
	sk_mail_init();
	const char *subj = TN("[sekisho] メールを保留しました", "[sekisho] mail held");
	char *es = g_mime_utils_header_encode_text(NULL, subj, "UTF-8");
	sk_buf text;
	sk_buf_init(&text, 1 << 20);
	int rc = sk_buf_printf(&text, TN("【sekisho】このメールは安全に無害化できないため保留しました。\n"
					"理由: %s (%s)\n",
					"[sekisho] This mail could not be made safe and was held.\n"
					"Reason: %s (%s)\n"),
			       sk_reason_text(reason, en ? SK_LANG_EN : SK_LANG_JA), sk_reason_code(reason));
	if (!rc && qid && *qid)
		rc = sk_buf_printf(&text, TN("原本が必要な場合は、保管 ID %s を添えてシステム管理者に申請してください。\n",
					     "To obtain the original, ask your administrator quoting quarantine id %s.\n"),
				   qid);
#undef TN
	if (!rc)
		rc = sk_buf_printf(out, "From: sekisho <postmaster@localhost>\nSubject: %s\nMIME-Version: 1.0\n"
					"X-Mail-Sanitized: HELD\nContent-Type: text/plain; charset=UTF-8\n"
					"Content-Transfer-Encoding: base64\n\n",
				   es ? es : "held");
	if (!rc)
		rc = base64_lines(out, text.data, text.len);
	g_free(es);
	sk_buf_free(&text);
	if (rc)
		sk_buf_reset(out);
	return rc;
}

/* What GMime reports that makes a message not whole (sk_mail_parse's broken): a part cut
 * short or dropped, or a structure readers may take two ways. */
static void parse_warning(gint64 offset, GMimeParserWarning code, const gchar *item, gpointer ud)
{
	(void)offset;
	(void)item;
	const char **broken = ud;
	const char *what = NULL;
	switch (code) {
	case GMIME_WARN_TRUNCATED_MESSAGE: what = "message cut short"; break;
	case GMIME_WARN_MALFORMED_MESSAGE: what = "malformed message"; break;
	case GMIME_WARN_MALFORMED_MULTIPART: what = "multipart without parts"; break;
	case GMIME_CRIT_INVALID_HEADER_NAME: what = "invalid header name"; break;
	case GMIME_CRIT_CONFLICTING_HEADER: what = "conflicting headers"; break;
	case GMIME_CRIT_CONFLICTING_PARAMETER: what = "conflicting header parameters"; break;
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY: what = "multipart without boundary"; break;
	case GMIME_CRIT_NESTING_OVERFLOW: what = "MIME nesting overflow"; break;
	case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT: what = "part without header or content"; break;
	default: break;
	}
	if (what && !*broken)
		*broken = what;
}

GMimeMessage *sk_mail_parse(const uint8_t *msg, size_t n, const char **broken)
{
	sk_mail_init();
	GMimeStream *st = g_mime_stream_mem_new_with_buffer((const char *)(msg ? msg : (const uint8_t *)""), n);
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	GMimeParserOptions *po = g_mime_parser_options_new();
	g_mime_parser_options_set_rfc2047_compliance_mode(po, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(po, GMIME_RFC_COMPLIANCE_LOOSE);
	const char *fb[] = {"UTF-8", "CP932", "EUC-JP", "ISO-8859-1", NULL};
	g_mime_parser_options_set_fallback_charsets(po, fb);
	if (broken) {
		*broken = NULL;
		g_mime_parser_options_set_warning_callback(po, parse_warning, broken);
	}
	GMimeMessage *m = g_mime_parser_construct_message(p, po);
	g_mime_parser_options_free(po);
	g_object_unref(p);
	g_object_unref(st);
	return m;
}

static size_t header_block_len(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (p[i] == '\n' && p[i + 1] == '\n')
			return i + 1;
		if (p[i] == '\n' && p[i + 1] == '\r' && i + 2 < n && p[i + 2] == '\n')
			return i + 1;
	}
	return n;
}

static int sanitize(const sk_mail_options *o, sk_budget *budget, const uint8_t *msg, size_t n,
		    sk_buf *out, sk_mail_result *res, sk_report *report, sk_buf *ppap, bool *found,
		    sk_error *err);

int sk_mail_sanitize(const sk_mail_options *o, sk_budget *budget, const uint8_t *msg, size_t n,
		     sk_buf *out, sk_mail_result *res, sk_report *report, sk_error *err)
{
	return sanitize(o, budget, msg, n, out, res, report, NULL, NULL, err);
}

int sk_mail_ppap_find(const uint8_t *msg, size_t n, sk_budget *budget, sk_buf *zip,
		      sk_reason *why, sk_error *err)
{
	sk_mail_options o;
	sk_mail_options_default(&o);
	o.attach = SK_MAIL_DEL_ATTACH;
	sk_mail_result res;
	sk_report rep;
	sk_report_init(&rep);
	sk_buf out;
	sk_buf_init(&out, SK_BUF_MAX_DEFAULT);
	sk_buf_reset(zip);
	bool found = false;
	*why = SK_REASON_NONE;
	int rc = sanitize(&o, budget, msg, n, &out, &res, &rep, zip, &found, err);
	if (rc == 0 && res.held)
		*why = res.reason;
	else if (rc == 0 && !found)
		rc = sk_error_set(err, SK_ENOTFOUND, "no password ZIP attachment");
	if (rc || *why != SK_REASON_NONE)
		sk_buf_reset(zip);
	sk_buf_free(&out);
	sk_report_free(&rep);
	return rc;
}

static int sanitize(const sk_mail_options *o, sk_budget *budget, const uint8_t *msg, size_t n,
		    sk_buf *out, sk_mail_result *res, sk_report *report, sk_buf *ppap, bool *found,
		    sk_error *err)
{
	memset(res, 0, sizeof(*res));
	sk_buf_reset(out);
	sk_mail_init();
	int rc = sk_crypto_init(err);
	if (rc)
		return rc;
	sk_report local;
	sk_report_init(&local);
	run r = {.o = o, .res = res, .err = err, .en = o->lang == SK_LANG_EN,
		 .report = report ? report : &local, .ppap = ppap};
	r.text_used = &r.text_total;
	if (budget)
		r.budget = *budget;
	else
		sk_budget_default(&r.budget);
	if (!r.budget.deadline_ns) /* else the caller started the clock: its deadline holds */
		sk_budget_start(&r.budget);
	r.cctx = (sk_cdr_ctx){.budget = &r.budget, .report = r.report,
			      .profile = o->file_profile ? o->file_profile : sk_profile_default(),
			      .depth = o->depth, .where = "", .name = NULL,
			      .convert = o->convert, .convert_ctx = o->convert_ctx};
	sk_buf_init(&r.body, SK_BUF_MAX_DEFAULT);
	sk_buf_init(&r.list, 1 << 20);
	uint8_t sha[SK_SHA256_LEN];
	sk_sha256(msg ? msg : (const uint8_t *)"", n, sha);
	sk_hex(sha, SK_SHA256_LEN, r.hex);

	GMimeMessage *m = NULL;
	sk_buf one; /* the message as GMime reads it whole (sk_mail_as_read): mixed line ends
		     * made one, an mbox "From " line skipped */
	sk_buf_init(&one, SK_BUF_MAX_DEFAULT);
	if (n <= o->max_size && (rc = sk_mail_as_read(&msg, &n, &one)) != 0)
		set_fatal(&r, rc, "message");
	if (r.fatal) {
	} else if (n > o->max_size)
		hold(&r, SK_REASON_LIMIT_SIZE, "message too large");
	else if (header_block_len(msg, n) > o->max_header)
		hold(&r, SK_REASON_LIMIT_SIZE, "header too large");
	else {
		const char *broken = NULL;
		m = sk_mail_parse(msg, n, o->whole ? &broken : NULL);
		if (!m)
			hold(&r, SK_REASON_MALFORMED, "not a mail message");
		else if (broken)
			hold(&r, SK_REASON_MALFORMED, broken);
		else if (!g_mime_message_get_mime_part(m))
			hold(&r, SK_REASON_MALFORMED, "no body");
	}
	if (m && !r.held) {
		sk_mail_first_charset(GMIME_OBJECT(m), o->max_parts, r.hint, sizeof(r.hint));
		walk(&r, g_mime_message_get_mime_part(m), 0);
		if (!r.fatal && !r.held)
			rc = write_message(&r, m, out);
		if (rc)
			set_fatal(&r, rc, "output");
	}
	if (r.fatal) {
		rc = r.fatal;
	} else if (r.held) {
		res->held = true;
		res->reason = r.held;
		snprintf(res->detail, sizeof(res->detail), "%s", r.held_detail);
		snprintf(res->actions, sizeof(res->actions), "HELD");
		sk_buf_reset(out);
		rc = sk_report_block(r.report, r.held, NULL, r.held_detail);
	} else {
		/* the message is always rebuilt (a notice, text only): sanitized */
		rc = sk_report_add(r.report, SK_ACTION_CONVERTED, "mail", "", res->actions, 1);
		if (!rc)
			sk_report_finish(r.report);
	}
	if (m)
		g_object_unref(m);
	sk_buf_free(&one);
	run_free(&r);
	sk_report_free(&local);
	if (budget) { /* the usage goes back to the caller's budget */
		budget->expanded = r.budget.expanded;
		budget->entries = r.budget.entries;
		budget->pixels = r.budget.pixels;
	}
	if (found)
		*found = r.ppap_found;
	if (rc)
		sk_buf_reset(out);
	return rc;
}
