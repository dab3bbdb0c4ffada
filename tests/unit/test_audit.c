/* The audit log: Merkle tree against published vectors, signed notes against the Go
 * sumdb/note vector, canonical records, the SQLite log, group commit and tamper tests
 * made through the SQLite file itself. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sekisho/audit.h"
#include "testutil.h"

/* ---- helpers ---- */

static void unhex(const char *s, uint8_t *out)
{
	size_t n = strlen(s) / 2;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(s + 2 * i, "%2x", &v);
		out[i] = (uint8_t)v;
	}
}

static char *tmpdir(void)
{
	char *d = strdup("/tmp/sk-audit-XXXXXX");
	assert_non_null(mkdtemp(d));
	return d;
}

static void rmrf(char *d)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
	free(d);
}

/* ---- Merkle tree: transparency-dev/merkle testonly/constants.go and
 * testonly/reference_test.go (RFC 6962 = RFC 9162 hashing) ---- */

static const char *const leaf_inputs[8] = {
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
};

static const char *const root_hashes[9] = {
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* NodeHashes(): [level][index] of the complete subtrees of the 8-leaf tree */
static const char *const node_hashes[4][8] = {
	{"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	 "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
	 "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
	 "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
	 "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
	 "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
	 "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
	 "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"},
	{"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	 "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
	 "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
	 "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"},
	{"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	 "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"},
	{"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"},
};

/* An in-memory store of complete subtrees, filled by the frontier's callback. */
#define MEM_MAX 4096
struct memtree {
	uint8_t (*h[13])[SK_SHA256_LEN]; /* level → index → hash */
	uint64_t n[13];
};

static int mem_store(void *ctx, unsigned level, uint64_t index, const uint8_t hash[SK_SHA256_LEN])
{
	struct memtree *m = ctx;
	assert_true(level < 13);
	assert_int_equal(index, m->n[level]); /* subtrees of a level complete in order */
	memcpy(m->h[level][index], hash, SK_SHA256_LEN);
	m->n[level]++;
	return 0;
}

static int mem_node(void *ctx, unsigned level, uint64_t index, uint8_t out[SK_SHA256_LEN],
		    sk_error *err)
{
	struct memtree *m = ctx;
	if (level >= 13 || index >= m->n[level])
		return sk_error_set(err, SK_ENOTFOUND, "no node");
	memcpy(out, m->h[level][index], SK_SHA256_LEN);
	return 0;
}

static void mem_init(struct memtree *m)
{
	memset(m, 0, sizeof(*m));
	for (int l = 0; l < 13; l++)
		m->h[l] = calloc(MEM_MAX, SK_SHA256_LEN);
}

static void mem_free(struct memtree *m)
{
	for (int l = 0; l < 13; l++)
		free(m->h[l]);
}

/* The RFC's MTH by plain recursion over leaf hashes: an independent reference. */
static void ref_mth(uint8_t (*leaves)[SK_SHA256_LEN], uint64_t n, uint8_t out[SK_SHA256_LEN])
{
	if (n == 0) {
		sk_merkle_empty_root(out);
		return;
	}
	if (n == 1) {
		memcpy(out, leaves[0], SK_SHA256_LEN);
		return;
	}
	uint64_t k = 1;
	while (k * 2 < n)
		k *= 2;
	uint8_t l[SK_SHA256_LEN], r[SK_SHA256_LEN];
	ref_mth(leaves, k, l);
	ref_mth(leaves + k, n - k, r);
	sk_merkle_node_hash(l, r, out);
}

static void merkle_vectors(void **state)
{
	(void)state;
	struct memtree m;
	mem_init(&m);
	sk_merkle_frontier f;
	sk_merkle_frontier_init(&f);
	uint8_t root[SK_SHA256_LEN], want[SK_SHA256_LEN];
	sk_merkle_frontier_root(&f, root);
	unhex(root_hashes[0], want);
	assert_memory_equal(root, want, SK_SHA256_LEN);
	for (int i = 0; i < 8; i++) {
		uint8_t in[32], h[SK_SHA256_LEN];
		size_t n = strlen(leaf_inputs[i]) / 2;
		unhex(leaf_inputs[i], in);
		sk_merkle_leaf_hash(in, n, h);
		assert_int_equal(sk_merkle_frontier_push(&f, h, mem_store, &m), 0);
		sk_merkle_frontier_root(&f, root);
		unhex(root_hashes[i + 1], want);
		assert_memory_equal(root, want, SK_SHA256_LEN);
		/* the root from stored subtrees agrees */
		sk_error err;
		assert_int_equal(sk_merkle_range_hash(mem_node, &m, 0, (uint64_t)i + 1, root, &err), 0);
		assert_memory_equal(root, want, SK_SHA256_LEN);
	}
	for (int l = 0; l < 4; l++)
		for (uint64_t j = 0; j < (8u >> l); j++) {
			unhex(node_hashes[l][j], want);
			assert_memory_equal(m.h[l][j], want, SK_SHA256_LEN);
		}
	mem_free(&m);
}

struct proof_vec {
	uint64_t a, b; /* index,size or old,size */
	const char *hashes[3];
};

static const struct proof_vec inclusion_vecs[] = {
	{0, 1, {NULL}},
	{0, 2, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"}},
	{1, 2, {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"}},
	{2, 3, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
	{1, 5, {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
	{0, 8, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
	{5, 8, {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

static const struct proof_vec consistency_vecs[] = {
	{1, 1, {NULL}},
	{1, 8, {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
	{2, 5, {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
		"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
	{6, 8, {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
		"ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

static void build8(struct memtree *m, uint8_t roots[9][SK_SHA256_LEN])
{
	mem_init(m);
	sk_merkle_frontier f;
	sk_merkle_frontier_init(&f);
	sk_merkle_frontier_root(&f, roots[0]);
	for (int i = 0; i < 8; i++) {
		uint8_t in[32], h[SK_SHA256_LEN];
		unhex(leaf_inputs[i], in);
		sk_merkle_leaf_hash(in, strlen(leaf_inputs[i]) / 2, h);
		sk_merkle_frontier_push(&f, h, mem_store, m);
		sk_merkle_frontier_root(&f, roots[i + 1]);
	}
}

static void merkle_proof_vectors(void **state)
{
	(void)state;
	struct memtree m;
	uint8_t roots[9][SK_SHA256_LEN];
	build8(&m, roots);
	uint8_t proof[SK_MERKLE_PROOF_MAX][SK_SHA256_LEN], want[SK_SHA256_LEN];
	size_t len;
	sk_error err;
	for (size_t v = 0; v < sizeof(inclusion_vecs) / sizeof(inclusion_vecs[0]); v++) {
		const struct proof_vec *pv = &inclusion_vecs[v];
		assert_int_equal(sk_merkle_inclusion_proof(mem_node, &m, pv->a, pv->b, proof, &len, &err), 0);
		size_t wl = 0;
		while (wl < 3 && pv->hashes[wl])
			wl++;
		assert_int_equal(len, wl);
		for (size_t i = 0; i < len; i++) {
			unhex(pv->hashes[i], want);
			assert_memory_equal(proof[i], want, SK_SHA256_LEN);
		}
		assert_true(sk_merkle_verify_inclusion(m.h[0][pv->a], pv->a, pv->b, proof, len,
						       roots[pv->b]));
		if (len) {
			proof[len - 1][3] ^= 1;
			assert_false(sk_merkle_verify_inclusion(m.h[0][pv->a], pv->a, pv->b, proof, len,
								roots[pv->b]));
		}
		/* a wrong index or size never verifies */
		assert_false(sk_merkle_verify_inclusion(m.h[0][pv->a], pv->a, pv->b + 1, proof, len,
							roots[pv->b]));
	}
	for (size_t v = 0; v < sizeof(consistency_vecs) / sizeof(consistency_vecs[0]); v++) {
		const struct proof_vec *pv = &consistency_vecs[v];
		assert_int_equal(sk_merkle_consistency_proof(mem_node, &m, pv->a, pv->b, proof, &len, &err), 0);
		size_t wl = 0;
		while (wl < 3 && pv->hashes[wl])
			wl++;
		assert_int_equal(len, wl);
		for (size_t i = 0; i < len; i++) {
			unhex(pv->hashes[i], want);
			assert_memory_equal(proof[i], want, SK_SHA256_LEN);
		}
		assert_true(sk_merkle_verify_consistency(pv->a, pv->b, proof, len, roots[pv->a],
							 roots[pv->b]));
		if (pv->a != pv->b)
			assert_false(sk_merkle_verify_consistency(pv->a, pv->b, proof, len,
								  roots[pv->a == 1 ? 2 : 1], roots[pv->b]));
	}
	/* every pair of the 8-leaf vectors round-trips */
	for (uint64_t n = 1; n <= 8; n++)
		for (uint64_t i = 0; i < n; i++) {
			assert_int_equal(sk_merkle_inclusion_proof(mem_node, &m, i, n, proof, &len, &err), 0);
			assert_true(sk_merkle_verify_inclusion(m.h[0][i], i, n, proof, len, roots[n]));
			assert_int_equal(sk_merkle_consistency_proof(mem_node, &m, i + 1, n, proof, &len, &err), 0);
			assert_true(sk_merkle_verify_consistency(i + 1, n, proof, len, roots[i + 1], roots[n]));
		}
	mem_free(&m);
}

/* Larger trees against the plain recursive reference, proofs of every shape. */
static void merkle_large(void **state)
{
	(void)state;
	enum { N = 1500 };
	struct memtree m;
	mem_init(&m);
	uint8_t (*leaves)[SK_SHA256_LEN] = calloc(N, SK_SHA256_LEN);
	uint8_t (*roots)[SK_SHA256_LEN] = calloc(N + 1, SK_SHA256_LEN);
	sk_merkle_frontier f;
	sk_merkle_frontier_init(&f);
	for (uint64_t i = 0; i < N; i++) {
		char s[32];
		snprintf(s, sizeof(s), "leaf %llu", (unsigned long long)i);
		sk_merkle_leaf_hash(s, strlen(s), leaves[i]);
		sk_merkle_frontier_push(&f, leaves[i], mem_store, &m);
		sk_merkle_frontier_root(&f, roots[i + 1]);
		if (i % 97 == 0 || i + 1 == N) {
			uint8_t r[SK_SHA256_LEN];
			ref_mth(leaves, i + 1, r);
			assert_memory_equal(r, roots[i + 1], SK_SHA256_LEN);
		}
	}
	uint8_t proof[SK_MERKLE_PROOF_MAX][SK_SHA256_LEN];
	size_t len;
	sk_error err;
	uint64_t seed = 12345;
	for (int t = 0; t < 3000; t++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		uint64_t n = 1 + (seed >> 33) % N;
		uint64_t i = (seed >> 13) % n;
		assert_int_equal(sk_merkle_inclusion_proof(mem_node, &m, i, n, proof, &len, &err), 0);
		assert_true(len <= 11);
		assert_true(sk_merkle_verify_inclusion(leaves[i], i, n, proof, len, roots[n]));
		if (i + 1 < n)
			assert_false(sk_merkle_verify_inclusion(leaves[i], i + 1, n, proof, len, roots[n]));
		uint64_t o = 1 + i;
		assert_int_equal(sk_merkle_consistency_proof(mem_node, &m, o, n, proof, &len, &err), 0);
		assert_true(len <= 22);
		assert_true(sk_merkle_verify_consistency(o, n, proof, len, roots[o], roots[n]));
		if (o < n && o > 1)
			assert_false(sk_merkle_verify_consistency(o, n, proof, len, roots[o - 1], roots[n]));
	}
	/* bad arguments */
	assert_int_equal(sk_merkle_inclusion_proof(mem_node, &m, 5, 5, proof, &len, &err), SK_EINVAL);
	assert_int_equal(sk_merkle_consistency_proof(mem_node, &m, 0, 5, proof, &len, &err), SK_EINVAL);
	assert_int_equal(sk_merkle_consistency_proof(mem_node, &m, 6, 5, proof, &len, &err), SK_EINVAL);
	assert_false(sk_merkle_verify_inclusion(leaves[0], 0, 0, proof, 0, roots[0]));
	free(leaves);
	free(roots);
	mem_free(&m);
}

/* ---- signed notes: the golang.org/x/mod/sumdb/note package's documented example ---- */

static const char go_skey[] = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char go_vkey[] = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char go_text[] = "If you think cryptography is the answer to your problem,\n"
			      "then you don't know what your problem is.\n";
static const char go_note[] =
	"If you think cryptography is the answer to your problem,\n"
	"then you don't know what your problem is.\n"
	"\n"
	"\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

static void note_go_vector(void **state)
{
	(void)state;
	sk_error err;
	sk_note_signer s;
	sk_note_verifier v;
	assert_int_equal(sk_note_signer_parse(go_skey, &s, &err), 0);
	assert_string_equal(s.name, "PeterNeumann");
	uint8_t id[4] = {0xc7, 0x4f, 0x20, 0xa3};
	assert_memory_equal(s.id, id, 4);
	sk_buf b;
	sk_buf_init(&b, SK_NOTE_MAX);
	assert_int_equal(sk_note_signer_vkey(&s, &b), 0);
	assert_string_equal(sk_buf_str(&b), go_vkey);
	/* Ed25519 is deterministic: our note is the published one byte for byte */
	assert_int_equal(sk_note_sign(&s, go_text, strlen(go_text), &b, &err), 0);
	assert_string_equal(sk_buf_str(&b), go_note);
	assert_int_equal(sk_note_verifier_parse(go_vkey, &v, &err), 0);
	size_t tl;
	assert_int_equal(sk_note_open(&v, go_note, strlen(go_note), &tl), SK_NOTE_OK);
	assert_int_equal(tl, strlen(go_text));
	/* one changed letter */
	char bad[sizeof(go_note)];
	memcpy(bad, go_note, sizeof(go_note));
	bad[3] = 'Y';
	assert_int_equal(sk_note_open(&v, bad, strlen(bad), &tl), SK_NOTE_BAD_SIGNATURE);
	/* another key: not signed by it */
	char *sk2, *vk2;
	assert_int_equal(sk_note_key_generate("other.example/log", &sk2, &vk2, &err), 0);
	sk_note_verifier v2;
	assert_int_equal(sk_note_verifier_parse(vk2, &v2, &err), 0);
	assert_int_equal(sk_note_open(&v2, go_note, strlen(go_note), &tl), SK_NOTE_UNSIGNED);
	/* a generated key signs and verifies; its signer text parses back */
	sk_note_signer s2;
	assert_int_equal(sk_note_signer_parse(sk2, &s2, &err), 0);
	assert_int_equal(sk_note_sign(&s2, go_text, strlen(go_text), &b, &err), 0);
	assert_int_equal(sk_note_open(&v2, (const char *)b.data, b.len, &tl), SK_NOTE_OK);
	free(sk2);
	free(vk2);
	/* malformed notes and keys */
	const char *const malformed[] = {
		"", "no signature\n", "text\n\n", "text\n\n- PeterNeumann AAAA\n",
		"text\n\n\xe2\x80\x94 PeterNeumann not-base64!\n",
		"text\n\n\xe2\x80\x94 Peter+Neumann x08go/ZJk=\n",
		"text\x01\n\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
		"text\n\n\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
	};
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
		assert_int_equal(sk_note_open(&v, malformed[i], strlen(malformed[i]), &tl), SK_NOTE_MALFORMED);
	assert_int_not_equal(sk_note_verifier_parse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &v, &err), 0);
	assert_int_not_equal(sk_note_signer_parse(go_vkey, &s, &err), 0);
	assert_int_not_equal(sk_note_sign(&s2, "two\n\nblank\n", 11, &b, &err), 0);
	/* the signature-line limit */
	sk_buf many;
	sk_buf_init(&many, 1 << 20);
	sk_buf_adds(&many, go_note);
	for (int i = 0; i < SK_NOTE_SIGS_MAX; i++)
		sk_buf_adds(&many, "\xe2\x80\x94 Other AAAAAAAAAAAAAAAA\n");
	assert_int_equal(sk_note_open(&v, (const char *)many.data, many.len, &tl), SK_NOTE_MALFORMED);
	/* one signature line fewer is fine (v was cleared by the failed parse above) */
	assert_int_equal(sk_note_verifier_parse(go_vkey, &v, &err), 0);
	sk_buf_reset(&many);
	sk_buf_adds(&many, go_note);
	for (int i = 0; i < SK_NOTE_SIGS_MAX - 1; i++)
		sk_buf_adds(&many, "\xe2\x80\x94 Other AAAAAAAAAAAAAAAA\n");
	assert_int_equal(sk_note_open(&v, (const char *)many.data, many.len, &tl), SK_NOTE_OK);
	/* the size limit: a note longer than SK_NOTE_MAX is not read */
	sk_buf_reset(&many);
	while (many.len <= SK_NOTE_MAX)
		sk_buf_adds(&many, "0123456789012345678901234567890123456789012345678901234567890\n");
	sk_buf_adds(&many, go_note + strlen(go_text));
	assert_true(many.len > SK_NOTE_MAX);
	assert_int_equal(sk_note_open(&v, (const char *)many.data, many.len, &tl), SK_NOTE_MALFORMED);
	/* key names: at most SK_NOTE_NAME_MAX - 1 bytes */
	char name[SK_NOTE_NAME_MAX + 1];
	memset(name, 'k', SK_NOTE_NAME_MAX);
	name[SK_NOTE_NAME_MAX] = 0;
	assert_int_equal(sk_note_key_generate(name, &sk2, &vk2, &err), SK_EINVAL);
	name[SK_NOTE_NAME_MAX - 1] = 0;
	assert_int_equal(sk_note_key_generate(name, &sk2, &vk2, &err), 0);
	free(sk2);
	free(vk2);
	assert_int_equal(sk_note_key_generate("has space", &sk2, &vk2, &err), SK_EINVAL);
	sk_buf_free(&many);
	sk_buf_free(&b);
}

static void checkpoint_text(void **state)
{
	(void)state;
	sk_checkpoint cp = {.size = 12345, .time_us = 1795512142216636};
	snprintf(cp.origin, sizeof(cp.origin), "example.com/log");
	for (int i = 0; i < 32; i++)
		cp.root[i] = (uint8_t)i;
	sk_buf b;
	sk_buf_init(&b, 4096);
	assert_int_equal(sk_checkpoint_format(&cp, &b), 0);
	assert_string_equal(sk_buf_str(&b), "example.com/log\n12345\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\ntime 1795512142216636\n");
	sk_checkpoint back;
	sk_error err;
	assert_int_equal(sk_checkpoint_parse((const char *)b.data, b.len, &back, &err), 0);
	assert_string_equal(back.origin, cp.origin);
	assert_int_equal(back.size, cp.size);
	assert_memory_equal(back.root, cp.root, 32);
	assert_int_equal(back.time_us, cp.time_us);
	const char *const bad[] = {
		"o\n012\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
		"o\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh=\n",
		"o\n12\n",
		"\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
		"o\n99999999999999999999999\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
		"o\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sk_checkpoint_parse(bad[i], strlen(bad[i]), &back, &err), SK_EFORMAT);
	/* at most 64 lines */
	sk_buf_reset(&b);
	sk_checkpoint_format(&cp, &b);
	for (int i = 4; i < 64; i++)
		sk_buf_adds(&b, "ext\n");
	assert_int_equal(sk_checkpoint_parse((const char *)b.data, b.len, &back, &err), 0);
	sk_buf_adds(&b, "ext\n");
	assert_int_equal(sk_checkpoint_parse((const char *)b.data, b.len, &back, &err), SK_EFORMAT);
	sk_buf_free(&b);
}

/* ---- canonical records ---- */

static void record_canonical(void **state)
{
	(void)state;
	sk_audit_record r = {.seq = 42, .time_us = 1795512142000001, .actor = "山田",
			     .action = "quarantine-request", .object = "item:1 sha256:ab",
			     .result = "ok", .detail = "line1\nline2\ttab\\back\x7f"};
	sk_buf b, s;
	sk_buf_init(&b, 1 << 20);
	sk_buf_init(&s, 1 << 20);
	sk_error err;
	assert_int_equal(sk_audit_record_encode(&r, &b, &err), 0);
	assert_string_equal(sk_buf_str(&b),
			    "sekisho-audit/1\nseq 42\ntime 2026-11-24T09:22:22.000001Z\n"
			    "actor 山田\naction quarantine-request\nobject item:1 sha256:ab\n"
			    "result ok\ndetail line1\\nline2\\x09tab\\\\back\\x7f\n");
	sk_audit_record d;
	assert_int_equal(sk_audit_record_decode(b.data, b.len, &d, &s, &err), 0);
	assert_int_equal(d.seq, 42);
	assert_int_equal(d.time_us, r.time_us);
	assert_string_equal(d.actor, r.actor);
	assert_string_equal(d.detail, r.detail);
	assert_string_equal(d.result, "ok");
	/* anything the encoder would not write is refused */
	const char *const bad[] = {
		"sekisho-audit/1\nseq 042\ntime 2026-11-24T09:22:22.000001Z\nactor a\naction b\nobject c\nresult \ndetail \n",
		"sekisho-audit/1\nseq 42\ntime 2026-11-24T09:22:22.000001Z\nactor a\naction b\nobject c\nresult \ndetail \\x41\n",
		"sekisho-audit/1\nseq 42\ntime 2026-11-24T09:22:22.000001Z\nactor a\naction b\nobject c\nresult \ndetail \\x00\n",
		"sekisho-audit/1\nseq 42\ntime 2026-11-24T09:22:22.000001Z\nactor a\naction b\nobject c\nresult \ndetail \\q\n",
		"sekisho-audit/1\nseq 42\ntime 2026-11-24T09:22:22.000001Z\nactor a\naction b\nobject c\nresult \ndetail x\nextra\n",
		"sekisho-audit/1\nseq 42\ntime 2026-11-24T09:22:22.000001Z\nactor \naction b\nobject c\nresult \ndetail \n",
		"sekisho-audit/1\nseq 42\ntime 2026-02-30T09:22:22.000001Z\nactor a\naction b\nobject c\nresult \ndetail \n",
		"sekisho-audit/1\nseq 42\ntime 2026-11-24T09:22:22.000001Z\nactor a\naction b\nobject c\nresult \ndetail \xff\n",
		"sekisho-audit/1\nseq 42\ntime 2026-11-24T09:22:22.000001Z\nactor a\naction b\nobject c\nresult \ndetail ",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sk_audit_record_decode((const uint8_t *)bad[i], strlen(bad[i]), &d, &s, &err),
				 SK_EFORMAT);
	/* limits, UTF-8, required fields */
	char *big = malloc(SK_AUDIT_DETAIL_MAX + 2);
	memset(big, 'a', SK_AUDIT_DETAIL_MAX + 1);
	big[SK_AUDIT_DETAIL_MAX + 1] = 0;
	r.detail = big;
	assert_int_equal(sk_audit_record_encode(&r, &b, &err), SK_ELIMIT);
	big[SK_AUDIT_DETAIL_MAX] = 0;
	assert_int_equal(sk_audit_record_encode(&r, &b, &err), 0);
	r.detail = "";
	big[SK_AUDIT_FIELD_MAX + 1] = 0;
	r.actor = big;
	assert_int_equal(sk_audit_record_encode(&r, &b, &err), SK_ELIMIT);
	big[SK_AUDIT_FIELD_MAX] = 0;
	assert_int_equal(sk_audit_record_encode(&r, &b, &err), 0);
	/* every field at its limit and every byte escaped: fits SK_AUDIT_RECORD_MAX */
	{
		char *f = malloc(SK_AUDIT_FIELD_MAX + 1), *dd = malloc(SK_AUDIT_DETAIL_MAX + 1);
		memset(f, 0x01, SK_AUDIT_FIELD_MAX);
		f[SK_AUDIT_FIELD_MAX] = 0;
		memset(dd, 0x1f, SK_AUDIT_DETAIL_MAX);
		dd[SK_AUDIT_DETAIL_MAX] = 0;
		sk_audit_record m = {.seq = UINT64_MAX, .time_us = 253402300799999999LL,
				     .actor = f, .action = f, .object = f, .result = f, .detail = dd};
		sk_buf mb;
		sk_buf_init(&mb, SK_AUDIT_RECORD_MAX);
		assert_int_equal(sk_audit_record_encode(&m, &mb, &err), 0);
		assert_int_equal(sk_audit_record_decode(mb.data, mb.len, &d, &s, &err), 0);
		assert_int_equal(d.seq, UINT64_MAX);
		assert_int_equal(d.time_us, 253402300799999999LL); /* 9999-12-31T23:59:59.999999Z */
		assert_string_equal(d.detail, dd);
		m.time_us += 1; /* year 10000 cannot be written */
		assert_int_equal(sk_audit_record_encode(&m, &mb, &err), SK_EINVAL);
		sk_buf_free(&mb);
		free(f);
		free(dd);
	}
	r.actor = "\xc3\x28";
	assert_int_equal(sk_audit_record_encode(&r, &b, &err), SK_EINVAL);
	r.actor = "";
	assert_int_equal(sk_audit_record_encode(&r, &b, &err), SK_EINVAL);
	free(big);
	sk_buf_free(&b);
	sk_buf_free(&s);
	/* time parsing */
	int64_t us;
	assert_int_equal(sk_time_parse("2026-11-24", &us, &err), 0);
	assert_int_equal(us, 1795478400LL * 1000000);
	assert_int_equal(sk_time_parse("2026-11-24T09:00+09:00", &us, &err), 0);
	assert_int_equal(us, 1795478400LL * 1000000);
	assert_int_equal(sk_time_parse("1795478400", &us, &err), 0);
	assert_int_equal(us, 1795478400LL * 1000000);
	assert_int_not_equal(sk_time_parse("yesterday", &us, &err), 0);
}

/* ---- the log ---- */

struct fake_clock {
	int64_t now;
};

static int64_t fake_now(void *ctx)
{
	return ((struct fake_clock *)ctx)->now;
}

static sk_audit *open_log(const char *dir, uint64_t every, struct fake_clock *fc)
{
	sk_audit_options o;
	sk_audit_options_default(&o);
	o.checkpoint_every = every;
	if (fc) {
		o.clock = fake_now;
		o.clock_ctx = fc;
	}
	sk_audit *a = NULL;
	sk_error err;
	int rc = sk_audit_open(dir, &o, &a, &err);
	if (rc)
		fail_msg("open: %s", err.msg);
	return a;
}

static void append_n(sk_audit *a, uint64_t from, uint64_t n)
{
	sk_error err;
	for (uint64_t i = from; i < from + n; i++) {
		char obj[64], det[64];
		snprintf(obj, sizeof(obj), "object-%llu", (unsigned long long)i);
		snprintf(det, sizeof(det), "marker-%llu-xyz", (unsigned long long)i);
		uint64_t seq;
		int rc = sk_audit_append(a, "tester", "test", obj, "ok", det, &seq, &err);
		if (rc)
			fail_msg("append: %s", err.msg);
		assert_int_equal(seq, i);
	}
}

static sk_audit_verify_result verify(sk_audit *a, const char *anchor)
{
	sk_audit_verify_result vr;
	sk_error err;
	int rc = sk_audit_verify(a, NULL, anchor, anchor ? strlen(anchor) : 0, &vr, &err);
	if (rc)
		fail_msg("verify: %s", err.msg);
	return vr;
}

/* The newest checkpoint's note, parsed and signature-checked with the log's vkey. */
static void latest_checkpoint(sk_audit *a, sk_checkpoint *cp)
{
	sk_buf note;
	sk_buf_init(&note, SK_NOTE_MAX);
	sk_error err;
	bool made;
	/* a due-only call returns the newest one without making another when not due */
	assert_int_equal(sk_audit_checkpoint(a, false, &note, &made, &err), 0);
	sk_note_verifier v;
	assert_int_equal(sk_note_verifier_parse(sk_audit_vkey(a), &v, &err), 0);
	size_t tl;
	assert_int_equal(sk_note_open(&v, (const char *)note.data, note.len, &tl), SK_NOTE_OK);
	assert_int_equal(sk_checkpoint_parse((const char *)note.data, tl, cp, &err), 0);
	assert_string_equal(cp->origin, v.name);
	sk_buf_free(&note);
}

static void log_basics(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct fake_clock fc = {.now = 1795512142000000};
	sk_audit *a = open_log(dir, 10, &fc);
	/* the key is created on first use, mode 0600 */
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/audit.key", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	append_n(a, 0, 95);
	sk_audit_verify_result vr = verify(a, NULL);
	assert_true(vr.ok);
	assert_int_equal(vr.records, 95);
	/* one at the first append (none before), then every 10 records */
	assert_int_equal(vr.checkpoints, 10);
	assert_int_equal(vr.covered, 91);
	/* proofs from the database against the signed checkpoint */
	sk_checkpoint cp;
	latest_checkpoint(a, &cp);
	assert_int_equal(cp.size, 91);
	uint8_t leaf[32], root[32], oroot[32], proof[SK_MERKLE_PROOF_MAX][32];
	size_t len;
	uint64_t size;
	sk_error err;
	for (uint64_t i = 0; i < 91; i++) {
		assert_int_equal(sk_audit_inclusion_proof(a, i, 0, &size, leaf, root, proof, &len, &err), 0);
		assert_int_equal(size, 91);
		assert_memory_equal(root, cp.root, 32);
		assert_true(sk_merkle_verify_inclusion(leaf, i, size, proof, len, cp.root));
	}
	assert_int_equal(sk_audit_inclusion_proof(a, 95, 0, &size, leaf, root, proof, &len, &err), SK_ENOTFOUND);
	assert_int_equal(sk_audit_consistency_proof(a, 11, 91, oroot, root, proof, &len, &err), 0);
	assert_true(sk_merkle_verify_consistency(11, 91, proof, len, oroot, cp.root));
	assert_int_equal(sk_audit_consistency_proof(a, 11, 96, oroot, root, proof, &len, &err), SK_ENOTFOUND);
	/* the records read back, also from a time on */
	sk_audit_close(a);
	a = open_log(dir, 10, &fc);
	append_n(a, 95, 1);
	assert_true(verify(a, NULL).ok);
	char vk[256];
	snprintf(vk, sizeof(vk), "%s\n", sk_audit_vkey(a));
	sk_audit_close(a);
	/* a lost audit.pub is written again from the key */
	char pub[512];
	snprintf(pub, sizeof(pub), "%s/audit.pub", dir);
	assert_int_equal(unlink(pub), 0);
	a = open_log(dir, 10, &fc);
	sk_buf pb;
	tu_read(pub, &pb);
	assert_string_equal(sk_buf_str(&pb), vk);
	sk_buf_free(&pb);
	/* verify with an explicit verifier key, and with the wrong one */
	sk_audit_verify_result vr2;
	assert_int_equal(sk_audit_verify(a, vk, NULL, 0, &vr2, &err), 0);
	assert_true(vr2.ok);
	char *osk, *ovk;
	assert_int_equal(sk_note_key_generate("other/log", &osk, &ovk, &err), 0);
	assert_int_equal(sk_audit_verify(a, ovk, NULL, 0, &vr2, &err), 0);
	assert_false(vr2.ok);
	assert_int_equal(vr2.problem, SK_AUDIT_SIGNATURE);
	free(osk);
	free(ovk);
	sk_audit_close(a);
	rmrf(dir);
}

struct cps {
	int n, stop_after;
	uint64_t size[8];
	int64_t time[8];
	bool signed_ok;
};

static int list_cp(void *ctx, uint64_t size, int64_t time_us, const char *note)
{
	struct cps *c = ctx;
	if (c->n == 0)
		c->signed_ok = true;
	sk_checkpoint cp;
	sk_error e;
	const char *blank = strstr(note, "\n\n");
	if (!blank || sk_checkpoint_parse(note, (size_t)(blank - note) + 1, &cp, &e) != 0 ||
	    cp.size != size || !strstr(note, "\n\u2014 "))
		c->signed_ok = false;
	if (c->n < 8) {
		c->size[c->n] = size;
		c->time[c->n] = time_us;
	}
	c->n++;
	return c->stop_after && c->n >= c->stop_after ? 7 : 0;
}

static void log_heartbeat(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct fake_clock fc = {.now = 1795512142000000};
	sk_audit_options o;
	sk_audit_options_default(&o);
	o.checkpoint_seconds = 60;
	o.checkpoint_every = 1000;
	o.clock = fake_now;
	o.clock_ctx = &fc;
	sk_audit *a;
	sk_error err;
	assert_int_equal(sk_audit_open(dir, &o, &a, &err), 0);
	bool made;
	/* an empty log gets its first checkpoint (size 0) when asked */
	assert_int_equal(sk_audit_checkpoint(a, false, NULL, &made, &err), 0);
	assert_true(made);
	append_n(a, 0, 3);
	fc.now += 10 * 1000000;
	assert_int_equal(sk_audit_checkpoint(a, false, NULL, &made, &err), 0);
	assert_false(made); /* neither N records nor T seconds */
	fc.now += 51 * 1000000;
	assert_int_equal(sk_audit_checkpoint(a, false, NULL, &made, &err), 0);
	assert_true(made); /* T passed */
	fc.now += 61 * 1000000;
	assert_int_equal(sk_audit_checkpoint(a, false, NULL, &made, &err), 0);
	assert_true(made); /* idle: the heartbeat, same size, later time */
	assert_int_equal(sk_audit_checkpoint(a, false, NULL, &made, &err), 0);
	assert_false(made);
	/* T passed during appends: the append makes it */
	fc.now += 61 * 1000000;
	append_n(a, 3, 1);
	assert_int_equal(sk_audit_checkpoint(a, false, NULL, &made, &err), 0);
	assert_false(made);
	sk_audit_verify_result vr = verify(a, NULL);
	assert_true(vr.ok);
	assert_int_equal(vr.checkpoints, 4); /* sizes 0, 3, 3 (heartbeat), 4 */
	assert_int_equal(vr.covered, 4);
	/* a clock that goes back never makes a record's time go back */
	fc.now -= 3600LL * 1000000;
	append_n(a, 4, 1);
	assert_true(verify(a, NULL).ok);
	/* the checkpoints, newest first, as many as asked */
	struct cps got = {0};
	assert_int_equal(sk_audit_checkpoints(a, 10, list_cp, &got, &err), 0);
	assert_int_equal(got.n, 4);
	uint64_t want[4] = {4, 3, 3, 0};
	for (int i = 0; i < 4; i++)
		assert_int_equal(got.size[i], want[i]);
	assert_true(got.time[0] > got.time[3]);
	assert_true(got.signed_ok); /* each note is the signed checkpoint text of its size */
	memset(&got, 0, sizeof(got));
	assert_int_equal(sk_audit_checkpoints(a, 2, list_cp, &got, &err), 0);
	assert_int_equal(got.n, 2);
	assert_int_equal(got.size[1], 3);
	/* a non-zero return stops the walk and is returned */
	memset(&got, 0, sizeof(got));
	got.stop_after = 1;
	assert_int_equal(sk_audit_checkpoints(a, 10, list_cp, &got, &err), 7);
	assert_int_equal(got.n, 1);
	sk_audit_close(a);
	rmrf(dir);
}

struct thr {
	sk_audit *a;
	int id, n;
	uint64_t *seqs;
};

static void *appender(void *p)
{
	struct thr *t = p;
	for (int i = 0; i < t->n; i++) {
		char obj[64];
		snprintf(obj, sizeof(obj), "t%d-%d", t->id, i);
		sk_error err;
		if (sk_audit_append(t->a, "thread", "test", obj, "ok", NULL, &t->seqs[i], &err) != 0)
			t->seqs[i] = UINT64_MAX;
	}
	return NULL;
}

struct seen {
	uint8_t *bits;
	uint64_t n;
};

static int mark_seen(void *ctx, const sk_audit_record *r)
{
	struct seen *s = ctx;
	int t, i;
	if (sscanf(r->object, "t%d-%d", &t, &i) == 2)
		s->bits[t * 250 + i]++;
	s->n++;
	return 0;
}

static void log_group_commit(void **state)
{
	(void)state;
	enum { T = 8, N = 250 };
	char *dir = tmpdir();
	sk_audit *a = open_log(dir, 100, NULL);
	pthread_t th[T];
	struct thr ts[T];
	uint64_t *seqs = calloc(T * N, sizeof(uint64_t));
	for (int t = 0; t < T; t++) {
		ts[t] = (struct thr){.a = a, .id = t, .n = N, .seqs = seqs + t * N};
		pthread_create(&th[t], NULL, appender, &ts[t]);
	}
	for (int t = 0; t < T; t++)
		pthread_join(th[t], NULL);
	/* every record got a distinct number in 0..T*N-1 */
	uint8_t *hit = calloc(T * N, 1);
	for (int i = 0; i < T * N; i++) {
		assert_true(seqs[i] < T * N);
		assert_int_equal(hit[seqs[i]], 0);
		hit[seqs[i]] = 1;
	}
	uint64_t commits, records;
	sk_audit_stats(a, &commits, &records);
	assert_int_equal(records, T * N);
	assert_true(commits < records); /* batched */
	print_message("# group commit: %llu records in %llu transactions\n",
		      (unsigned long long)records, (unsigned long long)commits);
	/* each record is there once, with its object */
	struct seen s = {.bits = calloc(T * N, 1)};
	sk_error err;
	assert_int_equal(sk_audit_list(a, 0, mark_seen, &s, &err), 0);
	assert_int_equal(s.n, T * N);
	for (int i = 0; i < T * N; i++)
		assert_int_equal(s.bits[i], 1);
	assert_true(verify(a, NULL).ok);
	/* a second handle (another process would do the same) appends after them */
	sk_audit *b = open_log(dir, 100, NULL);
	append_n(b, T * N, 5);
	append_n(a, T * N + 5, 5);
	assert_true(verify(b, NULL).ok);
	sk_audit_close(b);
	sk_audit_close(a);
	free(s.bits);
	free(hit);
	free(seqs);
	rmrf(dir);
}

/* ---- tamper tests through the SQLite file ---- */

static char *make_log(uint64_t n, uint64_t every)
{
	char *dir = tmpdir();
	sk_audit *a = open_log(dir, every, NULL);
	append_n(a, 0, n);
	sk_audit_close(a);
	return dir;
}

static sqlite3 *raw_db(const char *dir)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/audit.db", dir);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	return db;
}

static void sql(sqlite3 *db, const char *q)
{
	char *msg = NULL;
	if (sqlite3_exec(db, q, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", q, msg);
}

static sk_audit_verify_result reverify(const char *dir, const char *anchor)
{
	sk_audit *a = open_log(dir, 16, NULL);
	sk_audit_verify_result vr = verify(a, anchor);
	sk_audit_close(a);
	return vr;
}

static void tamper_untouched(void **state)
{
	(void)state;
	char *dir = make_log(50, 16);
	sk_audit_verify_result vr = reverify(dir, NULL);
	assert_true(vr.ok);
	assert_int_equal(vr.records, 50);
	assert_int_equal(vr.covered, 49);
	rmrf(dir);
}

static void tamper_one_byte_sql(void **state)
{
	(void)state;
	char *dir = make_log(50, 16);
	sqlite3 *db = raw_db(dir);
	/* flip one byte of record 20's canonical bytes */
	sql(db, "UPDATE records SET leaf = CAST(replace(CAST(leaf AS TEXT), 'marker-20-xyz',"
		" 'marker-20-xyZ') AS BLOB) WHERE seq = 20");
	sqlite3_close(db);
	sk_audit_verify_result vr = reverify(dir, NULL);
	assert_false(vr.ok);
	assert_int_equal(vr.problem, SK_AUDIT_MODIFIED);
	assert_int_equal(vr.bad_seq, 20);
	rmrf(dir);
}

static void tamper_one_byte_file(void **state)
{
	(void)state;
	char *dir = make_log(50, 16);
	/* change one byte in the database file itself (the WAL was merged on close) */
	char p[512];
	snprintf(p, sizeof(p), "%s/audit.db", dir);
	sk_buf b;
	tu_read(p, &b);
	const char *m = "marker-33-xyz";
	uint8_t *hit = memmem(b.data, b.len, m, strlen(m));
	assert_non_null(hit);
	FILE *f = fopen(p, "r+b");
	assert_non_null(f);
	fseek(f, (long)(hit - b.data) + 7, SEEK_SET); /* the '3' of "33" */
	fputc('4', f);
	fclose(f);
	sk_buf_free(&b);
	sk_audit_verify_result vr = reverify(dir, NULL);
	assert_false(vr.ok);
	assert_int_equal(vr.problem, SK_AUDIT_MODIFIED);
	assert_int_equal(vr.bad_seq, 33);
	rmrf(dir);
}

static void tamper_delete(void **state)
{
	(void)state;
	char *dir = make_log(50, 16);
	sqlite3 *db = raw_db(dir);
	sql(db, "DELETE FROM records WHERE seq = 7");
	sqlite3_close(db);
	sk_audit_verify_result vr = reverify(dir, NULL);
	assert_false(vr.ok);
	assert_int_equal(vr.problem, SK_AUDIT_MISSING);
	assert_int_equal(vr.bad_seq, 7);
	rmrf(dir);
}

static void tamper_swap(void **state)
{
	(void)state;
	char *dir = make_log(50, 16);
	sqlite3 *db = raw_db(dir);
	/* swap whole rows 5 and 9 (bytes, time and stored hash move together) */
	sql(db, "UPDATE records SET seq = -1 WHERE seq = 5;"
		"UPDATE records SET seq = 5 WHERE seq = 9;"
		"UPDATE records SET seq = 9 WHERE seq = -1;");
	sqlite3_close(db);
	sk_audit_verify_result vr = reverify(dir, NULL);
	assert_false(vr.ok);
	assert_int_equal(vr.problem, SK_AUDIT_MISPLACED);
	assert_int_equal(vr.bad_seq, 5);
	rmrf(dir);
}

static void tamper_rehashed(void **state)
{
	(void)state;
	/* a careful forger also rewrites the stored leaf hash: the stored subtree hashes
	 * and the signed checkpoint still give the record away */
	char *dir = make_log(50, 16);
	sqlite3 *db = raw_db(dir);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT leaf FROM records WHERE seq = 21", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	size_t n = (size_t)sqlite3_column_bytes(st, 0);
	uint8_t *leaf = malloc(n);
	memcpy(leaf, sqlite3_column_blob(st, 0), n);
	sqlite3_finalize(st);
	uint8_t *at = memmem(leaf, n, "result ok", 9);
	assert_non_null(at);
	at[8] = 'K';
	uint8_t h[32];
	sk_merkle_leaf_hash(leaf, n, h);
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE records SET leaf = ?, hash = ? WHERE seq = 21", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, leaf, (int)n, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, h, 32, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	/* and drop the subtree table too: only the signed roots remain to tell */
	sk_audit_verify_result vr = reverify(dir, NULL);
	assert_false(vr.ok);
	assert_int_equal(vr.problem, SK_AUDIT_NODE);
	assert_int_equal(vr.bad_seq, 20); /* subtree 1/10 = records 20..21 */
	assert_int_equal(vr.bad_end, 22);
	sql(db, "DELETE FROM nodes");
	sqlite3_close(db);
	/* with the subtree table gone, verify fails on the first missing subtree */
	vr = reverify(dir, NULL);
	assert_false(vr.ok);
	free(leaf);
	rmrf(dir);
}

static void tamper_rehashed_root(void **state)
{
	(void)state;
	/* forged record, its hash and every subtree recomputed: the checkpoint's signed
	 * root is what is left, and it names the range */
	char *dir = make_log(50, 16);
	sqlite3 *db = raw_db(dir);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT seq, leaf FROM records ORDER BY seq", -1, &st, NULL), SQLITE_OK);
	struct memtree m;
	mem_init(&m);
	sk_merkle_frontier f;
	sk_merkle_frontier_init(&f);
	uint8_t *forged = NULL;
	size_t fn = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		int seq = sqlite3_column_int(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 1);
		uint8_t *leaf = malloc(n);
		memcpy(leaf, sqlite3_column_blob(st, 1), n);
		if (seq == 40) {
			uint8_t *at = memmem(leaf, n, "result ok", 9);
			at[8] = 'K';
			forged = leaf;
			fn = n;
		}
		uint8_t h[32];
		sk_merkle_leaf_hash(leaf, n, h);
		sk_merkle_frontier_push(&f, h, mem_store, &m);
		if (leaf != forged)
			free(leaf);
	}
	sqlite3_finalize(st);
	sql(db, "DELETE FROM nodes");
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO nodes(level, idx, hash) VALUES(?,?,?)", -1, &st, NULL), SQLITE_OK);
	for (int l = 1; l < 13; l++)
		for (uint64_t i = 0; i < m.n[l]; i++) {
			sqlite3_reset(st);
			sqlite3_bind_int(st, 1, l);
			sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
			sqlite3_bind_blob(st, 3, m.h[l][i], 32, SQLITE_STATIC);
			assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		}
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE records SET leaf = ?, hash = ? WHERE seq = 40", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, forged, (int)fn, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, m.h[0][40], 32, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	sk_audit_verify_result vr = reverify(dir, NULL);
	assert_false(vr.ok);
	assert_int_equal(vr.problem, SK_AUDIT_ROOT);
	/* checkpoints at 1, 17, 33, 49: record 40 lies in 33..48 */
	assert_int_equal(vr.bad_seq, 33);
	assert_int_equal(vr.bad_end, 49);
	free(forged);
	mem_free(&m);
	rmrf(dir);
}

static void tamper_truncate_anchor(void **state)
{
	(void)state;
	char *dir = tmpdir();
	char anchor_path[512];
	snprintf(anchor_path, sizeof(anchor_path), "%s/anchor.txt", dir);
	sk_audit_options o;
	sk_audit_options_default(&o);
	o.checkpoint_every = 16;
	o.anchor_file = anchor_path;
	sk_audit *a;
	sk_error err;
	assert_int_equal(sk_audit_open(dir, &o, &a, &err), 0);
	append_n(a, 0, 50);
	sk_buf note;
	sk_buf_init(&note, SK_NOTE_MAX);
	assert_int_equal(sk_audit_checkpoint(a, true, &note, NULL, &err), 0);
	sk_audit_close(a);
	/* the anchor file holds the newest checkpoint */
	sk_buf anchor;
	tu_read(anchor_path, &anchor);
	assert_string_equal(sk_buf_str(&anchor), sk_buf_str(&note));
	assert_true(reverify(dir, sk_buf_str(&anchor)).ok);
	/* cut the tail, and the checkpoints that would tell, below the anchor */
	sqlite3 *db = raw_db(dir);
	sql(db, "DELETE FROM records WHERE seq >= 40; DELETE FROM checkpoints WHERE size > 40;"
		" DELETE FROM nodes WHERE (idx + 1) * (1 << level) > 40;");
	sqlite3_close(db);
	/* on its own the shortened log is consistent: that is what the anchor is for */
	assert_true(reverify(dir, NULL).ok);
	sk_audit_verify_result vr = reverify(dir, sk_buf_str(&anchor));
	assert_false(vr.ok);
	assert_int_equal(vr.problem, SK_AUDIT_TRUNCATED);
	assert_int_equal(vr.bad_seq, 40);
	assert_int_equal(vr.bad_end, 50);
	assert_int_equal(vr.bad_checkpoint, 0);
	/* a forged anchor is refused */
	char *forged = strdup(sk_buf_str(&anchor));
	forged[strlen(forged) - 10] ^= 1;
	vr = reverify(dir, forged);
	assert_false(vr.ok);
	free(forged);
	sk_buf_free(&note);
	sk_buf_free(&anchor);
	rmrf(dir);
}

static void tamper_checkpoint_signature(void **state)
{
	(void)state;
	char *dir = make_log(50, 16);
	/* a note by another key with the same name: its signature is not the log's */
	char *sk2, *vk2;
	sk_error err;
	sk_audit *a = open_log(dir, 16, NULL);
	sk_note_verifier v;
	assert_int_equal(sk_note_verifier_parse(sk_audit_vkey(a), &v, &err), 0);
	sk_audit_close(a);
	assert_int_equal(sk_note_key_generate(v.name, &sk2, &vk2, &err), 0);
	sqlite3 *db = raw_db(dir);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT id, note FROM checkpoints WHERE size = 33", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t id = sqlite3_column_int64(st, 0);
	char *note = strdup((const char *)sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	/* keep the log's key id, replace the signature bytes */
	char *sig = strrchr(note, ' ') + 1;
	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE checkpoints SET note = ? WHERE id = ?", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, note, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	sk_audit_verify_result vr = reverify(dir, NULL);
	assert_false(vr.ok);
	assert_int_equal(vr.problem, SK_AUDIT_SIGNATURE);
	assert_int_equal(vr.bad_checkpoint, id);
	assert_int_equal(vr.bad_seq, 17); /* the records only that checkpoint vouched for */
	assert_int_equal(vr.bad_end, 33);
	free(note);
	free(sk2);
	free(vk2);
	rmrf(dir);
}


/* sk_audit_checkpoint_if_due: signs whenever records are past the newest checkpoint (the
 * CLI at exit with 0, the daemon's scheduler every ~2 s), and as a heartbeat when the
 * newest checkpoint is older than max_age_s; verify reports what is covered. */
static void log_checkpoint_if_due(void **state)
{
	(void)state;
	char *dir = tmpdir();
	struct fake_clock fc = {.now = 1795512142000000};
	sk_audit_options o;
	sk_audit_options_default(&o);
	o.checkpoint_seconds = 300;
	o.checkpoint_every = 1000;
	o.clock = fake_now;
	o.clock_ctx = &fc;
	sk_audit *a;
	sk_error err;
	assert_int_equal(sk_audit_open(dir, &o, &a, &err), 0);
	bool made = true;
	uint64_t size = 99, signed_size = 99;
	/* nothing recorded, no heartbeat asked: nothing to sign */
	assert_int_equal(sk_audit_checkpoint_if_due(a, 0, &made, &err), 0);
	assert_false(made);
	assert_int_equal(sk_audit_signed_size(a, &size, &signed_size, &err), 0);
	assert_int_equal(size, 0);
	assert_int_equal(signed_size, 0);
	/* the first append signs (no checkpoint yet); the next ones are an unsigned tail */
	append_n(a, 0, 5);
	assert_int_equal(sk_audit_signed_size(a, &size, &signed_size, &err), 0);
	assert_int_equal(size, 5);
	assert_int_equal(signed_size, 1);
	sk_audit_verify_result vr = verify(a, NULL);
	assert_true(vr.ok);
	assert_int_equal(vr.records, 5);
	assert_int_equal(vr.covered, 1); /* records 1..4 are not proven */
	fc.now += 1000000;
	assert_int_equal(sk_audit_checkpoint_if_due(a, 300, &made, &err), 0);
	assert_true(made); /* records past the checkpoint: signed at once, whatever the age */
	assert_int_equal(sk_audit_signed_size(a, NULL, &signed_size, &err), 0);
	assert_int_equal(signed_size, 5);
	vr = verify(a, NULL);
	assert_true(vr.ok);
	assert_int_equal(vr.covered, 5);
	assert_int_equal(vr.checkpoints, 2);
	/* nothing new: no checkpoint, until the heartbeat age has passed */
	assert_int_equal(sk_audit_checkpoint_if_due(a, 300, &made, &err), 0);
	assert_false(made);
	fc.now += 299 * 1000000LL;
	assert_int_equal(sk_audit_checkpoint_if_due(a, 300, &made, &err), 0);
	assert_false(made);
	assert_int_equal(sk_audit_checkpoint_if_due(a, 0, &made, &err), 0);
	assert_false(made); /* 0: no heartbeat at all */
	fc.now += 1000000;
	assert_int_equal(sk_audit_checkpoint_if_due(a, 300, &made, &err), 0);
	assert_true(made); /* 300 s: the heartbeat, same size */
	assert_int_equal(sk_audit_checkpoint_if_due(a, 300, NULL, &err), 0);
	/* another handle (another process) appends; this one signs its records */
	sk_audit *b;
	assert_int_equal(sk_audit_open(dir, &o, &b, &err), 0);
	append_n(b, 5, 2);
	sk_audit_close(b);
	assert_int_equal(sk_audit_checkpoint_if_due(a, 0, &made, &err), 0);
	assert_true(made);
	vr = verify(a, NULL);
	assert_true(vr.ok);
	assert_int_equal(vr.records, 7);
	assert_int_equal(vr.covered, 7);
	assert_string_equal(sk_audit_problem_code(SK_AUDIT_ROOT), "root");
	assert_string_equal(sk_audit_problem_code(SK_AUDIT_OK), "ok");
	assert_string_equal(sk_audit_problem_code(SK_AUDIT_TRUNCATED), "truncated");
	sk_audit_close(a);
	rmrf(dir);
}

static void key_mode_enforced(void **state)
{
	(void)state;
	char *dir = make_log(1, 16);
	char p[512];
	snprintf(p, sizeof(p), "%s/audit.key", dir);
	assert_int_equal(chmod(p, 0644), 0);
	sk_audit *a = NULL;
	sk_error err;
	assert_int_equal(sk_audit_open(dir, NULL, &a, &err), SK_EINVAL);
	assert_null(a);
	assert_non_null(strstr(err.msg, "0600"));
	/* a lost key is not silently replaced once checkpoints were signed with it */
	assert_int_equal(unlink(p), 0);
	assert_int_equal(sk_audit_open(dir, NULL, &a, &err), SK_EINVAL);
	assert_null(a);
	assert_non_null(strstr(err.msg, "restore the key"));
	rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(merkle_vectors),
		cmocka_unit_test(merkle_proof_vectors),
		cmocka_unit_test(merkle_large),
		cmocka_unit_test(note_go_vector),
		cmocka_unit_test(checkpoint_text),
		cmocka_unit_test(record_canonical),
		cmocka_unit_test(log_basics),
		cmocka_unit_test(log_heartbeat),
		cmocka_unit_test(log_checkpoint_if_due),
		cmocka_unit_test(log_group_commit),
		cmocka_unit_test(tamper_untouched),
		cmocka_unit_test(tamper_one_byte_sql),
		cmocka_unit_test(tamper_one_byte_file),
		cmocka_unit_test(tamper_delete),
		cmocka_unit_test(tamper_swap),
		cmocka_unit_test(tamper_rehashed),
		cmocka_unit_test(tamper_rehashed_root),
		cmocka_unit_test(tamper_truncate_anchor),
		cmocka_unit_test(tamper_checkpoint_signature),
		cmocka_unit_test(key_mode_enforced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
