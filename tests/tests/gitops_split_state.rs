//! `examples/gitops/scripts/split-state.sh` for real: three orchestras applied in the single root
//! module `tenants/` (one state, the layout before one root per tenant) on the `postgres` backend,
//! with Terraform's `pg` state backend on the test server. One tenant was already moved by
//! stagesub-bridge (its file at `tenants/<sub>/main.tf`, the flat file deleted). `split-state.sh
//! --all` then moves every file and every state: each tenant root's plan is empty, the old root's
//! state holds nothing, no database was dropped or re-created (same OID), and running it again
//! changes nothing. A tenant root whose state already holds something is never overwritten.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::PgTenants;
use stagesub_acceptance::{InstallMode, LocalProvider, Terraform, postgres, repo_root};

/// The infra repository in a temporary folder: a copy of examples/gitops (module, app, scripts,
/// shared root settings) plus the old single root `tenants/` with its own settings.
struct Infra {
    tf: Terraform,
    state_db: postgres::TestDatabase,
}

impl Infra {
    fn new() -> Infra {
        // The provider from a filesystem mirror, as CI installs it (`init` installs it for real, also
        // for the providers the state names).
        let tf = Terraform::latest().with_provider(LocalProvider::stagesub(
            stagesub_acceptance::provider_binary(),
            InstallMode::FilesystemMirror,
        ));
        let example = repo_root().join("examples/gitops");
        for dir in ["modules", "app", "scripts", "shared"] {
            copy_dir(&example.join(dir), &tf.workdir().join(dir));
        }
        // The state backend: pg on the test server, a schema per state.
        fs::write(
            tf.workdir().join("shared/root.tf"),
            fs::read_to_string(example.join("shared/root.tf"))
                .unwrap()
                .replace("  # backend \"pg\" {}", "  backend \"pg\" {}"),
        )
        .unwrap();
        tf.write_file(
            "tenants/providers.tf",
            "terraform {\n  required_providers {\n    stagesub = {\n      source = \"stagesub/stagesub\"\n    }\n  }\n  backend \"pg\" {}\n}\n\nprovider \"stagesub\" {}\n",
        );
        Infra {
            tf,
            state_db: postgres::TestDatabase::create("split_state"),
        }
    }

    fn dir(&self) -> PathBuf {
        self.tf.workdir()
    }

    /// A command in the infra repository with the provider, the backends and Terraform set up.
    fn command(&self, program: &str, args: &[&str]) -> Output {
        Command::new(program)
            .args(args)
            .current_dir(self.dir())
            .env("TF_CLI_CONFIG_FILE", self.tf.cli_config_path())
            .env("TERRAFORM", self.tf.binary())
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("PG_CONN_STR", self.state_db.url())
            .env("STAGESUB_BACKEND", "postgres")
            .env("STAGESUB_POSTGRES_URL", postgres::admin_url())
            .env_remove("SUPABASE_ACCESS_TOKEN")
            .env_remove("TENANT_BACKEND_CONFIG")
            .env_remove("TF_WORKSPACE")
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"))
    }

    fn terraform(&self, args: &[&str]) -> Output {
        self.command(self.tf.binary().to_str().unwrap(), args)
    }

