/* The Outlook .msg module: a message saved by Outlook (a compound file of MAPI property
 * streams, [MS-OXMSG]) rebuilt as a text-only Internet message (RFC 5322, .eml).
 *
 * Read with the compound file reader (sekisho/cfb.h, strict, under the item's budget):
 * the message's subject, sender, To and Cc recipients, date and body. The body is PR_BODY
 * (Unicode, or 8-bit in the message's code page: PR_MESSAGE_CODEPAGE, then
 * PR_INTERNET_CPID, else guessed); without one, the HTML body made text (the mail
 * module's HTML reader), else the compressed RTF body decompressed under the budget and
 * reduced to text (msg_rtf.c: the HTML it encapsulates made text, or its text). Links
 * are neutralised as in mail (hxxps://…), control characters dropped.
 * Attachments: one stored by value goes through the registry (sk_cdr_child) like any
 * file — delivered sanitised under a cleaned name, or left out and listed with its
 * reason; a fatal reason (a limit, encryption, malware, an internal error) blocks the
 * whole message, as for any container. An attached Outlook message (PR_ATTACH_DATA_OBJ)
 * is converted the same way, one level deeper under the same budget and depth limit,
 * and attached as message/rfc822. OLE objects and attachments by reference are left out
 * and listed. Every other property (transport headers, named properties, recipients'
 * details …) is dropped.
 * S/MIME (class IPM.Note.SMIME…) and rights-protected (IRM, .rpmsg) messages are blocked
 * as encrypted; a malformed compound file, a stream cut short or a property that cannot
 * be read blocks the message (malformed, limit-*).
 * Output: headers From, To, Cc, Subject, Date (JST), Message-ID written by the mail
 * module's one MIME writer (sk_mail_header_write: UTF-8 encoded words), then a text/plain
 * UTF-8 body opening with a notice (Japanese, then English: converted from .msg, what
 * was removed, each attachment's fate) and the delivered attachments as MIME parts with
 * RFC 2231 names (sk_mail_put_file). out_ext "eml". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>

#include "cdr_modules.h"
#include "msg_int.h"
#include "sekisho/cfb.h"
#include "sekisho/charset.h"
#include "sekisho/mail.h"
#include "sekisho/name.h"

#define PROPS_MAX ((uint64_t)4 << 20)  /* a property stream (16 bytes a property) */
#define STR_MAX ((uint64_t)1 << 20)    /* a subject, a name, an address */
#define BODY_MAX ((uint64_t)64 << 20)  /* a body property */
#define NAME_MAX_BYTES 240             /* an attachment's name is cut to this */
#define SEP_LINE "----------------------------------------------------------------------\n"

enum {
	PR_MESSAGE_CLASS = 0x001A,
	PR_SUBJECT = 0x0037,
	PR_CLIENT_SUBMIT_TIME = 0x0039,
	PR_SENT_REPRESENTING_NAME = 0x0042,
	PR_SENT_REPRESENTING_EMAIL = 0x0065,
	PR_TRANSPORT_HEADERS = 0x007D,
	PR_RECIPIENT_TYPE = 0x0C15,
	PR_SENDER_NAME = 0x0C1A,
	PR_SENDER_EMAIL = 0x0C1F,
	PR_DISPLAY_CC = 0x0E03,
	PR_DISPLAY_TO = 0x0E04,
	PR_DELIVERY_TIME = 0x0E06,
	PR_BODY = 0x1000,
	PR_RTF_COMPRESSED = 0x1009,
	PR_HTML = 0x1013,
	PR_INTERNET_MESSAGE_ID = 0x1035,
	PR_DISPLAY_NAME = 0x3001,
	PR_EMAIL_ADDRESS = 0x3003,
	PR_CREATION_TIME = 0x3007,
	PR_ATTACH_DATA = 0x3701,
	PR_ATTACH_FILENAME = 0x3704,
	PR_ATTACH_METHOD = 0x3705,
	PR_ATTACH_LONG_FILENAME = 0x3707,
	PR_SMTP_ADDRESS = 0x39FE,
	PR_INTERNET_CPID = 0x3FDE,
	PR_MESSAGE_CODEPAGE = 0x3FFD,
	PR_SENDER_SMTP = 0x5D01,
	PR_SENT_REPRESENTING_SMTP = 0x5D02,
};
enum { PT_LONG = 0x0003, PT_SYSTIME = 0x0040 };
enum { ATTACH_BY_VALUE = 1, ATTACH_EMBEDDED_MSG = 5, ATTACH_OLE = 6 };

typedef struct part { /* a delivered attachment */
	char *name, *ctype;
	uint8_t *data;
	size_t len;
} part;

typedef struct props {
	sk_buf b;
	size_t hdr; /* 32 (top-level message), 24 (embedded), 8 (recipient, attachment) */
} props;

typedef struct conv {
	sk_cdr_ctx *ctx;
	sk_cfb *c;
	sk_error *err;
	uint32_t st;        /* the message's storage */
	props p;
	uint32_t cp;        /* code page of its 8-bit strings (0: guess) */
	part *parts;
	size_t nparts, cap;
	sk_buf list;        /* the notice's lines about attachments */
	const char *body_from; /* "text", "html", "rtf"; NULL: no body */
	bool had_html, had_rtf;
	unsigned ole, refs, blocked, links, empty;
	uint64_t ctl;       /* control characters dropped from the text */
} conv;

static int convert(sk_cdr_ctx *ctx, sk_cfb *c, uint32_t st, size_t hdr, sk_buf *eml,
		   sk_error *err);

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int action(conv *v, sk_action a, const char *what, const char *sub, const char *detail,
		  uint64_t count)
{
	int rc = sk_cdr_action(v->ctx, a, what, sub, detail, count);
	return rc ? sk_error_set(v->err, rc, "msg: report") : 0;
}

/* ---- properties ------------------------------------------------------------------------ */

/* Stream `name` of storage st appended to out (*found false and out untouched when there is
 * no such stream). A stream that cannot be read blocks the message. */
