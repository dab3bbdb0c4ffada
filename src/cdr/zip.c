/* The ZIP module: every entry is checked through the registry and the archive is rebuilt.
 *
 * Reading uses libzip on the input in memory (ZIP_CHECKCONS: local and central headers
 * must agree). Beside it a small walk of the central directory of our own gives what
 * libzip does not expose: the general purpose flags (encryption, UTF-8 names), the raw
 * name bytes and the local header offsets, which tell overlapping entries (the
 * "zip bomb" that makes many entries share one compressed kernel).
 *
 * Before anything is decompressed every entry is charged to the budget (entry count),
 * checked for encryption (a password ZIP blocks the whole archive: the "PPAP" case) and
 * for its declared compression ratio. Data is then read with a bound: never more than the
 * declared size, the real bytes charged to the expansion budget and the ratio as they
 * arrive. Each entry goes to the registry with sk_cdr_child(); what it delivers is
 * re-packed (deflate) under a cleaned, unique UTF-8 name into a new archive built in
 * memory. Comments, extra fields, attributes and special files are not carried over.
 *
 * Stored and deflated entries are inflated here with zlib, from the input's bytes: the
 * deflate stream must end exactly where the entry's compressed data ends, and give the
 * declared size and CRC. An entry the registry delivered unchanged is then copied with
 * its compressed bytes (nothing hidden after the stream, nothing to re-deflate), and its
 * expanded bytes are let go at once: memory holds one entry at a time plus the changed
 * ones. The item's clock is looked at per entry, per chunk read and while the archive
 * is written. */
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>
#include <zlib.h>

#include "cdr_modules.h"
#include "sekisho/name.h"

#define READ_CHUNK 65536
#define NAME_MAX_BYTES 1024  /* a cleaned entry name longer than this is refused */
#define SHOW_MAX_BYTES 240   /* names quoted in the report are cut to this */
#define DETAIL_MAX_BYTES 120 /* a blocking detail: sk_cdr_ctx keeps 127 bytes */

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
static int cd_read(const uint8_t *p, size_t n, uint64_t expect, zent **out)
{
	*out = NULL;
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
		if (count != expect)
			continue;
		int rc = cd_walk(p, n, cd, count, out);
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

/* Converts s[0..n) to UTF-8 with cd into out. 0, SK_EFORMAT (not convertible) or SK_E*. */
static int convert(iconv_t cd, const uint8_t *s, size_t n, sk_buf *out)
{
	sk_buf_reset(out);
	int rc = sk_buf_reserve(out, n * 4 + 4);
	if (rc)
		return rc;
	iconv(cd, NULL, NULL, NULL, NULL);
	char *ip = (char *)s, *op = (char *)out->data;
	size_t il = n, ol = out->cap - 1;
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 || il != 0)
		return SK_EFORMAT;
	if (iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1)
		return SK_EFORMAT;
	out->len = (size_t)(op - (char *)out->data);
	out->data[out->len] = 0;
	return 0;
}

/* One UTF-8 sequence at s (n bytes left): its length, or 0 when invalid. */
static size_t utf8_len(const uint8_t *s, size_t n, unsigned *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t l = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 0;
	if (l == 0 || l > n || !sk_utf8_valid((const char *)s, l))
		return 0;
	unsigned c = s[0] & (0x7F >> l);
	for (size_t i = 1; i < l; i++)
		c = c << 6 | (s[i] & 0x3F);
	*cp = c;
	return l;
}

/* A name as it may be quoted in the report: control, bidi and format characters shown
 * as <U+XXXX>, invalid bytes as '?', cut on a character boundary to about max bytes
 * (at most max + 3 with the "…"), so that it stays valid UTF-8. */
static int show_name_max(const void *name, size_t n, size_t max, sk_buf *out)
{
	sk_buf_reset(out);
	const uint8_t *s = name;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0;) {
		char piece[16];
		size_t pl;
		unsigned cp;
		size_t l = utf8_len(s + i, n - i, &cp);
		if (l == 0) {
			piece[0] = '?';
			pl = 1;
			l = 1;
		} else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
			   (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
			   (cp >= 0x2060 && cp <= 0x2069) || cp == 0x061C || cp == 0xFEFF ||
			   cp == 0x180E || cp == 0x00AD) {
			pl = (size_t)snprintf(piece, sizeof(piece), "<U+%04X>", cp);
		} else {
			memcpy(piece, s + i, l);
			pl = l;
		}
		if (out->len + pl > max) {
			rc = sk_buf_adds(out, "…");
			break;
		}
		rc = sk_buf_add(out, piece, pl);
		i += l;
	}
	if (rc == 0 && out->len == 0)
		rc = sk_buf_addc(out, '_');
	return rc;
}

