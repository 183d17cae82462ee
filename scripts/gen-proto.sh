#!/usr/bin/env bash
# Regenerates libs/proto/src/generated from proto/ with Debian's protoc and ts-proto (grpc-js services).
# CI runs it and fails on any diff (scripts/check-generated.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if ! command -v protoc >/dev/null; then
  [ "$(id -u)" = 0 ] || { echo "protoc missing: apt-get install -y protobuf-compiler" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq protobuf-compiler >/dev/null
fi
out=libs/proto/src/generated
rm -rf "$out" && mkdir -p "$out"
protoc --plugin=protoc-gen-ts_proto=node_modules/.bin/protoc-gen-ts_proto \
  --ts_proto_out="$out" \
  --ts_proto_opt=outputServices=grpc-js,esModuleInterop=true,env=node,useOptionals=none,forceLong=number,oneof=unions-value,snakeToCamel=true \
  -I proto $(find proto -name '*.proto' | sort)
