/*
 * pto-vector - an element-wise tile pipeline on pto-runtime, checked against
 * a sequential golden.
 *
 * Inputs x, y, z (n floats) are split into tiles of `tile` elements (the last
 * tile may be shorter). Per tile, inside its own AUTO scope so the
 * intermediate `tmp` is released as soon as the tile is done:
 *
 *   add      AIV    tmp = x + y        tmp: runtime-created OUTPUT
 *   scale    AIC    tmp = tmp * s      INOUT; s: a double passed as its bits
 *   mul      AIV    r   = tmp * z      OUTPUT_EXISTING: a tile of r
 *   bias     mixed  r   = r + b        AIC, AIV0 and AIV1 take a third each
 *   to_bf16  AIV    h   = bf16(r)      OUTPUT_EXISTING: a tile of h (uint16)
 *
 * Then one `sum` task (AIV) reads all of r, so the dependency tracker has to
 * order it after the last writer of every tile; it writes the sum into a
 * one-element float64 tensor.
 *
 * Every round (--rounds) uses its own s and b, and r, h and the sum are
 * poisoned with NaN before it, so a task that ran out of order, or did not
 * run, shows up in the check:
 *   r    against (x + y) * s * z + b computed in double, within a bound on
 *        the float rounding of the four steps;
 *   h    exactly against bf16(r) (round to nearest even), and against the
 *        double golden within bf16 precision;
 *   sum  exactly against a sequential double sum of r in index order (one
 *        task sums in that order, so the result is reproducible), and
 *        against the golden sum within the summed element bounds.
 * Exit status: 0 when every round passes; 1 on a failed check or any error;
 * 2 on a usage error.
 */
#include <pto/pto.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Kernel ids; any distinct ids below PTO_MAX_KERNELS would do. */
enum kernel_id { K_ADD = 1, K_SCALE, K_MUL, K_BIAS, K_TO_BF16, K_SUM };

/* Tasks per tile: add, scale, mul, bias, to_bf16; plus one sum per run. */
#define TASKS_PER_TILE 5u

/* 2^28 floats is 1 GiB per array: far beyond a demo, and it keeps every
 * offset + tile sum well inside uint32_t. */
#define MAX_ELEMS (1u << 28)

typedef struct demo {
    uint32_t n, tile, tiles, clusters, rounds;
    float *x, *y, *z, *r;
    uint16_t *h;        /* bf16 bit patterns of r */
    double sum;         /* written by the sum task */
    double scale, bias; /* this round's scalars */
    int err;            /* an orchestration-side failure pto_run cannot see */
    const char *err_what;
} demo_t;

/* The external tensors of one run. */
typedef struct demo_tensors {
    pto_tensor_t x, y, z, r, h, sum;
} demo_tensors_t;

/* Views of one tile in each external tensor. */
typedef struct tile_views {
    pto_tensor_t x, y, z, r, h;
    uint32_t len;
} tile_views_t;

/* ---- scalars and bf16 -------------------------------------------------- */

/* Scalars travel as uint64_t; a double goes through its bit pattern so no
 * value is lost on the way. */
static uint64_t f64_bits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

