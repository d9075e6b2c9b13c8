//! Shared helpers for the integration tests: a fresh database (and roles) per test.
#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use stagesub_directory::{DirectoryKeys, Entry, Sensitive, Status, TenantSecret, connect};
use tokio_postgres::Client;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A name no other test (or test process) uses.
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

/// `url` with its database name (and, when given, user) replaced.
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

/// `url` logging in as `user` (trust auth: no password).
pub fn with_user(url: &str, user: &str) -> String {
    let authority = url.find("://").unwrap() + 3;
    let rest = &url[authority..];
    let host = rest.rfind('@').map_or(rest, |at| &rest[at + 1..]);
    format!("{}{user}@{host}", &url[..authority])
}

/// A database created for one test, dropped (with the roles made for it) when this is dropped.
pub struct TestDb {
    pub name: String,
    pub url: String,
    roles: std::sync::Mutex<Vec<String>>,
}

impl TestDb {
    pub async fn create(prefix: &str) -> TestDb {
        let name = unique(&format!("stagesub_dir_{prefix}"));
        admin_client()
            .await
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create test database");
        TestDb {
            url: with_database(&admin_url(), &name),
            name,
            roles: Default::default(),
        }
    }

    pub async fn client(&self) -> Client {
        connect(&self.url)
            .await
            .expect("connect to the test database")
    }

    /// A role (LOGIN, no password: trust auth) dropped after the database.
    pub async fn role(&self, prefix: &str) -> String {
        let role = unique(prefix);
        admin_client()
            .await
            .batch_execute(&format!("CREATE ROLE \"{role}\" LOGIN"))
            .await
            .expect("create role");
        self.roles.lock().unwrap().push(role.clone());
        role
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let roles = std::mem::take(&mut *self.roles.lock().unwrap());
        // Drop runs outside async context; use a private runtime on a plain thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let admin = admin_client().await;
                let _ = admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await;
                for role in roles {
                    let _ = admin
                        .batch_execute(&format!("DROP ROLE IF EXISTS \"{role}\""))
                        .await;
                }
            });
        })
        .join();
    }
}

pub async fn admin_client() -> Client {
    connect(&admin_url())
        .await
        .expect("connect with DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres)")
}

/// Base64 of 32 bytes of `byte`.
pub fn key_b64(byte: u8) -> String {
    use std::fmt::Write;
    // Small local encoder: the tests should not trust the crate's own parsing to make keys.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = [byte; 32];
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            let _ = write!(
                out,
                "{}",
                ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char
            );
        }
    }
    out.push('=');
    out
}

pub fn keys(list: &[u8]) -> DirectoryKeys {
    let text: Vec<String> = list.iter().map(|b| key_b64(*b)).collect();
    DirectoryKeys::parse(&text.join(",")).unwrap()
}

pub fn secret(subdomain: &str) -> TenantSecret {
    TenantSecret {
        database_url: Sensitive::new(format!(
            "postgresql://postgres:pw-{subdomain}@db.{subdomain}.example:5432/postgres"
        )),
        pooler_url: Some(Sensitive::new(format!(
            "postgresql://postgres.{subdomain}:pw@pooler.example:5432/postgres"
        ))),
        anon_key: Some(Sensitive::new(format!("anon-{subdomain}"))),
    }
}

pub fn ready(subdomain: &str) -> Entry {
    Entry {
        subdomain: subdomain.into(),
        status: Status::Ready,
        backend: "supabase".into(),
        region: Some("eu-central-1".into()),
        plan: Some("pro".into()),
        resource_id: Some(format!("ref{subdomain}")),
        api_url: Some(format!("https://ref{subdomain}.supabase.co")),
        secret: Some(secret(subdomain)),
    }
}
