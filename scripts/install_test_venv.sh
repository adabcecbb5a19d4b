#!/usr/bin/env bash
# scripts/install_test_venv.sh: the tool's venv (.venv) with everything the test suite uses: the
# reference (torch), the tests' tools, the serving extras, and the TensorRT type stubs (without
# their dependency on the real TensorRT wheels, which cannot be had here). Idempotent: an existing
# .venv is brought up to date. README's test command (scripts/run_tests.sh) runs this in the
# background while the C++ library compiles.
#
# --no-compile: pip would otherwise compile every installed module to bytecode (about 12,000 files,
# torch's among them), most of which the suite never imports; Python compiles what it imports.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --no-compile -c constraints.txt -e '.[reference,test,serve]'
.venv/bin/pip install -q --no-compile --no-deps -c constraints.txt tensorrt-stubs
echo "install_test_venv: $(.venv/bin/python --version) in $root/.venv"
