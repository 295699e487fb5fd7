/*
 * test_orch.c - the submit path end to end (src/orch.c): ordering of every
 * hazard, sequential semantics on random programs, scopes and lifetimes,
 * explicit deps, back-pressure with tiny windows, deadlock detection,
 * element access (get waits for writers, set for readers and writers,
 * runtime-created and manual-local tensors, a nearly full window).
 *
 * The ordering tests log when each kernel starts and ends on one global
 * counter, so "B after A" is checked as end(A) < start(B); kernels sleep a
 * little so a missing edge shows up as an overlap.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "pto/pto.h"

enum {
    K_LOG = 1,
    K_RAND = 2,
    K_EMPTY = 3,
    K_WAIT_PEER = 4,
    K_SLOW_WRITE = 5,
    K_SLOW_READ = 6,
    K_SLOW_FAIL = 7
};

static _Atomic uint64_t clock_ctr;
#define MAX_LOG 64
static uint64_t t_start[MAX_LOG], t_end[MAX_LOG];
static _Atomic int running, max_running;

static void sleep_us(long us)
{
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

/* scalar 0: log slot; scalar 1: microseconds to sleep. */
/* Concurrency is proven without timing: a task given wait_for[slot] = k+1
 * waits (up to 5 s) for task k to start before it ends. If the runtime
 * ordered k after it, k could not start and the wait times out. */
static int wait_for[MAX_LOG];
static _Atomic int started[MAX_LOG];
static _Atomic int wait_timeouts;

static void wait_started(int k)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!atomic_load(&started[k])) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (t1.tv_sec - t0.tv_sec > 5) {
            atomic_fetch_add(&wait_timeouts, 1);
            return;
        }
        sleep_us(100);
    }
}

static void k_log(const pto_kernel_ctx_t *c)
{
    uint64_t slot = pto_kernel_scalar(c, 0);
    int now = atomic_fetch_add(&running, 1) + 1;
    int m = atomic_load(&max_running);
    while (now > m && !atomic_compare_exchange_weak(&max_running, &m, now))
        ;
    t_start[slot] = atomic_fetch_add(&clock_ctr, 1);
    atomic_store(&started[slot], 1);
    if (wait_for[slot])
        wait_started(wait_for[slot] - 1);
    sleep_us((long)pto_kernel_scalar(c, 1));
    t_end[slot] = atomic_fetch_add(&clock_ctr, 1);
    atomic_fetch_sub(&running, 1);
}

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
    REQUIRE(pto_kernel_register(rt, K_LOG, k_log, "log") == 0);
    REQUIRE(pto_kernel_register(rt, K_EMPTY, k_empty, "empty") == 0);
    return rt;
}

static void reset_log(void)
{
    atomic_store(&clock_ctr, 0);
    atomic_store(&max_running, 0);
    atomic_store(&wait_timeouts, 0);
    memset(wait_for, 0, sizeof(wait_for));
    for (int i = 0; i < MAX_LOG; i++)
        atomic_store(&started[i], 0);
    memset(t_start, 0, sizeof(t_start));
    memset(t_end, 0, sizeof(t_end));
}

static bool after(int a, int b) /* b ran after a finished */
{
    return t_end[a] < t_start[b];
}

/* ---- hazards on external tiles -------------------------------------- */

static float buf[64][64];

static pto_tensor_t tile(uint32_t r, uint32_t c, uint32_t h, uint32_t w)
{
    uint32_t shape[2] = {64, 64}, off[2] = {r, c}, sh[2] = {h, w};
    pto_tensor_t t = pto_tensor_external(buf, shape, 2, PTO_FLOAT32), v;
    REQUIRE(pto_tensor_view(&t, off, sh, &v) == 0);
    return v;
}

typedef struct access {
    uint8_t tag;
    uint32_t r, c, h, w;
} access_t;

