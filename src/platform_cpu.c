/*
 * platform_cpu.c - the CPU platform: every simulated core is a thread, and
 * the cores do the scheduler's work themselves between kernels (no
 * dedicated scheduler threads: measured faster on this 2-core machine, see
 * docs/benchmarks.md).
 *
 * Work reaches a core three ways, checked in this order at the top of its
 * loop:
 *   1. its mailbox: one assignment (task, block, barrier) put there by
 *      another core for gang work (mixed tasks, SPMD sync-start);
 *   2. its stash: the one task its own last completion made ready (no
 *      queue traffic, no wake-up: chains stay on one core);
 *   3. the ready queues it can serve: its own shape (AIC or AIV), then the
 *      multi-core shapes, which any core may dispatch.
 *
 * Gangs. A task that needs several cores at the same time (a mixed task;
 * an SPMD task with PTO_SPMD_SYNC_START) is dispatched by *claiming* the
 * mailbox of every core it needs, all or nothing (a failed claim rolls back
 * and the task is pushed back). Each member picks the assignment up when
 * it finishes what it runs now, arrives at the gang's barrier and waits for
 * the others. Deadlock freedom: a claim succeeds only on empty mailboxes,
 * i.e. after each member picked up its previous assignment, so a member
 * that has not yet arrived at gang G is either running a kernel or waiting
 * at the barrier of a gang claimed before G; waits only point to earlier
 * claims and can form no cycle.
 *
 * Cluster gang barriers. Any two gangs of one cluster share a core (each
 * needs >= 2 of its 3), so their claims are ordered, and at most two
 * gangs of a cluster can have members still to arrive (each such gang
 * blocks one distinct mailbox, and a third gang needs two free ones). Gang
 * k of a cluster therefore uses barrier slot k % 2, whose arrival counter
 * only grows; gang k waits until it reaches the sum of the sizes of the
 * gangs assigned to that slot up to k. The counters sit in the cluster and
 * are written only by successful claimers (ordered as just argued).
 * SPMD sync-start tasks span clusters and use the task's own `started`
 * counter instead.
 *
 * Parking. An idle core spins for spin_us, then parks on its futex word
 * `wake`. Dekker pairs (all seq_cst): the core stores parked = 1, bumps
 * sleepers[kind], then re-checks mailbox and queues; a producer pushes (or
 * fills a mailbox), then reads sleepers / parked. One side always sees the
 * other, so no wake-up is lost.
 *
 * Spinners. A push wakes a parked core only when no core of that kind is
 * spinning (spinning[kind] == 0): a spinner will find the task, and waking
 * more cores than there are CPUs only buys context switches (with 72 core
 * threads on 2 CPUs, a wake per submit made empty tasks ~30x slower). At
 * most max_spin cores of a kind spin at once (CPUs - 1, at least 1); the
 * others park at once. A spinner that finds work while more is queued
 * wakes one more core, so parallel work still fans out. Pairs: a pusher
 * pushes then reads spinning (seq_cst); a spinner gives up spinning by
 * decrementing spinning and then (parking) re-checks the queues, or it
 * has found work and will come back to the queues after running it.
 *
 * Awake cores. Likewise a push wakes nobody while awake_limit() cores of
 * the kind are awake (not parked: running, spinning or about to look):
 * they come back to the queues after their kernel. The limit counts the
 * orchestrator's CPU: while it submits it keeps one CPU busy, so the limit
 * is CPUs - 1 (at least 1); while it waits (back-pressure, an element
 * access, the end of a run) it is the CPUs (at least 2), and going idle it
 * wakes cores for work already queued (pto__platform_orch_idle). Without
 * the orchestrator's share, a chain of short tasks on 2 CPUs woke a second
 * core whenever the first was between its kernel and its spin, and three
 * threads then time-shared two CPUs (~3x slower, docs/benchmarks.md).
 * Any limit >= 1 is live: an awake core re-checks the queues before it
 * parks, so the flag is only a policy hint (relaxed). Gang work (mailbox)
 * always wakes its member directly. Pairs: pusher pushes then reads
 * sleepers; a parking core counts itself in sleepers, then re-checks.
 *
 * Synchronisation table:
 *   mailbox claim / fill / rollback   any core; CAS 0->1, fill, store 2
 *   mailbox pick-up                   its owner only; load 2, store 0
 *   stash                             its owner only
 *   wake / parked / sleepers          any thread (see Parking)
 *   busy                              owner writes; quiesce reads
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "debug.h"
#include "futex.h"
#include "kernel_ctx.h"
#include "platform.h"
#include "scheduler.h"
#include "trace.h"

enum { PTO_KIND_AIC = 0, PTO_KIND_AIV = 1 };
enum { PTO_MBOX_FREE = 0, PTO_MBOX_CLAIMED = 1, PTO_MBOX_FULL = 2 };

/* How often the spin loop reads the clock: clock reads cost ~20 ns. */
#define PTO_SPIN_CHECK_EVERY 64
/* A core that could not claim a gang backs off this long before retrying,
 * so it does not burn a CPU while the gang's members finish their work. */
