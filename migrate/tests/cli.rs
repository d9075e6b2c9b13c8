//! The `stagesub-migrate` binary: apply, status, seed and its errors.

mod common;

use std::process::{Command, Output};

use common::{TempDir, TestDb};

fn cli(args: &[&str], database_url: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stagesub-migrate"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("STAGESUB_DATABASE_CA_CERT");
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    command.output().expect("run stagesub-migrate")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn apply_then_status_with_flags_and_environment() {
    let db = TestDb::create("cli").await;
    let dir = TempDir::new("cli");
    dir.write("20240101000000_a.sql", "create table a (id int);");
    dir.write("20240102000000_b.sql", "create table b (id int);");
    let d = dir.path().to_str().unwrap();

    let out = cli(
        &[
            "apply",
            "--database-url",
            &db.url,
            "--dir",
            d,
            "--statement-timeout",
            "30",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("applied  20240101000000_a\napplied  20240102000000_b\n2 applied"),
        "{}",
        text(&out)
    );

    dir.write("20240103000000_c.sql", "create table c (id int);");
    let out = cli(&["status", "--dir", d], Some(&db.url));
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "applied  20240101000000_a\napplied  20240102000000_b\npending  20240103000000_c\n"
    );

    let seed = dir.write(
        "seed/seed.sql.txt",
        "create table t as select current_setting('stagesub.orchestra_name') as n;",
    );
    let out = cli(
        &[
            "seed",
            "--sql",
            seed.to_str().unwrap(),
            "--subdomain",
            "x",
            "--orchestra-name",
            "O'Neil; --",
        ],
        Some(&db.url),
    );
    assert!(out.status.success(), "{}", text(&out));
    let client = db.client().await;
    let name: String = client
        .query_one("SELECT n FROM t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(name, "O'Neil; --");
}

#[test]
fn missing_settings_and_bad_input_fail_fast_with_a_message() {
    let out = cli(&["apply"], None);
    assert!(!out.status.success());
    let message = text(&out);
    assert!(
        message.contains("--database-url (or DATABASE_URL), --dir DIR"),
        "{message}"
    );

    let out = cli(
        &["apply", "--dir", "/nonexistent/stagesub"],
        Some("postgres://u:hunter2@127.0.0.1:1/x"),
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("/nonexistent/stagesub"),
        "{}",
        text(&out)
    );

    let dir = TempDir::new("cli_bad");
    dir.write("1_a.sql", "select 1;");
    let out = cli(
        &["apply", "--dir", dir.path().to_str().unwrap()],
        Some("postgres://u:hunter2@127.0.0.1:1/x?sslmode=disable"),
    );
    assert!(!out.status.success());
    let message = text(&out);
    assert!(
        message.contains("cannot connect to postgres://u:***@127.0.0.1:1/x")
            && !message.contains("hunter2"),
        "{message}"
    );

    let out = cli(&["migrate"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("unknown command `migrate`"),
        "{}",
        text(&out)
    );
    let out = cli(&["apply", "--lock-wait", "soon"], None);
    assert!(text(&out).contains("missing setting"), "{}", text(&out));
}
