/*
 * test_ring.c - src/ring.c: ring-set init/fini (slot payload wiring, the
 * "looks retired" initial slot state, odd heap sizes), slot/priv indexing
 * with the mask and the wrap-safe live count, the heap ring (aligned
 * packing, full, top never landing on tail, no block straddling the end,
 * rewind of an empty mid-heap ring incl. live zero-byte tasks, zero-byte
 * requests, requests larger than the heap, and a randomised model check
 * that live blocks never overlap), the node pool's take/wrap accounting,
 * and pto__ring_reset (which also empties the scope-held stack).
 *
 * Retirement is simulated the way the orchestrator does it (ring.h, "who
 * writes what"): a submit records heap_end = heap_top in its slot's priv and
 * bumps alloc_seq; retiring the oldest task sets heap_tail to its heap_end
 * and bumps seen_tail, and returns its node count to node_used.
 */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "pto/errors.h"
#include "ring.h"

#define NONE UINT64_MAX

static pto_ring_t ring_new(uint32_t window, uint64_t heap, uint32_t nodes)
{
    pto_ring_t r;
    REQUIRE(pto__ring_init(&r, 1, window, heap, nodes) == 0);
    return r;
}

/* Submit one task carving `bytes`; NONE (and nothing recorded) if it does
 * not fit now. */
static uint64_t submit(pto_ring_t *r, uint64_t bytes)
{
    uint64_t off = pto__ring_heap_try(r, bytes);
    if (off == NONE)
        return NONE;
    pto__ring_heap_note(r, r->alloc_seq);
    r->alloc_seq++;
    return off;
}

/* Retire the oldest live task. */
static void retire(pto_ring_t *r)
{
    if (pto__ring_live(r) == 0) { /* a broken test, not a broken ring */
        fprintf(stderr, "retire() on a ring with no live task\n");
        exit(1);
    }
    pto_slot_priv_t *p = pto__ring_priv(r, r->seen_tail);
    r->heap_tail = p->heap_end;
    r->node_used -= p->ndeps;
    r->seen_tail++;
    pto__ring_heap_reclaimed(r);
}

static void test_init_fini(void)
{
    pto_ring_t r;
    REQUIRE(pto__ring_init(&r, 3, 8, 4096, 64) == 0);
    CHECK_EQ(r.index, 3);
    CHECK_EQ(r.window, 8);
    CHECK_EQ(r.mask, 7);
    CHECK_EQ(r.node_cap, 64);
    CHECK_EQ(r.heap_cap, 4096);
    CHECK_EQ(pto_load(&r.head, pto_relaxed), 0);
    CHECK_EQ(pto_load(&r.tail, pto_relaxed), 0);
    CHECK_EQ(r.alloc_seq, 0);
    CHECK_EQ(r.seen_tail, 0);
    CHECK_EQ(r.heap_top, 0);
    CHECK_EQ(r.heap_tail, 0);
    CHECK_EQ(r.node_top, 0);
    CHECK_EQ(r.node_used, 0);
    CHECK_EQ(r.held_n, 0);
    CHECK(r.held != NULL);
    CHECK_EQ(pto__ring_nodes_free(&r), 64);
    CHECK_EQ(pto__ring_live(&r), 0);
    CHECK_EQ((uintptr_t)r.heap % PTO_HEAP_ALIGN, 0);
    CHECK_EQ((uintptr_t)r.tasks % PTO_CACHELINE, 0);

    for (uint32_t i = 0; i < 8; i++) {
        pto_task_t *t = &r.tasks[i];
        /* An unused slot looks retired: closed and consumed. */
        CHECK(pto_load(&t->fanout, pto_relaxed) == PTO_FANOUT_CLOSED);
        CHECK_EQ(pto_load(&t->state, pto_relaxed), PTO_TASK_CONSUMED);
        CHECK_EQ(t->ring, 3);
        CHECK(t->tensors == &r.tensor_store[i * PTO_MAX_TENSOR_ARGS]);
        CHECK(t->scalars == &r.scalar_store[i * PTO_MAX_SCALAR_ARGS]);
        CHECK_EQ(r.priv[i].heap_end, 0);
        CHECK_EQ(r.priv[i].ndeps, 0);
        CHECK_EQ(r.priv[i].scope_held, 0);
    }
    /* Every slot's payload, heap byte and node is really there (ASan). */
    memset(r.tasks[7].tensors, 0, sizeof(pto_tensor_t) * PTO_MAX_TENSOR_ARGS);
    memset(r.tasks[7].scalars, 0, sizeof(uint64_t) * PTO_MAX_SCALAR_ARGS);
    memset(r.heap, 0xCD, 4096);
    memset(r.nodes, 0, sizeof(pto_dep_node_t) * 64);
    memset(r.held, 0, sizeof(uint32_t) * 8); /* one entry per live task */

    pto__ring_fini(&r);
    CHECK(r.tasks == NULL && r.heap == NULL && r.priv == NULL);
    CHECK(r.nodes == NULL && r.tensor_store == NULL && r.scalar_store == NULL);
    CHECK(r.held == NULL);
    pto__ring_fini(&r); /* twice is harmless */

    /* A heap size that is not a multiple of the alignment still works. */
    REQUIRE(pto__ring_init(&r, 0, 4, 5000, 64) == 0);
    CHECK_EQ(r.heap_cap, 5000);
    memset(r.heap, 0, 5000);
    CHECK_EQ(pto__ring_heap_try(&r, 4992), 0);
    CHECK_EQ(pto__ring_heap_try(&r, 64), NONE);
    pto__ring_fini(&r);
}

