//! Project metadata kept in memory; the databases themselves are real (see [`crate::admin`]).

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use serde::Serialize;

/// Lifecycle states, spelled as the Management API spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[allow(dead_code)] // the full set is parsed from `statuses` filters even if not every state is reached
pub(crate) enum Status {
    Inactive,
    ActiveHealthy,
    ActiveUnhealthy,
    ComingUp,
    Unknown,
    GoingDown,
    InitFailed,
    Removed,
    Restoring,
    Upgrading,
    Pausing,
    RestoreFailed,
    Restarting,
    PauseFailed,
    Resizing,
}

impl Status {
    /// Every state, for parsing filters.
    pub(crate) const ALL: [Status; 15] = [
        Status::Inactive,
        Status::ActiveHealthy,
        Status::ActiveUnhealthy,
        Status::ComingUp,
        Status::Unknown,
        Status::GoingDown,
        Status::InitFailed,
        Status::Removed,
        Status::Restoring,
        Status::Upgrading,
        Status::Pausing,
        Status::RestoreFailed,
        Status::Restarting,
        Status::PauseFailed,
        Status::Resizing,
    ];

    /// The API spelling, e.g. `ACTIVE_HEALTHY`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Inactive => "INACTIVE",
            Status::ActiveHealthy => "ACTIVE_HEALTHY",
            Status::ActiveUnhealthy => "ACTIVE_UNHEALTHY",
            Status::ComingUp => "COMING_UP",
            Status::Unknown => "UNKNOWN",
            Status::GoingDown => "GOING_DOWN",
            Status::InitFailed => "INIT_FAILED",
            Status::Removed => "REMOVED",
            Status::Restoring => "RESTORING",
            Status::Upgrading => "UPGRADING",
            Status::Pausing => "PAUSING",
            Status::RestoreFailed => "RESTORE_FAILED",
            Status::Restarting => "RESTARTING",
            Status::PauseFailed => "PAUSE_FAILED",
            Status::Resizing => "RESIZING",
        }
    }

    /// Parses the API spelling.
    pub(crate) fn parse(text: &str) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// Stored network restrictions of one project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Cidrs {
    #[serde(rename = "dbAllowedCidrs")]
    pub(crate) v4: Vec<String>,
    #[serde(rename = "dbAllowedCidrsV6")]
    pub(crate) v6: Vec<String>,
}

impl Cidrs {
    /// What a new project allows: everything.
    pub(crate) fn unrestricted() -> Cidrs {
        Cidrs {
            v4: vec!["0.0.0.0/0".into()],
            v6: vec!["::/0".into()],
        }
    }
}

/// Network restrictions and when they last changed.
#[derive(Debug, Clone)]
pub(crate) struct NetworkRestrictions {
    pub(crate) config: Cidrs,
    pub(crate) old_config: Option<Cidrs>,
    pub(crate) updated_at: Option<String>,
}

/// One project's metadata.
#[derive(Debug, Clone)]
pub(crate) struct Project {
    /// The integer id that `DELETE` answers with.
    pub(crate) numeric_id: i64,
    pub(crate) project_ref: String,
    pub(crate) name: String,
    pub(crate) organization_slug: String,
    pub(crate) region: String,
    pub(crate) instance_size: Option<String>,
    pub(crate) created_at: String,
    pub(crate) status: Status,
    /// When the project last became `ACTIVE_HEALTHY` (drives the pooler's lag).
    pub(crate) healthy_since: Option<Instant>,
    /// Bumped on each status change so that timers scheduled for an older state do nothing.
    pub(crate) generation: u64,
    /// Created by `/_standin/bulk-projects`: no real database or role behind it.
    pub(crate) metadata_only: bool,
    pub(crate) ssl_enforced: bool,
    pub(crate) network: NetworkRestrictions,
    /// Billing add-ons other than the compute size (`instance_size`): add-on type -> variant id.
    pub(crate) other_addons: std::collections::BTreeMap<String, String>,
}

impl Project {
    /// The real database that stands for this project.
    pub(crate) fn database_name(&self) -> String {
        format!("sb_{}", self.project_ref)
    }

    /// The real login role; spelled like Supabase's pooler user `postgres.<ref>`.
    pub(crate) fn role_name(&self) -> String {
        format!("postgres.{}", self.project_ref)
    }

    /// Moves to `status`, invalidating timers scheduled for the previous state.
    pub(crate) fn set_status(&mut self, status: Status) {
        self.status = status;
        self.generation += 1;
        self.healthy_since = (status == Status::ActiveHealthy).then(Instant::now);
    }
}

/// All projects and organizations the stand-in knows.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) projects: HashMap<String, Project>,
    pub(crate) organizations: BTreeSet<String>,
    next_numeric_id: i64,
}

impl Store {
    /// A fresh project ref: 20 lowercase letters, unique here.
    pub(crate) fn new_ref(&self) -> String {
        loop {
            let candidate: String = std::iter::repeat_with(fastrand::lowercase)
                .take(20)
                .collect();
            if !self.projects.contains_key(&candidate) {
                return candidate;
            }
        }
    }

    /// The next integer project id.
    pub(crate) fn next_numeric_id(&mut self) -> i64 {
        self.next_numeric_id += 1;
        self.next_numeric_id
    }

    /// Whether `name` is taken in `organization`.
    pub(crate) fn name_taken(&self, organization: &str, name: &str) -> bool {
        self.projects
            .values()
            .any(|project| project.organization_slug == organization && project.name == name)
    }

    /// Projects of `organization` that count against the free-plan quota (all but `INACTIVE` ones).
    pub(crate) fn active_in(&self, organization: &str) -> usize {
        self.projects
            .values()
            .filter(|project| {
                project.organization_slug == organization && project.status != Status::Inactive
            })
            .count()
    }

    /// Projects in creation order.
    pub(crate) fn in_creation_order(&self) -> Vec<&Project> {
        let mut projects: Vec<&Project> = self.projects.values().collect();
        projects.sort_by_key(|project| project.numeric_id);
        projects
    }
}
