/*
 * bench/manual.c - pto-bench-manual: what a MANUAL scope saves on the
 * submit path, on the paged-attention task shape (empty kernels).
 *
 * The shape (reference/paged-attention.md, Case1-like tiles). `groups`
 * independent groups (one request's 16 query heads each); group g runs in
 * its own scope and submits, after one pto_alloc_tensors of its running
 * accumulators mi [16], li [16], oi [16, 128] fp32, per KV block j = 0..15:
 *   QK_j (AIC)  INPUT q[g] (view of the external query buffer),
 *               INPUT k[blk] (view of the external key cache),
 *               OUTPUT s_j [16, 128] fp32
 *   SF_j (AIV)  INPUT s_j; OUTPUT p_j [16, 128] bf16, m_j [16], l_j [16] fp32
 *   PV_j (AIC)  INPUT p_j, INPUT v[blk] (external value cache view);
 *               OUTPUT o_j [16, 128] fp32
 *   UP_j (AIV)  INPUT m_j, l_j, o_j; INOUT mi, li, oi; on j = 15 also
 *               OUTPUT_EXISTING out[g] (view of the external output)
 * so a run submits groups * (1 + 16 * 4) tasks. blk is the block table's
 * physical block of (g, j): a fixed bijective scramble of g * 16 + j over a
 * pool of PA_KV_POOL blocks (blocks repeat past 256 groups; reads only).
 *
 * Two variants build the same graph:
 *   auto    PTO_SCOPE_AUTO per group, no explicit deps: the tracker infers
 *           every edge.
 *   manual  PTO_SCOPE_MANUAL per group; the scope's own tensors are
 *           manual-local (never tracked), so every edge among them is
 *           explicit: SF_j on QK_j; PV_j on SF_j; UP_j on PV_j, SF_j and
 *           UP_{j-1} (UP_0 on the alloc task); UP_15 also on the alloc task.
 *           QK_j has no explicit deps. The external views (q, k, v, out)
 *           stay tracked in both variants.
 * Before measuring, a check pass runs both variants once with checking
 * kernels (same graph, two extra scalars per task) that fail the run when
 * a task starts before one of its producers finished.
 *
 * Figures, each in ns per submitted task (allocs included), median over
 * --reps runs after one warm-up run per variant, with min and max; the two
 * variants' runs alternate on one runtime. The orchestration function
 * times its whole submit loop (wall clock and the orchestrator thread's
 * CPU time); pto_run_stats adds orch_ns (orchestration minus back-pressure
 * waits), orch_wait_ns and elapsed_ns. The MANUAL/AUTO ratio of each
 * median follows. --json FILE writes
 *   {"bench", "cores", "reps", "groups", "blocks", "tasks", "config": {...},
 *    "variants": {"auto"|"manual": {FIGURE: {"median", "min", "max"}, ...}},
 *    "ratio_manual_auto": {FIGURE: ratio, ...}}
 * with FIGURE one of field_name[] below. --callgrind-mode runs
 * bench_manual_loop once for bench/callgrind_manual.sh.
 */
#define _POSIX_C_SOURCE 200809L

#include <pto/pto.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

/* The task shape: Case1 tiles (16 heads, head_dim 128, 128-token blocks). */
#define PA_BLOCKS 16u      /* KV blocks per group */
#define PA_HEADS 16u       /* query rows per tile */
#define PA_DIM 128u        /* head_dim */
#define PA_BLOCK_TOKENS 128u
#define PA_KINDS 4u        /* QK, SF, PV, UP per block */
#define PA_TASKS_PER_GROUP (1u + PA_BLOCKS * PA_KINDS) /* + the alloc */
/* Physical KV blocks: a power of two so the scramble is a bijection; the
 * caches are calloc'ed and never touched (2 x 128 MiB of address space). */
#define PA_KV_POOL 4096u
#define PA_SCRAMBLE 2654435761u /* odd: a bijection modulo PA_KV_POOL */

