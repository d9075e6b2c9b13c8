//! From a paid checkout to one commit with a tenant file that Terraform accepts, whatever Stripe does
//! with retries; unpaid checkouts wait; a subdomain never changes owner; invalid metadata is parked.

mod support;

use serde_json::json;
use stagesub_bridge::signature::unix_now;
use support::*;

#[tokio::test]
async fn paid_checkout_becomes_one_commit_with_a_valid_tenant_file() {
    let b = Bridge::new().await;
    let event = checkout_event(
        "evt_paid1",
        unix_now(),
        "cus_paid1",
        Some("sub_paid1"),
        metadata("berlin-phil", "Berliner Philharmoniker"),
    );
    let (status, body) = b.deliver_signed(&event.to_string()).await;
    assert_eq!(status, 200, "{body}");
    assert!(b.drain().await >= 2);
    let commits = b
        .remote
        .commits_touching("main", "tenants/berlin-phil/main.tf");
    assert_eq!(commits.len(), 1);
    assert_eq!(b.remote.commit_count("main"), 2);
    let message = git(&b.remote.bare(), &["log", "-1", "--format=%B", "main"]);
    assert!(
        message.contains("evt_paid1") && message.contains("cus_paid1"),
        "{message}"
    );
    let text = b
        .remote
        .file("main", "tenants/berlin-phil/main.tf")
        .unwrap();
    assert_terraform_fmt_clean(&text);
    assert!(
        text.contains("# Stripe event evt_paid1, checkout session cs_test_paid1"),
        "{text}"
    );
    let (label, attrs) = read_tenant_file(&text);
    assert_eq!(label, "orchestra-berlin-phil");
    assert_eq!(
        hcl_str(&attrs, "source").as_deref(),
        Some("../../modules/orchestra")
    );
    assert_eq!(hcl_str(&attrs, "subdomain").as_deref(), Some("berlin-phil"));
    assert_eq!(
        hcl_str(&attrs, "orchestra_name").as_deref(),
        Some("Berliner Philharmoniker")
    );
    assert_eq!(
        hcl_str(&attrs, "contact_email").as_deref(),
        Some("buyer@example.com")
    );
    assert_eq!(hcl_str(&attrs, "plan").as_deref(), Some("pro"));
    assert_eq!(hcl_str(&attrs, "region").as_deref(), Some("eu-central-1"));
    assert_eq!(attrs["archived"], hcl::Value::Bool(false));
    assert_eq!(
        hcl_str(&attrs, "stripe_customer_id").as_deref(),
        Some("cus_paid1")
    );
    assert_eq!(
        hcl_str(&attrs, "stripe_subscription_id").as_deref(),
        Some("sub_paid1")
    );
    assert_eq!(attrs.len(), 9);
    assert_eq!(
        b.count("SELECT count(*) FROM tenants WHERE state = 'published'")
            .await,
        1
    );
    assert_eq!(
        b.count("SELECT count(*) FROM jobs WHERE done_at IS NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn a_hundred_duplicate_deliveries_eight_at_a_time_make_one_commit() {
    let b = std::sync::Arc::new(Bridge::new().await);
    let event = checkout_event(
        "evt_dup1",
        unix_now(),
        "cus_dup1",
        None,
        metadata("wiener-phil", "Wiener Philharmoniker"),
    );
    let payload = event.to_string();
    let sig = sign_one(&payload, SECRET, None);
    let mut tasks = tokio::task::JoinSet::new();
    for lane in 0..8 {
        let (b, payload, sig) = (b.clone(), payload.clone(), sig.clone());
        tasks.spawn(async move {
            let mut statuses = Vec::new();
            for i in 0..100 {
                if i % 8 == lane {
                    statuses.push(b.deliver(&payload, &sig).await.0);
                    // Workers race the deliveries, as in production.
                    stagesub_bridge::worker::run_one(&b.store, &b.ctx)
                        .await
                        .unwrap();
                }
            }
            statuses
        });
    }
    let statuses: Vec<u16> = tasks.join_all().await.into_iter().flatten().collect();
    assert_eq!(statuses.len(), 100);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    b.drain().await;
    assert_eq!(b.count("SELECT count(*) FROM events").await, 1);
    assert_eq!(
        b.remote
            .commits_touching("main", "tenants/wiener-phil/main.tf")
            .len(),
        1
    );
    assert_eq!(b.remote.commit_count("main"), 2);
}

#[tokio::test]
async fn unpaid_checkout_waits_for_the_async_payment() {
    let b = Bridge::new().await;
    let now = unix_now();
    let mut unpaid = checkout_event(
        "evt_unpaid1",
        now,
        "cus_u1",
        None,
        metadata("late-payers", "Late Payers"),
    );
    unpaid["data"]["object"]["payment_status"] = json!("unpaid");
    assert_eq!(b.deliver_signed(&unpaid.to_string()).await.0, 200);
    b.drain().await;
    assert!(b.remote.files("main", "tenants").is_empty());
    assert_eq!(
        b.count("SELECT count(*) FROM events WHERE outcome = 'waiting_for_payment'")
            .await,
        1
    );
    let mut paid = checkout_event(
        "evt_unpaid2",
        now + 60,
        "cus_u1",
        None,
        metadata("late-payers", "Late Payers"),
    );
    paid["type"] = json!("checkout.session.async_payment_succeeded");
    paid["data"]["object"]["payment_status"] = json!("paid");
    assert_eq!(b.deliver_signed(&paid.to_string()).await.0, 200);
    b.drain().await;
    assert_eq!(
        b.remote.files("main", "tenants"),
        vec!["tenants/late-payers/main.tf".to_owned()]
    );
    let mut free = checkout_event(
        "evt_free1",
        now,
        "cus_f1",
        None,
        metadata("free-band", "Free Band"),
    );
    free["data"]["object"]["payment_status"] = json!("no_payment_required");
    assert_eq!(b.deliver_signed(&free.to_string()).await.0, 200);
    b.drain().await;
    assert_eq!(b.remote.files("main", "tenants").len(), 2);
}

#[tokio::test]
async fn a_subdomain_owned_by_another_customer_is_held_not_overwritten() {
    let b = Bridge::new().await;
    let now = unix_now();
    let first = checkout_event(
        "evt_own1",
        now,
        "cus_owner",
        None,
        metadata("taken", "First Orchestra"),
    );
    assert_eq!(b.deliver_signed(&first.to_string()).await.0, 200);
    b.drain().await;
    let before = b.remote.file("main", "tenants/taken/main.tf").unwrap();
    let second = checkout_event(
        "evt_own2",
        now + 10,
        "cus_intruder",
        None,
        metadata("taken", "Second Orchestra"),
    );
    assert_eq!(b.deliver_signed(&second.to_string()).await.0, 200);
    b.drain().await;
    assert_eq!(
        b.remote.file("main", "tenants/taken/main.tf").unwrap(),
        before
    );
    assert_eq!(b.remote.commit_count("main"), 2);
    assert_eq!(
        b.count("SELECT count(*) FROM events WHERE id = 'evt_own2' AND outcome LIKE 'held%'")
            .await,
        1
    );
    // The admin is told (parked here only because this test has no SMTP server).
    assert_eq!(
        b.count("SELECT count(*) FROM jobs WHERE kind = 'admin_event' AND subject = 'evt_own2'")
            .await,
        1
    );
    // The owner may change their own values.
    let update = checkout_event(
        "evt_own3",
        now + 20,
        "cus_owner",
        None,
        metadata("taken", "First Orchestra e.V."),
    );
    assert_eq!(b.deliver_signed(&update.to_string()).await.0, 200);
    b.drain().await;
    let (_, attrs) = read_tenant_file(&b.remote.file("main", "tenants/taken/main.tf").unwrap());
    assert_eq!(
        hcl_str(&attrs, "orchestra_name").as_deref(),
        Some("First Orchestra e.V.")
    );
}

#[tokio::test]
async fn invalid_metadata_is_recorded_parked_and_reported() {
    let b = Bridge::new().await;
    let now = unix_now();
    let cases = [
        (
            "evt_bad1",
            json!({"subdomain": "www", "orchestra_name": "Reserved"}),
        ),
        (
            "evt_bad2",
            json!({"subdomain": "Upper", "orchestra_name": "Case"}),
        ),
        ("evt_bad3", json!({"orchestra_name": "No subdomain"})),
        (
            "evt_bad4",
            json!({"subdomain": "good-one", "orchestra_name": "Plan", "plan": "platinum"}),
        ),
        (
            "evt_bad5",
            json!({"subdomain": "good-two", "orchestra_name": "Region", "region": "mars-1"}),
        ),
        (
            "evt_bad6",
            json!({"subdomain": "good-three", "orchestra_name": "bell\u{7}"}),
        ),
    ];
    for (id, meta) in cases {
        let e = checkout_event(id, now, "cus_bad", None, meta);
        assert_eq!(b.deliver_signed(&e.to_string()).await.0, 200);
    }
    b.drain().await;
    assert!(b.remote.files("main", "tenants").is_empty());
    assert_eq!(b.remote.commit_count("main"), 1);
    assert_eq!(
        b.count("SELECT count(*) FROM events WHERE outcome LIKE 'invalid: %'")
            .await,
        6
    );
    assert_eq!(
        b.count(
            "SELECT count(*) FROM jobs WHERE kind = 'event' AND parked_reason LIKE 'invalid: %'"
        )
        .await,
        6
    );
    assert_eq!(
        b.count("SELECT count(*) FROM jobs WHERE kind = 'admin_event'")
            .await,
        6
    );
    assert_eq!(b.count("SELECT count(*) FROM tenants").await, 0);
    // camelCase metadata from the seed is accepted.
    let e = checkout_event(
        "evt_camel",
        now,
        "cus_camel",
        None,
        json!({"subdomain": "camel", "orchestraName": "Camel Case"}),
    );
    assert_eq!(b.deliver_signed(&e.to_string()).await.0, 200);
    b.drain().await;
    let (_, attrs) = read_tenant_file(&b.remote.file("main", "tenants/camel/main.tf").unwrap());
    assert_eq!(
        hcl_str(&attrs, "orchestra_name").as_deref(),
        Some("Camel Case")
    );
    assert_eq!(hcl_str(&attrs, "plan"), None);
}