#define PTO_GANG_BACKOFF_NS 20000u

typedef struct pto_core {
    /* Mailbox: claimed and filled by any core, emptied by the owner. */
    PTO_ALIGNED_CL _Atomic uint32_t mbox;
    uint32_t mbox_block;
    uint32_t mbox_target;           /* barrier count to wait for */
    pto_task_t *mbox_task;
    _Atomic uint32_t *mbox_bar;     /* barrier counter */
    /* Parking: any thread. */
    PTO_ALIGNED_CL _Atomic uint32_t wake;
    _Atomic uint32_t parked;
    _Atomic uint32_t busy;
    /* Owner only (read-only fields set before the thread starts). */
    PTO_ALIGNED_CL pto_platform_t *p;
    pto_runtime_t *rt;
    uint32_t cluster;
    uint32_t role;                  /* pto_subtask_t */
    uint32_t kind;                  /* PTO_KIND_* */
    uint32_t rr;                    /* round-robin start for gang claims */
    pto_task_t *stash;
    _Atomic uint64_t sched_ns;      /* owner stores, anyone loads */
    _Atomic uint64_t kernel_ns;
    _Atomic uint64_t invocations;
    pthread_t thread;
} pto_core_t;

typedef struct pto_cluster {
    PTO_ALIGNED_CL _Atomic uint32_t arrived[2];
    uint32_t assigned[2];           /* claimers only, ordered by claims */
    uint32_t gangs;                 /* gangs ever claimed here */
} pto_cluster_t;

struct pto_platform {
    pto_runtime_t *rt;
    pto_core_t *cores;              /* cluster * 3 + role */
    pto_cluster_t *clusters;
    uint32_t ncores;
    uint32_t nclusters;
    uint64_t spin_ns;
    uint32_t timing;
    uint32_t started;               /* threads created (for destroy) */
    uint32_t max_spin;              /* spinners allowed per kind */
    uint32_t max_awake[2];          /* awake cores worth waking, per kind,
                                     * [orchestrator busy, idle] */
    uint32_t ncores_kind[2];
    _Atomic uint32_t orch_idle;     /* written by the orchestrator only */
    PTO_ALIGNED_CL _Atomic uint32_t sleepers[2];
    _Atomic uint32_t spinning[2];
    PTO_ALIGNED_CL _Atomic uint32_t stop;
};

/* The core the calling thread is (NULL on other threads): lets a completion
 * stash the task it made ready. Thread-local, never shared. */
static _Thread_local pto_core_t *tls_core;

