/*
 * fuzz_program.c - the differential fuzzer's core: sequential semantics on
 * random programs (the promise of DESIGN.md §2): any program computes
 * exactly what running its tasks one by one in submission order computes.
 *
 * A program is a list of ops over two external 16x16 int32 buffers and
 * runtime-created 4x4 temporaries, inside randomly nested AUTO and MANUAL
 * scopes. Inside a MANUAL scope, temporaries created there (manual-local)
 * are ordered by explicit deps only: the generator threads each access to
 * such a temporary after the previous one (as a user must); everything
 * else (external buffers, older temporaries) relies on automatic tracking
 * across the boundary, in both directions. Each
 * op has 1..4 tensor args with random tags (INPUT, INOUT, OUTPUT_EXISTING,
 * NO_DEP, OUTPUT) on random views: arbitrary rectangles, aligned tiles,
 * exact repeats, transposed squares and reshaped row blocks. Some ops carry
 * random explicit deps and some are mixed tasks. The op's effect (apply_op)
 * reads every INPUT/INOUT view, then writes every INOUT / OUTPUT_EXISTING /
 * OUTPUT view in argument order; NO_DEP views are not touched.
 *
 * SPMD ops (pto_args_spmd, 2..6 blocks, AIC, AIV or mixed, some with
 * PTO_SPMD_SYNC_START where the machine can hold them) write exactly one
 * view - block b the elements i with i % blocks == b - and read only
 * INPUT views that cannot alias it (buffer A or other temporaries; the
 * written view is on buffer B or a temporary): then any interleaving of
 * the blocks computes what running them one after another computes
 * (apply_spmd), and a dependent of the SPMD task must see every block.
 *
 * The same program runs on the runtime (random clusters, windows down to 4
 * slots, small pools) and on a sequential reference over separate memory;
 * every byte must match.
 *
 * Every random choice comes from one source: a seeded xorshift (the
 * fuzz_diff driver; a failure names the seed that reproduces it), or for a
 * coverage-guided fuzzer (fuzz_libfuzzer.c) the input bytes: the first 8
 * seed the xorshift and each later byte is mixed into one draw, so any
 * input gives a full-size program and a mutated byte changes one decision.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fuzz_program.h"
#include "pto/pto.h"

#define DIM 16
#define MAX_OPS 96
#define MAX_TEMPS 64
#define MAX_ARGS 4

enum { BUF_A = 0, BUF_B = 1, BUF_TEMP = 2 };
enum { OP_TASK = 0, OP_BEGIN, OP_END };

typedef struct view_desc {
    uint8_t buf;       /* BUF_A, BUF_B or BUF_TEMP */
    uint8_t temp;      /* temp index for BUF_TEMP */
    uint8_t tag;       /* pto_arg_tag_t */
    uint8_t kind;      /* 0 rect, 1 transposed square, 2 reshaped rows */
    uint32_t r, c, h, w;
} view_desc_t;

typedef struct op {
    uint8_t type;
    uint8_t nargs;
    uint8_t mixed;
    uint8_t ndeps;
    uint8_t mode;      /* OP_BEGIN: pto_scope_mode_t */
    uint8_t blocks;    /* SPMD blocks; 0: not SPMD */
    uint8_t sync;      /* SPMD with PTO_SPMD_SYNC_START */
    uint32_t deps[8];  /* indexes of earlier task ops */
    view_desc_t arg[MAX_ARGS];
} op_t;

typedef struct program {
    uint32_t nops;
    uint32_t ntemps;
    op_t ops[MAX_OPS];
} program_t;

/* ---- random generation ------------------------------------------------- */

/* The byte source of the program being generated (single-threaded). */
static uint64_t rng;
static const uint8_t *src_bytes;
static size_t src_len, src_pos;

static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    uint64_t v = rng;
    if (src_bytes && src_pos < src_len)
        v ^= (uint64_t)src_bytes[src_pos++] * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(v % n);
}

