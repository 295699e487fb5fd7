/*
 * test_platform_cpu.c - the CPU platform (src/platform_cpu.c): with more
 * simulated cores than CPUs (24 clusters = 72 core threads on this 2-CPU
 * machine) runs complete, idle cores park instead of burning CPU, parked
 * cores wake for new work, and core timing feeds pto_run_stats.
 */
#include <string.h>
#include <time.h>

#include "check.h"
#include "pto/pto.h"

static void k_spin(const pto_kernel_ctx_t *c)
{
    volatile uint64_t x = 0;
    for (uint64_t i = 0; i < pto_kernel_scalar(c, 0); i++)
        x = x + i;
    (void)x;
}

static void orch_some(pto_orch_t *o, void *u)
{
    long n = *(long *)u;
    for (long i = 0; i < n; i++) {
        pto_args_t a;
        pto_args_init(&a);
        pto_args_scalar(&a, 2000);
        if (i % 3 == 0)
            pto_submit_aic(o, 0, &a);
        else
            pto_submit_aiv(o, 0, &a);
    }
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_idle_parks(void)
{
    pto_config_t cfg;
    pto_config_init(&cfg);
    cfg.clusters = 24;
    cfg.core_timing = 1;
    pto_runtime_t *rt;
    REQUIRE(pto_runtime_create(&cfg, &rt) == 0);
    REQUIRE(pto_kernel_register(rt, 0, k_spin, "spin") == 0);
    long n = 5000;
    for (int round = 0; round < 3; round++) {
        CHECK_EQ(pto_run(rt, orch_some, &n), 0);
        pto_run_stats_t st;
        CHECK_EQ(pto_run_stats(rt, &st), 0);
        CHECK_EQ(st.tasks, 5000);
        CHECK(st.kernel_ns > 0);
        CHECK(st.elapsed_ns >= st.orch_ns);
        /* Idle now: 72 threads must cost (almost) no CPU over 300 ms. */
        struct timespec settle = {0, 50000000};
        nanosleep(&settle, NULL);
        double c0 = cpu_seconds();
        struct timespec idle = {0, 300000000};
        nanosleep(&idle, NULL);
        double used = cpu_seconds() - c0;
        printf("idle 300 ms with 72 core threads: %.1f ms CPU\n",
               used * 1e3);
        CHECK(used < 0.060);
    }
    pto_runtime_destroy(rt);
}

int main(void)
{
    test_idle_parks();
    return check_result();
}
