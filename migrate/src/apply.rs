//! Applying pending migrations under a per-database advisory lock.

use std::time::Duration;

use tokio_postgres::Client;

use crate::error::{Error, Result};
use crate::history::{self, AppliedMigration, PrismaRow};
use crate::options::ApplyOptions;
use crate::runner::Runner;
use crate::source::{Layout, Migration, MigrationSet, sha256_hex};

/// Key of the session advisory lock every apply takes (`"stagesub"` in ASCII). Advisory locks are
/// per database, so applies to different databases of one server never wait for each other.
pub const ADVISORY_LOCK_KEY: i64 = 0x7374_6167_6573_7562;

/// What [`apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Migrations applied by this run, in order.
    pub applied: Vec<String>,
    /// Migrations that were applied before this run (their files verified unchanged).
    pub already_applied: Vec<String>,
    /// Migrations recorded in the database that the folder does not have (left alone).
    pub not_in_folder: Vec<String>,
}

/// What to do with one migration of the folder.
enum Plan<'a> {
    Skip,
    Apply(&'a Migration),
    /// Prisma: resolve the earlier failed attempt in the same transaction, then apply.
    Retry(&'a Migration),
}

/// Applies the pending migrations of `set`, each in its own transaction with its history row.
///
/// Takes the session advisory lock [`ADVISORY_LOCK_KEY`] first (so concurrent runs on one
/// database apply each migration once), creates the history table of the set's layout if
/// needed, refuses applied migrations whose files changed, then applies the rest in order.
/// A failing migration is rolled back entirely; for Prisma its failure is then recorded the way
/// Prisma records it, and the next run retries it once its file has changed.
///
/// `client` must be a session-mode connection outside any transaction.
pub async fn apply(
    client: &Client,
    set: &MigrationSet,
    options: &ApplyOptions,
) -> Result<ApplyReport> {
    lock(client, options.lock_wait).await?;
    let result = apply_locked(client, set, options).await;
    let unlocked = client
        .batch_execute(&format!("SELECT pg_advisory_unlock({ADVISORY_LOCK_KEY})"))
        .await;
    let report = result?;
    unlocked.map_err(|source| Error::Database {
        action: "releasing the migration lock",
        source,
    })?;
    Ok(report)
}

async fn lock(client: &Client, wait: Option<Duration>) -> Result<()> {
    let take = format!("SELECT pg_advisory_lock({ADVISORY_LOCK_KEY})");
    let result = match wait {
        None => client.batch_execute(&take).await,
        Some(wait) => {
            let millis = wait.as_millis().max(1);
            let result = client
                .batch_execute(&format!("SET lock_timeout = {millis}; {take}"))
                .await;
            let reset = client.batch_execute("SET lock_timeout TO DEFAULT").await;
            result.and(reset)
        }
    };
    result.map_err(|source| {
        if source.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) {
            Error::LockTimeout
        } else {
            Error::Database {
                action: "taking the migration lock",
                source,
            }
        }
    })
}

async fn apply_locked(
    client: &Client,
    set: &MigrationSet,
    options: &ApplyOptions,
) -> Result<ApplyReport> {
    history::ensure_table(client, set.layout).await?;
    let mut report = ApplyReport::default();
    let plans = match set.layout {
        Layout::Prisma => {
            let rows = history::prisma_rows(client).await?;
            let applied = history::prisma_applied(&rows);
            report.not_in_folder = not_in_folder(set, &applied);
            plan_prisma(set, &rows, &applied, options)?
        }
        Layout::Supabase => {
            let applied = history::supabase_rows(client).await?;
            report.not_in_folder = not_in_folder(set, &applied);
            plan_supabase(set, &applied)?
        }
    };
    let todo: Vec<(&Migration, bool)> = plans
        .into_iter()
        .filter_map(|plan| match plan {
            Plan::Skip => None,
            Plan::Apply(m) => Some((m, false)),
            Plan::Retry(m) => Some((m, true)),
        })
        .collect();
    if !todo.is_empty() {
        let runner = Runner::new(client, set.layout, options).await?;
        for (index, (migration, retry)) in todo.iter().enumerate() {
            runner
                .apply_one(migration, *retry, index + 1 == todo.len())
                .await?;
            report.applied.push(migration.name.clone());
        }
    }
    report.already_applied = set
        .names()
        .into_iter()
        .filter(|n| !report.applied.contains(n))
        .collect();
    Ok(report)
}

fn not_in_folder(set: &MigrationSet, applied: &[AppliedMigration]) -> Vec<String> {
    applied
        .iter()
        .filter(|a| !set.migrations.iter().any(|m| m.version == a.version))
        .map(|a| a.name.clone())
        .collect()
}

/// Prisma accepts a checksum computed with either line ending; so do we.
fn same_checksum(migration: &Migration, recorded: &str) -> bool {
    migration.checksum == recorded
        || sha256_hex(migration.sql.replace("\r\n", "\n").as_bytes()) == recorded
        || sha256_hex(migration.sql.replace('\n', "\r\n").as_bytes()) == recorded
}

