//! Reminders about provisions pending past `PROVISION_SLA`, through a real SMTP server: two real
//! `stagesub-bridge serve` replicas on one database send exactly one email per `REMINDER_EVERY`
//! window and stop once the tenant is ready; concurrent ticks never send a window twice and a
//! failed send leaves the window for later; `DIGEST_AT` replaces them with one digest a day.

#[path = "support/http.rs"]
mod http;
#[path = "support/process.rs"]
mod process;
#[path = "support/smtp.rs"]
mod smtp;
mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use process::{Served, serve_vars};
use serde_json::json;
use smtp::Sink;
use stagesub_bridge::config::{DigestAt, MailConfig, Secret};
use stagesub_bridge::mail::Mailer;
use stagesub_bridge::signature::unix_now;
use stagesub_bridge::store::Store;
use stagesub_bridge::worker::reminders::{ReminderSettings, tick};
use support::*;

const API: (&str, &str) = ("authorization", "Bearer test-api-token");

/// A paid tenant, published by the in-process bridge (state `published`).
async fn pending_tenant(b: &Bridge, subdomain: &str, name: &str) {
    let mut e = checkout_event(
        &format!("evt_rem_{subdomain}"),
        unix_now(),
        &format!("cus_{subdomain}"),
        None,
        metadata(subdomain, name),
    );
    e["data"]["object"]["customer_details"]["email"] = json!(format!("office@{subdomain}.example"));
    assert_eq!(b.deliver_signed(&e.to_string()).await.0, 200);
    b.drain().await;
}

