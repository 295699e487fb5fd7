/*
 * test_tensormap.c - the dependency tracker: hazards, overlap kinds, pruning,
 * retirement, pool accounting, the tile-grid index's walk cost, and a
 * randomized differential test against a brute-force model.
 */
#include <string.h>

#include "check.h"
#include "pto/tensor.h"
#include "task.h"
#include "tensor.h"
#include "tensormap.h"

/* ---- helpers ----------------------------------------------------------- */

#define SINK_MAX 4096

typedef struct sink {
    pto_task_id_t ids[SINK_MAX];
    uint32_t n;
} sink_t;

/* Collects distinct producers. */
static void sink_emit(void *ctx, pto_task_id_t id)
{
    sink_t *s = ctx;
    for (uint32_t i = 0; i < s->n; i++)
        if (s->ids[i] == id)
            return;
    if (s->n < SINK_MAX)
        s->ids[s->n++] = id;
}

static bool sink_has(const sink_t *s, pto_task_id_t id)
{
    for (uint32_t i = 0; i < s->n; i++)
        if (s->ids[i] == id)
            return true;
    return false;
}

static sink_t g_sink;

/* Lookup into the shared sink; returns it. */
static const sink_t *look(pto_tensormap_t *m, const pto_tensor_t *t, bool w)
{
    g_sink.n = 0;
    pto__tensormap_lookup(m, t, w, sink_emit, &g_sink);
    return &g_sink;
}

static pto_task_id_t tid(uint32_t seq)
{
    return pto__task_make_id(0, seq);
}

static pto_tensormap_t *new_map(uint32_t entries, uint32_t window)
{
    uint32_t w[PTO_RING_DEPTHS];
    for (uint32_t r = 0; r < PTO_RING_DEPTHS; r++)
        w[r] = window;
    pto_tensormap_t *m = NULL;
    REQUIRE(pto__tensormap_create(entries, w, &m) == 0 && m);
    return m;
}

static pto_tensor_t view2(const pto_tensor_t *t, uint32_t r0, uint32_t c0,
                          uint32_t rows, uint32_t cols)
{
    uint32_t off[2] = {r0, c0}, shp[2] = {rows, cols};
    pto_tensor_t v;
    REQUIRE(pto_tensor_view(t, off, shp, &v) == 0);
    return v;
}

static uint64_t walked(const pto_tensormap_t *m)
{
    pto_tensormap_stats_t st;
    pto__tensormap_stats(m, &st);
    return st.entries_walked;
}

static float g_mat[64 * 64];
static float g_big[400 * 40];

static pto_tensor_t mat8(void)
{
    uint32_t shape[2] = {8, 8};
    return pto_tensor_external(g_mat, shape, 2, PTO_FLOAT32);
}

/* ---- hazards ----------------------------------------------------------- */

static void test_create_args(void)
{
    uint32_t w[PTO_RING_DEPTHS] = {16, 16, 16, 16};
    uint32_t bad[PTO_RING_DEPTHS] = {16, 12, 16, 16};
    pto_tensormap_t *m = (pto_tensormap_t *)1;
    CHECK_EQ(pto__tensormap_create(0, w, &m), PTO_EINVAL);
    CHECK(m == NULL);
    CHECK_EQ(pto__tensormap_create(8, bad, &m), PTO_EINVAL);
    CHECK_EQ(pto__tensormap_create(8, NULL, &m), PTO_EINVAL);
    CHECK_EQ(pto__tensormap_create(8, w, NULL), PTO_EINVAL);
    CHECK_EQ(pto__tensormap_create(1, w, &m), 0);
    CHECK_EQ(pto__tensormap_capacity(m), 1);
    CHECK_EQ(pto__tensormap_free(m), 1);
    pto__tensormap_destroy(m);
    pto__tensormap_destroy(NULL);
}

static void test_hazards(void)
{
    pto_tensormap_t *m = new_map(64, 16);
    pto_tensor_t a = mat8();
    CHECK_EQ(look(m, &a, false)->n, 0); /* empty map */
    pto__tensormap_insert(m, &a, true, tid(1));   /* W1 */
    const sink_t *s = look(m, &a, false);         /* RAW */
    CHECK(s->n == 1 && sink_has(s, tid(1)));
    s = look(m, &a, true);                        /* WAW */
    CHECK(s->n == 1 && sink_has(s, tid(1)));
    pto__tensormap_insert(m, &a, false, tid(2));  /* R2 */
    pto__tensormap_insert(m, &a, false, tid(3));  /* R3 */
    s = look(m, &a, false);     /* reads do not order after reads */
    CHECK(s->n == 1 && sink_has(s, tid(1)));
    s = look(m, &a, true);      /* WAR on both readers, WAW on the writer */
    CHECK(s->n == 3 && sink_has(s, tid(1)) && sink_has(s, tid(2)) &&
          sink_has(s, tid(3)));
    pto__tensormap_insert(m, &a, true, tid(4));   /* covers all three */
    s = look(m, &a, true);
    CHECK(s->n == 1 && sink_has(s, tid(4)));
    CHECK_EQ(pto__tensormap_free(m), 63);

    /* Other buffers never interact. */
    float other[64];
    uint32_t shape[2] = {8, 8};
    pto_tensor_t b = pto_tensor_external(other, shape, 2, PTO_FLOAT32);
    CHECK_EQ(look(m, &b, true)->n, 0);
    pto__tensormap_destroy(m);
}

