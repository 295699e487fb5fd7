/*
 * bench/peer_omp.c - pto-bench's graphs as OpenMP tasks with depend
 * clauses, the way an OpenMP user writes them: one thread of a parallel
 * region of `threads` threads creates the tasks (single), every thread of
 * the team runs them, and the implicit barrier at the end of the region
 * waits for all of them. One run is one parallel region.
 *
 * The same file is built twice, each time as its own program (the
 * dependence-tracking code is the compiler's and its runtime's, so the two
 * cannot share one executable): by gcc with libgomp as pto-bench-omp-gomp
 * (runtime name omp_gomp) and by clang with libomp as pto-bench-omp-llvm
 * (omp_llvm); BENCH_OMP_NAME names it. pto-bench runs them as child
 * processes (bench_child.c protocol).
 *
 * Every datum is a bench_slot_t; a dependence names the slot (*s). Fresh
 * intermediates are per-(group slot, block) slots (bench_mem_t), 4096
 * tasks apart. Runtime settings are the defaults (OMP_WAIT_POLICY,
 * GOMP_SPINCOUNT, KMP_BLOCKTIME unset).
 */
#define _POSIX_C_SOURCE 200809L

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_shapes.h"

#ifndef BENCH_OMP_NAME
#define BENCH_OMP_NAME "omp"
#endif

typedef struct omp_ctx {
    const bench_job_t *job;
    bench_mem_t *mem;
} omp_ctx_t;

static void indep_tasks(const omp_ctx_t *c)
{
    for (uint64_t i = 0; i < c->job->tasks; i++) {
        bench_slot_t *s = &c->mem->indep[i % BENCH_INDEP_SLOTS];
#pragma omp task default(none) firstprivate(s, i) depend(out : s[0])
        bench_store(s, i + 1);
    }
}

static void chain_tasks(const omp_ctx_t *c)
{
    bench_slot_t *s = c->mem->chain;
    for (uint64_t i = 0; i < c->job->tasks; i++) {
#pragma omp task default(none) firstprivate(s, i) depend(inout : s[0])
        bench_store(s, i + 1);
    }
}

/* UP of block j: creates the accumulators on j == 0, updates them after,
 * and also writes the group's output on the last block. */
static void pa_up(bench_slot_t *acc, bench_slot_t *m, bench_slot_t *l,
                  bench_slot_t *o, bench_slot_t *out, uint32_t j, uint64_t t)
{
    /* gcc 12 counts a variable named only in depend clauses as unused. */
    (void)m, (void)l, (void)o;
    if (j == 0) {
#pragma omp task default(none) firstprivate(acc, t)                           \
    depend(in : m[0], l[0], o[0]) depend(out : acc[0], acc[1], acc[2])
        bench_store(acc, t);
    } else if (j < BENCH_PA_BLOCKS - 1) {
#pragma omp task default(none) firstprivate(acc, t)                           \
    depend(in : m[0], l[0], o[0]) depend(inout : acc[0], acc[1], acc[2])
        bench_store(acc, t);
    } else {
#pragma omp task default(none) firstprivate(out, t)                           \
    depend(in : m[0], l[0], o[0]) depend(inout : acc[0], acc[1], acc[2])     \
    depend(out : out[0])
        bench_store(out, t);
    }
}

static void pa_group(const bench_mem_t *mem, uint64_t g)
{
    uint64_t slot = g % BENCH_PA_SLOTS, t = g * BENCH_PA_GROUP_TASKS;
    bench_slot_t *q = &mem->q[slot], *out = &mem->out[slot];
    bench_slot_t *acc = &mem->acc[slot * BENCH_PA_ACC];
    for (uint32_t j = 0; j < BENCH_PA_BLOCKS; j++, t += BENCH_PA_KINDS) {
        uint32_t blk = bench_pa_block(g, j);
        bench_slot_t *k = &mem->kv_k[blk], *v = &mem->kv_v[blk];
        bench_slot_t *s = bench_pa_inter(mem, g, j, BENCH_PA_S);
        bench_slot_t *p = bench_pa_inter(mem, g, j, BENCH_PA_P);
        bench_slot_t *m = bench_pa_inter(mem, g, j, BENCH_PA_M);
        bench_slot_t *l = bench_pa_inter(mem, g, j, BENCH_PA_L);
        bench_slot_t *o = bench_pa_inter(mem, g, j, BENCH_PA_O);
        (void)q, (void)k, (void)v; /* named only in depend clauses */
#pragma omp task default(none) firstprivate(s, t) depend(in : q[0], k[0])     \
    depend(out : s[0])
        bench_store(s, t + 1);
#pragma omp task default(none) firstprivate(p, t) depend(in : s[0])           \
    depend(out : p[0], m[0], l[0])
        bench_store(p, t + 2);
#pragma omp task default(none) firstprivate(o, t) depend(in : p[0], v[0])     \
    depend(out : o[0])
        bench_store(o, t + 3);
        pa_up(acc, m, l, o, out, j, t + 4);
    }
}

static void pa_tasks(const omp_ctx_t *c)
{
    uint64_t groups = c->job->tasks / BENCH_PA_GROUP_TASKS;
    for (uint64_t g = 0; g < groups; g++)
        pa_group(c->mem, g);
}

static void fanin_tasks(const omp_ctx_t *c)
{
    uint64_t rounds = c->job->tasks / BENCH_FANIN_UNIT;
    for (uint64_t r = 0; r < rounds; r++) {
        uint64_t slot = r % BENCH_FANIN_SLOTS, t = r * BENCH_FANIN_UNIT;
        bench_slot_t *p = &c->mem->prod[slot * BENCH_FANIN_K];
        bench_slot_t *res = &c->mem->res[slot];
        for (uint32_t k = 0; k < BENCH_FANIN_K; k++) {
            bench_slot_t *pk = &p[k];
            uint64_t v = t + k + 1;
#pragma omp task default(none) firstprivate(pk, v) depend(out : pk[0])
            bench_store(pk, v);
        }
#pragma omp task default(none) firstprivate(res, t)                           \
    depend(in : p[0], p[1], p[2], p[3], p[4], p[5], p[6]) depend(out : res[0])
        bench_store(res, t + BENCH_FANIN_UNIT);
    }
}

static int omp_run(void *ctx)
{
    const omp_ctx_t *c = ctx;
#pragma omp parallel num_threads(c->job->threads) default(none) shared(c)
#pragma omp single
    {
        switch (c->job->shape) {
        case BENCH_INDEP:
            indep_tasks(c);
            break;
        case BENCH_CHAIN:
            chain_tasks(c);
            break;
        case BENCH_PA:
            pa_tasks(c);
            break;
        default:
            fanin_tasks(c);
            break;
        }
    }
    return 0;
}

static int omp_setup(const bench_job_t *job, bench_mem_t *mem, void **out,
                     char *why, size_t why_len)
{
    omp_ctx_t *c = malloc(sizeof(*c));
    if (!c) {
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    c->job = job;
    c->mem = mem;
    /* No dynamic adjustment: the team has exactly `threads` threads. */
    omp_set_dynamic(0);
    *out = c;
    return 0;
}

static void omp_teardown(void *ctx)
{
    free(ctx);
}

static const bench_peer_t omp_peer = {BENCH_OMP_NAME, omp_setup, omp_run,
                                      omp_teardown};

int main(int argc, char **argv)
{
    const bench_peer_t *peers[1] = {&omp_peer};
    return bench_child_main(argc, argv, peers, 1);
}
