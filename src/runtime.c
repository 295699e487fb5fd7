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
#include "graph.h"
#include "orch.h"
#include "platform.h"
#include "runtime_impl.h"
#include "tensormap.h"
#include "trace.h"

/* Recording sizes PTO_TRACE_FILE / PTO_DOT_FILE turn on when unset. */
#define PTO_TRACE_EVENTS_DEFAULT 65536u
#define PTO_GRAPH_TASKS_DEFAULT 10000u

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
    env_u32("PTO_TRACE_EVENTS", &cfg->trace_events);
    env_u32("PTO_GRAPH_TASKS", &cfg->graph_tasks);
    const char *tf = getenv("PTO_TRACE_FILE"), *df = getenv("PTO_DOT_FILE");
    if (tf && *tf && cfg->trace_events == 0)
        cfg->trace_events = PTO_TRACE_EVENTS_DEFAULT;
    if (df && *df && cfg->graph_tasks == 0)
        cfg->graph_tasks = PTO_GRAPH_TASKS_DEFAULT;
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
    if (c->trace_events > (1u << 24))
        return create_fail(PTO_ECONFIG,
                           "trace_events = %u: must be 0 (off) .. %u",
                           c->trace_events, 1u << 24);
    if (c->graph_tasks > (1u << 22))
        return create_fail(PTO_ECONFIG,
                           "graph_tasks = %u: must be 0 (off) .. %u",
                           c->graph_tasks, 1u << 22);
    return 0;
}

/* ---- create / destroy -------------------------------------------------- */

/* Trace and graph buffers, the files the environment asks for, and the
 * per-core statistics. */
static int create_recording(pto_runtime_t *rt)
{
    uint32_t ncores = 3 * rt->cfg.clusters;
    rt->core_stats = calloc(ncores, sizeof(*rt->core_stats));
    rt->core_base = calloc(3 * (size_t)ncores, sizeof(*rt->core_base));
    if (!rt->core_stats || !rt->core_base ||
        pto__trace_create(rt, &rt->trace) != 0 ||
        pto__graph_create(&rt->cfg, &rt->graph) != 0)
        return PTO_ENOMEM;
    const char *tf = getenv("PTO_TRACE_FILE"), *df = getenv("PTO_DOT_FILE");
    if (rt->trace && tf && *tf && !(rt->trace_path = strdup(tf)))
        return PTO_ENOMEM;
    if (rt->graph && df && *df && !(rt->dot_path = strdup(df)))
        return PTO_ENOMEM;
    pto_store(&rt->recording,
              (rt->trace ? PTO_REC_TRACE : 0u) |
                  (rt->graph ? PTO_REC_GRAPH : 0u),
              pto_relaxed);
    return 0;
}

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
    if (create_recording(rt) != 0)
        return create_fail(PTO_ENOMEM, "out of memory for tracing (%u events "
                                       "per thread) or the graph (%u tasks)",
                           c->trace_events, c->graph_tasks);
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
    pto__trace_destroy(rt->trace);
    pto__graph_destroy(rt->graph);
    free(rt->trace_path);
    free(rt->dot_path);
    free(rt->core_stats);
    free(rt->core_base);
    free(rt);
}

const pto_config_t *pto_runtime_config(const pto_runtime_t *rt)
{
    return rt ? &rt->cfg : NULL;
}

/* ---- kernels ----------------------------------------------------------- */

int pto__rt_error(pto_runtime_t *rt, int code, const char *fmt, ...)
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
        return pto__rt_error(rt, PTO_EINVAL,
                        "pto_kernel_register: NULL function for id %u",
                        kernel_id);
    if (pto_load(&rt->in_run, pto_relaxed))
        return pto__rt_error(rt, PTO_ESTATE,
                        "pto_kernel_register: a run is in progress");
    if (kernel_id >= PTO_MAX_KERNELS)
        return pto__rt_error(rt, PTO_EKERNEL,
                        "pto_kernel_register: id %u out of range 0..%u",
                        kernel_id, PTO_MAX_KERNELS - 1);
    pto_kernel_entry_t *k = &rt->kernels[kernel_id];
    if (k->fn)
        return pto__rt_error(rt, PTO_EKERNEL,
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
    for (uint32_t c = 0; c < 3 * rt->cfg.clusters; c++)
        pto__platform_core_counters(rt->plat, c, &rt->core_base[3 * c]);
    pto_tensormap_stats_t tm;
    pto__tensormap_stats(rt->tmap, &tm);
    rt->base_lookups = tm.lookups;
    rt->base_inserts = tm.inserts;
    rt->base_hits = tm.emitted;
    rt->run_msg[0] = '\0';
    for (uint32_t i = 0; i < PTO_RING_DEPTHS; i++)
        rt->rings[i].high_water = 0;
    uint32_t rec = pto__recording(rt);
    if (rec & PTO_REC_TRACE)
        pto__trace_run_begin(rt);
    if (rec & PTO_REC_GRAPH)
        pto__graph_run_begin(rt->graph);
}

