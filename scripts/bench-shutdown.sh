#!/usr/bin/env bash
# Benchmark how fast terraform-provider-stagesub leaves after Terraform's GRPCController.Shutdown
# (go-plugin kills plugins that are still alive 2 s after it).
#
# Method: Terraform 1.15.5 runs `terraform validate` N times; the provider reaches Terraform through
# dev_overrides as a small Python wrapper that starts the real binary with TF_LOG_PROVIDER=debug,
# passes its stdout (the handshake) through untouched, forwards its stderr line by line, and notes
#   t_shutdown = the @timestamp of the provider's own hclog line "GRPCController.Shutdown received"
#                (written by the provider when the RPC arrives, microsecond precision), and
#   t_exit     = wall clock when waitpid() returns for the provider process.
# Each provider start yields one sample, t_exit - t_shutdown. Terraform starts the provider more
# than once per `validate`, so N runs give more than N samples; starts that never got Shutdown are
# counted separately (Terraform killed them, or they exited otherwise).
#
# Usage: scripts/bench-shutdown.sh [--runs N] [--binary PATH]
#   --runs N       terraform validate runs (default 10)
#   --binary PATH  provider binary to measure (default: cargo build --release, then
#                  <target>/release/terraform-provider-stagesub)
# Output: a Markdown table on stdout; progress on stderr.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS=10
BIN=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --binary) BIN=$2; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--binary PATH]" >&2; exit 2 ;;
  esac
done
[[ "$RUNS" =~ ^[0-9]+$ && "$RUNS" -ge 1 ]] || { echo "--runs wants a positive number" >&2; exit 2; }

say() { printf 'bench-shutdown: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

bash "$REPO/scripts/setup-tools.sh" >/dev/null 2>&1 || die "scripts/setup-tools.sh failed; run it to see why"
# shellcheck source=/dev/null
source "${STAGESUB_TOOLS_DIR:-$REPO/.tools}/env.sh"
TF="$STAGESUB_TERRAFORM"
[[ -x "$TF" ]] || die "Terraform 1.15.5 is missing at $TF: run scripts/setup-tools.sh"

if [[ -z "$BIN" ]]; then
  target="${CARGO_TARGET_DIR:-$REPO/target}"
  [[ "$target" == /* ]] || target="$REPO/$target"
  say "cargo build --release -p terraform-provider-stagesub"
  (cd "$REPO" && cargo build --release -q -p terraform-provider-stagesub) || die "building the provider failed"
  BIN="$target/release/terraform-provider-stagesub"
fi
[[ -x "$BIN" ]] || die "$BIN is missing or not executable: build it with cargo build -p terraform-provider-stagesub"
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"

WORK=$(mktemp -d -t stagesub-bench-shutdown.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/override" "$WORK/samples" "$WORK/tf"

# The wrapper Terraform starts in place of the provider.
cat >"$WORK/override/terraform-provider-stagesub" <<EOF
#!/usr/bin/env python3
import datetime, json, os, subprocess, sys, time
env = dict(os.environ, TF_LOG_PROVIDER="debug")
child = subprocess.Popen(["$BIN"] + sys.argv[1:], env=env, stderr=subprocess.PIPE)
shutdown = None
for raw in child.stderr:
    sys.stderr.buffer.write(raw)
    sys.stderr.buffer.flush()
    if shutdown is None and b"GRPCController.Shutdown received" in raw:
        try:
            ts = json.loads(raw)["@timestamp"]
            shutdown = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
        except Exception:
            pass
code = child.wait()
exited = time.time()
with open(os.path.join("$WORK/samples", str(child.pid)), "w") as f:
    f.write(f"{shutdown if shutdown is not None else '-'} {exited} {code}\n")
sys.exit(code if code >= 0 else 1)
EOF
chmod +x "$WORK/override/terraform-provider-stagesub"

cat >"$WORK/cli.tfrc" <<EOF
provider_installation {
  dev_overrides {
    "stagesub/stagesub" = "$WORK/override"
  }
  direct {}
}
EOF

cat >"$WORK/tf/main.tf" <<'EOF'
terraform {
  required_providers {
    stagesub = { source = "stagesub/stagesub" }
  }
}

provider "stagesub" {
  backend      = "postgres"
  postgres_url = "postgres://postgres@127.0.0.1:5432/postgres"
}

resource "stagesub_orchestra_database" "bench" {
  subdomain           = "bench-shutdown"
  orchestra_name      = "Benchmark Orchestra"
  deletion_protection = false
}
EOF

say "$RUNS x terraform validate with $BIN"
for i in $(seq 1 "$RUNS"); do
  (cd "$WORK/tf" && TF_CLI_CONFIG_FILE="$WORK/cli.tfrc" TF_IN_AUTOMATION=1 "$TF" validate -no-color >"$WORK/validate.log" 2>&1) \
    || { cat "$WORK/validate.log" >&2; die "terraform validate failed (run $i)"; }
done

python3 - "$WORK/samples" "$RUNS" <<'EOF'
import os, statistics, sys
folder, runs = sys.argv[1], int(sys.argv[2])
ms, missing = [], 0
for name in os.listdir(folder):
    shutdown, exited, _code = open(os.path.join(folder, name)).read().split()
    if shutdown == "-":
        missing += 1
    else:
        ms.append((float(exited) - float(shutdown)) * 1000)
if not ms:
    sys.exit("bench-shutdown: no provider start logged a Shutdown (is the provider too old?)")
ms.sort()
print("| runs | provider starts with Shutdown | without | median (ms) | p90 (ms) | max (ms) |")
print("|---:|---:|---:|---:|---:|---:|")
p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
print(f"| {runs} | {len(ms)} | {missing} | {statistics.median(ms):.1f} | {p90:.1f} | {max(ms):.1f} |")
EOF
