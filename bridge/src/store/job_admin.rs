//! Looking at jobs and re-queueing them: `stagesub-bridge jobs list | retry`, and the admin's
//! notices about a publish job that keeps failing.

use tokio_postgres::{GenericClient, Row};

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for its next attempt (which may be now).
    Pending,
    /// Given up on; `parked_reason` says why.
    Parked,
    /// Finished.
    Done,
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Pending => "pending",
            Self::Parked => "parked",
            Self::Done => "done",
        })
    }
}

/// One job as an operator sees it. Times are UTC, ISO 8601.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    /// Row id (what `jobs retry <id>` takes).
    pub id: i64,
    /// Stored kind.
    pub kind: String,
    /// Event id, subdomain or report id.
    pub subject: String,
    /// Pending, parked or done.
    pub state: JobState,
    /// Attempts made.
    pub attempts: i32,
    /// When the next attempt is due (pending jobs).
    pub run_at: String,
    /// First failed attempt of the current streak.
    pub failing_since: Option<String>,
    /// Last error, or the reason it was parked.
    pub last_error: Option<String>,
    /// When the job was created.
    pub created_at: String,
}

/// Which jobs to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobFilter {
    /// Pending and parked jobs.
    Open,
    /// Parked jobs only.
    Parked,
    /// Every job, done ones included.
    All,
}

const COLUMNS: &str = "id, kind, subject,
    CASE WHEN done_at IS NOT NULL THEN 'done' WHEN parked_reason IS NOT NULL THEN 'parked'
         ELSE 'pending' END AS state,
    attempts,
    to_char(run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS run_at_utc,
    to_char(failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS failing_since_utc,
    COALESCE(parked_reason, last_error) AS error,
    to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS created_at_utc";

fn job_row(r: &Row) -> JobRow {
    JobRow {
        id: r.get(0),
        kind: r.get(1),
        subject: r.get(2),
        state: match r.get::<_, &str>(3) {
            "done" => JobState::Done,
            "parked" => JobState::Parked,
            _ => JobState::Pending,
        },
        attempts: r.get(4),
        run_at: r.get(5),
        failing_since: r.get(6),
        last_error: r.get(7),
        created_at: r.get(8),
    }
}

/// The newest `limit` jobs matching `filter`, oldest first.
pub async fn list_jobs(
    db: &impl GenericClient,
    filter: JobFilter,
    limit: i64,
) -> Result<Vec<JobRow>, tokio_postgres::Error> {
    let condition = match filter {
        JobFilter::Open => "done_at IS NULL",
        JobFilter::Parked => "done_at IS NULL AND parked_reason IS NOT NULL",
        JobFilter::All => "true",
    };
    let sql = format!(
        "SELECT * FROM (SELECT {COLUMNS} FROM jobs WHERE {condition} ORDER BY id DESC LIMIT $1) j
         ORDER BY id"
    );
    let rows = db.query(&sql, &[&limit]).await?;
    Ok(rows.iter().map(job_row).collect())
}

/// One job, if it exists.
pub async fn job(
    db: &impl GenericClient,
    id: i64,
) -> Result<Option<JobRow>, tokio_postgres::Error> {
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
    Ok(db.query_opt(&sql, &[&id]).await?.map(|r| job_row(&r)))
}

const REQUEUE: &str = "parked_reason = NULL, parked_at = NULL, failing_since = NULL,
    alerted_at = NULL, attempts = 0, run_at = now()";

/// Makes a pending or parked job due now, with a fresh retry window. `None` when there is no such
/// job; a done job is returned unchanged (state `Done`).
pub async fn requeue_job(
    db: &impl GenericClient,
    id: i64,
) -> Result<Option<JobRow>, tokio_postgres::Error> {
    let sql = format!("UPDATE jobs SET {REQUEUE} WHERE id = $1 AND done_at IS NULL");
    db.execute(&sql, &[&id]).await?;
    job(db, id).await
}

/// Makes every parked job due now, with a fresh retry window; returns them.
pub async fn requeue_parked_jobs(
    db: &impl GenericClient,
) -> Result<Vec<JobRow>, tokio_postgres::Error> {
    let sql = format!(
        "UPDATE jobs SET {REQUEUE} WHERE done_at IS NULL AND parked_reason IS NOT NULL RETURNING id"
    );
    let ids: Vec<i64> = db
        .query(&sql, &[])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = ANY($1) ORDER BY id");
    Ok(db.query(&sql, &[&ids]).await?.iter().map(job_row).collect())
}
