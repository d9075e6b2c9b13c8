//! A deleted applied migration is not silent: after its file or folder is removed, the next plan warns
//! and names it (refresh compares the folder with each database's history); applying new migrations
//! on top of the gap is refused, naming it; restoring the file converges. Both layouts (Prisma,
//! Supabase CLI) on both backends (postgres, Supabase stand-in).

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{PgTenants, Standin, app, orchestra, postgres_provider};
use stagesub_acceptance::{Terraform, hcl_string};
use supabase_standin::FaultsPatch;

/// A migrations layout: where its fixture keeps migrations, and how a migration is stored.
#[derive(Clone, Copy)]
enum Layout {
    Prisma,
    Supabase,
}

impl Layout {
    /// The fixture app, its migrations folder inside it, and the migrations it holds in order.
    fn fixture(self) -> (&'static str, &'static str, [&'static str; 2]) {
        match self {
            Layout::Prisma => (
                "prisma-app",
                "prisma/migrations",
                ["20240101000000_init", "20240201000000_concerts"],
            ),
            Layout::Supabase => (
                "supabase-app",
                "supabase/migrations",
                ["20240101000000_init", "20240115000000_members"],
            ),
        }
    }

    /// Where migration `name` lives in `dir`: a folder (Prisma) or a file (Supabase).
    fn entry(self, dir: &Path, name: &str) -> PathBuf {
        match self {
            Layout::Prisma => dir.join(name),
            Layout::Supabase => dir.join(format!("{name}.sql")),
        }
    }

    /// Writes a new migration `name` with `sql`.
    fn add(self, dir: &Path, name: &str, sql: &str) {
        match self {
            Layout::Prisma => {
                fs::create_dir_all(dir.join(name)).unwrap();
                fs::write(dir.join(name).join("migration.sql"), sql).unwrap();
            }
            Layout::Supabase => fs::write(dir.join(format!("{name}.sql")), sql).unwrap(),
        }
    }
}

fn applied(tf: &Terraform) -> Vec<String> {
    tf.resource_values("stagesub_orchestra_database.t")
        .expect("resource in state")["applied_migrations"]
        .as_array()
        .expect("applied_migrations list")
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// Create; delete an applied migration; the plan warns naming it; a new migration is refused while the
/// gap exists; restoring the file lets it apply.
fn deleted_migration_scenario(tf: &Terraform, provider_hcl: &str, subdomain: &str, layout: Layout) {
    let (fixture, inner, initial) = layout.fixture();
    let migrations = app(tf, fixture).join(inner);
    let extra = format!(
        "  migrations_dir = {}\n  deletion_protection = false\n",
        hcl_string(&migrations.display().to_string())
    );
    tf.write_file(
        "main.tf",
        format!(
            "{provider_hcl}\n{}",
            orchestra("t", subdomain, "Deleted Migrations", &extra)
        ),
    );
    tf.apply_ok();
    assert_eq!(applied(tf), initial);
    tf.assert_plan_empty();

    // The last applied migration's file goes away (kept aside to restore it later).
    let deleted = initial[1];
    let entry = layout.entry(&migrations, deleted);
    let aside = tf.workdir().join("deleted-migration");
    fs::rename(&entry, &aside).unwrap();
    let plan = tf.plan(&[]);
    assert_eq!(
        plan.code,
        Some(0),
        "nothing to change, but a warning\n{plan}"
    );
    for needle in ["An applied migration was deleted", deleted] {
        assert!(plan.contains(needle), "{needle:?} missing\n{plan}");
    }
    // The migration that stays is not named.
    assert!(!plan.contains(&format!("`{}`", initial[0])), "{plan}");

    // A new migration is not applied on top of the gap; the error names the missing one.
    let later = "20250101000001_tours";
    layout.add(&migrations, later, "CREATE TABLE tours (id int);\n");
    let refused = tf.apply(&[]);
    assert!(!refused.success(), "{refused}");
    for needle in ["An applied migration is missing", deleted] {
        assert!(refused.contains(needle), "{needle:?} missing\n{refused}");
    }
    assert_eq!(applied(tf), initial);

    // Restored as it was applied: the new migration applies and everything converges.
    fs::rename(&aside, &entry).unwrap();
    let apply = tf.apply_ok();
    assert!(
        !apply.contains("An applied migration was deleted"),
        "{apply}"
    );
    assert_eq!(applied(tf), [initial[0], initial[1], later]);
    tf.assert_plan_empty();
    tf.destroy_ok();
}

fn on_postgres(layout: Layout, prefix: &str) {
    let tf = common::terraform();
    let sub = common::subdomain(prefix);
    let _cleanup = PgTenants(vec![sub.clone()]);
    deleted_migration_scenario(&tf, &postgres_provider(), &sub, layout);
}

fn on_supabase(layout: Layout, prefix: &str) {
    let standin = Standin::start(FaultsPatch::default());
    let tf = common::terraform();
    let sub = common::subdomain(prefix);
    deleted_migration_scenario(&tf, &standin.provider_hcl(), &sub, layout);
    assert!(standin.projects().is_empty());
}

#[test]
fn deleted_prisma_migration_on_the_postgres_backend() {
    on_postgres(Layout::Prisma, "dpp");
}

#[test]
fn deleted_supabase_migration_on_the_postgres_backend() {
    on_postgres(Layout::Supabase, "dsp");
}

#[test]
fn deleted_prisma_migration_on_the_supabase_backend() {
    on_supabase(Layout::Prisma, "dps");
}

#[test]
fn deleted_supabase_migration_on_the_supabase_backend() {
    on_supabase(Layout::Supabase, "dss");
}
