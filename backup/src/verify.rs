//! Reading a dump back from the store: hashing it while piping it into a child process
//! (`pg_restore --list` after an archive, `pg_restore` itself during a streamed restore).

use futures_util::StreamExt;
use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;
use tokio::io::AsyncWriteExt;
use tokio::process::ChildStdin;

use crate::error::{BackupError, Result, Step};
use crate::pg::{self, Digester};
use crate::store::BackupStore;
use crate::tools::PgTools;

/// Streams the object at `key` through a digest, writing each piece to `sink` while it accepts
/// them (a child that exits early, as `pg_restore --list` does after the table of contents, just
/// stops receiving). `step` names read errors.
pub(crate) async fn stream_object(
    store: &BackupStore,
    key: &ObjectPath,
    mut sink: Option<ChildStdin>,
    step: Step,
) -> Result<Digester> {
    let uri = store.uri_of(key);
    let result = store
        .inner
        .get(key)
        .await
        .map_err(|e| BackupError::store(step, &format!("could not read {uri}"), &e))?;
    let mut stream = result.into_stream();
    let mut digest = Digester::default();
    while let Some(piece) = stream.next().await {
        let piece =
            piece.map_err(|e| BackupError::store(step, &format!("reading {uri} failed"), &e))?;
        digest.update(&piece);
        if let Some(stdin) = sink.as_mut()
            && stdin.write_all(&piece).await.is_err()
        {
            sink = None;
        }
    }
    if let Some(mut stdin) = sink {
        let _ = stdin.shutdown().await;
    }
    Ok(digest)
}

/// Reads the uploaded dump back: its SHA-256 and size must be what was uploaded
/// ([`Step::ReadBack`]), and `pg_restore --list` must read it ([`Step::VerifyList`]).
pub(crate) async fn read_back<P>(
    store: &BackupStore,
    key: &ObjectPath,
    sha256: &str,
    size: u64,
    tools: &PgTools,
    progress: &mut P,
) -> Result<()>
where
    P: FnMut(Step) + Send,
{
    progress(Step::ReadBack);
    let uri = store.uri_of(key);
    let mut child = tokio::process::Command::new(&tools.pg_restore)
        .arg("--list")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            BackupError::new(
                Step::VerifyList,
                format!(
                    "could not run {}: {e}; install the PostgreSQL client programs or put them \
                     on PATH",
                    tools.pg_restore.display()
                ),
            )
        })?;
    let stdin = child.stdin.take();
    let stdout = tokio::spawn(read_all(child.stdout.take()));
    let stderr = tokio::spawn(pg::collect_stderr(child.stderr.take()));
    let digest = stream_object(store, key, stdin, Step::ReadBack).await?;
    let (got_size, got_sha) = (digest.size, digest.hex());
    if got_size != size || got_sha != sha256 {
        return Err(BackupError::new(
            Step::ReadBack,
            format!(
                "{uri} read back as {got_size} bytes with SHA-256 {got_sha}, but {size} bytes \
                 with SHA-256 {sha256} were uploaded; the store changed or lost data, so this \
                 dump is not a backup"
            ),
        ));
    }
    progress(Step::VerifyList);
    let status = child.wait().await.map_err(|e| {
        BackupError::new(
            Step::VerifyList,
            format!("waiting for pg_restore failed: {e}"),
        )
    })?;
    let listing = stdout.await.unwrap_or_default();
    let stderr = stderr.await.unwrap_or_default();
    if !status.success() || !listing.contains("Format: CUSTOM") {
        return Err(BackupError::new(
            Step::VerifyList,
            format!(
                "pg_restore --list cannot read {uri} ({status}): {}",
                pg::stderr_tail(&stderr)
            ),
        ));
    }
    Ok(())
}

async fn read_all(stdout: Option<tokio::process::ChildStdout>) -> String {
    use tokio::io::AsyncReadExt;
    let mut text = String::new();
    if let Some(mut out) = stdout {
        let mut bytes = Vec::new();
        let _ = out.read_to_end(&mut bytes).await;
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    text
}
