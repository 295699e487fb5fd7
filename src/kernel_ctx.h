/*
 * kernel_ctx.h - what a kernel invocation is given (pto_kernel_ctx_t).
 *
 * A context lives on the stack of the core thread running the invocation
 * and is valid only during it; kernels reach it through the pto_kernel_*
 * accessors (kernel.c).
 */
#ifndef PTO_SRC_KERNEL_CTX_H
#define PTO_SRC_KERNEL_CTX_H

#include "runtime_impl.h"

struct pto_kernel_ctx {
    pto_runtime_t *rt;
    pto_task_t *task;
    uint32_t kernel_id;
    uint32_t subtask;     /* pto_subtask_t: the core it runs on */
    uint32_t cluster;
    uint32_t block_index;
    uint32_t deferred;    /* pto_kernel_defer was called (0/1) */
};

/* Run kernel `kernel_id` of task t as one invocation and count it done
 * (a deferred one is done once pto_task_complete counts it too). Skips the
 * kernel (but still counts it) once a kernel of the run failed. Core
 * threads only. */
void pto__kernel_invoke(pto_runtime_t *rt, pto_task_t *t, uint32_t kernel_id,
                        uint32_t subtask, uint32_t cluster, uint32_t block);

#endif /* PTO_SRC_KERNEL_CTX_H */
