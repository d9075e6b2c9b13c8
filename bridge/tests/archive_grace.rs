//! The grace period (`ARCHIVE_GRACE`, counted from the event's `created` time; the tests date endings
//! a little ahead, which counts as now). The first test waits for a real 8 s deadline; the others use
//! an hour and move the deadline to now in the database (as the passing of time would), so that a
//! loaded machine cannot end a period before the test has looked: a cancelled subscription schedules the archive
//! commit instead of making it; nothing is committed before the deadline, one commit after it; a
//! renewal or a new checkout of the owner cancels it (events out of order included); the customer and
//! the admin are mailed when it starts and when the archive is made; a returning customer gets a
//! restore commit and, on `ready`, the welcome back. Real Postgres, real git remote, real SMTP sink,
//! events signed by Stripe's library.

#[path = "support/mail_text.rs"]
mod mail_text;
#[path = "support/smtp.rs"]
mod smtp;
mod support;

use std::time::Duration;

use serde_json::{Value, json};
use stagesub_bridge::signature::unix_now;
use stagesub_bridge::store::JobFilter;
use support::*;

const AUTH: (&str, &str) = ("authorization", "Bearer test-api-token");
const GRACE: Duration = Duration::from_secs(3600);

async fn grace_bridge(sink: &smtp::Sink) -> Bridge {
    let mut b = Bridge::with_mailer(Some(sink.mailer())).await;
    b.ctx.archive_grace = GRACE;
    b
}

fn checkout(id: &str, at: i64, customer: &str, sub: &str, subdomain: &str, email: &str) -> Value {
    let mut e = checkout_event(
        id,
        at,
        customer,
        Some(sub),
        metadata(subdomain, "Grace Band"),
    );
    e["data"]["object"]["customer_details"]["email"] = json!(email);
    e
}

fn status(id: &str, at: i64, sub: &str, customer: &str, status: &str) -> Value {
    let kind = if status == "canceled" && id.ends_with("del") {
        "customer.subscription.deleted"
    } else {
        "customer.subscription.updated"
    };
    subscription_event(id, kind, at, sub, customer, status)
}

fn archived(b: &Bridge, subdomain: &str) -> bool {
    let text = b
        .remote
        .file("main", &format!("tenants/{subdomain}/main.tf"))
        .expect("tenant file");
    let (_, attrs) = read_tenant_file(&text);
    attrs["archived"] == hcl::Value::Bool(true)
}

fn commits(b: &Bridge, subdomain: &str) -> usize {
    b.remote
        .commits_touching("main", &format!("tenants/{subdomain}/main.tf"))
        .len()
}

async fn periods(b: &Bridge, subdomain: &str, state: &str) -> i64 {
    let client = b.store.client().await.unwrap();
    client
        .query_one(
            "SELECT count(*) FROM archive_schedules WHERE subdomain = $1 AND state = $2",
            &[&subdomain, &state],
        )
        .await
        .unwrap()
        .get(0)
}

