//! `POST /v1/projects` is never retried; pause and restore only when refused.

mod support;

use std::time::Duration;

use serde_json::json;
use stagesub_supabase::{
    Client, CreateProjectBody, Error, ProjectStatus, Region, Secret, TransportKind,
};
use support::{Action, Fake};

fn body(name: &str, region: &str) -> CreateProjectBody {
    CreateProjectBody {
        name: name.into(),
        organization_slug: "org".into(),
        db_pass: Secret::new("s3cret-db-pass"),
        region: Region::parse(region).unwrap(),
        desired_instance_size: None,
    }
}

#[tokio::test]
async fn creates_with_region_or_smart_group_and_nothing_else() {
    let fake = Fake::start().await;
    let client = fake.client();
    let p = client
        .create_project(&body("orchestra-a", "eu-west-2"))
        .await
        .unwrap();
    assert_eq!(p.name, "orchestra-a");
    assert_eq!(p.status, ProjectStatus::ComingUp);
    assert_eq!(p.project_ref.len(), 20);
    let mut b = body("orchestra-b", "emea");
    b.desired_instance_size = Some("micro".into());
    client.create_project(&b).await.unwrap();
    let reqs = fake.requests();
    assert_eq!(
        reqs[0].body,
        Some(
            json!({"name": "orchestra-a", "organization_slug": "org", "db_pass": "s3cret-db-pass", "region": "eu-west-2"})
        )
    );
    assert_eq!(
        reqs[1].body,
        Some(
            json!({"name": "orchestra-b", "organization_slug": "org", "db_pass": "s3cret-db-pass",
                    "region_selection": {"type": "smartGroup", "code": "emea"}, "desired_instance_size": "micro"})
        )
    );
}

#[tokio::test]
async fn bad_input_is_refused_before_sending() {
    let fake = Fake::start().await;
    let client = fake.client();
    let mut b = body("orchestra.a", "eu-west-2");
    assert!(
        matches!(client.create_project(&b).await, Err(Error::InvalidInput(m)) if m.contains("'.'"))
    );
    b.name = "orchestra-a".into();
    b.db_pass = Secret::new("abc");
    assert!(
        matches!(client.create_project(&b).await, Err(Error::InvalidInput(m)) if m.contains("at least 4"))
    );
    assert!(fake.requests().is_empty());
}

async fn assert_outcome_unknown(fake: &Fake, client: &Client) {
    let err = client
        .create_project(&body("orchestra-x", "eu-west-2"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::CreateOutcomeUnknown { ref name, .. } if name == "orchestra-x"),
        "{err:?}"
    );
    assert!(err.to_string().contains("look it up by name"), "{err}");
    assert_eq!(
        fake.count("POST", "/v1/projects"),
        1,
        "POST must not be retried"
    );
}

#[tokio::test]
async fn a_5xx_answer_leaves_the_outcome_unknown() {
    let fake = Fake::start().await;
    fake.fail_with("POST", "/v1/projects", 5, 500);
    assert_outcome_unknown(&fake, &fake.client()).await;
}

#[tokio::test]
async fn a_timed_out_answer_leaves_the_outcome_unknown_and_lookup_finds_the_project() {
    let fake = Fake::start().await;
    // The server creates the project, then stalls past the client's timeout.
    fake.fault(
        "POST",
        "/v1/projects",
        1,
        Action::HandleThenStall(Duration::from_secs(3)),
    );
    let client = fake.client();
    assert_outcome_unknown(&fake, &client).await;
    let found = client
        .find_project_by_name("org", "orchestra-x")
        .await
        .unwrap();
    assert!(
        found.is_some(),
        "the slow create went through on the server"
    );
}

#[tokio::test]
async fn a_reset_connection_leaves_the_outcome_unknown() {
    let fake = Fake::start().await;
    fake.fault("POST", "/v1/projects", 1, Action::HandleThenDrop);
    let client = fake.client();
    assert_outcome_unknown(&fake, &client).await;
    let found = client
        .find_project_by_name("org", "orchestra-x")
        .await
        .unwrap();
    assert_eq!(found.map(|p| p.name).as_deref(), Some("orchestra-x"));
}

#[tokio::test]
async fn a_429_on_create_is_a_plain_refusal() {
    let fake = Fake::start().await;
    fake.fail_with("POST", "/v1/projects", 1, 429);
    let err = fake
        .client()
        .create_project(&body("orchestra-a", "eu-west-2"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(429));
    assert_eq!(fake.count("POST", "/v1/projects"), 1);
}

#[tokio::test]
async fn connection_refused_means_nothing_was_created() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let fake = Fake::start().await;
    let mut config = fake.config();
    config.api_url = url;
    let client = Client::new(config).unwrap();
    let err = client
        .create_project(&body("orchestra-a", "eu-west-2"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::Connect,
                attempts: 1,
                ..
            }
        ),
        "{err:?}"
    );
    // Pause is retried when the request never left.
    let err = client
        .pause_project("abcdefghijklmnopqrst")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::Connect,
                attempts: 4,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn pause_and_restore_retry_only_refusals() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    let client = fake.client();
    fake.fail_with("POST", &format!("/v1/projects/{r}/pause"), 1, 503);
    assert_eq!(
        client.pause_project(&r).await.unwrap_err().status(),
        Some(503)
    );
    assert_eq!(fake.count("POST", &format!("/v1/projects/{r}/pause")), 1);

    fake.fault("POST", &format!("/v1/projects/{r}/pause"), 1, Action::Drop);
    assert!(client.pause_project(&r).await.is_err());
    assert_eq!(fake.count("POST", &format!("/v1/projects/{r}/pause")), 2);

    fake.fault(
        "POST",
        &format!("/v1/projects/{r}/pause"),
        1,
        Action::Status {
            code: 429,
            headers: vec![("retry-after".into(), "0".into())],
            body: String::new(),
        },
    );
    client.pause_project(&r).await.unwrap();
    assert_eq!(fake.count("POST", &format!("/v1/projects/{r}/pause")), 4);
    assert_eq!(fake.state().projects[0].status, "INACTIVE");

    fake.fail_with("POST", &format!("/v1/projects/{r}/restore"), 1, 429);
    client.restore_project(&r).await.unwrap();
    assert_eq!(fake.count("POST", &format!("/v1/projects/{r}/restore")), 2);
    assert_eq!(fake.state().projects[0].status, "ACTIVE_HEALTHY");
}
