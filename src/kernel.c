/*
 * kernel.c - the kernel side: the invocation context and its accessors,
 * failing a task, and deferred completion.
 *
 * Failure. pto_kernel_fail records the run's first failure and sets
 * rt->skip_kernels; every core checks that flag before starting a kernel,
 * so no task that depends on the failing one runs (a dependent becomes
 * ready only after the failing task completes, which is after the flag's
 * store: the completion chain carries it). Tasks keep completing without
 * running, so the rings drain and pto_run returns.
 *
 * Deferred completion. A deferral takes an entry of rt->deferred (see
 * runtime_impl.h for the generation protocol) and adds one to the task's
 * subtasks_left: the invocation is then counted done twice, when its
 * kernel returns (by the core, as always) and when pto_task_complete is
 * called, and the task completes after the later of the two. So whatever
 * the kernel does after deferring - writing its outputs, failing the run
 * (run_msg) - happens-before the dependents and the drain, even when the
 * helper signals first.
 */
#include <stdio.h>

#include "debug.h"
#include "kernel_ctx.h"
#include "scheduler.h"
#include "trace.h"

static PTO_COLD void run_traced(pto_runtime_t *rt, const pto_task_t *t,
                                 uint32_t kernel_id, uint32_t block,
                                 const pto_kernel_ctx_t *ctx)
{
    uint64_t t0 = pto_now_ns();
    rt->kernels[kernel_id].fn(ctx);
    pto__trace_emit(rt, PTO_EV_TASK, t0, pto_now_ns(), t->id, kernel_id,
                    block);
}

void pto__kernel_invoke(pto_runtime_t *rt, pto_task_t *t, uint32_t kernel_id,
                        uint32_t subtask, uint32_t cluster, uint32_t block)
{
    pto_kernel_ctx_t ctx = {
        .rt = rt,
        .task = t,
        .kernel_id = kernel_id,
        .subtask = subtask,
        .cluster = cluster,
        .block_index = block,
        .deferred = 0,
    };
    /* relaxed: see the failure paragraph above for the ordering. */
    if (!pto_load(&rt->skip_kernels, pto_relaxed)) {
        pto_store(&t->state, PTO_TASK_RUNNING, pto_relaxed);
        if (pto_unlikely(pto__trace_on(rt)))
            run_traced(rt, t, kernel_id, block, &ctx);
        else
            rt->kernels[kernel_id].fn(&ctx);
    }
    /* A deferred invocation also waits for its pto_task_complete. */
    pto__sched_subtask_done(rt, t);
}

const pto_tensor_t *pto_kernel_tensor(const pto_kernel_ctx_t *c, uint32_t i)
{
    if (!c || i >= c->task->ntensors)
        return NULL;
    return &c->task->tensors[i];
}

uint32_t pto_kernel_tensor_count(const pto_kernel_ctx_t *c)
{
    return c ? c->task->ntensors : 0;
}

uint64_t pto_kernel_scalar(const pto_kernel_ctx_t *c, uint32_t i)
{
    if (!c || i >= c->task->nscalars)
        return 0;
    return c->task->scalars[i];
}

uint32_t pto_kernel_scalar_count(const pto_kernel_ctx_t *c)
{
    return c ? c->task->nscalars : 0;
}

pto_subtask_t pto_kernel_subtask(const pto_kernel_ctx_t *c)
{
    return c ? (pto_subtask_t)c->subtask : PTO_SUBTASK_AIC;
}

uint32_t pto_kernel_cluster(const pto_kernel_ctx_t *c)
{
    return c ? c->cluster : 0;
}

uint32_t pto_kernel_block_index(const pto_kernel_ctx_t *c)
{
    return c ? c->block_index : 0;
}

uint32_t pto_kernel_block_num(const pto_kernel_ctx_t *c)
{
    return c ? c->task->block_num : 1;
}

pto_task_id_t pto_kernel_task_id(const pto_kernel_ctx_t *c)
{
    return c ? c->task->id : PTO_TASK_ID_NONE;
}

void pto_kernel_fail(const pto_kernel_ctx_t *c, const char *msg)
{
    if (!c)
        return;
    pto_runtime_t *rt = c->rt;
    char kn[PTO_KERNEL_NAME_MAX + 8];
    pto__kernel_name(rt, c->kernel_id, kn, sizeof(kn));
    (void)pto__run_fail(rt, PTO_EKERNELFAIL,
                        "kernel %s (task %u:%u, block %u) failed: %s", kn,
                        pto__task_ring(c->task->id),
                        pto__task_seq(c->task->id), c->block_index,
                        msg ? msg : "(no message)");
    /* relaxed: ordered for dependents by the completion chain (above). */
    pto_store(&rt->skip_kernels, 1, pto_relaxed);
}

