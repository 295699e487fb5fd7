/*
 * pa_kernels_impl.h - the QK, SF and PV bodies, written once for a vector
 * of PA_VL floats and included by pa_kernels.c once per code path:
 *
 *   PA_VL     lanes per vector: 4 (SSE2, the x86-64 baseline) or 8 (AVX2)
 *   PA_FN(n)  the name of n in this copy (n##_base, n##_avx2)
 *   PA_ATTR   attributes of the entry points (the target, for AVX2)
 *
 * Each copy defines PA_FN(qk), PA_FN(sf) and PA_FN(pv) (see pa_kernels.c
 * for the design). Helpers are always inlined into those, so they are
 * compiled for the entry point's target. Vectors only ever pass through
 * pointers: passing them by value would change the ABI between targets.
 */

typedef float PA_FN(vf) __attribute__((vector_size(PA_VL * 4)));
typedef int32_t PA_FN(vi) __attribute__((vector_size(PA_VL * 4)));
typedef uint32_t PA_FN(vu) __attribute__((vector_size(PA_VL * 4)));
typedef uint16_t PA_FN(vh) __attribute__((vector_size(PA_VL * 2)));
#define VF PA_FN(vf)
#define VI PA_FN(vi)
#define VU PA_FN(vu)
#define VH PA_FN(vh)

/* dst[0..n) = widen(src[0..n)): bf16 -> fp32 is a 16-bit shift. */
PA_INLINE void PA_FN(widen)(float *restrict dst, const uint16_t *restrict src,
                            uint32_t n)
{
    uint32_t i = 0;
    for (; i + PA_VL <= n; i += PA_VL) {
        VH h;
        memcpy(&h, src + i, sizeof h);
        VU u = __builtin_convertvector(h, VU) << 16;
        memcpy(dst + i, &u, sizeof u);
    }
    for (; i < n; i++)
        dst[i] = pa_float_from_bf16(src[i]);
}

/* Rows i..i+R, columns j..j+NV*PA_VL of c. R <= 4 and NV <= 2 are
 * constants at every call: the loops over them unroll, acc stays in
 * registers (8 of them at R = 4, NV = 2). */
PA_INLINE void PA_FN(gemm_tile)(const pa_gemm_t *g, uint32_t i, uint32_t j,
                                const uint32_t R, const uint32_t NV)
{
    VF acc[4][2];
    const float *a = g->a + (size_t)i * g->lda;
    const float *b = g->b + j;
    for (uint32_t r = 0; r < R; r++)
        for (uint32_t v = 0; v < NV; v++)
            acc[r][v] = (VF){0};
    for (uint32_t x = 0; x < g->k; x++) {
        VF bv[2];
        for (uint32_t v = 0; v < NV; v++)
            memcpy(&bv[v], b + (size_t)x * g->ldb + PA_VL * v, sizeof bv[v]);
        for (uint32_t r = 0; r < R; r++) {
            float s = a[(size_t)r * g->lda + x];
            for (uint32_t v = 0; v < NV; v++)
                acc[r][v] += bv[v] * s;
        }
    }
    float *c = g->c + (size_t)i * g->ldc + j;
    for (uint32_t r = 0; r < R; r++) {
        for (uint32_t v = 0; v < NV; v++) {
            float *dst = c + (size_t)r * g->ldc + PA_VL * v;
            VF t = acc[r][v];
            if (g->accumulate) {
                VF old;
                memcpy(&old, dst, sizeof old);
                t += old;
            }
            memcpy(dst, &t, sizeof t);
        }
    }
}

/* One column of c, for n not a multiple of PA_VL. */
PA_INLINE void PA_FN(gemm_col)(const pa_gemm_t *g, uint32_t j)
{
    for (uint32_t i = 0; i < g->m; i++) {
        const float *a = g->a + (size_t)i * g->lda;
        float s = 0.0f;
        for (uint32_t x = 0; x < g->k; x++)
            s += a[x] * g->b[(size_t)x * g->ldb + j];
        float *dst = g->c + (size_t)i * g->ldc + j;
        *dst = g->accumulate ? *dst + s : s;
    }
}

/* Column panels of 2 vectors (a panel of b stays in L1 while the rows of
 * a stream past it), then one vector, then single columns. */
