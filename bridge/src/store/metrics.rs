//! What `/metrics` reads from the database at scrape time, and the ages observed when a tenant is
//! first committed and first ready. Every scrape query is an aggregate over an index
//! (`jobs_open`, `tenants_state`, migration 7); the caller bounds them with a timeout.

use tokio_postgres::GenericClient;

use super::reminders::pending_names;

/// Counts read at one scrape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScrapeCounts {
    /// (state, tenants) for every state that has tenants.
    pub tenants: Vec<(String, i64)>,
    /// Tenants pending (paid, no database yet: see [`super::reminders`]).
    pub pending: i64,
    /// Pending tenants older than the SLA.
    pub past_sla: i64,
    /// (kind, state, jobs) of unfinished jobs; state is `queued`, `retrying` or `parked`.
    pub jobs: Vec<(String, String, i64)>,
}

/// Reads [`ScrapeCounts`] with `sla_seconds` as the SLA.
pub async fn scrape_counts(
    db: &impl GenericClient,
    sla_seconds: f64,
) -> Result<ScrapeCounts, tokio_postgres::Error> {
    let tenants = db
        .query("SELECT state, count(*) FROM tenants GROUP BY state", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let pending = db
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE created_at <= now() - make_interval(secs => $2))
             FROM tenants WHERE state = ANY($1) AND NOT archived",
            &[&pending_names(), &sla_seconds],
        )
        .await?;
    let jobs = db
        .query(
            "SELECT kind, CASE WHEN parked_reason IS NOT NULL THEN 'parked'
                               WHEN failing_since IS NOT NULL THEN 'retrying'
                               ELSE 'queued' END,
                    count(*)
             FROM jobs WHERE done_at IS NULL GROUP BY 1, 2",
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    Ok(ScrapeCounts {
        tenants,
        pending: pending.get(0),
        past_sla: pending.get(1),
        jobs,
    })
}

/// Seconds from the payment (the Stripe event that fixed the tenant's owner) to now, when the
/// tenant has never been published; `None` otherwise. Read before recording the first commit.
pub async fn unpublished_payment_age(
    db: &impl GenericClient,
    subdomain: &str,
) -> Result<Option<f64>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            "SELECT EXTRACT(EPOCH FROM now())::float8 - owner_since FROM tenants
             WHERE subdomain = $1 AND published_at IS NULL AND owner_since IS NOT NULL",
            &[&subdomain],
        )
        .await?;
    Ok(row.map(|r| r.get::<_, f64>(0).max(0.0)))
}

/// Seconds from the tenant's payment to its `ready_at` (`None` when not ready or unknown).
pub async fn payment_to_ready(
    db: &impl GenericClient,
    subdomain: &str,
) -> Result<Option<f64>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            "SELECT EXTRACT(EPOCH FROM ready_at)::float8 - owner_since FROM tenants
             WHERE subdomain = $1 AND ready_at IS NOT NULL AND owner_since IS NOT NULL",
            &[&subdomain],
        )
        .await?;
    Ok(row.map(|r| r.get::<_, f64>(0).max(0.0)))
}
