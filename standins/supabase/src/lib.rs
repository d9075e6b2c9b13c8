//! A local stand-in for the part of Supabase's Management API that stagesub uses, backed by a real
//! PostgreSQL server: every project is a real database (`sb_<ref>`) owned by a real login role
//! (`postgres.<ref>`, spelled like Supabase's pooler user) whose password is the project's `db_pass`.
//!
//! Structure:
//! - [`config`]: start-up [`Config`] and the run-time [`Faults`] knobs (latency, 5xx, rate limit, lifecycle
//!   timing, failed creates, paid organizations, compute sizes the organization may use).
//! - `http`: the `/v1` routes (shapes from the OpenAPI subset in `shared/reference/`), behind bearer auth,
//!   a per-token rate limit with `X-RateLimit-*` headers and fault injection; `/_standin/*` test controls.
//! - `state` (metadata kept in memory), `service` (timed status changes), `admin` (the real DDL).
//!
//! Deviations from the real service, on purpose:
//! - One local server hosts every project: the pooler config's `db_host`/`db_port` are that server's, its
//!   `db_name` is the project's own database and `db_user` its own role, for both the `session` and the
//!   `transaction` entry (there is no Supavisor, so no separate 6543 port). `database.host` is the same host.
//! - SSL enforcement and network restrictions are stored and echoed, not enforced.
//! - Organizations are implicit: any valid slug exists. A duplicate project name in an organization is a 409.
//! - Projects made with `POST /_standin/bulk-projects` have metadata only (no database, no role).
//!
//! Start it in-process with [`start`], or run the `supabase-standin` binary.

pub mod config;
mod metering;

mod admin;
mod clock;
mod http;
mod service;
mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub use config::{Config, Faults, FaultsPatch};
pub use metering::Stats;

use service::{Shared, lock};

/// Why the stand-in could not start or stop cleanly.
#[derive(Debug)]
pub struct StandinError(String);

impl std::fmt::Display for StandinError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StandinError {}

/// A stand-in serving on its own socket until [`RunningStandin::shutdown`] or drop; both drop the real
/// databases and roles of the projects still known.
#[derive(Debug)]
pub struct RunningStandin {
    addr: SocketAddr,
    base_url: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

/// Checks the admin server, binds `config.listen` and serves the API in a background task.
pub async fn start(config: Config) -> Result<RunningStandin, StandinError> {
    let admin = admin::Admin::new(&config.postgres_url, config.db_host.clone(), config.db_port)
        .map_err(StandinError)?;
    admin.check_privileges().await.map_err(StandinError)?;
    let server_version = admin.server_version().await.map_err(StandinError)?;
    let faults = config.faults.clone();
    faults.validate().map_err(StandinError)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|error| StandinError(format!("cannot listen on {}: {error}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|error| StandinError(format!("cannot read the listening address: {error}")))?;
    let shared = Arc::new(Shared {
        store: Mutex::default(),
        faults: Mutex::new(faults),
        stats: Mutex::default(),
        limiter: Mutex::default(),
        admin,
        token: config.token,
        server_version,
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = http::app(shared.clone());
    let server = tokio::spawn(async move {
        let serving = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        if let Err(error) = serving.await {
            eprintln!("supabase-standin: server stopped: {error}");
        }
    });
    Ok(RunningStandin {
        addr,
        base_url: format!("http://{addr}"),
        shared,
        stop: Some(stop),
        server: Some(server),
    })
}

impl RunningStandin {
    /// Base URL to give clients, e.g. `http://127.0.0.1:40123` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Changes the knobs named in `patch`; returns them all, or why a value is out of range.
    pub fn set_faults(&self, patch: FaultsPatch) -> Result<Faults, StandinError> {
        http::apply_faults(&self.shared, &patch).map_err(StandinError)
    }

    /// The current knobs.
    pub fn faults(&self) -> Faults {
        self.shared.faults()
    }

    /// Call counts since start or the last [`RunningStandin::reset_stats`].
    pub fn stats(&self) -> Stats {
        lock(&self.shared.stats).clone()
    }

    /// Zeroes the call counts.
    pub fn reset_stats(&self) {
        *lock(&self.shared.stats) = Stats::default();
    }

    /// Stops serving, then drops the databases and roles of every project still known.
    pub async fn shutdown(mut self) -> Result<(), StandinError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        service::drop_all(&self.shared).await.map_err(StandinError)
    }
}

impl Drop for RunningStandin {
    /// Without [`RunningStandin::shutdown`] (a test that panicked, say), stops serving and still drops the
    /// project databases, on a helper thread with its own runtime since `drop` cannot await.
    fn drop(&mut self) {
        let Some(stop) = self.stop.take() else {
            return;
        };
        let _ = stop.send(());
        if lock(&self.shared.store).projects.is_empty() {
            return;
        }
        let shared = self.shared.clone();
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            match runtime {
                Ok(runtime) => runtime.block_on(service::drop_all(&shared)),
                Err(error) => Err(format!(
                    "cannot start a runtime to drop the databases: {error}"
                )),
            }
        });
        if let Ok(Err(error)) = cleanup.join() {
            eprintln!("supabase-standin: {error}");
        }
    }
}
