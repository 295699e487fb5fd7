/*
 * pto-deferred - deferred completion: a kernel hands its work to another
 * thread and returns at once; its task completes only when that thread
 * calls pto_task_complete.
 *
 * A helper thread stands in for an asynchronous engine (a DMA unit, an I/O
 * queue). It takes jobs from a small queue (a mutex and two condition
 * variables), fills the job's slice of `buf`, and signals the job's
 * completion handle. For each of --tasks slices i:
 *
 *   fill   AIV   pto_kernel_defer, queue {slice i, value i + 0.5, handle},
 *                return; the helper writes the slice later
 *   check  AIV   sum[i] = sum of slice i. AUTO tracking orders it after
 *                fill i, and fill i completes only when the helper has
 *                written the slice, so check i sees the helper's writes
 *
 * buf starts as NaN and the helper pauses before each job, so a check that
 * ran before its slice was written would see NaN. The host checks buf and
 * every sum; the helper thread is stopped and joined before exit.
 * Exit status: 0 when everything checks out, 1 on a wrong result or an
 * error, 2 on a usage error.
 */
#include <pto/pto.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum kernel_id { K_FILL = 1, K_CHECK };

#define SLICE 4096u
#define MAX_TASKS 1024u
/* Small on purpose: a full queue makes a kernel wait for the helper, which
 * is safe because the helper never waits for the runtime. */
#define QUEUE_CAP 4u
/* The helper's pause before each job: the window in which a dependent that
 * ran too early would read NaN. */
#define PAUSE_NS 500000L

typedef struct job {
    float *dst;
    uint32_t n;
    float value;
    pto_completion_t done;
} job_t;

typedef struct helper {
    pthread_mutex_t mu;
    pthread_cond_t nonempty, nonfull;
    job_t q[QUEUE_CAP]; /* q[head], ... q[head + count - 1], mod QUEUE_CAP */
    uint32_t head, count;
    bool stop;
    uint32_t errors; /* failed pto_task_complete calls; read after join */
    pthread_t thread;
} helper_t;

typedef struct demo {
    uint32_t tasks, clusters;
    float *buf; /* tasks * SLICE */
    double *sum; /* tasks */
    helper_t helper;
} demo_t;

/* ---- the helper thread -------------------------------------------------- */

/* Called by kernels, on core threads. */
static void helper_push(helper_t *h, const job_t *j)
{
    pthread_mutex_lock(&h->mu);
    while (h->count == QUEUE_CAP)
        pthread_cond_wait(&h->nonfull, &h->mu);
    h->q[(h->head + h->count) % QUEUE_CAP] = *j;
    h->count++;
    pthread_cond_signal(&h->nonempty);
    pthread_mutex_unlock(&h->mu);
}

/* False once stopped and drained. */
static bool helper_pop(helper_t *h, job_t *j)
{
    pthread_mutex_lock(&h->mu);
    while (h->count == 0 && !h->stop)
        pthread_cond_wait(&h->nonempty, &h->mu);
    bool got = h->count > 0;
    if (got) {
        *j = h->q[h->head];
        h->head = (h->head + 1) % QUEUE_CAP;
        h->count--;
        pthread_cond_signal(&h->nonfull);
    }
    pthread_mutex_unlock(&h->mu);
    return got;
}

static void *helper_main(void *arg)
{
    helper_t *h = arg;
    job_t j;
    while (helper_pop(h, &j)) {
        struct timespec ts = {0, PAUSE_NS};
        nanosleep(&ts, NULL);
        for (uint32_t i = 0; i < j.n; i++)
            j.dst[i] = j.value;
        /* Publishes the writes above: the runtime orders every dependent
         * of the task after this call. */
        if (pto_task_complete(j.done) != 0)
            h->errors++;
    }
    return NULL;
}

static int helper_start(helper_t *h)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->nonempty, NULL);
    pthread_cond_init(&h->nonfull, NULL);
    int rc = pthread_create(&h->thread, NULL, helper_main, h);
    if (rc != 0) {
        fprintf(stderr, "pto-deferred: pthread_create: %s\n", strerror(rc));
        pthread_cond_destroy(&h->nonfull);
        pthread_cond_destroy(&h->nonempty);
        pthread_mutex_destroy(&h->mu);
    }
    return rc;
}

/* Only after pto_run returned: every deferral was signalled by then, so
 * the queue is empty and the helper just finishes. */
static void helper_stop(helper_t *h)
{
    pthread_mutex_lock(&h->mu);
    h->stop = true;
    pthread_cond_signal(&h->nonempty);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->thread, NULL);
    pthread_cond_destroy(&h->nonfull);
    pthread_cond_destroy(&h->nonempty);
    pthread_mutex_destroy(&h->mu);
}

/* ---- kernels ------------------------------------------------------------ */

/* tensors: slice (OUTPUT_EXISTING, contiguous); scalar 0: the value's
 * float bits; scalar 1: address of the helper. */
static void k_fill(const pto_kernel_ctx_t *c)
{
    const pto_tensor_t *t = pto_kernel_tensor(c, 0);
    helper_t *h = (helper_t *)(uintptr_t)pto_kernel_scalar(c, 1);
    uint32_t bits = (uint32_t)pto_kernel_scalar(c, 0);
    job_t j = {.dst = pto_tensor_data(t),
               .n = (uint32_t)pto_tensor_numel(t),
               .done = pto_kernel_defer(c)};
    /* An invalid handle (rt NULL) means the deferral was refused and the
     * task already failed: there is nothing to hand over. */
    if (j.done.rt == NULL)
        return;
    memcpy(&j.value, &bits, sizeof j.value);
    helper_push(h, &j);
}