#define PA_MAX_GROUPS 65536u
/* Groups of the check pass: enough to interleave many groups' tasks. */
#define PA_CHECK_GROUPS 64u

enum { K_QK = 0, K_SF, K_PV, K_UP, K_CHECK, K_COUNT };

typedef enum pa_variant { V_AUTO = 0, V_MANUAL, V_COUNT } pa_variant_t;
static const char *const variant_name[V_COUNT] = {"auto", "manual"};

/* ---- options ----------------------------------------------------------- */

typedef struct pa_opts {
    uint32_t groups;
    uint32_t reps;
    uint32_t clusters;
    int quick;
    int callgrind;
    pa_variant_t variant; /* callgrind mode only */
    const char *json;
} pa_opts_t;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pto-bench-manual [--quick] [--groups N] [--reps N]\n"
            "                        [--clusters N] [--json FILE]\n"
            "       pto-bench-manual --callgrind-mode --variant auto|manual "
            "--groups N\n"
            "  --groups N     groups per run, %u tasks each (default 256)\n"
            "  --reps N       measured runs per variant, median reported "
            "(default 51; quick 11; at most %u)\n"
            "  --clusters N   clusters of the runtime (default 1)\n"
            "  --json FILE    also write the figures as JSON\n"
            "  --callgrind-mode  run bench_manual_loop once for --variant, "
            "nothing else\n"
            "                 (for bench/callgrind_manual.sh)\n",
            PA_TASKS_PER_GROUP, BENCH_MAX_REPS);
}

static int parse_variant(const char *s, pa_variant_t *out)
{
    for (int v = 0; v < V_COUNT; v++)
        if (s && strcmp(s, variant_name[v]) == 0) {
            *out = (pa_variant_t)v;
            return 0;
        }
    return -1;
}

/* One option with a value at argv[*i]; -1 on a bad or unknown option. */
static int parse_valued(pa_opts_t *op, int argc, char **argv, int *i)
{
    const char *name = argv[*i];
    const char *val = *i + 1 < argc ? argv[*i + 1] : NULL;
    int rc = -1;
    if (strcmp(name, "--groups") == 0)
        rc = bench_parse_u32(val, 1, PA_MAX_GROUPS, &op->groups);
    else if (strcmp(name, "--reps") == 0)
        rc = bench_parse_u32(val, 1, BENCH_MAX_REPS, &op->reps);
    else if (strcmp(name, "--clusters") == 0)
        rc = bench_parse_u32(val, 1, PTO_MAX_CLUSTERS, &op->clusters);
    else if (strcmp(name, "--variant") == 0)
        rc = parse_variant(val, &op->variant);
    else if (strcmp(name, "--json") == 0 && val)
        op->json = val, rc = 0;
    if (rc == 0)
        (*i)++;
    return rc;
}

static int parse_args(pa_opts_t *op, int argc, char **argv)
{
    memset(op, 0, sizeof(*op));
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            op->quick = 1;
        else if (strcmp(argv[i], "--callgrind-mode") == 0)
            op->callgrind = 1;
        else if (parse_valued(op, argc, argv, &i) != 0) {
            fprintf(stderr, "pto-bench-manual: bad option '%s'\n", argv[i]);
            return -1;
        }
    }
    /* Zero: not given. */
    if (op->groups == 0)
        op->groups = 256;
    if (op->reps == 0)
        op->reps = op->quick ? 11u : 51u;
    if (op->clusters == 0)
        op->clusters = 1;
    return 0;
}

/* ---- kernels ----------------------------------------------------------- */

static void empty_kernel(const pto_kernel_ctx_t *c)
{
    (void)c;
}

/* Check-pass task index of (group, block, kind). */
static uint32_t task_index(uint32_t g, uint32_t j, uint32_t kind)
{
    return (g * PA_BLOCKS + j) * PA_KINDS + kind;
}

