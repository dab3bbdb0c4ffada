/* The job protocol between the gate and a worker (src/worker/wire.c): a compromised worker
 * controls every byte of its answer, of its CONVERT requests and (an office worker) of its
 * OFFICE_ANSWER; the workers read jobs, CONVERTED and OFFICE_JOB. Every decoder takes the
 * input; an answer that decodes encodes again and decodes to the same verdict, reason,
 * type and entries; a job that decodes has its strings inside the message; the
 * conversion and office messages that decode encode again to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "fuzzutil.h"
#include "wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sk_engine_result res;
	bool retire = false;
	const uint8_t *out = NULL;
	if (sk_wire_answer_decode(data, size, &res, &retire, &out) == 0) {
		uint8_t *p = NULL;
		size_t n = 0;
		if (sk_wire_answer_encode(&res, retire, out, &p, &n) != 0)
			abort();
		sk_engine_result again;
		bool r2 = false;
		const uint8_t *out2 = NULL;
		if (sk_wire_answer_decode(p, n, &again, &r2, &out2) != 0)
			abort();
		if (again.report.verdict != res.report.verdict ||
		    again.report.reason != res.report.reason || again.report.n != res.report.n ||
		    strcmp(again.type.code, res.type.code) != 0 || again.out_size != res.out_size ||
		    r2 != retire || !out != !out2 ||
		    (out && memcmp(out, out2, (size_t)res.out_size) != 0))
			abort();
		sk_engine_result_free(&again);
		free(p);
	}
	sk_engine_result_free(&res);
	/* CONVERT, CONVERTED, OFFICE_JOB, OFFICE_ANSWER: decoded, encoded again, the same */
	sk_convert c;
	uint64_t len = 0;
	uint8_t *p = NULL;
	size_t n = 0;
	if (sk_wire_convert_decode(data, size, &c, &len) == 0) {
		if (sk_wire_convert_encode(&c, len, &p, &n) != 0 || n != size || memcmp(p, data, n))
			abort();
		free(p);
	}
	sk_reason why;
	const char *detail = NULL;
	memset(&c, 0, sizeof(c));
	if (sk_wire_converted_decode(data, size, &why, &detail, &len, &c) == 0) {
		if (sk_wire_converted_encode(why, detail, len, &c, &p, &n) != 0 || n != size ||
		    memcmp(p, data, n))
			abort();
		free(p);
	}
	static sk_wire_office_job oj;
	if (sk_wire_office_job_decode(data, size, &oj) == 0) {
		if (sk_wire_office_job_encode(&oj, &p, &n) != 0 || n != size || memcmp(p, data, n))
			abort();
		free(p);
	}
	sk_wire_office_answer oa;
	if (sk_wire_office_answer_decode(data, size, &oa) == 0) {
		if (sk_wire_office_answer_encode(&oa, &p, &n) != 0 || n != size || memcmp(p, data, n))
			abort();
		free(p);
	}
	sk_wire_job job;
	if (sk_wire_job_decode(data, size, &job) == 0 &&
	    ((job.name &&
	      ((const uint8_t *)job.name < data || (const uint8_t *)job.name >= data + size)) ||
	     (job.input && (job.input < data || job.input + job.input_len > data + size))))
		abort();
	return 0;
}
