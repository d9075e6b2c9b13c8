//! `/metrics`: scraped by a real Prometheus (Debian's `prometheus`, on a free loopback port, every
//! second, with the bearer token) from the real `stagesub-bridge serve`, and queried through
//! Prometheus's HTTP API after signed webhook deliveries; the token is required; a separate
//! `METRICS_BIND_ADDR` listener; off without either; a database outage does not hang a scrape.

#[path = "support/http.rs"]
mod http;
#[path = "support/process.rs"]
mod process;
#[path = "support/prometheus.rs"]
mod prometheus;
#[path = "support/smtp.rs"]
mod smtp;
mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use process::{Served, serve_vars};
use prometheus::Prometheus;
use smtp::Sink;
use stagesub_bridge::metrics::http::{MetricsState, router};
use stagesub_bridge::signature::unix_now;
use support::*;

const TOKEN: &str = "metrics-token-for-tests-7f3a";

fn checkout(n: u32) -> String {
    checkout_event(
        &format!("evt_metrics_{n}"),
        unix_now() - 60,
        &format!("cus_metrics_{n}"),
        None,
        metadata(&format!("metrics-{n}"), "Metrics Philharmonic"),
    )
    .to_string()
}

fn with_contact(payload: String, n: u32) -> String {
    let mut e: serde_json::Value = serde_json::from_str(&payload).unwrap();
    e["data"]["object"]["customer_details"]["email"] =
        serde_json::json!(format!("office@metrics-{n}.example"));
    e.to_string()
}

