/*
 * test_scheduler.c - ready, complete, release, consume (src/scheduler.c)
 * through the CPU platform: chains under concurrency, mixed tasks whose
 * subtasks must meet while running, SPMD blocks (with and without sync
 * start), deferred completion, kernel failure with its dependents skipped,
 * dependents and failures of SPMD and deferred tasks (blocks that write
 * stripes, a helper thread that finishes deferred blocks),
 * zero-task runs, alloc_tensors, and reuse of a runtime after failures.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "pto/pto.h"

enum {
    K_EMPTY = 1,
    K_MEET = 2,
    K_BLOCK = 3,
    K_FAIL = 4,
    K_COUNT = 5,
    K_DEFER = 6,
    K_ADD = 7,
    K_STRIPE = 9,
    K_SUM = 10,
    K_STRIPE_FAIL = 11,
    K_DEFER_STRIPE = 12,
    K_DEFER_FAIL = 13
};

static void k_empty(const pto_kernel_ctx_t *c)
{
    (void)c;
}

static pto_runtime_t *make_rt(uint32_t clusters, uint32_t window)
{
    pto_config_t cfg;
    pto_config_init(&cfg);
    cfg.clusters = clusters;
    cfg.task_window = window;
    cfg.spin_us = 20;
    pto_runtime_t *rt = NULL;
    REQUIRE(pto_runtime_create(&cfg, &rt) == 0);
    REQUIRE(pto_kernel_register(rt, K_EMPTY, k_empty, "empty") == 0);
    return rt;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- zero-task run ------------------------------------------------------ */

static void orch_nothing(pto_orch_t *o, void *u)
{
    (void)o;
    (void)u;
}

static void test_zero_tasks(void)
{
    pto_runtime_t *rt = make_rt(24, 64);
    uint64_t t0 = now_ns();
    for (int i = 0; i < 20; i++)
        CHECK_EQ(pto_run(rt, orch_nothing, NULL), 0);
    /* No idle time-out ends an empty run (the seed waits for one): even
     * under sanitizers on 2 CPUs, 20 of them take far less than 5 s. */
    CHECK(now_ns() - t0 < 5000000000u);
    pto_runtime_destroy(rt);
}

/* ---- mixed tasks: the three subtasks run at the same time ----------- */

typedef struct meet {
    _Atomic int arrived;
    _Atomic int seen_mask;
    _Atomic int timeouts;
    _Atomic int wrong_cluster;
    _Atomic int cluster;
} meet_t;

static meet_t meets[64];

/* Each subtask announces itself and waits (bounded) for its partners: only
 * possible when they run at the same time. */
static void k_meet(const pto_kernel_ctx_t *c)
{
    meet_t *m = &meets[pto_kernel_scalar(c, 0)];
    int need = (int)pto_kernel_scalar(c, 1);
    atomic_fetch_or(&m->seen_mask, 1 << pto_kernel_subtask(c));
    int cl = -1;
    if (!atomic_compare_exchange_strong(&m->cluster, &cl,
                                        (int)pto_kernel_cluster(c)) &&
        cl != (int)pto_kernel_cluster(c))
        atomic_fetch_add(&m->wrong_cluster, 1);
    atomic_fetch_add(&m->arrived, 1);
    uint64_t t0 = now_ns();
    while (atomic_load(&m->arrived) < need) {
        if (now_ns() - t0 > 2000000000u) {
            atomic_fetch_add(&m->timeouts, 1);
            return;
        }
        sched_yield();
    }
}

static void orch_mixed(pto_orch_t *o, void *u)
{
    (void)u;
    const pto_mixed_kernels_t shapes[4] = {
        {K_MEET, K_MEET, K_MEET},
        {K_MEET, K_MEET, PTO_KERNEL_NONE},
        {PTO_KERNEL_NONE, K_MEET, K_MEET},
        {K_MEET, PTO_KERNEL_NONE, K_MEET},
    };
    const int need[4] = {3, 2, 2, 2};
    for (int i = 0; i < 64; i++) {
        pto_args_t a;
        pto_args_init(&a);
        pto_args_scalar(&a, (uint64_t)i);
        pto_args_scalar(&a, (uint64_t)need[i % 4]);
        CHECK(!pto_task_id_is_none(pto_submit_mixed(o, &shapes[i % 4], &a)));
        /* single-core work in between competes for the same cores */
        pto_args_init(&a);
        pto_submit_aiv(o, K_EMPTY, &a);
        pto_args_init(&a);
        pto_submit_aic(o, K_EMPTY, &a);
    }
}