static int read_stream(conv *v, uint32_t st, const char *name, uint64_t max, sk_buf *out,
		       bool *found)
{
	*found = false;
	uint32_t id = sk_cfb_find(v->c, st, name);
	const sk_cfb_entry *e = sk_cfb_entry_at(v->c, id);
	if (!e || e->type != SK_CFB_STREAM)
		return 0;
	sk_reason why;
	int rc = sk_cfb_read(v->c, id, v->ctx->budget, max, out, &why, v->err);
	if (rc == SK_EBLOCKED)
		return sk_cdr_block(v->ctx, why, name);
	if (rc)
		return rc;
	*found = true;
	return 0;
}

static int load_props(conv *v, uint32_t st, size_t hdr, props *p)
{
	sk_buf_init(&p->b, PROPS_MAX);
	p->hdr = hdr;
	bool found;
	return read_stream(v, st, "__properties_version1.0", PROPS_MAX, &p->b, &found);
}

/* A fixed-size property (PT_LONG, PT_SYSTIME …) of the property stream. */
static bool prop_fixed(const props *p, uint16_t id, uint16_t type, uint64_t *val)
{
	const uint8_t *d = sk_buf_data(&p->b);
	size_t n = sk_buf_len(&p->b);
	uint32_t tag = (uint32_t)id << 16 | type;
	for (size_t off = p->hdr; off + 16 <= n; off += 16)
		if (rd32(d + off) == tag) {
			*val = (uint64_t)rd32(d + off + 8) | (uint64_t)rd32(d + off + 12) << 32;
			return true;
		}
	return false;
}

static bool stream_exists(conv *v, uint32_t st, uint16_t id, uint16_t type)
{
	char name[40];
	snprintf(name, sizeof(name), "__substg1.0_%04X%04X", id, type);
	return sk_cfb_find(v->c, st, name) != SK_CFB_NONE;
}

/* 8-bit text in code page cp (0: unknown) as UTF-8, guessed when the code page has no
 * name or does not read it (the mail module's decoder). */
static int decode_8bit(conv *v, const uint8_t *p, size_t n, uint32_t cp, sk_buf *out)
{
	char nb[24];
	const char *label = cp ? sk_msg_codepage(cp, nb, sizeof(nb)) : NULL;
	return sk_mail_decode_text(p, n, label, out, v->err);
}

/* String property id of storage st (of the message whose 8-bit code page is cp) as UTF-8
 * into out (reset), cut at its first NUL. *found false when it has none. */
static int get_string(conv *v, uint32_t st, uint16_t id, uint32_t cp, uint64_t max, sk_buf *out,
		      bool *found)
{
	sk_buf_reset(out);
	char name[40];
	sk_buf raw;
	sk_buf_init(&raw, max + 1);
	snprintf(name, sizeof(name), "__substg1.0_%04X001F", id);
	int rc = read_stream(v, st, name, max, &raw, found);
	if (rc == 0 && *found) {
		size_t n = sk_buf_len(&raw) & ~(size_t)1;
		rc = sk_charset_to_utf8("UTF-16LE", sk_buf_data(&raw), n, out, NULL, v->err);
	} else if (rc == 0) {
		snprintf(name, sizeof(name), "__substg1.0_%04X001E", id);
		rc = read_stream(v, st, name, max, &raw, found);
		if (rc == 0 && *found)
			rc = decode_8bit(v, sk_buf_data(&raw), strnlen((const char *)sk_buf_data(&raw),
								      sk_buf_len(&raw)), cp, out);
	}
	sk_buf_free(&raw);
	if (rc == 0 && *found)
		sk_buf_truncate(out, strlen(sk_buf_str(out)));
	return rc;
}

/* ---- header fields ---------------------------------------------------------------------- */

/* FILETIME property as seconds since 1970 (false when absent or out of range). */
static bool prop_time(const props *p, uint16_t id, int64_t *secs)
{
	uint64_t ft;
	if (!prop_fixed(p, id, PT_SYSTIME, &ft) || ft == 0)
		return false;
	int64_t s = (int64_t)(ft / 10000000u) - 11644473600LL;
	if (s < 0 || s > 253402300799LL)
		return false;
	*secs = s;
	return true;
}

/* RFC 5322 date in Japan Standard Time (+0900); g_free() it. */
static char *jst_date(int64_t secs)
{
	GDateTime *u = g_date_time_new_from_unix_utc(secs);
	GTimeZone *tz = g_time_zone_new_offset(9 * 3600);
	GDateTime *j = u && tz ? g_date_time_to_timezone(u, tz) : NULL;
	char *s = j ? g_mime_utils_header_format_date(j) : NULL;
	if (j)
		g_date_time_unref(j);
	if (u)
		g_date_time_unref(u);
	if (tz)
		g_time_zone_unref(tz);
	return s;
}

/* One address of a list: "name" <addr>, or a name without an Internet address as an
 * empty group ("name":;). Control characters become spaces; quotes are escaped. */
static int add_address(sk_buf *o, const char *name, const char *addr)
{
	bool ok = addr && sk_mail_addr_valid(addr);
	if (!ok && (!name || !*name))
		return 0;
	int rc = sk_buf_len(o) ? sk_buf_adds(o, ", ") : 0;
	if (!rc && name && *name) {
		rc = sk_buf_addc(o, '"');
		for (const unsigned char *s = (const unsigned char *)name; *s && !rc; s++) {
			if (*s == '"' || *s == '\\')
				rc = sk_buf_addc(o, '\\');
			if (!rc)
				rc = sk_buf_addc(o, *s < 0x20 || *s == 0x7f ? ' ' : *s);
		}
		if (!rc)
			rc = sk_buf_adds(o, ok ? "\" " : "\":;");
	}
	if (!rc && ok)
		rc = sk_buf_printf(o, "<%s>", addr);
	return rc;
}

/* The Internet address of a sender or recipient: the SMTP address property, else the
 * e-mail address when its type is SMTP or it looks like one. */
static int smtp_address(conv *v, uint32_t st, uint32_t cp, uint16_t smtp, uint16_t email,
			sk_buf *out, bool *found)
{
	int rc = get_string(v, st, smtp, cp, STR_MAX, out, found);
	if (rc || (*found && sk_mail_addr_valid(sk_buf_str(out))))
		return rc;
	rc = get_string(v, st, email, cp, STR_MAX, out, found);
	if (rc || !*found)
		return rc;
	*found = sk_mail_addr_valid(sk_buf_str(out));
	return 0;
}

