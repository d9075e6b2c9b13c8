//! The publisher's configuration, read from the environment and checked before anything starts.
//!
//! | variable | meaning |
//! |---|---|
//! | `GIT_BACKEND` | required: `git` (the git CLI, any remote) or `github` (REST API) |
//! | `GIT_REMOTE_URL` | with `git`: any URL git can push to (https, ssh, file); may carry credentials |
//! | `GIT_WORK_DIR` | with `git`: the publisher's own cache directory, default `<tmp>/stagesub-bridge-git` |
//! | `GITHUB_TOKEN` or `GITHUB_APP_ID` + `GITHUB_APP_PRIVATE_KEY` + `GITHUB_INSTALLATION_ID` | with `github`: authentication |
//! | `GITHUB_REPOSITORY` | with `github`: `owner/repo` of the infra repository |
//! | `GITHUB_API_URL` | with `github`: default `https://api.github.com` |
//! | `GIT_BASE_BRANCH` | default `main` |
//! | `COMMIT_MODE` | `pull_request` (default) or `direct` |
//! | `COMMIT_AUTHOR_NAME`, `COMMIT_AUTHOR_EMAIL` | with `git`: commit identity, default `stagesub-bridge` / `bridge@stagesub.invalid` |
//! | `TENANTS_DIR` | folder of tenant files in the infra repository, default `tenants` |
//!
//! Empty values count as unset; values are trimmed.

use std::path::PathBuf;
use std::sync::Arc;

use crate::git::{GitCliConfig, GitCliPublisher, valid_branch_name};
use crate::github::{GithubAuth, GithubConfig, GithubPublisher};
use crate::{CommitMode, PublishError, Publisher};

/// A publisher setting that is missing or invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    /// The environment variable to fix.
    pub variable: &'static str,
    /// What is wrong and what is expected.
    pub message: String,
}

fn bad(variable: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        message: message.into(),
    }
}

/// Which publisher, with its settings (`GIT_BACKEND`). `Debug` never shows credentials.
#[derive(Debug, Clone)]
pub enum Backend {
    /// `git`: the git CLI.
    Git(GitCliConfig),
    /// `github`: GitHub's REST API.
    Github(GithubConfig),
}

/// Everything about publishing that the environment says (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct PublisherConfig {
    /// The backend and its settings, including base branch and commit mode.
    pub backend: Backend,
    /// `TENANTS_DIR`: folder of tenant files inside the repository, relative, without `..`.
    pub tenants_dir: String,
}

