/* Allocation failures, injected one at a time (failalloc.c): whatever fails, the library
 * returns an error, leaks nothing and leaves no half-built object behind (the policy
 * parser; the Outlook .msg module). Run under ASan/UBSan to see the leaks and bad accesses
 * too. */
#include <stdlib.h>
#include <string.h>

#include "failalloc.h"
#include "sekisho/policy.h"
#include "sekisho/mail.h"
#include "testutil.h"

/* The example policy: every section, so that every array of the parser grows (PUSH). */
static void load_policy_text(sk_buf *b)
{
	tu_read(tu_src("examples/policy/default.yaml"), b);
}

/* What a policy says, for comparing two: its zones and its nftables ruleset. */
static void policy_digest(const sk_policy *p, sk_buf *out)
{
	sk_buf_init(out, 0);
	sk_error err;
	for (size_t i = 0; i < sk_policy_zone_count(p); i++)
		assert_int_equal(sk_buf_printf(out, "%s\n", sk_policy_zone_id(p, i)), 0);
	sk_buf nft;
	sk_buf_init(&nft, 0);
	assert_int_equal(sk_policy_nft(p, sk_policy_date_parse("2025-01-01"), &nft, &err), 0);
	assert_int_equal(sk_buf_add(out, sk_buf_data(&nft), sk_buf_len(&nft)), 0);
	sk_buf_free(&nft);
}

/* One pass: the n-th allocation fails (and with every_later, all the later ones). */
static int parse_failing(const sk_buf *text, long n, int every_later, sk_policy **p)
{
	sk_policy_diags d;
	sk_policy_diags_init(&d);
	sk_error err;
	sk_error_clear(&err);
	fa_fail(n, every_later);
	int rc = sk_policy_parse(sk_buf_str(text), sk_buf_len(text), sk_policy_date_parse("2025-01-01"),
				 p, &d, &err);
	fa_off();
	sk_policy_diags_free(&d);
	return rc;
}

/* Each allocation of sk_policy_parse in turn fails. The parser goes on after a failure
 * (to report what it can), so a failed append must leave the array and its count as they
 * were: before, the count was kept while the array became NULL, and sk_policy_free()
 * (or the next append) read through it. */
static void policy_parse_each_allocation_fails(void **state)
{
	(void)state;
	sk_buf text;
	load_policy_text(&text);
	sk_policy *ref = NULL;
	fa_off();
	assert_int_equal(parse_failing(&text, -1, 0, &ref), 0);
	long total = 0;
	{
		sk_policy *p = NULL;
		fa_fail(-1, 0);
		sk_policy_diags d;
		sk_policy_diags_init(&d);
		sk_error err;
		assert_int_equal(sk_policy_parse(sk_buf_str(&text), sk_buf_len(&text),
						 sk_policy_date_parse("2025-01-01"), &p, &d, &err),
				 0);
		total = fa_calls();
		fa_off();
		sk_policy_diags_free(&d);
		sk_policy_free(p);
	}
	assert_true(total > 20); /* the sweep below covers the parser's arrays */
	sk_buf want;
	policy_digest(ref, &want);
	for (int every_later = 0; every_later <= 1; every_later++) {
		long refused = 0, recovered = 0;
		for (long n = 0; n < total; n++) {
			sk_policy *p = (sk_policy *)&n; /* set to NULL on failure */
			int rc = parse_failing(&text, n, every_later, &p);
			if (rc == 0) {
				/* an allocation may fail without failing the parse only where
				 * there is a fallback (a buffer's doubled size: the exact size is
				 * tried next); the policy must then be the same */
				assert_non_null(p);
				sk_buf got;
				policy_digest(p, &got);
				assert_int_equal(sk_buf_len(&got), sk_buf_len(&want));
				assert_memory_equal(sk_buf_data(&got), sk_buf_data(&want), sk_buf_len(&want));
				sk_buf_free(&got);
				sk_policy_free(p);
				recovered++;
				continue;
			}
			assert_true(rc < 0);
			assert_null(p);
			refused++;
		}
		print_message("# every_later %d: %ld allocations, %ld refused, %ld recovered\n",
			      every_later, total, refused, recovered);
		assert_true(refused > total / 2);
	}
	sk_buf_free(&want);
	sk_policy_free(ref);
	sk_buf_free(&text);
}

/* The Outlook .msg module (the compound file reader, the properties, an attachment
 * through the registry, an attached message): whichever allocation fails, the message is
 * blocked or delivered whole (the same output as without a failure), and nothing leaks. */
static void msg_each_allocation_fails(void **state)
{
	(void)state;
	sk_mail_init();
	sk_buf msg, want, out;
	tu_read(tu_src("fuzz/corpus/msg/attach"), &msg);
	sk_buf_init(&want, 0);
	sk_budget b;
	fa_off();
	tu_budget(&b, false);
	assert_int_equal(tu_direct(sk_buf_data(&msg), sk_buf_len(&msg), "a.msg", &b, &want),
			 SK_REASON_NONE);
	tu_budget(&b, false);
	sk_buf_init(&out, 0);
	fa_fail(-1, 0);
	tu_direct(sk_buf_data(&msg), sk_buf_len(&msg), "a.msg", &b, &out);
	long total = fa_calls();
	fa_off();
	assert_true(total > 50);
	for (int every_later = 0; every_later <= 1; every_later++) {
		long blocked = 0, whole = 0;
		for (long n = 0; n < total; n++) {
			sk_buf_free(&out);
			sk_buf_init(&out, 0);
			tu_budget(&b, false);
			fa_fail(n, every_later);
			sk_reason r = tu_direct(sk_buf_data(&msg), sk_buf_len(&msg), "a.msg", &b, &out);
			fa_off();
			if (r != SK_REASON_NONE) {
				blocked++;
				continue;
			}
			assert_int_equal(sk_buf_len(&out), sk_buf_len(&want));
			assert_memory_equal(sk_buf_data(&out), sk_buf_data(&want), sk_buf_len(&want));
			whole++;
		}
		print_message("# msg, every_later %d: %ld allocations, %ld blocked, %ld whole\n",
			      every_later, total, blocked, whole);
		/* a buffer's doubled size may fail where its exact size is tried next */
		assert_true(every_later ? blocked > total / 2 : blocked > total / 4);
	}
	sk_buf_free(&out);
	sk_buf_free(&want);
	sk_buf_free(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(policy_parse_each_allocation_fails),
		cmocka_unit_test(msg_each_allocation_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
