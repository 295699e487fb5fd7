/*
 * fuzz_diff.c - the differential fuzzer's driver: random programs from
 * seeds, each compared against sequential execution (fuzz_program.c).
 *
 *   fuzz_diff [--programs N] [--seconds S] [--seed FIRST]
 *
 * Runs seeds FIRST, FIRST+1, ... until N programs ran or S seconds passed
 * (whichever comes first; defaults 2000 programs, no time limit). Any
 * difference fails and prints the seed; `fuzz_diff --seed K --programs 1`
 * reproduces it. The long mode is `fuzz_diff --programs 100000`.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "fuzz_program.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    uint64_t programs = 2000, first = 1;
    double seconds = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--programs") == 0)
            programs = strtoull(argv[i + 1], NULL, 0);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = strtod(argv[i + 1], NULL);
        else if (strcmp(argv[i], "--seed") == 0)
            first = strtoull(argv[i + 1], NULL, 0);
        else {
            fprintf(stderr, "usage: %s [--programs N] [--seconds S] "
                            "[--seed FIRST]\n", argv[0]);
            return 2;
        }
    }
    double t0 = now_s();
    uint64_t ran = 0;
    for (uint64_t s = first; ran < programs; s++, ran++) {
        if (seconds > 0 && now_s() - t0 > seconds)
            break;
        char why[1024];
        int rc = fuzz_run_seed(s, why, sizeof(why));
        if (rc != 0)
            fprintf(stderr, "fuzz_diff: seed %llu differs: %s\n"
                            "  reproduce: fuzz_diff --seed %llu --programs 1\n",
                    (unsigned long long)s, why, (unsigned long long)s);
        CHECK(rc == 0);
    }
    printf("fuzz_diff: %llu programs from seed %llu in %.1f s\n",
           (unsigned long long)ran, (unsigned long long)first, now_s() - t0);
    return check_result();
}
