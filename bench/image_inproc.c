/* In-process CPU time of sk_process() per file, without process start-up or file I/O:
 *   cc -O2 -Iinclude bench/image_inproc.c build/libsekisho.a \
 *      $(pkg-config --libs libzip libpng libjpeg uchardet libsodium jansson) -lgif -lm \
 *      -o build/image_inproc
 *   build/image_inproc ITERATIONS FILE...
 * Prints input and output size, verdict (0 clean, 1 sanitized, 2 blocked), ms of CPU per
 * file and MB/s of input. Includes what sk_process does besides the module (SHA-256 of
 * the input, type detection). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sekisho/core.h"

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: image_inproc ITERATIONS FILE...\n");
		return 2;
	}
	int iters = atoi(argv[1]);
	if (iters < 1)
		iters = 1;
	for (int a = 2; a < argc; a++) {
		sk_buf in;
		sk_buf_init(&in, 0);
		sk_error err;
		if (sk_read_file(argv[a], (size_t)1 << 30, &in, &err)) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		struct timespec t0, t1;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
		size_t outlen = 0;
		int verdict = 0;
		for (int i = 0; i < iters; i++) {
			sk_options o;
			sk_options_default(&o);
			sk_buf out;
			sk_buf_init(&out, 0);
			sk_output so;
			sk_output_buf(&so, &out);
			sk_item item = {.name = argv[a]};
			sk_input_mem(&item.input, in.data, in.len);
			sk_result res;
			sk_process(&item, &o, &so, &res, &err);
			outlen = out.len;
			verdict = (int)res.report.verdict;
			sk_result_free(&res);
			sk_buf_free(&out);
		}
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
		double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		printf("%-44s %9zu -> %9zu  v%d %9.2f ms/file %8.1f MB/s\n", argv[a], in.len, outlen,
		       verdict, s / iters * 1e3, (double)in.len * iters / s / 1e6);
		sk_buf_free(&in);
	}
	return 0;
}
