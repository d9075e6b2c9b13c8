//! The provider's side of verified backups (crate `stagesub-backup`): the store the provider
//! configuration names (`backup_url`, `backup_endpoint`), and archive, restore and listing in the
//! provider's terms (tenants, connection URLs as [`Secret`]s, errors naming their step).
//!
//! The store is opened once at configure, which checks the URL; nothing is contacted until an
//! orchestra is archived, restored or its backups listed.

use stagesub_backup::{ArchiveRequest, BackupEntry, BackupStore, RestoreRequest, SourceDb};
use stagesub_pgconn::TlsOptions;
use stagesub_plugin::{AttributePath, Diagnostic, Diagnostics};
use stagesub_tenant::Tenant;

use crate::Secret;

/// `pg_restore` jobs of a restore.
pub const RESTORE_JOBS: u32 = 4;

/// The configured backup store.
#[derive(Debug)]
pub struct BackupSettings {
    store: BackupStore,
}

/// A verified backup (one with its manifest), as the resource and the data source record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The dump's URI.
    pub uri: String,
    /// SHA-256 of the dump, hex.
    pub sha256: String,
    /// Size of the dump in bytes.
    pub size: u64,
    /// When the dump's snapshot was taken, RFC 3339 (UTC, seconds).
    pub created_at: String,
}

/// A failed backup operation: the step (`dump`, `upload`, `read-back`, `restore`, ...) and what
/// happened, never a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    /// The step's name.
    pub step: String,
    /// What happened and what to fix.
    pub message: String,
}

impl From<stagesub_backup::BackupError> for StepError {
    fn from(e: stagesub_backup::BackupError) -> Self {
        StepError {
            step: e.step().name().to_string(),
            message: e.message().to_string(),
        }
    }
}

impl StepError {
    /// Summary and detail for a diagnostic.
    pub fn parts(&self) -> (String, String) {
        (
            format!("backup step `{}` failed", self.step),
            self.message.clone(),
        )
    }

    /// As an error diagnostic.
    pub fn into_diagnostics(self) -> Diagnostics {
        let (summary, detail) = self.parts();
        Diagnostic::error(summary, detail).into()
    }
}