/* How many awake cores of one kind are worth having now (see Awake cores). */
static uint32_t awake_limit(const pto_platform_t *p)
{
    /* relaxed: a policy hint; liveness never depends on it. */
    return p->max_awake[pto_load(&p->orch_idle, pto_relaxed) != 0];
}

/* ---- waking ------------------------------------------------------------ */

static void core_wake(pto_core_t *c)
{
    uint32_t one = 1;
    /* seq_cst: second half of the Dekker pairs described at the top. */
    if (pto_load(&c->parked, pto_seq_cst) &&
        pto_cas(&c->parked, &one, 0, pto_seq_cst, pto_relaxed)) {
        pto_fetch_add(&c->wake, 1, pto_release);
        pto_futex_wake(&c->wake, 1);
    }
}

/* Wake one parked core of `kind` (or of either kind for kind 2), unless a
 * core that could take the work is spinning already. */
static void wake_one(pto_platform_t *p, int kind)
{
    for (int k = 0; k < 2; k++) {
        if (kind != 2 && k != kind)
            continue;
        /* seq_cst: the pusher's half of the spinner pair (see top). */
        if (pto_load(&p->spinning[k], pto_seq_cst) != 0)
            return;
        /* seq_cst: the pusher's half of the awake pair (see top). */
        if (p->ncores_kind[k] - pto_load(&p->sleepers[k], pto_seq_cst) >=
            awake_limit(p))
            return;
    }
    for (int k = 0; k < 2; k++) {
        if (kind != 2 && k != kind)
            continue;
        if (pto_load(&p->sleepers[k], pto_seq_cst) == 0)
            continue;
        for (uint32_t i = 0; i < p->ncores; i++) {
            pto_core_t *c = &p->cores[i];
            uint32_t one = 1;
            if (c->kind != (uint32_t)k || !pto_load(&c->parked, pto_relaxed))
                continue;
            if (pto_cas(&c->parked, &one, 0, pto_seq_cst, pto_relaxed)) {
                pto_fetch_add(&c->wake, 1, pto_release);
                pto_futex_wake(&c->wake, 1);
                return;
            }
        }
    }
}

static int shape_kind(pto_shape_t s)
{
    if (s == PTO_SHAPE_AIC)
        return PTO_KIND_AIC;
    return s == PTO_SHAPE_AIV ? PTO_KIND_AIV : 2;
}

static void push_ready(pto_platform_t *p, pto_task_t *t)
{
    /* Read the shape first: once pushed, t may run, retire and be reused
     * before this thread looks at it again. */
    pto_shape_t shape = (pto_shape_t)t->shape;
    pto__debug_yield();
    pto__rq_push(&p->rt->rq[shape], t);
    wake_one(p, shape_kind(shape));
}

static bool is_gang(const pto_task_t *t)
{
    return t->nsub > 1 || (t->block_num > 1 &&
                           (t->spmd_flags & PTO_SPMD_SYNC_START));
}

void pto__platform_orch_idle(pto_platform_t *p, bool idle)
{
    /* relaxed: see awake_limit. */
    pto_store(&p->orch_idle, idle ? 1u : 0u, pto_relaxed);
    if (!idle)
        return;
    /* The CPU it frees may take work the busy limit left queued. */
    for (int s = PTO_SHAPE_AIC; s < PTO_SHAPE_COUNT; s++)
        if (pto__rq_nonempty(&p->rt->rq[s]))
            wake_one(p, shape_kind((pto_shape_t)s));
}

void pto__platform_ready(pto_platform_t *p, pto_task_t *t)
{
    pto_core_t *c = tls_core;
    if (c && c->p == p && !c->stash && t->block_num == 1 && t->nsub == 1 &&
        shape_kind((pto_shape_t)t->shape) == (int)c->kind) {
        c->stash = t;
        return;
    }
    push_ready(p, t);
}

/* ---- running work ------------------------------------------------------- */

static uint64_t maybe_now(const pto_platform_t *p)
{
    return p->timing ? pto_now_ns() : 0;
}