static void core_stats_finish(pto_runtime_t *rt)
{
    pto_run_stats_t *s = &rt->stats;
    s->cores = 3 * rt->cfg.clusters;
    s->invocations = 0;
    for (uint32_t c = 0; c < s->cores; c++) {
        uint64_t now[3];
        pto_core_stats_t *cs = &rt->core_stats[c];
        pto__platform_core_counters(rt->plat, c, now);
        cs->cluster = c / 3;
        cs->subtask = c % 3;
        cs->invocations = now[0] - rt->core_base[3 * c];
        cs->sched_ns = now[1] - rt->core_base[3 * c + 1];
        cs->kernel_ns = now[2] - rt->core_base[3 * c + 2];
        cs->utilisation = s->elapsed_ns
                              ? (double)cs->kernel_ns / (double)s->elapsed_ns
                              : 0.0;
        s->invocations += cs->invocations;
    }
}

/* t_orch: time in the orchestration function; wait: the part of it spent
 * parked on back-pressure (the final drain is not orchestration). */
static void run_finish_stats(pto_runtime_t *rt, uint64_t t0, uint64_t t_orch,
                             uint64_t wait)
{
    pto_run_stats_t *s = &rt->stats;
    s->tasks = rt->orch->tasks;
    s->elapsed_ns = pto_now_ns() - t0;
    s->orch_wait_ns = rt->orch->wait_ns;
    s->element_wait_ns = rt->orch->elem_wait_ns;
    s->orch_ns = t_orch > wait ? t_orch - wait : 0;
    uint64_t sched, kern;
    pto__platform_counters(rt->plat, &sched, &kern);
    s->sched_ns = sched - rt->base_sched_ns;
    s->kernel_ns = kern - rt->base_kernel_ns;
    for (uint32_t i = 0; i < PTO_RING_DEPTHS; i++)
        s->ring_high_water[i] = rt->rings[i].high_water;
    pto_tensormap_stats_t tm;
    pto__tensormap_stats(rt->tmap, &tm);
    s->tracker_lookups = tm.lookups - rt->base_lookups;
    s->tracker_inserts = tm.inserts - rt->base_inserts;
    s->tracker_hits = tm.emitted - rt->base_hits;
    s->edges_inferred = rt->orch->edges_inferred;
    s->edges_explicit = rt->orch->edges_explicit;
    s->waits = rt->orch->waits;
    core_stats_finish(rt);
}

/* PTO_TRACE_FILE / PTO_DOT_FILE: write the run's recording while pto_run
 * still owns the runtime (no other run can start and reset the buffers).
 * A failure is reported on stderr (the environment asked for it; the
 * run's own status stays the run's). */
static void write_env_files(pto_runtime_t *rt)
{
    uint32_t rec = pto__recording(rt);
    if ((rec & PTO_REC_TRACE) && rt->trace_path &&
        pto__trace_write(rt, rt->trace_path) != 0)
        fprintf(stderr, "pto: PTO_TRACE_FILE: %s\n", rt->last_error);
    if ((rec & PTO_REC_GRAPH) && rt->dot_path &&
        pto__graph_write_dot(rt, rt->dot_path) != 0)
        fprintf(stderr, "pto: PTO_DOT_FILE: %s\n", rt->last_error);
}

