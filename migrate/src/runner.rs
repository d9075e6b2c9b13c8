//! Applying one migration: its transaction, its history row, and Prisma's failure record.

use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Statement};

use stagesub_pgconn::describe;

use crate::error::{Error, Result, SqlFailure};
use crate::exec::{join3_in_order, locate, run_script, set_local_timeouts};
use crate::history;
use crate::options::ApplyOptions;
use crate::source::{Layout, Migration};

/// Applies migrations of one layout on one connection, with the history insert prepared once.
pub(crate) struct Runner<'a> {
    client: &'a Client,
    layout: Layout,
    options: &'a ApplyOptions,
    insert: Statement,
}

fn db(action: &'static str) -> impl FnOnce(tokio_postgres::Error) -> Error {
    move |source| Error::Database { action, source }
}

impl<'a> Runner<'a> {
    pub(crate) async fn new(
        client: &'a Client,
        layout: Layout,
        options: &'a ApplyOptions,
    ) -> Result<Runner<'a>> {
        let insert = match layout {
            Layout::Prisma => history::PRISMA_INSERT_SUCCESS,
            Layout::Supabase => history::SUPABASE_INSERT,
        };
        let insert = client
            .prepare(insert)
            .await
            .map_err(db("preparing the history insert"))?;
        Ok(Runner {
            client,
            layout,
            options,
            insert,
        })
    }

    /// Runs `migration` and records it in one transaction; on failure rolls back and, for
    /// Prisma, records the failure. `retry` resolves an earlier failed Prisma attempt.
    ///
    /// Every commit but the run's `last` uses `synchronous_commit = off`: each migration still
    /// commits atomically with its history row, and the last commit's WAL flush makes all
    /// earlier ones durable too, so the run ends exactly as durable as with a flush per
    /// migration. A server crash mid-run can only lose whole, recorded migrations, which the
    /// next run applies again.
    pub(crate) async fn apply_one(
        &self,
        migration: &Migration,
        retry: bool,
        last: bool,
    ) -> Result<()> {
        let client = self.client;
        let file = migration.path.display().to_string();
        let mut begin = String::from("BEGIN;");
        begin.push_str(&set_local_timeouts(
            self.options.statement_timeout,
            self.options.lock_timeout,
        ));
        if !last {
            begin.push_str("SET LOCAL synchronous_commit = off;");
        }
        client
            .batch_execute(&begin)
            .await
            .map_err(db("starting a migration transaction"))?;
        if retry {
            // Inside the transaction: undone if this attempt fails too.
            if let Err(e) = client
                .execute(history::PRISMA_RESOLVE_FAILED, &[&migration.name])
                .await
            {
                let _ = client.batch_execute("ROLLBACK").await;
                return Err(db("resolving the earlier failed attempt")(e));
            }
        }
        // One round trip: the script, the history row and COMMIT are pipelined. If the script
        // fails the transaction is aborted, so the insert fails and COMMIT rolls back.
        let (script, record, commit) = join3_in_order(
            run_script(client, &file, &migration.sql, &migration.statements),
            self.record_success(migration),
            client.batch_execute("COMMIT"),
        )
        .await;
        let outcome = match (script, record, commit) {
            (Err(failure), _, _) => Err(failure),
            (Ok(()), Err(e), _) => Err(recording_failed(&file, &e)),
            (Ok(()), Ok(()), Err(e)) => Err(Box::new(locate(
                &file,
                &migration.sql,
                Default::default(),
                &e,
            ))),
            (Ok(()), Ok(()), Ok(())) => Ok(()),
        };
        let Err(failure) = outcome else {
            return Ok(());
        };
        // Best effort: on a broken connection the server rolls back by itself.
        let _ = client.batch_execute("ROLLBACK").await;
        if self.layout == Layout::Prisma {
            record_failure(client, migration, &failure.to_string())
                .await
                .map_err(db("recording the failed migration in _prisma_migrations"))?;
        }
        Err(Error::Migration(failure))
    }

    async fn record_success(&self, migration: &Migration) -> Result<(), tokio_postgres::Error> {
        match self.layout {
            Layout::Prisma => {
                self.client
                    .execute(&self.insert, &[&migration.checksum, &migration.name])
                    .await?;
            }
            Layout::Supabase => {
                let name = migration
                    .name
                    .strip_prefix(&format!("{}_", migration.version))
                    .unwrap_or_default();
                let statements = migration.statements();
                let params: [&(dyn ToSql + Sync); 3] = [&migration.version, &name, &statements];
                self.client.execute(&self.insert, &params).await?;
            }
        }
        Ok(())
    }
}

fn recording_failed(file: &str, error: &tokio_postgres::Error) -> Box<SqlFailure> {
    Box::new(SqlFailure {
        file: file.to_string(),
        line: 1,
        column: 1,
        sqlstate: error.code().map_or("08006", |c| c.code()).to_string(),
        message: format!(
            "the migration ran but recording it failed: {}",
            describe(error)
        ),
        detail: None,
        hint: None,
    })
}

/// Prisma's record of a failed attempt, in its own transaction after the rollback; earlier
/// unresolved attempts are marked rolled back so at most one failed row is open per migration.
async fn record_failure(
    client: &Client,
    migration: &Migration,
    logs: &str,
) -> Result<(), tokio_postgres::Error> {
    client.batch_execute("BEGIN").await?;
    let result = async {
        client
            .execute(history::PRISMA_RESOLVE_FAILED, &[&migration.name])
            .await?;
        client
            .execute(
                history::PRISMA_INSERT_FAILURE,
                &[&migration.checksum, &migration.name, &logs],
            )
            .await?;
        client.batch_execute("COMMIT").await
    }
    .await;
    if result.is_err() {
        let _ = client.batch_execute("ROLLBACK").await;
    }
    result
}
