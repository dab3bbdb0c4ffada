/* DLP scan throughput (MB/s) on generated text. Usage: dlp_bench [MB]  (default 200)
 * Texts: Japanese prose with a few numbers; a digit-dense CSV (worst case for the number
 * detectors); the prose again with one custom pattern (POSIX regex), and without the asset
 * marking detector (its cost: the first line minus this one). Each is scanned in
 * one buffer (sk_dlp_scan_text) and streamed in chunks (sk_dlp_scan_input); best of 3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sekisho/dlp.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ull;
static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static void gen_prose(sk_buf *b, size_t size)
{
	static const char *const s[] = {
		"本日の会議資料を送付いたします。", "ご確認のほどよろしくお願いいたします。",
		"担当は総務課の佐藤（内線1234）です。", "令和6年4月1日から受付を開始しました。",
		"見積金額は1,234,500円（税込）です。", "問い合わせは03-1234-5678までお願いします。",
		"The meeting minutes are attached for your reference.", "第2回 検討委員会 議事録\n",
		"申請書の様式は別紙のとおりです。\n", "予算額 ¥12,000,000 の内訳を添付します。",
	};
	while (b->len < size) {
		unsigned k = rnd(100);
		if (k == 0)
			sk_buf_adds(b, "申請者の個人番号：3847-5629-1044。");
		else
			sk_buf_adds(b, s[k % 10]);
		if (rnd(4) == 0)
			sk_buf_addc(b, '\n');
	}
}

static void gen_csv(sk_buf *b, size_t size)
{
	sk_buf_adds(b, "id,date,amount,phone,code\n");
	while (b->len < size)
		sk_buf_printf(b, "%u,2024/%02u/%02u,%u,0%u-%04u-%04u,%012llu\n", rnd(1000000), 1 + rnd(12),
			      1 + rnd(28), rnd(100000000), 1 + rnd(9), rnd(10000), rnd(10000),
			      (unsigned long long)rnd(1000000) * 1000000ull + rnd(1000000));
}

static double run(const sk_dlp *d, const sk_buf *t, int stream, size_t *matches)
{
	double best = 1e9;
	for (int i = 0; i < 3; i++) {
		sk_dlp_result r;
		sk_dlp_result_init(&r);
		sk_error err;
		double t0 = now();
		int rc;
		if (stream) {
			sk_input in;
			sk_input_mem(&in, t->data, t->len);
			rc = sk_dlp_scan_input(d, &in, &r, &err);
		} else {
			rc = sk_dlp_scan_text(d, (const char *)t->data, t->len, &r, &err);
		}
		double dt = now() - t0;
		if (rc) {
			fprintf(stderr, "scan failed: %s\n", err.msg);
			exit(1);
		}
		*matches = r.n;
		sk_dlp_result_free(&r);
		if (dt < best)
			best = dt;
	}
	return (double)t->len / 1e6 / best;
}

int main(int argc, char **argv)
{
	size_t mb = argc > 1 ? (size_t)atoi(argv[1]) : 200;
	sk_buf prose, csv;
	sk_buf_init(&prose, SK_BUF_MAX_DEFAULT);
	sk_buf_init(&csv, SK_BUF_MAX_DEFAULT);
	gen_prose(&prose, mb << 20);
	gen_csv(&csv, mb << 20);
	sk_dlp_config c;
	sk_dlp_config_default(&c);
	c.max_input = (uint64_t)4 << 30;
	c.max_matches = 100000000;
	sk_dlp *d = NULL, *dp = NULL, *dn = NULL;
	sk_error err;
	if (sk_dlp_new(&c, &d, &err))
		return 1;
	c.asset = false;
	if (sk_dlp_new(&c, &dn, &err))
		return 1;
	c.asset = true;
	sk_dlp_pattern pat[] = {{"staff-id", "職員番号(:|：)?[[:space:]]*[0-9]{6}"}};
	c.patterns = pat;
	c.npatterns = 1;
	if (sk_dlp_new(&c, &dp, &err))
		return 1;
	size_t m;
	printf("text                      size     in-memory    streamed   matches\n");
	double a = run(d, &prose, 0, &m), b = run(d, &prose, 1, &m);
	printf("Japanese prose          %4zu MB  %7.0f MB/s %7.0f MB/s  %zu\n", prose.len >> 20, a, b, m);
	a = run(d, &csv, 0, &m);
	b = run(d, &csv, 1, &m);
	printf("digit-dense CSV         %4zu MB  %7.0f MB/s %7.0f MB/s  %zu\n", csv.len >> 20, a, b, m);
	a = run(dp, &prose, 0, &m);
	b = run(dp, &prose, 1, &m);
	printf("prose + 1 regex pattern %4zu MB  %7.0f MB/s %7.0f MB/s  %zu\n", prose.len >> 20, a, b, m);
	a = run(dn, &prose, 0, &m);
	b = run(dn, &prose, 1, &m);
	printf("prose, no asset markings%4zu MB  %7.0f MB/s %7.0f MB/s  %zu\n", prose.len >> 20, a, b, m);
	sk_dlp_free(dn);
	sk_dlp_free(d);
	sk_dlp_free(dp);
	sk_buf_free(&prose);
	sk_buf_free(&csv);
	return 0;
}
