/*
 * bench/peer_pto.c - pto-bench's graphs on pto itself: pto_auto (AUTO
 * scopes, every edge inferred from the tensors) and pto_manual (MANUAL
 * scopes, explicit deps).
 *
 * Data. Each slot array of bench_mem_t is one external tensor [n, 8]
 * uint64; a task's datum is a [1, 8] row view of it, made per task (as a
 * user would). Fresh data (pa's intermediates and accumulators, fanin's
 * producer outputs) are OUTPUTs of create-info [1, 8] uint64: 64 bytes
 * from the heap ring, as large as the peers' slots. The kernel stores its
 * scalar into its tensor 0, so every task lists the datum it writes first.
 *
 * Scopes. pa opens one scope per group and fanin one per round (their
 * fresh outputs live until the scope ends). indep and chain write only
 * existing tensors, so their tasks own no buffers and need no scope: AUTO
 * submits them straight into pto_run's outer scope.
 *
 * pto_manual. pa and fanin run the same submits in MANUAL scopes with the
 * explicit deps of the graph (the intermediates are manual-local: the
 * tracker never sees them); external tensors (q, kv, out, res) stay
 * tracked, as docs/manual-scope.md promises. indep and chain touch only
 * external data, so the MANUAL variant passes it as NO_DEP and orders by
 * explicit deps alone: chain on the previous task, indep on the previous
 * writer of the slot (retired long ago, so the dep is skipped as
 * satisfied). That is how a user takes the tracker out entirely.
 *
 * Threads. One cluster has one AIC and two AIV cores. threads = 1: every
 * task is an AIC task, so one core thread runs them (the two AIV threads
 * stay parked); threads = 2T': AIV tasks on T' clusters (2T' AIV cores, the
 * AIC threads parked). pa's real AIC/AIV mix would use 3 cores per
 * cluster, so it is submitted as all-AIC / all-AIV here too. The
 * orchestrator is one more thread (pto_run's caller), as StarPU's
 * submitting thread is.
 */
#define _POSIX_C_SOURCE 200809L

#include <pto/pto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_peers.h"
#include "bench_shapes.h"
#include "bench_util.h"

typedef struct pto_ctx {
    const bench_job_t *job;
    pto_runtime_t *rt;
    int manual;
    int aiv;
    int failed;             /* a view, submit or result failed */
    int verbose;            /* PTO_BENCH_VERBOSE=1 */
    int stats;              /* PTO_BENCH_STATS=1 (pto-bench --stats) */
    uint64_t orch_cpu_ns;   /* the submit loop's CPU time, last run */
    pto_tensor_t indep, chain, q, out, kv_k, kv_v, res; /* external */
    pto_create_info_t ci;   /* a fresh datum: [1, 8] uint64 */
    pto_task_id_t *last;    /* indep, manual: last writer of each slot */
} pto_ctx_t;

static void store_kernel(const pto_kernel_ctx_t *c)
{
    bench_store(pto_tensor_data(pto_kernel_tensor(c, 0)),
                pto_kernel_scalar(c, 0));
}

static const bench_kernel_t kernels[] = {{store_kernel, "store"}};

/* Row i of an external slot array. */
static pto_tensor_t row(pto_ctx_t *c, const pto_tensor_t *t, uint64_t i)
{
    uint32_t off[2] = {(uint32_t)i, 0};
    uint32_t shape[2] = {1, BENCH_SLOT_WORDS};
    pto_tensor_t v;
    if (pto_tensor_view(t, off, shape, &v) != 0)
        c->failed = 1;
    return v;
}

static void deps(const pto_ctx_t *c, pto_args_t *a, const pto_task_id_t *ids,
                 uint32_t n)
{
    if (c->manual)
        pto_args_deps(a, ids, n);
}

/* Submit with the task's value as its scalar, on the job's core kind. */
static pto_task_id_t submit(pto_ctx_t *c, pto_orch_t *o, pto_args_t *a,
                            uint64_t value)
{
    pto_task_id_t id;
    pto_args_scalar(a, value);
    id = c->aiv ? pto_submit_aiv(o, 0, a) : pto_submit_aic(o, 0, a);
    if (pto_task_id_is_none(id))
        c->failed = 1;
    return id;
}

static pto_tensor_t result(pto_ctx_t *c, const pto_args_t *a, uint32_t i)
{
    const pto_tensor_t *t = pto_args_result(a, i);
    pto_tensor_t r;
    if (t)
        return *t;
    c->failed = 1;
    memset(&r, 0, sizeof(r));
    return r;
}