static void test_invalid_inputs(void)
{
    pto_tensormap_t *m = new_map(8, 16);
    pto_tensor_t a = mat8();
    pto_tensor_t bad = pto__tensor_invalid(PTO_EBOUNDS);
    pto__tensormap_insert(m, &bad, true, tid(1));
    pto__tensormap_insert(m, &a, true, PTO_TASK_ID_NONE);
    pto__tensormap_insert(m, &a, true, pto__task_make_id(PTO_RING_DEPTHS, 1));
    CHECK_EQ(pto__tensormap_free(m), 8);
    CHECK_EQ(look(m, &bad, true)->n, 0);
    pto__tensormap_retire(m, PTO_TASK_ID_NONE);
    pto__tensormap_set_tail(m, PTO_RING_DEPTHS, 5);
    pto__tensormap_insert(m, &a, true, tid(1));
    pto__tensormap_lookup(m, &a, true, NULL, NULL); /* NULL emit: counts only */
    pto_tensormap_stats_t st;
    pto__tensormap_stats(m, &st);
    CHECK_EQ(st.emitted, 1);
    CHECK_EQ(st.inserts, 1);
    pto__tensormap_destroy(m);
}

/* ---- overlap kinds ----------------------------------------------------- */

/* 2x2 grid of 4x4 tiles of an 8x8 matrix, written by tasks 1..4. */
static void insert_quads(pto_tensormap_t *m, const pto_tensor_t *a)
{
    for (uint32_t q = 0; q < 4; q++) {
        pto_tensor_t t = view2(a, (q / 2) * 4, (q % 2) * 4, 4, 4);
        pto__tensormap_insert(m, &t, true, tid(q + 1));
    }
}

static void test_tiles(void)
{
    pto_tensormap_t *m = new_map(64, 16);
    pto_tensor_t a = mat8();
    insert_quads(m, &a);
    pto_tensor_t t = view2(&a, 4, 0, 4, 4);
    const sink_t *s = look(m, &t, false);           /* one tile */
    CHECK(s->n == 1 && sink_has(s, tid(3)));
    t = view2(&a, 0, 0, 4, 8);                      /* row block */
    s = look(m, &t, false);
    CHECK(s->n == 2 && sink_has(s, tid(1)) && sink_has(s, tid(2)));
    t = view2(&a, 0, 4, 8, 4);                      /* column block */
    s = look(m, &t, false);
    CHECK(s->n == 2 && sink_has(s, tid(2)) && sink_has(s, tid(4)));
    t = view2(&a, 3, 3, 2, 2);                      /* straddles all four */
    s = look(m, &t, true);
    CHECK_EQ(s->n, 4);
    t = view2(&a, 5, 1, 1, 2);                      /* inside tile 3 */
    s = look(m, &t, false);
    CHECK(s->n == 1 && sink_has(s, tid(3)));

    /* Row blocks then a column block; disjoint strips stay apart. */
    pto__tensormap_reset(m);
    for (uint32_t r = 0; r < 4; r++) {
        t = view2(&a, r * 2, 0, 2, 8);
        pto__tensormap_insert(m, &t, true, tid(10 + r));
    }
    t = view2(&a, 0, 6, 8, 2);
    CHECK_EQ(look(m, &t, false)->n, 4);
    t = view2(&a, 2, 0, 2, 8);
    s = look(m, &t, false);
    CHECK(s->n == 1 && sink_has(s, tid(11)));
    t = view2(&a, 3, 0, 2, 3);                      /* partial over 11, 12 */
    s = look(m, &t, false);
    CHECK(s->n == 2 && sink_has(s, tid(11)) && sink_has(s, tid(12)));
    pto__tensormap_destroy(m);
}

static void test_views_of_views(void)
{
    pto_tensormap_t *m = new_map(64, 16);
    pto_tensor_t a = mat8();
    insert_quads(m, &a);
    pto_tensor_t right = view2(&a, 0, 4, 8, 4);     /* right half */
    pto_tensor_t low = view2(&right, 4, 0, 4, 4);   /* = tile 4 */
    pto_tensor_t dot = view2(&low, 1, 2, 1, 1);     /* = element (5, 6) */
    CHECK_EQ(dot.off[0], 5);
    CHECK_EQ(dot.off[1], 6);
    const sink_t *s = look(m, &low, false);
    CHECK(s->n == 1 && sink_has(s, tid(4)));
    s = look(m, &dot, true);
    CHECK(s->n == 1 && sink_has(s, tid(4)));
    pto__tensormap_insert(m, &dot, true, tid(5));
    s = look(m, &low, false);                      /* 5 is inside tile 4 */
    CHECK(s->n == 2 && sink_has(s, tid(4)) && sink_has(s, tid(5)));
    pto__tensormap_destroy(m);
}

