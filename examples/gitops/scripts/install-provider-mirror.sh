#!/usr/bin/env bash
# Lay terraform-provider-stagesub release archives into a Terraform
# filesystem_mirror (packed layout) and optionally write a CLI configuration
# that installs stagesub/stagesub from it.
#
#   install-provider-mirror.sh DIST_DIR MIRROR_DIR [CLI_CONFIG_FILE]
#
# DIST_DIR holds terraform-provider-stagesub_<version>_<os>_<arch>.zip files
# (from scripts/release.sh or a GitHub release), and normally their
# terraform-provider-stagesub_<version>_SHA256SUMS: every zip listed there is
# verified before it is installed; a zip that does not match stops the script.
# The result, for Terraform and OpenTofu:
#   MIRROR_DIR/registry.terraform.io/stagesub/stagesub/terraform-provider-stagesub_<v>_<os>_<arch>.zip
#   MIRROR_DIR/registry.opentofu.org/stagesub/stagesub/terraform-provider-stagesub_<v>_<os>_<arch>.zip
# Point Terraform at it with TF_CLI_CONFIG_FILE=CLI_CONFIG_FILE.
set -euo pipefail

usage() {
  echo "usage: $0 DIST_DIR MIRROR_DIR [CLI_CONFIG_FILE]" >&2
  exit 2
}
[ $# -ge 2 ] && [ $# -le 3 ] || usage
dist=$1
mirror=$2
cli_config=${3:-}

[ -d "$dist" ] || { echo "error: DIST_DIR '$dist' is not a directory (build one with scripts/release.sh VERSION)" >&2; exit 1; }

shopt -s nullglob
zips=("$dist"/terraform-provider-stagesub_*_*_*.zip)
if [ ${#zips[@]} -eq 0 ]; then
  echo "error: no terraform-provider-stagesub_<version>_<os>_<arch>.zip in '$dist' (build them with scripts/release.sh VERSION)" >&2
  exit 1
fi

sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

installed=0
for zip in "${zips[@]}"; do
  name=$(basename "$zip")
  rest=${name#terraform-provider-stagesub_}
  version=${rest%%_*}
  sums="$dist/terraform-provider-stagesub_${version}_SHA256SUMS"
  if [ -f "$sums" ]; then
    want=$(awk -v f="$name" '$2 == f || $2 == "*" f { print $1 }' "$sums")
    if [ -z "$want" ]; then
      echo "error: $name is not listed in $(basename "$sums"); refusing to install an unverified archive" >&2
      exit 1
    fi
    got=$(sha256 "$zip")
    if [ "$got" != "$want" ]; then
      echo "error: checksum mismatch for $name (SHA256SUMS says $want, file is $got): download it again" >&2
      exit 1
    fi
  else
    echo "warning: $(basename "$sums") not found in '$dist'; installing $name without checksum verification" >&2
  fi
  for host in registry.terraform.io registry.opentofu.org; do
    dir="$mirror/$host/stagesub/stagesub"
    mkdir -p "$dir"
    cp -f "$zip" "$dir/$name"
  done
  echo "installed $name"
  installed=$((installed + 1))
done

if [ -n "$cli_config" ]; then
  abs_mirror=$(cd "$mirror" && pwd)
  mkdir -p "$(dirname "$cli_config")"
  cat >"$cli_config" <<CONFIG
# Written by install-provider-mirror.sh: stagesub/stagesub from the local
# mirror, every other provider from its registry as usual.
provider_installation {
  filesystem_mirror {
    path    = "$abs_mirror"
    include = ["registry.terraform.io/stagesub/stagesub", "registry.opentofu.org/stagesub/stagesub"]
  }
  direct {
    exclude = ["registry.terraform.io/stagesub/stagesub", "registry.opentofu.org/stagesub/stagesub"]
  }
}
CONFIG
  echo "wrote $cli_config (export TF_CLI_CONFIG_FILE=$cli_config)"
fi
echo "$installed archive(s) in $mirror"
