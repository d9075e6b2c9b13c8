"""The example apps' migrations and seeds run on the real PostgreSQL, and the seeds are idempotent.

Each app gets its own uniquely named database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/
postgres, is the admin connection); the tenant values are set as the provider sets them, as
`stagesub.*` settings, and the seed runs twice.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import unittest
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent.parent
ADMIN_URL = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
APPS = {
    "gitops": (REPO / "examples/gitops/app/migrations", REPO / "examples/gitops/app/seed.sql"),
    "quickstart": (REPO / "examples/quickstart/prisma/migrations", REPO / "examples/quickstart/seed.sql"),
}


def psql(url: str, *args: str) -> str:
    if shutil.which("psql") is None:
        raise AssertionError("psql is missing: install the PostgreSQL client (scripts/setup-tools.sh)")
    result = subprocess.run(["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", *args],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise AssertionError(f"psql {' '.join(args)} failed: {result.stderr}")
    return result.stdout.strip()


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


class ExampleApps(unittest.TestCase):
    def run_app(self, app: str, settings: dict[str, str]) -> str:
        migrations, seed = APPS[app]
        name = f"example_{app}_{uuid.uuid4().hex[:12]}"
        psql(ADMIN_URL, "-c", f'CREATE DATABASE "{name}"')
        self.addCleanup(psql, ADMIN_URL, "-c", f'DROP DATABASE IF EXISTS "{name}"')
        url = with_database(ADMIN_URL, name)
        folders = sorted(p for p in migrations.iterdir() if p.is_dir())
        self.assertGreaterEqual(len(folders), 2, "Prisma layout: <timestamp>_<name>/migration.sql")
        for folder in folders:
            psql(url, "-f", str(folder / "migration.sql"))
        # Values travel as settings, the way the provider passes them: quoted here by set_config.
        set_settings = [arg for key, value in settings.items()
                        for arg in ("-c", f"SELECT set_config('stagesub.{key}', {quote(value)}, false)")]
        for _ in range(2):
            psql(url, *set_settings, "-f", str(seed))
        return url

    def test_gitops_app_migrates_and_seeds_idempotently(self):
        name = "Bach's \"Collegium\" ${x}; DROP TABLE x; --"
        url = self.run_app("gitops", {"subdomain": "bach-collegium", "orchestra_name": name,
                                      "contact_email": "", "plan": "pro"})
        self.assertEqual(psql(url, "-c", 'SELECT "subdomain", "name", "contactEmail" IS NULL, "plan" FROM "Orchestra"'),
                         f"bach-collegium|{name}|t|pro")
        self.assertEqual(psql(url, "-c", 'SELECT count(*) FROM "Concert"'), "1")

    def test_quickstart_app_migrates_and_seeds_idempotently(self):
        url = self.run_app("quickstart", {"subdomain": "quickstart-phil", "orchestra_name": "Quickstart",
                                          "contact_email": "office@quickstart-phil.example", "plan": "free"})
        self.assertEqual(psql(url, "-c", 'SELECT "name", "contactEmail" FROM "Orchestra"'),
                         "Quickstart|office@quickstart-phil.example")
        self.assertEqual(psql(url, "-c", 'SELECT count(*) FROM "Musician"'), "3")


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


if __name__ == "__main__":
    unittest.main()
