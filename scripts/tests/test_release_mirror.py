"""scripts/release.sh and scripts/install-provider-mirror.sh, end to end: package the built provider, lay
it into a filesystem mirror, and have real Terraform (1.0.3 and the newest) install it from there with
`terraform init` and run it for `terraform providers schema -json`.

Needs the provider binary (`cargo build -p terraform-provider-stagesub`, or STAGESUB_PROVIDER_BIN) and
Terraform from scripts/setup-tools.sh.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
import unittest
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
PROVIDER_BIN = Path(os.environ.get("STAGESUB_PROVIDER_BIN") or TARGET_DIR / "debug/terraform-provider-stagesub")
TERRAFORMS = {
    "1.0": Path(os.environ.get("STAGESUB_TERRAFORM_1_0") or REPO / ".tools/bin/terraform-1.0.3"),
    "newest": Path(os.environ.get("STAGESUB_TERRAFORM") or REPO / ".tools/bin/terraform"),
}
VERSION = "0.1.0"
TARGET = f"{platform.system().lower()}_{ {'x86_64': 'amd64', 'aarch64': 'arm64', 'arm64': 'arm64'}.get(platform.machine(), platform.machine())}"
NAME = "terraform-provider-stagesub"


def run(*cmd: str | Path, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    full.update(env)
    return subprocess.run([str(c) for c in cmd], cwd=REPO, env=full, capture_output=True, text=True, timeout=600)


class ReleaseAndMirror(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not PROVIDER_BIN.is_file():
            raise AssertionError(f"{PROVIDER_BIN} is missing: run cargo build --workspace --bins")
        cls.tmp = tempfile.TemporaryDirectory(prefix="release-mirror-")
        cls.dist = Path(cls.tmp.name) / "dist"
        cls.release = run(REPO / "scripts/release.sh", f"v{VERSION}", TARGET, STAGESUB_PROVIDER_BIN=str(PROVIDER_BIN),
                          DIST_DIR=str(cls.dist), SOURCE_DATE_EPOCH="1735689600")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_release_writes_the_registry_layout(self):
        self.assertEqual(self.release.returncode, 0, self.release.stderr)
        zip_name = f"{NAME}_{VERSION}_{TARGET}.zip"
        self.assertEqual(sorted(p.name for p in self.dist.iterdir()),
                         sorted([zip_name, f"{NAME}_{VERSION}_SHA256SUMS", f"{NAME}_{VERSION}_manifest.json"]))
        with zipfile.ZipFile(self.dist / zip_name) as z:
            [entry] = z.infolist()
            self.assertEqual(entry.filename, f"{NAME}_v{VERSION}")
            self.assertEqual(entry.external_attr >> 16 & 0o777, 0o755)
            self.assertEqual(z.read(entry), PROVIDER_BIN.read_bytes())
        manifest = json.loads((self.dist / f"{NAME}_{VERSION}_manifest.json").read_text())
        self.assertEqual(manifest["metadata"]["protocol_versions"], ["6.0"])
        sums = dict(reversed(line.split()) for line in (self.dist / f"{NAME}_{VERSION}_SHA256SUMS").read_text().splitlines())
        self.assertEqual(set(sums), {zip_name, f"{NAME}_{VERSION}_manifest.json"})
        for file, digest in sums.items():
            self.assertEqual(hashlib.sha256((self.dist / file).read_bytes()).hexdigest(), digest)

    def test_release_archives_are_reproducible(self):
        again = Path(self.tmp.name) / "again"
        result = run(REPO / "scripts/release.sh", VERSION, TARGET, STAGESUB_PROVIDER_BIN=str(PROVIDER_BIN),
                     DIST_DIR=str(again), SOURCE_DATE_EPOCH="1735689600")
        self.assertEqual(result.returncode, 0, result.stderr)
        zip_name = f"{NAME}_{VERSION}_{TARGET}.zip"
        self.assertEqual((again / zip_name).read_bytes(), (self.dist / zip_name).read_bytes())

    def test_bad_version_and_target_are_refused(self):
        result = run(REPO / "scripts/release.sh", "1.2")
        self.assertEqual(result.returncode, 2)
        self.assertIn("not a semantic version", result.stderr)
        result = run(REPO / "scripts/release.sh", VERSION, "plan9_mips")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("unknown target 'plan9_mips'", result.stderr)

    def test_terraform_installs_and_runs_the_provider_from_the_mirror(self):
        mirror = Path(self.tmp.name) / "mirror"
        cli_config = Path(self.tmp.name) / "terraform.tfrc"
        result = run(REPO / "scripts/install-provider-mirror.sh", self.dist, mirror, cli_config)
        self.assertEqual(result.returncode, 0, result.stderr)
        for host in ("registry.terraform.io", "registry.opentofu.org"):
            self.assertTrue((mirror / host / "stagesub/stagesub" / f"{NAME}_{VERSION}_{TARGET}.zip").is_file())
        for version, terraform in TERRAFORMS.items():
            with self.subTest(terraform=version):
                self.assertTrue(terraform.is_file(), f"{terraform} is missing: run scripts/setup-tools.sh")
                work = Path(self.tmp.name) / f"config-{version}"
                work.mkdir()
                (work / "main.tf").write_text(
                    'terraform {\n  required_providers {\n    stagesub = {\n      source  = "stagesub/stagesub"\n'
                    f'      version = "{VERSION}"\n    }}\n  }}\n}}\n')
                env = {"TF_CLI_CONFIG_FILE": str(cli_config), "CHECKPOINT_DISABLE": "1"}
                init = run(terraform, f"-chdir={work}", "init", "-input=false", "-no-color", **env)
                self.assertEqual(init.returncode, 0, init.stdout + init.stderr)
                self.assertIn(f"Installed stagesub/stagesub v{VERSION}", init.stdout)
                schema = run(terraform, f"-chdir={work}", "providers", "schema", "-json", **env)
                self.assertEqual(schema.returncode, 0, schema.stderr)
                schemas = json.loads(schema.stdout)["provider_schemas"]["registry.terraform.io/stagesub/stagesub"]
                self.assertIn("stagesub_orchestra_database", schemas["resource_schemas"])

    def test_mirror_refuses_an_archive_that_does_not_match_its_checksum(self):
        tampered = Path(self.tmp.name) / "tampered"
        shutil.copytree(self.dist, tampered)
        zip_path = tampered / f"{NAME}_{VERSION}_{TARGET}.zip"
        zip_path.write_bytes(zip_path.read_bytes() + b"\0")
        result = run(REPO / "scripts/install-provider-mirror.sh", tampered, Path(self.tmp.name) / "mirror-bad")
        self.assertEqual(result.returncode, 1)
        self.assertIn("checksum mismatch", result.stderr)
        self.assertFalse((Path(self.tmp.name) / "mirror-bad" / "registry.terraform.io").exists())

    def test_mirror_explains_an_empty_dist_folder(self):
        empty = Path(self.tmp.name) / "empty"
        empty.mkdir()
        result = run(REPO / "scripts/install-provider-mirror.sh", empty, Path(self.tmp.name) / "m")
        self.assertEqual(result.returncode, 1)
        self.assertIn("scripts/release.sh VERSION", result.stderr)


if __name__ == "__main__":
    unittest.main()