/// Fails with [`Error::Modified`] when `migration`'s file no longer matches what the history
/// recorded when it was applied: Prisma's checksum, or the Supabase CLI's statements.
fn check_unchanged(migration: &Migration, done: &AppliedMigration) -> Result<()> {
    let difference = match (&done.checksum, &done.statements) {
        (Some(recorded), _) if !same_checksum(migration, recorded) => {
            format!(
                "recorded checksum {recorded}, file checksum {}",
                migration.checksum
            )
        }
        (None, Some(recorded))
            if normalized(recorded.iter().map(String::as_str))
                != normalized(migration.statements().iter().copied()) =>
        {
            format!(
                "its statements differ from the {} recorded in supabase_migrations.schema_migrations",
                recorded.len()
            )
        }
        _ => return Ok(()),
    };
    Err(Error::Modified {
        name: migration.name.clone(),
        file: migration.path.clone(),
        difference,
    })
}

/// Checks, without changing anything, that every applied migration of `set` still has the file
/// content it was applied with: what `apply` would refuse, found early (e.g. at `terraform plan`).
pub fn verify_unchanged(set: &MigrationSet, applied: &[AppliedMigration]) -> Result<()> {
    for migration in &set.migrations {
        let done = match set.layout {
            Layout::Prisma => applied.iter().find(|a| a.name == migration.name),
            Layout::Supabase => applied.iter().find(|a| a.version == migration.version),
        };
        if let Some(done) = done {
            check_unchanged(migration, done)?;
        }
    }
    Ok(())
}

fn plan_prisma<'a>(
    set: &'a MigrationSet,
    rows: &[PrismaRow],
    applied: &[AppliedMigration],
    options: &ApplyOptions,
) -> Result<Vec<Plan<'a>>> {
    let mut plans = Vec::new();
    for migration in &set.migrations {
        if let Some(done) = applied.iter().find(|a| a.name == migration.name) {
            check_unchanged(migration, done)?;
            plans.push(Plan::Skip);
            continue;
        }
        let failed = rows
            .iter()
            .rev()
            .find(|r| r.name == migration.name && !r.rolled_back && !r.finished);
        plans.push(match failed {
            None => Plan::Apply(migration),
            Some(row)
                if options.retry_failed
                    || !same_checksum(migration, &row.checksum)
                    || transient(row.logs.as_deref().unwrap_or_default()) =>
            {
                Plan::Retry(migration)
            }
            Some(row) => {
                return Err(Error::FailedBefore {
                    name: migration.name.clone(),
                    logs: row.logs.clone().unwrap_or_default(),
                });
            }
        });
    }
    Ok(plans)
}

/// Whether recorded failure `logs` name a SQLSTATE that says "try again" rather than "fix the
/// file": query canceled (statement timeout), lock not available (lock timeout), serialization
/// failure, deadlock, or a connection failure. Reads our own format (`ERROR 57014 ...`) and
/// Prisma's (`Database error code: 57014`).
fn transient(logs: &str) -> bool {
    let code = ["ERROR ", "Database error code: "]
        .iter()
        .find_map(|marker| {
            let at = logs.find(marker)? + marker.len();
            logs.get(at..at + 5)
        });
    code.is_some_and(|c| matches!(c, "57014" | "55P03" | "40001" | "40P01") || c.starts_with("08"))
}

/// Statements compared without whitespace and semicolons, so a CLI whose splitter differs from
/// ours in an edge case does not make an unchanged file look edited.
fn normalized<'a>(statements: impl IntoIterator<Item = &'a str>) -> String {
    statements
        .into_iter()
        .flat_map(str::chars)
        .filter(|c| !c.is_whitespace() && *c != ';')
        .collect()
}

fn plan_supabase<'a>(set: &'a MigrationSet, applied: &[AppliedMigration]) -> Result<Vec<Plan<'a>>> {
    let mut plans = Vec::new();
    for migration in &set.migrations {
        let Some(done) = applied.iter().find(|a| a.version == migration.version) else {
            plans.push(Plan::Apply(migration));
            continue;
        };
        check_unchanged(migration, done)?;
        plans.push(Plan::Skip);
    }
    Ok(plans)
}

#[cfg(test)]
mod tests {
    use super::transient;

    #[test]
    fn transient_failures_are_recognised_in_both_log_formats() {
        assert!(transient(
            "a.sql:2:1: ERROR 57014 canceling statement due to statement timeout"
        ));
        assert!(transient("a.sql:1:1: ERROR 08006 connection closed"));
        assert!(transient(
            "Database error code: 40P01\n\nDatabase error:\ndeadlock detected"
        ));
        assert!(!transient(
            "a.sql:4:8: ERROR 42703 column \"x\" does not exist"
        ));
        assert!(!transient("Database error code: 42601"));
        assert!(!transient(""));
    }
}
