//! Slow clients against the real `stagesub-bridge serve`: headers and bodies have read timeouts,
//! and SIGTERM drains for at most SHUTDOWN_GRACE, then exits 0 even with half-sent requests open;
//! a job cut off by the grace stays queued in Postgres and completes on the next start.

#[path = "support/process.rs"]
mod process;
mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use process::{Served, serve_vars};
use support::*;

/// Bound for "eventually" in this file; the behaviour under test takes a few seconds at most.
const PATIENCE: Duration = Duration::from_secs(25);

#[tokio::test]
async fn sigterm_with_half_sent_requests_exits_0_after_the_grace() {
    let db = TestDb::new().await;
    let remote = GitRemote::new();
    let mut vars = serve_vars(&db.url, &remote.url());
    vars.push(("SHUTDOWN_GRACE", "2s".into()));
    vars.push(("HEADER_READ_TIMEOUT", "5m".into()));
    vars.push(("BODY_READ_TIMEOUT", "5m".into()));
    let mut served = Served::start(&vars, &remote.dir.path().join("work"));
    let addr = served.addr();
    let mut clients = Vec::new();
    for i in 0..5 {
        let mut s = TcpStream::connect(addr).unwrap();
        if i % 2 == 0 {
            // Headers cut off in the middle.
            s.write_all(b"POST /api/webhooks/stripe HTTP/1.1\r\nHost: bridge\r\nContent-Ty")
                .unwrap();
        } else {
            // Headers complete, body cut off.
            s.write_all(
                b"POST /api/webhooks/stripe HTTP/1.1\r\nHost: bridge\r\nContent-Length: 100\r\n\r\n{\"id\":",
            )
            .unwrap();
        }
        clients.push(s);
    }
    std::thread::sleep(Duration::from_millis(300));
    served.terminate();
    let status = served.wait_for_exit(PATIENCE);
    assert!(
        status.is_some(),
        "still running {PATIENCE:?} after SIGTERM with a 2 s grace: {:?}",
        served.log()
    );
    assert_eq!(status.unwrap().code(), Some(0), "{:?}", served.log());
    drop(clients);
}

#[tokio::test]
async fn headers_sent_slowly_are_cut_off() {
    let db = TestDb::new().await;
    let remote = GitRemote::new();
    let mut vars = serve_vars(&db.url, &remote.url());
    vars.push(("HEADER_READ_TIMEOUT", "1s".into()));
    let served = Served::start(&vars, &remote.dir.path().join("work"));
    let mut s = TcpStream::connect(served.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: bridge\r\nX-Slow: ")
        .unwrap();
    let start = Instant::now();
    let mut closed = false;
    while start.elapsed() < PATIENCE {
        // One byte every 200 ms: always sending, never finishing.
        if s.write_all(b"a").is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 256];
        match s.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(_) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    assert!(
        closed,
        "a client trickling headers kept its connection for {PATIENCE:?}"
    );
    // A prompt client is still served.
    let mut ok = TcpStream::connect(served.addr()).unwrap();
    ok.write_all(b"GET /healthz HTTP/1.1\r\nHost: bridge\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    ok.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn a_body_not_sent_in_time_is_answered_408() {
    let db = TestDb::new().await;
    let remote = GitRemote::new();
    let mut vars = serve_vars(&db.url, &remote.url());
    vars.push(("BODY_READ_TIMEOUT", "1s".into()));
    let served = Served::start(&vars, &remote.dir.path().join("work"));
    let mut s = TcpStream::connect(served.addr()).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.write_all(
        b"POST /api/webhooks/stripe HTTP/1.1\r\nHost: bridge\r\nStripe-Signature: t=1,v1=00\r\nContent-Length: 100\r\n\r\n{\"id\":",
    )
    .unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_job_cut_off_by_the_grace_stays_queued_and_completes_later() {
    let db = TestDb::new().await;
    let remote = GitRemote::new();
    // The remote takes its time: the publish is still pushing when SIGTERM arrives.
    let hook = remote.bare().join("hooks/pre-receive");
    std::fs::write(&hook, "#!/bin/sh\nsleep 20\nexit 1\n").unwrap();
    let mut perms = std::fs::metadata(&hook).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&hook, perms).unwrap();
    let mut vars = serve_vars(&db.url, &remote.url());
    vars.push(("SHUTDOWN_GRACE", "1s".into()));
    let mut served = Served::start(&vars, &remote.dir.path().join("work"));
    let addr = served.addr();
    let event = checkout_event(
        "evt_grace",
        stagesub_bridge::signature::unix_now(),
        "cus_grace",
        None,
        metadata("grace-band", "Grace"),
    )
    .to_string();
    let sig = sign_one(&event, SECRET, None);
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /api/webhooks/stripe HTTP/1.1\r\nHost: bridge\r\nConnection: close\r\nStripe-Signature: {sig}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{event}",
        event.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let store = db.store().await;
    let client = store.client().await.unwrap();
    let start = Instant::now();
    // Wait until the publish job is running (its row is locked by the worker).
    loop {
        let locked: i64 = client
            .query_one(
                "SELECT count(*) FROM jobs WHERE kind = 'publish' AND id NOT IN
                   (SELECT id FROM jobs WHERE kind = 'publish' FOR UPDATE SKIP LOCKED)",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if locked == 1 {
            break;
        }
        assert!(start.elapsed() < PATIENCE, "{:?}", served.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    served.terminate();
    let status = served
        .wait_for_exit(PATIENCE)
        .expect("exits after the grace");
    assert_eq!(status.code(), Some(0), "{:?}", served.log());
    let row = client
        .query_one(
            "SELECT done_at IS NULL AND parked_reason IS NULL FROM jobs WHERE kind = 'publish'",
            &[],
        )
        .await
        .unwrap();
    assert!(row.get::<_, bool>(0), "the job stays queued");

    std::fs::remove_file(&hook).unwrap();
    let ctx = stagesub_bridge::worker::WorkerContext {
        publisher: std::sync::Arc::new(remote.publisher(stagesub_gitops::CommitMode::Direct)),
        mailer: None,
        tenants_dir: "tenants".into(),
        module_source: "../../modules/orchestra".into(),
        app_domain: "stagesub.test".into(),
        retry: stagesub_bridge::worker::RetryPolicy::default(),
        archive_grace: std::time::Duration::ZERO,
    };
    // The next start (here: the worker in-process) publishes it; the run_at may be in the future.
    client
        .execute("UPDATE jobs SET run_at = now()", &[])
        .await
        .unwrap();
    while stagesub_bridge::worker::run_one(&store, &ctx)
        .await
        .unwrap()
    {}
    assert!(remote.file("main", "tenants/grace-band/main.tf").is_some());
}
