/*
 * bench/submit.c - pto-bench-submit: what one submit costs, and how many
 * empty tasks per second the runtime moves end to end.
 *
 * Case 1, submit path. Every task has four tensors: two INPUT tiles, one
 * runtime-created OUTPUT tile (a create-info) and one INOUT tile; the kernel
 * is an empty function. Tasks are submitted in AUTO scopes of `batch` tasks
 * (so their outputs are released as the run goes).
 *   indep  every task touches its own tiles (disjoint row views of three
 *          external buffers): no task depends on another.
 *   chain  the INOUT tile is one accumulator tile shared by every task, so
 *          each task depends on the one before it.
 *   prep   the indep loop with the scopes and submits left out (views and
 *          args only): what the loop costs before the runtime is called.
 * The orchestration function times its submit loop with clock_gettime,
 * wall clock and the orchestrator thread's CPU time (the latter leaves out
 * both parking on back-pressure and being preempted by core threads, so it
 * is the steadiest figure on a machine with few cores); pto_run_stats adds
 * the orchestration time minus back-pressure waits (orch_ns) and the waits
 * themselves (orch_wait_ns). Case 1 runs at 1 cluster by default: its two
 * AIV cores plus the orchestrator roughly fill a 2-core machine, and more
 * core threads only preempt the orchestrator (case 2 measures that).
 *
 * Case 2, end to end. Empty tasks without tensors (pto_submit_aiv, or
 * alternating pto_submit_aic / pto_submit_aiv), at 1 and at 24 clusters;
 * ns/task and tasks/s from pto_run_stats elapsed_ns.
 *
 * Every figure is the median over --reps runs (after one warm-up run), with
 * min and max. --json FILE writes
 *   {"bench", "cores", "reps", "batch", "submit_config": {config fields},
 *    "submit": {"indep"|"chain"|"prep": {"tasks", FIGURE: {"median", "min",
 *               "max"}, ...}},
 *    "e2e": [{"submit": "aiv"|"aic/aiv", "clusters", "tasks",
 *             "ns_per_task": {...}, "tasks_per_s": {...}}, ...]}
 * with FIGURE one of field_name[] below. --callgrind-mode runs
 * bench_submit_loop once for bench/callgrind_submit.sh (instructions per
 * task).
 */
#define _POSIX_C_SOURCE 200809L

#include <pto/pto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define BENCH_KERNEL_EMPTY 0u
/* Elements per tile: one row of a [tasks, BENCH_TILE] float32 buffer. */
#define BENCH_TILE 16u

/* ---- options ----------------------------------------------------------- */

typedef enum bench_mode { MODE_INDEP = 0, MODE_CHAIN, MODE_PREP } bench_mode_t;

typedef struct bench_opts {
    uint32_t tasks;       /* case 1 tasks per run */
    uint32_t e2e_tasks;   /* case 2 tasks per run */
    uint32_t reps;
    uint32_t batch;       /* tasks per scope in case 1 */
    uint32_t clusters;    /* case 1 runtime (default 1: see below) */
    int quick;
    int callgrind;
    bench_mode_t mode;    /* callgrind mode only */
    const char *json;
} bench_opts_t;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pto-bench-submit [--quick] [--tasks N] [--e2e-tasks N]\n"
            "                        [--reps N] [--batch N] [--clusters N]\n"
            "                        [--json FILE]\n"
            "       pto-bench-submit --callgrind-mode --mode indep|chain "
            "--tasks N\n"
            "  --tasks N      case 1 (submit path) tasks per run "
            "(default 200000; quick 50000)\n"
            "  --e2e-tasks N  case 2 (empty tasks) tasks per run "
            "(default 100000; quick 20000)\n"
            "  --reps N       measured runs per figure, median reported "
            "(default 5; quick 3; at most %u)\n"
            "  --batch N      case 1 tasks per scope (default 64)\n"
            "  --clusters N   case 1 (and callgrind mode) clusters "
            "(default 1)\n"
            "  --json FILE    also write the figures as JSON\n"
            "  --callgrind-mode  run the case 1 submit loop (--mode) once, "
            "nothing else\n"
            "                 (for bench/callgrind_submit.sh)\n",
            BENCH_MAX_REPS);
}

