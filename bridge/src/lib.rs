//! `stagesub-bridge`: turns Stripe payments into tenant files in the infra Git repository.
//!
//! A Stripe webhook is verified on its raw body ([`signature`]), recorded in Postgres together with a job
//! in one transaction ([`store`]), and acknowledged. The [`worker`] claims jobs (`FOR UPDATE SKIP LOCKED`),
//! reads what the event means ([`event`]), keeps the tenant's facts ([`tenant`]), renders the tenant file
//! ([`render`]) and publishes it through a [`stagesub_gitops::Publisher`] (git CLI or GitHub API). When CI
//! reports the database ready, the worker sends the welcome email once ([`mail`]).
//! A subscription that ends opens a grace period (`ARCHIVE_GRACE`): the archive commit is a job due at
//! its end, cancelled by a renewal ([`tenant::grace_step`], `store::grace`).
//!
//! Modules by concern: [`config`] (environment), [`http`] (one router per resource), [`server`]
//! (read timeouts, graceful stop), [`store`], [`worker`], [`tenant`], [`render`], [`retry`] (when a
//! failed publish is tried again), [`mail`], [`directory`] (the tenant directory's say before a welcome),
//! [`console`] (the operator console at `/console`), [`adopt`] (import blocks for databases made by
//! hand), [`logging`], [`commands`] (the `render` and `jobs` commands), [`error`], [`metrics`]
//! (`/metrics`; reminders of provisions past `PROVISION_SLA` are `worker::reminders`). [`app`] (in [`http`], with
//! [`AppState`]) builds the router without a socket; [`serve`] runs server and worker until the cancellation token fires, then drains
//! both for at most `SHUTDOWN_GRACE`.

pub mod adopt;
pub mod commands;
pub mod config;
pub mod console;
pub mod directory;
pub mod error;
pub mod event;
pub mod http;
pub mod logging;
pub mod mail;
pub mod metrics;
pub mod render;
pub mod retry;
pub mod server;
pub mod signature;
pub mod store;
pub mod tenant;
pub mod worker;

use std::sync::Arc;

use stagesub_gitops::{PublishError, Publisher};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use config::Config;
use store::Store;

pub use http::{AppState, app};

/// Builds the publisher selected by `GIT_BACKEND`. Call inside a Tokio runtime.
pub fn build_publisher(config: &Config) -> Result<Arc<dyn Publisher>, PublishError> {
    config.git.build()
}

/// Runs the HTTP server and the worker until `cancel` fires, then lets both finish what they are
/// doing for at most `SHUTDOWN_GRACE`; after that open connections are closed and running jobs
/// abandoned (their transactions roll back, so the jobs stay queued for the next start).
pub async fn serve(config: Config, cancel: CancellationToken) -> error::Result<()> {
    let store = Store::connect_with_ca(
        config.database_url.expose(),
        config.database_ca_cert.as_deref(),
        config.worker_concurrency + 16,
    )?;
    store.migrate().await.map_err(|e| {
        error::Error::Config(format!("DATABASE_URL: cannot prepare the schema: {e}"))
    })?;
    let publisher = build_publisher(&config).map_err(|e| error::Error::Config(e.to_string()))?;
    let mailer = match &config.mail {
        Some(m) => Some(mail::Mailer::new(m)?),
        None => {
            tracing::warn!("SMTP_URL is not set: welcome and admin emails will be parked");
            None
        }
    };
    let wake = Arc::new(Notify::new());
    let state = AppState {
        store: store.clone(),
        webhook_secrets: Arc::new(
            config
                .stripe_webhook_secrets
                .iter()
                .map(|s| s.expose().to_owned())
                .collect(),
        ),
        api_token: config.api_token.clone(),
        wake: wake.clone(),
        directory: config.directory_url.clone().map(directory::Directory::new),
    };
    let ctx = worker::WorkerContext {
        publisher,
        mailer,
        tenants_dir: config.git.tenants_dir.clone(),
        module_source: config.module_source.clone(),
        app_domain: config.app_domain.clone(),
        retry: config.timing.publish_retry,
        archive_grace: config.timing.archive_grace,
    };
    let console = console::ConsoleState::new(
        store.clone(),
        config.console.clone(),
        config.bind_addr,
        wake.clone(),
    );
    if !config.console.enabled() {
        tracing::info!(
            "console disabled: set CONSOLE_USERS or CONSOLE_TRUST_PROXY_HEADER to use /console"
        );
    }
    let listener = tokio::net::TcpListener::bind(config.bind_addr)
        .await
        .map_err(|e| {
            error::Error::Config(format!(
                "BIND_ADDR: cannot listen on {}: {e}",
                config.bind_addr
            ))
        })?;
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "stagesub-bridge listening");
    }
    let timing = config.timing;
    let timeouts = server::ReadTimeouts {
        header: timing.header_read_timeout,
        body: timing.body_read_timeout,
    };
    // Monitoring: /metrics where configured, and reminders of provisions past PROVISION_SLA.
    let (router, metrics_server) = metrics::http::mount(
        &config.monitoring,
        &store,
        app(state).merge(console::router(console)),
        timeouts,
        cancel.clone(),
    )
    .await?;
    let reminders = worker::reminders::spawn(
        &store,
        ctx.mailer.as_ref(),
        &config.monitoring,
        cancel.clone(),
    );
    let monitoring: Vec<_> = metrics_server.into_iter().chain(reminders).collect();
    let http = tokio::spawn(server::serve(listener, router, timeouts, cancel.clone()));
    let worker = tokio::spawn(worker::run(
        store,
        ctx,
        config.worker_concurrency,
        wake,
        cancel.clone(),
    ));
    let (http_abort, worker_abort) = (http.abort_handle(), worker.abort_handle());
    cancel.cancelled().await;
    let monitoring_abort: Vec<_> = monitoring.iter().map(|t| t.abort_handle()).collect();
    let drained = tokio::time::timeout(timing.shutdown_grace, async {
        let _ = http.await;
        let _ = worker.await;
        for task in monitoring {
            let _ = task.await;
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            grace = %config::format_duration(timing.shutdown_grace),
            "SHUTDOWN_GRACE is over: closing open connections; unfinished jobs stay queued"
        );
        http_abort.abort();
        worker_abort.abort();
        monitoring_abort.iter().for_each(|t| t.abort());
    }
    Ok(())
}
