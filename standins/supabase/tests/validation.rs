//! Requests the real API refuses are refused the same way: body validation, auth, unknown refs, query rules.

mod common;

use common::Api;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use supabase_standin::FaultsPatch;

fn body(overrides: Value) -> Value {
    let mut body = json!({"name": "orchestra-valid", "organization_slug": "validation-org", "db_pass": "secret-pass"});
    for (key, value) in overrides.as_object().expect("an object") {
        if value.is_null() {
            body.as_object_mut().unwrap().remove(key);
        } else {
            body[key] = value.clone();
        }
    }
    body
}

async fn assert_rejected(api: &Api, overrides: Value, expected_words: &str) {
    let (status, answer) = api.post("/v1/projects", body(overrides.clone())).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "{overrides} answered {answer}"
    );
    let message = answer["message"].as_str().expect("a message");
    assert!(
        message.contains(expected_words),
        "{overrides}: message {message:?} should mention {expected_words:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_rejects_bodies_the_real_api_rejects() {
    let standin = common::start(FaultsPatch::default()).await;
    let api = Api::new(&standin);
    assert_rejected(
        &api,
        json!({"unexpected": true}),
        "unknown field `unexpected`",
    )
    .await;
    assert_rejected(
        &api,
        json!({"organization_slug": null}),
        "missing field `organization_slug`",
    )
    .await;
    assert_rejected(&api, json!({"name": null}), "missing field `name`").await;
    assert_rejected(&api, json!({"db_pass": null}), "missing field `db_pass`").await;
    assert_rejected(&api, json!({"name": "orchestra.dotted"}), "dot").await;
    assert_rejected(&api, json!({"name": "x".repeat(257)}), "256").await;
    assert_rejected(&api, json!({"db_pass": "abc"}), "db_pass").await;
    assert_rejected(
        &api,
        json!({"organization_slug": "bad slug!"}),
        "organization_slug",
    )
    .await;
    assert_rejected(&api, json!({"region": "mars-north-1"}), "region").await;
    assert_rejected(
        &api,
        json!({"region": "eu-central-1", "region_selection": {"type": "specific", "code": "eu-central-1"}}),
        "Only one of region or region_selection",
    )
    .await;
    assert_rejected(
        &api,
        json!({"region_selection": {"type": "smartGroup", "code": "mars"}}),
        "smart group",
    )
    .await;
    assert_rejected(
        &api,
        json!({"desired_instance_size": "huge"}),
        "desired_instance_size",
    )
    .await;
    let (status, answer) = api.call(Method::POST, "/v1/projects", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        api.get("/v1/projects")
            .await
            .1
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing was created"
    );

    // A 256-character name and a smart group are fine; the group picks a region.
    let name = "n".repeat(256);
    let (status, created) = api
        .post(
            "/v1/projects",
            body(json!({"name": name, "region_selection": {"type": "smartGroup", "code": "emea"}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["region"], "eu-central-1");
    let (status, answer) = api.post("/v1/projects", body(json!({"name": name}))).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "duplicate names in an organization: {answer}"
    );
    let (status, answer) = api
        .post(
            "/v1/projects",
            body(json!({"name": name, "organization_slug": "other-org"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the same name in another organization is fine: {answer}"
    );
    standin.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_without_a_valid_bearer_token_are_unauthorized() {
    let mut config = supabase_standin::Config::new(common::database_url());
    config.token = Some("sbp_configuredtoken".into());
    assert!(
        !format!("{config:?}").contains("sbp_configuredtoken"),
        "Debug redacts the token"
    );
    let configured = supabase_standin::start(config).await.expect("starts");
    let debug = format!("{configured:?}");
    assert!(
        !debug.contains("sbp_configuredtoken") && !debug.contains(&common::database_url()),
        "Debug redacts secrets: {debug}"
    );
    let api = Api::new(&configured);
    for token in [None, Some(common::TOKEN), Some("sbp_wrong")] {
        let (status, body) = api.with_token(token).get("/v1/projects").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "token {token:?}: {body}");
    }
    assert_eq!(
        api.with_token(Some("sbp_configuredtoken"))
            .get("/v1/projects")
            .await
            .0,
        StatusCode::OK
    );
    configured.shutdown().await.expect("clean shutdown");

    let standin = common::start(FaultsPatch::default()).await;
    let api = Api::new(&standin);
    let short = format!("sbp_{}", "a".repeat(39));
    let not_hex = format!("sbp_{}", "g".repeat(40));
    for token in [
        None,
        Some(short.as_str()),
        Some(not_hex.as_str()),
        Some("ghp_token"),
    ] {
        let (status, body) = api.with_token(token).get("/v1/projects").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "token {token:?}: {body}");
        assert_eq!(body, json!({"message": "Unauthorized"}));
    }
    assert_eq!(
        api.get("/v1/projects").await.0,
        StatusCode::OK,
        "sbp_ + 40 hex is accepted"
    );
    standin.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_projects_and_bad_queries_are_reported() {
    let standin = common::start(FaultsPatch::default()).await;
    let api = Api::new(&standin);
    let missing = "/v1/projects/abcdefghijklmnopqrst";
    for (method, suffix) in [
        (Method::GET, ""),
        (Method::DELETE, ""),
        (Method::POST, "/pause"),
        (Method::POST, "/restore"),
        (Method::GET, "/config/database/pooler"),
        (Method::GET, "/health?services=db"),
        (Method::GET, "/ssl-enforcement"),
        (Method::GET, "/network-restrictions"),
    ] {
        let (status, body) = api
            .call(method.clone(), &format!("{missing}{suffix}"), None)
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {suffix}");
        assert_eq!(
            body,
            json!({"message": "Project not found"}),
            "{method} {suffix}"
        );
    }

    let project = api
        .create_project("validation-org", "orchestra-queries", "secret-pass")
        .await;
    let project_ref = project["ref"].as_str().unwrap();
    let (status, body) = api.get(&format!("/v1/projects/{project_ref}/health")).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "services is required: {body}"
    );
    let (status, _) = api
        .get(&format!(
            "/v1/projects/{project_ref}/health?services=teapot"
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = api
        .get(&format!(
            "/v1/projects/{project_ref}/health?services=db&services=pooler"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["db", "pooler"], "one answer per repeated parameter");
    let (status, _) = api
        .call(
            Method::PATCH,
            &format!("/v1/projects/{project_ref}/database/password"),
            Some(json!({"password": "abc"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "passwords need 4 characters"
    );
    let (status, _) = api
        .post(
            &format!("/v1/projects/{project_ref}/network-restrictions/apply"),
            json!({"dbAllowedCidrs": ["10.0.0.0/33"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "invalid CIDR");
    let (status, _) = api
        .call(
            Method::PUT,
            &format!("/v1/projects/{project_ref}/ssl-enforcement"),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "requestedConfig is required"
    );
    let (status, _) = api
        .call(
            Method::POST,
            &format!("/v1/projects/{project_ref}/pause"),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a project still COMING_UP cannot be paused"
    );
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
        "only INACTIVE projects can be restored"
    );
    standin.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_are_stored_and_echoed_in_the_spec_shapes() {
    let standin = common::start(FaultsPatch::default()).await;
    let api = Api::new(&standin);
    let project = api
        .create_project("settings-org", "orchestra-settings", "secret-pass")
        .await;
    let path = format!("/v1/projects/{}", project["ref"].as_str().unwrap());

    let (status, ssl) = api.get(&format!("{path}/ssl-enforcement")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        ssl,
        json!({"currentConfig": {"database": false}, "appliedSuccessfully": true})
    );
    let (status, ssl) = api
        .call(
            Method::PUT,
            &format!("{path}/ssl-enforcement"),
            Some(json!({"requestedConfig": {"database": true}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ssl["currentConfig"]["database"], true);
    assert_eq!(
        api.get(&format!("{path}/ssl-enforcement")).await.1["currentConfig"]["database"],
        true
    );

    let (status, network) = api.get(&format!("{path}/network-restrictions")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(network["entitlement"], "allowed");
    assert_eq!(
        network["config"],
        json!({"dbAllowedCidrs": ["0.0.0.0/0"], "dbAllowedCidrsV6": ["::/0"]})
    );
    let (status, applied) = api
        .post(
            &format!("{path}/network-restrictions/apply"),
            json!({"dbAllowedCidrs": ["203.0.113.0/24"], "dbAllowedCidrsV6": ["2001:db8::/32"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{applied}");
    assert_eq!(
        applied["config"],
        json!({"dbAllowedCidrs": ["203.0.113.0/24"], "dbAllowedCidrsV6": ["2001:db8::/32"]})
    );
    assert_eq!(
        applied["old_config"]["dbAllowedCidrs"],
        json!(["0.0.0.0/0"])
    );
    assert!(applied["status"] == "applied" || applied["status"] == "stored");
    assert_eq!(
        api.get(&format!("{path}/network-restrictions")).await.1["config"],
        applied["config"]
    );

    let (status, org) = api.get("/v1/organizations/settings-org").await;
    assert_eq!(status, StatusCode::OK);
    for field in ["id", "name", "opt_in_tags", "allowed_release_channels"] {
        assert!(
            !org[field].is_null(),
            "organization answer lacks {field}: {org}"
        );
    }
    let (_, organizations) = api.get("/v1/organizations").await;
    assert_eq!(
        organizations,
        json!([{"id": "settings-org", "slug": "settings-org", "name": "settings-org"}])
    );
    standin.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reported_database_host_and_port_are_configurable() {
    let mut config = supabase_standin::Config::new(common::database_url());
    config.db_host = Some("db.standin.test".into());
    config.db_port = Some(6543);
    let standin = supabase_standin::start(config).await.expect("starts");
    let api = Api::new(&standin);
    let project = api
        .create_project("host-org", "orchestra-host", "host-pass")
        .await;
    let project_ref = project["ref"].as_str().unwrap();
    let (_, fetched) = api.get(&format!("/v1/projects/{project_ref}")).await;
    assert_eq!(fetched["database"]["host"], "db.standin.test");
    let entry = api.pooler_entry(project_ref, "transaction").await;
    assert_eq!(entry["db_host"], "db.standin.test");
    assert_eq!(entry["db_port"], 6543);
    assert_eq!(
        entry["connection_string"],
        format!(
            "postgresql://postgres.{project_ref}:[YOUR-PASSWORD]@db.standin.test:6543/sb_{project_ref}"
        )
    );
    standin.shutdown().await.expect("clean shutdown");
}
