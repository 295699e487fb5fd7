/*
 * pto/runtime.h - configuration, runtime lifecycle, kernels and runs.
 *
 * A runtime owns the rings, the dependency tracker, the scheduler and the
 * simulated cores (threads on the CPU platform). It runs one orchestration at
 * a time: pto_run() calls the user's orchestration function on the calling
 * thread (the orchestrator) inside an outer AUTO scope, and returns when every
 * task it submitted has finished. A runtime is reusable after any failure.
 */
#ifndef PTO_RUNTIME_H
#define PTO_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pto/errors.h"
#include "pto/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pto_runtime pto_runtime_t;
typedef struct pto_orch pto_orch_t;
typedef struct pto_kernel_ctx pto_kernel_ctx_t;

typedef void (*pto_orch_fn)(pto_orch_t *o, void *user);
typedef void (*pto_kernel_fn)(const pto_kernel_ctx_t *ctx);

/* Largest kernel id + 1 accepted by pto_kernel_register. */
#define PTO_MAX_KERNELS 1024
/* Cluster count limit of the CPU platform (the device has 24). */
#define PTO_MAX_CLUSTERS 64
/* Ring sets: scope depth d uses ring min(d, PTO_RING_DEPTHS - 1). */
#define PTO_RING_DEPTHS 4
/* Deepest scope nesting, the outer scope of pto_run counting as depth 0. */
#define PTO_MAX_SCOPE_DEPTH 32

/*
 * Configuration. Defaults (pto_config_init), each overridable by the
 * environment variable named beside it when pto_config_init runs:
 *
 *   clusters           4        PTO_CLUSTERS       1 AIC + 2 AIV each, 1..64
 *   sched_threads      0        PTO_SCHED_THREADS  dedicated scheduler threads;
 *                                                  0: core workers schedule
 *   task_window        1024     PTO_TASK_WINDOW    slots per ring, power of 2, >= 4
 *   heap_bytes         64 MiB   PTO_HEAP_BYTES     heap ring per depth, >= 4096
 *   tensormap_entries  16384    PTO_TENSORMAP_ENTRIES  tracker entries, >= 64
 *   dep_pool_entries   8192     PTO_DEP_POOL_ENTRIES   dependency nodes per ring, >= 64
 *   spin_us            50       PTO_SPIN_US        how long an idle core spins
 *                                                  before it parks
 *   core_timing        0        PTO_CORE_TIMING    1: cores time kernels and
 *                                                  scheduler work for
 *                                                  pto_run_stats (costs two
 *                                                  clock reads per task)
 *   trace_events       0        PTO_TRACE_EVENTS   events kept per thread for
 *                                                  pto_trace_write; 0: off
 *                                                  (PTO_TRACE_FILE too: see
 *                                                  pto/trace.h), <= 2^24
 *   graph_tasks        0        PTO_GRAPH_TASKS    tasks kept for
 *                                                  pto_graph_write_dot; 0: off
 *                                                  (PTO_DOT_FILE too), <= 2^22
 *
 * The CPU platform runs the scheduler's work on the core workers themselves,
 * between kernels (measured fastest here, see docs/benchmarks.md);
 * sched_threads is accepted (0..16) and reserved for a device platform.
 */
typedef struct pto_config {
    uint32_t clusters;
    uint32_t sched_threads;
    uint32_t task_window;
    uint64_t heap_bytes;
    uint32_t tensormap_entries;
    uint32_t dep_pool_entries;
    uint32_t spin_us;
    uint32_t core_timing;
    uint32_t trace_events;
    uint32_t graph_tasks;
    uint32_t reserved[5]; /* zero; room for new fields */
} pto_config_t;

/* Fill `cfg` with the defaults above, then apply environment overrides
 * (malformed values are ignored). Thread: any. Never blocks. */
PTO_API void pto_config_init(pto_config_t *cfg);

/* Create a runtime and start its core threads. Returns 0 and *out, or
 * PTO_ECONFIG (a value out of range; pto_last_error(NULL) says which),
 * PTO_EINVAL (NULL pointers), PTO_ENOMEM, PTO_ESYS (thread creation).
 * Thread: any. Blocks while the threads start. */
PTO_API int pto_runtime_create(const pto_config_t *cfg, pto_runtime_t **out);

/* Stop the core threads and free everything. NULL is a no-op. Must not be
 * called while a pto_run on rt is in progress. Thread: any. */
