/*
 * trace.c - event buffers (trace.h) and the Chrome trace-event JSON writer
 * (pto_trace_write).
 *
 * Invariants:
 *   T1 buffer i is written only by its thread (0: the thread inside
 *      pto_run, bound at run begin and unbound at run end; 1 + c: core c's
 *      thread, bound once), so appends are plain stores;
 *      The shared buffer's slots are reserved by fetch_add, so each is
 *      written by one thread;
 *   T2 pto_trace_write runs between runs: the orchestrator has unbound,
 *      every core finished its last task of the run (pto_run returned after
 *      the drain, and the drain's acquire of the ring tails follows every
 *      task's completion), so the buffers are stable and visible;
 *   T3 an event is appended when it ends (a submit after the ready it
 *      caused), so buffers are not sorted by start time; viewers sort.
 *
 * The JSON: one process ("pto-runtime"), tracks (tid) 1 = orchestrator,
 * 2 = scheduler (ready instants), 10 + c = core c ("cluster k AIC/AIV0/
 * AIV1"). Every kernel invocation is a complete event ("X") named after
 * its kernel, with the task id, block, scope depth, the submit and ready
 * times and the producers it waited for ("deps", with "inferred" /
 * "explicit" kinds) in args; flow arrows join a producer's last invocation
 * to each consumer's first. tools/pto_trace_summary.py reads exactly this.
 */
#include "trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pto/trace.h"

static _Thread_local pto_trace_t *tls_trace;
static _Thread_local pto_trace_buf_t *tls_buf;

#define TRACK_ORCH 1
#define TRACK_SCHED 2
#define TRACK_CORE0 10

int pto__trace_create(pto_runtime_t *rt, pto_trace_t **out)
{
    *out = NULL;
    uint32_t cap = rt->cfg.trace_events;
    if (cap == 0)
        return 0;
    pto_trace_t *tr = calloc(1, sizeof(*tr));
    if (!tr)
        return PTO_ENOMEM;
    tr->nbufs = 1 + 3 * rt->cfg.clusters;
    tr->bufs = calloc(tr->nbufs, sizeof(*tr->bufs));
    tr->shared_cap = cap;
    tr->shared = malloc(sizeof(pto_trace_ev_t) * (size_t)cap);
    if (!tr->bufs || !tr->shared) {
        pto__trace_destroy(tr);
        return PTO_ENOMEM;
    }
    for (uint32_t i = 0; i < tr->nbufs; i++) {
        /* malloc: pages are committed only as events are written. */
        tr->bufs[i].ev = malloc(sizeof(pto_trace_ev_t) * (size_t)cap);
        if (!tr->bufs[i].ev) {
            pto__trace_destroy(tr);
            return PTO_ENOMEM;
        }
        tr->bufs[i].cap = cap;
    }
    *out = tr;
    return 0;
}

void pto__trace_destroy(pto_trace_t *tr)
{
    if (!tr)
        return;
    if (tr->bufs)
        for (uint32_t i = 0; i < tr->nbufs; i++)
            free(tr->bufs[i].ev);
    free(tr->bufs);
    free(tr->shared);
    free(tr);
}

void pto__trace_run_begin(pto_runtime_t *rt)
{
    pto_trace_t *tr = rt->trace;
    /* T2: no core writes between runs, so resetting here is race-free;
     * the ready-queue push of this run's first task publishes it. */
    for (uint32_t i = 0; i < tr->nbufs; i++) {
        tr->bufs[i].n = 0;
        tr->bufs[i].dropped = 0;
    }
    pto_store(&tr->shared_n, 0, pto_relaxed);
    tr->t_base = pto_now_ns();
    tr->recorded = true;
    tls_trace = tr;
    tls_buf = &tr->bufs[0];
}

void pto__trace_run_end(pto_runtime_t *rt)
{
    if (tls_trace == rt->trace) {
        tls_trace = NULL;
        tls_buf = NULL;
    }
}

void pto__trace_bind_core(pto_runtime_t *rt, uint32_t core)
{
    pto_trace_t *tr = rt->trace;
    if (!tr || 1 + core >= tr->nbufs)
        return;
    tls_trace = tr;
    tls_buf = &tr->bufs[1 + core];
}