static pto_task_id_t submit_log(pto_orch_t *o, int slot, long us,
                                const access_t *acc, int n)
{
    pto_args_t a;
    pto_args_init(&a);
    for (int i = 0; i < n; i++) {
        pto_tensor_t v = tile(acc[i].r, acc[i].c, acc[i].h, acc[i].w);
        if (acc[i].tag == PTO_ARG_INPUT)
            pto_args_input(&a, &v);
        else if (acc[i].tag == PTO_ARG_INOUT)
            pto_args_inout(&a, &v);
        else if (acc[i].tag == PTO_ARG_OUTPUT_EXISTING)
            pto_args_output_existing(&a, &v);
        else
            pto_args_no_dep(&a, &v);
    }
    pto_args_scalar(&a, (uint64_t)slot);
    pto_args_scalar(&a, (uint64_t)us);
    return pto_submit_aiv(o, K_LOG, &a);
}

static void orch_hazards(pto_orch_t *o, void *u)
{
    (void)u;
    const access_t w0 = {PTO_ARG_OUTPUT_EXISTING, 0, 0, 16, 16};
    const access_t r0 = {PTO_ARG_INPUT, 0, 0, 16, 16};
    const access_t rpart = {PTO_ARG_INPUT, 8, 8, 16, 16};
    const access_t w_other = {PTO_ARG_OUTPUT_EXISTING, 32, 32, 16, 16};
    const access_t io0 = {PTO_ARG_INOUT, 0, 0, 16, 16};
    const access_t nodep = {PTO_ARG_NO_DEP, 0, 0, 16, 16};
    submit_log(o, 0, 3000, &w0, 1);     /* write */
    submit_log(o, 1, 2000, &r0, 1);     /* RAW on 0 */
    submit_log(o, 2, 2000, &rpart, 1);  /* RAW (partial) on 0 */
    submit_log(o, 3, 2000, &w_other, 1);/* disjoint: independent */
    submit_log(o, 4, 1000, &io0, 1);    /* WAR on 1,2; WAW on 0 */
    submit_log(o, 5, 1000, &w0, 1);     /* WAW on 4 (OUTPUT_EXISTING) */
    submit_log(o, 6, 1000, &nodep, 1);  /* untracked */
}

static void test_hazards(void)
{
    pto_runtime_t *rt = make_rt(4, 64);
    for (int rep = 0; rep < 3; rep++) {
        reset_log();
        wait_for[0] = 3 + 1; /* 0 and the disjoint 3 overlap */
        wait_for[5] = 6 + 1; /* 5 and the NO_DEP 6 overlap */
        CHECK_EQ(pto_run(rt, orch_hazards, NULL), 0);
        CHECK_EQ(atomic_load(&wait_timeouts), 0);
        CHECK(after(0, 1));
        CHECK(after(0, 2));
        CHECK(after(1, 4) && after(2, 4));
        CHECK(after(4, 5));
        /* disjoint write runs while 0 does: started before 0 ended */
        CHECK(t_start[3] < t_end[0]);
        /* NO_DEP is not ordered after the writers */
        CHECK(t_start[6] < t_end[5]);
        CHECK(atomic_load(&max_running) >= 2);
    }
    pto_runtime_destroy(rt);
}

/* ---- disjoint tiles really run concurrently ----------------------------- */

static void orch_tiles(pto_orch_t *o, void *u)
{
    (void)u;
    for (int i = 0; i < 4; i++) {
        const access_t acc = {PTO_ARG_INOUT, (uint32_t)(16 * i), 0, 16, 64};
        submit_log(o, i, 20000, &acc, 1);
    }
}

static void test_disjoint_concurrent(void)
{
    pto_runtime_t *rt = make_rt(2, 64);
    reset_log();
    wait_for[0] = 1 + 1;
    wait_for[2] = 3 + 1;
    CHECK_EQ(pto_run(rt, orch_tiles, NULL), 0);
    CHECK_EQ(atomic_load(&wait_timeouts), 0);
    CHECK(atomic_load(&max_running) >= 2);
    pto_runtime_destroy(rt);
}

