/* The job protocol between the gate and a worker (src/worker/wire.c): a compromised worker
 * controls every byte of its answer, and the worker reads jobs. Both decoders take the
 * input; an answer that decodes encodes again and decodes to the same verdict, reason,
 * type and entries; a job that decodes has its strings inside the message. */
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
	sk_wire_job job;
	if (sk_wire_job_decode(data, size, &job) == 0 &&
	    ((job.name &&
	      ((const uint8_t *)job.name < data || (const uint8_t *)job.name >= data + size)) ||
	     (job.input && (job.input < data || job.input + job.input_len > data + size))))
		abort();
	return 0;
}
