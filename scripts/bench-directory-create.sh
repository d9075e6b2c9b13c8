#!/usr/bin/env bash
# Benchmark: the extra time a `stagesub_orchestra_database` create spends on the tenant directory
# (provider side, issue 11; goal <= 20 ms). Real Terraform applies COUNT creates (default 10, one at
# a time: -parallelism=1) on the postgres backend of the local PostgreSQL with a directory in a fresh
# database; the provider logs, per create, the time spent writing the `provisioning` row before the
# database exists and the sealed `ready` row after migrations and seed (TF_LOG_PROVIDER=INFO). The
# first create of a provider process also opens the directory connection and ensures its schema;
# it is reported apart. Destroys everything and drops the database afterwards.
#
#   scripts/bench-directory-create.sh [--release] [COUNT]
#
# Uses the debug provider binary in $CARGO_TARGET_DIR (or target/) unless --release (builds it).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROFILE=debug
if [[ "${1:-}" == "--release" ]]; then PROFILE=release; shift; fi
COUNT="${1:-10}"
[[ "$COUNT" =~ ^[0-9]+$ && "$COUNT" -ge 2 ]] || { echo "usage: $0 [--release] [COUNT >= 2]" >&2; exit 2; }

say() { printf 'bench-directory-create: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# shellcheck source=/dev/null
source "${STAGESUB_TOOLS_DIR:-$REPO/.tools}/env.sh"
TF="${STAGESUB_TERRAFORM:-$(command -v terraform)}"
[[ -x "$TF" ]] || die "terraform not found: run scripts/setup-tools.sh"
eval "$("$REPO/scripts/ensure-postgres.sh")"
ADMIN_URL="$DATABASE_URL"

target="${CARGO_TARGET_DIR:-$REPO/target}"
[[ "$target" == /* ]] || target="$REPO/$target"
say "cargo build ($PROFILE) -p terraform-provider-stagesub"
if [[ $PROFILE == release ]]; then
  (cd "$REPO" && cargo build --release -q -p terraform-provider-stagesub)
else
  (cd "$REPO" && cargo build -q -p terraform-provider-stagesub)
fi
BIN="$target/$PROFILE/terraform-provider-stagesub"
[[ -x "$BIN" ]] || die "$BIN is missing"

WORK="$(mktemp -d)"
DB="stagesub_bench_dircreate_$$"
cleanup() {
  if [[ -f "$WORK/main.tf" ]]; then
    (cd "$WORK" && "$TF" destroy -auto-approve -input=false -no-color >/dev/null 2>&1) || say "destroy failed; see $WORK"
  fi
  psql "$ADMIN_URL" -qX -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

psql "$ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$DB\"" >/dev/null
base="${ADMIN_URL%%\?*}"
export STAGESUB_DIRECTORY_URL="${base%/*}/$DB"
export STAGESUB_DIRECTORY_KEYS="$(head -c 32 /dev/urandom | base64)"
export STAGESUB_POSTGRES_URL="$ADMIN_URL"
export STAGESUB_BACKEND=postgres

mkdir -p "$WORK/plugins"
ln -s "$BIN" "$WORK/plugins/terraform-provider-stagesub"
cat >"$WORK/cli.tfrc" <<TFRC
provider_installation {
  dev_overrides {
    "stagesub/stagesub" = "$WORK/plugins"
  }
  direct {}
}
TFRC
export TF_CLI_CONFIG_FILE="$WORK/cli.tfrc"
{
  printf 'terraform {\n  required_providers {\n    stagesub = { source = "stagesub/stagesub" }\n  }\n}\n\nprovider "stagesub" {}\n'
  for i in $(seq 1 "$COUNT"); do
    printf '\nresource "stagesub_orchestra_database" "t%s" {\n  subdomain           = "bench-%s-%s"\n  orchestra_name      = "Bench %s"\n  deletion_protection = false\n}\n' \
      "$i" "$$" "$i" "$i"
  done
} >"$WORK/main.tf"

say "terraform apply: $COUNT creates, one at a time"
(cd "$WORK" && TF_LOG_PROVIDER=INFO TF_LOG_PATH="$WORK/tf.log" \
  "$TF" apply -auto-approve -input=false -no-color -parallelism=1 >/dev/null) || die "apply failed (log: $WORK/tf.log)"

grep -o 'spent [0-9.]* ms on the directory (provisioning row [0-9.]* ms, ready row [0-9.]* ms)' "$WORK/tf.log" \
  | awk '{print $2, $9, $13}' >"$WORK/times"
[[ $(wc -l <"$WORK/times") -eq $COUNT ]] || die "expected $COUNT timing lines in the provider log, found $(wc -l <"$WORK/times")"

python3 - "$WORK/times" "$PROFILE" "$COUNT" <<'PY'
import statistics, sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
first, rest = rows[0], rows[1:]
def pct(xs, p):
    xs = sorted(xs); return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]
tot = [r[0] for r in rest]
print(f"- provider build: {sys.argv[2]}; {sys.argv[3]} creates, -parallelism=1, postgres backend and directory on the local server")
print(f"- first create of the process (connect + ensure schema + rows): {first[0]:.2f} ms (provisioning {first[1]:.2f} ms, ready {first[2]:.2f} ms)")
print(f"- later creates: total p50 {statistics.median(tot):.2f} ms, max {max(tot):.2f} ms "
      f"(provisioning p50 {statistics.median(r[1] for r in rest):.2f} ms, ready p50 {statistics.median(r[2] for r in rest):.2f} ms)")
PY
echo "- date $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
