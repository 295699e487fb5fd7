/*
 * pa_orch.c - the four orchestrations (pa_orch.h).
 *
 * One code path builds all four: a manual variant opens MANUAL scopes and
 * adds the explicit deps, an auto one opens AUTO scopes and passes NONE
 * (which pto_args_dep ignores), so the pairs submit exactly the same
 * tasks with the same tensors and differ only in how edges are found.
 *
 * Tensors. query, key_cache, value_cache and out are external; every task
 * gets views of them (the q tile, one view per KV block, the out tile), so
 * the tracker sees the real regions each task reads and writes. The
 * accumulators and every per-step intermediate are runtime-created: in
 * the manual variants they are manual-local (never tracked), in the auto
 * ones the tracker orders them.
 */
#include "pa_orch.h"

#include <stdio.h>
#include <string.h>

#include "pa_bf16.h"
#include "pa_kernels.h"

/* Outputs are carved from the heap ring at this alignment or less (the
 * runtime's PTO_HEAP_ALIGN is internal); only used to size chunks. */
#define PA_HEAP_SLACK 64u

static const char *const VARIANT_NAMES[PA_VARIANT_COUNT] = {
    "auto", "manual", "unroll", "unroll_manual"};

const char *pa_variant_name(pa_variant_t v)
{
    return v < PA_VARIANT_COUNT ? VARIANT_NAMES[v] : "?";
}

int pa_variant_manual(pa_variant_t v)
{
    return v == PA_MANUAL || v == PA_UNROLL_MANUAL;
}

/* ---- sizes ------------------------------------------------------------- */

static uint32_t div_up(uint32_t a, uint32_t b)
{
    return (a + b - 1) / b;
}

static uint32_t head_tile(const pa_case_def_t *d)
{
    uint32_t group = d->heads / d->kv_heads;
    return group < d->head_tile ? group : d->head_tile;
}

uint64_t pa_expected_tasks(const pa_inputs_t *in, uint32_t blocks_per_step)
{
    const pa_case_def_t *d = in->def;
    uint64_t tiles_per_req =
        (uint64_t)d->kv_heads * div_up(d->heads / d->kv_heads, head_tile(d));
    uint64_t n = 0;
    for (uint32_t b = 0; b < d->batch; b++)
        n += tiles_per_req *
             (1 + 4 * (uint64_t)div_up(pa_inputs_blocks(in, b),
                                       blocks_per_step));
    return n;
}

