//! The worker: claims due jobs, runs them, and records the result in the same transaction.
//!
//! A job row is locked with `FOR UPDATE SKIP LOCKED` for as long as its transaction is open, so replicas
//! share the queue and a killed worker's jobs become claimable again as soon as its connection drops.
//! The handler's writes happen under a savepoint: on failure they are rolled back and only the retry or
//! park is recorded. Transient failures retry with jittered exponential back-off (honouring a server's
//! requested wait); permanent ones park the job with the reason.

mod events;
mod notices;
mod publish;

use std::sync::Arc;
use std::time::Duration;

use stagesub_gitops::{PublishError, Publisher};
use tokio::sync::Notify;
use tokio_postgres::Transaction;
use tokio_util::sync::CancellationToken;

use crate::mail::Mailer;
use crate::store::{Job, JobKind, Store, StoreError};

/// After this many attempts a transiently failing job is parked.
pub const MAX_ATTEMPTS: i32 = 25;
/// Upper bound of the back-off between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// How often an idle worker looks for due jobs (it is also woken by new events in this process).
const IDLE_POLL: Duration = Duration::from_millis(500);

/// What the worker needs besides the store.
#[derive(Debug, Clone)]
pub struct WorkerContext {
    /// Writes tenant files.
    pub publisher: Arc<dyn Publisher>,
    /// Sends mail; `None` parks mail jobs with a reason.
    pub mailer: Option<Mailer>,
    /// `TENANTS_DIR`.
    pub tenants_dir: String,
    /// `TENANT_MODULE_SOURCE`.
    pub module_source: String,
    /// `APP_DOMAIN`, for login URLs.
    pub app_domain: String,
}

/// How a job ended, when it did not fail.
#[derive(Debug)]
enum Outcome {
    Done,
    /// Recorded and not retried (e.g. invalid metadata); the handler's writes are kept.
    Parked(String),
}

/// Why a job failed; its writes are rolled back.
#[derive(Debug)]
enum JobError {
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    Permanent(String),
}

impl From<tokio_postgres::Error> for JobError {
    fn from(e: tokio_postgres::Error) -> Self {
        JobError::Transient {
            message: format!("database: {e}"),
            retry_after: None,
        }
    }
}

impl From<PublishError> for JobError {
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::Transient {
                message,
                retry_after,
            } => JobError::Transient {
                message,
                retry_after,
            },
            PublishError::Permanent(message) => JobError::Permanent(message),
        }
    }
}

/// Runs `concurrency` job loops until `cancel` fires; in-flight jobs finish (or their transaction is
/// dropped, which releases them) before this returns.
pub async fn run(
    store: Store,
    ctx: WorkerContext,
    concurrency: usize,
    wake: Arc<Notify>,
    cancel: CancellationToken,
) {
    let ctx = Arc::new(ctx);
    let mut loops = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        loops.spawn(job_loop(
            store.clone(),
            ctx.clone(),
            wake.clone(),
            cancel.clone(),
        ));
    }
    while loops.join_next().await.is_some() {}
}

async fn job_loop(
    store: Store,
    ctx: Arc<WorkerContext>,
    wake: Arc<Notify>,
    cancel: CancellationToken,
) {
    while !cancel.is_cancelled() {
        // Each job in its own task: a panic in a handler rolls back its transaction (the job stays
        // due) and costs this loop a pause, not its life.
        let (s, c) = (store.clone(), ctx.clone());
        let idle = match tokio::spawn(async move { run_one(&s, &c).await }).await {
            Ok(Ok(ran)) => !ran,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "worker cannot reach the database; retrying");
                true
            }
            Err(e) => {
                tracing::error!(error = %e, "a job handler panicked; its job will be retried");
                tokio::time::sleep(Duration::from_secs(1)).await;
                true
            }
        };
        if idle {
            tokio::select! {
                () = cancel.cancelled() => {}
                () = wake.notified() => {}
                () = tokio::time::sleep(IDLE_POLL) => {}
            }
        }
    }
}