/* Scalars: the run's done flags and this task's task_index(). Fails the run
 * when a producer of this task has not finished; then marks it done. */
static void check_kernel(const pto_kernel_ctx_t *c)
{
    _Atomic uint8_t *done =
        (_Atomic uint8_t *)(uintptr_t)pto_kernel_scalar(c, 0);
    uint32_t idx = (uint32_t)pto_kernel_scalar(c, 1);
    uint32_t kind = idx % PA_KINDS, j = idx / PA_KINDS % PA_BLOCKS;
    uint32_t pred[3], n = 0;
    if (kind != K_QK)
        pred[n++] = idx - 1; /* SF on QK, PV on SF, UP on PV */
    if (kind == K_UP)
        pred[n++] = idx - 2; /* UP on SF (m_j, l_j) */
    if (kind == K_UP && j > 0)
        pred[n++] = idx - PA_KINDS; /* UP on the previous UP */
    for (uint32_t i = 0; i < n; i++)
        /* Pairs with the release store of the producer's kernel below. */
        if (!atomic_load_explicit(&done[pred[i]], memory_order_acquire)) {
            pto_kernel_fail(c, "ran before one of its producers finished");
            return;
        }
    atomic_store_explicit(&done[idx], 1, memory_order_release);
}

static const bench_kernel_t kernel_table[K_COUNT] = {
    [K_QK] = {empty_kernel, "qk"},
    [K_SF] = {empty_kernel, "softmax_prepare"},
    [K_PV] = {empty_kernel, "pv"},
    [K_UP] = {empty_kernel, "online_update"},
    [K_CHECK] = {check_kernel, "check"},
};

static pto_runtime_t *make_runtime(uint32_t clusters)
{
    return bench_make_runtime(clusters, kernel_table, K_COUNT);
}

/* ---- buffers ----------------------------------------------------------- */

/* External buffers (never touched: calloc leaves the pages unmapped) and
 * the create-infos of the per-block intermediates. */
typedef struct pa_bufs {
    void *mem[4];
    pto_tensor_t query; /* [groups * 16, 128] bf16 */
    pto_tensor_t key;   /* [PA_KV_POOL, 128 tokens, 128] bf16 */
    pto_tensor_t value; /* same */
    pto_tensor_t out;   /* [groups * 16, 128] fp32 */
    pto_create_info_t tile_f32, tile_bf16, row_f32;
} pa_bufs_t;

static int buf_make(pa_bufs_t *b, int i, const uint32_t *shape,
                    uint32_t ndim, pto_dtype_t dt, pto_tensor_t *t)
{
    size_t n = pto_dtype_size(dt);
    for (uint32_t d = 0; d < ndim; d++)
        n *= shape[d];
    b->mem[i] = calloc(n, 1);
    if (!b->mem[i]) {
        fprintf(stderr, "pto-bench-manual: out of memory (%zu bytes)\n", n);
        return -1;
    }
    *t = pto_tensor_external(b->mem[i], shape, ndim, dt);
    if (t->status != 0)
        fprintf(stderr, "pto_tensor_external: %s\n",
                pto_strerror(t->status));
    return t->status;
}

static int bufs_init(pa_bufs_t *b, uint32_t groups)
{
    uint32_t rows[2] = {groups * PA_HEADS, PA_DIM};
    uint32_t kv[3] = {PA_KV_POOL, PA_BLOCK_TOKENS, PA_DIM};
    uint32_t tile[2] = {PA_HEADS, PA_DIM};
    uint32_t row[1] = {PA_HEADS};
    memset(b, 0, sizeof(*b));
    if (buf_make(b, 0, rows, 2, PTO_BFLOAT16, &b->query) != 0 ||
        buf_make(b, 1, kv, 3, PTO_BFLOAT16, &b->key) != 0 ||
        buf_make(b, 2, kv, 3, PTO_BFLOAT16, &b->value) != 0 ||
        buf_make(b, 3, rows, 2, PTO_FLOAT32, &b->out) != 0)
        return -1;
    b->tile_f32 = pto_create_info(tile, 2, PTO_FLOAT32);
    b->tile_bf16 = pto_create_info(tile, 2, PTO_BFLOAT16);
    b->row_f32 = pto_create_info(row, 1, PTO_FLOAT32);
    if (b->tile_f32.status || b->tile_bf16.status || b->row_f32.status) {
        fprintf(stderr, "pto_create_info failed\n");
        return -1;
    }
    return 0;
}

