/*
 * test_trace.c - observability (src/trace.c, src/graph.c, the statistics
 * in src/runtime.c): a known graph's DOT edges, trace events and run
 * statistics; dropped events and a truncated graph say so; recording
 * turned off and on between runs; the PTO_TRACE_FILE / PTO_DOT_FILE
 * environment; every misuse with its code and message.
 *
 * The known graph (one cluster, kernels gate/mm/vec):
 *   T0 vec  OUTPUT_EXISTING x   (its kernel waits for the gate: every
 *                                task stays live until all are wired)
 *   T1 mm   INPUT x, INOUT y                 T0 -> T1 inferred
 *   T2 vec  INPUT x, dep T1                  T0 -> T2 inferred,
 *                                            T1 -> T2 explicit
 *   T3 mm+vec (mixed) INPUT y, dep T0        T1 -> T3 inferred,
 *                                            T0 -> T3 explicit
 *   T4 vec  INOUT x, dep T2                  T2 -> T4 both,
 *                                            T1 -> T4, T0 -> T4 inferred
 * With argv[1] = DIR it also leaves DIR/trace_known.json for
 * tests/trace/check_trace.py (ctest runs it after this test).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>

#include "check.h"
#include "pto/pto.h"

enum { K_VEC = 0, K_MM = 1, K_GATE = 2 };

static atomic_int gate_open;
static float x[64], y[64];

static void k_empty(const pto_kernel_ctx_t *c)
{
    (void)c;
}

static void k_gate(const pto_kernel_ctx_t *c)
{
    (void)c;
    while (!atomic_load(&gate_open))
        sched_yield();
}

static pto_tensor_t vec64(float *p)
{
    uint32_t shape[1] = {64};
    return pto_tensor_external(p, shape, 1, PTO_FLOAT32);
}

static void known_graph(pto_orch_t *o, void *user)
{
    (void)user;
    pto_tensor_t tx = vec64(x), ty = vec64(y);
    pto_args_t a;
    pto_args_init(&a);
    pto_args_output_existing(&a, &tx);
    pto_task_id_t t0 = pto_submit_aiv(o, K_GATE, &a);
    pto_args_init(&a);
    pto_args_input(&a, &tx);
    pto_args_inout(&a, &ty);
    pto_task_id_t t1 = pto_submit_aic(o, K_MM, &a);
    pto_args_init(&a);
    pto_args_input(&a, &tx);
    pto_args_dep(&a, t1);
    pto_task_id_t t2 = pto_submit_aiv(o, K_VEC, &a);
    pto_mixed_kernels_t mk = {K_MM, K_VEC, PTO_KERNEL_NONE};
    pto_args_init(&a);
    pto_args_input(&a, &ty);
    pto_args_dep(&a, t0);
    pto_submit_mixed(o, &mk, &a);
    pto_args_init(&a);
    pto_args_inout(&a, &tx);
    pto_args_dep(&a, t2);
    pto_submit_aiv(o, K_VEC, &a);
    atomic_store(&gate_open, 1);
}

static void one_task(pto_orch_t *o, void *user)
{
    (void)user;
    pto_tensor_t tx = vec64(x);
    pto_args_t a;
    pto_args_init(&a);
    pto_args_inout(&a, &tx);
    pto_submit_aiv(o, K_VEC, &a);
}

static pto_runtime_t *make_rt(uint32_t trace_events, uint32_t graph_tasks)
{
    pto_config_t cfg;
    pto_config_init(&cfg);
    cfg.clusters = 1;
    cfg.core_timing = 1;
    cfg.trace_events = trace_events;
    cfg.graph_tasks = graph_tasks;
    pto_runtime_t *rt = NULL;
    REQUIRE(pto_runtime_create(&cfg, &rt) == 0);
    REQUIRE(pto_kernel_register(rt, K_VEC, k_empty, "vec") == 0);
    REQUIRE(pto_kernel_register(rt, K_MM, k_empty, "mm") == 0);
    REQUIRE(pto_kernel_register(rt, K_GATE, k_gate, "gate") == 0);
    return rt;
}

static int run_known(pto_runtime_t *rt)
{
    atomic_store(&gate_open, 0);
    return pto_run(rt, known_graph, NULL);
}

/* The whole file, NUL-terminated (caller frees). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s)
        s[n] = '\0';
    fclose(f);
    return s;
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static void tmp_path(char *buf, size_t n, const char *dir, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, name);
}

static void test_known_graph(const char *dir)
{
    pto_runtime_t *rt = make_rt(4096, 100);
    REQUIRE(run_known(rt) == 0);

    /* Statistics add up. */
    pto_run_stats_t st;
    REQUIRE(pto_run_stats(rt, &st) == 0);
    CHECK_EQ(st.tasks, 5);
    CHECK_EQ(st.invocations, 6); /* the mixed task runs on two cores */
    CHECK_EQ(st.edges_inferred, 6);
    CHECK_EQ(st.edges_explicit, 3);
    CHECK_EQ(st.tracker_lookups, 6);
    CHECK_EQ(st.tracker_inserts, 6);
    CHECK_EQ(st.tracker_hits, 6);
    CHECK_EQ(st.cores, 3);
    CHECK_EQ(st.ring_high_water[0], 5);
    uint64_t sum = 0, busy = 0;
    for (uint32_t c = 0; c < st.cores; c++) {
        pto_core_stats_t cs;
        REQUIRE(pto_run_core_stats(rt, c, &cs) == 0);
        CHECK_EQ(cs.cluster, 0);
        CHECK_EQ(cs.subtask, c);
        CHECK(cs.utilisation >= 0.0 && cs.utilisation <= 1.0);
        sum += cs.invocations;
        busy += cs.kernel_ns;
    }
    CHECK_EQ(sum, st.invocations);
    CHECK_EQ(busy, st.kernel_ns);
    pto_core_stats_t cs;
    CHECK_EQ(pto_run_core_stats(rt, 0, &cs), 0);
    CHECK_EQ(cs.invocations, 2); /* T1 and T3's AIC part */
    CHECK_EQ(pto_run_core_stats(rt, 3, &cs), PTO_EINVAL);
    CHECK_EQ(pto_run_core_stats(NULL, 0, &cs), PTO_EINVAL);

    /* The DOT: every node and exactly the expected edges. */
    char path[512];
    tmp_path(path, sizeof path, dir, "trace_known.dot");
    REQUIRE(pto_graph_write_dot(rt, path) == 0);
    char *dot = slurp(path);
    REQUIRE(dot != NULL);
    CHECK(strstr(dot, "t0_0 [label=\"gate\\n0:0\", fillcolor=\"#8ecae6\"]"));
    CHECK(strstr(dot, "t0_1 [label=\"mm\\n0:1\", fillcolor=\"#f4a259\"]"));
    CHECK(strstr(dot, "t0_3 [label=\"mm + vec\\n0:3\", "
                      "fillcolor=\"#cdb4db\"]"));
    static const char *const edges[] = {
        "t0_0 -> t0_1;\n",
        "t0_0 -> t0_2;\n",
        "t0_1 -> t0_2 [style=dashed, color=\"#1f77b4\"];\n",
        "t0_1 -> t0_3;\n",
        "t0_0 -> t0_3 [style=dashed, color=\"#1f77b4\"];\n",
        "t0_2 -> t0_4 [style=bold];\n",
        "t0_1 -> t0_4;\n",
        "t0_0 -> t0_4;\n",
    };
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        CHECK_EQ(count(dot, edges[i]), 1);
    CHECK_EQ(count(dot, " -> "), 8);
    CHECK(strstr(dot, "5 tasks, 8 edges"));
    CHECK(!strstr(dot, "TRUNCATED"));
    free(dot);

    /* The trace: tracks, one event per invocation, ready instants,
     * submits, the deps of T4. The Python check goes further. */
    tmp_path(path, sizeof path, dir, "trace_known.json");
    REQUIRE(pto_trace_write(rt, path) == 0);
    CHECK_EQ(pto_trace_dropped(rt), 0);
    char *js = slurp(path);
    REQUIRE(js != NULL);
    CHECK(strstr(js, "\"traceEvents\":["));
    CHECK(strstr(js, "\"args\":{\"name\":\"orchestrator\"}"));
    CHECK(strstr(js, "\"args\":{\"name\":\"scheduler\"}"));
    CHECK(strstr(js, "\"args\":{\"name\":\"cluster 0 AIC\"}"));
    CHECK(strstr(js, "\"args\":{\"name\":\"cluster 0 AIV1\"}"));
    CHECK_EQ(count(js, "\"cat\":\"task\""), 6);
    CHECK_EQ(count(js, "\"cat\":\"scheduler\""), 5);
    CHECK_EQ(count(js, "\"name\":\"submit "), 5);
    CHECK_EQ(count(js, "\"name\":\"tracker lookup\""), 5);
    CHECK_EQ(count(js, "\"ph\":\"s\""), count(js, "\"ph\":\"f\""));
    CHECK_EQ(count(js, "\"ph\":\"f\""), 8); /* one arrow per edge */
    CHECK(strstr(js, "\"deps\":[{\"task\":\"0:2\",\"kind\":\"both\"},"
                     "{\"task\":\"0:1\",\"kind\":\"inferred\"},"
                     "{\"task\":\"0:0\",\"kind\":\"inferred\"}]"));
    CHECK(strstr(js, "\"name\":\"drain: wait for every task\""));
    CHECK(!strstr(js, "TRACE INCOMPLETE"));
    free(js);

    /* Printed statistics name every figure. */
    tmp_path(path, sizeof path, dir, "trace_known.stats");
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    CHECK_EQ(pto_run_stats_print(rt, f), 0);
    fclose(f);
    char *txt = slurp(path);
    REQUIRE(txt != NULL);
    CHECK(strstr(txt, "run: 5 tasks, 6 kernel invocations"));
    CHECK(strstr(txt, "edges: 6 inferred, 3 explicit"));
    CHECK(strstr(txt, "tracker: 6 lookups, 6 inserts, 6 hits"));
    CHECK(strstr(txt, "core 0 (cluster 0 AIC): 2 invocations"));
    free(txt);
    CHECK_EQ(pto_run_stats_print(NULL, stdout), PTO_EINVAL);
    pto_runtime_destroy(rt);
}

