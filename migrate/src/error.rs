//! The one error type of the crate, with messages written for the person who has to fix things.

use std::fmt;
use std::path::PathBuf;

use stagesub_pgconn::describe;

/// Everything that can go wrong while loading, connecting, migrating or seeding.
///
/// `Display` is meant for users: it names the file, the migration or the setting to fix. No variant
/// carries a password: connection targets are redacted before they are stored.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The migrations folder is missing, unreadable or laid out in neither supported way.
    Layout {
        /// The folder that was inspected.
        dir: PathBuf,
        /// What was wrong, and what was found instead.
        reason: String,
    },
    /// A file could not be read.
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The connection could not be set up or opened (URL, TLS, network, authentication).
    Connection(stagesub_pgconn::Error),
    /// A query stagesub runs itself (history table, lock) failed.
    Database {
        /// What stagesub was doing.
        action: &'static str,
        /// The driver's error.
        source: tokio_postgres::Error,
    },
    /// A statement of a migration file failed; nothing of that migration was kept.
    Migration(Box<SqlFailure>),
    /// A statement of the seed SQL failed; nothing of the seed was kept.
    Seed(Box<SqlFailure>),
    /// An applied migration's file has changed since it was applied.
    Modified {
        /// The migration's name.
        name: String,
        /// The file to restore.
        file: PathBuf,
        /// What differs (checksums or statements).
        difference: String,
    },
    /// A Prisma migration failed earlier and its file has not changed since.
    FailedBefore {
        /// The migration's name.
        name: String,
        /// The error recorded in `_prisma_migrations.logs`.
        logs: String,
    },
    /// Another apply held the migration lock for longer than the configured wait.
    LockTimeout,
}

/// Where and why a SQL statement failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlFailure {
    /// The file (or `seed_sql`) that contains the statement.
    pub file: String,
    /// 1-based line in the file.
    pub line: usize,
    /// 1-based column (in characters) in the file.
    pub column: usize,
    /// The five-character SQLSTATE, e.g. `42P01`.
    pub sqlstate: String,
    /// The server's message.
    pub message: String,
    /// The server's detail, if any.
    pub detail: Option<String>,
    /// The server's hint, if any.
    pub hint: Option<String>,
}

impl fmt::Display for SqlFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: ERROR {} {}",
            self.file, self.line, self.column, self.sqlstate, self.message
        )?;
        if let Some(detail) = &self.detail {
            write!(f, "\nDETAIL: {detail}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\nHINT: {hint}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Layout { dir, reason } => {
                write!(f, "migrations folder {}: {reason}", dir.display())
            }
            Error::Io { path, source } => write!(f, "cannot read {}: {source}", path.display()),
            Error::Connection(error) => write!(f, "{error}"),
            Error::Database { action, source } => {
                write!(f, "database error while {action}: {}", describe(source))
            }
            Error::Migration(failure) => write!(
                f,
                "migration failed and was rolled back (earlier migrations stay applied)\n{failure}"
            ),
            Error::Seed(failure) => write!(f, "seed SQL failed and was rolled back\n{failure}"),
            Error::Modified {
                name,
                file,
                difference,
            } => write!(
                f,
                "migration {name} was already applied but {} has changed since ({difference}); \
                 restore the file and put the change in a new migration",
                file.display()
            ),
            Error::FailedBefore { name, logs } => write!(
                f,
                "migration {name} failed in an earlier run and its file is unchanged. Fix \
                 the migration file and apply again (stagesub retries a failed migration whose \
                 file changed), or, if the cause is gone now, run \
                 `prisma migrate resolve --rolled-back {name}` first.\nRecorded error: {logs}"
            ),
            Error::LockTimeout => write!(
                f,
                "another migration run holds the migration lock on this database; try again later"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Connection(error) => std::error::Error::source(error),
            Error::Database { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<stagesub_pgconn::Error> for Error {
    fn from(error: stagesub_pgconn::Error) -> Self {
        Error::Connection(error)
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
