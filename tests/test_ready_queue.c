/*
 * test_ready_queue.c - src/ready_queue.c: capacity rounding (and refusal of
 * absurd capacities), single-thread FIFO order, empty pops, the non-empty
 * hint, wrap-around over many laps of a small queue, a push into a full
 * queue waiting for a pop instead of dropping, and concurrent MPMC stress:
 * pure push races (drained in order afterwards), pure pop races over a
 * prefilled queue, and producers with consumers together through a small
 * queue (thousands of laps) and a large one. Threads start on a barrier;
 * every item must be seen exactly once and each producer's sequence numbers
 * must rise within every consumer's observations. Items are fake task
 * pointers (never dereferenced) encoding producer id and sequence number.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "pto/errors.h"
#include "ready_queue.h"

/* Item encoding: bits 40.. hold producer + 1 (so no item is NULL), bits
 * 3..39 the sequence number (8-byte aligned like a real pointer). */
static struct pto_task *item(uint64_t producer, uint64_t seq)
{
    return (struct pto_task *)(uintptr_t)(((producer + 1) << 40) | (seq << 3));
}

static uint64_t item_producer(const struct pto_task *t)
{
    return ((uint64_t)(uintptr_t)t >> 40) - 1;
}

static uint64_t item_seq(const struct pto_task *t)
{
    return ((uint64_t)(uintptr_t)t & (((uint64_t)1 << 40) - 1)) >> 3;
}

static void test_capacity_rounding(void)
{
    static const struct {
        uint64_t asked, cap;
    } cases[] = {{0, 2},  {1, 2},   {2, 2},    {3, 4},     {4, 4},
                 {5, 8},  {8, 8},   {9, 16},   {1000, 1024},
                 {1024, 1024}, {1025, 2048}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pto_ready_queue_t q;
        REQUIRE(pto__rq_init(&q, cases[i].asked) == 0);
        CHECK_EQ(q.mask + 1, cases[i].cap);
        /* The whole rounded capacity is usable without blocking. */
        for (uint64_t k = 0; k < cases[i].cap; k++)
            pto__rq_push(&q, item(0, k));
        for (uint64_t k = 0; k < cases[i].cap; k++)
            CHECK(pto__rq_pop(&q) == item(0, k));
        CHECK(pto__rq_pop(&q) == NULL);
        pto__rq_fini(&q);
        CHECK(q.cells == NULL);
    }

    /* Capacities whose cell array cannot exist fail instead of looping. */
    pto_ready_queue_t q;
    CHECK_EQ(pto__rq_init(&q, UINT64_MAX), PTO_ENOMEM);
    CHECK(q.cells == NULL);
    CHECK_EQ(pto__rq_init(&q, ((uint64_t)1 << 63) + 1), PTO_ENOMEM);
    CHECK_EQ(pto__rq_init(&q, SIZE_MAX / sizeof(pto_rq_cell_t) + 1),
             PTO_ENOMEM);
}

static void test_fifo(void)
{
    pto_ready_queue_t q;
    REQUIRE(pto__rq_init(&q, 16) == 0);
    CHECK(pto__rq_pop(&q) == NULL);
    CHECK(!pto__rq_nonempty(&q));
    for (uint64_t k = 0; k < 10; k++)
        pto__rq_push(&q, item(1, k));
    CHECK(pto__rq_nonempty(&q));
    for (uint64_t k = 0; k < 4; k++)
        CHECK(pto__rq_pop(&q) == item(1, k));
    pto__rq_push(&q, item(2, 0));
    for (uint64_t k = 4; k < 10; k++)
        CHECK(pto__rq_pop(&q) == item(1, k));
    CHECK(pto__rq_nonempty(&q));
    CHECK(pto__rq_pop(&q) == item(2, 0));
    CHECK(!pto__rq_nonempty(&q));
    CHECK(pto__rq_pop(&q) == NULL);
    CHECK(pto__rq_pop(&q) == NULL); /* repeated empty pops change nothing */
    pto__rq_push(&q, item(3, 7));
    CHECK(pto__rq_pop(&q) == item(3, 7));
    pto__rq_fini(&q);
}

