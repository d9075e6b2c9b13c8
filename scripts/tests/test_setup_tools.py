"""scripts/setup-tools.sh must not race the tests that use its tools: version checks read the whole
output (scripts/lib/tools.sh), installs rename a finished file over the old one, and a re-run, even two
at once, installs nothing that is already there."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import unittest
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
LIB = REPO / "scripts" / "lib" / "tools.sh"
SETUP = REPO / "scripts" / "setup-tools.sh"
TOOLS = Path(os.environ.get("STAGESUB_TOOLS_DIR") or REPO / ".tools")

# Like Terraform: the version on the first line, then more output, and exit status 255 when stdout is
# closed early (Go programs die on EPIPE/SIGPIPE writing to stdout).
CHATTY_TOOL = """#!/usr/bin/env bash
trap '' PIPE
echo "Terraform v1.0.3"
echo "on linux_amd64"
for i in $(seq 4000); do
  echo "Your version of Terraform is out of date! The latest version is 1.15.5. ($i)" || exit 255
done
"""

def bash(script: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", f"set -euo pipefail; source {LIB}; {script}"], capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, **env))


class VersionCheck(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="setup-tools-")
        self.addCleanup(self.tmp.cleanup)
        self.tool = Path(self.tmp.name) / "terraform"
        self.tool.write_text(CHATTY_TOOL)
        self.tool.chmod(0o755)

    def test_the_old_pipe_check_fails_on_this_tool(self):
        # The check setup-tools.sh used: head closes the pipe after one line, the tool dies, pipefail
        # reports the failure, and setup re-installed a working Terraform while tests ran it.
        result = bash(f"{self.tool} version | head -n1 | grep -qx 'Terraform v1.0.3'")
        self.assertNotEqual(result.returncode, 0)

    def test_version_checks_in_parallel_never_fail(self):
        def check(_: int) -> int:
            return bash(f"has_version 'Terraform v1.0.3' {self.tool} version").returncode

        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(check, range(48)))
        self.assertEqual(results, [0] * 48)

    def test_wrong_or_broken_tool_is_reported(self):
        self.assertEqual(bash(f"tool_version {self.tool} version").stdout, "Terraform v1.0.3\n")
        self.assertNotEqual(bash(f"has_version 'Terraform v1.15.5' {self.tool} version").returncode, 0)
        self.assertNotEqual(bash(f"has_version 'Terraform v1.0.3' {self.tmp.name}/missing version").returncode, 0)
        self.assertEqual(bash("tool_version true").stdout, "\n")


class AtomicInstall(unittest.TestCase):
    def test_a_tool_replaced_while_it_runs_is_always_whole_and_executable(self):
        with tempfile.TemporaryDirectory(prefix="setup-tools-") as tmp:
            dest = Path(tmp) / "tool"
            # A large script, so that a copy in place would be caught half-written or not yet executable.
            sources = []
            for n in range(2):
                src = Path(tmp) / f"tool-{n}"
                src.write_text(f"#!/bin/sh\necho tool {n}\nexit 0\n" + f"# {'x' * 100}\n" * 20000)
                sources.append(src)
            subprocess.run(["bash", "-c", f"source {LIB}; install_atomic {sources[0]} {dest}"], check=True)
            stop = threading.Event()
            failures: list[str] = []

            def run_it() -> None:
                while not stop.is_set():
                    try:
                        out = subprocess.run([str(dest)], capture_output=True, text=True, timeout=30)
                        if out.returncode != 0 or not out.stdout.startswith("tool "):
                            failures.append(f"status {out.returncode}: {out.stderr.strip()}")
                    except OSError as e:  # ETXTBSY, EACCES, ENOENT
                        failures.append(repr(e))

            runners = [threading.Thread(target=run_it) for _ in range(3)]
            for t in runners:
                t.start()
            try:
                for n in range(40):
                    result = bash(f"install_atomic {sources[n % 2]} {dest}")
                    self.assertEqual(result.returncode, 0, result.stderr)
            finally:
                stop.set()
                for t in runners:
                    t.join()
            self.assertEqual(failures, [])
            self.assertEqual(sorted(p.name for p in Path(tmp).iterdir()), ["tool", "tool-0", "tool-1"])  # no leftovers
            self.assertEqual(dest.stat().st_mode & 0o777, 0o755)

    def test_link_atomic_replaces_and_keeps_links(self):
        with tempfile.TemporaryDirectory(prefix="setup-tools-") as tmp:
            link = Path(tmp) / "dbmate"
            for target in ("/bin/true", "/bin/false", "/bin/false"):
                self.assertEqual(bash(f"link_atomic {target} {link}").returncode, 0)
                self.assertEqual(os.readlink(link), target)
            self.assertEqual([p.name for p in Path(tmp).iterdir()], ["dbmate"])


class VersionedFolders(unittest.TestCase):
    def test_a_new_folder_replaces_the_old_one_by_a_link(self):
        with tempfile.TemporaryDirectory(prefix="setup-tools-") as tmp:
            link = Path(tmp) / "venv"
            link.mkdir()  # the layout before versioned folders: a real folder, maybe in use
            (link / "marker").write_text("old")
            script = f"d=$(versioned_dir {link} 'a==1 b==2'); mkdir \"$d\"; echo new >\"$d/marker\"; activate_dir {link} \"$d\"; echo \"$d\""
            result = bash(script)
            self.assertEqual(result.returncode, 0, result.stderr)
            new = Path(result.stdout.strip())
            self.assertRegex(new.name, r"^venv-[0-9a-f]{12}$")
            self.assertEqual(os.readlink(link), new.name)
            self.assertEqual((link / "marker").read_text(), "new\n")
            old = [p for p in Path(tmp).iterdir() if p.name.startswith("venv.old.")]
            self.assertEqual([(p / "marker").read_text() for p in old], ["old"])  # kept, not deleted
            # The same key names the same folder; another key another one.
            same = bash(f"versioned_dir {link} 'a==1 b==2'").stdout.strip()
            other = bash(f"versioned_dir {link} 'a==1 b==3'").stdout.strip()
            self.assertEqual(same, str(new))
            self.assertNotEqual(other, str(new))
            # Switching to another folder: the link is replaced, the old folder stays.
            Path(other).mkdir()
            self.assertEqual(bash(f"activate_dir {link} {other}").returncode, 0)
            self.assertEqual(os.readlink(link), Path(other).name)
            self.assertTrue(new.is_dir())


class Rerun(unittest.TestCase):
    def test_two_reruns_at_once_install_nothing(self):
        if not (TOOLS / "env.sh").is_file():
            self.skipTest(f"{TOOLS} is not set up (scripts/setup-tools.sh, which scripts/test.sh runs first)")

        def snapshot() -> dict[str, tuple[int, int]]:
            files = {}
            for folder in ("bin", "providers"):
                for p in (TOOLS / folder).iterdir():
                    st = p.lstat()
                    files[str(p)] = (st.st_ino, st.st_mtime_ns)
            return files

        before = snapshot()
        env = dict(os.environ, STAGESUB_TOOLS_DIR=str(TOOLS))
        procs = [subprocess.Popen(["bash", str(SETUP)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True) for _ in range(2)]
        outputs = [p.communicate(timeout=600)[0] for p in procs]
        for p, out in zip(procs, outputs):
            self.assertEqual(p.returncode, 0, out)
            self.assertNotIn("installed", out)
            self.assertNotIn("downloading", out)
        self.assertEqual(snapshot(), before)


if __name__ == "__main__":
    unittest.main()