/* ---- indep and chain --------------------------------------------------- */

static void indep_tasks(pto_orch_t *o, pto_ctx_t *c)
{
    for (uint64_t i = 0; i < c->job->tasks && !c->failed; i++) {
        uint64_t slot = i % BENCH_INDEP_SLOTS;
        pto_tensor_t t = row(c, &c->indep, slot);
        pto_args_t a;
        pto_args_init(&a);
        if (c->manual) {
            pto_args_no_dep(&a, &t);
            pto_args_dep(&a, c->last[slot]);
            c->last[slot] = submit(c, o, &a, i + 1);
        } else {
            pto_args_output_existing(&a, &t);
            submit(c, o, &a, i + 1);
        }
    }
}

static void chain_tasks(pto_orch_t *o, pto_ctx_t *c)
{
    pto_task_id_t prev = PTO_TASK_ID_NONE;
    for (uint64_t i = 0; i < c->job->tasks && !c->failed; i++) {
        pto_args_t a;
        pto_args_init(&a);
        if (c->manual) {
            pto_args_no_dep(&a, &c->chain);
            pto_args_dep(&a, prev);
        } else {
            pto_args_inout(&a, &c->chain);
        }
        prev = submit(c, o, &a, i + 1);
    }
}

/* ---- pa ----------------------------------------------------------------- */

/* One group's accumulators and the last UP, while its scope is open. */
typedef struct pa_group {
    uint64_t g;
    uint64_t t;             /* index of the group's next task */
    pto_tensor_t q, out;
    pto_tensor_t acc[BENCH_PA_ACC];
    pto_task_id_t up;
} pa_group_t;

/* QK, SF, PV of block j; returns their ids and the intermediates UP
 * reads (m, l, o). */
static void pa_block3(pto_orch_t *o, pto_ctx_t *c, pa_group_t *gr,
                      uint32_t j, pto_task_id_t ids[3], pto_tensor_t mlo[3])
{
    uint32_t blk = bench_pa_block(gr->g, j);
    pto_tensor_t k = row(c, &c->kv_k, blk), v = row(c, &c->kv_v, blk);
    pto_tensor_t s, p;
    pto_args_t a;
    pto_args_init(&a); /* QK */
    pto_args_output(&a, &c->ci);
    pto_args_input(&a, &gr->q);
    pto_args_input(&a, &k);
    ids[0] = submit(c, o, &a, ++gr->t);
    s = result(c, &a, 0);
    pto_args_init(&a); /* SF */
    for (int i = 0; i < 3; i++)
        pto_args_output(&a, &c->ci);
    pto_args_input(&a, &s);
    deps(c, &a, &ids[0], 1);
    ids[1] = submit(c, o, &a, ++gr->t);
    p = result(c, &a, 0);
    mlo[0] = result(c, &a, 1);
    mlo[1] = result(c, &a, 2);
    pto_args_init(&a); /* PV */
    pto_args_output(&a, &c->ci);
    pto_args_input(&a, &p);
    pto_args_input(&a, &v);
    deps(c, &a, &ids[1], 1);
    ids[2] = submit(c, o, &a, ++gr->t);
    mlo[2] = result(c, &a, 0);
}

static void pa_up(pto_orch_t *o, pto_ctx_t *c, pa_group_t *gr, uint32_t j,
                  const pto_task_id_t ids[3], const pto_tensor_t mlo[3])
{
    pto_task_id_t d[3] = {ids[2], ids[1], gr->up};
    pto_args_t a;
    pto_args_init(&a);
    if (j == BENCH_PA_BLOCKS - 1)
        pto_args_output_existing(&a, &gr->out);
    for (uint32_t i = 0; i < BENCH_PA_ACC; i++) {
        if (j == 0)
            pto_args_output(&a, &c->ci);
        else
            pto_args_inout(&a, &gr->acc[i]);
    }
    for (uint32_t i = 0; i < 3; i++)
        pto_args_input(&a, &mlo[i]);
    deps(c, &a, d, 3); /* d[2] is NONE for j == 0: skipped */
    gr->up = submit(c, o, &a, ++gr->t);
    for (uint32_t i = 0; j == 0 && i < BENCH_PA_ACC; i++)
        gr->acc[i] = result(c, &a, i);
}