static double f64_from_bits(uint64_t u)
{
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* float -> bfloat16, round to nearest, ties to even. NaN stays a (quiet)
 * NaN: plain rounding could carry a NaN payload into infinity. */
static uint16_t bf16_from_float(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static float float_from_bf16(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The exact bf16 check compares against bf16_from_float itself, so pin the
 * rounding rule down on known bit patterns first. */
static int bf16_selftest(void)
{
    static const struct { uint32_t in; uint16_t out; } cases[] = {
        {0x3f800000u, 0x3f80}, /* 1.0: exact */
        {0x3f808000u, 0x3f80}, /* tie, even neighbour below: down */
        {0x3f818000u, 0x3f82}, /* tie, odd neighbour below: up */
        {0x3f808001u, 0x3f81}, /* just above the tie: up */
        {0x3f807fffu, 0x3f80}, /* just below the tie: down */
        {0xbf818000u, 0xbf82}, /* negative values mirror positive ones */
        {0x7f7fffffu, 0x7f80}, /* FLT_MAX rounds to infinity */
        {0x7f800001u, 0x7fc0}, /* signalling NaN: quiet NaN, not infinity */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        float f;
        memcpy(&f, &cases[i].in, sizeof f);
        if (bf16_from_float(f) != cases[i].out) {
            fprintf(stderr, "bf16 self-test: 0x%08" PRIx32 " -> 0x%04x, "
                    "expected 0x%04x\n", cases[i].in,
                    (unsigned)bf16_from_float(f), (unsigned)cases[i].out);
            return -1;
        }
    }
    return 0;
}

/* ---- kernels ----------------------------------------------------------- */

/* Elements of the i-th tensor when it is a contiguous view of dtype dt;
 * otherwise fail the task: the orchestration passed the wrong thing. */
static void *kernel_data(const pto_kernel_ctx_t *c, uint32_t i,
                         pto_dtype_t dt, uint64_t *numel)
{
    const pto_tensor_t *t = pto_kernel_tensor(c, i);
    *numel = 0;
    if (t == NULL || pto_tensor_dtype(t) != dt ||
        !pto_tensor_is_contiguous(t)) {
        pto_kernel_fail(c, "unexpected tensor argument");
        return NULL;
    }
    *numel = pto_tensor_numel(t);
    return pto_tensor_data(t);
}

static void k_add(const pto_kernel_ctx_t *c)
{
    uint64_t nx, ny, nt;
    const float *x = kernel_data(c, 0, PTO_FLOAT32, &nx);
    const float *y = kernel_data(c, 1, PTO_FLOAT32, &ny);
    float *t = kernel_data(c, 2, PTO_FLOAT32, &nt);
    if (x == NULL || y == NULL || t == NULL)
        return;
    if (nx != ny || nx != nt) {
        pto_kernel_fail(c, "add: tile lengths differ");
        return;
    }
    for (uint64_t i = 0; i < nx; i++)
        t[i] = x[i] + y[i];
}

static void k_scale(const pto_kernel_ctx_t *c)
{
    uint64_t n;
    float *t = kernel_data(c, 0, PTO_FLOAT32, &n);
    double s = f64_from_bits(pto_kernel_scalar(c, 0));
    if (t == NULL)
        return;
    for (uint64_t i = 0; i < n; i++)
        t[i] = (float)(t[i] * s);
}

static void k_mul(const pto_kernel_ctx_t *c)
{
    uint64_t nt, nz, nr;
    const float *t = kernel_data(c, 0, PTO_FLOAT32, &nt);
    const float *z = kernel_data(c, 1, PTO_FLOAT32, &nz);
    float *r = kernel_data(c, 2, PTO_FLOAT32, &nr);
    if (t == NULL || z == NULL || r == NULL)
        return;
    if (nt != nz || nt != nr) {
        pto_kernel_fail(c, "mul: tile lengths differ");
        return;
    }
    for (uint64_t i = 0; i < nt; i++)
        r[i] = t[i] * z[i];
}

/* Runs as all three subtasks of a mixed task at once on one cluster; the
 * subtask (AIC 0, AIV0 1, AIV1 2) picks which third of the tile this core
 * updates, so the three together cover it exactly once. */
static void k_bias(const pto_kernel_ctx_t *c)
{
    uint64_t n;
    float *r = kernel_data(c, 0, PTO_FLOAT32, &n);
    double b = f64_from_bits(pto_kernel_scalar(c, 0));
    uint64_t part = (uint64_t)pto_kernel_subtask(c);
    if (r == NULL)
        return;
    if (part > 2) {
        pto_kernel_fail(c, "bias: unknown subtask");
        return;
    }
    for (uint64_t i = n * part / 3; i < n * (part + 1) / 3; i++)
        r[i] = (float)(r[i] + b);
}

static void k_to_bf16(const pto_kernel_ctx_t *c)
{
    uint64_t nr, nh;
    const float *r = kernel_data(c, 0, PTO_FLOAT32, &nr);
    uint16_t *h = kernel_data(c, 1, PTO_BFLOAT16, &nh);
    if (r == NULL || h == NULL)
        return;
    if (nr != nh) {
        pto_kernel_fail(c, "to_bf16: tile lengths differ");
        return;
    }
    for (uint64_t i = 0; i < nr; i++)
        h[i] = bf16_from_float(r[i]);
}

/* Sums in index order, in double: the golden repeats exactly this order,
 * so the two sums must agree to the last bit. */
static void k_sum(const pto_kernel_ctx_t *c)
{
    uint64_t nr, ns;
    const float *r = kernel_data(c, 0, PTO_FLOAT32, &nr);
    double *s = kernel_data(c, 1, PTO_FLOAT64, &ns);
    double acc = 0.0;
    if (r == NULL || s == NULL)
        return;
    if (ns != 1) {
        pto_kernel_fail(c, "sum: result is not one element");
        return;
    }
    for (uint64_t i = 0; i < nr; i++)
        acc += r[i];
    s[0] = acc;
}

static const struct kernel_entry {
    uint32_t id;
    pto_kernel_fn fn;
    const char *name;
} KERNELS[] = {
    {K_ADD, k_add, "add"},         {K_SCALE, k_scale, "scale"},
    {K_MUL, k_mul, "mul"},         {K_BIAS, k_bias, "bias"},
    {K_TO_BF16, k_to_bf16, "to_bf16"}, {K_SUM, k_sum, "sum"},
};

/* ---- orchestration ----------------------------------------------------- */

/* A submit returns NONE only on failure, and the run's status then holds
 * the cause. */
static int submitted(const pto_orch_t *o, pto_task_id_t id)
{
    int rc;
    if (!pto_task_id_is_none(id))
        return 0;
    rc = pto_orch_status(o);
    return rc != 0 ? rc : PTO_ESTATE;
}

static int submit_add(pto_orch_t *o, const tile_views_t *v, pto_tensor_t *tmp)
{
    uint32_t shape[1] = {v->len};
    pto_create_info_t ci = pto_create_info(shape, 1, PTO_FLOAT32);
    const pto_tensor_t *res;
    pto_args_t a;
    int rc;
    pto_args_init(&a);
    pto_args_input(&a, &v->x);
    pto_args_input(&a, &v->y);
    pto_args_output(&a, &ci);
    rc = submitted(o, pto_submit_aiv(o, K_ADD, &a));
    if (rc != 0)
        return rc;
    /* The result lives in `a`, which ends here: keep a copy (tensors are
     * small values). */
    res = pto_args_result(&a, 0);
    if (res == NULL)
        return PTO_ESTATE;
    *tmp = *res;
    return 0;
}

static int submit_scale(pto_orch_t *o, const pto_tensor_t *tmp, double s)
{
    pto_args_t a;
    pto_args_init(&a);
    pto_args_inout(&a, tmp);
    pto_args_scalar(&a, f64_bits(s));
    return submitted(o, pto_submit_aic(o, K_SCALE, &a));
}

static int submit_mul(pto_orch_t *o, const pto_tensor_t *tmp,
                      const tile_views_t *v)
{
    pto_args_t a;
    pto_args_init(&a);
    pto_args_input(&a, tmp);
    pto_args_input(&a, &v->z);
    pto_args_output_existing(&a, &v->r);
    return submitted(o, pto_submit_aiv(o, K_MUL, &a));
}

static int submit_bias(pto_orch_t *o, const tile_views_t *v, double b)
{
    /* One kernel in all three slots: each copy finds its own third. */
    const pto_mixed_kernels_t mk = {.aic = K_BIAS, .aiv0 = K_BIAS,
                                    .aiv1 = K_BIAS};
    pto_args_t a;
    pto_args_init(&a);
    pto_args_inout(&a, &v->r);
    pto_args_scalar(&a, f64_bits(b));
    return submitted(o, pto_submit_mixed(o, &mk, &a));
}

static int submit_to_bf16(pto_orch_t *o, const tile_views_t *v)
{
    pto_args_t a;
    pto_args_init(&a);
    pto_args_input(&a, &v->r);
    pto_args_output_existing(&a, &v->h);
    return submitted(o, pto_submit_aiv(o, K_TO_BF16, &a));
}

/* Reading the whole of r makes the sum wait for every tile's writers. */
static int submit_sum(pto_orch_t *o, const demo_tensors_t *t)
{
    pto_args_t a;
    pto_args_init(&a);
    pto_args_input(&a, &t->r);
    pto_args_output_existing(&a, &t->sum);
    return submitted(o, pto_submit_aiv(o, K_SUM, &a));
}

static int make_tensors(demo_t *d, demo_tensors_t *t)
{
    uint32_t n[1] = {d->n}, one[1] = {1};
    t->x = pto_tensor_external(d->x, n, 1, PTO_FLOAT32);
    t->y = pto_tensor_external(d->y, n, 1, PTO_FLOAT32);
    t->z = pto_tensor_external(d->z, n, 1, PTO_FLOAT32);
    t->r = pto_tensor_external(d->r, n, 1, PTO_FLOAT32);
    t->h = pto_tensor_external(d->h, n, 1, PTO_BFLOAT16);
    t->sum = pto_tensor_external(&d->sum, one, 1, PTO_FLOAT64);
    const pto_tensor_t *all[] = {&t->x, &t->y, &t->z, &t->r, &t->h, &t->sum};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (all[i]->status != 0) {
            d->err = all[i]->status;
            d->err_what = "pto_tensor_external";
            return d->err;
        }
    }
    return 0;
}

static int make_tile_views(const demo_tensors_t *t, uint32_t off, uint32_t len,
                           tile_views_t *v)
{
    uint32_t o1[1] = {off}, s1[1] = {len};
    int rc = pto_tensor_view(&t->x, o1, s1, &v->x);
    if (rc == 0)
        rc = pto_tensor_view(&t->y, o1, s1, &v->y);
    if (rc == 0)
        rc = pto_tensor_view(&t->z, o1, s1, &v->z);
    if (rc == 0)
        rc = pto_tensor_view(&t->r, o1, s1, &v->r);
    if (rc == 0)
        rc = pto_tensor_view(&t->h, o1, s1, &v->h);
    v->len = len;
    return rc;
}

/* One tile's pipeline in its own scope, so tmp goes back to the heap ring
 * when this tile is done instead of when the run ends. `break` leaves the
 * scope body and still closes the scope. Returns 0 or the first error. */
static int orch_tile(pto_orch_t *o, demo_t *d, const demo_tensors_t *t,
                     uint32_t off, uint32_t len)
{
    tile_views_t v;
    pto_tensor_t tmp;
    int rc = make_tile_views(t, off, len, &v);
    if (rc != 0) {
        d->err = rc;
        d->err_what = "pto_tensor_view";
        return rc;
    }
    PTO_SCOPE(o, PTO_SCOPE_AUTO) {
        if (submit_add(o, &v, &tmp) != 0 ||
            submit_scale(o, &tmp, d->scale) != 0 ||
            submit_mul(o, &tmp, &v) != 0 || submit_bias(o, &v, d->bias) != 0)
            break;
        (void)submit_to_bf16(o, &v); /* its failure is in the status below */
    }
    return pto_orch_status(o);
}

static void orch_main(pto_orch_t *o, void *user)
{
    demo_t *d = user;
    demo_tensors_t t;
    if (make_tensors(d, &t) != 0)
        return;
    for (uint32_t off = 0; off < d->n; off += d->tile) {
        uint32_t len = d->n - off < d->tile ? d->n - off : d->tile;
        if (orch_tile(o, d, &t, off, len) != 0)
            return; /* pto_run reports the sticky status */
    }
    /* A failure here is sticky in the run and returned by pto_run. */
    (void)submit_sum(o, &t);
}

/* ---- golden and check -------------------------------------------------- */

typedef struct check {
    uint64_t bad;       /* elements of r outside their bound */
    uint64_t bad_bf16;  /* elements of h not bf16(r) or too far off */
    uint64_t first_bad; /* first index with either problem */
    double max_err, max_err_bf16;
    double sum_seq;     /* sum of r in index order, as k_sum does it */
    double sum_golden, sum_tol;
} check_t;

static double absd(double v)
{
    return v < 0.0 ? -v : v;
}

/* A NaN error is the worst error and stays. */
static double max_err(double m, double e)
{
    return (e > m || e != e) ? e : m;
}

/* Bound on |r - golden| for element i. The kernels round to float four
 * times, each by at most 2^-24 (6e-8) of the value rounded. Carried through
 * the later multiplications, the add, scale and mul roundings each move r
 * by at most 2^-24 * |x + y| * s * |z|; the bias rounding by 2^-24 * |r|.
 * 1e-6 leaves a margin of about 5, plus an absolute floor near zero. */
static double elem_tol(const demo_t *d, uint32_t i, double g)
{
    double m = absd(((double)d->x[i] + d->y[i]) * d->scale * d->z[i]);
    return 1e-6 * (1.0 + m + absd(g));
}

static void check_elements(const demo_t *d, check_t *c)
{
    memset(c, 0, sizeof *c);
    c->first_bad = UINT64_MAX;
    for (uint32_t i = 0; i < d->n; i++) {
        double g = ((double)d->x[i] + d->y[i]) * d->scale * d->z[i] + d->bias;
        double tol = elem_tol(d, i, g);
        double err = absd((double)d->r[i] - g);
        double herr = absd((double)float_from_bf16(d->h[i]) - g);
        /* bf16 keeps 8 significant bits: rounding moves a value by at most
         * 2^-8 of itself, on top of r's own error. */
        int r_ok = err <= tol;
        int h_ok = d->h[i] == bf16_from_float(d->r[i]) &&
                   herr <= absd(g) / 256.0 + 2.0 * tol;
        c->bad += !r_ok;
        c->bad_bf16 += !h_ok;
        if ((!r_ok || !h_ok) && c->first_bad == UINT64_MAX)
            c->first_bad = i;
        c->max_err = max_err(c->max_err, err);
        c->max_err_bf16 = max_err(c->max_err_bf16, herr);
        c->sum_seq += d->r[i];
        c->sum_golden += g;
        c->sum_tol += tol;
    }
}

/* Prints the verdict of one round's check; returns 1 if it passed. */
static int check_round(const demo_t *d)
{
    check_t c;
    check_elements(d, &c);
    int sum_exact = d->sum == c.sum_seq;
    int sum_near = absd(d->sum - c.sum_golden) <= c.sum_tol;
    printf("  max abs err %.3g (bf16 %.3g); sum %.9g, golden %.9g\n",
           c.max_err, c.max_err_bf16, d->sum, c.sum_golden);
    if (c.first_bad != UINT64_MAX) {
        uint64_t i = c.first_bad;
        printf("  MISMATCH: %" PRIu64 " float and %" PRIu64 " bf16 elements "
               "off; first at %" PRIu64 ": r %.9g h 0x%04x\n", c.bad,
               c.bad_bf16, i, (double)d->r[i], (unsigned)d->h[i]);
    }
    if (!sum_exact)
        printf("  MISMATCH: sum %.17g, sequential sum of r %.17g\n", d->sum,
               c.sum_seq);
    if (!sum_near)
        printf("  MISMATCH: sum off the golden by more than %.3g\n",
               c.sum_tol);
    return c.first_bad == UINT64_MAX && sum_exact && sum_near;
}

/* ---- driver ------------------------------------------------------------ */

/* Inputs in [-1, 1): 24-bit integers scaled by a power of two, so every
 * value is exact in float and the golden sees the same numbers. */
static float next_input(uint32_t *state)
{
    uint32_t s = *state;
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    *state = s;
    return (float)((double)(s >> 8) / (double)(1u << 23) - 1.0);
}

static void demo_free(demo_t *d)
{
    free(d->x);
    free(d->y);
    free(d->z);
    free(d->r);
    free(d->h);
}

static int demo_alloc(demo_t *d)
{
    uint32_t state = 0x2545f491u; /* any nonzero seed: reproducible runs */
    d->x = malloc((size_t)d->n * sizeof *d->x);
    d->y = malloc((size_t)d->n * sizeof *d->y);
    d->z = malloc((size_t)d->n * sizeof *d->z);
    d->r = malloc((size_t)d->n * sizeof *d->r);
    d->h = malloc((size_t)d->n * sizeof *d->h);
    if (!d->x || !d->y || !d->z || !d->r || !d->h)
        return -1;
    for (uint32_t i = 0; i < d->n; i++) {
        d->x[i] = next_input(&state);
        d->y[i] = next_input(&state);
        d->z[i] = next_input(&state);
    }
    return 0;
}

/* New scalars per round, and NaN in every output, so a round can only
 * pass on what its own tasks wrote. 0xffff is a bf16 NaN. */
static void prepare_round(demo_t *d, uint32_t round)
{
    d->err = 0;
    d->err_what = NULL;
    d->scale = 1.0 + 0.5 * round;
    d->bias = 0.125 * (round + 1);
    d->sum = NAN;
    for (uint32_t i = 0; i < d->n; i++)
        d->r[i] = NAN;
    memset(d->h, 0xff, (size_t)d->n * sizeof *d->h);
}

/* Errors go to stderr; flush the report first so both streams stay in
 * order when they share a file. msg may be empty, never NULL. */
static void report_error(const char *call, int rc, const char *msg)
{
    fflush(stdout);
    fprintf(stderr, "pto-vector: %s failed: %s (%s)%s%s\n", call,
            pto_strerror(rc), pto_err_name(rc), msg[0] ? ": " : "", msg);
}

static int runtime_setup(const demo_t *d, pto_runtime_t **rt)
{
    pto_config_t cfg;
    int rc;
    pto_config_init(&cfg);
    if (d->clusters != 0)
        cfg.clusters = d->clusters;
    rc = pto_runtime_create(&cfg, rt);
    if (rc != 0) {
        report_error("pto_runtime_create", rc, pto_last_error(NULL));
        return rc;
    }
    for (size_t i = 0; i < sizeof KERNELS / sizeof KERNELS[0]; i++) {
        rc = pto_kernel_register(*rt, KERNELS[i].id, KERNELS[i].fn,
                                 KERNELS[i].name);
        if (rc != 0) {
            report_error("pto_kernel_register", rc, pto_last_error(*rt));
            return rc;
        }
    }
    return 0;
}

/* One pto_run and its check; returns 1 if the round passed. */
static int run_round(demo_t *d, pto_runtime_t *rt, uint32_t round)
{
    pto_run_stats_t st;
    uint64_t want = (uint64_t)d->tiles * TASKS_PER_TILE + 1;
    prepare_round(d, round);
    int rc = pto_run(rt, orch_main, d);
    if (rc != 0) {
        report_error("pto_run", rc, pto_last_error(rt));
        return 0;
    }
    if (d->err != 0) {
        report_error(d->err_what, d->err, "");
        return 0;
    }
    rc = pto_run_stats(rt, &st);
    if (rc != 0) {
        report_error("pto_run_stats", rc, "");
        return 0;
    }
    printf("round %" PRIu32 "/%" PRIu32 ": s %g, b %g: %" PRIu64 " tasks in "
           "%.3f ms\n", round + 1, d->rounds, d->scale, d->bias, st.tasks,
           st.elapsed_ns / 1e6);
    int ok = check_round(d);
    if (st.tasks != want) {
        printf("  MISMATCH: %" PRIu64 " tasks submitted, expected %" PRIu64
               "\n", st.tasks, want);
        ok = 0;
    }
    printf("  %s\n", ok ? "PASS" : "FAIL");
    return ok;
}

static int run_all(demo_t *d, pto_runtime_t *rt)
{
    printf("pto-vector: %" PRIu32 " floats, %" PRIu32 " tiles of %" PRIu32
           ", %" PRIu32 " clusters, %" PRIu32 " rounds\n", d->n, d->tiles,
           d->tile, pto_runtime_config(rt)->clusters, d->rounds);
    printf("per tile: add(AIV) -> scale(AIC) -> mul(AIV) -> "
           "bias(mixed AIC+AIV0+AIV1) -> to_bf16(AIV); then sum(AIV)\n");
    for (uint32_t round = 0; round < d->rounds; round++) {
        if (!run_round(d, rt, round))
            return 0;
    }
    return 1;
}

/* ---- options ----------------------------------------------------------- */

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

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pto-vector [--clusters N] [--n ELEMS] [--tile ELEMS] "
            "[--rounds N]\n"
            "  --clusters N  simulated clusters, 1..%d (default 4, or "
            "PTO_CLUSTERS)\n"
            "  --n ELEMS     vector length (default %u, at most %u)\n"
            "  --tile ELEMS  elements per tile (default 4096)\n"
            "  --rounds N    pto_run repetitions on one runtime, each "
            "checked (default 1)\n",
            PTO_MAX_CLUSTERS, 1u << 20, MAX_ELEMS);
}

