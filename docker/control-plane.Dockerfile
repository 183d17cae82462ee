# syntax=docker/dockerfile:1
# Grove control plane: REST API, validation stage, gRPC AgentService, dispatch loop.
# Build from the repository root: docker build -f docker/control-plane.Dockerfile -t grove/control-plane .
# Like `make serve`, it runs the TypeScript sources through @swc-node/register (no separate compile step).

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# As scripts/setup-node.sh: the locked versions, no install scripts (npm ci rejects this lock, npm/cli#9846).
# Dev dependencies stay: the runtime needs @swc-node/register, tsx (tokenizer thread) and the prisma CLI (migrations).
RUN npm install --ignore-scripts --no-audit --no-fund --loglevel=error
COPY prisma ./prisma
COPY prisma.config.ts ./
# generate reads no database, but prisma.config.ts insists on a URL.
RUN DATABASE_URL=postgresql://unused@127.0.0.1:1/unused npx prisma generate

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    CHECKPOINT_DISABLE=1 \
    HOST=0.0.0.0 \
    PORT=8080 \
    GROVE_GRPC_HOST=0.0.0.0 \
    GROVE_GRPC_PORT=8081 \
    GROVE_DATA_DIR=/var/lib/grove
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.base.json tsconfig.json prisma.config.ts ./
COPY prisma ./prisma
COPY libs ./libs
COPY apps/control-plane ./apps/control-plane
# The artifact store (datasets, tokenizers, token files, checkpoints, adapters): mount a volume here.
RUN mkdir -p /var/lib/grove && chown node:node /var/lib/grove
USER node
EXPOSE 8080 8081
# Migrations (prisma migrate deploy) run at start, so give the first start time before failures count.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# --max-semi-space-size as the Makefile's CONTROL_PLANE_NODE_FLAGS: the scheduling round's latency tail is V8's
# young-generation GC with the default size.
CMD ["node", "--max-semi-space-size=64", "-r", "@swc-node/register", "apps/control-plane/src/main.ts"]
