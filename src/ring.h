/*
 * ring.h - one ring set (one per scope depth): the task window, the heap
 * ring for runtime-created outputs, and the dependency-node pool.
 *
 * Task window. Free-running 32-bit sequence numbers; slot = seq & mask.
 * `head` (next seq, published by the orchestrator) and `tail` (the
 * watermark: first seq not yet retired, advanced by pto__sched_advance) live
 * on separate cache lines. Live tasks are [tail, head); full when
 * head - tail == window - 1 (one slot is always left free, as in the seed,
 * so a ring holds at least W-1 tasks and the full/empty tests never
 * collide); empty when head == tail. Slots are retired strictly in seq order.
 *
 * Heap ring. Byte positions top (next allocation) and tail (start of the
 * oldest live allocation) in [0, cap] (top == cap when a block ends exactly at the end). A task's outputs are one packed block,
 * each output aligned to PTO_HEAP_ALIGN, and a block never straddles the end
 * (if it does not fit before the end it starts at 0 and the end is skipped).
 * top == tail means empty; an allocation may bring top up to but never onto
 * tail from below, so "full" and "empty" cannot be confused. Every task,
 * including ones with no outputs, records heap_end = top after its
 * allocation; retiring task s sets tail = heap_end(s). When the heap is
 * empty (top == tail) mid-heap, the next block rewinds top and tail to 0
 * (a request of the whole heap fits again - the seed could stay stuck
 * mid-heap - and the bytes just used are reused). A task whose block
 * wrapped is marked (heap_wrap); once it is the oldest live task the end it
 * skipped is free and tail becomes 0 (pto__ring_heap_reclaimed).
 *
 * Early wrap. A block also wraps to 0 while there is still room before the
 * end, once [0, tail) holds it plus four times the live span [tail, top)
 * and no live task of the ring is held by an open scope (held_n == 0). The
 * bytes touched then stay within ~5x the live span, so a large heap that
 * is mostly idle never becomes resident (pto-bench pa: a 64 MiB heap with
 * < 1 MiB live used to reach 76 MiB RSS). The held test keeps capacity:
 * the skipped end is unusable only until the live span before it retires,
 * and with nothing held that needs no action of the orchestrator, so an
 * early wrap can delay a submit but never turn it into a deadlock.
 *
 * Held stack. Seqs of the tasks that hold a reference from their (open)
 * scope, pushed at submit; a scope records the stack height at its begin and
 * pops back to it at its end, dropping those references. At most one entry
 * per live task, so `window` entries suffice.
 *
 * Node pool. A task's dependency nodes are taken in seq order, node_used
 * counts live ones; retiring a task returns its count. Indices wrap at cap.
 *
 * Who writes what:
 *   orchestrator only:  alloc_seq, seen_tail, heap_top/tail, node_top/used,
 *                       priv[] (per-slot bookkeeping), slot payloads before
 *                       publication
 *   scheduler (any core, under advance_lock): tail
 *   read-only after create: everything in the "fixed" group
 */
#ifndef PTO_RING_H
#define PTO_RING_H

#include <stdint.h>

#include "atomics.h"
#include "task.h"

#define PTO_HEAP_ALIGN 64u

/* Orchestrator-private bookkeeping for one slot. */
typedef struct pto_slot_priv {
    uint64_t heap_end;   /* heap top after this task's allocation */
    uint64_t dedup_mark; /* submit serial of the last consumer that listed it */
    uint32_t dedup_idx;  /* its index in that consumer's producer list */
    uint32_t ndeps;      /* nodes this task took from the pool */
    uint8_t scope_held;  /* owns buffers and its scope is still open */
    uint8_t scope_depth; /* depth of that scope */
    uint8_t heap_wrap;   /* its block wrapped to offset 0 */
    uint8_t pad_;
} pto_slot_priv_t;

