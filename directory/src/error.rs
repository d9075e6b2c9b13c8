//! The crate's one error type. No variant holds a key, a secret or a password.

use std::fmt;

/// Everything that can go wrong with the directory.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// `STAGESUB_DIRECTORY_KEYS` (or `directory_keys`) is unusable; says which key and why.
    Keys(String),
    /// A value handed to a write is not acceptable (a bad subdomain, a missing secret).
    Invalid(String),
    /// The directory could not be reached.
    Connect {
        /// The directory's URL with the password replaced by `***`.
        directory: String,
        /// What the driver said (never contains the password).
        reason: String,
    },
    /// A statement against the directory failed.
    Database {
        /// What stagesub was doing, naming the subdomain where there is one.
        action: String,
        /// The driver's error.
        source: tokio_postgres::Error,
    },
    /// The directory was upgraded by a newer stagesub than this one.
    SchemaTooNew {
        /// The version recorded in the directory.
        found: i32,
        /// The newest version this build knows.
        supported: i32,
    },
    /// The reader role to grant does not exist.
    NoSuchRole(String),
    /// A secret could not be sealed (encryption failed or the plaintext could not be encoded).
    Seal(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn db(action: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> Error {
        let action = action.into();
        move |source| Error::Database { action, source }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Keys(reason) => write!(f, "tenant directory keys: {reason}"),
            Error::Invalid(reason) => write!(f, "tenant directory: {reason}"),
            Error::Connect { directory, reason } => {
                write!(
                    f,
                    "cannot reach the tenant directory at {directory}: {reason}"
                )
            }
            Error::Database { action, source } => {
                write!(
                    f,
                    "tenant directory (schema stagesub_directory): {action} failed: "
                )?;
                match source.as_db_error() {
                    Some(db) => write!(f, "{} ({})", db.message(), db.code().code()),
                    None => write!(f, "{source}"),
                }
            }
            Error::SchemaTooNew { found, supported } => write!(
                f,
                "tenant directory schema stagesub_directory is at version {found}, newer than the \
                 {supported} this build knows; upgrade the provider"
            ),
            Error::NoSuchRole(role) => write!(
                f,
                "tenant directory reader role {role:?} does not exist; create it (CREATE ROLE) or \
                 unset directory_reader_role"
            ),
            Error::Seal(reason) => write!(f, "tenant directory: cannot seal the secret: {reason}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Database { source, .. } => Some(source),
            _ => None,
        }
    }
}