static void test_indexing(void)
{
    pto_ring_t r = ring_new(8, 4096, 64);
    CHECK(pto__ring_slot(&r, 0) == &r.tasks[0]);
    CHECK(pto__ring_slot(&r, 3) == &r.tasks[3]);
    CHECK(pto__ring_slot(&r, 11) == &r.tasks[3]);
    CHECK(pto__ring_slot(&r, 8 * 1000 + 5) == &r.tasks[5]);
    CHECK(pto__ring_slot(&r, UINT32_MAX) == &r.tasks[7]);
    CHECK(pto__ring_priv(&r, 3) == &r.priv[3]);
    CHECK(pto__ring_priv(&r, 19) == &r.priv[3]);
    CHECK(pto__ring_priv(&r, UINT32_MAX) == &r.priv[7]);

    /* Live count across the 32-bit wrap of the sequence numbers. */
    r.seen_tail = UINT32_MAX - 1;
    r.alloc_seq = 2;
    CHECK_EQ(pto__ring_live(&r), 4);
    r.alloc_seq = UINT32_MAX - 1;
    CHECK_EQ(pto__ring_live(&r), 0);

    /* Consecutive seqs across the wrap map to consecutive slots. */
    for (uint32_t k = 0; k < 8; k++)
        CHECK(pto__ring_slot(&r, UINT32_MAX - 3 + k) ==
              &r.tasks[(UINT32_MAX - 3 + k) & 7]);
    CHECK(pto__ring_slot(&r, 0) != pto__ring_slot(&r, UINT32_MAX));
    pto__ring_fini(&r);
}

