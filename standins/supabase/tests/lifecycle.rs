//! A project's whole life against the real PostgreSQL: create, come up, connect with the pooler
//! credentials, rotate the password, pause (connections blocked), restore, delete (database dropped).

mod common;

use std::time::Duration;

use common::{Api, connect, database_exists, password_matches, role_exists};
use reqwest::{Method, StatusCode};
use serde_json::json;
use supabase_standin::FaultsPatch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_lifecycle_is_backed_by_a_real_database() {
    let standin = common::start(FaultsPatch {
        pause_ms: Some(400),
        ..Default::default()
    })
    .await;
    let api = Api::new(&standin);
    // Quotes and backslashes must reach ALTER/CREATE ROLE intact.
    let first_password = "it's a \\ secret";
    let created = api
        .create_project("lifecycle-org", "orchestra-lifecycle", first_password)
        .await;
    let project_ref = created["ref"].as_str().expect("ref").to_string();
    assert_eq!(created["id"], created["ref"]);
    assert_eq!(project_ref.len(), 20);
    assert!(project_ref.bytes().all(|byte| byte.is_ascii_lowercase()));
    assert_eq!(created["status"], "COMING_UP");
    assert_eq!(created["organization_slug"], "lifecycle-org");
    assert_eq!(created["region"], "eu-central-1");

    let project = api.wait_for_status(&project_ref, "ACTIVE_HEALTHY").await;
    assert_eq!(project["database"]["host"], "127.0.0.1");
    assert!(
        project["database"]["version"]
            .as_str()
            .is_some_and(|v| !v.is_empty())
    );

    let session = api.pooler_entry(&project_ref, "session").await;
    let transaction = api.pooler_entry(&project_ref, "transaction").await;
    assert_eq!(session["db_user"], format!("postgres.{project_ref}"));
    assert_eq!(session["db_name"], transaction["db_name"]);
    assert!(
        session["connection_string"]
            .as_str()
            .is_some_and(|url| url.contains("[YOUR-PASSWORD]"))
    );
    let database = session["db_name"].as_str().expect("db_name").to_string();
    assert!(database_exists(&database).await);

    let client = connect(&session, first_password)
        .await
        .expect("connect with db_pass");
    client
        .batch_execute("CREATE TABLE musicians (name text); INSERT INTO musicians VALUES ('Clara')")
        .await
        .expect("the project role owns its database");
    let role = format!("postgres.{project_ref}");
    assert!(
        password_matches(&role, first_password).await,
        "the role's password is db_pass"
    );
    assert!(!password_matches(&role, "wrong password").await);

    let second_password = "n3w-'pass'";
    let (status, body) = api
        .call(
            Method::PATCH,
            &format!("/v1/projects/{project_ref}/database/password"),
            Some(json!({ "password": second_password })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["message"].is_string());
    assert!(
        password_matches(&role, second_password).await,
        "the role has the new password"
    );
    assert!(
        !password_matches(&role, first_password).await,
        "the old password no longer works"
    );
    let client = connect(&session, second_password)
        .await
        .expect("connect with the new password");

    let (status, body) = api
        .call(
            Method::POST,
            &format!("/v1/projects/{project_ref}/pause"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, project) = api.get(&format!("/v1/projects/{project_ref}")).await;
    assert_eq!(project["status"], "PAUSING");
    let (status, _) = api
        .call(
            Method::POST,
            &format!("/v1/projects/{project_ref}/restore"),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "restore is refused while PAUSING"
    );
    assert!(
        client.simple_query("SELECT 1").await.is_err(),
        "the open session was ended by the pause"
    );
    assert!(
        connect(&session, second_password).await.is_err(),
        "new connections are refused"
    );
    api.wait_for_status(&project_ref, "INACTIVE").await;
    let (_, health) = api
        .get(&format!("/v1/projects/{project_ref}/health?services=db"))
        .await;
    assert_eq!(health[0]["status"], "UNHEALTHY");

    let (status, body) = api
        .call(
            Method::POST,
            &format!("/v1/projects/{project_ref}/restore"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, project) = api.get(&format!("/v1/projects/{project_ref}")).await;
    assert_eq!(project["status"], "RESTORING");
    api.wait_for_status(&project_ref, "ACTIVE_HEALTHY").await;
    let client = connect(&session, second_password)
        .await
        .expect("connect after restore");
    let row = client
        .query_one("SELECT name FROM musicians", &[])
        .await
        .expect("data kept through pause");
    assert_eq!(row.get::<_, String>(0), "Clara");
    drop(client);

    let (status, deleted) = api
        .call(Method::DELETE, &format!("/v1/projects/{project_ref}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert!(
        deleted["id"].is_i64(),
        "DELETE answers an integer id: {deleted}"
    );
    assert_eq!(deleted["ref"], project_ref.as_str());
    assert_eq!(deleted["name"], "orchestra-lifecycle");
    assert!(!database_exists(&database).await, "the database is dropped");
    assert!(!role_exists(&role).await, "the role is dropped");
    let (status, body) = api.get(&format!("/v1/projects/{project_ref}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({ "message": "Project not found" }));
    let (status, _) = api
        .call(Method::DELETE, &format!("/v1/projects/{project_ref}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    standin.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_cannot_reach_each_other_and_shutdown_drops_everything() {
    let standin = common::start(FaultsPatch::default()).await;
    let api = Api::new(&standin);
    let first = api
        .create_project("isolation-org", "orchestra-one", "pass-one")
        .await;
    let second = api
        .create_project("isolation-org", "orchestra-two", "pass-two")
        .await;
    let (first_ref, second_ref) = (
        first["ref"].as_str().unwrap(),
        second["ref"].as_str().unwrap(),
    );
    assert_ne!(first_ref, second_ref);
    api.wait_for_status(first_ref, "ACTIVE_HEALTHY").await;
    api.wait_for_status(second_ref, "ACTIVE_HEALTHY").await;
    let mut crossed = api.pooler_entry(first_ref, "session").await;
    let second_entry = api.pooler_entry(second_ref, "session").await;
    crossed["db_name"] = second_entry["db_name"].clone();
    assert!(
        connect(&crossed, "pass-one").await.is_err(),
        "one project's role cannot open another project's database"
    );
    let (_, list) = api.get("/v1/projects").await;
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    let second_database = second_entry["db_name"].as_str().unwrap().to_string();
    standin.shutdown().await.expect("clean shutdown");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !database_exists(&second_database).await,
        "shutdown drops the project databases"
    );
}
