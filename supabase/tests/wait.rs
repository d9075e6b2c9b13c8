//! Waiting for healthy, for a status, and for deletion.

mod support;

use std::collections::VecDeque;
use std::time::Duration;

use stagesub_supabase::{BackoffPolicy, Error, ProjectStatus};
use support::{Fake, ServiceAnswer};
use tokio::time::Instant;

fn poll() -> BackoffPolicy {
    BackoffPolicy::constant(Duration::from_millis(10))
}

fn script(fake: &Fake, r: &str, statuses: &[&str]) {
    fake.state().status_script.insert(
        r.to_owned(),
        statuses.iter().map(|s| s.to_string()).collect(),
    );
}

fn pooler(status: &str, error: Option<&str>) -> Vec<ServiceAnswer> {
    vec![
        ("db".into(), "ACTIVE_HEALTHY".into(), None),
        ("pooler".into(), status.into(), error.map(str::to_owned)),
    ]
}

fn soon(ms: u64) -> Instant {
    Instant::now() + Duration::from_millis(ms)
}

#[tokio::test]
async fn waits_through_coming_up_and_the_poolers_early_errors() {
    let fake = Fake::start().await;
    let r = fake.state().add_project("org", "orchestra-a", "COMING_UP");
    script(
        &fake,
        &r,
        &[
            "COMING_UP",
            "COMING_UP",
            "ACTIVE_UNHEALTHY",
            "ACTIVE_HEALTHY",
        ],
    );
    fake.state().health_script.insert(
        r.clone(),
        VecDeque::from([
            pooler("UNHEALTHY", Some("not found")),
            pooler("COMING_UP", None),
            pooler("ACTIVE_HEALTHY", None),
        ]),
    );
    let project = fake
        .client()
        .wait_until_healthy(&r, soon(5000), poll())
        .await
        .unwrap();
    assert_eq!(project.status, ProjectStatus::ActiveHealthy);
    assert_eq!(fake.count("GET", &format!("/v1/projects/{r}/health")), 3);
    let health = fake
        .requests()
        .into_iter()
        .find(|q| q.path.ends_with("/health"))
        .unwrap();
    let services: Vec<&str> = health
        .query
        .iter()
        .filter(|(k, _)| k == "services")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(services, ["db", "pooler"]);
}

#[tokio::test]
async fn fails_fast_on_a_terminal_status() {
    let fake = Fake::start().await;
    let r = fake.state().add_project("org", "orchestra-a", "COMING_UP");
    script(&fake, &r, &["COMING_UP", "INIT_FAILED"]);
    let err = fake
        .client()
        .wait_until_healthy(&r, soon(5000), poll())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ProjectFailed { status, .. } if status == "INIT_FAILED"),
        "{err:?}"
    );
    assert!(err.to_string().contains("INIT_FAILED") && err.to_string().contains(&r));
    assert_eq!(fake.count("GET", "/v1/projects/"), 2);
}

#[tokio::test]
async fn inactive_fails_after_a_short_grace_but_a_late_restore_is_waited_for() {
    let fake = Fake::start().await;
    let r = fake.state().add_project("org", "orchestra-a", "INACTIVE");
    // Right after POST restore the status may still read INACTIVE.
    script(
        &fake,
        &r,
        &["INACTIVE", "INACTIVE", "RESTORING", "ACTIVE_HEALTHY"],
    );
    let client = fake.client();
    client
        .wait_until_healthy(&r, soon(5000), poll())
        .await
        .unwrap();

    script(&fake, &r, &["INACTIVE"]);
    let err = client
        .wait_until_healthy(&r, soon(5000), poll())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ProjectFailed { status, .. } if status == "INACTIVE"),
        "{err:?}"
    );
}

#[tokio::test]
async fn accepts_std_deadlines() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let client = fake.client();
    client
        .wait_until_healthy(&r, deadline, poll())
        .await
        .unwrap();
    client
        .wait_until_status(&r, ProjectStatus::ActiveHealthy, deadline)
        .await
        .unwrap();
    fake.state().projects.clear();
    client.wait_until_gone(&r, deadline).await.unwrap();
}