static int parse_mode(const char *s, bench_mode_t *out)
{
    if (s && strcmp(s, "indep") == 0)
        *out = MODE_INDEP;
    else if (s && strcmp(s, "chain") == 0)
        *out = MODE_CHAIN;
    else
        return -1;
    return 0;
}

/* One option with a value at argv[*i]; -1 on a bad or unknown option. */
static int parse_valued(bench_opts_t *op, int argc, char **argv, int *i)
{
    const char *name = argv[*i];
    const char *val = *i + 1 < argc ? argv[*i + 1] : NULL;
    int rc = -1;
    if (strcmp(name, "--tasks") == 0)
        rc = bench_parse_u32(val, 1, 100000000u, &op->tasks);
    else if (strcmp(name, "--e2e-tasks") == 0)
        rc = bench_parse_u32(val, 1, 100000000u, &op->e2e_tasks);
    else if (strcmp(name, "--reps") == 0)
        rc = bench_parse_u32(val, 1, BENCH_MAX_REPS, &op->reps);
    else if (strcmp(name, "--batch") == 0)
        rc = bench_parse_u32(val, 1, 1u << 20, &op->batch);
    else if (strcmp(name, "--clusters") == 0)
        rc = bench_parse_u32(val, 1, PTO_MAX_CLUSTERS, &op->clusters);
    else if (strcmp(name, "--mode") == 0)
        rc = parse_mode(val, &op->mode);
    else if (strcmp(name, "--json") == 0 && val)
        op->json = val, rc = 0;
    if (rc == 0)
        (*i)++;
    return rc;
}

static int parse_args(bench_opts_t *op, int argc, char **argv)
{
    memset(op, 0, sizeof(*op));
    op->batch = 64;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            op->quick = 1;
        else if (strcmp(argv[i], "--callgrind-mode") == 0)
            op->callgrind = 1;
        else if (parse_valued(op, argc, argv, &i) != 0) {
            fprintf(stderr, "pto-bench-submit: bad option '%s'\n", argv[i]);
            return -1;
        }
    }
    /* Zero: not given; the defaults depend on --quick. */
    if (op->tasks == 0)
        op->tasks = op->quick ? 50000u : 200000u;
    if (op->e2e_tasks == 0)
        op->e2e_tasks = op->quick ? 20000u : 100000u;
    if (op->clusters == 0)
        op->clusters = 1;
    if (op->reps == 0)
        op->reps = op->quick ? 3u : 5u;
    return 0;
}

/* ---- runtime ----------------------------------------------------------- */

static void empty_kernel(const pto_kernel_ctx_t *c)
{
    (void)c;
}

static const bench_kernel_t kernels[] = {
    [BENCH_KERNEL_EMPTY] = {empty_kernel, "empty"},
};

static pto_runtime_t *make_runtime(uint32_t clusters)
{
    return bench_make_runtime(clusters, kernels,
                              sizeof(kernels) / sizeof(kernels[0]));
}

/* ---- case 1: the submit loop ------------------------------------------ */

/* Three [tasks, BENCH_TILE] float32 buffers and a one-tile accumulator.
 * The kernels never touch them; calloc leaves the pages unmapped. */
typedef struct bench_bufs {
    void *mem[4];
    pto_tensor_t in0, in1, io, acc;
    pto_create_info_t out;
} bench_bufs_t;

typedef struct submit_job {
    const bench_bufs_t *bufs;
    uint32_t tasks;
    uint32_t batch;
    bench_mode_t mode;
    int failed;         /* a submit returned NONE */
    uint64_t loop_ns;   /* the timed loop of the last run: wall clock */
    uint64_t cpu_ns;    /* and the orchestrator thread's CPU time */
} submit_job_t;

