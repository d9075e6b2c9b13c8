//! Migrations mode: the new migrations applied straight to every tenant database, with the
//! provider's own engine (`stagesub-migrate`: same history tables, same checksums, same advisory
//! lock), each database found through the tenant directory. No Terraform, no Management API
//! call: the cost per tenant is one directory read (pipelined on one shared connection), one
//! connection to its database and the migration itself.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use stagesub_directory::{DirectoryKeys, ReadOutcome, Sensitive, Status};
use stagesub_migrate::{ApplyOptions, MigrationSet};
use stagesub_pgconn::TlsOptions;
use tokio_postgres::Client;

use crate::error::{Error, Result};
use crate::redact::Redactor;
use crate::rollout::{Executor, TenantResult};

/// The tenant directory, opened once for the whole run.
pub struct Directory {
    client: Client,
    keys: DirectoryKeys,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl Directory {
    /// Connects to the directory at `url` with `keys` (the `STAGESUB_DIRECTORY_KEYS` list).
    pub async fn open(url: &str, keys: &str) -> Result<Self> {
        let keys = DirectoryKeys::parse(keys).map_err(|e| Error::Usage(e.to_string()))?;
        let client = stagesub_directory::connect(url)
            .await
            .map_err(|e| Error::Directory(e.to_string()))?;
        Ok(Self { client, keys })
    }

    /// Every row's subdomain and status, sorted by subdomain.
    pub async fn list(&self) -> Result<Vec<(String, Status)>> {
        let rows = self
            .client
            .query(
                "SELECT subdomain, status FROM stagesub_directory.tenants ORDER BY subdomain",
                &[],
            )
            .await
            .map_err(|e| {
                Error::Directory(format!(
                    "listing tenants: {} (is this the directory the provider writes, schema \
                     stagesub_directory?)",
                    stagesub_pgconn::describe(&e)
                ))
            })?;
        rows.iter()
            .map(|r| {
                let status: String = r.get(1);
                Ok((
                    r.get(0),
                    status
                        .parse()
                        .map_err(|e: stagesub_directory::Error| Error::Directory(e.to_string()))?,
                ))
            })
            .collect()
    }

    /// `subdomain`'s database URL, opened with the keys.
    pub async fn database_url(&self, subdomain: &str) -> std::result::Result<Sensitive, String> {
        let outcome = stagesub_directory::read(&self.client, &self.keys, subdomain)
            .await
            .map_err(|e| e.to_string())?;
        let secret = match outcome {
            ReadOutcome::Missing => return Err("no row in the tenant directory".into()),
            ReadOutcome::Undecryptable(record) => {
                return Err(format!(
                    "its directory secret (key {}) opens with none of STAGESUB_DIRECTORY_KEYS \
                     ({}); add the key it was sealed with",
                    record.key_id.unwrap_or_default(),
                    self.keys.ids().join(", ")
                ));
            }
            ReadOutcome::StaleKey(_, secret) | ReadOutcome::Current(_, Some(secret)) => secret,
            ReadOutcome::Current(record, None) => {
                return Err(format!(
                    "its directory row ({}) holds no connection secret",
                    record.status
                ));
            }
        };
        Ok(secret.database_url)
    }
}

/// The statuses whose database takes migrations: `ready` only. `provisioning` and `restoring`
/// tenants get them from the provider as it finishes; `archived` and `deleted` have no database
/// to migrate (the restore applies them).
pub fn eligible(status: Status) -> bool {
    status == Status::Ready
}

/// Applies a migrations folder to tenant databases found in the directory.
pub struct MigrationsExecutor {
    /// The directory.
    pub directory: Arc<Directory>,
    /// The folder, loaded once.
    pub set: Arc<MigrationSet>,
    /// CA for the tenant databases.
    pub tls: TlsOptions,
    /// Timeouts and retry of earlier failures, as the provider's.
    pub options: ApplyOptions,
    /// Cleans error text.
    pub redactor: Redactor,
}

impl std::fmt::Debug for MigrationsExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrationsExecutor")
            .field("dir", &self.set.dir)
            .finish_non_exhaustive()
    }
}

impl MigrationsExecutor {
    async fn migrate(self: Arc<Self>, subdomain: String) -> TenantResult {
        let url = self.directory.database_url(&subdomain).await?;
        let mut redactor = self.redactor.clone();
        redactor.add_url(url.expose());
        let client = stagesub_pgconn::connect(url.expose(), &self.tls)
            .await
            .map_err(|e| redactor.clean(&format!("connecting to its database: {e}")))?;
        let report = stagesub_migrate::apply(&client, &self.set, &self.options)
            .await
            .map_err(|e| redactor.clean(&e.to_string()))?;
        Ok(Some(if report.applied.is_empty() {
            "up to date".to_owned()
        } else {
            format!("applied {}", report.applied.join(", "))
        }))
    }
}

impl Executor for MigrationsExecutor {
    fn apply(
        self: Arc<Self>,
        subdomain: String,
    ) -> Pin<Box<dyn Future<Output = TenantResult> + Send>> {
        Box::pin(self.migrate(subdomain))
    }
}
