//! Project and service status values.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Status of a Supabase project (`status` of the project endpoints).
///
/// The API's own `UNKNOWN` and any value this crate does not know yet both land in
/// [`ProjectStatus::Unknown`], which keeps the text as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProjectStatus {
    /// `INACTIVE`: paused.
    Inactive,
    /// `ACTIVE_HEALTHY`: running and healthy.
    ActiveHealthy,
    /// `ACTIVE_UNHEALTHY`: running, some service unhealthy.
    ActiveUnhealthy,
    /// `COMING_UP`: being created or started.
    ComingUp,
    /// `GOING_DOWN`: being shut down or deleted.
    GoingDown,
    /// `INIT_FAILED`: creation failed.
    InitFailed,
    /// `REMOVED`: deleted.
    Removed,
    /// `RESTORING`: being restored (unpaused or from a backup).
    Restoring,
    /// `UPGRADING`: Postgres upgrade running.
    Upgrading,
    /// `PAUSING`: being paused.
    Pausing,
    /// `RESTORE_FAILED`: a restore failed.
    RestoreFailed,
    /// `RESTARTING`: restarting.
    Restarting,
    /// `PAUSE_FAILED`: a pause failed.
    PauseFailed,
    /// `RESIZING`: compute being resized.
    Resizing,
    /// `UNKNOWN`, or a value this crate does not know; holds the text as sent.
    Unknown(String),
}

impl ProjectStatus {
    /// The wire text, e.g. `ACTIVE_HEALTHY`.
    pub fn as_str(&self) -> &str {
        match self {
            ProjectStatus::Inactive => "INACTIVE",
            ProjectStatus::ActiveHealthy => "ACTIVE_HEALTHY",
            ProjectStatus::ActiveUnhealthy => "ACTIVE_UNHEALTHY",
            ProjectStatus::ComingUp => "COMING_UP",
            ProjectStatus::GoingDown => "GOING_DOWN",
            ProjectStatus::InitFailed => "INIT_FAILED",
            ProjectStatus::Removed => "REMOVED",
            ProjectStatus::Restoring => "RESTORING",
            ProjectStatus::Upgrading => "UPGRADING",
            ProjectStatus::Pausing => "PAUSING",
            ProjectStatus::RestoreFailed => "RESTORE_FAILED",
            ProjectStatus::Restarting => "RESTARTING",
            ProjectStatus::PauseFailed => "PAUSE_FAILED",
            ProjectStatus::Resizing => "RESIZING",
            ProjectStatus::Unknown(s) => s,
        }
    }

    /// Parses the wire text; unrecognised values become [`ProjectStatus::Unknown`].
    pub fn parse(s: &str) -> Self {
        match s {
            "INACTIVE" => ProjectStatus::Inactive,
            "ACTIVE_HEALTHY" => ProjectStatus::ActiveHealthy,
            "ACTIVE_UNHEALTHY" => ProjectStatus::ActiveUnhealthy,
            "COMING_UP" => ProjectStatus::ComingUp,
            "GOING_DOWN" => ProjectStatus::GoingDown,
            "INIT_FAILED" => ProjectStatus::InitFailed,
            "REMOVED" => ProjectStatus::Removed,
            "RESTORING" => ProjectStatus::Restoring,
            "UPGRADING" => ProjectStatus::Upgrading,
            "PAUSING" => ProjectStatus::Pausing,
            "RESTORE_FAILED" => ProjectStatus::RestoreFailed,
            "RESTARTING" => ProjectStatus::Restarting,
            "PAUSE_FAILED" => ProjectStatus::PauseFailed,
            "RESIZING" => ProjectStatus::Resizing,
            other => ProjectStatus::Unknown(other.to_owned()),
        }
    }

