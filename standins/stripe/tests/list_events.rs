//! The stand-in answers in Stripe's documented shapes: list objects newest first, `has_more`,
//! `starting_after`/`ending_before`, filters, errors.

use serde_json::{Value, json};
use stripe_standin::StripeStandin;

async fn get(s: &StripeStandin, query: &str, key: &str) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = s.base_url().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let request = format!(
        "GET /v1/events?{query} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let status = raw[9..12].parse().unwrap();
    let body = raw.split_once("\r\n\r\n").unwrap().1;
    (status, serde_json::from_str(body).unwrap())
}

fn ids(v: &Value) -> Vec<&str> {
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn lists_pages_filters_and_refuses() {
    let s = StripeStandin::start("sk_test_k").await.unwrap();
    for i in 0..5 {
        let t = if i % 2 == 0 {
            "checkout.session.completed"
        } else {
            "invoice.paid"
        };
        s.add_event(
            json!({"id": format!("evt_{i}"), "object": "event", "type": t, "created": 100 + i}),
            i != 4,
        );
    }
    let (status, page) = get(&s, "limit=2", "sk_test_k").await;
    assert_eq!(status, 200);
    assert_eq!(page["object"], "list");
    assert_eq!(ids(&page), ["evt_4", "evt_3"]);
    assert_eq!(page["has_more"], true);
    let (_, next) = get(&s, "limit=2&starting_after=evt_3", "sk_test_k").await;
    assert_eq!(ids(&next), ["evt_2", "evt_1"]);
    let (_, last) = get(&s, "limit=2&starting_after=evt_1", "sk_test_k").await;
    assert_eq!(
        (ids(&last), last["has_more"].clone()),
        (vec!["evt_0"], json!(false))
    );
    let (_, before) = get(&s, "limit=2&ending_before=evt_1", "sk_test_k").await;
    assert_eq!(ids(&before), ["evt_3", "evt_2"]);
    let (_, filtered) = get(
        &s,
        "types%5B%5D=checkout.session.completed&delivery_success=false",
        "sk_test_k",
    )
    .await;
    assert_eq!(ids(&filtered), ["evt_4"]);
    assert_eq!(get(&s, "", "sk_wrong").await.0, 401);
    assert_eq!(get(&s, "limit=0", "sk_test_k").await.0, 400);
    assert_eq!(get(&s, "bogus=1", "sk_test_k").await.0, 400);
    assert_eq!(get(&s, "starting_after=evt_nope", "sk_test_k").await.0, 404);
    s.fail_next(&[429]);
    assert_eq!(get(&s, "", "sk_test_k").await.0, 429);
    assert_eq!(get(&s, "", "sk_test_k").await.0, 200);
    assert_eq!(s.requests().len(), 11);
}
