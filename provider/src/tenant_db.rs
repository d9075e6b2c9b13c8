//! Inside an orchestra's database: migrations, seed, the applied-migration history, and the tenant
//! values recorded in `stagesub.tenant` (one row) so that `terraform import` can read them back.

use std::path::Path;

use stagesub_migrate::{AppliedMigration, ApplyOptions, MigrationSet};
use stagesub_pgconn::TlsOptions;

use stagesub_tenant::Tenant;

use crate::backend::{BackendError, SessionTarget};

/// Creates the schema and table that hold the tenant values (idempotent).
const TENANT_DDL: &str = "CREATE SCHEMA IF NOT EXISTS stagesub;
CREATE TABLE IF NOT EXISTS stagesub.tenant (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    subdomain text NOT NULL,
    orchestra_name text NOT NULL,
    contact_email text,
    plan text,
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE stagesub.tenant IS
    'Tenant values written by terraform-provider-stagesub; read back by terraform import.';";

fn migrate_err(summary: &str, e: impl std::fmt::Display) -> BackendError {
    BackendError::new(summary, e.to_string())
}

async fn open(
    target: &SessionTarget,
    tls: &TlsOptions,
) -> Result<stagesub_migrate::Client, BackendError> {
    let client = stagesub_pgconn::connect(target.url.expose(), tls)
        .await
        .map_err(|e| migrate_err("Cannot connect to the orchestra's database", e))?;
    if let Some(role) = &target.set_role {
        let row = client
            .query_one("SELECT format('SET ROLE %I', $1::text)", &[role])
            .await
            .map_err(|e| migrate_err("Cannot switch to the orchestra's role", e))?;
        let sql: String = row.get(0);
        client
            .batch_execute(&sql)
            .await
            .map_err(|e| migrate_err("Cannot switch to the orchestra's role", e))?;
    }
    Ok(client)
}

/// Loads a migrations folder, as a diagnostic-ready error.
pub fn load(dir: &str) -> Result<MigrationSet, BackendError> {
    MigrationSet::load(Path::new(dir)).map_err(|e| migrate_err("Cannot read migrations_dir", e))
}

/// Applies pending migrations, then the seed, then records the tenant values in `stagesub.tenant`;
/// returns the applied migration names in order.
pub async fn migrate_and_seed(
    target: &SessionTarget,
    tls: &TlsOptions,
    migrations_dir: Option<&str>,
    seed_sql: Option<&str>,
    tenant: &Tenant,
) -> Result<Vec<String>, BackendError> {
    let client = open(target, tls).await?;
    if let Some(dir) = migrations_dir {
        let set = load(dir)?;
        let rows = stagesub_migrate::applied(&client)
            .await
            .map_err(|e| migrate_err("Cannot read the migration history", e))?;
        refuse_missing(&set, &rows, dir)?;
        let options = ApplyOptions::default();
        stagesub_migrate::apply(&client, &set, &options)
            .await
            .map_err(|e| migrate_err("Migration failed", e))?;
    }
    if let Some(sql) = seed_sql.filter(|s| !s.trim().is_empty()) {
        stagesub_migrate::seed(&client, sql, tenant)
            .await
            .map_err(|e| migrate_err("Seed failed", e))?;
    }
    record(&client, tenant).await?;
    history(&client).await
}

/// Writes the tenant values (bound parameters) into the one row of `stagesub.tenant`.
async fn record(client: &stagesub_migrate::Client, tenant: &Tenant) -> Result<(), BackendError> {
    let failed = |e| migrate_err("Cannot record the tenant values in the database", e);
    client.batch_execute(TENANT_DDL).await.map_err(failed)?;
    client
        .execute(
            "INSERT INTO stagesub.tenant (singleton, subdomain, orchestra_name, contact_email, plan) \
             VALUES (true, $1, $2, $3, $4) ON CONFLICT (singleton) DO UPDATE SET \
             subdomain = EXCLUDED.subdomain, orchestra_name = EXCLUDED.orchestra_name, \
             contact_email = EXCLUDED.contact_email, plan = EXCLUDED.plan, updated_at = now()",
            &[
                &tenant.subdomain,
                &tenant.orchestra_name,
                &tenant.contact_email,
                &tenant.plan,
            ],
        )
        .await
        .map_err(failed)?;
    Ok(())
}

/// The tenant values recorded by [`migrate_and_seed`]; `None` when the database holds none (created
/// before they were recorded, or not by stagesub).
pub async fn read_tenant(
    target: &SessionTarget,
    tls: &TlsOptions,
) -> Result<Option<Tenant>, BackendError> {
    let client = open(target, tls).await?;
    let failed = |e| migrate_err("Cannot read the tenant values", e);
    let present: bool = client
        .query_one("SELECT to_regclass('stagesub.tenant') IS NOT NULL", &[])
        .await
        .map_err(failed)?
        .get(0);
    if !present {
        return Ok(None);
    }
    let row = client
        .query_opt(
            "SELECT subdomain, orchestra_name, contact_email, plan FROM stagesub.tenant WHERE singleton",
            &[],
        )
        .await
        .map_err(failed)?;
    Ok(row.map(|r| Tenant {
        subdomain: r.get(0),
        orchestra_name: r.get(1),
        contact_email: r.get(2),
        plan: r.get(3),
        region: None,
    }))
}

/// What the migration history of a database says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// Applied migration names, in order.
    pub names: Vec<String>,
    /// Why an applied migration's file no longer matches its history row, if one does not.
    pub modified: Option<String>,
    /// Applied migrations whose files are gone from `migrations_dir`, in history order.
    pub missing: Vec<String>,
}

