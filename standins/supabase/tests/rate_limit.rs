//! The per-token limit: N calls per minute, then 429 with `X-RateLimit-*` headers for the rest of the minute.

mod common;

use common::Api;
use reqwest::StatusCode;
use supabase_standin::FaultsPatch;

fn header(response: &reqwest::Response, name: &str) -> u64 {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("{name} missing"))
        .to_str()
        .expect("ASCII")
        .parse()
        .expect("a number")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_past_the_limit_get_429_with_headers() {
    let standin = common::start(FaultsPatch {
        rate_limit_per_minute: Some(3),
        ..Default::default()
    })
    .await;
    let api = Api::new(&standin);
    for remaining in [2, 1, 0] {
        let response = api.send(reqwest::Method::GET, "/v1/projects", None).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(header(&response, "x-ratelimit-limit"), 3);
        assert_eq!(header(&response, "x-ratelimit-remaining"), remaining);
        assert!((1..=60).contains(&header(&response, "x-ratelimit-reset")));
    }
    for _ in 0..2 {
        let response = api
            .send(reqwest::Method::GET, "/v1/organizations", None)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "the limit spans endpoints"
        );
        assert_eq!(header(&response, "x-ratelimit-limit"), 3);
        assert_eq!(header(&response, "x-ratelimit-remaining"), 0);
        assert!((1..=60).contains(&header(&response, "x-ratelimit-reset")));
    }
    let other = api.with_token(Some("sbp_ffffffffffffffffffffffffffffffffffffffff"));
    assert_eq!(
        other.get("/v1/projects").await.0,
        StatusCode::OK,
        "each token has its own window"
    );
    let stats = standin.stats();
    assert_eq!(stats.responses.get("429"), Some(&2));
    assert_eq!(stats.total, 6);

    standin
        .set_faults(FaultsPatch {
            rate_limit_per_minute: Some(0),
            ..Default::default()
        })
        .expect("valid knobs");
    for _ in 0..5 {
        let response = api.send(reqwest::Method::GET, "/v1/projects", None).await;
        assert_eq!(response.status(), StatusCode::OK, "0 turns the limit off");
        assert!(response.headers().get("x-ratelimit-limit").is_none());
    }
    standin.shutdown().await.expect("clean shutdown");
}
