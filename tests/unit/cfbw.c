/* The tests' compound file writer. See cfbw.h. */
#include "cfbw.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NOSTREAM 0xFFFFFFFFu
#define ENDOFCHAIN 0xFFFFFFFEu
#define FATSECT 0xFFFFFFFDu
#define DIFSECT 0xFFFFFFFCu

typedef struct went {
	uint16_t name[32];
	size_t nlen;          /* UTF-16 units, without the NUL */
	uint8_t type;         /* 1 storage, 2 stream, 5 root */
	uint32_t parent;
	uint8_t *data;
	size_t len;
	uint32_t start, left, right, child;
} went;

struct cfbw {
	unsigned shift;
	uint32_t ssz;
	went *e;
	uint32_t n, cap, pad;
	/* layout */
	uint32_t fat0, nfat, dir0, minifat0, nminifat, nsect;
	uint32_t *fat;     /* the whole FAT as written */
	uint32_t *minifat;
	uint32_t nmini;
};

void cfbw_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void cfbw_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t add_entry(cfbw *w)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 16;
		w->e = realloc(w->e, w->cap * sizeof(went));
	}
	went *x = &w->e[w->n];
	memset(x, 0, sizeof(*x));
	x->left = x->right = x->child = NOSTREAM;
	return w->n++;
}

cfbw *cfbw_new(unsigned shift)
{
	cfbw *w = calloc(1, sizeof(*w));
	w->shift = shift;
	w->ssz = 1u << shift;
	uint32_t r = add_entry(w);
	static const char root[] = "Root Entry";
	for (size_t i = 0; root[i]; i++)
		w->e[r].name[i] = (uint16_t)root[i];
	w->e[r].nlen = strlen(root);
	w->e[r].type = 5;
	w->e[r].parent = NOSTREAM;
	return w;
}

void cfbw_free(cfbw *w)
{
	for (uint32_t i = 0; i < w->n; i++)
		free(w->e[i].data);
	free(w->e);
	free(w->fat);
	free(w->minifat);
	free(w);
}

uint32_t cfbw_add16(cfbw *w, uint32_t parent, const uint16_t *name, size_t n, const void *data,
		    size_t len)
{
	uint32_t id = add_entry(w);
	went *x = &w->e[id];
	x->nlen = n > 31 ? 31 : n;
	memcpy(x->name, name, x->nlen * 2);
	x->type = data ? 2 : 1;
	x->parent = parent;
	if (data) {
		x->data = malloc(len ? len : 1);
		memcpy(x->data, data, len);
		x->len = len;
	}
	return id;
}

uint32_t cfbw_add(cfbw *w, uint32_t parent, const char *name, const void *data, size_t len)
{
	uint16_t u[32];
	size_t n = strlen(name);
	for (size_t i = 0; i < n && i < 31; i++)
		u[i] = (uint8_t)name[i];
	return cfbw_add16(w, parent, u, n, data, len);
}

void cfbw_pad_entries(cfbw *w, uint32_t n)
{
	w->pad = n;
}