static void rand_rect(view_desc_t *v, uint32_t dim)
{
    uint32_t pick = rnd(4);
    if (pick == 0) { /* aligned 4x4 tile: exercises the tracker's grid */
        v->r = 4 * rnd(dim / 4);
        v->c = 4 * rnd(dim / 4);
        v->h = v->w = 4;
    } else if (pick == 1 && dim == DIM) { /* row block */
        v->r = rnd(dim);
        v->h = 1 + rnd(dim - v->r);
        v->c = 0;
        v->w = dim;
    } else {
        v->r = rnd(dim);
        v->c = rnd(dim);
        v->h = 1 + rnd(dim - v->r);
        v->w = 1 + rnd(dim - v->c);
    }
    v->kind = 0;
    if (v->h == v->w && rnd(4) == 0)
        v->kind = 1;
    else if (v->c == 0 && v->w == dim && rnd(3) == 0)
        v->kind = 2;
}

typedef struct gen_state {
    uint32_t depth;
    uint32_t ops_in_scope[8];
    uint32_t live_temps[MAX_TEMPS]; /* depth+1 of the creating scope */
    uint32_t ntasks;
    uint32_t task_ops[MAX_OPS];
    uint32_t scope_cap;             /* ops per scope holding buffers */
    uint32_t manual_depth;          /* outermost MANUAL scope, 0: none */
    uint32_t clusters;              /* of the runtime: sync-start limits */
    bool temp_local[MAX_TEMPS];     /* created inside a MANUAL scope */
    uint32_t last_touch[MAX_TEMPS]; /* op that last accessed it, or NIL */
} gen_state_t;

#define NIL UINT32_MAX

static void add_dep(op_t *op, uint32_t dep)
{
    for (uint32_t d = 0; d < op->ndeps; d++)
        if (op->deps[d] == dep)
            return;
    op->deps[op->ndeps++] = dep;
}

/* Manual-local temporaries: order this op after the previous access. */
static void thread_manual_deps(gen_state_t *g, op_t *op, uint32_t self)
{
    for (uint32_t i = 0; i < op->nargs; i++) {
        const view_desc_t *v = &op->arg[i];
        if (v->buf != BUF_TEMP || !g->temp_local[v->temp])
            continue;
        if (g->last_touch[v->temp] != NIL && g->last_touch[v->temp] != self)
            add_dep(op, g->last_touch[v->temp]);
        g->last_touch[v->temp] = self;
    }
}

static void gen_arg(program_t *p, gen_state_t *g, view_desc_t *v)
{
    static const uint8_t tags[4] = {PTO_ARG_INPUT, PTO_ARG_INOUT,
                                    PTO_ARG_OUTPUT_EXISTING, PTO_ARG_NO_DEP};
    uint32_t live[MAX_TEMPS], nlive = 0;
    for (uint32_t t = 0; t < p->ntemps; t++)
        if (g->live_temps[t])
            live[nlive++] = t;
    bool can_out = g->depth > 0 && p->ntemps < MAX_TEMPS &&
                   g->ops_in_scope[g->depth] < g->scope_cap;
    uint32_t pick = rnd(10);
    if (pick == 0 && can_out) {
        v->buf = BUF_TEMP;
        v->tag = PTO_ARG_OUTPUT;
        v->temp = (uint8_t)p->ntemps++;
        v->r = v->c = 0;
        v->h = v->w = 4;
        v->kind = 0;
        /* becomes usable by the next op (gen_task marks it live) */
        return;
    }
    v->tag = tags[rnd(4)];
    if (pick <= 2 && nlive > 0) {
        v->buf = BUF_TEMP;
        v->temp = (uint8_t)live[rnd(nlive)];
        rand_rect(v, 4);
        return;
    }
    v->buf = (uint8_t)rnd(2);
    rand_rect(v, DIM);
}

/* An SPMD op's args: one written view (arg 0) on buffer B or a temporary,
 * then INPUT views of buffer A or of other temporaries (never aliasing
 * it). Its shape: AIC, AIV or mixed, sync start where it fits. */
