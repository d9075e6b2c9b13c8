//! `archive`: dump in the database's snapshot, stream into the store while hashing, read back and
//! verify, then write the manifest (the manifest is what makes the dump a backup).

use chrono::Utc;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload, WriteMultipart};
use tokio::io::AsyncReadExt;

use crate::catalog::check_subdomain;
use crate::error::{BackupError, Result, Step};
use crate::manifest::{
    BackupRecord, DumpInfo, MANIFEST_FORMAT, MANIFEST_VERSION, Manifest, manifest_key_for,
};
use crate::pg;
use crate::source::SourceDb;
use crate::store::BackupStore;
use crate::tools::PgTools;
use crate::verify;

/// The `pg_dump` options every backup is made with.
pub(crate) const DUMP_OPTIONS: [&str; 3] = ["--format=custom", "--no-owner", "--no-privileges"];

/// What to archive and how.
#[derive(Debug, Clone)]
pub struct ArchiveRequest {
    /// The tenant's subdomain: the folder under the store's prefix.
    pub subdomain: String,
    /// The tenant's values, kept in the manifest for the restore's seed.
    pub tenant_values: serde_json::Value,
    /// The `pg_dump` and `pg_restore` to run.
    pub tools: PgTools,
    /// Schemas to dump (`pg_dump --schema`, names matched exactly); empty for the whole database.
    /// A Supabase project's own schemas (`auth`, `storage`, ...) exist again in a new project, so
    /// its archive names the tenant's schemas, e.g. `public` and `supabase_migrations`.
    pub schemas: Vec<String>,
}

impl ArchiveRequest {
    /// A request with the programs from `PATH`.
    pub fn new(subdomain: impl Into<String>, tenant_values: serde_json::Value) -> Self {
        ArchiveRequest {
            subdomain: subdomain.into(),
            tenant_values,
            tools: PgTools::default(),
            schemas: Vec::new(),
        }
    }
}

/// Archives `source` into `store` as `<prefix>/<subdomain>/<UTC timestamp>.dump` plus
/// `<same>.manifest.json`, and returns the backup only once it is verified.
///
/// Steps ([`Step`], each told to `progress` as it starts):
/// 1. `connect`: server version; a `REPEATABLE READ` transaction whose snapshot `pg_dump` shares
///    (`--snapshot`), so the row counts and migration history describe exactly the dump.
/// 2. `dump` + `upload`: `pg_dump -Fc --no-owner --no-privileges` (refused, naming the version
///    needed, when older than the server), its output streamed as a multipart upload in parts of
///    [`StoreOptions::part_size`](crate::StoreOptions) while hashing: memory stays at a few
///    parts, nothing is written to local disk.
/// 3. `read-back` + `verify-list`: the object is read back, hashed, and piped into
///    `pg_restore --list` (is it a readable archive?).
/// 4. `manifest`: written beside the dump and read back.
///
/// A failure at any step removes what it uploaded (best effort; a dump left without manifest is
/// never listed as a backup) and touches nothing in the database, which is only read.
pub async fn archive<P>(
    store: &BackupStore,
    source: &SourceDb,
    request: &ArchiveRequest,
    mut progress: P,
) -> Result<BackupRecord>
where
    P: FnMut(Step) + Send,
{
    check_subdomain(&request.subdomain)?;
    progress(Step::Connect);
    let client = source.connect(Step::Connect).await?;
    let (server_num, server_version) = pg::server_version(&client, Step::Connect).await?;

    progress(Step::Dump);
    let (local_major, pg_dump_version) =
        PgTools::major_version(&request.tools.pg_dump, Step::Dump).await?;
    let server_major = pg::major_of(server_num);
    if local_major < server_major {
        return Err(BackupError::new(
            Step::Dump,
            format!(
                "{} is version {local_major}, older than the server (PostgreSQL \
                 {server_version}); pg_dump {server_major} or newer is needed: install \
                 postgresql-client-{server_major} and put it first on PATH",
                request.tools.pg_dump.display()
            ),
        ));
    }
    client
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(|e| pg::db_error(Step::Connect, "starting the snapshot transaction", &e))?;
    let snapshot: String = client
        .query_one("SELECT pg_export_snapshot()", &[])
        .await
        .map_err(|e| pg::db_error(Step::Connect, "exporting the snapshot", &e))?
        .get(0);
    let created_at = Utc::now();
    let key = ObjectPath::from(format!(
        "{}/{}.dump",
        store.tenant_dir(&request.subdomain),
        created_at.format("%Y%m%dT%H%M%S%.3fZ")
    ));
    let uri = store.uri_of(&key);
    let env = source.libpq_env()?;
    let mut args: Vec<String> = DUMP_OPTIONS.iter().map(|s| s.to_string()).collect();
    args.push(format!("--snapshot={snapshot}"));
    for schema in &request.schemas {
        // Inside double quotes a pattern matches literally; a quote is written twice.
        args.push(format!("--schema=\"{}\"", schema.replace('"', "\"\"")));
    }

    // The row counts run in the exported snapshot while pg_dump streams.
    let counts = async {
        let tables = pg::table_counts(&client, &request.schemas, Step::Connect).await?;
        let migrations = pg::migrations(&client, Step::Connect).await?;
        Ok::<_, BackupError>((tables, migrations))
    };
    let upload = dump_and_upload(store, &key, &request.tools, &args, &env, &mut progress);
    let (counts, uploaded) = tokio::join!(counts, upload);
    let _ = client.batch_execute("COMMIT").await;
    let (sha256, size) = uploaded?;
    let (tables, migrations) = match counts {
        Ok(c) => c,
        Err(e) => {
            remove(store, &key).await;
            return Err(e);
        }
    };

    if let Err(e) =
        verify::read_back(store, &key, &sha256, size, &request.tools, &mut progress).await
    {
        remove(store, &key).await;
        return Err(e);
    }

    progress(Step::Manifest);
    let manifest = Manifest {
        format: MANIFEST_FORMAT.to_string(),
        format_version: MANIFEST_VERSION,
        subdomain: request.subdomain.clone(),
        created_at,
        dump: DumpInfo {
            uri: uri.clone(),
            sha256: sha256.clone(),
            size,
            format: DUMP_OPTIONS.join(" "),
        },
        server_version_num: server_num,
        server_version,
        pg_dump_version,
        tables,
        migrations,
        tenant_values: request.tenant_values.clone(),
        schemas: request.schemas.clone(),
    };
    let manifest_key = ObjectPath::from(manifest_key_for(key.as_ref()));
    let manifest_uri = store.uri_of(&manifest_key);
    if let Err(e) = write_manifest(store, &manifest_key, &manifest).await {
        remove(store, &manifest_key).await;
        remove(store, &key).await;
        return Err(e);
    }
    Ok(BackupRecord {
        uri,
        manifest_uri,
        sha256,
        size,
        created_at,
        manifest,
    })
}

