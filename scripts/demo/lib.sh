# Functions of scripts/demo.sh (sourced; reads its variables: REPO, TOOLS, BIN, STATE, LOGS, backend,
# subdomain, orchestra_name, contact_email, plan, keep_running, BRIDGE_DB).
# shellcheck shell=bash

# --- output: steps, details, timings, failures ------------------------------------------------------

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
DEMO_START=$(now)
STEP_N=0
STEP_OPEN=0
DETAILS=()

step() {
  STEP_N=$((STEP_N + 1))
  STEP_START=$(now)
  STEP_OPEN=1
  DETAILS=()
  printf '[%d/%d] %s ...' "$STEP_N" "$STEPS" "$1"
}

detail() { DETAILS+=("$1"); }

# Each line of stdin as a detail.
details_from() {
  local line
  while IFS= read -r line; do DETAILS+=("$line"); done
}

ok() {
  printf ' ok (%s)\n' "$(since "$STEP_START")"
  STEP_OPEN=0
  local line
  for line in "${DETAILS[@]+"${DETAILS[@]}"}"; do printf '      %s\n' "$line"; done
  DETAILS=()
}

redact() { sed -E 's#(://[^:/@ ]*):[^@ ]*@#\1:***@#g; s#(whsec_|sbp_)[A-Za-z0-9]+#\1***#g'; }
redact_url() { printf '%s' "$1" | redact; }

# fail MESSAGE [LOG]: ends the run, naming what failed and showing the end of its log.
fail() {
  if [[ $STEP_OPEN == 1 ]]; then printf ' FAILED (%s)\n' "$(since "$STEP_START")"; fi
  STEP_OPEN=0
  local line
  for line in "${DETAILS[@]+"${DETAILS[@]}"}"; do printf '      %s\n' "$line"; done
  printf 'demo: error: %s\n' "$1" >&2
  if [[ -n ${2:-} && -f $2 ]]; then
    printf -- '--- last lines of %s ---\n' "$2" >&2
    tail -n 30 "$2" | redact >&2
    printf -- '---\n' >&2
  fi
  exit 1
}

on_err() {
  [[ $BASHPID == "$$" ]] || return 0
  fail "unexpected failure (line $1: $2); logs are in $LOGS"
}
set -E
trap 'on_err $LINENO "$BASH_COMMAND"' ERR

rand_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

# url_with_db URL DBNAME: the same server and user, another database.
url_with_db() {
  python3 -c 'import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$1" "$2"
}

# --- background processes ------------------------------------------------------------------------------
# Each runs in its own session (setsid) with its output in logs/<name>.log; its pid is in <name>.pid.

pid_file() { printf '%s/%s.pid' "$STATE" "$1"; }

# running NAME BINARY: prints the pid when NAME's recorded process is alive and runs BINARY.
running() {
  local pid
  pid=$(cat "$(pid_file "$1")" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # Read whole, not piped into grep -q (which may close the pipe before tr is done).
  [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *"$2"* ]] || return 1
  printf '%s' "$pid"
}

# fresh_log NAME: keeps the previous run's log as NAME.previous.log, so that start-up waits read
# only this run's lines.
fresh_log() {
  if [[ -f $LOGS/$1.log ]]; then mv -f "$LOGS/$1.log" "$LOGS/$1.previous.log"; fi
  : >"$LOGS/$1.log"
}

# start_daemon NAME COMMAND...: starts it in its own session (environment as the caller's).
start_daemon() {
  local name=$1
  shift
  fresh_log "$name"
  setsid "$@" </dev/null >>"$LOGS/$name.log" 2>&1 &
  echo $! >"$(pid_file "$name")"
}

