/* DLP on a delivered Internet message (see include/sekisho/mail.h: sk_mail_dlp): the
 * message read the way a mail reader shows it — header fields decoded, each part's
 * transfer encoding undone and its text decoded to UTF-8 — so that a number in a base64
 * ISO-2022-JP part is found as surely as one in plain text. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sekisho/dlp.h"
#include "sekisho/mail.h"

#include "mail_int.h"

#define HEADER_TEXT_MAX ((size_t)64 << 20) /* decoded header text of one message */
#define NAME_MAX_BYTES 4096                /* a part's decoded file name */

/* ---- recognising a message ---------------------------------------------------------- */

static bool mime_field(const uint8_t *s, size_t n)
{
	static const char *const names[] = {"MIME-Version", "Content-Type",
					    "Content-Transfer-Encoding"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (n == strlen(names[i]) && !strncasecmp((const char *)s, names[i], n))
			return true;
	return false;
}

static bool encoded_word(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if (s[i] == '=' && s[i + 1] == '?')
			return true;
	return false;
}

/* The length of an mbox "From " separator line at the start of p (0 when none). */
static size_t mbox_from(const uint8_t *p, size_t n)
{
	if (n < 5 || memcmp(p, "From ", 5))
		return 0;
	const uint8_t *nl = memchr(p, '\n', n);
	return nl ? (size_t)(nl - p) + 1 : n;
}

bool sk_mail_is_message(const uint8_t *p, size_t n)
{
	bool more = n > SK_MAIL_SNIFF;
	if (more)
		n = SK_MAIL_SNIFF;
	size_t i = mbox_from(p, n);
	bool fields = false, mime = false;
	while (i < n) {
		const uint8_t *nl = memchr(p + i, '\n', n - i);
		if (!nl && more)
			break; /* a line cut by the look: the block goes on */
		size_t e = nl ? (size_t)(nl - p) : n, len = e - i;
		if (len && p[i + len - 1] == '\r')
			len--;
		if (len == 0) /* the end of the header block */
			return fields && mime;
		if (p[i] == ' ' || p[i] == '\t') {
			if (!fields)
				return false; /* a continuation of nothing */
		} else {
			size_t j = i;
			while (j < i + len && p[j] > 0x20 && p[j] < 0x7f && p[j] != ':')
				j++;
			if (j == i || j == i + len || p[j] != ':')
				/* not "Name: value": before any field, no message; after fields, the
				 * end of the header block, as mail readers take it (the empty line
				 * missing) */
				return fields && mime;
			fields = true;
			mime = mime || mime_field(p + i, j - i);
		}
		mime = mime || encoded_word(p + i, len);
		i = e + 1;
	}
	/* no blank line in what was looked at: a header block longer than the look is read
	 * as one; a text of nothing but fields only when it names MIME */
	return fields && (mime || more);
}

int sk_mail_as_read(const uint8_t **pp, size_t *np, sk_buf *one)
{
	const uint8_t *p = *pp;
	size_t n = p ? *np : 0;
	size_t skip = n ? mbox_from(p, n) : 0;
	p = n ? p + skip : (const uint8_t *)"";
	n -= skip;
	/* mixed line ends (CRLF and bare LF) made LF: GMime 3.2 takes two bytes off a part
	 * whose last line ends in a bare LF before a boundary line ending in CRLF, so a base64
	 * part would lose its last characters — which another mail reader shows */
	bool crlf = false, lf = false;
	for (size_t i = 0; i < n && !(crlf && lf); i++)
		if (p[i] == '\n') {
			if (i && p[i - 1] == '\r')
				crlf = true;
			else
				lf = true;
		}
	if (crlf && lf) {
		sk_buf_reset(one);
		int rc = sk_buf_reserve(one, n);
		for (size_t i = 0, s = 0; !rc && i <= n; i++)
			if (i == n || (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n')) {
				rc = sk_buf_add(one, p + s, i - s);
				s = i + 1;
			}
		if (rc)
			return rc;
		p = sk_buf_len(one) ? sk_buf_data(one) : (const uint8_t *)"";
		n = sk_buf_len(one);
	}
	*pp = p;
	*np = n;
	return 0;
}

/* ---- reading it ------------------------------------------------------------------------ */

typedef struct reader {
	const sk_dlp *d;
	unsigned kinds;
	const char *where;  /* the item's place ("" for none) */
	sk_budget b;        /* the item's limits and clock; this reading's own counts */
	sk_report *report;
	sk_error *err;
	char hint[40];      /* the charset the current message's first text part declares */
} reader;

static int over(reader *w, sk_reason why, const char *path)
{
	return sk_error_set(w->err, SK_ELIMIT, "dlp: %s%s: %s", *path ? "part " : "",
			    *path ? path : "message", sk_reason_code(why));
}

/* "WHERE part P NAME" (what: "header" instead of the part for a message's header). */
static int place(const reader *w, const char *path, const char *name, bool header, sk_buf *out)
{
	sk_buf_reset(out);
	int rc = sk_buf_printf(out, "%s%s", w->where, *w->where ? " " : "");
	if (!rc && *path)
		rc = sk_buf_printf(out, "part %s%s", path, header ? " " : "");
	if (!rc && header)
		rc = sk_buf_adds(out, "header");
	if (!rc && name && *name)
		rc = sk_buf_printf(out, " %s", name);
	return rc;
}

static int scan(reader *w, const uint8_t *p, size_t n, const char *where)
{
	sk_input in;
	sk_input_mem(&in, n ? p : (const uint8_t *)"", n);
	return sk_dlp_report(w->d, w->kinds, &in, where, w->report, w->err);
}

static void child_path(char *out, size_t n, const char *path, int i)
{
	snprintf(out, n, "%s%s%d", path, *path ? "." : "", i);
}

/* The limits left for a reading nested in a part at depth (an attachment that is an
 * OOXML document, a message saved as a file): what this reading has not used yet, its
 * parts one level deeper than the part. */
static void nested(const reader *w, uint32_t depth, sk_budget *sub)
{
	*sub = w->b;
	sub->max_depth = w->b.max_depth - depth; /* depth <= max_depth: entity() checked it */
	sub->max_entries = w->b.max_entries - w->b.entries;
	sub->max_expanded = w->b.max_expanded - w->b.expanded;
	sub->entries = sub->expanded = sub->pixels = 0;
}

static int message(reader *w, GMimeMessage *m, const char *path, uint32_t depth);

/* The header of a message: every field as "Name: value", the value decoded (encoded
 * words, raw 8-bit by the hint). */
static int header_text(reader *w, GMimeObject *m, const char *path)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(m);
	int hc = hl ? g_mime_header_list_get_count(hl) : 0;
	sk_buf t, where;
	sk_buf_init(&t, HEADER_TEXT_MAX);
	sk_buf_init(&where, 0);
	int rc = 0;
	for (int i = 0; i < hc && !rc; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);
		const char *raw = g_mime_header_get_raw_value(h);
		while (raw && (*raw == ' ' || *raw == '\t'))
			raw++;
		rc = sk_buf_printf(&t, "%s: ", name ? name : "");
		if (!rc && raw)
			rc = sk_mail_header_decode(raw, strlen(raw), w->hint[0] ? w->hint : NULL, false, &t);
		if (!rc)
			rc = sk_buf_addc(&t, '\n');
	}
	if (rc == SK_ELIMIT)
		rc = over(w, SK_REASON_LIMIT_SIZE, path);
	else if (rc)
		rc = sk_error_set(w->err, rc, "dlp: header");
	sk_reason why = rc ? SK_REASON_NONE : sk_budget_expand(&w->b, sk_buf_len(&t));
	if (why != SK_REASON_NONE)
		rc = over(w, why, path);
	if (!rc && sk_buf_len(&t) && !(rc = place(w, path, NULL, true, &where)))
		rc = scan(w, sk_buf_data(&t), sk_buf_len(&t), sk_buf_str(&where));
	sk_buf_free(&t);
	sk_buf_free(&where);
	return rc;
}

