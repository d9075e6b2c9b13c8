//! `link_owner`: the admin's explicit link of a guest tenant to a Stripe customer, at the library level
//! (the CLI command calls it).

mod support;

use stagesub_bridge::error::Error;
use stagesub_bridge::signature::unix_now;
use stagesub_bridge::store::{LinkOutcome, link_owner};
use support::*;

#[tokio::test]
async fn link_owner_is_explicit_idempotent_and_audited() {
    let b = Bridge::new().await;
    let t = unix_now();
    send(
        &b,
        &guest_checkout("evt_l1", t, "carol@x.test", "cs_carol", "carol-hall"),
    )
    .await;
    match link_owner(&b.store, "nobody-here", "cus_carol", "ops@x.test").await {
        Err(Error::NotFound(m)) => assert!(m.contains("nobody-here"), "{m}"),
        other => panic!("{other:?}"),
    }
    for bad in ["", "carol", "cus_\u{0}x", "cus_a b"] {
        assert!(
            matches!(
                link_owner(&b.store, "carol-hall", bad, "ops").await,
                Err(Error::BadRequest(_))
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        link_owner(&b.store, "carol-hall", "cus_carol", " ").await,
        Err(Error::BadRequest(_))
    ));
    let linked = link_owner(&b.store, "carol-hall", "cus_carol", "ops@x.test")
        .await
        .unwrap();
    match &linked {
        LinkOutcome::Linked { previous } => {
            assert!(previous.contains("carol@x.test"), "{previous}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        link_owner(&b.store, "carol-hall", "cus_carol", "ops@x.test")
            .await
            .unwrap(),
        LinkOutcome::AlreadyLinked
    );
    assert_eq!(
        b.count("SELECT count(*) FROM owner_links WHERE subdomain = 'carol-hall' AND customer_id = 'cus_carol' AND linked_by = 'ops@x.test' AND linked_at <= now()")
            .await,
        1
    );
    b.drain().await;
    let (_, attrs) =
        read_tenant_file(&b.remote.file("main", "tenants/carol-hall/main.tf").unwrap());
    assert_eq!(
        hcl_str(&attrs, "stripe_customer_id").as_deref(),
        Some("cus_carol")
    );
    // A later event of the guest's own session (no customer in it) keeps the linked customer.
    let mut own = guest_checkout("evt_l1b", t + 5, "carol@x.test", "cs_carol", "carol-hall");
    own["type"] = serde_json::json!("checkout.session.async_payment_succeeded");
    own["data"]["object"]["metadata"]["orchestra_name"] = serde_json::json!("Carol Renamed");
    send(&b, &own).await;
    assert_eq!(outcome(&b, "evt_l1b").await, "provisioned");
    let (_, attrs) =
        read_tenant_file(&b.remote.file("main", "tenants/carol-hall/main.tf").unwrap());
    assert_eq!(
        hcl_str(&attrs, "stripe_customer_id").as_deref(),
        Some("cus_carol")
    );
    // The linked customer may now change the tenant; others are held.
    send(
        &b,
        &customer_checkout(
            "evt_l2",
            t + 10,
            "cus_carol",
            "c@x.test",
            "carol-hall",
            "Carol's",
        ),
    )
    .await;
    assert_eq!(outcome(&b, "evt_l2").await, "provisioned");
    let before = b.remote.file("main", "tenants/carol-hall/main.tf").unwrap();
    send(
        &b,
        &customer_checkout(
            "evt_l3",
            t + 20,
            "cus_dave",
            "d@x.test",
            "carol-hall",
            "Dave's",
        ),
    )
    .await;
    assert_held(
        &b,
        "evt_l3",
        "cus_carol",
        "cus_dave",
        &before,
        "tenants/carol-hall/main.tf",
    )
    .await;
    // A tenant owned by a customer is never re-linked to another one.
    match link_owner(&b.store, "carol-hall", "cus_dave", "ops").await {
        Err(Error::Conflict(m)) => assert!(m.contains("cus_carol"), "{m}"),
        other => panic!("{other:?}"),
    }
}
