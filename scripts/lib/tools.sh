# Helpers of scripts/setup-tools.sh for checking and installing tools without racing the tests that
# run them (sourced; scripts/tests/test_setup_tools.py tests them).
#
# Rules: a version check reads the tool's whole output before looking at it (never `| head -n1`: a
# tool that dies of SIGPIPE when the pipe closes early fails the check under pipefail, and the
# tool would be installed again while tests run it); an install writes a file beside the target and
# renames it over the target, so that a process starting the tool sees either the old or the new
# file, never a half-written one or one without its execute bit.
# shellcheck shell=bash

# tool_version COMMAND...: prints the first line COMMAND writes (stdout and stderr), read after the
# command has exited. Prints nothing when it wrote nothing; the command's status does not matter.
tool_version() {
  local out
  out=$("$@" 2>&1 </dev/null) || true
  printf '%s\n' "${out%%$'\n'*}"
}

# has_version WANT COMMAND...: true when the first line COMMAND prints is exactly WANT. Asks twice
# before saying no, so that a momentary failure (no process slot, a signal) never triggers a
# re-install of a tool that works.
has_version() {
  local want=$1 attempt
  shift
  for attempt in 1 2; do
    [[ "$(tool_version "$@")" == "$want" ]] && return 0
    [[ $attempt == 2 ]] || sleep 1
  done
  return 1
}

# install_atomic SOURCE DEST [MODE]: copies SOURCE to a new file beside DEST, sets MODE (default 755)
# and renames it over DEST. A process running the old DEST keeps running it.
install_atomic() {
  local src=$1 dest=$2 mode=${3:-755} tmp
  tmp=$(mktemp "$dest.new.XXXXXX") || return 1
  if cp "$src" "$tmp" && chmod "$mode" "$tmp" && mv -f "$tmp" "$dest"; then
    return 0
  fi
  rm -f "$tmp"
  return 1
}

# link_atomic TARGET LINK: points the symbolic link LINK at TARGET by renaming a new link over it
# (`ln -sf` removes the old link first, leaving a moment without one). Unchanged links stay.
link_atomic() {
  local target=$1 link=$2 tmp
  [[ -L $link && "$(readlink "$link")" == "$target" ]] && return 0
  tmp="$link.new.$$"
  ln -sfn "$target" "$tmp" && mv -Tf "$tmp" "$link"
}

# Folders of packages (a venv, node_modules) cannot be renamed over one another, and programs run from
# them while a re-install would rewrite them. So each set of packages is built in a folder of its own,
# NAME-<hash of what it holds>, and NAME is a symbolic link switched to the finished folder.

# versioned_dir PATH KEY: PATH-<12 hex digits of KEY's SHA-256>.
versioned_dir() {
  local sum
  sum=$(printf '%s' "$2" | sha256sum)
  printf '%s-%s\n' "$1" "${sum:0:12}"
}

# activate_dir LINK DIR: points LINK at DIR (a sibling folder) atomically. A real folder at LINK (the
# layout before versioned folders) is moved aside to LINK.old.<pid> first, not deleted: a running
# program may still use it.
activate_dir() {
  local link=$1 dir=$2
  if [[ -d $link && ! -L $link ]]; then mv "$link" "$link.old.$$"; fi
  link_atomic "$(basename "$dir")" "$link"
}

# first_line TEXT: the first line of TEXT (an empty string for no text). For results of `find` or
# `tar t` captured whole, instead of piping them into `head -n1`.
first_line() { printf '%s\n' "${1%%$'\n'*}"; }
