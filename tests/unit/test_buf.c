/* sk_buf (DESIGN §5): never past its cap, unchanged after any failure, NUL-terminated.
 * Linked with the allocation wrappers of failalloc.c, which also see the sizes asked. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "failalloc.h"
#include "testutil.h"

/* Every byte the buffer holds is len bytes and a NUL; nothing past max + 1 allocated. */
static void assert_sound(const sk_buf *b)
{
	assert_true(sk_buf_len(b) <= b->max);
	assert_true(b->cap <= b->max + 1);
	if (b->cap)
		assert_true(sk_buf_len(b) < b->cap);
	assert_non_null(sk_buf_data(b));
	assert_int_equal(sk_buf_data(b)[sk_buf_len(b)], 0);
	assert_ptr_equal(sk_buf_str(b), (const char *)sk_buf_data(b));
}

/* The buffer as it was: same bytes, same length, same memory. */
typedef struct snap {
	const uint8_t *data;
	size_t len, cap;
	char text[256];
} snap;

static void take_snap(const sk_buf *b, snap *s)
{
	s->data = b->data;
	s->len = sk_buf_len(b);
	s->cap = b->cap;
	assert_true(s->len < sizeof(s->text));
	memcpy(s->text, sk_buf_data(b), s->len + 1);
}

static void assert_unchanged(const sk_buf *b, const snap *s)
{
	assert_ptr_equal(b->data, s->data);
	assert_int_equal(sk_buf_len(b), s->len);
	assert_int_equal(b->cap, s->cap);
	assert_memory_equal(sk_buf_data(b), s->text, s->len + 1);
}

/* Doubling stops at max + 1: a buffer of max 100 holding 64 bytes grows to 101, not 128
 * (the 1 GiB buffer that allocated 2 GiB, in small). */
static void cap_clamped(void **state)
{
	(void)state;
	for (size_t max = 1; max <= 300; max++) {
		sk_buf b;
		sk_buf_init(&b, max);
		fa_off();
		size_t i = 0;
		for (; i < max; i++) {
			assert_int_equal(sk_buf_addc(&b, (uint8_t)('a' + i % 26)), 0);
			assert_sound(&b);
		}
		assert_int_equal(sk_buf_len(&b), max);
		assert_int_equal(b.cap, max + 1); /* full: exactly len and the NUL */
		assert_true(fa_max_size() <= max + 1);
		assert_int_equal(sk_buf_addc(&b, 'x'), SK_ELIMIT);
		assert_int_equal(sk_buf_len(&b), max);
		sk_buf_free(&b);
	}
	/* large steps: add() and reserve() clamp the same way */
	sk_buf b;
	sk_buf_init(&b, 1000);
	fa_off();
	assert_int_equal(sk_buf_reserve(&b, 600), 0);
	assert_true(b.cap >= 601 && b.cap <= 1001);
	static const char block[700] = {0};
	assert_int_equal(sk_buf_add(&b, block, 700), 0);
	assert_int_equal(sk_buf_add(&b, block, 300), 0);
	assert_int_equal(b.cap, 1001);
	assert_true(fa_max_size() <= 1001);
	assert_int_equal(sk_buf_add(&b, block, 1), SK_ELIMIT);
	assert_sound(&b);
	sk_buf_free(&b);
	/* the largest max: max + 1 still fits in size_t, and the sums do not wrap */
	sk_buf_init(&b, SIZE_MAX);
	assert_int_equal(b.max, SIZE_MAX - 1);
	assert_int_equal(sk_buf_reserve(&b, SIZE_MAX), SK_ELIMIT);
	fa_fail(0, 1);
	assert_int_equal(sk_buf_reserve(&b, SIZE_MAX - 1), SK_ENOMEM);
	fa_off();
	assert_int_equal(sk_buf_add(&b, "ab", 2), 0);
	assert_int_equal(sk_buf_reserve(&b, SIZE_MAX - 2), SK_ELIMIT); /* len + n > max */
	assert_string_equal(sk_buf_str(&b), "ab");
	sk_buf_free(&b);
}

