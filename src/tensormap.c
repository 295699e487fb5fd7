/*
 * tensormap.c - the dependency tracker ("TensorMap"), indexed by tile grid.
 *
 * Dependency semantics (DESIGN.md §2, AUTO mode). Every tracked access is
 * recorded as an entry (task id, read or write, region). A new read is
 * ordered after every recorded overlapping write (RAW); a new write after
 * every recorded overlapping read and write (WAR, WAW). Reads never order
 * after reads. Overlap is pto__tensor_overlap(): same base pointer, exact box
 * test per dimension when both views share a layout, else conservative byte
 * ranges (an extra edge, never a missed one). The map only answers; the
 * orchestrator adds the edges, deduplicates producers, and calls, per task,
 * every lookup before any insert of that task.
 *
 * Pruning, and why it loses no edge:
 *   - covered drop: a write that COVERS a recorded region (exact path only)
 *     drops that entry. The writer was just ordered after it, so anything
 *     that conflicts with the dropped region also conflicts with the writer
 *     (a write) and reaches the dropped task transitively.
 *   - early stop: lookups walk newest first and stop after the first write
 *     that covers the query. Every older entry overlapping the query overlaps
 *     that write, so the write was ordered after it when it was inserted.
 *   - retirement: retire(id) frees a task's entries (it completed, nothing
 *     needs to wait for it); set_tail() gives each ring's retirement
 *     watermark, and lookups free the entries of tasks before it on sight
 *     (the "stale cut"), so retire() may lag behind.
 * Both prunings rely on that protocol: a write is inserted only by a task
 * that made every producer its write lookup emitted a dependency.
 * One task touching a region twice records two entries (INOUT: a read and a
 * write). A task's write drops its own covered entries too, which is
 * harmless: its write entry stands for the task. The same producer can be
 * emitted more than once; the caller deduplicates.
 *
 * Index. One buffer record per live base pointer (hash by base) holds all
 * its entries (newest first) and fixes a *grid* from the first access it
 * sees while it has no on-grid entry - for a runtime-created buffer, from
 * the second: its first entry stays off-grid (most intermediates are
 * accessed once; tm_maybe_regrid) - the layout signature (layout_start,
 * ndim, layout[], element size) and cell extents g[d] = that box's len[d].
 * An access is on-grid when it has that layout, len[d] == g[d] and
 * off[d] % g[d] == 0 for every d. Two on-grid boxes overlap iff they are the
 * same cell, so on-grid entries live in a cell hash keyed by (buffer record,
 * cell number) and everything else in the buffer's off-grid list.
 *   - on-grid lookup: merge (by insertion stamp, newest first) its cell's
 *     bucket chain and the buffer's off-grid list; its cost does not depend on
 *     how many disjoint tiles of the buffer are in flight;
 *   - off-grid lookup: walk every entry of the buffer.
 * A grid of one cell (the first access was the whole layout, as an OUTPUT or
 * an initialising write is) is replaced by the first multi-cell off-grid
 * access: its on-grid entries move to the off-grid list (once, O(entries of
 * the buffer)). A buffer record is freed when its last entry goes.
 *
 * Invariants:
 *   I1 every live entry of buffer b is in b's all-entries list and in exactly
 *      one of: the cell chain of its cell's bucket (then its box is a cell of
 *      b's current grid; tm_place computes the bucket) or b's off-grid list;
 *   I2 every list is ordered newest first (by stamp); unlink keeps order;
 *   I3 a buffer record exists iff it has >= 1 entry (outside one insert), so
 *      `entries` records always suffice;
 *   I4 a task's entries are on the list task_head[ring][seq & (window - 1)];
 *   I5 free entries have buf == TM_NIL and are chained through task.next;
 *   I6 a buffer's `writes` counts its live write entries. A read lookup
 *      emits only writes, so with none it returns without a walk: reads of
 *      data nothing in flight writes (a shared query, weights, KV blocks)
 *      cost O(1), however many readers are recorded. It then frees no stale
 *      entry on the way, which retire() does anyway.
 *
 * Queries. A lookup or insert does not copy its tensor (so it must not
 * change during the call; emit has no business touching it): the query
 * points at it and adds the element size, the placement in the buffer's
 * current grid (on-grid or not, and the cell bucket: computed once per call,
 * again only when an insert changes the grid) and, only when a
 * different-layout compare needs it, the byte range. Region arrays are
 * compared and copied whole (PTO_MAX_DIMS wide), which relies on every valid
 * tensor having 0 in off/len/layout at dims >= ndim: tensor.c's constructors
 * and views and args.c's OUTPUT slots all keep that (entries and grids copy
 * it).
 *
 * Costs: insert O(1) plus its covered-drop walk (the same walk as a lookup);
 * retire O(entries of the task); reset O(capacity). No allocation after
 * create. Thread: orchestrator only; no atomics, no locks.
 */
