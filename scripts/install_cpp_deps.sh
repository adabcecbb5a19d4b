#!/usr/bin/env bash
# Debian packages the C++ library builds and tests with (compilers, CMake, GoogleTest, JSON, image
# codecs, Google Benchmark; clang and its libFuzzer runtime for the sanitizer and fuzz build).
# Idempotent: when every package is already installed it only checks (dpkg -s) and returns in well
# under a second; apt-get runs only for what is missing.
# ONNX Runtime is not a Debian package here: scripts/fetch_onnxruntime_sdk.sh brings it.
set -euo pipefail

exec bash "$(dirname "${BASH_SOURCE[0]}")/install_debian_packages.sh" install_cpp_deps \
  cmake ninja-build g++ libgtest-dev nlohmann-json3-dev libpng-dev libjpeg-dev zlib1g-dev libbenchmark-dev \
  clang libclang-rt-14-dev
