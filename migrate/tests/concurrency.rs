//! Concurrent applies on one database: the advisory lock makes each migration run once.

mod common;

use std::time::Duration;

use common::{TempDir, TestDb, public_tables};
use stagesub_migrate::{ADVISORY_LOCK_KEY, ApplyOptions, Error, MigrationSet, apply};

#[tokio::test]
async fn two_concurrent_applies_both_succeed_and_record_each_migration_once() {
    for prisma in [true, false] {
        let db = TestDb::create("concurrent").await;
        let dir = TempDir::new("concurrent");
        for i in 0..20 {
            // pg_sleep keeps the first run busy long enough for the second to arrive mid-run;
            // a plain (non-IF NOT EXISTS) create fails if a migration ever ran twice.
            let sql = format!("create table t{i} (id int); select pg_sleep(0.01);");
            if prisma {
                dir.write(&format!("{:03}_t{i}/migration.sql", i), &sql);
            } else {
                dir.write(&format!("{:03}_t{i}.sql", i), &sql);
            }
        }
        let set = MigrationSet::load(dir.path()).unwrap();
        let (one, two) = (db.client().await, db.client().await);
        let options = ApplyOptions::default();
        let (a, b) = tokio::join!(apply(&one, &set, &options), apply(&two, &set, &options));
        let (a, b) = (a.unwrap(), b.unwrap());
        let mut all = a.applied.clone();
        all.extend(b.applied.clone());
        all.sort();
        assert_eq!(
            all,
            set.names(),
            "each migration applied by exactly one run"
        );
        let counts = one
            .query(
                if prisma {
                    "SELECT count(*), count(DISTINCT migration_name) FROM _prisma_migrations"
                } else {
                    "SELECT count(*), count(DISTINCT version) FROM supabase_migrations.schema_migrations"
                },
                &[],
            )
            .await
            .unwrap();
        assert_eq!(counts[0].get::<_, i64>(0), 20);
        assert_eq!(counts[0].get::<_, i64>(1), 20);
        assert_eq!(public_tables(&one).await.len(), 20);
    }
}

#[tokio::test]
async fn a_held_lock_times_out_with_lock_wait_and_is_released_after_a_run() {
    let db = TestDb::create("lockwait").await;
    let dir = TempDir::new("lockwait");
    dir.write("1_a.sql", "create table a (id int);");
    let set = MigrationSet::load(dir.path()).unwrap();
    let holder = db.client().await;
    holder
        .batch_execute(&format!("SELECT pg_advisory_lock({ADVISORY_LOCK_KEY})"))
        .await
        .unwrap();
    let client = db.client().await;
    let options = ApplyOptions {
        lock_wait: Some(Duration::from_millis(200)),
        ..ApplyOptions::default()
    };
    let error = apply(&client, &set, &options).await.unwrap_err();
    assert!(matches!(error, Error::LockTimeout), "{error:?}");
    holder
        .batch_execute(&format!("SELECT pg_advisory_unlock({ADVISORY_LOCK_KEY})"))
        .await
        .unwrap();
    apply(&client, &set, &options).await.unwrap();
    // The run released its lock: another session can take it at once.
    let free: bool = holder
        .query_one(
            &format!("SELECT pg_try_advisory_lock({ADVISORY_LOCK_KEY})"),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(free);
    // lock_wait must not leak into the session: lock_timeout is back to the default.
    let timeout: String = client
        .query_one("SHOW lock_timeout", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(timeout, "0");
    // Per-migration settings were SET LOCAL: the session keeps synchronous commits.
    let sync: String = client
        .query_one("SHOW synchronous_commit", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(sync, "on");
}

#[tokio::test]
async fn statement_timeout_applies_to_migrations() {
    let db = TestDb::create("stmt_timeout").await;
    let dir = TempDir::new("stmt_timeout");
    dir.write(
        "1_slow.sql",
        "create table a (id int);\nselect pg_sleep(5);",
    );
    let set = MigrationSet::load(dir.path()).unwrap();
    let client = db.client().await;
    let options = ApplyOptions {
        statement_timeout: Some(Duration::from_millis(100)),
        ..ApplyOptions::default()
    };
    let error = apply(&client, &set, &options).await.unwrap_err();
    let Error::Migration(failure) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(failure.sqlstate, "57014");
    assert_eq!(failure.line, 2);
    assert!(public_tables(&client).await.is_empty());
}
