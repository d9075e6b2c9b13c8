//! Reading rows back, deciding whether they are current, and re-encrypting them after a rotation.

use std::time::SystemTime;

use tokio_postgres::{Client, Row};

use crate::error::{Error, Result};
use crate::keys::DirectoryKeys;
use crate::secret::{TenantSecret, open, seal};
use crate::status::Status;

/// A row without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The orchestra's subdomain.
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
    /// The Supabase API URL.
    pub api_url: Option<String>,
    /// The id of the key the secret claims to be sealed with (`None` without a secret).
    pub key_id: Option<String>,
    /// Grows with every write.
    pub generation: i64,
    /// When the row was last written.
    pub updated_at: SystemTime,
}

/// What [`read`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadOutcome {
    /// No row for the subdomain.
    Missing,
    /// The row has a secret that none of the current keys opens (sealed with a key no longer
    /// given, tampered with, or copied from another subdomain): it must be written again.
    Undecryptable(Record),
    /// The secret opens, but with a key other than the first: re-encrypt it.
    StaleKey(Record, TenantSecret),
    /// The row is sealed with the first key (or has no secret: `provisioning`, `deleted`).
    Current(Record, Option<TenantSecret>),
}

const SELECT: &str = "SELECT subdomain, status, backend, region, plan, resource_id, api_url, \
                      key_id, secret, generation, updated_at FROM stagesub_directory.tenants";

/// Reads and opens `subdomain`'s row.
pub async fn read(client: &Client, keys: &DirectoryKeys, subdomain: &str) -> Result<ReadOutcome> {
    let row = client
        .query_opt(&format!("{SELECT} WHERE subdomain = $1"), &[&subdomain])
        .await
        .map_err(Error::db(format!("reading the row of {subdomain}")))?;
    match row {
        None => Ok(ReadOutcome::Missing),
        Some(row) => outcome(keys, &row),
    }
}

fn outcome(keys: &DirectoryKeys, row: &Row) -> Result<ReadOutcome> {
    let status: String = row.get("status");
    let record = Record {
        subdomain: row.get("subdomain"),
        status: status.parse()?,
        backend: row.get("backend"),
        region: row.get("region"),
        plan: row.get("plan"),
        resource_id: row.get("resource_id"),
        api_url: row.get("api_url"),
        key_id: row.get("key_id"),
        generation: row.get("generation"),
        updated_at: row.get("updated_at"),
    };
    let Some(sealed) = row.get::<_, Option<Vec<u8>>>("secret") else {
        return Ok(ReadOutcome::Current(record, None));
    };
    Ok(
        match open(keys, &record.subdomain, record.key_id.as_deref(), &sealed) {
            None => ReadOutcome::Undecryptable(record),
            Some((secret, 0)) if record.key_id.as_deref() == Some(keys.current_id()) => {
                ReadOutcome::Current(record, Some(secret))
            }
            // Opened by an older key, or by the current one under a wrong key_id: rewrite either.
            Some((secret, _)) => ReadOutcome::StaleKey(record, secret),
        },
    )
}

/// What [`reencrypt`] did with one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reencrypted {
    /// Sealed again with the first key; the row's new generation.
    Done(i64),
    /// Already sealed with the first key, or without a secret: nothing to do.
    Current,
    /// No current key opens it: only a new write of the secret can repair it.
    Undecryptable,
    /// No such row.
    Missing,
    /// Another writer changed the row between the read and the write; read it again.
    Raced,
}

/// Seals `subdomain`'s secret again with the first key when an older key opens it. The write only
/// lands when the row's generation is still the one read, so a concurrent upsert is never undone.
pub async fn reencrypt(
    client: &Client,
    keys: &DirectoryKeys,
    subdomain: &str,
) -> Result<Reencrypted> {
    let (record, secret) = match read(client, keys, subdomain).await? {
        ReadOutcome::Missing => return Ok(Reencrypted::Missing),
        ReadOutcome::Undecryptable(_) => return Ok(Reencrypted::Undecryptable),
        ReadOutcome::Current(..) => return Ok(Reencrypted::Current),
        ReadOutcome::StaleKey(record, secret) => (record, secret),
    };
    let sealed = seal(keys, subdomain, &secret)?;
    let row = client
        .query_opt(
            "UPDATE stagesub_directory.tenants SET
                 secret = $3, key_id = $4,
                 generation = pg_catalog.nextval('stagesub_directory.generation'),
                 updated_at = pg_catalog.now()
             WHERE subdomain = $1 AND generation = $2
             RETURNING generation",
            &[&subdomain, &record.generation, &sealed, &keys.current_id()],
        )
        .await
        .map_err(Error::db(format!("re-encrypting the row of {subdomain}")))?;
    Ok(row.map_or(Reencrypted::Raced, |r| Reencrypted::Done(r.get(0))))
}

/// What [`reencrypt_all`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Rows sealed again with the first key.
    pub reencrypted: Vec<String>,
    /// Rows no current key opens (they need a new write of their secret).
    pub undecryptable: Vec<String>,
    /// Rows changed by another writer meanwhile (run again).
    pub raced: Vec<String>,
}

/// Re-encrypts every row whose `key_id` is not the first key's.
pub async fn reencrypt_all(client: &Client, keys: &DirectoryKeys) -> Result<RotationReport> {
    let rows = client
        .query(
            "SELECT subdomain FROM stagesub_directory.tenants
             WHERE secret IS NOT NULL AND key_id IS DISTINCT FROM $1 ORDER BY subdomain",
            &[&keys.current_id()],
        )
        .await
        .map_err(Error::db("listing rows sealed with older keys"))?;
    let mut report = RotationReport::default();
    for row in rows {
        let subdomain: String = row.get(0);
        match reencrypt(client, keys, &subdomain).await? {
            Reencrypted::Done(_) => report.reencrypted.push(subdomain),
            Reencrypted::Undecryptable => report.undecryptable.push(subdomain),
            Reencrypted::Raced => report.raced.push(subdomain),
            Reencrypted::Current | Reencrypted::Missing => {}
        }
    }
    Ok(report)
}
