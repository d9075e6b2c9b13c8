#!/usr/bin/env bash
# Copy modules/orchestra into examples/gitops/modules/orchestra, so that the
# example infra repository stays self-contained when it is copied elsewhere
# (a symlink would break). scripts/check-docs.sh fails while the copy differs.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
src="$repo/modules/orchestra"
dest="$repo/examples/gitops/modules/orchestra"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
cp -R "$src" "$dest"
# Working files of a local `terraform init` in the module are not part of it.
rm -rf "$dest/.terraform" "$dest/.terraform.lock.hcl"
echo "copied modules/orchestra to examples/gitops/modules/orchestra"
