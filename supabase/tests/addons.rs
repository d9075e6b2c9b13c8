//! The compute add-on calls against the Supabase stand-in (real databases behind it, PostgreSQL from
//! `DATABASE_URL`): reading the size, resizing up and down with the restart in between, a size the
//! organization cannot use, and the retry rules (reads retried, changes not sent twice blindly).

use std::time::{Duration, Instant};

use stagesub_supabase::{
    ApplyAddonBody, BackoffPolicy, Client, ClientConfig, ComputeSize, CreateProjectBody, Error,
    ProjectStatus, RateLimit, Region, RetryPolicy, Secret,
};
use supabase_standin::{Config, FaultsPatch, RunningStandin};

const TOKEN: &str = "sbp_0123456789abcdef0123456789abcdef01234567";
const PATCH: &str = "PATCH /v1/projects/{ref}/billing/addons";
const LIST: &str = "GET /v1/projects/{ref}/billing/addons";

async fn standin() -> RunningStandin {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut config = Config::new(url);
    config.faults.healthy_after_ms = 100;
    config.faults.pooler_lag_ms = 0;
    config.faults.resize_ms = 300;
    config.faults.rate_limit_per_minute = 0;
    supabase_standin::start(config)
        .await
        .expect("the stand-in starts")
}

fn client(standin: &RunningStandin) -> Client {
    Client::new(ClientConfig {
        api_url: standin.base_url().to_owned(),
        access_token: Secret::new(TOKEN),
        user_agent: "stagesub-supabase-tests".into(),
        retry: RetryPolicy {
            max_attempts: 4,
            max_elapsed: Duration::from_secs(10),
            backoff: BackoffPolicy::constant(Duration::from_millis(5)),
            max_rate_limit_wait: Duration::from_secs(5),
        },
        request_timeout: Duration::from_secs(10),
        rate_limit: RateLimit {
            per_minute: 0,
            burst: 1,
        },
        poll: BackoffPolicy::constant(Duration::from_millis(50)),
    })
    .unwrap()
}

async fn healthy_project(client: &Client, org: &str, size: Option<&str>) -> String {
    let project = client
        .create_project(&CreateProjectBody {
            name: format!("orchestra-{org}"),
            organization_slug: org.into(),
            db_pass: Secret::new("addons-pass"),
            region: Region::parse("eu-central-1").unwrap(),
            desired_instance_size: size.map(str::to_owned),
        })
        .await
        .unwrap();
    wait_healthy(client, &project.project_ref).await;
    project.project_ref
}

async fn wait_healthy(client: &Client, project_ref: &str) {
    client
        .wait_until_healthy(
            project_ref,
            Instant::now() + Duration::from_secs(20),
            BackoffPolicy::constant(Duration::from_millis(50)),
        )
        .await
        .unwrap();
}

async fn status(client: &Client, project_ref: &str) -> ProjectStatus {
    client
        .get_project(project_ref)
        .await
        .unwrap()
        .unwrap()
        .status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resizing_up_and_down_through_the_compute_add_on() {
    let standin = standin().await;
    let client = client(&standin);
    let r = healthy_project(&client, "addons-org", Some("micro")).await;
    let addons = client.project_addons(&r).await.unwrap();
    assert_eq!(addons.compute_size().name(), "micro");
    let small = ComputeSize::parse("small").unwrap();
    assert!(addons.available_compute_sizes().contains(&small));

    assert!(client.set_compute_size(&r, &addons, &small).await.unwrap());
    assert_eq!(status(&client, &r).await, ProjectStatus::Resizing);
    wait_healthy(&client, &r).await;
    let addons = client.project_addons(&r).await.unwrap();
    assert_eq!(addons.compute_size(), small);

    // The size in force again: no call at all.
    let patches = standin.stats().calls(PATCH);
    assert!(!client.set_compute_size(&r, &addons, &small).await.unwrap());
    assert_eq!(standin.stats().calls(PATCH), patches);

    // Down to nano: the compute add-on is removed.
    let nano = ComputeSize::parse("nano").unwrap();
    assert!(client.set_compute_size(&r, &addons, &nano).await.unwrap());
    wait_healthy(&client, &r).await;
    assert_eq!(
        client.project_addons(&r).await.unwrap().compute_size(),
        nano
    );
    assert!(!client.remove_project_addon(&r, "ci_small").await.unwrap());
    assert!(matches!(
        client.remove_project_addon(&r, "ci_small/../x").await,
        Err(Error::InvalidInput(_))
    ));
    standin.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_sizes_and_retry_rules() {
    let standin = standin().await;
    let client = client(&standin);
    standin
        .set_faults(FaultsPatch {
            allowed_compute_sizes: Some("nano,micro".into()),
            ..Default::default()
        })
        .unwrap();
    let r = healthy_project(&client, "free-addons-org", None).await;
    let addons = client.project_addons(&r).await.unwrap();
    let names: Vec<String> = addons
        .available_compute_sizes()
        .iter()
        .map(|s| s.name().to_owned())
        .collect();
    assert_eq!(names, ["nano", "micro"]);
    let large = ApplyAddonBody {
        addon_variant: "ci_large".into(),
        addon_type: "compute_instance".into(),
    };
    let err = client.apply_project_addon(&r, &large).await.unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    let text = err.to_string();
    assert!(text.contains("large") && text.contains(&r), "{text}");
    assert_eq!(status(&client, &r).await, ProjectStatus::ActiveHealthy);

    // Every call fails with a 5xx: the read is retried, the change is sent once.
    standin
        .set_faults(FaultsPatch {
            error_rate_5xx: Some(1.0),
            ..Default::default()
        })
        .unwrap();
    standin.reset_stats();
    let micro = ApplyAddonBody {
        addon_variant: "ci_micro".into(),
        addon_type: "compute_instance".into(),
    };
    assert!(
        client
            .apply_project_addon(&r, &micro)
            .await
            .unwrap_err()
            .is_transient()
    );
    assert_eq!(
        standin.stats().calls(PATCH),
        1,
        "a change is not resent blindly"
    );
    assert!(client.project_addons(&r).await.is_err());
    assert_eq!(standin.stats().calls(LIST), 4, "reads are retried");
    standin
        .set_faults(FaultsPatch {
            error_rate_5xx: Some(0.0),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        client
            .project_addons(&r)
            .await
            .unwrap()
            .compute_size()
            .name(),
        "nano"
    );
    standin.shutdown().await.unwrap();
}
