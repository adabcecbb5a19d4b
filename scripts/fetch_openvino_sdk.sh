#!/usr/bin/env bash
# fetch_openvino_sdk.sh [DEST]: the OpenVINO C++ SDK the C++ library's openvino-cpu backend builds
# against (CMake option FROZENSEG_WITH_OPENVINO).
#
# DEST (default third_party/openvino in the repository, git-ignored) gets the PyPI `openvino`
# wheel's C++ half, laid out as the wheel lays it out so that its CMake package works unchanged:
#   openvino/cmake/   OpenVINOConfig.cmake (find_package(OpenVINO) with -DOpenVINO_DIR=<it>)
#   openvino/include/ the C and C++ headers
#   openvino/libs/    libopenvino.so.<ver>, the CPU plugin, the ONNX frontend, TBB, hwloc, ...
#   VERSION           what was laid out (this script skips the work when it matches the pin)
# CMake finds it there by default (OPENVINO_ROOT); elsewhere pass -DOPENVINO_ROOT=DEST, or
# -DOpenVINO_DIR=<any OpenVINO's cmake folder> (an archive install from openvino.ai works too).
#
# The version is constraints.txt's pin, the one the Python runtime's openvino-cpu backend runs, so
# both runtimes compile the same graphs with the same OpenVINO. The wheel comes from the package
# index pip is configured with (`pip download`); its Python modules are left out.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:-${repo_root}/third_party/openvino}
say() { echo "[fetch_openvino_sdk] $*" >&2; }

version=$(sed -n 's/^openvino==\([0-9.]*\).*/\1/p' "${repo_root}/constraints.txt")
[ -n "${version}" ] || { say "constraints.txt pins no openvino==<version>"; exit 1; }
STAMP="openvino ${version} linux-$(uname -m) (PyPI wheel)"

if [ -f "${dest}/VERSION" ] && [ "$(head -n 1 "${dest}/VERSION")" = "${STAMP}" ] \
   && [ -f "${dest}/openvino/cmake/OpenVINOConfig.cmake" ]; then
  say "${dest} already has OpenVINO ${version}; nothing to do"
  exit 0
fi

mkdir -p "$(dirname "${dest}")"
# The work folder sits beside DEST so that the final rename stays on one filesystem (atomic).
work=$(mktemp -d "${dest}.tmp.XXXXXX")
trap 'rm -rf "${work}"' EXIT

python=${PYTHON:-python3}
say "pip download openvino==${version} (about 60 MB)"
"${python}" -m pip download -q --no-deps --only-binary=:all: "openvino==${version}" -d "${work}/wheel" \
  2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
wheel=$(ls "${work}"/wheel/openvino-"${version}"-*.whl)
"${python}" - "${wheel}" "${work}/sdk" <<'PY'
import sys, zipfile
wheel, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as archive:
    members = [m for m in archive.namelist()
               if m.startswith(("openvino/cmake/", "openvino/include/", "openvino/libs/"))]
    if not any(m.endswith("OpenVINOConfig.cmake") for m in members):
        sys.exit(f"{wheel} has no openvino/cmake/OpenVINOConfig.cmake")
    for member in members:
        archive.extract(member, out)
        if member.startswith("openvino/libs/"):
            # zipfile drops the mode bits; shared libraries stay readable and executable.
            import os
            os.chmod(f"{out}/{member}", 0o755)
PY
echo "${STAMP}" > "${work}/sdk/VERSION"
rm -rf "${dest}"
mv "${work}/sdk" "${dest}"
say "OpenVINO ${version} SDK in ${dest} (configure with -DFROZENSEG_WITH_OPENVINO=ON)"
