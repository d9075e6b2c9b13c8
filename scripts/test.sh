#!/usr/bin/env bash
# THE test command for stagesub (the README and .ci/run call it). From a fresh clone it:
#   1. installs the test tools            scripts/setup-tools.sh  (then sources .tools/env.sh)
#   2. finds or starts PostgreSQL          scripts/ensure-postgres.sh  (sets DATABASE_URL)
#   3. cargo fmt --all --check
#   4. cargo build --workspace --bins      (acceptance tests run these binaries)
#   5. cargo clippy --workspace --all-targets -- -D warnings
#   6. cargo run -p stagesub-proto-codegen -- --check   (committed generated protocol code is current)
#   7. scripts/check-docs.sh               (generated-docs staleness check, when the script exists)
#   8. python3 -m unittest discover -s scripts/tests   (docs generator, module, examples, release scripts)
#   9. scripts/fuzz.sh --ci              (each fuzz target in fuzz/: the committed corpus, then a fixed
#                                          number of executions from a fixed seed; a crash fails it)
#  10. cargo nextest run --workspace --no-fail-fast   (extra arguments go to nextest, e.g. `-E 'test(x)'`)
# Every step runs even when an earlier check step failed (tools, Postgres and the build are needed by
# later steps, so their failure stops the run); the exit status is non-zero when any step failed.
# Each step prints its duration; the last line is `tests: N passed, M failed`.
# STAGESUB_SKIP="fmt clippy docs" skips those check steps (for quick local runs; CI skips nothing).
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
RUN_START=$(date +%s)
FAILED=()
SKIP=" ${STAGESUB_SKIP:-} "

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
banner() { printf '\n==> [%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# step NAME CRITICAL COMMAND...: runs a step, prints its duration, records a failure.
step() {
  local name=$1 critical=$2 start status
  shift 2
  if [[ "$SKIP" == *" $name "* ]]; then banner "$name: skipped (STAGESUB_SKIP)"; return 0; fi
  banner "$name: $*"
  start=$(now)
  "$@"
  status=$?
  if [[ $status -eq 0 ]]; then
    printf '==> %s ok (%s)\n' "$name" "$(elapsed "$start")"
  else
    printf '==> %s FAILED with status %s (%s)\n' "$name" "$status" "$(elapsed "$start")"
    FAILED+=("$name")
    if [[ "$critical" == critical ]]; then
      printf 'test.sh: cannot go on without %s\n' "$name"
      exit 1
    fi
  fi
}

postgres() {
  local exports
  exports=$(bash "$REPO/scripts/ensure-postgres.sh") || return 1
  eval "$exports"
  export DATABASE_URL
}

step setup-tools critical bash "$REPO/scripts/setup-tools.sh"
# shellcheck source=/dev/null
source "${STAGESUB_TOOLS_DIR:-$REPO/.tools}/env.sh"
step postgres critical postgres
step fmt check cargo fmt --all --check -- --color never
step build critical cargo build --workspace --bins
step clippy check cargo clippy --workspace --all-targets -- -D warnings
step proto check cargo run --quiet -p stagesub-proto-codegen -- --check
if [[ -x "$REPO/scripts/check-docs.sh" || -f "$REPO/scripts/check-docs.sh" ]]; then
  step docs check bash "$REPO/scripts/check-docs.sh"
fi

PY_LOG=$(mktemp)
py_tests() { python3 -m unittest discover -s "$REPO/scripts/tests" 2>&1 | tee "$PY_LOG"; return "${PIPESTATUS[0]}"; }
step python check py_tests
py_ran=$(grep -oE '^Ran [0-9]+ tests?' "$PY_LOG" | grep -oE '[0-9]+' || echo 0)
py_failed=$(grep -oE '(failures|errors)=[0-9]+' "$PY_LOG" | awk -F= '{ n += $2 } END { print n + 0 }')
rm -f "$PY_LOG"

step fuzz check bash "$REPO/scripts/fuzz.sh" --ci

NEXTEST_LOG=$(mktemp)
profile=default
[[ "${CI:-}" == true ]] && profile=ci
banner "tests: cargo nextest run --workspace --no-fail-fast --profile $profile $*"
tests_start=$(now)
cargo nextest run --workspace --no-fail-fast --profile "$profile" "$@" 2>&1 | tee "$NEXTEST_LOG"
tests_status=${PIPESTATUS[0]}
[[ $tests_status -eq 0 ]] || FAILED+=(tests)
printf '==> tests finished with status %s (%s)\n' "$tests_status" "$(elapsed "$tests_start")"

total=$(( $(date +%s) - RUN_START ))
if [[ ${#FAILED[@]} -gt 0 ]]; then
  printf 'test.sh: FAILED steps: %s (total %ss)\n' "${FAILED[*]}" "$total"
else
  printf 'test.sh: all steps passed (total %ss)\n' "$total"
fi

# A plain closing line from nextest's summary, e.g. "Summary [ 12.3s] 10 tests run: 9 passed, 1 failed, 0 skipped".
summary=$(grep -E 'Summary \[' "$NEXTEST_LOG" | tail -n1 | sed 's/\x1b\[[0-9;]*m//g')
rm -f "$NEXTEST_LOG"
passed=$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '[0-9]+' || echo 0)
failed=0
for kind in failed timed\ out; do
  n=$(grep -oE "[0-9]+ $kind" <<<"$summary" | grep -oE '^[0-9]+' || true)
  failed=$((failed + ${n:-0}))
done
[[ $tests_status -ne 0 && $failed -eq 0 && -z "$summary" ]] && failed=1
passed=$(( ${passed:-0} + ${py_ran:-0} - ${py_failed:-0} ))
failed=$(( failed + ${py_failed:-0} ))
echo "tests: ${passed} passed, $failed failed"
[[ ${#FAILED[@]} -eq 0 ]]
