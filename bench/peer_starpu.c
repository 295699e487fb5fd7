/*
 * bench/peer_starpu.c - pto-bench's graphs on StarPU (1.3, CPU workers
 * only): starpu_implicit and starpu_explicit.
 *
 * Both: starpu_init with ncpus = threads and no CUDA/OpenCL workers,
 * default scheduler (lws in 1.3) and settings; the main thread submits, as
 * pto's orchestrator does, and the workers run the tasks. Tasks are built
 * with starpu_task_create + starpu_task_submit (the low-overhead path:
 * starpu_task_insert packs its arguments). One run ends when every task of
 * it has finished.
 *
 * starpu_implicit: every slot the shape uses is a registered variable
 * handle (starpu_variable_data_register, at setup, not timed); each task
 * lists its handles with R / W / RW modes and StarPU's sequential
 * consistency infers the edges (RAW, WAR and WAW), as pto_auto does. The
 * value to store rides in cl_arg (no copy). A run ends with
 * starpu_task_wait_for_all.
 *
 * starpu_explicit: tasks carry no data handles (a pointer to the slot and
 * the value ride in cl_arg) and are ordered by starpu_task_declare_deps_array
 * only, as pto_manual is. Declaring a dependency needs the producer's task
 * structure still alive, so tasks are non-detached and sit in a ring of
 * SP_WINDOW tasks: when it is full, its older half is waited for
 * (starpu_task_wait, which also frees them; half at a time, so the
 * submitting thread does not sleep and wake once per task). A producer
 * that left the ring has finished, so a dep on it is dropped. The window
 * equals pto's default task_window, and it bounds StarPU's memory the way
 * pto's rings bound pto's.
 */
#define _POSIX_C_SOURCE 200809L

#include <starpu.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_peers.h"
#include "bench_shapes.h"

/* Tasks in flight in starpu_explicit (pto's default task_window). */
#define SP_WINDOW 1024u
/* Handles a task lists at most (fanin's consumer: 7 inputs + 1 output). */
#define SP_MAXBUF 8u

typedef struct sp_arg {
    bench_slot_t *slot;
    uint64_t value;
} sp_arg_t;

typedef struct sp_ctx {
    const bench_job_t *job;
    bench_mem_t *mem;
    int explicit_deps;
    int failed;
    struct starpu_codelet cl;
    /* implicit: one handle per slot of each array (NULL when unused) */
    starpu_data_handle_t *h_indep, *h_chain, *h_q, *h_out, *h_kv_k, *h_kv_v;
    starpu_data_handle_t *h_acc, *h_inter, *h_prod, *h_res;
    /* explicit: the ring of tasks in flight and their arguments */
    struct starpu_task *ring[SP_WINDOW];
    sp_arg_t args[SP_WINDOW];
    uint64_t next;      /* index of the next task of the run */
    uint64_t waited;    /* tasks before this one were waited for */
} sp_ctx_t;

/* One access of a task: the slot (array base + index) and its mode. */
typedef struct sp_acc {
    bench_slot_t *base;
    starpu_data_handle_t *h;
    uint64_t i;
    enum starpu_data_access_mode mode;
} sp_acc_t;

static void sp_store_buf(void *buffers[], void *arg)
{
    bench_store((bench_slot_t *)STARPU_VARIABLE_GET_PTR(buffers[0]),
                (uint64_t)(uintptr_t)arg);
}

static void sp_store_arg(void *buffers[], void *arg)
{
    const sp_arg_t *a = arg;
    (void)buffers;
    bench_store(a->slot, a->value);
}

/* ---- submitting one task ------------------------------------------------ */

static void sp_submit_implicit(sp_ctx_t *c, const sp_acc_t *acc, uint32_t n,
                               uint64_t value)
{
    struct starpu_task *t = starpu_task_create();
    t->cl = &c->cl;
    t->nbuffers = (int)n;
    for (uint32_t i = 0; i < n; i++) {
        t->handles[i] = acc[i].h[acc[i].i];
        t->modes[i] = acc[i].mode;
    }
    t->cl_arg = (void *)(uintptr_t)value;
    if (starpu_task_submit(t) != 0)
        c->failed = 1;
}

/* Wait for (and so free) the tasks of the ring's oldest half. */
static void sp_wait_half(sp_ctx_t *c)
{
    for (uint64_t end = c->waited + SP_WINDOW / 2; c->waited < end;
         c->waited++)
        if (starpu_task_wait(c->ring[c->waited % SP_WINDOW]) != 0)
            c->failed = 1;
}

/* The run's next task (index c->next), writing w, after the tasks
 * deps[0..n) (indexes in this run). */
