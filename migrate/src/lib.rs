//! stagesub's migration engine: applies a folder of SQL migrations to a Postgres database and
//! records them in the history table of the tool that wrote them, so the application's own
//! `prisma migrate status` or `supabase migration list` agrees afterwards.
//!
//! - [`MigrationSet::load`] reads a folder and detects its layout: Prisma
//!   (`<timestamp>_<name>/migration.sql`, recorded in `_prisma_migrations`) or the Supabase CLI
//!   (`<version>_<name>.sql`, recorded in `supabase_migrations.schema_migrations`).
//! - Connections come from crate `stagesub-pgconn` (`stagesub_pgconn::connect`: `sslmode`, TLS,
//!   redaction); this crate works on the [`Client`] it returns.
//! - [`applied`] lists what a database has recorded; [`apply`] applies what is pending, each
//!   migration in its own transaction together with its history row, under a per-database
//!   advisory lock; [`seed`] runs the tenant's seed SQL with the tenant values as settings.
//!
//! Rules worth knowing:
//! - Statements are sent one by one (simple query protocol) inside the migration's transaction,
//!   split the way the Supabase CLI splits files, so a failure is reported as
//!   `file:line:column: ERROR <SQLSTATE> <message>` and nothing of the failed migration remains.
//! - An applied migration whose file changed is an error ([`Error::Modified`]), never skipped.
//! - Prisma failures are recorded as Prisma records them (`finished_at` NULL, `logs` = error).
//!   The next run retries such a migration once its file has changed (marking the failed attempt
//!   `rolled_back_at = now()` in the same transaction as the new attempt), or when the recorded
//!   failure was temporary (a timeout, deadlock or lost connection); otherwise it stops with
//!   [`Error::FailedBefore`] unless [`ApplyOptions::retry_failed`] is set. So fixing the file and
//!   applying again converges.
//! - Files may not contain `BEGIN`/`COMMIT` of their own, nor statements that cannot run in a
//!   transaction (`CREATE INDEX CONCURRENTLY`, `VACUUM`).
//! - The history rows use `gen_random_uuid()`: Postgres 13 or newer.
//!
//! Module map: `source` (folders), `split` (statements and positions), `history` (the two
//! tables), `exec` (running statements), `options`, `runner` (one migration), `apply`, `seed`,
//! `error`.

mod apply;
mod error;
mod exec;
mod history;
mod options;
mod runner;
mod seed;
mod source;
mod split;

pub use apply::{ADVISORY_LOCK_KEY, ApplyReport, apply, verify_unchanged};
pub use error::{Error, Result, SqlFailure};
pub use history::{AppliedMigration, applied};
pub use options::ApplyOptions;
pub use seed::{SEED_FILE_LABEL, seed};
pub use source::{Layout, Migration, MigrationSet, sha256_hex};
pub use split::{StatementSpan, line_column, split_statements};
pub use tokio_postgres::Client;