/* From: the sender on whose behalf it was sent (as Outlook shows it), else the sender;
 * an address from the transport headers when the properties give none (Exchange). */
static int from_value(conv *v, sk_buf *out)
{
	static const uint16_t ids[2][3] = {
		{PR_SENT_REPRESENTING_NAME, PR_SENT_REPRESENTING_SMTP, PR_SENT_REPRESENTING_EMAIL},
		{PR_SENDER_NAME, PR_SENDER_SMTP, PR_SENDER_EMAIL},
	};
	sk_buf name, addr, tmp;
	sk_buf_init(&name, STR_MAX * 4);
	sk_buf_init(&addr, STR_MAX * 4);
	sk_buf_init(&tmp, STR_MAX * 4);
	bool have_name = false, have_addr = false;
	int rc = 0;
	for (int k = 0; k < 2 && !rc && !have_addr; k++) {
		bool f;
		rc = smtp_address(v, v->st, v->cp, ids[k][1], ids[k][2], &addr, &f);
		have_addr = !rc && f;
		/* the name that goes with the address found, else the first name */
		if (!rc && (!have_name || have_addr)) {
			rc = get_string(v, v->st, ids[k][0], v->cp, STR_MAX, &tmp, &f);
			if (!rc && f && sk_buf_len(&tmp)) {
				sk_buf_reset(&name);
				rc = sk_buf_add(&name, sk_buf_data(&tmp), sk_buf_len(&tmp));
				have_name = !rc;
			}
		}
	}
	sk_buf_free(&tmp);
	if (!rc && !have_addr) {
		/* a received message keeps its Internet headers */
		sk_buf th;
		sk_buf_init(&th, STR_MAX * 4);
		bool f;
		rc = get_string(v, v->st, PR_TRANSPORT_HEADERS, v->cp, BODY_MAX, &th, &f);
		if (!rc && f) {
			GMimeParserOptions *po = g_mime_parser_options_new();
			const char *s = sk_buf_str(&th);
			/* the From field: the line after a line start, with its folded lines */
			for (const char *q = s; q && *q; q = strchr(q, '\n') ? strchr(q, '\n') + 1 : NULL) {
				if (strncasecmp(q, "From:", 5))
					continue;
				sk_buf fv;
				sk_buf_init(&fv, 64 * 1024);
				const char *e = q + 5;
				while (*e) {
					const char *nl = strchr(e, '\n');
					size_t l = nl ? (size_t)(nl - e) : strlen(e);
					sk_buf_add(&fv, e, l);
					if (!nl || (nl[1] != ' ' && nl[1] != '\t'))
						break;
					e = nl + 1;
				}
				InternetAddressList *l = internet_address_list_parse(po, sk_buf_str(&fv));
				InternetAddress *a = l && internet_address_list_length(l) > 0
							     ? internet_address_list_get_address(l, 0) : NULL;
				if (a && INTERNET_ADDRESS_IS_MAILBOX(a)) {
					const char *ad = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
					if (ad && sk_mail_addr_valid(ad)) {
						sk_buf_reset(&addr);
						have_addr = sk_buf_adds(&addr, ad) == 0;
					}
				}
				if (l)
					g_object_unref(l);
				sk_buf_free(&fv);
				break;
			}
			g_mime_parser_options_free(po);
		}
		sk_buf_free(&th);
	}
	if (!rc)
		rc = add_address(out, have_name ? sk_buf_str(&name) : NULL,
				 have_addr ? sk_buf_str(&addr) : NULL);
	sk_buf_free(&name);
	sk_buf_free(&addr);
	return rc;
}

static int cmp_names(const void *a, const void *b, void *c)
{
	const sk_cfb_entry *x = sk_cfb_entry_at(c, *(const uint32_t *)a);
	const sk_cfb_entry *y = sk_cfb_entry_at(c, *(const uint32_t *)b);
	return strcmp(x->name, y->name);
}

/* The children of storage st whose names start with prefix, sorted by name (malloc'd). */
static uint32_t *children(conv *v, uint32_t st, const char *prefix, size_t *n)
{
	size_t cap = 0, k = 0;
	uint32_t it = 0, id;
	while ((id = sk_cfb_next_child(v->c, st, &it)) != SK_CFB_NONE)
		cap++;
	uint32_t *ids = malloc((cap ? cap : 1) * sizeof(uint32_t));
	if (!ids)
		return NULL;
	it = 0;
	size_t pl = strlen(prefix);
	while ((id = sk_cfb_next_child(v->c, st, &it)) != SK_CFB_NONE) {
		const sk_cfb_entry *e = sk_cfb_entry_at(v->c, id);
		if (e->type == SK_CFB_STORAGE && !strncasecmp(e->name, prefix, pl))
			ids[k++] = id;
	}
	qsort_r(ids, k, sizeof(uint32_t), cmp_names, v->c);
	*n = k;
	return ids;
}

/* To (type 1) and Cc (type 2) from the recipient storages; Bcc is not written. Without
 * recipient storages, the display lists (names only). */
