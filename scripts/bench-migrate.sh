#!/usr/bin/env bash
# Benchmark: applying 100 trivial migrations to a fresh empty database, stagesub-migrate (release
# build; Prisma and Supabase CLI layouts) against dbmate (.tools/bin/dbmate, installed by
# scripts/setup-tools.sh). Each tool runs RUNS times (default 5), each run on a new database;
# prints the medians and ratios as a Markdown block for BENCHMARKS.md.
#
#   scripts/bench-migrate.sh            # print the results
#   RUNS=9 COUNT=200 scripts/bench-migrate.sh
#
# Both tools connect with sslmode=disable to the same server, so TLS set-up is not measured.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${STAGESUB_TOOLS_DIR:-$REPO/.tools}"
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"
RUNS="${RUNS:-5}"
COUNT="${COUNT:-100}"
DBMATE="$TOOLS/bin/dbmate"
OURS="$TARGET/release/stagesub-migrate"

say() { printf 'bench-migrate: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[[ -x "$DBMATE" ]] || die "$DBMATE is missing: run scripts/setup-tools.sh"
command -v psql >/dev/null || die "psql is needed to create the benchmark databases"
eval "$("$REPO/scripts/ensure-postgres.sh")"
ADMIN_URL="$DATABASE_URL"

say "building stagesub-migrate (release)"
(cd "$REPO" && cargo build --release --quiet -p stagesub-migrate --bin stagesub-migrate)

WORK="$(mktemp -d)"
DB=""
cleanup() {
  [[ -n "$DB" ]] && psql "$ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

# The same migrations in the three layouts.
for i in $(seq 1 "$COUNT"); do
  version=$(printf '2024010100%04d' "$i")
  sql="create table t$i (id int);"
  mkdir -p "$WORK/prisma/${version}_t$i" "$WORK/supabase" "$WORK/dbmate/db/migrations"
  printf '%s\n' "$sql" >"$WORK/prisma/${version}_t$i/migration.sql"
  printf '%s\n' "$sql" >"$WORK/supabase/${version}_t$i.sql"
  printf -- '-- migrate:up\n%s\n\n-- migrate:down\ndrop table t%s;\n' "$sql" "$i" >"$WORK/dbmate/db/migrations/${version}_t$i.sql"
done

# URL of database $1 on the admin server, with sslmode=disable.
db_url() {
  local base="${ADMIN_URL%%\?*}" query=""
  [[ "$ADMIN_URL" == *\?* ]] && query="${ADMIN_URL#*\?}&"
  printf '%s/%s?%ssslmode=disable' "${base%/*}" "$1" "$query"
}

now_ns() { date +%s%N; }

# Runs "$@" on a fresh database (URL in $URL), prints elapsed milliseconds.
timed_run() {
  DB="stagesub_bench_$$_$RANDOM"
  psql "$ADMIN_URL" -qX -c "CREATE DATABASE \"$DB\"" >/dev/null
  URL="$(db_url "$DB")"
  local start end
  start=$(now_ns)
  "$@" >/dev/null
  end=$(now_ns)
  local tables
  tables=$(psql "$URL" -qAtX -c "select count(*) from pg_tables where tablename ~ '^t[0-9]+$'")
  [[ "$tables" == "$COUNT" ]] || die "$1 created $tables tables, expected $COUNT"
  psql "$ADMIN_URL" -qX -c "DROP DATABASE \"$DB\" WITH (FORCE)" >/dev/null
  DB=""
  echo $(((end - start) / 1000000))
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

ours_prisma() { "$OURS" apply --database-url "$URL" --dir "$WORK/prisma"; }
ours_supabase() { "$OURS" apply --database-url "$URL" --dir "$WORK/supabase"; }
dbmate_up() { "$DBMATE" --url "$URL" --migrations-dir "$WORK/dbmate/db/migrations" --no-dump-schema up; }

declare -A TIMES
for run in $(seq 1 "$RUNS"); do
  # Interleave the tools so drift in machine load affects all of them alike.
  for tool in ours_prisma ours_supabase dbmate_up; do
    ms=$(timed_run "$tool")
    TIMES[$tool]="${TIMES[$tool]:-} $ms"
    say "run $run $tool: ${ms} ms"
  done
done

# shellcheck disable=SC2086
P=$(median ${TIMES[ours_prisma]}); S=$(median ${TIMES[ours_supabase]}); D=$(median ${TIMES[dbmate_up]})
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
CPU="$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
PGV="$(psql "$ADMIN_URL" -qAtX -c 'show server_version')"

cat <<EOF
### Applying $COUNT trivial migrations to a fresh database ($(date -u +%Y-%m-%d))

Machine: $(nproc) CPUs, $CPU; PostgreSQL $PGV on loopback, sslmode=disable.
Command: \`scripts/bench-migrate.sh\` (RUNS=$RUNS). Each migration is \`create table tN (id int);\`;
every run starts on a new empty database; times are wall-clock for the whole command
(process start, connect, history table, all migrations).

| tool | runs (ms) | median (ms) | dbmate / tool |
|---|---|---|---|
| stagesub-migrate, Prisma layout | ${TIMES[ours_prisma]# } | $P | $(ratio "$D" "$P") |
| stagesub-migrate, Supabase CLI layout | ${TIMES[ours_supabase]# } | $S | $(ratio "$D" "$S") |
| dbmate $("$DBMATE" --version | awk '{print $3}') | ${TIMES[dbmate_up]# } | $D | 1.00 |
EOF
