//! Shared helpers for the integration tests: fresh databases, scratch folders, a moto S3 server
//! on a free loopback port, and a TCP proxy that cuts the connection after a number of bytes.
#![allow(dead_code, unreachable_pub)]

use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use stagesub_backup::{BackupStore, SourceDb, StoreOptions, TlsOptions};
use stagesub_pgconn::{Client, connect};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The admin URL: `DATABASE_URL`, else the local trust-auth server.
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// `url` with its database name replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let authority = url.find("://").expect("URL with a scheme") + 3;
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let path_start = base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i);
    let mut out = format!("{}/{db}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

pub async fn admin_client() -> Client {
    connect(&admin_url(), &TlsOptions::default())
        .await
        .expect("connect with DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres)")
}

/// A database created for one test and dropped (even on panic) when this value is dropped.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn create(prefix: &str) -> TestDb {
        let name = unique(&format!("stagesub_bk_{prefix}"));
        admin_client()
            .await
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create test database");
        TestDb {
            url: with_database(&admin_url(), &name),
            name,
        }
    }

    pub async fn client(&self) -> Client {
        connect(&self.url, &TlsOptions::default())
            .await
            .expect("connect to the test database")
    }

    pub fn source(&self) -> SourceDb {
        SourceDb::new(self.url.clone(), TlsOptions::default()).unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let _ = admin_client()
                    .await
                    .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await;
            });
        })
        .join();
    }
}

/// The tenant data of the round trips: hostile text, bytea, jsonb, big numbers, sequences, and
/// both migration history tables.
pub const FIXTURE: &str = r#"
CREATE SCHEMA "odd ""schema""";
CREATE TABLE "odd ""schema"""."Musicians; DROP" (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    photo bytea,
    profile jsonb,
    balance numeric,
    big bigint
);
INSERT INTO "odd ""schema"""."Musicians; DROP" (name, photo, profile, balance, big)
SELECT 'it''s ''; DROP TABLE x; -- ' || g || E' \\ "q" ü 日本語 🎻 \t tab',
       decode(md5(g::text), 'hex') || '\x00ff'::bytea,
       jsonb_build_object('n', g, 's', E'quote" back\\ ''single''', 'arr', jsonb_build_array(g, null, true)),
       (10::numeric ^ 40) + g + 0.000000000000000001,
       9223372036854775807 - g
FROM generate_series(1, 3000) g;
CREATE SEQUENCE public.invoice_no START 1000;
SELECT setval('public.invoice_no', 4242);
CREATE TABLE public.empty_table (x int);
CREATE TABLE public."_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0);
INSERT INTO public."_prisma_migrations" VALUES
    ('1', 'aa', now(), '20240101000000_init', NULL, NULL, now(), 1),
    ('2', 'bb', now(), '20240201000000_more', NULL, NULL, now(), 1);
CREATE SCHEMA supabase_migrations;
CREATE TABLE supabase_migrations.schema_migrations (version text NOT NULL PRIMARY KEY, statements text[], name text);
INSERT INTO supabase_migrations.schema_migrations VALUES ('20240301000000', ARRAY['select 1'], 'orchestra');
"#;

/// The fixture's rows as text, in id order (every column, exact).
pub async fn fixture_rows(client: &Client) -> Vec<Vec<Option<String>>> {
    client
        .query(
            r#"SELECT id::text, name, encode(photo, 'hex'), profile::text, balance::text, big::text
               FROM "odd ""schema"""."Musicians; DROP" ORDER BY id"#,
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (0..6).map(|i| r.get::<_, Option<String>>(i)).collect())
        .collect()
}

