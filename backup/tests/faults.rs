//! Faults: each fails naming its step, leaves no manifest (nothing claims a backup) and no
//! password in the message.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::{CuttingProxy, Moto, SECRET_KEY, TestDb, fast_fail, file_store, temp_dir};
use stagesub_backup::{
    ArchiveRequest, BackupStore, PgTools, RestoreRequest, Step, archive, list, objects, restore,
};

const SUBDOMAIN: &str = "bk-faults";

async fn small_db() -> TestDb {
    let db = TestDb::create("faults").await;
    db.client()
        .await
        .batch_execute(common::FIXTURE)
        .await
        .unwrap();
    db
}

/// A database whose dump is about 12 MiB of incompressible data (more than two upload parts).
async fn big_db() -> TestDb {
    let db = TestDb::create("big").await;
    db.client()
        .await
        .batch_execute(
            "CREATE TABLE blobs (id int PRIMARY KEY, data bytea);
             INSERT INTO blobs SELECT g, decode(string_agg(md5(random()::text || g || i), ''), 'hex')
             FROM generate_series(1, 3000) g, generate_series(1, 256) i GROUP BY g;",
        )
        .await
        .unwrap();
    db
}

async fn assert_no_backup(store: &BackupStore) {
    assert_eq!(list(store, SUBDOMAIN).await.unwrap(), []);
}