static void test_reshape(void)
{
    pto_tensormap_t *m = new_map(64, 16);
    pto_tensor_t a = mat8(), flat, cube;
    pto_tensor_t rows = view2(&a, 4, 0, 4, 8);     /* rows 4..7, contiguous */
    uint32_t s1[1] = {32}, s3[3] = {4, 4, 4};
    REQUIRE(pto_tensor_reshape(&rows, s1, 1, &flat) == 0);
    pto__tensormap_insert(m, &flat, true, tid(1));
    pto_tensor_t t = view2(&a, 0, 0, 4, 8);        /* rows 0..3: bytes apart */
    CHECK_EQ(look(m, &t, false)->n, 0);
    t = view2(&a, 0, 4, 4, 4);
    CHECK_EQ(look(m, &t, false)->n, 0);
    t = view2(&a, 7, 7, 1, 1);                     /* last element */
    const sink_t *s = look(m, &t, false);
    CHECK(s->n == 1 && sink_has(s, tid(1)));

    /* A 3-D reshape of the whole buffer; a 2-D tile compares by bytes. */
    REQUIRE(pto_tensor_reshape(&a, s3, 3, &cube) == 0);
    uint32_t off3[3] = {0, 2, 0}, shp3[3] = {1, 1, 4};
    pto_tensor_t row1;                /* elements 8..11 = row 1, cols 0..3 */
    REQUIRE(pto_tensor_view(&cube, off3, shp3, &row1) == 0);
    pto__tensormap_insert(m, &row1, true, tid(2));
    t = view2(&a, 1, 0, 1, 4);
    s = look(m, &t, false);
    CHECK(s->n == 1 && sink_has(s, tid(2)));
    t = view2(&a, 2, 0, 2, 2);                     /* bytes 64..: disjoint */
    CHECK_EQ(look(m, &t, false)->n, 0);
    /* Different layouts never COVER: the flat write survives a 2-D write of
     * the same rows, and a later flat read sees both. */
    t = view2(&a, 4, 0, 4, 8);
    pto__tensormap_insert(m, &t, true, tid(3));
    s = look(m, &flat, false);
    CHECK(s->n == 2 && sink_has(s, tid(1)) && sink_has(s, tid(3)));
    pto__tensormap_destroy(m);
}

static void test_transpose(void)
{
    pto_tensormap_t *m = new_map(64, 16);
    pto_tensor_t a = mat8(), at;
    REQUIRE(pto_tensor_transpose(&a, 0, 1, &at) == 0);
    /* Transposed coordinates (4, 0) 4x4 = layout rows 0..3, cols 4..7. */
    pto_tensor_t tt = view2(&at, 4, 0, 4, 4);
    pto__tensormap_insert(m, &tt, true, tid(1));
    pto_tensor_t t = view2(&a, 0, 4, 4, 4);
    const sink_t *s = look(m, &t, false);
    CHECK(s->n == 1 && sink_has(s, tid(1)));
    t = view2(&a, 4, 0, 4, 4);
    CHECK_EQ(look(m, &t, false)->n, 0);
    /* Same layout: the plain view covers the transposed one exactly. */
    t = view2(&a, 0, 4, 4, 4);
    pto__tensormap_insert(m, &t, true, tid(2));
    s = look(m, &tt, false);
    CHECK(s->n == 1 && sink_has(s, tid(2)));
    pto_tensormap_stats_t st;
    pto__tensormap_stats(m, &st);
    CHECK_EQ(st.covered_drops, 1);
    pto__tensormap_destroy(m);
}

static void test_dtypes(void)
{
    pto_tensormap_t *m = new_map(64, 16);
    pto_tensor_t a = mat8();
    uint32_t s16[2] = {8, 16};
    pto_tensor_t h = pto_tensor_external(g_mat, s16, 2, PTO_INT16);
    pto_tensor_t hv = view2(&h, 0, 0, 4, 8);   /* bytes [0, 112) */
    pto__tensormap_insert(m, &hv, true, tid(1));
    pto_tensor_t t = view2(&a, 0, 0, 4, 4);
    const sink_t *s = look(m, &t, false);
    CHECK(s->n == 1 && sink_has(s, tid(1)));
    t = view2(&a, 4, 4, 4, 4);                 /* bytes [144, 256) */
    CHECK_EQ(look(m, &t, false)->n, 0);
    t = view2(&a, 0, 4, 4, 4); /* bytes [16, 128): a conservative edge */
    CHECK_EQ(look(m, &t, false)->n, 1);
    /* Same element size (uint32 over float32) is the same layout: exact. */
    uint32_t s32[2] = {8, 8};
    pto_tensor_t u = pto_tensor_external(g_mat, s32, 2, PTO_UINT32);
    pto_tensor_t uv = view2(&u, 6, 0, 2, 2);
    pto__tensormap_insert(m, &uv, true, tid(2));
    t = view2(&a, 6, 2, 2, 2);
    CHECK_EQ(look(m, &t, true)->n, 0);
    t = view2(&a, 7, 1, 1, 1);
    s = look(m, &t, false);
    CHECK(s->n == 1 && sink_has(s, tid(2)));
    pto__tensormap_destroy(m);
}

/* ---- pruning, retirement, accounting ----------------------------------- */

