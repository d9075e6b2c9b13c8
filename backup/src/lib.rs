//! Verified tenant backups, for archiving a tenant's database before it is deleted and restoring
//! it when the customer returns.
//!
//! - [`BackupStore`]: where backups live, `s3://bucket/prefix` (AWS S3 or any S3-compatible
//!   server, credentials from the AWS environment and profile chain) or `file:///folder`.
//! - [`archive`]: `pg_dump -Fc --no-owner --no-privileges` streamed into the store as a
//!   multipart upload (the dump is never whole in memory or on local disk), read back to check its
//!   SHA-256 and `pg_restore --list`, then a manifest beside it (row count per table, migration
//!   history, tenant values). Only a verified dump gets a manifest, and only a manifest makes a
//!   backup: an archive that fails leaves nothing that [`list`] reports.
//! - [`restore`]: checks the dump against its manifest, `pg_restore`s it, then compares row counts
//!   and migration history with the manifest.
//! - [`list`], [`latest`]: a tenant's backups, from their manifests; [`may_delete`]: the retention
//!   guard (this crate has no way to delete a backup younger than the retention).
//!
//! Rules: passwords reach `pg_dump`/`pg_restore` through `PGPASSWORD`, never a command line; no
//! error or `Debug` output carries a password or a signed URL; every error names its [`Step`].
//!
//! Module map: `store` (URLs, object_store), `profile` (AWS shared files), `source` (database
//! URL, libpq environment), `tools` (`pg_dump`/`pg_restore` and their versions), `pg` (row
//! counts, history, child processes, SHA-256), `archive` (dump streamed into a multipart upload),
//! `verify` (read-back, `pg_restore --list`), `restore`, `catalog` (list, latest, retention),
//! `manifest`, `error`.

mod archive;
mod catalog;
mod error;
mod manifest;
mod pg;
mod profile;
mod restore;
mod source;
mod store;
mod tools;
mod verify;

pub use archive::{ArchiveRequest, archive};
pub use catalog::{delete_expired, latest, list, may_delete, objects, read_manifest};
pub use error::{BackupError, Result, Step, redact};
pub use manifest::{
    BackupEntry, BackupRecord, DumpInfo, MANIFEST_FORMAT, MANIFEST_VERSION, Manifest,
    MigrationRecord, TableCount,
};
pub use restore::{RestoreReport, RestoreRequest, restore};
pub use source::SourceDb;
pub use stagesub_pgconn::TlsOptions;
pub use store::{BackupStore, StoreOptions};
pub use tools::PgTools;

/// Installs ring as the process's rustls provider (the S3 client needs one; the workspace's
/// other HTTPS clients install the same).
pub(crate) fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
