//! Stripe does not guarantee order: the tenant ends in the state the latest facts say, whichever event
//! arrives first.

mod support;

use serde_json::Value;
use stagesub_bridge::signature::unix_now;
use support::*;

async fn archived(b: &Bridge, subdomain: &str) -> bool {
    let text = b
        .remote
        .file("main", &format!("tenants/{subdomain}/main.tf"))
        .expect("tenant file");
    let (_, attrs) = read_tenant_file(&text);
    match attrs["archived"] {
        hcl::Value::Bool(a) => a,
        ref other => panic!("archived is {other:?}"),
    }
}

async fn deliver_all(b: &Bridge, events: &[Value]) {
    let payloads: Vec<String> = events.iter().map(Value::to_string).collect();
    for (p, s) in payloads.iter().zip(stripe_sign(&payloads, SECRET, None)) {
        assert_eq!(b.deliver(p, &s).await.0, 200);
    }
    b.drain().await;
}

#[tokio::test]
async fn cancellation_before_its_checkout_ends_archived() {
    let b = Bridge::new().await;
    let t = unix_now();
    let deleted = subscription_event(
        "evt_ooo_del",
        "customer.subscription.deleted",
        t + 100,
        "sub_ooo",
        "cus_ooo",
        "canceled",
    );
    deliver_all(&b, &[deleted]).await;
    assert!(
        b.remote.files("main", "tenants").is_empty(),
        "nothing to archive yet"
    );
    let checkout = checkout_event(
        "evt_ooo_co",
        t,
        "cus_ooo",
        Some("sub_ooo"),
        metadata("early-exit", "Early Exit"),
    );
    deliver_all(&b, &[checkout]).await;
    assert!(archived(&b, "early-exit").await);
    // Both in one burst, handled concurrently by several workers, end the same way.
    let b2 = Bridge::new().await;
    let deleted = subscription_event(
        "evt_c_del",
        "customer.subscription.deleted",
        t + 100,
        "sub_c",
        "cus_c",
        "canceled",
    );
    let checkout = checkout_event(
        "evt_c_co",
        t,
        "cus_c",
        Some("sub_c"),
        metadata("burst-exit", "Burst Exit"),
    );
    let payloads = [deleted.to_string(), checkout.to_string()];
    for (p, s) in payloads.iter().zip(stripe_sign(&payloads, SECRET, None)) {
        assert_eq!(b2.deliver(p, &s).await.0, 200);
    }
    let (r1, r2) = tokio::join!(
        stagesub_bridge::worker::run_one(&b2.store, &b2.ctx),
        stagesub_bridge::worker::run_one(&b2.store, &b2.ctx)
    );
    r1.unwrap();
    r2.unwrap();
    b2.drain().await;
    assert!(archived(&b2, "burst-exit").await);
}

#[tokio::test]
async fn subscription_status_archives_and_restores_by_event_time() {
    let b = Bridge::new().await;
    let t = unix_now();
    let sub = |id: &str, at: i64, status: &str| {
        subscription_event(
            id,
            "customer.subscription.updated",
            at,
            "sub_life",
            "cus_life",
            status,
        )
    };
    deliver_all(
        &b,
        &[checkout_event(
            "evt_life0",
            t,
            "cus_life",
            Some("sub_life"),
            metadata("lifecycle", "Life Cycle"),
        )],
    )
    .await;
    assert!(!archived(&b, "lifecycle").await);
    deliver_all(&b, &[sub("evt_life1", t + 10, "unpaid")]).await;
    assert!(archived(&b, "lifecycle").await);
    deliver_all(&b, &[sub("evt_life2", t + 20, "past_due")]).await;
    assert!(
        archived(&b, "lifecycle").await,
        "past_due keeps the previous state"
    );
    deliver_all(&b, &[sub("evt_life3", t + 30, "active")]).await;
    assert!(!archived(&b, "lifecycle").await);
    // A late delivery of an older status changes nothing.
    deliver_all(&b, &[sub("evt_life4", t + 5, "paused")]).await;
    assert!(!archived(&b, "lifecycle").await);
    deliver_all(&b, &[sub("evt_life5", t + 40, "paused")]).await;
    assert!(archived(&b, "lifecycle").await);
    deliver_all(&b, &[sub("evt_life6", t + 50, "trialing")]).await;
    assert!(!archived(&b, "lifecycle").await);
    deliver_all(
        &b,
        &[subscription_event(
            "evt_life7",
            "customer.subscription.deleted",
            t + 60,
            "sub_life",
            "cus_life",
            "canceled",
        )],
    )
    .await;
    assert!(archived(&b, "lifecycle").await);
    // 1 provision + unpaid + active + paused + trialing + deleted = 6 changes, past_due and the stale one none.
    assert_eq!(
        b.remote
            .commits_touching("main", "tenants/lifecycle/main.tf")
            .len(),
        6
    );
}

#[tokio::test]
async fn an_older_checkout_delivered_late_does_not_overwrite_newer_values() {
    let b = Bridge::new().await;
    let t = unix_now();
    let newer = checkout_event(
        "evt_new",
        t + 100,
        "cus_v",
        None,
        metadata("values", "New Name"),
    );
    let older = checkout_event("evt_old", t, "cus_v", None, metadata("values", "Old Name"));
    deliver_all(&b, &[newer, older]).await;
    let (_, attrs) = read_tenant_file(&b.remote.file("main", "tenants/values/main.tf").unwrap());
    assert_eq!(
        hcl_str(&attrs, "orchestra_name").as_deref(),
        Some("New Name")
    );
    assert_eq!(
        b.count("SELECT count(*) FROM events WHERE id = 'evt_old' AND outcome = 'superseded'")
            .await,
        1
    );
}
