#include "failalloc.h"

#include <stdlib.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);

static long at = -1; /* the call that fails (-1: none) */
static int later;
static long calls, failed;
static size_t maxsz;

void fa_fail(long n, int every_later)
{
	at = n;
	later = every_later;
	calls = failed = 0;
	maxsz = 0;
}

void fa_off(void)
{
	fa_fail(-1, 0);
}

long fa_calls(void)
{
	return calls;
}

long fa_failed(void)
{
	return failed;
}

size_t fa_max_size(void)
{
	return maxsz;
}

/* Counts one allocation of n bytes; true when it is to fail. */
static int fail_now(size_t n)
{
	long i = calls++;
	if (n > maxsz)
		maxsz = n;
	if (at >= 0 && (i == at || (later && i > at))) {
		failed++;
		return 1;
	}
	return 0;
}

void *__wrap_malloc(size_t n)
{
	return fail_now(n) ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
	return fail_now(k * n) ? NULL : __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
	return fail_now(n) ? NULL : __real_realloc(p, n);
}
