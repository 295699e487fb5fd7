/*
 * bench/bench_util_pto.c - the helpers of bench_util.h that call libpto:
 * configuration printing, making a runtime with a kernel table, a checked
 * run.
 */
#define _POSIX_C_SOURCE 200809L

#include "bench_util.h"

void bench_json_config(FILE *f, const char *key, const pto_config_t *c)
{
    fprintf(f,
            "  \"%s\": {\"clusters\": %u, \"sched_threads\": %u, "
            "\"task_window\": %u, \"heap_bytes\": %llu, "
            "\"tensormap_entries\": %u, \"dep_pool_entries\": %u, "
            "\"spin_us\": %u, \"core_timing\": %u},\n",
            key, c->clusters, c->sched_threads, c->task_window,
            (unsigned long long)c->heap_bytes, c->tensormap_entries,
            c->dep_pool_entries, c->spin_us, c->core_timing);
}

void bench_print_config(const char *what, const pto_config_t *c)
{
    printf("%s: clusters=%u sched_threads=%u task_window=%u "
           "heap_bytes=%llu tensormap_entries=%u dep_pool_entries=%u "
           "spin_us=%u core_timing=%u\n",
           what, c->clusters, c->sched_threads, c->task_window,
           (unsigned long long)c->heap_bytes, c->tensormap_entries,
           c->dep_pool_entries, c->spin_us, c->core_timing);
}

pto_runtime_t *bench_make_runtime(uint32_t clusters,
                                  const bench_kernel_t *kernels, uint32_t n)
{
    pto_config_t cfg;
    pto_runtime_t *rt = NULL;
    pto_config_init(&cfg);
    if (clusters != 0)
        cfg.clusters = clusters;
    int rc = pto_runtime_create(&cfg, &rt);
    if (rc != 0) {
        fprintf(stderr, "pto_runtime_create: %s: %s\n", pto_strerror(rc),
                pto_last_error(NULL));
        return NULL;
    }
    for (uint32_t k = 0; k < n; k++) {
        rc = pto_kernel_register(rt, k, kernels[k].fn, kernels[k].name);
        if (rc != 0) {
            fprintf(stderr, "pto_kernel_register %s: %s: %s\n",
                    kernels[k].name, pto_strerror(rc), pto_last_error(rt));
            pto_runtime_destroy(rt);
            return NULL;
        }
    }
    return rt;
}

int bench_run_checked(pto_runtime_t *rt, pto_orch_fn fn, void *user,
                      pto_run_stats_t *st)
{
    int rc = pto_run(rt, fn, user);
    if (rc != 0) {
        fprintf(stderr, "pto_run: %s (%s): %s\n", pto_strerror(rc),
                pto_err_name(rc), pto_last_error(rt));
        return rc;
    }
    rc = pto_run_stats(rt, st);
    if (rc != 0)
        fprintf(stderr, "pto_run_stats: %s\n", pto_strerror(rc));
    return rc;
}
