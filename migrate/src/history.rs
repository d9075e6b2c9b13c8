//! The two history tables, exactly as Prisma and the Supabase CLI create and fill them.
//!
//! Prisma (`schema-engine`, Postgres flavour) keeps one row per attempt in `_prisma_migrations`
//! (in the connection's schema): success means `finished_at` set, `applied_steps_count = 1` and
//! `logs` NULL; failure means `finished_at` NULL and `logs` holding the error, until
//! `prisma migrate resolve --rolled-back` sets `rolled_back_at`. The checksum is the lowercase hex
//! SHA-256 of the raw `migration.sql` bytes.
//!
//! The Supabase CLI keeps one row per applied file in `supabase_migrations.schema_migrations`
//! (`version`, `name`, `statements`), written in the same transaction as the migration; a
//! failure leaves no row.

use tokio_postgres::Client;

use crate::error::{Error, Result};
use crate::source::Layout;

/// A migration recorded as applied in a history table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    /// The name [`crate::MigrationSet::names`] uses: the Prisma folder, or `<version>_<name>`.
    pub name: String,
    /// Supabase: the version column; Prisma: the same as `name`.
    pub version: String,
    /// Which table recorded it.
    pub layout: Layout,
    /// Prisma's checksum column (None for Supabase).
    pub checksum: Option<String>,
    /// The Supabase CLI's statements column (None for Prisma, or rows of old CLIs).
    pub statements: Option<Vec<String>>,
}

pub(crate) const PRISMA_DDL: &str = r#"CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)"#;

/// The CLI's own sequence: older CLIs created the table with `version` only.
pub(crate) const SUPABASE_DDL: &str = "CREATE SCHEMA IF NOT EXISTS supabase_migrations;
CREATE TABLE IF NOT EXISTS supabase_migrations.schema_migrations (version text NOT NULL PRIMARY KEY);
ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS statements text[];
ALTER TABLE supabase_migrations.schema_migrations ADD COLUMN IF NOT EXISTS name text";

pub(crate) const PRISMA_INSERT_SUCCESS: &str = r#"INSERT INTO "_prisma_migrations"
    (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
    VALUES (gen_random_uuid()::text, $1, clock_timestamp(), $2, NULL, NULL, now(), 1)"#;

pub(crate) const PRISMA_INSERT_FAILURE: &str = r#"INSERT INTO "_prisma_migrations"
    (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
    VALUES (gen_random_uuid()::text, $1, NULL, $2, $3, NULL, now(), 0)"#;

/// Marks earlier failed attempts as rolled back (what `prisma migrate resolve --rolled-back` does).
pub(crate) const PRISMA_RESOLVE_FAILED: &str = r#"UPDATE "_prisma_migrations" SET rolled_back_at = now()
    WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL"#;

pub(crate) const SUPABASE_INSERT: &str = "INSERT INTO supabase_migrations.schema_migrations(version, name, statements) VALUES($1, $2, $3)";

/// One row of `_prisma_migrations`.
#[derive(Debug, Clone)]
pub(crate) struct PrismaRow {
    pub(crate) name: String,
    pub(crate) checksum: String,
    pub(crate) finished: bool,
    pub(crate) rolled_back: bool,
    pub(crate) logs: Option<String>,
}

fn db_error(action: &'static str) -> impl FnOnce(tokio_postgres::Error) -> Error {
    move |source| Error::Database { action, source }
}

pub(crate) async fn prisma_rows(client: &Client) -> Result<Vec<PrismaRow>> {
    let rows = client
        .query(
            r#"SELECT migration_name, checksum, finished_at IS NOT NULL, rolled_back_at IS NOT NULL, logs
               FROM "_prisma_migrations" ORDER BY started_at, migration_name"#,
            &[],
        )
        .await
        .map_err(db_error("reading _prisma_migrations"))?;
    Ok(rows
        .iter()
        .map(|r| PrismaRow {
            name: r.get(0),
            checksum: r.get(1),
            finished: r.get(2),
            rolled_back: r.get(3),
            logs: r.get(4),
        })
        .collect())
}

pub(crate) async fn supabase_rows(client: &Client) -> Result<Vec<AppliedMigration>> {
    let rows = client
        .query(
            // Through to_jsonb so tables of older CLIs (no `name`/`statements`) read too.
            "SELECT version, coalesce(to_jsonb(m) ->> 'name', ''), \
                    CASE WHEN jsonb_typeof(to_jsonb(m) -> 'statements') = 'array' THEN \
                      ARRAY(SELECT e FROM jsonb_array_elements_text(to_jsonb(m) -> 'statements') \
                        WITH ORDINALITY AS s(e, i) ORDER BY i) END \
             FROM supabase_migrations.schema_migrations m ORDER BY version",
            &[],
        )
        .await
        .map_err(db_error("reading supabase_migrations.schema_migrations"))?;
    Ok(rows
        .iter()
        .map(|r| {
            let version: String = r.get(0);
            let name: String = r.get(1);
            AppliedMigration {
                name: if name.is_empty() {
                    version.clone()
                } else {
                    format!("{version}_{name}")
                },
                version,
                layout: Layout::Supabase,
                checksum: None,
                statements: r.get(2),
            }
        })
        .collect())
}

/// Successful, not rolled back Prisma rows, one per name, in the order they were applied.
pub(crate) fn prisma_applied(rows: &[PrismaRow]) -> Vec<AppliedMigration> {
    let mut out: Vec<AppliedMigration> = Vec::new();
    for row in rows.iter().filter(|r| r.finished && !r.rolled_back) {
        if !out.iter().any(|a| a.name == row.name) {
            out.push(AppliedMigration {
                name: row.name.clone(),
                version: row.name.clone(),
                layout: Layout::Prisma,
                checksum: Some(row.checksum.clone()),
                statements: None,
            });
        }
    }
    out
}

/// The migrations recorded in whichever history table exists (both, Prisma's first, if both
/// do); empty when there is none. One query when there is no table, two otherwise.
pub async fn applied(client: &Client) -> Result<Vec<AppliedMigration>> {
    let row = client
        .query_one(
            "SELECT to_regclass('_prisma_migrations') IS NOT NULL, \
                    to_regclass('supabase_migrations.schema_migrations') IS NOT NULL",
            &[],
        )
        .await
        .map_err(db_error("looking for a migration history table"))?;
    let (prisma, supabase): (bool, bool) = (row.get(0), row.get(1));
    let mut out = Vec::new();
    if prisma {
        out.extend(prisma_applied(&prisma_rows(client).await?));
    }
    if supabase {
        out.extend(supabase_rows(client).await?);
    }
    Ok(out)
}

/// Creates the history table of `layout` when missing.
pub(crate) async fn ensure_table(client: &Client, layout: Layout) -> Result<()> {
    let ddl = match layout {
        Layout::Prisma => PRISMA_DDL,
        Layout::Supabase => SUPABASE_DDL,
    };
    client
        .batch_execute(ddl)
        .await
        .map_err(db_error("creating the migration history table"))
}