# stop_daemon NAME BINARY: SIGTERM to its session, SIGKILL after 20 s.
stop_daemon() {
  local pid i
  pid=$(running "$1" "$2") || { rm -f "$(pid_file "$1")"; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$(pid_file "$1")"
  return 0
}

# wait_for_line NAME REGEX SECONDS: sets WAIT_LINE to the first log line of NAME matching REGEX.
wait_for_line() {
  local name=$1 regex=$2 seconds=$3 i line
  for ((i = 0; i < seconds * 10; i++)); do
    line=$(sed 's/\x1b\[[0-9;]*m//g' "$LOGS/$name.log" 2>/dev/null | grep -Em1 "$regex" || true)
    if [[ -n $line ]]; then WAIT_LINE=$line; return 0; fi
    # Only liveness: right after the fork the command line is still the shell's.
    kill -0 "$(cat "$(pid_file "$name")")" 2>/dev/null || fail "$name exited during start-up" "$LOGS/$name.log"
    sleep 0.1
  done
  fail "$name did not start within ${seconds}s" "$LOGS/$name.log"
}

# --- services ------------------------------------------------------------------------------------------

standin_token() {
  local file="$STATE/standin.token"
  [[ -s $file ]] || (umask 077 && printf 'sbp_%s' "$(rand_hex 20)" >"$file")
  cat "$file"
}

standin_answers() {
  curl -fsS --max-time 5 -o /dev/null -H "@$STATE/standin.auth" "http://127.0.0.1:$1/v1/organizations" 2>/dev/null
}

start_standin() {
  local token pid port line
  token=$(standin_token)
  (umask 077 && printf 'Authorization: Bearer %s\n' "$token" >"$STATE/standin.auth")
  port=$(cat "$STATE/standin.port" 2>/dev/null || true)
  if pid=$(running standin supabase-standin) && [[ -n $port ]] && standin_answers "$port"; then
    STANDIN_PORT=$port
    detail "already running (pid $pid): http://127.0.0.1:$port"
    return
  fi
  stop_daemon standin supabase-standin
  fresh_log standin
  (
    export DATABASE_URL STANDIN_TOKEN="$token"
    exec setsid "$BIN/supabase-standin" --listen 127.0.0.1:0 --healthy-after-ms 500 --pooler-lag-ms 200 \
      </dev/null >>"$LOGS/standin.log" 2>&1
  ) &
  echo $! >"$(pid_file standin)"
  wait_for_line standin 'listening on http://' 30
  port=${WAIT_LINE##*:}
  port=${port//[^0-9]/}
  standin_answers "$port" || fail "the Supabase stand-in does not answer on port $port" "$LOGS/standin.log"
  echo "$port" >"$STATE/standin.port"
  STANDIN_PORT=$port
  detail "started (pid $(cat "$(pid_file standin)")): http://127.0.0.1:$port, log $LOGS/standin.log"
  if compgen -G "$STATE/infra/tenants/*/terraform.tfstate" >/dev/null; then
    detail "a new stand-in knows no earlier projects: Terraform will create them again"
  fi
}

start_smtp_sink() {
  local line
  stop_daemon smtp-sink smtp-sink
  MAILDIR="$STATE/mail/$(date +%Y%m%d-%H%M%S)-$$"
  mkdir -p "$MAILDIR"
  start_daemon smtp-sink "$TOOLS/bin/smtp-sink" --dir "$MAILDIR" --host 127.0.0.1 --port 0
  wait_for_line smtp-sink '^listening ' 30
  SMTP_PORT=${WAIT_LINE##*:}
  detail "smtp://127.0.0.1:$SMTP_PORT, messages in $MAILDIR"
}

# The infra repository: a bare repository (the "GitHub" of this demo) and a working clone used as
# the reviewer's and CI's checkout. The template is examples/gitops without its sample tenant.
ensure_infra_repo() {
  INFRA_GIT="$STATE/infra.git"
  INFRA="$STATE/infra"
  FRESH_REPO=0
  if ! git --git-dir="$INFRA_GIT" rev-parse -q --verify refs/heads/main >/dev/null 2>&1; then
    rm -rf "$INFRA_GIT" "$INFRA" "$STATE/bridge-git"
    git init -q --bare -b main "$INFRA_GIT"
    FRESH_REPO=1
  fi
  if [[ ! -d $INFRA/.git ]]; then
    rm -rf "$INFRA"
    git clone -q "file://$INFRA_GIT" "$INFRA" 2>"$LOGS/git.log" || fail "git clone of $INFRA_GIT failed" "$LOGS/git.log"
  fi
  printf '%s\n' .terraform/ '*.tfstate' '*.tfstate.*' .terraform.lock.hcl '*.log' >"$INFRA/.git/info/exclude"
  infra_git fetch -q --prune origin
  if infra_git rev-parse -q --verify refs/remotes/origin/main >/dev/null; then
    infra_git checkout -q -B main refs/remotes/origin/main
  else
    infra_git checkout -q --orphan main 2>/dev/null || true
  fi
  # Copy the template (tenant files aside: the bridge writes those).
  tar -C "$REPO/examples/gitops" --exclude=.terraform --exclude='*.tfstate*' --exclude=.terraform.lock.hcl \
    --exclude='./tenants' -cf - . | tar -C "$INFRA" -xf -
  # One root module per tenant (tenants/<subdomain>/main.tf); the settings they share are in shared/.
  mkdir -p "$INFRA/tenants"
  infra_git add -A
  if ! infra_git diff --cached --quiet; then
    if [[ $FRESH_REPO == 1 ]]; then
      infra_git commit -q -m "Infra repository from stagesub examples/gitops"
    else
      infra_git commit -q -m "Update from stagesub examples/gitops"
      detail "template changed in examples/gitops: committed the update"
    fi
    infra_git push -q origin main 2>>"$LOGS/git.log" || fail "git push to $INFRA_GIT failed" "$LOGS/git.log"
  fi
  if [[ $FRESH_REPO == 1 ]]; then detail "created"; else detail "reused"; fi
  detail "GIT_REMOTE_URL=file://$INFRA_GIT (main at $(infra_git rev-parse --short HEAD))"
}

infra_git() {
  git -C "$INFRA" -c user.name="stagesub demo reviewer" -c user.email=reviewer@stagesub.invalid \
    -c init.defaultBranch=main -c advice.detachedHead=false "$@"
}

secrets() {
  local file="$STATE/secrets.env"
  if [[ ! -s $file ]]; then
    (umask 077 && printf 'STRIPE_WEBHOOK_SECRET=whsec_demo%s\nBRIDGE_API_TOKEN=%s\n' "$(rand_hex 16)" "$(rand_hex 24)" >"$file")
  fi
  # shellcheck disable=SC1090
  source "$file"
}

admin_psql() { psql "$DATABASE_URL" -XAtq -v ON_ERROR_STOP=1 "$@"; }

start_bridge() {
  local line addr exists i
  stop_daemon bridge stagesub-bridge
  secrets
  if [[ $FRESH_REPO == 1 ]]; then
    # A new infra repository: the bridge's memory of earlier tenants belongs to the old one.
    admin_psql -v db="$BRIDGE_DB" <<<'DROP DATABASE IF EXISTS :"db" WITH (FORCE)' >/dev/null 2>"$LOGS/psql.log" ||
      fail "cannot drop the old bridge database $BRIDGE_DB" "$LOGS/psql.log"
  fi
  exists=$(admin_psql -v db="$BRIDGE_DB" <<<"SELECT 1 FROM pg_database WHERE datname = :'db'")
  if [[ -z $exists ]]; then
    admin_psql -v db="$BRIDGE_DB" <<<'CREATE DATABASE :"db"' 2>"$LOGS/psql.log" ||
      fail "cannot create the bridge database $BRIDGE_DB" "$LOGS/psql.log"
  fi
  BRIDGE_DATABASE_URL=$(url_with_db "$DATABASE_URL" "$BRIDGE_DB")
  fresh_log bridge
  (
    # Only what the bridge needs: nothing from the caller's environment leaks into its configuration.
    for v in $(compgen -e); do
      case $v in PATH | HOME | LANG | LC_* | TMPDIR | TZ) ;; *) unset "$v" ;; esac
    done
    export NO_COLOR=1 RUST_LOG=info STRIPE_WEBHOOK_SECRET BRIDGE_API_TOKEN \
      DATABASE_URL="$BRIDGE_DATABASE_URL" BIND_ADDR=127.0.0.1:0 \
      GIT_BACKEND=git GIT_REMOTE_URL="file://$INFRA_GIT" GIT_WORK_DIR="$STATE/bridge-git" \
      GIT_BASE_BRANCH=main COMMIT_MODE=pull_request \
      SMTP_URL="smtp://127.0.0.1:$SMTP_PORT" EMAIL_FROM="stagesub <welcome@stagesub.example>" \
      ADMIN_EMAIL="admin@stagesub.example" APP_DOMAIN=stagesub.app
    exec setsid "$BIN/stagesub-bridge" serve </dev/null >>"$LOGS/bridge.log" 2>&1
  ) &
  echo $! >"$(pid_file bridge)"
  wait_for_line bridge 'stagesub-bridge listening' 60
  addr=""
  if [[ $WAIT_LINE =~ 127\.0\.0\.1:[0-9]+ ]]; then addr=${BASH_REMATCH[0]}; fi
  [[ -n $addr ]] || fail "cannot read the bridge's address from its log" "$LOGS/bridge.log"
  BRIDGE_URL="http://$addr"
  for ((i = 0; i < 300; i++)); do
    curl -fsS --max-time 2 -o /dev/null "$BRIDGE_URL/readyz" 2>/dev/null && break
    running bridge stagesub-bridge >/dev/null || fail "stagesub-bridge exited" "$LOGS/bridge.log"
    sleep 0.1
  done
  curl -fsS --max-time 2 -o /dev/null "$BRIDGE_URL/readyz" 2>/dev/null || fail "the bridge's /readyz does not answer" "$LOGS/bridge.log"
  detail "$BRIDGE_URL (pid $(cat "$(pid_file bridge)"), database $BRIDGE_DB, log $LOGS/bridge.log)"
}

bridge_psql() { psql "$BRIDGE_DATABASE_URL" -XAtq -F '|' -v ON_ERROR_STOP=1 "$@"; }

# publish_job_row SUBDOMAIN: the newest publish job of the tenant as one JSON object (not psql's
# '|'-separated columns: a reason or an error may hold '|', or be empty), or nothing.
publish_job_row() {
  bridge_psql -v sub="$1" <<<"SELECT json_build_object('done', done_at IS NOT NULL,
    'parked_reason', parked_reason, 'last_error', last_error)
    FROM jobs WHERE kind = 'publish' AND subject = :'sub' ORDER BY id DESC LIMIT 1"
}

# publish_job_state JSON: reads a publish job as {"done", "parked_reason", "last_error"} (or nothing:
# no job yet) into JOB_STATE (done, parked or pending) and JOB_DETAIL (the reason it was parked, or
# the last error of a pending job; may be empty). A job is parked only when parked_reason is set.
publish_job_state() {
  local fields
  JOB_STATE=pending
  JOB_DETAIL=""
  [[ -n $1 ]] || return 0
  # Three lines: done, then whether it is parked, then the detail (newlines in it become spaces).
  fields=$(jq -r '(.done == true), (.parked_reason != null),
    ((if .parked_reason != null then .parked_reason else .last_error end) // "" | gsub("[\r\n]+"; " "))' <<<"$1") ||
    return 0
  local is_done is_parked detail
  # (An empty detail is an empty last line, which $(...) drops: that read meets the end.)
  { IFS= read -r is_done; IFS= read -r is_parked; IFS= read -r detail || true; } <<<"$fields"
  JOB_DETAIL=$detail
  if [[ $is_done == true ]]; then
    JOB_STATE=done
  elif [[ $is_parked == true ]]; then
    JOB_STATE=parked
  fi
}

send_checkout_event() {
  local out status i row outcome
  out=$(STRIPE_WEBHOOK_SECRET=$STRIPE_WEBHOOK_SECRET STAGESUB_TOOLS_DIR=$TOOLS node "$REPO/scripts/demo/send-event.js" \
    "$BRIDGE_URL/api/webhooks/stripe" "$subdomain" "$orchestra_name" "$contact_email" "$plan" 2>"$LOGS/send-event.log") ||
    { cat <<<"$out" >>"$LOGS/send-event.log"; fail "the bridge did not accept the event" "$LOGS/send-event.log"; }
  EVENT_ID=$(jq -r .event_id <<<"$out")
  status=$(jq -r .status <<<"$out")
  detail "POST $BRIDGE_URL/api/webhooks/stripe: $status $(jq -r .body <<<"$out")"
  detail "event $EVENT_ID, metadata {subdomain: $subdomain, orchestra_name: $orchestra_name, plan: $plan}, customer email $contact_email"
  for ((i = 0; i < 600; i++)); do
    outcome=$(bridge_psql -v id="$EVENT_ID" <<<"SELECT coalesce(outcome, '') FROM events WHERE id = :'id'")
    [[ -n $outcome ]] && break
    sleep 0.1
  done
  EVENT_OUTCOME=$outcome
  case $outcome in
    provisioned) detail "the bridge recorded it: provisioned (tenant file queued for publishing)" ;;
    unchanged) detail "the bridge recorded it: unchanged (the tenant already has these values: no new commit)" ;;
    "") fail "the bridge did not process event $EVENT_ID within 60s" "$LOGS/bridge.log" ;;
    *) fail "the bridge did not provision the tenant: $outcome (the admin was told by email)" "$LOGS/bridge.log" ;;
  esac
  [[ $outcome == provisioned ]] || return 0
  for ((i = 0; i < 900; i++)); do
    publish_job_state "$(publish_job_row "$subdomain")"
    case $JOB_STATE in
      done) break ;;
      parked) fail "the bridge parked publishing: $JOB_DETAIL" "$LOGS/bridge.log" ;;
    esac
    sleep 0.1
  done
  [[ $JOB_STATE == done ]] ||
    fail "the bridge did not publish the tenant file within 90s (last error: ${JOB_DETAIL:-none})" "$LOGS/bridge.log"
  detail "published: $(bridge_psql -v sub="$subdomain" <<<"SELECT 'commit ' || left(published_commit, 12) FROM tenants WHERE subdomain = :'sub'")"
}

