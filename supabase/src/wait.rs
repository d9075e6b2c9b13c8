//! Waiting for a project to become healthy, reach a status, or disappear.

use std::time::Duration;

use tokio::time::Instant;

use crate::backoff::BackoffPolicy;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::project::Project;
use crate::settings::ServiceHealth;
use crate::status::{ProjectStatus, ServiceStatus};

/// Services that must be healthy before a project is usable: Postgres and the pooler through
/// which CI reaches it.
pub const REQUIRED_SERVICES: [&str; 2] = ["db", "pooler"];

/// Polls in a row that may read `INACTIVE` before [`Client::wait_until_healthy`] gives up: right
/// after a restore request the status may not have flipped to `RESTORING` yet.
pub const INACTIVE_GRACE_POLLS: u32 = 3;

impl Client {
    /// Polls until the project is `ACTIVE_HEALTHY` and its `db` and `pooler` services both
    /// report `ACTIVE_HEALTHY`.
    ///
    /// Keeps polling on transitional statuses, on a 404 right after creation, on the pooler's
    /// early `UNHEALTHY`/`not found`, and on transient API errors; fails at once with the
    /// status name on terminal ones (`INIT_FAILED`, `REMOVED`, …; `INACTIVE` after
    /// [`INACTIVE_GRACE_POLLS`] polls in a row); at `deadline` (a `std` or `tokio` instant)
    /// fails with the last status seen.
    pub async fn wait_until_healthy(
        &self,
        project_ref: &str,
        deadline: impl Into<Instant>,
        poll: BackoffPolicy,
    ) -> Result<Project> {
        const WAITING_FOR: &str = "ACTIVE_HEALTHY with healthy db and pooler";
        let deadline = deadline.into();
        let started = Instant::now();
        let mut last_seen = String::from("nothing yet");
        let mut attempt = 0;
        let mut inactive_polls = 0;
        loop {
            let polled = tokio::time::timeout_at(deadline, async {
                let Some(project) = self.get_project(project_ref).await? else {
                    return Ok(Poll::NotFound);
                };
                if project.status != ProjectStatus::ActiveHealthy {
                    return Ok(Poll::Status(project));
                }
                let health = self.project_health(project_ref, &REQUIRED_SERVICES).await?;
                Ok::<_, Error>(Poll::Health(project, health))
            })
            .await;
            match polled {
                Err(_elapsed) => {}
                Ok(Ok(Poll::NotFound)) => last_seen = "not found (404)".into(),
                Ok(Ok(Poll::Status(project))) => {
                    inactive_polls = match project.status {
                        ProjectStatus::Inactive => inactive_polls + 1,
                        _ => 0,
                    };
                    let grace = project.status == ProjectStatus::Inactive
                        && inactive_polls < INACTIVE_GRACE_POLLS;
                    if project.status.is_terminal_failure() && !grace {
                        return Err(Error::ProjectFailed {
                            project_ref: project_ref.to_owned(),
                            status: project.status.to_string(),
                            waiting_for: WAITING_FOR.into(),
                        });
                    }
                    last_seen = project.status.to_string();
                }
                Ok(Ok(Poll::Health(project, health))) => {
                    if all_healthy(&health) {
                        return Ok(project);
                    }
                    last_seen = format!("ACTIVE_HEALTHY; {}", describe_health(&health));
                }
                Ok(Err(e)) if e.is_transient() || e.is_not_found() => {
                    last_seen = format!("error: {e}");
                }
                Ok(Err(e)) => return Err(e),
            }
            tracing::debug!(project_ref, %last_seen, "waiting for project to be healthy");
            if !self.sleep_before(deadline, &poll, attempt).await {
                return Err(timeout(project_ref, WAITING_FOR, last_seen, started));
            }
            attempt += 1;
        }
    }

