//! Helpers for the ownership tests: guest and customer checkouts, outcomes, held events.

use serde_json::{Value, json};

use super::*;

pub fn guest_checkout(
    id: &str,
    created: i64,
    email: &str,
    session: &str,
    subdomain: &str,
) -> Value {
    let mut e = checkout_event(
        id,
        created,
        "unused",
        None,
        metadata(subdomain, "Guest Choir"),
    );
    let o = &mut e["data"]["object"];
    o["customer"] = Value::Null;
    o["customer_details"]["email"] = json!(email);
    o["id"] = json!(session);
    e
}

pub fn customer_checkout(
    id: &str,
    created: i64,
    customer: &str,
    email: &str,
    subdomain: &str,
    name: &str,
) -> Value {
    let mut e = checkout_event(id, created, customer, None, metadata(subdomain, name));
    e["data"]["object"]["customer_details"]["email"] = json!(email);
    e
}

pub async fn send(b: &Bridge, event: &Value) {
    let (status, body) = b.deliver_signed(&event.to_string()).await;
    assert_eq!(status, 200, "{body}");
    b.drain().await;
}

pub async fn outcome(b: &Bridge, id: &str) -> String {
    let client = b.store.client().await.unwrap();
    client
        .query_one(
            "SELECT coalesce(outcome, '') FROM events WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap()
        .get(0)
}

/// The event was held: outcome names both identities, the admin is told, nothing else changed.
pub async fn assert_held(
    b: &Bridge,
    id: &str,
    owner: &str,
    requester: &str,
    file_before: &str,
    path: &str,
) {
    let outcome = outcome(b, id).await;
    assert!(outcome.starts_with("held: "), "{id}: {outcome}");
    assert!(
        outcome.contains(owner),
        "{id}: owner {owner} not named: {outcome}"
    );
    assert!(
        outcome.contains(requester),
        "{id}: requester {requester} not named: {outcome}"
    );
    assert_eq!(
        b.count(&format!(
            "SELECT count(*) FROM jobs WHERE kind = 'admin_event' AND subject = '{id}'"
        ))
        .await,
        1,
        "{id}: admin told"
    );
    assert_eq!(
        b.remote.file("main", path).as_deref(),
        Some(file_before),
        "{id}: file rewritten"
    );
}
