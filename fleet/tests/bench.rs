//! Benchmarks, ignored by default; `scripts/bench-fleet.sh` runs them and BENCHMARKS.md records
//! the figures. They print `BENCH` lines and check only that the work was done, never times.
//!
//! - (b) `bench_rollout_over_many_databases`: one new migration across `STAGESUB_BENCH_TENANTS`
//!   (default 1,000) real tenant databases found through a real directory, by
//!   `stagesub-fleet apply --mode migrations`, then the same kind of migration by a shell loop
//!   running dbmate over the same databases, in the same run.
//! - (c) `bench_management_api_calls_per_tenant`: tenants provisioned by the provider on the
//!   Supabase stand-in; with its rate limit on, the stand-in's metering counts the Management
//!   API calls of a migrations-mode rollout and of a terraform-mode rollout.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use common::{Fleet, KEY, base_migrations, fleet, json, migration};
use stagesub_acceptance::postgres::{self, TestDatabase};
use stagesub_acceptance::{InstallMode, LocalProvider, Terraform, hcl_string, repo_root};
use supabase_standin::{Config, FaultsPatch};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
#[ignore = "benchmark: scripts/bench-fleet.sh"]
fn bench_rollout_over_many_databases() {
    let n = env_usize("STAGESUB_BENCH_TENANTS", 1000);
    let parallel = env_usize("STAGESUB_BENCH_PARALLEL", 16).to_string();
    let started = Instant::now();
    let f = Fleet::create("b", n);
    println!(
        "BENCH setup: {n} tenant databases created and registered in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("migrations");
    base_migrations(&dir);
    let apply = |run_id: &str, report: &Path| {
        let a = [
            "apply",
            "--mode",
            "migrations",
            "--migrations-dir",
            dir.to_str().unwrap(),
            "--parallel",
            &parallel,
            "--batch-size",
            "200",
            "--run-id",
            run_id,
            "--state-file",
            tmp.path()
                .join(format!("{run_id}.json"))
                .to_str()
                .unwrap()
                .to_owned()
                .leak(),
            "--report-json",
            report.to_str().unwrap(),
            "-q",
        ];
        let at = Instant::now();
        let run = fleet(&a, &f.env());
        assert_eq!(run.code, Some(0), "{run:?}");
        at.elapsed().as_secs_f64()
    };
    // The fleet as it stands before the rollout: two migrations applied everywhere (untimed).
    apply("baseline", &tmp.path().join("baseline.json"));

    // (b) one new migration, stagesub-fleet.
    migration(
        &dir,
        "20260103000000",
        "tours",
        "CREATE TABLE tours (id bigint primary key, title text not null);\nCREATE INDEX tours_title ON tours (title);\n",
    );
    let report = tmp.path().join("rollout.json");
    let fleet_secs = apply("rollout", &report);
    let r = json(&report);
    assert_eq!(r["counts"]["applied"], n as u64);
    for i in [0, n / 2, n - 1] {
        assert_eq!(f.versions(i).len(), 3, "tenant {i}");
    }
    println!(
        "BENCH fleet: {n} tenants, --parallel {parallel}: wall {fleet_secs:.2} s, per tenant p50 {} ms, p99 {} ms",
        r["p50_ms"], r["p99_ms"]
    );

    // The same kind of migration by a shell loop running dbmate over the same databases, with
    // TLS like the fleet's connections (`sslmode=require`; the fleet's URLs say nothing, so it
    // uses `prefer`, which on this server means TLS).
    let dbmate_dir = tmp.path().join("dbmate");
    fs::create_dir_all(&dbmate_dir).unwrap();
    fs::write(
        dbmate_dir.join("20260103000000_tours.sql"),
        "-- migrate:up\nCREATE TABLE tours_dbmate (id bigint primary key, title text not null);\nCREATE INDEX tours_dbmate_title ON tours_dbmate (title);\n\n-- migrate:down\nDROP TABLE tours_dbmate;\n",
    )
    .unwrap();
    let urls: String = (0..n)
        .map(|i| format!("{}?sslmode=require\n", f.tenant_url(i)))
        .collect();
    let url_file = tmp.path().join("urls");
    fs::write(&url_file, urls).unwrap();
    let dbmate = stagesub_acceptance::tools_dir().join("bin/dbmate");
    let at = Instant::now();
    let status = Command::new("bash")
        .arg("-c")
        .arg(
            r#"set -e; while read -r url; do "$DBMATE" --url "$url" --migrations-dir "$DIR" --no-dump-schema up >/dev/null; done < "$URLS""#,
        )
        .env("DBMATE", &dbmate)
        .env("DIR", &dbmate_dir)
        .env("URLS", &url_file)
        .status()
        .unwrap();
    let loop_secs = at.elapsed().as_secs_f64();
    assert!(status.success(), "the dbmate loop failed");
    let done = f.query(n - 1, "SELECT count(*)::text FROM schema_migrations");
    assert_eq!(done[0][0].as_deref(), Some("1"));
    println!(
        "BENCH dbmate loop: {n} tenants, one after another: wall {loop_secs:.2} s ({:.1} ms per tenant)",
        loop_secs * 1000.0 / n as f64
    );
    println!("BENCH speed-up: {:.1}x", loop_secs / fleet_secs);
    let at = Instant::now();
    drop(f);
    println!("BENCH teardown: {:.1} s", at.elapsed().as_secs_f64());
}

fn root(tenants: &Path, subdomain: &str, migrations: &Path) {
    let dir = tenants.join(subdomain);
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("main.tf"),
        format!(
            "terraform {{\n  required_providers {{\n    stagesub = {{\n      source = \"stagesub/stagesub\"\n    }}\n  }}\n}}\n\nprovider \"stagesub\" {{}}\n\nmodule \"orchestra-{subdomain}\" {{\n  source              = \"../../modules/orchestra\"\n  subdomain           = {}\n  orchestra_name      = \"Bench\"\n  migrations_dir      = {}\n  deletion_protection = false\n}}\n",
            hcl_string(subdomain),
            hcl_string(&migrations.display().to_string())
        ),
    )
    .unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
#[ignore = "benchmark: scripts/bench-fleet.sh"]
fn bench_management_api_calls_per_tenant() {
    let n = env_usize("STAGESUB_BENCH_API_TENANTS", 10);
    let limit: u32 = env_usize("STAGESUB_BENCH_RATE_LIMIT", 120) as u32;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut config = Config::new(postgres::admin_url());
    config.faults.healthy_after_ms = 300;
    config.faults.pooler_lag_ms = 200;
    let standin = runtime.block_on(supabase_standin::start(config)).unwrap();
    let directory = TestDatabase::create("fleet_bench_dir");
    let tf = Terraform::latest().with_provider(LocalProvider::stagesub(
        stagesub_acceptance::provider_binary(),
        InstallMode::DevOverride,
    ));
    let infra = tempfile::tempdir().unwrap();
    copy_dir(
        &repo_root().join("modules/orchestra"),
        &infra.path().join("modules/orchestra"),
    );
    let tenants = infra.path().join("tenants");
    let migrations = infra.path().join("app/migrations");
    base_migrations(&migrations);
    let tag: String = postgres::unique_name("c")
        .chars()
        .rev()
        .filter(char::is_ascii_alphanumeric)
        .take(6)
        .collect();
    for i in 0..n {
        root(&tenants, &format!("api{i}-{tag}"), &migrations);
    }
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
        ("STAGESUB_BACKEND".into(), "supabase".into()),
        (
            "SUPABASE_ACCESS_TOKEN".into(),
            "sbp_0123456789abcdef0123456789abcdef01234567".into(),
        ),
        ("SUPABASE_ORGANIZATION_SLUG".into(), format!("org-{tag}")),
        ("SUPABASE_API_URL".into(), standin.base_url().to_owned()),
        ("STAGESUB_DIRECTORY_URL".into(), directory.url().into()),
        ("STAGESUB_DIRECTORY_KEYS".into(), KEY.into()),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let terraform_mode = |run_id: &str| {
        let report = tmp.path().join(format!("{run_id}.report.json"));
        let run = fleet(
            &[
                "apply",
                "--mode",
                "terraform",
                "--tenants-dir",
                tenants.to_str().unwrap(),
                "--parallel",
                "4",
                "--run-id",
                run_id,
                "--state-file",
                tmp.path().join(format!("{run_id}.json")).to_str().unwrap(),
                "--report-json",
                report.to_str().unwrap(),
                "-q",
            ],
            &env,
        );
        assert_eq!(run.code, Some(0), "{run:?} {:#}", json(&report));
        json(&report)
    };
    // Provisioning (rate limit off, not measured).
    terraform_mode("provision");

    standin
        .set_faults(FaultsPatch {
            rate_limit_per_minute: Some(limit),
            ..Default::default()
        })
        .unwrap();
    standin.reset_stats();
    migration(
        &migrations,
        "20260103000000",
        "tours",
        "CREATE TABLE tours (id int);\n",
    );
    let report = tmp.path().join("migrations.json");
    let at = Instant::now();
    let run = fleet(
        &[
            "apply",
            "--mode",
            "migrations",
            "--migrations-dir",
            migrations.to_str().unwrap(),
            "--parallel",
            "4",
            "--state-file",
            tmp.path().join("m.json").to_str().unwrap(),
            "--report-json",
            report.to_str().unwrap(),
            "-q",
        ],
        &env,
    );
    let secs = at.elapsed().as_secs_f64();
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(json(&report)["counts"]["applied"], n as u64);
    let calls = standin.stats().total;
    println!(
        "BENCH (c) migrations mode, rate limit {limit}/min on: {n} tenants migrated in {secs:.2} s, {calls} Management API calls = {:.1} per tenant",
        calls as f64 / n as f64
    );

    standin.reset_stats();
    migration(
        &migrations,
        "20260104000000",
        "seats",
        "CREATE TABLE seats (id int);\n",
    );
    let at = Instant::now();
    let r = terraform_mode("terraform");
    let secs = at.elapsed().as_secs_f64();
    assert_eq!(r["counts"]["applied"], n as u64);
    let stats = standin.stats();
    println!(
        "BENCH (c) terraform mode, rate limit {limit}/min on: {n} tenant roots applied in {secs:.2} s, {} Management API calls = {:.1} per tenant; by endpoint: {:?}",
        stats.total,
        stats.total as f64 / n as f64,
        stats.endpoints
    );
    runtime.block_on(standin.shutdown()).unwrap();
}
