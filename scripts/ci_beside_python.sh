#!/usr/bin/env bash
# scripts/ci_beside_python.sh: what README's test command (scripts/run_tests.sh) runs beside the
# Python suite, at lower priority: it needs neither the suite's export nor its answers.
#
#   asan     build-asan/: clang (a second compiler on the same sources as build/'s GCC 11),
#            AddressSanitizer, UndefinedBehaviorSanitizer and libFuzzer's instrumentation; its
#            ctest (the C ABI, the parsers, the fuzz regressions)
#   fuzz     every libFuzzer target of build-asan/ for FUZZ_SECONDS (default 10) each, from its seed
#            corpus (scripts/fuzz.sh): any crash, leak, sanitizer report or hang fails
#   aarch64  the Jetson leg's cross build (scripts/ci_jetson.sh --prebuild)
#
# Prints when each step starts, in seconds from its own start; exits non-zero on the first failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
step() { echo "[beside-python] $1 (at $SECONDS s)"; }

step "asan: clang $(clang --version | sed -n 's/.*clang version \([0-9.]*\).*/\1/p'), build-asan/"
if [ -f build-asan/CMakeCache.txt ] && ! grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*clang++$' build-asan/CMakeCache.txt; then
  rm -rf build-asan  # configured with another compiler (GCC built it before clang did)
fi
CC=clang CXX=clang++ cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DFROZENSEG_SANITIZE=ON -DFROZENSEG_FUZZ=ON
cmake --build build-asan -j2
ctest --test-dir build-asan --output-on-failure -j2

step "fuzz: every target for ${FUZZ_SECONDS:-10} s"
# Hangs are judged at 60 s an input, not libFuzzer's 10: this runs at low priority.
bash scripts/fuzz.sh --build build-asan --seconds "${FUZZ_SECONDS:-10}" --timeout 60

step "aarch64: the cross build"
bash scripts/ci_jetson.sh --prebuild
step "done"
