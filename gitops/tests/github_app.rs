//! GitHub App authentication: a JWT signed with the App key buys an installation token, which then
//! authorizes the API calls. Keys are made with the openssl CLI.

mod common;

use std::process::Command;

use common::change;
use common::github_env::{self as env, count};
use github_standin::AppConfig;
use stagesub_gitops::github::GithubAuth;
use stagesub_gitops::{CommitMode, PublishError, Publisher};

/// (private PKCS#1 PEM, public PEM).
fn rsa_keypair(dir: &std::path::Path) -> (String, String) {
    let key = dir.join("app.pem");
    let out = Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(&key)
        .arg("2048")
        .output()
        .expect("the openssl CLI is installed (Debian package openssl)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let public = Command::new("openssl")
        .args(["rsa", "-pubout", "-in"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(public.status.success());
    (
        std::fs::read_to_string(&key).unwrap(),
        String::from_utf8(public.stdout).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_installation_token_authorizes_publishing() {
    let dir = tempfile::tempdir().unwrap();
    let (private_key_pem, public_key_pem) = rsa_keypair(dir.path());
    let standin = env::standin(
        dir.path(),
        Some(AppConfig {
            app_id: 4242,
            public_key_pem,
            installation_id: 77,
        }),
    )
    .await;
    let auth = GithubAuth::App {
        app_id: 4242,
        private_key_pem: private_key_pem.clone(),
        installation_id: 77,
    };
    assert!(!format!("{auth:?}").contains("PRIVATE KEY"));
    let publisher = env::publisher_with(&standin, CommitMode::PullRequest, auth);
    assert!(!format!("{publisher:?}").contains("PRIVATE KEY"));
    let first = publisher
        .publish(&change("app-orch", 1))
        .await
        .expect("publish with App auth");
    assert!(first.changed && first.pull_request_url.is_some());
    let second = publisher.publish(&change("app-orch", 1)).await.unwrap();
    assert!(!second.changed);
    let requests = standin.requests();
    assert_eq!(
        count(
            &requests,
            "POST",
            "/app/installations/77/access_tokens",
            Some(201)
        ),
        1,
        "token cached: {requests:?}"
    );
    assert!(requests.iter().all(|r| r.status != 401), "{requests:?}");
    assert_eq!(standin.pull_requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_app_key_or_installation_is_permanent() {
    let dir = tempfile::tempdir().unwrap();
    let (_, public_key_pem) = rsa_keypair(dir.path());
    let other = tempfile::tempdir().unwrap();
    let (wrong_private, _) = rsa_keypair(other.path());
    let (right_private, _) = {
        let key = std::fs::read_to_string(dir.path().join("app.pem")).unwrap();
        (key, ())
    };
    let standin = env::standin(
        dir.path(),
        Some(AppConfig {
            app_id: 4242,
            public_key_pem,
            installation_id: 77,
        }),
    )
    .await;
    for (key, installation) in [(wrong_private.clone(), 77), (right_private, 78)] {
        let auth = GithubAuth::App {
            app_id: 4242,
            private_key_pem: key,
            installation_id: installation,
        };
        let publisher = env::publisher_with(&standin, CommitMode::PullRequest, auth);
        match publisher.publish(&change("app-orch", 1)).await {
            Err(PublishError::Permanent(m)) => {
                assert!(m.contains("GITHUB_APP_ID"), "{m}");
                assert!(!m.contains("PRIVATE KEY"), "{m}");
            }
            other => panic!("expected permanent, got {other:?}"),
        }
    }
    let bad_pem = GithubAuth::App {
        app_id: 1,
        private_key_pem: "not a key".into(),
        installation_id: 1,
    };
    let err =
        stagesub_gitops::github::GithubPublisher::new(stagesub_gitops::github::GithubConfig {
            api_url: standin.url(),
            repository: "acme/infra".into(),
            auth: bad_pem,
            base_branch: "main".into(),
            mode: CommitMode::PullRequest,
        })
        .unwrap_err();
    assert!(err.to_string().contains("GITHUB_APP_PRIVATE_KEY"), "{err}");
}
