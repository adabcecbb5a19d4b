#!/usr/bin/env bash
# fetch_onnxruntime_sdk.sh [DEST]: the ONNX Runtime C/C++ SDK the C++ library builds against.
#
# DEST (default third_party/onnxruntime in the repository, git-ignored) gets:
#   include/  onnxruntime_c_api.h, onnxruntime_cxx_api.h, onnxruntime_cxx_inline.h, ...
#   lib/      libonnxruntime.so -> libonnxruntime.so.1 -> libonnxruntime.so.<version>,
#             libonnxruntime_providers_shared.so
#   VERSION   what was laid out (this script skips the work when it matches the pin)
#   LICENSE, ThirdPartyNotices.txt
# CMake finds it there by default; elsewhere pass -DONNXRUNTIME_ROOT=DEST.
#
# Where it comes from: ONNX Runtime's official Linux build, as repackaged in the npm package
# com.github.asus4.onnxruntime (a Unity plugin: Plugins/Linux/x64/libonnxruntime.so, and the C/C++
# headers inside its iOS xcframework, identical for every platform), fetched with `npm pack` so
# that a package registry is the only thing the build needs to reach. The tarball is pinned by
# sha256 below.
#
# With ordinary internet access the official release archive is equivalent and lays out the same
# include/ and lib/ folders, so it can be used instead, with no script:
#   https://github.com/microsoft/onnxruntime/releases  ->  onnxruntime-linux-x64-<ver>.tgz
#   (onnxruntime-linux-x64-gpu-<ver>.tgz for the CUDA and TensorRT execution providers,
#    onnxruntime-linux-aarch64-<ver>.tgz for ARM64 such as Jetson)
#   tar xzf onnxruntime-linux-x64-1.29.0.tgz && cmake ... -DONNXRUNTIME_ROOT=$PWD/onnxruntime-linux-x64-1.29.0
#
# Environment: ONNXRUNTIME_NPM_TARBALL=path uses an already downloaded tarball (checked against
# the same sha256) instead of downloading.
set -euo pipefail

NPM_PACKAGE=com.github.asus4.onnxruntime
NPM_VERSION=0.4.9
ORT_VERSION=1.29.0
TARBALL_SHA256=e59788788818fdde1b2e522e766a21ba0f7d8391de55737abf81e32cc801785d
STAMP="onnxruntime ${ORT_VERSION} linux-x64 (npm ${NPM_PACKAGE}@${NPM_VERSION} sha256 ${TARBALL_SHA256})"

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:-${repo_root}/third_party/onnxruntime}
say() { echo "[fetch_onnxruntime_sdk] $*" >&2; }

if [ -f "${dest}/VERSION" ] && [ "$(head -n 1 "${dest}/VERSION")" = "${STAMP}" ] \
   && [ -f "${dest}/include/onnxruntime_cxx_api.h" ] && [ -e "${dest}/lib/libonnxruntime.so" ]; then
  say "${dest} already has ONNX Runtime ${ORT_VERSION}; nothing to do"
  exit 0
fi

if [ "$(uname -s)" != Linux ] || [ "$(uname -m)" != x86_64 ]; then
  say "this SDK is for Linux x86_64, and this machine is $(uname -s) $(uname -m)."
  say "Download onnxruntime-<os>-<arch>-${ORT_VERSION}.tgz from https://github.com/microsoft/onnxruntime/releases,"
  say "unpack it, and configure with -DONNXRUNTIME_ROOT=<the unpacked folder>."
  exit 1
fi

mkdir -p "$(dirname "${dest}")"
# The work folder sits beside DEST so that the final rename stays on one filesystem (atomic).
work=$(mktemp -d "${dest}.tmp.XXXXXX")
trap 'rm -rf "${work}"' EXIT

tarball="${work}/${NPM_PACKAGE}-${NPM_VERSION}.tgz"
if [ -n "${ONNXRUNTIME_NPM_TARBALL:-}" ]; then
  say "using ${ONNXRUNTIME_NPM_TARBALL}"
  cp "${ONNXRUNTIME_NPM_TARBALL}" "${tarball}"
elif command -v npm >/dev/null; then
  say "npm pack ${NPM_PACKAGE}@${NPM_VERSION} (150 MB)"
  (cd "${work}" && npm pack --silent "${NPM_PACKAGE}@${NPM_VERSION}" >/dev/null)
else
  say "npm is needed to fetch ${NPM_PACKAGE}@${NPM_VERSION} (apt-get install npm), or set"
  say "ONNXRUNTIME_NPM_TARBALL to a downloaded copy, or use the official release archive (see this script's comments)."
  exit 1
fi

got=$(sha256sum "${tarball}" | cut -d' ' -f1)
if [ "${got}" != "${TARBALL_SHA256}" ]; then
  say "sha256 mismatch for ${NPM_PACKAGE}-${NPM_VERSION}.tgz: expected ${TARBALL_SHA256}, got ${got}."
  say "The download is corrupt or the package was replaced; delete it and retry, or use the official release archive (see this script's comments)."
  exit 1
fi

# Only what the SDK needs: the Linux x64 libraries, one copy of the headers, the licences.
headers='package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64/onnxruntime.framework/Headers'
tar -xzf "${tarball}" -C "${work}" package/Plugins/Linux/x64 "${headers}" \
  package/LICENSE package/ThirdPartyNotices.txt

sdk="${work}/sdk"
mkdir -p "${sdk}/include" "${sdk}/lib"
cp "${work}/${headers}"/*.h "${sdk}/include/"
cp "${work}/package/Plugins/Linux/x64/libonnxruntime.so" "${sdk}/lib/libonnxruntime.so.${ORT_VERSION}"
cp "${work}/package/Plugins/Linux/x64/libonnxruntime_providers_shared.so" "${sdk}/lib/"
# The library's soname is libonnxruntime.so.1: the loader looks for that name at run time.
ln -s "libonnxruntime.so.${ORT_VERSION}" "${sdk}/lib/libonnxruntime.so.1"
ln -s libonnxruntime.so.1 "${sdk}/lib/libonnxruntime.so"
cp "${work}/package/LICENSE" "${work}/package/ThirdPartyNotices.txt" "${sdk}/"
for needed in onnxruntime_c_api.h onnxruntime_cxx_api.h onnxruntime_cxx_inline.h; do
  [ -f "${sdk}/include/${needed}" ] || { say "the package lacks ${needed}"; exit 1; }
done
echo "${STAMP}" > "${sdk}/VERSION"

# Swap in: an older DEST is moved aside first, so DEST is never half written.
if [ -e "${dest}" ]; then
  mv "${dest}" "${work}/previous"
fi
mv "${sdk}" "${dest}"
say "ONNX Runtime ${ORT_VERSION} SDK in ${dest}"
