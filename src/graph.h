/*
 * graph.h - opt-in recording of a run's task graph for Graphviz DOT
 * (graph.c, pto_graph_write_dot).
 *
 * Orchestrator only: each submit adds its task and the producers it was
 * wired to (the edges it really waited for: producers already retired at
 * submit could not delay it and are not edges). Bounded by
 * cfg.graph_tasks tasks and 8 edges per task on average; the first task
 * that does not fit stops the recording for the rest of the run, and the
 * writer says so. Reset when a run begins.
 */
#ifndef PTO_SRC_GRAPH_H
#define PTO_SRC_GRAPH_H

#include "runtime_impl.h"

typedef struct pto_graph_task {
    pto_task_id_t id;
    uint32_t kernel[3];
    uint32_t edge0, nedges;
    uint8_t shape;
    uint8_t depth;
    uint16_t pad_;
} pto_graph_task_t;

typedef struct pto_graph_edge {
    pto_task_id_t producer;
    uint32_t kind;                /* PTO_EDGE_* (trace.h) */
    uint32_t pad_;
} pto_graph_edge_t;

struct pto_graph {
    pto_graph_task_t *tasks;
    pto_graph_edge_t *edges;
    uint32_t task_cap, ntasks;
    uint32_t edge_cap, nedges;
    uint64_t omitted;             /* tasks of the run not recorded */
    bool full;                    /* recording stopped for this run */
    bool recorded;                /* a run was recorded since create */
};

/* Allocate when cfg.graph_tasks > 0; *out stays NULL otherwise. */
int pto__graph_create(const pto_config_t *cfg, pto_graph_t **out);
void pto__graph_destroy(pto_graph_t *g);
void pto__graph_run_begin(pto_graph_t *g);

/* Record a submitted task with `nedges` edges to come (false: it does not
 * fit; nothing of it, or of later tasks, is recorded). */
bool pto__graph_task(pto_graph_t *g, pto_task_id_t id, const uint32_t kern[3],
                     uint32_t shape, uint32_t depth, uint32_t nedges);
/* One edge of the task recorded last. */
void pto__graph_edge(pto_graph_t *g, pto_task_id_t producer, uint32_t kind);

/* pto_graph_write_dot without its in-run check: for pto_run itself, after
 * the drain and before it lets another run start. */
int pto__graph_write_dot(pto_runtime_t *rt, const char *path);

#endif /* PTO_SRC_GRAPH_H */
