#!/usr/bin/env bash
# Starts/stops the project's own Postgres and Redis on loopback, non-default ports, with project-local data.
# Usage: scripts/services.sh start|stop|status|env
# Skipped for a service whose URL (DATABASE_URL / REDIS_URL) is already set by the caller.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
PG_PORT=${GROVE_PG_PORT:-55432}
REDIS_PORT=${GROVE_REDIS_PORT:-56379}
data=${GROVE_DATA_DIR:-$root/.data}
# Postgres refuses to run as root; as root it runs as the 'postgres' user, whose data must sit where it can reach.
if [ "$(id -u)" = 0 ]; then
  pg_dir=/var/tmp/grove-pg-$(printf '%s' "$root:$PG_PORT" | md5sum | cut -c1-12)
else
  pg_dir=$data/pg
fi
pg_data=$pg_dir/data
redis_dir=$data/redis

log() { printf '[services] %s\n' "$*" >&2; }

as_pg() {
  # From / : postgres may not enter the directory this runs in (mktemp directories are private).
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

apt_install() {
  if [ "$(id -u)" != 0 ]; then log "missing $*: install it (apt-get install -y $*) or set the service URL"; exit 1; fi
  log "installing $* from the OS packages"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return; }
  return 1
}

ensure_binaries() {
  if [ -z "${DATABASE_URL:-}" ] && ! pg_bin >/dev/null; then apt_install postgresql; fi
  if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null; then apt_install redis-server; fi
  if [ -z "${DATABASE_URL:-}" ] && [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres
  fi
}

# As root the data sits outside the checkout, so a deleted checkout would leave it behind: each data directory names
# its checkout, and one whose checkout is gone (and whose server is not running) is removed on the next start.
remove_orphaned_pg() {
  [ "$(id -u)" = 0 ] || return 0
  local d owner pid
  for d in /var/tmp/grove-pg-*; do
    [ -d "$d" ] && [ "$d" != "$pg_dir" ] && [ -s "$d/checkout" ] || continue
    owner=$(cat "$d/checkout")
    [ -e "$owner" ] && continue
    pid=$(head -1 "$d/data/postmaster.pid" 2>/dev/null || true)
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && continue
    rm -rf "$d"
    log "removed the Postgres data of a deleted checkout ($owner)"
  done
}

start_pg() {
  local bin; bin=$(pg_bin)
  remove_orphaned_pg
  if [ ! -s "$pg_data/PG_VERSION" ]; then
    mkdir -p "$pg_dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$pg_dir"
    as_pg "$bin/initdb" -D "$pg_data" -U grove --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  [ "$(id -u)" = 0 ] && printf '%s\n' "$root" > "$pg_dir/checkout"
  if as_pg "$bin/pg_ctl" -D "$pg_data" status >/dev/null 2>&1; then
    log "postgres already running on 127.0.0.1:$PG_PORT"
  else
    as_pg "$bin/pg_ctl" -D "$pg_data" -l "$pg_dir/postgres.log" -w -t 60 start \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $pg_dir -c fsync=off -c max_connections=200" >/dev/null
    log "postgres started on 127.0.0.1:$PG_PORT (data $pg_data)"
  fi
  for db in grove grove_test grove_bench; do
    if ! as_pg "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U grove -d postgres -tAc \
        "select 1 from pg_database where datname='$db'" | grep -q 1; then
      as_pg "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U grove "$db"
    fi
  done
}

stop_pg() {
  local bin; bin=$(pg_bin) || return 0
  [ -s "$pg_data/PG_VERSION" ] || return 0
  if as_pg "$bin/pg_ctl" -D "$pg_data" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null
    log "postgres stopped"
  fi
}

redis_running() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

# The data directory of the Redis on our port: ours, or another checkout's (which we must neither use nor stop).
redis_serving_dir() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" config get dir 2>/dev/null | sed -n 2p; }
redis_is_ours() { [ "$(redis_serving_dir)" = "$(cd "$redis_dir" 2>/dev/null && pwd -P)" ]; }

check_redis_port() {
  if redis_running && ! redis_is_ours; then
    log "port $REDIS_PORT is held by a Redis serving $(redis_serving_dir) (another checkout?): stop it, or set GROVE_REDIS_PORT"
    exit 1
  fi
}

start_redis() {
  mkdir -p "$redis_dir"
  if redis_running; then log "redis already running on 127.0.0.1:$REDIS_PORT"; return; fi
  # BullMQ needs noeviction; AOF keeps queued work across a Redis restart.
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --dir "$redis_dir" \
    --pidfile "$redis_dir/redis.pid" --logfile "$redis_dir/redis.log" \
    --appendonly yes --appendfsync everysec --maxmemory-policy noeviction --save ""
  for _ in $(seq 50); do redis_running && break; sleep 0.1; done
  redis_running || { log "redis did not start; see $redis_dir/redis.log"; exit 1; }
  log "redis started on 127.0.0.1:$REDIS_PORT"
}

stop_redis() {
  command -v redis-cli >/dev/null || return 0
  if redis_running && ! redis_is_ours; then
    log "left the Redis on port $REDIS_PORT running: it serves $(redis_serving_dir), not this checkout"
    return 0
  fi
  if redis_running; then
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
    for _ in $(seq 50); do redis_running || break; sleep 0.1; done
    log "redis stopped"
  fi
}

print_env() {
  echo "DATABASE_URL=${DATABASE_URL:-postgresql://grove@127.0.0.1:$PG_PORT/grove}"
  echo "TEST_DATABASE_URL=${TEST_DATABASE_URL:-postgresql://grove@127.0.0.1:$PG_PORT/grove_test}"
  echo "REDIS_URL=${REDIS_URL:-redis://127.0.0.1:$REDIS_PORT}"
  echo "BENCH_DATABASE_URL=${BENCH_DATABASE_URL:-postgresql://grove@127.0.0.1:$PG_PORT/grove_bench}"
}

case "${1:-}" in
  start)
    ensure_binaries
    # Checked before anything starts, so a refusal leaves nothing running.
    [ -n "${REDIS_URL:-}" ] || check_redis_port
    [ -n "${DATABASE_URL:-}" ] || start_pg
    [ -n "${REDIS_URL:-}" ] || start_redis ;;
  stop) [ -n "${DATABASE_URL:-}" ] || stop_pg; [ -n "${REDIS_URL:-}" ] || stop_redis ;;
  status)
    if [ -z "${DATABASE_URL:-}" ]; then as_pg "$(pg_bin)/pg_ctl" -D "$pg_data" status || true; fi
    if [ -z "${REDIS_URL:-}" ]; then
      if ! redis_running; then echo "redis: stopped"
      elif redis_is_ours; then echo "redis: running"
      else echo "redis: port $REDIS_PORT held by another Redis ($(redis_serving_dir))"; fi
    fi ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
