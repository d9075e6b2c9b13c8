"""Every Terraform example and the orchestra module pass `terraform validate` with the built provider's
schema, on Terraform 1.0.3 and the newest release (dev_overrides; no network).

Registry snippets (examples/resources, data-sources) have no required_providers block of their own; the
test adds one. `import {}` blocks need Terraform 1.5, so Terraform 1.0 skips those files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
PROVIDER_BIN = Path(os.environ.get("STAGESUB_PROVIDER_BIN") or TARGET_DIR / "debug/terraform-provider-stagesub")
TERRAFORMS = {
    "1.0": Path(os.environ.get("STAGESUB_TERRAFORM_1_0") or REPO / ".tools/bin/terraform-1.0.3"),
    "newest": Path(os.environ.get("STAGESUB_TERRAFORM") or REPO / ".tools/bin/terraform"),
}
EXAMPLES = [
    "modules/orchestra",
    "examples/quickstart",
    "examples/gitops/tenants/bach-collegium",
    "examples/gitops/modules/orchestra",
    "examples/provider",
    "examples/resources/stagesub_orchestra_database",
    "examples/data-sources/stagesub_orchestra_database",
]
REQUIRED_PROVIDERS = 'terraform {\n  required_providers {\n    stagesub = {\n      source = "stagesub/stagesub"\n    }\n  }\n}\n'


class ExamplesValidate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not PROVIDER_BIN.is_file():
            raise AssertionError(f"{PROVIDER_BIN} is missing: run cargo build --workspace --bins")
        cls.tmp = tempfile.TemporaryDirectory(prefix="examples-validate-")
        bin_dir = Path(cls.tmp.name) / "bin"
        bin_dir.mkdir()
        shutil.copy2(PROVIDER_BIN, bin_dir / "terraform-provider-stagesub")
        cls.cli_config = Path(cls.tmp.name) / "dev.tfrc"
        cls.cli_config.write_text('provider_installation {\n  dev_overrides {\n'
                                  f'    "stagesub/stagesub" = {json.dumps(str(bin_dir))}\n  }}\n  direct {{}}\n}}\n')

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def copy_example(self, example: str, version: str) -> Path:
        """The example in a scratch folder laid out like the repository (modules keep their relative paths)."""
        root = Path(tempfile.mkdtemp(prefix=f"{version}-", dir=self.tmp.name))
        src = REPO / example
        if example.startswith("examples/gitops/"):
            shutil.copytree(REPO / "examples/gitops", root / "examples/gitops",
                            ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", ".terraform.lock.hcl"))
        else:
            shutil.copytree(src, root / example, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
        work = root / example
        if version == "1.0":
            for f in work.glob("import*.tf"):
                f.unlink()
        if example.startswith("examples/resources/"):
            # The snippet points at the app's Prisma migrations, which the provider reads at validate time.
            init = work / "prisma/migrations/20250101000000_init"
            init.mkdir(parents=True)
            (init / "migration.sql").write_text('CREATE TABLE "orchestra" ("id" INTEGER PRIMARY KEY);\n')
        if not any("required_providers" in f.read_text() for f in work.glob("*.tf")):
            (work / "zz_required_providers.tf").write_text(REQUIRED_PROVIDERS)
        return work

    def test_examples_validate_with_the_provider_schema(self):
        for version, terraform in TERRAFORMS.items():
            if not terraform.is_file():
                self.fail(f"{terraform} is missing: run scripts/setup-tools.sh")
            for example in EXAMPLES:
                with self.subTest(terraform=version, example=example):
                    work = self.copy_example(example, version)
                    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
                    env.update(TF_CLI_CONFIG_FILE=str(self.cli_config), CHECKPOINT_DISABLE="1")
                    # dev_overrides skip `init`, but module calls still need `get` to install modules.
                    got = subprocess.run([str(terraform), f"-chdir={work}", "get", "-no-color"], env=env,
                                         capture_output=True, text=True, timeout=300)
                    self.assertEqual(got.returncode, 0, got.stdout + got.stderr)
                    result = subprocess.run([str(terraform), f"-chdir={work}", "validate", "-no-color"], env=env,
                                            capture_output=True, text=True, timeout=300)
                    self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
                    self.assertIn("The configuration is valid", result.stdout)


if __name__ == "__main__":
    unittest.main()