merge_tenant_branch() {
  local branch="stagesub/$subdomain" file="tenants/$subdomain/main.tf" title line
  infra_git fetch -q --prune origin 2>>"$LOGS/git.log" || fail "git fetch from $INFRA_GIT failed" "$LOGS/git.log"
  infra_git checkout -q -B main refs/remotes/origin/main
  BASE_COMMIT=$(infra_git rev-parse HEAD)
  if infra_git rev-parse -q --verify "refs/remotes/origin/$branch" >/dev/null; then
    title=$(infra_git log -1 --format=%s "refs/remotes/origin/$branch")
    detail "pull request \"$title\" ($branch, $(infra_git rev-list --count "main..refs/remotes/origin/$branch") commit):"
    details_from < <(infra_git diff --stat "main...refs/remotes/origin/$branch" | sed 's/^ *//')
    infra_git merge -q --no-ff -m "Merge pull request from $branch

$title" "refs/remotes/origin/$branch" >>"$LOGS/git.log" 2>&1 || fail "merging $branch failed" "$LOGS/git.log"
    infra_git push -q origin main 2>>"$LOGS/git.log" || fail "pushing main failed" "$LOGS/git.log"
    infra_git push -q origin --delete "$branch" 2>>"$LOGS/git.log" || fail "deleting $branch failed" "$LOGS/git.log"
    detail "merged into main at $(infra_git rev-parse --short HEAD); branch deleted. $file:"
  else
    [[ -f $INFRA/$file ]] || fail "the bridge pushed no branch $branch and main has no $file (see the bridge log)" "$LOGS/bridge.log"
    detail "no open pull request: $file is already on main ($(infra_git log -1 --format=%h -- "$file"))"
  fi
  while IFS= read -r line; do detail "  | $line"; done <"$INFRA/$file"
}

