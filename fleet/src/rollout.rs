//! The rollout loop, the same for both modes: canaries first (any failure stops the run before
//! the batches), then batches with at most `parallel` tenants at once, new starts paced by
//! `start_interval`, and a stop once failures pass `max_failures`. Every finished tenant is
//! written to the progress file before the next one is counted, so a killed run loses at most
//! the tenants in flight, which the re-run applies again (both modes are idempotent).

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::error::Result;
use crate::progress::Progress;
use crate::record::{Outcome, RunRecord, TenantRecord, now_secs};
use crate::report::{Counts, Report, TenantReport};

/// What one tenant's attempt returns: a short description of what it did, or the error
/// (already redacted).
pub type TenantResult = std::result::Result<Option<String>, String>;

/// Applies the change to one tenant. Implemented by the two modes.
pub trait Executor: Send + Sync + 'static {
    /// Applies the change to `subdomain`.
    fn apply(
        self: Arc<Self>,
        subdomain: String,
    ) -> Pin<Box<dyn Future<Output = TenantResult> + Send>>;
}

/// Who runs and in what order.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// The canary set, run first.
    pub canaries: Vec<String>,
    /// The batches after the canaries.
    pub batches: Vec<Vec<String>>,
    /// Tenants not run, with the reason (reported as skipped).
    pub skipped: Vec<(String, String)>,
}

/// How the loop runs.
#[derive(Debug, Clone)]
pub struct RolloutOptions {
    /// At most this many tenants at once.
    pub parallel: usize,
    /// Stop once more than this many tenants failed.
    pub max_failures: usize,
    /// At least this long between two starts (pacing), if set.
    pub start_interval: Option<Duration>,
    /// Run tenants that failed earlier in this run again.
    pub retry_failed: bool,
    /// The progress file.
    pub state_file: PathBuf,
    /// What the report covers (`1/1`, `2/4`, `canary`).
    pub scope: String,
    /// No progress line.
    pub quiet: bool,
}

struct Loop<'a, E> {
    executor: Arc<E>,
    options: &'a RolloutOptions,
    record: RunRecord,
    lines: Vec<TenantReport>,
    failures: usize,
    stopped: Option<String>,
    progress: Progress,
    stop: watch::Receiver<bool>,
    next_start: Instant,
}

/// Runs `selection` with `executor`, continuing `record`; returns the report. `stop` turning
/// true (a signal) stops new starts and lets the ones in flight finish.
pub async fn run<E: Executor>(
    executor: Arc<E>,
    selection: Selection,
    record: RunRecord,
    options: &RolloutOptions,
    stop: watch::Receiver<bool>,
) -> Result<Report> {
    let started = Instant::now();
    let all = selection
        .canaries
        .iter()
        .chain(selection.batches.iter().flatten());
    let earlier_failures = all
        .clone()
        .filter(|s| {
            !record.pending(s, options.retry_failed)
                && record.tenants.get(*s).map(|t| t.outcome) == Some(Outcome::Failed)
        })
        .count();
    let to_run = all
        .filter(|s| record.pending(s, options.retry_failed))
        .count();
    let mut state = Loop {
        executor,
        options,
        record,
        lines: Vec::new(),
        failures: earlier_failures,
        stopped: None,
        progress: Progress::new(to_run, options.quiet),
        stop,
        next_start: Instant::now(),
    };
    if earlier_failures > options.max_failures {
        state.stopped = Some(format!(
            "{earlier_failures} tenants failed earlier in this run, more than --max-failures \
             {}; pass --retry-failed to try them again",
            options.max_failures
        ));
    }
    state.record.begin(&options.state_file)?;
    let canary_count = selection.canaries.len();
    state.phase("canary", &selection.canaries, true).await?;
    if state.stopped.is_none() && canary_count > 0 {
        let failed: Vec<&str> = state
            .lines
            .iter()
            .filter(|l| l.phase == "canary" && l.outcome == Outcome::Failed)
            .map(|l| l.subdomain.as_str())
            .collect();
        if !failed.is_empty() {
            state.stopped = Some(format!(
                "canary failed ({}); no batch was started",
                failed.join(", ")
            ));
        }
    }
    for (index, batch) in selection.batches.iter().enumerate() {
        state
            .phase(&format!("batch {}", index + 1), batch, false)
            .await?;
    }
    for (subdomain, reason) in selection.skipped {
        state.lines.push(TenantReport {
            subdomain,
            outcome: Outcome::Skipped,
            duration_ms: 0,
            error: None,
            detail: Some(reason),
            phase: "-".into(),
        });
    }
    state.progress.print(true);
    if let Some(reason) = &state.stopped {
        state.progress.note(&format!("fleet: stopped: {reason}"));
    }
    let mut report = Report {
        run_id: state.record.run_id.clone(),
        mode: state.record.mode.clone(),
        scope: options.scope.clone(),
        wall_ms: started.elapsed().as_millis() as u64,
        stopped: state.stopped,
        counts: Counts::default(),
        p50_ms: 0,
        p99_ms: 0,
        tenants: state.lines,
    };
    report.finish();
    Ok(report)
}