#[tokio::test]
async fn upload_cut_half_way_fails_at_upload_and_leaves_nothing() {
    common::aws_env();
    let moto = Moto::start().await;
    let db = big_db().await;
    // Parts are 5 MiB: the first goes through, the connection drops inside the second.
    let proxy = CuttingProxy::start(moto.port, 7 * 1024 * 1024).await;
    let options = stagesub_backup::StoreOptions {
        part_size: 5 * 1024 * 1024,
        parts_in_flight: 1,
        ..fast_fail()
    };
    let cut = BackupStore::from_url_with(&moto.url("p"), Some(&proxy.endpoint), options).unwrap();
    let e = archive(
        &cut,
        &db.source(),
        &ArchiveRequest::new(SUBDOMAIN, serde_json::json!({})),
        |_| {},
    )
    .await
    .unwrap_err();
    eprintln!("{e}");
    assert_eq!(e.step(), Step::Upload, "{e}");
    assert!(proxy.tripped.load(std::sync::atomic::Ordering::SeqCst));
    assert!(!e.to_string().contains(SECRET_KEY), "{e}");
    // Seen directly (not through the proxy): no dump, no manifest.
    let direct = BackupStore::from_url(&moto.url("p"), Some(&moto.endpoint)).unwrap();
    assert_eq!(
        objects(&direct, SUBDOMAIN).await.unwrap(),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn unreachable_store_fails_at_upload() {
    common::aws_env();
    let db = small_db().await;
    let endpoint = format!("http://127.0.0.1:{}", common::free_port());
    let store = BackupStore::from_url_with("s3://bucket/p", Some(&endpoint), fast_fail()).unwrap();
    let e = archive(
        &store,
        &db.source(),
        &ArchiveRequest::new(SUBDOMAIN, serde_json::json!({})),
        |_| {},
    )
    .await
    .unwrap_err();
    eprintln!("{e}");
    assert_eq!(e.step(), Step::Upload, "{e}");
    assert!(!e.to_string().contains(SECRET_KEY), "{e}");
    // The database is only read: its data is all there.
    let rows: i64 = db
        .client()
        .await
        .query_one(
            r#"SELECT count(*) FROM "odd ""schema"""."Musicians; DROP""#,
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 3000);
}

#[tokio::test]
async fn store_killed_mid_archive_fails_and_claims_nothing() {
    common::aws_env();
    let mut moto = Moto::start().await;
    let db = small_db().await;
    let store =
        BackupStore::from_url_with(&moto.url("p"), Some(&moto.endpoint), fast_fail()).unwrap();
    let e = archive(
        &store,
        &db.source(),
        &ArchiveRequest::new(SUBDOMAIN, serde_json::json!({})),
        |step| {
            if step == Step::ReadBack {
                moto.kill();
            }
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.step(), Step::ReadBack, "{e}");
}

#[tokio::test]
async fn corrupted_object_fails_at_read_back() {
    let dir = temp_dir();
    let store = file_store(dir.path());
    let db = small_db().await;
    let root = dir.path().to_path_buf();
    let e = archive(
        &store,
        &db.source(),
        &ArchiveRequest::new(SUBDOMAIN, serde_json::json!({})),
        |step| {
            if step == Step::ReadBack {
                // Flip one byte in the middle of the uploaded dump.
                let folder = root.join(SUBDOMAIN);
                let dump = std::fs::read_dir(&folder)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .find(|p| p.extension().is_some_and(|x| x == "dump"))
                    .expect("the dump is uploaded before read-back");
                let mut bytes = std::fs::read(&dump).unwrap();
                let middle = bytes.len() / 2;
                bytes[middle] ^= 0x55;
                std::fs::write(&dump, bytes).unwrap();
            }
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.step(), Step::ReadBack, "{e}");
    assert!(e.message().contains("SHA-256"), "{e}");
    assert_no_backup(&store).await;
    assert_eq!(
        objects(&store, SUBDOMAIN).await.unwrap(),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn missing_pg_dump_fails_at_dump() {
    let dir = temp_dir();
    let store = file_store(dir.path());
    let db = small_db().await;
    let empty = temp_dir();
    let mut request = ArchiveRequest::new(SUBDOMAIN, serde_json::json!({}));
    request.tools = PgTools::in_dir(empty.path());
    let e = archive(&store, &db.source(), &request, |_| {})
        .await
        .unwrap_err();
    assert_eq!(e.step(), Step::Dump, "{e}");
    assert!(e.message().contains("postgresql-client"), "{e}");
    assert_eq!(
        objects(&store, SUBDOMAIN).await.unwrap(),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn too_old_pg_dump_names_the_version_needed() {
    let dir = temp_dir();
    let store = file_store(dir.path());
    let db = small_db().await;
    let bin = temp_dir();
    let fake = bin.path().join("pg_dump");
    std::fs::write(
        &fake,
        "#!/bin/sh\necho 'pg_dump (PostgreSQL) 12.22'\n[ \"$1\" = --version ] || exit 3\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut request = ArchiveRequest::new(SUBDOMAIN, serde_json::json!({}));
    request.tools.pg_dump = fake;
    let e = archive(&store, &db.source(), &request, |_| {})
        .await
        .unwrap_err();
    assert_eq!(e.step(), Step::Dump, "{e}");
    assert!(e.message().contains("pg_dump 15 or newer is needed"), "{e}");
    assert_eq!(
        objects(&store, SUBDOMAIN).await.unwrap(),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn failing_pg_dump_fails_at_dump_with_its_message() {
    let dir = temp_dir();
    let store = file_store(dir.path());
    let db = small_db().await;
    let bin = temp_dir();
    let fake = bin.path().join("pg_dump");
    // Reports a good version, writes half a dump, then fails.
    std::fs::write(
        &fake,
        "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'pg_dump (PostgreSQL) 15.20'; exit 0; fi\n\
         head -c 100000 /dev/zero\necho 'pg_dump: error: connection lost' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut request = ArchiveRequest::new(SUBDOMAIN, serde_json::json!({}));
    request.tools.pg_dump = fake;
    let e = archive(&store, &db.source(), &request, |_| {})
        .await
        .unwrap_err();
    assert_eq!(e.step(), Step::Dump, "{e}");
    assert!(e.message().contains("connection lost"), "{e}");
    assert_eq!(
        objects(&store, SUBDOMAIN).await.unwrap(),
        Vec::<String>::new()
    );
}

#[tokio::test]
async fn password_never_in_errors() {
    let dir = temp_dir();
    let store = file_store(dir.path());
    let url = common::with_database(&common::admin_url(), "stagesub_bk_no_such_db").replacen(
        "postgres@",
        "postgres:pa55-Wörd@",
        1,
    );
    let source = stagesub_backup::SourceDb::new(url, Default::default()).unwrap();
    let e = archive(
        &store,
        &source,
        &ArchiveRequest::new(SUBDOMAIN, serde_json::json!({})),
        |_| {},
    )
    .await
    .unwrap_err();
    eprintln!("{e}");
    assert_eq!(e.step(), Step::Connect, "{e}");
    assert!(!e.to_string().contains("pa55"), "{e}");
    assert!(!format!("{source:?}").contains("pa55"));
}

/// Archives the small fixture into a folder store; returns the store's folder, store and dump URI.
async fn archived() -> (tempfile::TempDir, BackupStore, String) {
    let dir = temp_dir();
    let store = file_store(dir.path());
    let db = small_db().await;
    let record = archive(
        &store,
        &db.source(),
        &ArchiveRequest::new(SUBDOMAIN, serde_json::json!({})),
        |_| {},
    )
    .await
    .unwrap();
    (dir, store, record.uri)
}

fn path_of(uri: &str) -> std::path::PathBuf {
    uri.strip_prefix("file://").unwrap().into()
}

#[tokio::test]
async fn restore_refuses_a_damaged_dump_before_touching_the_target() {
    let (_dir, store, uri) = archived().await;
    let dump = path_of(&uri);
    let mut bytes = std::fs::read(&dump).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&dump, bytes).unwrap();
    for jobs in [1, 3] {
        let target = TestDb::create("dst").await;
        let e = restore(
            &store,
            &RestoreRequest::new(uri.clone(), jobs),
            &target.source(),
            |_| {},
        )
        .await
        .unwrap_err();
        assert_eq!(e.step(), Step::Download, "{e}");
        assert!(e.message().contains("damaged"), "{e}");
        let tables: i64 = target
            .client()
            .await
            .query_one(
                "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(tables, 0, "nothing restored from a damaged dump");
    }
}

#[tokio::test]
async fn restore_mismatch_names_table_and_counts() {
    let (_dir, store, uri) = archived().await;
    // The manifest claims one row more than the dump holds.
    let manifest_path = path_of(&uri.replace(".dump", ".manifest.json"));
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    for table in manifest["tables"].as_array_mut().unwrap() {
        if table["table"] == "Musicians; DROP" {
            table["rows"] = serde_json::json!(3001);
        }
    }
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let target = TestDb::create("dst").await;
    let e = restore(
        &store,
        &RestoreRequest::new(uri.clone(), 1),
        &target.source(),
        |_| {},
    )
    .await
    .unwrap_err();
    eprintln!("{e}");
    assert_eq!(e.step(), Step::VerifyRows, "{e}");
    assert!(
        e.message()
            .contains("odd \"schema\".Musicians; DROP has 3000 rows, the backup 3001"),
        "{e}"
    );

    // A migration history that differs is named too.
    for table in manifest["tables"].as_array_mut().unwrap() {
        if table["table"] == "Musicians; DROP" {
            table["rows"] = serde_json::json!(3000);
        }
    }
    manifest["migrations"].as_array_mut().unwrap().pop();
    std::fs::write(&manifest_path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let target = TestDb::create("dst").await;
    let e = restore(
        &store,
        &RestoreRequest::new(uri, 2),
        &target.source(),
        |_| {},
    )
    .await
    .unwrap_err();
    eprintln!("{e}");
    assert_eq!(e.step(), Step::VerifyRows, "{e}");
    assert!(e.message().contains("migration history"), "{e}");
}

#[tokio::test]
async fn restore_into_a_database_in_use_fails_at_restore() {
    let (_dir, store, uri) = archived().await;
    let target = TestDb::create("dst").await;
    target
        .client()
        .await
        .batch_execute("CREATE SCHEMA supabase_migrations; CREATE TABLE supabase_migrations.schema_migrations (x int)")
        .await
        .unwrap();
    let e = restore(
        &store,
        &RestoreRequest::new(uri, 1),
        &target.source(),
        |_| {},
    )
    .await
    .unwrap_err();
    eprintln!("{e}");
    assert_eq!(e.step(), Step::Restore, "{e}");
    assert!(e.message().contains("already exists"), "{e}");
}

#[tokio::test]
async fn restore_of_an_unknown_backup_names_it() {
    let (_dir, store, uri) = archived().await;
    let target = TestDb::create("dst").await;
    let missing = uri.replace(".dump", "0.dump");
    let e = restore(
        &store,
        &RestoreRequest::new(missing, 1),
        &target.source(),
        |_| {},
    )
    .await
    .unwrap_err();
    eprintln!("{e}");
    assert_eq!(e.step(), Step::Download, "{e}");
    let other = restore(
        &store,
        &RestoreRequest::new("s3://elsewhere/x.dump", 1),
        &target.source(),
        |_| {},
    )
    .await
    .unwrap_err();
    assert!(
        other
            .message()
            .contains("not in the configured backup store"),
        "{other}"
    );
}

#[tokio::test]
async fn retention_keeps_young_backups() {
    let (_dir, store, uri) = archived().await;
    let entry = stagesub_backup::latest(&store, SUBDOMAIN)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.uri, uri);
    let now = chrono::Utc::now();
    assert!(!stagesub_backup::may_delete(&entry, 365, now));
    let e = stagesub_backup::delete_expired(&store, &entry, 365, now)
        .await
        .unwrap_err();
    eprintln!("{e}");
    assert_eq!(e.step(), Step::Delete, "{e}");
    assert_eq!(
        objects(&store, SUBDOMAIN).await.unwrap().len(),
        2,
        "nothing deleted"
    );
    // Old enough: both objects go.
    let later = entry.created_at + chrono::Duration::days(365);
    stagesub_backup::delete_expired(&store, &entry, 365, later)
        .await
        .unwrap();
    assert_eq!(
        objects(&store, SUBDOMAIN).await.unwrap(),
        Vec::<String>::new()
    );
}
