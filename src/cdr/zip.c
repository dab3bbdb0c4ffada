/* The ZIP module: every entry is checked through the registry and the archive is rebuilt.
 *
 * Reading goes through sekisho/zipio.h (src/base/zipio.c): libzip on the input in memory
 * (ZIP_CHECKCONS: local and central headers must agree), and beside it a small walk of
 * the central directory of our own that gives what libzip does not expose: the general purpose flags (encryption, UTF-8 names), the raw
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
 * Stored and deflated entries are inflated by zipio with zlib, from the input's bytes: the
 * deflate stream must end exactly where the entry's compressed data ends, and give the
 * declared size and CRC. An entry the registry delivered unchanged is then copied with
 * its compressed bytes (nothing hidden after the stream, nothing to re-deflate), and its
 * expanded bytes are let go at once: memory holds one entry at a time plus the changed
 * ones. The item's clock is looked at per entry, per chunk read and while the archive
 * is written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

#include "cdr_modules.h"
#include "sekisho/name.h"
#include "sekisho/zipio.h"

#define READ_CHUNK 65536
#define NAME_MAX_BYTES 1024  /* a cleaned entry name longer than this is refused */
#define SHOW_MAX_BYTES 240   /* names quoted in the report are cut to this */
#define DETAIL_MAX_BYTES 120 /* a blocking detail: sk_cdr_ctx keeps 127 bytes */

/* ---- names ---------------------------------------------------------------------- */

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
	sk_zipio *zio;       /* input */
	zip_t *za;           /* its libzip archive (owned by zio) */
	uint64_t count;
	zip_source_t *osrc;  /* output archive in memory */
	zip_t *oz;
	uint64_t written;    /* entries added to the output */
	bool exact;          /* the entry just read: its compressed bytes are exactly the
				deflate (or stored) stream of s->data */
	nameset names;
	sk_buf raw, dec, clean, uniq, show, show2, data, cout;
} zstate;

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

/* ---- reading (sekisho/zipio.h) ---------------------------------------------------- */

/* Turns a zipio SK_EBLOCKED into the module's block (detail: zipio's, or `name`). */
static int zio_rc(zstate *s, int rc, sk_reason why, const sk_error *e, const char *name)
{
	if (rc == SK_EBLOCKED)
		return block(s, why, name ? name : shown(s, e->msg, strlen(e->msg)));
	return rc ? sk_error_set(s->err, rc, "%s", e->msg) : 0;
}

/* Opens the input and walks its directory; blocks what cannot be read. */
static int open_input(zstate *s)
{
	sk_error e = {0};
	sk_reason why = SK_REASON_NONE;
	int rc = sk_zipio_open(&s->zio, s->in, s->in_len, &why, &e);
	if (rc == 0) {
		s->za = sk_zipio_libzip(s->zio);
		s->count = sk_zipio_count(s->zio);
	}
	return zio_rc(s, rc, why, &e, NULL);
}

/* Before anything is decompressed: entry count, encryption, declared ratio and sizes. */
static int check_entries(zstate *s)
{
	sk_error e = {0};
	sk_reason why = SK_REASON_NONE;
	int rc = sk_zipio_check(s->zio, s->ctx->budget, &why, &e);
	return zio_rc(s, rc, why, &e, NULL);
}

/* Reads entry i into s->data under the budget (s->exact: its compressed bytes can be
 * copied raw). */
static int read_entry(zstate *s, uint64_t i, const char *name)
{
	sk_buf_reset(&s->data);
	s->exact = false;
	sk_error e = {0};
	sk_reason why = SK_REASON_NONE;
	int rc = sk_zipio_read(s->zio, i, s->ctx->budget, &s->data, &s->exact, &why, &e);
	return zio_rc(s, rc, why, &e, name);
}

/* Makes s->clean unique among the names written so far (into s->uniq): "a (2).txt".
 * Each name remembers the next suffix to try, so many copies of one name stay linear. */
