#!/usr/bin/env bash
# Benchmark the provider's start-up path against HashiCorp's Go null provider 2.1.2, in one run:
#   - wall time of `terraform validate` and `terraform providers schema -json` (Terraform 1.15.5),
#     median of N runs each, the providers interleaved run by run (date +%s%N around each command);
#   - peak RSS of each provider process (GNU time's %M, through a wrapper that Terraform starts
#     in place of the provider binary; a separate pass, so the wrapper does not skew the timings).
# Both providers reach Terraform through dev_overrides (no `terraform init`, no network).
#
# Usage: scripts/bench-provider.sh [--runs N] [--null-only] [--no-build]
#   --runs N      timed runs per command and provider (default 20, after 2 warm-up rounds)
#   --null-only   measure only the null provider (works before ours exists)
#   --no-build    do not run `cargo build --release -p terraform-provider-stagesub`
# Output: a Markdown table on stdout (paste it into BENCHMARKS.md); progress on stderr.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS=20
NULL_ONLY=0
BUILD=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --null-only) NULL_ONLY=1; shift ;;
    --no-build) BUILD=0; shift ;;
    *) echo "usage: $0 [--runs N] [--null-only] [--no-build]" >&2; exit 2 ;;
  esac
done
[[ "$RUNS" =~ ^[0-9]+$ && "$RUNS" -ge 1 ]] || { echo "--runs wants a positive number" >&2; exit 2; }

say() { printf 'bench-provider: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

bash "$REPO/scripts/setup-tools.sh" >/dev/null 2>&1 || die "scripts/setup-tools.sh failed; run it to see why"
# shellcheck source=/dev/null
source "${STAGESUB_TOOLS_DIR:-$REPO/.tools}/env.sh"
TF="$STAGESUB_TERRAFORM"
NULL_BIN="$STAGESUB_NULL_PROVIDER"

if [[ ! -x /usr/bin/time ]]; then
  say "installing GNU time (apt-get install time) for peak-RSS measurement"
  apt-get install -y -q time >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1; apt-get install -y -q time >/dev/null 2>&1; } \
    || die "GNU time is needed: apt-get install time"
fi