static void test_dropped_and_truncated(const char *dir)
{
    char path[512];
    pto_runtime_t *rt = make_rt(3, 2);
    REQUIRE(run_known(rt) == 0);
    tmp_path(path, sizeof path, dir, "trace_small.json");
    REQUIRE(pto_trace_write(rt, path) == 0);
    CHECK(pto_trace_dropped(rt) > 0);
    char *js = slurp(path);
    REQUIRE(js != NULL);
    CHECK(strstr(js, "TRACE INCOMPLETE"));
    CHECK(strstr(js, "(trace_events = 3 per thread)"));
    free(js);

    tmp_path(path, sizeof path, dir, "trace_small.dot");
    CHECK_EQ(pto_graph_write_dot(rt, path), PTO_ETOOBIG);
    CHECK(strstr(pto_last_error(rt), "first 2 tasks only; 3 more"));
    CHECK(strstr(pto_last_error(rt), "graph_tasks = 2"));
    char *dot = slurp(path);
    REQUIRE(dot != NULL);
    CHECK(strstr(dot, "TRUNCATED: the last 3 tasks"));
    CHECK_EQ(count(dot, "[label="), 2);
    CHECK_EQ(count(dot, " -> "), 1); /* T0 -> T1 */
    free(dot);
    pto_runtime_destroy(rt);
}

