"""examples/gitops/scripts/changed-roots.sh and tenant-root.sh on a real Git repository: a change touches
only the tenant roots it names, shared files are reported as a fleet rollout, and each root gets its
own state setting."""

from __future__ import annotations

import os
import subprocess
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
SCRIPTS = REPO / "examples" / "gitops" / "scripts"


def tenant(sub: str) -> str:
    return f'module "orchestra-{sub}" {{\n  source    = "../../modules/orchestra"\n  subdomain = "{sub}"\n}}\n'


class ChangedRoots(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory(prefix="changed-roots-")
        self.addCleanup(tmp.cleanup)
        self.repo = Path(tmp.name)
        self.git("init", "-q", "-b", "main")
        for sub in ("alpha-band", "beta-band", "gamma-band"):
            self.write(f"tenants/{sub}/main.tf", tenant(sub))
        self.write("tenants/flat-band.tf", tenant("flat-band").replace("../../", "../"))
        self.write("shared/root.tf", 'terraform {\n  backend "gcs" {}\n}\n')
        self.write("modules/orchestra/main.tf", "# module\n")
        self.write("app/migrations/1_init/migration.sql", "SELECT 1;\n")
        self.commit("tenants")
        self.base = self.git("rev-parse", "HEAD")

    def write(self, path: str, text: str) -> None:
        (self.repo / path).parent.mkdir(parents=True, exist_ok=True)
        (self.repo / path).write_text(text)

    def git(self, *args: str) -> str:
        env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org", GIT_COMMITTER_NAME="t",
                   GIT_COMMITTER_EMAIL="t@example.org")
        return subprocess.run(["git", *args], cwd=self.repo, check=True, capture_output=True, text=True,
                              env=env).stdout.strip()

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def run_script(self, script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
        full = {k: v for k, v in os.environ.items() if k not in ("GITHUB_OUTPUT", "TENANT_BACKEND_CONFIG")}
        full.update(env)
        return subprocess.run(["bash", str(SCRIPTS / script), *args], cwd=self.repo, env=full, capture_output=True,
                              text=True, timeout=60)

    def test_a_one_tenant_change_names_that_tenant_alone(self):
        self.write("tenants/beta-band/main.tf", tenant("beta-band").replace("}", '  plan = "pro"\n}'))
        self.commit("beta changes plan")
        out = self.repo / "out"
        result = self.run_script("changed-roots.sh", BASE_REF=self.base, GITHUB_OUTPUT=str(out))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.split(), ["beta-band"])
        self.assertEqual(out.read_text(), "tenants=beta-band\nfleet=false\nfleet_files=\n")

    def test_new_deleted_and_shared_changes(self):
        self.write("tenants/delta-band/main.tf", tenant("delta-band"))
        self.write("tenants/alpha-band/.terraform.lock.hcl", "# lock\n")  # any file of the root counts
        for path in ("tenants/gamma-band/main.tf",):
            (self.repo / path).unlink()
        self.write("app/migrations/2_more/migration.sql", "SELECT 2;\n")
        self.write("README.md", "# infra\n")
        self.commit("mixed")
        out = self.repo / "out"
        result = self.run_script("changed-roots.sh", BASE_REF=self.base, GITHUB_OUTPUT=str(out))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(sorted(result.stdout.split()), ["alpha-band", "delta-band"])
        self.assertIn("tenant root tenants/gamma-band/ was deleted; nothing is destroyed", result.stderr)
        self.assertIn("fleet=true\n", out.read_text())
        self.assertIn("fleet_files=app/migrations/2_more/migration.sql\n", out.read_text())
        self.assertIn("stagesub-fleet apply", result.stderr)

    def test_a_moved_flat_file_counts_and_an_unmoved_one_is_pointed_at_split_state(self):
        (self.repo / "tenants/flat-band.tf").unlink()
        self.write("tenants/flat-band/main.tf", tenant("flat-band"))
        self.commit("the bridge moved flat-band")
        result = self.run_script("changed-roots.sh", BASE_REF=self.base)
        self.assertEqual(result.stdout.split(), ["flat-band"])
        self.write("tenants/other-band.tf", tenant("other-band"))
        self.commit("a flat file written by hand")
        result = self.run_script("changed-roots.sh")  # BASE_REF unset: the parent commit
        self.assertEqual(result.stdout.split(), [])
        self.assertIn("tenants/other-band.tf is in the single root tenants/", result.stderr)

    def test_tenant_root_backend_settings_per_backend(self):
        result = self.run_script("tenant-root.sh", "--backend-config", "alpha-band")
        self.assertEqual(result.stdout, "-backend-config=prefix=tenants/alpha-band\n", result.stderr)
        self.write("shared/root.tf", 'terraform {\n  # backend "s3" {}\n  backend "pg" {}\n}\n')
        result = self.run_script("tenant-root.sh", "--backend-config", "alpha-band")
        self.assertEqual(result.stdout, "-backend-config=schema_name=tenant_alpha_band\n", result.stderr)
        result = self.run_script("tenant-root.sh", "--backend-config", "alpha-band",
                                 TENANT_BACKEND_CONFIG="key=o/{subdomain}.tfstate")
        self.assertEqual(result.stdout, "-backend-config=key=o/alpha-band.tfstate\n")
        self.write("shared/root.tf", 'terraform {\n  backend "http" {}\n}\n')
        result = self.run_script("tenant-root.sh", "--backend-config", "alpha-band")
        self.assertEqual(result.returncode, 2)
        self.assertIn("set TENANT_BACKEND_CONFIG", result.stderr)
        for bad in ("../etc", "nope-band", "Alpha"):
            result = self.run_script("tenant-root.sh", "--prepare", bad)
            self.assertEqual(result.returncode, 2, bad)
        result = self.run_script("tenant-root.sh", "--prepare", "alpha-band")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual((self.repo / "tenants/alpha-band/shared-root.tf").read_text(),
                         (self.repo / "shared/root.tf").read_text())


if __name__ == "__main__":
    unittest.main()
