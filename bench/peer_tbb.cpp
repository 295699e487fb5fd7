/*
 * bench/peer_tbb.cpp - pto-bench's graphs as a oneTBB flow graph
 * (tbb_flow): one continue_node per task, make_edge per dependency.
 *
 * A flow graph is built, then run: an edge made after its producer already
 * ran is never signalled, so nodes cannot be wired to running ones. The
 * graph is therefore built in windows of TBB_WINDOW tasks (whole pa groups
 * and fanin rounds): the main thread builds window k+1 while window k runs,
 * waits for window k (wait_for_all), destroys its nodes and starts window
 * k+1 by putting a message to its root nodes. Edges between tasks of
 * different windows are implied by that barrier; two windows of nodes at
 * most are alive, so memory does not grow with the task count.
 *
 * Threads: a task_arena of `threads` slots, the main thread in one of them
 * (it builds, and runs tasks while it waits); global_control caps TBB's
 * pool at the same count. Fresh intermediates are per-(group slot, block)
 * slots, as for the OpenMP peers.
 */
#include <tbb/flow_graph.h>
#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include <cstdio>
#include <deque>
#include <exception>
#include <memory>
#include <new>
#include <vector>

#include "bench_peers.h"
#include "bench_shapes.h"

namespace {

/* Tasks per window: pto's default task_window. */
constexpr uint64_t TBB_WINDOW = 1024;

using msg_t = tbb::flow::continue_msg;
using node_t = tbb::flow::continue_node<msg_t>;

struct Window {
    tbb::flow::graph g;
    std::deque<node_t> nodes; /* stable addresses while the deque grows */
    std::vector<node_t *> roots;
};

struct TbbCtx {
    const bench_job_t *job;
    bench_mem_t *mem;
    std::unique_ptr<tbb::global_control> limit;
    std::unique_ptr<tbb::task_arena> arena;
    Window w[2];
};

node_t &task(Window &w, bench_slot_t *s, uint64_t value)
{
    w.nodes.emplace_back(w.g, [s, value](const msg_t &) {
        bench_store(s, value);
        return msg_t();
    });
    return w.nodes.back();
}

node_t &root(Window &w, bench_slot_t *s, uint64_t value)
{
    node_t &n = task(w, s, value);
    w.roots.push_back(&n);
    return n;
}

/* Units [lo, hi) of each shape into window w. */
void build_indep(TbbCtx &c, Window &w, uint64_t lo, uint64_t hi)
{
    for (uint64_t i = lo; i < hi; i++)
        root(w, &c.mem->indep[i % BENCH_INDEP_SLOTS], i + 1);
}

void build_chain(TbbCtx &c, Window &w, uint64_t lo, uint64_t hi)
{
    node_t *prev = &root(w, c.mem->chain, lo + 1);
    for (uint64_t i = lo + 1; i < hi; i++) {
        node_t &n = task(w, c.mem->chain, i + 1);
        tbb::flow::make_edge(*prev, n);
        prev = &n;
    }
}

void build_pa_group(TbbCtx &c, Window &w, uint64_t g)
{
    const bench_mem_t *m = c.mem;
    uint64_t slot = g % BENCH_PA_SLOTS, t = g * BENCH_PA_GROUP_TASKS;
    node_t *up = nullptr;
    for (uint32_t j = 0; j < BENCH_PA_BLOCKS; j++, t += BENCH_PA_KINDS) {
        node_t &qk = root(w, bench_pa_inter(m, g, j, BENCH_PA_S), t + 1);
        node_t &sf = task(w, bench_pa_inter(m, g, j, BENCH_PA_P), t + 2);
        node_t &pv = task(w, bench_pa_inter(m, g, j, BENCH_PA_O), t + 3);
        bench_slot_t *dst = j == BENCH_PA_BLOCKS - 1
                                ? &m->out[slot]
                                : &m->acc[slot * BENCH_PA_ACC];
        node_t &u = task(w, dst, t + 4);
        tbb::flow::make_edge(qk, sf);
        tbb::flow::make_edge(sf, pv);
        tbb::flow::make_edge(pv, u);
        tbb::flow::make_edge(sf, u);
        if (up)
            tbb::flow::make_edge(*up, u);
        up = &u;
    }
}

void build_pa(TbbCtx &c, Window &w, uint64_t lo, uint64_t hi)
{
    for (uint64_t g = lo; g < hi; g++)
        build_pa_group(c, w, g);
}

void build_fanin(TbbCtx &c, Window &w, uint64_t lo, uint64_t hi)
{
    for (uint64_t r = lo; r < hi; r++) {
        uint64_t slot = r % BENCH_FANIN_SLOTS, t = r * BENCH_FANIN_UNIT;
        node_t *p[BENCH_FANIN_K];
        for (uint32_t k = 0; k < BENCH_FANIN_K; k++)
            p[k] = &root(w, &c.mem->prod[slot * BENCH_FANIN_K + k], t + k + 1);
        node_t &cons = task(w, &c.mem->res[slot], t + BENCH_FANIN_UNIT);
        for (uint32_t k = 0; k < BENCH_FANIN_K; k++)
            tbb::flow::make_edge(*p[k], cons);
    }
}

void build(TbbCtx &c, Window &w, uint64_t lo, uint64_t hi)
{
    switch (c.job->shape) {
    case BENCH_INDEP:
        build_indep(c, w, lo, hi);
        break;
    case BENCH_CHAIN:
        build_chain(c, w, lo, hi);
        break;
    case BENCH_PA:
        build_pa(c, w, lo, hi);
        break;
    default:
        build_fanin(c, w, lo, hi);
        break;
    }
}

void finish(Window &w)
{
    w.g.wait_for_all();
    w.nodes.clear();
    w.roots.clear();
}

void run_windows(TbbCtx &c)
{
    uint64_t unit = bench_shape_unit(c.job->shape);
    uint64_t units = c.job->tasks / unit;
    uint64_t per = TBB_WINDOW / unit;
    int cur = 0, running = 0;
    for (uint64_t u = 0; u < units; u += per, cur ^= 1) {
        Window &w = c.w[cur];
        build(c, w, u, u + per < units ? u + per : units);
        if (running)
            finish(c.w[cur ^ 1]);
        for (node_t *n : w.roots)
            n->try_put(msg_t());
        running = 1;
    }
    if (running)
        finish(c.w[cur ^ 1]);
}

int tbb_run(void *ctx)
{
    TbbCtx &c = *static_cast<TbbCtx *>(ctx);
    try {
        c.arena->execute([&c] { run_windows(c); });
    } catch (const std::exception &e) {
        std::fprintf(stderr, "tbb_flow: %s\n", e.what());
        return -1;
    }
    return 0;
}

int tbb_setup(const bench_job_t *job, bench_mem_t *mem, void **out,
              char *why, size_t why_len)
{
    TbbCtx *c = new (std::nothrow) TbbCtx();
    if (!c) {
        std::snprintf(why, why_len, "out of memory");
        return -1;
    }
    c->job = job;
    c->mem = mem;
    c->limit.reset(new tbb::global_control(
        tbb::global_control::max_allowed_parallelism, job->threads));
    c->arena.reset(new tbb::task_arena(static_cast<int>(job->threads)));
    *out = c;
    return 0;
}

void tbb_teardown(void *ctx)
{
    delete static_cast<TbbCtx *>(ctx);
}

} // namespace

extern "C" const bench_peer_t bench_peer_tbb_flow = {"tbb_flow", tbb_setup,
                                                     tbb_run, tbb_teardown};
