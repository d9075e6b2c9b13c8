//! Shared pieces of the fleet tests: a fleet of real tenant databases on the test server, each
//! registered `ready` in a real tenant directory (its URL sealed with a key), a migrations folder,
//! and a runner for the real `stagesub-fleet` binary.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use stagesub_acceptance::postgres::{self, TestDatabase, url_with_database};
use stagesub_directory::{DirectoryKeys, Entry, Sensitive, Status, TenantSecret};

/// The directory key the tests seal with.
pub const KEY: &str = "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=";

/// The password in every tenant URL: reports must never show it.
pub const PASSWORD: &str = "Tenant-Pw-9f8e7d6c";

/// A fleet of tenant databases registered in a directory; dropped with the guard.
pub struct Fleet {
    /// The directory's database.
    pub directory: TestDatabase,
    /// Subdomains, in creation order.
    pub subdomains: Vec<String>,
    /// Database name of each subdomain.
    pub databases: Vec<String>,
    role: String,
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

impl Fleet {
    /// `n` tenants named `<prefix>-<i>-<unique>`, each with its own database, all `ready`.
    pub fn create(prefix: &str, n: usize) -> Self {
        let unique = postgres::unique_name("f");
        let tag: String = unique
            .chars()
            .rev()
            .filter(char::is_ascii_alphanumeric)
            .take(6)
            .collect();
        let role = format!("fleet_{}", &unique[2..].replace('_', ""));
        let admin = postgres::admin_url();
        postgres::query(
            &admin,
            &format!("CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'"),
        );
        let directory = TestDatabase::create("fleet_dir");
        let mut subdomains = Vec::new();
        let mut databases = Vec::new();
        for i in 0..n {
            subdomains.push(format!("{prefix}{i}-{tag}"));
            databases.push(format!("{role}_{i}"));
        }
        let statements: Vec<String> = databases
            .iter()
            .map(|db| format!("CREATE DATABASE {db} OWNER {role}"))
            .collect();
        in_parallel(&statements, 8);
        let fleet = Fleet {
            directory,
            subdomains,
            databases,
            role,
        };
        let keys = DirectoryKeys::parse(KEY).unwrap();
        block_on(async {
            let mut client = stagesub_directory::connect(fleet.directory.url())
                .await
                .unwrap();
            stagesub_directory::ensure_schema(&mut client)
                .await
                .unwrap();
            for i in 0..n {
                let entry = Entry {
                    subdomain: fleet.subdomains[i].clone(),
                    status: Status::Ready,
                    backend: "postgres".into(),
                    region: None,
                    plan: None,
                    resource_id: Some(fleet.databases[i].clone()),
                    api_url: None,
                    secret: Some(TenantSecret {
                        database_url: Sensitive::new(fleet.tenant_url(i)),
                        pooler_url: None,
                        anon_key: None,
                    }),
                };
                stagesub_directory::upsert(&client, &keys, &entry)
                    .await
                    .unwrap();
            }
        });
        fleet
    }

    /// Tenant `i`'s URL, as its directory row holds it (with [`PASSWORD`]).
    pub fn tenant_url(&self, i: usize) -> String {
        let admin = url_with_database(&postgres::admin_url(), &self.databases[i]);
        let (scheme, rest) = admin.split_once("://").unwrap();
        let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
        format!("{scheme}://{}:{PASSWORD}@{rest}", self.role)
    }

    /// Runs `sql` in tenant `i`'s database, as the admin.
    pub fn query(&self, i: usize, sql: &str) -> Vec<Vec<Option<String>>> {
        postgres::query(
            &url_with_database(&postgres::admin_url(), &self.databases[i]),
            sql,
        )
    }

