//! The publish flow over the REST endpoints.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::GithubPublisher;
use super::api::{Method, enc, enc_path};
use crate::validate;
use crate::{CommitMode, PublishError, Published, TenantChange};

/// Re-reads after a stale-sha conflict before handing the problem to the caller's retry.
const MAX_WRITE_ATTEMPTS: u32 = 5;

/// A file as the contents API shows it.
struct FileState {
    sha: String,
    content: Vec<u8>,
}

impl GithubPublisher {
    pub(super) async fn publish_serialized(
        &self,
        change: &TenantChange,
    ) -> Result<Published, PublishError> {
        validate::change(change)?;
        let _serial = self.write_lock.lock().await;
        let base_tip = self.branch_head(&self.base_branch).await?.ok_or_else(|| {
            PublishError::Permanent(format!(
                "repository {} has no branch {:?}; create it or set GIT_BASE_BRANCH",
                self.repository, self.base_branch
            ))
        })?;
        let branch = match self.mode {
            CommitMode::Direct => self.base_branch.clone(),
            CommitMode::PullRequest => {
                let branch = validate::pr_branch(&change.subdomain);
                if self.branch_head(&branch).await?.is_none() {
                    let on_base = self.read_file(&change.path, &self.base_branch).await?;
                    if on_base.is_some_and(|f| f.content == change.content.as_bytes())
                        && self
                            .stale_paths(change, &self.base_branch)
                            .await?
                            .is_empty()
                    {
                        // Nothing to propose: the base already has it (e.g. merged, branch deleted).
                        return Ok(Published {
                            branch: self.base_branch.clone(),
                            commit_sha: base_tip,
                            pull_request_url: None,
                            changed: false,
                        });
                    }
                    self.create_branch(&branch, &base_tip).await?;
                }
                branch
            }
        };
        let (commit_sha, changed) = self.write_file(change, &branch).await?;
        let pull_request_url = match self.mode {
            CommitMode::Direct => None,
            CommitMode::PullRequest => self.ensure_pull_request(change, &branch).await?,
        };
        Ok(Published {
            branch,
            commit_sha,
            pull_request_url,
            changed,
        })
    }

    /// The commit a branch points at, or None when it does not exist.
    async fn branch_head(&self, branch: &str) -> Result<Option<String>, PublishError> {
        let path = format!("{}/git/ref/heads/{}", self.api.repo_path, enc_path(branch));
        let reply = self.api.call(Method::Get, &path, None).await?;
        match reply.status {
            200 => sha_at(&reply.json(), &["object", "sha"])
                .map(Some)
                .ok_or_else(|| bad_shape(&path)),
            // 404 for a missing ref; 409 for an empty repository.
            404 | 409
                if !reply
                    .message()
                    .to_ascii_lowercase()
                    .contains("repository not found") =>
            {
                if reply.status == 404 && self.repository_missing().await? {
                    return Err(self.api.failure(Method::Get, &path, &reply));
                }
                Ok(None)
            }
            _ => Err(self.api.failure(Method::Get, &path, &reply)),
        }
    }

    /// Whether the repository itself is invisible (missing, or no access), as opposed to a missing ref.
    async fn repository_missing(&self) -> Result<bool, PublishError> {
        let reply = self
            .api
            .call(Method::Get, &self.api.repo_path, None)
            .await?;
        match reply.status {
            200 => Ok(false),
            404 => Ok(true),
            _ => Err(self.api.failure(Method::Get, &self.api.repo_path, &reply)),
        }
    }

    /// Creates `branch` at `sha`; "already exists" (another replica, or a retried request) is fine.
    async fn create_branch(&self, branch: &str, sha: &str) -> Result<(), PublishError> {
        let path = format!("{}/git/refs", self.api.repo_path);
        let body = json!({ "ref": format!("refs/heads/{branch}"), "sha": sha });
        let reply = self.api.call(Method::Post, &path, Some(&body)).await?;
        match reply.status {
            201 | 200 => Ok(()),
            422 if reply.message().contains("already exists") => Ok(()),
            _ => Err(self.api.failure(Method::Post, &path, &reply)),
        }
    }

