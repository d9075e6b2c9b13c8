//! The bridge's Postgres: events, tenants, subscriptions, owners and jobs. Every SQL statement of the
//! bridge's own tables lives in this module.
//!
//! The schema is embedded and applied at start-up under an advisory lock, so several replicas can start
//! at once. Queries bind every value as a parameter. Modules: [`events`] (intake, one statement per
//! delivery), `tenants` (rows and locks), `state` ([`TenantState`]), `subscriptions`, `owners`
//! ([`link_owner`]), `callbacks` (CI's ready/failed), `jobs` (the queue), [`grace`] (grace periods
//! before an archive, and the welcome back), [`reminders`] (pending provisions and their reminder
//! claims), [`metrics`] (what `/metrics` reads at scrape time).

mod callbacks;
mod console;
mod console_actions;
mod deliveries;
pub mod events;
pub mod grace;
mod job_admin;
mod jobs;
pub mod metrics;
mod notices;
mod owners;
mod publications;
pub mod reminders;
mod state;
mod subscriptions;
mod tenants;
mod timeline;

pub use callbacks::{hold_welcome, mark_ready, record_failure_report, report_text};
pub use console::{
    AuditEntry, ConsoleSession, audit, audit_entries, create_session, delete_session, load_session,
    recent_login_failures, record_login_attempt,
};
pub use console_actions::{
    assign_held, mark_manually_provisioned, release_held, resend_welcome, retry_publishing,
};
pub use deliveries::{DeliveryCount, DeliverySource, delivery_counts, record_rejected_delivery};
pub use events::{StoredEvent, load_event_with_outcome, record_event, record_event_from};
pub(crate) use events::{load_event, set_outcome};
pub use job_admin::{
    JobFilter, JobRow, JobState, job, list_jobs, requeue_job, requeue_parked_jobs,
};
pub use jobs::{Job, JobKind, enqueue};
pub(crate) use jobs::{
    claim as claim_job, complete as complete_job, mark_alerted as mark_job_alerted,
    park as park_job, retry_later as retry_job_later,
};
pub use notices::{failure_report, held_welcome, mark_welcome_sent};
pub use owners::{LinkOutcome, link_owner};
pub use publications::mark_published;
pub use state::TenantState;
pub(crate) use subscriptions::subscription_fact;
pub use subscriptions::{SubscriptionFact, record_subscription_fact};
pub use tenants::{StoredTenant, load_tenant, lock_subscription, lock_tenant};
pub(crate) use tenants::{save_tenant, set_archived, tenants_of_subscription};
pub use timeline::{
    HeldRequest, TenantQuery, TenantRow, TimelineEntry, held_requests, list_tenants, record_email,
    timeline,
};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use stagesub_pgconn::{TlsOptions, connect_settings};

use crate::error::Error;
pub use crate::error::StoreError;

/// Embedded migrations: (version, SQL). Append only.
const MIGRATIONS: &[(i32, &str)] = &[
    (1, include_str!("schema.sql")),
    (2, include_str!("schema_v2.sql")),
    (3, include_str!("v3_jobs.sql")),
    (4, include_str!("v4_held_welcomes.sql")),
    (5, include_str!("v5_archive_grace.sql")),
    (6, include_str!("v6_console.sql")),
    (7, include_str!("v7_reminders.sql")),
];

/// Connection pool to the bridge's database.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
}

impl Store {
    /// Builds a pool for `database_url` without a CA certificate (no connection is made until
    /// first use). See [`Store::connect_with_ca`].
    pub fn connect(database_url: &str, max_size: usize) -> Result<Self, Error> {
        Self::connect_with_ca(database_url, None, max_size)
    }

    /// Builds a pool for `database_url`, TLS as its `sslmode` says (no connection is made until
    /// first use).
    ///
    /// `disable`: plain TCP. `prefer` (the default on loopback): TLS when the server offers it.
    /// `require` (the default elsewhere): TLS; the certificate is checked against the CA when one
    /// is given, else not at all. `verify-ca` / `verify-full`: the certificate must chain to
    /// `ca_cert_pem` (`DATABASE_CA_CERT`) or to the file named by `sslrootcert=` in the URL, and
    /// for `verify-full` name the host. Errors never contain the password.
    pub fn connect_with_ca(
        database_url: &str,
        ca_cert_pem: Option<&str>,
        max_size: usize,
    ) -> Result<Self, Error> {
        let tls = TlsOptions {
            ca_cert_pem: ca_cert_pem.map(str::to_owned),
        };
        let settings = connect_settings(database_url, &tls)
            .map_err(|e| Error::Config(format!("DATABASE_URL: {e}")))?;
        let manager = Manager::from_config(
            settings.config,
            settings.tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_size)
            .wait_timeout(Some(std::time::Duration::from_secs(10)))
            .create_timeout(Some(std::time::Duration::from_secs(5)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| Error::Config(format!("cannot build the database pool: {e}")))?;
        Ok(Self { pool })
    }

    /// A pooled connection.
    pub async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        Ok(self.pool.get().await?)
    }

    /// Creates or upgrades the schema.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // One replica migrates at a time; the others wait and then find nothing to do.
        tx.execute("SELECT pg_advisory_xact_lock(7411, 1)", &[])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await?;
        for (version, sql) in MIGRATIONS {
            let done = tx
                .query_opt(
                    "SELECT 1 FROM schema_migrations WHERE version = $1",
                    &[version],
                )
                .await?;
            if done.is_none() {
                tx.batch_execute(sql).await?;
                tx.execute(
                    "INSERT INTO schema_migrations (version) VALUES ($1)",
                    &[version],
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Succeeds when the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.client().await?.simple_query("SELECT 1").await?;
        Ok(())
    }
}
