#!/usr/bin/env bash
# Benchmark, figure (a): the CI path of a one-tenant change (changed-roots.sh, tenant-root.sh init with
# a filesystem mirror and plugin cache, validate, plan of that tenant's own root) in an infra
# repository of 100, 1,000 and 10,000 tenants (one root module and state each), against the Supabase
# stand-in with that many metadata-only bulk projects and its rate limit at 120/min.
# Goal: the time at 10,000 at most 1.5x the time at 100.
#
# Usage: scripts/bench-layout.sh [COUNT...]      (default 100 1000 10000)
# Needs: scripts/setup-tools.sh (Terraform), PostgreSQL (scripts/ensure-postgres.sh), cargo.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f .tools/env.sh ]; then
  # shellcheck disable=SC1091
  source .tools/env.sh
fi
eval "$(scripts/ensure-postgres.sh)"
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(100 1000 10000)

echo "machine: $(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%Y-%m-%dT%H:%MZ)"
cargo build -q -p terraform-provider-stagesub --bins
for n in "${counts[@]}"; do
  STAGESUB_LAYOUT_TENANTS=$n cargo test -q -p stagesub-acceptance --test gitops_layout_bench -- \
    --ignored --exact bench_one_tenant_change --nocapture 2>&1 |
    grep -E '^BENCH|panicked|test result: FAILED' || true
done
