/*
 * orch.h - the orchestrator's private state: the scope stack, the sticky
 * status of the run, and scratch space for one submit.
 *
 * Everything here is written and read by the orchestrator thread only (the
 * thread inside pto_run), so nothing here is atomic. What the orchestrator
 * shares with the scheduler lives in the rings and task slots.
 */
#ifndef PTO_SRC_ORCH_H
#define PTO_SRC_ORCH_H

#include "runtime_impl.h"

/* manual_depth when no manual scope is open. */
#define PTO_NO_MANUAL UINT32_MAX

/* Producer flags of one submit's producer list. */
#define PTO_PROD_EDGE 0x1u     /* order the new task after it */
#define PTO_PROD_RETAIN 0x2u   /* keep it (and its buffers) until we finish */
#define PTO_PROD_INFERRED 0x4u /* the edge came from the tracker or a
                                * runtime tensor's creator */
#define PTO_PROD_EXPLICIT 0x8u /* the edge came from pto_args_dep */

typedef struct pto_scope_frame {
    uint32_t held_mark; /* its ring's held-stack height at begin */
    uint32_t serial;    /* instance number; runtime tensors record it */
    uint32_t mode;      /* pto_scope_mode_t */
    uint32_t tasks;     /* tasks submitted directly in it (for messages) */
} pto_scope_frame_t;

struct pto_orch {
    pto_runtime_t *rt;
    int32_t status;          /* sticky first error; PTO_ESTATE between runs */
    bool in_run;             /* inside pto_run (set and cleared by it) */
    uint32_t depth;          /* innermost open scope; 0 = pto_run's */
    uint32_t manual_depth;   /* outermost open MANUAL scope or NO_MANUAL */
    uint32_t next_serial;    /* scope instances ever opened */
    uint64_t submit_serial;  /* submits ever made: the dedup stamp */
    const char *call;        /* API call in progress, for messages */
    pto_scope_frame_t scope[PTO_MAX_SCOPE_DEPTH];
    /* One submit's producers (explicit deps, tracker hits, creators). */
    pto_task_t **prod;
    uint8_t *prod_flags;
    uint32_t nprod;
    uint32_t prod_cap;
    uint64_t stamp[5];       /* recording: times within the submit */
    /* Statistics of the current run. */
    uint64_t tasks;
    uint64_t wait_ns;        /* time parked on back-pressure */
    uint64_t elem_wait_ns;   /* time element accesses waited */
    uint64_t waits;          /* orch_wait calls */
    uint64_t edges_inferred; /* wired edges, by origin */
    uint64_t edges_explicit;
};

int pto__orch_create(pto_runtime_t *rt, pto_orch_t **out);
void pto__orch_destroy(pto_orch_t *o);

/* Start a run: outer AUTO scope at depth 0, status 0. */
void pto__orch_run_begin(pto_orch_t *o);

/* End a run after the user's function returned: close scopes left open
 * (PTO_ESCOPE), end the outer scope, wait until every task retired, then
 * reset the rings and the tracker for the next run. */
void pto__orch_run_end(pto_orch_t *o);

/* Fail the run from the orchestrator: sticky status + message. */
int pto__orch_fail(pto_orch_t *o, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* PTO_SRC_ORCH_H */