impl PublisherConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let base_branch = get("GIT_BASE_BRANCH").unwrap_or_else(|| "main".into());
        if !valid_branch_name(&base_branch) {
            return Err(bad(
                "GIT_BASE_BRANCH",
                format!("{base_branch:?} is not a valid branch name"),
            ));
        }
        let mode = match get("COMMIT_MODE").as_deref() {
            None | Some("pull_request") => CommitMode::PullRequest,
            Some("direct") => CommitMode::Direct,
            Some(other) => {
                return Err(bad(
                    "COMMIT_MODE",
                    format!("{other:?} is not one of: pull_request, direct"),
                ));
            }
        };
        let backend = match get("GIT_BACKEND").as_deref() {
            Some("git") => Backend::Git(GitCliConfig {
                remote_url: get("GIT_REMOTE_URL")
                    .ok_or_else(|| bad("GIT_REMOTE_URL", "is required with GIT_BACKEND=git"))?,
                base_branch,
                mode,
                work_dir: get("GIT_WORK_DIR").map_or_else(
                    || std::env::temp_dir().join("stagesub-bridge-git"),
                    PathBuf::from,
                ),
                author_name: get("COMMIT_AUTHOR_NAME").unwrap_or_else(|| "stagesub-bridge".into()),
                author_email: get("COMMIT_AUTHOR_EMAIL")
                    .unwrap_or_else(|| "bridge@stagesub.invalid".into()),
            }),
            Some("github") => Backend::Github(GithubConfig {
                api_url: get("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
                repository: repository(get("GITHUB_REPOSITORY"))?,
                auth: github_auth(&get)?,
                base_branch,
                mode,
            }),
            Some(other) => {
                return Err(bad(
                    "GIT_BACKEND",
                    format!("{other:?} is not one of: git, github"),
                ));
            }
            None => {
                return Err(bad(
                    "GIT_BACKEND",
                    "is required: git (push to GIT_REMOTE_URL) or github (REST API)",
                ));
            }
        };
        Ok(Self {
            backend,
            tenants_dir: tenants_dir(get("TENANTS_DIR"))?,
        })
    }

    /// The branch tenant changes target.
    pub fn base_branch(&self) -> &str {
        match &self.backend {
            Backend::Git(c) => &c.base_branch,
            Backend::Github(c) => &c.base_branch,
        }
    }

    /// Direct commits or a branch (and pull request) per tenant.
    pub fn mode(&self) -> CommitMode {
        match &self.backend {
            Backend::Git(c) => c.mode,
            Backend::Github(c) => c.mode,
        }
    }

    /// Builds the configured publisher. Call inside a Tokio runtime.
    pub fn build(&self) -> Result<Arc<dyn Publisher>, PublishError> {
        Ok(match &self.backend {
            Backend::Git(c) => Arc::new(GitCliPublisher::new(c.clone())?),
            Backend::Github(c) => Arc::new(GithubPublisher::new(c.clone())?),
        })
    }
}

fn repository(value: Option<String>) -> Result<String, ConfigError> {
    let repository = value.ok_or_else(|| {
        bad(
            "GITHUB_REPOSITORY",
            "is required with GIT_BACKEND=github (owner/repo)",
        )
    })?;
    if repository.split('/').count() != 2 || repository.split('/').any(str::is_empty) {
        return Err(bad("GITHUB_REPOSITORY", "must be owner/repo"));
    }
    Ok(repository)
}

fn github_auth(get: &impl Fn(&str) -> Option<String>) -> Result<GithubAuth, ConfigError> {
    if let Some(token) = get("GITHUB_TOKEN") {
        return Ok(GithubAuth::Token(token));
    }
    let Some(app_id) = get("GITHUB_APP_ID") else {
        return Err(bad(
            "GITHUB_TOKEN",
            "set GITHUB_TOKEN, or GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY + GITHUB_INSTALLATION_ID",
        ));
    };
    let number =
        |name: &'static str, v: String| v.parse::<u64>().map_err(|_| bad(name, "must be a number"));
    Ok(GithubAuth::App {
        app_id: number("GITHUB_APP_ID", app_id)?,
        private_key_pem: get("GITHUB_APP_PRIVATE_KEY")
            .ok_or_else(|| bad("GITHUB_APP_PRIVATE_KEY", "is required with GITHUB_APP_ID"))?,
        installation_id: number(
            "GITHUB_INSTALLATION_ID",
            get("GITHUB_INSTALLATION_ID")
                .ok_or_else(|| bad("GITHUB_INSTALLATION_ID", "is required with GITHUB_APP_ID"))?,
        )?,
    })
}

/// A relative folder inside the repository; the trailing `/` is dropped.
fn tenants_dir(value: Option<String>) -> Result<String, ConfigError> {
    let Some(dir) = value else {
        return Ok("tenants".into());
    };
    let dir = dir.trim_end_matches('/');
    let ok = !dir.is_empty()
        && !dir.starts_with('/')
        && !dir.contains('\\')
        && !dir.chars().any(char::is_control)
        && dir
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && part != ".git");
    if !ok {
        return Err(bad(
            "TENANTS_DIR",
            format!(
                "{dir:?} must be a folder relative to the repository root (e.g. tenants), without empty, `.`, `..` or `.git` parts"
            ),
        ));
    }
    Ok(dir.to_owned())
}

#[cfg(test)]
mod tests;
