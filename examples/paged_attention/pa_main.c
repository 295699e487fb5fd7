/*
 * pto-pa - paged attention on pto-runtime: four orchestrations of the
 * seed's reference workload, checked against a double-precision golden
 * and timed.
 *
 *   pto-pa --variant {auto,manual,unroll,unroll_manual,all}
 *          --case {NAME,all} --rounds N [--warmup N] [--clusters N]
 *          [--json FILE] [--trace FILE] [--dot FILE]
 *          [--unroll N] [--empty-kernels] [--isa I] [--serial]
 *   pto-pa --kernel-bench [--case NAME] [--unroll N]
 *
 * Per case and variant it prints one table row: the golden verdict, the
 * largest absolute and relative error, the task count, and over the rounds
 * the mean and the trimmed mean (top and bottom 10% dropped) of elapsed,
 * orchestration and scheduling time in microseconds (pto_run_stats, with
 * core_timing on), then:
 *   kernel_us  kernel time summed over the cores (trimmed mean)
 *   ovh%       elapsed against kernel_us / cores used, minus 1
 *   ser%       elapsed against the serial time of the same tiling (one
 *              thread, no runtime; --serial) / cores used, minus 1
 *   orch_ns    orchestration time per task
 * "Cores used" is the simulated cores, at most the machine's CPUs. Every
 * round starts from an output full of NaN and is checked.
 *
 * --dot FILE writes the task graph of the last round (Graphviz, from
 * pto_graph_write_dot), --trace FILE its trace (Chrome trace-event JSON
 * for Perfetto or chrome://tracing, from pto_trace_write: every core, the
 * orchestrator's phases, the dependencies). With more than one case or
 * variant selected, each gets its own file: FILE.<case>.<variant>.dot /
 * .json. Only the last round records (pto_trace_enable), and the
 * recording costs it some orchestration and kernel time. --stats prints
 * the last round's pto_run_stats_print.
 *
 * Exit status: 0 when every golden check passed; 1 when one failed or a
 * run reported an error; 2 on a usage error.
 */
#include <pto/pto.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pa_case.h"
#include "pa_kbench.h"
#include "pa_kernels.h"
#include "pa_orch.h"

/* KV blocks per task of the unroll variants: 8x fewer tasks, and 8 key
 * blocks + q + s fit the 16 tensors of a task with room to spare. */
#define PA_DEFAULT_UNROLL 8u
/* --dot: tasks kept for the graph; --trace: events kept per thread (the
 * orchestrator writes ~8 per task: Case1 auto has 65792 tasks). */
#define PA_DOT_MAX_TASKS 4096u
#define PA_TRACE_EVENTS (1u << 20)

typedef struct opts {
    uint32_t variants;       /* bit v: run variant v */
    const char *case_name;   /* a case name or "all" */
    uint32_t rounds, warmup, clusters, unroll;
    const char *json, *trace, *dot;
    int several;             /* more than one case or variant: suffixes */
    int kernel_bench, empty, serial, stats;
    pa_isa_t isa;
} opts_t;

typedef struct summary {
    double mean, trim;
} summary_t;

typedef struct result {
    const char *case_name;
    const char *name;        /* the variant, or serial / serial_unroll */
    int ran;                 /* every round finished without error */
    int golden;              /* 1 pass, 0 fail, -1 not checked */
    pa_check_t check;        /* the worst round */
    uint64_t tasks;
    uint32_t rounds, blocks_per_step, cores_used;
    summary_t elapsed, orch, sched, kernel, orch_wait;
    double serial_us;        /* trimmed serial time of the same tiling */
    int out_err;             /* a --dot or --trace file failed */
} result_t;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- statistics --------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Mean, and mean without the top and bottom 10% (v is sorted). */
static summary_t summarise(double *v, uint32_t n)
{
    summary_t s = {0, 0};
    if (n == 0)
        return s;
    qsort(v, n, sizeof *v, cmp_double);
    uint32_t drop = n / 10;
    double all = 0, mid = 0;
    for (uint32_t i = 0; i < n; i++) {
        all += v[i];
        if (i >= drop && i < n - drop)
            mid += v[i];
    }
    s.mean = all / n;
    s.trim = mid / (n - 2 * drop);
    return s;
}

/* ---- one case and variant ---------------------------------------------- */

enum { SERIES_ELAPSED, SERIES_ORCH, SERIES_SCHED, SERIES_KERNEL, SERIES_WAIT, SERIES_COUNT };

