/*
 * orch.c - the orchestrator: scopes and the submit path.
 *
 * A submit, in order (DESIGN.md §2):
 *   1. check the args, kernels and the lifetime of every runtime tensor;
 *   2. reclaim what the scheduler retired on the submitting ring, take a
 *      task slot, carve the outputs from the heap ring and make sure the
 *      tracker has room for this task's entries, waiting on back-pressure
 *      and failing with PTO_EDEADLOCK when the wait can never end;
 *   3. collect producers: explicit deps, tracker hits (AUTO-tracked
 *      tensors), creators of runtime tensors it touches (retained);
 *   4. fill the slot, record its accesses in the tracker, publish it, and
 *      wire it onto its producers' fanout lists (task.h states the
 *      protocol), then drop the +1 guard.
 *
 * Tracked tensors. Every tensor argument except NO_DEP and OUTPUT is
 * tracked, unless it is *manual-local*: created inside the outermost open
 * MANUAL scope. Manual-local tensors are ordered by explicit deps only (no
 * lookup, no insert); their creators are still kept alive (not ordered)
 * until the accessing task is done, so buffer lifetime never depends on
 * the user's deps. docs/manual-scope.md states the rules.
 *
 * Blocking. Only orch_wait() blocks. It parks on rt->orch_wake (futex)
 * after announcing itself in rt->orch_waiting; scheduler.c wakes it whenever a
 * ring tail moves. It gives up with PTO_EDEADLOCK when the resource it waits
 * for is pinned by a task that holds a reference of a scope that is still
 * open: only this thread could end that scope, and it is waiting.
 *
 * Nothing here allocates or locks: the producer list and every pool were
 * sized at create.
 */
#include "orch.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>

#include "debug.h"
#include "futex.h"
#include "graph.h"
#include "platform.h"
#include "scheduler.h"
#include "tensor.h"
#include "tensormap.h"
#include "trace.h"

/* How long one park lasts before the orchestrator re-checks on its own: a
 * safety net only (every tail move wakes it), long enough to cost nothing. */
#define PTO_ORCH_PARK_NS 20000000u

/* Largest SPMD block count: keeps nsub * block_num inside 32 bits. */
#define PTO_MAX_BLOCKS 65536u

typedef enum pto_wait_kind {
    PTO_WAIT_SLOT,
    PTO_WAIT_HEAP,
    PTO_WAIT_NODES,
    PTO_WAIT_MAP
} pto_wait_kind_t;

int pto__orch_create(pto_runtime_t *rt, pto_orch_t **out)
{
    pto_orch_t *o = calloc(1, sizeof(*o));
    if (!o)
        return PTO_ENOMEM;
    o->rt = rt;
    o->status = PTO_ESTATE; /* no run yet */
    /* Tracker hits are bounded by its entries, explicit deps and creators
     * by the args capacities; an element access in a MANUAL scope may list
     * every live task (collect_manual_tasks). */
    uint32_t live = PTO_RING_DEPTHS * rt->cfg.task_window;
    uint32_t hits = rt->cfg.tensormap_entries > live
                        ? rt->cfg.tensormap_entries
                        : live;
    o->prod_cap = hits + PTO_MAX_EXPLICIT_DEPS + PTO_MAX_TENSOR_ARGS;
    o->prod = malloc(sizeof(*o->prod) * o->prod_cap);
    o->prod_flags = malloc(o->prod_cap);
    if (!o->prod || !o->prod_flags) {
        pto__orch_destroy(o);
        return PTO_ENOMEM;
    }
    *out = o;
    return 0;
}

void pto__orch_destroy(pto_orch_t *o)
{
    if (!o)
        return;
    free(o->prod);
    free(o->prod_flags);
    free(o);
}

