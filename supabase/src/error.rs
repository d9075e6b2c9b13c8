//! The one error type of this crate.
//!
//! Every variant that comes from an HTTP call names the method and path, and the project ref
//! when there is one. None ever holds the access token: messages from the server pass through
//! [`crate::Secret::redact_in`] before they are stored.

use std::fmt;
use std::time::Duration;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong talking to the Management API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with a non-success status.
    #[error(
        "Supabase API {method} {path} failed with HTTP {status}: {message}{}",
        for_project(project_ref)
    )]
    Api {
        /// HTTP method.
        method: String,
        /// Request path (no query string).
        path: String,
        /// HTTP status code.
        status: u16,
        /// Supabase's `message` (or the start of the body when there is none).
        message: String,
        /// Project the call was about.
        project_ref: Option<String>,
        /// Wait the server asked for (429 answers).
        retry_after: Option<Duration>,
    },
    /// No usable answer: connection refused or reset, timeout, unreadable body.
    #[error(
        "Supabase API {method} {path} failed after {attempts} attempt(s): {kind}: {message}{}",
        for_project(project_ref)
    )]
    Transport {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
        /// Kind of failure; [`TransportKind::Connect`] means the request never left.
        kind: TransportKind,
        /// Description from the HTTP library.
        message: String,
        /// Project the call was about.
        project_ref: Option<String>,
        /// Attempts made.
        attempts: u32,
    },
    /// `POST /v1/projects` was sent but its answer was lost (timeout, 5xx, connection reset).
    /// The project may or may not exist: look it up by name before trying again.
    #[error(
        "Supabase API POST /v1/projects: the answer to creating project {name:?} in organization {organization_slug:?} was lost ({reason}); the project may exist: look it up by name before creating it again"
    )]
    CreateOutcomeUnknown {
        /// Project name that was sent.
        name: String,
        /// Organization that was sent.
        organization_slug: String,
        /// Why the answer is unknown.
        reason: String,
    },
    /// The answer was not the JSON the API documents.
    #[error(
        "Supabase API {method} {path}: unexpected response body: {message}{}",
        for_project(project_ref)
    )]
    Decode {
        /// HTTP method.
        method: String,
        /// Request path.
        path: String,
        /// What did not parse.
        message: String,
        /// Project the call was about.
        project_ref: Option<String>,
    },
    /// Bad input from the caller (configuration, a region code, a password); says what to fix.
    #[error("{0}")]
    InvalidInput(String),
    /// A project reached a status it will not leave by itself while we waited for another.
    #[error(
        "Supabase project {project_ref} is {status} while waiting for {waiting_for}; it will not get there by itself: check the project in the Supabase dashboard"
    )]
    ProjectFailed {
        /// Project ref.
        project_ref: String,
        /// The status it reached.
        status: String,
        /// What we were waiting for.
        waiting_for: String,
    },
    /// A wait ran past its deadline.
    #[error(
        "timed out after {waited:?} waiting for Supabase project {project_ref} to be {waiting_for}; last seen: {last_seen}"
    )]
    WaitTimeout {
        /// Project ref.
        project_ref: String,
        /// What we were waiting for.
        waiting_for: String,
        /// Last status (and health) seen.
        last_seen: String,
        /// How long we waited.
        waited: Duration,
    },
}

fn for_project(project_ref: &Option<String>) -> String {
    match project_ref {
        Some(r) => format!(" (project {r})"),
        None => String::new(),
    }
}

/// Kinds of [`Error::Transport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// Could not connect: the request was never sent.
    Connect,
    /// The attempt exceeded the request timeout.
    Timeout,
    /// The connection failed after the request may have been sent (reset, closed, bad body).
    Other,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "could not connect",
            TransportKind::Timeout => "timed out",
            TransportKind::Other => "connection failed",
        })
    }
}

impl Error {
    /// HTTP status for [`Error::Api`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True for a 404 answer.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// True when trying again later may succeed (5xx, 429, transport failures).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Api { status, .. } => *status == 429 || *status >= 500,
            Error::Transport { .. } => true,
            _ => false,
        }
    }
}
