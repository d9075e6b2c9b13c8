//! The history rows look exactly like the ones Prisma and the Supabase CLI write.

mod common;

use common::{TempDir, TestDb, sha256};
use stagesub_migrate::{ApplyOptions, MigrationSet, apply};

/// (column, data_type, character_maximum_length, is_nullable, column_default)
type Column = (String, String, Option<i32>, String, Option<String>);

async fn columns(client: &stagesub_migrate::Client, schema: &str, table: &str) -> Vec<Column> {
    client
        .query(
            "SELECT column_name::text, data_type::text, character_maximum_length::int, \
                    is_nullable::text, column_default::text \
             FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 \
             ORDER BY ordinal_position",
            &[&schema, &table],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect()
}

async fn primary_key(client: &stagesub_migrate::Client, schema: &str, table: &str) -> Vec<String> {
    client
        .query(
            "SELECT k.column_name::text FROM information_schema.table_constraints c \
             JOIN information_schema.key_column_usage k USING (constraint_schema, constraint_name) \
             WHERE c.table_schema = $1 AND c.table_name = $2 AND c.constraint_type = 'PRIMARY KEY'",
            &[&schema, &table],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn col(name: &str, ty: &str, len: Option<i32>, nullable: bool, default: Option<&str>) -> Column {
    (
        name.into(),
        ty.into(),
        len,
        if nullable { "YES" } else { "NO" }.into(),
        default.map(Into::into),
    )
}

#[tokio::test]
async fn prisma_rows_match_what_prisma_writes() {
    let db = TestDb::create("prisma_hist").await;
    let dir = TempDir::new("prisma_hist");
    let first = "-- CreateTable\r\nCREATE TABLE \"Orchestra\" (\"id\" SERIAL NOT NULL, CONSTRAINT \"Orchestra_pkey\" PRIMARY KEY (\"id\"));\r\n";
    let second = "ALTER TABLE \"Orchestra\" ADD COLUMN \"name\" TEXT;\n";
    dir.write("20240101000000_init/migration.sql", first);
    dir.write("20240102000000_name/migration.sql", second);
    dir.write("migration_lock.toml", "provider = \"postgresql\"");
    let set = MigrationSet::load(dir.path()).unwrap();
    let client = db.client().await;
    apply(&client, &set, &ApplyOptions::default())
        .await
        .unwrap();

    assert_eq!(
        columns(&client, "public", "_prisma_migrations").await,
        vec![
            col("id", "character varying", Some(36), false, None),
            col("checksum", "character varying", Some(64), false, None),
            col("finished_at", "timestamp with time zone", None, true, None),
            col(
                "migration_name",
                "character varying",
                Some(255),
                false,
                None
            ),
            col("logs", "text", None, true, None),
            col(
                "rolled_back_at",
                "timestamp with time zone",
                None,
                true,
                None
            ),
            col(
                "started_at",
                "timestamp with time zone",
                None,
                false,
                Some("now()")
            ),
            col("applied_steps_count", "integer", None, false, Some("0")),
        ]
    );
    assert_eq!(
        primary_key(&client, "public", "_prisma_migrations").await,
        vec!["id"]
    );

    let rows = client
        .query(
            "SELECT id, checksum, migration_name, logs, applied_steps_count, \
                    finished_at IS NOT NULL, rolled_back_at IS NULL, started_at <= finished_at \
             FROM _prisma_migrations ORDER BY migration_name",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    for (row, (name, sql)) in rows.iter().zip([
        ("20240101000000_init", first),
        ("20240102000000_name", second),
    ]) {
        let id: String = row.get(0);
        let bytes = id.as_bytes();
        assert_eq!(id.len(), 36, "{id}");
        assert!(
            bytes[14] == b'4' && matches!(bytes[19], b'8' | b'9' | b'a' | b'b'),
            "uuid v4: {id}"
        );
        assert_eq!(row.get::<_, String>(1), sha256(sql.as_bytes()));
        assert_eq!(row.get::<_, String>(2), name);
        assert_eq!(row.get::<_, Option<String>>(3), None);
        assert_eq!(row.get::<_, i32>(4), 1);
        assert!(row.get::<_, bool>(5) && row.get::<_, bool>(6) && row.get::<_, bool>(7));
    }
}

#[tokio::test]
async fn supabase_rows_match_what_the_cli_writes() {
    let db = TestDb::create("supa_hist").await;
    let dir = TempDir::new("supa_hist");
    let file = "-- orchestras and their members\n\
create table orchestras (id int primary key, name text);\n\n\
create function trim_name() returns trigger language plpgsql as $$\n\
begin\n  new.name := trim(new.name);\n  return new;\nend;\n$$;\n\
/* seed; one row */ insert into orchestras values (1, 'a;b');\n";
    dir.write("20240101120000_orchestras.sql", file);
    dir.write("20240102120000_empty_ok.sql", "select 1;\n");
    let set = MigrationSet::load(dir.path()).unwrap();
    let client = db.client().await;
    apply(&client, &set, &ApplyOptions::default())
        .await
        .unwrap();

    assert_eq!(
        columns(&client, "supabase_migrations", "schema_migrations").await,
        vec![
            col("version", "text", None, false, None),
            col("statements", "ARRAY", None, true, None),
            col("name", "text", None, true, None),
        ]
    );
    assert_eq!(
        primary_key(&client, "supabase_migrations", "schema_migrations").await,
        vec!["version"]
    );
    let rows = client
        .query(
            "SELECT version, name, statements FROM supabase_migrations.schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap();
    let got: Vec<(String, String, Vec<String>)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "20240101120000".to_string(),
                "orchestras".to_string(),
                vec![
                    "-- orchestras and their members\ncreate table orchestras (id int primary key, name text)".to_string(),
                    "create function trim_name() returns trigger language plpgsql as $$\nbegin\n  new.name := trim(new.name);\n  return new;\nend;\n$$".to_string(),
                    "/* seed; one row */ insert into orchestras values (1, 'a;b')".to_string(),
                ]
            ),
            ("20240102120000".to_string(), "empty_ok".to_string(), vec!["select 1".to_string()]),
        ]
    );
    let name: String = client
        .query_one("SELECT name FROM orchestras", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(name, "a;b");
}

#[tokio::test]
async fn tables_of_older_supabase_clis_are_upgraded_and_their_rows_respected() {
    let db = TestDb::create("supa_old").await;
    let client = db.client().await;
    // What CLIs before the `statements`/`name` columns created and wrote.
    client
        .batch_execute(
            "CREATE SCHEMA supabase_migrations;
             CREATE TABLE supabase_migrations.schema_migrations (version text NOT NULL PRIMARY KEY);
             INSERT INTO supabase_migrations.schema_migrations VALUES ('20240101000000');
             CREATE TABLE a (id int);",
        )
        .await
        .unwrap();
    let dir = TempDir::new("supa_old");
    dir.write("20240101000000_a.sql", "create table a (id int);");
    dir.write("20240102000000_b.sql", "create table b (id int);");
    let set = MigrationSet::load(dir.path()).unwrap();
    let before = stagesub_migrate::applied(&client).await.unwrap();
    assert_eq!(set.pending(&before).len(), 1);
    let report = apply(&client, &set, &ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(report.applied, vec!["20240102000000_b"]);
    assert_eq!(report.already_applied, vec!["20240101000000_a"]);
    let names: Vec<String> = stagesub_migrate::applied(&client)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, vec!["20240101000000", "20240102000000_b"]);
}
