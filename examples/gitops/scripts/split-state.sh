#!/usr/bin/env bash
# Moves orchestras from the single root module $TENANTS_DIR/ (every tenant file <subdomain>.tf in one
# root with one state: the layout before one root per tenant) into their own root modules
# $TENANTS_DIR/<subdomain>/ with their own state, without destroying or re-creating anything.
#
# Usage (from the root of the infra repository, with the old root's backend credentials):
#   scripts/split-state.sh --all            every tenant of the old root (files and state)
#   scripts/split-state.sh SUBDOMAIN...     these tenants (CI runs this for a tenant file that
#                                           stagesub-bridge moved: see the apply job)
#
# Per tenant:
#   1. file   $TENANTS_DIR/<sub>.tf becomes $TENANTS_DIR/<sub>/main.tf (git mv when in a Git work
#             tree), its relative module source one level deeper ("../modules/x" -> "../../modules/x").
#             Skipped when the tenant root already exists (stagesub-bridge moved the file).
#   2. state  the tenant's resources (module.orchestra-<sub>) are copied from the old root's state
#             into the tenant root's own state (scripts/tenant-root.sh selects it), with relative
#             paths recorded in them (migrations_dir) one level deeper as the module now computes them.
#             A tenant root whose state already holds other resources is refused. After every tenant
#             is copied, one `terraform state rm` removes them from the old state (forgetting, never
#             destroying).
#   3. check  with VERIFY=1 (default) `terraform plan -detailed-exitcode` in each new root must find no
#             changes; VERIFY=0 skips it (it refreshes each tenant, which takes time for thousands).
# Run it again after an interruption: tenants already copied (same resources in the new state) are
# not copied twice, and tenants no longer in the old state are skipped.
#
# Run it while no apply runs against the old root (disable the workflow, or let CI run it inside its
# apply job, which holds the apply concurrency group), then commit the moved files. With --all, the old
# root ends with an empty state: delete $TENANTS_DIR/*.tf (its settings) in the same commit.
#
# Environment: TENANTS_DIR (default tenants), SHARED_DIR (default shared), TERRAFORM (default
# terraform), VERIFY (default 1), LOCK_TIMEOUT (default 10m), TENANT_BACKEND_CONFIG (see tenant-root.sh).
# Exit status: 0 done, 1 a tenant could not be moved (nothing is removed from the old state for it),
# 2 usage error.
set -euo pipefail

TENANTS_DIR=${TENANTS_DIR:-tenants}
TENANTS_DIR=${TENANTS_DIR%/}
TERRAFORM=${TERRAFORM:-terraform}
VERIFY=${VERIFY:-1}
LOCK_TIMEOUT=${LOCK_TIMEOUT:-10m}
here=$(cd "$(dirname "$0")" && pwd)
subdomain_re='^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$'

die() {
  echo "split-state: error: $*" >&2
  exit 2
}
say() { echo "split-state: $*" >&2; }