uint32_t pa_chunk_steps(const pa_inputs_t *in, uint32_t blocks_per_step,
                        const pto_config_t *cfg)
{
    const pa_case_def_t *d = in->def;
    uint64_t ht = head_tile(d), w = (uint64_t)blocks_per_step * d->block_size;
    /* s, p, m, l, o of one step */
    uint64_t bytes = ht * w * 4 + ht * w * 2 + 2 * ht * 4 +
                     ht * d->head_dim * 4 + 5 * PA_HEAP_SLACK;
    uint64_t by_tasks = cfg->task_window / 4 / 4;
    uint64_t by_heap = cfg->heap_bytes / 4 / bytes;
    uint64_t n = by_tasks < by_heap ? by_tasks : by_heap;
    return n < 1 ? 1 : n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* ---- one orchestration run --------------------------------------------- */

typedef struct pa_run {
    pto_orch_t *o;
    pa_orch_params_t *p;
    const pa_inputs_t *in;
    const pa_case_def_t *d;
    pto_tensor_t query, key, value, out; /* external */
    pto_scope_mode_t mode;
    int manual;
} pa_run_t;

/* One tile: a request, a kv head and a range of its query heads. */
typedef struct pa_tile {
    uint32_t b, g, h0, ht;
    uint32_t ctx, nblocks;
    const int32_t *table;        /* the request's block table row */
    pto_tensor_t q, out;         /* views of the external tensors */
    pto_tensor_t mi, li, oi;     /* accumulators (alloc_tensors) */
    pto_task_id_t prev;          /* manual: the update chain's last task */
} pa_tile_t;

/* An explicit dep in the manual variants; NONE (no dep) in the auto ones. */
static pto_task_id_t dep(const pa_run_t *r, pto_task_id_t id)
{
    return r->manual ? id : pto_task_id_none();
}

static int run_fail(pa_run_t *r, int code, const char *what, uint32_t b,
                    uint32_t j)
{
    r->p->err = code;
    snprintf(r->p->err_msg, sizeof r->p->err_msg,
             "%s (request %u, block %u): %s", what, b, j,
             pto_strerror(code));
    return code;
}

static int make_external(pa_run_t *r)
{
    const pa_case_def_t *d = r->d;
    uint32_t qs[3] = {d->batch, d->heads, d->head_dim};
    uint32_t ks[4] = {r->in->total_blocks, d->block_size, d->kv_heads,
                      d->head_dim};
    r->query = pto_tensor_external(r->in->query, qs, 3, PTO_BFLOAT16);
    r->out = pto_tensor_external(r->in->out, qs, 3, PTO_FLOAT32);
    r->key = pto_tensor_external(r->in->key, ks, 4, PTO_BFLOAT16);
    r->value = pto_tensor_external(r->in->value, ks, 4, PTO_BFLOAT16);
    const pto_tensor_t *all[4] = {&r->query, &r->out, &r->key, &r->value};
    for (int i = 0; i < 4; i++)
        if (all[i]->status != 0)
            return run_fail(r, all[i]->status, "pto_tensor_external", 0, 0);
    return 0;
}

/* Views of physical block table[j] of the tile's kv head, in K and V. */
static int kv_view(pa_run_t *r, const pa_tile_t *t, uint32_t j,
                   pto_tensor_t *k, pto_tensor_t *v)
{
    const pa_case_def_t *d = r->d;
    int32_t phys = t->table[j];
    if (phys < 0 || (uint32_t)phys >= r->in->total_blocks)
        return run_fail(r, PTO_EBOUNDS, "block table entry", t->b, j);
    uint32_t off[4] = {(uint32_t)phys, 0, t->g, 0};
    uint32_t shape[4] = {1, d->block_size, 1, d->head_dim};
    int rc = pto_tensor_view(&r->key, off, shape, k);
    if (rc == 0)
        rc = pto_tensor_view(&r->value, off, shape, v);
    return rc ? run_fail(r, rc, "pto_tensor_view of a KV block", t->b, j) : 0;
}

/* The step's intermediates. */
typedef struct pa_step {
    uint32_t blk0, nb, nvalid, flags;
    pto_tensor_t k[PA_MAX_TASK_BLOCKS], v[PA_MAX_TASK_BLOCKS];
    pto_tensor_t s, p, m, l, o;
    pto_task_id_t qk, sf, pv;
} pa_step_t;


static int submit_qk(pa_run_t *r, const pa_tile_t *t, pa_step_t *st)
{
    uint32_t shape[2] = {t->ht, st->nb * r->d->block_size};
    pto_create_info_t ci = pto_create_info(shape, 2, PTO_FLOAT32);
    pto_args_t a;
    pto_args_init(&a);
    pto_args_input(&a, &t->q);
    for (uint32_t u = 0; u < st->nb; u++)
        pto_args_input(&a, &st->k[u]);
    pto_args_output(&a, &ci);
    pto_args_scalar(&a, pa_f64_bits(r->d->scale));
    pto_args_scalar(&a, st->nvalid);
    st->qk = pto_submit_aic(r->o, PA_K_QK, &a);
    if (pto_task_id_is_none(st->qk))
        return -1;
    st->s = *pto_args_result(&a, 0);
    return 0;
}

static int submit_sf(pa_run_t *r, const pa_tile_t *t, pa_step_t *st)
{
    uint32_t shape[2] = {t->ht, st->nb * r->d->block_size};
    pto_create_info_t ci_p = pto_create_info(shape, 2, PTO_BFLOAT16);
    pto_create_info_t ci_v = pto_create_info(shape, 1, PTO_FLOAT32);
    pto_args_t a;
    pto_args_init(&a);
    pto_args_input(&a, &st->s);
    pto_args_output(&a, &ci_p);
    pto_args_output(&a, &ci_v);
    pto_args_output(&a, &ci_v);
    pto_args_dep(&a, dep(r, st->qk));
    st->sf = pto_submit_aiv(r->o, PA_K_SF, &a);
    if (pto_task_id_is_none(st->sf))
        return -1;
    st->p = *pto_args_result(&a, 0);
    st->m = *pto_args_result(&a, 1);
    st->l = *pto_args_result(&a, 2);
    return 0;
}

static int submit_pv(pa_run_t *r, const pa_tile_t *t, pa_step_t *st)
{
    uint32_t shape[2] = {t->ht, r->d->head_dim};
    pto_create_info_t ci = pto_create_info(shape, 2, PTO_FLOAT32);
    pto_args_t a;
    pto_args_init(&a);
    pto_args_input(&a, &st->p);
    for (uint32_t u = 0; u < st->nb; u++)
        pto_args_input(&a, &st->v[u]);
    pto_args_output(&a, &ci);
    pto_args_scalar(&a, st->nvalid);
    pto_args_dep(&a, dep(r, st->sf));
    st->pv = pto_submit_aic(r->o, PA_K_PV, &a);
    if (pto_task_id_is_none(st->pv))
        return -1;
    st->o = *pto_args_result(&a, 0);
    return 0;
}

/* The first step writes the accumulators without reading them
 * (OUTPUT_EXISTING); later ones update them (INOUT). */
static int submit_up(pa_run_t *r, pa_tile_t *t, const pa_step_t *st)
{
    pto_args_t a;
    pto_args_init(&a);
    pto_args_input(&a, &st->m);
    pto_args_input(&a, &st->l);
    pto_args_input(&a, &st->o);
    if (st->flags & PA_UP_FIRST) {
        pto_args_output_existing(&a, &t->mi);
        pto_args_output_existing(&a, &t->li);
        pto_args_output_existing(&a, &t->oi);
    } else {
        pto_args_inout(&a, &t->mi);
        pto_args_inout(&a, &t->li);
        pto_args_inout(&a, &t->oi);
    }
    if (st->flags & PA_UP_LAST)
        pto_args_output_existing(&a, &t->out);
    pto_args_scalar(&a, st->flags);
    pto_task_id_t deps[3] = {dep(r, st->sf), dep(r, st->pv), t->prev};
    pto_args_deps(&a, deps, 3);
    pto_task_id_t up = pto_submit_aiv(r->o, PA_K_UP, &a);
    if (pto_task_id_is_none(up))
        return -1;
    t->prev = dep(r, up);
    return 0;
}

/* QK -> SF -> PV -> UP over blocks blk0..blk0+nb of the tile. */
static int submit_step(pa_run_t *r, pa_tile_t *t, uint32_t blk0, uint32_t nb)
{
    pa_step_t st;
    uint32_t bs = r->d->block_size, left = t->ctx - blk0 * bs;
    st.blk0 = blk0;
    st.nb = nb;
    st.nvalid = left < nb * bs ? left : nb * bs;
    st.flags = (blk0 == 0 ? PA_UP_FIRST : 0) |
               (blk0 + nb == t->nblocks ? PA_UP_LAST : 0);
    for (uint32_t u = 0; u < nb; u++)
        if (kv_view(r, t, blk0 + u, &st.k[u], &st.v[u]) != 0)
            return -1;
    if (submit_qk(r, t, &st) != 0 || submit_sf(r, t, &st) != 0 ||
        submit_pv(r, t, &st) != 0 || submit_up(r, t, &st) != 0)
        return -1;
    return 0;
}

/* The tile's accumulators: a task of their own, the update chain's root. */
static int alloc_acc(pa_run_t *r, pa_tile_t *t)
{
    uint32_t shape[2] = {t->ht, r->d->head_dim};
    pto_create_info_t ci_v = pto_create_info(shape, 1, PTO_FLOAT32);
    pto_create_info_t ci_o = pto_create_info(shape, 2, PTO_FLOAT32);
    pto_args_t a;
    pto_args_init(&a);
    pto_args_output(&a, &ci_v);
    pto_args_output(&a, &ci_v);
    pto_args_output(&a, &ci_o);
    pto_task_id_t id = pto_alloc_tensors(r->o, &a);
    if (pto_task_id_is_none(id))
        return -1;
    t->mi = *pto_args_result(&a, 0);
    t->li = *pto_args_result(&a, 1);
    t->oi = *pto_args_result(&a, 2);
    t->prev = dep(r, id);
    return 0;
}

/* Steps s0..s1 in their own scope: its intermediates are released when
 * they are done, while the tile scope keeps the accumulators. */
static int run_chunk(pa_run_t *r, pa_tile_t *t, uint32_t s0, uint32_t s1)
{
    uint32_t bps = r->p->blocks_per_step;
    int rc = 0;
    PTO_SCOPE(r->o, r->mode) {
        for (uint32_t s = s0; rc == 0 && s < s1; s++) {
            uint32_t blk0 = s * bps;
            uint32_t nb = t->nblocks - blk0 < bps ? t->nblocks - blk0 : bps;
            rc = submit_step(r, t, blk0, nb);
        }
    }
    return rc;
}

static int run_tile(pa_run_t *r, pa_tile_t *t)
{
    uint32_t steps = div_up(t->nblocks, r->p->blocks_per_step);
    uint32_t chunk = r->p->chunk_steps ? r->p->chunk_steps : 1;
    int rc = 0;
    PTO_SCOPE(r->o, r->mode) {
        rc = alloc_acc(r, t);
        for (uint32_t s0 = 0; rc == 0 && s0 < steps; s0 += chunk)
            rc = run_chunk(r, t, s0,
                           steps - s0 < chunk ? steps : s0 + chunk);
    }
    return rc != 0 ? rc : pto_orch_status(r->o);
}

static int tile_views(pa_run_t *r, pa_tile_t *t)
{
    uint32_t off[3] = {t->b, t->h0, 0};
    uint32_t shape[3] = {1, t->ht, r->d->head_dim};
    int rc = pto_tensor_view(&r->query, off, shape, &t->q);
    if (rc == 0)
        rc = pto_tensor_view(&r->out, off, shape, &t->out);
    return rc ? run_fail(r, rc, "pto_tensor_view of a head tile", t->b, 0)
              : 0;
}

void pa_orch(pto_orch_t *o, void *user)
{
    pa_orch_params_t *p = user;
    pa_run_t r = {.o = o, .p = p, .in = p->in, .d = p->in->def};
    r.manual = pa_variant_manual(p->variant);
    r.mode = r.manual ? PTO_SCOPE_MANUAL : PTO_SCOPE_AUTO;
    p->err = 0;
    p->err_msg[0] = '\0';
    if (make_external(&r) != 0)
        return;
    const pa_case_def_t *d = r.d;
    uint32_t group = d->heads / d->kv_heads, tile = head_tile(d);
    for (uint32_t b = 0; b < d->batch; b++) {
        for (uint32_t g = 0; g < d->kv_heads; g++) {
            for (uint32_t h0 = g * group; h0 < (g + 1) * group; h0 += tile) {
                pa_tile_t t = {.b = b, .g = g, .h0 = h0};
                uint32_t end = (g + 1) * group;
                t.ht = end - h0 < tile ? end - h0 : tile;
                t.ctx = (uint32_t)r.in->context_lens[b];
                t.nblocks = pa_inputs_blocks(r.in, b);
                t.table = r.in->block_table + (size_t)b * r.in->max_blocks;
                if (tile_views(&r, &t) != 0 || run_tile(&r, &t) != 0)
                    return; /* pto_run or p->err reports it */
            }
        }
    }
}