static int recipients(conv *v, sk_buf *to, sk_buf *cc)
{
	size_t n = 0;
	uint32_t *ids = children(v, v->st, "__recip_version1.0_#", &n);
	if (!ids)
		return SK_ENOMEM;
	int rc = 0;
	sk_buf name, addr;
	sk_buf_init(&name, STR_MAX * 4);
	sk_buf_init(&addr, STR_MAX * 4);
	for (size_t i = 0; i < n && !rc; i++) {
		props rp;
		rc = load_props(v, ids[i], 8, &rp);
		uint64_t type = 1;
		if (!rc)
			prop_fixed(&rp, PR_RECIPIENT_TYPE, PT_LONG, &type);
		sk_buf_free(&rp.b);
		type &= 0xFF; /* the high bits are flags (MAPI_P1, MAPI_SUBMITTED) */
		if (rc || (type != 1 && type != 2))
			continue;
		bool fa = false, fn = false;
		rc = smtp_address(v, ids[i], v->cp, PR_SMTP_ADDRESS, PR_EMAIL_ADDRESS, &addr, &fa);
		if (!rc)
			rc = get_string(v, ids[i], PR_DISPLAY_NAME, v->cp, STR_MAX, &name, &fn);
		if (!rc)
			rc = add_address(type == 1 ? to : cc, fn ? sk_buf_str(&name) : NULL,
					 fa ? sk_buf_str(&addr) : NULL);
	}
	for (int k = 0; k < 2 && !rc && n == 0; k++) {
		bool f;
		rc = get_string(v, v->st, k ? PR_DISPLAY_CC : PR_DISPLAY_TO, v->cp, STR_MAX, &name, &f);
		if (rc || !f)
			continue;
		char *s = strdup(sk_buf_str(&name)), *save = NULL;
		if (!s) {
			rc = SK_ENOMEM;
			break;
		}
		for (char *t = strtok_r(s, ";", &save); t && !rc; t = strtok_r(NULL, ";", &save)) {
			while (*t == ' ')
				t++;
			if (*t)
				rc = add_address(k ? cc : to, t, NULL);
		}
		free(s);
	}
	sk_buf_free(&name);
	sk_buf_free(&addr);
	free(ids);
	return rc;
}

/* ---- body ------------------------------------------------------------------------------ */

/* The charset an HTML document names in its first 4 KiB (<meta … charset=X>), or "". */
static void html_charset(const uint8_t *p, size_t n, char *cs, size_t csz)
{
	cs[0] = 0;
	size_t lim = n < 4096 ? n : 4096;
	for (size_t i = 0; i + 8 < lim; i++) {
		if (strncasecmp((const char *)p + i, "charset=", 8))
			continue;
		size_t j = i + 8, k = 0;
		while (j < lim && (p[j] == '"' || p[j] == '\''))
			j++;
		while (j < lim && k + 1 < csz &&
		       ((p[j] >= 'A' && p[j] <= 'Z') || (p[j] >= 'a' && p[j] <= 'z') ||
			(p[j] >= '0' && p[j] <= '9') || p[j] == '-' || p[j] == '_'))
			cs[k++] = (char)p[j++];
		cs[k] = 0;
		return;
	}
}

static int html_to_text(conv *v, const sk_buf *html, sk_buf *text)
{
	sk_reason why = SK_REASON_NONE;
	int rc = sk_mail_html_text(sk_buf_str(html), sk_buf_len(html), v->ctx->budget, text, &why,
				   v->err);
	if (rc == SK_EBLOCKED)
		return sk_cdr_block(v->ctx, why, "HTML body");
	if (rc == SK_ELIMIT)
		return sk_cdr_block(v->ctx, SK_REASON_LIMIT_SIZE, "HTML body");
	return rc;
}

static int body(conv *v, sk_buf *text)
{
	bool found;
	v->had_html = stream_exists(v, v->st, PR_HTML, 0x0102) ||
		      stream_exists(v, v->st, PR_HTML, 0x001E) || stream_exists(v, v->st, PR_HTML, 0x001F);
	v->had_rtf = stream_exists(v, v->st, PR_RTF_COMPRESSED, 0x0102);
	int rc = get_string(v, v->st, PR_BODY, v->cp, BODY_MAX, text, &found);
	if (rc)
		return rc;
	bool blank = true;
	for (size_t i = 0; i < sk_buf_len(text) && blank; i++)
		blank = strchr(" \t\r\n", sk_buf_data(text)[i]) != NULL;
	if (found && !blank) {
		v->body_from = "text";
		return 0;
	}
	sk_buf_reset(text);
	sk_buf src;
	sk_buf_init(&src, SK_BUF_MAX_DEFAULT);
	if (v->had_html) {
		v->body_from = "html";
		char name[40];
		snprintf(name, sizeof(name), "__substg1.0_%04X0102", PR_HTML);
		sk_buf raw;
		sk_buf_init(&raw, BODY_MAX + 1);
		rc = read_stream(v, v->st, name, BODY_MAX, &raw, &found);
		if (!rc && found) {
			/* the Internet code page it was sent in, else what it says, else the
			 * message's */
			uint64_t cpid = 0;
			char cs[40], nb[24];
			const char *label = NULL;
			if (prop_fixed(&v->p, PR_INTERNET_CPID, PT_LONG, &cpid) && cpid)
				label = sk_msg_codepage((uint32_t)cpid, nb, sizeof(nb));
			html_charset(sk_buf_data(&raw), sk_buf_len(&raw), cs, sizeof(cs));
			if (!label && cs[0])
				label = cs;
			if (!label && v->cp)
				label = sk_msg_codepage(v->cp, nb, sizeof(nb));
			rc = sk_mail_decode_text(sk_buf_data(&raw), sk_buf_len(&raw), label, &src, v->err);
		} else if (!rc) {
			rc = get_string(v, v->st, PR_HTML, v->cp, BODY_MAX, &src, &found);
		}
		sk_buf_free(&raw);
		if (!rc)
			rc = html_to_text(v, &src, text);
	} else if (v->had_rtf) {
		v->body_from = "rtf";
		char name[40];
		snprintf(name, sizeof(name), "__substg1.0_%04X0102", PR_RTF_COMPRESSED);
		sk_buf comp, rtf;
		sk_buf_init(&comp, BODY_MAX + 1);
		sk_buf_init(&rtf, SK_BUF_MAX_DEFAULT);
		rc = read_stream(v, v->st, name, BODY_MAX, &comp, &found);
		sk_reason why = SK_REASON_NONE;
		if (!rc)
			rc = sk_msg_lzfu(sk_buf_data(&comp), sk_buf_len(&comp), v->ctx->budget, &rtf, &why,
					 v->err);
		bool html = false;
		if (!rc)
			rc = sk_msg_rtf_text(sk_buf_data(&rtf), sk_buf_len(&rtf), v->ctx->budget, &src, &html,
					     &why, v->err);
		if (rc == SK_EBLOCKED)
			rc = sk_cdr_block(v->ctx, why, v->err ? v->err->msg : "RTF body");
		if (!rc && html)
			rc = html_to_text(v, &src, text);
		else if (!rc)
			rc = sk_buf_add(text, sk_buf_data(&src), sk_buf_len(&src));
		sk_buf_free(&comp);
		sk_buf_free(&rtf);
	} else {
		v->body_from = NULL;
	}
	sk_buf_free(&src);
	return rc;
}

