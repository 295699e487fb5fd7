/*
 * runtime.c - configuration, runtime create/destroy, kernel registration,
 * pto_run and error reporting.
 *
 * A runtime owns everything a run needs, sized once at create: PTO_RING_DEPTHS
 * ring sets, one ready queue per resource shape, the dependency tracker, the
 * orchestrator state and the platform's cores. pto_run allocates nothing.
 *
 * The only process-global state is the thread-local message of the calling
 * thread's last failed pto_runtime_create (pto_last_error(NULL)).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "futex.h"
#include "orch.h"
#include "platform.h"
#include "runtime_impl.h"
#include "tensormap.h"

static _Thread_local char create_error[PTO_MSG_MAX];

/* ---- configuration ----------------------------------------------------- */

static void env_u32(const char *name, uint32_t *v)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return;
    char *end;
    unsigned long long x = strtoull(s, &end, 0);
    if (*end == '\0' && x <= UINT32_MAX)
        *v = (uint32_t)x;
}

static void env_u64(const char *name, uint64_t *v)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return;
    char *end;
    unsigned long long x = strtoull(s, &end, 0);
    if (*end == '\0')
        *v = x;
}

void pto_config_init(pto_config_t *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof(*cfg));
    cfg->clusters = 4;
    cfg->sched_threads = 0;
    cfg->task_window = 1024;
    cfg->heap_bytes = 64ull << 20;
    cfg->tensormap_entries = 16384;
    cfg->dep_pool_entries = 8192;
    cfg->spin_us = 50;
    env_u32("PTO_CLUSTERS", &cfg->clusters);
    env_u32("PTO_SCHED_THREADS", &cfg->sched_threads);
    env_u32("PTO_TASK_WINDOW", &cfg->task_window);
    env_u64("PTO_HEAP_BYTES", &cfg->heap_bytes);
    env_u32("PTO_TENSORMAP_ENTRIES", &cfg->tensormap_entries);
    env_u32("PTO_DEP_POOL_ENTRIES", &cfg->dep_pool_entries);
    env_u32("PTO_SPIN_US", &cfg->spin_us);
    env_u32("PTO_CORE_TIMING", &cfg->core_timing);
}

static int create_fail(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int create_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(create_error, sizeof(create_error), fmt, ap);
    va_end(ap);
    return code;
}

static int config_check(const pto_config_t *c)
{
    if (c->clusters < 1 || c->clusters > PTO_MAX_CLUSTERS)
        return create_fail(PTO_ECONFIG, "clusters = %u: must be 1..%u",
                           c->clusters, PTO_MAX_CLUSTERS);
    if (c->sched_threads > 16)
        return create_fail(PTO_ECONFIG, "sched_threads = %u: must be 0..16",
                           c->sched_threads);
    if (c->task_window < 4 || c->task_window > (1u << 24) ||
        (c->task_window & (c->task_window - 1)) != 0)
        return create_fail(PTO_ECONFIG,
                           "task_window = %u: must be a power of two in "
                           "4..%u",
                           c->task_window, 1u << 24);
    if (c->heap_bytes < 4096 || c->heap_bytes > (1ull << 40))
        return create_fail(PTO_ECONFIG,
                           "heap_bytes = %llu: must be 4096..2^40",
                           (unsigned long long)c->heap_bytes);
    if (c->tensormap_entries < 64 || c->tensormap_entries > (1u << 24))
        return create_fail(PTO_ECONFIG,
                           "tensormap_entries = %u: must be 64..%u",
                           c->tensormap_entries, 1u << 24);
    if (c->dep_pool_entries < 64 || c->dep_pool_entries > (1u << 24))
        return create_fail(PTO_ECONFIG,
                           "dep_pool_entries = %u: must be 64..%u",
                           c->dep_pool_entries, 1u << 24);
    if (c->core_timing > 1)
        return create_fail(PTO_ECONFIG, "core_timing = %u: must be 0 or 1",
                           c->core_timing);
    if (c->spin_us > 1000000)
        return create_fail(PTO_ECONFIG, "spin_us = %u: must be <= 1000000",
                           c->spin_us);
    return 0;
}

/* ---- create / destroy -------------------------------------------------- */

