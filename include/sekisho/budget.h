/* sekisho — the resource budget of one item.
 *
 * One budget is shared by an item and everything nested in it (archive entries, embedded
 * images, attachments): containers charge it before they expand anything. A charge that
 * would go over a limit returns the sk_reason to block with (SK_REASON_LIMIT_*), else
 * SK_REASON_NONE. */
#ifndef SEKISHO_BUDGET_H
#define SEKISHO_BUDGET_H

#include <stdint.h>

#include "sekisho/report.h"

typedef struct sk_budget {
	/* limits */
	uint64_t max_input;    /* bytes of the top-level item */
	uint64_t max_expanded; /* bytes produced by decompression, summed over the item */
	uint32_t max_depth;    /* container nesting: the top-level item is depth 0 */
	uint64_t max_entries;  /* container entries, summed over the item */
	uint64_t max_pixels;   /* decoded pixels (width*height), summed over the item */
	uint32_t max_ratio;    /* uncompressed/compressed size of one entry */
	uint32_t max_seconds;  /* wall-clock seconds for the whole item (0: no limit) */
	uint64_t max_nodes;    /* XML/HTML nodes (or markup starts) in one parsed part */
	/* usage */
	uint64_t deadline_ns;  /* CLOCK_MONOTONIC ns after which the item is over time (0: none);
				  set by sk_budget_start() */
	uint64_t expanded;
	uint64_t entries;
	uint64_t pixels;
} sk_budget;

/* Embedded defaults: 256 MiB input, 1 GiB expanded, depth 8, 10,000 entries,
 * 100 Mpixel, ratio 200, 60 s, 4,000,000 nodes per part. */
void sk_budget_default(sk_budget *b);
/* Resets the usage fields and starts the clock (deadline = now + max_seconds). */
void sk_budget_start(sk_budget *b);
/* SK_REASON_LIMIT_TIME once the deadline has passed. Cheap (one clock_gettime): modules
 * call it per entry, per row batch, per scanline batch. */
sk_reason sk_budget_time(const sk_budget *b);
/* SK_REASON_LIMIT_NODES when a part with this many nodes may not be parsed. */
sk_reason sk_budget_nodes(const sk_budget *b, uint64_t nodes);

sk_reason sk_budget_input(const sk_budget *b, uint64_t size);
sk_reason sk_budget_expand(sk_budget *b, uint64_t bytes);
sk_reason sk_budget_entry(sk_budget *b);
sk_reason sk_budget_pixels(sk_budget *b, uint64_t width, uint64_t height);
sk_reason sk_budget_ratio(const sk_budget *b, uint64_t compressed, uint64_t uncompressed);
sk_reason sk_budget_depth(const sk_budget *b, uint32_t depth);

#endif
