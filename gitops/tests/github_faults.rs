//! The GitHub backend under injected faults: 5xx, rate limits (429 and 403) and writes whose answer is
//! lost. They may delay a publish, never duplicate or lose it.

mod common;

use std::time::Duration;

use common::github_env::{self as env, count};
use common::{change, publish_until_ok};
use github_standin::{Faults, RunningStandin};
use stagesub_gitops::{CommitMode, PublishError};

/// The tenant's branch has exactly one commit over main, holding the content; one PR.
fn assert_single_outcome(standin: &RunningStandin, subdomain: &str, content: &str) {
    let repo = standin.repo().dir();
    let branch = format!("stagesub/{subdomain}");
    let commits = common::history(repo, &branch);
    assert_eq!(
        commits.len(),
        common::history(repo, "main").len() + 1,
        "one commit on {branch}"
    );
    assert_eq!(
        common::file(repo, &branch, &format!("tenants/{subdomain}/main.tf")).as_deref(),
        Some(content)
    );
    let prs: Vec<_> = standin
        .pull_requests()
        .into_iter()
        .filter(|p| p.head == branch)
        .collect();
    assert_eq!(prs.len(), 1, "one pull request for {branch}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_delay_but_never_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let standin = env::standin(dir.path(), None).await;
    standin.set_faults(Faults {
        error_rate_5xx: 0.4,
        seed: Some(7),
        ..Faults::default()
    });
    let publisher = env::publisher(&standin, CommitMode::PullRequest);
    for tenant in ["alpha-orch", "beta-orch", "gamma-orch"] {
        let change = change(tenant, 1);
        for _ in 0..3 {
            publish_until_ok(
                &publisher,
                &change,
                Duration::from_millis(10),
                Duration::from_secs(60),
            )
            .await;
        }
        assert_single_outcome(&standin, tenant, &change.content);
    }
    let requests = standin.requests();
    let failed = requests
        .iter()
        .filter(|r| r.status == 502 || r.status == 503)
        .count();
    assert!(failed >= 5, "the knob injected server errors ({failed})");
    assert_eq!(
        count(&requests, "PUT", "/contents/", Some(201)),
        3,
        "one successful write per tenant"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_after_writes_are_survived() {
    let dir = tempfile::tempdir().unwrap();
    let standin = env::standin(dir.path(), None).await;
    // Every write happens, then the client is told 502.
    standin.set_faults(Faults {
        fail_after_write: 1000,
        ..Faults::default()
    });
    let publisher = env::publisher(&standin, CommitMode::PullRequest);
    let change = change("lost-answers", 1);
    let (published, transient) = publish_until_ok(
        &publisher,
        &change,
        Duration::from_millis(10),
        Duration::from_secs(30),
    )
    .await;
    assert!(
        transient.len() >= 3,
        "ref, contents and pull creation were each answered 502: {transient:?}"
    );
    assert!(published.pull_request_url.is_some());
    assert_single_outcome(&standin, "lost-answers", &change.content);
    let requests = standin.requests();
    let writes: Vec<_> = requests.iter().filter(|r| r.wrote).collect();
    assert_eq!(writes.len(), 3, "each write done once: {writes:?}");
    assert!(writes.iter().all(|r| r.status == 502));
    let commits = common::history(standin.repo().dir(), "stagesub/lost-answers");
    assert_eq!(published.commit_sha, commits[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_429_gives_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let standin = env::standin(dir.path(), None).await;
    standin.set_faults(Faults {
        rate_limit_after: Some(2),
        rate_limit_seconds: Some(2),
        ..Faults::default()
    });
    let publisher = env::publisher(&standin, CommitMode::PullRequest);
    let change = change("limited-one", 1);
    let (published, transient) = publish_until_ok(
        &publisher,
        &change,
        Duration::from_secs(3),
        Duration::from_secs(30),
    )
    .await;
    assert!(published.changed || published.pull_request_url.is_some());
    let waits: Vec<Duration> = transient
        .iter()
        .filter_map(|e| match e {
            PublishError::Transient { retry_after, .. } => *retry_after,
            PublishError::Permanent(_) => None,
        })
        .collect();
    assert!(
        !waits.is_empty(),
        "the third write was limited: {transient:?}"
    );
    assert!(
        waits
            .iter()
            .all(|w| *w >= Duration::from_secs(1) && *w <= Duration::from_secs(2)),
        "{waits:?}"
    );
    assert!(standin.requests().iter().any(|r| r.status == 429));
    assert_single_outcome(&standin, "limited-one", &change.content);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_403_without_retry_after_uses_reset() {
    let dir = tempfile::tempdir().unwrap();
    let standin = env::standin(dir.path(), None).await;
    standin.set_faults(Faults {
        rate_limit_after: Some(1),
        rate_limit_seconds: Some(2),
        rate_limit_status: Some(403),
        rate_limit_retry_after: Some(false),
        ..Faults::default()
    });
    let publisher = env::publisher(&standin, CommitMode::PullRequest);
    let change = change("reset-one", 1);
    let (_, transient) = publish_until_ok(
        &publisher,
        &change,
        Duration::from_secs(3),
        Duration::from_secs(40),
    )
    .await;
    let limited: Vec<_> = transient
        .iter()
        .filter_map(|e| match e {
            PublishError::Transient {
                retry_after: Some(w),
                message,
            } if message.contains("403") => Some(*w),
            _ => None,
        })
        .collect();
    assert!(
        !limited.is_empty(),
        "403 rate limits are transient with a wait: {transient:?}"
    );
    assert!(
        limited
            .iter()
            .all(|w| *w >= Duration::from_secs(1) && *w <= Duration::from_secs(3)),
        "{limited:?}"
    );
    assert_single_outcome(&standin, "reset-one", &change.content);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_api_with_two_replicas_still_one_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let standin = env::standin(dir.path(), None).await;
    standin.set_faults(Faults {
        latency_ms: 15,
        error_rate_5xx: 0.15,
        seed: Some(3),
        ..Faults::default()
    });
    let a = env::publisher(&standin, CommitMode::PullRequest).with_private_write_lock();
    let b = env::publisher(&standin, CommitMode::PullRequest).with_private_write_lock();
    let change = change("two-replicas", 1);
    let cap = Duration::from_millis(20);
    let limit = Duration::from_secs(60);
    let (ra, rb) = tokio::join!(
        publish_until_ok(&a, &change, cap, limit),
        publish_until_ok(&b, &change, cap, limit)
    );
    assert_eq!(ra.0.commit_sha, rb.0.commit_sha);
    assert_eq!(ra.0.pull_request_url, rb.0.pull_request_url);
    assert_single_outcome(&standin, "two-replicas", &change.content);
}
