/* C2SP signed-note (https://c2sp.org/signed-note) with Ed25519 keys in the Go
 * sumdb/note text formats, and C2SP tlog-checkpoint bodies. Parsing is strict and
 * bounded (SK_NOTE_MAX bytes, SK_NOTE_SIGS_MAX signature lines). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sekisho/audit.h"
#include "sekisho/name.h"

#define ALG_ED25519 0x01
static const char em_dash[] = "\xe2\x80\x94 "; /* U+2014 then a space */

void sk_note_key_id(const char *name, const uint8_t pk[32], uint8_t id[4])
{
	crypto_hash_sha256_state st;
	uint8_t h[32];
	static const uint8_t sep[2] = {0x0a, ALG_ED25519};
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name));
	crypto_hash_sha256_update(&st, sep, 2);
	crypto_hash_sha256_update(&st, pk, 32);
	crypto_hash_sha256_final(&st, h);
	memcpy(id, h, 4);
}

/* Names: non-empty UTF-8 without spaces or '+'. */
static bool name_ok(const char *s, size_t n)
{
	if (n == 0 || n >= SK_NOTE_NAME_MAX || !sk_utf8_valid(s, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == '+' || c == 0x7f)
			return false;
	}
	/* Unicode spaces that are not ASCII: U+00A0, U+1680, U+2000–U+200A, U+2028, U+2029,
	 * U+202F, U+205F, U+3000 */
	for (size_t i = 0; i + 1 < n; i++) {
		const unsigned char *u = (const unsigned char *)s + i;
		if (u[0] == 0xc2 && u[1] == 0xa0)
			return false;
		if (i + 2 < n) {
			if (u[0] == 0xe1 && u[1] == 0x9a && u[2] == 0x80)
				return false;
			if (u[0] == 0xe2 && u[1] == 0x80 &&
			    ((u[2] >= 0x80 && u[2] <= 0x8a) || u[2] == 0xa8 || u[2] == 0xa9 ||
			     u[2] == 0xaf))
				return false;
			if (u[0] == 0xe2 && u[1] == 0x81 && u[2] == 0x9f)
				return false;
			if (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80)
				return false;
		}
	}
	return true;
}

static int b64enc(const uint8_t *p, size_t n, sk_buf *out)
{
	size_t len = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
	int rc = sk_buf_reserve(out, len);
	if (rc)
		return rc;
	sodium_bin2base64((char *)out->data + out->len, len, p, n, sodium_base64_VARIANT_ORIGINAL);
	out->len += len - 1;
	out->data[out->len] = 0;
	return 0;
}

