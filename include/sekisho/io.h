/* sekisho — where an item's bytes come from and where its output goes.
 *
 * sk_input is either memory or an open file descriptor read with pread (so a module can
 * stream a large text file in chunks, or load a small container whole). sk_output is
 * either an sk_buf or a file descriptor. */
#ifndef SEKISHO_IO_H
#define SEKISHO_IO_H

#include <stdbool.h>
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
	/* sk_output_spill: opens the descriptor buf goes to once it is full (then fd), when
	 * needed; NULL otherwise */
	int (*spill_open)(void *ctx, sk_error *err);
	void *spill_ctx;
} sk_output;

void sk_output_buf(sk_output *o, sk_buf *b);
void sk_output_fd(sk_output *o, int fd, uint64_t max);
/* Memory first, then a descriptor: bytes go to b (whose max is the memory part) until a
 * write would pass b's max; then open_fd(ctx, err) gives the descriptor (>= 0; it stays the
 * caller's, in o->fd; a negative SK_E* fails that write), b's bytes and everything after
 * go to it, and the output is an fd output from there on (buf NULL). An output that fits
 * in b never opens one. max as for sk_output_fd. */
void sk_output_spill(sk_output *o, sk_buf *b, int (*open_fd)(void *ctx, sk_error *err), void *ctx,
		     uint64_t max);
/* Counts the bytes and keeps none (a report-only run). */
void sk_output_null(sk_output *o);
int sk_output_write(sk_output *o, const void *p, size_t n, sk_error *err);

/* Read a whole file (at most max bytes: SK_ELIMIT beyond) into b. */
int sk_read_file(const char *path, size_t max, sk_buf *b, sk_error *err);
/* Write data to path atomically: temp name in the same folder, fsync, rename,
 * fsync the folder. */
int sk_write_file_atomic(const char *path, const void *data, size_t n, int mode, sk_error *err);

/* ---- private state and files written under a temporary name ---- */

/* mkdir -p dir (new folders 0700), then makes dir itself 0700 whatever it was before
 * (SK_EIO when it is not a folder, is a shared folder with the sticky bit such as /tmp,
 * or has group/other bits and cannot be changed). */
int sk_dir_private(const char *dir, sk_error *err);
/* Makes the file at path mode 0600 when it allows anything more (a symbolic link is
 * refused); a missing file is fine when missing_ok. */
int sk_file_private(const char *path, bool missing_ok, sk_error *err);

/* A file written beside its final name, FINAL.sekisho-tmp.PID.RANDOM (mode 0600, an
 * exclusive flock held while open), then renamed into place: a reader never sees a
 * partial file under the final name, and sk_tmpfile_clean() can tell a temporary file of
 * a process that is gone (its pid is not alive and nobody holds its lock) from one that
 * is being written right now. */
typedef struct sk_tmpfile {
	int fd;    /* write here; -1 when not open */
	char *tmp; /* its current name (malloc'd) */
} sk_tmpfile;

#define SK_TMPFILE_MARK ".sekisho-tmp."

int sk_tmpfile_open(sk_tmpfile *t, const char *final, sk_error *err);
/* fchmod(mode) (mode < 0: 0666 minus the process umask), fsync, close, rename to final,
 * and when sync_folder fsync final's folder (a caller writing many files may instead
 * fsync each folder once when done: sk_fsync_dir). On failure the temporary file is
 * removed. t is closed either way. */
int sk_tmpfile_commit(sk_tmpfile *t, const char *final, int mode, bool sync_folder,
		      sk_error *err);
/* fsync of a folder (its entries: names created, renamed or removed in it). */
int sk_fsync_dir(const char *dir, sk_error *err);
/* Removes the temporary file and closes t (nothing when t is not open). */
void sk_tmpfile_discard(sk_tmpfile *t);
/* Removes the stale temporary files (NAME.sekisho-tmp.PID.RANDOM) directly in dir: those
 * whose process is gone and that nobody holds locked. A temporary file of a live process
 * (this one included) is never touched. *removed (may be NULL) gets the count. */
int sk_tmpfile_clean(const char *dir, unsigned *removed, sk_error *err);
/* 0666 & ~umask of this process (read without changing it where the system allows). */
int sk_umask_mode(void);

#endif
