#!/usr/bin/env bash
# Staleness checks for generated and copied files; scripts/test.sh runs this.
#   1. docs/ is what scripts/gen-docs.py generates from the built provider's schema and examples/
#      (needs target/debug/terraform-provider-stagesub: cargo build -p terraform-provider-stagesub)
#   2. examples/gitops/modules/orchestra is an exact copy of modules/orchestra
#   3. Terraform files under modules/ and examples/ are `terraform fmt` clean
#   4. the unit tests of scripts/gen-docs.py pass, and every example and the orchestra module pass
#      `terraform validate` with the built provider on Terraform 1.0.3 and the newest release
# Every check runs; the script exits 1 when any failed, saying how to fix it.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
terraform=${STAGESUB_TERRAFORM:-$repo/.tools/bin/terraform}
failed=()

echo "== docs/ up to date"
python3 scripts/gen-docs.py --check || failed+=("docs/ is stale or could not be generated: run scripts/gen-docs.py")

echo "== examples/gitops/modules/orchestra is a copy of modules/orchestra"
if diff -r --exclude=.terraform --exclude=.terraform.lock.hcl modules/orchestra examples/gitops/modules/orchestra; then
  echo "identical"
else
  failed+=("examples/gitops/modules/orchestra differs from modules/orchestra: run scripts/sync-example-module.sh")
fi

echo "== terraform fmt -check"
if [ -x "$terraform" ]; then
  TF_CLI_CONFIG_FILE=/dev/null "$terraform" fmt -check -recursive -diff modules examples &&
    echo "formatted" || failed+=("Terraform files are not formatted: run terraform fmt -recursive modules examples")
else
  failed+=("Terraform not found at $terraform: run scripts/setup-tools.sh")
fi

echo "== gen-docs unit tests, terraform validate of the examples"
python3 -m unittest scripts/tests/test_gen_docs.py scripts/tests/test_examples_validate.py ||
  failed+=("scripts/tests/test_gen_docs.py or test_examples_validate.py failed (see above)")

if [ ${#failed[@]} -gt 0 ]; then
  printf 'check-docs: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "check-docs: all checks passed"
