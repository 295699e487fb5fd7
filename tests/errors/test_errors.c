/*
 * test_errors.c - the bad-input catalogue: every misuse we know of, each
 * checked for its documented error code and a message naming the cause,
 * followed by a good run on the same runtime (it stays usable). Nothing
 * may crash, hang or leak (this test runs under ASan/LSan and TSan in CI).
 *
 * Run-level cases are a table of {orchestration, config tweak, expected
 * code, words the message must contain}; API-level cases (config, kernel
 * registration, calls outside a run, NULL pointers) follow.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pto/pto.h"

enum { K_EMPTY = 1, K_FAIL = 2, K_COUNT = 3 };

static int ran_after_failure;

static void k_empty(const pto_kernel_ctx_t *c)
{
    (void)c;
}

static void k_fail(const pto_kernel_ctx_t *c)
{
    pto_kernel_fail(c, "bad block 7");
}

static void k_count(const pto_kernel_ctx_t *c)
{
    (void)c;
    __atomic_fetch_add(&ran_after_failure, 1, __ATOMIC_RELAXED);
}

static float buf[64];

static pto_tensor_t whole(void)
{
    uint32_t s[1] = {64};
    return pto_tensor_external(buf, s, 1, PTO_FLOAT32);
}

static pto_task_id_t empty_task(pto_orch_t *o)
{
    pto_args_t a;
    pto_args_init(&a);
    return pto_submit_aiv(o, K_EMPTY, &a);
}

/* An owning task (one output): it stays held by its scope. */
static pto_task_id_t owning_task(pto_orch_t *o, uint32_t floats)
{
    uint32_t s[1] = {floats};
    pto_create_info_t ci = pto_create_info(s, 1, PTO_FLOAT32);
    pto_args_t a;
    pto_args_init(&a);
    pto_args_output(&a, &ci);
    return pto_submit_aiv(o, K_EMPTY, &a);
}

/* ---- run-level cases ------------------------------------------------ */

static void too_many_tensors(pto_orch_t *o)
{
    pto_tensor_t t = whole();
    pto_args_t a;
    pto_args_init(&a);
    for (int i = 0; i < 17; i++)
        pto_args_input(&a, &t);
    pto_submit_aiv(o, K_EMPTY, &a);
}

static void too_many_scalars(pto_orch_t *o)
{
    pto_args_t a;
    pto_args_init(&a);
    for (int i = 0; i < 33; i++)
        pto_args_scalar(&a, 1);
    pto_submit_aiv(o, K_EMPTY, &a);
}

static void too_many_deps(pto_orch_t *o)
{
    pto_task_id_t p = empty_task(o);
    pto_args_t a;
    pto_args_init(&a);
    for (int i = 0; i < 17; i++)
        pto_args_dep(&a, p);
    pto_submit_aiv(o, K_EMPTY, &a);
}

static void deps_batch_overflow(pto_orch_t *o)
{
    pto_task_id_t ids[17];
    for (int i = 0; i < 17; i++)
        ids[i] = empty_task(o);
    pto_args_t a;
    pto_args_init(&a);
    pto_args_deps(&a, ids, 17); /* all or nothing: nothing */
    CHECK_EQ(a.ndeps, 0);
    pto_submit_aiv(o, K_EMPTY, &a);
}

static void auto_in_manual(pto_orch_t *o)
{
    pto_scope_begin(o, PTO_SCOPE_MANUAL);
    pto_scope_begin(o, PTO_SCOPE_AUTO);
}

static void auto_in_manual_deep(pto_orch_t *o)
{
    pto_scope_begin(o, PTO_SCOPE_MANUAL);
    pto_scope_begin(o, PTO_SCOPE_MANUAL);
    pto_scope_begin(o, PTO_SCOPE_AUTO);
}

static void unbalanced_end(pto_orch_t *o)
{
    pto_scope_end(o);
}

static void scope_left_open(pto_orch_t *o)
{
    pto_scope_begin(o, PTO_SCOPE_AUTO);
}

static void scope_too_deep(pto_orch_t *o)
{
    for (int i = 0; i < PTO_MAX_SCOPE_DEPTH + 1; i++)
        pto_scope_begin(o, PTO_SCOPE_AUTO);
}

static void bad_scope_mode(pto_orch_t *o)
{
    pto_scope_begin(o, (pto_scope_mode_t)3);
}

static void dep_future(pto_orch_t *o)
{
    pto_task_id_t p = empty_task(o);
    pto_args_t a;
    pto_args_init(&a);
    pto_args_dep(&a, p + 10);
    pto_submit_aiv(o, K_EMPTY, &a);
}

static void dep_own(pto_orch_t *o)
{
    pto_task_id_t p = empty_task(o);
    pto_args_t a;
    pto_args_init(&a);
    pto_args_dep(&a, p + 1); /* the id this submit gets */
    pto_submit_aiv(o, K_EMPTY, &a);
}

