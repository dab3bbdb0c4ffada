/* The compound file (OLE2 / CFB) reader. See include/sekisho/cfb.h. */
#include "sekisho/cfb.h"
#include "sekisho/name.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAXREGSECT 0xFFFFFFFAu
#define ENDOFCHAIN 0xFFFFFFFEu
#define NOSTREAM 0xFFFFFFFFu
#define MINI_SHIFT 6
#define MINI_SIZE 64u
#define MINI_CUTOFF 4096u
#define LENIENT_ENTRIES 4096 /* entries read without a budget (detection) */
#define TIME_EVERY 256       /* sectors between looks at the clock */

struct sk_cfb {
	const sk_input *in;
	bool lenient;
	bool v3;              /* stream sizes are 32-bit */
	uint32_t ssz;         /* sector size */
	uint64_t nsect;       /* sectors in the file after the header */
	uint32_t *difat;      /* FAT sector of each FAT index (NOSTREAM: missing) */
	uint32_t ndifat;
	uint32_t minifat_start, minifat_count;
	sk_cfb_entry *ent;
	uint32_t nent;
	uint32_t *start;      /* first sector of each entry */
	uint32_t *link;       /* left, right, child of each entry (while opening) */
	uint32_t *first_child, *next_sib;
	uint8_t *sect;        /* one sector of scratch */
	uint8_t *fat;         /* the FAT sector cached */
	uint32_t fat_idx;     /* its FAT index (NOSTREAM: none) */
	uint32_t *mark;       /* per sector: the walk that last met it (loop detection) */
	uint32_t epoch;
	bool mini_loaded;
	uint32_t *minifat;    /* the mini FAT's entries */
	uint32_t nminifat;
	uint32_t *ministream; /* the sectors of the mini stream (the root's chain) */
	uint32_t nministream;
	uint32_t *minimark;
	uint32_t miniepoch;
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int stop(sk_reason *why, sk_error *err, sk_reason r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int stop(sk_reason *why, sk_error *err, sk_reason r, const char *fmt, ...)
{
	*why = r;
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		char m[200];
		vsnprintf(m, sizeof(m), fmt, ap);
		va_end(ap);
		sk_error_set(err, SK_EBLOCKED, "cfb: %s", m);
	}
	return SK_EBLOCKED;
}

/* n bytes of sector s (n <= ssz) at off inside it into buf; the file must hold them. */
static int read_at(sk_cfb *c, uint32_t s, uint32_t off, void *buf, size_t n, sk_reason *why,
		   sk_error *err)
{
	if (s > MAXREGSECT || s >= c->nsect)
		return stop(why, err, SK_REASON_MALFORMED, "sector %u outside the file", s);
	size_t got = 0;
	int rc = sk_input_pread(c->in, ((uint64_t)s + 1) * c->ssz + off, buf, n, &got, err);
	if (rc)
		return rc;
	if (got < n)
		return stop(why, err, SK_REASON_MALFORMED, "sector %u cut short (truncated file)", s);
	return 0;
}

/* The FAT's entry for sector s. */
static int fat_next(sk_cfb *c, uint32_t s, uint32_t *next, sk_reason *why, sk_error *err)
{
	uint32_t per = c->ssz / 4, i = s / per;
	if (i >= c->ndifat || c->difat[i] == NOSTREAM)
		return stop(why, err, SK_REASON_MALFORMED, "no FAT sector for sector %u", s);
	if (c->fat_idx != i) {
		c->fat_idx = NOSTREAM;
		int rc = read_at(c, c->difat[i], 0, c->fat, c->ssz, why, err);
		if (rc)
			return rc;
		c->fat_idx = i;
	}
	*next = le32(c->fat + (s % per) * 4);
	return 0;
}

static int new_walk(uint32_t **mark, uint32_t *epoch, uint64_t n)
{
	if (!*mark) {
		*mark = calloc(n ? n : 1, sizeof(uint32_t));
		if (!*mark)
			return SK_ENOMEM;
	}
	if (++*epoch == 0) {
		memset(*mark, 0, (n ? n : 1) * sizeof(uint32_t));
		*epoch = 1;
	}
	return 0;
}

/* The sectors of the FAT chain from start into a new array *list (*n of them): at most
 * max, at least need (else the chain ends early: malformed). Lenient: a broken link ends
 * the chain where it is. */
static int load_chain(sk_cfb *c, uint32_t start, uint64_t need, uint64_t max, sk_budget *b,
		      uint32_t **list, uint32_t *n, sk_reason *why, sk_error *err)
{
	*list = NULL;
	*n = 0;
	if (max > c->nsect)
		max = c->nsect;
	if (need > max)
		return stop(why, err, SK_REASON_MALFORMED, "chain longer than the file");
	int rc = new_walk(&c->mark, &c->epoch, c->nsect);
	if (rc)
		return rc;
	uint32_t *v = malloc((max ? max : 1) * sizeof(uint32_t));
	if (!v)
		return SK_ENOMEM;
	uint64_t k = 0;
	uint32_t s = start;
	while (k < max) {
		if (s == ENDOFCHAIN)
			break;
		if (s > MAXREGSECT || s >= c->nsect) {
			if (c->lenient)
				break;
			rc = stop(why, err, SK_REASON_MALFORMED, "chain leaves the file at sector %u", s);
			goto fail;
		}
		if (c->mark[s] == c->epoch) {
			if (c->lenient)
				break;
			rc = stop(why, err, SK_REASON_MALFORMED, "chain loops at sector %u", s);
			goto fail;
		}
		c->mark[s] = c->epoch;
		v[k++] = s;
		if (k % TIME_EVERY == 0 && b && sk_budget_time(b) != SK_REASON_NONE) {
			rc = stop(why, err, SK_REASON_LIMIT_TIME, "time");
			goto fail;
		}
		if (k == max)
			break;
		rc = fat_next(c, s, &s, why, err);
		if (rc) {
			if (c->lenient && rc == SK_EBLOCKED)
				break;
			goto fail;
		}
	}
	if (k < need) {
		rc = stop(why, err, SK_REASON_MALFORMED, "chain ends after %llu of %llu sectors (truncated)",
			  (unsigned long long)k, (unsigned long long)need);
		goto fail;
	}
	*list = v;
	*n = (uint32_t)k;
	return 0;
fail:
	free(v);
	return rc;
}

/* ---- opening --------------------------------------------------------------------------- */

static void utf16_name(const uint8_t *p, size_t units, char *out, size_t outsz)
{
	size_t o = 0;
	for (size_t i = 0; i < units; i++) {
		uint32_t cp = le16(p + 2 * i);
		if (cp == 0)
			break;
		if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < units) {
			uint32_t lo = le16(p + 2 * i + 2);
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				i++;
			} else {
				cp = 0xFFFD;
			}
		} else if (cp >= 0xD800 && cp <= 0xDFFF) {
			cp = 0xFFFD;
		}
		char u[4];
		size_t l = sk_utf8_put(cp, u);
		if (o + l >= outsz)
			break;
		memcpy(out + o, u, l);
		o += l;
	}
	out[o] = 0;
}

