//! The grace period with the real binary: two replicas on one database make each archive commit and
//! each notice exactly once, and a bridge SIGKILLed during a grace period and started again still
//! archives at the deadline (the schedule lives in Postgres). Real Postgres, git remote, SMTP sink.

#[path = "support/mail_text.rs"]
mod mail_text;
#[path = "support/process.rs"]
mod process;
#[path = "support/smtp.rs"]
mod smtp;
mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use process::{Served, serve_vars};
use stagesub_bridge::signature::unix_now;
use support::*;

/// One HTTP/1.1 POST on a fresh connection; the status code.
fn post(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &[u8]) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let text = String::from_utf8_lossy(&resp);
    text.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Signs all payloads at once and delivers each to `replicas[i % n]`, expecting 200.
fn deliver(replicas: &[SocketAddr], events: &[serde_json::Value]) {
    let payloads: Vec<String> = events.iter().map(|e| e.to_string()).collect();
    for (i, (p, sig)) in payloads
        .iter()
        .zip(stripe_sign(&payloads, SECRET, None))
        .enumerate()
    {
        let addr = replicas[i % replicas.len()];
        let status = post(
            addr,
            "/api/webhooks/stripe",
            &[
                ("Stripe-Signature", &sig),
                ("Content-Type", "application/json"),
            ],
            p.as_bytes(),
        );
        assert_eq!(status, 200);
    }
}

fn vars(
    db: &TestDb,
    remote: &GitRemote,
    sink: &smtp::Sink,
    grace: &str,
) -> Vec<(&'static str, String)> {
    let mut v = serve_vars(&db.url, &remote.url());
    v.extend([
        ("COMMIT_MODE", "direct".to_owned()),
        ("ARCHIVE_GRACE", grace.to_owned()),
        ("SMTP_URL", format!("smtp://127.0.0.1:{}", sink.port)),
        ("EMAIL_FROM", "stagesub <hello@stagesub.test>".to_owned()),
        ("ADMIN_EMAIL", "admin@stagesub.test".to_owned()),
        ("BRIDGE_API_TOKEN", "replica-token".to_owned()),
        (
            "HOME",
            std::env::var("HOME").unwrap_or_else(|_| "/tmp".into()),
        ),
        ("RUST_LOG", "info".to_owned()),
    ]);
    v
}

async fn query_i64(client: &tokio_postgres::Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).await.unwrap().get(0)
}