static void test_mixed(void)
{
    for (uint32_t cl = 1; cl <= 3; cl += 2) {
        pto_runtime_t *rt = make_rt(cl, 32);
        REQUIRE(pto_kernel_register(rt, K_MEET, k_meet, "meet") == 0);
        memset(meets, 0, sizeof(meets));
        for (int i = 0; i < 64; i++)
            atomic_store(&meets[i].cluster, -1);
        CHECK_EQ(pto_run(rt, orch_mixed, NULL), 0);
        const int masks[4] = {7, 3, 6, 5};
        for (int i = 0; i < 64; i++) {
            CHECK_EQ(atomic_load(&meets[i].timeouts), 0);
            CHECK_EQ(atomic_load(&meets[i].seen_mask), masks[i % 4]);
            CHECK_EQ(atomic_load(&meets[i].wrong_cluster), 0);
        }
        pto_runtime_destroy(rt);
    }
}

/* ---- SPMD ---------------------------------------------------------------- */

static _Atomic uint32_t block_seen[8][64];
static _Atomic int block_timeouts;

/* scalar 0: task index; scalar 1: sync (wait for all blocks). */
static void k_block(const pto_kernel_ctx_t *c)
{
    uint64_t ti = pto_kernel_scalar(c, 0);
    uint32_t b = pto_kernel_block_index(c), n = pto_kernel_block_num(c);
    atomic_fetch_add(&block_seen[ti][b], 1);
    if (!pto_kernel_scalar(c, 1) || b >= n)
        return;
    /* sync start: every block must be running now */
    uint64_t t0 = now_ns();
    for (;;) {
        uint32_t all = 0;
        for (uint32_t k = 0; k < n; k++)
            all += atomic_load(&block_seen[ti][k]) > 0;
        if (all == n)
            return;
        if (now_ns() - t0 > 2000000000u) {
            atomic_fetch_add(&block_timeouts, 1);
            return;
        }
        sched_yield();
    }
}

static void submit_spmd(pto_orch_t *o, uint64_t ti, uint32_t blocks,
                        uint32_t flags, bool aic)
{
    pto_args_t a;
    pto_args_init(&a);
    pto_args_scalar(&a, ti);
    pto_args_scalar(&a, flags ? 1 : 0);
    pto_args_spmd(&a, blocks, flags);
    pto_task_id_t id = aic ? pto_submit_aic(o, K_BLOCK, &a)
                           : pto_submit_aiv(o, K_BLOCK, &a);
    CHECK(!pto_task_id_is_none(id));
}

static void orch_spmd(pto_orch_t *o, void *u)
{
    (void)u;
    submit_spmd(o, 0, 64, 0, false);
    submit_spmd(o, 1, 7, 0, true);
    submit_spmd(o, 2, 4, PTO_SPMD_SYNC_START, false); /* 2 clusters: 4 AIV */
    submit_spmd(o, 3, 2, PTO_SPMD_SYNC_START, true);
    submit_spmd(o, 4, 1, PTO_SPMD_SYNC_START, true);
}

static void orch_spmd_too_wide(pto_orch_t *o, void *u)
{
    (void)u;
    pto_args_t a;
    pto_args_init(&a);
    pto_args_scalar(&a, 5);
    pto_args_scalar(&a, 1);
    pto_args_spmd(&a, 5, PTO_SPMD_SYNC_START);
    CHECK(pto_task_id_is_none(pto_submit_aiv(o, K_BLOCK, &a)));
}

static void test_spmd(void)
{
    pto_runtime_t *rt = make_rt(2, 32);
    REQUIRE(pto_kernel_register(rt, K_BLOCK, k_block, "block") == 0);
    for (int rep = 0; rep < 5; rep++) {
        memset(block_seen, 0, sizeof(block_seen));
        atomic_store(&block_timeouts, 0);
        CHECK_EQ(pto_run(rt, orch_spmd, NULL), 0);
        const uint32_t n[5] = {64, 7, 4, 2, 1};
        for (int t = 0; t < 5; t++)
            for (uint32_t b = 0; b < 64; b++)
                CHECK_EQ(atomic_load(&block_seen[t][b]), b < n[t] ? 1 : 0);
        CHECK_EQ(atomic_load(&block_timeouts), 0);
    }
    CHECK_EQ(pto_run(rt, orch_spmd_too_wide, NULL), PTO_ESYNCSTART);
    CHECK(strstr(pto_last_error(rt), "4 cores") != NULL);
    pto_runtime_destroy(rt);
}