/// Sleeps until every open grace period has ended, then runs what is due.
async fn sleep_past_deadline(b: &Bridge) {
    let client = b.store.client().await.unwrap();
    let wait: f64 = client
        .query_one(
            "SELECT coalesce(EXTRACT(EPOCH FROM max(due_at) - now())::float8, 0)
             FROM archive_schedules WHERE state = 'scheduled'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    tokio::time::sleep(Duration::from_secs_f64(wait.max(0.0) + 0.3)).await;
    b.drain().await;
}

/// Lets the grace periods end now (every period, open or closed, and every waiting archive job),
/// then runs what is due.
async fn after_deadline(b: &Bridge) {
    let client = b.store.client().await.unwrap();
    client
        .batch_execute(
            "UPDATE archive_schedules SET due_at = least(due_at, now());
             UPDATE jobs SET run_at = least(run_at, now()) WHERE kind = 'archive' AND done_at IS NULL",
        )
        .await
        .unwrap();
    b.drain().await;
}

/// Messages whose readable text contains `needle`.
fn mails(sink: &smtp::Sink, needle: &str) -> usize {
    sink.messages()
        .iter()
        .filter(|m| mail_text::readable(m).contains(needle))
        .count()
}

async fn ready(b: &Bridge, subdomain: &str) {
    let (status, body) = b
        .request(
            "POST",
            &format!("/api/tenants/{subdomain}/ready"),
            &[AUTH],
            vec![],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    b.drain().await;
}

#[tokio::test]
async fn a_cancellation_archives_only_after_the_grace_period_and_mails_both_moments() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = smtp::Sink::start(tmp.path().join("mail"));
    let mut b = grace_bridge(&sink).await;
    b.ctx.archive_grace = Duration::from_secs(8);
    let t = unix_now();
    send(
        &b,
        &checkout(
            "evt_gp0",
            t,
            "cus_gp",
            "sub_gp",
            "grace-band",
            "lead@grace.test",
        ),
    )
    .await;
    assert_eq!(commits(&b, "grace-band"), 1);
    send(
        &b,
        &status("evt_gp1del", t + 60, "sub_gp", "cus_gp", "canceled"),
    )
    .await;
    // Scheduled, not made: the file still says live.
    assert!(!archived(&b, "grace-band"));
    assert_eq!(commits(&b, "grace-band"), 1);
    assert_eq!(periods(&b, "grace-band", "scheduled").await, 1);
    let outcome = outcome(&b, "evt_gp1del").await;
    assert!(
        outcome.starts_with("grace period started: grace-band (archive due "),
        "{outcome}"
    );
    let client = b.store.client().await.unwrap();
    let due: String = client
        .query_one(
            "SELECT to_char(due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')
             FROM archive_schedules WHERE subdomain = 'grace-band'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    // `jobs list` shows the scheduled archive with its due time.
    let list = stagesub_bridge::commands::jobs_list(&b.store, JobFilter::Open, 100)
        .await
        .unwrap();
    let line = list
        .lines()
        .find(|l| l.contains("archive") && l.contains("grace-band"))
        .unwrap_or_else(|| panic!("no archive job listed:\n{list}"));
    assert!(line.contains("pending") && line.contains(&due), "{line}");
    // The grace period's two notices, with its end in UTC.
    assert_eq!(mails(&sink, "To: lead@grace.test"), 1);
    assert_eq!(mails(&sink, &format!("will be archived on {due}")), 1);
    assert_eq!(mails(&sink, "stays available until"), 1);
    assert_eq!(
        mails(
            &sink,
            "Subject: stagesub: grace period started for grace-band"
        ),
        1
    );
    assert_eq!(mails(&sink, &format!("Grace period ends: {due}")), 1);
    // Nothing more before the deadline, whatever runs.
    tokio::time::sleep(Duration::from_millis(500)).await;
    b.drain().await;
    assert_eq!(commits(&b, "grace-band"), 1);
    assert_eq!(
        b.count("SELECT count(*) FROM archive_schedules WHERE due_at > now()")
            .await,
        1,
        "the checks above ran before the deadline"
    );
    sleep_past_deadline(&b).await;
    assert!(archived(&b, "grace-band"));
    assert_eq!(commits(&b, "grace-band"), 2);
    let message = git(&b.remote.bare(), &["log", "-1", "--format=%B", "main"]);
    assert!(
        message.starts_with("Archive orchestra tenant grace-band")
            && message.contains("evt_gp1del"),
        "{message}"
    );
    let commit = git(&b.remote.bare(), &["rev-parse", "main"]);
    assert_eq!(mails(&sink, "has been archived"), 1);
    assert_eq!(
        mails(
            &sink,
            "Subject: stagesub: archive commit made for grace-band"
        ),
        1
    );
    assert_eq!(mails(&sink, &format!("Commit: {}", commit.trim())), 1);
    assert_eq!(periods(&b, "grace-band", "archived").await, 1);
    // Repeats and later endings change nothing: no second commit, no more mail.
    send(
        &b,
        &status("evt_gp1del", t + 60, "sub_gp", "cus_gp", "canceled"),
    )
    .await;
    send(&b, &status("evt_gp2", t + 30, "sub_gp", "cus_gp", "unpaid")).await;
    after_deadline(&b).await;
    assert_eq!(commits(&b, "grace-band"), 2);
    assert_eq!(sink.messages().len(), 4);
    assert_eq!(
        b.count("SELECT count(*) FROM jobs WHERE done_at IS NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn a_renewal_or_a_new_checkout_of_the_owner_cancels_the_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = smtp::Sink::start(tmp.path().join("mail"));
    let b = grace_bridge(&sink).await;
    let t = unix_now();
    send(
        &b,
        &checkout(
            "evt_rn0",
            t,
            "cus_rn",
            "sub_rn1",
            "renewers",
            "r@grace.test",
        ),
    )
    .await;
    // Unpaid, then paid again before the deadline.
    send(
        &b,
        &status("evt_rn1", t + 60, "sub_rn1", "cus_rn", "unpaid"),
    )
    .await;
    assert_eq!(periods(&b, "renewers", "scheduled").await, 1);
    send(
        &b,
        &status("evt_rn2", t + 120, "sub_rn1", "cus_rn", "active"),
    )
    .await;
    assert_eq!(periods(&b, "renewers", "cancelled").await, 1);
    assert_eq!(
        outcome(&b, "evt_rn2").await,
        "renewers: grace period cancelled"
    );
    // The archive job is closed, not left pending in `jobs list`.
    assert_eq!(
        b.count("SELECT count(*) FROM jobs WHERE kind = 'archive' AND done_at IS NULL")
            .await,
        0
    );
    after_deadline(&b).await;
    assert!(!archived(&b, "renewers"));
    assert_eq!(commits(&b, "renewers"), 1);
    // Cancelled for good, then a new checkout of the same customer (a new subscription).
    send(
        &b,
        &status("evt_rn3del", t + 180, "sub_rn1", "cus_rn", "canceled"),
    )
    .await;
    assert_eq!(periods(&b, "renewers", "scheduled").await, 1);
    send(
        &b,
        &checkout(
            "evt_rn4",
            t + 240,
            "cus_rn",
            "sub_rn2",
            "renewers",
            "r@grace.test",
        ),
    )
    .await;
    assert_eq!(periods(&b, "renewers", "cancelled").await, 2);
    // A late, older update of the replaced subscription does not start another period.
    send(
        &b,
        &status("evt_rn5", t + 210, "sub_rn1", "cus_rn", "canceled"),
    )
    .await;
    after_deadline(&b).await;
    assert_eq!(periods(&b, "renewers", "scheduled").await, 0);
    assert!(!archived(&b, "renewers"));
    let (_, attrs) = read_tenant_file(&b.remote.file("main", "tenants/renewers/main.tf").unwrap());
    assert_eq!(
        hcl_str(&attrs, "stripe_subscription_id").as_deref(),
        Some("sub_rn2")
    );
    assert_eq!(
        mails(&sink, "will be archived on"),
        2,
        "one notice per period"
    );
    assert_eq!(mails(&sink, "has been archived"), 0);
}

#[tokio::test]
async fn an_older_active_delivered_after_a_newer_cancellation_does_not_cancel() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = smtp::Sink::start(tmp.path().join("mail"));
    let b = grace_bridge(&sink).await;
    let t = unix_now();
    send(
        &b,
        &checkout(
            "evt_oo0",
            t,
            "cus_oo",
            "sub_oo",
            "late-mail",
            "o@grace.test",
        ),
    )
    .await;
    send(
        &b,
        &status("evt_oo2", t + 120, "sub_oo", "cus_oo", "canceled"),
    )
    .await;
    send(&b, &status("evt_oo1", t + 60, "sub_oo", "cus_oo", "active")).await;
    assert_eq!(periods(&b, "late-mail", "scheduled").await, 1);
    assert_eq!(
        outcome(&b, "evt_oo1").await,
        "recorded subscription status active"
    );
    after_deadline(&b).await;
    assert!(archived(&b, "late-mail"));
    assert_eq!(commits(&b, "late-mail"), 2);
    // And an older active after the archive does not restore it either.
    send(
        &b,
        &status("evt_oo0b", t + 30, "sub_oo", "cus_oo", "trialing"),
    )
    .await;
    assert!(archived(&b, "late-mail"));
    assert_eq!(commits(&b, "late-mail"), 2);
}

#[tokio::test]
async fn a_returning_customer_gets_a_restore_commit_then_the_welcome_back_on_ready() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = smtp::Sink::start(tmp.path().join("mail"));
    let b = grace_bridge(&sink).await;
    let t = unix_now();
    // One comes back with a new checkout, the other with its subscription paid again.
    send(
        &b,
        &checkout(
            "evt_wb0",
            t,
            "cus_wb",
            "sub_wb1",
            "come-back",
            "cb@grace.test",
        ),
    )
    .await;
    send(
        &b,
        &checkout(
            "evt_wr0",
            t,
            "cus_wr",
            "sub_wr",
            "pay-again",
            "pa@grace.test",
        ),
    )
    .await;
    for s in ["come-back", "pay-again"] {
        ready(&b, s).await;
    }
    assert_eq!(mails(&sink, "is ready. Sign in at"), 2, "first welcomes");
    send(
        &b,
        &status("evt_wb1del", t + 60, "sub_wb1", "cus_wb", "canceled"),
    )
    .await;
    send(&b, &status("evt_wr1", t + 60, "sub_wr", "cus_wr", "unpaid")).await;
    after_deadline(&b).await;
    assert!(archived(&b, "come-back") && archived(&b, "pay-again"));
    // CI reports the archive apply: no welcome of any kind.
    ready(&b, "come-back").await;
    assert_eq!(mails(&sink, "Welcome back"), 0);

    send(
        &b,
        &checkout(
            "evt_wb2",
            t + 120,
            "cus_wb",
            "sub_wb2",
            "come-back",
            "cb@grace.test",
        ),
    )
    .await;
    send(
        &b,
        &status("evt_wr2", t + 120, "sub_wr", "cus_wr", "active"),
    )
    .await;
    for s in ["come-back", "pay-again"] {
        assert!(!archived(&b, s), "{s} restored");
        assert_eq!(commits(&b, s), 3, "{s}: provision, archive, restore");
        let message = git(
            &b.remote.bare(),
            &[
                "log",
                "-1",
                "--format=%B",
                "main",
                "--",
                &format!("tenants/{s}/main.tf"),
            ],
        );
        assert!(
            message.starts_with(&format!("Provision orchestra tenant {s}")),
            "{message}"
        );
    }
    assert_eq!(outcome(&b, "evt_wb2").await, "restored");
    assert_eq!(mails(&sink, "Welcome back"), 0, "not before ready");
    for s in ["come-back", "pay-again"] {
        ready(&b, s).await;
        ready(&b, s).await; // CI may call twice
    }
    assert_eq!(
        mails(&sink, "Subject: Welcome back: Grace Band is ready again"),
        2
    );
    assert_eq!(
        mails(&sink, "To: cb@grace.test"),
        4,
        "welcome, grace, archived, back"
    );
    assert_eq!(
        mails(&sink, "is ready. Sign in at"),
        2,
        "no second first-time welcome"
    );
    assert_eq!(mails(&sink, "https://come-back.stagesub.test"), 2);
}

#[tokio::test]
async fn another_customers_events_are_held_and_touch_neither_the_period_nor_the_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = smtp::Sink::start(tmp.path().join("mail"));
    let b = grace_bridge(&sink).await;
    let t = unix_now();
    send(
        &b,
        &checkout(
            "evt_ho0",
            t,
            "cus_owner",
            "sub_ho",
            "held-hall",
            "o@grace.test",
        ),
    )
    .await;
    let path = "tenants/held-hall/main.tf";
    let before = b.remote.file("main", path).unwrap();
    send(
        &b,
        &status("evt_ho1del", t + 60, "sub_ho", "cus_owner", "canceled"),
    )
    .await;
    // Another customer's checkout for the subdomain, and its live subscription naming it.
    send(
        &b,
        &checkout(
            "evt_hm1",
            t + 120,
            "cus_other",
            "sub_hm",
            "held-hall",
            "m@evil.test",
        ),
    )
    .await;
    assert_held(&b, "evt_hm1", "cus_owner", "cus_other", &before, path).await;
    let mut live = status("evt_hm2", t + 180, "sub_hm2", "cus_other", "active");
    live["data"]["object"]["metadata"] = json!({ "subdomain": "held-hall" });
    send(&b, &live).await;
    assert_held(&b, "evt_hm2", "cus_owner", "cus_other", &before, path).await;
    assert_eq!(
        periods(&b, "held-hall", "scheduled").await,
        1,
        "still scheduled"
    );
    after_deadline(&b).await;
    assert!(archived(&b, "held-hall"));
    let archived_file = b.remote.file("main", path).unwrap();
    // After the archive, another customer cannot bring it back either.
    send(
        &b,
        &checkout(
            "evt_hm3",
            t + 240,
            "cus_other",
            "sub_hm3",
            "held-hall",
            "m@evil.test",
        ),
    )
    .await;
    assert_held(
        &b,
        "evt_hm3",
        "cus_owner",
        "cus_other",
        &archived_file,
        path,
    )
    .await;
    assert!(archived(&b, "held-hall"));
    assert_eq!(
        b.count("SELECT count(*) FROM tenants WHERE returning_since IS NOT NULL")
            .await,
        0
    );
    assert_eq!(mails(&sink, "To: m@evil.test"), 0);
    // The owner's own other subscription naming the tenant is not held: live, it restores the
    // tenant and becomes its subscription, so the old one's end no longer concerns it.
    let mut own = status("evt_ho2", t + 300, "sub_ho2", "cus_owner", "active");
    own["data"]["object"]["metadata"] = json!({ "subdomain": "held-hall" });
    send(&b, &own).await;
    assert!(!archived(&b, "held-hall"));
    let (_, attrs) = read_tenant_file(&b.remote.file("main", path).unwrap());
    assert_eq!(
        hcl_str(&attrs, "stripe_subscription_id").as_deref(),
        Some("sub_ho2")
    );
    send(
        &b,
        &status("evt_ho3", t + 360, "sub_ho", "cus_owner", "unpaid"),
    )
    .await;
    assert_eq!(periods(&b, "held-hall", "scheduled").await, 0);
}
