/*
 * platform.h - the boundary between the scheduler and whatever executes
 * kernels. The CPU platform (platform_cpu.c) runs each simulated core as a
 * thread; a device platform would poll hardware cores instead.
 *
 * The scheduler (scheduler.c) calls the platform only through
 * pto__platform_ready; the platform calls the scheduler when a kernel
 * invocation finishes (pto__sched_subtask_done).
 */
#ifndef PTO_PLATFORM_H
#define PTO_PLATFORM_H

#include "runtime_impl.h"

/* Start the cores of rt (rt->cfg.clusters clusters of 1 AIC + 2 AIV).
 * 0, PTO_ENOMEM or PTO_ESYS. */
int pto__platform_create(pto_runtime_t *rt, pto_platform_t **out);

/* Stop and join every core. NULL is a no-op. */
void pto__platform_destroy(pto_platform_t *p);

/* Task t became READY: hand it to a core that can run it (the calling core
 * itself when it can, else a ready queue plus a wake-up). Any thread;
 * never blocks. */
void pto__platform_ready(pto_platform_t *p, pto_task_t *t);

/* The orchestrator stops submitting to wait (idle = true), or resumes:
 * while it waits, its CPU may run one more core, and queued work wakes
 * one. Orchestrator only; never blocks. */
void pto__platform_orch_idle(pto_platform_t *p, bool idle);

/* After a run drained: wait until no core is still inside scheduler code,
 * so the time counters are final. Orchestrator only. */
void pto__platform_quiesce(pto_platform_t *p);

/* Nanoseconds all cores spent on scheduler work and in kernels since
 * create (counted only with cfg.core_timing). Any thread. */
void pto__platform_counters(pto_platform_t *p, uint64_t *sched_ns,
                            uint64_t *kernel_ns);

/* Core `core`'s counters since create: out[0] kernel invocations,
 * out[1] scheduler ns, out[2] kernel ns (times need cfg.core_timing).
 * Any thread; final for a run once it drained. */
void pto__platform_core_counters(pto_platform_t *p, uint32_t core,
                                 uint64_t out[3]);

#endif /* PTO_PLATFORM_H */
