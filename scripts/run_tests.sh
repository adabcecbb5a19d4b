#!/usr/bin/env bash
# scripts/run_tests.sh: every test leg, in the order README's test command runs them (after its
# venv install), each leg timed; nothing built or exported twice.
#
#   setup   Debian packages, the ONNX Runtime SDK, JetPack 6's CMake 3.22; the Triton server venv
#           and the Jetson leg's downloads (aarch64 SDK, Python 3.10 venv) go on in the background
#   cpp     the native C++ library built ONCE with JetPack 6's toolchain (GCC 11, CMake 3.22,
#           RelWithDebInfo) into build/, and its ctest suite; this build is also the Jetson
#           readiness leg's "jp6" build and the one the Python suite's parity tests drive
#   asan    build-asan/: the C ABI, the parsers and the artifact-dependent tests under
#           AddressSanitizer and UndefinedBehaviorSanitizer (GCC 12, the system CMake: a second
#           compiler and CMake on the same sources)
#   python  the Python suite (FS_CPP_REQUIRED, FS_TRITON_REQUIRED: nothing it needs may skip); its
#           tiny export is kept in build-tests/tiny for the next leg
#   jetson  scripts/ci_jetson.sh --build build --artifacts build-tests/tiny: Python 3.10 with the
#           minimum numpy and Pillow, the aarch64 cross build under qemu and its parity
#
# Exits non-zero on the first failure; ends with a line per leg and its time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[ -x .venv/bin/python ] || { echo "run_tests: .venv is missing: run README's install first" >&2; exit 1; }
export FS_SHARED_VOCABULARIES="${FS_SHARED_VOCABULARIES:-$root/../shared/vocabularies}"

summary=()
leg_start=$SECONDS
say() { echo "[run_tests] $*"; }
done_leg() { summary+=("$(printf '%-7s %5d s  %s' "$1" $((SECONDS - leg_start)) "$2")"); leg_start=$SECONDS; }
report() { printf '[run_tests] %s\n' "${summary[@]}"; }
trap 'status=$?; if [ $status -ne 0 ]; then say "FAILED (exit $status) after $SECONDS s"; report; fi' EXIT

# Downloads that later legs need run in the background while the C++ legs compile; each is waited
# for (and its log shown) before the leg that uses it.
mkdir -p build-tests
background=()
in_background() {  # NAME COMMAND...: run COMMAND with its output in build-tests/NAME.log
  local name="$1"; shift
  ( "$@" ) > "build-tests/$name.log" 2>&1 &
  background+=("$name:$!")
}
wait_for() {  # NAME: wait for the background job NAME; fail with its log if it failed
  local entry
  for entry in "${background[@]}"; do
    if [ "${entry%%:*}" = "$1" ]; then
      if wait "${entry##*:}"; then sed "s/^/[$1] /" "build-tests/$1.log"; return 0; fi
      say "$1 failed:"; cat "build-tests/$1.log"; return 1
    fi
  done
  say "no background job named $1"; return 1
}

say "setup"
bash scripts/install_cpp_deps.sh
bash scripts/install_jetson_ci_deps.sh
bash scripts/fetch_onnxruntime_sdk.sh
cmake_bin="$(bash scripts/cmake322.sh)"
in_background triton-env bash scripts/make_triton_env.sh
in_background jetson-prepare bash scripts/ci_jetson.sh --prepare
done_leg setup "Debian packages, ONNX Runtime SDK, CMake 3.22 (Triton venv and Jetson downloads go on in the background)"

say "cpp: GCC 11 and CMake 3.22 (JetPack 6's), RelWithDebInfo, into build/"
if [ -f build/CMakeCache.txt ] && ! grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*g++-11$' build/CMakeCache.txt; then
  say "build/ was configured with another compiler: configuring it afresh"
  rm -rf build
fi
CC=gcc-11 CXX=g++-11 "$cmake_bin/cmake" -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
"$cmake_bin/cmake" --build build -j2
"$cmake_bin/ctest" --test-dir build --output-on-failure -j2
done_leg cpp "build/ (g++-11, CMake 3.22) and ctest"

say "asan: AddressSanitizer + UndefinedBehaviorSanitizer, into build-asan/"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFROZENSEG_SANITIZE=ON
cmake --build build-asan -j2
ctest --test-dir build-asan --output-on-failure -j2
done_leg asan "build-asan/ (g++ $(g++ -dumpfullversion), $(cmake --version | head -n 1)) and ctest"

wait_for triton-env
say "python: the Python suite"
FS_CPP_REQUIRED=1 FS_TRITON_REQUIRED=1 FS_TEST_EXPORTS="$root/build-tests" .venv/bin/python -m pytest -q
done_leg python "pytest (C++ and Triton required)"

wait_for jetson-prepare
say "jetson: scripts/ci_jetson.sh on build/ and build-tests/tiny"
bash scripts/ci_jetson.sh --build build --artifacts build-tests/tiny
done_leg jetson "Python 3.10, aarch64 cross build under qemu, parity"

say "all legs passed in $SECONDS s:"
report
