/* Shared by the fuzz harnesses. */
#ifndef SK_FUZZUTIL_H
#define SK_FUZZUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "sekisho/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Budget small enough that a fuzzer finds limits quickly. */
void fz_options(sk_options *o);

/* Runs one module directly on data as if detection had said kind/code: the harness
 * for one parser. Checks the invariant that a blocked item has a reason. */
void fz_run_module(const uint8_t *data, size_t size, sk_kind kind, const char *code,
		   const char *name);

/* The whole path (sk_process) on data named name. Checks that a blocked item has a reason
 * and that a delivered message (type eml) is delivered rebuilt, as .eml. */
void fz_process(const uint8_t *data, size_t size, const char *name);

#endif