static int create_parts(pto_runtime_t *rt)
{
    const pto_config_t *c = &rt->cfg;
    uint32_t windows[PTO_RING_DEPTHS];
    for (uint32_t i = 0; i < PTO_RING_DEPTHS; i++) {
        windows[i] = c->task_window;
        if (pto__ring_init(&rt->rings[i], i, c->task_window, c->heap_bytes,
                           c->dep_pool_entries) != 0)
            return create_fail(PTO_ENOMEM, "out of memory for ring %u", i);
    }
    /* Every queued task holds a live slot, so this bounds every queue. */
    uint64_t qcap = (uint64_t)PTO_RING_DEPTHS * c->task_window;
    for (uint32_t s = 0; s < PTO_SHAPE_COUNT; s++)
        if (pto__rq_init(&rt->rq[s], qcap) != 0)
            return create_fail(PTO_ENOMEM, "out of memory for ready queues");
    rt->kernels = calloc(PTO_MAX_KERNELS, sizeof(*rt->kernels));
    rt->deferred = calloc(PTO_MAX_DEFERRED, sizeof(*rt->deferred));
    if (!rt->kernels || !rt->deferred)
        return create_fail(PTO_ENOMEM, "out of memory for kernel table");
    if (pto__tensormap_create(c->tensormap_entries, windows, &rt->tmap) != 0)
        return create_fail(PTO_ENOMEM, "out of memory for the tracker");
    if (pto__orch_create(rt, &rt->orch) != 0)
        return create_fail(PTO_ENOMEM, "out of memory for the orchestrator");
    int rc = pto__platform_create(rt, &rt->plat);
    if (rc != 0)
        return create_fail(rc, "cannot start %u core threads: %s",
                           3 * c->clusters, pto_strerror(rc));
    return 0;
}

int pto_runtime_create(const pto_config_t *cfg, pto_runtime_t **out)
{
    if (!cfg || !out)
        return create_fail(PTO_EINVAL, "pto_runtime_create: NULL %s",
                           cfg ? "out" : "cfg");
    *out = NULL;
    int rc = config_check(cfg);
    if (rc != 0)
        return rc;
    pto_runtime_t *rt = aligned_alloc(PTO_CACHELINE,
                                      (sizeof(*rt) + PTO_CACHELINE - 1) &
                                          ~(size_t)(PTO_CACHELINE - 1));
    if (!rt)
        return create_fail(PTO_ENOMEM, "out of memory for the runtime");
    memset(rt, 0, sizeof(*rt));
    rt->cfg = *cfg;
    rc = create_parts(rt);
    if (rc != 0) {
        pto_runtime_destroy(rt);
        return rc;
    }
    *out = rt;
    return 0;
}

void pto_runtime_destroy(pto_runtime_t *rt)
{
    if (!rt)
        return;
    pto__platform_destroy(rt->plat);
    pto__orch_destroy(rt->orch);
    pto__tensormap_destroy(rt->tmap);
    for (uint32_t s = 0; s < PTO_SHAPE_COUNT; s++)
        pto__rq_fini(&rt->rq[s]);
    for (uint32_t i = 0; i < PTO_RING_DEPTHS; i++)
        pto__ring_fini(&rt->rings[i]);
    free(rt->kernels);
    free(rt->deferred);
    free(rt);
}

const pto_config_t *pto_runtime_config(const pto_runtime_t *rt)
{
    return rt ? &rt->cfg : NULL;
}

/* ---- kernels ----------------------------------------------------------- */

static int rt_error(pto_runtime_t *rt, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int rt_error(pto_runtime_t *rt, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rt->last_error, sizeof(rt->last_error), fmt, ap);
    va_end(ap);
    return code;
}

int pto_kernel_register(pto_runtime_t *rt, uint32_t kernel_id,
                        pto_kernel_fn fn, const char *name)
{
    if (!rt)
        return PTO_EINVAL;
    if (!fn)
        return rt_error(rt, PTO_EINVAL,
                        "pto_kernel_register: NULL function for id %u",
                        kernel_id);
    if (pto_load(&rt->in_run, pto_relaxed))
        return rt_error(rt, PTO_ESTATE,
                        "pto_kernel_register: a run is in progress");
    if (kernel_id >= PTO_MAX_KERNELS)
        return rt_error(rt, PTO_EKERNEL,
                        "pto_kernel_register: id %u out of range 0..%u",
                        kernel_id, PTO_MAX_KERNELS - 1);
    pto_kernel_entry_t *k = &rt->kernels[kernel_id];
    if (k->fn)
        return rt_error(rt, PTO_EKERNEL,
                        "pto_kernel_register: id %u is already registered "
                        "(as '%s')",
                        kernel_id, k->name);
    k->fn = fn;
    snprintf(k->name, sizeof(k->name), "%s", name ? name : "");
    return 0;
}

