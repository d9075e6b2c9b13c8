#!/usr/bin/env bash
# Prepares one orchestra's root module, $TENANTS_DIR/<subdomain>/, and runs `terraform init` in it with
# the tenant's own state key. Every orchestra is its own root module with its own state (and lock);
# stagesub-bridge writes only its main.tf, and the settings all roots share live once in shared/:
#
#   shared/*.tf                  copied into the root as shared-<name>.tf (ignored by Git), every time,
#                                so that a root never runs with stale settings
#   shared/.terraform.lock.hcl   copied when present: the pinned provider versions
#
# Usage:
#   scripts/tenant-root.sh SUBDOMAIN [terraform init arguments...]   prepare + init
#   scripts/tenant-root.sh --prepare SUBDOMAIN...                     copy the shared files only
#   scripts/tenant-root.sh --backend-config SUBDOMAIN                 print the init arguments that
#                                                                     select the tenant's state
# Run from the root of the infra repository.
#
# The tenant's state: the backend block in shared/*.tf leaves out its per-state setting, and this
# script adds it according to the backend type:
#   s3, azurerm, oss, cos   key=tenants/<subdomain>.tfstate
#   gcs                     prefix=tenants/<subdomain>
#   pg                      schema_name=tenant_<subdomain with - as _>
#   consul                  path=tenants/<subdomain>
#   none (local state)      nothing: the state is $TENANTS_DIR/<subdomain>/terraform.tfstate
# TENANT_BACKEND_CONFIG replaces that rule: space-separated key=value pairs in which {subdomain}
# (and {subdomain_}, with - as _) stand for the tenant, e.g. 'key=orchestras/{subdomain}/state'.
#
# Environment: TENANTS_DIR (default tenants), SHARED_DIR (default shared), TERRAFORM (default
# terraform), TENANT_BACKEND_CONFIG.
set -euo pipefail

TENANTS_DIR=${TENANTS_DIR:-tenants}
TENANTS_DIR=${TENANTS_DIR%/}
SHARED_DIR=${SHARED_DIR:-shared}
TERRAFORM=${TERRAFORM:-terraform}
subdomain_re='^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$'

die() {
  echo "tenant-root: error: $*" >&2
  exit 2
}

check_subdomain() {
  [[ $1 =~ $subdomain_re ]] || die "'$1' is not a subdomain (3-63 of a-z, 0-9 and -, not starting or ending with -)"
  [ -f "$TENANTS_DIR/$1/main.tf" ] || die "$TENANTS_DIR/$1/main.tf does not exist: no such tenant root"
}

prepare() {
  local sub=$1 root="$TENANTS_DIR/$1" file name found=0
  for file in "$SHARED_DIR"/*.tf; do
    [ -f "$file" ] || continue
    found=1
    name=$(basename "$file")
    cmp -s "$file" "$root/shared-$name" || cp "$file" "$root/shared-$name"
  done
  [ "$found" = 1 ] || die "$SHARED_DIR/ holds no .tf file with the settings every tenant root shares"
  # A shared file that was removed from shared/ must not linger in the roots.
  for file in "$root"/shared-*.tf; do
    [ -f "$file" ] || continue
    name=$(basename "$file")
    [ -f "$SHARED_DIR/${name#shared-}" ] || rm -f "$file"
  done
  if [ -f "$SHARED_DIR/.terraform.lock.hcl" ]; then
    cmp -s "$SHARED_DIR/.terraform.lock.hcl" "$root/.terraform.lock.hcl" ||
      cp "$SHARED_DIR/.terraform.lock.hcl" "$root/.terraform.lock.hcl"
  fi
}

backend_type() {
  # The first `backend "<type>"` that is not commented out.
  sed -n -E 's/^[[:space:]]*backend[[:space:]]+"([a-z0-9_]+)".*/\1/p' "$SHARED_DIR"/*.tf 2>/dev/null | head -n 1
}

backend_config() {
  local sub=$1 template
  if [ -n "${TENANT_BACKEND_CONFIG:-}" ]; then
    template=$TENANT_BACKEND_CONFIG
  else
    case $(backend_type) in
      "") return 0 ;;
      s3 | azurerm | oss | cos) template='key=tenants/{subdomain}.tfstate' ;;
      gcs) template='prefix=tenants/{subdomain}' ;;
      pg) template='schema_name=tenant_{subdomain_}' ;;
      consul) template='path=tenants/{subdomain}' ;;
      *) die "backend \"$(backend_type)\" in $SHARED_DIR/: set TENANT_BACKEND_CONFIG to the setting that gives each tenant its own state, e.g. 'key=tenants/{subdomain}.tfstate'" ;;
    esac
  fi
  local pair
  for pair in $template; do
    pair=${pair//\{subdomain_\}/${sub//-/_}}
    echo "-backend-config=${pair//\{subdomain\}/$sub}"
  done
}

case ${1:-} in
  "" | -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  --prepare)
    shift
    [ $# -gt 0 ] || die "--prepare needs at least one subdomain"
    for sub in "$@"; do
      check_subdomain "$sub"
      prepare "$sub"
    done
    ;;
  --backend-config)
    [ $# = 2 ] || die "--backend-config takes one subdomain"
    check_subdomain "$2"
    backend_config "$2"
    ;;
  -*) die "unknown option $1 (see --help)" ;;
  *)
    sub=$1
    shift
    check_subdomain "$sub"
    prepare "$sub"
    config=$(backend_config "$sub") || exit 2
    backend_args=()
    [ -z "$config" ] || mapfile -t backend_args <<<"$config"
    # -reconfigure: the root may have been initialised for another state before; never migrate one
    # tenant's state into another's.
    exec "$TERRAFORM" -chdir="$TENANTS_DIR/$sub" init -input=false -reconfigure "${backend_args[@]}" "$@"
    ;;
esac
