/* Allocation failure injection for the unit tests linked with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc (see tests/meson.build): the calls made
 * by the test and by the static libsekisho go through here; shared libraries (libc's own
 * strdup, libyaml, libxml2, cmocka) allocate normally. Single-threaded tests only. */
#ifndef SK_FAILALLOC_H
#define SK_FAILALLOC_H

#include <stddef.h>

/* The n-th allocation from now (0: the next one) fails, and with every_later so does each
 * one after it. Resets the counters. */
void fa_fail(long n, int every_later);
/* No more failures; resets the counters. */
void fa_off(void);
/* Allocations seen since the last fa_fail()/fa_off(), and how many of them failed. */
long fa_calls(void);
long fa_failed(void);
/* The largest size asked for since the last fa_fail()/fa_off(). */
size_t fa_max_size(void);

#endif