static int show_name(const void *name, size_t n, sk_buf *out)
{
	return show_name_max(name, n, SHOW_MAX_BYTES, out);
}

/* ---- the set of names already written (ASCII case folded, as Windows compares) ---- */

typedef struct nsent {
	uint64_t next; /* the suffix to try first when this name comes again */
	char name[];
} nsent;

typedef struct nameset {
	nsent **slot;
	size_t cap, n;
} nameset;

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h = (h ^ c) * 1099511628211ull;
	}
	return h;
}

static bool name_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
		if (!x)
			return true;
	}
}

static nsent *nameset_find(const nameset *ns, const char *s)
{
	if (!ns->cap)
		return NULL;
	for (size_t i = (size_t)(name_hash(s) & (ns->cap - 1));; i = (i + 1) & (ns->cap - 1)) {
		if (!ns->slot[i])
			return NULL;
		if (name_eq(ns->slot[i]->name, s))
			return ns->slot[i];
	}
}

static int nameset_put(nameset *ns, const char *s)
{
	if ((ns->n + 1) * 2 > ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 64;
		nsent **slot = calloc(cap, sizeof(*slot));
		if (!slot)
			return SK_ENOMEM;
		for (size_t i = 0; i < ns->cap; i++) {
			if (!ns->slot[i])
				continue;
			size_t j = (size_t)(name_hash(ns->slot[i]->name) & (cap - 1));
			while (slot[j])
				j = (j + 1) & (cap - 1);
			slot[j] = ns->slot[i];
		}
		free(ns->slot);
		ns->slot = slot;
		ns->cap = cap;
	}
	size_t l = strlen(s);
	nsent *e = malloc(sizeof(*e) + l + 1);
	if (!e)
		return SK_ENOMEM;
	e->next = 2;
	memcpy(e->name, s, l + 1);
	size_t i = (size_t)(name_hash(s) & (ns->cap - 1));
	while (ns->slot[i])
		i = (i + 1) & (ns->cap - 1);
	ns->slot[i] = e;
	ns->n++;
	return 0;
}

static void nameset_free(nameset *ns)
{
	for (size_t i = 0; i < ns->cap; i++)
		free(ns->slot[i]);
	free(ns->slot);
}

/* ---- the module ------------------------------------------------------------------ */

typedef struct zstate {
	sk_cdr_ctx *ctx;
	sk_error *err;
	const uint8_t *in;
	size_t in_len;
	zip_t *za;           /* input */
	zent *ents;          /* our walk of its central directory */
	uint64_t count;
	iconv_t cp932, cp437;
	zip_source_t *osrc;  /* output archive in memory */
	zip_t *oz;
	uint64_t written;    /* entries added to the output */
	bool exact;          /* the entry just read: its compressed bytes are exactly the
				deflate (or stored) stream of s->data */
	nameset names;
	sk_buf raw, dec, clean, uniq, show, show2, data, cout;
} zstate;

/* The entry's name as UTF-8 in s->dec (NUL bytes kept: s->dec.len counts them).
 * Order: libzip applied an Info-ZIP Unicode Path field (0x7075) → that; UTF-8 flag or
 * plain ASCII → as is; valid UTF-8 without the flag (macOS, many Unix tools) → as is;
 * valid CP932 with Japanese characters (Japanese Windows) → CP932; else CP437, the
 * format's default. */
static int decode_name(zstate *s, uint64_t i)
{
	const zent *e = &s->ents[i];
	const uint8_t *r = e->nlen ? e->name : (const uint8_t *)"";
	size_t rl = e->nlen;
	sk_buf_reset(&s->dec);
	/* libzip reads NUL bytes in names as spaces: compare so */
	const char *lz = zip_get_name(s->za, i, ZIP_FL_ENC_RAW);
	bool same = lz && strlen(lz) == rl;
	for (size_t k = 0; same && k < rl; k++)
		same = (uint8_t)lz[k] == (r[k] ? r[k] : ' ');
	if (lz && !same)
		return sk_buf_adds(&s->dec, lz);
	if ((e->gp & GP_UTF8) || is_ascii(r, rl) || sk_utf8_valid((const char *)r, rl))
		return sk_buf_add(&s->dec, r, rl);
	int rc;
	if (looks_cp932(r, rl)) {
		if (s->cp932 == (iconv_t)-1)
			s->cp932 = iconv_open("UTF-8", "CP932");
		if (s->cp932 != (iconv_t)-1) {
			rc = convert(s->cp932, r, rl, &s->dec);
			if (rc != SK_EFORMAT)
				return rc;
		}
	}
	if (s->cp437 == (iconv_t)-1)
		s->cp437 = iconv_open("UTF-8", "CP437");
	if (s->cp437 != (iconv_t)-1) {
		rc = convert(s->cp437, r, rl, &s->dec);
		if (rc != SK_EFORMAT)
			return rc;
	}
	/* not convertible: sk_name_clean() replaces the invalid bytes */
	sk_buf_reset(&s->dec);
	return sk_buf_add(&s->dec, r, rl);
}