/* ---- kernel failure ------------------------------------------------------ */

static _Atomic int ran[16];

static void k_count(const pto_kernel_ctx_t *c)
{
    atomic_fetch_add(&ran[pto_kernel_scalar(c, 0)], 1);
}

static void k_fail(const pto_kernel_ctx_t *c)
{
    atomic_fetch_add(&ran[pto_kernel_scalar(c, 0)], 1);
    pto_kernel_fail(c, "bad input 42");
}

static uint32_t cell[4];

static void orch_fail(pto_orch_t *o, void *u)
{
    (void)u;
    uint32_t s1[1] = {1};
    pto_tensor_t t = pto_tensor_external(cell, s1, 1, PTO_UINT32);
    pto_args_t a;
    pto_args_init(&a);
    pto_args_output_existing(&a, &t);
    pto_args_scalar(&a, 0);
    pto_task_id_t f = pto_submit_aiv(o, K_FAIL, &a);
    pto_args_init(&a); /* direct dependent through the tensor */
    pto_args_input(&a, &t);
    pto_args_scalar(&a, 1);
    pto_task_id_t d1 = pto_submit_aiv(o, K_COUNT, &a);
    pto_args_init(&a); /* indirect dependent through an explicit dep */
    pto_args_dep(&a, d1);
    pto_args_scalar(&a, 2);
    pto_submit_aic(o, K_COUNT, &a);
    (void)f;
}

static void orch_count(pto_orch_t *o, void *u)
{
    (void)u;
    pto_args_t a;
    pto_args_init(&a);
    pto_args_scalar(&a, 3);
    pto_submit_aiv(o, K_COUNT, &a);
}

static void test_kernel_fail(void)
{
    pto_runtime_t *rt = make_rt(2, 16);
    REQUIRE(pto_kernel_register(rt, K_FAIL, k_fail, "failing") == 0);
    REQUIRE(pto_kernel_register(rt, K_COUNT, k_count, "count") == 0);
    for (int rep = 0; rep < 3; rep++) {
        memset(ran, 0, sizeof(ran));
        CHECK_EQ(pto_run(rt, orch_fail, NULL), PTO_EKERNELFAIL);
        const char *m = pto_last_error(rt);
        CHECK(strstr(m, "failing") != NULL);
        CHECK(strstr(m, "bad input 42") != NULL);
        CHECK_EQ(atomic_load(&ran[0]), 1);
        CHECK_EQ(atomic_load(&ran[1]), 0);
        CHECK_EQ(atomic_load(&ran[2]), 0);
        /* the runtime is usable for the next run */
        CHECK_EQ(pto_run(rt, orch_count, NULL), 0);
        CHECK_EQ(atomic_load(&ran[3]), 1);
    }
    pto_runtime_destroy(rt);
}

/* ---- deferred completion ------------------------------------------------- */

static pto_completion_t pending[4];
static _Atomic int npending;
static _Atomic int after_ran;
static _Atomic uint64_t deferred_id; /* the deferring task, from orch */
static _Atomic int deferred_id_set;

static void k_defer(const pto_kernel_ctx_t *c)
{
    pto_completion_t h = pto_kernel_defer(c);
    pto_completion_t h2 = pto_kernel_defer(c); /* at most once */
    CHECK(h.rt != NULL);
    CHECK_EQ(pto_task_complete(h2), PTO_ECOMPLETION);
    pending[0] = h;
    atomic_store(&npending, 1); /* seq_cst: publishes pending[0] */
}

static void k_after(const pto_kernel_ctx_t *c)
{
    (void)c;
    atomic_store(&after_ran, 1);
}

