/*
 * pto-spmd - SPMD tasks: one submit that runs as many blocks.
 *
 * What it shows, in one pto_run:
 *   scale  AIV, --blocks blocks   x *= 2.5 in place; block b of n takes the
 *                                 contiguous rows [rows*b/n, rows*(b+1)/n)
 *                                 and writes b into owner[row] for them;
 *                                 more blocks than AIV cores run in waves
 *   sum    AIV, one block         reads all of x: AUTO tracking orders it
 *                                 after the whole SPMD task (every block),
 *                                 no explicit dep needed
 *   meet   AIV, one block per     PTO_SPMD_SYNC_START: each block counts
 *          AIV core, sync start   itself in and waits (bounded) for all
 *                                 the others, which only works if they
 *                                 really run at the same time
 * and in a second pto_run, a sync-start task one block wider than the AIV
 * cores: the submit fails with PTO_ESYNCSTART and pto_run returns it.
 *
 * The host then checks every element of x, the owner of every row, the sum
 * and the meeting count. Exit status: 0 when everything checks out, 1 on a
 * wrong result or an unexpected error, 2 on a usage error.
 */
#include <pto/pto.h>

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum kernel_id { K_SCALE = 1, K_SUM, K_MEET };

#define ROWS 997u /* a prime: most block counts split it unevenly */
#define COLS 64u
#define SCALE 2.5f /* small integers times 2.5 stay exact in float */
/* A meeting that takes this long means some block never started: fail
 * instead of hanging (blocks arrive within microseconds when it works). */
#define MEET_TIMEOUT_NS 5000000000ull

/* The meeting point of the sync-start blocks. Kernels receive tensors and
 * scalars only, so host state that is not tensor data travels as its
 * address in a scalar. */
typedef struct meet {
    _Atomic uint32_t arrived;
} meet_t;

typedef struct demo {
    uint32_t blocks, clusters, sync_blocks;
    float x[ROWS][COLS];
    int32_t owner[ROWS];
    double sum;
    meet_t meet;
} demo_t;

/* Rows [lo, hi) of block b out of n; kernels and the host check agree on
 * the split by sharing this function. */
