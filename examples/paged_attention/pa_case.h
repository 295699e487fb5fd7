/*
 * pa_case.h - paged-attention cases: parameters, generated inputs, the
 * double-precision golden and the check against it.
 *
 * Inputs (shared/reference/paged-attention.md):
 *   query        [batch, heads, head_dim]                    bf16, U[-0.5, 0.5]
 *   key_cache    [total_blocks, block_size, kv_heads, head_dim] bf16, U[-0.5, 0.5]
 *   value_cache  same shape                                  bf16, U[-1, 1]
 *   block_table  [batch, max_model_len / block_size]         int32
 *   context_lens [batch]                                     int32, >= 1
 *   out          [batch, heads, head_dim]                    fp32
 * Query head h reads kv head h / (heads / kv_heads) (grouped-query
 * attention). Only the blocks the requests reference are allocated:
 * total_blocks is the sum over requests of ceil(context / block_size), the
 * table maps them in a shuffled order, and in cases with `repeat_blocks`
 * every fifth logical block points at a random physical one instead (so
 * blocks repeat, as in the seed). Table entries past a request's blocks
 * are -1. Everything comes from a PRNG seeded by the case name.
 */
#ifndef PA_CASE_H
#define PA_CASE_H

#include <stddef.h>
#include <stdint.h>

#define PA_MAX_FIXED_CONTEXTS 8

typedef struct pa_case_def {
    const char *name;
    const char *what;         /* one line for the table header */
    uint32_t batch, heads, kv_heads, head_dim, block_size, max_model_len;
    uint32_t head_tile;       /* most query heads per task */
    /* Context lengths: request b gets fixed[b] while b < nfixed, the rest
     * random in [1, random_max]; with random_max 0 the fixed list cycles. */
    uint32_t fixed[PA_MAX_FIXED_CONTEXTS];
    uint32_t nfixed;
    uint32_t random_max;
    int repeat_blocks;
    double scale;
} pa_case_def_t;

uint32_t pa_case_count(void);
const pa_case_def_t *pa_case_at(uint32_t i);
const pa_case_def_t *pa_case_find(const char *name); /* NULL if unknown */

typedef struct pa_inputs {
    const pa_case_def_t *def;
    uint32_t max_blocks;   /* block table width */
    uint32_t total_blocks; /* physical blocks allocated */
    uint64_t tokens;       /* sum of the context lengths */
    uint16_t *query, *key, *value;
    int32_t *block_table, *context_lens;
    float *out;
    double *golden;        /* [batch, heads, head_dim], by pa_golden */
} pa_inputs_t;

/* Allocate and fill the inputs of `def`; out is NaN. 0, or -1 when out of
 * memory (then nothing is left allocated). */
int pa_inputs_create(const pa_case_def_t *def, pa_inputs_t *in);
void pa_inputs_destroy(pa_inputs_t *in);
/* Elements of query/out, of one K or V cache, in bytes of K plus V. */
uint64_t pa_inputs_out_elems(const pa_inputs_t *in);
uint64_t pa_inputs_kv_bytes(const pa_inputs_t *in);
/* Blocks request b uses: ceil(context / block_size). */
uint32_t pa_inputs_blocks(const pa_inputs_t *in, uint32_t b);

/* Plain softmax attention in double precision into in->golden: per request
 * and head, every score over the valid tokens, their max, exp, sum, and
 * the weighted sum of V. No tiling, no online softmax. 0 or -1 (out of
 * memory). */
int pa_golden(pa_inputs_t *in);

/* Tolerance of the check: |out - golden| <= PA_ATOL + PA_RTOL * |golden|
 * for every element (the seed's rtol = atol = 1e-3). */
#define PA_ATOL 1e-3
#define PA_RTOL 1e-3

typedef struct pa_check {
    double max_abs;      /* max |out - golden| */
    double max_rel;      /* max |out - golden| / |golden| (golden != 0) */
    double worst;        /* max |out - golden| / (atol + rtol |golden|):
                            the check passes iff <= 1 */
    uint64_t bad;        /* elements outside the tolerance (NaN included) */
    uint64_t first_bad;  /* index of the first one, UINT64_MAX if none */
} pa_check_t;

/* Compare in->out with in->golden. Returns 1 when every element passes. */
int pa_check(const pa_inputs_t *in, pa_check_t *c);

#endif /* PA_CASE_H */
