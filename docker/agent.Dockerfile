# syntax=docker/dockerfile:1
# Grove worker agent for one GPU node: the Node.js agent and the grove-engine it drives.
# Build from the repository root: docker build -f docker/agent.Dockerfile -t grove/agent .
# CUDA image family: nvidia/cuda 12.8 on Ubuntu 24.04 (devel to build, runtime to run); needs an NVIDIA driver
# >= 570 on the host. Override both stages at once with --build-arg CUDA_VERSION=...
ARG CUDA_VERSION=12.8.1

FROM nvidia/cuda:${CUDA_VERSION}-devel-ubuntu24.04 AS engine
# GROVE_CUDA_BACKEND is passed to CMake as -DGROVE_CUDA: ON builds the CUDA backend (nvcc and cuBLAS from this
# devel image; sm_90 plus PTX) next to the CPU one, and fails the build if it cannot; OFF builds the CPU engine only.
ARG GROVE_CUDA_BACKEND=ON
# The engine's build dependencies (native-worker/scripts/install-deps.sh); GTest because CMake configures the tests.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake g++ make pkg-config nlohmann-json3-dev libopenblas-dev libgtest-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY native-worker ./native-worker
RUN cmake -S native-worker -B /build -DCMAKE_BUILD_TYPE=Release -DGROVE_CUDA=${GROVE_CUDA_BACKEND} \
 && cmake --build /build -j"$(nproc)" --target grove-engine

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# As scripts/setup-node.sh; dev dependencies stay (the agent runs through @swc-node/register).
RUN npm install --ignore-scripts --no-audit --no-fund --loglevel=error

FROM nvidia/cuda:${CUDA_VERSION}-runtime-ubuntu24.04
# OpenBLAS for the engine; Node 20 is the official binary from the node image (Ubuntu 24.04 ships Node 18).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libopenblas0-pthread \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --create-home grove \
 && mkdir -p /var/lib/grove-agent /models && chown grove:grove /var/lib/grove-agent
COPY --from=deps /usr/local/bin/node /usr/local/bin/node
COPY --from=engine /build/grove-engine /opt/grove/bin/grove-engine
ENV NODE_ENV=production \
    GROVE_ENGINE_BIN=/opt/grove/bin/grove-engine \
    GROVE_MODELS_DIR=/models \
    GROVE_WORK_DIR=/var/lib/grove-agent
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY libs ./libs
COPY apps/agent ./apps/agent
USER grove
# SIGTERM checkpoints every job, uploads the checkpoints and hands the jobs back: give it time (compose: stop_grace_period).
CMD ["node", "-r", "@swc-node/register", "apps/agent/src/main.ts"]