/* ---- runtime-created outputs, scopes, lifetime ------------------------- */

static void k_fill(const pto_kernel_ctx_t *c)
{
    const pto_tensor_t *t = pto_kernel_tensor(c, 0);
    int32_t *p = pto_tensor_data(t);
    for (uint64_t i = 0; i < pto_tensor_numel(t); i++)
        p[i] = (int32_t)pto_kernel_scalar(c, 0);
}

static void k_copy_sum(const pto_kernel_ctx_t *c)
{
    const pto_tensor_t *in = pto_kernel_tensor(c, 0);
    const pto_tensor_t *out = pto_kernel_tensor(c, 1);
    const int32_t *s = pto_tensor_data(in);
    int32_t *d = pto_tensor_data(out);
    int64_t sum = 0;
    for (uint64_t i = 0; i < pto_tensor_numel(in); i++)
        sum += s[i];
    d[0] += (int32_t)sum;
}

static int32_t sink[4];

typedef struct lifetime_ctx {
    pto_tensor_t escaped;
    int rc_after;
} lifetime_ctx_t;

static void orch_lifetime(pto_orch_t *o, void *u)
{
    lifetime_ctx_t *lc = u;
    uint32_t s1[1] = {1}, s8[1] = {8};
    pto_tensor_t out = pto_tensor_external(sink, s1, 1, PTO_INT32);
    for (int i = 0; i < 100; i++) {
        PTO_SCOPE(o, PTO_SCOPE_AUTO)
        {
            pto_create_info_t ci = pto_create_info(s8, 1, PTO_INT32);
            pto_args_t a;
            pto_args_init(&a);
            pto_args_output(&a, &ci);
            pto_args_scalar(&a, (uint64_t)i);
            CHECK(!pto_task_id_is_none(pto_submit_aiv(o, 10, &a)));
            const pto_tensor_t *tmp = pto_args_result(&a, 0);
            REQUIRE(tmp != NULL);
            pto_args_t b;
            pto_args_init(&b);
            pto_args_input(&b, tmp);
            pto_args_inout(&b, &out);
            CHECK(!pto_task_id_is_none(pto_submit_aic(o, 11, &b)));
            lc->escaped = *tmp;
        }
    }
    /* Using a tensor of an ended scope is rejected. */
    pto_args_t c;
    pto_args_init(&c);
    pto_args_input(&c, &lc->escaped);
    pto_args_inout(&c, &out);
    CHECK(pto_task_id_is_none(pto_submit_aic(o, 11, &c)));
    lc->rc_after = pto_orch_status(o);
}

static void test_lifetime(void)
{
    pto_runtime_t *rt = make_rt(2, 8);
    REQUIRE(pto_kernel_register(rt, 10, k_fill, "fill") == 0);
    REQUIRE(pto_kernel_register(rt, 11, k_copy_sum, "copy_sum") == 0);
    lifetime_ctx_t lc;
    sink[0] = 0;
    CHECK_EQ(pto_run(rt, orch_lifetime, &lc), PTO_ELIFETIME);
    CHECK_EQ(lc.rc_after, PTO_ELIFETIME);
    CHECK(strstr(pto_last_error(rt), "ended") != NULL);
    /* 8 * sum(0..99) */
    CHECK_EQ(sink[0], 8 * 4950);
    /* Reusable after the failure. */
    sink[0] = 0;
    memset(&lc, 0, sizeof(lc));
    CHECK_EQ(pto_run(rt, orch_lifetime, &lc), PTO_ELIFETIME);
    CHECK_EQ(sink[0], 8 * 4950);
    pto_runtime_destroy(rt);
}

/* ---- explicit deps ------------------------------------------------------ */

typedef struct dep_ctx {
    int step;
    int rc[8];
} dep_ctx_t;

