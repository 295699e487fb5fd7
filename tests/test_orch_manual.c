/*
 * test_orch_manual.c - MANUAL scopes (src/orch.c): nesting rules, the
 * tracker bypass for manual-local tensors, the safe boundary in both
 * directions, lifetime after the scope, explicit-dep chains through
 * pto_alloc_tensors, tiny rings, interleaving with AUTO scopes, state reset
 * between runs and the PTO_SCOPE block form.
 *
 * Ordering is observed with a start/end log: kernels sleep briefly, so a
 * missing edge shows as an overlap and a present one as end < start.
 */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "pto/pto.h"

enum { K_LOG = 1, K_EMPTY = 2, K_INC = 3 };

static _Atomic uint64_t clock_ctr;
static uint64_t t_start[16], t_end[16];

/* A task given wait_for[slot] = k+1 waits (up to 5 s) for task k to start
 * before it ends: proves the two were not ordered, without timing. */
static int wait_for[16];
static _Atomic int started[16];
static _Atomic int wait_timeouts;

static void wait_started(int k)
{
    for (int i = 0; i < 50000 && !atomic_load(&started[k]); i++) {
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    if (!atomic_load(&started[k]))
        atomic_fetch_add(&wait_timeouts, 1);
}

static void k_log(const pto_kernel_ctx_t *c)
{
    uint64_t slot = pto_kernel_scalar(c, 0);
    t_start[slot] = atomic_fetch_add(&clock_ctr, 1);
    atomic_store(&started[slot], 1);
    if (wait_for[slot])
        wait_started(wait_for[slot] - 1);
    struct timespec ts = {0, (long)pto_kernel_scalar(c, 1) * 1000};
    nanosleep(&ts, NULL);
    t_end[slot] = atomic_fetch_add(&clock_ctr, 1);
}

static void k_empty(const pto_kernel_ctx_t *c)
{
    (void)c;
}

static void k_inc(const pto_kernel_ctx_t *c)
{
    uint64_t *p = pto_tensor_data(pto_kernel_tensor(c, 0));
    p[0] += 1;
}

static pto_runtime_t *make_rt(uint32_t window, uint64_t heap)
{
    pto_config_t cfg;
    pto_config_init(&cfg);
    cfg.clusters = 2;
    cfg.task_window = window;
    cfg.heap_bytes = heap;
    cfg.spin_us = 20;
    pto_runtime_t *rt;
    REQUIRE(pto_runtime_create(&cfg, &rt) == 0);
    REQUIRE(pto_kernel_register(rt, K_LOG, k_log, "log") == 0);
    REQUIRE(pto_kernel_register(rt, K_EMPTY, k_empty, "empty") == 0);
    REQUIRE(pto_kernel_register(rt, K_INC, k_inc, "inc") == 0);
    return rt;
}

static void reset_log(void)
{
    atomic_store(&clock_ctr, 1);
    atomic_store(&wait_timeouts, 0);
    memset(wait_for, 0, sizeof(wait_for));
    for (int i = 0; i < 16; i++)
        atomic_store(&started[i], 0);
    memset(t_start, 0, sizeof(t_start));
    memset(t_end, 0, sizeof(t_end));
}

static pto_task_id_t log_task(pto_orch_t *o, int slot, long us,
                              const pto_tensor_t *in, const pto_tensor_t *out,
                              pto_task_id_t dep)
{
    pto_args_t a;
    pto_args_init(&a);
    if (in)
        pto_args_input(&a, in);
    if (out)
        pto_args_output_existing(&a, out);
    pto_args_scalar(&a, (uint64_t)slot);
    pto_args_scalar(&a, (uint64_t)us);
    pto_args_dep(&a, dep);
    return pto_submit_aiv(o, K_LOG, &a);
}

/* ---- nesting rules -------------------------------------------------- */

typedef struct nest {
    int rc_inner, rc_auto, status;
} nest_t;

static void orch_nesting(pto_orch_t *o, void *u)
{
    nest_t *n = u;
    CHECK_EQ(pto_scope_begin(o, PTO_SCOPE_MANUAL), 0);
    n->rc_inner = pto_scope_begin(o, PTO_SCOPE_MANUAL); /* allowed */
    n->rc_auto = pto_scope_begin(o, PTO_SCOPE_AUTO);    /* rejected */
    n->status = pto_orch_status(o);
}

static void orch_auto_then_manual(pto_orch_t *o, void *u)
{
    (void)u;
    /* MANUAL inside AUTO inside the outer scope, twice, then AUTO again. */
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(pto_scope_begin(o, PTO_SCOPE_AUTO), 0);
        CHECK_EQ(pto_scope_begin(o, PTO_SCOPE_MANUAL), 0);
        CHECK_EQ(pto_scope_end(o), 0);
        CHECK_EQ(pto_scope_end(o), 0);
    }
    CHECK_EQ(pto_scope_begin(o, PTO_SCOPE_AUTO), 0);
    CHECK_EQ(pto_scope_end(o), 0);
}

