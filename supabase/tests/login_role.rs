//! `POST /v1/projects/{ref}/cli/login-role`: body, answer, pooler user name, retries, redaction.

mod support;

use serde_json::json;
use stagesub_supabase::Error;
use support::{Action, Fake};

#[tokio::test]
async fn login_role_sends_read_only_and_hides_the_password() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    let client = fake.client();
    let role = client.create_login_role(&r, true).await.unwrap();
    assert_eq!(role.role, "cli_login_supabase_read_only_user");
    assert_eq!(role.password.expose(), "tmp-Secret-0123456789");
    assert_eq!(role.ttl_seconds, 300);
    let debug = format!("{role:?}");
    assert!(!debug.contains("tmp-Secret"), "{debug}");
    let sent = fake.requests();
    assert_eq!(sent[0].method, "POST");
    assert_eq!(sent[0].path, format!("/v1/projects/{r}/cli/login-role"));
    assert_eq!(sent[0].body, Some(json!({"read_only": true})));

    let write = client.create_login_role(&r, false).await.unwrap();
    assert_eq!(write.role, "cli_login_postgres");
    assert_eq!(fake.requests()[1].body, Some(json!({"read_only": false})));
}

#[test]
fn pooler_user_follows_supavisor_naming() {
    let role = stagesub_supabase::LoginRole {
        role: "cli_login_postgres".into(),
        password: "x".into(),
        ttl_seconds: 1,
    };
    let r = "abcdefghijklmnopqrst";
    assert_eq!(
        role.pooler_user(r, &format!("postgres.{r}")),
        format!("cli_login_postgres.{r}")
    );
    // A direct connection (user `postgres`) takes the role as is.
    assert_eq!(role.pooler_user(r, "postgres"), "cli_login_postgres");
}

#[tokio::test]
async fn login_role_retries_only_refusals() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    let client = fake.client();
    let path = format!("/v1/projects/{r}/cli/login-role");
    // A 5xx may have created a role: not retried, the caller decides.
    fake.fail_with("POST", &path, 1, 500);
    assert_eq!(
        client
            .create_login_role(&r, true)
            .await
            .unwrap_err()
            .status(),
        Some(500)
    );
    assert_eq!(fake.count("POST", &path), 1);
    // Refused by the rate limit: nothing happened, so it is sent again.
    fake.fault(
        "POST",
        &path,
        1,
        Action::Status {
            code: 429,
            headers: vec![("retry-after".into(), "0".into())],
            body: String::new(),
        },
    );
    client.create_login_role(&r, true).await.unwrap();
    assert_eq!(fake.count("POST", &path), 3);
    // A bad ref never leaves the process.
    assert!(matches!(
        client.create_login_role("Not-A-Ref", true).await,
        Err(Error::InvalidInput(_))
    ));
    assert_eq!(fake.count("POST", &path), 3);
}
