#!/usr/bin/env bash
# Which tenant root modules a change touched, so that CI plans and applies those alone: every
# orchestra is its own root module ($TENANTS_DIR/<subdomain>/) with its own state, and a one-tenant
# pull request must not wait for 10,000 plans.
#
# Usage: BASE_REF=<commit> [HEAD_REF=<commit>] scripts/changed-roots.sh
# Prints one subdomain a line: the tenants with a file added or changed under $TENANTS_DIR/<sub>/
# between BASE_REF and HEAD_REF whose main.tf (a module "orchestra-<sub>") exists at HEAD_REF, plus
# tenants whose single-root file $TENANTS_DIR/<sub>.tf changed (the layout before one root per tenant).
# Also writes to $GITHUB_OUTPUT (when set):
#   tenants=<the subdomains, space-separated>
#   fleet=true|false   true when a file every root uses changed: modules/, shared/ or app/ (a new
#                      migration). Those reach every tenant: roll them out with `stagesub-fleet apply`
#                      (canary, batches, report) instead of applying 10,000 roots here.
#   fleet_files=<up to 20 of those paths>
# and prints the same facts to stderr. A deleted tenant root is only a warning: the workflow never
# deletes an orchestra (its resources stay in that root's state).
#
# BASE_REF empty, all zeros or unknown: the parent of HEAD_REF; on a first commit, every tenant.
# Environment: TENANTS_DIR (default tenants), FLEET_PATHS (default "modules shared app").
set -euo pipefail

TENANTS_DIR=${TENANTS_DIR:-tenants}
TENANTS_DIR=${TENANTS_DIR%/}
FLEET_PATHS=${FLEET_PATHS:-modules shared app}
HEAD_REF=${HEAD_REF:-HEAD}
subdomain_re='^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$'

head=$(git rev-parse --verify --quiet "$HEAD_REF^{commit}") || {
  echo "changed-roots: error: HEAD_REF '$HEAD_REF' is not a commit" >&2
  exit 2
}
base=${BASE_REF:-}
if [ -z "$base" ] || [[ $base =~ ^0+$ ]] || ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
  base=$(git rev-parse --verify --quiet "$head^" || true)
fi
if [ -n "$base" ]; then
  files=$(git diff --name-only --no-renames "$base" "$head")
else
  files=$(git ls-tree -r --name-only "$head")
fi

declare -A seen=()
tenants=()
fleet_files=()
while IFS= read -r file; do
  [ -n "$file" ] || continue
  case $file in
    "$TENANTS_DIR"/*/*)
      rest=${file#"$TENANTS_DIR"/}
      sub=${rest%%/*}
      ;;
    "$TENANTS_DIR"/*.tf)
      sub=$(basename "$file" .tf)
      ;;
    *)
      for prefix in $FLEET_PATHS; do
        case $file in "$prefix"/*) fleet_files+=("$file") ;; esac
      done
      continue
      ;;
  esac
  [[ $sub =~ $subdomain_re ]] || continue
  [ -z "${seen[$sub]:-}" ] || continue
  seen[$sub]=1
  # The tenant's root at HEAD: its main.tf must hold module "orchestra-<sub>".
  if content=$(git show "$head:$TENANTS_DIR/$sub/main.tf" 2>/dev/null); then
    if grep -Eq "^module \"orchestra-$sub\"" <<<"$content"; then
      tenants+=("$sub")
    fi
  elif content=$(git show "$head:$TENANTS_DIR/$sub.tf" 2>/dev/null); then
    echo "changed-roots: warning: $TENANTS_DIR/$sub.tf is in the single root $TENANTS_DIR/ (the old layout): move it with scripts/split-state.sh" >&2
  else
    echo "changed-roots: warning: tenant root $TENANTS_DIR/$sub/ was deleted; nothing is destroyed (its resources stay in its state)" >&2
  fi
done <<<"$files"

fleet=false
[ ${#fleet_files[@]} = 0 ] || fleet=true
echo "changed-roots: ${#tenants[@]} tenant root(s): ${tenants[*]:-none}" >&2
if [ "$fleet" = true ]; then
  echo "changed-roots: ${#fleet_files[@]} file(s) every tenant uses changed (${fleet_files[*]:0:5}...): roll them out with stagesub-fleet apply" >&2
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "tenants=${tenants[*]:-}"
    echo "fleet=$fleet"
    echo "fleet_files=${fleet_files[*]:0:20}"
  } >>"$GITHUB_OUTPUT"
fi
[ ${#tenants[@]} = 0 ] || printf '%s\n' "${tenants[@]}"