static int load_difat(sk_cfb *c, const uint8_t *h, sk_budget *b, sk_reason *why, sk_error *err)
{
	uint32_t nfat = le32(h + 0x2C), ndif = le32(h + 0x48), dif = le32(h + 0x44);
	uint32_t per = c->ssz / 4 - 1; /* entries of a DIFAT sector (the last is the link) */
	uint64_t cap;
	if (c->lenient) {
		/* no more FAT sectors than sectors */
		cap = 109 + (uint64_t)(ndif < c->nsect ? ndif : c->nsect) * per;
		if (cap > 109 && cap > c->nsect)
			cap = c->nsect > 109 ? c->nsect : 109;
	} else {
		if (nfat == 0 || nfat > c->nsect)
			return stop(why, err, SK_REASON_MALFORMED, "%u FAT sectors in a file of %llu",
				    nfat, (unsigned long long)c->nsect);
		cap = nfat;
	}
	c->difat = malloc(cap * sizeof(uint32_t));
	if (!c->difat)
		return SK_ENOMEM;
	uint32_t want = c->lenient ? (uint32_t)cap : nfat;
	for (uint32_t i = 0; i < 109 && c->ndifat < want; i++) {
		uint32_t v = le32(h + 0x4C + 4 * i);
		if (v > MAXREGSECT || v >= c->nsect) {
			if (!c->lenient)
				return stop(why, err, SK_REASON_MALFORMED, "FAT sector %u outside the file", v);
			v = NOSTREAM;
		}
		c->difat[c->ndifat++] = v;
	}
	if (c->ndifat < want && (c->lenient ? ndif > 0 : true)) {
		int rc = new_walk(&c->mark, &c->epoch, c->nsect);
		if (rc)
			return rc;
		uint32_t s = dif;
		for (uint32_t k = 0; c->ndifat < want; k++) {
			if (s > MAXREGSECT || s >= c->nsect || c->mark[s] == c->epoch ||
			    (c->lenient && k >= ndif)) {
				if (c->lenient)
					break;
				return stop(why, err, SK_REASON_MALFORMED, "DIFAT chain %s at sector %u",
					    s < c->nsect ? "loops" : "breaks", s);
			}
			c->mark[s] = c->epoch;
			rc = read_at(c, s, 0, c->sect, c->ssz, why, err);
			if (rc) {
				if (c->lenient && rc == SK_EBLOCKED)
					break;
				return rc;
			}
			for (uint32_t i = 0; i < per && c->ndifat < want; i++) {
				uint32_t v = le32(c->sect + 4 * i);
				if (v > MAXREGSECT || v >= c->nsect) {
					if (!c->lenient)
						return stop(why, err, SK_REASON_MALFORMED,
							    "FAT sector %u outside the file", v);
					v = NOSTREAM;
				}
				c->difat[c->ndifat++] = v;
			}
			s = le32(c->sect + 4 * per);
			if (b && sk_budget_time(b) != SK_REASON_NONE)
				return stop(why, err, SK_REASON_LIMIT_TIME, "time");
		}
	}
	return 0;
}

