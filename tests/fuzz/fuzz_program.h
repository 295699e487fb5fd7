/*
 * fuzz_program.h - one differential-fuzzing step: draw a runtime config and
 * a random orchestration program, run it on the runtime and on a
 * sequential reference, compare every byte. See fuzz_program.c.
 */
#ifndef PTO_FUZZ_PROGRAM_H
#define PTO_FUZZ_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

/* 0 when the runtime computed what sequential execution computes; 1
 * otherwise, with the reason (status, message, config) in why. */
int fuzz_run_seed(uint64_t seed, char *why, size_t wn);
int fuzz_run_bytes(const uint8_t *data, size_t n, char *why, size_t wn);

#endif /* PTO_FUZZ_PROGRAM_H */
