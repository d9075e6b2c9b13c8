//! Publishing tenant files to the infra repository.
//!
//! The bridge renders a tenant file and hands it to a [`Publisher`]; the publisher makes it a commit on
//! the base branch (`CommitMode::Direct`) or on the branch `stagesub/<subdomain>` (`CommitMode::PullRequest`,
//! plus a pull request on GitHub). Every publisher is idempotent: publishing the same change twice, from
//! two replicas or after a crash, leaves one commit and one pull request.
//!
//! [`PublisherConfig::from_env`] reads the publisher's settings from the environment (`GIT_BACKEND`,
//! `GIT_REMOTE_URL`, `GITHUB_*`, `GIT_BASE_BRANCH`, `COMMIT_MODE`, `TENANTS_DIR`, ...; the table is in
//! the `config` module) and [`PublisherConfig::build`] makes the publisher.
//!
//! Backends: [`git::GitCliPublisher`] (the git CLI against any remote: file, https, ssh) and
//! [`github::GithubPublisher`] (GitHub's REST API through octocrab). Both classify failures as
//! [`PublishError::Transient`] (retry later, possibly after `retry_after`) or [`PublishError::Permanent`],
//! and never put credentials into errors or logs ([`redact_credentials`]).
//!
//! ```no_run
//! use stagesub_gitops::git::{GitCliConfig, GitCliPublisher};
//! use stagesub_gitops::{CommitMode, Publisher, TenantChange};
//!
//! # async fn run() -> Result<(), stagesub_gitops::PublishError> {
//! let publisher = GitCliPublisher::new(GitCliConfig {
//!     remote_url: "https://x-access-token:TOKEN@github.com/acme/infra.git".into(),
//!     base_branch: "main".into(),
//!     mode: CommitMode::PullRequest,
//!     work_dir: "/var/lib/stagesub/git".into(),
//!     author_name: "stagesub".into(),
//!     author_email: "bot@stagesub.example".into(),
//! })?;
//! let published = publisher
//!     .publish(&TenantChange {
//!         subdomain: "berlin-phil".into(),
//!         path: "tenants/berlin-phil/main.tf".into(),
//!         remove: vec!["tenants/berlin-phil.tf".into()],
//!         content: "module \"orchestra-berlin-phil\" {}\n".into(),
//!         commit_message: "Provision berlin-phil".into(),
//!         pr_title: "Provision berlin-phil".into(),
//!         pr_body: String::new(),
//!     })
//!     .await?;
//! println!("{} at {} (changed: {})", published.branch, published.commit_sha, published.changed);
//! # Ok(())
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;

mod config;
pub mod git;
pub mod github;
mod redact;
mod validate;

pub use config::{Backend, ConfigError, PublisherConfig};
pub use redact::redact_credentials;

/// How a tenant change reaches the base branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitMode {
    /// A branch `stagesub/<subdomain>` (and, with GitHub, a pull request) for review.
    PullRequest,
    /// A commit straight on the base branch.
    Direct,
}

/// One tenant file to write into the infra repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantChange {
    /// The tenant's subdomain; names the branch `stagesub/<subdomain>`.
    pub subdomain: String,
    /// Path of the file inside the repository, e.g. `tenants/<subdomain>/main.tf`.
    pub path: String,
    /// Older paths of the same tenant's file (e.g. `tenants/<subdomain>.tf` of the single-root
    /// layout), deleted in the same commit when they exist, so the tenant is never defined twice.
    pub remove: Vec<String>,
    /// Full file content.
    pub content: String,
    /// Commit message.
    pub commit_message: String,
    /// Pull request title (PullRequest mode).
    pub pr_title: String,
    /// Pull request body (PullRequest mode).
    pub pr_body: String,
}

/// What publishing produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// Branch that holds the change.
    pub branch: String,
    /// Commit that holds the file content (new, or the existing one when nothing changed).
    pub commit_sha: String,
    /// Pull request URL, when one exists.
    pub pull_request_url: Option<String>,
    /// False when the repository already had exactly this content (a repeated delivery).
    pub changed: bool,
}

/// Why publishing failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Worth retrying later (network, 5xx, rate limit, remote moved concurrently).
    #[error("{message}")]
    Transient {
        /// What happened, without secrets.
        message: String,
        /// Server-requested wait before the next try, if any.
        retry_after: Option<std::time::Duration>,
    },
    /// Retrying will not help (auth refused, repository missing, invalid path).
    #[error("{0}")]
    Permanent(String),
}

/// A boxed future, so that publishers can be used as trait objects.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Writes tenant files into the infra repository.
pub trait Publisher: Send + Sync + std::fmt::Debug {
    /// Commits `change` (idempotently) according to the publisher's commit mode.
    fn publish<'a>(
        &'a self,
        change: &'a TenantChange,
    ) -> BoxFuture<'a, Result<Published, PublishError>>;
}
