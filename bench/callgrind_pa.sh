#!/bin/sh
# bench/callgrind_pa.sh - instructions per task of pto's submit path on
# pto-bench's graphs, AUTO (pto_auto) vs MANUAL (pto_manual), and the
# dependency tracker's share.
#
# usage: bench/callgrind_pa.sh [PTO_BENCH] [N1 [N2]]
#   PTO_BENCH  the pto-bench binary (default: build/bench/pto-bench under
#              the repository root)
#   N1, N2     the two task counts (default 32000 and 64000; pa rounds
#              them down to whole groups of 64 tasks, fanin to rounds of 8)
# Environment: SHAPES (default "pa"; any of "indep chain pa fanin"),
#              THREADS (default 1: AIC tasks on one cluster; 2: AIV tasks).
#
# For each shape, variant and task count N it runs
#   pto-bench --child pto_auto|pto_manual SHAPE THREADS N 0 1
# (one run, no warm-up) under valgrind --tool=callgrind, collecting only
# inside bench_pto_submit_loop (--toggle-collect: the submits and the
# runtime code they call; core threads and setup do not count), one output
# file per thread. From the file of the thread that ran the loop it takes
# the total Ir and, through callgrind_annotate --inclusive=yes, the
# inclusive Ir of pto__tensormap_lookup, pto__tensormap_insert and
# orch_wait (the orchestrator waiting on back-pressure: under valgrind's
# serialised threads its polling adds instructions that are not submit
# work), and prints per task
#   (X(N2) - X(N1)) / (N2 - N1)
# (the difference cancels fixed costs: first scope, lazy initialisation,
# ring warm-up): the total, the total without the waits ("net"), the
# tracker's share of the net, and the MANUAL/AUTO ratio of the net.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/bench/pto-bench}
n1=${2:-32000}
n2=${3:-64000}
shapes=${SHAPES:-pa}
threads=${THREADS:-1}

if [ ! -x "$bin" ]; then
    echo "callgrind_pa.sh: no executable $bin (build first)" >&2
    exit 2
fi
if [ "$n2" -le "$n1" ]; then
    echo "callgrind_pa.sh: N2 ($n2) must exceed N1 ($n1)" >&2
    exit 2
fi
for tool in valgrind callgrind_annotate; do
    command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

me=callgrind_pa.sh
. "$here/callgrind_lib.sh"

# tasks SHAPE N: the task count pto-bench runs for N (whole groups/rounds).
tasks() {
    case "$1" in
    pa) echo $(( $2 / 64 * 64 )) ;;
    fanin) echo $(( $2 / 8 * 8 )) ;;
    *) echo "$2" ;;
    esac
}

# measure RUNTIME SHAPE N: prints "total lookup insert wait" for one run.
measure() {
    out="$tmp/cg.$1.$2.$3"
    if ! valgrind --tool=callgrind --collect-atstart=no \
            --toggle-collect=bench_pto_submit_loop --separate-threads=yes \
            --callgrind-out-file="$out" \
            "$bin" --child "$1" "$2" "$threads" "$3" 0 1 \
            >"$tmp/log.$1.$2.$3" 2>&1 ||
        ! grep -q '^ok ' "$tmp/log.$1.$2.$3"; then
        echo "callgrind_pa.sh: run failed ($1, $2, $3 tasks):" >&2
        cat "$tmp/log.$1.$2.$3" >&2
        exit 1
    fi
    f=$(loop_file "$out" bench_pto_submit_loop)
    echo "$(total "$f") $(incl "$f" pto__tensormap_lookup)" \
         "$(incl "$f" pto__tensormap_insert) $(incl "$f" orch_wait)"
}

echo "callgrind: $bin, threads=$threads, N1=$n1 N2=$n2 tasks"
for shape in $shapes; do
    t1=$(tasks "$shape" "$n1")
    t2=$(tasks "$shape" "$n2")
    echo "shape $shape ($t1 and $t2 tasks)"
    printf '%-11s %12s %12s %9s %9s %9s %11s %11s %9s\n' runtime "Ir(N1)" \
        "Ir(N2)" Ir/task wait/task net/task lookup/task insert/task \
        tracker%
    for v in pto_auto pto_manual; do
        # Separate assignments, so a failed run stops the script (set -e).
        r1=$(measure "$v" "$shape" "$t1")
        r2=$(measure "$v" "$shape" "$t2")
        # shellcheck disable=SC2086 # split the two runs' figures into $1..$8
        set -- $r1 $r2
        awk -v v="$v" -v t1="$1" -v l1="$2" -v i1="$3" -v w1="$4" \
            -v t2="$5" -v l2="$6" -v i2="$7" -v w2="$8" \
            -v n="$(( t2 - t1 ))" 'BEGIN {
                t = (t2 - t1) / n; l = (l2 - l1) / n; i = (i2 - i1) / n
                w = (w2 - w1) / n; net = t - w
                printf "%-11s %12.0f %12.0f %9.1f %9.1f %9.1f %11.1f %11.1f %8.1f%%\n",
                       v, t1, t2, t, w, net, l, i, 100 * (l + i) / net
            }' | tee "$tmp/row.$shape.$v"
    done
    awk '{ ir[$1] = $6 } END {
            printf "ratio MANUAL/AUTO net instructions per task: %.3f\n",
                   ir["pto_manual"] / ir["pto_auto"] }' \
        "$tmp/row.$shape.pto_auto" "$tmp/row.$shape.pto_manual"
done
