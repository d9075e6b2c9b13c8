//! The GitHub backend against the stand-in: one branch, one commit and one pull request per tenant,
//! whatever the duplicates and replicas.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::github_env::{self as env, count};
use common::{change, publish_until_ok};
use stagesub_gitops::github::{GithubAuth, GithubConfig, GithubPublisher};
use stagesub_gitops::{CommitMode, PublishError, Publisher};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_pull_request_per_tenant_across_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let standin = env::standin(dir.path(), None).await;
    let repo = standin.repo().dir().to_path_buf();
    let publisher = env::publisher(&standin, CommitMode::PullRequest);
    let change = change("berlin-phil", 1);
    let main_before = common::history(&repo, "main");

    let first = publisher.publish(&change).await.expect("publish");
    assert!(first.changed);
    assert_eq!(first.branch, "stagesub/berlin-phil");
    let url = first.pull_request_url.clone().expect("a pull request");
    assert!(url.ends_with("/acme/infra/pull/1"), "{url}");
    let branch = common::history(&repo, "stagesub/berlin-phil");
    assert_eq!(branch.len(), main_before.len() + 1);
    assert_eq!(branch[0], first.commit_sha);
    assert_eq!(
        common::file(&repo, "stagesub/berlin-phil", &change.path).as_deref(),
        Some(change.content.as_str())
    );
    assert_eq!(
        common::history(&repo, "main"),
        main_before,
        "base untouched"
    );

    for _ in 0..5 {
        let again = publisher.publish(&change).await.expect("duplicate");
        assert!(!again.changed);
        assert_eq!(again.commit_sha, first.commit_sha);
        assert_eq!(again.pull_request_url.as_deref(), Some(url.as_str()));
    }
    let prs = standin.pull_requests();
    assert_eq!(prs.len(), 1);
    assert_eq!(
        (prs[0].head.as_str(), prs[0].base.as_str()),
        ("stagesub/berlin-phil", "main")
    );
    assert_eq!(prs[0].title, change.pr_title);
    assert_eq!(prs[0].body, change.pr_body);
    let requests = standin.requests();
    assert_eq!(
        count(&requests, "PUT", "/contents/", None),
        1,
        "one contents write"
    );
    assert_eq!(
        count(&requests, "POST", "/git/refs", None),
        1,
        "one branch creation"
    );
    assert_eq!(
        count(&requests, "POST", "/pulls", None),
        1,
        "one pull request creation"
    );

    // A changed tenant: one more commit on the same branch, same pull request.
    let updated = publisher
        .publish(&common::change("berlin-phil", 2))
        .await
        .unwrap();
    assert!(updated.changed);
    assert_eq!(updated.pull_request_url.as_deref(), Some(url.as_str()));
    let branch_now = common::history(&repo, "stagesub/berlin-phil");
    assert_eq!(branch_now.len(), branch.len() + 1);
    assert_eq!(branch_now[1], first.commit_sha);
    assert_eq!(standin.pull_requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_at_once_one_commit_and_pr_per_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let standin = env::standin(dir.path(), None).await;
    let repo = standin.repo().dir().to_path_buf();
    let main_len = common::history(&repo, "main").len();
    // Two replicas: separate clients, separate write locks (as in two processes).
    let replicas = [
        Arc::new(env::publisher(&standin, CommitMode::PullRequest).with_private_write_lock()),
        Arc::new(env::publisher(&standin, CommitMode::PullRequest).with_private_write_lock()),
    ];
    let tenants = ["alpha-orch", "beta-orch", "gamma-orch"];
    let mut tasks = Vec::new();
    for round in 0..6 {
        for (i, tenant) in tenants.iter().enumerate() {
            let publisher = replicas[(round + i) % 2].clone();
            let change = change(tenant, 1);
            tasks.push(tokio::spawn(async move {
                publish_until_ok(
                    publisher.as_ref(),
                    &change,
                    Duration::from_millis(50),
                    Duration::from_secs(60),
                )
                .await
                .0
            }));
        }
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let prs = standin.pull_requests();
    assert_eq!(
        prs.len(),
        tenants.len(),
        "one pull request per tenant: {prs:?}"
    );
    for tenant in tenants {
        let branch = format!("stagesub/{tenant}");
        let commits = common::history(&repo, &branch);
        assert_eq!(commits.len(), main_len + 1, "one commit on {branch}");
        let mine: Vec<_> = results.iter().filter(|r| r.branch == branch).collect();
        assert_eq!(mine.len(), 6);
        assert!(mine.iter().all(|r| r.commit_sha == commits[0]));
        assert_eq!(mine.iter().filter(|r| r.changed).count(), 1);
        let urls: std::collections::HashSet<_> = mine
            .iter()
            .map(|r| r.pull_request_url.clone().unwrap())
            .collect();
        assert_eq!(
            urls.len(),
            1,
            "every delivery reports the same pull request"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_mode_commits_on_base_without_pull_request() {
    let dir = tempfile::tempdir().unwrap();
    let standin = env::standin(dir.path(), None).await;
    let repo = standin.repo().dir().to_path_buf();
    let publisher = env::publisher(&standin, CommitMode::Direct);
    let before = common::history(&repo, "main");
    let (a, b) = (change("alpha-orch", 1), change("beta-orch", 1));
    let (ra, rb) = tokio::join!(publisher.publish(&a), publisher.publish(&b));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert!(ra.changed && rb.changed);
    assert_eq!(
        (ra.branch.as_str(), ra.pull_request_url.as_deref()),
        ("main", None)
    );
    assert_eq!(common::history(&repo, "main").len(), before.len() + 2);
    assert_eq!(
        common::file(&repo, "main", &a.path).as_deref(),
        Some(a.content.as_str())
    );
    assert_eq!(
        common::file(&repo, "main", &b.path).as_deref(),
        Some(b.content.as_str())
    );
    let again = publisher.publish(&a).await.unwrap();
    assert!(!again.changed);
    assert!(standin.pull_requests().is_empty());
    assert_eq!(count(&standin.requests(), "POST", "/git/refs", None), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_change_needs_no_branch() {
    let dir = tempfile::tempdir().unwrap();
    let standin = env::standin(dir.path(), None).await;
    let change = change("merged-one", 1);
    // The content is already on main (say, the PR was merged and its branch deleted).
    env::publisher(&standin, CommitMode::Direct)
        .publish(&change)
        .await
        .unwrap();
    let published = env::publisher(&standin, CommitMode::PullRequest)
        .publish(&change)
        .await
        .unwrap();
    assert!(!published.changed);
    assert_eq!(
        (published.branch.as_str(), published.pull_request_url),
        ("main", None)
    );
    assert!(common::history(standin.repo().dir(), "stagesub/merged-one").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_token_is_permanent_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let standin = env::standin(dir.path(), None).await;
    let secret = "ghp_wrongSECRETvalue42";
    let publisher = env::publisher_with(
        &standin,
        CommitMode::PullRequest,
        GithubAuth::Token(secret.into()),
    );
    assert!(!format!("{publisher:?}").contains(secret));
    let config_debug = format!(
        "{:?}",
        GithubConfig {
            api_url: standin.url(),
            repository: "acme/infra".into(),
            auth: GithubAuth::Token(secret.into()),
            base_branch: "main".into(),
            mode: CommitMode::Direct,
        }
    );
    assert!(!config_debug.contains(secret), "{config_debug}");
    match publisher.publish(&change("xy1", 1)).await {
        Err(PublishError::Permanent(m)) => {
            assert!(m.contains("401") && m.contains("GITHUB_TOKEN"), "{m}");
            assert!(!m.contains(secret), "{m}");
        }
        other => panic!("expected permanent, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_repository_and_bad_config_are_permanent() {
    let dir = tempfile::tempdir().unwrap();
    let standin = env::standin(dir.path(), None).await;
    let config = |repository: &str| GithubConfig {
        api_url: standin.url(),
        repository: repository.into(),
        auth: GithubAuth::Token(env::TOKEN.into()),
        base_branch: "main".into(),
        mode: CommitMode::PullRequest,
    };
    let missing = GithubPublisher::new(config("acme/nope")).unwrap();
    match missing.publish(&change("xy1", 1)).await {
        Err(PublishError::Permanent(m)) => assert!(m.contains("GITHUB_REPOSITORY"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(
        GithubPublisher::new(config("no-slash"))
            .unwrap_err()
            .to_string()
            .contains("owner/repo")
    );
    let mut empty = config("acme/infra");
    empty.auth = GithubAuth::Token(" ".into());
    assert!(
        GithubPublisher::new(empty)
            .unwrap_err()
            .to_string()
            .contains("GITHUB_TOKEN")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_api_is_transient() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let publisher = GithubPublisher::new(GithubConfig {
        api_url: format!("http://127.0.0.1:{port}"),
        repository: "acme/infra".into(),
        auth: GithubAuth::Token(env::TOKEN.into()),
        base_branch: "main".into(),
        mode: CommitMode::PullRequest,
    })
    .unwrap();
    match publisher.publish(&change("xy1", 1)).await {
        Err(e @ PublishError::Transient { .. }) => {
            assert!(!e.to_string().contains(env::TOKEN), "{e}")
        }
        other => panic!("{other:?}"),
    }
}

/// A tenant file at the single-root path `tenants/<sub>.tf` moves to `tenants/<sub>/main.tf` in ONE
/// commit (git data API: tree, commit, fast-forward of the branch), in both commit modes; the pull
/// request shows the move; publishing again changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flat_tenant_file_moves_in_one_commit() {
    for mode in [CommitMode::Direct, CommitMode::PullRequest] {
        let dir = tempfile::tempdir().unwrap();
        let standin = env::standin(dir.path(), None).await;
        let repo = standin.repo().dir().to_path_buf();
        let mut legacy = change("flat-hub", 1);
        legacy.path = "tenants/flat-hub.tf".into();
        legacy.remove.clear();
        env::publisher(&standin, CommitMode::Direct)
            .publish(&legacy)
            .await
            .unwrap();
        let publisher = env::publisher(&standin, mode);
        let moved = change("flat-hub", 2);
        let first = publisher.publish(&moved).await.unwrap();
        assert!(first.changed, "{mode:?}");
        let mut files = common::changed_files(&repo, &first.commit_sha);
        files.sort();
        assert_eq!(
            files,
            vec![
                "tenants/flat-hub.tf".to_owned(),
                "tenants/flat-hub/main.tf".to_owned()
            ],
            "{mode:?}: one commit moves the file"
        );
        assert_eq!(common::file(&repo, &first.branch, &legacy.path), None);
        assert_eq!(
            common::file(&repo, &first.branch, &moved.path).as_deref(),
            Some(moved.content.as_str())
        );
        if mode == CommitMode::PullRequest {
            assert_eq!(first.branch, "stagesub/flat-hub");
            assert!(first.pull_request_url.is_some());
            assert!(
                common::file(&repo, "main", &legacy.path).is_some(),
                "the base keeps the old file until the pull request is merged"
            );
        }
        let again = publisher.publish(&moved).await.unwrap();
        assert!(!again.changed, "{mode:?}");
        assert_eq!(again.commit_sha, first.commit_sha);
        assert_eq!(
            standin.pull_requests().len(),
            usize::from(mode == CommitMode::PullRequest)
        );
    }
}
