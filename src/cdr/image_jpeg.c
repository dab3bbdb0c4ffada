/* JPEG: lossless transcoding. libjpeg reads the DCT coefficients (jpeg_read_coefficients)
 * and writes a new stream from them (jpeg_write_coefficients) with fresh headers: the
 * quantisation tables and coefficients are kept exactly, so the picture is identical
 * and nothing is re-compressed. The output is sequential (baseline) Huffman, whatever the
 * input was: progressive output took 60 % more time (1024x768: 25 ms against 16 ms) for a
 * file 2 % smaller, and every viewer reads baseline; arithmetic-coded input is written with
 * Huffman coding too. Huffman tables are optimised (see jpg_encode).
 *
 * Every APPn and COM segment is seen by our own marker reader (libjpeg's default readers
 * are replaced), so that nothing is missed in the report:
 *   APP0 JFIF   → its version and density are kept (libjpeg writes a fresh JFIF header);
 *                 a JFIF thumbnail, JFXX and any other APP0 are dropped (ancillary-data)
 *   APP14 Adobe → its colour transform is kept (CMYK/YCCK/RGB need it); rewritten by libjpeg
 *   APP1 Exif   → exif; Orientation other than 1 is kept as a minimal EXIF holding only it
 *   APP1 XMP    → xmp        APP2 ICC_PROFILE → icc-profile (sRGB kept, see below)
 *   APP13 Photoshop/IPTC → metadata     COM → comment     other APPn → ancillary-data
 * An sRGB ICC profile is dropped without a report when the profile keeps sRGB ICC: a JPEG
 * without a profile is shown as sRGB, so the picture is unchanged.
 * Bytes after EOI are trailing-data. libjpeg warnings about corrupt data block the item as
 * malformed (only "extraneous bytes before marker" is tolerated, and reported); errors
 * long-jump out of libjpeg, which never prints or exits. */
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "image_int.h"

#define JPG_MAX_SCANS 500 /* progressive JPEGs with more scans are a CPU bomb */
#define JPG_OUT_CHUNK 65536

struct jpg_state;

struct jpg_err {
	struct jpeg_error_mgr pub;
	struct jpg_state *st;
};

struct jpg_state {
	img_job *j;
	struct jpeg_decompress_struct d;
	struct jpeg_compress_struct c;
	bool d_made, c_made;
	struct jpg_err derr, cerr;
	struct jpeg_progress_mgr prog;
	struct jpeg_destination_mgr dest;
	jmp_buf jb;        /* where errors of the decompressor land */
	jmp_buf cjb;       /* where errors of the compressor land (one attempt) */
	int fail;          /* an SK_E* code that is not libjpeg's (output limit) */
	bool late;         /* the item's time ran out while libjpeg was reading */
	char msg[JMSG_LENGTH_MAX + 32];
	int orientation;   /* from the first EXIF */
	uint64_t extraneous;
	/* ICC_PROFILE segments: data and length by sequence number (1-based) */
	const uint8_t *icc_seg[256];
	size_t icc_len[256];
	int icc_count, icc_seen;
	bool icc_bad;
	uint8_t *icc;
	uint8_t out[JPG_OUT_CHUNK];
};

static void jpg_jump(j_common_ptr c)
{
	struct jpg_err *e = (struct jpg_err *)c->err;
	longjmp(c->is_decompressor ? e->st->jb : e->st->cjb, 1);
}

static void jpg_error_exit(j_common_ptr c)
{
	struct jpg_err *e = (struct jpg_err *)c->err;
	char buf[JMSG_LENGTH_MAX];
	(*c->err->format_message)(c, buf);
	snprintf(e->st->msg, sizeof(e->st->msg), "%s", buf);
	jpg_jump(c);
}

static void jpg_emit(j_common_ptr c, int level)
{
	if (level >= 0)
		return; /* trace messages */
	struct jpg_err *e = (struct jpg_err *)c->err;
	switch (c->err->msg_code) {
	case JWRN_EXTRANEOUS_DATA:
		if (c->err->msg_parm.i[0] > 0)
			e->st->extraneous += (uint64_t)c->err->msg_parm.i[0];
		return;
	case JWRN_JFIF_MAJOR:
	case JWRN_ADOBE_XFORM:
	case JWRN_BOGUS_ICC:
		return;
	default:
		/* corrupt data (bad Huffman code, premature end, hit marker …): malformed */
		jpg_error_exit(c);
	}
}

static void jpg_output(j_common_ptr c)
{
	(void)c; /* never printed by the library */
}