PTO_API void pto_runtime_destroy(pto_runtime_t *rt);

/* Register kernel `fn` under `kernel_id` (< PTO_MAX_KERNELS) with a name used
 * in messages and traces (copied; may be NULL). PTO_EKERNEL for an id out of
 * range or already registered, PTO_EINVAL for a NULL fn/rt, PTO_ESTATE during
 * a run. Thread: any, but not concurrently with pto_run on rt. */
PTO_API int pto_kernel_register(pto_runtime_t *rt, uint32_t kernel_id,
                                pto_kernel_fn fn, const char *name);

/* Run `orch(o, user)` on the calling thread inside an outer AUTO scope and
 * wait until every task it submitted has finished. Returns 0, or the first
 * error of the run: a failed submit or scope call (its code), a kernel that
 * called pto_kernel_fail (PTO_EKERNELFAIL), PTO_ESTATE if a run is already in
 * progress on rt, PTO_EINVAL for NULL rt/orch. pto_last_error(rt) names the
 * cause. A run with no tasks returns at once. Blocks. */
PTO_API int pto_run(pto_runtime_t *rt, pto_orch_fn orch, void *user);

/* Message of the last failure on rt (a run, a registration), or "" if none.
 * With rt NULL: the calling thread's last failed pto_runtime_create. Valid
 * until the next call that fails on rt. Thread: any, not during a run. */
PTO_API const char *pto_last_error(const pto_runtime_t *rt);

/* Figures of the last finished pto_run on a runtime. */
typedef struct pto_run_stats {
    uint64_t tasks;        /* tasks submitted (alloc_tensors included) */
    uint64_t elapsed_ns;   /* pto_run from entry to return */
    uint64_t orch_ns;      /* in the orchestration function, minus the
                            * two waits below */
    uint64_t orch_wait_ns; /* orchestrator parked on back-pressure */
    uint64_t sched_ns;     /* cores doing scheduler work (all cores summed) */
    uint64_t kernel_ns;    /* cores running kernels (all cores summed) */
    uint32_t ring_high_water[PTO_RING_DEPTHS]; /* most live tasks per ring */
    uint64_t edges_inferred;  /* dependency edges wired from the tracker or
                               * a runtime tensor's creator */
    uint64_t edges_explicit;  /* ... from pto_args_dep (an edge that is both
                               * counts in both) */
    uint64_t tracker_lookups; /* tensor lookups in the dependency tracker */
    uint64_t tracker_inserts; /* accesses it recorded */
    uint64_t tracker_hits;    /* producers its lookups found */
    uint64_t waits;           /* times the orchestrator waited on
                               * back-pressure (orch_wait_ns is their time) */
    uint64_t invocations;     /* kernel invocations run, all cores */
    uint64_t element_wait_ns; /* pto_tensor_get/set waiting for producers */
    uint32_t cores;           /* entries of pto_run_core_stats */
    uint32_t pad_;
} pto_run_stats_t;

/* One core's share of the last run (pto_run_core_stats). */
typedef struct pto_core_stats {
    uint32_t cluster;
    uint32_t subtask;         /* pto_subtask_t: 0 AIC, 1 AIV0, 2 AIV1 */
    uint64_t invocations;     /* kernel invocations it ran */
    uint64_t kernel_ns;       /* in kernels (needs cfg.core_timing) */
    uint64_t sched_ns;        /* scheduler work (needs cfg.core_timing) */
    double utilisation;       /* kernel_ns / the run's elapsed_ns */
} pto_core_stats_t;

/* Copy the figures of the last finished run. PTO_EINVAL for NULL.
 * Thread: any, not during a run on rt. Never blocks. */
PTO_API int pto_run_stats(const pto_runtime_t *rt, pto_run_stats_t *out);

/* Figures of core `core` (cluster * 3 + subtask, < stats.cores) in the last
 * finished run. PTO_EINVAL for NULL or a core out of range. Thread: any,
 * not during a run on rt. Never blocks. */
PTO_API int pto_run_core_stats(const pto_runtime_t *rt, uint32_t core,
                               pto_core_stats_t *out);

/* Configuration the runtime was created with (after validation). */
PTO_API const pto_config_t *pto_runtime_config(const pto_runtime_t *rt);

#ifdef __cplusplus
}
#endif

#endif /* PTO_RUNTIME_H */