/* Returns 0 to run, 1 after --help, -1 on a usage error. Every option
 * but --help takes a value, so the loop steps over pairs. */
static int parse_options(int argc, char **argv, demo_t *d)
{
    memset(d, 0, sizeof *d);
    d->n = 1u << 20; /* 1 Mi floats in 256 tiles: tens of ms here */
    d->tile = 4096;
    d->rounds = 1;
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = -1;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(argv[i], "--clusters") == 0) {
            rc = parse_u32(v, 1, PTO_MAX_CLUSTERS, &d->clusters);
        } else if (strcmp(argv[i], "--n") == 0) {
            rc = parse_u32(v, 1, MAX_ELEMS, &d->n);
        } else if (strcmp(argv[i], "--tile") == 0) {
            rc = parse_u32(v, 1, MAX_ELEMS, &d->tile);
        } else if (strcmp(argv[i], "--rounds") == 0) {
            rc = parse_u32(v, 1, UINT32_MAX, &d->rounds);
        }
        if (rc != 0) {
            fprintf(stderr, "pto-vector: bad option or value: %s%s%s\n",
                    argv[i], v ? " " : "", v ? v : "");
            usage(stderr);
            return -1;
        }
    }
    d->tiles = d->n / d->tile + (d->n % d->tile != 0);
    return 0;
}

int main(int argc, char **argv)
{
    demo_t d;
    pto_runtime_t *rt = NULL;
    int ok;
    int rc = parse_options(argc, argv, &d);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (bf16_selftest() != 0)
        return 1;
    if (demo_alloc(&d) != 0) {
        fprintf(stderr, "pto-vector: out of memory for %" PRIu32
                " elements\n", d.n);
        demo_free(&d);
        return 1;
    }
    ok = runtime_setup(&d, &rt) == 0 && run_all(&d, rt);
    pto_runtime_destroy(rt);
    demo_free(&d);
    puts(ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
