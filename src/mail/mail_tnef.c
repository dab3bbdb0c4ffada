/* TNEF (winmail.dat, MS-OXTNEF) read for its attached files (see include/sekisho/mail.h).
 *
 * Our own reader: the stream is in memory, the files point into it, every length is checked
 * against what is left and every attribute's checksum is verified, so that a malformed
 * stream can only be refused (libytnef, used before, lost memory on repeated attributes
 * and could dereference NULL freeing a cut property list). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sekisho/charset.h"
#include "sekisho/codec.h"
#include "sekisho/mail.h"

#define TNEF_SIGNATURE 0x223E9F78u

/* attribute ids (type in the high word, id in the low one) */
#define ATT_OEM_CODEPAGE 0x00069007u
#define ATT_ATTACH_RENDDATA 0x00069002u
#define ATT_ATTACH_TITLE 0x00018010u
#define ATT_ATTACH_DATA 0x0006800Fu
#define ATT_ATTACHMENT 0x00069005u

/* MAPI property types and the ids read */
#define PT_I2 0x0002u
#define PT_LONG 0x0003u
#define PT_R4 0x0004u
#define PT_DOUBLE 0x0005u
#define PT_CURRENCY 0x0006u
#define PT_APPTIME 0x0007u
#define PT_ERROR 0x000Au
#define PT_BOOLEAN 0x000Bu
#define PT_OBJECT 0x000Du
#define PT_I8 0x0014u
#define PT_STRING8 0x001Eu
#define PT_UNICODE 0x001Fu
#define PT_SYSTIME 0x0040u
#define PT_CLSID 0x0048u
#define PT_BINARY 0x0102u
#define MV_FLAG 0x1000u
#define PR_ATTACH_DATA_BIN 0x3701u
#define PR_ATTACH_LONG_FILENAME 0x3707u
#define PR_ATTACH_FILENAME 0x3704u

/* k bytes of the stream (the codec reader's little-endian fields for the rest; a short
 * field or run of bytes sets bad) */
static const uint8_t *take(sk_codec_rd *r, size_t k)
{
	if (r->bad || r->n - r->off < k) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *q = r->p + r->off;
	r->off += k;
	return q;
}

static size_t pad4(size_t k)
{
	return (k + 3) & ~(size_t)3;
}

typedef struct att {
	const uint8_t *title, *data, *data_mapi, *long8, *long16, *short8;
	size_t title_len, data_len, data_mapi_len, long8_len, long16_len, short8_len;
} att;

/* The attachment's MAPI properties: its long file name (Unicode or 8-bit), its short
 * one, and its data when it is a property (PR_ATTACH_DATA_BIN). An unreadable list gives
 * nothing (the names fall back to the title): only names are taken from it. */