static void orch_deps(pto_orch_t *o, void *u)
{
    dep_ctx_t *d = u;
    pto_args_t a;
    pto_args_init(&a);
    pto_args_scalar(&a, 0);
    pto_args_scalar(&a, 3000);
    pto_task_id_t t0 = pto_submit_aiv(o, K_LOG, &a);
    pto_args_init(&a);
    pto_args_scalar(&a, 1);
    pto_args_scalar(&a, 10);
    pto_args_dep(&a, t0);
    pto_args_dep(&a, t0); /* duplicates are harmless */
    pto_args_dep(&a, pto_task_id_none());
    pto_task_id_t t1 = pto_submit_aic(o, K_LOG, &a);
    CHECK(!pto_task_id_is_none(t1));
    switch (d->step) {
    case 1: /* future id */
        pto_args_init(&a);
        pto_args_dep(&a, t1 + 5);
        break;
    case 2: /* bad ring */
        pto_args_init(&a);
        pto_args_dep(&a, ((pto_task_id_t)9 << 32) | 1);
        break;
    case 3: /* own id: the next id on ring 0 */
        pto_args_init(&a);
        pto_args_dep(&a, t1 + 1);
        break;
    default:
        return;
    }
    pto_args_scalar(&a, 2);
    pto_args_scalar(&a, 0);
    CHECK(pto_task_id_is_none(pto_submit_aiv(o, K_LOG, &a)));
    /* later submits are no-ops */
    pto_args_init(&a);
    pto_args_scalar(&a, 3);
    pto_args_scalar(&a, 0);
    CHECK(pto_task_id_is_none(pto_submit_aiv(o, K_LOG, &a)));
}

static void test_explicit_deps(void)
{
    pto_runtime_t *rt = make_rt(2, 16);
    dep_ctx_t d = {0, {0}};
    reset_log();
    CHECK_EQ(pto_run(rt, orch_deps, &d), 0);
    CHECK(after(0, 1));
    for (int step = 1; step <= 3; step++) {
        d.step = step;
        reset_log();
        CHECK_EQ(pto_run(rt, orch_deps, &d), PTO_EDEP);
        CHECK(strstr(pto_last_error(rt), "explicit dep") != NULL);
        CHECK(t_start[3] == 0 && t_end[3] == 0); /* never ran */
    }
    pto_runtime_destroy(rt);
}

/* A dep on a long-retired producer is satisfied at once. */
static void orch_retired_dep(pto_orch_t *o, void *u)
{
    (void)u;
    pto_args_t a;
    pto_args_init(&a);
    pto_task_id_t first = pto_submit_aiv(o, K_EMPTY, &a);
    for (int i = 0; i < 1000; i++) {
        pto_args_init(&a);
        pto_submit_aiv(o, K_EMPTY, &a);
    }
    pto_args_init(&a);
    pto_args_dep(&a, first);
    CHECK(!pto_task_id_is_none(pto_submit_aiv(o, K_EMPTY, &a)));
}

static void test_retired_dep(void)
{
    pto_runtime_t *rt = make_rt(1, 4);
    CHECK_EQ(pto_run(rt, orch_retired_dep, NULL), 0);
    pto_runtime_destroy(rt);
}

/* ---- back-pressure with tiny windows ------------------------------------ */

static _Atomic uint64_t chain_val;

static void k_chain(const pto_kernel_ctx_t *c)
{
    uint64_t *p = pto_tensor_data(pto_kernel_tensor(c, 0));
    uint64_t want = pto_kernel_scalar(c, 0);
    if (*p != want)
        atomic_fetch_add(&chain_val, 1); /* counts order violations */
    *p = want + 1;
}

typedef struct bp_ctx {
    uint64_t n;
    uint64_t cell;
} bp_ctx_t;