    /// Polls until the project's status is `target` (e.g. `INACTIVE` after pause,
    /// `ACTIVE_HEALTHY` after restore). Fails at once on a failed status (`*_FAILED`,
    /// `REMOVED`) or when the project is gone; polls with the client's `poll` policy.
    pub async fn wait_until_status(
        &self,
        project_ref: &str,
        target: ProjectStatus,
        deadline: impl Into<Instant>,
    ) -> Result<Project> {
        let deadline = deadline.into();
        let waiting_for = target.to_string();
        let poll = self.inner.poll.clone();
        let started = Instant::now();
        let mut last_seen = String::from("nothing yet");
        let mut attempt = 0;
        loop {
            match tokio::time::timeout_at(deadline, self.get_project(project_ref)).await {
                Err(_elapsed) => {}
                Ok(Ok(Some(project))) => {
                    if project.status == target {
                        return Ok(project);
                    }
                    if project.status.is_failed() {
                        return Err(Error::ProjectFailed {
                            project_ref: project_ref.to_owned(),
                            status: project.status.to_string(),
                            waiting_for,
                        });
                    }
                    last_seen = project.status.to_string();
                }
                Ok(Ok(None)) => {
                    return Err(Error::ProjectFailed {
                        project_ref: project_ref.to_owned(),
                        status: "not found (deleted)".into(),
                        waiting_for,
                    });
                }
                Ok(Err(e)) if e.is_transient() => last_seen = format!("error: {e}"),
                Ok(Err(e)) => return Err(e),
            }
            if !self.sleep_before(deadline, &poll, attempt).await {
                return Err(timeout(project_ref, &waiting_for, last_seen, started));
            }
            attempt += 1;
        }
    }

    /// Polls until `GET /v1/projects/{ref}` answers 404 (or the status is `REMOVED`).
    pub async fn wait_until_gone(
        &self,
        project_ref: &str,
        deadline: impl Into<Instant>,
    ) -> Result<()> {
        let deadline = deadline.into();
        let poll = self.inner.poll.clone();
        let started = Instant::now();
        let mut last_seen = String::from("nothing yet");
        let mut attempt = 0;
        loop {
            match tokio::time::timeout_at(deadline, self.get_project(project_ref)).await {
                Err(_elapsed) => {}
                Ok(Ok(None)) => return Ok(()),
                Ok(Ok(Some(p))) if p.status == ProjectStatus::Removed => return Ok(()),
                Ok(Ok(Some(p))) => last_seen = p.status.to_string(),
                Ok(Err(e)) if e.is_transient() => last_seen = format!("error: {e}"),
                Ok(Err(e)) => return Err(e),
            }
            if !self.sleep_before(deadline, &poll, attempt).await {
                return Err(timeout(project_ref, "deleted", last_seen, started));
            }
            attempt += 1;
        }
    }

    /// Sleeps the next poll delay; false when the deadline has come (or would pass mid-sleep
    /// with no time left for a poll).
    async fn sleep_before(&self, deadline: Instant, poll: &BackoffPolicy, attempt: u32) -> bool {
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        let delay: Duration = poll.delay(attempt).min(deadline - now);
        tokio::time::sleep(delay).await;
        Instant::now() < deadline
    }
}

enum Poll {
    NotFound,
    Status(Project),
    Health(Project, Vec<ServiceHealth>),
}

fn all_healthy(health: &[ServiceHealth]) -> bool {
    REQUIRED_SERVICES.iter().all(|name| {
        health
            .iter()
            .any(|h| h.name == *name && h.status == ServiceStatus::ActiveHealthy)
    })
}

fn describe_health(health: &[ServiceHealth]) -> String {
    REQUIRED_SERVICES
        .iter()
        .map(|name| match health.iter().find(|h| h.name == *name) {
            Some(h) => match &h.error {
                Some(e) => format!("{name}: {} ({e})", h.status),
                None => format!("{name}: {}", h.status),
            },
            None => format!("{name}: not reported"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn timeout(project_ref: &str, waiting_for: &str, last_seen: String, started: Instant) -> Error {
    Error::WaitTimeout {
        project_ref: project_ref.to_owned(),
        waiting_for: waiting_for.to_owned(),
        last_seen,
        waited: started.elapsed(),
    }
}