static void jpg_fail(j_decompress_ptr d, const char *msg)
{
	struct jpg_err *e = (struct jpg_err *)d->err;
	snprintf(e->st->msg, sizeof(e->st->msg), "%s", msg);
	jpg_jump((j_common_ptr)d);
}

static void jpg_progress(j_common_ptr c)
{
	if (!c->is_decompressor)
		return;
	j_decompress_ptr d = (j_decompress_ptr)c;
	if (d->input_scan_number > JPG_MAX_SCANS)
		jpg_fail(d, "more than 500 scans");
	/* called once an iMCU row: the item's clock */
	struct jpg_err *e = (struct jpg_err *)c->err;
	if (sk_budget_time(e->st->j->ctx->budget) != SK_REASON_NONE) {
		e->st->late = true;
		jpg_fail(d, "time");
	}
}

static bool starts(const uint8_t *p, size_t n, const char *s, size_t sl)
{
	return n >= sl && memcmp(p, s, sl) == 0;
}

static void jpg_icc_segment(struct jpg_state *st, const uint8_t *p, size_t n)
{
	if (n < 14) {
		st->icc_bad = true;
		return;
	}
	int seq = p[12], count = p[13];
	if (count == 0 || seq == 0 || seq > count || (st->icc_count && count != st->icc_count) ||
	    st->icc_seg[seq]) {
		st->icc_bad = true;
		return;
	}
	st->icc_count = count;
	st->icc_seg[seq] = p + 14;
	st->icc_len[seq] = n - 14;
	st->icc_seen++;
}

/* Our reader for COM and APP0..APP15: the whole input is in the source buffer. */
static boolean jpg_marker(j_decompress_ptr d)
{
	struct jpg_state *st = ((struct jpg_err *)d->err)->st;
	img_job *j = st->j;
	struct jpeg_source_mgr *src = d->src;
	if (src->bytes_in_buffer < 2)
		jpg_fail(d, "truncated marker segment");
	size_t len = img_be16(src->next_input_byte);
	if (len < 2 || len > src->bytes_in_buffer)
		jpg_fail(d, "truncated marker segment");
	const uint8_t *p = src->next_input_byte + 2;
	size_t n = len - 2;
	int m = d->unread_marker;
	char name[16];
	snprintf(name, sizeof(name), m == JPEG_COM ? "COM" : "APP%d", m - JPEG_APP0);

	if (m == JPEG_COM) {
		sk_img_note(j, "comment", "COM");
	} else if (m == JPEG_APP0) {
		if (starts(p, n, "JFIF\0", 5) && n >= 14 && !d->saw_JFIF_marker) {
			d->saw_JFIF_marker = TRUE;
			d->JFIF_major_version = 1;
			d->JFIF_minor_version = p[6] <= 2 ? p[6] : 2;
			d->density_unit = p[7] <= 2 ? p[7] : 0;
			d->X_density = img_be16(p + 8);
			d->Y_density = img_be16(p + 10);
			if (d->X_density == 0 || d->Y_density == 0) {
				d->density_unit = 0;
				d->X_density = d->Y_density = 1;
			}
			if (n > 14 || p[12] || p[13])
				sk_img_note(j, "ancillary-data", "JFIF thumbnail");
		} else if (starts(p, n, "JFXX\0", 5)) {
			sk_img_note(j, "ancillary-data", "JFXX thumbnail");
		} else {
			sk_img_note(j, "ancillary-data", name);
		}
	} else if (m == JPEG_APP0 + 14) {
		if (starts(p, n, "Adobe", 5) && n >= 12 && !d->saw_Adobe_marker) {
			d->saw_Adobe_marker = TRUE;
			d->Adobe_transform = p[11];
		} else {
			sk_img_note(j, "ancillary-data", name);
		}
	} else if (m == JPEG_APP0 + 1) {
		if (starts(p, n, "Exif\0", 5) && n >= 6) {
			sk_img_note(j, "exif", "APP1 Exif");
			if (!st->orientation)
				st->orientation = sk_img_exif_orientation(p + 6, n - 6);
		} else if (starts(p, n, "http://ns.adobe.com/xap/1.0/\0", 29) ||
			   starts(p, n, "http://ns.adobe.com/xmp/extension/\0", 35)) {
			sk_img_note(j, "xmp", "APP1 XMP");
		} else {
			sk_img_note(j, "ancillary-data", name);
		}
	} else if (m == JPEG_APP0 + 2) {
		if (starts(p, n, "ICC_PROFILE\0", 12))
			jpg_icc_segment(st, p, n);
		else if (starts(p, n, "MPF\0", 4))
			sk_img_note(j, "ancillary-data", "MPF");
		else
			sk_img_note(j, "ancillary-data", name);
	} else if (m == JPEG_APP0 + 13) {
		sk_img_note(j, starts(p, n, "Photoshop 3.0\0", 14) ? "metadata" : "ancillary-data",
			    starts(p, n, "Photoshop 3.0\0", 14) ? "IPTC/Photoshop" : name);
	} else {
		sk_img_note(j, "ancillary-data", name);
	}
	src->next_input_byte += len;
	src->bytes_in_buffer -= len;
	return TRUE;
}