/* Parses the directory sectors in list into c->ent; each slot charged as an entry. */
static int load_directory(sk_cfb *c, const uint32_t *list, uint32_t nlist, sk_budget *b,
			  sk_reason *why, sk_error *err)
{
	uint32_t per = c->ssz / 128;
	uint64_t slots = (uint64_t)nlist * per;
	uint64_t cap = b ? b->max_entries - (b->entries < b->max_entries ? b->entries : b->max_entries)
			 : LENIENT_ENTRIES;
	if (slots > cap) {
		if (!c->lenient)
			return stop(why, err, SK_REASON_LIMIT_ENTRIES, "%llu directory entries",
				    (unsigned long long)slots);
		slots = cap - cap % per;
		nlist = (uint32_t)(slots / per);
	}
	c->ent = calloc(slots ? slots : 1, sizeof(*c->ent));
	c->start = calloc(slots ? slots : 1, sizeof(uint32_t));
	c->link = calloc(slots ? slots * 3 : 1, sizeof(uint32_t));
	if (!c->ent || !c->start || !c->link)
		return SK_ENOMEM;
	for (uint32_t k = 0; k < nlist; k++) {
		int rc = read_at(c, list[k], 0, c->sect, c->ssz, why, err);
		if (rc) {
			if (c->lenient && rc == SK_EBLOCKED)
				break;
			return rc;
		}
		for (uint32_t j = 0; j < per; j++) {
			const uint8_t *d = c->sect + 128 * j;
			uint32_t id = c->nent;
			sk_cfb_entry *e = &c->ent[id];
			if (b && sk_budget_entry(b) != SK_REASON_NONE)
				return stop(why, err, SK_REASON_LIMIT_ENTRIES, "directory entries");
			uint8_t type = d[0x42];
			uint16_t nl = le16(d + 0x40);
			bool ok_type = type == SK_CFB_EMPTY || type == SK_CFB_STORAGE ||
				       type == SK_CFB_STREAM || type == SK_CFB_ROOT;
			if (!c->lenient) {
				if (!ok_type)
					return stop(why, err, SK_REASON_MALFORMED, "entry %u: type %u", id, type);
				if (type != SK_CFB_EMPTY && (nl > 64 || nl % 2 || nl < 2))
					return stop(why, err, SK_REASON_MALFORMED, "entry %u: name length %u",
						    id, nl);
				if ((id == 0) != (type == SK_CFB_ROOT))
					return stop(why, err, SK_REASON_MALFORMED, "entry %u: root misplaced", id);
			}
			e->type = ok_type ? (sk_cfb_type)type : SK_CFB_EMPTY;
			e->parent = SK_CFB_NONE;
			if (e->type != SK_CFB_EMPTY)
				utf16_name(d, (nl > 64 ? 64 : nl) / 2, e->name, sizeof(e->name));
			memcpy(e->clsid, d + 0x50, 16);
			c->start[id] = le32(d + 0x74);
			c->link[3 * id] = le32(d + 0x44);
			c->link[3 * id + 1] = le32(d + 0x48);
			c->link[3 * id + 2] = le32(d + 0x4C);
			e->size = c->v3 ? le32(d + 0x78) : le64(d + 0x78);
			if (e->type == SK_CFB_EMPTY)
				e->size = 0;
			c->nent++;
		}
	}
	return 0;
}

