//! Configuration of the git CLI backend and preparing its work dir.

use std::path::{Path, PathBuf};

use crate::redact::redact_credentials;
use crate::{CommitMode, PublishError};

/// Configuration of a [`GitCliPublisher`](super::GitCliPublisher).
#[derive(Clone)]
pub struct GitCliConfig {
    /// Any URL git can push to (`https://…`, `ssh://…`, `git@host:path`, `file://…`). Credentials in it
    /// are used but never printed.
    pub remote_url: String,
    /// Branch that tenant changes target (`GIT_BASE_BRANCH`, e.g. `main`).
    pub base_branch: String,
    /// Commit on the base branch or on `stagesub/<subdomain>`.
    pub mode: CommitMode,
    /// Directory this publisher owns (created if missing); holds a bare repository used as a cache.
    /// Give every publisher (every replica) its own.
    pub work_dir: PathBuf,
    /// Author and committer name of the commits.
    pub author_name: String,
    /// Author and committer email of the commits.
    pub author_email: String,
}

impl std::fmt::Debug for GitCliConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitCliConfig")
            .field("remote_url", &redact_credentials(&self.remote_url))
            .field("base_branch", &self.base_branch)
            .field("mode", &self.mode)
            .field("work_dir", &self.work_dir)
            .field("author_name", &self.author_name)
            .field("author_email", &self.author_email)
            .finish()
    }
}

/// A branch name git accepts and that cannot be read as an option or a revision expression.
pub(crate) fn valid_branch_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && !name.starts_with('/')
        && !name.ends_with('/')
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("//")
        && !name.contains("@{")
        && name
            .chars()
            .all(|c| !c.is_control() && !" ~^:?*[\\".contains(c))
}

/// Whether `dir` already holds the bare cache repository.
pub(super) fn has_cache(dir: &Path) -> bool {
    dir.join("HEAD").is_file() && dir.join("objects").is_dir()
}

/// Creates `dir` when missing and refuses a non-empty directory that is not our cache, so a wrong
/// `GIT_WORK_DIR` fails at start-up. The repository itself is made by the first publish
/// (`git init --bare` through tokio's process API, never blocking the runtime).
pub(super) fn prepare_work_dir(dir: &Path) -> Result<(), PublishError> {
    if has_cache(dir) {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        PublishError::Permanent(format!(
            "cannot create the git work dir {}: {e}",
            dir.display()
        ))
    })?;
    if std::fs::read_dir(dir)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false)
    {
        return Err(PublishError::Permanent(format!(
            "git work dir {} is not empty and not a repository this publisher made; give it an empty or new directory",
            dir.display()
        )));
    }
    Ok(())
}
