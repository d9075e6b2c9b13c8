#!/usr/bin/env bash
# Benchmark: archive + restore of a ~1 GiB tenant by stagesub-backup (release build of its bench
# binary, backup/src/bin/bench.rs) against `pg_dump -Fc` + `pg_restore -j4` by hand, in the same run
# on the same PostgreSQL and disk, and the peak RSS of our process.
#
# The source database is `pgbench -i -s SCALE` (scale 70: 7 million accounts, ~1 GiB on disk), made
# once and kept for re-runs (BENCH_KEEP=0 drops it at the end). Ours: archive = pg_dump streamed into
# the store with SHA-256, read back + pg_restore --list, exact count(*) of every table, manifest;
# restore = checksum check (download to a temporary file, as -j needs one), pg_restore -j JOBS,
# count(*) of every table. By hand: pg_dump -Fc -f file; pg_restore -j JOBS -d db file.
#
#   scripts/bench-backup.sh                          # scale 70, file:// store in a temp folder, -j4, 2 rounds
#   SCALE=10 JOBS=2 scripts/bench-backup.sh
#   BACKUP_URL=s3://bucket/bench BACKUP_ENDPOINT=http://127.0.0.1:9000 scripts/bench-backup.sh
#
# Needs pgbench, psql, pg_dump, pg_restore (postgresql-client), GNU time (/usr/bin/time). The admin
# connection is DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres). Goals (issue 12):
# ours <= 1.3x by hand, peak RSS <= 64 MiB. Prints a Markdown table for BENCHMARKS.md.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"
SCALE="${SCALE:-70}"
JOBS="${JOBS:-4}"
ADMIN_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
SRC="stagesub_bench_backup_s${SCALE}"
DST_OURS="stagesub_bench_backup_ours"
DST_HAND="stagesub_bench_backup_hand"
BIN="$TARGET/release/stagesub-backup-bench"

