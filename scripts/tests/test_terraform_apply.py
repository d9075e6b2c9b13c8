"""examples/gitops/scripts/terraform-apply.sh with a stand-in `terraform` that behaves as Terraform does on
a signal: it finishes its current work, saves the state and exits 1."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
SCRIPT = REPO / "examples" / "gitops" / "scripts" / "terraform-apply.sh"

FAKE_TERRAFORM = """#!/usr/bin/env bash
echo "$*" >>"$CALLS"
trap 'echo "Interrupt received. Gracefully shutting down..."; sleep 0.5; echo "state saved"; exit 1' TERM INT
case " $* " in
  *" apply "*)
    [[ " $* " == *" -lock-timeout=10m "* ]] || { echo "Error: no -lock-timeout"; exit 1; }
    [[ " $* " != *"-chdir=tenants/broken-band "* ]] || { echo "Error: Migration failed"; exit 1; }
    for i in $(seq 1 "${APPLY_STEPS:-3}"); do echo "Still creating... [$i]"; sleep 0.1; done
    echo "Apply complete! Resources: 1 added, 0 changed, 0 destroyed."
    exit "${APPLY_STATUS:-0}" ;;
  *" init "*) echo "Terraform has been successfully initialized!"; exit "${INIT_STATUS:-0}" ;;
esac
"""


class TerraformApply(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory(prefix="terraform-apply-")
        self.addCleanup(tmp.cleanup)
        self.dir = Path(tmp.name)
        fake = self.dir / "terraform"
        fake.write_text(FAKE_TERRAFORM)
        fake.chmod(0o755)
        self.env = dict(os.environ, TERRAFORM=str(fake), APPLY_LOG=str(self.dir / "apply.log"),
                        GITHUB_OUTPUT=str(self.dir / "output"), CALLS=str(self.dir / "calls"))

    def start(self, **env: str) -> subprocess.Popen:
        return subprocess.Popen(["bash", str(SCRIPT)], env=dict(self.env, **env), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, cwd=self.dir,
                                # As the runner starts a step: SIGINT not ignored, its own process group.
                                start_new_session=True)

    def output(self) -> str:
        return (self.dir / "output").read_text()

    def test_success_failure_and_a_failed_init(self):
        for env, code, calls in (({}, "0", 2), ({"APPLY_STATUS": "1"}, "1", 2), ({"INIT_STATUS": "1"}, "1", 1)):
            with self.subTest(env=env):
                (self.dir / "output").write_text("")
                (self.dir / "calls").write_text("")
                proc = self.start(**env)
                out, _ = proc.communicate(timeout=60)
                self.assertEqual(proc.returncode, 0, out)  # the workflow fails the job later
                self.assertEqual(self.output(), f"exitcode={code}\n")
                self.assertEqual(len((self.dir / "calls").read_text().splitlines()), calls)
                log = (self.dir / "apply.log").read_text()
                self.assertIn("Terraform has been successfully initialized!", log)
                self.assertIn("Terraform has been successfully initialized!", out)  # also in the job log

    def test_each_touched_tenant_root_is_applied_on_its_own(self):
        for sub in ("alpha-band", "broken-band", "gamma-band"):
            (self.dir / "tenants" / sub).mkdir(parents=True)
            (self.dir / "tenants" / sub / "main.tf").write_text(f'module "orchestra-{sub}" {{}}\n')
        (self.dir / "shared").mkdir()
        (self.dir / "shared" / "root.tf").write_text('terraform {\n  backend "s3" {}\n}\n')
        proc = subprocess.Popen(["bash", str(SCRIPT)], cwd=self.dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=dict(self.env, TENANTS="alpha-band broken-band gamma-band"))
        out, _ = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, out)
        self.assertEqual(self.output(), "exitcode=1\n")  # one root failed: the job goes red
        results = (self.dir / "apply.log.results").read_text().split("\n")
        self.assertEqual(results, ["alpha-band 0", "broken-band 1", "gamma-band 0", ""])  # the others still applied
        calls = (self.dir / "calls").read_text()
        # Each root initialised with its own state key and the shared settings copied in.
        self.assertIn("-chdir=tenants/gamma-band init -input=false -reconfigure "
                      "-backend-config=key=tenants/gamma-band.tfstate -no-color", calls)
        self.assertTrue((self.dir / "tenants" / "alpha-band" / "shared-root.tf").is_file())
        self.assertNotIn("-chdir=tenants init", calls)  # no single root here

    def test_cancellation_is_passed_on_and_terraform_finishes(self):
        proc = self.start(APPLY_STEPS="100")
        deadline = time.monotonic() + 30
        log = self.dir / "apply.log"
        while not log.exists() or "Still creating" not in log.read_text(errors="replace"):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)  # what a cancelled job sends, to the step's shell only
        out, _ = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, out)
        self.assertEqual(self.output(), "exitcode=1\n")
        log = (self.dir / "apply.log").read_text()
        self.assertIn("asking Terraform to stop gracefully", log)
        self.assertTrue(log.rstrip().endswith("state saved"), log)  # Terraform's last words reach the log
        self.assertNotIn("Apply complete", log)


if __name__ == "__main__":
    unittest.main()