static void report_run_error(const char *call, int rc, const char *msg)
{
    fflush(stdout);
    fprintf(stderr, "pto-pa: %s failed: %s (%s)%s%s\n", call,
            pto_strerror(rc), pto_err_name(rc), msg[0] ? ": " : "", msg);
}

/* One pto_run from a NaN output. 0, or -1 after reporting the error. */
static int one_round(pto_runtime_t *rt, pa_orch_params_t *p,
                     pto_run_stats_t *st)
{
    uint64_t n = pa_inputs_out_elems(p->in);
    for (uint64_t i = 0; i < n; i++)
        p->in->out[i] = NAN; /* a task that did not run shows as NaN */
    int rc = pto_run(rt, pa_orch, p);
    if (rc != 0) {
        report_run_error("pto_run", rc, pto_last_error(rt));
        return -1;
    }
    if (p->err != 0) {
        report_run_error("orchestration", p->err, p->err_msg);
        return -1;
    }
    rc = pto_run_stats(rt, st);
    if (rc != 0) {
        report_run_error("pto_run_stats", rc, "");
        return -1;
    }
    return 0;
}

/* Keep the worse of two checks (NaN is the worst). */
static void worse_check(pa_check_t *acc, const pa_check_t *c, int first)
{
    if (first || isnan(c->worst) || c->worst > acc->worst)
        *acc = *c;
}

/* Only the last round records a trace and graph (when configured). */
static int run_rounds(pto_runtime_t *rt, const opts_t *op,
                      pa_orch_params_t *p, result_t *res,
                      double *series[SERIES_COUNT])
{
    uint64_t want = pa_expected_tasks(p->in, p->blocks_per_step);
    int recording = op->trace != NULL || op->dot != NULL;
    for (uint32_t r = 0; r < op->warmup + op->rounds; r++) {
        pto_run_stats_t st;
        int last = r + 1 == op->warmup + op->rounds;
        if (recording)
            (void)pto_trace_enable(rt, last);
        int rc = one_round(rt, p, &st);
        if (rc != 0)
            return -1;
        if (st.tasks != want) {
            fprintf(stderr, "pto-pa: %s/%s submitted %llu tasks, expected "
                    "%llu\n", res->case_name, res->name,
                    (unsigned long long)st.tasks, (unsigned long long)want);
            return -1;
        }
        res->tasks = st.tasks;
        if (!op->empty) {
            pa_check_t c;
            int ok = pa_check(p->in, &c);
            worse_check(&res->check, &c, r == 0);
            if (!ok)
                res->golden = 0;
        }
        if (r < op->warmup)
            continue;
        uint32_t i = r - op->warmup;
        series[SERIES_ELAPSED][i] = st.elapsed_ns / 1e3;
        series[SERIES_ORCH][i] = st.orch_ns / 1e3;
        series[SERIES_SCHED][i] = st.sched_ns / 1e3;
        series[SERIES_KERNEL][i] = st.kernel_ns / 1e3;
        series[SERIES_WAIT][i] = st.orch_wait_ns / 1e3;
    }
    return 0;
}

/* ---- --dot, --trace, --stats ---------------------------------------- */

/* FILE, or FILE.<case>.<variant>.<ext> when several are run. */
static const char *out_path(char *buf, size_t n, const opts_t *op,
                            const char *file, const result_t *res,
                            const char *ext)
{
    if (!op->several)
        return file;
    snprintf(buf, n, "%s.%s.%s.%s", file, res->case_name, res->name, ext);
    return buf;
}

/* After the rounds: the --dot and --trace files of this variant (a
 * truncated graph is written and noted, not an error), and --stats. */
static void write_outputs(pto_runtime_t *rt, const opts_t *op,
                          result_t *res)
{
    char buf[4096];
    if (op->dot) {
        int rc = pto_graph_write_dot(
            rt, out_path(buf, sizeof buf, op, op->dot, res, "dot"));
        if (rc == PTO_ETOOBIG) {
            fprintf(stderr, "pto-pa: note: %s\n", pto_last_error(rt));
        } else if (rc != 0) {
            fprintf(stderr, "pto-pa: %s\n", pto_last_error(rt));
            res->out_err = 1;
        }
    }
    if (op->trace) {
        if (pto_trace_write(rt, out_path(buf, sizeof buf, op, op->trace, res,
                                         "json")) != 0) {
            fprintf(stderr, "pto-pa: %s\n", pto_last_error(rt));
            res->out_err = 1;
        } else if (pto_trace_dropped(rt) > 0) {
            fprintf(stderr, "pto-pa: note: the trace dropped %llu events "
                            "(PTO_TRACE_EVENTS raises the %u per thread)\n",
                    (unsigned long long)pto_trace_dropped(rt),
                    pto_runtime_config(rt)->trace_events);
        }
    }
    if (op->stats) {
        fflush(stdout);
        printf("stats of the last round, %s/%s:\n", res->case_name,
               res->name);
        pto_run_stats_print(rt, stdout);
    }
}