static void test_heap_packing(void)
{
    pto_ring_t r = ring_new(16, 4096, 64);
    CHECK_EQ(submit(&r, 64), 0);
    CHECK_EQ(submit(&r, 128), 64);
    CHECK_EQ(submit(&r, 0), 192); /* zero bytes: no space, offset = top */
    CHECK_EQ(r.heap_top, 192);
    CHECK_EQ(submit(&r, 256), 192);
    CHECK_EQ(r.heap_top, 448);
    CHECK_EQ(r.priv[0].heap_end, 64);
    CHECK_EQ(r.priv[1].heap_end, 192);
    CHECK_EQ(r.priv[2].heap_end, 192);
    CHECK_EQ(r.priv[3].heap_end, 448);
    /* Larger than the whole heap: never fits. */
    CHECK_EQ(pto__ring_heap_try(&r, 4096 + 64), NONE);
    CHECK_EQ(r.heap_top, 448);
    pto__ring_fini(&r);

    /* The whole heap fits an empty ring exactly once. */
    r = ring_new(16, 4096, 64);
    CHECK_EQ(submit(&r, 4096), 0);
    CHECK_EQ(r.heap_top, 4096);
    CHECK_EQ(pto__ring_heap_try(&r, 64), NONE);
    CHECK_EQ(submit(&r, 0), 4096); /* zero bytes fit even when full */
    retire(&r);
    retire(&r);
    CHECK_EQ(r.heap_tail, 4096);
    CHECK_EQ(submit(&r, 4096), 0); /* empty at the end: rewound */
    pto__ring_fini(&r);
}

static void test_heap_full_and_strict(void)
{
    pto_ring_t r = ring_new(16, 1024, 64);
    r.held_n = 1; /* a held task: no early wraps (test_heap_early_wrap) */
    CHECK_EQ(submit(&r, 512), 0);   /* A [0, 512) */
    CHECK_EQ(submit(&r, 256), 512); /* B [512, 768) */
    CHECK_EQ(submit(&r, 256), 768); /* C [768, 1024): up to the end */
    CHECK_EQ(r.heap_top, 1024);
    CHECK_EQ(submit(&r, 64), NONE); /* full: tail is 0 */
    CHECK_EQ(r.heap_top, 1024);

    retire(&r); /* A: tail 512 */
    CHECK_EQ(r.heap_tail, 512);
    /* Nothing left before the end: start at 0, below tail. */
    CHECK_EQ(submit(&r, 256), 0); /* D [0, 256) */
    CHECK_EQ(r.heap_top, 256);
    /* [256, 512) is free, but taking all of it would put top on tail. */
    CHECK_EQ(submit(&r, 256), NONE);
    CHECK_EQ(submit(&r, 192), 256); /* E [256, 448) */
    CHECK_EQ(submit(&r, 64), NONE); /* 448 + 64 == tail */
    CHECK_EQ(r.heap_top, 448);
    CHECK_EQ(submit(&r, 0), 448);

    retire(&r); /* B: tail 768; free is [448, 768) */
    CHECK_EQ(submit(&r, 320), NONE); /* would end on tail */
    CHECK_EQ(submit(&r, 256), 448);
    CHECK_EQ(r.heap_top, 704);
    pto__ring_fini(&r);
}

static void test_heap_wrap_no_straddle(void)
{
    pto_ring_t r = ring_new(16, 1024, 64);
    r.held_n = 1; /* a held task: no early wraps (test_heap_early_wrap) */
    CHECK_EQ(submit(&r, 384), 0);   /* A [0, 384) */
    CHECK_EQ(submit(&r, 384), 384); /* B [384, 768) */
    retire(&r);                     /* tail 384 */
    /* 256 bytes left before the end; 320 must not straddle it. */
    CHECK_EQ(submit(&r, 512), NONE); /* fits neither side */
    CHECK_EQ(r.heap_top, 768);
    CHECK_EQ(submit(&r, 384), NONE); /* wrapping would land top on tail */
    CHECK_EQ(submit(&r, 320), 0);    /* C [0, 320), [768, 1024) skipped */
    CHECK_EQ(r.heap_top, 320);
    CHECK_EQ(submit(&r, 64), NONE);  /* 320 + 64 == tail */
    /* The skipped end is not handed out while top is below tail. */
    CHECK_EQ(submit(&r, 256), NONE);

    /* B retires: C, whose block wrapped, is now the oldest, so the end it
     * skipped is free as well: tail 0, free [320, 1024). */
    retire(&r);
    CHECK_EQ(r.heap_tail, 0);
    CHECK_EQ(submit(&r, 704), 320);  /* D [320, 1024): up to the end */
    CHECK_EQ(r.heap_top, 1024);
    CHECK_EQ(submit(&r, 64), NONE);  /* full: tail 0 */
    retire(&r); /* C: tail 320; free [0, 320) */
    CHECK_EQ(r.heap_tail, 320);
    CHECK_EQ(submit(&r, 320), NONE); /* [0, 320) would end on tail */
    CHECK_EQ(submit(&r, 256), 0);    /* E [0, 256) */
    CHECK_EQ(r.heap_top, 256);
    CHECK_EQ(pto__ring_priv(&r, 4)->heap_wrap, 1);
    retire(&r); /* D: E is the oldest and wrapped: tail 0 */
    CHECK_EQ(r.heap_tail, 0);
    pto__ring_fini(&r);
}

