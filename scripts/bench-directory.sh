#!/usr/bin/env bash
# Benchmark: the app's tenant look-up (examples/app-routing) over a directory of COUNT ready tenants
# (default 1,000) in a fresh database on the local PostgreSQL (loopback, sslmode=disable), read as a
# reader role that may only call stagesub_directory.lookup. Prints p50/p99 of a cache miss
# (lookup + AES-256-GCM open + JSON parse) and a cache hit (HIT_ROUNDS passes over every tenant,
# default 10), and p50/p99 of the provider-side upsert that wrote each row.
#
#   scripts/bench-directory.sh
#   COUNT=5000 scripts/bench-directory.sh
#
# Needs node, psql, and the npm packages of scripts/setup-tools.sh (typescript, pg).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${STAGESUB_TOOLS_DIR:-$REPO/.tools}"
COUNT="${COUNT:-1000}"
export HIT_ROUNDS="${HIT_ROUNDS:-10}"

say() { printf 'bench-directory: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

command -v psql >/dev/null || die "psql is needed to create the benchmark database"
command -v node >/dev/null || die "node is needed (Node.js 20 or newer)"
eval "$("$REPO/scripts/ensure-postgres.sh")"
ADMIN_URL="$DATABASE_URL"

WORK="$(mktemp -d)"
DB="stagesub_bench_directory_$$"
ROLE="stagesub_bench_reader_$$"
cleanup() {
  psql "$ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  psql "$ADMIN_URL" -qX -c "DROP ROLE IF EXISTS \"$ROLE\"" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# URL of database $1 on the admin server as user $2, with sslmode=disable.
db_url() {
  local base="${ADMIN_URL%%\?*}" rest
  rest="${base#*://}"
  rest="${rest#*@}"
  printf 'postgres://%s@%s/%s?sslmode=disable' "$2" "${rest%%/*}" "$1"
}

psql "$ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$DB\"" -c "CREATE ROLE \"$ROLE\" LOGIN" >/dev/null
admin_user=$(psql "$ADMIN_URL" -qXAt -c "SELECT current_user")
STAGESUB_DIRECTORY_KEYS="$(head -c 32 /dev/urandom | base64),$(head -c 32 /dev/urandom | base64)"
export STAGESUB_DIRECTORY_KEYS

say "writing $COUNT tenants (cargo run -p stagesub-directory --example write_rows)"
upserts=$(cd "$REPO" && DIRECTORY_URL="$(db_url "$DB" "$admin_user")" \
  cargo run --quiet --release -p stagesub-directory --example write_rows -- "$COUNT" "$ROLE")

say "compiling examples/app-routing"
bash "$REPO/examples/app-routing/build.sh" "$WORK/out" >/dev/null

say "resolving every tenant from Node (miss), then $HIT_ROUNDS more times (hit)"
lookups=$(NODE_PATH="$TOOLS/node/node_modules" COUNT="$COUNT" DIRECTORY_URL="$(db_url "$DB" "$ROLE")" \
  node "$WORK/out/bench/bench.js")

cat <<REPORT
Date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average: $(cut -d' ' -f1-3 /proc/loadavg); Node $(node --version); $(psql "$ADMIN_URL" -qXAt -c 'SHOW server_version'); $COUNT tenants, loopback, sslmode=disable

$(sed 's/^/- /' <<<"$lookups")
- $upserts
REPORT
