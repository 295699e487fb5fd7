/*
 * runtime_impl.h - the runtime object every module hangs off.
 *
 * Fields are grouped by who writes them, each group on its own cache lines:
 *   fixed after create:   config, kernel table, rings' storage, queues
 *   orchestrator:         orch (its state is private to that thread)
 *   any thread, rarely:   run status/message (first failure wins by CAS)
 *   scheduler -> orch:    orch_wake/orch_waiting (the orchestrator's parking)
 * There is no process-global mutable state except the thread-local message
 * of the last failed pto_runtime_create.
 */
#ifndef PTO_RUNTIME_IMPL_H
#define PTO_RUNTIME_IMPL_H

#include "atomics.h"
#include "pto/pto.h"
#include "ready_queue.h"
#include "ring.h"
#include "task.h"

#define PTO_KERNEL_NAME_MAX 48
#define PTO_MSG_MAX 768

typedef struct pto_platform pto_platform_t;
typedef struct pto_tensormap pto_tensormap_t;
typedef struct pto_trace pto_trace_t;
typedef struct pto_graph pto_graph_t;

/* Outstanding deferred completions (pto_kernel_defer). gen is even while
 * the entry is free and odd while a deferral holds it; a handle carries the
 * odd gen it was issued with, so a second or bogus completion fails its
 * CAS. */
#define PTO_MAX_DEFERRED 4096u
typedef struct pto_deferred {
    _Atomic uint32_t gen;
    _Atomic uint32_t pub;        /* gen whose id/kernel/block are written */
    _Atomic(struct pto_task *) task;
    _Atomic uint64_t id;         /* for pto_deferred_pending: copies, */
    _Atomic uint32_t kernel;     /* since the task's slot may be reused */
    _Atomic uint32_t block;      /* once the deferral is signalled */
} pto_deferred_t;

typedef struct pto_kernel_entry {
    pto_kernel_fn fn;
    char name[PTO_KERNEL_NAME_MAX];
} pto_kernel_entry_t;

struct pto_runtime {
    /* Fixed after create (kernels: changed only between runs). */
    pto_config_t cfg;
    pto_ring_t rings[PTO_RING_DEPTHS];
    pto_ready_queue_t rq[PTO_SHAPE_COUNT];
    pto_platform_t *plat;
    pto_tensormap_t *tmap;
    pto_orch_t *orch;
    pto_kernel_entry_t *kernels; /* PTO_MAX_KERNELS entries */
    pto_deferred_t *deferred;    /* PTO_MAX_DEFERRED entries */
    pto_trace_t *trace;          /* NULL unless cfg.trace_events */
    pto_graph_t *graph;          /* NULL unless cfg.graph_tasks */
    _Atomic uint32_t recording;  /* PTO_REC_* bits (trace.h) */
    char *trace_path;            /* PTO_TRACE_FILE: written after each run */
    char *dot_path;              /* PTO_DOT_FILE */
    pto_core_stats_t *core_stats;/* of the last run, one per core */
    uint64_t *core_base;         /* 3 counters per core at run begin */

    /* Run state, any thread. run_status: first failure wins (CAS 0 -> code);
     * only the winner writes run_msg, and it is read after the run drained
     * (every writer's task completed before the drain was observed). */
    PTO_ALIGNED_CL _Atomic int32_t run_status;
    _Atomic uint32_t skip_kernels; /* a kernel failed: start no more */
    _Atomic uint32_t in_run;
    char run_msg[PTO_MSG_MAX];
    char last_error[PTO_MSG_MAX];
    pto_run_stats_t stats;         /* of the last run; orchestrator writes */
    /* Core time counters at the start of the current run. */
    uint64_t base_sched_ns;
    uint64_t base_kernel_ns;
    uint64_t base_lookups, base_inserts, base_hits; /* tracker, at begin */
    _Atomic uint32_t deferred_hint; /* where the next defer starts looking */

    /* Orchestrator parking: the scheduler bumps orch_wake and wakes it after
     * advancing a ring tail, if orch_waiting is set (Dekker pair: the
     * orchestrator sets waiting then re-checks the tails; the scheduler
     * stores a tail then checks waiting; both seq_cst) and the tail meets
     * the orchestrator's target: ring orch_wait_ring reaching orch_wait_seq,
     * or any move when the ring is PTO_WAIT_ANY_RING. The target is written
     * before waiting is set, so a scheduler that sees waiting sees it. */
    PTO_ALIGNED_CL _Atomic uint32_t orch_wake;
    _Atomic uint32_t orch_waiting;
    _Atomic uint32_t orch_wait_ring;
    _Atomic uint32_t orch_wait_seq;
};

#define PTO_WAIT_ANY_RING UINT32_MAX

/* Set rt's pto_last_error message (not during a run's hot paths).
 * Returns `code`. */
int pto__rt_error(pto_runtime_t *rt, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Record the first failure of the run (any thread). Returns `code`. */
int pto__run_fail(pto_runtime_t *rt, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Name of a kernel for messages ("#7" when unnamed). */
const char *pto__kernel_name(const pto_runtime_t *rt, uint32_t kernel_id,
                             char *buf, size_t n);

/* Name of a task's first kernel ("alloc_tensors" for allocations). */
const char *pto__task_kernel_name(const pto_runtime_t *rt,
                                  const pto_task_t *t, char *buf, size_t n);

#endif /* PTO_RUNTIME_IMPL_H */