#include "tensormap.h"

#include <stdlib.h>
#include <string.h>

#include "pto/errors.h"
#include "task.h"
#include "tensor.h"

#define TM_NIL UINT32_MAX
/* 2^64 / golden ratio: Fibonacci hashing, the top bits index the table. */
#define TM_HASH_MUL UINT64_C(0x9E3779B97F4A7C15)
/* Bucket arrays are 2x entries (load <= 0.5) and must fit uint32 indices. */
#define TM_MAX_ENTRIES (UINT32_C(1) << 30)

typedef struct tm_link {
    uint32_t prev, next;
} tm_link_t;

/* The lists an entry is on (tm_link picks the links). */
enum { TM_LIST_CHAIN, TM_LIST_BUF, TM_LIST_TASK };

/* One recorded access: 128 bytes; the first cache line is all an on-grid
 * cell walk reads. Dims >= ndim of off/len/layout are 0 (off is compared
 * whole, by memcmp). */
typedef struct tm_entry {
    pto_task_id_t id;
    uint64_t stamp;       /* insertion order: merges two newest-first lists */
    tm_link_t chain;      /* cell bucket chain (ongrid) or off-grid list */
    tm_link_t task;       /* the task's list; task.next chains the free list */
    uint32_t buf;         /* buffer record; TM_NIL while free */
    uint32_t bucket;      /* cell bucket, when ongrid */
    uint32_t off[PTO_MAX_DIMS];
    uint8_t ndim, esize, write, ongrid;
    /* Cold: the rest of the region, for exact and byte-range compares. */
    uint64_t layout_start;
    uint32_t layout[PTO_MAX_DIMS];
    uint32_t len[PTO_MAX_DIMS];
    tm_link_t bufl;       /* the buffer's all-entries list */
    uint64_t pad_;
} tm_entry_t;

_Static_assert(sizeof(tm_entry_t) == 128, "entry is two cache lines");

/* A live buffer and its grid. The first 48 bytes are what a lookup reads
 * before it compares the layout arrays. */
typedef struct tm_buffer {
    const void *base;
    tm_link_t hash;       /* buffer hash chain; hash.next: the free list */
    uint32_t all_head;    /* every entry, newest first (bufl links) */
    uint32_t offgrid_head;/* off-grid entries, newest first (chain links) */
    uint32_t count;       /* entries */
    uint32_t ongrid;      /* of which on-grid */
    uint32_t writes;      /* of which writes: a read lookup of a buffer
                           * without one has nothing to find (I6) */
    uint64_t layout_start;/* grid: layout signature ... */
    uint8_t ndim, esize;
    uint32_t layout[PTO_MAX_DIMS];
    uint32_t g[PTO_MAX_DIMS]; /* ... and cell extents */
    uint32_t cstride[PTO_MAX_DIMS]; /* row-major strides of cell indices */
} tm_buffer_t;

/* A lookup's or insert's region: the caller's tensor, not a copy (see
 * "Queries" above), and what is derived from it. */
typedef struct tm_query {
    const pto_tensor_t *t;
    uint64_t lo, hi;      /* byte range, once has_bytes */
    uint32_t bucket;      /* cell bucket, when ongrid */
    uint8_t esize;
    bool ongrid;          /* t is a cell of its buffer's current grid */
    bool has_bytes;
} tm_query_t;

/* Hot fields (every lookup and insert) first. */
struct pto_tensormap {
    tm_entry_t *entries;
    tm_buffer_t *bufs;
    uint32_t *buf_heads;   /* buffer hash buckets */
    uint32_t *cell_heads;  /* cell hash buckets */
    uint32_t nfree, free_head, buf_free;
    uint32_t bucket_shift; /* both tables: 64 - log2(nbuckets) */
    uint64_t next_stamp;
    uint32_t ring_tail[PTO_RING_DEPTHS];
    bool has_tail[PTO_RING_DEPTHS];
    uint8_t esize[PTO_DTYPE_COUNT]; /* pto_dtype_size, 0 for none */
    uint32_t *ring_heads[PTO_RING_DEPTHS]; /* ring r's part of task_heads */
    uint32_t ring_mask[PTO_RING_DEPTHS];
    pto_tensormap_stats_t st;
    /* Cold. */
    uint32_t *task_heads;  /* all rings' slot lists, one allocation */
    uint32_t capacity, nbuckets;
};

