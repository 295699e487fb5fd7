#!/bin/sh
# Install what building and testing pto-runtime needs on Debian, if missing
# (cmake, make, gcc, clang, pkg-config, python3, clang's sanitizer runtimes).
# Runs apt-get only when a tool is absent (needs root then).
#   scripts/deps.sh           compilers and build tools
#   scripts/deps.sh --peers   also the benchmark peers pto-bench compares
#                             against (OpenMP/libomp, StarPU, oneTBB, g++)
set -e
need=""
if [ "${1:-}" = "--peers" ]; then
    for p in libomp-dev libstarpu-dev libtbb-dev g++; do
        dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
    done
fi
command -v cmake >/dev/null 2>&1 || need="$need cmake"
command -v make >/dev/null 2>&1 || need="$need make"
command -v gcc >/dev/null 2>&1 || need="$need gcc"
command -v clang >/dev/null 2>&1 || need="$need clang"
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
# The trace tests run tools/pto_trace_summary.py (standard library only).
command -v python3 >/dev/null 2>&1 || need="$need python3"
# Sanitizer runtimes for clang builds (gcc ships its own).
[ -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.asan-x86_64.a ] ||
    dpkg -s libclang-rt-14-dev >/dev/null 2>&1 || need="$need libclang-rt-14-dev"
if [ -n "$need" ]; then
    echo "deps.sh: installing:$need"
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need >/dev/null
fi
