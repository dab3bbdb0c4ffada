/* The job protocol: encoders, strict decoders, framed send and receive (see wire.h). */
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sekisho/buf.h"
#include "sekisho/codec.h"
#include "sekisho/office.h"

#include <sodium.h>

/* ---- encoding ------------------------------------------------------------------ */




static int finish(sk_buf *b, int rc, uint8_t **p, size_t *n)
{
	if (rc) {
		sk_buf_free(b);
		return rc;
	}
	/* an empty buffer has no data: give the caller something to free */
	if (sk_buf_reserve(b, 1)) {
		sk_buf_free(b);
		return SK_ENOMEM;
	}
	*p = sk_buf_take(b, n);
	return 0;
}

/* Bytes carried in the message: u32 length and the bytes, or u32 0xFFFFFFFF for none. */
static int put_bytes(sk_buf *b, const uint8_t *p, size_t n)
{
	if (!p)
		return sk_codec_put_u32(b, UINT32_MAX);
	if (n > SK_WIRE_INLINE_MAX)
		return SK_ELIMIT;
	int rc = sk_codec_put_u32(b, (uint32_t)n);
	return rc ? rc : sk_buf_add(b, n ? p : (const uint8_t *)"", n);
}

/* The end of an unlock job: kind 2, the passwords, then the input as in every job. The
 * room for them (and the NUL finish adds) is reserved first, so that no realloc leaves a
 * copy of a password in freed memory; on failure the buffer is zeroed before it is freed. */
static int finish_unlock(sk_buf *b, const sk_engine_job *job, const uint8_t *in, size_t in_n,
			 uint8_t **p, size_t *n)
{
	size_t need = 1 + 4 + 4 + (in ? in_n : 0) + 1;
	int rc = job->mail || job->n_passwords < 1 || job->n_passwords > SK_UNLOCK_PASSWORDS_MAX
			 ? SK_EINVAL
			 : 0;
	for (size_t i = 0; rc == 0 && i < job->n_passwords; i++) {
		size_t l = job->passwords[i] ? strlen(job->passwords[i]) : 0;
		if (l < 1 || l > SK_UNLOCK_PASSWORD_MAX)
			rc = SK_EINVAL;
		need += 4 + l + 1;
	}
	rc = rc ? rc : sk_buf_reserve(b, need);
	rc = rc ? rc : sk_buf_addc(b, 2);
	rc = rc ? rc : sk_codec_put_u32(b, (uint32_t)job->n_passwords);
	for (size_t i = 0; rc == 0 && i < job->n_passwords; i++)
		rc = sk_codec_put_str(b, job->passwords[i], SK_UNLOCK_PASSWORD_MAX + 1);
	rc = rc ? rc : put_bytes(b, in, in_n);
	if (rc && b->data)
		sodium_memzero(b->data, b->cap);
	return finish(b, rc, p, n);
}

enum {
	PF_CSV_NEUTRALIZE = 1 << 0,
	PF_KEEP_SRGB_ICC = 1 << 1,
	PF_BLOCK_NAME_MISMATCH = 1 << 2,
	PF_KEEP_COMMENTS = 1 << 3,
	PF_KEEP_REVISIONS = 1 << 4,
	PF_STRIP_METADATA = 1 << 5,
	PF_NEUTRALIZE_LINKS = 1 << 6,
	PF_PDF_IMAGE = 1 << 7,
	PF_OOXML_IMAGE = 1 << 8,
	PF_DAMAGED_PDF_IMAGE = 1 << 9,
	PF_ALL = (1 << 10) - 1,
};

/* The profile's legacy actions, 2 bits per family (cdr.h) */
static uint32_t legacy_pack(const sk_profile *pr)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < SK_LEGACY__COUNT; i++)
		v |= (uint32_t)(pr->legacy[i] & 3) << (2 * i);
	return v;
}

static bool legacy_unpack(uint32_t v, sk_profile *pr)
{
	if (v >> (2 * SK_LEGACY__COUNT))
		return false;
	for (unsigned i = 0; i < SK_LEGACY__COUNT; i++) {
		uint8_t a = (uint8_t)(v >> (2 * i) & 3);
		if (a >= SK_LEGACY_ACTION__COUNT)
			return false;
		pr->legacy[i] = a;
	}
	return true;
}

