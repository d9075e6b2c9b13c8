#!/usr/bin/env bash
# Lay release archives from scripts/release.sh into a Terraform filesystem_mirror.
#   scripts/install-provider-mirror.sh DIST_DIR MIRROR_DIR [CLI_CONFIG_FILE]
# The script lives in examples/gitops/scripts/ so that a copied infra repo
# carries it; this is the same script, reachable from the repo root.
exec "$(dirname "$0")/../examples/gitops/scripts/install-provider-mirror.sh" "$@"
