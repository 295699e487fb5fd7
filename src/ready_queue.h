/*
 * ready_queue.h - bounded lock-free MPMC queue of ready tasks (one per
 * resource shape).
 *
 * Design: the sequence-numbered array queue (one cell per slot, each carrying
 * a sequence number that says whether it is free for the enqueue at position
 * p (seq == p) or holds the item for the dequeue at p (seq == p + 1)).
 * Producers claim positions with a CAS on `tail`, consumers with a CAS on
 * `head`; the two counters live on separate cache lines.
 *
 * Capacity: a power of two at least the number of tasks that can be live at
 * once (PTO_RING_DEPTHS * task_window), so a push never finds it full: every
 * queued task occupies a live ring slot. A push that ever did would spin
 * (never drop a task) - it cannot happen while that bound holds.
 *
 * Synchronisation: push may run concurrently with push and pop from any
 * thread, pop likewise. The cell's sequence store is the release that
 * publishes the item (push) / frees the cell (pop); the acquire load of the
 * sequence pairs with it. A pushed task's contents therefore happen-before
 * the popping core's reads of it.
 */
#ifndef PTO_READY_QUEUE_H
#define PTO_READY_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "atomics.h"

struct pto_task;

typedef struct pto_rq_cell {
    _Atomic uint64_t seq;
    struct pto_task *task;
} pto_rq_cell_t;

typedef struct pto_ready_queue {
    PTO_ALIGNED_CL _Atomic uint64_t tail; /* next enqueue position */
    PTO_ALIGNED_CL _Atomic uint64_t head; /* next dequeue position */
    PTO_ALIGNED_CL pto_rq_cell_t *cells;  /* read-only after init */
    uint64_t mask;
} pto_ready_queue_t;

/* capacity: rounded up to a power of two (>= 2). 0 or PTO_ENOMEM. */
int pto__rq_init(pto_ready_queue_t *q, uint64_t capacity);
void pto__rq_fini(pto_ready_queue_t *q);
void pto__rq_push(pto_ready_queue_t *q, struct pto_task *t);
/* NULL when empty. */
struct pto_task *pto__rq_pop(pto_ready_queue_t *q);
/* A hint: may be stale by the time the caller acts on it. seq_cst so the
 * park/wake protocol's Dekker pairs (push then check sleepers / announce
 * sleep then check queue) cannot both miss. */
static inline bool pto__rq_nonempty(pto_ready_queue_t *q)
{
    return pto_load(&q->tail, pto_seq_cst) != pto_load(&q->head, pto_seq_cst);
}

/* Queued items, as a hint (relaxed; may be stale or momentarily off). */
static inline uint64_t pto__rq_size_hint(pto_ready_queue_t *q)
{
    uint64_t t = pto_load(&q->tail, pto_relaxed);
    uint64_t h = pto_load(&q->head, pto_relaxed);
    return t > h ? t - h : 0;
}

#endif /* PTO_READY_QUEUE_H */