static void gen_spmd(program_t *p, gen_state_t *g, op_t *op)
{
    view_desc_t *w = &op->arg[0];
    gen_arg(p, g, w);
    if (w->tag == PTO_ARG_INPUT || w->tag == PTO_ARG_NO_DEP)
        w->tag = rnd(2) ? PTO_ARG_INOUT : PTO_ARG_OUTPUT_EXISTING;
    if (w->buf == BUF_A)
        w->buf = BUF_B;
    op->nargs = (uint8_t)(1 + rnd(3));
    for (uint32_t i = 1; i < op->nargs; i++) {
        view_desc_t *v = &op->arg[i];
        uint32_t t = p->ntemps ? rnd(p->ntemps) : 0;
        v->tag = PTO_ARG_INPUT;
        if (p->ntemps && g->live_temps[t] && rnd(3) == 0 &&
            !(w->buf == BUF_TEMP && w->temp == t)) {
            v->buf = BUF_TEMP;
            v->temp = (uint8_t)t;
            rand_rect(v, 4);
        } else {
            v->buf = BUF_A;
            rand_rect(v, DIM);
        }
    }
    op->blocks = (uint8_t)(2 + rnd(5));
    op->mixed = rnd(4) == 0;
    /* Cores of its shape: AIV tasks (even op indexes) 2 per cluster. */
    uint32_t self = (uint32_t)(op - p->ops);
    uint32_t cores = !op->mixed && (self & 1) == 0 ? 2 * g->clusters
                                                    : g->clusters;
    op->sync = op->blocks <= cores && rnd(3) == 0;
}

static void gen_task(program_t *p, gen_state_t *g, op_t *op)
{
    op->type = OP_TASK;
    op->blocks = 0;
    op->sync = 0;
    if (rnd(8) == 0) {
        gen_spmd(p, g, op);
    } else {
        op->nargs = (uint8_t)(1 + rnd(MAX_ARGS));
        for (uint32_t i = 0; i < op->nargs; i++)
            gen_arg(p, g, &op->arg[i]);
        op->mixed = rnd(8) == 0;
    }
    uint32_t self = (uint32_t)(op - p->ops);
    for (uint32_t i = 0; i < op->nargs; i++)
        if (op->arg[i].tag == PTO_ARG_OUTPUT) {
            uint32_t t = op->arg[i].temp;
            g->live_temps[t] = g->depth + 1;
            g->temp_local[t] = g->manual_depth != 0;
            g->last_touch[t] = NIL;
        }
    op->ndeps = 0;
    for (int k = 0; k < 2 && g->ntasks > 0 && rnd(4) == 0; k++)
        add_dep(op, g->task_ops[rnd(g->ntasks)]);
    thread_manual_deps(g, op, self);
    g->task_ops[g->ntasks++] = self;
    g->ops_in_scope[g->depth]++;
}

static void gen_end(program_t *p, gen_state_t *g, op_t *op)
{
    op->type = OP_END;
    for (uint32_t t = 0; t < p->ntemps; t++)
        if (g->live_temps[t] == g->depth + 1)
            g->live_temps[t] = 0;
    if (g->manual_depth == g->depth)
        g->manual_depth = 0;
    g->depth--;
}

static void gen_program(program_t *p, uint32_t window, uint32_t clusters)
{
    memset(p, 0, sizeof(*p));
    gen_state_t g;
    memset(&g, 0, sizeof(g));
    g.clusters = clusters;
    /* A scope holding buffers pins its ring: keep it under the window. */
    g.scope_cap = window - 2 < 12 ? window - 2 : 12;
    uint32_t n = 20 + rnd(MAX_OPS - 28);
    while (p->nops < n) {
        op_t *op = &p->ops[p->nops++];
        uint32_t pick = rnd(10);
        bool full = g.depth > 0 && g.ops_in_scope[g.depth] >= g.scope_cap;
        if (pick == 0 && g.depth < 3 && !full) {
            op->type = OP_BEGIN;
            /* AUTO inside MANUAL is an error: only MANUAL nests there. */
            op->mode = (g.manual_depth || rnd(2)) ? PTO_SCOPE_MANUAL
                                                  : PTO_SCOPE_AUTO;
            g.depth++;
            g.ops_in_scope[g.depth] = 0;
            if (op->mode == PTO_SCOPE_MANUAL && !g.manual_depth)
                g.manual_depth = g.depth;
        } else if ((pick == 1 || full) && g.depth > 0) {
            gen_end(p, &g, op);
        } else {
            gen_task(p, &g, op);
        }
    }
    while (g.depth > 0 && p->nops < MAX_OPS)
        gen_end(p, &g, &p->ops[p->nops++]);
}