/* A failed allocation or a limit leaves len, contents and memory as they were. */
static void failure_leaves_state(void **state)
{
	(void)state;
	sk_buf b;
	sk_buf_init(&b, 4096);
	assert_int_equal(sk_buf_adds(&b, "hello"), 0);
	snap s;
	take_snap(&b, &s);
	char big[200];
	memset(big, 'z', sizeof(big));

	fa_fail(0, 1); /* every allocation fails */
	assert_int_equal(sk_buf_add(&b, big, sizeof(big)), SK_ENOMEM);
	assert_unchanged(&b, &s);
	assert_int_equal(sk_buf_printf(&b, "%.*s", 150, big), SK_ENOMEM);
	assert_unchanged(&b, &s);
	assert_int_equal(sk_buf_reserve(&b, 100), SK_ENOMEM);
	assert_unchanged(&b, &s);
	assert_true(fa_failed() > 0);
	/* what fits in the memory already held needs no allocation */
	assert_int_equal(sk_buf_adds(&b, " world"), 0);
	assert_string_equal(sk_buf_str(&b), "hello world");
	fa_off();

	/* limits */
	take_snap(&b, &s);
	sk_buf small;
	sk_buf_init(&small, 20);
	assert_int_equal(sk_buf_adds(&small, "0123456789"), 0);
	snap ss;
	take_snap(&small, &ss);
	assert_int_equal(sk_buf_add(&small, big, 11), SK_ELIMIT);
	assert_unchanged(&small, &ss);
	assert_int_equal(sk_buf_adds(&small, "abcdefghijk"), SK_ELIMIT);
	assert_unchanged(&small, &ss);
	assert_int_equal(sk_buf_reserve(&small, 11), SK_ELIMIT);
	assert_unchanged(&small, &ss);
	assert_int_equal(sk_buf_add(&small, big, SIZE_MAX), SK_ELIMIT);
	assert_unchanged(&small, &ss);
	sk_buf_free(&small);

	/* the doubled size fails, the exact size is then enough */
	sk_buf c;
	sk_buf_init(&c, 4096);
	assert_int_equal(sk_buf_add(&c, big, 60), 0);
	assert_int_equal(c.cap, 64);
	fa_fail(0, 0);
	assert_int_equal(sk_buf_add(&c, big, 10), 0);
	assert_int_equal(fa_failed(), 1);
	assert_int_equal(c.cap, 71);
	assert_int_equal(sk_buf_len(&c), 70);
	assert_sound(&c);
	fa_off();
	sk_buf_free(&c);

	/* an empty buffer whose first allocation fails stays empty */
	sk_buf e;
	sk_buf_init(&e, 0);
	fa_fail(0, 1);
	assert_int_equal(sk_buf_adds(&e, "x"), SK_ENOMEM);
	assert_int_equal(sk_buf_addc(&e, 'x'), SK_ENOMEM);
	fa_off();
	assert_null(e.data);
	assert_int_equal(sk_buf_len(&e), 0);
	assert_string_equal(sk_buf_str(&e), "");
	sk_buf_free(&e);
	sk_buf_free(&b);
}

/* printf past max: refused whole, nothing written; up to max exactly: accepted. */
static void printf_past_max(void **state)
{
	(void)state;
	sk_buf b;
	sk_buf_init(&b, 10);
	assert_int_equal(sk_buf_printf(&b, "%s", "abc"), 0);
	snap s;
	take_snap(&b, &s);
	assert_int_equal(sk_buf_printf(&b, "%d", 12345678), SK_ELIMIT); /* 3 + 8 > 10 */
	assert_unchanged(&b, &s);
	assert_int_equal(sk_buf_printf(&b, "%07d", 42), 0); /* 3 + 7 = 10 */
	assert_string_equal(sk_buf_str(&b), "abc0000042");
	assert_int_equal(b.cap, 11);
	assert_int_equal(sk_buf_printf(&b, "%s", ""), 0);
	assert_int_equal(sk_buf_printf(&b, "%c", 'x'), SK_ELIMIT);
	assert_string_equal(sk_buf_str(&b), "abc0000042");
	sk_buf_free(&b);
	/* a long format into an empty buffer of a small max */
	sk_buf_init(&b, 100);
	assert_int_equal(sk_buf_printf(&b, "%0200d", 1), SK_ELIMIT);
	assert_null(b.data);
	assert_int_equal(sk_buf_printf(&b, "%0100d", 1), 0);
	assert_int_equal(sk_buf_len(&b), 100);
	assert_int_equal(b.cap, 101);
	assert_sound(&b);
	sk_buf_free(&b);
}

