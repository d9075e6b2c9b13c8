//! Scenarios for the git CLI backend, run against any remote URL whose bare repository is at hand.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use stagesub_gitops::git::{GitCliConfig, GitCliPublisher};
use stagesub_gitops::{CommitMode, PublishError, Publisher};

use super::{change, changed_files, file, history, publish_until_ok};

/// A remote under test: the URL publishers use and the bare repository it reaches.
pub struct Remote {
    pub url: String,
    pub repo: PathBuf,
}

pub fn publisher(remote: &Remote, mode: CommitMode, work: &Path) -> GitCliPublisher {
    GitCliPublisher::new(GitCliConfig {
        remote_url: remote.url.clone(),
        base_branch: "main".into(),
        mode,
        work_dir: work.to_path_buf(),
        author_name: "stagesub".into(),
        author_email: "bot@stagesub.test".into(),
    })
    .expect("publisher")
}

/// One change makes exactly one commit holding the file; the same change again makes none.
pub async fn one_change_one_commit(remote: &Remote, mode: CommitMode) {
    let work = tempfile::tempdir().unwrap();
    let publisher = publisher(remote, mode, &work.path().join("cache"));
    let change = change("berlin-phil", 1);
    let branch = if mode == CommitMode::Direct {
        "main".to_owned()
    } else {
        "stagesub/berlin-phil".to_owned()
    };
    let main_before = history(&remote.repo, "main");

    let first = publisher.publish(&change).await.expect("first publish");
    assert!(first.changed);
    assert_eq!(first.branch, branch);
    assert_eq!(first.pull_request_url, None);
    let after = history(&remote.repo, &branch);
    assert_eq!(
        after.len(),
        main_before.len() + 1,
        "exactly one new commit on {branch}"
    );
    assert_eq!(after[0], first.commit_sha);
    assert_eq!(after[1], main_before[0], "built on the base head");
    assert_eq!(
        changed_files(&remote.repo, &first.commit_sha),
        vec![change.path.clone()]
    );
    assert_eq!(
        file(&remote.repo, &branch, &change.path).as_deref(),
        Some(change.content.as_str())
    );
    let message = super::git(
        &remote.repo,
        &["log", "-1", "--format=%s|%an|%ae", &first.commit_sha],
    );
    assert_eq!(
        message,
        "Provision berlin-phil (v1)|stagesub|bot@stagesub.test"
    );
    if mode == CommitMode::PullRequest {
        assert_eq!(
            history(&remote.repo, "main"),
            main_before,
            "PR mode leaves the base branch alone"
        );
    }

    let again = publisher.publish(&change).await.expect("repeat publish");
    assert!(!again.changed, "same content: no commit");
    assert_eq!(again.commit_sha, first.commit_sha);
    assert_eq!(again.branch, branch);
    assert_eq!(history(&remote.repo, &branch), after);

    // A fresh replica (empty cache) sees the same thing.
    let other = tempfile::tempdir().unwrap();
    let replica = self::publisher(remote, mode, other.path());
    let seen = replica.publish(&change).await.expect("replica publish");
    assert_eq!(
        (seen.changed, seen.commit_sha.as_str()),
        (false, first.commit_sha.as_str())
    );

    // New content for the tenant: one more commit, on top of the previous one.
    let updated = publisher
        .publish(&super::change("berlin-phil", 2))
        .await
        .expect("update");
    assert!(updated.changed);
    let history_now = history(&remote.repo, &branch);
    assert_eq!(history_now.len(), after.len() + 1);
    assert_eq!(history_now[1], first.commit_sha);
}