/* Which of t's kernels this core runs. */
static uint32_t kernel_for(const pto_task_t *t, const pto_core_t *c)
{
    if (t->nsub == 1) /* single-core: whichever slot is set */
        return t->kernel[0] != PTO_KERNEL_NONE
                   ? t->kernel[0]
                   : (t->kernel[1] != PTO_KERNEL_NONE ? t->kernel[1]
                                                      : t->kernel[2]);
    return t->kernel[c->role];
}

/* Owner-only counter: a relaxed load and store, no RMW needed. */
static void counter_add(_Atomic uint64_t *ctr, uint64_t d)
{
    pto_store(ctr, pto_load(ctr, pto_relaxed) + d, pto_relaxed);
}

static void run_invocation(pto_core_t *c, pto_task_t *t, uint32_t block)
{
    uint64_t t0 = maybe_now(c->p);
    /* Before the invocation: its completion then publishes the count to
     * the drained orchestrator (pto__platform_core_counters). */
    counter_add(&c->invocations, 1);
    pto__kernel_invoke(c->rt, t, kernel_for(t, c), c->role, c->cluster,
                       block);
    if (c->p->timing)
        counter_add(&c->kernel_ns, pto_now_ns() - t0);
}

/* Wait until *bar reaches target: spin briefly, then sleep on the futex. */
static void barrier_wait(_Atomic uint32_t *bar, uint32_t target)
{
    for (uint32_t spins = 0;; spins++) {
        /* acquire: pairs with the other members' arrival (release). */
        uint32_t v = pto_load(bar, pto_acquire);
        if ((int32_t)(v - target) >= 0)
            return;
        if (spins < 1000)
            pto_cpu_relax();
        else
            pto_futex_wait(bar, v, 100000);
    }
}

static void barrier_arrive(_Atomic uint32_t *bar, uint32_t target)
{
    /* release: pairs with the waiters' acquire. */
    uint32_t v = pto_fetch_add(bar, 1, pto_release) + 1;
    if (v == target)
        pto_futex_wake(bar, INT32_MAX);
    else
        barrier_wait(bar, target);
}

static bool mbox_take(pto_core_t *c)
{
    /* seq_cst: part of the parking Dekker pair; acquire for the fields. */
    if (pto_load(&c->mbox, pto_seq_cst) != PTO_MBOX_FULL)
        return false;
    pto_task_t *t = c->mbox_task;
    uint32_t block = c->mbox_block, target = c->mbox_target;
    _Atomic uint32_t *bar = c->mbox_bar;
    pto__debug_yield();
    /* release: the fields are read; a claimer may overwrite them. */
    pto_store(&c->mbox, PTO_MBOX_FREE, pto_release);
    /* Arrive even when kernels are being skipped: the other members
     * wait for every arrival. */
    barrier_arrive(bar, target);
    run_invocation(c, t, block);
    return true;
}

/* ---- gang claims -------------------------------------------------------- */

static bool mbox_claim(pto_core_t *c)
{
    uint32_t fr = PTO_MBOX_FREE;
    /* acquire: pairs with the owner's release after reading the fields. */
    return pto_cas(&c->mbox, &fr, PTO_MBOX_CLAIMED, pto_acquire, pto_relaxed);
}

static void mbox_fill(pto_core_t *c, pto_task_t *t, uint32_t block,
                      _Atomic uint32_t *bar, uint32_t target)
{
    c->mbox_task = t;
    c->mbox_block = block;
    c->mbox_bar = bar;
    c->mbox_target = target;
    /* seq_cst: publishes the fields (release) and pairs with the owner's
     * parked store in the Dekker sense before core_wake reads parked. */
    pto_store(&c->mbox, PTO_MBOX_FULL, pto_seq_cst);
    core_wake(c);
}

static void mbox_unclaim(pto_core_t *c)
{
    pto_store(&c->mbox, PTO_MBOX_FREE, pto_release);
}

