//! `GIT_BACKEND=github`: publishing through GitHub's REST API (octocrab for auth and transport).
//!
//! Flow per change (see `flow`): base branch head, branch `stagesub/<subdomain>` (created from the base
//! head when missing), the file's current blob, a contents write only when the content differs, then the
//! one open pull request (found, or created). Every step is idempotent, so a publish that failed halfway
//! (5xx, rate limit, a write whose answer was lost) is simply published again.

mod api;
mod flow;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use octocrab::Octocrab;

use crate::redact::redact_credentials;
use crate::{BoxFuture, CommitMode, PublishError, Published, Publisher, TenantChange};
use api::{Api, enc};

/// Limit for establishing a connection to the API.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Limit for reading or writing one request.
const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// How the publisher authenticates to GitHub.
#[derive(Clone)]
pub enum GithubAuth {
    /// A personal access token or fine-grained token (`GITHUB_TOKEN`).
    Token(String),
    /// A GitHub App installation: a JWT signed with the App's key buys hour-long installation tokens.
    App {
        /// `GITHUB_APP_ID`.
        app_id: u64,
        /// `GITHUB_APP_PRIVATE_KEY`: the App's RSA private key, PEM.
        private_key_pem: String,
        /// `GITHUB_INSTALLATION_ID`: the installation on the infra repository's owner.
        installation_id: u64,
    },
}

impl std::fmt::Debug for GithubAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GithubAuth::Token(_) => f.write_str("Token(***)"),
            GithubAuth::App {
                app_id,
                installation_id,
                ..
            } => f
                .debug_struct("App")
                .field("app_id", app_id)
                .field("private_key_pem", &"***")
                .field("installation_id", installation_id)
                .finish(),
        }
    }
}

/// Configuration of a [`GithubPublisher`].
#[derive(Clone, Debug)]
pub struct GithubConfig {
    /// API base, `https://api.github.com` (`GITHUB_API_URL`; GitHub Enterprise or a stand-in otherwise).
    pub api_url: String,
    /// `owner/repo` of the infra repository (`GITHUB_REPOSITORY`).
    pub repository: String,
    /// Token or App credentials.
    pub auth: GithubAuth,
    /// Branch that pull requests target, or that direct commits land on.
    pub base_branch: String,
    /// Pull request per tenant, or direct commits.
    pub mode: CommitMode,
}

/// Publishes tenant files through GitHub's REST API (see the [module docs](self)).
pub struct GithubPublisher {
    api: Api,
    api_url: String,
    owner: String,
    repository: String,
    base_branch: String,
    mode: CommitMode,
    /// Content writes to one repository are serialized within the process, as GitHub asks.
    write_lock: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for GithubPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubPublisher")
            .field("api_url", &redact_credentials(&self.api_url))
            .field("repository", &self.repository)
            .field("base_branch", &self.base_branch)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl GithubPublisher {
    /// Validates the configuration and builds the API client. Must be called inside a Tokio runtime
    /// (octocrab starts its request worker there). Does not contact GitHub.
    pub fn new(config: GithubConfig) -> Result<GithubPublisher, PublishError> {
        let GithubConfig {
            api_url,
            repository,
            auth,
            base_branch,
            mode,
        } = config;
        let (owner, name) = repository
            .split_once('/')
            .filter(|(o, r)| !o.is_empty() && !r.is_empty() && !r.contains('/'))
            .ok_or_else(|| {
                PublishError::Permanent(format!(
                    "GITHUB_REPOSITORY {repository:?} must be owner/repo"
                ))
            })?;
        if !crate::git::valid_branch_name(&base_branch) {
            return Err(PublishError::Permanent(format!(
                "GIT_BASE_BRANCH {base_branch:?} is not a valid branch name"
            )));
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(PublishError::Permanent(
                "GithubPublisher::new must be called inside a Tokio runtime".into(),
            ));
        }
        let shown_url = redact_credentials(&api_url);
        let bad_url = |e: octocrab::Error| {
            PublishError::Permanent(format!(
                "GITHUB_API_URL {shown_url:?} is not a usable URL: {e}"
            ))
        };
        let builder = Octocrab::builder()
            .base_uri(api_url.trim_end_matches('/'))
            .map_err(bad_url)?
            // A hung connection must end as a transient error the caller retries, not a stuck worker.
            .set_connect_timeout(Some(CONNECT_TIMEOUT))
            .set_read_timeout(Some(READ_TIMEOUT))
            .set_write_timeout(Some(READ_TIMEOUT));
        let (crab, secrets) = match auth {
            GithubAuth::Token(token) => {
                if token.trim().is_empty() {
                    return Err(PublishError::Permanent("GITHUB_TOKEN is empty".into()));
                }
                let crab = builder
                    .personal_token(token.trim().to_owned())
                    .build()
                    .map_err(build_failed)?;
                (crab, vec![token])
            }
            GithubAuth::App {
                app_id,
                private_key_pem,
                installation_id,
            } => {
                let app = builder
                    .app_from_rsa_pem(octocrab::models::AppId(app_id), private_key_pem.as_bytes())
                    .map_err(|_| {
                        PublishError::Permanent(
                            "GITHUB_APP_PRIVATE_KEY is not an RSA private key in PEM form (download a new one from the App's settings)"
                                .into(),
                        )
                    })?
                    .build()
                    .map_err(build_failed)?;
                let crab = app
                    .installation(octocrab::models::InstallationId(installation_id))
                    .map_err(build_failed)?;
                (crab, vec![private_key_pem])
            }
        };
        let key = format!(
            "{}|{}",
            api_url.trim_end_matches('/'),
            repository.to_ascii_lowercase()
        );
        Ok(GithubPublisher {
            api: Api {
                crab,
                repo_path: format!("/repos/{}/{}", enc(owner), enc(name)),
                secrets,
            },
            owner: owner.to_owned(),
            api_url,
            repository,
            base_branch,
            mode,
            write_lock: repository_lock(&key),
        })
    }

    /// Gives this publisher its own write lock instead of the process-wide one for its repository,
    /// as if it ran in another process. For tests that play several replicas in one process.
    pub fn with_private_write_lock(mut self) -> GithubPublisher {
        self.write_lock = Arc::new(tokio::sync::Mutex::new(()));
        self
    }
}

impl Publisher for GithubPublisher {
    fn publish<'a>(
        &'a self,
        change: &'a TenantChange,
    ) -> BoxFuture<'a, Result<Published, PublishError>> {
        Box::pin(self.publish_serialized(change))
    }
}

fn build_failed(e: octocrab::Error) -> PublishError {
    PublishError::Permanent(format!("cannot build the GitHub client: {e}"))
}

/// The process-wide write lock of one repository.
fn repository_lock(key: &str) -> Arc<tokio::sync::Mutex<()>> {
    static LOCKS: OnceLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    let mut locks = LOCKS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    locks.entry(key.to_owned()).or_default().clone()
}