static void test_repeats(void)
{
    pto_tensormap_t *m = new_map(64, 16);
    pto_tensor_t a = mat8();
    pto_tensor_t t = view2(&a, 0, 0, 4, 4);
    pto__tensormap_insert(m, &t, true, tid(1));
    pto__tensormap_insert(m, &t, true, tid(2));  /* exact repeat drops 1 */
    CHECK_EQ(pto__tensormap_free(m), 63);
    const sink_t *s = look(m, &t, true);
    CHECK(s->n == 1 && sink_has(s, tid(2)));
    /* One task touching a region twice (INOUT: read and write). */
    pto__tensormap_insert(m, &t, false, tid(3));
    pto__tensormap_insert(m, &t, true, tid(3));  /* drops 2 and its own read */
    CHECK_EQ(pto__tensormap_free(m), 63);
    s = look(m, &t, false);
    CHECK(s->n == 1 && sink_has(s, tid(3)));
    /* Two reads of one region by one task: both recorded. */
    pto__tensormap_insert(m, &t, false, tid(4));
    pto__tensormap_insert(m, &t, false, tid(4));
    CHECK_EQ(pto__tensormap_free(m), 61);
    s = look(m, &t, true);
    CHECK(s->n == 2 && sink_has(s, tid(3)) && sink_has(s, tid(4)));
    pto__tensormap_retire(m, tid(4));
    CHECK_EQ(pto__tensormap_free(m), 63);
    pto__tensormap_destroy(m);
}

static void test_covered_drop(void)
{
    pto_tensormap_t *m = new_map(64, 16);
    pto_tensor_t a = mat8();
    insert_quads(m, &a);
    pto_tensor_t t = view2(&a, 2, 2, 3, 3);
    pto__tensormap_insert(m, &t, false, tid(5));
    t = view2(&a, 1, 1, 1, 6);
    pto__tensormap_insert(m, &t, true, tid(6));
    CHECK_EQ(pto__tensormap_free(m), 58);
    pto__tensormap_insert(m, &a, true, tid(7));  /* covers all six */
    CHECK_EQ(pto__tensormap_free(m), 63);
    const sink_t *s = look(m, &a, true);
    CHECK(s->n == 1 && sink_has(s, tid(7)));
    t = view2(&a, 3, 3, 2, 2);
    s = look(m, &t, false);
    CHECK(s->n == 1 && sink_has(s, tid(7)));
    pto_tensormap_stats_t st;
    pto__tensormap_stats(m, &st);
    CHECK_EQ(st.covered_drops, 6);
    CHECK_EQ(st.inserts, 7);
    /* A partial write does not drop: both writers stay visible. */
    t = view2(&a, 0, 0, 4, 4);
    pto__tensormap_insert(m, &t, true, tid(8));
    s = look(m, &a, false);
    CHECK(s->n == 2 && sink_has(s, tid(7)) && sink_has(s, tid(8)));
    /* ...but a lookup inside tile 8 stops at it (it covers the query). */
    t = view2(&a, 1, 1, 2, 2);
    s = look(m, &t, false);
    CHECK(s->n == 1 && sink_has(s, tid(8)));
    pto__tensormap_destroy(m);
}

static void test_retire(void)
{
    pto_tensormap_t *m = new_map(64, 4);
    pto_tensor_t a = mat8();
    insert_quads(m, &a);
    pto_tensor_t t = view2(&a, 0, 0, 8, 1);
    pto__tensormap_insert(m, &t, false, tid(1)); /* task 1: two entries */
    CHECK_EQ(pto__tensormap_free(m), 59);
    pto__tensormap_retire(m, tid(1));
    CHECK_EQ(pto__tensormap_free(m), 61);
    const sink_t *s = look(m, &a, true);
    CHECK(s->n == 3 && !sink_has(s, tid(1)));
    pto__tensormap_retire(m, tid(1));            /* again: nothing */
    CHECK_EQ(pto__tensormap_free(m), 61);
    /* Ring slots: task 6 shares slot 2 with task 2 (window 4); retiring 2
     * frees only 2's entries, never those of the newer occupant. */
    t = view2(&a, 0, 0, 1, 1);
    pto__tensormap_insert(m, &t, false, tid(6));
    pto__tensormap_retire(m, tid(2));
    s = look(m, &a, true);
    CHECK(s->n == 3 && sink_has(s, tid(6)) && !sink_has(s, tid(2)));
    pto__tensormap_retire(m, tid(3));
    pto__tensormap_retire(m, tid(4));
    pto__tensormap_retire(m, tid(6));
    CHECK_EQ(pto__tensormap_free(m), 64);
    CHECK_EQ(look(m, &a, true)->n, 0);
    /* Other rings are separate lists. */
    pto_task_id_t r1 = pto__task_make_id(1, 2);
    pto__tensormap_insert(m, &a, false, r1);
    pto__tensormap_insert(m, &a, false, tid(2));
    pto__tensormap_retire(m, tid(2));
    s = look(m, &a, true);
    CHECK(s->n == 1 && sink_has(s, r1));
    pto__tensormap_destroy(m);
}