int sk_wire_job_encode(const sk_engine_job *job, uint64_t out_max, const uint8_t *in,
		       size_t in_n, uint8_t **p, size_t *n)
{
	const sk_profile *pr = job->profile ? job->profile : sk_profile_default();
	uint32_t flags = (pr->csv_neutralize ? PF_CSV_NEUTRALIZE : 0) |
			 (pr->keep_srgb_icc ? PF_KEEP_SRGB_ICC : 0) |
			 (pr->block_name_mismatch ? PF_BLOCK_NAME_MISMATCH : 0) |
			 (pr->keep_comments ? PF_KEEP_COMMENTS : 0) |
			 (pr->keep_revisions ? PF_KEEP_REVISIONS : 0) |
			 (pr->strip_metadata ? PF_STRIP_METADATA : 0) |
			 (pr->neutralize_links ? PF_NEUTRALIZE_LINKS : 0) |
			 (pr->pdf_image ? PF_PDF_IMAGE : 0) | (pr->ooxml_image ? PF_OOXML_IMAGE : 0) |
			 (pr->damaged_pdf_image ? PF_DAMAGED_PDF_IMAGE : 0);
	const sk_budget *bu = &job->budget;
	sk_buf b;
	sk_buf_init(&b, SK_WIRE_MAX);
	int rc = sk_codec_put_str(&b, job->name, SK_WIRE_STR_MAX);
	rc = rc ? rc : sk_codec_put_str(&b, pr->name ? pr->name : "", SK_WIRE_STR_MAX);
	rc = rc ? rc : sk_codec_put_u32(&b, flags);
	rc = rc ? rc : sk_codec_put_u32(&b, legacy_pack(pr));
	rc = rc ? rc : sk_codec_put_u32(&b, pr->image_dpi);
	rc = rc ? rc : sk_codec_put_u32(&b, pr->image_max_pages);
	rc = rc ? rc : sk_codec_put_u64(&b, bu->max_input);
	rc = rc ? rc : sk_codec_put_u64(&b, bu->max_expanded);
	rc = rc ? rc : sk_codec_put_u32(&b, bu->max_depth);
	rc = rc ? rc : sk_codec_put_u64(&b, bu->max_entries);
	rc = rc ? rc : sk_codec_put_u64(&b, bu->max_pixels);
	rc = rc ? rc : sk_codec_put_u32(&b, bu->max_ratio);
	rc = rc ? rc : sk_codec_put_u32(&b, bu->max_seconds);
	rc = rc ? rc : sk_codec_put_u64(&b, bu->max_nodes);
	rc = rc ? rc : sk_codec_put_u64(&b, bu->deadline_ns);
	rc = rc ? rc : sk_codec_put_u64(&b, out_max);
	rc = rc ? rc : sk_buf_addc(&b, job->detect_only ? 1 : 0);
	rc = rc ? rc : sk_buf_addc(&b, job->convert ? 1 : 0);
	rc = rc ? rc : sk_codec_put_u32(&b, job->dlp ? job->dlp_kinds : 0);
	if (!rc && job->dlp) {
		sk_buf d;
		sk_buf_init(&d, SK_WIRE_MAX);
		rc = sk_dlp_encode(job->dlp, &d);
		rc = rc ? rc : sk_codec_put_u32(&b, (uint32_t)sk_buf_len(&d));
		rc = rc ? rc : sk_buf_add(&b, sk_buf_len(&d) ? sk_buf_data(&d) : (const uint8_t *)"", sk_buf_len(&d));
		sk_buf_free(&d);
	} else if (!rc) {
		rc = sk_codec_put_u32(&b, UINT32_MAX);
	}
	const sk_mail_options *m = job->mail;
	if (!rc && job->passwords)
		return finish_unlock(&b, job, in, in_n, p, n);
	rc = rc ? rc : sk_buf_addc(&b, m ? 1 : 0);
	if (!rc && m) {
		rc = sk_codec_put_str(&b, m->profile ? m->profile : "default", SK_WIRE_STR_MAX);
		rc = rc ? rc : sk_codec_put_u32(&b, (uint32_t)m->lang);
		rc = rc ? rc : sk_codec_put_u32(&b, (uint32_t)m->attach);
		rc = rc ? rc : sk_buf_addc(&b, m->rep_link ? 1 : 0);
		rc = rc ? rc : sk_buf_addc(&b, m->warn_external ? 1 : 0);
		rc = rc ? rc : sk_codec_put_u64(&b, m->max_size);
		rc = rc ? rc : sk_codec_put_u32(&b, m->max_parts);
		rc = rc ? rc : sk_codec_put_u32(&b, m->max_depth);
		rc = rc ? rc : sk_codec_put_u64(&b, m->max_header);
		rc = rc ? rc : sk_codec_put_u64(&b, m->max_text);
		rc = rc ? rc : sk_codec_put_str(&b, m->original_id ? m->original_id : "", SK_WIRE_STR_MAX);
		uint32_t nd = 0;
		while (m->internal_domains && m->internal_domains[nd])
			nd++;
		if (!rc && nd > SK_MAIL_IDS_MAX)
			rc = SK_ELIMIT;
		rc = rc ? rc : sk_codec_put_u32(&b, nd);
		for (uint32_t i = 0; i < nd && !rc; i++)
			rc = sk_codec_put_str(&b, m->internal_domains[i], SK_WIRE_STR_MAX);
	}
	rc = rc ? rc : put_bytes(&b, in, in_n);
	return finish(&b, rc, p, n);
}

