//! Shared helpers of the bridge's integration tests: a private database per test, a real bare git
//! remote, events signed by Stripe's official Node library, and the tool paths from TOOLS.md.
#![allow(dead_code, unreachable_pub, missing_docs, unused_imports)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Value, json};
use stagesub_bridge::store::Store;
use stagesub_bridge::worker::{self, WorkerContext};
use stagesub_bridge::{AppState, app};
use stagesub_gitops::CommitMode;
use stagesub_gitops::git::{GitCliConfig, GitCliPublisher};

mod owners;
pub use owners::*;

pub const SECRET: &str = "whsec_test_bridge_secret";

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn tools_dir() -> PathBuf {
    std::env::var_os("STAGESUB_TOOLS_DIR").map_or_else(|| repo_root().join(".tools"), PathBuf::from)
}

fn need(path: PathBuf, what: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} not found at {}: run scripts/setup-tools.sh",
        path.display()
    );
    path
}

pub fn terraform() -> PathBuf {
    need(
        std::env::var_os("STAGESUB_TERRAFORM")
            .map_or_else(|| tools_dir().join("bin/terraform"), PathBuf::from),
        "terraform",
    )
}

pub fn smtp_sink() -> PathBuf {
    need(tools_dir().join("bin/smtp-sink"), "smtp-sink")
}

/// Stripe's own library signs the payloads (one node process for all of them).
pub fn stripe_sign(payloads: &[String], secret: &str, timestamp: Option<i64>) -> Vec<String> {
    need(
        tools_dir().join("node/node_modules/stripe"),
        "npm package stripe",
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/sign.js");
    let mut child = Command::new("node")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node must be installed (scripts/setup-tools.sh)");
    let input = json!({ "secret": secret, "payloads": payloads, "timestamp": timestamp });
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "sign.js failed");
    serde_json::from_slice(&out.stdout).unwrap()
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        fastrand::u32(..)
    )
}

/// A database of its own, dropped at the end of the test.
pub struct TestDb {
    pub url: String,
    admin: String,
    name: String,
}

pub fn admin_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestDb {
    pub async fn new() -> Self {
        let admin = admin_url();
        let name = unique("bridge_test");
        let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
            .await
            .expect("connect to DATABASE_URL");
        tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .unwrap();
        let mut config: tokio_postgres::Config = admin.parse().unwrap();
        config.dbname(&name);
        let url = url_with_db(&admin, &name);
        Self { url, admin, name }
    }

    pub async fn store(&self) -> Store {
        let store = Store::connect(&self.url, 16).unwrap();
        store.migrate().await.unwrap();
        store
    }
}

