/* RFC 9162 section 2.1 Merkle tree: hashing, compact range, proofs and their checks.
 * Written from the RFC's definitions (MTH, PATH, PROOF/SUBPROOF and the verification
 * algorithms of 2.1.3.2 and 2.1.4.2). */
#include <string.h>

#include <sodium.h>

#include "sekisho/audit.h"
#include "sekisho/hash.h"

void sk_merkle_leaf_hash(const void *leaf, size_t n, uint8_t out[SK_SHA256_LEN])
{
	/* H(0x00 || leaf) in one call of the SHA-NI path for ordinary record sizes */
	uint8_t b[2048];
	if (n < sizeof(b)) {
		b[0] = 0x00;
		memcpy(b + 1, leaf, n);
		sk_sha256(b, n + 1, out);
		return;
	}
	crypto_hash_sha256_state st;
	static const uint8_t zero = 0x00;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &zero, 1);
	crypto_hash_sha256_update(&st, leaf, n);
	crypto_hash_sha256_final(&st, out);
}

void sk_merkle_node_hash(const uint8_t left[SK_SHA256_LEN], const uint8_t right[SK_SHA256_LEN],
			 uint8_t out[SK_SHA256_LEN])
{
	uint8_t b[1 + 2 * SK_SHA256_LEN];
	b[0] = 0x01;
	memcpy(b + 1, left, SK_SHA256_LEN);
	memcpy(b + 1 + SK_SHA256_LEN, right, SK_SHA256_LEN);
	sk_sha256(b, sizeof(b), out);
}

void sk_merkle_empty_root(uint8_t out[SK_SHA256_LEN])
{
	crypto_hash_sha256(out, (const uint8_t *)"", 0);
}

void sk_merkle_frontier_init(sk_merkle_frontier *f)
{
	memset(f, 0, sizeof(*f));
}

int sk_merkle_frontier_push(sk_merkle_frontier *f, const uint8_t leaf_hash[SK_SHA256_LEN],
			    sk_merkle_node_cb cb, void *ctx)
{
	if (f->size == UINT64_MAX)
		return SK_ELIMIT;
	uint8_t cur[SK_SHA256_LEN];
	memcpy(cur, leaf_hash, SK_SHA256_LEN);
	unsigned level = 0;
	int rc;
	if (cb && (rc = cb(ctx, 0, f->size, cur)))
		return rc;
	/* every set low bit of size is a subtree that the new one completes */
	while ((f->size >> level) & 1) {
		sk_merkle_node_hash(f->h[level], cur, cur);
		level++;
		if (cb && (rc = cb(ctx, level, ((f->size + 1) >> level) - 1, cur)))
			return rc;
	}
	memcpy(f->h[level], cur, SK_SHA256_LEN);
	f->size++;
	return 0;
}

void sk_merkle_frontier_root(const sk_merkle_frontier *f, uint8_t out[SK_SHA256_LEN])
{
	if (f->size == 0) {
		sk_merkle_empty_root(out);
		return;
	}
	unsigned low = (unsigned)__builtin_ctzll(f->size);
	uint8_t r[SK_SHA256_LEN];
	memcpy(r, f->h[low], SK_SHA256_LEN);
	for (unsigned l = low + 1; l < 64; l++)
		if ((f->size >> l) & 1)
			sk_merkle_node_hash(f->h[l], r, r);
	memcpy(out, r, SK_SHA256_LEN);
}

/* Largest power of two strictly below n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
	return (uint64_t)1 << (63 - __builtin_clzll(n - 1));
}

static bool is_pow2(uint64_t n)
{
	return n && !(n & (n - 1));
}

int sk_merkle_range_hash(sk_merkle_node_fn fn, void *ctx, uint64_t begin, uint64_t end,
			 uint8_t out[SK_SHA256_LEN], sk_error *err)
{
	if (begin >= end)
		return sk_error_set(err, SK_EINVAL, "empty range %llu..%llu",
				    (unsigned long long)begin, (unsigned long long)end);
	uint64_t n = end - begin;
	if (is_pow2(n) && begin % n == 0) {
		unsigned level = (unsigned)__builtin_ctzll(n);
		return fn(ctx, level, begin >> level, out, err);
	}
	uint64_t k = split_point(n);
	uint8_t l[SK_SHA256_LEN], r[SK_SHA256_LEN];
	int rc = sk_merkle_range_hash(fn, ctx, begin, begin + k, l, err);
	if (rc == 0)
		rc = sk_merkle_range_hash(fn, ctx, begin + k, end, r, err);
	if (rc == 0)
		sk_merkle_node_hash(l, r, out);
	return rc;
}

/* PATH(m, D[begin:end]) appended to proof (leaf side first). */
static int path(sk_merkle_node_fn fn, void *ctx, uint64_t m, uint64_t begin, uint64_t end,
		uint8_t proof[][SK_SHA256_LEN], size_t *len, sk_error *err)
{
	uint64_t n = end - begin;
	if (n <= 1)
		return 0;
	uint64_t k = split_point(n);
	int rc;
	if (m < k) {
		if ((rc = path(fn, ctx, m, begin, begin + k, proof, len, err)))
			return rc;
		rc = sk_merkle_range_hash(fn, ctx, begin + k, end, proof[*len], err);
	} else {
		if ((rc = path(fn, ctx, m - k, begin + k, end, proof, len, err)))
			return rc;
		rc = sk_merkle_range_hash(fn, ctx, begin, begin + k, proof[*len], err);
	}
	if (rc == 0)
		(*len)++;
	return rc;
}

