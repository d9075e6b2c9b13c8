//! The real bare git repository behind the stand-in: refs, blobs, trees and commits made with the
//! git CLI (plumbing only; refs move with `update-ref <new> <old>` so a lost race is detected).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// The all-zero object id: as the old value of `update-ref` it means "must not exist yet".
pub(crate) const ZERO_OID: &str = "0000000000000000000000000000000000000000";

/// A bare repository driven through the git CLI.
#[derive(Debug, Clone)]
pub struct BareRepo {
    dir: PathBuf,
}

/// One commit as the API shows it.
#[derive(Debug, Clone)]
pub(crate) struct CommitInfo {
    pub(crate) sha: String,
    pub(crate) tree: String,
    pub(crate) parents: Vec<String>,
    pub(crate) author: (String, String, String),
    pub(crate) committer: (String, String, String),
    pub(crate) message: String,
}

/// A git failure, with git's own words.
#[derive(Debug)]
pub struct GitError(pub String);

impl std::fmt::Display for GitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GitError {}

impl BareRepo {
    /// Opens `dir`, creating a bare repository with one commit (a README) on `default_branch` when
    /// `dir` holds no repository yet.
    pub async fn open_or_init(dir: &Path, default_branch: &str) -> Result<BareRepo, GitError> {
        let repo = BareRepo {
            dir: dir.to_path_buf(),
        };
        if dir.join("HEAD").is_file() {
            return Ok(repo);
        }
        std::fs::create_dir_all(dir)
            .map_err(|e| GitError(format!("cannot create {}: {e}", dir.display())))?;
        let out = Command::new("git")
            .args([
                "init",
                "--bare",
                "--quiet",
                "--initial-branch",
                default_branch,
            ])
            .arg(dir)
            .output()
            .await
            .map_err(|e| GitError(format!("cannot run git: {e}")))?;
        if !out.status.success() {
            return Err(GitError(String::from_utf8_lossy(&out.stderr).into_owned()));
        }
        let blob = repo
            .git(&["hash-object", "-w", "--stdin"], Some(b"# infra\n"), None)
            .await?;
        let tree = repo
            .git(
                &["mktree"],
                Some(format!("100644 blob {blob}\tREADME.md\n").as_bytes()),
                None,
            )
            .await?;
        let commit = repo
            .git_as(
                &[
                    "commit-tree",
                    "--no-gpg-sign",
                    &tree,
                    "-m",
                    "Initial commit",
                ],
                None,
                None,
                ("GitHub", "noreply@github.com"),
            )
            .await?;
        repo.update_ref(&format!("refs/heads/{default_branch}"), &commit, ZERO_OID)
            .await?;
        Ok(repo)
    }