static void orch_backpressure(pto_orch_t *o, void *u)
{
    bp_ctx_t *b = u;
    uint32_t s1[1] = {1};
    pto_tensor_t cell = pto_tensor_external(&b->cell, s1, 1, PTO_UINT64);
    for (uint64_t i = 0; i < b->n; i++) {
        pto_args_t a;
        pto_args_init(&a);
        pto_args_inout(&a, &cell);
        pto_args_scalar(&a, i);
        if (pto_task_id_is_none(pto_submit_aiv(o, 12, &a)))
            return;
        if (i % 7 == 0) { /* some buffer-owning work in short scopes */
            PTO_SCOPE(o, PTO_SCOPE_AUTO)
            {
                pto_create_info_t ci = pto_create_info(s1, 1, PTO_UINT64);
                pto_args_init(&a);
                pto_args_output(&a, &ci);
                pto_submit_aic(o, K_EMPTY, &a);
            }
        }
    }
}

static void test_backpressure(void)
{
    const uint32_t windows[3] = {4, 8, 16};
    for (int w = 0; w < 3; w++) {
        pto_config_t cfg;
        pto_config_init(&cfg);
        cfg.clusters = 2;
        cfg.task_window = windows[w];
        cfg.heap_bytes = 4096;
        cfg.dep_pool_entries = 64;
        cfg.tensormap_entries = 64;
        cfg.spin_us = 20;
        pto_runtime_t *rt;
        REQUIRE(pto_runtime_create(&cfg, &rt) == 0);
        REQUIRE(pto_kernel_register(rt, 12, k_chain, "chain") == 0);
        REQUIRE(pto_kernel_register(rt, K_EMPTY, k_empty, "empty") == 0);
        bp_ctx_t b = {100000, 0};
        atomic_store(&chain_val, 0);
        CHECK_EQ(pto_run(rt, orch_backpressure, &b), 0);
        CHECK_EQ(b.cell, 100000);
        CHECK_EQ(atomic_load(&chain_val), 0);
        pto_run_stats_t st;
        CHECK_EQ(pto_run_stats(rt, &st), 0);
        CHECK(st.ring_high_water[0] <= windows[w] - 1);
        pto_runtime_destroy(rt);
    }
}

/* ---- deadlock detection ------------------------------------------------- */

static void orch_hold_all(pto_orch_t *o, void *u)
{
    (void)u;
    uint32_t s1[1] = {16};
    for (int i = 0; i < 100; i++) {
        pto_create_info_t ci = pto_create_info(s1, 1, PTO_FLOAT32);
        pto_args_t a;
        pto_args_init(&a);
        pto_args_output(&a, &ci);
        if (pto_task_id_is_none(pto_submit_aiv(o, K_EMPTY, &a)))
            return;
    }
}

static void orch_heap_hold(pto_orch_t *o, void *u)
{
    (void)u;
    uint32_t s1[1] = {1024}; /* 4 KiB each, heap of 16 KiB */
    for (int i = 0; i < 10; i++) {
        pto_create_info_t ci = pto_create_info(s1, 1, PTO_FLOAT32);
        pto_args_t a;
        pto_args_init(&a);
        pto_args_output(&a, &ci);
        if (pto_task_id_is_none(pto_submit_aiv(o, K_EMPTY, &a)))
            return;
    }
}

static void orch_too_big(pto_orch_t *o, void *u)
{
    (void)u;
    uint32_t s1[1] = {1u << 20};
    pto_create_info_t ci = pto_create_info(s1, 1, PTO_FLOAT32);
    pto_args_t a;
    pto_args_init(&a);
    pto_args_output(&a, &ci);
    CHECK(pto_task_id_is_none(pto_submit_aiv(o, K_EMPTY, &a)));
}

/* ---- element access from the orchestrator ------------------------------ */

/* Slow on purpose: an access that did not wait would see the old value
 * (get) or change it under a reader (set). */
static int32_t elem_seen[8];

/* Tensor 0 element 0 := scalar 0, after 20 ms. */
static void k_slow_write(const pto_kernel_ctx_t *c)
{
    sleep_us(20000);
    *(int32_t *)pto_tensor_data(pto_kernel_tensor(c, 0)) =
        (int32_t)pto_kernel_scalar(c, 0);
}

