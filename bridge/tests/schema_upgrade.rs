//! A database of schema version 1, with rows, upgrades to the current schema: events keep their
//! payload and gain their body, existing tenant states satisfy the new CHECK constraint, and the owners
//! of existing tenants are what their first provisioning recorded.

mod support;

use stagesub_bridge::store::{TenantState, load_tenant};
use support::*;

#[tokio::test]
async fn version_one_rows_upgrade_and_states_are_checked() {
    let db = TestDb::new().await;
    let (client, conn) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(include_str!("../src/store/schema.sql"))
        .await
        .unwrap();
    client
        .batch_execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
             INSERT INTO schema_migrations (version) VALUES (1);
             INSERT INTO events (id, type, created, payload) VALUES ('evt_v1', 't', 1, '{\"id\": \"evt_v1\"}');
             INSERT INTO tenants (subdomain, stripe_customer_id, orchestra_name, contact_email, values_at, state, checkout_session_id, source_event_id)
             VALUES ('cust-one', 'cus_1', 'One', 'a@x.org', 5, 'publishing', 'cs_1', 'evt_a'),
                    ('guest-two', NULL, 'Two', ' Guest@X.org', 6, 'published', 'cs_2', 'evt_b'),
                    ('ready-three', 'cus_3', 'Three', NULL, 7, 'ready', NULL, NULL),
                    ('failed-four', 'cus_4', 'Four', NULL, 8, 'failed', NULL, NULL);",
        )
        .await
        .unwrap();
    let store = db.store().await; // migrates
    let body: Vec<u8> = client
        .query_one("SELECT body FROM events WHERE id = 'evt_v1'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(body, br#"{"id": "evt_v1"}"#);
    let c = store.client().await.unwrap();
    let guest = load_tenant(&**c, "guest-two").await.unwrap().unwrap();
    assert_eq!(guest.state, TenantState::Published);
    assert_eq!(guest.owner.customer, None);
    assert_eq!(guest.owner.email.as_deref(), Some("guest@x.org"));
    assert_eq!(guest.owner.session.as_deref(), Some("cs_2"));
    let customer = load_tenant(&**c, "cust-one").await.unwrap().unwrap();
    assert_eq!(customer.owner.customer.as_deref(), Some("cus_1"));
    for (name, state) in [
        ("ready-three", TenantState::Ready),
        ("failed-four", TenantState::Failed),
    ] {
        assert_eq!(load_tenant(&**c, name).await.unwrap().unwrap().state, state);
    }
    let refused = c
        .execute(
            "UPDATE tenants SET state = 'archived' WHERE subdomain = 'cust-one'",
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(
        refused.code(),
        Some(&tokio_postgres::error::SqlState::CHECK_VIOLATION)
    );
    // Migrating again finds nothing to do.
    store.migrate().await.unwrap();
}