static void pa_group(pto_orch_t *o, pto_ctx_t *c, uint64_t g)
{
    pa_group_t gr = {.g = g, .t = g * BENCH_PA_GROUP_TASKS,
                     .up = PTO_TASK_ID_NONE};
    gr.q = row(c, &c->q, g % BENCH_PA_SLOTS);
    gr.out = row(c, &c->out, g % BENCH_PA_SLOTS);
    for (uint32_t j = 0; j < BENCH_PA_BLOCKS && !c->failed; j++) {
        pto_task_id_t ids[3];
        pto_tensor_t mlo[3];
        pa_block3(o, c, &gr, j, ids, mlo);
        pa_up(o, c, &gr, j, ids, mlo);
    }
}

static void pa_tasks(pto_orch_t *o, pto_ctx_t *c)
{
    pto_scope_mode_t mode = c->manual ? PTO_SCOPE_MANUAL : PTO_SCOPE_AUTO;
    uint64_t groups = c->job->tasks / BENCH_PA_GROUP_TASKS;
    for (uint64_t g = 0; g < groups && !c->failed; g++) {
        PTO_SCOPE(o, mode)
        {
            pa_group(o, c, g);
        }
    }
}

/* ---- fanin -------------------------------------------------------------- */

static void fanin_round(pto_orch_t *o, pto_ctx_t *c, uint64_t r)
{
    uint64_t t = r * BENCH_FANIN_UNIT;
    pto_tensor_t p[BENCH_FANIN_K], res;
    pto_task_id_t ids[BENCH_FANIN_K];
    pto_args_t a;
    for (uint32_t k = 0; k < BENCH_FANIN_K; k++) {
        pto_args_init(&a);
        pto_args_output(&a, &c->ci);
        ids[k] = submit(c, o, &a, ++t);
        p[k] = result(c, &a, 0);
    }
    res = row(c, &c->res, r % BENCH_FANIN_SLOTS);
    pto_args_init(&a);
    pto_args_output_existing(&a, &res);
    for (uint32_t k = 0; k < BENCH_FANIN_K; k++)
        pto_args_input(&a, &p[k]);
    deps(c, &a, ids, BENCH_FANIN_K);
    submit(c, o, &a, ++t);
}

static void fanin_tasks(pto_orch_t *o, pto_ctx_t *c)
{
    pto_scope_mode_t mode = c->manual ? PTO_SCOPE_MANUAL : PTO_SCOPE_AUTO;
    uint64_t rounds = c->job->tasks / BENCH_FANIN_UNIT;
    for (uint64_t r = 0; r < rounds && !c->failed; r++) {
        PTO_SCOPE(o, mode)
        {
            fanin_round(o, c, r);
        }
    }
}

/* ---- the peer ----------------------------------------------------------- */

/* The whole submit loop of a run and nothing else: bench/callgrind_pa.sh
 * collects exactly this function (--toggle-collect), so keep it out of
 * line and external. */
__attribute__((noinline)) void bench_pto_submit_loop(pto_orch_t *o,
                                                     pto_ctx_t *c);

void bench_pto_submit_loop(pto_orch_t *o, pto_ctx_t *c)
{
    switch (c->job->shape) {
    case BENCH_INDEP:
        if (!c->manual) {
            indep_tasks(o, c);
            break;
        }
        for (uint32_t s = 0; s < BENCH_INDEP_SLOTS; s++)
            c->last[s] = PTO_TASK_ID_NONE;
        PTO_SCOPE(o, PTO_SCOPE_MANUAL)
        {
            indep_tasks(o, c);
        }
        break;
    case BENCH_CHAIN:
        if (!c->manual) {
            chain_tasks(o, c);
            break;
        }
        PTO_SCOPE(o, PTO_SCOPE_MANUAL)
        {
            chain_tasks(o, c);
        }
        break;
    case BENCH_PA:
        pa_tasks(o, c);
        break;
    default:
        fanin_tasks(o, c);
        break;
    }
}

static void orch(pto_orch_t *o, void *user)
{
    pto_ctx_t *c = user;
    uint64_t t0 = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
    bench_pto_submit_loop(o, c);
    c->orch_cpu_ns = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
}

/* PTO_BENCH_VERBOSE=1: pto_run_stats of each run on stderr, per task,
 * and the orchestrator's CPU time in the submit loop (sched_ns and
 * kernel_ns need PTO_CORE_TIMING=1). */