/* Strict base64 (padded, no whitespace) of exactly want bytes (want 0: any up to max). */
static int b64dec(const char *s, size_t n, uint8_t *out, size_t max, size_t *got)
{
	const char *end = NULL;
	if (n == 0 || n % 4)
		return SK_EFORMAT;
	if (sodium_base642bin(out, max, s, n, NULL, got, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != s + n)
		return SK_EFORMAT;
	/* canonical: re-encoding gives the same text */
	char re[512];
	if (sodium_base64_encoded_len(*got, sodium_base64_VARIANT_ORIGINAL) > sizeof(re))
		return SK_EFORMAT;
	sodium_bin2base64(re, sizeof(re), out, *got, sodium_base64_VARIANT_ORIGINAL);
	if (strlen(re) != n || memcmp(re, s, n) != 0)
		return SK_EFORMAT;
	return 0;
}

static int hex8(const char *s, uint8_t id[4])
{
	for (int i = 0; i < 8; i++) {
		char c = s[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (v < 0)
			return SK_EFORMAT;
		if (i % 2 == 0)
			id[i / 2] = (uint8_t)(v << 4);
		else
			id[i / 2] |= (uint8_t)v;
	}
	return 0;
}

int sk_note_signer_vkey(const sk_note_signer *s, sk_buf *out)
{
	uint8_t kb[33];
	char hx[9];
	kb[0] = ALG_ED25519;
	memcpy(kb + 1, s->pk, 32);
	sk_hex(s->id, 4, hx);
	sk_buf_reset(out);
	int rc = sk_buf_printf(out, "%s+%s+", s->name, hx);
	return rc ? rc : b64enc(kb, 33, out);
}

int sk_note_key_generate(const char *name, char **skey, char **vkey, sk_error *err)
{
	*skey = *vkey = NULL;
	if (!name_ok(name, strlen(name)))
		return sk_error_set(err, SK_EINVAL, "bad key name");
	int rc = sk_crypto_init(err);
	if (rc)
		return rc;
	uint8_t seed[33];
	seed[0] = ALG_ED25519;
	randombytes_buf(seed + 1, 32);
	sk_note_signer s;
	memset(&s, 0, sizeof(s));
	memcpy(s.name, name, strlen(name) + 1);
	crypto_sign_seed_keypair(s.pk, s.sk, seed + 1);
	sk_note_key_id(name, s.pk, s.id);
	char hx[9];
	sk_hex(s.id, 4, hx);
	sk_buf a, b;
	sk_buf_init(&a, 4096);
	sk_buf_init(&b, 4096);
	rc = sk_buf_printf(&a, "PRIVATE+KEY+%s+%s+", name, hx);
	if (rc == 0)
		rc = b64enc(seed, 33, &a);
	if (rc == 0)
		rc = sk_note_signer_vkey(&s, &b);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(&s, sizeof(s));
	if (rc) {
		sodium_memzero(a.data, a.len);
		sk_buf_free(&a);
		sk_buf_free(&b);
		return sk_error_set(err, rc, "key text");
	}
	size_t n;
	*skey = (char *)sk_buf_take(&a, &n);
	*vkey = (char *)sk_buf_take(&b, &n);
	return 0;
}

/* "name+hexid+base64" → parts; the base64 part may itself contain '+'. */
static int split_key(const char *s, const char **name, size_t *nlen, const char **id,
		     const char **b64)
{
	const char *p1 = strchr(s, '+');
	if (!p1)
		return SK_EFORMAT;
	const char *p2 = strchr(p1 + 1, '+');
	if (!p2 || p2 - p1 - 1 != 8)
		return SK_EFORMAT;
	*name = s;
	*nlen = (size_t)(p1 - s);
	*id = p1 + 1;
	*b64 = p2 + 1;
	return 0;
}

int sk_note_signer_parse(const char *skey, sk_note_signer *s, sk_error *err)
{
	static const char pfx[] = "PRIVATE+KEY+";
	memset(s, 0, sizeof(*s));
	int rc = sk_crypto_init(err);
	if (rc)
		return rc;
	size_t kl = strlen(skey);
	while (kl && (skey[kl - 1] == '\n' || skey[kl - 1] == '\r'))
		kl--;
	if (kl > 1024 || strncmp(skey, pfx, sizeof(pfx) - 1) != 0)
		return sk_error_set(err, SK_EFORMAT, "not a signer key");
	char tmp[1025];
	memcpy(tmp, skey, kl);
	tmp[kl] = 0;
	const char *name, *id, *b64;
	size_t nlen, got;
	uint8_t kb[64], wantid[4];
	if (split_key(tmp + sizeof(pfx) - 1, &name, &nlen, &id, &b64) != 0 || !name_ok(name, nlen) ||
	    hex8(id, wantid) != 0 || b64dec(b64, strlen(b64), kb, sizeof(kb), &got) != 0 ||
	    got != 33 || kb[0] != ALG_ED25519) {
		sodium_memzero(tmp, sizeof(tmp));
		return sk_error_set(err, SK_EFORMAT, "malformed signer key");
	}
	memcpy(s->name, name, nlen);
	s->name[nlen] = 0;
	crypto_sign_seed_keypair(s->pk, s->sk, kb + 1);
	sodium_memzero(kb, sizeof(kb));
	sodium_memzero(tmp, sizeof(tmp));
	sk_note_key_id(s->name, s->pk, s->id);
	if (memcmp(s->id, wantid, 4) != 0) {
		sodium_memzero(s, sizeof(*s));
		return sk_error_set(err, SK_EFORMAT, "signer key id does not match the key");
	}
	return 0;
}

int sk_note_verifier_parse(const char *vkey, sk_note_verifier *v, sk_error *err)
{
	memset(v, 0, sizeof(*v));
	size_t kl = strlen(vkey);
	while (kl && (vkey[kl - 1] == '\n' || vkey[kl - 1] == '\r'))
		kl--;
	if (kl > 1024)
		return sk_error_set(err, SK_EFORMAT, "verifier key too long");
	char tmp[1025];
	memcpy(tmp, vkey, kl);
	tmp[kl] = 0;
	const char *name, *id, *b64;
	size_t nlen, got;
	uint8_t kb[64];
	if (split_key(tmp, &name, &nlen, &id, &b64) != 0 || !name_ok(name, nlen) ||
	    hex8(id, v->id) != 0 || b64dec(b64, strlen(b64), kb, sizeof(kb), &got) != 0 ||
	    got != 33 || kb[0] != ALG_ED25519)
		return sk_error_set(err, SK_EFORMAT, "malformed verifier key");
	memcpy(v->name, name, nlen);
	v->name[nlen] = 0;
	memcpy(v->pk, kb + 1, 32);
	uint8_t want[4];
	sk_note_key_id(v->name, v->pk, want);
	if (memcmp(want, v->id, 4) != 0)
		return sk_error_set(err, SK_EFORMAT, "verifier key id does not match the key");
	return 0;
}

/* Text rules: UTF-8, ends with '\n', no "\n\n", no control characters but '\n'. */
static bool text_ok(const char *t, size_t n)
{
	if (n == 0 || t[n - 1] != '\n' || !sk_utf8_valid(t, n))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];
		if ((c < 0x20 && c != '\n') || c == 0x7f)
			return false;
		if (c == '\n' && i + 1 < n && t[i + 1] == '\n')
			return false;
	}
	return true;
}

