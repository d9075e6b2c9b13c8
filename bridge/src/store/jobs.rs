//! The job queue: rows claimed with `FOR UPDATE SKIP LOCKED` inside the transaction that does the work,
//! so a crashed worker's claims are released by Postgres and several replicas never run one job twice
//! at the same time.

use std::time::Duration;

use tokio_postgres::GenericClient;

/// What a job does; its subject says what it is about. Stored in `jobs.kind`, whose CHECK constraint
/// (migration 3) lists the same names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// Tell the admin that a publish job keeps failing (subject: the publish job's id).
    AdminPublishFailing,
    /// Tell the admin that a publish job was parked (subject: the publish job's id).
    AdminPublishParked,
    /// Tell the admin that a welcome is held because the tenant directory does not say `ready`
    /// (subject: the `held_welcomes` row's id).
    AdminWelcomeHeld,
    /// Make the archive commit of a tenant whose grace period is over (subject: subdomain; due at
    /// the end of the grace period).
    Archive,
    /// Tell that a grace period started (subject: `<archive_schedules id>/customer` or `/admin`).
    GraceNotice,
    /// Tell that the archive commit was made (subject as for [`JobKind::GraceNotice`]).
    ArchiveNotice,
    /// Welcome a returning customer back once CI reports the restored database ready (subject:
    /// subdomain).
    WelcomeBack,
}

impl JobKind {
    /// Every kind, in the order of the CHECK constraint.
    pub const ALL: [JobKind; 12] = [
        Self::Event,
        Self::Publish,
        Self::Welcome,
        Self::AdminEvent,
        Self::AdminFailure,
        Self::AdminPublishFailing,
        Self::AdminPublishParked,
        Self::AdminWelcomeHeld,
        Self::Archive,
        Self::GraceNotice,
        Self::ArchiveNotice,
        Self::WelcomeBack,
    ];

    /// The name stored in `jobs.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Event => "event",
            Self::Publish => "publish",
            Self::Welcome => "welcome",
            Self::AdminEvent => "admin_event",
            Self::AdminFailure => "admin_failure",
            Self::AdminPublishFailing => "admin_publish_failing",
            Self::AdminPublishParked => "admin_publish_parked",
            Self::AdminWelcomeHeld => "admin_welcome_held",
            Self::Archive => "archive",
            Self::GraceNotice => "grace_notice",
            Self::ArchiveNotice => "archive_notice",
            Self::WelcomeBack => "welcome_back",
        }
    }

    /// Parses a stored kind.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for JobKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A claimed job.
#[derive(Debug, Clone)]
pub struct Job {
    /// Row id.
    pub id: i64,
    /// What to do.
    pub kind: JobKind,
    /// Event id, subdomain or report id.
    pub subject: String,
    /// Attempts before this one.
    pub attempts: i32,
    /// How long the job has been failing (since its first failed attempt), if it has failed.
    pub failing_for: Option<Duration>,
    /// Whether the admin was already told that it keeps failing.
    pub alerted: bool,
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

/// Claims the next due job; the claim lasts as long as the transaction `db` is open. Only kinds this
/// binary knows are claimed, so a replica of an older version leaves newer kinds to newer replicas.
pub(crate) async fn claim(db: &impl GenericClient) -> Result<Option<Job>, tokio_postgres::Error> {
    let known: Vec<&str> = JobKind::ALL.iter().map(|k| k.as_str()).collect();
    let row = db
        .query_opt(
            "SELECT id, kind, subject, attempts,
                    EXTRACT(EPOCH FROM now() - failing_since)::float8, alerted_at IS NOT NULL
             FROM jobs
             WHERE done_at IS NULL AND parked_reason IS NULL AND run_at <= now() AND kind = ANY($1)
             ORDER BY run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
            &[&known],
        )
        .await?;
    Ok(row.and_then(|r| {
        let failing_for: Option<f64> = r.get(4);
        Some(Job {
            id: r.get(0),
            kind: JobKind::parse(r.get(1))?,
            subject: r.get(2),
            attempts: r.get(3),
            failing_for: failing_for.map(|s| Duration::from_secs_f64(s.max(0.0))),
            alerted: r.get(5),
        })
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

/// Parks a job: it stays in the table with the reason and is not retried until someone runs
/// `stagesub-bridge jobs retry`.
pub(crate) async fn park(
    db: &impl GenericClient,
    id: i64,
    reason: &str,
) -> Result<(), tokio_postgres::Error> {
    db.execute(
        "UPDATE jobs SET parked_reason = $2, last_error = $2, parked_at = now(),
                attempts = attempts + 1
         WHERE id = $1",
        &[&id, &reason],
    )
    .await?;
    Ok(())
}

/// Schedules another attempt after `delay`; the first failure starts the job's failing streak.
pub(crate) async fn retry_later(
    db: &impl GenericClient,
    id: i64,
    delay: Duration,
    error: &str,
) -> Result<(), tokio_postgres::Error> {
    let millis = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
    db.execute(
        "UPDATE jobs SET attempts = attempts + 1, last_error = $3,
                failing_since = COALESCE(failing_since, now()),
                run_at = now() + make_interval(secs => $2::bigint / 1000.0)
         WHERE id = $1",
        &[&id, &millis, &error],
    )
    .await?;
    Ok(())
}

/// Records that the admin is being told about the job; false when that was already done, so the
/// notice is queued at most once per failing streak.
pub(crate) async fn mark_alerted(
    db: &impl GenericClient,
    id: i64,
) -> Result<bool, tokio_postgres::Error> {
    let n = db
        .execute(
            "UPDATE jobs SET alerted_at = now() WHERE id = $1 AND alerted_at IS NULL",
            &[&id],
        )
        .await?;
    Ok(n == 1)
}
