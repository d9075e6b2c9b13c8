//! The one error type of the fleet tool: each variant says what to fix.

use std::path::PathBuf;

/// Why a fleet command could not run (a tenant's own failure is an outcome, not an error).
#[derive(Debug)]
pub enum Error {
    /// A setting is missing or wrong; the message names it.
    Usage(String),
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The tenant directory could not be read.
    Directory(String),
    /// The migrations folder could not be loaded.
    Migrations(String),
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Usage(message) => f.write_str(message),
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Directory(message) => write!(f, "tenant directory: {message}"),
            Error::Migrations(message) => write!(f, "migrations folder: {message}"),
        }
    }
}

impl std::error::Error for Error {}

/// The error for a required setting that is not set: names the flag and the variable.
pub fn missing(flag: &str, env: &str, why: &str) -> Error {
    Error::Usage(format!(
        "missing setting: {flag} (or env {env}) is required {why}"
    ))
}
