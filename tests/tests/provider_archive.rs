//! Archive by backup (`archive_mode = "backup"`, the default) through real Terraform, a real
//! PostgreSQL and real `pg_dump`/`pg_restore`, into a `file://` backup store:
//!
//! - postgres backend: archive drops the database only after a verified backup (file, SHA-256,
//!   manifest), the plan after is empty, the backups data source lists it; restore re-creates the
//!   database and every row comes back (hostile text, `bytea`, `jsonb`, large numbers, the
//!   sequence's next value), the seed and migrations run, and the plan after is empty.
//! - crash safety: the provider's state from before the archive (as if it was killed after the
//!   delete but before Terraform recorded it) converges on the next apply to the verified backup.
//! - a backup that fails (the store's folder cannot be made) fails the apply naming the step and
//!   leaves the database untouched and in use; fixed, the next apply archives.
//! - supabase backend on a paid organization: archive deletes the project, restore creates a new one
//!   with the same rows; `archive_mode = "pause"` fails at plan recommending `backup`.
//! - archiving by backup without `backup_url` fails at plan naming `STAGESUB_BACKUP_URL`.

mod common;

use std::path::Path;

use common::{PgTenants, Standin, orchestra, profile_seed_attr, seeded_name, state_str};
use serde_json::Value;
use stagesub_acceptance::{hcl_string, postgres, repo_root};
use supabase_standin::FaultsPatch;

/// A few thousand rows of what customers store: hostile text, `bytea`, `jsonb`, numbers past
/// 64 bits, a sequence.
const DATA: &str = r#"CREATE TABLE recital (
  id bigserial PRIMARY KEY,
  title text NOT NULL,
  notes jsonb,
  score bytea,
  fee numeric,
  seats bigint
);
INSERT INTO recital (title, notes, score, fee, seats)
SELECT 'Konzert ' || g || E' \'; DROP TABLE recital; -- \\ \t ☃ ${x} %{y} \u202e',
       jsonb_build_object('g', g, 'q', E'\"quoted\" \\ ü', 'list', jsonb_build_array(g, null, true)),
       decode(md5(g::text), 'hex') || '\x00ff00'::bytea,
       (g::numeric * 1e30) + 0.123456789,
       9223372036854775807 - g
FROM generate_series(1, 3000) g;"#;

const ROWS: &str = "SELECT id, title, notes::text, encode(score, 'hex'), fee::text, seats FROM recital ORDER BY id";

fn provider(backup_url: Option<&str>) -> String {
    let backup = backup_url
        .map(|u| format!("  backup_url   = {}\n", hcl_string(u)))
        .unwrap_or_default();
    format!(
        "{}\nprovider \"stagesub\" {{\n  backend      = \"postgres\"\n  postgres_url = {}\n{backup}}}\n",
        common::REQUIRED_PROVIDERS,
        hcl_string(&postgres::admin_url())
    )
}

fn pg_config(backup_url: Option<&str>, sub: &str, archived: bool, migrations: &Path) -> String {
    let extra = format!(
        "{}  migrations_dir = {}\n  archived = {archived}\n  deletion_protection = false\n",
        profile_seed_attr(),
        hcl_string(&migrations.display().to_string())
    );
    const DATA_SOURCE: &str = "data \"stagesub_orchestra_backups\" \"a\" {\n  subdomain = stagesub_orchestra_database.a.subdomain\n}\n\noutput \"latest\" {\n  value = data.stagesub_orchestra_backups.a.latest_uri\n}\n\noutput \"count\" {\n  value = length(data.stagesub_orchestra_backups.a.backups)\n}\n";
    let data = if backup_url.is_some() {
        DATA_SOURCE
    } else {
        ""
    };
    format!(
        "{}\n{}\n{data}",
        provider(backup_url),
        orchestra("a", sub, "Archiv-Ensemble \"A\"", &extra)
    )
}

fn tenant_url(sub: &str) -> String {
    postgres::url_with_database(&postgres::admin_url(), &PgTenants::database(sub))
}