static void *completer(void *arg)
{
    (void)arg;
    while (atomic_load(&npending) < 1 || !atomic_load(&deferred_id_set))
        sched_yield();
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
    /* The dependent must not have run while the producer is pending. */
    CHECK_EQ(atomic_load(&after_ran), 0);
    /* A watchdog can name the pending task while the run waits. */
    pto_pending_t pe[2];
    CHECK_EQ(pto_deferred_pending(pending[0].rt, pe, 2), 1);
    CHECK_EQ(pe[0].task, atomic_load(&deferred_id));
    CHECK_EQ(pe[0].kernel_id, K_DEFER);
    CHECK_EQ(pe[0].block, 0);
    CHECK_EQ(pto_deferred_pending(pending[0].rt, NULL, 0), 1);
    CHECK_EQ(pto_task_complete(pending[0]), 0);
    CHECK_EQ(pto_deferred_pending(pending[0].rt, pe, 2), 0);
    CHECK_EQ(pto_deferred_pending(NULL, pe, 2), 0);
    CHECK_EQ(pto_task_complete(pending[0]), PTO_ECOMPLETION);
    pto_completion_t bogus = pending[0];
    bogus.index = 99999;
    CHECK_EQ(pto_task_complete(bogus), PTO_ECOMPLETION);
    return NULL;
}

static void orch_defer(pto_orch_t *o, void *u)
{
    (void)u;
    pto_args_t a;
    pto_args_init(&a);
    pto_task_id_t p = pto_submit_aiv(o, K_DEFER, &a);
    atomic_store(&deferred_id, p);
    atomic_store(&deferred_id_set, 1);
    pto_args_init(&a);
    pto_args_dep(&a, p);
    pto_submit_aic(o, K_ADD, &a);
}

static void test_defer(void)
{
    pto_runtime_t *rt = make_rt(1, 16);
    REQUIRE(pto_kernel_register(rt, K_DEFER, k_defer, "defer") == 0);
    REQUIRE(pto_kernel_register(rt, K_ADD, k_after, "after") == 0);
    atomic_store(&npending, 0);
    atomic_store(&after_ran, 0);
    atomic_store(&deferred_id_set, 0);
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, completer, NULL) == 0);
    CHECK_EQ(pto_run(rt, orch_defer, NULL), 0);
    pthread_join(th, NULL);
    CHECK_EQ(atomic_load(&after_ran), 1);
    pto_runtime_destroy(rt);
}


/* ---- dependents and failures of SPMD and deferred tasks ------------------ */

#define STRIPE_N 64u
static uint32_t stripe_buf[STRIPE_N];
static _Atomic uint64_t stripe_sum;
static _Atomic int sum_ran;

/* Block b of n writes elements i with i % n == b: value i + 1 + scalar 0. */
static void write_stripe(const pto_kernel_ctx_t *c, uint32_t *p)
{
    uint32_t b = pto_kernel_block_index(c), n = pto_kernel_block_num(c);
    uint32_t add = (uint32_t)pto_kernel_scalar(c, 0);
    for (uint32_t i = b; i < STRIPE_N; i += n) {
        if ((i / n) % 3 == 0)
            sched_yield(); /* let other blocks interleave */
        p[i] = i + 1 + add;
    }
}

static void k_stripe(const pto_kernel_ctx_t *c)
{
    if (pto_kernel_subtask(c) == PTO_SUBTASK_AIC ||
        pto_kernel_scalar(c, 1) == 0) /* mixed: the AIC part writes */
        write_stripe(c, pto_tensor_data(pto_kernel_tensor(c, 0)));
}

static void k_sum(const pto_kernel_ctx_t *c)
{
    const uint32_t *p = pto_tensor_data(pto_kernel_tensor(c, 0));
    uint64_t s = 0;
    for (uint32_t i = 0; i < STRIPE_N; i++)
        s += p[i];
    atomic_store(&stripe_sum, s);
    atomic_fetch_add(&sum_ran, 1);
}

static pto_tensor_t stripe_tensor(void)
{
    uint32_t n[1] = {STRIPE_N};
    return pto_tensor_external(stripe_buf, n, 1, PTO_UINT32);
}

/* Sum of i + 1 + add over the buffer. */
static uint64_t stripe_expect(uint32_t add)
{
    return (uint64_t)STRIPE_N * (STRIPE_N + 1) / 2 + (uint64_t)STRIPE_N * add;
}

