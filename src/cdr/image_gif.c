/* GIF: read record by record with giflib's low-level API and write a new GIF as we go, one
 * frame in memory at a time.
 *
 * Kept: the logical screen (size, colour resolution, background, aspect), the global and
 * every local colour table, every frame with its position, size, interlacing and pixels
 * (lines are copied in file order, so an interlaced frame stays interlaced and identical),
 * the graphic control extension of each frame (delay, disposal, transparency, user-input
 * flag; rebuilt from its fields) and the animation loop count (NETSCAPE2.0/ANIMEXTS1.0,
 * written as NETSCAPE2.0).
 * Dropped and reported: comments (comment), plain-text extensions (text-chunk), XMP
 * (xmp), ICC (icc-profile, silently when sRGB and the profile keeps sRGB ICC), any other
 * application or unknown extension (ancillary-data) and bytes after the trailer
 * (trailing-data). The logical screen and every frame are charged to the pixel budget
 * before anything of their size is allocated. A GIF without its trailer is truncated:
 * malformed. */
#include <gif_lib.h>
#include <stdlib.h>
#include <string.h>

#include "image_int.h"

struct gif_state {
	img_job *j;
	size_t pos;
	int wrc;
	GifFileType *in, *out;
	GifByteType *line;
	sk_buf icc; /* sub-blocks of an ICC application extension */
};

static int gif_read_cb(GifFileType *g, GifByteType *buf, int len)
{
	struct gif_state *st = g->UserData;
	size_t avail = st->j->size - st->pos;
	size_t n = len > 0 ? (size_t)len : 0;
	if (n > avail)
		n = avail;
	memcpy(buf, st->j->data + st->pos, n);
	st->pos += n;
	return (int)n;
}

static int gif_write_cb(GifFileType *g, const GifByteType *buf, int len)
{
	struct gif_state *st = g->UserData;
	if (len <= 0)
		return 0;
	int rc = sk_buf_add(&st->j->out, buf, (size_t)len);
	if (rc) {
		st->wrc = rc;
		return 0;
	}
	return len;
}

static int gif_write_failed(struct gif_state *st, const char *what)
{
	if (st->wrc == SK_ELIMIT)
		return sk_error_set(st->j->err, SK_ELIMIT, "gif: output too large");
	if (st->wrc)
		return sk_error_set(st->j->err, st->wrc, "gif: output");
	return sk_error_set(st->j->err, SK_EINTERNAL, "gif: %s: %s", what,
			    GifErrorString(st->out->Error));
}

static int gif_bad(struct gif_state *st, const char *what)
{
	const char *e = GifErrorString(st->in->Error);
	return sk_img_malformed(st->j, "gif: %s: %s", what, e ? e : "error");
}

/* Read the remaining sub-blocks of an extension. ext is the current block (or NULL). */
static int gif_drain(struct gif_state *st, GifByteType *ext, uint64_t *extra)
{
	while (ext) {
		if (DGifGetExtensionNext(st->in, &ext) == GIF_ERROR)
			return gif_bad(st, "extension");
		if (ext && extra)
			(*extra)++;
	}
	return 0;
}

static bool app_is(const GifByteType *ext, const char *id)
{
	return ext && ext[0] == 11 && memcmp(ext + 1, id, 11) == 0;
}

