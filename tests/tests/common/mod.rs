//! Shared pieces of the provider acceptance tests (`provider_*.rs`): unique subdomains, HCL for the
//! provider and `stagesub_orchestra_database` blocks, a Supabase stand-in started in-process, a tiny
//! HTTP client for its API, and clean-up guards for what the provider creates.
//!
//! Every test binary compiles this module; not every binary uses every helper.
#![allow(dead_code, unreachable_pub)]

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use stagesub_acceptance::{InstallMode, LocalProvider, Terraform, hcl_string, postgres, repo_root};
use supabase_standin::{Config, FaultsPatch, RunningStandin, Stats};

/// The access token tests give the provider (the stand-in accepts any `sbp_` + 40 hex digits).
pub const TOKEN: &str = "sbp_0123456789abcdef0123456789abcdef01234567";

/// The token of the tests' own API calls: the stand-in limits each token separately, so checks
/// made by a test do not use up the provider's rate-limit window.
pub const CHECK_TOKEN: &str = "sbp_fedcba9876543210fedcba9876543210fedcba98";

/// A short lowercase suffix no other test run uses (pid, counter and clock mixed, base 36).
pub fn suffix() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let mut n = (nanos as u64)
        ^ (u64::from(std::process::id()) << 40)
        ^ (u64::from(COUNTER.fetch_add(1, Ordering::Relaxed)) << 52);
    let mut out = String::new();
    for _ in 0..8 {
        let d = (n % 36) as u32;
        out.push(char::from_digit(d, 36).expect("digit below 36"));
        n /= 36;
    }
    out
}

/// `<prefix>-<suffix>`: a valid, unique subdomain.
pub fn subdomain(prefix: &str) -> String {
    format!("{prefix}-{}", suffix())
}

/// `required_providers` for `stagesub/stagesub` (Terraform 1.0 needs it to find the provider).
pub const REQUIRED_PROVIDERS: &str = r#"terraform {
  required_providers {
    stagesub = {
      source = "stagesub/stagesub"
    }
  }
}
"#;

/// Terraform 1.15.5 with our provider through `dev_overrides`.
pub fn terraform() -> Terraform {
    with_provider(Terraform::latest())
}

/// Terraform 1.0.3 with our provider through `dev_overrides`.
pub fn terraform_1_0() -> Terraform {
    with_provider(Terraform::v1_0())
}

/// Adds our provider binary to `tf`.
pub fn with_provider(tf: Terraform) -> Terraform {
    tf.with_provider(LocalProvider::stagesub(
        stagesub_acceptance::provider_binary(),
        InstallMode::DevOverride,
    ))
    .without_env("SUPABASE_ACCESS_TOKEN")
    .without_env("SUPABASE_ORGANIZATION_SLUG")
    .without_env("SUPABASE_API_URL")
    .without_env("STAGESUB_POSTGRES_URL")
    .without_env("STAGESUB_BACKEND")
    .without_env("STAGESUB_DIRECTORY_URL")
    .without_env("STAGESUB_DIRECTORY_KEYS")
    .without_env("STAGESUB_DIRECTORY_READER_ROLE")
}

/// Provider block for the `postgres` backend on the test server.
pub fn postgres_provider() -> String {
    format!(
        "{REQUIRED_PROVIDERS}\nprovider \"stagesub\" {{\n  backend      = \"postgres\"\n  postgres_url = {}\n}}\n",
        hcl_string(&postgres::admin_url())
    )
}

/// One `stagesub_orchestra_database` block; `extra` is raw HCL put inside it.
pub fn orchestra(label: &str, subdomain: &str, name: &str, extra: &str) -> String {
    format!(
        "resource \"stagesub_orchestra_database\" {label:?} {{\n  subdomain      = {}\n  orchestra_name = {}\n{extra}}}\n",
        hcl_string(subdomain),
        hcl_string(name)
    )
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Copies fixture app `name` (`tests/fixtures/<name>`) into the Terraform folder: tests add, break
/// and delete migrations in the copy.
pub fn app(tf: &Terraform, name: &str) -> PathBuf {
    let to = tf.workdir().join(name);
    copy_dir(&repo_root().join("tests/fixtures").join(name), &to);
    to
}

/// Seed SQL that keeps the tenant values in a one-row table `orchestra_profile`.
pub const PROFILE_SEED: &str = "CREATE TABLE IF NOT EXISTS orchestra_profile (id int PRIMARY KEY, name text NOT NULL, subdomain text NOT NULL);\nINSERT INTO orchestra_profile VALUES (1, current_setting('stagesub.orchestra_name'), current_setting('stagesub.subdomain'))\n  ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, subdomain = EXCLUDED.subdomain;\n";

/// `  seed_sql = <PROFILE_SEED>\n` as HCL.
pub fn profile_seed_attr() -> String {
    format!("  seed_sql = {}\n", hcl_string(PROFILE_SEED))
}

/// A string attribute of a resource in the state (`None` when absent or null).
pub fn state_str(tf: &Terraform, address: &str, attr: &str) -> Option<String> {
    tf.resource_values(address)?
        .get(attr)?
        .as_str()
        .map(str::to_owned)
}

/// Runs `sql` over a connection URL the provider produced (TLS parameters dropped: the local test
/// server accepts plain connections), returning the rows or the error text.
pub fn try_query(url: &str, sql: &str) -> Result<Vec<Vec<Option<String>>>, String> {
    let url = url.split('?').next().unwrap_or(url).to_owned();
    let sql = sql.to_owned();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async move {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .map_err(|e| format!("connect: {}", db_message(&e)))?;
            tokio::spawn(connection);
            let messages = client
                .simple_query(&sql)
                .await
                .map_err(|e| format!("query: {}", db_message(&e)))?;
            Ok(messages
                .into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                        (0..row.len())
                            .map(|i| row.get(i).map(str::to_owned))
                            .collect(),
                    ),
                    _ => None,
                })
                .collect())
        })
    })
    .join()
    .expect("query thread")
}

