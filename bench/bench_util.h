/*
 * bench/bench_util.h - what the benchmark programs share: clocks, the
 * median/min/max of a few runs, option parsing, JSON helpers, and making
 * and running a pto runtime with a table of kernels.
 *
 * bench_util.c holds what needs no libpto (statistics, parsing, JSON
 * files), so the OpenMP peer programs, built by other compilers without
 * libpto (pto-bench-omp-gomp, pto-bench-omp-llvm), link it too; the
 * functions marked "libpto" are in bench_util_pto.c. The declarations need
 * only libpto's headers.
 */
#ifndef PTO_BENCH_UTIL_H
#define PTO_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <pto/pto.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Most samples bench_stat_of accepts (the programs cap --reps at this). */
#define BENCH_MAX_REPS 101u

/* Nanoseconds on clock `id` (CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID). */
static inline uint64_t bench_clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

typedef struct bench_stat {
    double med, min, max;
} bench_stat_t;

/* Median (mean of the middle two for an even count), min and max of
 * v[0..n), n <= BENCH_MAX_REPS; all zero for n == 0. */
bench_stat_t bench_stat_of(const double *v, uint32_t n);

/* Parse a decimal in [lo, hi] into *out; -1 (and *out untouched) for NULL,
 * garbage, trailing characters or a value out of range. */
int bench_parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out);

/* "KEY": {"median": .., "min": .., "max": ..} followed by ", " unless last. */
void bench_json_stat(FILE *f, const char *key, bench_stat_t s, int last);

/* libpto: "  "KEY": {config fields},\n" */
void bench_json_config(FILE *f, const char *key, const pto_config_t *c);

/* libpto: "WHAT: clusters=.. sched_threads=.. ...\n" on stdout. */
void bench_print_config(const char *what, const pto_config_t *c);

/* Open `path`, call body(f, ctx), close; -1 (after perror) on failure. */
int bench_write_json(const char *path, void (*body)(FILE *f, const void *ctx),
                     const void *ctx);

/* One kernel of a runtime's table: registered under its index. */
typedef struct bench_kernel {
    pto_kernel_fn fn;
    const char *name;
} bench_kernel_t;

/* libpto: a runtime with the default configuration but `clusters` (0:
 * keep the default) and kernels[0..n) registered under ids 0..n-1; NULL
 * after printing why. */
pto_runtime_t *bench_make_runtime(uint32_t clusters,
                                  const bench_kernel_t *kernels, uint32_t n);

/* libpto: pto_run, then pto_run_stats into *st; prints the error and
 * returns it on failure. */
int bench_run_checked(pto_runtime_t *rt, pto_orch_fn fn, void *user,
                      pto_run_stats_t *st);

#ifdef __cplusplus
}
#endif

#endif /* PTO_BENCH_UTIL_H */
