#!/usr/bin/env bash
# `make bench-api`: brings the stack up, measures job submissions against an API-only control plane, stops everything.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
port=${GROVE_BENCH_PORT:-18081}
scripts/setup-node.sh
source scripts/control-plane-lib.sh
start_stack
# The benchmark's thousands of jobs go to a database and a Redis db of their own, emptied first.
export DATABASE_URL=$BENCH_DATABASE_URL REDIS_URL="${REDIS_URL%/}/2"
psql "$DATABASE_URL" -qc 'DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public' >/dev/null
redis-cli -u "$REDIS_URL" flushdb >/dev/null
log=${GROVE_BENCH_LOG:-$(mktemp -t grove-bench-XXXX.log)}
admin=$(bootstrap_admin bench-admin)
start_control_plane "$port" "$log" LOG_LEVEL="${GROVE_BENCH_LOG_LEVEL:-warn}" GROVE_VALIDATION_WORKER=false \
  GROVE_GRPC_ENABLED=false GROVE_DATA_DIR=.data/bench-artifacts
echo "machine: $(nproc) cores; server and load generator share them"
GROVE_URL="http://127.0.0.1:$port" GROVE_ADMIN_TOKEN="$admin" node -r @swc-node/register tools/bench/api-bench.ts
