#!/usr/bin/env bash
# `terraform init` + `terraform apply` of the tenants for CI, with the output both on stdout (the job
# log) and in $APPLY_LOG (for scripts/notify-bridge.sh), and the exit status recorded as
# `exitcode=<n>` in $GITHUB_OUTPUT. This script itself exits 0 once it has recorded the status, so that
# the workflow reports to the bridge before failing the job.
#
# A cancelled job sends SIGINT (then SIGTERM) to this shell only, and kills what is left about
# 10 seconds later. The script passes the signal on to Terraform, which then stops starting new
# operations, saves the state and releases the state lock if it can do so within that time.
#
# Environment:
#   APPLY_LOG          file for the output (required)
#   GITHUB_OUTPUT      file the exit code is appended to (optional outside GitHub Actions)
#   TENANTS_DIR        the root module (default tenants)
#   TERRAFORM          Terraform command (default terraform)
#   TF_LOCK_TIMEOUT    how long apply waits for a state lock held by someone else (default 10m)
set -uo pipefail

: "${APPLY_LOG:?set APPLY_LOG to the file that receives the output}"
TENANTS_DIR=${TENANTS_DIR:-tenants}
TERRAFORM=${TERRAFORM:-terraform}
TF_LOCK_TIMEOUT=${TF_LOCK_TIMEOUT:-10m}
: >"$APPLY_LOG" || exit 2

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

# run ARGS...: one Terraform command in the background (so that the trap runs while it works),
# waiting until it has really exited.
run() {
  "$TERRAFORM" -chdir="$TENANTS_DIR" "$@" > >(tee -a "$APPLY_LOG") 2>&1 &
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
run init -input=false -no-color || status=$?
if [[ $status == 0 && $stopping == 0 ]]; then
  run apply -input=false -no-color -auto-approve -lock-timeout="$TF_LOCK_TIMEOUT" || status=$?
fi
if [[ $stopping == 1 && $status == 0 ]]; then status=130; fi
# Let tee flush the end of the log before notify-bridge.sh reads it.
wait 2>/dev/null
if [[ -n ${GITHUB_OUTPUT:-} ]]; then echo "exitcode=$status" >>"$GITHUB_OUTPUT"; fi
echo "terraform-apply: exit status $status"
exit 0
