#!/usr/bin/env bash
# scripts/ci_jetson.sh [--full] [--build DIR] [--artifacts DIR]: the Jetson readiness legs of CI
# (issue 26), on an x86-64 Debian machine with no Jetson, GPU or TensorRT. README's test command
# (scripts/run_tests.sh) runs it after the default legs, with --build build --artifacts build-tests/tiny:
# its native build is already the jp6 toolchain's and its ctest has run, and the tiny export the
# Python suite made is reused, so nothing is built or exported twice.
#
#   --build DIR      a native build configured with g++-11 and CMake 3.22 whose ctest has already
#                    run (checked from its CMakeCache.txt); the jp6 leg then only checks it
#   --artifacts DIR  a tiny export to use instead of exporting one (--no-verify) here
#   --prepare        only fetch what the legs download (the aarch64 ONNX Runtime SDK, Python 3.10's
#                    venv and pinned packages) and exit: scripts/run_tests.sh runs this in the
#                    background while it compiles, so the downloads cost no time of their own
#   --prebuild       only cross-build the aarch64 tree (the aarch64 leg's step 2) and exit:
#                    scripts/run_tests.sh runs this in the background while the Python suite runs,
#                    and the aarch64 leg then finds it built
#
#   setup   apt packages (scripts/install_cpp_deps.sh, scripts/install_jetson_ci_deps.sh), the ONNX
#           Runtime 1.29 SDKs for x86-64 and aarch64 (scripts/fetch_onnxruntime_*.sh), CMake 3.22.6
#           from PyPI in its own venv, and one tiny export (.venv's frozenseg-deploy, --no-verify)
#           reused by every leg; export skips it when its content key (source, versions, options)
#           is unchanged, so a warm run pays nothing for it.
#   jp6     JetPack 6's toolchain on x86-64: GCC 11 (g++-11) and CMake 3.22 build the C++ library
#           (Release) and run all of its ctest tests, the C ABI ones on the tiny export.
#   py310   JetPack 6's Python: Python 3.10 (pyenv) with numpy 1.26.4 and Pillow 10.3.0, the minimum
#           versions pyproject.toml declares, ONNX Runtime 1.23.2 (the last with Python 3.10 wheels)
#           and `pip install .` (the runtime alone, no torch): the runtime's torch-free tests and the
#           C++-against-Python parity tests (tests/cpp, against the jp6 build) on the tiny export.
#   aarch64 the library cross-built for aarch64 (GCC 11 cross, CMake 3.22,
#           cmake/toolchains/aarch64-linux-gnu.cmake) by scripts/jetson_steps.sh, the device steps
#           of docs/jetson.md, with ctest and frozenseg-segment run through qemu-aarch64; then
#           tests/jetson: frozenseg-segment under qemu against the x86-64 Python runtime and C++
#           build on three tasks, judged on the float32 floor, figures in build-jetson/aarch64-parity.json.
#
# By default the emulated ctest runs every test except the slow cases named in SLOW_UNDER_QEMU
# (each runs natively in the jp6 leg), and the parity tests the panoptic task; --full runs every
# test under qemu, the parity tests on three tasks and the Python runtime on aarch64 as well.
# Everything lands in build-jetson/ (git-ignored) and third_party/. Exits non-zero on the first
# failure; ends with a line per leg and its time.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
full=0 native_build="" given_artifacts="" prepare_only=0 prebuild_only=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --full) full=1; shift ;;
    --build) native_build="$(cd "$2" && pwd)"; shift 2 ;;
    --artifacts) given_artifacts="$(cd "$2" && pwd)"; shift 2 ;;
    --prepare) prepare_only=1; shift ;;
    --prebuild) prebuild_only=1; shift ;;
    -h|--help) sed -n '2,39p' "$0"; exit 0 ;;
    *) echo "ci_jetson: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

work="$root/build-jetson"
artifacts="${given_artifacts:-$work/tiny-export}"
shared_vocabularies="${FS_SHARED_VOCABULARIES:-$root/../shared/vocabularies}"
PY310_PINS=(numpy==1.26.4 pillow==10.3.0 onnxruntime==1.23.2 pytest==9.2.0 hypothesis==6.168.5)
# Under qemu these take minutes each: the fixtures' "large" post-processing cases (full-preset
# sizes), OutputScalarKernels.* (the post-processing suites again with the scalar kernels, which on
# aarch64 are the only kernels, so they repeat what already ran), and the C ABI tests that segment
# with the tiny export's graphs (SAM's encoder alone takes tens of seconds emulated). They run
# natively in the jp6 leg, and under qemu with --full.
SLOW_UNDER_QEMU='/large|^OutputScalarKernels\.|^CApi\.(BadVocabulariesAndImagesAreInputErrors|SegmentResizedTakesItsOwnRule|ResultTimingsNameEveryStageInPythonsOrder|OneSegmenterServesManyThreads)$'
# The runtime's tests that need no torch (the rest import the reference or the exporter, or compare
# with torch: test_runtime_image_ops.py and test_runtime_preprocess.py skip whole without it).
PY310_TESTS=(tests/runtime/test_atomic_folder.py tests/runtime/test_encoder_schedule.py
             tests/runtime/test_entry_points_property.py tests/runtime/test_postprocess_equivalence.py
             tests/runtime/test_runtime_bad_input.py tests/runtime/test_runtime_manifest.py
             tests/runtime/test_runtime_vocabulary.py tests/runtime/test_stage_api.py
             tests/runtime/test_trt_schedule.py tests/runtime/test_vocab_cache_damage.py
             tests/cpp/test_cpp_runtime.py)

