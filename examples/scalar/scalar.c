/*
 * pto-scalar - data-dependent control flow: the orchestration reads a value
 * a task computed, and decides from it what to submit next.
 *
 *   count   AIV     len[0] = how many of in[0..n) are >= 50
 *                   (len: a runtime-created int32 tensor, in an inner
 *                   scope that ends once k is read)
 *   orchestration   k = pto_tensor_get(len[0]): waits for count
 *   fill    AIV     k tasks; task i writes out[i] = i * i + 1
 *   total   AIV     total[0] = out[0] + ... + out[k-1]: reads what the k
 *                   fills wrote
 *   orchestration   pto_tensor_set(out[0] = 1000): waits for fill 0 (an
 *                   earlier writer) and for the total (an earlier reader)
 *   total   AIV     total[1] = the same sum, which now sees the 1000
 *
 * count and total take a couple of milliseconds on purpose: a get that did
 * not wait would read len before count wrote it, and a set that did not
 * wait would change out[0] under the first total.
 *
 * The host checks k, out, and both totals. Exit status: 0 when everything
 * checks out, 1 on a wrong result or an error, 2 on a usage error.
 */
#include <pto/pto.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum kernel_id { K_COUNT = 1, K_FILL, K_TOTAL };

#define THRESHOLD 50
#define NEW_VALUE 1000
/* out[i] = i * i + 1 must fit in int32 and the totals in int64. */
#define MAX_N 10000u
/* Long enough to lose any race with the orchestrator's next call. */
#define SLOW_NS 2000000L

typedef struct demo {
    uint32_t n, clusters;
    int32_t *in, *out;
    int64_t total[2];
    int32_t k;   /* what the orchestration read from len */
    int bad_len; /* the count task produced a length out of range */
} demo_t;

static void slow_down(void)
{
    struct timespec ts = {0, SLOW_NS};
    nanosleep(&ts, NULL);
}

/* ---- kernels ------------------------------------------------------------ */

/* tensors: in [n] int32, len [1] int32 (OUTPUT); scalar 0: threshold. */
static void k_count(const pto_kernel_ctx_t *c)
{
    const pto_tensor_t *in = pto_kernel_tensor(c, 0);
    const int32_t *p = pto_tensor_data(in);
    int32_t *len = pto_tensor_data(pto_kernel_tensor(c, 1));
    int64_t threshold = (int64_t)pto_kernel_scalar(c, 0);
    int32_t k = 0;
    slow_down();
    for (uint64_t i = 0; i < pto_tensor_numel(in); i++)
        k += p[i] >= threshold;
    *len = k;
}

/* tensors: out[i] (a one-element view); scalar 0: i. */
static void k_fill(const pto_kernel_ctx_t *c)
{
    int32_t *out = pto_tensor_data(pto_kernel_tensor(c, 0));
    int32_t i = (int32_t)pto_kernel_scalar(c, 0);
    *out = i * i + 1;
}

/* tensors: out[0..k) (INPUT), total[j] int64 (one element). */
static void k_total(const pto_kernel_ctx_t *c)
{
    const pto_tensor_t *v = pto_kernel_tensor(c, 0);
    int64_t *total = pto_tensor_data(pto_kernel_tensor(c, 1));
    const int32_t *p = pto_tensor_data(v);
    int64_t sum = 0;
    slow_down();
    for (uint64_t i = 0; i < pto_tensor_numel(v); i++)
        sum += p[i];
    *total = sum;
}

/* ---- orchestration ------------------------------------------------------ */

/* Submits count; *len is its runtime-created output. */
static int submit_count(pto_orch_t *o, const pto_tensor_t *in,
                        pto_tensor_t *len)
{
    uint32_t one[1] = {1};
    pto_create_info_t ci = pto_create_info(one, 1, PTO_INT32);
    pto_args_t a;
    pto_args_init(&a);
    pto_args_input(&a, in);
    pto_args_output(&a, &ci);
    pto_args_scalar(&a, THRESHOLD);
    if (pto_task_id_is_none(pto_submit_aiv(o, K_COUNT, &a)))
        return pto_orch_status(o);
    /* The result lives in `a`, which ends here: keep a copy. */
    *len = *pto_args_result(&a, 0);
    return 0;
}

