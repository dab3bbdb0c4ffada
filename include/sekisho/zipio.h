/* sekisho — zipio: the one way to read a ZIP archive held in memory (base layer; libzip for
 * the archive, zlib for stored/deflated data, a walk of the central directory of our own for
 * what libzip does not expose). Used by the ZIP and OOXML modules, by detection (the
 * sniffing of OOXML/ODF/JAR-like ZIPs) and by mail and the engine (password ZIPs).
 *
 * Opening checks that libzip (ZIP_CHECKCONS when the names are unique) and our walk agree,
 * that every local header lies inside the input, agrees with its central record and
 * overlaps no other entry. sk_zipio_check applies the budget to every entry before anything
 * is decompressed (entry count, encryption, declared ratio, the declared expanded size
 * against what is left); sk_zipio_read reads one entry under the budget (never more than
 * its declared size, every byte charged to the expansion and the ratio as it arrives, the
 * item's clock looked at per chunk, size and CRC checked). Depth is the caller's.
 *
 * Results: 0; SK_EBLOCKED with *why (a sk_reason: malformed, encrypted, limit-*) and a short
 * detail in err->msg (for sk_zipio_read the caller names the entry); SK_ENOMEM; SK_EINTERNAL. */
#ifndef SEKISHO_ZIPIO_H
#define SEKISHO_ZIPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/budget.h"
#include "sekisho/buf.h"
#include "sekisho/error.h"
#include "sekisho/report.h"

struct zip; /* libzip's zip_t */

typedef struct sk_zipio sk_zipio;

typedef struct sk_zipio_entry {
	const uint8_t *raw_name; /* the name's bytes in the archive (not NUL-terminated) */
	size_t raw_name_len;
	uint64_t size;           /* declared expanded size */
	uint64_t comp_size;
	uint16_t method;         /* ZIP_CM_* */
	uint16_t flags;          /* general purpose flags */
	uint32_t crc;
	uint32_t attr;           /* external attributes (Unix mode in the high half) */
	bool encrypted;          /* traditional, strong or AES encryption ("PPAP") */
} sk_zipio_entry;

/* Opens p[0..n) (which must outlive z). */
int sk_zipio_open(sk_zipio **z, const uint8_t *p, size_t n, sk_reason *why, sk_error *err);
void sk_zipio_close(sk_zipio *z);
uint64_t sk_zipio_count(const sk_zipio *z);
/* Entry i (i < count); its pointers live as long as z. */
int sk_zipio_entry_get(sk_zipio *z, uint64_t i, sk_zipio_entry *e, sk_error *err);
/* The entry's name as UTF-8 into out (reset first; NUL bytes of the name kept, counted by
 * sk_buf_len). Order: libzip applied an Info-ZIP Unicode Path field → that; UTF-8 flag or
 * ASCII → as is; valid UTF-8 → as is; valid CP932 with Japanese characters (Japanese
 * Windows) → CP932; else CP437, the format's default; else the bytes as they are. */
int sk_zipio_name(sk_zipio *z, uint64_t i, sk_buf *out);
/* The budget checks of every entry before anything is decompressed (see above). The
 * detail of an encrypted entry is its decoded name. */
int sk_zipio_check(sk_zipio *z, sk_budget *b, sk_reason *why, sk_error *err);
/* Reads entry i into out (appended) under b. *exact (may be NULL): the entry's compressed
 * bytes are exactly the stored/deflate stream of what was read, so a copy of them
 * (zip_source_zip with ZIP_FL_COMPRESSED) delivers the same bytes and nothing else. */
int sk_zipio_read(sk_zipio *z, uint64_t i, sk_budget *b, sk_buf *out, bool *exact,
		  sk_reason *why, sk_error *err);

/* Called by sk_zipio_read_cb after each piece of the entry's data (1 byte to 64 KiB) was
 * charged to the budget and appended to out; p[0..n) is that piece (also the last n bytes
 * of out). SK_REASON_NONE goes on; any other reason stops the read there. */
typedef sk_reason (*sk_zipio_piece_fn)(void *ud, const uint8_t *p, size_t n);
/* sk_zipio_read, with fn (may be NULL: the same as sk_zipio_read) looking at the data as
 * it arrives, so that a caller can refuse an entry without reading it to its end (the
 * OOXML module counts markup starts against the node limit). A stop is SK_EBLOCKED with
 * *why the callback's reason and err->msg SK_ZIPIO_STOPPED; out then holds the pieces
 * read so far, whose size and CRC were not checked, and *exact is false. Besides the
 * results above: SK_ELIMIT when out cannot hold the data (its max). */
int sk_zipio_read_cb(sk_zipio *z, uint64_t i, sk_budget *b, sk_buf *out, bool *exact,
		     sk_zipio_piece_fn fn, void *ud, sk_reason *why, sk_error *err);
#define SK_ZIPIO_STOPPED "stopped"
/* The libzip archive, for copying entries raw and for comments. */
struct zip *sk_zipio_libzip(sk_zipio *z);

/* Unlocking a password ZIP (PPAP) in a worker: with a password set, an entry encrypted
 * with a method libzip can decrypt (traditional PKWARE "ZipCrypto", WinZip AES) is no
 * longer refused by sk_zipio_check and sk_zipio_read decrypts it (never a raw copy:
 * *exact stays false). A decryption that fails — the password's check value, the CRC or
 * the AES authentication code — is SK_EBLOCKED with *why SK_REASON_ENCRYPTED and the
 * detail "wrong password"; strong encryption and an encrypted central directory stay
 * refused as before. pw is borrowed (NULL: none), not copied: it must outlive z, and its
 * owner zeroes it. */
void sk_zipio_set_password(sk_zipio *z, const char *pw);
/* The cheap test of a password: *ok when every encrypted entry's check value (1 byte for
 * ZipCrypto, 2 for AES) accepts pw and every encrypted entry uses a method libzip can
 * decrypt. A wrong password passes this by chance (1 in 256 per entry, 1 in 65536 for
 * AES): only reading the entries (sk_zipio_read) proves it. *encrypted (may be NULL):
 * some entry is encrypted. */
int sk_zipio_password_test(sk_zipio *z, const char *pw, bool *ok, bool *encrypted,
			   sk_error *err);
#define SK_ZIPIO_WRONG_PASSWORD "wrong password"

/* A password ZIP ("PPAP"), without opening it through libzip: the first local header, or a
 * record of the central directory, says encrypted (traditional, strong or AES). */
bool sk_zipio_encrypted(const uint8_t *p, size_t n);

#endif
