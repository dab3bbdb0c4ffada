/* sekisho — SHA-256 (libsodium). */
#ifndef SEKISHO_HASH_H
#define SEKISHO_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "sekisho/error.h"
#include "sekisho/io.h"

#define SK_SHA256_LEN 32
#define SK_SHA256_HEX 65

/* libsodium must be initialised once; every entry point that hashes calls this. */
int sk_crypto_init(sk_error *err);
void sk_sha256(const void *p, size_t n, uint8_t out[SK_SHA256_LEN]);
int sk_sha256_input(const sk_input *in, uint8_t out[SK_SHA256_LEN], sk_error *err);
/* Lower-case hex, NUL-terminated. */
void sk_hex(const uint8_t *p, size_t n, char *out);
/* The value of one hex digit (0-9, a-f, A-F); SK_EFORMAT (negative) for any other c. */
int sk_hex_digit(int c);

#endif
