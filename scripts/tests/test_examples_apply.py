"""examples/quickstart and examples/gitops applied for real: Terraform (1.0.3 and the newest) runs the
built terraform-provider-stagesub (through dev_overrides) on the `postgres` backend against the real
PostgreSQL at DATABASE_URL. Every run uses its own subdomain, so the tests can run in parallel and again.

Needs `cargo build -p terraform-provider-stagesub` (or STAGESUB_PROVIDER_BIN), scripts/setup-tools.sh and
psql.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import unittest
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent.parent
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target")
PROVIDER_BIN = Path(os.environ.get("STAGESUB_PROVIDER_BIN") or TARGET_DIR / "debug/terraform-provider-stagesub")
TERRAFORMS = {
    "1.0": Path(os.environ.get("STAGESUB_TERRAFORM_1_0") or REPO / ".tools/bin/terraform-1.0.3"),
    "newest": Path(os.environ.get("STAGESUB_TERRAFORM") or REPO / ".tools/bin/terraform"),
}
ADMIN_URL = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"


def psql(url: str, sql: str) -> str:
    result = subprocess.run(["psql", url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise AssertionError(f"psql failed: {result.stderr}")
    return result.stdout.strip()


def database_url(name: str) -> str:
    return urlunsplit(urlsplit(ADMIN_URL)._replace(path="/" + name))


def drop(database: str | None, role: str | None) -> None:
    """Last-resort cleanup for objects a test left behind (deletion protection, failed destroy)."""
    if database:
        psql(ADMIN_URL, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    if role and role != urlsplit(ADMIN_URL).username:
        psql(ADMIN_URL, f'DROP ROLE IF EXISTS "{role}"')


class Workspace:
    """A temporary copy of an example, with a CLI configuration whose dev_overrides use the built provider."""

    def __init__(self, test: unittest.TestCase, example: str, terraform: Path) -> None:
        for tool, hint in ((PROVIDER_BIN, "cargo build --workspace --bins"), (terraform, "scripts/setup-tools.sh")):
            if not tool.is_file():
                raise AssertionError(f"{tool} is missing: run {hint}")
        if shutil.which("psql") is None:
            raise AssertionError("psql is missing: install the PostgreSQL client")
        tmp = tempfile.TemporaryDirectory(prefix=f"example-{example}-")
        test.addCleanup(tmp.cleanup)
        self.root = Path(tmp.name)
        self.dir = self.root / example
        shutil.copytree(REPO / "examples" / example, self.dir,
                        ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", ".terraform.lock.hcl"))
        bin_dir = self.root / "bin"
        bin_dir.mkdir()
        shutil.copy2(PROVIDER_BIN, bin_dir / "terraform-provider-stagesub")
        (bin_dir / "terraform").symlink_to(terraform)  # psql_command calls `terraform output`
        cli_config = self.root / "dev.tfrc"
        cli_config.write_text('provider_installation {\n  dev_overrides {\n'
                              f'    "stagesub/stagesub" = {json.dumps(str(bin_dir))}\n  }}\n  direct {{}}\n}}\n')
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("TF_", "STAGESUB_", "SUPABASE_"))}
        self.env.update(TF_CLI_CONFIG_FILE=str(cli_config), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1",
                        STAGESUB_BACKEND="postgres", STAGESUB_POSTGRES_URL=ADMIN_URL,
                        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        self.terraform = terraform

    def tf(self, chdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.terraform), f"-chdir={chdir}", *args, "-no-color"],
                              env={**self.env, **env}, capture_output=True, text=True, timeout=600)


class Quickstart(unittest.TestCase):
    def test_apply_update_and_destroy_on_every_terraform(self):
        for version, terraform in TERRAFORMS.items():
            with self.subTest(terraform=version):
                ws = Workspace(self, "quickstart", terraform)
                sub = f"qs-{uuid.uuid4().hex[:10]}"
                env = {"TF_VAR_subdomain": sub}
                applied = ws.tf(ws.dir, "apply", "-auto-approve", "-input=false", **env)
                outputs = json.loads(ws.tf(ws.dir, "output", "-json").stdout or "{}")
                name = outputs.get("database_name", {}).get("value")
                self.addCleanup(drop, name, None)
                self.assertEqual(applied.returncode, 0, applied.stdout + applied.stderr)
                self.assertEqual(len(outputs["applied_migrations"]["value"]), 2, outputs["applied_migrations"])
                self.assertTrue(outputs["applied_migrations"]["value"][0].startswith("20250101000000_init"))

                shown = subprocess.run(["sh", "-c", outputs["psql_command"]["value"]], cwd=ws.dir, env=ws.env,
                                       capture_output=True, text=True, timeout=60)
                self.assertEqual(shown.returncode, 0, shown.stderr)
                self.assertIn("Quickstart Philharmonic", shown.stdout)

                plan = ws.tf(ws.dir, "plan", "-detailed-exitcode", "-input=false", **env)
                self.assertEqual(plan.returncode, 0, "a plan right after apply must be empty:\n" + plan.stdout)

                renamed = ws.tf(ws.dir, "apply", "-auto-approve", "-input=false",
                                TF_VAR_orchestra_name="Quickstart Symphony", **env)
                self.assertEqual(renamed.returncode, 0, renamed.stdout + renamed.stderr)
                self.assertEqual(psql(database_url(name), 'SELECT "name" FROM "Orchestra"'), "Quickstart Symphony")
                self.assertEqual(psql(database_url(name), 'SELECT count(*) FROM "Musician"'), "3")

                destroyed = ws.tf(ws.dir, "destroy", "-auto-approve", "-input=false", **env)
                self.assertEqual(destroyed.returncode, 0, destroyed.stdout + destroyed.stderr)
                self.assertEqual(psql(ADMIN_URL, f"SELECT count(*) FROM pg_database WHERE datname = '{name}'"), "0")


class Recorder(http.server.ThreadingHTTPServer):
    def __init__(self) -> None:
        self.paths: list[str] = []
        self.bodies: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                outer.bodies.append(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
                outer.paths.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class GitopsRepository(unittest.TestCase):
    """The example infra repository: a bridge-style commit adds a tenant file, CI applies and notifies."""

    def merge_tenant(self, terraform: Path, tenant_values: dict[str, str] | None = None,
                     broken_migration: bool = False) -> tuple[Workspace, str]:
        ws = Workspace(self, "gitops", terraform)
        repo = ws.dir
        git_env = dict(os.environ, GIT_AUTHOR_NAME="ci", GIT_AUTHOR_EMAIL="ci@example.org",
                       GIT_COMMITTER_NAME="ci", GIT_COMMITTER_EMAIL="ci@example.org")

        def git(*args: str) -> None:
            subprocess.run(["git", *args], cwd=repo, env=git_env, check=True, capture_output=True)

        example = (repo / "tenants" / "bach-collegium" / "main.tf").read_text()
        shutil.rmtree(repo / "tenants" / "bach-collegium")
        if broken_migration:
            broken = repo / "app/migrations/20250301000000_broken"
            broken.mkdir()
            (broken / "migration.sql").write_text('ALTER TABLE "NoSuchTable" ADD COLUMN "x" TEXT;\n')
        git("init", "-q", "-b", "main")
        git("add", "-A")
        git("commit", "-q", "-m", "infra repository")
        # The bridge's commit: the example tenant file under a subdomain of this run.
        sub = f"bach-{uuid.uuid4().hex[:10]}"
        text = example.replace("bach-collegium", sub)
        for name, value in (tenant_values or {}).items():
            text = re.sub(rf"^(  {name} +=) .*$", rf"\1 {value}", text, flags=re.M)
        (repo / "tenants" / sub).mkdir()
        (repo / "tenants" / sub / "main.tf").write_text(text)
        git("add", "-A")
        git("commit", "-q", "-m", f"tenant {sub}")
        # The tenant's own root module: shared/root.tf copied in as CI does, then the module installed
        # (dev_overrides skip init).
        prepared = subprocess.run(["bash", "scripts/tenant-root.sh", "--prepare", sub], cwd=repo, capture_output=True,
                                  text=True, timeout=60)
        self.assertEqual(prepared.returncode, 0, prepared.stderr)
        self.assertTrue((repo / "tenants" / sub / "shared-root.tf").is_file())
        got = ws.tf(repo / "tenants" / sub, "get")
        self.assertEqual(got.returncode, 0, got.stdout + got.stderr)
        return ws, sub

    def apply(self, ws: Workspace, sub: str) -> tuple[subprocess.CompletedProcess, dict]:
        """terraform apply of the tenant's root as the workflow runs it; returns the result and its state values."""
        tenants = ws.dir / "tenants" / sub
        applied = ws.tf(tenants, "apply", "-auto-approve", "-input=false")
        (ws.dir / "apply.log").write_text(applied.stdout + applied.stderr)
        state = json.loads(ws.tf(tenants, "show", "-json").stdout or "{}")
        values: dict = {}
        for module in state.get("values", {}).get("root_module", {}).get("child_modules", []):
            for resource in module.get("resources", []):
                values = resource["values"]
        self.addCleanup(drop, values.get("database_name"), values.get("database_user"))
        return applied, values

    def notify(self, ws: Workspace, exit_code: int) -> tuple[subprocess.CompletedProcess, "Recorder"]:
        bridge = Recorder()
        self.addCleanup(bridge.server_close)
        self.addCleanup(bridge.shutdown)
        notified = subprocess.run(
            ["bash", str(ws.dir / "scripts" / "notify-bridge.sh")], cwd=ws.dir, capture_output=True, text=True,
            env={**ws.env, "BRIDGE_URL": f"http://127.0.0.1:{bridge.server_address[1]}",
                 "BRIDGE_API_TOKEN": "t0ken", "APPLY_EXIT_CODE": str(exit_code),
                 "APPLY_LOG": str(ws.dir / "apply.log"), "TERRAFORM": str(ws.terraform)},
            timeout=120)
        return notified, bridge

    def test_tenant_file_applies_with_the_shared_app_and_reports_ready(self):
        ws, sub = self.merge_tenant(TERRAFORMS["newest"])
        applied, values = self.apply(ws, sub)
        self.assertEqual(applied.returncode, 0, applied.stdout + applied.stderr)

        # The module found app/migrations and app/seed.sql (two levels up) by convention.
        self.assertEqual(values["applied_migrations"][0][:len("20250101000000_init")], "20250101000000_init")
        self.assertEqual(len(values["applied_migrations"]), 2)
        url = database_url(values["database_name"])
        self.assertEqual(psql(url, 'SELECT "subdomain", "name", "plan" FROM "Orchestra"'), f"{sub}|Bach Collegium|pro")

        notified, bridge = self.notify(ws, 0)
        self.assertEqual(notified.returncode, 0, notified.stderr)
        self.assertEqual(bridge.paths, [f"/api/tenants/{sub}/ready"])

        # Deletion protection is on by default: destroying a tenant fails and keeps the database.
        destroyed = ws.tf(ws.dir / "tenants" / sub, "destroy", "-auto-approve", "-input=false")
        self.assertNotEqual(destroyed.returncode, 0)
        self.assertIn("deletion_protection", destroyed.stdout + destroyed.stderr)
        self.assertEqual(psql(url, 'SELECT count(*) FROM "Orchestra"'), "1")

    def test_invalid_tenant_value_fails_at_plan_and_is_reported_failed(self):
        for version, terraform in TERRAFORMS.items():
            with self.subTest(terraform=version):
                ws, sub = self.merge_tenant(terraform, {"plan": '"gold"'})
                applied, values = self.apply(ws, sub)
                self.assertNotEqual(applied.returncode, 0)
                self.assertEqual(values, {})
                notified, bridge = self.notify(ws, applied.returncode)
                self.assertEqual(notified.returncode, 0, notified.stderr)
                self.assertEqual(bridge.paths, [f"/api/tenants/{sub}/failed"])
                self.assertIn('The plan must be one of "free", "pro", "enterprise"', " ".join(bridge.bodies[0].split()))

    def test_failing_migration_is_reported_failed_with_its_error(self):
        ws, sub = self.merge_tenant(TERRAFORMS["newest"], broken_migration=True)
        applied, _ = self.apply(ws, sub)
        self.assertNotEqual(applied.returncode, 0)
        notified, bridge = self.notify(ws, applied.returncode)
        self.assertEqual(notified.returncode, 0, notified.stderr)
        self.assertEqual(bridge.paths, [f"/api/tenants/{sub}/failed"])
        report = bridge.bodies[0]
        self.assertIn(f"module.orchestra-{sub}.stagesub_orchestra_database.this", report)
        self.assertIn("20250301000000_broken", report)


if __name__ == "__main__":
    unittest.main()
