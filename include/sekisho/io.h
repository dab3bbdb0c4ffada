/* sekisho — where an item's bytes come from and where its output goes.
 *
 * sk_input is either memory or an open file descriptor read with pread (so a module can
 * stream a large text file in chunks, or load a small container whole). sk_output is
 * either an sk_buf or a file descriptor. */
#ifndef SEKISHO_IO_H
#define SEKISHO_IO_H

#include <stddef.h>
#include <stdint.h>

#include "sekisho/buf.h"
#include "sekisho/error.h"

typedef struct sk_input {
	const uint8_t *mem; /* memory input, or NULL */
	int fd;             /* file input when mem is NULL */
	uint64_t size;
	uint8_t *loaded;    /* owned copy made by sk_input_load() for fd inputs */
} sk_input;

void sk_input_mem(sk_input *in, const void *p, size_t n);
/* size from fstat by the caller. The fd stays the caller's. */
void sk_input_fd(sk_input *in, int fd, uint64_t size);
/* Reads up to n bytes at off into buf; *got gets the count (0 at end). */
int sk_input_pread(const sk_input *in, uint64_t off, void *buf, size_t n, size_t *got,
		   sk_error *err);
/* Whole content in memory (fd inputs are read into an owned copy once). */
int sk_input_load(sk_input *in, const uint8_t **p, size_t *n, sk_error *err);
void sk_input_release(sk_input *in);

typedef struct sk_output {
	sk_buf *buf; /* memory output, or NULL */
	int fd;      /* file output when buf is NULL; -1 with buf NULL: discard */
	uint64_t written;
	uint64_t max; /* bytes; SK_ELIMIT beyond */
} sk_output;

void sk_output_buf(sk_output *o, sk_buf *b);
void sk_output_fd(sk_output *o, int fd, uint64_t max);
/* Counts the bytes and keeps none (a report-only run). */
void sk_output_null(sk_output *o);
int sk_output_write(sk_output *o, const void *p, size_t n, sk_error *err);

/* Read a whole file (at most max bytes: SK_ELIMIT beyond) into b. */
int sk_read_file(const char *path, size_t max, sk_buf *b, sk_error *err);
/* Write data to path atomically: temp name in the same folder, fsync, rename,
 * fsync the folder. */
int sk_write_file_atomic(const char *path, const void *data, size_t n, int mode, sk_error *err);

#endif
