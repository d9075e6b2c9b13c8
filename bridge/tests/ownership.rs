//! A tenant's owner is fixed by its first paid provisioning: the Stripe customer id, else the
//! normalised email with the checkout session id. Events from another identity are held (nothing
//! written, the admin told both identities); only an admin links a guest tenant to a customer.

mod support;

use serde_json::json;
use stagesub_bridge::signature::unix_now;
use support::*;

#[tokio::test]
async fn a_guest_checkout_cannot_be_taken_over_by_anyone_else() {
    let b = Bridge::new().await;
    let t = unix_now();
    send(
        &b,
        &guest_checkout("evt_g1", t, "Alice@Example.ORG", "cs_alice", "guest-hall"),
    )
    .await;
    let path = "tenants/guest-hall/main.tf";
    let before = b
        .remote
        .file("main", path)
        .expect("guest tenant provisioned");
    // Another customer, another email: held.
    send(
        &b,
        &customer_checkout(
            "evt_g2",
            t + 10,
            "cus_mallory",
            "m@evil.test",
            "guest-hall",
            "Mine",
        ),
    )
    .await;
    assert_held(
        &b,
        "evt_g2",
        "alice@example.org",
        "cus_mallory",
        &before,
        path,
    )
    .await;
    // The same email in another guest session: a different identity (anyone can type an email).
    send(
        &b,
        &guest_checkout(
            "evt_g3",
            t + 20,
            "alice@example.org",
            "cs_other",
            "guest-hall",
        ),
    )
    .await;
    assert_held(&b, "evt_g3", "cs_alice", "cs_other", &before, path).await;
    // A late, older event of another identity does not steal it either.
    send(
        &b,
        &customer_checkout(
            "evt_g4",
            t - 100,
            "cus_early",
            "e@x.test",
            "guest-hall",
            "Early",
        ),
    )
    .await;
    assert_held(
        &b,
        "evt_g4",
        "alice@example.org",
        "cus_early",
        &before,
        path,
    )
    .await;
    // A cancellation of another customer's subscription naming the subdomain does not archive it.
    let mut deleted = subscription_event(
        "evt_g5",
        "customer.subscription.deleted",
        t + 30,
        "sub_m",
        "cus_mallory",
        "canceled",
    );
    deleted["data"]["object"]["metadata"] = json!({ "subdomain": "guest-hall" });
    send(&b, &deleted).await;
    assert_held(
        &b,
        "evt_g5",
        "alice@example.org",
        "cus_mallory",
        &before,
        path,
    )
    .await;
    assert_eq!(
        b.count("SELECT count(*) FROM tenants WHERE archived").await,
        0
    );
    assert_eq!(b.remote.commit_count("main"), 2);
}

#[tokio::test]
async fn the_owner_stays_the_owner_across_emails_and_late_customers() {
    let b = Bridge::new().await;
    let t = unix_now();
    // Same customer, another email: the customer id decides.
    send(
        &b,
        &customer_checkout("evt_o1", t, "cus_owner", "old@x.test", "owned-hall", "Old"),
    )
    .await;
    send(
        &b,
        &customer_checkout(
            "evt_o2",
            t + 10,
            "cus_owner",
            "new@x.test",
            "owned-hall",
            "New",
        ),
    )
    .await;
    assert_eq!(outcome(&b, "evt_o2").await, "provisioned");
    let (_, attrs) =
        read_tenant_file(&b.remote.file("main", "tenants/owned-hall/main.tf").unwrap());
    assert_eq!(
        hcl_str(&attrs, "contact_email").as_deref(),
        Some("new@x.test")
    );
    // A guest whose own checkout session later carries a customer is still the same checkout.
    let mut first = guest_checkout("evt_o3", t, "bob@x.test", "cs_bob", "bob-hall");
    first["type"] = json!("checkout.session.completed");
    send(&b, &first).await;
    let mut later = guest_checkout("evt_o4", t + 10, "bob@x.test", "cs_bob", "bob-hall");
    later["type"] = json!("checkout.session.async_payment_succeeded");
    later["data"]["object"]["customer"] = json!("cus_bob");
    later["data"]["object"]["metadata"]["orchestra_name"] = json!("Bob's Band");
    send(&b, &later).await;
    assert_eq!(outcome(&b, "evt_o4").await, "provisioned");
    // But that customer's *other* checkout for the subdomain needs the admin's link.
    let before = b.remote.file("main", "tenants/bob-hall/main.tf").unwrap();
    send(
        &b,
        &customer_checkout(
            "evt_o5",
            t + 20,
            "cus_bob",
            "bob@x.test",
            "bob-hall",
            "Renamed",
        ),
    )
    .await;
    assert_held(
        &b,
        "evt_o5",
        "bob@x.test",
        "cus_bob",
        &before,
        "tenants/bob-hall/main.tf",
    )
    .await;
}
