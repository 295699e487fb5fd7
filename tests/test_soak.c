/*
 * test_soak.c - long life of a runtime (src/runtime.c and everything under
 * it): 10^4 pto_run calls on one runtime - successful ones, failing ones
 * (kernel failure, a failed submit, a scope left open) and empty ones - with
 * resident memory flat after warm-up, and 10^3 create/destroy cycles.
 * Leaks are LeakSanitizer's to find in the ASan build of this test.
 * PTO_SOAK_RUNS overrides the run count.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "pto/pto.h"

/* ThreadSanitizer keeps growing history of its own and runs ~25x slower:
 * under it the soak is shorter and resident memory is not judged. */
#if defined(__SANITIZE_THREAD__)
#define SOAK_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SOAK_TSAN 1
#endif
#endif
#ifndef SOAK_TSAN
#define SOAK_TSAN 0
#endif

static void k_inc(const pto_kernel_ctx_t *c)
{
    uint64_t *p = pto_tensor_data(pto_kernel_tensor(c, 0));
    p[0] += 1;
}

static void k_fail(const pto_kernel_ctx_t *c)
{
    pto_kernel_fail(c, "soak failure");
}

static uint64_t cell;

/* Run kind r % 4: 0 a small graph with scopes and outputs, 1 a kernel
 * failure, 2 a failed submit (unknown kernel), 3 a scope left open. */
static void orch_soak(pto_orch_t *o, void *u)
{
    long r = *(long *)u;
    uint32_t s1[1] = {1};
    pto_tensor_t t = pto_tensor_external(&cell, s1, 1, PTO_UINT64);
    for (int i = 0; i < 8; i++) {
        PTO_SCOPE(o, i & 1 ? PTO_SCOPE_MANUAL : PTO_SCOPE_AUTO)
        {
            pto_create_info_t ci = pto_create_info(s1, 1, PTO_UINT64);
            pto_args_t a;
            pto_args_init(&a);
            pto_args_inout(&a, &t);
            pto_args_output(&a, &ci);
            pto_submit_aiv(o, 1, &a);
        }
    }
    pto_args_t a;
    pto_args_init(&a);
    pto_args_inout(&a, &t); /* after the increments: they all ran */
    if (r % 4 == 1)
        pto_submit_aic(o, 2, &a);
    else if (r % 4 == 2)
        pto_submit_aic(o, 99, &a);
    else if (r % 4 == 3)
        pto_scope_begin(o, PTO_SCOPE_AUTO);
}

static long resident_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void test_many_runs(void)
{
    const char *env = getenv("PTO_SOAK_RUNS");
    long runs = env ? strtol(env, NULL, 0) : (SOAK_TSAN ? 1000 : 10000);
    pto_config_t cfg;
    pto_config_init(&cfg);
    cfg.clusters = 2;
    cfg.task_window = 16;
    cfg.heap_bytes = 4096;
    pto_runtime_t *rt;
    REQUIRE(pto_runtime_create(&cfg, &rt) == 0);
    REQUIRE(pto_kernel_register(rt, 1, k_inc, "inc") == 0);
    REQUIRE(pto_kernel_register(rt, 2, k_fail, "fail") == 0);
    const int want[4] = {0, PTO_EKERNELFAIL, PTO_EKERNEL, PTO_ESCOPE};
    long rss_warm = 0, bad = 0;
    cell = 0;
    for (long r = 0; r < runs; r++) {
        if (pto_run(rt, orch_soak, &r) != want[r % 4])
            bad++;
        if (r == runs / 10)
            rss_warm = resident_kib();
    }
    long rss_end = resident_kib();
    CHECK_EQ(bad, 0);
    CHECK_EQ(cell, (uint64_t)runs * 8);
    printf("%ld runs: resident %ld KiB after warm-up, %ld KiB at the end\n",
           runs, rss_warm, rss_end);
    if (!SOAK_TSAN)
        CHECK(rss_end - rss_warm < 1024); /* flat: under 1 MiB of drift */
    pto_runtime_destroy(rt);
}

static void orch_one(pto_orch_t *o, void *u)
{
    (void)u;
    uint32_t s1[1] = {1};
    pto_tensor_t t = pto_tensor_external(&cell, s1, 1, PTO_UINT64);
    pto_args_t a;
    pto_args_init(&a);
    pto_args_inout(&a, &t);
    pto_submit_aiv(o, 1, &a);
}

static void test_create_destroy(void)
{
    cell = 0;
    for (int i = 0; i < 1000; i++) {
        pto_config_t cfg;
        pto_config_init(&cfg);
        cfg.clusters = 1;
        cfg.task_window = 8;
        cfg.heap_bytes = 4096;
        cfg.tensormap_entries = 64;
        cfg.dep_pool_entries = 64;
        pto_runtime_t *rt;
        REQUIRE(pto_runtime_create(&cfg, &rt) == 0);
        REQUIRE(pto_kernel_register(rt, 1, k_inc, "inc") == 0);
        CHECK_EQ(pto_run(rt, orch_one, NULL), 0);
        pto_runtime_destroy(rt);
    }
    CHECK_EQ(cell, 1000);
}

int main(void)
{
    test_many_runs();
    test_create_destroy();
    return check_result();
}
