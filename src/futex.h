/*
 * futex.h - park and wake on a 32-bit word (Linux futex, private).
 *
 * pto_futex_wait(w, expected, timeout_ns) sleeps only while *w == expected
 * (checked atomically by the kernel), so a waker that changes *w before
 * calling pto_futex_wake can never be missed. Spurious returns happen; every
 * caller re-checks its condition in a loop.
 */
#ifndef PTO_FUTEX_H
#define PTO_FUTEX_H

#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "atomics.h"

/* timeout_ns 0 means wait without a time limit. */
static inline void pto_futex_wait(_Atomic uint32_t *w, uint32_t expected,
                                  uint64_t timeout_ns)
{
    struct timespec ts, *tsp = NULL;
    if (timeout_ns) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000u);
        ts.tv_nsec = (long)(timeout_ns % 1000000000u);
        tsp = &ts;
    }
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT_PRIVATE, expected, tsp,
            NULL, 0);
}

static inline void pto_futex_wake(_Atomic uint32_t *w, int n)
{
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

/* Monotonic nanoseconds. */
static inline uint64_t pto_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif /* PTO_FUTEX_H */