mkdir -p "$work"
summary=()
leg_start=$SECONDS
say() { echo "[ci_jetson] $*"; }
done_leg() { summary+=("$(printf '%-8s %4d s  %s' "$1" $((SECONDS - leg_start)) "$2")"); leg_start=$SECONDS; }
trap 'status=$?; if [ $status -ne 0 ]; then say "FAILED (exit $status) after $((SECONDS)) s"; printf "[ci_jetson] %s\n" "${summary[@]}"; fi' EXIT

# Python 3.10's venv with the pinned packages in $work/py310 (kept when it is already 3.10).
venv="$work/py310"
prepare_py310() {
  local python310="${FS_PYTHON310:-}" candidate
  if [ -z "$python310" ]; then
    for candidate in "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.10.*/bin/python3.10 \
                     "$(command -v python3.10 || true)"; do
      [ -x "$candidate" ] && { python310="$candidate"; break; }
    done
  fi
  [ -n "$python310" ] || { say "no Python 3.10 (pyenv install 3.10, or set FS_PYTHON310)"; exit 1; }
  if [ "$("$venv/bin/python" -c 'import sys; print(sys.version_info[:2] == (3, 10))' 2>/dev/null)" != True ]; then
    rm -rf "$venv"
    "$python310" -m venv "$venv"
  fi
  "$venv/bin/pip" install -q "${PY310_PINS[@]}"
}

# The aarch64 leg's steps (scripts/jetson_steps.sh) with this leg's cross toolchain and build folder.
aarch64_steps() {
  FS_SHARED_VOCABULARIES="$shared_vocabularies" bash scripts/jetson_steps.sh \
    --build "$work/aarch64" --cmake "$(bash scripts/cmake322.sh)/cmake" \
    --toolchain "$root/cmake/toolchains/aarch64-linux-gnu.cmake" \
    --onnxruntime-root "$root/third_party/onnxruntime-linux-aarch64" "$@"
}

if [ $prebuild_only = 1 ]; then
  aarch64_steps --build-only
  exit 0
fi

if [ $prepare_only = 1 ]; then
  bash scripts/fetch_onnxruntime_aarch64.sh
  prepare_py310
  say "prepared: the aarch64 ONNX Runtime SDK and $venv"
  exit 0
fi

# ---- setup --------------------------------------------------------------------------------------
say "setup: packages, ONNX Runtime SDKs, CMake 3.22, tiny export"
bash scripts/install_cpp_deps.sh
bash scripts/install_jetson_ci_deps.sh
bash scripts/fetch_onnxruntime_sdk.sh
bash scripts/fetch_onnxruntime_aarch64.sh
cmake_bin="$(bash scripts/cmake322.sh)"
cmake322="$cmake_bin/cmake"
ctest322="$cmake_bin/ctest"
"$cmake322" --version | head -n 1
[ -x .venv/bin/frozenseg-deploy ] || { say ".venv/bin/frozenseg-deploy is missing: run README's install first"; exit 1; }
if [ -n "$given_artifacts" ]; then
  [ -f "$artifacts/manifest.json" ] || { say "--artifacts $artifacts holds no manifest.json"; exit 1; }
else
  .venv/bin/frozenseg-deploy export --preset tiny --no-verify --out "$artifacts"
fi
done_leg setup "packages, SDKs, CMake 3.22, tiny export ($artifacts)"

# ---- jp6: GCC 11 + CMake 3.22 on x86-64 ---------------------------------------------------------
if [ -n "$native_build" ]; then
  say "jp6: GCC 11 and CMake 3.22, x86-64: $native_build (built and tested by the caller)"
  x86_build="$native_build"
else
  say "jp6: GCC 11 and CMake 3.22, x86-64"
  x86_build="$work/x86-gcc11"
  CC=gcc-11 CXX=g++-11 "$cmake322" -S . -B "$x86_build" -G Ninja -DCMAKE_BUILD_TYPE=Release
  "$cmake322" --build "$x86_build" -j2
  FS_TEST_ARTIFACTS="$artifacts" FS_SHARED_VOCABULARIES="$shared_vocabularies" \
    "$ctest322" --test-dir "$x86_build" --output-on-failure -j2