/* A leaf part: its content with the transfer encoding undone, of its true type. Text
 * labelled text (text/plain, text/html …) is decoded from its charset
 * (sk_mail_decode_text) and scanned, and read as a message too when it is one; any other
 * content goes to sk_cdr_dlp as a file would (text — scanned as it is, and as a message
 * when it is one —, OOXML, or noted unscanned). */
static int leaf(reader *w, GMimePart *p, const char *path, uint32_t depth)
{
	GMimeObject *obj = GMIME_OBJECT(p);
	sk_buf name, where, text;
	sk_buf_init(&name, NAME_MAX_BYTES);
	sk_buf_init(&where, 0);
	sk_buf_init(&text, SK_BUF_MAX_DEFAULT);
	GByteArray *ba = NULL;
	int rc = sk_mail_part_name(obj, g_mime_part_get_filename(p), w->hint, &name);
	if (!rc)
		rc = place(w, path, sk_buf_str(&name), false, &where);
	if (rc) {
		rc = sk_error_set(w->err, rc, "dlp: part %s", path);
		goto done;
	}
	ba = sk_mail_part_content(p);
	if (!ba) {
		rc = sk_error_set(w->err, SK_EFORMAT, "dlp: part %s: content cannot be read", path);
		goto done;
	}
	sk_reason why = sk_budget_expand(&w->b, ba->len);
	if (why != SK_REASON_NONE) {
		rc = over(w, why, path);
		goto done;
	}
	if (!ba->len)
		goto done; /* nothing delivered, nothing to read */
	sk_input in;
	sk_input_mem(&in, ba->data, ba->len);
	sk_type t;
	rc = sk_detect(&in, sk_buf_len(&name) ? sk_buf_str(&name) : NULL, &t, w->err);
	if (rc)
		goto done;
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	/* text labelled text, a message saved as text among it */
	bool textual = (sk_kind_is_text(t.kind) || t.kind == SK_KIND_MESSAGE) &&
		       g_mime_content_type_is_type(ct, "text", "*");
	if (textual) {
		rc = sk_mail_decode_text(ba->data, ba->len, g_mime_content_type_get_parameter(ct, "charset"),
					 &text, w->err);
		why = rc ? SK_REASON_NONE : sk_budget_expand(&w->b, sk_buf_len(&text));
		if (why != SK_REASON_NONE)
			rc = over(w, why, path);
		if (!rc)
			rc = scan(w, sk_buf_data(&text), sk_buf_len(&text), sk_buf_str(&where));
		/* a message saved as text (an .eml attached as text/plain) opens as one */
		if (rc || !sk_mail_is_message(ba->data, ba->len))
			goto done;
	}
	sk_budget sub;
	nested(w, depth, &sub);
	if (textual)
		rc = sk_mail_dlp(w->d, w->kinds, ba->data, ba->len, sk_buf_str(&where), &sub,
				 w->report, w->err);
	else
		rc = sk_cdr_dlp(w->d, w->kinds, &t, &in, sk_buf_str(&where), &sub, w->report, w->err);
done:
	if (ba)
		g_byte_array_free(ba, TRUE);
	sk_buf_free(&name);
	sk_buf_free(&where);
	sk_buf_free(&text);
	return rc;
}

