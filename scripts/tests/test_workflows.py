"""Every GitHub Actions workflow the project ships (any `.github/workflows/*.yml` or `*.yaml` in the
repository: the example infra repository's and the project's own) passes actionlint (with shellcheck
on its `run:` scripts) and `zizmor --offline` with no finding at all. Both are installed by
scripts/setup-tools.sh into .tools/lint-venv."""

from __future__ import annotations

import os
import subprocess
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
TOOLS = Path(os.environ.get("STAGESUB_TOOLS_DIR") or REPO / ".tools")
LINT_BIN = TOOLS / "lint-venv" / "bin"
ACTIONLINT = Path(os.environ.get("STAGESUB_ACTIONLINT") or LINT_BIN / "actionlint")
ZIZMOR = Path(os.environ.get("STAGESUB_ZIZMOR") or LINT_BIN / "zizmor")
SHELLCHECK = Path(os.environ.get("STAGESUB_SHELLCHECK") or LINT_BIN / "shellcheck")
# Folders that hold no shipped files: build output, installed tools, dependencies.
SKIP_DIRS = {".git", "target", ".tools", ".venv", "node_modules", ".terraform", "dist"}

BAD_WORKFLOW = """name: bad
on:
  pull_request_target:
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "${{ github.event.pull_request.title }}"
      - run: echo $UNQUOTED
"""


def shipped_workflows(root: Path) -> list[Path]:
    """Every workflow file under root: *.yml and *.yaml directly in a `.github/workflows` folder."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS or d == ".github")
        path = Path(folder)
        if path.name == "workflows" and path.parent.name == ".github":
            found += [path / f for f in sorted(files) if f.endswith((".yml", ".yaml"))]
    return found


def actionlint(workflow: Path) -> subprocess.CompletedProcess:
    # -pyflakes= turns off the Python integration (no workflow uses Python scripts); shellcheck is ours.
    return subprocess.run([str(ACTIONLINT), "-no-color", "-oneline", f"-shellcheck={SHELLCHECK}", "-pyflakes=",
                           str(workflow)], capture_output=True, text=True, timeout=120)


def zizmor(workflow: Path) -> subprocess.CompletedProcess:
    # --no-config and --no-ignores: nothing can silence a finding but a fix.
    return subprocess.run([str(ZIZMOR), "--offline", "--no-config", "--no-ignores", "--no-progress",
                           "--color=never", str(workflow)], capture_output=True, text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if not k.endswith("GH_TOKEN") and "GITHUB_TOKEN" not in k})


class Workflows(unittest.TestCase):
    def setUp(self) -> None:
        for tool in (ACTIONLINT, ZIZMOR, SHELLCHECK):
            if not os.access(tool, os.X_OK):
                self.fail(f"{tool} is missing: run scripts/setup-tools.sh")

    def test_finds_the_shipped_workflows(self):
        found = [str(p.relative_to(REPO)) for p in shipped_workflows(REPO)]
        self.assertIn("examples/gitops/.github/workflows/terraform.yml", found)
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            for name in (".github/workflows/ci.yml", "a/b/.github/workflows/x.yaml", "a/.github/workflows/n.txt",
                         "target/debug/.github/workflows/skip.yml", "a/.github/workflow/typo.yml"):
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                (root / name).write_text(BAD_WORKFLOW)
            self.assertEqual([str(p.relative_to(root)) for p in shipped_workflows(root)],
                             [".github/workflows/ci.yml", "a/b/.github/workflows/x.yaml"])

    def test_every_shipped_workflow_passes_actionlint_and_zizmor(self):
        workflows = shipped_workflows(REPO)
        self.assertTrue(workflows)
        for workflow in workflows:
            with self.subTest(workflow=str(workflow.relative_to(REPO))):
                result = actionlint(workflow)
                self.assertEqual((result.returncode, result.stdout), (0, ""), result.stderr)
                result = zizmor(workflow)
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                self.assertIn("No findings to report", result.stdout)

    def test_a_known_bad_workflow_fails_both(self):
        with tempfile.TemporaryDirectory() as tmp:
            workflow = Path(tmp) / ".github" / "workflows" / "bad.yml"
            workflow.parent.mkdir(parents=True)
            workflow.write_text(BAD_WORKFLOW)
            result = actionlint(workflow)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn('runtime "node20" is deprecated', result.stdout)
            self.assertIn("SC2086", result.stdout)  # shellcheck ran on the run: scripts
            self.assertIn("potentially untrusted", result.stdout)
            result = zizmor(workflow)
            self.assertNotEqual(result.returncode, 0)
            for audit in ("unpinned-uses", "artipacked", "template-injection", "dangerous-triggers"):
                self.assertIn(f"[{audit}]", result.stdout)


if __name__ == "__main__":
    unittest.main()
