/*
 * test_runtime.c - lifecycle and error reporting (src/runtime.c, error.c):
 * config defaults and environment overrides, every invalid config value,
 * kernel registration errors, pto_run misuse, the error table, last-error
 * messages, create/destroy cycles and reuse after failures.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pto/pto.h"

static void k_empty(const pto_kernel_ctx_t *c)
{
    (void)c;
}

static void test_defaults(void)
{
    unsetenv("PTO_CLUSTERS");
    pto_config_t cfg;
    pto_config_init(&cfg);
    CHECK_EQ(cfg.clusters, 4);
    CHECK_EQ(cfg.task_window, 1024);
    CHECK_EQ(cfg.heap_bytes, 64ull << 20);
    CHECK_EQ(cfg.tensormap_entries, 16384);
    CHECK_EQ(cfg.dep_pool_entries, 8192);
    CHECK_EQ(cfg.sched_threads, 0);
    setenv("PTO_CLUSTERS", "7", 1);
    setenv("PTO_TASK_WINDOW", "junk", 1); /* malformed: ignored */
    pto_config_init(&cfg);
    CHECK_EQ(cfg.clusters, 7);
    CHECK_EQ(cfg.task_window, 1024);
    unsetenv("PTO_CLUSTERS");
    unsetenv("PTO_TASK_WINDOW");
    pto_config_init(NULL); /* harmless */
}

typedef struct bad_cfg {
    const char *field;
    void (*apply)(pto_config_t *c);
} bad_cfg_t;

static void zero_clusters(pto_config_t *c) { c->clusters = 0; }
static void many_clusters(pto_config_t *c) { c->clusters = 65; }
static void window_npot(pto_config_t *c) { c->task_window = 100; }
static void window_small(pto_config_t *c) { c->task_window = 2; }
static void heap_small(pto_config_t *c) { c->heap_bytes = 100; }
static void map_small(pto_config_t *c) { c->tensormap_entries = 8; }
static void pool_small(pto_config_t *c) { c->dep_pool_entries = 1; }
static void sched_many(pto_config_t *c) { c->sched_threads = 99; }
static void timing_bad(pto_config_t *c) { c->core_timing = 2; }

static void test_bad_config(void)
{
    const bad_cfg_t cases[] = {
        {"clusters", zero_clusters},   {"clusters", many_clusters},
        {"task_window", window_npot},  {"task_window", window_small},
        {"heap_bytes", heap_small},    {"tensormap_entries", map_small},
        {"dep_pool_entries", pool_small}, {"sched_threads", sched_many},
        {"core_timing", timing_bad},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pto_config_t cfg;
        pto_config_init(&cfg);
        cases[i].apply(&cfg);
        pto_runtime_t *rt = (pto_runtime_t *)&cfg; /* must be cleared */
        CHECK_EQ(pto_runtime_create(&cfg, &rt), PTO_ECONFIG);
        CHECK(rt == NULL);
        CHECK(strstr(pto_last_error(NULL), cases[i].field) != NULL);
    }
    pto_runtime_t *rt;
    CHECK_EQ(pto_runtime_create(NULL, &rt), PTO_EINVAL);
    CHECK(strstr(pto_last_error(NULL), "NULL") != NULL);
    pto_config_t cfg;
    pto_config_init(&cfg);
    CHECK_EQ(pto_runtime_create(&cfg, NULL), PTO_EINVAL);
}

static void orch_nothing(pto_orch_t *o, void *u)
{
    (void)o;
    (void)u;
}

static void test_register(void)
{
    pto_config_t cfg;
    pto_config_init(&cfg);
    cfg.clusters = 1;
    pto_runtime_t *rt;
    REQUIRE(pto_runtime_create(&cfg, &rt) == 0);
    CHECK_EQ(pto_kernel_register(rt, 0, k_empty, "zero"), 0);
    CHECK_EQ(pto_kernel_register(rt, 0, k_empty, "again"), PTO_EKERNEL);
    CHECK(strstr(pto_last_error(rt), "already registered") != NULL);
    CHECK_EQ(pto_kernel_register(rt, PTO_MAX_KERNELS, k_empty, "x"),
             PTO_EKERNEL);
    CHECK(strstr(pto_last_error(rt), "out of range") != NULL);
    CHECK_EQ(pto_kernel_register(rt, 1, NULL, "null"), PTO_EINVAL);
    CHECK_EQ(pto_kernel_register(NULL, 1, k_empty, "x"), PTO_EINVAL);
    CHECK_EQ(pto_kernel_register(rt, 5, k_empty, NULL), 0);
    CHECK_EQ(pto_run(rt, NULL, NULL), PTO_EINVAL);
    CHECK_EQ(pto_run(NULL, orch_nothing, NULL), PTO_EINVAL);
    CHECK(pto_runtime_config(rt)->clusters == 1);
    pto_runtime_destroy(rt);
    pto_runtime_destroy(NULL);
}

static void test_error_table(void)
{
    CHECK(strcmp(pto_strerror(0), "success") == 0);
    CHECK(strcmp(pto_err_name(PTO_EDEADLOCK), "PTO_EDEADLOCK") == 0);
    CHECK(strstr(pto_strerror(PTO_EDEADLOCK), "deadlock") != NULL);
    CHECK(pto_strerror(-9999) != NULL);
    CHECK(strcmp(pto_err_name(-9999), "PTO_E?") == 0);
    /* every code has its own text */
    for (int a = PTO_ESYS; a <= 0; a++)
        for (int b = a + 1; b <= 0; b++)
            CHECK(strcmp(pto_strerror(a), pto_strerror(b)) != 0);
}

/* A run inside a run (from the orchestration) is refused. */
static int nested_rc;

