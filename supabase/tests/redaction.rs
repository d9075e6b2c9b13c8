//! The access token and database passwords never show in Debug, Display or error text.

mod support;

use stagesub_supabase::{Client, CreateProjectBody, Region, Secret};
use support::{Action, Fake, TOKEN};

#[tokio::test]
async fn the_token_is_sent_as_a_bearer_header() {
    let fake = Fake::start().await;
    fake.client()
        .list_organization_projects("org")
        .await
        .unwrap();
    assert_eq!(
        fake.requests()[0].authorization.as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[tokio::test]
async fn client_and_config_debug_hide_the_token() {
    let fake = Fake::start().await;
    let config = fake.config();
    let client = Client::new(config.clone()).unwrap();
    for text in [
        format!("{config:?}"),
        format!("{client:?}"),
        format!("{:?}", config.access_token),
    ] {
        assert!(!text.contains(TOKEN), "{text}");
        assert!(!text.contains("0123456789abcdef"), "{text}");
    }
    assert!(format!("{config:?}").contains("***"));
}

#[tokio::test]
async fn errors_never_carry_the_token_even_when_the_server_echoes_it() {
    let echo = format!(r#"{{"message":"invalid token {TOKEN} for this project"}}"#);
    for code in [401, 403, 400, 500] {
        let fake = Fake::start().await;
        let r = fake
            .state()
            .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
        fake.fault(
            "GET",
            "/v1/projects/",
            10,
            Action::Status {
                code,
                headers: vec![],
                body: echo.clone(),
            },
        );
        let err = fake.client().get_project(&r).await.unwrap_err();
        assert_eq!(err.status(), Some(code));
        let (display, debug) = (err.to_string(), format!("{err:?}"));
        for text in [&display, &debug] {
            assert!(!text.contains(TOKEN), "{text}");
        }
        assert!(
            display.contains("invalid token *** for this project"),
            "{display}"
        );
        assert!(display.contains(&r), "{display}");
    }

    // Plain-text bodies are redacted too.
    let fake = Fake::start().await;
    fake.fault(
        "GET",
        "/v1/organizations/",
        1,
        Action::Status {
            code: 400,
            headers: vec![],
            body: format!("bad bearer {TOKEN}"),
        },
    );
    let err = fake
        .client()
        .list_organization_projects("org")
        .await
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains(TOKEN));
}

#[tokio::test]
async fn transport_errors_and_create_errors_hide_secrets() {
    let fake = Fake::start().await;
    fake.fault("POST", "/v1/projects", 1, Action::Drop);
    let body = CreateProjectBody {
        name: "orchestra-a".into(),
        organization_slug: "org".into(),
        db_pass: Secret::new("very-secret-db-password"),
        region: Region::parse("eu-central-1").unwrap(),
        desired_instance_size: None,
    };
    assert!(!format!("{body:?}").contains("very-secret-db-password"));
    let err = fake.client().create_project(&body).await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains(TOKEN) && !text.contains("very-secret-db-password"),
        "{text}"
    );

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut config = fake.config();
    config.api_url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = Client::new(config)
        .unwrap()
        .get_project("abcdefghijklmnopqrst")
        .await
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains(TOKEN), "{text}");
    assert!(
        text.contains("GET /v1/projects/abcdefghijklmnopqrst"),
        "{text}"
    );
}
