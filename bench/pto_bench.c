/*
 * bench/pto_bench.c - pto-bench: pto side by side with the runtimes its
 * users would otherwise pick, on four task graphs with empty kernels
 * (bench_shapes.h): OpenMP tasks with depend clauses on libgomp (gcc) and
 * libomp (clang), StarPU with implicit and with explicit dependencies, and
 * a oneTBB flow graph.
 *
 * Every measurement runs in a fresh child process (this program re-run
 * with --child, or a peer program built by another compiler, see
 * bench_child.c), so each runtime starts cold and alone, and the child's
 * peak RSS (wait4's ru_maxrss) is that runtime's. A child does one
 * untimed warm-up run, then --reps timed runs; the comparison repeats the
 * children --rounds times, each round going over every shape, thread count
 * and runtime (the runtime order rotates per round), so drift of a busy
 * machine spreads over all of them. Figures are the median over all timed
 * runs (rounds x reps) with min and max, in ns per task: the wall clock of
 * a whole run (first submit to last completion) over its task count.
 *
 * Threads (--threads, default 1,2): the runtimes' own notion, matched as
 * closely as they allow:
 *   pto_*      T core threads run tasks (T = 1: AIC tasks on one cluster's
 *              AIC core; T even: AIV tasks on T/2 clusters' AIV cores) plus
 *              the orchestrator thread that submits;
 *   starpu_*   T CPU workers plus the main thread that submits;
 *   omp_*      a team of T threads; one creates the tasks, all run them;
 *   tbb_flow   an arena of T threads; the main thread builds and runs.
 *
 * Peak memory: after the timing rounds, one more child per shape and
 * runtime runs --rss-tasks tasks (default 10^6) at the largest thread
 * count; its peak RSS and its RSS before the runtime started are reported.
 *
 * --scaling instead runs every shape at 10^3 .. --scale-max tasks (default
 * 10^7) at the largest thread count and reports ns/task and peak RSS per
 * size; a runtime stops growing once the next size would take longer than
 * --cap-s seconds or more than --cap-mib MiB (extrapolated from the size
 * before), and the table says so.
 *
 * --json FILE writes
 *   {"bench": "pto-bench", ...settings...,
 *    "shapes": {SHAPE: {RUNTIME: {"ns_per_task", "min", "max", "threads",
 *               "tasks", "runs", "peak_rss_kib", "base_rss_kib",
 *               "rss_tasks", "by_threads": {T: {...}}} or
 *               {"ns_per_task": null, "skipped": WHY}}},
 *    "best_peer": {SHAPE: {T: {"runtime", "ns_per_task"}}},
 *    "ratio_to_best_peer": {SHAPE: {RUNTIME: {T: best_ns / runtime_ns}}}}
 * (the top-level figures are those of the largest thread count); with
 * --scaling: {"bench", ..., "scaling": {SHAPE: {RUNTIME: [{"tasks",
 * "ns_per_task", "min", "max", "runs", "peak_rss_kib", "base_rss_kib"} or
 * {"tasks", "skipped"}]}}}.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_peers.h"
#include "bench_shapes.h"
#include "bench_util.h"

#define MAX_THREADS 4        /* thread counts per comparison */
#define MAX_SIZES 8          /* scaling sizes: 10^3 .. 10^10 */
#define WHY_LEN 256
#define OUT_LEN 65536        /* a child's stdout: one line */
#define CHILD_TIMEOUT_S 900u /* a child running longer is killed */

/* ---- runtimes ----------------------------------------------------------- */

typedef struct rt_desc {
    const char *name;
    const bench_peer_t *peer; /* built into this program, or NULL */
    const char *exe;          /* else this program beside us, or NULL */
    const char *skip;         /* not built: why; else NULL */
    int is_pto;
} rt_desc_t;

static const rt_desc_t runtimes[] = {
    {"pto_auto", &bench_peer_pto_auto, NULL, NULL, 1},
    {"pto_manual", &bench_peer_pto_manual, NULL, NULL, 1},
    {"omp_gomp", NULL, PTO_BENCH_HAVE_OMP_GOMP ? "pto-bench-omp-gomp" : NULL,
     PTO_BENCH_HAVE_OMP_GOMP ? NULL : PTO_BENCH_WHY_OMP_GOMP, 0},
    {"omp_llvm", NULL, PTO_BENCH_HAVE_OMP_LLVM ? "pto-bench-omp-llvm" : NULL,
     PTO_BENCH_HAVE_OMP_LLVM ? NULL : PTO_BENCH_WHY_OMP_LLVM, 0},
    {"starpu_implicit", BENCH_PEER_STARPU_IMPLICIT, NULL,
     PTO_BENCH_HAVE_STARPU ? NULL : PTO_BENCH_WHY_STARPU, 0},
    {"starpu_explicit", BENCH_PEER_STARPU_EXPLICIT, NULL,
     PTO_BENCH_HAVE_STARPU ? NULL : PTO_BENCH_WHY_STARPU, 0},
    {"tbb_flow", BENCH_PEER_TBB_FLOW, NULL,
     PTO_BENCH_HAVE_TBB ? NULL : PTO_BENCH_WHY_TBB, 0},
};
#define NRT ((uint32_t)(sizeof(runtimes) / sizeof(runtimes[0])))

/* ---- options ------------------------------------------------------------ */

