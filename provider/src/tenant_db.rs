//! Inside an orchestra's database: migrations, seed, the applied-migration history, and the tenant
//! values recorded in `stagesub.tenant` (one row) so that `terraform import` can read them back.

use std::path::Path;

use stagesub_migrate::{ApplyOptions, MigrationSet};
use stagesub_pgconn::TlsOptions;
use stagesub_tenant::Tenant;

use crate::backend::{BackendError, SessionTarget, TenantMetadata, TenantSpec};

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
    let client = stagesub_pgconn::connect(&target.url, tls)
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
    spec: &TenantSpec,
) -> Result<Vec<String>, BackendError> {
    let client = open(target, tls).await?;
    if let Some(dir) = migrations_dir {
        let set = load(dir)?;
        let options = ApplyOptions::default();
        stagesub_migrate::apply(&client, &set, &options)
            .await
            .map_err(|e| migrate_err("Migration failed", e))?;
    }
    if let Some(sql) = seed_sql.filter(|s| !s.trim().is_empty()) {
        let values = Tenant {
            subdomain: spec.subdomain.clone(),
            orchestra_name: spec.orchestra_name.clone(),
            contact_email: spec.contact_email.clone(),
            plan: spec.plan.clone(),
            region: None,
        };
        stagesub_migrate::seed(&client, sql, &values)
            .await
            .map_err(|e| migrate_err("Seed failed", e))?;
    }
    record(&client, spec).await?;
    history(&client).await
}

/// Writes the tenant values (bound parameters) into the one row of `stagesub.tenant`.
async fn record(client: &stagesub_migrate::Client, spec: &TenantSpec) -> Result<(), BackendError> {
    let failed = |e| migrate_err("Cannot record the tenant values in the database", e);
    client.batch_execute(TENANT_DDL).await.map_err(failed)?;
    client
        .execute(
            "INSERT INTO stagesub.tenant (singleton, subdomain, orchestra_name, contact_email, plan) \
             VALUES (true, $1, $2, $3, $4) ON CONFLICT (singleton) DO UPDATE SET \
             subdomain = EXCLUDED.subdomain, orchestra_name = EXCLUDED.orchestra_name, \
             contact_email = EXCLUDED.contact_email, plan = EXCLUDED.plan, updated_at = now()",
            &[
                &spec.subdomain,
                &spec.orchestra_name,
                &spec.contact_email,
                &spec.plan,
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
) -> Result<Option<TenantMetadata>, BackendError> {
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
            "SELECT orchestra_name, contact_email, plan FROM stagesub.tenant WHERE singleton",
            &[],
        )
        .await
        .map_err(failed)?;
    Ok(row.map(|r| TenantMetadata {
        orchestra_name: r.get(0),
        contact_email: r.get(1),
        plan: r.get(2),
    }))
}

/// What the migration history of a database says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// Applied migration names, in order.
    pub names: Vec<String>,
    /// Why an applied migration's file no longer matches its history row, if one does not.
    pub modified: Option<String>,
}

/// The applied migration names (one query), and whether the files in `migrations_dir` still match
/// what was applied: an edited applied migration is found at refresh, before any apply.
pub async fn applied(
    target: &SessionTarget,
    tls: &TlsOptions,
    migrations_dir: Option<&str>,
) -> Result<History, BackendError> {
    let client = open(target, tls).await?;
    let rows = stagesub_migrate::applied(&client)
        .await
        .map_err(|e| migrate_err("Cannot read the migration history", e))?;
    let modified = match migrations_dir.map(load) {
        Some(Ok(set)) => stagesub_migrate::verify_unchanged(&set, &rows)
            .err()
            .map(|e| e.to_string()),
        _ => None,
    };
    Ok(History {
        names: rows.into_iter().map(|m| m.name).collect(),
        modified,
    })
}

async fn history(client: &stagesub_migrate::Client) -> Result<Vec<String>, BackendError> {
    let rows = stagesub_migrate::applied(client)
        .await
        .map_err(|e| migrate_err("Cannot read the migration history", e))?;
    Ok(rows.into_iter().map(|m| m.name).collect())
}