static void test_heap_rewind(void)
{
    pto_ring_t r = ring_new(16, 1024, 64);
    r.held_n = 1; /* a held task: no early wraps (test_heap_early_wrap) */
    CHECK_EQ(submit(&r, 768), 0);
    retire(&r);
    CHECK_EQ(r.heap_top, 768);
    CHECK_EQ(r.heap_tail, 768); /* empty, mid-heap */

    /* Empty mid-heap: the next block rewinds to 0, even though it would
     * fit before the end (the bytes just used are used again). */
    CHECK_EQ(submit(&r, 128), 0);
    retire(&r);
    CHECK_EQ(r.heap_top, 128);
    CHECK_EQ(r.heap_tail, 128);

    /* Two live zero-byte tasks record heap_end 128. */
    CHECK_EQ(submit(&r, 0), 128);
    CHECK_EQ(submit(&r, 0), 128);
    CHECK_EQ(pto__ring_live(&r), 2);
    /* Heap empty: rewind to 0; the live zero-byte tasks are rewritten to
     * end at 0. */
    CHECK_EQ(submit(&r, 512), 0);
    CHECK_EQ(r.heap_top, 512);
    CHECK_EQ(pto__ring_priv(&r, 2)->heap_end, 0);
    CHECK_EQ(pto__ring_priv(&r, 3)->heap_end, 0);
    CHECK_EQ(pto__ring_priv(&r, 4)->heap_end, 512);
    retire(&r);
    retire(&r);
    CHECK_EQ(r.heap_tail, 0); /* not 128: the 512-byte block stays live */
    CHECK_EQ(submit(&r, 512), 512);
    CHECK_EQ(submit(&r, 64), NONE);
    retire(&r);
    retire(&r);
    CHECK_EQ(r.heap_tail, 1024);
    CHECK_EQ(r.heap_top, 1024);
    CHECK_EQ(pto__ring_live(&r), 0);

    /* Empty at any offset: the whole heap fits again. */
    CHECK_EQ(submit(&r, 1024), 0);
    retire(&r);
    CHECK_EQ(submit(&r, 64), 0); /* top == tail == cap: rewound */
    retire(&r);
    CHECK_EQ(r.heap_top, 64);
    CHECK_EQ(submit(&r, 1024), 0);
    pto__ring_fini(&r);
}

/* Early wraps (nothing held): the block goes to 0 once [0, tail) holds it
 * and four times the live span, so the bytes touched stay near the live
 * span instead of walking the whole heap. */
