//! The real binary, SIGKILLed in the middle of a burst of 200 signups and started again: every tenant
//! ends committed exactly once. Also: SIGTERM shuts down cleanly.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use stagesub_bridge::signature::unix_now;
use support::*;

const SIGNUPS: usize = 200;

/// Kills the bridge if the test fails half-way, so no server outlives it.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn_bridge(db: &TestDb, remote: &GitRemote, work: &std::path::Path, port: u16) -> Running {
    Running(
        Command::new(env!("CARGO_BIN_EXE_stagesub-bridge"))
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap())
            .env(
                "HOME",
                std::env::var("HOME").unwrap_or_else(|_| "/tmp".into()),
            )
            .env("STRIPE_WEBHOOK_SECRET", SECRET)
            .env("DATABASE_URL", &db.url)
            .env("BIND_ADDR", format!("127.0.0.1:{port}"))
            .env("GIT_BACKEND", "git")
            .env("GIT_REMOTE_URL", remote.url())
            .env("GIT_WORK_DIR", work)
            .env("COMMIT_MODE", "direct")
            .env("BRIDGE_API_TOKEN", "crash-token")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    )
}

/// One HTTP/1.1 request on a fresh connection; the status code, or None when the server is gone.
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).ok()?;
    let text = String::from_utf8_lossy(&resp);
    text.split_whitespace().nth(1)?.parse().ok()
}

fn wait_healthy(port: u16, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if http(port, "GET", "/readyz", &[], b"") == Some(200) {
            return;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the bridge exited during start-up"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the bridge did not become ready");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_mid_burst_then_restart_commits_every_tenant_exactly_once() {
    let db = TestDb::new().await;
    let remote = GitRemote::new();
    let work = remote.dir.path().join("bridge-work");
    let now = unix_now();
    let payloads: Vec<String> = (0..SIGNUPS)
        .map(|i| {
            checkout_event(
                &format!("evt_burst{i}"),
                now,
                &format!("cus_burst{i}"),
                None,
                metadata(&format!("burst-{i}"), &format!("Burst Orchestra {i}")),
            )
            .to_string()
        })
        .collect();
    let sigs = stripe_sign(&payloads, SECRET, None);
    let deliveries: Vec<(String, String)> = payloads.into_iter().zip(sigs).collect();

    let port = free_port();
    let mut first = spawn_bridge(&db, &remote, &work, port);
    wait_healthy(port, &mut first.0);
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // Commits seen on the remote; the first burst pauses at 60 deliveries until the worker has pushed
    // some, so that the kill lands while it is publishing, not before.
    let committed = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(usize::MAX));
    let send_all = |port: u16| {
        let deliveries = deliveries.clone();
        let accepted = accepted.clone();
        let committed = committed.clone();
        std::thread::spawn(move || {
            let lanes: Vec<_> = (0..8)
                .map(|lane| {
                    let mine: Vec<(String, String)> =
                        deliveries.iter().skip(lane).step_by(8).cloned().collect();
                    let accepted = accepted.clone();
                    let committed = committed.clone();
                    std::thread::spawn(move || {
                        let mut ok = Vec::new();
                        for (payload, sig) in mine {
                            while accepted.load(std::sync::atomic::Ordering::SeqCst) >= 60
                                && committed.load(std::sync::atomic::Ordering::SeqCst) < 2
                            {
                                std::thread::sleep(Duration::from_millis(5));
                            }
                            let mut status;
                            // Like Stripe: a 5xx (e.g. the database out of connections) is retried.
                            loop {
                                status = http(
                                    port,
                                    "POST",
                                    "/api/webhooks/stripe",
                                    &[
                                        ("Stripe-Signature", &sig),
                                        ("Content-Type", "application/json"),
                                    ],
                                    payload.as_bytes(),
                                );
                                if status.is_none_or(|s| s < 500) {
                                    break;
                                }
                                std::thread::sleep(Duration::from_millis(100));
                            }
                            if status == Some(200) {
                                accepted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                ok.push(payload);
                            } else if let Some(s) = status {
                                panic!("unexpected status {s}");
                            }
                        }
                        ok.len()
                    })
                })
                .collect();
            lanes.into_iter().map(|l| l.join().unwrap()).sum::<usize>()
        })
    };
    committed.store(0, std::sync::atomic::Ordering::SeqCst);
    let burst = send_all(port);
    // Kill once about half the burst is recorded (while the worker is publishing).
    let deadline = Instant::now() + Duration::from_secs(120);
    while accepted.load(std::sync::atomic::Ordering::SeqCst) < SIGNUPS / 2 {
        assert!(Instant::now() < deadline, "burst too slow");
        committed.store(
            remote.commit_count("main") - 1,
            std::sync::atomic::Ordering::SeqCst,
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    first.0.kill().unwrap(); // SIGKILL
    first.0.wait().unwrap();
    let delivered_before_kill = burst.join().unwrap();
    assert!(
        delivered_before_kill < SIGNUPS,
        "the kill came after the whole burst ({delivered_before_kill})"
    );
    let client = {
        let (c, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        c
    };
    let count = |sql: &'static str| {
        let client = &client;
        async move { client.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    let recorded = count("SELECT count(*) FROM events").await;
    // Every acknowledged delivery is stored; requests in flight at the kill (8 lanes) may be stored
    // without their answer, and Stripe's retry then finds them as duplicates.
    let recorded = recorded as usize;
    assert!(
        (delivered_before_kill..=delivered_before_kill + 8).contains(&recorded),
        "{recorded} stored, {delivered_before_kill} acknowledged"
    );
    let committed_before = remote.commit_count("main") - 1;
    eprintln!(
        "before the kill: {delivered_before_kill} acknowledged, {committed_before} committed"
    );
    assert!(
        (2..SIGNUPS).contains(&committed_before),
        "the kill must land while publishing"
    );

    // Restart; Stripe redelivers everything it did not see acknowledged (we resend all: duplicates too).
    let port = free_port();
    let mut second = spawn_bridge(&db, &remote, &work, port);
    wait_healthy(port, &mut second.0);
    accepted.store(0, std::sync::atomic::Ordering::SeqCst);
    committed.store(usize::MAX, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(send_all(port).join().unwrap(), SIGNUPS);
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let open = count("SELECT count(*) FROM jobs WHERE done_at IS NULL").await;
        let published =
            count("SELECT count(*) FROM tenants WHERE published_commit IS NOT NULL").await;
        if open == 0 && published == SIGNUPS as i64 {
            break;
        }
        assert!(second.0.try_wait().unwrap().is_none(), "the bridge died");
        assert!(
            Instant::now() < deadline,
            "not all tenants published: {published}, open jobs {open}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(count("SELECT count(*) FROM events").await, SIGNUPS as i64);
    assert_eq!(
        count("SELECT count(*) FROM jobs WHERE parked_reason IS NOT NULL").await,
        0
    );
    assert_eq!(
        remote.commit_count("main"),
        SIGNUPS + 1,
        "one commit per tenant, plus the initial one"
    );
    for i in 0..SIGNUPS {
        let path = format!("tenants/burst-{i}/main.tf");
        assert_eq!(remote.commits_touching("main", &path).len(), 1, "{path}");
        let (_, attrs) = read_tenant_file(&remote.file("main", &path).unwrap());
        assert_eq!(
            hcl_str(&attrs, "orchestra_name"),
            Some(format!("Burst Orchestra {i}"))
        );
    }

    // SIGTERM: a graceful stop with exit status 0.
    let pid = second.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = second.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "no exit within 30 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}
