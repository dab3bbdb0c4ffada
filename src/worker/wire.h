/* The job protocol between the gate and a sandboxed worker (internal).
 *
 * A message on the socketpair: a header of two little-endian u32 (type, payload length)
 * then the payload. Payload fields are little-endian integers and strings; a string is a
 * u32 length that counts its terminating NUL and then the bytes (no other NUL inside), or
 * 0xFFFFFFFF for NULL. A decoder checks every length against what is left and against its
 * limit, and the message must end exactly where its last field does: anything else is
 * malformed (SK_EFORMAT). A job carries the input's bytes or one descriptor (SCM_RIGHTS): the
 * input, read-only; an answer carries the output's bytes or one descriptor: a memfd the
 * worker made, sealed.
 *
 *   READY  (worker → gate, once, after the sandbox is in place)  u32 version
 *   JOB    (gate → worker)  name, profile (name, u32 flags, u32 legacy actions: 2 bits per
 *                           sk_legacy_family, each an sk_legacy_action, u32 image dpi,
 *                           u32 image max pages), budget (limits
 *                           and deadline), u64 output limit, u8 detect_only, u8 convert
 *                           (1: the job may ask CONVERT; 0: legacy formats blocked),
 *                           u32 dlp kinds, u32 dlp length (0xFFFFFFFF: no DLP) + the
 *                           detectors (sk_dlp_encode), u8 kind (0 file, 1 mail) and for
 *                           mail: profile, u32 lang, u32 attach, u8 rep_link,
 *                           u8 warn_external, u64 max_size, u32 max_parts, u32 max_depth,
 *                           u64 max_header, u64 max_text, original_id, u32 n + n internal
 *                           domains; kind 2 (unlock a password ZIP, engine.h): u32 n
 *                           (1..SK_UNLOCK_PASSWORDS_MAX) + n passwords (strings of at
 *                           most SK_UNLOCK_PASSWORD_MAX bytes). Both sides zero a job
 *                           message that carries passwords before freeing it.
 *                           Then, for every kind, the input's bytes (u32 length + bytes,
 *                           at most SK_WIRE_INLINE_MAX) or u32 0xFFFFFFFF when the input
 *                           is the job's one descriptor; a job with its input in the
 *                           message carries none
 *   ANSWER (worker → gate)  type code, u32 verdict, u32 reason, reason_where,
 *                           reason_detail, out_ext, u64 out_size, u8 retire,
 *                           u32 n, n × (u32 action, what, where, detail, u64 count),
 *                           the mail result: u8 held, u32 reason, detail, actions,
 *                           6 × u32 (parts, attachments, removed, reattached,
 *                           held_attachments, links); then the output's bytes (u32 length
 *                           = out_size + bytes, an item not blocked, at most
 *                           SK_WIRE_INLINE_MAX) or u32 0xFFFFFFFF when the output is in the
 *                           answer's one descriptor: a memfd sealed against writing,
 *                           growing and shrinking, of exactly out_size bytes (a blocked or
 *                           detect-only answer, or one with its output in the message,
 *                           carries none)
 *
 *   CONVERT   (worker → gate, in the middle of a job whose JOB said convert 1; at most
 *              SK_WIRE_CONVERTS_MAX in one job) u32 target (cdr.h: sk_convert_target),
 *              the type code (OOXML: one sk_office_target() converts; IMAGE: one of
 *              sk_office_image_from()), u32 dpi (at most SK_WIRE_DPI_MAX), u32 max pages,
 *              u64 length; one descriptor: a memfd sealed against writing,
 *              growing and shrinking, of exactly that many bytes (at most
 *              SK_WIRE_CONVERT_MAX): the item to convert. The gate converts it with the
 *              job's convert hook (engine.h) under the job's budget and answers CONVERTED;
 *              then the worker goes on with the job. Anything else (no descriptor, an
 *              unsealed one, a size that does not match, a code that is not convertible,
 *              a job without convert) is a malformed request: worker-crash.
 *   CONVERTED (gate → worker)  u32 reason (0: converted), detail (why it failed, "" when
 *              converted), u64 length, u32 pages and a note (IMAGE: pages rendered, the
 *              OCR models used; 0 and "" otherwise and after a failure); with reason 0
 *              one descriptor, a sealed memfd of exactly that many bytes: the OOXML
 *              package or the image PDF; else no descriptor and length 0
 *
 * Small inputs and outputs travel in the messages: an immutable copy, as a sealed memfd
 * is, without the cost of creating, sealing (which drains every CPU's page lists) and
 * mapping one per job. Larger ones go by memfd, sealed; the worker makes the output's
 * only when the output needs it. */
#ifndef SK_WORKER_WIRE_H
#define SK_WORKER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sekisho/engine.h"
#include "sekisho/render.h"

