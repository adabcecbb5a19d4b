#!/usr/bin/env bash
# make_aarch64_python.sh [DEST]: a Python 3.11 for aarch64 with the runtime's packages, run on
# x86-64 through qemu-aarch64: the Python runtime on aarch64 for tests/jetson (numpy on aarch64
# computes exp/log with libm, not with its x86 SIMD code; see runtime/cpp/src/output/numpy_math.hpp).
#
# DEST (default build-jetson/arm64-python) gets:
#   root/     Debian 12's arm64 python3.11 packages unpacked (apt-get download + dpkg -x: no
#             debootstrap or chroot needed, qemu's -L root resolves the interpreter's paths), the
#             qemu /proc/cpuinfo overlay (cmake/toolchains/qemu-aarch64-root), and in root/site the
#             aarch64 wheels below, pinned by version and sha256
#   src/      links to the repository's packages under their import names
#   python    the launcher: qemu-aarch64 -cpu cortex-a76 -L root root/usr/bin/python3.11, PYTHONPATH set
# Wheels: numpy and Pillow at constraints.txt's versions, onnxruntime 1.29.0, the version the C++
# library links, so that the two differ only in what they do after the graphs.
set -euo pipefail

root_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="${1:-$root_dir/build-jetson/arm64-python}"
say() { echo "[make_aarch64_python] $*" >&2; }
DEBS=(python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libffi8 libexpat1 libbz2-1.0 liblzma5 libssl3)
WHEELS="numpy==2.4.6 --hash=sha256:0ab0a9c4ffb1a6d95ef519fe4247dba8eb6b18ad93999f76b7f657039acabd47
pillow==13.0.0 --hash=sha256:7c88c10dd432f3b39ccdafc9ed81d0c21b8fd634502574da76d1bfa4fe2c76d0
onnxruntime==1.29.0 --hash=sha256:16925ef8497e2c07e4b5ae15b504079b3ab3f65e22c58efd10dde0f3caea969a"
stamp="$(printf '%s\n' "${DEBS[*]}" "$WHEELS" | sha256sum | cut -d' ' -f1)"

if [ -f "$dest/STAMP" ] && [ "$(cat "$dest/STAMP")" = "$stamp" ] && [ -x "$dest/python" ]; then
  say "$dest is up to date"
  exit 0
fi
command -v qemu-aarch64 >/dev/null || { say "qemu-aarch64 is missing (scripts/install_jetson_ci_deps.sh)"; exit 1; }
rm -rf "$dest" && mkdir -p "$dest/debs" "$dest/wheels" "$dest/root/site" "$dest/src"
(cd "$dest/debs" && apt-get download -q "${DEBS[@]/%/:arm64}" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
[ "$(ls "$dest/debs"/*.deb | wc -l)" = "${#DEBS[@]}" ] || { say "apt-get download did not bring all of: ${DEBS[*]}"; exit 1; }
for deb in "$dest/debs"/*.deb; do dpkg -x "$deb" "$dest/root"; done
printf '%s\n' "$WHEELS" > "$dest/wheels/requirements.txt"
"${PYTHON:-python3}" -m pip download --quiet --no-deps --only-binary=:all: --require-hashes \
  --platform manylinux_2_28_aarch64 --platform manylinux_2_27_aarch64 --python-version 3.11 --implementation cp \
  --dest "$dest/wheels" -r "$dest/wheels/requirements.txt"
for wheel in "$dest/wheels"/*.whl; do "${PYTHON:-python3}" -m zipfile -e "$wheel" "$dest/root/site"; done
cp -r "$root_dir/cmake/toolchains/qemu-aarch64-root/proc" "$dest/root/"
ln -s "$root_dir/runtime" "$dest/src/frozenseg_runtime"
ln -s "$root_dir/export" "$dest/src/frozenseg_export"
ln -s "$root_dir/benchmarks/bench" "$dest/src/frozenseg_bench"
ln -s "$root_dir/frozenseg" "$dest/src/frozenseg_reference"
cat > "$dest/python" <<LAUNCHER
#!/bin/sh
# Python 3.11 for aarch64 under qemu (made by scripts/make_aarch64_python.sh).
PYTHONPATH="$dest/src:$dest/root/site" PYTHONDONTWRITEBYTECODE=1 exec qemu-aarch64 -cpu cortex-a76 -L "$dest/root" "$dest/root/usr/bin/python3.11" "\$@"
LAUNCHER
chmod +x "$dest/python"
"$dest/python" -c 'import platform, numpy, PIL, onnxruntime; print("[make_aarch64_python]", platform.machine(), "Python", platform.python_version(), "numpy", numpy.__version__, "Pillow", PIL.__version__, "onnxruntime", onnxruntime.__version__)'
echo "$stamp" > "$dest/STAMP"
