//! `POST /v1/projects/{ref}/cli/login-role`: a real temporary role that can connect through the
//! session pooler entry as `<role>.<ref>`, read-only or not, dropped after `ttl_seconds` and with its
//! project; bodies validated; counted in the stats.

mod common;

use std::time::{Duration, Instant};

use common::{Api, connect, password_matches, role_exists};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use supabase_standin::FaultsPatch;

const ENDPOINT: &str = "POST /v1/projects/{ref}/cli/login-role";

/// The session entry with the user a temporary role connects as (Supavisor's `<role>.<ref>`).
fn as_login(session: &Value, project_ref: &str, role: &Value) -> Value {
    let mut entry = session.clone();
    entry["db_user"] = json!(format!("{}.{project_ref}", role["role"].as_str().unwrap()));
    entry
}

async fn wait_gone(role: &str, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if !role_exists(role).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_roles_read_or_write_the_project_and_expire() {
    let standin = common::start(FaultsPatch {
        login_role_ttl_seconds: Some(2),
        ..Default::default()
    })
    .await;
    let api = Api::new(&standin);
    let project_ref = api
        .create_project("login-org", "orchestra-login", "owner-pass")
        .await["ref"]
        .as_str()
        .unwrap()
        .to_string();
    let other_ref = api
        .create_project("login-org", "orchestra-other", "owner-pass")
        .await["ref"]
        .as_str()
        .unwrap()
        .to_string();
    api.wait_for_status(&project_ref, "ACTIVE_HEALTHY").await;
    api.wait_for_status(&other_ref, "ACTIVE_HEALTHY").await;
    let session = api.pooler_entry(&project_ref, "session").await;
    let owner = connect(&session, "owner-pass")
        .await
        .expect("owner connects");
    owner
        .batch_execute(
            "CREATE TABLE tenant (name text); INSERT INTO tenant VALUES ('Kammerensemble')",
        )
        .await
        .unwrap();
    standin.reset_stats();

    let path = format!("/v1/projects/{project_ref}/cli/login-role");
    let (status, read_only) = api.post(&path, json!({"read_only": true})).await;
    assert_eq!(status, StatusCode::CREATED, "{read_only}");
    let role = read_only["role"].as_str().unwrap();
    assert!(role.starts_with("cli_login_"), "{read_only}");
    assert_eq!(read_only["ttl_seconds"], 2);
    let password = read_only["password"].as_str().unwrap();
    assert!(password.len() >= 16);
    let login = format!("{role}.{project_ref}");
    assert!(
        password_matches(&login, password).await,
        "the password is the role's"
    );

    // Read-only: reads the project's tables, cannot write, cannot reach another project.
    let reader = connect(&as_login(&session, &project_ref, &read_only), password)
        .await
        .expect("the temporary role connects as <role>.<ref>");
    let name: String = reader
        .query_one("SELECT name FROM tenant", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(name, "Kammerensemble");
    let write = reader
        .batch_execute("INSERT INTO tenant VALUES ('x')")
        .await;
    assert!(write.is_err(), "a read-only role cannot write");
    let other = api.pooler_entry(&other_ref, "session").await;
    let mut elsewhere = as_login(&other, &project_ref, &read_only);
    elsewhere["db_user"] = json!(login);
    assert!(
        connect(&elsewhere, password).await.is_err(),
        "no access to another project's database"
    );

    // Not read-only: the project owner's privileges.
    let (status, writer_role) = api.post(&path, json!({"read_only": false})).await;
    assert_eq!(status, StatusCode::CREATED, "{writer_role}");
    let writer = connect(
        &as_login(&session, &project_ref, &writer_role),
        writer_role["password"].as_str().unwrap(),
    )
    .await
    .expect("the write role connects");
    writer
        .batch_execute("INSERT INTO tenant VALUES ('Sinfonietta')")
        .await
        .expect("a write role writes");

    // Bad bodies and refs.
    for body in [
        Some(json!({})),
        Some(json!({"read_only": "yes"})),
        Some(json!({"read_only": true, "ttl": 5})),
        None,
    ] {
        let (status, answer) = api.call(Method::POST, &path, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}: {answer}");
    }
    let (status, _) = api
        .post(
            "/v1/projects/aaaaaaaaaaaaaaaaaaaa/cli/login-role",
            json!({"read_only": true}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(standin.stats().calls(ENDPOINT), 7);

    // Expiry drops both roles.
    let writer_login = format!("{}.{project_ref}", writer_role["role"].as_str().unwrap());
    drop((reader, writer));
    assert!(
        wait_gone(&login, Duration::from_secs(6)).await,
        "{login} expired"
    );
    assert!(wait_gone(&writer_login, Duration::from_secs(6)).await);
    assert!(role_exists(&format!("postgres.{project_ref}")).await);

    // Deleting the project drops its live temporary roles.
    standin
        .set_faults(FaultsPatch {
            login_role_ttl_seconds: Some(600),
            ..Default::default()
        })
        .unwrap();
    let (_, live) = api.post(&path, json!({"read_only": true})).await;
    let live_login = format!("{}.{project_ref}", live["role"].as_str().unwrap());
    assert!(role_exists(&live_login).await);
    let (status, _) = api
        .call(Method::DELETE, &format!("/v1/projects/{project_ref}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!role_exists(&live_login).await, "dropped with the project");
    standin.shutdown().await.expect("the stand-in stops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_projects_and_the_rate_limit_refuse_login_roles() {
    let standin = common::start(FaultsPatch::default()).await;
    let api = Api::new(&standin);
    let project_ref = api
        .create_project("login-org", "orchestra-paused", "owner-pass")
        .await["ref"]
        .as_str()
        .unwrap()
        .to_string();
    api.wait_for_status(&project_ref, "ACTIVE_HEALTHY").await;
    let (status, _) = api
        .call(
            Method::POST,
            &format!("/v1/projects/{project_ref}/pause"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    api.wait_for_status(&project_ref, "INACTIVE").await;
    let path = format!("/v1/projects/{project_ref}/cli/login-role");
    let (status, answer) = api.post(&path, json!({"read_only": true})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("INACTIVE"));

    standin
        .set_faults(FaultsPatch {
            rate_limit_per_minute: Some(1),
            ..Default::default()
        })
        .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(api.post(&path, json!({"read_only": true})).await.0);
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    standin.shutdown().await.expect("the stand-in stops");
}
