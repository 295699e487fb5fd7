/*
 * check.h - the tiny assertion kit shared by the tests.
 *
 * CHECK(cond) and CHECK_EQ(a, b) report file:line and keep going (so one run
 * shows every failure); a test's main returns check_result(), which prints
 * "N passed, N failed" and is non-zero when anything failed.
 */
#ifndef PTO_TESTS_CHECK_H
#define PTO_TESTS_CHECK_H

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

/* Atomic: kernels and helper threads may CHECK too. */
static _Atomic unsigned long check_pass_count, check_fail_count;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (cond) {                                                            \
            check_pass_count++;                                                \
        } else {                                                               \
            check_fail_count++;                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,   \
                    #cond);                                                    \
        }                                                                      \
    } while (0)

#define CHECK_EQ(a, b)                                                         \
    do {                                                                       \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);        \
        if (check_a_ == check_b_) {                                            \
            check_pass_count++;                                                \
        } else {                                                               \
            check_fail_count++;                                                \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld vs %lld)\n",\
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);           \
        }                                                                      \
    } while (0)

/* Stop the test now: for states where continuing would only crash. */
#define REQUIRE(cond)                                                          \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                    \
            exit(1);                                                           \
        }                                                                      \
        check_pass_count++;                                                    \
    } while (0)

static inline int check_result(void)
{
    printf("%lu passed, %lu failed\n", (unsigned long)check_pass_count,
           (unsigned long)check_fail_count);
    return check_fail_count ? 1 : 0;
}

#endif /* PTO_TESTS_CHECK_H */