const char *pto__kernel_name(const pto_runtime_t *rt, uint32_t kernel_id,
                             char *buf, size_t n)
{
    if (kernel_id < PTO_MAX_KERNELS && rt->kernels[kernel_id].name[0])
        snprintf(buf, n, "%s", rt->kernels[kernel_id].name);
    else
        snprintf(buf, n, "#%u", kernel_id);
    return buf;
}

const char *pto__task_kernel_name(const pto_runtime_t *rt,
                                  const pto_task_t *t, char *buf, size_t n)
{
    for (int i = 0; i < 3; i++)
        if (t->kernel[i] != PTO_KERNEL_NONE)
            return pto__kernel_name(rt, t->kernel[i], buf, n);
    snprintf(buf, n, "alloc_tensors");
    return buf;
}

/* ---- runs -------------------------------------------------------------- */

int pto__run_fail(pto_runtime_t *rt, int code, const char *fmt, ...)
{
    int32_t zero = 0;
    /* acq_rel: the winner alone writes run_msg; pto_run reads it after the
     * drain, which every failing thread's task completion precedes. */
    if (!pto_cas(&rt->run_status, &zero, code, pto_acq_rel, pto_acquire))
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rt->run_msg, sizeof(rt->run_msg), fmt, ap);
    va_end(ap);
    return code;
}

static void run_begin(pto_runtime_t *rt)
{
    pto_store(&rt->run_status, 0, pto_relaxed);
    pto_store(&rt->skip_kernels, 0, pto_relaxed);
    pto__platform_counters(rt->plat, &rt->base_sched_ns, &rt->base_kernel_ns);
    rt->run_msg[0] = '\0';
    for (uint32_t i = 0; i < PTO_RING_DEPTHS; i++)
        rt->rings[i].high_water = 0;
}

/* t_orch: time in the orchestration function; wait: the part of it spent
 * parked on back-pressure (the final drain is not orchestration). */
static void run_finish_stats(pto_runtime_t *rt, uint64_t t0, uint64_t t_orch,
                             uint64_t wait)
{
    pto_run_stats_t *s = &rt->stats;
    s->tasks = rt->orch->tasks;
    s->elapsed_ns = pto_now_ns() - t0;
    s->orch_wait_ns = wait;
    s->orch_ns = t_orch > wait ? t_orch - wait : 0;
    uint64_t sched, kern;
    pto__platform_counters(rt->plat, &sched, &kern);
    s->sched_ns = sched - rt->base_sched_ns;
    s->kernel_ns = kern - rt->base_kernel_ns;
    for (uint32_t i = 0; i < PTO_RING_DEPTHS; i++)
        s->ring_high_water[i] = rt->rings[i].high_water;
}

int pto_run(pto_runtime_t *rt, pto_orch_fn orch, void *user)
{
    if (!rt)
        return PTO_EINVAL;
    if (!orch)
        return rt_error(rt, PTO_EINVAL, "pto_run: NULL orchestration");
    uint32_t idle = 0;
    /* acquire: pairs with the release at the end of the previous run. */
    if (!pto_cas(&rt->in_run, &idle, 1, pto_acquire, pto_relaxed))
        return rt_error(rt, PTO_ESTATE,
                        "pto_run: a run is already in progress on this "
                        "runtime");
    uint64_t t0 = pto_now_ns();
    run_begin(rt);
    pto__orch_run_begin(rt->orch);
    orch(rt->orch, user);
    uint64_t t_orch = pto_now_ns() - t0;
    uint64_t wait = rt->orch->wait_ns;
    pto__orch_run_end(rt->orch);
    if (rt->cfg.core_timing)
        pto__platform_quiesce(rt->plat);
    run_finish_stats(rt, t0, t_orch, wait);
    int rc = pto_load(&rt->run_status, pto_acquire);
    if (rc != 0)
        snprintf(rt->last_error, sizeof(rt->last_error), "%s", rt->run_msg);
    /* release: the next run (any thread) sees this one's state reset. */
    pto_store(&rt->in_run, 0, pto_release);
    return rc;
}

const char *pto_last_error(const pto_runtime_t *rt)
{
    if (!rt)
        return create_error;
    return rt->last_error;
}

int pto_run_stats(const pto_runtime_t *rt, pto_run_stats_t *out)
{
    if (!rt || !out)
        return PTO_EINVAL;
    *out = rt->stats;
    return 0;
}
