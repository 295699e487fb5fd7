# bench/callgrind_lib.sh - helpers shared by the callgrind_*.sh scripts
# (sourced, not run). Callers set `me` (their name, for messages).

# total FILE: the file's total Ir (0 if it has none).
total() {
    awk '/^totals:/ { t = $2 } /^summary:/ { s = $2 }
         END { if (t != "") print t; else if (s != "") print s; else print 0 }' \
        "$1"
}

# loop_file OUT FN: of the per-thread files OUT-*, the one naming FN with
# the most Ir (the thread that ran the measured loop).
loop_file() {
    best='' best_ir=-1
    for f in "$1"-*; do
        grep -q "$2" "$f" || continue
        t=$(total "$f")
        if [ "$t" -gt "$best_ir" ]; then
            best=$f best_ir=$t
        fi
    done
    [ -n "$best" ] || { echo "$me: no thread ran $2 in $1" >&2; exit 1; }
    echo "$best"
}

# incl FILE FN: inclusive Ir of function FN in FILE (0 if it never ran).
incl() {
    callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
        awk -v fn="$2" '
            { for (i = 2; i <= NF; i++)
                  if ($i ~ (":" fn "$")) { gsub(",", "", $1); print $1; found = 1; exit } }
            END { if (!found) print 0 }'
}
