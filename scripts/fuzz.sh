#!/usr/bin/env bash
# Builds and runs the coverage-guided fuzz targets in fuzz/ (libFuzzer through libfuzzer-sys) on the
# stable toolchain: no nightly and no cargo-fuzz needed, the instrumentation flags cargo-fuzz would
# pass with `--sanitizer none` are set here (SanitizerCoverage via `-Cpasses=sancov-module`).
#
#   bash scripts/fuzz.sh                      build every target
#   bash scripts/fuzz.sh --seconds 30         build, then run each target for 30 s (CI, test.sh)
#   bash scripts/fuzz.sh --runs 10000000      build, then run each target for that many executions
#   bash scripts/fuzz.sh --ci                 build, then a reproducible run per target (test.sh, CI):
#                                             fixed seed and a fixed number of executions per target,
#                                             so a commit's outcome never depends on the clock or luck
#   options: --target NAME (repeatable: only these targets), --seed N (libFuzzer -seed), --merge
#            (minimise what a run found into the committed corpus fuzz/corpus/NAME, libFuzzer -merge=1),
#            -- ARGS (more libFuzzer flags)
# Exploring (--seconds, --runs) uses a random seed and can find new crashes at any time: run it by
# hand or on a schedule, fix what it finds, add the input to the corpus. --ci replays the committed
# corpus (every past finding is kept there as a regression) and then mutates from seed 1.
#
# A run reads the committed corpus but writes new inputs to a scratch directory, so the work tree does
# not change unless --merge is given. Crashes land in fuzz/artifacts/NAME/ and make the script fail.
# Each target prints one line: `fuzz NAME: N execs in S s (R exec/s), corpus C inputs, crashes K`.
# Needs: cargo and a C++ compiler for libFuzzer's sources (Debian: g++). Builds go to
# $CARGO_TARGET_DIR/<host triple>/release (default target/), apart from normal builds.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZ="$REPO/fuzz"
TRIPLE="$(rustc -vV | sed -n 's/^host: //p')"
TARGETS=(signature_header event_extraction render_hcl msgpack_codec)
seconds="" runs="" seed="" ci=false merge=false selected=() extra=()

usage() { sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) seconds="${2:?--seconds needs a number}"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    --runs) runs="${2:?--runs needs a number}"; shift 2 ;;
    --runs=*) runs="${1#*=}"; shift ;;
    --target) selected+=("${2:?--target needs a name}"); shift 2 ;;
    --target=*) selected+=("${1#*=}"); shift ;;
    --seed) seed="${2:?--seed needs a number}"; shift 2 ;;
    --seed=*) seed="${1#*=}"; shift ;;
    --ci) ci=true; shift ;;
    --merge) merge=true; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "fuzz.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for n in $seconds $runs $seed; do
  [[ "$n" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: '$n' is not a whole number" >&2; exit 2; }
done
[[ ${#selected[@]} -gt 0 ]] && TARGETS=("${selected[@]}")
for t in "${TARGETS[@]}"; do
  [[ -f "$FUZZ/fuzz_targets/$t.rs" ]] || { echo "fuzz.sh: no target $t in fuzz/fuzz_targets" >&2; exit 2; }
done

command -v cargo >/dev/null || { echo "fuzz.sh: cargo is missing (https://rustup.rs)" >&2; exit 1; }
command -v c++ >/dev/null || command -v clang++ >/dev/null || {
  echo "fuzz.sh: a C++ compiler is needed to build libFuzzer (Debian: apt-get install g++)" >&2
  exit 1
}

# The flags `cargo fuzz build --sanitizer none` passes, usable on stable rustc. `--target` keeps them
# off build scripts and proc macros.
export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
bins=()
for t in "${TARGETS[@]}"; do bins+=(--bin "$t"); done
echo "fuzz.sh: building ${TARGETS[*]}"
cargo build --manifest-path "$FUZZ/Cargo.toml" --release --target "$TRIPLE" "${bins[@]}"
BIN_DIR="$CARGO_TARGET_DIR/$TRIPLE/release"

[[ -z "$seconds" && -z "$runs" ]] && ! $ci && exit 0

flags=(-timeout=10 -print_final_stats=1 "${extra[@]}")
[[ -n "$seconds" ]] && flags+=("-max_total_time=$seconds")
[[ -n "$runs" ]] && flags+=("-runs=$runs")
if $ci; then
  seed="${seed:-1}"
fi
[[ -n "$seed" ]] && flags+=("-seed=$seed")
# --ci: executions per target, about 20-30 s each on a 2-core machine (the targets differ 15x in
# speed); a count, not a time, so two runs of one commit do the same work.
ci_runs_for() {
  case "$1" in
    render_hcl) echo 200000 ;;
    signature_header) echo 1000000 ;;
    *) echo 2000000 ;;
  esac
}
# Longest input: a captured Stripe event is about 5 KiB; the renderer's strings and msgpack values
# need less, and shorter inputs keep those (slower) targets fast.
max_len_for() {
  case "$1" in
    render_hcl) echo 1024 ;;
    msgpack_codec) echo 2048 ;;
    *) echo 8192 ;;
  esac
}
dict_for() {
  case "$1" in
    signature_header) echo "$FUZZ/dicts/signature.dict" ;;
    event_extraction) echo "$FUZZ/dicts/json.dict" ;;
  esac
}

failed=()
for t in "${TARGETS[@]}"; do
  corpus="$FUZZ/corpus/$t"
  artifacts="$FUZZ/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  scratch=$(mktemp -d)
  log=$(mktemp)
  max_len=$(max_len_for "$t")
  target_flags=("-max_len=$max_len" "${flags[@]}" "-artifact_prefix=$artifacts/")
  $ci && target_flags+=("-runs=$(ci_runs_for "$t")")
  dict=$(dict_for "$t")
  [[ -n "$dict" ]] && target_flags+=("-dict=$dict")
  echo "fuzz.sh: running $t ${target_flags[*]}"
  start=$(date +%s.%N)
  status=0
  "$BIN_DIR/$t" "${target_flags[@]}" "$scratch" "$corpus" >"$log" 2>&1 || status=$?
  took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  execs=$(sed -n 's/^stat::number_of_executed_units: //p' "$log" | tail -n1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: //p' "$log" | tail -n1)
  crashes=0
  if [[ $status -ne 0 ]]; then
    crashes=1
    failed+=("$t")
    grep -E -A30 'panicked at|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" | head -n60 >&2 || tail -n40 "$log" >&2
  fi
  if $merge && [[ $status -eq 0 ]]; then
    merged=$(mktemp -d)
    "$BIN_DIR/$t" -merge=1 "-max_len=$max_len" "$merged" "$corpus" "$scratch" >>"$log" 2>&1
    rm -rf "$corpus"
    mv "$merged" "$corpus"
    chmod 755 "$corpus"
  fi
  size=$(find "$corpus" -type f | wc -l)
  printf 'fuzz %s: %s execs in %s s (%s exec/s), corpus %s inputs, crashes %s\n' \
    "$t" "${execs:-?}" "$took" "${rate:-?}" "$size" "$crashes"
  rm -rf "$scratch" "$log"
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: crashes in ${failed[*]} (inputs in fuzz/artifacts/; reproduce: the target binary with the file as argument)" >&2
  exit 1
fi
