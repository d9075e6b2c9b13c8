//! `restore`: check the dump against its manifest, `pg_restore` it, compare the result.

use std::path::PathBuf;

use futures_util::StreamExt;
use object_store::ObjectStoreExt;
use tokio::io::AsyncWriteExt;

use crate::catalog::read_manifest;
use crate::error::{BackupError, Result, Step};
use crate::manifest::{BackupEntry, BackupRecord, MigrationRecord, TableCount};
use crate::pg::{self, Digester};
use crate::source::SourceDb;
use crate::store::BackupStore;
use crate::tools::PgTools;
use crate::verify::{Listing, list_dump, stream_object, without_existing_schemas};

/// Which backup to restore and how.
#[derive(Debug, Clone)]
pub struct RestoreRequest {
    /// The dump's URI (from a [`BackupRecord`], a [`BackupEntry`] or the provider's state).
    pub backup_uri: String,
    /// `pg_restore -j`: parallel jobs. Above 1 the dump is downloaded to a temporary file first
    /// (parallel restore needs a seekable file); 1 streams it without touching local disk.
    pub jobs: u32,
    /// The `pg_dump` and `pg_restore` to run.
    pub tools: PgTools,
    /// Folder for the temporary file of a parallel restore (default: the system's temp folder).
    pub temp_dir: Option<PathBuf>,
}

impl RestoreRequest {
    /// A request for the dump at `backup_uri` with `jobs` parallel jobs.
    pub fn new(backup_uri: impl Into<String>, jobs: u32) -> Self {
        RestoreRequest {
            backup_uri: backup_uri.into(),
            jobs,
            tools: PgTools::default(),
            temp_dir: None,
        }
    }
}

impl From<&BackupRecord> for RestoreRequest {
    fn from(record: &BackupRecord) -> Self {
        RestoreRequest::new(record.uri.clone(), 1)
    }
}

impl From<&BackupEntry> for RestoreRequest {
    fn from(entry: &BackupEntry) -> Self {
        RestoreRequest::new(entry.uri.clone(), 1)
    }
}

/// What a verified restore did.
#[derive(Debug, Clone, PartialEq)]
pub struct RestoreReport {
    /// The dump restored.
    pub uri: String,
    /// Its SHA-256 (checked against the manifest).
    pub sha256: String,
    /// Row counts checked equal to the manifest's.
    pub tables: Vec<TableCount>,
    /// Migrations checked equal to the manifest's history.
    pub migrations: usize,
    /// The tenant values from the manifest.
    pub tenant_values: serde_json::Value,
}