OURS_BIN=""
if [[ $NULL_ONLY -eq 0 ]]; then
  target="${CARGO_TARGET_DIR:-$REPO/target}"
  [[ "$target" == /* ]] || target="$REPO/$target"
  if [[ $BUILD -eq 1 ]]; then
    say "cargo build --release -p terraform-provider-stagesub"
    (cd "$REPO" && cargo build --release -q -p terraform-provider-stagesub) \
      || die "building terraform-provider-stagesub failed (use --null-only to measure the null provider alone)"
  fi
  OURS_BIN="$target/release/terraform-provider-stagesub"
  [[ -x "$OURS_BIN" ]] || die "$OURS_BIN is missing: the provider binary was not built (use --null-only to measure the null provider alone)"
fi

WORK=$(mktemp -d -t stagesub-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# dev_overrides folders: <WORK>/time/<name> runs the binary directly, <WORK>/mem/<name> runs it
# under GNU time, which writes the child's peak RSS (KiB) to a file per provider start.
mkdir -p "$WORK/rss"
setup_provider() {
  local name=$1 binary=$2
  mkdir -p "$WORK/time/$name" "$WORK/mem/$name"
  ln -s "$binary" "$WORK/time/$name/terraform-provider-$name"
  cat >"$WORK/mem/$name/terraform-provider-$name" <<EOF
#!/bin/sh
exec /usr/bin/time -f %M -o "$WORK/rss/$name.\$\$" "$binary" "\$@"
EOF
  chmod +x "$WORK/mem/$name/terraform-provider-$name"
}
setup_provider null "$NULL_BIN"
[[ -n "$OURS_BIN" ]] && setup_provider stagesub "$OURS_BIN"

write_cli_config() {
  local kind=$1
  {
    echo "provider_installation {"
    echo "  dev_overrides {"
    echo "    \"registry.terraform.io/hashicorp/null\" = \"$WORK/$kind/null\""
    [[ -n "$OURS_BIN" ]] && echo "    \"registry.terraform.io/stagesub/stagesub\" = \"$WORK/$kind/stagesub\""
    echo "  }"
    echo "  direct {}"
    echo "}"
  } >"$WORK/$kind.tfrc"
}
write_cli_config time
write_cli_config mem

mkdir -p "$WORK/null-config" "$WORK/stagesub-config"
cat >"$WORK/null-config/main.tf" <<'EOF'
terraform {
  required_providers {
    null = { source = "hashicorp/null" }
  }
}

resource "null_resource" "orchestra" {
  triggers = { subdomain = "bench-orchestra" }
}
EOF
cat >"$WORK/stagesub-config/main.tf" <<'EOF'
terraform {
  required_providers {
    stagesub = { source = "stagesub/stagesub" }
  }
}

provider "stagesub" {
  backend      = "postgres"
  postgres_url = "postgres://postgres@127.0.0.1:5432/postgres"
}

resource "stagesub_orchestra_database" "orchestra" {
  subdomain           = "bench-orchestra"
  orchestra_name      = "Bench Orchestra"
  deletion_protection = false
}
EOF

export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0
unset TF_CLI_ARGS TF_DATA_DIR TF_PLUGIN_CACHE_DIR TF_LOG

PROVIDERS=(null)
[[ -n "$OURS_BIN" ]] && PROVIDERS=(stagesub null)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# Sanity check (and warm the page cache): each command must succeed with each provider.
for p in "${PROVIDERS[@]}"; do
  for args in "validate -no-color" "providers schema -json"; do
    # shellcheck disable=SC2086
    TF_CLI_CONFIG_FILE="$WORK/time.tfrc" "$TF" -chdir="$WORK/$p-config" $args >"$WORK/out" 2>&1 \
      || { cat "$WORK/out" >&2; die "terraform $args failed with the $p provider"; }
  done
done

# Timing: RUNS rounds after 2 warm-up rounds; each round runs every (provider, command) pair once,
# interleaved, so load from other work on the machine hits both providers alike. Median per pair.
declare -A MEDIAN PEAK STARTS
export TF_CLI_CONFIG_FILE="$WORK/time.tfrc"
COMMANDS=(validate schema)
run_cmd() { # run_cmd provider command
  case "$2" in
    validate) "$TF" -chdir="$WORK/$1-config" validate -no-color ;;
    schema) "$TF" -chdir="$WORK/$1-config" providers schema -json ;;
  esac >/dev/null 2>&1 || die "terraform $2 failed with the $1 provider"
}
say "timing ${PROVIDERS[*]} x (validate, providers schema -json): $RUNS interleaved rounds"
for ((round = -2; round < RUNS; round++)); do
  for p in "${PROVIDERS[@]}"; do
    for c in "${COMMANDS[@]}"; do
      start=$(date +%s%N)
      run_cmd "$p" "$c"
      end=$(date +%s%N)
      [[ $round -ge 0 ]] && echo "$(( (end - start) / 1000 ))" >>"$WORK/times.$p.$c"
    done
  done
done
for p in "${PROVIDERS[@]}"; do
  for c in "${COMMANDS[@]}"; do
    MEDIAN[$p,$c]=$(sort -n "$WORK/times.$p.$c" | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.1f", m / 1000 }')
  done
done

# Peak RSS pass: 3 runs of each command under the wrapper; the largest provider process counts.
export TF_CLI_CONFIG_FILE="$WORK/mem.tfrc"
for p in "${PROVIDERS[@]}"; do
  rm -f "$WORK/rss/$p".*
  for _ in 1 2 3; do
    "$TF" -chdir="$WORK/$p-config" validate -no-color >/dev/null 2>&1 || die "validate under the RSS wrapper failed ($p)"
    "$TF" -chdir="$WORK/$p-config" providers schema -json >/dev/null 2>&1 || die "schema under the RSS wrapper failed ($p)"
  done
  files=("$WORK/rss/$p".*)
  [[ -e "${files[0]}" ]] || die "no RSS figures for $p: did the provider exit on its own (GRPCController.Shutdown)?"
  # GNU time writes "Command terminated by signal N" before %M when the child was killed.
  PEAK[$p]=$(cat "${files[@]}" | grep -E '^[0-9]+$' | sort -n | tail -n1)
  STARTS[$p]=$(awk -v n="${#files[@]}" 'BEGIN { printf "%.1f", n / 6 }') # 3 x 2 commands
  killed=$(cat "${files[@]}" | grep -c 'terminated by signal' || true)
  [[ $killed -eq 0 ]] || say "note: $killed of ${#files[@]} $p provider processes were killed instead of exiting"
done

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); $("$TF" version 2>/dev/null | sed -n '1s/^Terraform v/Terraform /p'); $RUNS runs per command, median; load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| provider | \`terraform validate\` (ms) | \`terraform providers schema -json\` (ms) | provider peak RSS (MiB) | provider starts per command |"
echo "|---|---:|---:|---:|---:|"
for p in "${PROVIDERS[@]}"; do
  label=$p
  [[ $p == null ]] && label="hashicorp/null 2.1.2 (Go)"
  [[ $p == stagesub ]] && label="stagesub (Rust, release)"
  echo "| $label | ${MEDIAN[$p,validate]} | ${MEDIAN[$p,schema]} | $(mib "${PEAK[$p]}") | ${STARTS[$p]} |"
done
if [[ -n "$OURS_BIN" ]]; then
  echo "| ratio stagesub / null | $(ratio "${MEDIAN[stagesub,validate]}" "${MEDIAN[null,validate]}") | $(ratio "${MEDIAN[stagesub,schema]}" "${MEDIAN[null,schema]}") | $(ratio "${PEAK[stagesub]}" "${PEAK[null]}") | |"
  echo
  echo "Provider binary sizes: stagesub $(du -h "$OURS_BIN" | cut -f1), null $(du -hL "$NULL_BIN" | cut -f1)."
fi
