//! `github-standin`: serves the GitHub REST stand-in until interrupted.
//!
//! ```text
//! github-standin --repo-dir DIR --repository owner/name --token TOKEN [--port N] [--default-branch main]
//!                [--app-id N --app-public-key FILE --installation-id N]
//! ```
//! The first line on stdout is `listening on http://127.0.0.1:PORT`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use github_standin::{AppConfig, StandinConfig, start};

fn usage() -> &'static str {
    "usage: github-standin --repo-dir DIR --repository owner/name --token TOKEN [--port N] [--default-branch BRANCH] \
     [--app-id N --app-public-key PEM_FILE --installation-id N]"
}

fn parse(args: Vec<String>) -> Result<StandinConfig, String> {
    let mut values = std::collections::HashMap::new();
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(usage().into());
        }
        let Some(name) = flag.strip_prefix("--") else {
            return Err(format!("unexpected argument {flag:?}\n{}", usage()));
        };
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        values.insert(name.to_owned(), value);
    }
    let take = |k: &str| values.get(k).cloned();
    let need = |k: &str| take(k).ok_or_else(|| format!("--{k} is required\n{}", usage()));
    let repository = need("repository")?;
    let (owner, name) = repository
        .split_once('/')
        .ok_or("--repository must be owner/name")?;
    let port: u16 = take("port")
        .map(|p| p.parse().map_err(|_| "--port must be a number"))
        .transpose()?
        .unwrap_or(0);
    let number = |k: &str| -> Result<u64, String> {
        need(k)?
            .parse()
            .map_err(|_| format!("--{k} must be a number"))
    };
    let app = match take("app-id") {
        None => None,
        Some(_) => {
            let key_file = need("app-public-key")?;
            let public_key_pem = std::fs::read_to_string(&key_file)
                .map_err(|e| format!("cannot read {key_file}: {e}"))?;
            Some(AppConfig {
                app_id: number("app-id")?,
                public_key_pem,
                installation_id: number("installation-id")?,
            })
        }
    };
    Ok(StandinConfig {
        repo_dir: PathBuf::from(need("repo-dir")?),
        owner: owner.to_owned(),
        name: name.to_owned(),
        default_branch: take("default-branch").unwrap_or_else(|| "main".into()),
        token: need("token")?,
        app,
        bind: ([127, 0, 0, 1], port).into(),
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let config = match parse(std::env::args().skip(1).collect()) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let running = match start(config).await {
        Ok(running) => running,
        Err(e) => {
            eprintln!("github-standin: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", running.url());
    let _ = std::io::stdout().flush();
    let _ = tokio::signal::ctrl_c().await;
    running.shutdown().await;
    ExitCode::SUCCESS
}
