#!/bin/sh
# Build pto-runtime and run every test with ctest.
#   scripts/test.sh                      release build (gcc), all tests
#   scripts/test.sh --sanitize address   ASan + UBSan build, all tests
#   scripts/test.sh --sanitize thread    TSan build, all tests
#   scripts/test.sh --cc clang           the same with clang
#   scripts/test.sh --yield              random yields on the runtime's hot
#                                        paths (PTO_DEBUG_YIELD), to widen
#                                        race windows; combine with --sanitize
#   extra arguments after -- go to ctest (e.g. -- -R orch)
# Build trees go to build/test-<cc>-<sanitizer>[-yield].
set -e
cd "$(dirname "$0")/.."
san=""
cc=gcc
yield=OFF
while [ $# -gt 0 ]; do
    case "$1" in
    --sanitize) san="$2"; shift 2 ;;
    --cc) cc="$2"; shift 2 ;;
    --yield) yield=ON; shift ;;
    --) shift; break ;;
    *) echo "usage: $0 [--sanitize address|thread] [--cc gcc|clang] [--yield] [-- ctest args]" >&2; exit 2 ;;
    esac
done
sh scripts/deps.sh
dir="build/test-$cc-${san:-none}"
[ "$yield" = ON ] && dir="$dir-yield"
type=RelWithDebInfo
cmake -S . -B "$dir" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=$type \
    -DPTO_SANITIZE="$san" -DPTO_DEBUG_YIELD=$yield >/dev/null
cmake --build "$dir" -j "$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
cd "$dir" && ctest --output-on-failure -j 2 "$@"
