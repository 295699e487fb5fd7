#!/usr/bin/env python3
"""Summarise a pto-runtime trace (pto_trace_write / PTO_TRACE_FILE).

usage: tools/pto_trace_summary.py TRACE.json [--json] [--top N]

Prints, from the Chrome trace-event JSON the runtime writes:
  - the run's span, tasks and kernel invocations, dropped events;
  - per core: invocations, busy time and utilisation over the span;
  - the orchestrator: time submitting, waiting on back-pressure, waiting
    for element accesses, draining at the end;
  - dispatch latency (ready -> start) median and worst;
  - the critical path: from the task that finished last, back through the
    producer that finished last, with the kernel time on it and, per link,
    what delayed the next task (its producer, its submit, or dispatch);
  - a verdict: what bounded the run (the critical path, the orchestrator,
    the cores, or dispatch latency).
--json prints the same figures as one JSON object (the tests use it).
Standard library only.
"""

import argparse
import json
import statistics
import sys

ORCH_TID = 1
CORE_TID0 = 10


def load(path):
    with open(path) as f:
        doc = json.load(f)
    if isinstance(doc, list):
        return doc, {}
    return doc.get("traceEvents", []), doc.get("otherData", {})


def track_names(events):
    names = {}
    for e in events:
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            names[e.get("tid")] = e.get("args", {}).get("name", "")
    return names


def collect_tasks(events):
    """Task id -> facts, merged over its invocations."""
    tasks = {}
    for e in events:
        if e.get("ph") != "X" or e.get("cat") != "task":
            continue
        a = e.get("args", {})
        tid = a.get("task")
        start, end = e["ts"], e["ts"] + e.get("dur", 0)
        t = tasks.get(tid)
        if t is None:
            t = tasks[tid] = {
                "id": tid, "kernel": e.get("name"), "start": start,
                "end": end, "busy": 0.0, "invocations": 0,
                "submit": a.get("submit_us"), "ready": a.get("ready_us"),
                "deps": [d["task"] for d in a.get("deps", [])],
            }
        t["start"] = min(t["start"], start)
        t["end"] = max(t["end"], end)
        t["busy"] += e.get("dur", 0)
        t["invocations"] += 1
    return tasks


def core_figures(events, names, span):
    cores = {}
    for e in events:
        if e.get("ph") != "X" or e.get("cat") != "task":
            continue
        c = cores.setdefault(e["tid"], {"track": names.get(e["tid"], str(e["tid"])),
                                        "invocations": 0, "busy_us": 0.0})
        c["invocations"] += 1
        c["busy_us"] += e.get("dur", 0)
    for c in cores.values():
        c["utilisation"] = c["busy_us"] / span if span > 0 else 0.0
    return [cores[k] for k in sorted(cores)]


def orch_figures(events):
    f = {"submit_us": 0.0, "wait_us": 0.0, "element_wait_us": 0.0,
         "drain_us": 0.0, "scope_end_us": 0.0, "submits": 0, "waits": 0}
    for e in events:
        if e.get("ph") != "X" or e.get("tid") != ORCH_TID:
            continue
        n, d = e.get("name", ""), e.get("dur", 0)
        if n.startswith("submit "):
            f["submit_us"] += d
            f["submits"] += 1
        elif n.startswith("wait:"):
            f["wait_us"] += d
            f["waits"] += 1
        elif n.startswith("element access"):
            f["element_wait_us"] += d
        elif n.startswith("drain"):
            f["drain_us"] += d
        elif n.startswith("scope end"):
            f["scope_end_us"] += d
    # Waits happen inside submits: submitting proper excludes them.
    f["submitting_us"] = max(0.0, f["submit_us"] - f["wait_us"])
    return f


def critical_path(tasks):
    """Back from the last task to finish, through the latest producer."""
    if not tasks:
        return []
    t = max(tasks.values(), key=lambda x: x["end"])
    path = []
    seen = set()
    while t is not None and t["id"] not in seen:
        seen.add(t["id"])
        preds = [tasks[d] for d in t["deps"] if d in tasks]
        p = max(preds, key=lambda x: x["end"]) if preds else None
        # What the start of t waited for last.
        gates = {"dispatch": t.get("ready")}
        cause = "start of the run"
        if p is not None:
            cause = "producer " + p["id"]
        if t.get("submit") is not None and (p is None or t["submit"] > p["end"]):
            cause = "its submit (the orchestrator)"
        path.append({"task": t["id"], "kernel": t["kernel"],
                     "start_us": t["start"], "end_us": t["end"],
                     "busy_us": t["busy"], "ready_us": gates["dispatch"],
                     "waited_for": cause})
        t = p
    path.reverse()
    return path