/// The server's message (with SQLSTATE) when there is one, else the driver's.
fn db_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

/// The seeded `orchestra_profile.name` read through the resource's `database_url`.
pub fn seeded_name(tf: &Terraform, address: &str) -> String {
    let url = state_str(tf, address, "database_url").expect("database_url in state");
    let rows = try_query(&url, "SELECT name FROM orchestra_profile WHERE id = 1")
        .unwrap_or_else(|e| panic!("reading the seed of {address}: {e}"));
    rows[0][0].clone().expect("name is not null")
}

/// Drops the databases and roles the `postgres` backend made for these subdomains, on drop.
#[derive(Debug, Default)]
pub struct PgTenants(pub Vec<String>);

impl PgTenants {
    /// A guard for these subdomains.
    pub fn new(subdomains: &[&str]) -> Self {
        PgTenants(subdomains.iter().map(|s| (*s).to_owned()).collect())
    }

    /// The database (and role) name of a subdomain, as the provider names it.
    pub fn database(subdomain: &str) -> String {
        stagesub_provider_database_name(subdomain)
    }
}

/// `orchestra_<subdomain>` with `-` as `_` (the provider's naming; subdomains in tests are short).
pub fn stagesub_provider_database_name(subdomain: &str) -> String {
    let name = format!("orchestra_{}", subdomain.replace('-', "_"));
    assert!(name.len() <= 63, "test subdomain {subdomain} too long");
    name
}

impl Drop for PgTenants {
    fn drop(&mut self) {
        for sub in &self.0 {
            let name = stagesub_provider_database_name(sub);
            let _ = std::panic::catch_unwind(|| {
                postgres::drop_database(&name);
                postgres::query(
                    &postgres::admin_url(),
                    &format!("DROP ROLE IF EXISTS \"{name}\""),
                );
            });
        }
    }
}

/// A Supabase stand-in running in this test process (its own runtime and port).
pub struct Standin {
    runtime: Option<tokio::runtime::Runtime>,
    inner: Option<RunningStandin>,
    /// The organization the test's projects belong to (unique per test).
    pub org: String,
}

