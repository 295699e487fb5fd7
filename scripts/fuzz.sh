#!/bin/sh
# Run the differential fuzzers for a while.
#   scripts/fuzz.sh [SECONDS]   default 60 per fuzzer
# 1. fuzz_diff (seeded random programs) under ASan + UBSan,
# 2. fuzz_diff under TSan with widened race windows (PTO_DEBUG_YIELD),
# 3. the libFuzzer entry point (clang, coverage-guided, ASan + UBSan).
# A difference from sequential execution fails with the seed / input that
# reproduces it. Long mode by hand: build/test-gcc-none/tests/fuzz_diff
# --programs 100000.
set -e
cd "$(dirname "$0")/.."
secs="${1:-60}"
sh scripts/deps.sh
sh scripts/test.sh --sanitize address -- -R '^$' >/dev/null
sh scripts/test.sh --sanitize thread --yield -- -R '^$' >/dev/null
echo "fuzz_diff, ASan+UBSan, ${secs} s"
build/test-gcc-address/tests/fuzz_diff --programs 100000000 --seconds "$secs"
echo "fuzz_diff, TSan + PTO_DEBUG_YIELD, ${secs} s"
TSAN_OPTIONS=halt_on_error=1 build/test-gcc-thread-yield/tests/fuzz_diff \
    --programs 100000000 --seconds "$secs"
echo "libFuzzer, clang ASan+UBSan, ${secs} s"
cmake -S . -B build/fuzz -DCMAKE_C_COMPILER=clang -DPTO_FUZZER=ON \
    -DPTO_BUILD_EXAMPLES=OFF -DPTO_BUILD_BENCH=OFF >/dev/null
cmake --build build/fuzz -j "$(nproc)" --target fuzz_libfuzzer >/dev/null
mkdir -p build/fuzz/corpus
# stdin from /dev/null and no INT/TERM handlers: started from a job-control
# shell, libFuzzer otherwise sees a stray signal and stops at once.
if ! build/fuzz/tests/fuzz_libfuzzer -max_total_time="$secs" -handle_int=0 \
    -handle_term=0 -print_final_stats=1 -artifact_prefix=build/fuzz/ \
    build/fuzz/corpus </dev/null >build/fuzz/libfuzzer.log 2>&1; then
    tail -40 build/fuzz/libfuzzer.log
    echo "libFuzzer found a difference; the input is in build/fuzz/crash-*"
    exit 1
fi
grep -E 'Done|number_of_executed_units' build/fuzz/libfuzzer.log