fn found(e: &BackupEntry) -> Found {
    Found {
        uri: e.uri.clone(),
        sha256: e.sha256.clone(),
        size: e.size,
        created_at: e
            .created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

/// The tenant values a manifest records.
fn tenant_values(tenant: &Tenant, retention_days: i64) -> serde_json::Value {
    serde_json::json!({
        "subdomain": tenant.subdomain,
        "orchestra_name": tenant.orchestra_name,
        "contact_email": tenant.contact_email,
        "plan": tenant.plan,
        "region": tenant.region,
        "backup_retention_days": retention_days,
    })
}

impl BackupSettings {
    /// The store at `url` (`backup_url` / `STAGESUB_BACKUP_URL`) with `endpoint`; `None` without
    /// a URL. Errors name the attribute and its variable.
    pub fn from_config(
        url: Option<String>,
        endpoint: Option<String>,
    ) -> Result<Option<Self>, Diagnostic> {
        let Some(url) = url else {
            if endpoint.is_some() {
                return Err(Diagnostic::error("Missing backup_url", "backup_endpoint (STAGESUB_BACKUP_ENDPOINT) is set, but backup_url (STAGESUB_BACKUP_URL) is not: set it to s3://bucket/prefix.").at(AttributePath::root("backup_url")));
            }
            return Ok(None);
        };
        BackupStore::from_url(url.trim(), endpoint.as_deref().map(str::trim))
            .map(|store| Some(BackupSettings { store }))
            .map_err(|e| {
                Diagnostic::error(
                    "Invalid backup_url",
                    format!("backup_url (STAGESUB_BACKUP_URL) / backup_endpoint (STAGESUB_BACKUP_ENDPOINT): {}", e.message()),
                )
                .at(AttributePath::root("backup_url"))
            })
    }

    /// The store's URL, without credentials.
    pub fn url(&self) -> String {
        self.store.url()
    }

    /// Dumps `source` (a connection URL) and returns the backup once it is verified; the
    /// `platform_schemas` (a new database has them again) are left out.
    pub async fn archive(
        &self,
        source: &Secret,
        tls: &TlsOptions,
        tenant: &Tenant,
        retention_days: i64,
        platform_schemas: &[&str],
    ) -> Result<Found, StepError> {
        let schemas = if platform_schemas.is_empty() {
            Vec::new()
        } else {
            tenant_schemas(source, tls, platform_schemas).await?
        };
        let source = SourceDb::new(source.expose(), tls.clone())?;
        let mut request = ArchiveRequest::new(
            tenant.subdomain.clone(),
            tenant_values(tenant, retention_days),
        );
        request.schemas = schemas;
        let record = stagesub_backup::archive(&self.store, &source, &request, |step| {
            tracing::info!("archive of {}: {step}", tenant.subdomain);
        })
        .await?;
        Ok(found(&BackupEntry::from(&record)))
    }

    /// Checks that the backup at `uri` of `subdomain` is a verified one (listed with its manifest)
    /// with the SHA-256 the state recorded, before anything is created for a restore.
    pub async fn check(
        &self,
        subdomain: &str,
        uri: &str,
        sha256: Option<&str>,
    ) -> Result<(), StepError> {
        let entries = stagesub_backup::list(&self.store, subdomain).await?;
        let Some(entry) = entries.iter().find(|e| e.uri == uri) else {
            return Err(StepError {
                step: "list".into(),
                message: format!(
                    "the backup {uri} is not in {} (no dump with its manifest under {subdomain}/): it was moved or expired. Nothing was created.",
                    self.url()
                ),
            });
        };
        if let Some(want) = sha256
            && entry.sha256 != want
        {
            return Err(StepError {
                step: "list".into(),
                message: format!(
                    "the manifest of {uri} gives SHA-256 {}, but the state recorded {want}: the backup was replaced. Nothing was created.",
                    entry.sha256
                ),
            });
        }
        Ok(())
    }

    /// Restores the backup at `uri` into `target` (an empty database, as its owner) with
    /// [`RESTORE_JOBS`] jobs, checked against its manifest.
    pub async fn restore(
        &self,
        uri: &str,
        target: &Secret,
        tls: &TlsOptions,
    ) -> Result<(), StepError> {
        let target = SourceDb::new(target.expose(), tls.clone())?;
        let request = RestoreRequest::new(uri, RESTORE_JOBS);
        stagesub_backup::restore(&self.store, &request, &target, |step| {
            tracing::info!("restore of {uri}: {step}");
        })
        .await?;
        Ok(())
    }

    /// The verified backups of `subdomain`, oldest first.
    pub async fn list(&self, subdomain: &str) -> Result<Vec<Found>, StepError> {
        let entries = stagesub_backup::list(&self.store, subdomain).await?;
        Ok(entries.iter().map(found).collect())
    }

    /// The newest verified backup of `subdomain`.
    pub async fn latest(&self, subdomain: &str) -> Result<Option<Found>, StepError> {
        Ok(stagesub_backup::latest(&self.store, subdomain)
            .await?
            .as_ref()
            .map(found))
    }
}

/// The schemas of `source` that belong to the tenant: all but the system's and the platform's.
async fn tenant_schemas(
    source: &Secret,
    tls: &TlsOptions,
    platform: &[&str],
) -> Result<Vec<String>, StepError> {
    let failed = |e: String| StepError {
        step: "connect".into(),
        message: format!("listing the tenant's schemas: {e}"),
    };
    let client = stagesub_pgconn::connect(source.expose(), tls)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let platform: Vec<String> = platform.iter().map(|s| (*s).to_string()).collect();
    let rows = client
        .query(
            "SELECT nspname::text FROM pg_namespace WHERE nspname !~ '^pg_' \
             AND nspname <> 'information_schema' AND nspname <> ALL($1) ORDER BY 1",
            &[&platform],
        )
        .await
        .map_err(|e| failed(e.to_string()))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
