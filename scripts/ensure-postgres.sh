#!/usr/bin/env bash
# Make sure a PostgreSQL server for the tests is reachable and print how to reach it:
#
#   eval "$(scripts/ensure-postgres.sh)"     # sets DATABASE_URL (an admin/superuser URL)
#
# Tries, in order:
#   1. $DATABASE_URL, when set and reachable;
#   2. the libpq variables PGHOST/PGPORT/PGUSER/PGDATABASE, when PGHOST or PGPORT is set and reachable;
#   3. postgres://postgres@127.0.0.1:5432/postgres (the machine's own server, trust auth; a stopped
#      Debian cluster in /etc/postgresql is started with pg_ctlcluster);
#   4. a private cluster under <repo>/.tools/pg (initdb with trust auth, max_connections=200, on the
#      first free port from 55432), started with pg_ctl; re-runs reuse and restart it.
# STAGESUB_PG_PRIVATE=1 skips 1-3. `scripts/ensure-postgres.sh stop` stops the private cluster.
# Only `export ...` lines go to stdout; progress goes to stderr.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${STAGESUB_TOOLS_DIR:-$REPO/.tools}"
PGROOT="$TOOLS/pg"

say() { printf 'ensure-postgres: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# Finds a PostgreSQL program: PATH first, then the newest /usr/lib/postgresql/<version>/bin.
pg_bin() {
  local name=$1 dir
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -V -r); do
    if [[ -x "$dir/$name" ]]; then echo "$dir/$name"; return 0; fi
  done
  return 1
}

# Installs Debian's server packages when no PostgreSQL programs are found at all.
install_postgres_packages() {
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  say "no PostgreSQL programs found; apt-get install postgresql"
  export DEBIAN_FRONTEND=noninteractive
  mkdir -p "$TOOLS"
  "${sudo[@]}" apt-get install -y -q postgresql >"$TOOLS/apt-postgres.log" 2>&1 || {
    "${sudo[@]}" apt-get update -q >>"$TOOLS/apt-postgres.log" 2>&1 || true
    "${sudo[@]}" apt-get install -y -q postgresql >>"$TOOLS/apt-postgres.log" 2>&1
  } || die "apt-get install postgresql failed; see $TOOLS/apt-postgres.log"
}

PSQL=$(pg_bin psql || true)

# True when the URL accepts a connection and a query.
reachable() {
  local url=$1
  [[ -n "$PSQL" ]] || return 1
  PGCONNECT_TIMEOUT=3 "$PSQL" "$url" -XAtq -c 'select 1' >/dev/null 2>&1
}

emit() {
  printf "export DATABASE_URL='%s'\n" "$1"
  say "using $(printf '%s' "$1" | sed -E 's#(://[^:/@]*):[^@]*@#\1:***@#')"
}

# --- the private cluster ---------------------------------------------------------------------------
# initdb and postgres refuse to run as root: run them as a dedicated account.
cluster_user() {
  if [[ $(id -u) -ne 0 ]]; then id -un; return; fi
  if id postgres >/dev/null 2>&1; then echo postgres; return; fi
  if ! id stagesub-pg >/dev/null 2>&1; then
    say "creating system user stagesub-pg to own the private cluster"
    useradd --system --no-create-home --shell /usr/sbin/nologin stagesub-pg >&2
  fi
  echo stagesub-pg
}

