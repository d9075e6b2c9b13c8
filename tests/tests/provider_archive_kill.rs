//! Crash safety of archive and restore by backup, with a real SIGKILL: the test starts
//! `terraform apply`, waits until the provider (`terraform-provider-stagesub`, the child of that
//! Terraform, found by its parent's working folder) is in a given step, and kills it with
//! `kill -9`. After each kill the data is safe (the source database untouched, or a verified
//! backup exists before anything was deleted), the next `terraform apply` converges, the plan
//! after it is empty and no database or project is left over.
//!
//! Steps are detected, never waited for by time: the backup's session in `pg_stat_activity`
//! (`application_name = 'stagesub-backup'`: `pg_dump` while archiving, `pg_restore` while
//! restoring), a `DROP DATABASE` waiting for a lock the test holds (the upload verified, the
//! delete begun), a seed held in `pg_sleep` (`wait_event = 'PgSleep'`), and the Supabase stand-in's
//! call counts (its `latency_ms` holds the `DELETE`, its `healthy_after_ms` the wait for health).
//!
//! - postgres: killed during the dump, then during `pg_restore`.
//! - postgres: killed in the delete (its `DROP DATABASE` held by a lock the test takes, so after
//!   the verified upload and before the drop), then during the seed of a restore.
//! - supabase stand-in: killed during the dump, then during the project's delete (after the
//!   verified upload), then while the restored project is coming up.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::{PgTenants, Standin, orchestra, profile_seed_attr, state_str};
use serde_json::Value;
use stagesub_acceptance::{Terraform, TfOutput, hcl_string, postgres};
use supabase_standin::FaultsPatch;

const A: &str = "stagesub_orchestra_database.a";

/// Rows with hostile text, `bytea`, `jsonb` and large numbers, compared row by row.
const DATA: &str = r#"CREATE TABLE recital (
  id bigserial PRIMARY KEY,
  title text NOT NULL,
  notes jsonb,
  score bytea,
  fee numeric
);
INSERT INTO recital (title, notes, score, fee)
SELECT 'Konzert ' || g || E' \'; DROP TABLE recital; -- \\ ☃ ${x}',
       jsonb_build_object('g', g, 'q', E'\"quoted\" ü'),
       decode(md5(g::text), 'hex'),
       (g::numeric * 1e30) + 0.5
FROM generate_series(1, 2000) g;"#;

const ROWS: &str =
    "SELECT id, title, notes::text, encode(score, 'hex'), fee::text FROM recital ORDER BY id";

/// A table big enough (some 40 MB) that `pg_dump` and `pg_restore` are still busy when polled.
const BULK: &str = "CREATE TABLE bulk AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) || md5((g * 13)::text) AS body FROM generate_series(1, 300000) g;";

const BULK_CHECK: &str = "SELECT count(*), sum(length(body)) FROM bulk";

/// The processes named `terraform-provider-stagesub` whose parent runs in `workdir` (the
/// Terraform this test started; other tests' Terraforms run in other folders).
fn provider_pids(workdir: &Path) -> Vec<u32> {
    let workdir = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_owned());
    let mut pids = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return pids;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
        let named = exe.file_name().is_some_and(|n| {
            n.to_string_lossy()
                .starts_with("terraform-provider-stagesub")
        });
        if !named {
            continue;
        }
        let Some(ppid) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                // `pid (comm) state ppid ...`: comm may hold spaces, so split after the last ')'.
                let rest = &s[s.rfind(')')? + 1..];
                rest.split_whitespace().nth(1)?.parse::<u32>().ok()
            })
        else {
            continue;
        };
        let parent_cwd: PathBuf =
            std::fs::read_link(format!("/proc/{ppid}/cwd")).unwrap_or_default();
        if parent_cwd == workdir {
            pids.push(pid);
        }
    }
    pids
}

