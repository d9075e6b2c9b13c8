//! Client-side rate limiting: a shared token bucket, and pausing when the server's window is used.

mod support;

use std::sync::Arc;
use std::time::Duration;

use stagesub_supabase::{Client, RateLimit};
use support::{Action, Fake};
use tokio::task::JoinSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_share_one_bucket() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    let mut config = fake.config();
    // 10 a second after a burst of 2.
    config.rate_limit = RateLimit {
        per_minute: 600,
        burst: 2,
    };
    let client = Arc::new(Client::new(config).unwrap());
    let mut tasks = JoinSet::new();
    for _ in 0..12 {
        let (client, r) = (client.clone(), r.clone());
        tasks.spawn(async move { client.get_project(&r).await.unwrap().unwrap() });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let mut at: Vec<_> = fake.requests().iter().map(|q| q.at).collect();
    at.sort();
    assert_eq!(at.len(), 12);
    let span = at[11] - at[0];
    // 2 at once, then 10 more at 100 ms intervals.
    assert!(
        span >= Duration::from_millis(950),
        "12 calls spread over only {span:?}"
    );
    assert!(
        at[1] - at[0] < Duration::from_millis(80),
        "the burst goes out at once"
    );
}

#[tokio::test]
async fn remaining_zero_pauses_until_the_reset() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    fake.fault(
        "GET",
        "/v1/projects/",
        1,
        Action::AddHeaders(vec![
            ("x-ratelimit-limit".into(), "120".into()),
            ("x-ratelimit-remaining".into(), "0".into()),
            ("x-ratelimit-reset".into(), "1".into()),
        ]),
    );
    let client = fake.client();
    client.get_project(&r).await.unwrap().unwrap();
    client.list_organization_projects("org").await.unwrap();
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2, "no 429 needed");
    assert!(reqs[1].at - reqs[0].at >= Duration::from_millis(950));
}

#[tokio::test]
async fn remaining_above_zero_does_not_slow_down() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    fake.fault(
        "GET",
        "/v1/projects/",
        1,
        Action::AddHeaders(vec![
            ("x-ratelimit-remaining".into(), "7".into()),
            ("x-ratelimit-reset".into(), "30".into()),
        ]),
    );
    let client = fake.client();
    client.get_project(&r).await.unwrap();
    let started = std::time::Instant::now();
    client.get_project(&r).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
}
