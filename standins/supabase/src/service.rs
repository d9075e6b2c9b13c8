//! Shared state of a running stand-in and the timed status changes of projects.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::admin::Admin;
use crate::config::Faults;
use crate::metering::{RateLimiter, Stats};
use crate::state::{Status, Store};

/// Everything the HTTP handlers share. `Debug` leaves out the token.
pub(crate) struct Shared {
    pub(crate) store: Mutex<Store>,
    pub(crate) faults: Mutex<Faults>,
    pub(crate) stats: Mutex<Stats>,
    pub(crate) limiter: Mutex<RateLimiter>,
    pub(crate) admin: Admin,
    /// The one accepted token, when configured.
    pub(crate) token: Option<String>,
    /// `database.version` in answers: the real server's version.
    pub(crate) server_version: String,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("store", &self.store)
            .field("faults", &self.faults)
            .field("admin", &self.admin)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("server_version", &self.server_version)
            .finish_non_exhaustive()
    }
}

/// Locks a mutex, ignoring poisoning: the data stays usable after a panicking handler.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    /// A snapshot of the fault knobs.
    pub(crate) fn faults(&self) -> Faults {
        lock(&self.faults).clone()
    }
}

/// Where a project coming up (or being restored) ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Healthy,
    InitFailed,
}

/// After `delay`, opens the project's database and marks it `ACTIVE_HEALTHY` (or `INIT_FAILED`), unless its
/// status changed meanwhile (`generation` no longer matches).
pub(crate) fn finish_coming_up(
    shared: Arc<Shared>,
    project_ref: String,
    generation: u64,
    delay: Duration,
    outcome: Outcome,
) {
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let Some((database, metadata_only)) = current(&shared, &project_ref, generation) else {
            return;
        };
        let mut next = match outcome {
            Outcome::Healthy => Status::ActiveHealthy,
            Outcome::InitFailed => Status::InitFailed,
        };
        if outcome == Outcome::Healthy
            && !metadata_only
            && let Err(error) = shared.admin.set_connections(&database, true).await
        {
            // A project deleted meanwhile has no database left: nothing to report then.
            if current(&shared, &project_ref, generation).is_some() {
                eprintln!("supabase-standin: project {project_ref} cannot come up: {error}");
            }
            next = Status::ActiveUnhealthy;
        }
        set_if_current(&shared, &project_ref, generation, next);
    });
}

/// After `delay`, moves a `PAUSING` project to `INACTIVE`.
pub(crate) fn finish_pausing(
    shared: Arc<Shared>,
    project_ref: String,
    generation: u64,
    delay: Duration,
) {
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        set_if_current(&shared, &project_ref, generation, Status::Inactive);
    });
}

/// The project's database name and whether it is metadata-only, if it is still at `generation`.
fn current(shared: &Shared, project_ref: &str, generation: u64) -> Option<(String, bool)> {
    let store = lock(&shared.store);
    let project = store.projects.get(project_ref)?;
    (project.generation == generation).then(|| (project.database_name(), project.metadata_only))
}

fn set_if_current(shared: &Shared, project_ref: &str, generation: u64, status: Status) {
    let mut store = lock(&shared.store);
    if let Some(project) = store.projects.get_mut(project_ref)
        && project.generation == generation
    {
        project.set_status(status);
    }
}

/// Drops the real databases and roles of all remaining projects and forgets them.
pub(crate) async fn drop_all(shared: &Shared) -> Result<(), String> {
    let projects: Vec<_> = lock(&shared.store)
        .projects
        .drain()
        .map(|(_, project)| project)
        .collect();
    let mut failures = Vec::new();
    for project in projects.iter().filter(|project| !project.metadata_only) {
        if let Err(error) = shared
            .admin
            .drop_project(&project.database_name(), &project.role_name())
            .await
        {
            failures.push(format!("{}: {error}", project.project_ref));
        }
        if let Err(error) = shared.admin.drop_login_roles_of(&project.project_ref).await {
            failures.push(format!("{} login roles: {error}", project.project_ref));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "could not drop every project database: {}",
            failures.join("; ")
        ))
    }
}