/// Runs `terraform apply`; once `step` holds (polled every few milliseconds while the apply
/// runs), sends SIGKILL to the provider. Panics when the step never came or no provider was
/// found to kill; returns the failed apply's output.
fn apply_killed_when(tf: &Terraform, what: &str, mut step: impl FnMut() -> bool) -> TfOutput {
    let done = AtomicBool::new(false);
    let (out, killed) = thread::scope(|scope| {
        let apply = scope.spawn(|| {
            let out = tf.apply(&[]);
            done.store(true, Ordering::SeqCst);
            out
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut killed = Vec::new();
        while !done.load(Ordering::SeqCst) && Instant::now() < deadline {
            if step() {
                for pid in provider_pids(&tf.workdir()) {
                    let status = Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status()
                        .expect("run kill");
                    if status.success() {
                        killed.push(pid);
                    }
                }
                if !killed.is_empty() {
                    break;
                }
            }
            thread::sleep(Duration::from_millis(5));
        }
        (apply.join().expect("apply thread"), killed)
    });
    assert!(
        !killed.is_empty(),
        "the provider was never killed {what}: the step did not come while the apply ran\n{}",
        out.combined()
    );
    assert!(
        !out.success(),
        "the apply succeeded although the provider was killed {what}\n{}",
        out.combined()
    );
    eprintln!("[test] provider {killed:?} killed {what}");
    out
}

/// Whether a session of the backup tools (`pg_dump` / `pg_restore`) is connected to `database`.
fn backup_session_in(database: &str) -> bool {
    let rows = postgres::query(
        &postgres::admin_url(),
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}' AND application_name = 'stagesub-backup'"
        ),
    );
    rows[0][0].as_deref() != Some("0")
}

/// An open transaction on the admin database that holds a lock on the tenant database's
/// catalog entry (`COMMENT ON DATABASE`, rolled back on drop): `DROP DATABASE` waits for it, so
/// the provider is held in its delete step, after the verified backup.
struct DropHold {
    runtime: tokio::runtime::Runtime,
    client: Option<tokio_postgres::Client>,
}

impl DropHold {
    fn take(database: &str) -> DropHold {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let client = runtime.block_on(async {
            let (client, connection) =
                tokio_postgres::connect(&postgres::admin_url(), tokio_postgres::NoTls)
                    .await
                    .expect("connect");
            tokio::spawn(connection);
            client
                .batch_execute(&format!(
                    "BEGIN; COMMENT ON DATABASE \"{database}\" IS 'held by the test'"
                ))
                .await
                .expect("hold the database's catalog entry");
            client
        });
        DropHold {
            runtime,
            client: Some(client),
        }
    }
}

impl Drop for DropHold {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(client.batch_execute("ROLLBACK"));
        }
    }
}

/// The server sessions running `DROP DATABASE` of `database` and waiting for a lock.
fn waiting_drops(database: &str) -> usize {
    postgres::query(
        &postgres::admin_url(),
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'DROP DATABASE%' AND position('{database}' in query) > 0 AND wait_event_type = 'Lock'"
        ),
    )[0][0]
        .as_deref()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The `.manifest.json` files of `sub` in the `file://` store at `store`.
fn manifests(store: &Path, sub: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(store.join(sub)) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".manifest.json"))
        .collect();
    found.sort();
    found
}

/// Asserts every manifest in the store describes a dump that is there with that SHA-256.
fn assert_backups_verified(store: &Path, sub: &str) {
    for manifest in manifests(store, sub) {
        let m: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
        let dump = PathBuf::from(
            manifest
                .to_string_lossy()
                .replace(".manifest.json", ".dump"),
        );
        assert!(dump.exists(), "{} has no dump", manifest.display());
        let sum = sha256_file(&dump);
        assert!(
            m.to_string().contains(&sum),
            "{} does not match its dump {sum}: {m}",
            manifest.display()
        );
    }
}