/* The decoded name as a C string in s->raw, NUL bytes dropped; *nul when there were. */
static int name_string(zstate *s, bool *nul)
{
	*nul = false;
	sk_buf_reset(&s->raw);
	for (size_t k = 0; k < s->dec.len; k++) {
		if (s->dec.data[k] == 0) {
			*nul = true;
			continue;
		}
		int rc = sk_buf_addc(&s->raw, s->dec.data[k]);
		if (rc)
			return rc;
	}
	return 0;
}

static const char *shown(zstate *s, const void *name, size_t n)
{
	return show_name(name, n, &s->show) == 0 ? sk_buf_str(&s->show) : "?";
}

/* Blocks the archive; the detail (often an entry name) is shortened to fit the context
 * on a character boundary. */
static int block(zstate *s, sk_reason r, const char *detail)
{
	sk_buf d;
	sk_buf_init(&d, 0);
	const char *text = show_name_max(detail, strlen(detail), DETAIL_MAX_BYTES, &d) == 0
				   ? sk_buf_str(&d)
				   : "";
	int rc = sk_cdr_block(s->ctx, r, text);
	sk_buf_free(&d);
	return rc;
}

static int action(zstate *s, sk_action a, const char *what, const char *sub, const char *detail)
{
	int rc = sk_cdr_action(s->ctx, a, what, sub, detail, 1);
	return rc ? sk_error_set(s->err, rc, "report") : 0;
}

static int zerr(zstate *s, zip_error_t *ze, const char *what)
{
	int code = zip_error_code_zip(ze);
	int rc = sk_error_set(s->err, code == ZIP_ER_MEMORY ? SK_ENOMEM : SK_EINTERNAL, "zip %s: %s",
			      what, zip_error_strerror(ze));
	return rc;
}

static zip_t *open_from(zstate *s, int flags, zip_error_t *ze)
{
	zip_source_t *src = zip_source_buffer_create(s->in, s->in_len, 0, ze);
	if (!src)
		return NULL;
	zip_t *za = zip_open_from_source(src, flags, ze);
	if (!za)
		zip_source_free(src);
	return za;
}

/* Opens the input and walks its directory; blocks what cannot be read. Duplicate names
 * make libzip refuse ZIP_CHECKCONS; such an archive is opened without it (our own walk
 * compares local and central headers anyway) and the names are made unique later. */