static void test_nesting(void)
{
    pto_runtime_t *rt = make_rt(16, 65536);
    nest_t n = {1, 1, 0};
    CHECK_EQ(pto_run(rt, orch_nesting, &n), PTO_ESCOPE);
    CHECK_EQ(n.rc_inner, 0);
    CHECK_EQ(n.rc_auto, PTO_ESCOPE);
    CHECK_EQ(n.status, PTO_ESCOPE);
    CHECK(strstr(pto_last_error(rt), "AUTO scope opened inside the MANUAL "
                                     "scope at depth 1") != NULL);
    /* manual state does not leak into the next run */
    CHECK_EQ(pto_run(rt, orch_auto_then_manual, NULL), 0);
    pto_runtime_destroy(rt);
}

/* ---- manual-local tensors bypass the tracker ------------------------ */

static void orch_bypass(pto_orch_t *o, void *u)
{
    (void)u;
    uint32_t s1[1] = {64};
    PTO_SCOPE(o, PTO_SCOPE_MANUAL)
    {
        pto_create_info_t ci = pto_create_info(s1, 1, PTO_FLOAT32);
        pto_args_t a;
        pto_args_init(&a);
        pto_args_output(&a, &ci);
        pto_task_id_t alloc = pto_alloc_tensors(o, &a);
        pto_tensor_t local = *pto_args_result(&a, 0);
        /* writer and reader of a manual-local tensor, no explicit dep:
         * nothing orders them (that is the contract that buys speed) */
        log_task(o, 0, 30000, NULL, &local, alloc);
        log_task(o, 1, 1000, &local, NULL, alloc);
        /* with an explicit dep they are ordered */
        pto_task_id_t w = log_task(o, 2, 5000, NULL, &local, alloc);
        log_task(o, 3, 1000, &local, NULL, w);
    }
}

static void test_bypass(void)
{
    pto_runtime_t *rt = make_rt(16, 65536);
    reset_log();
    wait_for[0] = 1 + 1; /* 0 waits for 1 to start: no implicit edge */
    CHECK_EQ(pto_run(rt, orch_bypass, NULL), 0);
    CHECK_EQ(atomic_load(&wait_timeouts), 0);
    CHECK(t_start[1] < t_end[0]);
    CHECK(t_end[2] < t_start[3]);
    pto_runtime_destroy(rt);
}

/* ---- the boundary, both directions ---------------------------------- */

static float ext[64];

static void orch_boundary(pto_orch_t *o, void *u)
{
    (void)u;
    uint32_t s1[1] = {64};
    pto_tensor_t t = pto_tensor_external(ext, s1, 1, PTO_FLOAT32);
    log_task(o, 0, 10000, NULL, &t, PTO_TASK_ID_NONE); /* AUTO write */
    PTO_SCOPE(o, PTO_SCOPE_MANUAL)
    {
        /* pre-existing tensor read inside: ordered after 0, no dep given */
        log_task(o, 1, 1000, &t, NULL, PTO_TASK_ID_NONE);
        /* manual write of a pre-existing tensor: WAR after 1 */
        log_task(o, 2, 10000, NULL, &t, PTO_TASK_ID_NONE);
    }
    /* after the scope: AUTO reader ordered after the manual writer */
    log_task(o, 3, 1000, &t, NULL, PTO_TASK_ID_NONE);
}

static void test_boundary(void)
{
    pto_runtime_t *rt = make_rt(16, 65536);
    for (int rep = 0; rep < 3; rep++) {
        reset_log();
        CHECK_EQ(pto_run(rt, orch_boundary, NULL), 0);
        CHECK(t_end[0] < t_start[1]);
        CHECK(t_end[1] < t_start[2]);
        CHECK(t_end[2] < t_start[3]);
    }
    pto_runtime_destroy(rt);
}

/* ---- lifetime after the scope -------------------------------------- */

static void orch_escape(pto_orch_t *o, void *u)
{
    pto_tensor_t *keep = u;
    uint32_t s1[1] = {4};
    PTO_SCOPE(o, PTO_SCOPE_MANUAL)
    {
        pto_create_info_t ci = pto_create_info(s1, 1, PTO_FLOAT32);
        pto_args_t a;
        pto_args_init(&a);
        pto_args_output(&a, &ci);
        CHECK(!pto_task_id_is_none(pto_submit_aic(o, K_EMPTY, &a)));
        *keep = *pto_args_result(&a, 0);
    }
    pto_args_t b;
    pto_args_init(&b);
    pto_args_input(&b, keep);
    CHECK(pto_task_id_is_none(pto_submit_aiv(o, K_EMPTY, &b)));
}

static void test_escape(void)
{
    pto_runtime_t *rt = make_rt(16, 65536);
    pto_tensor_t keep;
    CHECK_EQ(pto_run(rt, orch_escape, &keep), PTO_ELIFETIME);
    CHECK(strstr(pto_last_error(rt), "ended") != NULL);
    pto_runtime_destroy(rt);
}

/* ---- alloc + zero-output updater chains, tiny rings, interleaving ---- */

