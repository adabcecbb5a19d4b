#!/usr/bin/env bash
# One command on a machine with an NVIDIA GPU: what is installed, the engines that can be built,
# each GPU backend checked against ONNX Runtime CPU on the tiny preset, then `bench` on the full
# default preset; everything lands in one folder, with what was skipped and why.
#
#   bash benchmarks/gpu.sh [OUT]          (default OUT: gpu-results/DATE-TIME)
#
# Needs the project installed: pip install -e '.[reference,bench]' (+ onnxruntime-gpu and
# '.[tensorrt]' for those backends); PYTHON=... picks the interpreter (default .venv/bin/python,
# else python3). FULL_ARTIFACTS=DIR reuses a full-preset export instead of exporting one (without
# the float64 verification, which belongs to `export`, not to a speed run). Made to finish within
# 10 minutes on one data-centre GPU; BENCH_ARGS adds arguments to `bench` (e.g. --runs 10).
set -uo pipefail

cd "$(dirname "$0")/.."
OUT=${1:-gpu-results/$(date +%Y%m%d-%H%M%S)}
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
DEPLOY=("$PYTHON" -m frozenseg_export.cli)
mkdir -p "$OUT"
SKIPS="$OUT/skipped.txt"
: >"$SKIPS"
log() { echo "[gpu.sh $(date +%H:%M:%S)] $*" | tee -a "$OUT/gpu.log" >&2; }
skip() { log "SKIP: $*"; echo "$*" >>"$SKIPS"; }
run() { log "\$ $*"; "$@" 2>&1 | tee -a "$OUT/gpu.log"; return "${PIPESTATUS[0]}"; }

# 1. What is installed ------------------------------------------------------------------------
{
  nvidia-smi || echo "nvidia-smi: not found"
  "$PYTHON" - <<'PY'
import importlib
for name in ("torch", "onnxruntime", "tensorrt"):
    try:
        module = importlib.import_module(name)
        print(name, getattr(module, "__version__", "(no version: type stubs only?)"))
    except Exception as exc:
        print(name, "missing:", exc)
try:
    import torch
    print("torch CUDA:", torch.cuda.is_available(), torch.version.cuda,
          torch.cuda.get_device_name() if torch.cuda.is_available() else "")
except Exception as exc:
    print("torch CUDA: no", exc)
try:
    import onnxruntime
    print("onnxruntime providers:", onnxruntime.get_available_providers())
except Exception:
    pass
PY
} >"$OUT/environment.txt" 2>&1
cat "$OUT/environment.txt" | tee -a "$OUT/gpu.log"

has() { "$PYTHON" -c "$1" >/dev/null 2>&1; }
has "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" \
  || skip "PyTorch on CUDA (autocast, torch.compile): torch does not see a CUDA GPU; bench's baseline runs on the CPU"
has "import onnxruntime as o, sys; sys.exit(0 if 'CUDAExecutionProvider' in o.get_available_providers() else 1)" \
  || skip "ONNX Runtime CUDA/TensorRT execution providers: onnxruntime-gpu is not installed (pip install onnxruntime-gpu)"
HAVE_TRT=0
if has "from frozenseg_runtime.backends.tensorrt.env import require_tensorrt; require_tensorrt()"; then
  HAVE_TRT=1
else
  skip "native TensorRT engines: TensorRT (or cuda-python) is not installed (pip install -e '.[tensorrt]')"
fi
[ -f build/libfrozenseg.so ] || skip "C++ runtime: build/libfrozenseg.so is not built (README, 'C and C++ library')"

# 2. The tiny preset: each GPU backend against ONNX Runtime CPU ------------------------------
TINY="$OUT/tiny"
run "${DEPLOY[@]}" export --preset tiny --out "$TINY" --verify-images 1 || { log "tiny export failed"; exit 1; }
if [ "$HAVE_TRT" = 1 ]; then
  run "${DEPLOY[@]}" build --artifacts "$TINY" --precision fp32 || skip "TensorRT build of the tiny preset failed (see gpu.log)"
fi
if [ "$HAVE_TRT" = 1 ]; then
  # The TensorRT paths of issue 23: CUDA graphs on changing shapes (one context per shape), memory
  # sized for the shapes run, fp32 engines (TF32 off) against ONNX Runtime CPU FP32.
  run "$PYTHON" -m pytest -q -p no:cacheprovider tests/runtime/test_trt_backend.py \
    -k "cuda_graph or memory_is_sized or matches_onnxruntime or activation_buffer" \
    || skip "a TensorRT path test failed (see gpu.log)"
  # Activation memory per engine at the profile max, as `build` recorded it.
  "$PYTHON" - "$TINY" <<'PY' 2>&1 | tee -a "$OUT/gpu.log" "$OUT/trt_device_memory.txt"
import json, sys
from pathlib import Path
for sidecar in sorted(Path(sys.argv[1], "engines").glob("*.engine.json")):
    meta = json.loads(sidecar.read_text())
    print(f"{meta['graph']:11s} {meta['precision']:5s} activations at profile max "
          f"{meta.get('device_memory_bytes', 0) / 2**20:8.1f} MiB, tf32={meta.get('tf32')}, "
          f"{meta.get('sm_count')} SMs")
PY
fi
run "$PYTHON" -m frozenseg_bench.backend_check --artifacts "$TINY" --precision fp32 --json "$OUT/backend_check.json"
CHECK=$?
[ "$CHECK" = 0 ] || log "a GPU backend disagrees with ONNX Runtime CPU (backend_check.json); bench still runs"

# 3. The full default preset: bench -----------------------------------------------------------
FULL=${FULL_ARTIFACTS:-$OUT/full}
if [ ! -f "$FULL/manifest.json" ]; then
  run "${DEPLOY[@]}" export --out "$FULL" --no-verify || { log "full export failed"; exit 1; }
fi
if [ "$HAVE_TRT" = 1 ]; then
  run "${DEPLOY[@]}" build --artifacts "$FULL" --precision fp32 || skip "TensorRT build of the full preset failed (see gpu.log)"
fi
# FP16/INT8 graphs come from `quantize`, whose accuracy measurement runs the float64 reference on
# the CPU (many minutes): run it beforehand and pass FULL_ARTIFACTS to bench them here.
run "${DEPLOY[@]}" bench --artifacts "$FULL" --out "$OUT/bench" ${BENCH_ARGS:-}
BENCH=$?
log "done: $OUT (bench.md, bench_stages.png, bench_resolution.png in $OUT/bench; skipped.txt)"
[ -s "$SKIPS" ] && { log "skipped:"; cat "$SKIPS" >&2; }
exit $(( CHECK != 0 || BENCH != 0 ))