/* The cores of cluster cl that t needs, as a mask of roles. */
static uint32_t gang_roles(const pto_task_t *t)
{
    if (t->nsub == 1)
        return 0;
    uint32_t m = 0;
    for (uint32_t r = 0; r < 3; r++)
        if (t->kernel[r] != PTO_KERNEL_NONE)
            m |= 1u << r;
    return m;
}

/* Claim every core of `mask` in cluster cl, all or nothing. */
static bool claim_cluster(pto_platform_t *p, uint32_t cl, uint32_t mask)
{
    uint32_t got = 0;
    for (uint32_t r = 0; r < 3; r++) {
        if (!(mask & (1u << r)))
            continue;
        pto__debug_yield();
        if (!mbox_claim(&p->cores[cl * 3 + r])) {
            for (uint32_t u = 0; u < r; u++)
                if (got & (1u << u))
                    mbox_unclaim(&p->cores[cl * 3 + u]);
            return false;
        }
        got |= 1u << r;
    }
    return true;
}

/* Fill the claimed mailboxes of cluster cl with block `block` of t. */
static void fill_cluster(pto_platform_t *p, uint32_t cl, uint32_t mask,
                         pto_task_t *t, uint32_t block,
                         _Atomic uint32_t *bar, uint32_t target)
{
    for (uint32_t r = 0; r < 3; r++)
        if (mask & (1u << r))
            mbox_fill(&p->cores[cl * 3 + r], t, block, bar, target);
}

static uint32_t popcount3(uint32_t m)
{
    return (m & 1u) + ((m >> 1) & 1u) + ((m >> 2) & 1u);
}

/* One block of a mixed task (no sync start) on one cluster: try clusters
 * starting with the dispatching core's own. */
static bool dispatch_gang_block(pto_core_t *c, pto_task_t *t)
{
    pto_platform_t *p = c->p;
    uint32_t mask = gang_roles(t), n = popcount3(mask);
    for (uint32_t k = 0; k < p->nclusters; k++) {
        uint32_t cl = (c->cluster + k) % p->nclusters;
        if (!claim_cluster(p, cl, mask))
            continue;
        /* relaxed: blocks are handed out by this counter alone. */
        uint32_t b = pto_fetch_add(&t->next_block, 1, pto_relaxed);
        if (b + 1 < t->block_num)
            push_ready(p, t);
        pto_cluster_t *cs = &p->clusters[cl];
        uint32_t slot = cs->gangs++ & 1u;
        cs->assigned[slot] += n;
        fill_cluster(p, cl, mask, t, b, &cs->arrived[slot],
                     cs->assigned[slot]);
        return true;
    }
    return false;
}

/* Claim the single cores of a sync-start SPMD task, all or nothing. */
static bool claim_singles(pto_platform_t *p, pto_task_t *t, uint32_t *ids)
{
    int kind = shape_kind((pto_shape_t)t->shape);
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->ncores && n < t->block_num; i++) {
        pto_core_t *m = &p->cores[i];
        if ((int)m->kind == kind && mbox_claim(m))
            ids[n++] = i;
    }
    if (n == t->block_num)
        return true;
    while (n > 0)
        mbox_unclaim(&p->cores[ids[--n]]);
    return false;
}

/* Claim block_num whole gangs (one per cluster) of a sync-start task. */
static bool claim_gangs(pto_platform_t *p, pto_task_t *t, uint32_t *ids)
{
    uint32_t mask = gang_roles(t), n = 0;
    for (uint32_t cl = 0; cl < p->nclusters && n < t->block_num; cl++)
        if (claim_cluster(p, cl, mask))
            ids[n++] = cl;
    if (n == t->block_num)
        return true;
    while (n > 0) {
        uint32_t cl = ids[--n];
        for (uint32_t r = 0; r < 3; r++)
            if (mask & (1u << r))
                mbox_unclaim(&p->cores[cl * 3 + r]);
    }
    return false;
}

