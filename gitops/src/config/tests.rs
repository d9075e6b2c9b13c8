use std::collections::HashMap;

use super::*;

fn read(vars: &[(&str, &str)]) -> Result<PublisherConfig, ConfigError> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    PublisherConfig::from_lookup(|k| map.get(k).cloned())
}

const GIT: [(&str, &str); 2] = [
    ("GIT_BACKEND", "git"),
    (
        "GIT_REMOTE_URL",
        "https://x-access-token:ghs_secret@example.org/acme/infra.git",
    ),
];
const GITHUB: [(&str, &str); 3] = [
    ("GIT_BACKEND", "github"),
    ("GITHUB_REPOSITORY", "acme/infra"),
    ("GITHUB_TOKEN", "ghp_topsecret"),
];

#[test]
fn git_backend_with_defaults() {
    let config = read(&GIT).unwrap();
    assert_eq!(config.base_branch(), "main");
    assert_eq!(config.mode(), CommitMode::PullRequest);
    assert_eq!(config.tenants_dir, "tenants");
    let Backend::Git(git) = &config.backend else {
        panic!("{config:?}")
    };
    assert_eq!(git.author_name, "stagesub-bridge");
    assert!(git.work_dir.ends_with("stagesub-bridge-git"));
}

#[test]
fn github_backend_with_every_setting() {
    let mut vars = GITHUB.to_vec();
    vars.extend([
        ("GITHUB_API_URL", "http://127.0.0.1:9/api"),
        ("GIT_BASE_BRANCH", " release "),
        ("COMMIT_MODE", "direct"),
        ("TENANTS_DIR", "infra/tenants/"),
    ]);
    let config = read(&vars).unwrap();
    assert_eq!(config.base_branch(), "release");
    assert_eq!(config.mode(), CommitMode::Direct);
    assert_eq!(config.tenants_dir, "infra/tenants");
    let Backend::Github(github) = &config.backend else {
        panic!("{config:?}")
    };
    assert_eq!(github.api_url, "http://127.0.0.1:9/api");
    assert!(matches!(&github.auth, GithubAuth::Token(t) if t == "ghp_topsecret"));
}

#[test]
fn github_app_credentials() {
    let vars = [
        ("GIT_BACKEND", "github"),
        ("GITHUB_REPOSITORY", "acme/infra"),
        ("GITHUB_APP_ID", "42"),
        (
            "GITHUB_APP_PRIVATE_KEY",
            "-----BEGIN RSA PRIVATE KEY-----\nsecretkey",
        ),
        ("GITHUB_INSTALLATION_ID", "7"),
    ];
    let config = read(&vars).unwrap();
    let Backend::Github(github) = &config.backend else {
        panic!("{config:?}")
    };
    assert!(matches!(
        github.auth,
        GithubAuth::App {
            app_id: 42,
            installation_id: 7,
            ..
        }
    ));
    assert!(!format!("{config:?}").contains("secretkey"));
}

#[test]
fn errors_name_the_variable() {
    let with = |base: &[(&'static str, &'static str)], extra: &[(&'static str, &'static str)]| {
        let mut vars = base.to_vec();
        vars.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        vars.extend(extra.iter().filter(|(_, v)| !v.is_empty()));
        read(&vars).unwrap_err().variable
    };
    assert_eq!(with(&[], &[]), "GIT_BACKEND");
    assert_eq!(with(&GIT, &[("GIT_BACKEND", "svn")]), "GIT_BACKEND");
    assert_eq!(with(&GIT, &[("GIT_REMOTE_URL", "")]), "GIT_REMOTE_URL");
    assert_eq!(with(&GIT, &[("COMMIT_MODE", "yolo")]), "COMMIT_MODE");
    assert_eq!(with(&GIT, &[("GIT_BASE_BRANCH", "-x")]), "GIT_BASE_BRANCH");
    assert_eq!(
        with(&GIT, &[("GIT_BASE_BRANCH", "a..b")]),
        "GIT_BASE_BRANCH"
    );
    for dir in ["/abs", "../up", "a/./b", "a//b", ".git", "a\\b"] {
        let mut vars = GIT.to_vec();
        vars.push(("TENANTS_DIR", dir));
        assert_eq!(read(&vars).unwrap_err().variable, "TENANTS_DIR", "{dir}");
    }
    assert_eq!(
        with(&GITHUB, &[("GITHUB_REPOSITORY", "")]),
        "GITHUB_REPOSITORY"
    );
    assert_eq!(
        with(&GITHUB, &[("GITHUB_REPOSITORY", "acme")]),
        "GITHUB_REPOSITORY"
    );
    assert_eq!(
        with(&GITHUB, &[("GITHUB_REPOSITORY", "a/b/c")]),
        "GITHUB_REPOSITORY"
    );
    assert_eq!(with(&GITHUB, &[("GITHUB_TOKEN", "")]), "GITHUB_TOKEN");
    let app = [
        ("GIT_BACKEND", "github"),
        ("GITHUB_REPOSITORY", "acme/infra"),
        ("GITHUB_APP_ID", "42"),
    ];
    assert_eq!(with(&app, &[]), "GITHUB_APP_PRIVATE_KEY");
    assert_eq!(with(&app, &[("GITHUB_APP_ID", "x42")]), "GITHUB_APP_ID");
    assert_eq!(
        with(
            &app,
            &[
                ("GITHUB_APP_PRIVATE_KEY", "pem"),
                ("GITHUB_INSTALLATION_ID", "seven")
            ]
        ),
        "GITHUB_INSTALLATION_ID"
    );
    let message = read(&[("GIT_BACKEND", "svn")]).unwrap_err().to_string();
    assert!(message.starts_with("GIT_BACKEND: \"svn\""), "{message}");
}

#[test]
fn debug_never_shows_credentials() {
    let shown = format!("{:?} {:?}", read(&GIT).unwrap(), read(&GITHUB).unwrap());
    for secret in ["ghs_secret", "ghp_topsecret"] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
}

#[tokio::test]
async fn builds_the_configured_publisher() {
    let dir = std::env::temp_dir().join(format!("gitops-config-{}", std::process::id()));
    let mut vars = GIT.to_vec();
    let work_dir = dir.to_string_lossy().into_owned();
    vars.push(("GIT_WORK_DIR", &work_dir));
    let publisher = read(&vars).unwrap().build().unwrap();
    assert!(format!("{publisher:?}").contains("GitCliPublisher"));
    let github = read(&GITHUB).unwrap().build().unwrap();
    assert!(format!("{github:?}").contains("GithubPublisher"));
    let _ = std::fs::remove_dir_all(dir);
}
