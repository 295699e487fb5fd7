/*
 * scheduler.h - the scheduler's logic, independent of the platform: making tasks
 * ready, completing them, releasing references, advancing ring watermarks.
 *
 * A platform (src/platform_cpu.c) decides which core runs what and calls in
 * here; the scheduler calls the platform back only to say "a task of this
 * shape became ready" (pto__platform_notify) and "a ring advanced".
 *
 * Synchronisation table:
 *   pto__sched_ready          any thread; concurrent with everything
 *   pto__sched_subtask_done   cores, concurrently, once per kernel invocation
 *   pto__sched_drop_ref       any thread (orchestrator at scope end, cores)
 *   pto__sched_advance        any thread; serialised per ring by a try-lock,
 *                             with a re-check so no advance is ever lost
 */
#ifndef PTO_SCHEDULER_H
#define PTO_SCHEDULER_H

#include "runtime_impl.h"

/* t's last producer finished (or it had none): queue it for a core. */
void pto__sched_ready(pto_runtime_t *rt, pto_task_t *t);

/* One kernel invocation of t finished; the last one completes t. */
void pto__sched_subtask_done(pto_runtime_t *rt, pto_task_t *t);

/* Drop one of t's references; the last one consumes t. */
void pto__sched_drop_ref(pto_runtime_t *rt, pto_task_t *t);

/* Retire the CONSUMED prefix of ring r and wake the orchestrator if it
 * waits for that. */
void pto__sched_advance(pto_runtime_t *rt, pto_ring_t *r);

/* Shape a task's resource needs map to, from its role kernels. */
pto_shape_t pto__sched_shape(const uint32_t kernel[3], uint8_t *nsub);

#endif /* PTO_SCHEDULER_H */