/* The red-black trees from the root down, breadth first over the storages. */
static int walk_trees(sk_cfb *c, sk_reason *why, sk_error *err)
{
	uint32_t n = c->nent;
	int rc = 0;
	const uint32_t *link = c->link;
	uint32_t *stack = malloc(((size_t)n * 3 + 2) * sizeof(uint32_t));
	uint32_t *queue = malloc(((size_t)n + 1) * sizeof(uint32_t));
	uint32_t *last = malloc(((size_t)n + 1) * sizeof(uint32_t));
	uint8_t *seen = calloc(n ? n : 1, 1);
	c->first_child = malloc(((size_t)n + 1) * sizeof(uint32_t));
	c->next_sib = malloc(((size_t)n + 1) * sizeof(uint32_t));
	if (!stack || !queue || !last || !seen || !c->first_child || !c->next_sib) {
		rc = SK_ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < n; i++)
		c->first_child[i] = c->next_sib[i] = last[i] = SK_CFB_NONE;
	if (n && c->ent[0].size > c->in->size) {
		if (!c->lenient) {
			rc = stop(why, err, SK_REASON_MALFORMED, "mini stream larger than the file");
			goto out;
		}
		c->ent[0].size = 0;
	}
	if (n == 0 || c->ent[0].type != SK_CFB_ROOT) {
		if (!c->lenient)
			rc = stop(why, err, SK_REASON_MALFORMED, "no root entry");
		goto out;
	}
	size_t qh = 0, qt = 0;
	queue[qt++] = 0;
	seen[0] = 1;
	while (qh < qt) {
		uint32_t st = queue[qh++];
		size_t sp = 0;
		stack[sp++] = link[3 * st + 2];
		while (sp) {
			uint32_t id = stack[--sp];
			if (id == NOSTREAM)
				continue;
			const char *bad = id >= n ? "a link past the directory"
					  : seen[id] ? "an entry reached twice"
					  : c->ent[id].type == SK_CFB_EMPTY ? "a free entry in a tree"
					  : c->ent[id].type == SK_CFB_ROOT ? "the root in a tree" : NULL;
			if (bad) {
				if (c->lenient)
					continue;
				rc = stop(why, err, SK_REASON_MALFORMED, "directory tree: %s (%u)", bad, id);
				goto out;
			}
			if (c->ent[id].size > c->in->size) { /* a stream larger than the file */
				if (!c->lenient) {
					rc = stop(why, err, SK_REASON_MALFORMED,
						  "entry %u: %llu bytes in a file of %llu", id,
						  (unsigned long long)c->ent[id].size,
						  (unsigned long long)c->in->size);
					goto out;
				}
				c->ent[id].size = 0;
			}
			seen[id] = 1;
			c->ent[id].parent = st;
			if (last[st] == SK_CFB_NONE)
				c->first_child[st] = id;
			else
				c->next_sib[last[st]] = id;
			last[st] = id;
			if (c->ent[id].type == SK_CFB_STORAGE)
				queue[qt++] = id;
			/* each entry is seen once and pushes two: the stack holds at most 2n + 1 */
			stack[sp++] = link[3 * id + 1];
			stack[sp++] = link[3 * id];
		}
	}
out:
	free(stack);
	free(queue);
	free(last);
	free(seen);
	return rc;
}

