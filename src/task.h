/*
 * task.h - a task slot, the dependency node, and the task life cycle.
 *
 * Life cycle of one slot (seq = the per-ring sequence number it holds):
 *   PENDING   the orchestrator filled it and published the ring head
 *   READY     every producer finished; it sits in a ready queue
 *   RUNNING   a core (or a cluster, for mixed tasks) runs its kernels
 *   COMPLETED all subtasks finished; fanout closed, consumers released
 *   CONSUMED  refs reached 0: it, its retaining readers and its scope are done
 *   (retired) the ring watermark passed it; the orchestrator may reuse the slot
 *
 * Edges. A consumer C that must follow producer P gets one pto_dep_node_t in
 * C's ring's node pool. The orchestrator pushes it onto P.fanout with a CAS
 * unless P.fanout is PTO_FANOUT_CLOSED (P already completed: the edge is
 * satisfied at once). P's completion exchanges CLOSED into P.fanout and
 * releases every consumer on the list it took. The exchange is the only
 * point after which no consumer can join, so each edge is counted exactly
 * once: linked-and-released, or seen-closed.
 *
 * fanin_pending = (#distinct producers) + 1. The +1 is a guard the
 * orchestrator drops after linking every edge, so producers finishing while
 * the task is still being wired can never make it ready early; whoever takes
 * the count to 0 (a producer's release or the guard drop) makes it READY,
 * exactly once.
 *
 * refs = 1 (its own completion) + 1 if it owns heap buffers (its scope's
 * reference, dropped at scope end) + 1 per retaining reader (a later task
 * reading a buffer this task created; taken by the orchestrator while the
 * scope reference still pins the task, so refs can never rise from 0, and
 * dropped when that reader completes). Whoever takes refs to 0 marks it
 * CONSUMED and tries to advance the ring watermark. A task owning no buffers
 * is therefore reclaimed as soon as it completes and nobody retains it.
 *
 * Slot reuse. Only the orchestrator reuses slots, and only after observing
 * the watermark past them (acquire on ring tail, pairing with the release
 * store in pto__sched_advance). A retired slot keeps fanout == CLOSED until
 * reuse, so an orchestrator linking to a producer that retired in the
 * meantime sees CLOSED and counts the edge satisfied (retired => completed).
 */
#ifndef PTO_TASK_H
#define PTO_TASK_H

#include "atomics.h"
#include "pto/args.h"
#include "pto/runtime.h"

typedef enum pto_task_state {
    PTO_TASK_PENDING = 0,
    PTO_TASK_READY,
    PTO_TASK_RUNNING,
    PTO_TASK_COMPLETED,
    PTO_TASK_CONSUMED
} pto_task_state_t;

/* Resource shapes; one ready queue each. */
typedef enum pto_shape {
    PTO_SHAPE_AIC = 0,  /* one AIC core */
    PTO_SHAPE_AIV,      /* one AIV core */
    PTO_SHAPE_AIV2,     /* both AIV cores of one cluster */
    PTO_SHAPE_AIC_AIV,  /* AIC + one AIV of one cluster */
    PTO_SHAPE_AIC_AIV2, /* a whole cluster */
    PTO_SHAPE_COUNT,
    PTO_SHAPE_NONE = PTO_SHAPE_COUNT /* alloc_tensors: never runs */
} pto_shape_t;

/* Kernel roles within a task (index into pto_task_t.kernel). */
enum { PTO_ROLE_AIC = 0, PTO_ROLE_AIV_A = 1, PTO_ROLE_AIV_B = 2 };

struct pto_task;

typedef struct pto_dep_node {
    struct pto_task *consumer;   /* the waiting task */
    struct pto_dep_node *next;   /* next consumer on the producer's fanout */
    struct pto_task *producer;   /* for the retention release */
    uint8_t edge;                /* on producer's fanout (ordering edge) */
    uint8_t retain;              /* consumer holds one of producer's refs */
    uint16_t pad_;
    uint32_t pad2_;
} pto_dep_node_t;

#define PTO_FANOUT_CLOSED ((pto_dep_node_t *)(uintptr_t)1)

#define PTO_TASK_F_ALLOC 0x1u /* pto_alloc_tensors: completes at submit */

typedef struct pto_task {
    /* Shared-hot: producers, consumers, cores and the orchestrator. */
    _Atomic(pto_dep_node_t *) fanout; /* consumers; CLOSED once completed */
    _Atomic int32_t fanin_pending;    /* producers not yet done, + guard */
    _Atomic int32_t refs;             /* see the header comment */
    _Atomic uint32_t subtasks_left;   /* kernel invocations still running */
    _Atomic uint32_t state;           /* pto_task_state_t */
    _Atomic uint32_t next_block;      /* SPMD: next block to hand out */
    _Atomic uint32_t started;         /* SPMD sync start: invocations at
                                       * the start barrier */
    /* Read-only once published (written by the orchestrator before the
     * release store of the ring head / the ready push). */
    uint32_t kernel[3];               /* per role; PTO_KERNEL_NONE unused */
    pto_task_id_t id;
    uint8_t shape;                    /* pto_shape_t */
    uint8_t nsub;                     /* kernel invocations (cores) */
    uint8_t ring;
    uint8_t flags;                    /* PTO_TASK_F_* */
    uint8_t ntensors;
    uint8_t nscalars;
    uint8_t spmd_flags;               /* PTO_SPMD_* */
    uint8_t pad_;
    uint32_t block_num;               /* SPMD blocks, >= 1 */
    uint32_t dep_first;               /* this task's nodes in its ring pool */
    uint32_t ndeps;
    pto_tensor_t *tensors;            /* slot's payload, args order */
    uint64_t *scalars;
} pto_task_t;

static inline uint32_t pto__task_seq(pto_task_id_t id)
{
    return (uint32_t)id;
}

static inline uint32_t pto__task_ring(pto_task_id_t id)
{
    return (uint32_t)(id >> 32);
}

static inline pto_task_id_t pto__task_make_id(uint32_t ring, uint32_t seq)
{
    return ((pto_task_id_t)ring << 32) | seq;
}

/* Wrap-safe "a is before b" for per-ring sequence numbers. */
static inline bool pto__seq_before(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

#endif /* PTO_TASK_H */
