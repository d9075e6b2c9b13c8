//! Authentic events and reports holding what Postgres refuses (`\u0000`, which jsonb and text cannot
//! hold; lone UTF-16 surrogates, which jsonb refuses and no Rust string can hold; NUL bytes and invalid
//! UTF-8 in a CI report) are stored and answered 2xx. The raw body is kept byte-exact; tenant values
//! that held such characters take the invalid path (nothing written, admin told); nothing is retried
//! forever.

mod support;

use serde_json::json;
use stagesub_bridge::signature::unix_now;
use support::*;

const AUTH: (&str, &str) = ("authorization", "Bearer test-api-token");

/// A checkout whose JSON text holds `escape` (a literal JSON escape such as `\u0000`) where `MARK` is.
fn checkout_with(id: &str, subdomain: &str, name: &str, reference: &str, escape: &str) -> String {
    let mut e = checkout_event(id, unix_now(), "cus_nul", None, metadata(subdomain, name));
    e["data"]["object"]["client_reference_id"] = json!(reference);
    e.to_string().replace("MARK", escape)
}

async fn stored_body(b: &Bridge, id: &str) -> Vec<u8> {
    let client = b.store.client().await.unwrap();
    client
        .query_one("SELECT body FROM events WHERE id = $1", &[&id])
        .await
        .unwrap()
        .get(0)
}

async fn nothing_pending(b: &Bridge) {
    assert_eq!(
        b.count("SELECT count(*) FROM jobs WHERE done_at IS NULL AND parked_reason IS NULL AND kind = 'event'")
            .await,
        0,
        "an event job is still being retried"
    );
}

#[tokio::test]
async fn unstorable_characters_in_tenant_values_are_stored_answered_and_invalid() {
    let b = Bridge::new().await;
    let cases = [
        ("evt_nul_name", "nul-name", "Bach MARK Ensemble", "\\u0000"),
        ("evt_nul_sub", "nulMARK-sub", "Fine Name", "\\u0000"),
        ("evt_lone_high", "lone-high", "Bach MARK", "\\ud800"),
        ("evt_lone_low", "lone-low", "Bach MARK", "\\udfff"),
        ("evt_lone_end", "lone-end", "Bach MARK", "\\udbff\\u0041"),
    ];
    for (id, subdomain, name, escape) in cases {
        let payload = checkout_with(id, subdomain, name, "ref-1", escape);
        assert!(payload.contains(escape));
        let (status, body) = b.deliver_signed(&payload).await;
        assert_eq!(status, 200, "{id}: {body}");
        assert_eq!(
            stored_body(&b, id).await,
            payload.as_bytes(),
            "{id}: body kept byte-exact"
        );
        // A redelivery is a duplicate, not an error.
        let (status, body) = b.deliver_signed(&payload).await;
        assert_eq!(
            (status, body.contains("\"duplicate\":true")),
            (200, true),
            "{id}: {body}"
        );
    }
    b.drain().await;
    for (id, ..) in cases {
        let outcome = outcome(&b, id).await;
        assert!(outcome.starts_with("invalid: "), "{id}: {outcome}");
        assert_eq!(
            b.count(&format!(
                "SELECT count(*) FROM jobs WHERE kind = 'admin_event' AND subject = '{id}'"
            ))
            .await,
            1,
            "{id}: the admin is told"
        );
    }
    assert!(b.remote.files("main", "tenants").is_empty());
    assert_eq!(b.count("SELECT count(*) FROM tenants").await, 0);
    nothing_pending(&b).await;
}

#[tokio::test]
async fn unstorable_characters_elsewhere_do_not_stop_provisioning() {
    let b = Bridge::new().await;
    for (id, subdomain, escape) in [
        ("evt_ref_nul", "ref-nul", "\\u0000"),
        ("evt_ref_lone", "ref-lone", "\\ud83d"),
        ("evt_ref_pair", "ref-pair", "\\ud83c\\udfb5"),
    ] {
        let payload = checkout_with(id, subdomain, "Good Name", "refMARKerence", escape);
        let (status, body) = b.deliver_signed(&payload).await;
        assert_eq!(status, 200, "{id}: {body}");
        assert_eq!(stored_body(&b, id).await, payload.as_bytes());
    }
    b.drain().await;
    assert_eq!(
        b.remote.files("main", "tenants"),
        vec![
            "tenants/ref-lone/main.tf",
            "tenants/ref-nul/main.tf",
            "tenants/ref-pair/main.tf"
        ]
    );
    // What jsonb can hold is still queryable; a NUL shows as U+FFFD there.
    assert_eq!(
        b.count("SELECT count(*) FROM events WHERE payload->'data'->'object'->>'client_reference_id' = 'ref' || chr(65533) || 'erence'")
            .await,
        2
    );
    nothing_pending(&b).await;
}