impl Standin {
    /// Starts a stand-in with fast lifecycle timing (projects healthy after 300 ms, pooler lag
    /// 200 ms, pause 200 ms) and the knobs in `patch` on top.
    pub fn start(patch: FaultsPatch) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let mut config = Config::new(postgres::admin_url());
        config.faults.healthy_after_ms = 300;
        config.faults.pooler_lag_ms = 200;
        config.faults.pause_ms = 200;
        config
            .faults
            .apply(&patch)
            .expect("valid stand-in knobs in the test");
        let inner = runtime
            .block_on(supabase_standin::start(config))
            .unwrap_or_else(|e| panic!("supabase-standin did not start: {e}"));
        Standin {
            runtime: Some(runtime),
            inner: Some(inner),
            org: format!("org-{}", suffix()),
        }
    }

    fn inner(&self) -> &RunningStandin {
        self.inner.as_ref().expect("stand-in running")
    }

    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        self.inner().base_url().to_owned()
    }

    /// Changes fault knobs.
    pub fn set(&self, patch: FaultsPatch) {
        self.inner().set_faults(patch).expect("valid knobs");
    }

    /// Call counts.
    pub fn stats(&self) -> Stats {
        self.inner().stats()
    }

    /// Zeroes the call counts.
    pub fn reset_stats(&self) {
        self.inner().reset_stats();
    }

    /// Provider block pointing at this stand-in and organization.
    pub fn provider_hcl(&self) -> String {
        format!(
            "{REQUIRED_PROVIDERS}\nprovider \"stagesub\" {{\n  backend           = \"supabase\"\n  access_token      = {}\n  organization_slug = {}\n  api_url           = {}\n}}\n",
            hcl_string(TOKEN),
            hcl_string(&self.org),
            hcl_string(&self.url())
        )
    }

    /// A call to the stand-in's API with [`CHECK_TOKEN`]; returns status and parsed JSON body.
    /// Injected 5xx answers are retried (the `error_rate_5xx` knob applies to every caller).
    pub fn api(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        for _ in 0..20 {
            let (status, value) = http(&self.url(), method, path, body);
            if !(500..600).contains(&status) {
                return (status, value);
            }
        }
        panic!("{method} {path}: 20 server errors in a row")
    }

    /// The test organization's projects (`GET /v1/organizations/{slug}/projects`, all pages).
    pub fn projects(&self) -> Vec<Value> {
        let mut all = Vec::new();
        loop {
            let (status, body) = self.api(
                "GET",
                &format!(
                    "/v1/organizations/{}/projects?limit=100&offset={}",
                    self.org,
                    all.len()
                ),
                None,
            );
            assert_eq!(status, 200, "listing projects: {body}");
            let page = body["projects"].as_array().cloned().unwrap_or_default();
            let done = page.len() < 100;
            all.extend(page);
            if done {
                return all;
            }
        }
    }

    /// Uses up the provider token's current rate-limit window (calls until a 429), so the provider's
    /// next calls meet a 429 storm; returns how many calls that took.
    pub fn exhaust_provider_window(&self) -> usize {
        let path = format!("/v1/organizations/{}/projects", self.org);
        for n in 1..=10_000 {
            let (status, _) = http_as(TOKEN, &self.url(), "GET", &path, None);
            if status == 429 {
                return n;
            }
        }
        panic!("no 429 after 10,000 calls: is the rate limit on?")
    }

    /// One project (`GET /v1/projects/{ref}`), `None` when 404.
    pub fn project(&self, project_ref: &str) -> Option<Value> {
        let (status, body) = self.api("GET", &format!("/v1/projects/{project_ref}"), None);
        match status {
            200 => Some(body),
            404 => None,
            other => panic!("GET project {project_ref}: {other} {body}"),
        }
    }

    /// Deletes a project behind Terraform's back.
    pub fn delete_project(&self, project_ref: &str) {
        let (status, body) = self.api("DELETE", &format!("/v1/projects/{project_ref}"), None);
        assert_eq!(status, 200, "delete {project_ref}: {body}");
    }

    /// `POST /_standin/bulk-projects`: `count` metadata-only `ACTIVE_HEALTHY` projects in the
    /// test organization named `<name_prefix>1..count`; returns their refs in order.
    pub fn bulk_projects(&self, count: usize, name_prefix: &str) -> Vec<String> {
        let body = serde_json::json!({
            "count": count,
            "name_prefix": name_prefix,
            "organization_slug": self.org,
            "region": "eu-central-1",
        });
        let (status, answer) = self.api("POST", "/_standin/bulk-projects", Some(&body));
        assert_eq!(status, 201, "bulk-projects: {answer}");
        answer["refs"]
            .as_array()
            .expect("refs")
            .iter()
            .map(|r| r.as_str().expect("ref").to_owned())
            .collect()
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        if let (Some(runtime), Some(inner)) = (self.runtime.take(), self.inner.take()) {
            // Drops the real databases and roles of the projects it still holds.
            if let Err(e) = runtime.block_on(inner.shutdown()) {
                eprintln!("stand-in shutdown: {e}");
            }
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

/// A minimal HTTP/1.1 client for the stand-in (loopback only, `Connection: close`), as [`CHECK_TOKEN`].
pub fn http(base_url: &str, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    http_as(CHECK_TOKEN, base_url, method, path, body)
}

/// [`http`] with another bearer token.
pub fn http_as(
    token: &str,
    base_url: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let addr = base_url
        .strip_prefix("http://")
        .expect("stand-in URL is http://");
    let mut stream = TcpStream::connect(addr).expect("connect to the stand-in");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let payload = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        payload.len()
    );
    stream.write_all(request.as_bytes()).expect("send request");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read answer");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad HTTP answer: {head}"));
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body_text = if chunked {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    let value = serde_json::from_str(&body_text).unwrap_or(Value::String(body_text));
    (status, value)
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size_line, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size_line.trim(), 16).unwrap_or(0);
        if size == 0 || after.len() < size {
            break;
        }
        out.push_str(&after[..size]);
        rest = after[size..].trim_start_matches("\r\n");
    }
    out
}

/// Polls `check` every 100 ms until it is true or `timeout` passes; returns whether it became true.
pub fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if check() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