/// Restores the backup into `target` (an empty database), then checks row counts and migration
/// history against the manifest. `progress` is told each [`Step`] as it starts.
///
/// 1. `download`: the manifest is read, and the dump's SHA-256 and size checked against it
///    before anything touches `target`. With `jobs` = 1 the dump is read twice from the store
///    (once to check, once streamed into `pg_restore`'s stdin, checked again), so nothing is
///    written to local disk. With `jobs` > 1 `pg_restore -j` needs a seekable file: the dump is
///    downloaded once into a temporary file (mode 0600, in [`RestoreRequest::temp_dir`], deleted
///    afterwards, also on error); that needs free disk space of the dump's size.
/// 2. `restore`: `pg_restore --no-owner --no-privileges --exit-on-error [-j jobs]`; the password
///    travels in `PGPASSWORD`. A `pg_restore` older than the `pg_dump` that made the dump is
///    refused, naming the version needed.
/// 3. `verify-rows`: every table of the manifest must hold exactly its row count, and the
///    migration history must equal the manifest's; a mismatch names the table and both counts.
///
/// On error `target` may hold part of the data: treat it as unusable (the backup is untouched).
pub async fn restore<P>(
    store: &BackupStore,
    request: &RestoreRequest,
    target: &SourceDb,
    mut progress: P,
) -> Result<RestoreReport>
where
    P: FnMut(Step) + Send,
{
    if request.jobs == 0 {
        return Err(BackupError::new(
            Step::Config,
            "restore jobs must be at least 1",
        ));
    }
    progress(Step::Download);
    let manifest = read_manifest(store, &request.backup_uri)
        .await
        .map_err(|e| BackupError::new(Step::Download, e.message().to_string()))?;
    let key = store.key_of(&request.backup_uri)?;
    let (restore_major, _) =
        PgTools::major_version(&request.tools.pg_restore, Step::Restore).await?;
    let dump_major = crate::tools::parse_version(&manifest.pg_dump_version).unwrap_or(0);
    if restore_major < dump_major {
        return Err(BackupError::new(
            Step::Restore,
            format!(
                "{} is version {restore_major}, older than the pg_dump {dump_major} that made \
                 this backup; pg_restore {dump_major} or newer is needed: install \
                 postgresql-client-{dump_major} and put it first on PATH",
                request.tools.pg_restore.display()
            ),
        ));
    }
    let expect = |digest: Digester, when: &str| -> Result<()> {
        let size = digest.size;
        let sha = digest.hex();
        if size != manifest.dump.size || sha != manifest.dump.sha256 {
            return Err(BackupError::new(
                Step::Download,
                format!(
                    "{} {when} is {size} bytes with SHA-256 {sha}, but its manifest says {} \
                     bytes with SHA-256 {}; the backup is damaged: restore an older one \
                     (list the tenant's backups)",
                    request.backup_uri, manifest.dump.size, manifest.dump.sha256
                ),
            ));
        }
        Ok(())
    };
    let env = target.libpq_env()?;
    let mut args: Vec<String> = [
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--dbname",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(pg::dbname_conninfo(&env));

    // Schemas the target has already (`public`, a platform's own): their CREATE SCHEMA entries
    // are left out of the restore, which would otherwise stop at "already exists".
    let existing: Vec<String> = target
        .connect(Step::Restore)
        .await?
        .query("SELECT nspname::text FROM pg_namespace", &[])
        .await
        .map_err(|e| pg::db_error(Step::Restore, "reading the target's schemas", &e))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let unreadable = |listing: &Listing| {
        BackupError::new(
            Step::Restore,
            format!(
                "pg_restore --list cannot read {} ({})",
                request.backup_uri, listing.failure
            ),
        )
    };
    let mut list_file = None;
    let mut use_list = |toc: &str, args: &mut Vec<String>| -> Result<()> {
        if let Some(toc) = without_existing_schemas(toc, &existing) {
            let file = temp_file(request.temp_dir.as_deref(), ".list", toc.as_bytes())?;
            args.push(format!("--use-list={}", file.path().display()));
            list_file = Some(file);
        }
        Ok(())
    };

    let (status, stderr) = if request.jobs > 1 {
        let (file, digest) = download(store, &key, request.temp_dir.as_deref()).await?;
        expect(digest, "as downloaded")?;
        progress(Step::Restore);
        let (_, listing) = list_dump(
            store,
            &key,
            Some(file.path()),
            &request.tools,
            Step::Download,
            Step::Restore,
        )
        .await?;
        if !listing.ok {
            return Err(unreadable(&listing));
        }
        use_list(&listing.text, &mut args)?;
        args.push(format!("--jobs={}", request.jobs));
        args.push(file.path().display().to_string());
        let mut child = pg::spawn(
            &request.tools.pg_restore,
            &args,
            &env,
            (false, false),
            Step::Restore,
        )?;
        let stderr = tokio::spawn(pg::collect_stderr(child.stderr.take()));
        let status = child.wait().await;
        drop(file);
        (status, stderr.await.unwrap_or_default())
    } else {
        // The checking pass also reads the table of contents.
        let (digest, listing) = list_dump(
            store,
            &key,
            None,
            &request.tools,
            Step::Download,
            Step::Restore,
        )
        .await?;
        expect(digest.unwrap_or_default(), "as read")?;
        if !listing.ok {
            return Err(unreadable(&listing));
        }
        progress(Step::Restore);
        use_list(&listing.text, &mut args)?;
        let mut child = pg::spawn(
            &request.tools.pg_restore,
            &args,
            &env,
            (true, false),
            Step::Restore,
        )?;
        let stderr = tokio::spawn(pg::collect_stderr(child.stderr.take()));
        let streamed = stream_object(store, &key, child.stdin.take(), Step::Download).await;
        let status = child.wait().await;
        let stderr = stderr.await.unwrap_or_default();
        expect(streamed?, "as streamed into pg_restore")?;
        (status, stderr)
    };
    drop(list_file);
    let status = status.map_err(|e| {
        BackupError::new(Step::Restore, format!("waiting for pg_restore failed: {e}"))
    })?;
    if !status.success() {
        return Err(BackupError::new(
            Step::Restore,
            format!(
                "pg_restore into {} failed ({status}): {}; the backup is untouched, the target \
                 database may hold part of it",
                target.redacted(),
                pg::stderr_tail(&stderr)
            ),
        ));
    }

    progress(Step::VerifyRows);
    let client = target.connect(Step::VerifyRows).await?;
    let tables = pg::table_counts(&client, &[], Step::VerifyRows).await?;
    compare_tables(&manifest.tables, &tables)?;
    let migrations = pg::migrations(&client, Step::VerifyRows).await?;
    compare_migrations(&manifest.migrations, &migrations)?;
    Ok(RestoreReport {
        uri: request.backup_uri.clone(),
        sha256: manifest.dump.sha256.clone(),
        tables: manifest.tables.clone(),
        migrations: migrations.len(),
        tenant_values: manifest.tenant_values.clone(),
    })
}

/// A new temporary file (mode 0600) holding `bytes`, deleted when dropped.
fn temp_file(
    dir: Option<&std::path::Path>,
    suffix: &str,
    bytes: &[u8],
) -> Result<tempfile::NamedTempFile> {
    use std::io::Write;
    let mut builder = tempfile::Builder::new();
    builder.prefix("stagesub-restore-").suffix(suffix);
    let mut file = match dir {
        Some(dir) => builder.tempfile_in(dir),
        None => builder.tempfile(),
    }
    .and_then(|mut f| f.write_all(bytes).map(|()| f))
    .map_err(|e| {
        BackupError::new(
            Step::Download,
            format!("could not write a temporary file: {e}; check the temporary folder"),
        )
    })?;
    let _ = file.flush();
    Ok(file)
}

/// Downloads the object into a new temporary file, hashing it; the file is deleted when the
/// returned handle drops.
async fn download(
    store: &BackupStore,
    key: &object_store::path::Path,
    dir: Option<&std::path::Path>,
) -> Result<(tempfile::NamedTempFile, Digester)> {
    let fail = |e: std::io::Error| {
        BackupError::new(
            Step::Download,
            format!(
                "could not write the temporary dump file: {e}; free disk space of the dump's \
                 size or restore with jobs = 1 (streamed, no local file)"
            ),
        )
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix("stagesub-restore-").suffix(".dump");
    let file = match dir {
        Some(dir) => builder.tempfile_in(dir),
        None => builder.tempfile(),
    }
    .map_err(fail)?;
    let std_file = file.reopen().map_err(fail)?;
    let mut writer =
        tokio::io::BufWriter::with_capacity(1024 * 1024, tokio::fs::File::from_std(std_file));
    let uri = store.uri_of(key);
    let mut stream = store
        .inner
        .get(key)
        .await
        .map_err(|e| BackupError::store(Step::Download, &format!("could not read {uri}"), &e))?
        .into_stream();
    let mut digest = Digester::default();
    while let Some(piece) = stream.next().await {
        let piece = piece.map_err(|e| {
            BackupError::store(Step::Download, &format!("reading {uri} failed"), &e)
        })?;
        digest.update(&piece);
        writer.write_all(&piece).await.map_err(fail)?;
    }
    writer.flush().await.map_err(fail)?;
    writer.into_inner().sync_all().await.map_err(fail)?;
    Ok((file, digest))
}

/// Every table of the manifest must hold exactly its count.
fn compare_tables(expected: &[TableCount], actual: &[TableCount]) -> Result<()> {
    let mut problems = Vec::new();
    for want in expected {
        let got = actual
            .iter()
            .find(|t| t.schema == want.schema && t.table == want.table);
        match got {
            Some(got) if got.rows == want.rows => {}
            Some(got) => problems.push(format!(
                "{}.{} has {} rows, the backup {}",
                want.schema, want.table, got.rows, want.rows
            )),
            None => problems.push(format!(
                "{}.{} is missing (the backup has it with {} rows)",
                want.schema, want.table, want.rows
            )),
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let more = problems.len().saturating_sub(5);
    problems.truncate(5);
    let mut message = format!(
        "the restored database differs from the backup: {}",
        problems.join("; ")
    );
    if more > 0 {
        message.push_str(&format!(" (and {more} more tables)"));
    }
    Err(BackupError::new(Step::VerifyRows, message))
}

fn compare_migrations(expected: &[MigrationRecord], actual: &[MigrationRecord]) -> Result<()> {
    if expected == actual {
        return Ok(());
    }
    let first = expected
        .iter()
        .zip(actual)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(actual.len()));
    let name = |list: &[MigrationRecord]| {
        list.get(first).map_or("nothing".to_string(), |m| {
            format!("{} ({})", m.name, m.layout)
        })
    };
    Err(BackupError::new(
        Step::VerifyRows,
        format!(
            "the restored migration history differs from the backup's: {} migrations instead of \
             {}; at position {} the database has {}, the backup {}",
            actual.len(),
            expected.len(),
            first + 1,
            name(actual),
            name(expected)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(table: &str, rows: i64) -> TableCount {
        TableCount {
            schema: "public".into(),
            table: table.into(),
            rows,
        }
    }

    #[test]
    fn table_mismatch_names_table_and_counts() {
        let e = compare_tables(&[t("a", 3), t("b", 1)], &[t("a", 2)]).unwrap_err();
        assert_eq!(e.step(), Step::VerifyRows);
        assert!(
            e.message().contains("public.a has 2 rows, the backup 3"),
            "{e}"
        );
        assert!(e.message().contains("public.b is missing"), "{e}");
        assert!(compare_tables(&[t("a", 3)], &[t("a", 3), t("extra", 9)]).is_ok());
    }
}