static void block_rows(uint32_t rows, uint32_t b, uint32_t n, uint32_t *lo,
                       uint32_t *hi)
{
    *lo = (uint32_t)((uint64_t)rows * b / n);
    *hi = (uint32_t)((uint64_t)rows * (b + 1) / n);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- kernels ------------------------------------------------------------ */

static void pause_us(uint32_t us)
{
    struct timespec ts = {0, (long)us * 1000L};
    nanosleep(&ts, NULL);
}

/* tensors: x [rows, cols] float32 (INOUT), owner [rows] int32;
 * scalar 0: the factor's float bits. */
static void k_scale(const pto_kernel_ctx_t *c)
{
    const pto_tensor_t *x = pto_kernel_tensor(c, 0);
    int32_t *owner = pto_tensor_data(pto_kernel_tensor(c, 1));
    uint32_t bits = (uint32_t)pto_kernel_scalar(c, 0);
    uint32_t b = pto_kernel_block_index(c), lo, hi;
    float s;
    memcpy(&s, &bits, sizeof s);
    block_rows(pto_tensor_shape(x, 0), b, pto_kernel_block_num(c), &lo, &hi);
    /* Blocks of unequal length finish in a mixed order, so a dependent
     * started before the last of them finished would find rows still
     * unscaled: this is what gives the sum check its teeth. */
    if (lo < hi)
        pause_us(b % 8u * 200u);
    for (uint32_t r = lo; r < hi; r++) {
        float *row = (float *)pto_tensor_data(x) + r * pto_tensor_stride(x, 0);
        for (uint32_t j = 0; j < pto_tensor_shape(x, 1); j++)
            row[j] *= s;
        owner[r] = (int32_t)b;
    }
}

/* tensors: x (INPUT), sum [1] float64. Sums in row-major order, so the host
 * can repeat the exact same additions. */
static void k_sum(const pto_kernel_ctx_t *c)
{
    const pto_tensor_t *x = pto_kernel_tensor(c, 0);
    double *sum = pto_tensor_data(pto_kernel_tensor(c, 1));
    const float *p = pto_tensor_data(x);
    double acc = 0.0;
    for (uint64_t i = 0; i < pto_tensor_numel(x); i++)
        acc += p[i];
    *sum = acc;
}

/* scalar 0: address of a meet_t. Without PTO_SPMD_SYNC_START the runtime
 * may run the blocks in waves: the first blocks would wait here for blocks
 * that cannot start until they return, and the wait would time out. */
static void k_meet(const pto_kernel_ctx_t *c)
{
    meet_t *m = (meet_t *)(uintptr_t)pto_kernel_scalar(c, 0);
    uint32_t n = pto_kernel_block_num(c);
    uint64_t t0 = now_ns();
    /* relaxed: the counter publishes no other data. */
    atomic_fetch_add_explicit(&m->arrived, 1, memory_order_relaxed);
    while (atomic_load_explicit(&m->arrived, memory_order_relaxed) < n) {
        if (now_ns() - t0 > MEET_TIMEOUT_NS) {
            char msg[96];
            snprintf(msg, sizeof msg, "only %u of %u blocks started",
                     atomic_load_explicit(&m->arrived, memory_order_relaxed),
                     n);
            pto_kernel_fail(c, msg);
            return;
        }
        sched_yield(); /* more core threads than CPUs: let the others in */
    }
}

/* ---- orchestrations ----------------------------------------------------- */

/* A failed submit makes the run's status sticky and pto_run returns it, so
 * the ids are not checked here. */
static void orch_main(pto_orch_t *o, void *user)
{
    demo_t *d = user;
    uint32_t shape[2] = {ROWS, COLS}, rows[1] = {ROWS}, one[1] = {1};
    pto_tensor_t x = pto_tensor_external(d->x, shape, 2, PTO_FLOAT32);
    pto_tensor_t owner = pto_tensor_external(d->owner, rows, 1, PTO_INT32);
    pto_tensor_t sum = pto_tensor_external(&d->sum, one, 1, PTO_FLOAT64);
    float s = SCALE;
    uint32_t bits;
    pto_args_t a;
    memcpy(&bits, &s, sizeof bits);

    /* The args describe what the task as a whole touches; the blocks split
     * it among themselves. */
    pto_args_init(&a);
    pto_args_inout(&a, &x);
    pto_args_output_existing(&a, &owner);
    pto_args_scalar(&a, bits);
    pto_args_spmd(&a, d->blocks, 0);
    (void)pto_submit_aiv(o, K_SCALE, &a);

    pto_args_init(&a);
    pto_args_input(&a, &x);
    pto_args_output_existing(&a, &sum);
    (void)pto_submit_aiv(o, K_SUM, &a);

    pto_args_init(&a);
    pto_args_scalar(&a, (uint64_t)(uintptr_t)&d->meet);
    pto_args_spmd(&a, d->sync_blocks, PTO_SPMD_SYNC_START);
    (void)pto_submit_aiv(o, K_MEET, &a);
}

/* One block more than there are AIV cores to start together. */
static void orch_too_wide(pto_orch_t *o, void *user)
{
    demo_t *d = user;
    pto_args_t a;
    pto_args_init(&a);
    pto_args_scalar(&a, (uint64_t)(uintptr_t)&d->meet);
    pto_args_spmd(&a, d->sync_blocks + 1, PTO_SPMD_SYNC_START);
    (void)pto_submit_aiv(o, K_MEET, &a);
}

/* ---- host side ---------------------------------------------------------- */

/* Small integers, so x * SCALE and every partial sum are exact. */
static float initial(uint32_t r, uint32_t j)
{
    return (float)((r * 7u + j * 3u) % 17u) - 8.0f;
}

static void prepare(demo_t *d)
{
    for (uint32_t r = 0; r < ROWS; r++) {
        for (uint32_t j = 0; j < COLS; j++)
            d->x[r][j] = initial(r, j);
        d->owner[r] = -1;
    }
    d->sum = NAN;
    atomic_init(&d->meet.arrived, 0);
}

/* Prints the first few problems; returns 1 when there were none. */
static int check(const demo_t *d)
{
    uint32_t bad = 0, met = atomic_load(&d->meet.arrived);
    double want_sum = 0.0;
    for (uint32_t b = 0; b < d->blocks; b++) {
        uint32_t lo, hi;
        block_rows(ROWS, b, d->blocks, &lo, &hi);
        for (uint32_t r = lo; r < hi; r++) {
            if (d->owner[r] == (int32_t)b)
                continue;
            if (bad++ < 5)
                printf("  MISMATCH: row %u written by block %d, expected "
                       "%u\n", r, d->owner[r], b);
        }
    }
    for (uint32_t r = 0; r < ROWS; r++) {
        for (uint32_t j = 0; j < COLS; j++) {
            float want = initial(r, j) * SCALE;
            want_sum += want;
            if (d->x[r][j] == want)
                continue;
            if (bad++ < 5)
                printf("  MISMATCH: x[%u][%u] = %g, expected %g\n", r, j,
                       (double)d->x[r][j], (double)want);
        }
    }
    if (d->sum != want_sum) {
        bad++;
        printf("  MISMATCH: sum %.17g, expected %.17g (did it run before "
               "every block finished?)\n", d->sum, want_sum);
    }
    if (met != d->sync_blocks) {
        bad++;
        printf("  MISMATCH: %u blocks met, expected %u\n", met,
               d->sync_blocks);
    }
    return bad == 0;
}

static int setup(const demo_t *d, pto_runtime_t **rt)
{
    pto_config_t cfg;
    int rc;
    pto_config_init(&cfg);
    if (d->clusters != 0)
        cfg.clusters = d->clusters;
    rc = pto_runtime_create(&cfg, rt);
    if (rc != 0) {
        fprintf(stderr, "pto-spmd: pto_runtime_create: %s: %s\n",
                pto_strerror(rc), pto_last_error(NULL));
        return rc;
    }
    if ((rc = pto_kernel_register(*rt, K_SCALE, k_scale, "scale")) != 0 ||
        (rc = pto_kernel_register(*rt, K_SUM, k_sum, "sum")) != 0 ||
        (rc = pto_kernel_register(*rt, K_MEET, k_meet, "meet")) != 0)
        fprintf(stderr, "pto-spmd: pto_kernel_register: %s: %s\n",
                pto_strerror(rc), pto_last_error(*rt));
    return rc;
}

static int run(demo_t *d, pto_runtime_t *rt)
{
    /* Every AIV core: the widest sync-start AIV task the machine allows. */
    d->sync_blocks = 2 * pto_runtime_config(rt)->clusters;
    printf("pto-spmd: [%u, %u] float32, %u scale blocks, %u clusters, "
           "%u sync-start blocks\n", ROWS, COLS, d->blocks,
           pto_runtime_config(rt)->clusters, d->sync_blocks);
    prepare(d);
    int rc = pto_run(rt, orch_main, d);
    if (rc != 0) {
        printf("  pto_run failed: %s (%s): %s\n", pto_strerror(rc),
               pto_err_name(rc), pto_last_error(rt));
        return 0;
    }
    int ok = check(d);
    printf("  scale, sum and sync-start meeting: %s\n", ok ? "ok" : "WRONG");

    rc = pto_run(rt, orch_too_wide, d);
    printf("  %u sync-start blocks: %s: %s\n", d->sync_blocks + 1,
           pto_err_name(rc), pto_last_error(rt));
    if (rc != PTO_ESYNCSTART) {
        printf("  MISMATCH: expected PTO_ESYNCSTART\n");
        ok = 0;
    }
    return ok;
}

/* ---- options ------------------------------------------------------------ */

static int parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end;
    unsigned long long v;
    if (s == NULL || *s < '0' || *s > '9')
        return -1; /* strtoull would accept a sign or blanks */
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* Returns 0 to run, 1 after --help, -1 on a usage error. */
static int parse_options(int argc, char **argv, demo_t *d)
{
    d->blocks = 8;
    d->clusters = 0; /* the default, or PTO_CLUSTERS */
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = -1;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: pto-spmd [--blocks N] [--clusters N]\n"
                   "  --blocks N    blocks of the scale task, 1..65536 "
                   "(default 8)\n"
                   "  --clusters N  simulated clusters, 1..%d (default 4, "
                   "or PTO_CLUSTERS)\n", PTO_MAX_CLUSTERS);
            return 1;
        } else if (strcmp(argv[i], "--blocks") == 0) {
            rc = parse_u32(v, 1, 65536, &d->blocks);
        } else if (strcmp(argv[i], "--clusters") == 0) {
            rc = parse_u32(v, 1, PTO_MAX_CLUSTERS, &d->clusters);
        }
        if (rc != 0) {
            fprintf(stderr, "pto-spmd: bad option or value: %s%s%s (try "
                    "--help)\n", argv[i], v ? " " : "", v ? v : "");
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    pto_runtime_t *rt = NULL;
    demo_t *d = calloc(1, sizeof *d); /* ~260 KB: not on the stack */
    int ok = 0, rc;
    if (d == NULL) {
        fprintf(stderr, "pto-spmd: out of memory\n");
        return 1;
    }
    rc = parse_options(argc, argv, d);
    if (rc != 0) {
        free(d);
        return rc > 0 ? 0 : 2;
    }
    if (setup(d, &rt) == 0)
        ok = run(d, rt);
    pto_runtime_destroy(rt);
    free(d);
    puts(ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