int sk_wire_answer_encode(const sk_engine_result *res, bool retire, const uint8_t *out,
			  uint8_t **p, size_t *n)
{
	if (out && (res->report.verdict == SK_VERDICT_BLOCKED || res->out_size > SK_WIRE_INLINE_MAX))
		return SK_EINVAL;
	const sk_report *r = &res->report;
	sk_buf b;
	sk_buf_init(&b, SK_WIRE_MAX);
	int rc = sk_codec_put_str(&b, res->type.code ? res->type.code : "unknown", SK_WIRE_STR_MAX);
	rc = rc ? rc : sk_codec_put_u32(&b, (uint32_t)r->verdict);
	rc = rc ? rc : sk_codec_put_u32(&b, (uint32_t)r->reason);
	rc = rc ? rc : sk_codec_put_str(&b, r->reason_where, SK_WIRE_STR_MAX);
	rc = rc ? rc : sk_codec_put_str(&b, r->reason_detail, SK_WIRE_STR_MAX);
	rc = rc ? rc : sk_codec_put_str(&b, r->out_ext, SK_WIRE_STR_MAX);
	rc = rc ? rc : sk_codec_put_u64(&b, res->out_size);
	rc = rc ? rc : sk_buf_addc(&b, retire ? 1 : 0);
	if (!rc && r->n > SK_WIRE_ENTRIES_MAX)
		rc = SK_ELIMIT;
	rc = rc ? rc : sk_codec_put_u32(&b, (uint32_t)r->n);
	for (size_t i = 0; i < r->n && !rc; i++) {
		const sk_report_entry *e = &r->v[i];
		rc = sk_codec_put_u32(&b, (uint32_t)e->action);
		rc = rc ? rc : sk_codec_put_str(&b, e->what, SK_WIRE_STR_MAX);
		rc = rc ? rc : sk_codec_put_str(&b, e->where, SK_WIRE_STR_MAX);
		rc = rc ? rc : sk_codec_put_str(&b, e->detail, SK_WIRE_STR_MAX);
		rc = rc ? rc : sk_codec_put_u64(&b, e->count);
	}
	/* a mail job's result (it always has an X-Mail-Sanitized value, or HELD) */
	const sk_mail_result *m = &res->mail;
	bool mail = m->actions[0] || m->held;
	rc = rc ? rc : sk_buf_addc(&b, mail ? 1 : 0);
	if (!rc && mail) {
		rc = sk_buf_addc(&b, m->held ? 1 : 0);
		rc = rc ? rc : sk_codec_put_u32(&b, (uint32_t)m->reason);
		rc = rc ? rc : sk_codec_put_str(&b, m->detail, SK_WIRE_STR_MAX);
		rc = rc ? rc : sk_codec_put_str(&b, m->actions, SK_WIRE_STR_MAX);
		const uint32_t counts[] = {m->parts, m->attachments, m->removed, m->reattached,
					   m->held_attachments, m->links};
		for (size_t i = 0; i < 6 && !rc; i++)
			rc = sk_codec_put_u32(&b, counts[i]);
	}
	rc = rc ? rc : put_bytes(&b, out, out ? (size_t)res->out_size : 0);
	return finish(&b, rc, p, n);
}

/* ---- decoding ------------------------------------------------------------------ */

typedef sk_codec_rd rd;





static bool at_end(const rd *r)
{
	return !r->bad && r->off == r->n;
}

/* The counterpart of put_bytes: *p NULL for none. */
static void get_bytes(rd *r, const uint8_t **p, size_t *n)
{
	*p = NULL;
	*n = 0;
	uint32_t l = sk_codec_get_u32(r);
	if (r->bad || l == UINT32_MAX)
		return;
	if (l > SK_WIRE_INLINE_MAX || l > r->n - r->off) {
		r->bad = true;
		return;
	}
	*p = r->p + r->off;
	*n = l;
	r->off += l;
}

