#!/usr/bin/env bash
# Benchmark GET /metrics of stagesub-bridge against a database with many tenants and jobs: the
# scrape reads tenants by state, pending and past-SLA tenants and unfinished jobs at every request.
#
# Method: a fresh database (name bench_metrics_<pid>) is migrated by `stagesub-bridge serve`, then
# filled with --tenants tenants (states cycling publishing/published/ready/failed, ages over 3 days)
# and --jobs jobs (90% done, the rest queued, retrying or parked) and ANALYZEd; curl scrapes
# /metrics --scrapes times one after the other with the bearer token. Reported: median, p95 and max
# of curl's time_total, and the size of the answer.
#
# Usage: scripts/bench-metrics.sh [--tenants N] [--jobs N] [--scrapes N] [--binary PATH]
#   defaults: 20000 tenants, 200000 jobs, 50 scrapes; the binary defaults to a debug build
#   (cargo build -p stagesub-bridge). DATABASE_URL: an admin connection (default
#   postgres://postgres@127.0.0.1:5432/postgres). Output: a Markdown table on stdout.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TENANTS=20000
JOBS=200000
SCRAPES=50
BIN=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --tenants) TENANTS=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --scrapes) SCRAPES=$2; shift 2 ;;
    --binary) BIN=$2; shift 2 ;;
    *) echo "usage: $0 [--tenants N] [--jobs N] [--scrapes N] [--binary PATH]" >&2; exit 2 ;;
  esac
done
for n in "$TENANTS" "$JOBS" "$SCRAPES"; do
  [[ "$n" =~ ^[0-9]+$ && "$n" -ge 1 ]] || { echo "counts must be positive numbers" >&2; exit 2; }
done

say() { printf 'bench-metrics: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
command -v psql >/dev/null || die "psql is missing (Debian: postgresql-client)"
command -v curl >/dev/null || die "curl is missing"

ADMIN="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
NAME="bench_metrics_$$"
DB_URL="${ADMIN%/*}/$NAME"
WORK=$(mktemp -d -t stagesub-bench-metrics.XXXXXX)
PID=""
cleanup() {
  [[ -n "$PID" ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS $NAME WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -z "$BIN" ]]; then
  target="${CARGO_TARGET_DIR:-$REPO/target}"
  [[ "$target" == /* ]] || target="$REPO/$target"
  say "cargo build -p stagesub-bridge"
  (cd "$REPO" && cargo build -q -p stagesub-bridge) || die "building the bridge failed"
  BIN="$target/debug/stagesub-bridge"
fi
[[ -x "$BIN" ]] || die "$BIN is missing or not executable"

psql -q "$ADMIN" -c "CREATE DATABASE $NAME" >/dev/null
git init -q --bare -b main "$WORK/infra.git"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TOKEN="bench-metrics-$$-token"
env -i PATH="$PATH" STRIPE_WEBHOOK_SECRET=whsec_bench DATABASE_URL="$DB_URL" GIT_BACKEND=git \
  GIT_REMOTE_URL="file://$WORK/infra.git" GIT_WORK_DIR="$WORK/work" BIND_ADDR="127.0.0.1:$PORT" \
  METRICS_TOKEN="$TOKEN" RUST_LOG=warn "$BIN" serve 2>"$WORK/bridge.log" &
PID=$!
for _ in $(seq 1 300); do
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  kill -0 "$PID" 2>/dev/null || die "the bridge exited: $(tail -5 "$WORK/bridge.log")"
  sleep 0.1
done

say "filling $NAME: $TENANTS tenants, $JOBS jobs"
psql -q -v ON_ERROR_STOP=1 "$DB_URL" >/dev/null <<SQL
INSERT INTO tenants (subdomain, orchestra_name, values_at, state, created_at)
SELECT 'bench-' || i, 'Bench Orchestra ' || i, 0,
       (ARRAY['publishing','published','ready','failed'])[1 + i % 4],
       now() - make_interval(secs => (i % 259200))
FROM generate_series(1, $TENANTS) AS i;
-- The bridge's own worker must not run these: they are made unclaimable (kind 'welcome' of
-- unknown tenants would only park) by being done, or parked, or due in a year.
INSERT INTO jobs (kind, subject, done_at, parked_reason, failing_since, run_at)
SELECT (ARRAY['event','publish','welcome','admin_event'])[1 + i % 4], 'bench-' || i,
       CASE WHEN i % 10 <> 0 THEN now() END,
       CASE WHEN i % 30 = 0 THEN 'bench' END,
       CASE WHEN i % 20 = 0 THEN now() END,
       now() + interval '365 days'
FROM generate_series(1, $JOBS) AS i;
ANALYZE tenants; ANALYZE jobs;
SQL

say "scraping $SCRAPES times"
: >"$WORK/times"
for _ in $(seq 1 "$SCRAPES"); do
  curl -fs -o "$WORK/body" -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$PORT/metrics" >>"$WORK/times"
done
grep -q '^stagesub_metrics_database_up 1' "$WORK/body" || die "the scrape could not read the database"
read -r median p95 max < <(sort -n "$WORK/times" | awk '{ t[NR] = $1 * 1000 } END {
  printf "%.1f %.1f %.1f\n", t[int((NR + 1) / 2)], t[int(NR * 0.95 + 0.5)], t[NR] }')
bytes=$(wc -c <"$WORK/body")
echo "| tenants | jobs | scrapes | median (ms) | p95 (ms) | max (ms) | answer (bytes) |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
echo "| $TENANTS | $JOBS | $SCRAPES | $median | $p95 | $max | $bytes |"
