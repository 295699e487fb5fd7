/*
 * bench/bench_shapes.h - the four task graphs of pto-bench, the data they
 * touch, and the interface every runtime under test implements.
 *
 * Every runtime builds the same graph with the same task count; every task
 * runs an "empty" kernel that does one store: it writes its value (its
 * 1-based index in submission order) into the first word of the first datum
 * it writes. A datum is one 64-byte slot (a cache line, so two workers never
 * share a line). After each run the driver checks the data the last writers
 * left behind (bench_check), so a runtime that drops or misorders the final
 * tasks fails the benchmark instead of reporting a time.
 *
 * The shapes (N = task count of a run; slot arrays are reused modulo their
 * size, so the memory a run touches does not grow with N):
 *   indep  task i writes indep[i % BENCH_INDEP_SLOTS]; no task depends on
 *          another except through the slot reuse BENCH_INDEP_SLOTS tasks
 *          apart, further than any runtime here keeps tasks in flight.
 *   chain  every task reads and writes chain[0]: one serial chain.
 *   pa     N / 64 groups (one request of paged attention); group g uses
 *          group slot g % BENCH_PA_SLOTS and, per KV block j = 0..15:
 *            QK  reads q, kv_k[blk]             writes s_j
 *            SF  reads s_j                      writes p_j, m_j, l_j
 *            PV  reads p_j, kv_v[blk]           writes o_j
 *            UP  reads m_j, l_j, o_j; j == 0 writes mi, li, oi (fresh
 *                accumulators), j > 0 reads and writes them; j == 15 also
 *                writes out (its first datum, so its store lands there)
 *          s_j .. o_j are fresh per block (runtimes with an allocator create
 *          them; the others use a per-(group slot, block) datum); blk is the
 *          block table's physical block of (g, j). Groups are independent;
 *          UP chains across the 16 blocks of a group.
 *   fanin  N / 8 rounds; round r: BENCH_FANIN_K = 7 producers each write a
 *          fresh datum, then one consumer reads all 7 and writes
 *          res[r % BENCH_FANIN_SLOTS]. Rounds are independent.
 *          K = 7 keeps the consumer at 8 data, StarPU's STARPU_NMAXBUFS
 *          on Debian (more would take its per-task malloc'ed path).
 *
 * This header and bench_shapes.c are plain C99/C++ with no libpto use, so
 * the OpenMP peers built by other compilers (pto-bench-omp-*) share them.
 */
#ifndef PTO_BENCH_SHAPES_H
#define PTO_BENCH_SHAPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bench_shape {
    BENCH_INDEP = 0,
    BENCH_CHAIN,
    BENCH_PA,
    BENCH_FANIN,
    BENCH_SHAPE_COUNT
} bench_shape_t;

/* One datum: a 64-byte slot; tasks store into v[0]. */
#define BENCH_SLOT_WORDS 8u
typedef struct bench_slot {
    uint64_t v[BENCH_SLOT_WORDS];
} bench_slot_t;

#define BENCH_INDEP_SLOTS 4096u
#define BENCH_PA_BLOCKS 16u
#define BENCH_PA_KINDS 4u                              /* QK, SF, PV, UP */
#define BENCH_PA_GROUP_TASKS (BENCH_PA_BLOCKS * BENCH_PA_KINDS) /* 64 */
#define BENCH_PA_SLOTS 64u     /* group slots: 4096 tasks apart */
#define BENCH_PA_KV_POOL 256u  /* physical KV blocks, a power of two */
#define BENCH_PA_SCRAMBLE 2654435761u /* odd: a bijection modulo the pool */
#define BENCH_PA_ACC 3u        /* mi, li, oi */
#define BENCH_PA_INTER 5u      /* s, p, m, l, o */
#define BENCH_FANIN_K 7u
#define BENCH_FANIN_UNIT (BENCH_FANIN_K + 1u)
#define BENCH_FANIN_SLOTS 512u /* rounds: 4096 tasks apart */

enum { BENCH_PA_S = 0, BENCH_PA_P, BENCH_PA_M, BENCH_PA_L, BENCH_PA_O };

