//! Connections: sslmode handling against the real server, CA verification, redaction, and
//! Prisma's `schema` URL parameter.

mod common;

use common::{TempDir, TestDb, admin_url, with_database};
use stagesub_migrate::{ApplyOptions, MigrationSet, apply};
use stagesub_pgconn::{Error, TlsOptions, connect};

const UNRELATED_CA: &str = include_str!("data/unrelated-ca.pem");

/// The password the URL variants carry: the admin URL's own when it has one (the server may
/// check it), else `hunter2` (trust auth ignores it), which must never show in an error.
fn password(url: &str) -> String {
    let authority = url.split("://").nth(1).unwrap_or_default();
    let authority = authority.split(['/', '?']).next().unwrap_or_default();
    authority
        .rsplit_once('@')
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map_or_else(|| "hunter2".to_string(), |(_, p)| p.to_string())
}

/// `url` with [`password`] as the userinfo password, `host` swapped in, and `query` appended.
fn variant(url: &str, host: Option<&str>, query: &str) -> String {
    let scheme_end = url.find("://").unwrap() + 3;
    let rest = &url[scheme_end..];
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
    let path = path.split('?').next().unwrap();
    let sep = if query.is_empty() { "" } else { "?" };
    format!(
        "{}{user}:{}@{hostport}{path}{sep}{query}",
        &url[..scheme_end],
        password(url)
    )
}

async fn encrypted(url: &str, tls: &TlsOptions) -> Result<bool, Error> {
    let client = connect(url, tls).await?;
    Ok(client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0))
}

fn no_password(error: &Error) -> String {
    let text = format!("{error} {error:?}");
    let secret = password(&admin_url());
    assert!(!text.contains(&secret), "password leaked: {text}");
    text
}

#[tokio::test]
async fn sslmodes_against_the_real_server() {
    let url = admin_url();
    let none = TlsOptions::default();
    let admin = common::admin_client().await;
    let server_ssl: String = admin.query_one("SHOW ssl", &[]).await.unwrap().get(0);

    assert!(
        !encrypted(&variant(&url, None, "sslmode=disable"), &none)
            .await
            .unwrap()
    );
    let error = connect(&variant(&url, None, "sslmode=verify-full"), &none)
        .await
        .unwrap_err();
    assert!(
        no_password(&error).contains("needs the CA certificate"),
        "{error}"
    );

    if server_ssl != "on" {
        // Without TLS on the server: prefer falls back to plain, require refuses.
        assert!(!encrypted(&variant(&url, None, ""), &none).await.unwrap());
        let error = connect(&variant(&url, None, "sslmode=require"), &none)
            .await
            .unwrap_err();
        no_password(&error);
        return;
    }
    // Loopback defaults to prefer, which encrypts when the server offers TLS.
    assert!(encrypted(&variant(&url, None, ""), &none).await.unwrap());
    assert!(
        encrypted(&variant(&url, None, "sslmode=require"), &none)
            .await
            .unwrap()
    );

    // A CA that did not sign the server's certificate is refused, with or without verify-full.
    let wrong = TlsOptions {
        ca_cert_pem: Some(UNRELATED_CA.into()),
    };
    for mode in ["require", "verify-ca", "verify-full"] {
        let error = encrypted(&variant(&url, None, &format!("sslmode={mode}")), &wrong)
            .await
            .unwrap_err();
        let text = no_password(&error);
        assert!(
            text.contains("cannot connect to") && text.contains(":***@"),
            "{text}"
        );
    }

    // The server's own (self-signed) certificate as the CA: verification succeeds.
    let cert_file: String = admin
        .query_one("SHOW ssl_cert_file", &[])
        .await
        .unwrap()
        .get(0);
    let data_dir: String = admin
        .query_one("SHOW data_directory", &[])
        .await
        .unwrap()
        .get(0);
    let path = std::path::Path::new(&data_dir).join(&cert_file);
    let Ok(pem) = std::fs::read_to_string(&path) else {
        panic!(
            "cannot read the server certificate {} to verify against",
            path.display()
        );
    };
    let right = TlsOptions {
        ca_cert_pem: Some(pem),
    };
    assert!(
        encrypted(&variant(&url, None, "sslmode=verify-ca"), &right)
            .await
            .unwrap()
    );
    let sans = std::process::Command::new("openssl")
        .args([
            "x509",
            "-noout",
            "-ext",
            "subjectAltName",
            "-subject",
            "-in",
        ])
        .arg(&path)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if sans.contains("localhost") {
        assert!(
            encrypted(
                &variant(&url, Some("localhost"), "sslmode=verify-full"),
                &right
            )
            .await
            .unwrap()
        );
        // sslrootcert in the URL works the same as the CA option.
        let query = format!("sslmode=verify-full&sslrootcert={}", path.display());
        assert!(
            encrypted(&variant(&url, Some("localhost"), &query), &none)
                .await
                .unwrap()
        );
        // 127.0.0.1 is not a name the certificate lists.
        let error = encrypted(
            &variant(&url, Some("127.0.0.1"), "sslmode=verify-full"),
            &right,
        )
        .await
        .unwrap_err();
        assert!(no_password(&error).contains("certificate"), "{error}");
    }
}

#[tokio::test]
async fn connection_errors_redact_the_password() {
    let url = with_database(
        &variant(&admin_url(), None, "sslmode=disable"),
        "no_such_db_for_stagesub",
    );
    let error = connect(&url, &TlsOptions::default()).await.unwrap_err();
    let text = no_password(&error);
    assert!(
        text.contains("no_such_db_for_stagesub") && text.contains("3D000"),
        "{text}"
    );
    let error = connect(
        "postgres://u:hunter2@127.0.0.1:1/x?sslmode=disable",
        &TlsOptions::default(),
    )
    .await
    .unwrap_err();
    let text = no_password(&error);
    assert!(
        text.contains("u:***@127.0.0.1:1") && !text.contains("hunter2"),
        "{text}"
    );
}

#[tokio::test]
async fn prisma_schema_parameter_puts_migrations_and_history_in_that_schema() {
    let db = TestDb::create("schema").await;
    db.client()
        .await
        .batch_execute("CREATE SCHEMA \"Tenant One\"")
        .await
        .unwrap();
    let dir = TempDir::new("schema");
    dir.write("1_init/migration.sql", "create table orchestra (id int);");
    let url = format!("{}?schema=Tenant%20One", db.url);
    let client = connect(&url, &TlsOptions::default()).await.unwrap();
    apply(
        &client,
        &MigrationSet::load(dir.path()).unwrap(),
        &ApplyOptions::default(),
    )
    .await
    .unwrap();
    let tables: Vec<String> = client
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'Tenant One' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(tables, vec!["_prisma_migrations", "orchestra"]);
}
