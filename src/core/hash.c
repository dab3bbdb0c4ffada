#include "sekisho/hash.h"

#include <sodium.h>

int sk_crypto_init(sk_error *err)
{
	if (sodium_init() < 0)
		return sk_error_set(err, SK_EINTERNAL, "libsodium initialisation failed");
	return 0;
}

void sk_sha256(const void *p, size_t n, uint8_t out[SK_SHA256_LEN])
{
	crypto_hash_sha256(out, p, n);
}

int sk_sha256_input(const sk_input *in, uint8_t out[SK_SHA256_LEN], sk_error *err)
{
	if (in->mem || in->loaded) {
		sk_sha256(in->mem ? in->mem : in->loaded, (size_t)in->size, out);
		return 0;
	}
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	static _Thread_local uint8_t chunk[1 << 20];
	for (uint64_t off = 0; off < in->size;) {
		size_t got;
		int rc = sk_input_pread(in, off, chunk, sizeof(chunk), &got, err);
		if (rc)
			return rc;
		if (got == 0)
			return sk_error_set(err, SK_EIO, "input shrank while hashed");
		crypto_hash_sha256_update(&st, chunk, got);
		off += got;
	}
	crypto_hash_sha256_final(&st, out);
	return 0;
}

void sk_hex(const uint8_t *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = 0;
}