static void test_wrap_around(void)
{
    pto_ready_queue_t q;
    REQUIRE(pto__rq_init(&q, 4) == 0);
    REQUIRE(q.mask == 3);
    uint64_t next_push = 0, next_pop = 0, bad = 0;
    /* Batches of 1..4 items: thousands of laps, every fill level. */
    for (uint64_t round = 0; round < 20000; round++) {
        /* Never more than 4 queued: a push into a full queue would wait
         * for a pop forever on this single thread. */
        uint64_t n = 1 + round % 4, room = 4 - (next_push - next_pop);
        if (n > room)
            n = room;
        for (uint64_t k = 0; k < n; k++)
            pto__rq_push(&q, item(0, next_push++));
        /* Leave one behind on odd rounds so the phase keeps shifting. */
        uint64_t m = (round % 2 && n > 1) ? n - 1 : n;
        for (uint64_t k = 0; k < m; k++)
            bad += pto__rq_pop(&q) != item(0, next_pop++);
        while (next_push - next_pop > 2)
            bad += pto__rq_pop(&q) != item(0, next_pop++);
    }
    while (next_pop < next_push)
        bad += pto__rq_pop(&q) != item(0, next_pop++);
    CHECK_EQ(bad, 0);
    CHECK(pto__rq_pop(&q) == NULL);
    CHECK(next_push > 20000); /* many laps of a 4-cell queue */
    CHECK_EQ(pto_load(&q.head, pto_relaxed), next_push);
    CHECK_EQ(pto_load(&q.tail, pto_relaxed), next_push);
    pto__rq_fini(&q);
}

/* A push into a full queue must wait for a pop, never drop or overwrite. */
static void *push_one(void *arg)
{
    pto__rq_push(arg, item(9, 2));
    return NULL;
}

static void test_full_push_waits(void)
{
    pto_ready_queue_t q;
    REQUIRE(pto__rq_init(&q, 2) == 0);
    pto__rq_push(&q, item(9, 0));
    pto__rq_push(&q, item(9, 1));
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, push_one, &q) == 0);
    /* Give the pusher time to reach its wait (not required for the check:
     * whatever the timing, the result must be the same). */
    const struct timespec ms = {0, 20 * 1000 * 1000};
    nanosleep(&ms, NULL);
    CHECK(pto__rq_pop(&q) == item(9, 0));
    pthread_join(th, NULL);
    CHECK(pto__rq_pop(&q) == item(9, 1));
    CHECK(pto__rq_pop(&q) == item(9, 2));
    CHECK(pto__rq_pop(&q) == NULL);
    pto__rq_fini(&q);
}

/* ---- concurrent stress ---- */

#define NPROD 4
#define NCONS 4
#define PER_PRODUCER 50000u
#define TOTAL ((uint64_t)NPROD * PER_PRODUCER)
/* Far beyond a healthy run (well under a second; a few under TSan). */
#define DEADLINE_NS (20ull * 1000 * 1000 * 1000)

/* Which sides run as racing threads; the other side (if any) is done by
 * the main thread before (prefill) or after (drain) the race. */
enum stress_mode { MIXED, PUSH_RACE, POP_RACE };

struct stress {
    pto_ready_queue_t q;
    pthread_barrier_t start;
    /* Items allowed in flight; each push takes a credit, each pop returns
     * one, so the queue never holds more than its capacity (the runtime's
     * invariant: capacity >= live tasks). */
    _Atomic int64_t credits;
    _Atomic uint64_t popped;
    /* Set when the run overstays its deadline (a lost item would otherwise
     * leave the consumers waiting forever): the test then fails, not hangs. */
    _Atomic int timed_out;
    uint64_t deadline_ns;
    _Atomic uint8_t *seen; /* TOTAL counters, one per item */
    uint64_t order_errors[NCONS + 1]; /* [NCONS]: the main thread's drain */
    uint64_t foreign[NCONS + 1];
};

