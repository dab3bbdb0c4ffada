/* The job protocol between gate and worker (src/worker/wire.c): round trips, and the
 * strict decoders against every truncation and every single-byte change. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"
#include "wire.h"

static void answer_of(sk_engine_result *r)
{
	memset(r, 0, sizeof(*r));
	sk_report_init(&r->report);
	r->type = *sk_type_find("docx");
	sk_report_add(&r->report, SK_ACTION_REMOVED, "macro", "word/vbaProject.bin", NULL, 1);
	sk_report_add(&r->report, SK_ACTION_NOTED, "name-mismatch", "", "docx", 2);
	sk_report_finish(&r->report);
	memcpy(r->report.out_ext, "docx", 5);
	r->out_size = 1234;
}

static void round_trip(void **state)
{
	(void)state;
	sk_engine_result a, b;
	answer_of(&a);
	uint8_t *p;
	size_t n;
	assert_int_equal(sk_wire_answer_encode(&a, true, &p, &n), 0);
	bool retire = false;
	assert_int_equal(sk_wire_answer_decode(p, n, &b, &retire), 0);
	assert_true(retire);
	assert_ptr_equal(b.type.code, a.type.code);
	assert_int_equal(b.report.verdict, SK_VERDICT_SANITIZED);
	assert_int_equal(b.report.n, 2);
	assert_string_equal(b.report.v[0].where, "word/vbaProject.bin");
	assert_null(b.report.v[0].detail);
	assert_string_equal(b.report.v[1].detail, "docx");
	assert_int_equal(b.report.v[1].count, 2);
	assert_string_equal(b.report.out_ext, "docx");
	assert_int_equal(b.out_size, 1234);
	sk_engine_result_free(&b);
	free(p);
	/* blocked, with where and detail */
	sk_engine_result_free(&a);
	memset(&a, 0, sizeof(a));
	sk_report_init(&a.report);
	a.type = *sk_type_find("zip");
	sk_report_block(&a.report, SK_REASON_LIMIT_RATIO, "a/b.zip", "ratio");
	assert_int_equal(sk_wire_answer_encode(&a, false, &p, &n), 0);
	assert_int_equal(sk_wire_answer_decode(p, n, &b, &retire), 0);
	assert_false(retire);
	assert_int_equal(b.report.reason, SK_REASON_LIMIT_RATIO);
	assert_string_equal(b.report.reason_where, "a/b.zip");
	assert_string_equal(b.report.reason_detail, "ratio");
	sk_engine_result_free(&b);
	sk_engine_result_free(&a);
	free(p);
	/* a job */
	sk_engine_job j = {.name = "名前.csv", .profile = sk_profile_find("strict")};
	sk_budget_default(&j.budget);
	j.budget.deadline_ns = 77;
	assert_int_equal(sk_wire_job_encode(&j, 999, &p, &n), 0);
	sk_wire_job d;
	assert_int_equal(sk_wire_job_decode(p, n, &d), 0);
	assert_string_equal(d.name, "名前.csv");
	assert_string_equal(d.profile.name, "strict");
	assert_true(d.profile.block_name_mismatch);
	assert_false(d.profile.keep_comments);
	assert_int_equal(d.budget.max_nodes, j.budget.max_nodes);
	assert_int_equal(d.budget.deadline_ns, 77);
	assert_int_equal(d.out_max, 999);
	free(p);
}

/* Every prefix is rejected; every single-byte change is rejected or decodes to a result
 * that passes the same checks (never a crash, never a leak: run under ASan). */
static void strict_decoders(void **state)
{
	(void)state;
	sk_engine_result a, b;
	answer_of(&a);
	uint8_t *p;
	size_t n;
	assert_int_equal(sk_wire_answer_encode(&a, false, &p, &n), 0);
	bool retire;
	for (size_t k = 0; k < n; k++) {
		assert_int_not_equal(sk_wire_answer_decode(p, k, &b, &retire), 0);
		sk_engine_result_free(&b);
	}
	/* one byte more is malformed too */
	uint8_t *q = malloc(n + 1);
	memcpy(q, p, n);
	q[n] = 0;
	assert_int_not_equal(sk_wire_answer_decode(q, n + 1, &b, &retire), 0);
	sk_engine_result_free(&b);
	size_t accepted = 0;
	for (size_t k = 0; k < n; k++)
		for (int bit = 0; bit < 8; bit++) {
			memcpy(q, p, n);
			q[k] ^= (uint8_t)(1 << bit);
			if (sk_wire_answer_decode(q, n, &b, &retire) == 0) {
				accepted++;
				assert_non_null(sk_type_find(b.type.code));
				assert_true(b.report.verdict <= SK_VERDICT_BLOCKED);
			}
			sk_engine_result_free(&b);
		}
	/* flips inside strings and counts may still make a well-formed answer, but most
	 * change a length, a code or a terminator */
	assert_true(accepted < n * 8 / 2);
	free(q);
	free(p);
	sk_engine_result_free(&a);

	sk_engine_job j = {.name = "x"};
	sk_budget_default(&j.budget);
	assert_int_equal(sk_wire_job_encode(&j, 1, &p, &n), 0);
	sk_wire_job d;
	for (size_t k = 0; k < n; k++)
		assert_int_not_equal(sk_wire_job_decode(p, k, &d), 0);
	p[n - 1] = 2; /* detect_only is 0 or 1 */
	assert_int_not_equal(sk_wire_job_decode(p, n, &d), 0);
	free(p);
}

/* Framing on a socketpair: a message with descriptors, a header over the limit, a
 * message with descriptors where none are expected, EOF. */
static void framing(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	int fds[2] = {STDIN_FILENO, STDERR_FILENO};
	assert_int_equal(sk_wire_send(sv[0], SK_WIRE_JOB, "abc", 3, fds, 2), 0);
	uint32_t type;
	uint8_t *p;
	size_t n;
	int got[2] = {-1, -1};
	assert_int_equal(sk_wire_recv(sv[1], &type, &p, &n, got, 2, 0), 0);
	assert_int_equal(type, SK_WIRE_JOB);
	assert_int_equal(n, 3);
	assert_memory_equal(p, "abc", 3);
	assert_true(got[0] > 2 && got[1] > 2);
	close(got[0]);
	close(got[1]);
	free(p);
	/* descriptors where none are expected */
	assert_int_equal(sk_wire_send(sv[0], SK_WIRE_ANSWER, "x", 1, fds, 1), 0);
	assert_int_equal(sk_wire_recv(sv[1], &type, &p, &n, NULL, 0, 0), SK_EFORMAT);
	/* a length past the limit, an unknown type */
	const uint8_t big[8] = {SK_WIRE_ANSWER, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f};
	assert_int_equal(write(sv[0], big, 8), 8);
	assert_int_equal(sk_wire_recv(sv[1], &type, &p, &n, NULL, 0, 0), SK_EFORMAT);
	const uint8_t odd[8] = {9, 0, 0, 0, 0, 0, 0, 0};
	assert_int_equal(write(sv[0], odd, 8), 8);
	assert_int_equal(sk_wire_recv(sv[1], &type, &p, &n, NULL, 0, 0), SK_EFORMAT);
	/* a deadline already past */
	assert_int_equal(sk_wire_recv(sv[1], &type, &p, &n, NULL, 0, 1), SK_ELIMIT);
	close(sv[0]);
	assert_int_equal(sk_wire_recv(sv[1], &type, &p, &n, NULL, 0, 0), SK_EIO);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(strict_decoders),
		cmocka_unit_test(framing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
