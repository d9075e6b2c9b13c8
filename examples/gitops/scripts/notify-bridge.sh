#!/usr/bin/env bash
# Tell stagesub-bridge, after `terraform apply`, which orchestras of this change are ready (the bridge
# emails the customer) and which failed (the bridge records the error and alerts the admin).
#
# Run from the root of the infra repository, after init + apply in $TENANTS_DIR:
#
#   APPLY_EXIT_CODE=$? APPLY_LOG=apply.log BRIDGE_URL=https://bridge.example.org \
#   BRIDGE_API_TOKEN=... scripts/notify-bridge.sh
#
# Environment:
#   BRIDGE_URL        base URL of stagesub-bridge (required)
#   BRIDGE_API_TOKEN  bearer token the bridge expects on /api/tenants/... (required; never printed)
#   APPLY_EXIT_CODE   exit status of init + apply (required; 0 means success)
#   APPLY_LOG         file holding their output, written with -no-color (required when it failed)
#   BASE_REF          commit before the change (default HEAD^; an unknown or all-zero commit falls back to
#                     HEAD^, and to "every tenant file" on a first commit)
#   HEAD_REF          commit that was applied (default HEAD)
#   TENANTS          space-separated subdomains to report instead of the changed tenant files
#   TENANTS_DIR       folder of tenant root modules (default tenants)
#   APPLY_RESULTS     file of "<subdomain> <exit status>" lines, one per tenant root applied
#                     (scripts/terraform-apply.sh writes it): 0 is ready whatever the others did
#   TERRAFORM         Terraform command (default terraform), used for `state list` after a failure
#   RUN_URL           link to the CI run, passed on to the bridge
#   BRIDGE_RETRIES    retries of a notice on connection errors, timeouts, 408, 429 and 5xx (default 10;
#                     waits of 1, 2, 4, ... up to 30 s between them)
#   BRIDGE_RETRY_WINDOW  seconds from the start in which notices are retried (default 300): a bridge that
#                     restarts or deploys is waited for; one that stays down costs this long once, after
#                     which every remaining notice is tried once
#
# The tenants are those whose root module <TENANTS_DIR>/<subdomain>/ (main.tf holding
# module "orchestra-<subdomain>") had a file added or modified between BASE_REF and HEAD_REF, or whose
# file <TENANTS_DIR>/<subdomain>.tf of the older single root was (deleted files are skipped). When the
# apply succeeded every one is ready. When a root applied cleanly (APPLY_RESULTS) it is ready. Else
# a tenant is
#   failed  if an error names its module (module.orchestra-<subdomain>, or its file), with that error;
#   ready   if the log shows its database was created or modified, or it is in the state and the plan
#           succeeded without touching it;
#   failed  otherwise, with the end of the log.
# Bodies: ready gets JSON {"commit", "run_url"}; failed gets plain text (the tenant, commit, CI run and the
# error), which the bridge keeps as the failure report.
# Exit status: 0 when the bridge accepted every notice (a 404, a tenant the bridge does not know, is only
# a warning), 1 when a notice could not be delivered (after its retries: the CI job must go red, so that
# someone re-runs it), 2 for a usage error.
set -euo pipefail

die() { echo "notify-bridge: error: $*" >&2; exit 2; }

: "${BRIDGE_URL:?set BRIDGE_URL to the base URL of stagesub-bridge, e.g. https://bridge.example.org}"
: "${BRIDGE_API_TOKEN:?set BRIDGE_API_TOKEN to the bridge API token (the BRIDGE_API_TOKEN secret)}"
: "${APPLY_EXIT_CODE:?set APPLY_EXIT_CODE to the exit status of terraform apply}"
[[ $APPLY_EXIT_CODE =~ ^[0-9]+$ ]] || die "APPLY_EXIT_CODE must be a number, got '$APPLY_EXIT_CODE'"
TENANTS_DIR=${TENANTS_DIR:-tenants}
TERRAFORM=${TERRAFORM:-terraform}
HEAD_REF=${HEAD_REF:-HEAD}
APPLY_LOG=${APPLY_LOG:-}
if [ "$APPLY_EXIT_CODE" != 0 ]; then
  [ -n "$APPLY_LOG" ] && [ -f "$APPLY_LOG" ] || die "APPLY_LOG must name the file with the failed apply's output"