int pto__orch_fail(pto_orch_t *o, int code, const char *fmt, ...)
{
    if (o->status != 0)
        return o->status;
    o->status = code;
    char msg[PTO_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* A kernel may have failed first: the run reports the first failure. */
    (void)pto__run_fail(o->rt, code, "%s: %s", o->call, msg);
    return code;
}

/* The run already failed (here or in a kernel), or there is no run:
 * later calls are no-ops. Outside pto_run the status is PTO_ESTATE (set at
 * create and at every run's end), and the first call says so in
 * pto_last_error. */
static bool orch_failed(pto_orch_t *o)
{
    if (pto_unlikely(o->status == PTO_ESTATE && !o->in_run)) {
        snprintf(o->rt->last_error, sizeof(o->rt->last_error),
                 "orchestration call outside pto_run: the pto_orch_t is "
                 "only valid inside the orchestration function");
        return true;
    }
    if (pto_likely(o->status == 0)) {
        /* relaxed: a hint; a kernel failure seen late only costs a few
         * submits whose kernels will be skipped anyway. */
        int32_t s = pto_load(&o->rt->run_status, pto_relaxed);
        if (pto_likely(s == 0))
            return false;
        o->status = s;
    }
    return true;
}

static uint32_t ring_of_depth(uint32_t depth)
{
    return depth < PTO_RING_DEPTHS ? depth : PTO_RING_DEPTHS - 1;
}

/* ---- reclaim and back-pressure -------------------------------------- */

/* Fold in what the scheduler retired on ring r: tracker entries, dep
 * nodes, heap. */
static void reclaim(pto_orch_t *o, pto_ring_t *r)
{
    /* seq_cst (acquire would do for the data): pairs with the store of
     * tail in scheduler.c, so the retired slots are no longer touched by
     * any other thread; seq_cst for the parking Dekker pair (orch_wait).
     * On x86 and arm64 it costs the same as acquire. */
    uint32_t tail = pto_load(&r->tail, pto_seq_cst);
    if (tail == r->seen_tail)
        return;
    pto_tensormap_t *m = o->rt->tmap;
    for (uint32_t s = r->seen_tail; s != tail; s++) {
        pto_slot_priv_t *pv = pto__ring_priv(r, s);
        pto__tensormap_retire(m, pto__task_make_id(r->index, s));
        r->node_used -= pv->ndeps;
        pv->ndeps = 0;
        r->heap_tail = pv->heap_end;
    }
    r->seen_tail = tail;
    pto__ring_heap_reclaimed(r);
    pto__tensormap_set_tail(m, r->index, tail);
}

static void reclaim_all(pto_orch_t *o)
{
    for (uint32_t i = 0; i < PTO_RING_DEPTHS; i++)
        reclaim(o, &o->rt->rings[i]);
}

/* The oldest live task of r holds a reference of an open scope: nothing on
 * r can retire until this thread ends that scope. */
static bool ring_pinned(pto_ring_t *r)
{
    return pto__ring_live(r) > 0 && pto__ring_priv(r, r->seen_tail)->scope_held;
}

static bool all_rings_pinned(pto_orch_t *o)
{
    for (uint32_t i = 0; i < PTO_RING_DEPTHS; i++) {
        pto_ring_t *r = &o->rt->rings[i];
        if (pto__ring_live(r) > 0 && !ring_pinned(r))
            return false;
    }
    return true;
}

static bool wait_done(pto_orch_t *o, pto_ring_t *r, pto_wait_kind_t kind,
                      uint64_t need, uint64_t *heap_off)
{
    switch (kind) {
    case PTO_WAIT_SLOT:
        return pto__ring_live(r) < r->window - 1;
    case PTO_WAIT_HEAP:
        *heap_off = pto__ring_heap_try(r, need);
        return *heap_off != UINT64_MAX;
    case PTO_WAIT_NODES:
        return pto__ring_nodes_free(r) >= need;
    case PTO_WAIT_MAP:
        return pto__tensormap_free(o->rt->tmap) >= need;
    }
    return true;
}

static uint32_t pow2_at_least(uint64_t v)
{
    uint64_t p = 4;
    while (p < v && p < (1ull << 31))
        p <<= 1;
    return (uint32_t)p;
}

static int deadlock(pto_orch_t *o, pto_ring_t *r, pto_wait_kind_t kind,
                    uint64_t need)
{
    pto_task_t *pin = pto__ring_slot(r, r->seen_tail);
    char kn[PTO_KERNEL_NAME_MAX + 8];
    const char *hint = "run buffer-owning work in an inner scope "
                       "(pto_scope_begin) so it is released sooner";
    pto__task_kernel_name(o->rt, pin, kn, sizeof(kn));
    if (kind == PTO_WAIT_SLOT)
        return pto__orch_fail(
            o, PTO_EDEADLOCK,
            "flow-control deadlock: task ring %u (scope depth %u) is full, "
            "%u of %u slots live; the oldest, task %u:%u (kernel %s), owns "
            "buffers of a scope that is still open, so no slot can free; "
            "task_window %u would hold one more, or %s",
            r->index, o->depth, pto__ring_live(r), r->window, r->index,
            r->seen_tail, kn, pow2_at_least((uint64_t)r->window + 1), hint);
    if (kind == PTO_WAIT_HEAP)
        return pto__orch_fail(
            o, PTO_EDEADLOCK,
            "flow-control deadlock: heap ring %u (%llu bytes) cannot fit "
            "%llu more bytes; the oldest live task %u:%u (kernel %s) owns "
            "buffers of a scope that is still open; heap_bytes of at least "
            "%llu would fit, or %s",
            r->index, (unsigned long long)r->heap_cap,
            (unsigned long long)need, r->index, r->seen_tail, kn,
            (unsigned long long)(r->heap_cap + need), hint);
    if (kind == PTO_WAIT_NODES)
        return pto__orch_fail(
            o, PTO_EDEADLOCK,
            "flow-control deadlock: dependency-node pool of ring %u (%u "
            "entries) has %u free, task needs %llu; the oldest live task "
            "%u:%u (kernel %s) is held by an open scope; dep_pool_entries "
            "of at least %llu would fit, or %s",
            r->index, r->node_cap, pto__ring_nodes_free(r),
            (unsigned long long)need, r->index, r->seen_tail, kn,
            (unsigned long long)(r->node_used + need), hint);
    return pto__orch_fail(
        o, PTO_EDEADLOCK,
        "flow-control deadlock: the dependency tracker (%u entries) is full "
        "and every entry belongs to tasks held by open scopes; "
        "tensormap_entries of at least %u would fit, or %s",
        pto__tensormap_capacity(o->rt->tmap),
        pto__tensormap_capacity(o->rt->tmap) + (uint32_t)need, hint);
}

/* Park until a ring tail moves (or the safety time-out). */
static void orch_park(pto_orch_t *o, uint32_t seen_wake)
{
    pto_runtime_t *rt = o->rt;
    uint64_t t0 = pto_now_ns();
    pto__platform_orch_idle(rt->plat, true);
    pto_futex_wait(&rt->orch_wake, seen_wake, PTO_ORCH_PARK_NS);
    pto__platform_orch_idle(rt->plat, false);
    o->wait_ns += pto_now_ns() - t0;
}

/* Announce what tail the orchestrator waits for, then that it waits. */
static void orch_announce(pto_runtime_t *rt, uint32_t ring, uint32_t seq)
{
    /* relaxed: published by the seq_cst store of orch_waiting. */
    pto_store(&rt->orch_wait_ring, ring, pto_relaxed);
    pto_store(&rt->orch_wait_seq, seq, pto_relaxed);
    /* seq_cst store, then the seq_cst tail loads in reclaim: Dekker pair
     * with the scheduler's seq_cst tail store + waiting load. */
    pto_store(&rt->orch_waiting, 1, pto_seq_cst);
}

/* The tail a slot wait needs ring r to reach: one free slot, plus an
 * eighth of the window of slack so the scheduler wakes us once per batch
 * rather than once per task - but never past the oldest held task, which
 * the tail cannot pass (the held stack is in seq order). */
static uint32_t slot_wait_target(const pto_ring_t *r)
{
    uint32_t need = r->alloc_seq - r->window + 2;
    uint32_t target = need + r->window / 8;
    if (r->held_n > 0 && pto__seq_before(r->held[0], target))
        target = pto__seq_before(r->held[0], need) ? need : r->held[0];
    return target;
}

/* Wait until `kind` can be satisfied on ring r (need: bytes, nodes or
 * entries). 0, or PTO_EDEADLOCK when it never can be. */
static int orch_wait(pto_orch_t *o, pto_ring_t *r, pto_wait_kind_t kind,
                     uint64_t need, uint64_t *heap_off)
{
    pto_runtime_t *rt = o->rt;
    int rc = 0;
    uint64_t t0 = pto__trace_on(rt) ? pto_now_ns() : 0;
    o->waits++;
    for (;;) {
        /* acquire: pairs with the wake-up increment in scheduler.c. */
        uint32_t w = pto_load(&rt->orch_wake, pto_acquire);
        if (kind == PTO_WAIT_SLOT)
            orch_announce(rt, r->index, slot_wait_target(r));
        else
            orch_announce(rt, PTO_WAIT_ANY_RING, 0);
        reclaim_all(o);
        if (wait_done(o, r, kind, need, heap_off))
            break;
        bool stuck = kind == PTO_WAIT_MAP ? all_rings_pinned(o)
                                          : ring_pinned(r);
        if (stuck) {
            rc = deadlock(o, r, kind, need);
            break;
        }
        orch_park(o, w);
    }
    pto_store(&rt->orch_waiting, 0, pto_relaxed);
    if (pto__trace_on(rt))
        pto__trace_emit(rt, PTO_EV_WAIT, t0, pto_now_ns(), PTO_TASK_ID_NONE,
                        r->index, kind);
    return rc;
}

/* ---- argument checks -------------------------------------------------- */

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static const char *args_err_text(const pto_args_t *a)
{
    switch ((pto_args_err_t)a->err_detail) {
    case PTO_ARGS_ERR_TENSORS:
        return "more than 16 tensors (PTO_MAX_TENSOR_ARGS)";
    case PTO_ARGS_ERR_SCALARS:
        return "more than 32 scalars (PTO_MAX_SCALAR_ARGS)";
    case PTO_ARGS_ERR_DEPS:
        return "more than 16 explicit deps (PTO_MAX_EXPLICIT_DEPS)";
    case PTO_ARGS_ERR_TENSOR:
        return "an invalid tensor (failed constructor or view)";
    case PTO_ARGS_ERR_CREATE:
        return "an invalid create-info";
    case PTO_ARGS_ERR_NULL:
        return "a NULL pointer";
    case PTO_ARGS_ERR_SPMD:
        return "SPMD block_num 0 or unknown flags";
    default:
        return "unknown";
    }
}

static int check_kernels(pto_orch_t *o, const uint32_t kern[3])
{
    for (int i = 0; i < 3; i++) {
        uint32_t k = kern[i];
        if (k == PTO_KERNEL_NONE)
            continue;
        if (k >= PTO_MAX_KERNELS || !o->rt->kernels[k].fn)
            return pto__orch_fail(o, PTO_EKERNEL,
                                  "kernel id %u is not registered "
                                  "(ids 0..%u, pto_kernel_register)",
                                  k, PTO_MAX_KERNELS - 1);
    }
    return 0;
}

/* `id` names a task this runtime issued before the current submit. */
static bool id_issued(const pto_orch_t *o, pto_task_id_t id)
{
    uint32_t ring = pto__task_ring(id);
    if (ring >= PTO_RING_DEPTHS)
        return false;
    const pto_ring_t *r = &o->rt->rings[ring];
    uint32_t dist = r->alloc_seq - pto__task_seq(id);
    uint64_t span = r->issued < (1u << 31) ? r->issued : (1u << 31);
    return dist != 0 && dist <= span;
}

/* A runtime tensor is usable while the scope instance that created it is
 * open (the scope depth and serial it recorded still match; serials are
 * never reused by a runtime) and its creator was issued (a tensor forged
 * or carried over from another runtime could otherwise name the very task
 * being submitted). */
static bool tensor_alive(const pto_orch_t *o, const pto_tensor_t *t)
{
    if (!(t->flags & PTO_TENSOR_F_RUNTIME))
        return true;
    return t->scope_depth <= o->depth &&
           o->scope[t->scope_depth].serial == t->scope_serial &&
           id_issued(o, t->owner);
}

static int tensor_error(pto_orch_t *o, const pto_tensor_t *t, uint32_t i)
{
    if (t->status != 0 || t->ndim == 0 || !t->base)
        return pto__orch_fail(o, PTO_ETENSOR,
                              "tensor argument %u is invalid", i);
    return pto__orch_fail(o, PTO_ELIFETIME,
                          "tensor argument %u was created by task %u:%u in a "
                          "scope (depth %u) that has ended; runtime-created "
                          "tensors live only while their scope is open",
                          i, pto__task_ring(t->owner),
                          pto__task_seq(t->owner), t->scope_depth);
}

static bool is_tracked(const pto_orch_t *o, const pto_tensor_t *t,
                       uint8_t tag)
{
    if (tag == PTO_ARG_OUTPUT || tag == PTO_ARG_NO_DEP)
        return false;
    /* Manual-local: created inside the outermost open MANUAL scope
     * (scope_depth >= manual_depth; NO_MANUAL is the largest depth, so
     * nothing is local without one). */
    return !(t->flags & PTO_TENSOR_F_RUNTIME) ||
           t->scope_depth < o->manual_depth;
}

/* What one pass over a submit's tensors learns. */
typedef struct pto_scan {
    uint32_t tracked;   /* bit i: argument i goes through the tracker */
    uint32_t ntracked;
    uint64_t out_bytes; /* the outputs' heap block, aligned */
} pto_scan_t;

/* Check every tensor argument (valid, alive) and classify it with
 * is_tracked, in one pass (this runs on every submit). */
static int scan_tensors(pto_orch_t *o, const pto_args_t *a, pto_scan_t *sc)
{
    sc->tracked = 0;
    sc->ntracked = 0;
    sc->out_bytes = 0;
    for (uint32_t i = 0; i < a->ntensors; i++) {
        const pto_tensor_t *t = &a->tensors[i];
        uint8_t tag = a->tag[i];
        if (tag == PTO_ARG_OUTPUT) {
            sc->out_bytes += align_up(t->buffer_bytes, PTO_HEAP_ALIGN);
            continue;
        }
        bool rt_tensor = (t->flags & PTO_TENSOR_F_RUNTIME) != 0;
        if (pto_unlikely(t->status != 0 || t->ndim == 0 || !t->base ||
                         (rt_tensor && !tensor_alive(o, t))))
            return tensor_error(o, t, i);
        if (is_tracked(o, t, tag)) {
            sc->tracked |= 1u << i;
            sc->ntracked++;
        }
    }
    return 0;
}

static int check_spmd(pto_orch_t *o, const pto_args_t *a, pto_shape_t shape)
{
    if (a->block_num <= 1)
        return 0;
    if (a->block_num > PTO_MAX_BLOCKS)
        return pto__orch_fail(o, PTO_EINVAL,
                              "SPMD block_num %u exceeds %u", a->block_num,
                              PTO_MAX_BLOCKS);
    if (!(a->spmd_flags & PTO_SPMD_SYNC_START))
        return 0;
    uint32_t cl = o->rt->cfg.clusters;
    uint32_t cores = shape == PTO_SHAPE_AIV ? 2 * cl : cl;
    if (a->block_num > cores)
        return pto__orch_fail(o, PTO_ESYNCSTART,
                              "SPMD sync-start task of %u blocks, but only "
                              "%u cores of its shape exist (%u clusters)",
                              a->block_num, cores, cl);
    return 0;
}

static int check_args(pto_orch_t *o, const uint32_t kern[3], pto_args_t *a,
                      pto_shape_t shape, pto_scan_t *sc)
{
    if (a->status != 0)
        return pto__orch_fail(o, a->status, "args error: %s (at add #%u)",
                              args_err_text(a), a->err_index);
    int rc = check_kernels(o, kern);
    if (rc == 0)
        rc = scan_tensors(o, a, sc);
    if (rc == 0)
        rc = check_spmd(o, a, shape);
    return rc;
}

/* ---- producers -------------------------------------------------------- */

/* Record producer `id` for the submit in progress, merging duplicates.
 * Retired producers are skipped: retired implies completed. */
static void add_producer(pto_orch_t *o, pto_task_id_t id, uint8_t flags)
{
    pto_ring_t *pr = &o->rt->rings[pto__task_ring(id)];
    uint32_t seq = pto__task_seq(id);
    if (pto__seq_before(seq, pr->seen_tail))
        return;
    pto_slot_priv_t *pv = pto__ring_priv(pr, seq);
    if (pv->dedup_mark == o->submit_serial) {
        o->prod_flags[pv->dedup_idx] |= flags;
        return;
    }
    if (o->nprod == o->prod_cap)
        return; /* cannot happen: prod_cap bounds every source */
    pv->dedup_mark = o->submit_serial;
    pv->dedup_idx = o->nprod;
    o->prod[o->nprod] = pto__ring_slot(pr, seq);
    o->prod_flags[o->nprod] = flags;
    o->nprod++;
}

static void tracker_emit(void *ctx, pto_task_id_t producer)
{
    add_producer(ctx, producer, PTO_PROD_EDGE | PTO_PROD_INFERRED);
}

/* An explicit dep names a task this run issued before the current one. */
static int add_explicit_deps(pto_orch_t *o, const pto_args_t *a,
                             pto_task_id_t self)
{
    for (uint32_t i = 0; i < a->ndeps; i++) {
        pto_task_id_t id = a->deps[i];
        uint32_t ring = pto__task_ring(id), seq = pto__task_seq(id);
        if (id == self)
            return pto__orch_fail(o, PTO_EDEP,
                                  "explicit dep #%u is the task's own id", i);
        if (ring >= PTO_RING_DEPTHS)
            return pto__orch_fail(o, PTO_EDEP,
                                  "explicit dep #%u (0x%016llx) is not a task "
                                  "id: ring %u, only %u rings exist",
                                  i, (unsigned long long)id, ring,
                                  PTO_RING_DEPTHS);
        pto_ring_t *pr = &o->rt->rings[ring];
        if (!id_issued(o, id))
            return pto__orch_fail(o, PTO_EDEP,
                                  "explicit dep #%u (task %u:%u) was never "
                                  "issued: ring %u has issued up to %u:%u",
                                  i, ring, seq, ring, ring, pr->alloc_seq);
        add_producer(o, id,
                     PTO_PROD_EDGE | PTO_PROD_RETAIN | PTO_PROD_EXPLICIT);
    }
    return 0;
}


static void collect_tensor_producers(pto_orch_t *o, const pto_args_t *a,
                                     uint32_t mask)
{
    for (uint32_t i = 0; i < a->ntensors; i++) {
        const pto_tensor_t *t = &a->tensors[i];
        uint8_t tag = a->tag[i];
        if (tag == PTO_ARG_OUTPUT)
            continue;
        bool tracked = (mask >> i) & 1u;
        if (tracked)
            pto__tensormap_lookup(o->rt->tmap, t, tag != PTO_ARG_INPUT,
                                  tracker_emit, o);
        /* The creator of a runtime tensor is ordered before every tracked
         * access and kept alive until the accessing task is done. Untracked
         * ones (NO_DEP; manual-local, ordered by explicit deps) are only
         * kept alive: a retain-only node costs one CAS and makes a missing
         * explicit dep a wrong order at worst, never a use-after-free. */
        if (t->flags & PTO_TENSOR_F_RUNTIME)
            add_producer(o, t->owner,
                         tracked ? PTO_PROD_EDGE | PTO_PROD_RETAIN |
                                       PTO_PROD_INFERRED
                                 : PTO_PROD_RETAIN);
    }
}

static void record_accesses(pto_orch_t *o, const pto_args_t *a,
                            uint32_t mask, pto_task_id_t id)
{
    for (uint32_t i = 0; mask != 0; i++, mask >>= 1)
        if (mask & 1u)
            pto__tensormap_insert(o->rt->tmap, &a->tensors[i],
                                  a->tag[i] != PTO_ARG_INPUT, id);
}

/* ---- slot, heap ------------------------------------------------------- */

static int reserve_slot_heap(pto_orch_t *o, pto_ring_t *r, uint64_t bytes,
                             uint64_t *heap_off)
{
    reclaim(o, r);
    int rc = 0;
    if (pto__ring_live(r) >= r->window - 1)
        rc = orch_wait(o, r, PTO_WAIT_SLOT, 0, NULL);
    if (rc)
        return rc;
    if (bytes > r->heap_cap)
        return pto__orch_fail(o, PTO_ETOOBIG,
                              "outputs of %llu bytes (aligned) exceed heap "
                              "ring %u of %llu bytes (heap_bytes)",
                              (unsigned long long)bytes, r->index,
                              (unsigned long long)r->heap_cap);
    *heap_off = pto__ring_heap_try(r, bytes);
    if (*heap_off == UINT64_MAX)
        rc = orch_wait(o, r, PTO_WAIT_HEAP, bytes, heap_off);
    return rc;
}

static int reserve_map(pto_orch_t *o, pto_ring_t *r, uint32_t need)
{
    if (pto__tensormap_free(o->rt->tmap) >= need)
        return 0;
    if (need > pto__tensormap_capacity(o->rt->tmap))
        return pto__orch_fail(o, PTO_ETOOBIG,
                              "task records %u tracker entries, the tracker "
                              "holds %u (tensormap_entries)",
                              need, pto__tensormap_capacity(o->rt->tmap));
    return orch_wait(o, r, PTO_WAIT_MAP, need, NULL);
}

static int reserve_nodes(pto_orch_t *o, pto_ring_t *r)
{
    if (pto__ring_nodes_free(r) >= o->nprod)
        return 0;
    if (o->nprod > r->node_cap)
        return pto__orch_fail(o, PTO_ETOOBIG,
                              "task has %u producers, the dependency-node "
                              "pool of ring %u holds %u (dep_pool_entries)",
                              o->nprod, r->index, r->node_cap);
    return orch_wait(o, r, PTO_WAIT_NODES, o->nprod, NULL);
}

/* ---- fill, wire, publish ---------------------------------------------- */

/* Give each OUTPUT slot its heap block; the args see the results too. */
static void materialise_outputs(pto_orch_t *o, pto_ring_t *r, pto_args_t *a,
                                uint64_t heap_off, pto_task_id_t id)
{
    uint64_t off = heap_off;
    for (uint32_t k = 0; k < a->noutputs; k++) {
        pto_tensor_t *t = &a->tensors[a->out_slot[k]];
        uint64_t n = t->buffer_bytes;
        t->base = r->heap + off;
        t->owner = id;
        t->flags = PTO_TENSOR_F_RUNTIME;
        t->scope_depth = (uint8_t)o->depth;
        t->scope_serial = o->scope[o->depth].serial;
        off += align_up(n, PTO_HEAP_ALIGN);
    }
    a->result_valid = a->noutputs > 0;
}

static void fill_task(pto_task_t *t, const uint32_t kern[3],
                      const pto_args_t *a, pto_task_id_t id, uint8_t flags,
                      pto_shape_t shape, uint8_t nsub)
{
    memcpy(t->kernel, kern, sizeof(t->kernel));
    t->id = id;
    t->shape = (uint8_t)shape;
    t->nsub = nsub;
    t->flags = flags;
    t->ntensors = (uint8_t)a->ntensors;
    t->nscalars = (uint8_t)a->nscalars;
    t->block_num = a->block_num;
    t->spmd_flags = (uint8_t)a->spmd_flags;
    memcpy(t->tensors, a->tensors, sizeof(pto_tensor_t) * a->ntensors);
    memcpy(t->scalars, a->scalars, sizeof(uint64_t) * a->nscalars);
    bool owns = a->noutputs > 0;
    pto_store(&t->state, PTO_TASK_PENDING, pto_relaxed);
    pto_store(&t->fanout, NULL, pto_relaxed);
    pto_store(&t->refs, 1 + (int32_t)owns, pto_relaxed);
    pto_store(&t->subtasks_left, (uint32_t)t->nsub * a->block_num,
              pto_relaxed);
    pto_store(&t->next_block, 0, pto_relaxed);
    pto_store(&t->started, 0, pto_relaxed);
}

/* Take one reference on p unless it already dropped its last one (then it
 * is consumed and retaining it is pointless: it completed). */
static bool retain_if_live(pto_task_t *p)
{
    /* relaxed: the reference only delays reclamation; ordering with p's
     * completion comes from the fanout edge. */
    int32_t v = pto_load(&p->refs, pto_relaxed);
    while (v > 0 &&
           !pto_cas_weak(&p->refs, &v, v + 1, pto_relaxed, pto_relaxed))
        ;
    return v > 0;
}

/* Push node n on p's fanout; false when p already completed (CLOSED). */
static bool fanout_push(pto_task_t *p, pto_dep_node_t *n)
{
    /* acquire: seeing CLOSED pairs with the completion exchange in scheduler.c,
     * so p's kernel writes happen-before our consumer's kernel. */
    pto_dep_node_t *head = pto_load(&p->fanout, pto_acquire);
    pto__debug_yield();
    do {
        if (head == PTO_FANOUT_CLOSED)
            return false;
        n->next = head;
        /* release: publishes the node's fields to the completing thread. */
    } while (!pto_cas_weak(&p->fanout, &head, n, pto_release, pto_acquire));
    return true;
}

static void wire(pto_orch_t *o, pto_ring_t *r, pto_task_t *t)
{
    uint32_t first = pto__ring_nodes_take(r, o->nprod);
    t->dep_first = first;
    t->ndeps = o->nprod;
    int32_t edges = 0;
    for (uint32_t k = 0; k < o->nprod; k++)
        edges += (o->prod_flags[k] & PTO_PROD_EDGE) != 0;
    /* relaxed: published to producers by the CAS release in fanout_push. */
    pto_store(&t->fanin_pending, edges + 1, pto_relaxed);
    int32_t satisfied = 0;
    uint32_t i = first;
    /* Edge origins for the statistics, counted in this (scalar) loop: in
     * the one above they made the compiler vectorise it, which costs more
     * than it saves at one to three producers. */
    uint32_t inferred = 0, explicit_ = 0;
    for (uint32_t k = 0; k < o->nprod; k++) {
        pto_dep_node_t *n = &r->nodes[i];
        pto_task_t *p = o->prod[k];
        uint8_t f = o->prod_flags[k];
        inferred += (f & PTO_PROD_INFERRED) != 0;
        explicit_ += (f & PTO_PROD_EXPLICIT) != 0;
        n->consumer = t;
        n->producer = p;
        n->retain = (f & PTO_PROD_RETAIN) && retain_if_live(p);
        n->edge = (f & PTO_PROD_EDGE) != 0;
        if (n->edge && !fanout_push(p, n))
            satisfied++;
        pto__debug_yield();
        i = pto__ring_node_next(r, i);
    }
    o->edges_inferred += inferred;
    o->edges_explicit += explicit_;
    /* acq_rel: drops the guard (and the edges found closed); whoever takes
     * the count to 0 makes the task ready, exactly once. */
    if (pto_fetch_sub(&t->fanin_pending, satisfied + 1, pto_acq_rel) ==
        satisfied + 1)
        pto__sched_ready(o->rt, t);
}

static uint32_t first_kernel(const uint32_t kern[3])
{
    for (int i = 0; i < 3; i++)
        if (kern[i] != PTO_KERNEL_NONE)
            return kern[i];
    return PTO_KERNEL_NONE;
}

/* Tracing or graph recording is on: the submit's tracker phases and the
 * edges it is about to wire (their producers are the live ones of the
 * producer list: o->prod). */
static PTO_COLD void record_submit(pto_orch_t *o, const pto_task_t *t,
                                   uint32_t rec)
{
    pto_runtime_t *rt = o->rt;
    bool trace = (rec & PTO_REC_TRACE) != 0;
    if (trace) {
        pto__trace_emit(rt, PTO_EV_LOOKUP, o->stamp[1], o->stamp[2], t->id, 0,
                        0);
        pto__trace_emit(rt, PTO_EV_INSERT, o->stamp[3], o->stamp[4], t->id, 0,
                        0);
    }
    uint32_t nedges = 0;
    for (uint32_t k = 0; k < o->nprod; k++)
        nedges += (o->prod_flags[k] & PTO_PROD_EDGE) != 0;
    bool graph = (rec & PTO_REC_GRAPH) &&
                 pto__graph_task(rt->graph, t->id, t->kernel, t->shape,
                                 o->depth, nedges);
    for (uint32_t k = 0; k < o->nprod; k++) {
        uint8_t f = o->prod_flags[k];
        if (!(f & PTO_PROD_EDGE))
            continue;
        uint32_t kind = ((f & PTO_PROD_INFERRED) ? PTO_EDGE_INFERRED : 0) |
                        ((f & PTO_PROD_EXPLICIT) ? PTO_EDGE_EXPLICIT : 0);
        pto_task_id_t p = o->prod[k]->id;
        if (trace)
            pto__trace_emit(rt, PTO_EV_EDGE, 0, p, t->id, kind, 0);
        if (graph)
            pto__graph_edge(rt->graph, p, kind);
    }
}

static PTO_COLD void record_submit_end(pto_orch_t *o, pto_task_id_t id,
                                       const uint32_t kern[3])
{
    pto__trace_emit(o->rt, PTO_EV_SUBMIT, o->stamp[0], pto_now_ns(), id,
                    first_kernel(kern), o->depth);
}

static void hold_in_scope(pto_orch_t *o, pto_ring_t *r, uint32_t seq)
{
    pto_slot_priv_t *pv = pto__ring_priv(r, seq);
    pv->scope_held = 1;
    pv->scope_depth = (uint8_t)o->depth;
    r->held[r->held_n++] = seq;
}

/* Recording on: a timestamp of the submit in progress (trace.h). */
static PTO_COLD void stamp(pto_orch_t *o, uint32_t i)
{
    o->stamp[i] = pto_now_ns();
}

static pto_task_id_t submit(pto_orch_t *o, const uint32_t kern[3],
                            pto_args_t *a, uint8_t flags)
{
    /* Recording adds timestamps (o->stamp: begin, lookups, inserts) and
     * the events of record_submit; off, each hook is a branch on rec. */
    uint32_t rec = pto__recording(o->rt);
    if (pto_unlikely(rec))
        stamp(o, 0);
    a->result_valid = 0;
    uint8_t nsub;
    pto_shape_t shape = pto__sched_shape(kern, &nsub);
    pto_scan_t sc = {0, 0, 0};
    if (check_args(o, kern, a, shape, &sc) != 0)
        return PTO_TASK_ID_NONE;
    pto_ring_t *r = &o->rt->rings[ring_of_depth(o->depth)];
    uint64_t heap_off = 0;
    uint32_t mask = sc.tracked;
    if (reserve_slot_heap(o, r, sc.out_bytes, &heap_off) != 0 ||
        reserve_map(o, r, sc.ntracked) != 0)
        return PTO_TASK_ID_NONE;
    uint32_t seq = r->alloc_seq;
    pto_task_id_t id = pto__task_make_id(r->index, seq);
    o->submit_serial++;
    o->nprod = 0;
    if (add_explicit_deps(o, a, id) != 0)
        return PTO_TASK_ID_NONE;
    if (pto_unlikely(rec))
        stamp(o, 1);
    collect_tensor_producers(o, a, mask);
    if (pto_unlikely(rec))
        stamp(o, 2);
    if (reserve_nodes(o, r) != 0)
        return PTO_TASK_ID_NONE;

    materialise_outputs(o, r, a, heap_off, id);
    pto_task_t *t = pto__ring_slot(r, seq);
    fill_task(t, kern, a, id, flags, shape, nsub);
    if (pto_unlikely(rec))
        stamp(o, 3);
    record_accesses(o, a, mask, id);
    if (pto_unlikely(rec))
        stamp(o, 4);
    pto_slot_priv_t *pv = pto__ring_priv(r, seq);
    pto__ring_heap_note(r, seq);
    pv->ndeps = o->nprod;
    pv->scope_held = 0;
    if (a->noutputs > 0)
        hold_in_scope(o, r, seq);
    r->alloc_seq = seq + 1;
    r->issued++;
    if (r->alloc_seq - r->seen_tail > r->high_water)
        r->high_water = r->alloc_seq - r->seen_tail;
    /* release: the slot's contents (state PENDING) before advance scans
     * it; pairs with the acquire of head in scheduler.c. */
    pto_store(&r->head, seq + 1, pto_release);
    pto__debug_yield();
    if (pto_unlikely(rec))
        record_submit(o, t, rec); /* before wire: it may run at once */
    wire(o, r, t);
    o->scope[o->depth].tasks++;
    o->tasks++;
    if (pto_unlikely(rec & PTO_REC_TRACE))
        record_submit_end(o, id, kern);
    return id;
}

static pto_task_id_t submit_checked(pto_orch_t *o, const char *call,
                                    const uint32_t kern[3], pto_args_t *a,
                                    uint8_t flags)
{
    if (!o)
        return PTO_TASK_ID_NONE;
    if (orch_failed(o)) {
        if (a)
            a->result_valid = 0;
        return PTO_TASK_ID_NONE;
    }
    o->call = call;
    if (!a) {
        pto__orch_fail(o, PTO_EINVAL, "args is NULL");
        return PTO_TASK_ID_NONE;
    }
    return submit(o, kern, a, flags);
}

/* One kernel on one core: slot 0 (AIC) or 1 (AIV) of the kernel triple. */
static pto_task_id_t submit_single(pto_orch_t *o, const char *call,
                                   uint32_t slot, uint32_t kernel_id,
                                   pto_args_t *a)
{
    uint32_t k[3] = {PTO_KERNEL_NONE, PTO_KERNEL_NONE, PTO_KERNEL_NONE};
    k[slot] = kernel_id;
    if (kernel_id == PTO_KERNEL_NONE && o && !orch_failed(o)) {
        o->call = call;
        pto__orch_fail(o, PTO_EKERNEL, "kernel id PTO_KERNEL_NONE");
        return PTO_TASK_ID_NONE;
    }
    return submit_checked(o, call, k, a, 0);
}

pto_task_id_t pto_submit_aic(pto_orch_t *o, uint32_t kernel_id, pto_args_t *a)
{
    return submit_single(o, "pto_submit_aic", PTO_ROLE_AIC, kernel_id, a);
}

pto_task_id_t pto_submit_aiv(pto_orch_t *o, uint32_t kernel_id, pto_args_t *a)
{
    return submit_single(o, "pto_submit_aiv", PTO_ROLE_AIV_A, kernel_id, a);
}

pto_task_id_t pto_submit_mixed(pto_orch_t *o, const pto_mixed_kernels_t *mk,
                               pto_args_t *a)
{
    if (o && !orch_failed(o) &&
        (!mk || (mk->aic == PTO_KERNEL_NONE && mk->aiv0 == PTO_KERNEL_NONE &&
                 mk->aiv1 == PTO_KERNEL_NONE))) {
        o->call = "pto_submit_mixed";
        pto__orch_fail(o, PTO_EINVAL,
                       mk ? "all three kernels are PTO_KERNEL_NONE"
                          : "mixed kernels is NULL");
        return PTO_TASK_ID_NONE;
    }
    const uint32_t k[3] = {mk ? mk->aic : PTO_KERNEL_NONE,
                           mk ? mk->aiv0 : PTO_KERNEL_NONE,
                           mk ? mk->aiv1 : PTO_KERNEL_NONE};
    return submit_checked(o, "pto_submit_mixed", k, a, 0);
}

pto_task_id_t pto_alloc_tensors(pto_orch_t *o, pto_args_t *a)
{
    if (o && a && !orch_failed(o) && a->status == 0 &&
        (a->noutputs == 0 || a->noutputs != a->ntensors || a->nscalars ||
         a->block_num != 1)) {
        o->call = "pto_alloc_tensors";
        pto__orch_fail(o, PTO_EINVAL,
                       "needs at least one OUTPUT slot and nothing else "
                       "(%u tensors, %u outputs, %u scalars, SPMD "
                       "block_num %u: must be 1)",
                       a->ntensors, a->noutputs, a->nscalars, a->block_num);
        return PTO_TASK_ID_NONE;
    }
    const uint32_t k[3] = {PTO_KERNEL_NONE, PTO_KERNEL_NONE, PTO_KERNEL_NONE};
    return submit_checked(o, "pto_alloc_tensors", k, a, PTO_TASK_F_ALLOC);
}

/* ---- scopes ------------------------------------------------------------ */

int pto_scope_begin(pto_orch_t *o, pto_scope_mode_t mode)
{
    if (!o)
        return PTO_EINVAL;
    if (orch_failed(o))
        return o->status;
    o->call = "pto_scope_begin";
    if (mode != PTO_SCOPE_AUTO && mode != PTO_SCOPE_MANUAL)
        return pto__orch_fail(o, PTO_EINVAL, "unknown scope mode %d",
                              (int)mode);
    if (o->depth + 1 >= PTO_MAX_SCOPE_DEPTH)
        return pto__orch_fail(o, PTO_ESCOPE,
                              "scopes nested deeper than %u "
                              "(PTO_MAX_SCOPE_DEPTH)",
                              PTO_MAX_SCOPE_DEPTH - 1);
    if (mode == PTO_SCOPE_AUTO && o->manual_depth != PTO_NO_MANUAL)
        return pto__orch_fail(o, PTO_ESCOPE,
                              "AUTO scope opened inside the MANUAL scope at "
                              "depth %u; AUTO inside MANUAL is not allowed",
                              o->manual_depth);
    o->depth++;
    pto_scope_frame_t *f = &o->scope[o->depth];
    f->held_mark = o->rt->rings[ring_of_depth(o->depth)].held_n;
    f->serial = ++o->next_serial;
    f->mode = (uint32_t)mode;
    f->tasks = 0;
    if (mode == PTO_SCOPE_MANUAL && o->manual_depth == PTO_NO_MANUAL)
        o->manual_depth = o->depth;
    return 0;
}

/* Drop the scope reference of every task the innermost scope holds. */
static void release_scope(pto_orch_t *o)
{
    pto_ring_t *r = &o->rt->rings[ring_of_depth(o->depth)];
    uint32_t mark = o->scope[o->depth].held_mark;
    while (r->held_n > mark) {
        uint32_t seq = r->held[--r->held_n];
        pto__ring_priv(r, seq)->scope_held = 0;
        pto__debug_yield();
        pto__sched_drop_ref(o->rt, pto__ring_slot(r, seq));
    }
    /* The instance is over: its tensors fail the lifetime check. */
    o->scope[o->depth].serial = 0;
}

static void scope_pop(pto_orch_t *o)
{
    release_scope(o);
    if (o->manual_depth == o->depth)
        o->manual_depth = PTO_NO_MANUAL;
    o->depth--;
}

int pto_scope_end(pto_orch_t *o)
{
    if (!o)
        return PTO_EINVAL;
    if (orch_failed(o))
        return o->status;
    o->call = "pto_scope_end";
    if (o->depth == 0)
        return pto__orch_fail(o, PTO_ESCOPE,
                              "no scope is open (pto_run's outer scope "
                              "cannot be ended)");
    uint64_t t0 = pto__trace_on(o->rt) ? pto_now_ns() : 0;
    uint32_t depth = o->depth;
    scope_pop(o);
    if (pto__trace_on(o->rt))
        pto__trace_emit(o->rt, PTO_EV_SCOPE_END, t0, pto_now_ns(),
                        PTO_TASK_ID_NONE, 0, depth);
    return 0;
}

int pto_orch_status(const pto_orch_t *o)
{
    if (!o)
        return PTO_EINVAL;
    if (o->status)
        return o->status;
    return pto_load(&o->rt->run_status, pto_relaxed);
}

pto_runtime_t *pto_orch_runtime(const pto_orch_t *o)
{
    return o ? o->rt : NULL;
}

bool pto_task_id_is_none(pto_task_id_t id)
{
    return id == PTO_TASK_ID_NONE;
}

pto_task_id_t pto_task_id_none(void)
{
    return PTO_TASK_ID_NONE;
}

/* ---- run begin / end --------------------------------------------------- */

void pto__orch_run_begin(pto_orch_t *o)
{
    o->in_run = true;
    o->status = 0;
    pto__platform_orch_idle(o->rt->plat, false);
    o->depth = 0;
    o->manual_depth = PTO_NO_MANUAL;
    o->call = "pto_run";
    o->tasks = 0;
    o->wait_ns = 0;
    o->elem_wait_ns = 0;
    o->waits = 0;
    o->edges_inferred = 0;
    o->edges_explicit = 0;
    pto_scope_frame_t *f = &o->scope[0];
    f->held_mark = 0;
    f->serial = ++o->next_serial;
    f->mode = PTO_SCOPE_AUTO;
    f->tasks = 0;
}

static bool rings_drained(pto_orch_t *o)
{
    reclaim_all(o);
    for (uint32_t i = 0; i < PTO_RING_DEPTHS; i++)
        if (pto__ring_live(&o->rt->rings[i]) > 0)
            return false;
    return true;
}

/* Every scope is closed, so nothing is held: every task completes and
 * retires (a never-signalled deferral keeps us here, as documented). */
static void wait_drained(pto_orch_t *o)
{
    pto_runtime_t *rt = o->rt;
    uint64_t t0 = pto__trace_on(rt) ? pto_now_ns() : 0;
    /* Submitting is over: the cores may have this thread's CPU. */
    pto__platform_orch_idle(rt->plat, true);
    for (;;) {
        uint32_t w = pto_load(&rt->orch_wake, pto_acquire);
        /* Wake only when the first ring with live tasks has drained. */
        reclaim_all(o);
        uint32_t i = 0;
        while (i < PTO_RING_DEPTHS - 1 &&
               pto__ring_live(&rt->rings[i]) == 0)
            i++;
        orch_announce(rt, i, rt->rings[i].alloc_seq);
        if (rings_drained(o))
            break;
        orch_park(o, w);
    }
    pto_store(&rt->orch_waiting, 0, pto_relaxed);
    if (pto__trace_on(rt))
        pto__trace_emit(rt, PTO_EV_DRAIN, t0, pto_now_ns(), PTO_TASK_ID_NONE,
                        0, 0);
}

void pto__orch_run_end(pto_orch_t *o)
{
    if (o->depth > 0 && o->status == 0) {
        o->call = "pto_run";
        pto__orch_fail(o, PTO_ESCOPE,
                       "scope opened at depth %u was never closed "
                       "(a return or goto out of PTO_SCOPE?)",
                       o->depth);
    }
    while (o->depth > 0)
        scope_pop(o);
    release_scope(o);
    wait_drained(o);
    pto__tensormap_reset(o->rt->tmap);
    for (uint32_t i = 0; i < PTO_RING_DEPTHS; i++) {
        pto_ring_t *r = &o->rt->rings[i];
        pto__ring_reset(r);
        pto__tensormap_set_tail(o->rt->tmap, r->index, r->seen_tail);
    }
    o->in_run = false;
    o->status = PTO_ESTATE; /* calls between runs fail (orch_failed) */
    pto__platform_orch_idle(o->rt->plat, true);
}

/* ---- element access from the orchestrator ----------------------------- */

/* A producer is done once it completed (fanout CLOSED) or retired. */
static bool producer_done(pto_orch_t *o, pto_task_t *p, pto_task_id_t id)
{
    pto_ring_t *r = &o->rt->rings[pto__task_ring(id)];
    reclaim(o, r);
    if (pto__seq_before(pto__task_seq(id), r->seen_tail))
        return true;
    /* acquire: pairs with the completion exchange; the producer's writes
     * are visible to the element access that follows. */
    return pto_load(&p->fanout, pto_acquire) == PTO_FANOUT_CLOSED;
}

/* Wait until every collected producer completed. Completions do not wake
 * the orchestrator (only tail moves do), so poll politely: yield, then
 * sleep in short steps. */
static void wait_producers(pto_orch_t *o)
{
    uint64_t t0 = pto_now_ns();
    pto__platform_orch_idle(o->rt->plat, true);
    for (uint32_t k = 0; k < o->nprod; k++) {
        pto_task_t *p = o->prod[k];
        for (uint32_t spins = 0; !producer_done(o, p, p->id); spins++) {
            if (spins < 64) {
                sched_yield();
            } else {
                struct timespec ts = {0, 50000};
                nanosleep(&ts, NULL);
            }
        }
    }
    pto__platform_orch_idle(o->rt->plat, false);
    uint64_t t1 = pto_now_ns();
    o->elem_wait_ns += t1 - t0;
    if (pto__trace_on(o->rt))
        pto__trace_emit(o->rt, PTO_EV_ELEM, t0, t1, PTO_TASK_ID_NONE, 0, 0);
}

/* Every live task of the rings the open MANUAL scopes submit to: the
 * accesses of manual-local tensors are not tracked, so any of them may
 * touch the element. */
static void collect_manual_tasks(pto_orch_t *o)
{
    for (uint32_t i = ring_of_depth(o->manual_depth); i < PTO_RING_DEPTHS;
         i++) {
        pto_ring_t *r = &o->rt->rings[i];
        reclaim(o, r);
        for (uint32_t s = r->seen_tail; s != r->alloc_seq; s++)
            add_producer(o, pto__task_make_id(i, s), PTO_PROD_EDGE);
    }
}

static int element_view(pto_orch_t *o, const pto_tensor_t *t,
                        const uint32_t *idx, pto_tensor_t *elem)
{
    if (!t || !idx)
        return pto__orch_fail(o, PTO_EINVAL, "NULL %s", t ? "index" : "tensor");
    if (t->status != 0 || t->ndim == 0 || !t->base)
        return pto__orch_fail(o, PTO_ETENSOR, "the tensor is invalid");
    if (!tensor_alive(o, t))
        return pto__orch_fail(o, PTO_ELIFETIME,
                              "the tensor was created in a scope (depth %u) "
                              "that has ended",
                              t->scope_depth);
    uint32_t one[PTO_MAX_DIMS] = {1, 1, 1, 1, 1};
    int rc = pto_tensor_view(t, idx, one, elem);
    if (rc != 0)
        return pto__orch_fail(o, PTO_EBOUNDS,
                              "element index outside the tensor's view");
    return 0;
}

static int element_access(pto_orch_t *o, const char *call,
                          const pto_tensor_t *t, const uint32_t *idx,
                          void *buf, bool write)
{
    if (!o)
        return PTO_EINVAL;
    if (orch_failed(o))
        return o->status;
    o->call = call;
    pto_tensor_t elem;
    int rc = element_view(o, t, idx, &elem);
    if (rc != 0)
        return rc;
    if (!buf)
        return pto__orch_fail(o, PTO_EINVAL, "NULL value pointer");
    o->submit_serial++;
    o->nprod = 0;
    bool tracked = is_tracked(o, &elem, write ? PTO_ARG_INOUT : PTO_ARG_INPUT);
    if (tracked)
        pto__tensormap_lookup(o->rt->tmap, &elem, write, tracker_emit, o);
    else
        collect_manual_tasks(o);
    if (elem.flags & PTO_TENSOR_F_RUNTIME)
        add_producer(o, elem.owner, PTO_PROD_EDGE);
    wait_producers(o);
    /* A kernel failed while we waited: the producers completed without
     * running, so the element holds nothing they wrote. */
    if (orch_failed(o))
        return o->status;
    size_t es = pto_dtype_size((pto_dtype_t)elem.dtype);
    if (write)
        memcpy(pto_tensor_data(&elem), buf, es);
    else
        memcpy(buf, pto_tensor_data(&elem), es);
    return 0;
}

int pto_tensor_get(pto_orch_t *o, const pto_tensor_t *t, const uint32_t *idx,
                   void *out)
{
    return element_access(o, "pto_tensor_get", t, idx, out, false);
}

int pto_tensor_set(pto_orch_t *o, const pto_tensor_t *t, const uint32_t *idx,
                   const void *val)
{
    return element_access(o, "pto_tensor_set", t, idx, (void *)val, true);
}
