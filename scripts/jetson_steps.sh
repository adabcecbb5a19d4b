#!/usr/bin/env bash
# The steps a Jetson user runs on the device (docs/jetson.md, "On the device, step by step"), as far
# as they go on any aarch64 Linux: what needs JetPack (TensorRT, CUDA, nvpmodel, tegrastats) runs
# where it is installed and is reported as absent elsewhere, never silently passed.
#
#   scripts/jetson_steps.sh --artifacts DIR [--build DIR] [--out DIR] [--cmake CMAKE] [--ctest-args "..."]
#                           [--tensorrt AUTO|ON|OFF] [--toolchain FILE --onnxruntime-root DIR] [--resize S,M]
#   scripts/jetson_steps.sh --build-only [same options, --artifacts not needed]: steps 1-2 only (CI
#                           builds the tree early, in the background; the full run then finds it built)
#
#   1. the platform: architecture, L4T / JetPack release, TensorRT and CUDA packages, compiler, CMake
#   2. the C++ library, configured and built (native on the device; --toolchain cross-builds it
#      here, with tests run through the toolchain's emulator), FROZENSEG_WITH_TENSORRT as --tensorrt
#      (AUTO: with TensorRT where JetPack has it; ON on a Jetson makes a missing TensorRT an error)
#   3. its tests (ctest; FS_TEST_ARTIFACTS=--artifacts so the C API runs on the real export)
#   4. frozenseg-segment on samples/astronaut.jpg with --artifacts on ONNX Runtime (CPU; --resize
#      passed on, e.g. a small one under emulation), and with
#      --backend tensorrt after `frozenseg-deploy build` where TensorRT and frozenseg-deploy exist
#   5. power mode and tegrastats where present (nvpmodel -q; one tegrastats sample)
#
# ONNX Runtime for aarch64: scripts/fetch_onnxruntime_aarch64.sh (default --onnxruntime-root when
# this machine or the toolchain is aarch64). scripts/ci_jetson.sh runs this script cross-built and
# under qemu-aarch64 on x86-64; on a Jetson, run it as is.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
artifacts="" build="" out="" cmake_bin="${CMAKE:-cmake}" ctest_args="" tensorrt="AUTO" toolchain="" ort_root=""
build_only=0
resize=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --artifacts) artifacts="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --cmake) cmake_bin="$2"; shift 2 ;;
    --ctest-args) ctest_args="$2"; shift 2 ;;
    --tensorrt) tensorrt="$2"; shift 2 ;;
    --toolchain) toolchain="$2"; shift 2 ;;
    --onnxruntime-root) ort_root="$2"; shift 2 ;;
    --resize) resize=(--resize "$2"); shift 2 ;;
    --build-only) build_only=1; shift ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "jetson_steps: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [[ $build_only = 0 ]]; then
  [[ -n "$artifacts" ]] || { echo "jetson_steps: --artifacts DIR (an exported artifacts folder) is required" >&2; exit 2; }
  artifacts="$(cd "$artifacts" && pwd)"
fi
build="${build:-$root/build-device}"
out="${out:-$build/segment-out}"
ctest_bin="$(dirname "$(command -v "$cmake_bin")")/ctest"
[[ -x "$ctest_bin" ]] || ctest_bin=ctest
step() { echo; echo "[jetson_steps] ==== $* ===="; }
note() { echo "[jetson_steps] $*"; }

step "1. platform"
note "machine: $(uname -m), kernel $(uname -r)"
if [[ -f /etc/nv_tegra_release ]]; then
  note "L4T: $(head -n 1 /etc/nv_tegra_release)"
  dpkg-query -W -f='${Package} ${Version}\n' nvidia-jetpack nvidia-l4t-core 2>/dev/null | sed 's/^/[jetson_steps] /' || true
else
  note "L4T: absent (/etc/nv_tegra_release: not a Jetson)"
fi
for package in libnvinfer10 libnvinfer-dev cuda-cudart-12-6 libcudnn9-cuda-12; do
  version="$(dpkg-query -W -f='${Version}' "$package" 2>/dev/null || true)"
  note "$package: ${version:-not installed}"
done
command -v nvcc >/dev/null && note "nvcc: $(nvcc --version | tail -n 1)" || note "nvcc: not on PATH (JetPack: /usr/local/cuda/bin)"
note "cmake: $("$cmake_bin" --version | head -n 1)"