fn replica(b: &Bridge, sink: &Sink, name: &str, extra: &[(&'static str, &str)]) -> Served {
    let mut vars = serve_vars(&b.db.url, &b.remote.url());
    vars.extend([
        ("SMTP_URL", format!("smtp://127.0.0.1:{}", sink.port)),
        ("EMAIL_FROM", "stagesub <hello@stagesub.test>".to_owned()),
        ("ADMIN_EMAIL", "admin@stagesub.test".to_owned()),
        ("BRIDGE_API_TOKEN", "test-api-token".to_owned()),
        ("COMMIT_MODE", "direct".to_owned()),
    ]);
    vars.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    Served::start(&vars, &b.remote.dir.path().join(name))
}

/// A message with its quoted-printable soft breaks and `=XX` escapes decoded, and header lines
/// unfolded.
fn decoded(message: &str) -> String {
    let text = message
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("\r\n ", " ")
        .replace("\n ", " ");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn messages(sink: &Sink) -> Vec<String> {
    sink.messages().iter().map(|m| decoded(m)).collect()
}

/// Reminder number per message that is a reminder for `subdomain`, counted.
fn reminders_of(sink: &Sink, subdomain: &str) -> BTreeMap<u32, usize> {
    let mut seen = BTreeMap::new();
    for m in messages(sink) {
        if !m.contains(&format!("Tenant: {subdomain} (")) || !m.contains("Reminder ") {
            continue;
        }
        let at = m.find("\nReminder ").expect("reminder number") + "\nReminder ".len();
        let n: u32 = m[at..].split_whitespace().next().unwrap().parse().unwrap();
        *seen.entry(n).or_default() += 1;
    }
    seen
}

async fn rows(b: &Bridge, sql: &str) -> i64 {
    b.count(sql).await
}

#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_send_one_reminder_per_window_until_ready() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = Sink::start(tmp.path().join("mail"));
    let b = Bridge::new().await;
    pending_tenant(&b, "late-strings", "Late Strings").await;
    pending_tenant(&b, "quick-winds", "Quick Winds").await;
    let (status, _) = b
        .request("POST", "/api/tenants/quick-winds/ready", &[API], vec![])
        .await;
    assert_eq!(status, 200);

    let settings = [("PROVISION_SLA", "2s"), ("REMINDER_EVERY", "3s")];
    let one = replica(&b, &sink, "one", &settings);
    let two = replica(&b, &sink, "two", &settings);
    let addr = one.addr();
    two.addr();

    // Windows start at 2 s, 5 s and 8 s of age: wait for the third reminder.
    let start = Instant::now();
    while !reminders_of(&sink, "late-strings").contains_key(&3) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{:?}\n{:?}",
            one.log(),
            two.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready = tokio::task::spawn_blocking(move || {
        http::post(
            addr,
            "/api/tenants/late-strings/ready",
            &[("authorization", "Bearer test-api-token")],
            b"",
        )
    })
    .await
    .unwrap();
    assert_eq!(ready.status, 200, "{}", ready.body);
    tokio::time::sleep(Duration::from_millis(700)).await;
    let at_ready = reminders_of(&sink, "late-strings");
    // Two more windows would have begun by now: none is sent for a ready tenant.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let seen = reminders_of(&sink, "late-strings");
    assert_eq!(seen, at_ready, "reminders after ready");

    let windows: Vec<u32> = seen.keys().copied().collect();
    assert!(
        windows.len() >= 3 && windows.iter().zip(1..).all(|(w, n)| *w == n),
        "reminders 1, 2, 3… expected: {seen:?}\n{:?}\n{:?}",
        one.log(),
        two.log()
    );
    assert!(
        seen.values().all(|n| *n == 1),
        "a window mailed twice: {seen:?}"
    );
    assert_eq!(reminders_of(&sink, "quick-winds"), BTreeMap::new());
    assert_eq!(
        rows(&b, "SELECT count(*) FROM provision_reminders").await,
        windows.len() as i64
    );

    let first = messages(&sink)
        .into_iter()
        .find(|m| m.contains("Reminder 1 "))
        .unwrap();
    for needle in [
        "To: admin@stagesub.test",
        "late-strings pending for",
        "Late Strings",
        "State: published",
        "Contact: office@late-strings.example",
        "Stripe customer: cus_late-strings",
        "What to do:",
        "/api/tenants/late-strings/ready",
    ] {
        assert!(first.contains(needle), "{needle} missing:\n{first}");
    }
}

fn settings(sla_ms: u64, every_ms: u64, digest_at: Option<DigestAt>) -> ReminderSettings {
    ReminderSettings {
        sla: Duration::from_millis(sla_ms),
        every: Duration::from_millis(every_ms),
        digest_at,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_ticks_claim_each_window_once_and_a_failed_send_is_retried() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = Sink::start(tmp.path().join("mail"));
    let b = Bridge::new().await;
    for name in ["race-a", "race-b", "race-c", "race-archived"] {
        pending_tenant(&b, name, "Race Ensemble").await;
    }
    // Archived before it was ready (the subscription ended): not pending, never reminded.
    let client = b.store.client().await.unwrap();
    client
        .execute(
            "UPDATE tenants SET archived = true WHERE subdomain = 'race-archived'",
            &[],
        )
        .await
        .unwrap();
    let s = settings(500, 1_000, None);

    // SMTP refuses: nothing is claimed, so the window is still due when mail works again.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = closed.local_addr().unwrap().port();
    drop(closed);
    let broken = Mailer::new(&MailConfig {
        smtp_url: Secret(format!("smtp://127.0.0.1:{dead_port}")),
        from: "stagesub <hello@stagesub.test>".into(),
        admin: "admin@stagesub.test".into(),
    })
    .unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(tick(&b.store, &broken, &s).await.unwrap(), 0);
    assert_eq!(
        rows(&b, "SELECT count(*) FROM provision_reminders").await,
        0
    );

    // Four "replicas" (own pools) tick at the same moments for 3.5 s.
    let mailer = sink.mailer();
    let stores: Vec<Store> = (0..4)
        .map(|_| Store::connect(&b.db.url, 4).unwrap())
        .collect();
    let start = Instant::now();
    let mut sent = 0;
    while start.elapsed() < Duration::from_millis(3_500) {
        let mut ticks = tokio::task::JoinSet::new();
        for st in &stores {
            let (st, m) = (st.clone(), mailer.clone());
            ticks.spawn(async move { tick(&st, &m, &s).await.unwrap() });
        }
        while let Some(n) = ticks.join_next().await {
            sent += n.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for name in ["race-a", "race-b", "race-c"] {
        let seen = reminders_of(&sink, name);
        assert!(seen.len() >= 3, "{name}: {seen:?}");
        assert!(seen.values().all(|n| *n == 1), "{name}: {seen:?}");
    }
    assert_eq!(reminders_of(&sink, "race-archived"), BTreeMap::new());
    assert_eq!(sink.messages().len(), sent);
    assert_eq!(
        rows(&b, "SELECT count(*) FROM provision_reminders").await,
        sent as i64
    );
}

/// `HH:MM` of now (UTC), at least 5 s before midnight.
fn digest_time_now() -> (String, i32) {
    let mut now = unix_now();
    if now.rem_euclid(86_400) > 86_400 - 5 {
        std::thread::sleep(Duration::from_secs(6));
        now = unix_now();
    }
    let second = now.rem_euclid(86_400);
    (
        format!("{:02}:{:02}", second / 3600, second / 60 % 60),
        now.div_euclid(86_400) as i32,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn digest_mode_sends_one_summary_a_day_across_replicas() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = Sink::start(tmp.path().join("mail"));
    let b = Bridge::new().await;
    pending_tenant(&b, "digest-brass", "Digest Brass").await;
    pending_tenant(&b, "digest-choir", "Digest Choir").await;
    let (status, _) = b
        .request(
            "POST",
            "/api/tenants/digest-choir/failed",
            &[API],
            b"terraform apply: quota exceeded".to_vec(),
        )
        .await;
    assert_eq!(status, 200);
    b.drain().await; // the failure email is parked: the in-process bridge has no mailer
    tokio::time::sleep(Duration::from_millis(1_100)).await;

    let (at, day) = digest_time_now();
    let vars = [
        ("PROVISION_SLA", "1s"),
        ("REMINDER_EVERY", "1s"),
        ("DIGEST_AT", at.as_str()),
    ];
    let one = replica(&b, &sink, "one", &vars);
    let two = replica(&b, &sink, "two", &vars);
    one.addr();
    two.addr();
    let start = Instant::now();
    while sink.messages().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no digest: {:?}",
            one.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Per-tenant reminders would be due every second: none come, and no second digest.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let messages = messages(&sink);
    assert_eq!(messages.len(), 1, "{messages:#?}");
    let digest = &messages[0];
    for needle in [
        "daily digest: 2 tenant(s)",
        "Tenant: digest-brass (Digest Brass)",
        "Tenant: digest-choir (Digest Choir)",
        "State: failed",
        "terraform apply: quota exceeded",
        "State: published",
    ] {
        assert!(digest.contains(needle), "{needle} missing:\n{digest}");
    }
    assert_eq!(
        rows(&b, "SELECT count(*) FROM provision_reminders").await,
        0
    );
    let client = b.store.client().await.unwrap();
    let row = client
        .query_one(
            "SELECT (day - DATE '1970-01-01')::integer, tenants FROM reminder_digests",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((row.get::<_, i32>(0), row.get::<_, i32>(1)), (day, 2));

    // Today is taken; the next day is a new claim.
    let s = settings(1_000, 1_000, DigestAt::parse(&at));
    assert_eq!(tick(&b.store, &sink.mailer(), &s).await.unwrap(), 0);
    use stagesub_bridge::store::reminders::claim_digest;
    assert!(!claim_digest(&**client, day, 0).await.unwrap());
    assert!(claim_digest(&**client, day + 1, 0).await.unwrap());
}
