/*
 * pto/trace.h - observability: traces, task graphs and printed statistics
 * of the last run. docs/observability.md shows how to read them.
 *
 * Recording is opt-in and set at create: cfg.trace_events (events kept per
 * thread; 0 = off) and cfg.graph_tasks (tasks kept for the graph; 0 =
 * off), or the environment (pto_config_init):
 *   PTO_TRACE_EVENTS=N   trace, N events per thread
 *   PTO_GRAPH_TASKS=N    graph, up to N tasks
 *   PTO_TRACE_FILE=PATH  trace (65536 events per thread unless set) and
 *                        write it to PATH after every pto_run
 *   PTO_DOT_FILE=PATH    graph (10000 tasks unless set) and write it to
 *                        PATH after every pto_run
 * Off, the hooks cost one predictable branch each (docs/benchmarks.md).
 * Each run overwrites the previous run's recording.
 */
#ifndef PTO_TRACE_H
#define PTO_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pto/errors.h"
#include "pto/export.h"
#include "pto/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Turn recording (trace and graph, where configured) off or on again for
 * the following runs; it starts on. PTO_ESTATE during a run or when
 * neither is configured, PTO_EINVAL for NULL. Thread: any, not during a
 * run on rt. */
PTO_API int pto_trace_enable(pto_runtime_t *rt, bool on);

/* Write the last recorded run as Chrome trace-event JSON (opens in
 * https://ui.perfetto.dev and chrome://tracing): one track per core
 * ("cluster k AIC/AIV0/AIV1"), the orchestrator (submits, tracker lookup
 * and insert, back-pressure waits, scope ends, the final drain) and the
 * scheduler (ready instants); each kernel invocation carries its task id,
 * block, scope depth, submit and ready times and the producers it waited
 * for; flow arrows join producers to consumers. When a per-thread buffer
 * filled up, the trace says how many events were dropped. Returns 0,
 * PTO_ESTATE (tracing off, no run recorded yet, or a run in progress),
 * PTO_ESYS (the file), PTO_ENOMEM, PTO_EINVAL; pto_last_error says why.
 * Thread: any, not during a run on rt. Allocates (not a hot path). */
PTO_API int pto_trace_write(pto_runtime_t *rt, const char *path);

/* Events the last recorded run dropped because a buffer was full: a
 * thread's own (the orchestrator, a core) or the one other threads share
 * (helpers calling pto_task_complete). 0 when tracing is off. */
PTO_API uint64_t pto_trace_dropped(const pto_runtime_t *rt);

/* Write the last recorded run's task graph in Graphviz DOT: tasks labelled
 * with kernel name and id, filled by core type (AIC orange, AIV blue,
 * mixed violet); edges solid when inferred, dashed when explicit, bold
 * when both. Returns 0; PTO_ETOOBIG when cfg.graph_tasks cut the recording
 * (the file is written, with the first graph_tasks tasks and a note);
 * PTO_ESTATE, PTO_ESYS, PTO_EINVAL as pto_trace_write. Thread: any, not
 * during a run on rt. */
PTO_API int pto_graph_write_dot(pto_runtime_t *rt, const char *path);

/* Print the last run's pto_run_stats and pto_run_core_stats to f, one
 * figure per line, readable by people. PTO_EINVAL for NULL. */
PTO_API int pto_run_stats_print(const pto_runtime_t *rt, FILE *f);

#ifdef __cplusplus
}
#endif

#endif /* PTO_TRACE_H */
