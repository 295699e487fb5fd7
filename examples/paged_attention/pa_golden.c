/*
 * pa_golden.c - the reference result and the check (pa_case.h).
 *
 * Written independently of the kernels: plain softmax attention in double
 * precision over all valid tokens of a request at once. The only
 * concessions to speed are gathering one kv head's keys and values into
 * contiguous double arrays once for all the query heads that share it, and
 * four partial sums in the score dot products (double precision keeps
 * their rounding ~1e-16, far below the 1e-3 tolerance).
 */
#include "pa_case.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pa_bf16.h"

typedef struct gather {
    double *k, *v;      /* [tokens][head_dim] */
    double *score;      /* [tokens] */
    double *q;          /* [head_dim] */
} gather_t;

/* Keys and values of request b, kv head g, token order, as doubles. */
static void gather_kv(const pa_inputs_t *in, uint32_t b, uint32_t g,
                      gather_t *w)
{
    const pa_case_def_t *d = in->def;
    uint32_t n = (uint32_t)in->context_lens[b], dim = d->head_dim;
    const int32_t *table = in->block_table + (size_t)b * in->max_blocks;
    for (uint32_t t = 0; t < n; t++) {
        uint64_t blk = (uint64_t)table[t / d->block_size];
        uint64_t row = ((blk * d->block_size + t % d->block_size) *
                            d->kv_heads + g) * dim;
        for (uint32_t x = 0; x < dim; x++) {
            w->k[(size_t)t * dim + x] = pa_float_from_bf16(in->key[row + x]);
            w->v[(size_t)t * dim + x] =
                pa_float_from_bf16(in->value[row + x]);
        }
    }
}

static double dot(const double *a, const double *b, uint32_t n)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    uint32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++)
        s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

/* out[0..dim) = softmax(scale * q . K^T) . V over n tokens. */
static void attend(const pa_inputs_t *in, uint32_t n, gather_t *w,
                   double *out)
{
    uint32_t dim = in->def->head_dim;
    double mx = -INFINITY, sum = 0.0;
    for (uint32_t t = 0; t < n; t++) {
        w->score[t] = in->def->scale * dot(w->q, w->k + (size_t)t * dim, dim);
        if (w->score[t] > mx)
            mx = w->score[t];
    }
    for (uint32_t x = 0; x < dim; x++)
        out[x] = 0.0;
    for (uint32_t t = 0; t < n; t++) {
        double e = exp(w->score[t] - mx);
        const double *v = w->v + (size_t)t * dim;
        sum += e;
        for (uint32_t x = 0; x < dim; x++)
            out[x] += e * v[x];
    }
    for (uint32_t x = 0; x < dim; x++)
        out[x] /= sum;
}

int pa_golden(pa_inputs_t *in)
{
    const pa_case_def_t *d = in->def;
    uint32_t longest = 0, group = d->heads / d->kv_heads, dim = d->head_dim;
    for (uint32_t b = 0; b < d->batch; b++)
        if ((uint32_t)in->context_lens[b] > longest)
            longest = (uint32_t)in->context_lens[b];
    gather_t w;
    w.k = malloc((size_t)longest * dim * sizeof(double));
    w.v = malloc((size_t)longest * dim * sizeof(double));
    w.score = malloc((size_t)longest * sizeof(double));
    w.q = malloc(dim * sizeof(double));
    int ok = w.k && w.v && w.score && w.q;
    for (uint32_t b = 0; ok && b < d->batch; b++) {
        for (uint32_t g = 0; g < d->kv_heads; g++) {
            gather_kv(in, b, g, &w);
            for (uint32_t h = g * group; h < (g + 1) * group; h++) {
                size_t at = ((size_t)b * d->heads + h) * dim;
                for (uint32_t x = 0; x < dim; x++)
                    w.q[x] = pa_float_from_bf16(in->query[at + x]);
                attend(in, (uint32_t)in->context_lens[b], &w,
                       in->golden + at);
            }
        }
    }
    free(w.k);
    free(w.v);
    free(w.score);
    free(w.q);
    return ok ? 0 : -1;
}

int pa_check(const pa_inputs_t *in, pa_check_t *c)
{
    uint64_t n = pa_inputs_out_elems(in);
    memset(c, 0, sizeof *c);
    c->first_bad = UINT64_MAX;
    for (uint64_t i = 0; i < n; i++) {
        double ref = in->golden[i], got = in->out[i];
        double err = fabs(got - ref);
        double tol = PA_ATOL + PA_RTOL * fabs(ref);
        /* !(err <= tol) also catches NaN, which fails every comparison. */
        if (!(err <= tol)) {
            c->bad++;
            if (c->first_bad == UINT64_MAX)
                c->first_bad = i;
            if (isnan(err)) {
                c->max_abs = c->max_rel = c->worst = NAN;
                continue;
            }
        }
        if (isnan(c->worst))
            continue; /* a NaN already is the worst error */
        if (err > c->max_abs)
            c->max_abs = err;
        if (ref != 0.0 && err / fabs(ref) > c->max_rel)
            c->max_rel = err / fabs(ref);
        if (err / tol > c->worst)
            c->worst = err / tol;
    }
    return c->bad == 0;
}