step "2. configure and build the C++ library (FROZENSEG_WITH_TENSORRT=$tensorrt)"
configure=("$cmake_bin" -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
           "-DFROZENSEG_WITH_TENSORRT=$tensorrt")
if [[ -n "$toolchain" ]]; then
  configure+=("-DCMAKE_TOOLCHAIN_FILE=$toolchain")
fi
if [[ -z "$ort_root" && ( "$(uname -m)" == aarch64 || -n "$toolchain" ) ]]; then
  ort_root="$root/third_party/onnxruntime-linux-aarch64"
fi
if [[ "$ort_root" == "$root/third_party/onnxruntime-linux-aarch64" ]]; then
  bash "$root/scripts/fetch_onnxruntime_aarch64.sh"   # returns at once when it is there
fi
if [[ -n "$ort_root" ]]; then
  configure+=("-DONNXRUNTIME_ROOT=$ort_root")
fi
"${configure[@]}"
"$cmake_bin" --build "$build" -j "${JOBS:-2}"
# The emulator the build runs its own binaries through (empty on a native build).
emulator="$(sed -n 's/^FS_CROSSCOMPILING_EMULATOR:INTERNAL=//p' "$build/CMakeCache.txt" | tr ';' ' ')"
if [[ -n "$toolchain" && -z "$emulator" ]]; then
  note "the toolchain set no emulator (qemu-aarch64 missing?): the cross-built programs cannot run here"; exit 1
fi
target_machine="$(file -b "$build/frozenseg-segment" 2>/dev/null | cut -d, -f2 | sed 's/^ *//' || true)"
note "built: $build/frozenseg-segment (${target_machine:-?})${emulator:+, run through $emulator}"
if [[ $build_only = 1 ]]; then
  note "--build-only: stopping after the build"
  exit 0
fi

step "3. tests (ctest ${ctest_args})"
# shellcheck disable=SC2086  # ctest_args is a list of ctest options
FS_TEST_ARTIFACTS="$artifacts" "$ctest_bin" --test-dir "$build" --output-on-failure -j "${JOBS:-2}" $ctest_args

step "4. segment samples/astronaut.jpg (frozenseg-segment, ONNX Runtime CPU)"
rm -rf "$out"
# shellcheck disable=SC2086  # emulator: a command and its options, empty when native
$emulator "$build/frozenseg-segment" "$root/samples/astronaut.jpg" --artifacts "$artifacts" \
  --vocabulary "person,sky,tree,grass,road,wall" --task panoptic --backend onnxruntime-cpu --no-cache \
  "${resize[@]}" --out "$out/onnxruntime-cpu"
for file in astronaut_panoptic.png astronaut_panoptic.json astronaut_overlay.png astronaut_summary.json; do
  [[ -s "$out/onnxruntime-cpu/$file" ]] || { note "missing $out/onnxruntime-cpu/$file"; exit 1; }
done
note "wrote $out/onnxruntime-cpu/: $(cd "$out/onnxruntime-cpu" && ls | paste -sd' ')"
if command -v frozenseg-deploy >/dev/null && dpkg-query -W libnvinfer10 >/dev/null 2>&1; then
  frozenseg-deploy build --artifacts "$artifacts" --precision fp32 --workspace-mib 1024
  $emulator "$build/frozenseg-segment" "$root/samples/astronaut.jpg" --artifacts "$artifacts" \
    --vocabulary "person,sky,tree,grass,road,wall" --task panoptic --backend tensorrt --no-cache \
    "${resize[@]}" --out "$out/tensorrt"
else
  note "TensorRT engines and --backend tensorrt: skipped (needs JetPack's TensorRT and frozenseg-deploy on this machine)"
fi

step "5. power mode and tegrastats"
if command -v nvpmodel >/dev/null; then
  nvpmodel -q 2>&1 | sed 's/^/[jetson_steps] /' || true
else
  note "nvpmodel: not present (Jetson only)"
fi
if command -v tegrastats >/dev/null; then
  timeout 3 tegrastats --interval 1000 2>&1 | head -n 1 | sed 's/^/[jetson_steps] /' || true
else
  note "tegrastats: not present (Jetson only)"
fi
note "done"
