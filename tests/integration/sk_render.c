/* sk_render: sk_render_image_pdf and sk_render_join from the command line, for
 * tests/integration/render.sh and bench/render.sh (not installed).
 *
 *   sk_render [--dpi N] [--max-pages N] [--max-pixels N] [--seconds N] [--late]
 *             [--lang L] [--gray] [--first N --last N] IN.pdf OUT.pdf
 *   sk_render --join OUT.pdf PART.pdf...
 *
 * Prints "pages=N reason=CODE" (reason "none" on success) and exits 0 on success, 1 when
 * the document is blocked (reason set), 2 on a usage or I/O error. --late puts the budget's
 * deadline in the past; --seconds 0 means no time limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sekisho/render.h"

static int load(const char *path, sk_buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	char tmp[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		if (sk_buf_add(b, tmp, n)) {
			rc = -1;
			break;
		}
	if (ferror(f))
		rc = -1;
	fclose(f);
	return rc;
}

static int save(const char *path, const sk_buf *b)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(sk_buf_data(b), 1, sk_buf_len(b), f);
	return fclose(f) || w != sk_buf_len(b) ? -1 : 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: sk_render [--dpi N] [--max-pages N] [--max-pixels N] [--seconds N] "
			"[--late] [--lang L] [--gray] [--first N --last N] IN.pdf OUT.pdf\n"
			"       sk_render --join OUT.pdf PART.pdf...\n");
	return 2;
}

int main(int argc, char **argv)
{
	sk_error err = {0};
	if (argc >= 4 && !strcmp(argv[1], "--join")) {
		size_t n = (size_t)argc - 3;
		sk_buf *parts = calloc(n, sizeof(*parts));
		if (!parts)
			return 2;
		for (size_t i = 0; i < n; i++) {
			sk_buf_init(&parts[i], 0);
			if (load(argv[3 + i], &parts[i])) {
				fprintf(stderr, "sk_render: cannot read %s\n", argv[3 + i]);
				return 2;
			}
		}
		sk_buf out;
		sk_buf_init(&out, 0);
		int rc = sk_render_join(parts, n, &out, &err);
		if (rc) {
			fprintf(stderr, "sk_render: join: %s\n", err.msg);
			printf("pages=0 reason=malformed\n");
			return 1;
		}
		if (save(argv[2], &out))
			return 2;
		printf("pages=0 reason=none\n");
		for (size_t i = 0; i < n; i++)
			sk_buf_free(&parts[i]);
		free(parts);
		sk_buf_free(&out);
		return 0;
	}

	sk_render_options o;
	sk_render_options_default(&o);
	sk_budget b;
	sk_budget_default(&b);
	unsigned first = 0, last = 0;
	bool late = false;
	int i = 1;
	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--gray"))
			o.gray = true;
		else if (!strcmp(a, "--late"))
			late = true;
		else if (!v)
			return usage();
		else if (!strcmp(a, "--dpi"))
			o.dpi = (unsigned)strtoul(v, NULL, 10), i++;
		else if (!strcmp(a, "--max-pages"))
			o.max_pages = (unsigned)strtoul(v, NULL, 10), i++;
		else if (!strcmp(a, "--max-pixels"))
			b.max_pixels = strtoull(v, NULL, 10), i++;
		else if (!strcmp(a, "--seconds"))
			b.max_seconds = (uint32_t)strtoul(v, NULL, 10), i++;
		else if (!strcmp(a, "--lang"))
			o.ocr_lang = v, i++;
		else if (!strcmp(a, "--first"))
			first = (unsigned)strtoul(v, NULL, 10), i++;
		else if (!strcmp(a, "--last"))
			last = (unsigned)strtoul(v, NULL, 10), i++;
		else
			return usage();
	}
	if (argc - i != 2)
		return usage();
	if (sk_render_init(&o, &err)) {
		fprintf(stderr, "sk_render: init: %s\n", err.msg);
		return 2;
	}
	sk_buf in, out;
	sk_buf_init(&in, 0);
	sk_buf_init(&out, 0);
	if (load(argv[i], &in)) {
		fprintf(stderr, "sk_render: cannot read %s\n", argv[i]);
		return 2;
	}
	sk_budget_start(&b);
	if (late)
		b.deadline_ns = 1;
	sk_render_info info = {0};
	sk_reason why = SK_REASON_NONE;
	int rc = sk_render_image_pdf(sk_buf_data(&in), sk_buf_len(&in), &o, first, last, &b, &out,
				     &info, &why, &err);
	printf("pages=%u reason=%s\n", info.pages, rc ? sk_reason_code(why) : "none");
	/* the models chosen, on stderr: "ocr jpn=N jpn_vert=N jpn+jpn_vert=N list=N" */
	fprintf(stderr, "ocr");
	for (int m = 0; m < SK_RENDER_OCR__COUNT; m++)
		fprintf(stderr, " %s=%u", sk_render_ocr_code((sk_render_ocr)m), info.ocr[m]);
	fprintf(stderr, "\n");
	if (rc) {
		fprintf(stderr, "sk_render: %s\n", err.msg);
		sk_buf_free(&in);
		return 1;
	}
	if (save(argv[i + 1], &out)) {
		fprintf(stderr, "sk_render: cannot write %s\n", argv[i + 1]);
		return 2;
	}
	sk_buf_free(&in);
	sk_buf_free(&out);
	return 0;
}
