//! The tenant directory through real Terraform and a real PostgreSQL (both backends): create writes
//! a `ready` row whose secret opens with the key; a rename writes it again; a row deleted by hand
//! shows in the plan and apply repairs it; a key rotation re-encrypts it; an unreachable directory
//! fails the apply naming it (without its password) and the next apply converges; destroy leaves a
//! tombstone; archive and restore pass through `archived`, `restoring`, `ready`. A directory URL without keys is a configuration error that shows no value.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{PgTenants, Standin, orchestra, postgres_provider, state_str, terraform};
use stagesub_acceptance::{Terraform, hcl_string, postgres};
use stagesub_directory::{DirectoryKeys, ReadOutcome, Status, TenantSecret};
use supabase_standin::FaultsPatch;

const KEY_1: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const KEY_2: &str = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";

fn directory_attrs(url: &str, keys: &str) -> String {
    format!(
        "  directory_url  = {}\n  directory_keys = {}\n}}\n",
        hcl_string(url),
        hcl_string(keys)
    )
}

/// `provider` (a provider block ending in `}\n`) with the directory settings added.
fn with_directory(provider: &str, url: &str, keys: &str) -> String {
    let cut = provider
        .trim_end()
        .strip_suffix('}')
        .expect("provider block");
    format!("{cut}{}", directory_attrs(url, keys))
}

fn read_row(url: &str, keys: &str, subdomain: &str) -> ReadOutcome {
    let keys = DirectoryKeys::parse(keys).unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let client = stagesub_directory::connect(url).await.unwrap();
            stagesub_directory::read(&client, &keys, subdomain)
                .await
                .unwrap()
        })
}

/// The row, which must be current (sealed with the first key) and carry a secret.
fn current(url: &str, keys: &str, subdomain: &str) -> (stagesub_directory::Record, TenantSecret) {
    match read_row(url, keys, subdomain) {
        ReadOutcome::Current(record, Some(secret)) => (record, secret),
        other => panic!("expected a current row with a secret for {subdomain}, got {other:?}"),
    }
}