static int bufs_init(bench_bufs_t *b, uint32_t tasks)
{
    uint32_t shape[2] = {tasks, BENCH_TILE};
    uint32_t tile[2] = {1, BENCH_TILE};
    pto_tensor_t *t[4] = {&b->in0, &b->in1, &b->io, &b->acc};
    memset(b, 0, sizeof(*b));
    for (int i = 0; i < 4; i++) {
        uint32_t *sh = i == 3 ? tile : shape;
        b->mem[i] = calloc((size_t)sh[0] * sh[1], sizeof(float));
        if (!b->mem[i])
            return -1;
        *t[i] = pto_tensor_external(b->mem[i], sh, 2, PTO_FLOAT32);
        if (t[i]->status != 0)
            return -1;
    }
    b->out = pto_create_info(tile, 2, PTO_FLOAT32);
    return b->out.status;
}

static void bufs_fini(bench_bufs_t *b)
{
    for (int i = 0; i < 4; i++)
        free(b->mem[i]);
}

/* Keeps the args of the prep loop alive without a submit. */
static void sink_args(pto_args_t *a)
{
    __asm__ __volatile__("" : : "r"(a) : "memory");
}

/* Build task i's args: in0[i], in1[i] INPUT, OUTPUT tile, INOUT io[i] (indep,
 * prep) or the accumulator (chain). */
static void build_args(const submit_job_t *job, uint32_t i, pto_args_t *a)
{
    const bench_bufs_t *b = job->bufs;
    uint32_t off[2] = {i, 0};
    uint32_t tile[2] = {1, BENCH_TILE};
    pto_tensor_t v0, v1, vio;
    (void)pto_tensor_view(&b->in0, off, tile, &v0);
    (void)pto_tensor_view(&b->in1, off, tile, &v1);
    pto_args_init(a);
    pto_args_input(a, &v0);
    pto_args_input(a, &v1);
    pto_args_output(a, &b->out);
    if (job->mode == MODE_CHAIN) {
        pto_args_inout(a, &b->acc);
    } else {
        (void)pto_tensor_view(&b->io, off, tile, &vio);
        pto_args_inout(a, &vio);
    }
}

static void submit_range(pto_orch_t *o, submit_job_t *job, uint32_t lo,
                         uint32_t hi)
{
    for (uint32_t i = lo; i < hi; i++) {
        pto_args_t a;
        build_args(job, i, &a);
        if (pto_task_id_is_none(pto_submit_aiv(o, BENCH_KERNEL_EMPTY, &a)))
            job->failed = 1;
    }
}

static void prep_range(submit_job_t *job, uint32_t lo, uint32_t hi)
{
    for (uint32_t i = lo; i < hi; i++) {
        pto_args_t a;
        build_args(job, i, &a);
        sink_args(&a);
    }
}

/* The whole case 1 loop and nothing else: callgrind_submit.sh collects
 * exactly this function (--toggle-collect), so keep it out of line. */
__attribute__((noinline)) void bench_submit_loop(pto_orch_t *o,
                                                 submit_job_t *job);

void bench_submit_loop(pto_orch_t *o, submit_job_t *job)
{
    for (uint32_t lo = 0; lo < job->tasks; lo += job->batch) {
        uint32_t hi = job->tasks - lo < job->batch ? job->tasks
                                                   : lo + job->batch;
        if (job->mode == MODE_PREP) {
            prep_range(job, lo, hi);
            continue;
        }
        PTO_SCOPE(o, PTO_SCOPE_AUTO)
        {
            submit_range(o, job, lo, hi);
        }
    }
}