int pto_run(pto_runtime_t *rt, pto_orch_fn orch, void *user)
{
    if (!rt)
        return PTO_EINVAL;
    if (!orch)
        return pto__rt_error(rt, PTO_EINVAL, "pto_run: NULL orchestration");
    uint32_t idle = 0;
    /* acquire: pairs with the release at the end of the previous run. */
    if (!pto_cas(&rt->in_run, &idle, 1, pto_acquire, pto_relaxed))
        return pto__rt_error(rt, PTO_ESTATE,
                        "pto_run: a run is already in progress on this "
                        "runtime");
    uint64_t t0 = pto_now_ns();
    run_begin(rt);
    pto__orch_run_begin(rt->orch);
    orch(rt->orch, user);
    uint64_t t_orch = pto_now_ns() - t0;
    uint64_t wait = rt->orch->wait_ns + rt->orch->elem_wait_ns;
    pto__orch_run_end(rt->orch);
    if (rt->cfg.core_timing)
        pto__platform_quiesce(rt->plat);
    pto__trace_run_end(rt);
    run_finish_stats(rt, t0, t_orch, wait);
    write_env_files(rt);
    int rc = pto_load(&rt->run_status, pto_acquire);
    if (rc != 0) /* after the files: their messages must not replace it */
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

int pto_run_core_stats(const pto_runtime_t *rt, uint32_t core,
                       pto_core_stats_t *out)
{
    if (!rt || !out || core >= 3 * rt->cfg.clusters)
        return PTO_EINVAL;
    *out = rt->core_stats[core];
    return 0;
}

int pto_trace_enable(pto_runtime_t *rt, bool on)
{
    if (!rt)
        return PTO_EINVAL;
    if (pto_load(&rt->in_run, pto_acquire))
        return pto__rt_error(rt, PTO_ESTATE,
                             "pto_trace_enable: a run is in progress");
    if (!rt->trace && !rt->graph)
        return pto__rt_error(rt, PTO_ESTATE,
                             "pto_trace_enable: neither tracing nor the "
                             "graph is configured (cfg.trace_events, "
                             "cfg.graph_tasks)");
    pto_store(&rt->recording,
              on ? (rt->trace ? PTO_REC_TRACE : 0u) |
                       (rt->graph ? PTO_REC_GRAPH : 0u)
                 : 0u,
              pto_relaxed);
    return 0;
}

int pto_run_stats_print(const pto_runtime_t *rt, FILE *f)
{
    if (!rt || !f)
        return PTO_EINVAL;
    const pto_run_stats_t *s = &rt->stats;
    double el = s->elapsed_ns ? (double)s->elapsed_ns : 1.0;
    fprintf(f, "run: %llu tasks, %llu kernel invocations, elapsed %.3f ms\n",
            (unsigned long long)s->tasks,
            (unsigned long long)s->invocations, s->elapsed_ns / 1e6);
    fprintf(f, "  edges: %llu inferred, %llu explicit\n",
            (unsigned long long)s->edges_inferred,
            (unsigned long long)s->edges_explicit);
    fprintf(f, "  tracker: %llu lookups, %llu inserts, %llu hits\n",
            (unsigned long long)s->tracker_lookups,
            (unsigned long long)s->tracker_inserts,
            (unsigned long long)s->tracker_hits);
    fprintf(f, "  rings: high water");
    for (uint32_t i = 0; i < PTO_RING_DEPTHS; i++)
        fprintf(f, " %u", s->ring_high_water[i]);
    fprintf(f, " of %u slots (depth 0..%u)\n", rt->cfg.task_window,
            PTO_RING_DEPTHS - 1);
    fprintf(f, "  orchestrator: %.3f ms submitting (%.1f%%), %llu "
               "back-pressure waits, %.3f ms waiting, %.3f ms in element "
               "accesses\n",
            s->orch_ns / 1e6, 100.0 * (double)s->orch_ns / el,
            (unsigned long long)s->waits, s->orch_wait_ns / 1e6,
            s->element_wait_ns / 1e6);
    fprintf(f, "  cores: %.3f ms in kernels, %.3f ms scheduling%s\n",
            s->kernel_ns / 1e6, s->sched_ns / 1e6,
            rt->cfg.core_timing ? "" : " (core_timing off: times are 0)");
    for (uint32_t c = 0; c < s->cores; c++) {
        const pto_core_stats_t *cs = &rt->core_stats[c];
        if (cs->invocations == 0)
            continue;
        fprintf(f, "  core %u (cluster %u %s): %llu invocations, busy "
                   "%.3f ms (%.1f%%), scheduling %.3f ms\n",
                c, cs->cluster,
                cs->subtask == 0 ? "AIC" : cs->subtask == 1 ? "AIV0" : "AIV1",
                (unsigned long long)cs->invocations, cs->kernel_ns / 1e6,
                100.0 * cs->utilisation, cs->sched_ns / 1e6);
    }
    return ferror(f) ? PTO_ESYS : 0;
}