/* c, or when the archive has it already "STEM (k).EXT", in s->uniq, and put in the set */
static int unique_of(zstate *s, const char *c, bool *changed)
{
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

static int unique_name(zstate *s, bool *changed)
{
	return unique_of(s, sk_buf_str(&s->clean), changed);
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
	if (zip_set_file_compression(s->oz, (zip_uint64_t)idx, (zip_int32_t)st->comp_method, 0))
		return zerr(s, zip_get_error(s->oz), "compression");
	return out_meta(s, idx, st, false);
}

/* Adds a delivered entry whose type changed (a docm rebuilt as docx, a document made into
 * a PDF of page images) under its name with the new extension, so that the name says what
 * the bytes are; "STEM (k).EXT" when the archive has that name already (report.docx beside
 * report.pdf). */
static int out_file_renamed(zstate *s, const char *name, const char *ext, const zip_stat_t *st)
{
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	const char *dot = strrchr(base, '.');
	size_t keep = dot && dot != base ? (size_t)(dot - name) : strlen(name);
	sk_buf nn, was;
	sk_buf_init(&nn, 0);
	sk_buf_init(&was, 0);
	int rc = sk_buf_printf(&nn, "%.*s.%s", (int)keep, name, ext);
	rc = rc ? rc : sk_buf_adds(&was, name); /* (name may be s->uniq, made anew below) */
	if (rc == 0 && strcmp(sk_buf_str(&nn), sk_buf_str(&was)) == 0) {
		rc = out_file(s, sk_buf_str(&was), st);
	} else if (rc == 0) {
		bool dup;
		rc = unique_of(s, sk_buf_str(&nn), &dup);
		if (rc)
			rc = sk_error_set(s->err, rc, "name");
		else if ((rc = action(s, SK_ACTION_RENAMED, "entry-name", sk_buf_str(&was),
				      sk_buf_str(&s->uniq))) == 0)
			rc = out_file(s, sk_buf_str(&s->uniq), st);
	}
	sk_buf_free(&nn);
	sk_buf_free(&was);
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
static unsigned unix_type(const sk_zipio_entry *e)
{
	return (e->attr >> 16) & S_IFMT;
}

static bool is_dir_entry(const sk_zipio_entry *e, const char *dec, const zip_stat_t *st)
{
	size_t l = strlen(dec);
	if (l && (dec[l - 1] == '/' || dec[l - 1] == '\\'))
		return true;
	bool attr_dir = unix_type(e) == S_IFDIR || (unix_type(e) == 0 && (e->attr & 0x10));
	return attr_dir && st->size == 0 && st->comp_size == 0;
}

static int do_entry(zstate *s, uint64_t i)
{
	sk_zipio_entry ent;
	int rc = sk_zipio_entry_get(s->zio, i, &ent, s->err);
	if (rc)
		return rc;
	const sk_zipio_entry *e = &ent;
	sk_reason late = sk_budget_time(s->ctx->budget);
	if (late != SK_REASON_NONE)
		return block(s, late, "entries");
	zip_stat_t st;
	if (zip_stat_index(s->za, i, 0, &st) != 0)
		return block(s, SK_REASON_MALFORMED, "entry");
	bool nul;
	rc = sk_zipio_name(s->zio, i, &s->dec);
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

	rc = read_entry(s, i, name);
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
	zstate s = {.ctx = ctx, .err = err};
	sk_buf *bufs[] = {&s.raw, &s.dec, &s.clean, &s.uniq, &s.show, &s.show2, &s.data, &s.cout};
	for (size_t k = 0; k < sizeof(bufs) / sizeof(bufs[0]); k++)
		sk_buf_init(bufs[k], 0);

	int rc = sk_input_load(in, &s.in, &s.in_len, err);
	if (rc == 0)
		rc = open_input(&s);
	/* unlocking (top level only): encrypted entries are decrypted with the password and
	 * rebuilt like any other; the new archive is not encrypted */
	if (rc == 0 && ctx->password && ctx->depth == 0)
		sk_zipio_set_password(s.zio, ctx->password);
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
	sk_zipio_close(s.zio);
	nameset_free(&s.names);
	for (size_t k = 0; k < sizeof(bufs) / sizeof(bufs[0]); k++)
		sk_buf_free(bufs[k]);
	return rc;
}

const sk_cdr_module sk_cdr_module_zip = {
	.name = "zip",
	.accepts = zip_accepts,
	.sanitize = zip_sanitize,
};