/* The text as delivered: line ends \n, control characters (but tab and line feed) and
 * invalid UTF-8 dropped, links neutralised. */
static int clean_text(conv *v, const sk_buf *in, sk_buf *out)
{
	sk_buf t;
	sk_buf_init(&t, SK_BUF_MAX_DEFAULT);
	const uint8_t *p = sk_buf_data(in);
	size_t n = sk_buf_len(in);
	int rc = 0;
	for (size_t i = 0; i < n && !rc;) {
		uint8_t c = p[i];
		if (c == '\r') {
			i++;
			continue;
		}
		if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
			v->ctl++;
			i++;
			continue;
		}
		size_t l = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
		if (l == 0 || i + l > n || !sk_utf8_valid((const char *)p + i, l)) {
			v->ctl++;
			i++;
			continue;
		}
		rc = sk_buf_add(&t, p + i, l);
		i += l;
	}
	if (!rc && sk_buf_len(&t) && sk_buf_data(&t)[sk_buf_len(&t) - 1] != '\n')
		rc = sk_buf_addc(&t, '\n');
	if (!rc)
		rc = sk_mail_neutralize_text(sk_buf_str(&t), sk_buf_len(&t), out, &v->links);
	sk_buf_free(&t);
	return rc;
}

/* ---- attachments ----------------------------------------------------------------------- */

static int add_part(conv *v, const char *name, const char *ctype, const uint8_t *data, size_t len)
{
	if (v->nparts == v->cap) {
		size_t nc = v->cap ? v->cap * 2 : 4;
		part *np = realloc(v->parts, nc * sizeof(*np));
		if (!np)
			return SK_ENOMEM;
		v->parts = np;
		v->cap = nc;
	}
	part *pt = &v->parts[v->nparts];
	pt->name = strdup(name);
	pt->ctype = strdup(ctype);
	pt->data = malloc(len ? len : 1);
	pt->len = len;
	if (!pt->name || !pt->ctype || !pt->data) {
		free(pt->name);
		free(pt->ctype);
		free(pt->data);
		return SK_ENOMEM;
	}
	if (len)
		memcpy(pt->data, data, len);
	v->nparts++;
	return 0;
}

/* A notice line: "  - 日本語 / English: name [detail]" (control characters as '?'). */
static int list_line(conv *v, const char *ja, const char *en, const char *name,
		     const char *detail)
{
	int rc = sk_buf_printf(&v->list, "  - %s / %s: ", ja, en);
	for (const unsigned char *s = (const unsigned char *)name; *s && !rc; s++)
		rc = sk_buf_addc(&v->list, *s < 0x20 || *s == 0x7f ? '?' : *s);
	if (!rc && detail)
		rc = sk_buf_printf(&v->list, " [%s]", detail);
	return rc ? rc : sk_buf_addc(&v->list, '\n');
}

/* The attachment's name as it is shown and delivered: its long name, else its 8.3 name,
 * else its display name, else "attachment-N"; cleaned (no control or bidi characters,
 * no folders), the last path component only, cut to NAME_MAX_BYTES. */
static int attach_name(conv *v, uint32_t st, size_t idx, sk_buf *out, bool *renamed)
{
	static const uint16_t ids[] = {PR_ATTACH_LONG_FILENAME, PR_ATTACH_FILENAME, PR_DISPLAY_NAME};
	sk_buf raw;
	sk_buf_init(&raw, STR_MAX * 4);
	bool found = false;
	int rc = 0;
	for (size_t i = 0; i < 3 && !rc && !found; i++) {
		rc = get_string(v, st, ids[i], v->cp, STR_MAX, &raw, &found);
		found = found && sk_buf_len(&raw) > 0;
	}
	*renamed = false;
	if (!rc && !found)
		rc = sk_buf_printf(&raw, "attachment-%zu", idx + 1);
	sk_buf clean;
	sk_buf_init(&clean, STR_MAX * 4);
	int ch = rc ? rc : sk_name_clean(sk_buf_str(&raw), &clean);
	if (ch < 0)
		rc = ch;
	if (!rc) {
		*renamed = ch != 0;
		const char *s = sk_buf_str(&clean), *slash = strrchr(s, '/');
		if (slash && slash[1]) {
			s = slash + 1;
			*renamed = true;
		}
		size_t l = strlen(s);
		if (l > NAME_MAX_BYTES) {
			l = NAME_MAX_BYTES;
			while (l > 0 && ((unsigned char)s[l] & 0xC0) == 0x80)
				l--;
			*renamed = true;
		}
		sk_buf_reset(out);
		rc = sk_buf_add(out, s, l);
	}
	sk_buf_free(&raw);
	sk_buf_free(&clean);
	return rc;
}

/* name with its extension replaced by ext (malloc'd) */
static char *with_ext(const char *name, const char *ext)
{
	const char *dot = strrchr(name, '.');
	size_t keep = dot && dot != name ? (size_t)(dot - name) : strlen(name);
	char *s = NULL;
	if (asprintf(&s, "%.*s.%s", (int)keep, name, ext) < 0)
		return NULL;
	return s;
}

/* An attached Outlook message (its storage in the attachment's): converted one level
 * deeper under the same budget, attached as message/rfc822. */