fn actions(tf: &Terraform, address: &str) -> serde_json::Value {
    let plan = tf.plan_json(&[]);
    plan["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .find(|c| c["address"] == address)
        .map(|c| c["change"]["actions"].clone())
        .unwrap_or_else(|| panic!("no change for {address}"))
}

#[test]
fn postgres_backend_keeps_its_directory_row_true() {
    postgres_lifecycle(&terraform());
}

#[test]
fn postgres_backend_keeps_its_directory_row_true_on_terraform_1_0() {
    postgres_lifecycle(&common::terraform_1_0());
}

fn postgres_lifecycle(tf: &Terraform) {
    let dir = postgres::TestDatabase::create("stagesub_dir");
    let sub = common::subdomain("dira");
    let sub_b = common::subdomain("dirb");
    let _cleanup = PgTenants::new(&[&sub, &sub_b]);
    let a = "stagesub_orchestra_database.a";
    let provider = |url: &str, keys: &str| with_directory(&postgres_provider(), url, keys);
    let extra = "  plan = \"pro\"\n  deletion_protection = false\n";
    let config = |provider: String, name: &str, b: bool| {
        let mut s = format!("{provider}\n{}", orchestra("a", &sub, name, extra));
        if b {
            s.push_str(&orchestra("b", &sub_b, "Orchestra B", extra));
        }
        s
    };

    // Create: the row is ready, its secret opens with the key and holds the state's URL.
    tf.write_file(
        "main.tf",
        config(provider(dir.url(), KEY_1), "Alpha", false),
    );
    tf.apply_ok();
    tf.assert_plan_empty();
    let (record, secret) = current(dir.url(), KEY_1, &sub);
    assert_eq!(record.status, Status::Ready);
    assert_eq!(record.backend, "postgres");
    assert_eq!(record.plan.as_deref(), Some("pro"));
    assert_eq!(record.key_id.as_deref(), Some("72cd6e84"));
    assert_eq!(
        Some(secret.database_url.expose().to_string()),
        state_str(tf, a, "database_url")
    );
    assert!(secret.pooler_url.is_none() && secret.anon_key.is_none());
    let first_generation = record.generation;

    // Rename: written again, a higher generation.
    tf.write_file(
        "main.tf",
        config(provider(dir.url(), KEY_1), "Alpha Renamed", false),
    );
    tf.apply_ok();
    tf.assert_plan_empty();
    let (renamed, _) = current(dir.url(), KEY_1, &sub);
    assert!(renamed.generation > first_generation, "{renamed:?}");

    // A new password: the sealed URL carries it.
    let with_password = format!("{extra}  database_password = \"rotated-password-0042\"\n");
    tf.write_file(
        "main.tf",
        format!(
            "{}\n{}",
            provider(dir.url(), KEY_1),
            orchestra("a", &sub, "Alpha Renamed", &with_password)
        ),
    );
    tf.apply_ok();
    tf.assert_plan_empty();
    let (record, secret) = current(dir.url(), KEY_1, &sub);
    assert!(record.generation > renamed.generation);
    assert!(
        secret
            .database_url
            .expose()
            .contains("rotated-password-0042"),
        "the new password is sealed"
    );

    // A row deleted by hand shows in the plan; apply writes it back.
    dir.query(&format!(
        "DELETE FROM stagesub_directory.tenants WHERE subdomain = '{sub}'"
    ));
    assert_eq!(actions(tf, a), serde_json::json!(["update"]));
    tf.apply_ok();
    tf.assert_plan_empty();
    assert_eq!(current(dir.url(), KEY_1, &sub).0.status, Status::Ready);

    // Rotation: the new key first; apply re-encrypts the row with it.
    let rotated = format!("{KEY_2},{KEY_1}");
    tf.write_file(
        "main.tf",
        config(provider(dir.url(), &rotated), "Alpha Renamed", false),
    );
    assert!(matches!(
        read_row(dir.url(), &rotated, &sub),
        ReadOutcome::StaleKey(..)
    ));
    assert_eq!(actions(tf, a), serde_json::json!(["update"]));
    tf.apply_ok();
    tf.assert_plan_empty();
    let (record, _) = current(dir.url(), &rotated, &sub);
    assert_eq!(record.key_id.as_deref(), Some("75877bb4"));
    // The old key alone no longer opens it.
    assert!(matches!(
        read_row(dir.url(), KEY_1, &sub),
        ReadOutcome::Undecryptable(_)
    ));

    // A row edited by hand (stale values) or a tampered secret (undecryptable) shows in the plan too.
    for (edit, drift) in [
        ("plan = 'free'", "stale"),
        (
            "secret = set_byte(secret, 20, get_byte(secret, 20) # 1)",
            "undecryptable",
        ),
    ] {
        dir.query(&format!(
            "UPDATE stagesub_directory.tenants SET {edit} WHERE subdomain = '{sub}'"
        ));
        tf.refresh().assert_success();
        assert_eq!(state_str(tf, a, "directory_status").as_deref(), Some(drift));
        assert_eq!(actions(tf, a), serde_json::json!(["update"]), "{drift}");
        tf.apply_ok();
        tf.assert_plan_empty();
        let (record, _) = current(dir.url(), &rotated, &sub);
        assert_eq!(record.plan.as_deref(), Some("pro"));
    }

    // An unreachable directory fails the apply, naming it without its password; nothing created.
    let down = "postgres://stagesub:dir-password-42@127.0.0.1:1/control";
    tf.write_file(
        "main.tf",
        config(provider(down, &rotated), "Alpha Renamed", true),
    );
    let out = tf.apply(&[]);
    assert!(!out.success(), "{out}");
    let text = out.combined();
    assert!(text.contains("tenant directory"), "{text}");
    assert!(text.contains("127.0.0.1:1"), "{text}");
    assert!(!text.contains("dir-password-42"), "{text}");
    assert!(!postgres::database_exists(&PgTenants::database(&sub_b)));
    // Back up: the next apply converges.
    tf.write_file(
        "main.tf",
        config(provider(dir.url(), &rotated), "Alpha Renamed", true),
    );
    tf.apply_ok();
    tf.assert_plan_empty();
    assert_eq!(current(dir.url(), &rotated, &sub_b).0.status, Status::Ready);

    // Import writes the row.
    let id = state_str(tf, a, "id").expect("id");
    tf.state_rm_ok(a);
    dir.query(&format!(
        "DELETE FROM stagesub_directory.tenants WHERE subdomain = '{sub}'"
    ));
    tf.import_ok(a, &id);
    let (imported, _) = current(dir.url(), &rotated, &sub);
    assert_eq!(imported.status, Status::Ready);
    assert_eq!(imported.resource_id.as_deref(), Some(id.as_str()));
    tf.apply_ok();

    // Destroy: tombstones without secrets.
    tf.destroy_ok();
    for s in [&sub, &sub_b] {
        match read_row(dir.url(), &rotated, s) {
            ReadOutcome::Current(record, None) => {
                assert_eq!(record.status, Status::Deleted);
                assert_eq!(record.key_id, None);
            }
            other => panic!("expected a tombstone for {s}, got {other:?}"),
        }
    }
}

#[test]
fn supabase_backend_seals_pooler_url_and_anon_key() {
    let dir = postgres::TestDatabase::create("stagesub_dir");
    let standin = Standin::start(FaultsPatch::default());
    let sub = common::subdomain("dirs");
    let a = "stagesub_orchestra_database.a";
    let tf = &terraform();
    let role = format!("stagesub_app_{}", common::suffix());
    postgres::query(
        &postgres::admin_url(),
        &format!("CREATE ROLE \"{role}\" NOLOGIN"),
    );
    let provider = with_directory(&standin.provider_hcl(), dir.url(), KEY_1)
        .trim_end()
        .strip_suffix('}')
        .unwrap()
        .to_string()
        + &format!(
            "  directory_reader_role = {}\n  backup_url = {}\n}}\n",
            hcl_string(&role),
            hcl_string(&format!(
                "file://{}",
                tf.workdir().join("backups").display()
            ))
        );
    let extra = "  deletion_protection = false\n";
    tf.write_file(
        "main.tf",
        format!("{provider}\n{}", orchestra("a", &sub, "Sopra", extra)),
    );
    tf.apply_ok();
    tf.assert_plan_empty();
    let (record, secret) = current(dir.url(), KEY_1, &sub);
    assert_eq!(record.status, Status::Ready);
    assert_eq!(record.backend, "supabase");
    assert_eq!(record.resource_id, state_str(tf, a, "id"));
    assert_eq!(record.api_url, state_str(tf, a, "api_url"));
    assert_eq!(
        secret.pooler_url.as_ref().map(|s| s.expose().to_string()),
        state_str(tf, a, "pooler_url")
    );
    let anon = secret.anon_key.expect("an anon key");
    assert!(anon.expose().starts_with("eyJ"), "a JWT");
    // The reader role may call lookup and may not read the table.
    let grants = dir.query(&format!(
        "SELECT has_function_privilege('{role}', 'stagesub_directory.lookup(text)', 'EXECUTE'), \
                has_table_privilege('{role}', 'stagesub_directory.tenants', 'SELECT')"
    ));
    assert_eq!(
        grants,
        vec![vec![Some("t".to_string()), Some("f".to_string())]]
    );

    // Archive (by backup) and restore follow: the row says `archived` from the start of the archive,
    // `restoring` while the project is created again and the backup restored, then `ready`.
    tf.write_file(
        "main.tf",
        format!(
            "{provider}\n{}",
            orchestra("a", &sub, "Sopra", &format!("{extra}  archived = true\n"))
        ),
    );
    tf.apply_ok();
    // Archived by backup (the default): the project is gone, so the row keeps no secret.
    assert!(matches!(
        read_row(dir.url(), KEY_1, &sub),
        ReadOutcome::Current(r, None) if r.status == Status::Archived
    ));
    assert_eq!(state_str(tf, a, "status").as_deref(), Some("archived"));
    // Restore: `restoring` while the project comes back (slowed to 3 s here), then `ready`.
    standin.set(FaultsPatch {
        healthy_after_ms: Some(3000),
        ..FaultsPatch::default()
    });
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (stop, url, sub) = (stop.clone(), dir.url().to_string(), sub.clone());
        std::thread::spawn(move || {
            let mut seen: Vec<String> = Vec::new();
            loop {
                // Read once more after the apply returned, so its last write is always seen (a
                // poll can take longer than the gap between the last write and the stop).
                let stopping = stop.load(Ordering::Relaxed);
                let rows = postgres::query(
                    &url,
                    &format!(
                        "SELECT status FROM stagesub_directory.tenants WHERE subdomain = '{sub}'"
                    ),
                );
                if let Some(status) = rows.first().and_then(|r| r[0].clone())
                    && seen.last() != Some(&status)
                {
                    seen.push(status);
                }
                if stopping {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            seen
        })
    };
    tf.write_file(
        "main.tf",
        format!("{provider}\n{}", orchestra("a", &sub, "Sopra", extra)),
    );
    tf.apply_ok();
    stop.store(true, Ordering::Relaxed);
    let seen = watcher.join().unwrap();
    assert_eq!(seen, ["archived", "restoring", "ready"]);
    assert_eq!(current(dir.url(), KEY_1, &sub).0.status, Status::Ready);

    tf.destroy_ok();
    assert!(matches!(
        read_row(dir.url(), KEY_1, &sub),
        ReadOutcome::Current(r, None) if r.status == Status::Deleted
    ));
    drop(dir);
    postgres::query(
        &postgres::admin_url(),
        &format!("DROP ROLE IF EXISTS \"{role}\""),
    );
}

#[test]
fn a_directory_url_without_usable_keys_is_a_configuration_error() {
    let tf = terraform();
    let url = "postgres://stagesub:very-secret-pw@127.0.0.1:5432/control";
    let sub = common::subdomain("dirc");
    let block = |provider: String| format!("{provider}\n{}", orchestra("a", &sub, "C", ""));
    let no_keys = postgres_provider()
        .trim_end()
        .strip_suffix('}')
        .unwrap()
        .to_string()
        + &format!("  directory_url = {}\n}}\n", hcl_string(url));
    tf.write_file("main.tf", block(no_keys));
    let out = tf.plan(&[]);
    let text = out.combined();
    assert!(!out.success(), "{text}");
    assert!(text.contains("STAGESUB_DIRECTORY_KEYS"), "{text}");
    assert!(!text.contains("very-secret-pw"), "{text}");

    // From the environment (a value in main.tf would show in Terraform's own source excerpt).
    let bad_key = "c2hvcnQta2V5LXZhbHVl";
    let tf = tf
        .with_env("STAGESUB_DIRECTORY_URL", url)
        .with_env("STAGESUB_DIRECTORY_KEYS", bad_key);
    tf.write_file("main.tf", block(postgres_provider()));
    let out = tf.plan(&[]);
    let text = out.combined();
    assert!(!out.success(), "{text}");
    assert!(text.contains("directory_keys"), "{text}");
    assert!(text.contains("32"), "{text}");
    assert!(
        !text.contains(bad_key) && !text.contains("very-secret-pw"),
        "{text}"
    );
}

#[test]
fn a_write_only_password_is_sealed_but_never_stored() {
    let dir = postgres::TestDatabase::create("stagesub_dir");
    let sub = common::subdomain("dirw");
    let _cleanup = PgTenants::new(&[&sub]);
    let a = "stagesub_orchestra_database.a";
    let tf = &terraform();
    let provider = with_directory(&postgres_provider(), dir.url(), KEY_1);
    let resource = |password: &str, version: u32| {
        orchestra(
            "a",
            &sub,
            "Write Only",
            &format!(
                "  deletion_protection = false\n  database_password_wo = {}\n  database_password_wo_version = {version}\n",
                hcl_string(password)
            ),
        )
    };
    tf.write_file(
        "main.tf",
        format!("{provider}\n{}", resource("write-only-pw-0001", 1)),
    );
    tf.apply_ok();
    tf.assert_plan_empty();
    let (_, secret) = current(dir.url(), KEY_1, &sub);
    assert!(secret.database_url.expose().contains("write-only-pw-0001"));
    let state_url = state_str(tf, a, "database_url").expect("database_url");
    assert!(!state_url.contains("write-only-pw-0001"), "{state_url}");

    // A new version rotates the password and the sealed URL with it.
    tf.write_file(
        "main.tf",
        format!("{provider}\n{}", resource("write-only-pw-0002", 2)),
    );
    tf.apply_ok();
    tf.assert_plan_empty();
    let (_, secret) = current(dir.url(), KEY_1, &sub);
    assert!(secret.database_url.expose().contains("write-only-pw-0002"));
    tf.destroy_ok();
}