/* A view that fails is an invalid tensor, and the submit given it fails the
 * run with a message naming the argument: no separate check needed. */
static int submit_fill(pto_orch_t *o, const pto_tensor_t *out, uint32_t i)
{
    uint32_t off[1] = {i}, one[1] = {1};
    pto_tensor_t elem;
    pto_args_t a;
    (void)pto_tensor_view(out, off, one, &elem);
    pto_args_init(&a);
    pto_args_output_existing(&a, &elem);
    pto_args_scalar(&a, i);
    (void)pto_submit_aiv(o, K_FILL, &a);
    return pto_orch_status(o);
}

/* total[j] = sum of out[0..k). */
static int submit_total(pto_orch_t *o, const pto_tensor_t *out, uint32_t k,
                        const pto_tensor_t *total, uint32_t j)
{
    uint32_t zero[1] = {0}, len[1] = {k}, off[1] = {j}, one[1] = {1};
    pto_tensor_t head, slot;
    pto_args_t a;
    (void)pto_tensor_view(out, zero, len, &head);
    (void)pto_tensor_view(total, off, one, &slot);
    pto_args_init(&a);
    pto_args_input(&a, &head);
    pto_args_output_existing(&a, &slot);
    (void)pto_submit_aiv(o, K_TOTAL, &a);
    return pto_orch_status(o);
}

/* Errors of the pto_ calls are sticky in the run and pto_run returns them;
 * the early returns only stop submitting. */
static void orch_main(pto_orch_t *o, void *user)
{
    demo_t *d = user;
    uint32_t n[1] = {d->n}, two[1] = {2}, first[1] = {0};
    pto_tensor_t in = pto_tensor_external(d->in, n, 1, PTO_INT32);
    pto_tensor_t out = pto_tensor_external(d->out, n, 1, PTO_INT32);
    pto_tensor_t total = pto_tensor_external(d->total, two, 1, PTO_INT64);
    int32_t k = -1, v = NEW_VALUE;

    /* len is needed only until k is read. In an inner scope its buffer,
     * and the count task's ring slot with it, go back as soon as the scope
     * ends; held by the outer scope, the slot would pin the task ring and
     * a large k would fail with PTO_EDEADLOCK. */
    PTO_SCOPE(o, PTO_SCOPE_AUTO) {
        pto_tensor_t len;
        if (submit_count(o, &in, &len) == 0)
            (void)pto_tensor_get(o, &len, first, &k);
    }
    if (pto_orch_status(o) != 0)
        return;
    d->k = k;
    /* A task's output is data: check it before it drives the loop. */
    if (k < 1 || (uint32_t)k > d->n) {
        d->bad_len = 1;
        return;
    }
    for (uint32_t i = 0; i < (uint32_t)k; i++)
        if (submit_fill(o, &out, i) != 0)
            return;
    if (submit_total(o, &out, (uint32_t)k, &total, 0) != 0 ||
        pto_tensor_set(o, &out, first, &v) != 0)
        return;
    (void)submit_total(o, &out, (uint32_t)k, &total, 1);
}

/* ---- host side ---------------------------------------------------------- */

/* in[0] = 50, so at least one entry passes the threshold. */
static void prepare(demo_t *d)
{
    for (uint32_t i = 0; i < d->n; i++) {
        d->in[i] = (int32_t)((i * 37u + 50u) % 100u);
        d->out[i] = -1;
    }
    d->total[0] = d->total[1] = INT64_MIN;
    d->k = -1;
    d->bad_len = 0;
}

