#!/usr/bin/env bash
# Debian packages of the Jetson CI leg (scripts/ci_jetson.sh), beside scripts/install_cpp_deps.sh's:
#   g++-11                      JetPack 6's compiler (it ships GCC 11.4; Debian 12 has 11.3) on x86-64
#   g++-11-aarch64-linux-gnu    the same GCC 11 as a cross compiler for aarch64 (Jetson's architecture)
#   qemu-user                   qemu-aarch64: runs the aarch64 binaries here (CMake's cross-compiling emulator)
#   libpng-dev libjpeg-dev zlib1g-dev libgtest-dev libstdc++6 (all :arm64, Debian multiarch)
#                               the libraries the C++ library links, built for aarch64
# nlohmann-json3-dev is architecture-independent (header-only): install_cpp_deps.sh brings it.
# Idempotent: when everything is installed it only checks (dpkg-query) and returns at once;
# otherwise it adds the arm64 architecture to dpkg, runs apt-get update once and installs what is missing.
set -euo pipefail

packages=(g++-11 g++-11-aarch64-linux-gnu qemu-user nlohmann-json3-dev
          libpng-dev:arm64 libjpeg-dev:arm64 zlib1g-dev:arm64 libgtest-dev:arm64 libstdc++6:arm64)

missing=()
for package in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$package")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install_jetson_ci_deps: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install_jetson_ci_deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "install_jetson_ci_deps: adding the arm64 architecture to dpkg (multiarch)"
  "${sudo[@]}" dpkg --add-architecture arm64
fi
echo "install_jetson_ci_deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
