#include "sekisho/hash.h"

#include <stdlib.h>

#include <openssl/evp.h>
#include <sodium.h>

int sk_crypto_init(sk_error *err)
{
	if (sodium_init() < 0)
		return sk_error_set(err, SK_EINTERNAL, "libsodium initialisation failed");
	return 0;
}

/* SHA-256 of items comes from OpenSSL, which uses the CPU's SHA instructions (SHA-NI,
 * ARMv8 SHA2): several times libsodium's portable code, and every item is hashed once
 * in full before anything else. libsodium stays for Ed25519 and small hashes. */
void sk_sha256(const void *p, size_t n, uint8_t out[SK_SHA256_LEN])
{
	unsigned len = 0;
	if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 || len != SK_SHA256_LEN)
		crypto_hash_sha256(out, p, n); /* never expected; same result */
}

int sk_sha256_input(const sk_input *in, uint8_t out[SK_SHA256_LEN], sk_error *err)
{
	if (in->mem || in->loaded) {
		sk_sha256(in->mem ? in->mem : in->loaded, (size_t)in->size, out);
		return 0;
	}
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return sk_error_set(err, SK_EINTERNAL, "sha256 init");
	}
	/* on the heap, not _Thread_local: a static TLS array is zeroed at every thread's
	 * start (the milter's libmilter threads come and go per message) */
	enum { CHUNK = 1 << 20 };
	uint8_t *chunk = malloc(CHUNK);
	if (!chunk) {
		EVP_MD_CTX_free(md);
		return sk_error_set(err, SK_ENOMEM, "sha256");
	}
	int rc = 0;
	for (uint64_t off = 0; off < in->size;) {
		size_t got;
		rc = sk_input_pread(in, off, chunk, CHUNK, &got, err);
		if (rc)
			break;
		if (got == 0) {
			rc = sk_error_set(err, SK_EIO, "input shrank while hashed");
			break;
		}
		if (EVP_DigestUpdate(md, chunk, got) != 1) {
			rc = sk_error_set(err, SK_EINTERNAL, "sha256 update");
			break;
		}
		off += got;
	}
	unsigned len = 0;
	if (rc == 0 && (EVP_DigestFinal_ex(md, out, &len) != 1 || len != SK_SHA256_LEN))
		rc = sk_error_set(err, SK_EINTERNAL, "sha256 final");
	EVP_MD_CTX_free(md);
	free(chunk);
	return rc;
}

int sk_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return SK_EFORMAT;
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
