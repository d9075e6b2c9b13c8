//! Terraform mode with the real Terraform CLI and the real provider (`postgres` backend), one
//! state per tenant root in Terraform's `pg` state backend: a failing canary root stops the run
//! before the others; the fixed run resumes (init only where needed); a migrations-mode rollout
//! reaches the databases the provider registered in the directory and the next plan of every
//! root is empty (refresh reads the history); a later migration through Terraform mode applies
//! in place.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{KEY, base_migrations, fleet, json, line, migration};
use stagesub_acceptance::postgres::{self, TestDatabase, url_with_database};
use stagesub_acceptance::{InstallMode, LocalProvider, Terraform, hcl_string, repo_root};

struct Databases(Vec<String>);

impl Drop for Databases {
    fn drop(&mut self) {
        for name in &self.0 {
            let _ = std::panic::catch_unwind(|| {
                postgres::query(
                    &postgres::admin_url(),
                    &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                );
                postgres::query(
                    &postgres::admin_url(),
                    &format!("DROP ROLE IF EXISTS \"{name}\""),
                );
            });
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

fn root(tenants: &Path, subdomain: &str, name: &str, migrations: &Path, state_url: &str) {
    let dir = tenants.join(subdomain);
    fs::create_dir_all(&dir).unwrap();
    let text = format!(
        r#"terraform {{
  required_providers {{
    stagesub = {{
      source = "stagesub/stagesub"
    }}
  }}
  backend "pg" {{
    conn_str    = {state}
    schema_name = {schema}
  }}
}}

provider "stagesub" {{}}

module "orchestra-{subdomain}" {{
  source              = "../../modules/orchestra"
  subdomain           = {sub}
  orchestra_name      = {name}
  migrations_dir      = {migrations}
  deletion_protection = false
}}
"#,
        state = hcl_string(state_url),
        schema = hcl_string(&format!("tenant_{}", subdomain.replace('-', "_"))),
        sub = hcl_string(subdomain),
        name = hcl_string(name),
        migrations = hcl_string(&migrations.display().to_string()),
    );
    fs::write(dir.join("main.tf"), text).unwrap();
}

#[test]
fn terraform_mode_canary_resume_migrations_mode_and_empty_plans() {
    let tf = Terraform::latest().with_provider(LocalProvider::stagesub(
        stagesub_acceptance::provider_binary(),
        InstallMode::DevOverride,
    ));
    let tag = common_tag();
    let subs: Vec<String> = ["tfa", "tfb", "tfc"]
        .iter()
        .map(|p| format!("{p}-{tag}"))
        .collect();
    let _cleanup = Databases(
        subs.iter()
            .map(|s| format!("orchestra_{}", s.replace('-', "_")))
            .collect(),
    );
    let state_db = TestDatabase::create("fleet_tfstate");
    let directory = TestDatabase::create("fleet_tfdir");
    let infra = tempfile::tempdir().unwrap();
    copy_dir(
        &repo_root().join("modules/orchestra"),
        &infra.path().join("modules/orchestra"),
    );
    let tenants = infra.path().join("tenants");
    let migrations = infra.path().join("app/migrations");
    base_migrations(&migrations);
    for s in &subs {
        root(&tenants, s, "Orchestra", &migrations, state_db.url());
    }
    // The canary's root is broken: an empty name fails the module's validation.
    root(&tenants, &subs[0], "", &migrations, state_db.url());

    let admin = postgres::admin_url();
    let env: Vec<(String, String)> = vec![
        (
            "TF_CLI_CONFIG_FILE".into(),
            tf.cli_config_path().display().to_string(),
        ),
        (
            "STAGESUB_TERRAFORM".into(),
            tf.binary().display().to_string(),
        ),
        ("CHECKPOINT_DISABLE".into(), "1".into()),
        ("STAGESUB_BACKEND".into(), "postgres".into()),
        ("STAGESUB_POSTGRES_URL".into(), admin.clone()),
        ("STAGESUB_DIRECTORY_URL".into(), directory.url().into()),
        ("STAGESUB_DIRECTORY_KEYS".into(), KEY.into()),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("run.json");
    let report = tmp.path().join("report.json");
    let base = |extra: &[&str]| {
        let mut a: Vec<String> = [
            "apply",
            "--mode",
            "terraform",
            "--tenants-dir",
            tenants.to_str().unwrap(),
            "--state-file",
            state.to_str().unwrap(),
            "--report-json",
            report.to_str().unwrap(),
            "--parallel",
            "3",
            "-q",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        a.extend(extra.iter().map(|s| (*s).to_owned()));
        a
    };
    let run_fleet = |a: Vec<String>| {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        fleet(&refs, &env)
    };

    let run = run_fleet(base(&["--canary", &subs[0], "--run-id", "tf-1"]));
    assert_eq!(run.code, Some(1), "{run:?}");
    let r = json(&report);
    assert_eq!(line(&r, &subs[0])["outcome"], "failed", "{r:#}");
    let error = line(&r, &subs[0])["error"].as_str().unwrap().to_owned();
    assert!(error.contains("orchestra_name"), "{error}");
    assert_eq!(line(&r, &subs[1])["outcome"], "not_started");
    assert_eq!(line(&r, &subs[2])["outcome"], "not_started");
    assert!(!postgres::database_exists(&format!(
        "orchestra_{}",
        subs[1].replace('-', "_")
    )));

    // Fixed and resumed: the canary is retried, the others run; every root is initialised.
    root(&tenants, &subs[0], "Orchestra", &migrations, state_db.url());
    // The roots not initialised yet go through --init-command (the infra repository's
    // scripts/tenant-root.sh in CI); the canary's root was initialised by the first run.
    let marks = tmp.path().join("inits");
    fs::create_dir(&marks).unwrap();
    let init_command = format!(
        "touch {marks}/{{subdomain}} && \"$STAGESUB_TERRAFORM\" -chdir={tenants}/$FLEET_SUBDOMAIN init -input=false",
        marks = marks.display(),
        tenants = tenants.display()
    );
    let run = run_fleet(base(&[
        "--canary",
        &subs[0],
        "--run-id",
        "tf-1",
        "--retry-failed",
        "--init-command",
        &init_command,
    ]));
    assert_eq!(run.code, Some(0), "{run:?} {:#}", json(&report));
    let r = json(&report);
    for s in &subs {
        let detail = line(&r, s)["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains("Resources: 1 added"), "{s}: {detail}");
    }
    let tenant_url =
        |s: &str| url_with_database(&admin, &format!("orchestra_{}", s.replace('-', "_")));
    let versions = |s: &str| {
        postgres::query(
            &tenant_url(s),
            "SELECT string_agg(version, ',' ORDER BY version) FROM supabase_migrations.schema_migrations",
        )[0][0]
            .clone()
            .unwrap_or_default()
    };
    assert_eq!(versions(&subs[1]), "20260101000000,20260102000000");
    let mut inited: Vec<String> = fs::read_dir(&marks)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    inited.sort();
    assert_eq!(inited, [subs[1].clone(), subs[2].clone()]);

    // A migration through migrations mode: the directory the provider wrote finds the databases.
    migration(
        &migrations,
        "20260103000000",
        "seats",
        "ALTER TABLE venues ADD COLUMN seats int;\n",
    );
    let run = fleet(
        &[
            "apply",
            "--mode",
            "migrations",
            "--migrations-dir",
            migrations.to_str().unwrap(),
            "--state-file",
            tmp.path().join("m.json").to_str().unwrap(),
            "--report-json",
            tmp.path().join("m-report.json").to_str().unwrap(),
            "-q",
        ],
        &env,
    );
    assert_eq!(run.code, Some(0), "{run:?}");
    let m = json(&tmp.path().join("m-report.json"));
    assert_eq!(m["counts"]["applied"], 3, "{m:#}");
    for s in &subs {
        assert_eq!(versions(s), "20260101000000,20260102000000,20260103000000");
        // The state catches up at refresh: the plan after a migrations-mode rollout is empty.
        let plan = terraform_in(
            &tf,
            &tenants.join(s),
            &env,
            &["plan", "-detailed-exitcode", "-input=false", "-no-color"],
        );
        assert_eq!(
            plan.0,
            Some(0),
            "{s}: plan not empty after migrations mode:\n{}",
            plan.1
        );
    }

    // A later migration through Terraform mode: init is not run again, the apply is in place.
    migration(
        &migrations,
        "20260104000000",
        "tours",
        "CREATE TABLE tours (id int);\n",
    );
    fs::rename(&state, tmp.path().join("tf-1.json")).unwrap();
    let run = run_fleet(base(&["--run-id", "tf-2"]));
    assert_eq!(run.code, Some(0), "{run:?} {:#}", json(&report));
    let r = json(&report);
    for s in &subs {
        let detail = line(&r, s)["detail"].as_str().unwrap().to_owned();
        assert!(
            detail.starts_with("Apply complete! Resources: 0 added, 1 changed"),
            "{s}: {detail}"
        );
        assert!(versions(s).ends_with("20260104000000"));
    }
    for s in &subs {
        terraform_in(
            &tf,
            &tenants.join(s),
            &env,
            &["state", "rm", &format!("module.orchestra-{s}")],
        );
    }
}

fn common_tag() -> String {
    let n = postgres::unique_name("t");
    n.chars()
        .rev()
        .filter(char::is_ascii_alphanumeric)
        .take(6)
        .collect()
}

fn terraform_in(
    tf: &Terraform,
    dir: &Path,
    env: &[(String, String)],
    args: &[&str],
) -> (Option<i32>, String) {
    let out = Command::new(tf.binary())
        .arg(format!("-chdir={}", dir.display()))
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("TF_IN_AUTOMATION", "1")
        .output()
        .unwrap();
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}