PA_INLINE void PA_FN(gemm)(const pa_gemm_t *g)
{
    uint32_t j = 0, i;
    for (; j + 2 * PA_VL <= g->n; j += 2 * PA_VL) {
        for (i = 0; i + 4 <= g->m; i += 4)
            PA_FN(gemm_tile)(g, i, j, 4, 2);
        for (; i < g->m; i++)
            PA_FN(gemm_tile)(g, i, j, 1, 2);
    }
    if (j + PA_VL <= g->n) {
        for (i = 0; i + 4 <= g->m; i += 4)
            PA_FN(gemm_tile)(g, i, j, 4, 1);
        for (; i < g->m; i++)
            PA_FN(gemm_tile)(g, i, j, 1, 1);
        j += PA_VL;
    }
    for (; j < g->n; j++)
        PA_FN(gemm_col)(g, j);
}

/* exp of values <= 0 (or -inf), in place. Cody-Waite reduction
 * x = n ln2 + r, |r| <= ln2/2, and a degree-6 Taylor polynomial: relative
 * error below 3e-7, far under the bf16 rounding (2^-9) that follows.
 * Below -87 (where float underflows) the result is exactly 0. */
PA_INLINE void PA_FN(exp_nonpos)(VF *xp)
{
    VF zero = {0};
    VF x = *xp;
    VI under = x < -87.0f;
    x = (VF)(((VI)x & ~under) | ((VI)(zero - 87.0f) & under));
    /* n = round(x / ln2): adding 1.5 * 2^23 leaves n in the low mantissa
     * bits (exact while |n| < 2^22). */
    VF t = x * 1.44269504f + 12582912.0f;
    VF n = t - 12582912.0f;
    VI ni = (VI)t - 0x4b400000;
    VF r = x - n * 0.693359375f; /* ln2, high part: an exact product */
    r = r - n * -2.12194440e-4f; /* ln2, low part */
    VF p = r * (1.0f / 720.0f) + (1.0f / 120.0f);
    p = p * r + (1.0f / 24.0f);
    p = p * r + (1.0f / 6.0f);
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    VF scale = (VF)((ni + 127) << 23); /* 2^n, n in [-126, 0] */
    *xp = (VF)((VI)(p * scale) & ~under);
}

/* ---- QK ---------------------------------------------------------------- */

/* s[h][col0 + r] = scale * st[r][h] for r < valid, -inf for valid..n. */
PA_INLINE void PA_FN(qk_store)(const pa_qk_job_t *j, const float *st,
                               uint32_t col0, uint32_t valid, uint32_t n)
{
    for (uint32_t h = 0; h < j->ht; h++) {
        float *row = j->s + (size_t)h * j->s_ld + col0;
        for (uint32_t r = 0; r < valid; r++)
            row[r] = j->scale * st[(size_t)r * j->ht + h];
        for (uint32_t r = valid; r < n; r++)
            row[r] = -INFINITY;
    }
}

PA_ATTR static void PA_FN(qk)(const pa_qk_job_t *j, float *qt, float *kf,
                              float *st)
{
    for (uint32_t h = 0; h < j->ht; h++)
        for (uint32_t x = 0; x < j->d; x++)
            qt[(size_t)x * j->ht + h] =
                pa_float_from_bf16(j->q[(size_t)h * j->q_ld + x]);
    pa_gemm_t g = {.a = kf, .lda = j->d, .b = qt, .ldb = j->ht, .c = st,
                   .ldc = j->ht, .n = j->ht, .k = j->d, .accumulate = 0};
    for (uint32_t u = 0; u < j->nblk; u++) {
        for (uint32_t t0 = 0; t0 < j->bs; t0 += PA_CHUNK) {
            uint32_t col0 = u * j->bs + t0;
            uint32_t n = j->bs - t0 < PA_CHUNK ? j->bs - t0 : PA_CHUNK;
            uint32_t valid = j->nvalid > col0 ? j->nvalid - col0 : 0;
            if (valid > n)
                valid = n;
            for (uint32_t r = 0; r < valid; r++)
                PA_FN(widen)(kf + (size_t)r * j->d,
                             j->k[u] + (size_t)(t0 + r) * j->k_ld, j->d);
            pa_prefetch_next(j->k, j->nblk, j->bs, j->k_ld, j->d, u, t0);
            g.m = valid;
            PA_FN(gemm)(&g);
            PA_FN(qk_store)(j, st, col0, valid, n);
        }
    }
}

