/*
 * bench/bench_shapes.c - data and checks of pto-bench's task graphs (see
 * bench_shapes.h).
 */
#define _POSIX_C_SOURCE 200809L

#include "bench_shapes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const bench_shape_name[BENCH_SHAPE_COUNT] = {"indep", "chain",
                                                         "pa", "fanin"};

int bench_shape_parse(const char *s)
{
    for (int i = 0; i < BENCH_SHAPE_COUNT; i++)
        if (s && strcmp(s, bench_shape_name[i]) == 0)
            return i;
    return -1;
}

uint32_t bench_shape_unit(bench_shape_t shape)
{
    if (shape == BENCH_PA)
        return BENCH_PA_GROUP_TASKS;
    if (shape == BENCH_FANIN)
        return BENCH_FANIN_UNIT;
    return 1;
}

uint64_t bench_shape_tasks(bench_shape_t shape, uint64_t n)
{
    uint64_t u = bench_shape_unit(shape);
    return n < u ? u : n / u * u;
}

static bench_slot_t *slots(size_t n)
{
    bench_slot_t *p = NULL;
    if (posix_memalign((void **)&p, 64, n * sizeof(bench_slot_t)) != 0)
        return NULL;
    memset(p, 0, n * sizeof(bench_slot_t));
    return p;
}

int bench_mem_alloc(bench_mem_t *m, bench_shape_t shape)
{
    memset(m, 0, sizeof(*m));
    switch (shape) {
    case BENCH_INDEP:
        return (m->indep = slots(BENCH_INDEP_SLOTS)) ? 0 : -1;
    case BENCH_CHAIN:
        return (m->chain = slots(1)) ? 0 : -1;
    case BENCH_PA:
        m->q = slots(BENCH_PA_SLOTS);
        m->out = slots(BENCH_PA_SLOTS);
        m->kv_k = slots(BENCH_PA_KV_POOL);
        m->kv_v = slots(BENCH_PA_KV_POOL);
        m->acc = slots(BENCH_PA_SLOTS * BENCH_PA_ACC);
        m->inter = slots(BENCH_PA_SLOTS * BENCH_PA_BLOCKS * BENCH_PA_INTER);
        return m->q && m->out && m->kv_k && m->kv_v && m->acc && m->inter
                   ? 0
                   : -1;
    case BENCH_FANIN:
        m->prod = slots(BENCH_FANIN_SLOTS * BENCH_FANIN_K);
        m->res = slots(BENCH_FANIN_SLOTS);
        return m->prod && m->res ? 0 : -1;
    default:
        return -1;
    }
}

void bench_mem_free(bench_mem_t *m)
{
    bench_slot_t *all[] = {m->indep, m->chain, m->q,     m->out,  m->kv_k,
                           m->kv_v,  m->acc,   m->inter, m->prod, m->res};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        free(all[i]);
    memset(m, 0, sizeof(*m));
}

void bench_mem_reset(bench_mem_t *m, bench_shape_t shape)
{
    if (shape == BENCH_INDEP)
        memset(m->indep, 0, BENCH_INDEP_SLOTS * sizeof(bench_slot_t));
    else if (shape == BENCH_CHAIN)
        memset(m->chain, 0, sizeof(bench_slot_t));
    else if (shape == BENCH_PA)
        memset(m->out, 0, BENCH_PA_SLOTS * sizeof(bench_slot_t));
    else if (shape == BENCH_FANIN)
        memset(m->res, 0, BENCH_FANIN_SLOTS * sizeof(bench_slot_t));
}

/* Slot s of an array written every `period` tasks by the task at offset
 * `last` of each unit of `unit` tasks, in units u = s, s + slots, ...:
 * the value of the last such unit below `units`, 0 if none. */
static uint64_t expected(uint64_t units, uint64_t nslots, uint64_t s,
                         uint64_t unit, uint64_t last)
{
    if (s >= units)
        return 0;
    uint64_t u = s + (units - 1 - s) / nslots * nslots;
    return u * unit + last + 1;
}

int bench_check(const bench_job_t *job, const bench_mem_t *m, char *why,
                size_t why_len)
{
    const bench_slot_t *arr = NULL;
    uint64_t nslots = 1, unit = 1, last = 0;
    uint64_t units = job->tasks / bench_shape_unit(job->shape);
    switch (job->shape) {
    case BENCH_INDEP:
        arr = m->indep, nslots = BENCH_INDEP_SLOTS;
        break;
    case BENCH_CHAIN:
        arr = m->chain, nslots = 1, units = 1, last = job->tasks - 1;
        break;
    case BENCH_PA:
        arr = m->out, nslots = BENCH_PA_SLOTS;
        unit = BENCH_PA_GROUP_TASKS, last = BENCH_PA_GROUP_TASKS - 1;
        break;
    case BENCH_FANIN:
        arr = m->res, nslots = BENCH_FANIN_SLOTS;
        unit = BENCH_FANIN_UNIT, last = BENCH_FANIN_K;
        break;
    default:
        snprintf(why, why_len, "unknown shape");
        return -1;
    }
    for (uint64_t s = 0; s < nslots; s++) {
        uint64_t want = expected(units, nslots, s, unit, last);
        if (arr[s].v[0] != want) {
            snprintf(why, why_len,
                     "%s check: slot %llu holds %llu, expected %llu (the "
                     "last task writing it did not run last)",
                     bench_shape_name[job->shape], (unsigned long long)s,
                     (unsigned long long)arr[s].v[0],
                     (unsigned long long)want);
            return -1;
        }
    }
    return 0;
}