write_cli_config() {
  DEMO_TFRC="$STATE/terraform.tfrc"
  cat >"$DEMO_TFRC" <<EOF
# Written by scripts/demo.sh: the provider built from this checkout instead of a release.
provider_installation {
  dev_overrides {
    "stagesub/stagesub" = "$BIN"
  }
  direct {}
}
EOF
}

# Runs Terraform in the tenant's root module (the infra checkout's tenants/<subdomain>/) with the
# provider's settings for the backend.
tf() {
  (
    for v in $(compgen -e); do
      case $v in SUPABASE_* | STAGESUB_BACKEND | STAGESUB_POSTGRES_URL | STAGESUB_DATABASE_CA_CERT | TF_*) unset "$v" ;; esac
    done
    export TF_CLI_CONFIG_FILE="$DEMO_TFRC" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
    if [[ $backend == supabase ]]; then
      export STAGESUB_BACKEND=supabase SUPABASE_API_URL="http://127.0.0.1:$STANDIN_PORT" \
        SUPABASE_ACCESS_TOKEN="$(standin_token)" SUPABASE_ORGANIZATION_SLUG=stagesub-demo
    else
      export STAGESUB_BACKEND=postgres STAGESUB_POSTGRES_URL="$DATABASE_URL"
    fi
    cd "$INFRA/tenants/$subdomain"
    exec timeout 900 "$TOOLS/bin/terraform" "$@"
  )
}

