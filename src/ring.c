/*
 * ring.c - ring set storage, heap-ring and node-pool allocation. The index
 * arithmetic and the full/empty tests are stated in ring.h.
 */
#include "ring.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pto/errors.h"

/* aligned_alloc of a size that is a multiple of `align` (C11 7.22.3.1 asks
 * for one, and ASan rejects any other, so an odd heap_bytes such as 5000
 * would abort a sanitizer build); NULL when the rounded size overflows. */
static void *alloc_aligned(size_t align, uint64_t bytes)
{
    if (bytes > SIZE_MAX - (align - 1))
        return NULL;
    return aligned_alloc(align, ((size_t)bytes + align - 1) & ~(align - 1));
}

int pto__ring_init(pto_ring_t *r, uint32_t index, uint32_t window,
                   uint64_t heap_bytes, uint32_t node_cap)
{
    memset(r, 0, sizeof(*r));
    r->index = index;
    r->window = window;
    r->mask = window - 1;
    r->node_cap = node_cap;
    r->heap_cap = heap_bytes;
    /* calloc/malloc of large blocks map fresh zero pages: memory is only
     * committed as the ring is actually used. */
    r->tasks = alloc_aligned(PTO_CACHELINE, sizeof(pto_task_t) * window);
    r->tensor_store = malloc(sizeof(pto_tensor_t) * PTO_MAX_TENSOR_ARGS *
                             (size_t)window);
    r->scalar_store = malloc(sizeof(uint64_t) * PTO_MAX_SCALAR_ARGS *
                             (size_t)window);
    r->nodes = malloc(sizeof(pto_dep_node_t) * node_cap);
    r->heap = alloc_aligned(PTO_HEAP_ALIGN, heap_bytes);
    r->priv = calloc(window, sizeof(pto_slot_priv_t));
    r->held = calloc(window, sizeof(uint32_t));
    if (!r->tasks || !r->tensor_store || !r->scalar_store || !r->nodes ||
        !r->heap || !r->priv || !r->held) {
        pto__ring_fini(r);
        return PTO_ENOMEM;
    }
    for (uint32_t i = 0; i < window; i++) {
        pto_task_t *t = &r->tasks[i];
        memset(t, 0, sizeof(*t));
        /* An unused slot looks retired: closed, consumed. */
        pto_store(&t->fanout, PTO_FANOUT_CLOSED, pto_relaxed);
        pto_store(&t->state, PTO_TASK_CONSUMED, pto_relaxed);
        t->tensors = &r->tensor_store[(size_t)i * PTO_MAX_TENSOR_ARGS];
        t->scalars = &r->scalar_store[(size_t)i * PTO_MAX_SCALAR_ARGS];
        t->ring = (uint8_t)index;
    }
    return 0;
}

void pto__ring_fini(pto_ring_t *r)
{
    free(r->tasks);
    free(r->tensor_store);
    free(r->scalar_store);
    free(r->nodes);
    free(r->heap);
    free(r->priv);
    free(r->held);
    r->held = NULL;
    r->tasks = NULL;
    r->tensor_store = NULL;
    r->scalar_store = NULL;
    r->nodes = NULL;
    r->heap = NULL;
    r->priv = NULL;
}

/* The heap holds nothing (top == tail) but top sits mid-heap: rewind to 0.
 * Live tasks then all own zero bytes and record heap_end == top; rewrite
 * them to 0 so retiring them later keeps tail consistent. */
static void heap_rewind(pto_ring_t *r)
{
    for (uint32_t s = r->seen_tail; s != r->alloc_seq; s++) {
        pto__ring_priv(r, s)->heap_end = 0;
        pto__ring_priv(r, s)->heap_wrap = 0;
    }
    r->heap_top = 0;
    r->heap_tail = 0;
}

uint64_t pto__ring_heap_try(pto_ring_t *r, uint64_t bytes)
{
    r->heap_wrapped = 0;
    if (bytes == 0)
        return r->heap_top;
    uint64_t top = r->heap_top, tail = r->heap_tail;
    /* Empty mid-heap: rewind. Each live task is rewritten at most once
     * over all rewinds (the next rewind needs this block retired, and so
     * every older task), so this costs O(1) per task. */
    if (top == tail && top != 0) {
        heap_rewind(r);
        top = tail = 0;
    }
    if (top >= tail) {
        /* Free space: [top, cap) and [0, tail); early wrap: ring.h. */
        bool early = r->held_n == 0 && tail > bytes &&
                     tail - bytes >= 4 * (top - tail);
        if (!early && r->heap_cap - top >= bytes) {
            r->heap_top = top + bytes;
            return top;
        }
        if (tail > bytes) { /* strict: top must not land on tail */
            r->heap_top = bytes;
            r->heap_wrapped = 1;
            return 0;
        }
        return UINT64_MAX;
    }
    if (tail - top > bytes) {
        r->heap_top = top + bytes;
        return top;
    }
    return UINT64_MAX;
}

uint32_t pto__ring_nodes_take(pto_ring_t *r, uint32_t n)
{
    uint32_t first = r->node_top;
    uint32_t top = first + n;
    r->node_top = top >= r->node_cap ? top - r->node_cap : top;
    r->node_used += n;
    return first;
}

void pto__ring_reset(pto_ring_t *r)
{
    r->heap_top = 0;
    r->heap_tail = 0;
    r->heap_wrapped = 0;
    r->node_top = 0;
    r->node_used = 0;
    r->held_n = 0;
}