static void dep_garbage(pto_orch_t *o)
{
    pto_args_t a;
    pto_args_init(&a);
    pto_args_dep(&a, 0xdeadbeef12345678ull);
    pto_submit_aiv(o, K_EMPTY, &a);
}

static void unknown_kernel(pto_orch_t *o)
{
    pto_args_t a;
    pto_args_init(&a);
    pto_submit_aic(o, 777, &a);
}

static void kernel_none(pto_orch_t *o)
{
    pto_args_t a;
    pto_args_init(&a);
    pto_submit_aiv(o, PTO_KERNEL_NONE, &a);
}

static void out_of_bounds_view(pto_orch_t *o)
{
    pto_tensor_t t = whole(), v;
    uint32_t off[1] = {60}, sh[1] = {8};
    CHECK_EQ(pto_tensor_view(&t, off, sh, &v), PTO_EBOUNDS);
    pto_args_t a;
    pto_args_init(&a);
    pto_args_input(&a, &v);
    pto_submit_aiv(o, K_EMPTY, &a);
}

static void output_bigger_than_heap(pto_orch_t *o)
{
    owning_task(o, 1u << 20); /* 4 MiB, heap is 64 KiB */
}

static void scope_more_than_ring(pto_orch_t *o)
{
    for (int i = 0; i < 200; i++) /* window 128: at most 127 live */
        if (pto_task_id_is_none(owning_task(o, 1)))
            return;
}

static void heap_held_by_scope(pto_orch_t *o)
{
    for (int i = 0; i < 6; i++) /* 6 x 16 KiB in a 64 KiB heap */
        if (pto_task_id_is_none(owning_task(o, 4096)))
            return;
}

static float big[256];

static void tracker_too_small(pto_orch_t *o)
{
    uint32_t bs[1] = {256};
    pto_tensor_t t = pto_tensor_external(big, bs, 1, PTO_FLOAT32);
    PTO_SCOPE(o, PTO_SCOPE_AUTO)
    {
        for (uint32_t i = 0; i < 100 && pto_orch_status(o) == 0; i++) {
            /* held (owns an output) and records one entry per view */
            uint32_t off[1] = {i}, sh[1] = {1}, s1[1] = {1};
            pto_tensor_t v;
            pto_tensor_view(&t, off, sh, &v);
            pto_create_info_t ci = pto_create_info(s1, 1, PTO_FLOAT32);
            pto_args_t a;
            pto_args_init(&a);
            pto_args_output(&a, &ci);
            pto_args_output_existing(&a, &v);
            pto_submit_aiv(o, K_EMPTY, &a);
        }
    }
}

static void use_after_scope(pto_orch_t *o)
{
    pto_tensor_t keep;
    PTO_SCOPE(o, PTO_SCOPE_AUTO)
    {
        uint32_t s[1] = {4};
        pto_create_info_t ci = pto_create_info(s, 1, PTO_FLOAT32);
        pto_args_t a;
        pto_args_init(&a);
        pto_args_output(&a, &ci);
        pto_submit_aiv(o, K_EMPTY, &a);
        keep = *pto_args_result(&a, 0);
    }
    pto_args_t b;
    pto_args_init(&b);
    pto_args_input(&b, &keep);
    pto_submit_aiv(o, K_EMPTY, &b);
}

static void alloc_with_input(pto_orch_t *o)
{
    pto_tensor_t t = whole();
    pto_args_t a;
    pto_args_init(&a);
    pto_args_input(&a, &t);
    pto_alloc_tensors(o, &a);
}

static void alloc_without_outputs(pto_orch_t *o)
{
    pto_args_t a;
    pto_args_init(&a);
    pto_alloc_tensors(o, &a);
}

static void mixed_without_kernels(pto_orch_t *o)
{
    pto_mixed_kernels_t mk = {PTO_KERNEL_NONE, PTO_KERNEL_NONE,
                              PTO_KERNEL_NONE};
    pto_args_t a;
    pto_args_init(&a);
    pto_submit_mixed(o, &mk, &a);
}

static void null_args(pto_orch_t *o)
{
    pto_submit_aiv(o, K_EMPTY, NULL);
}

static void sync_start_too_wide(pto_orch_t *o)
{
    pto_args_t a;
    pto_args_init(&a);
    pto_args_spmd(&a, 3, PTO_SPMD_SYNC_START); /* 1 cluster: 1 AIC */
    pto_submit_aic(o, K_EMPTY, &a);
}

static void element_out_of_bounds(pto_orch_t *o)
{
    pto_tensor_t t = whole();
    uint32_t idx[1] = {64};
    float v;
    pto_tensor_get(o, &t, idx, &v);
}