/* ---- lists ------------------------------------------------------------ */

static tm_link_t *tm_link(tm_entry_t *e, int list)
{
    return list == TM_LIST_CHAIN ? &e->chain
           : list == TM_LIST_BUF ? &e->bufl
                                 : &e->task;
}

static void tm_list_push(tm_entry_t *pool, uint32_t *head, uint32_t i,
                         int list)
{
    tm_link_t *l = tm_link(&pool[i], list);
    l->prev = TM_NIL;
    l->next = *head;
    if (*head != TM_NIL)
        tm_link(&pool[*head], list)->prev = i;
    *head = i;
}

static void tm_list_unlink(tm_entry_t *pool, uint32_t *head, uint32_t i,
                           int list)
{
    tm_link_t *l = tm_link(&pool[i], list);
    if (l->prev != TM_NIL)
        tm_link(&pool[l->prev], list)->next = l->next;
    else
        *head = l->next;
    if (l->next != TM_NIL)
        tm_link(&pool[l->next], list)->prev = l->prev;
}

static uint32_t *tm_task_head(pto_tensormap_t *m, pto_task_id_t id)
{
    uint32_t r = pto__task_ring(id);
    return &m->ring_heads[r][pto__task_seq(id) & m->ring_mask[r]];
}

static bool tm_id_ok(pto_task_id_t id)
{
    return id != PTO_TASK_ID_NONE && pto__task_ring(id) < PTO_RING_DEPTHS;
}

static bool tm_stale(const pto_tensormap_t *m, pto_task_id_t id)
{
    uint32_t r = pto__task_ring(id);
    return m->has_tail[r] &&
           pto__seq_before(pto__task_seq(id), m->ring_tail[r]);
}

/* ---- regions ---------------------------------------------------------- */

/* Whole region arrays: dims >= ndim are 0 on both sides ("Queries"). */
static bool tm_dims_eq(const uint32_t *a, const uint32_t *b)
{
    return memcmp(a, b, PTO_MAX_DIMS * sizeof(uint32_t)) == 0;
}

static bool tm_query_init(const pto_tensormap_t *m, tm_query_t *q,
                          const pto_tensor_t *t)
{
    /* ndim - 1 wraps for ndim 0, so one compare checks 1..PTO_MAX_DIMS. */
    if (!t || t->status != 0 || !t->base ||
        (uint32_t)t->ndim - 1 >= PTO_MAX_DIMS || t->dtype >= PTO_DTYPE_COUNT)
        return false;
    q->t = t;
    q->esize = m->esize[t->dtype];
    q->has_bytes = false;
    return q->esize != 0;
}

static bool tm_same_layout(const tm_entry_t *e, const tm_query_t *q)
{
    const pto_tensor_t *t = q->t;
    return e->ndim == t->ndim && e->esize == q->esize &&
           e->layout_start == t->layout_start &&
           tm_dims_eq(e->layout, t->layout);
}

/* q's byte range, computed on first use (only different-layout compares
 * need it). */
static void tm_query_bytes(tm_query_t *q)
{
    if (q->has_bytes)
        return;
    pto__tensor_byte_range(q->t, &q->lo, &q->hi);
    q->has_bytes = true;
}

/* As pto__tensor_byte_range, on an entry. */
static void tm_entry_bytes(const tm_entry_t *e, uint64_t *lo, uint64_t *hi)
{
    uint64_t first = 0, last = 0;
    for (uint32_t d = 0; d < e->ndim; d++) {
        first = first * e->layout[d] + e->off[d];
        last = last * e->layout[d] + e->off[d] + e->len[d] - 1;
    }
    *lo = (e->layout_start + first) * e->esize;
    *hi = (e->layout_start + last + 1) * e->esize;
}

/* pto__tensor_overlap in both directions at once (same buffer assumed):
 * true when e and q intersect; *e_covers / *q_covers say which contains the
 * other (only ever set by the exact same-layout path). */