static void jpg_dest_init(j_compress_ptr c)
{
	struct jpg_state *st = ((struct jpg_err *)c->err)->st;
	c->dest->next_output_byte = st->out;
	c->dest->free_in_buffer = sizeof(st->out);
}

static void jpg_dest_add(j_compress_ptr c, size_t n)
{
	struct jpg_state *st = ((struct jpg_err *)c->err)->st;
	int rc = sk_buf_add(&st->j->out, st->out, n);
	if (rc) {
		st->fail = rc;
		snprintf(st->msg, sizeof(st->msg), "output");
		jpg_jump((j_common_ptr)c);
	}
}

static boolean jpg_dest_empty(j_compress_ptr c)
{
	struct jpg_state *st = ((struct jpg_err *)c->err)->st;
	jpg_dest_add(c, sizeof(st->out)); /* the whole buffer, whatever free_in_buffer says */
	jpg_dest_init(c);
	return TRUE;
}

static void jpg_dest_term(j_compress_ptr c)
{
	struct jpg_state *st = ((struct jpg_err *)c->err)->st;
	jpg_dest_add(c, sizeof(st->out) - c->dest->free_in_buffer);
}

static void jpg_err_init(struct jpg_state *st, struct jpg_err *e)
{
	jpeg_std_error(&e->pub);
	e->pub.error_exit = jpg_error_exit;
	e->pub.emit_message = jpg_emit;
	e->pub.output_message = jpg_output;
	e->st = st;
}

/* Bytes of the whole-image coefficient arrays libjpeg allocates for d. */
static uint64_t coef_bytes(j_decompress_ptr d)
{
	uint64_t total = 0;
	for (int ci = 0; ci < d->num_components; ci++) {
		jpeg_component_info *c = &d->comp_info[ci];
		uint64_t wb = c->width_in_blocks, hb = c->height_in_blocks;
		uint64_t hs = (uint64_t)(c->h_samp_factor > 0 ? c->h_samp_factor : 1);
		uint64_t vs = (uint64_t)(c->v_samp_factor > 0 ? c->v_samp_factor : 1);
		wb = (wb + hs - 1) / hs * hs;
		hb = (hb + vs - 1) / vs * vs;
		total += wb * hb * (uint64_t)sizeof(JBLOCK);
	}
	return total;
}

/* Writes the coefficients into j->out with optimised Huffman tables: 0; 1 when libjpeg
 * failed (its message in st->msg); or an SK_E* code of our output.
 * The input's own Huffman tables are not reused: a stream may redefine a table after the
 * scan that used it, and libjpeg-turbo's encoder writes a symbol that has no code without
 * complaint (a corrupt file) — test_image's jpg_tables_redefined is that case. */
static int jpg_encode(struct jpg_state *st, jvirt_barray_ptr *coefs)
{
	struct jpeg_decompress_struct *d = &st->d;
	struct jpeg_compress_struct *c = &st->c;
	sk_buf_reset(&st->j->out);
	st->fail = 0;
	if (setjmp(st->cjb)) {
		if (st->c_made)
			jpeg_abort_compress(c);
		return st->fail ? st->fail : 1;
	}
	if (!st->c_made) {
		jpeg_create_compress(c);
		st->c_made = true;
	}
	jpeg_copy_critical_parameters(d, c);
	c->optimize_coding = TRUE;
	if (d->jpeg_color_space == JCS_CMYK || d->jpeg_color_space == JCS_YCCK)
		c->write_Adobe_marker = d->saw_Adobe_marker;
	st->dest.init_destination = jpg_dest_init;
	st->dest.empty_output_buffer = jpg_dest_empty;
	st->dest.term_destination = jpg_dest_term;
	c->dest = &st->dest;
	jpeg_write_coefficients(c, coefs);
	if (st->orientation > 1) {
		uint8_t ex[6 + IMG_EXIF_MIN_LEN];
		memcpy(ex, "Exif\0\0", 6);
		size_t exn = sk_img_exif_build(ex + 6, st->orientation);
		jpeg_write_marker(c, JPEG_APP0 + 1, ex, (unsigned)(6 + exn));
	}
	jpeg_finish_compress(c);
	return 0;
}