static void failing_kernel(pto_orch_t *o)
{
    pto_tensor_t t = whole();
    pto_args_t a;
    pto_args_init(&a);
    pto_args_output_existing(&a, &t);
    pto_submit_aiv(o, K_FAIL, &a);
    pto_args_init(&a); /* depends on the failing task: must not run */
    pto_args_input(&a, &t);
    pto_submit_aiv(o, K_COUNT, &a);
}

typedef struct err_case {
    const char *name;
    void (*orch)(pto_orch_t *o);
    int code;
    const char *words[2];
} err_case_t;

static const err_case_t cases[] = {
    {"17 tensors", too_many_tensors, PTO_ECAPACITY, {"16 tensors", "add #16"}},
    {"33 scalars", too_many_scalars, PTO_ECAPACITY, {"32 scalars", NULL}},
    {"17 deps", too_many_deps, PTO_ECAPACITY, {"16 explicit deps", NULL}},
    {"deps batch", deps_batch_overflow, PTO_ECAPACITY, {"explicit deps", NULL}},
    {"AUTO in MANUAL", auto_in_manual, PTO_ESCOPE, {"AUTO scope", "MANUAL"}},
    {"MANUAL>MANUAL>AUTO", auto_in_manual_deep, PTO_ESCOPE, {"depth 1", NULL}},
    {"unbalanced end", unbalanced_end, PTO_ESCOPE, {"no scope is open", NULL}},
    {"scope left open", scope_left_open, PTO_ESCOPE, {"never closed", NULL}},
    {"scope too deep", scope_too_deep, PTO_ESCOPE, {"deeper than 31", NULL}},
    {"bad scope mode", bad_scope_mode, PTO_EINVAL, {"scope mode 3", NULL}},
    {"future dep", dep_future, PTO_EDEP, {"never issued", NULL}},
    {"own-id dep", dep_own, PTO_EDEP, {"own id", NULL}},
    {"garbage dep", dep_garbage, PTO_EDEP, {"not a task id", "ring"}},
    {"unknown kernel", unknown_kernel, PTO_EKERNEL, {"777", "not registered"}},
    {"kernel NONE", kernel_none, PTO_EKERNEL, {"PTO_KERNEL_NONE", NULL}},
    {"bad view", out_of_bounds_view, PTO_ETENSOR, {"invalid tensor", "add #0"}},
    {"output > heap", output_bigger_than_heap, PTO_ETOOBIG,
     {"heap_bytes", "65536"}},
    {"scope > ring", scope_more_than_ring, PTO_EDEADLOCK,
     {"task ring 0", "inner scope"}},
    {"heap held", heap_held_by_scope, PTO_EDEADLOCK, {"heap ring 0", NULL}},
    {"tracker small", tracker_too_small, PTO_EDEADLOCK,
     {"dependency tracker (64 entries)", "tensormap_entries"}},
    {"use after scope", use_after_scope, PTO_ELIFETIME, {"ended", NULL}},
    {"alloc + input", alloc_with_input, PTO_EINVAL, {"OUTPUT slot", NULL}},
    {"alloc, no outputs", alloc_without_outputs, PTO_EINVAL,
     {"OUTPUT slot", NULL}},
    {"mixed, no kernels", mixed_without_kernels, PTO_EINVAL,
     {"PTO_KERNEL_NONE", NULL}},
    {"NULL args", null_args, PTO_EINVAL, {"NULL", NULL}},
    {"sync start > cores", sync_start_too_wide, PTO_ESYNCSTART,
     {"3 blocks", "1 cores"}},
    {"element OOB", element_out_of_bounds, PTO_EBOUNDS, {"element", NULL}},
    {"failing kernel", failing_kernel, PTO_EKERNELFAIL,
     {"bad block 7", "failing"}},
};

static void orch_case(pto_orch_t *o, void *u)
{
    ((const err_case_t *)u)->orch(o);
}

static void orch_good(pto_orch_t *o, void *u)
{
    (void)u;
    for (int i = 0; i < 50; i++)
        PTO_SCOPE(o, PTO_SCOPE_AUTO) { owning_task(o, 16); }
}

static pto_runtime_t *catalogue_runtime(void)
{
    pto_config_t cfg;
    pto_config_init(&cfg);
    cfg.clusters = 1;
    cfg.task_window = 128;
    cfg.heap_bytes = 65536;
    cfg.tensormap_entries = 64;
    pto_runtime_t *rt;
    REQUIRE(pto_runtime_create(&cfg, &rt) == 0);
    REQUIRE(pto_kernel_register(rt, K_EMPTY, k_empty, "empty") == 0);
    REQUIRE(pto_kernel_register(rt, K_FAIL, k_fail, "failing") == 0);
    REQUIRE(pto_kernel_register(rt, K_COUNT, k_count, "count") == 0);
    return rt;
}