static bool tm_intersect(const tm_entry_t *e, tm_query_t *q, bool *e_covers,
                         bool *q_covers)
{
    const pto_tensor_t *t = q->t;
    *e_covers = *q_covers = false;
    if (!tm_same_layout(e, q)) {
        uint64_t lo, hi;
        tm_entry_bytes(e, &lo, &hi);
        tm_query_bytes(q);
        return lo < q->hi && q->lo < hi;
    }
    bool ec = true, qc = true;
    for (uint32_t d = 0; d < t->ndim; d++) {
        uint64_t e0 = e->off[d], e1 = e0 + e->len[d];
        uint64_t q0 = t->off[d], q1 = q0 + t->len[d];
        if (e1 <= q0 || q1 <= e0)
            return false;
        ec = ec && e0 <= q0 && q1 <= e1;
        qc = qc && q0 <= e0 && e1 <= q1;
    }
    *e_covers = ec;
    *q_covers = qc;
    return true;
}

/* ---- buffer records and grids ----------------------------------------- */

static uint32_t tm_buf_bucket(const pto_tensormap_t *m, const void *base)
{
    return (uint32_t)(((uint64_t)(uintptr_t)base * TM_HASH_MUL) >>
                      m->bucket_shift);
}

static uint32_t tm_buf_find(const pto_tensormap_t *m, const void *base)
{
    uint32_t b = m->buf_heads[tm_buf_bucket(m, base)];
    while (b != TM_NIL && m->bufs[b].base != base)
        b = m->bufs[b].hash.next;
    return b;
}

/* A fresh record for base, or TM_NIL when the pool is empty (cannot happen
 * while an entry is free, by I3). */
static uint32_t tm_buf_new(pto_tensormap_t *m, const void *base)
{
    uint32_t b = m->buf_free;
    if (b == TM_NIL)
        return TM_NIL;
    tm_buffer_t *r = &m->bufs[b];
    m->buf_free = r->hash.next;
    memset(r, 0, sizeof(*r));
    r->base = base;
    r->all_head = r->offgrid_head = TM_NIL;
    uint32_t *head = &m->buf_heads[tm_buf_bucket(m, base)];
    r->hash.prev = TM_NIL;
    r->hash.next = *head;
    if (*head != TM_NIL)
        m->bufs[*head].hash.prev = b;
    *head = b;
    return b;
}

/* Free record b if its last entry is gone (I3). */
static void tm_buf_put_if_empty(pto_tensormap_t *m, uint32_t b)
{
    tm_buffer_t *r = &m->bufs[b];
    if (r->count != 0)
        return;
    if (r->hash.prev != TM_NIL)
        m->bufs[r->hash.prev].hash.next = r->hash.next;
    else
        m->buf_heads[tm_buf_bucket(m, r->base)] = r->hash.next;
    if (r->hash.next != TM_NIL)
        m->bufs[r->hash.next].hash.prev = r->hash.prev;
    r->base = NULL;
    r->hash.next = m->buf_free;
    m->buf_free = b;
}

/* Place q in buffer b's current grid: q->ongrid, and when on it q->bucket,
 * the cell hash bucket. Its key is (b, the cell's row-major number among
 * b's cells); the division that tests the alignment also gives the cell
 * index. Fibonacci hashing spreads consecutive numbers evenly, so the tiles
 * a loop walks through (neighbouring cells) rarely share a bucket. Valid
 * until b's grid changes (tm_grid_set). */
static inline void tm_place(const pto_tensormap_t *m, uint32_t b,
                            tm_query_t *q)
{
    const tm_buffer_t *r = &m->bufs[b];
    const pto_tensor_t *t = q->t;
    q->ongrid = false;
    if (r->ndim != t->ndim || r->esize != q->esize ||
        r->layout_start != t->layout_start ||
        !tm_dims_eq(r->layout, t->layout) || !tm_dims_eq(r->g, t->len))
        return;
    uint64_t key = (uint64_t)b << 32;
    for (uint32_t d = 0; d < t->ndim; d++) {
        if (t->off[d] % r->g[d] != 0)
            return;
        key += (uint64_t)(t->off[d] / r->g[d]) * r->cstride[d];
    }
    q->ongrid = true;
    q->bucket = (uint32_t)((key * TM_HASH_MUL) >> m->bucket_shift);
}