static void bufs_fini(pa_bufs_t *b)
{
    for (int i = 0; i < 4; i++)
        free(b->mem[i]);
}

/* ---- the orchestration ------------------------------------------------- */

typedef struct pa_job {
    const pa_bufs_t *bufs;
    uint32_t groups;
    pa_variant_t variant;
    _Atomic uint8_t *done; /* check pass: a flag per kernel task; else NULL */
    int failed;            /* a submit or view failed */
    uint64_t loop_ns;      /* the timed loop of the last run: wall clock */
    uint64_t cpu_ns;       /* and the orchestrator thread's CPU time */
} pa_job_t;

/* One group's state while its scope is open. */
typedef struct pa_group {
    uint32_t g;
    pto_tensor_t q, out;     /* views of the external query / output */
    pto_tensor_t mi, li, oi; /* running accumulators (the alloc's outputs) */
    pto_task_id_t alloc;
    pto_task_id_t up;        /* the previous UP, else the alloc */
} pa_group_t;

/* One block's intermediates, as materialised by their submits. */
typedef struct pa_block {
    uint32_t j;
    pto_tensor_t kv_k, kv_v;
    pto_tensor_t s, p, m, l, o;
    pto_task_id_t qk, sf, pv;
} pa_block_t;

static int view_rows(const pto_tensor_t *t, uint32_t g, pto_tensor_t *out)
{
    uint32_t off[2] = {g * PA_HEADS, 0};
    uint32_t tile[2] = {PA_HEADS, PA_DIM};
    return pto_tensor_view(t, off, tile, out);
}

static int view_kv(const pto_tensor_t *t, uint32_t blk, pto_tensor_t *out)
{
    uint32_t off[3] = {blk, 0, 0};
    uint32_t box[3] = {1, PA_BLOCK_TOKENS, PA_DIM};
    return pto_tensor_view(t, off, box, out);
}

/* Physical KV block of (g, j): the block table. */
static uint32_t block_of(uint32_t g, uint32_t j)
{
    return (uint32_t)((g * PA_BLOCKS + j) * PA_SCRAMBLE) & (PA_KV_POOL - 1);
}

/* Explicit deps: in the MANUAL variant only. */
static void args_deps(const pa_job_t *job, pto_args_t *a,
                      const pto_task_id_t *ids, uint32_t n)
{
    if (job->variant == V_MANUAL)
        pto_args_deps(a, ids, n);
}

/* The check pass's two scalars (check_kernel); nothing otherwise. */
static void args_check(const pa_job_t *job, pto_args_t *a, uint32_t idx)
{
    if (!job->done)
        return;
    pto_args_scalar(a, (uint64_t)(uintptr_t)job->done);
    pto_args_scalar(a, idx);
}

static pto_task_id_t submit(pto_orch_t *o, pa_job_t *job, uint32_t kind,
                            pto_args_t *a)
{
    uint32_t k = job->done ? K_CHECK : kind;
    pto_task_id_t id = (kind == K_QK || kind == K_PV)
                           ? pto_submit_aic(o, k, a)
                           : pto_submit_aiv(o, k, a);
    if (pto_task_id_is_none(id))
        job->failed = 1;
    return id;
}

