//! Each fault knob is observable, whether set at start, through `POST /_standin/faults` or `set_faults`.

mod common;

use std::time::{Duration, Instant};

use common::{Api, database_exists};
use reqwest::{Method, StatusCode};
use serde_json::json;
use supabase_standin::FaultsPatch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_5xx_latency_and_stats() {
    let standin = common::start(FaultsPatch::default()).await;
    let api = Api::new(&standin);
    let (status, faults) = api
        .post("/_standin/faults", json!({"error_rate_5xx": 1.0}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(faults["error_rate_5xx"], 1.0);
    assert_eq!(
        faults["healthy_after_ms"], 150,
        "other knobs keep their values"
    );
    for _ in 0..10 {
        let (status, body) = api.get("/v1/projects").await;
        assert!(
            [500, 502, 503].contains(&status.as_u16()),
            "error_rate_5xx = 1 fails every call, got {status}"
        );
        assert!(body["message"].is_string());
    }
    let (status, _) = api
        .post("/_standin/faults", json!({"error_rate_5xx": 2.0}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "rates above 1 are refused");
    let (status, _) = api
        .post("/_standin/faults", json!({"no_such_knob": 1}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "unknown knobs are refused");
    let (status, _) = api
        .post(
            "/_standin/faults",
            json!({"error_rate_5xx": 0.0, "latency_ms": 300}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let started = Instant::now();
    assert_eq!(api.get("/v1/projects").await.0, StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "latency_ms delays answers"
    );

    let (status, stats) = api.get("/_standin/stats").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stats["total"], 11, "control calls are not counted: {stats}");
    assert_eq!(stats["endpoints"]["GET /v1/projects"], 11);
    assert_eq!(standin.stats().calls("GET /v1/projects"), 11);
    assert_eq!(
        api.post("/_standin/reset-stats", json!({})).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(standin.stats().total, 0);
    standin.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_can_succeed_but_answer_500() {
    let standin = common::start(FaultsPatch {
        fail_next_create_after_commit: Some(true),
        ..Default::default()
    })
    .await;
    let api = Api::new(&standin);
    let (status, body) = api
        .post(
            "/v1/projects",
            json!({"name": "orchestra-ghost", "organization_slug": "faults-org", "db_pass": "ghost-pass"}),
        )
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(
        !standin.faults().fail_next_create_after_commit,
        "the knob is one-shot"
    );
    let (_, projects) = api.get("/v1/projects").await;
    let ghost = &projects[0];
    assert_eq!(
        ghost["name"], "orchestra-ghost",
        "the project exists despite the 500"
    );
    let ghost_ref = ghost["ref"].as_str().unwrap();
    assert!(
        database_exists(&format!("sb_{ghost_ref}")).await,
        "and so does its database"
    );
    let (status, _) = api
        .post(
            "/v1/projects",
            json!({"name": "orchestra-ghost", "organization_slug": "faults-org", "db_pass": "ghost-pass"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a blind retry hits the name taken by the ghost"
    );
    api.create_project("faults-org", "orchestra-after", "after-pass")
        .await;
    api.wait_for_status(ghost_ref, "ACTIVE_HEALTHY").await;
    standin.shutdown().await.expect("clean shutdown");
    assert!(!database_exists(&format!("sb_{ghost_ref}")).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_knobs_change_how_projects_come_up() {
    let standin = common::start(FaultsPatch {
        init_failed: Some(true),
        ..Default::default()
    })
    .await;
    let api = Api::new(&standin);
    let failed = api
        .create_project("faults-org", "orchestra-failed", "failed-pass")
        .await;
    let failed_ref = failed["ref"].as_str().unwrap();
    api.wait_for_status(failed_ref, "INIT_FAILED").await;
    let (_, health) = api
        .get(&format!("/v1/projects/{failed_ref}/health?services=db"))
        .await;
    assert_eq!(health[0]["status"], "UNHEALTHY");

    standin
        .set_faults(FaultsPatch {
            init_failed: Some(false),
            never_healthy: Some(true),
            ..Default::default()
        })
        .expect("valid knobs");
    let stuck = api
        .create_project("faults-org", "orchestra-stuck", "stuck-pass")
        .await;
    let stuck_ref = stuck["ref"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (_, project) = api.get(&format!("/v1/projects/{stuck_ref}")).await;
    assert_eq!(
        project["status"], "COMING_UP",
        "never_healthy: still coming up after 4x healthy_after_ms"
    );
    let (_, health) = api
        .get(&format!("/v1/projects/{stuck_ref}/health?services=db"))
        .await;
    assert_eq!(health[0]["status"], "COMING_UP");

    standin
        .set_faults(FaultsPatch {
            never_healthy: Some(false),
            healthy_after_ms: Some(800),
            pooler_lag_ms: Some(1500),
            ..Default::default()
        })
        .expect("valid knobs");
    let slow = api
        .create_project("faults-org", "orchestra-slow", "slow-pass")
        .await;
    let slow_ref = slow["ref"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, project) = api.get(&format!("/v1/projects/{slow_ref}")).await;
    assert_eq!(
        project["status"], "COMING_UP",
        "healthy_after_ms = 800 keeps it coming up at 300 ms"
    );
    api.wait_for_status(slow_ref, "ACTIVE_HEALTHY").await;
    let health_path = format!("/v1/projects/{slow_ref}/health?services=db&services=pooler");
    let (_, health) = api.get(&health_path).await;
    assert_eq!(health[0]["status"], "ACTIVE_HEALTHY");
    assert_eq!(
        health[1]["status"], "UNHEALTHY",
        "the pooler lags behind: {health}"
    );
    assert_eq!(health[1]["error"], "not found");
    let deadline = Instant::now() + Duration::from_secs(10);
    while api.get(&health_path).await.1[1]["status"] != "ACTIVE_HEALTHY" {
        assert!(Instant::now() < deadline, "the pooler never became healthy");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    standin.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paid_organizations_cannot_pause() {
    let standin = common::start(FaultsPatch::default()).await;
    let api = Api::new(&standin);
    let project = api
        .create_project("paid-org", "orchestra-paid", "paid-pass")
        .await;
    let project_ref = project["ref"].as_str().unwrap();
    api.wait_for_status(project_ref, "ACTIVE_HEALTHY").await;
    let (status, _) = api
        .post("/_standin/faults", json!({"paid_org": true}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/v1/projects/{project_ref}/pause"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("paid plan"));
    assert_eq!(api.get("/v1/organizations/paid-org").await.1["plan"], "pro");
    let (_, project) = api.get(&format!("/v1/projects/{project_ref}")).await;
    assert_eq!(project["status"], "ACTIVE_HEALTHY", "nothing changed");
    standin.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_can_succeed_but_drop_the_connection() {
    let standin = common::start(FaultsPatch::default()).await;
    let api = Api::new(&standin);
    let (status, _) = api
        .post(
            "/_standin/faults",
            json!({"drop_next_create_after_commit": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let answer = common::http_client()
        .post(format!("{}/v1/projects", standin.base_url()))
        .bearer_auth(common::TOKEN)
        .json(&json!({"name": "orchestra-dropped", "organization_slug": "faults-org", "db_pass": "dropped-pass"}))
        .send()
        .await;
    let error = answer.expect_err("the connection closes without an answer");
    assert!(!error.is_status(), "{error}");
    let (_, projects) = api.get("/v1/projects").await;
    assert_eq!(
        projects[0]["name"], "orchestra-dropped",
        "the project exists anyway"
    );
    let dropped_ref = projects[0]["ref"].as_str().unwrap();
    assert!(database_exists(&format!("sb_{dropped_ref}")).await);
    api.create_project("faults-org", "orchestra-next", "next-pass")
        .await;
    standin.shutdown().await.expect("clean shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_free_plan_quota_limits_active_projects() {
    let standin = common::start(FaultsPatch {
        max_active_projects: Some(1),
        ..Default::default()
    })
    .await;
    let api = Api::new(&standin);
    let first = api
        .create_project("quota-org", "orchestra-first", "first-pass")
        .await;
    let first_ref = first["ref"].as_str().unwrap();
    let second = json!({"name": "orchestra-second", "organization_slug": "quota-org", "db_pass": "second-pass"});
    let (status, body) = api.post("/v1/projects", second.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("maximum number of active free projects")
    );
    let (status, _) = api
        .post("/v1/projects", json!({"name": "orchestra-elsewhere", "organization_slug": "other-org", "db_pass": "pass"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "the quota is per organization");

    api.wait_for_status(first_ref, "ACTIVE_HEALTHY").await;
    assert_eq!(
        api.call(
            Method::POST,
            &format!("/v1/projects/{first_ref}/pause"),
            None
        )
        .await
        .0,
        StatusCode::OK
    );
    api.wait_for_status(first_ref, "INACTIVE").await;
    let (status, created) = api.post("/v1/projects", second).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a paused project frees its slot: {created}"
    );
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/v1/projects/{first_ref}/restore"),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "restoring would exceed the quota: {body}"
    );
    standin.shutdown().await.expect("clean shutdown");
}
