"""examples/gitops/scripts/last-reported-commit.sh in a real git repository, with a stand-in `gh` on PATH that
answers `gh run list` as GitHub would (or fails)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
SCRIPT = REPO / "examples" / "gitops" / "scripts" / "last-reported-commit.sh"

FAKE_GH = """#!/usr/bin/env bash
printf '%s\\n' "$*" >>"$GH_CALLS"
[[ -z ${GH_FAIL:-} ]] || { echo "HTTP 403: Resource not accessible by integration" >&2; exit 1; }
printf '%s\\n' "$GH_HEAD_SHA"
"""


class LastReportedCommit(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory(prefix="last-reported-")
        self.addCleanup(tmp.cleanup)
        self.dir = Path(tmp.name)
        (self.dir / "bin").mkdir()
        (self.dir / "bin" / "gh").write_text(FAKE_GH)
        (self.dir / "bin" / "gh").chmod(0o755)
        self.repo = self.dir / "infra"
        self.repo.mkdir()
        self.git("init", "-q", "-b", "main")
        self.commits = []
        for n in range(3):
            (self.repo / f"f{n}").write_text(str(n))
            self.git("add", "-A")
            self.git("commit", "-q", "-m", f"c{n}")
            self.commits.append(self.git("rev-parse", "HEAD"))
        # A commit of a branch that was force-pushed away: not an ancestor of HEAD.
        self.git("checkout", "-q", "-b", "gone", self.commits[0])
        (self.repo / "g").write_text("g")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", "gone")
        self.gone = self.git("rev-parse", "HEAD")
        self.git("checkout", "-q", "main")

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.repo, check=True, capture_output=True, text=True,
                              env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org",
                                       GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org")).stdout.strip()

    def run_script(self, **env: str) -> tuple[str, str]:
        full = dict(os.environ, PATH=f"{self.dir / 'bin'}:{os.environ['PATH']}", GH_CALLS=str(self.dir / "calls"),
                    WORKFLOW_REF="acme/infra/.github/workflows/terraform.yml@refs/heads/main", BRANCH="main",
                    EVENT_BEFORE=self.commits[1], GH_HEAD_SHA="")
        full.update(env)
        result = subprocess.run(["bash", str(SCRIPT)], cwd=self.repo, env=full, capture_output=True, text=True,
                                timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout.strip(), result.stderr

    def test_the_last_successful_run_is_the_base(self):
        base, _ = self.run_script(GH_HEAD_SHA=self.commits[0])
        self.assertEqual(base, self.commits[0])  # older than the push's own range: its tenants come along
        self.assertEqual((self.dir / "calls").read_text(),
                         "run list --workflow terraform.yml --branch main --status success --limit 1 "
                         "--json headSha --jq .[0].headSha // empty\n")

    def test_no_usable_run_falls_back_to_the_pushed_range(self):
        for env in ({"GH_HEAD_SHA": ""}, {"GH_FAIL": "1"}, {"GH_HEAD_SHA": self.gone},
                    {"GH_HEAD_SHA": "not a sha"}, {"GH_HEAD_SHA": "f" * 40}):
            with self.subTest(env=env):
                base, err = self.run_script(**env)
                self.assertEqual(base, self.commits[1])
                self.assertIn("reporting the pushed range", err)
        base, err = self.run_script(EVENT_BEFORE="")  # workflow_dispatch has no "before"
        self.assertEqual(base, "")
        self.assertIn("between HEAD^ and", err)


if __name__ == "__main__":
    unittest.main()
