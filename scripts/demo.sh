#!/usr/bin/env bash
# stagesub end to end on one machine: a paid Stripe checkout becomes a migrated, seeded database.
#
# Usage:
#   scripts/demo.sh [--backend supabase|postgres] [--subdomain NAME] [--orchestra-name TEXT]
#                   [--contact-email ADDR] [--plan PLAN] [--keep-running] [--no-build]
#   scripts/demo.sh --stop  [--backend ...]     stop what the demo left running
#   scripts/demo.sh --reset [--backend ...]     --stop, then drop the demo's databases and state
#   scripts/demo.sh --help                      this text
#
# Steps: install the test tools and find/start PostgreSQL; build the binaries; start what is missing
# (the Supabase stand-in for --backend supabase, an SMTP sink, a bare Git repository serving
# examples/gitops); start stagesub-bridge; send it a test-mode checkout.session.completed signed like
# Stripe does; wait for the tenant file the bridge pushes to stagesub/<subdomain>; merge it as a
# reviewer would; terraform apply (real Terraform 1.15.5, the built provider) on that commit, as CI
# does; call the bridge's ready endpoint; show the welcome email and how to connect to the database.
#
# Re-running is safe: the same orchestra again changes nothing (the bridge finds the tenant unchanged,
# Terraform finds nothing to do, no second email); another --subdomain adds a tenant; a changed
# --orchestra-name updates the tenant file and re-seeds the database.
#
# State lives in $STAGESUB_DEMO_DIR/<backend> (default <repo>/.tools/demo/<backend>): the infra
# repository, Terraform state, logs (logs/), received mail (mail/) and generated secrets. The bridge
# and the SMTP sink stop when the script ends (unless --keep-running). The Supabase stand-in plays
# Supabase's cloud and keeps running between runs, because its projects live only as long as it does;
# --stop stops it (which drops its projects' databases).
#
# Environment: DATABASE_URL (admin URL of the PostgreSQL to use; scripts/ensure-postgres.sh finds or
# starts one otherwise), CARGO_TARGET_DIR, STAGESUB_TOOLS_DIR, STAGESUB_DEMO_DIR.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${STAGESUB_TOOLS_DIR:-$REPO/.tools}"
TARGET="${CARGO_TARGET_DIR:-$REPO/target}"
case $TARGET in /*) ;; *) TARGET="$REPO/$TARGET" ;; esac
BIN="$TARGET/debug"

backend=supabase
subdomain=mozart-phil
orchestra_name="Mozart Philharmonic"
contact_email=""
plan=pro
keep_running=0
build=1
action=run

# usage [STATUS]: the comment at the top of this file to stdout for --help (status 0); its synopsis to
# stderr after a usage error (status 2).
usage() {
  local status=${1:-2} text
  text=$(sed -n '2,/^set -euo pipefail/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//')
  if [[ $status == 0 ]]; then
    printf '%s\n' "$text"
  else
    # After an error only the synopsis (from "Usage:" to the blank line after it).
    printf '%s\n' "$text" | sed -n '/^Usage:/,/^$/p' >&2
    printf 'scripts/demo.sh --help tells more.\n' >&2
  fi
  exit "$status"
}
while [[ $# -gt 0 ]]; do
  case $1 in
    --backend) backend=${2:?--backend needs supabase or postgres}; shift 2 ;;
    --backend=*) backend=${1#*=}; shift ;;
    --subdomain) subdomain=${2:?--subdomain needs a value}; shift 2 ;;
    --subdomain=*) subdomain=${1#*=}; shift ;;
    --orchestra-name) orchestra_name=${2:?--orchestra-name needs a value}; shift 2 ;;
    --orchestra-name=*) orchestra_name=${1#*=}; shift ;;
    --contact-email) contact_email=${2:?--contact-email needs a value}; shift 2 ;;
    --contact-email=*) contact_email=${1#*=}; shift ;;
    --plan) plan=${2:?--plan needs a value}; shift 2 ;;
    --plan=*) plan=${1#*=}; shift ;;
    --keep-running) keep_running=1; shift ;;
    --no-build) build=0; shift ;;
    --stop) action=stop; shift ;;
    --reset) action=reset; shift ;;
    -h | --help) usage 0 ;;
    *) echo "demo: unknown argument '$1'" >&2; usage ;;
  esac
done
case $backend in supabase | postgres) ;; *) echo "demo: --backend must be supabase or postgres, not '$backend'" >&2; exit 2 ;; esac
if ! [[ $subdomain =~ ^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$ ]]; then
  echo "demo: --subdomain '$subdomain' is not a DNS label (3-63 of a-z, 0-9 and '-', not starting or ending with '-')" >&2
  exit 2
fi
[[ -n $contact_email ]] || contact_email="office@$subdomain.example"

STATE="${STAGESUB_DEMO_DIR:-$TOOLS/demo}/$backend"
case $STATE in /*) ;; *) STATE="$PWD/$STATE" ;; esac
LOGS="$STATE/logs"
mkdir -p "$LOGS"
# The bridge's own database: one per state folder, so that several demo folders never share one.
BRIDGE_DB="stagesub_demo_${backend}_$(printf '%s' "$STATE" | sha256sum | cut -c1-8)"

source "$REPO/scripts/demo/lib.sh"

if [[ $action != run ]]; then
  stop_all
  if [[ $action == reset ]]; then reset_state; fi
  exit 0
fi

trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

STEPS=12
printf 'stagesub demo: backend %s, orchestra "%s" at %s (state %s)\n' "$backend" "$orchestra_name" "$subdomain" "$STATE"

# --- 1. tools and PostgreSQL ----------------------------------------------------------------------
step "tools (scripts/setup-tools.sh) and PostgreSQL (scripts/ensure-postgres.sh)"
"$REPO/scripts/setup-tools.sh" >"$LOGS/setup-tools.log" 2>&1 || fail "scripts/setup-tools.sh failed" "$LOGS/setup-tools.log"
# shellcheck disable=SC1091
source "$TOOLS/env.sh"
pg_exports=$("$REPO/scripts/ensure-postgres.sh" 2>"$LOGS/ensure-postgres.log") || fail "no PostgreSQL server" "$LOGS/ensure-postgres.log"
eval "$pg_exports"
for tool in terraform smtp-sink; do [[ -x "$TOOLS/bin/$tool" ]] || fail "$TOOLS/bin/$tool is missing after setup-tools"; done
for cmd in git psql node curl jq python3; do command -v "$cmd" >/dev/null || fail "'$cmd' is not installed"; done
detail "PostgreSQL: $(redact_url "$DATABASE_URL")"
detail "Terraform: $("$TOOLS/bin/terraform" version -json 2>/dev/null | jq -r .terraform_version)"
ok

# --- 2. build ------------------------------------------------------------------------------------
if [[ $build == 1 ]]; then
  # Said before the build starts: the first one compiles every dependency.
  step "cargo build (provider, bridge, Supabase stand-in; a first build takes 10-15 minutes on 2 cores, later ones seconds; log $LOGS/build.log)"
  (cd "$REPO" && cargo build --bins -p terraform-provider-stagesub -p stagesub-bridge -p supabase-standin) \
    >"$LOGS/build.log" 2>&1 || fail "cargo build failed" "$LOGS/build.log"
  detail "build log: $LOGS/build.log"
else
  step "binaries (--no-build)"
fi
for b in terraform-provider-stagesub stagesub-bridge supabase-standin; do
  [[ -x "$BIN/$b" ]] || fail "$BIN/$b not found: run cargo build --workspace --bins (or drop --no-build)"
done
detail "from $BIN"
ok

# --- 3. the database server the tenants live on --------------------------------------------------
if [[ $backend == supabase ]]; then
  step "Supabase stand-in (the Management API, projects on the local PostgreSQL)"
  start_standin
else
  step "tenant database server (the postgres backend: a database per orchestra)"
  psql "$DATABASE_URL" -XAtqc 'select 1' >/dev/null || fail "cannot reach $(redact_url "$DATABASE_URL")"
  detail "STAGESUB_POSTGRES_URL=$(redact_url "$DATABASE_URL")"
fi
ok

# --- 4. SMTP sink --------------------------------------------------------------------------------
step "SMTP sink (mail lands in files)"
start_smtp_sink
ok

# --- 5. the infra repository -----------------------------------------------------------------------
step "infra Git repository (bare, file://, from examples/gitops)"
ensure_infra_repo
ok

# --- 6. the bridge ---------------------------------------------------------------------------------
step "stagesub-bridge serve (GIT_BACKEND=git, COMMIT_MODE=pull_request)"
start_bridge
ok

# --- 7. Stripe -------------------------------------------------------------------------------------
step "Stripe: checkout.session.completed (test mode, signed with Stripe's Node library)"
send_checkout_event
ok

# --- 8. review and merge ---------------------------------------------------------------------------
step "pull request: branch stagesub/$subdomain reviewed and merged into main"
merge_tenant_branch
ok

# --- 9. terraform apply ------------------------------------------------------------------------------
step "CI: terraform apply on main (Terraform $("$TOOLS/bin/terraform" version -json 2>/dev/null | jq -r .terraform_version), provider from $BIN)"
terraform_apply
ok

# --- 10. ready ---------------------------------------------------------------------------------------
step "CI: POST /api/tenants/$subdomain/ready"
call_ready
ok

# --- 11. welcome email ---------------------------------------------------------------------------------
step "welcome email"
show_welcome_email
ok

# --- 12. connect ---------------------------------------------------------------------------------------
step "the orchestra's database (migrated and seeded)"
show_database
ok

finish