/* tensors: slice (INPUT), sum[i] float64 (one element). */
static void k_check(const pto_kernel_ctx_t *c)
{
    const pto_tensor_t *t = pto_kernel_tensor(c, 0);
    const float *p = pto_tensor_data(t);
    double *sum = pto_tensor_data(pto_kernel_tensor(c, 1));
    double acc = 0.0;
    for (uint64_t i = 0; i < pto_tensor_numel(t); i++)
        acc += p[i];
    *sum = acc;
}

/* ---- orchestration ------------------------------------------------------ */

static float value_of(uint32_t i)
{
    return (float)i + 0.5f; /* exact, and so is SLICE times it */
}

/* A failed view or submit is sticky in the run and pto_run returns it. */
static void orch_main(pto_orch_t *o, void *user)
{
    demo_t *d = user;
    uint32_t n[1] = {d->tasks * SLICE}, m[1] = {d->tasks};
    pto_tensor_t buf = pto_tensor_external(d->buf, n, 1, PTO_FLOAT32);
    pto_tensor_t sum = pto_tensor_external(d->sum, m, 1, PTO_FLOAT64);
    for (uint32_t i = 0; i < d->tasks && pto_orch_status(o) == 0; i++) {
        uint32_t off[1] = {i * SLICE}, len[1] = {SLICE};
        uint32_t at[1] = {i}, one[1] = {1};
        float v = value_of(i);
        uint32_t bits;
        pto_tensor_t slice, slot;
        pto_args_t a;
        memcpy(&bits, &v, sizeof bits);
        (void)pto_tensor_view(&buf, off, len, &slice);
        (void)pto_tensor_view(&sum, at, one, &slot);

        pto_args_init(&a);
        pto_args_output_existing(&a, &slice);
        pto_args_scalar(&a, bits);
        pto_args_scalar(&a, (uint64_t)(uintptr_t)&d->helper);
        (void)pto_submit_aiv(o, K_FILL, &a);

        pto_args_init(&a);
        pto_args_input(&a, &slice);
        pto_args_output_existing(&a, &slot);
        (void)pto_submit_aiv(o, K_CHECK, &a);
    }
}

/* ---- host side ---------------------------------------------------------- */

static void prepare(demo_t *d)
{
    for (uint64_t i = 0; i < (uint64_t)d->tasks * SLICE; i++)
        d->buf[i] = NAN;
    for (uint32_t i = 0; i < d->tasks; i++)
        d->sum[i] = NAN;
}

/* Prints the first few problems; returns 1 when there were none. */
static int check(const demo_t *d)
{
    uint32_t bad = 0;
    for (uint32_t i = 0; i < d->tasks; i++) {
        float v = value_of(i);
        double want = (double)v * SLICE;
        uint32_t wrong = 0;
        for (uint32_t k = 0; k < SLICE; k++)
            wrong += d->buf[(uint64_t)i * SLICE + k] != v;
        if (wrong == 0 && d->sum[i] == want)
            continue;
        if (bad++ < 5)
            printf("  MISMATCH: slice %" PRIu32 ": %" PRIu32 " elements "
                   "wrong, sum %.17g, expected %.17g\n", i, wrong,
                   d->sum[i], want);
    }
    if (d->helper.errors != 0) {
        printf("  MISMATCH: %" PRIu32 " pto_task_complete calls failed\n",
               d->helper.errors);
        bad++;
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
        fprintf(stderr, "pto-deferred: pto_runtime_create: %s: %s\n",
                pto_strerror(rc), pto_last_error(NULL));
        return rc;
    }
    if ((rc = pto_kernel_register(*rt, K_FILL, k_fill, "fill")) != 0 ||
        (rc = pto_kernel_register(*rt, K_CHECK, k_check, "check")) != 0)
        fprintf(stderr, "pto-deferred: pto_kernel_register: %s: %s\n",
                pto_strerror(rc), pto_last_error(*rt));
    return rc;
}

/* The helper runs only around pto_run; it is joined on every path. */
static int run(demo_t *d, pto_runtime_t *rt)
{
    printf("pto-deferred: %" PRIu32 " deferred fills of %u floats, %" PRIu32
           " clusters\n", d->tasks, SLICE, pto_runtime_config(rt)->clusters);
    prepare(d);
    if (helper_start(&d->helper) != 0)
        return 0;
    int rc = pto_run(rt, orch_main, d);
    helper_stop(&d->helper);
    if (rc != 0) {
        printf("  pto_run failed: %s (%s): %s\n", pto_strerror(rc),
               pto_err_name(rc), pto_last_error(rt));
        return 0;
    }
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
    d->tasks = 16;
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = -1;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: pto-deferred [--tasks N] [--clusters N]\n"
                   "  --tasks N     deferred fills, 1..%u (default 16)\n"
                   "  --clusters N  simulated clusters, 1..%d (default 4, "
                   "or PTO_CLUSTERS)\n", MAX_TASKS, PTO_MAX_CLUSTERS);
            return 1;
        } else if (strcmp(argv[i], "--tasks") == 0) {
            rc = parse_u32(v, 1, MAX_TASKS, &d->tasks);
        } else if (strcmp(argv[i], "--clusters") == 0) {
            rc = parse_u32(v, 1, PTO_MAX_CLUSTERS, &d->clusters);
        }
        if (rc != 0) {
            fprintf(stderr, "pto-deferred: bad option or value: %s%s%s (try "
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
    d.buf = malloc((size_t)d.tasks * SLICE * sizeof *d.buf);
    d.sum = malloc((size_t)d.tasks * sizeof *d.sum);
    if (d.buf == NULL || d.sum == NULL)
        fprintf(stderr, "pto-deferred: out of memory\n");
    else if (setup(&d, &rt) == 0)
        ok = run(&d, rt);
    pto_runtime_destroy(rt);
    free(d.buf);
    free(d.sum);
    puts(ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
