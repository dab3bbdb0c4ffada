/* sekisho — zipio: reading a ZIP archive in memory (see zipio.h). Moved here from the ZIP
 * module so that every reader of ZIP archives (zip, ooxml, detect, mail) reads them one way. */
#include "sekisho/zipio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>
#include <zlib.h>

#include "sekisho/charset.h"
#include "sekisho/name.h"

#define READ_CHUNK 65536

/* general purpose flags */
#define GP_ENCRYPTED 0x0001u
#define GP_STRONG 0x0040u
#define GP_UTF8 0x0800u
#define GP_CD_ENCRYPTED 0x2000u
#define CM_AES 99u

/* ---- our own walk of the central directory ------------------------------------- */

typedef struct zent {
	const uint8_t *name; /* raw name bytes inside the input */
	uint16_t nlen;
	uint16_t gp, method;
	uint32_t attr;       /* external attributes */
	uint32_t crc;
	uint64_t csize, usize, lfh;
	uint64_t end;        /* end of the local header and data */
} zent;

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Fills the ZIP64 values of e from the extra field 0x0001 (those whose 32-bit field is
 * 0xFFFFFFFF, in the order uncompressed, compressed, offset). SK_EFORMAT when missing. */
static int zip64_extra(const uint8_t *x, size_t xl, zent *e, bool u, bool c, bool o)
{
	while (xl >= 4) {
		uint16_t id = le16(x), l = le16(x + 2);
		if ((size_t)l > xl - 4)
			return SK_EFORMAT;
		if (id == 0x0001) {
			size_t need = (u ? 8u : 0u) + (c ? 8u : 0u) + (o ? 8u : 0u);
			if (l < need)
				return SK_EFORMAT;
			const uint8_t *q = x + 4;
			if (u)
				e->usize = le64(q), q += 8;
			if (c)
				e->csize = le64(q), q += 8;
			if (o)
				e->lfh = le64(q);
			return 0;
		}
		x += 4 + l;
		xl -= 4 + (size_t)l;
	}
	return SK_EFORMAT;
}

/* Reads count central records at cd in p[0..n). 0, SK_EFORMAT (inconsistent) or
 * SK_ENOMEM. */
static int cd_walk(const uint8_t *p, size_t n, uint64_t cd, uint64_t count, zent **out)
{
	*out = NULL;
	if (cd > n || count > (n - cd) / 46)
		return SK_EFORMAT;
	zent *v = calloc(count ? (size_t)count : 1, sizeof(*v));
	if (!v)
		return SK_ENOMEM;
	size_t pos = (size_t)cd;
	for (uint64_t i = 0; i < count; i++) {
		zent *e = &v[i];
		if (n - pos < 46 || memcmp(p + pos, "PK\1\2", 4) != 0)
			goto bad;
		const uint8_t *h = p + pos;
		e->gp = le16(h + 8);
		e->method = le16(h + 10);
		e->crc = le32(h + 16);
		e->csize = le32(h + 20);
		e->usize = le32(h + 24);
		e->nlen = le16(h + 28);
		uint16_t xl = le16(h + 30), cl = le16(h + 32);
		e->attr = le32(h + 38);
		e->lfh = le32(h + 42);
		size_t rec = 46u + e->nlen + xl + cl;
		if (n - pos < rec)
			goto bad;
		e->name = h + 46;
		bool u = e->usize == 0xFFFFFFFFu, c = e->csize == 0xFFFFFFFFu,
		     o = e->lfh == 0xFFFFFFFFu;
		if ((u || c || o) && zip64_extra(h + 46 + e->nlen, xl, e, u, c, o) != 0)
			goto bad;
		pos += rec;
	}
	*out = v;
	return 0;
bad:
	free(v);
	return SK_EFORMAT;
}

/* Finds the end of central directory record whose directory holds `expect` entries
 * (the one libzip opened) and walks it. 0, SK_EFORMAT or SK_ENOMEM. */
