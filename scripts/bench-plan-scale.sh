#!/usr/bin/env bash
# Benchmark: `terraform plan` over 1,000 orchestras (or $1) on the supabase backend against the
# Supabase stand-in with its rate limit at 120 requests/minute. Prints wall time and API call counts
# next to the one-GET-per-tenant figure (N GETs at 120/min = N/2 seconds).
#
# Usage: scripts/bench-plan-scale.sh [TENANTS]      (default 1000)
# Needs: scripts/setup-tools.sh (Terraform), PostgreSQL (scripts/ensure-postgres.sh), cargo.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f .tools/env.sh ]; then
  # shellcheck disable=SC1091
  source .tools/env.sh
fi
eval "$(scripts/ensure-postgres.sh)"
export STAGESUB_SCALE_TENANTS="${1:-1000}"

echo "machine: $(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%MZ)"
cargo build -q -p terraform-provider-stagesub --bins
cargo test -q -p stagesub-acceptance --test provider_scale -- \
  --ignored --exact bench_plan_over_many_orchestras --nocapture 2>&1 |
  grep -E '^BENCH|plan over|panicked|test result'