    /// The file at `path` on `branch`, or None when it does not exist.
    async fn read_file(&self, path: &str, branch: &str) -> Result<Option<FileState>, PublishError> {
        let url = format!(
            "{}/contents/{}?ref={}",
            self.api.repo_path,
            enc_path(path),
            enc(branch)
        );
        let reply = self.api.call(Method::Get, &url, None).await?;
        match reply.status {
            200 => {
                let json = reply.json();
                let sha = sha_at(&json, &["sha"]).ok_or_else(|| bad_shape(&url))?;
                if json
                    .get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t != "file")
                {
                    return Err(PublishError::Permanent(format!(
                        "{path:?} exists in the repository but is not a file"
                    )));
                }
                let encoded: String = json
                    .get("content")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .split_whitespace()
                    .collect();
                let content = STANDARD.decode(encoded).map_err(|_| bad_shape(&url))?;
                Ok(Some(FileState { sha, content }))
            }
            404 => Ok(None),
            _ => Err(self.api.failure(Method::Get, &url, &reply)),
        }
    }

    /// Makes `branch` hold the change's content: (commit holding it, whether a commit was made now).
    async fn write_file(
        &self,
        change: &TenantChange,
        branch: &str,
    ) -> Result<(String, bool), PublishError> {
        let stale = self.stale_paths(change, branch).await?;
        if !stale.is_empty() {
            return self.write_tree(change, branch, &stale).await;
        }
        let path = format!("{}/contents/{}", self.api.repo_path, enc_path(&change.path));
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let current = self.read_file(&change.path, branch).await?;
            if let Some(file) = &current
                && file.content == change.content.as_bytes()
            {
                let head = self.branch_head(branch).await?;
                let head = head.ok_or_else(|| {
                    transient(format!("branch {branch:?} disappeared while publishing"))
                })?;
                return Ok((head, false));
            }
            let mut body = json!({
                "message": change.commit_message,
                "content": STANDARD.encode(change.content.as_bytes()),
                "branch": branch,
            });
            if let Some(file) = &current {
                body["sha"] = Value::String(file.sha.clone());
            }
            let reply = self.api.call(Method::Put, &path, Some(&body)).await?;
            match reply.status {
                200 | 201 => {
                    let sha = sha_at(&reply.json(), &["commit", "sha"])
                        .ok_or_else(|| bad_shape(&path))?;
                    tracing::info!(repository = %self.repository, branch, commit = %sha, "committed tenant file");
                    return Ok((sha, true));
                }
                // Stale sha (someone wrote in between) or a create that met an existing file: re-read.
                409 => continue,
                422 if reply.message().contains("sha") => continue,
                _ => return Err(self.api.failure(Method::Put, &path, &reply)),
            }
        }
        Err(transient(format!(
            "{:?} on {branch:?} kept changing under us; will retry",
            change.path
        )))
    }

    /// The paths of `change.remove` that exist on `branch`.
    async fn stale_paths(
        &self,
        change: &TenantChange,
        branch: &str,
    ) -> Result<Vec<String>, PublishError> {
        let mut stale = Vec::new();
        for old in &change.remove {
            if self.read_file(old, branch).await?.is_some() {
                stale.push(old.clone());
            }
        }
        Ok(stale)
    }

    /// Writes the change's file and deletes `stale` in ONE commit (the contents API writes one file
    /// per commit): a tree on the tip's tree, a commit, then a fast-forward of the branch. A branch
    /// that moved in between is re-read and the commit made again.
    async fn write_tree(
        &self,
        change: &TenantChange,
        branch: &str,
        stale: &[String],
    ) -> Result<(String, bool), PublishError> {
        let repo = &self.api.repo_path;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let tip = self.branch_head(branch).await?.ok_or_else(|| {
                transient(format!("branch {branch:?} disappeared while publishing"))
            })?;
            let commit_path = format!("{repo}/git/commits/{tip}");
            let reply = self.api.call(Method::Get, &commit_path, None).await?;
            if reply.status != 200 {
                return Err(self.api.failure(Method::Get, &commit_path, &reply));
            }
            let base_tree =
                sha_at(&reply.json(), &["tree", "sha"]).ok_or_else(|| bad_shape(&commit_path))?;
            let mut entries = vec![json!({
                "path": change.path, "mode": "100644", "type": "blob", "content": change.content,
            })];
            entries.extend(
                stale.iter().map(
                    |old| json!({ "path": old, "mode": "100644", "type": "blob", "sha": null }),
                ),
            );
            let trees_path = format!("{repo}/git/trees");
            let body = json!({ "base_tree": base_tree, "tree": entries });
            let reply = self
                .api
                .call(Method::Post, &trees_path, Some(&body))
                .await?;
            if reply.status != 201 && reply.status != 200 {
                return Err(self.api.failure(Method::Post, &trees_path, &reply));
            }
            let tree = sha_at(&reply.json(), &["sha"]).ok_or_else(|| bad_shape(&trees_path))?;
            let commits_path = format!("{repo}/git/commits");
            let body = json!({ "message": change.commit_message, "tree": tree, "parents": [tip] });
            let reply = self
                .api
                .call(Method::Post, &commits_path, Some(&body))
                .await?;
            if reply.status != 201 && reply.status != 200 {
                return Err(self.api.failure(Method::Post, &commits_path, &reply));
            }
            let commit = sha_at(&reply.json(), &["sha"]).ok_or_else(|| bad_shape(&commits_path))?;
            let ref_path = format!("{repo}/git/refs/heads/{}", enc_path(branch));
            let body = json!({ "sha": commit, "force": false });
            let reply = self.api.call(Method::Patch, &ref_path, Some(&body)).await?;
            match reply.status {
                200 => {
                    tracing::info!(repository = %self.repository, branch, commit = %commit, removed = ?stale, "committed tenant file, removed its old path");
                    return Ok((commit, true));
                }
                // Not a fast-forward: the branch moved; build the commit again on the new tip.
                409 | 422 => continue,
                _ => return Err(self.api.failure(Method::Patch, &ref_path, &reply)),
            }
        }
        Err(transient(format!(
            "branch {branch:?} kept moving while moving {:?}; will retry",
            change.path
        )))
    }

    /// The open pull request from `branch` to the base, found or created; None when the branch has
    /// nothing to propose.
    async fn ensure_pull_request(
        &self,
        change: &TenantChange,
        branch: &str,
    ) -> Result<Option<String>, PublishError> {
        if let Some(url) = self.find_pull_request(branch).await? {
            return Ok(Some(url));
        }
        let path = format!("{}/pulls", self.api.repo_path);
        let body = json!({ "title": change.pr_title, "head": branch, "base": self.base_branch, "body": change.pr_body });
        let reply = self.api.call(Method::Post, &path, Some(&body)).await?;
        match reply.status {
            201 | 200 => {
                let url = reply
                    .json()
                    .get("html_url")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                tracing::info!(repository = %self.repository, branch, url = ?url, "opened pull request");
                url.map(Some).ok_or_else(|| bad_shape(&path))
            }
            422 if reply.message().contains("already exists") => {
                match self.find_pull_request(branch).await? {
                    Some(url) => Ok(Some(url)),
                    None => Err(transient(format!(
                        "GitHub says a pull request for {branch:?} exists but does not list it yet"
                    ))),
                }
            }
            422 if reply.message().contains("No commits between") => Ok(None),
            _ => Err(self.api.failure(Method::Post, &path, &reply)),
        }
    }

    async fn find_pull_request(&self, branch: &str) -> Result<Option<String>, PublishError> {
        let head = format!("{}:{branch}", self.owner);
        let path = format!(
            "{}/pulls?state=open&head={}&base={}&per_page=10",
            self.api.repo_path,
            enc(&head),
            enc(&self.base_branch)
        );
        let reply = self.api.call(Method::Get, &path, None).await?;
        if reply.status != 200 {
            return Err(self.api.failure(Method::Get, &path, &reply));
        }
        let json = reply.json();
        let list = json.as_array().ok_or_else(|| bad_shape(&path))?;
        Ok(list.iter().find_map(|pr| {
            pr.get("html_url")
                .and_then(Value::as_str)
                .map(str::to_owned)
        }))
    }
}

fn sha_at(json: &Value, keys: &[&str]) -> Option<String> {
    keys.iter()
        .try_fold(json, |v, k| v.get(k))?
        .as_str()
        .map(str::to_owned)
}

fn bad_shape(path: &str) -> PublishError {
    transient(format!(
        "unexpected answer shape from {}",
        path.split('?').next().unwrap_or(path)
    ))
}

fn transient(message: String) -> PublishError {
    PublishError::Transient {
        message,
        retry_after: None,
    }
}