static int cd_read(const uint8_t *p, size_t n, uint64_t expect, zent **out, uint64_t *found)
{
	*out = NULL;
	*found = 0;
	if (n < 22)
		return SK_EFORMAT;
	size_t lo = n - 22 > 65535 ? n - 22 - 65535 : 0;
	for (size_t off = n - 22 + 1; off-- > lo;) {
		if (memcmp(p + off, "PK\5\6", 4) != 0)
			continue;
		const uint8_t *e = p + off;
		uint64_t count = le16(e + 10), cd = le32(e + 16);
		if (off >= 20 && memcmp(p + off - 20, "PK\6\7", 4) == 0) {
			uint64_t z = le64(p + off - 20 + 8);
			if (z > n || n - z < 56 || memcmp(p + z, "PK\6\6", 4) != 0)
				continue;
			count = le64(p + z + 32);
			cd = le64(p + z + 48);
		}
		if (expect != UINT64_MAX && count != expect)
			continue;
		int rc = cd_walk(p, n, cd, count, out);
		if (rc == 0)
			*found = count;
		if (rc != SK_EFORMAT)
			return rc;
	}
	return SK_EFORMAT;
}

static int cmp_lfh(const void *a, const void *b)
{
	const zent *x = *(const zent *const *)a, *y = *(const zent *const *)b;
	return x->lfh < y->lfh ? -1 : x->lfh > y->lfh;
}

/* The local header of e agrees with its central record: name, method, encryption and,
 * unless they are in a data descriptor, CRC and sizes. */
static bool local_agrees(const uint8_t *h, const zent *e)
{
	uint16_t gp = le16(h + 6);
	if (le16(h + 8) != e->method || le16(h + 26) != e->nlen ||
	    memcmp(h + 30, e->name, e->nlen) != 0 || (gp & GP_ENCRYPTED) != (e->gp & GP_ENCRYPTED))
		return false;
	if ((gp & 0x0008u) || (e->gp & 0x0008u))
		return true;
	uint32_t cs = le32(h + 18), us = le32(h + 22);
	return le32(h + 14) == e->crc && (cs == 0xFFFFFFFFu || cs == e->csize) &&
	       (us == 0xFFFFFFFFu || us == e->usize);
}

/* Every entry's local header and data must lie inside the input, agree with the central
 * record, and no two may overlap. 0, SK_EFORMAT or SK_ENOMEM. */
static int cd_check_local(const uint8_t *p, size_t n, zent *v, size_t count)
{
	if (count == 0)
		return 0;
	zent **s = malloc(count * sizeof(*s));
	if (!s)
		return SK_ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < count && rc == 0; i++) {
		zent *e = &v[i];
		s[i] = e;
		if (e->lfh > n || n - e->lfh < 30 || memcmp(p + e->lfh, "PK\3\4", 4) != 0) {
			rc = SK_EFORMAT;
			break;
		}
		uint64_t data = e->lfh + 30 + le16(p + e->lfh + 26) + le16(p + e->lfh + 28);
		if (data > n || n - data < e->csize || !local_agrees(p + e->lfh, e))
			rc = SK_EFORMAT;
		else
			e->end = data + e->csize;
	}
	if (rc == 0) {
		qsort(s, count, sizeof(*s), cmp_lfh);
		for (size_t i = 1; i < count; i++)
			if (s[i]->lfh < s[i - 1]->end) {
				rc = SK_EFORMAT;
				break;
			}
	}
	free(s);
	return rc;
}

/* An archive libzip cannot open is called encrypted when its first local header is
 * plausible (a known "version needed") and says its data is encrypted (with or without
 * an encrypted central directory). */
static bool looks_encrypted(const uint8_t *p, size_t n)
{
	return n >= 30 && memcmp(p, "PK\3\4", 4) == 0 && le16(p + 4) <= 63 &&
	       (le16(p + 6) & GP_ENCRYPTED);
}

/* ---- names ---------------------------------------------------------------------- */

/* Valid CP932 (Shift_JIS with the Microsoft extensions) holding at least one Japanese
 * character: a double-byte character or a half-width katakana. */