    /// On the way somewhere: keep polling (as the official provider does for
    /// `ACTIVE_UNHEALTHY, RESTORING, COMING_UP, UPGRADING, PAUSING, RESIZING, RESTARTING, UNKNOWN`).
    pub fn is_transitional(&self) -> bool {
        matches!(
            self,
            ProjectStatus::ActiveUnhealthy
                | ProjectStatus::Restoring
                | ProjectStatus::ComingUp
                | ProjectStatus::Upgrading
                | ProjectStatus::Pausing
                | ProjectStatus::Resizing
                | ProjectStatus::Restarting
                | ProjectStatus::Unknown(_)
        )
    }

    /// Will not become healthy by itself: stop waiting for `ACTIVE_HEALTHY` (the official
    /// provider's list: `GOING_DOWN, INIT_FAILED, REMOVED, INACTIVE, PAUSE_FAILED, RESTORE_FAILED`).
    pub fn is_terminal_failure(&self) -> bool {
        matches!(
            self,
            ProjectStatus::GoingDown
                | ProjectStatus::InitFailed
                | ProjectStatus::Removed
                | ProjectStatus::Inactive
                | ProjectStatus::PauseFailed
                | ProjectStatus::RestoreFailed
        )
    }

    /// An operation failed or the project is gone; no wait for any status can succeed
    /// (`INIT_FAILED, PAUSE_FAILED, RESTORE_FAILED, REMOVED`).
    pub fn is_failed(&self) -> bool {
        matches!(
            self,
            ProjectStatus::InitFailed
                | ProjectStatus::PauseFailed
                | ProjectStatus::RestoreFailed
                | ProjectStatus::Removed
        )
    }
}

impl fmt::Display for ProjectStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ProjectStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ProjectStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Ok(ProjectStatus::parse(&s))
    }
}

/// Status of one service in `GET /v1/projects/{ref}/health`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ServiceStatus {
    /// `COMING_UP`.
    ComingUp,
    /// `ACTIVE_HEALTHY`.
    ActiveHealthy,
    /// `UNHEALTHY`.
    Unhealthy,
    /// Anything else, as sent.
    Other(String),
}

impl ServiceStatus {
    /// The wire text.
    pub fn as_str(&self) -> &str {
        match self {
            ServiceStatus::ComingUp => "COMING_UP",
            ServiceStatus::ActiveHealthy => "ACTIVE_HEALTHY",
            ServiceStatus::Unhealthy => "UNHEALTHY",
            ServiceStatus::Other(s) => s,
        }
    }
}

impl fmt::Display for ServiceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ServiceStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ServiceStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Ok(match s.as_str() {
            "COMING_UP" => ServiceStatus::ComingUp,
            "ACTIVE_HEALTHY" => ServiceStatus::ActiveHealthy,
            "UNHEALTHY" => ServiceStatus::Unhealthy,
            _ => ServiceStatus::Other(s),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [&str; 15] = [
        "INACTIVE",
        "ACTIVE_HEALTHY",
        "ACTIVE_UNHEALTHY",
        "COMING_UP",
        "UNKNOWN",
        "GOING_DOWN",
        "INIT_FAILED",
        "REMOVED",
        "RESTORING",
        "UPGRADING",
        "PAUSING",
        "RESTORE_FAILED",
        "RESTARTING",
        "PAUSE_FAILED",
        "RESIZING",
    ];

    #[test]
    fn every_documented_status_round_trips() {
        for s in ALL {
            let parsed = ProjectStatus::parse(s);
            assert_eq!(parsed.as_str(), s);
            let json = serde_json::to_string(&parsed).unwrap();
            assert_eq!(
                serde_json::from_str::<ProjectStatus>(&json).unwrap(),
                parsed
            );
        }
        assert_eq!(
            ProjectStatus::parse("SOMETHING_NEW"),
            ProjectStatus::Unknown("SOMETHING_NEW".into())
        );
    }

    #[test]
    fn every_status_is_healthy_transitional_or_terminal() {
        for s in ALL {
            let st = ProjectStatus::parse(s);
            let classes = [
                st == ProjectStatus::ActiveHealthy,
                st.is_transitional(),
                st.is_terminal_failure(),
            ];
            assert_eq!(classes.iter().filter(|c| **c).count(), 1, "{s}");
        }
    }
}
