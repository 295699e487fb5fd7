#!/bin/sh
# bench/callgrind_manual.sh - instructions per task of the paged-attention
# submit loop, AUTO vs MANUAL scopes, and the dependency tracker's share.
#
# usage: bench/callgrind_manual.sh [PTO_BENCH_MANUAL] [G1 [G2]]
#   PTO_BENCH_MANUAL  the pto-bench-manual binary (default:
#                     build/bench/pto-bench-manual under the repository root)
#   G1, G2            the two group counts (default 64 and 128; a group is
#                     1 alloc + 16 blocks x 4 tasks = 65 tasks)
# Environment: CLUSTERS (default 1).
#
# For each variant (auto, manual) and each group count G, it runs
#   pto-bench-manual --callgrind-mode --variant VARIANT --groups G
# under valgrind --tool=callgrind, collecting only inside bench_manual_loop
# (--toggle-collect; the runtime code it calls counts, worker threads and
# setup do not), one output file per thread. The file of the thread that ran
# bench_manual_loop (the one naming it with the most Ir) gives the total Ir
# and, through callgrind_annotate --inclusive=yes, the inclusive Ir of
# pto__tensormap_lookup and pto__tensormap_insert. It prints per task
#   (X(G2) - X(G1)) / (65 * (G2 - G1))
# for the total and for each tracker function (the difference cancels the
# fixed costs: first scope, lazy initialisation, ring warm-up), the
# tracker functions' share of the total (the same differences), and the
# MANUAL/AUTO ratio of the instructions per task.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/bench/pto-bench-manual}
g1=${2:-64}
g2=${3:-128}
clusters=${CLUSTERS:-1}
per_group=65

if [ ! -x "$bin" ]; then
    echo "callgrind_manual.sh: no executable $bin (build first)" >&2
    exit 2
fi
if [ "$g2" -le "$g1" ]; then
    echo "callgrind_manual.sh: G2 ($g2) must exceed G1 ($g1)" >&2
    exit 2
fi
for tool in valgrind callgrind_annotate; do
    command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 2; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

me=callgrind_manual.sh
. "$here/callgrind_lib.sh"

# measure VARIANT G: prints "total lookup insert" for one run.
measure() {
    out="$tmp/cg.$1.$2"
    if ! valgrind --tool=callgrind --collect-atstart=no \
            --toggle-collect=bench_manual_loop --separate-threads=yes \
            --callgrind-out-file="$out" \
            "$bin" --callgrind-mode --variant "$1" --groups "$2" \
            --clusters "$clusters" >"$tmp/log.$1.$2" 2>&1; then
        echo "callgrind_manual.sh: run failed ($1, $2 groups):" >&2
        cat "$tmp/log.$1.$2" >&2
        exit 1
    fi
    f=$(loop_file "$out" bench_manual_loop)
    echo "$(total "$f") $(incl "$f" pto__tensormap_lookup) $(incl "$f" pto__tensormap_insert)"
}

echo "callgrind: $bin, clusters=$clusters, G1=$g1 G2=$g2 groups" \
     "($per_group tasks per group)"
printf '%-7s %14s %14s %9s %12s %12s %8s %8s %9s\n' variant "Ir(G1)" "Ir(G2)" \
    Ir/task lookup/task insert/task lookup% insert% tracker%
for v in auto manual; do
    # Separate assignments, so a failed run stops the script (set -e).
    r1=$(measure "$v" "$g1")
    r2=$(measure "$v" "$g2")
    # shellcheck disable=SC2086 # split "total lookup insert" into $1..$6
    set -- $r1 $r2
    awk -v v="$v" -v t1="$1" -v l1="$2" -v i1="$3" -v t2="$4" -v l2="$5" \
        -v i2="$6" -v n="$(( per_group * (g2 - g1) ))" 'BEGIN {
            t = (t2 - t1) / n; l = (l2 - l1) / n; i = (i2 - i1) / n
            printf "%-7s %14.0f %14.0f %9.1f %12.1f %12.1f %7.1f%% %7.1f%% %8.1f%%\n",
                   v, t1, t2, t, l, i, 100 * l / t, 100 * i / t,
                   100 * (l + i) / t
        }' | tee "$tmp/row.$v"
done
awk '{ ir[$1] = $4 } END {
        printf "ratio MANUAL/AUTO instructions per task: %.3f\n",
               ir["manual"] / ir["auto"] }' "$tmp/row.auto" "$tmp/row.manual"