static void submit_orch(pto_orch_t *o, void *user)
{
    submit_job_t *job = user;
    uint64_t c0 = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
    uint64_t t0 = bench_clock_ns(CLOCK_MONOTONIC);
    bench_submit_loop(o, job);
    job->loop_ns = bench_clock_ns(CLOCK_MONOTONIC) - t0;
    job->cpu_ns = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
}

/* Per-run figures of case 1, each in ns per task. */
enum { F_LOOP = 0, F_CPU, F_ORCH, F_WAIT, F_ELAPSED, F_COUNT };
static const char *const field_name[F_COUNT] = {
    "loop_ns_per_task", "loop_cpu_ns_per_task", "orch_ns_per_task",
    "orch_wait_ns_per_task", "elapsed_ns_per_task"};
static const char *const field_label[F_COUNT] = {
    "submit loop, wall (clock_gettime)", "submit loop, orchestrator CPU time",
    "orch_ns (pto_run_stats, minus waits)", "orch_wait_ns (back-pressure)",
    "elapsed_ns (whole pto_run)"};

typedef struct submit_result {
    const char *name;
    uint32_t tasks;
    bench_stat_t f[F_COUNT];
} submit_result_t;

static int submit_case(pto_runtime_t *rt, submit_job_t *job, uint32_t reps,
                       submit_result_t *res)
{
    double v[F_COUNT][BENCH_MAX_REPS];
    double n = (double)job->tasks;
    pto_run_stats_t st;
    for (uint32_t r = 0; r <= reps; r++) { /* r == 0: warm-up */
        if (bench_run_checked(rt, submit_orch, job, &st) != 0 || job->failed)
            return -1;
        if (r == 0)
            continue;
        v[F_LOOP][r - 1] = (double)job->loop_ns / n;
        v[F_CPU][r - 1] = (double)job->cpu_ns / n;
        v[F_ORCH][r - 1] = (double)st.orch_ns / n;
        v[F_WAIT][r - 1] = (double)st.orch_wait_ns / n;
        v[F_ELAPSED][r - 1] = (double)st.elapsed_ns / n;
    }
    res->tasks = job->tasks;
    for (int f = 0; f < F_COUNT; f++)
        res->f[f] = bench_stat_of(v[f], reps);
    return 0;
}

/* ---- case 2: empty tasks end to end ----------------------------------- */

typedef struct e2e_job {
    uint32_t tasks;
    int alternate; /* AIC, AIV, AIC, ... instead of AIV only */
    int failed;
} e2e_job_t;

static void e2e_orch(pto_orch_t *o, void *user)
{
    e2e_job_t *job = user;
    for (uint32_t i = 0; i < job->tasks; i++) {
        pto_args_t a;
        pto_task_id_t id;
        pto_args_init(&a);
        if (job->alternate && (i & 1u) == 0)
            id = pto_submit_aic(o, BENCH_KERNEL_EMPTY, &a);
        else
            id = pto_submit_aiv(o, BENCH_KERNEL_EMPTY, &a);
        if (pto_task_id_is_none(id))
            job->failed = 1;
    }
}

typedef struct e2e_result {
    const char *name;
    uint32_t clusters;
    uint32_t tasks;
    bench_stat_t ns_per_task;
    bench_stat_t tasks_per_s;
} e2e_result_t;

static int e2e_case(pto_runtime_t *rt, e2e_job_t *job, uint32_t reps,
                    e2e_result_t *res)
{
    double ns[BENCH_MAX_REPS], tps[BENCH_MAX_REPS];
    pto_run_stats_t st;
    for (uint32_t r = 0; r <= reps; r++) { /* r == 0: warm-up */
        if (bench_run_checked(rt, e2e_orch, job, &st) != 0 || job->failed)
            return -1;
        if (r == 0)
            continue;
        ns[r - 1] = (double)st.elapsed_ns / (double)job->tasks;
        tps[r - 1] = 1e9 / ns[r - 1];
    }
    res->tasks = job->tasks;
    res->ns_per_task = bench_stat_of(ns, reps);
    res->tasks_per_s = bench_stat_of(tps, reps);
    return 0;
}

