#!/usr/bin/env bash
# `make bench-api`: brings the stack up, measures job submissions against an API-only control plane, stops everything.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
port=${GROVE_BENCH_PORT:-18081}
scripts/setup-node.sh
user_urls=(DATABASE_URL="${DATABASE_URL:-}" REDIS_URL="${REDIS_URL:-}")
scripts/services.sh start
eval "$(scripts/services.sh env | sed 's/^/export /')"
# The benchmark's thousands of jobs go to a database and a Redis db of their own, emptied first.
export DATABASE_URL=$BENCH_DATABASE_URL REDIS_URL="${REDIS_URL%/}/2"
psql "$DATABASE_URL" -qc 'DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public' >/dev/null
redis-cli -u "$REDIS_URL" flushdb >/dev/null
log=${GROVE_BENCH_LOG:-$(mktemp -t grove-bench-XXXX.log)}
cp_pid=""
cleanup() {
  if [ -n "$cp_pid" ]; then kill "$cp_pid" 2>/dev/null || true; wait "$cp_pid" 2>/dev/null || true; fi
  env "${user_urls[@]}" scripts/services.sh stop
}
trap cleanup EXIT
admin=$(node -r @swc-node/register apps/control-plane/src/cli/bootstrap-admin.ts --team bench-admin --force 2>/dev/null)
PORT=$port LOG_LEVEL=${GROVE_BENCH_LOG_LEVEL:-warn} GROVE_VALIDATION_WORKER=false GROVE_GRPC_ENABLED=false GROVE_DATA_DIR=.data/bench-artifacts \
  node -r @swc-node/register apps/control-plane/src/main.ts >"$log" 2>&1 &
cp_pid=$!
for _ in $(seq 120); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
echo "machine: $(nproc) cores; server and load generator share them"
GROVE_URL="http://127.0.0.1:$port" GROVE_ADMIN_TOKEN="$admin" node -r @swc-node/register tools/bench/api-bench.ts
