//! CI callbacks: `POST /api/tenants/{subdomain}/ready` and `/failed`, with bearer `BRIDGE_API_TOKEN`.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::error::Error;
use crate::store::{self, JobKind};

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

/// Records that the tenant's database is ready; the welcome email is sent once, by a job.
async fn ready(
    State(state): State<AppState>,
    Path(subdomain): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, Error> {
    authorize(&state, &headers)?;
    let mut client = state.store.client().await?;
    let tx = client.transaction().await?;
    let row = tx
        .query_opt(
            "SELECT ready_at IS NULL FROM tenants WHERE subdomain = $1 FOR UPDATE",
            &[&subdomain],
        )
        .await?;
    let Some(row) = row else {
        return Err(Error::NotFound(format!(
            "no tenant with subdomain {subdomain:?}"
        )));
    };
    let first_time: bool = row.get(0);
    tx.execute(
        "UPDATE tenants SET ready_at = coalesce(ready_at, now()), state = 'ready', updated_at = now() WHERE subdomain = $1",
        &[&subdomain],
    )
    .await?;
    if first_time {
        store::enqueue(&*tx, JobKind::Welcome, &subdomain).await?;
    }
    tx.commit().await?;
    state.wake.notify_waiters();
    Ok(Json(
        json!({ "subdomain": subdomain, "state": "ready", "first_time": first_time }),
    ))
}

/// Records a provisioning failure (the body says what failed) and tells the admin.
async fn failed(
    State(state): State<AppState>,
    Path(subdomain): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, Error> {
    authorize(&state, &headers)?;
    let detail = String::from_utf8_lossy(&body).trim().to_owned();
    let detail = if detail.is_empty() {
        "(no details given)".to_owned()
    } else {
        detail
    };
    let mut client = state.store.client().await?;
    let tx = client.transaction().await?;
    let updated = tx
        .execute("UPDATE tenants SET failed_at = now(), state = 'failed', updated_at = now() WHERE subdomain = $1", &[&subdomain])
        .await?;
    if updated == 0 {
        return Err(Error::NotFound(format!(
            "no tenant with subdomain {subdomain:?}"
        )));
    }
    let id: i64 = tx
        .query_one(
            "INSERT INTO failure_reports (subdomain, detail) VALUES ($1, $2) RETURNING id",
            &[&subdomain, &detail],
        )
        .await?
        .get(0);
    store::enqueue(&*tx, JobKind::AdminFailure, &id.to_string()).await?;
    tx.commit().await?;
    state.wake.notify_waiters();
    Ok(Json(
        json!({ "subdomain": subdomain, "state": "failed", "report": id }),
    ))
}