/// Claims and runs one due job; false when none was due.
pub async fn run_one(store: &Store, ctx: &WorkerContext) -> Result<bool, StoreError> {
    let mut client = store.client().await?;
    let mut tx = client.transaction().await?;
    let Some(job) = crate::store::claim_job(&*tx).await? else {
        return Ok(false);
    };
    let savepoint = tx.savepoint("job").await?;
    let result = handle(&savepoint, ctx, &job).await;
    match result {
        Ok(outcome) => {
            savepoint.commit().await?;
            match outcome {
                Outcome::Done => crate::store::complete_job(&*tx, job.id).await?,
                Outcome::Parked(reason) => {
                    tracing::warn!(job = job.id, kind = %job.kind, subject = %job.subject, %reason, "job parked");
                    crate::store::park_job(&*tx, job.id, &reason).await?;
                }
            }
        }
        Err(error) => {
            // Keep the transaction usable for the bookkeeping below.
            let _ = savepoint.rollback().await;
            record_failure(&tx, &job, error).await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

async fn record_failure(
    tx: &Transaction<'_>,
    job: &Job,
    error: JobError,
) -> Result<(), tokio_postgres::Error> {
    match error {
        JobError::Permanent(reason) => {
            tracing::error!(job = job.id, kind = %job.kind, subject = %job.subject, %reason, "job failed permanently; parked");
            crate::store::park_job(tx, job.id, &reason).await
        }
        JobError::Transient {
            message,
            retry_after,
        } => {
            let attempts = job.attempts + 1;
            if attempts >= MAX_ATTEMPTS {
                let reason = format!("gave up after {attempts} attempts: {message}");
                tracing::error!(job = job.id, kind = %job.kind, subject = %job.subject, %reason, "job parked");
                return crate::store::park_job(tx, job.id, &reason).await;
            }
            let delay = backoff(attempts).max(retry_after.unwrap_or_default());
            tracing::warn!(job = job.id, kind = %job.kind, subject = %job.subject, %message, ?delay, "job will retry");
            crate::store::retry_job_later(tx, job.id, delay, &message).await
        }
    }
}

/// Exponential back-off from 1 s, doubled per attempt, capped at an hour, with ±50 % jitter so that
/// replicas do not retry in lockstep.
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(0, 20) as u32;
    let base = Duration::from_secs(1)
        .saturating_mul(2u32.saturating_pow(exp))
        .min(MAX_BACKOFF);
    base.mul_f64(0.5 + fastrand::f64())
}

async fn handle(db: &Transaction<'_>, ctx: &WorkerContext, job: &Job) -> Result<Outcome, JobError> {
    match JobKind::parse(&job.kind) {
        Some(JobKind::Event) => events::handle_event(db, &job.subject).await,
        Some(JobKind::Publish) => publish::publish_tenant(db, ctx, &job.subject).await,
        Some(JobKind::Welcome) => notices::send_welcome(db, ctx, &job.subject).await,
        Some(JobKind::AdminEvent) => notices::tell_admin_about_event(db, ctx, &job.subject).await,
        Some(JobKind::AdminFailure) => {
            notices::tell_admin_about_failure(db, ctx, &job.subject).await
        }
        None => Ok(Outcome::Parked(format!("unknown job kind {:?}", job.kind))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        for attempts in 0..30 {
            let base = Duration::from_secs(1)
                .saturating_mul(2u32.saturating_pow(attempts.min(20) as u32))
                .min(MAX_BACKOFF);
            for _ in 0..50 {
                let d = backoff(attempts);
                assert!(
                    d >= base.mul_f64(0.5) && d <= base.mul_f64(1.5),
                    "{attempts}: {d:?}"
                );
            }
        }
        assert!(backoff(100) <= MAX_BACKOFF.mul_f64(1.5));
    }
}