static void test_set_tail(void)
{
    pto_tensormap_t *m = new_map(64, 16);
    pto_tensor_t a = mat8();
    pto_tensor_t left = view2(&a, 0, 0, 8, 4);
    /* Sequence numbers across the 32-bit wrap. */
    uint32_t s0 = UINT32_MAX - 1;
    for (uint32_t k = 0; k < 4; k++) {
        pto_tensor_t t = view2(&a, k * 2, 0, 2, 4);
        pto__tensormap_insert(m, &t, false, tid(s0 + k));
    }
    pto_task_id_t other = pto__task_make_id(1, 0);
    pto__tensormap_insert(m, &left, false, other);
    CHECK_EQ(pto__tensormap_free(m), 59);
    CHECK_EQ(look(m, &left, true)->n, 5);
    pto__tensormap_set_tail(m, 0, s0 + 2);      /* s0, s0+1 retired */
    const sink_t *s = look(m, &left, true);
    CHECK(s->n == 3 && !sink_has(s, tid(s0)) && !sink_has(s, tid(s0 + 1)) &&
          sink_has(s, tid(s0 + 2)) && sink_has(s, other));
    CHECK_EQ(pto__tensormap_free(m), 61);       /* cut on the spot */
    pto__tensormap_retire(m, tid(s0));          /* late retire: harmless */
    CHECK_EQ(pto__tensormap_free(m), 61);
    /* An on-grid lookup cuts a stale entry of its own cell. */
    pto__tensormap_reset(m);
    pto_tensor_t t = view2(&a, 0, 0, 2, 2);
    pto__tensormap_insert(m, &t, true, tid(5));
    pto__tensormap_insert(m, &t, false, tid(6));
    pto__tensormap_set_tail(m, 0, 6);
    s = look(m, &t, true);
    CHECK(s->n == 1 && sink_has(s, tid(6)));
    CHECK_EQ(pto__tensormap_free(m), 63);
    /* reset forgets the watermark: seq 1 after a reset is live. */
    pto__tensormap_reset(m);
    pto__tensormap_insert(m, &t, true, tid(1));
    s = look(m, &t, false);
    CHECK(s->n == 1 && sink_has(s, tid(1)));
    pto__tensormap_destroy(m);
}

static void test_pool(void)
{
    pto_tensormap_t *m = new_map(8, 16);
    pto_tensor_t a = mat8();
    CHECK_EQ(pto__tensormap_free(m), 8);
    for (uint32_t k = 0; k < 8; k++) {
        pto_tensor_t t = view2(&a, k, 0, 1, 8);
        pto__tensormap_insert(m, &t, false, tid(k));
        CHECK_EQ(pto__tensormap_free(m), 7 - k);
    }
    /* Precondition broken: ignored, no crash, nothing lost that was there. */
    pto__tensormap_insert(m, &a, true, tid(9));
    CHECK_EQ(pto__tensormap_free(m), 0);
    CHECK_EQ(look(m, &a, true)->n, 8);
    pto__tensormap_retire(m, tid(3));
    CHECK_EQ(pto__tensormap_free(m), 1);
    pto__tensormap_insert(m, &a, true, tid(9)); /* covers the other seven */
    CHECK_EQ(pto__tensormap_free(m), 7);
    pto__tensormap_reset(m);
    CHECK_EQ(pto__tensormap_free(m), 8);
    CHECK_EQ(look(m, &a, true)->n, 0);
    /* Many buffers at once: one record each, all reclaimed. */
    for (uint32_t k = 0; k < 8; k++) {
        uint32_t shape[1] = {4};
        pto_tensor_t t = pto_tensor_external(g_mat + 4 * k, shape, 1,
                                             PTO_FLOAT32);
        pto__tensormap_insert(m, &t, true, tid(k));
    }
    CHECK_EQ(pto__tensormap_free(m), 0);
    for (uint32_t k = 0; k < 8; k++)
        pto__tensormap_retire(m, tid(k));
    CHECK_EQ(pto__tensormap_free(m), 8);
    pto__tensormap_insert(m, &a, true, tid(20));
    CHECK_EQ(look(m, &a, false)->n, 1);
    pto__tensormap_destroy(m);
}

/* ---- the tile grid ----------------------------------------------------- */

/* g_big as 400x40 floats: 100 x 10 tiles of 4x4, 1000 in all. */
static pto_tensor_t big(void)
{
    uint32_t shape[2] = {400, 40};
    return pto_tensor_external(g_big, shape, 2, PTO_FLOAT32);
}

static pto_tensor_t big_tile(const pto_tensor_t *b, uint32_t k)
{
    return view2(b, (k / 10) * 4, (k % 10) * 4, 4, 4);
}

/* Most entries walked by one read lookup of each tile (task k wrote tile k). */
static uint64_t max_tile_walk(pto_tensormap_t *m, const pto_tensor_t *b,
                              uint64_t *total)
{
    uint64_t most = 0;
    *total = 0;
    for (uint32_t k = 0; k < 1000; k++) {
        pto_tensor_t t = big_tile(b, k);
        uint64_t before = walked(m);
        const sink_t *s = look(m, &t, false);
        uint64_t n = walked(m) - before;
        CHECK(sink_has(s, tid(k)));
        most = n > most ? n : most;
        *total += n;
    }
    return most;
}