static void test_enable(const char *dir)
{
    char path[512];
    tmp_path(path, sizeof path, dir, "trace_enable.json");
    pto_runtime_t *rt = make_rt(1024, 16);
    REQUIRE(run_known(rt) == 0);
    CHECK_EQ(pto_trace_enable(rt, false), 0);
    REQUIRE(pto_run(rt, one_task, NULL) == 0);
    /* Not recorded: the files still hold the known graph. */
    REQUIRE(pto_trace_write(rt, path) == 0);
    char *js = slurp(path);
    REQUIRE(js != NULL);
    CHECK_EQ(count(js, "\"cat\":\"task\""), 6);
    free(js);
    CHECK_EQ(pto_trace_enable(rt, true), 0);
    REQUIRE(pto_run(rt, one_task, NULL) == 0);
    REQUIRE(pto_trace_write(rt, path) == 0);
    js = slurp(path);
    REQUIRE(js != NULL);
    CHECK_EQ(count(js, "\"cat\":\"task\""), 1);
    free(js);
    /* Statistics do not depend on recording. */
    pto_run_stats_t st;
    REQUIRE(pto_run_stats(rt, &st) == 0);
    CHECK_EQ(st.tasks, 1);
    CHECK_EQ(st.invocations, 1);
    pto_runtime_destroy(rt);
}