fn sha256_file(path: &Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn file_of(uri: &str) -> &Path {
    Path::new(uri.strip_prefix("file://").expect("a file:// backup URI"))
}

#[test]
fn postgres_archive_then_restore_keeps_every_row() {
    let tf = common::terraform();
    let sub = common::subdomain("arc");
    let _cleanup = PgTenants::new(&[&sub]);
    let store = tf.workdir().join("backups");
    let url = format!("file://{}", store.display());
    let app = common::app(&tf, "prisma-app");
    let migrations = app.join("prisma/migrations");
    let a = "stagesub_orchestra_database.a";

    tf.write_file("main.tf", pg_config(Some(&url), &sub, false, &migrations));
    tf.apply_ok();
    common::try_query(&state_str(&tf, a, "database_url").unwrap(), DATA).unwrap();
    let before = postgres::query(&tenant_url(&sub), ROWS);
    assert_eq!(before.len(), 3000);
    let applied = tf.resource_values(a).unwrap()["applied_migrations"].clone();
    assert!(
        applied.as_array().is_some_and(|l| !l.is_empty()),
        "{applied}"
    );
    assert_eq!(tf.output("count"), Value::from(0));

    // Archive: a verified backup, then the database and role are dropped.
    tf.write_file("main.tf", pg_config(Some(&url), &sub, true, &migrations));
    let plan = tf.plan(&[]);
    assert!(plan.contains("archived"), "{}", plan.combined());
    tf.apply_ok();
    assert!(!postgres::database_exists(&PgTenants::database(&sub)));
    assert_eq!(state_str(&tf, a, "status").as_deref(), Some("archived"));
    let uri = state_str(&tf, a, "backup_uri").expect("backup_uri");
    assert!(
        uri.starts_with(&format!("{url}/{sub}/")) && uri.ends_with(".dump"),
        "{uri}"
    );
    let dump = file_of(&uri);
    assert_eq!(
        state_str(&tf, a, "backup_sha256").as_deref(),
        Some(sha256_file(dump).as_str())
    );
    let manifest = dump.with_file_name(
        dump.file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".dump", ".manifest.json"),
    );
    let manifest: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    assert_eq!(manifest["subdomain"], Value::from(sub.as_str()));
    assert!(state_str(&tf, a, "archived_at").is_some());
    assert!(state_str(&tf, a, "database_url").is_none());
    tf.assert_plan_empty();
    assert_eq!(tf.output_string("latest"), uri);
    assert_eq!(tf.output("count"), Value::from(1));

    // Restore: the database comes back with every row, the sequence goes on, the seed ran.
    tf.write_file("main.tf", pg_config(Some(&url), &sub, false, &migrations));
    tf.apply_ok();
    assert!(postgres::database_exists(&PgTenants::database(&sub)));
    assert_eq!(postgres::query(&tenant_url(&sub), ROWS), before);
    assert_eq!(seeded_name(&tf, a), "Archiv-Ensemble \"A\"");
    assert_eq!(
        tf.resource_values(a).unwrap()["applied_migrations"],
        applied
    );
    let next = common::try_query(
        &state_str(&tf, a, "database_url").unwrap(),
        "INSERT INTO recital (title) VALUES ('after') RETURNING id",
    )
    .expect("the tenant writes after the restore");
    assert_eq!(next[0][0].as_deref(), Some("3001"));
    assert_eq!(
        state_str(&tf, a, "backup_uri").as_deref(),
        Some(uri.as_str())
    );
    tf.assert_plan_empty();
    tf.destroy_ok();
    // Backups outlive the orchestra (retention).
    assert!(dump.exists());
}

