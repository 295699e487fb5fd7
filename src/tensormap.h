/*
 * tensormap.h - the dependency tracker ("TensorMap"): which in-flight tasks
 * touched which tensor regions, so a new access can be ordered after every
 * earlier access it conflicts with.
 *
 * Semantics (DESIGN.md §2, AUTO mode): the orchestrator records every tracked
 * access (INPUT as a read; INOUT and OUTPUT_EXISTING as a write, INOUT also
 * as a read). A new *read* must follow every earlier overlapping *write*
 * (RAW); a new *write* must follow every earlier overlapping read and write
 * (WAR, WAW). Overlap is pto__tensor_overlap(): same buffer (base pointer)
 * and intersecting regions; conservative across layouts.
 *
 * The map is orchestrator-private: single-threaded, no atomics, no locks,
 * no allocation after create. Entries come from a fixed pool; the caller
 * checks pto__tensormap_free() before inserting (back-pressure is the
 * orchestrator's job, the map never grows).
 */
#ifndef PTO_SRC_TENSORMAP_H
#define PTO_SRC_TENSORMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "pto/runtime.h"
#include "pto/tensor.h"

typedef struct pto_tensormap pto_tensormap_t;

/* Called for each earlier access the new one must be ordered after. The same
 * producer may be reported more than once; the caller deduplicates. */
typedef void (*pto_tensormap_emit_fn)(void *ctx, pto_task_id_t producer);

/* A map of `entries` entries (>= 1) for task ids whose ring r has
 * ring_window[r] slots (a power of two): a task's entries are indexed by its
 * slot, seq & (ring_window[ring] - 1). Returns 0, PTO_EINVAL or PTO_ENOMEM. */
int pto__tensormap_create(uint32_t entries,
                          const uint32_t ring_window[PTO_RING_DEPTHS],
                          pto_tensormap_t **out);
void pto__tensormap_destroy(pto_tensormap_t *m);

/* Entries not in use. Each pto__tensormap_insert takes at most one. */
uint32_t pto__tensormap_free(const pto_tensormap_t *m);
/* Entries in total (the `entries` given to create). */
uint32_t pto__tensormap_capacity(const pto_tensormap_t *m);

/* Report (via emit) every recorded access that an access of `t` must follow:
 * write == false: recorded writes overlapping t; write == true: recorded
 * reads and writes overlapping t. Changes nothing a later lookup reports; it
 * only frees entries found stale (see pto__tensormap_set_tail). `emit` must
 * not call back into the map. */
/* (The tensor must not change during the call: the map reads it in place.) */
void pto__tensormap_lookup(pto_tensormap_t *m, const pto_tensor_t *t,
                           bool write, pto_tensormap_emit_fn emit, void *ctx);

/* Record that task `id` reads (write == false) or writes t. Precondition:
 * pto__tensormap_free(m) >= 1. A write also drops every recorded access whose
 * region t COVERS: the caller has ordered this task after them, so later
 * accesses reach them transitively through this one. One task may record
 * several accesses to one buffer. Ignored (never a crash): an insert with no
 * free entry (the precondition broken: that access's later edges are lost),
 * an invalid tensor, or an id that is NONE or names no ring. */
void pto__tensormap_insert(pto_tensormap_t *m, const pto_tensor_t *t,
                           bool write, pto_task_id_t id);

/* Forget every access recorded by task `id` (it retired). Called once per
 * task, before its slot is reused; O(entries of the task). */
void pto__tensormap_retire(pto_tensormap_t *m, pto_task_id_t id);

/* Ring `ring`'s retirement watermark: every task of that ring whose seq is
 * before `tail` (wrap-safe, pto__seq_before) has retired. Lookups skip such
 * entries and free them on the spot (the "stale cut"), so retire() may lag;
 * it remains the main way entries go. Until the first call for a ring (and
 * after a reset) no entry of it is stale. Rings >= PTO_RING_DEPTHS are
 * ignored. O(1). */
void pto__tensormap_set_tail(pto_tensormap_t *m, uint32_t ring, uint32_t tail);

/* Drop everything (end of a run, or after a failure), watermarks included;
 * the counters of pto__tensormap_stats keep running. O(capacity). */
void pto__tensormap_reset(pto_tensormap_t *m);

/* Counters for statistics and the benchmarks. */
typedef struct pto_tensormap_stats {
    uint64_t lookups;       /* pto__tensormap_lookup calls */
    uint64_t entries_walked;/* entries compared during lookups */
    uint64_t emitted;       /* producers reported */
    uint64_t inserts;
    uint64_t covered_drops; /* entries dropped because a write covered them */
} pto_tensormap_stats_t;
void pto__tensormap_stats(const pto_tensormap_t *m, pto_tensormap_stats_t *st);

#endif /* PTO_SRC_TENSORMAP_H */