/* An SPMD writer and an AUTO dependent (inferred through the tensor);
 * then a mixed SPMD writer (whole clusters per block) and a dependent
 * that passes the tensor as NO_DEP and is ordered by an explicit dep. */
static void orch_spmd_dep(pto_orch_t *o, void *u)
{
    uint32_t round = *(uint32_t *)u;
    pto_tensor_t t = stripe_tensor();
    pto_args_t a;
    pto_args_init(&a);
    pto_args_output_existing(&a, &t);
    pto_args_scalar(&a, round);
    pto_args_scalar(&a, 0);
    pto_args_spmd(&a, 7, round & 1 ? PTO_SPMD_SYNC_START : 0);
    CHECK(!pto_task_id_is_none(pto_submit_aiv(o, K_STRIPE, &a)));
    pto_args_init(&a);
    pto_args_input(&a, &t);
    CHECK(!pto_task_id_is_none(pto_submit_aic(o, K_SUM, &a)));
    uint32_t got = 0, idx[1] = {STRIPE_N - 1};
    CHECK_EQ(pto_tensor_get(o, &t, idx, &got), 0);
    CHECK_EQ(got, STRIPE_N + round);
    const pto_mixed_kernels_t mk = {K_STRIPE, K_STRIPE, PTO_KERNEL_NONE};
    pto_args_init(&a); /* tracked: ordered after the sum that reads t */
    pto_args_output_existing(&a, &t);
    pto_args_scalar(&a, round + 100);
    pto_args_scalar(&a, 1);
    pto_args_spmd(&a, 3, 0);
    pto_task_id_t w = pto_submit_mixed(o, &mk, &a);
    CHECK(!pto_task_id_is_none(w));
    pto_args_init(&a);
    pto_args_no_dep(&a, &t);
    pto_args_dep(&a, w);
    CHECK(!pto_task_id_is_none(pto_submit_aiv(o, K_SUM, &a)));
}

static void test_spmd_dependents(void)
{
    pto_runtime_t *rt = make_rt(4, 64);
    REQUIRE(pto_kernel_register(rt, K_STRIPE, k_stripe, "stripe") == 0);
    REQUIRE(pto_kernel_register(rt, K_SUM, k_sum, "sum") == 0);
    for (uint32_t round = 0; round < 20; round++) {
        memset(stripe_buf, 0, sizeof(stripe_buf));
        atomic_store(&sum_ran, 0);
        CHECK_EQ(pto_run(rt, orch_spmd_dep, &round), 0);
        CHECK_EQ(atomic_load(&sum_ran), 2);
        /* The last dependent ran after every block of the mixed writer. */
        CHECK_EQ(atomic_load(&stripe_sum), stripe_expect(round + 100));
    }
    pto_runtime_destroy(rt);
}

/* Block 3 of 6 fails: the run reports it, the dependent does not run. */
static void k_stripe_fail(const pto_kernel_ctx_t *c)
{
    if (pto_kernel_block_index(c) == 3)
        pto_kernel_fail(c, "block three is bad");
    else
        write_stripe(c, pto_tensor_data(pto_kernel_tensor(c, 0)));
}

static void orch_spmd_fail(pto_orch_t *o, void *u)
{
    (void)u;
    pto_tensor_t t = stripe_tensor();
    pto_args_t a;
    pto_args_init(&a);
    pto_args_output_existing(&a, &t);
    pto_args_scalar(&a, 0);
    pto_args_spmd(&a, 6, 0);
    pto_submit_aiv(o, K_STRIPE_FAIL, &a);
    pto_args_init(&a);
    pto_args_input(&a, &t);
    pto_submit_aiv(o, K_SUM, &a);
}

static void test_spmd_fail(void)
{
    pto_runtime_t *rt = make_rt(2, 16);
    REQUIRE(pto_kernel_register(rt, K_STRIPE_FAIL, k_stripe_fail,
                                "stripe_fail") == 0);
    REQUIRE(pto_kernel_register(rt, K_SUM, k_sum, "sum") == 0);
    REQUIRE(pto_kernel_register(rt, K_STRIPE, k_stripe, "stripe") == 0);
    for (int rep = 0; rep < 3; rep++) {
        atomic_store(&sum_ran, 0);
        CHECK_EQ(pto_run(rt, orch_spmd_fail, NULL), PTO_EKERNELFAIL);
        CHECK(strstr(pto_last_error(rt), "stripe_fail") != NULL);
        CHECK(strstr(pto_last_error(rt), "block 3") != NULL);
        CHECK(strstr(pto_last_error(rt), "block three is bad") != NULL);
        CHECK_EQ(atomic_load(&sum_ran), 0);
        /* reusable */
        uint32_t round = 0;
        CHECK_EQ(pto_run(rt, orch_spmd_dep, &round), 0);
        CHECK_EQ(atomic_load(&sum_ran), 2);
    }
    pto_runtime_destroy(rt);
}

