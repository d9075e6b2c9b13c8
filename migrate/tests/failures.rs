//! Failed migrations: precise errors, nothing half-applied, Prisma's failure record, and
//! convergence once the file is fixed; edited applied migrations are refused.

mod common;

use common::{TempDir, TestDb, public_tables};
use stagesub_migrate::{ApplyOptions, Error, MigrationSet, applied, apply};

const BROKEN: &str = "create table b (id int);\n\
create index b_idx on b (id);\n\
insert into b values (1);\n\
select nosuch_column\n  from b;\n";
const FIXED: &str =
    "create table b (id int);\ncreate index b_idx on b (id);\ninsert into b values (1);\n";

#[tokio::test]
async fn prisma_failure_is_located_rolled_back_recorded_and_converges_after_a_fix() {
    let db = TestDb::create("prisma_fail").await;
    let dir = TempDir::new("prisma_fail");
    dir.write("20240101000000_a/migration.sql", "create table a (id int);");
    let broken = dir.write("20240102000000_b/migration.sql", BROKEN);
    dir.write("20240103000000_c/migration.sql", "create table c (id int);");
    let client = db.client().await;
    let set = MigrationSet::load(dir.path()).unwrap();

    let error = apply(&client, &set, &ApplyOptions::default())
        .await
        .unwrap_err();
    let Error::Migration(failure) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(failure.file, broken.display().to_string());
    assert_eq!((failure.line, failure.column), (4, 8));
    assert_eq!(failure.sqlstate, "42703");
    let message = error.to_string();
    let file = broken.display().to_string();
    for needle in [file.as_str(), ":4:8:", "42703", "nosuch_column"] {
        assert!(message.contains(needle), "{needle} missing from: {message}");
    }
    // The earlier migration stays, nothing of the broken one remains, the later one did not run.
    assert_eq!(public_tables(&client).await, vec!["a"]);
    let names: Vec<String> = applied(&client)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, vec!["20240101000000_a"]);
    let failed = client
        .query_one(
            "SELECT finished_at IS NULL, rolled_back_at IS NULL, logs, applied_steps_count \
             FROM _prisma_migrations WHERE migration_name = '20240102000000_b'",
            &[],
        )
        .await
        .unwrap();
    assert!(failed.get::<_, bool>(0) && failed.get::<_, bool>(1));
    assert!(failed.get::<_, String>(2).contains("42703"));
    assert_eq!(failed.get::<_, i32>(3), 0);

    // Unchanged file: stop and say how to get out.
    let error = apply(&client, &set, &ApplyOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::FailedBefore { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("prisma migrate resolve --rolled-back 20240102000000_b"),
        "{error}"
    );

    // Fixed file: the failed attempt is resolved and the migration applied, then the rest.
    std::fs::write(&broken, FIXED).unwrap();
    let set = MigrationSet::load(dir.path()).unwrap();
    let report = apply(&client, &set, &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(report.applied, vec!["20240102000000_b", "20240103000000_c"]);
    assert_eq!(public_tables(&client).await, vec!["a", "b", "c"]);
    let attempts: Vec<(bool, bool)> = client
        .query(
            "SELECT finished_at IS NOT NULL, rolled_back_at IS NOT NULL FROM _prisma_migrations \
             WHERE migration_name = '20240102000000_b' ORDER BY started_at",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(attempts, vec![(false, true), (true, false)]);
    assert!(
        apply(&client, &set, &ApplyOptions::default())
            .await
            .unwrap()
            .applied
            .is_empty()
    );
}

#[tokio::test]
async fn prisma_temporary_failure_retries_after_resolve_or_with_retry_failed() {
    let db = TestDb::create("prisma_retry").await;
    let dir = TempDir::new("prisma_retry");
    dir.write("1_needs_ext/migration.sql", "insert into ext values (1);");
    let client = db.client().await;
    let set = MigrationSet::load(dir.path()).unwrap();
    let error = apply(&client, &set, &ApplyOptions::default())
        .await
        .unwrap_err();
    assert!(error.to_string().contains("42P01"), "{error}");
    client
        .batch_execute("create table ext (id int)")
        .await
        .unwrap();
    assert!(matches!(
        apply(&client, &set, &ApplyOptions::default()).await,
        Err(Error::FailedBefore { .. })
    ));
    // What `prisma migrate resolve --rolled-back 1_needs_ext` does.
    client
        .batch_execute("UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '1_needs_ext'")
        .await
        .unwrap();
    let report = apply(&client, &set, &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(report.applied, vec!["1_needs_ext"]);

    // And with retry_failed, no manual step is needed.
    let db = TestDb::create("prisma_retry2").await;
    let client = db.client().await;
    assert!(
        apply(&client, &set, &ApplyOptions::default())
            .await
            .is_err()
    );
    client
        .batch_execute("create table ext (id int)")
        .await
        .unwrap();
    let options = ApplyOptions {
        retry_failed: true,
        ..ApplyOptions::default()
    };
    assert_eq!(
        apply(&client, &set, &options).await.unwrap().applied,
        vec!["1_needs_ext"]
    );
}

#[tokio::test]
async fn supabase_failure_without_position_points_at_the_statement_and_converges() {
    let db = TestDb::create("supa_fail").await;
    let dir = TempDir::new("supa_fail");
    dir.write("1_a.sql", "create table a (id int);");
    let broken = dir.write(
        "2_b.sql",
        "-- ünïcode comment\ncreate table c (id int);\n\n  create table a (id int);\n",
    );
    let client = db.client().await;
    let set = MigrationSet::load(dir.path()).unwrap();
    let error = apply(&client, &set, &ApplyOptions::default())
        .await
        .unwrap_err();
    let Error::Migration(failure) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(failure.sqlstate, "42P07");
    assert_eq!((failure.line, failure.column), (4, 3), "{error}");
    assert!(
        error.to_string().contains("2_b.sql:4:3: ERROR 42P07"),
        "{error}"
    );
    assert_eq!(public_tables(&client).await, vec!["a"]);
    let versions: i64 = client
        .query_one(
            "SELECT count(*) FROM supabase_migrations.schema_migrations",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        versions, 1,
        "the CLI records nothing for a failed migration"
    );

    std::fs::write(&broken, "create table c (id int);\n").unwrap();
    let set = MigrationSet::load(dir.path()).unwrap();
    assert_eq!(
        apply(&client, &set, &ApplyOptions::default())
            .await
            .unwrap()
            .applied,
        vec!["2_b"]
    );
    assert_eq!(public_tables(&client).await, vec!["a", "c"]);
}

#[tokio::test]
async fn syntax_errors_map_the_character_position_to_the_file() {
    let db = TestDb::create("syntax").await;
    let dir = TempDir::new("syntax");
    let file = dir.write(
        "20240101_x/migration.sql",
        "select 'ü';\n/* two\nlines */ create table t (id int,, x int);",
    );
    let client = db.client().await;
    let set = MigrationSet::load(dir.path()).unwrap();
    let error = apply(&client, &set, &ApplyOptions::default())
        .await
        .unwrap_err();
    let Error::Migration(failure) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(failure.sqlstate, "42601");
    // The second comma: line 3, column 33.
    assert_eq!((failure.line, failure.column), (3, 33), "{error}");
    assert!(error.to_string().starts_with("migration failed"), "{error}");
    assert!(error.to_string().contains(&file.display().to_string()));
    // The pipelined history insert and COMMIT must not record anything for a failed script.
    assert!(applied(&client).await.unwrap().is_empty());
    let rows: Vec<(bool, i32)> = client
        .query(
            "SELECT finished_at IS NULL, applied_steps_count FROM _prisma_migrations",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(rows, vec![(true, 0)], "exactly one failed attempt recorded");
}

#[tokio::test]
async fn edited_applied_migrations_are_refused_before_anything_runs() {
    for prisma in [true, false] {
        let db = TestDb::create("edited").await;
        let dir = TempDir::new("edited");
        let path = |name: &str| {
            if prisma {
                format!("{name}/migration.sql")
            } else {
                format!("{name}.sql")
            }
        };
        let first = dir.write(&path("1_a"), "create table a (id int);\n");
        let client = db.client().await;
        apply(
            &client,
            &MigrationSet::load(dir.path()).unwrap(),
            &ApplyOptions::default(),
        )
        .await
        .unwrap();

        std::fs::write(&first, "create table a (id bigint);\n").unwrap();
        dir.write(&path("2_b"), "create table b (id int);\n");
        let set = MigrationSet::load(dir.path()).unwrap();
        let error = apply(&client, &set, &ApplyOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Modified { .. }), "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains("1_a") && message.contains(&first.display().to_string()),
            "{message}"
        );
        assert_eq!(
            public_tables(&client).await,
            vec!["a"],
            "nothing else may run"
        );
    }
}

#[tokio::test]
async fn errors_without_position_are_counted_past_bodies_and_comment_only_pieces() {
    let db = TestDb::create("count").await;
    let dir = TempDir::new("count");
    dir.write("1_a.sql", "create table a (id int);");
    dir.write(
        "2_b.sql",
        "create function f() returns int language sql as $$ select 1; $$;\n\
         /* only a comment */ ;\n\
         create function g() returns int language sql begin atomic select 1; select 2; end;\n\
         select 'a;b';\n\
         create table a (id int);\n",
    );
    let client = db.client().await;
    let set = MigrationSet::load(dir.path()).unwrap();
    let error = apply(&client, &set, &ApplyOptions::default())
        .await
        .unwrap_err();
    let Error::Migration(failure) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        (failure.sqlstate.as_str(), failure.line, failure.column),
        ("42P07", 5, 1),
        "{error}"
    );
    let functions: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_proc WHERE proname IN ('f', 'g')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        functions, 0,
        "the functions of the failed migration are rolled back"
    );
}

#[tokio::test]
async fn a_failure_at_commit_time_rolls_back_and_names_the_file() {
    let db = TestDb::create("deferred").await;
    let dir = TempDir::new("deferred");
    let file = dir.write(
        "1_deferred.sql",
        "create table p (id int primary key);\n\
         create table c (p_id int references p (id) deferrable initially deferred);\n\
         insert into c values (42);\n",
    );
    let client = db.client().await;
    let set = MigrationSet::load(dir.path()).unwrap();
    let error = apply(&client, &set, &ApplyOptions::default())
        .await
        .unwrap_err();
    let Error::Migration(failure) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(failure.sqlstate, "23503", "{error}");
    assert_eq!(failure.file, file.display().to_string());
    assert!(public_tables(&client).await.is_empty());
    assert!(applied(&client).await.unwrap().is_empty());
}

#[tokio::test]
async fn prisma_migration_that_timed_out_is_retried_without_manual_steps() {
    let db = TestDb::create("timeout_retry").await;
    let dir = TempDir::new("timeout_retry");
    dir.write(
        "1_slow/migration.sql",
        "create table a (id int);\nselect pg_sleep(0.5);",
    );
    let client = db.client().await;
    let set = MigrationSet::load(dir.path()).unwrap();
    let hurried = ApplyOptions {
        statement_timeout: Some(std::time::Duration::from_millis(50)),
        ..ApplyOptions::default()
    };
    let error = apply(&client, &set, &hurried).await.unwrap_err();
    assert!(error.to_string().contains("57014"), "{error}");
    // Same file, no manual step: a timeout is temporary, so the next run tries again.
    let report = apply(&client, &set, &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(report.applied, vec!["1_slow"]);
    assert_eq!(public_tables(&client).await, vec!["a"]);
}
