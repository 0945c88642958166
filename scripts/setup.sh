#!/usr/bin/env bash
# Installs every Debian package vox needs, only when something is missing.
# Works as root on a fresh Debian 12; otherwise says what to install.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libespeak-ng-dev espeak-ng-data espeak-ng
  libcjson-dev libssl-dev openssl libnghttp2-dev libuv1-dev
  sox libsox-fmt-all curl nghttp2-client wrk bc time
  gcc-aarch64-linux-gnu qemu-user
)
# Extra packages a later part of the project appends here (one per line, # comments).
if [ -f "$(dirname "$0")/packages.txt" ]; then
  while read -r p; do p=${p%%#*}; p=$(echo "$p" | xargs); [ -n "$p" ] && PKGS+=("$p"); done \
    < "$(dirname "$0")/packages.txt"
fi

missing=()
# Node.js (for the oracle tools and client tests) may come from Debian or elsewhere.
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing missing packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "setup: not root and no sudo; please install: ${missing[*]}" >&2; exit 1; fi
else SUDO=""; fi
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -q >/tmp/vox-apt-update.log 2>&1; then
  echo "setup: apt-get update failed (see /tmp/vox-apt-update.log)" >&2; exit 1
fi
if ! $SUDO apt-get install -y -q "${missing[@]}" >/tmp/vox-apt-install.log 2>&1; then
  echo "setup: apt-get install failed for: ${missing[*]} (see /tmp/vox-apt-install.log)" >&2
  tail -5 /tmp/vox-apt-install.log >&2; exit 1
fi
echo "setup: done"
