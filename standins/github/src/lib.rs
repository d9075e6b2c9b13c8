//! A local stand-in for the part of GitHub's REST API that stagesub's publisher uses, backed by a
//! real bare git repository, so tests can check the actual history.
//!
//! Endpoints (answer shapes per GitHub's REST docs): `GET /repos/{o}/{r}`,
//! `GET /repos/{o}/{r}/git/ref/heads/{branch}`, `POST /repos/{o}/{r}/git/refs`,
//! `GET|PUT /repos/{o}/{r}/contents/{path}`, `GET /repos/{o}/{r}/git/commits/{sha}`,
//! `POST /repos/{o}/{r}/git/trees`, `POST /repos/{o}/{r}/git/commits`,
//! `PATCH /repos/{o}/{r}/git/refs/{ref}`, `GET|POST /repos/{o}/{r}/pulls`,
//! `POST /app/installations/{id}/access_tokens`. Test controls: `GET|DELETE /_standin/requests`
//! (the request log), `GET|POST /_standin/faults` ([`Faults`]), `GET /_standin/pulls`.
//!
//! Modules: `repo` (git plumbing on the bare repository), `guard` (auth, faults, recording),
//! `refs`, `contents` and `trees` (git data endpoints), `pulls` (pull requests, App tokens, repository),
//! `shapes` (JSON bodies).

mod contents;
mod faults;
mod guard;
mod pulls;
mod refs;
mod repo;
mod shapes;
mod trees;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, post};

pub use faults::{Faults, RecordedRequest};
pub use pulls::PullRequestRecord;
pub use repo::{BareRepo, GitError};

/// GitHub App credentials the stand-in accepts.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The App id (the JWT's `iss`).
    pub app_id: u64,
    /// The App's RSA public key, PEM; JWTs must verify against it (RS256).
    pub public_key_pem: String,
    /// The only installation id tokens are issued for.
    pub installation_id: u64,
}

/// What the stand-in serves.
#[derive(Debug, Clone)]
pub struct StandinConfig {
    /// Bare repository backing the API; created (with an initial commit) when missing.
    pub repo_dir: PathBuf,
    /// Repository owner (`owner` of `owner/repo`).
    pub owner: String,
    /// Repository name.
    pub name: String,
    /// Branch created in a new repository, and the default `ref` of contents reads.
    pub default_branch: String,
    /// Bearer token accepted for API calls.
    pub token: String,
    /// Optional GitHub App whose installation tokens are also accepted.
    pub app: Option<AppConfig>,
    /// Where to listen, normally `127.0.0.1:0`.
    pub bind: SocketAddr,
}

/// Shared state of a running stand-in.
#[derive(Debug)]
pub(crate) struct AppState {
    pub(crate) config: StandinConfig,
    pub(crate) repo: BareRepo,
    pub(crate) base_url: String,
    pub(crate) faults: Mutex<faults::FaultState>,
    pub(crate) requests: Mutex<Vec<RecordedRequest>>,
    pub(crate) pulls: Mutex<Vec<PullRequestRecord>>,
    /// Issued installation tokens and their expiry (epoch seconds).
    pub(crate) installation_tokens: Mutex<HashMap<String, u64>>,
    /// Writes to the repository happen one at a time, as on GitHub.
    pub(crate) write_lock: tokio::sync::Mutex<()>,
}

pub(crate) type Shared = Arc<AppState>;

/// Locks a std mutex, shrugging off poisoning (a panicked handler leaves consistent data here).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A stand-in serving on a local port.
#[derive(Debug)]
pub struct RunningStandin {
    addr: SocketAddr,
    state: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningStandin {
    /// Base URL of the API, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bare repository behind the API.
    pub fn repo(&self) -> &BareRepo {
        &self.state.repo
    }

    /// The API requests received so far (test controls excluded).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// Replaces the fault knobs.
    pub fn set_faults(&self, faults: Faults) {
        lock(&self.state.faults).set(faults);
    }

    /// All pull requests, in creation order.
    pub fn pull_requests(&self) -> Vec<PullRequestRecord> {
        lock(&self.state.pulls).clone()
    }

    /// Stops serving and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for RunningStandin {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Opens (or creates) the repository, binds the listener and serves in a background task.
pub async fn start(
    config: StandinConfig,
) -> Result<RunningStandin, Box<dyn std::error::Error + Send + Sync>> {
    let repo = BareRepo::open_or_init(&config.repo_dir, &config.default_branch).await?;
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let addr = listener.local_addr()?;
    let state = Arc::new(AppState {
        config,
        repo,
        base_url: format!("http://{addr}"),
        faults: Mutex::default(),
        requests: Mutex::default(),
        pulls: Mutex::default(),
        installation_tokens: Mutex::default(),
        write_lock: tokio::sync::Mutex::new(()),
    });
    let app = router(state.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        if let Err(e) = served.await {
            eprintln!("github-standin: server error: {e}");
        }
    });
    Ok(RunningStandin {
        addr,
        state,
        stop: Some(stop),
        task,
    })
}

fn router(state: Shared) -> Router {
    Router::new()
        .route("/repos/{owner}/{repo}", get(pulls::get_repository))
        .route("/repos/{owner}/{repo}/git/ref/{*name}", get(refs::get_ref))
        .route("/repos/{owner}/{repo}/git/refs", post(refs::create_ref))
        .route(
            "/repos/{owner}/{repo}/git/refs/{*name}",
            axum::routing::patch(trees::update_ref),
        )
        .route("/repos/{owner}/{repo}/git/trees", post(trees::create_tree))
        .route(
            "/repos/{owner}/{repo}/git/commits",
            post(trees::create_commit),
        )
        .route(
            "/repos/{owner}/{repo}/git/commits/{sha}",
            get(trees::get_commit),
        )
        .route(
            "/repos/{owner}/{repo}/contents/{*path}",
            get(contents::get_contents).put(contents::put_contents),
        )
        .route(
            "/repos/{owner}/{repo}/pulls",
            get(pulls::list_pulls).post(pulls::create_pull),
        )
        .route(
            "/app/installations/{id}/access_tokens",
            post(pulls::installation_token),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::guard,
        ))
        .route(
            "/_standin/requests",
            get(guard::list_requests).delete(guard::clear_requests),
        )
        .route(
            "/_standin/faults",
            get(guard::get_faults).post(guard::set_faults),
        )
        .route("/_standin/pulls", get(pulls::all_pulls))
        .with_state(state)
}