/* Prints every problem; returns 1 when there were none. */
static int check(const demo_t *d)
{
    int32_t want_k = 0;
    int64_t want_total = 0;
    uint32_t bad_out = 0;
    int ok = 1;
    for (uint32_t i = 0; i < d->n; i++)
        want_k += d->in[i] >= THRESHOLD;
    if (d->k != want_k) {
        printf("  MISMATCH: the orchestration read k = %" PRId32
               ", expected %" PRId32 "\n", d->k, want_k);
        return 0;
    }
    for (uint32_t i = 0; i < d->n; i++) {
        int32_t want = i == 0                  ? NEW_VALUE
                       : i < (uint32_t)want_k ? (int32_t)(i * i + 1)
                                              : -1;
        bad_out += d->out[i] != want;
        if (i < (uint32_t)want_k)
            want_total += (int64_t)i * i + 1;
    }
    if (bad_out != 0) {
        printf("  MISMATCH: %" PRIu32 " elements of out wrong\n", bad_out);
        ok = 0;
    }
    if (d->total[0] != want_total) {
        printf("  MISMATCH: first total %" PRId64 ", expected %" PRId64
               " (did the set overtake it?)\n", d->total[0], want_total);
        ok = 0;
    }
    want_total += NEW_VALUE - 1; /* out[0] went from 1 to NEW_VALUE */
    if (d->total[1] != want_total) {
        printf("  MISMATCH: second total %" PRId64 ", expected %" PRId64
               "\n", d->total[1], want_total);
        ok = 0;
    }
    return ok;
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
        fprintf(stderr, "pto-scalar: pto_runtime_create: %s: %s\n",
                pto_strerror(rc), pto_last_error(NULL));
        return rc;
    }
    if ((rc = pto_kernel_register(*rt, K_COUNT, k_count, "count")) != 0 ||
        (rc = pto_kernel_register(*rt, K_FILL, k_fill, "fill")) != 0 ||
        (rc = pto_kernel_register(*rt, K_TOTAL, k_total, "total")) != 0)
        fprintf(stderr, "pto-scalar: pto_kernel_register: %s: %s\n",
                pto_strerror(rc), pto_last_error(*rt));
    return rc;
}

static int run(demo_t *d, pto_runtime_t *rt)
{
    pto_run_stats_t st;
    printf("pto-scalar: n %" PRIu32 ", %" PRIu32 " clusters\n", d->n,
           pto_runtime_config(rt)->clusters);
    prepare(d);
    int rc = pto_run(rt, orch_main, d);
    if (rc != 0) {
        printf("  pto_run failed: %s (%s): %s\n", pto_strerror(rc),
               pto_err_name(rc), pto_last_error(rt));
        return 0;
    }
    if (d->bad_len) {
        printf("  MISMATCH: count produced k = %" PRId32 ", outside 1..%"
               PRIu32 "\n", d->k, d->n);
        return 0;
    }
    if (pto_run_stats(rt, &st) == 0)
        printf("  k = %" PRId32 ": %" PRIu64 " tasks (count, %" PRId32
               " fills, 2 totals)\n", d->k, st.tasks, d->k);
    return check(d);
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
    memset(d, 0, sizeof *d);
    d->n = 100;
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = -1;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: pto-scalar [--n N] [--clusters N]\n"
                   "  --n N         input length, 1..%u (default 100)\n"
                   "  --clusters N  simulated clusters, 1..%d (default 4, "
                   "or PTO_CLUSTERS)\n", MAX_N, PTO_MAX_CLUSTERS);
            return 1;
        } else if (strcmp(argv[i], "--n") == 0) {
            rc = parse_u32(v, 1, MAX_N, &d->n);
        } else if (strcmp(argv[i], "--clusters") == 0) {
            rc = parse_u32(v, 1, PTO_MAX_CLUSTERS, &d->clusters);
        }
        if (rc != 0) {
            fprintf(stderr, "pto-scalar: bad option or value: %s%s%s (try "
                    "--help)\n", argv[i], v ? " " : "", v ? v : "");
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    demo_t d;
    pto_runtime_t *rt = NULL;
    int ok = 0;
    int rc = parse_options(argc, argv, &d);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    d.in = malloc((size_t)d.n * sizeof *d.in);
    d.out = malloc((size_t)d.n * sizeof *d.out);
    if (d.in == NULL || d.out == NULL)
        fprintf(stderr, "pto-scalar: out of memory\n");
    else if (setup(&d, &rt) == 0)
        ok = run(&d, rt);
    pto_runtime_destroy(rt);
    free(d.in);
    free(d.out);
    puts(ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
