#!/usr/bin/env bash
# `make demo`: builds the engine, starts Postgres, Redis and the control plane, prepares the demo base model, then
# runs the demo (tools/demo/run-demo.ts: it starts one worker agent with the CPU engine). Stops everything it started.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export NX_DAEMON=false NX_NO_CLOUD=true
port=${GROVE_DEMO_PORT:-18080}
grpc_port=${GROVE_DEMO_GRPC_PORT:-18091}
models=$root/.data/models
engine=native-worker/build/grove-engine

echo "Grove demo: setting up (npm packages, engine build, Postgres, Redis)"
scripts/setup-node.sh
native-worker/scripts/install-deps.sh
cmake -S native-worker -B native-worker/build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build native-worker/build -j2 --target grove-engine >/dev/null
if [ ! -s "$models/demo--tiny-llama/model.safetensors" ]; then
  # A tiny Llama-architecture model with random weights and the real Llama 3 vocabulary (no weights ship anywhere).
  "$engine" make-model examples/models/tiny-llama/config.json "$models/demo--tiny-llama" --seed 7 >/dev/null
fi

source scripts/control-plane-lib.sh
start_stack
log=$(mktemp -t grove-demo-XXXX.log)
admin=$(bootstrap_admin demo-admin)
start_control_plane "$port" "$log" GROVE_GRPC_PORT="$grpc_port" GROVE_DATA_DIR=.data/artifacts \
  GROVE_HEARTBEAT_INTERVAL_MS=1000 GROVE_CHECKPOINT_EVERY=10
echo "  ✓ control plane ready on http://127.0.0.1:$port (API docs at /docs; log $log)"
GROVE_URL="http://127.0.0.1:$port" GROVE_GRPC_URL="127.0.0.1:$grpc_port" GROVE_ADMIN_TOKEN="$admin" \
  GROVE_DEMO_MODELS_DIR="$models" GROVE_DEMO_WORK_DIR="$root/.data/agent-work" \
  node -r @swc-node/register tools/demo/run-demo.ts
echo "Demo finished; stopping the agent, the control plane, Postgres and Redis."
