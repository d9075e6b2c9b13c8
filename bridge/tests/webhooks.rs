//! The webhook endpoint: genuine deliveries (signed by Stripe's own library) are recorded once; anything
//! else is refused with 400 and leaves nothing behind; a store outage is a 5xx.

mod support;

use serde_json::json;
use stagesub_bridge::signature::{sign, unix_now};
use support::*;

async fn rows(b: &Bridge) -> (i64, i64) {
    (
        b.count("SELECT count(*) FROM events").await,
        b.count("SELECT count(*) FROM jobs").await,
    )
}

#[tokio::test]
async fn captured_events_resigned_by_stripe_are_accepted_once() {
    let b = Bridge::new().await;
    let payloads: Vec<String> = [captured_checkout(), captured_subscription_deleted()]
        .iter()
        .map(|e| serde_json::to_string_pretty(e).unwrap())
        .collect();
    let sigs = stripe_sign(&payloads, SECRET, None);
    for (payload, sig) in payloads.iter().zip(&sigs) {
        let (status, body) = b.deliver(payload, sig).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"duplicate\":false"), "{body}");
    }
    assert_eq!(rows(&b).await, (2, 2));
    // Stripe retries with the same event id: acknowledged, nothing new.
    let (status, body) = b.deliver(&payloads[0], &sigs[0]).await;
    assert_eq!(
        (status, body.contains("\"duplicate\":true")),
        (200, true),
        "{body}"
    );
    assert_eq!(rows(&b).await, (2, 2));
    let stored = b.count("SELECT count(*) FROM events WHERE id = 'evt_1U2UcoJEmmOCtdLJMy5uwFTs' AND type = 'checkout.session.completed' AND payload->'data'->'object'->>'customer' = 'cus_V2ZmGPBh40ZbWC'").await;
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn bad_deliveries_are_refused_and_leave_nothing() {
    let b = Bridge::new().await;
    let payload = serde_json::to_string(&captured_checkout()).unwrap();
    let now = unix_now();
    let good = sign_one(&payload, SECRET, None);
    let tampered = payload.replace("buyer@example.com", "evil@example.com");
    let stale = sign_one(&payload, SECRET, Some(now - 301));
    let future = sign_one(&payload, SECRET, Some(now + 400));
    let wrong_secret = sign_one(&payload, "whsec_other", None);
    let not_json = "this is not json";
    let not_event = json!({"id": "evt_x", "object": "charge", "type": "x", "created": 1, "data": {"object": {}}}).to_string();
    let cases: Vec<(&str, String, Option<String>)> = vec![
        ("tampered", tampered, Some(good.clone())),
        ("stale", payload.clone(), Some(stale)),
        ("future", payload.clone(), Some(future)),
        ("wrong secret", payload.clone(), Some(wrong_secret)),
        ("unsigned", payload.clone(), None),
        ("garbage header", payload.clone(), Some("nonsense".into())),
        ("v0 only", payload.clone(), Some(good.replace("v1=", "v0="))),
        (
            "malformed body",
            not_json.into(),
            Some(sign(not_json.as_bytes(), SECRET, now)),
        ),
        (
            "not an event",
            not_event.clone(),
            Some(sign(not_event.as_bytes(), SECRET, now)),
        ),
    ];
    for (name, body, sig) in cases {
        let headers: Vec<(&str, &str)> = sig
            .as_deref()
            .map(|s| vec![("stripe-signature", s)])
            .unwrap_or_default();
        let (status, text) = b
            .request("POST", "/api/webhooks/stripe", &headers, body.into_bytes())
            .await;
        assert_eq!(status, 400, "{name}: {text}");
        assert!(text.contains("error"), "{name}: {text}");
    }
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(600 * 1024));
    let (status, _) = b.deliver(&huge, &sign(huge.as_bytes(), SECRET, now)).await;
    assert!(status == 413 || status == 400, "oversized body: {status}");
    assert_eq!(
        rows(&b).await,
        (0, 0),
        "refused deliveries must store nothing"
    );
}

#[tokio::test]
async fn any_configured_secret_verifies_during_a_roll() {
    let mut b = Bridge::new().await;
    b.state.webhook_secrets = std::sync::Arc::new(vec!["whsec_old".into(), SECRET.into()]);
    let payload = serde_json::to_string(&captured_checkout()).unwrap();
    let sig = sign_one(&payload, "whsec_old", None);
    assert_eq!(b.deliver(&payload, &sig).await.0, 200);
    // Stripe sends one v1 per live secret: an unknown first one must not hide a good second one.
    let other = serde_json::to_string(&captured_subscription_deleted()).unwrap();
    let good = sign_one(&other, SECRET, None);
    let (t, v1) = good.split_once(',').unwrap();
    let both = format!("{t},v1={},{v1}", "ab".repeat(32));
    assert_eq!(b.deliver(&other, &both).await.0, 200);
    assert_eq!(rows(&b).await, (2, 2));
}

#[tokio::test]
async fn store_outage_is_a_server_error_never_a_2xx() {
    let mut b = Bridge::new().await;
    // A store on a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    b.state.store = stagesub_bridge::store::Store::connect(
        &format!("postgres://postgres@127.0.0.1:{port}/none"),
        2,
    )
    .unwrap();
    let payload = serde_json::to_string(&captured_checkout()).unwrap();
    let (status, body) = b.deliver_signed(&payload).await;
    assert!((500..600).contains(&status), "{status} {body}");
    assert_eq!(b.request("GET", "/readyz", &[], vec![]).await.0, 503);
    assert_eq!(b.request("GET", "/healthz", &[], vec![]).await.0, 200);
}