/* The i-th OUTPUT of a successful submit, copied out. */
static void take_result(pa_job_t *job, const pto_args_t *a, uint32_t i,
                        pto_tensor_t *out)
{
    const pto_tensor_t *t = pto_args_result(a, i);
    if (t)
        *out = *t;
    else
        job->failed = 1;
}

static void submit_qk(pto_orch_t *o, pa_job_t *job, const pa_group_t *gr,
                      pa_block_t *bl)
{
    pto_args_t a;
    pto_args_init(&a);
    pto_args_input(&a, &gr->q);
    pto_args_input(&a, &bl->kv_k);
    pto_args_output(&a, &job->bufs->tile_f32);
    args_check(job, &a, task_index(gr->g, bl->j, K_QK));
    bl->qk = submit(o, job, K_QK, &a);
    take_result(job, &a, 0, &bl->s);
}

static void submit_sf(pto_orch_t *o, pa_job_t *job, const pa_group_t *gr,
                      pa_block_t *bl)
{
    pto_args_t a;
    pto_args_init(&a);
    pto_args_input(&a, &bl->s);
    pto_args_output(&a, &job->bufs->tile_bf16);
    pto_args_output(&a, &job->bufs->row_f32);
    pto_args_output(&a, &job->bufs->row_f32);
    args_deps(job, &a, &bl->qk, 1);
    args_check(job, &a, task_index(gr->g, bl->j, K_SF));
    bl->sf = submit(o, job, K_SF, &a);
    take_result(job, &a, 0, &bl->p);
    take_result(job, &a, 1, &bl->m);
    take_result(job, &a, 2, &bl->l);
}

static void submit_pv(pto_orch_t *o, pa_job_t *job, const pa_group_t *gr,
                      pa_block_t *bl)
{
    pto_args_t a;
    pto_args_init(&a);
    pto_args_input(&a, &bl->p);
    pto_args_input(&a, &bl->kv_v);
    pto_args_output(&a, &job->bufs->tile_f32);
    args_deps(job, &a, &bl->sf, 1);
    args_check(job, &a, task_index(gr->g, bl->j, K_PV));
    bl->pv = submit(o, job, K_PV, &a);
    take_result(job, &a, 0, &bl->o);
}

static void submit_up(pto_orch_t *o, pa_job_t *job, pa_group_t *gr,
                      const pa_block_t *bl)
{
    int last = bl->j == PA_BLOCKS - 1;
    pto_task_id_t deps[4] = {bl->pv, bl->sf, gr->up, gr->alloc};
    pto_args_t a;
    pto_args_init(&a);
    pto_args_input(&a, &bl->m);
    pto_args_input(&a, &bl->l);
    pto_args_input(&a, &bl->o);
    pto_args_inout(&a, &gr->mi);
    pto_args_inout(&a, &gr->li);
    pto_args_inout(&a, &gr->oi);
    if (last)
        pto_args_output_existing(&a, &gr->out);
    args_deps(job, &a, deps, last ? 4u : 3u);
    args_check(job, &a, task_index(gr->g, bl->j, K_UP));
    gr->up = submit(o, job, K_UP, &a);
}

/* The group's accumulators mi, li [16] and oi [16, 128] fp32. */
static void submit_alloc(pto_orch_t *o, pa_job_t *job, pa_group_t *gr)
{
    pto_args_t a;
    pto_args_init(&a);
    pto_args_output(&a, &job->bufs->row_f32);
    pto_args_output(&a, &job->bufs->row_f32);
    pto_args_output(&a, &job->bufs->tile_f32);
    gr->alloc = gr->up = pto_alloc_tensors(o, &a);
    if (pto_task_id_is_none(gr->alloc))
        job->failed = 1;
    take_result(job, &a, 0, &gr->mi);
    take_result(job, &a, 1, &gr->li);
    take_result(job, &a, 2, &gr->oi);
}