static void test_heap_early_wrap(void)
{
    enum { CAP = 1u << 20 };
    pto_ring_t r = ring_new(16, CAP, 64);
    CHECK_EQ(submit(&r, 64), 0);
    CHECK_EQ(submit(&r, 64), 64);
    retire(&r); /* tail 64, live span 64: 64 - 64 < 4 * 64 */
    CHECK_EQ(submit(&r, 64), 128);
    CHECK_EQ(submit(&r, 64), 192);
    retire(&r);
    retire(&r); /* tail 192, live [192, 256): 192 - 64 < 256 */
    CHECK_EQ(submit(&r, 64), 256);
    retire(&r);
    retire(&r); /* empty at 320: rewound on the next request */
    CHECK_EQ(submit(&r, 64), 0);

    /* A steady stream with 8 blocks live never touches past a few KiB. */
    uint64_t high = 0;
    for (int i = 0; i < 100000; i++) {
        if (pto__ring_live(&r) >= 8)
            retire(&r);
        uint64_t o = submit(&r, 128);
        REQUIRE(o != NONE);
        if (o + 128 > high)
            high = o + 128;
    }
    CHECK(high <= 8 * 1024);

    /* With a task held, the same stream walks the heap (no early wrap). */
    while (pto__ring_live(&r) > 0)
        retire(&r);
    r.held_n = 1;
    high = 0;
    for (int i = 0; i < 100000; i++) {
        if (pto__ring_live(&r) >= 8)
            retire(&r);
        uint64_t o = submit(&r, 128);
        REQUIRE(o != NONE);
        if (o + 128 > high)
            high = o + 128;
    }
    CHECK_EQ(high, CAP);
    pto__ring_fini(&r);
}

static void test_heap_random_model_run(bool held)
{
    enum { WINDOW = 32, CAP = 64 * 48 };
    pto_ring_t r = ring_new(WINDOW, CAP, 64);
    r.held_n = held; /* held: no early wraps */
    uint64_t off[WINDOW], len[WINDOW];
    uint64_t rng = 0x9E3779B97F4A7C15u;
    uint64_t ok = 0, full = 0, overlaps = 0, bad_pos = 0, stuck = 0;
    for (int step = 0; step < 200000; step++) {
        rng = rng * 6364136223846793005u + 1442695040888963407u;
        uint32_t live = pto__ring_live(&r);
        bool do_retire = live == WINDOW - 1 || (live > 0 && (rng >> 60) < 7);
        if (do_retire) {
            retire(&r);
            continue;
        }
        /* 0..24 blocks of 64 bytes, sometimes the whole heap. */
        uint64_t bytes = ((rng >> 33) % 25) * 64;
        if ((rng >> 20) % 97 == 0)
            bytes = CAP;
        uint32_t seq = r.alloc_seq;
        uint64_t o = submit(&r, bytes);
        if (o == NONE) {
            full++;
            if (live == 0)
                stuck++; /* an empty ring must fit anything <= CAP */
            continue;
        }
        ok++;
        if (o % 64 != 0 || o + bytes > CAP)
            bad_pos++;
        off[seq % WINDOW] = o;
        len[seq % WINDOW] = bytes;
        /* The new block must not overlap any other live block. */
        for (uint32_t s = r.seen_tail; s != seq; s++) {
            uint64_t o2 = off[s % WINDOW], l2 = len[s % WINDOW];
            if (bytes && l2 && o < o2 + l2 && o2 < o + bytes)
                overlaps++;
        }
        /* Live bytes exist => top != tail (full and empty stay apart). */
        if (bytes && r.heap_top == r.heap_tail)
            bad_pos++;
    }
    CHECK_EQ(overlaps, 0);
    CHECK_EQ(bad_pos, 0);
    CHECK_EQ(stuck, 0);
    CHECK(ok > 50000);
    CHECK(full > 100); /* the full path was exercised too */
    pto__ring_fini(&r);
}

static void test_heap_random_model(void)
{
    test_heap_random_model_run(false);
    test_heap_random_model_run(true);
}