struct worker {
    struct stress *s;
    uint32_t id;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Called while waiting: true (and the flag set) once the deadline passed. */
static bool overdue(struct stress *s, uint64_t *polls)
{
    if (pto_load(&s->timed_out, pto_relaxed))
        return true;
    if (++*polls % 1024 != 0 || now_ns() < s->deadline_ns)
        return false;
    pto_store(&s->timed_out, 1, pto_relaxed);
    return true;
}

/* False when the run timed out instead. */
static bool take_credit(struct stress *s)
{
    uint64_t polls = 0;
    int64_t c = pto_load(&s->credits, pto_relaxed);
    for (;;) {
        if (c <= 0) {
            if (overdue(s, &polls))
                return false;
            sched_yield();
            c = pto_load(&s->credits, pto_relaxed);
        } else if (pto_cas_weak(&s->credits, &c, c - 1, pto_acquire,
                                pto_relaxed)) {
            return true;
        }
    }
}

static void *producer(void *arg)
{
    struct worker *w = arg;
    struct stress *s = w->s;
    pthread_barrier_wait(&s->start);
    for (uint64_t k = 0; k < PER_PRODUCER; k++) {
        if (!take_credit(s))
            break;
        pto__rq_push(&s->q, item(w->id, k));
        if (k % 256 == 255)
            sched_yield(); /* shuffle the interleavings on 2 cores */
    }
    return NULL;
}

/* Record one popped item. `last` holds the newest sequence number seen per
 * producer by this consumer; `strict` (a lone consumer) also demands that no
 * sequence number is skipped. */
static void record(struct stress *s, uint32_t cons, int64_t *last,
                   const struct pto_task *t, bool strict)
{
    uint64_t p = item_producer(t), k = item_seq(t);
    if (p >= NPROD || k >= PER_PRODUCER) {
        s->foreign[cons]++;
        return;
    }
    if ((int64_t)k <= last[p] || (strict && (int64_t)k != last[p] + 1))
        s->order_errors[cons]++;
    last[p] = (int64_t)k;
    pto_fetch_add(&s->seen[p * PER_PRODUCER + k], 1, pto_relaxed);
}

static void *consumer(void *arg)
{
    struct worker *w = arg;
    struct stress *s = w->s;
    int64_t last[NPROD];
    for (int p = 0; p < NPROD; p++)
        last[p] = -1;
    uint64_t polls = 0;
    pthread_barrier_wait(&s->start);
    for (;;) {
        struct pto_task *t = pto__rq_pop(&s->q);
        if (!t) {
            /* >=: a duplicated item must not keep the others waiting. */
            if (pto_load(&s->popped, pto_acquire) >= TOTAL ||
                overdue(s, &polls))
                break;
            sched_yield();
            continue;
        }
        record(s, w->id, last, t, false);
        pto_fetch_add(&s->credits, 1, pto_release);
        pto_fetch_add(&s->popped, 1, pto_release);
    }
    return NULL;
}

/* Main thread, after a push race: one consumer sees the global FIFO order,
 * so every producer's items must come out complete and in order. */
static void drain_in_order(struct stress *s)
{
    int64_t last[NPROD];
    for (int p = 0; p < NPROD; p++)
        last[p] = -1;
    struct pto_task *t;
    while ((t = pto__rq_pop(&s->q)) != NULL) {
        record(s, NCONS, last, t, true);
        pto_fetch_add(&s->popped, 1, pto_relaxed);
    }
}

static void run_threads(struct stress *s, enum stress_mode mode)
{
    pthread_t th[NPROD + NCONS];
    struct worker w[NPROD + NCONS];
    uint32_t n = 0;
    unsigned parties = (mode != POP_RACE ? NPROD : 0) +
                       (mode != PUSH_RACE ? NCONS : 0);
    REQUIRE(pthread_barrier_init(&s->start, NULL, parties) == 0);
    for (uint32_t i = 0; mode != POP_RACE && i < NPROD; i++, n++) {
        w[n] = (struct worker){s, i};
        REQUIRE(pthread_create(&th[n], NULL, producer, &w[n]) == 0);
    }
    for (uint32_t i = 0; mode != PUSH_RACE && i < NCONS; i++, n++) {
        w[n] = (struct worker){s, i};
        REQUIRE(pthread_create(&th[n], NULL, consumer, &w[n]) == 0);
    }
    for (uint32_t i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&s->start);
}

static void check_stress(struct stress *s)
{
    uint64_t missing = 0, dup = 0, order = 0, foreign = 0;
    for (uint64_t i = 0; i < TOTAL; i++) {
        uint8_t n = pto_load(&s->seen[i], pto_relaxed);
        missing += n == 0;
        dup += n > 1;
    }
    for (int c = 0; c <= NCONS; c++) {
        order += s->order_errors[c];
        foreign += s->foreign[c];
    }
    CHECK_EQ(pto_load(&s->timed_out, pto_relaxed), 0);
    CHECK_EQ(missing, 0);
    CHECK_EQ(dup, 0);
    CHECK_EQ(order, 0);
    CHECK_EQ(foreign, 0);
    CHECK_EQ(pto_load(&s->popped, pto_relaxed), TOTAL);
    CHECK(pto__rq_pop(&s->q) == NULL);
    CHECK(!pto__rq_nonempty(&s->q));
    CHECK_EQ(pto_load(&s->q.head, pto_relaxed), TOTAL);
    CHECK_EQ(pto_load(&s->q.tail, pto_relaxed), TOTAL);
}

static void run_stress(enum stress_mode mode, uint64_t capacity)
{
    struct stress *s = calloc(1, sizeof(*s));
    REQUIRE(s != NULL);
    s->seen = calloc(TOTAL, sizeof(*s->seen));
    REQUIRE(s->seen != NULL);
    REQUIRE(pto__rq_init(&s->q, capacity) == 0);
    REQUIRE(mode == MIXED || s->q.mask + 1 >= TOTAL);
    pto_store(&s->credits, (int64_t)(s->q.mask + 1), pto_relaxed);
    s->deadline_ns = now_ns() + DEADLINE_NS;

    if (mode == POP_RACE) /* interleaved, so each producer's run rises */
        for (uint64_t k = 0; k < PER_PRODUCER; k++)
            for (uint64_t p = 0; p < NPROD; p++)
                pto__rq_push(&s->q, item(p, k));
    run_threads(s, mode);
    if (mode == PUSH_RACE)
        drain_in_order(s);
    check_stress(s);

    pto__rq_fini(&s->q);
    free(s->seen);
    free(s);
}

static void test_mpmc_stress(void)
{
    /* The pure races are short; repeat them to catch rarer interleavings
     * (two cores leave few chances for two threads to collide). */
    for (int rep = 0; rep < 4; rep++) {
        /* Producers racing on tail into an empty queue; drained in order. */
        run_stress(PUSH_RACE, TOTAL);
        /* Consumers racing on head over a full queue: never idle, so the
         * claim CAS is contended all the time. */
        run_stress(POP_RACE, TOTAL);
    }
    /* Both at once through a 64-cell queue kept at most full: thousands of
     * laps, cells reused while other threads still race on them. */
    run_stress(MIXED, 64);
    /* Both at once with room for everything: no lap completes. */
    run_stress(MIXED, TOTAL);
}

int main(void)
{
    /* A broken queue can leave a push spinning forever, out of reach of the
     * stress deadline: let SIGALRM end the process (a failure, not a hang). */
    alarm(60);
    test_capacity_rounding();
    test_fifo();
    test_wrap_around();
    test_full_push_waits();
    test_mpmc_stress();
    return check_result();
}