impl<E: Executor> Loop<'_, E> {
    fn should_stop(&mut self, canary: bool) -> bool {
        if self.stopped.is_none() && *self.stop.borrow() {
            self.stopped = Some("interrupted; run again with the same --run-id to resume".into());
        }
        if self.stopped.is_none() && canary && self.failures > 0 {
            // Canaries fail fast: the rest of the set is not started either.
            return true;
        }
        if self.stopped.is_none() && self.failures > self.options.max_failures {
            self.stopped = Some(format!(
                "{} tenants failed, more than --max-failures {}",
                self.failures, self.options.max_failures
            ));
        }
        self.stopped.is_some()
    }

    async fn phase(&mut self, phase: &str, tenants: &[String], canary: bool) -> Result<()> {
        let mut running: JoinSet<(String, u64, TenantResult)> = JoinSet::new();
        for subdomain in tenants {
            if !self.record.pending(subdomain, self.options.retry_failed) {
                self.earlier(phase, subdomain);
                continue;
            }
            while running.len() >= self.options.parallel.max(1) {
                self.collect(&mut running, phase).await?;
            }
            if self.should_stop(canary) || !self.pace().await {
                self.not_started(phase, subdomain);
                continue;
            }
            let executor = Arc::clone(&self.executor);
            let name = subdomain.clone();
            running.spawn(async move {
                let at = Instant::now();
                let result = executor.apply(name.clone()).await;
                (name, at.elapsed().as_millis() as u64, result)
            });
        }
        while !running.is_empty() {
            self.collect(&mut running, phase).await?;
        }
        Ok(())
    }

    /// Waits for the next start slot; false when a stop came first.
    async fn pace(&mut self) -> bool {
        let Some(interval) = self.options.start_interval else {
            return true;
        };
        let at = self.next_start;
        let wait = tokio::time::sleep_until(at.into());
        let stopped = async {
            let _ = self.stop.wait_for(|s| *s).await;
        };
        tokio::select! {
            () = wait => {}
            () = stopped => return false,
        }
        self.next_start = Instant::now().max(at) + interval;
        true
    }

    async fn collect(
        &mut self,
        running: &mut JoinSet<(String, u64, TenantResult)>,
        phase: &str,
    ) -> Result<()> {
        let Some(joined) = running.join_next().await else {
            return Ok(());
        };
        let (subdomain, duration_ms, result) = joined.unwrap_or_else(|e| {
            (
                "(unknown)".into(),
                0,
                Err(format!("the tenant's task ended abnormally: {e}")),
            )
        });
        let ok = result.is_ok();
        let (outcome, detail, error) = match result {
            Ok(detail) => (Outcome::Applied, detail, None),
            Err(error) => (Outcome::Failed, None, Some(error)),
        };
        if !ok {
            self.failures += 1;
        }
        let attempts = self
            .record
            .tenants
            .get(&subdomain)
            .map_or(1, |t| t.attempts + 1);
        self.record.append(
            &self.options.state_file,
            &subdomain,
            TenantRecord {
                outcome,
                duration_ms,
                error: error.clone(),
                detail: detail.clone(),
                finished_at: now_secs(),
                attempts,
            },
        )?;
        if let Some(e) = &error {
            self.progress
                .note(&format!("fleet: {subdomain} failed ({phase}): {e}"));
        }
        self.lines.push(TenantReport {
            subdomain,
            outcome,
            duration_ms,
            error,
            detail,
            phase: phase.to_owned(),
        });
        self.progress.finished(ok);
        Ok(())
    }

    fn earlier(&mut self, phase: &str, subdomain: &str) {
        let Some(done) = self.record.tenants.get(subdomain) else {
            return;
        };
        let detail = match done.outcome {
            Outcome::Applied => "applied by an earlier invocation of this run".to_owned(),
            _ => "failed in an earlier invocation of this run (--retry-failed runs it again)"
                .to_owned(),
        };
        self.lines.push(TenantReport {
            subdomain: subdomain.to_owned(),
            outcome: done.outcome,
            duration_ms: done.duration_ms,
            error: done.error.clone(),
            detail: Some(match &done.detail {
                Some(d) => format!("{detail}: {d}"),
                None => detail,
            }),
            phase: phase.to_owned(),
        });
    }

    fn not_started(&mut self, phase: &str, subdomain: &str) {
        self.lines.push(TenantReport {
            subdomain: subdomain.to_owned(),
            outcome: Outcome::NotStarted,
            duration_ms: 0,
            error: None,
            detail: None,
            phase: phase.to_owned(),
        });
    }
}
