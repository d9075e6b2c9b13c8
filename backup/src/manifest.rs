//! The manifest written beside each dump (`<timestamp>.manifest.json`): what the dump holds and how
//! to check a restore of it. A dump without a manifest is not a backup (an archive that failed
//! before its end); [`crate::list`] ignores it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The manifest's `format` value.
pub const MANIFEST_FORMAT: &str = "stagesub-backup";

/// The manifest layout this crate writes; readers refuse newer ones.
pub const MANIFEST_VERSION: u32 = 1;

/// The exact row count of one table at the moment of the dump (the dump's own snapshot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableCount {
    /// Schema name.
    pub schema: String,
    /// Table name.
    pub table: String,
    /// `count(*)` in the dump's snapshot.
    pub rows: i64,
}

/// One applied migration, as a history table recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationRecord {
    /// `prisma` (`_prisma_migrations`) or `supabase` (`supabase_migrations.schema_migrations`).
    pub layout: String,
    /// The migration's name (Prisma folder, or `<version>_<name>`).
    pub name: String,
    /// Supabase's version column; Prisma: the same as `name`.
    pub version: String,
    /// Prisma's checksum column (None for Supabase).
    pub checksum: Option<String>,
}

impl MigrationRecord {
    pub(crate) fn from_applied(m: &stagesub_migrate::AppliedMigration) -> Self {
        MigrationRecord {
            layout: match m.layout {
                stagesub_migrate::Layout::Prisma => "prisma",
                stagesub_migrate::Layout::Supabase => "supabase",
            }
            .to_string(),
            name: m.name.clone(),
            version: m.version.clone(),
            checksum: m.checksum.clone(),
        }
    }
}

/// The dump object a manifest describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpInfo {
    /// The dump's URI (`s3://bucket/prefix/<subdomain>/<timestamp>.dump` or `file:///...`).
    pub uri: String,
    /// Lowercase hex SHA-256 of the dump's bytes.
    pub sha256: String,
    /// The dump's size in bytes.
    pub size: u64,
    /// `pg_dump` options used (for the record; restores do not need them).
    pub format: String,
}

/// Everything a manifest records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    /// [`MANIFEST_VERSION`] when written by this crate.
    pub format_version: u32,
    /// The tenant's subdomain.
    pub subdomain: String,
    /// When the dump's snapshot was taken (UTC).
    pub created_at: DateTime<Utc>,
    /// The dump object.
    pub dump: DumpInfo,
    /// The server's `server_version_num` (e.g. 150004).
    pub server_version_num: u32,
    /// The server's `server_version` text (e.g. `15.4`).
    pub server_version: String,
    /// `pg_dump --version` of the program that made the dump.
    pub pg_dump_version: String,
    /// Exact row count of every table (schemas `pg_catalog`, `information_schema` and `pg_toast`
    /// excluded), sorted by schema and table.
    pub tables: Vec<TableCount>,
    /// The migration history (Prisma's rows first, then the Supabase CLI's), in applied order.
    pub migrations: Vec<MigrationRecord>,
    /// The tenant's values as the caller gave them (for the restore's seed).
    pub tenant_values: serde_json::Value,
    /// The schemas dumped (`pg_dump --schema`); empty for the whole database.
    #[serde(default)]
    pub schemas: Vec<String>,
}

impl Manifest {
    /// Parses a manifest, refusing other formats and newer versions.
    pub fn from_json(bytes: &[u8]) -> Result<Manifest, String> {
        let manifest: Manifest =
            serde_json::from_slice(bytes).map_err(|e| format!("not a backup manifest: {e}"))?;
        if manifest.format != MANIFEST_FORMAT {
            return Err(format!(
                "format {:?} is not {MANIFEST_FORMAT:?}",
                manifest.format
            ));
        }
        if manifest.format_version > MANIFEST_VERSION {
            return Err(format!(
                "manifest version {} is newer than this program reads ({MANIFEST_VERSION}); \
                 upgrade stagesub",
                manifest.format_version
            ));
        }
        Ok(manifest)
    }

    /// The manifest as pretty JSON.
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing plain data cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }
}

/// A verified backup, as [`crate::archive`] returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupRecord {
    /// The dump's URI.
    pub uri: String,
    /// The manifest's URI (beside the dump).
    pub manifest_uri: String,
    /// Lowercase hex SHA-256 of the dump.
    pub sha256: String,
    /// The dump's size in bytes.
    pub size: u64,
    /// When the dump's snapshot was taken.
    pub created_at: DateTime<Utc>,
    /// The manifest as written.
    pub manifest: Manifest,
}

/// A backup as [`crate::list`] finds it (read from its manifest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupEntry {
    /// The dump's URI.
    pub uri: String,
    /// The manifest's URI.
    pub manifest_uri: String,
    /// Lowercase hex SHA-256 of the dump.
    pub sha256: String,
    /// The dump's size in bytes.
    pub size: u64,
    /// When the dump's snapshot was taken.
    pub created_at: DateTime<Utc>,
}

impl From<&BackupRecord> for BackupEntry {
    fn from(r: &BackupRecord) -> Self {
        BackupEntry {
            uri: r.uri.clone(),
            manifest_uri: r.manifest_uri.clone(),
            sha256: r.sha256.clone(),
            size: r.size,
            created_at: r.created_at,
        }
    }
}

/// The manifest key beside a dump key (`x.dump` -> `x.manifest.json`).
pub(crate) fn manifest_key_for(dump_key: &str) -> String {
    format!(
        "{}.manifest.json",
        dump_key.strip_suffix(".dump").unwrap_or(dump_key)
    )
}