int sk_cfb_open(sk_cfb **out, const sk_input *in, sk_budget *b, unsigned flags, sk_reason *why,
		sk_error *err)
{
	*out = NULL;
	*why = SK_REASON_NONE;
	bool lenient = flags & SK_CFB_LENIENT;
	if (!b && !lenient)
		return sk_error_set(err, SK_EINVAL, "cfb: a budget is needed");
	uint8_t h[512];
	size_t got = 0;
	int rc = sk_input_pread(in, 0, h, sizeof(h), &got, err);
	if (rc)
		return rc;
	if (got < sizeof(h) || memcmp(h, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) != 0)
		return stop(why, err, SK_REASON_MALFORMED, "not a compound file");
	uint16_t major = le16(h + 0x1A), shift = le16(h + 0x1E);
	if (shift != 9 && shift != 12)
		return stop(why, err, SK_REASON_MALFORMED, "sector shift %u", shift);
	if (!lenient && (le16(h + 0x1C) != 0xFFFE || le16(h + 0x20) != MINI_SHIFT ||
			 le32(h + 0x38) != MINI_CUTOFF || !((major == 3 && shift == 9) ||
							    (major == 4 && shift == 12))))
		return stop(why, err, SK_REASON_MALFORMED, "header (version %u, sector shift %u)", major,
			    shift);
	sk_cfb *c = calloc(1, sizeof(*c));
	if (!c)
		return SK_ENOMEM;
	c->in = in;
	c->lenient = lenient;
	c->ssz = 1u << shift;
	c->v3 = lenient ? shift == 9 : major == 3;
	c->nsect = in->size > c->ssz ? (in->size - c->ssz + c->ssz - 1) / c->ssz : 0;
	c->fat_idx = NOSTREAM;
	c->minifat_start = le32(h + 0x3C);
	c->minifat_count = le32(h + 0x40);
	c->sect = malloc(c->ssz);
	c->fat = malloc(c->ssz);
	uint32_t *list = NULL, nlist = 0;
	if (!c->sect || !c->fat) {
		rc = SK_ENOMEM;
		goto fail;
	}
	if (c->nsect == 0) {
		rc = stop(why, err, SK_REASON_MALFORMED, "no sectors");
		goto fail;
	}
	rc = load_difat(c, h, b, why, err);
	if (rc)
		goto fail;
	/* the directory: its first sector is read even when the FAT cannot be (lenient) */
	rc = load_chain(c, le32(h + 0x30), 1, c->nsect, b, &list, &nlist, why, err);
	if (rc)
		goto fail;
	rc = load_directory(c, list, nlist, b, why, err);
	if (rc)
		goto fail;
	rc = walk_trees(c, why, err);
	if (rc)
		goto fail;
	free(list);
	free(c->link);
	c->link = NULL;
	*out = c;
	return 0;
fail:
	free(list);
	sk_cfb_close(c);
	return rc;
}

void sk_cfb_close(sk_cfb *c)
{
	if (!c)
		return;
	free(c->difat);
	free(c->ent);
	free(c->start);
	free(c->link);
	free(c->first_child);
	free(c->next_sib);
	free(c->sect);
	free(c->fat);
	free(c->mark);
	free(c->minifat);
	free(c->ministream);
	free(c->minimark);
	free(c);
}

uint32_t sk_cfb_count(const sk_cfb *c)
{
	return c->nent;
}

const sk_cfb_entry *sk_cfb_entry_at(const sk_cfb *c, uint32_t id)
{
	return id < c->nent ? &c->ent[id] : NULL;
}

uint32_t sk_cfb_next_child(const sk_cfb *c, uint32_t storage, uint32_t *it)
{
	if (storage >= c->nent || !c->first_child)
		return SK_CFB_NONE;
	uint32_t id = *it == 0 ? c->first_child[storage]
		      : *it - 1 < c->nent ? c->next_sib[*it - 1] : SK_CFB_NONE;
	*it = id == SK_CFB_NONE ? UINT32_MAX : id + 1;
	return id;
}

uint32_t sk_cfb_find(const sk_cfb *c, uint32_t storage, const char *name)
{
	uint32_t it = 0, id;
	while ((id = sk_cfb_next_child(c, storage, &it)) != SK_CFB_NONE)
		if (!strcasecmp(c->ent[id].name, name))
			return id;
	return SK_CFB_NONE;
}

/* ---- reading ---------------------------------------------------------------------------- */

/* The mini FAT and the sectors of the mini stream, once (a failure leaves nothing
 * loaded: the next read tries again and fails the same way). */
static int load_mini(sk_cfb *c, sk_budget *b, sk_reason *why, sk_error *err)
{
	if (c->mini_loaded)
		return 0;
	uint32_t *fl = NULL, nf = 0, *mf = NULL, nmf = 0, *ms = NULL, nms = 0;
	int rc = 0;
	if (c->minifat_count)
		rc = load_chain(c, c->minifat_start, c->minifat_count, c->minifat_count, b, &fl, &nf, why,
				err);
	uint32_t per = c->ssz / 4;
	if (rc == 0) {
		mf = malloc(((size_t)nf * per + 1) * sizeof(uint32_t));
		if (!mf)
			rc = SK_ENOMEM;
	}
	for (uint32_t k = 0; k < nf && rc == 0; k++) {
		rc = read_at(c, fl[k], 0, c->sect, c->ssz, why, err);
		for (uint32_t i = 0; i < per && rc == 0; i++)
			mf[nmf++] = le32(c->sect + 4 * i);
	}
	free(fl);
	uint64_t need = (c->ent[0].size + c->ssz - 1) / c->ssz;
	if (rc == 0 && need)
		rc = load_chain(c, c->start[0], need, need, b, &ms, &nms, why, err);
	if (rc) {
		free(mf);
		return rc;
	}
	c->minifat = mf;
	c->nminifat = nmf;
	c->ministream = ms;
	c->nministream = nms;
	c->mini_loaded = true;
	return 0;
}

