#!/usr/bin/env python3
"""Check the trace test_trace.c leaves for its known graph (see there).

usage: check_trace.py TRACE_KNOWN.json PTO_TRACE_SUMMARY.py

The trace must be valid JSON in the Chrome trace-event format with the
expected tracks and events, and tools/pto_trace_summary.py must read it:
5 tasks, 6 invocations, a critical path from T0 along dependencies to the
task that ended last.
"""

import json
import subprocess
import sys

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def main(trace, summary_tool):
    with open(trace) as f:
        doc = json.load(f)  # valid JSON, or this raises
    ev = doc["traceEvents"]
    check(doc.get("otherData", {}).get("dropped_events") == 0, "no drops")

    names = {e["tid"]: e["args"]["name"] for e in ev
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    check(names.get(1) == "orchestrator", "track 1 is the orchestrator")
    check(names.get(2) == "scheduler", "track 2 is the scheduler")
    check([names.get(t) for t in (10, 11, 12)] ==
          ["cluster 0 AIC", "cluster 0 AIV0", "cluster 0 AIV1"],
          "one track per core")

    for e in ev:
        check(e.get("pid") == 1, "one process")
        if e.get("ph") == "X":
            check(e["dur"] >= 0 and e["ts"] >= 0, "times are sane: %r" % e)

    inv = [e for e in ev if e.get("cat") == "task"]
    by_task = {}
    for e in inv:
        by_task.setdefault(e["args"]["task"], []).append(e)
    check(sorted(by_task) == ["0:0", "0:1", "0:2", "0:3", "0:4"],
          "invocations of the five tasks: %r" % sorted(by_task))
    check(len(inv) == 6, "six invocations")
    kernels = {t: sorted(e["name"] for e in es) for t, es in by_task.items()}
    check(kernels.get("0:0") == ["gate"], "T0 runs gate")
    check(kernels.get("0:3") == ["mm", "vec"], "T3 runs mm and vec")
    t3_tracks = sorted(e["tid"] for e in by_task.get("0:3", []))
    check(len(t3_tracks) == 2 and t3_tracks[0] == 10,
          "T3 on the AIC and an AIV core: %r" % t3_tracks)
    check(all(e["tid"] == 10 for e in by_task.get("0:1", [])),
          "T1 (mm) on the AIC core")

    def deps(t):
        es = by_task.get(t, [{}])
        return {d["task"]: d["kind"] for d in es[0].get("args", {}).get("deps", [])}

    check(deps("0:1") == {"0:0": "inferred"}, "T1 deps")
    check(deps("0:2") == {"0:0": "inferred", "0:1": "explicit"}, "T2 deps")
    check(deps("0:3") == {"0:1": "inferred", "0:0": "explicit"}, "T3 deps")
    check(deps("0:4") == {"0:2": "both", "0:1": "inferred", "0:0": "inferred"},
          "T4 deps")

    # Every task was submitted before it was ready and ready before it ran,
    # and no task ran before its producers ended.
    for t, es in by_task.items():
        a = es[0]["args"]
        start = min(e["ts"] for e in es)
        check(a["submit_us"] <= a["ready_us"] <= start + 0.001,
              "%s: submit <= ready <= start" % t)
        for p in deps(t):
            p_end = max(e["ts"] + e["dur"] for e in by_task[p])
            check(p_end <= start + 0.001, "%s starts after %s ends" % (t, p))

    ready = [e for e in ev if e.get("cat") == "scheduler"]
    check(len(ready) == 5 and all(e["ph"] == "i" and e["tid"] == 2
                                  for e in ready), "five ready instants")
    orch = [e["name"] for e in ev if e.get("tid") == 1 and e.get("ph") == "X"]
    check(sum(n.startswith("submit ") for n in orch) == 5, "five submits")
    check("drain: wait for every task" in orch, "the drain")
    flows_s = [e for e in ev if e.get("ph") == "s"]
    flows_f = [e for e in ev if e.get("ph") == "f"]
    check(len(flows_s) == len(flows_f) == 8, "eight flow arrows")
    check(sorted(e["id"] for e in flows_s) == sorted(e["id"] for e in flows_f),
          "flows pair up")

    out = subprocess.run([sys.executable, summary_tool, trace, "--json"],
                         check=True, capture_output=True, text=True).stdout
    s = json.loads(out)
    check(s["tasks"] == 5 and s["invocations"] == 6, "summary: counts")
    # The critical path runs from T0 to the task that ended last, each
    # step a producer of the next (T3 or T4 ends last, by timing).
    path = [st["task"] for st in s["critical_path"]["steps"]]
    last = max(by_task, key=lambda t: max(e["ts"] + e["dur"]
                                          for e in by_task[t]))
    check(path[:1] == ["0:0"] and path[-1:] == [last],
          "summary: critical path %r ends at %s" % (path, last))
    check(all(a in deps(b) for a, b in zip(path, path[1:])),
          "summary: critical path %r follows deps" % path)
    check(len(s["cores"]) == len({e["tid"] for e in inv}),
          "summary: a line per core that ran tasks")
    check(sum(c["invocations"] for c in s["cores"]) == 6,
          "summary: invocations add up over the cores")
    check(s["bounded_by"], "summary: a verdict")
    text = subprocess.run([sys.executable, summary_tool, trace], check=True,
                          capture_output=True, text=True).stdout
    check("critical path: %d tasks" % len(path) in text and
          "bounded by:" in text, "summary: text output")

    for f in failures:
        print("FAILED: " + f)
    print("check_trace: %d checks failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
