#!/usr/bin/env bash
# Benchmarks of stagesub-fleet (issue 13, figures b and c); results go to BENCHMARKS.md by hand.
#   (b) one new migration across 1,000 (or $STAGESUB_BENCH_TENANTS) real tenant databases on the
#       local server, found through a real tenant directory: `stagesub-fleet apply --mode
#       migrations` (wall time, per-tenant p50/p99) against a shell loop running dbmate over the
#       same databases in the same run.
#   (c) tenants provisioned by the provider on the Supabase stand-in; with its rate limit on, the
#       Management API calls per tenant of a migrations-mode rollout (and of a terraform-mode one).
#
# Usage: scripts/bench-fleet.sh [b|c|all]      (default all)
# Needs: scripts/setup-tools.sh (Terraform, dbmate), PostgreSQL (scripts/ensure-postgres.sh), cargo,
# and about 8 GB of free disk for 1,000 databases (dropped at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f .tools/env.sh ]; then
  # shellcheck disable=SC1091
  source .tools/env.sh
fi
eval "$(scripts/ensure-postgres.sh)"
which=${1:-all}
case $which in
  b) tests=(bench_rollout_over_many_databases) ;;
  c) tests=(bench_management_api_calls_per_tenant) ;;
  all) tests=(bench_rollout_over_many_databases bench_management_api_calls_per_tenant) ;;
  *) echo "usage: $0 [b|c|all]" >&2; exit 2 ;;
esac

echo "machine: $(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%MZ)"
cargo build -q -p terraform-provider-stagesub --bins
# The fleet as it ships: a release build (dbmate, its yardstick, is an optimised Go binary too).
cargo build -q --release -p stagesub-fleet --bins
STAGESUB_FLEET_BIN="${CARGO_TARGET_DIR:-target}/release/stagesub-fleet"
export STAGESUB_FLEET_BIN
echo "stagesub-fleet: $STAGESUB_FLEET_BIN"
for test in "${tests[@]}"; do
  cargo test -q -p stagesub-fleet --test bench -- --ignored --exact "$test" --nocapture 2>&1 |
    grep -E '^BENCH|panicked|test result'
done