fn sha256_file(path: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn pg_config(store: &Path, sub: &str, archived: bool, seed: &str) -> String {
    let url = format!("file://{}", store.display());
    let extra = format!(
        "  seed_sql = {}\n  archived = {archived}\n  deletion_protection = false\n",
        hcl_string(seed)
    );
    format!(
        "{}\nprovider \"stagesub\" {{\n  backend      = \"postgres\"\n  postgres_url = {}\n  backup_url   = {}\n}}\n\n{}",
        common::REQUIRED_PROVIDERS,
        hcl_string(&postgres::admin_url()),
        hcl_string(&url),
        orchestra("a", sub, "Kill-Ensemble \"K\"", &extra)
    )
}

fn tenant_url(sub: &str) -> String {
    postgres::url_with_database(&postgres::admin_url(), &PgTenants::database(sub))
}

/// The state after an apply that converged to archived: a verified backup recorded, the
/// database gone, the plan empty.
fn assert_archived(tf: &Terraform, store: &Path, sub: &str) -> String {
    assert_eq!(state_str(tf, A, "status").as_deref(), Some("archived"));
    let uri = state_str(tf, A, "backup_uri").expect("backup_uri");
    let dump = Path::new(uri.strip_prefix("file://").unwrap());
    assert_eq!(
        state_str(tf, A, "backup_sha256").as_deref(),
        Some(sha256_file(dump).as_str())
    );
    assert_backups_verified(store, sub);
    tf.assert_plan_empty();
    uri
}

#[test]
fn postgres_provider_killed_during_the_dump_and_during_pg_restore_converges() {
    let tf = common::terraform();
    let sub = common::subdomain("kdump");
    let db = PgTenants::database(&sub);
    let _cleanup = PgTenants::new(&[&sub]);
    let store = tf.workdir().join("backups");
    let seed = common::PROFILE_SEED;
    tf.write_file("main.tf", pg_config(&store, &sub, false, seed));
    tf.apply_ok();
    postgres::query(&tenant_url(&sub), DATA);
    postgres::query(&tenant_url(&sub), BULK);
    let before = postgres::query(&tenant_url(&sub), ROWS);
    let bulk = postgres::query(&tenant_url(&sub), BULK_CHECK);

    // Killed while pg_dump reads the database: nothing deleted, no verified backup claimed.
    tf.write_file("main.tf", pg_config(&store, &sub, true, seed));
    apply_killed_when(&tf, "during pg_dump", || backup_session_in(&db));
    assert!(postgres::database_exists(&db));
    assert_eq!(postgres::query(&tenant_url(&sub), ROWS), before);
    assert_eq!(postgres::query(&tenant_url(&sub), BULK_CHECK), bulk);
    assert!(manifests(&store, &sub).is_empty(), "no backup was verified");
    assert_ne!(state_str(&tf, A, "status").as_deref(), Some("archived"));

    // The next apply archives (a new backup, verified, then the drop).
    tf.apply_ok();
    assert!(!postgres::database_exists(&db));
    let uri = assert_archived(&tf, &store, &sub);

    // Killed while pg_restore writes the new database: the backup stays, the state archived.
    tf.write_file("main.tf", pg_config(&store, &sub, false, seed));
    apply_killed_when(&tf, "during pg_restore", || {
        postgres::database_exists(&db) && backup_session_in(&db)
    });
    assert!(Path::new(uri.strip_prefix("file://").unwrap()).exists());
    assert_eq!(state_str(&tf, A, "status").as_deref(), Some("archived"));
    assert_eq!(
        state_str(&tf, A, "backup_uri").as_deref(),
        Some(uri.as_str())
    );

    // The next apply restores every row into one database.
    tf.apply_ok();
    assert_eq!(postgres::query(&tenant_url(&sub), ROWS), before);
    assert_eq!(postgres::query(&tenant_url(&sub), BULK_CHECK), bulk);
    assert_eq!(common::seeded_name(&tf, A), "Kill-Ensemble \"K\"");
    assert!(state_str(&tf, A, "database_url").is_some());
    tf.assert_plan_empty();
    tf.destroy_ok();
    assert!(!postgres::database_exists(&db));
}

#[test]
fn postgres_provider_killed_during_the_delete_and_during_the_seed_converges() {
    let tf = common::terraform();
    let sub = common::subdomain("kver");
    let db = PgTenants::database(&sub);
    let _cleanup = PgTenants::new(&[&sub]);
    let store = tf.workdir().join("backups");
    let seed = common::PROFILE_SEED;
    tf.write_file("main.tf", pg_config(&store, &sub, false, seed));
    tf.apply_ok();
    postgres::query(&tenant_url(&sub), DATA);
    let before = postgres::query(&tenant_url(&sub), ROWS);

    // Held in the delete (DROP DATABASE waits for the test's lock) and killed there: the backup
    // is verified before anything is dropped. The killed client's statement is ended on the
    // server before the lock goes, so the database stays (the kill came before the drop).
    let hold = DropHold::take(&db);
    tf.write_file("main.tf", pg_config(&store, &sub, true, seed));
    apply_killed_when(&tf, "during the delete, after the verified upload", || {
        waiting_drops(&db) > 0
    });
    assert_eq!(manifests(&store, &sub).len(), 1);
    assert_backups_verified(&store, &sub);
    postgres::query(
        &postgres::admin_url(),
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query ILIKE 'DROP DATABASE%' AND position('{db}' in query) > 0"
        ),
    );
    drop(hold);
    assert!(postgres::database_exists(&db));
    assert_eq!(postgres::query(&tenant_url(&sub), ROWS), before);
    assert_ne!(state_str(&tf, A, "status").as_deref(), Some("archived"));

    // The next apply finishes the archive.
    tf.apply_ok();
    assert!(!postgres::database_exists(&db));
    let uri = assert_archived(&tf, &store, &sub);

    // A restore whose seed is held (pg_sleep) is killed there: data restored but not recorded.
    let held_seed = format!("{seed}SELECT pg_sleep(300);\n");
    tf.write_file("main.tf", pg_config(&store, &sub, false, &held_seed));
    apply_killed_when(&tf, "during the seed", || {
        let rows = postgres::query(
            &postgres::admin_url(),
            &format!(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}' AND wait_event = 'PgSleep'"
            ),
        );
        rows[0][0].as_deref() != Some("0")
    });
    assert_eq!(state_str(&tf, A, "status").as_deref(), Some("archived"));
    assert!(Path::new(uri.strip_prefix("file://").unwrap()).exists());

    // The next apply restores again (the leftover of the killed restore is replaced).
    tf.write_file("main.tf", pg_config(&store, &sub, false, seed));
    tf.apply_ok();
    assert_eq!(postgres::query(&tenant_url(&sub), ROWS), before);
    assert_eq!(common::seeded_name(&tf, A), "Kill-Ensemble \"K\"");
    tf.assert_plan_empty();
    tf.destroy_ok();
}