/* One group's 1 + 16 * 4 submits; its scope is opened by the caller. */
static void submit_group(pto_orch_t *o, pa_job_t *job, uint32_t g)
{
    const pa_bufs_t *b = job->bufs;
    pa_group_t gr = {.g = g};
    if (view_rows(&b->query, g, &gr.q) != 0 ||
        view_rows(&b->out, g, &gr.out) != 0) {
        job->failed = 1;
        return;
    }
    submit_alloc(o, job, &gr);
    for (uint32_t j = 0; j < PA_BLOCKS && !job->failed; j++) {
        pa_block_t bl = {.j = j};
        uint32_t blk = block_of(g, j);
        if (view_kv(&b->key, blk, &bl.kv_k) != 0 ||
            view_kv(&b->value, blk, &bl.kv_v) != 0) {
            job->failed = 1;
            return;
        }
        submit_qk(o, job, &gr, &bl);
        submit_sf(o, job, &gr, &bl);
        submit_pv(o, job, &gr, &bl);
        submit_up(o, job, &gr, &bl);
    }
}

/* The whole submit loop and nothing else: callgrind_manual.sh collects
 * exactly this function (--toggle-collect), so keep it out of line. */
__attribute__((noinline)) void bench_manual_loop(pto_orch_t *o, pa_job_t *job);

void bench_manual_loop(pto_orch_t *o, pa_job_t *job)
{
    pto_scope_mode_t mode =
        job->variant == V_MANUAL ? PTO_SCOPE_MANUAL : PTO_SCOPE_AUTO;
    for (uint32_t g = 0; g < job->groups && !job->failed; g++) {
        PTO_SCOPE(o, mode)
        {
            submit_group(o, job, g);
        }
    }
}

static void pa_orch(pto_orch_t *o, void *user)
{
    pa_job_t *job = user;
    uint64_t c0 = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
    uint64_t t0 = bench_clock_ns(CLOCK_MONOTONIC);
    bench_manual_loop(o, job);
    job->loop_ns = bench_clock_ns(CLOCK_MONOTONIC) - t0;
    job->cpu_ns = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
    /* A view or result failure is ours, not the runtime's: say so. */
    if (job->failed && pto_orch_status(o) == 0)
        fprintf(stderr, "pto-bench-manual: a view or submit result failed "
                        "with no runtime error\n");
}

/* One run of `job`; -1 (after printing why) on any failure, including a
 * task count other than the graph's. */
static int run_job(pto_runtime_t *rt, pa_job_t *job, pto_run_stats_t *st)
{
    uint64_t want = (uint64_t)job->groups * PA_TASKS_PER_GROUP;
    job->failed = 0;
    if (bench_run_checked(rt, pa_orch, job, st) != 0 || job->failed)
        return -1;
    if (st->tasks != want) {
        fprintf(stderr, "pto-bench-manual: %s run submitted %llu tasks, "
                        "expected %llu\n", variant_name[job->variant],
                (unsigned long long)st->tasks, (unsigned long long)want);
        return -1;
    }
    return 0;
}

/* ---- check pass -------------------------------------------------------- */

/* Both variants once with check_kernel: every task must start after its
 * producers, and every kernel task must have run. */
static int check_graphs(pto_runtime_t *rt, const pa_bufs_t *bufs,
                        uint32_t groups)
{
    uint32_t n = groups * PA_BLOCKS * PA_KINDS;
    pto_run_stats_t st;
    for (int v = 0; v < V_COUNT; v++) {
        pa_job_t job = {.bufs = bufs, .groups = groups,
                        .variant = (pa_variant_t)v};
        uint32_t ran = 0;
        job.done = calloc(n, sizeof(*job.done));
        if (!job.done)
            return -1;
        int rc = run_job(rt, &job, &st);
        for (uint32_t i = 0; i < n; i++)
            ran += atomic_load_explicit(&job.done[i], memory_order_relaxed);
        free((void *)job.done);
        if (rc != 0 || ran != n) {
            fprintf(stderr, "check pass, %s: failed (%u of %u tasks ran)\n",
                    variant_name[v], ran, n);
            return -1;
        }
    }
    printf("check pass: %u groups, both variants: every task ran after its "
           "producers\n", groups);
    return 0;
}

