/*
 * scheduler.c - ready, complete, release, consume, retire.
 *
 * The protocol (edges, fanin guard, references, slot reuse) is stated in
 * task.h; the ring arithmetic in ring.h. This file adds the ordering
 * arguments at each atomic.
 *
 * Happens-before from a producer's kernel to its consumer's kernel:
 *   producer kernel -> exchange CLOSED on producer.fanout (acq_rel) ->
 *   fetch_sub on consumer.fanin_pending (acq_rel; the RMW chain carries the
 *   release to whoever takes it to 0) -> ready-queue push (release) ->
 *   pop (acquire) -> consumer kernel.
 * When the orchestrator finds a producer already CLOSED, its acquire load of
 * CLOSED pairs with that exchange, and its own guard drop (acq_rel) and push
 * continue the chain.
 *
 * Watermark advance without a lost wake-up (the seed's try-lock could miss a
 * task consumed while another thread was finishing its scan): the thread
 * that consumes a task stores CONSUMED (seq_cst), then tries the ring's lock.
 * The lock holder, after releasing the lock (seq_cst), re-reads the state of
 * the slot at the new tail (seq_cst) and loops if it became CONSUMED. In the
 * single total order of seq_cst operations either the failing try-lock came
 * before the unlock - then the CONSUMED store precedes the re-check and is
 * seen - or after it, and then the try-lock succeeds.
 */
#include "scheduler.h"

#include "debug.h"
#include "futex.h"
#include "platform.h"
#include "trace.h"

pto_shape_t pto__sched_shape(const uint32_t kernel[3], uint8_t *nsub)
{
    bool aic = kernel[PTO_ROLE_AIC] != PTO_KERNEL_NONE;
    unsigned aiv = (kernel[PTO_ROLE_AIV_A] != PTO_KERNEL_NONE) +
                   (kernel[PTO_ROLE_AIV_B] != PTO_KERNEL_NONE);
    *nsub = (uint8_t)(aic + aiv);
    if (aic)
        return aiv == 0 ? PTO_SHAPE_AIC
                        : (aiv == 1 ? PTO_SHAPE_AIC_AIV : PTO_SHAPE_AIC_AIV2);
    if (aiv == 1)
        return PTO_SHAPE_AIV;
    return aiv == 2 ? PTO_SHAPE_AIV2 : PTO_SHAPE_NONE;
}

static void complete(pto_runtime_t *rt, pto_task_t *t);

static PTO_COLD void trace_ready(pto_runtime_t *rt, const pto_task_t *t)
{
    uint64_t now = pto_now_ns();
    pto__trace_emit(rt, PTO_EV_READY, now, now, t->id, 0, 0);
}

void pto__sched_ready(pto_runtime_t *rt, pto_task_t *t)
{
    if (t->shape == PTO_SHAPE_NONE) {
        /* alloc_tensors: nothing to run, its producers are done. */
        complete(rt, t);
        return;
    }
    pto_store(&t->state, PTO_TASK_READY, pto_relaxed);
    if (pto_unlikely(pto__trace_on(rt)))
        trace_ready(rt, t);
    pto__platform_ready(rt->plat, t);
}

static void release_fanin(pto_runtime_t *rt, pto_task_t *c)
{
    pto__debug_yield();
    /* acq_rel: the release carries this producer's writes along the RMW
     * chain; the acquire lets the thread that reaches 0 see all of them. */
    if (pto_fetch_sub(&c->fanin_pending, 1, pto_acq_rel) == 1)
        pto__sched_ready(rt, c);
}

/* Drop the references this task took on the producers it read from. Its
 * nodes are still ours: they are reclaimed only when this task retires. */
static void release_retained(pto_runtime_t *rt, pto_task_t *t)
{
    if (t->ndeps == 0)
        return;
    pto_ring_t *r = &rt->rings[t->ring];
    uint32_t i = t->dep_first;
    for (uint32_t k = 0; k < t->ndeps; k++) {
        pto_dep_node_t *n = &r->nodes[i];
        if (n->retain)
            pto__sched_drop_ref(rt, n->producer);
        i = pto__ring_node_next(r, i);
    }
}