typedef struct pto_ring {
    /* Shared: orchestrator -> scheduler. */
    PTO_ALIGNED_CL _Atomic uint32_t head;
    /* Shared: scheduler -> orchestrator. */
    PTO_ALIGNED_CL _Atomic uint32_t tail;
    _Atomic uint32_t advance_lock;
    /* Fixed after create. */
    PTO_ALIGNED_CL uint32_t window;
    uint32_t mask;
    uint32_t index;
    uint32_t node_cap;
    uint64_t heap_cap;
    pto_task_t *tasks;
    pto_tensor_t *tensor_store; /* window * PTO_MAX_TENSOR_ARGS */
    uint64_t *scalar_store;     /* window * PTO_MAX_SCALAR_ARGS */
    pto_dep_node_t *nodes;
    uint8_t *heap;
    pto_slot_priv_t *priv;
    uint32_t *held;                    /* scope-held seqs, a stack */
    /* Orchestrator-private. */
    PTO_ALIGNED_CL uint32_t alloc_seq; /* == head outside a submit */
    uint32_t seen_tail;                /* tail as of the last reclaim */
    uint64_t heap_top;
    uint64_t heap_tail;
    uint8_t heap_wrapped;              /* the last heap_try wrapped to 0 */
    uint32_t node_top;
    uint32_t node_used;
    uint32_t high_water;               /* most live tasks seen */
    uint32_t held_n;                   /* entries on the held stack */
    uint64_t issued;                   /* ids ever issued on this ring */
} pto_ring_t;

int pto__ring_init(pto_ring_t *r, uint32_t index, uint32_t window,
                   uint64_t heap_bytes, uint32_t node_cap);
void pto__ring_fini(pto_ring_t *r);

static inline pto_task_t *pto__ring_slot(pto_ring_t *r, uint32_t seq)
{
    return &r->tasks[seq & r->mask];
}

static inline pto_slot_priv_t *pto__ring_priv(pto_ring_t *r, uint32_t seq)
{
    return &r->priv[seq & r->mask];
}

/* Live tasks as the orchestrator sees them (orchestrator only). */
static inline uint32_t pto__ring_live(const pto_ring_t *r)
{
    return r->alloc_seq - r->seen_tail;
}

/* Try to carve `bytes` (a multiple of PTO_HEAP_ALIGN, may be 0) from the
 * heap ring. Returns the offset, or UINT64_MAX when it does not fit now.
 * Orchestrator only. */
uint64_t pto__ring_heap_try(pto_ring_t *r, uint64_t bytes);

/* Task seq was just given the last heap_try's block: record where its
 * block ends and whether it wrapped. Orchestrator only. */
static inline void pto__ring_heap_note(pto_ring_t *r, uint32_t seq)
{
    pto_slot_priv_t *pv = pto__ring_priv(r, seq);
    pv->heap_end = r->heap_top;
    pv->heap_wrap = r->heap_wrapped;
}

/* After retiring up to seen_tail (heap_tail = the last one's heap_end):
 * when the oldest live task is the one whose block wrapped, everything
 * before it is gone, so the end it skipped is free too and its block at 0
 * is the oldest: tail = 0 exactly. Without this the skipped end would stay
 * counted as live until that task retired. Orchestrator only. */
static inline void pto__ring_heap_reclaimed(pto_ring_t *r)
{
    if (pto__ring_live(r) > 0 && pto__ring_priv(r, r->seen_tail)->heap_wrap)
        r->heap_tail = 0;
}

/* Free node-pool entries (orchestrator only). */
static inline uint32_t pto__ring_nodes_free(const pto_ring_t *r)
{
    return r->node_cap - r->node_used;
}

/* Take n consecutive (wrapping) nodes; returns the first index.
 * Precondition: pto__ring_nodes_free(r) >= n. Orchestrator only. */
uint32_t pto__ring_nodes_take(pto_ring_t *r, uint32_t n);

static inline uint32_t pto__ring_node_next(const pto_ring_t *r, uint32_t i)
{
    return i + 1 == r->node_cap ? 0 : i + 1;
}

/* Reset to empty between runs (no live tasks). Orchestrator only. */
void pto__ring_reset(pto_ring_t *r);

#endif /* PTO_RING_H */