/* ---- tensors from descriptors ------------------------------------------ */

static int make_view(const pto_tensor_t *base, const view_desc_t *v,
                     pto_tensor_t *out)
{
    uint32_t off[2] = {v->r, v->c}, sh[2] = {v->h, v->w};
    pto_tensor_t t;
    int rc = pto_tensor_view(base, off, sh, &t);
    if (rc != 0)
        return rc;
    if (v->kind == 1)
        return pto_tensor_transpose(&t, 0, 1, out);
    if (v->kind == 2) {
        uint32_t flat[1] = {v->h * v->w};
        return pto_tensor_reshape(&t, flat, 1, out);
    }
    *out = t;
    return 0;
}

/* ---- the op's effect, shared by the kernel and the reference ------------ */

static int32_t *elem(const pto_tensor_t *t, uint64_t i)
{
    uint32_t nd = pto_tensor_ndim(t);
    uint64_t off = 0;
    for (uint32_t d = nd; d-- > 0;) {
        uint32_t ext = pto_tensor_shape(t, d);
        off += (i % ext) * pto_tensor_stride(t, d);
        i /= ext;
    }
    return (int32_t *)pto_tensor_data(t) + off;
}

static void apply_op(const pto_tensor_t *const *ts, const uint8_t *tags,
                     uint32_t n, uint32_t idx)
{
    uint32_t s = idx * 7919u;
    for (uint32_t a = 0; a < n; a++) {
        if (tags[a] != PTO_ARG_INPUT && tags[a] != PTO_ARG_INOUT)
            continue;
        for (uint64_t i = 0; i < pto_tensor_numel(ts[a]); i++)
            s = s * 31u + (uint32_t)*elem(ts[a], i);
    }
    for (uint32_t a = 0; a < n; a++) {
        bool inout = tags[a] == PTO_ARG_INOUT;
        if (!inout && tags[a] != PTO_ARG_OUTPUT_EXISTING &&
            tags[a] != PTO_ARG_OUTPUT)
            continue;
        for (uint64_t i = 0; i < pto_tensor_numel(ts[a]); i++) {
            int32_t *p = elem(ts[a], i);
            *p = (int32_t)((inout ? (uint32_t)*p * 3u : 0u) + s +
                           (uint32_t)i);
        }
    }
}

/* SPMD: the checksum of the INPUT views (args 1..n-1), then block b of
 * `blocks` writes the elements i of view 0 with i % blocks == b. */
static void apply_spmd(const pto_tensor_t *const *ts, const uint8_t *tags,
                       uint32_t n, uint32_t idx, uint32_t b, uint32_t blocks)
{
    uint32_t s = idx * 7919u;
    for (uint32_t a = 1; a < n; a++)
        for (uint64_t i = 0; i < pto_tensor_numel(ts[a]); i++)
            s = s * 31u + (uint32_t)*elem(ts[a], i);
    bool inout = tags[0] == PTO_ARG_INOUT;
    for (uint64_t i = b; i < pto_tensor_numel(ts[0]); i += blocks) {
        int32_t *p = elem(ts[0], i);
        *p = (int32_t)((inout ? (uint32_t)*p * 3u : 0u) + s + (uint32_t)i);
    }
}

/* scalar 0: op index; scalars 1..n: tags; MAX_ARGS + 1: mixed (only the
 * AIC part acts); MAX_ARGS + 2: SPMD blocks (0: not SPMD). */
static void k_op(const pto_kernel_ctx_t *c)
{
    if (pto_kernel_subtask(c) != PTO_SUBTASK_AIC &&
        pto_kernel_scalar(c, MAX_ARGS + 1))
        return;
    const pto_tensor_t *ts[MAX_ARGS];
    uint8_t tags[MAX_ARGS];
    uint32_t n = pto_kernel_tensor_count(c);
    for (uint32_t a = 0; a < n; a++) {
        ts[a] = pto_kernel_tensor(c, a);
        tags[a] = (uint8_t)pto_kernel_scalar(c, 1 + a);
    }
    uint32_t blocks = (uint32_t)pto_kernel_scalar(c, MAX_ARGS + 2);
    if (blocks)
        apply_spmd(ts, tags, n, (uint32_t)pto_kernel_scalar(c, 0),
                   pto_kernel_block_index(c), pto_kernel_block_num(c));
    else
        apply_op(ts, tags, n, (uint32_t)pto_kernel_scalar(c, 0));
}