fi
BRIDGE_URL=${BRIDGE_URL%/}
BRIDGE_RETRIES=${BRIDGE_RETRIES:-10}
[[ $BRIDGE_RETRIES =~ ^[0-9]+$ ]] || die "BRIDGE_RETRIES must be a number, got '$BRIDGE_RETRIES'"
BRIDGE_RETRY_WINDOW=${BRIDGE_RETRY_WINDOW:-300}
[[ $BRIDGE_RETRY_WINDOW =~ ^[0-9]+$ ]] || die "BRIDGE_RETRY_WINDOW must be a number of seconds, got '$BRIDGE_RETRY_WINDOW'"
retry_deadline=$((SECONDS + BRIDGE_RETRY_WINDOW))

subdomain_re='^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$'
commit=$(git rev-parse --verify --quiet "$HEAD_REF^{commit}") || die "HEAD_REF '$HEAD_REF' is not a commit"

# --- Which tenants this change touched ------------------------------------------------------------

changed_tenants() {
  local base=${BASE_REF:-}
  if [ -z "$base" ] || [[ $base =~ ^0+$ ]] || ! git rev-parse --verify --quiet "$base^{commit}" >/dev/null; then
    base=$(git rev-parse --verify --quiet "$commit^" || true)
  fi
  local files
  if [ -n "$base" ]; then
    files=$(git diff --name-only --diff-filter=d "$base" "$commit" -- "$TENANTS_DIR/")
  else
    files=$(git ls-tree --name-only "$commit" -- "$TENANTS_DIR/")
  fi
  local file sub content dir=${TENANTS_DIR%/}
  for file in $files; do
    if [ "$(dirname "$file")" = "$dir" ]; then
      # The single root module (the layout before one root per tenant): <dir>/<sub>.tf.
      sub=$(basename "$file" .tf)
      [ "$sub.tf" = "$(basename "$file")" ] || continue
    elif [ "$(dirname "$(dirname "$file")")" = "$dir" ]; then
      # A tenant's own root module: any file of <dir>/<sub>/ counts; main.tf holds the module.
      sub=$(basename "$(dirname "$file")")
      file="$dir/$sub/main.tf"
    else
      continue
    fi
    # Only tenant files: providers.tf and friends hold no module "orchestra-<subdomain>".
    # (Read whole, not piped: grep -q closing the pipe early would fail git show under pipefail.)
    content=$(git show "$commit:$file" 2>/dev/null) || continue
    grep -Eq "^module \"orchestra-$sub\"" <<<"$content" || continue
    echo "$sub"
  done | awk '!seen[$0]++'
}

if [ -n "${TENANTS:-}" ]; then
  tenants=$TENANTS
else
  tenants=$(changed_tenants)
fi
if [ -z "$tenants" ]; then
  echo "notify-bridge: no tenant file changed; nothing to report"
  exit 0
fi

# --- Reading the failed apply ----------------------------------------------------------------------

# Terraform -no-color diagnostics: a line "Error: <summary>" followed by its detail up to the next
# diagnostic. Prints every error block that mentions the tenant's module or file.
tenant_errors() {
  local sub=$1
  awk -v pattern="module[.]orchestra-$sub([^a-z0-9-]|\$)|module \"orchestra-$sub\"|(^|[ /])${sub}[.]tf line" '
    function flush() { if (is_error && block ~ pattern) printf "%s\n", block; block = ""; is_error = 0 }
    /^(Error|Warning): / { flush(); is_error = ($0 ~ /^Error: /) }
    { if (is_error) block = block $0 "\n" }
    END { flush() }
  ' "$APPLY_LOG"
}

state_list=""
state_listed=0
# in_state SUB ADDRESS: whether the address is in the tenant's state (its own root's, or the single
# root's in the old layout).
in_state() {
  if [ -f "$TENANTS_DIR/$1/main.tf" ]; then
    "$TERRAFORM" -chdir="$TENANTS_DIR/$1" state list 2>/dev/null | grep -Fqx "$2"
    return
  fi
  if [ "$state_listed" = 0 ]; then
    state_list=$("$TERRAFORM" -chdir="$TENANTS_DIR" state list 2>/dev/null || true)
    state_listed=1
  fi
  grep -Fqx "$2" <<<"$state_list"
}

# The exit status terraform-apply.sh recorded for the tenant's root ($APPLY_RESULTS: "<sub> <code>"
# lines), or nothing.
tenant_result() {
  [ -n "${APPLY_RESULTS:-}" ] && [ -f "$APPLY_RESULTS" ] || return 0
  awk -v sub_="$1" '$1 == sub_ { code = $2 } END { if (code != "") print code }' "$APPLY_RESULTS"
}

