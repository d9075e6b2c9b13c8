//! A GitHub stand-in (in-process, real bare repository) plus publishers pointed at it.

use std::path::Path;

use github_standin::{AppConfig, RecordedRequest, RunningStandin, StandinConfig};
use stagesub_gitops::CommitMode;
use stagesub_gitops::github::{GithubAuth, GithubConfig, GithubPublisher};

pub const TOKEN: &str = "ghp_standinTOKEN0123456789";

pub async fn standin(dir: &Path, app: Option<AppConfig>) -> RunningStandin {
    github_standin::start(StandinConfig {
        repo_dir: dir.join("infra.git"),
        owner: "acme".into(),
        name: "infra".into(),
        default_branch: "main".into(),
        token: TOKEN.into(),
        app,
        bind: "127.0.0.1:0".parse().unwrap(),
    })
    .await
    .expect("stand-in starts")
}

pub fn publisher(standin: &RunningStandin, mode: CommitMode) -> GithubPublisher {
    publisher_with(standin, mode, GithubAuth::Token(TOKEN.into()))
}

pub fn publisher_with(
    standin: &RunningStandin,
    mode: CommitMode,
    auth: GithubAuth,
) -> GithubPublisher {
    GithubPublisher::new(GithubConfig {
        api_url: standin.url(),
        repository: "acme/infra".into(),
        auth,
        base_branch: "main".into(),
        mode,
    })
    .expect("publisher")
}

/// Requests matching method and a path suffix.
pub fn count(
    requests: &[RecordedRequest],
    method: &str,
    path_contains: &str,
    status: Option<u16>,
) -> usize {
    requests
        .iter()
        .filter(|r| {
            r.method == method
                && r.path.contains(path_contains)
                && status.is_none_or(|s| r.status == s)
        })
        .count()
}
