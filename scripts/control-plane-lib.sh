# Sourced by the demo and benchmark drivers: services up, a control plane in the background, everything stopped
# on exit (the caller's own DATABASE_URL / REDIS_URL, if any, mean "not ours to stop").

# start_stack: starts Postgres and Redis (scripts/services.sh) and exports their URLs.
start_stack() {
  user_urls=(DATABASE_URL="${DATABASE_URL:-}" REDIS_URL="${REDIS_URL:-}")
  scripts/services.sh start
  eval "$(scripts/services.sh env | sed 's/^/export /')"
  cp_pid=""
  trap stop_stack EXIT
}

stop_stack() {
  if [ -n "$cp_pid" ]; then kill "$cp_pid" 2>/dev/null || true; wait "$cp_pid" 2>/dev/null || true; fi
  env "${user_urls[@]}" scripts/services.sh stop
}

# bootstrap_admin TEAM: prints a fresh admin token.
bootstrap_admin() {
  node -r @swc-node/register apps/control-plane/src/cli/bootstrap-admin.ts --team "$1" --force 2>/dev/null
}

# start_control_plane PORT LOG [VAR=VALUE ...]: runs it in the background and waits until /readyz answers.
start_control_plane() {
  local port=$1 log=$2
  shift 2
  env PORT="$port" "$@" node -r @swc-node/register apps/control-plane/src/main.ts >"$log" 2>&1 &
  cp_pid=$!
  for _ in $(seq 120); do
    node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' \
      "http://127.0.0.1:$port/readyz" && return 0
    sleep 0.5
  done
  echo "control plane did not become ready:" >&2
  tail -20 "$log" >&2
  return 1
}
