"""The validation blocks of modules/orchestra, run by real Terraform 1.0 and the newest release.

Only variables.tf is loaded (no provider needed): `terraform plan` evaluates every validation block
and reports the failing ones. Terraform binaries: STAGESUB_TERRAFORM_1_0 and STAGESUB_TERRAFORM
(defaults under .tools/bin, installed by scripts/setup-tools.sh).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
MODULE = REPO / "modules" / "orchestra"
TERRAFORMS = {
    "1.0": Path(os.environ.get("STAGESUB_TERRAFORM_1_0") or REPO / ".tools/bin/terraform-1.0.3"),
    "newest": Path(os.environ.get("STAGESUB_TERRAFORM") or REPO / ".tools/bin/terraform"),
}
GOOD = {
    "subdomain": "bach-collegium",
    "orchestra_name": 'Wiener "Phil" ${not_a_template} Ünïcødé',
    "contact_email": "office@bach-collegium.example",
    "plan": "pro",
    "region": "eu-central-1",
    "archived": False,
    "stripe_customer_id": "cus_QmE8ifJ0lP1rXh",
    "stripe_subscription_id": "sub_1PvY3nLkdIwHu7ix4yhHXr9g",
    "allowed_cidrs": ["203.0.113.0/24", "2001:db8::/32"],
}


def plan(terraform: Path, values: dict) -> subprocess.CompletedProcess:
    if not terraform.is_file():
        raise AssertionError(f"{terraform} is missing: run scripts/setup-tools.sh")
    with tempfile.TemporaryDirectory(prefix="orchestra-vars-") as tmp:
        shutil.copy(MODULE / "variables.tf", tmp)
        Path(tmp, "values.tfvars.json").write_text(json.dumps(values))
        env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
        env.update(TF_CLI_CONFIG_FILE=os.devnull, CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1")
        return subprocess.run(
            [str(terraform), "plan", "-input=false", "-no-color", "-lock=false", "-refresh=false",
             "-var-file=values.tfvars.json"],
            cwd=tmp, env=env, capture_output=True, text=True, timeout=120,
        )


class OrchestraModuleValidation(unittest.TestCase):
    def assert_rejected(self, name: str, value, message: str) -> None:
        for version, terraform in TERRAFORMS.items():
            with self.subTest(terraform=version, variable=name, value=value):
                result = plan(terraform, dict(GOOD, **{name: value}))
                output = " ".join((result.stdout + result.stderr).split())
                self.assertNotEqual(result.returncode, 0, output)
                self.assertIn(message, output)
                # Terraform 1.0 points at `variable "name"`, newer releases also show `var.name`.
                self.assertTrue(f'variable "{name}"' in output or f"var.{name} is" in output, output)

    def test_good_values_and_nulls_pass_on_every_terraform(self):
        nulls = dict(GOOD, contact_email=None, plan=None, region=None, archived=None, allowed_cidrs=None,
                     stripe_customer_id=None, stripe_subscription_id=None)
        for version, terraform in TERRAFORMS.items():
            for values in (GOOD, nulls):
                with self.subTest(terraform=version, values=values):
                    result = plan(terraform, values)
                    self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_subdomain_must_be_a_dns_label(self):
        for bad in ("ab", "-abc", "abc-", "Bach", "bach_collegium", "a" * 64, "bach.collegium"):
            self.assert_rejected("subdomain", bad, "must be 3-63 characters")
        for version, terraform in TERRAFORMS.items():
            with self.subTest(terraform=version):
                self.assertEqual(plan(terraform, dict(GOOD, subdomain="a" * 63)).returncode, 0)

    def test_subdomain_rejects_double_hyphen_at_3_4_and_reserved_names(self):
        self.assert_rejected("subdomain", "xn--bach", 'must not have "--" at positions 3-4')
        self.assert_rejected("subdomain", "www", "is reserved")
        self.assert_rejected("subdomain", "supabase", "is reserved")
        for version, terraform in TERRAFORMS.items():
            with self.subTest(terraform=version):
                self.assertEqual(plan(terraform, dict(GOOD, subdomain="bach--x")).returncode, 0)

    def test_reserved_subdomains_match_the_bridge(self):
        tf = (MODULE / "variables.tf").read_text()
        module_list = re.search(r"condition = !contains\(\[(.*?)\]", tf, re.S).group(1)
        rust = (REPO / "tenant" / "src" / "lists.rs").read_text()
        bridge_list = re.search(r"RESERVED_SUBDOMAINS: &\[&str\] = &\[(.*?)\];", rust, re.S).group(1)
        words = lambda text: sorted(re.findall(r'"([^"]+)"', text))  # noqa: E731
        self.assertEqual(words(module_list), words(bridge_list),
                         "modules/orchestra/variables.tf and tenant/src/lists.rs (stagesub-tenant) list different reserved subdomains")

    def test_orchestra_name_length_and_control_characters(self):
        self.assert_rejected("orchestra_name", "", "must be 1-256 characters")
        self.assert_rejected("orchestra_name", "x" * 257, "must be 1-256 characters")
        self.assert_rejected("orchestra_name", "Bach\nCollegium", "must not contain control characters")
        self.assert_rejected("orchestra_name", "Bach\u0085", "must not contain control characters")

    def test_other_tenant_values(self):
        self.assert_rejected("contact_email", "office at example.org", "must look like name@example.org")
        self.assert_rejected("contact_email", "a@b", "must look like name@example.org")
        self.assert_rejected("plan", "gold", 'must be one of "free", "pro", "enterprise"')
        self.assert_rejected("region", "EU Central", "must be a region code")
        self.assert_rejected("stripe_customer_id", "sub_123", "Stripe customer id")
        self.assert_rejected("stripe_subscription_id", "cus_123", "Stripe subscription id")
        self.assert_rejected("allowed_cidrs", ["203.0.113.0/24", "everyone"], "must be a CIDR range")


if __name__ == "__main__":
    unittest.main()