int sk_wire_job_decode(const uint8_t *p, size_t n, sk_wire_job *job)
{
	rd r = {.p = p, .n = n};
	memset(job, 0, sizeof(*job));
	job->name = sk_codec_get_str(&r, true, SK_WIRE_STR_MAX);
	job->profile.name = sk_codec_get_str(&r, false, SK_WIRE_STR_MAX);
	uint32_t f = sk_codec_get_u32(&r);
	uint32_t legacy = sk_codec_get_u32(&r);
	uint32_t dpi = sk_codec_get_u32(&r);
	job->profile.image_max_pages = sk_codec_get_u32(&r);
	sk_budget *b = &job->budget;
	b->max_input = sk_codec_get_u64(&r);
	b->max_expanded = sk_codec_get_u64(&r);
	b->max_depth = sk_codec_get_u32(&r);
	b->max_entries = sk_codec_get_u64(&r);
	b->max_pixels = sk_codec_get_u64(&r);
	b->max_ratio = sk_codec_get_u32(&r);
	b->max_seconds = sk_codec_get_u32(&r);
	b->max_nodes = sk_codec_get_u64(&r);
	b->deadline_ns = sk_codec_get_u64(&r);
	job->out_max = sk_codec_get_u64(&r);
	uint8_t d = sk_codec_get_u8(&r);
	uint8_t conv = sk_codec_get_u8(&r);
	job->dlp_kinds = sk_codec_get_u32(&r);
	uint32_t dl = sk_codec_get_u32(&r);
	if (!r.bad && dl != UINT32_MAX) {
		if (dl > r.n - r.off) {
			r.bad = true;
		} else {
			job->dlp = r.p + r.off;
			job->dlp_len = dl;
			r.off += dl;
		}
	}
	uint8_t kind = sk_codec_get_u8(&r);
	if (!r.bad && kind == 1) {
		sk_mail_options *m = &job->mail;
		sk_mail_options_default(m);
		job->is_mail = true;
		m->profile = sk_codec_get_str(&r, false, SK_WIRE_STR_MAX);
		uint32_t lang = sk_codec_get_u32(&r), attach = sk_codec_get_u32(&r);
		uint8_t rl = sk_codec_get_u8(&r), we = sk_codec_get_u8(&r);
		m->max_size = sk_codec_get_u64(&r);
		m->max_parts = sk_codec_get_u32(&r);
		m->max_depth = sk_codec_get_u32(&r);
		m->max_header = sk_codec_get_u64(&r);
		m->max_text = sk_codec_get_u64(&r);
		m->original_id = sk_codec_get_str(&r, false, SK_WIRE_STR_MAX);
		uint32_t nd = sk_codec_get_u32(&r);
		if (lang > SK_LANG_EN || attach > SK_MAIL_SANITIZE_ATTACH || rl > 1 || we > 1 ||
		    nd > SK_MAIL_IDS_MAX)
			r.bad = true;
		for (uint32_t i = 0; i < nd && !r.bad; i++)
			job->domains[i] = sk_codec_get_str(&r, false, SK_WIRE_STR_MAX);
		job->domains[r.bad ? 0 : nd] = NULL;
		m->lang = (sk_lang)lang;
		m->attach = (sk_mail_attach)attach;
		m->rep_link = rl;
		m->warn_external = we;
		m->internal_domains = nd ? job->domains : NULL;
	}
	if (!r.bad && kind == 2) {
		uint32_t np = sk_codec_get_u32(&r);
		if (np < 1 || np > SK_UNLOCK_PASSWORDS_MAX)
			r.bad = true;
		for (uint32_t i = 0; i < np && !r.bad; i++) {
			const char *pw = sk_codec_get_str(&r, false, SK_UNLOCK_PASSWORD_MAX + 1);
			if (!r.bad && !pw[0])
				r.bad = true;
			job->passwords[i] = pw;
		}
		job->n_passwords = r.bad ? 0 : np;
	}
	get_bytes(&r, &job->input, &job->input_len);
	if (!at_end(&r) || (f & ~(uint32_t)PF_ALL) || d > 1 || conv > 1 || kind > 2 ||
	    dpi > SK_WIRE_DPI_MAX ||
	    (job->dlp_kinds & ~((1u << SK_DLP__COUNT) - 1)) || !legacy_unpack(legacy, &job->profile))
		return SK_EFORMAT;
	job->detect_only = d;
	job->convert = conv;
	sk_profile *pr = &job->profile;
	pr->csv_neutralize = f & PF_CSV_NEUTRALIZE;
	pr->keep_srgb_icc = f & PF_KEEP_SRGB_ICC;
	pr->block_name_mismatch = f & PF_BLOCK_NAME_MISMATCH;
	pr->keep_comments = f & PF_KEEP_COMMENTS;
	pr->keep_revisions = f & PF_KEEP_REVISIONS;
	pr->strip_metadata = f & PF_STRIP_METADATA;
	pr->neutralize_links = f & PF_NEUTRALIZE_LINKS;
	pr->pdf_image = f & PF_PDF_IMAGE;
	pr->ooxml_image = f & PF_OOXML_IMAGE;
	pr->damaged_pdf_image = f & PF_DAMAGED_PDF_IMAGE;
	pr->image_dpi = (uint16_t)dpi;
	return 0;
}

int sk_wire_answer_decode(const uint8_t *p, size_t n, sk_engine_result *res, bool *retire,
			  const uint8_t **out)
{
	*out = NULL;
	memset(res, 0, sizeof(*res));
	sk_report_init(&res->report);
	rd r = {.p = p, .n = n};
	const sk_type *t = sk_type_find(sk_codec_get_str(&r, false, SK_WIRE_STR_MAX));
	uint32_t verdict = sk_codec_get_u32(&r), reason = sk_codec_get_u32(&r);
	const char *rwhere = sk_codec_get_str(&r, true, SK_WIRE_STR_MAX), *rdetail = sk_codec_get_str(&r, true, SK_WIRE_STR_MAX);
	const char *ext = sk_codec_get_str(&r, false, SK_WIRE_STR_MAX);
	res->out_size = sk_codec_get_u64(&r);
	uint8_t ret = sk_codec_get_u8(&r);
	uint32_t ne = sk_codec_get_u32(&r);
	if (r.bad || !t || verdict > SK_VERDICT_BLOCKED || reason >= SK_REASON__COUNT ||
	    (verdict == SK_VERDICT_BLOCKED) != (reason != SK_REASON_NONE) ||
	    strlen(ext) >= sizeof(res->report.out_ext) || ret > 1 || ne > SK_WIRE_ENTRIES_MAX ||
	    /* an entry takes at least 26 bytes: no huge count is believed up front */
	    ne > (r.n - r.off) / 26)
		return SK_EFORMAT;
	res->type = *t;
	for (uint32_t i = 0; i < ne; i++) {
		uint32_t a = sk_codec_get_u32(&r);
		const char *what = sk_codec_get_str(&r, false, SK_WIRE_STR_MAX), *where = sk_codec_get_str(&r, false, SK_WIRE_STR_MAX),
			   *detail = sk_codec_get_str(&r, true, SK_WIRE_STR_MAX);
		uint64_t count = sk_codec_get_u64(&r);
		if (r.bad || a >= SK_ACTION__COUNT || count == 0)
			return SK_EFORMAT;
		int rc = sk_report_add(&res->report, (sk_action)a, what, where, detail, count);
		if (rc)
			return rc;
	}
	uint8_t mail = sk_codec_get_u8(&r);
	if (!r.bad && mail == 1) {
		sk_mail_result *m = &res->mail;
		uint8_t held = sk_codec_get_u8(&r);
		uint32_t mreason = sk_codec_get_u32(&r);
		const char *mdetail = sk_codec_get_str(&r, false, SK_WIRE_STR_MAX), *mactions = sk_codec_get_str(&r, false, SK_WIRE_STR_MAX);
		uint32_t *counts[] = {&m->parts, &m->attachments, &m->removed, &m->reattached,
				      &m->held_attachments, &m->links};
		for (size_t i = 0; i < 6; i++)
			*counts[i] = sk_codec_get_u32(&r);
		/* held says why; a delivered message has no reason and its X-Mail-Sanitized */
		if (r.bad || held > 1 || mreason >= SK_REASON__COUNT ||
		    (held != 0) != (mreason != SK_REASON_NONE) || !mactions[0] ||
		    strlen(mdetail) >= sizeof(m->detail) || strlen(mactions) >= sizeof(m->actions))
			return SK_EFORMAT;
		m->held = held;
		m->reason = (sk_reason)mreason;
		memcpy(m->detail, mdetail, strlen(mdetail) + 1);
		memcpy(m->actions, mactions, strlen(mactions) + 1);
	}
	const uint8_t *inl = NULL;
	size_t inl_n = 0;
	if (!r.bad && mail <= 1)
		get_bytes(&r, &inl, &inl_n);
	/* bytes in the answer are the whole output of an item that was not blocked */
	if (!at_end(&r) || mail > 1 ||
	    (inl && (inl_n != res->out_size || verdict == SK_VERDICT_BLOCKED)))
		return SK_EFORMAT;
	if (verdict == SK_VERDICT_BLOCKED &&
	    sk_report_block(&res->report, (sk_reason)reason, rwhere, rdetail) != 0)
		return SK_ENOMEM;
	/* a verdict that disagrees with the entries is not one the engine gives */
	if (verdict != SK_VERDICT_BLOCKED) {
		sk_report_finish(&res->report);
		if ((uint32_t)res->report.verdict != verdict)
			return SK_EFORMAT;
	}
	memcpy(res->report.out_ext, ext, strlen(ext) + 1);
	*retire = ret;
	*out = inl;
	return 0;
}