/* ---- measurement ------------------------------------------------------- */

/* Per-run figures, each in ns per submitted task. */
enum { F_LOOP = 0, F_CPU, F_ORCH, F_WAIT, F_ELAPSED, F_COUNT };
static const char *const field_name[F_COUNT] = {
    "loop_ns_per_task", "loop_cpu_ns_per_task", "orch_ns_per_task",
    "orch_wait_ns_per_task", "elapsed_ns_per_task"};
static const char *const field_label[F_COUNT] = {
    "submit loop, wall (clock_gettime)", "submit loop, orchestrator CPU time",
    "orch_ns (pto_run_stats, minus waits)", "orch_wait_ns (back-pressure)",
    "elapsed_ns (whole pto_run)"};

typedef struct pa_samples {
    double v[F_COUNT][BENCH_MAX_REPS];
} pa_samples_t;

static void record(pa_samples_t *s, uint32_t r, const pa_job_t *job,
                   const pto_run_stats_t *st)
{
    double n = (double)st->tasks;
    s->v[F_LOOP][r] = (double)job->loop_ns / n;
    s->v[F_CPU][r] = (double)job->cpu_ns / n;
    s->v[F_ORCH][r] = (double)st->orch_ns / n;
    s->v[F_WAIT][r] = (double)st->orch_wait_ns / n;
    s->v[F_ELAPSED][r] = (double)st->elapsed_ns / n;
}

typedef struct pa_report {
    long cores;
    const pa_opts_t *opts;
    pto_config_t cfg;
    uint64_t tasks;
    bench_stat_t f[V_COUNT][F_COUNT];
} pa_report_t;

/* One warm-up run per variant, then `reps` runs alternating the variants
 * (so drift of the machine hits both alike). */
static int measure(pto_runtime_t *rt, const pa_bufs_t *bufs,
                   const pa_opts_t *op, pa_report_t *rp)
{
    pa_samples_t s[V_COUNT]; /* 8 KiB */
    pto_run_stats_t st;
    for (uint32_t r = 0; r <= op->reps; r++) { /* r == 0: warm-up */
        for (int v = 0; v < V_COUNT; v++) {
            pa_job_t job = {.bufs = bufs, .groups = op->groups,
                            .variant = (pa_variant_t)v};
            if (run_job(rt, &job, &st) != 0) {
                fprintf(stderr, "%s run %u failed\n", variant_name[v], r);
                return -1;
            }
            if (r > 0)
                record(&s[v], r - 1, &job, &st);
        }
    }
    rp->tasks = st.tasks;
    for (int v = 0; v < V_COUNT; v++)
        for (int f = 0; f < F_COUNT; f++)
            rp->f[v][f] = bench_stat_of(s[v].v[f], op->reps);
    return 0;
}

/* ---- reporting --------------------------------------------------------- */

static double ratio(const pa_report_t *rp, int f)
{
    double a = rp->f[V_AUTO][f].med;
    return a > 0 ? rp->f[V_MANUAL][f].med / a : 0.0;
}

static void print_table(const pa_report_t *rp)
{
    printf("\nPaged-attention shape: %u groups x %u blocks x %u tasks + %u "
           "allocs = %llu tasks/run; ns per task (allocs included), "
           "median [min .. max] of %u runs\n",
           rp->opts->groups, PA_BLOCKS, PA_KINDS, rp->opts->groups,
           (unsigned long long)rp->tasks, rp->opts->reps);
    printf("%-38s %-26s %-26s %8s\n", "figure", "auto", "manual",
           "man/auto");
    for (int f = 0; f < F_COUNT; f++) {
        char cell[V_COUNT][48];
        for (int v = 0; v < V_COUNT; v++)
            snprintf(cell[v], sizeof(cell[v]), "%7.1f [%.1f .. %.1f]",
                     rp->f[v][f].med, rp->f[v][f].min, rp->f[v][f].max);
        printf("%-38s %-26s %-26s %8.3f\n", field_label[f], cell[V_AUTO],
               cell[V_MANUAL], ratio(rp, f));
    }
}

