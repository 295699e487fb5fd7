/*
 * bench/bench_util.c - helpers shared by the benchmark programs (see
 * bench_util.h) that do not call libpto: the OpenMP peer programs, built
 * without it, link this file too. The libpto ones are in bench_util_pto.c.
 */
#define _POSIX_C_SOURCE 200809L

#include "bench_util.h"

#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

bench_stat_t bench_stat_of(const double *v, uint32_t n)
{
    double s[BENCH_MAX_REPS];
    bench_stat_t r = {0, 0, 0};
    if (n == 0 || n > BENCH_MAX_REPS)
        return r;
    memcpy(s, v, n * sizeof(double));
    qsort(s, n, sizeof(double), cmp_double);
    r.min = s[0];
    r.max = s[n - 1];
    r.med = (n & 1u) ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    return r;
}

int bench_parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end = NULL;
    unsigned long long v = strtoull(s ? s : "", &end, 10);
    if (!s || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

void bench_json_stat(FILE *f, const char *key, bench_stat_t s, int last)
{
    fprintf(f, "\"%s\": {\"median\": %.3f, \"min\": %.3f, \"max\": %.3f}%s",
            key, s.med, s.min, s.max, last ? "" : ", ");
}

int bench_write_json(const char *path, void (*body)(FILE *f, const void *ctx),
                     const void *ctx)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return -1;
    }
    body(f, ctx);
    if (fclose(f) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}