typedef struct opts {
    int quick;
    int scaling;
    uint32_t shapes[BENCH_SHAPE_COUNT], nshapes;
    uint32_t rts[NRT], nrts;
    uint32_t threads[MAX_THREADS], nthreads;
    uint64_t tasks;     /* per timed run */
    uint32_t rounds;
    uint32_t reps;      /* timed runs per child */
    uint64_t rss_tasks; /* 0: report the timing children's RSS */
    uint64_t scale_max;
    uint32_t cap_s;
    uint32_t cap_mib;
    const char *json;
} opts_t;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: pto-bench [--quick] [--json FILE] [--shapes LIST]\n"
        "                 [--runtimes LIST] [--threads LIST] [--tasks N]\n"
        "                 [--rounds N] [--reps N] [--rss-tasks N]\n"
        "       pto-bench --scaling [--scale-max N] [--cap-s S] "
        "[--cap-mib M] [...]\n"
        "  --quick         under a minute: 50000 tasks, 1 round x 5 runs, "
        "RSS of the timing runs\n"
        "  --shapes LIST   of indep,chain,pa,fanin (default all)\n"
        "  --runtimes LIST of pto_auto,pto_manual,omp_gomp,omp_llvm,"
        "starpu_implicit,\n"
        "                  starpu_explicit,tbb_flow (default all)\n"
        "  --threads LIST  worker thread counts (default 1,2)\n"
        "  --tasks N       tasks per timed run (default 200000)\n"
        "  --rounds N      child processes per runtime, interleaved "
        "(default 5)\n"
        "  --reps N        timed runs per child, after 1 warm-up "
        "(default 1); rounds x reps <= %u\n"
        "  --rss-tasks N   tasks of the peak-RSS run (default 1000000; 0: "
        "none)\n"
        "  --scaling       ns/task and peak RSS from 10^3 to --scale-max "
        "tasks (default 10^7)\n"
        "  --cap-s S       scaling: skip a size predicted to run over S "
        "seconds (default 120)\n"
        "  --cap-mib M     scaling: skip a size predicted to need over M "
        "MiB (default 8192)\n"
        "  --json FILE     also write the results as JSON\n"
        "  --stats         print pto_run_stats_print of every pto run "
        "(stderr)\n",
        BENCH_MAX_REPS);
}

