//! PostgreSQL helpers: the admin URL tests use and [`TestDatabase`], a uniquely named database
//! that is dropped when the guard goes out of scope.
//!
//! The helpers are synchronous and work from plain `#[test]` functions as well as from inside a
//! Tokio runtime: each call runs its own short-lived runtime on a separate thread.

use std::env;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};

/// The admin (superuser) URL: `$DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`.
///
/// `scripts/ensure-postgres.sh` prints the right value for the machine.
pub fn admin_url() -> String {
    env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A name no other test (in this or a parallel process) uses: `<prefix>_<pid>_<counter>_<time>`,
/// lower case, at most 63 bytes (PostgreSQL's identifier limit), usable unquoted.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let clean: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(30)
        .collect();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{clean}_{}_{n}_{nanos:x}", std::process::id())
}

/// `url` with its database name replaced by `database` (query parameters are kept).
///
/// # Panics
/// When `url` is not a `postgres://` or `postgresql://` URL.
pub fn url_with_database(url: &str, database: &str) -> String {
    let after_scheme = url
        .find("://")
        .map(|i| i + 3)
        .unwrap_or_else(|| panic!("DATABASE_URL must be a postgres:// URL"));
    let path_start = url[after_scheme..]
        .find(['/', '?'])
        .map(|i| i + after_scheme)
        .unwrap_or(url.len());
    let query_start = url[path_start..]
        .find('?')
        .map(|i| i + path_start)
        .unwrap_or(url.len());
    format!("{}/{}{}", &url[..path_start], database, &url[query_start..])
}

/// Runs `sql` (one or more statements, no parameters) over `url` and returns the rows of the last
/// statement as text columns (`None` for NULL).
///
/// # Panics
/// When connecting or the statements fail, with the server's message.
pub fn query(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        runtime.block_on(async move {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| {
                    panic!("cannot connect to PostgreSQL ({e}); run scripts/ensure-postgres.sh")
                });
            tokio::spawn(connection);
            let messages = client
                .simple_query(&sql)
                .await
                .unwrap_or_else(|e| panic!("SQL failed: {e}\n{sql}"));
            let mut rows: Vec<Vec<Option<String>>> = Vec::new();
            for message in messages {
                match message {
                    tokio_postgres::SimpleQueryMessage::Row(row) => rows.push(
                        (0..row.len())
                            .map(|i| row.get(i).map(str::to_owned))
                            .collect(),
                    ),
                    tokio_postgres::SimpleQueryMessage::CommandComplete(_) => {}
                    _ => {}
                }
            }
            rows
        })
    })
    .join()
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// A database created for one test and dropped (with `FORCE`, closing leftover sessions) on drop.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
    admin_url: String,
}

impl TestDatabase {
    /// Creates a database named [`unique_name`]`(prefix)` on the [`admin_url`] server.
    pub fn create(prefix: &str) -> Self {
        let admin_url = admin_url();
        let name = unique_name(prefix);
        query(&admin_url, &format!("CREATE DATABASE \"{name}\""));
        let url = url_with_database(&admin_url, &name);
        Self {
            name,
            url,
            admin_url,
        }
    }

    /// The database name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A superuser URL connected to this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs SQL in this database (see [`query`]).
    pub fn query(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        query(&self.url, sql)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // Never panic in drop (it would abort a test that is already unwinding).
        let admin_url = self.admin_url.clone();
        let _ = std::panic::catch_unwind(move || query(&admin_url, &sql));
    }
}

/// Drops the database `name` on the admin server if it exists, closing its sessions (for cleaning
/// up databases that code under test created).
pub fn drop_database(name: &str) {
    query(
        &admin_url(),
        &format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            name.replace('"', "\"\"")
        ),
    );
}

/// Whether a database named `name` exists on the admin server.
pub fn database_exists(name: &str) -> bool {
    let escaped = name.replace('\'', "''");
    !query(
        &admin_url(),
        &format!("SELECT 1 FROM pg_database WHERE datname = '{escaped}'"),
    )
    .is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_with_database_replaces_only_the_path() {
        assert_eq!(
            url_with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "x"),
            "postgres://u:p@h:5432/x?sslmode=disable"
        );
        assert_eq!(url_with_database("postgres://h", "x"), "postgres://h/x");
        assert_eq!(
            url_with_database("postgres://h?a=b", "x"),
            "postgres://h/x?a=b"
        );
    }

    #[test]
    fn unique_names_differ_and_fit_postgres() {
        let a = unique_name("Some Test-Name");
        let b = unique_name("Some Test-Name");
        assert_ne!(a, b);
        assert!(a.len() <= 63 && a.starts_with("some_test_name_"), "{a}");
    }

    #[test]
    fn test_database_is_created_usable_and_dropped() {
        let db = TestDatabase::create("harness");
        let name = db.name().to_owned();
        assert!(database_exists(&name));
        db.query("CREATE TABLE t (v text); INSERT INTO t VALUES ('x')");
        assert_eq!(
            db.query("SELECT v FROM t"),
            vec![vec![Some("x".to_owned())]]
        );
        drop(db);
        assert!(!database_exists(&name));
    }
}