void pto__trace_emit(pto_runtime_t *rt, pto_ev_kind_t kind, uint64_t t0,
                     uint64_t t1, pto_task_id_t task, uint32_t a, uint32_t b)
{
    pto_trace_t *tr = rt->trace;
    pto_trace_buf_t *buf = tls_buf;
    pto_trace_ev_t *e;
    if (!tr)
        return;
    if (tls_trace != tr || !buf) {
        /* relaxed: the slot is ours alone (T1); the writer reads after
         * the run (T2). */
        uint32_t i = pto_fetch_add(&tr->shared_n, 1, pto_relaxed);
        if (i >= tr->shared_cap)
            return; /* counted as dropped: shared_n - shared_cap */
        e = &tr->shared[i];
    } else if (buf->n == buf->cap) {
        buf->dropped++;
        return;
    } else {
        e = &buf->ev[buf->n++];
    }
    e->t0 = t0 - tr->t_base;
    e->t1 = kind == PTO_EV_EDGE ? t1 : t1 - tr->t_base;
    e->task = task;
    e->a = a;
    e->b = (uint16_t)b;
    e->kind = (uint8_t)kind;
}

/* ---- the writer ---------------------------------------------------------- */

/* Events in the shared buffer (slots reserved past its end were dropped). */
static uint32_t shared_used(const pto_trace_t *tr)
{
    uint32_t n = pto_load(&tr->shared_n, pto_relaxed);
    return n < tr->shared_cap ? n : tr->shared_cap;
}


/* What the writer learns about one task from the orchestrator's buffer
 * (submit, edges) and every buffer (ready, invocations). */
typedef struct task_info {
    pto_task_id_t id;
    uint64_t submit, ready;
    uint64_t first_start, last_end; /* over its invocations */
    uint32_t kernel;
    uint32_t depth;
    uint32_t first_track, last_track;
    uint32_t edge0, nedges;         /* its EDGE events in buffer 0 */
    bool has_submit, has_ready, ran;
} task_info_t;

typedef struct writer {
    pto_runtime_t *rt;
    FILE *f;
    task_info_t *info;
    uint32_t *slots;                /* open addressing: index + 1, 0 empty */
    uint32_t nslots, ninfo, cap;
    bool first;                     /* no event written yet */
} writer_t;

static uint32_t slot_of(const writer_t *w, pto_task_id_t id)
{
    uint64_t h = (id * UINT64_C(0x9E3779B97F4A7C15)) >> 20;
    return (uint32_t)h & (w->nslots - 1);
}

/* The info of task id (added when `add`), or NULL. */
static task_info_t *info_get(writer_t *w, pto_task_id_t id, bool add)
{
    uint32_t s = slot_of(w, id);
    while (w->slots[s] != 0) {
        task_info_t *ti = &w->info[w->slots[s] - 1];
        if (ti->id == id)
            return ti;
        s = (s + 1) & (w->nslots - 1);
    }
    if (!add || w->ninfo == w->cap)
        return NULL;
    task_info_t *ti = &w->info[w->ninfo++];
    memset(ti, 0, sizeof(*ti));
    ti->id = id;
    w->slots[s] = w->ninfo;
    return ti;
}

static void put_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void sep(writer_t *w)
{
    fputs(w->first ? "\n" : ",\n", w->f);
    w->first = false;
}

static double us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

static void put_id(FILE *f, pto_task_id_t id)
{
    fprintf(f, "\"%u:%u\"", (unsigned)(id >> 32), (unsigned)id);
}

static const char *role_name(uint32_t role)
{
    return role == 0 ? "AIC" : role == 1 ? "AIV0" : "AIV1";
}

static void put_tracks(writer_t *w, uint32_t ncores)
{
    sep(w);
    fprintf(w->f, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,"
                  "\"args\":{\"name\":\"pto-runtime\"}}");
    static const char *const fixed[2] = {"orchestrator", "scheduler"};
    for (uint32_t i = 0; i < 2 + ncores; i++) {
        uint32_t tid = i < 2 ? TRACK_ORCH + i : TRACK_CORE0 + (i - 2);
        char name[48];
        if (i < 2)
            snprintf(name, sizeof(name), "%s", fixed[i]);
        else
            snprintf(name, sizeof(name), "cluster %u %s", (i - 2) / 3,
                     role_name((i - 2) % 3));
        sep(w);
        fprintf(w->f, "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,"
                      "\"tid\":%u,\"args\":{\"name\":\"%s\"}}",
                tid, name);
        sep(w);
        fprintf(w->f, "{\"name\":\"thread_sort_index\",\"ph\":\"M\","
                      "\"pid\":1,\"tid\":%u,\"args\":{\"sort_index\":%u}}",
                tid, tid);
    }
}