static int open_input(zstate *s)
{
	zip_error_t ze;
	zip_error_init(&ze);
	s->za = open_from(s, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
	if (!s->za && zip_error_code_zip(&ze) == ZIP_ER_EXISTS) {
		zip_error_fini(&ze);
		zip_error_init(&ze);
		s->za = open_from(s, ZIP_RDONLY, &ze);
	}
	if (!s->za) {
		int code = zip_error_code_zip(&ze);
		int rc;
		if (code == ZIP_ER_MEMORY)
			rc = zerr(s, &ze, "open");
		else if (code == ZIP_ER_ENCRNOTSUPP || looks_encrypted(s->in, s->in_len))
			rc = block(s, SK_REASON_ENCRYPTED, "archive");
		else
			rc = block(s, SK_REASON_MALFORMED, zip_error_strerror(&ze));
		zip_error_fini(&ze);
		return rc;
	}
	zip_error_fini(&ze);
	zip_int64_t ne = zip_get_num_entries(s->za, 0);
	if (ne < 0)
		return block(s, SK_REASON_MALFORMED, "entries");
	s->count = (uint64_t)ne;
	int rc = cd_read(s->in, s->in_len, s->count, &s->ents);
	if (rc == SK_EFORMAT)
		return block(s, SK_REASON_MALFORMED, "central directory");
	if (rc)
		return sk_error_set(s->err, rc, "central directory");
	rc = cd_check_local(s->in, s->in_len, s->ents, (size_t)s->count);
	if (rc == SK_EFORMAT)
		return block(s, SK_REASON_MALFORMED, "local headers inconsistent or overlapping");
	if (rc)
		return sk_error_set(s->err, rc, "central directory");
	return 0;
}

/* Before anything is decompressed: entry count, encryption, declared ratio and sizes. */
static int check_entries(zstate *s)
{
	sk_budget *b = s->ctx->budget;
	uint64_t declared = 0;
	for (uint64_t i = 0; i < s->count; i++) {
		sk_reason r = sk_budget_entry(b);
		if (r != SK_REASON_NONE)
			return block(s, r, "entries");
	}
	for (uint64_t i = 0; i < s->count; i++) {
		const zent *e = &s->ents[i];
		zip_stat_t st;
		if (zip_stat_index(s->za, i, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE) ||
		    !(st.valid & ZIP_STAT_COMP_SIZE) || !(st.valid & ZIP_STAT_COMP_METHOD))
			return block(s, SK_REASON_MALFORMED, "entry");
		bool enc = (e->gp & (GP_ENCRYPTED | GP_STRONG | GP_CD_ENCRYPTED)) ||
			   e->method == CM_AES ||
			   ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
			    st.encryption_method != ZIP_EM_NONE);
		if (enc) {
			int rc = decode_name(s, i);
			if (rc)
				return sk_error_set(s->err, rc, "name");
			return block(s, SK_REASON_ENCRYPTED, shown(s, s->dec.data, s->dec.len));
		}
		/* libzip and our walk must describe the same entry */
		if (st.comp_size != e->csize || st.size != e->usize ||
		    ((st.valid & ZIP_STAT_CRC) && st.crc != e->crc))
			return block(s, SK_REASON_MALFORMED, "central directory");
		sk_reason r = sk_budget_ratio(b, st.comp_size, st.size);
		if (r != SK_REASON_NONE)
			return block(s, r, "declared size");
		declared = st.size > UINT64_MAX - declared ? UINT64_MAX : declared + st.size;
	}
	if (declared > b->max_expanded - b->expanded)
		return block(s, SK_REASON_LIMIT_SIZE, "declared size");
	return 0;
}

/* Charges r more bytes of entry data (got so far, with them) to the budget: expansion,
 * ratio, the clock. */
static sk_reason charge(zstate *s, const zip_stat_t *st, uint64_t r, uint64_t got)
{
	sk_budget *b = s->ctx->budget;
	sk_reason why = sk_budget_expand(b, r);
	if (why == SK_REASON_NONE)
		why = sk_budget_ratio(b, st->comp_size, got);
	if (why == SK_REASON_NONE)
		why = sk_budget_time(b);
	return why;
}

/* A stored or deflated entry read from the input's bytes (zlib): the stream must end
 * exactly at the end of the compressed data and give the declared size and CRC. */
static int inflate_entry(zstate *s, const zent *e, const zip_stat_t *st, const char *name)
{
	const uint8_t *src = s->in + (e->end - e->csize);
	uint8_t *chunk = NULL;
	z_stream z;
	memset(&z, 0, sizeof(z));
	bool deflated = e->method == ZIP_CM_DEFLATE;
	if (deflated && inflateInit2(&z, -MAX_WBITS) != Z_OK)
		return sk_error_set(s->err, SK_ENOMEM, "inflate");
	int rc = 0, zr = Z_OK;
	uint64_t got = 0, pos = 0;
	uLong crc = crc32(0, Z_NULL, 0);
	if (deflated && !(chunk = malloc(READ_CHUNK)))
		rc = sk_error_set(s->err, SK_ENOMEM, "read");
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
			if (z.avail_in == 0) {
				uint64_t left = e->csize - pos;
				z.next_in = (Bytef *)(src + pos);
				z.avail_in = left < (1u << 30) ? (uInt)left : (1u << 30);
				pos += z.avail_in;
			}
			z.next_out = chunk;
			z.avail_out = READ_CHUNK;
			zr = inflate(&z, Z_NO_FLUSH);
			if (zr == Z_MEM_ERROR) {
				rc = sk_error_set(s->err, SK_ENOMEM, "inflate");
				break;
			}
			if (zr != Z_OK && zr != Z_STREAM_END) { /* data error, or the end is missing */
				rc = block(s, SK_REASON_MALFORMED, name);
				break;
			}
			if (zr == Z_OK && z.avail_in == 0 && pos == e->csize && z.avail_out != 0) {
				rc = block(s, SK_REASON_MALFORMED, name); /* truncated stream */
				break;
			}
			piece = chunk;
			r = READ_CHUNK - z.avail_out;
		}
		got += r;
		if (got > st->size) {
			rc = block(s, SK_REASON_MALFORMED, name); /* more data than declared */
			break;
		}
		sk_reason why = charge(s, st, r, got);
		if (why != SK_REASON_NONE) {
			rc = block(s, why, name);
			break;
		}
		crc = crc32(crc, piece, (uInt)r);
		int brc = sk_buf_add(&s->data, piece, r);
		if (brc)
			rc = sk_error_set(s->err, brc, "read");
	}
	/* bytes after the end of the stream would be carried by a raw copy: refused */
	if (rc == 0 && deflated && (z.avail_in != 0 || pos != e->csize))
		rc = block(s, SK_REASON_MALFORMED, name);
	if (rc == 0 && (got != st->size || crc != e->crc))
		rc = block(s, SK_REASON_MALFORMED, name);
	if (deflated)
		inflateEnd(&z);
	free(chunk);
	if (rc == 0)
		s->exact = true;
	return rc;
}