static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;
    if (!s)
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int rt_index(const char *name)
{
    for (uint32_t i = 0; i < NRT; i++)
        if (strcmp(runtimes[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Comma-separated list into idx[]; kind 0: shapes, 1: runtimes,
 * 2: thread counts. */
static int parse_list(const char *s, int kind, uint32_t *idx, uint32_t max,
                      uint32_t *n)
{
    char buf[256], *save = NULL;
    if (!s || strlen(s) >= sizeof(buf))
        return -1;
    strcpy(buf, s);
    *n = 0;
    for (char *t = strtok_r(buf, ",", &save); t;
         t = strtok_r(NULL, ",", &save)) {
        uint32_t v = 0;
        int i = kind == 0 ? bench_shape_parse(t)
                : kind == 1 ? rt_index(t)
                            : (bench_parse_u32(t, 1, 64, &v) ? -1 : (int)v);
        if (i < 0 || *n >= max)
            return -1;
        idx[(*n)++] = (uint32_t)i;
    }
    return *n > 0 ? 0 : -1;
}

static int parse_valued(opts_t *op, const char *name, const char *val)
{
    if (!strcmp(name, "--json"))
        return val ? (op->json = val, 0) : -1;
    if (!strcmp(name, "--shapes"))
        return parse_list(val, 0, op->shapes, BENCH_SHAPE_COUNT,
                          &op->nshapes);
    if (!strcmp(name, "--runtimes"))
        return parse_list(val, 1, op->rts, NRT, &op->nrts);
    if (!strcmp(name, "--threads"))
        return parse_list(val, 2, op->threads, MAX_THREADS, &op->nthreads);
    if (!strcmp(name, "--tasks"))
        return parse_u64(val, 1, 1000000000u, &op->tasks);
    if (!strcmp(name, "--rounds"))
        return bench_parse_u32(val, 1, BENCH_MAX_REPS, &op->rounds);
    if (!strcmp(name, "--reps"))
        return bench_parse_u32(val, 1, BENCH_MAX_REPS, &op->reps);
    if (!strcmp(name, "--rss-tasks"))
        return parse_u64(val, 0, 1000000000u, &op->rss_tasks);
    if (!strcmp(name, "--scale-max"))
        return parse_u64(val, 1000, 10000000000ull, &op->scale_max);
    if (!strcmp(name, "--cap-s"))
        return bench_parse_u32(val, 1, 86400, &op->cap_s);
    if (!strcmp(name, "--cap-mib"))
        return bench_parse_u32(val, 1, 1u << 30, &op->cap_mib);
    return -1;
}

static void opts_defaults(opts_t *op, int rss_given)
{
    if (op->nshapes == 0)
        for (uint32_t i = 0; i < BENCH_SHAPE_COUNT; i++)
            op->shapes[op->nshapes++] = i;
    if (op->nrts == 0)
        for (uint32_t i = 0; i < NRT; i++)
            op->rts[op->nrts++] = i;
    if (op->nthreads == 0) {
        op->threads[0] = 1, op->threads[1] = 2;
        op->nthreads = 2;
    }
    if (op->tasks == 0)
        op->tasks = op->quick ? 50000u : 200000u;
    if (op->rounds == 0)
        op->rounds = op->quick ? 1u : 5u;
    if (op->reps == 0)
        op->reps = op->quick ? 5u : 1u;
    if (!rss_given)
        op->rss_tasks = op->quick ? 0u : 1000000u;
    if (op->scale_max == 0)
        op->scale_max = 10000000u;
    if (op->cap_s == 0)
        op->cap_s = 120;
    if (op->cap_mib == 0)
        op->cap_mib = 8192;
}

static int parse_args(opts_t *op, int argc, char **argv)
{
    int rss_given = 0;
    memset(op, 0, sizeof(*op));
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            op->quick = 1;
        else if (!strcmp(argv[i], "--scaling"))
            op->scaling = 1;
        else if (!strcmp(argv[i], "--stats"))
            setenv("PTO_BENCH_STATS", "1", 1); /* the children read it */
        else if (i + 1 < argc && parse_valued(op, argv[i], argv[i + 1]) == 0)
            rss_given |= !strcmp(argv[i++], "--rss-tasks");
        else {
            fprintf(stderr, "pto-bench: bad option '%s'\n", argv[i]);
            return -1;
        }
    }
    opts_defaults(op, rss_given);
    if (op->rounds * op->reps > BENCH_MAX_REPS) {
        fprintf(stderr, "pto-bench: rounds x reps must be <= %u\n",
                BENCH_MAX_REPS);
        return -1;
    }
    return 0;
}

/* ---- children ----------------------------------------------------------- */

enum { ST_NONE = 0, ST_OK, ST_SKIP, ST_FAIL };

typedef struct child_res {
    int status;
    char why[WHY_LEN];
    long base_kib;  /* RSS before the runtime was set up */
    long peak_kib;  /* the child's peak RSS (wait4) */
    uint64_t tasks;
    uint32_t n;     /* timed runs */
    double ns[BENCH_MAX_REPS];
} child_res_t;

static char self_dir[PATH_MAX];

/* Copy a reason into a WHY_LEN buffer, cut if longer. */
static void set_why(char *dst, const char *src)
{
    snprintf(dst, WHY_LEN, "%.*s", WHY_LEN - 1, src ? src : "");
}

static int init_self_dir(void)
{
    ssize_t n = readlink("/proc/self/exe", self_dir, sizeof(self_dir) - 1);
    if (n <= 0)
        return -1;
    self_dir[n] = '\0';
    char *slash = strrchr(self_dir, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    return 0;
}

/* "ok BASE TASKS NS..." / "skip WHY" / "fail WHY" into r. */
static void parse_child_line(char *line, child_res_t *r)
{
    char *save = NULL, *tok;
    line[strcspn(line, "\n")] = '\0';
    if (!strncmp(line, "skip ", 5) || !strncmp(line, "fail ", 5)) {
        r->status = line[0] == 's' ? ST_SKIP : ST_FAIL;
        set_why(r->why, line + 5);
        return;
    }
    if (strncmp(line, "ok ", 3) != 0) {
        r->status = ST_FAIL;
        snprintf(r->why, sizeof(r->why), "bad child output '%.100s'", line);
        return;
    }
    r->status = ST_OK;
    tok = strtok_r(line + 3, " ", &save);
    r->base_kib = tok ? atol(tok) : 0;
    tok = strtok_r(NULL, " ", &save);
    r->tasks = tok ? strtoull(tok, NULL, 10) : 0;
    while ((tok = strtok_r(NULL, " ", &save)) && r->n < BENCH_MAX_REPS)
        r->ns[r->n++] = strtod(tok, NULL);
    if (r->n == 0 || r->tasks == 0) {
        r->status = ST_FAIL;
        snprintf(r->why, sizeof(r->why), "child reported no runs");
    }
}

static void exec_child(const char *exe, char **argv, int fd)
{
    dup2(fd, STDOUT_FILENO);
    close(fd);
    alarm(CHILD_TIMEOUT_S); /* survives exec: a hung runtime dies */
    execv(exe, argv);
    printf("fail cannot run %s: %s\n", exe, strerror(errno));
    fflush(stdout);
    _exit(1);
}

/* Read the child's stdout, reap it, fill r. */
static void collect_child(pid_t pid, int fd, child_res_t *r)
{
    static char buf[OUT_LEN];
    size_t len = 0;
    ssize_t n;
    struct rusage ru;
    int st = 0;
    while (len + 1 < sizeof(buf) &&
           ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0 ||
            (n < 0 && errno == EINTR)))
        len += n > 0 ? (size_t)n : 0;
    buf[len] = '\0';
    close(fd);
    memset(&ru, 0, sizeof(ru));
    while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
        ;
    r->peak_kib = ru.ru_maxrss;
    parse_child_line(buf, r);
    if (WIFSIGNALED(st)) {
        r->status = ST_FAIL;
        snprintf(r->why, sizeof(r->why), "child killed by signal %d%s",
                 WTERMSIG(st),
                 WTERMSIG(st) == SIGALRM ? " (timed out)" : "");
    }
}

static void run_child(uint32_t rt, bench_shape_t shape, uint32_t threads,
                      uint64_t tasks, uint32_t warmup, uint32_t reps,
                      child_res_t *r)
{
    const rt_desc_t *d = &runtimes[rt];
    char exe[PATH_MAX + 64], a_thr[16], a_tasks[32], a_w[16], a_r[16];
    char *argv[9] = {exe, "--child", (char *)d->name,
                     (char *)bench_shape_name[shape], a_thr, a_tasks, a_w,
                     a_r, NULL};
    int fd[2];
    pid_t pid;
    memset(r, 0, sizeof(*r));
    snprintf(exe, sizeof(exe), "%s/%s", self_dir,
             d->exe ? d->exe : "pto-bench");
    snprintf(a_thr, sizeof(a_thr), "%u", threads);
    snprintf(a_tasks, sizeof(a_tasks), "%llu", (unsigned long long)tasks);
    snprintf(a_w, sizeof(a_w), "%u", warmup);
    snprintf(a_r, sizeof(a_r), "%u", reps);
    fflush(stdout);
    if (pipe(fd) != 0 || (pid = fork()) < 0) {
        r->status = ST_FAIL;
        snprintf(r->why, sizeof(r->why), "pipe/fork: %s", strerror(errno));
        return;
    }
    if (pid == 0) {
        close(fd[0]);
        exec_child(exe, argv, fd[1]);
    }
    close(fd[1]);
    collect_child(pid, fd[0], r);
}

/* ---- the comparison ------------------------------------------------------ */

typedef struct cell {
    int status;
    char why[WHY_LEN];
    uint64_t tasks;
    uint32_t n;
    double ns[BENCH_MAX_REPS];
    bench_stat_t st;
    long base_kib, peak_kib; /* of the child with the largest peak */
} cell_t;

typedef struct rss_cell {
    int status;
    char why[WHY_LEN];
    uint64_t tasks;
    long base_kib, peak_kib;
    double ns;
} rss_cell_t;

typedef struct report {
    const opts_t *op;
    long cores;
    double load1;
    cell_t c[BENCH_SHAPE_COUNT][MAX_THREADS][NRT];
    rss_cell_t rss[BENCH_SHAPE_COUNT][NRT];
    uint32_t rss_threads;
} report_t;

static double load_avg(void)
{
    double l[1] = {0};
    return getloadavg(l, 1) == 1 ? l[0] : -1.0;
}

static void note_failure(const char *what, const rt_desc_t *d,
                         bench_shape_t s, uint32_t t, const char *why)
{
    fprintf(stderr, "pto-bench: %s %s %s %u thread(s): %s\n", what, d->name,
            bench_shape_name[s], t, why);
}

/* One child of the timing rounds into cell c. */
static void time_cell(const opts_t *op, uint32_t rt, bench_shape_t s,
                      uint32_t t, cell_t *c)
{
    static child_res_t r;
    if (c->status == ST_SKIP || c->status == ST_FAIL)
        return;
    if (runtimes[rt].skip) {
        c->status = ST_SKIP;
        set_why(c->why, runtimes[rt].skip);
        return;
    }
    run_child(rt, s, t, op->tasks, 1, op->reps, &r);
    if (r.status != ST_OK) {
        c->status = r.status;
        set_why(c->why, r.why);
        if (r.status == ST_FAIL)
            note_failure("failed:", &runtimes[rt], s, t, r.why);
        return;
    }
    c->status = ST_OK;
    c->tasks = r.tasks;
    if (r.peak_kib > c->peak_kib)
        c->base_kib = r.base_kib, c->peak_kib = r.peak_kib;
    for (uint32_t i = 0; i < r.n && c->n < BENCH_MAX_REPS; i++)
        c->ns[c->n++] = r.ns[i];
}

static void timing_rounds(report_t *rp)
{
    const opts_t *op = rp->op;
    for (uint32_t round = 0; round < op->rounds; round++) {
        printf("round %u/%u (load %.2f)\n", round + 1, op->rounds,
               load_avg());
        for (uint32_t si = 0; si < op->nshapes; si++)
            for (uint32_t ti = 0; ti < op->nthreads; ti++)
                for (uint32_t k = 0; k < op->nrts; k++) {
                    uint32_t rt = op->rts[(k + round) % op->nrts];
                    bench_shape_t s = (bench_shape_t)op->shapes[si];
                    time_cell(op, rt, s, op->threads[ti],
                              &rp->c[s][ti][rt]);
                }
    }
    for (uint32_t s = 0; s < BENCH_SHAPE_COUNT; s++)
        for (uint32_t t = 0; t < MAX_THREADS; t++)
            for (uint32_t rt = 0; rt < NRT; rt++)
                rp->c[s][t][rt].st =
                    bench_stat_of(rp->c[s][t][rt].ns, rp->c[s][t][rt].n);
}

static void rss_runs(report_t *rp)
{
    const opts_t *op = rp->op;
    static child_res_t r;
    rp->rss_threads = op->threads[op->nthreads - 1];
    printf("peak-RSS runs: %llu tasks, %u threads (load %.2f)\n",
           (unsigned long long)op->rss_tasks, rp->rss_threads, load_avg());
    for (uint32_t si = 0; si < op->nshapes; si++)
        for (uint32_t k = 0; k < op->nrts; k++) {
            uint32_t rt = op->rts[k];
            bench_shape_t s = (bench_shape_t)op->shapes[si];
            rss_cell_t *c = &rp->rss[s][rt];
            if (runtimes[rt].skip) {
                c->status = ST_SKIP;
                set_why(c->why, runtimes[rt].skip);
                continue;
            }
            run_child(rt, s, rp->rss_threads, op->rss_tasks, 0, 1, &r);
            c->status = r.status;
            set_why(c->why, r.why);
            c->tasks = r.tasks;
            c->base_kib = r.base_kib;
            c->peak_kib = r.peak_kib;
            c->ns = r.n ? r.ns[0] : 0;
            if (r.status == ST_FAIL)
                note_failure("RSS run failed:", &runtimes[rt], s,
                             rp->rss_threads, r.why);
        }
}

/* Best peer (not pto) of shape s at thread index ti; -1 if none ran. */
static int best_peer(const report_t *rp, uint32_t s, uint32_t ti)
{
    int best = -1;
    for (uint32_t k = 0; k < rp->op->nrts; k++) {
        uint32_t rt = rp->op->rts[k];
        const cell_t *c = &rp->c[s][ti][rt];
        if (runtimes[rt].is_pto || c->status != ST_OK)
            continue;
        if (best < 0 || c->st.med < rp->c[s][ti][best].st.med)
            best = (int)rt;
    }
    return best;
}

/* ---- printing ------------------------------------------------------------ */

static void print_cell(const cell_t *c)
{
    char buf[64];
    if (c->status == ST_OK)
        snprintf(buf, sizeof(buf), "%8.1f [%.1f .. %.1f]", c->st.med,
                 c->st.min, c->st.max);
    else
        snprintf(buf, sizeof(buf), "%8s", c->status == ST_SKIP ? "skipped"
                                                                : "FAILED");
    printf(" %-30s", buf);
}

static void print_ratios(const report_t *rp, uint32_t s)
{
    const opts_t *op = rp->op;
    printf("%-16s", "best peer");
    for (uint32_t ti = 0; ti < op->nthreads; ti++) {
        int b = best_peer(rp, s, ti);
        char buf[64] = "-";
        if (b >= 0)
            snprintf(buf, sizeof(buf), "%s %.1f", runtimes[b].name,
                     rp->c[s][ti][b].st.med);
        printf(" %-30s", buf);
    }
    printf("\n");
    for (uint32_t k = 0; k < op->nrts; k++) {
        uint32_t rt = op->rts[k];
        if (!runtimes[rt].is_pto)
            continue;
        printf("%-10s/best", runtimes[rt].name);
        for (uint32_t ti = 0; ti < op->nthreads; ti++) {
            int b = best_peer(rp, s, ti);
            const cell_t *c = &rp->c[s][ti][rt];
            char buf[32] = "-";
            if (b >= 0 && c->status == ST_OK)
                snprintf(buf, sizeof(buf), "%.2fx",
                         rp->c[s][ti][b].st.med / c->st.med);
            printf(" %-30s", buf);
        }
        printf("\n");
    }
}

static void print_shape(const report_t *rp, uint32_t s)
{
    const opts_t *op = rp->op;
    uint64_t tasks = bench_shape_tasks((bench_shape_t)s, op->tasks);
    printf("\n%s: %llu tasks/run; ns/task, median [min .. max] of %u runs "
           "(%u round(s) x %u)\n", bench_shape_name[s],
           (unsigned long long)tasks, op->rounds * op->reps, op->rounds,
           op->reps);
    printf("%-16s", "runtime");
    for (uint32_t ti = 0; ti < op->nthreads; ti++) {
        char h[32];
        snprintf(h, sizeof(h), "%u thread%s", op->threads[ti],
                 op->threads[ti] > 1 ? "s" : "");
        printf(" %-30s", h);
    }
    printf("\n");
    for (uint32_t k = 0; k < op->nrts; k++) {
        uint32_t rt = op->rts[k];
        printf("%-16s", runtimes[rt].name);
        for (uint32_t ti = 0; ti < op->nthreads; ti++)
            print_cell(&rp->c[s][ti][rt]);
        printf("\n");
    }
    print_ratios(rp, s);
}

static void print_rss(const report_t *rp)
{
    const opts_t *op = rp->op;
    printf("\nPeak RSS, MiB: the child process's peak (wait4 ru_maxrss) "
           "[+ growth over its RSS before the runtime started], ");
    if (op->rss_tasks)
        printf("%llu tasks, %u threads\n",
               (unsigned long long)op->rss_tasks, rp->rss_threads);
    else
        printf("the timing runs (%llu tasks), %u threads\n",
               (unsigned long long)op->tasks, rp->rss_threads);
    printf("%-16s", "runtime");
    for (uint32_t si = 0; si < op->nshapes; si++)
        printf(" %-18s", bench_shape_name[op->shapes[si]]);
    printf("\n");
    for (uint32_t k = 0; k < op->nrts; k++) {
        uint32_t rt = op->rts[k];
        printf("%-16s", runtimes[rt].name);
        for (uint32_t si = 0; si < op->nshapes; si++) {
            const rss_cell_t *c = &rp->rss[op->shapes[si]][rt];
            char buf[48];
            if (c->status == ST_OK)
                snprintf(buf, sizeof(buf), "%.1f [+%.1f]",
                         c->peak_kib / 1024.0,
                         (c->peak_kib - c->base_kib) / 1024.0);
            else
                snprintf(buf, sizeof(buf), "%s",
                         c->status == ST_SKIP ? "skipped" : "FAILED");
            printf(" %-18s", buf);
        }
        printf("\n");
    }
}

/* One line per runtime not built, per cell skipped or failed otherwise. */
static void print_skips(const report_t *rp)
{
    const opts_t *op = rp->op;
    for (uint32_t k = 0; k < op->nrts; k++) {
        uint32_t rt = op->rts[k];
        if (runtimes[rt].skip) {
            printf("%s skipped: %s\n", runtimes[rt].name, runtimes[rt].skip);
            continue;
        }
        for (uint32_t si = 0; si < op->nshapes; si++)
            for (uint32_t ti = 0; ti < op->nthreads; ti++) {
                const cell_t *c = &rp->c[op->shapes[si]][ti][rt];
                if (c->status == ST_SKIP || c->status == ST_FAIL)
                    printf("%s %s %s, %u thread(s): %s\n", runtimes[rt].name,
                           c->status == ST_SKIP ? "skipped" : "FAILED",
                           bench_shape_name[op->shapes[si]], op->threads[ti],
                           c->why);
            }
    }
}

/* With --rss-tasks 0: the peak RSS of the timing children at the largest
 * thread count (the largest over rounds). */
static void rss_from_timing(report_t *rp)
{
    uint32_t top = rp->op->nthreads - 1;
    rp->rss_threads = rp->op->threads[top];
    for (uint32_t s = 0; s < BENCH_SHAPE_COUNT; s++)
        for (uint32_t rt = 0; rt < NRT; rt++) {
            const cell_t *c = &rp->c[s][top][rt];
            rss_cell_t *r = &rp->rss[s][rt];
            r->status = c->status;
            set_why(r->why, c->why);
            r->tasks = c->tasks;
            r->base_kib = c->base_kib;
            r->peak_kib = c->peak_kib;
        }
}

/* ---- JSON ----------------------------------------------------------------- */

/* s as a JSON string literal. */
static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", (unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static void json_cell(FILE *f, const cell_t *c, uint32_t threads)
{
    if (c->status != ST_OK) {
        fprintf(f, "{\"ns_per_task\": null, \"threads\": %u, \"%s\": ",
                threads, c->status == ST_SKIP ? "skipped" : "failed");
        json_str(f, c->why);
        fprintf(f, "}");
        return;
    }
    fprintf(f, "{\"ns_per_task\": %.3f, \"min\": %.3f, \"max\": %.3f, "
               "\"threads\": %u, \"tasks\": %llu, \"runs\": %u",
            c->st.med, c->st.min, c->st.max, threads,
            (unsigned long long)c->tasks, c->n);
}

static void json_runtime(FILE *f, const report_t *rp, uint32_t s, uint32_t rt)
{
    const opts_t *op = rp->op;
    uint32_t top = op->nthreads - 1;
    const cell_t *c = &rp->c[s][top][rt];
    const rss_cell_t *r = &rp->rss[s][rt];
    json_cell(f, c, op->threads[top]);
    if (c->status != ST_OK)
        return;
    if (r->status == ST_OK)
        fprintf(f, ", \"peak_rss_kib\": %ld, \"base_rss_kib\": %ld, "
                   "\"rss_tasks\": %llu",
                r->peak_kib, r->base_kib, (unsigned long long)r->tasks);
    fprintf(f, ", \"by_threads\": {");
    for (uint32_t ti = 0; ti < op->nthreads; ti++) {
        fprintf(f, "%s\"%u\": ", ti ? ", " : "", op->threads[ti]);
        json_cell(f, &rp->c[s][ti][rt], op->threads[ti]);
        if (rp->c[s][ti][rt].status == ST_OK)
            fprintf(f, "}");
    }
    fprintf(f, "}}");
}

static void json_settings(FILE *f, const report_t *rp)
{
    const opts_t *op = rp->op;
    fprintf(f, "{\n  \"bench\": \"pto-bench\",\n  \"cores\": %ld,\n"
               "  \"load_at_start\": %.2f,\n  \"quick\": %s,\n",
            rp->cores, rp->load1, op->quick ? "true" : "false");
    fprintf(f, "  \"tasks\": %llu,\n  \"rounds\": %u,\n  \"reps\": %u,\n"
               "  \"warmup\": 1,\n  \"rss_tasks\": %llu,\n  \"threads\": [",
            (unsigned long long)op->tasks, op->rounds, op->reps,
            (unsigned long long)(op->rss_tasks ? op->rss_tasks : op->tasks));
    for (uint32_t ti = 0; ti < op->nthreads; ti++)
        fprintf(f, "%s%u", ti ? ", " : "", op->threads[ti]);
    fprintf(f, "],\n");
}

static void json_shapes(FILE *f, const report_t *rp)
{
    const opts_t *op = rp->op;
    fprintf(f, "  \"shapes\": {\n");
    for (uint32_t si = 0; si < op->nshapes; si++) {
        uint32_t s = op->shapes[si];
        fprintf(f, "    \"%s\": {\n", bench_shape_name[s]);
        for (uint32_t k = 0; k < op->nrts; k++) {
            fprintf(f, "      \"%s\": ", runtimes[op->rts[k]].name);
            json_runtime(f, rp, s, op->rts[k]);
            fprintf(f, "%s\n", k + 1 < op->nrts ? "," : "");
        }
        fprintf(f, "    }%s\n", si + 1 < op->nshapes ? "," : "");
    }
    fprintf(f, "  },\n");
}

static void json_best(FILE *f, const report_t *rp)
{
    const opts_t *op = rp->op;
    fprintf(f, "  \"best_peer\": {");
    for (uint32_t si = 0; si < op->nshapes; si++) {
        uint32_t s = op->shapes[si];
        fprintf(f, "%s\"%s\": {", si ? ", " : "", bench_shape_name[s]);
        for (uint32_t ti = 0; ti < op->nthreads; ti++) {
            int b = best_peer(rp, s, ti);
            fprintf(f, "%s\"%u\": ", ti ? ", " : "", op->threads[ti]);
            if (b < 0)
                fprintf(f, "null");
            else
                fprintf(f, "{\"runtime\": \"%s\", \"ns_per_task\": %.3f}",
                        runtimes[b].name, rp->c[s][ti][b].st.med);
        }
        fprintf(f, "}");
    }
    fprintf(f, "},\n");
}

static void json_ratio_rt(FILE *f, const report_t *rp, uint32_t s,
                          uint32_t rt)
{
    const opts_t *op = rp->op;
    fprintf(f, "\"%s\": {", runtimes[rt].name);
    for (uint32_t ti = 0; ti < op->nthreads; ti++) {
        int b = best_peer(rp, s, ti);
        const cell_t *c = &rp->c[s][ti][rt];
        fprintf(f, "%s\"%u\": ", ti ? ", " : "", op->threads[ti]);
        if (b < 0 || c->status != ST_OK)
            fprintf(f, "null");
        else
            fprintf(f, "%.4f", rp->c[s][ti][b].st.med / c->st.med);
    }
    fprintf(f, "}");
}

static void json_ratios(FILE *f, const report_t *rp)
{
    const opts_t *op = rp->op;
    fprintf(f, "  \"ratio_to_best_peer\": {");
    for (uint32_t si = 0; si < op->nshapes; si++) {
        uint32_t s = op->shapes[si];
        int first = 1;
        fprintf(f, "%s\"%s\": {", si ? ", " : "", bench_shape_name[s]);
        for (uint32_t k = 0; k < op->nrts; k++) {
            if (!runtimes[op->rts[k]].is_pto)
                continue;
            fprintf(f, "%s", first ? "" : ", ");
            first = 0;
            json_ratio_rt(f, rp, s, op->rts[k]);
        }
        fprintf(f, "}");
    }
    fprintf(f, "}\n}\n");
}

static void json_compare(FILE *f, const void *ctx)
{
    const report_t *rp = ctx;
    json_settings(f, rp);
    json_shapes(f, rp);
    json_best(f, rp);
    json_ratios(f, rp);
}

/* ---- scaling -------------------------------------------------------------- */

typedef struct scale_cell {
    int status;
    char why[WHY_LEN];
    uint64_t tasks;
    bench_stat_t st;
    uint32_t runs;
    long base_kib, peak_kib;
} scale_cell_t;

typedef struct scaling {
    const opts_t *op;
    long cores;
    double load1;
    uint32_t threads;
    uint64_t sizes[MAX_SIZES];
    uint32_t nsizes;
    scale_cell_t c[BENCH_SHAPE_COUNT][NRT][MAX_SIZES];
} scaling_t;

/* Timed runs per size: enough runs for a steady median at small sizes,
 * one at 10^7. */
static uint32_t scale_reps(uint64_t n)
{
    return n <= 10000 ? 21u : n <= 100000 ? 11u : n <= 1000000 ? 3u : 1u;
}

/* Why size k of this runtime is not run (predicted from size k - 1), or
 * NULL to run it. */
static const char *scale_cap(const scaling_t *sc, const scale_cell_t *prev,
                             uint64_t n, char *buf, size_t len)
{
    double grow, secs, mib;
    if (!prev)
        return NULL;
    if (prev->status != ST_OK)
        return "smaller size did not run";
    grow = (double)n / (double)prev->tasks;
    secs = prev->st.med * 1e-9 * (double)n * (scale_reps(n) + 1);
    mib = (prev->base_kib + (prev->peak_kib - prev->base_kib) * grow) / 1024;
    if (secs > sc->op->cap_s) {
        snprintf(buf, len, "capped: predicted %.0f s > %u s", secs,
                 sc->op->cap_s);
        return buf;
    }
    if (prev->peak_kib > 2 * prev->base_kib && mib > sc->op->cap_mib) {
        snprintf(buf, len, "capped: predicted %.0f MiB > %u MiB", mib,
                 sc->op->cap_mib);
        return buf;
    }
    return NULL;
}

static void scale_one(scaling_t *sc, uint32_t s, uint32_t rt, uint32_t k)
{
    static child_res_t r;
    scale_cell_t *c = &sc->c[s][rt][k];
    uint64_t n = bench_shape_tasks((bench_shape_t)s, sc->sizes[k]);
    char buf[WHY_LEN];
    const char *cap = scale_cap(sc, k ? &sc->c[s][rt][k - 1] : NULL, n, buf,
                                sizeof(buf));
    c->tasks = n;
    if (runtimes[rt].skip || cap) {
        c->status = ST_SKIP;
        set_why(c->why, runtimes[rt].skip ? runtimes[rt].skip : cap);
        return;
    }
    run_child(rt, (bench_shape_t)s, sc->threads, n, n <= 1000000 ? 1 : 0,
              scale_reps(n), &r);
    c->status = r.status;
    set_why(c->why, r.why);
    if (r.status != ST_OK) {
        if (r.status == ST_FAIL)
            note_failure("scaling failed:", &runtimes[rt], (bench_shape_t)s,
                         sc->threads, r.why);
        return;
    }
    c->st = bench_stat_of(r.ns, r.n);
    c->runs = r.n;
    c->base_kib = r.base_kib;
    c->peak_kib = r.peak_kib;
}

static void scaling_runs(scaling_t *sc)
{
    const opts_t *op = sc->op;
    for (uint64_t n = 1000; n <= op->scale_max && sc->nsizes < MAX_SIZES;
         n *= 10)
        sc->sizes[sc->nsizes++] = n;
    for (uint32_t si = 0; si < op->nshapes; si++) {
        printf("scaling %s (load %.2f)\n", bench_shape_name[op->shapes[si]],
               load_avg());
        for (uint32_t k = 0; k < sc->nsizes; k++)
            for (uint32_t i = 0; i < op->nrts; i++)
                scale_one(sc, op->shapes[si], op->rts[i], k);
    }
}

static void print_scaling(const scaling_t *sc)
{
    const opts_t *op = sc->op;
    for (uint32_t si = 0; si < op->nshapes; si++) {
        uint32_t s = op->shapes[si];
        printf("\nscaling %s, %u threads: ns/task (median) | peak RSS MiB\n",
               bench_shape_name[s], sc->threads);
        printf("%-16s", "runtime");
        for (uint32_t k = 0; k < sc->nsizes; k++)
            printf(" %16.0e", (double)sc->sizes[k]);
        printf("\n");
        for (uint32_t i = 0; i < op->nrts; i++) {
            uint32_t rt = op->rts[i];
            printf("%-16s", runtimes[rt].name);
            for (uint32_t k = 0; k < sc->nsizes; k++) {
                const scale_cell_t *c = &sc->c[s][rt][k];
                char buf[48];
                if (c->status == ST_OK)
                    snprintf(buf, sizeof(buf), "%.1f | %.1f", c->st.med,
                             c->peak_kib / 1024.0);
                else
                    snprintf(buf, sizeof(buf), "%s",
                             c->status == ST_SKIP
                                 ? (strncmp(c->why, "capped", 6) ? "skipped"
                                                                 : "capped")
                                 : "FAILED");
                printf(" %16s", buf);
            }
            printf("\n");
        }
    }
}

static void print_scaling_notes(const scaling_t *sc)
{
    const opts_t *op = sc->op;
    int any = 0;
    printf("\nnot run:\n");
    for (uint32_t si = 0; si < op->nshapes; si++)
        for (uint32_t i = 0; i < op->nrts; i++)
            for (uint32_t k = 0; k < sc->nsizes; k++) {
                const scale_cell_t *c = &sc->c[op->shapes[si]][op->rts[i]][k];
                if (c->status == ST_OK || runtimes[op->rts[i]].skip)
                    continue;
                printf("  %s %s %.0e: %s\n", runtimes[op->rts[i]].name,
                       bench_shape_name[op->shapes[si]], (double)sc->sizes[k],
                       c->why);
                any = 1;
                break; /* larger sizes follow from this one */
            }
    if (!any)
        printf("  (none)\n");
}

static void json_scale_cell(FILE *f, const scale_cell_t *c)
{
    if (c->status != ST_OK) {
        fprintf(f, "{\"tasks\": %llu, \"%s\": ", (unsigned long long)c->tasks,
                c->status == ST_SKIP ? "skipped" : "failed");
        json_str(f, c->why);
        fprintf(f, "}");
        return;
    }
    fprintf(f, "{\"tasks\": %llu, \"ns_per_task\": %.3f, \"min\": %.3f, "
               "\"max\": %.3f, \"runs\": %u, \"peak_rss_kib\": %ld, "
               "\"base_rss_kib\": %ld}",
            (unsigned long long)c->tasks, c->st.med, c->st.min, c->st.max,
            c->runs, c->peak_kib, c->base_kib);
}

static void json_scaling(FILE *f, const void *ctx)
{
    const scaling_t *sc = ctx;
    const opts_t *op = sc->op;
    fprintf(f, "{\n  \"bench\": \"pto-bench\",\n  \"cores\": %ld,\n"
               "  \"load_at_start\": %.2f,\n  \"threads\": %u,\n"
               "  \"cap_s\": %u,\n  \"cap_mib\": %u,\n  \"scaling\": {\n",
            sc->cores, sc->load1, sc->threads, op->cap_s, op->cap_mib);
    for (uint32_t si = 0; si < op->nshapes; si++) {
        uint32_t s = op->shapes[si];
        fprintf(f, "    \"%s\": {\n", bench_shape_name[s]);
        for (uint32_t i = 0; i < op->nrts; i++) {
            fprintf(f, "      \"%s\": [", runtimes[op->rts[i]].name);
            for (uint32_t k = 0; k < sc->nsizes; k++) {
                fprintf(f, "%s", k ? ", " : "");
                json_scale_cell(f, &sc->c[s][op->rts[i]][k]);
            }
            fprintf(f, "]%s\n", i + 1 < op->nrts ? "," : "");
        }
        fprintf(f, "    }%s\n", si + 1 < op->nshapes ? "," : "");
    }
    fprintf(f, "  }\n}\n");
}

/* ---- main ----------------------------------------------------------------- */

static void print_header(const opts_t *op, long cores, double load)
{
    printf("pto-bench: %ld online cores, load %.2f%s\n", cores, load,
           op->quick ? " (quick)" : "");
    printf("threads: pto_* = T core threads + the orchestrator (T=1: AIC "
           "tasks on 1 cluster; T=2: AIV tasks on 1 cluster);\n"
           "         starpu_* = T CPU workers + the submitting thread; "
           "omp_* = team of T (one submits);\n"
           "         tbb_flow = arena of T (the main thread builds and "
           "runs)\n");
    printf("empty kernels (one store each); every child: 1 warm-up run, "
           "then the timed runs\n");
}

static int compare(const opts_t *op)
{
    static report_t rp;
    memset(&rp, 0, sizeof(rp));
    rp.op = op;
    rp.cores = sysconf(_SC_NPROCESSORS_ONLN);
    rp.load1 = load_avg();
    print_header(op, rp.cores, rp.load1);
    timing_rounds(&rp);
    if (op->rss_tasks)
        rss_runs(&rp);
    else
        rss_from_timing(&rp);
    for (uint32_t si = 0; si < op->nshapes; si++)
        print_shape(&rp, op->shapes[si]);
    printf("(x/best: the best peer's ns/task over the runtime's: its "
           "throughput relative to the best peer)\n");
    print_rss(&rp);
    print_skips(&rp);
    if (op->json && bench_write_json(op->json, json_compare, &rp) != 0)
        return 1;
    return 0;
}

static int scale(const opts_t *op)
{
    static scaling_t sc;
    memset(&sc, 0, sizeof(sc));
    sc.op = op;
    sc.cores = sysconf(_SC_NPROCESSORS_ONLN);
    sc.load1 = load_avg();
    sc.threads = op->threads[op->nthreads - 1];
    print_header(op, sc.cores, sc.load1);
    scaling_runs(&sc);
    print_scaling(&sc);
    print_scaling_notes(&sc);
    if (op->json && bench_write_json(op->json, json_scaling, &sc) != 0)
        return 1;
    return 0;
}

int main(int argc, char **argv)
{
    static const bench_peer_t *const peers[] = BENCH_PEERS_IN_PROCESS;
    opts_t op;
    if (argc > 1 && !strcmp(argv[1], "--child"))
        return bench_child_main(argc, argv, peers,
                                sizeof(peers) / sizeof(peers[0]));
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (parse_args(&op, argc, argv) != 0) {
        usage(stderr);
        return 2;
    }
    if (init_self_dir() != 0) {
        fprintf(stderr, "pto-bench: cannot find its own directory\n");
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    return op.scaling ? scale(&op) : compare(&op);
}