as_user() {
  local user=$1; shift
  if [[ "$(id -un)" == "$user" ]]; then "$@"
  elif command -v runuser >/dev/null; then runuser -u "$user" -- "$@"
  else su -s /bin/sh "$user" -c "$(printf '%q ' "$@")"
  fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

private_cluster() {
  local initdb pg_ctl user port data="$PGROOT/data" url
  initdb=$(pg_bin initdb || true)
  if [[ -z "$initdb" ]]; then install_postgres_packages; initdb=$(pg_bin initdb) || die "initdb not found"; fi
  pg_ctl=$(dirname "$initdb")/pg_ctl
  [[ -x "$pg_ctl" ]] || pg_ctl=$(pg_bin pg_ctl) || die "pg_ctl not found"
  [[ -n "$PSQL" ]] || PSQL=$(pg_bin psql) || die "psql not found"
  user=$(cluster_user)

  mkdir -p "$PGROOT/run"
  if [[ ! -f "$data/PG_VERSION" ]]; then
    say "initdb $data (owner $user, trust auth)"
    mkdir -p "$data"
    chown "$user" "$PGROOT" "$PGROOT/run" "$data" 2>/dev/null || true
    chmod 700 "$data"
    as_user "$user" "$initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
      >"$PGROOT/initdb.log" 2>&1 || die "initdb failed; see $PGROOT/initdb.log"
  fi
  chown "$user" "$PGROOT" "$PGROOT/run" 2>/dev/null || true

  port=$(cat "$PGROOT/port" 2>/dev/null || true)
  url="postgres://postgres@127.0.0.1:${port:-0}/postgres"
  if [[ -n "$port" ]] && reachable "$url"; then emit "$url"; return; fi

  if [[ -z "$port" ]] || ! port_free "$port"; then
    port=55432
    while ! port_free "$port"; do port=$((port + 1)); done
  fi
  echo "$port" >"$PGROOT/port"
  url="postgres://postgres@127.0.0.1:$port/postgres"
  say "starting private cluster on 127.0.0.1:$port (log: $PGROOT/postgres.log)"
  touch "$PGROOT/postgres.log" && chown "$user" "$PGROOT/postgres.log" 2>/dev/null || true
  as_user "$user" "$pg_ctl" -D "$data" -l "$PGROOT/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$PGROOT/run -c max_connections=200 -c fsync=off" \
    start >&2 || die "pg_ctl start failed; see $PGROOT/postgres.log"
  reachable "$url" || die "private cluster started but $url does not answer"
  emit "$url"
}

if [[ "${1:-}" == "stop" ]]; then
  if [[ -f "$PGROOT/data/postmaster.pid" ]]; then
    as_user "$(stat -c %U "$PGROOT/data")" "$(dirname "$(pg_bin initdb)")/pg_ctl" -D "$PGROOT/data" -m fast -w stop >&2
  else
    say "private cluster not running"
  fi
  exit 0
fi

if [[ "${STAGESUB_PG_PRIVATE:-}" != 1 ]]; then
  if [[ -n "${DATABASE_URL:-}" ]]; then
    if reachable "$DATABASE_URL"; then emit "$DATABASE_URL"; exit 0; fi
    say "DATABASE_URL is set but does not answer; trying other servers"
  fi
  if [[ -n "${PGHOST:-}${PGPORT:-}" ]] && reachable ""; then
    host=${PGHOST:-127.0.0.1}
    [[ "$host" == /* ]] && host="%2F${host//\//%2F}" # a socket directory, percent-encoded
    emit "postgres://${PGUSER:-postgres}@$host:${PGPORT:-5432}/${PGDATABASE:-postgres}"
    exit 0
  fi
  default_url="postgres://postgres@127.0.0.1:5432/postgres"
  if reachable "$default_url"; then emit "$default_url"; exit 0; fi
  # The machine's Debian cluster may merely be stopped: start it (as the machine image does).
  if [[ $(id -u) -eq 0 ]] && command -v pg_ctlcluster >/dev/null && [[ -d /etc/postgresql ]]; then
    for version in $(ls /etc/postgresql 2>/dev/null); do
      if [[ -d "/etc/postgresql/$version/main" ]]; then
        say "starting the system cluster $version/main"
        pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 2>&1 || true
      fi
    done
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      if reachable "$default_url"; then emit "$default_url"; exit 0; fi
      sleep 0.5
    done
  fi
  say "no server at 127.0.0.1:5432"
fi
private_cluster