fn sb_config(standin: &Standin, store: &Path, sub: &str, archived: bool) -> String {
    let url = format!("file://{}", store.display());
    let mut provider = standin.provider_hcl();
    let end = provider.rfind('}').expect("provider block");
    provider.insert_str(
        end,
        &format!("  backup_url        = {}\n", hcl_string(&url)),
    );
    let extra = format!(
        "{}  archived = {archived}\n  deletion_protection = false\n",
        profile_seed_attr()
    );
    format!(
        "{provider}\n{}",
        orchestra("a", sub, "Kill Philharmonic", &extra)
    )
}

#[test]
fn supabase_provider_killed_during_the_dump_the_delete_and_while_waiting_for_health_converges() {
    let standin = Standin::start(FaultsPatch {
        rate_limit_per_minute: Some(0),
        paid_org: Some(true),
        ..FaultsPatch::default()
    });
    let tf = common::terraform();
    let sub = common::subdomain("ksb");
    let store = tf.workdir().join("backups");
    tf.write_file("main.tf", sb_config(&standin, &store, &sub, false));
    tf.apply_ok();
    let old_ref = state_str(&tf, A, "id").unwrap();
    let tenant = state_str(&tf, A, "database_url").unwrap();
    common::try_query(&tenant, DATA).unwrap();
    let before = common::try_query(&tenant, ROWS).unwrap();

    // Killed while pg_dump reads the project's database: the project untouched, no backup.
    common::try_query(&tenant, BULK).unwrap();
    let project_db = tenant
        .split('?')
        .next()
        .and_then(|u| u.rsplit('/').next())
        .expect("database name in the URL")
        .to_owned();
    tf.write_file("main.tf", sb_config(&standin, &store, &sub, true));
    apply_killed_when(&tf, "during pg_dump of the project", || {
        backup_session_in(&project_db)
    });
    assert!(standin.project(&old_ref).is_some());
    assert_eq!(common::try_query(&tenant, ROWS).unwrap(), before);
    assert!(manifests(&store, &sub).is_empty(), "no backup was verified");

    // Every call held a while: the kill comes while the project's DELETE is in flight.
    standin.set(FaultsPatch {
        latency_ms: Some(700),
        ..FaultsPatch::default()
    });
    standin.reset_stats();
    tf.write_file("main.tf", sb_config(&standin, &store, &sub, true));
    apply_killed_when(&tf, "during the project's delete", || {
        standin.stats().calls("DELETE /v1/projects/{ref}") > 0
    });
    standin.set(FaultsPatch {
        latency_ms: Some(0),
        ..FaultsPatch::default()
    });
    // Nothing is deleted without a verified backup.
    assert_eq!(manifests(&store, &sub).len(), 1);
    assert_backups_verified(&store, &sub);
    if standin.project(&old_ref).is_some() {
        assert_eq!(common::try_query(&tenant, ROWS).unwrap(), before);
    }

    tf.apply_ok();
    assert!(standin.project(&old_ref).is_none(), "project deleted");
    let uri = assert_archived(&tf, &store, &sub);
    assert!(standin.projects().is_empty(), "{:?}", standin.projects());

    // The restored project never gets healthy while the provider waits: killed there.
    standin.set(FaultsPatch {
        healthy_after_ms: Some(120_000),
        ..FaultsPatch::default()
    });
    standin.reset_stats();
    tf.write_file("main.tf", sb_config(&standin, &store, &sub, false));
    apply_killed_when(&tf, "while the new project comes up", || {
        standin.stats().calls("POST /v1/projects") > 0 && !standin.projects().is_empty()
    });
    standin.set(FaultsPatch {
        healthy_after_ms: Some(300),
        ..FaultsPatch::default()
    });
    assert_eq!(state_str(&tf, A, "status").as_deref(), Some("archived"));
    assert!(Path::new(uri.strip_prefix("file://").unwrap()).exists());

    // The next apply replaces the project left coming up and restores every row.
    tf.apply_ok();
    let new_ref = state_str(&tf, A, "id").unwrap();
    let projects = standin.projects();
    assert_eq!(projects.len(), 1, "no orphan project: {projects:?}");
    assert!(standin.project(&new_ref).is_some(), "{projects:?}");
    let tenant = state_str(&tf, A, "database_url").unwrap();
    assert_eq!(common::try_query(&tenant, ROWS).unwrap(), before);
    assert_eq!(common::seeded_name(&tf, A), "Kill Philharmonic");
    tf.assert_plan_empty();
    tf.destroy_ok();
    assert!(standin.projects().is_empty());
}

