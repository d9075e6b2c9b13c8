//! Writing rows: every write takes the next value of the `generation` sequence.

use tokio_postgres::Client;

use crate::error::{Error, Result};
use crate::keys::DirectoryKeys;
use crate::secret::{TenantSecret, seal};
use crate::status::Status;

/// One tenant's row as the provider knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The orchestra's subdomain (the primary key); follows the tenant rules.
    pub subdomain: String,
    /// Where the tenant is in its life.
    pub status: Status,
    /// `supabase` or `postgres`.
    pub backend: String,
    /// The region, where the backend has one.
    pub region: Option<String>,
    /// The plan.
    pub plan: Option<String>,
    /// The Supabase project ref or the database name.
    pub resource_id: Option<String>,
    /// The Supabase API URL, where the backend has one.
    pub api_url: Option<String>,
    /// What the app needs to connect; sealed before it is written. Required for `ready`,
    /// refused for `deleted`.
    pub secret: Option<TenantSecret>,
}

/// Inserts or replaces `entry`'s row, sealing its secret with the first key; returns the row's new
/// generation.
pub async fn upsert(client: &Client, keys: &DirectoryKeys, entry: &Entry) -> Result<i64> {
    stagesub_tenant::validate_subdomain(&entry.subdomain)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    match (entry.status, &entry.secret) {
        (Status::Ready, None) => {
            return Err(Error::Invalid(format!(
                "{}: a ready tenant needs its connection secret (the app could not reach it)",
                entry.subdomain
            )));
        }
        (Status::Deleted, Some(_)) => {
            return Err(Error::Invalid(format!(
                "{}: a deleted tenant keeps no secret; use tombstone",
                entry.subdomain
            )));
        }
        _ => {}
    }
    let sealed = match &entry.secret {
        Some(secret) => Some(seal(keys, &entry.subdomain, secret)?),
        None => None,
    };
    let key_id = sealed.as_ref().map(|_| keys.current_id());
    let row = client
        .query_one(
            "INSERT INTO stagesub_directory.tenants AS t
                 (subdomain, status, backend, region, plan, resource_id, api_url, key_id, secret,
                  generation, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,
                     pg_catalog.nextval('stagesub_directory.generation'), pg_catalog.now())
             ON CONFLICT (subdomain) DO UPDATE SET
                 status = EXCLUDED.status, backend = EXCLUDED.backend, region = EXCLUDED.region,
                 plan = EXCLUDED.plan, resource_id = EXCLUDED.resource_id,
                 api_url = EXCLUDED.api_url, key_id = EXCLUDED.key_id, secret = EXCLUDED.secret,
                 generation = EXCLUDED.generation, updated_at = EXCLUDED.updated_at
             RETURNING t.generation",
            &[
                &entry.subdomain,
                &entry.status.as_str(),
                &entry.backend,
                &entry.region,
                &entry.plan,
                &entry.resource_id,
                &entry.api_url,
                &key_id,
                &sealed,
            ],
        )
        .await
        .map_err(Error::db(format!("writing the row of {}", entry.subdomain)))?;
    Ok(row.get(0))
}

/// Sets the status of `subdomain`'s row (its secret is dropped when the status is `deleted`);
/// returns the new generation, or `None` when there is no such row. `ready` is refused by the
/// table for a row without a secret.
pub async fn mark(client: &Client, subdomain: &str, status: Status) -> Result<Option<i64>> {
    let row = client
        .query_opt(
            "UPDATE stagesub_directory.tenants SET
                 status = $2::text,
                 secret = CASE WHEN $2::text = 'deleted' THEN NULL ELSE secret END,
                 key_id = CASE WHEN $2::text = 'deleted' THEN NULL ELSE key_id END,
                 generation = pg_catalog.nextval('stagesub_directory.generation'),
                 updated_at = pg_catalog.now()
             WHERE subdomain = $1
             RETURNING generation",
            &[&subdomain, &status.as_str()],
        )
        .await
        .map_err(Error::db(format!("marking {subdomain} {status}")))?;
    Ok(row.map(|r| r.get(0)))
}

/// Marks `subdomain` deleted and drops its secret; the row stays as a tombstone. Returns the new
/// generation, or `None` when there is no such row.
pub async fn tombstone(client: &Client, subdomain: &str) -> Result<Option<i64>> {
    mark(client, subdomain, Status::Deleted).await
}