static bool tm_single_cell(const uint32_t *len, const uint32_t *layout,
                           uint32_t ndim)
{
    for (uint32_t d = 0; d < ndim; d++)
        if (len[d] != layout[d])
            return false;
    return true;
}

/* Make q's box the cell of b's grid, and place q again. */
static void tm_grid_set(pto_tensormap_t *m, uint32_t b, tm_query_t *q)
{
    tm_buffer_t *r = &m->bufs[b];
    const pto_tensor_t *t = q->t;
    r->layout_start = t->layout_start;
    r->ndim = t->ndim;
    r->esize = q->esize;
    memcpy(r->layout, t->layout, sizeof(r->layout));
    memcpy(r->g, t->len, sizeof(r->g));
    uint32_t stride = 1; /* wraps only for > 2^32 cells: still a hash */
    for (uint32_t d = t->ndim; d-- > 0;) {
        r->cstride[d] = stride;
        stride *= t->layout[d] / t->len[d];
    }
    tm_place(m, b, q);
}

/* Move every on-grid entry of b to its off-grid list, which then holds all
 * of b's entries in all-list order (so I2 holds). O(entries of b). */
static void tm_demote_all(pto_tensormap_t *m, uint32_t b)
{
    tm_buffer_t *r = &m->bufs[b];
    uint32_t prev = TM_NIL;
    for (uint32_t i = r->all_head; i != TM_NIL; i = m->entries[i].bufl.next) {
        tm_entry_t *e = &m->entries[i];
        if (e->ongrid)
            tm_list_unlink(m->entries, &m->cell_heads[e->bucket], i,
                           TM_LIST_CHAIN);
        e->ongrid = 0;
        e->chain.prev = prev;
        e->chain.next = TM_NIL;
        if (prev == TM_NIL)
            r->offgrid_head = i;
        else
            m->entries[prev].chain.next = i;
        prev = i;
    }
    r->ongrid = 0;
}

/* Before inserting q (placed) into b: (re)establish the grid when b has no
 * on-grid entry, or replace a one-cell grid by q's multi-cell one. An
 * on-grid q changes nothing: the grid it would set is the current one. */
static void tm_maybe_regrid(pto_tensormap_t *m, uint32_t b, tm_query_t *q,
                            bool fresh)
{
    tm_buffer_t *r = &m->bufs[b];
    const pto_tensor_t *t = q->t;
    if (q->ongrid)
        return;
    if (r->ongrid == 0) {
        /* The first entry of a runtime-created buffer (its record made
         * by this insert) stays off-grid, without a grid: most
         * intermediates see one tracked access in their life, and a grid
         * would cost more than it ever saves; a second access sets it
         * (also one that found the buffer and emptied it by covering).
         * External buffers are tiled and long lived: they get their grid
         * at once. */
        if (!fresh || !(t->flags & PTO_TENSOR_F_RUNTIME))
            tm_grid_set(m, b, q);
        return;
    }
    if (tm_single_cell(r->g, r->layout, r->ndim) &&
        !tm_single_cell(t->len, t->layout, t->ndim)) {
        tm_demote_all(m, b);
        tm_grid_set(m, b, q);
    }
}

/* ---- entries ---------------------------------------------------------- */

/* Take entry i off its chain and buffer lists and return it to the pool;
 * the caller handles its task list. */
static void tm_entry_detach(pto_tensormap_t *m, uint32_t i)
{
    tm_entry_t *e = &m->entries[i];
    tm_buffer_t *r = &m->bufs[e->buf];
    uint32_t *chain_head =
        e->ongrid ? &m->cell_heads[e->bucket] : &r->offgrid_head;
    tm_list_unlink(m->entries, chain_head, i, TM_LIST_CHAIN);
    tm_list_unlink(m->entries, &r->all_head, i, TM_LIST_BUF);
    r->count--;
    r->ongrid -= e->ongrid;
    r->writes -= e->write;
    e->buf = TM_NIL;
    e->task.next = m->free_head;
    m->free_head = i;
    m->nfree++;
}

static void tm_entry_free(pto_tensormap_t *m, uint32_t i)
{
    tm_list_unlink(m->entries, tm_task_head(m, m->entries[i].id), i,
                   TM_LIST_TASK);
    tm_entry_detach(m, i);
}