enum {
	SK_WIRE_READY = 1,
	SK_WIRE_JOB = 2,
	SK_WIRE_ANSWER = 3,
	SK_WIRE_CONVERT = 4,
	SK_WIRE_CONVERTED = 5,
};
#define SK_WIRE_VERSION 5
#define SK_WIRE_MAX ((size_t)64 << 20)   /* payload bytes of one message */
#define SK_WIRE_STR_MAX ((size_t)64 << 10) /* bytes of one string */
#define SK_WIRE_ENTRIES_MAX 1000000u      /* report entries in one answer */
#define SK_WIRE_INLINE_MAX ((size_t)128 << 10) /* input or output bytes in a message */
#define SK_WIRE_CONVERTS_MAX 10000u            /* CONVERT requests in one job */
#define SK_WIRE_CONVERT_MAX ((uint64_t)1 << 30) /* bytes of one CONVERT or CONVERTED memfd */
#define SK_WIRE_DPI_MAX 1200u                  /* 画像化's dpi (render.h's largest) */

/* A decoded job; the strings (and the DLP bytes) point into the message. */
typedef struct sk_wire_job {
	const char *name;
	sk_profile profile;
	sk_budget budget;
	uint64_t out_max;
	bool detect_only;
	bool convert;              /* the job may send CONVERT (the gate has a convert hook) */
	unsigned dlp_kinds;
	const uint8_t *dlp;        /* the detectors (sk_dlp_decode), NULL: no DLP */
	size_t dlp_len;
	bool is_mail;              /* a mail job: the options below */
	sk_mail_options mail;      /* internal_domains points at domains */
	const char *domains[SK_MAIL_IDS_MAX + 1];
	/* an unlock job (kind 2): the passwords point into the message */
	const char *passwords[SK_UNLOCK_PASSWORDS_MAX];
	size_t n_passwords;
	const uint8_t *input;      /* the input's bytes in the message; NULL: the first fd */
	size_t input_len;
} sk_wire_job;

/* Encoders: a malloc'd payload in *p (*n bytes). in (in_n bytes, at most
 * SK_WIRE_INLINE_MAX): the input carried in the job, NULL when it is a descriptor. out:
 * the output's res->out_size bytes carried in the answer (not for a blocked item), NULL
 * when they are in the memfd. */
int sk_wire_job_encode(const sk_engine_job *job, uint64_t out_max, const uint8_t *in,
		       size_t in_n, uint8_t **p, size_t *n);
int sk_wire_answer_encode(const sk_engine_result *res, bool retire, const uint8_t *out,
			  uint8_t **p, size_t *n);
int sk_wire_job_decode(const uint8_t *p, size_t n, sk_wire_job *job);
/* Fills res (initialised here; free with sk_engine_result_free() on success and failure):
 * the type is mapped back with sk_type_find(), every code is range-checked, and a
 * verdict and its reason must agree. *out: the output's res->out_size bytes when the
 * answer carries them (pointing into p), else NULL (the output is in the memfd). */
int sk_wire_answer_decode(const uint8_t *p, size_t n, sk_engine_result *res, bool *retire,
			  const uint8_t **out);

/* CONVERT and CONVERTED payloads (the descriptors travel beside them). The decoders
 * check the code (sk_office_target) and the reason range; *from and *detail point into
 * p. */
int sk_wire_convert_encode(const sk_convert *c, uint64_t len, uint8_t **p, size_t *n);
/* c->target, from (pointing into p), dpi, max_pages */
int sk_wire_convert_decode(const uint8_t *p, size_t n, sk_convert *c, uint64_t *len);
/* c (may be NULL): pages and note of a successful IMAGE conversion */
int sk_wire_converted_encode(sk_reason reason, const char *detail, uint64_t len,
			     const sk_convert *c, uint8_t **p, size_t *n);
/* c->pages and c->note filled (copied) */
int sk_wire_converted_decode(const uint8_t *p, size_t n, sk_reason *reason,
			     const char **detail, uint64_t *len, sk_convert *c);

/* A memfd that holds exactly len bytes and is sealed against writing, growing and
 * shrinking (what CONVERT and CONVERTED carry): 0, else SK_EFORMAT. */
int sk_wire_sealed(int fd, uint64_t len);
/* The len bytes of fd into out (reset first), read in chunks (no mapping to tear down):
 * 0, SK_ENOMEM or SK_ELIMIT (past out's cap), SK_EIO. */
int sk_wire_memfd_read(int fd, uint64_t len, sk_buf *out);
/* A new memfd holding p[0..n), sealed so (the descriptor in *fd, CLOEXEC). */
int sk_wire_memfd(const uint8_t *p, size_t n, int *fd);
/* A new empty memfd that can be sealed (CLOEXEC): 0 or SK_EIO. */
int sk_wire_memfd_open(const char *name, int *fd);
/* Seals fd as sk_wire_sealed() wants it (and against more seals): 0 or SK_EIO (a writable
 * mapping of it exists, or it is no memfd). */
int sk_wire_seal(int fd);