static void test_grid_walk_cost(void)
{
    pto_tensormap_t *m = new_map(4096, 1024);
    pto_tensor_t b = big();
    for (uint32_t k = 0; k < 1000; k++) {
        pto_tensor_t t = big_tile(&b, k);
        pto__tensormap_insert(m, &t, true, tid(k));
    }
    uint64_t total, most = max_tile_walk(m, &b, &total);
    printf("grid: 1000 tiles in flight, on-grid walk max %llu, mean %.3f\n",
           (unsigned long long)most, (double)total / 1000);
    CHECK(most <= 4);           /* the cell, plus rare bucket neighbours */
    CHECK(total <= 1000 * 3 / 2);
    /* An off-grid access still finds every partial overlap. */
    pto_tensor_t t = view2(&b, 2, 2, 4, 4);      /* straddles tiles 0,1,10,11 */
    const sink_t *s = look(m, &t, false);
    CHECK(s->n == 4 && sink_has(s, tid(0)) && sink_has(s, tid(1)) &&
          sink_has(s, tid(10)) && sink_has(s, tid(11)));
    t = view2(&b, 0, 0, 4, 40);                   /* a row strip: 10 tiles */
    CHECK_EQ(look(m, &t, false)->n, 10);
    t = view2(&b, 0, 36, 400, 4);                 /* a column strip */
    CHECK_EQ(look(m, &t, false)->n, 100);
    t = view2(&b, 397, 37, 2, 2);                 /* inside tile 999 */
    s = look(m, &t, false);
    CHECK(s->n == 1 && sink_has(s, tid(999)));
    /* With one off-grid write in flight, on-grid lookups walk one more. */
    t = view2(&b, 6, 6, 4, 4);                    /* tiles 11,12,21,22 */
    pto__tensormap_insert(m, &t, true, tid(1000));
    most = max_tile_walk(m, &b, &total);
    CHECK(most <= 5);
    t = big_tile(&b, 22);
    s = look(m, &t, false);
    CHECK(s->n == 2 && sink_has(s, tid(22)) && sink_has(s, tid(1000)));
    pto__tensormap_destroy(m);
}

/* A whole-buffer first access (an OUTPUT, an initialising write) makes a
 * one-cell grid; the first tile replaces it. */
static void test_grid_from_whole_buffer(void)
{
    pto_tensormap_t *m = new_map(4096, 1024);
    pto_tensor_t b = big();
    pto__tensormap_insert(m, &b, true, pto__task_make_id(1, 0));
    for (uint32_t k = 0; k < 1000; k++) {
        pto_tensor_t t = big_tile(&b, k);
        pto__tensormap_lookup(m, &t, true, NULL, NULL);
        pto__tensormap_insert(m, &t, true, tid(k));
    }
    uint64_t total, most = max_tile_walk(m, &b, &total);
    CHECK(most <= 4);   /* the whole-buffer write is older: never reached */
    const sink_t *s = look(m, &b, false);
    CHECK(s->n == 1001);
    pto__tensormap_destroy(m);
}

/* When a buffer empties, the next access sets a new grid. */
static void test_grid_reestablish(void)
{
    pto_tensormap_t *m = new_map(4096, 1024);
    pto_tensor_t b = big();
    for (uint32_t k = 0; k < 1000; k++) {
        pto_tensor_t t = big_tile(&b, k);
        pto__tensormap_insert(m, &t, false, tid(k));
    }
    for (uint32_t k = 0; k < 1000; k++)
        pto__tensormap_retire(m, tid(k));
    CHECK_EQ(pto__tensormap_free(m), 4096);
    /* Now 2x8 tiles: 200 x 5 of them, on the new grid. */
    for (uint32_t k = 0; k < 1000; k++) {
        pto_tensor_t t = view2(&b, (k / 5) * 2, (k % 5) * 8, 2, 8);
        pto__tensormap_insert(m, &t, true, tid(k));
    }
    uint64_t most = 0;
    for (uint32_t k = 0; k < 1000; k++) {
        pto_tensor_t t = view2(&b, (k / 5) * 2, (k % 5) * 8, 2, 8);
        uint64_t before = walked(m);
        const sink_t *s = look(m, &t, true);
        uint64_t n = walked(m) - before;
        CHECK(s->n == 1 && sink_has(s, tid(k)));
        most = n > most ? n : most;
    }
    CHECK(most <= 4);
    /* Stale cuts empty it too. */
    pto__tensormap_set_tail(m, 0, 1000);
    CHECK_EQ(look(m, &b, true)->n, 0);
    CHECK_EQ(pto__tensormap_free(m), 4096);
    pto__tensormap_destroy(m);
}

/* ---- randomized differential test -------------------------------------- */

#define RT_TASKS 96    /* tasks per round */
#define RT_ACC 3       /* accesses per task, at most */
#define RT_ENTRIES 40  /* small pool: back-pressure and retirement happen */

typedef struct rt_access {
    pto_tensor_t t;
    bool write;
} rt_access_t;

typedef struct rt_task {
    pto_task_id_t id;
    uint32_t ring;
    uint32_t nacc;
    rt_access_t acc[RT_ACC];
    bool retired;      /* in the model: complete, may not be emitted */
    bool retire_called;
} rt_task_t;

typedef struct rt_state {
    pto_tensormap_t *m;
    uint64_t rng;
    rt_task_t task[RT_TASKS];
    bool pred[RT_TASKS][RT_TASKS]; /* pred[c][p]: c was ordered after p */
    uint32_t ntasks, retired;      /* tasks [0, retired) have retired */
    uint32_t next_seq[2];
    uint32_t window[2];
} rt_state_t;

static uint32_t rt_rand(rt_state_t *st, uint32_t n)
{
    st->rng ^= st->rng << 13;
    st->rng ^= st->rng >> 7;
    st->rng ^= st->rng << 17;
    return (uint32_t)(st->rng % n);
}

static float g_rt_a[64], g_rt_b[64];

/* A random box inside t (2-D view). */
static pto_tensor_t rt_box(rt_state_t *st, const pto_tensor_t *t)
{
    uint32_t r = pto_tensor_shape(t, 0), c = pto_tensor_shape(t, 1);
    /* One draw per statement: argument evaluation order is unspecified, and
     * the sequence must not depend on the compiler. */
    uint32_t r0 = rt_rand(st, r), c0 = rt_rand(st, c);
    uint32_t nr = 1 + rt_rand(st, r - r0), nc = 1 + rt_rand(st, c - c0);
    return view2(t, r0, c0, nr, nc);
}