static void test_run_cases(void)
{
    pto_runtime_t *rt = catalogue_runtime();
    size_t n = sizeof(cases) / sizeof(cases[0]);
    for (size_t i = 0; i < n; i++) {
        const err_case_t *c = &cases[i];
        int rc = pto_run(rt, orch_case, (void *)c);
        const char *m = pto_last_error(rt);
        bool ok = rc == c->code;
        for (int w = 0; w < 2; w++)
            ok = ok && (!c->words[w] || strstr(m, c->words[w]));
        if (!ok)
            fprintf(stderr, "case '%s': got %s (%d) '%s', want %s\n",
                    c->name, pto_err_name(rc), rc, m, pto_err_name(c->code));
        CHECK(ok);
        CHECK_EQ(pto_run(rt, orch_good, NULL), 0); /* still usable */
    }
    CHECK_EQ(ran_after_failure, 0);
    printf("%zu run-level misuse cases\n", n);
    pto_runtime_destroy(rt);
}

/* ---- API-level cases ------------------------------------------------- */

static void test_config_cases(void)
{
    struct {
        const char *field;
        uint32_t clusters, window, map, pool;
        uint64_t heap;
    } bad[] = {
        {"clusters", 0, 1024, 16384, 8192, 1 << 20},
        {"task_window", 4, 1000, 16384, 8192, 1 << 20},
        {"heap_bytes", 4, 1024, 16384, 8192, 1000},
        {"tensormap_entries", 4, 1024, 16, 8192, 1 << 20},
        {"dep_pool_entries", 4, 1024, 16384, 2, 1 << 20},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pto_config_t cfg;
        pto_config_init(&cfg);
        cfg.clusters = bad[i].clusters;
        cfg.task_window = bad[i].window;
        cfg.tensormap_entries = bad[i].map;
        cfg.dep_pool_entries = bad[i].pool;
        cfg.heap_bytes = bad[i].heap;
        pto_runtime_t *rt = NULL;
        CHECK_EQ(pto_runtime_create(&cfg, &rt), PTO_ECONFIG);
        CHECK(rt == NULL);
        CHECK(strstr(pto_last_error(NULL), bad[i].field) != NULL);
    }
}

static pto_orch_t *kept;

static void orch_keep(pto_orch_t *o, void *u)
{
    (void)u;
    kept = o;
}

static void test_api_cases(void)
{
    pto_runtime_t *rt = catalogue_runtime();
    /* duplicate and out-of-range kernel ids */
    CHECK_EQ(pto_kernel_register(rt, K_EMPTY, k_empty, "again"),
             PTO_EKERNEL);
    CHECK(strstr(pto_last_error(rt), "already registered") != NULL);
    CHECK_EQ(pto_kernel_register(rt, 5000, k_empty, "x"), PTO_EKERNEL);
    /* orchestration calls outside a run: refused, nothing changes */
    CHECK_EQ(pto_run(rt, orch_keep, NULL), 0);
    pto_args_t a;
    pto_args_init(&a);
    CHECK(pto_task_id_is_none(pto_submit_aiv(kept, K_EMPTY, &a)));
    CHECK(strstr(pto_last_error(rt), "outside pto_run") != NULL);
    CHECK_EQ(pto_scope_begin(kept, PTO_SCOPE_AUTO), PTO_ESTATE);
    CHECK_EQ(pto_scope_end(kept), PTO_ESTATE);
    CHECK_EQ(pto_orch_status(kept), PTO_ESTATE);
    CHECK_EQ(pto_run(rt, orch_good, NULL), 0);
    /* NULL pointers */
    CHECK_EQ(pto_run(rt, NULL, NULL), PTO_EINVAL);
    CHECK_EQ(pto_run(NULL, orch_good, NULL), PTO_EINVAL);
    CHECK_EQ(pto_scope_begin(NULL, PTO_SCOPE_AUTO), PTO_EINVAL);
    CHECK(pto_task_id_is_none(pto_submit_aiv(NULL, K_EMPTY, &a)));
    pto_tensor_t v;
    uint32_t s[1] = {4};
    CHECK_EQ(pto_tensor_view(NULL, s, s, &v), PTO_EINVAL);
    CHECK(pto_tensor_external(NULL, s, 1, PTO_FLOAT32).status == PTO_EINVAL);
    pto_args_input(&a, NULL);
    CHECK_EQ(pto_args_status(&a), PTO_EINVAL);
    pto_completion_t bogus = {rt, 12345, 1};
    CHECK_EQ(pto_task_complete(bogus), PTO_ECOMPLETION);
    pto_runtime_destroy(rt);
}

int main(void)
{
    test_run_cases();
    test_config_cases();
    test_api_cases();
    return check_result();
}
