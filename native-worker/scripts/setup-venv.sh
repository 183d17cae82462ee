#!/usr/bin/env bash
# Creates the project-local Python environment (<repo>/.venv) used by the HF cross-check and the token-file tools,
# installing native-worker/tests/hf/requirements.txt offline from the machine's local wheel folders.
# Idempotent: a stamp holding the requirements' hash makes a second run a no-op. Quiet unless something fails.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/../.." && pwd)"
venv="$repo_root/.venv"
requirements="$repo_root/native-worker/tests/hf/requirements.txt"
stamp="$venv/.grove-requirements.sha256"

# --no-index also disables pip's configured file:// indexes, so their file folders are listed as find-links.
wheel_dirs="${GROVE_WHEEL_DIRS:-/opt/wheels /opt/pypi/files /opt/pypi-more/files}"

want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
  # Debian splits venv (with ensurepip) out of python3; install it when missing and we may.
  if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    if [[ "$(id -u)" == 0 ]]; then
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    else
      echo "setup-venv: python3's venv module is missing: apt-get install -y python3-venv" >&2
      exit 1
    fi
  fi
  python3 -m venv "$venv"
fi

find_links=()
for dir in $wheel_dirs; do
  [[ -d "$dir" ]] && find_links+=(--find-links "$dir")
done
if [[ ${#find_links[@]} -eq 0 ]]; then
  echo "setup-venv: none of the wheel folders exist: $wheel_dirs (set GROVE_WHEEL_DIRS)" >&2
  exit 1
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! "$venv/bin/pip" install --quiet --no-index "${find_links[@]}" -r "$requirements" >"$log" 2>&1; then
  cat "$log" >&2
  echo "setup-venv: offline install of $requirements failed" >&2
  exit 1
fi
echo "$want" >"$stamp"
