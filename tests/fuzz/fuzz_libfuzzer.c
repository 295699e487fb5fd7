/*
 * fuzz_libfuzzer.c - libFuzzer entry point of the differential fuzzer: the
 * input bytes are decoded into a runtime config and an orchestration
 * program (fuzz_program.c); a difference from sequential execution aborts,
 * which libFuzzer reports with the input that reproduces it.
 *
 * Build (clang only): cmake -DCMAKE_C_COMPILER=clang -DPTO_FUZZER=ON, then
 *   ./tests/fuzz_libfuzzer -max_total_time=60 corpus/
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_program.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[1024];
    if (fuzz_run_bytes(data, size, why, sizeof(why)) != 0) {
        fprintf(stderr, "fuzz_libfuzzer: differs from sequential: %s\n", why);
        abort();
    }
    return 0;
}