/* elem_seen[scalar 0] := tensor 0 element 0, read after 20 ms. */
static void k_slow_read(const pto_kernel_ctx_t *c)
{
    sleep_us(20000);
    elem_seen[pto_kernel_scalar(c, 0)] =
        *(const int32_t *)pto_tensor_data(pto_kernel_tensor(c, 0));
}

static void k_slow_fail(const pto_kernel_ctx_t *c)
{
    sleep_us(20000);
    pto_kernel_fail(c, "no value today");
}

static int32_t cellv[4];
static int get_rc;
static int32_t get_out;

/* The writer fails while the get waits for it: the get reports the
 * failure and leaves *out alone. */
static void orch_get_fails(pto_orch_t *o, void *u)
{
    (void)u;
    uint32_t n4[1] = {4}, idx[1] = {0};
    pto_tensor_t x = pto_tensor_external(cellv, n4, 1, PTO_INT32);
    pto_args_t a;
    pto_args_init(&a);
    pto_args_output_existing(&a, &x);
    CHECK(!pto_task_id_is_none(pto_submit_aiv(o, K_SLOW_FAIL, &a)));
    get_out = -1;
    get_rc = pto_tensor_get(o, &x, idx, &get_out);
}

static void slow_write(pto_orch_t *o, const pto_tensor_t *t, int32_t v,
                       bool output)
{
    pto_args_t a;
    pto_args_init(&a);
    if (output)
        pto_args_output_existing(&a, t);
    else
        pto_args_inout(&a, t);
    pto_args_scalar(&a, (uint64_t)v);
    CHECK(!pto_task_id_is_none(pto_submit_aiv(o, K_SLOW_WRITE, &a)));
}

static void slow_read(pto_orch_t *o, const pto_tensor_t *t, uint32_t slot)
{
    pto_args_t a;
    pto_args_init(&a);
    pto_args_input(&a, t);
    pto_args_scalar(&a, slot);
    CHECK(!pto_task_id_is_none(pto_submit_aic(o, K_SLOW_READ, &a)));
}

static void orch_elements(pto_orch_t *o, void *u)
{
    (void)u;
    uint32_t n4[1] = {4}, idx[1] = {0};
    int32_t v = 0;
    pto_tensor_t x = pto_tensor_external(cellv, n4, 1, PTO_INT32);
    /* get waits for the earlier writer */
    slow_write(o, &x, 7, true);
    CHECK_EQ(pto_tensor_get(o, &x, idx, &v), 0);
    CHECK_EQ(v, 7);
    /* set waits for the earlier reader, which must see 7 */
    slow_read(o, &x, 0);
    int32_t nine = 9;
    CHECK_EQ(pto_tensor_set(o, &x, idx, &nine), 0);
    /* ... and for the earlier writer, which would otherwise undo it */
    slow_write(o, &x, 8, false);
    int32_t ten = 10;
    CHECK_EQ(pto_tensor_set(o, &x, idx, &ten), 0);
    slow_read(o, &x, 1); /* a later reader sees the set */
    /* an element the writers never touch does not wait for them... */
    uint32_t idx3[1] = {3};
    CHECK_EQ(pto_tensor_get(o, &x, idx3, &v), 0);
    CHECK_EQ(v, 0);
    /* runtime-created tensors, in a scope that pins a tiny window: the
     * access waits for the writer only, never for ring space */
    PTO_SCOPE(o, PTO_SCOPE_AUTO)
    {
        pto_create_info_t ci = pto_create_info(n4, 1, PTO_INT32);
        pto_tensor_t out[6];
        for (int i = 0; i < 6; i++) {
            pto_args_t a;
            pto_args_init(&a);
            pto_args_output(&a, &ci);
            pto_args_scalar(&a, (uint64_t)(40 + i));
            CHECK(!pto_task_id_is_none(pto_submit_aiv(o, K_SLOW_WRITE, &a)));
            out[i] = *pto_args_result(&a, 0);
        }
        CHECK_EQ(pto_tensor_get(o, &out[5], idx, &v), 0);
        CHECK_EQ(v, 45);
        int32_t six = 6;
        CHECK_EQ(pto_tensor_set(o, &out[2], idx, &six), 0);
        slow_read(o, &out[2], 2);
        CHECK_EQ(pto_tensor_get(o, &out[2], idx, &v), 0);
        CHECK_EQ(v, 6);
    }
    /* manual-local tensors are untracked: the access waits for every live
     * task of the open MANUAL scopes */
    PTO_SCOPE(o, PTO_SCOPE_MANUAL)
    {
        pto_create_info_t ci = pto_create_info(n4, 1, PTO_INT32);
        pto_args_t a;
        pto_args_init(&a);
        pto_args_output(&a, &ci);
        pto_args_scalar(&a, 77);
        CHECK(!pto_task_id_is_none(pto_submit_aiv(o, K_SLOW_WRITE, &a)));
        pto_tensor_t m = *pto_args_result(&a, 0);
        CHECK_EQ(pto_tensor_get(o, &m, idx, &v), 0);
        CHECK_EQ(v, 77);
    }
}

