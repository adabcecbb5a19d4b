#!/usr/bin/env bash
# fetch_onnxruntime_aarch64.sh [DEST]: ONNX Runtime for Linux aarch64 (Jetson's architecture), laid
# out like scripts/fetch_onnxruntime_sdk.sh's x86-64 SDK, for the cross build (cmake/toolchains/).
#
# DEST (default third_party/onnxruntime-linux-aarch64, git-ignored) gets:
#   include/  the C/C++ headers, architecture-independent: on x86-64 copied from the x86-64 SDK
#             (scripts/fetch_onnxruntime_sdk.sh, run first if missing); elsewhere (on a Jetson)
#             taken from the same npm package that script pins (its version and sha256 are read
#             from it, so there is one pin), without its x86-64 library. Both are ONNX Runtime 1.29.0.
#   lib/      libonnxruntime.so -> libonnxruntime.so.1 -> libonnxruntime.so.1.29.0 (aarch64),
#             libonnxruntime_providers_shared.so
#   VERSION   what was laid out (the script skips the work when it matches the pin)
#
# Where the library comes from: PyPI's onnxruntime 1.29.0 wheel for manylinux_2_28_aarch64 (CPython
# 3.12; the shared library inside is the same C API whatever the Python), fetched with
# `pip download` so that a package registry is the only thing needed, pinned by sha256 below.
# The wheel holds onnxruntime/capi/libonnxruntime.so.1.29.0 beside its Python binding.
# With ordinary internet access, the official onnxruntime-linux-aarch64-1.29.0.tgz release archive
# is equivalent: configure with -DONNXRUNTIME_ROOT=<it unpacked>.
#
# Environment: PYTHON (default python3) runs pip; ONNXRUNTIME_AARCH64_WHEEL=path uses an already
# downloaded wheel (checked against the same sha256).
set -euo pipefail

ORT_VERSION=1.29.0
WHEEL=onnxruntime-1.29.0-cp312-cp312-manylinux_2_28_aarch64.whl
WHEEL_SHA256=d2fb19e848f7c33ed8d3182b52504aaa11c5e8da438bbb47296f85b133cbcf6b
STAMP="onnxruntime ${ORT_VERSION} linux-aarch64 (PyPI ${WHEEL} sha256 ${WHEEL_SHA256})"

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:-${repo_root}/third_party/onnxruntime-linux-aarch64}
x64_sdk=${repo_root}/third_party/onnxruntime
say() { echo "[fetch_onnxruntime_aarch64] $*" >&2; }

if [ -f "${dest}/VERSION" ] && [ "$(head -n 1 "${dest}/VERSION")" = "${STAMP}" ] \
   && [ -f "${dest}/include/onnxruntime_cxx_api.h" ] && [ -e "${dest}/lib/libonnxruntime.so" ]; then
  say "${dest} already has ONNX Runtime ${ORT_VERSION} for aarch64; nothing to do"
  exit 0
fi

mkdir -p "$(dirname "${dest}")"
work=$(mktemp -d "${dest}.tmp.XXXXXX")
trap 'rm -rf "${work}"' EXIT

# The headers, which must be the same ONNX Runtime version as the library.
headers="${x64_sdk}/include"
if [ "$(uname -m)" = x86_64 ]; then
  if ! head -n 1 "${x64_sdk}/VERSION" 2>/dev/null | grep -q "^onnxruntime ${ORT_VERSION} "; then
    bash "${repo_root}/scripts/fetch_onnxruntime_sdk.sh"
  fi
  head -n 1 "${x64_sdk}/VERSION" | grep -q "^onnxruntime ${ORT_VERSION} " || {
    say "${x64_sdk} is not ONNX Runtime ${ORT_VERSION}: its headers would not match this library"; exit 1; }