/* Decode and re-encode; every libjpeg error of the decompressor long-jumps back here. */
static int jpg_run(struct jpg_state *st)
{
	img_job *j = st->j;
	struct jpeg_decompress_struct *d = &st->d;
	struct jpeg_compress_struct *c = &st->c;

	jpg_err_init(st, &st->derr);
	jpg_err_init(st, &st->cerr);
	d->err = &st->derr.pub;
	c->err = &st->cerr.pub;
	if (setjmp(st->jb)) {
		if (st->late)
			return sk_cdr_block(j->ctx, SK_REASON_LIMIT_TIME, "jpeg");
		return sk_img_malformed(j, "jpeg: %s", st->msg);
	}
	jpeg_create_decompress(d);
	st->d_made = true;

	jpeg_mem_src(d, j->data, (unsigned long)j->size);
	jpeg_set_marker_processor(d, JPEG_COM, jpg_marker);
	for (int m = 0; m < 16; m++)
		jpeg_set_marker_processor(d, JPEG_APP0 + m, jpg_marker);
	st->prog.progress_monitor = jpg_progress;
	d->progress = &st->prog;
	if (jpeg_read_header(d, TRUE) != JPEG_HEADER_OK)
		return sk_img_malformed(j, "jpeg: no image");
	int rc = sk_img_pixels(j, d->image_width, d->image_height);
	if (rc)
		return rc;
	uint64_t need = coef_bytes(d);
	if ((rc = sk_img_expand(j, need)))
		return rc;
	d->mem->max_memory_to_use = (long)(need + (64u << 20));

	jvirt_barray_ptr *coefs = jpeg_read_coefficients(d);
	if (!coefs)
		return sk_img_malformed(j, "jpeg: no coefficients");
	size_t after = d->src->bytes_in_buffer; /* bytes after EOI */
	if ((rc = sk_img_time(j, 0)))
		return rc;

	rc = jpg_encode(st, coefs);
	if (rc == 1)
		return sk_img_malformed(j, "jpeg: %s", st->msg);
	if (rc == SK_ELIMIT)
		return sk_error_set(j->err, SK_ELIMIT, "jpeg: output too large");
	if (rc)
		return sk_error_set(j->err, rc, "jpeg: %s", st->msg);
	jpeg_finish_decompress(d);

	if (after)
		sk_img_note_bytes(j, "trailing-data", after);
	if (st->extraneous)
		sk_img_note_bytes(j, "ancillary-data", st->extraneous);
	return 0;
}

/* Decide about the ICC profile once every segment was seen. */
static int jpg_icc(struct jpg_state *st)
{
	img_job *j = st->j;
	if (!st->icc_count && !st->icc_bad)
		return 0;
	bool srgb = false;
	if (!st->icc_bad && st->icc_seen == st->icc_count && j->ctx->profile->keep_srgb_icc) {
		size_t total = 0;
		for (int i = 1; i <= st->icc_count; i++)
			total += st->icc_len[i];
		st->icc = malloc(total ? total : 1);
		if (!st->icc)
			return sk_error_set(j->err, SK_ENOMEM, "jpeg: icc");
		size_t o = 0;
		for (int i = 1; i <= st->icc_count; i++) {
			memcpy(st->icc + o, st->icc_seg[i], st->icc_len[i]);
			o += st->icc_len[i];
		}
		int intent;
		srgb = sk_img_icc_is_srgb(st->icc, total, &intent);
	}
	if (!srgb)
		sk_img_note(j, "icc-profile", "APP2 ICC_PROFILE");
	return 0;
}

int sk_img_jpeg(img_job *j)
{
	struct jpg_state *st = calloc(1, sizeof(*st));
	if (!st)
		return sk_error_set(j->err, SK_ENOMEM, "jpeg");
	st->j = j;
	int rc = jpg_run(st);
	if (rc == 0)
		rc = jpg_icc(st);
	if (st->c_made)
		jpeg_destroy_compress(&st->c);
	if (st->d_made)
		jpeg_destroy_decompress(&st->d);
	free(st->icc);
	free(st);
	return rc;
}
