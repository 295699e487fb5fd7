/*
 * debug.h - build knobs and the race-window widener.
 *
 * Knobs are always defined, as 0 or 1, and used in plain `if`s so the code
 * they guard always compiles (-Wundef catches a misspelt one):
 *
 *   PTO_DEBUG_YIELD   1: pto__debug_yield() sometimes yields the CPU or
 *                     sleeps for a few microseconds. It sits on the
 *                     scheduler's and orchestrator's hot paths, between the
 *                     steps of each protocol (wiring, completion, release,
 *                     retirement, gang claims), so the interleavings that
 *                     are rare on an idle machine happen all the time under
 *                     the tests and ThreadSanitizer. CMake option
 *                     PTO_DEBUG_YIELD; never on in a release build.
 *
 * The random state is thread-local: no shared state, no effect on the
 * runtime's own synchronisation.
 */
#ifndef PTO_SRC_DEBUG_H
#define PTO_SRC_DEBUG_H

#include <sched.h>
#include <stdint.h>
#include <time.h>

#ifndef PTO_DEBUG_YIELD
#define PTO_DEBUG_YIELD 0
#endif

/* 1 in 8 calls yields, 1 in 64 sleeps 1..16 us: often enough to reorder
 * threads, rare enough that the stress tests still finish in seconds. */
static inline void pto__debug_yield(void)
{
    if (!PTO_DEBUG_YIELD)
        return;
    static _Thread_local uint64_t x;
    if (x == 0)
        x = (uint64_t)(uintptr_t)&x | 1u;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    if ((x & 63u) == 0) {
        struct timespec ts = {0, (long)(1000u * (1u + ((x >> 8) & 15u)))};
        nanosleep(&ts, NULL);
    } else if ((x & 7u) == 0) {
        sched_yield();
    }
}

#endif /* PTO_SRC_DEBUG_H */