fn deliver(addr: SocketAddr, payload: &str, signature: &str) -> u16 {
    http::post(
        addr,
        "/api/webhooks/stripe",
        &[
            ("stripe-signature", signature),
            ("content-type", "application/json"),
        ],
        payload.as_bytes(),
    )
    .status
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_scrapes_webhook_counters_with_the_bearer_token() {
    let db = TestDb::new().await;
    let remote = GitRemote::new();
    let mut vars = serve_vars(&db.url, &remote.url());
    vars.push(("METRICS_TOKEN", TOKEN.into()));
    vars.push(("COMMIT_MODE", "direct".into()));
    let mail = tempfile::tempdir().unwrap();
    let sink = Sink::start(mail.path().to_path_buf());
    vars.extend([
        ("SMTP_URL", format!("smtp://127.0.0.1:{}", sink.port)),
        ("EMAIL_FROM", "stagesub <hello@stagesub.test>".to_owned()),
        ("ADMIN_EMAIL", "admin@stagesub.test".to_owned()),
        ("BRIDGE_API_TOKEN", "test-api-token".to_owned()),
        ("PROVISION_SLA", "1s".to_owned()),
        ("REMINDER_EVERY", "1h".to_owned()),
    ]);
    let served = Served::start(&vars, &remote.dir.path().join("work"));
    let addr = served.addr();

    // The token is required, and compared whole.
    assert_eq!(http::get(addr, "/metrics", &[]).status, 401);
    let wrong = http::get(
        addr,
        "/metrics",
        &[("authorization", "Bearer metrics-token")],
    );
    assert_eq!(wrong.status, 401);
    assert!(wrong.header("www-authenticate").is_some());
    let bearer = format!("Bearer {TOKEN}");
    let openmetrics = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
    let ok = http::get(
        addr,
        "/metrics",
        &[("authorization", &bearer), ("accept", openmetrics)],
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(
        ok.header("content-type")
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    assert!(
        ok.body.contains("stagesub_metrics_database_up 1"),
        "{}",
        ok.body
    );
    assert!(ok.body.ends_with("# EOF\n"));
    // Without an Accept header for OpenMetrics: the classic text format, which promtool's linter
    // reads and finds nothing to say about (names, `_total`, units, help texts).
    let classic = http::get(addr, "/metrics", &[("authorization", &bearer)]);
    assert_eq!(
        classic.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(
        classic
            .body
            .contains("# TYPE stagesub_webhook_events_total counter")
    );
    assert!(!classic.body.contains("# EOF"));
    promtool_check_metrics(&classic.body);
    // The bridge's other endpoints are unchanged.
    assert_eq!(http::get(addr, "/healthz", &[]).status, 200);

    let rules = repo_root().join("examples/monitoring/alerts.yml");
    let prom = tokio::task::spawn_blocking(move || Prometheus::start(addr, Some(TOKEN), &[rules]))
        .await
        .unwrap();

    // Two genuine checkouts, one of them delivered twice, and one forged delivery.
    let (a, b) = (with_contact(checkout(1), 1), with_contact(checkout(2), 2));
    let sigs = stripe_sign(&[a.clone(), b.clone()], SECRET, None);
    assert_eq!(deliver(addr, &a, &sigs[0]), 200);
    assert_eq!(deliver(addr, &b, &sigs[1]), 200);
    assert_eq!(deliver(addr, &a, &sigs[0]), 200);
    let forged = sign_one(&a, "whsec_not_the_secret", None);
    assert_eq!(deliver(addr, &a, &forged), 400);

    let limit = Duration::from_secs(30);
    let checks = [
        (
            r#"stagesub_webhook_events_total{type="checkout.session.completed",outcome="verified"}"#,
            2.0,
        ),
        (
            r#"stagesub_webhook_events_total{type="checkout.session.completed",outcome="duplicate"}"#,
            1.0,
        ),
        (r#"stagesub_webhook_events_total{outcome="rejected"}"#, 1.0),
        (
            r#"stagesub_webhook_signature_failures_total{reason="mismatch"}"#,
            1.0,
        ),
        // The worker published both tenant files: read from the database at scrape time, and
        // observed when the first commit happened.
        (r#"stagesub_tenants{state="published"}"#, 2.0),
        ("stagesub_tenants_pending", 2.0),
        ("stagesub_payment_to_commit_seconds_count", 2.0),
        ("stagesub_publish_attempts_total", 2.0),
        ("stagesub_publish_failures_total", 0.0),
        (r#"sum(stagesub_jobs{state="parked"})"#, 0.0),
        (r#"up{job="stagesub-bridge"}"#, 1.0),
    ];
    let prom = std::sync::Arc::new(prom);
    let expect = |checks: Vec<(&'static str, f64)>| {
        let p = prom.clone();
        let log = served.lines.clone();
        async move {
            for (query, want) in checks {
                let p = p.clone();
                let got = tokio::task::spawn_blocking(move || p.wait_for(query, want, limit))
                    .await
                    .unwrap();
                assert_eq!(got, Some(want), "{query}: {:?}", log.lock().unwrap());
            }
        }
    };
    expect(checks.to_vec()).await;

    // CI reports one tenant ready: the time from payment to ready is observed, the welcome email
    // counted; the other stays pending past the (1 s) SLA and the admin is reminded.
    let ready = http::post(
        addr,
        "/api/tenants/metrics-1/ready",
        &[("authorization", "Bearer test-api-token")],
        b"",
    );
    assert_eq!(ready.status, 200, "{}", ready.body);
    expect(vec![
        (r#"stagesub_tenants{state="ready"}"#, 1.0),
        (r#"stagesub_tenants{state="published"}"#, 1.0),
        ("stagesub_tenants_pending", 1.0),
        ("stagesub_tenants_past_sla", 1.0),
        ("stagesub_payment_to_ready_seconds_count", 1.0),
        (r#"stagesub_emails_sent_total{recipient="customer"}"#, 1.0),
        // metrics-2 for sure; metrics-1 too if it passed the SLA before it was ready.
        (
            r#"clamp_max(stagesub_reminders_sent_total{mode="reminder"}, 1)"#,
            1.0,
        ),
        (
            r#"clamp_max(stagesub_emails_sent_total{recipient="admin"}, 1)"#,
            1.0,
        ),
        (r#"stagesub_emails_failed_total{recipient="admin"}"#, 0.0),
    ])
    .await;

    // Prometheus loaded the example alert rules and evaluates them without errors.
    let p = prom.clone();
    let rules = tokio::task::spawn_blocking(move || p.api("rules", None))
        .await
        .unwrap();
    let groups = rules["groups"].as_array().unwrap();
    let loaded: Vec<&serde_json::Value> = groups
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap())
        .collect();
    assert!(loaded.len() >= 4, "{rules}");
    for rule in loaded {
        assert_ne!(rule["health"], "err", "{rule}");
    }
}

#[tokio::test]
async fn metrics_on_their_own_listener_and_off_without_settings() {
    let db = TestDb::new().await;
    let remote = GitRemote::new();
    let mut vars = serve_vars(&db.url, &remote.url());
    vars.push(("METRICS_BIND_ADDR", "127.0.0.1:0".into()));
    let served = Served::start(&vars, &remote.dir.path().join("work-a"));
    let main = served.addr();
    let metrics_addr = wait_for_log_addr(&served, "metrics_addr=");
    assert_ne!(metrics_addr, main);
    let scraped = http::get(metrics_addr, "/metrics", &[]);
    assert_eq!(scraped.status, 200);
    assert!(
        scraped
            .body
            .contains("# TYPE stagesub_webhook_events_total counter"),
        "{}",
        scraped.body
    );
    // Only /metrics there; and not on the main listener.
    assert_eq!(http::get(metrics_addr, "/healthz", &[]).status, 404);
    assert_eq!(http::get(main, "/metrics", &[]).status, 404);
    drop(served);

    let vars = serve_vars(&db.url, &remote.url());
    let served = Served::start(&vars, &remote.dir.path().join("work-b"));
    let main = served.addr();
    assert_eq!(http::get(main, "/metrics", &[]).status, 404);
    assert_eq!(http::get(main, "/healthz", &[]).status, 200);
    assert!(
        served.log().iter().any(|l| l.contains("/metrics is off")),
        "{:?}",
        served.log()
    );
}

fn promtool_check_metrics(text: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new(prometheus::binary("promtool"))
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn wait_for_log_addr(served: &Served, key: &str) -> SocketAddr {
    let start = Instant::now();
    loop {
        if let Some(addr) = served.log().iter().find_map(|l| {
            let at = l.find(key)?;
            l[at + key.len()..].split_whitespace().next()?.parse().ok()
        }) {
            return addr;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{:?}",
            served.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A database that accepts connections and never answers: the scrape still answers in time, with
/// `stagesub_metrics_database_up 0` and without the database's series.
#[tokio::test]
async fn a_database_that_does_not_answer_does_not_hang_the_scrape() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let store = stagesub_bridge::store::Store::connect(
        &format!("postgres://bridge@127.0.0.1:{port}/bridge?sslmode=disable"),
        2,
    )
    .unwrap();
    let app = router(MetricsState {
        store,
        token: None,
        sla: Duration::from_secs(3600),
    });
    let started = Instant::now();
    use tower::ServiceExt;
    let response = app
        .oneshot(
            axum::http::Request::get("/metrics")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(response.status(), 200);
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let text = String::from_utf8_lossy(&body);
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert!(text.contains("stagesub_metrics_database_up 0"), "{text}");
    assert!(!text.contains("stagesub_tenants{"), "{text}");
    assert!(!text.contains("stagesub_jobs{"), "{text}");
    drop(silent);
}
