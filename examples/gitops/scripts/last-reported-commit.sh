#!/usr/bin/env bash
# Prints the commit up to which tenants were last reported to stagesub-bridge: the commit of this
# workflow's newest successful run on the branch (it applied and reported everything up to there),
# when that commit is an ancestor of HEAD; else EVENT_BEFORE (the commit before the push), which may
# be empty. notify-bridge.sh then reports every tenant changed since, so the tenants of runs that
# failed, were cancelled, or were replaced while pending are reported by the next run.
#
# Environment: GH_TOKEN and GH_REPO for `gh` (the job needs `actions: read`), WORKFLOW_REF
# (github.workflow_ref: owner/repo/.github/workflows/<file>@refs/...), BRANCH, EVENT_BEFORE.
# Explanations go to stderr; only the commit (or an empty line) to stdout.
set -uo pipefail

workflow=${WORKFLOW_REF:-}
workflow=${workflow%%@refs/*}
workflow=${workflow##*/}
base=""
if [[ -n $workflow && -n ${BRANCH:-} ]]; then
  base=$(gh run list --workflow "$workflow" --branch "$BRANCH" --status success --limit 1 \
    --json headSha --jq '.[0].headSha // empty' 2>/dev/null) || base=""
fi
if [[ ! $base =~ ^[0-9a-f]{40}$ ]] || ! git merge-base --is-ancestor "$base" HEAD 2>/dev/null; then
  [[ -z $base ]] || echo "last-reported-commit: $base (last successful run) is not an ancestor of HEAD" >&2
  echo "last-reported-commit: no earlier successful run with a commit on this branch: reporting the pushed range" >&2
  base=${EVENT_BEFORE:-}
fi
echo "last-reported-commit: reporting tenants changed between ${base:-HEAD^} and $(git rev-parse HEAD)" >&2
echo "$base"