static void tm_entry_add(pto_tensormap_t *m, uint32_t b, const tm_query_t *q,
                         bool write, pto_task_id_t id)
{
    uint32_t i = m->free_head;
    tm_entry_t *e = &m->entries[i];
    tm_buffer_t *r = &m->bufs[b];
    const pto_tensor_t *t = q->t;
    m->free_head = e->task.next;
    m->nfree--;
    e->id = id;
    e->stamp = ++m->next_stamp;
    e->buf = b;
    e->ndim = t->ndim;
    e->esize = q->esize;
    e->write = write;
    e->ongrid = q->ongrid;
    e->layout_start = t->layout_start;
    memcpy(e->off, t->off, sizeof(e->off));
    memcpy(e->len, t->len, sizeof(e->len));
    memcpy(e->layout, t->layout, sizeof(e->layout));
    if (q->ongrid) {
        e->bucket = q->bucket;
        tm_list_push(m->entries, &m->cell_heads[q->bucket], i, TM_LIST_CHAIN);
        r->ongrid++;
    } else {
        e->bucket = TM_NIL;
        tm_list_push(m->entries, &r->offgrid_head, i, TM_LIST_CHAIN);
    }
    tm_list_push(m->entries, &r->all_head, i, TM_LIST_BUF);
    tm_list_push(m->entries, tm_task_head(m, id), i, TM_LIST_TASK);
    r->count++;
    r->writes += write;
}

/* ---- the walk: candidates for q in buffer b, newest first ------------- */

typedef struct tm_walk {
    uint32_t cell;  /* cursor in q's cell chain (on-grid q), else TM_NIL */
    uint32_t other; /* cursor in the off-grid list or the all-entries list */
    int other_list; /* TM_LIST_CHAIN or TM_LIST_BUF */
} tm_walk_t;

typedef enum tm_rel {
    TM_REL_NONE = 0, /* no overlap (or another cell / buffer in the chain) */
    TM_REL_STALE,    /* its task is before its ring's tail: free it */
    TM_REL_HIT       /* overlaps; see the cover flags */
} tm_rel_t;

static void tm_walk_init(const pto_tensormap_t *m, uint32_t b,
                         const tm_query_t *q, tm_walk_t *w)
{
    const tm_buffer_t *r = &m->bufs[b];
    if (q->ongrid) {
        w->cell = m->cell_heads[q->bucket];
        w->other = r->offgrid_head;
        w->other_list = TM_LIST_CHAIN;
    } else {
        w->cell = TM_NIL;
        w->other = r->all_head;
        w->other_list = TM_LIST_BUF;
    }
}

/* The newer of the two cursors' entries, or TM_NIL. The successor is
 * latched first, so the caller may free the entry returned. */
static uint32_t tm_walk_next(pto_tensormap_t *m, tm_walk_t *w, bool *in_cell)
{
    uint32_t a = w->cell, o = w->other;
    if (a == TM_NIL && o == TM_NIL)
        return TM_NIL;
    *in_cell = a != TM_NIL &&
               (o == TM_NIL || m->entries[a].stamp > m->entries[o].stamp);
    if (*in_cell) {
        w->cell = m->entries[a].chain.next;
        return a;
    }
    w->other = tm_link(&m->entries[o], w->other_list)->next;
    return o;
}

/* How entry e, reached via the off-grid or all-entries list, relates to
 * q. Out of line: on-grid walks seldom get here. */
static tm_rel_t tm_relate_other(const pto_tensormap_t *m, const tm_entry_t *e,
                                tm_query_t *q, bool *e_covers, bool *q_covers)
{
    if (tm_stale(m, e->id))
        return TM_REL_STALE;
    return tm_intersect(e, q, e_covers, q_covers) ? TM_REL_HIT : TM_REL_NONE;
}

/* How entry e (reached via the cell chain when in_cell) relates to q. */
static tm_rel_t tm_relate(const pto_tensormap_t *m, uint32_t b,
                          const tm_entry_t *e, bool in_cell, tm_query_t *q,
                          bool *e_covers, bool *q_covers)
{
    if (!in_cell)
        return tm_relate_other(m, e, q, e_covers, q_covers);
    /* Bucket neighbours may be other cells or other buffers. */
    if (e->buf != b || !tm_dims_eq(e->off, q->t->off))
        return TM_REL_NONE;
    if (tm_stale(m, e->id))
        return TM_REL_STALE;
    *e_covers = *q_covers = true; /* the same cell */
    return TM_REL_HIT;
}

/* Insert-time half of a write: drop every entry of b that q covers, and any
 * stale entry met on the way. May leave b empty; the caller refills it. */
