/*
 * pa_kernels.c - QK, SF, PV and UP for the CPU platform (pa_kernels.h).
 *
 * Layout of the work. Both matmuls run as one fp32 GEMM, C[m][n] (+)=
 * A[m][k] . B[k][n], vectorised along n with A broadcast (no horizontal
 * sums, no transposed loads in the inner loop):
 *   QK  computes s^T: A = k widened [tokens][d], B = q^T widened [d][ht];
 *       the result is scaled and stored transposed into s [ht][tokens].
 *   PV  A = p widened [ht][tokens], B = v widened [tokens][d], C = o.
 * K and V are widened a chunk of PA_CHUNK tokens at a time, so the buffers
 * stay in L1/L2 whatever the block size. The GEMM micro-tile is 4 rows x
 * 16 columns: 8 accumulators of 8 floats, which with the two B vectors and
 * a broadcast fit the 16 AVX2 registers.
 *
 * Two copies of the same code (pa_kernels_impl.h, included twice): one
 * with 4-float vectors for the x86-64 baseline (SSE2), one with 8-float
 * vectors compiled for AVX2+FMA (target attribute); each call picks one
 * (pa_isa_resolve). -ffp-contract=fast (CMakeLists.txt) lets the AVX2 copy
 * fuse multiply-adds. No -march: the binary runs on any x86-64.
 *
 * Local buffers live on the core thread's stack (about 230 KiB at the
 * limits in pa_kernels.h; core threads have the default 8 MiB stack).
 */
#include "pa_kernels.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pa_bf16.h"

#if defined(__x86_64__) || defined(__i386__)
#define PA_X86 1
#else
#define PA_X86 0
#endif

#define PA_INLINE static inline __attribute__((always_inline))

/* Tokens of K or V widened at a time: 64 x 128 floats is 32 KiB, the L1. */
#define PA_CHUNK 64u

/* ---- ISA choice -------------------------------------------------------- */