static void sp_submit_explicit(sp_ctx_t *c, const sp_acc_t *w,
                               const uint64_t *deps, uint32_t n,
                               uint64_t value)
{
    uint64_t self = c->next++;
    uint32_t at = (uint32_t)(self % SP_WINDOW), nd = 0;
    struct starpu_task *pred[SP_MAXBUF], *t;
    if (self - c->waited == SP_WINDOW) /* the ring is full */
        sp_wait_half(c);
    for (uint32_t i = 0; i < n; i++)
        if (deps[i] >= c->waited) /* still in the ring, so still valid */
            pred[nd++] = c->ring[deps[i] % SP_WINDOW];
    c->args[at].slot = &w->base[w->i];
    c->args[at].value = value;
    t = starpu_task_create();
    t->cl = &c->cl;
    t->cl_arg = &c->args[at];
    t->detach = 0; /* waited for (and freed) when it leaves the ring */
    if (nd > 0)
        starpu_task_declare_deps_array(t, nd, pred);
    c->ring[at] = t;
    if (starpu_task_submit(t) != 0)
        c->failed = 1;
}

/* A task: accesses acc[0..n) (acc[0] is the datum it stores into), after
 * tasks deps[0..nd) in the explicit variant. */
static void sp_task(sp_ctx_t *c, const sp_acc_t *acc, uint32_t n,
                    const uint64_t *deps, uint32_t nd, uint64_t value)
{
    if (c->explicit_deps)
        sp_submit_explicit(c, acc, deps, nd, value);
    else
        sp_submit_implicit(c, acc, n, value);
}

/* ---- the shapes --------------------------------------------------------- */

static void sp_indep(sp_ctx_t *c)
{
    for (uint64_t i = 0; i < c->job->tasks && !c->failed; i++) {
        sp_acc_t a = {c->mem->indep, c->h_indep, i % BENCH_INDEP_SLOTS,
                      STARPU_W};
        /* The slot's previous writer is BENCH_INDEP_SLOTS tasks back: long
         * out of the explicit ring, so no dep to declare. */
        sp_task(c, &a, 1, NULL, 0, i + 1);
    }
}

static void sp_chain(sp_ctx_t *c)
{
    sp_acc_t a = {c->mem->chain, c->h_chain, 0, STARPU_RW};
    for (uint64_t i = 0; i < c->job->tasks && !c->failed; i++)
        sp_task(c, &a, 1, &(uint64_t){i - 1}, i > 0, i + 1);
}

static sp_acc_t inter(const sp_ctx_t *c, uint64_t g, uint32_t j,
                      uint32_t kind, enum starpu_data_access_mode mode)
{
    uint64_t slot = g % BENCH_PA_SLOTS;
    sp_acc_t a = {c->mem->inter, c->h_inter,
                  (slot * BENCH_PA_BLOCKS + j) * BENCH_PA_INTER + kind, mode};
    return a;
}

static void sp_pa_up(sp_ctx_t *c, uint64_t g, uint32_t j, uint64_t t)
{
    uint64_t slot = g % BENCH_PA_SLOTS;
    enum starpu_data_access_mode am = j == 0 ? STARPU_W : STARPU_RW;
    sp_acc_t a[7];
    uint32_t n = 0;
    uint64_t deps[3] = {t - 1, t - 2, t - BENCH_PA_KINDS};
    if (j == BENCH_PA_BLOCKS - 1)
        a[n++] = (sp_acc_t){c->mem->out, c->h_out, slot, STARPU_W};
    for (uint32_t i = 0; i < BENCH_PA_ACC; i++)
        a[n++] = (sp_acc_t){c->mem->acc, c->h_acc,
                            slot * BENCH_PA_ACC + i, am};
    a[n++] = inter(c, g, j, BENCH_PA_M, STARPU_R);
    a[n++] = inter(c, g, j, BENCH_PA_L, STARPU_R);
    a[n++] = inter(c, g, j, BENCH_PA_O, STARPU_R);
    sp_task(c, a, n, deps, j > 0 ? 3u : 2u, t + 1);
}

