#!/usr/bin/env bash
# scripts/cmake322.sh: JetPack 6's CMake (3.22.6, from PyPI's `cmake` package) in its own venv under
# build-jetson/cmake-3.22; installs it when missing and prints the folder holding `cmake` and
# `ctest`. README's test command builds the native C++ library with it and GCC 11, so that one
# build serves the default legs and the Jetson readiness leg (scripts/ci_jetson.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version=3.22.6
venv="$root/build-jetson/cmake-${version%.*}"
if [ "$("$venv/bin/cmake" --version 2>/dev/null | head -n 1)" != "cmake version $version" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "cmake==$version" >&2
fi
echo "$venv/bin"
