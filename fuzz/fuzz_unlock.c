/* The engine's unlock job (PPAP): the input is a password ZIP, or a mail message with
 * one, opened with fixed candidate passwords (the seeds are encrypted with "infected":
 * ZipCrypto and AES); every decrypted entry goes through the registry. Invariants: a
 * blocked result has a reason; "wrong password" only with reason encrypted; a delivered
 * archive holds no encrypted entry. */
#include <string.h>

#include "fuzzutil.h"
#include "sekisho/engine.h"
#include "sekisho/zipio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init) {
		sk_error e;
		sk_engine_init(&e);
		init = true;
	}
	sk_options o;
	fz_options(&o);
	static const char *const pw[] = {"wrong", "infected"};
	sk_engine_job job = {.name = "fuzz.zip", .budget = o.budget, .passwords = pw,
			     .n_passwords = 2};
	sk_budget_start(&job.budget);
	sk_input in;
	sk_input_mem(&in, data, size);
	sk_buf b;
	sk_buf_init(&b, 0);
	sk_output out;
	sk_output_buf(&out, &b);
	sk_engine_result res;
	sk_error err;
	sk_error_clear(&err);
	sk_engine_run(&job, &in, &out, &res, &err);
	const sk_report *r = &res.report;
	if (r->verdict == SK_VERDICT_BLOCKED && r->reason == SK_REASON_NONE)
		__builtin_trap();
	if (sk_engine_wrong_password(r) && r->reason != SK_REASON_ENCRYPTED)
		__builtin_trap();
	if (r->verdict != SK_VERDICT_BLOCKED && b.len && sk_zipio_encrypted(b.data, b.len))
		__builtin_trap();
	sk_engine_result_free(&res);
	sk_input_release(&in);
	sk_buf_free(&b);
	return 0;
}