#[tokio::test]
async fn unstorable_ids_and_statuses_in_subscription_events_are_not_retried_forever() {
    let b = Bridge::new().await;
    let now = unix_now();
    let mut events = vec![];
    for (id, subscription, customer, status) in [
        ("evt_sub_nul1", "sub_MARK", "cus_a", "canceled"),
        ("evt_sub_nul2", "sub_ok", "cus_MARK", "canceled"),
        ("evt_sub_nul3", "sub_ok2", "cus_b", "canceledMARK"),
    ] {
        let mut e = subscription_event(
            id,
            "customer.subscription.deleted",
            now,
            subscription,
            customer,
            status,
        );
        e["data"]["object"]["metadata"] = json!({ "subdomain": "subMARKdomain" });
        events.push(e.to_string().replace("MARK", "\\u0000"));
    }
    let mut checkout = checkout_event(
        "evt_nul_cus",
        now,
        "cus_MARK",
        None,
        metadata("nul-cus", "N"),
    );
    checkout["data"]["object"]["id"] = json!("cs_MARK");
    events.push(checkout.to_string().replace("MARK", "\\u0000"));
    for payload in &events {
        let (status, body) = b.deliver_signed(payload).await;
        assert_eq!(status, 200, "{body}");
    }
    b.drain().await;
    nothing_pending(&b).await;
    assert!(outcome(&b, "evt_nul_cus").await.starts_with("invalid: "));
    assert_eq!(b.count("SELECT count(*) FROM tenants").await, 0);
}

#[tokio::test]
async fn failure_reports_with_nul_bytes_or_invalid_utf8_are_recorded() {
    let b = Bridge::new().await;
    let e = checkout_event(
        "evt_rep",
        unix_now(),
        "cus_rep",
        None,
        metadata("reports", "R"),
    );
    assert_eq!(b.deliver_signed(&e.to_string()).await.0, 200);
    b.drain().await;
    let reports: [&[u8]; 3] = [
        b"terraform: \0 NUL byte in output",
        b"bad utf-8: \xff\xfe\xc3( end",
        b"\0",
    ];
    for report in reports {
        let (status, body) = b
            .request(
                "POST",
                "/api/tenants/reports/failed",
                &[AUTH],
                report.to_vec(),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(
        b.count("SELECT count(*) FROM failure_reports WHERE subdomain = 'reports'")
            .await,
        3
    );
    assert_eq!(
        b.count("SELECT count(*) FROM jobs WHERE kind = 'admin_failure'")
            .await,
        3
    );
    // A subdomain Postgres cannot hold names no tenant: 404, not a retry-forever 503.
    for path in [
        "/api/tenants/re%00ports/ready",
        "/api/tenants/re%00ports/failed",
    ] {
        let (status, body) = b.request("POST", path, &[AUTH], b"x".to_vec()).await;
        assert_eq!(status, 404, "{path}: {body}");
    }
}

#[tokio::test]
async fn an_event_whose_jsonb_copy_postgres_refuses_keeps_its_body() {
    let b = Bridge::new().await;
    // jsonb's numeric cannot hold 1e200000 ("value overflows numeric format"); JSON can.
    let mut e = checkout_event(
        "evt_huge",
        unix_now(),
        "cus_huge",
        None,
        metadata("huge-num", "H"),
    );
    e["data"]["object"]["amount_total"] = json!("HUGE");
    let payload = e.to_string().replace("\"HUGE\"", "1e200000");
    let (status, body) = b.deliver_signed(&payload).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(stored_body(&b, "evt_huge").await, payload.as_bytes());
    assert_eq!(
        b.count("SELECT count(*) FROM events WHERE id = 'evt_huge' AND payload IS NULL")
            .await,
        1
    );
    b.drain().await;
    nothing_pending(&b).await;
    assert!(outcome(&b, "evt_huge").await.starts_with("invalid: "));
}