/* The terminating NUL after every operation, and the accessors. */
static void nul_terminated(void **state)
{
	(void)state;
	sk_buf b;
	sk_buf_init(&b, 64);
	assert_int_equal(sk_buf_len(&b), 0);
	assert_non_null(sk_buf_data(&b)); /* never NULL, even before any allocation */
	assert_int_equal(sk_buf_data(&b)[0], 0);
	assert_string_equal(sk_buf_str(&b), "");
	assert_int_equal(sk_buf_add(&b, "", 0), 0); /* allocates the NUL */
	assert_sound(&b);
	assert_int_equal(sk_buf_add(&b, "a\0b", 3), 0);
	assert_int_equal(sk_buf_len(&b), 3);
	assert_memory_equal(sk_buf_data(&b), "a\0b\0", 4);
	assert_int_equal(sk_buf_addc(&b, 'c'), 0);
	assert_sound(&b);
	assert_int_equal(sk_buf_printf(&b, "%s", "de"), 0);
	assert_memory_equal(sk_buf_data(&b), "a\0bcde\0", 7);
	sk_buf_truncate(&b, 4);
	assert_sound(&b);
	assert_memory_equal(sk_buf_data(&b), "a\0bc\0", 5);
	sk_buf_truncate(&b, 10); /* longer than len: nothing changes */
	assert_int_equal(sk_buf_len(&b), 4);
	assert_int_equal(sk_buf_adds(&b, "xyz"), 0);
	assert_memory_equal(sk_buf_data(&b), "a\0bcxyz\0", 8);
	sk_buf_reset(&b);
	assert_sound(&b);
	assert_string_equal(sk_buf_str(&b), "");
	assert_int_equal(sk_buf_adds(&b, "text"), 0);
	size_t n = 99;
	uint8_t *p = sk_buf_take(&b, &n);
	assert_int_equal(n, 4);
	assert_memory_equal(p, "text", 5);
	free(p);
	assert_null(b.data);
	assert_int_equal(sk_buf_len(&b), 0);
	assert_int_equal(b.max, 64); /* reusable */
	n = 99;
	assert_null(sk_buf_take(&b, &n));
	assert_int_equal(n, 0);
	assert_int_equal(sk_buf_adds(&b, "again"), 0);
	assert_string_equal(sk_buf_str(&b), "again");
	sk_buf_free(&b);
	assert_null(b.data);
	assert_int_equal(sk_buf_len(&b), 0);
}

/* sk_output_spill's opener in these tests: the descriptor in ctx, counted; -1 fails */
struct spill_to {
	int fd;
	int opened;
};

static int spill_open(void *ctx, sk_error *err)
{
	struct spill_to *t = ctx;
	t->opened++;
	if (t->fd < 0)
		return sk_error_set(err, SK_EIO, "no descriptor");
	return t->fd;
}

/* sk_output_spill: memory up to the buffer's max, then the descriptor (opened then, once)
 * gets what the buffer held and everything after; the output's own max still applies. */
static void output_spill(void **state)
{
	(void)state;
	struct spill_to t = {.fd = memfd_create("spill", MFD_CLOEXEC)};
	int fd = t.fd;
	assert_true(fd >= 0);
	sk_buf b;
	sk_buf_init(&b, 4);
	sk_output o;
	sk_output_spill(&o, &b, spill_open, &t, 10);
	assert_int_equal(sk_output_write(&o, "ab", 2, NULL), 0);
	assert_int_equal(sk_output_write(&o, "cd", 2, NULL), 0);
	/* still in memory: exactly the buffer's max, and no descriptor asked for */
	assert_ptr_equal(o.buf, &b);
	assert_int_equal(sk_buf_len(&b), 4);
	assert_int_equal(t.opened, 0);
	assert_int_equal(o.fd, -1);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(sk_output_write(&o, "e", 1, NULL), 0);
	assert_null(o.buf);
	assert_int_equal(o.fd, fd);
	assert_int_equal(t.opened, 1);
	assert_int_equal(sk_buf_len(&b), 0);
	assert_int_equal(sk_output_write(&o, "fghij", 5, NULL), 0);
	assert_int_equal(o.written, 10);
	assert_int_equal(t.opened, 1);
	/* the output's max */
	assert_int_equal(sk_output_write(&o, "k", 1, NULL), SK_ELIMIT);
	char got[16] = {0};
	assert_int_equal(pread(fd, got, sizeof(got), 0), 10);
	assert_string_equal(got, "abcdefghij");
	/* a write larger than the buffer at once goes to the descriptor */
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	sk_output_spill(&o, &b, spill_open, &t, 0);
	assert_int_equal(sk_output_write(&o, "0123456789", 10, NULL), 0);
	assert_null(o.buf);
	assert_int_equal(t.opened, 2);
	memset(got, 0, sizeof(got));
	assert_int_equal(pread(fd, got, sizeof(got), 0), 10);
	assert_string_equal(got, "0123456789");
	/* an opener that fails fails the write; the memory part is kept as it was */
	struct spill_to none = {.fd = -1};
	sk_output_spill(&o, &b, spill_open, &none, 0);
	assert_int_equal(sk_output_write(&o, "ab", 2, NULL), 0);
	sk_error err;
	sk_error_clear(&err);
	assert_int_equal(sk_output_write(&o, "cdefg", 5, &err), SK_EIO);
	assert_int_equal(none.opened, 1);
	assert_string_equal(err.msg, "no descriptor");
	assert_int_equal(o.written, 2);
	sk_buf_free(&b);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cap_clamped),
		cmocka_unit_test(failure_leaves_state),
		cmocka_unit_test(printf_past_max),
		cmocka_unit_test(nul_terminated),
		cmocka_unit_test(output_spill),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