int sk_merkle_inclusion_proof(sk_merkle_node_fn fn, void *ctx, uint64_t index, uint64_t size,
			      uint8_t proof[][SK_SHA256_LEN], size_t *len, sk_error *err)
{
	*len = 0;
	if (index >= size)
		return sk_error_set(err, SK_EINVAL, "leaf %llu is not in a tree of %llu",
				    (unsigned long long)index, (unsigned long long)size);
	return path(fn, ctx, index, 0, size, proof, len, err);
}

/* SUBPROOF(m, D[begin:end], b) appended to proof. */
static int subproof(sk_merkle_node_fn fn, void *ctx, uint64_t m, uint64_t begin, uint64_t end,
		    bool b, uint8_t proof[][SK_SHA256_LEN], size_t *len, sk_error *err)
{
	uint64_t n = end - begin;
	int rc;
	if (m == n) {
		if (b)
			return 0;
		if ((rc = sk_merkle_range_hash(fn, ctx, begin, end, proof[*len], err)))
			return rc;
		(*len)++;
		return 0;
	}
	uint64_t k = split_point(n);
	if (m <= k) {
		if ((rc = subproof(fn, ctx, m, begin, begin + k, b, proof, len, err)))
			return rc;
		rc = sk_merkle_range_hash(fn, ctx, begin + k, end, proof[*len], err);
	} else {
		if ((rc = subproof(fn, ctx, m - k, begin + k, end, false, proof, len, err)))
			return rc;
		rc = sk_merkle_range_hash(fn, ctx, begin, begin + k, proof[*len], err);
	}
	if (rc == 0)
		(*len)++;
	return rc;
}

int sk_merkle_consistency_proof(sk_merkle_node_fn fn, void *ctx, uint64_t old, uint64_t size,
				uint8_t proof[][SK_SHA256_LEN], size_t *len, sk_error *err)
{
	*len = 0;
	if (old == 0 || old > size)
		return sk_error_set(err, SK_EINVAL, "no consistency proof from %llu to %llu",
				    (unsigned long long)old, (unsigned long long)size);
	return subproof(fn, ctx, old, 0, size, true, proof, len, err);
}

bool sk_merkle_verify_inclusion(const uint8_t leaf_hash[SK_SHA256_LEN], uint64_t index,
				uint64_t size, const uint8_t proof[][SK_SHA256_LEN], size_t len,
				const uint8_t root[SK_SHA256_LEN])
{
	if (index >= size)
		return false;
	uint64_t fn = index, sn = size - 1;
	uint8_t r[SK_SHA256_LEN];
	memcpy(r, leaf_hash, SK_SHA256_LEN);
	for (size_t i = 0; i < len; i++) {
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			sk_merkle_node_hash(proof[i], r, r);
			if (!(fn & 1))
				while (fn && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			sk_merkle_node_hash(r, proof[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && sodium_memcmp(r, root, SK_SHA256_LEN) == 0;
}

bool sk_merkle_verify_consistency(uint64_t old, uint64_t size,
				  const uint8_t proof[][SK_SHA256_LEN], size_t len,
				  const uint8_t old_root[SK_SHA256_LEN],
				  const uint8_t root[SK_SHA256_LEN])
{
	if (old == 0 || old > size)
		return false;
	if (old == size)
		return len == 0 && sodium_memcmp(old_root, root, SK_SHA256_LEN) == 0;
	if (len == 0 || len > SK_MERKLE_PROOF_MAX)
		return false;
	/* when old is a power of two, its root is the first element of the path */
	const uint8_t *first;
	size_t i = 0;
	if (is_pow2(old)) {
		first = old_root;
	} else {
		first = proof[0];
		i = 1;
	}
	uint64_t fn = old - 1, sn = size - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	uint8_t fr[SK_SHA256_LEN], sr[SK_SHA256_LEN];
	memcpy(fr, first, SK_SHA256_LEN);
	memcpy(sr, first, SK_SHA256_LEN);
	for (; i < len; i++) {
		const uint8_t *c = proof[i];
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			sk_merkle_node_hash(c, fr, fr);
			sk_merkle_node_hash(c, sr, sr);
			if (!(fn & 1))
				while (fn && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			sk_merkle_node_hash(sr, c, sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && sodium_memcmp(fr, old_root, SK_SHA256_LEN) == 0 &&
	       sodium_memcmp(sr, root, SK_SHA256_LEN) == 0;
}