#[test]
fn postgres_archive_killed_during_the_dump_and_called_off_lets_the_tenant_in_again() {
    let tf = common::terraform();
    let sub = common::subdomain("koff");
    let db = PgTenants::database(&sub);
    let _cleanup = PgTenants::new(&[&sub]);
    let store = tf.workdir().join("backups");
    let seed = common::PROFILE_SEED;
    tf.write_file("main.tf", pg_config(&store, &sub, false, seed));
    tf.apply_ok();
    let tenant = state_str(&tf, A, "database_url").unwrap();
    common::try_query(&tenant, DATA).unwrap();
    postgres::query(&tenant_url(&sub), BULK);
    let before = postgres::query(&tenant_url(&sub), ROWS);

    tf.write_file("main.tf", pg_config(&store, &sub, true, seed));
    apply_killed_when(&tf, "during pg_dump", || backup_session_in(&db));
    assert_eq!(postgres::query(&tenant_url(&sub), ROWS), before);

    // The archive is called off: the next apply leaves the database in use, the tenant logs in.
    tf.write_file("main.tf", pg_config(&store, &sub, false, seed));
    tf.apply_ok();
    assert_ne!(state_str(&tf, A, "status").as_deref(), Some("archived"));
    let tenant = state_str(&tf, A, "database_url").unwrap();
    assert_eq!(common::try_query(&tenant, ROWS).unwrap(), before);
    tf.assert_plan_empty();
    tf.destroy_ok();
}