static int cpu_has_avx2(void)
{
#if PA_X86
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

pa_isa_t pa_isa_resolve(pa_isa_t isa)
{
    if (isa == PA_ISA_BASELINE)
        return isa;
    return cpu_has_avx2() ? PA_ISA_AVX2 : PA_ISA_BASELINE;
}

/* The path the pto kernels use: written by pa_kernels_set_isa before the
 * runtime starts its core threads (pthread_create orders the write before
 * every kernel), only read afterwards. */
static pa_isa_t kernel_isa = PA_ISA_AUTO;

void pa_kernels_set_isa(pa_isa_t isa)
{
    kernel_isa = isa;
}

pa_isa_t pa_kernels_isa(void)
{
    return pa_isa_resolve(kernel_isa);
}

const char *pa_isa_name(pa_isa_t isa)
{
    switch (pa_isa_resolve(isa)) {
    case PA_ISA_AVX2:
        return "avx2+fma";
    default:
        return "baseline";
    }
}

/* ---- shared by both copies -------------------------------------------- */

typedef struct pa_gemm {
    const float *a; /* [m][k], rows lda apart */
    const float *b; /* [k][n], rows ldb apart */
    float *c;       /* [m][n], rows ldc apart */
    size_t lda, ldb, ldc;
    uint32_t m, n, k;
    int accumulate; /* c += a.b instead of c = a.b */
} pa_gemm_t;

/* Ask for the rows the next chunk will widen (chunk t0 of block u is in
 * hand), so they arrive from DRAM while this chunk's GEMM runs. */
PA_INLINE void pa_prefetch_next(const uint16_t *const *blk, uint32_t nblk,
                                uint32_t bs, size_t ld, uint32_t d,
                                uint32_t u, uint32_t t0)
{
    const uint16_t *base;
    uint32_t rows;
    if (t0 + PA_CHUNK < bs) {
        base = blk[u] + (size_t)(t0 + PA_CHUNK) * ld;
        rows = bs - t0 - PA_CHUNK;
    } else if (u + 1 < nblk) {
        base = blk[u + 1];
        rows = bs;
    } else {
        return;
    }
    if (rows > PA_CHUNK)
        rows = PA_CHUNK;
    for (uint32_t r = 0; r < rows; r++)
        for (uint32_t x = 0; x < d; x += 32) /* 64-byte lines */
            __builtin_prefetch(base + (size_t)r * ld + x);
}

/* The baseline copy: SSE2 vectors of 4 floats. */
#define PA_VL 4
#define PA_FN(n) n##_base
#define PA_ATTR
#include "pa_kernels_impl.h"
#undef PA_VL
#undef PA_FN
#undef PA_ATTR

#if PA_X86
/* The AVX2+FMA copy: vectors of 8 floats. */
#define PA_VL 8
#define PA_FN(n) n##_avx2
#define PA_ATTR __attribute__((target("avx2,fma")))
#include "pa_kernels_impl.h"
#undef PA_VL
#undef PA_FN
#undef PA_ATTR
#endif

/* ---- entry points -------------------------------------------------------- */

/* Local buffers of one QK / PV call, at the limits of pa_kernels.h. */
#define PA_QT_FLOATS (PA_MAX_HEAD_DIM * PA_MAX_HEAD_TILE)
#define PA_KF_FLOATS (PA_CHUNK * PA_MAX_HEAD_DIM)
#define PA_ST_FLOATS (PA_CHUNK * PA_MAX_HEAD_TILE)

static int geometry_ok(uint32_t ht, uint32_t d, uint32_t nblk)
{
    return ht >= 1 && ht <= PA_MAX_HEAD_TILE && d >= 1 &&
           d <= PA_MAX_HEAD_DIM && nblk >= 1 && nblk <= PA_MAX_TASK_BLOCKS;
}

int pa_qk(const pa_qk_job_t *j, pa_isa_t isa)
{
    _Alignas(64) float qt[PA_QT_FLOATS];
    _Alignas(64) float kf[PA_KF_FLOATS];
    _Alignas(64) float st[PA_ST_FLOATS];
    if (!geometry_ok(j->ht, j->d, j->nblk) || j->bs == 0)
        return -1;
#if PA_X86
    if (pa_isa_resolve(isa) == PA_ISA_AVX2) {
        qk_avx2(j, qt, kf, st);
        return 0;
    }
#endif
    (void)isa;
    qk_base(j, qt, kf, st);
    return 0;
}

int pa_pv(const pa_pv_job_t *j, pa_isa_t isa)
{
    _Alignas(64) float pf[PA_MAX_HEAD_TILE * PA_CHUNK];
    _Alignas(64) float vf[PA_KF_FLOATS];
    if (!geometry_ok(j->ht, j->d, j->nblk) || j->bs == 0)
        return -1;
    if (j->nvalid == 0) { /* nothing to add up: o = 0 */
        for (uint32_t h = 0; h < j->ht; h++)
            memset(j->o + (size_t)h * j->o_ld, 0, j->d * sizeof(float));
        return 0;
    }
#if PA_X86
    if (pa_isa_resolve(isa) == PA_ISA_AVX2) {
        pv_avx2(j, pf, vf);
        return 0;
    }
#endif
    (void)isa;
    pv_base(j, pf, vf);
    return 0;
}

void pa_sf(const pa_sf_job_t *j, pa_isa_t isa)
{
#if PA_X86
    if (pa_isa_resolve(isa) == PA_ISA_AVX2) {
        sf_avx2(j);
        return;
    }
#endif
    (void)isa;
    sf_base(j);
}

/* ---- UP ---------------------------------------------------------------- */

/* One row: fold (mj, lj, oj) into (mi, li, oi). */
static void up_row(float *restrict oi, const float *restrict oj, uint32_t d,
                   float *mi, float *li, float mj, float lj)
{
    float mn = *mi > mj ? *mi : mj;
    float a = expf(*mi - mn), b = expf(mj - mn);
    *li = a * *li + b * lj;
    *mi = mn;
    for (uint32_t x = 0; x < d; x++)
        oi[x] = a * oi[x] + b * oj[x];
}

void pa_up(const pa_up_job_t *j)
{
    for (uint32_t h = 0; h < j->ht; h++) {
        float *oi = j->oi + (size_t)h * j->oi_ld;
        const float *oj = j->oj + (size_t)h * j->oj_ld;
        if (j->flags & PA_UP_FIRST) {
            j->mi[h] = j->mj[h];
            j->li[h] = j->lj[h];
            memcpy(oi, oj, j->d * sizeof(float));
        } else {
            up_row(oi, oj, j->d, &j->mi[h], &j->li[h], j->mj[h], j->lj[h]);
        }
        if (j->flags & PA_UP_LAST) {
            float *restrict out = j->out + (size_t)h * j->out_ld;
            float l = j->li[h];
            for (uint32_t x = 0; x < j->d; x++)
                out[x] = oi[x] / l;
        }
    }
}

/* ---- pto kernels: tensors -> jobs -------------------------------------- */

/* A tensor seen as a matrix: its last dimension is the columns (unit
 * stride), and at most one other dimension is longer than 1 (the rows). */
typedef struct pa_mat {
    void *data;
    uint32_t rows, cols;
    size_t ld;
} pa_mat_t;

static void kfail(const pto_kernel_ctx_t *c, const char *kernel,
                  const char *what, uint32_t arg)
{
    char msg[160];
    snprintf(msg, sizeof msg, "%s: tensor %u: %s", kernel, arg, what);
    pto_kernel_fail(c, msg);
}

static int mat_of(const pto_kernel_ctx_t *c, const char *kernel, uint32_t i,
                  pto_dtype_t dt, pa_mat_t *m)
{
    const pto_tensor_t *t = pto_kernel_tensor(c, i);
    if (t == NULL) {
        kfail(c, kernel, "missing", i);
        return -1;
    }
    if (pto_tensor_dtype(t) != dt) {
        kfail(c, kernel, "unexpected dtype", i);
        return -1;
    }
    uint32_t nd = pto_tensor_ndim(t);
    if (pto_tensor_stride(t, nd - 1) != 1) {
        kfail(c, kernel, "last dimension is not contiguous", i);
        return -1;
    }
    m->data = pto_tensor_data(t);
    m->cols = pto_tensor_shape(t, nd - 1);
    m->rows = 1;
    m->ld = m->cols;
    for (uint32_t d = 0; d + 1 < nd; d++) {
        if (pto_tensor_shape(t, d) == 1)
            continue;
        if (m->rows > 1) {
            kfail(c, kernel, "more than one row dimension", i);
            return -1;
        }
        m->rows = pto_tensor_shape(t, d);
        m->ld = pto_tensor_stride(t, d);
    }
    return 0;
}

/* The nblk per-block matrices of K or V (tensors first..first+nblk), all
 * [bs][d] with one row stride. */
static int blocks_of(const pto_kernel_ctx_t *c, const char *kernel,
                     uint32_t first, uint32_t nblk, uint32_t d,
                     const uint16_t **ptr, uint32_t *bs, size_t *ld)
{
    for (uint32_t u = 0; u < nblk; u++) {
        pa_mat_t b;
        if (mat_of(c, kernel, first + u, PTO_BFLOAT16, &b) != 0)
            return -1;
        if (u == 0) {
            *bs = b.rows;
            *ld = b.ld;
        }
        if (b.cols != d || b.rows != *bs || b.ld != *ld) {
            kfail(c, kernel, "KV block shape differs from the others",
                  first + u);
            return -1;
        }
        ptr[u] = b.data;
    }
    return 0;
}

static void k_qk(const pto_kernel_ctx_t *c)
{
    uint32_t nt = pto_kernel_tensor_count(c);
    pa_qk_job_t j = {0};
    pa_mat_t q, s;
    if (nt < 3 || nt - 2 > PA_MAX_TASK_BLOCKS) {
        pto_kernel_fail(c, "qk: expects q, 1..14 key blocks, s");
        return;
    }
    j.nblk = nt - 2;
    if (mat_of(c, "qk", 0, PTO_BFLOAT16, &q) != 0 ||
        mat_of(c, "qk", nt - 1, PTO_FLOAT32, &s) != 0 ||
        blocks_of(c, "qk", 1, j.nblk, q.cols, j.k, &j.bs, &j.k_ld) != 0)
        return;
    j.q = q.data;
    j.q_ld = q.ld;
    j.ht = q.rows;
    j.d = q.cols;
    j.s = s.data;
    j.s_ld = s.ld;
    j.scale = (float)pa_f64_from_bits(pto_kernel_scalar(c, 0));
    uint64_t nvalid = pto_kernel_scalar(c, 1);
    if (s.rows != j.ht || s.cols != j.nblk * j.bs) {
        kfail(c, "qk", "s is not [heads, blocks * block_size]", nt - 1);
        return;
    }
    if (nvalid == 0 || nvalid > (uint64_t)j.nblk * j.bs) {
        pto_kernel_fail(c, "qk: valid token count out of range");
        return;
    }
    j.nvalid = (uint32_t)nvalid;
    if (pa_qk(&j, kernel_isa) != 0)
        pto_kernel_fail(c, "qk: head tile or head_dim over the limits");
}

static void k_sf(const pto_kernel_ctx_t *c)
{
    pa_mat_t s, p, m, l;
    if (mat_of(c, "sf", 0, PTO_FLOAT32, &s) != 0 ||
        mat_of(c, "sf", 1, PTO_BFLOAT16, &p) != 0 ||
        mat_of(c, "sf", 2, PTO_FLOAT32, &m) != 0 ||
        mat_of(c, "sf", 3, PTO_FLOAT32, &l) != 0)
        return;
    if (p.rows != s.rows || p.cols != s.cols || m.rows * m.cols != s.rows ||
        l.rows * l.cols != s.rows || m.ld != m.cols || l.ld != l.cols) {
        pto_kernel_fail(c, "sf: p, m, l do not match s [heads, tokens]");
        return;
    }
    pa_sf_job_t j = {.s = s.data, .s_ld = s.ld, .ht = s.rows, .w = s.cols,
                     .p = p.data, .p_ld = p.ld, .m = m.data, .l = l.data};
    pa_sf(&j, kernel_isa);
}

static void k_pv(const pto_kernel_ctx_t *c)
{
    uint32_t nt = pto_kernel_tensor_count(c);
    pa_pv_job_t j = {0};
    pa_mat_t p, o;
    if (nt < 3 || nt - 2 > PA_MAX_TASK_BLOCKS) {
        pto_kernel_fail(c, "pv: expects p, 1..14 value blocks, o");
        return;
    }
    j.nblk = nt - 2;
    if (mat_of(c, "pv", 0, PTO_BFLOAT16, &p) != 0 ||
        mat_of(c, "pv", nt - 1, PTO_FLOAT32, &o) != 0 ||
        blocks_of(c, "pv", 1, j.nblk, o.cols, j.v, &j.bs, &j.v_ld) != 0)
        return;
    j.p = p.data;
    j.p_ld = p.ld;
    j.ht = p.rows;
    j.d = o.cols;
    j.o = o.data;
    j.o_ld = o.ld;
    uint64_t nvalid = pto_kernel_scalar(c, 0);
    if (o.rows != j.ht || p.cols != j.nblk * j.bs) {
        pto_kernel_fail(c, "pv: p is not [heads, blocks * block_size] or "
                           "o not [heads, head_dim]");
        return;
    }
    if (nvalid == 0 || nvalid > p.cols) {
        pto_kernel_fail(c, "pv: valid token count out of range");
        return;
    }
    j.nvalid = (uint32_t)nvalid;
    if (pa_pv(&j, kernel_isa) != 0)
        pto_kernel_fail(c, "pv: head tile or head_dim over the limits");
}

/* A [ht] vector argument. */
static float *vec_of(const pto_kernel_ctx_t *c, uint32_t i, uint32_t ht)
{
    pa_mat_t m;
    if (mat_of(c, "up", i, PTO_FLOAT32, &m) != 0)
        return NULL;
    if (m.rows * m.cols != ht || m.ld != m.cols) {
        kfail(c, "up", "not a [heads] vector", i);
        return NULL;
    }
    return m.data;
}

static void k_up(const pto_kernel_ctx_t *c)
{
    uint32_t flags = (uint32_t)pto_kernel_scalar(c, 0);
    uint32_t want = (flags & PA_UP_LAST) ? 7 : 6;
    pa_mat_t oj, oi, out = {0};
    if (pto_kernel_tensor_count(c) != want) {
        pto_kernel_fail(c, "up: expects m, l, o, mi, li, oi (and out when "
                           "last)");
        return;
    }
    if (mat_of(c, "up", 2, PTO_FLOAT32, &oj) != 0 ||
        mat_of(c, "up", 5, PTO_FLOAT32, &oi) != 0 ||
        (want == 7 && mat_of(c, "up", 6, PTO_FLOAT32, &out) != 0))
        return;
    pa_up_job_t j = {.oj = oj.data, .oj_ld = oj.ld, .oi = oi.data,
                     .oi_ld = oi.ld, .out = out.data, .out_ld = out.ld,
                     .ht = oj.rows, .d = oj.cols, .flags = flags};
    if (oi.rows != j.ht || oi.cols != j.d ||
        (want == 7 && (out.rows != j.ht || out.cols != j.d))) {
        pto_kernel_fail(c, "up: o, oi, out are not all [heads, head_dim]");
        return;
    }
    j.mj = vec_of(c, 0, j.ht);
    j.lj = vec_of(c, 1, j.ht);
    j.mi = vec_of(c, 3, j.ht);
    j.li = vec_of(c, 4, j.ht);
    if (!j.mj || !j.lj || !j.mi || !j.li)
        return;
    pa_up(&j);
}

static void k_empty(const pto_kernel_ctx_t *c)
{
    (void)c;
}

/* The registered kernels (the runtime traces them when asked: pto/trace.h). */
void pa_k_qk(const pto_kernel_ctx_t *c)
{
    k_qk(c);
}

void pa_k_sf(const pto_kernel_ctx_t *c)
{
    k_sf(c);
}

void pa_k_pv(const pto_kernel_ctx_t *c)
{
    k_pv(c);
}

void pa_k_up(const pto_kernel_ctx_t *c)
{
    k_up(c);
}

int pa_kernels_register(pto_runtime_t *rt, int empty)
{
    static const struct {
        uint32_t id;
        pto_kernel_fn fn, empty_fn;
        const char *name;
    } table[] = {
        {PA_K_QK, pa_k_qk, k_empty, "qk"},
        {PA_K_SF, pa_k_sf, k_empty, "softmax_prepare"},
        {PA_K_PV, pa_k_pv, k_empty, "pv"},
        {PA_K_UP, pa_k_up, k_empty, "online_update"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        int rc = pto_kernel_register(rt, table[i].id,
                                     empty ? table[i].empty_fn : table[i].fn,
                                     table[i].name);
        if (rc != 0)
            return rc;
    }
    return 0;
}
