//! Running the git CLI: argument vectors (never a shell), a fixed environment, time limits, and
//! turning git's complaints into [`PublishError`]s without leaking credentials.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::PublishError;
use crate::redact::redact_credentials;

/// Default limit for commands that talk to the remote.
pub(crate) const NETWORK_TIMEOUT: Duration = Duration::from_secs(120);
/// Limit for commands that only touch the local object store.
pub(crate) const LOCAL_TIMEOUT: Duration = Duration::from_secs(30);

/// What a finished git command printed.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) success: bool,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// A git invocation context: the publisher's bare repository plus author identity.
#[derive(Debug, Clone)]
pub(crate) struct Git {
    pub(crate) git_dir: PathBuf,
    pub(crate) author_name: String,
    pub(crate) author_email: String,
    /// Limit for commands that talk to the remote.
    pub(crate) network_timeout: Duration,
}

impl Git {
    /// Runs `git <args>` in the publisher's repository; `stdin` is written to the child if given.
    pub(crate) async fn run(
        &self,
        args: &[&str],
        stdin: Option<&[u8]>,
        env: &[(&str, OsString)],
        limit: Duration,
    ) -> Result<Output, PublishError> {
        let mut cmd = Command::new("git");
        cmd.arg("--git-dir")
            .arg(&self.git_dir)
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GCM_INTERACTIVE", "never")
            .env("LC_ALL", "C")
            .env("GIT_AUTHOR_NAME", &self.author_name)
            .env("GIT_AUTHOR_EMAIL", &self.author_email)
            .env("GIT_COMMITTER_NAME", &self.author_name)
            .env("GIT_COMMITTER_EMAIL", &self.author_email)
            // Abort transfers that stall instead of hanging until the overall limit.
            .env("GIT_HTTP_LOW_SPEED_LIMIT", "1000")
            .env("GIT_HTTP_LOW_SPEED_TIME", "30")
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so a timeout can also end the transport helpers git starts
            // (git-remote-http, ssh), which would otherwise linger.
            .process_group(0)
            .kill_on_drop(true);
        for (key, value) in env {
            cmd.env(key, value);
        }
        let what = describe(args);
        let mut child = cmd.spawn().map_err(|e| {
            PublishError::Permanent(format!(
                "cannot run git ({e}); install git and put it on PATH"
            ))
        })?;
        let pid = child.id();
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            let input = input.to_vec();
            tokio::spawn(async move {
                // A child that exits early closes the pipe; its exit status tells the story.
                let _ = pipe.write_all(&input).await;
            });
        }
        let output = match tokio::time::timeout(limit, child.wait_with_output()).await {
            Ok(Ok(output)) => output,
            Ok(Err(e)) => {
                return Err(PublishError::Transient {
                    message: format!("{what} failed: {e}"),
                    retry_after: None,
                });
            }
            Err(_) => {
                if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
                    // SAFETY: kill(2) with a negative pid signals the process group our child leads;
                    // no memory is involved.
                    unsafe { libc::kill(-pid, libc::SIGKILL) };
                }
                return Err(PublishError::Transient {
                    message: format!("{what} did not finish within {} s", limit.as_secs()),
                    retry_after: None,
                });
            }
        };
        Ok(Output {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: redact_credentials(&String::from_utf8_lossy(&output.stderr)),
        })
    }

    /// Runs a command that must succeed and returns its trimmed stdout.
    pub(crate) async fn ok(
        &self,
        args: &[&str],
        stdin: Option<&[u8]>,
        env: &[(&str, OsString)],
        limit: Duration,
    ) -> Result<String, PublishError> {
        let out = self.run(args, stdin, env, limit).await?;
        if out.success {
            Ok(out.stdout.trim().to_owned())
        } else {
            Err(classify(&describe(args), &out.stderr))
        }
    }
}

/// Names a command for messages, without any URL argument (those may carry credentials).
pub(crate) fn describe(args: &[&str]) -> String {
    let shown: Vec<&str> = args
        .iter()
        .take(2)
        .map(|a| {
            if a.contains("://") || a.contains('@') {
                "<remote>"
            } else {
                a
            }
        })
        .collect();
    format!("git {}", shown.join(" "))
}

/// Sorts a failed git command into retry-later or give-up, by what git printed.
pub(crate) fn classify(what: &str, stderr: &str) -> PublishError {
    let text = stderr.trim();
    let lower = text.to_ascii_lowercase();
    const PERMANENT: &[&str] = &[
        "authentication failed",
        "could not read username",
        "could not read password",
        "terminal prompts disabled",
        "permission denied",
        "repository not found",
        "does not appear to be a git repository",
        "not a git repository",
        "returned error: 401",
        "returned error: 403",
        "returned error: 404",
        "host key verification failed",
        "invalid username or password",
        "unsupported url protocol",
        "protocol '",
        "not valid: is this a git repository",
    ];
    let message = format!("{what} failed: {}", last_lines(text));
    // Smart HTTP: "fatal: repository 'https://host/x.git/' not found".
    let repo_not_found = lower.contains("repository '") && lower.contains("' not found");
    if repo_not_found || PERMANENT.iter().any(|p| lower.contains(p)) {
        PublishError::Permanent(message)
    } else {
        PublishError::Transient {
            message,
            retry_after: None,
        }
    }
}

/// The informative tail of git's stderr (progress chatter comes first).
fn last_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(4);
    lines[start..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_and_missing_repositories_are_permanent() {
        for stderr in [
            "remote: Invalid username or password.\nfatal: Authentication failed for 'https://***@h/r.git/'",
            "fatal: 'https://h/x.git/' does not appear to be a git repository",
            "fatal: repository 'http://127.0.0.1:9/none.git/' not found",
            "fatal: could not read Username for 'https://h': terminal prompts disabled",
        ] {
            assert!(
                matches!(classify("git fetch", stderr), PublishError::Permanent(_)),
                "{stderr}"
            );
        }
    }

    #[test]
    fn network_trouble_is_transient() {
        for stderr in [
            "fatal: unable to access 'http://127.0.0.1:1/r.git/': Failed to connect to 127.0.0.1 port 1: Connection refused",
            "error: RPC failed; HTTP 502 curl 22 The requested URL returned error: 502",
            "fatal: the remote end hung up unexpectedly",
        ] {
            assert!(
                matches!(
                    classify("git fetch", stderr),
                    PublishError::Transient { .. }
                ),
                "{stderr}"
            );
        }
    }

    #[test]
    fn describe_hides_urls() {
        assert_eq!(
            describe(&["ls-remote", "https://u:p@h/r"]),
            "git ls-remote <remote>"
        );
    }
}
