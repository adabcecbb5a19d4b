#!/usr/bin/env bash
# Debian packages the C++ library builds and tests with (compilers, CMake, GoogleTest, JSON, image
# codecs, Google Benchmark). Idempotent: when every package is already installed it only checks
# (dpkg -s) and returns in well under a second; apt-get runs only for what is missing.
# ONNX Runtime is not a Debian package here: scripts/fetch_onnxruntime_sdk.sh brings it.
set -euo pipefail

packages=(cmake ninja-build g++ libgtest-dev nlohmann-json3-dev libpng-dev libjpeg-dev
          zlib1g-dev libbenchmark-dev)

missing=()
for package in "${packages[@]}"; do
  # "install ok installed" only: a removed package whose config files remain is not installed.
  if [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install_cpp_deps: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install_cpp_deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi

echo "install_cpp_deps: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