/* An aligned tile of extents (tr, tc) of t. */
static pto_tensor_t rt_tile(rt_state_t *st, const pto_tensor_t *t, uint32_t tr,
                            uint32_t tc)
{
    uint32_t r = pto_tensor_shape(t, 0) / tr, c = pto_tensor_shape(t, 1) / tc;
    uint32_t r0 = rt_rand(st, r) * tr, c0 = rt_rand(st, c) * tc;
    return view2(t, r0, c0, tr, tc);
}

/* Full rows r0..r0+n of an 8x8 float view, reshaped. */
static pto_tensor_t rt_reshaped(rt_state_t *st, const pto_tensor_t *a)
{
    uint32_t n = 1 + rt_rand(st, 4), r0 = rt_rand(st, 9 - n);
    pto_tensor_t rows = view2(a, r0, 0, n, 8), out;
    uint32_t flat[1] = {n * 8}, two[2] = {n * 2, 4};
    bool one = rt_rand(st, 2);
    REQUIRE(pto_tensor_reshape(&rows, one ? flat : two, one ? 1 : 2, &out) ==
            0);
    if (one) {
        uint32_t o = rt_rand(st, n * 8), off[1] = {o};
        uint32_t shp[1] = {1 + rt_rand(st, n * 8 - o)};
        REQUIRE(pto_tensor_view(&out, off, shp, &out) == 0);
        return out;
    }
    return rt_box(st, &out);
}

static pto_tensor_t rt_view(rt_state_t *st)
{
    float *base = rt_rand(st, 8) ? g_rt_a : g_rt_b;
    uint32_t s88[2] = {8, 8}, s816[2] = {8, 16}, s416[2] = {4, 16};
    pto_tensor_t a = pto_tensor_external(base, s88, 2, PTO_FLOAT32), t;
    switch (rt_rand(st, 10)) {
    case 0: case 1: case 2: return rt_tile(st, &a, 4, 4);
    case 3:
        return rt_rand(st, 2) ? rt_tile(st, &a, 2, 8)
                              : rt_tile(st, &a, 8, 2);
    case 4: return rt_box(st, &a);
    case 5:
        REQUIRE(pto_tensor_transpose(&a, 0, 1, &t) == 0);
        return rt_rand(st, 2) ? rt_box(st, &t) : rt_tile(st, &t, 4, 4);
    case 6: return rt_reshaped(st, &a);
    case 7:
        t = pto_tensor_external(base, s816, 2, PTO_INT16);
        return rt_rand(st, 2) ? rt_box(st, &t) : rt_tile(st, &t, 4, 8);
    case 8:
        t = pto_tensor_external(base, rt_rand(st, 2) ? s88 : s416, 2,
                                PTO_UINT32);
        return rt_box(st, &t);
    default: return a;
    }
}

static int rt_find(const rt_state_t *st, pto_task_id_t id)
{
    for (uint32_t i = 0; i < st->ntasks; i++)
        if (st->task[i].id == id)
            return (int)i;
    return -1;
}

static bool rt_conflicts(const rt_access_t *x, const pto_tensor_t *q, bool w)
{
    return (w || x->write) && pto__tensor_overlap(q, &x->t) != PTO_OVERLAP_NONE;
}

static bool rt_task_conflicts(const rt_task_t *t, const pto_tensor_t *q,
                              bool w)
{
    for (uint32_t j = 0; j < t->nacc; j++)
        if (rt_conflicts(&t->acc[j], q, w))
            return true;
    return false;
}

/* Tasks reachable (through recorded edges) from the emitted set. */
static void rt_reach(const rt_state_t *st, const sink_t *s, bool *seen)
{
    uint32_t stack[RT_TASKS], sp = 0;
    memset(seen, 0, RT_TASKS * sizeof(bool));
    for (uint32_t i = 0; i < s->n; i++) {
        int k = rt_find(st, s->ids[i]);
        if (k >= 0 && !seen[k]) {
            seen[k] = true;
            stack[sp++] = (uint32_t)k;
        }
    }
    while (sp) {
        uint32_t k = stack[--sp];
        for (uint32_t p = 0; p < k; p++)
            if (st->pred[k][p] && !seen[p]) {
                seen[p] = true;
                stack[sp++] = p;
            }
    }
}

/* Lookup for access (q, w) of task c; check it against the model. */
static void rt_check_lookup(rt_state_t *st, uint32_t c, const pto_tensor_t *q,
                            bool w)
{
    bool seen[RT_TASKS];
    const sink_t *s = look(st->m, q, w);
    for (uint32_t i = 0; i < s->n; i++) { /* sound: a live, real conflict */
        int k = rt_find(st, s->ids[i]);
        CHECK(k >= 0 && (uint32_t)k < c && !st->task[k].retired &&
              rt_task_conflicts(&st->task[k], q, w));
        if (k >= 0)
            st->pred[c][k] = true;
    }
    rt_reach(st, s, seen);
    for (uint32_t k = st->retired; k < c; k++) /* complete: all ordered */
        if (rt_task_conflicts(&st->task[k], q, w) && !seen[k]) {
            CHECK(seen[k]);
            return;
        }
}