async fn connect(db: &TestDb) -> tokio_postgres::Client {
    let (c, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    c
}

/// Waits until `sql` (a count) reaches `want`, for at most `limit`.
async fn wait_for(client: &tokio_postgres::Client, sql: &str, want: i64, limit: Duration) {
    let start = Instant::now();
    loop {
        let n = query_i64(client, sql).await;
        if n == want {
            return;
        }
        assert!(start.elapsed() < limit, "{sql}: {n}, want {want}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn tenant_checkout(i: usize, at: i64) -> serde_json::Value {
    let mut e = checkout_event(
        &format!("evt_rep_co{i}"),
        at,
        &format!("cus_rep{i}"),
        Some(&format!("sub_rep{i}")),
        metadata(&format!("replica-{i}"), &format!("Replica Band {i}")),
    );
    e["data"]["object"]["customer_details"]["email"] =
        serde_json::json!(format!("band{i}@replica.test"));
    e
}

fn cancellation(i: usize, at: i64) -> serde_json::Value {
    subscription_event(
        &format!("evt_rep_del{i}"),
        "customer.subscription.deleted",
        at,
        &format!("sub_rep{i}"),
        &format!("cus_rep{i}"),
        "canceled",
    )
}

const TENANTS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_make_one_archive_commit_and_one_set_of_emails_per_tenant() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = smtp::Sink::start(tmp.path().join("mail"));
    let db = TestDb::new().await;
    let remote = GitRemote::new();
    let v = vars(&db, &remote, &sink, "8s");
    let a = Served::start(&v, &tmp.path().join("work-a"));
    let b = Served::start(&v, &tmp.path().join("work-b"));
    let replicas = [a.addr(), b.addr()];
    let client = connect(&db).await;
    let t = unix_now();
    deliver(
        &replicas,
        &(0..TENANTS)
            .map(|i| tenant_checkout(i, t))
            .collect::<Vec<_>>(),
    );
    let limit = Duration::from_secs(40);
    wait_for(
        &client,
        "SELECT count(*) FROM tenants WHERE published_commit IS NOT NULL",
        TENANTS as i64,
        limit,
    )
    .await;
    // Each cancellation delivered to both replicas (Stripe retrying): one period each.
    let cancels: Vec<_> = (0..TENANTS).map(|i| cancellation(i, t + 60)).collect();
    deliver(&replicas, &cancels);
    deliver(&replicas[1..], &cancels);
    wait_for(
        &client,
        "SELECT count(*) FROM archive_schedules WHERE state = 'scheduled'",
        TENANTS as i64,
        limit,
    )
    .await;
    assert_eq!(
        remote.commit_count("main"),
        1 + TENANTS,
        "nothing archived before the deadline"
    );
    wait_for(
        &client,
        "SELECT count(*) FROM archive_schedules WHERE state = 'archived'",
        TENANTS as i64,
        limit,
    )
    .await;
    wait_for(
        &client,
        "SELECT count(*) FROM jobs WHERE done_at IS NULL",
        0,
        limit,
    )
    .await;
    // Let both replicas look again: nothing more happens.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        query_i64(&client, "SELECT count(*) FROM archive_schedules").await,
        TENANTS as i64
    );
    assert_eq!(remote.commit_count("main"), 1 + 2 * TENANTS);
    for i in 0..TENANTS {
        let path = format!("tenants/replica-{i}/main.tf");
        assert_eq!(remote.commits_touching("main", &path).len(), 2, "{path}");
        let (_, attrs) = read_tenant_file(&remote.file("main", &path).unwrap());
        assert_eq!(attrs["archived"], hcl::Value::Bool(true), "{path}");
        let to_customer = format!("To: band{i}@replica.test");
        let of = |needle: &str| {
            sink.messages()
                .iter()
                .map(|m| mail_text::readable(m))
                .filter(|m| m.contains(needle) && m.contains(&format!("replica-{i}")))
                .count()
        };
        assert_eq!(
            of(&to_customer),
            2,
            "replica-{i}: grace + archived to the customer"
        );
        assert_eq!(
            of("To: admin@stagesub.test"),
            2,
            "replica-{i}: grace + archived to the admin"
        );
    }
    assert_eq!(sink.messages().len(), 4 * TENANTS);
    let made: usize = [&a, &b]
        .iter()
        .map(|r| {
            r.log()
                .iter()
                .filter(|l| l.contains("archive commit made"))
                .count()
        })
        .sum();
    assert_eq!(made, TENANTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridge_killed_during_the_grace_period_archives_at_the_deadline_after_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = smtp::Sink::start(tmp.path().join("mail"));
    let db = TestDb::new().await;
    let remote = GitRemote::new();
    let v = vars(&db, &remote, &sink, "10s");
    let work = tmp.path().join("work");
    let mut first = Served::start(&v, &work);
    let client = connect(&db).await;
    let t = unix_now();
    deliver(&[first.addr()], &[tenant_checkout(0, t)]);
    let limit = Duration::from_secs(40);
    wait_for(
        &client,
        "SELECT count(*) FROM tenants WHERE published_commit IS NOT NULL",
        1,
        limit,
    )
    .await;
    deliver(&[first.addr()], &[cancellation(0, t + 60)]);
    wait_for(
        &client,
        "SELECT count(*) FROM jobs WHERE kind = 'grace_notice' AND done_at IS NOT NULL",
        2,
        limit,
    )
    .await;
    // SIGKILL: nothing is drained, nothing is said.
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let left: f64 = client
        .query_one(
            "SELECT EXTRACT(EPOCH FROM due_at - now())::float8 FROM archive_schedules WHERE state = 'scheduled'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        left > 1.0,
        "the kill must land inside the grace period ({left:.1}s left)"
    );
    assert_eq!(remote.commit_count("main"), 2);
    let second = Served::start(&v, &work);
    second.addr();
    wait_for(
        &client,
        "SELECT count(*) FROM archive_schedules WHERE state = 'archived'",
        1,
        limit,
    )
    .await;
    wait_for(
        &client,
        "SELECT count(*) FROM jobs WHERE done_at IS NULL",
        0,
        limit,
    )
    .await;
    assert_eq!(
        query_i64(
            &client,
            "SELECT count(*) FROM archive_schedules WHERE closed_at >= due_at"
        )
        .await,
        1,
        "not before the deadline"
    );
    assert_eq!(remote.commit_count("main"), 3);
    let (_, attrs) = read_tenant_file(&remote.file("main", "tenants/replica-0/main.tf").unwrap());
    assert_eq!(attrs["archived"], hcl::Value::Bool(true));
    assert_eq!(
        sink.messages().len(),
        4,
        "grace + archived, customer and admin"
    );
    assert!(
        second
            .log()
            .iter()
            .any(|l| l.contains("archive commit made"))
    );
}
