/* The image module's internals: shared by image.c (dispatch, report, EXIF orientation,
 * ICC check) and the codecs image_png.c, image_jpeg.c, image_gif.c, image_bmp.c. */
#ifndef SK_IMAGE_INT_H
#define SK_IMAGE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/cdr.h"

/* One kind of thing removed from the image, reported once with a count. */
typedef struct img_removed {
	const char *what;  /* a `what` code of report.c */
	uint64_t count;    /* how many segments/chunks/extensions */
	uint64_t bytes;    /* for trailing/ancillary byte runs: their total size */
	char detail[112];  /* chunk/marker names, comma separated (safe ASCII) */
} img_removed;

#define IMG_REMOVED_MAX 12

/* One image being rebuilt. The codec reads data/size (the whole input) and writes the
 * rebuilt file into out; it records removals with sk_img_note(). */
typedef struct img_job {
	sk_cdr_ctx *ctx;
	sk_error *err;
	const uint8_t *data;
	size_t size;
	sk_buf out;
	img_removed rm[IMG_REMOVED_MAX];
	size_t nrm;
} img_job;

/* Record that one `what` was removed; name (may be NULL) is added to the detail once. */
void sk_img_note(img_job *j, const char *what, const char *name);
/* Record n bytes of `what` (trailing-data, ancillary-data runs): detail "N bytes". */
void sk_img_note_bytes(img_job *j, const char *what, uint64_t n);
/* Copy at most n bytes of an untrusted name into dst as safe printable ASCII. */
void sk_img_safe_name(char *dst, size_t dstsz, const uint8_t *src, size_t n);

/* Block as malformed with a printf-style detail; returns SK_EBLOCKED. */
int sk_img_malformed(img_job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Charge one image (or GIF frame / logical screen) of w x h pixels to the pixel budget;
 * blocks limit-pixels. Call it as soon as a header gives the size, before allocating. */
int sk_img_pixels(img_job *j, uint64_t w, uint64_t h);
/* Charge the bytes an image decodes into to the expansion budget; blocks limit-size.
 * Also refuses sizes that do not fit in memory arithmetic (> SIZE_MAX / 4). */
int sk_img_expand(img_job *j, uint64_t bytes);
/* The item's clock, looked at every IMG_TIME_ROWS rows (row 0 included): blocks
 * limit-time once the deadline has passed. Codecs call it in their row loops. */
#define IMG_TIME_ROWS 64
int sk_img_time(img_job *j, uint64_t row);

/* EXIF (a TIFF structure, without the "Exif\0\0" prefix): the Orientation tag of IFD0,
 * 1..8, or 0 when absent or invalid. */
int sk_img_exif_orientation(const uint8_t *tiff, size_t n);
/* A minimal EXIF TIFF block holding only Orientation o (2..8); returns its length
 * (IMG_EXIF_MIN_LEN). */
#define IMG_EXIF_MIN_LEN 26
size_t sk_img_exif_build(uint8_t out[IMG_EXIF_MIN_LEN], int o);

/* true when the ICC profile p (n bytes) describes sRGB: an RGB matrix/TRC profile whose
 * colorants, white point and tone curves match IEC 61966-2-1 within a small tolerance.
 * *intent gets its rendering intent (0..3). */
bool sk_img_icc_is_srgb(const uint8_t *p, size_t n, int *intent);

/* The codecs. Each returns 0 (j->out holds the rebuilt file), SK_EBLOCKED after
 * sk_cdr_block(), or another negative SK_E* code. */
int sk_img_png(img_job *j);
int sk_img_jpeg(img_job *j);
int sk_img_gif(img_job *j);
int sk_img_bmp(img_job *j);

static inline uint32_t img_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint16_t img_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t img_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}
static inline uint16_t img_le16(const uint8_t *p)
{
	return (uint16_t)(p[1] << 8 | p[0]);
}

#endif