static int embedded(conv *v, uint32_t obj, const char *name)
{
	sk_cdr_ctx *ctx = v->ctx;
	if (sk_budget_depth(ctx->budget, ctx->depth + 1) != SK_REASON_NONE)
		return sk_cdr_block(ctx, SK_REASON_LIMIT_DEPTH, name);
	char where[1024];
	const char *pw = ctx->where ? ctx->where : "";
	snprintf(where, sizeof(where), "%s%s%s", pw, *pw ? "/" : "", name);
	sk_cdr_ctx sub = *ctx;
	sub.depth = ctx->depth + 1;
	sub.where = where;
	sub.name = name;
	sub.out_ext[0] = sub.child_ext[0] = 0;
	sub.reason = SK_REASON_NONE;
	sub.reason_detail[0] = 0;
	sk_buf eml;
	sk_buf_init(&eml, SK_BUF_MAX_DEFAULT);
	int rc = convert(&sub, v->c, obj, 24, &eml, v->err);
	if (rc == SK_EBLOCKED) {
		sk_buf_free(&eml);
		return sk_cdr_block(ctx, sub.reason ? sub.reason : SK_REASON_INTERNAL, sub.reason_detail);
	}
	char *nm = rc ? NULL : with_ext(name, "eml");
	if (!rc && !nm)
		rc = SK_ENOMEM;
	if (!rc)
		rc = add_part(v, nm, "message/rfc822", sk_buf_data(&eml), sk_buf_len(&eml));
	if (!rc)
		rc = list_line(v, "変換して添付 (Outlook メッセージ)", "converted and attached (Outlook message)",
			       nm, NULL);
	free(nm);
	sk_buf_free(&eml);
	return rc;
}

static int attachment(conv *v, uint32_t st, size_t idx)
{
	sk_reason late = sk_budget_time(v->ctx->budget);
	if (late != SK_REASON_NONE)
		return sk_cdr_block(v->ctx, late, "attachments");
	props ap;
	int rc = load_props(v, st, 8, &ap);
	uint64_t method = ATTACH_BY_VALUE;
	bool has_method = !rc && prop_fixed(&ap, PR_ATTACH_METHOD, PT_LONG, &method);
	sk_buf_free(&ap.b);
	if (rc)
		return rc;
	sk_buf nb;
	sk_buf_init(&nb, STR_MAX * 4);
	bool renamed = false;
	rc = attach_name(v, st, idx, &nb, &renamed);
	const char *name = sk_buf_str(&nb);
	if (!rc && renamed)
		rc = action(v, SK_ACTION_RENAMED, "entry-name", name, NULL, 1);
	char oname[40];
	snprintf(oname, sizeof(oname), "__substg1.0_%04X000D", PR_ATTACH_DATA);
	uint32_t obj = sk_cfb_find(v->c, st, oname);
	const sk_cfb_entry *oe = sk_cfb_entry_at(v->c, obj);
	bool is_msg = oe && oe->type == SK_CFB_STORAGE &&
		      sk_cfb_find(v->c, obj, "__properties_version1.0") != SK_CFB_NONE &&
		      (!has_method || method == ATTACH_EMBEDDED_MSG);
	if (rc) {
	} else if (is_msg) {
		rc = embedded(v, obj, name);
	} else if (has_method && (method == ATTACH_OLE || (oe && method != ATTACH_BY_VALUE))) {
		v->ole++;
		rc = action(v, SK_ACTION_REMOVED, "ole-object", name, NULL, 1);
		if (!rc)
			rc = list_line(v, "削除 (埋め込みオブジェクト)", "removed (embedded object)", name, NULL);
	} else if (has_method && method != ATTACH_BY_VALUE && method != 0) {
		/* by reference (a path or a link to a file elsewhere) */
		v->refs++;
		rc = action(v, SK_ACTION_REMOVED, "external-link", name, NULL, 1);
		if (!rc)
			rc = list_line(v, "削除 (外部ファイルへの参照)", "removed (reference to a file)", name,
				       NULL);
	} else {
		char dname[40];
		snprintf(dname, sizeof(dname), "__substg1.0_%04X0102", PR_ATTACH_DATA);
		sk_buf data;
		sk_buf_init(&data, SK_BUF_MAX_DEFAULT);
		bool found;
		rc = read_stream(v, st, dname, v->ctx->budget->max_input, &data, &found);
		if (!rc && !found) {
			v->empty++;
			rc = action(v, SK_ACTION_NOTED, "attachment", name, "no data", 1);
			if (!rc)
				rc = list_line(v, "内容なし", "no content", name, NULL);
		} else if (!rc) {
			sk_buf ob;
			sk_buf_init(&ob, SK_BUF_MAX_DEFAULT);
			sk_reason why;
			sk_error e;
			sk_error_clear(&e);
			rc = sk_cdr_child(v->ctx, name, sk_buf_data(&data), sk_buf_len(&data), &ob, &why, &e);
			if (rc == 0) {
				char *nm = v->ctx->child_ext[0] ? with_ext(name, v->ctx->child_ext) : strdup(name);
				const sk_type *t = v->ctx->child_ext[0] ? sk_type_find(v->ctx->child_ext) : NULL;
				if (!t)
					t = &v->ctx->child_type;
				rc = nm ? add_part(v, nm, t->mime ? t->mime : "application/octet-stream",
						   sk_buf_data(&ob), sk_buf_len(&ob))
					: SK_ENOMEM;
				if (!rc)
					rc = list_line(v, "無害化して添付", "sanitised and attached", nm, NULL);
				free(nm);
			} else if (rc == SK_EBLOCKED && sk_reason_is_fatal(why)) {
				rc = sk_cdr_block(v->ctx, why, name);
			} else if (rc == SK_EBLOCKED) {
				v->blocked++;
				rc = action(v, SK_ACTION_REMOVED, "attachment", name, sk_reason_code(why), 1);
				if (!rc)
					rc = list_line(v, "削除 (無害化できません)", "removed (cannot be made safe)",
						       name, sk_reason_code(why));
			}
			sk_buf_free(&ob);
		}
		sk_buf_free(&data);
	}
	sk_buf_free(&nb);
	return rc;
}

/* ---- the message ---------------------------------------------------------------------- */