static int cfb_cmp(const went *a, const went *b)
{
	if (a->nlen != b->nlen)
		return a->nlen < b->nlen ? -1 : 1;
	for (size_t i = 0; i < a->nlen; i++) {
		uint16_t x = a->name[i], y = b->name[i];
		if (x >= 'a' && x <= 'z')
			x -= 32;
		if (y >= 'a' && y <= 'z')
			y -= 32;
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

static uint32_t balanced(cfbw *w, uint32_t *ids, size_t n)
{
	if (n == 0)
		return NOSTREAM;
	size_t m = n / 2;
	uint32_t id = ids[m];
	w->e[id].left = balanced(w, ids, m);
	w->e[id].right = balanced(w, ids + m + 1, n - m - 1);
	return id;
}

static void make_trees(cfbw *w)
{
	uint32_t *ids = malloc(w->n * sizeof(uint32_t));
	for (uint32_t s = 0; s < w->n; s++) {
		if (w->e[s].type == 2)
			continue;
		size_t k = 0;
		for (uint32_t i = 1; i < w->n; i++)
			if (w->e[i].parent == s)
				ids[k++] = i;
		/* insertion sort by the CFB order */
		for (size_t i = 1; i < k; i++)
			for (size_t j = i; j > 0 && cfb_cmp(&w->e[ids[j - 1]], &w->e[ids[j]]) > 0; j--) {
				uint32_t t = ids[j];
				ids[j] = ids[j - 1];
				ids[j - 1] = t;
			}
		w->e[s].child = balanced(w, ids, k);
	}
	free(ids);
}

static uint32_t ceil_div(uint64_t a, uint64_t b)
{
	return (uint32_t)((a + b - 1) / b);
}

void cfbw_build(cfbw *w, uint8_t **out, size_t *outn)
{
	make_trees(w);
	uint32_t ssz = w->ssz, per = ssz / 4;
	/* sectors: big streams, mini stream, mini FAT, directory, FAT, DIFAT */
	uint32_t s = 0, nmini = 0;
	for (uint32_t i = 1; i < w->n; i++) {
		went *x = &w->e[i];
		if (x->type != 2)
			continue;
		if (x->len >= 4096) {
			x->start = s;
			s += ceil_div(x->len, ssz);
		} else if (x->len) {
			x->start = nmini;
			nmini += ceil_div(x->len, 64);
		} else {
			x->start = ENDOFCHAIN;
		}
	}
	w->nmini = nmini;
	uint32_t ms0 = s, nms = ceil_div((uint64_t)nmini * 64, ssz);
	s += nms;
	w->minifat0 = s;
	w->nminifat = ceil_div((uint64_t)nmini * 4, ssz);
	s += w->nminifat;
	w->dir0 = s;
	uint32_t ndir = ceil_div((uint64_t)(w->n + w->pad) * 128, ssz);
	s += ndir;
	uint32_t nfat = 1, ndif = 0;
	for (;;) {
		ndif = nfat > 109 ? ceil_div(nfat - 109, per - 1) : 0;
		if ((uint64_t)s + nfat + ndif <= (uint64_t)nfat * per)
			break;
		nfat++;
	}
	w->fat0 = s;
	w->nfat = nfat;
	uint32_t dif0 = s + nfat;
	w->nsect = s + nfat + ndif;
	free(w->fat);
	w->fat = malloc((size_t)nfat * per * sizeof(uint32_t));
	for (uint32_t i = 0; i < nfat * per; i++)
		w->fat[i] = NOSTREAM;
#define CHAIN(first, count)                                                       \
	for (uint32_t k_ = 0; k_ < (count); k_++)                                 \
		w->fat[(first) + k_] = k_ + 1 < (count) ? (first) + k_ + 1 : ENDOFCHAIN;
	for (uint32_t i = 1; i < w->n; i++)
		if (w->e[i].type == 2 && w->e[i].len >= 4096)
			CHAIN(w->e[i].start, ceil_div(w->e[i].len, ssz));
	CHAIN(ms0, nms);
	CHAIN(w->minifat0, w->nminifat);
	CHAIN(w->dir0, ndir);
#undef CHAIN
	for (uint32_t i = 0; i < nfat; i++)
		w->fat[w->fat0 + i] = FATSECT;
	for (uint32_t i = 0; i < ndif; i++)
		w->fat[dif0 + i] = DIFSECT;
	free(w->minifat);
	w->minifat = malloc(((size_t)w->nminifat * per + 1) * sizeof(uint32_t));
	for (uint32_t i = 0; i < w->nminifat * per; i++)
		w->minifat[i] = NOSTREAM;
	for (uint32_t i = 1; i < w->n; i++) {
		went *x = &w->e[i];
		if (x->type == 2 && x->len && x->len < 4096) {
			uint32_t c = ceil_div(x->len, 64);
			for (uint32_t k = 0; k < c; k++)
				w->minifat[x->start + k] = k + 1 < c ? x->start + k + 1 : ENDOFCHAIN;
		}
	}
	size_t n = ((size_t)w->nsect + 1) * ssz;
	uint8_t *f = calloc(1, n);
	/* header */
	memcpy(f, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
	cfbw_put16(f + 0x18, 0x3E);
	cfbw_put16(f + 0x1A, w->shift == 9 ? 3 : 4);
	cfbw_put16(f + 0x1C, 0xFFFE);
	cfbw_put16(f + 0x1E, (uint16_t)w->shift);
	cfbw_put16(f + 0x20, 6);
	cfbw_put32(f + 0x28, w->shift == 9 ? 0 : ndir);
	cfbw_put32(f + 0x2C, nfat);
	cfbw_put32(f + 0x30, w->dir0);
	cfbw_put32(f + 0x38, 4096);
	cfbw_put32(f + 0x3C, w->nminifat ? w->minifat0 : ENDOFCHAIN);
	cfbw_put32(f + 0x40, w->nminifat);
	cfbw_put32(f + 0x44, ndif ? dif0 : ENDOFCHAIN);
	cfbw_put32(f + 0x48, ndif);
	for (uint32_t i = 0; i < 109; i++)
		cfbw_put32(f + 0x4C + 4 * i, i < nfat ? w->fat0 + i : NOSTREAM);
	/* DIFAT sectors: the FAT sectors past 109, chained */
	for (uint32_t d = 0; d < ndif; d++) {
		uint8_t *p = f + ((size_t)dif0 + d + 1) * ssz;
		for (uint32_t i = 0; i < per - 1; i++) {
			uint32_t k = 109 + d * (per - 1) + i;
			cfbw_put32(p + 4 * i, k < nfat ? w->fat0 + k : NOSTREAM);
		}
		cfbw_put32(p + 4 * (per - 1), d + 1 < ndif ? dif0 + d + 1 : ENDOFCHAIN);
	}
	/* FAT, mini FAT */
	for (uint32_t i = 0; i < nfat * per; i++)
		cfbw_put32(f + ((size_t)w->fat0 + 1) * ssz + 4 * i, w->fat[i]);
	for (uint32_t i = 0; i < w->nminifat * per; i++)
		cfbw_put32(f + ((size_t)w->minifat0 + 1) * ssz + 4 * i, w->minifat[i]);
	/* data */
	for (uint32_t i = 1; i < w->n; i++) {
		went *x = &w->e[i];
		if (x->type != 2 || !x->len)
			continue;
		if (x->len >= 4096)
			memcpy(f + ((size_t)x->start + 1) * ssz, x->data, x->len);
		else
			memcpy(f + ((size_t)ms0 + 1) * ssz + (size_t)x->start * 64, x->data, x->len);
	}
	/* directory */
	w->e[0].start = nms ? ms0 : ENDOFCHAIN;
	for (uint32_t i = 0; i < w->n + w->pad; i++) {
		uint8_t *d = f + ((size_t)w->dir0 + 1) * ssz + (size_t)i * 128;
		cfbw_put32(d + 0x44, NOSTREAM);
		cfbw_put32(d + 0x48, NOSTREAM);
		cfbw_put32(d + 0x4C, NOSTREAM);
		if (i >= w->n)
			continue;
		went *x = &w->e[i];
		for (size_t k = 0; k < x->nlen; k++)
			cfbw_put16(d + 2 * k, x->name[k]);
		cfbw_put16(d + 0x40, (uint16_t)((x->nlen + 1) * 2));
		d[0x42] = x->type;
		d[0x43] = 1;
		cfbw_put32(d + 0x44, x->left);
		cfbw_put32(d + 0x48, x->right);
		cfbw_put32(d + 0x4C, x->child);
		cfbw_put32(d + 0x74, x->type == 1 ? 0 : x->start);
		cfbw_put32(d + 0x78, (uint32_t)(i == 0 ? (uint64_t)nmini * 64 : x->len));
	}
	*out = f;
	*outn = n;
}

uint32_t cfbw_ssz(const cfbw *w)
{
	return w->ssz;
}

uint32_t cfbw_start(const cfbw *w, uint32_t id)
{
	return w->e[id].start;
}

uint32_t cfbw_dir_sector(const cfbw *w)
{
	return w->dir0;
}

uint32_t cfbw_minifat_sector(const cfbw *w)
{
	return w->minifat0;
}

void cfbw_fat_set(const cfbw *w, uint8_t *f, uint32_t s, uint32_t v)
{
	cfbw_put32(f + ((size_t)w->fat0 + 1) * w->ssz + 4 * (size_t)s, v);
}

void cfbw_minifat_set(const cfbw *w, uint8_t *f, uint32_t s, uint32_t v)
{
	cfbw_put32(f + ((size_t)w->minifat0 + 1) * w->ssz + 4 * (size_t)s, v);
}

uint8_t *cfbw_dirent(const cfbw *w, uint8_t *f, uint32_t id)
{
	return f + ((size_t)w->dir0 + 1) * w->ssz + (size_t)id * 128;
}
