//! Measures publish latency of both backends on this machine: the git CLI backend against a bare
//! repository over `file://`, and the GitHub backend against the local stand-in.
//!
//! `cargo run -p stagesub-gitops --example publish_bench [tenants]` (default 40 tenants). For each
//! backend: a new tenant (commit, and for GitHub a branch and pull request), then a repeated delivery
//! of the same change (no commit). Prints median and p90 per case.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use stagesub_gitops::git::{GitCliConfig, GitCliPublisher};
use stagesub_gitops::github::{GithubAuth, GithubConfig, GithubPublisher};
use stagesub_gitops::{CommitMode, Publisher, TenantChange};

fn change(subdomain: &str) -> TenantChange {
    TenantChange {
        subdomain: subdomain.into(),
        path: format!("tenants/{subdomain}/main.tf"),
        remove: vec![format!("tenants/{subdomain}.tf")],
        content: format!(
            "module \"orchestra-{subdomain}\" {{\n  subdomain = \"{subdomain}\"\n}}\n"
        ),
        commit_message: format!("Provision {subdomain}"),
        pr_title: format!("Provision {subdomain}"),
        pr_body: String::new(),
    }
}

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(args)
        .status()
        .expect("git runs")
        .success();
    assert!(ok, "git {args:?}");
}

fn summary(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{name:<45} n={:<4} median={:>7.1} ms  p90={:>7.1} ms",
        samples.len(),
        ms(at(0.5)),
        ms(at(0.9))
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn run(name: &str, prefix: &str, publisher: &dyn Publisher, tenants: usize) {
    let (mut new, mut repeat) = (Vec::new(), Vec::new());
    for i in 0..tenants {
        let change = change(&format!("{prefix}-{i}"));
        let start = Instant::now();
        assert!(publisher.publish(&change).await.expect("publish").changed);
        new.push(start.elapsed());
        let start = Instant::now();
        assert!(!publisher.publish(&change).await.expect("repeat").changed);
        repeat.push(start.elapsed());
    }
    summary(&format!("{name}: new tenant"), new);
    summary(&format!("{name}: repeated delivery"), repeat);
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let tenants: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(40);
    let dir = tempfile::tempdir().unwrap();

    let bare = dir.path().join("infra.git");
    assert!(
        Command::new("git")
            .args(["init", "--bare", "-q", "-b", "main"])
            .arg(&bare)
            .status()
            .unwrap()
            .success()
    );
    let seed = dir.path().join("seed");
    assert!(
        Command::new("git")
            .args(["init", "-q", "-b", "main"])
            .arg(&seed)
            .status()
            .unwrap()
            .success()
    );
    let seed_git = seed.join(".git");
    git(
        &seed_git,
        &[
            "-c",
            "user.name=b",
            "-c",
            "user.email=b@b",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "init",
        ],
    );
    git(&seed_git, &["push", "-q", bare.to_str().unwrap(), "main"]);
    for mode in [CommitMode::Direct, CommitMode::PullRequest] {
        let publisher = GitCliPublisher::new(GitCliConfig {
            remote_url: format!("file://{}", bare.display()),
            base_branch: "main".into(),
            mode,
            work_dir: dir.path().join(format!("work-{mode:?}")),
            author_name: "bench".into(),
            author_email: "bench@stagesub.test".into(),
        })
        .unwrap();
        let prefix = format!("git-{}", format!("{mode:?}").to_lowercase());
        run(
            &format!("git file:// {mode:?}"),
            &prefix,
            &publisher,
            tenants,
        )
        .await;
    }

    let standin = github_standin::start(github_standin::StandinConfig {
        repo_dir: dir.path().join("github.git"),
        owner: "acme".into(),
        name: "infra".into(),
        default_branch: "main".into(),
        token: "bench-token".into(),
        app: None,
        bind: "127.0.0.1:0".parse().unwrap(),
    })
    .await
    .unwrap();
    for mode in [CommitMode::Direct, CommitMode::PullRequest] {
        let publisher = GithubPublisher::new(GithubConfig {
            api_url: standin.url(),
            repository: "acme/infra".into(),
            auth: GithubAuth::Token("bench-token".into()),
            base_branch: "main".into(),
            mode,
        })
        .unwrap();
        let prefix = format!("gh-{}", format!("{mode:?}").to_lowercase());
        run(
            &format!("github stand-in {mode:?}"),
            &prefix,
            &publisher,
            tenants,
        )
        .await;
    }
    println!(
        "requests served by the stand-in: {}",
        standin.requests().len()
    );
}