/* ---- the office worker's messages ------------------------------------------------ */

int sk_wire_office_ready_encode(const char *sandbox, uint8_t **p, size_t *n)
{
	sk_buf b;
	sk_buf_init(&b, SK_WIRE_MAX);
	int rc = sk_codec_put_u32(&b, SK_WIRE_OFFICE_VERSION);
	rc = rc ? rc : sk_codec_put_str(&b, sandbox ? sandbox : "", SK_WIRE_STR_MAX);
	return finish(&b, rc, p, n);
}

int sk_wire_office_ready_decode(const uint8_t *p, size_t n, const char **sandbox)
{
	rd r = {.p = p, .n = n};
	uint32_t v = sk_codec_get_u32(&r);
	*sandbox = sk_codec_get_str(&r, false, SK_WIRE_STR_MAX);
	return at_end(&r) && v == SK_WIRE_OFFICE_VERSION ? 0 : SK_EFORMAT;
}

/* A type code the office job's mode takes */
static bool office_from_ok(uint32_t mode, const char *from)
{
	switch (mode) {
	case SK_OFFICE_CONVERT: return sk_office_target(from) != NULL;
	case SK_OFFICE_PDF:
	case SK_OFFICE_IMAGE: return sk_office_image_from(from);
	case SK_OFFICE_JOIN: return !strcmp(from, "pdf");
	default: return false;
	}
}

static bool lang_list_ok(const char *s)
{
	if (!s)
		return true;
	size_t n = strlen(s);
	if (n > SK_WIRE_LANG_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '+'))
			return false;
	return true;
}

bool sk_wire_office_retires(uint32_t mode, const char *from)
{
	if (mode == SK_OFFICE_CONVERT)
		return true;
	return (mode == SK_OFFICE_PDF || mode == SK_OFFICE_IMAGE) && (!from || strcmp(from, "pdf") != 0);
}

int sk_wire_office_job_encode(const sk_wire_office_job *j, uint8_t **p, size_t *n)
{
	if (!j->from || !office_from_ok(j->mode, j->from) || j->dpi > SK_WIRE_DPI_MAX ||
	    j->first > j->last || !lang_list_ok(j->ocr_lang) || j->nparts > SK_WIRE_PARTS_MAX ||
	    (j->mode == SK_OFFICE_JOIN) != (j->nparts > 0))
		return SK_EINVAL;
	sk_buf b;
	sk_buf_init(&b, SK_WIRE_MAX);
	int rc = sk_codec_put_u32(&b, j->mode);
	rc = rc ? rc : sk_codec_put_str(&b, j->from, 64);
	rc = rc ? rc : sk_codec_put_u64(&b, j->out_max);
	rc = rc ? rc : sk_codec_put_u32(&b, j->dpi);
	rc = rc ? rc : sk_codec_put_u32(&b, j->max_pages);
	rc = rc ? rc : sk_codec_put_u32(&b, j->first);
	rc = rc ? rc : sk_codec_put_u32(&b, j->last);
	rc = rc ? rc : sk_buf_addc(&b, j->gray ? 1 : 0);
	rc = rc ? rc : sk_codec_put_str(&b, j->ocr_lang, SK_WIRE_LANG_MAX + 1);
	rc = rc ? rc : sk_codec_put_u64(&b, j->max_pixels);
	rc = rc ? rc : sk_codec_put_u64(&b, j->deadline_ns);
	rc = rc ? rc : sk_codec_put_u32(&b, j->nparts);
	for (uint32_t i = 0; i < j->nparts && !rc; i++)
		rc = sk_codec_put_u64(&b, j->parts[i]);
	return finish(&b, rc, p, n);
}