[ $# -gt 0 ] || die "name the tenants to move, or --all (see the comment at the top of $0)"
[ -d "$TENANTS_DIR" ] || die "$TENANTS_DIR/ does not exist (run from the root of the infra repository)"
compgen -G "$TENANTS_DIR/*.tf" >/dev/null ||
  die "$TENANTS_DIR/ holds no .tf file: there is no single root module (and state) to split"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

say "reading the state of the single root module $TENANTS_DIR/"
"$TERRAFORM" -chdir="$TENANTS_DIR" init -input=false -no-color >"$work/init.log" 2>&1 ||
  { cat "$work/init.log" >&2; die "terraform init in $TENANTS_DIR/ failed"; }
"$TERRAFORM" -chdir="$TENANTS_DIR" state pull >"$work/old.tfstate" ||
  die "terraform state pull in $TENANTS_DIR/ failed"
[ -s "$work/old.tfstate" ] || echo '{"version": 4, "resources": []}' >"$work/old.tfstate"

# Tenants of the old state: module.orchestra-<sub>.
python3 - "$work/old.tfstate" >"$work/in-state" <<'PY'
import json, re, sys
state = json.load(open(sys.argv[1]))
subs = set()
for r in state.get("resources", []):
    m = re.match(r"^module\.orchestra-([a-z0-9-]+)(\.|$)", r.get("module", ""))
    if m:
        subs.add(m.group(1))
print("\n".join(sorted(subs)))
PY

if [ "$1" = --all ]; then
  [ $# = 1 ] || die "--all takes no subdomains"
  {
    cat "$work/in-state"
    for f in "$TENANTS_DIR"/*.tf; do
      sub=$(basename "$f" .tf)
      if grep -Eq "^module \"orchestra-$sub\"" "$f"; then echo "$sub"; fi
    done
  } | sort -u >"$work/tenants"
else
  printf '%s\n' "$@" | sort -u >"$work/tenants"
fi

failed=0
: >"$work/moved"
while read -r sub; do
  [ -n "$sub" ] || continue
  [[ $sub =~ $subdomain_re ]] || die "'$sub' is not a subdomain"
  flat="$TENANTS_DIR/$sub.tf"
  root="$TENANTS_DIR/$sub"

  # 1. The file.
  if [ -f "$flat" ]; then
    if [ -f "$root/main.tf" ]; then
      say "$sub: both $flat and $root/main.tf exist: delete the one that is out of date, then run this again"
      failed=1
      continue
    fi
    mkdir -p "$root"
    if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && git ls-files --error-unmatch "$flat" >/dev/null 2>&1; then
      git mv "$flat" "$root/main.tf"
    else
      mv "$flat" "$root/main.tf"
    fi
    sed -i.bak -E 's#^([[:space:]]*source[[:space:]]*=[[:space:]]*")(\.\.?/)#\1../\2#' "$root/main.tf"
    rm -f "$root/main.tf.bak"
    say "$sub: moved $flat to $root/main.tf"
  elif [ ! -f "$root/main.tf" ]; then
    say "$sub: neither $flat nor $root/main.tf exists: its resources stay in the old state"
    failed=1
    continue
  fi

  # 2. The state.
  if ! grep -Fqx "$sub" "$work/in-state"; then
    say "$sub: not in the old state (new, or moved before)"
    continue
  fi
  "$here/tenant-root.sh" "$sub" -no-color >"$work/init-$sub.log" 2>&1 ||
    { cat "$work/init-$sub.log" >&2; say "$sub: terraform init failed"; failed=1; continue; }
  "$TERRAFORM" -chdir="$root" state pull >"$work/current-$sub.tfstate" ||
    { say "$sub: terraform state pull failed"; failed=1; continue; }
  verdict=$(python3 - "$work/old.tfstate" "$work/current-$sub.tfstate" "$sub" "$work/new-$sub.tfstate" <<'PY'
import json, os, re, sys, uuid
old_path, current_path, sub, out_path = sys.argv[1:5]
old = json.load(open(old_path))
prefix = "module.orchestra-" + sub

def mine(r):
    m = r.get("module", "")
    return m == prefix or m.startswith(prefix + ".")

def deeper(path):
    # The root module is one level deeper than before: a path relative to it gains one "..".
    if not isinstance(path, str) or path == "" or os.path.isabs(path) or "://" in path:
        return path
    if path.startswith("./"):
        return "./../" + path[2:]
    return "../" + path

moved = []
for r in old.get("resources", []):
    if not mine(r):
        continue
    r = json.loads(json.dumps(r))
    if r.get("type") == "stagesub_orchestra_database":
        for inst in r.get("instances", []):
            attrs = inst.get("attributes") or {}
            if "migrations_dir" in attrs:
                attrs["migrations_dir"] = deeper(attrs["migrations_dir"])
    moved.append(r)

try:
    current = json.load(open(current_path))
except ValueError:
    current = {}
have = current.get("resources") or []
key = lambda rs: sorted(json.dumps([r.get("module"), r.get("type"), r.get("name"),
    [i.get("index_key") for i in r.get("instances", [])],
    [(i.get("attributes") or {}).get("id") for i in r.get("instances", [])]], sort_keys=True) for r in rs)
if have:
    print("copied" if key(have) == key(moved) else "occupied")
    sys.exit(0)
state = {
    "version": 4,
    "terraform_version": old.get("terraform_version", "1.0.0"),
    # Pushed over the root's (empty) state: same lineage, a higher serial.
    "serial": int(current.get("serial", 0)) + 1,
    "lineage": current.get("lineage") or str(uuid.uuid4()),
    "outputs": {},
    "resources": moved,
    "check_results": None,
}
json.dump(state, open(out_path, "w"), indent=2)
print("push")
PY
  ) || { say "$sub: cannot build its state"; failed=1; continue; }
  case $verdict in
    copied) say "$sub: its state already holds these resources (an earlier run)" ;;
    occupied)
      say "$sub: the state of $root/ already holds other resources: not overwritten"
      failed=1
      continue
      ;;
    push)
      "$TERRAFORM" -chdir="$root" state push -lock-timeout="$LOCK_TIMEOUT" "$work/new-$sub.tfstate" ||
        { say "$sub: terraform state push failed"; failed=1; continue; }
      say "$sub: state copied into $root/"
      ;;
  esac
  echo "$sub" >>"$work/moved"
done <"$work/tenants"

# 3. Forget the copied tenants in the old state, in one write.
if [ -s "$work/moved" ]; then
  mapfile -t addresses < <(sed 's/^/module.orchestra-/' "$work/moved")
  "$TERRAFORM" -chdir="$TENANTS_DIR" state rm -lock-timeout="$LOCK_TIMEOUT" "${addresses[@]}" >"$work/rm.log" 2>&1 ||
    { cat "$work/rm.log" >&2; die "terraform state rm in $TENANTS_DIR/ failed; run this again (copied tenants are not copied twice)"; }
  say "removed $(wc -l <"$work/moved") tenant(s) from the state of $TENANTS_DIR/ (nothing destroyed)"
fi

if [ "$VERIFY" = 1 ] && [ -s "$work/moved" ]; then
  while read -r sub; do
    set +e
    "$TERRAFORM" -chdir="$TENANTS_DIR/$sub" plan -input=false -no-color -lock=false -detailed-exitcode >"$work/plan-$sub.log" 2>&1
    code=$?
    set -e
    if [ "$code" = 0 ]; then
      say "$sub: plan in $TENANTS_DIR/$sub/: no changes"
    else
      cat "$work/plan-$sub.log" >&2
      say "$sub: the plan in $TENANTS_DIR/$sub/ is not empty (exit $code): look before applying"
      failed=1
    fi
  done <"$work/moved"
fi

left=$("$TERRAFORM" -chdir="$TENANTS_DIR" state list 2>/dev/null | grep -c '^module\.orchestra-' || true)
say "the state of $TENANTS_DIR/ holds $left tenant resource(s)"
exit "$failed"
