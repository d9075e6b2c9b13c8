//! Migrations and seed through `terraform apply`: a Prisma-layout app (postgres backend) and a
//! Supabase-CLI-layout app (Supabase stand-in) each migrate and seed three tenants; a new migration
//! shows in the next plan and reaches every tenant; a broken one fails the apply with file, SQLSTATE and
//! line:column, and converges once fixed; an edited applied migration is refused; hostile orchestra names
//! seed exactly as typed.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{PgTenants, Standin, app, orchestra, postgres_provider, state_str, try_query};
use serde_json::Value;
use stagesub_acceptance::{Terraform, hcl_string};
use supabase_standin::FaultsPatch;

fn tenants_hcl(subs: &[String], migrations: &Path, seed_file: &str) -> String {
    subs.iter()
        .enumerate()
        .map(|(i, sub)| {
            orchestra(
                &format!("t{i}"),
                sub,
                &format!("Orchestra {i}"),
                &format!(
                    "  migrations_dir = {}\n  seed_sql = file({})\n  contact_email = \"t{i}@example.org\"\n  deletion_protection = false\n",
                    hcl_string(&migrations.display().to_string()),
                    hcl_string(seed_file)
                ),
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn applied(tf: &Terraform, address: &str) -> Vec<String> {
    tf.resource_values(address).expect("resource in state")["applied_migrations"]
        .as_array()
        .expect("applied_migrations list")
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

fn query(tf: &Terraform, address: &str, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
    let url = state_str(tf, address, "database_url").expect("database_url");
    try_query(&url, sql)
}

/// The shared scenario: create, add a migration, break one, fix it, edit an applied one.
/// `new_migration(dir, name, sql)` writes a migration in the app's layout and returns its name.
fn scenario(
    tf: &Terraform,
    subs: &[String],
    migrations: &Path,
    initial: &[&str],
    seed_check: &str,
    new_migration: &dyn Fn(&str, &str) -> (String, PathBuf),
) {
    let n = subs.len();
    let addresses: Vec<String> = (0..n)
        .map(|i| format!("stagesub_orchestra_database.t{i}"))
        .collect();

    let apply = tf.apply_ok();
    assert!(apply.contains(&format!("{n} added")), "{apply}");
    for (i, address) in addresses.iter().enumerate() {
        assert_eq!(applied(tf, address), initial, "{address}");
        let rows = query(tf, address, seed_check).unwrap();
        assert_eq!(
            rows[0][0].as_deref(),
            Some(format!("Orchestra {i}").as_str())
        );
        assert_eq!(rows[0][1].as_deref(), Some(subs[i].as_str()));
    }
    tf.assert_plan_empty();

    // A new migration shows in the plan (applied_migrations) and is applied to every tenant.
    let (added, _) = new_migration(
        "venues",
        "CREATE TABLE venues (id int PRIMARY KEY, name text NOT NULL);\n",
    );
    let text = tf.plan(&[]);
    assert_eq!(text.code, Some(2), "{text}");
    assert!(text.contains(&format!("+ \"{added}\"")), "{text}");
    let plan = tf.plan_json(&[]);
    let changes = plan["resource_changes"].as_array().unwrap();
    assert_eq!(changes.len(), n);
    for change in changes {
        assert_eq!(change["change"]["actions"], serde_json::json!(["update"]));
        let after: Vec<&str> = change["change"]["after"]["applied_migrations"]
            .as_array()
            .expect("planned applied_migrations are known")
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(after.last(), Some(&added.as_str()), "{change}");
    }
    tf.apply_ok();
    for address in &addresses {
        assert_eq!(applied(tf, address).last(), Some(&added));
        query(tf, address, "SELECT count(*) FROM venues").unwrap();
    }
    tf.assert_plan_empty();

    // A broken migration fails the apply with file, SQLSTATE and line:column; nothing of it stays.
    let (broken, path) = new_migration(
        "seats",
        "CREATE TABLE seats (id int PRIMARY KEY);\nINSERT INTO seats SELECT id FROM no_such_table;\n",
    );
    let failed = tf.apply(&[]);
    assert!(!failed.success(), "{failed}");
    // The position is the server's: line 2, column 34 is where `no_such_table` starts.
    let position = format!("{}:2:34: ERROR 42P01", path.display());
    for needle in [position.as_str(), "no_such_table"] {
        assert!(failed.contains(needle), "{needle:?} missing\n{failed}");
    }
    for address in &addresses {
        assert!(!applied(tf, address).contains(&broken), "{address}");
        assert!(query(tf, address, "SELECT 1 FROM seats").is_err());
    }
    // Fixing the file and applying again converges.
    fs::write(
        &path,
        "CREATE TABLE seats (id int PRIMARY KEY);\nINSERT INTO seats SELECT id FROM venues;\n",
    )
    .unwrap();
    tf.apply_ok();
    for address in &addresses {
        assert_eq!(applied(tf, address).last(), Some(&broken));
        query(tf, address, "SELECT count(*) FROM seats").unwrap();
    }
    tf.assert_plan_empty();

    // Editing an applied migration is refused when the next migration is applied.
    let first = migrations_file(migrations, initial[0]);
    let mut text = fs::read_to_string(&first).unwrap();
    text.push_str("\n-- edited after it was applied\nSELECT 1;\n");
    fs::write(&first, text).unwrap();
    // The plan already warns: refresh compares the files with each database's history.
    let plan = tf.plan(&[]);
    assert_eq!(plan.code, Some(0), "{plan}");
    assert!(plan.contains("An applied migration was changed"), "{plan}");
    assert!(plan.contains(initial[0]), "{plan}");
    let (later, _) = new_migration("tours", "CREATE TABLE tours (id int);\n");
    let refused = tf.apply(&[]);
    assert!(!refused.success(), "{refused}");
    assert!(refused.contains("was already applied but"), "{refused}");
    assert!(refused.contains("has changed"), "{refused}");
    for address in &addresses {
        assert!(!applied(tf, address).contains(&later));
    }
}

/// The file of an applied migration, in either layout.
fn migrations_file(dir: &Path, name: &str) -> PathBuf {
    let prisma = dir.join(name).join("migration.sql");
    if prisma.is_file() {
        prisma
    } else {
        dir.join(format!("{name}.sql"))
    }
}

#[test]
fn prisma_app_on_the_postgres_backend() {
    let tf = common::terraform();
    let root = app(&tf, "prisma-app");
    let migrations = root.join("prisma/migrations");
    let sfx = common::suffix();
    let subs: Vec<String> = (0..3).map(|i| format!("pm{i}-{sfx}")).collect();
    let _cleanup = PgTenants(subs.clone());
    tf.write_file(
        "main.tf",
        format!(
            "{}\n{}",
            postgres_provider(),
            tenants_hcl(&subs, &migrations, "prisma-app/seed.sql")
        ),
    );
    let dir = migrations.clone();
    let counter = std::cell::Cell::new(0);
    let new_migration = move |name: &str, sql: &str| {
        counter.set(counter.get() + 1);
        let folder = format!("2025010100000{}_{name}", counter.get());
        fs::create_dir_all(dir.join(&folder)).unwrap();
        let path = dir.join(&folder).join("migration.sql");
        fs::write(&path, sql).unwrap();
        (folder, path)
    };
    scenario(
        &tf,
        &subs,
        &migrations,
        &["20240101000000_init", "20240201000000_concerts"],
        "SELECT \"name\", \"subdomain\" FROM \"Orchestra\" WHERE id = 1",
        &new_migration,
    );
    // Prisma's own history agrees: finished rows for what was applied, the broken attempt rolled back.
    let rows = query(
        &tf,
        "stagesub_orchestra_database.t0",
        "SELECT count(*) FILTER (WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL), count(*) FILTER (WHERE rolled_back_at IS NOT NULL OR finished_at IS NULL) FROM _prisma_migrations",
    )
    .unwrap();
    assert_eq!(rows[0][0].as_deref(), Some("4"), "{rows:?}");
}

#[test]
fn supabase_app_on_the_supabase_backend() {
    let standin = Standin::start(FaultsPatch::default());
    let tf = common::terraform();
    let root = app(&tf, "supabase-app");
    let migrations = root.join("supabase/migrations");
    let sfx = common::suffix();
    let subs: Vec<String> = (0..3).map(|i| format!("sm{i}-{sfx}")).collect();
    tf.write_file(
        "main.tf",
        format!(
            "{}\n{}",
            standin.provider_hcl(),
            tenants_hcl(&subs, &migrations, "supabase-app/supabase/seed.sql")
        ),
    );
    let dir = migrations.clone();
    let counter = std::cell::Cell::new(0);
    let new_migration = move |name: &str, sql: &str| {
        counter.set(counter.get() + 1);
        let stem = format!("2025010100000{}_{name}", counter.get());
        let path = dir.join(format!("{stem}.sql"));
        fs::write(&path, sql).unwrap();
        (stem, path)
    };
    scenario(
        &tf,
        &subs,
        &migrations,
        &["20240101000000_init", "20240115000000_members"],
        "select name, subdomain from public.orchestras where id = 1",
        &new_migration,
    );
    // The Supabase CLI's history table lists what was applied.
    let rows = query(
        &tf,
        "stagesub_orchestra_database.t1",
        "select string_agg(version, ',' order by version) from supabase_migrations.schema_migrations",
    )
    .unwrap();
    assert_eq!(
        rows[0][0].as_deref(),
        Some("20240101000000,20240115000000,20250101000001,20250101000002")
    );
    assert_eq!(standin.projects().len(), 3);
    // Tear down through Terraform (deletion protection is off in this configuration).
    tf.destroy_ok();
    assert!(standin.projects().is_empty());
}

/// Names that break naive quoting in HCL, SQL or shell, and the longest allowed name.
fn hostile_names() -> Vec<String> {
    vec![
        r#"The "Quoted" Players' Society; DROP TABLE "Orchestra"; --"#.to_owned(),
        r#"Back\slash \\ Ensemble \n \u0041 \\\" end"#.to_owned(),
        "Dollar $$ quoted $1 ${path.module} %{ if true }x%{ endif } $${x}".to_owned(),
        "Orquesta Sinfónica — 東京フィル 🎻 «Ü»".to_owned(),
        "é".repeat(256),
    ]
}

#[test]
fn hostile_orchestra_names_seed_exactly_as_typed() {
    let tf = common::terraform();
    let root = app(&tf, "prisma-app");
    let migrations = root.join("prisma/migrations");
    let sfx = common::suffix();
    let names = hostile_names();
    let subs: Vec<String> = (0..3).map(|i| format!("hn{i}-{sfx}")).collect();
    let _cleanup = PgTenants(subs.clone());
    let write = |names: &[String]| {
        let blocks: Vec<String> = subs
            .iter()
            .zip(names)
            .enumerate()
            .map(|(i, (sub, name))| {
                orchestra(
                    &format!("t{i}"),
                    sub,
                    name,
                    &format!(
                        "  migrations_dir = {}\n  seed_sql = file(\"prisma-app/seed.sql\")\n  deletion_protection = false\n",
                        hcl_string(&migrations.display().to_string())
                    ),
                )
            })
            .collect();
        tf.write_file(
            "main.tf",
            format!("{}\n{}", postgres_provider(), blocks.join("\n")),
        );
    };
    let check = |names: &[String]| {
        for (i, name) in names.iter().enumerate().take(subs.len()) {
            let address = format!("stagesub_orchestra_database.t{i}");
            let values: Value = tf.resource_values(&address).unwrap();
            assert_eq!(values["orchestra_name"].as_str(), Some(name.as_str()));
            let rows = query(
                &tf,
                &address,
                "SELECT \"name\" FROM \"Orchestra\" WHERE id = 1",
            )
            .unwrap();
            assert_eq!(rows[0][0].as_deref(), Some(name.as_str()), "tenant {i}");
        }
    };
    write(&names[..3]);
    tf.apply_ok();
    check(&names[..3]);
    tf.assert_plan_empty();
    // Renamed in place to the other hostile names (including the 256-character one).
    let renamed: Vec<String> = names[2..].to_vec();
    write(&renamed);
    let apply = tf.apply_ok();
    assert!(apply.contains("0 added, 3 changed, 0 destroyed"), "{apply}");
    check(&renamed);
    tf.assert_plan_empty();
    tf.destroy_ok();
}
