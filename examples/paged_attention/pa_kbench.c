/*
 * pa_kbench.c - kernel throughput on one thread (pa_kbench.h).
 *
 * QK and PV are timed two ways: "hot" reuses one set of KV blocks (they
 * stay in L1/L2: the arithmetic alone), "stream" walks a 256 MiB pool of
 * blocks (each call reads its K or V from DRAM, as in a real run, where
 * every block is used once). Both code paths are timed when the CPU has
 * AVX2+FMA. FLOPs count a multiply-add as two: 2 * heads * tokens * dim
 * for QK and for PV alike.
 */
#include "pa_kbench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pa_bf16.h"
#include "pa_kernels.h"

/* Each measurement runs at least this long (and at least 3 calls). */
#define PA_BENCH_NS 300000000ull
/* The streamed pool: well above the L3 (32 MiB here). */
#define PA_POOL_BYTES (256ull << 20)

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

typedef struct bench {
    const pa_case_def_t *d;
    uint32_t ht, nblk, pool_blocks;
    size_t block_elems;
    uint16_t *q, *pool, *p;
    float *s, *o, *m, *l, *mi, *li, *oi, *out;
} bench_t;

typedef enum op { OP_QK, OP_PV, OP_SF, OP_UP } op_t;

/* One call; `i` picks the blocks (stream) or 0 (hot). */
static void call(const bench_t *b, op_t op, pa_isa_t isa, uint64_t i)
{
    const pa_case_def_t *d = b->d;
    uint32_t w = b->nblk * d->block_size;
    const uint16_t *blk[PA_MAX_TASK_BLOCKS];
    for (uint32_t u = 0; u < b->nblk; u++)
        blk[u] = b->pool + ((i * b->nblk + u) % b->pool_blocks) *
                               b->block_elems;
    if (op == OP_QK) {
        pa_qk_job_t j = {.q = b->q, .q_ld = d->head_dim, .k_ld = d->head_dim,
                         .ht = b->ht, .d = d->head_dim, .bs = d->block_size,
                         .nblk = b->nblk, .nvalid = w, .scale = 1.0f,
                         .s = b->s, .s_ld = w};
        memcpy(j.k, blk, sizeof blk);
        (void)pa_qk(&j, isa);
    } else if (op == OP_PV) {
        pa_pv_job_t j = {.p = b->p, .p_ld = w, .v_ld = d->head_dim,
                         .ht = b->ht, .d = d->head_dim, .bs = d->block_size,
                         .nblk = b->nblk, .nvalid = w, .o = b->o,
                         .o_ld = d->head_dim};
        memcpy(j.v, blk, sizeof blk);
        (void)pa_pv(&j, isa);
    } else if (op == OP_SF) {
        pa_sf_job_t j = {.s = b->s, .s_ld = w, .ht = b->ht, .w = w,
                         .p = b->p, .p_ld = w, .m = b->m, .l = b->l};
        pa_sf(&j, isa);
    } else {
        pa_up_job_t j = {.mj = b->m, .lj = b->l, .oj = b->o,
                         .oj_ld = d->head_dim, .mi = b->mi, .li = b->li,
                         .oi = b->oi, .oi_ld = d->head_dim, .out = b->out,
                         .out_ld = d->head_dim, .ht = b->ht,
                         .d = d->head_dim, .flags = i == 0 ? PA_UP_FIRST : 0};
        pa_up(&j);
    }
}

/* Nanoseconds per call. */
static double time_op(const bench_t *b, op_t op, pa_isa_t isa, int stream)
{
    uint64_t n = 0, t0 = now_ns(), t;
    call(b, op, isa, 0); /* warm the code and the buffers */
    t0 = now_ns();
    do {
        call(b, op, isa, stream ? n + 1 : 0);
        n++;
        t = now_ns();
    } while (t - t0 < PA_BENCH_NS || n < 3);
    return (double)(t - t0) / (double)n;
}

static void bench_free(bench_t *b)
{
    free(b->q);
    free(b->pool);
    free(b->p);
    free(b->s);
    free(b->o);
    free(b->m);
    free(b->l);
    free(b->mi);
    free(b->li);
    free(b->oi);
    free(b->out);
}