say() { printf 'bench-backup: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
for tool in pgbench psql pg_dump pg_restore; do
  command -v "$tool" >/dev/null || die "$tool is missing (Debian: apt-get install postgresql-client)"
done
[[ -x /usr/bin/time ]] || die "/usr/bin/time is missing (Debian: apt-get install time)"

# URL of database $1 on the admin server.
db_url() { python3 -c 'import sys,re; u=sys.argv[1]; b,_,q=u.partition("?"); a=b.index("://")+3; s=b.find("/",a); s=len(b) if s<0 else s; print(b[:s]+"/"+sys.argv[2]+("?"+q if q else ""))' "$ADMIN_URL" "$1"; }
admin() { psql "$ADMIN_URL" -v ON_ERROR_STOP=1 -qAtc "$1"; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/stagesub-bench-backup.XXXXXX")
cleanup() {
  rm -rf "$WORK"
  admin "DROP DATABASE IF EXISTS $DST_OURS WITH (FORCE)" || true
  admin "DROP DATABASE IF EXISTS $DST_HAND WITH (FORCE)" || true
  [[ "${BENCH_KEEP:-1}" == 1 ]] || admin "DROP DATABASE IF EXISTS $SRC WITH (FORCE)" || true
}
trap cleanup EXIT

if [[ ! -x "$BIN" || "${BUILD:-1}" == 1 ]]; then
  say "building the bench binary (release)"
  (cd "$REPO" && cargo build --release -q -p stagesub-backup --bin stagesub-backup-bench)
fi

accounts=$(psql "$(db_url "$SRC")" -qAtc "SELECT count(*) FROM pgbench_accounts" 2>/dev/null || echo 0)
if [[ "$accounts" != "$((SCALE * 100000))" ]]; then
  say "creating $SRC with pgbench -i -s $SCALE (once; kept for re-runs)"
  admin "DROP DATABASE IF EXISTS $SRC WITH (FORCE)"
  admin "CREATE DATABASE $SRC"
  pgbench -i -q -s "$SCALE" "$(db_url "$SRC")" >"$WORK/pgbench.log" 2>&1 || { cat "$WORK/pgbench.log" >&2; die "pgbench -i failed"; }
fi
size=$(admin "SELECT pg_size_pretty(pg_database_size('$SRC'))")
say "source $SRC: $size"
fresh() { admin "DROP DATABASE IF EXISTS $1 WITH (FORCE)"; admin "CREATE DATABASE $1"; }
now() { date +%s.%N; }
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# One run by hand: sets hand_dump, hand_restore, hand_bytes.
run_hand() {
  fresh "$DST_HAND"
  local t0 t1 t2
  t0=$(now)
  pg_dump -Fc --no-owner --no-privileges -f "$WORK/hand.dump" "$(db_url "$SRC")"
  t1=$(now)
  pg_restore -j "$JOBS" --no-owner --no-privileges --exit-on-error -d "$(db_url "$DST_HAND")" "$WORK/hand.dump"
  t2=$(now)
  hand_dump=$(echo "$t1 - $t0" | bc)
  hand_restore=$(echo "$t2 - $t1" | bc)
  hand_bytes=$(stat -c %s "$WORK/hand.dump")
  rm -f "$WORK/hand.dump"
}

# One run of ours: sets ours_archive, ours_restore, ours_bytes, rss_kib.
run_ours() {
  fresh "$DST_OURS"
  rm -rf "$WORK/store"
  local store="${BACKUP_URL:-file://$WORK/store}"
  /usr/bin/time -v -o "$WORK/time.txt" "$BIN" "$store" "$(db_url "$SRC")" "$(db_url "$DST_OURS")" "$JOBS" \
    ${BACKUP_ENDPOINT:+"$BACKUP_ENDPOINT"} >"$WORK/ours.txt" 2>"$WORK/ours.log" ||
    { cat "$WORK/ours.log" >&2; die "stagesub-backup-bench failed"; }
  get() { sed -n "s/^$1=//p" "$WORK/ours.txt"; }
  ours_archive=$(get archive_seconds)
  ours_restore=$(get restore_seconds)
  ours_bytes=$(get dump_bytes)
  rss_kib=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/time.txt")
}

# ROUNDS rounds, alternating which goes first (the first run of a round meets colder caches); the
# best time of each is kept, and the largest RSS.
min() { if [[ -z "$1" ]] || (($(echo "$2 < $1" | bc))); then echo "$2"; else echo "$1"; fi; }
best_hand_dump="" best_hand_restore="" best_ours_archive="" best_ours_restore="" max_rss=0
for ((round = 1; round <= ${ROUNDS:-2}; round++)); do
  if ((round % 2)); then run_hand; run_ours; else run_ours; run_hand; fi
  say "round $round: by hand ${hand_dump}s + ${hand_restore}s; ours ${ours_archive}s + ${ours_restore}s, ${rss_kib} KiB"
  best_hand_dump=$(min "$best_hand_dump" "$hand_dump")
  best_hand_restore=$(min "$best_hand_restore" "$hand_restore")
  best_ours_archive=$(min "$best_ours_archive" "$ours_archive")
  best_ours_restore=$(min "$best_ours_restore" "$ours_restore")
  ((rss_kib > max_rss)) && max_rss=$rss_kib
done
hand_dump=$best_hand_dump hand_restore=$best_hand_restore
ours_archive=$best_ours_archive ours_restore=$best_ours_restore rss_kib=$max_rss
store="${BACKUP_URL:-file://}"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

ratio() { echo "scale=2; $1 / $2" | bc; }
hand_total=$(echo "$hand_dump + $hand_restore" | bc)
ours_total=$(echo "$ours_archive + $ours_restore" | bc)
echo
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); pgbench scale $SCALE ($size); -j $JOBS; best of ${ROUNDS:-2} rounds; store ${store%%://*}://; load average before: $load_before, after: $load_after"
echo
echo "| | dump / archive (s) | restore (s) | total (s) | dump size (MiB) | peak RSS (MiB) |"
echo "|---|---:|---:|---:|---:|---:|"
printf '| by hand: pg_dump -Fc + pg_restore -j%s | %.1f | %.1f | %.1f | %.0f | |\n' "$JOBS" "$hand_dump" "$hand_restore" "$hand_total" "$(echo "$hand_bytes / 1048576" | bc -l)"
printf '| stagesub-backup (verified) | %.1f | %.1f | %.1f | %.0f | %.1f |\n' "$ours_archive" "$ours_restore" "$ours_total" "$(echo "$ours_bytes / 1048576" | bc -l)" "$(echo "$rss_kib / 1024" | bc -l)"
echo
echo "ratio ours/by hand: archive $(ratio "$ours_archive" "$hand_dump")x, restore $(ratio "$ours_restore" "$hand_restore")x, total $(ratio "$ours_total" "$hand_total")x (goal <= 1.3x); peak RSS $((rss_kib / 1024)) MiB (goal <= 64 MiB)"