int sk_wire_office_job_decode(const uint8_t *p, size_t n, sk_wire_office_job *j)
{
	rd r = {.p = p, .n = n};
	memset(j, 0, sizeof(*j));
	j->mode = sk_codec_get_u32(&r);
	j->from = sk_codec_get_str(&r, false, 64);
	j->out_max = sk_codec_get_u64(&r);
	j->dpi = sk_codec_get_u32(&r);
	j->max_pages = sk_codec_get_u32(&r);
	j->first = sk_codec_get_u32(&r);
	j->last = sk_codec_get_u32(&r);
	uint8_t gray = sk_codec_get_u8(&r);
	j->ocr_lang = sk_codec_get_str(&r, true, SK_WIRE_LANG_MAX + 1);
	j->max_pixels = sk_codec_get_u64(&r);
	j->deadline_ns = sk_codec_get_u64(&r);
	j->nparts = sk_codec_get_u32(&r);
	if (r.bad || j->nparts > SK_WIRE_PARTS_MAX)
		return SK_EFORMAT;
	uint64_t sum = 0;
	for (uint32_t i = 0; i < j->nparts; i++) {
		j->parts[i] = sk_codec_get_u64(&r);
		if (j->parts[i] > SK_WIRE_CONVERT_MAX)
			r.bad = true;
		else
			sum += j->parts[i];
	}
	if (!at_end(&r) || !office_from_ok(j->mode, j->from) || j->dpi > SK_WIRE_DPI_MAX ||
	    j->first > j->last || gray > 1 || !lang_list_ok(j->ocr_lang) ||
	    (j->mode == SK_OFFICE_JOIN) != (j->nparts > 0) || sum > SK_WIRE_CONVERT_MAX)
		return SK_EFORMAT;
	j->gray = gray;
	return 0;
}

int sk_wire_office_answer_encode(const sk_wire_office_answer *a, uint8_t **p, size_t *n)
{
	sk_buf b;
	sk_buf_init(&b, SK_WIRE_MAX);
	int rc = sk_codec_put_u32(&b, (uint32_t)a->reason);
	rc = rc ? rc : sk_codec_put_str(&b, a->detail, 1024);
	rc = rc ? rc : sk_codec_put_u64(&b, a->out_size);
	rc = rc ? rc : sk_codec_put_u32(&b, a->info.pages);
	rc = rc ? rc : sk_codec_put_u32(&b, a->info.rendered);
	rc = rc ? rc : sk_codec_put_u64(&b, a->info.pixels);
	for (int i = 0; i < SK_RENDER_OCR__COUNT && !rc; i++)
		rc = sk_codec_put_u32(&b, a->info.ocr[i]);
	return finish(&b, rc, p, n);
}

int sk_wire_office_answer_decode(const uint8_t *p, size_t n, sk_wire_office_answer *a)
{
	rd r = {.p = p, .n = n};
	memset(a, 0, sizeof(*a));
	uint32_t why = sk_codec_get_u32(&r);
	a->detail = sk_codec_get_str(&r, true, 1024);
	a->out_size = sk_codec_get_u64(&r);
	a->info.pages = sk_codec_get_u32(&r);
	a->info.rendered = sk_codec_get_u32(&r);
	a->info.pixels = sk_codec_get_u64(&r);
	uint64_t read = 0;
	for (int i = 0; i < SK_RENDER_OCR__COUNT; i++)
		read += (a->info.ocr[i] = sk_codec_get_u32(&r));
	/* done, with an output or a page count; or one of the reasons an office job fails
	 * with, and then nothing */
	bool known = why == SK_REASON_NONE || why == SK_REASON_ENCRYPTED ||
		     why == SK_REASON_MALFORMED || why == SK_REASON_LIMIT_SIZE ||
		     why == SK_REASON_LIMIT_PAGES || why == SK_REASON_LIMIT_PIXELS ||
		     why == SK_REASON_LIMIT_TIME || why == SK_REASON_INTERNAL;
	bool done = why == SK_REASON_NONE;
	if (!at_end(&r) || !known || (done && !a->out_size && !a->info.pages) ||
	    (!done && (a->out_size || a->info.pages || a->info.rendered || a->info.pixels || read)) ||
	    a->info.rendered > a->info.pages || read > a->info.rendered)
		return SK_EFORMAT;
	a->reason = (sk_reason)why;
	return 0;
}

/* ---- framing ------------------------------------------------------------------- */