static void mapi_props(const uint8_t *p, size_t n, att *a)
{
	att found = {0};
	sk_codec_rd r = {.p = p, .n = n};
	uint32_t count = sk_codec_get_u32(&r);
	for (uint32_t i = 0; i < count && !r.bad; i++) {
		uint32_t tag = sk_codec_get_u32(&r);
		uint32_t type = tag & 0xFFFFu, id = tag >> 16;
		if (id >= 0x8000u) { /* a named property: GUID, then an id or a name */
			take(&r, 16);
			uint32_t kind = sk_codec_get_u32(&r);
			if (kind == 0)
				sk_codec_get_u32(&r);
			else if (kind == 1)
				take(&r, pad4(sk_codec_get_u32(&r)));
			else
				r.bad = true;
		}
		bool mv = type & MV_FLAG;
		type &= ~MV_FLAG;
		uint32_t values = mv ? sk_codec_get_u32(&r) : 1;
		bool var = type == PT_STRING8 || type == PT_UNICODE || type == PT_BINARY ||
			   type == PT_OBJECT;
		if (var && !mv)
			sk_codec_get_u32(&r); /* the count of values, always 1 */
		if (values > r.n) /* each value takes at least one byte: refused early */
			r.bad = true;
		for (uint32_t v = 0; v < values && !r.bad; v++) {
			size_t fixed = 0;
			switch (type) {
			case PT_I2:
			case PT_LONG:
			case PT_R4:
			case PT_ERROR:
			case PT_BOOLEAN:
				fixed = 4;
				break;
			case PT_DOUBLE:
			case PT_CURRENCY:
			case PT_APPTIME:
			case PT_I8:
			case PT_SYSTIME:
				fixed = 8;
				break;
			case PT_CLSID:
				fixed = 16;
				break;
			default:
				if (!var)
					r.bad = true; /* a type we cannot step over */
				break;
			}
			if (r.bad)
				break;
			if (fixed) {
				take(&r, fixed);
				continue;
			}
			uint32_t len = sk_codec_get_u32(&r);
			const uint8_t *d = take(&r, len);
			take(&r, pad4(len) - len);
			if (r.bad || mv || v)
				continue;
			if (id == PR_ATTACH_LONG_FILENAME && type == PT_UNICODE)
				found.long16 = d, found.long16_len = len;
			else if (id == PR_ATTACH_LONG_FILENAME && type == PT_STRING8)
				found.long8 = d, found.long8_len = len;
			else if (id == PR_ATTACH_FILENAME && type == PT_STRING8)
				found.short8 = d, found.short8_len = len;
			else if (id == PR_ATTACH_DATA_BIN && type == PT_BINARY)
				found.data_mapi = d, found.data_mapi_len = len;
		}
	}
	if (r.bad)
		return;
	a->long16 = found.long16, a->long16_len = found.long16_len;
	a->long8 = found.long8, a->long8_len = found.long8_len;
	a->short8 = found.short8, a->short8_len = found.short8_len;
	a->data_mapi = found.data_mapi, a->data_mapi_len = found.data_mapi_len;
}

/* An 8-bit string of the stream up to its first NUL, decoded in the stream's code page
 * (cs, "" when the stream did not say) or by hint. */
static int name8(const uint8_t *s, size_t n, const char *cs, const char *hint, sk_buf *out)
{
	const uint8_t *z = memchr(s, 0, n);
	if (z)
		n = (size_t)(z - s);
	return cs[0] ? sk_mail_decode_text(s, n, cs, out, NULL)
		     : sk_mail_decode_undeclared(s, n, hint, out, NULL);
}

static int file_name(const att *a, const char *cs, const char *hint, sk_buf *out)
{
	int rc = 0;
	if (a->long16 && a->long16_len >= 2) {
		size_t k = a->long16_len & ~(size_t)1;
		for (size_t i = 0; i + 1 < k; i += 2)
			if (!a->long16[i] && !a->long16[i + 1]) {
				k = i;
				break;
			}
		rc = sk_charset_to_utf8("UTF-16LE", a->long16, k, out, NULL, NULL);
	} else if (a->long8 && a->long8_len) {
		rc = name8(a->long8, a->long8_len, cs, hint, out);
	} else if (a->title && a->title_len) {
		rc = name8(a->title, a->title_len, cs, hint, out);
	} else if (a->short8 && a->short8_len) {
		rc = name8(a->short8, a->short8_len, cs, hint, out);
	}
	for (size_t i = 0; i < out->len && !rc; i++)
		if (out->data[i] < 0x20 || out->data[i] == 0x7f)
			out->data[i] = ' ';
	return rc;
}

