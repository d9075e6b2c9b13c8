#!/usr/bin/env bash
# Benchmark: Stripe webhook acceptance by stagesub-bridge (release build) with durable recording, side by
# side with pgbench on the same PostgreSQL in the same run. Each 200 of the bridge is an event and its
# job committed to Postgres (synchronous_commit on). wrk sends pre-signed `checkout.session.completed`
# events (the captured one, ~4.5 KB, unique event ids, signed just before the run, HMAC-SHA256 as Stripe
# does) to POST /api/webhooks/stripe; the worker runs meanwhile (WORKER_CONCURRENCY=1, git backend on a
# local bare repository), as in production.
#
# For each connection count: pgbench first (bridge stopped; one transaction = one INSERT of the same
# 4.5 KB event as a jsonb row, simple protocol, same client count), then the bridge on a fresh database
# (so no backlog of an earlier run disturbs it). Then a steady-rate run: RATE req/s sent on schedule by
# scripts/bench/steady_load.py (open loop, at most RATE_CONNECTIONS connections, latency from each
# request's due time), for the latency at a normal load.
# The machine is shared: compare the ratio of one run, not figures of different runs.
#
#   scripts/bench-bridge.sh                                  # 15 s per run, 8 and 32 connections, 500 req/s
#   DURATION=30s CONNECTION_COUNTS="8 32 64" RATE=800 scripts/bench-bridge.sh
#
# Prints a Markdown table for BENCHMARKS.md; the last line is the ratios. Needs wrk (Debian: apt-get
# install wrk), pgbench and psql (postgresql-client), python3, git.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"
DURATION="${DURATION:-15s}"
CONNECTION_COUNTS="${CONNECTION_COUNTS:-8 32}"
THREADS="${THREADS:-2}"
PER_THREAD="${PER_THREAD:-40000}"
RATE="${RATE:-500}"
RATE_CONNECTIONS="${RATE_CONNECTIONS:-32}"
SECRET="whsec_bench_secret"
BRIDGE="$TARGET/release/stagesub-bridge"
FIXTURE="$REPO/bridge/tests/fixtures/checkout.session.completed.event.json"

