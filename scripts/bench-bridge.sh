#!/usr/bin/env bash
# Benchmark: Stripe webhook acceptance by stagesub-bridge (release build) with durable recording: each
# 200 is an event and its job committed to Postgres. wrk sends pre-signed `checkout.session.completed`
# events (the captured one, ~4.5 KB, unique event ids, signed just before the run, HMAC-SHA256 as
# Stripe does) to POST /api/webhooks/stripe. The worker runs meanwhile (WORKER_CONCURRENCY=1, git
# backend on a local bare repository), as in production. Prints a Markdown block for BENCHMARKS.md.
#
#   scripts/bench-bridge.sh                                   # 15 s, 32 connections, 2 wrk threads
#   DURATION=30s CONNECTIONS=64 scripts/bench-bridge.sh
#
# Needs wrk (Debian: apt-get install wrk), psql, python3, git.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"
DURATION="${DURATION:-15s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
PER_THREAD="${PER_THREAD:-30000}"
SECRET="whsec_bench_secret"
BRIDGE="$TARGET/release/stagesub-bridge"

say() { printf 'bench-bridge: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

command -v wrk >/dev/null || die "wrk is missing: apt-get install wrk"
command -v psql >/dev/null || die "psql is needed to create the benchmark database"
eval "$("$REPO/scripts/ensure-postgres.sh")"
ADMIN_URL="$DATABASE_URL"

say "building stagesub-bridge (release)"
(cd "$REPO" && cargo build --release --quiet -p stagesub-bridge --bin stagesub-bridge)

WORK="$(mktemp -d)"
DB="bench_bridge_$$"
PID=""
cleanup() {
  [[ -n "$PID" ]] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  psql "$ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

psql "$ADMIN_URL" -qX -c "CREATE DATABASE \"$DB\"" >/dev/null
BRIDGE_DB_URL="$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$ADMIN_URL" "$DB")"

git init -q --bare -b main "$WORK/infra.git"
git -C "$WORK" init -q -b main seed
echo infra > "$WORK/seed/README.md"
git -C "$WORK/seed" add README.md
git -C "$WORK/seed" -c user.name=bench -c user.email=bench@example.org commit -qm initial
git -C "$WORK/seed" push -q "$WORK/infra.git" main

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
STRIPE_WEBHOOK_SECRET="$SECRET" DATABASE_URL="$BRIDGE_DB_URL" BIND_ADDR="127.0.0.1:$PORT" \
  GIT_BACKEND=git GIT_REMOTE_URL="file://$WORK/infra.git" GIT_WORK_DIR="$WORK/git-cache" COMMIT_MODE=direct \
  WORKER_CONCURRENCY=1 RUST_LOG=warn "$BRIDGE" serve 2>"$WORK/bridge.log" &
PID=$!
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null || die "the bridge did not start: $(cat "$WORK/bridge.log")"

say "signing $((THREADS * PER_THREAD)) events"
python3 - "$REPO/bridge/tests/fixtures/checkout.session.completed.event.json" "$WORK" "$THREADS" "$PER_THREAD" "$SECRET" <<'PY'
import hashlib, hmac, json, sys, time
fixture, work, threads, per_thread, secret = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
event = json.load(open(fixture))
t = int(time.time())
for th in range(threads):
    with open(f"{work}/events-{th}.txt", "w") as out:
        for i in range(per_thread):
            n = th * per_thread + i
            event["id"] = f"evt_bench{n:08d}"
            event["data"]["object"]["metadata"] = {"subdomain": f"bench-{n}", "orchestra_name": f"Bench {n}", "plan": "pro"}
            body = json.dumps(event, separators=(",", ":"))
            sig = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
            out.write(f"t={t},v1={sig}\t{body}\n")
PY

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
  non200 = 0
end
function request()
  next_event = next_event % #events + 1
  local e = events[next_event]
  return wrk.format("POST", "/api/webhooks/stripe",
    { ["Content-Type"] = "application/json", ["Stripe-Signature"] = e[1] }, e[2])
end
function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end
function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status))
end
LUA

say "running wrk: $THREADS threads, $CONNECTIONS connections, $DURATION"
RESULT="$(BENCH_DIR="$WORK" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s -s "$WORK/signed.lua" "http://127.0.0.1:$PORT" | tee /dev/stderr | grep '^RESULT')"
STORED="$(psql "$BRIDGE_DB_URL" -qtAX -c 'SELECT count(*) FROM events')"
JOBS="$(psql "$BRIDGE_DB_URL" -qtAX -c "SELECT count(*) FROM jobs WHERE kind = 'event'")"
get() { sed -E "s/.* $1=([^ ]+).*/\1/" <<<"$RESULT"; }

cat <<MD
| date | connections | requests | req/s | p50 | p99 | max | events stored | non-2xx / errors |
|---|---|---|---|---|---|---|---|---|
| $(date -u +%Y-%m-%d) | $CONNECTIONS | $(get requests) | $(get rps) | $(get p50_ms) ms | $(get p99_ms) ms | $(get max_ms) ms | $STORED (jobs $JOBS) | $(get non2xx) / $(get errors) |
MD
