/* The compound file reader (sekisho/cfb.h) on files the tests write (cfbw.c) and then
 * break: every limit, every chain with a loop, truncation, the header checks, strict
 * against lenient. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfbw.h"
#include "sekisho/cfb.h"
#include "testutil.h"

#define ENDOFCHAIN 0xFFFFFFFEu

static uint8_t *pattern(size_t n, unsigned seed)
{
	uint8_t *p = malloc(n ? n : 1);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed + (i >> 9));
	return p;
}

typedef struct built {
	cfbw *w;
	uint8_t *f;
	size_t n;
	uint32_t small, big, empty, sub, nested_big, nested_small;
	uint8_t *small_d, *big_d, *nb_d, *ns_d;
} built;

/* root: "small" (100 bytes), "BigStream" (10000), "empty", storage "sub" with "x" (5000)
 * and "y" (700) */
static void build(built *b, unsigned shift)
{
	memset(b, 0, sizeof(*b));
	b->w = cfbw_new(shift);
	b->small_d = pattern(100, 1);
	b->big_d = pattern(10000, 2);
	b->nb_d = pattern(5000, 3);
	b->ns_d = pattern(700, 4);
	b->small = cfbw_add(b->w, 0, "small", b->small_d, 100);
	b->big = cfbw_add(b->w, 0, "BigStream", b->big_d, 10000);
	b->empty = cfbw_add(b->w, 0, "empty", "", 0);
	b->sub = cfbw_add(b->w, 0, "sub", NULL, 0);
	b->nested_big = cfbw_add(b->w, b->sub, "x", b->nb_d, 5000);
	b->nested_small = cfbw_add(b->w, b->sub, "y", b->ns_d, 700);
	cfbw_build(b->w, &b->f, &b->n);
}

static void unbuild(built *b)
{
	cfbw_free(b->w);
	free(b->f);
	free(b->small_d);
	free(b->big_d);
	free(b->nb_d);
	free(b->ns_d);
}

/* opens f[0..n) strictly under a default budget: the result code, *why */
static int try_open(const uint8_t *f, size_t n, sk_budget *bud, unsigned flags, sk_cfb **c,
		    sk_reason *why)
{
	static sk_input in; /* outlives c within one test */
	sk_input_mem(&in, f, n);
	sk_error err;
	sk_error_clear(&err);
	int rc = sk_cfb_open(c, &in, bud, flags, why, &err);
	if (rc)
		printf("# open: %s\n", err.msg);
	return rc;
}

static int read_named(sk_cfb *c, uint32_t storage, const char *name, sk_budget *bud, sk_buf *out,
		      sk_reason *why)
{
	uint32_t id = sk_cfb_find(c, storage, name);
	assert_int_not_equal(id, SK_CFB_NONE);
	sk_error err;
	sk_error_clear(&err);
	int rc = sk_cfb_read(c, id, bud, UINT64_MAX, out, why, &err);
	if (rc)
		printf("# read %s: %s\n", name, err.msg);
	return rc;
}

static void check_all(sk_cfb *c, built *b, sk_budget *bud)
{
	sk_buf o;
	sk_buf_init(&o, 0);
	sk_reason why;
	struct {
		uint32_t st;
		const char *name;
		const uint8_t *d;
		size_t n;
	} v[] = {{0, "small", b->small_d, 100},       {0, "BIGSTREAM", b->big_d, 10000},
		 {0, "empty", NULL, 0},                {b->sub, "x", b->nb_d, 5000},
		 {b->sub, "Y", b->ns_d, 700}};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sk_buf_reset(&o);
		assert_int_equal(read_named(c, v[i].st, v[i].name, bud, &o, &why), 0);
		assert_int_equal(sk_buf_len(&o), v[i].n);
		if (v[i].n)
			assert_memory_equal(sk_buf_data(&o), v[i].d, v[i].n);
	}
	sk_buf_free(&o);
}