#[test]
fn an_archive_killed_after_the_delete_converges_on_the_next_apply() {
    let tf = common::terraform();
    let sub = common::subdomain("arck");
    let _cleanup = PgTenants::new(&[&sub]);
    let url = format!("file://{}", tf.workdir().join("backups").display());
    let app = common::app(&tf, "prisma-app");
    let migrations = app.join("prisma/migrations");
    let a = "stagesub_orchestra_database.a";
    tf.write_file("main.tf", pg_config(Some(&url), &sub, false, &migrations));
    tf.apply_ok();
    common::try_query(&state_str(&tf, a, "database_url").unwrap(), DATA).unwrap();
    let before = postgres::query(&tenant_url(&sub), ROWS);

    // The archive runs, but Terraform never records it (the provider killed after the delete).
    let state_file = tf.workdir().join("terraform.tfstate");
    let unarchived = std::fs::read(&state_file).unwrap();
    tf.write_file("main.tf", pg_config(Some(&url), &sub, true, &migrations));
    tf.apply_ok();
    let uri = state_str(&tf, a, "backup_uri").unwrap();
    std::fs::write(&state_file, unarchived).unwrap();
    assert!(state_str(&tf, a, "backup_uri").is_none());

    // The next apply finds the database gone and holds the orchestra in its verified backup.
    tf.apply_ok();
    assert_eq!(state_str(&tf, a, "status").as_deref(), Some("archived"));
    assert_eq!(
        state_str(&tf, a, "backup_uri").as_deref(),
        Some(uri.as_str())
    );
    assert!(!postgres::database_exists(&PgTenants::database(&sub)));
    tf.assert_plan_empty();

    // And restores from it.
    tf.write_file("main.tf", pg_config(Some(&url), &sub, false, &migrations));
    tf.apply_ok();
    assert_eq!(postgres::query(&tenant_url(&sub), ROWS), before);
    tf.assert_plan_empty();
    tf.destroy_ok();
}

#[test]
fn a_failed_backup_leaves_the_database_untouched_and_names_the_step() {
    let tf = common::terraform();
    let sub = common::subdomain("arcf");
    let _cleanup = PgTenants::new(&[&sub]);
    // The tenant's folder in the store cannot be made: a file stands where it would go.
    let store = tf.workdir().join("backups");
    std::fs::create_dir_all(&store).unwrap();
    std::fs::write(store.join(&sub), "not a folder").unwrap();
    let bad = format!("file://{}", store.display());
    let app = common::app(&tf, "prisma-app");
    let migrations = app.join("prisma/migrations");
    let a = "stagesub_orchestra_database.a";
    tf.write_file("main.tf", pg_config(Some(&bad), &sub, false, &migrations));
    tf.apply_ok();
    common::try_query(&state_str(&tf, a, "database_url").unwrap(), DATA).unwrap();
    let before = postgres::query(&tenant_url(&sub), ROWS);
    let id = state_str(&tf, a, "id");

    tf.write_file("main.tf", pg_config(Some(&bad), &sub, true, &migrations));
    let failed = tf.apply(&[]);
    assert!(!failed.success(), "{}", failed.combined());
    let text = failed.combined();
    assert!(text.contains("Archive failed at step `upload`"), "{text}");
    assert!(text.contains("nothing was deleted"), "{text}");
    // Untouched and in use: the tenant logs in with its own URL, every row is there.
    assert!(postgres::database_exists(&PgTenants::database(&sub)));
    let tenant = state_str(&tf, a, "database_url").unwrap();
    assert_eq!(common::try_query(&tenant, ROWS).unwrap(), before);
    assert_eq!(state_str(&tf, a, "id"), id);
    assert_ne!(state_str(&tf, a, "status").as_deref(), Some("archived"));
    assert!(!text.contains(&postgres::admin_url()), "{text}");

    // Fixed store: the next apply archives.
    std::fs::remove_file(store.join(&sub)).unwrap();
    tf.write_file("main.tf", pg_config(Some(&bad), &sub, true, &migrations));
    tf.apply_ok();
    assert_eq!(state_str(&tf, a, "status").as_deref(), Some("archived"));
    assert!(!postgres::database_exists(&PgTenants::database(&sub)));
    tf.assert_plan_empty();
}

#[test]
fn archiving_by_backup_without_a_backup_url_fails_at_plan() {
    let tf = common::terraform();
    let sub = common::subdomain("arcn");
    let _cleanup = PgTenants::new(&[&sub]);
    let migrations = repo_root().join("tests/fixtures/prisma-app/prisma/migrations");
    tf.write_file("main.tf", pg_config(None, &sub, false, &migrations));
    tf.apply_ok();
    tf.write_file("main.tf", pg_config(None, &sub, true, &migrations));
    let plan = tf.plan(&[]);
    plan.assert_failure_contains("Missing backup_url");
    assert!(plan.contains("STAGESUB_BACKUP_URL"), "{}", plan.combined());
    assert!(postgres::database_exists(&PgTenants::database(&sub)));
    tf.write_file(
        "main.tf",
        pg_config(None, &sub, false, &migrations).replace(
            "  archived = false\n",
            "  archived = true\n  archive_mode = \"pause\"\n",
        ),
    );
    tf.apply_ok();
    assert_eq!(
        state_str(&tf, "stagesub_orchestra_database.a", "status").as_deref(),
        Some("ARCHIVED")
    );
    tf.write_file("main.tf", pg_config(None, &sub, false, &migrations));
    tf.apply_ok();
    tf.destroy_ok();
}

