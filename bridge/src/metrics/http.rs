//! `GET /metrics` (OpenMetrics or classic Prometheus text, as the `Accept` header asks): on the main listener behind `METRICS_TOKEN` (bearer), or alone on
//! `METRICS_BIND_ADDR` (unauthenticated there unless `METRICS_TOKEN` is also set). With neither,
//! `/metrics` does not exist (404): metrics name tenants' states and counts, which are not public.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use subtle::ConstantTimeEq;

use super::global;
use crate::config::{Monitoring, Secret};
use crate::error::Error;
use crate::store::Store;

/// Content type of the OpenMetrics exposition.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What the `/metrics` handler needs.
#[derive(Debug, Clone)]
pub struct MetricsState {
    /// The bridge's database, read at scrape time.
    pub store: Store,
    /// Bearer token required, if any.
    pub token: Option<Secret>,
    /// `PROVISION_SLA`, for `stagesub_tenants_past_sla`.
    pub sla: Duration,
}

/// Where `/metrics` is served, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Neither `METRICS_TOKEN` nor `METRICS_BIND_ADDR`: not served.
    Off,
    /// On the main listener, behind `METRICS_TOKEN`.
    Main,
    /// On its own listener at `METRICS_BIND_ADDR`.
    Separate(std::net::SocketAddr),
}

impl Placement {
    /// Reads the placement from the monitoring settings.
    pub fn of(config: &Monitoring) -> Self {
        match (config.metrics_bind_addr, &config.metrics_token) {
            (Some(addr), _) => Placement::Separate(addr),
            (None, Some(_)) => Placement::Main,
            (None, None) => Placement::Off,
        }
    }
}

/// A router with just `GET /metrics`.
pub fn router(state: MetricsState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .with_state(state)
}

fn authorized(token: Option<&Secret>, headers: &HeaderMap) -> bool {
    let Some(expected) = token else {
        return true;
    };
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| bool::from(given.as_bytes().ct_eq(expected.expose().as_bytes())))
}

async fn metrics(State(state): State<MetricsState>, headers: HeaderMap) -> Response {
    if !authorized(state.token.as_ref(), &headers) {
        let mut response = Error::Unauthorized.into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"metrics\""),
        );
        return response;
    }
    let m = global();
    let one_at_a_time = m.db.lock.lock().await;
    m.db.refresh(&state.store, state.sla).await;
    let text = m.encode();
    drop(one_at_a_time);
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    if super::classic::wants_openmetrics(accept) {
        ([(header::CONTENT_TYPE, OPENMETRICS)], text).into_response()
    } else {
        let classic = super::classic::from_openmetrics(&text);
        (
            [(header::CONTENT_TYPE, super::classic::CONTENT_TYPE)],
            classic,
        )
            .into_response()
    }
}

/// Mounts `/metrics` as configured: merged into `app` (behind `METRICS_TOKEN`), or served on its
/// own listener at `METRICS_BIND_ADDR` until `cancel` fires (the returned task). Returns the main
/// router to serve.
pub async fn mount(
    config: &Monitoring,
    store: &Store,
    app: Router,
    timeouts: crate::server::ReadTimeouts,
    cancel: tokio_util::sync::CancellationToken,
) -> Result<(Router, Option<tokio::task::JoinHandle<()>>), Error> {
    let state = MetricsState {
        store: store.clone(),
        token: config.metrics_token.clone(),
        sla: config.provision_sla,
    };
    match Placement::of(config) {
        Placement::Off => {
            tracing::info!("/metrics is off: set METRICS_TOKEN or METRICS_BIND_ADDR to serve it");
            Ok((app, None))
        }
        Placement::Main => Ok((app.merge(router(state)), None)),
        Placement::Separate(addr) => {
            let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
                Error::Config(format!("METRICS_BIND_ADDR: cannot listen on {addr}: {e}"))
            })?;
            if let Ok(local) = listener.local_addr() {
                tracing::info!(metrics_addr = %local, "serving /metrics");
            }
            let server = crate::server::serve(listener, router(state), timeouts, cancel);
            Ok((app, Some(tokio::spawn(server))))
        }
    }
}