/* ---- SF ---------------------------------------------------------------- */

/* Largest of row[0..w), -inf for an all -inf row. */
PA_INLINE float PA_FN(row_max)(const float *row, uint32_t w)
{
    float m = -INFINITY;
    uint32_t i = 0;
    if (w >= PA_VL) {
        VF mv;
        memcpy(&mv, row, sizeof mv);
        for (i = PA_VL; i + PA_VL <= w; i += PA_VL) {
            VF v;
            memcpy(&v, row + i, sizeof v);
            VI gt = v > mv;
            mv = (VF)(((VI)v & gt) | ((VI)mv & ~gt));
        }
        for (uint32_t l = 0; l < PA_VL; l++)
            m = mv[l] > m ? mv[l] : m;
    }
    for (; i < w; i++)
        m = row[i] > m ? row[i] : m;
    return m;
}

/* p[0..PA_VL) = bf16(exp(src - mx)), rounded to nearest even; adds the
 * rounded values to *sum. */
PA_INLINE void PA_FN(sf_vec)(const float *src, float mx, uint16_t *p,
                             VF *sum)
{
    VF x;
    memcpy(&x, src, sizeof x);
    x -= mx;
    PA_FN(exp_nonpos)(&x);
    VU u = (VU)x;
    u = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    VH h = __builtin_convertvector(u, VH);
    memcpy(p, &h, sizeof h);
    *sum += (VF)(u << 16);
}

PA_ATTR static void PA_FN(sf)(const pa_sf_job_t *j)
{
    for (uint32_t h = 0; h < j->ht; h++) {
        const float *row = j->s + (size_t)h * j->s_ld;
        uint16_t *p = j->p + (size_t)h * j->p_ld;
        float mx = PA_FN(row_max)(row, j->w);
        /* An all-masked row (never submitted) would give NaN: make it
         * p = 0, l = 0 instead. */
        float shift = mx == -INFINITY ? 0.0f : mx;
        VF sum = {0};
        uint32_t i = 0;
        for (; i + PA_VL <= j->w; i += PA_VL)
            PA_FN(sf_vec)(row + i, shift, p + i, &sum);
        if (i < j->w) { /* the tail, padded with -inf (exp: 0) */
            float buf[PA_VL];
            uint16_t tail[PA_VL];
            uint32_t n = j->w - i;
            for (uint32_t x = 0; x < PA_VL; x++)
                buf[x] = x < n ? row[i + x] : -INFINITY;
            PA_FN(sf_vec)(buf, shift, tail, &sum);
            memcpy(p + i, tail, n * sizeof tail[0]);
        }
        float l = 0.0f;
        for (uint32_t x = 0; x < PA_VL; x++)
            l += sum[x];
        j->m[h] = mx;
        j->l[h] = l;
    }
}

/* ---- PV ---------------------------------------------------------------- */

PA_ATTR static void PA_FN(pv)(const pa_pv_job_t *j, float *pf, float *vf)
{
    pa_gemm_t g = {.a = pf, .lda = PA_CHUNK, .b = vf, .ldb = j->d,
                   .c = j->o, .ldc = j->o_ld, .m = j->ht, .n = j->d,
                   .accumulate = 0};
    for (uint32_t u = 0; u < j->nblk; u++) {
        for (uint32_t t0 = 0; t0 < j->bs; t0 += PA_CHUNK) {
            uint32_t col0 = u * j->bs + t0;
            if (col0 >= j->nvalid)
                return;
            uint32_t n = j->bs - t0 < PA_CHUNK ? j->bs - t0 : PA_CHUNK;
            if (n > j->nvalid - col0)
                n = j->nvalid - col0;
            for (uint32_t h = 0; h < j->ht; h++)
                PA_FN(widen)(pf + (size_t)h * PA_CHUNK,
                             j->p + (size_t)h * j->p_ld + col0, n);
            for (uint32_t r = 0; r < n; r++)
                PA_FN(widen)(vf + (size_t)r * j->d,
                             j->v[u] + (size_t)(t0 + r) * j->v_ld, j->d);
            pa_prefetch_next(j->v, j->nblk, j->bs, j->v_ld, j->d, u, t0);
            g.k = n;
            PA_FN(gemm)(&g);
            g.accumulate = 1;
        }
    }
}

#undef VF
#undef VI
#undef VU
#undef VH