    /// The repository's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    async fn git(
        &self,
        args: &[&str],
        stdin: Option<&[u8]>,
        index: Option<&Path>,
    ) -> Result<String, GitError> {
        self.git_as(args, stdin, index, ("GitHub", "noreply@github.com"))
            .await
    }

    async fn git_as(
        &self,
        args: &[&str],
        stdin: Option<&[u8]>,
        index: Option<&Path>,
        who: (&str, &str),
    ) -> Result<String, GitError> {
        let mut cmd = Command::new("git");
        cmd.arg("--git-dir")
            .arg(&self.dir)
            .args(args)
            .env("LC_ALL", "C")
            .env("GIT_AUTHOR_NAME", who.0)
            .env("GIT_AUTHOR_EMAIL", who.1)
            .env("GIT_COMMITTER_NAME", "GitHub")
            .env("GIT_COMMITTER_EMAIL", "noreply@github.com")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(index) = index {
            cmd.env("GIT_INDEX_FILE", index);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| GitError(format!("cannot run git: {e}")))?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input)
                .await
                .map_err(|e| GitError(format!("git stdin: {e}")))?;
        }
        let out = child
            .wait_with_output()
            .await
            .map_err(|e| GitError(format!("git: {e}")))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
        } else {
            Err(GitError(format!(
                "git {}: {}",
                args[0],
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    }

    /// The commit `refname` points at, if it exists.
    pub(crate) async fn resolve(&self, refname: &str) -> Option<String> {
        self.git(
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{refname}^{{commit}}"),
            ],
            None,
            None,
        )
        .await
        .ok()
    }

    /// Whether `sha` names a commit in the repository.
    pub(crate) async fn is_commit(&self, sha: &str) -> bool {
        sha.len() == 40
            && self
                .git(
                    &["cat-file", "-e", &format!("{sha}^{{commit}}")],
                    None,
                    None,
                )
                .await
                .is_ok()
    }

    /// Moves (or creates, with [`ZERO_OID`] as `old`) a ref, failing if it no longer has `old`.
    pub(crate) async fn update_ref(
        &self,
        refname: &str,
        new: &str,
        old: &str,
    ) -> Result<(), GitError> {
        self.git(&["update-ref", refname, new, old], None, None)
            .await
            .map(drop)
    }

    /// `(kind, sha)` of `path` in `commit`, when it exists.
    pub(crate) async fn entry(&self, commit: &str, path: &str) -> Option<(String, String)> {
        let sha = self
            .git(
                &[
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    &format!("{commit}:{path}"),
                ],
                None,
                None,
            )
            .await
            .ok()?;
        let kind = self.git(&["cat-file", "-t", &sha], None, None).await.ok()?;
        Some((kind, sha))
    }

    /// The bytes of a blob.
    pub(crate) async fn blob(&self, sha: &str) -> Result<Vec<u8>, GitError> {
        let out = Command::new("git")
            .arg("--git-dir")
            .arg(&self.dir)
            .args(["cat-file", "blob", sha])
            .output()
            .await
            .map_err(|e| GitError(format!("cannot run git: {e}")))?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(GitError(String::from_utf8_lossy(&out.stderr).into_owned()))
        }
    }

    /// Names of the entries of a tree (`commit:path`), as (kind, sha, name).
    pub(crate) async fn list(
        &self,
        commit: &str,
        path: &str,
    ) -> Result<Vec<(String, String, String)>, GitError> {
        let listing = self
            .git(&["ls-tree", &format!("{commit}:{path}")], None, None)
            .await?;
        Ok(listing
            .lines()
            .filter_map(|l| {
                let (meta, name) = l.split_once('\t')?;
                let mut parts = meta.split(' ');
                let (_mode, kind, sha) = (parts.next()?, parts.next()?, parts.next()?);
                Some((kind.to_owned(), sha.to_owned(), name.to_owned()))
            })
            .collect())
    }

    /// A new commit on `parent` with `path` set to `content`; returns (commit, blob).
    pub(crate) async fn commit_file(
        &self,
        parent: &str,
        path: &str,
        content: &[u8],
        message: &str,
        author: (&str, &str),
    ) -> Result<(String, String), GitError> {
        let blob = self
            .git(&["hash-object", "-w", "--stdin"], Some(content), None)
            .await?;
        let index = std::env::temp_dir().join(format!(
            "github-standin-index-{}-{}",
            std::process::id(),
            unique()
        ));
        let result = async {
            self.git(&["read-tree", parent], None, Some(&index)).await?;
            self.git(
                &[
                    "update-index",
                    "--add",
                    "--cacheinfo",
                    &format!("100644,{blob},{path}"),
                ],
                None,
                Some(&index),
            )
            .await?;
            let tree = self.git(&["write-tree"], None, Some(&index)).await?;
            self.git_as(
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
                None,
                author,
            )
            .await
        }
        .await;
        let _ = std::fs::remove_file(&index);
        Ok((result?, blob))
    }

    /// A tree: `base` (a tree, or none) with each `(path, Some(content))` written and each
    /// `(path, None)` deleted (`POST /git/trees`).
    pub(crate) async fn build_tree(
        &self,
        base: Option<&str>,
        entries: &[(String, Option<Vec<u8>>)],
    ) -> Result<String, GitError> {
        let index = std::env::temp_dir().join(format!(
            "github-standin-index-{}-{}",
            std::process::id(),
            unique()
        ));
        let result = async {
            match base {
                Some(tree) => self.git(&["read-tree", tree], None, Some(&index)).await?,
                None => {
                    self.git(&["read-tree", "--empty"], None, Some(&index))
                        .await?
                }
            };
            for (path, content) in entries {
                match content {
                    Some(bytes) => {
                        let blob = self
                            .git(&["hash-object", "-w", "--stdin"], Some(bytes), None)
                            .await?;
                        let info = format!("100644,{blob},{path}");
                        self.git(
                            &["update-index", "--add", "--cacheinfo", &info],
                            None,
                            Some(&index),
                        )
                        .await?;
                    }
                    None => {
                        // Mode 0 removes the path (`--force-remove` would want a work tree).
                        let line = format!("0 {}\t{path}\n", "0".repeat(40));
                        self.git(
                            &["update-index", "--index-info"],
                            Some(line.as_bytes()),
                            Some(&index),
                        )
                        .await?;
                    }
                }
            }
            self.git(&["write-tree"], None, Some(&index)).await
        }
        .await;
        let _ = std::fs::remove_file(&index);
        result
    }

    /// Whether `sha` names an object of `kind` (`tree`, `commit`, ...).
    pub(crate) async fn is_a(&self, sha: &str, kind: &str) -> bool {
        sha.len() == 40
            && self
                .git(&["cat-file", "-t", sha], None, None)
                .await
                .is_ok_and(|k| k == kind)
    }

    /// A commit of `tree` on `parents` (`POST /git/commits`).
    pub(crate) async fn commit_tree(
        &self,
        tree: &str,
        parents: &[String],
        message: &str,
        author: (&str, &str),
    ) -> Result<String, GitError> {
        let mut args = vec!["commit-tree", "--no-gpg-sign", tree];
        for p in parents {
            args.extend(["-p", p.as_str()]);
        }
        args.extend(["-F", "-"]);
        self.git_as(&args, Some(message.as_bytes()), None, author)
            .await
    }

    /// Everything the API shows about a commit.
    pub(crate) async fn commit_info(&self, sha: &str) -> Result<CommitInfo, GitError> {
        let text = self
            .git(
                &[
                    "show",
                    "-s",
                    "--format=%H%n%T%n%P%n%an%n%ae%n%aI%n%cn%n%ce%n%cI%n%B",
                    sha,
                ],
                None,
                None,
            )
            .await?;
        let mut lines = text.lines();
        let mut next = || lines.next().unwrap_or_default().to_owned();
        let (sha, tree, parents) = (next(), next(), next());
        let author = (next(), next(), next());
        let committer = (next(), next(), next());
        let message = text.lines().skip(9).collect::<Vec<_>>().join("\n");
        Ok(CommitInfo {
            sha,
            tree,
            parents: parents.split_whitespace().map(str::to_owned).collect(),
            author,
            committer,
            message,
        })
    }

    /// Whether `ancestor` is reachable from `descendant`.
    pub(crate) async fn is_ancestor(&self, ancestor: &str, descendant: &str) -> bool {
        self.git(
            &["merge-base", "--is-ancestor", ancestor, descendant],
            None,
            None,
        )
        .await
        .is_ok()
    }

    /// First-parent history of a branch, newest first (for tests and assertions).
    pub async fn log(&self, branch: &str) -> Result<Vec<String>, GitError> {
        let text = self
            .git(
                &[
                    "rev-list",
                    "--first-parent",
                    &format!("refs/heads/{branch}"),
                ],
                None,
                None,
            )
            .await?;
        Ok(text.lines().map(str::to_owned).collect())
    }

    /// The content of `path` on `branch`, if present (for tests and assertions).
    pub async fn read(&self, branch: &str, path: &str) -> Option<Vec<u8>> {
        let (kind, sha) = self.entry(&format!("refs/heads/{branch}"), path).await?;
        if kind != "blob" {
            return None;
        }
        self.blob(&sha).await.ok()
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