# tf_fail LOG MESSAGE: fails showing Terraform's error blocks (they may sit above the plan in the log).
tf_fail() {
  local errors="$LOGS/terraform-errors.log"
  grep -A14 '^Error: ' "$1" >"$errors" || tail -n 30 "$1" >"$errors"
  fail "$2 (full log: $1)" "$errors"
}

terraform_apply() {
  local log="$LOGS/terraform-apply.log"
  write_cli_config
  : >"$log"
  # The shared settings copied into the tenant's root, as CI does before init (scripts/tenant-root.sh).
  (cd "$INFRA" && bash scripts/tenant-root.sh --prepare "$subdomain") >>"$log" 2>&1 ||
    tf_fail "$log" "preparing tenants/$subdomain/ failed"
  tf get -no-color >>"$log" 2>&1 || tf_fail "$log" "terraform get failed"
  if ! tf apply -auto-approve -input=false -no-color >>"$log" 2>&1; then
    report_failed "$log"
    tf_fail "$log" "terraform apply failed (reported to the bridge's /failed endpoint, as CI does)"
  fi
  details_from < <(grep -E '^(No changes\.|Plan: |module\.[^ ]+: (Creation|Modifications|Destruction) complete|Apply complete!)' "$log")
  detail "log: $log"
}

bridge_auth_header() {
  (umask 077 && printf 'Authorization: Bearer %s\n' "$BRIDGE_API_TOKEN" >"$STATE/bridge.auth")
  printf '%s' "$STATE/bridge.auth"
}

