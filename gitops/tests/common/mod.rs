//! Helpers shared by the gitops integration tests: real bare repositories, a smart-HTTP git server
//! (lighttpd + git http-backend), the GitHub stand-in, and retry loops that behave like the bridge.
#![allow(dead_code, unreachable_pub)]

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use stagesub_gitops::{PublishError, Published, Publisher, TenantChange};

/// Runs git with arguments, panicking with its stderr on failure; returns trimmed stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.org")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.org")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A bare repository at `dir` with one commit (README.md) on `main`.
pub fn bare_repo(dir: &Path) -> PathBuf {
    let status = Command::new("git")
        .args(["init", "--bare", "--quiet", "--initial-branch", "main"])
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success());
    let blob = git_stdin(dir, &["hash-object", "-w", "--stdin"], b"# infra\n");
    let tree = git_stdin(
        dir,
        &["mktree"],
        format!("100644 blob {blob}\tREADME.md\n").as_bytes(),
    );
    let commit = git(dir, &["commit-tree", &tree, "-m", "Initial commit"]);
    git(dir, &["update-ref", "refs/heads/main", &commit]);
    git(dir, &["config", "http.receivepack", "true"]);
    dir.to_path_buf()
}

fn git_stdin(dir: &Path, args: &[&str], input: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// First-parent commits of `branch`, newest first (empty when the branch does not exist).
pub fn history(repo: &Path, branch: &str) -> Vec<String> {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .args([
            "rev-list",
            "--first-parent",
            &format!("refs/heads/{branch}"),
            "--",
        ])
        .output()
        .unwrap();
    if !out.status.success() {
        return Vec::new();
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Content of `path` on `branch`.
pub fn file(repo: &Path, branch: &str, path: &str) -> Option<String> {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(repo)
        .args(["show", &format!("refs/heads/{branch}:{path}")])
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Names of the files a commit changed relative to its parent.
pub fn changed_files(repo: &Path, commit: &str) -> Vec<String> {
    git(
        repo,
        &["diff-tree", "--no-commit-id", "--name-only", "-r", commit],
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

/// A tenant change with content that depends on `version`.
pub fn change(subdomain: &str, version: u32) -> TenantChange {
    TenantChange {
        subdomain: subdomain.to_owned(),
        path: format!("tenants/{subdomain}/main.tf"),
        remove: vec![format!("tenants/{subdomain}.tf")],
        content: format!(
            "module \"orchestra-{subdomain}\" {{\n  source    = \"../modules/orchestra\"\n  subdomain = \"{subdomain}\"\n  plan      = \"v{version}\"\n}}\n"
        ),
        commit_message: format!("Provision {subdomain} (v{version})"),
        pr_title: format!("Provision orchestra {subdomain}"),
        pr_body: format!("Stripe event evt_{subdomain}"),
    }
}

/// Publishes like the bridge's worker does: retry transient failures (honouring `retry_after`, capped
/// at `cap`) until success, a permanent error, or `deadline`.
pub async fn publish_until_ok(
    publisher: &dyn Publisher,
    change: &TenantChange,
    cap: Duration,
    deadline: Duration,
) -> (Published, Vec<PublishError>) {
    let start = Instant::now();
    let mut transient = Vec::new();
    loop {
        match publisher.publish(change).await {
            Ok(published) => return (published, transient),
            Err(PublishError::Permanent(m)) => panic!("permanent error: {m}"),
            Err(e @ PublishError::Transient { .. }) => {
                assert!(
                    start.elapsed() < deadline,
                    "still failing after {deadline:?}: {e}"
                );
                let PublishError::Transient { retry_after, .. } = &e else {
                    unreachable!()
                };
                let wait = retry_after.unwrap_or(Duration::from_millis(20)).min(cap);
                transient.push(e);
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// A lighttpd serving every bare repository under `root` over git's smart HTTP protocol
/// (`http://127.0.0.1:PORT/git/<name>.git`), killed on drop.
pub struct HttpGitServer {
    child: Child,
    pub port: u16,
    _conf_dir: tempfile::TempDir,
}

impl HttpGitServer {
    pub fn start(root: &Path) -> HttpGitServer {
        Self::start_with_auth(root, None)
    }

    /// Like [`start`](Self::start), requiring HTTP basic auth `(user, password)` when given.
    pub fn start_with_auth(root: &Path, basic_auth: Option<(&str, &str)>) -> HttpGitServer {
        let lighttpd = ["/usr/sbin/lighttpd", "/usr/bin/lighttpd"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .expect("lighttpd is not installed: run scripts/setup-tools.sh (it installs Debian's lighttpd)");
        let backend = [
            "/usr/lib/git-core/git-http-backend",
            "/usr/libexec/git-core/git-http-backend",
        ]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("git-http-backend not found: install git");
        let conf_dir = tempfile::tempdir().unwrap();
        let auth = match basic_auth {
            None => String::new(),
            Some((user, password)) => {
                let users = conf_dir.path().join("users");
                std::fs::write(&users, format!("{user}:{password}\n")).unwrap();
                format!(
                    r#"server.modules += ("mod_auth", "mod_authn_file")
auth.backend = "plain"
auth.backend.plain.userfile = "{}"
auth.require = ("/git" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
"#,
                    users.display()
                )
            }
        };
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let conf = conf_dir.path().join("lighttpd.conf");
            std::fs::write(
                &conf,
                format!(
                    r#"server.modules = ("mod_alias", "mod_cgi", "mod_setenv")
server.document-root = "{root}"
server.bind = "127.0.0.1"
server.port = {port}
server.errorlog = "{logs}/error.log"
server.max-worker = 0
alias.url = ("/git" => "{backend}")
$HTTP["url"] =~ "^/git" {{
    cgi.assign = ("" => "")
    setenv.add-environment = ("GIT_PROJECT_ROOT" => "{root}", "GIT_HTTP_EXPORT_ALL" => "1")
}}
{auth}"#,
                    root = root.display(),
                    logs = conf_dir.path().display(),
                    backend = backend.display(),
                ),
            )
            .unwrap();
            let mut child = Command::new(&lighttpd)
                .arg("-D")
                .arg("-f")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("lighttpd starts");
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = child.try_wait() {
                    break; // port taken between probe and bind, or a config problem: try again
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return HttpGitServer {
                        child,
                        port,
                        _conf_dir: conf_dir,
                    };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            eprintln!(
                "lighttpd did not come up: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        panic!("could not start lighttpd");
    }

    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/git/{name}", self.port)
    }
}

impl Drop for HttpGitServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
pub mod git_scenarios;
pub mod github_env;
