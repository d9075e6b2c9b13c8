"""examples/gitops/scripts/notify-bridge.sh against a recording HTTP server on 127.0.0.1, a real git
repository and real Terraform reading a local state file (`terraform state list`)."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import tempfile
import threading
import time
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
SCRIPT = REPO / "examples" / "gitops" / "scripts" / "notify-bridge.sh"
TERRAFORM = Path(os.environ.get("STAGESUB_TERRAFORM") or REPO / ".tools/bin/terraform")
TOKEN = "bridge-token-7f3a9c"


class Bridge(http.server.ThreadingHTTPServer):
    """Records every request; answers `status_for[subdomain]` (default 200): a number, or a list of them
    answered in turn (the last one from then on)."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status_for: dict[str, int | list[int]] = {}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = self.path.strip("/").split("/")  # api/tenants/<sub>/<outcome>
                kind = self.headers.get("Content-Type", "")
                outer.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "type": kind,
                                       "body": json.loads(body) if kind == "application/json" else body.decode()})
                status = outer.status_for.get(parts[2], 200)
                if isinstance(status, list):
                    status = status.pop(0) if len(status) > 1 else status[0]
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b'{"ok":true}' if status < 300 else b'{"error":"nope"}')

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def outcomes(self) -> dict[str, str]:
        return {r["path"].split("/")[3]: r["path"].split("/")[4] for r in self.requests}

    def body(self, sub: str) -> dict:
        return next(r["body"] for r in self.requests if r["path"].split("/")[3] == sub)


def tenant_file(sub: str) -> str:
    return (f'# Managed by stagesub-bridge: changes come from Stripe, edits here are overwritten.\n'
            f'module "orchestra-{sub}" {{\n  source    = "../modules/orchestra"\n  subdomain = "{sub}"\n}}\n')


def state_with(*subs: str) -> str:
    resources = [{"module": f"module.orchestra-{s}", "mode": "managed", "type": "stagesub_orchestra_database",
                  "name": "this", "provider": 'provider["registry.terraform.io/stagesub/stagesub"]',
                  "instances": [{"schema_version": 0, "attributes": {"id": s}, "sensitive_attributes": []}]}
                 for s in subs]
    return json.dumps({"version": 4, "terraform_version": "1.0.3", "serial": 1,
                       "lineage": "3f0c2d7e-0000-4000-8000-000000000001", "outputs": {}, "resources": resources})


PARTIAL_FAILURE_LOG = """
Terraform used the selected providers to generate the following execution plan. Resource actions are
indicated with the following symbols:
  + create

Terraform will perform the following actions:

  # module.orchestra-bach-collegium.stagesub_orchestra_database.this will be created
  + resource "stagesub_orchestra_database" "this" {
      + subdomain = "bach-collegium"
    }

  # module.orchestra-brahms-ensemble.stagesub_orchestra_database.this will be created
  + resource "stagesub_orchestra_database" "this" {
      + subdomain = "brahms-ensemble"
    }

  # module.orchestra-brahms-ensemble-two.stagesub_orchestra_database.this will be created
  + resource "stagesub_orchestra_database" "this" {
      + subdomain = "brahms-ensemble-two"
    }

Plan: 3 to add, 0 to change, 0 to destroy.
module.orchestra-bach-collegium.stagesub_orchestra_database.this: Creating...
module.orchestra-brahms-ensemble.stagesub_orchestra_database.this: Creating...
module.orchestra-bach-collegium.stagesub_orchestra_database.this: Creation complete after 41s [id=abcdefghijklmnopqrst]

Error: Migration failed

  with module.orchestra-brahms-ensemble.stagesub_orchestra_database.this,
  on ../modules/orchestra/main.tf line 16, in resource "stagesub_orchestra_database" "this":
  16: resource "stagesub_orchestra_database" "this" {

Migration 20250201000000_concerts failed: relation "Concert" already exists.
"""

PLAN_FAILURE_LOG = """
Error: Invalid value for variable

  on brahms-ensemble.tf line 5, in module "orchestra-brahms-ensemble":
   5:   plan                   = "gold"

The plan must be one of "free", "pro", "enterprise" (or null).
"""