static int bench_alloc(bench_t *b)
{
    const pa_case_def_t *d = b->d;
    size_t w = (size_t)b->nblk * d->block_size, hd = (size_t)b->ht * d->head_dim;
    b->block_elems = (size_t)d->block_size * d->head_dim;
    b->pool_blocks = (uint32_t)(PA_POOL_BYTES / (b->block_elems * 2));
    if (b->pool_blocks < b->nblk)
        b->pool_blocks = b->nblk;
    b->q = malloc(hd * 2);
    b->pool = malloc((size_t)b->pool_blocks * b->block_elems * 2);
    b->p = malloc(b->ht * w * 2);
    b->s = malloc(b->ht * w * 4);
    b->o = malloc(hd * 4);
    b->oi = malloc(hd * 4);
    b->out = malloc(hd * 4);
    b->m = malloc(b->ht * 4);
    b->l = malloc(b->ht * 4);
    b->mi = malloc(b->ht * 4);
    b->li = malloc(b->ht * 4);
    if (!b->q || !b->pool || !b->p || !b->s || !b->o || !b->oi || !b->out ||
        !b->m || !b->l || !b->mi || !b->li)
        return -1;
    uint32_t x = 0x9e3779b9u; /* xorshift32: any bounded values will do */
    size_t npool = (size_t)b->pool_blocks * b->block_elems;
    for (size_t i = 0; i < npool; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b->pool[i] = pa_bf16_from_float((float)(x >> 8) / 16777216.0f - 0.5f);
        if (i < hd)
            b->q[i] = b->pool[i];
        if (i < b->ht * w)
            b->p[i] = pa_bf16_from_float((float)(x >> 9) / 16777216.0f);
    }
    for (size_t i = 0; i < b->ht * w; i++)
        b->s[i] = (float)(i % 97) * 0.01f;
    for (size_t i = 0; i < hd; i++)
        b->o[i] = b->oi[i] = 0.5f;
    for (uint32_t h = 0; h < b->ht; h++)
        b->m[h] = b->mi[h] = 0.0f, b->l[h] = b->li[h] = 1.0f;
    return 0;
}

static void bench_rows(const bench_t *b, pa_isa_t isa)
{
    const pa_case_def_t *d = b->d;
    double flop = 2.0 * b->ht * b->nblk * d->block_size * d->head_dim;
    static const char *const names[2] = {"QK", "PV"};
    for (int op = OP_QK; op <= OP_PV; op++) {
        double hot = time_op(b, (op_t)op, isa, 0);
        double str = time_op(b, (op_t)op, isa, 1);
        printf("  %-9s %-2s  %2u block(s)  hot %8.2f us %7.1f GFLOP/s   "
               "stream %8.2f us %7.1f GFLOP/s\n",
               pa_isa_name(isa), names[op], b->nblk, hot / 1e3, flop / hot,
               str / 1e3, flop / str);
    }
    printf("  %-9s SF  %2u block(s)  %8.2f us   UP %8.2f us\n",
           pa_isa_name(isa), b->nblk, time_op(b, OP_SF, isa, 0) / 1e3,
           time_op(b, OP_UP, isa, 0) / 1e3);
}

int pa_kernel_bench(const pa_case_def_t *d, uint32_t unroll)
{
    uint32_t group = d->heads / d->kv_heads;
    uint32_t ht = group < d->head_tile ? group : d->head_tile;
    int have_avx2 = pa_isa_resolve(PA_ISA_AVX2) == PA_ISA_AVX2;
    printf("kernel bench, one thread, %s tile: %u heads x %u tokens/block x "
           "head_dim %u\n", d->name, ht, d->block_size, d->head_dim);
    uint32_t nblks[2] = {1, unroll};
    for (int k = 0; k < (unroll > 1 ? 2 : 1); k++) {
        bench_t b = {.d = d, .ht = ht, .nblk = nblks[k]};
        if (bench_alloc(&b) != 0) {
            bench_free(&b);
            fprintf(stderr, "pto-pa: out of memory for the kernel bench\n");
            return -1;
        }
        bench_rows(&b, PA_ISA_BASELINE);
        if (have_avx2)
            bench_rows(&b, PA_ISA_AVX2);
        bench_free(&b);
    }
    return 0;
}

/* ---- the whole case on one thread, no runtime -------------------------- */

typedef struct serial_bufs {
    float *s, *o, *m, *l, *mi, *li, *oi;
    uint16_t *p;
} serial_bufs_t;

static void serial_free(serial_bufs_t *w)
{
    free(w->s);
    free(w->o);
    free(w->m);
    free(w->l);
    free(w->mi);
    free(w->li);
    free(w->oi);
    free(w->p);
}

