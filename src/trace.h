/*
 * trace.h - opt-in event recording for Chrome/Perfetto traces (trace.c).
 *
 * Off (cfg.trace_events == 0, or pto_trace_enable(rt, false)) every hook
 * is one predictable branch on rt->recording. On, each thread that records
 * owns one bounded buffer: the orchestrator (the thread inside pto_run) and
 * each core thread. A hook appends to the calling thread's buffer with
 * plain stores: no atomics, no locks, no allocation. Other threads (a
 * helper calling pto_task_complete makes dependents ready) share one more
 * buffer, reserving each slot with a relaxed fetch_add. A full buffer drops
 * the event and counts it.
 * Buffers are reset when a run begins and read (merged) by
 * pto_trace_write after it ended, when no thread writes them any more.
 */
#ifndef PTO_SRC_TRACE_H
#define PTO_SRC_TRACE_H

#include "futex.h"
#include "runtime_impl.h"

typedef enum pto_ev_kind {
    PTO_EV_TASK = 0,  /* a kernel invocation, t0..t1; a = kernel, b = block */
    PTO_EV_SUBMIT,    /* one submit on the orchestrator; a = kernel,
                       * b = scope depth */
    PTO_EV_LOOKUP,    /* that submit's tracker lookups */
    PTO_EV_INSERT,    /* that submit's tracker inserts */
    PTO_EV_EDGE,      /* task waits for producer `t1`; a = PTO_EDGE_* */
    PTO_EV_WAIT,      /* back-pressure wait; a = ring, b = resource */
    PTO_EV_SCOPE_END, /* pto_scope_end; b = depth */
    PTO_EV_ELEM,      /* element access waiting for producers */
    PTO_EV_DRAIN,     /* the end of pto_run waiting for every task */
    PTO_EV_READY,     /* instant t0: task became ready */
    PTO_EV_KIND_COUNT
} pto_ev_kind_t;

/* Edge kinds (PTO_EV_EDGE, graph.c). */
#define PTO_EDGE_INFERRED 0x1u /* from the tracker or a tensor's creator */
#define PTO_EDGE_EXPLICIT 0x2u /* pto_args_dep */

typedef struct pto_trace_ev {
    uint64_t t0, t1;      /* ns since the run began (EDGE: t1 = producer) */
    pto_task_id_t task;
    uint32_t a;
    uint16_t b;
    uint8_t kind;         /* pto_ev_kind_t */
    uint8_t pad_;
} pto_trace_ev_t;

typedef struct pto_trace_buf {
    pto_trace_ev_t *ev;
    uint32_t n, cap;
    uint64_t dropped;
} pto_trace_buf_t;

struct pto_trace {
    uint64_t t_base;            /* pto_now_ns() when the run began */
    uint32_t nbufs;             /* 1 + cores: [0] orchestrator, [1 + i] core i */
    pto_trace_buf_t *bufs;
    pto_trace_ev_t *shared;     /* threads without a buffer of their own */
    _Atomic uint32_t shared_n;  /* slots reserved (may pass the capacity) */
    uint32_t shared_cap;
    bool recorded;              /* a run was recorded since create */
};

/* Allocate the buffers (cfg.trace_events each) when tracing is
 * configured; *out stays NULL otherwise. 0 or PTO_ENOMEM. */
int pto__trace_create(pto_runtime_t *rt, pto_trace_t **out);
void pto__trace_destroy(pto_trace_t *tr);

/* Run boundaries (the orchestrator thread). begin resets the buffers and
 * binds the calling thread to buffer 0; end unbinds it. */
void pto__trace_run_begin(pto_runtime_t *rt);
void pto__trace_run_end(pto_runtime_t *rt);

/* A core thread binds itself to its buffer once, before its first task. */
void pto__trace_bind_core(pto_runtime_t *rt, uint32_t core);

/* Append an event for the calling thread. Call only when
 * pto__trace_on(rt). t0/t1 are pto_now_ns() values (made relative here),
 * except EDGE's t1. */
void pto__trace_emit(pto_runtime_t *rt, pto_ev_kind_t kind, uint64_t t0,
                     uint64_t t1, pto_task_id_t task, uint32_t a,
                     uint32_t b);

/* rt->recording bits: events (cfg.trace_events) and the graph
 * (cfg.graph_tasks), each set only when configured and enabled. */
#define PTO_REC_TRACE 0x1u
#define PTO_REC_GRAPH 0x2u

static inline uint32_t pto__recording(const pto_runtime_t *rt)
{
    /* relaxed: changed only between runs (pto_trace_enable); the run's
     * first task is published to the cores (release push) after it. */
    return pto_load(&rt->recording, pto_relaxed);
}

/* pto_trace_write without its in-run check: for pto_run itself, after
 * the drain and before it lets another run start (T2 holds). */
int pto__trace_write(pto_runtime_t *rt, const char *path);

static inline bool pto__trace_on(const pto_runtime_t *rt)
{
    return (pto__recording(rt) & PTO_REC_TRACE) != 0;
}

#endif /* PTO_SRC_TRACE_H */