/* Reads entry i into s->data: never more than its declared size, every byte charged to
 * the budget and the ratio checked as the data arrives. */
static int read_entry(zstate *s, uint64_t i, const zip_stat_t *st, const char *name)
{
	sk_buf_reset(&s->data);
	s->exact = false;
	const zent *e = &s->ents[i];
	if ((e->method == ZIP_CM_STORE && e->csize == e->usize) || e->method == ZIP_CM_DEFLATE)
		return inflate_entry(s, e, st, name);
	zip_file_t *zf = zip_fopen_index(s->za, i, 0);
	if (!zf) {
		zip_error_t *ze = zip_get_error(s->za);
		if (zip_error_code_zip(ze) == ZIP_ER_MEMORY)
			return zerr(s, ze, "fopen");
		return block(s, SK_REASON_MALFORMED, name);
	}
	uint8_t *chunk = malloc(READ_CHUNK);
	if (!chunk) {
		zip_fclose(zf);
		return sk_error_set(s->err, SK_ENOMEM, "read");
	}
	uint64_t got = 0;
	int rc = 0;
	for (;;) {
		zip_int64_t r = zip_fread(zf, chunk, READ_CHUNK);
		if (r < 0) {
			zip_error_t *ze = zip_file_get_error(zf);
			rc = zip_error_code_zip(ze) == ZIP_ER_MEMORY
				     ? zerr(s, ze, "read")
				     : block(s, SK_REASON_MALFORMED, name);
			break;
		}
		if (r == 0)
			break;
		got += (uint64_t)r;
		if (got > st->size) {
			rc = block(s, SK_REASON_MALFORMED, name); /* more data than declared */
			break;
		}
		sk_reason why = charge(s, st, (uint64_t)r, got);
		if (why != SK_REASON_NONE) {
			rc = block(s, why, name);
			break;
		}
		int brc = sk_buf_add(&s->data, chunk, (size_t)r);
		if (brc) {
			rc = sk_error_set(s->err, brc, "read");
			break;
		}
	}
	free(chunk);
	zip_fclose(zf);
	if (rc == 0 && got != st->size)
		rc = block(s, SK_REASON_MALFORMED, name); /* less data than declared */
	return rc;
}

/* Makes s->clean unique among the names written so far (into s->uniq): "a (2).txt".
 * Each name remembers the next suffix to try, so many copies of one name stay linear. */
static int unique_name(zstate *s, bool *changed)
{
	const char *c = sk_buf_str(&s->clean);
	*changed = false;
	sk_buf_reset(&s->uniq);
	nsent *first = nameset_find(&s->names, c);
	if (!first) {
		int rc = sk_buf_adds(&s->uniq, c);
		return rc ? rc : nameset_put(&s->names, c);
	}
	const char *slash = strrchr(c, '/');
	const char *base = slash ? slash + 1 : c;
	const char *dot = strrchr(base, '.');
	size_t stem = dot && dot != base ? (size_t)(dot - c) : strlen(c);
	for (uint64_t k = first->next;; k++) {
		sk_buf_reset(&s->uniq);
		int rc = sk_buf_printf(&s->uniq, "%.*s (%llu)%s", (int)stem, c,
				       (unsigned long long)k, c + stem);
		if (rc)
			return rc;
		if (!nameset_find(&s->names, sk_buf_str(&s->uniq))) {
			first->next = k + 1;
			*changed = true;
			return nameset_put(&s->names, sk_buf_str(&s->uniq));
		}
	}
}

