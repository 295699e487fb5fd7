/*
 * pa_orch.h - four orchestrations of paged attention on pto-runtime.
 *
 * All four submit the same kind of graph. Work is split into *tiles*: one
 * request, one kv head and up to head_tile of the query heads that share
 * it. A tile runs over its request's KV blocks in *steps* of B blocks
 * (B = 1, or the unroll factor for the unroll variants; the last step may
 * be shorter):
 *
 *   acc   = alloc_tensors(mi [ht], li [ht], oi [ht, d])      once per tile
 *   per step:
 *     QK (AIC)  q tile, B key blocks          -> s [ht, B*bs]
 *     SF (AIV)  s                             -> p [ht, B*bs] bf16, m, l [ht]
 *     PV (AIC)  p, B value blocks             -> o [ht, d]
 *     UP (AIV)  m, l, o; mi, li, oi           (+ out tile on the last step)
 *
 * so a tile is 1 + 4 * steps tasks, for every variant pair alike.
 *
 *   auto           AUTO scopes; every dependency is inferred from tensors
 *   manual         MANUAL scopes, the same submits plus explicit deps:
 *                  SF on QK, PV on SF, UP on SF, PV and the previous UP
 *                  (the first UP on the alloc task): the update chain is
 *                  threaded by id
 *   unroll         auto with B = unroll blocks per step
 *   unroll_manual  manual with B = unroll
 *
 * Scopes: one per tile (it owns the accumulators), and inside it one per
 * chunk of steps, which owns the steps' intermediates. A chunk holds at
 * most a quarter of a task ring and of a heap ring (pa_chunk_steps), so no
 * context length can pin a ring (flow-control deadlock), and the
 * orchestrator can run several tiles ahead of the cores.
 */
#ifndef PA_ORCH_H
#define PA_ORCH_H

#include <pto/pto.h>

#include "pa_case.h"

typedef enum pa_variant {
    PA_AUTO = 0,
    PA_MANUAL,
    PA_UNROLL,
    PA_UNROLL_MANUAL,
    PA_VARIANT_COUNT
} pa_variant_t;

const char *pa_variant_name(pa_variant_t v);
int pa_variant_manual(pa_variant_t v);

typedef struct pa_orch_params {
    const pa_inputs_t *in;
    pa_variant_t variant;
    uint32_t blocks_per_step; /* 1, or the unroll factor */
    uint32_t chunk_steps;     /* steps per inner scope (pa_chunk_steps) */
    /* A failure pto_run cannot see (a tensor view the orchestration could
     * not build): its code and a message. */
    int err;
    char err_msg[160];
} pa_orch_params_t;

/* The orchestration function: user is a pa_orch_params_t. */
void pa_orch(pto_orch_t *o, void *user);

/* Steps per inner scope so that one scope holds at most a quarter of a
 * task ring and of a heap ring under `cfg`. At least 1. */
uint32_t pa_chunk_steps(const pa_inputs_t *in, uint32_t blocks_per_step,
                        const pto_config_t *cfg);

/* Tasks one run submits. */
uint64_t pa_expected_tasks(const pa_inputs_t *in, uint32_t blocks_per_step);

#endif /* PA_ORCH_H */