static void sp_pa_group(sp_ctx_t *c, uint64_t g)
{
    uint64_t slot = g % BENCH_PA_SLOTS, t = g * BENCH_PA_GROUP_TASKS;
    for (uint32_t j = 0; j < BENCH_PA_BLOCKS; j++, t += BENCH_PA_KINDS) {
        uint32_t blk = bench_pa_block(g, j);
        sp_acc_t a[4];
        uint64_t d;
        a[0] = inter(c, g, j, BENCH_PA_S, STARPU_W); /* QK */
        a[1] = (sp_acc_t){c->mem->q, c->h_q, slot, STARPU_R};
        a[2] = (sp_acc_t){c->mem->kv_k, c->h_kv_k, blk, STARPU_R};
        sp_task(c, a, 3, NULL, 0, t + 1);
        a[0] = inter(c, g, j, BENCH_PA_P, STARPU_W); /* SF */
        a[1] = inter(c, g, j, BENCH_PA_M, STARPU_W);
        a[2] = inter(c, g, j, BENCH_PA_L, STARPU_W);
        a[3] = inter(c, g, j, BENCH_PA_S, STARPU_R);
        d = t;
        sp_task(c, a, 4, &d, 1, t + 2);
        a[0] = inter(c, g, j, BENCH_PA_O, STARPU_W); /* PV */
        a[1] = inter(c, g, j, BENCH_PA_P, STARPU_R);
        a[2] = (sp_acc_t){c->mem->kv_v, c->h_kv_v, blk, STARPU_R};
        d = t + 1;
        sp_task(c, a, 3, &d, 1, t + 3);
        sp_pa_up(c, g, j, t + 3);
    }
}

static void sp_pa(sp_ctx_t *c)
{
    uint64_t groups = c->job->tasks / BENCH_PA_GROUP_TASKS;
    for (uint64_t g = 0; g < groups && !c->failed; g++)
        sp_pa_group(c, g);
}

static void sp_fanin(sp_ctx_t *c)
{
    uint64_t rounds = c->job->tasks / BENCH_FANIN_UNIT;
    for (uint64_t r = 0; r < rounds && !c->failed; r++) {
        uint64_t slot = r % BENCH_FANIN_SLOTS, t = r * BENCH_FANIN_UNIT;
        sp_acc_t a[BENCH_FANIN_UNIT];
        uint64_t deps[BENCH_FANIN_K];
        for (uint32_t k = 0; k < BENCH_FANIN_K; k++) {
            a[1 + k] = (sp_acc_t){c->mem->prod, c->h_prod,
                                  slot * BENCH_FANIN_K + k, STARPU_W};
            sp_task(c, &a[1 + k], 1, NULL, 0, t + k + 1);
            a[1 + k].mode = STARPU_R;
            deps[k] = t + k;
        }
        a[0] = (sp_acc_t){c->mem->res, c->h_res, slot, STARPU_W};
        sp_task(c, a, BENCH_FANIN_UNIT, deps, BENCH_FANIN_K,
                t + BENCH_FANIN_UNIT);
    }
}

/* Wait for every task still in the explicit ring (oldest first). */
static void sp_drain(sp_ctx_t *c)
{
    for (; c->waited < c->next; c->waited++)
        if (starpu_task_wait(c->ring[c->waited % SP_WINDOW]) != 0)
            c->failed = 1;
}

static int sp_run(void *ctx)
{
    sp_ctx_t *c = ctx;
    c->failed = 0;
    c->next = 0;
    c->waited = 0;
    switch (c->job->shape) {
    case BENCH_INDEP:
        sp_indep(c);
        break;
    case BENCH_CHAIN:
        sp_chain(c);
        break;
    case BENCH_PA:
        sp_pa(c);
        break;
    default:
        sp_fanin(c);
        break;
    }
    if (c->explicit_deps)
        sp_drain(c);
    else if (starpu_task_wait_for_all() != 0)
        c->failed = 1;
    return c->failed ? -1 : 0;
}

/* ---- setup -------------------------------------------------------------- */

/* Handles for slots[0..n), or NULL (nothing registered) for NULL slots. */
static starpu_data_handle_t *sp_register(bench_slot_t *slots, uint32_t n,
                                         int *failed)
{
    starpu_data_handle_t *h;
    if (!slots)
        return NULL;
    h = calloc(n, sizeof(*h));
    if (!h) {
        *failed = 1;
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++)
        starpu_variable_data_register(&h[i], STARPU_MAIN_RAM,
                                      (uintptr_t)&slots[i],
                                      sizeof(bench_slot_t));
    return h;
}

static void sp_unregister(starpu_data_handle_t *h, uint32_t n)
{
    if (!h)
        return;
    for (uint32_t i = 0; i < n; i++)
        starpu_data_unregister(h[i]);
    free(h);
}