static int gif_extension(struct gif_state *st, bool *have_gce, GifByteType gce[4],
			 bool *wrote_loop)
{
	img_job *j = st->j;
	int code;
	GifByteType *ext;
	if (DGifGetExtension(st->in, &code, &ext) == GIF_ERROR)
		return gif_bad(st, "extension");
	if (code == GRAPHICS_EXT_FUNC_CODE) {
		GraphicsControlBlock gcb;
		if (!ext || ext[0] != 4 || DGifExtensionToGCB(4, ext + 1, &gcb) == GIF_ERROR)
			return sk_img_malformed(j, "gif: bad graphic control extension");
		EGifGCBToExtension(&gcb, gce);
		*have_gce = true;
		uint64_t extra = 0;
		int rc = gif_drain(st, ext, &extra);
		if (extra)
			sk_img_note(j, "ancillary-data", "graphic control data");
		return rc;
	}
	if (code == COMMENT_EXT_FUNC_CODE) {
		sk_img_note(j, "comment", "comment extension");
		return gif_drain(st, ext, NULL);
	}
	if (code == PLAINTEXT_EXT_FUNC_CODE) {
		sk_img_note(j, "text-chunk", "plain text extension");
		return gif_drain(st, ext, NULL);
	}
	if (code != APPLICATION_EXT_FUNC_CODE) {
		sk_img_note(j, "ancillary-data", "unknown extension");
		return gif_drain(st, ext, NULL);
	}
	if (app_is(ext, "NETSCAPE2.0") || app_is(ext, "ANIMEXTS1.0")) {
		int loop = -1;
		for (;;) {
			if (DGifGetExtensionNext(st->in, &ext) == GIF_ERROR)
				return gif_bad(st, "extension");
			if (!ext)
				break;
			if (ext[0] >= 3 && ext[1] == 1 && loop < 0)
				loop = ext[2] | ext[3] << 8;
			else
				sk_img_note(j, "ancillary-data", "NETSCAPE2.0 data");
		}
		if (loop >= 0 && !*wrote_loop) {
			GifByteType sub[3] = {1, (GifByteType)(loop & 0xff), (GifByteType)(loop >> 8)};
			if (EGifPutExtensionLeader(st->out, APPLICATION_EXT_FUNC_CODE) == GIF_ERROR ||
			    EGifPutExtensionBlock(st->out, 11, "NETSCAPE2.0") == GIF_ERROR ||
			    EGifPutExtensionBlock(st->out, 3, sub) == GIF_ERROR ||
			    EGifPutExtensionTrailer(st->out) == GIF_ERROR)
				return gif_write_failed(st, "loop extension");
			*wrote_loop = true;
		}
		return 0;
	}
	if (app_is(ext, "XMP DataXMP")) {
		sk_img_note(j, "xmp", "XMP DataXMP");
		return gif_drain(st, ext, NULL);
	}
	if (app_is(ext, "ICCRGBG1012")) {
		bool srgb = false;
		sk_buf_reset(&st->icc);
		bool ok = true;
		for (;;) {
			if (DGifGetExtensionNext(st->in, &ext) == GIF_ERROR)
				return gif_bad(st, "extension");
			if (!ext)
				break;
			if (ok && sk_buf_add(&st->icc, ext + 1, ext[0]) != 0)
				ok = false;
		}
		int intent;
		if (ok && j->ctx->profile->keep_srgb_icc)
			srgb = sk_img_icc_is_srgb(st->icc.data, st->icc.len, &intent);
		if (!srgb)
			sk_img_note(j, "icc-profile", "ICCRGBG1012");
		return 0;
	}
	char name[16] = "application";
	if (ext && ext[0] >= 8)
		sk_img_safe_name(name, 9, ext + 1, 8);
	sk_img_note(j, "ancillary-data", name);
	return gif_drain(st, ext, NULL);
}

static int gif_frame(struct gif_state *st, bool *have_gce, const GifByteType gce[4])
{
	img_job *j = st->j;
	if (DGifGetImageDesc(st->in) == GIF_ERROR)
		return gif_bad(st, "image descriptor");
	GifImageDesc *im = &st->in->Image;
	if (im->Width <= 0 || im->Height <= 0)
		return sk_img_malformed(j, "gif: empty frame");
	int rc = sk_img_pixels(j, (uint64_t)im->Width, (uint64_t)im->Height);
	if (rc)
		return rc;
	if ((rc = sk_img_expand(j, (uint64_t)im->Width * (uint64_t)im->Height)))
		return rc;
	if (!im->ColorMap && !st->in->SColorMap)
		return sk_img_malformed(j, "gif: frame without a colour table");
	if (*have_gce) {
		if (EGifPutExtension(st->out, GRAPHICS_EXT_FUNC_CODE, 4, gce) == GIF_ERROR)
			return gif_write_failed(st, "graphic control");
		*have_gce = false;
	}
	/* giflib 5.2 forgets the previous frame's local colour table when this frame has
	 * none (a leak): release it here */
	if (!im->ColorMap && st->out->Image.ColorMap) {
		GifFreeMapObject(st->out->Image.ColorMap);
		st->out->Image.ColorMap = NULL;
	}
	if (EGifPutImageDesc(st->out, im->Left, im->Top, im->Width, im->Height, im->Interlace,
			     im->ColorMap) == GIF_ERROR)
		return gif_write_failed(st, "image descriptor");
	GifByteType *line = realloc(st->line, (size_t)im->Width);
	if (!line)
		return sk_error_set(j->err, SK_ENOMEM, "gif: line");
	st->line = line;
	int w = im->Width, h = im->Height;
	for (int y = 0; y < h; y++) {
		if ((rc = sk_img_time(j, (uint64_t)y)))
			return rc;
		if (DGifGetLine(st->in, line, w) == GIF_ERROR)
			return gif_bad(st, "image data");
		if (EGifPutLine(st->out, line, w) == GIF_ERROR)
			return gif_write_failed(st, "image data");
	}
	/* giflib keeps a SavedImage per frame read: release them so that memory stays flat
	 * however many frames there are. */
	GifFreeSavedImages(st->in);
	st->in->ImageCount = 0;
	return 0;
}