typedef struct chain_ctx {
    int groups;
    uint64_t results[64];
} chain_ctx_t;

static void manual_chain(pto_orch_t *o, chain_ctx_t *cc, int g)
{
    uint32_t s1[1] = {1};
    uint32_t one[1] = {1};
    uint64_t zero = 0;
    pto_create_info_t ci = pto_create_info(s1, 1, PTO_UINT64);
    pto_args_t a;
    pto_args_init(&a);
    pto_args_output(&a, &ci);
    pto_task_id_t prev = pto_alloc_tensors(o, &a);
    pto_tensor_t acc = *pto_args_result(&a, 0);
    uint32_t idx[1] = {0};
    CHECK_EQ(pto_tensor_set(o, &acc, idx, &zero), 0);
    pto_task_id_t ids[2];
    for (int j = 0; j < 8; j++) {
        pto_args_init(&a);
        pto_args_inout(&a, &acc);
        ids[0] = prev;
        ids[1] = prev; /* duplicates are harmless */
        pto_args_deps(&a, ids, 2);
        prev = pto_submit_aiv(o, K_INC, &a);
        CHECK(!pto_task_id_is_none(prev));
    }
    (void)one;
    CHECK_EQ(pto_tensor_get(o, &acc, idx, &cc->results[g % 64]), 0);
}

static void orch_chains(pto_orch_t *o, void *u)
{
    chain_ctx_t *cc = u;
    for (int g = 0; g < cc->groups; g++) {
        if (g % 3 == 0) {
            PTO_SCOPE(o, PTO_SCOPE_AUTO)
            {
                pto_args_t a;
                pto_args_init(&a);
                pto_submit_aic(o, K_EMPTY, &a);
            }
        }
        PTO_SCOPE(o, PTO_SCOPE_MANUAL)
        {
            PTO_SCOPE(o, PTO_SCOPE_MANUAL) { manual_chain(o, cc, g); }
        }
    }
}

static void test_chains_tiny_rings(void)
{
    const uint32_t windows[3] = {16, 32, 64};
    for (int w = 0; w < 3; w++) {
        pto_runtime_t *rt = make_rt(windows[w], 4096);
        chain_ctx_t cc;
        memset(&cc, 0, sizeof(cc));
        cc.groups = 2000;
        for (int run = 0; run < 2; run++) {
            CHECK_EQ(pto_run(rt, orch_chains, &cc), 0);
            for (int g = 0; g < 64; g++)
                CHECK_EQ(cc.results[g], 8);
        }
        pto_runtime_destroy(rt);
    }
}

/* ---- the block form: break ends the scope, return leaves it open ---- */

static void orch_break(pto_orch_t *o, void *u)
{
    (void)u;
    PTO_SCOPE(o, PTO_SCOPE_MANUAL)
    {
        if (pto_orch_status(o) == 0)
            break;
        CHECK(0); /* not reached */
    }
    /* the scope was ended by break: AUTO is allowed again */
    CHECK_EQ(pto_scope_begin(o, PTO_SCOPE_AUTO), 0);
    CHECK_EQ(pto_scope_end(o), 0);
}

static void orch_return(pto_orch_t *o, void *u)
{
    (void)u;
    PTO_SCOPE(o, PTO_SCOPE_MANUAL)
    {
        return; /* skips pto_scope_end: reported by pto_run */
    }
}

static void test_block_form(void)
{
    pto_runtime_t *rt = make_rt(16, 65536);
    CHECK_EQ(pto_run(rt, orch_break, NULL), 0);
    CHECK_EQ(pto_run(rt, orch_return, NULL), PTO_ESCOPE);
    CHECK(strstr(pto_last_error(rt), "never closed") != NULL);
    CHECK_EQ(pto_run(rt, orch_break, NULL), 0);
    pto_runtime_destroy(rt);
}

/* ---- deps across rings and on outer-scope tasks ---------------------- */

static void orch_cross(pto_orch_t *o, void *u)
{
    (void)u;
    pto_task_id_t outer = log_task(o, 0, 10000, NULL, NULL, PTO_TASK_ID_NONE);
    PTO_SCOPE(o, PTO_SCOPE_MANUAL)
    {
        pto_task_id_t mid = log_task(o, 1, 1000, NULL, NULL, outer);
        PTO_SCOPE(o, PTO_SCOPE_MANUAL)
        {
            log_task(o, 2, 1000, NULL, NULL, mid);
        }
    }
}

static void test_cross_ring_deps(void)
{
    pto_runtime_t *rt = make_rt(16, 65536);
    reset_log();
    CHECK_EQ(pto_run(rt, orch_cross, NULL), 0);
    CHECK(t_end[0] < t_start[1]);
    CHECK(t_end[1] < t_start[2]);
    pto_runtime_destroy(rt);
}

int main(void)
{
    test_nesting();
    test_bypass();
    test_boundary();
    test_escape();
    test_chains_tiny_rings();
    test_block_form();
    test_cross_ring_deps();
    return check_result();
}