static void complete(pto_runtime_t *rt, pto_task_t *t)
{
    pto_store(&t->state, PTO_TASK_COMPLETED, pto_relaxed);
    /* acq_rel: release publishes the kernel's writes to consumers that will
     * find CLOSED; acquire makes the nodes pushed (CAS release) readable. */
    pto_dep_node_t *n = pto_xchg(&t->fanout, PTO_FANOUT_CLOSED, pto_acq_rel);
    while (n) {
        /* Read next before the release: once released, the consumer may
         * run, retire and have its node reused. */
        pto_dep_node_t *next = n->next;
        pto__debug_yield();
        release_fanin(rt, n->consumer);
        n = next;
    }
    pto__debug_yield();
    release_retained(rt, t);
    pto__debug_yield();
    pto__sched_drop_ref(rt, t);
}

void pto__sched_subtask_done(pto_runtime_t *rt, pto_task_t *t)
{
    /* acq_rel: the last invocation to finish must see the others' writes
     * before it publishes completion. */
    if (pto_fetch_sub(&t->subtasks_left, 1, pto_acq_rel) == 1)
        complete(rt, t);
}

void pto__sched_drop_ref(pto_runtime_t *rt, pto_task_t *t)
{
    /* acq_rel: the thread that reaches 0 must see every reader's use of
     * the buffers finished before the slot (and heap) can be reused. */
    if (pto_fetch_sub(&t->refs, 1, pto_acq_rel) != 1)
        return;
    /* seq_cst: pairs with the lock holder's re-check (see the header). */
    pto_store(&t->state, PTO_TASK_CONSUMED, pto_seq_cst);
    pto__debug_yield();
    pto__sched_advance(rt, &rt->rings[t->ring]);
}

/* Ring r's tail moved to `tail`: wake the orchestrator if it waits for
 * that (each wake is a system call, so it names the tail it needs). Only
 * the thread that swaps orch_waiting from 1 to 0 wakes it: one wake per
 * park, however many tails move before the orchestrator runs again (it
 * sets the flag anew before it re-checks and parks). */
static void wake_orchestrator(pto_runtime_t *rt, const pto_ring_t *r,
                              uint32_t tail)
{
    /* seq_cst: the tail store (seq_cst, in advance_locked) and this load
     * form the Dekker pair with the orchestrator's park (orch.c). */
    if (!pto_load(&rt->orch_waiting, pto_seq_cst))
        return;
    /* relaxed: written before the waiting flag we just read (see
     * runtime_impl.h). */
    uint32_t ring = pto_load(&rt->orch_wait_ring, pto_relaxed);
    if (ring != PTO_WAIT_ANY_RING &&
        (ring != r->index ||
         pto__seq_before(tail, pto_load(&rt->orch_wait_seq, pto_relaxed))))
        return;
    /* seq_cst: claims this park's wake; the increment below is what the
     * orchestrator's futex_wait compares against. */
    if (pto_xchg(&rt->orch_waiting, 0, pto_seq_cst) != 1)
        return;
    pto_fetch_add(&rt->orch_wake, 1, pto_release);
    pto_futex_wake(&rt->orch_wake, 1);
}

/* Scan and publish under the lock; returns the new tail. */
static uint32_t advance_locked(pto_ring_t *r)
{
    uint32_t tail = pto_load(&r->tail, pto_relaxed);
    /* acquire: pairs with the orchestrator's release of head, so slots
     * below head are initialised (state reset to PENDING on reuse). */
    uint32_t head = pto_load(&r->head, pto_acquire);
    uint32_t t = tail;
    while (t != head &&
           pto_load(&pto__ring_slot(r, t)->state, pto_seq_cst) ==
               PTO_TASK_CONSUMED)
        t++;
    if (t != tail)
        /* seq_cst: release for the orchestrator's reclaim (the slots below
         * t are done with and may be reused), and one half of the parking
         * Dekker pair (see wake_orchestrator). */
        pto_store(&r->tail, t, pto_seq_cst);
    return t;
}

void pto__sched_advance(pto_runtime_t *rt, pto_ring_t *r)
{
    bool moved = false;
    uint32_t t = 0;
    for (;;) {
        uint32_t unlocked = 0;
        if (!pto_cas(&r->advance_lock, &unlocked, 1, pto_seq_cst,
                     pto_seq_cst))
            break; /* the holder's re-check will see our CONSUMED */
        uint32_t before = pto_load(&r->tail, pto_relaxed);
        t = advance_locked(r);
        moved |= t != before;
        pto_store(&r->advance_lock, 0, pto_seq_cst);
        pto__debug_yield();
        uint32_t head = pto_load(&r->head, pto_acquire);
        if (t == head ||
            pto_load(&pto__ring_slot(r, t)->state, pto_seq_cst) !=
                PTO_TASK_CONSUMED)
            break;
    }
    if (moved)
        wake_orchestrator(rt, r, t);
}