static void test_element_access(void)
{
    /* Window 8: the scope's six output-owning tasks nearly fill ring 1. */
    pto_runtime_t *rt = make_rt(1, 8);
    REQUIRE(pto_kernel_register(rt, K_SLOW_WRITE, k_slow_write, "wr") == 0);
    REQUIRE(pto_kernel_register(rt, K_SLOW_READ, k_slow_read, "rd") == 0);
    for (int rep = 0; rep < 2; rep++) {
        memset(cellv, 0, sizeof(cellv));
        memset(elem_seen, 0, sizeof(elem_seen));
        CHECK_EQ(pto_run(rt, orch_elements, NULL), 0);
        CHECK_EQ(elem_seen[0], 7); /* the set waited for this reader */
        CHECK_EQ(elem_seen[1], 10);
        CHECK_EQ(cellv[0], 10);
        CHECK_EQ(elem_seen[2], 6);
    }
    REQUIRE(pto_kernel_register(rt, K_SLOW_FAIL, k_slow_fail, "fl") == 0);
    CHECK_EQ(pto_run(rt, orch_get_fails, NULL), PTO_EKERNELFAIL);
    CHECK_EQ(get_rc, PTO_EKERNELFAIL);
    CHECK_EQ(get_out, -1);
    CHECK(strstr(pto_last_error(rt), "no value today") != NULL);
    pto_runtime_destroy(rt);
}

static void test_deadlock(void)
{
    pto_config_t cfg;
    pto_config_init(&cfg);
    cfg.clusters = 1;
    cfg.task_window = 8;
    cfg.heap_bytes = 16384;
    pto_runtime_t *rt;
    REQUIRE(pto_runtime_create(&cfg, &rt) == 0);
    REQUIRE(pto_kernel_register(rt, K_EMPTY, k_empty, "empty") == 0);
    CHECK_EQ(pto_run(rt, orch_hold_all, NULL), PTO_EDEADLOCK);
    const char *m = pto_last_error(rt);
    CHECK(strstr(m, "task ring 0") != NULL);
    CHECK(strstr(m, "8 slots") != NULL || strstr(m, "of 8 slots") != NULL);
    CHECK(strstr(m, "inner scope") != NULL);
    CHECK_EQ(pto_run(rt, orch_heap_hold, NULL), PTO_EDEADLOCK);
    CHECK(strstr(pto_last_error(rt), "heap ring 0 (16384 bytes)") != NULL);
    CHECK_EQ(pto_run(rt, orch_too_big, NULL), PTO_ETOOBIG);
    CHECK(strstr(pto_last_error(rt), "heap_bytes") != NULL);
    /* still usable */
    CHECK_EQ(pto_run(rt, orch_retired_dep, NULL), 0);
    pto_runtime_destroy(rt);
}

