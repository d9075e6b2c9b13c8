//! `GIT_BACKEND=git`: publishing by driving the git CLI against any remote git can push to
//! (`file://`, smart HTTP(S), ssh).
//!
//! Each publisher keeps a private bare repository in its work dir as an object cache. A publish reads
//! the remote heads (`ls-remote`), fetches what it lacks, builds the commit with plumbing (a temporary
//! index, `commit-tree`) on the current tip, and pushes it as a fast-forward. When another replica moved
//! the branch in between, the push is rejected and the write is re-applied on the new tip, a bounded
//! number of times. Identical content already on the branch means no commit (`changed: false`).

mod cmd;
mod config;
mod remote;

use std::time::Duration;

use crate::redact::redact_credentials;
use crate::validate;
use crate::{BoxFuture, CommitMode, PublishError, Published, Publisher, TenantChange};
use cmd::{Git, LOCAL_TIMEOUT};
pub use config::GitCliConfig;
pub(crate) use config::valid_branch_name;
use config::{has_cache, prepare_work_dir};
use remote::PushOutcome;

/// How many times a publish re-applies its write after the remote branch moved under it.
const MAX_ATTEMPTS: u32 = 12;

/// Publishes tenant files with the git CLI (see the [module docs](self)).
pub struct GitCliPublisher {
    remote_url: String,
    base_branch: String,
    mode: CommitMode,
    git: Git,
    /// One publish at a time per publisher: they share the cache repository.
    lock: tokio::sync::Mutex<()>,
    /// Set once the cache repository exists.
    cache: tokio::sync::OnceCell<()>,
}

impl std::fmt::Debug for GitCliPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitCliPublisher")
            .field("remote_url", &redact_credentials(&self.remote_url))
            .field("base_branch", &self.base_branch)
            .field("mode", &self.mode)
            .field("work_dir", &self.git.git_dir)
            .finish()
    }
}

impl GitCliPublisher {
    /// Checks the configuration, finds git, and prepares the work dir (a bare cache repository).
    ///
    /// Does not contact the remote; a wrong URL or refused credentials show up on the first publish.
    pub fn new(config: GitCliConfig) -> Result<GitCliPublisher, PublishError> {
        let GitCliConfig {
            remote_url,
            base_branch,
            mode,
            work_dir,
            author_name,
            author_email,
        } = config;
        if remote_url.trim().is_empty() {
            return Err(PublishError::Permanent(
                "GIT_REMOTE_URL is empty; set it to a URL git can push to".into(),
            ));
        }
        if !valid_branch_name(&base_branch) {
            return Err(PublishError::Permanent(format!(
                "GIT_BASE_BRANCH {base_branch:?} is not a valid branch name"
            )));
        }
        if author_name.trim().is_empty() || !author_email.contains('@') {
            return Err(PublishError::Permanent(
                "git author needs a name and an email address (name <someone@example.org>)".into(),
            ));
        }
        prepare_work_dir(&work_dir)?;
        Ok(GitCliPublisher {
            remote_url,
            base_branch,
            mode,
            git: Git {
                git_dir: work_dir,
                author_name,
                author_email,
                network_timeout: cmd::NETWORK_TIMEOUT,
            },
            lock: tokio::sync::Mutex::new(()),
            cache: tokio::sync::OnceCell::new(),
        })
    }

    /// Changes the time limit of each command that talks to the remote (default 120 s); a command
    /// that takes longer is killed and the publish fails as transient.
    pub fn with_network_timeout(mut self, limit: Duration) -> GitCliPublisher {
        self.git.network_timeout = limit;
        self
    }

    /// Creates the bare cache repository in the work dir unless it is already there.
    async fn init_cache(&self) -> Result<(), PublishError> {
        if !has_cache(&self.git.git_dir) {
            self.git
                .ok(&["init", "--bare", "--quiet"], None, &[], LOCAL_TIMEOUT)
                .await?;
        }
        Ok(())
    }

