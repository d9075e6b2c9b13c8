//! Layout detection, ordering and what each layout applies.

mod common;

use common::{TempDir, TestDb, public_tables};
use stagesub_migrate::{ApplyOptions, Error, Layout, MigrationSet, applied, apply};

fn layout_error(dir: &std::path::Path) -> String {
    match MigrationSet::load(dir) {
        Err(e @ Error::Layout { .. }) => e.to_string(),
        other => panic!("expected a layout error, got {other:?}"),
    }
}

#[test]
fn detects_prisma_layout_in_folder_name_order_ignoring_the_lock_file() {
    let dir = TempDir::new("prisma");
    dir.write("20240102000000_second/migration.sql", "select 2;");
    dir.write("20240101000000_first/migration.sql", "select 1;");
    dir.write("migration_lock.toml", "provider = \"postgresql\"\n");
    let set = MigrationSet::load(dir.path()).unwrap();
    assert_eq!(set.layout, Layout::Prisma);
    assert_eq!(
        set.names(),
        vec!["20240101000000_first", "20240102000000_second"]
    );
    assert_eq!(set.migrations[0].checksum, common::sha256(b"select 1;"));
}

#[test]
fn detects_supabase_layout_in_version_order() {
    let dir = TempDir::new("supabase");
    dir.write("20240102000000_b.sql", "select 2;");
    dir.write("20240101000000_a_b_c.sql", "select 1;");
    let set = MigrationSet::load(dir.path()).unwrap();
    assert_eq!(set.layout, Layout::Supabase);
    assert_eq!(
        set.names(),
        vec!["20240101000000_a_b_c", "20240102000000_b"]
    );
    assert_eq!(set.migrations[0].version, "20240101000000");
}

#[test]
fn folder_matching_neither_layout_says_what_was_found() {
    let empty = TempDir::new("empty");
    let message = layout_error(empty.path());
    assert!(
        message.contains("no migrations found (found nothing)"),
        "{message}"
    );

    let other = TempDir::new("other");
    other.write("README.md", "hi");
    other.write("schema.prisma", "");
    let message = layout_error(other.path());
    assert!(
        message.contains("`README.md`") && message.contains("`schema.prisma`"),
        "{message}"
    );
    assert!(message.contains("<version>_<name>.sql"), "{message}");

    let mixed = TempDir::new("mixed");
    mixed.write("20240101_init/migration.sql", "select 1;");
    mixed.write("20240101_init.sql", "select 1;");
    let message = layout_error(mixed.path());
    assert!(message.contains("both sub-folders"), "{message}");

    let bad_name = TempDir::new("badname");
    bad_name.write("20240101_ok.sql", "select 1;");
    bad_name.write("init.sql", "select 1;");
    let message = layout_error(bad_name.path());
    assert!(message.contains("`init.sql` does not match"), "{message}");

    let no_sql = TempDir::new("nosql");
    no_sql.write("20240101_init/migration.sql", "select 1;");
    no_sql.write("20240102_next/README.md", "forgot the sql");
    let message = layout_error(no_sql.path());
    assert!(
        message.contains("`20240102_next` has no migration.sql"),
        "{message}"
    );

    let duplicate = TempDir::new("dup");
    duplicate.write("1_a.sql", "select 1;");
    duplicate.write("1_b.sql", "select 1;");
    let message = layout_error(duplicate.path());
    assert!(message.contains("same version 1"), "{message}");

    let missing = empty.path().join("does-not-exist");
    let message = MigrationSet::load(&missing).unwrap_err().to_string();
    assert!(message.contains("does-not-exist"), "{message}");
}

#[tokio::test]
async fn applies_in_order_and_a_second_run_applies_nothing() {
    for layout in [Layout::Prisma, Layout::Supabase] {
        let db = TestDb::create("order").await;
        let dir = TempDir::new("order");
        // Each migration depends on the previous one, so a wrong order fails.
        let files = [
            (
                "20240101000000_create",
                "create table a (id int primary key);",
            ),
            (
                "20240102000000_ref",
                "create table b (a_id int references a(id));",
            ),
            (
                "20240103000000_alter",
                "alter table b add column note text;\ninsert into a values (1);",
            ),
        ];
        for (name, sql) in files {
            match layout {
                Layout::Prisma => dir.write(&format!("{name}/migration.sql"), sql),
                Layout::Supabase => dir.write(&format!("{name}.sql"), sql),
            };
        }
        let set = MigrationSet::load(dir.path()).unwrap();
        assert_eq!(set.layout, layout);
        let client = db.client().await;
        assert!(applied(&client).await.unwrap().is_empty());
        let report = apply(&client, &set, &ApplyOptions::default())
            .await
            .unwrap();
        assert_eq!(report.applied, set.names());
        assert_eq!(public_tables(&client).await, vec!["a", "b"]);
        let recorded: Vec<String> = applied(&client)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.name)
            .collect();
        assert_eq!(recorded, set.names());
        assert!(set.pending(&applied(&client).await.unwrap()).is_empty());

        let again = apply(&client, &set, &ApplyOptions::default())
            .await
            .unwrap();
        assert!(again.applied.is_empty());
        assert_eq!(again.already_applied, set.names());
    }
}
