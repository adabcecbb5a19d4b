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

exec bash "$(dirname "${BASH_SOURCE[0]}")/install_debian_packages.sh" install_jetson_ci_deps --foreign-arch arm64 \
  g++-11 g++-11-aarch64-linux-gnu qemu-user nlohmann-json3-dev \
  libpng-dev:arm64 libjpeg-dev:arm64 zlib1g-dev:arm64 libgtest-dev:arm64 libstdc++6:arm64