static void test_env(const char *dir)
{
    char tpath[512], dpath[512];
    tmp_path(tpath, sizeof tpath, dir, "trace_env.json");
    tmp_path(dpath, sizeof dpath, dir, "trace_env.dot");
    remove(tpath);
    remove(dpath);
    setenv("PTO_TRACE_FILE", tpath, 1);
    setenv("PTO_DOT_FILE", dpath, 1);
    pto_config_t cfg;
    pto_config_init(&cfg);
    CHECK_EQ(cfg.trace_events, 65536);
    CHECK_EQ(cfg.graph_tasks, 10000);
    setenv("PTO_TRACE_EVENTS", "100", 1);
    pto_config_init(&cfg);
    CHECK_EQ(cfg.trace_events, 100);
    unsetenv("PTO_TRACE_EVENTS");
    cfg.clusters = 1;
    pto_runtime_t *rt = NULL;
    REQUIRE(pto_runtime_create(&cfg, &rt) == 0);
    unsetenv("PTO_TRACE_FILE");
    unsetenv("PTO_DOT_FILE");
    REQUIRE(pto_kernel_register(rt, K_VEC, k_empty, "vec") == 0);
    REQUIRE(pto_run(rt, one_task, NULL) == 0);
    char *js = slurp(tpath), *dot = slurp(dpath);
    CHECK(js != NULL && strncmp(js, "{\"displayTimeUnit\"", 18) == 0);
    CHECK(dot != NULL && strstr(dot, "1 tasks, 0 edges"));
    free(js);
    free(dot);
    pto_runtime_destroy(rt);
}

static void test_misuse(const char *dir)
{
    char path[512];
    tmp_path(path, sizeof path, dir, "trace_misuse.json");
    pto_runtime_t *rt = make_rt(0, 0);
    CHECK_EQ(pto_trace_write(rt, path), PTO_ESTATE);
    CHECK(strstr(pto_last_error(rt), "tracing is off"));
    CHECK(strstr(pto_last_error(rt), "cfg.trace_events"));
    CHECK_EQ(pto_graph_write_dot(rt, path), PTO_ESTATE);
    CHECK(strstr(pto_last_error(rt), "graph recording is off"));
    CHECK_EQ(pto_trace_enable(rt, true), PTO_ESTATE);
    CHECK(strstr(pto_last_error(rt), "neither tracing nor the graph"));
    CHECK_EQ(pto_trace_dropped(rt), 0);
    pto_runtime_destroy(rt);

    rt = make_rt(64, 8);
    CHECK_EQ(pto_trace_write(rt, path), PTO_ESTATE);
    CHECK(strstr(pto_last_error(rt), "no run was traced yet"));
    CHECK_EQ(pto_graph_write_dot(rt, path), PTO_ESTATE);
    CHECK(strstr(pto_last_error(rt), "no run was recorded yet"));
    REQUIRE(pto_run(rt, one_task, NULL) == 0);
    CHECK_EQ(pto_trace_write(rt, "/nonexistent-dir/x.json"), PTO_ESYS);
    CHECK(strstr(pto_last_error(rt), "cannot open /nonexistent-dir/x.json"));
    CHECK_EQ(pto_graph_write_dot(rt, "/nonexistent-dir/x.dot"), PTO_ESYS);
    CHECK_EQ(pto_trace_write(NULL, path), PTO_EINVAL);
    CHECK_EQ(pto_trace_write(rt, NULL), PTO_EINVAL);
    CHECK_EQ(pto_graph_write_dot(NULL, path), PTO_EINVAL);
    CHECK_EQ(pto_trace_enable(NULL, true), PTO_EINVAL);
    pto_runtime_destroy(rt);

    pto_config_t cfg;
    pto_config_init(&cfg);
    cfg.trace_events = (1u << 24) + 1;
    CHECK_EQ(pto_runtime_create(&cfg, &rt), PTO_ECONFIG);
    CHECK(strstr(pto_last_error(NULL), "trace_events = 16777217"));
    pto_config_init(&cfg);
    cfg.graph_tasks = (1u << 22) + 1;
    CHECK_EQ(pto_runtime_create(&cfg, &rt), PTO_ECONFIG);
    CHECK(strstr(pto_last_error(NULL), "graph_tasks = 4194305"));
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    unsetenv("PTO_TRACE_FILE");
    unsetenv("PTO_DOT_FILE");
    unsetenv("PTO_TRACE_EVENTS");
    unsetenv("PTO_GRAPH_TASKS");
    test_known_graph(dir);
    test_dropped_and_truncated(dir);
    test_enable(dir);
    test_env(dir);
    test_misuse(dir);
    return check_result();
}