#[tokio::test]
async fn reports_the_last_status_at_the_deadline() {
    let fake = Fake::start().await;
    let r = fake.state().add_project("org", "orchestra-a", "RESTARTING");
    let err = fake
        .client()
        .wait_until_healthy(&r, soon(200), poll())
        .await
        .unwrap_err();
    match &err {
        Error::WaitTimeout { last_seen, .. } => assert_eq!(last_seen, "RESTARTING"),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("last seen: RESTARTING"));

    let healthy_but_no_pooler = fake
        .state()
        .add_project("org", "orchestra-b", "ACTIVE_HEALTHY");
    fake.state().health_script.insert(
        healthy_but_no_pooler.clone(),
        VecDeque::from([pooler("UNHEALTHY", Some("not found"))]),
    );
    let err = fake
        .client()
        .wait_until_healthy(&healthy_but_no_pooler, soon(200), poll())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("pooler: UNHEALTHY (not found)"),
        "{err}"
    );
}

#[tokio::test]
async fn keeps_polling_through_404s_and_server_errors_but_not_auth_errors() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    fake.fail_with("GET", "/v1/projects/", 2, 404);
    fake.fail_with("GET", "/v1/projects/", 5, 500);
    fake.client()
        .wait_until_healthy(&r, soon(5000), poll())
        .await
        .unwrap();

    fake.fail_with("GET", "/v1/projects/", 1, 401);
    let err = fake
        .client()
        .wait_until_healthy(&r, soon(5000), poll())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
}

#[tokio::test]
async fn the_deadline_also_bounds_a_hanging_call() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    fake.fault(
        "GET",
        "/v1/projects/",
        100,
        support::Action::Slow(Duration::from_secs(5)),
    );
    let mut config = fake.config();
    config.request_timeout = Duration::from_secs(30);
    let client = stagesub_supabase::Client::new(config).unwrap();
    let started = Instant::now();
    let err = client
        .wait_until_healthy(&r, soon(300), poll())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::WaitTimeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn waits_for_pause_and_restore() {
    let fake = Fake::start().await;
    let r = fake
        .state()
        .add_project("org", "orchestra-a", "ACTIVE_HEALTHY");
    let client = fake.client();
    script(&fake, &r, &["PAUSING", "PAUSING", "INACTIVE"]);
    let p = client
        .wait_until_status(&r, ProjectStatus::Inactive, soon(5000))
        .await
        .unwrap();
    assert_eq!(p.status, ProjectStatus::Inactive);

    // Right after restore the project may still read INACTIVE: that is not a failure here.
    script(&fake, &r, &["INACTIVE", "RESTORING", "ACTIVE_HEALTHY"]);
    client
        .wait_until_status(&r, ProjectStatus::ActiveHealthy, soon(5000))
        .await
        .unwrap();

    script(&fake, &r, &["PAUSING", "PAUSE_FAILED"]);
    let err = client
        .wait_until_status(&r, ProjectStatus::Inactive, soon(5000))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("PAUSE_FAILED"), "{err}");

    script(&fake, &r, &["RESTORING"]);
    let err = client
        .wait_until_status(&r, ProjectStatus::ActiveHealthy, soon(150))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("last seen: RESTORING"), "{err}");
}

#[tokio::test]
async fn waits_until_a_deleted_project_is_gone() {
    let fake = Fake::start().await;
    let client = fake.client();
    let a = fake.state().add_project("org", "orchestra-a", "GOING_DOWN");
    let state_fake = fake.clone();
    let a2 = a.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        state_fake.state().projects.retain(|p| p.project_ref != a2);
    });
    client.wait_until_gone(&a, soon(5000)).await.unwrap();
    assert!(fake.count("GET", &format!("/v1/projects/{a}")) >= 2);

    let b = fake.state().add_project("org", "orchestra-b", "GOING_DOWN");
    script(&fake, &b, &["GOING_DOWN", "REMOVED"]);
    client.wait_until_gone(&b, soon(5000)).await.unwrap();

    let c = fake.state().add_project("org", "orchestra-c", "GOING_DOWN");
    let err = client.wait_until_gone(&c, soon(100)).await.unwrap_err();
    assert!(err.to_string().contains("GOING_DOWN"), "{err}");
}