class NotifyBridge(unittest.TestCase):
    def setUp(self) -> None:
        if not TERRAFORM.is_file():
            self.fail(f"{TERRAFORM} is missing: run scripts/setup-tools.sh")
        self.tmp = tempfile.TemporaryDirectory(prefix="notify-bridge-")
        self.repo = Path(self.tmp.name) / "infra"
        (self.repo / "tenants").mkdir(parents=True)
        self.git("init", "-q", "-b", "main")
        (self.repo / "tenants" / "providers.tf").write_text('provider "stagesub" {}\n')
        for sub in ("mozart-phil", "retired-band"):
            (self.repo / "tenants" / f"{sub}.tf").write_text(tenant_file(sub))
        self.commit("existing tenants")
        self.base = self.git("rev-parse", "HEAD")
        for sub in ("bach-collegium", "brahms-ensemble", "brahms-ensemble-two"):
            (self.repo / "tenants" / f"{sub}.tf").write_text(tenant_file(sub))
        (self.repo / "tenants" / "mozart-phil.tf").write_text(tenant_file("mozart-phil").replace("source", "# edited\n  source"))
        (self.repo / "tenants" / "retired-band.tf").unlink()
        (self.repo / "tenants" / "providers.tf").write_text('provider "stagesub" {}\n# tweak\n')
        (self.repo / "README.md").write_text("not a tenant\n")
        self.commit("three new tenants, one changed, one removed")
        self.head = self.git("rev-parse", "HEAD")
        self.bridge = Bridge()
        self.addCleanup(self.bridge.server_close)
        self.addCleanup(self.bridge.shutdown)
        self.addCleanup(self.tmp.cleanup)

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.repo, check=True, capture_output=True, text=True,
                              env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org",
                                       GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.org")).stdout.strip()

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def run_script(self, exit_code: int, log: str | None = None, **env: str) -> subprocess.CompletedProcess:
        full = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "BRIDGE_", "APPLY_"))}
        full.update(BRIDGE_URL=self.bridge.url + "/", BRIDGE_API_TOKEN=TOKEN, APPLY_EXIT_CODE=str(exit_code),
                    TERRAFORM=str(TERRAFORM), TF_CLI_CONFIG_FILE=os.devnull, RUN_URL="https://ci.example/run/7",
                    BRIDGE_RETRIES="1")
        if log is not None:
            (self.repo / "apply.log").write_text(log)
            full["APPLY_LOG"] = str(self.repo / "apply.log")
        full.update(env)
        result = subprocess.run(["bash", str(SCRIPT)], cwd=self.repo, env=full, capture_output=True, text=True,
                                timeout=120)
        self.assertNotIn(TOKEN, result.stdout + result.stderr)
        return result

    def test_successful_apply_reports_every_added_or_changed_tenant_ready(self):
        result = self.run_script(0)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.bridge.outcomes(), {"bach-collegium": "ready", "brahms-ensemble": "ready",
                                                  "brahms-ensemble-two": "ready", "mozart-phil": "ready"})
        for request in self.bridge.requests:
            self.assertEqual(request["auth"], f"Bearer {TOKEN}")
            self.assertEqual(request["type"], "application/json")
            self.assertEqual(request["body"], {"commit": self.head, "run_url": "https://ci.example/run/7"})

    def test_partial_failure_sorts_tenants_by_what_the_apply_did(self):
        (self.repo / "tenants" / "terraform.tfstate").write_text(
            state_with("mozart-phil", "bach-collegium", "brahms-ensemble"))
        result = self.run_script(1, PARTIAL_FAILURE_LOG)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.bridge.outcomes(), {
            "bach-collegium": "ready",  # created before the error
            "brahms-ensemble": "failed",  # its own error (tainted in state)
            "brahms-ensemble-two": "failed",  # never reached
            "mozart-phil": "ready",  # unchanged by the plan, in state
        })
        own_error = self.bridge.body("brahms-ensemble")
        self.assertTrue(own_error.startswith(f"terraform apply failed for brahms-ensemble at commit {self.head}\n"
                                             "CI run: https://ci.example/run/7\n\nError: Migration failed"), own_error)
        self.assertIn('relation "Concert" already exists', own_error)
        self.assertNotIn("bach-collegium", own_error)  # only the tenant's own error block
        not_reached = self.bridge.body("brahms-ensemble-two")
        self.assertIn("\n\nterraform apply failed before", not_reached)
        self.assertIn("Creation complete", not_reached)  # the end of the log

    def test_failed_plan_reports_every_tenant_failed(self):
        (self.repo / "tenants" / "terraform.tfstate").write_text(state_with("mozart-phil"))
        result = self.run_script(1, PLAN_FAILURE_LOG)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(set(self.bridge.outcomes().values()), {"failed"})
        self.assertIn('The plan must be one of "free"', self.bridge.body("brahms-ensemble"))
        self.assertIn("failed before", self.bridge.body("mozart-phil"))

    def test_unknown_tenant_warns_and_bridge_errors_fail_the_step(self):
        self.bridge.status_for.update({"bach-collegium": 404, "mozart-phil": 500})
        result = self.run_script(0)
        self.assertEqual(result.returncode, 1)
        self.assertIn("bach-collegium: the bridge does not know this tenant", result.stderr)
        self.assertIn("mozart-phil: could not report ready (HTTP 500)", result.stderr)
        self.assertIn("1 notice(s) were not delivered", result.stderr)
        self.assertEqual(len([r for r in self.bridge.requests if "mozart-phil" in r["path"]]), 2)  # one retry

    def test_bridge_that_comes_back_is_waited_for(self):
        # A restarting bridge: no answer behind the proxy (502, 503), then accepted.
        self.bridge.status_for["bach-collegium"] = [502, 503, 503, 200]
        result = self.run_script(0, BRIDGE_RETRIES="5", BRIDGE_RETRY_WINDOW="60")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len([r for r in self.bridge.requests if "bach-collegium" in r["path"]]), 4)
        self.assertIn("bach-collegium: ready not delivered (HTTP 503); retry 3 in 4s", result.stderr)
        self.assertEqual(set(self.bridge.outcomes().values()), {"ready"})

    def test_unreachable_bridge_fails_the_step_after_the_retry_window(self):
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        self.addCleanup(closed.close)
        started = time.monotonic()
        result = self.run_script(0, BRIDGE_URL=f"http://127.0.0.1:{closed.getsockname()[1]}",
                                 BRIDGE_RETRIES="50", BRIDGE_RETRY_WINDOW="4")
        elapsed = time.monotonic() - started
        self.assertEqual(result.returncode, 1, result.stderr)  # the CI job goes red, never silently green
        self.assertIn("4 notice(s) were not delivered", result.stderr)
        self.assertIn("mozart-phil: could not report ready (HTTP 000)", result.stderr)
        self.assertIn("retry 2 in 2s", result.stderr)  # retried while the window lasted
        self.assertLess(elapsed, 30)  # the window bounds the waiting, whatever BRIDGE_RETRIES says

    def test_base_ref_of_a_new_branch_falls_back_to_the_parent_commit(self):
        result = self.run_script(0, BASE_REF="0" * 40)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(self.bridge.requests), 4)
        self.bridge.requests.clear()
        result = self.run_script(0, BASE_REF=self.head)
        self.assertIn("no tenant file changed", result.stdout)
        self.assertEqual(self.bridge.requests, [])

    def test_tenant_roots_are_reported_with_their_own_results(self):
        # One root module per tenant: tenants/<sub>/main.tf; terraform-apply.sh records each root's status.
        for sub in ("solo-band", "second-band"):
            (self.repo / "tenants" / sub).mkdir()
            (self.repo / "tenants" / sub / "main.tf").write_text(tenant_file(sub).replace("../modules", "../../modules"))
        self.commit("two tenant roots")
        (self.repo / "results").write_text("solo-band 0\nsecond-band 1\n")
        log = "Error: Migration failed\n\n  with module.orchestra-second-band.stagesub_orchestra_database.this,\n"
        result = self.run_script(1, log, BASE_REF=self.head, APPLY_RESULTS=str(self.repo / "results"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.bridge.outcomes(), {"solo-band": "ready", "second-band": "failed"})
        self.assertIn("Migration failed", self.bridge.body("second-band"))

    def test_usage_errors_name_what_to_set(self):
        result = self.run_script(1)  # failed apply without a log
        self.assertEqual(result.returncode, 2)
        self.assertIn("APPLY_LOG must name the file", result.stderr)
        result = self.run_script(0, BRIDGE_API_TOKEN="")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("BRIDGE_API_TOKEN", result.stderr)


if __name__ == "__main__":
    unittest.main()
