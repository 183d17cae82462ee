#!/usr/bin/env bash
# Installs the engine's C++ build dependencies from Debian apt if any is missing. Idempotent and quiet.
set -euo pipefail
packages=(cmake g++ pkg-config nlohmann-json3-dev libopenblas-dev libgtest-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
sudo_cmd=()
[[ "$(id -u)" -ne 0 ]] && sudo_cmd=(sudo)
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! { "${sudo_cmd[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-deps: apt-get install ${missing[*]} failed" >&2
  exit 1
fi
