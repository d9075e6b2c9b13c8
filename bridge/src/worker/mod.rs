//! The worker: claims due jobs, runs them, and records the result in the same transaction.
//!
//! A job row is locked with `FOR UPDATE SKIP LOCKED` for as long as its transaction is open, so replicas
//! share the queue and a killed worker's jobs become claimable again as soon as its connection drops.
//! The handler's writes happen under a savepoint: on failure they are rolled back and only the retry or
//! park is recorded. Failures that might pass retry with jittered exponential back-off (honouring a
//! server's requested wait): publish jobs for the retry window of [`RetryPolicy`], telling the admin
//! once when they keep failing and once when they park; other jobs for [`MAX_ATTEMPTS`] attempts.
//! Final failures park the job with the reason.
//!
//! Modules: `events` (what a Stripe event changes), `publish`, `notices` and `publish_notices` (mail),
//! `grace` (the archive at the end of a grace period, its notices, the welcome back), `failure`.

mod events;
mod failure;
mod grace;
mod notices;
mod publish;
mod publish_notices;
pub mod reminders;

use std::sync::Arc;
use std::time::Duration;

use stagesub_gitops::{PublishError, Publisher};
use tokio::sync::Notify;
use tokio_postgres::Transaction;
use tokio_util::sync::CancellationToken;

pub use crate::retry::{Decision, MAX_BACKOFF, RetryPolicy, backoff};

use crate::mail::Mailer;
use crate::store::{self, Job, JobKind, Store, StoreError};

/// After this many attempts a job other than a publish that keeps failing is parked.
pub const MAX_ATTEMPTS: i32 = 25;
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
    /// `PUBLISH_RETRY_WINDOW`, `PUBLISH_ALERT_AFTER`.
    pub retry: RetryPolicy,
    /// `ARCHIVE_GRACE`: from a subscription's end to the archive commit.
    pub archive_grace: Duration,
}

/// How a job ended, when it did not fail.
#[derive(Debug)]
enum Outcome {
    Done,
    /// Recorded and not retried (e.g. invalid metadata); the handler's writes are kept.
    Parked(String),
}

/// Why a job failed; its writes are rolled back.
#[derive(Debug, thiserror::Error)]
enum JobError {
    /// Might pass later: retried.
    #[error("{message}")]
    Retry {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Cannot pass by retrying: parked.
    #[error("{0}")]
    Final(String),
}

impl From<tokio_postgres::Error> for JobError {
    fn from(e: tokio_postgres::Error) -> Self {
        JobError::Retry {
            message: StoreError::Query(e).to_string(),
            retry_after: None,
        }
    }
}

impl From<PublishError> for JobError {
    /// Every publishing failure might pass: what gitops calls permanent (refused credentials, a
    /// missing repository or branch, a refusing hook) is the operator's to repair while the job
    /// waits. Tenant values are checked before publishing, and park at once when invalid.
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::Transient {
                message,
                retry_after,
            } => JobError::Retry {
                message,
                retry_after,
            },
            PublishError::Permanent(message) => JobError::Retry {
                message: format!("{message} (needs the operator)"),
                retry_after: None,
            },
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
        // due) and costs this loop a pause, not its life. Aborting this loop (the shutdown grace is
        // over) aborts the job too: its transaction is dropped and the job stays queued.
        let (s, c) = (store.clone(), ctx.clone());
        let job = AbortOnDrop(tokio::spawn(async move { run_one(&s, &c).await }));
        let idle = match job.join().await {
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

/// A task that is aborted when its handle is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> AbortOnDrop<T> {
    async fn join(mut self) -> Result<T, tokio::task::JoinError> {
        (&mut self.0).await
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Claims and runs one due job; false when none was due.
pub async fn run_one(store: &Store, ctx: &WorkerContext) -> Result<bool, StoreError> {
    let mut client = store.client().await?;
    let mut tx = client.transaction().await?;
    let Some(job) = store::claim_job(&*tx).await? else {
        return Ok(false);
    };
    let savepoint = tx.savepoint("job").await?;
    let result = handle(&savepoint, ctx, &job).await;
    match result {
        Ok(outcome) => {
            savepoint.commit().await?;
            match outcome {
                Outcome::Done => store::complete_job(&*tx, job.id).await?,
                Outcome::Parked(reason) => failure::park(&tx, &job, &reason).await?,
            }
        }
        Err(error) => {
            // Keep the transaction usable for the bookkeeping below.
            let _ = savepoint.rollback().await;
            failure::record_failure(&tx, ctx, &job, error).await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

async fn handle(db: &Transaction<'_>, ctx: &WorkerContext, job: &Job) -> Result<Outcome, JobError> {
    let subject = job.subject.as_str();
    match job.kind {
        JobKind::Event => events::handle_event(db, ctx, subject).await,
        JobKind::Publish => publish::publish_tenant(db, ctx, subject).await,
        JobKind::Welcome => notices::send_welcome(db, ctx, subject).await,
        JobKind::AdminEvent => notices::tell_admin_about_event(db, ctx, subject).await,
        JobKind::AdminFailure => notices::tell_admin_about_failure(db, ctx, subject).await,
        JobKind::AdminWelcomeHeld => notices::tell_admin_welcome_held(db, ctx, subject).await,
        JobKind::AdminPublishFailing | JobKind::AdminPublishParked => {
            publish_notices::tell_admin_about_publishing(db, ctx, job.kind, subject).await
        }
        JobKind::Archive => grace::archive(db, ctx, subject).await,
        JobKind::GraceNotice | JobKind::ArchiveNotice => {
            grace::notice(db, ctx, job.kind, subject).await
        }
        JobKind::WelcomeBack => grace::welcome_back(db, ctx, subject).await,
    }
}