# report_failed LOG: POST /api/tenants/<subdomain>/failed with Terraform's errors as a plain-text
# report, as the infra repository's CI (scripts/notify-bridge.sh) does. Best effort.
report_failed() {
  local auth commit
  auth=$(bridge_auth_header)
  commit=$(infra_git rev-parse HEAD)
  {
    printf 'terraform apply failed for %s at commit %s (scripts/demo.sh)\n\n' "$subdomain" "$commit"
    { grep -A14 '^Error: ' "$1" || tail -n 30 "$1"; } | tail -c 4000
  } | curl -sS --max-time 30 -o /dev/null -H "@$auth" -H 'Content-Type: text/plain; charset=utf-8' \
    --data-binary @- "$BRIDGE_URL/api/tenants/$subdomain/failed" >/dev/null 2>&1 || true
}

call_ready() {
  local auth body="$STATE/ready.json" status
  auth=$(bridge_auth_header)
  status=$(curl -sS --max-time 30 -o "$body" -w '%{http_code}' -H "@$auth" -H 'Content-Type: application/json' \
    --data "{\"commit\":\"$(infra_git rev-parse HEAD)\"}" "$BRIDGE_URL/api/tenants/$subdomain/ready" 2>"$LOGS/ready.log") || status=000
  [[ $status == 2?? ]] || { cat "$body" >>"$LOGS/ready.log" 2>/dev/null || true; fail "ready answered HTTP $status" "$LOGS/ready.log"; }
  FIRST_TIME=$(jq -r .first_time "$body")
  detail "HTTP $status $(cat "$body")"
}

