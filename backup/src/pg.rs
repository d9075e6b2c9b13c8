//! Database reads shared by archive and restore (server version, exact row counts, migration
//! history) and running `pg_dump`/`pg_restore` as children.

use std::process::Stdio;

use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStderr, Command};

use crate::error::{BackupError, Result, Step, tail_lines};
use crate::manifest::{MigrationRecord, TableCount};
use crate::source::{LibpqEnv, apply_env};

/// Every ordinary table outside the system schemas, except tables that belong to an extension
/// (their rows come from `CREATE EXTENSION`, which may differ between servers).
const TABLES: &str = "SELECT n.nspname::text, c.relname::text FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r'
      AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
      AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
      AND (cardinality($1::text[]) = 0 OR n.nspname = ANY($1::text[]))
    ORDER BY 1, 2";

/// `"name"` with inner quotes doubled.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `server_version_num` and `server_version`.
pub(crate) async fn server_version(
    client: &tokio_postgres::Client,
    step: Step,
) -> Result<(u32, String)> {
    let row = client
        .query_one(
            "SELECT current_setting('server_version_num')::int, current_setting('server_version')",
            &[],
        )
        .await
        .map_err(|e| db_error(step, "reading the server version", &e))?;
    let num: i32 = row.get(0);
    Ok((num.max(0) as u32, row.get(1)))
}

/// The major version in a `server_version_num` (150004 -> 15, 90624 -> 9).
pub(crate) fn major_of(version_num: u32) -> u32 {
    // Since 10 the major is the first two digits; before, 9.6 was 90600 and its "major" 9.6, but
    // comparing the first digit is enough to tell a too-old pg_dump from a new server.
    version_num / 10_000
}

/// Exact `count(*)` of every table (see [`TABLES`]) in `schemas` (all when empty), in the
/// session's current snapshot.
pub(crate) async fn table_counts(
    client: &tokio_postgres::Client,
    schemas: &[String],
    step: Step,
) -> Result<Vec<TableCount>> {
    let rows = client
        .query(TABLES, &[&schemas])
        .await
        .map_err(|e| db_error(step, "listing the tables", &e))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let (schema, table): (String, String) = (row.get(0), row.get(1));
        let sql = format!(
            "SELECT count(*) FROM {}.{}",
            quote_ident(&schema),
            quote_ident(&table)
        );
        let count: i64 = client
            .query_one(&sql, &[])
            .await
            .map_err(|e| db_error(step, &format!("counting the rows of {schema}.{table}"), &e))?
            .get(0);
        out.push(TableCount {
            schema,
            table,
            rows: count,
        });
    }
    Ok(out)
}

/// The migration history, in the manifest's form.
pub(crate) async fn migrations(
    client: &tokio_postgres::Client,
    step: Step,
) -> Result<Vec<MigrationRecord>> {
    let applied = stagesub_migrate::applied(client).await.map_err(|e| {
        BackupError::new(step, format!("could not read the migration history: {e}"))
    })?;
    Ok(applied.iter().map(MigrationRecord::from_applied).collect())
}

pub(crate) fn db_error(step: Step, what: &str, e: &tokio_postgres::Error) -> BackupError {
    BackupError::new(
        step,
        format!("{what} failed: {}", stagesub_pgconn::describe(e)),
    )
}

/// Starts `program args` with the libpq environment and stderr piped; stdin and stdout piped when
/// asked (else null: an unread pipe could fill and stall the child).
pub(crate) fn spawn(
    program: &std::path::Path,
    args: &[String],
    env: &LibpqEnv,
    (stdin, stdout): (bool, bool),
    step: Step,
) -> Result<Child> {
    let pipe = |yes: bool| if yes { Stdio::piped() } else { Stdio::null() };
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(pipe(stdin))
        .stdout(pipe(stdout))
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    apply_env(&mut command, env);
    command.spawn().map_err(|e| {
        BackupError::new(
            step,
            format!(
                "could not run {}: {e}; install the PostgreSQL client programs (Debian: apt-get \
                 install postgresql-client) or put them on PATH",
                program.display()
            ),
        )
    })
}

/// Reads a child's stderr to its end, keeping the last 32 KiB.
pub(crate) async fn collect_stderr(stderr: Option<ChildStderr>) -> String {
    const KEEP: usize = 32 * 1024;
    let Some(mut stderr) = stderr else {
        return String::new();
    };
    let mut kept = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = stderr.read(&mut buf).await {
        if n == 0 {
            break;
        }
        kept.extend_from_slice(&buf[..n]);
        if kept.len() > 2 * KEEP {
            kept.drain(..kept.len() - KEEP);
        }
    }
    let start = kept.len().saturating_sub(KEEP);
    String::from_utf8_lossy(&kept[start..]).into_owned()
}

/// The last lines of a child's stderr for a message (or a note that it printed nothing).
pub(crate) fn stderr_tail(stderr: &str) -> String {
    let tail = tail_lines(stderr, 8);
    if tail.is_empty() {
        "it printed nothing".to_string()
    } else {
        tail
    }
}

/// SHA-256 and size of a byte stream, fed piece by piece.
#[derive(Default)]
pub(crate) struct Digester {
    hasher: Sha256,
    pub(crate) size: u64,
}

impl Digester {
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.hasher.update(bytes);
        self.size += bytes.len() as u64;
    }

    pub(crate) fn hex(self) -> String {
        let digest = self.hasher.finalize();
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A libpq connection string naming only the database (the rest comes from the environment):
/// `pg_restore -d` needs one, and a bare name holding `=` would be read as a connection string.
pub(crate) fn dbname_conninfo(env: &LibpqEnv) -> String {
    let db = env
        .vars
        .iter()
        .find(|(k, _)| *k == "PGDATABASE")
        .map(|(_, v)| v.as_str())
        .unwrap_or("postgres");
    format!("dbname='{}'", db.replace('\\', "\\\\").replace('\'', "\\'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_in_pieces() {
        let mut d = Digester::default();
        d.update(b"ab");
        d.update(b"c");
        assert_eq!(d.size, 3);
        assert_eq!(
            d.hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(major_of(150004), 15);
        assert_eq!(major_of(90624), 9);
    }
}