/* Retire the oldest live task in the model: retire() now, or only through
 * the ring's tail (retire() later, before its slot is reused). */
static void rt_retire_one(rt_state_t *st)
{
    rt_task_t *t = &st->task[st->retired++];
    t->retired = true;
    if (rt_rand(st, 2)) {
        pto__tensormap_retire(st->m, t->id);
        t->retire_called = true;
    }
    uint32_t tail = st->next_seq[t->ring];
    for (uint32_t k = st->retired; k < st->ntasks; k++)
        if (st->task[k].ring == t->ring) {
            tail = pto__task_seq(st->task[k].id);
            break;
        }
    pto__tensormap_set_tail(st->m, t->ring, tail);
}

/* retire() the tasks that retired through the tail only: all of them, or
 * the one whose slot the next task of `ring` takes. */
static void rt_flush_retires(rt_state_t *st, uint32_t ring, bool all)
{
    uint32_t mask = st->window[ring] - 1, slot = st->next_seq[ring] & mask;
    for (uint32_t k = 0; k < st->retired; k++) {
        rt_task_t *t = &st->task[k];
        bool reuse = t->ring == ring && (pto__task_seq(t->id) & mask) == slot;
        if (!t->retire_called && (all || reuse)) {
            pto__tensormap_retire(st->m, t->id);
            t->retire_called = true;
        }
    }
}

static uint32_t rt_live_in_ring(const rt_state_t *st, uint32_t ring)
{
    uint32_t n = 0;
    for (uint32_t k = st->retired; k < st->ntasks; k++)
        n += st->task[k].ring == ring;
    return n;
}

/* Make room for task c (back-pressure as the orchestrator would). */
static void rt_make_room(rt_state_t *st, uint32_t ring, uint32_t nacc)
{
    while (rt_live_in_ring(st, ring) + 1 > st->window[ring] - 1)
        rt_retire_one(st);
    rt_flush_retires(st, ring, false); /* before a slot is reused */
    while (pto__tensormap_free(st->m) < nacc) {
        rt_flush_retires(st, ring, true);
        if (pto__tensormap_free(st->m) < nacc)
            rt_retire_one(st);
    }
}

static void rt_submit(rt_state_t *st)
{
    uint32_t c = st->ntasks, ring = rt_rand(st, 2);
    rt_task_t *t = &st->task[c];
    memset(t, 0, sizeof(*t));
    t->ring = ring;
    t->nacc = 1 + rt_rand(st, RT_ACC);
    rt_make_room(st, ring, t->nacc);
    t->id = pto__task_make_id(ring, st->next_seq[ring]++);
    for (uint32_t j = 0; j < t->nacc; j++) {
        t->acc[j].t = rt_view(st);
        t->acc[j].write = rt_rand(st, 2);
    }
    st->ntasks++;
    for (uint32_t j = 0; j < t->nacc; j++)
        rt_check_lookup(st, c, &t->acc[j].t, t->acc[j].write);
    for (uint32_t j = 0; j < t->nacc; j++)
        pto__tensormap_insert(st->m, &t->acc[j].t, t->acc[j].write, t->id);
    while (st->retired < st->ntasks && rt_rand(st, 4) == 0)
        rt_retire_one(st);
}

static void test_random_differential(void)
{
    static rt_state_t st;
    uint32_t w[PTO_RING_DEPTHS] = {8, 16, 4, 4};
    pto_tensormap_t *m = NULL;
    REQUIRE(pto__tensormap_create(RT_ENTRIES, w, &m) == 0);
    unsigned long fails_before = check_fail_count;
    st.rng = UINT64_C(0x2545F4914F6CDD1D);
    for (uint32_t round = 0; round < 3000; round++) {
        uint64_t rng = st.rng;
        memset(&st, 0, sizeof(st));
        st.rng = rng;
        st.m = m;
        st.window[0] = 8;
        st.window[1] = 16;
        /* Some rounds start just below the 32-bit sequence wrap. */
        uint32_t start = rt_rand(&st, 2) ? 0 : UINT32_MAX - 40;
        st.next_seq[0] = start;
        st.next_seq[1] = start + 7;
        pto__tensormap_reset(m);
        CHECK_EQ(pto__tensormap_free(m), RT_ENTRIES);
        for (uint32_t k = 0; k < RT_TASKS; k++)
            rt_submit(&st);
        if (check_fail_count != fails_before) {
            fprintf(stderr, "random differential: first failure in round %u\n",
                    round);
            break;
        }
    }
    pto_tensormap_stats_t s;
    pto__tensormap_stats(m, &s);
    printf("random: %llu lookups, %llu walked, %llu emitted, %llu inserts, "
           "%llu covered drops\n",
           (unsigned long long)s.lookups, (unsigned long long)s.entries_walked,
           (unsigned long long)s.emitted, (unsigned long long)s.inserts,
           (unsigned long long)s.covered_drops);
    CHECK(s.covered_drops > 0);
    pto__tensormap_destroy(m);
}

int main(void)
{
    test_create_args();
    test_hazards();
    test_invalid_inputs();
    test_tiles();
    test_views_of_views();
    test_reshape();
    test_transpose();
    test_dtypes();
    test_repeats();
    test_covered_drop();
    test_retire();
    test_set_tail();
    test_pool();
    test_grid_walk_cost();
    test_grid_from_whole_buffer();
    test_grid_reestablish();
    test_random_differential();
    return check_result();
}