static void tm_drop_covered(pto_tensormap_t *m, uint32_t b, tm_query_t *q)
{
    tm_walk_t w;
    bool in_cell, e_covers, q_covers;
    uint32_t i;
    tm_walk_init(m, b, q, &w);
    while ((i = tm_walk_next(m, &w, &in_cell)) != TM_NIL) {
        tm_rel_t rel = tm_relate(m, b, &m->entries[i], in_cell, q, &e_covers,
                                 &q_covers);
        if (rel == TM_REL_STALE) {
            tm_entry_free(m, i);
        } else if (rel == TM_REL_HIT && q_covers) {
            tm_entry_free(m, i);
            m->st.covered_drops++;
        }
    }
}

/* ---- public ----------------------------------------------------------- */

void pto__tensormap_lookup(pto_tensormap_t *m, const pto_tensor_t *t,
                           bool write, pto_tensormap_emit_fn emit, void *ctx)
{
    tm_query_t q;
    tm_walk_t w;
    bool in_cell, e_covers, q_covers;
    uint32_t b, i;
    m->st.lookups++;
    if (!tm_query_init(m, &q, t) || (b = tm_buf_find(m, t->base)) == TM_NIL)
        return;
    if (!write && m->bufs[b].writes == 0)
        return; /* I6 */
    tm_place(m, b, &q);
    tm_walk_init(m, b, &q, &w);
    while ((i = tm_walk_next(m, &w, &in_cell)) != TM_NIL) {
        tm_entry_t *e = &m->entries[i];
        m->st.entries_walked++;
        tm_rel_t rel = tm_relate(m, b, e, in_cell, &q, &e_covers, &q_covers);
        if (rel == TM_REL_STALE) {
            tm_entry_free(m, i);
            continue;
        }
        if (rel == TM_REL_NONE)
            continue;
        if (write || e->write) {
            m->st.emitted++;
            if (emit)
                emit(ctx, e->id);
        }
        if (e->write && e_covers)
            break; /* everything older was ordered before this write */
    }
    tm_buf_put_if_empty(m, b);
}

void pto__tensormap_insert(pto_tensormap_t *m, const pto_tensor_t *t,
                           bool write, pto_task_id_t id)
{
    tm_query_t q;
    /* A full pool breaks the caller's precondition: ignoring the insert
     * (losing this access's future edges) is the only option that neither
     * grows nor corrupts the map. The orchestrator must never get here. */
    if (m->nfree == 0 || !tm_id_ok(id) || !tm_query_init(m, &q, t))
        return;
    uint32_t b = tm_buf_find(m, t->base);
    bool fresh = b == TM_NIL;
    if (fresh && (b = tm_buf_new(m, t->base)) == TM_NIL)
        return;
    tm_place(m, b, &q);
    if (write && m->bufs[b].count != 0)
        tm_drop_covered(m, b, &q);
    tm_maybe_regrid(m, b, &q, fresh);
    tm_entry_add(m, b, &q, write, id);
    m->st.inserts++;
}

/* Frees the entries on id's slot list that belong to id, or to an older
 * occupant of the slot (long retired) if the caller skipped its retire;
 * never a newer one's. The kept ones (if any) are relinked in order, so the
 * freed ones need no unlink from the list. */
void pto__tensormap_retire(pto_tensormap_t *m, pto_task_id_t id)
{
    if (!tm_id_ok(id))
        return;
    uint32_t *head = tm_task_head(m, id);
    uint32_t i = *head, kept = TM_NIL, seq = pto__task_seq(id);
    *head = TM_NIL;
    while (i != TM_NIL) {
        tm_entry_t *e = &m->entries[i];
        uint32_t next = e->task.next, b = e->buf;
        if (e->id == id || pto__seq_before(pto__task_seq(e->id), seq)) {
            tm_entry_detach(m, i);
            tm_buf_put_if_empty(m, b);
        } else {
            e->task.prev = kept;
            e->task.next = TM_NIL;
            if (kept == TM_NIL)
                *head = i;
            else
                m->entries[kept].task.next = i;
            kept = i;
        }
        i = next;
    }
}

void pto__tensormap_set_tail(pto_tensormap_t *m, uint32_t ring, uint32_t tail)
{
    if (ring >= PTO_RING_DEPTHS)
        return;
    m->ring_tail[ring] = tail;
    m->has_tail[ring] = true;
}

