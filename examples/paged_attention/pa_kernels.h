/*
 * pa_kernels.h - the four paged-attention kernels, as plain C functions on
 * pointers and as pto-runtime kernels.
 *
 * Per task, for a tile of `ht` query heads that share one kv head, over
 * `nblk` KV blocks of `bs` tokens (nblk = 1, or the unroll factor):
 *
 *   QK  (AIC)  s = scale * q . k^T          s [ht][nblk*bs] fp32; columns at
 *                                           or past `nvalid` are -inf
 *   SF  (AIV)  m = rowmax(s), p = bf16(exp(s - m)), l = rowsum(p)
 *                                           (l sums the bf16-rounded p: the
 *                                           very weights PV multiplies by)
 *   PV  (AIC)  o = p . v                    o [ht][d] fp32 (fp32 accumulate)
 *   UP  (AIV)  online softmax: the first task initialises (mi, li, oi)
 *              from (m, l, o), later ones rescale and add; the last one
 *              also writes out = oi / li into the external output tile.
 *
 * The plain functions (pa_qk, ...) do the math; the pto kernels (pa_k_*)
 * read the geometry from the tensors they are given (shape, stride, dtype)
 * and the rest from scalars, check it, and call them. The plain ones are
 * what --kernel-bench times, without the runtime.
 *
 * Speed: bf16 operands are widened to fp32 once into small local buffers,
 * then one register-blocked fp32 GEMM does the work. It is written with the
 * GNU vector extension (gcc and clang) and compiled twice: for the x86-64
 * baseline (SSE2) and for AVX2+FMA, picked at run time per call
 * (__builtin_cpu_supports), so the binary runs on any x86-64.
 */
#ifndef PA_KERNELS_H
#define PA_KERNELS_H

#include <pto/pto.h>

#include <stddef.h>
#include <stdint.h>

/* Kernel ids registered by pa_kernels_register. */
enum pa_kernel_id { PA_K_QK = 1, PA_K_SF, PA_K_PV, PA_K_UP };

/* Most KV blocks one QK or PV task covers: it takes one tensor per block
 * plus two more (q or p, and its output) and a task holds 16 tensors. */
#define PA_MAX_TASK_BLOCKS (PTO_MAX_TENSOR_ARGS - 2)
/* Geometry limits of the kernels' local buffers. */
#define PA_MAX_HEAD_DIM 256u
#define PA_MAX_HEAD_TILE 128u

/* UP flags (its only scalar). */
#define PA_UP_FIRST 0x1u /* initialise the accumulators */
#define PA_UP_LAST 0x2u  /* write out = oi / li */

/* Which code path the plain functions use. */
typedef enum pa_isa {
    PA_ISA_AUTO = 0,  /* the best this CPU supports */
    PA_ISA_BASELINE,  /* what the compiler targets by default (SSE2) */
    PA_ISA_AVX2       /* AVX2 + FMA; only where the CPU has them */
} pa_isa_t;

/* Resolve PA_ISA_AUTO (and a request this CPU cannot honour) to a path. */
pa_isa_t pa_isa_resolve(pa_isa_t isa);
const char *pa_isa_name(pa_isa_t isa);
/* The path the pto kernels take (default PA_ISA_AUTO). Call before
 * pto_runtime_create: the core threads read it unsynchronised. */
void pa_kernels_set_isa(pa_isa_t isa);
pa_isa_t pa_kernels_isa(void); /* resolved */

typedef struct pa_qk_job {
    const uint16_t *q;   /* [ht][d] bf16, rows q_ld apart */
    size_t q_ld;
    const uint16_t *k[PA_MAX_TASK_BLOCKS]; /* nblk blocks of [bs][d] bf16 */
    size_t k_ld;         /* token stride inside a block */
    uint32_t ht, d, bs, nblk;
    uint32_t nvalid;     /* valid tokens, counted from the first block; the
                            rest of s is -inf. 1..nblk*bs */
    float scale;
    float *s;            /* [ht][nblk*bs] fp32, rows s_ld apart */
    size_t s_ld;
} pa_qk_job_t;

typedef struct pa_sf_job {
    const float *s;      /* [ht][w] */
    size_t s_ld;
    uint32_t ht, w;
    uint16_t *p;         /* [ht][w] bf16 */
    size_t p_ld;
    float *m, *l;        /* [ht] */
} pa_sf_job_t;

typedef struct pa_pv_job {
    const uint16_t *p;   /* [ht][nblk*bs] bf16 */
    size_t p_ld;
    const uint16_t *v[PA_MAX_TASK_BLOCKS]; /* nblk blocks of [bs][d] bf16 */
    size_t v_ld;
    uint32_t ht, d, bs, nblk;
    uint32_t nvalid;     /* tokens that count; p is ignored past them */
    float *o;            /* [ht][d] fp32 */
    size_t o_ld;
} pa_pv_job_t;

typedef struct pa_up_job {
    const float *mj, *lj; /* [ht]: this step's row max and row sum */
    const float *oj;      /* [ht][d] */
    size_t oj_ld;
    float *mi, *li;       /* [ht]: running max and sum */
    float *oi;            /* [ht][d]: running (unnormalised) output */
    size_t oi_ld;
    float *out;           /* [ht][d]: written when PA_UP_LAST */
    size_t out_ld;
    uint32_t ht, d, flags;
} pa_up_job_t;

/* 0, or -1 when the geometry exceeds the limits above (nothing written). */
int pa_qk(const pa_qk_job_t *j, pa_isa_t isa);
int pa_pv(const pa_pv_job_t *j, pa_isa_t isa);
void pa_sf(const pa_sf_job_t *j, pa_isa_t isa);
void pa_up(const pa_up_job_t *j);

/* The pto kernels. Tensors and scalars, in args order:
 *   QK  q [.., ht, d] bf16; k_0..k_{n-1} [.., bs, .., d] bf16; s [ht, n*bs]
 *       fp32 (written)           scalars: scale (double bits), nvalid
 *   SF  s [ht, w]; p [ht, w] bf16, m [ht], l [ht] (written)
 *   PV  p [ht, n*bs] bf16; v_0..v_{n-1}; o [ht, d] fp32 (written)
 *                                scalars: nvalid
 *   UP  m, l [ht], o [ht, d] (read); mi, li [ht], oi [ht, d] (written, and
 *       read unless PA_UP_FIRST); out [.., ht, d] fp32 iff PA_UP_LAST
 *                                scalars: flags
 * A tensor of the wrong dtype or shape fails the task with a message. */
void pa_k_qk(const pto_kernel_ctx_t *c);
void pa_k_sf(const pto_kernel_ctx_t *c);
void pa_k_pv(const pto_kernel_ctx_t *c);
void pa_k_up(const pto_kernel_ctx_t *c);

/* Register the four kernels (or, with `empty`, kernels that do nothing:
 * for measuring the runtime alone). 0 or a PTO_E* code. */
int pa_kernels_register(pto_runtime_t *rt, int empty);

#endif /* PA_KERNELS_H */