fn sb_config(standin: &Standin, url: &str, sub: &str, archived: bool, mode: &str) -> String {
    let mut provider = standin.provider_hcl();
    let end = provider.rfind('}').expect("provider block");
    provider.insert_str(end, &format!("  backup_url        = {}\n", hcl_string(url)));
    let extra = format!(
        "{}  archived = {archived}\n  archive_mode = \"{mode}\"\n  deletion_protection = false\n",
        profile_seed_attr()
    );
    format!(
        "{provider}\n{}",
        orchestra("a", sub, "Paid Philharmonic", &extra)
    )
}

#[test]
fn supabase_paid_organization_archives_by_backup_and_refuses_pause_at_plan() {
    let standin = Standin::start(FaultsPatch {
        rate_limit_per_minute: Some(0),
        paid_org: Some(true),
        ..FaultsPatch::default()
    });
    let tf = common::terraform();
    let sub = common::subdomain("sbarc");
    let url = format!("file://{}", tf.workdir().join("backups").display());
    let a = "stagesub_orchestra_database.a";
    tf.write_file("main.tf", sb_config(&standin, &url, &sub, false, "backup"));
    tf.apply_ok();
    let old_ref = state_str(&tf, a, "id").unwrap();
    let tenant = state_str(&tf, a, "database_url").unwrap();
    common::try_query(&tenant, DATA).unwrap();
    // A schema Supabase manages in every project is left out of the archive.
    common::try_query(
        &tenant,
        "CREATE SCHEMA auth; CREATE TABLE auth.users (id int); INSERT INTO auth.users VALUES (1)",
    )
    .unwrap();
    let before = common::try_query(&tenant, ROWS).unwrap();

    // Pause on a paid organization: refused at plan, recommending backup; nothing changes.
    tf.write_file("main.tf", sb_config(&standin, &url, &sub, true, "pause"));
    let plan = tf.plan(&[]);
    plan.assert_failure_contains("Supabase does not pause projects of paid organizations");
    assert!(
        plan.contains("archive_mode = \"backup\""),
        "{}",
        plan.combined()
    );
    assert_eq!(
        standin.project(&old_ref).unwrap()["status"],
        Value::from("ACTIVE_HEALTHY")
    );

    // Backup: the project is deleted after the verified dump.
    tf.write_file("main.tf", sb_config(&standin, &url, &sub, true, "backup"));
    tf.apply_ok();
    assert!(standin.project(&old_ref).is_none(), "project deleted");
    assert_eq!(state_str(&tf, a, "status").as_deref(), Some("archived"));
    let uri = state_str(&tf, a, "backup_uri").unwrap();
    assert!(file_of(&uri).exists());
    let manifest = uri.replace(".dump", ".manifest.json");
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(file_of(&manifest)).unwrap()).unwrap();
    let schemas: Vec<&str> = manifest["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["schema"].as_str().unwrap())
        .collect();
    assert!(
        schemas.contains(&"public") && !schemas.contains(&"auth"),
        "{manifest}"
    );
    tf.assert_plan_empty();

    // Restore: a new project, the same rows.
    tf.write_file("main.tf", sb_config(&standin, &url, &sub, false, "backup"));
    tf.apply_ok();
    let new_ref = state_str(&tf, a, "id").unwrap();
    assert_ne!(new_ref, old_ref);
    assert_eq!(
        standin.project(&new_ref).unwrap()["name"],
        Value::from(format!("orchestra-{sub}"))
    );
    let tenant = state_str(&tf, a, "database_url").unwrap();
    assert_eq!(common::try_query(&tenant, ROWS).unwrap(), before);
    assert_eq!(seeded_name(&tf, a), "Paid Philharmonic");
    tf.assert_plan_empty();
    tf.destroy_ok();
    assert!(standin.projects().is_empty());
}