    fn terraform_ok(&self, args: &[&str]) -> String {
        let out = self.terraform(args);
        assert!(out.status.success(), "terraform {args:?}\n{}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn split(&self, args: &[&str]) -> Output {
        self.command("bash", &[&["scripts/split-state.sh"], args].concat())
    }

    fn write(&self, path: &str, content: &str) {
        self.tf.write_file(path, content);
    }
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A tenant file as stagesub-bridge writes it; `source` relative to the file's folder.
fn tenant_file(sub: &str, source: &str) -> String {
    format!(
        "# Managed by stagesub-bridge: changes come from Stripe, edits here are overwritten.\nmodule \"orchestra-{sub}\" {{\n  source                 = \"{source}\"\n  subdomain              = \"{sub}\"\n  orchestra_name         = \"Orchestra {sub}\"\n  contact_email          = \"office@{sub}.example\"\n  plan                   = \"pro\"\n  region                 = null\n  archived               = false\n  stripe_customer_id     = \"cus_{}\"\n  stripe_subscription_id = null\n}}\n",
        sub.replace('-', "")
    )
}

fn oid(database: &str) -> String {
    postgres::query(
        &postgres::admin_url(),
        &format!("SELECT oid::text FROM pg_database WHERE datname = '{database}'"),
    )
    .first()
    .and_then(|row| row[0].clone())
    .unwrap_or_else(|| panic!("database {database} is missing"))
}

#[test]
fn split_state_moves_every_tenant_into_its_own_root_without_recreating_anything() {
    let sfx = common::suffix();
    let subs: Vec<String> = ["ss1", "ss2", "ss3"]
        .iter()
        .map(|p| format!("{p}-{sfx}"))
        .collect();
    let _cleanup = PgTenants::new(&subs.iter().map(String::as_str).collect::<Vec<_>>());
    let infra = Infra::new();

    // Before: one root, one state, three tenants.
    for sub in &subs {
        infra.write(
            &format!("tenants/{sub}.tf"),
            &tenant_file(sub, "../modules/orchestra"),
        );
    }
    infra.terraform_ok(&["-chdir=tenants", "init", "-input=false", "-no-color"]);
    infra.terraform_ok(&[
        "-chdir=tenants",
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
    ]);
    let oids: Vec<String> = subs.iter().map(|s| oid(&PgTenants::database(s))).collect();
    let migrations_before = infra.terraform_ok(&[
        "-chdir=tenants",
        "state",
        "show",
        "-no-color",
        &format!(
            "module.orchestra-{}.stagesub_orchestra_database.this",
            subs[0]
        ),
    ]);
    assert!(
        migrations_before.contains("\"./../app/migrations\""),
        "{migrations_before}"
    );

    // stagesub-bridge already moved the third tenant's file (its state is still in the old root).
    fs::remove_file(infra.dir().join(format!("tenants/{}.tf", subs[2]))).unwrap();
    infra.write(
        &format!("tenants/{}/main.tf", subs[2]),
        &tenant_file(&subs[2], "../../modules/orchestra"),
    );

    let out = infra.split(&["--all"]);
    assert!(out.status.success(), "{}", text(&out));
    let log = String::from_utf8_lossy(&out.stderr);
    for sub in &subs {
        assert!(
            log.contains(&format!("{sub}: plan in tenants/{sub}/: no changes")),
            "{log}"
        );
        // The file moved, its module source one level deeper.
        assert!(!infra.dir().join(format!("tenants/{sub}.tf")).exists());
        let main = fs::read_to_string(infra.dir().join(format!("tenants/{sub}/main.tf"))).unwrap();
        assert_eq!(main, tenant_file(sub, "../../modules/orchestra"));
        // Its own state, and an empty plan (checked again here, not only by the script).
        let plan = infra.terraform(&[
            &format!("-chdir=tenants/{sub}"),
            "plan",
            "-detailed-exitcode",
            "-input=false",
            "-no-color",
        ]);
        assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
        let listed = infra.terraform_ok(&[&format!("-chdir=tenants/{sub}"), "state", "list"]);
        assert_eq!(
            listed.trim(),
            format!("module.orchestra-{sub}.stagesub_orchestra_database.this")
        );
    }
    assert!(
        log.contains("the state of tenants/ holds 0 tenant resource(s)"),
        "{log}"
    );
    assert_eq!(
        infra
            .terraform_ok(&["-chdir=tenants", "state", "list"])
            .trim(),
        "",
        "the old root's state is empty"
    );
    // Nothing was re-created: the same databases (OIDs), and one pg schema per tenant state.
    let after: Vec<String> = subs.iter().map(|s| oid(&PgTenants::database(s))).collect();
    assert_eq!(after, oids);
    for sub in &subs {
        let schema = format!("tenant_{}", sub.replace('-', "_"));
        let rows = infra.state_db.query(&format!(
            "SELECT count(*)::text FROM information_schema.tables WHERE table_schema = '{schema}' AND table_name = 'states'"
        ));
        assert_eq!(rows[0][0].as_deref(), Some("1"), "state schema {schema}");
    }

    // Again: nothing left to move, nothing changes.
    let again = infra.split(&["--all"]);
    assert!(again.status.success(), "{}", text(&again));
    let again_log = String::from_utf8_lossy(&again.stderr);
    assert!(
        again_log.contains("holds 0 tenant resource(s)") && !again_log.contains("state copied"),
        "{}",
        text(&again)
    );
    // Naming a tenant that was moved already is fine too.
    let named = infra.split(&[&subs[1]]);
    assert!(named.status.success(), "{}", text(&named));
    assert!(
        String::from_utf8_lossy(&named.stderr).contains("not in the old state"),
        "{}",
        text(&named)
    );

    // A tenant root whose state already holds something else is refused, and the old state keeps
    // the tenant: put one tenant back into the old root and make its new root hold a stranger.
    let sub = &subs[0];
    let pulled = infra.terraform_ok(&[&format!("-chdir=tenants/{sub}"), "state", "pull"]);
    let state: serde_json::Value = serde_json::from_str(&pulled).unwrap();
    let mut old: serde_json::Value =
        serde_json::from_str(&infra.terraform_ok(&["-chdir=tenants", "state", "pull"])).unwrap();
    let mut resources = state["resources"].clone();
    resources[0]["instances"][0]["attributes"]["migrations_dir"] =
        serde_json::json!("./../app/migrations");
    old["resources"] = resources;
    old["serial"] = serde_json::json!(old["serial"].as_u64().unwrap() + 1);
    infra.write("old.tfstate", &old.to_string());
    infra.terraform_ok(&["-chdir=tenants", "state", "push", "../old.tfstate"]);
    let mut stranger = state.clone();
    stranger["resources"][0]["module"] = serde_json::json!("module.orchestra-somebody-else");
    stranger["serial"] = serde_json::json!(state["serial"].as_u64().unwrap() + 1);
    infra.write("stranger.tfstate", &stranger.to_string());
    infra.terraform_ok(&[
        &format!("-chdir=tenants/{sub}"),
        "state",
        "push",
        "../../stranger.tfstate",
    ]);
    let refused = infra.split(&[sub]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused));
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("already holds other resources: not overwritten"),
        "{}",
        text(&refused)
    );
    assert_eq!(
        infra
            .terraform_ok(&["-chdir=tenants", "state", "list"])
            .trim(),
        format!("module.orchestra-{sub}.stagesub_orchestra_database.this"),
        "the old state keeps a tenant that could not be moved"
    );
}
