//! TLS between the bridge and its own Postgres: each `sslmode` against the real server (which runs
//! with `ssl=on` and a self-signed certificate for `localhost`), CA verification, and the
//! configuration errors that name `DATABASE_URL` / `DATABASE_CA_CERT`.

mod support;

use std::collections::HashMap;

use stagesub_bridge::config::{Config, ConfigError};
use stagesub_bridge::store::Store;
use support::TestDb;

/// A CA that signed nothing the test server presents.
const UNRELATED_CA: &str = include_str!("../../migrate/tests/data/unrelated-ca.pem");

/// A password trust auth ignores; it must never show in an error.
const PASSWORD: &str = "hunter2tls";

/// `url` with [`PASSWORD`] in its userinfo, `host` swapped in when given, and `query` as its
/// only parameters.
fn variant(url: &str, host: Option<&str>, query: &str) -> String {
    let scheme_end = url.find("://").expect("URL with a scheme") + 3;
    let rest = url[scheme_end..].split('?').next().unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (user, hostport) = authority
        .rsplit_once('@')
        .unwrap_or(("postgres", authority));
    let user = user.split(':').next().unwrap();
    let hostport = match host {
        Some(h) => format!(
            "{h}:{}",
            hostport.rsplit_once(':').map_or("5432", |(_, p)| p)
        ),
        None => hostport.to_string(),
    };
    format!(
        "{}{user}:{PASSWORD}@{hostport}{path}?{query}",
        &url[..scheme_end]
    )
}

/// Whether the store's connection to the server is encrypted, as the server sees it.
async fn store_uses_tls(store: &Store) -> Result<bool, String> {
    let client = store.client().await.map_err(|e| e.to_string())?;
    let row = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(row.get(0))
}

/// PEM of the certificate the server presents, from `ssl_cert_file` (the snakeoil
/// certificate here, which is its own CA).
async fn server_certificate(store: &Store) -> String {
    let client = store.client().await.unwrap();
    let path: String = client
        .query_one("SHOW ssl_cert_file", &[])
        .await
        .unwrap()
        .get(0);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read the server certificate {path}: {e}"))
}

async fn server_has_ssl(store: &Store) -> bool {
    let client = store.client().await.unwrap();
    let ssl: String = client.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    ssl == "on"
}

fn assert_no_password(text: &str) {
    assert!(!text.contains(PASSWORD), "password leaked: {text}");
}

#[tokio::test]
async fn require_encrypts_and_disable_does_not() {
    let db = TestDb::new().await;
    let plain = Store::connect(&variant(&db.url, None, "sslmode=disable"), 2).unwrap();
    plain.migrate().await.unwrap();
    assert!(!store_uses_tls(&plain).await.unwrap());
    assert!(
        server_has_ssl(&plain).await,
        "these tests need the server's ssl=on"
    );

    let tls = Store::connect(&variant(&db.url, None, "sslmode=require"), 2).unwrap();
    tls.migrate().await.unwrap();
    tls.ping().await.unwrap();
    assert!(store_uses_tls(&tls).await.unwrap());

    // Loopback without sslmode behaves like libpq's prefer: TLS, since the server offers it.
    let default = Store::connect(&variant(&db.url, None, ""), 2).unwrap();
    assert!(store_uses_tls(&default).await.unwrap());
}