static pto_completion_t completion_invalid(void)
{
    pto_completion_t h = {NULL, UINT32_MAX, 0};
    return h;
}

pto_completion_t pto_kernel_defer(const pto_kernel_ctx_t *c)
{
    if (!c || c->deferred)
        return completion_invalid();
    pto_runtime_t *rt = c->rt;
    uint32_t start = pto_load(&rt->deferred_hint, pto_relaxed);
    for (uint32_t k = 0; k < PTO_MAX_DEFERRED; k++) {
        uint32_t i = (start + k) % PTO_MAX_DEFERRED;
        pto_deferred_t *d = &rt->deferred[i];
        uint32_t g = pto_load(&d->gen, pto_relaxed);
        if (g & 1u)
            continue;
        /* acquire: the entry's previous completion (release) is over;
         * we own it until we publish the odd generation's task below. */
        if (!pto_cas(&d->gen, &g, g + 1, pto_acquire, pto_relaxed))
            continue;
        pto_store(&d->task, c->task, pto_relaxed);
        /* relaxed: published by the release store of pub below. */
        pto_store(&d->id, c->task->id, pto_relaxed);
        pto_store(&d->kernel, c->kernel_id, pto_relaxed);
        pto_store(&d->block, c->block_index, pto_relaxed);
        /* release: pto_deferred_pending reads the fields after seeing it. */
        pto_store(&d->pub, g + 1, pto_release);
        /* relaxed: this thread decrements after the kernel returns, and
         * pto_task_complete runs after it got the handle; both follow
         * this increment in the counter's modification order. */
        pto_fetch_add(&c->task->subtasks_left, 1, pto_relaxed);
        ((pto_kernel_ctx_t *)c)->deferred = 1;
        pto_store(&rt->deferred_hint, i + 1, pto_relaxed);
        pto_completion_t h = {rt, i, g + 1};
        return h;
    }
    pto_kernel_fail(c, "more than 4096 deferred completions outstanding "
                       "(PTO_MAX_DEFERRED)");
    return completion_invalid();
}

int pto_task_complete(pto_completion_t h)
{
    pto_runtime_t *rt = h.rt;
    if (!rt || h.index >= PTO_MAX_DEFERRED || !(h.gen & 1u))
        return PTO_ECOMPLETION;
    pto_deferred_t *d = &rt->deferred[h.index];
    uint32_t g = h.gen;
    /* Read the task before freeing the entry: a new deferral may take it
     * the moment the generation turns even. The handle's issuer wrote
     * task before returning the handle, and the handle reached us through
     * the user's own synchronisation. */
    pto_task_t *t = pto_load(&d->task, pto_relaxed);
    pto__debug_yield();
    /* acq_rel: exactly one completion wins; release frees the entry. */
    if (!pto_cas(&d->gen, &g, g + 1, pto_acq_rel, pto_relaxed))
        return PTO_ECOMPLETION;
    pto__sched_subtask_done(rt, t);
    return 0;
}

uint32_t pto_deferred_pending(const pto_runtime_t *rt, pto_pending_t *out,
                              uint32_t n)
{
    if (!rt)
        return 0;
    uint32_t found = 0;
    for (uint32_t i = 0; i < PTO_MAX_DEFERRED; i++) {
        pto_deferred_t *d = &rt->deferred[i];
        /* acquire: pairs with the release of pub in pto_kernel_defer. */
        uint32_t g = pto_load(&d->gen, pto_acquire);
        if (!(g & 1u) || pto_load(&d->pub, pto_acquire) != g)
            continue;
        pto_pending_t p = {pto_load(&d->id, pto_relaxed),
                           pto_load(&d->kernel, pto_relaxed),
                           pto_load(&d->block, pto_relaxed)};
        /* Still the same deferral after reading it? (else skip it: it was
         * signalled meanwhile, and the fields may be a newer one's). */
        if (pto_load(&d->gen, pto_acquire) != g)
            continue;
        if (found < n && out)
            out[found] = p;
        found++;
    }
    return found;
}
