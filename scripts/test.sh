#!/usr/bin/env bash
# `make test`: every test of the project against real services it starts here and stops afterwards.
# Runs all suites even when one fails, prints a table, and ends with the line "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export NX_DAEMON=false NX_NO_CLOUD=true CI=${CI:-true}

scripts/setup-node.sh || exit 1
services_were_up=$(scripts/services.sh status 2>/dev/null | grep -c 'server is running\|redis: running' || true)
user_urls=(DATABASE_URL="${DATABASE_URL:-}" REDIS_URL="${REDIS_URL:-}")
scripts/services.sh start || exit 1
cleanup() { [ "$services_were_up" = 2 ] || env "${user_urls[@]}" scripts/services.sh stop; }
trap cleanup EXIT
eval "$(scripts/services.sh env | sed 's/^/export /')"
export TEST_DATABASE_URL TEST_REDIS_URL="${REDIS_URL%/}/1"

results=$(mktemp -d)
passed=0; failed=0; table=""
record() { # name, exit code, passed, failed
  passed=$((passed + $3)); failed=$((failed + $4))
  if [ "$2" != 0 ] && [ "$4" = 0 ]; then failed=$((failed + 1)); fi
  table+=$(printf '\n  %-28s %s (%s passed, %s failed)' "$1" "$([ "$2" = 0 ] && echo ok || echo FAILED)" "$3" "$4")
}

step() { printf '\n=== %s ===\n' "$1"; }

step "generated code is up to date (proto → libs/proto)"
(scripts/gen-proto.sh && git diff --exit-code --stat -- libs/proto && test -z "$(git status --porcelain -- libs/proto)"); rc=$?
record "generated code" $rc $((rc == 0)) 0

step "typecheck"
npx tsc -p tsconfig.json --noEmit; rc=$?; record typecheck $rc $((rc == 0)) 0

step "lint (module boundaries)"
(npx nx show projects >/dev/null && npx eslint . --max-warnings=1000); rc=$?; record lint $rc $((rc == 0)) 0

vitest_counts() { node -e 'const r=require(process.argv[1]);console.log(r.numPassedTests, r.numFailedTests)' "$1" 2>/dev/null || echo "0 0"; }

step "unit tests (vitest)"
npx vitest run --project unit --reporter=default --reporter=json --outputFile.json="$results/unit.json"; rc=$?
read -r p f < <(vitest_counts "$results/unit.json"); record "unit (vitest)" $rc "$p" "$f"

if [ -x native-worker/scripts/test.sh ]; then
  step "engine (C++ build + ctest)"
  native-worker/scripts/test.sh 2>&1 | tee "$results/ctest.log"; rc=${PIPESTATUS[0]}
  line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$results/ctest.log" | tail -1)
  total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line"); nf=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$line")
  record "engine (ctest)" $rc "$(( ${total:-0} - ${nf:-0} ))" "${nf:-0}"
fi

if [ -x native-worker/tests/hf/run.sh ]; then
  step "engine vs HF transformers + PEFT"
  native-worker/tests/hf/run.sh 2>&1 | tee "$results/hf.log"; rc=${PIPESTATUS[0]}
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$results/hf.log" | tail -1)
  record "engine vs HF+PEFT" $rc "$(awk '{print $1}' <<<"${line:-0 passed, 0 failed}")" "$(awk '{print $3}' <<<"${line:-0 passed, 0 failed}")"
fi

step "integration tests (vitest: HTTP, gRPC, BullMQ, agent process and engine; real Postgres + Redis)"
npx vitest run --project integration --reporter=default --reporter=json --outputFile.json="$results/int.json"; rc=$?
read -r p f < <(vitest_counts "$results/int.json"); record "integration (vitest)" $rc "$p" "$f"

rm -rf "$results"
printf '\nSummary:%s\n\n' "$table"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
