#!/usr/bin/env bash
# Build terraform-provider-stagesub release archives the way the Terraform
# registry (and a filesystem_mirror) expects them.
#
#   scripts/release.sh VERSION [TARGETS...]
#
# VERSION: semantic version, e.g. 0.1.0 (a leading "v" is dropped).
# TARGETS: <os>_<arch> pairs (linux_amd64 linux_arm64 darwin_amd64
#   darwin_arm64 windows_amd64); default: this machine's. Other targets need
#   `rustup target add <triple>` and a linker for them.
# Writes to DIST_DIR (default <repo>/dist):
#   terraform-provider-stagesub_<v>_<os>_<arch>.zip  (holds terraform-provider-stagesub_v<v>[.exe])
#   terraform-provider-stagesub_<v>_manifest.json    (copy of terraform-registry-manifest.json)
#   terraform-provider-stagesub_<v>_SHA256SUMS       (the zips and the manifest)
#   terraform-provider-stagesub_<v>_SHA256SUMS.sig   (only when GPG_FINGERPRINT is set)
# Archives are reproducible: entries carry SOURCE_DATE_EPOCH (default: the
# last commit's time) as their timestamp.
# STAGESUB_PROVIDER_BIN=<path> packages that binary instead of building one
# (one target only, e.g. a binary built elsewhere or a debug build in tests).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
name=terraform-provider-stagesub

if [ $# -lt 1 ]; then
  echo "usage: $0 VERSION [TARGETS...]   e.g. $0 0.1.0 linux_amd64 darwin_arm64" >&2
  exit 2
fi
version=${1#v}
shift
if ! [[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$ ]]; then
  echo "error: VERSION '$version' is not a semantic version such as 0.1.0 or 1.2.0-rc.1" >&2
  exit 2
fi

host_os=$(uname -s | tr '[:upper:]' '[:lower:]')
case $(uname -m) in
  x86_64 | amd64) host_arch=amd64 ;;
  aarch64 | arm64) host_arch=arm64 ;;
  *) host_arch=$(uname -m) ;;
esac
host_target="${host_os}_${host_arch}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("$host_target")

rust_triple() {
  case $1 in
    linux_amd64) echo x86_64-unknown-linux-gnu ;;
    linux_arm64) echo aarch64-unknown-linux-gnu ;;
    darwin_amd64) echo x86_64-apple-darwin ;;
    darwin_arm64) echo aarch64-apple-darwin ;;
    windows_amd64) echo x86_64-pc-windows-gnu ;;
    *)
      echo "error: unknown target '$1'; use one of linux_amd64 linux_arm64 darwin_amd64 darwin_arm64 windows_amd64" >&2
      return 1
      ;;
  esac
}
for t in "${targets[@]}"; do rust_triple "$t" >/dev/null; done

crate_version=$(sed -n '/^version = "/{s/^version = "\(.*\)"/\1/p;q}' "$repo/Cargo.toml")
if [ -n "$crate_version" ] && [ "$crate_version" != "$version" ]; then
  echo "warning: releasing $version but the workspace version in Cargo.toml is $crate_version" >&2
fi

dist=${DIST_DIR:-$repo/dist}
target_dir=${CARGO_TARGET_DIR:-$repo/target}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)}
mkdir -p "$dist"
rm -f "$dist/${name}_${version}_"*

for t in "${targets[@]}"; do
  triple=$(rust_triple "$t")
  exe=""
  [[ $t == windows_* ]] && exe=".exe"
  if [ -n "${STAGESUB_PROVIDER_BIN:-}" ]; then
    [ ${#targets[@]} -eq 1 ] || { echo "error: STAGESUB_PROVIDER_BIN packages one binary: give exactly one target" >&2; exit 2; }
    bin=$STAGESUB_PROVIDER_BIN
  elif [ "$t" = "$host_target" ]; then
    (cd "$repo" && cargo build --locked --release -p "$name")
    bin="$target_dir/release/$name$exe"
  else
    (cd "$repo" && cargo build --locked --release -p "$name" --target "$triple") || {
      echo "error: building for $t failed; install the target with 'rustup target add $triple' and a linker for it" >&2
      exit 1
    }
    bin="$target_dir/$triple/release/$name$exe"
  fi
  [ -x "$bin" ] || { echo "error: no provider binary at $bin (build failed, or STAGESUB_PROVIDER_BIN is wrong)" >&2; exit 1; }
  zip_path="$dist/${name}_${version}_${t}.zip"
  python3 - "$bin" "$zip_path" "${name}_v${version}${exe}" <<'PY'
import os, sys, time, zipfile
src, dest, entry = sys.argv[1:4]
stamp = time.gmtime(max(int(os.environ["SOURCE_DATE_EPOCH"]), 315532800))[:6]
info = zipfile.ZipInfo(entry, date_time=stamp)
info.external_attr = (0o100755 << 16)
info.compress_type = zipfile.ZIP_DEFLATED
info.create_system = 3
with open(src, "rb") as f, zipfile.ZipFile(dest, "w") as z:
    z.writestr(info, f.read(), compresslevel=6)
PY
  echo "wrote $zip_path"
done

cp "$repo/terraform-registry-manifest.json" "$dist/${name}_${version}_manifest.json"
(
  cd "$dist"
  if command -v sha256sum >/dev/null; then sum=(sha256sum); else sum=(shasum -a 256); fi
  "${sum[@]}" "${name}_${version}_"*.zip "${name}_${version}_manifest.json" >"${name}_${version}_SHA256SUMS"
)
echo "wrote $dist/${name}_${version}_SHA256SUMS"

if [ -n "${GPG_FINGERPRINT:-}" ]; then
  gpg --batch --yes --local-user "$GPG_FINGERPRINT" --detach-sign \
    --output "$dist/${name}_${version}_SHA256SUMS.sig" "$dist/${name}_${version}_SHA256SUMS"
  echo "wrote $dist/${name}_${version}_SHA256SUMS.sig"
fi