    async fn publish_serialized(&self, change: &TenantChange) -> Result<Published, PublishError> {
        validate::change(change)?;
        let _one_at_a_time = self.lock.lock().await;
        self.cache.get_or_try_init(|| self.init_cache()).await?;
        let branch = match self.mode {
            CommitMode::Direct => self.base_branch.clone(),
            CommitMode::PullRequest => validate::pr_branch(&change.subdomain),
        };
        let blob = self
            .git
            .ok(
                &["hash-object", "-w", "--stdin"],
                Some(change.content.as_bytes()),
                &[],
                LOCAL_TIMEOUT,
            )
            .await?;
        for attempt in 1..=MAX_ATTEMPTS {
            let heads = self.fetch_heads(&[&self.base_branch, &branch]).await?;
            let Some(base_tip) = heads[0].clone() else {
                return Err(PublishError::Permanent(format!(
                    "the remote has no branch {:?}; create it (with at least one commit) or set GIT_BASE_BRANCH",
                    self.base_branch
                )));
            };
            let branch_tip = heads[1].clone();
            let parent = branch_tip.clone().unwrap_or_else(|| base_tip.clone());
            let mut stale = Vec::new();
            for old in &change.remove {
                if self.blob_at(&parent, old).await?.is_some() {
                    stale.push(old.as_str());
                }
            }
            if stale.is_empty()
                && self.blob_at(&parent, &change.path).await?.as_deref() == Some(blob.as_str())
            {
                // Already there: a repeated delivery, or the change was merged and its branch deleted.
                let holder = if branch_tip.is_some() {
                    branch.clone()
                } else {
                    self.base_branch.clone()
                };
                return Ok(Published {
                    branch: holder,
                    commit_sha: parent,
                    pull_request_url: None,
                    changed: false,
                });
            }
            let commit = self
                .commit_on(&parent, &change.path, &blob, &stale, &change.commit_message)
                .await?;
            match self.push(&commit, &branch).await? {
                PushOutcome::Pushed => {
                    tracing::info!(branch = %branch, commit = %commit, path = %change.path, "pushed tenant file");
                    return Ok(Published {
                        branch,
                        commit_sha: commit,
                        pull_request_url: None,
                        changed: true,
                    });
                }
                PushOutcome::AlreadyThere => {
                    return Ok(Published {
                        branch,
                        commit_sha: commit,
                        pull_request_url: None,
                        changed: false,
                    });
                }
                PushOutcome::Moved(reason) => {
                    tracing::debug!(branch = %branch, attempt, reason = %reason, "remote branch moved; re-applying");
                    tokio::time::sleep(backoff(attempt)).await;
                }
            }
        }
        Err(PublishError::Transient {
            message: format!(
                "branch {branch:?} kept moving on the remote; gave up after {MAX_ATTEMPTS} attempts"
            ),
            retry_after: None,
        })
    }

    /// The blob id of `path` in `commit`, if the file exists there.
    async fn blob_at(&self, commit: &str, path: &str) -> Result<Option<String>, PublishError> {
        let spec = format!("{commit}:{path}");
        let out = self
            .git
            .run(
                &["rev-parse", "--verify", "--quiet", &spec],
                None,
                &[],
                LOCAL_TIMEOUT,
            )
            .await?;
        Ok(out.success.then(|| out.stdout.trim().to_owned()))
    }

    /// A commit on `parent` whose tree is `parent`'s with `path` set to `blob` and the `remove` paths
    /// deleted (one commit: the tenant is never defined twice).
    async fn commit_on(
        &self,
        parent: &str,
        path: &str,
        blob: &str,
        remove: &[&str],
        message: &str,
    ) -> Result<String, PublishError> {
        let index = self
            .git
            .git_dir
            .join(format!("stagesub-index-{}", std::process::id()));
        let env = [("GIT_INDEX_FILE", index.clone().into_os_string())];
        let result = async {
            self.git
                .ok(&["read-tree", parent], None, &env, LOCAL_TIMEOUT)
                .await?;
            let info = format!("100644,{blob},{path}");
            self.git
                .ok(
                    &["update-index", "--add", "--cacheinfo", &info],
                    None,
                    &env,
                    LOCAL_TIMEOUT,
                )
                .await?;
            if !remove.is_empty() {
                // Mode 0 removes the path (`--force-remove` would want a work tree).
                let lines: String = remove
                    .iter()
                    .map(|old| format!("0 {}\t{old}\n", "0".repeat(40)))
                    .collect();
                self.git
                    .ok(
                        &["update-index", "--index-info"],
                        Some(lines.as_bytes()),
                        &env,
                        LOCAL_TIMEOUT,
                    )
                    .await?;
            }
            let tree = self
                .git
                .ok(&["write-tree"], None, &env, LOCAL_TIMEOUT)
                .await?;
            self.git
                .ok(
                    &[
                        "commit-tree",
                        "--no-gpg-sign",
                        &tree,
                        "-p",
                        parent,
                        "-F",
                        "-",
                    ],
                    Some(message.as_bytes()),
                    &[],
                    LOCAL_TIMEOUT,
                )
                .await
        }
        .await;
        let _ = tokio::fs::remove_file(&index).await;
        result.map_err(|e| match e {
            PublishError::Transient { message, .. } | PublishError::Permanent(message) => {
                PublishError::Permanent(format!("cannot write {path:?} into the tree: {message}"))
            }
        })
    }
}

impl Publisher for GitCliPublisher {
    fn publish<'a>(
        &'a self,
        change: &'a TenantChange,
    ) -> BoxFuture<'a, Result<Published, PublishError>> {
        Box::pin(self.publish_serialized(change))
    }
}

/// Wait before re-applying after a rejected push: grows, with jitter so replicas spread out.
fn backoff(attempt: u32) -> Duration {
    let base = 20u64 << attempt.min(5);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    Duration::from_millis(base + u64::from(nanos) % base)
}