/* Deferred SPMD: each block defers; a helper thread writes the block's
 * stripe, then completes it. The dependent must see every stripe. */
typedef struct defer_job {
    pto_completion_t h;
    uint32_t block, blocks, add;
    _Atomic int ready; /* seq_cst store publishes the fields above */
} defer_job_t;

#define MAX_JOBS 16
static defer_job_t jobs[MAX_JOBS];
static _Atomic uint32_t jobs_taken;
static _Atomic int helper_stop;

static void k_defer_stripe(const pto_kernel_ctx_t *c)
{
    uint32_t i = atomic_fetch_add(&jobs_taken, 1);
    REQUIRE(i < MAX_JOBS);
    jobs[i].h = pto_kernel_defer(c);
    jobs[i].block = pto_kernel_block_index(c);
    jobs[i].blocks = pto_kernel_block_num(c);
    jobs[i].add = (uint32_t)pto_kernel_scalar(c, 0);
    atomic_store(&jobs[i].ready, 1);
}

/* Defers and fails: the task still completes when signalled. */
static void k_defer_fail(const pto_kernel_ctx_t *c)
{
    k_defer_stripe(c);
    pto_kernel_fail(c, "deferred work rejected");
}

/* Finish posted jobs in slot order until told to stop (after pto_run
 * returned, so every deferral it waited for was finished here). */
static void *stripe_helper(void *arg)
{
    uint32_t *done = arg;
    while (!atomic_load(&helper_stop)) {
        if (*done >= MAX_JOBS || !atomic_load(&jobs[*done].ready)) {
            sched_yield();
            continue;
        }
        defer_job_t *j = &jobs[(*done)++];
        for (uint32_t i = j->block; i < STRIPE_N; i += j->blocks)
            stripe_buf[i] = i + 1 + j->add;
        CHECK_EQ(atomic_load(&sum_ran), 0); /* nothing ran early */
        CHECK_EQ(pto_task_complete(j->h), 0);
    }
    return NULL;
}

static void orch_defer_stripe(pto_orch_t *o, void *u)
{
    uint32_t kernel = *(uint32_t *)u;
    pto_tensor_t t = stripe_tensor();
    pto_args_t a;
    pto_args_init(&a);
    pto_args_output_existing(&a, &t);
    pto_args_scalar(&a, 5);
    pto_args_spmd(&a, 4, 0);
    pto_submit_aiv(o, kernel, &a);
    pto_args_init(&a);
    pto_args_input(&a, &t);
    pto_submit_aic(o, K_SUM, &a);
}

/* One run with a helper; returns the jobs it finished. */
static uint32_t run_deferred(pto_runtime_t *rt, uint32_t kernel, int want)
{
    memset(stripe_buf, 0, sizeof(stripe_buf));
    for (uint32_t i = 0; i < MAX_JOBS; i++)
        atomic_store(&jobs[i].ready, 0);
    atomic_store(&jobs_taken, 0);
    atomic_store(&helper_stop, 0);
    atomic_store(&sum_ran, 0);
    uint32_t done = 0;
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, stripe_helper, &done) == 0);
    CHECK_EQ(pto_run(rt, orch_defer_stripe, &kernel), want);
    atomic_store(&helper_stop, 1);
    pthread_join(th, NULL);
    CHECK_EQ(done, atomic_load(&jobs_taken)); /* every deferral finished */
    return done;
}