static int notice(conv *v, sk_buf *o)
{
	int rc = sk_buf_adds(o, "【sekisho】この Outlook メッセージ (.msg) をテキストのメールに変換しました。\n");
	sk_buf ja, en;
	sk_buf_init(&ja, 4096);
	sk_buf_init(&en, 4096);
	const char *sj = "", *se = "";
#define ITEM(J, E, ...)                                                    \
	do {                                                               \
		if (!rc)                                                   \
			rc = sk_buf_printf(&ja, "%s" J, sj, ##__VA_ARGS__); \
		if (!rc)                                                   \
			rc = sk_buf_printf(&en, "%s" E, se, ##__VA_ARGS__); \
		sj = "、";                                                 \
		se = ", ";                                                 \
	} while (0)
	if (v->had_html || v->had_rtf)
		ITEM("本文の書式 (%s)", "body formatting (%s)",
		     v->had_html && v->had_rtf ? "HTML, RTF" : v->had_html ? "HTML" : "RTF");
	if (v->ole)
		ITEM("埋め込みオブジェクト %u 個", "%u embedded objects", v->ole);
	if (v->refs)
		ITEM("外部ファイルへの参照 %u 個", "%u references to files", v->refs);
	if (v->blocked)
		ITEM("無害化できない添付ファイル %u 個", "%u attachments that cannot be made safe", v->blocked);
	ITEM("その他の MAPI プロパティ", "the other MAPI properties");
#undef ITEM
	if (!rc)
		rc = sk_buf_printf(o, "除いたもの: %s。\n", sk_buf_str(&ja));
	if (!rc && v->body_from && strcmp(v->body_from, "text"))
		rc = sk_buf_printf(o, "本文は %s からテキストに変換しました。\n",
				   !strcmp(v->body_from, "html") ? "HTML" : "RTF");
	if (!rc && !v->body_from)
		rc = sk_buf_adds(o, "本文はありません。\n");
	if (!rc && v->links)
		rc = sk_buf_printf(o, "リンクを無効化しました (%u 個、hxxps:// の形)。\n", v->links);
	if (!rc)
		rc = sk_buf_adds(o, "[sekisho] This Outlook message (.msg) was converted to a text-only mail.\n");
	if (!rc)
		rc = sk_buf_printf(o, "Removed: %s.\n", sk_buf_str(&en));
	if (!rc && v->body_from && strcmp(v->body_from, "text"))
		rc = sk_buf_printf(o, "The body was made text from %s.\n",
				   !strcmp(v->body_from, "html") ? "HTML" : "RTF");
	if (!rc && !v->body_from)
		rc = sk_buf_adds(o, "The message has no body.\n");
	if (!rc && v->links)
		rc = sk_buf_printf(o, "%u links neutralised (written hxxps://).\n", v->links);
	if (!rc && sk_buf_len(&v->list)) {
		rc = sk_buf_adds(o, "添付ファイル / Attachments:\n");
		if (!rc)
			rc = sk_buf_add(o, sk_buf_data(&v->list), sk_buf_len(&v->list));
	}
	if (!rc)
		rc = sk_buf_adds(o, SEP_LINE);
	sk_buf_free(&ja);
	sk_buf_free(&en);
	return rc;
}

/* A boundary no part holds (parts are base64 but for 7-bit messages). */
static void boundary(const conv *v, unsigned depth, char *b, size_t n)
{
	for (unsigned k = 0;; k++) {
		snprintf(b, n, "=_sekisho_msg_%u_%u", depth, k);
		bool clash = false;
		for (size_t i = 0; i < v->nparts && !clash; i++)
			clash = memmem(v->parts[i].data, v->parts[i].len, b, strlen(b)) != NULL;
		if (!clash)
			return;
	}
}

static bool valid_msgid(const char *s)
{
	size_t l = strlen(s);
	if (l < 5 || l > 250 || s[0] != '<' || s[l - 1] != '>' || !strchr(s, '@'))
		return false;
	for (size_t i = 1; i + 1 < l; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || strchr("<>\"\\", s[i]))
			return false;
	return true;
}

static int write_eml(conv *v, sk_buf *o, const sk_buf *text)
{
	sk_buf f, to, cc, s;
	sk_buf_init(&f, SK_BUF_MAX_DEFAULT);
	sk_buf_init(&to, SK_BUF_MAX_DEFAULT);
	sk_buf_init(&cc, SK_BUF_MAX_DEFAULT);
	sk_buf_init(&s, STR_MAX * 4);
	int rc = from_value(v, &f);
	if (!rc)
		rc = recipients(v, &to, &cc);
	if (!rc && sk_buf_len(&f))
		rc = sk_mail_header_write(o, "From", sk_buf_str(&f));
	if (!rc && sk_buf_len(&to))
		rc = sk_mail_header_write(o, "To", sk_buf_str(&to));
	if (!rc && sk_buf_len(&cc))
		rc = sk_mail_header_write(o, "Cc", sk_buf_str(&cc));
	bool found = false;
	if (!rc)
		rc = get_string(v, v->st, PR_SUBJECT, v->cp, STR_MAX, &s, &found);
	if (!rc)
		rc = sk_mail_header_write(o, "Subject", found ? sk_buf_str(&s) : "");
	int64_t secs;
	if (!rc && (prop_time(&v->p, PR_CLIENT_SUBMIT_TIME, &secs) ||
		    prop_time(&v->p, PR_DELIVERY_TIME, &secs) || prop_time(&v->p, PR_CREATION_TIME, &secs))) {
		char *d = jst_date(secs);
		if (d)
			rc = sk_buf_printf(o, "Date: %s\n", d);
		g_free(d);
	}
	if (!rc)
		rc = get_string(v, v->st, PR_INTERNET_MESSAGE_ID, v->cp, STR_MAX, &s, &found);
	if (!rc && found && valid_msgid(sk_buf_str(&s)))
		rc = sk_buf_printf(o, "Message-ID: %s\n", sk_buf_str(&s));
	bool chg = v->had_html || v->had_rtf || (v->body_from && strcmp(v->body_from, "text"));
	if (!rc)
		rc = sk_buf_printf(o, "MIME-Version: 1.0\nX-Mail-Sanitized: FROM_MSG %s%s%sTEXT_ONLY\n",
				   chg ? "CHG_TEXT " : "",
				   v->nparts || v->blocked ? "SANITIZE_ATTACH " : "",
				   v->links ? "REP_LINK " : "");
	char b[64];
	boundary(v, v->ctx->depth, b, sizeof(b));
	if (!rc && v->nparts)
		rc = sk_buf_printf(o, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n"
				      "This is a MIME message.\n--%s\n", b, b);
	sk_buf all;
	sk_buf_init(&all, SK_BUF_MAX_DEFAULT);
	if (!rc)
		rc = notice(v, &all);
	if (!rc)
		rc = sk_buf_add(&all, sk_buf_data(text), sk_buf_len(text));
	if (!rc)
		rc = sk_mail_put_text(o, "UTF-8", sk_buf_data(&all), sk_buf_len(&all));
	for (size_t i = 0; i < v->nparts && !rc; i++) {
		rc = sk_buf_printf(o, "--%s\n", b);
		if (!rc)
			rc = sk_mail_put_file(o, v->parts[i].name, v->parts[i].ctype, v->parts[i].data,
					      v->parts[i].len);
	}
	if (!rc && v->nparts)
		rc = sk_buf_printf(o, "--%s--\n", b);
	sk_buf_free(&all);
	sk_buf_free(&f);
	sk_buf_free(&to);
	sk_buf_free(&cc);
	sk_buf_free(&s);
	return rc;
}

/* The message in storage st (its property stream's header hdr bytes) as an .eml into
 * eml, its actions reported at ctx's level. */
static int convert(sk_cdr_ctx *ctx, sk_cfb *c, uint32_t st, size_t hdr, sk_buf *eml,
		   sk_error *err)
{
	conv v = {.ctx = ctx, .c = c, .err = err, .st = st};
	sk_buf_init(&v.list, 1 << 20);
	sk_buf text, raw, cls;
	sk_buf_init(&text, SK_BUF_MAX_DEFAULT);
	sk_buf_init(&raw, SK_BUF_MAX_DEFAULT);
	sk_buf_init(&cls, STR_MAX * 4);
	size_t nat = 0;
	uint32_t *ats = NULL;
	int rc = load_props(&v, st, hdr, &v.p);
	uint64_t cp = 0;
	if (!rc && ((prop_fixed(&v.p, PR_MESSAGE_CODEPAGE, PT_LONG, &cp) && cp) ||
		    (prop_fixed(&v.p, PR_INTERNET_CPID, PT_LONG, &cp) && cp)))
		v.cp = (uint32_t)cp;
	bool found = false;
	if (!rc)
		rc = get_string(&v, st, PR_MESSAGE_CLASS, v.cp, STR_MAX, &cls, &found);
	if (!rc && found) {
		const char *k = sk_buf_str(&cls);
		if (!strncasecmp(k, "IPM.Note.SMIME", 14))
			rc = sk_cdr_block(ctx, SK_REASON_ENCRYPTED, strcasestr(k, "signed") ? "S/MIME signed"
										   : "S/MIME");
		else if (strcasestr(k, ".rpmsg") || !strncasecmp(k, "IPM.Note.IRM", 12))
			rc = sk_cdr_block(ctx, SK_REASON_ENCRYPTED, "rights-protected (IRM)");
	}
	if (!rc)
		rc = body(&v, &raw);
	if (!rc)
		ats = children(&v, st, "__attach_version1.0_#", &nat);
	if (!rc && !ats)
		rc = SK_ENOMEM;
	for (size_t i = 0; i < nat && !rc; i++)
		rc = attachment(&v, ats[i], i);
	if (!rc)
		rc = clean_text(&v, &raw, &text);
	/* what was done, in the report */
	if (!rc)
		rc = action(&v, SK_ACTION_CONVERTED, "file-type", NULL, "msg→eml", 1);
	if (!rc)
		rc = action(&v, SK_ACTION_REMOVED, "metadata", NULL, "MAPI properties", 1);
	if (!rc && v.body_from && strcmp(v.body_from, "text"))
		rc = action(&v, SK_ACTION_CONVERTED, "body-format", NULL,
			    !strcmp(v.body_from, "html") ? "html→text" : "rtf→text", 1);
	else if (!rc && v.body_from && (v.had_html || v.had_rtf))
		rc = action(&v, SK_ACTION_REMOVED, "body-format", NULL,
			    v.had_html && v.had_rtf ? "html, rtf" : v.had_html ? "html" : "rtf", 1);
	if (!rc && !v.body_from)
		rc = action(&v, SK_ACTION_NOTED, "body", NULL, "none", 1);
	if (!rc && v.links)
		rc = action(&v, SK_ACTION_NEUTRALIZED, "uri", NULL, NULL, v.links);
	if (!rc && v.ctl)
		rc = action(&v, SK_ACTION_REMOVED, "control-characters", NULL, NULL, v.ctl);
	if (!rc)
		rc = write_eml(&v, eml, &text);
	free(ats);
	for (size_t i = 0; i < v.nparts; i++) {
		free(v.parts[i].name);
		free(v.parts[i].ctype);
		free(v.parts[i].data);
	}
	free(v.parts);
	sk_buf_free(&v.p.b);
	sk_buf_free(&v.list);
	sk_buf_free(&text);
	sk_buf_free(&raw);
	sk_buf_free(&cls);
	return rc;
}

static bool msg_accepts(const sk_type *t)
{
	return t->kind == SK_KIND_OLE2 && t->code && !strcmp(t->code, "msg");
}

static int msg_sanitize(sk_cdr_ctx *ctx, sk_input *in, sk_output *out, sk_error *err)
{
	sk_mail_init();
	sk_cfb *c = NULL;
	sk_reason why;
	int rc = sk_cfb_open(&c, in, ctx->budget, 0, &why, err);
	if (rc == SK_EBLOCKED)
		return sk_cdr_block(ctx, why, err ? err->msg : "compound file");
	if (rc)
		return rc;
	sk_buf eml;
	sk_buf_init(&eml, SK_BUF_MAX_DEFAULT);
	rc = convert(ctx, c, SK_CFB_ROOT_ID, 32, &eml, err);
	sk_cfb_close(c);
	if (rc == 0)
		rc = sk_output_write(out, sk_buf_data(&eml), sk_buf_len(&eml), err);
	if (rc == 0)
		snprintf(ctx->out_ext, sizeof(ctx->out_ext), "eml");
	sk_buf_free(&eml);
	return rc;
}

const sk_cdr_module sk_cdr_module_msg = {
	.name = "msg",
	.accepts = msg_accepts,
	.sanitize = msg_sanitize,
};