/* Pass 1: collect per-task facts from every buffer. */
static void collect(writer_t *w)
{
    pto_trace_t *tr = w->rt->trace;
    for (uint32_t i = 0; i < shared_used(tr); i++) {
        const pto_trace_ev_t *e = &tr->shared[i];
        task_info_t *ti = e->kind == PTO_EV_READY
                              ? info_get(w, e->task, true)
                              : NULL;
        if (ti) {
            ti->has_ready = true;
            ti->ready = e->t0;
        }
    }
    for (uint32_t b = 0; b < tr->nbufs; b++) {
        const pto_trace_buf_t *buf = &tr->bufs[b];
        for (uint32_t i = 0; i < buf->n; i++) {
            const pto_trace_ev_t *e = &buf->ev[i];
            bool add = e->kind == PTO_EV_SUBMIT || e->kind == PTO_EV_TASK ||
                       e->kind == PTO_EV_READY || e->kind == PTO_EV_EDGE;
            task_info_t *ti = add ? info_get(w, e->task, true) : NULL;
            if (!ti)
                continue;
            if (e->kind == PTO_EV_SUBMIT) {
                ti->has_submit = true;
                ti->submit = e->t0;
                ti->kernel = e->a;
                ti->depth = e->b;
            } else if (e->kind == PTO_EV_EDGE) {
                if (ti->nedges++ == 0)
                    ti->edge0 = i;
            } else if (e->kind == PTO_EV_READY) {
                ti->has_ready = true;
                ti->ready = e->t0;
            } else {
                uint32_t track = TRACK_CORE0 + (b - 1);
                if (!ti->ran || e->t0 < ti->first_start) {
                    ti->first_start = e->t0;
                    ti->first_track = track;
                }
                if (!ti->ran || e->t1 > ti->last_end) {
                    ti->last_end = e->t1;
                    ti->last_track = track;
                }
                ti->ran = true;
                ti->kernel = e->a;
            }
        }
    }
}

static void put_deps(writer_t *w, const task_info_t *ti)
{
    const pto_trace_buf_t *ob = &w->rt->trace->bufs[0];
    fputs(",\"deps\":[", w->f);
    uint32_t k = 0;
    for (uint32_t i = ti->edge0; i < ob->n && k < ti->nedges; i++) {
        const pto_trace_ev_t *e = &ob->ev[i];
        if (e->kind != PTO_EV_EDGE || e->task != ti->id)
            continue;
        fprintf(w->f, "%s{\"task\":", k ? "," : "");
        put_id(w->f, (pto_task_id_t)e->t1);
        fprintf(w->f, ",\"kind\":\"%s\"}",
                e->a == (PTO_EDGE_INFERRED | PTO_EDGE_EXPLICIT) ? "both"
                : e->a == PTO_EDGE_EXPLICIT                   ? "explicit"
                                                              : "inferred");
        k++;
    }
    fputc(']', w->f);
}

static void put_invocation(writer_t *w, uint32_t track,
                           const pto_trace_ev_t *e)
{
    char kn[PTO_KERNEL_NAME_MAX + 8];
    task_info_t *ti = info_get(w, e->task, false);
    pto__kernel_name(w->rt, e->a, kn, sizeof(kn));
    sep(w);
    fputs("{\"name\":", w->f);
    put_json_string(w->f, kn);
    fprintf(w->f, ",\"cat\":\"task\",\"ph\":\"X\",\"pid\":1,\"tid\":%u,"
                  "\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"task\":",
            track, us(e->t0), us(e->t1 - e->t0));
    put_id(w->f, e->task);
    fprintf(w->f, ",\"block\":%u", e->b);
    if (ti && ti->has_submit)
        fprintf(w->f, ",\"scope_depth\":%u,\"submit_us\":%.3f", ti->depth,
                us(ti->submit));
    if (ti && ti->has_ready)
        fprintf(w->f, ",\"ready_us\":%.3f", us(ti->ready));
    if (ti)
        put_deps(w, ti);
    fputs("}}", w->f);
}

static const char *wait_name(uint32_t what)
{
    static const char *const names[] = {"task ring full", "heap ring full",
                                        "dependency pool full",
                                        "tracker full"};
    return what < 4 ? names[what] : "wait";
}