static void read_back(void **state)
{
	(void)state;
	for (unsigned shift = 9; shift <= 12; shift += 3) {
		built b;
		build(&b, shift);
		sk_budget bud;
		tu_budget(&bud, false);
		sk_cfb *c;
		sk_reason why;
		assert_int_equal(try_open(b.f, b.n, &bud, 0, &c, &why), 0);
		assert_true(sk_cfb_count(c) >= 7);
		const sk_cfb_entry *r = sk_cfb_entry_at(c, 0);
		assert_int_equal(r->type, SK_CFB_ROOT);
		assert_string_equal(r->name, "Root Entry");
		assert_null(sk_cfb_entry_at(c, sk_cfb_count(c)));
		/* the root's children: small, BigStream, empty, sub; sub's: x, y */
		uint32_t it = 0, id, k = 0;
		while ((id = sk_cfb_next_child(c, 0, &it)) != SK_CFB_NONE) {
			assert_int_equal(sk_cfb_entry_at(c, id)->parent, 0);
			k++;
		}
		assert_int_equal(k, 4);
		it = 0;
		k = 0;
		while ((id = sk_cfb_next_child(c, b.sub, &it)) != SK_CFB_NONE)
			k++;
		assert_int_equal(k, 2);
		assert_int_equal(sk_cfb_entry_at(c, b.sub)->type, SK_CFB_STORAGE);
		assert_int_equal(sk_cfb_find(c, 0, "x"), SK_CFB_NONE); /* only in sub */
		assert_int_equal(sk_cfb_find(c, b.sub, "x"), b.nested_big);
		check_all(c, &b, &bud);
		/* every byte read is charged */
		assert_int_equal(bud.expanded, 100 + 10000 + 5000 + 700);
		/* the entries are charged too */
		assert_true(bud.entries >= 7);
		/* a storage is not read */
		sk_buf o;
		sk_buf_init(&o, 0);
		sk_error err;
		assert_int_equal(sk_cfb_read(c, b.sub, &bud, UINT64_MAX, &o, &why, &err), SK_EINVAL);
		sk_buf_free(&o);
		sk_cfb_close(c);
		/* the same through a file descriptor (pread) */
		char path[] = "/tmp/sk-cfb-XXXXXX";
		int fd = mkstemp(path);
		assert_true(fd >= 0);
		unlink(path);
		assert_int_equal(write(fd, b.f, b.n), (ssize_t)b.n);
		sk_input in;
		sk_input_fd(&in, fd, b.n);
		tu_budget(&bud, false);
		assert_int_equal(sk_cfb_open(&c, &in, &bud, 0, &why, &err), 0);
		check_all(c, &b, &bud);
		sk_cfb_close(c);
		close(fd);
		unbuild(&b);
	}
}

static void utf16_names(void **state)
{
	(void)state;
	cfbw *w = cfbw_new(9);
	/* 日本語 + U+1F600 as a pair + a lone high surrogate */
	static const uint16_t n1[] = {0x65E5, 0x672C, 0x8A9E, 0xD83D, 0xDE00, 0xD800, 'a'};
	cfbw_add16(w, 0, n1, 7, "x", 1);
	uint8_t *f;
	size_t n;
	cfbw_build(w, &f, &n);
	sk_budget bud;
	tu_budget(&bud, false);
	sk_cfb *c;
	sk_reason why;
	assert_int_equal(try_open(f, n, &bud, 0, &c, &why), 0);
	assert_string_equal(sk_cfb_entry_at(c, 1)->name, "日本語\xF0\x9F\x98\x80\xEF\xBF\xBD" "a");
	sk_cfb_close(c);
	free(f);
	cfbw_free(w);
}