# --- Talking to the bridge -------------------------------------------------------------------------

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
# The token goes to curl through a file so that it never appears in a process list or log.
(umask 077 && printf 'Authorization: Bearer %s\n' "$BRIDGE_API_TOKEN" >"$workdir/auth")

undelivered=0
notify() {
  local sub=$1 outcome=$2 error=${3:-}
  # ready: a small JSON record. failed: plain text, which the bridge stores as the failure report and
  # mails to the admin as it is (so it stays readable), cut to the last 4000 characters of the error.
  local content_type
  if [ "$outcome" = ready ]; then
    content_type=application/json
    python3 - "$commit" "${RUN_URL:-}" >"$workdir/body" <<'PY'
import json, sys
commit, run_url = sys.argv[1:3]
body = {"commit": commit}
if run_url:
    body["run_url"] = run_url
print(json.dumps(body))
PY
  else
    content_type="text/plain; charset=utf-8"
    {
      printf 'terraform apply failed for %s at commit %s\n' "$sub" "$commit"
      [ -z "${RUN_URL:-}" ] || printf 'CI run: %s\n' "$RUN_URL"
      printf '\n%s\n' "$(printf '%s' "$error" | tail -c 4000)"
    } >"$workdir/body"
  fi
  local status retries=0 delay=1
  while :; do
    : >"$workdir/response"
    status=$(curl --silent --show-error --connect-timeout 10 --max-time 30 \
      --header @"$workdir/auth" --header "Content-Type: $content_type" \
      --data-binary @"$workdir/body" --output "$workdir/response" --write-out '%{http_code}' \
      "$BRIDGE_URL/api/tenants/$sub/$outcome" 2>"$workdir/curl.err") || status=000
    # Retried: no answer at all (refused, DNS, timeout: 000), 408, 429 and 5xx. Anything else is final.
    case $status in 000 | 408 | 429 | 5??) ;; *) break ;; esac
    [ "$retries" -lt "$BRIDGE_RETRIES" ] && [ $((SECONDS + delay)) -le "$retry_deadline" ] || break
    retries=$((retries + 1))
    echo "notify-bridge: $sub: $outcome not delivered (HTTP $status$([ "$status" != 000 ] || printf ': %s' "$(head -c 200 "$workdir/curl.err")")); retry $retries in ${delay}s" >&2
    sleep "$delay"
    delay=$((delay * 2 > 30 ? 30 : delay * 2))
  done
  case $status in
    2??) echo "notify-bridge: $sub: $outcome (HTTP $status)" ;;
    404)
      echo "notify-bridge: warning: $sub: the bridge does not know this tenant (HTTP 404; a tenant file written by hand?)" >&2
      ;;
    *)
      echo "notify-bridge: error: $sub: could not report $outcome (HTTP $status) after $retries retries: $(head -c 500 "$workdir/response" 2>/dev/null)$(head -c 200 "$workdir/curl.err" 2>/dev/null)" >&2
      undelivered=$((undelivered + 1))
      ;;
  esac
}

for sub in $tenants; do
  if ! [[ $sub =~ $subdomain_re ]]; then
    echo "notify-bridge: warning: skipping '$sub': not a valid subdomain" >&2
    continue
  fi
  addr="module.orchestra-$sub.stagesub_orchestra_database.this"
  if [ "$APPLY_EXIT_CODE" = 0 ]; then
    notify "$sub" ready
    continue
  fi
  errors=$(tenant_errors "$sub")
  result=$(tenant_result "$sub")
  if [ "$result" = 0 ]; then
    # Its own root applied cleanly (another tenant's root failed).
    notify "$sub" ready
  elif [ -n "$errors" ]; then
    notify "$sub" failed "$errors"
  elif grep -Eq "^$addr: (Creation|Modifications) complete" "$APPLY_LOG"; then
    notify "$sub" ready
  elif grep -Eq '^(Plan: [0-9]+ to add|No changes\.)' "$APPLY_LOG" && ! grep -Fq "# $addr " "$APPLY_LOG" &&
    [ -z "$result" ] && in_state "$sub" "$addr"; then
    notify "$sub" ready
  else
    notify "$sub" failed "terraform apply failed before this orchestra's database was ready. End of the log:
$(tail -n 40 "$APPLY_LOG")"
  fi
done

if [ "$undelivered" -gt 0 ]; then
  echo "notify-bridge: $undelivered notice(s) were not delivered; re-run this job once the bridge is reachable (in the example workflow, the next successful run reports them too)" >&2
  exit 1
fi
