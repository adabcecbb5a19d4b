#!/usr/bin/env bash
# scripts/run_tests.sh: README's test command. Every test leg, each timed, from a clean clone to
# the end; nothing built or exported twice. On 2 cores the command is CPU-bound, so work that
# does not depend on a leg's result runs beside it, at lower priority where it could slow it.
#
#   setup   Debian packages, the ONNX Runtime SDK, JetPack 6's CMake 3.22; in the background the
#           tool's venv (scripts/install_test_venv.sh), then the Triton server venv, and the Jetson
#           leg's downloads (aarch64 SDK, Python 3.10 venv)
#   cpp     the native C++ library built ONCE with JetPack 6's toolchain (GCC 11, CMake 3.22,
#           Release) into build/, and its ctest suite; this build is also the Jetson readiness
#           leg's "jp6" build and the one the Python suite's parity tests drive
#   python  the Python suite (FS_CPP_REQUIRED, FS_TRITON_REQUIRED, FS_OPENVINO_REQUIRED: nothing it
#           needs may skip); its tiny export is kept in build-tests/tiny for the legs after it.
#           Beside it, at lower priority, scripts/ci_beside_python.sh (log:
#           build-tests/beside-python.log): build-asan/ with clang, the sanitizers and libFuzzer's
#           instrumentation, and its ctest; every fuzz target for FUZZ_SECONDS (default 10); the
#           Jetson leg's aarch64 cross build
#   asan    the C ABI tests on the real tiny export under the sanitizers (build-asan/)
#   jetson  scripts/ci_jetson.sh --build build --artifacts build-tests/tiny: Python 3.10 with the
#           minimum numpy and Pillow, the aarch64 tests under qemu and their parity
#
# Exits non-zero on the first failure; ends with a line per leg and its time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
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
bash scripts/fetch_openvino_sdk.sh
cmake_bin="$(bash scripts/cmake322.sh)"
in_background python-envs bash -c "bash scripts/install_test_venv.sh && bash scripts/make_triton_env.sh"
in_background jetson-prepare bash scripts/ci_jetson.sh --prepare
done_leg setup "Debian packages, ONNX Runtime and OpenVINO SDKs, CMake 3.22 (the venvs and Jetson downloads go on in the background)"

say "cpp: GCC 11 and CMake 3.22 (JetPack 6's), Release, into build/"
if [ -f build/CMakeCache.txt ] && ! grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*g++-11$' build/CMakeCache.txt; then
  say "build/ was configured with another compiler: configuring it afresh"
  rm -rf build
fi
# Release, not RelWithDebInfo: debug information costs a quarter to half of each file's compile.
CC=gcc-11 CXX=g++-11 "$cmake_bin/cmake" -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
"$cmake_bin/cmake" --build build -j2
"$cmake_bin/ctest" --test-dir build --output-on-failure -j2
done_leg cpp "build/ (g++-11, CMake 3.22) and ctest"

# Beside the Python suite, at lower priority: the sanitizer and fuzz build with its tests and a
# bounded fuzz, then the aarch64 cross build (scripts/ci_beside_python.sh).
wait_for jetson-prepare  # the aarch64 SDK the cross build needs (long done by now)
in_background beside-python nice -n 10 bash scripts/ci_beside_python.sh

wait_for python-envs
say "python: the Python suite (asan, fuzz and the aarch64 build beside it: build-tests/beside-python.log)"
rm -rf build-tests/tiny
# tests/jetson runs in the jetson leg, on the aarch64 build being made beside this one.
FS_CPP_REQUIRED=1 FS_TRITON_REQUIRED=1 FS_OPENVINO_REQUIRED=1 FS_TEST_EXPORTS="$root/build-tests" \
  .venv/bin/python -m pytest -q --durations=25 \
  --deselect "tests/cpp/test_cpp_runtime.py::test_c_abi_tests_on_a_real_export[asan]" --ignore tests/jetson
done_leg python "pytest (C++, Triton and OpenVINO required)"

say "asan, fuzz and aarch64 build: waiting for what is left of them"
wait_for beside-python
done_leg beside "the wait for build-asan/ (clang, sanitizers, ctest), the fuzz run and the aarch64 build"

say "asan: the C ABI on the real export under the sanitizers"
FS_CPP_REQUIRED=1 FS_TINY_ARTIFACTS="$root/build-tests/tiny" .venv/bin/python -m pytest -q -p no:cacheprovider \
  "tests/cpp/test_cpp_runtime.py::test_c_abi_tests_on_a_real_export[asan]"
done_leg asan "ctest -R 'CApi|CppWrapper' in build-asan/ on build-tests/tiny"

say "jetson: scripts/ci_jetson.sh on build/ and build-tests/tiny"
bash scripts/ci_jetson.sh --build build --artifacts build-tests/tiny
done_leg jetson "Python 3.10, aarch64 tests under qemu, parity"

say "all legs passed in $SECONDS s:"
report