int sk_note_sign(const sk_note_signer *s, const char *text, size_t n, sk_buf *out,
		 sk_error *err)
{
	if (!text_ok(text, n) || n > SK_NOTE_MAX)
		return sk_error_set(err, SK_EINVAL, "note text is not signable");
	uint8_t sig[4 + crypto_sign_BYTES];
	memcpy(sig, s->id, 4);
	crypto_sign_detached(sig + 4, NULL, (const uint8_t *)text, n, s->sk);
	sk_buf_reset(out);
	int rc = sk_buf_add(out, text, n);
	if (rc == 0)
		rc = sk_buf_printf(out, "\n%s%s ", em_dash, s->name);
	if (rc == 0)
		rc = b64enc(sig, sizeof(sig), out);
	if (rc == 0)
		rc = sk_buf_addc(out, '\n');
	return rc ? sk_error_set(err, rc, "note") : 0;
}

sk_note_status sk_note_open(const sk_note_verifier *v, const char *note, size_t n,
			    size_t *text_len)
{
	*text_len = 0;
	if (n == 0 || n > SK_NOTE_MAX || note[n - 1] != '\n' || !sk_utf8_valid(note, n))
		return SK_NOTE_MALFORMED;
	/* the signatures follow the last blank line */
	size_t split = SIZE_MAX;
	for (size_t i = n - 1; i > 0; i--)
		if (note[i] == '\n' && note[i - 1] == '\n') {
			split = i; /* note[i] is the blank line's newline */
			break;
		}
	if (split == SIZE_MAX)
		return SK_NOTE_MALFORMED;
	size_t tl = split;
	if (!text_ok(note, tl))
		return SK_NOTE_MALFORMED;
	bool found = false, bad = false;
	unsigned sigs = 0;
	for (size_t p = split + 1; p < n;) {
		const char *line = note + p;
		const char *nl = memchr(line, '\n', n - p);
		size_t ll = (size_t)(nl - line);
		p += ll + 1;
		if (++sigs > SK_NOTE_SIGS_MAX)
			return SK_NOTE_MALFORMED;
		if (ll < sizeof(em_dash) - 1 || memcmp(line, em_dash, sizeof(em_dash) - 1) != 0)
			return SK_NOTE_MALFORMED;
		const char *nm = line + sizeof(em_dash) - 1;
		const char *sp = memchr(nm, ' ', ll - (size_t)(nm - line));
		if (!sp)
			return SK_NOTE_MALFORMED;
		size_t nml = (size_t)(sp - nm);
		const char *b64 = sp + 1;
		size_t bl = ll - (size_t)(b64 - line);
		uint8_t raw[512];
		size_t got;
		if (!name_ok(nm, nml) || bl > 600 || b64dec(b64, bl, raw, sizeof(raw), &got) != 0 ||
		    got < 5)
			return SK_NOTE_MALFORMED;
		if (nml != strlen(v->name) || memcmp(nm, v->name, nml) != 0 ||
		    memcmp(raw, v->id, 4) != 0)
			continue; /* another key's signature: ignored */
		if (got != 4 + crypto_sign_BYTES ||
		    crypto_sign_verify_detached(raw + 4, (const uint8_t *)note, tl, v->pk) != 0)
			bad = true;
		else
			found = true;
	}
	if (sigs == 0)
		return SK_NOTE_MALFORMED;
	*text_len = tl;
	if (bad)
		return SK_NOTE_BAD_SIGNATURE;
	return found ? SK_NOTE_OK : SK_NOTE_UNSIGNED;
}