int sk_wire_send(int sock, uint32_t type, const void *p, size_t n, const int *fds, int nfds)
{
	if (n > SK_WIRE_MAX || nfds < 0 || nfds > 4)
		return SK_EINVAL;
	uint8_t hdr[8];
	uint32_t len = (uint32_t)n;
	for (int i = 0; i < 4; i++) {
		hdr[i] = (uint8_t)(type >> (8 * i));
		hdr[4 + i] = (uint8_t)(len >> (8 * i));
	}
	struct iovec iov[2] = {{hdr, sizeof(hdr)}, {(void *)(uintptr_t)p, n}};
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} cm;
	memset(&cm, 0, sizeof(cm));
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = n ? 2 : 1};
	if (nfds) {
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	size_t total = sizeof(hdr) + n, done = 0;
	while (done < total) {
		ssize_t w = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return SK_EIO;
		}
		done += (size_t)w;
		/* the descriptors went with the first bytes; move the iovecs past what was sent */
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		size_t skip = (size_t)w;
		while (mh.msg_iovlen && skip >= mh.msg_iov[0].iov_len) {
			skip -= mh.msg_iov[0].iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen) {
			mh.msg_iov[0].iov_base = (uint8_t *)mh.msg_iov[0].iov_base + skip;
			mh.msg_iov[0].iov_len -= skip;
		}
	}
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Waits until sock is readable or the deadline passes (0: does not wait). */
static int wait_readable(int sock, uint64_t deadline_ns)
{
	if (!deadline_ns)
		return 0;
	for (;;) {
		uint64_t now = now_ns();
		if (now >= deadline_ns)
			return SK_ELIMIT;
		uint64_t ms = (deadline_ns - now + 999999) / 1000000;
		struct pollfd pf = {.fd = sock, .events = POLLIN};
		int r = poll(&pf, 1, ms > 60000 ? 60000 : (int)ms);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return SK_EIO;
	}
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

/* Reads into p until at least min of its n bytes are there (one call often brings them
 * all), collecting descriptors into fds (at most 4 in all); *got counts the bytes. */
static int read_some(int sock, uint8_t *p, size_t n, size_t min, size_t *got, int *fds,
		     int *nfd, uint64_t deadline_ns)
{
	while (*got < min) {
		int rc = wait_readable(sock, deadline_ns);
		if (rc)
			return rc;
		union {
			char buf[CMSG_SPACE(4 * sizeof(int))];
			struct cmsghdr align;
		} cm;
		struct iovec iov = {p + *got, n - *got};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf,
				    .msg_controllen = sizeof(cm.buf)};
		ssize_t r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return SK_EIO;
		}
		bool bad = (mh.msg_flags & MSG_CTRUNC) != 0;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
				bad = true;
				continue;
			}
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				if (*nfd < 4)
					fds[(*nfd)++] = fd;
				else {
					close(fd);
					bad = true;
				}
			}
		}
		if (bad)
			return SK_EFORMAT;
		if (r == 0)
			return SK_EIO; /* closed */
		*got += (size_t)r;
	}
	return 0;
}

/* The first read asks for the header and this much of the payload: a small message comes
 * in one call. The peers take turns (a job, then its answer), so a message is never
 * followed by another one the reader could swallow; bytes past the message's end are a
 * protocol error. */
#define FIRST_READ ((size_t)16 << 10)

int sk_wire_recv_fds(int sock, uint32_t *type, uint8_t **p, size_t *n, int *fds, int max_fds,
		     int *nfds, uint64_t deadline_ns)
{
	int got_fds[4], nfd = 0;
	uint8_t *buf = malloc(8 + FIRST_READ), *body = NULL;
	size_t got = 0;
	int rc = buf ? read_some(sock, buf, 8 + FIRST_READ, 8, &got, got_fds, &nfd, deadline_ns)
		     : SK_ENOMEM;
	if (rc)
		goto fail;
	uint32_t t = 0, len = 0;
	for (int i = 0; i < 4; i++) {
		t |= (uint32_t)buf[i] << (8 * i);
		len |= (uint32_t)buf[4 + i] << (8 * i);
	}
	bool known = (t >= SK_WIRE_READY && t <= SK_WIRE_CONVERTED) || t == SK_WIRE_OFFICE_JOB ||
		     t == SK_WIRE_OFFICE_ANSWER;
	if (!known || len > SK_WIRE_MAX || got - 8 > len) {
		rc = SK_EFORMAT;
		goto fail;
	}
	size_t have = got - 8;
	if (len <= FIRST_READ) {
		rc = read_some(sock, buf + 8, len, len, &have, got_fds, &nfd, deadline_ns);
		if (rc)
			goto fail;
		memmove(buf, buf + 8, len);
		body = buf;
		buf = NULL;
	} else {
		body = malloc(len);
		if (!body) {
			rc = SK_ENOMEM;
			goto fail;
		}
		memcpy(body, buf + 8, have);
		free(buf);
		buf = NULL;
		rc = read_some(sock, body, len, len, &have, got_fds, &nfd, deadline_ns);
		if (rc)
			goto fail;
	}
	if (nfd > max_fds) {
		rc = SK_EFORMAT;
		goto fail;
	}
	if (nfd)
		memcpy(fds, got_fds, (size_t)nfd * sizeof(int));
	*nfds = nfd;
	*type = t;
	*p = body;
	*n = len;
	return 0;
fail:
	free(buf);
	free(body);
	close_all(got_fds, nfd);
	return rc;
}

int sk_wire_recv(int sock, uint32_t *type, uint8_t **p, size_t *n, int *fds, int want_fds,
		 uint64_t deadline_ns)
{
	int got = 0;
	int rc = sk_wire_recv_fds(sock, type, p, n, fds, want_fds, &got, deadline_ns);
	if (rc == 0 && got != want_fds) {
		close_all(fds, got);
		free(*p);
		return SK_EFORMAT;
	}
	return rc;
}

/* ---- CONVERT and CONVERTED ------------------------------------------------------ */

/* A type code the target takes */
static bool convert_from_ok(uint32_t target, const char *from)
{
	return target == SK_CONVERT_OOXML ? sk_office_target(from) != NULL
	       : target == SK_CONVERT_IMAGE ? sk_office_image_from(from)
					    : false;
}

