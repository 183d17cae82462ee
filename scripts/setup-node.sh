#!/usr/bin/env bash
# Installs the Node dependencies (when package-lock.json changed) and generates the Prisma client. Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
stamp=node_modules/.grove-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # `npm install` with the committed lock installs the locked versions; `npm ci` here rejects this lock over an
  # optional dependency the registry does not serve (npm/cli#9846).
  echo "[setup] npm install (from package-lock.json)" >&2
  npm install --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
schema_stamp=node_modules/.grove-prisma.sha256
want_schema=$(cat prisma/schema.prisma package-lock.json | sha256sum | cut -d' ' -f1)
if [ ! -f "$schema_stamp" ] || [ "$(cat "$schema_stamp")" != "$want_schema" ]; then
  # generate reads no database, but the config insists on a URL.
  DATABASE_URL=${DATABASE_URL:-postgresql://unused@127.0.0.1:1/unused} npx prisma generate >/dev/null 2>&1
  echo "$want_schema" > "$schema_stamp"
fi
