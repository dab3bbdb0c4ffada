#include "sekisho/budget.h"

#include <time.h>

void sk_budget_default(sk_budget *b)
{
	b->max_input = 256ull << 20;
	b->max_expanded = 1ull << 30;
	b->max_depth = 8;
	b->max_entries = 10000;
	b->max_pixels = 100ull * 1000 * 1000;
	b->max_ratio = 200;
	b->max_seconds = 60;
	b->max_nodes = 4000000;
	b->deadline_ns = 0;
	b->expanded = 0;
	b->entries = 0;
	b->pixels = 0;
}

sk_reason sk_budget_input(const sk_budget *b, uint64_t size)
{
	return size > b->max_input ? SK_REASON_LIMIT_SIZE : SK_REASON_NONE;
}

sk_reason sk_budget_expand(sk_budget *b, uint64_t bytes)
{
	if (bytes > b->max_expanded || b->expanded > b->max_expanded - bytes)
		return SK_REASON_LIMIT_SIZE;
	b->expanded += bytes;
	return SK_REASON_NONE;
}

sk_reason sk_budget_entry(sk_budget *b)
{
	if (b->entries >= b->max_entries)
		return SK_REASON_LIMIT_ENTRIES;
	b->entries++;
	return SK_REASON_NONE;
}

sk_reason sk_budget_pixels(sk_budget *b, uint64_t width, uint64_t height)
{
	if (width && height > UINT64_MAX / width)
		return SK_REASON_LIMIT_PIXELS;
	uint64_t px = width * height;
	if (px > b->max_pixels || b->pixels > b->max_pixels - px)
		return SK_REASON_LIMIT_PIXELS;
	b->pixels += px;
	return SK_REASON_NONE;
}

sk_reason sk_budget_ratio(const sk_budget *b, uint64_t compressed, uint64_t uncompressed)
{
	/* Small entries cannot be bombs whatever their ratio (a 1 KiB run of spaces). */
	if (uncompressed <= 64 * 1024)
		return SK_REASON_NONE;
	if (compressed == 0 || uncompressed / compressed >= b->max_ratio)
		return SK_REASON_LIMIT_RATIO;
	return SK_REASON_NONE;
}

sk_reason sk_budget_depth(const sk_budget *b, uint32_t depth)
{
	return depth > b->max_depth ? SK_REASON_LIMIT_DEPTH : SK_REASON_NONE;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sk_budget_start(sk_budget *b)
{
	b->expanded = b->entries = b->pixels = 0;
	b->deadline_ns = b->max_seconds ? now_ns() + (uint64_t)b->max_seconds * 1000000000u : 0;
}

sk_reason sk_budget_time(const sk_budget *b)
{
	if (b->deadline_ns && now_ns() > b->deadline_ns)
		return SK_REASON_LIMIT_TIME;
	return SK_REASON_NONE;
}

sk_reason sk_budget_nodes(const sk_budget *b, uint64_t nodes)
{
	return b->max_nodes && nodes > b->max_nodes ? SK_REASON_LIMIT_NODES : SK_REASON_NONE;
}