/// 8 replicas (own work dirs) deliver the same change 100 times at once: one commit.
pub async fn replicas_deliver_duplicates(remote: &Remote, mode: CommitMode) {
    let work = tempfile::tempdir().unwrap();
    let publishers: Vec<Arc<GitCliPublisher>> = (0..8)
        .map(|i| {
            Arc::new(publisher(
                remote,
                mode,
                &work.path().join(format!("replica-{i}")),
            ))
        })
        .collect();
    let change = change("vienna-sym", 1);
    let branch = if mode == CommitMode::Direct {
        "main"
    } else {
        "stagesub/vienna-sym"
    };
    let before = history(&remote.repo, "main").len();
    let mut tasks = Vec::new();
    for delivery in 0..100 {
        let publisher = publishers[delivery % 8].clone();
        let change = change.clone();
        tasks.push(tokio::spawn(async move {
            publish_until_ok(
                publisher.as_ref(),
                &change,
                Duration::from_millis(50),
                Duration::from_secs(120),
            )
            .await
            .0
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let commits = history(&remote.repo, branch);
    assert_eq!(commits.len(), before + 1, "100 deliveries, one commit");
    assert_eq!(
        results.iter().filter(|r| r.changed).count(),
        1,
        "exactly one delivery made the commit"
    );
    assert!(
        results.iter().all(|r| r.commit_sha == commits[0]),
        "all report the commit that holds the file"
    );
    assert_eq!(
        file(&remote.repo, branch, &change.path).as_deref(),
        Some(change.content.as_str())
    );
}

/// Different tenants published at once by different replicas, straight onto main: all land, one
/// commit each (rejected pushes are re-applied on the new tip).
pub async fn tenants_race_on_main(remote: &Remote) {
    let work = tempfile::tempdir().unwrap();
    let before = history(&remote.repo, "main").len();
    let names: Vec<String> = (0..6).map(|i| format!("tenant-{i}")).collect();
    let mut tasks = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let publisher = publisher(
            remote,
            CommitMode::Direct,
            &work.path().join(format!("r{i}")),
        );
        let change = change(name, 1);
        tasks.push(tokio::spawn(async move {
            publish_until_ok(
                &publisher,
                &change,
                Duration::from_millis(50),
                Duration::from_secs(120),
            )
            .await
            .0
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap().changed);
    }
    let commits = history(&remote.repo, "main");
    assert_eq!(
        commits.len(),
        before + names.len(),
        "one commit per tenant, none lost"
    );
    for name in &names {
        let path = format!("tenants/{name}/main.tf");
        assert_eq!(
            file(&remote.repo, "main", &path).as_deref(),
            Some(change(name, 1).content.as_str())
        );
    }
    // Linear history, each commit touching exactly one tenant file.
    for commit in &commits[..names.len()] {
        assert_eq!(changed_files(&remote.repo, commit).len(), 1);
    }
}

/// In PR mode, two tenants publishing at once get two branches, and main is untouched.
pub async fn tenants_get_own_branches(remote: &Remote) {
    let work = tempfile::tempdir().unwrap();
    let main_before = history(&remote.repo, "main");
    let a = publisher(remote, CommitMode::PullRequest, &work.path().join("a"));
    let b = publisher(remote, CommitMode::PullRequest, &work.path().join("b"));
    let (ca, cb) = (change("alpha-orch", 1), change("beta-orch", 1));
    let (ra, rb) = tokio::join!(a.publish(&ca), b.publish(&cb));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(
        (ra.branch.as_str(), rb.branch.as_str()),
        ("stagesub/alpha-orch", "stagesub/beta-orch")
    );
    assert_eq!(
        history(&remote.repo, "stagesub/alpha-orch")[1..],
        main_before[..]
    );
    assert_eq!(
        history(&remote.repo, "stagesub/beta-orch")[1..],
        main_before[..]
    );
    assert_eq!(
        file(
            &remote.repo,
            "stagesub/alpha-orch",
            "tenants/beta-orch/main.tf"
        ),
        None
    );
    assert_eq!(history(&remote.repo, "main"), main_before);
}

/// Bad input and unusable remotes fail clearly, without credentials in the message.
pub async fn permanent_failures(missing_url: &str) {
    let work = tempfile::tempdir().unwrap();
    let remote = Remote {
        url: missing_url.to_owned(),
        repo: PathBuf::new(),
    };
    let p = publisher(&remote, CommitMode::Direct, work.path());
    match p.publish(&change("gone", 1)).await {
        Err(PublishError::Permanent(m)) => assert!(!m.contains("s3cr3t"), "{m}"),
        other => panic!("expected a permanent error for a missing repository, got {other:?}"),
    }
    let mut bad = change("ok-name", 1);
    bad.path = "../outside.tf".into();
    assert!(
        matches!(p.publish(&bad).await, Err(PublishError::Permanent(m)) if m.contains("outside"))
    );
}

/// A tenant whose file is at the single-root path `tenants/<sub>.tf` (the layout before one root
/// module per tenant): the next publish writes `tenants/<sub>/main.tf` and deletes the old file in
/// the same commit, so the tenant is never defined twice; publishing again changes nothing.
pub async fn moves_a_flat_tenant_file(remote: &Remote, mode: CommitMode) {
    let work = tempfile::tempdir().unwrap();
    let mut legacy = change("flat-band", 1);
    legacy.path = "tenants/flat-band.tf".into();
    legacy.remove.clear();
    publisher(remote, CommitMode::Direct, &work.path().join("seed"))
        .publish(&legacy)
        .await
        .expect("seed the old layout");
    let publisher = publisher(remote, mode, &work.path().join("cache"));
    let moved = super::change("flat-band", 2);
    assert_eq!(moved.remove, vec![legacy.path.clone()]);
    let first = publisher.publish(&moved).await.expect("publish");
    assert!(first.changed);
    let mut files = changed_files(&remote.repo, &first.commit_sha);
    files.sort();
    assert_eq!(
        files,
        vec![
            "tenants/flat-band.tf".to_owned(),
            "tenants/flat-band/main.tf".to_owned()
        ],
        "one commit adds the new file and deletes the old one"
    );
    assert_eq!(file(&remote.repo, &first.branch, &legacy.path), None);
    assert_eq!(
        file(&remote.repo, &first.branch, &moved.path).as_deref(),
        Some(moved.content.as_str())
    );
    let again = publisher.publish(&moved).await.expect("repeat");
    assert!(!again.changed);
    assert_eq!(again.commit_sha, first.commit_sha);
}