/* ---- pools: node pool and tracker ---------------------------------- */

static float grid[128][16];

/* n held tasks (each owns an output) write tile i of `grid`; then one task
 * reads all of it (one producer per tile) when `reader` is set. */
static void held_tile_writers(pto_orch_t *o, int n, bool chain, bool reader)
{
    uint32_t shape[2] = {128, 16}, s1[1] = {1};
    pto_tensor_t g = pto_tensor_external(grid, shape, 2, PTO_FLOAT32);
    pto_task_id_t prev = PTO_TASK_ID_NONE;
    PTO_SCOPE(o, PTO_SCOPE_AUTO)
    {
        for (int i = 0; i < n && pto_orch_status(o) == 0; i++) {
            uint32_t off[2] = {(uint32_t)i, 0}, sh[2] = {1, 16};
            pto_tensor_t v;
            REQUIRE(pto_tensor_view(&g, off, sh, &v) == 0);
            pto_create_info_t ci = pto_create_info(s1, 1, PTO_FLOAT32);
            pto_args_t a;
            pto_args_init(&a);
            pto_args_output(&a, &ci);
            pto_args_output_existing(&a, &v);
            if (chain)
                pto_args_dep(&a, prev);
            prev = pto_submit_aiv(o, K_EMPTY, &a);
        }
        if (reader) {
            pto_args_t a;
            pto_args_init(&a);
            pto_args_input(&a, &g);
            pto_submit_aiv(o, K_EMPTY, &a);
        }
    }
}

static void orch_too_many_producers(pto_orch_t *o, void *u)
{
    (void)u;
    held_tile_writers(o, 100, false, true);
}

static void orch_map_full(pto_orch_t *o, void *u)
{
    (void)u;
    held_tile_writers(o, 100, false, false);
}

static void orch_nodes_full(pto_orch_t *o, void *u)
{
    (void)u;
    held_tile_writers(o, 100, true, false);
}

static void test_pools(void)
{
    pto_config_t cfg;
    pto_config_init(&cfg);
    cfg.clusters = 1;
    cfg.task_window = 256;
    cfg.dep_pool_entries = 64;
    cfg.tensormap_entries = 1024;
    pto_runtime_t *rt;
    REQUIRE(pto_runtime_create(&cfg, &rt) == 0);
    REQUIRE(pto_kernel_register(rt, K_EMPTY, k_empty, "empty") == 0);
    CHECK_EQ(pto_run(rt, orch_too_many_producers, NULL), PTO_ETOOBIG);
    CHECK(strstr(pto_last_error(rt), "100 producers") != NULL);
    CHECK(strstr(pto_last_error(rt), "dep_pool_entries") != NULL);
    CHECK_EQ(pto_run(rt, orch_nodes_full, NULL), PTO_EDEADLOCK);
    CHECK(strstr(pto_last_error(rt), "dependency-node pool of ring 1 (64 "
                                     "entries)") != NULL);
    pto_runtime_destroy(rt);

    cfg.dep_pool_entries = 1024;
    cfg.tensormap_entries = 64;
    REQUIRE(pto_runtime_create(&cfg, &rt) == 0);
    REQUIRE(pto_kernel_register(rt, K_EMPTY, k_empty, "empty") == 0);
    CHECK_EQ(pto_run(rt, orch_map_full, NULL), PTO_EDEADLOCK);
    CHECK(strstr(pto_last_error(rt), "dependency tracker (64 entries)") !=
          NULL);
    CHECK_EQ(pto_run(rt, orch_retired_dep, NULL), 0);
    pto_runtime_destroy(rt);
}

int main(void)
{
    test_pools();
    test_hazards();
    test_disjoint_concurrent();
    test_lifetime();
    test_explicit_deps();
    test_retired_dep();
    test_backpressure();
    test_deadlock();
    test_element_access();
    return check_result();
}