static bool looks_cp932(const uint8_t *s, size_t n)
{
	bool jp = false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (c < 0x80)
			continue;
		if (c >= 0xA1 && c <= 0xDF) {
			jp = true;
			continue;
		}
		if ((c >= 0x81 && c <= 0x9F) || (c >= 0xE0 && c <= 0xFC)) {
			if (i + 1 >= n)
				return false;
			uint8_t t = s[++i];
			if (t < 0x40 || t == 0x7F || t > 0xFC)
				return false;
			jp = true;
			continue;
		}
		return false;
	}
	return jp;
}

static bool is_ascii(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] >= 0x80)
			return false;
	return true;
}

/* ---- the archive ---------------------------------------------------------------- */

struct sk_zipio {
	const uint8_t *in;
	size_t in_len;
	zip_t *za;
	zent *ents;
	uint64_t count;
	const char *password; /* unlocking (sk_zipio_set_password); borrowed */
};

static int blocked(sk_reason *why, sk_reason r, sk_error *err, const char *detail)
{
	*why = r;
	return sk_error_set(err, SK_EBLOCKED, "%s", detail);
}

static int zerr(sk_error *err, zip_error_t *ze, const char *what)
{
	int code = zip_error_code_zip(ze);
	return sk_error_set(err, code == ZIP_ER_MEMORY ? SK_ENOMEM : SK_EINTERNAL, "zip %s: %s",
			    what, zip_error_strerror(ze));
}

static zip_t *open_from(const uint8_t *p, size_t n, int flags, zip_error_t *ze)
{
	zip_source_t *src = zip_source_buffer_create(p, n, 0, ze);
	if (!src)
		return NULL;
	zip_t *za = zip_open_from_source(src, flags, ze);
	if (!za)
		zip_source_free(src);
	return za;
}

/* Duplicate names make libzip refuse ZIP_CHECKCONS; such an archive is opened without it
 * (our own walk compares local and central headers anyway); the caller makes names unique. */