/* Every block of a sync-start SPMD task at once; they meet at the task's
 * `started` counter, which counts every invocation. Once the last mailbox
 * is filled the task may run to completion and its slot be reused, so
 * nothing of t is read after that: block_num is read up front. */
static bool dispatch_sync(pto_core_t *c, pto_task_t *t)
{
    pto_platform_t *p = c->p;
    uint32_t ids[3 * PTO_MAX_CLUSTERS];
    uint32_t mask = gang_roles(t);
    uint32_t blocks = t->block_num;
    uint32_t target = (uint32_t)t->nsub * blocks;
    if (mask == 0) {
        if (!claim_singles(p, t, ids))
            return false;
        for (uint32_t b = 0; b < blocks; b++)
            mbox_fill(&p->cores[ids[b]], t, b, &t->started, target);
        return true;
    }
    if (!claim_gangs(p, t, ids))
        return false;
    for (uint32_t b = 0; b < blocks; b++)
        fill_cluster(p, ids[b], mask, t, b, &t->started, target);
    return true;
}

/* ---- the core loop ------------------------------------------------------ */

static void run_single(pto_core_t *c, pto_task_t *t)
{
    /* relaxed: blocks are handed out by this counter alone. */
    uint32_t b = 0;
    if (t->block_num > 1) {
        b = pto_fetch_add(&t->next_block, 1, pto_relaxed);
        if (b + 1 < t->block_num)
            push_ready(c->p, t);
    }
    run_invocation(c, t, b);
}

/* A multi-core task popped from a queue: dispatch it, or put it back. */
static void dispatch_multi(pto_core_t *c, pto_task_t *t)
{
    bool ok = (t->block_num > 1 && (t->spmd_flags & PTO_SPMD_SYNC_START))
                  ? dispatch_sync(c, t)
                  : dispatch_gang_block(c, t);
    if (!ok) {
        push_ready(c->p, t);
        /* Its cores are busy: wait a little instead of spinning on it. */
        struct timespec ts = {0, PTO_GANG_BACKOFF_NS};
        nanosleep(&ts, NULL);
    }
}

static const pto_shape_t own_shapes[2][1] = {{PTO_SHAPE_AIC},
                                             {PTO_SHAPE_AIV}};
static const pto_shape_t multi_shapes[3] = {
    PTO_SHAPE_AIC_AIV2, PTO_SHAPE_AIC_AIV, PTO_SHAPE_AIV2};

/* Find and run one piece of work; false when there was none. */
static bool core_step(pto_core_t *c)
{
    pto_runtime_t *rt = c->rt;
    if (mbox_take(c))
        return true;
    pto_task_t *t = c->stash;
    if (t) {
        c->stash = NULL;
        run_single(c, t);
        return true;
    }
    t = pto__rq_pop(&rt->rq[own_shapes[c->kind][0]]);
    if (t) {
        if (is_gang(t))
            dispatch_multi(c, t);
        else
            run_single(c, t);
        return true;
    }
    for (int i = 0; i < 3; i++) {
        t = pto__rq_pop(&rt->rq[multi_shapes[i]]);
        if (t) {
            dispatch_multi(c, t);
            return true;
        }
    }
    return false;
}

static bool has_work(pto_core_t *c)
{
    pto_runtime_t *rt = c->rt;
    if (pto_load(&c->mbox, pto_seq_cst) == PTO_MBOX_FULL || c->stash)
        return true;
    if (pto__rq_nonempty(&rt->rq[own_shapes[c->kind][0]]))
        return true;
    for (int i = 0; i < 3; i++)
        if (pto__rq_nonempty(&rt->rq[multi_shapes[i]]))
            return true;
    return false;
}