/* The handle arrays of the context, with their sizes, in one table. */
#define SP_ARRAYS 10
static void sp_arrays(sp_ctx_t *c, bench_slot_t **slots,
                      starpu_data_handle_t ***h, uint32_t *n)
{
    bench_mem_t *m = c->mem;
    bench_slot_t *s[SP_ARRAYS] = {m->indep, m->chain, m->q,     m->out,
                                  m->kv_k,  m->kv_v,  m->acc,   m->inter,
                                  m->prod,  m->res};
    starpu_data_handle_t **hh[SP_ARRAYS] = {
        &c->h_indep, &c->h_chain, &c->h_q,   &c->h_out,   &c->h_kv_k,
        &c->h_kv_v,  &c->h_acc,   &c->h_inter, &c->h_prod, &c->h_res};
    uint32_t nn[SP_ARRAYS] = {
        BENCH_INDEP_SLOTS, 1, BENCH_PA_SLOTS, BENCH_PA_SLOTS,
        BENCH_PA_KV_POOL, BENCH_PA_KV_POOL, BENCH_PA_SLOTS * BENCH_PA_ACC,
        BENCH_PA_SLOTS * BENCH_PA_BLOCKS * BENCH_PA_INTER,
        BENCH_FANIN_SLOTS * BENCH_FANIN_K, BENCH_FANIN_SLOTS};
    for (int i = 0; i < SP_ARRAYS; i++)
        slots[i] = s[i], h[i] = hh[i], n[i] = nn[i];
}

static void sp_teardown(void *ctx)
{
    sp_ctx_t *c = ctx;
    bench_slot_t *slots[SP_ARRAYS];
    starpu_data_handle_t **h[SP_ARRAYS];
    uint32_t n[SP_ARRAYS];
    sp_arrays(c, slots, h, n);
    for (int i = 0; i < SP_ARRAYS; i++)
        sp_unregister(*h[i], n[i]);
    starpu_shutdown();
    free(c);
}

static int sp_init(const bench_job_t *job, char *why, size_t why_len)
{
    struct starpu_conf conf;
    int rc;
    setenv("STARPU_SILENT", "1", 0);
    starpu_conf_init(&conf);
    conf.ncpus = (int)job->threads;
    conf.ncuda = 0;
    conf.nopencl = 0;
    conf.nmic = 0;
    conf.nmpi_ms = 0;
    rc = starpu_init(&conf);
    if (rc != 0) {
        snprintf(why, why_len, "starpu_init: %s (%d CPU workers asked)",
                 strerror(-rc), conf.ncpus);
        return rc == -ENODEV ? BENCH_SKIP : -1;
    }
    if (starpu_cpu_worker_get_count() != job->threads) {
        snprintf(why, why_len, "StarPU started %u CPU workers, not %u",
                 starpu_cpu_worker_get_count(), job->threads);
        starpu_shutdown();
        return BENCH_SKIP;
    }
    return 0;
}

static int sp_setup(const bench_job_t *job, bench_mem_t *mem, void **out,
                    char *why, size_t why_len, int explicit_deps)
{
    bench_slot_t *slots[SP_ARRAYS];
    starpu_data_handle_t **h[SP_ARRAYS];
    uint32_t n[SP_ARRAYS];
    sp_ctx_t *c = calloc(1, sizeof(*c));
    int rc;
    if (!c) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    if ((rc = sp_init(job, why, why_len)) != 0) {
        free(c);
        return rc;
    }
    c->job = job;
    c->mem = mem;
    c->explicit_deps = explicit_deps;
    starpu_codelet_init(&c->cl);
    c->cl.where = STARPU_CPU;
    c->cl.cpu_funcs[0] = explicit_deps ? sp_store_arg : sp_store_buf;
    c->cl.nbuffers = explicit_deps ? 0 : STARPU_VARIABLE_NBUFFERS;
    c->cl.name = "store";
    sp_arrays(c, slots, h, n);
    for (int i = 0; i < SP_ARRAYS && !explicit_deps; i++)
        *h[i] = sp_register(slots[i], n[i], &c->failed);
    if (c->failed) {
        snprintf(why, why_len, "out of memory for data handles");
        sp_teardown(c);
        return -1;
    }
    *out = c;
    return 0;
}

static int sp_implicit_setup(const bench_job_t *job, bench_mem_t *mem,
                             void **ctx, char *why, size_t why_len)
{
    return sp_setup(job, mem, ctx, why, why_len, 0);
}

static int sp_explicit_setup(const bench_job_t *job, bench_mem_t *mem,
                             void **ctx, char *why, size_t why_len)
{
    return sp_setup(job, mem, ctx, why, why_len, 1);
}

const bench_peer_t bench_peer_starpu_implicit = {
    "starpu_implicit", sp_implicit_setup, sp_run, sp_teardown};
const bench_peer_t bench_peer_starpu_explicit = {
    "starpu_explicit", sp_explicit_setup, sp_run, sp_teardown};
