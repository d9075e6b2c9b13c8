//! The schema against a real Postgres: concurrent creation, versions, and the reader role's
//! permissions (it can call `lookup`, it cannot read the table).

mod common;

use common::{TestDb, keys, ready, with_user};
use stagesub_directory::{
    Error, SCHEMA_VERSION, Status, connect, ensure_schema, grant_reader, status, upsert,
};

#[tokio::test]
async fn ten_concurrent_applies_on_fresh_databases_agree() {
    for round in 0..3 {
        let db = TestDb::create("concurrent").await;
        let reader = db.role("stagesub_dir_reader").await;
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let url = db.url.clone();
            let reader = reader.clone();
            tasks.push(tokio::spawn(async move {
                let mut client = connect(&url).await.expect("connect");
                let found = ensure_schema(&mut client).await?;
                grant_reader(&mut client, &reader).await?;
                Ok::<i32, Error>(found)
            }));
        }
        let mut found = Vec::new();
        for task in tasks {
            found.push(
                task.await
                    .unwrap()
                    .unwrap_or_else(|e| panic!("round {round}: {e}")),
            );
        }
        found.sort();
        // Exactly one apply created the schema; the nine others found it done.
        assert_eq!(
            found,
            [&[0][..], &[SCHEMA_VERSION; 9][..]].concat(),
            "round {round}"
        );
        let client = db.client().await;
        let versions: Vec<i32> = client
            .query(
                "SELECT version FROM stagesub_directory.schema_version ORDER BY 1",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let db = TestDb::create("newer").await;
    let mut client = db.client().await;
    ensure_schema(&mut client).await.unwrap();
    assert_eq!(ensure_schema(&mut client).await.unwrap(), SCHEMA_VERSION);
    client
        .execute(
            "INSERT INTO stagesub_directory.schema_version (version) VALUES ($1)",
            &[&(SCHEMA_VERSION + 1)],
        )
        .await
        .unwrap();
    let error = ensure_schema(&mut client).await.unwrap_err();
    assert!(matches!(error, Error::SchemaTooNew { .. }), "{error}");
    assert!(
        error.to_string().contains("upgrade the provider"),
        "{error}"
    );
}

#[tokio::test]
async fn the_reader_role_calls_lookup_and_cannot_read_the_table() {
    let db = TestDb::create("reader").await;
    let mut client = db.client().await;
    ensure_schema(&mut client).await.unwrap();
    upsert(&client, &keys(&[1]), &ready("mozart-phil"))
        .await
        .unwrap();
    let reader = db.role("stagesub_dir_reader").await;
    let outsider = db.role("stagesub_dir_outsider").await;
    grant_reader(&mut client, &reader).await.unwrap();
    grant_reader(&mut client, &reader).await.unwrap();

    // Logged in as the reader itself.
    let as_reader = connect(&with_user(&db.url, &reader)).await.unwrap();
    let row = as_reader
        .query_one(
            "SELECT status, secret FROM stagesub_directory.lookup($1)",
            &[&"mozart-phil"],
        )
        .await
        .expect("the reader role may call lookup");
    assert_eq!(row.get::<_, String>(0), "ready");
    assert!(!row.get::<_, Vec<u8>>(1).is_empty());
    // `status` needs nothing more than the reader's grant (and no keys).
    assert_eq!(
        status(&as_reader, "mozart-phil").await.unwrap(),
        Some(Status::Ready)
    );
    assert_eq!(status(&as_reader, "nobody-here").await.unwrap(), None);
    for forbidden in [
        "SELECT * FROM stagesub_directory.tenants",
        "SELECT secret FROM stagesub_directory.tenants WHERE subdomain = 'mozart-phil'",
        "UPDATE stagesub_directory.tenants SET status = 'ready'",
        "SELECT * FROM stagesub_directory.schema_version",
        "SELECT pg_catalog.nextval('stagesub_directory.generation')",
    ] {
        let error = as_reader.batch_execute(forbidden).await.unwrap_err();
        let code = error.as_db_error().map(|e| e.code().code().to_owned());
        assert_eq!(code.as_deref(), Some("42501"), "{forbidden}: {error:?}");
    }

    // A role without the grant can call nothing (SET ROLE from the owner's session).
    client
        .batch_execute(&format!("SET ROLE \"{outsider}\""))
        .await
        .unwrap();
    let error = client
        .query(
            "SELECT * FROM stagesub_directory.lookup('mozart-phil')",
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(error.as_db_error().unwrap().code().code(), "42501");
    client.batch_execute("RESET ROLE").await.unwrap();

    let missing = grant_reader(&mut client, "no_such_role_stagesub")
        .await
        .unwrap_err();
    assert!(matches!(missing, Error::NoSuchRole(_)), "{missing}");
}

#[tokio::test]
async fn lookup_is_security_definer_with_a_pinned_search_path() {
    let db = TestDb::create("definer").await;
    let mut client = db.client().await;
    ensure_schema(&mut client).await.unwrap();
    let row = client
        .query_one(
            "SELECT p.prosecdef, p.proconfig FROM pg_catalog.pg_proc AS p
             WHERE p.oid = 'stagesub_directory.lookup(text)'::regprocedure",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0));
    assert_eq!(
        row.get::<_, Vec<String>>(1),
        ["search_path=pg_catalog, pg_temp"]
    );
    // A caller's own search_path (and a shadowing table in it) changes nothing.
    upsert(&client, &keys(&[1]), &ready("mozart-phil"))
        .await
        .unwrap();
    client
        .batch_execute(
            "CREATE SCHEMA evil;
             CREATE TABLE evil.tenants AS SELECT * FROM stagesub_directory.tenants WITH NO DATA;
             SET search_path = evil, public",
        )
        .await
        .unwrap();
    let rows = client
        .query(
            "SELECT status FROM stagesub_directory.lookup('mozart-phil')",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
}

#[tokio::test]
async fn a_current_schema_needs_no_create_privilege() {
    let db = TestDb::create("writer").await;
    let mut client = db.client().await;
    ensure_schema(&mut client).await.unwrap();
    // An operator who created the schema once and lets the provider write with a narrower role.
    let writer = db.role("stagesub_dir_writer").await;
    client
        .batch_execute(&format!(
            "GRANT USAGE ON SCHEMA stagesub_directory TO \"{writer}\";
             GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA stagesub_directory TO \"{writer}\";
             GRANT USAGE ON ALL SEQUENCES IN SCHEMA stagesub_directory TO \"{writer}\";"
        ))
        .await
        .unwrap();
    let mut as_writer = connect(&with_user(&db.url, &writer)).await.unwrap();
    assert_eq!(ensure_schema(&mut as_writer).await.unwrap(), SCHEMA_VERSION);
    upsert(&as_writer, &keys(&[1]), &ready("mozart-phil"))
        .await
        .unwrap();
}
