//! Figure (a) of BENCHMARKS.md: the plan of a one-tenant change in an infra repository of N tenants,
//! one root module and one state per tenant (`examples/gitops`), against the Supabase stand-in with
//! N metadata-only bulk projects and its rate limit on (120/min).
//!
//! What is timed is what CI runs for a one-tenant pull request: `scripts/changed-roots.sh` (git diff),
//! `scripts/tenant-root.sh` (shared settings copied in, `terraform init` with the provider from a
//! filesystem mirror and a plugin cache), `terraform validate` and `terraform plan` of that root.
//! The tenant's state is generated (the projects are metadata-only); the plan refreshes it for real.
//! `scripts/bench-layout.sh` runs it for 100, 1,000 and 10,000 tenants.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::Standin;
use serde_json::{Map, Value, json};
use stagesub_acceptance::{InstallMode, LocalProvider, Terraform, repo_root};
use supabase_standin::FaultsPatch;

fn tenant_file(sub: &str, plan: &str) -> String {
    format!(
        "# Managed by stagesub-bridge: changes come from Stripe, edits here are overwritten.\nmodule \"orchestra-{sub}\" {{\n  source                 = \"../../modules/orchestra\"\n  subdomain              = \"{sub}\"\n  orchestra_name         = \"Orchestra {sub}\"\n  contact_email          = null\n  plan                   = \"{plan}\"\n  region                 = null\n  archived               = false\n  stripe_customer_id     = null\n  stripe_subscription_id = null\n}}\n"
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

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.org")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.org")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

/// The state the provider would have written for the tenant's bulk project (in its own root).
fn write_state(tf: &Terraform, dir: &Path, sub: &str, project: &Value) {
    let schema = tf.providers_schema_json();
    let block = &schema["provider_schemas"]["registry.terraform.io/stagesub/stagesub"]["resource_schemas"]
        ["stagesub_orchestra_database"]["block"];
    let mut attributes = Map::new();
    for name in block["attributes"].as_object().expect("attributes").keys() {
        attributes.insert(name.clone(), Value::Null);
    }
    for name in block["block_types"].as_object().expect("blocks").keys() {
        attributes.insert(name.clone(), Value::Null);
    }
    let project_ref = project["ref"].as_str().expect("ref");
    let user = format!("postgres.{project_ref}");
    let url = format!(
        "postgresql://{user}:bulk-password-0123456789@127.0.0.1:5432/sb_{project_ref}?sslmode=require"
    );
    for (key, value) in [
        ("id", json!(project_ref)),
        ("subdomain", json!(sub)),
        ("orchestra_name", json!(format!("Orchestra {sub}"))),
        ("plan", json!("pro")),
        ("region", project["region"].clone()),
        ("status", project["status"].clone()),
        ("created_at", project["inserted_at"].clone()),
        ("archived", json!(false)),
        ("archive_mode", json!("backup")),
        ("backup_retention_days", json!(365)),
        ("deletion_protection", json!(true)),
        ("enforce_ssl", json!(true)),
        ("applied_migrations", json!([])),
        (
            "api_url",
            json!(format!("https://{project_ref}.supabase.co")),
        ),
        ("database_host", json!("127.0.0.1")),
        ("database_port", json!(5432)),
        ("database_name", json!(format!("sb_{project_ref}"))),
        ("database_user", json!(user)),
        ("database_password", json!("bulk-password-0123456789")),
        ("database_url", json!(url)),
        ("pooler_url", json!(url)),
    ] {
        if attributes.contains_key(key) {
            attributes.insert(key.to_owned(), value);
        }
    }
    let state = json!({
        "version": 4,
        "terraform_version": "1.15.5",
        "serial": 1,
        "lineage": format!("stagesub-bench-{}", common::suffix()),
        "outputs": {},
        "resources": [{
            "module": format!("module.orchestra-{sub}"),
            "mode": "managed",
            "type": "stagesub_orchestra_database",
            "name": "this",
            "provider": "provider[\"registry.terraform.io/stagesub/stagesub\"]",
            "instances": [{ "schema_version": 0, "attributes": attributes, "sensitive_attributes": [] }],
        }],
        "check_results": null,
    });
    fs::write(dir.join("terraform.tfstate"), state.to_string()).unwrap();
}

fn timed(what: &str, cmd: &mut Command) -> (Duration, String) {
    let started = Instant::now();
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    let took = started.elapsed();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // plan -detailed-exitcode: 2 = changes.
    assert!(
        out.status.success() || (what == "plan" && out.status.code() == Some(2)),
        "{what}: {text}"
    );
    (took, text)
}

fn one_tenant_change(count: usize) {
    let standin = Standin::start(FaultsPatch {
        rate_limit_per_minute: Some(120),
        ..FaultsPatch::default()
    });
    // The provider from a filesystem mirror, as CI installs it (init does the work).
    let tf = Terraform::latest()
        .with_provider(LocalProvider::stagesub(
            stagesub_acceptance::provider_binary(),
            InstallMode::FilesystemMirror,
        ))
        .with_timeout(Duration::from_secs(600));
    let repo = tf.workdir().join("infra");
    let example = repo_root().join("examples/gitops");
    for dir in ["modules", "scripts", "shared"] {
        copy_dir(&example.join(dir), &repo.join(dir));
    }
    let prefix = format!("lb{}-", common::suffix());
    let started = Instant::now();
    standin.bulk_projects(count, &format!("orchestra-{prefix}"));
    let projects = standin.projects();
    assert_eq!(projects.len(), count);
    let bulk = started.elapsed();

    let started = Instant::now();
    for p in &projects {
        let sub = p["name"]
            .as_str()
            .unwrap()
            .strip_prefix("orchestra-")
            .unwrap();
        let dir = repo.join("tenants").join(sub);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("main.tf"), tenant_file(sub, "pro")).unwrap();
    }
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "tenants"]);
    let generate = started.elapsed();

    // The change: one tenant moves up a plan.
    let project = &projects[count / 2];
    let sub = project["name"]
        .as_str()
        .unwrap()
        .strip_prefix("orchestra-")
        .unwrap()
        .to_owned();
    let root = repo.join("tenants").join(&sub);
    fs::write(root.join("main.tf"), tenant_file(&sub, "enterprise")).unwrap();
    git(&repo, &["commit", "-q", "-am", "one tenant changes plan"]);
    let schema_tf = common::terraform();
    schema_tf.write_file("main.tf", common::REQUIRED_PROVIDERS);
    write_state(&schema_tf, &root, &sub, project);

    let cache = tf.workdir().join("plugin-cache");
    fs::create_dir_all(&cache).unwrap();
    let env = |cmd: &mut Command| {
        cmd.current_dir(&repo)
            .env("TF_CLI_CONFIG_FILE", tf.cli_config_path())
            .env("TF_PLUGIN_CACHE_DIR", &cache)
            .env("TERRAFORM", tf.binary())
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("SUPABASE_ACCESS_TOKEN", common::TOKEN)
            .env("SUPABASE_ORGANIZATION_SLUG", &standin.org)
            .env("SUPABASE_API_URL", standin.url())
            .env_remove("STAGESUB_BACKEND")
            .env_remove("STAGESUB_POSTGRES_URL")
            .env_remove("TENANT_BACKEND_CONFIG");
    };
    let run = |what: &str, program: &str, args: &[&str]| {
        let mut cmd = Command::new(program);
        cmd.args(args);
        env(&mut cmd);
        timed(what, &mut cmd)
    };
    standin.reset_stats();
    let (diff, roots) = run("changed-roots", "bash", &["scripts/changed-roots.sh"]);
    assert_eq!(
        roots
            .lines()
            .filter(|l| !l.starts_with("changed-roots:"))
            .collect::<Vec<_>>(),
        vec![sub.as_str()]
    );
    let (init, _) = run(
        "init",
        "bash",
        &["scripts/tenant-root.sh", &sub, "-no-color"],
    );
    let chdir = format!("-chdir=tenants/{sub}");
    let tfbin = tf.binary().to_str().unwrap().to_owned();
    let (validate, _) = run("validate", &tfbin, &[&chdir, "validate", "-no-color"]);
    let (plan, plan_text) = run(
        "plan",
        &tfbin,
        &[
            &chdir,
            "plan",
            "-input=false",
            "-no-color",
            "-lock=false",
            "-detailed-exitcode",
        ],
    );
    assert!(plan_text.contains("1 to change"), "{plan_text}");
    assert!(
        plan_text.contains("\"pro\" -> \"enterprise\""),
        "{plan_text}"
    );
    let stats = standin.stats();
    // A second root with the plugin cache warm (what a job that plans several roots pays per root).
    let other = projects[0]["name"]
        .as_str()
        .unwrap()
        .strip_prefix("orchestra-")
        .unwrap()
        .to_owned();
    let (warm_init, _) = run(
        "init",
        "bash",
        &["scripts/tenant-root.sh", &other, "-no-color"],
    );
    let total = diff + init + validate + plan;
    println!(
        "BENCH tenants={count} total_s={:.2} changed_roots_s={:.2} init_s={:.2} validate_s={:.2} plan_s={:.2} warm_init_s={:.2} api_calls={} generate_s={:.1} bulk_projects_s={:.1}",
        total.as_secs_f64(),
        diff.as_secs_f64(),
        init.as_secs_f64(),
        validate.as_secs_f64(),
        plan.as_secs_f64(),
        warm_init.as_secs_f64(),
        stats.total,
        generate.as_secs_f64(),
        bulk.as_secs_f64(),
    );
    assert!(
        stats.total <= 2,
        "a one-tenant plan costs one or two API calls: {stats:?}"
    );
}

/// A quick version that runs with the suite: 30 tenants.
#[test]
fn a_one_tenant_change_plans_one_root_with_one_api_call() {
    one_tenant_change(30);
}

/// The benchmark (`scripts/bench-layout.sh`): `STAGESUB_LAYOUT_TENANTS` tenants (default 1,000).
#[test]
#[ignore = "benchmark: run with scripts/bench-layout.sh"]
fn bench_one_tenant_change() {
    let count = std::env::var("STAGESUB_LAYOUT_TENANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    one_tenant_change(count);
}