static void test_nodes(void)
{
    pto_ring_t r = ring_new(8, 4096, 10);
    CHECK_EQ(pto__ring_nodes_free(&r), 10);
    CHECK_EQ(pto__ring_nodes_take(&r, 4), 0);
    r.priv[0].ndeps = 4;
    r.alloc_seq++;
    CHECK_EQ(r.node_top, 4);
    CHECK_EQ(r.node_used, 4);
    CHECK_EQ(pto__ring_nodes_take(&r, 6), 4); /* up to the end exactly */
    r.priv[1].ndeps = 6;
    r.alloc_seq++;
    CHECK_EQ(r.node_top, 0);
    CHECK_EQ(r.node_used, 10);
    CHECK_EQ(pto__ring_nodes_free(&r), 0);
    CHECK_EQ(pto__ring_nodes_take(&r, 0), 0); /* taking none is free */
    CHECK_EQ(r.node_used, 10);

    retire(&r); /* returns 4 */
    CHECK_EQ(pto__ring_nodes_free(&r), 4);
    CHECK_EQ(pto__ring_nodes_take(&r, 3), 0);
    r.priv[2].ndeps = 3;
    r.alloc_seq++;
    CHECK_EQ(r.node_top, 3);
    retire(&r); /* returns 6 */
    CHECK_EQ(r.node_used, 3);
    CHECK_EQ(pto__ring_nodes_take(&r, 5), 3);
    CHECK_EQ(r.node_top, 8);
    /* A take that wraps: 8, 9, 0, 1. */
    uint32_t first = pto__ring_nodes_take(&r, 2);
    CHECK_EQ(first, 8);
    CHECK_EQ(r.node_top, 0);
    CHECK_EQ(r.node_used, 10);
    r.node_used = 4;
    r.node_top = 8;
    first = pto__ring_nodes_take(&r, 4);
    CHECK_EQ(first, 8);
    CHECK_EQ(r.node_top, 2);
    uint32_t walk[4], i = first;
    for (int k = 0; k < 4; k++, i = pto__ring_node_next(&r, i))
        walk[k] = i;
    CHECK_EQ(walk[0], 8);
    CHECK_EQ(walk[1], 9);
    CHECK_EQ(walk[2], 0);
    CHECK_EQ(walk[3], 1);
    CHECK_EQ(pto__ring_node_next(&r, 9), 0);
    CHECK_EQ(pto__ring_node_next(&r, 0), 1);
    CHECK_EQ(pto__ring_node_next(&r, 8), 9);

    /* Many takes: node_top always equals the running total mod cap. */
    r.node_top = 0;
    r.node_used = 0;
    uint64_t total = 0, bad = 0;
    for (uint32_t k = 0; k < 1000; k++) {
        uint32_t n = k % 11; /* 0..10, up to the whole pool */
        uint32_t f = pto__ring_nodes_take(&r, n);
        bad += f != total % 10;
        total += n;
        bad += r.node_top != total % 10;
        r.node_used -= n; /* retired at once */
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(r.node_used, 0);
    pto__ring_fini(&r);
}

static void test_reset(void)
{
    pto_ring_t r = ring_new(8, 1024, 16);
    CHECK_EQ(submit(&r, 512), 0);
    CHECK_EQ(submit(&r, 256), 512);
    (void)pto__ring_nodes_take(&r, 5);
    r.held[0] = 0;
    r.held[1] = 1;
    r.held_n = 2;
    retire(&r);
    retire(&r);
    uint32_t seq = r.alloc_seq;
    pto__ring_reset(&r);
    CHECK_EQ(r.heap_top, 0);
    CHECK_EQ(r.heap_tail, 0);
    CHECK_EQ(r.node_top, 0);
    CHECK_EQ(r.node_used, 0);
    CHECK_EQ(r.held_n, 0);
    CHECK_EQ(pto__ring_nodes_free(&r), 16);
    /* Sequence numbers keep counting across runs. */
    CHECK_EQ(r.alloc_seq, seq);
    CHECK_EQ(r.seen_tail, seq);
    CHECK_EQ(r.window, 8);
    CHECK_EQ(r.heap_cap, 1024);
    CHECK_EQ(submit(&r, 1024), 0);
    pto__ring_fini(&r);
}

int main(void)
{
    test_init_fini();
    test_indexing();
    test_heap_packing();
    test_heap_full_and_strict();
    test_heap_wrap_no_straddle();
    test_heap_rewind();
    test_heap_early_wrap();
    test_heap_random_model();
    test_nodes();
    test_reset();
    return check_result();
}