#[tokio::test]
async fn verify_full_checks_the_ca_and_the_host_name() {
    let db = TestDb::new().await;
    let plain = Store::connect(&variant(&db.url, None, "sslmode=disable"), 1).unwrap();
    let server_ca = server_certificate(&plain).await;

    // A CA that did not sign the server's certificate: refused, and the error says why.
    let wrong = Store::connect_with_ca(
        &variant(&db.url, Some("localhost"), "sslmode=verify-full"),
        Some(UNRELATED_CA),
        1,
    )
    .unwrap();
    let error = wrong.ping().await.unwrap_err().to_string();
    assert_no_password(&error);
    assert!(
        error.contains("TLS") && error.contains("certificate"),
        "unclear error: {error}"
    );
    assert!(wrong.migrate().await.is_err());

    // The right CA and the name on the certificate: verified and encrypted.
    let right = Store::connect_with_ca(
        &variant(&db.url, Some("localhost"), "sslmode=verify-full"),
        Some(&server_ca),
        1,
    )
    .unwrap();
    right.migrate().await.unwrap();
    assert!(store_uses_tls(&right).await.unwrap());

    // The certificate names only `localhost`: verify-full to 127.0.0.1 is refused, verify-ca
    // (chain only) accepts it.
    let by_ip = Store::connect_with_ca(
        &variant(&db.url, Some("127.0.0.1"), "sslmode=verify-full"),
        Some(&server_ca),
        1,
    )
    .unwrap();
    let error = by_ip.ping().await.unwrap_err().to_string();
    assert!(error.contains("certificate"), "unclear error: {error}");
    let chain_only = Store::connect_with_ca(
        &variant(&db.url, Some("127.0.0.1"), "sslmode=verify-ca"),
        Some(&server_ca),
        1,
    )
    .unwrap();
    assert!(store_uses_tls(&chain_only).await.unwrap());

    // sslrootcert=<file> in the URL stands in for DATABASE_CA_CERT.
    let dir = tempfile::tempdir().unwrap();
    let (right_file, wrong_file) = (dir.path().join("right.pem"), dir.path().join("wrong.pem"));
    std::fs::write(&right_file, &server_ca).unwrap();
    std::fs::write(&wrong_file, UNRELATED_CA).unwrap();
    let query =
        |file: &std::path::Path| format!("sslmode=verify-full&sslrootcert={}", file.display());
    let by_file =
        Store::connect(&variant(&db.url, Some("localhost"), &query(&right_file)), 1).unwrap();
    assert!(store_uses_tls(&by_file).await.unwrap());
    let by_wrong_file =
        Store::connect(&variant(&db.url, Some("localhost"), &query(&wrong_file)), 1).unwrap();
    assert!(by_wrong_file.ping().await.is_err());
}

fn config(database_url: &str, ca: Option<&str>) -> Result<Config, ConfigError> {
    let mut vars: HashMap<&str, String> = [
        ("STRIPE_WEBHOOK_SECRET", "whsec_x"),
        ("GIT_BACKEND", "git"),
        ("GIT_REMOTE_URL", "file:///nowhere"),
    ]
    .into_iter()
    .map(|(k, v)| (k, v.to_owned()))
    .collect();
    vars.insert("DATABASE_URL", database_url.to_owned());
    if let Some(ca) = ca {
        vars.insert("DATABASE_CA_CERT", ca.to_owned());
    }
    Config::from_lookup(|name| vars.get(name).cloned())
}

#[tokio::test]
async fn configuration_names_the_variable_to_fix() {
    let db = TestDb::new().await;
    let url = |query: &str| variant(&db.url, Some("localhost"), query);
    let failure = |database_url: &str, ca: Option<&str>| {
        let error = config(database_url, ca).expect_err(database_url);
        assert_no_password(&format!("{error} {error:?}"));
        error
    };

    let error = failure(&url("sslmode=verify-full"), None);
    assert_eq!(error.variable, "DATABASE_CA_CERT", "{error}");
    let error = failure(&url("sslmode=verify-ca"), Some("/etc/ssl/certs/ca.pem"));
    assert_eq!(error.variable, "DATABASE_CA_CERT", "{error}");
    assert!(error.message.contains("PEM"), "{error}");
    let garbage = "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n";
    let error = failure(&url("sslmode=verify-full"), Some(garbage));
    assert_eq!(error.variable, "DATABASE_CA_CERT", "{error}");
    let error = failure(&url("sslmode=sometimes"), None);
    assert_eq!(error.variable, "DATABASE_URL", "{error}");
    assert!(error.message.contains("sometimes"), "{error}");
    let error = failure(
        &url("sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"),
        None,
    );
    assert_eq!(error.variable, "DATABASE_URL", "{error}");
    assert!(error.message.contains("/nonexistent/ca.pem"), "{error}");
    let error = failure("mysql://u:hunter2tls@localhost/x", None);
    assert_eq!(error.variable, "DATABASE_URL", "{error}");

    // Accepted settings reach the database as configured.
    let required = config(&url("sslmode=require"), None).unwrap();
    assert!(format!("{required:?}").contains("redacted"));
    let plain = Store::connect(&url("sslmode=disable"), 1).unwrap();
    let ca = server_certificate(&plain).await;
    let verified = config(&url("sslmode=verify-full"), Some(&ca)).unwrap();
    let store = Store::connect_with_ca(
        verified.database_url.expose(),
        verified.database_ca_cert.as_deref(),
        1,
    )
    .unwrap();
    assert!(store_uses_tls(&store).await.unwrap());
}
