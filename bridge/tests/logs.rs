//! Logs of the real `stagesub-bridge serve` on a pipe: one line per event (a Postgres error with
//! DETAIL included), no ANSI colour codes, and `LOG_FORMAT=json` as one JSON object per line.

#[path = "support/process.rs"]
mod process;
mod support;

use std::time::Duration;

use process::{Served, bridge_command, serve_vars};
use support::*;

/// A database whose migration bookkeeping refuses every row: Postgres answers with an ERROR and a
/// DETAIL line ("Failing row contains …").
async fn database_with_a_detailed_error() -> TestDb {
    let db = TestDb::new().await;
    let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY CHECK (version < 0),
                                             applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await
        .unwrap();
    db
}

fn run_serve(db: &TestDb, remote: &GitRemote, extra: &[(&str, String)]) -> (i32, String) {
    let mut vars = serve_vars(&db.url, &remote.url());
    vars.extend(extra.iter().cloned());
    let out = bridge_command(&vars)
        .arg("serve")
        .env("GIT_WORK_DIR", remote.dir.path().join("work"))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn a_postgres_error_is_one_line_without_colour() {
    let db = database_with_a_detailed_error().await;
    let remote = GitRemote::new();
    let (code, stderr) = run_serve(&db, &remote, &[]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "ANSI codes on a pipe: {stderr:?}"
    );
    assert!(stderr.contains("DETAIL"), "{stderr}");
    for line in stderr.lines() {
        // Every line is an event: it starts with the timestamp and names its level.
        let timestamp = line.split_whitespace().next().unwrap_or_default();
        assert!(
            timestamp.len() >= 20 && timestamp.as_bytes()[4] == b'-' && timestamp.contains('T'),
            "a line that is not an event: {line:?}\n{stderr}"
        );
        assert!(
            [" INFO ", " WARN ", " ERROR ", " DEBUG "]
                .iter()
                .any(|l| line.contains(l)),
            "{line:?}"
        );
    }
    let error = stderr.lines().find(|l| l.contains("DETAIL")).unwrap();
    assert!(
        error.contains("ERROR") && error.contains("check constraint"),
        "{error}"
    );
}

#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    let db = database_with_a_detailed_error().await;
    let remote = GitRemote::new();
    let (code, stderr) = run_serve(&db, &remote, &[("LOG_FORMAT", "json".into())]);
    assert_eq!(code, 1, "{stderr}");
    let events: Vec<serde_json::Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    let error = events
        .iter()
        .find(|e| e["level"] == "ERROR")
        .unwrap_or_else(|| panic!("{stderr}"));
    let message = error["fields"]["message"].as_str().unwrap();
    assert!(
        message.contains("DETAIL") && message.contains("check constraint"),
        "{message}"
    );

    // A healthy start logs JSON too, and a bad LOG_FORMAT is named.
    let good = TestDb::new().await;
    let mut served = Served::start(
        &[
            serve_vars(&good.url, &remote.url()),
            vec![("LOG_FORMAT", "json".into())],
        ]
        .concat(),
        &remote.dir.path().join("work2"),
    );
    served.addr();
    served.terminate();
    assert_eq!(
        served
            .wait_for_exit(Duration::from_secs(30))
            .and_then(|s| s.code()),
        Some(0)
    );
    for line in served.log() {
        let v: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        assert!(
            v["timestamp"].is_string() && v["level"].is_string(),
            "{line}"
        );
    }
    let (code, stderr) = run_serve(&good, &remote, &[("LOG_FORMAT", "xml".into())]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("LOG_FORMAT") && stderr.contains("xml"),
        "{stderr}"
    );
}
