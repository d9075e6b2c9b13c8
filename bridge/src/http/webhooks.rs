//! `POST /api/webhooks/stripe`: verify, record durably, acknowledge.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use super::AppState;
use crate::error::Error;
use crate::event::{ReceivedEvent, parse_envelope};
use crate::metrics::WebhookOutcome;
use crate::signature::verify;
use crate::store::record_event;

/// Largest accepted webhook body (Stripe's events are far smaller).
pub const MAX_BODY_BYTES: usize = 512 * 1024;

/// Routes of this resource.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/webhooks/stripe", post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// A raw body whose Stripe signature was checked before anything parsed it.
#[derive(Debug)]
pub struct VerifiedBody(pub Bytes);

impl FromRequest<AppState> for VerifiedBody {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = req
            .headers()
            .get("stripe-signature")
            .map(|v| v.to_str().map(str::to_owned).unwrap_or_default());
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            crate::metrics::global().webhook_event(None, WebhookOutcome::Rejected);
            e.into_response()
        })?;
        if let Err(e) = verify(header.as_deref(), &body, &state.webhook_secrets) {
            crate::metrics::global().signature_failure(&e);
            record_rejected(state, &body, &e.to_string()).await;
            return Err(Error::BadRequest(e.to_string()).into_response());
        }
        Ok(VerifiedBody(body))
    }
}

async fn receive(
    State(state): State<AppState>,
    VerifiedBody(body): VerifiedBody,
) -> Result<Response, Error> {
    // One parse of the envelope; the worker reads the rest from the stored body.
    let metrics = crate::metrics::global();
    let event: ReceivedEvent<'_> = match parse_envelope(&body) {
        Ok(event) => event,
        Err(e) => {
            metrics.webhook_event(None, WebhookOutcome::Rejected);
            record_rejected(&state, &body, &e.to_string()).await;
            return Err(e);
        }
    };
    let recorded = record_event(&state.store, &event).await;
    let outcome = match recorded {
        Ok(true) => WebhookOutcome::Verified,
        Ok(false) => WebhookOutcome::Duplicate,
        Err(_) => WebhookOutcome::Unrecorded,
    };
    metrics.webhook_event(Some(&event.event_type), outcome);
    let inserted = recorded?;
    if inserted {
        state.wake.notify_waiters();
        tracing::info!(event = %event.id, r#type = %event.event_type, "event recorded");
    } else {
        tracing::info!(event = %event.id, "duplicate delivery ignored");
    }
    Ok(Json(json!({ "received": true, "duplicate": !inserted })).into_response())
}

/// Records a rejected delivery for the console (best effort: the answer does not depend on it). The
/// id and type it claims are kept only when they look like Stripe's words; they are unverified.
async fn record_rejected(state: &AppState, body: &[u8], reason: &str) {
    let claimed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let word = |key: &str, max: usize| {
        claimed
            .as_ref()
            .and_then(|v| v.get(key)?.as_str())
            .filter(|s| {
                !s.is_empty()
                    && s.len() <= max
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
            })
            .map(str::to_owned)
    };
    let (id, event_type) = (word("id", 255), word("type", 100));
    let recorded = async {
        let client = state.store.client().await?;
        crate::store::record_rejected_delivery(
            &**client,
            id.as_deref(),
            event_type.as_deref(),
            reason,
        )
        .await?;
        Ok::<_, Error>(())
    }
    .await;
    if let Err(e) = recorded {
        tracing::warn!(error = %e, "cannot record a rejected delivery");
    }
}
