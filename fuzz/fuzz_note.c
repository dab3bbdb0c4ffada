/* Signed notes and checkpoints from outside (anchor files, syslog, the checkpoints
 * table): sk_note_open() with a fixed key, then the checkpoint text, and the key text
 * parsers. Checks: a note accepted as signed parses again to the same text length, and
 * a checkpoint that parses formats back to the same bytes when it has no unknown
 * extension lines. */
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "sekisho/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sk_note_verifier v;
	static bool init;
	if (!init) {
		sk_error err;
		if (sk_crypto_init(&err) != 0 ||
		    sk_note_verifier_parse("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
					   &v, &err) != 0)
			abort();
		init = true;
	}
	const char *note = (const char *)data;
	size_t tl = 0;
	sk_note_status s = sk_note_open(&v, note, size, &tl);
	if (s != SK_NOTE_MALFORMED && (tl == 0 || tl > size))
		abort();
	/* the checkpoint parser sees the signed text (or the whole input) */
	sk_checkpoint cp;
	size_t n = s != SK_NOTE_MALFORMED ? tl : size;
	if (sk_checkpoint_parse(note, n, &cp, NULL) == 0) {
		sk_buf b;
		sk_buf_init(&b, SK_NOTE_MAX);
		if (sk_checkpoint_format(&cp, &b) != 0)
			abort();
		/* a text with exactly our lines comes back byte for byte */
		if (b.len == n && memcmp(b.data, note, n) != 0)
			abort();
		sk_buf_free(&b);
	}
	/* key texts (NUL-terminated copies) */
	if (size < 2048) {
		char *t = malloc(size + 1);
		memcpy(t, data, size);
		t[size] = 0;
		sk_note_verifier v2;
		sk_note_signer s2;
		sk_note_verifier_parse(t, &v2, NULL);
		sk_note_signer_parse(t, &s2, NULL);
		free(t);
	}
	return 0;
}
