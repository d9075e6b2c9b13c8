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

/// What `pg_restore --list` said about a dump.
pub(crate) struct Listing {
    /// Its exit status was success and the listing names the custom format.
    pub(crate) ok: bool,
    /// The table of contents.
    pub(crate) text: String,
    /// A description of the failure (status and stderr tail) when not `ok`.
    pub(crate) failure: String,
}

/// Runs `pg_restore --list` on the dump at `file`, or on the object at `key` streamed into its
/// stdin (then also hashing the object). `step` names the errors of running it.
pub(crate) async fn list_dump(
    store: &BackupStore,
    key: &ObjectPath,
    file: Option<&std::path::Path>,
    tools: &PgTools,
    read_step: Step,
    step: Step,
) -> Result<(Option<Digester>, Listing)> {
    let mut command = tokio::process::Command::new(&tools.pg_restore);
    command.arg("--list");
    if let Some(file) = file {
        command.arg(file);
    }
    let mut child = command
        .stdin(if file.is_some() {
            std::process::Stdio::null()
        } else {
            std::process::Stdio::piped()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            BackupError::new(
                step,
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
    let digest = match file {
        Some(_) => None,
        None => Some(stream_object(store, key, stdin, read_step).await?),
    };
    let status = child.wait().await.map_err(|e| {
        BackupError::new(step, format!("waiting for pg_restore --list failed: {e}"))
    })?;
    let text = stdout.await.unwrap_or_default();
    let stderr = stderr.await.unwrap_or_default();
    let ok = status.success() && text.contains("Format: CUSTOM");
    let failure = format!("{status}: {}", pg::stderr_tail(&stderr));
    Ok((digest, Listing { ok, text, failure }))
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
    let (digest, listing) =
        list_dump(store, key, None, tools, Step::ReadBack, Step::VerifyList).await?;
    let digest = digest.unwrap_or_default();
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
    if !listing.ok {
        return Err(BackupError::new(
            Step::VerifyList,
            format!("pg_restore --list cannot read {uri} ({})", listing.failure),
        ));
    }
    Ok(())
}

/// The table of contents without the `CREATE SCHEMA` (and schema comment) entries of schemas that
/// already exist in the target (`public` always does; a selective dump creates it), or None when
/// nothing is left out.
pub(crate) fn without_existing_schemas(toc: &str, existing: &[String]) -> Option<String> {
    let mut dropped = false;
    let mut out = String::with_capacity(toc.len());
    for line in toc.lines() {
        let entry = line
            .split_once("; ")
            .filter(|(id, _)| !id.starts_with(';') && id.chars().all(|c| c.is_ascii_digit()))
            .map(|(_, rest)| rest);
        let skip = entry.is_some_and(|rest| {
            // `<tableoid> <oid> SCHEMA - <name> <owner>` or `... COMMENT - SCHEMA <name> <owner>`.
            let mut parts = rest.splitn(3, ' ');
            let (_, _, what) = (parts.next(), parts.next(), parts.next().unwrap_or(""));
            existing.iter().any(|name| {
                what.starts_with(&format!("SCHEMA - {name} "))
                    || what.starts_with(&format!("COMMENT - SCHEMA {name} "))
            })
        });
        if skip {
            dropped = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    dropped.then_some(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_out_existing_schemas_only() {
        let toc = ";\n; Archive created at\n;\n5; 2615 2200 SCHEMA - public pg_database_owner\n\
                   6; 0 0 COMMENT - SCHEMA public pg_database_owner\n\
                   7; 2615 16385 SCHEMA - odd \"schema\" postgres\n\
                   8; 1259 16386 TABLE public t postgres\n";
        let out = without_existing_schemas(toc, &["public".into()]).unwrap();
        assert!(!out.contains("SCHEMA - public"), "{out}");
        assert!(!out.contains("COMMENT - SCHEMA public"), "{out}");
        assert!(out.contains("SCHEMA - odd \"schema\" postgres"), "{out}");
        assert!(out.contains("TABLE public t"), "{out}");
        assert!(without_existing_schemas(toc, &["other".into()]).is_none());
    }
}