/* ---- reporting --------------------------------------------------------- */

static void print_submit_table(const submit_result_t *r, uint32_t n)
{
    printf("\nCase 1: submit path, 4-tensor task (2 INPUT, 1 OUTPUT, 1 "
           "INOUT), empty kernel, ns/task\n");
    printf("%-6s %8s  %-38s %9s %9s %9s\n", "graph", "tasks", "figure",
           "median", "min", "max");
    for (uint32_t i = 0; i < n; i++)
        for (int f = 0; f < F_COUNT; f++)
            printf("%-6s %8u  %-38s %9.1f %9.1f %9.1f\n", r[i].name,
                   r[i].tasks, field_label[f], r[i].f[f].med, r[i].f[f].min,
                   r[i].f[f].max);
}

static void print_e2e_table(const e2e_result_t *r, uint32_t n)
{
    printf("\nCase 2: empty tasks (no tensors) end to end, from "
           "pto_run_stats elapsed_ns, median [min .. max]\n");
    printf("%-8s %8s %9s  %-26s %-32s\n", "submit", "clusters", "tasks",
           "ns/task", "tasks/s");
    for (uint32_t i = 0; i < n; i++) {
        char a[48], b[64];
        snprintf(a, sizeof(a), "%7.1f [%.1f .. %.1f]", r[i].ns_per_task.med,
                 r[i].ns_per_task.min, r[i].ns_per_task.max);
        snprintf(b, sizeof(b), "%10.0f [%.0f .. %.0f]", r[i].tasks_per_s.med,
                 r[i].tasks_per_s.min, r[i].tasks_per_s.max);
        printf("%-8s %8u %9u  %-26s %-32s\n", r[i].name, r[i].clusters,
               r[i].tasks, a, b);
    }
}

typedef struct bench_report {
    long cores;
    const bench_opts_t *opts;
    pto_config_t submit_cfg;
    submit_result_t submit[3];
    uint32_t nsubmit;
    e2e_result_t e2e[4];
    uint32_t ne2e;
} bench_report_t;

