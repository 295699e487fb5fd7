/*
 * graph.c - the recorded task graph (graph.h) and its DOT writer.
 *
 * DOT conventions: one node per task, named t<ring>_<seq>, labelled with
 * its kernel name(s) and id, filled by the cores it needs (AIC orange, AIV
 * blue, mixed violet, pto_alloc_tensors grey); an edge producer ->
 * consumer per wired dependency: solid black when inferred (tracker or a
 * runtime tensor's creator), dashed blue when explicit (pto_args_dep),
 * bold when both. The graph's label gives the counts and, when the limit
 * cut the recording, how many tasks are missing and which setting to
 * raise.
 */
#include "graph.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pto/trace.h"
#include "trace.h"

/* Edges recorded per task, on average, before the recording stops. */
#define PTO_GRAPH_EDGES_PER_TASK 8u

int pto__graph_create(const pto_config_t *cfg, pto_graph_t **out)
{
    *out = NULL;
    if (cfg->graph_tasks == 0)
        return 0;
    pto_graph_t *g = calloc(1, sizeof(*g));
    if (!g)
        return PTO_ENOMEM;
    g->task_cap = cfg->graph_tasks;
    g->edge_cap = cfg->graph_tasks * PTO_GRAPH_EDGES_PER_TASK;
    g->tasks = malloc(sizeof(*g->tasks) * (size_t)g->task_cap);
    g->edges = malloc(sizeof(*g->edges) * (size_t)g->edge_cap);
    if (!g->tasks || !g->edges) {
        pto__graph_destroy(g);
        return PTO_ENOMEM;
    }
    *out = g;
    return 0;
}

void pto__graph_destroy(pto_graph_t *g)
{
    if (!g)
        return;
    free(g->tasks);
    free(g->edges);
    free(g);
}

void pto__graph_run_begin(pto_graph_t *g)
{
    g->ntasks = 0;
    g->nedges = 0;
    g->omitted = 0;
    g->full = false;
    g->recorded = true;
}

bool pto__graph_task(pto_graph_t *g, pto_task_id_t id, const uint32_t kern[3],
                     uint32_t shape, uint32_t depth, uint32_t nedges)
{
    if (g->full || g->ntasks == g->task_cap ||
        nedges > g->edge_cap - g->nedges) {
        g->full = true;
        g->omitted++;
        return false;
    }
    pto_graph_task_t *t = &g->tasks[g->ntasks++];
    t->id = id;
    memcpy(t->kernel, kern, sizeof(t->kernel));
    t->shape = (uint8_t)shape;
    t->depth = (uint8_t)depth;
    t->edge0 = g->nedges;
    t->nedges = 0;
    return true;
}

void pto__graph_edge(pto_graph_t *g, pto_task_id_t producer, uint32_t kind)
{
    if (g->ntasks == 0 || g->nedges == g->edge_cap)
        return;
    pto_graph_edge_t *e = &g->edges[g->nedges++];
    e->producer = producer;
    e->kind = kind;
    g->tasks[g->ntasks - 1].nedges++;
}

/* ---- the writer ---------------------------------------------------------- */

static const char *fill_of(uint32_t shape)
{
    switch ((pto_shape_t)shape) {
    case PTO_SHAPE_AIC:
        return "#f4a259";
    case PTO_SHAPE_AIV:
    case PTO_SHAPE_AIV2:
        return "#8ecae6";
    case PTO_SHAPE_AIC_AIV:
    case PTO_SHAPE_AIC_AIV2:
        return "#cdb4db";
    default:
        return "#d9d9d9";
    }
}

/* DOT label text: the kernel names joined by " + " (quotes and
 * backslashes escaped). */
static void put_label(FILE *f, const pto_runtime_t *rt,
                      const pto_graph_task_t *t)
{
    char kn[PTO_KERNEL_NAME_MAX + 8];
    int n = 0;
    for (int r = 0; r < 3; r++) {
        if (t->kernel[r] == PTO_KERNEL_NONE)
            continue;
        pto__kernel_name(rt, t->kernel[r], kn, sizeof(kn));
        fputs(n++ ? " + " : "", f);
        for (const char *s = kn; *s; s++) {
            if (*s == '"' || *s == '\\')
                fputc('\\', f);
            fputc(*s, f);
        }
    }
    if (n == 0)
        fputs("alloc_tensors", f);
    fprintf(f, "\\n%u:%u", (unsigned)(t->id >> 32), (unsigned)t->id);
}