static void put_orch_event(writer_t *w, const pto_trace_ev_t *e)
{
    char name[PTO_KERNEL_NAME_MAX + 48], kn[PTO_KERNEL_NAME_MAX + 8];
    switch ((pto_ev_kind_t)e->kind) {
    case PTO_EV_SUBMIT:
        pto__kernel_name(w->rt, e->a, kn, sizeof(kn));
        snprintf(name, sizeof(name), "submit %s", kn);
        break;
    case PTO_EV_LOOKUP:
        snprintf(name, sizeof(name), "tracker lookup");
        break;
    case PTO_EV_INSERT:
        snprintf(name, sizeof(name), "tracker insert");
        break;
    case PTO_EV_WAIT:
        snprintf(name, sizeof(name), "wait: %s (ring %u)", wait_name(e->b),
                 e->a);
        break;
    case PTO_EV_SCOPE_END:
        snprintf(name, sizeof(name), "scope end (depth %u)", e->b);
        break;
    case PTO_EV_ELEM:
        snprintf(name, sizeof(name), "element access: wait for producers");
        break;
    case PTO_EV_DRAIN:
        snprintf(name, sizeof(name), "drain: wait for every task");
        break;
    default:
        return;
    }
    sep(w);
    fputs("{\"name\":", w->f);
    put_json_string(w->f, name);
    fprintf(w->f, ",\"cat\":\"orchestrator\",\"ph\":\"X\",\"pid\":1,"
                  "\"tid\":%u,\"ts\":%.3f,\"dur\":%.3f",
            TRACK_ORCH, us(e->t0), us(e->t1 - e->t0));
    if (e->kind == PTO_EV_SUBMIT) {
        fputs(",\"args\":{\"task\":", w->f);
        put_id(w->f, e->task);
        fputc('}', w->f);
    }
    fputc('}', w->f);
}

static void put_ready(writer_t *w, const pto_trace_ev_t *e)
{
    char kn[PTO_KERNEL_NAME_MAX + 8];
    task_info_t *ti = info_get(w, e->task, false);
    pto__kernel_name(w->rt, ti ? ti->kernel : PTO_KERNEL_NONE, kn,
                     sizeof(kn));
    char name[PTO_KERNEL_NAME_MAX + 16];
    snprintf(name, sizeof(name), "ready %s", kn);
    sep(w);
    fputs("{\"name\":", w->f);
    put_json_string(w->f, name);
    fprintf(w->f, ",\"cat\":\"scheduler\",\"ph\":\"i\",\"s\":\"t\","
                  "\"pid\":1,\"tid\":%u,\"ts\":%.3f,\"args\":{\"task\":",
            TRACK_SCHED, us(e->t0));
    put_id(w->f, e->task);
    fputs(",\"kernel\":", w->f);
    put_json_string(w->f, kn);
    fputs("}}", w->f);
}

/* Flow arrows: producer's last invocation -> consumer's first. */
static void put_flows(writer_t *w)
{
    const pto_trace_buf_t *ob = &w->rt->trace->bufs[0];
    uint64_t flow = 0;
    for (uint32_t i = 0; i < ob->n; i++) {
        const pto_trace_ev_t *e = &ob->ev[i];
        if (e->kind != PTO_EV_EDGE)
            continue;
        task_info_t *c = info_get(w, e->task, false);
        task_info_t *p = info_get(w, (pto_task_id_t)e->t1, false);
        if (!c || !p || !c->ran || !p->ran)
            continue;
        flow++;
        sep(w);
        fprintf(w->f, "{\"name\":\"dep\",\"cat\":\"dep\",\"ph\":\"s\","
                      "\"id\":%llu,\"pid\":1,\"tid\":%u,\"ts\":%.3f}",
                (unsigned long long)flow, p->last_track,
                us(p->last_end) - 0.001);
        sep(w);
        fprintf(w->f, "{\"name\":\"dep\",\"cat\":\"dep\",\"ph\":\"f\","
                      "\"bp\":\"e\",\"id\":%llu,\"pid\":1,\"tid\":%u,"
                      "\"ts\":%.3f}",
                (unsigned long long)flow, c->first_track,
                us(c->first_start));
    }
}

static uint64_t dropped_total(const pto_trace_t *tr)
{
    uint64_t d = pto_load(&tr->shared_n, pto_relaxed) - shared_used(tr);
    for (uint32_t i = 0; i < tr->nbufs; i++)
        d += tr->bufs[i].dropped;
    return d;
}