static int add_file(const att *a, const char *cs, const char *hint, sk_mail_tnef_file **files,
		    size_t *nf, size_t *cap)
{
	const uint8_t *d = a->data ? a->data : a->data_mapi;
	size_t dl = a->data ? a->data_len : a->data_mapi_len;
	if (!d || !dl)
		return 0; /* no file (an embedded message, a link): nothing to deliver */
	if (*nf == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		sk_mail_tnef_file *v = realloc(*files, nc * sizeof(*v));
		if (!v)
			return SK_ENOMEM;
		*files = v;
		*cap = nc;
	}
	sk_mail_tnef_file *f = &(*files)[*nf];
	memset(f, 0, sizeof(*f));
	sk_buf_init(&f->name, 4096);
	f->data = d;
	f->len = dl;
	(*nf)++;
	int rc = file_name(a, cs, hint, &f->name);
	if (rc == SK_ELIMIT) { /* a name over 4 KiB: cut */
		sk_buf_reset(&f->name);
		rc = 0;
	}
	if (!rc && !f->name.len)
		rc = sk_buf_adds(&f->name, "attachment.bin");
	return rc;
}

void sk_mail_tnef_free(sk_mail_tnef_file *files, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sk_buf_free(&files[i].name);
	free(files);
}

int sk_mail_tnef_read(const uint8_t *p, size_t n, const char *hint, size_t max_files,
		      sk_mail_tnef_file **files, size_t *nfiles)
{
	*files = NULL;
	*nfiles = 0;
	sk_codec_rd r = {.p = p, .n = n};
	if (sk_codec_get_u32(&r) != TNEF_SIGNATURE)
		return SK_EFORMAT;
	take(&r, 2); /* the key */
	size_t nf = 0, cap = 0;
	sk_mail_tnef_file *fv = NULL;
	att a = {0};
	bool in_att = false, any = false;
	char cs[16] = "";
	int rc = 0;
	while (!rc && !r.bad && r.off < r.n) {
		const uint8_t *lvl = take(&r, 1);
		uint32_t id = sk_codec_get_u32(&r), len = sk_codec_get_u32(&r);
		const uint8_t *d = take(&r, len);
		const uint8_t *ck = take(&r, 2);
		if (r.bad || !lvl)
			break;
		any = true;
		uint16_t sum = 0;
		for (uint32_t i = 0; i < len; i++)
			sum = (uint16_t)(sum + d[i]);
		if (sum != (uint16_t)(ck[0] | ck[1] << 8)) {
			r.bad = true; /* corrupt: the stream is refused whole */
			break;
		}
		switch (id) {
		case ATT_OEM_CODEPAGE:
			if (len >= 4) {
				uint32_t cp = (uint32_t)d[0] | (uint32_t)d[1] << 8 |
					      (uint32_t)d[2] << 16 | (uint32_t)d[3] << 24;
				if (cp == 65001)
					snprintf(cs, sizeof(cs), "UTF-8");
				else if (cp > 0 && cp < 100000)
					snprintf(cs, sizeof(cs), "CP%u", cp);
				/* a code page iconv does not know: the names are guessed */
				if (cs[0] && !sk_charset_decodes(cs, (const uint8_t *)"", 0, false))
					cs[0] = 0;
			}
			break;
		case ATT_ATTACH_RENDDATA: /* a new attachment begins */
			if (in_att)
				rc = add_file(&a, cs, hint, &fv, &nf, &cap);
			memset(&a, 0, sizeof(a));
			in_att = true;
			break;
		case ATT_ATTACH_TITLE:
			if (in_att)
				a.title = d, a.title_len = len;
			break;
		case ATT_ATTACH_DATA:
			if (in_att)
				a.data = d, a.data_len = len;
			break;
		case ATT_ATTACHMENT:
			if (in_att)
				mapi_props(d, len, &a);
			break;
		default:
			break;
		}
		if (nf > max_files)
			rc = SK_ELIMIT;
	}
	if (!rc && !r.bad && in_att)
		rc = add_file(&a, cs, hint, &fv, &nf, &cap);
	if (!rc && nf > max_files)
		rc = SK_ELIMIT;
	if (!rc && (r.bad || !any))
		rc = SK_EFORMAT; /* cut, corrupt, or no attribute at all */
	if (rc) {
		sk_mail_tnef_free(fv, nf);
		return rc;
	}
	*files = fv;
	*nfiles = nf;
	return 0;
}
