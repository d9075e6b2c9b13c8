//! The compute add-on: resizing keeps the ref and the data, closes the database while `RESIZING`, and
//! refuses sizes outside `allowed_compute_sizes` with 403, leaving the project as it was.

mod common;

use std::time::{Duration, Instant};

use common::{Api, connect};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use supabase_standin::FaultsPatch;

async fn addons(api: &Api, project_ref: &str) -> Value {
    let (status, body) = api
        .get(&format!("/v1/projects/{project_ref}/billing/addons"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn compute_variant(listing: &Value) -> Option<String> {
    listing["selected_addons"]
        .as_array()
        .expect("selected_addons")
        .iter()
        .find(|a| a["type"] == "compute_instance")
        .map(|a| a["variant"]["id"].as_str().expect("id").to_string())
}

fn available_compute(listing: &Value) -> Vec<String> {
    listing["available_addons"]
        .as_array()
        .expect("available_addons")
        .iter()
        .filter(|a| a["type"] == "compute_instance")
        .flat_map(|a| a["variants"].as_array().expect("variants").iter())
        .map(|v| v["id"].as_str().expect("id").to_string())
        .collect()
}

async fn patch(api: &Api, project_ref: &str, body: Value) -> (StatusCode, Value) {
    api.call(
        Method::PATCH,
        &format!("/v1/projects/{project_ref}/billing/addons"),
        Some(body),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resizing_restarts_the_project_and_keeps_its_data() {
    let standin = common::start(FaultsPatch {
        resize_ms: Some(600),
        ..Default::default()
    })
    .await;
    let api = Api::new(&standin);
    let password = "resize-pass";
    let created = api
        .create_project("resize-org", "orchestra-resize", password)
        .await;
    let project_ref = created["ref"].as_str().unwrap().to_string();
    api.wait_for_status(&project_ref, "ACTIVE_HEALTHY").await;
    // No size at create: nano, which has no compute add-on.
    let listing = addons(&api, &project_ref).await;
    assert_eq!(compute_variant(&listing), None);
    assert!(available_compute(&listing).contains(&"ci_small".to_string()));
    let session = api.pooler_entry(&project_ref, "session").await;
    let client = connect(&session, password).await.expect("connect");
    client
        .batch_execute(
            "CREATE TABLE players (name text); INSERT INTO players VALUES ('Clara'), ('Ede')",
        )
        .await
        .unwrap();

    let (status, body) = patch(
        &api,
        &project_ref,
        json!({"addon_type": "compute_instance", "addon_variant": "ci_small"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, project) = api.get(&format!("/v1/projects/{project_ref}")).await;
    assert_eq!(project["status"], "RESIZING");
    // The restart ended the open session and refuses new ones until it is over.
    assert!(client.simple_query("SELECT 1").await.is_err());
    assert!(connect(&session, password).await.is_err());
    let (_, health) = api
        .get(&format!("/v1/projects/{project_ref}/health?services=db"))
        .await;
    assert_eq!(health[0]["status"], "UNHEALTHY", "{health}");
    // A second change while resizing is refused.
    let (status, _) = patch(
        &api,
        &project_ref,
        json!({"addon_type": "compute_instance", "addon_variant": "ci_medium"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let started = Instant::now();
    api.wait_for_status(&project_ref, "ACTIVE_HEALTHY").await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        compute_variant(&addons(&api, &project_ref).await).as_deref(),
        Some("ci_small")
    );
    let (_, listing) = api.get("/v1/organizations/resize-org/projects").await;
    assert_eq!(
        listing["projects"][0]["databases"][0]["infra_compute_size"],
        "small"
    );
    let client = connect(&session, password).await.expect("open again");
    let rows = client
        .query("SELECT name FROM players ORDER BY name", &[])
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "the data survived the resize");

    // The same size again is no change: no restart.
    let (status, _) = patch(
        &api,
        &project_ref,
        json!({"addon_type": "compute_instance", "addon_variant": "ci_small"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, project) = api.get(&format!("/v1/projects/{project_ref}")).await;
    assert_eq!(project["status"], "ACTIVE_HEALTHY");

    // Removing the compute add-on brings the project back to nano, with a restart.
    let (status, body) = api
        .call(
            Method::DELETE,
            &format!("/v1/projects/{project_ref}/billing/addons/ci_small"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    api.wait_for_status(&project_ref, "ACTIVE_HEALTHY").await;
    assert_eq!(compute_variant(&addons(&api, &project_ref).await), None);
    let (status, _) = api
        .call(
            Method::DELETE,
            &format!("/v1/projects/{project_ref}/billing/addons/ci_small"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    standin.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sizes_the_organization_cannot_use_are_refused_and_bad_bodies_are_400() {
    let standin = common::start(FaultsPatch {
        allowed_compute_sizes: Some("nano,micro".into()),
        ..Default::default()
    })
    .await;
    let api = Api::new(&standin);
    let (status, body) = api
        .post(
            "/v1/projects",
            json!({"name": "orchestra-big", "organization_slug": "free-org", "db_pass": "pass1234", "desired_instance_size": "large"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let created = api
        .create_project("free-org", "orchestra-free", "pass1234")
        .await;
    let project_ref = created["ref"].as_str().unwrap().to_string();
    api.wait_for_status(&project_ref, "ACTIVE_HEALTHY").await;
    assert_eq!(
        available_compute(&addons(&api, &project_ref).await),
        ["ci_micro"]
    );

    let (status, body) = patch(
        &api,
        &project_ref,
        json!({"addon_type": "compute_instance", "addon_variant": "ci_small"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("small") && message.contains("free-org") && message.contains("micro"),
        "{message}"
    );
    let (_, project) = api.get(&format!("/v1/projects/{project_ref}")).await;
    assert_eq!(project["status"], "ACTIVE_HEALTHY", "untouched");
    assert_eq!(compute_variant(&addons(&api, &project_ref).await), None);

    for bad in [
        json!({"addon_type": "compute_instance", "addon_variant": "pitr_7"}),
        json!({"addon_type": "compute_instance", "addon_variant": "ci_nano"}),
        json!({"addon_type": "disk", "addon_variant": "ci_micro"}),
        json!({"addon_type": "pitr", "addon_variant": "ci_micro"}),
        json!({"addon_variant": "ci_micro"}),
    ] {
        let (status, body) = patch(&api, &project_ref, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} -> {body}");
    }
    // Other add-ons are stored and listed.
    let (status, _) = patch(
        &api,
        &project_ref,
        json!({"addon_type": "pitr", "addon_variant": "pitr_7"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let listing = addons(&api, &project_ref).await;
    assert_eq!(listing["selected_addons"][0]["variant"]["id"], "pitr_7");

    // Allowing the size (the organization upgraded) lets the same call through.
    standin
        .set_faults(FaultsPatch {
            allowed_compute_sizes: Some(String::new()),
            ..Default::default()
        })
        .unwrap();
    let (status, _) = patch(
        &api,
        &project_ref,
        json!({"addon_type": "compute_instance", "addon_variant": "ci_small"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        standin
            .set_faults(FaultsPatch {
                allowed_compute_sizes: Some("tiny".into()),
                ..Default::default()
            })
            .is_err()
    );
    let (status, _) = api
        .get("/v1/projects/abcdefghijklmnopqrst/billing/addons")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    standin.shutdown().await.unwrap();
}