/* ---- running a program ------------------------------------------------- */

typedef struct world {
    int32_t a[DIM][DIM], b[DIM][DIM];
    int32_t temps[MAX_TEMPS][4][4]; /* reference only */
    pto_tensor_t base[2];
    pto_tensor_t temp[MAX_TEMPS];
} world_t;

static void world_init(world_t *w, uint64_t seed)
{
    memset(w, 0, sizeof(*w));
    for (int i = 0; i < DIM; i++)
        for (int j = 0; j < DIM; j++) {
            w->a[i][j] = (int32_t)(seed + (uint64_t)(i * DIM + j));
            w->b[i][j] = (int32_t)(seed * 3 + (uint64_t)(i ^ j));
        }
    uint32_t sh[2] = {DIM, DIM};
    w->base[0] = pto_tensor_external(w->a, sh, 2, PTO_INT32);
    w->base[1] = pto_tensor_external(w->b, sh, 2, PTO_INT32);
}

static const pto_tensor_t *desc_base(world_t *w, const view_desc_t *v)
{
    return v->buf == BUF_TEMP ? &w->temp[v->temp] : &w->base[v->buf];
}

typedef struct run_ctx {
    program_t *p;
    world_t *w;
    pto_task_id_t ids[MAX_OPS];
} run_ctx_t;

/* A temp whose creating submit failed is an invalid tensor: the args
 * record the error and the (already failed) run stays failed. */
static void build_args(run_ctx_t *rc, const op_t *op, uint32_t idx,
                       pto_args_t *a)
{
    pto_args_init(a);
    uint32_t s4[2] = {4, 4};
    pto_create_info_t ci = pto_create_info(s4, 2, PTO_INT32);
    for (uint32_t i = 0; i < op->nargs; i++) {
        const view_desc_t *v = &op->arg[i];
        pto_tensor_t t;
        if (v->tag == PTO_ARG_OUTPUT) {
            pto_args_output(a, &ci);
            continue;
        }
        if (make_view(desc_base(rc->w, v), v, &t) != 0)
            t.status = PTO_ETENSOR;
        if (v->tag == PTO_ARG_INPUT)
            pto_args_input(a, &t);
        else if (v->tag == PTO_ARG_INOUT)
            pto_args_inout(a, &t);
        else if (v->tag == PTO_ARG_OUTPUT_EXISTING)
            pto_args_output_existing(a, &t);
        else
            pto_args_no_dep(a, &t);
    }
    pto_args_scalar(a, idx);
    for (uint32_t i = 0; i < MAX_ARGS; i++)
        pto_args_scalar(a, i < op->nargs ? op->arg[i].tag : 0);
    pto_args_scalar(a, op->mixed);
    pto_args_scalar(a, op->blocks);
    if (op->blocks)
        pto_args_spmd(a, op->blocks, op->sync ? PTO_SPMD_SYNC_START : 0);
    for (uint32_t d = 0; d < op->ndeps; d++)
        pto_args_dep(a, rc->ids[op->deps[d]]);
}

static void run_task_op(pto_orch_t *o, run_ctx_t *rc, uint32_t idx)
{
    const op_t *op = &rc->p->ops[idx];
    pto_args_t a;
    build_args(rc, op, idx, &a);
    const pto_mixed_kernels_t mk = {1, 1, 1};
    pto_task_id_t id = op->mixed ? pto_submit_mixed(o, &mk, &a)
                                 : (idx & 1) ? pto_submit_aic(o, 1, &a)
                                             : pto_submit_aiv(o, 1, &a);
    rc->ids[idx] = id;
    uint32_t k = 0;
    for (uint32_t i = 0; i < op->nargs; i++)
        if (op->arg[i].tag == PTO_ARG_OUTPUT) {
            const pto_tensor_t *r = pto_args_result(&a, k++);
            if (r)
                rc->w->temp[op->arg[i].temp] = *r;
        }
}