static int read_mini(sk_cfb *c, uint32_t id, uint64_t size, sk_budget *b, sk_buf *out,
		     sk_reason *why, sk_error *err)
{
	int rc = load_mini(c, b, why, err);
	if (rc)
		return rc;
	uint64_t rsz = c->ent[0].size;
	uint64_t nmini = (rsz + MINI_SIZE - 1) / MINI_SIZE; /* mini sectors of the mini stream */
	if (nmini > c->nminifat)
		nmini = c->nminifat;
	rc = new_walk(&c->minimark, &c->miniepoch, c->nminifat);
	if (rc)
		return rc;
	uint32_t s = c->start[id];
	uint8_t piece[MINI_SIZE];
	for (uint64_t done = 0; done < size;) {
		if (s >= nmini)
			return stop(why, err, SK_REASON_MALFORMED, "mini chain %s at %u",
				    s == ENDOFCHAIN ? "ends early (truncated)" : "leaves the mini stream", s);
		if (c->minimark[s] == c->miniepoch)
			return stop(why, err, SK_REASON_MALFORMED, "mini chain loops at %u", s);
		c->minimark[s] = c->miniepoch;
		uint64_t off = (uint64_t)s * MINI_SIZE;
		uint32_t k = (uint32_t)(off / c->ssz);
		if (k >= c->nministream)
			return stop(why, err, SK_REASON_MALFORMED, "mini sector %u outside the mini stream", s);
		size_t n = size - done < MINI_SIZE ? (size_t)(size - done) : MINI_SIZE;
		if (off + n > rsz)
			return stop(why, err, SK_REASON_MALFORMED, "mini sector %u past the mini stream", s);
		rc = read_at(c, c->ministream[k], (uint32_t)(off % c->ssz), piece, n, why, err);
		if (rc)
			return rc;
		rc = sk_buf_add(out, piece, n);
		if (rc)
			return rc;
		done += n;
		s = c->minifat[s];
	}
	return 0;
}

int sk_cfb_read(sk_cfb *c, uint32_t id, sk_budget *b, uint64_t max, sk_buf *out, sk_reason *why,
		sk_error *err)
{
	*why = SK_REASON_NONE;
	if (id >= c->nent || c->ent[id].type != SK_CFB_STREAM)
		return sk_error_set(err, SK_EINVAL, "cfb: entry %u is not a stream", id);
	uint64_t size = c->ent[id].size;
	if (size > c->in->size)
		return stop(why, err, SK_REASON_MALFORMED, "stream of %llu bytes in a file of %llu",
			    (unsigned long long)size, (unsigned long long)c->in->size);
	if (size > max)
		return stop(why, err, SK_REASON_LIMIT_SIZE, "stream of %llu bytes",
			    (unsigned long long)size);
	if (b) {
		sk_reason r = sk_budget_time(b);
		if (r == SK_REASON_NONE)
			r = sk_budget_expand(b, size);
		if (r != SK_REASON_NONE)
			return stop(why, err, r, "stream %s", c->ent[id].name);
	}
	if (size == 0)
		return 0;
	size_t mark = sk_buf_len(out);
	int rc;
	if (size < MINI_CUTOFF) {
		rc = read_mini(c, id, size, b, out, why, err);
	} else {
		uint32_t *list = NULL, n = 0;
		uint64_t need = (size + c->ssz - 1) / c->ssz;
		rc = load_chain(c, c->start[id], need, need, b, &list, &n, why, err);
		for (uint32_t k = 0; k < n && rc == 0; k++) {
			uint64_t left = size - (uint64_t)k * c->ssz;
			size_t len = left < c->ssz ? (size_t)left : c->ssz;
			rc = read_at(c, list[k], 0, c->sect, len, why, err);
			if (rc == 0)
				rc = sk_buf_add(out, c->sect, len);
		}
		free(list);
	}
	if (rc)
		sk_buf_truncate(out, mark);
	return rc;
}