/* libzip asks while it writes: the item's time is up → zip_close() stops. */
static int close_cancel(zip_t *za, void *ud)
{
	(void)za;
	return sk_budget_time(ud) != SK_REASON_NONE;
}

static int out_open(zstate *s)
{
	zip_error_t ze;
	zip_error_init(&ze);
	s->osrc = zip_source_buffer_create(NULL, 0, 0, &ze);
	if (s->osrc) {
		s->oz = zip_open_from_source(s->osrc, ZIP_TRUNCATE, &ze);
		if (s->oz)
			zip_source_keep(s->osrc); /* read back after zip_close() */
		else {
			zip_source_free(s->osrc);
			s->osrc = NULL;
		}
	}
	int rc = s->oz ? 0 : zerr(s, &ze, "create");
	if (rc == 0 &&
	    zip_register_cancel_callback_with_state(s->oz, close_cancel, NULL, s->ctx->budget))
		rc = sk_error_set(s->err, SK_EINTERNAL, "zip: cancel callback");
	zip_error_fini(&ze);
	return rc;
}

static int out_meta(zstate *s, zip_int64_t idx, const zip_stat_t *st, bool dir)
{
	zip_uint32_t mode = dir ? (040755u << 16) | 0x10u : (0100644u << 16);
	if (zip_file_set_external_attributes(s->oz, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX, mode) != 0)
		return zerr(s, zip_get_error(s->oz), "attributes");
	if ((st->valid & ZIP_STAT_MTIME) &&
	    zip_file_set_mtime(s->oz, (zip_uint64_t)idx, st->mtime, 0) != 0)
		return zerr(s, zip_get_error(s->oz), "mtime");
	return 0;
}

/* Adds the delivered bytes (taken from s->cout) under name. */
static int out_file(zstate *s, const char *name, const zip_stat_t *st)
{
	size_t len;
	uint8_t *p = sk_buf_take(&s->cout, &len);
	zip_error_t ze;
	zip_error_init(&ze);
	zip_source_t *src = zip_source_buffer_create(p, len, 1, &ze);
	if (!src) {
		free(p);
		int rc = zerr(s, &ze, "entry");
		zip_error_fini(&ze);
		return rc;
	}
	zip_error_fini(&ze);
	zip_int64_t idx = zip_file_add(s->oz, name, src, ZIP_FL_ENC_UTF_8);
	if (idx < 0) {
		zip_source_free(src);
		return zerr(s, zip_get_error(s->oz), "add");
	}
	s->written++;
	if (zip_set_file_compression(s->oz, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 0) != 0)
		return zerr(s, zip_get_error(s->oz), "compression");
	return out_meta(s, idx, st, false);
}

/* Adds entry i of the input as it is: its compressed bytes, its method (the registry
 * delivered exactly what they decompress to). */
static int out_raw(zstate *s, uint64_t i, const char *name, const zip_stat_t *st)
{
	zip_source_t *src = zip_source_zip(s->oz, s->za, i, ZIP_FL_COMPRESSED, 0, -1);
	if (!src)
		return zerr(s, zip_get_error(s->oz), "copy");
	zip_int64_t idx = zip_file_add(s->oz, name, src, ZIP_FL_ENC_UTF_8);
	if (idx < 0) {
		zip_source_free(src);
		return zerr(s, zip_get_error(s->oz), "add");
	}
	s->written++;
	/* the method the bytes have (a stored entry would otherwise be deflated) */
	if (zip_set_file_compression(s->oz, (zip_uint64_t)idx, (zip_int32_t)s->ents[i].method, 0))
		return zerr(s, zip_get_error(s->oz), "compression");
	return out_meta(s, idx, st, false);
}

/* Adds a delivered entry whose type changed (a docm rebuilt as docx) under its name with
 * the new extension, so that the name says what the bytes are. */
