//! The git CLI backend against a real bare repository over smart HTTP (lighttpd + git http-backend).

mod common;

use common::HttpGitServer;
use common::git_scenarios::{self as s, Remote};
use stagesub_gitops::CommitMode;

fn serve(dir: &tempfile::TempDir) -> (HttpGitServer, Remote) {
    let repo = common::bare_repo(&dir.path().join("infra.git"));
    let server = HttpGitServer::start(dir.path());
    let url = server.url("infra.git");
    (server, Remote { url, repo })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_mode_one_commit_and_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, remote) = serve(&dir);
    s::one_change_one_commit(&remote, CommitMode::Direct).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_request_mode_commits_on_tenant_branch() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, remote) = serve(&dir);
    s::one_change_one_commit(&remote, CommitMode::PullRequest).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_replicas_hundred_deliveries_one_commit() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, remote) = serve(&dir);
    s::replicas_deliver_duplicates(&remote, CommitMode::PullRequest).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tenants_all_land_on_main() {
    let dir = tempfile::tempdir().unwrap();
    let (_server, remote) = serve(&dir);
    s::tenants_race_on_main(&remote).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_repository_is_permanent_without_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _remote) = serve(&dir);
    let url = server
        .url("missing.git")
        .replace("http://", "http://deploy:s3cr3t@");
    s::permanent_failures(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_credentials_work_and_wrong_ones_are_permanent_and_hidden() {
    use stagesub_gitops::{PublishError, Publisher};
    let dir = tempfile::tempdir().unwrap();
    let repo = common::bare_repo(&dir.path().join("infra.git"));
    let server = HttpGitServer::start_with_auth(dir.path(), Some(("deploy", "right-pass-123")));
    let with = |password: &str| {
        server
            .url("infra.git")
            .replace("http://", &format!("http://deploy:{password}@"))
    };

    let good = Remote {
        url: with("right-pass-123"),
        repo: repo.clone(),
    };
    let work = tempfile::tempdir().unwrap();
    let publisher = s::publisher(&good, CommitMode::Direct, &work.path().join("good"));
    let published = publisher
        .publish(&common::change("authed", 1))
        .await
        .expect("publish with credentials");
    assert!(published.changed);
    assert_eq!(common::history(&repo, "main")[0], published.commit_sha);

    let bad = Remote {
        url: with("wrong-pass-456"),
        repo: repo.clone(),
    };
    let publisher = s::publisher(&bad, CommitMode::Direct, &work.path().join("bad"));
    match publisher.publish(&common::change("authed", 2)).await {
        Err(PublishError::Permanent(m)) => {
            assert!(!m.contains("wrong-pass-456"), "{m}");
            assert!(
                m.to_lowercase().contains("authentication") || m.contains("401"),
                "{m}"
            );
        }
        other => panic!("expected a permanent auth failure, got {other:?}"),
    }
    let anonymous = Remote {
        url: server.url("infra.git"),
        repo,
    };
    let publisher = s::publisher(&anonymous, CommitMode::Direct, &work.path().join("anon"));
    assert!(matches!(
        publisher.publish(&common::change("authed", 3)).await,
        Err(PublishError::Permanent(_))
    ));
}
