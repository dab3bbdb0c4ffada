/* sekisho — cfb: the one reader of compound files (OLE2, "Compound File Binary", [MS-CFB]),
 * base layer. Detection reads the directory of every OLE2 file with it (what kind of
 * legacy document, MSI or encrypted Office it is); the Outlook .msg module reads the
 * message's property streams and attachments with it.
 *
 * The input is an sk_input (memory or a file read with pread): nothing is loaded whole.
 * Opening reads the header, the DIFAT (the list of FAT sectors: the header's 109 entries,
 * then the chain of DIFAT sectors) and the directory; the FAT itself is read sector by
 * sector as chains are followed. Every chain (DIFAT, directory, FAT, mini FAT, the mini
 * stream, a stream) is walked with loop detection (a sector met twice in one chain is
 * malformed) and never past the sectors the file has. Each allocated directory entry is
 * charged to the budget's entry count; each stream byte read to its expansion (a stream
 * whose chain shares sectors with another's cannot multiply the input unnoticed); the
 * item's clock is looked at per stream and every 256 sectors. A stream declared larger
 * than the file is malformed (in strict mode as soon as a tree reaches it). The
 * red-black trees of the storages are walked without recursion, each entry at most once;
 * each entry reached gets its parent storage.
 *
 * Strict (the default, for a module that delivers what it reads): the header must say
 * version 3 with 512-byte sectors or version 4 with 4096-byte ones, 64-byte mini sectors
 * and the 4096-byte mini stream cutoff; every FAT sector the header counts must be in the
 * file; a directory entry must have a valid type and name length, links inside the
 * directory; an entry reached twice, a free entry in a tree, or a chain that ends early
 * (a truncated file) is malformed. Over the entry count: limit-entries.
 * SK_CFB_LENIENT (detection, which only names a type and never delivers): what can be read
 * is kept — the directory up to the first broken link or the budget's entry count, the
 * header's DIFAT entries whatever it counts, bad tree links skipped — and only a header
 * that is not a compound file fails.
 *
 * Results: 0; SK_EBLOCKED with *why (SK_REASON_MALFORMED, SK_REASON_LIMIT_*) and a short
 * English detail in err->msg; SK_ENOMEM; SK_EIO (an fd input that cannot be read). */
#ifndef SEKISHO_CFB_H
#define SEKISHO_CFB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/budget.h"
#include "sekisho/buf.h"
#include "sekisho/error.h"
#include "sekisho/io.h"
#include "sekisho/report.h"

typedef struct sk_cfb sk_cfb;

#define SK_CFB_NONE 0xFFFFFFFFu /* no entry */
#define SK_CFB_ROOT_ID 0u       /* the root storage is entry 0 */

typedef enum sk_cfb_type {
	SK_CFB_EMPTY = 0,   /* unallocated */
	SK_CFB_STORAGE = 1,
	SK_CFB_STREAM = 2,
	SK_CFB_ROOT = 5,
} sk_cfb_type;

typedef struct sk_cfb_entry {
	sk_cfb_type type;
	char name[100];     /* UTF-8 (31 UTF-16 units at most; bad surrogates as U+FFFD) */
	uint64_t size;      /* bytes of a stream (of the mini stream for the root) */
	uint32_t parent;    /* the storage whose tree holds it; SK_CFB_NONE for the root and
			       for entries no tree reaches */
	uint8_t clsid[16];
} sk_cfb_entry;

enum { SK_CFB_LENIENT = 1 };

/* Opens the compound file in `in` (which must outlive c) under b (entries charged; b may
 * be NULL in SK_CFB_LENIENT mode only: then at most 4096 entries are read). */
int sk_cfb_open(sk_cfb **c, const sk_input *in, sk_budget *b, unsigned flags, sk_reason *why,
		sk_error *err);
void sk_cfb_close(sk_cfb *c);

/* Directory entries read (allocated or not). */
uint32_t sk_cfb_count(const sk_cfb *c);
/* Entry id, or NULL past the directory. */
const sk_cfb_entry *sk_cfb_entry_at(const sk_cfb *c, uint32_t id);
/* The children of a storage (the root is SK_CFB_ROOT_ID) one by one: *it starts at 0;
 * returns the next child's id, SK_CFB_NONE at the end. */
uint32_t sk_cfb_next_child(const sk_cfb *c, uint32_t storage, uint32_t *it);
/* The child of storage named name (ASCII letters compared without case, as CFB does):
 * its id, or SK_CFB_NONE. */
uint32_t sk_cfb_find(const sk_cfb *c, uint32_t storage, const char *name);

/* Appends stream id (its whole declared size, from the mini stream when it is under the
 * cutoff) to out. A stream over max bytes is SK_EBLOCKED limit-size before anything is
 * read; not a stream: SK_EINVAL. SK_ELIMIT when out cannot hold it. */
int sk_cfb_read(sk_cfb *c, uint32_t id, sk_budget *b, uint64_t max, sk_buf *out, sk_reason *why,
		sk_error *err);

#endif