static void run_variant(pto_runtime_t *rt, const opts_t *op,
                        const pa_inputs_t *in, pa_variant_t v,
                        result_t *res)
{
    int unrolled = v == PA_UNROLL || v == PA_UNROLL_MANUAL;
    pa_orch_params_t p = {.in = in, .variant = v,
                          .blocks_per_step = unrolled ? op->unroll : 1};
    p.chunk_steps =
        pa_chunk_steps(in, p.blocks_per_step, pto_runtime_config(rt));
    memset(res, 0, sizeof *res);
    res->case_name = in->def->name;
    res->name = pa_variant_name(v);
    res->rounds = op->rounds;
    res->blocks_per_step = p.blocks_per_step;
    res->golden = op->empty ? -1 : 1;
    double *series[SERIES_COUNT];
    int ok = 1;
    for (int s = 0; s < SERIES_COUNT; s++) {
        series[s] = calloc(op->rounds, sizeof(double));
        ok = ok && series[s] != NULL;
    }
    if (ok && run_rounds(rt, op, &p, res, series) == 0) {
        res->ran = 1;
        res->elapsed = summarise(series[SERIES_ELAPSED], op->rounds);
        res->orch = summarise(series[SERIES_ORCH], op->rounds);
        res->sched = summarise(series[SERIES_SCHED], op->rounds);
        res->kernel = summarise(series[SERIES_KERNEL], op->rounds);
        res->orch_wait = summarise(series[SERIES_WAIT], op->rounds);
        write_outputs(rt, op, res);
    } else if (!ok) {
        fprintf(stderr, "pto-pa: out of memory\n");
    }
    if (!res->ran && res->golden == 1)
        res->golden = 0;
    for (int s = 0; s < SERIES_COUNT; s++)
        free(series[s]);
}

/* ---- table ------------------------------------------------------------- */

/* Cores the kernels can keep busy at once: simulated cores, at most the
 * CPUs of this machine. */
static uint32_t cores_used(const pto_runtime_t *rt)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    uint32_t sim = 3 * pto_runtime_config(rt)->clusters;
    return cpus > 0 && (uint32_t)cpus < sim ? (uint32_t)cpus : sim;
}

/* Elapsed against the kernel time summed over the cores, spread over the
 * cores used. Kernel time is wall time on the core threads: where there
 * are more threads than CPUs it includes time a kernel was preempted, and
 * the figure comes out too low (even negative). */
static double overhead_pct(const result_t *r)
{
    double busy = r->kernel.trim / r->cores_used;
    return busy > 0 ? 100.0 * (r->elapsed.trim / busy - 1.0) : NAN;
}

/* Elapsed against the serial time of the same tiling (no runtime, one
 * thread) spread over the cores used: the runtime's cost, and also what
 * the cores lose to each other (memory bandwidth, context switches). */
static double serial_overhead_pct(const result_t *r)
{
    double ideal = r->serial_us / r->cores_used;
    return ideal > 0 && r->tasks > 0
               ? 100.0 * (r->elapsed.trim / ideal - 1.0)
               : NAN;
}