#[test]
fn a_restore_into_a_project_that_never_gets_healthy_is_recorded_and_retried() {
    let standin = Standin::start(FaultsPatch {
        rate_limit_per_minute: Some(0),
        ..FaultsPatch::default()
    });
    let tf = common::terraform();
    let sub = common::subdomain("sbrf");
    let url = format!("file://{}", tf.workdir().join("backups").display());
    let a = "stagesub_orchestra_database.a";
    // A short update timeout only for the restore that must fail (waiting for health).
    let config = |archived: bool, short: bool| {
        let timeouts = if short {
            "  deletion_protection = false\n  timeouts {\n    update = \"4s\"\n  }\n"
        } else {
            "  deletion_protection = false\n"
        };
        sb_config(&standin, &url, &sub, archived, "backup")
            .replace("  deletion_protection = false\n", timeouts)
    };
    tf.write_file("main.tf", config(false, false));
    tf.apply_ok();
    let tenant = state_str(&tf, a, "database_url").unwrap();
    common::try_query(&tenant, DATA).unwrap();
    let before = common::try_query(&tenant, ROWS).unwrap();
    tf.write_file("main.tf", config(true, false));
    tf.apply_ok();
    let uri = state_str(&tf, a, "backup_uri").unwrap();

    // The new project never gets healthy: the apply fails, the project is recorded, the backup kept.
    standin.set(FaultsPatch {
        never_healthy: Some(true),
        ..FaultsPatch::default()
    });
    tf.write_file("main.tf", config(false, true));
    let failed = tf.apply(&[]);
    assert!(!failed.success(), "{}", failed.combined());
    assert!(failed.contains("Restore failed"), "{}", failed.combined());
    assert!(failed.contains(&uri), "{}", failed.combined());
    assert_eq!(
        state_str(&tf, a, "status").as_deref(),
        Some("restore_failed")
    );
    let stuck = state_str(&tf, a, "id").unwrap();
    assert!(
        standin.project(&stuck).is_some(),
        "the new project is recorded"
    );
    assert!(file_of(&uri).exists());
    assert!(!tf.plan_is_empty(), "the next plan restores again");

    // Healthy again: the next apply replaces the stuck project and restores.
    standin.set(FaultsPatch {
        never_healthy: Some(false),
        ..FaultsPatch::default()
    });
    tf.write_file("main.tf", config(false, false));
    tf.apply_ok();
    let restored = state_str(&tf, a, "id").unwrap();
    assert_ne!(restored, stuck);
    assert!(
        standin.project(&stuck).is_none(),
        "the stuck project is deleted"
    );
    let tenant = state_str(&tf, a, "database_url").unwrap();
    assert_eq!(common::try_query(&tenant, ROWS).unwrap(), before);
    tf.assert_plan_empty();
    tf.destroy_ok();
}

/// A moto S3 server (PyPI `moto[server]`, installed by `scripts/setup-tools.sh` into
/// `.tools/moto-venv`, or `STAGESUB_MOTO`) on a free loopback port, with one bucket.
struct Moto {
    child: std::process::Child,
    endpoint: String,
}