static void json_body(FILE *f, const void *ctx)
{
    const pa_report_t *rp = ctx;
    fprintf(f, "{\n  \"bench\": \"pto-bench-manual\",\n  \"cores\": %ld,\n"
               "  \"reps\": %u,\n  \"groups\": %u,\n  \"blocks\": %u,\n"
               "  \"tasks\": %llu,\n",
            rp->cores, rp->opts->reps, rp->opts->groups, PA_BLOCKS,
            (unsigned long long)rp->tasks);
    bench_json_config(f, "config", &rp->cfg);
    fprintf(f, "  \"variants\": {\n");
    for (int v = 0; v < V_COUNT; v++) {
        fprintf(f, "    \"%s\": {", variant_name[v]);
        for (int k = 0; k < F_COUNT; k++)
            bench_json_stat(f, field_name[k], rp->f[v][k], k == F_COUNT - 1);
        fprintf(f, "}%s\n", v + 1 < V_COUNT ? "," : "");
    }
    fprintf(f, "  },\n  \"ratio_manual_auto\": {");
    for (int k = 0; k < F_COUNT; k++)
        fprintf(f, "\"%s\": %.4f%s", field_name[k], ratio(rp, k),
                k + 1 < F_COUNT ? ", " : "");
    fprintf(f, "}\n}\n");
}

/* ---- drivers ----------------------------------------------------------- */

static int run_bench(const pa_opts_t *op, pa_report_t *rp)
{
    pa_bufs_t bufs;
    pto_runtime_t *rt = NULL;
    uint32_t check_groups =
        op->groups < PA_CHECK_GROUPS ? op->groups : PA_CHECK_GROUPS;
    int rc = -1;
    if (bufs_init(&bufs, op->groups) != 0 || !(rt = make_runtime(op->clusters)))
        goto out;
    rp->cfg = *pto_runtime_config(rt);
    bench_print_config("config", &rp->cfg);
    if (check_graphs(rt, &bufs, check_groups) != 0 ||
        measure(rt, &bufs, op, rp) != 0)
        goto out;
    rc = 0;
out:
    pto_runtime_destroy(rt);
    bufs_fini(&bufs);
    return rc;
}

/* One run of bench_manual_loop, nothing else timed or printed. */
static int run_callgrind(const pa_opts_t *op)
{
    pa_bufs_t bufs;
    pto_run_stats_t st;
    pto_runtime_t *rt = NULL;
    pa_job_t job = {.bufs = &bufs, .groups = op->groups,
                    .variant = op->variant};
    int rc = -1;
    if (bufs_init(&bufs, op->groups) == 0 && (rt = make_runtime(op->clusters)))
        rc = run_job(rt, &job, &st);
    if (rc == 0)
        printf("callgrind-mode: variant=%s groups=%u tasks=%llu "
               "clusters=%u\n", variant_name[op->variant], op->groups,
               (unsigned long long)st.tasks,
               pto_runtime_config(rt)->clusters);
    pto_runtime_destroy(rt);
    bufs_fini(&bufs);
    return rc;
}

int main(int argc, char **argv)
{
    pa_opts_t op;
    pa_report_t rp;
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
    printf("pto-bench-manual: %ld online cores; reps=%u (+1 warm-up per "
           "variant) groups=%u%s\n",
           rp.cores, op.reps, op.groups, op.quick ? " (quick)" : "");
    if (run_bench(&op, &rp) != 0)
        return 1;
    print_table(&rp);
    if (op.json && bench_write_json(op.json, json_body, &rp) != 0)
        return 1;
    return 0;
}
