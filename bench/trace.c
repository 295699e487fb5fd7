/*
 * bench/trace.c - pto-bench-trace: what observability costs.
 *
 * Three runtimes, identical but for recording:
 *   off       cfg.trace_events = cfg.graph_tasks = 0 (the default)
 *   disabled  both configured (2^20 events per thread, 10000 tasks), then
 *             turned off with pto_trace_enable(rt, false)
 *   on        both configured and recording
 * and two workloads:
 *   submit    tasks with an INPUT and an INOUT row view of two external
 *             buffers, 64 per AUTO scope, no dependencies between tasks:
 *             ns/task of the orchestrator's CPU time in the submit loop
 *   e2e       empty AIV tasks without tensors: pto_run elapsed ns/task
 * Runs are interleaved (off, disabled, on, off, ...) so load changes hit
 * all three alike; each figure is the median of --reps runs after one
 * warm-up run per runtime, with min and max, and the ratio to `off`. The
 * "off" hooks are one branch each: off and disabled should match within
 * noise; docs/benchmarks.md also gives callgrind counts.
 *
 * usage: pto-bench-trace [--quick] [--tasks N] [--reps N]
 */
#define _POSIX_C_SOURCE 200809L

#include <pto/pto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"

#define ROW 8u /* floats per task row */

enum { V_OFF, V_DISABLED, V_ON, V_COUNT };
static const char *const vname[V_COUNT] = {"off", "disabled", "on"};
enum { W_SUBMIT, W_E2E, W_COUNT };
static const char *const wname[W_COUNT] = {
    "submit (orchestrator CPU ns/task)", "e2e (pto_run elapsed ns/task)"};

typedef struct job {
    uint32_t tasks;
    int workload;
    pto_tensor_t a, b;     /* [tasks, ROW] float32 */
    int failed;
    uint64_t cpu_ns;
} job_t;

static void empty_kernel(const pto_kernel_ctx_t *c)
{
    (void)c;
}

static pto_tensor_t row(const pto_tensor_t *t, uint32_t i, job_t *j)
{
    uint32_t off[2] = {i, 0}, shape[2] = {1, ROW};
    pto_tensor_t v;
    if (pto_tensor_view(t, off, shape, &v) != 0)
        j->failed = 1;
    return v;
}

static void orch(pto_orch_t *o, void *user)
{
    job_t *j = user;
    uint64_t c0 = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
    for (uint32_t lo = 0; lo < j->tasks && !j->failed; lo += 64) {
        uint32_t hi = lo + 64 < j->tasks ? lo + 64 : j->tasks;
        PTO_SCOPE(o, PTO_SCOPE_AUTO)
        {
            for (uint32_t i = lo; i < hi; i++) {
                pto_args_t a;
                pto_args_init(&a);
                if (j->workload == W_SUBMIT) {
                    pto_tensor_t x = row(&j->a, i, j), y = row(&j->b, i, j);
                    pto_args_input(&a, &x);
                    pto_args_inout(&a, &y);
                }
                if (pto_task_id_is_none(pto_submit_aiv(o, 0, &a)))
                    j->failed = 1;
            }
        }
    }
    j->cpu_ns = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
}

static pto_runtime_t *make(int v)
{
    pto_config_t cfg;
    pto_config_init(&cfg);
    cfg.clusters = 1;
    cfg.trace_events = v == V_OFF ? 0 : 1u << 20;
    cfg.graph_tasks = v == V_OFF ? 0 : 10000;
    pto_runtime_t *rt = NULL;
    if (pto_runtime_create(&cfg, &rt) != 0) {
        fprintf(stderr, "pto-bench-trace: %s\n", pto_last_error(NULL));
        return NULL;
    }
    if (pto_kernel_register(rt, 0, empty_kernel, "empty") != 0 ||
        (v == V_DISABLED && pto_trace_enable(rt, false) != 0)) {
        fprintf(stderr, "pto-bench-trace: %s\n", pto_last_error(rt));
        pto_runtime_destroy(rt);
        return NULL;
    }
    return rt;
}

static int parse(int argc, char **argv, uint32_t *tasks, uint32_t *reps)
{
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--quick") == 0) {
            *tasks = 50000;
            *reps = 5;
        } else if (strcmp(argv[i], "--tasks") == 0 &&
                   bench_parse_u32(v, 64, 1u << 26, tasks) == 0) {
            i++;
        } else if (strcmp(argv[i], "--reps") == 0 &&
                   bench_parse_u32(v, 1, BENCH_MAX_REPS, reps) == 0) {
            i++;
        } else {
            fprintf(stderr, "usage: pto-bench-trace [--quick] [--tasks N] "
                            "[--reps N]\n");
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    uint32_t tasks = 200000, reps = 11;
    if (parse(argc, argv, &tasks, &reps) != 0)
        return 2;
    uint32_t shape[2] = {tasks, ROW};
    float *ma = calloc((size_t)tasks * ROW, sizeof(float));
    float *mb = calloc((size_t)tasks * ROW, sizeof(float));
    pto_runtime_t *rt[V_COUNT] = {NULL, NULL, NULL};
    int rc = 1;
    for (int v = 0; v < V_COUNT; v++)
        if (!(rt[v] = make(v)))
            goto out;
    if (!ma || !mb)
        goto out;
    printf("pto-bench-trace: %u tasks per run, %u runs each (+1 warm-up), "
           "1 cluster, interleaved\n", tasks, reps);
    for (int w = 0; w < W_COUNT; w++) {
        static double s[V_COUNT][BENCH_MAX_REPS];
        job_t j = {.tasks = tasks, .workload = w};
        j.a = pto_tensor_external(ma, shape, 2, PTO_FLOAT32);
        j.b = pto_tensor_external(mb, shape, 2, PTO_FLOAT32);
        for (uint32_t r = 0; r <= reps; r++) {
            for (int v = 0; v < V_COUNT; v++) {
                pto_run_stats_t st;
                if (bench_run_checked(rt[v], orch, &j, &st) != 0 ||
                    j.failed)
                    goto out;
                if (r > 0)
                    s[v][r - 1] = (double)(w == W_SUBMIT ? j.cpu_ns
                                                         : st.elapsed_ns) /
                                  tasks;
            }
        }
        printf("\n%s, median [min .. max]\n", wname[w]);
        bench_stat_t off = bench_stat_of(s[V_OFF], reps);
        for (int v = 0; v < V_COUNT; v++) {
            bench_stat_t b = bench_stat_of(s[v], reps);
            printf("  %-9s %8.1f [%7.1f .. %7.1f]   x%.3f of off\n", vname[v],
                   b.med, b.min, b.max, b.med / off.med);
        }
    }
    if (pto_trace_dropped(rt[V_ON]) > 0)
        printf("\n(on: the last run dropped %llu events: its buffers hold "
               "2^20 per thread)\n",
               (unsigned long long)pto_trace_dropped(rt[V_ON]));
    rc = 0;
out:
    for (int v = 0; v < V_COUNT; v++)
        pto_runtime_destroy(rt[v]);
    free(ma);
    free(mb);
    return rc;
}