impl Moto {
    fn start() -> Moto {
        let program = std::env::var_os("STAGESUB_MOTO")
            .filter(|p| !p.is_empty())
            .map_or_else(
                || stagesub_acceptance::tools_dir().join("moto-venv/bin/moto_server"),
                std::path::PathBuf::from,
            );
        assert!(
            program.exists(),
            "{} is missing: run scripts/setup-tools.sh (it installs moto[server]) or set STAGESUB_MOTO",
            program.display()
        );
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut child = std::process::Command::new(&program)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("start moto_server");
            let endpoint = format!("http://127.0.0.1:{port}");
            for _ in 0..200 {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    let (status, _) = common::http(&endpoint, "PUT", "/stagesub-backups", None);
                    assert!(status < 300, "creating the bucket: {status}");
                    return Moto { child, endpoint };
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            let _ = child.kill();
        }
        panic!("moto_server did not start");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn postgres_archive_and_restore_through_s3() {
    let moto = Moto::start();
    let tf = common::terraform()
        .with_env("AWS_ACCESS_KEY_ID", "testing")
        .with_env("AWS_SECRET_ACCESS_KEY", "test-secret-key-Zq9vQ")
        .with_env("AWS_REGION", "us-east-1")
        .with_env("STAGESUB_BACKUP_ENDPOINT", &moto.endpoint);
    let sub = common::subdomain("arcs");
    let _cleanup = PgTenants::new(&[&sub]);
    let url = "s3://stagesub-backups/tenants";
    let app = common::app(&tf, "prisma-app");
    let migrations = app.join("prisma/migrations");
    let a = "stagesub_orchestra_database.a";
    tf.write_file("main.tf", pg_config(Some(url), &sub, false, &migrations));
    tf.apply_ok();
    common::try_query(&state_str(&tf, a, "database_url").unwrap(), DATA).unwrap();
    let before = postgres::query(&tenant_url(&sub), ROWS);

    tf.write_file("main.tf", pg_config(Some(url), &sub, true, &migrations));
    tf.apply_ok();
    assert!(!postgres::database_exists(&PgTenants::database(&sub)));
    let uri = state_str(&tf, a, "backup_uri").unwrap();
    assert!(uri.starts_with(&format!("{url}/{sub}/")), "{uri}");
    assert_eq!(tf.output_string("latest"), uri);
    tf.assert_plan_empty();

    tf.write_file("main.tf", pg_config(Some(url), &sub, false, &migrations));
    tf.apply_ok();
    assert_eq!(postgres::query(&tenant_url(&sub), ROWS), before);
    tf.assert_plan_empty();

    // The store unreachable: the archive fails naming the step; the database stays in use.
    drop(moto);
    tf.write_file("main.tf", pg_config(Some(url), &sub, true, &migrations));
    let failed = tf.apply(&[]);
    assert!(!failed.success(), "{}", failed.combined());
    assert!(
        failed.contains("Archive failed at step `upload`"),
        "{}",
        failed.combined()
    );
    assert!(!failed.contains("test-secret-key"), "{}", failed.combined());
    let tenant = state_str(&tf, a, "database_url").unwrap();
    assert_eq!(common::try_query(&tenant, ROWS).unwrap(), before);
}

#[test]
fn a_tampered_backup_fails_the_restore_and_the_orchestra_can_go_back_to_its_backup() {
    let tf = common::terraform();
    let sub = common::subdomain("arct");
    let _cleanup = PgTenants::new(&[&sub]);
    let url = format!("file://{}", tf.workdir().join("backups").display());
    let migrations = repo_root().join("tests/fixtures/prisma-app/prisma/migrations");
    let a = "stagesub_orchestra_database.a";
    tf.write_file("main.tf", pg_config(Some(&url), &sub, false, &migrations));
    tf.apply_ok();
    common::try_query(&state_str(&tf, a, "database_url").unwrap(), DATA).unwrap();
    tf.write_file("main.tf", pg_config(Some(&url), &sub, true, &migrations));
    tf.apply_ok();
    let uri = state_str(&tf, a, "backup_uri").unwrap();

    // One byte of the dump changes: the restore refuses it (checksum) and says so.
    let dump = file_of(&uri);
    let mut bytes = std::fs::read(dump).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(dump, &bytes).unwrap();
    tf.write_file("main.tf", pg_config(Some(&url), &sub, false, &migrations));
    let failed = tf.apply(&[]);
    assert!(!failed.success(), "{}", failed.combined());
    assert!(failed.contains("Restore failed"), "{}", failed.combined());
    assert!(failed.contains(&uri), "{}", failed.combined());
    assert_eq!(
        state_str(&tf, a, "status").as_deref(),
        Some("restore_failed")
    );
    assert!(dump.exists(), "the backup is kept");

    // Archived again: the half-restored database is dropped, the orchestra held in its backup.
    tf.write_file("main.tf", pg_config(Some(&url), &sub, true, &migrations));
    tf.apply_ok();
    assert_eq!(state_str(&tf, a, "status").as_deref(), Some("archived"));
    assert_eq!(
        state_str(&tf, a, "backup_uri").as_deref(),
        Some(uri.as_str())
    );
    assert!(!postgres::database_exists(&PgTenants::database(&sub)));
    tf.assert_plan_empty();
}
