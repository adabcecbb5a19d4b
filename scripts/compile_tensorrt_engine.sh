#!/usr/bin/env bash
# Compiles the native TensorRT engine's sources (runtime/cpp/src/runner/tensorrt/ and the factory
# that creates it) against TensorRT's and CUDA's public headers, without linking: the check for a
# machine that has neither TensorRT nor a GPU. Where TensorRT is installed, configure CMake with
# -DFROZENSEG_WITH_TENSORRT=ON instead: that compiles, links and tests the engine.
#
#   scripts/compile_tensorrt_engine.sh --tensorrt-include DIR --cuda-include DIR
#   scripts/compile_tensorrt_engine.sh --fetch v10.3.0 [--fetch-cuda 12|13] [--work DIR]
#
# --fetch TAG takes include/ of that tag of the NVIDIA/TensorRT repository (git, sparse);
# --fetch-cuda takes cuda_runtime_api.h and crt/ from NVIDIA's CUDA wheels (pip download: 13 =
# nvidia-cuda-runtime + nvidia-cuda-crt; 12 = nvidia-cuda-runtime-cu12 + nvidia-cuda-nvcc-cu12).
# Nothing fetched is kept in the repository: it goes to --work (default: a temporary folder).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
trt_include="" cuda_include="" fetch_tag="" fetch_cuda="" work=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tensorrt-include) trt_include="$2"; shift 2 ;;
    --cuda-include) cuda_include="$2"; shift 2 ;;
    --fetch) fetch_tag="$2"; shift 2 ;;
    --fetch-cuda) fetch_cuda="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
work="${work:-$(mktemp -d)}"
mkdir -p "$work"

if [[ -n "$fetch_tag" ]]; then
  dest="$work/tensorrt-$fetch_tag"
  if [[ ! -f "$dest/include/NvInfer.h" ]]; then
    rm -rf "$dest"
    git clone --quiet --depth 1 --branch "$fetch_tag" --filter=blob:none --sparse \
      https://github.com/NVIDIA/TensorRT.git "$dest"
    git -C "$dest" sparse-checkout set include
  fi
  trt_include="$dest/include"
fi
if [[ -n "$fetch_cuda" ]]; then
  dest="$work/cuda-$fetch_cuda"
  if [[ ! -f "$dest/include/cuda_runtime_api.h" ]]; then
    case "$fetch_cuda" in
      13) wheels=(nvidia-cuda-runtime nvidia-cuda-crt) ;;
      12) wheels=(nvidia-cuda-runtime-cu12 nvidia-cuda-nvcc-cu12) ;;
      *) echo "--fetch-cuda takes 12 or 13" >&2; exit 2 ;;
    esac
    python3 -m pip download --quiet --no-deps --dest "$dest/wheels" "${wheels[@]}"
    mkdir -p "$dest/unpacked" "$dest/include"
    for wheel in "$dest"/wheels/*.whl; do python3 -m zipfile -e "$wheel" "$dest/unpacked"; done
    # cuda_runtime_api.h and its neighbours, and crt/ (host_defines.h), wherever the wheel keeps them.
    for header_dir in $(find "$dest/unpacked" -type f -name cuda_runtime_api.h -printf '%h\n'); do
      cp -r "$header_dir"/. "$dest/include/"
    done
    find "$dest/unpacked" -name 'libcudart.so*' -type f -exec cp {} "$dest/" \;
    for crt_dir in $(find "$dest/unpacked" -type d -name crt -path '*include/crt'); do
      cp -r "$crt_dir" "$dest/include/"
    done
  fi
  cuda_include="$dest/include"
fi
if [[ ! -f "$trt_include/NvInferRuntime.h" ]]; then
  echo "no TensorRT headers: give --tensorrt-include DIR (with NvInferRuntime.h) or --fetch TAG" >&2; exit 2
fi
if [[ ! -f "$cuda_include/cuda_runtime_api.h" ]]; then
  echo "no CUDA headers: give --cuda-include DIR (with cuda_runtime_api.h) or --fetch-cuda 12|13" >&2; exit 2
fi

# nlohmann-json comes from the system (apt install nlohmann-json3-dev), like in the CMake build.
extra_includes=()
if [[ -n "${NLOHMANN_JSON_INCLUDE:-}" ]]; then extra_includes=(-isystem "$NLOHMANN_JSON_INCLUDE"); fi
version="$(grep -hE '#define (NV_TENSORRT|TRT)_(MAJOR|MINOR|PATCH)(_ENTERPRISE)? +[0-9]+' "$trt_include/NvInferVersion.h" | awk '{print $3}' | head -n3 | paste -sd.)"
cuda_version="$(grep -hE '#define CUDART_VERSION +[0-9]+' "$cuda_include/cuda_runtime_api.h" | awk '{print $3}')"
echo "compiling the TensorRT engine against TensorRT ${version} headers ($trt_include) and CUDA runtime ${cuda_version} headers ($cuda_include)"

sources=(
  runtime/cpp/src/runner/tensorrt/profiles.cpp
  runtime/cpp/src/runner/tensorrt/engine_metadata.cpp
  runtime/cpp/src/runner/tensorrt/engine_index.cpp
  runtime/cpp/src/runner/tensorrt/cuda_runtime.cpp
  runtime/cpp/src/runner/tensorrt/loader.cpp
  runtime/cpp/src/runner/tensorrt/arena.cpp
  runtime/cpp/src/runner/tensorrt/runner.cpp
  runtime/cpp/src/runner/factory.cpp
)
objects="$work/objects"
mkdir -p "$objects"
cd "$root"
for source in "${sources[@]}"; do
  ${CXX:-g++} -std=c++20 -Wall -Wextra -Werror -fPIC -c "$source" -o "$objects/$(basename "$source" .cpp).o" \
    -DFROZENSEG_HAVE_TENSORRT=1 -I runtime/cpp/include -I runtime/cpp/src \
    -isystem "$trt_include" -isystem "$cuda_include" "${extra_includes[@]}"
  echo "  ok  $source"
done
# What the engine takes from libnvinfer and libcudart: the objects' undefined symbols that none of
# them defines. With the CUDA wheel's libcudart at hand, each CUDA one must be exported by it.
nm --undefined-only "$objects"/*.o | awk 'NF == 2 { print $2 }' | sort -u > "$work/undefined.txt"
nm --defined-only "$objects"/*.o | awk 'NF == 3 { print $3 }' | sort -u > "$work/defined.txt"
comm -23 "$work/undefined.txt" "$work/defined.txt" | grep -E '^(cuda|getInferLib|createInfer)' > "$work/external.txt"
echo "symbols from libnvinfer and libcudart: $(paste -sd' ' "$work/external.txt")"
cudart="$(find "$(dirname "$cuda_include")" -name 'libcudart.so*' -type f 2>/dev/null | head -n1)"
if [[ -n "$cudart" ]]; then
  nm -D --defined-only "$cudart" | awk '{ print $3 }' | sed 's/@.*//' | sort -u > "$work/cudart.txt"
  missing="$(grep '^cuda' "$work/external.txt" | comm -23 - "$work/cudart.txt" || true)"
  if [[ -n "$missing" ]]; then echo "not exported by $cudart: $missing" >&2; exit 1; fi
  echo "every CUDA symbol is exported by $(basename "$cudart")"
fi