static void put_events(writer_t *w)
{
    pto_trace_t *tr = w->rt->trace;
    for (uint32_t i = 0; i < shared_used(tr); i++)
        if (tr->shared[i].kind == PTO_EV_READY)
            put_ready(w, &tr->shared[i]);
    for (uint32_t b = 0; b < tr->nbufs; b++) {
        const pto_trace_buf_t *buf = &tr->bufs[b];
        for (uint32_t i = 0; i < buf->n; i++) {
            const pto_trace_ev_t *e = &buf->ev[i];
            if (e->kind == PTO_EV_TASK)
                put_invocation(w, TRACK_CORE0 + (b - 1), e);
            else if (e->kind == PTO_EV_READY)
                put_ready(w, e);
            else if (e->kind != PTO_EV_EDGE)
                put_orch_event(w, e);
        }
    }
}

static int write_all(writer_t *w)
{
    pto_trace_t *tr = w->rt->trace;
    uint64_t dropped = dropped_total(tr);
    fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", w->f);
    w->first = true;
    put_tracks(w, tr->nbufs - 1);
    if (dropped > 0) {
        sep(w);
        fprintf(w->f, "{\"name\":\"TRACE INCOMPLETE: %llu events dropped "
                      "(trace_events = %u per thread)\",\"ph\":\"i\","
                      "\"s\":\"g\",\"pid\":1,\"tid\":%u,\"ts\":0}",
                (unsigned long long)dropped, w->rt->cfg.trace_events,
                TRACK_ORCH);
    }
    collect(w);
    put_events(w);
    put_flows(w);
    /* cpus: what the core threads could really run on at once (the
     * summary tool judges core utilisation against it). */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    fprintf(w->f, "\n],\"otherData\":{\"tasks\":%u,\"dropped_events\":%llu,"
                  "\"trace_events_per_thread\":%u,\"clusters\":%u,"
                  "\"cpus\":%ld}}\n",
            w->ninfo, (unsigned long long)dropped, w->rt->cfg.trace_events,
            w->rt->cfg.clusters, cpus > 0 ? cpus : 0);
    return ferror(w->f) ? PTO_ESYS : 0;
}

static int writer_init(writer_t *w, pto_runtime_t *rt)
{
    memset(w, 0, sizeof(*w));
    w->rt = rt;
    uint64_t n = shared_used(rt->trace);
    for (uint32_t b = 0; b < rt->trace->nbufs; b++)
        n += rt->trace->bufs[b].n;
    w->cap = (uint32_t)(n < UINT32_MAX / 4 ? n + 1 : UINT32_MAX / 4);
    w->nslots = 2;
    while (w->nslots < 2 * (uint64_t)w->cap)
        w->nslots <<= 1;
    w->info = malloc(sizeof(*w->info) * w->cap);
    w->slots = calloc(w->nslots, sizeof(*w->slots));
    return w->info && w->slots ? 0 : PTO_ENOMEM;
}

int pto_trace_write(pto_runtime_t *rt, const char *path)
{
    if (!rt || !path)
        return PTO_EINVAL;
    if (pto_load(&rt->in_run, pto_acquire))
        return pto__rt_error(rt, PTO_ESTATE,
                             "pto_trace_write: a run is in progress");
    return pto__trace_write(rt, path);
}

int pto__trace_write(pto_runtime_t *rt, const char *path)
{
    if (!rt->trace)
        return pto__rt_error(rt, PTO_ESTATE,
                             "pto_trace_write: tracing is off (set "
                             "cfg.trace_events, or PTO_TRACE_EVENTS / "
                             "PTO_TRACE_FILE, before pto_runtime_create)");
    if (!rt->trace->recorded)
        return pto__rt_error(rt, PTO_ESTATE,
                             "pto_trace_write: no run was traced yet");
    writer_t w;
    int rc = writer_init(&w, rt);
    FILE *f = rc == 0 ? fopen(path, "w") : NULL;
    if (rc == 0 && !f)
        rc = pto__rt_error(rt, PTO_ESYS, "pto_trace_write: cannot open %s: %s",
                           path, strerror(errno));
    if (f) {
        w.f = f;
        rc = write_all(&w);
        if (fclose(f) != 0 || rc != 0)
            rc = pto__rt_error(rt, PTO_ESYS,
                               "pto_trace_write: writing %s failed", path);
    } else if (rc == PTO_ENOMEM) {
        rc = pto__rt_error(rt, PTO_ENOMEM, "pto_trace_write: out of memory");
    }
    free(w.info);
    free(w.slots);
    return rc;
}

uint64_t pto_trace_dropped(const pto_runtime_t *rt)
{
    return rt && rt->trace ? dropped_total(rt->trace) : 0;
}