/* One step of tile (b, g, h0, ht): blocks blk0..blk0+nb. */
static int serial_step(const pa_inputs_t *in, const serial_bufs_t *w,
                       uint32_t b, uint32_t g, uint32_t h0, uint32_t ht,
                       uint32_t blk0, uint32_t nb, pa_isa_t isa)
{
    const pa_case_def_t *d = in->def;
    uint32_t bs = d->block_size, dim = d->head_dim, wd = nb * bs;
    uint32_t ctx = (uint32_t)in->context_lens[b], left = ctx - blk0 * bs;
    size_t kv_ld = (size_t)d->kv_heads * dim;
    const int32_t *table = in->block_table + (size_t)b * in->max_blocks;
    pa_qk_job_t qk = {.q = in->query + ((size_t)b * d->heads + h0) * dim,
                      .q_ld = dim, .k_ld = kv_ld, .ht = ht, .d = dim,
                      .bs = bs, .nblk = nb, .nvalid = left < wd ? left : wd,
                      .scale = (float)d->scale, .s = w->s, .s_ld = wd};
    pa_pv_job_t pv = {.p = w->p, .p_ld = wd, .v_ld = kv_ld, .ht = ht,
                      .d = dim, .bs = bs, .nblk = nb, .nvalid = qk.nvalid,
                      .o = w->o, .o_ld = dim};
    for (uint32_t u = 0; u < nb; u++) {
        size_t at = ((size_t)table[blk0 + u] * bs * d->kv_heads + g) * dim;
        qk.k[u] = in->key + at;
        pv.v[u] = in->value + at;
    }
    pa_sf_job_t sf = {.s = w->s, .s_ld = wd, .ht = ht, .w = wd, .p = w->p,
                      .p_ld = wd, .m = w->m, .l = w->l};
    pa_up_job_t up = {.mj = w->m, .lj = w->l, .oj = w->o, .oj_ld = dim,
                      .mi = w->mi, .li = w->li, .oi = w->oi, .oi_ld = dim,
                      .out = in->out + ((size_t)b * d->heads + h0) * dim,
                      .out_ld = dim, .ht = ht, .d = dim,
                      .flags = (blk0 == 0 ? PA_UP_FIRST : 0) |
                               (blk0 + nb == pa_inputs_blocks(in, b)
                                    ? PA_UP_LAST
                                    : 0)};
    if (pa_qk(&qk, isa) != 0)
        return -1;
    pa_sf(&sf, isa);
    if (pa_pv(&pv, isa) != 0)
        return -1;
    pa_up(&up);
    return 0;
}

int pa_serial_run(const pa_inputs_t *in, uint32_t blocks_per_step,
                  pa_isa_t isa)
{
    const pa_case_def_t *d = in->def;
    uint32_t group = d->heads / d->kv_heads;
    uint32_t tile = group < d->head_tile ? group : d->head_tile;
    size_t w = (size_t)blocks_per_step * d->block_size;
    size_t hd = (size_t)tile * d->head_dim;
    serial_bufs_t bufs = {
        .s = malloc(tile * w * 4), .o = malloc(hd * 4), .m = malloc(tile * 4),
        .l = malloc(tile * 4), .mi = malloc(tile * 4), .li = malloc(tile * 4),
        .oi = malloc(hd * 4), .p = malloc(tile * w * 2)};
    int rc = bufs.s && bufs.o && bufs.m && bufs.l && bufs.mi && bufs.li &&
                     bufs.oi && bufs.p
                 ? 0
                 : -1;
    for (uint32_t b = 0; rc == 0 && b < d->batch; b++) {
        uint32_t nblocks = pa_inputs_blocks(in, b);
        for (uint32_t g = 0; rc == 0 && g < d->kv_heads; g++) {
            for (uint32_t h0 = g * group; rc == 0 && h0 < (g + 1) * group;
                 h0 += tile) {
                uint32_t ht = (g + 1) * group - h0 < tile
                                  ? (g + 1) * group - h0
                                  : tile;
                for (uint32_t k = 0; rc == 0 && k < nblocks;
                     k += blocks_per_step) {
                    uint32_t nb = nblocks - k < blocks_per_step
                                      ? nblocks - k
                                      : blocks_per_step;
                    rc = serial_step(in, &bufs, b, g, h0, ht, k, nb, isa);
                }
            }
        }
    }
    serial_free(&bufs);
    return rc;
}