static void json_body(FILE *f, const void *ctx)
{
    const bench_report_t *rp = ctx;
    fprintf(f, "{\n  \"bench\": \"pto-bench-submit\",\n  \"cores\": %ld,\n"
               "  \"reps\": %u,\n  \"batch\": %u,\n",
            rp->cores, rp->opts->reps, rp->opts->batch);
    bench_json_config(f, "submit_config", &rp->submit_cfg);
    fprintf(f, "  \"submit\": {\n");
    for (uint32_t i = 0; i < rp->nsubmit; i++) {
        const submit_result_t *r = &rp->submit[i];
        fprintf(f, "    \"%s\": {\"tasks\": %u, ", r->name, r->tasks);
        for (int k = 0; k < F_COUNT; k++)
            bench_json_stat(f, field_name[k], r->f[k], k == F_COUNT - 1);
        fprintf(f, "}%s\n", i + 1 < rp->nsubmit ? "," : "");
    }
    fprintf(f, "  },\n  \"e2e\": [\n");
    for (uint32_t i = 0; i < rp->ne2e; i++) {
        const e2e_result_t *r = &rp->e2e[i];
        fprintf(f, "    {\"submit\": \"%s\", \"clusters\": %u, \"tasks\": %u, ",
                r->name, r->clusters, r->tasks);
        bench_json_stat(f, "ns_per_task", r->ns_per_task, 0);
        bench_json_stat(f, "tasks_per_s", r->tasks_per_s, 1);
        fprintf(f, "}%s\n", i + 1 < rp->ne2e ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
}

/* ---- drivers ----------------------------------------------------------- */

static int run_submit_cases(const bench_opts_t *op, bench_report_t *rp)
{
    static const char *const names[3] = {"indep", "chain", "prep"};
    bench_bufs_t bufs;
    pto_runtime_t *rt = NULL;
    int rc = -1;
    if (bufs_init(&bufs, op->tasks) != 0 || !(rt = make_runtime(op->clusters)))
        goto out;
    rp->submit_cfg = *pto_runtime_config(rt);
    bench_print_config("case 1 config", &rp->submit_cfg);
    for (uint32_t m = 0; m < 3; m++) {
        submit_job_t job = {.bufs = &bufs, .tasks = op->tasks,
                            .batch = op->batch, .mode = (bench_mode_t)m};
        rp->submit[m].name = names[m];
        if (submit_case(rt, &job, op->reps, &rp->submit[m]) != 0) {
            fprintf(stderr, "case 1 %s failed\n", names[m]);
            goto out;
        }
        rp->nsubmit = m + 1;
    }
    rc = 0;
out:
    pto_runtime_destroy(rt);
    bufs_fini(&bufs);
    return rc;
}

static int run_e2e_cases(const bench_opts_t *op, bench_report_t *rp)
{
    static const uint32_t clusters[2] = {1, 24};
    for (uint32_t c = 0; c < 2; c++) {
        pto_runtime_t *rt = make_runtime(clusters[c]);
        if (!rt)
            return -1;
        bench_print_config("case 2 config", pto_runtime_config(rt));
        for (int alt = 0; alt < 2; alt++) {
            e2e_result_t *r = &rp->e2e[rp->ne2e];
            e2e_job_t job = {.tasks = op->e2e_tasks, .alternate = alt};
            r->name = alt ? "aic/aiv" : "aiv";
            r->clusters = clusters[c];
            if (e2e_case(rt, &job, op->reps, r) != 0) {
                pto_runtime_destroy(rt);
                return -1;
            }
            rp->ne2e++;
        }
        pto_runtime_destroy(rt);
    }
    return 0;
}

/* One run of bench_submit_loop, nothing else timed or printed. */
static int run_callgrind(const bench_opts_t *op)
{
    bench_bufs_t bufs;
    pto_run_stats_t st;
    pto_runtime_t *rt = NULL;
    submit_job_t job = {.bufs = &bufs, .tasks = op->tasks,
                        .batch = op->batch, .mode = op->mode};
    int rc = -1;
    if (bufs_init(&bufs, op->tasks) == 0 && (rt = make_runtime(op->clusters)))
        rc = bench_run_checked(rt, submit_orch, &job, &st) || job.failed ? -1 : 0;
    if (rc == 0)
        printf("callgrind-mode: mode=%s tasks=%u batch=%u clusters=%u\n",
               op->mode == MODE_CHAIN ? "chain" : "indep", op->tasks,
               op->batch, pto_runtime_config(rt)->clusters);
    pto_runtime_destroy(rt);
    bufs_fini(&bufs);
    return rc;
}

int main(int argc, char **argv)
{
    bench_opts_t op;
    bench_report_t rp;
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (parse_args(&op, argc, argv) != 0) {
        usage(stderr);
        return 2;
    }
    if (op.callgrind)
        return run_callgrind(&op) == 0 ? 0 : 1;
    memset(&rp, 0, sizeof(rp));
    rp.opts = &op;
    rp.cores = sysconf(_SC_NPROCESSORS_ONLN);
    printf("pto-bench-submit: %ld online cores; reps=%u (+1 warm-up) "
           "tasks=%u e2e-tasks=%u batch=%u%s\n",
           rp.cores, op.reps, op.tasks, op.e2e_tasks, op.batch,
           op.quick ? " (quick)" : "");
    if (run_submit_cases(&op, &rp) != 0 || run_e2e_cases(&op, &rp) != 0)
        return 1;
    print_submit_table(rp.submit, rp.nsubmit);
    print_e2e_table(rp.e2e, rp.ne2e);
    if (op.json && bench_write_json(op.json, json_body, &rp) != 0)
        return 1;
    return 0;
}