static int out_file_renamed(zstate *s, const char *name, const char *ext, const zip_stat_t *st)
{
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	const char *dot = strrchr(base, '.');
	size_t keep = dot && dot != base ? (size_t)(dot - name) : strlen(name);
	sk_buf nn;
	sk_buf_init(&nn, 0);
	int rc = sk_buf_printf(&nn, "%.*s.%s", (int)keep, name, ext);
	if (rc == 0 && strcmp(sk_buf_str(&nn), name) != 0)
		rc = action(s, SK_ACTION_RENAMED, "entry-name", name, sk_buf_str(&nn));
	if (rc == 0)
		rc = out_file(s, sk_buf_str(&nn), st);
	sk_buf_free(&nn);
	return rc;
}

static int out_dir(zstate *s, const char *name, const zip_stat_t *st)
{
	zip_int64_t idx = zip_dir_add(s->oz, name, ZIP_FL_ENC_UTF_8);
	if (idx < 0)
		return zerr(s, zip_get_error(s->oz), "add directory");
	s->written++;
	return out_meta(s, idx, st, true);
}

/* Finishes the output archive and writes it to out. */
static int out_finish(zstate *s, sk_output *out)
{
	if (s->written == 0) {
		/* libzip writes nothing for an empty archive: an end record alone is one */
		static const uint8_t empty[22] = {'P', 'K', 5, 6};
		zip_discard(s->oz);
		s->oz = NULL;
		return sk_output_write(out, empty, sizeof(empty), s->err);
	}
	if (zip_close(s->oz) != 0) {
		zip_error_t *ze = zip_get_error(s->oz);
		if (zip_error_code_zip(ze) == ZIP_ER_CANCELLED ||
		    sk_budget_time(s->ctx->budget) != SK_REASON_NONE)
			return block(s, SK_REASON_LIMIT_TIME, "writing the archive");
		return zerr(s, ze, "close");
	}
	s->oz = NULL;
	zip_stat_t st;
	if (zip_source_is_deleted(s->osrc) || zip_source_stat(s->osrc, &st) != 0 ||
	    !(st.valid & ZIP_STAT_SIZE) || zip_source_open(s->osrc) != 0)
		return sk_error_set(s->err, SK_EINTERNAL, "zip: output archive unreadable");
	uint8_t *chunk = malloc(READ_CHUNK);
	int rc = chunk ? 0 : sk_error_set(s->err, SK_ENOMEM, "output");
	uint64_t done = 0;
	while (rc == 0 && done < st.size) {
		zip_int64_t r = zip_source_read(s->osrc, chunk, READ_CHUNK);
		if (r <= 0) {
			rc = sk_error_set(s->err, SK_EINTERNAL, "zip: output archive short");
			break;
		}
		done += (uint64_t)r;
		rc = sk_output_write(out, chunk, (size_t)r, s->err);
	}
	free(chunk);
	zip_source_close(s->osrc);
	return rc;
}

/* Unix file type of an entry from the high half of its external attributes. */
static unsigned unix_type(const zent *e)
{
	return (e->attr >> 16) & S_IFMT;
}

static bool is_dir_entry(const zent *e, const char *dec, const zip_stat_t *st)
{
	size_t l = strlen(dec);
	if (l && (dec[l - 1] == '/' || dec[l - 1] == '\\'))
		return true;
	bool attr_dir = unix_type(e) == S_IFDIR || (unix_type(e) == 0 && (e->attr & 0x10));
	return attr_dir && st->size == 0 && st->comp_size == 0;
}