say() { printf 'bench-bridge: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

for tool in wrk pgbench psql python3 git curl; do
  command -v "$tool" >/dev/null || die "$tool is missing (Debian: apt-get install wrk postgresql-client)"
done
eval "$("$REPO/scripts/ensure-postgres.sh")"
ADMIN_URL="$DATABASE_URL"

if [[ "${NO_BUILD:-}" != 1 ]]; then
  say "building stagesub-bridge (release)"
  (cd "$REPO" && cargo build --release --quiet -p stagesub-bridge --bin stagesub-bridge)
fi

WORK="$(mktemp -d)"
DB="bench_bridge_$$"
PID=""
stop_bridge() {
  if [[ -n "$PID" ]]; then
    kill -TERM "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=""
  fi
}
cleanup() {
  stop_bridge
  psql "$ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

db_url() {
  python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$ADMIN_URL" "$1"
}
BRIDGE_DB_URL="$(db_url "$DB")"
fresh_db() {
  psql "$ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" -c "CREATE DATABASE \"$DB\"" >/dev/null
}

start_bridge() {
  rm -rf "$WORK/infra.git" "$WORK/seed" "$WORK/git-cache"
  git init -q --bare -b main "$WORK/infra.git"
  git -C "$WORK" init -q -b main seed
  echo infra > "$WORK/seed/README.md"
  git -C "$WORK/seed" add README.md
  git -C "$WORK/seed" -c user.name=bench -c user.email=bench@example.org commit -qm initial
  git -C "$WORK/seed" push -q "$WORK/infra.git" main
  PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  STRIPE_WEBHOOK_SECRET="$SECRET" DATABASE_URL="$BRIDGE_DB_URL" BIND_ADDR="127.0.0.1:$PORT" \
    GIT_BACKEND=git GIT_REMOTE_URL="file://$WORK/infra.git" GIT_WORK_DIR="$WORK/git-cache" COMMIT_MODE=direct \
    WORKER_CONCURRENCY=1 RUST_LOG=warn "$BRIDGE" serve >"$WORK/bridge.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "the bridge did not start: $(cat "$WORK/bridge.log")"
}

# pgbench's transaction: the same event as one jsonb row (the fixture has no quote or semicolon).
python3 - "$FIXTURE" "$WORK/pgbench.sql" <<'PY'
import json, sys
event = json.load(open(sys.argv[1]))
body = json.dumps(event, separators=(",", ":")).replace("'", "''")
open(sys.argv[2], "w").write(f"INSERT INTO pgbench_events (payload) VALUES ('{body}'::jsonb);\n")
PY

# Events for wrk: every request a new event id (a fresh signature time per file keeps them valid).
sign_events() {
  say "signing $((THREADS * PER_THREAD)) events"
  python3 - "$FIXTURE" "$WORK" "$THREADS" "$PER_THREAD" "$SECRET" "$1" <<'PY'
import hashlib, hmac, json, sys, time
fixture, work, threads, per_thread, secret, run = sys.argv[1:7]
threads, per_thread = int(threads), int(per_thread)
event = json.load(open(fixture))
t = int(time.time())
for th in range(threads):
    with open(f"{work}/events-{th}.txt", "w") as out:
        for i in range(per_thread):
            n = th * per_thread + i
            event["id"] = f"evt_bench{run}x{n:08d}"
            event["data"]["object"]["metadata"] = {"subdomain": f"bench-{run}-{n}", "orchestra_name": f"Bench {n}", "plan": "pro"}
            body = json.dumps(event, separators=(",", ":"))
            sig = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
            out.write(f"t={t},v1={sig}\t{body}\n")
PY
}

cat > "$WORK/signed.lua" <<'LUA'
-- Each wrk thread replays its own file of pre-signed events, in order; after the last one it starts
-- over, and the repeats are answered as duplicates (still 200).
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  events = {}
  for line in io.lines(os.getenv("BENCH_DIR") .. "/events-" .. tid .. ".txt") do
    local sig, body = line:match("^([^\t]+)\t(.*)$")
    events[#events + 1] = { sig, body }
  end
  next_event = 0
end
function request()
  next_event = next_event % #events + 1
  local e = events[next_event]
  return wrk.format("POST", "/api/webhooks/stripe",
    { ["Content-Type"] = "application/json", ["Stripe-Signature"] = e[1] }, e[2])
end
function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
LUA

get() { sed -E "s/.* $2=([^ ]+).*/\1/" <<<"$1"; }

run_wrk() { # connections
  local threads=$THREADS
  (( $1 < threads )) && threads=$1
  BENCH_DIR="$WORK" wrk -t"$threads" -c"$1" -d"$DURATION" --timeout 10s -s "$WORK/signed.lua" \
    "http://127.0.0.1:$PORT" | tee /dev/stderr | grep '^RESULT'
}

ROWS=()
RATIOS=()
for C in $CONNECTION_COUNTS; do
  fresh_db
  psql "$BRIDGE_DB_URL" -qX -c "CREATE TABLE pgbench_events (id bigserial PRIMARY KEY, payload jsonb NOT NULL)" >/dev/null
  say "pgbench: $C clients, $DURATION"
  PG_OUT="$(pgbench -n -c "$C" -j "$(( C < THREADS ? C : THREADS ))" -T "${DURATION%s}" -r -f "$WORK/pgbench.sql" "$BRIDGE_DB_URL" 2>&1)"
  PG_TPS="$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' <<<"$PG_OUT" | head -n1)"
  PG_LAT="$(sed -nE 's/^latency average = ([0-9.]+) ms.*/\1/p' <<<"$PG_OUT" | head -n1)"
  [[ -n "$PG_TPS" ]] || die "pgbench failed: $PG_OUT"
  fresh_db
  sign_events "c$C"
  start_bridge
  say "wrk: $C connections, $DURATION"
  RESULT="$(run_wrk "$C")"
  STORED="$(psql "$BRIDGE_DB_URL" -qtAX -c 'SELECT count(*) FROM events')"
  stop_bridge
  RPS="$(get "$RESULT" rps)"
  RATIO="$(python3 -c "print(f'{$RPS / $PG_TPS:.2f}')")"
  RATIOS+=("${RATIO}x at $C connections")
  ROWS+=("| $(date -u +%Y-%m-%d) | $C | $RPS | $(get "$RESULT" p50_ms) ms | $(get "$RESULT" p99_ms) ms | $(get "$RESULT" max_ms) ms | ${PG_TPS%.*} tps (avg ${PG_LAT} ms) | **$RATIO** | $STORED | $(get "$RESULT" non2xx) / $(get "$RESULT" errors) |")
done

# Steady rate, pgbench first: the same insert at RATE tps (-R: pgbench schedules transactions and
# reports each one's lag behind its schedule), p99 of lag + transaction time from its log.
fresh_db
psql "$BRIDGE_DB_URL" -qX -c "CREATE TABLE pgbench_events (id bigserial PRIMARY KEY, payload jsonb NOT NULL)" >/dev/null
say "pgbench: steady $RATE tps, $RATE_CONNECTIONS clients, $DURATION"
(cd "$WORK" && pgbench -n -c "$RATE_CONNECTIONS" -j "$THREADS" -R "$RATE" -T "${DURATION%s}" -l --log-prefix=steady \
  -f "$WORK/pgbench.sql" "$BRIDGE_DB_URL" >/dev/null 2>&1) || die "pgbench --rate failed"
PG_STEADY="$(cat "$WORK"/steady.* | python3 -c '
import sys
lat = sorted((int(f[2]) + int(f[6])) / 1000 for f in (l.split() for l in sys.stdin) if len(f) >= 7)
print(f"{len(lat) / float(sys.argv[1]):.0f} tps, p50 {lat[len(lat) // 2]:.2f} ms, p99 {lat[int(len(lat) * 0.99)]:.2f} ms")
' "${DURATION%s}")"

# Steady rate: an open-loop generator sends RATE req/s on schedule; latency counts from each request's
# due time, so a stall is not hidden by a load that waits for it.
fresh_db
sign_events "steady"
start_bridge
say "steady load: $RATE req/s for $DURATION (open loop, at most $RATE_CONNECTIONS connections)"
STEADY="$(python3 "$REPO/scripts/bench/steady_load.py" 127.0.0.1 "$PORT" "$RATE" "${DURATION%s}" \
  "$WORK/events-0.txt" "$RATE_CONNECTIONS" | tee /dev/stderr | grep '^RESULT')"
stop_bridge

cat <<MD
| date | connections | bridge req/s | p50 | p99 | max | pgbench (same run) | ratio | events stored | non-2xx / errors |
|---|---|---|---|---|---|---|---|---|---|
$(printf '%s\n' "${ROWS[@]}")

Steady rate ($RATE req/s asked, open loop): $(get "$STEADY" rps) req/s on $(get "$STEADY" connections) connections: p50 $(get "$STEADY" p50_ms) ms, p99 $(get "$STEADY" p99_ms) ms, max $(get "$STEADY" max_ms) ms, non-2xx / errors $(get "$STEADY" non2xx) / $(get "$STEADY" errors). pgbench at the same rate in the same run: $PG_STEADY.
MD
echo "bench-bridge: bridge/pgbench $(IFS=';'; echo "${RATIOS[*]}" | sed 's/;/, /g'); steady $(get "$STEADY" rps) req/s p99 $(get "$STEADY" p99_ms) ms (pgbench at $RATE tps: ${PG_STEADY#*, })"
