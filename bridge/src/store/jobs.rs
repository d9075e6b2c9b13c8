//! The job queue: rows claimed with `FOR UPDATE SKIP LOCKED` inside the transaction that does the work,
//! so a crashed worker's claims are released by Postgres and several replicas never run one job twice
//! at the same time.

use std::time::Duration;

use tokio_postgres::GenericClient;

/// What a job does; its subject says what it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Handle a Stripe event (subject: event id).
    Event,
    /// Render and publish a tenant file (subject: subdomain).
    Publish,
    /// Send the welcome email once (subject: subdomain).
    Welcome,
    /// Tell the admin about a held or invalid request (subject: event id).
    AdminEvent,
    /// Tell the admin that provisioning failed (subject: failure report id).
    AdminFailure,
}

impl JobKind {
    /// The name stored in `jobs.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Event => "event",
            Self::Publish => "publish",
            Self::Welcome => "welcome",
            Self::AdminEvent => "admin_event",
            Self::AdminFailure => "admin_failure",
        }
    }

    /// Parses a stored kind.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Event,
            Self::Publish,
            Self::Welcome,
            Self::AdminEvent,
            Self::AdminFailure,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Row id.
    pub id: i64,
    /// Stored kind (unknown kinds are parked).
    pub kind: String,
    /// Event id, subdomain or report id.
    pub subject: String,
    /// Attempts before this one.
    pub attempts: i32,
}

/// Adds a job, due now.
pub async fn enqueue(
    db: &impl GenericClient,
    kind: JobKind,
    subject: &str,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "INSERT INTO jobs (kind, subject) VALUES ($1, $2)",
        &[&kind.as_str(), &subject],
    )
    .await?;
    Ok(())
}

/// Claims the next due job; the claim lasts as long as the transaction `db` is open.
pub(crate) async fn claim(db: &impl GenericClient) -> Result<Option<Job>, tokio_postgres::Error> {
    let row = db
        .query_opt(
            "SELECT id, kind, subject, attempts FROM jobs
             WHERE done_at IS NULL AND parked_reason IS NULL AND run_at <= now()
             ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
            &[],
        )
        .await?;
    Ok(row.map(|r| Job {
        id: r.get(0),
        kind: r.get(1),
        subject: r.get(2),
        attempts: r.get(3),
    }))
}

/// Marks a job done.
pub(crate) async fn complete(
    db: &impl GenericClient,
    id: i64,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "UPDATE jobs SET done_at = now(), attempts = attempts + 1 WHERE id = $1",
        &[&id],
    )
    .await?;
    Ok(())
}

/// Parks a job: it stays in the table with the reason and is not retried.
pub(crate) async fn park(
    db: &impl GenericClient,
    id: i64,
    reason: &str,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "UPDATE jobs SET parked_reason = $2, last_error = $2, attempts = attempts + 1 WHERE id = $1",
        &[&id, &reason],
    )
    .await?;
    Ok(())
}

/// Schedules another attempt after `delay`.
pub(crate) async fn retry_later(
    db: &impl GenericClient,
    id: i64,
    delay: Duration,
    error: &str,
) -> Result<(), tokio_postgres::Error> {
    let millis = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
    db.execute(
        "UPDATE jobs SET attempts = attempts + 1, last_error = $3,
                run_at = now() + make_interval(secs => $2::bigint / 1000.0)
         WHERE id = $1",
        &[&id, &millis, &error],
    )
    .await?;
    Ok(())
}
