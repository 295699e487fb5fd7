#!/bin/sh
# bench/callgrind_submit.sh - instructions per submitted task, from callgrind.
#
# usage: bench/callgrind_submit.sh [PTO_BENCH_SUBMIT] [N1 [N2]]
#   PTO_BENCH_SUBMIT  the pto-bench-submit binary (default:
#                     build/bench/pto-bench-submit under the repository root)
#   N1, N2            the two task counts (default 20000 and 40000)
# Environment: CLUSTERS (default 1), BATCH (tasks per scope, default 64).
#
# For each graph (indep, chain) and each task count N, it runs
#   pto-bench-submit --callgrind-mode --mode GRAPH --tasks N
# under valgrind --tool=callgrind, collecting only inside bench_submit_loop
# (--toggle-collect; the runtime code it calls counts, worker threads and
# setup do not), and reads the orchestrator thread's total Ir. It prints
#   (Ir(N2) - Ir(N1)) / (N2 - N1)
# instructions per task: the difference cancels the fixed costs (first
# scope, lazy initialisation, ring warm-up).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/bench/pto-bench-submit}
n1=${2:-20000}
n2=${3:-40000}
clusters=${CLUSTERS:-1}
batch=${BATCH:-64}

if [ ! -x "$bin" ]; then
    echo "callgrind_submit.sh: no executable $bin (build first)" >&2
    exit 2
fi
if [ "$n2" -le "$n1" ]; then
    echo "callgrind_submit.sh: N2 ($n2) must exceed N1 ($n1)" >&2
    exit 2
fi
command -v valgrind >/dev/null || { echo "valgrind not found" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# ir MODE N: Ir collected in bench_submit_loop on the orchestrator thread
# (pto_run runs the orchestration on the main thread: file suffix -01).
ir() {
    out="$tmp/cg.$1.$2"
    if ! valgrind --tool=callgrind --collect-atstart=no \
            --toggle-collect=bench_submit_loop --separate-threads=yes \
            --callgrind-out-file="$out" \
            "$bin" --callgrind-mode --mode "$1" --tasks "$2" \
            --clusters "$clusters" --batch "$batch" \
            >"$tmp/log.$1.$2" 2>&1; then
        echo "callgrind_submit.sh: run failed ($1, $2 tasks):" >&2
        cat "$tmp/log.$1.$2" >&2
        exit 1
    fi
    awk '/^totals:/ { t = $2 } /^summary:/ { s = $2 }
         END { if (t != "") print t; else if (s != "") print s; else exit 1 }' \
        "$out-01"
}

echo "callgrind: $bin, clusters=$clusters batch=$batch, N1=$n1 N2=$n2"
printf '%-6s %16s %16s %14s\n' graph "Ir(N1)" "Ir(N2)" "Ir/task"
for mode in indep chain; do
    a=$(ir "$mode" "$n1")
    b=$(ir "$mode" "$n2")
    awk -v m="$mode" -v a="$a" -v b="$b" -v n1="$n1" -v n2="$n2" \
        'BEGIN { printf "%-6s %16.0f %16.0f %14.1f\n", m, a, b, (b - a) / (n2 - n1) }'
done
