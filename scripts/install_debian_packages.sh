#!/usr/bin/env bash
# Installs the Debian packages named after the label, only those missing; one mechanism for
# scripts/install_cpp_deps.sh and scripts/install_jetson_ci_deps.sh.
#
#   scripts/install_debian_packages.sh LABEL [--foreign-arch ARCH] PACKAGE...
#
# Idempotent: when every package is installed it only checks (dpkg-query) and returns at once;
# otherwise it adds ARCH to dpkg's architectures (multiarch) if asked, runs apt-get update once and
# installs what is missing, as root or through sudo.
set -euo pipefail

label="$1"; shift
foreign_arch=""
if [ "${1:-}" = "--foreign-arch" ]; then foreign_arch="$2"; shift 2; fi
packages=("$@")

native="$(dpkg --print-architecture)"

installed() {
  # "install ok installed" only: a removed package whose config files remain is not installed.
  # An unqualified name means the native architecture's package (with arm64 added, a plain
  # `dpkg-query -W libpng-dev` lists both and never reads as installed), or an Architecture: all one.
  local status
  if [[ "$1" == *:* ]]; then
    status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)"
  else
    status="$(dpkg-query -W -f='${Status}' "$1:$native" 2>/dev/null || true)"
    [ -n "$status" ] || status="$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)"
  fi
  [ "$status" = "install ok installed" ]
}

missing=()
for package in "${packages[@]}"; do
  installed "$package" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "$label: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "$label: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
if [ -n "$foreign_arch" ] && ! dpkg --print-foreign-architectures | grep -qx "$foreign_arch"; then
  echo "$label: adding the $foreign_arch architecture to dpkg (multiarch)"
  "${sudo[@]}" dpkg --add-architecture "$foreign_arch"
fi
echo "$label: installing ${missing[*]}"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