else
  eval "$(grep -E '^(NPM_PACKAGE|NPM_VERSION|ORT_VERSION|TARBALL_SHA256)=' "${repo_root}/scripts/fetch_onnxruntime_sdk.sh" | sed 's/^/SDK_/')"
  [ "${SDK_ORT_VERSION}" = "${ORT_VERSION}" ] || { say "fetch_onnxruntime_sdk.sh pins ${SDK_ORT_VERSION}, this script ${ORT_VERSION}"; exit 1; }
  command -v npm >/dev/null || { say "npm is needed for the headers (apt-get install npm)"; exit 1; }
  say "npm pack ${SDK_NPM_PACKAGE}@${SDK_NPM_VERSION} for the headers (150 MB)"
  (cd "${work}" && npm pack --silent "${SDK_NPM_PACKAGE}@${SDK_NPM_VERSION}" >/dev/null)
  got=$(sha256sum "${work}/${SDK_NPM_PACKAGE}-${SDK_NPM_VERSION}.tgz" | cut -d' ' -f1)
  [ "${got}" = "${SDK_TARBALL_SHA256}" ] || { say "sha256 mismatch for the npm package: ${got}"; exit 1; }
  framework='package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64/onnxruntime.framework/Headers'
  tar -xzf "${work}/${SDK_NPM_PACKAGE}-${SDK_NPM_VERSION}.tgz" -C "${work}" "${framework}"
  headers="${work}/${framework}"
fi

if [ -n "${ONNXRUNTIME_AARCH64_WHEEL:-}" ]; then
  say "using ${ONNXRUNTIME_AARCH64_WHEEL}"
  cp "${ONNXRUNTIME_AARCH64_WHEEL}" "${work}/${WHEEL}"
else
  say "pip download onnxruntime==${ORT_VERSION} for manylinux_2_28_aarch64 (21 MB)"
  "${PYTHON:-python3}" -m pip download --quiet --no-deps --only-binary=:all: \
    --platform manylinux_2_28_aarch64 --python-version 3.12 --implementation cp \
    --dest "${work}" "onnxruntime==${ORT_VERSION}"
fi
[ -f "${work}/${WHEEL}" ] || { say "pip did not bring ${WHEEL}: $(ls "${work}")"; exit 1; }
got=$(sha256sum "${work}/${WHEEL}" | cut -d' ' -f1)
if [ "${got}" != "${WHEEL_SHA256}" ]; then
  say "sha256 mismatch for ${WHEEL}: expected ${WHEEL_SHA256}, got ${got}"
  exit 1
fi

"${PYTHON:-python3}" - "${work}/${WHEEL}" "${work}/unpacked" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    for name in wheel.namelist():
        if name.startswith("onnxruntime/capi/libonnxruntime") or name.endswith("LICENSE") \
                or name.endswith("ThirdPartyNotices.txt"):
            wheel.extract(name, sys.argv[2])
PY
capi="${work}/unpacked/onnxruntime/capi"
[ -f "${capi}/libonnxruntime.so.${ORT_VERSION}" ] || { say "the wheel lacks libonnxruntime.so.${ORT_VERSION}"; exit 1; }
file_type=$(od -An -tx1 -j18 -N2 "${capi}/libonnxruntime.so.${ORT_VERSION}" | tr -d ' ')
[ "${file_type}" = "b700" ] || { say "libonnxruntime.so.${ORT_VERSION} is not an aarch64 ELF (e_machine ${file_type})"; exit 1; }

sdk="${work}/sdk"
mkdir -p "${sdk}/include" "${sdk}/lib"
cp "${headers}/"*.h "${sdk}/include/"
cp "${capi}/libonnxruntime.so.${ORT_VERSION}" "${capi}/libonnxruntime_providers_shared.so" "${sdk}/lib/"
ln -s "libonnxruntime.so.${ORT_VERSION}" "${sdk}/lib/libonnxruntime.so.1"
ln -s libonnxruntime.so.1 "${sdk}/lib/libonnxruntime.so"
find "${work}/unpacked" \( -name LICENSE -o -name ThirdPartyNotices.txt \) -exec cp {} "${sdk}/" \;
echo "${STAMP}" > "${sdk}/VERSION"

if [ -e "${dest}" ]; then
  mv "${dest}" "${work}/previous"
fi
mv "${sdk}" "${dest}"
say "ONNX Runtime ${ORT_VERSION} for aarch64 in ${dest}"
