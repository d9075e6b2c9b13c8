//! Retries of idempotent calls: 5xx bursts, 429 with headers, dropped connections, slowness.

mod support;

use std::time::Duration;

use stagesub_supabase::{Client, Error, Secret, TransportKind};
use support::{Action, Fake};

#[tokio::test]
async fn get_survives_a_5xx_burst() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    fake.fail_with("GET", &format!("/v1/projects/{r}"), 2, 503);
    let project = fake.client().get_project(&r).await.unwrap().unwrap();
    assert_eq!(project.project_ref, r);
    assert_eq!(fake.count("GET", &format!("/v1/projects/{r}")), 3);
}

#[tokio::test]
async fn gives_up_after_the_attempt_cap_with_a_descriptive_error() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    fake.fail_with("GET", "/v1/projects/", 100, 500);
    let err = fake.client().get_project(&r).await.unwrap_err();
    assert_eq!(fake.count("GET", "/v1/projects/"), 4, "max_attempts is 4");
    let text = err.to_string();
    for part in [
        "GET",
        &format!("/v1/projects/{r}"),
        "500",
        "injected 500",
        &format!("project {r}"),
    ] {
        assert!(text.contains(part), "{text:?} lacks {part:?}");
    }
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    fake.fail_with("GET", "/v1/projects/", 5, 403);
    let err = fake.client().get_project(&r).await.unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert_eq!(fake.count("GET", "/v1/projects/"), 1);
}

#[tokio::test]
async fn retry_after_is_honoured_on_429() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    fake.fault(
        "GET",
        "/v1/projects/",
        1,
        Action::Status {
            code: 429,
            headers: vec![("retry-after".into(), "1".into())],
            body: r#"{"message":"Too many requests"}"#.into(),
        },
    );
    fake.client().get_project(&r).await.unwrap().unwrap();
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    let gap = reqs[1].at - reqs[0].at;
    assert!(gap >= Duration::from_millis(950), "waited only {gap:?}");
}

#[tokio::test]
async fn x_ratelimit_reset_is_honoured_on_429_without_retry_after() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    fake.fault(
        "GET",
        "/v1/projects/",
        1,
        Action::Status {
            code: 429,
            headers: vec![
                ("x-ratelimit-limit".into(), "120".into()),
                ("x-ratelimit-remaining".into(), "0".into()),
                ("x-ratelimit-reset".into(), "0.6".into()),
            ],
            body: String::new(),
        },
    );
    fake.client().get_project(&r).await.unwrap().unwrap();
    let reqs = fake.requests();
    assert_eq!(reqs.len(), 2);
    assert!(reqs[1].at - reqs[0].at >= Duration::from_millis(550));
}

#[tokio::test]
async fn a_429_pauses_other_calls_of_the_same_client_too() {
    let fake = Fake::start().await;
    let a = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    let b = fake
        .state()
        .add_project("org", "orchestra-b", "ACTIVE_HEALTHY");
    fake.fault(
        "GET",
        &format!("/v1/projects/{a}"),
        1,
        Action::Status {
            code: 429,
            headers: vec![("retry-after".into(), "1".into())],
            body: String::new(),
        },
    );
    let client = fake.client();
    client.get_project(&a).await.unwrap();
    client.get_project(&b).await.unwrap();
    let reqs = fake.requests();
    assert!(reqs[2].at - reqs[0].at >= Duration::from_millis(950));
}

#[tokio::test]
async fn dropped_connections_are_retried_for_gets() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    fake.fault("GET", "/v1/projects/", 2, Action::Drop);
    fake.client().get_project(&r).await.unwrap().unwrap();
    assert_eq!(fake.count("GET", "/v1/projects/"), 3);
}

#[tokio::test]
async fn slow_answers_time_out_and_are_retried() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    fake.fault(
        "GET",
        "/v1/projects/",
        1,
        Action::Slow(Duration::from_secs(3)),
    );
    fake.client().get_project(&r).await.unwrap().unwrap();
    assert_eq!(fake.count("GET", "/v1/projects/"), 2);
}

#[tokio::test]
async fn transport_errors_report_their_kind_and_attempts() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    fake.fault(
        "GET",
        "/v1/projects/",
        10,
        Action::Slow(Duration::from_secs(3)),
    );
    let err = fake.client().get_project(&r).await.unwrap_err();
    match err {
        Error::Transport { kind, attempts, .. } => {
            assert_eq!(kind, TransportKind::Timeout);
            assert_eq!(attempts, 4);
        }
        other => panic!("expected a transport error, got {other:?}"),
    }
}

#[tokio::test]
async fn per_call_deadline_stops_retries() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    fake.fail_with("GET", "/v1/projects/", 1000, 502);
    let mut config = fake.config();
    config.retry.max_attempts = 1000;
    config.retry.max_elapsed = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let err = Client::new(config)
        .unwrap()
        .get_project(&r)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert!(started.elapsed() < Duration::from_secs(2));
    let n = fake.count("GET", "/v1/projects/");
    assert!((2..1000).contains(&n), "{n} attempts");
}

#[tokio::test]
async fn idempotent_writes_are_retried() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    let client = fake.client();
    fake.fail_with("PATCH", "/v1/projects/", 1, 502);
    client
        .update_database_password(&r, &Secret::new("new-password-1"))
        .await
        .unwrap();
    assert_eq!(fake.count("PATCH", "/v1/projects/"), 2);
    fake.fault("PUT", "/v1/projects/", 1, Action::Drop);
    let ssl = client.put_ssl_enforcement(&r, true).await.unwrap();
    assert!(ssl.current_config.database);
    assert_eq!(fake.count("PUT", "/v1/projects/"), 2);
    fake.fail_with("DELETE", "/v1/projects/", 2, 500);
    assert!(client.delete_project(&r).await.unwrap());
    assert_eq!(fake.count("DELETE", "/v1/projects/"), 3);
}