static void print_case_header(const pa_inputs_t *in, const pto_runtime_t *rt,
                              const opts_t *op)
{
    const pa_case_def_t *d = in->def;
    printf("\n%s (%s): batch %u, heads %u, kv_heads %u, head_dim %u, "
           "block %u, %llu tokens, K+V %.1f MiB\n",
           d->name, d->what, d->batch, d->heads, d->kv_heads, d->head_dim,
           d->block_size, (unsigned long long)in->tokens,
           pa_inputs_kv_bytes(in) / 1048576.0);
    printf("  %u clusters (%u cores used), %u rounds + %u warmup, unroll %u, "
           "kernels %s\n",
           pto_runtime_config(rt)->clusters, cores_used(rt), op->rounds,
           op->warmup, op->unroll,
           op->empty ? "empty" : pa_isa_name(pa_kernels_isa()));
    printf("%-14s %-6s %8s %8s %7s %10s %10s %9s %9s %9s %9s %10s %6s %6s "
           "%7s\n",
           "variant", "golden", "max_abs", "max_rel", "tasks", "elapsed_us",
           "elapsed_us", "orch_us", "orch_us", "sched_us", "sched_us",
           "kernel_us", "ovh%", "ser%", "orch_ns");
    printf("%-14s %-6s %8s %8s %7s %10s %10s %9s %9s %9s %9s %10s %6s %6s "
           "%7s\n",
           "", "", "", "", "", "mean", "trim", "mean", "trim", "mean",
           "trim", "trim", "", "", "/task");
}

static const char *golden_word(const result_t *r)
{
    if (!r->ran)
        return "ERROR";
    return r->golden < 0 ? "skip" : r->golden ? "PASS" : "FAIL";
}

/* A percentage, or "-" when there is none. */
static const char *pct(char *buf, size_t n, double v)
{
    if (isfinite(v))
        snprintf(buf, n, "%.1f", v);
    else
        snprintf(buf, n, "-");
    return buf;
}

static void print_row(const result_t *r)
{
    char b1[32], b2[32];
    printf("%-14s %-6s %8.2g %8.2g %7llu %10.1f %10.1f %9.1f %9.1f %9.1f "
           "%9.1f %10.1f %6s %6s %7.0f\n",
           r->name, golden_word(r), r->check.max_abs,
           r->check.max_rel, (unsigned long long)r->tasks, r->elapsed.mean,
           r->elapsed.trim, r->orch.mean, r->orch.trim, r->sched.mean,
           r->sched.trim, r->kernel.trim,
           pct(b1, sizeof b1, r->tasks ? overhead_pct(r) : NAN),
           pct(b2, sizeof b2, serial_overhead_pct(r)),
           r->tasks ? r->orch.trim * 1e3 / (double)r->tasks : 0.0);
    if (r->golden == 0 && r->ran)
        printf("  GOLDEN FAIL: %llu elements outside |err| <= %g + %g "
               "|ref|, first at index %llu, worst err/tol %.3g\n",
               (unsigned long long)r->check.bad, PA_ATOL, PA_RTOL,
               (unsigned long long)r->check.first_bad, r->check.worst);
    fflush(stdout);
}

/* ---- JSON -------------------------------------------------------------- */

static void json_num(FILE *f, const char *key, double v, int last)
{
    if (isfinite(v))
        fprintf(f, "\"%s\": %.6g%s", key, v, last ? "" : ", ");
    else
        fprintf(f, "\"%s\": null%s", key, last ? "" : ", ");
}