int sk_checkpoint_format(const sk_checkpoint *cp, sk_buf *out)
{
	sk_buf_reset(out);
	int rc = sk_buf_printf(out, "%s\n%llu\n", cp->origin, (unsigned long long)cp->size);
	if (rc == 0)
		rc = b64enc(cp->root, SK_SHA256_LEN, out);
	if (rc == 0)
		rc = sk_buf_addc(out, '\n');
	if (rc == 0 && cp->time_us >= 0)
		rc = sk_buf_printf(out, "time %lld\n", (long long)cp->time_us);
	return rc;
}

static int parse_u64(const char *s, size_t n, uint64_t *v)
{
	if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
		return SK_EFORMAT;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return SK_EFORMAT;
		uint64_t d = (uint64_t)(s[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return SK_EFORMAT;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

int sk_checkpoint_parse(const char *text, size_t n, sk_checkpoint *cp, sk_error *err)
{
	memset(cp, 0, sizeof(*cp));
	cp->time_us = -1;
	if (!text_ok(text, n) || n > SK_NOTE_MAX)
		return sk_error_set(err, SK_EFORMAT, "checkpoint text malformed");
	const char *lines[64];
	size_t lens[64], nl = 0;
	for (size_t p = 0; p < n;) {
		const char *e = memchr(text + p, '\n', n - p);
		if (nl == 64)
			return sk_error_set(err, SK_EFORMAT, "checkpoint has too many lines");
		lines[nl] = text + p;
		lens[nl++] = (size_t)(e - (text + p));
		p = (size_t)(e - text) + 1;
	}
	uint8_t root[64];
	size_t got;
	if (nl < 3 || lens[0] == 0 || lens[0] >= SK_NOTE_NAME_MAX ||
	    parse_u64(lines[1], lens[1], &cp->size) != 0 ||
	    b64dec(lines[2], lens[2], root, sizeof(root), &got) != 0 || got != SK_SHA256_LEN)
		return sk_error_set(err, SK_EFORMAT, "checkpoint is not origin / size / root hash");
	memcpy(cp->origin, lines[0], lens[0]);
	cp->origin[lens[0]] = 0;
	memcpy(cp->root, root, SK_SHA256_LEN);
	for (size_t i = 3; i < nl; i++) {
		uint64_t t;
		if (lens[i] > 5 && memcmp(lines[i], "time ", 5) == 0 &&
		    parse_u64(lines[i] + 5, lens[i] - 5, &t) == 0 && t <= INT64_MAX)
			cp->time_us = (int64_t)t;
	}
	return 0;
}
