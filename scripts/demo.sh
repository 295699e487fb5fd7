#!/bin/sh
# Build pto-runtime and run the demo (examples/vector until paged attention
# lands).
set -e
cd "$(dirname "$0")/.."
sh scripts/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j "$(nproc)"
./build/release/examples/vector/pto-vector "$@"
