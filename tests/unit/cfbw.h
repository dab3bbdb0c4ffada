/* A tiny compound file (OLE2 / CFB) writer for the tests: storages and streams in, the
 * file's bytes out (version 3 with 512-byte sectors, or version 4 with 4096), with the
 * layout known so that a test can break a chosen link. Streams under 4096 bytes go to the
 * mini stream. Each storage's children make a balanced tree in the CFB order. */
#ifndef SK_CFBW_H
#define SK_CFBW_H

#include <stddef.h>
#include <stdint.h>

typedef struct cfbw cfbw;

cfbw *cfbw_new(unsigned shift);
void cfbw_free(cfbw *w);
/* A storage or a stream (data NULL: storage) under parent (0: the root); returns its id
 * (the entry's index in the directory). Data is copied. */
uint32_t cfbw_add(cfbw *w, uint32_t parent, const char *name, const void *data, size_t len);
/* A stream whose name is given as UTF-16 units (n of them). */
uint32_t cfbw_add16(cfbw *w, uint32_t parent, const uint16_t *name, size_t n, const void *data,
		    size_t len);
/* Extra free directory entries written after the real ones (to make many entries). */
void cfbw_pad_entries(cfbw *w, uint32_t n);
/* Writes the file into *out (malloc'd) / *n. */
void cfbw_build(cfbw *w, uint8_t **out, size_t *n);

/* After cfbw_build, on its bytes: */
uint32_t cfbw_ssz(const cfbw *w);
/* the first sector of an entry's data (FAT or mini FAT sector number) */
uint32_t cfbw_start(const cfbw *w, uint32_t id);
/* the directory's first sector, the first FAT sector, the mini FAT's first sector */
uint32_t cfbw_dir_sector(const cfbw *w);
uint32_t cfbw_minifat_sector(const cfbw *w);
/* FAT / mini FAT entry of sector s set to v (s must be within the written tables) */
void cfbw_fat_set(const cfbw *w, uint8_t *f, uint32_t s, uint32_t v);
void cfbw_minifat_set(const cfbw *w, uint8_t *f, uint32_t s, uint32_t v);
/* the 128 bytes of directory entry id */
uint8_t *cfbw_dirent(const cfbw *w, uint8_t *f, uint32_t id);

void cfbw_put16(uint8_t *p, uint16_t v);
void cfbw_put32(uint8_t *p, uint32_t v);

#endif
