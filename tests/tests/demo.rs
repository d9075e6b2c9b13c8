//! `scripts/demo.sh`, the README's main-job command, run for real end to end: a signed Stripe
//! checkout event reaches the bridge, the tenant file lands in a bare Git repository, Terraform
//! 1.15.5 applies it with the built provider, the ready callback triggers the welcome email, and the
//! orchestra's database is migrated and seeded. Each test uses its own state folder (so its own infra
//! repository, bridge database and stand-in) and a unique subdomain, and resets it at the end.
//!
//! The binaries must be built (`cargo build --workspace --bins`); the script runs with `--no-build`.
//! Runs in nextest's `terraform` test group (package `stagesub-acceptance`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use stagesub_acceptance::{binary_path, repo_root, target_dir};

/// One demo state folder; `scripts/demo.sh --reset` on drop stops its processes and drops its
/// databases (bridge database, and tenant databases on the postgres backend).
struct Demo {
    backend: &'static str,
    dir: tempfile::TempDir,
    subdomain: String,
}

impl Demo {
    fn new(backend: &'static str) -> Self {
        for bin in [
            "terraform-provider-stagesub",
            "stagesub-bridge",
            "supabase-standin",
        ] {
            binary_path(bin); // panics with "run cargo build --workspace --bins" when missing
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        Self {
            backend,
            dir: tempfile::Builder::new()
                .prefix("stagesub-demo-")
                .tempdir()
                .unwrap(),
            subdomain: format!("demo-{}-{nanos:x}-{backend}", std::process::id()),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(repo_root().join("scripts/demo.sh"));
        cmd.args(["--backend", self.backend])
            .args(args)
            .env("STAGESUB_DEMO_DIR", self.dir.path())
            .env("CARGO_TARGET_DIR", target_dir());
        cmd
    }

    /// Runs the whole demo for this test's orchestra; panics with the output when it fails.
    fn run(&self, orchestra_name: &str) -> String {
        let out = self
            .command(&[
                "--no-build",
                "--subdomain",
                &self.subdomain,
                "--orchestra-name",
                orchestra_name,
            ])
            .output()
            .expect("run scripts/demo.sh");
        let text = text(&out);
        assert!(out.status.success(), "scripts/demo.sh failed:\n{text}");
        text
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join(self.backend)
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        match self.command(&["--reset"]).output() {
            Ok(out) if out.status.success() => {}
            Ok(out) => eprintln!("scripts/demo.sh --reset failed:\n{}", text(&out)),
            Err(e) => eprintln!("scripts/demo.sh --reset: {e}"),
        }
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn assert_contains(text: &str, needle: &str) {
    assert!(
        text.contains(needle),
        "expected {needle:?} in the demo output:\n{text}"
    );
}

/// Every step reported `ok` with a timing, in order.
fn assert_all_steps_ok(text: &str) {
    for n in 1..=12 {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("[{n}/12] ")))
            .unwrap_or_else(|| panic!("step {n} missing:\n{text}"));
        assert!(
            line.contains(" ... ok (") && line.ends_with("s)"),
            "step {n} not ok: {line}"
        );
    }
    assert_contains(text, "done in ");
}

/// The `psql '<url>'` line the demo prints, queried independently of the script.
fn query_printed_database(output: &str, sql: &str) -> String {
    let url = output
        .lines()
        .find_map(|l| l.trim().strip_prefix("psql '")?.strip_suffix('\''))
        .unwrap_or_else(|| panic!("no psql line in:\n{output}"));
    let out = Command::new("psql")
        .args([url, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("psql must be installed");
    assert!(
        out.status.success(),
        "psql against the printed URL failed: {}",
        text(&out)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// `git show main:<path>` in the demo's bare infra repository.
fn file_on_main(bare: &Path, path: &str) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(bare)
        .args(["show", &format!("main:{path}")])
        .output()
        .unwrap();
    assert!(out.status.success(), "{path} not on main: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn supabase_backend_end_to_end_and_rerun_changes_nothing() {
    let demo = Demo::new("supabase");
    let name = "Kammerorchester \"Süd\" & Friends";

    let first = demo.run(name);
    assert_all_steps_ok(&first);
    assert_contains(&first, "the bridge recorded it: provisioned");
    assert_contains(&first, "merged into main at");
    assert_contains(
        &first,
        "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.",
    );
    assert_contains(&first, "\"first_time\":true");
    assert_contains(
        &first,
        &format!("Subject: Your orchestra space {name} is ready"),
    );
    assert_contains(&first, &format!("https://{}.stagesub.app", demo.subdomain));
    let tenant_file = file_on_main(
        &demo.state().join("infra.git"),
        &format!("tenants/{}/main.tf", demo.subdomain),
    );
    assert_contains(
        &tenant_file,
        &format!("module \"orchestra-{}\"", demo.subdomain),
    );
    assert_eq!(
        query_printed_database(
            &first,
            r#"SELECT subdomain || '|' || name || '|' || plan FROM "Orchestra""#
        ),
        format!("{}|{name}|pro", demo.subdomain)
    );

    // The same orchestra again: nothing to commit, nothing to apply, no second email.
    let second = demo.run(name);
    assert_all_steps_ok(&second);
    assert_contains(&second, "already running (pid");
    assert_contains(&second, "the bridge recorded it: unchanged");
    assert_contains(&second, "no open pull request");
    assert_contains(&second, "No changes.");
    assert_contains(&second, "\"first_time\":false");
    assert_contains(&second, "not sent again");
    let mails: usize = std::fs::read_dir(demo.state().join("mail"))
        .unwrap()
        .map(|d| {
            std::fs::read_dir(d.unwrap().path())
                .unwrap()
                .filter(|f| f.as_ref().unwrap().path().extension() == Some("eml".as_ref()))
                .count()
        })
        .sum();
    assert_eq!(mails, 1, "exactly one welcome email over both runs");
}

#[test]
fn postgres_backend_end_to_end() {
    let demo = Demo::new("postgres");
    let name = "Orchestre de l'Étoile";
    let out = demo.run(name);
    assert_all_steps_ok(&out);
    assert_contains(&out, "tenant database server (the postgres backend");
    assert_contains(
        &out,
        "Apply complete! Resources: 1 added, 0 changed, 0 destroyed.",
    );
    assert_contains(
        &out,
        &format!("Subject: Your orchestra space {name} is ready"),
    );
    assert_eq!(
        query_printed_database(
            &out,
            r#"SELECT name || '|' || (SELECT count(*) FROM "Concert") FROM "Orchestra""#
        ),
        format!("{name}|1")
    );
}
