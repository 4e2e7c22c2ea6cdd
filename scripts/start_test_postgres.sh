#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster on 127.0.0.1 for the integration tests (idempotent).
# Installs the Debian package if missing, initdb's into $FULCRUM_PG_DIR (default /tmp/fulcrum-pg),
# starts it on $FULCRUM_PG_PORT (default 55432), creates database fulcrum_test and prints the URL:
#   export FULCRUM_TEST_POSTGRES_URL=$(scripts/start_test_postgres.sh | tail -1)
set -euo pipefail

PGDIR="${FULCRUM_PG_DIR:-/tmp/fulcrum-pg}"
PORT="${FULCRUM_PG_PORT:-55432}"
DB="${FULCRUM_PG_DB:-fulcrum_test}"

find_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  [[ -n "$dir" && -x "$dir/initdb" ]] && echo "$dir"
}

BIN=$(find_bin || true)
if [[ -z "$BIN" ]]; then
  echo "installing postgresql..." >&2
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >&2
  BIN=$(find_bin)
fi

# PostgreSQL refuses to run as root: use the postgres user when we are root.
RUN=()
OWNER=$(id -un)
if [[ $(id -u) -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PGDIR" postgres
  RUN=(runuser -u postgres --)
  OWNER=postgres
fi

mkdir -p "$PGDIR"
chown "$OWNER" "$PGDIR"
if [[ ! -f "$PGDIR/data/PG_VERSION" ]]; then
  "${RUN[@]}" "$BIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
fi
if ! "${RUN[@]}" "$BIN/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1; then
  "${RUN[@]}" "$BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $PGDIR -c fsync=off -c max_connections=300" start >/dev/null
fi
if ! "${RUN[@]}" "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='$DB'" | grep -q 1; then
  "${RUN[@]}" "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
fi
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/$DB"