static bool stopping(pto_platform_t *p)
{
    /* acquire: pairs with destroy's release; nothing else rides on it. */
    return pto_load(&p->stop, pto_acquire) != 0;
}

static void core_park(pto_core_t *c)
{
    pto_platform_t *p = c->p;
    uint32_t w = pto_load(&c->wake, pto_acquire);
    /* seq_cst: first half of the parking Dekker pairs. */
    pto_store(&c->parked, 1, pto_seq_cst);
    pto_fetch_add(&p->sleepers[c->kind], 1, pto_seq_cst);
    pto__debug_yield();
    if (!has_work(c) && !stopping(p))
        pto_futex_wait(&c->wake, w, 0);
    pto_fetch_sub(&p->sleepers[c->kind], 1, pto_seq_cst);
    pto_store(&c->parked, 0, pto_relaxed);
}

/* Become a spinner if fewer than max_spin of this kind are. */
static bool spin_enter(pto_core_t *c)
{
    _Atomic uint32_t *n = &c->p->spinning[c->kind];
    uint32_t v = pto_load(n, pto_relaxed);
    do {
        if (v >= c->p->max_spin)
            return false;
        /* seq_cst: the spinner's half of the pairs described at the top. */
    } while (!pto_cas_weak(n, &v, v + 1, pto_seq_cst, pto_relaxed));
    return true;
}

/* Spin for spin_ns; true when work showed up. */
static bool spin_for_work(pto_core_t *c)
{
    pto_platform_t *p = c->p;
    uint64_t start = pto_now_ns();
    for (uint32_t i = 1;; i++) {
        if (has_work(c) || stopping(p))
            return true;
        pto_cpu_relax();
        if (i % PTO_SPIN_CHECK_EVERY == 0 &&
            pto_now_ns() - start >= p->spin_ns)
            return false;
    }
}

static void core_idle(pto_core_t *c)
{
    pto_platform_t *p = c->p;
    /* release: the run's counters this core added are visible to quiesce. */
    pto_store(&c->busy, 0, pto_release);
    bool crowded = p->ncores_kind[c->kind] -
                       pto_load(&p->sleepers[c->kind], pto_relaxed) >
                   awake_limit(p);
    if (p->spin_ns > 0 && !crowded && spin_enter(c)) {
        bool found = spin_for_work(c);
        pto_fetch_sub(&p->spinning[c->kind], 1, pto_seq_cst);
        if (found) {
            /* Leaving the spinners: if more than we can take is queued,
             * hand the search on to a parked core. */
            if (pto__rq_size_hint(&c->rt->rq[own_shapes[c->kind][0]]) > 1)
                wake_one(p, (int)c->kind);
            return;
        }
    }
    core_park(c);
}

static void *core_main(void *arg)
{
    pto_core_t *c = arg;
    tls_core = c;
    pto__trace_bind_core(c->rt, (uint32_t)(c - c->p->cores));
    while (!stopping(c->p)) {
        uint64_t t0 = maybe_now(c->p);
        uint64_t k0 = pto_load(&c->kernel_ns, pto_relaxed);
        pto_store(&c->busy, 1, pto_relaxed);
        if (core_step(c)) {
            if (c->p->timing)
                counter_add(&c->sched_ns,
                            pto_now_ns() - t0 -
                                (pto_load(&c->kernel_ns, pto_relaxed) - k0));
            continue;
        }
        core_idle(c);
    }
    pto_store(&c->busy, 0, pto_release);
    return NULL;
}

/* ---- create / destroy / quiesce ---------------------------------------- */