static void print_stats(const pto_ctx_t *c, const pto_run_stats_t *st)
{
    double n = (double)st->tasks;
    fprintf(stderr,
            "pto run: %llu tasks, ns/task: elapsed %.1f orch %.1f (cpu "
            "%.1f) orch_wait %.1f sched %.1f kernel %.1f; ring high water "
            "%u %u %u %u\n",
            (unsigned long long)st->tasks, st->elapsed_ns / n,
            st->orch_ns / n, c->orch_cpu_ns / n, st->orch_wait_ns / n,
            st->sched_ns / n,
            st->kernel_ns / n, st->ring_high_water[0],
            st->ring_high_water[1], st->ring_high_water[2],
            st->ring_high_water[3]);
}

static int pto_run_once(void *ctx)
{
    pto_ctx_t *c = ctx;
    pto_run_stats_t st;
    c->failed = 0;
    if (bench_run_checked(c->rt, orch, c, &st) != 0 || c->failed)
        return -1;
    if (c->verbose)
        print_stats(c, &st);
    if (c->stats)
        pto_run_stats_print(c->rt, stderr);
    return st.tasks == c->job->tasks ? 0 : -1;
}

static pto_tensor_t ext(bench_slot_t *mem, uint32_t n)
{
    uint32_t shape[2] = {n, BENCH_SLOT_WORDS};
    return pto_tensor_external(mem, shape, 2, PTO_UINT64);
}

/* External tensors over whatever slot arrays the shape allocated. */
static void ctx_tensors(pto_ctx_t *c, const bench_mem_t *m)
{
    uint32_t one[2] = {1, BENCH_SLOT_WORDS};
    if (m->indep)
        c->indep = ext(m->indep, BENCH_INDEP_SLOTS);
    if (m->chain)
        c->chain = ext(m->chain, 1);
    if (m->q) {
        c->q = ext(m->q, BENCH_PA_SLOTS);
        c->out = ext(m->out, BENCH_PA_SLOTS);
        c->kv_k = ext(m->kv_k, BENCH_PA_KV_POOL);
        c->kv_v = ext(m->kv_v, BENCH_PA_KV_POOL);
    }
    if (m->res)
        c->res = ext(m->res, BENCH_FANIN_SLOTS);
    c->ci = pto_create_info(one, 2, PTO_UINT64);
}

static int pto_setup(const bench_job_t *job, bench_mem_t *mem, void **out,
                     char *why, size_t why_len, int manual)
{
    pto_ctx_t *c;
    if (job->threads != 1 && job->threads % 2 != 0) {
        snprintf(why, why_len, "pto runs 1 worker (AIC tasks) or an even "
                               "count (AIV tasks, 2 per cluster)");
        return BENCH_SKIP;
    }
    c = calloc(1, sizeof(*c));
    if (!c || !(c->last = malloc(BENCH_INDEP_SLOTS * sizeof(*c->last)))) {
        free(c);
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    c->job = job;
    c->manual = manual;
    c->aiv = job->threads > 1;
    c->verbose = getenv("PTO_BENCH_VERBOSE") &&
                 !strcmp(getenv("PTO_BENCH_VERBOSE"), "1");
    c->stats = getenv("PTO_BENCH_STATS") &&
               !strcmp(getenv("PTO_BENCH_STATS"), "1");
    ctx_tensors(c, mem);
    c->rt = bench_make_runtime(c->aiv ? job->threads / 2 : 1, kernels, 1);
    if (!c->rt) {
        free(c->last);
        free(c);
        snprintf(why, why_len, "pto_runtime_create failed");
        return -1;
    }
    *out = c;
    return 0;
}

static int pto_auto_setup(const bench_job_t *job, bench_mem_t *mem,
                          void **ctx, char *why, size_t why_len)
{
    return pto_setup(job, mem, ctx, why, why_len, 0);
}

static int pto_manual_setup(const bench_job_t *job, bench_mem_t *mem,
                            void **ctx, char *why, size_t why_len)
{
    return pto_setup(job, mem, ctx, why, why_len, 1);
}

static void pto_teardown(void *ctx)
{
    pto_ctx_t *c = ctx;
    pto_runtime_destroy(c->rt);
    free(c->last);
    free(c);
}

const bench_peer_t bench_peer_pto_auto = {"pto_auto", pto_auto_setup,
                                          pto_run_once, pto_teardown};
const bench_peer_t bench_peer_pto_manual = {"pto_manual", pto_manual_setup,
                                            pto_run_once, pto_teardown};