/* limit-entries: the directory's entries are charged; lenient stops at its own cap */
static void limit_entries(void **state)
{
	(void)state;
	built b;
	build(&b, 9);
	sk_budget bud;
	tu_budget(&bud, false);
	bud.max_entries = 4; /* the directory has 8 slots */
	sk_cfb *c;
	sk_reason why;
	assert_int_equal(try_open(b.f, b.n, &bud, 0, &c, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_LIMIT_ENTRIES);
	/* the entries already used by the item count */
	tu_budget(&bud, false);
	bud.entries = bud.max_entries - 2;
	assert_int_equal(try_open(b.f, b.n, &bud, 0, &c, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_LIMIT_ENTRIES);
	unbuild(&b);
	/* 5000 free entries: strict under a budget of 4096 blocks, lenient (detection, no
	 * budget) reads 4096 and goes on */
	cfbw *w = cfbw_new(9);
	cfbw_add(w, 0, "WordDocument", "x", 1);
	cfbw_pad_entries(w, 5000);
	uint8_t *f;
	size_t n;
	cfbw_build(w, &f, &n);
	tu_budget(&bud, false);
	bud.max_entries = 4096;
	assert_int_equal(try_open(f, n, &bud, 0, &c, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_LIMIT_ENTRIES);
	assert_int_equal(try_open(f, n, NULL, SK_CFB_LENIENT, &c, &why), 0);
	assert_int_equal(sk_cfb_count(c), 4096);
	assert_int_not_equal(sk_cfb_find(c, 0, "WordDocument"), SK_CFB_NONE);
	sk_cfb_close(c);
	/* no budget without SK_CFB_LENIENT */
	assert_int_equal(try_open(f, n, NULL, 0, &c, &why), SK_EINVAL);
	free(f);
	cfbw_free(w);
}

/* limit-size: the expansion budget, and the caller's maximum */
static void limit_size(void **state)
{
	(void)state;
	built b;
	build(&b, 9);
	sk_budget bud;
	tu_budget(&bud, false);
	sk_cfb *c;
	sk_reason why;
	assert_int_equal(try_open(b.f, b.n, &bud, 0, &c, &why), 0);
	bud.max_expanded = 10099;
	sk_buf o;
	sk_buf_init(&o, 0);
	assert_int_equal(read_named(c, 0, "small", &bud, &o, &why), 0);
	assert_int_equal(read_named(c, 0, "BigStream", &bud, &o, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_LIMIT_SIZE);
	assert_int_equal(sk_buf_len(&o), 100); /* nothing of the refused stream */
	sk_error err;
	assert_int_equal(sk_cfb_read(c, b.small, &bud, 99, &o, &why, &err), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_LIMIT_SIZE);
	/* out's own maximum */
	sk_buf tiny;
	sk_buf_init(&tiny, 50);
	tu_budget(&bud, false);
	assert_int_equal(sk_cfb_read(c, b.small, &bud, UINT64_MAX, &tiny, &why, &err), SK_ELIMIT);
	assert_int_equal(sk_buf_len(&tiny), 0);
	sk_buf_free(&tiny);
	sk_buf_free(&o);
	sk_cfb_close(c);
	unbuild(&b);
}

static void limit_time(void **state)
{
	(void)state;
	built b;
	build(&b, 9);
	sk_budget bud;
	tu_budget(&bud, false);
	sk_cfb *c;
	sk_reason why;
	assert_int_equal(try_open(b.f, b.n, &bud, 0, &c, &why), 0);
	tu_budget(&bud, true);
	sk_buf o;
	sk_buf_init(&o, 0);
	assert_int_equal(read_named(c, 0, "small", &bud, &o, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_LIMIT_TIME);
	sk_buf_free(&o);
	sk_cfb_close(c);
	unbuild(&b);
}

/* Loops in each kind of chain, and chains that leave the file or end early. */
static void chains(void **state)
{
	(void)state;
	sk_budget bud;
	sk_cfb *c;
	sk_reason why;
	sk_buf o;
	sk_buf_init(&o, 0);
	built b;
	/* a stream's FAT chain back to its start */
	build(&b, 9);
	uint32_t s = cfbw_start(b.w, b.big);
	cfbw_fat_set(b.w, b.f, s + 2, s);
	tu_budget(&bud, false);
	assert_int_equal(try_open(b.f, b.n, &bud, 0, &c, &why), 0);
	assert_int_equal(read_named(c, 0, "BigStream", &bud, &o, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_MALFORMED);
	/* the other streams are still whole */
	sk_buf_reset(&o);
	assert_int_equal(read_named(c, b.sub, "x", &bud, &o, &why), 0);
	sk_cfb_close(c);
	/* ends early: the chain is shorter than the size (a truncated file) */
	cfbw_fat_set(b.w, b.f, s + 2, ENDOFCHAIN);
	tu_budget(&bud, false);
	assert_int_equal(try_open(b.f, b.n, &bud, 0, &c, &why), 0);
	assert_int_equal(read_named(c, 0, "BigStream", &bud, &o, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_MALFORMED);
	sk_cfb_close(c);
	/* leaves the file */
	cfbw_fat_set(b.w, b.f, s + 2, 100000);
	tu_budget(&bud, false);
	assert_int_equal(try_open(b.f, b.n, &bud, 0, &c, &why), 0);
	assert_int_equal(read_named(c, 0, "BigStream", &bud, &o, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_MALFORMED);
	sk_cfb_close(c);
	unbuild(&b);
	/* a mini chain loop (y: 11 mini sectors) */
	build(&b, 9);
	s = cfbw_start(b.w, b.nested_small);
	cfbw_minifat_set(b.w, b.f, s + 3, s + 1);
	tu_budget(&bud, false);
	assert_int_equal(try_open(b.f, b.n, &bud, 0, &c, &why), 0);
	assert_int_equal(read_named(c, b.sub, "y", &bud, &o, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_MALFORMED);
	/* a mini chain that points past the mini stream */
	cfbw_minifat_set(b.w, b.f, s + 3, 5000);
	sk_cfb_close(c);
	tu_budget(&bud, false);
	assert_int_equal(try_open(b.f, b.n, &bud, 0, &c, &why), 0);
	assert_int_equal(read_named(c, b.sub, "y", &bud, &o, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_MALFORMED);
	sk_cfb_close(c);
	unbuild(&b);
	/* the mini stream's own chain broken: every small stream fails, each time alike (a
	 * failed load leaves nothing half-loaded: found by fuzz_cfb) */
	build(&b, 9);
	uint8_t *root = cfbw_dirent(b.w, b.f, 0);
	cfbw_put32(root + 0x74, 100000);
	tu_budget(&bud, false);
	assert_int_equal(try_open(b.f, b.n, &bud, 0, &c, &why), 0);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(read_named(c, 0, "small", &bud, &o, &why), SK_EBLOCKED);
		assert_int_equal(why, SK_REASON_MALFORMED);
		assert_int_equal(read_named(c, b.sub, "y", &bud, &o, &why), SK_EBLOCKED);
	}
	sk_buf_reset(&o);
	assert_int_equal(read_named(c, 0, "BigStream", &bud, &o, &why), 0); /* not in it */
	sk_cfb_close(c);
	unbuild(&b);
	/* the directory's chain loops (3 directory sectors with padding) */
	cfbw *w = cfbw_new(9);
	cfbw_add(w, 0, "a", "1", 1);
	cfbw_pad_entries(w, 8);
	uint8_t *f;
	size_t n;
	cfbw_build(w, &f, &n);
	uint32_t d = cfbw_dir_sector(w);
	cfbw_fat_set(w, f, d + 1, d);
	tu_budget(&bud, false);
	assert_int_equal(try_open(f, n, &bud, 0, &c, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_MALFORMED);
	/* lenient keeps what it read before the loop */
	assert_int_equal(try_open(f, n, NULL, SK_CFB_LENIENT, &c, &why), 0);
	assert_int_not_equal(sk_cfb_find(c, 0, "a"), SK_CFB_NONE);
	sk_cfb_close(c);
	free(f);
	cfbw_free(w);
	sk_buf_free(&o);
}

/* A DIFAT chain that loops: 300 FAT sectors counted, the DIFAT sector links to itself. */
static void difat_loop(void **state)
{
	(void)state;
	size_t nsect = 400, n = (nsect + 1) * 512;
	uint8_t *f = calloc(1, n);
	memcpy(f, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
	cfbw_put16(f + 0x1A, 3);
	cfbw_put16(f + 0x1C, 0xFFFE);
	cfbw_put16(f + 0x1E, 9);
	cfbw_put16(f + 0x20, 6);
	cfbw_put32(f + 0x2C, 300);
	cfbw_put32(f + 0x30, 390);
	cfbw_put32(f + 0x38, 4096);
	cfbw_put32(f + 0x44, 399);
	cfbw_put32(f + 0x48, 2);
	for (uint32_t i = 0; i < 109; i++)
		cfbw_put32(f + 0x4C + 4 * i, i);
	uint8_t *ds = f + 400 * 512;
	for (uint32_t i = 0; i < 127; i++)
		cfbw_put32(ds + 4 * i, 109 + i);
	cfbw_put32(ds + 4 * 127, 399);
	sk_budget bud;
	tu_budget(&bud, false);
	sk_cfb *c;
	sk_reason why;
	assert_int_equal(try_open(f, n, &bud, 0, &c, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_MALFORMED);
	/* more FAT sectors than the file has: refused before anything is read */
	cfbw_put32(f + 0x2C, 1000);
	assert_int_equal(try_open(f, n, &bud, 0, &c, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_MALFORMED);
	free(f);
}

/* A real DIFAT: a file of more than 109 FAT sectors (a 7.5 MB stream), read back. */
static void difat_real(void **state)
{
	(void)state;
	size_t big = 7500000;
	uint8_t *d = pattern(big, 9);
	cfbw *w = cfbw_new(9);
	uint32_t id = cfbw_add(w, 0, "big", d, big);
	uint8_t *f;
	size_t n;
	cfbw_build(w, &f, &n);
	assert_true(f[0x48] > 0); /* DIFAT sectors were needed */
	sk_budget bud;
	tu_budget(&bud, false);
	sk_cfb *c;
	sk_reason why;
	assert_int_equal(try_open(f, n, &bud, 0, &c, &why), 0);
	sk_buf o;
	sk_buf_init(&o, 0);
	sk_error err;
	assert_int_equal(sk_cfb_read(c, id, &bud, UINT64_MAX, &o, &why, &err), 0);
	assert_int_equal(sk_buf_len(&o), big);
	assert_memory_equal(sk_buf_data(&o), d, big);
	sk_buf_free(&o);
	sk_cfb_close(c);
	free(f);
	free(d);
	cfbw_free(w);
}

/* The red-black trees: an entry reached twice, a link past the directory, a free entry
 * in a tree, the root inside a tree; strict refuses, lenient skips the link. */
static void trees(void **state)
{
	(void)state;
	struct {
		int which;     /* 0: right of small → sub's child, 1: past, 2: free, 3: root */
	} cases[] = {{0}, {1}, {2}, {3}};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		built b;
		memset(&b, 0, sizeof(b));
		b.w = cfbw_new(9);
		cfbw_add(b.w, 0, "a", "1", 1);
		uint32_t st = cfbw_add(b.w, 0, "st", NULL, 0);
		uint32_t x = cfbw_add(b.w, st, "x", "2", 1);
		cfbw_pad_entries(b.w, 2);
		cfbw_build(b.w, &b.f, &b.n);
		/* the storage's child x gets a right sibling */
		uint32_t target = cases[k].which == 0 ? st : cases[k].which == 1 ? 1000
				  : cases[k].which == 2 ? 5 : 0;
		cfbw_put32(cfbw_dirent(b.w, b.f, x) + 0x48, target);
		sk_budget bud;
		tu_budget(&bud, false);
		sk_cfb *c;
		sk_reason why;
		assert_int_equal(try_open(b.f, b.n, &bud, 0, &c, &why), SK_EBLOCKED);
		assert_int_equal(why, SK_REASON_MALFORMED);
		assert_int_equal(try_open(b.f, b.n, NULL, SK_CFB_LENIENT, &c, &why), 0);
		assert_int_not_equal(sk_cfb_find(c, 0, "a"), SK_CFB_NONE);
		assert_int_equal(sk_cfb_find(c, st, "x"), x);
		sk_cfb_close(c);
		cfbw_free(b.w);
		free(b.f);
	}
}

/* Truncated files and bad headers. */
static void truncated_and_headers(void **state)
{
	(void)state;
	built b;
	build(&b, 9);
	sk_budget bud;
	sk_cfb *c;
	sk_reason why;
	sk_buf o;
	sk_buf_init(&o, 0);
	/* the file cut short: the writer puts the FAT last, so the directory's chain cannot
	 * be followed (the data of streams cut away is the "leaves the file" case above) */
	size_t cut = b.n - 100;
	tu_budget(&bud, false);
	assert_int_equal(try_open(b.f, cut, &bud, 0, &c, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_MALFORMED);
	/* a stream whose declared size is larger than the file */
	uint8_t *copy = malloc(b.n);
	memcpy(copy, b.f, b.n);
	cfbw_put32(cfbw_dirent(b.w, copy, b.big) + 0x78, (uint32_t)b.n + 1);
	assert_int_equal(try_open(copy, b.n, &bud, 0, &c, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_MALFORMED);
	/* a stream longer than its chain: malformed when read */
	memcpy(copy, b.f, b.n);
	cfbw_put32(cfbw_dirent(b.w, copy, b.big) + 0x78, 12000);
	tu_budget(&bud, false);
	assert_int_equal(try_open(copy, b.n, &bud, 0, &c, &why), 0);
	assert_int_equal(read_named(c, 0, "BigStream", &bud, &o, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_MALFORMED);
	sk_cfb_close(c);
	/* header: signature, sector shift, version against shift, byte order, mini cutoff */
	struct {
		size_t off;
		uint32_t v;
		int bytes;
		bool lenient_ok;
	} h[] = {{0, 0x00, 1, false}, {0x1E, 10, 2, false}, {0x1A, 4, 2, true},
		 {0x1C, 0xFEFF, 2, true}, {0x38, 2048, 4, true}, {0x20, 7, 2, true}};
	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		memcpy(copy, b.f, b.n);
		if (h[i].bytes == 1)
			copy[h[i].off] = (uint8_t)h[i].v;
		else if (h[i].bytes == 2)
			cfbw_put16(copy + h[i].off, (uint16_t)h[i].v);
		else
			cfbw_put32(copy + h[i].off, h[i].v);
		tu_budget(&bud, false);
		assert_int_equal(try_open(copy, b.n, &bud, 0, &c, &why), SK_EBLOCKED);
		assert_int_equal(why, SK_REASON_MALFORMED);
		int rc = try_open(copy, b.n, NULL, SK_CFB_LENIENT, &c, &why);
		assert_int_equal(rc, h[i].lenient_ok ? 0 : SK_EBLOCKED);
		if (rc == 0)
			sk_cfb_close(c);
	}
	/* too short for a header; a header without sectors */
	tu_budget(&bud, false);
	assert_int_equal(try_open(b.f, 300, &bud, 0, &c, &why), SK_EBLOCKED);
	assert_int_equal(try_open(b.f, 512, &bud, 0, &c, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_MALFORMED);
	/* an entry type that does not exist, a name length that cannot be */
	memcpy(copy, b.f, b.n);
	cfbw_dirent(b.w, copy, b.small)[0x42] = 7;
	assert_int_equal(try_open(copy, b.n, &bud, 0, &c, &why), SK_EBLOCKED);
	memcpy(copy, b.f, b.n);
	cfbw_put16(cfbw_dirent(b.w, copy, b.small) + 0x40, 66);
	assert_int_equal(try_open(copy, b.n, &bud, 0, &c, &why), SK_EBLOCKED);
	assert_int_equal(why, SK_REASON_MALFORMED);
	free(copy);
	sk_buf_free(&o);
	unbuild(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(read_back),
		cmocka_unit_test(utf16_names),
		cmocka_unit_test(limit_entries),
		cmocka_unit_test(limit_size),
		cmocka_unit_test(limit_time),
		cmocka_unit_test(chains),
		cmocka_unit_test(difat_loop),
		cmocka_unit_test(difat_real),
		cmocka_unit_test(trees),
		cmocka_unit_test(truncated_and_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