/* The office worker (sekisho-office, office.h) speaks on the same framing:
 *   READY          (worker → gate, once, LibreOffice loaded, the OCR models loaded and
 *                  the sandbox in place) u32 version (SK_WIRE_OFFICE_VERSION), the
 *                  sandbox it got (a string)
 *   OFFICE_JOB     (gate → worker) u32 mode, from (a type code), u64 output limit, u32
 *                  dpi (at most SK_WIRE_DPI_MAX), u32 max pages, u32 first, u32 last
 *                  (first <= last), u8 gray, OCR languages (nullable; letters, digits,
 *                  '_' and '+', at most SK_WIRE_LANG_MAX bytes), u64 max pixels, u64
 *                  deadline (CLOCK_MONOTONIC ns, 0: none), u32 n parts + n × u64 part
 *                  sizes (JOIN: 1 to SK_WIRE_PARTS_MAX, summing to at most
 *                  SK_WIRE_CONVERT_MAX; the other modes: 0); two descriptors: the input
 *                  (a sealed memfd; JOIN: the parts one after the other) and a memfd for
 *                  the output. Modes (the codes `from` may be):
 *                    CONVERT  to OOXML (a code of sk_office_target)
 *                    PDF      the page count, and LibreOffice's PDF of anything but a PDF
 *                             (a code of sk_office_image_from)
 *                    IMAGE    画像化 of pages [first, last) (0, 0: all) (the same codes)
 *                    JOIN     the parts joined ("pdf")
 *   OFFICE_ANSWER  (worker → gate) u32 reason (SK_REASON_NONE: done; else encrypted,
 *                  malformed, limit-size, limit-pages, limit-pixels, limit-time or
 *                  internal-error), detail (nullable), u64 out_size (the output is in the
 *                  memfd), what was rendered (render.h: sk_render_info: u32 pages, u32
 *                  rendered, u64 pixels, SK_RENDER_OCR__COUNT × u32): done has an output
 *                  or a page count; a failure has none of these; rendered <= pages and
 *                  the OCR counts sum to at most rendered */
enum { SK_WIRE_OFFICE_JOB = 16, SK_WIRE_OFFICE_ANSWER = 17 };
#define SK_WIRE_OFFICE_VERSION 2
#define SK_WIRE_LANG_MAX 63u
#define SK_WIRE_PARTS_MAX 1024u

enum { SK_OFFICE_CONVERT = 0, SK_OFFICE_PDF = 1, SK_OFFICE_IMAGE = 2, SK_OFFICE_JOIN = 3 };

/* Whether an office worker exits after a failed job of mode on a document of type code
 * from (the gate then starts a fresh one): when LibreOffice had the document (CONVERT;
 * PDF and IMAGE of anything but a PDF: LibreOffice exports it first). A failure of poppler
 * or tesseract alone (PDF and IMAGE of a PDF, JOIN: per-document state, freed) leaves the
 * worker serving, so that a stream of damaged PDFs does not restart LibreOffice for each
 * one. */
bool sk_wire_office_retires(uint32_t mode, const char *from);

/* A decoded office job; from and ocr_lang point into the message. */
typedef struct sk_wire_office_job {
	uint32_t mode;
	const char *from;
	uint64_t out_max;
	uint32_t dpi, max_pages, first, last;
	bool gray;
	const char *ocr_lang;
	uint64_t max_pixels, deadline_ns;
	uint32_t nparts;
	uint64_t parts[SK_WIRE_PARTS_MAX];
} sk_wire_office_job;

typedef struct sk_wire_office_answer {
	sk_reason reason;
	const char *detail; /* decoded: points into the message (may be NULL) */
	uint64_t out_size;
	sk_render_info info;
} sk_wire_office_answer;

int sk_wire_office_ready_encode(const char *sandbox, uint8_t **p, size_t *n);
int sk_wire_office_ready_decode(const uint8_t *p, size_t n, const char **sandbox);
int sk_wire_office_job_encode(const sk_wire_office_job *j, uint8_t **p, size_t *n);
int sk_wire_office_job_decode(const uint8_t *p, size_t n, sk_wire_office_job *j);
int sk_wire_office_answer_encode(const sk_wire_office_answer *a, uint8_t **p, size_t *n);
int sk_wire_office_answer_decode(const uint8_t *p, size_t n, sk_wire_office_answer *a);

/* Sends one message with nfds descriptors attached (MSG_NOSIGNAL: a dead peer is an
 * error, not a signal). */
int sk_wire_send(int sock, uint32_t type, const void *p, size_t n, const int *fds, int nfds);
/* Receives one message: *p is malloc'd (free it), exactly want_fds descriptors must come
 * with it (CLOEXEC; closed again on any failure). deadline_ns (CLOCK_MONOTONIC) 0 waits
 * for ever. Returns SK_EIO when the peer closed or on a read error, SK_ELIMIT when the
 * deadline passed, SK_EFORMAT for a malformed header or wrong descriptors. */
int sk_wire_recv(int sock, uint32_t *type, uint8_t **p, size_t *n, int *fds, int want_fds,
		 uint64_t deadline_ns);
/* The same with between 0 and max_fds descriptors (*nfds of them). */
int sk_wire_recv_fds(int sock, uint32_t *type, uint8_t **p, size_t *n, int *fds, int max_fds,
		     int *nfds, uint64_t deadline_ns);

#endif