int sk_wire_convert_encode(const sk_convert *c, uint64_t len, uint8_t **p, size_t *n)
{
	if (!convert_from_ok(c->target, c->from) || len > SK_WIRE_CONVERT_MAX ||
	    c->dpi > SK_WIRE_DPI_MAX)
		return SK_EINVAL;
	sk_buf b;
	sk_buf_init(&b, SK_WIRE_STR_MAX);
	int rc = sk_codec_put_u32(&b, (uint32_t)c->target);
	rc = rc ? rc : sk_codec_put_str(&b, c->from, SK_WIRE_STR_MAX);
	rc = rc ? rc : sk_codec_put_u32(&b, c->dpi);
	rc = rc ? rc : sk_codec_put_u32(&b, c->max_pages);
	rc = rc ? rc : sk_codec_put_u64(&b, len);
	return finish(&b, rc, p, n);
}

int sk_wire_convert_decode(const uint8_t *p, size_t n, sk_convert *c, uint64_t *len)
{
	rd r = {.p = p, .n = n};
	memset(c, 0, sizeof(*c));
	uint32_t target = sk_codec_get_u32(&r);
	c->from = sk_codec_get_str(&r, false, SK_WIRE_STR_MAX);
	c->dpi = sk_codec_get_u32(&r);
	c->max_pages = sk_codec_get_u32(&r);
	*len = sk_codec_get_u64(&r);
	if (!at_end(&r) || !convert_from_ok(target, c->from) || *len > SK_WIRE_CONVERT_MAX ||
	    c->dpi > SK_WIRE_DPI_MAX)
		return SK_EFORMAT;
	c->target = (sk_convert_target)target;
	return 0;
}

int sk_wire_converted_encode(sk_reason reason, const char *detail, uint64_t len,
			     const sk_convert *c, uint8_t **p, size_t *n)
{
	unsigned pages = reason == SK_REASON_NONE && c ? c->pages : 0;
	const char *note = reason == SK_REASON_NONE && c ? c->note : "";
	if (reason >= SK_REASON__COUNT || (reason != SK_REASON_NONE && len) ||
	    len > SK_WIRE_CONVERT_MAX || strlen(note) >= sizeof(c->note))
		return SK_EINVAL;
	sk_buf b;
	sk_buf_init(&b, SK_WIRE_STR_MAX * 2);
	int rc = sk_codec_put_u32(&b, (uint32_t)reason);
	rc = rc ? rc : sk_codec_put_str(&b, detail ? detail : "", SK_WIRE_STR_MAX);
	rc = rc ? rc : sk_codec_put_u64(&b, len);
	rc = rc ? rc : sk_codec_put_u32(&b, pages);
	rc = rc ? rc : sk_codec_put_str(&b, note, SK_WIRE_STR_MAX);
	return finish(&b, rc, p, n);
}

int sk_wire_converted_decode(const uint8_t *p, size_t n, sk_reason *reason,
			     const char **detail, uint64_t *len, sk_convert *c)
{
	rd r = {.p = p, .n = n};
	uint32_t why = sk_codec_get_u32(&r);
	*detail = sk_codec_get_str(&r, false, SK_WIRE_STR_MAX);
	*len = sk_codec_get_u64(&r);
	uint32_t pages = sk_codec_get_u32(&r);
	const char *note = sk_codec_get_str(&r, false, sizeof(c->note));
	if (!at_end(&r) || why >= SK_REASON__COUNT || (why != SK_REASON_NONE && *len) ||
	    *len > SK_WIRE_CONVERT_MAX ||
	    (why != SK_REASON_NONE && (pages || note[0])))
		return SK_EFORMAT;
	*reason = (sk_reason)why;
	c->pages = pages;
	memcpy(c->note, note, strlen(note) + 1);
	return 0;
}

#define SEALS (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK)

int sk_wire_sealed(int fd, uint64_t len)
{
	struct stat st;
	int seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & SEALS) != SEALS || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != len)
		return SK_EFORMAT;
	return 0;
}

int sk_wire_memfd_open(const char *name, int *fd)
{
	*fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	return *fd < 0 ? SK_EIO : 0;
}

int sk_wire_seal(int fd)
{
	return fcntl(fd, F_ADD_SEALS, SEALS | F_SEAL_SEAL) != 0 ? SK_EIO : 0;
}

int sk_wire_memfd(const uint8_t *p, size_t n, int *fd)
{
	int f;
	if (sk_wire_memfd_open("sekisho-convert", &f) != 0)
		return SK_EIO;
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(f, p + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(f);
			return SK_EIO;
		}
		done += (size_t)w;
	}
	if (sk_wire_seal(f) != 0) {
		close(f);
		return SK_EIO;
	}
	*fd = f;
	return 0;
}

int sk_wire_memfd_read(int fd, uint64_t len, sk_buf *out)
{
	sk_buf_reset(out);
	if (len > SIZE_MAX - 1)
		return SK_ELIMIT;
	size_t chunk = (size_t)256 << 10;
	uint8_t *t = malloc(chunk);
	int rc = t ? sk_buf_reserve(out, (size_t)len) : SK_ENOMEM;
	for (uint64_t off = 0; !rc && off < len;) {
		size_t want = len - off < chunk ? (size_t)(len - off) : chunk;
		ssize_t r = pread(fd, t, want, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			rc = SK_EIO;
		else {
			rc = sk_buf_add(out, t, (size_t)r);
			off += (uint64_t)r;
		}
	}
	free(t);
	if (rc)
		sk_buf_reset(out);
	return rc;
}
