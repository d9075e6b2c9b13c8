//! The settings of an apply run, shared by `apply` (the whole folder) and `runner` (one migration).

use std::time::Duration;

/// Settings of one `apply` run. `Default` waits for the lock forever and sets no timeouts.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// `statement_timeout` for each migration's statements (`SET LOCAL`); None keeps the server's.
    pub statement_timeout: Option<Duration>,
    /// `lock_timeout` for each migration's statements (`SET LOCAL`); None keeps the server's.
    pub lock_timeout: Option<Duration>,
    /// How long to wait for another run's migration lock; None waits as long as it takes.
    pub lock_wait: Option<Duration>,
    /// Retry a Prisma migration that failed before even though its file is unchanged. Without
    /// it, a failed migration is retried when its file changed or when the recorded failure was
    /// temporary (statement or lock timeout, serialization failure, deadlock, lost connection).
    pub retry_failed: bool,
}
