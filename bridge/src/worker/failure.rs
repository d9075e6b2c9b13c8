//! What a failed or parked job leaves behind: the next attempt's time, the admin's notices about a
//! publish that keeps failing or was given up, or the parked reason.

use tokio_postgres::Transaction;

use super::{Decision, JobError, MAX_ATTEMPTS, MAX_BACKOFF, WorkerContext, backoff};
use crate::store::{self, Job, JobKind};

/// Parks `job`; a parked publish leaves a tenant unpublished, so the admin is told (once: the
/// notice is queued in the transaction that holds the job's row).
pub(super) async fn park(
    tx: &Transaction<'_>,
    job: &Job,
    reason: &str,
) -> Result<(), tokio_postgres::Error> {
    tracing::error!(job = job.id, kind = %job.kind, subject = %job.subject, %reason, "job parked");
    store::park_job(tx, job.id, reason).await?;
    if matches!(job.kind, JobKind::Publish | JobKind::Archive) {
        store::enqueue(tx, JobKind::AdminPublishParked, &job.id.to_string()).await?;
    }
    Ok(())
}

pub(super) async fn record_failure(
    tx: &Transaction<'_>,
    ctx: &WorkerContext,
    job: &Job,
    error: JobError,
) -> Result<(), tokio_postgres::Error> {
    let (message, retry_after) = match error {
        JobError::Final(reason) => return park(tx, job, &reason).await,
        JobError::Retry {
            message,
            retry_after,
        } => (message, retry_after),
    };
    // An archive job publishes the archived file: it waits for the remote like a publish job.
    let delay = if matches!(job.kind, JobKind::Publish | JobKind::Archive) {
        let failing_for = job.failing_for.unwrap_or_default();
        match ctx
            .retry
            .decide(failing_for, job.attempts, job.alerted, retry_after)
        {
            Decision::Park => {
                let reason = format!(
                    "gave up after {} attempts over {}: {message}",
                    job.attempts + 1,
                    crate::config::format_duration(failing_for)
                );
                return park(tx, job, &reason).await;
            }
            Decision::Retry { delay, alert } => {
                if alert && store::mark_job_alerted(tx, job.id).await? {
                    tracing::error!(job = job.id, subject = %job.subject, %message, "publishing keeps failing; telling the admin");
                    store::enqueue(tx, JobKind::AdminPublishFailing, &job.id.to_string()).await?;
                }
                delay
            }
        }
    } else {
        let attempts = job.attempts + 1;
        if attempts >= MAX_ATTEMPTS {
            let reason = format!("gave up after {attempts} attempts: {message}");
            return park(tx, job, &reason).await;
        }
        backoff(attempts, MAX_BACKOFF).max(retry_after.unwrap_or_default())
    };
    tracing::warn!(job = job.id, kind = %job.kind, subject = %job.subject, %message, ?delay, "job will retry");
    store::retry_job_later(tx, job.id, delay, &message).await
}
