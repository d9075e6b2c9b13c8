//! The tenant directory: one row per orchestra in the schema `stagesub_directory` of a Postgres
//! the operator owns. The Terraform provider writes it through the life of each tenant; the
//! orchestra app reads it (through [`LOOKUP_FUNCTION`]) to route `<subdomain>.<app domain>` to the
//! tenant's database. `examples/app-routing/` is the app's side, in TypeScript.
//!
//! - [`DirectoryKeys::parse`] reads `STAGESUB_DIRECTORY_KEYS`: comma-separated base64 32-byte
//!   keys; the first encrypts, all decrypt (rotation). [`key_id`] names a key without revealing it.
//! - [`seal`] / [`open`] turn a [`TenantSecret`] (database URL, pooler URL, anon key) into the
//!   `secret` column: 12-byte nonce ‖ AES-256-GCM ciphertext ‖ 16-byte tag, with the subdomain's
//!   UTF-8 bytes as associated data, so a secret copied onto another row does not open.
//! - [`ensure_schema`] creates or upgrades the schema (versioned in
//!   `stagesub_directory.schema_version`, one transaction under an advisory lock, so concurrent
//!   applies take turns); [`grant_reader`] lets a role call `lookup` and nothing else.
//! - [`upsert`], [`mark`], [`tombstone`] write rows, each write taking a new `generation` from one
//!   sequence; [`read`] returns a [`ReadOutcome`] (missing, undecryptable with the current keys,
//!   sealed with an older key, or current); [`reencrypt`] and [`reencrypt_all`] move rows to the
//!   first key. [`status`] reads only a row's status through `lookup` (no keys needed).
//!
//! Rules worth knowing:
//! - Every value travels as a bound parameter; the only identifier spliced into SQL is the reader
//!   role's name, quoted as an identifier.
//! - Secrets live in [`Sensitive`] values and keys in [`DirectoryKeys`]: neither prints its
//!   content (`Debug` shows `***` or key ids), and no error carries one. Errors name the directory
//!   (its URL with the password replaced by `***`, or its schema) and the subdomain.
//!
//! Module map: `keys` (key list and ids), `secret` (the sealed format), `status`, `schema`
//! (DDL and versions), `write` (upsert, mark, tombstone), `read` (read and re-encryption), `error`.

mod error;
mod keys;
mod read;
mod schema;
mod secret;
mod status;
mod write;

pub use error::{Error, Result};
pub use keys::{DirectoryKeys, KEY_LEN, key_id};
pub use read::{ReadOutcome, Record, Reencrypted, RotationReport, read, reencrypt, reencrypt_all};
pub use schema::{
    LOCK_KEY, LOOKUP_FUNCTION, SCHEMA, SCHEMA_VERSION, TABLE, ensure_schema, grant_reader,
};
pub use secret::{NONCE_LEN, Sensitive, TAG_LEN, TenantSecret, open, seal};
pub use status::{Status, status};
pub use write::{Entry, mark, tombstone, upsert};

/// Connects to the directory at `url` (`sslmode` and TLS as `stagesub-pgconn` handles them).
/// Errors name the directory by its URL with the password replaced by `***`.
pub async fn connect(url: &str) -> Result<tokio_postgres::Client> {
    stagesub_pgconn::connect(url, &stagesub_pgconn::TlsOptions::default())
        .await
        .map_err(|e| Error::Connect {
            directory: stagesub_pgconn::redact_url(url),
            reason: e.to_string(),
        })
}
