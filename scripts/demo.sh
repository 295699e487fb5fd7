#!/bin/sh
# Build pto-runtime (Release) and run the demo: paged attention (the seed's
# reference workload, Case1: 256 requests x 16 heads over 8192 tokens, 1 GiB
# of bf16 K/V) in all four orchestrations, each checked against a
# double-precision golden. Extra arguments go to pto-pa, e.g.
#   sh scripts/demo.sh --case varlen --rounds 10
set -e
cd "$(dirname "$0")/.."
sh scripts/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc)"
if [ $# -eq 0 ]; then
    set -- --variant all --case Case1 --rounds 5
fi
./build/release/examples/paged_attention/pto-pa "$@"