def summarise(path):
    events, other = load(path)
    names = track_names(events)
    xs = [e for e in events if e.get("ph") in ("X", "i")]
    if not xs:
        return {"error": "no events"}
    t0 = min(e["ts"] for e in xs)
    t1 = max(e["ts"] + e.get("dur", 0) for e in xs)
    span = t1 - t0
    tasks = collect_tasks(events)
    cores = core_figures(events, names, span)
    orch = orch_figures(events)
    lat = [t["start"] - t["ready"] for t in tasks.values()
           if t.get("ready") is not None]
    cp = critical_path(tasks)
    cp_busy = sum(s["busy_us"] for s in cp)
    used = [c for c in cores if c["invocations"] > 0]
    mean_util = (sum(c["utilisation"] for c in used) / len(used)) if used else 0.0
    # Core threads can outnumber CPUs (the CPU platform): then the cores
    # are saturated when their busy time fills the CPUs.
    cpus = other.get("cpus") or len(used) or 1
    slots = min(cpus, len(used)) if used else 1
    busy_frac = (sum(c["busy_us"] for c in used) / (slots * span)
                 if span > 0 else 0.0)
    orch_frac = orch["submitting_us"] / span if span > 0 else 0.0
    cp_frac = cp_busy / span if span > 0 else 0.0
    if cp_frac >= 0.7:
        verdict = ("critical path: its %d tasks' kernels fill %.0f%% of the "
                   "run; more cores cannot help" % (len(cp), 100 * cp_frac))
    elif orch_frac >= 0.7:
        verdict = ("orchestrator: it spent %.0f%% of the run submitting; "
                   "cores waited for work (fewer, larger tasks or MANUAL "
                   "scopes help)" % (100 * orch_frac))
    elif busy_frac >= 0.7:
        verdict = ("cores: kernels kept %d of them (%s) %.0f%% busy"
                   % (slots, "the machine's CPUs" if slots == cpus and
                      cpus < len(used) else "the cores that ran tasks",
                      100 * busy_frac))
    else:
        verdict = ("dispatch and idle time: cores %.0f%% busy, orchestrator "
                   "%.0f%% submitting, critical path %.0f%%"
                   % (100 * busy_frac, 100 * orch_frac, 100 * cp_frac))
    return {
        "span_us": span,
        "tasks": len(tasks),
        "invocations": sum(t["invocations"] for t in tasks.values()),
        "dropped_events": other.get("dropped_events", 0),
        "cores": cores,
        "orchestrator": orch,
        "orchestrator_fraction": orch_frac,
        "dispatch_latency_us": {
            "median": statistics.median(lat) if lat else None,
            "max": max(lat) if lat else None,
        },
        "critical_path": {"tasks": len(cp), "busy_us": cp_busy,
                          "fraction": cp_frac, "steps": cp},
        "mean_core_utilisation": mean_util,
        "cpus": cpus,
        "core_busy_fraction": busy_frac,
        "bounded_by": verdict,
    }


def print_text(s, top):
    if "error" in s:
        print("trace: " + s["error"])
        return
    print("run: %.1f us, %d tasks, %d kernel invocations"
          % (s["span_us"], s["tasks"], s["invocations"]))
    if s["dropped_events"]:
        print("WARNING: %d events were dropped (raise trace_events); the "
              "figures below miss them" % s["dropped_events"])
    o = s["orchestrator"]
    print("orchestrator: %d submits, %.1f us submitting (%.0f%%), %d "
          "back-pressure waits %.1f us, element access %.1f us, drain "
          "%.1f us" % (o["submits"], o["submitting_us"],
                       100 * s["orchestrator_fraction"], o["waits"],
                       o["wait_us"], o["element_wait_us"], o["drain_us"]))
    print("cores:")
    for c in s["cores"]:
        print("  %-18s %6d invocations  busy %10.1f us  %5.1f%%"
              % (c["track"], c["invocations"], c["busy_us"],
                 100 * c["utilisation"]))
    d = s["dispatch_latency_us"]
    if d["median"] is not None:
        print("dispatch latency (ready -> start): median %.1f us, max %.1f us"
              % (d["median"], d["max"]))
    cp = s["critical_path"]
    print("critical path: %d tasks, %.1f us in kernels (%.0f%% of the run)"
          % (cp["tasks"], cp["busy_us"], 100 * cp["fraction"]))
    steps = cp["steps"]
    shown = steps if len(steps) <= top else steps[:top // 2] + [None] + steps[-(top - top // 2):]
    for st in shown:
        if st is None:
            print("  ...")
            continue
        print("  %-10s %-16s %10.1f .. %10.1f us  waited for %s"
              % (st["task"], st["kernel"], st["start_us"], st["end_us"],
                 st["waited_for"]))
    print("bounded by: " + s["bounded_by"])


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace")
    ap.add_argument("--json", action="store_true", help="print JSON")
    ap.add_argument("--top", type=int, default=12,
                    help="critical-path steps to print (default 12)")
    a = ap.parse_args(argv)
    try:
        s = summarise(a.trace)
    except (OSError, ValueError, KeyError) as e:
        print("pto_trace_summary: %s: %s" % (a.trace, e), file=sys.stderr)
        return 2
    if a.json:
        json.dump(s, sys.stdout, indent=1)
        print()
    else:
        print_text(s, max(2, a.top))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
