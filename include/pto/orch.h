/*
 * pto/orch.h - calls made by the orchestration function (inside pto_run).
 *
 * Thread: every function here is for the orchestrator thread only (the one
 * running the pto_orch_fn), during pto_run. Called outside pto_run (with a
 * pto_orch_t kept from a run) they fail with PTO_ESTATE, change nothing,
 * and pto_last_error says why.
 *
 * Failure model: the first failing call records its code and message in the
 * run (sticky); every later scope or submit call is then a no-op returning
 * that code / the NONE id, and pto_run returns the code. pto_orch_status()
 * lets an orchestration stop early.
 *
 * Blocking: submits block only on back-pressure (task ring, heap ring,
 * dependency-node pool or tracker entries full) until the scheduler retires
 * enough work. When waiting can never succeed (the work pinning the ring is
 * held by the waiting scope or one enclosing it) the submit fails with
 * PTO_EDEADLOCK instead of waiting, naming the ring, its size, the size
 * needed and the pinning task.
 */
#ifndef PTO_ORCH_H
#define PTO_ORCH_H

#include "pto/args.h"
#include "pto/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pto_scope_mode {
    PTO_SCOPE_AUTO = 0,   /* dependencies inferred from tensor regions */
    PTO_SCOPE_MANUAL = 1  /* scope-local data ordered by explicit deps */
} pto_scope_mode_t;

/* The three kernels of a mixed task, PTO_KERNEL_NONE for an unused slot. */
#define PTO_KERNEL_NONE UINT32_MAX
typedef struct pto_mixed_kernels {
    uint32_t aic;
    uint32_t aiv0;
    uint32_t aiv1;
} pto_mixed_kernels_t;

/* Open a nested scope. Runtime-created tensors of tasks submitted in it live
 * until it ends (and their readers finish). Errors: PTO_ESCOPE when nesting
 * would exceed PTO_MAX_SCOPE_DEPTH or AUTO is opened inside an active MANUAL
 * scope; PTO_EINVAL for an unknown mode. Never blocks. */
PTO_API int pto_scope_begin(pto_orch_t *o, pto_scope_mode_t mode);

/* Close the innermost scope opened by pto_scope_begin. PTO_ESCOPE when no
 * such scope is open (the outer scope of pto_run cannot be closed). May
 * retire work; never blocks. */
PTO_API int pto_scope_end(pto_orch_t *o);

/*
 * Block form:  PTO_SCOPE(o, PTO_SCOPE_AUTO) { ...submits... }
 * The body runs once, between pto_scope_begin and pto_scope_end (two nested
 * for-loops underneath). `break` and `continue` leave the body early and
 * still end the scope; they do not reach a loop around the PTO_SCOPE.
 * `return` (or goto out of the block) skips pto_scope_end: the scope stays
 * open, and pto_run then fails the run with PTO_ESCOPE ("scope opened at
 * depth N was never closed") after ending it, so the mistake is reported,
 * not silently repaired. If pto_scope_begin fails, the body does not run and
 * nothing is ended. Nested PTO_SCOPEs must be on different lines.
 */
#define PTO__CAT2(a, b) a##b
#define PTO__CAT(a, b) PTO__CAT2(a, b)
#define PTO__SCOPE_OK PTO__CAT(pto__scope_ok_, __LINE__)
#define PTO__SCOPE_DONE PTO__CAT(pto__scope_done_, __LINE__)
#define PTO__SCOPE_ONCE PTO__CAT(pto__scope_once_, __LINE__)
#define PTO_SCOPE(o, mode)                                                     \
    for (int PTO__SCOPE_OK = pto_scope_begin((o), (mode)) == 0,                \
             PTO__SCOPE_DONE = 0;                                              \
         !PTO__SCOPE_DONE;                                                     \
         PTO__SCOPE_DONE = 1,                                                  \
             PTO__SCOPE_OK ? (void)pto_scope_end(o) : (void)0)                 \
        for (int PTO__SCOPE_ONCE = PTO__SCOPE_OK; PTO__SCOPE_ONCE;             \
             PTO__SCOPE_ONCE = 0)

/* Submit a task running kernel_id on one AIC core / one AIV core. Returns its
 * id, or the NONE id on failure (then see pto_orch_status). Errors: the args'
 * own error; PTO_EKERNEL (unregistered id); PTO_ETENSOR; PTO_ELIFETIME;
 * PTO_EDEP (explicit dep never issued: garbage, future, own id, bad ring);
 * PTO_ETOOBIG (outputs larger than the heap ring, more dependencies than the
 * node pool); PTO_EDEADLOCK. Blocks on back-pressure only. */
PTO_API pto_task_id_t pto_submit_aic(pto_orch_t *o, uint32_t kernel_id,
                                     pto_args_t *a);
PTO_API pto_task_id_t pto_submit_aiv(pto_orch_t *o, uint32_t kernel_id,
                                     pto_args_t *a);
/* Submit a mixed task: its kernels (up to one per core of a cluster) start
 * together on one cluster. PTO_EINVAL when all three are PTO_KERNEL_NONE. */
PTO_API pto_task_id_t pto_submit_mixed(pto_orch_t *o,
                                       const pto_mixed_kernels_t *mk,
                                       pto_args_t *a);
/* Allocate the args' OUTPUT tensors without running a kernel: a task with an
 * id (usable as a dep) that completes at once; its buffers live until its
 * scope ends and their readers finish. Only OUTPUT slots and no scalars
 * allowed (PTO_EINVAL otherwise). */
PTO_API pto_task_id_t pto_alloc_tensors(pto_orch_t *o, pto_args_t *a);

/* Read one element of t (index idx[0..ndim) in view coordinates) into
 * *out (pto_dtype_size bytes), after waiting for every earlier task that
 * writes it. Write one element: waits for every earlier reader and writer
 * of it first; tasks submitted later see the value. For a manual-local
 * tensor (its accesses are not tracked) both wait for every task submitted
 * so far in the open MANUAL scopes. Errors (sticky, like a failed submit):
 * PTO_EINVAL (NULL), PTO_ETENSOR, PTO_EBOUNDS (index outside the view),
 * PTO_ELIFETIME; and the run's failure (e.g. PTO_EKERNELFAIL) when a kernel
 * failed, before or while it waited: the element is then neither read nor
 * written. Blocks until those tasks completed. Rule against back-pressure:
 * it needs no ring space and waits only for tasks already submitted, so it
 * never waits for the orchestrator itself (a deferral that is never
 * signalled is the one wait that never ends). */
PTO_API int pto_tensor_get(pto_orch_t *o, const pto_tensor_t *t,
                           const uint32_t *idx, void *out);
PTO_API int pto_tensor_set(pto_orch_t *o, const pto_tensor_t *t,
                           const uint32_t *idx, const void *val);

/* Sticky first error of this run, 0 if none. */
PTO_API int pto_orch_status(const pto_orch_t *o);
/* The runtime this orchestration runs on. */
PTO_API pto_runtime_t *pto_orch_runtime(const pto_orch_t *o);

PTO_API bool pto_task_id_is_none(pto_task_id_t id);
PTO_API pto_task_id_t pto_task_id_none(void);

#ifdef __cplusplus
}
#endif

#endif /* PTO_ORCH_H */
