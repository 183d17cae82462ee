# Grove: `make demo` runs the main job end to end, `make test` runs every test. Both start what they need
# (Postgres, Redis, the engine build, the Python wheels) and leave nothing running.
SHELL := bash
.DEFAULT_GOAL := help
export NX_DAEMON := false
export NX_NO_CLOUD := true

.PHONY: help setup demo test lint typecheck services-up services-down admin-token serve agent cli migration proto \
        bench-api bench-engine bench-scheduler bench-scheduler-latency calibrate-engine engine

# V8 flags the control plane runs with (here, in docker/control-plane.Dockerfile, and in the latency benchmark):
# a 64 MiB young generation keeps a 10,000-job scheduling round's short-lived objects out of frequent scavenges,
# which were its latency tail (p99 55-77 ms with V8's default, 36-42 ms with this; libs/scheduler/README.md).
CONTROL_PLANE_NODE_FLAGS := --max-semi-space-size=64

help:
	@echo "make demo     - the main job end to end: stack + agent up, 3 jobs co-trained in one engine, adapters downloaded, all stopped"
	@echo "make test     - every test (generated code, typecheck, lint, unit, engine, engine vs HF+PEFT, integration + end to end)"
	@echo "make serve    - run the control plane on 127.0.0.1:8080 against the local services (Ctrl-C stops)"
	@echo "make admin-token - create the first admin token (printed once)"
	@echo "make agent    - run a worker agent (needs GROVE_GRPC_URL, GROVE_API_URL, GROVE_JOIN_TOKEN, GROVE_MODELS_DIR, GROVE_WORK_DIR)"
	@echo "make proto    - regenerate libs/proto from proto/"
	@echo "make cli ARGS='jobs list' - the grove CLI (or call apps/cli/bin/grove; docs/ci.md)"
	@echo "make bench-api | bench-engine | bench-scheduler | bench-scheduler-latency | calibrate-engine"

setup:
	@scripts/setup-node.sh

test:
	@scripts/test.sh

demo:
	@scripts/demo.sh

typecheck: setup
	npx tsc -p tsconfig.json --noEmit

lint: setup
	npx nx show projects >/dev/null && npx eslint .

services-up:
	@scripts/services.sh start

services-down:
	@scripts/services.sh stop

serve: setup services-up
	@eval "$$(scripts/services.sh env | sed 's/^/export /')" && node $(CONTROL_PLANE_NODE_FLAGS) -r @swc-node/register apps/control-plane/src/main.ts

admin-token: setup services-up
	@eval "$$(scripts/services.sh env | sed 's/^/export /')" && node -r @swc-node/register apps/control-plane/src/cli/bootstrap-admin.ts $(ARGS)

cli: setup
	@apps/cli/bin/grove $(ARGS)

agent: setup
	@eval "$$(scripts/services.sh env | sed 's/^/export /')" && node -r @swc-node/register apps/agent/src/main.ts

proto: setup
	@scripts/gen-proto.sh

# Authoring a schema change: make migration NAME=add_something (needs the local services).
migration: setup services-up
	@eval "$$(scripts/services.sh env | sed 's/^/export /')" && npx prisma migrate dev --create-only --name $(NAME)

engine:
	@native-worker/scripts/test.sh

bench-api:
	@scripts/bench-api.sh

bench-engine:
	@native-worker/scripts/bench.sh

# Measures the engine (CPU backend; EMULATED=1 adds the CUDA backend's layout) and fits the scheduler's coefficients.
calibrate-engine: setup
	@native-worker/scripts/calibrate.sh $(if $(EMULATED),--emulated)

bench-scheduler: setup
	@node -r @swc-node/register libs/scheduler/bench/scheduler.bench.ts

bench-scheduler-latency: setup
	@node $(CONTROL_PLANE_NODE_FLAGS) -r @swc-node/register libs/scheduler/bench/latency.bench.ts