static void test_defer_dependents(void)
{
    pto_runtime_t *rt = make_rt(2, 16);
    REQUIRE(pto_kernel_register(rt, K_DEFER_STRIPE, k_defer_stripe,
                                "defer_stripe") == 0);
    REQUIRE(pto_kernel_register(rt, K_DEFER_FAIL, k_defer_fail,
                                "defer_fail") == 0);
    REQUIRE(pto_kernel_register(rt, K_SUM, k_sum, "sum") == 0);
    for (int rep = 0; rep < 5; rep++) {
        CHECK_EQ(run_deferred(rt, K_DEFER_STRIPE, 0), 4);
        CHECK_EQ(atomic_load(&sum_ran), 1);
        CHECK_EQ(atomic_load(&stripe_sum), stripe_expect(5));
        /* A deferral that fails: blocks that started after the failure
         * are skipped, the ones that deferred are still finished by the
         * helper, the run reports the failure, the dependent is skipped. */
        uint32_t n = run_deferred(rt, K_DEFER_FAIL, PTO_EKERNELFAIL);
        CHECK(n >= 1 && n <= 4);
        CHECK(strstr(pto_last_error(rt), "deferred work rejected") != NULL);
        CHECK_EQ(atomic_load(&sum_ran), 0);
    }
    pto_runtime_destroy(rt);
}

/* ---- alloc_tensors and zero-output chains -------------------------------- */

static void k_inc(const pto_kernel_ctx_t *c)
{
    uint32_t *p = pto_tensor_data(pto_kernel_tensor(c, 0));
    p[0] += 1;
}

static uint32_t alloc_result;

static void orch_alloc(pto_orch_t *o, void *u)
{
    (void)u;
    uint32_t s1[1] = {1};
    pto_create_info_t ci = pto_create_info(s1, 1, PTO_UINT32);
    pto_args_t a;
    pto_args_init(&a);
    pto_args_output(&a, &ci);
    pto_task_id_t alloc = pto_alloc_tensors(o, &a);
    CHECK(!pto_task_id_is_none(alloc));
    pto_tensor_t t = *pto_args_result(&a, 0);
    uint32_t zero = 0, idx[1] = {0};
    CHECK_EQ(pto_tensor_set(o, &t, idx, &zero), 0);
    pto_task_id_t prev = alloc;
    for (int i = 0; i < 100; i++) {
        pto_args_init(&a);
        pto_args_inout(&a, &t);
        pto_args_dep(&a, prev);
        prev = pto_submit_aiv(o, K_ADD + 1, &a);
        CHECK(!pto_task_id_is_none(prev)); /* zero outputs, still an id */
    }
    CHECK_EQ(pto_tensor_get(o, &t, idx, &alloc_result), 0);
    uint32_t bad[1] = {1};
    CHECK_EQ(pto_tensor_get(o, &t, bad, &alloc_result), PTO_EBOUNDS);
    /* an alloc with no outputs is an error */
    pto_args_init(&a);
    CHECK(pto_task_id_is_none(pto_alloc_tensors(o, &a)));
}

static void test_alloc(void)
{
    /* The allocation is held by the outer scope and pins ring 0, so the
     * 100 updaters need a window that holds them all. */
    pto_runtime_t *rt = make_rt(2, 128);
    REQUIRE(pto_kernel_register(rt, K_ADD + 1, k_inc, "inc") == 0);
    CHECK_EQ(pto_run(rt, orch_alloc, NULL), PTO_EBOUNDS);
    CHECK_EQ(alloc_result, 100);
    pto_runtime_destroy(rt);
}

/* ---- many clusters on few CPUs ------------------------------------------ */

static void orch_many(pto_orch_t *o, void *u)
{
    long n = *(long *)u;
    for (long i = 0; i < n; i++) {
        pto_args_t a;
        pto_args_init(&a);
        if (i & 1)
            pto_submit_aic(o, K_EMPTY, &a);
        else
            pto_submit_aiv(o, K_EMPTY, &a);
    }
}

static void test_many_clusters(void)
{
    pto_runtime_t *rt = make_rt(24, 64);
    long n = 20000;
    CHECK_EQ(pto_run(rt, orch_many, &n), 0);
    pto_run_stats_t st;
    CHECK_EQ(pto_run_stats(rt, &st), 0);
    CHECK_EQ(st.tasks, 20000);
    pto_runtime_destroy(rt);
}

int main(void)
{
    test_zero_tasks();
    test_mixed();
    test_spmd();
    test_kernel_fail();
    test_defer();
    test_spmd_dependents();
    test_spmd_fail();
    test_defer_dependents();
    test_alloc();
    test_many_clusters();
    return check_result();
}