    /// The versions recorded in tenant `i`'s Supabase history (empty without the table).
    pub fn versions(&self, i: usize) -> Vec<String> {
        let exists = self.query(
            i,
            "SELECT (to_regclass('supabase_migrations.schema_migrations') IS NOT NULL)::text",
        );
        if exists[0][0].as_deref() != Some("true") {
            return Vec::new();
        }
        self.query(
            i,
            "SELECT coalesce(string_agg(version, ',' ORDER BY version), '') \
             FROM supabase_migrations.schema_migrations",
        )[0][0]
            .clone()
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Sets tenant `i`'s directory status.
    pub fn mark(&self, i: usize, status: &str) {
        postgres::query(
            self.directory.url(),
            &format!(
                "UPDATE stagesub_directory.tenants SET status = '{status}' WHERE subdomain = '{}'",
                self.subdomains[i]
            ),
        );
    }

    /// The environment the fleet binary needs for this directory.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("STAGESUB_DIRECTORY_URL".into(), self.directory.url().into()),
            ("STAGESUB_DIRECTORY_KEYS".into(), KEY.into()),
        ]
    }
}

/// Runs each admin statement on its own connection, a few at a time: `DROP DATABASE` waits for a
/// checkpoint, and concurrent requests share one.
fn in_parallel(statements: &[String], at_once: usize) {
    for chunk in statements.chunks(at_once) {
        let handles: Vec<_> = chunk
            .iter()
            .cloned()
            .map(|sql| {
                std::thread::spawn(move || {
                    std::panic::catch_unwind(|| postgres::query(&postgres::admin_url(), &sql))
                        .is_ok()
                })
            })
            .collect();
        for h in handles {
            let _ = h.join();
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        let drops: Vec<String> = self
            .databases
            .iter()
            .map(|db| format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
            .collect();
        in_parallel(&drops, 32);
        let role = self.role.clone();
        let _ = std::panic::catch_unwind(move || {
            postgres::query(
                &postgres::admin_url(),
                &format!("DROP ROLE IF EXISTS {role}"),
            )
        });
    }
}

/// Writes a Supabase-layout migration `<version>_<name>.sql` into `dir`.
pub fn migration(dir: &Path, version: &str, name: &str, sql: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(format!("{version}_{name}.sql")), sql).unwrap();
}

/// The first two migrations every test starts with.
pub fn base_migrations(dir: &Path) {
    migration(
        dir,
        "20260101000000",
        "concerts",
        "CREATE TABLE concerts (id bigint generated always as identity primary key, title text not null);\n",
    );
    migration(
        dir,
        "20260102000000",
        "venues",
        "CREATE TABLE venues (id bigint primary key, name text);\n",
    );
}

/// What the binary printed and how it ended.
#[derive(Debug)]
pub struct Run {
    /// Exit code.
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// The fleet binary: `$STAGESUB_FLEET_BIN` (the benchmarks use a release build), else the one
/// cargo built for these tests.
pub fn binary() -> PathBuf {
    std::env::var_os("STAGESUB_FLEET_BIN")
        .filter(|v| !v.is_empty())
        .map_or_else(
            || PathBuf::from(env!("CARGO_BIN_EXE_stagesub-fleet")),
            PathBuf::from,
        )
}

/// Runs `stagesub-fleet <args>` with `env` (and nothing of the caller's directory settings).
pub fn fleet(args: &[&str], env: &[(String, String)]) -> Run {
    let mut command = Command::new(binary());
    command
        .args(args)
        .env_remove("STAGESUB_DIRECTORY_URL")
        .env_remove("STAGESUB_DIRECTORY_KEYS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("STAGESUB_FLEET_MODE");
    for (k, v) in env {
        command.env(k, v);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("run stagesub-fleet");
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Reads a JSON file.
pub fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The report line of `subdomain`.
pub fn line<'a>(report: &'a Value, subdomain: &str) -> &'a Value {
    report["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["subdomain"] == subdomain)
        .unwrap_or_else(|| panic!("{subdomain} not in the report: {report:#}"))
}

/// `outcome` of every tenant in the report, in report order.
pub fn outcomes(report: &Value) -> Vec<(String, String)> {
    report["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["subdomain"].as_str().unwrap().to_owned(),
                t["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}