static int do_entry(zstate *s, uint64_t i)
{
	const zent *e = &s->ents[i];
	sk_reason late = sk_budget_time(s->ctx->budget);
	if (late != SK_REASON_NONE)
		return block(s, late, "entries");
	zip_stat_t st;
	if (zip_stat_index(s->za, i, 0, &st) != 0)
		return block(s, SK_REASON_MALFORMED, "entry");
	bool nul;
	int rc = decode_name(s, i);
	if (rc == 0)
		rc = name_string(s, &nul);
	if (rc)
		return sk_error_set(s->err, rc, "name");
	const char *dec = sk_buf_str(&s->raw);
	bool dir = is_dir_entry(e, dec, &st);
	rc = sk_name_clean(dec, &s->clean);
	if (rc < 0)
		return sk_error_set(s->err, rc, "name");
	bool renamed = rc != 0 || nul;
	const char *clean = sk_buf_str(&s->clean);

	unsigned t = unix_type(e);
	if (!dir && t != 0 && t != S_IFREG && t != S_IFDIR)
		return action(s, SK_ACTION_REMOVED, "entry", shown(s, clean, s->clean.len),
			      t == S_IFLNK ? "symlink" : "special-file");
	if (s->clean.len > NAME_MAX_BYTES)
		return action(s, SK_ACTION_REMOVED, "entry", shown(s, clean, s->clean.len),
			      sk_reason_code(SK_REASON_UNSAFE_NAME));
	bool dup;
	rc = unique_name(s, &dup);
	if (rc)
		return sk_error_set(s->err, rc, "name");
	const char *name = sk_buf_str(&s->uniq);
	if (renamed || dup) {
		/* the old name, its invisible characters made visible */
		rc = renamed ? show_name(s->dec.data, s->dec.len, &s->show2)
			     : show_name(clean, s->clean.len, &s->show2);
		if (rc)
			return sk_error_set(s->err, rc, "name");
		rc = action(s, SK_ACTION_RENAMED, "entry-name", sk_buf_str(&s->show2), name);
		if (rc)
			return rc;
	}
	zip_uint32_t clen = 0;
	if (zip_file_get_comment(s->za, i, &clen, ZIP_FL_ENC_RAW) && clen > 0) {
		rc = action(s, SK_ACTION_REMOVED, "comment", name, NULL);
		if (rc)
			return rc;
	}
	if (dir)
		return out_dir(s, name, &st);
	if (!zip_compression_method_supported((zip_int32_t)st.comp_method, 0))
		return action(s, SK_ACTION_REMOVED, "entry", name,
			      sk_reason_code(SK_REASON_UNKNOWN_TYPE));

	rc = read_entry(s, i, &st, name);
	if (rc)
		return rc;
	sk_reason why;
	sk_buf_reset(&s->cout);
	rc = sk_cdr_child(s->ctx, name, s->data.data, s->data.len, &s->cout, &why, s->err);
	bool same = rc == 0 && s->exact && !s->ctx->child_ext[0] && s->cout.len == s->data.len &&
		    (s->data.len == 0 || memcmp(s->cout.data, s->data.data, s->data.len) == 0);
	sk_buf_reset(&s->data);
	if (same) {
		sk_buf_reset(&s->cout);
		return out_raw(s, i, name, &st);
	}
	if (rc == 0 && s->ctx->child_ext[0])
		return out_file_renamed(s, name, s->ctx->child_ext, &st);
	if (rc == 0)
		return out_file(s, name, &st);
	if (rc != SK_EBLOCKED)
		return rc;
	if (sk_reason_is_fatal(why))
		return block(s, why, name);
	return action(s, SK_ACTION_REMOVED, "entry", name, sk_reason_code(why));
}

static bool zip_accepts(const sk_type *t)
{
	return t->kind == SK_KIND_ZIP;
}

static int zip_sanitize(sk_cdr_ctx *ctx, sk_input *in, sk_output *out, sk_error *err)
{
	zstate s = {.ctx = ctx, .err = err, .cp932 = (iconv_t)-1, .cp437 = (iconv_t)-1};
	sk_buf *bufs[] = {&s.raw, &s.dec, &s.clean, &s.uniq, &s.show, &s.show2, &s.data, &s.cout};
	for (size_t k = 0; k < sizeof(bufs) / sizeof(bufs[0]); k++)
		sk_buf_init(bufs[k], 0);

	int rc = sk_input_load(in, &s.in, &s.in_len, err);
	if (rc == 0)
		rc = open_input(&s);
	if (rc == 0)
		rc = check_entries(&s);
	if (rc == 0) {
		int clen = 0;
		if (zip_get_archive_comment(s.za, &clen, ZIP_FL_ENC_RAW) && clen > 0)
			rc = action(&s, SK_ACTION_REMOVED, "comment", NULL, NULL);
	}
	if (rc == 0)
		rc = out_open(&s);
	for (uint64_t i = 0; rc == 0 && i < s.count; i++)
		rc = do_entry(&s, i);
	if (rc == 0)
		rc = out_finish(&s, out);

	if (s.oz)
		zip_discard(s.oz);
	if (s.osrc)
		zip_source_free(s.osrc);
	if (s.za)
		zip_discard(s.za);
	if (s.cp932 != (iconv_t)-1)
		iconv_close(s.cp932);
	if (s.cp437 != (iconv_t)-1)
		iconv_close(s.cp437);
	nameset_free(&s.names);
	free(s.ents);
	for (size_t k = 0; k < sizeof(bufs) / sizeof(bufs[0]); k++)
		sk_buf_free(bufs[k]);
	return rc;
}

const sk_cdr_module sk_cdr_module_zip = {
	.name = "zip",
	.accepts = zip_accepts,
	.sanitize = zip_sanitize,
};