static int write_json(const char *path, const result_t *res, uint32_t n,
                      uint32_t clusters)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "pto-pa: cannot write %s: %s\n", path,
                strerror(errno));
        return -1;
    }
    fprintf(f, "[\n");
    for (uint32_t i = 0; i < n; i++) {
        const result_t *r = &res[i];
        fprintf(f, "  {\"case\": \"%s\", \"variant\": \"%s\", \"golden\": %s, "
                "\"ran\": %s, \"tasks\": %llu, ", r->case_name,
                r->name,
                r->golden < 0 ? "null" : r->golden ? "true" : "false",
                r->ran ? "true" : "false", (unsigned long long)r->tasks);
        json_num(f, "elapsed_us", r->elapsed.trim, 0);
        json_num(f, "orch_us", r->orch.trim, 0);
        json_num(f, "sched_us", r->sched.trim, 0);
        json_num(f, "kernel_us", r->kernel.trim, 0);
        json_num(f, "orch_wait_us", r->orch_wait.trim, 0);
        json_num(f, "elapsed_us_mean", r->elapsed.mean, 0);
        json_num(f, "orch_us_mean", r->orch.mean, 0);
        json_num(f, "sched_us_mean", r->sched.mean, 0);
        json_num(f, "overhead_pct", overhead_pct(r), 0);
        json_num(f, "serial_us", r->serial_us > 0 ? r->serial_us : NAN, 0);
        json_num(f, "serial_overhead_pct", serial_overhead_pct(r), 0);
        /* NaN errors (a NaN in the output) and unchecked ones: null */
        double unchecked = r->golden < 0 ? NAN : 0.0;
        json_num(f, "max_abs_err", r->check.max_abs + unchecked, 0);
        json_num(f, "max_rel_err", r->check.max_rel + unchecked, 0);
        json_num(f, "err_over_tol", r->check.worst + unchecked, 0);
        fprintf(f, "\"rounds\": %u, \"clusters\": %u, \"cores_used\": %u, "
                "\"blocks_per_task\": %u}%s\n", r->rounds, clusters,
                r->cores_used, r->blocks_per_step, i + 1 < n ? "," : "");
    }
    fprintf(f, "]\n");
    if (fclose(f) != 0) {
        fprintf(stderr, "pto-pa: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

/* ---- driver ------------------------------------------------------------ */

static int runtime_setup(const opts_t *op, pto_runtime_t **rt)
{
    pto_config_t cfg;
    pto_config_init(&cfg);
    if (op->clusters != 0)
        cfg.clusters = op->clusters;
    cfg.core_timing = 1; /* sched_ns and kernel_ns */
    if (op->trace && cfg.trace_events == 0)
        cfg.trace_events = PA_TRACE_EVENTS;
    if (op->dot && cfg.graph_tasks == 0)
        cfg.graph_tasks = PA_DOT_MAX_TASKS;
    int rc = pto_runtime_create(&cfg, rt);
    if (rc != 0) {
        report_run_error("pto_runtime_create", rc, pto_last_error(NULL));
        return rc;
    }
    rc = pa_kernels_register(*rt, op->empty);
    if (rc != 0)
        report_run_error("pto_kernel_register", rc, pto_last_error(*rt));
    return rc;
}

/* Inputs and golden of one case; 0 or -1. */
static int prepare_case(const pa_case_def_t *d, const opts_t *op,
                        pa_inputs_t *in)
{
    uint64_t t0 = now_ns();
    if (pa_inputs_create(d, in) != 0) {
        fprintf(stderr, "pto-pa: out of memory for case %s\n", d->name);
        return -1;
    }
    uint64_t t1 = now_ns();
    if (!op->empty && pa_golden(in) != 0) {
        fprintf(stderr, "pto-pa: out of memory for the golden of %s\n",
                d->name);
        pa_inputs_destroy(in);
        return -1;
    }
    fprintf(stderr, "pto-pa: %s: inputs %.2f s, golden %.2f s\n", d->name,
            (t1 - t0) / 1e9, op->empty ? 0.0 : (now_ns() - t1) / 1e9);
    return 0;
}

/* The case on one thread without the runtime (pa_serial_run), timed like
 * a variant; `name` serial or serial_unroll. */
static void run_serial(const opts_t *op, const pa_inputs_t *in,
                       uint32_t bps, const char *name, result_t *res)
{
    memset(res, 0, sizeof *res);
    res->case_name = in->def->name;
    res->name = name;
    res->rounds = op->rounds;
    res->blocks_per_step = bps;
    res->cores_used = 1;
    res->golden = 1;
    double *t = calloc(op->rounds, sizeof(double));
    if (t == NULL)
        return;
    uint64_t n = pa_inputs_out_elems(in);
    for (uint32_t r = 0; r < op->warmup + op->rounds; r++) {
        for (uint64_t i = 0; i < n; i++)
            in->out[i] = NAN;
        uint64_t t0 = now_ns();
        if (pa_serial_run(in, bps, pa_kernels_isa()) != 0) {
            fprintf(stderr, "pto-pa: serial run failed\n");
            free(t);
            res->golden = 0;
            return;
        }
        if (r >= op->warmup)
            t[r - op->warmup] = (now_ns() - t0) / 1e3;
        pa_check_t c;
        if (!pa_check(in, &c))
            res->golden = 0;
        worse_check(&res->check, &c, r == 0);
    }
    res->ran = 1;
    res->elapsed = summarise(t, op->rounds);
    res->kernel = res->elapsed;
    res->serial_us = res->elapsed.trim;
    free(t);
}

/* Runs the selected variants of one case into res[*n...]. */
static int run_case(pto_runtime_t *rt, const opts_t *op,
                    const pa_case_def_t *d, result_t *res, uint32_t *n)
{
    pa_inputs_t in;
    if (prepare_case(d, op, &in) != 0)
        return -1;
    print_case_header(&in, rt, op);
    int ok = 1;
    double serial[2] = {0, 0}; /* one block per step, unrolled */
    for (int k = 0; op->serial && !op->empty && k < 2; k++) {
        result_t *r = &res[(*n)++];
        run_serial(op, &in, k ? op->unroll : 1,
                   k ? "serial_unroll" : "serial", r);
        serial[k] = r->serial_us;
        print_row(r);
        ok = ok && r->ran && r->golden != 0;
    }
    for (int v = 0; v < PA_VARIANT_COUNT; v++) {
        if (!(op->variants & (1u << v)))
            continue;
        result_t *r = &res[(*n)++];
        run_variant(rt, op, &in, (pa_variant_t)v, r);
        r->cores_used = cores_used(rt);
        r->serial_us = serial[v == PA_UNROLL || v == PA_UNROLL_MANUAL];
        print_row(r);
        ok = ok && r->ran && r->golden != 0 && !r->out_err;
    }
    pa_inputs_destroy(&in);
    return ok ? 0 : -1;
}

static int run_all(const opts_t *op)
{
    pto_runtime_t *rt = NULL;
    result_t res[16 * (PA_VARIANT_COUNT + 2)];
    uint32_t n = 0;
    int ok = runtime_setup(op, &rt) == 0;
    for (uint32_t i = 0; ok && i < pa_case_count() && i < 16; i++) {
        const pa_case_def_t *d = pa_case_at(i);
        if (strcmp(op->case_name, "all") != 0 &&
            strcmp(op->case_name, d->name) != 0)
            continue;
        if (run_case(rt, op, d, res, &n) != 0)
            ok = 0;
    }
    if (op->json && n > 0 &&
        write_json(op->json, res, n, pto_runtime_config(rt)->clusters) != 0)
        ok = 0;
    pto_runtime_destroy(rt);
    return ok ? 0 : 1;
}

/* ---- options ----------------------------------------------------------- */

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    unsigned long long v;
    if (s == NULL || *s < '0' || *s > '9')
        return -1; /* strtoull would accept a sign or blanks */
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int parse_variant(const char *s, uint32_t *mask)
{
    if (s == NULL)
        return -1;
    if (strcmp(s, "all") == 0) {
        *mask = (1u << PA_VARIANT_COUNT) - 1;
        return 0;
    }
    for (int v = 0; v < PA_VARIANT_COUNT; v++) {
        if (strcmp(s, pa_variant_name((pa_variant_t)v)) == 0) {
            *mask = 1u << v;
            return 0;
        }
    }
    return -1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pto-pa --variant {auto,manual,unroll,unroll_manual,all}"
            " --case {NAME,all}\n"
            "              --rounds N [--warmup N] [--clusters N] "
            "[--json FILE]\n"
            "              [--trace FILE] [--dot FILE] [--unroll N] "
            "[--empty-kernels]\n"
            "              [--isa {auto,baseline,avx2}] [--serial] [--stats]\n"
            "       pto-pa --kernel-bench [--case NAME] [--unroll N]\n"
            "  --variant V     orchestration to run (default all)\n"
            "  --case NAME     case to run, or all (default small):");
    for (uint32_t i = 0; i < pa_case_count(); i++)
        fprintf(f, " %s", pa_case_at(i)->name);
    fprintf(f,
            "\n"
            "  --rounds N      timed pto_run rounds, each checked (default 1)"
            "\n"
            "  --warmup N      untimed rounds first (default 0)\n"
            "  --clusters N    simulated clusters, 1 AIC + 2 AIV each "
            "(default 4, or PTO_CLUSTERS)\n"
            "  --json FILE     write the results as a JSON list\n"
            "  --dot FILE      write the last round's task graph (Graphviz "
            "DOT; the first\n"
            "                  %u tasks, or PTO_GRAPH_TASKS)\n"
            "  --trace FILE    write the last round's trace (Chrome "
            "trace-event JSON:\n"
            "                  Perfetto, chrome://tracing; "
            "tools/pto_trace_summary.py)\n"
            "  --stats         print the last round's run statistics\n"
            "                  With several cases or variants run, "
            "--dot/--trace write\n"
            "                  FILE.<case>.<variant>.dot / .json each\n"
            "  --unroll N      KV blocks per task of the unroll variants, "
            "1..%u (default %u)\n"
            "  --empty-kernels kernels that do nothing: runtime cost alone "
            "(no golden)\n"
            "  --isa I         kernel code path: auto (default: avx2 where "
            "the CPU has it),\n"
            "                  baseline (SSE2) or avx2 (AVX2+FMA)\n"
            "  --serial        also run each case on one thread without the "
            "runtime\n"
            "                  (rows serial, serial_unroll; ser%% is "
            "elapsed against\n"
            "                  serial time / cores used)\n"
            "  --kernel-bench  time the kernels alone on one thread "
            "(default case Case1)\n",
            PA_DOT_MAX_TASKS, PA_MAX_TASK_BLOCKS, PA_DEFAULT_UNROLL);
}

static int parse_flag(const char *arg, opts_t *op)
{
    if (strcmp(arg, "--kernel-bench") == 0)
        op->kernel_bench = 1;
    else if (strcmp(arg, "--empty-kernels") == 0)
        op->empty = 1;
    else if (strcmp(arg, "--serial") == 0)
        op->serial = 1;
    else if (strcmp(arg, "--stats") == 0)
        op->stats = 1;
    else
        return -1;
    return 0;
}

/* One option with a value; -1 when unknown or the value is bad. */
static int parse_valued(const char *arg, const char *v, opts_t *op)
{
    if (strcmp(arg, "--variant") == 0)
        return parse_variant(v, &op->variants);
    if (strcmp(arg, "--case") == 0) {
        if (v == NULL || (strcmp(v, "all") != 0 && !pa_case_find(v)))
            return -1;
        op->case_name = v;
        return 0;
    }
    if (strcmp(arg, "--rounds") == 0)
        return parse_u32(v, 1, 1000000, &op->rounds);
    if (strcmp(arg, "--warmup") == 0)
        return parse_u32(v, 0, 1000000, &op->warmup);
    if (strcmp(arg, "--clusters") == 0)
        return parse_u32(v, 1, PTO_MAX_CLUSTERS, &op->clusters);
    if (strcmp(arg, "--unroll") == 0)
        return parse_u32(v, 1, PA_MAX_TASK_BLOCKS, &op->unroll);
    if (strcmp(arg, "--isa") == 0) {
        static const char *const names[3] = {"auto", "baseline", "avx2"};
        for (int i = 0; v != NULL && i < 3; i++) {
            if (strcmp(v, names[i]) == 0) {
                op->isa = (pa_isa_t)i;
                return 0;
            }
        }
        return -1;
    }
    if (strcmp(arg, "--json") == 0) {
        op->json = v;
        return v ? 0 : -1;
    }
    if (strcmp(arg, "--trace") == 0) {
        op->trace = v;
        return v ? 0 : -1;
    }
    if (strcmp(arg, "--dot") == 0) {
        op->dot = v;
        return v ? 0 : -1;
    }
    return -1;
}

/* 0 to run, 1 after --help, -1 on a usage error. */
static int parse_options(int argc, char **argv, opts_t *op)
{
    memset(op, 0, sizeof *op);
    op->variants = (1u << PA_VARIANT_COUNT) - 1;
    op->rounds = 1;
    op->unroll = PA_DEFAULT_UNROLL;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (parse_flag(argv[i], op) == 0)
            continue;
        if (parse_valued(argv[i], v, op) != 0) {
            fprintf(stderr, "pto-pa: bad option or value: %s%s%s\n", argv[i],
                    v ? " " : "", v ? v : "");
            usage(stderr);
            return -1;
        }
        i++;
    }
    if (op->case_name == NULL)
        op->case_name = op->kernel_bench ? "Case1" : "small";
    op->several = strcmp(op->case_name, "all") == 0 ||
                  (op->variants & (op->variants - 1)) != 0;
    if (op->isa == PA_ISA_AVX2 && pa_isa_resolve(PA_ISA_AVX2) != PA_ISA_AVX2) {
        fprintf(stderr, "pto-pa: --isa avx2: this CPU lacks AVX2+FMA\n");
        return -1;
    }
    if (op->kernel_bench && strcmp(op->case_name, "all") == 0) {
        fprintf(stderr, "pto-pa: --kernel-bench takes one case\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    opts_t op;
    int rc = parse_options(argc, argv, &op);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    pa_kernels_set_isa(op.isa);
    if (op.kernel_bench)
        return pa_kernel_bench(pa_case_find(op.case_name), op.unroll) == 0
                   ? 0
                   : 1;
    return run_all(&op);
}