void pto__tensormap_reset(pto_tensormap_t *m)
{
    for (uint32_t i = 0; i < m->capacity; i++) {
        tm_entry_t *e = &m->entries[i];
        if (e->buf != TM_NIL)
            *tm_task_head(m, e->id) = TM_NIL;
        e->buf = TM_NIL;
        e->task.next = i + 1 < m->capacity ? i + 1 : TM_NIL;
        m->bufs[i].base = NULL;
        m->bufs[i].hash.next = i + 1 < m->capacity ? i + 1 : TM_NIL;
    }
    memset(m->buf_heads, 0xff, (size_t)m->nbuckets * sizeof(uint32_t));
    memset(m->cell_heads, 0xff, (size_t)m->nbuckets * sizeof(uint32_t));
    m->free_head = 0;
    m->buf_free = 0;
    m->nfree = m->capacity;
    memset(m->has_tail, 0, sizeof(m->has_tail));
}

static int tm_alloc_tables(pto_tensormap_t *m, uint64_t slots)
{
    m->entries = aligned_alloc(64, (size_t)m->capacity * sizeof(tm_entry_t));
    m->bufs = calloc(m->capacity, sizeof(tm_buffer_t));
    m->buf_heads = malloc((size_t)m->nbuckets * sizeof(uint32_t));
    m->cell_heads = malloc((size_t)m->nbuckets * sizeof(uint32_t));
    m->task_heads = malloc((size_t)slots * sizeof(uint32_t));
    if (!m->entries || !m->bufs || !m->buf_heads || !m->cell_heads ||
        !m->task_heads)
        return PTO_ENOMEM;
    memset(m->entries, 0, (size_t)m->capacity * sizeof(tm_entry_t));
    memset(m->task_heads, 0xff, (size_t)slots * sizeof(uint32_t));
    for (uint32_t i = 0; i < m->capacity; i++)
        m->entries[i].buf = TM_NIL; /* so reset touches no task list */
    return 0;
}

int pto__tensormap_create(uint32_t entries,
                          const uint32_t ring_window[PTO_RING_DEPTHS],
                          pto_tensormap_t **out)
{
    if (!out)
        return PTO_EINVAL;
    *out = NULL;
    if (!ring_window || entries == 0 || entries > TM_MAX_ENTRIES)
        return PTO_EINVAL;
    uint64_t slots = 0;
    for (uint32_t r = 0; r < PTO_RING_DEPTHS; r++) {
        uint32_t w = ring_window[r];
        if (w == 0 || (w & (w - 1)) != 0)
            return PTO_EINVAL;
        slots += w;
    }
    if (slots > SIZE_MAX / sizeof(uint32_t))
        return PTO_ENOMEM;
    pto_tensormap_t *m = calloc(1, sizeof(*m));
    if (!m)
        return PTO_ENOMEM;
    m->capacity = entries;
    for (uint32_t dt = 0; dt < PTO_DTYPE_COUNT; dt++)
        m->esize[dt] = (uint8_t)pto_dtype_size((pto_dtype_t)dt);
    uint32_t bits = 1;
    while ((UINT64_C(1) << bits) < (uint64_t)entries * 2)
        bits++;
    m->nbuckets = UINT32_C(1) << bits;
    m->bucket_shift = 64 - bits;
    if (tm_alloc_tables(m, slots) != 0) {
        pto__tensormap_destroy(m);
        return PTO_ENOMEM;
    }
    uint64_t at = 0;
    for (uint32_t r = 0; r < PTO_RING_DEPTHS; r++) {
        m->ring_heads[r] = m->task_heads + at;
        m->ring_mask[r] = ring_window[r] - 1;
        at += ring_window[r];
    }
    pto__tensormap_reset(m);
    *out = m;
    return 0;
}

void pto__tensormap_destroy(pto_tensormap_t *m)
{
    if (!m)
        return;
    free(m->entries);
    free(m->bufs);
    free(m->buf_heads);
    free(m->cell_heads);
    free(m->task_heads);
    free(m);
}

uint32_t pto__tensormap_free(const pto_tensormap_t *m)
{
    return m->nfree;
}

uint32_t pto__tensormap_capacity(const pto_tensormap_t *m)
{
    return m->capacity;
}

void pto__tensormap_stats(const pto_tensormap_t *m, pto_tensormap_stats_t *st)
{
    *st = m->st;
}
