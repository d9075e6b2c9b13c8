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
    assert_eq!(out.status.code(), Some(2));
    let message = text(&out);
    assert!(
        message.contains("required arguments were not provided")
            && message.contains("--database-url <URL>")
            && message.contains("--dir <DIR>"),
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
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("unrecognized subcommand 'migrate'"),
        "{}",
        text(&out)
    );
    let out = cli(&["apply", "--lock-wait", "soon"], None);
    assert_eq!(out.status.code(), Some(2));
    let message = text(&out);
    assert!(
        message.contains("'soon'") && message.contains("--lock-wait <SECS>"),
        "{message}"
    );
}

#[test]
fn help_and_version_on_every_command() {
    let version = format!(" {}", env!("CARGO_PKG_VERSION"));
    for args in [
        &["--help"][..],
        &["-h"],
        &["help"],
        &["apply", "--help"],
        &["status", "--help"],
        &["seed", "--help"],
        &["help", "seed"],
    ] {
        let out = cli(args, Some("postgres://u:hunter2@127.0.0.1:1/x"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out));
        assert!(
            stdout.contains("Usage: stagesub-migrate"),
            "{args:?}: {stdout}"
        );
        // The URL from the environment may carry a password: help never shows it.
        assert!(!stdout.contains("hunter2"), "{args:?}: {stdout}");
    }
    let out = cli(&["seed", "--help"], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--sql <FILE>",
        "--subdomain",
        "--orchestra-name",
        "--contact-email",
        "--plan",
    ] {
        assert!(stdout.contains(flag), "{flag}: {stdout}");
    }
    for args in [
        &["--version"][..],
        &["-V"],
        &["apply", "--version"],
        &["seed", "--version"],
    ] {
        let out = cli(args, None);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out));
        // clap names the command: `stagesub-migrate-seed 0.1.0`.
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.starts_with("stagesub-migrate") && stdout.trim().ends_with(&version),
            "{args:?}: {stdout}"
        );
    }
}

#[test]
fn missing_required_flags_are_named_as_missing() {
    let out = cli(
        &["seed", "--sql", "seed.sql", "--orchestra-name", "Bach"],
        Some("postgres://u@127.0.0.1:1/x"),
    );
    assert_eq!(out.status.code(), Some(2));
    let message = text(&out);
    assert!(
        message.contains("required arguments were not provided") && message.contains("--subdomain"),
        "{message}"
    );
    let out = cli(&["status"], Some("postgres://u@127.0.0.1:1/x"));
    let message = text(&out);
    assert!(
        message.contains("required arguments were not provided") && message.contains("--dir <DIR>"),
        "{message}"
    );
}

#[test]
fn flags_take_their_value_after_an_equals_sign() {
    let out = cli(
        &[
            "apply",
            "--dir=/nonexistent/stagesub",
            "--lock-wait=0.5",
            "--database-url=postgres://u:hunter2@127.0.0.1:1/x",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let message = text(&out);
    assert!(
        message.contains("/nonexistent/stagesub") && !message.contains("hunter2"),
        "{message}"
    );
}

#[test]
fn unknown_flags_are_named() {
    let out = cli(
        &["apply", "--dir", "d", "--retry-faild"],
        Some("postgres://u@127.0.0.1:1/x"),
    );
    assert_eq!(out.status.code(), Some(2));
    let message = text(&out);
    assert!(
        message.contains("unexpected argument '--retry-faild'"),
        "{message}"
    );
    let out = cli(
        &["status", "--dir", "d", "--plan", "pro"],
        Some("postgres://u@127.0.0.1:1/x"),
    );
    assert!(
        text(&out).contains("unexpected argument '--plan'"),
        "{}",
        text(&out)
    );
}