fn url_with_db(admin: &str, name: &str) -> String {
    // postgres://user@host:port/db?params -> same with db replaced.
    let (base, query) = admin
        .split_once('?')
        .map_or((admin, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut url = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok((client, conn)) =
                    tokio_postgres::connect(&admin, tokio_postgres::NoTls).await
                {
                    tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// A bare repository reachable as `file://`, with one commit on `main`.
pub struct GitRemote {
    pub dir: tempfile::TempDir,
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.org")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.org")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

impl GitRemote {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let bare = dir.path().join("infra.git");
        let seed = dir.path().join("seed");
        std::fs::create_dir_all(&seed).unwrap();
        git(
            dir.path(),
            &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()],
        );
        git(&seed, &["init", "-q", "-b", "main"]);
        std::fs::write(seed.join("README.md"), "infra\n").unwrap();
        git(&seed, &["add", "README.md"]);
        git(&seed, &["commit", "-q", "-m", "initial"]);
        git(&seed, &["push", "-q", bare.to_str().unwrap(), "main"]);
        Self { dir }
    }

    pub fn bare(&self) -> PathBuf {
        self.dir.path().join("infra.git")
    }

    pub fn url(&self) -> String {
        format!("file://{}", self.bare().display())
    }

    /// Commits on `branch` (newest first) that touched `path`.
    pub fn commits_touching(&self, branch: &str, path: &str) -> Vec<String> {
        git(&self.bare(), &["log", "--format=%H", branch, "--", path])
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Number of commits on `branch`, the initial one included.
    pub fn commit_count(&self, branch: &str) -> usize {
        git(&self.bare(), &["rev-list", "--count", branch])
            .trim()
            .parse()
            .unwrap()
    }

    pub fn file(&self, branch: &str, path: &str) -> Option<String> {
        let out = Command::new("git")
            .args(["show", &format!("{branch}:{path}")])
            .current_dir(self.bare())
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8(out.stdout).unwrap())
    }

    pub fn files(&self, branch: &str, dir: &str) -> Vec<String> {
        git(
            &self.bare(),
            &["ls-tree", "-r", "--name-only", branch, &format!("{dir}/")],
        )
        .lines()
        .map(str::to_owned)
        .collect()
    }

    pub fn publisher(&self, mode: CommitMode) -> GitCliPublisher {
        let work = self
            .dir
            .path()
            .join(format!("work-{}", COUNTER.fetch_add(1, Ordering::SeqCst)));
        GitCliPublisher::new(GitCliConfig {
            remote_url: self.url(),
            base_branch: "main".into(),
            mode,
            work_dir: work,
            author_name: "stagesub-bridge".into(),
            author_email: "bridge@example.org".into(),
        })
        .unwrap()
    }
}

/// The bridge in-process: router, store and worker context, with a real git remote in direct mode.
pub struct Bridge {
    pub db: TestDb,
    pub store: Store,
    pub remote: GitRemote,
    pub state: AppState,
    pub ctx: WorkerContext,
}

impl Bridge {
    pub async fn new() -> Self {
        Self::with_mailer(None).await
    }

    pub async fn with_mailer(mailer: Option<stagesub_bridge::mail::Mailer>) -> Self {
        let db = TestDb::new().await;
        let store = db.store().await;
        let remote = GitRemote::new();
        let state = AppState {
            store: store.clone(),
            webhook_secrets: Arc::new(vec![SECRET.to_owned()]),
            api_token: Some(stagesub_bridge::config::Secret("test-api-token".into())),
            wake: Arc::new(tokio::sync::Notify::new()),
            directory: None,
        };
        let ctx = WorkerContext {
            publisher: Arc::new(remote.publisher(CommitMode::Direct)),
            mailer,
            tenants_dir: "tenants".into(),
            module_source: "../../modules/orchestra".into(),
            app_domain: "stagesub.test".into(),
            retry: stagesub_bridge::worker::RetryPolicy::default(),
            // Archive at once unless a test sets a grace period (tests/archive_grace.rs).
            archive_grace: std::time::Duration::ZERO,
        };
        Self {
            db,
            store,
            remote,
            state,
            ctx,
        }
    }

    /// Sends one request through the router; returns status and body.
    pub async fn request(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (u16, String) {
        use tower::ServiceExt;
        let mut req = axum::http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = app(self.state.clone())
            .oneshot(req.body(axum::body::Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let bytes = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    pub async fn deliver(&self, payload: &str, signature: &str) -> (u16, String) {
        self.request(
            "POST",
            "/api/webhooks/stripe",
            &[("stripe-signature", signature)],
            payload.as_bytes().to_vec(),
        )
        .await
    }

    /// Signs with Stripe's library and delivers.
    pub async fn deliver_signed(&self, payload: &str) -> (u16, String) {
        let sig = stripe_sign(&[payload.to_owned()], SECRET, None).remove(0);
        self.deliver(payload, &sig).await
    }

    /// Runs due jobs until none is left; returns how many ran.
    pub async fn drain(&self) -> usize {
        let mut n = 0;
        while worker::run_one(&self.store, &self.ctx).await.unwrap() {
            n += 1;
            assert!(n < 10_000, "the queue does not drain");
        }
        n
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let client = self.store.client().await.unwrap();
        client.query_one(sql, &[]).await.unwrap().get(0)
    }
}

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The captured `checkout.session.completed` event, as Stripe sent it.
pub fn captured_checkout() -> Value {
    fixture("checkout.session.completed.event.json")
}

/// The captured `customer.subscription.deleted` event, as Stripe sent it.
pub fn captured_subscription_deleted() -> Value {
    fixture("customer.subscription.deleted.event.json")
}

/// A checkout event built on the captured one, for a subscription checkout with our metadata.
pub fn checkout_event(
    event_id: &str,
    created: i64,
    customer: &str,
    subscription: Option<&str>,
    metadata: Value,
) -> Value {
    let mut e = captured_checkout();
    e["id"] = json!(event_id);
    e["created"] = json!(created);
    let o = &mut e["data"]["object"];
    o["id"] = json!(format!("cs_test_{}", event_id.trim_start_matches("evt_")));
    o["customer"] = json!(customer);
    o["metadata"] = metadata;
    if let Some(sub) = subscription {
        o["mode"] = json!("subscription");
        o["subscription"] = json!(sub);
    }
    e
}

/// A subscription event built on the captured deletion, with the given type and status.
pub fn subscription_event(
    event_id: &str,
    event_type: &str,
    created: i64,
    subscription: &str,
    customer: &str,
    status: &str,
) -> Value {
    let mut e = captured_subscription_deleted();
    e["id"] = json!(event_id);
    e["type"] = json!(event_type);
    e["created"] = json!(created);
    let o = &mut e["data"]["object"];
    o["id"] = json!(subscription);
    o["customer"] = json!(customer);
    o["status"] = json!(status);
    e
}

pub fn metadata(subdomain: &str, name: &str) -> Value {
    json!({ "subdomain": subdomain, "orchestra_name": name, "plan": "pro", "region": "eu-central-1" })
}

/// Parses a tenant file strictly (hcl-rs) and evaluates every attribute: (block label, attributes).
pub fn read_tenant_file(text: &str) -> (String, std::collections::BTreeMap<String, hcl::Value>) {
    use hcl::eval::Evaluate;
    let body =
        hcl::parse(text).unwrap_or_else(|e| panic!("tenant file is not valid HCL: {e}\n{text}"));
    let blocks: Vec<&hcl::Block> = body.blocks().collect();
    assert_eq!(blocks.len(), 1, "exactly one block expected:\n{text}");
    assert_eq!(
        body.attributes().count(),
        0,
        "no top-level attributes expected"
    );
    let block = blocks[0];
    assert_eq!(block.identifier(), "module");
    assert_eq!(block.labels().len(), 1);
    let label = block.labels()[0].as_str().to_owned();
    let ctx = hcl::eval::Context::new();
    let attrs = block
        .body()
        .attributes()
        .map(|a| {
            let value = a
                .expr()
                .evaluate(&ctx)
                .unwrap_or_else(|e| panic!("{}: {e}", a.key()));
            (a.key().to_owned(), value)
        })
        .collect();
    (label, attrs)
}

/// Runs the real `terraform fmt -check` on the text.
pub fn assert_terraform_fmt_clean(text: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tenant.tf");
    std::fs::write(&file, text).unwrap();
    let out = Command::new(terraform())
        .args(["fmt", "-check", "-diff"])
        .arg(&file)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "terraform fmt -check failed:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn hcl_str(
    attrs: &std::collections::BTreeMap<String, hcl::Value>,
    key: &str,
) -> Option<String> {
    match attrs
        .get(key)
        .unwrap_or_else(|| panic!("attribute {key} missing"))
    {
        hcl::Value::Null => None,
        hcl::Value::String(s) => Some(s.clone()),
        other => panic!("{key} is not a string: {other:?}"),
    }
}

/// Signs one payload with Stripe's library.
pub fn sign_one(payload: &str, secret: &str, timestamp: Option<i64>) -> String {
    stripe_sign(&[payload.to_owned()], secret, timestamp).remove(0)
}
