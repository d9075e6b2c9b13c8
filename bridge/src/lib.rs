//! `stagesub-bridge`: turns Stripe payments into tenant files in the infra Git repository.
//!
//! A Stripe webhook is verified on its raw body ([`signature`]), recorded in Postgres together with a job
//! in one transaction ([`store`]), and acknowledged. The [`worker`] claims jobs (`FOR UPDATE SKIP LOCKED`),
//! reads what the event means ([`event`]), keeps the tenant's facts ([`tenant`]), renders the tenant file
//! ([`render`]) and publishes it through a [`stagesub_gitops::Publisher`] (git CLI or GitHub API). When CI
//! reports the database ready, the worker sends the welcome email once ([`mail`]).
//!
//! Modules by concern: [`config`] (environment), [`http`] (one router per resource), [`store`],
//! [`worker`], [`tenant`], [`render`], [`mail`], [`error`]. [`app`] builds the router without a socket;
//! [`serve`] runs server and worker until the cancellation token fires.

pub mod config;
pub mod error;
pub mod event;
pub mod http;
pub mod mail;
pub mod render;
pub mod signature;
pub mod store;
pub mod tenant;
pub mod worker;

use std::sync::Arc;

use axum::Router;
use stagesub_gitops::Publisher;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use config::{Config, Secret};
use store::Store;

/// Shared state of the HTTP handlers.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The bridge's database.
    pub store: Store,
    /// `STRIPE_WEBHOOK_SECRET` values.
    pub webhook_secrets: Arc<Vec<String>>,
    /// `BRIDGE_API_TOKEN`.
    pub api_token: Option<Secret>,
    /// Wakes the worker when new work was recorded.
    pub wake: Arc<Notify>,
}

/// The HTTP application: webhooks, CI callbacks, health.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(http::webhooks::router())
        .merge(http::tenants::router())
        .merge(http::health::router())
        .with_state(state)
}

/// Builds the publisher selected by `GIT_BACKEND`. Call inside a Tokio runtime.
pub fn build_publisher(config: &Config) -> Result<Arc<dyn Publisher>, String> {
    config.git.build().map_err(|e| e.to_string())
}

/// Runs the HTTP server and the worker until `cancel` fires, then drains both.
pub async fn serve(config: Config, cancel: CancellationToken) -> Result<(), String> {
    let store = Store::connect_with_ca(
        config.database_url.expose(),
        config.database_ca_cert.as_deref(),
        config.worker_concurrency + 16,
    )?;
    store
        .migrate()
        .await
        .map_err(|e| format!("DATABASE_URL: cannot prepare the schema: {e}"))?;
    let publisher = build_publisher(&config)?;
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
    };
    let ctx = worker::WorkerContext {
        publisher,
        mailer,
        tenants_dir: config.tenants_dir.clone(),
        module_source: config.module_source.clone(),
        app_domain: config.app_domain.clone(),
    };
    let listener = tokio::net::TcpListener::bind(config.bind_addr)
        .await
        .map_err(|e| format!("BIND_ADDR: cannot listen on {}: {e}", config.bind_addr))?;
    tracing::info!(addr = %listener.local_addr().map_err(|e| e.to_string())?, "stagesub-bridge listening");
    let worker = tokio::spawn(worker::run(
        store,
        ctx,
        config.worker_concurrency,
        wake,
        cancel.clone(),
    ));
    let shutdown = cancel.clone();
    let served = axum::serve(listener, app(state))
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await;
    cancel.cancel();
    let _ = worker.await;
    served.map_err(|e| format!("HTTP server failed: {e}"))
}
