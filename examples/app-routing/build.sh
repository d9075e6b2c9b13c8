#!/usr/bin/env bash
# Compiles examples/app-routing (src/, test/ and bench/) with tsc into OUT (default: a temporary folder
# printed on stdout), type-checking it. Uses the npm packages scripts/setup-tools.sh installs into
# .tools/node (typescript, pg, @types/pg, @types/node): run that script first.
#
#   bash examples/app-routing/build.sh [OUT]
#   NODE_PATH=.tools/node/node_modules node --test OUT/test/
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
MODULES="${STAGESUB_TOOLS_DIR:-$REPO/.tools}/node/node_modules"
OUT="${1:-$(mktemp -d)}"

command -v node >/dev/null || { echo "build.sh: node not found; install Node.js 20 or newer (Debian: apt-get install nodejs npm)" >&2; exit 1; }
for package in typescript pg @types/pg @types/node; do
  [[ -f "$MODULES/$package/package.json" ]] || {
    echo "build.sh: npm package $package missing from $MODULES; run scripts/setup-tools.sh" >&2
    exit 1
  }
done

mkdir -p "$OUT"
# The sources stay where they are; this configuration adds where the packages live.
cat >"$OUT/tsconfig.json" <<JSON
{
  "extends": "$HERE/tsconfig.json",
  "compilerOptions": {
    "rootDir": "$HERE",
    "outDir": "$OUT",
    "typeRoots": ["$MODULES/@types"],
    "paths": { "*": ["$MODULES/*", "$MODULES/@types/*"] }
  },
  "include": ["$HERE/src/**/*.ts", "$HERE/test/**/*.ts", "$HERE/bench/**/*.ts"]
}
JSON
node "$MODULES/typescript/bin/tsc" -p "$OUT/tsconfig.json"
echo "$OUT"
