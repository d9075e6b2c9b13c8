//! Inside an orchestra's database: migrations, seed, and the applied-migration history.

use std::path::Path;

use stagesub_migrate::{ApplyOptions, MigrationSet, TenantValues, TlsOptions};

use crate::backend::{BackendError, SessionTarget, TenantSpec};

fn migrate_err(summary: &str, e: impl std::fmt::Display) -> BackendError {
    BackendError::new(summary, e.to_string())
}

async fn open(
    target: &SessionTarget,
    tls: &TlsOptions,
) -> Result<stagesub_migrate::Client, BackendError> {
    let client = stagesub_migrate::connect(&target.url, tls)
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

/// Applies pending migrations, then the seed; returns the applied migration names in order.
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
        let values = TenantValues {
            subdomain: spec.subdomain.clone(),
            orchestra_name: spec.orchestra_name.clone(),
            contact_email: spec.contact_email.clone(),
            plan: spec.plan.clone(),
        };
        stagesub_migrate::seed(&client, sql, &values)
            .await
            .map_err(|e| migrate_err("Seed failed", e))?;
    }
    history(&client).await
}

/// The applied migration names, read with one query.
pub async fn applied(
    target: &SessionTarget,
    tls: &TlsOptions,
) -> Result<Vec<String>, BackendError> {
    let client = open(target, tls).await?;
    history(&client).await
}

async fn history(client: &stagesub_migrate::Client) -> Result<Vec<String>, BackendError> {
    let rows = stagesub_migrate::applied(client)
        .await
        .map_err(|e| migrate_err("Cannot read the migration history", e))?;
    Ok(rows.into_iter().map(|m| m.name).collect())
}