static void orch_program(pto_orch_t *o, void *u)
{
    run_ctx_t *rc = u;
    for (uint32_t i = 0; i < rc->p->nops; i++) {
        const op_t *op = &rc->p->ops[i];
        if (op->type == OP_BEGIN)
            pto_scope_begin(o, (pto_scope_mode_t)op->mode);
        else if (op->type == OP_END)
            pto_scope_end(o);
        else
            run_task_op(o, rc, i);
    }
}

static void reference(program_t *p, world_t *w)
{
    uint32_t s4[2] = {4, 4};
    for (uint32_t i = 0; i < p->nops; i++) {
        const op_t *op = &p->ops[i];
        if (op->type != OP_TASK)
            continue;
        pto_tensor_t ts[MAX_ARGS];
        const pto_tensor_t *tp[MAX_ARGS];
        uint8_t tags[MAX_ARGS];
        for (uint32_t a = 0; a < op->nargs; a++) {
            const view_desc_t *v = &op->arg[a];
            if (v->tag == PTO_ARG_OUTPUT) {
                w->temp[v->temp] =
                    pto_tensor_external(w->temps[v->temp], s4, 2, PTO_INT32);
                ts[a] = w->temp[v->temp];
            } else {
                REQUIRE(make_view(desc_base(w, v), v, &ts[a]) == 0);
            }
            tp[a] = &ts[a];
            tags[a] = v->tag;
        }
        if (op->blocks)
            for (uint32_t b = 0; b < op->blocks; b++)
                apply_spmd(tp, tags, op->nargs, i, b, op->blocks);
        else
            apply_op(tp, tags, op->nargs, i);
    }
}

/* Draw a config and a program from the byte source, run it both ways. */
static int run_drawn(char *why, size_t wn)
{
    static program_t p;
    static world_t got, want;
    static const uint32_t windows[5] = {4, 8, 16, 64, 256};
    pto_config_t cfg;
    pto_config_init(&cfg);
    cfg.clusters = 1 + rnd(4);
    cfg.task_window = windows[rnd(5)];
    cfg.heap_bytes = 4096;
    cfg.tensormap_entries = 64 + 64 * rnd(4);
    /* Scope-held tasks pin their dependency nodes; 12 ops with up to ~90
     * producers each must fit, or the run (rightly) reports a deadlock. */
    cfg.dep_pool_entries = 2048;
    cfg.spin_us = rnd(2) ? 0 : 20;
    uint64_t data_seed = rnd(1u << 16);
    gen_program(&p, cfg.task_window, cfg.clusters);
    pto_runtime_t *rt;
    REQUIRE(pto_runtime_create(&cfg, &rt) == 0);
    REQUIRE(pto_kernel_register(rt, 1, k_op, "op") == 0);
    world_init(&got, data_seed);
    world_init(&want, data_seed);
    run_ctx_t rc = {&p, &got, {0}};
    int st = pto_run(rt, orch_program, &rc);
    reference(&p, &want);
    bool ok = st == 0 && memcmp(got.a, want.a, sizeof(got.a)) == 0 &&
              memcmp(got.b, want.b, sizeof(got.b)) == 0;
    if (!ok)
        snprintf(why, wn, "status %d (%s), %u ops, clusters %u window %u "
                 "tracker %u%s", st, pto_last_error(rt), p.nops,
                 cfg.clusters, cfg.task_window, cfg.tensormap_entries,
                 st == 0 ? ": memory differs" : "");
    pto_runtime_destroy(rt);
    return ok ? 0 : 1;
}

int fuzz_run_seed(uint64_t seed, char *why, size_t wn)
{
    src_bytes = NULL;
    rng = seed * 2654435761u + 88172645463325252ull;
    return run_drawn(why, wn);
}

int fuzz_run_bytes(const uint8_t *data, size_t n, char *why, size_t wn)
{
    uint64_t seed = 0;
    size_t k = 0;
    for (; k < n && k < 8; k++)
        seed = seed << 8 | data[k];
    rng = seed * 2654435761u + 88172645463325252ull;
    src_bytes = data;
    src_len = n;
    src_pos = k;
    int rc = run_drawn(why, wn);
    src_bytes = NULL;
    return rc;
}