static int gif_run(struct gif_state *st)
{
	img_job *j = st->j;
	int e = 0;
	st->in = DGifOpen(st, gif_read_cb, &e);
	if (!st->in) {
		const char *m = GifErrorString(e);
		return sk_img_malformed(j, "gif: %s", m ? m : "cannot open");
	}
	GifFileType *in = st->in;
	if (in->SWidth <= 0 || in->SHeight <= 0)
		return sk_img_malformed(j, "gif: empty logical screen");
	int rc = sk_img_pixels(j, (uint64_t)in->SWidth, (uint64_t)in->SHeight);
	if (rc)
		return rc;
	st->out = EGifOpen(st, gif_write_cb, &e);
	if (!st->out)
		return sk_error_set(j->err, SK_ENOMEM, "gif: %s", GifErrorString(e));
	bool gif89 = j->size >= 6 && memcmp(j->data + 3, "89a", 3) == 0;
	EGifSetGifVersion(st->out, gif89);
	st->out->AspectByte = in->AspectByte;
	if (EGifPutScreenDesc(st->out, in->SWidth, in->SHeight, in->SColorResolution,
			      in->SBackGroundColor, in->SColorMap) == GIF_ERROR)
		return gif_write_failed(st, "screen");

	bool have_gce = false, wrote_loop = false;
	GifByteType gce[4];
	uint64_t frames = 0;
	for (;;) {
		GifRecordType t;
		if (DGifGetRecordType(in, &t) == GIF_ERROR)
			return gif_bad(st, "truncated or bad record");
		if (t == TERMINATE_RECORD_TYPE)
			break;
		if (t == IMAGE_DESC_RECORD_TYPE) {
			if ((rc = gif_frame(st, &have_gce, gce)))
				return rc;
			frames++;
		} else if (t == EXTENSION_RECORD_TYPE) {
			if ((rc = gif_extension(st, &have_gce, gce, &wrote_loop)))
				return rc;
		} else {
			return sk_img_malformed(j, "gif: unexpected record");
		}
	}
	if (frames == 0)
		return sk_img_malformed(j, "gif: no image");
	if (st->pos < j->size)
		sk_img_note_bytes(j, "trailing-data", j->size - st->pos);
	GifFileType *out = st->out;
	st->out = NULL;
	if (EGifCloseFile(out, &e) == GIF_ERROR) {
		if (st->wrc == SK_ELIMIT)
			return sk_error_set(j->err, SK_ELIMIT, "gif: output too large");
		return sk_error_set(j->err, st->wrc ? st->wrc : SK_EINTERNAL, "gif: close: %s",
				    GifErrorString(e));
	}
	return 0;
}

int sk_img_gif(img_job *j)
{
	struct gif_state st = {.j = j};
	sk_buf_init(&st.icc, 16u << 20);
	int rc = gif_run(&st);
	int e;
	if (st.out)
		EGifCloseFile(st.out, &e); /* also frees; the output is discarded on error */
	if (st.in)
		DGifCloseFile(st.in, &e);
	free(st.line);
	sk_buf_free(&st.icc);
	return rc;
}
