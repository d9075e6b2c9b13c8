//! CI callbacks: `POST /api/tenants/{subdomain}/ready` and `/failed`, with bearer `BRIDGE_API_TOKEN`.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use super::AppState;
use crate::directory::Verdict;
use crate::error::Error;
use crate::store::{TenantState, hold_welcome, load_tenant, mark_ready, record_failure_report};

/// Largest accepted failure report.
const MAX_REPORT_BYTES: usize = 64 * 1024;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tenants/{subdomain}/ready", post(ready))
        .route("/api/tenants/{subdomain}/failed", post(failed))
        .layer(DefaultBodyLimit::max(MAX_REPORT_BYTES))
}

fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), Error> {
    let expected = state.api_token.as_ref().ok_or(Error::Disabled(
        "callbacks are disabled: BRIDGE_API_TOKEN is not set",
    ))?;
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(Error::Unauthorized)?;
    if bool::from(given.as_bytes().ct_eq(expected.expose().as_bytes())) {
        Ok(())
    } else {
        Err(Error::Unauthorized)
    }
}

fn no_tenant(subdomain: &str) -> Error {
    Error::NotFound(format!("no tenant with subdomain {subdomain:?}"))
}

/// Records that the tenant's database is ready; the welcome email is sent once, by a job. With
/// `DIRECTORY_URL`, only when the directory says `ready` for the subdomain: otherwise the notice is
/// held (202, the admin told once per held notice) and a later `ready` call sends the welcome. A
/// directory that cannot be asked answers 503, so CI retries.
async fn ready(
    State(state): State<AppState>,
    Path(subdomain): Path<String>,
    headers: HeaderMap,
) -> Result<(StatusCode, Json<Value>), Error> {
    authorize(&state, &headers)?;
    if let Some(directory) = &state.directory {
        if !tenant_exists(&state, &subdomain).await? {
            return Err(no_tenant(&subdomain));
        }
        if let Verdict::NotReady(seen) = directory.verdict(&subdomain).await? {
            let held = hold_welcome(&state.store, &subdomain, &seen)
                .await?
                .ok_or_else(|| no_tenant(&subdomain))?;
            tracing::warn!(%subdomain, directory_status = %seen, held, "welcome held: the tenant directory does not say ready");
            state.wake.notify_waiters();
            return Ok((
                StatusCode::ACCEPTED,
                Json(json!({ "subdomain": subdomain, "state": "held", "directory_status": seen })),
            ));
        }
    }
    let first_time = mark_ready(&state.store, &subdomain)
        .await?
        .ok_or_else(|| no_tenant(&subdomain))?;
    if first_time {
        crate::metrics::observe_ready(&state.store, &subdomain).await;
    }
    state.wake.notify_waiters();
    Ok((
        StatusCode::OK,
        Json(
            json!({ "subdomain": subdomain, "state": TenantState::Ready.as_str(), "first_time": first_time }),
        ),
    ))
}

async fn tenant_exists(state: &AppState, subdomain: &str) -> Result<bool, Error> {
    if subdomain.contains('\0') {
        return Ok(false);
    }
    let client = state.store.client().await?;
    Ok(load_tenant(&**client, subdomain).await?.is_some())
}

/// Records a provisioning failure (the body says what failed, in any bytes) and tells the admin.
async fn failed(
    State(state): State<AppState>,
    Path(subdomain): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, Error> {
    authorize(&state, &headers)?;
    let id = record_failure_report(&state.store, &subdomain, &body)
        .await?
        .ok_or_else(|| no_tenant(&subdomain))?;
    state.wake.notify_waiters();
    Ok(Json(
        json!({ "subdomain": subdomain, "state": TenantState::Failed.as_str(), "report": id }),
    ))
}
