//! Archive -> restore round trips against real Postgres, pg_dump/pg_restore and a moto S3 server:
//! every row compared, sequences continue where they were.

mod common;

use common::{Moto, TestDb, file_store, fixture_rows, next_values, temp_dir};
use stagesub_backup::{
    ArchiveRequest, BackupStore, RestoreRequest, Step, archive, latest, list, objects,
    read_manifest, restore,
};

async fn round_trip(store: &BackupStore, jobs: u32) {
    let source = TestDb::create("src").await;
    let src = source.client().await;
    src.batch_execute(common::FIXTURE).await.unwrap();
    let values = serde_json::json!({"orchestra_name": "L'Orchestre \"'; DROP", "plan": "pro"});

    let mut steps = Vec::new();
    let record = archive(
        store,
        &source.source(),
        &ArchiveRequest::new("bk-roundtrip", values.clone()),
        |s| steps.push(s),
    )
    .await
    .unwrap();
    assert_eq!(
        steps,
        [
            Step::Connect,
            Step::Dump,
            Step::Upload,
            Step::ReadBack,
            Step::VerifyList,
            Step::Manifest
        ]
    );
    assert!(record.uri.ends_with(".dump"), "{}", record.uri);
    assert_eq!(record.sha256.len(), 64);
    let manifest = read_manifest(store, &record.uri).await.unwrap();
    assert_eq!(manifest, record.manifest);
    assert_eq!(manifest.tenant_values, values);
    assert_eq!(manifest.server_version_num / 10_000, 15);
    let musicians = manifest
        .tables
        .iter()
        .find(|t| t.table == "Musicians; DROP")
        .expect("the table is counted");
    assert_eq!(
        (musicians.schema.as_str(), musicians.rows),
        ("odd \"schema\"", 3000)
    );
    let names: Vec<_> = manifest
        .migrations
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "20240101000000_init",
            "20240201000000_more",
            "20240301000000_orchestra"
        ]
    );
    let entries = list(store, "bk-roundtrip").await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].sha256, record.sha256);
    assert_eq!(
        latest(store, "bk-roundtrip").await.unwrap(),
        Some(entries[0].clone())
    );
    assert_eq!(
        objects(store, "bk-roundtrip").await.unwrap(),
        [record.uri.clone(), record.manifest_uri.clone()]
    );

    let target = TestDb::create("dst").await;
    let mut steps = Vec::new();
    let report = restore(
        store,
        &RestoreRequest::new(record.uri.clone(), jobs),
        &target.source(),
        |s| steps.push(s),
    )
    .await
    .unwrap();
    assert_eq!(steps, [Step::Download, Step::Restore, Step::VerifyRows]);
    assert_eq!(report.migrations, 3);
    assert_eq!(report.tenant_values, values);

    let dst = target.client().await;
    let (want, got) = (fixture_rows(&src).await, fixture_rows(&dst).await);
    assert_eq!(want.len(), 3000);
    assert!(want == got, "the restored rows differ from the source");
    assert_eq!(next_values(&src).await, next_values(&dst).await);
}

#[tokio::test]
async fn file_store_round_trip_streamed() {
    let dir = temp_dir();
    round_trip(&file_store(dir.path()), 1).await;
}

#[tokio::test]
async fn file_store_round_trip_parallel() {
    let dir = temp_dir();
    round_trip(&file_store(dir.path()), 4).await;
}

#[tokio::test]
async fn s3_round_trip_parallel() {
    common::aws_env();
    let moto = Moto::start().await;
    let store = BackupStore::from_url(&moto.url("tenants/prod"), Some(&moto.endpoint)).unwrap();
    round_trip(&store, 4).await;
}

#[tokio::test]
async fn s3_round_trip_streamed() {
    common::aws_env();
    let moto = Moto::start().await;
    let store = BackupStore::from_url(&moto.url(""), Some(&moto.endpoint)).unwrap();
    round_trip(&store, 1).await;
}

#[tokio::test]
async fn chosen_schemas_restore_beside_existing_ones() {
    let dir = temp_dir();
    let store = file_store(dir.path());
    let source = TestDb::create("src").await;
    let src = source.client().await;
    src.batch_execute(common::FIXTURE).await.unwrap();
    // A platform schema (as a Supabase project has `auth`), present again in the new project.
    src.batch_execute(
        "CREATE SCHEMA auth; CREATE TABLE auth.users (id int); INSERT INTO auth.users VALUES (1)",
    )
    .await
    .unwrap();
    let mut request = ArchiveRequest::new("bk-schemas", serde_json::json!({}));
    request.schemas = ["odd \"schema\"", "public", "supabase_migrations"]
        .map(String::from)
        .to_vec();
    let record = archive(&store, &source.source(), &request, |_| {})
        .await
        .unwrap();
    assert!(record.manifest.tables.iter().all(|t| t.schema != "auth"));
    assert_eq!(record.manifest.schemas, request.schemas);

    let target = TestDb::create("dst").await;
    let dst = target.client().await;
    dst.batch_execute("CREATE SCHEMA auth; CREATE TABLE auth.users (id int)")
        .await
        .unwrap();
    restore(
        &store,
        &RestoreRequest::new(record.uri, 2),
        &target.source(),
        |_| {},
    )
    .await
    .unwrap();
    assert!(fixture_rows(&src).await == fixture_rows(&dst).await);
    let auth_rows: i64 = dst
        .query_one("SELECT count(*) FROM auth.users", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(auth_rows, 0, "schemas left out are not restored");
}

/// The provider runs these on a multi-threaded runtime: their futures must be `Send`.
#[test]
fn futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let dir = temp_dir();
    let store = file_store(dir.path());
    let db =
        stagesub_backup::SourceDb::new("postgres://u@127.0.0.1/x", Default::default()).unwrap();
    let request = ArchiveRequest::new("bk-send", serde_json::json!({}));
    let archive_future = archive(&store, &db, &request, |_| {});
    assert_send(&archive_future);
    let restore_request = RestoreRequest::new("file:///x.dump", 1);
    let restore_future = restore(&store, &restore_request, &db, |_| {});
    assert_send(&restore_future);
}
