//! The git CLI backend against a real bare repository over `file://`.

mod common;

use common::git_scenarios::{self as s, Remote};
use stagesub_gitops::CommitMode;
use stagesub_gitops::git::{GitCliConfig, GitCliPublisher};
use stagesub_gitops::{PublishError, Publisher};

fn remote(dir: &tempfile::TempDir) -> Remote {
    let repo = common::bare_repo(&dir.path().join("infra.git"));
    Remote {
        url: format!("file://{}", repo.display()),
        repo,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_mode_one_commit_and_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    s::one_change_one_commit(&remote(&dir), CommitMode::Direct).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_request_mode_commits_on_tenant_branch() {
    let dir = tempfile::tempdir().unwrap();
    s::one_change_one_commit(&remote(&dir), CommitMode::PullRequest).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_replicas_hundred_deliveries_one_commit() {
    let dir = tempfile::tempdir().unwrap();
    s::replicas_deliver_duplicates(&remote(&dir), CommitMode::PullRequest).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_replicas_hundred_deliveries_one_commit_direct() {
    let dir = tempfile::tempdir().unwrap();
    s::replicas_deliver_duplicates(&remote(&dir), CommitMode::Direct).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tenants_all_land_on_main() {
    let dir = tempfile::tempdir().unwrap();
    s::tenants_race_on_main(&remote(&dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tenants_get_their_own_branches() {
    let dir = tempfile::tempdir().unwrap();
    s::tenants_get_own_branches(&remote(&dir)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_repository_is_permanent() {
    let dir = tempfile::tempdir().unwrap();
    s::permanent_failures(&format!("file://{}/nothing-here.git", dir.path().display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_base_branch_is_permanent_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let remote = remote(&dir);
    let work = tempfile::tempdir().unwrap();
    let publisher = GitCliPublisher::new(GitCliConfig {
        remote_url: remote.url.clone(),
        base_branch: "production".into(),
        mode: CommitMode::Direct,
        work_dir: work.path().join("w"),
        author_name: "stagesub".into(),
        author_email: "bot@stagesub.test".into(),
    })
    .unwrap();
    match publisher.publish(&common::change("xy1", 1)).await {
        Err(PublishError::Permanent(m)) => assert!(m.contains("production"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_remote_is_transient_and_redacted() {
    let work = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://deploy:s3cr3t-token@127.0.0.1:{port}/infra.git");
    let publisher = GitCliPublisher::new(GitCliConfig {
        remote_url: url,
        base_branch: "main".into(),
        mode: CommitMode::Direct,
        work_dir: work.path().join("w"),
        author_name: "stagesub".into(),
        author_email: "bot@stagesub.test".into(),
    })
    .unwrap();
    assert!(!format!("{publisher:?}").contains("s3cr3t"));
    match publisher.publish(&common::change("xy1", 1)).await {
        Err(e @ PublishError::Transient { .. }) => {
            let text = e.to_string();
            assert!(!text.contains("s3cr3t"), "{text}");
            assert!(
                text.to_lowercase().contains("connect") || text.contains("refused"),
                "{text}"
            );
        }
        other => panic!("expected transient, got {other:?}"),
    }
}

#[test]
fn configuration_mistakes_are_reported() {
    let work = tempfile::tempdir().unwrap();
    let config = |url: &str, base: &str, email: &str| GitCliConfig {
        remote_url: url.into(),
        base_branch: base.into(),
        mode: CommitMode::Direct,
        work_dir: work.path().join("w"),
        author_name: "stagesub".into(),
        author_email: email.into(),
    };
    let err = |c| GitCliPublisher::new(c).unwrap_err().to_string();
    assert!(err(config("", "main", "a@b")).contains("GIT_REMOTE_URL"));
    assert!(err(config("file:///x", "bad..branch", "a@b")).contains("GIT_BASE_BRANCH"));
    assert!(err(config("file:///x", "main", "nobody")).contains("email"));
    std::fs::create_dir_all(work.path().join("busy")).unwrap();
    std::fs::write(work.path().join("busy/file"), "x").unwrap();
    let mut c = config("file:///x", "main", "a@b");
    c.work_dir = work.path().join("busy");
    assert!(err(c).contains("not empty"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_remote_times_out_as_transient() {
    // A server that accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let work = tempfile::tempdir().unwrap();
    let publisher = GitCliPublisher::new(GitCliConfig {
        remote_url: format!("http://127.0.0.1:{port}/infra.git"),
        base_branch: "main".into(),
        mode: CommitMode::Direct,
        work_dir: work.path().join("w"),
        author_name: "stagesub".into(),
        author_email: "bot@stagesub.test".into(),
    })
    .unwrap()
    .with_network_timeout(std::time::Duration::from_secs(2));
    let started = std::time::Instant::now();
    match publisher.publish(&common::change("xy1", 1)).await {
        Err(PublishError::Transient { message, .. }) => {
            assert!(message.contains("did not finish within 2 s"), "{message}")
        }
        other => panic!("expected a transient timeout, got {other:?}"),
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    drop(listener);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flat_tenant_file_moves_in_one_commit() {
    for mode in [CommitMode::Direct, CommitMode::PullRequest] {
        let dir = tempfile::tempdir().unwrap();
        s::moves_a_flat_tenant_file(&remote(&dir), mode).await;
    }
}