# Prints a stored message: the main headers and the decoded text body.
print_mail() {
  python3 - "$1" <<'PY'
import email, email.policy, sys
with open(sys.argv[1], "rb") as f:
    msg = email.message_from_binary_file(f, policy=email.policy.default)
for name in ("From", "To", "Subject", "Date"):
    print(f"{name}: {msg[name]}")
print()
body = msg.get_body(preferencelist=("plain",))
print((body.get_content() if body else msg.get_content()).rstrip())
PY
}

# The newest message to the contact in DIR... (by file name), or nothing.
find_welcome() {
  python3 - "$contact_email" "$@" <<'PY'
import glob, json, os, sys
to, dirs = sys.argv[1], sys.argv[2:]
found = []
for d in dirs:
    for meta in glob.glob(os.path.join(d, "*.json")):
        with open(meta) as f:
            rcpt = json.load(f).get("rcpt_tos", [])
        if to in rcpt:
            found.append(meta[:-5] + ".eml")
found.sort(key=os.path.getmtime)
if found:
    print(found[-1])
PY
}

show_welcome_email() {
  local i mail earlier
  if [[ $FIRST_TIME == true ]]; then
    for ((i = 0; i < 600; i++)); do
      mail=$(find_welcome "$MAILDIR")
      [[ -n $mail ]] && break
      sleep 0.1
    done
    [[ -n $mail ]] || fail "no welcome email to $contact_email arrived within 60s" "$LOGS/bridge.log"
    detail "received by the SMTP sink: $mail"
    details_from < <(print_mail "$mail" | sed 's/^/  > /')
  else
    sleep 1
    [[ -z $(find_welcome "$MAILDIR") ]] || fail "the bridge sent a second welcome email to $contact_email" "$LOGS/bridge.log"
    detail "not sent again: the bridge welcomes each orchestra once (ready answered first_time: false)"
    earlier=$(find_welcome "$STATE"/mail/*/)
    if [[ -n $earlier ]]; then
      detail "the welcome sent on an earlier run: $earlier"
      details_from < <(print_mail "$earlier" | sed 's/^/  > /')
    fi
  fi
}

show_database() {
  local json url migrations addr="module.orchestra-$subdomain.stagesub_orchestra_database.this"
  json=$(tf show -json 2>"$LOGS/terraform-show.log") || fail "terraform show -json failed" "$LOGS/terraform-show.log"
  url=$(jq -r --arg a "$addr" '.values.root_module.child_modules[]?.resources[]? | select(.address == $a) | .values.database_url' <<<"$json")
  migrations=$(jq -r --arg a "$addr" '.values.root_module.child_modules[]?.resources[]? | select(.address == $a) | .values.applied_migrations | join(", ")' <<<"$json")
  [[ -n $url && $url != null ]] || fail "$addr has no database_url in the Terraform state" "$LOGS/terraform-apply.log"
  DATABASE_URL_TENANT=$url
  detail "applied migrations: $migrations"
  detail "connect (the URL is in the Terraform state, as module output database_url):"
  detail "  psql '$url'"
  detail "the seeded rows:"
  psql "$url" -X -v ON_ERROR_STOP=1 -P pager=off \
    -c 'SELECT subdomain, name, "contactEmail", plan FROM "Orchestra"' \
    -c 'SELECT title, "startsAt" FROM "Concert" ORDER BY id' >"$LOGS/psql-tenant.log" 2>&1 ||
    fail "querying the orchestra's database failed" "$LOGS/psql-tenant.log"
  details_from < <(sed 's/^/  /' "$LOGS/psql-tenant.log")
}

finish() {
  printf 'done in %s: "%s" has its database; re-run this command any time (it changes nothing), or pass another --subdomain.\n' \
    "$(since "$DEMO_START")" "$orchestra_name"
}

on_exit() {
  local status=$?
  trap - ERR
  if [[ $STEP_OPEN == 1 ]]; then printf ' interrupted (%s)\n' "$(since "$STEP_START")"; fi
  if [[ $keep_running == 1 ]]; then
    if [[ $status == 0 ]]; then
      printf 'still running (--keep-running): bridge %s, SMTP sink 127.0.0.1:%s%s\n' "${BRIDGE_URL:-}" "${SMTP_PORT:-}" \
        "$([[ $backend == supabase ]] && printf ', Supabase stand-in http://127.0.0.1:%s' "${STANDIN_PORT:-}")"
      printf 'stop them with: scripts/demo.sh --stop --backend %s\n' "$backend"
    fi
    return
  fi
  stop_daemon bridge stagesub-bridge
  stop_daemon smtp-sink smtp-sink
  if [[ $backend == supabase ]] && running standin supabase-standin >/dev/null; then
    printf 'the Supabase stand-in keeps running (pid %s) so that re-runs find their projects; stop it with: scripts/demo.sh --stop\n' \
      "$(cat "$(pid_file standin)")"
  fi
}

stop_all() {
  stop_daemon bridge stagesub-bridge
  stop_daemon smtp-sink smtp-sink
  stop_daemon standin supabase-standin
  printf 'demo: stopped the %s demo'"'"'s processes\n' "$backend"
}

# Drops what the demo created on the PostgreSQL server and removes the state folder.
reset_state() {
  local pairs db role
  if [[ -z ${DATABASE_URL:-} ]]; then
    eval "$("$REPO/scripts/ensure-postgres.sh" 2>/dev/null)" || true
  fi
  if [[ -n ${DATABASE_URL:-} ]]; then
    if [[ $backend == postgres ]] && compgen -G "$STATE/infra/tenants/*/terraform.tfstate" >/dev/null; then
      pairs=$(jq -r '.resources[]? | select(.type == "stagesub_orchestra_database") | .instances[]?.attributes
        | "\(.database_name) \(.database_user)"' "$STATE"/infra/tenants/*/terraform.tfstate)
      while read -r db role; do
        [[ -n $db ]] || continue
        admin_psql -v db="$db" -v role="$role" >/dev/null <<<'DROP DATABASE IF EXISTS :"db" WITH (FORCE);
DROP ROLE IF EXISTS :"role";' || printf 'demo: warning: could not drop %s\n' "$db" >&2
        printf 'demo: dropped database %s\n' "$db"
      done <<<"$pairs"
    fi
    admin_psql -v db="$BRIDGE_DB" <<<'DROP DATABASE IF EXISTS :"db" WITH (FORCE)' >/dev/null || true
  fi
  rm -rf "$STATE"
  printf 'demo: removed %s\n' "$STATE"
}