/// Runs pg_dump and streams its stdout into a multipart upload at `key`; returns the SHA-256 and
/// size. On any failure the upload is aborted (S3 drops the parts; a folder its staging file).
async fn dump_and_upload<P>(
    store: &BackupStore,
    key: &ObjectPath,
    tools: &PgTools,
    args: &[String],
    env: &crate::source::LibpqEnv,
    progress: &mut P,
) -> Result<(String, u64)>
where
    P: FnMut(Step) + Send,
{
    let mut child = pg::spawn(&tools.pg_dump, args, env, (false, true), Step::Dump)?;
    let stderr = tokio::spawn(pg::collect_stderr(child.stderr.take()));
    let Some(mut stdout) = child.stdout.take() else {
        return Err(BackupError::new(Step::Dump, "pg_dump has no output pipe"));
    };
    progress(Step::Upload);
    let upload = store.inner.put_multipart(key).await.map_err(|e| {
        BackupError::store(
            Step::Upload,
            "could not start the upload to the backup store (check the backup URL, endpoint, \
             network and AWS credentials)",
            &e,
        )
    })?;
    let options = &store.options;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, options.part_size);
    let mut digest = pg::Digester::default();
    let mut buf = vec![0u8; 256 * 1024];
    let streamed: Result<()> = async {
        loop {
            let n = stdout.read(&mut buf).await.map_err(|e| {
                BackupError::new(Step::Dump, format!("reading pg_dump's output failed: {e}"))
            })?;
            if n == 0 {
                return Ok(());
            }
            digest.update(&buf[..n]);
            writer
                .wait_for_capacity(options.parts_in_flight)
                .await
                .map_err(|e| BackupError::store(Step::Upload, "uploading the dump failed", &e))?;
            writer.write(&buf[..n]);
        }
    }
    .await;
    if let Err(e) = streamed {
        let _ = child.start_kill();
        let _ = child.wait().await;
        let _ = writer.abort().await;
        return Err(e);
    }
    let status = child
        .wait()
        .await
        .map_err(|e| BackupError::new(Step::Dump, format!("waiting for pg_dump failed: {e}")))?;
    let stderr = stderr.await.unwrap_or_default();
    if !status.success() {
        let _ = writer.abort().await;
        return Err(BackupError::new(
            Step::Dump,
            format!(
                "pg_dump failed ({status}): {}; nothing was deleted",
                pg::stderr_tail(&stderr)
            ),
        ));
    }
    if digest.size == 0 {
        let _ = writer.abort().await;
        return Err(BackupError::new(Step::Dump, "pg_dump wrote nothing"));
    }
    writer.finish().await.map_err(|e| {
        BackupError::store(Step::Upload, "completing the upload of the dump failed", &e)
    })?;
    let size = digest.size;
    Ok((digest.hex(), size))
}

async fn write_manifest(store: &BackupStore, key: &ObjectPath, manifest: &Manifest) -> Result<()> {
    let json = manifest.to_json();
    store
        .inner
        .put(key, PutPayload::from(json.clone()))
        .await
        .map_err(|e| BackupError::store(Step::Manifest, "writing the manifest failed", &e))?;
    let back = store
        .inner
        .get(key)
        .await
        .map_err(|e| BackupError::store(Step::Manifest, "reading the manifest back failed", &e))?
        .bytes()
        .await
        .map_err(|e| BackupError::store(Step::Manifest, "reading the manifest back failed", &e))?;
    if back.as_ref() != json.as_slice() {
        return Err(BackupError::new(
            Step::Manifest,
            "the manifest read back differs from the one written; check the backup store",
        ));
    }
    Ok(())
}

/// Deletes an object this archive wrote and did not verify (best effort: a leftover dump has no
/// manifest, so it is not a backup).
async fn remove(store: &BackupStore, key: &ObjectPath) {
    let _ = store.inner.delete(key).await;
}
