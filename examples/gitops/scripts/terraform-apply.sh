#!/usr/bin/env bash
# `terraform init` + `terraform apply` of the tenant root modules a change touched ($TENANTS, from
# scripts/changed-roots.sh), one after the other, each with its own state: one broken tenant does not
# stop the others. The output goes both to stdout (the job log) and to $APPLY_LOG (for
# scripts/notify-bridge.sh), each root's exit status to $APPLY_RESULTS ("<subdomain> <status>"), and
# the first non-zero status (else 0) as `exitcode=<n>` to $GITHUB_OUTPUT. This script itself exits 0
# once it has recorded the status, so that the workflow reports to the bridge before failing the job.
#
# A tenant whose file stagesub-bridge moved out of the older single root ($TENANTS_DIR/*.tf, one state
# for all) has its state moved first (scripts/split-state.sh SUBDOMAIN, inside this job's apply
# concurrency group), so that it is never created twice. Without $TENANTS, the single root
# $TENANTS_DIR itself is applied (the older layout).
#
# A cancelled job sends SIGINT (then SIGTERM) to this shell only, and kills what is left about
# 10 seconds later. The script passes the signal on to Terraform, which then stops starting new
# operations, saves the state and releases the state lock if it can do so within that time.
#
# Environment:
#   APPLY_LOG          file for the output (required)
#   GITHUB_OUTPUT      file the exit code is appended to (optional outside GitHub Actions)
#   TENANTS            space-separated subdomains whose roots to apply
#   APPLY_RESULTS      file for "<subdomain> <status>" lines (default $APPLY_LOG.results)
#   TENANTS_DIR        folder of the tenant root modules (default tenants)
#   TERRAFORM          Terraform command (default terraform)
#   TF_LOCK_TIMEOUT    how long apply waits for a state lock held by someone else (default 10m)
set -uo pipefail

: "${APPLY_LOG:?set APPLY_LOG to the file that receives the output}"
TENANTS_DIR=${TENANTS_DIR:-tenants}
TENANTS_DIR=${TENANTS_DIR%/}
TERRAFORM=${TERRAFORM:-terraform}
TF_LOCK_TIMEOUT=${TF_LOCK_TIMEOUT:-10m}
APPLY_RESULTS=${APPLY_RESULTS:-$APPLY_LOG.results}
here=$(cd "$(dirname "$0")" && pwd)
: >"$APPLY_LOG" || exit 2
: >"$APPLY_RESULTS" || exit 2

tf_pid=""
stopping=0
# Passed on once: a second interrupt would make Terraform abandon its work without saving the state.
# shellcheck disable=SC2329 # invoked by the trap below
forward() {
  if [[ $stopping == 0 && -n $tf_pid ]]; then
    stopping=1
    echo "terraform-apply: cancelled: asking Terraform to stop gracefully" | tee -a "$APPLY_LOG"
    kill -TERM "$tf_pid" 2>/dev/null || true
  fi
}
trap forward INT TERM

# run COMMAND ARGS...: one command in the background (so that the trap runs while it works), waiting
# until it has really exited.
run() {
  "$@" > >(tee -a "$APPLY_LOG") 2>&1 &
  tf_pid=$!
  local status
  while :; do
    wait "$tf_pid"
    status=$?
    # wait returns early (status > 128) when a trapped signal arrives; Terraform is still working.
    kill -0 "$tf_pid" 2>/dev/null || break
  done
  tf_pid=""
  return "$status"
}

status=0
if [[ -z ${TENANTS:-} ]]; then
  run "$TERRAFORM" -chdir="$TENANTS_DIR" init -input=false -no-color || status=$?
  if [[ $status == 0 && $stopping == 0 ]]; then
    run "$TERRAFORM" -chdir="$TENANTS_DIR" apply -input=false -no-color -auto-approve -lock-timeout="$TF_LOCK_TIMEOUT" || status=$?
  fi
else
  legacy=0
  compgen -G "$TENANTS_DIR/*.tf" >/dev/null && legacy=1
  for sub in $TENANTS; do
    [[ $stopping == 0 ]] || break
    echo "terraform-apply: === tenant root $TENANTS_DIR/$sub/ ===" | tee -a "$APPLY_LOG"
    one=0
    if [[ $legacy == 1 ]]; then
      # Moved out of the single root by the bridge: its state moves too (no-op when it is not there).
      run env VERIFY=0 "$here/split-state.sh" "$sub" || one=$?
    fi
    [[ $one != 0 || $stopping != 0 ]] || run "$here/tenant-root.sh" "$sub" -no-color || one=$?
    if [[ $one == 0 && $stopping == 0 ]]; then
      run "$TERRAFORM" -chdir="$TENANTS_DIR/$sub" apply -input=false -no-color -auto-approve -lock-timeout="$TF_LOCK_TIMEOUT" || one=$?
    fi
    if [[ $stopping == 1 && $one == 0 ]]; then one=130; fi
    echo "$sub $one" >>"$APPLY_RESULTS"
    if [[ $one != 0 && $status == 0 ]]; then status=$one; fi
  done
fi
if [[ $stopping == 1 && $status == 0 ]]; then status=130; fi
# Let tee flush the end of the log before notify-bridge.sh reads it.
wait 2>/dev/null
if [[ -n ${GITHUB_OUTPUT:-} ]]; then echo "exitcode=$status" >>"$GITHUB_OUTPUT"; fi
echo "terraform-apply: exit status $status"
exit 0
