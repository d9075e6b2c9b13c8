"""scripts/demo/lib.sh reads the bridge's publish job as done, parked or pending. It used to split psql's
'|'-separated columns with `case` patterns, and `f\\|?*` ("parked, with a reason") also matched `f||`, a
job still pending with no error yet: the demo then failed at step 7 with "the bridge parked
publishing:" and an empty reason. Here the real query runs against the bridge's own schema in a
scratch database on the test PostgreSQL."""

from __future__ import annotations

import os
import secrets
import subprocess
import unittest
import urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
LIB = REPO / "scripts" / "demo" / "lib.sh"
SCHEMA = REPO / "bridge" / "src" / "store" / "schema.sql"
ADMIN_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def lib_bash(script: str, **env: str) -> subprocess.CompletedProcess:
    """Runs script in bash with lib.sh sourced as demo.sh sources it (errexit, pipefail, its ERR trap)."""
    prelude = f"set -euo pipefail; STEPS=1; LOGS=$(mktemp -d); source {LIB}; "
    return subprocess.run(["bash", "-c", prelude + script], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, **env))


def state_of(row: str) -> tuple[str, str]:
    result = subprocess.run(["bash", "-c", f"set -euo pipefail; STEPS=1; LOGS=$(mktemp -d); source {LIB}; "
                             'publish_job_state "$1"; printf "%s\\n%s" "$JOB_STATE" "$JOB_DETAIL"', "bash", row],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    state, _, detail = result.stdout.partition("\n")
    return state, detail


class PublishJobState(unittest.TestCase):
    def test_rows(self):
        cases = {
            "": ("pending", ""),  # no job yet
            '{"done":false,"parked_reason":null,"last_error":null}': ("pending", ""),  # was "parked: "
            '{"done":false,"parked_reason":null,"last_error":"remote: a|b"}': ("pending", "remote: a|b"),
            '{"done":false,"parked_reason":"","last_error":null}': ("parked", ""),
            '{"done":false,"parked_reason":"bad | value\\nline 2","last_error":"x"}': ("parked", "bad | value line 2"),
            '{"done":true,"parked_reason":null,"last_error":"an old error"}': ("done", "an old error"),
        }
        for row, want in cases.items():
            with self.subTest(row=row):
                self.assertEqual(state_of(row), want)


class PublishJobRow(unittest.TestCase):
    """The query of publish_job_row against the bridge's schema.sql."""

    def setUp(self) -> None:
        self.db = f"stagesub_demo_lib_{secrets.token_hex(4)}"
        self.psql(ADMIN_URL, f'CREATE DATABASE "{self.db}"')
        self.addCleanup(self.psql, ADMIN_URL, f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
        parts = urllib.parse.urlsplit(ADMIN_URL)
        self.url = urllib.parse.urlunsplit(parts._replace(path="/" + self.db))
        self.psql(self.url, SCHEMA.read_text())

    def psql(self, url: str, sql: str) -> None:
        subprocess.run(["psql", url, "-XAtq", "-v", "ON_ERROR_STOP=1"], input=sql, check=True, capture_output=True,
                       text=True, timeout=60)

    def state(self, sub: str) -> tuple[str, str]:
        result = lib_bash(f'publish_job_state "$(publish_job_row {sub})"; printf "%s\\n%s" "$JOB_STATE" "$JOB_DETAIL"',
                          BRIDGE_DATABASE_URL=self.url)
        self.assertEqual(result.returncode, 0, result.stderr)
        state, _, detail = result.stdout.partition("\n")
        return state, detail

    def test_pending_parked_and_done_jobs(self):
        self.assertEqual(self.state("nobody"), ("pending", ""))
        self.psql(self.url, "INSERT INTO jobs (kind, subject) VALUES ('publish', 'mozart-phil')")
        self.assertEqual(self.state("mozart-phil"), ("pending", ""))
        self.psql(self.url, "UPDATE jobs SET last_error = 'git push: [remote rejected] main -> main (a|b)'")
        self.assertEqual(self.state("mozart-phil"), ("pending", "git push: [remote rejected] main -> main (a|b)"))
        self.psql(self.url, "UPDATE jobs SET parked_reason = E'subdomain \"x|y\" is reserved\\nsee the admin'")
        self.assertEqual(self.state("mozart-phil"), ("parked", 'subdomain "x|y" is reserved see the admin'))
        # The newest job counts: a later publish of the same tenant that succeeded.
        self.psql(self.url, "INSERT INTO jobs (kind, subject, done_at) VALUES ('publish', 'mozart-phil', now())")
        self.assertEqual(self.state("mozart-phil")[0], "done")
        self.psql(self.url, "INSERT INTO jobs (kind, subject) VALUES ('welcome', 'mozart-phil')")  # another kind
        self.assertEqual(self.state("mozart-phil")[0], "done")


class DemoCommandLine(unittest.TestCase):
    """scripts/demo.sh --help (it exits before doing anything)."""

    def demo(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(REPO / "scripts" / "demo.sh"), *args], capture_output=True, text=True,
                              timeout=60)

    def test_help_goes_to_stdout_and_exits_0(self):
        for flag in ("--help", "-h"):
            result = self.demo(flag)
            self.assertEqual((result.returncode, result.stderr), (0, ""))
            self.assertTrue(result.stdout.startswith("stagesub end to end on one machine"), result.stdout)
            for text in ("Usage:", "--backend supabase|postgres", "--reset", "STAGESUB_DEMO_DIR"):
                self.assertIn(text, result.stdout)
            self.assertNotIn("set -euo", result.stdout)

    def test_unknown_argument_is_named_on_stderr_with_the_synopsis(self):
        result = self.demo("--bogus")
        self.assertEqual((result.returncode, result.stdout), (2, ""))
        self.assertTrue(result.stderr.startswith("demo: unknown argument '--bogus'\nUsage:\n"), result.stderr)
        self.assertIn("--help tells more", result.stderr)


if __name__ == "__main__":
    unittest.main()