/* The data of a run; only the arrays of the job's shape are allocated. */
typedef struct bench_mem {
    bench_slot_t *indep; /* [BENCH_INDEP_SLOTS] */
    bench_slot_t *chain; /* [1] */
    bench_slot_t *q;     /* [BENCH_PA_SLOTS] */
    bench_slot_t *out;   /* [BENCH_PA_SLOTS] */
    bench_slot_t *kv_k;  /* [BENCH_PA_KV_POOL] */
    bench_slot_t *kv_v;  /* [BENCH_PA_KV_POOL] */
    bench_slot_t *acc;   /* [BENCH_PA_SLOTS][BENCH_PA_ACC] */
    bench_slot_t *inter; /* [BENCH_PA_SLOTS][BENCH_PA_BLOCKS][BENCH_PA_INTER] */
    bench_slot_t *prod;  /* [BENCH_FANIN_SLOTS][BENCH_FANIN_K] */
    bench_slot_t *res;   /* [BENCH_FANIN_SLOTS] */
} bench_mem_t;

/* One measurement: `warmup` untimed and `reps` timed runs of `shape` with
 * `tasks` tasks (already a whole number of groups / rounds) on `threads`
 * worker threads. */
typedef struct bench_job {
    bench_shape_t shape;
    uint32_t threads;
    uint64_t tasks;
    uint32_t warmup;
    uint32_t reps;
} bench_job_t;

/*
 * A runtime under test. setup() prepares everything a run needs (threads,
 * registered data) and returns its context; run() executes one whole graph
 * and returns when every task finished (this is what is timed); teardown()
 * frees it all. setup returns 0, BENCH_SKIP (cannot run this job: `why`
 * says why) or -1 (failed: `why` says why); run returns 0 or -1.
 */
#define BENCH_SKIP 1
typedef struct bench_peer {
    const char *name;
    int (*setup)(const bench_job_t *job, bench_mem_t *mem, void **ctx,
                 char *why, size_t why_len);
    int (*run)(void *ctx);
    void (*teardown)(void *ctx);
} bench_peer_t;

extern const char *const bench_shape_name[BENCH_SHAPE_COUNT];

/* Shape of a name, or -1. */
int bench_shape_parse(const char *s);

/* Tasks per group (pa: 64), round (fanin: 8) or task (indep, chain). */
uint32_t bench_shape_unit(bench_shape_t shape);

/* n rounded down to a whole number of units, at least one unit. */
uint64_t bench_shape_tasks(bench_shape_t shape, uint64_t n);

/* Physical KV block of group g's block j (the block table). */
static inline uint32_t bench_pa_block(uint64_t g, uint32_t j)
{
    return (uint32_t)((g * BENCH_PA_BLOCKS + j) * BENCH_PA_SCRAMBLE) &
           (BENCH_PA_KV_POOL - 1u);
}

/* Group slot g's intermediate `kind` (BENCH_PA_S..O) of block j. */
static inline bench_slot_t *bench_pa_inter(const bench_mem_t *m, uint64_t g,
                                           uint32_t j, uint32_t kind)
{
    uint64_t slot = g % BENCH_PA_SLOTS;
    return &m->inter[(slot * BENCH_PA_BLOCKS + j) * BENCH_PA_INTER + kind];
}

/* The one store of every kernel. */
static inline void bench_store(bench_slot_t *s, uint64_t v)
{
    s->v[0] = v;
}

/* Allocate (cache-line aligned, zeroed) the arrays of `shape`; -1 if out
 * of memory. bench_mem_free frees whatever was allocated. */
int bench_mem_alloc(bench_mem_t *m, bench_shape_t shape);
void bench_mem_free(bench_mem_t *m);
/* Zero the data a run's check reads (before each run). */
void bench_mem_reset(bench_mem_t *m, bench_shape_t shape);
/* 0 when the last writers' values are all there; else -1 and why. */
int bench_check(const bench_job_t *job, const bench_mem_t *m, char *why,
                size_t why_len);

/* Child side of pto-bench (bench_child.c): parse
 *   --child RUNTIME SHAPE THREADS TASKS WARMUP REPS
 * (argv[1] is "--child"), run the job on the named peer of peers[0..n),
 * print one result line on stdout and return the exit status:
 *   "ok BASE_RSS_KIB TASKS NS_PER_TASK..."  (one figure per timed run)
 *   "skip WHY" / "fail WHY" */
int bench_child_main(int argc, char **argv, const bench_peer_t *const *peers,
                     uint32_t n);

#ifdef __cplusplus
}
#endif

#endif /* PTO_BENCH_SHAPES_H */
