//! `archive`: dump, stream, verify, then write the manifest.

use crate::error::{BackupError, Result, Step};
use crate::manifest::BackupRecord;
use crate::source::SourceDb;
use crate::store::BackupStore;
use crate::tools::PgTools;

/// What to archive and how.
#[derive(Debug, Clone)]
pub struct ArchiveRequest {
    /// The tenant's subdomain: the folder under the store's prefix.
    pub subdomain: String,
    /// The tenant's values, kept in the manifest for the restore's seed.
    pub tenant_values: serde_json::Value,
    /// The `pg_dump` and `pg_restore` to run.
    pub tools: PgTools,
}

impl ArchiveRequest {
    /// A request with the programs from `PATH`.
    pub fn new(subdomain: impl Into<String>, tenant_values: serde_json::Value) -> Self {
        ArchiveRequest {
            subdomain: subdomain.into(),
            tenant_values,
            tools: PgTools::default(),
        }
    }
}

/// Archives `source` into `store` under `<prefix>/<subdomain>/<UTC timestamp>.dump`, and returns
/// the backup only once it is verified. `progress` is told each [`Step`] as it starts.
pub async fn archive<P>(
    store: &BackupStore,
    source: &SourceDb,
    request: &ArchiveRequest,
    progress: P,
) -> Result<BackupRecord>
where
    P: FnMut(Step) + Send,
{
    let _ = (store, source, request, progress);
    Err(BackupError::new(
        Step::Config,
        "archive is not implemented yet",
    ))
}