/// The next values of the fixture's sequences (consumes one of each).
pub async fn next_values(client: &Client) -> (i64, i64) {
    let row = client
        .query_one(
            r#"SELECT nextval('public.invoice_no'),
                      nextval(pg_get_serial_sequence('"odd ""schema"""."Musicians; DROP"', 'id'))"#,
            &[],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

/// A scratch folder removed when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("stagesub-backup-test")
        .tempdir()
        .unwrap()
}

/// A file:// store in `dir`.
pub fn file_store(dir: &std::path::Path) -> BackupStore {
    BackupStore::from_url(&format!("file://{}", dir.display()), None).unwrap()
}

/// Store options that give up quickly (tests of faults).
pub fn fast_fail() -> StoreOptions {
    StoreOptions {
        max_retries: 1,
        retry_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(2),
        ..StoreOptions::default()
    }
}

/// Test credentials for moto (which accepts any). Each nextest test runs in its own process and
/// calls this before it starts other threads that read the environment.
pub const SECRET_KEY: &str = "test-secret-key-Zq9vQ";

pub fn aws_env() {
    // SAFETY: set before any S3 client exists; nextest runs each test in its own process.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
        std::env::set_var("AWS_REGION", "us-east-1");
        std::env::remove_var("AWS_SESSION_TOKEN");
        std::env::remove_var("AWS_PROFILE");
        std::env::remove_var("AWS_ENDPOINT");
    }
}

/// A port nobody listens on (bound, then released).
pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The moto_server program: `STAGESUB_MOTO`, else `.tools/moto-venv/bin/moto_server`.
fn moto_program() -> PathBuf {
    if let Some(path) = std::env::var_os("STAGESUB_MOTO").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let tools = std::env::var_os("STAGESUB_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.tools"));
    tools.join("moto-venv/bin/moto_server")
}

/// A moto S3 server on a free loopback port, with one bucket; killed when dropped.
pub struct Moto {
    child: Child,
    pub endpoint: String,
    pub port: u16,
    pub bucket: String,
}

impl Moto {
    pub async fn start() -> Moto {
        let program = moto_program();
        assert!(
            program.exists(),
            "{} is missing: run scripts/setup-tools.sh (it installs moto[server]) or set STAGESUB_MOTO",
            program.display()
        );
        for _ in 0..5 {
            let port = free_port();
            let child = Command::new(&program)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start moto_server");
            let mut moto = Moto {
                child,
                endpoint: format!("http://127.0.0.1:{port}"),
                port,
                bucket: "stagesub-backups".to_string(),
            };
            for _ in 0..200 {
                if let Ok(Some(_)) = moto.child.try_wait() {
                    break; // the port was taken: try another
                }
                if http(port, "PUT", &format!("/{}", moto.bucket))
                    .await
                    .is_some()
                {
                    return moto;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        panic!("moto_server did not start");
    }

    pub fn url(&self, prefix: &str) -> String {
        format!("s3://{}/{prefix}", self.bucket)
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One HTTP/1.1 request without body; the status code, or None when the server is not there.
async fn http(port: u16, method: &str, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace().nth(1)?.parse().ok()
}

/// A TCP proxy to `upstream` that forwards until `limit` bytes went upstream in total, then
/// drops every connection and refuses new ones (a store that fails half-way through an upload).
pub struct CuttingProxy {
    pub endpoint: String,
    pub tripped: Arc<AtomicBool>,
}

impl CuttingProxy {
    pub async fn start(upstream: u16, limit: u64) -> CuttingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let tripped = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let flag = tripped.clone();
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                if flag.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                    continue;
                };
                let (flag, sent) = (flag.clone(), sent.clone());
                tokio::spawn(async move {
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let up = async {
                        let mut buf = vec![0u8; 64 * 1024];
                        loop {
                            let n = match cr.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            if flag.load(Ordering::SeqCst)
                                || sent.fetch_add(n as u64, Ordering::SeqCst) + n as u64 > limit
                            {
                                flag.store(true, Ordering::SeqCst);
                                return;
                            }
                            if sw.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    };
                    let down = async {
                        let mut buf = vec![0u8; 64 * 1024];
                        loop {
                            let n = match sr.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            if flag.load(Ordering::SeqCst) || cw.write_all(&buf[..n]).await.is_err()
                            {
                                return;
                            }
                        }
                    };
                    // Whichever side ends first closes both (dropping the halves).
                    tokio::select! { _ = up => {}, _ = down => {} }
                });
            }
        });
        CuttingProxy {
            endpoint: format!("http://127.0.0.1:{port}"),
            tripped,
        }
    }
}