/* One MIME entity at path ("1.2"; a message's body multipart goes by its message's path)
 * and depth: a message's parts are one level below it (the top message's at 1), the parts
 * of a multipart inside a part one level below that multipart. */
static int entity(reader *w, GMimeObject *obj, const char *path, uint32_t depth, bool body)
{
	sk_reason why = sk_budget_time(&w->b);
	if (why == SK_REASON_NONE)
		why = sk_budget_entry(&w->b);
	if (why == SK_REASON_NONE)
		why = sk_budget_depth(&w->b, depth);
	if (why != SK_REASON_NONE)
		return over(w, why, path);
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		int n = g_mime_multipart_get_count(mp);
		int rc = 0;
		for (int i = 0; i < n && !rc; i++) {
			char cp[256];
			child_path(cp, sizeof(cp), path, i + 1);
			rc = entity(w, g_mime_multipart_get_part(mp, i), cp, body ? depth : depth + 1,
				    false);
		}
		return rc;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		/* none for an empty part. What GMime drops of a message/rfc822 part that has no
		 * header is in a text sk_cdr_dlp also scans as it is (an .eml file, an attached
		 * one); the messages the msg module writes always have one */
		GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		return m ? message(w, m, path, depth + 1) : 0;
	}
	if (GMIME_IS_PART(obj))
		return leaf(w, GMIME_PART(obj), path, depth);
	return sk_error_set(w->err, SK_EFORMAT, "dlp: part %s: unknown kind of part", path);
}

/* A message whose parts are at depth: its header, then its body. */
static int message(reader *w, GMimeMessage *m, const char *path, uint32_t depth)
{
	char saved[sizeof(w->hint)];
	memcpy(saved, w->hint, sizeof(saved));
	uint32_t look = w->b.max_entries > UINT32_MAX ? UINT32_MAX : (uint32_t)w->b.max_entries;
	sk_mail_first_charset(GMIME_OBJECT(m), look, w->hint, sizeof(w->hint));
	int rc = header_text(w, GMIME_OBJECT(m), path);
	GMimeObject *body = rc ? NULL : g_mime_message_get_mime_part(m);
	if (body && GMIME_IS_MULTIPART(body)) {
		rc = entity(w, body, path, depth, true);
	} else if (body) {
		char cp[256];
		child_path(cp, sizeof(cp), path, 1);
		rc = entity(w, body, cp, depth, false);
	}
	memcpy(w->hint, saved, sizeof(saved));
	return rc;
}

int sk_mail_dlp(const sk_dlp *d, unsigned kinds, const uint8_t *p, size_t n, const char *where,
		const sk_budget *limits, sk_report *report, sk_error *err)
{
	reader w = {.d = d, .kinds = kinds, .where = where ? where : "", .b = *limits,
		    .report = report, .err = err};
	w.b.expanded = w.b.entries = w.b.pixels = 0; /* counted afresh, the same clock */
	if (!p)
		n = 0;
	sk_buf one;
	sk_buf_init(&one, SK_BUF_MAX_DEFAULT);
	int rc = sk_mail_as_read(&p, &n, &one);
	if (rc) {
		sk_buf_free(&one);
		return sk_error_set(err, rc, "dlp: message");
	}
	GMimeMessage *m = sk_mail_parse(p, n, NULL);
	sk_buf_free(&one);
	if (!m)
		return sk_error_set(err, SK_EFORMAT, "dlp: not a mail message");
	rc = message(&w, m, "", 1);
	g_object_unref(m);
	return rc;
}