int pto__platform_create(pto_runtime_t *rt, pto_platform_t **out)
{
    pto_platform_t *p = aligned_alloc(PTO_CACHELINE,
                                      (sizeof(*p) + PTO_CACHELINE - 1) &
                                          ~(size_t)(PTO_CACHELINE - 1));
    if (!p)
        return PTO_ENOMEM;
    memset(p, 0, sizeof(*p));
    p->rt = rt;
    p->nclusters = rt->cfg.clusters;
    p->ncores = 3 * p->nclusters;
    p->spin_ns = (uint64_t)rt->cfg.spin_us * 1000u;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    /* One CPU is the orchestrator's; spinning beyond the rest is waste. */
    p->max_spin = cpus > 2 ? (uint32_t)(cpus - 1) : 1u;
    p->max_awake[0] = cpus > 2 ? (uint32_t)(cpus - 1) : 1u;
    p->max_awake[1] = cpus > 2 ? (uint32_t)cpus : 2u;
    pto_store(&p->orch_idle, 1, pto_relaxed); /* no run yet */
    p->ncores_kind[PTO_KIND_AIC] = p->nclusters;
    p->ncores_kind[PTO_KIND_AIV] = 2 * p->nclusters;
    p->timing = rt->cfg.core_timing;
    p->cores = aligned_alloc(PTO_CACHELINE, sizeof(pto_core_t) * p->ncores);
    p->clusters = aligned_alloc(PTO_CACHELINE,
                                sizeof(pto_cluster_t) * p->nclusters);
    if (!p->cores || !p->clusters) {
        pto__platform_destroy(p);
        return PTO_ENOMEM;
    }
    memset(p->cores, 0, sizeof(pto_core_t) * p->ncores);
    memset(p->clusters, 0, sizeof(pto_cluster_t) * p->nclusters);
    for (uint32_t i = 0; i < p->ncores; i++) {
        pto_core_t *c = &p->cores[i];
        c->p = p;
        c->rt = rt;
        c->cluster = i / 3;
        c->role = i % 3;
        c->kind = c->role == PTO_SUBTASK_AIC ? PTO_KIND_AIC : PTO_KIND_AIV;
    }
    for (uint32_t i = 0; i < p->ncores; i++) {
        if (pthread_create(&p->cores[i].thread, NULL, core_main,
                           &p->cores[i]) != 0) {
            pto__platform_destroy(p);
            return PTO_ESYS;
        }
        p->started++;
    }
    *out = p;
    return 0;
}

void pto__platform_destroy(pto_platform_t *p)
{
    if (!p)
        return;
    /* release: pairs with stopping()'s acquire. */
    pto_store(&p->stop, 1, pto_release);
    for (uint32_t i = 0; i < p->started; i++) {
        pto_core_t *c = &p->cores[i];
        pto_fetch_add(&c->wake, 1, pto_seq_cst);
        pto_futex_wake(&c->wake, 1);
    }
    for (uint32_t i = 0; i < p->started; i++)
        pthread_join(p->cores[i].thread, NULL);
    free(p->cores);
    free(p->clusters);
    free(p);
}

void pto__platform_quiesce(pto_platform_t *p)
{
    for (uint32_t i = 0; i < p->ncores; i++)
        /* acquire: pairs with core_idle's release; the core has left the
         * scheduler code of this run and its counters are final. */
        while (pto_load(&p->cores[i].busy, pto_acquire))
            sched_yield();
}

void pto__platform_core_counters(pto_platform_t *p, uint32_t core,
                                 uint64_t out[3])
{
    pto_core_t *c = &p->cores[core];
    out[0] = pto_load(&c->invocations, pto_relaxed);
    out[1] = pto_load(&c->sched_ns, pto_relaxed);
    out[2] = pto_load(&c->kernel_ns, pto_relaxed);
}

void pto__platform_counters(pto_platform_t *p, uint64_t *sched_ns,
                            uint64_t *kernel_ns)
{
    uint64_t s = 0, k = 0;
    for (uint32_t i = 0; i < p->ncores; i++) {
        s += pto_load(&p->cores[i].sched_ns, pto_relaxed);
        k += pto_load(&p->cores[i].kernel_ns, pto_relaxed);
    }
    *sched_ns = s;
    *kernel_ns = k;
}