static void orch_nested(pto_orch_t *o, void *u)
{
    (void)u;
    nested_rc = pto_run(pto_orch_runtime(o), orch_nothing, NULL);
}

static void test_nested_run(void)
{
    pto_config_t cfg;
    pto_config_init(&cfg);
    cfg.clusters = 1;
    pto_runtime_t *rt;
    REQUIRE(pto_runtime_create(&cfg, &rt) == 0);
    CHECK_EQ(pto_run(rt, orch_nested, NULL), 0);
    CHECK_EQ(nested_rc, PTO_ESTATE);
    pto_runtime_destroy(rt);
}

/* Misuse from the orchestration: every failure is reported, sticky. */
typedef struct misuse {
    int which;
    int rc1, rc2;
} misuse_t;

static void orch_misuse(pto_orch_t *o, void *u)
{
    misuse_t *m = u;
    pto_args_t a;
    pto_args_init(&a);
    switch (m->which) {
    case 0:
        m->rc1 = pto_scope_end(o); /* nothing to end */
        break;
    case 1:
        m->rc1 = pto_scope_begin(o, (pto_scope_mode_t)7);
        break;
    case 2:
        pto_submit_aiv(o, 77, &a); /* unregistered kernel */
        m->rc1 = pto_orch_status(o);
        break;
    case 3:
        pto_submit_aiv(o, 0, NULL);
        m->rc1 = pto_orch_status(o);
        break;
    case 4:
        for (int i = 0; i < 17; i++)
            pto_args_scalar(&a, 1), pto_args_dep(&a, 0);
        pto_submit_aiv(o, 0, &a);
        m->rc1 = pto_orch_status(o);
        break;
    case 5:
        for (int i = 0; i < PTO_MAX_SCOPE_DEPTH; i++)
            m->rc1 = pto_scope_begin(o, PTO_SCOPE_AUTO);
        break;
    case 6:
        pto_scope_begin(o, PTO_SCOPE_AUTO); /* left open */
        m->rc1 = 0;
        break;
    case 7: { /* alloc_tensors with a non-OUTPUT slot */
        float x[4];
        uint32_t s4[1] = {4};
        pto_tensor_t t = pto_tensor_external(x, s4, 1, PTO_FLOAT32);
        pto_args_input(&a, &t);
        pto_alloc_tensors(o, &a);
        m->rc1 = pto_orch_status(o);
        break;
    }
    case 8: { /* a mixed task without kernels */
        pto_mixed_kernels_t mk = {PTO_KERNEL_NONE, PTO_KERNEL_NONE,
                                  PTO_KERNEL_NONE};
        pto_submit_mixed(o, &mk, &a);
        m->rc1 = pto_orch_status(o);
        break;
    }
    case 9: { /* a failed view passed on */
        float x[4];
        uint32_t s4[1] = {4}, off[1] = {3}, sh[1] = {2};
        pto_tensor_t t = pto_tensor_external(x, s4, 1, PTO_FLOAT32), v;
        CHECK_EQ(pto_tensor_view(&t, off, sh, &v), PTO_EBOUNDS);
        pto_args_input(&a, &v);
        pto_submit_aiv(o, 0, &a);
        m->rc1 = pto_orch_status(o);
        break;
    }
    case 10: /* registering during a run is refused, the run goes on */
        CHECK_EQ(pto_kernel_register(pto_orch_runtime(o), 9, k_empty, "x"),
                 PTO_ESTATE);
        m->rc1 = pto_scope_end(o);
        break;
    }
    m->rc2 = pto_scope_begin(o, PTO_SCOPE_AUTO); /* sticky afterwards */
}

static void test_orch_misuse(void)
{
    pto_config_t cfg;
    pto_config_init(&cfg);
    cfg.clusters = 1;
    pto_runtime_t *rt;
    REQUIRE(pto_runtime_create(&cfg, &rt) == 0);
    REQUIRE(pto_kernel_register(rt, 0, k_empty, "empty") == 0);
    const int want[11] = {PTO_ESCOPE, PTO_EINVAL, PTO_EKERNEL, PTO_EINVAL,
                          PTO_ECAPACITY, PTO_ESCOPE, PTO_ESCOPE, PTO_EINVAL,
                          PTO_EINVAL, PTO_ETENSOR, PTO_ESCOPE};
    const char *words[11] = {"no scope", "mode", "not registered", "NULL",
                             "16 explicit deps", "deeper", "never closed",
                             "OUTPUT slot", "PTO_KERNEL_NONE",
                             "invalid tensor", "no scope"};
    for (int i = 0; i < 11; i++) {
        misuse_t m = {i, 0, 0};
        CHECK_EQ(pto_run(rt, orch_misuse, &m), want[i]);
        if (i != 6) {
            CHECK_EQ(m.rc1, want[i]);
            CHECK_EQ(m.rc2, want[i]);
        }
        CHECK(strstr(pto_last_error(rt), words[i]) != NULL);
    }
    CHECK_EQ(pto_run(rt, orch_nothing, NULL), 0);
    pto_runtime_destroy(rt);
}

static void test_create_destroy_cycles(void)
{
    for (int i = 0; i < 50; i++) {
        pto_config_t cfg;
        pto_config_init(&cfg);
        cfg.clusters = 1 + (uint32_t)(i % 4);
        cfg.task_window = 16;
        cfg.heap_bytes = 65536;
        pto_runtime_t *rt;
        REQUIRE(pto_runtime_create(&cfg, &rt) == 0);
        CHECK_EQ(pto_run(rt, orch_nothing, NULL), 0);
        pto_runtime_destroy(rt);
    }
}

int main(void)
{
    test_defaults();
    test_bad_config();
    test_register();
    test_error_table();
    test_nested_run();
    test_orch_misuse();
    test_create_destroy_cycles();
    return check_result();
}
