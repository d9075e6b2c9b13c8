//! HTTP: one router file per resource, assembled by [`app`], and the state they share ([`AppState`]).

pub mod health;
pub mod tenants;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
use tokio::sync::Notify;

use crate::config::Secret;
use crate::directory::Directory;
use crate::store::Store;

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
    /// `DIRECTORY_URL`: when set, `ready` sends the welcome only once the directory says `ready`.
    pub directory: Option<Directory>,
}

/// The HTTP application: webhooks, CI callbacks, health. Needs no socket (tests call it directly).
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(webhooks::router())
        .merge(tenants::router())
        .merge(health::router())
        .with_state(state)
}
