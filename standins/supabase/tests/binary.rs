//! The `supabase-standin` binary: prints its address first, serves, drops its databases on SIGTERM, and
//! refuses to start without its settings.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{TOKEN, database_exists};
use reqwest::StatusCode;
use serde_json::json;

const BINARY: &str = env!("CARGO_BIN_EXE_supabase-standin");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_prints_its_address_serves_and_cleans_up_on_sigterm() {
    let mut child = Command::new(BINARY)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--healthy-after-ms",
            "100",
            "--rate-limit-per-minute=50",
        ])
        .env("DATABASE_URL", common::database_url())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first_line)
        .expect("a first line");
    let base_url = first_line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"))
        .to_string();
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");

    let client = common::http_client();
    let response = client
        .post(format!("{base_url}/v1/projects"))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "orchestra-binary", "organization_slug": "binary-org", "db_pass": "binary-pass"}))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        response.headers()["x-ratelimit-limit"],
        "50",
        "knobs from the environment are applied"
    );
    let created: serde_json::Value = response.json().await.expect("JSON");
    let database = format!("sb_{}", created["ref"].as_str().unwrap());
    assert!(database_exists(&database).await);

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        assert!(
            Instant::now() < deadline,
            "the binary did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(exit.success(), "clean exit, got {exit}");
    assert!(
        !database_exists(&database).await,
        "SIGTERM drops the project databases"
    );
}

#[test]
fn binary_names_a_missing_or_bad_setting() {
    let output = Command::new(BINARY)
        .env_remove("DATABASE_URL")
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("DATABASE_URL") && stderr.contains("--postgres-url"),
        "{stderr}"
    );
    assert!(
        output.stdout.is_empty(),
        "no address line when it does not start"
    );

    let output = Command::new(BINARY)
        .args([
            "--postgres-url",
            "postgres://postgres@127.0.0.1/postgres",
            "--error-rate-5xx",
            "7",
        ])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("error_rate_5xx"));

    let output = Command::new(BINARY)
        .args([
            "--postgres-url",
            "postgres://postgres@127.0.0.1/postgres",
            "--bogus",
        ])
        .output()
        .expect("the binary runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown flag --bogus"));

    let output = Command::new(BINARY)
        .args([
            "--postgres-url",
            "postgres://nobody@127.0.0.1:1/none",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .expect("the binary runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "an unreachable server fails fast"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot connect"));
}