fi
grep -q '^CMAKE_CXX_COMPILER:[A-Z]*=.*g++-11$' "$x86_build/CMakeCache.txt" \
  || { say "$x86_build is not configured with g++-11 (delete it)"; exit 1; }
grep -q '^CMAKE_CACHE_MINOR_VERSION:INTERNAL=22$' "$x86_build/CMakeCache.txt" \
  || { say "$x86_build is not configured with CMake 3.22 (delete it)"; exit 1; }
[ -x "$x86_build/frozenseg-segment" ] || { say "$x86_build/frozenseg-segment is not built"; exit 1; }
done_leg jp6 "g++-11 $(g++-11 -dumpfullversion), cmake 3.22: build and ctest ($x86_build)"

# ---- py310 and aarch64, side by side ------------------------------------------------------------
# py310: Python 3.10 + numpy 1.26. It runs beside the aarch64 leg (its log shown after it): the one
# is mostly a single Python process, the other the emulator, so together they fill both cores.
# (The body is not indented: it holds a here-document.)
py310_leg() {
say "py310: Python 3.10, ${PY310_PINS[*]}"
prepare_py310
# `pip install .` from a copy of the sources: setuptools would otherwise write build/lib into
# build/, the default C++ build folder.
src="$work/py310-src"
rm -rf "$src" && mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard -- pyproject.toml README.md frozenseg export runtime benchmarks/bench \
  | xargs -0 cp --parents -t "$src"
"$venv/bin/pip" install -q --force-reinstall --no-deps "$src"
"$venv/bin/pip" check
"$venv/bin/python" - <<'PY'
import sys, numpy, PIL, onnxruntime, frozenseg_runtime
assert sys.version_info[:2] == (3, 10), sys.version
assert numpy.__version__.startswith("1.26."), numpy.__version__
print(f"[ci_jetson] py310: Python {sys.version.split()[0]}, numpy {numpy.__version__}, Pillow {PIL.__version__}, "
      f"onnxruntime {onnxruntime.__version__}, runtime from {frozenseg_runtime.__file__}")
for banned in ("torch", "frozenseg_reference.model"):
    try:
        __import__(banned)
    except ImportError:
        continue
    raise SystemExit(f"{banned} is importable in the Python 3.10 leg: it must run without torch")
PY
FS_TINY_ARTIFACTS="$artifacts" FS_CPP_BUILD="$x86_build" FS_CPP_REQUIRED=1 \
  FS_SHARED_VOCABULARIES="$shared_vocabularies" \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider "${PY310_TESTS[@]}" \
  -k "not c_abi_tests_on_a_real_export"  # C++ tests that pytest only launches: the python leg ran them
}
py310_log="$work/py310.log"
( py310_leg ) > "$py310_log" 2>&1 &
py310_pid=$!

# aarch64: cross build, ctest and frozenseg-segment under qemu, parity with x86-64.
say "aarch64: GCC 11 cross build, tests under qemu-aarch64 ($([ $full = 1 ] && echo full || echo "default subset: not $SLOW_UNDER_QEMU"))"
ctest_args=""
[ $full = 1 ] || ctest_args="-E $SLOW_UNDER_QEMU"
aarch64_steps --artifacts "$artifacts" --ctest-args "$ctest_args" --resize 128,192
done_leg aarch64 "cross build, ctest and frozenseg-segment under qemu-aarch64"

py310_status=0
wait "$py310_pid" || py310_status=$?
cat "$py310_log"
[ $py310_status = 0 ] || { say "py310 failed (exit $py310_status)"; exit $py310_status; }
done_leg py310 "Python 3.10 + numpy 1.26.4: runtime tests and C++ parity (tiny export), beside aarch64"

# Default: the panoptic task; --full: also semantic and instance, and the Python runtime itself on
# aarch64 (Python 3.11 for arm64 under qemu) against the C++ library there, bit for bit.
markers="not slow"
if [ $full = 1 ]; then
  bash scripts/make_aarch64_python.sh "$work/arm64-python"
  markers="slow or not slow"
fi
FS_TINY_ARTIFACTS="$artifacts" FS_AARCH64_BUILD="$work/aarch64" FS_CPP_BUILD="$x86_build" \
  FS_AARCH64_PYTHON="$work/arm64-python/python" FS_AARCH64_REQUIRED=1 FS_PARITY_REPORT="$work/aarch64-parity.json" \
  .venv/bin/python -m pytest -q -p no:cacheprovider -m "$markers" tests/jetson
done_leg parity "aarch64 C++ under qemu vs x86-64 Python and C++ ($work/aarch64-parity.json)"

say "all legs passed in $SECONDS s:"
printf '[ci_jetson] %s\n' "${summary[@]}"
