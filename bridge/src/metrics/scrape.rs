//! The gauges read from the database at each scrape: tenants by state, pending and past-SLA
//! tenants, unfinished jobs by kind and state, and whether the database answered.
//!
//! The read is one read-only transaction with a statement timeout, itself under [`SCRAPE_TIMEOUT`]
//! (which also covers waiting for a connection): a slow or unreachable database makes the scrape
//! answer in time with `stagesub_metrics_database_up 0` and without the database's series, so
//! alerts on them see no data rather than stale numbers.

use std::time::Duration;

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::store::metrics::{ScrapeCounts, scrape_counts};
use crate::store::{JobKind, Store, StoreError, TenantState};

/// The longest a scrape waits for the database.
pub const SCRAPE_TIMEOUT: Duration = Duration::from_secs(3);

/// Job states reported by `stagesub_jobs`.
pub const JOB_STATES: [&str; 3] = ["queued", "retrying", "parked"];

type Owned1 = [(&'static str, String); 1];
type Owned2 = [(&'static str, String); 2];

/// Gauges refreshed from the database at scrape time.
#[derive(Debug, Default)]
pub(crate) struct DatabaseGauges {
    tenants: Family<Owned1, Gauge>,
    pending: Family<[(&'static str, &'static str); 0], Gauge>,
    past_sla: Family<[(&'static str, &'static str); 0], Gauge>,
    jobs: Family<Owned2, Gauge>,
    up: Gauge,
    /// One refresh-and-encode at a time, so concurrent scrapes never see a half-written set.
    pub(crate) lock: tokio::sync::Mutex<()>,
}

impl DatabaseGauges {
    pub(crate) fn register(&self, r: &mut Registry) {
        r.register(
            "tenants",
            "Tenants by state (publishing, published, ready, failed), read from the database",
            self.tenants.clone(),
        );
        r.register(
            "tenants_pending",
            "Tenants paid for without a database yet (publishing, published or failed; not archived)",
            self.pending.clone(),
        );
        r.register(
            "tenants_past_sla",
            "Pending tenants older than PROVISION_SLA",
            self.past_sla.clone(),
        );
        r.register(
            "jobs",
            "Unfinished worker jobs by kind and state (queued, retrying, parked)",
            self.jobs.clone(),
        );
        r.register(
            "metrics_database_up",
            "1 when the last scrape could read the database within its timeout, else 0",
            self.up.clone(),
        );
    }

    /// Reads the database and sets the gauges; on failure or timeout, drops the database's series
    /// and sets `up` to 0. Returns whether the database answered.
    pub(crate) async fn refresh(&self, store: &Store, sla: Duration) -> bool {
        let read = tokio::time::timeout(SCRAPE_TIMEOUT, read(store, sla)).await;
        for family in [&self.pending, &self.past_sla] {
            family.clear();
        }
        self.tenants.clear();
        self.jobs.clear();
        let counts = match read {
            Ok(Ok(counts)) => counts,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "metrics: cannot read the database");
                self.up.set(0);
                return false;
            }
            Err(_) => {
                tracing::warn!(timeout = ?SCRAPE_TIMEOUT, "metrics: the database did not answer in time");
                self.up.set(0);
                return false;
            }
        };
        // Every known label is present (at 0), so `rate()` and alerts work from the first scrape.
        for state in TenantState::ALL {
            self.tenants
                .get_or_create(&[("state", state.to_string())])
                .set(0);
        }
        for (state, n) in counts.tenants {
            self.tenants.get_or_create(&[("state", state)]).set(n);
        }
        for kind in JobKind::ALL {
            for state in JOB_STATES {
                self.jobs
                    .get_or_create(&[("kind", kind.to_string()), ("state", state.into())])
                    .set(0);
            }
        }
        for (kind, state, n) in counts.jobs {
            self.jobs
                .get_or_create(&[("kind", kind), ("state", state)])
                .set(n);
        }
        self.pending.get_or_create(&[]).set(counts.pending);
        self.past_sla.get_or_create(&[]).set(counts.past_sla);
        self.up.set(1);
        true
    }
}

async fn read(store: &Store, sla: Duration) -> Result<ScrapeCounts, StoreError> {
    let mut client = store.client().await?;
    let tx = client.build_transaction().read_only(true).start().await?;
    let millis = SCRAPE_TIMEOUT.as_millis();
    tx.batch_execute(&format!("SET LOCAL statement_timeout = {millis}"))
        .await?;
    let counts = scrape_counts(&*tx, sla.as_secs_f64()).await?;
    tx.commit().await?;
    Ok(counts)
}
