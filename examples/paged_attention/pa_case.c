/*
 * pa_case.c - the case table and the input generator (pa_case.h).
 */
#include "pa_case.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pa_bf16.h"

/* The seed's three cases, a small one for tests (grouped-query attention,
 * lengths of 1 token, one block plus one token, several partial blocks,
 * two head tiles per kv head of which one is narrower than a vector), and
 * Case2-shaped ones with mixed lengths. */
static const pa_case_def_t CASES[] = {
    {.name = "small",
     .what = "test case: GQA 40/2 heads in tiles of 16+4, lengths 1..300",
     .batch = 4, .heads = 40, .kv_heads = 2, .head_dim = 64,
     .block_size = 16, .max_model_len = 512, .head_tile = 16,
     .fixed = {1, 17, 100, 300}, .nfixed = 4, .repeat_blocks = 1,
     .scale = 0.125},
    {.name = "varlen_small",
     .what = "test case: Case2-like, GQA 16/2, mixed lengths 1..4096",
     .batch = 16, .heads = 16, .kv_heads = 2, .head_dim = 128,
     .block_size = 64, .max_model_len = 4096, .head_tile = 128,
     .fixed = {1, 63, 64, 65, 129, 700, 4096, 1000}, .nfixed = 8,
     .random_max = 3000, .repeat_blocks = 1, .scale = 0.0883883476},
    {.name = "varlen",
     .what = "Case2 shapes, 32 requests of mixed lengths 1..8192",
     .batch = 32, .heads = 64, .kv_heads = 1, .head_dim = 128,
     .block_size = 64, .max_model_len = 32768, .head_tile = 128,
     .fixed = {1, 63, 64, 65, 8192, 129}, .nfixed = 6, .random_max = 8192,
     .repeat_blocks = 1, .scale = 1.0},
    {.name = "Case1",
     .what = "seed Case1",
     .batch = 256, .heads = 16, .kv_heads = 1, .head_dim = 128,
     .block_size = 128, .max_model_len = 32768, .head_tile = 128,
     .fixed = {8192}, .nfixed = 1, .scale = 1.0},
    {.name = "Case2",
     .what = "seed Case2",
     .batch = 64, .heads = 64, .kv_heads = 1, .head_dim = 128,
     .block_size = 64, .max_model_len = 32768, .head_tile = 128,
     .fixed = {8192}, .nfixed = 1, .scale = 1.0},
    {.name = "Case3",
     .what = "seed Case3",
     .batch = 64, .heads = 64, .kv_heads = 1, .head_dim = 256,
     .block_size = 64, .max_model_len = 32768, .head_tile = 128,
     .fixed = {8192}, .nfixed = 1, .scale = 1.0},
};

uint32_t pa_case_count(void)
{
    return (uint32_t)(sizeof CASES / sizeof CASES[0]);
}

const pa_case_def_t *pa_case_at(uint32_t i)
{
    return i < pa_case_count() ? &CASES[i] : NULL;
}

const pa_case_def_t *pa_case_find(const char *name)
{
    for (uint32_t i = 0; i < pa_case_count(); i++)
        if (strcmp(CASES[i].name, name) == 0)
            return &CASES[i];
    return NULL;
}

/* ---- PRNG: splitmix64, seeded by the case name ------------------------- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rng_seed(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    return h;
}

/* Uniform in [0, n). The modulo bias is below 2^-32 for our n. */
static uint32_t rng_below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(rng_next(s) % n);
}

/* n bf16 values uniform in [lo, hi): 24 random bits each, two per draw. */
static void fill_bf16(uint64_t *s, uint16_t *dst, uint64_t n, float lo,
                      float hi)
{
    const float step = (hi - lo) / 16777216.0f;
    for (uint64_t i = 0; i < n; i += 2) {
        uint64_t r = rng_next(s);
        dst[i] = pa_bf16_from_float(lo + step * (float)(r >> 40));
        if (i + 1 < n)
            dst[i + 1] =
                pa_bf16_from_float(lo + step * (float)((r >> 8) & 0xffffffu));
    }
}

/* ---- inputs ------------------------------------------------------------ */