int sk_zipio_open(sk_zipio **out, const uint8_t *p, size_t n, sk_reason *why, sk_error *err)
{
	*out = NULL;
	sk_zipio *z = calloc(1, sizeof(*z));
	if (!z)
		return sk_error_set(err, SK_ENOMEM, "zip");
	z->in = p;
	z->in_len = n;
	zip_error_t ze;
	zip_error_init(&ze);
	z->za = open_from(p, n, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
	if (!z->za && zip_error_code_zip(&ze) == ZIP_ER_EXISTS) {
		zip_error_fini(&ze);
		zip_error_init(&ze);
		z->za = open_from(p, n, ZIP_RDONLY, &ze);
	}
	int rc = 0;
	if (!z->za) {
		int code = zip_error_code_zip(&ze);
		if (code == ZIP_ER_MEMORY)
			rc = zerr(err, &ze, "open");
		else if (code == ZIP_ER_ENCRNOTSUPP || looks_encrypted(p, n))
			rc = blocked(why, SK_REASON_ENCRYPTED, err, "archive");
		else
			rc = blocked(why, SK_REASON_MALFORMED, err, zip_error_strerror(&ze));
	}
	zip_error_fini(&ze);
	zip_int64_t ne = rc ? 0 : zip_get_num_entries(z->za, 0);
	if (rc == 0 && ne < 0)
		rc = blocked(why, SK_REASON_MALFORMED, err, "entries");
	if (rc == 0) {
		z->count = (uint64_t)ne;
		uint64_t found;
		int r = cd_read(p, n, z->count, &z->ents, &found);
		if (r == SK_EFORMAT)
			rc = blocked(why, SK_REASON_MALFORMED, err, "central directory");
		else if (r)
			rc = sk_error_set(err, r, "central directory");
	}
	if (rc == 0) {
		int r = cd_check_local(p, n, z->ents, (size_t)z->count);
		if (r == SK_EFORMAT)
			rc = blocked(why, SK_REASON_MALFORMED, err,
				     "local headers inconsistent or overlapping");
		else if (r)
			rc = sk_error_set(err, r, "central directory");
	}
	if (rc) {
		sk_zipio_close(z);
		return rc;
	}
	*out = z;
	return 0;
}

void sk_zipio_close(sk_zipio *z)
{
	if (!z)
		return;
	if (z->za)
		zip_discard(z->za);
	free(z->ents);
	free(z);
}

uint64_t sk_zipio_count(const sk_zipio *z)
{
	return z->count;
}

struct zip *sk_zipio_libzip(sk_zipio *z)
{
	return z->za;
}

static bool ent_encrypted(const zent *e)
{
	return (e->gp & (GP_ENCRYPTED | GP_STRONG | GP_CD_ENCRYPTED)) || e->method == CM_AES;
}

/* An encrypted entry that the password set on z may open: ZipCrypto or WinZip AES as
 * libzip reads them, no strong encryption, no encrypted central directory. */
static bool decryptable(const sk_zipio *z, const zent *e, const zip_stat_t *st)
{
	return z->password && (st->valid & ZIP_STAT_ENCRYPTION_METHOD) &&
	       st->encryption_method != ZIP_EM_NONE && st->encryption_method != ZIP_EM_UNKNOWN &&
	       zip_encryption_method_supported(st->encryption_method, 0) &&
	       !(e->gp & (GP_STRONG | GP_CD_ENCRYPTED));
}

/* libzip's view of entry i, which must agree with our walk. */
static int stat_entry(sk_zipio *z, uint64_t i, zip_stat_t *st)
{
	if (i >= z->count || zip_stat_index(z->za, i, 0, st) != 0 || !(st->valid & ZIP_STAT_SIZE) ||
	    !(st->valid & ZIP_STAT_COMP_SIZE) || !(st->valid & ZIP_STAT_COMP_METHOD))
		return SK_EFORMAT;
	return 0;
}

int sk_zipio_entry_get(sk_zipio *z, uint64_t i, sk_zipio_entry *e, sk_error *err)
{
	if (i >= z->count)
		return sk_error_set(err, SK_EINVAL, "zip entry %llu", (unsigned long long)i);
	const zent *w = &z->ents[i];
	zip_stat_t st;
	bool em = stat_entry(z, i, &st) == 0 && (st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
		  st.encryption_method != ZIP_EM_NONE;
	*e = (sk_zipio_entry){.raw_name = w->name, .raw_name_len = w->nlen, .size = w->usize,
			      .comp_size = w->csize, .method = w->method, .flags = w->gp,
			      .crc = w->crc, .attr = w->attr, .encrypted = ent_encrypted(w) || em};
	return 0;
}

int sk_zipio_name(sk_zipio *z, uint64_t i, sk_buf *out)
{
	const zent *e = &z->ents[i];
	const uint8_t *r = e->nlen ? e->name : (const uint8_t *)"";
	size_t rl = e->nlen;
	sk_buf_reset(out);
	/* libzip reads NUL bytes in names as spaces: compare so */
	const char *lz = zip_get_name(z->za, i, ZIP_FL_ENC_RAW);
	bool same = lz && strlen(lz) == rl;
	for (size_t k = 0; same && k < rl; k++)
		same = (uint8_t)lz[k] == (r[k] ? r[k] : ' ');
	if (lz && !same)
		return sk_buf_adds(out, lz);
	if ((e->gp & GP_UTF8) || is_ascii(r, rl) || sk_utf8_valid((const char *)r, rl))
		return sk_buf_add(out, r, rl);
	size_t bad = 0;
	if (looks_cp932(r, rl)) {
		int rc = sk_charset_to_utf8("CP932", r, rl, out, &bad, NULL);
		if (rc || !bad)
			return rc;
		sk_buf_reset(out);
	}
	int rc = sk_charset_to_utf8("CP437", r, rl, out, &bad, NULL);
	if (rc != SK_EINVAL && (rc || !bad))
		return rc;
	/* not convertible: the caller's name cleaning replaces the invalid bytes */
	sk_buf_reset(out);
	return sk_buf_add(out, r, rl);
}

int sk_zipio_check(sk_zipio *z, sk_budget *b, sk_reason *why, sk_error *err)
{
	uint64_t declared = 0;
	for (uint64_t i = 0; i < z->count; i++) {
		sk_reason r = sk_budget_entry(b);
		if (r != SK_REASON_NONE)
			return blocked(why, r, err, "entries");
	}
	for (uint64_t i = 0; i < z->count; i++) {
		const zent *e = &z->ents[i];
		zip_stat_t st;
		if (stat_entry(z, i, &st) != 0)
			return blocked(why, SK_REASON_MALFORMED, err, "entry");
		if ((ent_encrypted(e) || ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
					  st.encryption_method != ZIP_EM_NONE)) &&
		    !decryptable(z, e, &st)) {
			sk_buf name;
			sk_buf_init(&name, 0);
			int rc = sk_zipio_name(z, i, &name);
			if (rc == 0)
				rc = blocked(why, SK_REASON_ENCRYPTED, err, sk_buf_str(&name));
			else
				rc = sk_error_set(err, rc, "name");
			sk_buf_free(&name);
			return rc;
		}
		/* libzip and our walk must describe the same entry */
		if (st.comp_size != e->csize || st.size != e->usize ||
		    ((st.valid & ZIP_STAT_CRC) && st.crc != e->crc))
			return blocked(why, SK_REASON_MALFORMED, err, "central directory");
		sk_reason r = sk_budget_ratio(b, st.comp_size, st.size);
		if (r != SK_REASON_NONE)
			return blocked(why, r, err, "declared size");
		declared = st.size > UINT64_MAX - declared ? UINT64_MAX : declared + st.size;
	}
	if (declared > b->max_expanded - b->expanded)
		return blocked(why, SK_REASON_LIMIT_SIZE, err, "declared size");
	return 0;
}

/* Charges r more bytes of entry data (got so far, with them) to the budget: expansion,
 * ratio, the clock. */
static sk_reason charge(sk_budget *b, const zent *e, uint64_t r, uint64_t got)
{
	sk_reason why = sk_budget_expand(b, r);
	if (why == SK_REASON_NONE)
		why = sk_budget_ratio(b, e->csize, got);
	if (why == SK_REASON_NONE)
		why = sk_budget_time(b);
	return why;
}

/* After a piece of data was added to out: the caller's callback, if any, may stop the
 * read (SK_EBLOCKED with its reason; detail "stopped"). Empty pieces are not shown. */
static int piece_done(const sk_zipio_piece_fn fn, void *ud, const uint8_t *p, size_t n,
		      sk_reason *why, sk_error *err)
{
	sk_reason r = fn && n ? fn(ud, p, n) : SK_REASON_NONE;
	return r == SK_REASON_NONE ? 0 : blocked(why, r, err, SK_ZIPIO_STOPPED);
}

static int inflate_entry(sk_zipio *z, const zent *e, sk_budget *b, sk_buf *out, bool *exact,
			 sk_zipio_piece_fn fn, void *ud, sk_reason *why, sk_error *err)
{
	const uint8_t *src = z->in + (e->end - e->csize);
	uint8_t *chunk = NULL;
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	bool deflated = e->method == ZIP_CM_DEFLATE;
	if (deflated && inflateInit2(&zs, -MAX_WBITS) != Z_OK)
		return sk_error_set(err, SK_ENOMEM, "inflate");
	int rc = 0, zr = Z_OK;
	uint64_t got = 0, pos = 0;
	uLong crc = crc32(0, Z_NULL, 0);
	if (deflated && !(chunk = malloc(READ_CHUNK)))
		rc = sk_error_set(err, SK_ENOMEM, "read");
	while (rc == 0) {
		const uint8_t *piece;
		size_t r;
		if (!deflated) {
			if (pos == e->csize)
				break;
			r = e->csize - pos < READ_CHUNK ? (size_t)(e->csize - pos) : READ_CHUNK;
			piece = src + pos;
			pos += r;
		} else {
			if (zr == Z_STREAM_END)
				break;
			if (zs.avail_in == 0) {
				uint64_t left = e->csize - pos;
				zs.next_in = (Bytef *)(src + pos);
				zs.avail_in = left < (1u << 30) ? (uInt)left : (1u << 30);
				pos += zs.avail_in;
			}
			zs.next_out = chunk;
			zs.avail_out = READ_CHUNK;
			zr = inflate(&zs, Z_NO_FLUSH);
			if (zr == Z_MEM_ERROR) {
				rc = sk_error_set(err, SK_ENOMEM, "inflate");
				break;
			}
			if (zr != Z_OK && zr != Z_STREAM_END) { /* data error, or the end is missing */
				rc = blocked(why, SK_REASON_MALFORMED, err, "");
				break;
			}
			if (zr == Z_OK && zs.avail_in == 0 && pos == e->csize && zs.avail_out != 0) {
				rc = blocked(why, SK_REASON_MALFORMED, err, ""); /* truncated stream */
				break;
			}
			piece = chunk;
			r = READ_CHUNK - zs.avail_out;
		}
		got += r;
		if (got > e->usize) {
			rc = blocked(why, SK_REASON_MALFORMED, err, ""); /* more data than declared */
			break;
		}
		sk_reason w = charge(b, e, r, got);
		if (w != SK_REASON_NONE) {
			rc = blocked(why, w, err, "");
			break;
		}
		crc = crc32(crc, piece, (uInt)r);
		int brc = sk_buf_add(out, piece, r);
		if (brc)
			rc = sk_error_set(err, brc, "read");
		else
			rc = piece_done(fn, ud, piece, r, why, err);
	}
	/* bytes after the end of the stream would be carried by a raw copy: refused */
	if (rc == 0 && deflated && (zs.avail_in != 0 || pos != e->csize))
		rc = blocked(why, SK_REASON_MALFORMED, err, "");
	if (rc == 0 && (got != e->usize || crc != e->crc))
		rc = blocked(why, SK_REASON_MALFORMED, err, "");
	if (deflated)
		inflateEnd(&zs);
	free(chunk);
	if (rc == 0)
		*exact = true;
	return rc;
}

int sk_zipio_read(sk_zipio *z, uint64_t i, sk_budget *b, sk_buf *out, bool *exact,
		  sk_reason *why, sk_error *err)
{
	return sk_zipio_read_cb(z, i, b, out, exact, NULL, NULL, why, err);
}

int sk_zipio_read_cb(sk_zipio *z, uint64_t i, sk_budget *b, sk_buf *out, bool *exact,
		     sk_zipio_piece_fn fn, void *ud, sk_reason *why, sk_error *err)
{
	bool ex_dummy;
	if (!exact)
		exact = &ex_dummy;
	*exact = false;
	if (i >= z->count)
		return sk_error_set(err, SK_EINVAL, "zip entry %llu", (unsigned long long)i);
	const zent *e = &z->ents[i];
	zip_stat_t st;
	bool enc = ent_encrypted(e) ||
		   (stat_entry(z, i, &st) == 0 && (st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
		    st.encryption_method != ZIP_EM_NONE);
	if (enc && !(stat_entry(z, i, &st) == 0 && decryptable(z, e, &st)))
		return blocked(why, SK_REASON_ENCRYPTED, err, "");
	if (!enc &&
	    ((e->method == ZIP_CM_STORE && e->csize == e->usize) || e->method == ZIP_CM_DEFLATE))
		return inflate_entry(z, e, b, out, exact, fn, ud, why, err);
	zip_file_t *zf = enc ? zip_fopen_index_encrypted(z->za, i, 0, z->password)
			     : zip_fopen_index(z->za, i, 0);
	if (!zf) {
		zip_error_t *ze = zip_get_error(z->za);
		if (zip_error_code_zip(ze) == ZIP_ER_MEMORY)
			return zerr(err, ze, "fopen");
		if (enc && zip_error_code_zip(ze) == ZIP_ER_WRONGPASSWD)
			return blocked(why, SK_REASON_ENCRYPTED, err, SK_ZIPIO_WRONG_PASSWORD);
		return blocked(why, SK_REASON_MALFORMED, err, "");
	}
	uint8_t *chunk = malloc(READ_CHUNK);
	if (!chunk) {
		zip_fclose(zf);
		return sk_error_set(err, SK_ENOMEM, "read");
	}
	uint64_t got = 0;
	int rc = 0;
	for (;;) {
		zip_int64_t r = zip_fread(zf, chunk, READ_CHUNK);
		if (r < 0) {
			/* decrypted with a wrong password that passed the check value: the
			 * CRC, the AES code or the inflater finds garbage */
			zip_error_t *ze = zip_file_get_error(zf);
			rc = zip_error_code_zip(ze) == ZIP_ER_MEMORY
				     ? zerr(err, ze, "read")
			     : enc ? blocked(why, SK_REASON_ENCRYPTED, err, SK_ZIPIO_WRONG_PASSWORD)
				   : blocked(why, SK_REASON_MALFORMED, err, "");
			break;
		}
		if (r == 0)
			break;
		got += (uint64_t)r;
		if (got > e->usize) { /* more data than declared */
			rc = enc ? blocked(why, SK_REASON_ENCRYPTED, err, SK_ZIPIO_WRONG_PASSWORD)
				 : blocked(why, SK_REASON_MALFORMED, err, "");
			break;
		}
		sk_reason w = charge(b, e, (uint64_t)r, got);
		if (w != SK_REASON_NONE) {
			rc = blocked(why, w, err, "");
			break;
		}
		int brc = sk_buf_add(out, chunk, (size_t)r);
		if (brc) {
			rc = sk_error_set(err, brc, "read");
			break;
		}
		if ((rc = piece_done(fn, ud, chunk, (size_t)r, why, err)) != 0)
			break;
	}
	free(chunk);
	zip_fclose(zf);
	if (rc == 0 && got != e->usize)
		rc = enc ? blocked(why, SK_REASON_ENCRYPTED, err, SK_ZIPIO_WRONG_PASSWORD)
			 : blocked(why, SK_REASON_MALFORMED, err, ""); /* less data than declared */
	return rc;
}

void sk_zipio_set_password(sk_zipio *z, const char *pw)
{
	z->password = pw;
}

int sk_zipio_password_test(sk_zipio *z, const char *pw, bool *ok, bool *encrypted,
			   sk_error *err)
{
	*ok = pw != NULL;
	if (encrypted)
		*encrypted = false;
	const char *saved = z->password;
	z->password = pw;
	int rc = 0;
	for (uint64_t i = 0; i < z->count && rc == 0; i++) {
		const zent *e = &z->ents[i];
		zip_stat_t st;
		if (stat_entry(z, i, &st) != 0) {
			*ok = false;
			break;
		}
		if (!ent_encrypted(e) && !((st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
					   st.encryption_method != ZIP_EM_NONE))
			continue;
		if (encrypted)
			*encrypted = true;
		if (!*ok)
			continue;
		if (!decryptable(z, e, &st)) {
			*ok = false;
			continue;
		}
		/* opening reads the encryption header and checks the password's check value */
		zip_file_t *zf = zip_fopen_index_encrypted(z->za, i, 0, pw);
		if (zf) {
			zip_fclose(zf);
			continue;
		}
		zip_error_t *ze = zip_get_error(z->za);
		if (zip_error_code_zip(ze) == ZIP_ER_MEMORY)
			rc = zerr(err, ze, "fopen");
		*ok = false;
	}
	z->password = saved;
	if (rc)
		*ok = false;
	return rc;
}


bool sk_zipio_encrypted(const uint8_t *p, size_t n)
{
	if (looks_encrypted(p, n))
		return true;
	zent *v = NULL;
	uint64_t count = 0;
	if (cd_read(p, n, UINT64_MAX, &v, &count) != 0)
		return false;
	bool enc = false;
	for (uint64_t i = 0; i < count && !enc; i++)
		enc = ent_encrypted(&v[i]);
	free(v);
	return enc;
}
