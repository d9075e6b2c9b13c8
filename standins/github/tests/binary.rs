//! The `github-standin` binary: announces its address, serves the API, and takes fault knobs and
//! reports its request log over HTTP.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use octocrab::Octocrab;
use serde_json::{Value, json};

struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_serves_with_fault_knobs() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_github-standin"))
        .args(["--repo-dir"])
        .arg(dir.path().join("r.git"))
        .args(["--repository", "acme/infra", "--token", "t0ken"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let _guard = Kill(child);
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .expect("first line announces the address")
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let gh = Octocrab::builder()
        .base_uri(url)
        .unwrap()
        .personal_token("t0ken".to_owned())
        .build()
        .unwrap();

    let head = gh
        ._get("/repos/acme/infra/git/ref/heads/main")
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    let main_sha = json_of(&gh.body_to_string(head).await.unwrap())["object"]["sha"]
        .as_str()
        .unwrap()
        .to_owned();

    // Rate limit after one write, 429 with retry-after and x-ratelimit headers.
    let set = gh
        ._post(
            "/_standin/faults",
            Some(&json!({ "rate_limit_after": 1, "rate_limit_seconds": 30 })),
        )
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    let create = |name: &str| json!({ "ref": format!("refs/heads/{name}"), "sha": main_sha });
    let ok = gh
        ._post("/repos/acme/infra/git/refs", Some(&create("one")))
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
    let limited = gh
        ._post("/repos/acme/infra/git/refs", Some(&create("two")))
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    let retry: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry));
    assert_eq!(limited.headers()["x-ratelimit-remaining"], "0");

    // fail_after_write: the write happens, the answer is a 502.
    gh._post("/_standin/faults", Some(&json!({ "fail_after_write": 1 })))
        .await
        .unwrap();
    let lost = gh
        ._post("/repos/acme/infra/git/refs", Some(&create("three")))
        .await
        .unwrap();
    assert_eq!(lost.status(), 502);
    let there = gh
        ._get("/repos/acme/infra/git/ref/heads/three")
        .await
        .unwrap();
    assert_eq!(there.status(), 200, "the write happened despite the 502");

    // Everything certain 5xx.
    gh._post("/_standin/faults", Some(&json!({ "error_rate_5xx": 1.0 })))
        .await
        .unwrap();
    let failing = gh._get("/repos/acme/infra").await.unwrap();
    assert!(failing.status().is_server_error());
    let bad = gh
        ._post("/_standin/faults", Some(&json!({ "error_rate_5xx": 2.0 })))
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);

    let log = gh._get("/_standin/requests").await.unwrap();
    let log = json_of(&gh.body_to_string(log).await.unwrap());
    let statuses: Vec<u64> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses[..5], [200, 201, 429, 502, 200]);
    assert!(statuses[5] == 502 || statuses[5] == 503, "{statuses:?}");
    assert_eq!(statuses.len(), 6, "control endpoints are not logged");
    let wrote: Vec<bool> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["wrote"].as_bool().unwrap())
        .collect();
    assert_eq!(wrote, vec![false, true, false, true, false, false]);
}

#[test]
fn binary_explains_missing_arguments() {
    let out = Command::new(env!("CARGO_BIN_EXE_github-standin"))
        .args(["--repository", "acme/infra"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--token is required")
            || String::from_utf8_lossy(&out.stderr).contains("--repo-dir is required")
    );
}
