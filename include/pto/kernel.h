/*
 * pto/kernel.h - what a kernel sees while it runs on a core.
 *
 * Thread: these functions are for kernels only, with the ctx they were given,
 * during that invocation. None blocks.
 */
#ifndef PTO_KERNEL_H
#define PTO_KERNEL_H

#include "pto/runtime.h"
#include "pto/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Which core of its cluster a kernel invocation runs on. */
typedef enum pto_subtask {
    PTO_SUBTASK_AIC = 0,
    PTO_SUBTASK_AIV0 = 1,
    PTO_SUBTASK_AIV1 = 2
} pto_subtask_t;

/* i-th tensor in args order (every tag counts); NULL past the end. */
PTO_API const pto_tensor_t *pto_kernel_tensor(const pto_kernel_ctx_t *c,
                                              uint32_t i);
PTO_API uint32_t pto_kernel_tensor_count(const pto_kernel_ctx_t *c);
/* i-th scalar in args order; 0 past the end. */
PTO_API uint64_t pto_kernel_scalar(const pto_kernel_ctx_t *c, uint32_t i);
PTO_API uint32_t pto_kernel_scalar_count(const pto_kernel_ctx_t *c);
/* Fail this task and the run: no task that depends on it, directly or not,
 * runs (the CPU platform starts no further kernel of the run at all);
 * pto_run returns PTO_EKERNELFAIL with "kernel NAME (task ...) failed: msg".
 * The first failure of a run wins; msg is copied (may be NULL). */
PTO_API void pto_kernel_fail(const pto_kernel_ctx_t *c, const char *msg);
/* The core this invocation runs on (AIC, AIV0 or AIV1 of its cluster). */
PTO_API pto_subtask_t pto_kernel_subtask(const pto_kernel_ctx_t *c);
/* Cluster index the invocation runs on, 0..clusters-1. */
PTO_API uint32_t pto_kernel_cluster(const pto_kernel_ctx_t *c);
/* SPMD block index (0 for ordinary tasks) and block count (1 otherwise). */
PTO_API uint32_t pto_kernel_block_index(const pto_kernel_ctx_t *c);
PTO_API uint32_t pto_kernel_block_num(const pto_kernel_ctx_t *c);
/* Id of the running task. */
PTO_API pto_task_id_t pto_kernel_task_id(const pto_kernel_ctx_t *c);

/* A deferred completion: a small value, copy it to any thread. */
typedef struct pto_completion {
    pto_runtime_t *rt;
    uint32_t index;
    uint32_t gen;
} pto_completion_t;

/* Defer this invocation's completion: when the kernel returns, its task is
 * not complete until pto_task_complete(handle) is called (from any thread,
 * exactly once). A task with several invocations (mixed, SPMD) completes
 * when every invocation returned and every deferral was signalled. One
 * deferral per invocation: a second call returns an invalid handle. At most
 * PTO_MAX_DEFERRED (4096) deferrals are outstanding per runtime; past that
 * the task fails (PTO_EKERNELFAIL) and the handle is invalid. A deferral
 * never signalled keeps pto_run waiting. */
PTO_API pto_completion_t pto_kernel_defer(const pto_kernel_ctx_t *c);

/* Signal a deferred completion. 0, or PTO_ECOMPLETION for a handle that
 * was already completed, never issued or invalid. Thread: any. Never
 * blocks. */
PTO_API int pto_task_complete(pto_completion_t h);

/* One deferral that has not been signalled (pto_deferred_pending). */
typedef struct pto_pending {
    pto_task_id_t task;  /* the task waiting for pto_task_complete */
    uint32_t kernel_id;  /* the kernel that deferred */
    uint32_t block;      /* its SPMD block (0 otherwise) */
} pto_pending_t;

/* The deferrals issued and not yet signalled: fills up to n entries of out
 * (out may be NULL when n is 0) and returns how many there are (possibly
 * more than n). For a watchdog: a run that waits for a signal that never
 * comes does not return, so this is how its pending tasks can be named.
 * Thread: any, also during a run; a snapshot (an entry may be signalled
 * while it is read). Never blocks. 0 for a NULL rt. */
PTO_API uint32_t pto_deferred_pending(const pto_runtime_t *rt,
                                      pto_pending_t *out, uint32_t n);

#ifdef __cplusplus
}
#endif

#endif /* PTO_KERNEL_H */
