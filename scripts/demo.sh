#!/usr/bin/env bash
# `make demo`: starts Postgres, Redis and the control plane, runs the demo client, and stops everything it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export NX_DAEMON=false NX_NO_CLOUD=true
port=${GROVE_DEMO_PORT:-18080}

scripts/setup-node.sh
user_urls=(DATABASE_URL="${DATABASE_URL:-}" REDIS_URL="${REDIS_URL:-}")
scripts/services.sh start
eval "$(scripts/services.sh env | sed 's/^/export /')"
log=$(mktemp -t grove-demo-XXXX.log)
cp_pid=""
cleanup() {
  if [ -n "$cp_pid" ]; then kill "$cp_pid" 2>/dev/null || true; wait "$cp_pid" 2>/dev/null || true; fi
  env "${user_urls[@]}" scripts/services.sh stop
}
trap cleanup EXIT

echo "Grove demo: control plane on http://127.0.0.1:$port (log: $log)"
admin=$(node -r @swc-node/register apps/control-plane/src/cli/bootstrap-admin.ts --team demo-admin --force 2>/dev/null)
PORT=$port GROVE_GRPC_PORT=${GROVE_DEMO_GRPC_PORT:-18091} GROVE_DATA_DIR=.data/artifacts node -r @swc-node/register apps/control-plane/src/main.ts >"$log" 2>&1 &
cp_pid=$!
for _ in $(seq 120); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "control plane did not become ready:"; tail -20 "$log"; exit 1; }
echo "  ✓ control plane ready (Postgres + Redis)   API docs: http://127.0.0.1:$port/docs"
GROVE_URL="http://127.0.0.1:$port" GROVE_ADMIN_TOKEN="$admin" node -r @swc-node/register tools/demo/run-demo.ts
echo "Demo finished; stopping the control plane, Postgres and Redis."
