#!/usr/bin/env bash
# The Python environment the Triton server's Python-backend models run in (EXECUTION_ENV_PATH of
# a repository written with `frozenseg-deploy triton --python-env`), and the bundled server:
#
#   scripts/make_triton_env.sh [ENV_DIR]        (default: .triton-env)
#
# Triton 2.51's Python backend stub (nvidia-pytriton 0.7.0, NGC 24.10) exchanges tensors with
# numpy through the numpy 1.x ABI: under numpy 2 its outputs arrive empty. So the server side gets
# its own venv with numpy<2, apart from the tool's (numpy 2). The repository carries the runtime
# itself; this venv needs only numpy, Pillow and ONNX Runtime (for --backend python graphs).
# The server binary comes from the nvidia-pytriton wheel, installed without its dependencies into
# the tool's venv (it requires numpy<2 too, and only its bundled tritonserver is used).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
env_dir="${1:-$root/.triton-env}"
tool_python="${TOOL_PYTHON:-$root/.venv/bin/python}"
if [ ! -x "$env_dir/bin/python" ]; then
  python3 -m venv "$env_dir"
fi
"$env_dir/bin/pip" install -q -c "$root/constraints-triton.txt" numpy pillow onnxruntime
"$tool_python" -m pip install -q --no-deps -c "$root/constraints-triton.txt" nvidia-pytriton
echo "Triton server environment: $env_dir ($("$env_dir/bin/python" -c 'import numpy, onnxruntime; print("numpy", numpy.__version__, "onnxruntime", onnxruntime.__version__)'))"