uint64_t pa_inputs_out_elems(const pa_inputs_t *in)
{
    const pa_case_def_t *d = in->def;
    return (uint64_t)d->batch * d->heads * d->head_dim;
}

static uint64_t cache_elems(const pa_inputs_t *in)
{
    const pa_case_def_t *d = in->def;
    return (uint64_t)in->total_blocks * d->block_size * d->kv_heads *
           d->head_dim;
}

uint64_t pa_inputs_kv_bytes(const pa_inputs_t *in)
{
    return 2 * cache_elems(in) * sizeof(uint16_t);
}

uint32_t pa_inputs_blocks(const pa_inputs_t *in, uint32_t b)
{
    uint32_t bs = in->def->block_size;
    return ((uint32_t)in->context_lens[b] + bs - 1) / bs;
}

void pa_inputs_destroy(pa_inputs_t *in)
{
    free(in->query);
    free(in->key);
    free(in->value);
    free(in->block_table);
    free(in->context_lens);
    free(in->out);
    free(in->golden);
    memset(in, 0, sizeof *in);
}

static void make_context_lens(const pa_case_def_t *d, uint64_t *s,
                              int32_t *lens)
{
    uint32_t cap = d->max_model_len;
    for (uint32_t b = 0; b < d->batch; b++) {
        uint32_t len;
        if (b < d->nfixed || d->random_max == 0)
            len = d->fixed[b % d->nfixed];
        else
            len = 1 + rng_below(s, d->random_max);
        lens[b] = (int32_t)(len < 1 ? 1 : len > cap ? cap : len);
    }
}

/* Shuffled physical blocks for every logical block in use; with
 * repeat_blocks every fifth one is replaced by a random block. */
static int make_block_table(pa_inputs_t *in, uint64_t *s)
{
    const pa_case_def_t *d = in->def;
    uint32_t n = in->total_blocks, next = 0;
    uint32_t *perm = malloc((size_t)n * sizeof *perm);
    if (!perm)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        perm[i] = i;
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = rng_below(s, i);
        uint32_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
    for (uint32_t b = 0; b < d->batch; b++) {
        int32_t *row = in->block_table + (size_t)b * in->max_blocks;
        uint32_t nb = pa_inputs_blocks(in, b);
        for (uint32_t j = 0; j < in->max_blocks; j++)
            row[j] = j < nb ? (int32_t)perm[next++] : -1;
        if (d->repeat_blocks)
            for (uint32_t j = 4; j < nb; j += 5)
                row[j] = (int32_t)rng_below(s, n);
    }
    free(perm);
    return 0;
}

int pa_inputs_create(const pa_case_def_t *def, pa_inputs_t *in)
{
    uint64_t s = rng_seed(def->name);
    memset(in, 0, sizeof *in);
    in->def = def;
    in->max_blocks = def->max_model_len / def->block_size;
    in->context_lens = malloc(def->batch * sizeof(int32_t));
    if (!in->context_lens)
        return -1;
    make_context_lens(def, &s, in->context_lens);
    for (uint32_t b = 0; b < def->batch; b++) {
        in->total_blocks += pa_inputs_blocks(in, b);
        in->tokens += (uint64_t)in->context_lens[b];
    }
    uint64_t nq = pa_inputs_out_elems(in), nkv = cache_elems(in);
    in->query = malloc(nq * sizeof(uint16_t));
    in->key = malloc(nkv * sizeof(uint16_t));
    in->value = malloc(nkv * sizeof(uint16_t));
    in->block_table =
        malloc((size_t)def->batch * in->max_blocks * sizeof(int32_t));
    in->out = malloc(nq * sizeof(float));
    in->golden = malloc(nq * sizeof(double));
    if (!in->query || !in->key || !in->value || !in->block_table ||
        !in->out || !in->golden) {
        pa_inputs_destroy(in);
        return -1;
    }
    if (make_block_table(in, &s) != 0) {
        pa_inputs_destroy(in);
        return -1;
    }
    fill_bf16(&s, in->query, nq, -0.5f, 0.5f);
    fill_bf16(&s, in->key, nkv, -0.5f, 0.5f);
    fill_bf16(&s, in->value, nkv, -1.0f, 1.0f);
    for (uint64_t i = 0; i < nq; i++)
        in->out[i] = NAN;
    return 0;
}
