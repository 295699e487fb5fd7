/*
 * bench/bench_child.c - the child side of pto-bench: one runtime, one
 * shape, one thread count, in a fresh process (so its peak RSS, which the
 * parent reads from wait4, is this runtime's alone).
 *
 *   PROGRAM --child RUNTIME SHAPE THREADS TASKS WARMUP REPS
 *
 * prints exactly one line on stdout:
 *   ok BASE_RSS_KIB TASKS NS...   BASE_RSS_KIB: ru_maxrss before the
 *                                 runtime was set up; NS: ns per task of
 *                                 each timed run, wall clock around run()
 *   skip WHY                      the runtime cannot run this job
 *   fail WHY                      setup, a run or a check failed
 * and exits 0 (ok, skip) or 1 (fail), 2 on a usage error.
 */
#define _POSIX_C_SOURCE 200809L

#include "bench_shapes.h"
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define CHILD_MAX_REPS 1000u
#define CHILD_WHY 512

static long maxrss_kib(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

static int parse_job(char **argv, bench_job_t *job)
{
    char *end = NULL;
    int shape = bench_shape_parse(argv[3]);
    unsigned long long tasks = strtoull(argv[5], &end, 10);
    memset(job, 0, sizeof(*job));
    if (shape < 0 || *end != '\0' || tasks == 0 ||
        bench_parse_u32(argv[4], 1, 256, &job->threads) != 0 ||
        bench_parse_u32(argv[6], 0, CHILD_MAX_REPS, &job->warmup) != 0 ||
        bench_parse_u32(argv[7], 1, CHILD_MAX_REPS, &job->reps) != 0)
        return -1;
    job->shape = (bench_shape_t)shape;
    job->tasks = bench_shape_tasks(job->shape, tasks);
    return 0;
}

/* warmup + reps runs, each preceded by a reset and followed by the check. */
static int run_all(const bench_peer_t *p, const bench_job_t *job,
                   bench_mem_t *mem, void *ctx, double *ns, char *why)
{
    for (uint32_t r = 0; r < job->warmup + job->reps; r++) {
        bench_mem_reset(mem, job->shape);
        uint64_t t0 = bench_clock_ns(CLOCK_MONOTONIC);
        int rc = p->run(ctx);
        uint64_t t1 = bench_clock_ns(CLOCK_MONOTONIC);
        if (rc != 0) {
            snprintf(why, CHILD_WHY, "run %u failed", r);
            return -1;
        }
        if (bench_check(job, mem, why, CHILD_WHY) != 0)
            return -1;
        if (r >= job->warmup)
            ns[r - job->warmup] = (double)(t1 - t0) / (double)job->tasks;
    }
    return 0;
}

static int child_run(const bench_peer_t *p, const bench_job_t *job)
{
    static double ns[CHILD_MAX_REPS];
    char why[CHILD_WHY] = "";
    bench_mem_t mem;
    void *ctx = NULL;
    long base = maxrss_kib();
    if (bench_mem_alloc(&mem, job->shape) != 0) {
        printf("fail out of memory for the shape's data\n");
        return 1;
    }
    int rc = p->setup(job, &mem, &ctx, why, sizeof(why));
    if (rc == 0) {
        rc = run_all(p, job, &mem, ctx, ns, why);
        p->teardown(ctx);
    }
    bench_mem_free(&mem);
    if (rc == BENCH_SKIP) {
        printf("skip %s\n", why);
        return 0;
    }
    if (rc != 0) {
        printf("fail %s\n", why[0] ? why : "setup failed");
        return 1;
    }
    printf("ok %ld %llu", base, (unsigned long long)job->tasks);
    for (uint32_t r = 0; r < job->reps; r++)
        printf(" %.3f", ns[r]);
    printf("\n");
    return 0;
}

int bench_child_main(int argc, char **argv, const bench_peer_t *const *peers,
                     uint32_t n)
{
    bench_job_t job;
    if (argc != 8 || strcmp(argv[1], "--child") != 0 ||
        parse_job(argv, &job) != 0) {
        fprintf(stderr, "usage: %s --child RUNTIME SHAPE THREADS TASKS "
                        "WARMUP REPS\n", argv[0]);
        return 2;
    }
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(peers[i]->name, argv[2]) == 0) {
            int rc = child_run(peers[i], &job);
            fflush(stdout);
            return rc;
        }
    printf("skip runtime %s is not built into %s\n", argv[2], argv[0]);
    return 0;
}
