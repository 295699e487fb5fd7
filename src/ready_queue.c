/*
 * ready_queue.c - see ready_queue.h for the design and its invariants.
 */
#include "ready_queue.h"

#include <stdlib.h>

#include "pto/errors.h"

int pto__rq_init(pto_ready_queue_t *q, uint64_t capacity)
{
    uint64_t cap = 2;
    q->cells = NULL;
    while (cap < capacity) {
        /* Stop before the doubling (or the cell array's byte size) would
         * overflow: the loop would otherwise shift cap to 0 and spin
         * forever on a capacity above 2^63. */
        if (cap > SIZE_MAX / 2 / sizeof(*q->cells))
            return PTO_ENOMEM;
        cap <<= 1;
    }
    q->cells = calloc(cap, sizeof(*q->cells));
    if (!q->cells)
        return PTO_ENOMEM;
    q->mask = cap - 1;
    for (uint64_t i = 0; i < cap; i++)
        pto_store(&q->cells[i].seq, i, pto_relaxed);
    pto_store(&q->head, 0, pto_relaxed);
    pto_store(&q->tail, 0, pto_relaxed);
    return 0;
}

void pto__rq_fini(pto_ready_queue_t *q)
{
    free(q->cells);
    q->cells = NULL;
}

void pto__rq_push(pto_ready_queue_t *q, struct pto_task *t)
{
    uint64_t pos = pto_load(&q->tail, pto_relaxed);
    for (;;) {
        pto_rq_cell_t *c = &q->cells[pos & q->mask];
        /* acquire: pairs with the pop's release that freed this cell. */
        uint64_t seq = pto_load(&c->seq, pto_acquire);
        int64_t dif = (int64_t)(seq - pos);
        if (dif == 0) {
            /* seq_cst claim: part of the push-then-check-sleepers pairing
             * (see pto__rq_nonempty). */
            if (pto_cas_weak(&q->tail, &pos, pos + 1, pto_seq_cst,
                             pto_relaxed)) {
                c->task = t;
                /* release: publishes c->task and the task's contents. */
                pto_store(&c->seq, pos + 1, pto_release);
                return;
            }
        } else if (dif < 0) {
            /* Full: impossible while capacity bounds the live tasks, but
             * never drop a task - wait for a pop. */
            pto_cpu_relax();
            pos = pto_load(&q->tail, pto_relaxed);
        } else {
            pos = pto_load(&q->tail, pto_relaxed);
        }
    }
}

struct pto_task *pto__rq_pop(pto_ready_queue_t *q)
{
    uint64_t pos = pto_load(&q->head, pto_relaxed);
    for (;;) {
        pto_rq_cell_t *c = &q->cells[pos & q->mask];
        /* acquire: pairs with the push's release of the item. */
        uint64_t seq = pto_load(&c->seq, pto_acquire);
        int64_t dif = (int64_t)(seq - (pos + 1));
        if (dif == 0) {
            if (pto_cas_weak(&q->head, &pos, pos + 1, pto_relaxed,
                             pto_relaxed)) {
                struct pto_task *t = c->task;
                /* release: frees the cell for the push one lap later. */
                pto_store(&c->seq, pos + q->mask + 1, pto_release);
                return t;
            }
        } else if (dif < 0) {
            return NULL; /* empty */
        } else {
            pos = pto_load(&q->head, pto_relaxed);
        }
    }
}