static void put_edge_style(FILE *f, uint32_t kind)
{
    if (kind == (PTO_EDGE_INFERRED | PTO_EDGE_EXPLICIT))
        fputs(" [style=bold]", f);
    else if (kind == PTO_EDGE_EXPLICIT)
        fputs(" [style=dashed, color=\"#1f77b4\"]", f);
}

static int write_dot(FILE *f, const pto_runtime_t *rt, const pto_graph_t *g)
{
    fprintf(f, "// pto-runtime task graph of the last run\n"
               "digraph pto {\n"
               "  graph [rankdir=TB, fontname=\"Helvetica\", "
               "label=\"pto-runtime: %u tasks, %u edges (solid: inferred, "
               "dashed blue: explicit, bold: both)",
            g->ntasks, g->nedges);
    if (g->omitted > 0)
        fprintf(f, "\\nTRUNCATED: the last %llu tasks of the run are not "
                   "drawn (graph_tasks = %u; raise it or PTO_GRAPH_TASKS)",
                (unsigned long long)g->omitted, g->task_cap);
    fputs("\"];\n  node [shape=box, style=\"rounded,filled\", "
          "fontname=\"Helvetica\", fontsize=10];\n",
          f);
    for (uint32_t i = 0; i < g->ntasks; i++) {
        const pto_graph_task_t *t = &g->tasks[i];
        fprintf(f, "  t%u_%u [label=\"", (unsigned)(t->id >> 32),
                (unsigned)t->id);
        put_label(f, rt, t);
        fprintf(f, "\", fillcolor=\"%s\"];\n", fill_of(t->shape));
    }
    for (uint32_t i = 0; i < g->ntasks; i++) {
        const pto_graph_task_t *t = &g->tasks[i];
        for (uint32_t k = 0; k < t->nedges; k++) {
            const pto_graph_edge_t *e = &g->edges[t->edge0 + k];
            fprintf(f, "  t%u_%u -> t%u_%u", (unsigned)(e->producer >> 32),
                    (unsigned)e->producer, (unsigned)(t->id >> 32),
                    (unsigned)t->id);
            put_edge_style(f, e->kind);
            fputs(";\n", f);
        }
    }
    fputs("}\n", f);
    return ferror(f) ? PTO_ESYS : 0;
}

int pto_graph_write_dot(pto_runtime_t *rt, const char *path)
{
    if (!rt || !path)
        return PTO_EINVAL;
    if (pto_load(&rt->in_run, pto_acquire))
        return pto__rt_error(rt, PTO_ESTATE,
                             "pto_graph_write_dot: a run is in progress");
    return pto__graph_write_dot(rt, path);
}

int pto__graph_write_dot(pto_runtime_t *rt, const char *path)
{
    const pto_graph_t *g = rt->graph;
    if (!g)
        return pto__rt_error(rt, PTO_ESTATE,
                             "pto_graph_write_dot: graph recording is off "
                             "(set cfg.graph_tasks, or PTO_GRAPH_TASKS / "
                             "PTO_DOT_FILE, before pto_runtime_create)");
    if (!g->recorded)
        return pto__rt_error(rt, PTO_ESTATE,
                             "pto_graph_write_dot: no run was recorded yet");
    FILE *f = fopen(path, "w");
    if (!f)
        return pto__rt_error(rt, PTO_ESYS,
                             "pto_graph_write_dot: cannot open %s: %s", path,
                             strerror(errno));
    int rc = write_dot(f, rt, g);
    if (fclose(f) != 0 || rc != 0)
        return pto__rt_error(rt, PTO_ESYS,
                             "pto_graph_write_dot: writing %s failed", path);
    if (g->omitted > 0)
        return pto__rt_error(rt, PTO_ETOOBIG,
                             "pto_graph_write_dot: %s holds the first %u "
                             "tasks only; %llu more were not recorded "
                             "(graph_tasks = %u, PTO_GRAPH_TASKS)",
                             path, g->ntasks,
                             (unsigned long long)g->omitted, g->task_cap);
    return 0;
}