/// The applied migrations (of `set`'s layout) that `set` no longer has: a deleted migration folder
/// or file. Compared by version, as applying does (for Prisma the version is the folder name).
pub fn missing_files(set: &MigrationSet, applied: &[AppliedMigration]) -> Vec<String> {
    applied
        .iter()
        .filter(|a| a.layout == set.layout)
        .filter(|a| !set.migrations.iter().any(|m| m.version == a.version))
        .map(|a| a.name.clone())
        .collect()
}

/// Refuses to apply new migrations on top of a history whose files are partly gone: what is
/// applied could no longer be rebuilt from the folder. Nothing pending: nothing to refuse (the
/// plan warns).
fn refuse_missing(
    set: &MigrationSet,
    applied: &[AppliedMigration],
    dir: &str,
) -> Result<(), BackendError> {
    let missing = missing_files(set, applied);
    if missing.is_empty() || set.pending(applied).is_empty() {
        return Ok(());
    }
    Err(BackendError::new(
        "An applied migration is missing",
        format!(
            "{} no longer in migrations_dir {dir:?}, so the pending migrations are not applied. {MISSING_ADVICE}",
            missing_list(&missing)
        ),
    ))
}

/// What to do about a deleted applied migration.
pub const MISSING_ADVICE: &str = "Applied migrations must stay in the folder: restore the file as it was applied; to undo a migration, write a new one that reverts it.";

/// ``Migration `a` was applied but is`` / ``Migrations `a`, `b` were applied but are``.
pub fn missing_list(missing: &[String]) -> String {
    let names = missing
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if missing.len() == 1 {
        format!("Migration {names} was applied to this database but is")
    } else {
        format!("Migrations {names} were applied to this database but are")
    }
}

/// The applied migration names (one query), and whether the files in `migrations_dir` still match
/// what was applied: an edited or deleted applied migration is found at refresh, before any apply.
pub async fn applied(
    target: &SessionTarget,
    tls: &TlsOptions,
    migrations_dir: Option<&str>,
) -> Result<History, BackendError> {
    let client = open(target, tls).await?;
    let rows = stagesub_migrate::applied(&client)
        .await
        .map_err(|e| migrate_err("Cannot read the migration history", e))?;
    let (modified, missing) = match migrations_dir.map(load) {
        Some(Ok(set)) => (
            stagesub_migrate::verify_unchanged(&set, &rows)
                .err()
                .map(|e| e.to_string()),
            missing_files(&set, &rows),
        ),
        _ => (None, Vec::new()),
    };
    Ok(History {
        names: rows.into_iter().map(|m| m.name).collect(),
        modified,
        missing,
    })
}

async fn history(client: &stagesub_migrate::Client) -> Result<Vec<String>, BackendError> {
    let rows = stagesub_migrate::applied(client)
        .await
        .map_err(|e| migrate_err("Cannot read the migration history", e))?;
    Ok(rows.into_iter().map(|m| m.name).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use stagesub_migrate::Layout;

    fn row(name: &str, version: &str, layout: Layout) -> AppliedMigration {
        AppliedMigration {
            name: name.into(),
            version: version.into(),
            layout,
            checksum: None,
            statements: None,
        }
    }

    #[test]
    fn missing_files_compare_versions_of_the_same_layout() {
        let set = MigrationSet::embedded(
            Layout::Supabase,
            &[
                ("20240101000000_init", "select 1;"),
                ("20240301000000_new", "select 2;"),
            ],
        )
        .unwrap();
        let applied = [
            row("20240101000000_renamed", "20240101000000", Layout::Supabase),
            row("20240201000000_gone", "20240201000000", Layout::Supabase),
            row(
                "20240101000000_other",
                "20240101000000_other",
                Layout::Prisma,
            ),
        ];
        // Same version under another name is the same migration; the Prisma table is not this layout's.
        assert_eq!(missing_files(&set, &applied), ["20240201000000_gone"]);
        let refused = refuse_missing(&set, &applied, "/m").unwrap_err();
        assert!(
            refused
                .detail
                .contains("Migration `20240201000000_gone` was applied"),
            "{}",
            refused.detail
        );
        // Nothing pending: nothing to refuse (the plan warns).
        let pending_none = [row(
            "20240301000000_new",
            "20240301000000",
            Layout::Supabase,
        )];
        let all = [&applied[..], &pending_none[..]].concat();
        assert!(refuse_missing(&set, &all, "/m").is_ok());
        assert!(missing_list(&["a".into(), "b".into()]).starts_with("Migrations `a`, `b` were"));
    }
}
