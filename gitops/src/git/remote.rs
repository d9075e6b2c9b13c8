//! Talking to the remote: reading heads, fetching, pushing.

use super::GitCliPublisher;
use super::cmd::{LOCAL_TIMEOUT, classify, describe};
use crate::PublishError;

/// What became of a push.
#[derive(Debug)]
pub(super) enum PushOutcome {
    /// The branch now points at the commit.
    Pushed,
    /// The branch already pointed at this exact commit.
    AlreadyThere,
    /// Someone else moved the branch first; re-apply on the new tip.
    Moved(String),
}

impl GitCliPublisher {
    /// The remote tips of `branches` (None where the branch does not exist), with their objects
    /// present in the cache repository.
    pub(super) async fn fetch_heads(
        &self,
        branches: &[&str],
    ) -> Result<Vec<Option<String>>, PublishError> {
        let refs: Vec<String> = branches.iter().map(|b| format!("refs/heads/{b}")).collect();
        let mut args = vec!["ls-remote", "--heads", "--", self.remote_url.as_str()];
        args.extend(refs.iter().map(String::as_str));
        let listing = self
            .git
            .ok(&args, None, &[], self.git.network_timeout)
            .await?;
        let tips: Vec<Option<String>> = refs
            .iter()
            .map(|r| {
                listing.lines().find_map(|line| {
                    let (sha, name) = line.split_once('\t')?;
                    (name == r).then(|| sha.to_owned())
                })
            })
            .collect();
        // Branches whose tip commit the cache lacks get fetched (by name: servers need not serve
        // unadvertised object ids).
        let mut missing = Vec::new();
        for (branch, tip) in branches.iter().zip(&tips) {
            if let Some(sha) = tip {
                let probe = format!("{sha}^{{commit}}");
                if !missing.contains(branch)
                    && !self
                        .git
                        .run(&["cat-file", "-e", &probe], None, &[], LOCAL_TIMEOUT)
                        .await?
                        .success
                {
                    missing.push(*branch);
                }
            }
        }
        if missing.is_empty() {
            return Ok(tips);
        }
        let specs: Vec<String> = missing
            .iter()
            .map(|b| format!("+refs/heads/{b}:refs/remotes/origin/{b}"))
            .collect();
        let mut args = vec![
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--",
            self.remote_url.as_str(),
        ];
        args.extend(specs.iter().map(String::as_str));
        self.git
            .ok(&args, None, &[], self.git.network_timeout)
            .await?;
        // A fetched tip may be newer than what ls-remote saw: the fetched ref is the truth.
        let mut fresh = tips;
        for (branch, tip) in branches.iter().zip(fresh.iter_mut()) {
            if missing.contains(branch) {
                let local = format!("refs/remotes/origin/{branch}");
                *tip = Some(
                    self.git
                        .ok(&["rev-parse", "--verify", &local], None, &[], LOCAL_TIMEOUT)
                        .await?,
                );
            }
        }
        Ok(fresh)
    }

    /// Pushes `commit` to `branch` as a fast-forward (or creation).
    pub(super) async fn push(
        &self,
        commit: &str,
        branch: &str,
    ) -> Result<PushOutcome, PublishError> {
        let refspec = format!("{commit}:refs/heads/{branch}");
        let args = [
            "push",
            "--porcelain",
            "--",
            self.remote_url.as_str(),
            refspec.as_str(),
        ];
        let out = self
            .git
            .run(&args, None, &[], self.git.network_timeout)
            .await?;
        if out.success {
            // `=` marks a ref that already pointed at the commit: another replica built the very
            // same commit object (same tree, parent, message, identity and second) and pushed first.
            if out.stdout.lines().any(|l| l.starts_with('=')) {
                return Ok(PushOutcome::AlreadyThere);
            }
            return Ok(PushOutcome::Pushed);
        }
        // Porcelain: a line `!<TAB>from:to<TAB>[rejected] (reason)` per refused ref.
        if let Some(line) = out.stdout.lines().find(|l| l.starts_with('!')) {
            let reason = line.rsplit('\t').next().unwrap_or(line).to_owned();
            const MOVED: &[&str] = &[
                "fetch first",
                "non-fast-forward",
                "stale info",
                "cannot lock ref",
                "failed to update ref",
                "incorrect old value",
                "already exists",
            ];
            if MOVED.iter().any(|m| reason.contains(m)) {
                return Ok(PushOutcome::Moved(reason));
            }
            return Err(PublishError::Permanent(format!(
                "the remote refused the push to {branch:?}: {reason}"
            )));
        }
        Err(classify(&describe(&args), &out.stderr))
    }
}
