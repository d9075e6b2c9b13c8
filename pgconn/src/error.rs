//! The connection error, with messages that name the setting to fix and never a password.

use std::fmt;
use std::path::PathBuf;

/// Why a connection could not be set up or opened.
///
/// No variant carries a password: connection targets are redacted before they are stored.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The database URL or TLS settings are unusable.
    Config {
        /// What is wrong (never contains a password).
        reason: String,
    },
    /// The CA file named by `sslrootcert=<file>` could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Connecting (TCP, TLS or authentication) failed.
    Connect {
        /// The URL with its password replaced by `***`.
        target: String,
        /// The driver's error.
        source: tokio_postgres::Error,
    },
    /// A statement run right after connecting (the URL's `schema`) failed.
    Database {
        /// What was being done.
        action: &'static str,
        /// The driver's error.
        source: tokio_postgres::Error,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config { reason } => write!(f, "{reason}"),
            Error::Io { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Error::Connect { target, source } => {
                write!(f, "cannot connect to {target}: {}", describe(source))
            }
            Error::Database { action, source } => {
                write!(f, "database error while {action}: {}", describe(source))
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Config { .. } => None,
            Error::Io { source, .. } => Some(source),
            Error::Connect { source, .. } | Error::Database { source, .. } => Some(source),
        }
    }
}

/// The driver error with the server's SQLSTATE and message when there is one, else the error
/// with its causes (`... : invalid peer certificate: UnknownIssuer`).
pub fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("ERROR {} {}", db.code().code(), db.message()),
        None => {
            let mut text = error.to_string();
            let mut source = std::error::Error::source(error);
            while let Some(inner) = source {
                text.push_str(": ");
                text.push_str(&inner.to_string());
                source = inner.source();
            }
            text
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
