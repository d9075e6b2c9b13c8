//! The git CLI backend over git's ssh transport. No sshd here: `GIT_SSH_COMMAND` (taken from the
//! process environment, as a deployment would set it) names a small program that plays the network
//! hop and runs the requested `git-upload-pack` / `git-receive-pack` locally, logging each call.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::git_scenarios::{self as s, Remote};
use stagesub_gitops::{CommitMode, Publisher};

#[test]
fn ssh_remote_through_the_process_environment() {
    let dir = tempfile::tempdir().unwrap();
    let repo = common::bare_repo(&dir.path().join("infra.git"));
    let log = dir.path().join("ssh.log");
    let fake_ssh = dir.path().join("fake-ssh");
    // ssh's last argument is the remote command, e.g. `git-receive-pack '/path/infra.git'`.
    std::fs::write(
        &fake_ssh,
        format!(
            "#!/bin/sh\nfor last; do :; done\necho \"$*\" >> '{}'\nexec sh -c \"$last\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake_ssh, std::fs::Permissions::from_mode(0o755)).unwrap();
    // Set before any thread exists: this test runs in its own process (nextest) and builds its
    // runtime afterwards.
    unsafe { std::env::set_var("GIT_SSH_COMMAND", &fake_ssh) };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for (url, subdomain) in [
            (
                format!("ssh://deploy@infra.stagesub.test{}", repo.display()),
                "over-ssh-url",
            ),
            (
                format!("deploy@infra.stagesub.test:{}", repo.display()),
                "over-scp-like",
            ),
        ] {
            let remote = Remote {
                url,
                repo: repo.clone(),
            };
            let work = tempfile::tempdir().unwrap();
            let publisher = s::publisher(&remote, CommitMode::Direct, work.path());
            let change = common::change(subdomain, 1);
            let first = publisher.publish(&change).await.expect("publish over ssh");
            assert!(first.changed);
            assert_eq!(common::history(&repo, "main")[0], first.commit_sha);
            assert!(!publisher.publish(&change).await.unwrap().changed);
        }
    });
    let calls = std::fs::read_to_string(&log).expect("git went through GIT_SSH_COMMAND");
    assert!(calls.contains("infra.stagesub.test"), "{calls}");
    assert!(calls.contains("git-upload-pack"), "{calls}");
    assert!(calls.contains("git-receive-pack"), "{calls}");
}
